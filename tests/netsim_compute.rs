//! Diffie-Hellman handed out as computations (a worker thread in the
//! daemon), on the virtual clock, in both roles and both phases: each
//! answer waits for its outcome, a repeated message meanwhile draws
//! nothing, and an outcome for a state that went away is dropped.
mod common;
use common::sim::*;
use rswan::ike::crypto::{DhError, DhGroup, DhKeyPair, DhProvider, NullDh};
use rswan::ike::rng::Rng;
use rswan::ike::state::StateKind;
use rswan::ike::{Command, Policy};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DELAY: Duration = Duration::from_millis(200);

fn offloading_pair(seed: u64, real_dh: bool) -> Net {
    let (w, e) = conn_pair("west-east", esp_tunnel_policy());
    let mut net = pair(seed, real_dh, w, e, "secret", "secret");
    net.compute_delay = Some(DELAY);
    net
}

#[test]
fn mr2_waits_for_the_outcome_and_the_tunnel_comes_up() {
    let mut net = offloading_pair(3, true);
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(10));
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    assert_eq!(east.established(false), 1, "{}", east.dump_logs());
    assert_eq!((west.established(true), east.established(true)), (1, 1));
    let (w, e) = (net.sent_by(1), net.sent_by(2));
    // west: MI1, MI2, MI3, QI1, QI2; east: MR1, MR2, MR3, QR1. No resends.
    assert_eq!((w.len(), e.len()), (5, 4), "{:?} {:?}", w, e);
    let mi2_arrives = w[1] + net.latency;
    assert!(
        e[1] >= mi2_arrives + DELAY,
        "MR2 at {:?}, MI2 arrived at {mi2_arrives:?}",
        e[1]
    );
    assert_eq!(east.ep.computations_outstanding(), 0);
}

#[test]
fn a_repeated_mi2_while_computing_draws_nothing() {
    let mut net = offloading_pair(4, false);
    net.duplicate = true;
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(10));
    let east = &net.nodes[1];
    assert_eq!(east.established(true), 1, "{}", east.dump_logs());
    let (w, e) = (net.sent_by(1), net.sent_by(2));
    // Both copies of MI2 arrive at once; MR2 goes out once, when the
    // outcome is back, and nothing (no MR1 again) in between.
    let mi2_arrives = w[1] + net.latency;
    let ready = mi2_arrives + DELAY;
    let between =
        |from: Duration, to: Duration| e.iter().filter(|t| **t >= from && **t < to).count();
    assert_eq!(between(mi2_arrives, ready), 0, "{e:?}");
    assert_eq!(between(ready, w[2]), 1, "one MR2 before MI3: {e:?} {w:?}");
    assert_eq!(east.ep.computations_outstanding(), 0);
    assert!(
        east.log_contains("duplicate"),
        "the repeated MI2 is noticed: {}",
        east.dump_logs()
    );
}

#[test]
fn an_outcome_for_a_deleted_state_is_dropped() {
    let mut net = offloading_pair(5, false);
    net.command(0, Command::Initiate("west-east".into()));
    // MI1 -> MR1 -> MI2 takes three latencies and the initiator's key
    // pair; stop while MR2 is computed.
    net.run(net.latency * 3 + DELAY + DELAY / 2);
    let east = &net.nodes[1];
    assert_eq!(
        east.ep.computations_outstanding(),
        1,
        "{}",
        east.dump_logs()
    );
    let st = east
        .states()
        .into_iter()
        .find(|s| s.kind == StateKind::MainR1)
        .expect("a responder state waits for its computation");
    let sent_before = net.sent_by(2).len();
    net.command(1, Command::DeleteState(st.serial));
    net.run(DELAY);
    let east = &net.nodes[1];
    assert_eq!(east.ep.computations_outstanding(), 0);
    assert_eq!(
        net.sent_by(2).len(),
        sent_before,
        "no MR2 for a deleted state"
    );
    assert!(east.states().iter().all(|s| s.serial != st.serial));
}

/// Key pairs made and shared secrets computed by one node's worker.
type Counts = Arc<Mutex<(u32, u32)>>;

/// Counts modular exponentiations (key pairs made, shared secrets
/// computed): a second computation for one step would show.
struct CountingDh(Counts);

impl DhProvider for CountingDh {
    fn generate(&self, group: DhGroup, rng: &mut dyn Rng) -> DhKeyPair {
        if let Ok(mut c) = self.0.lock() {
            c.0 += 1;
        }
        NullDh.generate(group, rng)
    }
    fn shared(&self, ours: &DhKeyPair, peer_public: &[u8]) -> Result<Vec<u8>, DhError> {
        if let Ok(mut c) = self.0.lock() {
            c.1 += 1;
        }
        NullDh.shared(ours, peer_public)
    }
    fn seed_len(&self, group: DhGroup) -> usize {
        NullDh.seed_len(group)
    }
}

