//! RSA known answers, strict verification and key generation.

use super::*;
use crate::ike::rng::SeededRng;
use std::sync::OnceLock;

/// Known answers printed by `rsa_kat.py` (this directory), pasted verbatim.
mod kat {
    pub const P: &str = "f35ecfead658a2bb353147853e79b5567a0dd95eb261b93bfa6ac63805650aac5f371eea8ab54f8f23bab19c7d70d8ceeebf3289aa9c104f55728db56e3987f5";
    pub const Q: &str = "eb9eb7e79af6ff41dc197fd7669f7831fd0e1bcc0ad03c5e1e85d7f01e09295fbde621b92347c814c3814318ea2e40996a65a6ce9effe019a2191a207343a0b3";
    pub const N: &str = "dffeec35da33fd102db474b15025396d95d824c3c5da4f5f5e4a27ef78b75fcfda5b3a348d2178a0d976892ac569d45e1bb65c294beb80209e44093bab316db6cc935cdababa7786a39c5144589ca4c3238084600e3d9b57cd255d9b9b467b20888a9134b96acb82ee1a9f73633756b745fa3b0c7244c5f7de970c81ab52304f";
    pub const D: &str = "25936c28b48c181dc8ad070e5fb57ee6c5465714887250f25caceffa1a3418dc9372ce56d67e10f05acaa9c4050df5d43bade1d403aa63fa14d2b101d37c1d3d46c5e5d0d81015f65817599d06de3cf818c75dc6c1ebc448089cf8a8f427d1f4b8f8c39531679bcf0426025a90843f74a8023bbbaf3e7364df9967aff1d1ccd1";
    pub const DP: &str = "d4d2c1e1ec660090d3d86f61ef1b81dfc8c699a33d3d463e5423d189a5f6115a61bd9334a9ee1a4fe37fdcd82bbe666ab7cfcdc323c66c60e429541127fdf98d";
    pub const DQ: &str = "ab940cffcf4d065c8356de4d912197796f7992ac67437472656fb9ebd5337eb985a3cbf2f1ca17dd66f0fe576a50fc21bbe5022f7c818043aa52f53fa4301f19";
    pub const QINV: &str = "57ac5e7f71a3c724fe4e9e1e96b1e555781e04424ce9409a6434198c0815d110f23555a0d3540748585193f47a88b031308843f8a9434153622c78b0b01aa103";
    pub const HASH_SHA1: &str = "5aa558e6fddfa41fc581bdc45147d29a5d0acfdd";
    pub const SIG_SHA1: &str = "9f810969cd4665c234c290e99c87231b00408723e4cf5b6fdc8e224a42cd923a8843b01ec8538f5db4459dd67b76e946d53001b481e8c8e305a40728df6cb076feea476ae7f9fe0783ab8dffb5b7799ecc52eccc00e3823d1965445168f0226e0d8d94ee3d869aef0d51517e405d504d5859feabcc593fc65f764b1db084e178";
    pub const HASH_MD5: &str = "c8573565bf7ab20973a4293d3bb8e573";
    pub const SIG_MD5: &str = "49b6079be2582c7474baf4263b029a19197420721672a968996c4529b70feea8cd1a28962a92c8b669ca46a2768e4cb54980cff3985179b0b707995239fbc3a2fe2ca63422fc7f92c1e8948228a48f818ab89b0c22ab6b16de354b0b0814602b5f5f9acd3c068f254d0ae83dc79a4f347fc2c6ef76a64ec04145ced0fa594a82";
}

fn hex(s: &str) -> Vec<u8> {
    let s = if s.len() % 2 == 1 {
        format!("0{s}")
    } else {
        s.to_string()
    };
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn num(s: &str) -> BigUint {
    BigUint::parse_bytes(s.as_bytes(), 16).unwrap()
}

fn kat_key() -> RsaPrivateKeyParts {
    RsaPrivateKeyParts::from_primes(
        num(kat::Q), // deliberately swapped: from_primes puts the larger first
        num(kat::P),
        big(65537),
        PrivateExponent::Lcm,
    )
    .unwrap()
}

/// One 1024-bit generated key shared by the tests (generation is the slow part).
fn key1024() -> &'static RsaPrivateKeyParts {
    static KEY: OnceLock<RsaPrivateKeyParts> = OnceLock::new();
    KEY.get_or_init(|| generate(1024, &mut SeededRng::new(1024)).unwrap())
}

