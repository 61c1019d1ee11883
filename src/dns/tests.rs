//! The resolver's pieces on made-up messages and files, and a lookup
//! against a name server on the loopback.

use super::conf::{hosts_lookup, ResolvConf};
use super::wire::*;
use super::Resolver;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration;

/// An answer to query `q` (as `query` made it) with `rcode`, flags and
/// these records (each: owner bytes, type, rdata), owner `c00c` meaning the
/// question's name.
fn answer(q: &[u8], flags: u8, rcode: u8, records: &[(&[u8], u16, &[u8])]) -> Vec<u8> {
    let mut m = q.to_vec();
    m[2] = flags;
    m[3] = 0x80 | rcode;
    m[6..8].copy_from_slice(&(records.len() as u16).to_be_bytes());
    for (owner, t, data) in records {
        m.extend_from_slice(owner);
        m.extend_from_slice(&t.to_be_bytes());
        m.extend_from_slice(&[0, 1, 0, 0, 0x0e, 0x10]);
        m.extend_from_slice(&(data.len() as u16).to_be_bytes());
        m.extend_from_slice(data);
    }
    m
}

const HERE: &[u8] = &[0xc0, 0x0c];

#[test]
fn queries_carry_the_checked_lower_case_name() {
    let q = query(0x1234, "Gw.Example.NET.", TYPE_A).unwrap();
    assert_eq!(&q[..4], &[0x12, 0x34, 0x01, 0x00]);
    assert_eq!(&q[12..], b"\x02gw\x07example\x03net\x00\x00\x01\x00\x01");
    for bad in [
        "",
        ".",
        "a..b",
        "bad name",
        "x.\u{e9}.org",
        &"a".repeat(64),
        &"a.".repeat(130),
    ] {
        assert!(query(1, bad, TYPE_A).is_err(), "{bad:?}");
    }
}

#[test]
fn answers_follow_cnames_and_compression() {
    let q = query(7, "www.example.org", TYPE_A).unwrap();
    // www -> CNAME gw.example.org (compressed against the question) -> A.
    let cname: &[u8] = &[2, b'g', b'w', 0xc0, 16];
    let m = answer(
        &q,
        0x81,
        0,
        &[
            (HERE, TYPE_CNAME, cname),
            (&[2, b'g', b'w', 0xc0, 16], TYPE_A, &[192, 0, 2, 7]),
        ],
    );
    let Response::Answers(r) = parse_response(&m, 7, "www.example.org", TYPE_A).unwrap() else {
        panic!("no answers")
    };
    assert_eq!(r[0].data, Rdata::Cname("gw.example.org".into()));
    assert_eq!(
        addresses(&r, "www.example.org", false),
        [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))]
    );
    assert!(addresses(&r, "www.example.org", true).is_empty());
}

#[test]
fn what_is_not_our_answer_is_refused() {
    let q = query(7, "gw.example.org", TYPE_A).unwrap();
    let good = answer(&q, 0x81, 0, &[(HERE, TYPE_A, &[192, 0, 2, 7])]);
    assert!(parse_response(&good, 7, "gw.example.org", TYPE_A).is_ok());
    assert!(
        parse_response(&good, 8, "gw.example.org", TYPE_A).is_err(),
        "another ID"
    );
    assert!(
        parse_response(&good, 7, "gx.example.org", TYPE_A).is_err(),
        "another name"
    );
    assert!(
        parse_response(&good, 7, "gw.example.org", TYPE_AAAA).is_err(),
        "another type"
    );
    assert!(
        parse_response(&q, 7, "gw.example.org", TYPE_A).is_err(),
        "a query, not an answer"
    );
    // Every truncation of it is an error, never a panic or a short answer.
    for n in 0..good.len() {
        assert!(
            parse_response(&good[..n], 7, "gw.example.org", TYPE_A).is_err(),
            "cut at {n}"
        );
    }
    let nx = answer(&q, 0x81, 3, &[]);
    assert_eq!(
        parse_response(&nx, 7, "gw.example.org", TYPE_A),
        Ok(Response::NoSuchName)
    );
    let tc = answer(&q, 0x83, 0, &[]);
    assert_eq!(
        parse_response(&tc, 7, "gw.example.org", TYPE_A),
        Ok(Response::Truncated)
    );
    let sf = answer(&q, 0x81, 2, &[]);
    assert_eq!(
        parse_response(&sf, 7, "gw.example.org", TYPE_A),
        Ok(Response::Failed(2))
    );
    // An A record of 5 bytes, a record length past the end.
    let bad = answer(&q, 0x81, 0, &[(HERE, TYPE_A, &[1, 2, 3, 4, 5])]);
    assert!(parse_response(&bad, 7, "gw.example.org", TYPE_A).is_err());
    let mut long = good.clone();
    let n = long.len();
    long[n - 5] = 0x40;
    assert!(parse_response(&long, 7, "gw.example.org", TYPE_A).is_err());
}

