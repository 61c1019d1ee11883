//! Expensive arithmetic the engine hands out instead of doing it on the
//! caller's thread: a responder's Diffie-Hellman on MI2 (its key pair and
//! g^xy, two modular exponentiations) is most of what a negotiation costs.
//!
//! The engine stays sans-IO: it draws the random bytes itself, queues a
//! [`Computation`] (pure arithmetic on owned data, runnable on any thread
//! with [`Work::run`]) and takes the [`Outcome`] back through
//! [`Endpoint::handle_computed`]. In the default mode the engine runs the
//! work itself before the input that asked for it returns, so callers that
//! never poll computations see no difference.
//!
//! Under load, the queue is bounded: a computation is asked for only while
//! fewer than [`MAX_OUTSTANDING`] are out, with room kept for configured
//! peers (see `half_open` for the tiers): an MI2 from a source only a `%any`
//! connection accepts is dropped once [`MAX_OUTSTANDING_STRANGERS`] are out.
//! The peer resends MI2, which is answered when the queue has drained.

use super::crypto::{DhError, DhGroup, DhKeyPair, DhProvider};
use super::endpoint::Endpoint;
use super::rng::Rng;
use std::time::Instant;

/// Computations handed out and not yet returned, at most (about two
/// seconds of work for one helper thread: an answer later than that would
/// meet the peer's retransmission anyway) ...
pub const MAX_OUTSTANDING: usize = 4096;
/// ... and for exchanges with sources that no connection names.
pub const MAX_OUTSTANDING_STRANGERS: usize = 3072;

/// One piece of work; `id` comes back with its outcome.
#[derive(Debug)]
pub struct Computation {
    pub id: u64,
    pub work: Work,
}

/// The arithmetic itself, with everything it needs.
pub enum Work {
    /// Our key pair from `seed` (random bytes the engine drew) and g^xy
    /// with `peer`'s public value (already validated by the engine).
    Dh {
        group: DhGroup,
        seed: Vec<u8>,
        peer: Vec<u8>,
    },
}

/// The random bytes are secret: never printed.
impl core::fmt::Debug for Work {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Work::Dh { group, .. } => write!(f, "Dh({})", group.name()),
        }
    }
}

/// What a [`Work`] produced.
#[derive(Debug)]
pub enum Outcome {
    Dh {
        pair: DhKeyPair,
        shared: Result<Vec<u8>, DhError>,
    },
}

impl Work {
    /// Does the arithmetic. Pure: safe to run on any thread.
    pub fn run(self, dh: &dyn DhProvider) -> Outcome {
        match self {
            Work::Dh { group, seed, peer } => {
                let pair = dh.generate(group, &mut Drawn { bytes: seed, at: 0 });
                let shared = dh.shared(&pair, &peer);
                Outcome::Dh { pair, shared }
            }
        }
    }
}

/// Replays random bytes drawn earlier (zeros past their end, which the
/// engine prevents by drawing `seed_len` bytes).
struct Drawn {
    bytes: Vec<u8>,
    at: usize,
}

impl Rng for Drawn {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf.iter_mut() {
            *b = self.bytes.get(self.at).copied().unwrap_or(0);
            self.at += 1;
        }
    }
}

/// Which step continues when an outcome comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Then {
    /// Responder: build and send MR2 for this ISAKMP state.
    Mr2 { serial: u64 },
}

/// The engine's side of the queue.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    /// Hand computations out instead of running them in place.
    pub(crate) offload: bool,
    next_id: u64,
    waiting: std::collections::VecDeque<Computation>,
    /// Out (queued or handed out) and not returned, by id.
    out: std::collections::HashMap<u64, (Then, bool)>,
    strangers: usize,
}

impl Queue {
    /// Whether a computation for a stranger (`stranger`) may be asked for now.
    pub(crate) fn has_room(&self, stranger: bool) -> bool {
        self.out.len() < MAX_OUTSTANDING
            && (!stranger || self.strangers < MAX_OUTSTANDING_STRANGERS)
    }

