//! Main Mode with RSA signatures on the simulated network.
mod common;
use common::sim::*;
use rswan::ike::config::{PublicKey, RsaSecret};
use rswan::ike::crypto::rsa::{generate, RsaPrivateKeyParts};
use rswan::ike::rng::SeededRng;
use rswan::ike::wire::Identity;
use rswan::ike::{Command, Policy, SecretIndex, Secrets};
use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;

fn id(a: IpAddr) -> Identity {
    match a {
        IpAddr::V4(v) => Identity::Ipv4(v),
        IpAddr::V6(v) => Identity::Ipv6(v),
    }
}

/// Two 1024-bit keys (the smallest accepted), made once: generation is slow in debug builds.
fn keys() -> &'static (RsaPrivateKeyParts, RsaPrivateKeyParts, RsaPrivateKeyParts) {
    static K: OnceLock<(RsaPrivateKeyParts, RsaPrivateKeyParts, RsaPrivateKeyParts)> =
        OnceLock::new();
    K.get_or_init(|| {
        let mut rng = SeededRng::new(42);
        let g = |r: &mut SeededRng| generate(1024, r).expect("key generation");
        (g(&mut rng), g(&mut rng), g(&mut rng))
    })
}

/// Secrets of `me` holding `mine`, and the peer's public key `theirs`.
fn secrets(
    me: IpAddr,
    peer: IpAddr,
    mine: &RsaPrivateKeyParts,
    theirs: &RsaPrivateKeyParts,
) -> Secrets {
    Secrets {
        rsa: vec![RsaSecret {
            indices: vec![SecretIndex::Id(id(me))],
            key: mine.clone(),
        }],
        public_keys: vec![PublicKey {
            id: id(peer),
            key: theirs.public().expect("public half"),
        }],
        ..Secrets::default()
    }
}

fn rsa_net(west_knows: &RsaPrivateKeyParts) -> Net {
    let (kw, ke, _) = keys();
    let pol = Policy {
        rsasig: true,
        encrypt: true,
        tunnel: true,
        ..Policy::default()
    };
    let (w, e) = conn_pair("west-east", pol);
    let mut net = pair(5, false, w, e, "unused", "unused");
    net.command(
        0,
        Command::LoadSecrets(secrets(ip(1), ip(2), kw, west_knows)),
    );
    net.command(1, Command::LoadSecrets(secrets(ip(2), ip(1), ke, kw)));
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
    let pol = Policy {
        rsasig: true,
        encrypt: true,
        tunnel: true,
        ..Policy::default()
    };
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
