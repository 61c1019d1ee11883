//! Malformed input: bad lengths, duplicates, truncations, and a seeded fuzz
//! loop. Nothing may panic; whatever parses must re-emit to itself.
use super::*;
use crate::wire_fuzz::{set_u16, Lcg};

fn set_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
}

/// Writes nlmsg_len to match the buffer.
fn fix_len(b: &mut [u8]) {
    if b.len() >= 4 {
        let n = b.len() as u32;
        set_u32(b, 0, n);
    }
}

/// Parses; if accepted, the emission must parse back to the same repr and
/// emit the same bytes. Returns whether it was accepted.
fn check(bytes: &[u8]) -> bool {
    match Message::parse(bytes) {
        Ok(m) => {
            let out = m.emit();
            let back = Message::parse(&out)
                .unwrap_or_else(|e| panic!("re-parse failed ({e}): {}", m.summary()));
            assert_eq!(back, m);
            assert_eq!(back.emit(), out);
            let _ = m.summary();
            let _ = m.ext_ack_msg();
            true
        }
        Err(e) => {
            let _ = e.to_string();
            false
        }
    }
}

fn parse(b: &[u8]) -> Result<Message> {
    Message::parse(b)
}

/// DELSA with XFRMA_SRCADDR: header 16 + usersa_id 24 + attr 20 = 60.
fn base() -> Vec<u8> {
    hex(fixtures::DELSA)
}

#[test]
fn header_errors() {
    assert!(matches!(parse(&[]), Err(XfrmError::Truncated { .. })));
    assert!(matches!(
        parse(&base()[..15]),
        Err(XfrmError::Truncated { .. })
    ));
    let mut b = base();
    set_u32(&mut b, 0, 64);
    assert_eq!(
        parse(&b),
        Err(XfrmError::Truncated {
            what: "netlink message",
            need: 64,
            have: 60
        })
    );
    let mut b = base();
    set_u32(&mut b, 0, 56);
    assert_eq!(
        parse(&b),
        Err(XfrmError::TrailingData {
            what: "netlink message",
            len: 4
        })
    );
    let mut b = base();
    set_u32(&mut b, 0, 15);
    assert_eq!(
        parse(&b),
        Err(XfrmError::BadLength {
            what: "netlink message",
            len: 15
        })
    );
    // Fixed part too short for the type: a DELSA of 16 + 20 bytes.
    let mut b = base()[..36].to_vec();
    fix_len(&mut b);
    assert!(matches!(
        parse(&b),
        Err(XfrmError::Truncated {
            what: "XFRM_MSG_DELSA",
            need: 24,
            ..
        })
    ));
    // FLUSHSA: 17 bytes is right; 18 leaves a byte that is neither padding
    // up to an attribute nor an attribute.
    let f = hex(fixtures::FLUSHSA_ESP);
    assert!(parse(&f).is_ok());
    let mut g = f.clone();
    g.push(0);
    fix_len(&mut g);
    assert!(matches!(parse(&g), Err(XfrmError::TrailingData { .. })));
    // With padding and an attribute it is fine (attributes start at 20).
    let mut g = f.clone();
    g.extend_from_slice(&[0, 0, 0, 8, 0, 99, 0, 1, 2, 3, 4]);
    g.truncate(28);
    fix_len(&mut g);
    let m = parse(&g).unwrap();
    assert_eq!(m.attrs.len(), 1);
    assert_eq!(m.emit(), g);
}

#[test]
fn attribute_framing_errors() {
    // The SRCADDR attribute sits at 40: len 20, type 13.
    let mut b = base();
    set_u16(&mut b, 40, 3);
    assert_eq!(
        parse(&b),
        Err(XfrmError::BadLength {
            what: "attribute",
            len: 3
        })
    );
    let mut b = base();
    set_u16(&mut b, 40, 24);
    assert_eq!(
        parse(&b),
        Err(XfrmError::BadLength {
            what: "attribute",
            len: 24
        })
    );
    // A known type with the wrong size.
    let mut b = base();
    b.truncate(56);
    set_u16(&mut b, 40, 16);
    fix_len(&mut b);
    assert_eq!(
        parse(&b),
        Err(XfrmError::BadLength {
            what: "XFRMA_SRCADDR",
            len: 12
        })
    );
    // Two known attributes of one type are refused; unknown ones repeat.
    let mut b = base();
    b.extend_from_slice(&base()[40..60]);
    fix_len(&mut b);
    assert_eq!(parse(&b), Err(XfrmError::DuplicateAttr(XFRMA_SRCADDR)));
    let mut b = base();
    set_u16(&mut b, 42, 250);
    let dup = b[40..60].to_vec();
    b.extend_from_slice(&dup);
    fix_len(&mut b);
    let m = parse(&b).unwrap();
    assert_eq!(m.attrs.len(), 2);
    assert_eq!(m.emit(), b);
    // The last attribute may lack its padding; emission adds it.
    let mut b = base();
    b.truncate(40);
    b.extend_from_slice(&[5, 0, 250, 0, 7]);
    fix_len(&mut b);
    let m = parse(&b).unwrap();
    assert_eq!(m.emit().len(), 48);
    assert!(check(&b));
}

