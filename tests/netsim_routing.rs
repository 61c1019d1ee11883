//! A connection's life in the kernel, decided by the engine: `--route` and
//! `--unroute`, %trap -> ACQUIRE -> HOLD -> established, failure shunts,
//! route conflicts, the rekey handover and shutdown. The fake kernel files
//! policies by selectors and direction and makes larval ACQUIRE states as
//! Linux does, so what the engine asks for is checked by its effect on
//! packets.
mod common;
use common::sim::*;
use rswan::ike::kernel::{PolicyAction, PolicySpec};
use rswan::ike::{Command, ConnConfig, Endpoint, Policy, RouteStory, Verb};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

const CONN: &str = "west-east";

fn client(net: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, net, 0, 7))
}

fn logs(net: &Net) -> String {
    net.nodes.iter().map(Node::dump_logs).collect()
}

fn outbound(n: &Node) -> Vec<&PolicySpec> {
    n.kernel.policies.iter().filter(|p| !p.inbound).collect()
}

fn story(n: &Node, conn: &str) -> RouteStory {
    n.ep.route_story(conn)
}

fn routed_pair(seed: u64, policy: Policy) -> Net {
    let (w, e) = conn_pair(CONN, policy);
    let mut net = pair(seed, false, w, e, "secret", "secret");
    net.command(0, Command::Route(CONN.into()));
    net.run(Duration::from_secs(1));
    net
}

fn command_result(ep: &mut Endpoint, now: std::time::Instant, cmd: Command) -> Result<(), u32> {
    ep.handle_command(now, cmd).map_err(|e| e.rc().code())
}

#[test]
fn route_installs_the_trap_and_the_route_and_unroute_takes_both_away() {
    let mut net = routed_pair(61, esp_tunnel_policy());
    let west = &net.nodes[0];
    assert_eq!(west.updowns(), [Verb::Prepare, Verb::Route]);
    assert_eq!(story(west, CONN), RouteStory::Prospective);
    let out = outbound(west);
    assert_eq!(out.len(), 1, "{:?}", west.kernel.policies);
    assert_eq!(out[0].action, PolicyAction::Ipsec);
    assert_eq!(
        (out[0].src_sel, out[0].dst_sel),
        (subnet(1, 0), subnet(2, 0))
    );
    assert_ne!(out[0].reqid, 0);
    // Routing twice runs no second updown route.
    net.command(0, Command::Route(CONN.into()));
    net.run(Duration::from_secs(1));
    assert_eq!(net.nodes[0].updowns(), [Verb::Prepare, Verb::Route]);

    net.command(0, Command::Unroute(CONN.into()));
    net.run(Duration::from_secs(1));
    let west = &net.nodes[0];
    assert!(
        west.kernel.policies.is_empty(),
        "{:?}",
        west.kernel.policies
    );
    assert_eq!(west.updowns(), [Verb::Prepare, Verb::Route, Verb::Unroute]);
    assert_eq!(story(west, CONN), RouteStory::Unrouted);
    assert_eq!(
        net.traffic(0, client(1), client(2)),
        Fate::NoPolicy,
        "{}",
        logs(&net)
    );
}

