//! ID, Notify and Delete payloads.
use super::*;

// ---------------------------------------------------------------------------
// ID
// ---------------------------------------------------------------------------

fn id_round_trip(id: Identity, expect_data: &[u8]) {
    assert_eq!(id.data(), expect_data);
    let p = IdPayload {
        protocol: 17,
        port: 500,
        id,
    };
    let mut out = Vec::new();
    p.emit(&mut out);
    assert_eq!(out[..4], [p.id.id_type(), 17, 0x01, 0xf4]);
    assert_eq!(&out[4..], expect_data);
    assert_eq!(IdPayload::parse(&out).unwrap(), p);
    // Through the chain as well.
    assert_eq!(parse_one(payload_type::ID, &out).unwrap(), Payload::Id(p));
}

#[test]
fn id_every_type_round_trips() {
    let a4 = Ipv4Addr::new(192, 0, 2, 1);
    let m4 = Ipv4Addr::new(255, 255, 255, 0);
    let a6: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let m6: Ipv6Addr = "ffff:ffff::".parse().unwrap();
    let cat = |a: &[u8], b: &[u8]| [a, b].concat();
    id_round_trip(Identity::Ipv4(a4), &a4.octets());
    id_round_trip(Identity::Ipv6(a6), &a6.octets());
    id_round_trip(
        Identity::Ipv4Subnet(a4, m4),
        &cat(&a4.octets(), &m4.octets()),
    );
    id_round_trip(
        Identity::Ipv6Subnet(a6, m6),
        &cat(&a6.octets(), &m6.octets()),
    );
    id_round_trip(
        Identity::Ipv4Range(a4, m4),
        &cat(&a4.octets(), &m4.octets()),
    );
    id_round_trip(
        Identity::Ipv6Range(a6, m6),
        &cat(&a6.octets(), &m6.octets()),
    );
    id_round_trip(
        Identity::Fqdn(b"east.example.com".to_vec()),
        b"east.example.com",
    );
    id_round_trip(
        Identity::UserFqdn(b"user@example.com".to_vec()),
        b"user@example.com",
    );
    id_round_trip(Identity::DerAsn1Dn(vec![0x30, 0x00]), &[0x30, 0x00]);
    id_round_trip(
        Identity::DerAsn1Gn(vec![0x82, 0x01, 0x61]),
        &[0x82, 0x01, 0x61],
    );
    id_round_trip(Identity::KeyId(vec![0]), &[0]);
}

#[test]
fn id_types_match_rfc2407() {
    let a = Ipv4Addr::UNSPECIFIED;
    let b = Ipv6Addr::UNSPECIFIED;
    let cases = [
        (Identity::Ipv4(a), 1),
        (Identity::Fqdn(vec![1]), 2),
        (Identity::UserFqdn(vec![1]), 3),
        (Identity::Ipv4Subnet(a, a), 4),
        (Identity::Ipv6(b), 5),
        (Identity::Ipv6Subnet(b, b), 6),
        (Identity::Ipv4Range(a, a), 7),
        (Identity::Ipv6Range(b, b), 8),
        (Identity::DerAsn1Dn(vec![1]), 9),
        (Identity::DerAsn1Gn(vec![1]), 10),
        (Identity::KeyId(vec![1]), 11),
    ];
    for (id, t) in cases {
        assert_eq!(id.id_type(), t, "{id:?}");
    }
    assert_eq!(id_type::KEY_ID, 11);
}

#[test]
fn id_literal_fixture() {
    // ID_IPV4_ADDR_SUBNET, UDP, port 500, 10.0.0.0/255.255.255.0.
    let body = hex("04 11 01f4 0a000000 ffffff00");
    let id = IdPayload::parse(&body).unwrap();
    assert_eq!(
        id,
        IdPayload {
            protocol: 17,
            port: 500,
            id: Identity::Ipv4Subnet(Ipv4Addr::new(10, 0, 0, 0), Ipv4Addr::new(255, 255, 255, 0)),
        }
    );
    assert_eq!(id.id.to_string(), "10.0.0.0/24");
}

