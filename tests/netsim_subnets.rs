//! Several connections between the same two gateways, one per pair of
//! client subnets. Each negotiates its own ISAKMP SA, which the responder
//! can only pin to one of them by addresses (Main Mode carries no clients);
//! Quick Mode's IDs then name the connection.
mod common;
use common::sim::*;
use rswan::ike::kernel::Selector;
use rswan::ike::{Command, ConnConfig, End};
use std::net::IpAddr;
use std::time::Duration;

fn end(last: u8, client: Selector) -> End {
    End {
        host: Some(ip(last)),
        port: PORT,
        id: None,
        client: Some(client),
        virt: None,
    }
}

fn v6_subnet(site: u16) -> Selector {
    Selector {
        addr: IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, site, 0, 0, 0, 0, 0)),
        prefix: 64,
        protocol: 0,
        port: 0,
    }
}

/// West (node 0) and east (node 1), each with the connections
/// `(name, west's client, east's client)` in this order.
fn gateways(seed: u64, conns: &[(&str, Selector, Selector)]) -> Net {
    let mut net = Net::new(seed);
    let w = net.add_node("west", ip(1), seed * 3 + 1, false);
    let e = net.add_node("east", ip(2), seed * 3 + 2, false);
    for (name, wc, ec) in conns {
        let policy = esp_tunnel_policy();
        let west = ConnConfig::new(name, end(1, *wc), end(2, *ec), policy);
        let east = ConnConfig::new(name, end(2, *ec), end(1, *wc), policy);
        net.command(w, Command::AddConnection(Box::new(west)));
        net.command(e, Command::AddConnection(Box::new(east)));
    }
    net.command(w, Command::LoadSecrets(psk_secrets("one key")));
    net.command(e, Command::LoadSecrets(psk_secrets("one key")));
    net
}

fn logs(net: &Net) -> String {
    format!("{}{}", net.nodes[0].dump_logs(), net.nodes[1].dump_logs())
}

/// The IPsec states of `node` that belong to `conn`.
fn ipsec_of(net: &Net, node: usize, conn: &str) -> usize {
    net.nodes[node]
        .states()
        .iter()
        .filter(|s| s.conn == conn && s.kind.is_established() && s.ipsec)
        .count()
}

/// The gateways with net1 (10.1.0.0/24 - 10.2.0.0/24) and net2
/// (10.1.1.0/24 - 10.2.1.0/24), in this order.
fn two_nets(seed: u64) -> Net {
    gateways(
        seed,
        &[
            ("net1", subnet(1, 0), subnet(2, 0)),
            ("net2", subnet(1, 1), subnet(2, 1)),
        ],
    )
}

/// West initiates `conn` and the simulation runs its course.
fn initiate(net: &mut Net, conn: &str) {
    net.command(0, Command::Initiate(conn.into()));
    net.run(Duration::from_secs(5));
}

#[test]
fn quick_mode_moves_to_the_connection_whose_clients_the_ids_name() {
    let mut net = two_nets(71);
    // West negotiates net2 first: east takes its Main Mode as net1's (the
    // first for these addresses), and QI1's IDs are net2's clients.
    initiate(&mut net, "net2");
    assert_eq!(ipsec_of(&net, 0, "net2"), 1, "{}", logs(&net));
    assert_eq!(ipsec_of(&net, 1, "net2"), 1, "{}", logs(&net));
    assert_eq!(ipsec_of(&net, 1, "net1"), 0);
    assert!(
        net.nodes[1]
            .log_contains("Quick Mode for \"net1\"'s ISAKMP SA: the clients are \"net2\"'s"),
        "{}",
        logs(&net)
    );
    // East's SAs carry net2's clients.
    let sels: Vec<Selector> = net.nodes[1].sas(true).iter().map(|s| s.src_sel).collect();
    assert_eq!(sels, [subnet(1, 1)], "{}", logs(&net));
    // And net1 still comes up in its turn.
    initiate(&mut net, "net1");
    assert_eq!(ipsec_of(&net, 1, "net1"), 1, "{}", logs(&net));
    assert_eq!(ipsec_of(&net, 1, "net2"), 1);
}

#[test]
fn ids_no_connection_has_are_still_refused() {
    let mut net = gateways(72, &[("net1", subnet(1, 0), subnet(2, 0))]);
    // West alone also has net9, for clients east does not know.
    let c = ConnConfig::new(
        "net9",
        end(1, subnet(1, 9)),
        end(2, subnet(2, 9)),
        esp_tunnel_policy(),
    );
    net.command(0, Command::AddConnection(Box::new(c)));
    initiate(&mut net, "net9");
    assert_eq!(net.nodes[1].established(true), 0, "{}", logs(&net));
    assert!(
        net.nodes[1].log_contains("Quick Mode request refused: we require peer to have ID"),
        "{}",
        logs(&net)
    );
}

