//! A table of states whose timers and lookups cost the same at ten states
//! and at a hundred thousand.
//!
//! Every mutable access marks a state "touched". [`StateTable::refresh`]
//! (run at the end of each input the endpoint handles) recomputes the
//! touched states' deadlines and index keys: a deadline goes into a
//! min-heap, and keys into a hash index. A heap entry whose deadline is no
//! longer the one armed for its state is stale and dropped when it reaches
//! the top. Until the refresh, a touched state is looked at directly: the
//! answers of [`StateTable::next_deadline`] and [`StateTable::find`] never
//! depend on a refresh having happened, only their cost does.
//!
//! Every established SA pair keeps its entries here for as long as it
//! lives, so they are kept small: the index holds a keyed 64-bit hash of
//! each key rather than the key (24 bytes an entry instead of 40), a state
//! keeps those hashes to be taken out again, and its armed deadline lives
//! in its slot rather than in a map of its own. A lookup's predicate says
//! exactly which states it wants (a touched state is judged by it alone),
//! so two keys of one hash only share an entry.

use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::hash::{BuildHasher, Hash};
use std::time::Instant;

use super::shrink::ShrinkSparse;

/// What the table needs to know of a state.
pub(crate) trait Tracked {
    /// What the state can be looked up by besides its serial.
    type Key: Hash + Eq + Clone;
    /// When the state's earliest timer fires.
    fn deadline(&self) -> Option<Instant>;
    /// Appends the keys the state can be found by now.
    fn keys(&self, out: &mut Vec<Self::Key>);
}

pub(crate) struct StateTable<T: Tracked> {
    /// Boxed: a B-tree node holds eleven values and is often half full, so
    /// large states inline would leave kilobytes of slack per state.
    states: BTreeMap<u64, Box<Slot<T>>>,
    /// States mutably borrowed since the last refresh.
    touched: BTreeSet<u64>,
    /// States taken off the heap as due, to be armed again at the refresh.
    /// Unlike touched ones their keys have not changed: lookups need not
    /// look at them (a burst of due timers must not slow every lookup).
    unarmed: Vec<u64>,
    /// How many states are armed (have `Slot::armed`).
    armed: usize,
    /// (deadline, serial), the deadline in [`Tick`]s.
    heap: BinaryHeap<Reverse<(Tick, u64)>>,
    /// Tick 0: the first deadline ever armed.
    epoch: Option<Instant>,
    /// The states under each key's hash (see [`StateTable::hash`]).
    index: HashMap<u64, Serials>,
    /// The key of the hashes: random, so that nobody can choose keys that
    /// share one.
    hasher: RandomState,
    /// States looked at by scans, index lookups and refreshes: what a call
    /// cost, counted rather than timed.
    visits: Cell<u64>,
}

impl<T: Tracked> Default for StateTable<T> {
    fn default() -> Self {
        StateTable {
            states: BTreeMap::new(),
            touched: BTreeSet::new(),
            unarmed: Vec::new(),
            armed: 0,
            heap: BinaryHeap::new(),
            epoch: None,
            index: HashMap::new(),
            hasher: RandomState::new(),
            visits: Cell::new(0),
        }
    }
}

impl<T: Tracked> StateTable<T> {
    /// `t` in ticks of the heap (taking the first as the epoch).
    fn tick(&mut self, t: Instant) -> Tick {
        Tick::of(*self.epoch.get_or_insert(t), t)
    }

    /// The deadline of a heap entry.
    fn instant(&self, t: Tick) -> Option<Instant> {
        self.epoch.map(|e| t.at(e))
    }

    fn hash(&self, key: &T::Key) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The deadline `serial` is armed for, if any.
    fn armed_at(&self, serial: u64) -> Option<Instant> {
        self.states.get(&serial).and_then(|s| s.armed)
    }

    fn visit(&self, n: usize) {
        self.visits.set(self.visits.get().saturating_add(n as u64));
    }

    /// How many states have been visited since the table was made.
    #[cfg(test)]
    pub(crate) fn visits(&self) -> u64 {
        self.visits.get()
    }

    pub(crate) fn get(&self, serial: &u64) -> Option<&T> {
        self.states.get(serial).map(|b| &b.state)
    }

    pub(crate) fn get_mut(&mut self, serial: &u64) -> Option<&mut T> {
        let s = self.states.get_mut(serial)?;
        self.touched.insert(*serial);
        Some(&mut s.state)
    }

    pub(crate) fn contains_key(&self, serial: &u64) -> bool {
        self.states.contains_key(serial)
    }

