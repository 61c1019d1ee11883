//! Codec tests: kernel-style messages parsed field by field, the KLIPS
//! dialect, and (in `robustness`) malformed input, truncations and fuzzing.
//! Fixtures are little-endian (host order fields), see `pfkey::tests`.
use super::consts::*;
use super::*;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

mod robustness;

/// Hex to bytes; whitespace and `|` separators are ignored.
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    assert_eq!(digits.len() % 2, 0, "odd number of hex digits");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// What Linux (`af_key.c` `pfkey_getspi` -> `pfkey_xfrm_state2msg`) answers
/// to a GETSPI for ESP from 192.0.2.2 to 192.0.2.1: the larval state.
/// 192 bytes = 24 words.
const GETSPI_REPLY: &str = "
    02 01 00 03 1800 0000 01000000 d2040000
    0200 0100 c1a2b3c4 00 00 00 00 00000000
    0400 0300 00000000 0000000000000000 1e00000000000000 0000000000000000
    0400 0400 00000000 0000000000000000 0000000000000000 0000000000000000
    0400 0200 00000000 0000000000000000 00f1536500000000 0000000000000000
    0300 0500 00 20 0000  0200 0000 c0000202 0000000000000000
    0300 0600 00 20 0000  0200 0000 c0000201 0000000000000000
    0200 1300 01 00 0000 00000000 00000000
";
// @0   sadb_msg: GETSPI, satype ESP, len 24, seq and pid echoed from the request.
// @16  SA: the allocated SPI 0xc1a2b3c4, replay 0, state LARVAL 0, no algorithms.
// @32  LIFETIME_HARD: addtime 30 s (net.core.xfrm_acq_expires) @48.
// @64  LIFETIME_SOFT: all 0.  @96 LIFETIME_CURRENT: addtime 1700000000 @112.
// @128 ADDRESS_SRC / @152 ADDRESS_DST: proto 0, prefixlen 32 (kernel style).
// @176 X_SA2: mode TRANSPORT 1 (xfrm mode 0), sequence 0, reqid 0.

/// REGISTER reply for ESP: HMAC-SHA1 160/160 and HMAC-SHA2-256 256/256;
/// 3DES (iv 8, 192/192) and AES-CBC (iv 8, 128..256). 64 bytes = 8 words.
const REGISTER_REPLY: &str = "
    02 07 00 03 0800 0000 07000000 d2040000
    0300 0e00 00000000 03 00 a000 a000 0000 05 00 0001 0001 0000
    0300 0f00 00000000 03 08 c000 c000 0000 0c 08 8000 0001 0000
";

/// ACQUIRE (`pfkey_send_acquire`): addresses, a bare X_POLICY (dir out, id
/// 0x201) and a PROPOSAL with one 72-byte comb (SHA1 + AES, the kernel's
/// default add/use times). 160 bytes = 20 words.
const ACQUIRE: &str = "
    02 06 00 03 1400 0000 11000000 00000000
    0300 0500 00 20 0000  0200 0000 c0000201 0000000000000000
    0300 0600 00 20 0000  0200 0000 c0000202 0000000000000000
    0200 1200 0200 02 00 01020000 00e00100
    0a00 0d00 20 000000
      03 0c 0000 a000 a000 8000 0001 00000000 00000000 00000000
      0000000000000000 0000000000000000
      4019010000000000 8051010000000000 7062000000000000 8070000000000000
";
// @80  PROPOSAL: len 10 (8 + 72), type 13, replay 32.
// @88  comb: auth 3, encrypt 12, flags 0, auth bits 160..160, encrypt bits
//      128..256, reserved, soft/hard allocations 0 @104/@108, soft/hard
//      bytes 0 @112/@120, soft addtime 72000 @128, hard addtime 86400 @136,
//      soft usetime 25200 @144, hard usetime 28800 @152.

/// KLIPS X_ADDFLOW for `ipsec eroute --add --src 172.31.252.0/24 --dst
/// 0.0.0.0/0 --said tun0x130@192.168.43.1` (spec §5.3): satype X_IPIP 9,
/// SA, ADDRESS_SRC any, ADDRESS_DST edst, then the flow extensions 21..24
/// (prefixlen 0 as KLIPS requires). 176 bytes = 22 words.
const KLIPS_ADDFLOW: &str = "
    02 0e 00 09 1600 0000 01000000 d2040000
    0200 0100 00000130 00 00 00 00 00000000
    0300 0500 00 00 0000  0200 0000 00000000 0000000000000000
    0300 0600 00 00 0000  0200 0000 c0a82b01 0000000000000000
    0300 1500 00 00 0000  0200 0000 ac1ffc00 0000000000000000
    0300 1600 00 00 0000  0200 0000 00000000 0000000000000000
    0300 1700 00 00 0000  0200 0000 ffffff00 0000000000000000
    0300 1800 00 00 0000  0200 0000 00000000 0000000000000000