#[test]
fn compression_loops_and_forward_pointers_are_refused() {
    let q = query(9, "a.org", TYPE_A).unwrap();
    let at = q.len() as u8;
    // An owner pointing at itself, and one pointing forward.
    for owner in [[0xc0, at], [0xc0, at + 2]] {
        let m = answer(&q, 0x81, 0, &[(&owner, TYPE_A, &[192, 0, 2, 1])]);
        let e = parse_response(&m, 9, "a.org", TYPE_A).unwrap_err();
        assert!(e.0.contains("backwards") || e.0.contains("past"), "{e}");
    }
    // A chain of backward pointers is fine, and ends.
    let m = answer(
        &q,
        0x81,
        0,
        &[
            (HERE, TYPE_A, &[192, 0, 2, 1]),
            (&[0xc0, at], TYPE_A, &[192, 0, 2, 2]),
        ],
    );
    assert!(parse_response(&m, 9, "a.org", TYPE_A).is_ok());
}

#[test]
fn txt_and_ipseckey_records() {
    let q = query(3, "1.2.0.192.in-addr.arpa", TYPE_TXT).unwrap();
    let txt: &[u8] = b"\x1cX-IPsec-Server(10)=192.0.2.2\x05 AQ==";
    let m = answer(&q, 0x81, 0, &[(HERE, TYPE_TXT, txt)]);
    let Ok(Response::Answers(r)) = parse_response(&m, 3, "1.2.0.192.in-addr.arpa", TYPE_TXT) else {
        panic!()
    };
    assert_eq!(
        r[0].data,
        Rdata::Txt(vec![
            b"X-IPsec-Server(10)=192.0.2.2".to_vec(),
            b" AQ==".to_vec()
        ])
    );
    let m = answer(&q, 0x81, 0, &[(HERE, TYPE_TXT, b"\x09short")]);
    assert!(parse_response(&m, 3, "1.2.0.192.in-addr.arpa", TYPE_TXT).is_err());

    let q = query(4, "1.2.0.192.in-addr.arpa", TYPE_IPSECKEY).unwrap();
    let v4: &[u8] = &[10, 1, 2, 192, 0, 2, 2, 1, 3, 1, 0, 1];
    let name: &[u8] = &[10, 3, 2, 2, b'g', b'w', 3, b'o', b'r', b'g', 0, 1, 3];
    let m = answer(
        &q,
        0x81,
        0,
        &[(HERE, TYPE_IPSECKEY, v4), (HERE, TYPE_IPSECKEY, name)],
    );
    let Ok(Response::Answers(r)) = parse_response(&m, 4, "1.2.0.192.in-addr.arpa", TYPE_IPSECKEY)
    else {
        panic!()
    };
    let key = |g| {
        Rdata::IpsecKey(IpsecKey {
            precedence: 10,
            gateway: g,
            algorithm: 2,
            key: vec![1, 3, 1, 0, 1],
        })
    };
    assert_eq!(r[0].data, key(Gateway::V4(Ipv4Addr::new(192, 0, 2, 2))));
    let Rdata::IpsecKey(k) = &r[1].data else {
        panic!()
    };
    assert_eq!(k.gateway, Gateway::Name("gw.org".into()));
    assert_eq!(k.key, [1, 3]);
    for bad in [
        &[10u8, 1, 2, 192, 0][..],
        &[10, 9, 2][..],
        &[10, 3, 2, 5, b'g'][..],
        &[10, 3, 2, 0xc0, 12][..],
    ] {
        let m = answer(&q, 0x81, 0, &[(HERE, TYPE_IPSECKEY, bad)]);
        assert!(
            parse_response(&m, 4, "1.2.0.192.in-addr.arpa", TYPE_IPSECKEY).is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn resolv_conf_and_hosts() {
    let c = ResolvConf::parse(
        "# comment\nnameserver 192.0.2.53\nnameserver 2001:db8::53\nnameserver bogus\n\
         nameserver 192.0.2.54\nnameserver 192.0.2.55\nsearch example.org lab\n\
         options timeout:2 attempts:3 ndots:2 rotate\n",
    );
    assert_eq!(c.servers.len(), 3, "three at most: {c:?}");
    assert_eq!(
        c.servers[1],
        "[2001:db8::53]:53".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(
        (c.timeout, c.attempts, c.ndots),
        (Duration::from_secs(2), 3, 2)
    );
    assert_eq!(c.candidates("gw"), ["gw.example.org", "gw.lab", "gw"]);
    assert_eq!(
        c.candidates("gw.x.org"),
        ["gw.x.org", "gw.x.org.example.org", "gw.x.org.lab"]
    );
    assert_eq!(c.candidates("gw.org."), ["gw.org"]);
    let empty = ResolvConf::parse("");
    assert_eq!(
        empty.servers,
        ["127.0.0.1:53".parse::<SocketAddr>().unwrap()]
    );

    let hosts = "127.0.0.1 localhost\n192.0.2.2 east East.lab # the gateway\n2001:db8::2 east\n#192.0.2.9 gone\n";
    assert_eq!(
        hosts_lookup(hosts, "EAST.lab", false),
        Some("192.0.2.2".parse().unwrap())
    );
    assert_eq!(
        hosts_lookup(hosts, "east", true),
        Some("2001:db8::2".parse().unwrap())
    );
    assert_eq!(hosts_lookup(hosts, "gone", false), None);
    assert_eq!(hosts_lookup(hosts, "the", false), None);
}

/// A name server on the loopback that first sends junk and an answer with
/// the wrong ID, then the real answer; `names` maps a name to its A record.
fn server(names: &'static [(&'static str, [u8; 4])]) -> SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = s.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            let q = buf[..n].to_vec();
            let _ = s.send_to(b"junk", from);
            let mut wrong = answer(&q, 0x81, 0, &[(HERE, TYPE_A, &[6, 6, 6, 6])]);
            wrong[0] ^= 0xff;
            let _ = s.send_to(&wrong, from);
            let asked =
                String::from_utf8_lossy(&q[13..n - 5]).replace(|c: char| c.is_ascii_control(), ".");
            let reply = match names.iter().find(|(name, _)| *name == asked) {
                Some((_, a)) => answer(&q, 0x81, 0, &[(HERE, TYPE_A, a)]),
                None => answer(&q, 0x81, 3, &[]),
            };
            let _ = s.send_to(&reply, from);
        }
    });
    addr
}

