//! Road warriors on the simulated network: one gateway with a `%any`
//! connection, several peers dialling in, and what `--uniqueids` and
//! `--crash` do with their states.
mod common;
use common::sim::*;
use rswan::ike::wire::Identity;
use rswan::ike::{Command, ConnConfig, End, SecretEntry, SecretValue, Secrets};
use std::net::IpAddr;
use std::time::Duration;

fn end(host: Option<IpAddr>, id: Option<&str>, client: bool) -> End {
    End {
        host,
        port: PORT,
        id: id.map(|i| Identity::Fqdn(i.as_bytes().to_vec())),
        client: client.then(|| subnet(2, 0)),
        virt: None,
    }
}

fn secrets() -> Secrets {
    Secrets {
        entries: vec![SecretEntry {
            indices: Vec::new(),
            value: SecretValue::Psk(b"road warriors".to_vec()),
        }],
        ..Secrets::default()
    }
}

/// The gateway east (node 0, .2) with "rw" for any peer, `unique` its
/// `--uniqueids`, then one road warrior per `(address, ID)`.
fn net(unique: bool, warriors: &[(u8, &str)]) -> Net {
    let mut net = Net::new(5);
    let e = net.add_node("east", ip(2), 40, false);
    net.nodes[e].ep.set_unique_ids(unique);
    let gw = ConnConfig::new(
        "rw",
        end(Some(ip(2)), None, true),
        end(None, None, false),
        esp_tunnel_policy(),
    );
    net.command(e, Command::AddConnection(Box::new(gw)));
    net.command(e, Command::LoadSecrets(secrets()));
    for (i, (last, id)) in warriors.iter().enumerate() {
        let n = net.add_node(&format!("warrior{i}"), ip(*last), 41 + i as u64, false);
        let c = ConnConfig::new(
            "rw",
            end(Some(ip(*last)), Some(id), false),
            end(Some(ip(2)), None, true),
            esp_tunnel_policy(),
        );
        net.command(n, Command::AddConnection(Box::new(c)));
        net.command(n, Command::LoadSecrets(secrets()));
    }
    net
}

/// Node `n` dials in; both of its SAs come up on both sides.
fn dial(net: &mut Net, n: usize) {
    net.command(n, Command::Initiate("rw".into()));
    net.run(Duration::from_secs(5));
    let dump = format!("{}{}", net.nodes[n].dump_logs(), net.nodes[0].dump_logs());
    assert_eq!(net.nodes[n].established(false), 1, "{dump}");
    assert_eq!(net.nodes[n].established(true), 1, "{dump}");
}

/// The gateway's states with the peer at `ip`.
fn with_peer(net: &Net, last: u8) -> usize {
    net.nodes[0]
        .states()
        .iter()
        .filter(|s| s.peer.ip() == ip(last))
        .count()
}

#[test]
fn uniqueids_a_returning_id_replaces_its_states_from_the_old_address() {
    let mut net = net(true, &[(1, "warrior"), (3, "warrior"), (4, "other")]);
    dial(&mut net, 1);
    dial(&mut net, 3);
    assert_eq!(net.nodes[0].established(false), 2);
    // The same ID comes back from .3: what .1 had goes, with a Delete each.
    dial(&mut net, 2);
    let gw = &net.nodes[0];
    assert_eq!(gw.established(false), 2, "{}", gw.dump_logs());
    assert_eq!(gw.established(true), 2, "{}", gw.dump_logs());
    assert_eq!(with_peer(&net, 1), 0, "{}", gw.dump_logs());
    assert!(
        gw.log_contains("uniqueids: ID '@warrior' is now used by #"),
        "{}",
        gw.dump_logs()
    );
    assert_eq!(
        net.nodes[1].states().len(),
        0,
        "the old address was told: {}",
        net.nodes[1].dump_logs()
    );
    // Another ID is none of its business.
    assert_eq!(with_peer(&net, 4), 2);
}

#[test]
fn without_uniqueids_one_id_may_come_from_two_addresses() {
    let mut net = net(false, &[(1, "warrior"), (3, "warrior")]);
    dial(&mut net, 1);
    dial(&mut net, 2);
    assert_eq!(net.nodes[0].established(false), 2);
    assert_eq!(net.nodes[0].established(true), 2);
    assert!(!net.nodes[0].log_contains("uniqueids"));
}

#[test]
fn crash_deletes_the_states_of_one_peer_only() {
    let mut net = net(false, &[(1, "one"), (3, "two")]);
    dial(&mut net, 1);
    dial(&mut net, 2);
    let sent = net.sent_by(2).len();
    net.command(0, Command::Crash(ip(1)));
    net.run(Duration::from_secs(1));
    assert_eq!(with_peer(&net, 1), 0);
    assert_eq!(with_peer(&net, 3), 2);
    assert_eq!(
        net.sent_by(2).len(),
        sent,
        "nothing is sent to a crashed peer"
    );
    assert!(net.nodes[0].log_contains("peer 192.0.2.1 crashed: deleting its states"));
    // The crashed side still believes in its SAs: it was not told.
    assert_eq!(net.nodes[1].states().len(), 2);
}

