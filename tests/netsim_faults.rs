//! A hostile network: (c) heavy seeded loss, (d) duplicated and replayed
//! datagrams, (e) a wrong pre-shared key.
mod common;
use common::sim::*;
use rswan::ike::crypto::{CipherAlg, DhGroup, HashAlg};
use rswan::ike::proposal::{AuthMethod, IkeTransform};
use rswan::ike::wire::{exchange, parse_header};
use rswan::ike::{Command, Event, Policy};
use std::time::{Duration, Instant};

const CONN: &str = "west-east";

fn net_pair(seed: u64, psk_w: &str, psk_e: &str) -> Net {
    let (w, e) = conn_pair(CONN, esp_tunnel_policy());
    pair(seed, false, w, e, psk_w, psk_e)
}

fn logs(net: &Net) -> String {
    net.nodes.iter().map(Node::dump_logs).collect()
}

/// How one lossy run ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Both ends have the ISAKMP SA and the IPsec SA, matching.
    Completed,
    /// Someone gave up; whatever is left matches on both ends.
    Failed,
    /// IKEv1's last-message ambiguity, the one way the ends can disagree:
    /// every copy of the final message of an exchange (MR3, or QI2 and then
    /// the responder's Delete) was lost, so one end holds an SA the other
    /// never finished. Nothing else may differ.
    LastMessageLost,
}

/// Every keying attempt fits well inside this: 3 attempts of at most 70 s
/// of Main Mode and 70 s of Quick Mode, and lifetimes are far longer.
const LIMIT: Duration = Duration::from_secs(900);

fn header(p: &Packet) -> Option<rswan::ike::wire::Header> {
    parse_header(&p.data).ok().map(|(h, _)| h)
}

/// East's latest MR3 (encrypted Main Mode reply) never arrived, in any copy.
fn last_mr3_all_lost(net: &Net) -> bool {
    let mr3 = |p: &Packet| {
        p.from.ip() == ip(2)
            && header(p)
                .is_some_and(|h| h.exchange == exchange::IDENTITY_PROTECTION && h.flags & 1 != 0)
    };
    let Some(last) = net.wire.iter().rposition(mr3) else {
        return false;
    };
    let cookies = |i: usize| header(&net.wire[i]).map(|h| (h.icookie, h.rcookie));
    (0..net.wire.len())
        .filter(|&i| mr3(&net.wire[i]) && cookies(i) == cookies(last))
        .all(|i| net.lost[i])
}

/// Some Quick Mode whose every QI2 was lost, and every Informational east
/// sent after the first of them (its Delete) too.
fn qi2_and_delete_all_lost(net: &Net) -> bool {
    let quick_from_west = |i: usize| {
        net.wire[i].from.ip() == ip(1)
            && header(&net.wire[i]).is_some_and(|h| h.exchange == exchange::QUICK)
    };
    let msgids: Vec<u32> = (0..net.wire.len())
        .filter(|&i| quick_from_west(i))
        .filter_map(|i| header(&net.wire[i]).map(|h| h.msgid))
        .collect();
    msgids.iter().any(|m| {
        let ours: Vec<usize> = (0..net.wire.len())
            .filter(|&i| quick_from_west(i) && header(&net.wire[i]).is_some_and(|h| h.msgid == *m))
            .collect();
        let Some(first) = ours.first() else {
            return false;
        };
        // QI1 and its retransmissions are one byte string; QI2 is another.
        let qi2: Vec<usize> = ours
            .iter()
            .copied()
            .filter(|&i| net.wire[i].data != net.wire[*first].data)
            .collect();
        let Some(&from) = qi2.first() else {
            return false;
        };
        let deletes = (from..net.wire.len()).filter(|&i| {
            net.wire[i].from.ip() == ip(2)
                && header(&net.wire[i]).is_some_and(|h| h.exchange == exchange::INFORMATIONAL)
        });
        qi2.iter().all(|&i| net.lost[i]) && deletes.into_iter().all(|i| net.lost[i])
    })
}

