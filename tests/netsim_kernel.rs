//! The kernel refuses an install: the negotiation fails with a clear error,
//! nothing is announced as established, and no SA or policy of it is left
//! in either kernel (the peer is told with a Delete when it holds SAs).
mod common;
use common::sim::*;
use rswan::ike::wire::Identity;
use rswan::ike::{Command, Event, LogLine, SecretIndex};
use std::time::Duration;

const CONN: &str = "west-east";
const REFUSAL: &str = "cannot install SA esp.1234@10.0.0.2: Function not implemented";

fn net_refusing(seed: u64, node: usize, outbound_only: bool) -> Net {
    let (w, e) = conn_pair(CONN, esp_tunnel_policy());
    let mut net = pair(seed, false, w, e, "secret", "secret");
    net.nodes[node].kernel.refuse_installs = Some(REFUSAL.into());
    net.nodes[node].kernel.refuse_outbound_only = outbound_only;
    net.command(0, Command::Initiate(CONN.into()));
    net
}

fn all_logs(net: &Net) -> String {
    net.nodes.iter().map(Node::dump_logs).collect()
}

fn ipsec_established_events(n: &Node) -> usize {
    n.events
        .iter()
        .filter(|e| matches!(e, Event::Established { ipsec: true, .. }))
        .count()
}

fn refusal_lines(n: &Node) -> Vec<&LogLine> {
    n.log_lines()
        .filter(|l| l.text.contains("cannot install the IPsec SA"))
        .collect()
}

/// Neither kernel holds anything of the connection: no SA, no policy, no
/// reserved SPI.
fn assert_kernels_clean(net: &Net) {
    for n in &net.nodes {
        assert!(
            n.kernel.sas.is_empty() && n.kernel.policies.is_empty() && n.kernel.larval.is_empty(),
            "{}: SAs {:?}, policies {:?}, reserved SPIs {:?}\n{}",
            n.name,
            n.kernel.sas,
            n.kernel.policies,
            n.kernel.larval,
            all_logs(net)
        );
    }
}

#[test]
fn initiator_kernel_refusal_fails_cleanly_and_tells_the_peer() {
    let mut net = net_refusing(41, 0, false);
    net.run(Duration::from_secs(5));
    let logs = all_logs(&net);
    let west = &net.nodes[0];
    let lines = refusal_lines(west);
    assert_eq!(lines.len(), 1, "{logs}");
    assert_eq!(lines[0].rc, Some(rswan::ctl::Rc::InternalErr), "{logs}");
    assert!(lines[0].text.contains(REFUSAL), "{logs}");
    assert_eq!(ipsec_established_events(west), 0, "{logs}");
    assert_eq!(west.failures().len(), 1, "{logs}");
    assert_eq!(west.established(true), 0, "{logs}");
    // QI2 never went out: east never sees its IPsec SA established, and
    // west's Delete makes it drop the inbound SA it installed at QR1.
    let east = &net.nodes[1];
    assert_eq!(ipsec_established_events(east), 0, "{logs}");
    net.run(Duration::from_secs(600));
    assert_kernels_clean(&net);
    assert_eq!(ipsec_established_events(&net.nodes[1]), 0);
}

#[test]
fn responder_inbound_refusal_sends_no_qr1_and_leaves_nothing() {
    let mut net = net_refusing(42, 1, false);
    net.run(Duration::from_secs(5));
    let logs = all_logs(&net);
    let east = &net.nodes[1];
    assert!(!refusal_lines(east).is_empty(), "{logs}");
    assert_eq!(east.established(true), 0, "{logs}");
    // East's refusal comes before QR1: west has nothing but its QI1 to resend.
    assert!(net.nodes[0].kernel.sas.is_empty(), "{logs}");
    net.run(Duration::from_secs(600));
    let logs = all_logs(&net);
    assert!(
        net.nodes.iter().all(|n| ipsec_established_events(n) == 0),
        "{logs}"
    );
    // West gives up on the phase-2 attempt, and says so.
    assert!(!net.nodes[0].failures().is_empty(), "{logs}");
    assert_kernels_clean(&net);
}

#[test]
fn responder_outbound_refusal_deletes_both_ends() {
    let mut net = net_refusing(43, 1, true);
    net.run(Duration::from_secs(5));
    let logs = all_logs(&net);
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    // West installed and announced its SA before QI2; east refuses its
    // outbound half, takes back its inbound one and sends a Delete.
    assert_eq!(ipsec_established_events(west), 1, "{logs}");
    assert_eq!(refusal_lines(east).len(), 1, "{logs}");
    assert_eq!(ipsec_established_events(east), 0, "{logs}");
    assert!(
        west.log_contains("received Delete SA("),
        "west must hear of east's refusal\n{logs}"
    );
    assert_eq!(west.established(true), 0, "{logs}");
    assert_kernels_clean(&net);
}