";

/// KLIPS SADB_ADD with the 24-byte `sadb_sa` (sa_ref 5) and the 40-byte
/// `sadb_lifetime` (packets 1000 @72). 104 bytes = 13 words.
const KLIPS_ADD: &str = "
    02 03 00 03 0d00 0000 01000000 d2040000
    0300 0100 00000130 20 01 02 03 00000000 05000000 00000000
    0500 0400 00000000 0000000000000000 0000000000000000 0000000000000000 e8030000 00000000
    0300 0600 00 00 0000  0200 0000 c0000202 0000000000000000
";

/// Every fixture with its dialect (shared with the robustness tests).
fn fixtures() -> Vec<(Vec<u8>, Dialect)> {
    let mut v: Vec<(Vec<u8>, Dialect)> = [GETSPI_REPLY, REGISTER_REPLY, ACQUIRE]
        .iter()
        .map(|s| (hex(s), Dialect::Linux))
        .collect();
    v.push((hex(KLIPS_ADDFLOW), Dialect::Klips));
    v.push((hex(KLIPS_ADD), Dialect::Klips));
    for s in [
        crate::pfkey::tests::fixtures::GETSPI,
        crate::pfkey::tests::fixtures::ADD_ESP,
        crate::pfkey::tests::fixtures::SPDADD_TUNNEL,
        crate::pfkey::tests::fixtures::DELETE,
    ] {
        v.push((hex(s), Dialect::Linux));
    }
    v
}

fn parse_exact(bytes: &[u8], dialect: Dialect) -> Message {
    let m = Message::parse_dialect(bytes, dialect).unwrap();
    assert_eq!(m.emit(), bytes, "byte round trip of {}", m.summary());
    m
}

#[test]
#[cfg(target_endian = "little")]
fn getspi_reply_parses() {
    let m = parse_exact(&hex(GETSPI_REPLY), Dialect::Linux);
    assert_eq!(m.header, Header::new(SADB_GETSPI, SADB_SATYPE_ESP, 1, 1234));
    let sa = m.sa().unwrap();
    assert_eq!(
        (sa.spi, sa.state, sa.auth, sa.encrypt),
        (0xc1a2_b3c4, SADB_SASTATE_LARVAL, 0, 0)
    );
    assert_eq!(m.lifetime_hard().unwrap().addtime, 30);
    assert_eq!(m.lifetime_soft().unwrap(), &Lifetime::default());
    assert_eq!(m.lifetime_current().unwrap().addtime, 1_700_000_000);
    let src = m.address_src().unwrap();
    assert_eq!(
        (src.ip(), src.prefixlen, src.proto, src.port()),
        (v4(192, 0, 2, 2), 32, 0, 0)
    );
    assert_eq!(m.address_dst().unwrap().ip(), v4(192, 0, 2, 1));
    assert_eq!(
        m.sa2().unwrap(),
        &Sa2 {
            mode: IPSEC_MODE_TRANSPORT,
            sequence: 0,
            reqid: 0
        }
    );
    assert!(m.key_auth().is_none() && m.policy().is_none());
    assert_eq!(m.exts.len(), 7);
    assert_eq!(
        m.summary(),
        "SADB_GETSPI ESP seq=1 pid=1234 errno=0 [SA spi=0xc1a2b3c4, LIFETIME_HARD, \
         LIFETIME_SOFT, LIFETIME_CURRENT, ADDRESS_SRC 192.0.2.2:0/32, ADDRESS_DST \
         192.0.2.1:0/32, X_SA2]"
    );
}

#[test]
#[cfg(target_endian = "little")]
fn register_reply_parses() {
    let m = parse_exact(&hex(REGISTER_REPLY), Dialect::Linux);
    let auth = m.supported_auth().unwrap();
    assert_eq!(
        auth.algs,
        vec![
            Alg {
                id: SADB_AALG_SHA1HMAC,
                ivlen: 0,
                minbits: 160,
                maxbits: 160
            },
            Alg {
                id: SADB_X_AALG_SHA2_256HMAC,
                ivlen: 0,
                minbits: 256,
                maxbits: 256
            },
        ]
    );
    let enc = m.supported_encrypt().unwrap();
    assert_eq!(
        enc.find(SADB_X_EALG_AESCBC)
            .map(|a| (a.ivlen, a.minbits, a.maxbits)),
        Some((8, 128, 256))
    );
    assert_eq!(enc.find(SADB_EALG_3DESCBC).map(|a| a.minbits), Some(192));
    assert!(enc.find(SADB_EALG_NULL).is_none());
}