    pub(crate) fn insert(&mut self, serial: u64, state: T) -> Option<T> {
        self.touched.insert(serial);
        match self.states.get_mut(&serial) {
            // Indexed as the old state was until the refresh.
            Some(slot) => Some(std::mem::replace(&mut slot.state, state)),
            None => {
                let slot = Slot {
                    state,
                    keys: Box::default(),
                    armed: None,
                };
                self.states.insert(serial, Box::new(slot));
                None
            }
        }
    }

    pub(crate) fn remove(&mut self, serial: &u64) -> Option<T> {
        let slot = self.states.remove(serial)?;
        let Slot { state, keys, armed } = *slot;
        self.touched.remove(serial);
        self.armed -= usize::from(armed.is_some());
        unindex(&mut self.index, *serial, &keys);
        self.index.shrink_sparse();
        self.drop_stale();
        Some(state)
    }

    /// Every state, in serial order. A scan: it visits them all.
    pub(crate) fn values(&self) -> impl Iterator<Item = &T> + '_ {
        self.states
            .values()
            .map(|b| &b.state)
            .inspect(|_| self.visit(1))
    }

    /// The lowest serial among the states indexed under `key` for which
    /// `pred` holds. States touched since the last refresh are checked
    /// directly, so the answer is exact at any time. `pred` must hold
    /// only for states that have `key` (the index may offer others).
    pub(crate) fn find(&self, key: &T::Key, pred: impl Fn(&T) -> bool) -> Option<u64> {
        let ok = |s: &&u64| self.get(s).is_some_and(&pred);
        let indexed = self.indexed_under(key).find(ok);
        let touched = self.touched_ones().filter(ok).min();
        indexed.into_iter().chain(touched).min().copied()
    }

    /// The highest serial among them (as [`StateTable::find`]).
    pub(crate) fn find_last(&self, key: &T::Key, pred: impl Fn(&T) -> bool) -> Option<u64> {
        let ok = |s: &&u64| self.get(s).is_some_and(&pred);
        let indexed = self.indexed_under(key).rev().find(ok);
        let touched = self.touched_ones().filter(ok).max();
        indexed.into_iter().chain(touched).max().copied()
    }

    fn indexed_under<'a>(&'a self, key: &T::Key) -> impl DoubleEndedIterator<Item = &'a u64> {
        let set = self.index.get(&self.hash(key));
        set.into_iter()
            .flat_map(Serials::iter)
            .inspect(|_| self.visit(1))
    }

    fn touched_ones(&self) -> impl Iterator<Item = &u64> {
        self.touched.iter().inspect(|_| self.visit(1))
    }

    /// Every state indexed under `key` for which `pred` holds, in serial
    /// order (exact at any time, as [`StateTable::find`]).
    pub(crate) fn find_all(&self, key: &T::Key, pred: impl Fn(&T) -> bool) -> Vec<u64> {
        let mut v: Vec<u64> = self.candidates(key, pred).collect();
        crate::sort::sort(&mut v);
        v.dedup();
        v
    }

    fn candidates<'a>(
        &'a self,
        key: &T::Key,
        pred: impl Fn(&T) -> bool + 'a,
    ) -> impl Iterator<Item = u64> + 'a {
        self.indexed_under(key)
            .chain(self.touched_ones())
            .filter(move |s| self.get(s).is_some_and(&pred))
            .copied()
    }

    /// When the earliest timer of any state fires.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.visit(1 + self.touched.len() + self.unarmed.len());
        let armed = self
            .heap
            .peek()
            .and_then(|Reverse((t, _))| self.instant(*t));
        let touched = self
            .touched
            .iter()
            .chain(&self.unarmed)
            .filter_map(|s| self.get(s))
            .filter_map(T::deadline);
        armed.into_iter().chain(touched).min()
    }

    /// The states whose armed deadline is due, in serial order. The next
    /// refresh arms them again for what follows.
    pub(crate) fn take_due(&mut self, now: Instant) -> Vec<u64> {
        self.refresh();
        let mut due = Vec::new();
        while let Some(&Reverse((tick, serial))) = self.heap.peek() {
            let Some(t) = self.instant(tick).filter(|t| *t <= now) else {
                break;
            };
            self.heap.pop();
            self.visit(1);
            if self.armed_at(serial) == Some(t) {
                self.set_armed(serial, None);
                self.unarmed.push(serial);
                due.push(serial);
            }
        }
        self.drop_stale();
        crate::sort::sort(&mut due);
        due
    }

    /// Re-arms and re-indexes the touched states, and re-arms the ones
    /// taken as due.
    pub(crate) fn refresh(&mut self) {
        for serial in std::mem::take(&mut self.unarmed) {
            self.visit(1);
            self.rearm(serial);
        }
        let touched = std::mem::take(&mut self.touched);
        self.visit(touched.len());
        for serial in touched {
            self.rearm(serial);
            let Some(slot) = self.states.get(&serial) else {
                continue;
            };
            let mut keys = Vec::new();
            slot.state.keys(&mut keys);
            let mut hashes: Vec<u64> = keys.iter().map(|k| self.hash(k)).collect();
            crate::sort::sort(&mut hashes);
            hashes.dedup();
            if *slot.keys != *hashes {
                unindex(&mut self.index, serial, &slot.keys);
                for h in &hashes {
                    match self.index.get_mut(h) {
                        Some(set) => set.insert(serial),
                        None => {
                            self.index.insert(*h, Serials::One(serial));
                        }
                    }
                }
                if let Some(slot) = self.states.get_mut(&serial) {
                    slot.keys = hashes.into_boxed_slice();
                }
            }
        }
        self.index.shrink_sparse();
        self.drop_stale();
    }

    fn rearm(&mut self, serial: u64) {
        let t = self.get(&serial).and_then(T::deadline);
        if self.set_armed(serial, t) != t {
            if let Some(t) = t {
                let tick = self.tick(t);
                self.heap.push(Reverse((tick, serial)));
            }
        }
    }

    /// Arms `serial` for `t` (or disarms it); what it was armed for.
    fn set_armed(&mut self, serial: u64, t: Option<Instant>) -> Option<Instant> {
        let slot = self.states.get_mut(&serial)?;
        let old = std::mem::replace(&mut slot.armed, t);
        self.armed = self.armed + usize::from(t.is_some()) - usize::from(old.is_some());
        old
    }

    /// Pops heap entries that no longer match their state's armed deadline
    /// until the top is a live one (so that a peek is the answer). Each
    /// entry is pushed once and popped once, so this costs O(log n) a
    /// re-arm over time. The heap is also rebuilt when stale entries are
    /// most of it, so that states re-armed far in the future cannot pile up.
    fn drop_stale(&mut self) {
        while let Some(&Reverse((t, serial))) = self.heap.peek() {
            if self
                .armed_at(serial)
                .is_some_and(|a| Some(a) == self.instant(t))
            {
                break;
            }
            self.heap.pop();
        }
        if self.heap.len() > 64 && self.heap.len() > 2 * self.armed {
            self.visit(self.states.len());
            let epoch = self.epoch;
            self.heap = (self.states.iter())
                .filter_map(|(s, slot)| Some(Reverse((Tick::of(epoch?, slot.armed?), *s))))
                .collect();
        }
        self.heap.shrink_sparse();
    }
}

