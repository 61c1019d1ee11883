//! The Montgomery exponentiation against num-bigint-dig's `modpow`.
use super::*;
use crate::ike::crypto::modexp::{FixedBase, ModexpError, Modulus, MAX_MODULUS_BYTES};

const GROUPS: [DhGroup; 3] = [DhGroup::Modp1024, DhGroup::Modp1536, DhGroup::Modp2048];

fn random_bytes(rng: &mut SeededRng, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rng.fill(&mut v);
    v
}

/// base^exp mod n by num-bigint-dig, as `len` big-endian bytes.
fn reference(base: &[u8], exp: &[u8], n: &[u8], len: usize) -> Vec<u8> {
    let n = BigUint::from_bytes_be(n);
    let r = BigUint::from_bytes_be(base).modpow(&BigUint::from_bytes_be(exp), &n);
    let b = r.to_bytes_be();
    let b: &[u8] = if b == [0] { &[] } else { &b };
    let mut out = vec![0u8; len - b.len()];
    out.extend_from_slice(b);
    out
}

fn check(m: &Modulus, n: &[u8], base: &[u8], exp: &[u8], what: &str) {
    let want = reference(base, exp, n, m.len());
    assert_eq!(m.pow(base, exp).unwrap(), want, "{what}");
}

#[test]
fn modp_groups_random_against_reference() {
    let mut rng = SeededRng::new(13);
    for g in GROUPS {
        let p = g.prime_bytes();
        let m = Modulus::new(p).unwrap();
        assert_eq!(m.len(), g.len());
        // The exponent lengths DH uses (256/320 bits), full length, and odd
        // lengths that leave a partial top window.
        for elen in [g.exponent_len(), 32, 40, g.len(), 1, 3, 17, 33] {
            for round in 0..3 {
                let base = random_bytes(&mut rng, g.len());
                let exp = random_bytes(&mut rng, elen);
                check(
                    &m,
                    p,
                    &base,
                    &exp,
                    &format!("{} e{elen} r{round}", g.name()),
                );
                check(&m, p, &[2], &exp, &format!("{} g e{elen}", g.name()));
            }
        }
    }
}

#[test]
fn modp_groups_edge_values() {
    let mut rng = SeededRng::new(14);
    for g in GROUPS {
        let p = g.prime_bytes();
        let pn = BigUint::from_bytes_be(p);
        let m = Modulus::new(p).unwrap();
        let be = |v: &BigUint| {
            let b = v.to_bytes_be();
            let mut out = vec![0u8; g.len() - b.len()];
            out.extend_from_slice(&b);
            out
        };
        let one = BigUint::from(1u32);
        let bases = [
            vec![0u8; g.len()],
            vec![],
            vec![1],
            be(&(&pn - &one)),
            be(&(&pn - &one - &one)),
            // At or above p: reduced, not refused.
            p.to_vec(),
            be(&(&pn + &one)),
            vec![0xff; g.len()],
            random_bytes(&mut rng, g.len()),
        ];
        let full = random_bytes(&mut rng, g.len());
        let exps = [
            vec![],
            vec![0u8; g.exponent_len()],
            vec![1],
            vec![0, 0, 1],
            vec![0xff; g.exponent_len()],
            vec![0xff; g.len()],
            be(&(&pn - &one)),
            full,
        ];
        for (i, base) in bases.iter().enumerate() {
            for (j, exp) in exps.iter().enumerate() {
                // Full-length exponents (the last three) with every fourth
                // base only: they cost as much as all the others together.
                if j >= 5 && i % 4 != 0 {
                    continue;
                }
                check(&m, p, base, exp, &format!("{} base {i} exp {j}", g.name()));
            }
        }
        // Fermat: b^(p-1) = 1 for b not divisible by p.
        let fermat = m.pow(&[3], &be(&(&pn - &one))).unwrap();
        assert_eq!(fermat, be(&one), "{}", g.name());
    }
}

#[test]
fn odd_moduli_of_every_size() {
    // Moduli of 2 to 520 bytes (top limb partly used, single limb, RSA
    // half sizes), checked on random and edge inputs.
    let mut rng = SeededRng::new(15);
    for len in (2..=40).chain([63, 64, 65, 127, 128, 129, 191, 192, 256, 384, 520]) {
        let mut n = random_bytes(&mut rng, len);
        if let Some(b) = n.first_mut() {
            *b |= 0x01 << (len % 8);
        }
        if let Some(b) = n.last_mut() {
            *b |= 1;
        }
        let m = Modulus::new(&n).unwrap();
        assert_eq!(m.len(), len);
        let rounds = if len > 200 { 1 } else { 3 };
        for _ in 0..rounds {
            let base = random_bytes(&mut rng, len);
            let elen = 1 + (rng_u8(&mut rng) as usize % len);
            let exp = random_bytes(&mut rng, elen);
            check(&m, &n, &base, &exp, &format!("len {len}"));
            check(&m, &n, &[2], &exp, &format!("len {len} base 2"));
        }
        check(&m, &n, &n, &[5], &format!("len {len} base n"));
        check(&m, &n, &[3], &[1, 0, 1], &format!("len {len} e 65537"));
    }
    // Small moduli, all bases.
    for n in [3u8, 5, 9, 15, 255] {
        let m = Modulus::new(&[n]).unwrap();
        for b in 0..=255u8 {
            check(&m, &[n], &[b], &[0x1d], &format!("n {n} b {b}"));
        }
    }
    let m = Modulus::new(&[0xff; 16]).unwrap();
    check(&m, &[0xff; 16], &[0xff; 16], &[0xff; 16], "all ones");
}

