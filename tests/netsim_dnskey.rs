//! Keys from DNS (`--dnskeyondemand`) on the simulated network: a peer ID
//! without a key on record has its key looked up (TXT `X-IPsec-Server` and
//! IPSECKEY of the ID's name) while MI3/MR3 waits, and the answer decides.
mod common;
use common::rsa_keys::keys;
use common::sim::*;
use rswan::dns::wire::{Gateway, IpsecKey, Rdata, Record, TYPE_IPSECKEY, TYPE_TXT};
use rswan::ike::crypto::rsa::RsaPrivateKeyParts;
use rswan::ike::Command;
use rswan::text::data::encode_base64;
use std::net::Ipv4Addr;
use std::time::Duration;

const WEST_REV: &str = "1.2.0.192.in-addr.arpa";

fn blob(k: &RsaPrivateKeyParts) -> Vec<u8> {
    k.public().expect("public half").to_rfc3110()
}

fn txt(name: &str, text: &str) -> Record {
    Record {
        name: name.into(),
        data: Rdata::Txt(vec![text.as_bytes().to_vec()]),
    }
}

/// West knows east's key; east knows none for west and may ask DNS.
fn net(seed: u64, zone: Vec<Record>, dns_delay: Option<Duration>) -> Net {
    net_with(seed, zone, dns_delay, false)
}

/// As [`net`], every datagram delivered twice if `duplicate`.
fn net_with(seed: u64, zone: Vec<Record>, dns_delay: Option<Duration>, duplicate: bool) -> Net {
    let (kw, ke, _) = keys();
    let pol = common::rsa_keys::rsa_tunnel_policy();
    let (w, mut e) = conn_pair("west-east", pol);
    e.key_from_dns = true;
    let mut net = pair(seed, false, w, e, "unused", "unused");
    net.zone = zone;
    net.dns_delay = dns_delay;
    net.duplicate = duplicate;
    let secrets = common::rsa_keys::rsa_secrets;
    net.command(0, Command::LoadSecrets(secrets(ip(1), kw, &[(ip(2), ke)])));
    net.command(1, Command::LoadSecrets(secrets(ip(2), ke, &[])));
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(120));
    net
}

#[test]
fn a_txt_record_supplies_the_key_of_an_unknown_peer() {
    let record = format!(
        "X-IPsec-Server(10)=192.0.2.1 {}",
        encode_base64(&blob(&keys().0))
    );
    let net = net(
        1,
        vec![txt(WEST_REV, "v=spf1 -all"), txt(WEST_REV, &record)],
        Some(Duration::from_millis(300)),
    );
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    assert_eq!(east.established(false), 1, "{}", east.dump_logs());
    assert_eq!(east.established(true), 1, "{}", east.dump_logs());
    assert_eq!(west.established(true), 1, "{}", west.dump_logs());
    assert!(
        east.log_contains(&format!(
            "no RSA public key known for '192.0.2.1': asking DNS (TXT and IPSECKEY of {WEST_REV})"
        )),
        "{}",
        east.dump_logs()
    );
    assert!(
        east.log_contains(&format!(
            "DNS gave 1 RSA public key(s) for '192.0.2.1' under {WEST_REV}"
        )),
        "{}",
        east.dump_logs()
    );
    let asked: Vec<(usize, &str, u16)> = net
        .lookups
        .iter()
        .map(|(n, l)| (*n, l.name.as_str(), l.qtype))
        .collect();
    assert_eq!(
        asked,
        vec![(1, WEST_REV, TYPE_TXT), (1, WEST_REV, TYPE_IPSECKEY)],
        "only east asks, once"
    );
}

#[test]
fn an_ipseckey_record_supplies_it_too() {
    let rec = Record {
        name: WEST_REV.into(),
        data: Rdata::IpsecKey(IpsecKey {
            precedence: 10,
            gateway: Gateway::V4(Ipv4Addr::new(192, 0, 2, 1)),
            algorithm: 2,
            key: blob(&keys().0),
        }),
    };
    let net = net(2, vec![rec], Some(Duration::from_millis(20)));
    let east = &net.nodes[1];
    assert_eq!(east.established(true), 1, "{}", east.dump_logs());
}

#[test]
fn without_a_key_in_dns_the_exchange_fails() {
    // A record of another gateway's key does not speak for 192.0.2.1, a
    // record with the wrong key fails the signature, none at all fails.
    // Without a key the state goes at once; with a wrong one it is left to
    // time out, as any state whose peer misbehaves.
    let other_gw = format!(
        "X-IPsec-Server(10)=192.0.2.9 {}",
        encode_base64(&blob(&keys().0))
    );
    let wrong_key = format!(
        "X-IPsec-Server(10)=192.0.2.1 {}",
        encode_base64(&blob(&keys().2))
    );
    let no_key = "no RSA public key known for '192.0.2.1', not even in DNS";
    for (seed, zone, delay, says, gone) in [
        (
            3,
            vec![txt(WEST_REV, &other_gw)],
            Some(Duration::from_millis(20)),
            no_key,
            true,
        ),
        (
            4,
            vec![txt(WEST_REV, &wrong_key)],
            Some(Duration::from_millis(20)),
            "RSA signature over HASH_I does not verify",
            false,
        ),
        (
            5,
            vec![],
            Some(Duration::from_millis(20)),
            "DNS gave 0 RSA public key(s) for '192.0.2.1'",
            true,
        ),
        (
            6,
            vec![],
            None,
            "(name server 192.0.2.53:53: no answer; name server 192.0.2.53:53: no answer)",
            true,
        ),
    ] {
        let net = net(seed, zone, delay);
        let east = &net.nodes[1];
        assert_eq!(east.established(false), 0, "{}", east.dump_logs());
        assert!(east.log_contains(says), "{says}: {}", east.dump_logs());
        if gone {
            assert!(east.log_contains(no_key), "{}", east.dump_logs());
            assert!(east.states().is_empty(), "{:?}", east.states());
        }
        assert_eq!(net.nodes[0].established(true), 0);
    }
}

#[test]
fn copies_of_the_parked_message_ask_nothing_more() {
    // Every datagram twice, and a slow name server: west resends MI3
    // meanwhile; east still asks once and comes up once.
    let record = format!(
        "X-IPsec-Server(10)=192.0.2.1 {}",
        encode_base64(&blob(&keys().0))
    );
    let zone = vec![txt(WEST_REV, &record)];
    let net = net_with(9, zone, Some(Duration::from_secs(12)), true);
    let east = &net.nodes[1];
    assert_eq!(net.lookups.len(), 2, "{:?}", net.lookups);
    assert_eq!(east.established(false), 1, "{}", east.dump_logs());
    assert_eq!(east.established(true), 1, "{}", east.dump_logs());
}
