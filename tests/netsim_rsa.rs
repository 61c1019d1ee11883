//! Main Mode with RSA signatures on the simulated network.
mod common;
use common::rsa_keys::keys;
use common::sim::*;
use rswan::ike::config::{ConnConfig, PublicKey, RsaSecret};
use rswan::ike::crypto::rsa::RsaPrivateKeyParts;
use rswan::ike::wire::Identity;
use rswan::ike::{Command, SecretIndex, Secrets};
use std::net::IpAddr;
use std::time::Duration;

fn id(a: IpAddr) -> Identity {
    match a {
        IpAddr::V4(v) => Identity::Ipv4(v),
        IpAddr::V6(v) => Identity::Ipv6(v),
    }
}

/// Secrets of `me` holding `mine`, and the peer's public key `theirs`.
fn secrets(
    me: IpAddr,
    peer: IpAddr,
    mine: &RsaPrivateKeyParts,
    theirs: &RsaPrivateKeyParts,
) -> Secrets {
    common::rsa_keys::rsa_secrets(me, mine, &[(peer, theirs)])
}

/// West and east with RSA keys loaded (west knows `west_knows` as east's
/// public key), nothing started yet.
fn rsa_pair(seed: u64, west_knows: &RsaPrivateKeyParts) -> Net {
    let (kw, ke, _) = keys();
    let pol = common::rsa_keys::rsa_tunnel_policy();
    let (w, e) = conn_pair("west-east", pol);
    let mut net = pair(seed, false, w, e, "unused", "unused");
    net.command(
        0,
        Command::LoadSecrets(secrets(ip(1), ip(2), kw, west_knows)),
    );
    net.command(1, Command::LoadSecrets(secrets(ip(2), ip(1), ke, kw)));
    net
}

fn rsa_net(west_knows: &RsaPrivateKeyParts) -> Net {
    let mut net = rsa_pair(5, west_knows);
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(300));
    net
}

#[test]
fn rsa_signatures_authenticate_both_ends() {
    let net = rsa_net(&keys().1);
    for n in &net.nodes {
        assert_eq!(n.established(false), 1, "{}", n.dump_logs());
        assert_eq!(n.established(true), 1, "{}", n.dump_logs());
        assert!(n.log_contains("auth=OAKLEY_RSA_SIG"), "{}", n.dump_logs());
    }
}

#[test]
fn a_wrong_public_key_fails_the_signature_check() {
    // West holds a key for east that is not east's: MR3's signature cannot verify.
    let net = rsa_net(&keys().2);
    let west = &net.nodes[0];
    assert_eq!(west.established(false), 0, "{}", west.dump_logs());
    assert!(
        west.log_contains("RSA signature over HASH_R does not verify"),
        "{}",
        west.dump_logs()
    );
    assert_eq!(net.nodes[1].established(true), 0);
}

#[test]
fn without_a_private_key_rsa_is_not_offered() {
    let pol = common::rsa_keys::rsa_tunnel_policy();
    let (w, e) = conn_pair("west-east", pol);
    let mut net = pair(6, false, w, e, "unused", "unused");
    net.command(0, Command::LoadSecrets(Secrets::default()));
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(5));
    assert!(
        net.nodes[0].log_contains("RSA signatures need our private key"),
        "{}",
        net.nodes[0].dump_logs()
    );
    assert!(net.wire.is_empty(), "nothing may be sent");
}

// ---------------------------------------------------------------------------
// The responder's connection switch on the ID in MI3 (Main Mode message 5).

fn fqdn(name: &str) -> Identity {
    Identity::Fqdn(name.as_bytes().to_vec())
}

fn end(host: u8, id: Option<Identity>, net: u8) -> rswan::ike::config::End {
    rswan::ike::config::End {
        host: Some(ip(host)),
        port: 500,
        id,
        client: Some(subnet(net, 0)),
        virt: None,
    }
}

/// East has two connections to the same address, "to-a" (peer ID @a.example,
/// key 0) and "to-b" (@b.example, key 2), "to-a" added first so that MI1's
/// choice by addresses lands on it. West declares `west_id` and signs with
/// `west_key`.
fn two_conn_net(seed: u64, west_id: &str, west_key: &RsaPrivateKeyParts) -> Net {
    let (ka, ke, kb) = keys();
    let pol = common::rsa_keys::rsa_tunnel_policy();
    let mut net = Net::new(seed);
    let w = net.add_node("west", ip(1), seed * 3 + 1, false);
    let e = net.add_node("east", ip(2), seed * 3 + 2, false);
    let west = ConnConfig::new(
        "to-east",
        end(1, Some(fqdn(west_id)), 1),
        end(2, None, 2),
        pol,
    );
    net.command(w, Command::AddConnection(Box::new(west)));
    for (name, peer) in [("to-a", "a.example"), ("to-b", "b.example")] {
        let c = ConnConfig::new(name, end(2, None, 2), end(1, Some(fqdn(peer)), 1), pol);
        net.command(e, Command::AddConnection(Box::new(c)));
    }
    net.command(
        w,
        Command::LoadSecrets(Secrets {
            rsa: vec![RsaSecret {
                indices: vec![SecretIndex::Id(fqdn(west_id))],
                key: west_key.clone(),
            }],
            public_keys: vec![PublicKey {
                id: id(ip(2)),
                key: ke.public().expect("public half"),
            }],
            ..Secrets::default()
        }),
    );
    // East knows a key for each of @a, @b and @c (so that a refusal of @c
    // is about the ID, not about a missing key).
    let pubs = [("a.example", ka), ("b.example", kb), ("c.example", ka)];
    net.command(
        e,
        Command::LoadSecrets(Secrets {
            rsa: vec![RsaSecret {
                indices: vec![SecretIndex::Id(id(ip(2)))],
                key: ke.clone(),
            }],
            public_keys: pubs
                .iter()
                .map(|(n, k)| PublicKey {
                    id: fqdn(n),
                    key: k.public().expect("public half"),
                })
                .collect(),
            ..Secrets::default()
        }),
    );
    net.command(w, Command::Initiate("to-east".into()));
    net.run(Duration::from_secs(300));
    net
}

