//! MODP primes, agreement and peer-value checks.
use super::*;

// ---------------------------------------------------------------- DH

const GROUPS: [DhGroup; 3] = [DhGroup::Modp1024, DhGroup::Modp1536, DhGroup::Modp2048];

#[test]
fn dh_group_ids() {
    for (g, id, len, name, bits) in [
        (DhGroup::Modp1024, 2, 128, "MODP1024", 256),
        (DhGroup::Modp1536, 5, 192, "MODP1536", 256),
        (DhGroup::Modp2048, 14, 256, "MODP2048", 320),
    ] {
        assert_eq!(g.id(), id);
        assert_eq!(DhGroup::from_id(u64::from(id)), Some(g));
        assert_eq!(g.len(), len);
        assert_eq!(g.name(), name);
        assert_eq!(g.exponent_len() * 8, bits);
        assert_eq!(g.prime_bytes().len(), len);
    }
    for id in [0, 1, 3, 4, 15, 16, u64::MAX] {
        assert_eq!(DhGroup::from_id(id), None);
    }
}

fn hex_digits(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// floor(2^bits * pi) by Machin's formula pi = 16 atan(1/5) - 4 atan(1/239),
/// with 64 guard bits.
fn pi_fixed(bits: usize) -> BigUint {
    fn arctan_inv(x: u32, one: &BigUint) -> (BigUint, BigUint) {
        // Returns (sum of positive terms, sum of negative terms).
        let (mut pos, mut neg) = (BigUint::from(0u32), BigUint::from(0u32));
        let x2 = BigUint::from(x * x);
        let mut t = one / BigUint::from(x);
        let mut n = 1u32;
        let mut positive = true;
        while t != BigUint::from(0u32) {
            let term = &t / BigUint::from(n);
            if positive {
                pos += term;
            } else {
                neg += term;
            }
            t /= &x2;
            n += 2;
            positive = !positive;
        }
        (pos, neg)
    }
    let one = BigUint::from(1u32) << (bits + 64);
    let (p5, n5) = arctan_inv(5, &one);
    let (p239, n239) = arctan_inv(239, &one);
    let pi = (p5 * 16u32 + n239 * 4u32) - (n5 * 16u32 + p239 * 4u32);
    pi >> 64
}

#[test]
fn modp_primes() {
    // SHA-256 of the hex digits (spaces removed, upper case as in the RFCs),
    // computed from the RFC text with Python when the constants were typed.
    let cases = [
        (
            DhGroup::Modp1024,
            MODP1024_HEX,
            1024usize,
            129093u32,
            "693daceaf10c4200894cbd5696b120faebc30f7c4a242a8cd915ca3e83e141db",
        ),
        (
            DhGroup::Modp1536,
            MODP1536_HEX,
            1536,
            741804,
            "0a14e50abc56277fbf3d24ae174026486e91f013263cfde280c32577dcebe636",
        ),
        (
            DhGroup::Modp2048,
            MODP2048_HEX,
            2048,
            124476,
            "dcd8538e629d7b8bc0dabdcda6744e0542bfb801d50305b2f6acf823b3d4e7ba",
        ),
    ];
    for (g, text, bits, k, sum) in cases {
        let digits = hex_digits(text);
        assert_eq!(digits.len(), bits / 4);
        assert_eq!(
            hash(HashAlg::Sha256, &[digits.as_bytes()]),
            hex(sum),
            "{}",
            g.name()
        );
        assert!(digits.starts_with("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"));
        assert!(digits.ends_with("FFFFFFFFFFFFFFFF"));
        assert_eq!(g.prime_bytes(), hex(&digits).as_slice());

        let p = BigUint::from_bytes_be(g.prime_bytes());
        assert_eq!(p.bits(), bits, "{}", g.name());
        assert_eq!(
            g.prime_bytes().last().map(|b| b & 1),
            Some(1),
            "{} odd",
            g.name()
        );

        // p = 2^n - 2^(n-64) - 1 + 2^64 * ([2^(n-130) pi] + k)  (RFC 2409 §6.2, RFC 3526).
        let one = BigUint::from(1u32);
        let formula = (&one << bits) - (&one << (bits - 64)) - &one
            + ((pi_fixed(bits - 130) + BigUint::from(k)) << 64);
        assert_eq!(p, formula, "{} from pi", g.name());

        // Safe prime: q = (p-1)/2 is prime; Fermat with small bases.
        let q = (&p - &one) >> 1;
        for base in [2u32, 3, 5] {
            assert_eq!(
                BigUint::from(base).modpow(&(&q - &one), &q),
                one,
                "{} q Fermat base {base}",
                g.name()
            );
            assert_eq!(BigUint::from(base).modpow(&(&p - &one), &p), one);
        }
    }
}

fn be_padded(v: &BigUint, len: usize) -> Vec<u8> {
    let b = v.to_bytes_be();
    let mut out = vec![0u8; len - b.len()];
    out.extend_from_slice(&b);
    out
}

fn check_agreement(dh: &dyn DhProvider, seed: u64) {
    for g in GROUPS {
        let mut rng = SeededRng::new(seed);
        let a = dh.generate(g, &mut rng);
        let b = dh.generate(g, &mut rng);
        assert_eq!(a.group, g);
        assert_eq!(a.public.len(), g.len());
        assert_eq!(b.public.len(), g.len());
        assert_ne!(a.public, b.public);
        let sa = dh.shared(&a, &b.public).unwrap();
        let sb = dh.shared(&b, &a.public).unwrap();
        assert_eq!(sa.len(), g.len());
        assert_eq!(sa, sb, "{}", g.name());
        assert_ne!(sa, vec![0u8; g.len()]);
        // A third party gets something else.
        let c = dh.generate(g, &mut rng);
        assert_ne!(dh.shared(&c, &b.public).unwrap(), sa);
        // Each own public value passes the peer checks.
        assert!(dh.shared(&b, &b.public).is_ok());
    }
}

#[test]
fn modp_dh_agreement() {
    check_agreement(&ModpDh, 1);
    check_agreement(&ModpDh, 2);
}

#[test]
fn null_dh_agreement() {
    check_agreement(&NullDh, 1);
    check_agreement(&NullDh, 2);
}

struct ZeroRng;
impl Rng for ZeroRng {
    fn fill(&mut self, buf: &mut [u8]) {
        buf.fill(0);
    }
}

#[test]
fn modp_exponent_top_bit_forced() {
    // An all-zero generator must still give x = 2^(bits-1), never 0.
    for g in GROUPS {
        let kp = ModpDh.generate(g, &mut ZeroRng);
        let x = BigUint::from(1u32) << (g.exponent_len() * 8 - 1);
        let p = BigUint::from_bytes_be(g.prime_bytes());
        let y = BigUint::from(2u32).modpow(&x, &p);
        assert_eq!(kp.public, be_padded(&y, g.len()), "{}", g.name());
        let n = NullDh.generate(g, &mut ZeroRng);
        assert_eq!(n.public.len(), g.len());
        assert!(NullDh.shared(&n, &n.public).is_ok());
    }
}

#[test]
fn dh_rejects_bad_peer_values() {
    for g in GROUPS {
        let len = g.len();
        let p = BigUint::from_bytes_be(g.prime_bytes());
        let one = BigUint::from(1u32);
        let bad = [
            ("0", vec![0u8; len]),
            ("1", be_padded(&one, len)),
            ("p-1", be_padded(&(&p - &one), len)),
            ("p", be_padded(&p, len)),
            ("p+1", be_padded(&(&p + &one), len)),
            ("all FF", vec![0xffu8; len]),
        ];
        let good = [
            ("2", be_padded(&BigUint::from(2u32), len)),
            ("p-2", be_padded(&(&p - BigUint::from(2u32)), len)),
        ];
        let mut rng = SeededRng::new(3);
        for dh in [&ModpDh as &dyn DhProvider, &NullDh] {
            let ours = dh.generate(g, &mut rng);
            for (name, v) in &bad {
                assert_eq!(
                    dh.shared(&ours, v),
                    Err(DhError::OutOfRange),
                    "{} {name}",
                    g.name()
                );
            }
            for (name, v) in &good {
                assert!(dh.shared(&ours, v).is_ok(), "{} {name}", g.name());
            }
            for n in [0, 1, len - 1, len + 1, 2 * len] {
                // Lengths are checked first, even for values that would be in range.
                assert_eq!(
                    dh.shared(&ours, &vec![0x42u8; n]),
                    Err(DhError::BadLength {
                        expected: len,
                        got: n
                    }),
                    "{} len {n}",
                    g.name()
                );
            }
        }
    }
}

#[test]
fn dh_keypair_debug_hides_secret() {
    let kp = NullDh.generate(DhGroup::Modp1024, &mut SeededRng::new(9));
    let s = format!("{kp:?}");
    assert!(s.starts_with("DhKeyPair {"), "{s}");
    assert!(s.len() < 100, "{s}");
}