#[test]
fn each_peer_of_a_template_is_an_instance_numbered_in_order() {
    let mut net = net(false, &[(1, "one"), (3, "two"), (4, "three")]);
    dial(&mut net, 1);
    dial(&mut net, 2);
    let numbers = |net: &Net| -> Vec<(String, Option<u32>)> {
        net.nodes[0]
            .states()
            .iter()
            .map(|s| (s.peer.ip().to_string(), s.instance))
            .collect()
    };
    assert_eq!(
        numbers(&net),
        [
            ("192.0.2.1".to_string(), Some(1)),
            ("192.0.2.1".to_string(), Some(1)),
            ("192.0.2.3".to_string(), Some(2)),
            ("192.0.2.3".to_string(), Some(2)),
        ]
    );
    let gw = &net.nodes[0];
    assert!(
        gw.log_contains("\"rw\"[2] 192.0.2.3 #3: responding to Main Mode from 192.0.2.3:500"),
        "{}",
        gw.dump_logs()
    );
    assert!(gw.log_contains("\"rw\"[1] 192.0.2.1 #2: STATE_QUICK_R2: IPsec SA established"));
    assert_eq!(gw.ep.instances_of("rw"), [(1, ip(1)), (2, ip(3))]);
    // The first goes with its last state; a newcomer gets a fresh number.
    net.command(0, Command::Crash(ip(1)));
    net.run(Duration::from_secs(1));
    assert!(
        net.nodes[0].log_contains("\"rw\"[1] 192.0.2.1 #2: deleting state"),
        "{}",
        net.nodes[0].dump_logs()
    );
    assert_eq!(net.nodes[0].ep.instances_of("rw"), [(2, ip(3))]);
    dial(&mut net, 3);
    assert_eq!(net.nodes[0].ep.instances_of("rw"), [(2, ip(3)), (3, ip(4))]);
    // The fixed sides are no templates: no numbers there.
    assert!(net.nodes[1].states().iter().all(|s| s.instance.is_none()));
}

#[test]
fn main_mode_moves_a_psk_peer_to_the_connection_of_its_id() {
    // Two templates on one address: MI1 picks the first ("alice"); MI3
    // says @bob, whose connection has the same PSK, so the state moves.
    let mut net = Net::new(6);
    let e = net.add_node("east", ip(2), 50, false);
    for who in ["alice", "bob"] {
        let c = ConnConfig::new(
            who,
            end(Some(ip(2)), None, true),
            end(None, Some(who), false),
            esp_tunnel_policy(),
        );
        net.command(e, Command::AddConnection(Box::new(c)));
    }
    net.command(e, Command::LoadSecrets(secrets()));
    let b = net.add_node("bob", ip(3), 51, false);
    let c = ConnConfig::new(
        "rw",
        end(Some(ip(3)), Some("bob"), false),
        end(Some(ip(2)), None, true),
        esp_tunnel_policy(),
    );
    net.command(b, Command::AddConnection(Box::new(c)));
    net.command(b, Command::LoadSecrets(secrets()));
    dial(&mut net, b);
    let gw = &net.nodes[e];
    assert!(
        gw.log_contains("switched from \"alice\" to \"bob\""),
        "{}",
        gw.dump_logs()
    );
    let states = gw.states();
    assert_eq!(states.len(), 2);
    assert!(
        states
            .iter()
            .all(|s| s.conn == "bob" && s.instance == Some(1)),
        "{states:?}"
    );
    assert!(
        gw.ep.instances_of("alice").is_empty(),
        "the first choice's instance went"
    );
}

#[test]
fn a_fixed_client_unorients_the_instance_that_had_it() {
    // "rw" on the gateway takes one fixed client subnet for its road
    // warrior; two warriors in turn claim it (the seed: the negotiation
    // unorients any other instance with that subnet).
    let mut net = Net::new(6);
    let e = net.add_node("east", ip(2), 50, false);
    let theirs = End {
        client: Some(subnet(9, 0)),
        ..end(None, None, false)
    };
    let gw = ConnConfig::new(
        "rw",
        end(Some(ip(2)), None, true),
        theirs,
        esp_tunnel_policy(),
    );
    net.command(e, Command::AddConnection(Box::new(gw)));
    net.command(e, Command::LoadSecrets(secrets()));
    for (i, last) in [1u8, 3].into_iter().enumerate() {
        let n = net.add_node(&format!("warrior{i}"), ip(last), 51 + i as u64, false);
        let ours = End {
            client: Some(subnet(9, 0)),
            ..end(Some(ip(last)), Some("w"), false)
        };
        let c = ConnConfig::new(
            "rw",
            ours,
            end(Some(ip(2)), None, true),
            esp_tunnel_policy(),
        );
        net.command(n, Command::AddConnection(Box::new(c)));
        net.command(n, Command::LoadSecrets(secrets()));
    }
    dial(&mut net, 1);
    assert_eq!(net.nodes[0].ep.instances_of("rw"), [(1, ip(1))]);
    dial(&mut net, 2);
    let gw = &net.nodes[0];
    assert!(
        gw.log_contains("\"rw\"[1] 192.0.2.1 #2: unorienting this instance: #4 from 192.0.2.3"),
        "{}",
        gw.dump_logs()
    );
    assert_eq!(with_peer(&net, 1), 0, "{}", gw.dump_logs());
    assert_eq!(gw.ep.instances_of("rw"), [(2, ip(3))]);
    assert_eq!((gw.established(false), gw.established(true)), (1, 1));
    // The kernel's policies for the client lead to the new warrior only.
    assert!(gw
        .kernel
        .policies
        .iter()
        .all(|p| p.src_gw == ip(3) || p.dst_gw == ip(3)));
    // The first warrior was told and holds nothing.
    assert_eq!(
        net.nodes[1].states().len(),
        0,
        "{}",
        net.nodes[1].dump_logs()
    );
}
