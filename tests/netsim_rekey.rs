//! SA lifetimes on the virtual clock: replacement before expiry (spec §7.8),
//! so traffic never loses its SA, and `--dontrekey`.
mod common;
use common::sim::*;
use rswan::ike::{Command, Event};
use std::time::{Duration, Instant};

/// When each `Established` event of the given kind happened on a node, in seconds from the start.
fn established_at(n: &Node, start: Instant, ipsec: bool) -> Vec<u64> {
    n.events
        .iter()
        .zip(&n.event_times)
        .filter_map(|(e, t)| match e {
            Event::Established { ipsec: i, .. } if *i == ipsec => Some((*t - start).as_secs()),
            _ => None,
        })
        .collect()
}

/// Runs the default connection (ikelifetime 3600, ipseclifetime 28800,
/// rekeymargin 540, rekeyfuzz 100 %) for `secs` of virtual time, checking
/// every `step` that both ends hold an established IPsec SA.
fn run_checking_coverage(net: &mut Net, secs: u64, step: u64) {
    net.advance(Duration::from_secs(5));
    let mut t = 5;
    while t < secs {
        net.advance(Duration::from_secs(step));
        t += step;
        for n in &net.nodes {
            assert!(
                n.established(true) >= 1,
                "{} has no IPsec SA at t={t}s\n{}",
                n.name,
                n.dump_logs()
            );
            assert!(
                n.established(false) <= 2 && n.established(true) <= 2,
                "{} piles up SAs at t={t}s",
                n.name
            );
        }
    }
}

#[test]
fn sas_are_replaced_before_they_expire() {
    let (w, e) = conn_pair("west-east", esp_tunnel_policy());
    let mut net = pair(11, false, w, e, "secret", "secret");
    net.command(0, Command::Initiate("west-east".into()));
    run_checking_coverage(&mut net, 60_000, 60);
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    // ISAKMP: the initiator replaces 2520-3060 s after establishment (3600 - 540 * (1 + r)).
    let p1 = established_at(west, net.start, false);
    assert!(
        p1.len() >= 10,
        "ISAKMP SAs established at {p1:?}\n{}{}",
        west.dump_logs(),
        east.dump_logs()
    );
    let first_replace = west.logs_with("replacing stale ISAKMP SA");
    assert!(!first_replace.is_empty(), "{}", west.dump_logs());
    let gaps: Vec<u64> = p1.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|g| (2520..=3061).contains(g)),
        "ISAKMP replacement intervals {gaps:?}"
    );
    // IPsec: replaced 27720-28260 s after establishment by the initiator.
    let p2 = established_at(west, net.start, true);
    assert!(
        p2.len() >= 3,
        "IPsec SAs established at {p2:?}\n{}",
        west.dump_logs()
    );
    let gaps2: Vec<u64> = p2.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps2.iter().all(|g| (27720..=28261).contains(g)),
        "IPsec replacement intervals {gaps2:?}"
    );
    assert!(west.log_contains("replacing IPsec SA"));
    // Old SAs expire and go away on both sides; nothing is left half-made.
    assert!(west.log_contains("IPsec SA expired") && east.log_contains("IPsec SA expired"));
    for n in &net.nodes {
        assert!(
            n.states().iter().all(|s| s.kind.is_established()),
            "{}",
            n.dump_logs()
        );
    }
    // Every IPsec SA the kernel still holds belongs to a live state: expired ones were removed.
    assert!(
        west.kernel.sas.len() <= 4 && east.kernel.sas.len() <= 4,
        "kernel SAs pile up"
    );
}

#[test]
fn dontrekey_lets_sas_expire() {
    let mut pol = esp_tunnel_policy();
    pol.dont_rekey = true;
    let (w, e) = conn_pair("west-east", pol);
    let mut net = pair(12, false, w, e, "secret", "secret");
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(30_000));
    for n in &net.nodes {
        assert!(!n.log_contains("replacing"), "{}", n.dump_logs());
        assert_eq!(n.established(true), 0, "{}", n.dump_logs());
        assert!(n.kernel.sas.is_empty(), "{} kept kernel SAs", n.name);
    }
    assert!(net.nodes[0].log_contains("IPsec SA expired (--dontrekey)"));
    assert!(net.nodes[0].log_contains("ISAKMP SA expired"));
}

#[test]
fn status_names_the_replace_event() {
    let (w, e) = conn_pair("west-east", esp_tunnel_policy());
    let mut net = pair(13, false, w, e, "secret", "secret");
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(5));
    let now = net.now;
    for (n, role_margin) in [(0usize, (540u64, 1080u64)), (1, (270, 270))] {
        for s in net.nodes[n].states() {
            let (name, at) = s.event.expect("an established SA has a timer");
            assert_eq!(name, "EVENT_SA_REPLACE", "{s:?}");
            let life = if s.ipsec { 28800 } else { 3600 };
            let left = at.saturating_duration_since(now).as_secs();
            assert!(
                left + role_margin.1 + 6 >= life && left + role_margin.0 <= life,
                "#{} replaces in {left}s (life {life})",
                s.serial
            );
        }
    }
}

/// Who began each exchange that established an SA on node `n`: the
/// established states' roles, oldest first.
fn roles(n: &Node, ipsec: bool) -> Vec<rswan::ike::state::Role> {
    n.states()
        .iter()
        .filter(|s| s.ipsec == ipsec && s.kind.is_established())
        .map(|s| s.role)
        .collect()
}