#[test]
fn trap_acquire_hold_then_established_and_back_to_trap_after_terminate() {
    let mut net = routed_pair(62, esp_tunnel_policy());
    // The first packet makes the kernel hold it and ACQUIRE.
    let fate = net.traffic(0, client(1), client(2));
    assert!(matches!(fate, Fate::Held(Some(_))), "{fate:?}");
    let reqid = outbound(&net.nodes[0])[0].reqid;
    assert_eq!(net.nodes[0].kernel.acquiring.len(), 1);
    // A second packet while negotiating starts nothing new.
    assert_eq!(net.traffic(0, client(1), client(2)), Fate::Held(None));
    assert_eq!(story(&net.nodes[0], CONN), RouteStory::Hold);

    net.run(Duration::from_secs(10));
    assert!(net.nodes[0].log_contains("initiate on demand"));
    let west = &net.nodes[0];
    assert_eq!(west.established(true), 1, "{}", logs(&net));
    assert_eq!(story(west, CONN), RouteStory::Erouted);
    // The SA's policy is the routed one (one reqid per connection), and the
    // negotiated outbound SA replaced the kernel's larval ACQUIRE state.
    assert_eq!(outbound(west).len(), 1);
    assert_eq!(outbound(west)[0].reqid, reqid);
    assert!(west.sas(false).iter().all(|s| s.reqid == reqid));
    assert!(
        west.kernel.acquiring.is_empty(),
        "{:?}",
        west.kernel.acquiring
    );
    assert_eq!(west.updowns(), [Verb::Prepare, Verb::Route, Verb::Up]);
    assert!(matches!(
        net.traffic(0, client(1), client(2)),
        Fate::Protected(_)
    ));

    net.command(0, Command::Terminate(CONN.into()));
    net.run(Duration::from_secs(5));
    let west = &net.nodes[0];
    // No SA at all is left, the %trap is back, the route stays: `down` only.
    assert!(west.kernel.sas.is_empty() && west.kernel.larval.is_empty());
    assert!(west.kernel.acquiring.is_empty());
    assert_eq!(outbound(west).len(), 1);
    assert_eq!(outbound(west)[0].action, PolicyAction::Ipsec);
    assert_eq!(story(west, CONN), RouteStory::Prospective);
    assert_eq!(
        west.updowns(),
        [Verb::Prepare, Verb::Route, Verb::Up, Verb::Down]
    );
    assert!(net.nodes[1].kernel.sas.is_empty(), "{}", logs(&net));
    assert!(matches!(
        net.traffic(0, client(1), client(2)),
        Fate::Held(Some(_))
    ));
}

#[test]
fn unroute_is_refused_while_an_ipsec_sa_uses_the_route() {
    let mut net = routed_pair(63, esp_tunnel_policy());
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(10));
    let now = net.now;
    assert_eq!(
        command_result(&mut net.nodes[0].ep, now, Command::Unroute(CONN.into())),
        Err(26)
    );
    assert_eq!(story(&net.nodes[0], CONN), RouteStory::Erouted);
    assert!(matches!(
        net.traffic(0, client(1), client(2)),
        Fate::Protected(_)
    ));
}

#[test]
fn initiate_without_route_runs_route_and_unroute_around_the_sa() {
    let (w, e) = conn_pair(CONN, esp_tunnel_policy());
    let mut net = pair(64, false, w, e, "secret", "secret");
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(10));
    assert_eq!(story(&net.nodes[0], CONN), RouteStory::Erouted);
    // The responder routes the peer's client for its SA too.
    assert_eq!(
        net.nodes[1].updowns(),
        [Verb::Prepare, Verb::Route, Verb::Up]
    );
    net.command(0, Command::Terminate(CONN.into()));
    net.run(Duration::from_secs(5));
    for n in &net.nodes {
        assert_eq!(
            n.updowns(),
            [
                Verb::Prepare,
                Verb::Route,
                Verb::Up,
                Verb::Down,
                Verb::Unroute
            ],
            "{}",
            n.name
        );
        assert!(n.kernel.policies.is_empty() && n.kernel.sas.is_empty());
        assert_eq!(story(n, CONN), RouteStory::Unrouted);
    }
}

