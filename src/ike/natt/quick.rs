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

/// NAT traversal of an IPsec SA, for its announce line and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaNatInfo {
    /// ESP is encapsulated in UDP.
    pub encap: bool,
    /// The peer's original address (NAT-OA), if it sent one.
    pub oa: Option<IpAddr>,
    /// The peer's address and port as we see them, when NAT-T is in use.
    pub natd: Option<SocketAddr>,
}

impl core::fmt::Display for SaNatInfo {
    /// Openswan's `NATOA=<ip|none> NATD=<ip:port|none>`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.oa {
            Some(a) => write!(f, "NATOA={a}")?,
            None => f.write_str("NATOA=none")?,
        }
        match self.natd {
            Some(d) => write!(f, " NATD={d}"),
            None => f.write_str(" NATD=none"),
        }
    }
}

impl Endpoint {
    /// NAT traversal of IPsec state `serial` (`None` if it is gone).
    pub(crate) fn natt_sa_info(&self, serial: u64) -> SaNatInfo {
        let st = self.p2.get(&serial);
        let parent = st.and_then(|s| self.p1.get(&s.parent));
        let encap = st
            .and_then(|s| s.chosen.as_ref())
            .is_some_and(|c| c.udp.is_some());
        SaNatInfo {
            encap,
            oa: st.and_then(|s| s.nat_oa),
            natd: parent
                .filter(|p| p.nat.method.is_some() && encap)
                .map(|p| p.remote),
        }
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

    #[test]
    fn udp_modes_have_their_code_points_and_need_nat_t_in_use() {
        use crate::ike::config::Policy;
        use crate::ike::proposal::{
            default_ipsec_proposals, ipsec_sa_payload_udp, select_ipsec_udp,
        };
        let cases = [
            (Mode::Tunnel, Some(UdpEncap::Rfc), 3),
            (Mode::Transport, Some(UdpEncap::Rfc), 4),
            (Mode::Tunnel, Some(UdpEncap::Draft), 61443),
            (Mode::Transport, Some(UdpEncap::Draft), 61444),
            (Mode::Tunnel, None, 1),
            (Mode::Transport, None, 2),
        ];
        for (mode, udp, code) in cases {
            let pol = Policy {
                psk: true,
                encrypt: true,
                tunnel: mode == Mode::Tunnel,
                ..Policy::default()
            };
            let ours = default_ipsec_proposals(&pol, &[]);
            let sa = ipsec_sa_payload_udp(&ours, &|_| 0x1234_5678, mode, udp, None, 3600);
            let modes: Vec<Option<u64>> = sa
                .proposals
                .iter()
                .flat_map(|p| p.transforms.iter())
                .map(|t| {
                    t.attributes
                        .iter()
                        .find(|a| a.ty == 4)
                        .and_then(|a| a.as_u64())
                })
                .collect();
            assert!(
                !modes.is_empty() && modes.iter().all(|m| *m == Some(code)),
                "{modes:?}"
            );
            let c = select_ipsec_udp(&sa, &pol, &ours, false, udp).expect("accepted");
            assert_eq!((c.mode, c.udp), (mode, udp));
            match udp {
                Some(u) => {
                    // Not without NAT traversal, nor with the other dialect's numbers.
                    assert!(select_ipsec_udp(&sa, &pol, &ours, false, None).is_err());
                    let other = if u == UdpEncap::Rfc {
                        UdpEncap::Draft
                    } else {
                        UdpEncap::Rfc
                    };
                    assert!(select_ipsec_udp(&sa, &pol, &ours, false, Some(other)).is_err());
                }
                None => {
                    // A plain mode stays acceptable across a NAT: not encapsulated.
                    let c = select_ipsec_udp(&sa, &pol, &ours, false, Some(UdpEncap::Rfc)).unwrap();
                    assert_eq!(c.udp, None);
                }
            }
        }
    }
}