/// A deadline as nanoseconds after the table's epoch (before it when
/// negative): a heap entry of 16 bytes rather than 24 with an `Instant`,
/// and exact (an `Instant` counts nanoseconds; 2^63 of them are 292 years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Tick(i64);

impl Tick {
    fn of(epoch: Instant, t: Instant) -> Tick {
        let ns = |d: std::time::Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        match t.checked_duration_since(epoch) {
            Some(after) => Tick(ns(after)),
            None => Tick(-ns(epoch.duration_since(t))),
        }
    }

    fn at(self, epoch: Instant) -> Instant {
        let d = std::time::Duration::from_nanos(self.0.unsigned_abs());
        if self.0 >= 0 {
            epoch + d
        } else {
            epoch - d
        }
    }
}

/// A state, the hashes of the keys it is indexed under (kept to unindex
/// it: its own keys may have changed since), sorted and without repeats,
/// and the deadline it is armed for (the heap may hold older ones).
struct Slot<T: Tracked> {
    state: T,
    keys: Box<[u64]>,
    armed: Option<Instant>,
}

/// Takes `serial` out of the index under `keys`.
fn unindex(index: &mut HashMap<u64, Serials>, serial: u64, keys: &[u64]) {
    for k in keys {
        if let Some(v) = index.get_mut(k) {
            if v.remove(serial) {
                index.remove(k);
            }
        }
    }
}

/// The states under one index key: most keys (a peer's SPI, an
/// exchange, an SA) have one, so one is kept without a set of its own,
/// and many have two (an SA pair's peer address), kept in a pair.
enum Serials {
    One(u64),
    /// In order. Boxed, as `Many`: keeps the index's buckets small for the
    /// common `One`.
    Two(Box<[u64; 2]>),
    #[allow(clippy::box_collection)]
    Many(Box<BTreeSet<u64>>),
}