#[test]
#[cfg(target_endian = "little")]
fn acquire_parses() {
    let m = parse_exact(&hex(ACQUIRE), Dialect::Linux);
    assert_eq!(
        (m.header.msg_type, m.header.seq, m.header.pid),
        (SADB_ACQUIRE, 0x11, 0)
    );
    let p = m.policy().unwrap();
    assert_eq!(
        (p.policy_type, p.dir, p.id, p.priority),
        (IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, 0x201, 0x1e000)
    );
    assert!(p.requests.is_empty());
    let prop = m.proposal().unwrap();
    assert_eq!(prop.replay, 32);
    assert_eq!(
        prop.combs,
        vec![Comb {
            auth: SADB_AALG_SHA1HMAC,
            encrypt: SADB_X_EALG_AESCBC,
            auth_minbits: 160,
            auth_maxbits: 160,
            encrypt_minbits: 128,
            encrypt_maxbits: 256,
            soft_addtime: 72000,
            hard_addtime: 86400,
            soft_usetime: 25200,
            hard_usetime: 28800,
            ..Comb::default()
        }]
    );
    // The same bytes mean something else to KLIPS (18 = X_SATYPE2, 8 bytes
    // fine, but its combs are 80 bytes): refused, not misread.
    assert!(Message::parse_dialect(&hex(ACQUIRE), Dialect::Klips).is_err());
}

#[test]
#[cfg(target_endian = "little")]
fn klips_addflow_parses() {
    let bytes = hex(KLIPS_ADDFLOW);
    let m = parse_exact(&bytes, Dialect::Klips);
    assert_eq!(m.header.msg_type, klips::SADB_X_ADDFLOW);
    assert_eq!(m.header.satype, klips::SADB_X_SATYPE_IPIP);
    assert_eq!(m.sa().unwrap().spi, 0x130);
    assert_eq!(m.address_dst().unwrap().ip(), v4(192, 168, 43, 1));
    assert_eq!(m.address_src_flow().unwrap().ip(), v4(172, 31, 252, 0));
    assert_eq!(m.address_dst_flow().unwrap().ip(), v4(0, 0, 0, 0));
    assert_eq!(m.address_src_mask().unwrap().ip(), v4(255, 255, 255, 0));
    assert_eq!(m.address_dst_mask().unwrap().ip(), v4(0, 0, 0, 0));
    assert!(m.summary().starts_with("SADB_X_ADDFLOW IPIP "));
    // To Linux, 21 and 22 are NAT-T ports (8 bytes): the message is refused.
    assert!(matches!(
        Message::parse(&bytes),
        Err(PfkeyError::TrailingData { .. } | PfkeyError::BadLength { .. })
    ));
}

#[test]
#[cfg(target_endian = "little")]
fn klips_long_sa_and_lifetime() {
    let bytes = hex(KLIPS_ADD);
    let m = parse_exact(&bytes, Dialect::Klips);
    let sa = m.sa().unwrap();
    assert_eq!(
        (sa.spi, sa.replay, sa.auth, sa.encrypt, sa.klips_ref),
        (0x130, 32, 2, 3, Some(5))
    );
    assert_eq!(m.lifetime_soft().unwrap().packets, 1000);
    // Linux has neither the 24-byte SA nor the 40-byte lifetime.
    assert!(Message::parse(&bytes).is_err());
}