fn lossy_run(seed: u64, loss: u32, duplicate: bool, policy: Policy) -> Result<Outcome, String> {
    let (w, e) = conn_pair(CONN, policy);
    let mut net = pair(seed, false, w, e, "secret", "secret");
    net.loss_percent = loss;
    net.duplicate = duplicate;
    net.command(0, Command::Initiate(CONN.into()));
    // Net::run asserts if the simulation never settles; returning is the check.
    net.run(LIMIT);
    let report = |what: String| format!("seed {seed}: {what}\n{}", logs(&net));
    let settle = net.settle(0, 1);
    if let Some(p) = settle.problems.first() {
        return Err(report(p.clone()));
    }
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    let gave_up = net.nodes.iter().any(|n| {
        n.failures()
            .iter()
            .any(|(_, r)| r.contains("max number of retransmissions"))
    });
    let [wi, ei] = settle.isakmp;
    let [wo, eo] = settle.ipsec_orphans;
    if (wi, wo, eo) == (ei, 0, 0) {
        return match (west.established(true), east.established(true)) {
            (1, 1) if wi == 1 => Ok(Outcome::Completed),
            (0, 0) if gave_up => Ok(Outcome::Failed),
            other => Err(report(format!("{other:?} IPsec SAs, gave up: {gave_up}"))),
        };
    }
    // Only the last-message cases may remain, each shown by the losses.
    let isakmp_ok = wi == ei
        || (ei == wi + 1
            && last_mr3_all_lost(&net)
            && west
                .failures()
                .iter()
                .any(|(_, r)| r.ends_with("STATE_MAIN_I3")));
    let ipsec_ok = eo == 0
        && (wo == 0
            || (wo == 1
                && qi2_and_delete_all_lost(&net)
                && east.log_contains("max number of retransmissions (2) reached STATE_QUICK_R1")));
    if isakmp_ok && ipsec_ok {
        return Ok(Outcome::LastMessageLost);
    }
    Err(report(format!("unexplained difference: {settle:?}")))
}

/// Runs 200 seeds; returns (completed, failed, last message lost).
fn lossy_runs(what: &str, duplicate: bool, policy: Policy) -> (u32, u32, u32) {
    let started = Instant::now();
    let (mut completed, mut failed, mut last_lost) = (0, 0, 0);
    let mut bad = Vec::new();
    for seed in 0..200 {
        match lossy_run(seed, 30, duplicate, policy) {
            Ok(Outcome::Completed) => completed += 1,
            Ok(Outcome::Failed) => failed += 1,
            Ok(Outcome::LastMessageLost) => last_lost += 1,
            Err(e) => bad.push(e),
        }
    }
    eprintln!(
        "{what}, 30% loss, 200 seeds: {completed} completed, {failed} failed cleanly, \
         {last_lost} lost every copy of a final message, {} bad, in {:?}",
        bad.len(),
        started.elapsed()
    );
    for b in &bad {
        eprintln!("BAD {}", b.lines().next().unwrap_or_default());
    }
    assert!(bad.is_empty(), "{} bad runs; first:\n{}", bad.len(), bad[0]);
    (completed, failed, last_lost)
}

#[test]
fn c_loss_30_percent() {
    let (completed, failed, last_lost) = lossy_runs("ESP tunnel", false, esp_tunnel_policy());
    assert_eq!(completed + failed + last_lost, 200);
    assert!(completed > 150, "only {completed} of 200 completed");
}

#[test]
fn c_loss_30_percent_with_duplicates_pfs_ah_and_ipcomp() {
    let policy = Policy {
        authenticate: true,
        compress: true,
        pfs: true,
        ..esp_tunnel_policy()
    };
    let (completed, _, _) = lossy_runs("AH+ESP+IPCOMP, PFS, duplicated", true, policy);
    assert!(completed > 150, "only {completed} of 200 completed");
}

/// Datagrams of the given exchange type, in the order sent.
fn of_exchange(net: &Net, ex: u8) -> Vec<Packet> {
    net.wire
        .iter()
        .filter(|p| parse_header(&p.data).is_ok_and(|(h, _)| h.exchange == ex))
        .cloned()
        .collect()
}

