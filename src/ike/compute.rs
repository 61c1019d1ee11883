//! Expensive arithmetic the engine hands out instead of doing it on the
//! caller's thread: the modular exponentiations of Diffie-Hellman (four per
//! side in Main Mode + Quick Mode with PFS) and RSA signatures are most of
//! what a negotiation costs.
//!
//! Each step that needs one asks for it and stops: the state keeps its kind,
//! nothing is sent, and the state records the computation it waits for
//! (`computing`), so that a resent or different copy of the peer's message
//! meanwhile queues nothing more. The outcome resumes the step
//! ([`Then`]); an outcome for a state that went away, or that no longer
//! waits for it, is dropped.
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
//! The peer resends MI2, which is answered when the queue has drained. The
//! other messages that need a computation (MR1, MR2, MI3 with RSA, QR1 with
//! PFS, a QI1 with PFS before its state is made) are dropped the same way
//! when the queue is full, they come from peers we initiated to or that
//! proved themselves; our own QI1 always asks.

use super::crypto::rsa::{RsaError, RsaPrivateKeyParts};
use super::crypto::{DhError, DhGroup, DhKeyPair, DhProvider};
use super::endpoint::{Endpoint, Level};
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
    /// with `peer`'s public value (already validated by the engine): a
    /// responder, in Main Mode and in Quick Mode with PFS.
    Dh {
        group: DhGroup,
        seed: Vec<u8>,
        peer: Vec<u8>,
    },
    /// Our key pair only: an initiator's, before MI2 or QI1 carries it.
    KeyPair { group: DhGroup, seed: Vec<u8> },
    /// g^xy of our key pair (moved here, and back in the outcome) and the
    /// peer's public value: an initiator's, on MR2 or QR1.
    Shared { pair: DhKeyPair, peer: Vec<u8> },
    /// Our RSA signature over a raw IKEv1 hash (MI3/MR3).
    Sign {
        key: Box<RsaPrivateKeyParts>,
        hash: Vec<u8>,
    },
}

/// The random bytes and keys are secret: never printed.
impl core::fmt::Debug for Work {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Work::Dh { group, .. } => write!(f, "Dh({})", group.name()),
            Work::KeyPair { group, .. } => write!(f, "KeyPair({})", group.name()),
            Work::Shared { pair, .. } => write!(f, "Shared({})", pair.group.name()),
            Work::Sign { hash, .. } => write!(f, "Sign({} bytes)", hash.len()),
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
    KeyPair(DhKeyPair),
    Shared {
        pair: DhKeyPair,
        shared: Result<Vec<u8>, DhError>,
    },
    Signed(Result<Vec<u8>, RsaError>),
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
            Work::KeyPair { group, seed } => {
                Outcome::KeyPair(dh.generate(group, &mut Drawn { bytes: seed, at: 0 }))
            }
            Work::Shared { pair, peer } => {
                let shared = dh.shared(&pair, &peer);
                Outcome::Shared { pair, shared }
            }
            Work::Sign { key, hash } => Outcome::Signed(key.sign_pkcs1_raw(&hash)),
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

/// Which step continues when an outcome comes back, for which state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Then {
    /// Responder: build and send MR2 for this ISAKMP state.
    Mr2 { serial: u64 },
    /// Initiator: send MI2 with the key pair.
    Mi2 { serial: u64 },
    /// Initiator: derive the keys from g^xy of MR2 and prove our identity.
    Mi3 { serial: u64 },
    /// Either role: send MI3/MR3 with the signature.
    Signed { serial: u64 },
    /// Initiator: send QI1 with the key pair.
    Qi1 { serial: u64 },
    /// Responder: send QR1 with the key pair, g^xy kept for KEYMAT.
    Qr1 { serial: u64 },
    /// Initiator: handle QR1 (the datagram, kept here) again with g^xy known.
    Qr1In { serial: u64, qr1: Vec<u8> },
}