/// West initiates Main Mode + Quick Mode with PFS to east, both handing
/// their computations out; returns the net and each side's counts.
fn pfs_pair(seed: u64, duplicate: bool) -> (Net, [Counts; 2]) {
    let policy = Policy {
        pfs: true,
        ..esp_tunnel_policy()
    };
    let (w, e) = conn_pair("west-east", policy);
    let counts = [Arc::new(Mutex::new((0, 0))), Arc::new(Mutex::new((0, 0)))];
    let mut net = Net::new(seed);
    let wi = net.add_node_dh(
        "west",
        ip(1),
        seed + 1,
        Arc::new(CountingDh(counts[0].clone())),
    );
    let ei = net.add_node_dh(
        "east",
        ip(2),
        seed + 2,
        Arc::new(CountingDh(counts[1].clone())),
    );
    net.command(wi, Command::AddConnection(Box::new(w)));
    net.command(ei, Command::AddConnection(Box::new(e)));
    net.command(wi, Command::LoadSecrets(psk_secrets("secret")));
    net.command(ei, Command::LoadSecrets(psk_secrets("secret")));
    net.compute_delay = Some(DELAY);
    net.duplicate = duplicate;
    net.command(wi, Command::Initiate("west-east".into()));
    (net, counts)
}

/// The steps that wait for a computation, from the times each side sent:
/// (who answers, when the message that asks arrived there, what the
/// computation is). West sends MI1 MI2 MI3 QI1 QI2, east MR1 MR2 MR3 QR1.
fn waiting_steps(w: &[Duration], e: &[Duration], l: Duration) -> Vec<(u8, Duration, &'static str)> {
    vec![
        (1, e[0] + l, "west's key pair for MI2"),
        (2, w[1] + l, "east's key pair and g^xy for MR2"),
        (1, e[1] + l, "west's g^xy for MI3"),
        // QI1 has no message that asks: Quick Mode starts when MR3 arrives.
        (1, e[2] + l, "west's PFS key pair for QI1"),
        (2, w[3] + l, "east's PFS key pair and g^xy for QR1"),
        (1, e[3] + l, "west's PFS g^xy for QI2"),
    ]
}

#[test]
fn every_exponentiation_in_both_roles_waits_for_its_outcome() {
    let (mut net, counts) = pfs_pair(11, false);
    net.run(Duration::from_secs(10));
    for n in &net.nodes {
        assert_eq!(n.established(false), 1, "{}", n.dump_logs());
        assert_eq!(n.established(true), 1, "{}", n.dump_logs());
        assert_eq!(n.ep.computations_outstanding(), 0);
    }
    let (w, e) = (net.sent_by(1), net.sent_by(2));
    assert_eq!((w.len(), e.len()), (5, 4), "no resends: {w:?} {e:?}");
    let l = net.latency;
    // Each answer goes out once its computation is back, not earlier and
    // not a retransmission later; MR3 (PSK) needs none.
    let answers = [w[1], e[1], w[2], w[3], e[3], w[4]];
    for ((who, asked, what), sent) in waiting_steps(&w, &e, l).into_iter().zip(answers) {
        assert!(
            sent >= asked + DELAY && sent < asked + DELAY + l,
            "{what}: node {who} asked at {asked:?}, sent at {sent:?}"
        );
    }
    assert_eq!(e[2], w[2] + l, "MR3 answers MI3 at once");
    // Four exponentiations per side, each once.
    for c in &counts {
        assert_eq!(*c.lock().unwrap(), (2, 2), "(key pairs, shared secrets)");
    }
}

#[test]
fn copies_of_a_message_while_its_answer_is_computed_ask_for_nothing() {
    let (mut net, counts) = pfs_pair(12, true);
    net.run(Duration::from_secs(10));
    for n in &net.nodes {
        assert_eq!(n.established(true), 1, "{}", n.dump_logs());
        assert_eq!(n.ep.computations_outstanding(), 0);
    }
    for c in &counts {
        assert_eq!(*c.lock().unwrap(), (2, 2), "one computation per step");
    }
    // Every datagram arrives twice (and the responder answers a repeated
    // MI1 again): the answer is still sent once, when its computation is
    // back, and nothing goes out while it is computed.
    let (w, e) = (net.sent_by(1), net.sent_by(2));
    let sent = |who: u8| if who == 1 { &w } else { &e };
    let between = |who: u8, from: Duration, to: Duration| {
        sent(who).iter().filter(|t| **t >= from && **t < to).count()
    };
    let waits = waiting_steps(&dedup(&w), &dedup(&e), net.latency);
    for (who, asked, what) in waits {
        assert_eq!(between(who, asked, asked + DELAY), 0, "{what}: {w:?} {e:?}");
        assert_eq!(
            between(who, asked + DELAY, asked + DELAY + net.latency),
            1,
            "{what}: one answer: {w:?} {e:?}"
        );
    }
    for n in &net.nodes {
        assert!(n.log_contains("duplicate"), "{}", n.dump_logs());
    }
}

