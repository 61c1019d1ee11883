//! Unit tests of the ISAKMP codec: hand-checked fixtures, round trips and
//! rejection of malformed input (which must never panic).
use super::ident::id_type;
use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Hex to bytes; whitespace and `|` separators are ignored.
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    assert_eq!(digits.len() % 2, 0, "odd number of hex digits");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// A raw generic payload: next, reserved 0, length, body.
fn raw(next: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![next, 0];
    v.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A tiny deterministic generator for the random-input tests.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// Main Mode MI1, laid out by hand from RFC 2408 §3.1-3.6 / RFC 2409 App. A:
/// header (28) + SA (96: one ISAKMP proposal, two transforms, a lifetime of
/// 86400 s as a 4-byte TLV) + VID (20, the RFC 3947 NAT-T vendor id) = 144.
const MI1: &str = "
    0102030405060708 0000000000000000 | 01 10 02 00 | 00000000 | 00000090
    0d 00 0060 | 00000001 | 00000001
      00 00 0054 | 01 01 00 02
        03 00 0028 | 01 01 0000
          8001 0007  800e 0080  8002 0002  8003 0001  8004 000e  800b 0001  000c 0004 00015180
        00 00 0024 | 02 01 0000
          8001 0005  8002 0001  8003 0001  8004 0002  800b 0001  000c 0004 00015180
    00 00 0014 | 4a131c81070358455c5728f20e95452f
";

// Byte offsets inside MI1 (computed by hand from the layout above).
const MI1_SA: usize = 28;
const MI1_PROP: usize = 40;
const MI1_T1: usize = 48;
const MI1_T2: usize = 88;
const MI1_VID: usize = 124;
const MI1_LEN: usize = 144;

fn mi1() -> Vec<u8> {
    let v = hex(MI1);
    assert_eq!(v.len(), MI1_LEN);
    v
}

fn mi1_header() -> Header {
    Header {
        icookie: [1, 2, 3, 4, 5, 6, 7, 8],
        rcookie: [0; 8],
        next_payload: payload_type::SA,
        version: 0x10,
        exchange: exchange::IDENTITY_PROTECTION,
        flags: 0,
        msgid: 0,
        length: MI1_LEN as u32,
    }
}

fn mi1_sa() -> SaPayload {
    let life = Attribute::from_u32(12, 86400);
    SaPayload {
        doi: DOI_IPSEC,
        situation: SIT_IDENTITY_ONLY,
        proposals: vec![Proposal {
            number: 1,
            protocol: protocol::ISAKMP,
            spi: vec![],
            transforms: vec![
                Transform {
                    number: 1,
                    transform_id: 1,
                    attributes: vec![
                        Attribute::basic(1, 7),
                        Attribute::basic(14, 128),
                        Attribute::basic(2, 2),
                        Attribute::basic(3, 1),
                        Attribute::basic(4, 14),
                        Attribute::basic(11, 1),
                        life.clone(),
                    ],
                },
                Transform {
                    number: 2,
                    transform_id: 1,
                    attributes: vec![
                        Attribute::basic(1, 5),
                        Attribute::basic(2, 1),
                        Attribute::basic(3, 1),
                        Attribute::basic(4, 2),
                        Attribute::basic(11, 1),
                        life,
                    ],
                },
            ],
        }],
    }
}

fn nat_t_vid() -> Vec<u8> {
    hex("4a131c81070358455c5728f20e95452f")
}

fn mi1_payloads() -> Vec<Payload> {
    vec![Payload::Sa(mi1_sa()), Payload::Vid(nat_t_vid())]
}

/// Quick Mode-like chain: HASH, SA (ESP + IPCOMP sharing proposal 1, then an
/// AH alternative as proposal 2), NONCE, KE, IDci, IDcr.
fn qm_payloads() -> Vec<Payload> {
    let sa = SaPayload {
        doi: DOI_IPSEC,
        situation: SIT_IDENTITY_ONLY,
        proposals: vec![
            Proposal {
                number: 1,
                protocol: protocol::ESP,
                spi: vec![0xde, 0xad, 0xbe, 0xef],
                transforms: vec![
                    Transform {
                        number: 1,
                        transform_id: 12, // ESP_AES
                        attributes: vec![
                            Attribute::basic(4, 1),
                            Attribute::basic(5, 2),
                            Attribute::basic(6, 128),
                            Attribute::basic(1, 1),
                            Attribute {
                                ty: 2,
                                value: AttrValue::Variable(vec![0, 0, 0x0e, 0x10]),
                            },
                        ],
                    },
                    Transform {
                        number: 2,
                        transform_id: 3, // ESP_3DES
                        attributes: vec![Attribute::basic(4, 1), Attribute::basic(5, 1)],
                    },
                ],
            },
            Proposal {
                number: 1,
                protocol: protocol::IPCOMP,
                spi: vec![0x12, 0x34],
                transforms: vec![Transform {
                    number: 1,
                    transform_id: 2, // IPCOMP_DEFLATE
                    attributes: vec![Attribute::basic(4, 1)],
                }],
            },
            Proposal {
                number: 2,
                protocol: protocol::AH,
                spi: vec![1, 2, 3, 4],
                transforms: vec![Transform {
                    number: 1,
                    transform_id: 3,
                    attributes: vec![],
                }],
            },
        ],
    };
    vec![
        Payload::Hash(vec![0xaa; 20]),
        Payload::Sa(sa),
        Payload::Nonce(vec![0x55; 16]),
        Payload::Ke(vec![0x77; 128]),
        Payload::Id(IdPayload {
            protocol: 0,
            port: 0,
            id: Identity::Ipv4Subnet(Ipv4Addr::new(10, 1, 0, 0), Ipv4Addr::new(255, 255, 0, 0)),
        }),
        Payload::Id(IdPayload {
            protocol: 17,
            port: 500,
            id: Identity::Ipv4(Ipv4Addr::new(192, 0, 2, 1)),
        }),
    ]
}

fn only_payloads(v: Vec<ParsedPayload>) -> Vec<Payload> {
    v.into_iter().map(|p| p.payload).collect()
}

fn parse_one(ty: u8, body: &[u8]) -> Result<Payload> {
    let bytes = raw(0, body);
    parse_chain(ty, &bytes, false).map(|mut v| {
        assert_eq!(v.len(), 1);
        v.remove(0).payload
    })
}

fn sa_body(p: &Payload) -> Vec<u8> {
    let mut v = Vec::new();
    p.emit_body(&mut v);
    v
}

/// The body of the SA payload of MI1.
fn mi1_sa_body() -> Vec<u8> {
    mi1()[MI1_SA + 4..MI1_VID].to_vec()
}

// ---------------------------------------------------------------------------
// Header
// ---------------------------------------------------------------------------

#[test]
fn header_fixture_parses_and_emits() {
    let dg = mi1();
    let (h, body) = parse_header(&dg).unwrap();
    assert_eq!(h, mi1_header());
    assert_eq!(body, &dg[HEADER_LEN..]);
    let mut out = Vec::new();
    h.emit(&mut out);
    assert_eq!(out, dg[..HEADER_LEN]);
}

#[test]
fn header_emit_literal() {
    let h = Header {
        icookie: [0x11; 8],
        rcookie: [0x22; 8],
        next_payload: payload_type::HASH,
        version: 0x10,
        exchange: exchange::QUICK,
        flags: flags::ENCRYPTION,
        msgid: 0xa1b2c3d4,
        length: 0x0102,
    };
    let mut out = Vec::new();
    h.emit(&mut out);
    assert_eq!(
        out,
        hex("1111111111111111 2222222222222222 08 10 20 01 a1b2c3d4 00000102")
    );
}

#[test]
fn header_emits_whatever_version_holds() {
    let mut h = mi1_header();
    h.version = 0x1f;
    let mut out = Vec::new();
    h.emit(&mut out);
    assert_eq!(out[17], 0x1f);
    // Minor version is not checked on parse.
    let mut dg = mi1();
    dg[17] = 0x1f;
    assert_eq!(parse_header(&dg).unwrap().0.version, 0x1f);
}

#[test]
fn header_truncated() {
    let dg = mi1();
    for n in 0..HEADER_LEN {
        match parse_header(&dg[..n]) {
            Err(WireError::Truncated { need: 28, have, .. }) => assert_eq!(have, n),
            other => panic!("prefix {n}: {other:?}"),
        }
    }
}

#[test]
fn header_length_below_28() {
    let mut dg = mi1();
    for len in [0u32, 1, 27] {
        dg[24..28].copy_from_slice(&len.to_be_bytes());
        assert!(
            matches!(parse_header(&dg), Err(WireError::BadLength { .. })),
            "{len}"
        );
    }
    // Exactly 28: an empty body.
    dg[24..28].copy_from_slice(&28u32.to_be_bytes());
    let (h, body) = parse_header(&dg).unwrap();
    assert_eq!(h.length, 28);
    assert!(body.is_empty());
}

#[test]
fn header_length_past_datagram() {
    let mut dg = mi1();
    for len in [MI1_LEN as u32 + 1, 0xffff, u32::MAX] {
        dg[24..28].copy_from_slice(&len.to_be_bytes());
        assert!(parse_header(&dg).is_err(), "{len}");
    }
}

#[test]
fn header_ignores_bytes_past_length() {
    let mut dg = mi1();
    dg.extend_from_slice(&[0xee; 7]);
    let (h, body) = parse_header(&dg).unwrap();
    assert_eq!(h.length as usize, MI1_LEN);
    assert_eq!(body.len(), MI1_LEN - HEADER_LEN);
}

#[test]
fn header_bad_version() {
    let mut dg = mi1();
    for v in [0x00u8, 0x01, 0x20, 0x21, 0xf0] {
        dg[17] = v;
        assert_eq!(parse_header(&dg), Err(WireError::BadVersion(v)));
    }
}

// ---------------------------------------------------------------------------
// Attributes
// ---------------------------------------------------------------------------

#[test]
fn attr_constructors_and_values() {
    assert_eq!(
        Attribute::basic(1, 7),
        Attribute {
            ty: 1,
            value: AttrValue::Basic(7)
        }
    );
    assert_eq!(Attribute::from_u32(12, 3600).value, AttrValue::Basic(3600));
    assert_eq!(
        Attribute::from_u32(12, 65535).value,
        AttrValue::Basic(65535)
    );
    assert_eq!(
        Attribute::from_u32(12, 65536).value,
        AttrValue::Variable(vec![0, 1, 0, 0])
    );
    let life = Attribute::from_u32(12, 86400);
    assert_eq!(life.value, AttrValue::Variable(vec![0, 1, 0x51, 0x80]));
    assert_eq!(life.as_u64(), Some(86400));
    assert_eq!(Attribute::basic(1, 7).as_u64(), Some(7));
    let var = |b: Vec<u8>| Attribute {
        ty: 2,
        value: AttrValue::Variable(b),
    };
    assert_eq!(var(vec![]).as_u64(), None);
    assert_eq!(var(vec![0x12]).as_u64(), Some(0x12));
    assert_eq!(var(vec![0xff; 8]).as_u64(), Some(u64::MAX));
    assert_eq!(var(vec![1; 9]).as_u64(), None);
}

#[test]
fn attr_emit_literal() {
    let mut out = Vec::new();
    Attribute::basic(1, 7).emit(&mut out);
    Attribute::from_u32(12, 86400).emit(&mut out);
    Attribute {
        ty: 16,
        value: AttrValue::Variable(vec![]),
    }
    .emit(&mut out);
    assert_eq!(out, hex("8001 0007 000c 0004 00015180 0010 0000"));
    let parsed = Attribute::parse_list(&out).unwrap();
    assert_eq!(
        parsed,
        vec![
            Attribute::basic(1, 7),
            Attribute::from_u32(12, 86400),
            Attribute {
                ty: 16,
                value: AttrValue::Variable(vec![])
            },
        ]
    );
}

#[test]
fn attr_round_trip_keeps_format() {
    // A small value sent as TLV stays TLV; emit is byte exact.
    let bytes = hex("0002 0002 0e10 800b 0001 0003 0001 ff");
    let attrs = Attribute::parse_list(&bytes).unwrap();
    assert_eq!(attrs[0].value, AttrValue::Variable(vec![0x0e, 0x10]));
    assert_eq!(attrs[0].as_u64(), Some(3600));
    let mut out = Vec::new();
    for a in &attrs {
        a.emit(&mut out);
    }
    assert_eq!(out, bytes);
}

#[test]
fn attr_af_bit_not_part_of_type() {
    let a = Attribute::basic(0x8001, 5);
    assert_eq!(a.ty, 1);
    let mut out = Vec::new();
    a.emit(&mut out);
    assert_eq!(out, hex("8001 0005"));
    let b = Attribute {
        ty: 0x8003,
        value: AttrValue::Variable(vec![9]),
    };
    out.clear();
    b.emit(&mut out);
    assert_eq!(out, hex("0003 0001 09"));
}

#[test]
fn attr_list_rejects_truncation() {
    assert_eq!(Attribute::parse_list(&[]).unwrap(), vec![]);
    for bad in [
        "80",
        "8001",
        "800100",
        "0001",
        "000100",
        "0001 0002 00",
        "0001 0004 000000",
        "8001 0001 00",
    ] {
        assert!(Attribute::parse_list(&hex(bad)).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------------------
// SA
// ---------------------------------------------------------------------------

#[test]
fn sa_fixture_parses_to_expected_values() {
    let sa = SaPayload::parse(&mi1_sa_body()).unwrap();
    assert_eq!(sa, mi1_sa());
    let life = &sa.proposals[0].transforms[0].attributes[6];
    assert_eq!(life.ty, 12);
    assert_eq!(life.as_u64(), Some(86400));
    let mut out = Vec::new();
    sa.emit(&mut out);
    assert_eq!(out, mi1_sa_body());
}

#[test]
fn sa_emit_next_payloads_lengths_and_counts() {
    let qm = qm_payloads();
    let body = sa_body(&qm[1]);
    // DOI, situation.
    assert_eq!(body[..8], hex("00000001 00000001"));
    // Proposal 1 (ESP): next=2, len, #1, proto 3, spi size 4, 2 transforms.
    let t1_len = 8 + 4 * 4 + 8;
    let t2_len = 8 + 2 * 4;
    let p1_len = 8 + 4 + t1_len + t2_len;
    assert_eq!(body[8..16], [2, 0, 0, p1_len as u8, 1, 3, 4, 2]);
    assert_eq!(body[16..20], [0xde, 0xad, 0xbe, 0xef]);
    // Transform 1: next=3; transform 2: next=0.
    assert_eq!(body[20..28], [3, 0, 0, t1_len as u8, 1, 12, 0, 0]);
    let t2 = 20 + t1_len;
    assert_eq!(body[t2..t2 + 8], [0, 0, 0, t2_len as u8, 2, 3, 0, 0]);
    // Proposal 2 (IPCOMP, same number 1): next=2, CPI of 2 bytes.
    let p2 = 8 + p1_len;
    assert_eq!(body[p2..p2 + 10], [2, 0, 0, 22, 1, 4, 2, 1, 0x12, 0x34]);
    assert_eq!(
        body[p2 + 10..p2 + 22],
        [0, 0, 0, 12, 1, 2, 0, 0, 0x80, 0x04, 0x00, 0x01]
    );
    // Last proposal (AH): next=0, attribute-less transform.
    let p3 = p2 + 22;
    assert_eq!(
        body[p3..],
        [0, 0, 0, 20, 2, 2, 4, 1, 1, 2, 3, 4, 0, 0, 0, 8, 1, 3, 0, 0]
    );
    let Payload::Sa(sa) = &qm[1] else {
        unreachable!()
    };
    assert_eq!(&SaPayload::parse(&body).unwrap(), sa);
}

#[test]
fn sa_rejects_doi_and_situation() {
    let mut b = mi1_sa_body();
    b[3] = 2;
    assert_eq!(
        SaPayload::parse(&b),
        Err(WireError::BadField {
            what: "DOI",
            value: 2
        })
    );
    b[3] = 0;
    assert_eq!(
        SaPayload::parse(&b),
        Err(WireError::BadField {
            what: "DOI",
            value: 0
        })
    );
    let mut b = mi1_sa_body();
    b[7] = 2;
    assert_eq!(
        SaPayload::parse(&b),
        Err(WireError::BadField {
            what: "situation",
            value: 2
        })
    );
    // SIT_SECRECY | SIT_IDENTITY_ONLY (labeled domains) is not supported either.
    b[7] = 3;
    assert!(matches!(
        SaPayload::parse(&b),
        Err(WireError::BadField {
            what: "situation",
            ..
        })
    ));
}

#[test]
fn sa_rejects_missing_proposals() {
    assert!(matches!(
        SaPayload::parse(&hex("00000001 00000001")),
        Err(WireError::BadSaStructure(_))
    ));
    assert!(matches!(
        SaPayload::parse(&hex("00000001 000000")),
        Err(WireError::Truncated { .. })
    ));
    assert!(matches!(
        SaPayload::parse(&[]),
        Err(WireError::Truncated { .. })
    ));
}

#[test]
fn sa_rejects_transform_count_mismatch() {
    let mut b = mi1_sa_body();
    let count = MI1_PROP + 7 - (MI1_SA + 4);
    assert_eq!(b[count], 2);
    for n in [0u8, 1, 3, 255] {
        b[count] = n;
        assert!(
            matches!(SaPayload::parse(&b), Err(WireError::BadSaStructure(_))),
            "count {n}"
        );
    }
}

#[test]
fn sa_rejects_wrong_transform_next_payload() {
    let base = mi1_sa_body();
    let t1_next = MI1_T1 - (MI1_SA + 4);
    let t2_next = MI1_T2 - (MI1_SA + 4);
    for (at, v) in [
        (t1_next, 2u8),
        (t1_next, 1),
        (t1_next, 13),
        (t1_next, 0),
        (t2_next, 3),
        (t2_next, 2),
    ] {
        let mut b = base.clone();
        b[at] = v;
        assert!(
            matches!(SaPayload::parse(&b), Err(WireError::BadSaStructure(_))),
            "at {at} = {v}"
        );
    }
}

#[test]
fn sa_rejects_wrong_proposal_next_payload() {
    let mut b = mi1_sa_body();
    let p_next = MI1_PROP - (MI1_SA + 4);
    for v in [2u8, 3, 1, 13] {
        b[p_next] = v;
        assert!(
            matches!(SaPayload::parse(&b), Err(WireError::BadSaStructure(_))),
            "{v}"
        );
    }
}

#[test]
fn sa_rejects_spi_size_17() {
    let body = hex("00000001 00000001
         00 00 0021 01 03 11 01 0102030405060708090a0b0c0d0e0f1011
           00 00 0008 01 03 0000");
    assert_eq!(
        SaPayload::parse(&body),
        Err(WireError::BadField {
            what: "SPI size",
            value: 17
        })
    );
    // 16 is fine.
    let ok = hex("00000001 00000001
         00 00 0020 01 01 10 01 0102030405060708090a0b0c0d0e0f10
           00 00 0008 01 01 0000");
    let sa = SaPayload::parse(&ok).unwrap();
    assert_eq!(sa.proposals[0].spi.len(), 16);
    assert!(sa.proposals[0].transforms[0].attributes.is_empty());
    let mut out = Vec::new();
    sa.emit(&mut out);
    assert_eq!(out, ok);
}

#[test]
fn sa_rejects_spi_past_proposal() {
    let body = hex("00000001 00000001  00 00 000a 01 03 04 01 dead  00 00 0008 01 03 0000");
    assert!(SaPayload::parse(&body).is_err());
}

#[test]
fn sa_rejects_inconsistent_nested_lengths() {
    let base = mi1_sa_body();
    let p_len = MI1_PROP + 2 - (MI1_SA + 4);
    let t1_len = MI1_T1 + 2 - (MI1_SA + 4);
    let t2_len = MI1_T2 + 2 - (MI1_SA + 4);
    let cases: &[(usize, u16)] = &[
        (p_len, 0),
        (p_len, 7),
        (p_len, 0x53),
        (p_len, 0x55),
        (p_len, 0xffff),
        (t1_len, 0),
        (t1_len, 4),
        (t1_len, 7),
        (t1_len, 0x27),
        (t1_len, 0x29),
        (t1_len, 0x4c + 1),
        (t2_len, 0x23),
        (t2_len, 0x25),
        (t2_len, 3),
    ];
    for &(at, v) in cases {
        let mut b = base.clone();
        b[at..at + 2].copy_from_slice(&v.to_be_bytes());
        assert!(SaPayload::parse(&b).is_err(), "at {at} = {v:#x}");
    }
    // Extra bytes after the last proposal.
    let mut b = base.clone();
    b.push(0);
    assert!(matches!(
        SaPayload::parse(&b),
        Err(WireError::BadSaStructure(_))
    ));
    // Proposal says another follows but nothing does.
    let mut b = base;
    b[MI1_PROP - (MI1_SA + 4)] = 2;
    assert!(SaPayload::parse(&b).is_err());
}

#[test]
fn sa_every_prefix_errors() {
    let b = mi1_sa_body();
    for n in 0..b.len() {
        assert!(SaPayload::parse(&b[..n]).is_err(), "prefix {n}");
    }
}

fn tiny_proposal(number: u8) -> Proposal {
    Proposal {
        number,
        protocol: protocol::ESP,
        spi: vec![0, 0, 0, number],
        transforms: vec![Transform {
            number: 1,
            transform_id: 3,
            attributes: vec![],
        }],
    }
}

#[test]
fn sa_proposal_and_transform_limits() {
    let mk = |n: usize| SaPayload {
        doi: DOI_IPSEC,
        situation: SIT_IDENTITY_ONLY,
        proposals: (0..n).map(|i| tiny_proposal(i as u8 + 1)).collect(),
    };
    let mut out = Vec::new();
    mk(64).emit(&mut out);
    assert_eq!(SaPayload::parse(&out).unwrap(), mk(64));
    out.clear();
    mk(65).emit(&mut out);
    assert!(matches!(
        SaPayload::parse(&out),
        Err(WireError::BadSaStructure(_))
    ));

    let mkt = |n: usize| SaPayload {
        doi: DOI_IPSEC,
        situation: SIT_IDENTITY_ONLY,
        proposals: vec![Proposal {
            number: 1,
            protocol: protocol::ESP,
            spi: vec![1, 2, 3, 4],
            transforms: (0..n)
                .map(|i| Transform {
                    number: i as u8 + 1,
                    transform_id: 3,
                    attributes: vec![],
                })
                .collect(),
        }],
    };
    out.clear();
    mkt(64).emit(&mut out);
    assert_eq!(SaPayload::parse(&out).unwrap(), mkt(64));
    out.clear();
    mkt(65).emit(&mut out);
    assert!(matches!(
        SaPayload::parse(&out),
        Err(WireError::BadSaStructure(_))
    ));
}

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

// ---------------------------------------------------------------------------
// Chain: whole messages
// ---------------------------------------------------------------------------

#[test]
fn main_mode_mi1_fixture_round_trips() {
    let dg = mi1();
    let (h, body) = parse_header(&dg).unwrap();
    let chain = parse_chain(h.next_payload, body, false).unwrap();
    assert_eq!(chain.len(), 2);
    assert_eq!((chain[0].start, chain[0].end), (0, MI1_VID - MI1_SA));
    assert_eq!(
        (chain[1].start, chain[1].end),
        (MI1_VID - MI1_SA, MI1_LEN - MI1_SA)
    );
    assert_eq!(chain[0].body(body), &dg[MI1_SA + 4..MI1_VID]);
    assert_eq!(chain[1].body(body), &nat_t_vid()[..]);
    assert_eq!(only_payloads(chain), mi1_payloads());

    // Emit from the hand-written structures and compare with the literal bytes.
    let (first, bytes) = emit_chain(&mi1_payloads());
    assert_eq!(first, payload_type::SA);
    let mut out = Vec::new();
    Header {
        length: (HEADER_LEN + bytes.len()) as u32,
        ..mi1_header()
    }
    .emit(&mut out);
    out.extend_from_slice(&bytes);
    assert_eq!(out, dg);
}

#[test]
fn quick_mode_chain_round_trips() {
    let payloads = qm_payloads();
    let (first, bytes) = emit_chain(&payloads);
    assert_eq!(first, payload_type::HASH);
    let parsed = parse_chain(first, &bytes, false).unwrap();
    // Next-payload bytes and offsets are consistent.
    let expect_next = [
        payload_type::SA,
        payload_type::NONCE,
        payload_type::KE,
        payload_type::ID,
        payload_type::ID,
        0,
    ];
    let mut pos = 0;
    for (p, next) in parsed.iter().zip(expect_next) {
        assert_eq!(p.start, pos);
        assert_eq!(bytes[p.start], next);
        assert_eq!(bytes[p.start + 1], 0);
        assert_eq!(
            u16::from_be_bytes([bytes[p.start + 2], bytes[p.start + 3]]) as usize,
            p.end - p.start
        );
        pos = p.end;
    }
    assert_eq!(pos, bytes.len());
    assert_eq!(parsed[0].body(&bytes), &[0xaa; 20][..]);
    assert_eq!(only_payloads(parsed), payloads);
    // Re-emit is byte exact.
    assert_eq!(emit_chain(&qm_payloads()).1, bytes);
    // Encrypted messages carry padding: allowed only on request.
    let mut padded = bytes.clone();
    padded.extend_from_slice(&[0, 0, 0, 7]);
    assert_eq!(
        only_payloads(parse_chain(first, &padded, true).unwrap()),
        payloads
    );
    assert_eq!(
        parse_chain(first, &padded, false),
        Err(WireError::TrailingData(4))
    );
}

#[test]
fn every_payload_type_round_trips() {
    let payloads = vec![
        mi1_payloads().remove(0),
        Payload::Ke(vec![1; 256]),
        Payload::Id(IdPayload {
            protocol: 0,
            port: 0,
            id: Identity::Fqdn(b"west".to_vec()),
        }),
        Payload::Cert {
            encoding: 4,
            data: vec![0x30, 0x82, 0x01, 0x00],
        },
        Payload::Cert {
            encoding: 4,
            data: vec![],
        },
        Payload::CertReq {
            cert_type: 4,
            authority: vec![],
        },
        Payload::CertReq {
            cert_type: 4,
            authority: vec![0x30, 0x00],
        },
        Payload::Hash(vec![2; 20]),
        Payload::Sig(vec![3; 128]),
        Payload::Nonce(vec![4; 8]),
        Payload::Nonce(vec![5; 256]),
        Payload::Notify(NotifyPayload {
            doi: DOI_IPSEC,
            protocol: protocol::ESP,
            spi: vec![1, 2, 3, 4],
            msg_type: notify_type::RESPONDER_LIFETIME,
            data: hex("800b0001 000c0004 00015180"),
        }),
        Payload::Delete(DeletePayload {
            doi: DOI_IPSEC,
            protocol: protocol::AH,
            spi_size: 4,
            spis: vec![vec![9; 4]],
        }),
        Payload::Vid(b"OEvFAnmFgvbM".to_vec()),
        Payload::Vid(vec![]),
        Payload::Other {
            ty: payload_type::NAT_D,
            body: vec![6; 20],
        },
        Payload::Other {
            ty: payload_type::NAT_OA,
            body: hex("01000000 c0000201"),
        },
        Payload::Other {
            ty: 128,
            body: vec![],
        },
        Payload::Other {
            ty: 130,
            body: vec![7; 3],
        },
        Payload::Other {
            ty: 255,
            body: vec![8],
        },
    ];
    // Each one alone.
    for p in &payloads {
        let (first, bytes) = emit_chain(std::slice::from_ref(p));
        assert_eq!(first, p.ty());
        assert_eq!(bytes[0], 0);
        let parsed = parse_chain(first, &bytes, false).unwrap();
        assert_eq!(only_payloads(parsed), vec![p.clone()], "{p:?}");
    }
    // All in one chain.
    let (first, bytes) = emit_chain(&payloads);
    let parsed = only_payloads(parse_chain(first, &bytes, false).unwrap());
    assert_eq!(parsed, payloads);
    assert_eq!(emit_chain(&parsed).1, bytes);
}

#[test]
fn payload_literal_bodies() {
    let (_, b) = emit_chain(&[Payload::Cert {
        encoding: 4,
        data: vec![0xaa, 0xbb],
    }]);
    assert_eq!(b, hex("00 00 0007 04 aabb"));
    let (_, b) = emit_chain(&[Payload::CertReq {
        cert_type: 4,
        authority: vec![],
    }]);
    assert_eq!(b, hex("00 00 0005 04"));
    let (_, b) = emit_chain(&[Payload::Nonce(vec![0x5a; 8]), Payload::Hash(vec![1])]);
    assert_eq!(b, hex("08 00 000c 5a5a5a5a5a5a5a5a  00 00 0005 01"));
    let (_, b) = emit_chain(&[Payload::Id(IdPayload {
        protocol: 0,
        port: 0,
        id: Identity::Ipv4(Ipv4Addr::new(192, 0, 2, 1)),
    })]);
    assert_eq!(b, hex("00 00 000c 01 00 0000 c0000201"));
}

#[test]
fn empty_chain() {
    assert_eq!(emit_chain(&[]), (payload_type::NONE, vec![]));
    assert_eq!(parse_chain(payload_type::NONE, &[], false).unwrap(), vec![]);
    assert_eq!(
        parse_chain(payload_type::NONE, &[1, 2], false),
        Err(WireError::TrailingData(2))
    );
    assert_eq!(
        parse_chain(payload_type::NONE, &[1, 2], true).unwrap(),
        vec![]
    );
}

#[test]
fn every_truncation_of_mi1_errors() {
    let dg = mi1();
    for n in 0..dg.len() {
        let prefix = &dg[..n];
        // As received: the header length no longer fits.
        assert!(parse_header(prefix).is_err(), "prefix {n}");
        // With the length field fixed up, the chain itself must be refused.
        if n >= HEADER_LEN {
            let mut fixed = prefix.to_vec();
            fixed[24..28].copy_from_slice(&(n as u32).to_be_bytes());
            let (h, body) = parse_header(&fixed).unwrap();
            for trailing in [false, true] {
                assert!(
                    parse_chain(h.next_payload, body, trailing).is_err(),
                    "prefix {n} trailing {trailing}"
                );
            }
        }
    }
}

#[test]
fn every_truncation_of_quick_mode_errors() {
    let (first, bytes) = emit_chain(&qm_payloads());
    for n in 0..bytes.len() {
        for trailing in [false, true] {
            assert!(
                parse_chain(first, &bytes[..n], trailing).is_err(),
                "prefix {n}"
            );
        }
    }
}

#[test]
fn payload_length_below_4() {
    for len in 0u16..4 {
        let mut b = raw(0, &[1, 2, 3, 4, 5, 6, 7, 8]);
        b[2..4].copy_from_slice(&len.to_be_bytes());
        for ty in [payload_type::VID, payload_type::HASH, payload_type::SA, 200] {
            assert_eq!(
                parse_chain(ty, &b, true),
                Err(WireError::BadLength {
                    what: payload_name(ty),
                    len: usize::from(len)
                }),
                "len {len} ty {ty}"
            );
        }
    }
    // In MI1, on the second payload.
    let dg = mi1();
    let body = &dg[HEADER_LEN..];
    for len in 0u16..4 {
        let mut b = body.to_vec();
        let at = MI1_VID - MI1_SA + 2;
        b[at..at + 2].copy_from_slice(&len.to_be_bytes());
        assert!(matches!(
            parse_chain(payload_type::SA, &b, true),
            Err(WireError::BadLength { .. })
        ));
    }
}

#[test]
fn payload_length_past_data() {
    let mut b = raw(0, &[1, 2, 3, 4]);
    b[3] = 9;
    assert!(matches!(
        parse_chain(payload_type::VID, &b, true),
        Err(WireError::BadLength { len: 9, .. })
    ));
    b[2..4].copy_from_slice(&0xffffu16.to_be_bytes());
    assert!(parse_chain(payload_type::VID, &b, true).is_err());
    // Generic header itself truncated.
    for n in 0..4 {
        assert!(matches!(
            parse_chain(payload_type::VID, &b[..n], true),
            Err(WireError::Truncated { .. })
        ));
    }
}

#[test]
fn undefined_and_ikev2_payload_types_rejected() {
    let b = raw(0, &[0xaa; 24]);
    for ty in (33u8..=53).chain([2, 3, 14, 15, 19, 22, 32, 54, 100, 127]) {
        assert_eq!(
            parse_chain(ty, &b, true),
            Err(WireError::InvalidPayloadType(ty)),
            "first {ty}"
        );
        // As the next payload of a good one.
        let mut chain = raw(ty, &[1; 4]);
        chain.extend_from_slice(&b);
        assert_eq!(
            parse_chain(payload_type::VID, &chain, true),
            Err(WireError::InvalidPayloadType(ty)),
            "next {ty}"
        );
        assert_eq!(
            Payload::parse_body(ty, &[0xaa; 24]),
            Err(WireError::InvalidPayloadType(ty))
        );
    }
    for ty in [20u8, 21, 128, 129, 254, 255] {
        let got = only_payloads(parse_chain(ty, &b, false).unwrap());
        assert_eq!(
            got,
            vec![Payload::Other {
                ty,
                body: vec![0xaa; 24]
            }]
        );
    }
}

#[test]
fn top_level_proposal_in_mi1_rejected() {
    let mut dg = mi1();
    dg[16] = payload_type::PROPOSAL;
    let (h, body) = parse_header(&dg).unwrap();
    assert_eq!(
        parse_chain(h.next_payload, body, false),
        Err(WireError::InvalidPayloadType(2))
    );
    let mut dg = mi1();
    dg[MI1_SA] = 33; // SA's next payload: an IKEv2 type
    let (h, body) = parse_header(&dg).unwrap();
    assert_eq!(
        parse_chain(h.next_payload, body, false),
        Err(WireError::InvalidPayloadType(33))
    );
}

#[test]
fn too_many_payloads() {
    let vids = |n: usize| vec![Payload::Vid(vec![1, 2]); n];
    let (first, bytes) = emit_chain(&vids(MAX_PAYLOADS));
    assert_eq!(
        parse_chain(first, &bytes, false).unwrap().len(),
        MAX_PAYLOADS
    );
    let (first, bytes) = emit_chain(&vids(MAX_PAYLOADS + 1));
    assert_eq!(
        parse_chain(first, &bytes, false),
        Err(WireError::TooManyPayloads)
    );
    assert_eq!(
        parse_chain(first, &bytes, true),
        Err(WireError::TooManyPayloads)
    );
}

#[test]
fn trailing_data() {
    let dg = mi1();
    let mut body = dg[HEADER_LEN..].to_vec();
    body.push(0);
    assert_eq!(
        parse_chain(payload_type::SA, &body, false),
        Err(WireError::TrailingData(1))
    );
    assert_eq!(
        only_payloads(parse_chain(payload_type::SA, &body, true).unwrap()),
        mi1_payloads()
    );
    body.extend_from_slice(&[0xff; 15]);
    assert_eq!(
        parse_chain(payload_type::SA, &body, false),
        Err(WireError::TrailingData(16))
    );
    assert_eq!(parse_chain(payload_type::SA, &body, true).unwrap().len(), 2);
    // Padding that looks like a payload is still just padding.
    let mut body = dg[HEADER_LEN..].to_vec();
    body.extend_from_slice(&raw(0, &[1, 2, 3]));
    assert_eq!(parse_chain(payload_type::SA, &body, true).unwrap().len(), 2);
    // A header length covering the trailing bytes gets them to the chain parser.
    let mut dg2 = dg.clone();
    dg2.extend_from_slice(&[0; 4]);
    dg2[24..28].copy_from_slice(&(MI1_LEN as u32 + 4).to_be_bytes());
    let (h, b) = parse_header(&dg2).unwrap();
    assert_eq!(
        parse_chain(h.next_payload, b, false),
        Err(WireError::TrailingData(4))
    );
}

#[test]
fn body_constraints() {
    use payload_type as pt;
    assert_eq!(
        parse_one(pt::KE, &[]),
        Err(WireError::BadField {
            what: "KE length",
            value: 0
        })
    );
    assert!(matches!(
        parse_one(pt::HASH, &[]),
        Err(WireError::BadField { .. })
    ));
    assert!(matches!(
        parse_one(pt::SIG, &[]),
        Err(WireError::BadField { .. })
    ));
    assert!(matches!(
        parse_one(pt::CERT, &[]),
        Err(WireError::Truncated { .. })
    ));
    assert!(matches!(
        parse_one(pt::CR, &[]),
        Err(WireError::Truncated { .. })
    ));
    for n in [0usize, 1, 7, 257, 1000] {
        assert_eq!(
            parse_one(pt::NONCE, &vec![0; n]),
            Err(WireError::BadField {
                what: "nonce length",
                value: n as u32
            }),
            "{n}"
        );
    }
    for n in [8usize, 16, 255, 256] {
        assert_eq!(
            parse_one(pt::NONCE, &vec![0; n]),
            Ok(Payload::Nonce(vec![0; n]))
        );
    }
    assert_eq!(parse_one(pt::KE, &[0]), Ok(Payload::Ke(vec![0])));
    assert_eq!(parse_one(pt::HASH, &[0]), Ok(Payload::Hash(vec![0])));
    assert_eq!(parse_one(pt::SIG, &[0]), Ok(Payload::Sig(vec![0])));
    assert_eq!(
        parse_one(pt::CR, &[4]),
        Ok(Payload::CertReq {
            cert_type: 4,
            authority: vec![]
        })
    );
    assert_eq!(parse_one(pt::VID, &[]), Ok(Payload::Vid(vec![])));
    // Errors in a body surface through the chain.
    assert!(matches!(
        parse_one(pt::SA, &hex("00000002 00000001")),
        Err(WireError::BadField { what: "DOI", .. })
    ));
    assert!(matches!(
        parse_one(pt::D, &hex("00000001 03 04 0000")),
        Err(WireError::BadField { .. })
    ));
    assert!(matches!(
        parse_one(pt::N, &hex("00000001 03")),
        Err(WireError::Truncated { .. })
    ));
    assert!(matches!(
        parse_one(pt::ID, &hex("0c000000 01")),
        Err(WireError::BadField { .. })
    ));
}

#[test]
fn reserved_byte_ignored_on_parse_zero_on_emit() {
    let dg = mi1();
    let mut body = dg[HEADER_LEN..].to_vec();
    body[1] = 0x5a;
    body[MI1_VID - MI1_SA + 1] = 0xff;
    let parsed = only_payloads(parse_chain(payload_type::SA, &body, false).unwrap());
    assert_eq!(parsed, mi1_payloads());
    assert_eq!(emit_chain(&parsed).1, dg[HEADER_LEN..]);
}

#[test]
fn parsed_payload_body_is_safe() {
    let data = [0u8, 0, 0, 6, 9, 9];
    let p = |start, end| ParsedPayload {
        payload: Payload::Vid(vec![]),
        start,
        end,
    };
    assert_eq!(p(0, 6).body(&data), &[9, 9]);
    assert_eq!(p(0, 4).body(&data), &[] as &[u8]);
    assert_eq!(p(0, 7).body(&data), &[] as &[u8]);
    assert_eq!(p(5, 2).body(&data), &[] as &[u8]);
    assert_eq!(p(usize::MAX, usize::MAX).body(&data), &[] as &[u8]);
}

#[test]
fn payload_names_and_types() {
    assert_eq!(
        Payload::Other {
            ty: 20,
            body: vec![]
        }
        .ty(),
        20
    );
    assert_eq!(payload_name(payload_type::NAT_D), "NAT-D");
    assert_eq!(payload_name(33), "UNKNOWN");
}

// ---------------------------------------------------------------------------
// Robustness: no panic on any input
// ---------------------------------------------------------------------------

/// Parses a whole datagram the way the engine will; on success checks that
/// re-emitting and re-parsing gives the same payloads.
fn parse_all(dg: &[u8]) {
    let Ok((h, body)) = parse_header(dg) else {
        return;
    };
    for trailing in [false, true] {
        if let Ok(chain) = parse_chain(h.next_payload, body, trailing) {
            for p in &chain {
                assert!(p.start + 4 <= p.end && p.end <= body.len());
                let _ = p.body(body);
                if let Payload::Id(id) = &p.payload {
                    let _ = id.id.to_string();
                }
            }
            let payloads = only_payloads(chain);
            let (first, bytes) = emit_chain(&payloads);
            if !payloads.is_empty() {
                assert_eq!(first, h.next_payload);
            }
            assert_eq!(
                only_payloads(parse_chain(first, &bytes, false).unwrap()),
                payloads
            );
        }
    }
}

#[test]
fn bit_flips_of_mi1_never_panic() {
    let dg = mi1();
    let mut accepted = 0;
    for bit in 0..dg.len() * 8 {
        let mut m = dg.clone();
        m[bit / 8] ^= 1 << (bit % 8);
        parse_all(&m);
        if parse_header(&m).is_ok_and(|(h, b)| parse_chain(h.next_payload, b, false).is_ok()) {
            accepted += 1;
        }
    }
    // Cookies, flags, msgid, attribute values... can change freely.
    assert!(accepted > 0);
}

#[test]
fn bit_flips_of_quick_mode_never_panic() {
    let (first, bytes) = emit_chain(&qm_payloads());
    for bit in 0..bytes.len() * 8 {
        let mut m = bytes.clone();
        m[bit / 8] ^= 1 << (bit % 8);
        for trailing in [false, true] {
            if let Ok(chain) = parse_chain(first, &m, trailing) {
                let payloads = only_payloads(chain);
                let (f, b) = emit_chain(&payloads);
                assert_eq!(only_payloads(parse_chain(f, &b, false).unwrap()), payloads);
            }
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Lcg(0x5eed);
    let dg = mi1();
    let (qfirst, qm) = emit_chain(&qm_payloads());
    for _ in 0..20_000 {
        // Random garbage of random length.
        let n = (rng.next() % 200) as usize;
        let junk: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
        let first = rng.byte() % 24;
        let _ = parse_chain(first, &junk, rng.byte() & 1 == 0);
        let _ = SaPayload::parse(&junk);
        let _ = IdPayload::parse(&junk);
        let _ = NotifyPayload::parse(&junk);
        let _ = DeletePayload::parse(&junk);
        let _ = Attribute::parse_list(&junk);
        // A good message with a few random bytes overwritten.
        let use_mi1 = rng.byte() & 1 == 0;
        let mut m = if use_mi1 { dg.clone() } else { qm.clone() };
        for _ in 0..1 + rng.next() % 4 {
            let at = (rng.next() as usize) % m.len();
            m[at] = rng.byte();
        }
        if use_mi1 {
            parse_all(&m);
        } else {
            let _ = parse_chain(qfirst, &m, true);
        }
    }
}