/// Raw RSA on a hand-made block, for forgeries a lenient verifier would take.
fn raw_sign(key: &RsaPrivateKeyParts, block: &[u8]) -> Vec<u8> {
    let k = key.n.bits().div_ceil(8);
    assert_eq!(block.len(), k);
    let s = key.private_op(&BigUint::from_bytes_be(block)).unwrap();
    to_fixed_be(&s, k).unwrap()
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// The pre-CVE-2018-15836 style parser: 00 01, skip FFs, 00, then the hash,
/// and whatever follows is ignored.
fn lenient_accepts(em: &[u8], hash: &[u8]) -> bool {
    if em.len() < 3 || em[0] != 0 || em[1] != 1 {
        return false;
    }
    let mut i = 2;
    while i < em.len() && em[i] == 0xff {
        i += 1;
    }
    i < em.len() && em[i] == 0 && em.get(i + 1..i + 1 + hash.len()) == Some(hash)
}

/// Openswan 2.x try_RSA_signature (§4.9): 00 first, type 1 with all-FF or
/// type 2 with non-zero padding, 00 just before the trailing hash.
fn openswan_accepts(em: &[u8], hash: &[u8]) -> bool {
    let k = em.len();
    let body = k - hash.len();
    if em[0] != 0 || em[body - 1] != 0 || &em[body..] != hash {
        return false;
    }
    let pad = &em[2..body - 1];
    match em[1] {
        1 => pad.iter().all(|&b| b == 0xff),
        2 => pad.iter().all(|&b| b != 0),
        _ => false,
    }
}

fn recover(key: &RsaPublicKey, sig: &[u8]) -> Vec<u8> {
    let m = BigUint::from_bytes_be(sig).modpow(key.e(), key.n());
    to_fixed_be(&m, key.modulus_len()).unwrap()
}

#[test]
fn kat_key_matches_python() {
    let key = kat_key();
    assert_eq!(key.p, num(kat::P));
    assert_eq!(key.q, num(kat::Q));
    assert_eq!(key.n, num(kat::N));
    assert_eq!(key.d, num(kat::D));
    assert_eq!(key.dp, num(kat::DP));
    assert_eq!(key.dq, num(kat::DQ));
    assert_eq!(key.qinv, num(kat::QINV));
    assert_eq!(key.bits(), 1024);
}

#[test]
fn kat_signatures_match_python() {
    let key = kat_key();
    let public = key.public().unwrap();
    for (h, s) in [
        (kat::HASH_SHA1, kat::SIG_SHA1),
        (kat::HASH_MD5, kat::SIG_MD5),
    ] {
        let sig = key.sign_pkcs1_raw(&hex(h)).unwrap();
        assert_eq!(sig, hex(s));
        assert_eq!(verify_pkcs1_raw(&public, &hex(h), &hex(s)), Ok(()));
    }
}

#[test]
fn sign_verify_round_trip_every_hash_length() {
    let key = key1024();
    let public = key.public().unwrap();
    for len in HASH_LENGTHS {
        let h = pattern(len, len as u8);
        let sig = key.sign_pkcs1_raw(&h).unwrap();
        assert_eq!(sig.len(), 128);
        assert_eq!(public.verify_pkcs1_raw(&h, &sig), Ok(()), "len {len}");
        // The recovered block is exactly the encoding.
        let em = recover(&public, &sig);
        assert_eq!(&em[..2], &[0, 1]);
        assert!(em[2..128 - len - 1].iter().all(|&b| b == 0xff));
        assert_eq!(em[128 - len - 1], 0);
        assert_eq!(&em[128 - len..], &h[..]);
    }
}

#[test]
fn verify_rejects_tampering_and_bad_lengths() {
    let key = kat_key();
    let public = key.public().unwrap();
    let h = hex(kat::HASH_SHA1);
    let sig = hex(kat::SIG_SHA1);
    for bit in [0, 7, 8, 500, 1000, 1023] {
        let mut bad = sig.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(verify_pkcs1_raw(&public, &h, &bad).is_err(), "bit {bit}");
    }
    let mut wrong_hash = h.clone();
    wrong_hash[19] ^= 1;
    assert_eq!(
        verify_pkcs1_raw(&public, &wrong_hash, &sig),
        Err(RsaError::HashMismatch)
    );
    assert_eq!(
        verify_pkcs1_raw(&public, &h, &sig[1..]),
        Err(RsaError::BadLength {
            expected: 128,
            got: 127
        })
    );
    let mut long = vec![0u8];
    long.extend_from_slice(&sig);
    assert_eq!(
        verify_pkcs1_raw(&public, &h, &long),
        Err(RsaError::BadLength {
            expected: 128,
            got: 129
        })
    );
    assert!(matches!(
        verify_pkcs1_raw(&public, &h, &[]),
        Err(RsaError::BadLength { .. })
    ));
}

#[test]
fn verify_rejects_out_of_range_values() {
    let key = kat_key();
    let public = key.public().unwrap();
    let h = hex(kat::HASH_SHA1);
    let n = key.n.clone();
    for s in [big(0), n.clone(), &n + big(1), (big(1) << 1024) - big(1)] {
        let sig = to_fixed_be(&s, 128).unwrap();
        assert_eq!(
            verify_pkcs1_raw(&public, &h, &sig),
            Err(RsaError::OutOfRange)
        );
    }
    // s = 1 and s = n-1 are in range but recover to garbage.
    for s in [big(1), &n - big(1)] {
        let sig = to_fixed_be(&s, 128).unwrap();
        assert_eq!(
            verify_pkcs1_raw(&public, &h, &sig),
            Err(RsaError::BadPadding)
        );
    }
}

#[test]
fn verify_rejects_unusual_hash_lengths() {
    let key = kat_key();
    let public = key.public().unwrap();
    let sig = hex(kat::SIG_SHA1);
    for len in [0, 1, 8, 15, 19, 21, 28, 36, 63, 65, 100] {
        assert_eq!(
            verify_pkcs1_raw(&public, &vec![0xab; len], &sig),
            Err(RsaError::BadHashLength(len))
        );
        assert_eq!(
            key.sign_pkcs1_raw(&vec![0xab; len]),
            Err(RsaError::BadHashLength(len))
        );
    }
    // A SHA-1 signature checked against an MD5-length hash (its tail):
    // the padding length differs, so it fails as padding.
    let h = hex(kat::HASH_SHA1);
    assert_eq!(
        verify_pkcs1_raw(&public, &h[4..], &sig),
        Err(RsaError::BadPadding)
    );
    // And an MD5 signature against a SHA-1 hash.
    assert_eq!(
        verify_pkcs1_raw(&public, &h, &hex(kat::SIG_MD5)),
        Err(RsaError::BadPadding)
    );
}

/// Hand-made blocks, correctly RSA-signed with the private key, that lenient
/// parsers (pre-fix Openswan, CVE-2018-15836; strongSwan gmp,
/// CVE-2018-16151/16152; libreswan, CVE-2026-50721) accept.
#[test]
fn verify_rejects_malformed_blocks_even_when_signed() {
    let key = kat_key();
    let public = key.public().unwrap();
    let k = 128;
    let h = hex(kat::HASH_SHA1);
    let good = encode_block(&h, k).unwrap();
    let mut cases: Vec<(&str, Vec<u8>, bool, bool)> = Vec::new();

    // Short padding, garbage after the hash (what the e=3 forgery needs).
    let mut b = vec![0, 1];
    b.extend_from_slice(&[0xff; 8]);
    b.push(0);
    b.extend_from_slice(&h);
    b.extend(pattern(k - b.len(), 7));
    cases.push(("trailing garbage", b, true, false));

    // Block type 2 with non-zero padding (Openswan accepted it).
    let mut b = vec![0, 2];
    b.extend((0..k - 3 - h.len()).map(|i| (i as u8) | 1));
    b.push(0);
    b.extend_from_slice(&h);
    cases.push(("block type 2", b, false, true));

    // One padding byte not FF.
    let mut b = good.clone();
    b[40] = 0xfe;
    cases.push(("padding byte FE", b, false, false));

    // Separator one byte early: 00 00 before the hash.
    let mut b = good.clone();
    b[k - h.len() - 2] = 0;
    cases.push(("padding one short", b, false, false));

    // Leading byte not zero.
    let mut b = good.clone();
    b[0] = 1;
    cases.push(("leading 01", b, false, false));

    // No separator at all.
    let mut b = good.clone();
    b[k - h.len() - 1] = 0xff;
    cases.push(("no separator", b, false, false));

    // DigestInfo-wrapped SHA-1 (the PKCS#1 signature of other protocols).
    let di = hex("3021300906052b0e03021a05000414");
    let mut b = vec![0, 1];
    b.resize(k - 1 - di.len() - h.len(), 0xff);
    b.push(0);
    b.extend_from_slice(&di);
    b.extend_from_slice(&h);
    cases.push(("DigestInfo wrapped", b, false, false));

    // Hash with junk where the padding should end (short hash trick).
    let mut b = good.clone();
    b[k - h.len() - 5..k - h.len() - 1].copy_from_slice(&[0, 0xde, 0xad, 0xbe]);
    cases.push(("zero inside padding", b, false, false));

    for (name, block, lenient, openswan) in cases {
        assert_eq!(block.len(), k, "{name}");
        let sig = raw_sign(&key, &block);
        assert_eq!(recover(&public, &sig), block, "{name}");
        assert_eq!(lenient_accepts(&block, &h), lenient, "{name} (lenient)");
        assert_eq!(openswan_accepts(&block, &h), openswan, "{name} (openswan)");
        assert_eq!(
            verify_pkcs1_raw(&public, &h, &sig),
            Err(RsaError::BadPadding),
            "{name}"
        );
    }
    // The well-formed block signed the same way does verify.
    let sig = raw_sign(&key, &good);
    assert_eq!(verify_pkcs1_raw(&public, &h, &sig), Ok(()));
}

/// Bleichenbacher's e = 3 forgery (2006) against a 3072-bit key: a perfect
/// cube 00 01 FF 00 || hash || garbage, made without the private key.
#[test]
fn verify_rejects_bleichenbacher_cube_forgery() {
    let k = 384;
    // Any odd 3072-bit modulus will do: the forgery never uses its factors.
    let n = (big(1) << 3072) - big(1);
    let public = RsaPublicKey::new(n, big(3)).unwrap();
    let h = pattern(20, 99);
    let mut prefix = vec![0x00, 0x01, 0xff, 0x00];
    prefix.extend_from_slice(&h);
    let garbage_bits = (k - prefix.len()) * 8;
    let lo = BigUint::from_bytes_be(&prefix) << garbage_bits;
    let hi = (BigUint::from_bytes_be(&prefix) + big(1)) << garbage_bits;
    let s = (&hi - big(1)).cbrt();
    let cube = &s * &s * &s;
    assert!(cube >= lo && cube < hi, "cube root lands inside the window");
    let sig = to_fixed_be(&s, k).unwrap();
    let em = recover(&public, &sig);
    assert_eq!(&em[..prefix.len()], &prefix[..]);
    assert!(
        lenient_accepts(&em, &h),
        "a lenient parser takes the forgery"
    );
    assert_eq!(
        verify_pkcs1_raw(&public, &h, &sig),
        Err(RsaError::BadPadding)
    );
}

#[test]
fn rfc3110_round_trip_and_keyid() {
    let key = kat_key();
    let public = key.public().unwrap();
    let blob = public.to_rfc3110();
    assert_eq!(&blob[..4], &[3, 0x01, 0x00, 0x01]);
    assert_eq!(blob.len(), 4 + 128);
    assert_eq!(RsaPublicKey::from_rfc3110(&blob), Ok(public.clone()));
    // One key ID implementation: the same answer as crate::secrets.
    let sk = crate::secrets::RsaPrivateKey::from_fields([
        key.n.clone(),
        key.e.clone(),
        key.d.clone(),
        key.p.clone(),
        key.q.clone(),
        key.dp.clone(),
        key.dq.clone(),
        key.qinv.clone(),
    ]);
    assert_eq!(sk.check(), Ok(()));
    assert_eq!(public.keyid(), sk.keyid());
    assert_eq!(blob, sk.pubkey_blob());
    assert_eq!(public.to_text(), sk.pubkey_text());
    assert_eq!(public.keyid().len(), 9);
    assert!(public.keyid().starts_with("AwEAA"));
    // e = 3 keys have the familiar Openswan "AQO" prefix when the modulus
    // starts with binary 10 (Openswan forced only the top bit), "AQP" with 11.
    let e3 = RsaPublicKey::new(key.n.clone(), big(3)).unwrap();
    assert_eq!(e3.keyid(), "AQPf/uw12");
    assert!(e3.to_text().starts_with("0sAQPf/uw12"));
    let n10 = (big(1) << 1023) + big(1);
    let e3 = RsaPublicKey::new(n10, big(3)).unwrap();
    assert_eq!(e3.keyid(), "AQOAAAAAA");
    assert_eq!(keyid_from_blob(&[1, 3, 0xff]), "AQP/");
}

#[test]
fn rfc3110_long_exponent_form() {
    // A 4096-bit odd modulus and a 300-byte odd exponent below it.
    let n = (big(1) << 4096) - big(5);
    let mut eb = pattern(300, 1);
    eb[0] = 0x7f;
    eb[299] |= 1;
    let e = BigUint::from_bytes_be(&eb);
    let public = RsaPublicKey::new(n, e).unwrap();
    let blob = public.to_rfc3110();
    assert_eq!(&blob[..3], &[0, 0x01, 0x2c]);
    assert_eq!(RsaPublicKey::from_rfc3110(&blob), Ok(public));
}

#[test]
fn rfc3110_rejects_malformed_and_weak_keys() {
    let key = kat_key();
    let n = key.n.to_bytes_be();
    let blob = |e: &[u8], n: &[u8]| {
        let mut b = vec![e.len() as u8];
        b.extend_from_slice(e);
        b.extend_from_slice(n);
        b
    };
    let bad_enc = |b: &[u8]| matches!(RsaPublicKey::from_rfc3110(b), Err(RsaError::BadEncoding(_)));
    assert!(bad_enc(&[]));
    assert!(bad_enc(&[0]));
    assert!(bad_enc(&[0, 1]));
    assert!(bad_enc(&[3, 1, 0, 1])); // no modulus
    assert!(bad_enc(&[3, 1, 0])); // truncated exponent
    assert!(bad_enc(&[0, 0, 3, 1, 0, 1, 0xff])); // 3-byte length below 256
    assert!(bad_enc(&blob(&[0, 3], &n))); // exponent with a leading zero
    let mut padded_n = vec![0];
    padded_n.extend_from_slice(&n);
    assert!(bad_enc(&blob(&[3], &padded_n))); // modulus with a leading zero
    assert!(bad_enc(&[0, 1, 0, 1, 2, 3]));
    // Exponents 0, 1, even, >= n.
    for e in [&[1u8][..], &[2], &[0x01, 0x00, 0x00]] {
        assert_eq!(
            RsaPublicKey::from_rfc3110(&blob(e, &n)),
            Err(RsaError::BadExponent)
        );
    }
    assert_eq!(
        RsaPublicKey::from_rfc3110(&blob(&n, &n)),
        Err(RsaError::BadExponent)
    );
    let mut big_e = n.clone();
    big_e[127] = big_e[127].wrapping_add(2);
    assert_eq!(
        RsaPublicKey::from_rfc3110(&blob(&big_e, &n)),
        Err(RsaError::BadExponent)
    );
    // Even modulus.
    let mut even = n.clone();
    even[127] &= 0xfe;
    assert_eq!(
        RsaPublicKey::from_rfc3110(&blob(&[3], &even)),
        Err(RsaError::BadModulus)
    );
    // Too small: 1016 and 512 bits; too large: 8200 bits.
    assert_eq!(
        RsaPublicKey::from_rfc3110(&blob(&[3], &n[1..])),
        Err(RsaError::ModulusTooSmall { bits: 1016 })
    );
    assert_eq!(
        RsaPublicKey::from_rfc3110(&blob(&[3], &n[64..])),
        Err(RsaError::ModulusTooSmall { bits: 512 })
    );
    let mut huge = vec![0xc1; 1025];
    huge[1024] = 0x01;
    assert!(matches!(
        RsaPublicKey::from_rfc3110(&blob(&[3], &huge)),
        Err(RsaError::ModulusTooLarge { .. })
    ));
    // Exactly the floor is fine.
    let floor = (big(1) << (MIN_MODULUS_BITS - 1)) + big(1);
    assert!(RsaPublicKey::new(floor, big(3)).is_ok());
    let below = (big(1) << (MIN_MODULUS_BITS - 2)) + big(1);
    assert!(RsaPublicKey::new(below, big(3)).is_err());
}

#[test]
fn signing_refuses_small_and_broken_keys() {
    let good = kat_key();
    let h = hex(kat::HASH_SHA1);
    // A 512-bit key (ipsec.secrets would load it; we do not sign with it).
    let small = RsaPrivateKeyParts::from_primes(
        num(&kat::P[..64]) | big(1),
        num(&kat::Q[..64]) | big(1),
        big(65537),
        PrivateExponent::Lcm,
    );
    if let Ok(small) = small {
        assert!(matches!(
            small.sign_pkcs1_raw(&h),
            Err(RsaError::ModulusTooSmall { .. })
        ));
    }
    // Corrupted CRT values: the fault guard catches them.
    for field in 0..5 {
        let mut k = good.clone();
        match field {
            0 => k.dp += big(2),
            1 => k.dq += big(2),
            2 => k.qinv += big(1),
            3 => k.p += big(2),
            _ => k.q -= big(2),
        }
        assert_eq!(k.sign_pkcs1_raw(&h), Err(RsaError::Fault), "field {field}");
    }
    // An even prime is refused before any exponentiation.
    let mut k = good.clone();
    k.q += big(1);
    assert_eq!(
        k.sign_pkcs1_raw(&h),
        Err(RsaError::BadKey("p or q is even"))
    );
    // Zero primes do not reach a division by zero.
    let mut k = good.clone();
    k.p = big(0);
    assert!(k.sign_pkcs1_raw(&h).is_err());
    let mut k = good.clone();
    k.n = big(0);
    assert_eq!(k.sign_pkcs1_raw(&h), Err(RsaError::BadModulus));
    let mut k = good;
    k.e = big(0);
    assert_eq!(k.sign_pkcs1_raw(&h), Err(RsaError::BadExponent));
}

#[test]
fn from_primes_checks_and_exponent_choice() {
    let (p, q) = (num(kat::P), num(kat::Q));
    assert_eq!(
        RsaPrivateKeyParts::from_primes(p.clone(), p.clone(), big(65537), PrivateExponent::Lcm),
        Err(RsaError::BadKey("p = q"))
    );
    // e = 2 is even; e = 1 too small.
    for e in [1u32, 2, 4] {
        assert_eq!(
            RsaPrivateKeyParts::from_primes(p.clone(), q.clone(), big(e), PrivateExponent::Lcm),
            Err(RsaError::BadExponent)
        );
    }
    // e dividing p-1: find a small odd prime factor of p-1 or q-1.
    let p1 = &p - big(1);
    let f = (3u32..10000)
        .step_by(2)
        .find(|f| &p1 % big(*f) == big(0))
        .expect("p-1 has a small odd factor");
    assert!(matches!(
        RsaPrivateKeyParts::from_primes(p.clone(), q.clone(), big(f), PrivateExponent::Lcm),
        Err(RsaError::BadKey(_))
    ));
    let lcm =
        RsaPrivateKeyParts::from_primes(p.clone(), q.clone(), big(65537), PrivateExponent::Lcm)
            .unwrap();
    let tot =
        RsaPrivateKeyParts::from_primes(p.clone(), q.clone(), big(65537), PrivateExponent::Totient)
            .unwrap();
    let phi = (&p - big(1)) * (&q - big(1));
    assert_eq!((&tot.d * big(65537)) % &phi, big(1));
    assert!(tot.d >= lcm.d);
    // The CRT values do not depend on the choice, so the signatures agree.
    assert_eq!((&lcm.dp, &lcm.dq, &lcm.qinv), (&tot.dp, &tot.dq, &tot.qinv));
    let h = hex(kat::HASH_SHA1);
    assert_eq!(tot.sign_pkcs1_raw(&h), lcm.sign_pkcs1_raw(&h));
}

#[test]
fn debug_hides_secrets() {
    let key = kat_key();
    let s = format!("{key:?}");
    assert!(s.contains("bits: 1024"), "{s}");
    assert!(s.contains(&key.public().unwrap().keyid()), "{s}");
    for secret in [kat::D, kat::P, kat::Q, kat::DP, kat::DQ, kat::QINV] {
        assert!(!s.contains(&secret[..12]));
        let dec = num(secret).to_str_radix(10);
        assert!(!s.contains(&dec[..12]));
    }
}

#[test]
fn generated_1024_key_is_sound() {
    let key = key1024();
    assert_eq!(key.bits(), 1024);
    assert_eq!(key.e, big(65537));
    assert!(key.p > key.q);
    assert_eq!(key.p.bits(), 512);
    assert_eq!(key.q.bits(), 512);
    assert_eq!(&key.p >> 510, big(3));
    assert_eq!(&key.q >> 510, big(3));
    let sk = crate::secrets::RsaPrivateKey::from_fields([
        key.n.clone(),
        key.e.clone(),
        key.d.clone(),
        key.p.clone(),
        key.q.clone(),
        key.dp.clone(),
        key.dq.clone(),
        key.qinv.clone(),
    ]);
    assert_eq!(sk.check(), Ok(()));
    // Fermat tests of the primes with a few fixed bases.
    for prime in [&key.p, &key.q] {
        for a in [2u32, 3, 5, 7, 11] {
            assert_eq!(big(a).modpow(&(prime - big(1)), prime), big(1));
        }
    }
    // Deterministic for a seed, different across seeds.
    assert_eq!(&generate(1024, &mut SeededRng::new(1024)).unwrap(), key);
    let other = generate(1024, &mut SeededRng::new(1025)).unwrap();
    assert_ne!(other.n, key.n);
}

#[test]
fn generated_2048_key_signs_and_verifies() {
    let key = generate(2048, &mut SeededRng::new(2048)).unwrap();
    assert_eq!(key.bits(), 2048);
    let public = key.public().unwrap();
    let h = pattern(32, 5);
    let sig = key.sign_pkcs1_raw(&h).unwrap();
    assert_eq!(sig.len(), 256);
    assert_eq!(public.verify_pkcs1_raw(&h, &sig), Ok(()));
    let diff = if key.p > key.q {
        &key.p - &key.q
    } else {
        &key.q - &key.p
    };
    assert!(diff.bits() > 1024 - 100);
}

/// Slow in the debug profile; run with `--ignored` (or in release).
#[test]
#[ignore]
fn generated_3072_key_signs_and_verifies() {
    let t = std::time::Instant::now();
    let key = generate(3072, &mut SeededRng::new(3072)).unwrap();
    eprintln!("3072-bit generation took {:?}", t.elapsed());
    assert_eq!(key.bits(), 3072);
    let public = key.public().unwrap();
    let h = pattern(20, 5);
    let sig = key.sign_pkcs1_raw(&h).unwrap();
    assert_eq!(public.verify_pkcs1_raw(&h, &sig), Ok(()));
}

#[test]
fn generate_refuses_bad_sizes() {
    for bits in [0, 512, 1000, 1016, 1032, 2050, 8208, 16384] {
        assert_eq!(
            generate(bits, &mut SeededRng::new(1)),
            Err(RsaError::BadBits(bits))
        );
    }
}

struct Zeros;
impl Rng for Zeros {
    fn fill(&mut self, buf: &mut [u8]) {
        buf.fill(0);
    }
}

/// Returns the same bytes on every call.
struct Stuck;
impl Rng for Stuck {
    fn fill(&mut self, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = i as u8 ^ 0x5a;
        }
    }
}

#[test]
fn generate_refuses_a_broken_random_source() {
    assert_eq!(generate(1024, &mut Zeros), Err(RsaError::BadRandom));
    assert_eq!(generate(1024, &mut Stuck), Err(RsaError::BadRandom));
}

#[test]
fn small_primes_sieve() {
    let primes = small_primes();
    assert_eq!(&primes[..6], &[3, 5, 7, 11, 13, 17]);
    assert_eq!(primes.len(), 3511); // pi(2^15) - 1
    assert_eq!(*primes.last().unwrap(), 32749);
    assert_eq!(mod_small(&[1, 0], 7), 256 % 7);
}

#[test]
fn errors_display() {
    let e = RsaError::BadLength {
        expected: 256,
        got: 255,
    };
    assert_eq!(
        e.to_string(),
        "SIG length 255 does not match public key length 256"
    );
    assert!(RsaError::ModulusTooSmall { bits: 512 }
        .to_string()
        .contains("1024"));
}