#[test]
fn ipv6_clients_over_ipv4_hosts_beside_ipv4_ones() {
    let mut net = gateways(
        73,
        &[
            ("c44", subnet(1, 0), subnet(2, 0)),
            ("c64", v6_subnet(0xa), v6_subnet(0xb)),
        ],
    );
    for c in ["c44", "c64"] {
        initiate(&mut net, c);
        assert_eq!(ipsec_of(&net, 1, c), 1, "{c}: {}", logs(&net));
    }
    // The IPv6 tunnel's SAs (IPv4 endpoints) tell the kernel their
    // traffic's family; the IPv4 one's need not.
    for node in [0, 1] {
        for sa in net.nodes[node]
            .sas(true)
            .into_iter()
            .chain(net.nodes[node].sas(false))
        {
            let want = sa
                .src_sel
                .addr
                .is_ipv6()
                .then_some("::".parse::<IpAddr>().unwrap());
            assert!(sa.src.is_ipv4());
            assert_eq!(sa.foreign_traffic_family(), want, "{sa:?}");
        }
    }
}

#[test]
fn the_isakmp_sa_another_connection_uses_is_kept_and_orphans_keep_their_ends() {
    let mut net = two_nets(74);
    initiate(&mut net, "net1");
    // net2's Main Mode lands on net1 at east too; east keeps net1's first
    // ISAKMP SA, which west used (for net1's Quick Mode).
    initiate(&mut net, "net2");
    assert_eq!(net.nodes[0].established(false), 2, "{}", logs(&net));
    assert_eq!(net.nodes[1].established(false), 2, "{}", logs(&net));
    assert!(
        !net.nodes[1].log_contains("replaced by newer ISAKMP SA"),
        "{}",
        logs(&net)
    );
    // West deletes net1's ISAKMP SA: its IPsec SA stays, on both sides,
    // and --status still names the two ends.
    let p1 = (net.nodes[0].states().iter())
        .find(|s| s.conn == "net1" && !s.ipsec)
        .map(|s| s.serial)
        .unwrap();
    net.command(0, Command::DeleteState(p1));
    net.run(Duration::from_secs(2));
    for (node, (me, peer)) in [(0, (1, 2)), (1, (2, 1))] {
        let states = net.nodes[node].states();
        let ipsec = states.iter().find(|s| s.conn == "net1" && s.ipsec).unwrap();
        assert!(states
            .iter()
            .all(|s| s.serial != ipsec.parent.unwrap() || s.conn != "net1"));
        assert_eq!(
            (ipsec.local.ip(), ipsec.peer.ip()),
            (ip(me), ip(peer)),
            "{}",
            logs(&net)
        );
    }
}

#[test]
fn sas_the_kernel_could_not_use_are_never_announced() {
    // IPv6 clients over IPv4 hosts in transport mode: no inner header to
    // carry the other family. Neither end installs or announces anything.
    let mut net = Net::new(75);
    let w = net.add_node("west", ip(1), 226, false);
    let e = net.add_node("east", ip(2), 227, false);
    let policy = rswan::ike::Policy {
        tunnel: false,
        ..esp_tunnel_policy()
    };
    let (wc, ec) = (v6_subnet(0xa), v6_subnet(0xb));
    let west = ConnConfig::new("t64", end(1, wc), end(2, ec), policy);
    let east = ConnConfig::new("t64", end(2, ec), end(1, wc), policy);
    net.command(w, Command::AddConnection(Box::new(west)));
    net.command(e, Command::AddConnection(Box::new(east)));
    net.command(w, Command::LoadSecrets(psk_secrets("one key")));
    net.command(e, Command::LoadSecrets(psk_secrets("one key")));
    initiate(&mut net, "t64");
    let why = "the kernel could not use these SAs: \
               transport mode between IPv4 hosts cannot carry IPv6 clients";
    assert!(net.nodes[1].log_contains(why), "{}", logs(&net));
    for node in [0, 1] {
        assert_eq!(ipsec_of(&net, node, "t64"), 0, "{}", logs(&net));
        assert!(net.nodes[node].sas(false).is_empty(), "{}", logs(&net));
        assert!(net.nodes[node].kernel.policies.is_empty());
        assert!(!net.nodes[node].log_contains("IPsec SA established"));
    }
}
