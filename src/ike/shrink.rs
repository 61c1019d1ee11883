//! Collections give back the room of a burst.
//!
//! A hash map or heap keeps the capacity of its largest size. The state
//! tables' indexes and timer heaps and the half-open index grow with the
//! states in flight: a burst of a thousand negotiations, or a flood of
//! forged MI1s, left them sized for it for good. Once a
//! collection is a quarter full it gives back all but twice what it holds
//! (never below [`FLOOR`] entries), so each shrink is paid for by the
//! removals before it and a steady load does not grow and shrink in turn.

use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasher, Hash};

/// Capacity kept whatever the size: small collections are left alone.
pub(crate) const FLOOR: usize = 64;

pub(crate) trait ShrinkSparse {
    /// Gives back room if the collection is at most a quarter full.
    fn shrink_sparse(&mut self);
}

fn target(len: usize, capacity: usize) -> Option<usize> {
    (capacity > FLOOR && len.saturating_mul(4) < capacity).then(|| len.saturating_mul(2).max(FLOOR))
}

impl<K: Hash + Eq, V, S: BuildHasher> ShrinkSparse for HashMap<K, V, S> {
    fn shrink_sparse(&mut self) {
        if let Some(t) = target(self.len(), self.capacity()) {
            self.shrink_to(t);
        }
    }
}

impl<T: Ord> ShrinkSparse for BinaryHeap<T> {
    fn shrink_sparse(&mut self) {
        if let Some(t) = target(self.len(), self.capacity()) {
            self.shrink_to(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_gives_its_room_back_and_a_small_load_keeps_its_own() {
        let mut q: BinaryHeap<u64> = (0..10_000).collect();
        while q.len() > 100 {
            q.pop();
            q.shrink_sparse();
        }
        assert!(q.capacity() < 400, "{}", q.capacity());
        let mut m: HashMap<u64, u64> = (0..10_000).map(|i| (i, i)).collect();
        for i in 0..9_990 {
            m.remove(&i);
            m.shrink_sparse();
        }
        assert!(m.capacity() <= 2 * FLOOR, "{}", m.capacity());
        assert_eq!(m.len(), 10);
        // Below the floor nothing moves.
        let mut h: BinaryHeap<u8> = BinaryHeap::with_capacity(FLOOR);
        h.push(1);
        h.shrink_sparse();
        assert_eq!(h.capacity(), FLOOR);
    }
}
