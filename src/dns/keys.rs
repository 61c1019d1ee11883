//! Public keys and gateways published in DNS, as FreeS/WAN read them: the
//! name an identity's records live under (the reverse-map name of an
//! address, the name of an FQDN), and the two record forms:
//!
//! - TXT `X-IPsec-Server(PRECEDENCE)=GATEWAY KEY`, the key in RFC 3110's
//!   format as base64 (an optional `0s` prefix accepted), or no key (the
//!   gateway's own records hold it);
//! - IPSECKEY (RFC 4025) with algorithm 2 (RSA), gateway of any type.
//!
//! Nothing here trusts what it reads: a record that does not parse is
//! skipped with a reason, and the caller decides what a key may prove.

use super::wire::{Gateway, Rdata, Record};
use crate::ike::wire::Identity;
use std::net::IpAddr;

/// One key record for a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// Lower is preferred (RFC 4025 §2.2; FreeS/WAN's TXT the same).
    pub precedence: u8,
    /// The security gateway that speaks for the name, if the record names one.
    pub gateway: Gateway,
    /// The RSA public key in RFC 3110 form, if the record carries one.
    pub key: Option<Vec<u8>>,
}

/// The name an identity's key records are published under, if it has one:
/// an address's reverse-map name, an FQDN's own name.
pub fn name_for(id: &Identity) -> Option<String> {
    match id {
        Identity::Ipv4(a) => Some(reverse_name(IpAddr::V4(*a))),
        Identity::Ipv6(a) => Some(reverse_name(IpAddr::V6(*a))),
        Identity::Fqdn(n) => {
            let n = std::str::from_utf8(n).ok()?;
            super::wire::check_name(n.trim_start_matches('@')).ok()
        }
        _ => None,
    }
}

/// `d.c.b.a.in-addr.arpa`, or the 32 nibbles of `ip6.arpa`.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(a) => {
            let mut s = String::with_capacity(72);
            for b in a.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", b & 0xf, b >> 4));
            }
            s.push_str("ip6.arpa");
            s
        }
    }
}

/// The key records among `records` owned by `name`, best first, and the
/// reasons the others under it were skipped.
pub fn key_records(records: &[Record], name: &str) -> (Vec<KeyRecord>, Vec<String>) {
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    for r in records.iter().filter(|r| r.name == name) {
        let parsed = match &r.data {
            Rdata::Txt(strings) => match x_ipsec_server(&strings.concat()) {
                Some(p) => p,
                None => continue, // some other TXT record
            },
            Rdata::IpsecKey(k) => match k.algorithm {
                2 => Ok(KeyRecord {
                    precedence: k.precedence,
                    gateway: k.gateway.clone(),
                    key: (!k.key.is_empty()).then(|| k.key.clone()),
                }),
                0 if k.key.is_empty() => Ok(KeyRecord {
                    precedence: k.precedence,
                    gateway: k.gateway.clone(),
                    key: None,
                }),
                a => Err(format!("IPSECKEY of algorithm {a}, not RSA")),
            },
            _ => continue,
        };
        match parsed {
            // In order of precedence, equal ones in the order served.
            Ok(k) => {
                let at = keys.partition_point(|o: &KeyRecord| o.precedence <= k.precedence);
                keys.insert(at, k);
            }
            Err(e) => skipped.push(e),
        }
    }
    (keys, skipped)
}

/// Reads a TXT record's text. `None`: not an `X-IPsec-Server` record at
/// all; `Some(Err)`: one, but malformed.
fn x_ipsec_server(text: &[u8]) -> Option<Result<KeyRecord, String>> {
    const TAG: &[u8] = b"x-ipsec-server(";
    let head = text.get(..TAG.len())?;
    if !head.eq_ignore_ascii_case(TAG) {
        return None;
    }
    Some(parse_x_ipsec_server(&text[TAG.len()..]))
}

fn parse_x_ipsec_server(rest: &[u8]) -> Result<KeyRecord, String> {
    let text = String::from_utf8_lossy(rest);
    let bad = || {
        let shown: String = text.chars().take(60).collect();
        format!("malformed X-IPsec-Server record \"({shown}\"")
    };
    let (prec, rest) = text.split_once(")=").ok_or_else(bad)?;
    let precedence: u8 = prec.trim().parse().map_err(|_| bad())?;
    let mut words = rest.split_ascii_whitespace();
    let gw = words.next().ok_or_else(bad)?;
    let gateway = match gw.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => Gateway::V4(a),
        Ok(IpAddr::V6(a)) => Gateway::V6(a),
        Err(_) => {
            Gateway::Name(super::wire::check_name(gw.trim_start_matches('@')).map_err(|_| bad())?)
        }
    };
    let key = match words.next() {
        None => None,
        Some(k) => {
            let b64 = k.trim_start_matches("0s").trim_start_matches("0S");
            Some(
                crate::text::data::ttodata_public(format!("0s{b64}").as_bytes())
                    .map_err(|_| bad())?,
            )
        }
    };
    if words.next().is_some() {
        return Err(bad());
    }
    Ok(KeyRecord {
        precedence,
        gateway,
        key,
    })
}