#[test]
fn responder_switches_to_the_connection_of_the_declared_id() {
    let net = two_conn_net(11, "b.example", &keys().2);
    let east = &net.nodes[1];
    for n in &net.nodes {
        assert_eq!(n.established(false), 1, "{}", n.dump_logs());
        assert_eq!(n.established(true), 1, "{}", n.dump_logs());
    }
    assert!(
        east.log_contains("switched from \"to-a\" to \"to-b\""),
        "{}",
        east.dump_logs()
    );
    // Both SAs belong to "to-b": the phase-1 state moved, Quick Mode followed it.
    let conns: Vec<String> = east.states().into_iter().map(|s| s.conn).collect();
    assert_eq!(conns, ["to-b", "to-b"], "{}", east.dump_logs());
}

#[test]
fn no_switch_when_mi1_choice_already_fits() {
    let net = two_conn_net(12, "a.example", &keys().0);
    let east = &net.nodes[1];
    assert_eq!(east.established(true), 1, "{}", east.dump_logs());
    assert!(!east.log_contains("switched from"), "{}", east.dump_logs());
    assert!(east.states().iter().all(|s| s.conn == "to-a"));
}

#[test]
fn the_switched_connection_peer_key_is_required() {
    // West claims @b.example but signs with @a.example's key: after the switch
    // the signature is checked against @b's key and fails.
    let net = two_conn_net(13, "b.example", &keys().0);
    let east = &net.nodes[1];
    assert_eq!(east.established(false), 0, "{}", east.dump_logs());
    assert!(
        east.log_contains("RSA signature over HASH_I does not verify"),
        "{}",
        east.dump_logs()
    );
}

#[test]
fn a_peer_id_no_connection_names_is_refused() {
    let net = two_conn_net(14, "c.example", &keys().0);
    let east = &net.nodes[1];
    assert_eq!(east.established(false), 0, "{}", east.dump_logs());
    assert!(!east.log_contains("switched from"), "{}", east.dump_logs());
    assert!(
        east.log_contains(
            "we require peer to have ID '@a.example', but peer declares '@c.example'"
        ),
        "{}",
        east.dump_logs()
    );
    assert_eq!(net.nodes[0].established(true), 0);
}

/// Signatures are computations too: MI3 waits for g^xy and then for the
/// signature, MR3 for its signature; every datagram arrives twice, and a
/// copy of MI3 while MR3's signature is made draws nothing (not even MR2
/// again).
#[test]
fn signatures_made_elsewhere_in_both_roles() {
    const DELAY: Duration = Duration::from_millis(200);
    let mut net = rsa_pair(6, &keys().1);
    net.compute_delay = Some(DELAY);
    net.duplicate = true;
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(10));
    for n in &net.nodes {
        assert_eq!(n.established(false), 1, "{}", n.dump_logs());
        assert!(n.log_contains("auth=OAKLEY_RSA_SIG"), "{}", n.dump_logs());
        assert_eq!(n.ep.computations_outstanding(), 0);
    }
    let (w, e) = (net.sent_by(1), net.sent_by(2));
    let l = net.latency;
    let between = |t: &[Duration], from: Duration, to: Duration| {
        t.iter().filter(|x| **x >= from && **x < to).count()
    };
    // East: MR1, MR1 again (the repeated MI1), MR2, MR3; west: MI1, MI2, MI3.
    let (mr2, mi3) = (e[2], w[2]);
    assert_eq!(
        mi3,
        mr2 + l + DELAY * 2,
        "g^xy, then the signature: {w:?} {e:?}"
    );
    let mi3_in = mi3 + l;
    assert_eq!(between(&e, mi3_in, mi3_in + DELAY), 0, "{e:?}");
    assert_eq!(between(&e, mi3_in + DELAY, mi3_in + DELAY + l), 1, "{e:?}");
    assert!(net.nodes[1].log_contains("duplicate"));
}
