//! Dead Peer Detection (RFC 3706) and INITIAL-CONTACT on the virtual clock:
//! R_U_THERE only when the IPsec SAs are idle (the fake kernel's counters),
//! answered whether the answering side runs DPD or not, a dead peer's states
//! cleared, held or restarted within `--dpdtimeout` plus one `--dpddelay`,
//! nothing from a peer that did not announce DPD, garbage refused, and a
//! rebooted peer's INITIAL-CONTACT replacing what we held with it.
mod common;
use common::sim::*;
use rswan::ike::config::{Dpd, DpdAction};
use rswan::ike::crypto::NullDh;
use rswan::ike::kernel::PolicyAction;
use rswan::ike::rng::SeededRng;
use rswan::ike::vendor::DPD_VID;
use rswan::ike::wire::{exchange, parse_header};
use rswan::ike::{Command, Endpoint, Event, RouteStory};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

const CONN: &str = "west-east";
const WEST: usize = 0;
const EAST: usize = 1;

fn dpd(delay: u32, timeout: u32, action: DpdAction) -> Option<Dpd> {
    Some(Dpd {
        delay,
        timeout,
        action,
    })
}

fn dpd_pair(seed: u64, west: Option<Dpd>, east: Option<Dpd>) -> Net {
    let (mut w, mut e) = conn_pair(CONN, esp_tunnel_policy());
    w.dpd = west;
    e.dpd = east;
    pair(seed, false, w, e, "secret", "secret")
}

fn logs(net: &Net) -> String {
    net.nodes.iter().map(Node::dump_logs).collect()
}

/// West initiates; both ends hold one ISAKMP and one IPsec SA a second later.
fn up(net: &mut Net) {
    net.command(WEST, Command::Initiate(CONN.into()));
    net.advance(Duration::from_secs(1));
    for n in &net.nodes {
        assert_eq!(n.established(true), 1, "{}", logs(net));
    }
}

/// When `from` sent Informational datagrams at or after `since`.
fn informationals(net: &Net, from: IpAddr, since: Instant) -> Vec<Instant> {
    net.wire
        .iter()
        .filter(|p| p.at >= since && p.from.ip() == from)
        .filter(|p| parse_header(&p.data).is_ok_and(|(h, _)| h.exchange == exchange::INFORMATIONAL))
        .map(|p| p.at)
        .collect()
}

/// Traffic arrives on every inbound SA of node `n`.
fn inbound_traffic(n: &mut Node, bytes: u64) {
    let spis: Vec<u32> = n.sas(true).iter().map(|s| s.spi).collect();
    for spi in spis {
        *n.kernel.traffic.entry(spi).or_insert(0) += bytes;
    }
}

/// When node `n` announced its states gone.
fn deletions(n: &Node) -> Vec<Instant> {
    n.events
        .iter()
        .zip(&n.event_times)
        .filter(|(e, _)| matches!(e, Event::Deleted { .. }))
        .map(|(_, t)| *t)
        .collect()
}

fn client(net: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, net, 0, 7))
}

#[test]
fn alive_peer_with_traffic_gets_no_r_u_there() {
    let d = dpd(30, 120, DpdAction::Clear);
    let mut net = dpd_pair(101, d, d);
    up(&mut net);
    let since = net.now;
    // Half an hour of traffic both ways, less than the ISAKMP SA's life.
    for _ in 0..180 {
        for n in &mut net.nodes {
            inbound_traffic(n, 1500);
        }
        net.advance(Duration::from_secs(10));
    }
    for n in &net.nodes {
        assert!(
            informationals(&net, n.addr, since).is_empty(),
            "{} sent an Informational\n{}",
            n.name,
            logs(&net)
        );
        assert_eq!(n.established(true), 1);
        assert!(
            n.logs_with("DPD: peer alive (inbound IPsec traffic)").len() >= 55,
            "{}",
            n.dump_logs()
        );
        assert!(!n.log_contains("sending R_U_THERE"));
    }
}