#[test]
fn looks_up_hosts_then_the_name_server() {
    let addr = server(&[("gw.example.org", [192, 0, 2, 7])]);
    let r = Resolver {
        conf: ResolvConf {
            servers: vec![addr],
            timeout: Duration::from_secs(2),
            attempts: 1,
            search: vec!["example.org".into()],
            ndots: 1,
        },
        hosts: "198.51.100.1 fixed\n".into(),
    };
    assert_eq!(
        r.lookup_host("fixed", false),
        Ok("198.51.100.1".parse().unwrap())
    );
    assert_eq!(
        r.lookup_host("gw", false),
        Ok("192.0.2.7".parse().unwrap()),
        "through the search list"
    );
    assert_eq!(
        r.lookup_host("gw.example.org", false),
        Ok("192.0.2.7".parse().unwrap())
    );
    let e = r.lookup_host("nowhere.example.net", false).unwrap_err();
    assert!(e.contains("no such host"), "{e}");
    assert!(r.lookup_host("bad name", false).is_err());
}

#[test]
fn a_silent_server_times_out() {
    let quiet = UdpSocket::bind("127.0.0.1:0").unwrap();
    let r = Resolver {
        conf: ResolvConf {
            servers: vec![quiet.local_addr().unwrap()],
            timeout: Duration::from_millis(200),
            attempts: 2,
            search: Vec::new(),
            ndots: 1,
        },
        hosts: String::new(),
    };
    let t = std::time::Instant::now();
    let e = r.lookup_host("gw.example.org", false).unwrap_err();
    assert!(e.contains("no answer"), "{e}");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "two attempts of 0.2 s"
    );
}
