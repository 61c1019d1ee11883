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

mod fields;
mod ids;
mod messages;