fn assert_one_of_each(net: &Net) {
    for n in &net.nodes {
        let states = n.states();
        assert_eq!(states.len(), 2, "{}: {states:?}\n{}", n.name, logs(net));
        assert_eq!(n.established(false), 1, "{}", n.name);
        assert_eq!(n.established(true), 1, "{}", n.name);
        assert_eq!(n.kernel.sas.len(), 2, "{}: {:?}", n.name, n.kernel.sas);
        assert_eq!(n.kernel.policies.len(), 2, "{}", n.name);
        assert!(n.kernel.larval.is_empty(), "{}", n.name);
    }
    net.check_settled(0, 1).unwrap();
}

#[test]
fn d_every_message_duplicated() {
    for seed in 0..20 {
        let mut net = net_pair(seed, "secret", "secret");
        net.duplicate = true;
        net.command(0, Command::Initiate(CONN.into()));
        net.run(Duration::from_secs(600));
        assert_one_of_each(&net);
        // Duplicates are answered by a bounded number of resends, never by
        // new states: no more than one Failed or extra Established.
        for n in &net.nodes {
            assert!(n.failures().is_empty(), "{}", n.dump_logs());
            let est = n
                .events
                .iter()
                .filter(|e| matches!(e, Event::Established { .. }))
                .count();
            assert_eq!(est, 2, "{}", n.dump_logs());
        }
        assert!(net.nodes[1].ep.counters().duplicates > 0);
    }
}

/// What a node's states are, for before/after comparisons.
fn summary(n: &Node) -> Vec<(u64, bool, Option<u64>, String)> {
    n.states()
        .iter()
        .map(|s| {
            (
                s.serial,
                s.ipsec,
                s.parent,
                format!("{:?} {:?}", s.kind, s.role),
            )
        })
        .collect()
}

/// Replays one datagram of a finished exchange later; nothing may change.
fn replay_creates_nothing(ex: u8, index: usize, what: &str) {
    let mut net = net_pair(40, "secret", "secret");
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(5));
    assert_one_of_each(&net);
    let p = of_exchange(&net, ex)
        .get(index)
        .cloned()
        .unwrap_or_else(|| panic!("no {what}"));
    let before: Vec<_> = net.nodes.iter().map(summary).collect();
    let sent = net.wire.len();
    let target = net.nodes.iter().position(|n| n.addr == p.to.ip()).unwrap();
    let (events_before, sas_before) = (
        net.nodes[target].events.len(),
        net.nodes[target].kernel.sas.clone(),
    );
    net.run(Duration::from_secs(100));
    net.inject(p.from, p.to, p.data.clone());
    net.run(Duration::from_secs(100));
    let after: Vec<_> = net.nodes.iter().map(summary).collect();
    assert_eq!(
        before,
        after,
        "{what} replay changed the states\n{}",
        logs(&net)
    );
    let n = &net.nodes[target];
    assert_eq!(n.kernel.sas, sas_before, "{what} replay touched the kernel");
    assert!(
        !n.events[events_before..]
            .iter()
            .any(|e| matches!(e, Event::Established { .. } | Event::Deleted { .. })),
        "{what}: {}",
        n.dump_logs()
    );
    // At most the bounded answer to a duplicate goes out.
    assert!(
        net.wire.len() <= sent + 1,
        "{what}: {} replies",
        net.wire.len() - sent
    );
    assert_one_of_each(&net);
}

#[test]
fn d_replayed_mi1_after_establishment_creates_nothing() {
    replay_creates_nothing(exchange::IDENTITY_PROTECTION, 0, "MI1");
}

#[test]
fn d_replayed_messages_after_establishment_create_nothing() {
    // MR1, MI2, MR2, MI3, MR3.
    for (i, what) in ["MR1", "MI2", "MR2", "MI3", "MR3"].iter().enumerate() {
        replay_creates_nothing(exchange::IDENTITY_PROTECTION, i + 1, what);
    }
    for (i, what) in ["QI1", "QR1", "QI2"].iter().enumerate() {
        replay_creates_nothing(exchange::QUICK, i, what);
    }
}