#[test]
fn idle_peer_is_asked_each_delay_and_answers_without_dpd_of_its_own() {
    let mut net = dpd_pair(102, dpd(30, 120, DpdAction::Clear), None);
    up(&mut net);
    let since = net.now;
    for _ in 0..40 {
        net.advance(Duration::from_secs(50));
        for n in &net.nodes {
            assert_eq!(n.established(false), 1, "{}", logs(&net));
            assert_eq!(n.established(true), 1, "{}", logs(&net));
        }
    }
    // 2000 s idle: one R_U_THERE every 30 s, each answered.
    let asked = informationals(&net, ip(1), since);
    let answered = informationals(&net, ip(2), since);
    assert!((65..=67).contains(&asked.len()), "{}", asked.len());
    assert_eq!(answered.len(), asked.len());
    for w in asked.windows(2) {
        assert_eq!(w[1] - w[0], Duration::from_secs(30));
    }
    let (west, east) = (&net.nodes[WEST], &net.nodes[EAST]);
    assert_eq!(east.logs_with("sending R_U_THERE_ACK").len(), asked.len());
    assert_eq!(west.logs_with("received R_U_THERE_ACK").len(), asked.len());
    assert!(!west.log_contains("declaring peer dead"));
    // The IPsec SA's announcement says whether DPD runs on its ISAKMP SA.
    assert!(west.log_contains("DPD=enabled}"), "{}", west.dump_logs());
    assert!(east.log_contains("DPD=none}"), "{}", east.dump_logs());
    // --status: both peers announced DPD; west sent, east only answered.
    let p1 = |n: &Node| {
        n.states()
            .into_iter()
            .find(|s| !s.ipsec)
            .expect("an ISAKMP state")
    };
    let (w, e) = (p1(west), p1(east));
    let wd = w.dpd.expect("west's peer announced DPD");
    let last = wd.last.expect("an R_U_THERE went out");
    assert!(net.now - last <= Duration::from_secs(30));
    assert_eq!(wd.expect, 0, "the last R_U_THERE was answered");
    assert_ne!(wd.next_seq, 0);
    assert_eq!(w.dpd_event.map(|e| e.0), Some("EVENT_DPD"));
    let ed = e.dpd.expect("east's peer announced DPD");
    assert_eq!((ed.next_seq, ed.expect), (0, 0));
    assert_eq!(e.dpd_event, None);
    // Sequence numbers increase by one per R_U_THERE.
    let first = west.logs_with("sending R_U_THERE ");
    assert_eq!(first.len(), asked.len());
}

#[test]
fn idle_peers_both_running_dpd_keep_their_sas() {
    let d = dpd(20, 60, DpdAction::Clear);
    let mut net = dpd_pair(103, d, d);
    up(&mut net);
    let since = net.now;
    net.advance(Duration::from_secs(1000));
    for n in &net.nodes {
        assert_eq!(n.established(true), 1, "{}", logs(&net));
        assert!(!n.log_contains("declaring peer dead"));
    }
    // Each side's R_U_THERE is proof of life to the other: at most two
    // per delay, not four messages each way.
    let all = informationals(&net, ip(1), since).len() + informationals(&net, ip(2), since).len();
    assert!((50..=200).contains(&all), "{all}");
}

/// West runs DPD with `action`; east is cut off once an R_U_THERE was
/// answered (the Quick Mode messages count as signs of life for the first
/// check). Returns the net and when east went away.
fn dead_peer(seed: u64, action: DpdAction, routed: bool) -> (Net, Instant) {
    let mut net = dpd_pair(seed, dpd(10, 60, action), None);
    if routed {
        net.command(WEST, Command::Route(CONN.into()));
    }
    up(&mut net);
    net.advance(Duration::from_secs(25));
    assert_eq!(net.nodes[EAST].logs_with("sending R_U_THERE_ACK").len(), 1);
    let cut = net.now;
    net.unreachable.push(ip(2));
    net.advance(Duration::from_secs(75));
    (net, cut)
}

/// Everything west held with east went within timeout + delay of the cut,
/// after R_U_THERE was tried each delay.
fn check_declared_dead(net: &Net, cut: Instant) {
    let west = &net.nodes[WEST];
    assert!(
        west.log_contains("DPD: No response from peer - declaring peer dead"),
        "{}",
        west.dump_logs()
    );
    let gone = deletions(west);
    assert_eq!(gone.len(), 2, "{}", west.dump_logs());
    assert!(gone
        .iter()
        .all(|t| *t > cut && *t <= cut + Duration::from_secs(70)));
    let tries = informationals(net, ip(1), cut);
    assert!((5..=7).contains(&tries.len()), "{} R_U_THEREs", tries.len());
    assert!(west.kernel.sas.is_empty(), "{:?}", west.kernel.sas);
    assert!(west.kernel.larval.is_empty());
}

