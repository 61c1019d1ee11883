//! Whole payload chains: round trips, truncation, limits.
use super::*;

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
