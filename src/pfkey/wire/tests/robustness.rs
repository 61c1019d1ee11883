//! Malformed input: bad lengths, duplicates, truncations, and a seeded fuzz
//! loop. Nothing may panic; whatever parses must re-emit to itself.
use super::*;
use crate::wire_fuzz::{set_u16, Lcg};

/// Writes the message length field to match the buffer (whole words).
fn fix_len(b: &mut [u8]) {
    let words = (b.len() / 8) as u16;
    if b.len() >= 6 {
        set_u16(b, 4, words);
    }
}

/// Parses in `dialect`; if accepted, the emission must parse back to the
/// same repr and emit the same bytes. Returns whether it was accepted.
fn check(bytes: &[u8], dialect: Dialect) -> bool {
    match Message::parse_dialect(bytes, dialect) {
        Ok(m) => {
            let out = m.emit();
            let back = Message::parse_dialect(&out, dialect)
                .unwrap_or_else(|e| panic!("re-parse failed ({e}): {}", m.summary()));
            assert_eq!(back, m);
            assert_eq!(back.emit(), out);
            // The error text path must not panic either.
            let _ = m.summary();
            true
        }
        Err(e) => {
            let _ = e.to_string();
            false
        }
    }
}

fn linux(bytes: &[u8]) -> Result<Message> {
    Message::parse(bytes)
}

/// A valid Linux message to corrupt: header + SA + ADDRESS_SRC + ADDRESS_DST.
fn base() -> Vec<u8> {
    let m = Message::new(Header::new(SADB_DELETE, SADB_SATYPE_ESP, 1, 2))
        .with(Ext::Sa(Sa {
            spi: 5,
            ..Sa::default()
        }))
        .with(Ext::AddressSrc(Address::host(v4(1, 2, 3, 4))))
        .with(Ext::AddressDst(Address::host(v4(5, 6, 7, 8))));
    m.emit()
}

#[test]
fn header_errors() {
    assert!(matches!(linux(&[]), Err(PfkeyError::Truncated { .. })));
    assert!(matches!(
        linux(&base()[..15]),
        Err(PfkeyError::Truncated { .. })
    ));
    let mut b = base();
    b[0] = 1;
    assert_eq!(linux(&b), Err(PfkeyError::BadVersion(1)));
    let mut b = base();
    b[1] = 0;
    assert_eq!(linux(&b), Err(PfkeyError::BadMsgType(0)));
    // Declared length: too long, too short, below the header.
    let mut b = base();
    set_u16(&mut b, 4, 11);
    assert!(matches!(
        linux(&b),
        Err(PfkeyError::Truncated {
            what: "message",
            need: 88,
            have: 80
        })
    ));
    let mut b = base();
    set_u16(&mut b, 4, 9);
    assert_eq!(
        linux(&b),
        Err(PfkeyError::TrailingData {
            what: "message",
            len: 8
        })
    );
    let mut b = base();
    set_u16(&mut b, 4, 1);
    assert!(matches!(
        linux(&b),
        Err(PfkeyError::BadLength {
            what: "message",
            len: 8
        })
    ));
    // A buffer longer than declared: refused too (one datagram, one message).
    let mut b = base();
    b.extend_from_slice(&[0; 8]);
    assert!(matches!(linux(&b), Err(PfkeyError::TrailingData { .. })));
}

#[test]
fn extension_length_errors() {
    // Extension of length 0 words.
    let mut b = base();
    set_u16(&mut b, 16, 0);
    assert!(matches!(
        linux(&b),
        Err(PfkeyError::BadLength {
            what: "extension",
            len: 0
        })
    ));
    // Extension running past the message.
    let mut b = base();
    set_u16(&mut b, 56, 4);
    assert!(matches!(
        linux(&b),
        Err(PfkeyError::BadLength {
            what: "extension",
            len: 32
        })
    ));
    // Reserved extension type.
    let mut b = base();
    set_u16(&mut b, 18, 0);
    assert_eq!(linux(&b), Err(PfkeyError::BadExtType(0)));
    // SA extension of 3 words: Linux's sadb_sa is exactly 16 bytes.
    let mut b = base();
    b.splice(32..32, [0u8; 8]);
    set_u16(&mut b, 16, 3);
    fix_len(&mut b);
    assert!(matches!(
        linux(&b),
        Err(PfkeyError::BadLength {
            what: "SA extension",
            len: 24
        })
    ));
    // ... which KLIPS accepts (sadb_x_sa_ref).
    assert!(Message::parse_dialect(&b, Dialect::Klips).is_ok());
    // An IPv4 address extension of 4 words.
    let mut b = base();
    b.splice(56..56, [0u8; 8]);
    set_u16(&mut b, 32, 4);
    fix_len(&mut b);
    assert!(matches!(
        linux(&b),
        Err(PfkeyError::BadLength {
            what: "address extension",
            ..
        })
    ));
    // Unknown address family; prefix longer than the address.
    let mut b = base();
    set_u16(&mut b, 40, 1);
    assert_eq!(
        linux(&b),
        Err(PfkeyError::BadField {
            what: "address family",
            value: 1
        })
    );
    let mut b = base();
    b[37] = 33;
    assert_eq!(
        linux(&b),
        Err(PfkeyError::BadField {
            what: "prefix length",
            value: 33
        })
    );
}