/// Send times with the responder's second MR1 (for the repeated MI1)
/// taken out: the messages of the exchange in order.
fn dedup(times: &[Duration]) -> Vec<Duration> {
    let mut out: Vec<Duration> = Vec::new();
    for t in times {
        if out.last() != Some(t) {
            out.push(*t);
        }
    }
    out
}

/// Runs `net` in steps of a millisecond until `done` holds (at most ten
/// seconds of virtual time).
fn run_until(net: &mut Net, done: impl Fn(&Net) -> bool) {
    for _ in 0..10_000 {
        if done(net) {
            return;
        }
        net.advance(Duration::from_millis(1));
    }
    panic!("never got there");
}

#[test]
fn an_initiator_state_deleted_while_its_key_pair_is_made_sends_nothing() {
    let (mut net, counts) = pfs_pair(13, false);
    run_until(&mut net, |n| n.nodes[0].ep.computations_outstanding() == 1);
    let west = &net.nodes[0];
    let st = west
        .states()
        .into_iter()
        .find(|s| s.kind == StateKind::MainI1)
        .expect("the initiator waits in MAIN_I1 for its key pair");
    assert_eq!(net.sent_by(1).len(), 1, "MI1 only");
    net.command(0, Command::DeleteState(st.serial));
    net.run(DELAY * 2);
    let west = &net.nodes[0];
    assert_eq!(west.ep.computations_outstanding(), 0);
    assert_eq!(net.sent_by(1).len(), 1, "no MI2 for a deleted state");
    assert!(west.states().is_empty(), "{}", west.dump_logs());
    // The worker did make the pair; its outcome was dropped.
    assert_eq!(*counts[0].lock().unwrap(), (1, 0));
}

#[test]
fn a_quick_mode_state_deleted_while_its_pfs_is_computed_sends_nothing() {
    let (mut net, counts) = pfs_pair(14, false);
    // East waits for its PFS key pair and g^xy, QI1 in hand.
    run_until(&mut net, |n| {
        n.nodes[1].ep.computations_outstanding() == 1
            && n.nodes[1]
                .states()
                .iter()
                .any(|s| s.kind == StateKind::QuickR0)
    });
    let east = &net.nodes[1];
    let st = east
        .states()
        .into_iter()
        .find(|s| s.kind == StateKind::QuickR0)
        .expect("a Quick Mode responder state");
    let sent_before = net.sent_by(2).len();
    assert_eq!(sent_before, 3, "MR1 MR2 MR3");
    net.command(1, Command::DeleteState(st.serial));
    net.run(DELAY * 2);
    let east = &net.nodes[1];
    assert_eq!(east.ep.computations_outstanding(), 0);
    assert_eq!(
        net.sent_by(2).len(),
        sent_before,
        "no QR1 for a deleted state"
    );
    assert!(east.states().iter().all(|s| s.serial != st.serial));
    assert_eq!(east.established(true), 0);
    // Its SPI went back to the kernel with the state.
    assert!(east.kernel.sas.is_empty(), "{:?}", east.kernel.sas);
    assert_eq!(*counts[1].lock().unwrap(), (2, 2), "MM's two, QM's two");
}

#[test]
fn an_initiator_quick_mode_state_deleted_while_g_xy_is_computed_installs_nothing() {
    let (mut net, _) = pfs_pair(15, false);
    // West has QR1 and waits for g^xy.
    run_until(&mut net, |n| {
        n.sent_by(2).len() == 4 && n.nodes[0].ep.computations_outstanding() == 1
    });
    let west = &net.nodes[0];
    let st = west
        .states()
        .into_iter()
        .find(|s| s.ipsec)
        .expect("a Quick Mode initiator state");
    assert_eq!(st.kind, StateKind::QuickI1, "unchanged until g^xy is back");
    net.command(0, Command::DeleteState(st.serial));
    net.run(DELAY * 2);
    let west = &net.nodes[0];
    assert_eq!(west.ep.computations_outstanding(), 0);
    assert_eq!(net.sent_by(1).len(), 4, "no QI2: {}", west.dump_logs());
    assert!(west.kernel.sas.is_empty(), "{:?}", west.kernel.sas);
    assert_eq!(west.established(true), 0);
}
