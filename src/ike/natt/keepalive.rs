//! NAT keepalives (RFC 3948 §2.3): one 0xff byte from our port 4500 to each
//! peer, every `--keep_alive` seconds while we are behind a NAT (or, with
//! `--force_keepalive`, whenever a NAT sits between us), so that the NAT
//! keeps the mapping that lets the peer's packets reach us. One timer for
//! the whole engine, one datagram per peer however many SAs it shares.

use super::super::endpoint::{Endpoint, Transmit};
use super::super::state::Phase1;
use super::super::wire::HEADER_LEN;
use super::port::KEEPALIVE;
use crate::ike::config::NAT_T_PORT;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The timer's name in status output.
pub const EVENT_NAT_T_KEEPALIVE: &str = "EVENT_NAT_T_KEEPALIVE";

impl Endpoint {
    fn wants_keepalive(&self, st: &Phase1) -> bool {
        st.kind.is_established()
            && st.local.port() == NAT_T_PORT
            && st.nat.method.is_some()
            && (st.nat.we_behind || (self.nat.force_keepalive && st.nat.nat_between()))
    }

    /// Each (our address, the peer's) that gets keepalives, once.
    fn keepalive_peers(&self) -> Vec<(SocketAddr, SocketAddr)> {
        let mut v: Vec<(SocketAddr, SocketAddr)> = self
            .p1
            .values()
            .filter(|s| self.wants_keepalive(s))
            .map(|s| (s.local, s.remote))
            .collect();
        crate::sort::sort(&mut v);
        v.dedup();
        v
    }

    fn keepalive_interval(&self) -> Option<Duration> {
        (self.nat.keep_alive > 0).then(|| Duration::from_secs(u64::from(self.nat.keep_alive)))
    }

    /// After datagram `data` was read: starts the keepalive timer when it
    /// is not running and the ISAKMP SA the datagram belongs to needs
    /// keepalives now (only a received message establishes an ISAKMP SA
    /// or moves it to 4500). One look-up, not a scan of every state.
    pub(crate) fn natt_arm_keepalive(&mut self, now: Instant, data: &[u8]) {
        if self.keepalive_at.is_some() || !self.nat.enabled {
            return;
        }
        let Some(every) = self.keepalive_interval() else {
            return;
        };
        let cookies = data.get(..HEADER_LEN).and_then(|h| {
            let i: [u8; 8] = h.get(..8)?.try_into().ok()?;
            let r: [u8; 8] = h.get(8..16)?.try_into().ok()?;
            Some((i, r))
        });
        let wants = cookies
            .and_then(|c| self.by_cookies.get(&c))
            .and_then(|s| self.p1.get(s))
            .is_some_and(|st| self.wants_keepalive(st));
        if wants {
            self.keepalive_at = Some(now + every);
        }
    }

    /// The keepalive timer, if it is due: one keepalive per peer, and the
    /// next round (none when no peer needs one any more).
    pub(crate) fn natt_keepalive_timeout(&mut self, now: Instant) {
        if !self.keepalive_at.is_some_and(|t| t <= now) {
            return;
        }
        let peers = self.keepalive_peers();
        for (local, remote) in &peers {
            // Not through `send`: a keepalive carries no non-ESP marker.
            self.transmits.push_back(Transmit {
                local: *local,
                remote: *remote,
                payload: KEEPALIVE.to_vec(),
            });
        }
        self.keepalive_at = match (peers.is_empty(), self.keepalive_interval()) {
            (false, Some(every)) => Some(now + every),
            _ => None,
        };
    }

    /// The keepalive timer (`EVENT_NAT_T_KEEPALIVE`), for status output.
    pub fn keepalive_event(&self) -> Option<(&'static str, Instant)> {
        self.keepalive_at.map(|t| (EVENT_NAT_T_KEEPALIVE, t))
    }
}
