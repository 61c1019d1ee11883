//! Responder ISAKMP states that have answered MI1 but are not established:
//! indexed so that MI1 handling costs the same with ten states or a hundred
//! thousand, and bounded so that a forger cannot lock a real peer out.
//!
//! The policy: at most [`MAX_PER_ADDRESS`] half-open states per peer
//! address and [`MAX_TOTAL`] in all. A new MI1 beyond either limit evicts
//! an old half-open state instead of being refused: forged MI1s claiming a
//! real peer's address cannot keep the peer's own exchange out, since the
//! peer's MI1 is the newest and its next message follows within one round
//! trip.
//!
//! Which state goes is decided by [`Tier`], cheapest to lose first: a state
//! whose peer has not yet proven that it receives at its address (no MI2
//! echoing our unpredictable cookie) from an address no connection names;
//! then such a state from a configured peer's address; last a state whose
//! MI2 came, on which we already spent a Diffie-Hellman. Within a tier the
//! oldest goes. So a flood of forged MI1s from anywhere only ever displaces
//! other unproven exchanges, and the Diffie-Hellman work (done on MI2 only)
//! is never spent on, nor thrown away for, a source that has not answered.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeSet, HashMap};
use std::hash::BuildHasher;

use super::shrink::ShrinkSparse;
use std::net::{IpAddr, SocketAddr};

/// Half-open responder states at most, in all (some 2.5 KB each with
/// their indexes: 25 MB, which a router can spare; a forged flood of 5 000
/// MI1s per second still leaves each state two seconds for its MI2) ...
pub const MAX_TOTAL: usize = 10_000;
/// ... and per peer address.
pub const MAX_PER_ADDRESS: usize = 64;

/// How much a half-open state is worth keeping; evictions take the lowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// MI1 only, from an address that only a `%any` connection accepts.
    Unproven = 0,
    /// MI1 only, from the address of a connection's fixed peer.
    UnprovenConfigured = 1,
    /// MI2 came back with our cookie: the source receives where it claims.
    Proven = 2,
}

const TIERS: usize = 3;

/// Serials by tier; serials grow, so each set's first is its oldest.
#[derive(Debug, Default)]
struct Tiers([BTreeSet<u64>; TIERS]);

impl Tiers {
    fn insert(&mut self, tier: Tier, serial: u64) {
        if let Some(set) = self.0.get_mut(tier as usize) {
            set.insert(serial);
        }
    }

    fn remove(&mut self, tier: Tier, serial: u64) {
        if let Some(set) = self.0.get_mut(tier as usize) {
            set.remove(&serial);
        }
    }

    fn len(&self) -> usize {
        self.0.iter().map(BTreeSet::len).sum()
    }

    /// The oldest state of the lowest tier that has one.
    fn cheapest(&self) -> Option<u64> {
        self.0.iter().find_map(|s| s.first().copied())
    }
}

/// What made a responder state: the initiator cookie and source of its MI1.
type Mi1Key = ([u8; 8], SocketAddr);

/// A half-open state's peer address, tier, and whether a connection names
/// that address.
#[derive(Debug)]
struct Open {
    ip: IpAddr,
    tier: Option<Tier>,
    configured: bool,
}

#[derive(Debug, Default)]
pub struct HalfOpen {
    all: Tiers,
    by_address: HashMap<IpAddr, Tiers>,
    /// Responder states by the MI1 that made them (a keyed hash of the
    /// initiator cookie and source): a repeated MI1 finds its state without
    /// a scan, also once it is established. Every SA a responder holds
    /// keeps this entry and the next, so they are 16 bytes, not 48 and 56.
    by_mi1: HashMap<u64, u64>,
    /// Each indexed state's MI1 hash, to take it out.
    mi1_of: HashMap<u64, u64>,
    /// The states that are half-open.
    open: HashMap<u64, Open>,
    /// The key of the MI1 hashes: random, so that no forger can pick MI1s
    /// that share one.
    hasher: RandomState,
}

impl HalfOpen {
    fn mi1_hash(&self, icookie: [u8; 8], remote: SocketAddr) -> u64 {
        let key: Mi1Key = (icookie, remote);
        self.hasher.hash_one(key)
    }

    /// The responder state MI1 (`icookie` from `remote`) made, if any.
    pub fn find(&self, icookie: [u8; 8], remote: SocketAddr) -> Option<u64> {
        self.by_mi1.get(&self.mi1_hash(icookie, remote)).copied()
    }

    /// How many states are half-open.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// The state to evict before a new MI1 from `peer` is taken, if a
    /// limit is reached: the cheapest of that address, else of all.
    pub fn victim(&self, peer: IpAddr) -> Option<u64> {
        if let Some(v) = self
            .by_address
            .get(&peer)
            .filter(|t| t.len() >= MAX_PER_ADDRESS)
        {
            return v.cheapest();
        }
        if self.all.len() >= MAX_TOTAL {
            return self.all.cheapest();
        }
        None
    }

    /// A responder state `serial` was made for MI1 `icookie` from `remote`;
    /// `configured`: a connection names `remote`'s address as its peer.
    pub fn insert(&mut self, serial: u64, icookie: [u8; 8], remote: SocketAddr, configured: bool) {
        let tier = if configured {
            Tier::UnprovenConfigured
        } else {
            Tier::Unproven
        };
        let h = self.mi1_hash(icookie, remote);
        self.by_mi1.insert(h, serial);
        self.mi1_of.insert(serial, h);
        let open = Open {
            ip: remote.ip(),
            tier: None,
            configured,
        };
        self.open.insert(serial, open);
        self.retier(serial, tier);
    }