#[test]
fn installs_reach_the_kernel_only_once_per_direction() {
    // Without refusals: each side installs inbound+outbound SAs and two
    // policy directions exactly once (the responder in two steps).
    let (w, e) = conn_pair(CONN, esp_tunnel_policy());
    let mut net = pair(44, false, w, e, "secret", "secret");
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(5));
    for n in &net.nodes {
        assert_eq!(n.sas(true).len(), 1, "{}", all_logs(&net));
        assert_eq!(n.sas(false).len(), 1, "{}", all_logs(&net));
        assert_eq!(n.kernel.policies.len(), 2, "{}", all_logs(&net));
        assert!(n.kernel.larval.is_empty());
    }
}

/// The reqids of the IPsec states of `n` that are established.
fn live_reqids(n: &Node) -> Vec<u32> {
    let mut v: Vec<u32> = n
        .kernel
        .sas
        .iter()
        .map(|s| s.reqid)
        .filter(|r| *r != 0)
        .collect();
    rswan::sort::sort(&mut v);
    v.dedup();
    v
}

#[test]
fn rekeyed_sa_keeps_its_policies_when_the_old_one_goes() {
    // The kernel keys policies by selectors: the replacement SA's policies
    // replace the old ones, and deleting the old SA must not take them away.
    let (w, e) = conn_pair(CONN, esp_tunnel_policy());
    let mut net = pair(45, false, w, e, "secret", "secret");
    net.command(0, Command::Initiate(CONN.into()));
    // Past the first IPsec replacement (27720-28260 s) and the old SA's expiry (28800 s).
    net.advance(Duration::from_secs(31_000));
    let logs = all_logs(&net);
    assert!(net.nodes[0].log_contains("replacing IPsec SA"), "{logs}");
    assert!(net.nodes[0].log_contains("IPsec SA expired"), "{logs}");
    for n in &net.nodes {
        assert_eq!(
            n.kernel.policies.len(),
            2,
            "{}: {:?}",
            n.name,
            n.kernel.policies
        );
        let newest = n
            .states()
            .iter()
            .filter(|s| s.ipsec && s.kind.is_established())
            .map(|s| s.serial)
            .max();
        assert!(newest.is_some(), "{}: no IPsec SA\n{logs}", n.name);
        // Both policy directions lead to SAs the kernel holds.
        let live = live_reqids(n);
        for p in &n.kernel.policies {
            assert!(
                live.contains(&p.reqid),
                "{}: policy reqid {} has no SA (SAs have {live:?})",
                n.name,
                p.reqid
            );
        }
    }
}

#[test]
fn responder_replaces_a_conflicting_connection_and_initiator_refuses() {
    // Two connections on east for the same clients (as after a road warrior
    // changed its address): the second negotiation as responder deletes the
    // first one's SAs.
    let (w, e) = conn_pair(CONN, esp_tunnel_policy());
    let mut net = pair(46, false, w.clone(), e.clone(), "secret", "secret");
    let third = net.add_node("west2", ip(3), 461, false);
    let mut w2 = w.clone();
    w2.name = "west2-east".into();
    w2.local.host = Some(ip(3));
    let mut e2 = e.clone();
    e2.name = "west2-east".into();
    e2.remote.host = Some(ip(3));
    // One PSK for the three hosts.
    let mut secrets = psk_secrets("secret");
    secrets.entries[0]
        .indices
        .push(SecretIndex::Id(Identity::Ipv4(
            "192.0.2.3".parse().unwrap(),
        )));
    for n in [0, 1, third] {
        net.command(n, Command::LoadSecrets(secrets.clone()));
    }
    net.command(third, Command::AddConnection(Box::new(w2)));
    net.command(1, Command::AddConnection(Box::new(e2)));
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(5));
    assert_eq!(net.nodes[1].established(true), 1, "{}", all_logs(&net));
    net.command(third, Command::Initiate("west2-east".into()));
    net.run(Duration::from_secs(5));
    let logs = all_logs(&net);
    let east = &net.nodes[1];
    assert!(
        east.log_contains("deleting \"west-east\" #"),
        "east must replace the older connection\n{logs}"
    );
    let est: Vec<String> = east
        .states()
        .iter()
        .filter(|s| s.ipsec && s.kind.is_established())
        .map(|s| s.conn.clone())
        .collect();
    assert_eq!(est, vec!["west2-east".to_string()], "{logs}");
    assert_eq!(east.kernel.policies.len(), 2);
    let live = live_reqids(east);
    assert!(east.kernel.policies.iter().all(|p| live.contains(&p.reqid)));
    // West heard the Delete and has no SA left.
    assert_eq!(net.nodes[0].established(true), 0, "{logs}");
    // Now east initiates the old connection: as initiator the conflict refuses it.
    net.command(1, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(5));
    let logs = all_logs(&net);
    let east = &net.nodes[1];
    assert!(
        east.log_contains("eroute conflicts with \"west2-east\""),
        "{logs}"
    );
    assert_eq!(east.kernel.policies.len(), 2);
    let live = live_reqids(east);
    assert!(
        east.kernel.policies.iter().all(|p| live.contains(&p.reqid)),
        "{logs}"
    );
}