#[test]
fn duplicates_rejected_unknown_repeats_allowed() {
    let sa = Ext::Sa(Sa::default());
    let dup = Message::new(Header::new(SADB_GET, 3, 1, 1))
        .with(sa.clone())
        .with(sa);
    assert_eq!(
        linux(&dup.emit()),
        Err(PfkeyError::DuplicateExt(SADB_EXT_SA))
    );
    let a = Ext::AddressDst(Address::host(v4(1, 1, 1, 1)));
    let dup = Message::new(Header::new(SADB_GET, 3, 1, 1))
        .with(a.clone())
        .with(a);
    assert_eq!(
        linux(&dup.emit()),
        Err(PfkeyError::DuplicateExt(SADB_EXT_ADDRESS_DST))
    );
    let u = Ext::Unknown {
        ty: 26,
        body: vec![0; 4],
    };
    let ok = Message::new(Header::new(SADB_GET, 3, 1, 1))
        .with(u.clone())
        .with(u);
    assert!(linux(&ok.emit()).is_ok());
}

#[test]
fn body_errors() {
    let hdr = Header::new(SADB_ADD, 3, 1, 1);
    let raw = |ty: u16, body: &[u8]| {
        let m = Message::new(hdr).with(Ext::Unknown {
            ty,
            body: body.to_vec(),
        });
        m.emit()
    };
    // Key: 160 bits need 3 words of key, not 2 nor 4.
    let mut key = vec![0xa0, 0x00, 0, 0];
    key.extend_from_slice(&[1; 16]);
    assert!(matches!(
        linux(&raw(SADB_EXT_KEY_AUTH, &key)),
        Err(PfkeyError::BadLength { .. })
    ));
    key.extend_from_slice(&[1; 8]);
    assert!(linux(&raw(SADB_EXT_KEY_AUTH, &key)).is_ok());
    key.extend_from_slice(&[1; 8]);
    assert!(matches!(
        linux(&raw(SADB_EXT_KEY_AUTH, &key)),
        Err(PfkeyError::BadLength { .. })
    ));
    // Proposal with a partial comb (8 + 72 + 8 bytes).
    assert!(linux(&raw(SADB_EXT_PROPOSAL, &[0; 4 + 72])).is_ok());
    assert!(matches!(
        linux(&raw(SADB_EXT_PROPOSAL, &[0; 4 + 80])),
        Err(PfkeyError::BadLength { .. })
    ));
    // Sensitivity shorter than sadb_sens.
    assert!(matches!(
        linux(&raw(SADB_EXT_SENSITIVITY, &[0; 4])),
        Err(PfkeyError::Truncated { .. })
    ));
    // Fixed-size bodies of the wrong size.
    assert!(linux(&raw(SADB_EXT_SPIRANGE, &[0; 20])).is_err());
    assert!(linux(&raw(linux::SADB_X_EXT_SA2, &[0; 20])).is_err());
    assert!(linux(&raw(linux::SADB_X_EXT_NAT_T_TYPE, &[0; 12])).is_err());
    assert!(linux(&raw(SADB_EXT_LIFETIME_HARD, &[0; 36])).is_err());
}