fn with_attr(ty: u16, data: &[u8]) -> Result<Message> {
    let m = Message::new(Header::new(XFRM_MSG_FLUSHPOLICY, 0), Body::Empty).with(Attr::Unknown {
        ty,
        data: data.to_vec(),
    });
    Message::parse(&m.emit())
}

#[test]
fn attribute_body_errors() {
    let algo = |name: &[u8], bits: u32, key: &[u8]| {
        let mut v = name.to_vec();
        v.resize(64, 0);
        v.extend_from_slice(&bits.to_ne_bytes());
        v.extend_from_slice(key);
        v
    };
    assert!(with_attr(XFRMA_ALG_CRYPT, &algo(b"cbc(aes)", 128, &[1; 16])).is_ok());
    // Key length must be exactly ceil(bits / 8).
    assert!(matches!(
        with_attr(XFRMA_ALG_CRYPT, &algo(b"cbc(aes)", 128, &[1; 15])),
        Err(XfrmError::BadLength {
            what: "algorithm key",
            len: 15
        })
    ));
    assert!(with_attr(XFRMA_ALG_CRYPT, &algo(b"x", 12, &[1; 2])).is_ok());
    assert!(with_attr(XFRMA_ALG_CRYPT, &algo(b"x", 12, &[1; 3])).is_err());
    assert!(with_attr(XFRMA_ALG_CRYPT, &algo(b"x", u32::MAX, &[])).is_err());
    // Names: a NUL inside the 64 bytes, zeros after it.
    assert!(matches!(
        with_attr(XFRMA_ALG_AUTH, &algo(&[b'a'; 64], 0, &[])),
        Err(XfrmError::BadField { .. })
    ));
    let mut junk = algo(b"md5", 0, &[]);
    junk[10] = 1;
    assert!(matches!(
        with_attr(XFRMA_ALG_AUTH, &junk),
        Err(XfrmError::BadField { .. })
    ));
    assert!(with_attr(XFRMA_ALG_COMP, &algo(&[0xff, 0xfe], 0, &[])).is_err());
    // Truncated auth: fixed part is 72 bytes.
    assert!(matches!(
        with_attr(XFRMA_ALG_AUTH_TRUNC, &[0; 70]),
        Err(XfrmError::Truncated { .. })
    ));
    // Templates: whole 64-byte records only (none is allowed).
    assert!(with_attr(XFRMA_TMPL, &[]).is_ok());
    assert!(with_attr(XFRMA_TMPL, &[0; 128]).is_ok());
    assert!(matches!(
        with_attr(XFRMA_TMPL, &[0; 100]),
        Err(XfrmError::BadLength {
            what: "XFRMA_TMPL",
            len: 100
        })
    ));
    // ESN: bmp_len must match the words that follow.
    let mut esn = vec![0u8; 24];
    esn[0] = 2;
    esn.extend_from_slice(&[0; 8]);
    assert!(with_attr(XFRMA_REPLAY_ESN_VAL, &esn).is_ok());
    esn.extend_from_slice(&[0; 4]);
    assert!(matches!(
        with_attr(XFRMA_REPLAY_ESN_VAL, &esn),
        Err(XfrmError::BadField { .. })
    ));
    // Fixed-size attributes of the wrong size.
    for (ty, good) in [
        (XFRMA_ENCAP, 24),
        (XFRMA_SA, 224),
        (XFRMA_POLICY, 168),
        (XFRMA_LTIME_VAL, 32),
        (XFRMA_REPLAY_VAL, 12),
        (XFRMA_SRCADDR, 16),
        (XFRMA_COADDR, 16),
        (XFRMA_POLICY_TYPE, 6),
        (XFRMA_MARK, 8),
        (XFRMA_IF_ID, 4),
    ] {
        assert!(with_attr(ty, &vec![0; good]).is_ok(), "type {ty}");
        assert!(with_attr(ty, &vec![0; good + 4]).is_err(), "type {ty} long");
        assert!(
            with_attr(ty, &vec![0; good - 1]).is_err(),
            "type {ty} short"
        );
    }
    // Flag bits make a known number opaque (kept raw).
    let m = with_attr(XFRMA_MARK | 0x8000, &[1, 2, 3]).unwrap();
    assert!(matches!(m.attrs[0], Attr::Unknown { ty: 0x8015, .. }));
}

#[test]
fn error_and_done_bodies() {
    // NLMSG_ERROR shorter than nlmsgerr; NLMSG_DONE without its status.
    let mut b = hex(fixtures::ACK_FLUSHSA);
    b.truncate(32);
    fix_len(&mut b);
    assert!(matches!(parse(&b), Err(XfrmError::Truncated { .. })));
    let mut d = hex(fixtures::DONE);
    d.truncate(18);
    fix_len(&mut d);
    assert!(matches!(parse(&d), Err(XfrmError::Truncated { .. })));
    // Unknown message types keep their payload raw, attributes included.
    let mut u = hex(fixtures::DELSA);
    set_u16(&mut u, 4, 0x40);
    let m = parse(&u).unwrap();
    assert!(matches!(&m.body, Body::Other(p) if p.len() == 44));
    assert_eq!(m.emit(), u);
    // An extended ack whose TLVs are garbage yields no text, no error.
    let mut e = hex(fixtures::ERROR_ENOSYS_EXT_ACK);
    let n = e.len();
    e[n - 40] = 0xff;
    let m = parse(&e).unwrap();
    assert_eq!(m.errno(), Some(libc::ENOSYS));
    assert_eq!(m.ext_ack_msg(), None);
}