impl Serials {
    fn insert(&mut self, serial: u64) {
        match self {
            Serials::One(s) if *s == serial => {}
            Serials::One(s) => *self = Serials::Two(Box::new([serial.min(*s), serial.max(*s)])),
            Serials::Two(p) if p.contains(&serial) => {}
            Serials::Two(p) => {
                let [a, b] = **p;
                *self = Serials::Many(Box::new(BTreeSet::from([a, b, serial])));
            }
            Serials::Many(set) => {
                set.insert(serial);
            }
        }
    }

    /// Removes `serial`; true when none is left.
    fn remove(&mut self, serial: u64) -> bool {
        match self {
            Serials::One(s) => *s == serial,
            Serials::Two(p) => {
                match **p {
                    [a, b] if a == serial => *self = Serials::One(b),
                    [a, b] if b == serial => *self = Serials::One(a),
                    _ => {}
                }
                false
            }
            Serials::Many(set) => {
                set.remove(&serial);
                set.is_empty()
            }
        }
    }

    /// In serial order.
    fn iter(&self) -> impl DoubleEndedIterator<Item = &u64> {
        let (few, many): (&[u64], _) = match self {
            Serials::One(s) => (std::slice::from_ref(s), None),
            Serials::Two(p) => (&p[..], None),
            Serials::Many(set) => (&[], Some(&**set)),
        };
        few.iter().chain(many.into_iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    struct S {
        at: Option<Instant>,
        key: Option<u32>,
    }

    impl Tracked for S {
        type Key = u32;
        fn deadline(&self) -> Option<Instant> {
            self.at
        }
        fn keys(&self, out: &mut Vec<u32>) {
            out.extend(self.key);
        }
    }

    fn table(n: u64, t0: Instant) -> StateTable<S> {
        let mut t = StateTable::default();
        for i in 0..n {
            let s = S {
                at: Some(t0 + Duration::from_secs(100 + i)),
                key: Some(i as u32),
            };
            t.insert(i, s);
        }
        t.refresh();
        t
    }

    #[test]
    fn earliest_deadline_and_due_states() {
        let t0 = Instant::now();
        let mut t = table(5, t0);
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(100)));
        assert_eq!(t.take_due(t0 + Duration::from_secs(101)), vec![0, 1]);
        // Nothing changed them: refreshed, they are armed again as before.
        t.refresh();
        assert_eq!(t.take_due(t0 + Duration::from_secs(101)), vec![0, 1]);
        assert!(t.take_due(t0 + Duration::from_secs(99)).is_empty());
    }