#[test]
fn id_rejects_bad_lengths() {
    let cases: &[(u8, usize)] = &[
        (id_type::IPV4_ADDR, 0),
        (id_type::IPV4_ADDR, 3),
        (id_type::IPV4_ADDR, 5),
        (id_type::IPV4_ADDR, 16),
        (id_type::IPV6_ADDR, 4),
        (id_type::IPV6_ADDR, 15),
        (id_type::IPV6_ADDR, 17),
        (id_type::IPV4_ADDR_SUBNET, 4),
        (id_type::IPV4_ADDR_SUBNET, 7),
        (id_type::IPV4_ADDR_SUBNET, 9),
        (id_type::IPV4_ADDR_RANGE, 0),
        (id_type::IPV4_ADDR_RANGE, 16),
        (id_type::IPV6_ADDR_SUBNET, 16),
        (id_type::IPV6_ADDR_SUBNET, 31),
        (id_type::IPV6_ADDR_RANGE, 33),
        (id_type::IPV6_ADDR_RANGE, 8),
        (id_type::FQDN, 0),
        (id_type::USER_FQDN, 0),
        (id_type::DER_ASN1_DN, 0),
        (id_type::DER_ASN1_GN, 0),
        (id_type::KEY_ID, 0),
    ];
    for &(t, n) in cases {
        let mut body = vec![t, 0, 0, 0];
        body.extend(std::iter::repeat(0xa5).take(n));
        assert!(
            matches!(
                IdPayload::parse(&body),
                Err(WireError::BadField {
                    what: "ID data length",
                    ..
                })
            ),
            "type {t} len {n}"
        );
    }
    // Fixed part itself truncated.
    for n in 0..4 {
        assert!(matches!(
            IdPayload::parse(&[1, 0, 0][..n.min(3)]),
            Err(WireError::Truncated { .. })
        ));
    }
}

#[test]
fn id_rejects_unknown_type() {
    for t in [0u8, 12, 13, 255] {
        assert_eq!(
            IdPayload::parse(&[t, 0, 0, 0, 1, 2, 3, 4]),
            Err(WireError::BadField {
                what: "ID type",
                value: u32::from(t)
            })
        );
    }
}

#[test]
fn identity_display() {
    let v4 = |a, b, c, d| Ipv4Addr::new(a, b, c, d);
    let v6 = |s: &str| s.parse::<Ipv6Addr>().unwrap();
    let cases: Vec<(Identity, &str)> = vec![
        (Identity::Ipv4(v4(192, 0, 2, 1)), "192.0.2.1"),
        (Identity::Ipv6(v6("2001:db8::1")), "2001:db8::1"),
        (
            Identity::Ipv4Subnet(v4(10, 0, 0, 0), v4(255, 255, 255, 0)),
            "10.0.0.0/24",
        ),
        (
            Identity::Ipv4Subnet(v4(10, 0, 0, 0), v4(255, 255, 240, 0)),
            "10.0.0.0/20",
        ),
        (
            Identity::Ipv4Subnet(v4(0, 0, 0, 0), v4(0, 0, 0, 0)),
            "0.0.0.0/0",
        ),
        (
            Identity::Ipv4Subnet(v4(192, 0, 2, 7), v4(255, 255, 255, 255)),
            "192.0.2.7/32",
        ),
        (
            Identity::Ipv4Subnet(v4(10, 0, 0, 0), v4(255, 0, 255, 0)),
            "10.0.0.0/255.0.255.0",
        ),
        (
            Identity::Ipv4Subnet(v4(10, 0, 0, 0), v4(255, 255, 0, 1)),
            "10.0.0.0/255.255.0.1",
        ),
        (
            Identity::Ipv4Subnet(v4(10, 0, 0, 0), v4(255, 244, 0, 0)),
            "10.0.0.0/255.244.0.0",
        ),
        (
            Identity::Ipv6Subnet(v6("2001:db8::"), v6("ffff:ffff::")),
            "2001:db8::/32",
        ),
        (
            Identity::Ipv6Subnet(v6("2001:db8::"), v6("ffff:ffff:ffff:ff80::")),
            "2001:db8::/57",
        ),
        (
            Identity::Ipv6Subnet(v6("2001:db8::"), v6("ffff::ffff")),
            "2001:db8::/ffff::ffff",
        ),
        (
            Identity::Ipv4Range(v4(10, 0, 0, 1), v4(10, 0, 0, 9)),
            "10.0.0.1-10.0.0.9",
        ),
        (
            Identity::Ipv6Range(v6("2001:db8::1"), v6("2001:db8::9")),
            "2001:db8::1-2001:db8::9",
        ),
        (
            Identity::Fqdn(b"east.example.com".to_vec()),
            "@east.example.com",
        ),
        (
            Identity::UserFqdn(b"user@example.com".to_vec()),
            "user@example.com",
        ),
        (
            Identity::Fqdn(b"a\x01b\nc\x7f\xff".to_vec()),
            "@a\\x01b\\x0ac\\x7f\\xff",
        ),
        (Identity::UserFqdn(b"u\x00@h".to_vec()), "u\\x00@h"),
        (Identity::KeyId(vec![0xde, 0xad, 0x00, 0x0f]), "@#dead000f"),
        (Identity::DerAsn1Dn(vec![0x30, 0x0a]), "@#300a"),
        (Identity::DerAsn1Gn(vec![0x82]), "@#82"),
    ];
    for (id, s) in cases {
        assert_eq!(id.to_string(), s, "{id:?}");
    }
}

// ---------------------------------------------------------------------------
// Notify and Delete
// ---------------------------------------------------------------------------