/// West and east with different PSKs; `ike` picks the phase-1 suite.
fn wrong_psk_run(seed: u64, real_dh: bool, cipher: CipherAlg) -> String {
    let (mut w, mut e) = conn_pair(CONN, esp_tunnel_policy());
    let xf = IkeTransform::new(cipher, HashAlg::Sha1, AuthMethod::Psk, DhGroup::Modp1024);
    w.ike = vec![xf];
    e.ike = vec![xf];
    let mut net = pair(seed, real_dh, w, e, "correct horse", "battery staple");
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(900));
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    let all = logs(&net);
    // East refuses message 5 (MI3) and says why, each time it arrives.
    let refusals: Vec<_> = east
        .log_lines()
        .filter(|l| {
            l.text.starts_with("STATE_MAIN_R2: ") && l.rc.is_some_and(|rc| rc.code() >= 200)
        })
        .collect();
    assert!(!refusals.is_empty(), "{all}");
    for l in &refusals {
        assert!(
            l.text.contains("mismatch of preshared secrets") || l.text.contains("HASH_I"),
            "{l}"
        );
    }
    // Nothing got established anywhere, ever, and nothing is left.
    for n in [west, east] {
        assert!(
            !n.events
                .iter()
                .any(|e| matches!(e, Event::Established { .. })),
            "{all}"
        );
        assert!(n.states().is_empty(), "{}: {:?}", n.name, n.states());
        assert!(n.kernel.sas.is_empty() && n.kernel.larval.is_empty());
    }
    // West gives up on each of its 3 keying attempts at MI3.
    let fails = west.failures();
    assert_eq!(fails.len(), 3, "{all}");
    for (_, r) in &fails {
        assert!(
            r.contains("max number of retransmissions (2) reached STATE_MAIN_I3"),
            "{r}"
        );
    }
    assert!(west.log_contains("starting keying attempt 3 of at most 3"));
    assert!(!west.log_contains("starting keying attempt 4"));
    // East's half-open states time out too.
    let east_fails = east.failures();
    assert_eq!(east_fails.len(), 3, "{all}");
    assert!(east_fails.iter().all(|(_, r)| r.ends_with("STATE_MAIN_R2")));
    // No MR3 ever left east.
    let mr3 = net.wire.iter().any(|p| {
        p.from.ip() == ip(2)
            && parse_header(&p.data)
                .is_ok_and(|(h, _)| h.exchange == exchange::IDENTITY_PROTECTION && h.flags & 1 != 0)
    });
    assert!(!mr3, "east answered MI3\n{all}");
    refusals[0].to_string()
}

#[test]
fn e_wrong_psk() {
    let first = wrong_psk_run(50, true, CipherAlg::Des3);
    eprintln!("east: {first}");
    for (i, cipher) in [
        CipherAlg::Des3,
        CipherAlg::Aes128,
        CipherAlg::Aes192,
        CipherAlg::Aes256,
    ]
    .into_iter()
    .enumerate()
    {
        for seed in 0..5 {
            wrong_psk_run(51 + seed * 4 + i as u64, false, cipher);
        }
    }
}

/// MR1s east sent, and when.
fn mr1s(net: &Net) -> Vec<Instant> {
    net.wire
        .iter()
        .filter(|p| p.from.ip() == ip(2))
        .filter(|p| {
            parse_header(&p.data).is_ok_and(|(h, _)| {
                h.exchange == exchange::IDENTITY_PROTECTION
                    && h.flags & 1 == 0
                    && h.rcookie != [0; 8]
                    && p.data.len() > 28
            })
        })
        .map(|p| p.at)
        .collect()
}

/// West's MI1, taken off the wire with west cut off (it stays cut off):
/// replayed, it is a forgery claiming west's address. Source, destination
/// and bytes.
fn captured_mi1(net: &mut Net) -> (std::net::SocketAddr, std::net::SocketAddr, Vec<u8>) {
    net.unreachable.push(ip(1));
    net.command(0, Command::Initiate(CONN.into()));
    net.advance(Duration::from_millis(100));
    net.wire
        .iter()
        .find(|p| p.from.ip() == ip(1))
        .map(|p| (p.from, p.to, p.data.clone()))
        .expect("west's MI1")
}

