//! Opportunistic Encryption on the simulated network: two gateways with
//! only `%opportunistic` templates, every key and gateway in DNS.
mod common;
use common::sim::*;
use rswan::dns::wire::{Rdata, Record};
use rswan::ike::config::RsaSecret;
use rswan::ike::crypto::rsa::RsaPrivateKeyParts;
use rswan::ike::kernel::{PolicyAction, Selector};
use rswan::ike::wire::Identity;
use rswan::ike::{Command, ConnConfig, End, Policy, SecretIndex, Secrets};
use rswan::text::data::encode_base64;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

fn keys() -> (&'static RsaPrivateKeyParts, &'static RsaPrivateKeyParts) {
    let (w, e, _) = common::rsa_keys::keys();
    (w, e)
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

fn any() -> Selector {
    Selector {
        addr: v4([0, 0, 0, 0]),
        prefix: 0,
        protocol: 0,
        port: 0,
    }
}

/// `me`'s template: its client `net`, any peer in DNS.
fn template(me: u8, net: u8, failure: Option<PolicyAction>) -> ConnConfig {
    let local = End {
        host: Some(ip(me)),
        port: PORT,
        id: None,
        client: Some(subnet(net, 0)),
        virt: None,
    };
    let remote = End {
        host: None,
        port: PORT,
        id: None,
        client: Some(any()),
        virt: None,
    };
    let policy = Policy {
        rsasig: true,
        encrypt: true,
        tunnel: true,
        pfs: true,
        opportunistic: true,
        failure_shunt: failure,
        ..Policy::default()
    };
    let mut c = ConnConfig::new("oe", local, remote, policy);
    c.key_from_dns = true;
    c
}

fn txt(name: &str, text: String) -> Record {
    Record {
        name: name.into(),
        data: Rdata::Txt(vec![text.into_bytes()]),
    }
}

fn key(k: &RsaPrivateKeyParts) -> String {
    encode_base64(&k.public().expect("public half").to_rfc3110())
}

/// The gateways' own records (with keys) and their clients' (gateway only).
/// `west_client_gw`: the gateway DNS names for 10.1.0.1.
fn zone(west_client_gw: &str) -> Vec<Record> {
    let (kw, ke) = keys();
    vec![
        txt(
            "1.2.0.192.in-addr.arpa",
            format!("X-IPsec-Server(10)=192.0.2.1 {}", key(kw)),
        ),
        txt(
            "2.2.0.192.in-addr.arpa",
            format!("X-IPsec-Server(10)=192.0.2.2 {}", key(ke)),
        ),
        txt(
            "1.0.1.10.in-addr.arpa",
            format!("X-IPsec-Server(10)={west_client_gw}"),
        ),
        txt(
            "1.0.2.10.in-addr.arpa",
            "X-IPsec-Server(10)=192.0.2.2".into(),
        ),
    ]
}

fn oe_net(seed: u64, zone: Vec<Record>) -> Net {
    let (kw, ke) = keys();
    let mut net = Net::new(seed);
    let w = net.add_node("west", ip(1), seed * 3 + 1, false);
    let e = net.add_node("east", ip(2), seed * 3 + 2, false);
    net.zone = zone;
    for (n, me, net_, k) in [(w, 1, 1, kw), (e, 2, 2, ke)] {
        net.command(
            n,
            Command::AddConnection(Box::new(template(me, net_, Some(PolicyAction::Pass)))),
        );
        net.command(
            n,
            Command::LoadSecrets(Secrets {
                rsa: vec![RsaSecret {
                    indices: vec![SecretIndex::Id(Identity::Ipv4(Ipv4Addr::new(
                        192, 0, 2, me,
                    )))],
                    key: k.clone(),
                }],
                ..Secrets::default()
            }),
        );
        net.command(n, Command::Route("oe".into()));
    }
    net.run(Duration::from_secs(1));
    net
}

#[test]
fn traffic_to_a_destination_with_a_gateway_in_dns_goes_encrypted() {
    let mut net = oe_net(1, zone("192.0.2.1"));
    let (c1, c2) = (v4([10, 1, 0, 1]), v4([10, 2, 0, 1]));
    assert!(matches!(net.traffic(0, c1, c2), Fate::Held(Some(_))));
    net.run(Duration::from_secs(60));
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    assert_eq!(west.established(true), 1, "{}", west.dump_logs());
    assert_eq!(east.established(true), 1, "{}", east.dump_logs());
    assert!(
        west.log_contains(
            "10.2.0.1 is behind 192.0.2.2 (DNS 1.0.2.10.in-addr.arpa): negotiating with it"
        ),
        "{}",
        west.dump_logs()
    );
    assert!(
        east.log_contains("DNS (1.0.1.10.in-addr.arpa) names 192.0.2.1 as the gateway of 10.1.0.1"),
        "{}",
        east.dump_logs()
    );
    // Each side's SAs are for the two clients alone.
    let sel = |a: IpAddr| Selector {
        addr: a,
        prefix: 32,
        protocol: 0,
        port: 0,
    };
    let pol = west
        .kernel
        .policies
        .iter()
        .find(|p| !p.inbound && p.src_sel == sel(c1))
        .expect("west's policy for the pair");
    assert_eq!((pol.dst_sel, pol.dst_gw), (sel(c2), ip(2)));
    let asked: Vec<&str> = net.lookups.iter().map(|(_, l)| l.name.as_str()).collect();
    let asked: Vec<String> = asked.into_iter().map(String::from).collect();
    assert!(matches!(net.traffic(0, c1, c2), Fate::Protected(_)));
    for name in [
        "1.0.2.10.in-addr.arpa",
        "2.2.0.192.in-addr.arpa",
        "1.2.0.192.in-addr.arpa",
        "1.0.1.10.in-addr.arpa",
    ] {
        assert_eq!(
            asked.iter().filter(|n| **n == name).count(),
            2,
            "{name}: TXT and IPSECKEY once: {asked:?}"
        );
    }
}

#[test]
fn a_destination_without_a_gateway_gets_the_failure_shunt() {
    let mut net = oe_net(2, zone("192.0.2.1"));
    let (c1, other) = (v4([10, 1, 0, 1]), v4([10, 2, 0, 7]));
    assert!(matches!(net.traffic(0, c1, other), Fate::Held(Some(_))));
    net.run(Duration::from_secs(10));
    let west = &net.nodes[0];
    assert!(
        west.log_contains("no gateway for 10.2.0.7 in DNS (7.0.2.10.in-addr.arpa)"),
        "{}",
        west.dump_logs()
    );
    assert!(
        west.log_contains("failure shunt %pass installed for 10.1.0.1 -> 10.2.0.7"),
        "{}",
        west.dump_logs()
    );
    assert_eq!(net.traffic(0, c1, other), Fate::Passed);
    assert!(net.wire.is_empty(), "no IKE for it");
    // Unrouting the template takes the shunt away.
    net.command(0, Command::Unroute("oe".into()));
    net.run(Duration::from_secs(1));
    assert_eq!(net.traffic(0, c1, other), Fate::NoPolicy);
}

#[test]
fn a_peer_that_dns_does_not_name_as_the_gateway_of_its_client_is_refused() {
    // DNS says 10.1.0.1 is behind 192.0.2.9: west may not speak for it.
    let mut net = oe_net(3, zone("192.0.2.9"));
    let (c1, c2) = (v4([10, 1, 0, 1]), v4([10, 2, 0, 1]));
    net.traffic(0, c1, c2);
    net.run(Duration::from_secs(60));
    let east = &net.nodes[1];
    assert_eq!(east.established(true), 0, "{}", east.dump_logs());
    assert!(
        east.log_contains("DNS does not name 192.0.2.1 as the gateway of 10.1.0.1"),
        "{}",
        east.dump_logs()
    );
    assert!(east.kernel.sas.is_empty());
}

#[test]
fn failure_shunts_are_bounded() {
    // A client that tries a thousand destinations without records gets a
    // shunt for each up to the limit; past it the traffic stays held.
    let mut net = oe_net(4, zone("192.0.2.1"));
    let c1 = v4([10, 1, 0, 1]);
    let limit = 1024;
    for i in 0..limit + 50 {
        let dst = v4([10, 9, (i / 250) as u8, (i % 250) as u8 + 1]);
        net.traffic(0, c1, dst);
        if i % 200 == 199 {
            net.run(Duration::from_secs(1));
        }
    }
    net.run(Duration::from_secs(5));
    let west = &net.nodes[0];
    let shunts = west
        .kernel
        .policies
        .iter()
        .filter(|p| p.action == PolicyAction::Pass)
        .count();
    assert_eq!(shunts, limit);
    assert_eq!(
        west.logs_with("stays held until the kernel gives up").len(),
        50,
        "the rest are held"
    );
}

#[test]
fn shutdown_takes_the_failure_shunts() {
    let mut net = oe_net(5, zone("192.0.2.1"));
    let (c1, other) = (v4([10, 1, 0, 1]), v4([10, 2, 0, 7]));
    net.traffic(0, c1, other);
    net.run(Duration::from_secs(10));
    assert_eq!(net.traffic(0, c1, other), Fate::Passed);
    net.command(0, Command::Shutdown);
    net.run(Duration::from_secs(1));
    let west = &net.nodes[0];
    assert!(
        west.kernel.policies.is_empty(),
        "{:?}",
        west.kernel.policies
    );
}