#[test]
fn notify_with_spi_and_data_literal() {
    // R_U_THERE (36136) with the ISAKMP cookie pair as SPI and a sequence number.
    let body = hex("00000001 01 10 8d28
         0102030405060708 1112131415161718
         0000002a");
    let n = NotifyPayload::parse(&body).unwrap();
    assert_eq!(
        n,
        NotifyPayload {
            doi: DOI_IPSEC,
            protocol: protocol::ISAKMP,
            spi: hex("0102030405060708 1112131415161718"),
            msg_type: notify_type::R_U_THERE,
            data: vec![0, 0, 0, 42],
        }
    );
    let mut out = Vec::new();
    n.emit(&mut out);
    assert_eq!(out, body);
    let chain = [raw(0, &body)].concat();
    assert_eq!(chain[..4], [0, 0, 0, 0x20]);
    assert_eq!(
        only_payloads(parse_chain(payload_type::N, &chain, false).unwrap()),
        vec![Payload::Notify(n)]
    );
}

#[test]
fn notify_without_spi_or_data() {
    // INITIAL_CONTACT, DOI 0 is accepted (the DOI is the caller's business here).
    let body = hex("00000000 01 00 6002");
    let n = NotifyPayload::parse(&body).unwrap();
    assert_eq!(n.doi, 0);
    assert_eq!(n.msg_type, notify_type::INITIAL_CONTACT);
    assert!(n.spi.is_empty() && n.data.is_empty());
    let mut out = Vec::new();
    n.emit(&mut out);
    assert_eq!(out, body);
}

#[test]
fn notify_rejects_bad_spi_and_short_body() {
    // SPI size 4 but only 3 bytes.
    assert!(matches!(
        NotifyPayload::parse(&hex("00000001 03 04 000e 010203")),
        Err(WireError::Truncated { .. })
    ));
    // SPI size 17.
    let mut b = hex("00000001 03 11 000e");
    b.extend_from_slice(&[0; 17]);
    assert_eq!(
        NotifyPayload::parse(&b),
        Err(WireError::BadField {
            what: "SPI size",
            value: 17
        })
    );
    let good = hex("00000001 03 04 000e 01020304");
    for n in 0..good.len() {
        assert!(NotifyPayload::parse(&good[..n]).is_err(), "prefix {n}");
    }
}

#[test]
fn delete_several_spis_literal() {
    let body = hex("00000001 03 04 0003 11111111 22222222 33333333");
    let d = DeletePayload::parse(&body).unwrap();
    assert_eq!(
        d,
        DeletePayload {
            doi: DOI_IPSEC,
            protocol: protocol::ESP,
            spi_size: 4,
            spis: vec![vec![0x11; 4], vec![0x22; 4], vec![0x33; 4]],
        }
    );
    let mut out = Vec::new();
    d.emit(&mut out);
    assert_eq!(out, body);
    let chain = raw(0, &body);
    assert_eq!(chain[..4], [0, 0, 0, 0x18]);
    assert_eq!(
        only_payloads(parse_chain(payload_type::D, &chain, false).unwrap()),
        vec![Payload::Delete(d)]
    );
    // The ISAKMP SA: one 16-byte cookie pair.
    let isakmp = hex("00000001 01 10 0001 0102030405060708 0000000000000001");
    let d = DeletePayload::parse(&isakmp).unwrap();
    assert_eq!(d.spis.len(), 1);
    assert_eq!(d.spis[0].len(), 16);
}

#[test]
fn delete_rejects_count_mismatch_and_bad_sizes() {
    let bad = [
        "00000001 03 04 0002 11111111 22222222 33333333", // count too small
        "00000001 03 04 0004 11111111 22222222 33333333", // count too large
        "00000001 03 04 0003 11111111 22222222 333333",   // short last SPI
        "00000001 03 04 0003 11111111 22222222 3333333344", // extra byte
        "00000001 03 00 0001",                            // spi size 0
        "00000001 03 04 0000",                            // count 0
        "00000001 03 00 0000",                            // both
        "00000001 03 04",                                 // fixed part truncated
    ];
    for b in bad {
        assert!(DeletePayload::parse(&hex(b)).is_err(), "{b}");
    }
    assert!(matches!(
        DeletePayload::parse(&hex("00000001 03 04 0000")),
        Err(WireError::BadField {
            what: "SPI count",
            value: 0
        })
    ));
    // 1024 SPIs is the maximum.
    let mut ok = hex("00000001 04 02 0400");
    ok.extend_from_slice(&[0xab; 2048]);
    assert_eq!(DeletePayload::parse(&ok).unwrap().spis.len(), 1024);
    let mut over = hex("00000001 04 02 0401");
    over.extend_from_slice(&[0xab; 2050]);
    assert_eq!(
        DeletePayload::parse(&over),
        Err(WireError::BadField {
            what: "SPI count",
            value: 1025
        })
    );
    let good = hex("00000001 03 04 0003 11111111 22222222 33333333");
    for n in 0..good.len() {
        assert!(DeletePayload::parse(&good[..n]).is_err(), "prefix {n}");
    }
}