#[test]
fn datagrams() {
    let one = hex(fixtures::POLICY_DUMP_DATAGRAM);
    assert_eq!(parse_datagram(&one).unwrap().len(), 2);
    // Two messages whose first is 17 bytes: the next starts at 20.
    let mut two = hex(fixtures::FLUSHSA_ESP);
    two.extend_from_slice(&[0, 0, 0]);
    two.extend_from_slice(&hex(fixtures::DONE));
    let msgs = parse_datagram(&two).unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(emit_datagram(&msgs), two);
    // A cut datagram, a bad length inside, garbage after.
    assert!(parse_datagram(&one[..300]).is_err());
    let mut bad = one.clone();
    set_u32(&mut bad, 264, 8);
    assert!(matches!(
        parse_datagram(&bad),
        Err(XfrmError::BadLength { len: 8, .. })
    ));
    let mut tail = one.clone();
    tail.extend_from_slice(&[1, 2, 3]);
    assert!(parse_datagram(&tail).is_err());
    assert_eq!(parse_datagram(&[]).unwrap(), vec![]);
}

#[test]
fn every_truncation_errors() {
    for bytes in seeds() {
        assert!(check(&bytes));
        for cut in 0..bytes.len() {
            let short = &bytes[..cut];
            assert!(Message::parse(short).is_err(), "cut at {cut} accepted");
            let _ = parse_datagram(short);
            // With the length patched the framing may hold (a cut on an
            // attribute boundary); nothing may panic.
            let mut patched = short.to_vec();
            fix_len(&mut patched);
            check(&patched);
            let _ = parse_datagram(&patched);
        }
    }
}

#[test]
fn fuzz_never_panics() {
    let mut rng = Lcg(0x5eed_0f0c_de52_3671);
    let seeds = seeds();
    let types = [
        NLMSG_ERROR,
        NLMSG_DONE,
        XFRM_MSG_NEWSA,
        XFRM_MSG_DELSA,
        XFRM_MSG_GETSA,
        XFRM_MSG_NEWPOLICY,
        XFRM_MSG_DELPOLICY,
        XFRM_MSG_GETPOLICY,
        XFRM_MSG_ALLOCSPI,
        XFRM_MSG_ACQUIRE,
        XFRM_MSG_EXPIRE,
        XFRM_MSG_POLEXPIRE,
        XFRM_MSG_FLUSHSA,
        XFRM_MSG_FLUSHPOLICY,
        99,
    ];
    let mut accepted = 0usize;
    for i in 0..20_000 {
        let bytes = match i % 3 {
            // Mutations of valid messages, length field usually kept right.
            0 => {
                let mut b = seeds[rng.below(seeds.len())].clone();
                rng.mutate(&mut b);
                if rng.below(4) != 0 {
                    fix_len(&mut b);
                }
                b
            }
            // A valid header, a zeroed fixed part, random attributes.
            1 => {
                let ty = types[rng.below(types.len())];
                let flags = if rng.below(4) == 0 { NLM_F_DUMP } else { 0 };
                let seed = Message::parse(&seeds[rng.below(seeds.len())])
                    .map(|m| m.body)
                    .unwrap_or(Body::Empty);
                let mut b = Message::new(Header::new(ty, flags), seed).emit();
                while b.len() % 4 != 0 {
                    b.push(0);
                }
                for _ in 0..rng.below(5) {
                    let aty = if rng.below(6) == 0 {
                        rng.next() as u16
                    } else {
                        rng.below(33) as u16
                    };
                    let len = 4 + if rng.below(2) == 0 {
                        [4, 6, 8, 12, 16, 24, 32, 64, 68, 72, 88][rng.below(11)]
                    } else {
                        rng.below(100)
                    };
                    let mut a = vec![0u8; len];
                    set_u16(&mut a, 0, len as u16);
                    set_u16(&mut a, 2, aty);
                    for x in a.iter_mut().skip(4) {
                        *x = if rng.below(4) == 0 { rng.byte() } else { 0 };
                    }
                    b.extend_from_slice(&a);
                    while b.len() % 4 != 0 {
                        b.push(0);
                    }
                }
                fix_len(&mut b);
                b
            }
            // Raw noise, sometimes with a matching length field.
            _ => {
                let n = rng.below(300);
                let mut b: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
                if rng.below(2) == 0 {
                    fix_len(&mut b);
                }
                b
            }
        };
        if check(&bytes) {
            accepted += 1;
        }
        let _ = parse_datagram(&bytes);
    }
    // The loop must reach the attribute decoders, not only the framing.
    eprintln!("fuzz: {accepted} of 20000 parses accepted");
    assert!(accepted > 2_000, "only {accepted} accepted");
}