impl Then {
    /// The state that waits: an IPsec (true) or ISAKMP state, and its serial.
    fn state(&self) -> (bool, u64) {
        match self {
            Then::Mr2 { serial }
            | Then::Mi2 { serial }
            | Then::Mi3 { serial }
            | Then::Signed { serial } => (false, *serial),
            Then::Qi1 { serial } | Then::Qr1 { serial } | Then::Qr1In { serial, .. } => {
                (true, *serial)
            }
        }
    }
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
        self.resume(now, id, outcome);
        self.settle();
    }

    /// Continues the step that asked for computation `id`, if its state
    /// still waits for it.
    fn resume(&mut self, now: Instant, id: u64, outcome: Outcome) {
        let Some(then) = self.compute.take(id) else {
            return;
        };
        let (phase2, serial) = then.state();
        let waits = if phase2 {
            self.p2.get_mut(&serial).map(|s| &mut s.computing)
        } else {
            self.p1.get_mut(&serial).map(|s| &mut s.computing)
        };
        match waits {
            Some(w) if *w == Some(id) => *w = None,
            // Deleted, evicted or expired meanwhile.
            _ => return,
        }
        match (then, outcome) {
            (Then::Mr2 { serial }, Outcome::Dh { pair, shared }) => {
                self.responder_mr2(now, serial, pair, shared)
            }
            (Then::Mi2 { serial }, Outcome::KeyPair(pair)) => self.initiator_mi2(now, serial, pair),
            (Then::Mi3 { serial }, Outcome::Shared { pair, shared }) => {
                self.initiator_mi3(now, serial, pair, shared)
            }
            (Then::Signed { serial }, Outcome::Signed(sig)) => self.signed_id(now, serial, sig),
            (Then::Qi1 { serial }, Outcome::KeyPair(pair)) => {
                self.quick_resumed(now, serial, pair, None)
            }
            (Then::Qr1 { serial }, Outcome::Dh { pair, shared }) => {
                self.quick_resumed(now, serial, pair, Some(shared))
            }
            (Then::Qr1In { serial, qr1 }, Outcome::Shared { pair, shared }) => {
                self.initiator_qr1_resumed(now, serial, pair, shared, &qr1)
            }
            (then, outcome) => self.log(
                Level::Error,
                None,
                Some(serial),
                None,
                format!("internal error: {outcome:?} does not continue {then:?}"),
            ),
        }
    }

    /// Queues `work` for the step `then`, which the state waits for from
    /// now on (see [`Endpoint::run_in_place`]). Returns false, asking
    /// nothing, when the state is gone.
    pub(crate) fn ask(&mut self, work: Work, then: Then, stranger: bool) -> bool {
        let (phase2, serial) = then.state();
        let exists = if phase2 {
            self.p2.contains_key(&serial)
        } else {
            self.p1.contains_key(&serial)
        };
        if !exists {
            return false;
        }
        let id = self.compute.push(work, then, stranger);
        let waits = if phase2 {
            self.p2.get_mut(&serial).map(|s| &mut s.computing)
        } else {
            self.p1.get_mut(&serial).map(|s| &mut s.computing)
        };
        if let Some(w) = waits {
            *w = Some(id);
        }
        true
    }

    /// In the default mode, runs what the input just handled asked for
    /// (and what those steps ask for in turn): after that input's own
    /// bookkeeping, as a worker's outcome would be. Part of `settle`.
    pub(crate) fn run_in_place(&mut self) {
        if self.compute.offload {
            return;
        }
        let Some(now) = self.clock else {
            return;
        };
        while let Some(c) = self.compute.pop() {
            let outcome = c.work.run(self.dh.as_ref());
            self.resume(now, c.id, outcome);
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
    fn work_elsewhere_makes_what_generate_and_shared_would() {
        for dh in [&ModpDh as &dyn DhProvider, &NullDh] {
            let group = DhGroup::Modp1024;
            let mut seed = vec![0u8; dh.seed_len(group)];
            SeededRng::new(5).fill(&mut seed);
            let direct = dh.generate(group, &mut SeededRng::new(5));
            let peer = dh.generate(group, &mut SeededRng::new(6));
            let expected = dh.shared(&peer, &direct.public);
            let Outcome::Dh { pair, shared } = (Work::Dh {
                group,
                seed: seed.clone(),
                peer: peer.public.clone(),
            })
            .run(dh) else {
                panic!("Dh gives a pair and a secret");
            };
            assert_eq!(pair.public, direct.public);
            assert_eq!(shared, expected);
            // The initiator's two halves of the same arithmetic.
            let Outcome::KeyPair(pair) = (Work::KeyPair { group, seed }).run(dh) else {
                panic!("KeyPair gives a pair");
            };
            assert_eq!(pair.public, direct.public);
            let Outcome::Shared { pair, shared } = (Work::Shared {
                pair,
                peer: peer.public.clone(),
            })
            .run(dh) else {
                panic!("Shared gives the pair back and a secret");
            };
            assert_eq!(pair.public, direct.public, "the pair comes back");
            assert_eq!(shared, expected);
            // A public value out of range is refused, not computed with.
            let Outcome::Shared { shared, .. } = (Work::Shared {
                pair,
                peer: vec![0; group.len()],
            })
            .run(dh) else {
                panic!("Shared gives the pair back and a secret");
            };
            assert!(shared.is_err());
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

    /// With the queue full, MR1 (which needs our key pair) is dropped
    /// unremembered; the responder's resend of it, once there is room, is
    /// answered.
    #[test]
    fn a_full_queue_drops_mr1_and_its_resend_is_answered() {
        use crate::ike::dpd::tests::{endpoint, CONN};
        use crate::ike::state::StateKind;
        use crate::ike::Command;
        let now = Instant::now();
        let (mut west, mut east) = (endpoint(1, 2, 11, None), endpoint(2, 1, 12, None));
        west.set_offload(true);
        east.set_offload(true);
        let mut filler = Vec::new();
        while west.compute.has_room(false) {
            let work = Work::KeyPair {
                group: DhGroup::Modp1024,
                seed: Vec::new(),
            };
            filler.push(
                west.compute
                    .push(work, Then::Mi2 { serial: u64::MAX }, false),
            );
        }
        assert!(west
            .handle_command(now, Command::Initiate(CONN.into()))
            .is_ok());
        let mi1 = west.poll_transmit().expect("MI1");
        east.handle_datagram(now, mi1.remote, mi1.local, &mi1.payload);
        let mr1 = east.poll_transmit().expect("MR1");
        west.handle_datagram(now, mr1.remote, mr1.local, &mr1.payload);
        assert!(west.poll_transmit().is_none(), "no MI2 without a key pair");
        assert_eq!(west.computations_outstanding(), MAX_OUTSTANDING);
        let st = west.p1.values().next().expect("the initiator's state");
        assert_eq!((st.kind, st.computing), (StateKind::MainI1, None));
        // The queue drains (outcomes for no state are dropped) ...
        while west.poll_computation().is_some() {}
        for id in filler {
            west.handle_computed(now, id, Outcome::Signed(Err(RsaError::Fault)));
        }
        assert_eq!(west.computations_outstanding(), 0);
        // ... and the same MR1 again is not taken for a duplicate.
        west.handle_datagram(now, mr1.remote, mr1.local, &mr1.payload);
        let c = west.poll_computation().expect("the key pair is asked for");
        assert!(west.poll_transmit().is_none());
        let outcome = c.work.run(&NullDh);
        west.handle_computed(now, c.id, outcome);
        assert!(west.poll_transmit().is_some(), "MI2");
        let st = west.p1.values().next().expect("the initiator's state");
        assert_eq!((st.kind, st.computing), (StateKind::MainI2, None));
    }
}
