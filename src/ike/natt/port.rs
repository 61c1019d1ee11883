//! Port 4500: the non-ESP marker, keepalives, and following the peer when
//! its NAT gives it another port (floating, RFC 3947 §4 and §7).

use super::super::endpoint::{Endpoint, Level};
use super::super::kernel::{KernelOp, NatMapping};
use super::super::state::{StateKey, StateKind};
use super::super::wire::HEADER_LEN;
use crate::ike::config::NAT_T_PORT;
use std::net::SocketAddr;
use std::time::Instant;

/// The four zero bytes where ESP would have its SPI: "this is IKE".
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];
/// A NAT keepalive (RFC 3948 §2.3).
pub const KEEPALIVE: [u8; 1] = [0xff];

/// What a datagram read on port 4500 is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Inbound<'a> {
    /// An IKE message, marker stripped.
    Ike(&'a [u8]),
    /// A keepalive: nothing to do.
    Keepalive,
    /// Neither (ESP the kernel did not take, or garbage).
    NotIke,
}

pub(crate) fn classify(data: &[u8]) -> Inbound<'_> {
    if data == KEEPALIVE {
        return Inbound::Keepalive;
    }
    match (data.get(..4), data.get(4..)) {
        (Some(m), Some(rest)) if m == NON_ESP_MARKER => Inbound::Ike(rest),
        _ => Inbound::NotIke,
    }
}

/// An ISAKMP SA moved to the addresses of a datagram before it was read:
/// kept only if the datagram proves to be the peer's (authenticated).
pub(crate) struct Tentative {
    serial: u64,
    old: (SocketAddr, SocketAddr),
    auth_rx: u64,
    kind: StateKind,
}