#[test]
fn traffic_stopping_is_noticed_within_timeout_and_one_delay() {
    let mut net = dpd_pair(112, dpd(10, 60, DpdAction::Clear), None);
    up(&mut net);
    for _ in 0..30 {
        inbound_traffic(&mut net.nodes[WEST], 100);
        net.advance(Duration::from_secs(3));
    }
    assert!(informationals(&net, ip(1), net.start).is_empty());
    let cut = net.now;
    net.unreachable.push(ip(2));
    net.advance(Duration::from_secs(90));
    // The traffic just before the cut shows at the next check; the one after
    // sends the first R_U_THERE, and the timeout counts from the check
    // before it, which last saw the peer alive.
    let gone = deletions(&net.nodes[WEST]);
    assert_eq!(gone.len(), 2, "{}", net.nodes[WEST].dump_logs());
    assert!(gone.iter().all(|t| *t <= cut + Duration::from_secs(70)));
    // Never before the timeout has passed since the last traffic (3 s
    // before the cut).
    assert!(gone.iter().all(|t| *t >= cut + Duration::from_secs(57)));
}

#[test]
fn dead_peer_clear_leaves_an_unrouted_connection_without_policy() {
    let (mut net, cut) = dead_peer(104, DpdAction::Clear, false);
    check_declared_dead(&net, cut);
    let west = &net.nodes[WEST];
    assert!(west.log_contains("DPD: Clearing Connection"));
    assert!(west.states().is_empty());
    assert!(
        west.kernel.policies.is_empty(),
        "{:?}",
        west.kernel.policies
    );
    assert_eq!(west.ep.route_story(CONN), RouteStory::Unrouted);
    assert_eq!(net.traffic(WEST, client(1), client(2)), Fate::NoPolicy);
}

#[test]
fn dead_peer_clear_puts_a_routed_connection_back_to_its_trap() {
    let (mut net, cut) = dead_peer(105, DpdAction::Clear, true);
    check_declared_dead(&net, cut);
    let west = &net.nodes[WEST];
    assert!(west.states().is_empty());
    let out: Vec<_> = west.kernel.policies.iter().filter(|p| !p.inbound).collect();
    assert_eq!(out.len(), 1, "{:?}", west.kernel.policies);
    assert_eq!(out[0].action, PolicyAction::Ipsec);
    assert_eq!(west.ep.route_story(CONN), RouteStory::Prospective);
    assert!(matches!(
        net.traffic(WEST, client(1), client(2)),
        Fate::Held(Some(_))
    ));
}

#[test]
fn dead_peer_hold_keeps_the_traffic_held_and_negotiates_on_demand() {
    let (mut net, cut) = dead_peer(106, DpdAction::Hold, false);
    check_declared_dead(&net, cut);
    let west = &net.nodes[WEST];
    assert!(west.log_contains("DPD: Putting connection into %trap"));
    assert!(west.states().is_empty());
    let out: Vec<_> = west.kernel.policies.iter().filter(|p| !p.inbound).collect();
    assert_eq!(out.len(), 1, "{:?}", west.kernel.policies);
    assert_eq!(out[0].action, PolicyAction::Ipsec);
    assert_eq!(west.ep.route_story(CONN), RouteStory::Prospective);
    // Traffic is held, and asks for a new negotiation, which succeeds
    // once east is back.
    assert!(matches!(
        net.traffic(WEST, client(1), client(2)),
        Fate::Held(Some(_))
    ));
    net.unreachable.clear();
    net.advance(Duration::from_secs(5));
    assert!(net.nodes[WEST].log_contains("initiate on demand"));
    net.check_settled(WEST, EAST)
        .unwrap_or_else(|e| panic!("{e}\n{}", logs(&net)));
    assert_eq!(net.nodes[WEST].established(true), 1);
    assert!(matches!(
        net.traffic(WEST, client(1), client(2)),
        Fate::Protected(_)
    ));
}