#[test]
fn failure_shunt_replaces_the_trap_until_an_sa_comes_up() {
    let policy = Policy {
        failure_shunt: Some(PolicyAction::Pass),
        ..esp_tunnel_policy()
    };
    let (w, e) = conn_pair(CONN, policy);
    // Mismatched secrets: Main Mode fails on every attempt.
    let mut net = pair(65, false, w, e, "secret", "other");
    net.command(0, Command::Route(CONN.into()));
    net.run(Duration::from_secs(1));
    assert!(matches!(
        net.traffic(0, client(1), client(2)),
        Fate::Held(Some(_))
    ));
    net.run(Duration::from_secs(600));
    let west = &net.nodes[0];
    assert!(!west.failures().is_empty(), "{}", logs(&net));
    assert_eq!(story(west, CONN), RouteStory::Fail);
    assert_eq!(outbound(west)[0].action, PolicyAction::Pass);
    assert!(west.log_contains("failure shunt %pass installed"));
    assert_eq!(net.traffic(0, client(1), client(2)), Fate::Passed);

    // With the right secret the next negotiation succeeds; its SA's policy
    // replaces the failure shunt, and when it goes the %trap comes back.
    net.command(1, Command::LoadSecrets(psk_secrets("secret")));
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(10));
    assert_eq!(story(&net.nodes[0], CONN), RouteStory::Erouted);
    assert!(matches!(
        net.traffic(0, client(1), client(2)),
        Fate::Protected(_)
    ));
    net.command(0, Command::Terminate(CONN.into()));
    net.run(Duration::from_secs(5));
    assert_eq!(story(&net.nodes[0], CONN), RouteStory::Prospective);
    assert_eq!(outbound(&net.nodes[0])[0].action, PolicyAction::Ipsec);
}

#[test]
fn shunt_connections_route_their_pass_or_drop_policy() {
    for (action, fate) in [
        (PolicyAction::Pass, Fate::Passed),
        (PolicyAction::Drop, Fate::Dropped),
        (PolicyAction::Reject, Fate::Dropped),
    ] {
        let policy = Policy {
            shunt: action,
            ..Policy::default()
        };
        let mut net = routed_pair(66, policy);
        let west = &net.nodes[0];
        assert_eq!(outbound(west).len(), 1, "{action:?}");
        assert_eq!(outbound(west)[0].action, action);
        assert!(outbound(west)[0].protos.is_empty());
        assert_eq!(net.traffic(0, client(1), client(2)), fate);
        // Traffic that hits a shunt asks nothing of pluto, and it cannot be
        // initiated (RC 30).
        assert!(net.nodes[0].states().is_empty());
        let now = net.now;
        assert_eq!(
            command_result(&mut net.nodes[0].ep, now, Command::Initiate(CONN.into())),
            Err(30)
        );
    }
}

fn second_conn(name: &str) -> (ConnConfig, ConnConfig) {
    conn_pair(name, esp_tunnel_policy())
}

#[test]
fn a_second_route_for_the_same_clients_takes_the_route_over() {
    let mut net = routed_pair(67, esp_tunnel_policy());
    let (w2, _) = second_conn("other");
    net.command(0, Command::AddConnection(Box::new(w2)));
    net.command(0, Command::Route("other".into()));
    net.run(Duration::from_secs(1));
    let west = &net.nodes[0];
    assert!(west.log_contains("unrouting \"west-east\", which routes the same clients"));
    assert_eq!(story(west, CONN), RouteStory::Unrouted);
    assert_eq!(story(west, "other"), RouteStory::Prospective);
    let out = outbound(west);
    assert_eq!(out.len(), 1);
    let reqid = out[0].reqid;
    // The ACQUIRE now names the other connection's reqid.
    let fate = net.traffic(0, client(1), client(2));
    let Fate::Held(Some(acq)) = fate else {
        panic!("{fate:?}")
    };
    assert_eq!(acq.reqid, Some(reqid));
    net.run(Duration::from_secs(10));
    assert_eq!(net.nodes[0].logs_with("initiate on demand").len(), 1);
    assert!(net.nodes[0].logs_with("initiate on demand")[0].starts_with("\"other\""));
    assert_eq!(story(&net.nodes[0], "other"), RouteStory::Erouted);
}

#[test]
fn a_route_for_the_same_clients_is_refused_while_the_first_has_an_sa() {
    let mut net = routed_pair(68, esp_tunnel_policy());
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(10));
    let (w2, _) = second_conn("other");
    net.command(0, Command::AddConnection(Box::new(w2)));
    let now = net.now;
    assert_eq!(
        command_result(&mut net.nodes[0].ep, now, Command::Route("other".into())),
        Err(25)
    );
    assert_eq!(story(&net.nodes[0], CONN), RouteStory::Erouted);
    assert_eq!(story(&net.nodes[0], "other"), RouteStory::Unrouted);
}

