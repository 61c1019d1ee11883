//! Responder ISAKMP states that have answered MI1 but are not established:
//! indexed so that MI1 handling costs the same with ten states or a hundred
//! thousand, and bounded so that a forger cannot lock a real peer out.
//!
//! The policy: at most [`MAX_PER_ADDRESS`] half-open states per peer
//! address and [`MAX_TOTAL`] in all. A new MI1 beyond either limit evicts
//! the *oldest* half-open state (of that address, or of all) instead of
//! being refused: forged MI1s claiming a real peer's address cannot keep the
//! peer's own exchange out, since the peer's MI1 is the newest and its next
//! message follows within one round trip.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};

/// Half-open responder states at most, in all ...
pub const MAX_TOTAL: usize = 50_000;
/// ... and per peer address.
pub const MAX_PER_ADDRESS: usize = 64;

#[derive(Debug, Default)]
pub struct HalfOpen {
    /// Serials of half-open states; serials grow, so the first is the oldest.
    all: BTreeSet<u64>,
    by_address: HashMap<IpAddr, BTreeSet<u64>>,
    /// Responder states by the MI1 that made them (initiator cookie, source):
    /// a repeated MI1 finds its state without a scan.
    by_mi1: HashMap<([u8; 8], SocketAddr), u64>,
    /// Each indexed state's MI1 key.
    keys: HashMap<u64, ([u8; 8], SocketAddr)>,
}

impl HalfOpen {
    /// The responder state MI1 (`icookie` from `remote`) made, if any.
    pub fn find(&self, icookie: [u8; 8], remote: SocketAddr) -> Option<u64> {
        self.by_mi1.get(&(icookie, remote)).copied()
    }

    /// The state to evict before a new MI1 from `peer` is taken, if a
    /// limit is reached: that address's oldest, else the oldest of all.
    pub fn victim(&self, peer: IpAddr) -> Option<u64> {
        if let Some(v) = self
            .by_address
            .get(&peer)
            .filter(|s| s.len() >= MAX_PER_ADDRESS)
        {
            return v.first().copied();
        }
        if self.all.len() >= MAX_TOTAL {
            return self.all.first().copied();
        }
        None
    }

    /// A responder state `serial` was made for MI1 `icookie` from `remote`.
    pub fn insert(&mut self, serial: u64, icookie: [u8; 8], remote: SocketAddr) {
        self.all.insert(serial);
        self.by_address
            .entry(remote.ip())
            .or_default()
            .insert(serial);
        self.by_mi1.insert((icookie, remote), serial);
        self.keys.insert(serial, (icookie, remote));
    }

    /// The state is established: it no longer counts against the limits
    /// (its MI1 still finds it, to recognise a late repeat).
    pub fn established(&mut self, serial: u64) {
        if !self.all.remove(&serial) {
            return;
        }
        let Some((_, remote)) = self.keys.get(&serial) else {
            return;
        };
        let remote = remote.ip();
        if let Some(s) = self.by_address.get_mut(&remote) {
            s.remove(&serial);
            if s.is_empty() {
                self.by_address.remove(&remote);
            }
        }
    }

    /// The state is gone.
    pub fn remove(&mut self, serial: u64) {
        self.established(serial);
        if let Some(key) = self.keys.remove(&serial) {
            if self.by_mi1.get(&key) == Some(&serial) {
                self.by_mi1.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn addr(n: u8, port: u16) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, n)), port)
    }

    #[test]
    fn the_oldest_of_an_address_goes_first() {
        let mut h = HalfOpen::default();
        for s in 0..MAX_PER_ADDRESS as u64 {
            assert_eq!(h.victim(addr(1, 500).ip()), None);
            h.insert(s + 10, s.to_be_bytes(), addr(1, 500));
        }
        assert_eq!(h.victim(addr(1, 500).ip()), Some(10));
        assert_eq!(
            h.victim(addr(2, 500).ip()),
            None,
            "another address is not touched"
        );
        h.remove(10);
        assert_eq!(h.victim(addr(1, 500).ip()), None);
        assert_eq!(h.find(0u64.to_be_bytes(), addr(1, 500)), None);
        h.established(11);
        assert_eq!(h.all.len(), MAX_PER_ADDRESS - 2);
        assert_eq!(h.find(1u64.to_be_bytes(), addr(1, 500)), Some(11));
        assert_eq!(h.find(1u64.to_be_bytes(), addr(1, 501)), None);
        h.remove(11);
        assert_eq!(h.find(1u64.to_be_bytes(), addr(1, 500)), None);
        assert!(h.keys.len() == MAX_PER_ADDRESS - 2 && h.by_mi1.len() == MAX_PER_ADDRESS - 2);
    }
}