#[test]
fn dead_peer_restart_negotiates_again_and_succeeds_when_the_peer_is_back() {
    let (mut net, cut) = dead_peer(107, DpdAction::Restart, false);
    check_declared_dead(&net, cut);
    let dead_at = *deletions(&net.nodes[WEST]).last().expect("deleted");
    assert!(net.nodes[WEST].log_contains("DPD: Restarting Connection"));
    // A new Main Mode started at once.
    let mi1 = net
        .wire
        .iter()
        .filter(|p| p.at >= dead_at && p.from.ip() == ip(1))
        .filter(|p| {
            parse_header(&p.data).is_ok_and(|(h, _)| h.exchange == exchange::IDENTITY_PROTECTION)
        })
        .count();
    assert!(mi1 >= 1, "{}", net.nodes[WEST].dump_logs());
    net.unreachable.clear();
    net.advance(Duration::from_secs(120));
    // East still held the old SAs: the new MI3's INITIAL-CONTACT replaced them.
    net.check_settled(WEST, EAST)
        .unwrap_or_else(|e| panic!("{e}\n{}", logs(&net)));
    for n in &net.nodes {
        assert_eq!(n.established(false), 1, "{}", logs(&net));
        assert_eq!(n.established(true), 1, "{}", logs(&net));
    }
    assert!(
        net.nodes[EAST].log_contains("received INITIAL_CONTACT"),
        "{}",
        net.nodes[EAST].dump_logs()
    );
}

#[test]
fn peer_without_the_dpd_vendor_id_is_never_asked() {
    let mut net = dpd_pair(108, dpd(10, 30, DpdAction::Clear), None);
    // East's MR1 loses its DPD vendor ID (MR1 is not authenticated).
    net.mutator = Some(Box::new(|_, data: &mut Vec<u8>| {
        if let Some(i) = data.windows(16).position(|w| w == DPD_VID) {
            data[i..i + 16].copy_from_slice(b"some other vid!!");
        }
        true
    }));
    up(&mut net);
    let since = net.now;
    net.unreachable.push(ip(2));
    net.advance(Duration::from_secs(300));
    let west = &net.nodes[WEST];
    assert!(informationals(&net, ip(1), since).is_empty());
    assert!(west.log_contains("not enabled because peer did not advertise it"));
    assert!(!west.log_contains("declaring peer dead"));
    assert_eq!(west.established(true), 1);
    let p1 = west
        .states()
        .into_iter()
        .find(|s| !s.ipsec)
        .expect("ISAKMP");
    assert_eq!((p1.dpd, p1.dpd_event), (None, None));
    assert!(west.log_contains("DPD=none}"));
}

#[test]
fn mutated_and_replayed_r_u_there_are_refused_without_side_effects() {
    let mut net = dpd_pair(109, dpd(10, 60, DpdAction::Clear), None);
    up(&mut net);
    // The first check counts Quick Mode as a sign of life; the second asks.
    net.advance(Duration::from_secs(20));
    let r_u_there = net
        .wire
        .iter()
        .find(|p| {
            p.from.ip() == ip(1)
                && parse_header(&p.data).is_ok_and(|(h, _)| h.exchange == exchange::INFORMATIONAL)
        })
        .cloned()
        .expect("west asked");
    assert_eq!(net.nodes[EAST].logs_with("sending R_U_THERE_ACK").len(), 1);
    let before = net.nodes[EAST].states();
    let counters = net.nodes[EAST].ep.counters();
    let sent = informationals(&net, ip(2), net.start).len();
    // The exact replay, every single bit flipped in turn, truncations.
    let mut variants = vec![r_u_there.data.clone()];
    for bit in 0..r_u_there.data.len() * 8 {
        let mut m = r_u_there.data.clone();
        m[bit / 8] ^= 1 << (bit % 8);
        variants.push(m);
    }
    for cut in [1, 8, 28, 40, r_u_there.data.len() - 1] {
        variants.push(r_u_there.data[..cut].to_vec());
    }
    let n = variants.len() as u64;
    for v in variants {
        net.inject(r_u_there.from, r_u_there.to, v);
        net.run(Duration::from_millis(20));
    }
    let east = &net.nodes[EAST];
    assert_eq!(informationals(&net, ip(2), net.start).len(), sent);
    assert_eq!(east.logs_with("sending R_U_THERE_ACK").len(), 1);
    assert_eq!(east.states(), before);
    let after = east.ep.counters();
    let refused = (after.malformed + after.peer_misbehaved + after.peer_incompatible)
        - (counters.malformed + counters.peer_misbehaved + counters.peer_incompatible);
    assert!(refused >= n - 8, "{refused} of {n} counted as refused");
    // West's next R_U_THERE is answered as usual.
    net.advance(Duration::from_secs(10));
    assert_eq!(net.nodes[EAST].logs_with("sending R_U_THERE_ACK").len(), 2);
    assert_eq!(net.nodes[WEST].established(true), 1);
}