    /// MI2 came with our cookie: the peer receives at its address.
    pub fn proven(&mut self, serial: u64) {
        if self.untier(serial).is_some() {
            self.retier(serial, Tier::Proven);
        }
    }

    /// Whether a connection names the address state `serial`'s MI1 came from.
    pub fn configured(&self, serial: u64) -> bool {
        self.open.get(&serial).is_some_and(|e| e.configured)
    }

    /// The state is established: it no longer counts against the limits
    /// (its MI1 still finds it, to recognise a late repeat).
    pub fn established(&mut self, serial: u64) {
        self.untier(serial);
        if self.open.remove(&serial).is_some() {
            self.open.shrink_sparse();
        }
    }

    /// The state is gone.
    pub fn remove(&mut self, serial: u64) {
        self.established(serial);
        if let Some(h) = self.mi1_of.remove(&serial) {
            if self.by_mi1.get(&h) == Some(&serial) {
                self.by_mi1.remove(&h);
                self.by_mi1.shrink_sparse();
            }
            self.mi1_of.shrink_sparse();
        }
    }

    /// Takes `serial` out of the tiers; its address, if it was in one.
    fn untier(&mut self, serial: u64) -> Option<IpAddr> {
        let open = self.open.get_mut(&serial)?;
        let tier = open.tier.take()?;
        let ip = open.ip;
        self.all.remove(tier, serial);
        if let Some(t) = self.by_address.get_mut(&ip) {
            t.remove(tier, serial);
            if t.len() == 0 {
                self.by_address.remove(&ip);
                self.by_address.shrink_sparse();
            }
        }
        Some(ip)
    }

    fn retier(&mut self, serial: u64, tier: Tier) {
        let Some(open) = self.open.get_mut(&serial) else {
            return;
        };
        open.tier = Some(tier);
        let ip = open.ip;
        self.all.insert(tier, serial);
        self.by_address.entry(ip).or_default().insert(tier, serial);
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
    fn a_burst_leaves_no_buckets_behind() {
        let mut h = HalfOpen::default();
        let peer = |i: u64| {
            let [.., a, b] = i.to_be_bytes();
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 18, a, b)), 500)
        };
        for i in 0..2000u64 {
            h.insert(i, i.to_be_bytes(), peer(i), false);
        }
        let full =
            h.by_address.capacity() + h.by_mi1.capacity() + h.mi1_of.capacity() + h.open.capacity();
        for i in 0..2000u64 {
            h.established(i);
        }
        // Established, they keep only their MI1 hashes.
        let floor = 2 * super::super::shrink::FLOOR;
        assert!(
            h.by_address.capacity() <= floor,
            "{}",
            h.by_address.capacity()
        );
        assert!(h.open.capacity() <= floor, "{}", h.open.capacity());
        for i in 0..1990u64 {
            h.remove(i);
        }
        let left =
            h.by_address.capacity() + h.by_mi1.capacity() + h.mi1_of.capacity() + h.open.capacity();
        assert!(full >= 3 * 2000 && left <= 4 * floor, "{full} -> {left}");
        assert_eq!(h.find(1995u64.to_be_bytes(), peer(1995)), Some(1995));
    }

    #[test]
    fn the_oldest_of_an_address_goes_first() {
        let mut h = HalfOpen::default();
        for s in 0..MAX_PER_ADDRESS as u64 {
            assert_eq!(h.victim(addr(1, 500).ip()), None);
            h.insert(s + 10, s.to_be_bytes(), addr(1, 500), false);
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
        assert!(h.mi1_of.len() == MAX_PER_ADDRESS - 2 && h.by_mi1.len() == MAX_PER_ADDRESS - 2);
    }

    #[test]
    fn unproven_strangers_go_before_configured_peers_and_proven_ones() {
        let mut h = HalfOpen::default();
        // Oldest first: a proven exchange, a configured peer's, then strangers.
        h.insert(1, [1; 8], addr(1, 500), false);
        h.proven(1);
        h.insert(2, [2; 8], addr(2, 500), true);
        h.insert(3, [3; 8], addr(3, 500), false);
        h.insert(4, [4; 8], addr(4, 500), false);
        assert_eq!(h.all.cheapest(), Some(3), "the oldest unproven stranger");
        h.remove(3);
        h.remove(4);
        assert_eq!(h.all.cheapest(), Some(2), "then the configured peer's");
        h.remove(2);
        assert_eq!(h.all.cheapest(), Some(1), "a proven exchange last");
        assert_eq!(h.len(), 1);
        h.established(1);
        assert_eq!((h.len(), h.all.cheapest()), (0, None));
        assert_eq!(h.find([1; 8], addr(1, 500)), Some(1), "a late MI1 repeat");
        h.proven(1);
        assert_eq!(h.len(), 0, "an established state does not come back");
    }

    #[test]
    fn per_address_eviction_spares_the_proven_exchange() {
        let mut h = HalfOpen::default();
        h.insert(100, [0xff; 8], addr(7, 500), true);
        h.proven(100);
        for s in 1..MAX_PER_ADDRESS as u64 {
            h.insert(100 + s, s.to_be_bytes(), addr(7, 500), true);
        }
        assert_eq!(h.victim(addr(7, 500).ip()), Some(101));
        assert!(h.by_address.contains_key(&addr(7, 500).ip()));
        for s in 100..100 + MAX_PER_ADDRESS as u64 {
            h.remove(s);
        }
        assert!(
            h.by_address.is_empty()
                && h.by_mi1.is_empty()
                && h.mi1_of.is_empty()
                && h.open.is_empty()
        );
    }
}
