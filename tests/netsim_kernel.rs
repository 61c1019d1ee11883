//! The kernel refuses an install: the negotiation fails with a clear error,
//! nothing is announced as established, and no SA or policy of it is left
//! in either kernel (the peer is told with a Delete when it holds SAs).
mod common;
use common::sim::*;
use rswan::ike::{Command, Event, LogLine};
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
        .filter(|l| l.text.contains("the kernel refused the IPsec SA"))
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
    assert_eq!(lines[0].rc, Some(32), "{logs}");
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