#[test]
fn kernel_soft_expire_replaces_the_sa_now_and_hard_expire_deletes_it() {
    let (w, e) = conn_pair(CONN, esp_tunnel_policy());
    let mut net = pair(47, false, w, e, "secret", "secret");
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(5));
    net.advance(Duration::from_secs(100));
    let out = net.nodes[0].sas(false)[0].clone();
    let old = net.nodes[0]
        .states()
        .iter()
        .find(|s| s.ipsec)
        .map(|s| s.serial)
        .unwrap();
    // Soft: the replacement starts at once, long before EVENT_SA_REPLACE.
    let now = net.now;
    net.nodes[0]
        .ep
        .handle_sa_expire(now, out.proto, out.spi, out.dst, false);
    net.run(Duration::from_secs(5));
    let logs = all_logs(&net);
    assert!(
        net.nodes[0].log_contains("soft lifetime of ESP SA"),
        "{logs}"
    );
    assert!(net.nodes[0].log_contains("replacing IPsec SA"), "{logs}");
    assert_eq!(ipsec_established_events(&net.nodes[0]), 2, "{logs}");
    // Hard on the old SA: its state goes, the peer deletes its half, the
    // new SA keeps its policies.
    let now = net.now;
    net.nodes[0]
        .ep
        .handle_sa_expire(now, out.proto, out.spi, out.dst, true);
    net.run(Duration::from_secs(5));
    let logs = all_logs(&net);
    assert!(net.nodes[0].log_contains("(hard lifetime)"), "{logs}");
    assert!(
        net.nodes[0].states().iter().all(|s| s.serial != old),
        "{logs}"
    );
    for n in &net.nodes {
        assert_eq!(n.established(true), 1, "{}: {logs}", n.name);
        assert_eq!(n.kernel.sas.len(), 2, "{}: {:?}", n.name, n.kernel.sas);
        assert_eq!(n.kernel.policies.len(), 2, "{}", n.name);
        let live = live_reqids(n);
        assert!(n.kernel.policies.iter().all(|p| live.contains(&p.reqid)));
    }
    assert!(net.nodes[1].log_contains("received Delete SA("), "{logs}");
    // An SPI that is not ours is only noted.
    let now = net.now;
    net.nodes[0]
        .ep
        .handle_sa_expire(now, out.proto, 0x4242, out.dst, true);
    assert_eq!(net.nodes[0].established(true), 1);
}

#[test]
fn kernel_soft_lifetime_is_the_engines_replace_time() {
    let (w, e) = conn_pair(CONN, esp_tunnel_policy());
    let mut net = pair(47, false, w, e, "secret", "secret");
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(5));
    for n in &net.nodes {
        let replace = n
            .states()
            .iter()
            .find(|s| s.ipsec && s.kind.is_established())
            .and_then(|s| s.event)
            .expect("an established IPsec SA");
        assert_eq!(replace.0, "EVENT_SA_REPLACE", "{}", n.name);
        let left = replace.1.saturating_duration_since(net.now).as_secs();
        assert!(!n.kernel.sas.is_empty());
        for sa in &n.kernel.sas {
            let soft = u64::from(sa.soft_secs.expect("a soft lifetime"));
            // Installed a few (virtual) milliseconds before now.
            assert!(
                soft.abs_diff(left) <= 1,
                "{}: soft {soft} s, replace in {left} s",
                n.name
            );
            assert!(soft < u64::from(sa.lifetime_secs));
        }
    }
    // Without rekeying the kernel gets no soft lifetime either.
    let policy = rswan::ike::Policy {
        dont_rekey: true,
        ..esp_tunnel_policy()
    };
    let (w, e) = conn_pair(CONN, policy);
    let mut net = pair(48, false, w, e, "secret", "secret");
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(5));
    assert!(net.nodes[0]
        .kernel
        .sas
        .iter()
        .all(|sa| sa.soft_secs.is_none()));
    assert!(!net.nodes[0].kernel.sas.is_empty());
}