#[test]
fn ipsecrequest_errors() {
    let hdr = Header::new(linux::SADB_X_SPDADD, 0, 1, 1);
    let policy = |reqs: &[u8]| {
        let mut body = vec![2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        body.extend_from_slice(reqs);
        Message::new(hdr)
            .with(Ext::Unknown {
                ty: linux::SADB_X_EXT_POLICY,
                body,
            })
            .emit()
    };
    let rq = |len: u16, tail: &[u8]| {
        let mut v = len.to_ne_bytes().to_vec();
        v.extend_from_slice(&[50, 0, 1, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        v.extend_from_slice(tail);
        v
    };
    assert!(linux(&policy(&rq(16, &[]))).is_ok());
    // Length below the fixed part, past the extension, or not matching.
    assert!(matches!(
        linux(&policy(&rq(8, &[0; 8]))),
        Err(PfkeyError::BadLength {
            what: "ipsecrequest",
            len: 8
        })
    ));
    assert!(matches!(
        linux(&policy(&rq(24, &[]))),
        Err(PfkeyError::BadLength {
            what: "ipsecrequest",
            len: 24
        })
    ));
    // 16 + 8 bytes: a request claiming 16, then 8 bytes that are no request.
    assert!(linux(&policy(&rq(16, &[0; 8]))).is_err());
    // Tunnel pair of mixed families.
    let mut pair = Vec::new();
    pair.extend_from_slice(&AF_INET.to_ne_bytes());
    pair.extend_from_slice(&[0; 14]);
    pair.extend_from_slice(&AF_INET6.to_ne_bytes());
    pair.extend_from_slice(&[0; 26]);
    pair.extend_from_slice(&[0; 4]);
    assert_eq!(pair.len(), 48);
    assert!(matches!(
        linux(&policy(&rq(64, &pair))),
        Err(PfkeyError::BadField { .. })
    ));
    // A proper IPv4 pair.
    let mut pair = Vec::new();
    for _ in 0..2 {
        pair.extend_from_slice(&AF_INET.to_ne_bytes());
        pair.extend_from_slice(&[0; 14]);
    }
    let m = linux(&policy(&rq(48, &pair))).unwrap();
    assert!(m.policy().unwrap().requests[0].tunnel.is_some());
}

#[test]
fn every_truncation_errors() {
    for (bytes, dialect) in fixtures() {
        assert!(check(&bytes, dialect));
        for cut in 0..bytes.len() {
            let short = &bytes[..cut];
            assert!(
                Message::parse_dialect(short, dialect).is_err(),
                "cut at {cut} accepted"
            );
            // With the header length patched to the cut, the framing may
            // hold (a cut on an extension boundary); nothing may panic.
            let mut patched = short.to_vec();
            fix_len(&mut patched);
            check(&patched, dialect);
            check(&patched, Dialect::Linux);
            check(&patched, Dialect::Klips);
        }
    }
}

#[test]
fn fuzz_never_panics() {
    let mut rng = Lcg(0x5eed_9f1c_0de5_2367);
    let seeds = fixtures();
    let mut accepted = 0usize;
    for i in 0..20_000 {
        let bytes = match i % 3 {
            // Mutations of valid messages, length field usually kept right.
            0 => {
                let (mut b, _) = seeds[rng.below(seeds.len())].clone();
                rng.mutate(&mut b);
                if rng.below(4) != 0 {
                    fix_len(&mut b);
                }
                b
            }
            // A valid header and random extensions with plausible lengths.
            1 => {
                let mut b = Header::new(1 + rng.byte() % 30, rng.byte() % 12, 1, 1).emit_for_test();
                for _ in 0..rng.below(6) {
                    let words = 1 + rng.below(9);
                    let ty = if rng.below(8) == 0 {
                        rng.next() as u16
                    } else {
                        (rng.below(32)) as u16
                    };
                    let mut e = vec![0u8; words * 8];
                    set_u16(&mut e, 0, words as u16);
                    set_u16(&mut e, 2, ty);
                    for x in e.iter_mut().skip(4) {
                        *x = if rng.below(3) == 0 { rng.byte() } else { 0 };
                    }
                    // Often a plausible sockaddr family where addresses sit.
                    if words >= 3 && rng.below(2) == 0 {
                        let fam = if rng.below(2) == 0 { AF_INET } else { AF_INET6 };
                        set_u16(&mut e, 8, fam);
                    }
                    b.extend_from_slice(&e);
                }
                fix_len(&mut b);
                b
            }
            // Raw noise, sometimes with a version-2 header of the right length.
            _ => {
                let n = rng.below(200);
                let mut b: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
                if b.len() >= 16 && rng.below(2) == 0 {
                    b[0] = 2;
                    b.truncate(b.len() / 8 * 8);
                    fix_len(&mut b);
                }
                b
            }
        };
        for d in [Dialect::Linux, Dialect::Klips] {
            if check(&bytes, d) {
                accepted += 1;
            }
        }
    }
    // The loop must reach the extension decoders, not only the header checks.
    eprintln!("fuzz: {accepted} of 40000 parses accepted");
    assert!(accepted > 2_000, "only {accepted} accepted");
}

impl Header {
    fn emit_for_test(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.emit(&mut v, 2);
        v
    }
}