fn rng_u8(rng: &mut SeededRng) -> u8 {
    let mut b = [0u8];
    rng.fill(&mut b);
    b[0]
}

#[test]
fn refuses_bad_input() {
    for n in [
        &[][..],
        &[0],
        &[0, 0],
        &[1],
        &[0, 1],
        &[2],
        &[0x10, 0x00],
        &[0xff, 0xfe],
    ] {
        assert_eq!(
            Modulus::new(n).unwrap_err(),
            ModexpError::BadModulus,
            "{n:?}"
        );
    }
    let long = vec![0xffu8; MAX_MODULUS_BYTES + 1];
    assert_eq!(
        Modulus::new(&long).unwrap_err(),
        ModexpError::ModulusTooLong
    );
    // Leading zeros do not count.
    let mut padded = vec![0u8; 8];
    padded.extend_from_slice(&[0xff; MAX_MODULUS_BYTES]);
    let m = Modulus::new(&padded).unwrap();
    assert_eq!(m.len(), MAX_MODULUS_BYTES);

    let m = Modulus::new(DhGroup::Modp1024.prime_bytes()).unwrap();
    assert_eq!(
        m.pow(&[1; 129], &[1]).unwrap_err(),
        ModexpError::BaseTooLong
    );
    let e = vec![1u8; MAX_MODULUS_BYTES + 1];
    assert_eq!(m.pow(&[2], &e).unwrap_err(), ModexpError::ExponentTooLong);
    assert_eq!(m.pow(&[3], &[]).unwrap(), {
        let mut one = vec![0u8; 128];
        one[127] = 1;
        one
    });
}

#[test]
fn fixed_base_against_reference() {
    let mut rng = SeededRng::new(16);
    for g in GROUPS {
        let p = g.prime_bytes();
        let m = Modulus::new(p).unwrap();
        for elen in [g.exponent_len(), g.len(), 1, 5, 0] {
            for base in [
                vec![2u8],
                random_bytes(&mut rng, g.len()),
                p.to_vec(),
                vec![],
            ] {
                let fb = FixedBase::new(&m, &base, elen).unwrap();
                assert_eq!(fb.modulus().len(), g.len());
                let mut exps = vec![vec![0u8; elen], vec![0xff; elen]];
                exps.push(random_bytes(&mut rng, elen));
                if let Some(e) = exps.last_mut().and_then(|e| e.last_mut()) {
                    *e |= 1;
                }
                for exp in &exps {
                    let want = reference(&base, exp, p, g.len());
                    assert_eq!(fb.pow(exp).unwrap(), want, "{} e{elen}", g.name());
                }
                // Only the prepared length is accepted.
                for bad in [elen + 1, elen.wrapping_sub(1)] {
                    if bad <= MAX_MODULUS_BYTES {
                        assert_eq!(
                            fb.pow(&vec![1u8; bad]).unwrap_err(),
                            ModexpError::ExponentLength
                        );
                    }
                }
            }
        }
    }
    // Odd moduli of other sizes, including a single limb.
    for len in [3usize, 8, 9, 100] {
        let mut n = random_bytes(&mut rng, len);
        n[0] |= 0x80;
        n[len - 1] |= 1;
        let m = Modulus::new(&n).unwrap();
        let base = random_bytes(&mut rng, len);
        let fb = FixedBase::new(&m, &base, 13).unwrap();
        let exp = random_bytes(&mut rng, 13);
        assert_eq!(
            fb.pow(&exp).unwrap(),
            reference(&base, &exp, &n, len),
            "len {len}"
        );
    }
    let m = Modulus::new(DhGroup::Modp1024.prime_bytes()).unwrap();
    assert_eq!(
        FixedBase::new(&m, &[1; 129], 32).unwrap_err(),
        ModexpError::BaseTooLong
    );
    assert_eq!(
        FixedBase::new(&m, &[2], MAX_MODULUS_BYTES + 1).unwrap_err(),
        ModexpError::ExponentTooLong
    );
}
