//! A responder's Diffie-Hellman handed out as a computation (a worker
//! thread in the daemon), on the virtual clock: MR2 waits for the outcome,
//! a repeated MI2 meanwhile draws nothing, and an outcome for a state that
//! went away is dropped.
mod common;
use common::sim::*;
use rswan::ike::state::StateKind;
use rswan::ike::Command;
use std::time::Duration;

const DELAY: Duration = Duration::from_millis(200);

fn offloading_pair(seed: u64, real_dh: bool) -> Net {
    let (w, e) = conn_pair("west-east", esp_tunnel_policy());
    let mut net = pair(seed, real_dh, w, e, "secret", "secret");
    net.compute_delay = Some(DELAY);
    net
}

/// Datagrams `from` sent, in order, with their times since the start.
fn sent_by(net: &Net, from: u8) -> Vec<Duration> {
    net.wire
        .iter()
        .filter(|p| p.from.ip() == ip(from))
        .map(|p| p.at - net.start)
        .collect()
}

#[test]
fn mr2_waits_for_the_outcome_and_the_tunnel_comes_up() {
    let mut net = offloading_pair(3, true);
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(10));
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    assert_eq!(east.established(false), 1, "{}", east.dump_logs());
    assert_eq!((west.established(true), east.established(true)), (1, 1));
    let (w, e) = (sent_by(&net, 1), sent_by(&net, 2));
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
    let (w, e) = (sent_by(&net, 1), sent_by(&net, 2));
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
    let sent_before = sent_by(&net, 2).len();
    net.command(1, Command::DeleteState(st.serial));
    net.run(DELAY);
    let east = &net.nodes[1];
    assert_eq!(east.ep.computations_outstanding(), 0);
    assert_eq!(
        sent_by(&net, 2).len(),
        sent_before,
        "no MR2 for a deleted state"
    );
    assert!(east.states().iter().all(|s| s.serial != st.serial));
}