impl Endpoint {
    /// Datagrams on 4500 reach the engine with their marker: strip it.
    /// `None` means the datagram is consumed (keepalive) or dropped.
    pub(crate) fn natt_unwrap<'a>(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
        data: &'a [u8],
    ) -> Option<&'a [u8]> {
        if local.port() != NAT_T_PORT {
            return Some(data);
        }
        match classify(data) {
            Inbound::Ike(d) => Some(d),
            Inbound::Keepalive => None,
            Inbound::NotIke => {
                self.counters.malformed += 1;
                self.log(
                    Level::Debug,
                    None,
                    None,
                    None,
                    format!(
                        "packet from {remote}: {} bytes on port {NAT_T_PORT} without the non-ESP marker; dropped",
                        data.len()
                    ),
                );
                None
            }
        }
    }

    /// Before a datagram on 4500 is read: when it belongs to an ISAKMP SA
    /// with NAT-T in use and comes from the SA's peer address on another
    /// port (or reaches us on 4500 while the SA is still on 500), the SA
    /// takes its addresses now, so any answer goes where the peer is. Only
    /// messages that can be authenticated (the SA has keys) may move it.
    pub(crate) fn natt_float_begin(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) -> Option<Tentative> {
        if local.port() != NAT_T_PORT {
            return None;
        }
        let hdr = data.get(..HEADER_LEN)?;
        let icookie: [u8; 8] = hdr.get(..8)?.try_into().ok()?;
        let rcookie: [u8; 8] = hdr.get(8..16)?.try_into().ok()?;
        let serial = *self.by_cookies.get(&(icookie, rcookie))?;
        let st = self.p1.get_mut(&serial)?;
        if st.peer.natt.is_none()
            || st.crypto.is_none()
            || st.remote.ip() != remote.ip()
            || (st.local, st.remote) == (local, remote)
        {
            return None;
        }
        let t = Tentative {
            serial,
            old: (st.local, st.remote),
            auth_rx: st.auth_rx,
            kind: st.kind,
        };
        st.local = local;
        st.remote = remote;
        Some(t)
    }

    /// After the datagram was read: keep the move if it authenticated
    /// (moved the state on, or counted as an authenticated message), undo
    /// it otherwise.
    pub(crate) fn natt_float_end(&mut self, t: Option<Tentative>) {
        let Some(t) = t else { return };
        let Some(st) = self.p1.get_mut(&t.serial) else {
            return;
        };
        if st.auth_rx == t.auth_rx && st.kind == t.kind {
            st.local = t.old.0;
            st.remote = t.old.1;
            return;
        }
        let (conn, remote) = (st.conn.clone(), st.remote);
        if remote != t.old.1 {
            // Openswan's words.
            self.log_state(
                &conn,
                t.serial,
                None,
                format!(
                    "new NAT mapping for #{}, was {}, now {remote}",
                    t.serial, t.old.1
                ),
            );
        }
        self.natt_move_sas(t.serial, t.old.1, remote.port());
    }

    /// The kernel saw ESP of one of our SAs arrive from a new port: the
    /// peer's NAT mapping changed. The ISAKMP SA and every encapsulated
    /// IPsec SA that went to the old port follow (an address change is not
    /// followed: the SAs would need new addresses, which only a new
    /// negotiation gives). An IPsec SA whose ISAKMP SA is gone follows too.
    pub fn handle_nat_mapping(&mut self, now: Instant, m: NatMapping) {
        self.clock = Some(now);
        self.nat_mapping(now, m);
        self.settle();
    }

    fn nat_mapping(&mut self, _now: Instant, m: NatMapping) {
        let holds = |s: &crate::ike::state::Phase2| {
            s.installed.iter().any(|sa| {
                sa.proto == m.proto
                    && sa.spi == m.spi
                    && sa.dst == m.dst
                    && sa.encapsulated.is_some()
            })
        };
        let found = self
            .p2
            .find(&StateKey::Sa(m.proto, m.spi, m.dst), holds)
            .and_then(|serial| self.p2.get(&serial))
            .map(|s| (s.serial, s.conn.clone(), s.parent));
        let Some((p2, conn, parent)) = found else {
            self.log(
                Level::Debug,
                None,
                None,
                None,
                format!(
                    "kernel: NAT mapping of unknown SPI {:#010x} changed from {} to {}; ignored",
                    m.spi, m.old, m.new
                ),
            );
            return;
        };
        let (serial, old) = match self.p1.get_mut(&parent) {
            Some(st) if st.remote.ip() == m.new.ip() => {
                (parent, std::mem::replace(&mut st.remote, m.new))
            }
            Some(_) => (parent, SocketAddr::new(m.new.ip(), 0)),
            None => (p2, m.old),
        };
        if old.ip() != m.new.ip() || old.port() == 0 {
            self.log_state(
                &conn,
                serial,
                None,
                format!(
                    "NAT-T: kernel saw SPI {:#010x} from {}, not our peer's address; ignored",
                    m.spi, m.new
                ),
            );
            return;
        }
        if old == m.new {
            return;
        }
        self.log_state(
            &conn,
            serial,
            None,
            format!(
                "new NAT mapping for #{serial}, was {old}, now {} (kernel)",
                m.new
            ),
        );
        self.natt_move_sas(parent, old, m.new.port());
    }

    /// Moves the encapsulated SAs that go to the peer at `old` to the
    /// peer's new port: those negotiated under ISAKMP SA `p1`, and those
    /// whose ISAKMP SA is gone (replaced or deleted), which would otherwise
    /// keep sending to a port the NAT no longer maps. Another peer behind
    /// the same NAT has another port and is left alone.
    fn natt_move_sas(&mut self, p1: u64, old: SocketAddr, port: u16) {
        let mut updates = Vec::new();
        // Only SAs with the peer at `old` change: the states indexed under
        // its address, besides `p1`'s own.
        let mut moved = self.p2.find_all(&StateKey::Child(p1), |s| s.parent == p1);
        moved.extend(self.p2.find_all(&StateKey::Peer(old.ip()), |s| {
            s.parent == p1 || !self.p1.contains_key(&s.parent)
        }));
        crate::sort::sort(&mut moved);
        moved.dedup();
        for serial in moved {
            let Some(s) = self.p2.get_mut(&serial) else {
                continue;
            };
            for sa in s
                .installed
                .iter_mut()
                .filter_map(|i| i.encapsulated.as_mut())
            {
                let Some(mut e) = sa.encap else { continue };
                let (peer_ip, peer_port) = if sa.inbound {
                    (sa.src, &mut e.sport)
                } else {
                    (sa.dst, &mut e.dport)
                };
                if (peer_ip, *peer_port) != (old.ip(), old.port()) || *peer_port == port {
                    continue;
                }
                *peer_port = port;
                sa.encap = Some(e);
                updates.push((**sa).clone());
            }
        }
        for sa in updates {
            let req = self.next_req;
            self.next_req += 1;
            self.kernel_ops.push_back(KernelOp::UpdateSa { req, sa });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_tells_ike_keepalives_and_the_rest_apart() {
        assert_eq!(classify(&[0xff]), Inbound::Keepalive);
        assert_eq!(classify(&[0, 0, 0, 0, 7, 8]), Inbound::Ike(&[7, 8]));
        assert_eq!(classify(&[0, 0, 0, 0]), Inbound::Ike(&[]));
        assert_eq!(classify(&[]), Inbound::NotIke);
        assert_eq!(classify(&[0, 0, 0]), Inbound::NotIke);
        assert_eq!(classify(&[0xff, 0xff]), Inbound::NotIke);
        // ESP: a non-zero SPI.
        assert_eq!(classify(&[0, 0, 0x10, 0, 0, 0, 0, 1]), Inbound::NotIke);
    }
}