    pub(crate) fn push(&mut self, work: Work, then: Then, stranger: bool) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.out.insert(id, (then, stranger));
        if stranger {
            self.strangers += 1;
        }
        self.waiting.push_back(Computation { id, work });
        id
    }

    pub(crate) fn pop(&mut self) -> Option<Computation> {
        self.waiting.pop_front()
    }

    /// The step an outcome continues, if `id` is out.
    pub(crate) fn take(&mut self, id: u64) -> Option<Then> {
        let (then, stranger) = self.out.remove(&id)?;
        if stranger {
            self.strangers -= 1;
        }
        Some(then)
    }

    pub(crate) fn outstanding(&self) -> usize {
        self.out.len()
    }
}

impl Endpoint {
    /// Hand computations out through [`Endpoint::poll_computation`] instead
    /// of running them in place (a daemon with worker threads).
    pub fn set_offload(&mut self, on: bool) {
        self.compute.offload = on;
    }

    /// The next computation to run, when offloading; its outcome goes to
    /// [`Endpoint::handle_computed`].
    pub fn poll_computation(&mut self) -> Option<Computation> {
        if self.compute.offload {
            self.compute.pop()
        } else {
            None
        }
    }

    /// How many computations are out and not yet returned.
    pub fn computations_outstanding(&self) -> usize {
        self.compute.outstanding()
    }

    /// The outcome of computation `id`. Outcomes for states that went away
    /// meanwhile are dropped.
    pub fn handle_computed(&mut self, now: Instant, id: u64, outcome: Outcome) {
        self.clock = Some(now);
        let Some(then) = self.compute.take(id) else {
            return;
        };
        match then {
            Then::Mr2 { serial } => self.responder_mr2(now, serial, outcome),
        }
        self.settle();
    }

    /// Queues `work` (see [`Endpoint::run_in_place`]).
    pub(crate) fn ask(&mut self, work: Work, then: Then, stranger: bool) {
        self.compute.push(work, then, stranger);
    }

    /// In the default mode, runs what the input just handled asked for:
    /// after that input's own bookkeeping, as a worker's outcome would be.
    pub(crate) fn run_in_place(&mut self, now: Instant) {
        if self.compute.offload {
            return;
        }
        while let Some(c) = self.compute.pop() {
            let outcome = c.work.run(self.dh.as_ref());
            self.handle_computed(now, c.id, outcome);
        }
    }

    /// Random bytes for a key pair of `group` made elsewhere.
    pub(crate) fn dh_seed(&mut self, group: DhGroup) -> Vec<u8> {
        let mut seed = vec![0u8; self.dh.seed_len(group)];
        self.rng.fill(&mut seed);
        seed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::crypto::{ModpDh, NullDh};
    use crate::ike::rng::SeededRng;

    #[test]
    fn work_elsewhere_makes_the_pair_generate_would() {
        for dh in [&ModpDh as &dyn DhProvider, &NullDh] {
            let group = DhGroup::Modp1024;
            let mut seed = vec![0u8; dh.seed_len(group)];
            SeededRng::new(5).fill(&mut seed);
            let direct = dh.generate(group, &mut SeededRng::new(5));
            let peer = dh.generate(group, &mut SeededRng::new(6));
            let Outcome::Dh { pair, shared } = Work::Dh {
                group,
                seed,
                peer: peer.public.clone(),
            }
            .run(dh);
            assert_eq!(pair.public, direct.public);
            assert_eq!(shared, dh.shared(&peer, &pair.public));
        }
    }

    #[test]
    fn strangers_leave_room_for_configured_peers() {
        let mut q = Queue::default();
        let w = || Work::Dh {
            group: DhGroup::Modp1024,
            seed: Vec::new(),
            peer: Vec::new(),
        };
        let mut ids = Vec::new();
        while q.has_room(true) {
            ids.push(q.push(w(), Then::Mr2 { serial: 1 }, true));
        }
        assert_eq!(ids.len(), MAX_OUTSTANDING_STRANGERS);
        assert!(q.has_room(false));
        while q.has_room(false) {
            q.push(w(), Then::Mr2 { serial: 2 }, false);
        }
        assert_eq!(q.outstanding(), MAX_OUTSTANDING);
        assert!(!q.has_room(true));
        assert_eq!(q.take(ids[0]), Some(Then::Mr2 { serial: 1 }));
        assert_eq!(q.take(ids[0]), None, "an outcome counts once");
        assert!(q.has_room(true) && q.has_room(false));
    }
}