impl Gateway {
    /// The gateway's address, when the record gives one.
    pub fn addr(&self) -> Option<IpAddr> {
        match self {
            Gateway::V4(a) => Some(IpAddr::V4(*a)),
            Gateway::V6(a) => Some(IpAddr::V6(*a)),
            Gateway::None | Gateway::Name(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn txt(name: &str, s: &[&str]) -> Record {
        Record {
            name: name.into(),
            data: Rdata::Txt(s.iter().map(|s| s.as_bytes().to_vec()).collect()),
        }
    }

    #[test]
    fn names_of_identities() {
        let v4 = Identity::Ipv4(Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(name_for(&v4).unwrap(), "1.2.0.192.in-addr.arpa");
        let v6 = Identity::Ipv6("2001:db8::1".parse::<Ipv6Addr>().unwrap());
        let n = name_for(&v6).unwrap();
        assert!(n.starts_with("1.0.0.0.0.0.0.0."), "{n}");
        assert!(n.ends_with(".8.b.d.0.1.0.0.2.ip6.arpa"), "{n}");
        assert_eq!(n.split('.').count(), 34);
        let fqdn = Identity::Fqdn(b"East.Example.ORG".to_vec());
        assert_eq!(name_for(&fqdn).unwrap(), "east.example.org");
        assert_eq!(name_for(&Identity::UserFqdn(b"a@b".to_vec())), None);
        assert_eq!(name_for(&Identity::Fqdn(b"bad..name".to_vec())), None);
    }

    #[test]
    fn x_ipsec_server_records() {
        let n = "1.2.0.192.in-addr.arpa";
        let records = vec![
            txt(n, &["v=spf1 -all"]),
            txt(n, &["X-IPsec-Server(20)=192.0.2.9"]),
            // Split over two strings, as long keys are; `0s` allowed.
            txt(n, &["X-IPsec-Server(10)=192.0.2.1 ", "0sAQMBAAE="]),
            txt(n, &["x-ipsec-server(5)=@gw.example.org AQMBAAE="]),
            txt(n, &["X-IPsec-Server(300)=192.0.2.1 AQMBAAE="]),
            txt(n, &["X-IPsec-Server(1)=192.0.2.1 !!!"]),
            txt(n, &["X-IPsec-Server(1)=192.0.2.1 AQMBAAE= extra"]),
            txt(n, &["X-IPsec-Server(1)"]),
            txt("other.example", &["X-IPsec-Server(1)=192.0.2.7 AQMBAAE="]),
        ];
        let (keys, skipped) = key_records(&records, n);
        assert_eq!(
            keys,
            vec![
                KeyRecord {
                    precedence: 5,
                    gateway: Gateway::Name("gw.example.org".into()),
                    key: Some(vec![1, 3, 1, 0, 1]),
                },
                KeyRecord {
                    precedence: 10,
                    gateway: Gateway::V4(Ipv4Addr::new(192, 0, 2, 1)),
                    key: Some(vec![1, 3, 1, 0, 1]),
                },
                KeyRecord {
                    precedence: 20,
                    gateway: Gateway::V4(Ipv4Addr::new(192, 0, 2, 9)),
                    key: None,
                },
            ]
        );
        assert_eq!(
            skipped,
            [
                "malformed X-IPsec-Server record \"(300)=192.0.2.1 AQMBAAE=\"",
                "malformed X-IPsec-Server record \"(1)=192.0.2.1 !!!\"",
                "malformed X-IPsec-Server record \"(1)=192.0.2.1 AQMBAAE= extra\"",
                "malformed X-IPsec-Server record \"(1)\"",
            ]
        );
    }

    #[test]
    fn ipseckey_records() {
        let n = "east.example.org";
        let rec = |alg: u8, key: &[u8], gw: Gateway| Record {
            name: n.into(),
            data: Rdata::IpsecKey(super::super::wire::IpsecKey {
                precedence: 10,
                gateway: gw,
                algorithm: alg,
                key: key.to_vec(),
            }),
        };
        let gw = Gateway::V6("2001:db8::2".parse().unwrap());
        let records = vec![
            rec(2, &[1, 3, 1, 0, 1], Gateway::None),
            rec(1, &[9, 9], Gateway::None),
            rec(0, &[], gw.clone()),
        ];
        let (keys, skipped) = key_records(&records, n);
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].key.as_deref(), Some(&[1, 3, 1, 0, 1][..]));
        assert_eq!(keys[0].gateway.addr(), None);
        assert_eq!(
            (keys[1].key.as_ref(), keys[1].gateway.addr()),
            (None, gw.addr())
        );
        assert_eq!(
            skipped,
            vec!["IPSECKEY of algorithm 1, not RSA".to_string()]
        );
    }
}