    #[test]
    fn rearm_later_leaves_a_stale_entry_that_never_fires() {
        let t0 = Instant::now();
        let mut t = table(3, t0);
        if let Some(s) = t.get_mut(&0) {
            s.at = Some(t0 + Duration::from_secs(500));
        }
        // Before the refresh the old entry is still in the heap but the
        // touched state's own deadline is what counts for it.
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(100)));
        t.refresh();
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(101)));
        assert_eq!(t.take_due(t0 + Duration::from_secs(200)), vec![1, 2]);
        assert_eq!(t.take_due(t0 + Duration::from_secs(500)), vec![0, 1, 2]);
    }

    #[test]
    fn rearm_earlier_is_seen_before_and_after_refresh() {
        let t0 = Instant::now();
        let mut t = table(3, t0);
        if let Some(s) = t.get_mut(&2) {
            s.at = Some(t0 + Duration::from_secs(5));
        }
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(5)));
        t.refresh();
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(5)));
        assert_eq!(t.take_due(t0 + Duration::from_secs(5)), vec![2]);
    }

    #[test]
    fn disarmed_and_removed_states_never_fire() {
        let t0 = Instant::now();
        let mut t = table(3, t0);
        if let Some(s) = t.get_mut(&0) {
            s.at = None;
        }
        assert!(t.remove(&1).is_some());
        t.refresh();
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(102)));
        assert_eq!(t.take_due(t0 + Duration::from_secs(1000)), vec![2]);
        assert!(t.remove(&2).is_some());
        assert_eq!(t.next_deadline(), None);
        assert!(t.take_due(t0 + Duration::from_secs(1000)).is_empty());
    }

    #[test]
    fn index_follows_changes_with_or_without_refresh() {
        let t0 = Instant::now();
        let mut t = table(4, t0);
        assert_eq!(t.find(&2, |_| true), Some(2));
        assert_eq!(t.find(&2, |s| s.key == Some(7)), None);
        if let Some(s) = t.get_mut(&2) {
            s.key = Some(9);
        }
        // Touched: found by its new key, and no longer by its old one.
        assert_eq!(t.find(&9, |s| s.key == Some(9)), Some(2));
        assert_eq!(t.find(&2, |s| s.key == Some(2)), None);
        if let Some(s) = t.get_mut(&3) {
            s.key = Some(9);
        }
        assert_eq!(t.find_all(&9, |s| s.key == Some(9)), vec![2, 3]);
        t.refresh();
        assert_eq!(t.find_all(&9, |s| s.key == Some(9)), vec![2, 3]);
        assert_eq!(t.find(&9, |s| s.key == Some(9)), Some(2));
        assert_eq!(t.find(&2, |s| s.key == Some(2)), None);
        assert!(t.remove(&2).is_some());
        assert_eq!(t.find_all(&9, |_| true), vec![3]);
        assert!(t.remove(&3).is_some());
        assert_eq!(t.find(&9, |_| true), None);
    }

    #[test]
    fn one_key_shared_by_one_two_and_three_states() {
        let t0 = Instant::now();
        let mut t = table(4, t0);
        for s in [1, 2, 3] {
            if let Some(st) = t.get_mut(&s) {
                st.key = Some(7);
            }
            t.refresh();
        }
        let seven = |s: &S| s.key == Some(7);
        assert_eq!(t.find_all(&7, seven), vec![1, 2, 3]);
        assert_eq!(t.find_last(&7, seven), Some(3));
        assert!(t.remove(&2).is_some());
        assert_eq!(t.find_all(&7, seven), vec![1, 3]);
        assert!(t.remove(&1).is_some());
        assert_eq!(t.find_all(&7, seven), vec![3]);
        if let Some(st) = t.get_mut(&0) {
            st.key = Some(7);
        }
        t.refresh();
        assert_eq!(t.find_all(&7, seven), vec![0, 3]);
        assert_eq!(t.find(&7, seven), Some(0));
        assert!(t.remove(&3).is_some() && t.remove(&0).is_some());
        assert_eq!(t.find(&7, |_| true), None);
        assert!(t.index.is_empty());
    }

    #[test]
    fn deadlines_keep_their_nanoseconds_around_the_epoch() {
        let t0 = Instant::now() + Duration::from_secs(1000);
        let mut t: StateTable<S> = StateTable::default();
        let at = [3_000_000_123, 1, 5_000_000_007, 0];
        for (i, ns) in at.iter().enumerate() {
            // The first armed is the epoch; the others fall before and after it.
            let s = S {
                at: Some(t0 - Duration::from_nanos(*ns)),
                key: None,
            };
            t.insert(i as u64, s);
            t.refresh();
        }
        assert_eq!(
            t.next_deadline(),
            Some(t0 - Duration::from_nanos(5_000_000_007))
        );
        assert_eq!(
            t.take_due(t0 - Duration::from_nanos(5_000_000_007)),
            vec![2]
        );
        assert_eq!(t.take_due(t0 - Duration::from_nanos(2)), vec![0, 2]);
        assert_eq!(t.take_due(t0), vec![0, 1, 2, 3]);
    }

    #[test]
    fn cost_of_lookups_and_timers_does_not_grow() {
        let t0 = Instant::now();
        let cost = |n: u64| {
            let mut t = table(n, t0);
            let before = t.visits();
            assert_eq!(t.find(&3, |_| true), Some(3));
            assert!(t.next_deadline().is_some());
            assert_eq!(t.take_due(t0 + Duration::from_secs(100)), vec![0]);
            t.refresh();
            t.visits() - before
        };
        assert_eq!(cost(10), cost(20_000));
        assert!(cost(10) <= 6);
    }

    #[test]
    fn states_taken_as_due_do_not_slow_lookups_and_are_armed_again() {
        let t0 = Instant::now();
        let mut t = table(1000, t0);
        let late = t0 + Duration::from_secs(5000);
        assert_eq!(t.take_due(late).len(), 1000);
        let before = t.visits();
        assert_eq!(t.find(&7, |_| true), Some(7));
        assert_eq!(t.visits() - before, 1);
        // Before the refresh they still count for the next deadline ...
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(100)));
        // ... and after it they are armed again.
        t.refresh();
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(100)));
        assert_eq!(t.take_due(late).len(), 1000);
    }

    #[test]
    fn many_rearms_do_not_grow_the_heap_without_bound() {
        let t0 = Instant::now();
        let mut t = table(2, t0);
        for i in 0..10_000u64 {
            if let Some(s) = t.get_mut(&1) {
                s.at = Some(t0 + Duration::from_secs(1000 + i));
            }
            t.refresh();
        }
        assert!(t.heap.len() <= 65);
        assert_eq!(t.take_due(t0 + Duration::from_secs(100)), vec![0]);
    }
}