#[test]
fn a_forged_mi1_draws_one_mr1_and_repeats_a_bounded_few() {
    // West's MI1 is taken off the wire and west cut off: from then on it is
    // a forgery claiming west's address, which never answers.
    let mut net = net_pair(77, "secret", "secret");
    let mi1 = captured_mi1(&mut net);
    net.inject(mi1.0, mi1.1, mi1.2.clone());
    net.advance(Duration::from_secs(200));
    let east = &net.nodes[1];
    assert_eq!(mr1s(&net).len(), 1, "{}", east.dump_logs());
    // East kept the half-open state 70 s, then dropped it quietly.
    assert!(east.log_contains("discarding half-open ISAKMP state"));
    assert!(east.states().is_empty(), "{:?}", east.states());
    assert!(
        east.failures().is_empty(),
        "a forgery is no failed negotiation"
    );
    // Repeats of one MI1 are answered at most twice more.
    let mut net = net_pair(78, "secret", "secret");
    let mi1 = captured_mi1(&mut net);
    for _ in 0..6 {
        net.inject(mi1.0, mi1.1, mi1.2.clone());
        net.advance(Duration::from_secs(5));
    }
    net.advance(Duration::from_secs(100));
    assert_eq!(mr1s(&net).len(), 3, "{}", net.nodes[1].dump_logs());
}

#[test]
fn a_flood_of_refused_packets_writes_a_bounded_log() {
    let mut net = net_pair(79, "secret", "secret");
    let from = std::net::SocketAddr::new(
        std::net::IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9)),
        500,
    );
    let to = std::net::SocketAddr::new(ip(2), 500);
    for n in 0..1000u32 {
        // Too short for an ISAKMP header: refused before any state.
        net.inject(from, to, n.to_be_bytes().to_vec());
    }
    net.advance(Duration::from_secs(1));
    let about = |net: &Net| {
        net.nodes[1]
            .log_lines()
            .filter(|l| l.text.contains("203.0.113.9"))
            .count()
    };
    assert_eq!(about(&net), 10, "{}", net.nodes[1].dump_logs());
    // The window ends: one summary line, and the rest was only counted.
    net.advance(Duration::from_secs(60));
    assert_eq!(about(&net), 11);
    assert!(net.nodes[1]
        .log_contains("suppressed 990 log lines about packets from 203.0.113.9 in the last 60s"));
    // The real peer is not affected.
    net.command(0, Command::Initiate(CONN.into()));
    net.advance(Duration::from_secs(2));
    assert_eq!(
        net.nodes[1].established(true),
        1,
        "{}",
        net.nodes[1].dump_logs()
    );
}

#[test]
fn forged_mi1s_claiming_the_peer_do_not_lock_it_out() {
    // A real MI1 of west, replayed with fresh cookies, claiming west's
    // address: more than the per-address quota, and then more again while
    // west negotiates. West still gets its ISAKMP and IPsec SAs.
    let mut net = net_pair(80, "secret", "secret");
    let (from, to, mi1) = captured_mi1(&mut net);
    net.command(0, Command::Terminate(CONN.into()));
    net.unreachable.clear();
    let forge = |net: &mut Net, n: u64| {
        let mut f = mi1.clone();
        f[..8].copy_from_slice(&(0xf0f0_0000_0000_0000 + n).to_be_bytes());
        net.inject(from, to, f);
    };
    for n in 0..200 {
        forge(&mut net, n);
    }
    net.advance(Duration::from_millis(100));
    let half_open = net.nodes[1].states().len();
    assert_eq!(half_open, rswan::ike::endpoint::MAX_HALF_OPEN_PER_PEER);
    net.command(0, Command::Initiate(CONN.into()));
    for n in 200..260 {
        forge(&mut net, n);
        net.advance(Duration::from_millis(1));
    }
    net.advance(Duration::from_secs(5));
    let dump = net.nodes[1].dump_logs();
    assert_eq!(net.nodes[0].established(false), 1, "{dump}");
    assert_eq!(net.nodes[0].established(true), 1, "{dump}");
    assert!(
        net.nodes[1].states().len() <= rswan::ike::endpoint::MAX_HALF_OPEN_PER_PEER + 2,
        "bounded"
    );
}
