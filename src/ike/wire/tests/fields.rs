//! Header, attributes and SA payloads.
use super::*;

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