#[test]
fn initial_contact_from_a_rebooted_peer_replaces_its_old_states() {
    let mut net = dpd_pair(110, None, None);
    up(&mut net);
    let old: Vec<u64> = net.nodes[WEST].states().iter().map(|s| s.serial).collect();
    assert_eq!(old.len(), 2);
    // East reboots: no state, an empty kernel, its configuration again.
    let (_, e) = conn_pair(CONN, esp_tunnel_policy());
    net.nodes[EAST].ep = Endpoint::new(Box::new(NullDh), Box::new(SeededRng::new(4242)));
    net.nodes[EAST].kernel = FakeKernel::default();
    net.command(EAST, Command::AddConnection(Box::new(e)));
    net.command(EAST, Command::LoadSecrets(psk_secrets("secret")));
    net.command(EAST, Command::Initiate(CONN.into()));
    net.advance(Duration::from_secs(2));
    let west = &net.nodes[WEST];
    assert!(
        west.log_contains("received INITIAL_CONTACT: deleting 1 older ISAKMP and 1 IPsec states"),
        "{}",
        west.dump_logs()
    );
    let now: Vec<u64> = west.states().iter().map(|s| s.serial).collect();
    assert!(now.iter().all(|s| !old.contains(s)), "{now:?} {old:?}");
    net.check_settled(WEST, EAST)
        .unwrap_or_else(|e| panic!("{e}\n{}", logs(&net)));
    assert_eq!(net.nodes[WEST].kernel.sas.len(), 2);
}

#[test]
fn no_initial_contact_while_other_states_with_the_peer_exist() {
    let mut net = dpd_pair(111, None, None);
    up(&mut net);
    // A second negotiation with the same peer (a rekey by hand): neither
    // side may tell the other to drop what it holds.
    net.command(WEST, Command::Initiate(CONN.into()));
    net.advance(Duration::from_secs(2));
    // Replace the ISAKMP SA too.
    let p1 = net.nodes[WEST]
        .states()
        .into_iter()
        .find(|s| !s.ipsec)
        .expect("ISAKMP")
        .serial;
    net.command(WEST, Command::DeleteState(p1));
    net.command(WEST, Command::Initiate(CONN.into()));
    net.advance(Duration::from_secs(2));
    for n in &net.nodes {
        assert!(
            !n.log_contains("received INITIAL_CONTACT"),
            "{}",
            n.dump_logs()
        );
        assert!(n.established(true) >= 2, "{}", n.dump_logs());
    }
}

#[test]
fn both_running_dpd_a_dead_peer_goes_within_timeout_and_one_delay() {
    // The lab's settings: delay 2, timeout 6, both ends asking each other;
    // half the runs with a kernel that never answers the usage queries (each
    // check then waits for them in vain): the checks keep their rhythm.
    let d = dpd(2, 6, DpdAction::Clear);
    for seed in 0..20 {
        let mut net = dpd_pair(300 + seed, d, d);
        let mute = seed % 2 == 1;
        net.nodes[WEST].kernel.mute_queries = mute;
        up(&mut net);
        net.advance(Duration::from_millis(9_000 + seed * 97));
        let cut = net.now;
        net.unreachable.push(ip(2));
        net.advance(Duration::from_secs(20));
        let gone = deletions(&net.nodes[WEST]);
        assert_eq!(gone.len(), 2, "{}", logs(&net));
        let took = gone[0].saturating_duration_since(cut);
        assert!(
            took <= Duration::from_secs(8),
            "seed {seed} (mute {mute}): {took:?}"
        );
    }
}