#[test]
fn klips_grpsa_round_trip_and_numbers() {
    let dst = Address {
        proto: 0,
        prefixlen: 0,
        addr: SocketAddr::new(v4(192, 0, 2, 2), 0),
    };
    let m = Message {
        dialect: Dialect::Klips,
        header: Header::new(klips::SADB_X_GRPSA, SADB_SATYPE_ESP, 9, 1),
        exts: vec![
            Ext::Sa(Sa {
                spi: 0x131,
                ..Sa::default()
            }),
            Ext::AddressDst(dst),
            Ext::SaType2(SADB_SATYPE_AH),
            Ext::KlipsSa2(Sa {
                spi: 0x132,
                klips_ref: Some(7),
                ..Sa::default()
            }),
            Ext::AddressDst2(dst),
            Ext::Protocol(Protocol {
                proto: IPPROTO_TCP,
                direction: 0,
                flags: 0,
            }),
            Ext::NatTType(UDP_ENCAP_ESPINUDP),
            Ext::NatTSport(4500),
            Ext::LifetimeHard(Lifetime {
                packets: 9,
                addtime: 3,
                ..Lifetime::default()
            }),
        ],
    };
    let bytes = m.emit();
    assert_eq!(Message::parse_dialect(&bytes, Dialect::Klips).unwrap(), m);
    let view = MessageView::new(&bytes, Dialect::Klips).unwrap();
    let types: Vec<u16> = view.exts().iter().map(|e| e.ty).collect();
    assert_eq!(types, vec![1, 6, 18, 19, 20, 26, 27, 28, 3]);
    assert_eq!(m.satype2(), Some(SADB_SATYPE_AH));
    assert_eq!(m.klips_sa2().unwrap().spi, 0x132);
    assert_eq!(m.nat_t_sport(), Some(4500));
    // Extensions a dialect lacks are left out of its emission.
    let mut linux = m.clone();
    linux.dialect = Dialect::Linux;
    let back = Message::parse(&linux.emit()).unwrap();
    let kinds: Vec<Option<ExtType>> = back.exts.iter().map(Ext::ext_type).collect();
    assert_eq!(
        kinds,
        vec![
            Some(ExtType::Sa),
            Some(ExtType::AddressDst),
            Some(ExtType::NatTType),
            Some(ExtType::NatTSport),
            Some(ExtType::LifetimeHard),
        ]
    );
    assert_eq!(back.lifetime_hard().unwrap().packets, 0);
}

#[test]
fn ext_type_numbers() {
    assert_eq!(ExtType::Policy.number(Dialect::Linux), Some(18));
    assert_eq!(ExtType::Policy.number(Dialect::Klips), None);
    assert_eq!(ExtType::NatTOa.number(Dialect::Linux), Some(23));
    assert_eq!(ExtType::NatTOa.number(Dialect::Klips), Some(30));
    assert_eq!(
        ExtType::from_number(Dialect::Linux, 25),
        Some(ExtType::KmAddress)
    );
    assert_eq!(
        ExtType::from_number(Dialect::Klips, 25),
        Some(ExtType::Debug)
    );
    assert_eq!(ExtType::from_number(Dialect::Linux, 26), None);
    assert_eq!(ExtType::from_number(Dialect::Klips, 31), None);
    for n in 1..=17 {
        assert_eq!(
            ExtType::from_number(Dialect::Linux, n),
            ExtType::from_number(Dialect::Klips, n)
        );
    }
    assert_eq!(msg_type_name(Dialect::Linux, 14), "SADB_X_SPDADD");
    assert_eq!(msg_type_name(Dialect::Klips, 14), "SADB_X_ADDFLOW");
    assert_eq!(satype_name(Dialect::Linux, 9), "IPCOMP");
    assert_eq!(satype_name(Dialect::Klips, 9), "IPIP");
}

#[test]
fn opaque_and_unknown_extensions_round_trip() {
    let m = Message::new(Header::new(linux::SADB_X_MIGRATE, 0, 1, 2))
        .with(Ext::KmPrivate(vec![0, 0, 0, 0]))
        .with(Ext::SecCtx(vec![
            1, 2, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0, 0,
        ]))
        .with(Ext::KmAddress(vec![0; 4]))
        .with(Ext::Sensitivity(vec![9; 12]))
        .with(Ext::IdentitySrc(Identity::text(
            SADB_IDENTTYPE_FQDN,
            "vpn.example",
        )))
        .with(Ext::Unknown {
            ty: 26,
            body: vec![5; 36],
        })
        .with(Ext::Unknown {
            ty: 26,
            body: vec![6; 4],
        })
        .with(Ext::Unknown {
            ty: 300,
            body: vec![7; 12],
        });
    let bytes = m.emit();
    let back = Message::parse(&bytes).unwrap();
    assert_eq!(back.emit(), bytes);
    let id = back.identity_src().unwrap();
    assert_eq!(id.name(), b"vpn.example");
    assert_eq!(id.data.len(), 16, "NUL-terminated and padded");
    // Identity data is kept padded, so compare everything but it.
    assert_eq!(back.exts.len(), m.exts.len());
    assert_eq!(back.exts[0], m.exts[0]);
    assert_eq!(back.exts[5..], m.exts[5..]);
}
