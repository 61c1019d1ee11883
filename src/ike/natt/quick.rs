//! Quick Mode across a NAT (RFC 3947 §5): the UDP-encapsulated modes, the
//! original addresses (NAT-OA) transport mode needs, and the encapsulation
//! of the SAs that result.

use super::super::endpoint::Endpoint;
use super::super::kernel::{Encap, Mode};
use super::super::packet::Parsed;
use super::super::state::Role;
use super::super::vendor::NattMethod;
use crate::ike::wire::{payload_type, NatOa, Payload};
use std::net::{IpAddr, SocketAddr};

/// Which code points the UDP-encapsulated modes take: RFC 3947's
/// UDP-Encapsulated-Tunnel 3 / -Transport 4, or the drafts' 61443/61444.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UdpEncap {
    Rfc,
    Draft,
}

impl UdpEncap {
    pub fn of(m: NattMethod) -> UdpEncap {
        if m.is_draft() {
            UdpEncap::Draft
        } else {
            UdpEncap::Rfc
        }
    }

    fn oa_type(self) -> u8 {
        match self {
            UdpEncap::Rfc => payload_type::NAT_OA,
            UdpEncap::Draft => payload_type::NAT_OA_DRAFT,
        }
    }
}

/// ESP-in-UDP for an SA between the ISAKMP SA's `local` and `remote`
/// (the ports the IKE exchange on 4500 saw): an SA's source port is the
/// port of its source end.
pub(crate) fn sa_encap(
    local: SocketAddr,
    remote: SocketAddr,
    inbound: bool,
    oa: Option<IpAddr>,
) -> Option<Encap> {
    let (sport, dport) = if inbound {
        (remote.port(), local.port())
    } else {
        (local.port(), remote.port())
    };
    Some(Encap { sport, dport, oa })
}

impl Endpoint {
    /// The encapsulation Quick Mode under ISAKMP SA `p1` proposes and
    /// accepts: a UDP mode when a NAT sits between the ends (or
    /// `--forceencaps` pretends one does).
    pub(crate) fn natt_udp(&self, p1: u64) -> Option<UdpEncap> {
        let st = self.p1.get(&p1)?;
        st.nat
            .method
            .filter(|_| st.nat.nat_between())
            .map(UdpEncap::of)
    }

    /// NAT-OA payloads for a Quick Mode message of ours (`role`) under
    /// `p1`: only UDP-encapsulated transport mode needs them. RFC 3947 sends
    /// the initiator's and the responder's addresses, each end as it knows
    /// them; the drafts sent the sender's own only.
    pub(crate) fn natt_oa_out(
        &self,
        p1: u64,
        role: Role,
        mode: Mode,
        udp: Option<UdpEncap>,
    ) -> Vec<Payload> {
        let (Some(u), Mode::Transport, Some(st)) = (udp, mode, self.p1.get(&p1)) else {
            return Vec::new();
        };
        let (me, him) = (st.local.ip(), st.remote.ip());
        let addrs = match (u, role) {
            (UdpEncap::Draft, _) => vec![me],
            (UdpEncap::Rfc, Role::Initiator) => vec![me, him],
            (UdpEncap::Rfc, Role::Responder) => vec![him, me],
        };
        addrs
            .into_iter()
            .map(|a| Payload::Other {
                ty: u.oa_type(),
                body: NatOa(a).to_bytes(),
            })
            .collect()
    }

    /// The peer's original address from its Quick Mode message (we are
    /// `role`), if it sent one that parses.
    pub(crate) fn natt_oa_in(udp: Option<UdpEncap>, role: Role, parsed: &Parsed) -> Option<IpAddr> {
        let u = udp?;
        let oas: Vec<IpAddr> = parsed
            .all(u.oa_type())
            .filter_map(|p| match &p.payload {
                Payload::Other { body, .. } => NatOa::parse(body).ok().map(|o| o.0),
                _ => None,
            })
            .collect();
        let idx = match (u, role) {
            // RFC: NAT-OAi then NAT-OAr; the peer is the initiator when we respond.
            (UdpEncap::Rfc, Role::Responder) | (UdpEncap::Draft, _) => 0,
            (UdpEncap::Rfc, Role::Initiator) => 1,
        };
        oas.get(idx).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_direction_has_its_source_port_first() {
        let l: SocketAddr = "10.0.0.5:4500".parse().unwrap();
        let r: SocketAddr = "192.0.2.2:4500".parse().unwrap();
        let r2: SocketAddr = "192.0.2.2:1031".parse().unwrap();
        assert_eq!(
            sa_encap(l, r2, true, None),
            Some(Encap {
                sport: 1031,
                dport: 4500,
                oa: None
            })
        );
        assert_eq!(
            sa_encap(l, r2, false, Some(l.ip())),
            Some(Encap {
                sport: 4500,
                dport: 1031,
                oa: Some(l.ip())
            })
        );
        assert_eq!(sa_encap(l, r, true, None), sa_encap(l, r, false, None));
    }
}