#[test]
fn the_responder_rekeys_at_half_the_margin_when_the_initiator_does_not() {
    // West began it but never rekeys (--dontrekey); east, the responder,
    // replaces at lifetime - rekeymargin / 2, with the roles reversed.
    let (mut w, e) = conn_pair("west-east", esp_tunnel_policy());
    w.policy.dont_rekey = true;
    let mut net = pair(14, false, w, e, "secret", "secret");
    net.command(0, Command::Initiate("west-east".into()));
    run_checking_coverage(&mut net, 29_000, 30);
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    assert!(!west.log_contains("replacing"), "{}", west.dump_logs());
    // ISAKMP: 3600 - 540 / 2 = 3330 s after the first, then every 3330 s.
    let p1 = established_at(east, net.start, false);
    let gaps: Vec<u64> = p1.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(p1.len() >= 8, "east's ISAKMP SAs at {p1:?}");
    // The first replacement, east's as the responder; then east began the
    // SA and rekeys it as its initiator: 3600 - 540 * (1 + fuzz).
    assert!(
        (3330..=3331).contains(&gaps[0]),
        "ISAKMP replaced after {gaps:?} s"
    );
    assert!(
        gaps[1..].iter().all(|g| (2520..=3061).contains(g)),
        "ISAKMP replaced every {gaps:?} s"
    );
    // IPsec: 28800 - 270 = 28530 s.
    let p2 = established_at(east, net.start, true);
    assert_eq!(p2.len(), 2, "east's IPsec SAs at {p2:?}");
    assert!(
        (28530..=28531).contains(&(p2[1] - p2[0])),
        "IPsec replaced at {p2:?}"
    );
    assert!(
        east.log_contains("replacing stale ISAKMP SA") && east.log_contains("replacing IPsec SA")
    );
    // The newest SAs were begun by east: the roles are reversed.
    use rswan::ike::state::Role;
    assert_eq!(roles(east, false).last(), Some(&Role::Initiator));
    assert_eq!(roles(east, true).last(), Some(&Role::Initiator));
    assert_eq!(roles(west, true).last(), Some(&Role::Responder));
}

#[test]
fn a_responder_replaces_by_its_own_shorter_lifetime() {
    // West proposes the default 28800 s and never rekeys; east accepts that
    // lifetime but its own ipseclifetime is 60 s (margin 20, no fuzz): it
    // replaces at 60 - 20 / 2 = 50 s, as Openswan bounded what was agreed
    // by its own lifetime, and the old SA ends at 60 s.
    let (mut w, mut e) = conn_pair("west-east", esp_tunnel_policy());
    w.policy.dont_rekey = true;
    (e.ipsec_lifetime, e.rekey_margin, e.rekey_fuzz) = (60, 20, 0);
    let mut net = pair(15, false, w, e, "secret", "secret");
    net.command(0, Command::Initiate("west-east".into()));
    run_checking_coverage(&mut net, 125, 5);
    let east = &net.nodes[1];
    let p2 = established_at(east, net.start, true);
    assert!(
        p2.len() >= 3,
        "east's IPsec SAs at {p2:?}\n{}",
        east.dump_logs()
    );
    assert!((50..=51).contains(&(p2[1] - p2[0])), "replaced at {p2:?}");
    assert!(
        east.log_contains("replacing IPsec SA"),
        "{}",
        east.dump_logs()
    );
    use rswan::ike::state::Role;
    assert_eq!(roles(east, true).last(), Some(&Role::Initiator));
}

#[test]
fn only_the_newest_sa_of_a_connection_is_rekeyed() {
    // Two IPsec SAs for one connection: the second (100 s younger) is the
    // newest, so when the first's replace time comes it only expires.
    let (w, e) = conn_pair("west-east", esp_tunnel_policy());
    let mut net = pair(15, false, w, e, "secret", "secret");
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(100));
    let first = net.nodes[0]
        .states()
        .iter()
        .find(|s| s.ipsec)
        .map(|s| s.serial);
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(10));
    let ipsec: Vec<u64> = net.nodes[0]
        .states()
        .iter()
        .filter(|s| s.ipsec)
        .map(|s| s.serial)
        .collect();
    assert_eq!(
        ipsec.len(),
        2,
        "a second IPsec SA: {}",
        net.nodes[0].dump_logs()
    );
    // Past both replace windows (27720-28260 s after each) and the first's
    // lifetime (28800 s), before any replacement's own.
    net.run(Duration::from_secs(28_900));
    let west = &net.nodes[0];
    let replaced = west.logs_with("replacing IPsec SA");
    assert_eq!(replaced.len(), 1, "{replaced:?}\n{}", west.dump_logs());
    let first = first.expect("the first IPsec SA");
    assert!(
        !replaced[0].contains(&format!("#{first}:")),
        "the older SA #{first} was replaced: {replaced:?}"
    );
    let expired = west.logs_with(&format!("#{first}: IPsec SA expired"));
    assert_eq!(expired.len(), 1, "{}", west.dump_logs());
    let at = west
        .events
        .iter()
        .zip(&west.event_times)
        .find(|(e, _)| matches!(e, Event::Deleted { serial, .. } if *serial == first))
        .map(|(_, t)| (*t - net.start).as_secs());
    assert!(
        at.is_some_and(|t| (28_800..28_900).contains(&t)),
        "#{first} went at {at:?} s"
    );
}