#[test]
fn rekey_hands_the_routed_policy_to_the_new_sa() {
    let mut net = routed_pair(69, esp_tunnel_policy());
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(10));
    let first = match net.traffic(0, client(1), client(2)) {
        Fate::Protected(spi) => spi,
        f => panic!("{f:?}"),
    };
    // Past the replacement and the old SA's expiry.
    net.advance(Duration::from_secs(31_000));
    let west = &net.nodes[0];
    assert!(west.log_contains("IPsec SA expired"), "{}", logs(&net));
    assert_eq!(story(west, CONN), RouteStory::Erouted);
    let now = match net.traffic(0, client(1), client(2)) {
        Fate::Protected(spi) => spi,
        f => panic!("{f:?}"),
    };
    assert_ne!(first, now, "traffic still uses the old SA");
    // `up` ran once, and no `down`: the route never lost its SA.
    assert_eq!(
        net.nodes[0].updowns(),
        [Verb::Prepare, Verb::Route, Verb::Up]
    );
}

#[test]
fn shutdown_leaves_no_sa_no_policy_and_runs_down_and_unroute() {
    let mut net = routed_pair(70, esp_tunnel_policy());
    assert!(matches!(
        net.traffic(0, client(1), client(2)),
        Fate::Held(Some(_))
    ));
    net.run(Duration::from_secs(10));
    assert_eq!(net.nodes[0].established(true), 1);
    net.command(0, Command::Shutdown);
    net.run(Duration::from_secs(5));
    let west = &net.nodes[0];
    assert!(
        west.kernel.sas.is_empty()
            && west.kernel.policies.is_empty()
            && west.kernel.larval.is_empty()
            && west.kernel.acquiring.is_empty(),
        "{:?} {:?}",
        west.kernel.sas,
        west.kernel.policies
    );
    assert_eq!(
        west.updowns(),
        [
            Verb::Prepare,
            Verb::Route,
            Verb::Up,
            Verb::Down,
            Verb::Unroute
        ]
    );
    // The peer was told.
    assert!(net.nodes[1].kernel.sas.is_empty(), "{}", logs(&net));
}

#[test]
fn deleting_a_routed_connection_unroutes_it() {
    let mut net = routed_pair(71, esp_tunnel_policy());
    net.command(0, Command::DeleteConnection(CONN.into()));
    net.run(Duration::from_secs(1));
    let west = &net.nodes[0];
    assert!(west.kernel.policies.is_empty());
    assert_eq!(west.updowns(), [Verb::Prepare, Verb::Route, Verb::Unroute]);
}

#[test]
fn acquire_for_no_routed_connection_is_ignored() {
    let (w, e) = conn_pair(CONN, esp_tunnel_policy());
    let mut net = pair(72, false, w, e, "secret", "secret");
    let now = net.now;
    net.nodes[0].ep.handle_acquire(
        now,
        rswan::ike::kernel::Acquire {
            reqid: Some(999),
            src: ip(1),
            dst: ip(2),
        },
    );
    net.run(Duration::from_secs(5));
    assert!(net.nodes[0].states().is_empty());
}

#[test]
fn a_failed_updown_route_is_asked_for_again() {
    let mut net = routed_pair(73, esp_tunnel_policy());
    net.nodes[0].ep.updown_failed(CONN, Verb::Route, false);
    net.command(0, Command::Route(CONN.into()));
    net.run(Duration::from_secs(1));
    assert_eq!(
        net.nodes[0].updowns(),
        [Verb::Prepare, Verb::Route, Verb::Prepare, Verb::Route]
    );
    // A failed `up` is asked for again by the next SA.
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(10));
    net.nodes[0].ep.updown_failed(CONN, Verb::Up, false);
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(10));
    let ups = net.nodes[0]
        .updowns()
        .iter()
        .filter(|v| **v == Verb::Up)
        .count();
    assert_eq!(ups, 2, "{:?}", net.nodes[0].updowns());
}
