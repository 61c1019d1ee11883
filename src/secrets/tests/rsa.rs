//! §4.5 RSA private key entries: parsing, sanity checks, public form, selection.

use super::*;
use crate::secrets::rsa::FIELD_NAMES;
use num_bigint_dig::{BigUint, ModInverse};

/// Miller-Rabin with the first twenty primes as bases.
fn is_probable_prime(n: &BigUint) -> bool {
    let one = BigUint::from(1u32);
    let two = BigUint::from(2u32);
    let small = [
        2u32, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
    ];
    for &p in &small {
        let p = BigUint::from(p);
        if *n == p {
            return true;
        }
        if n % &p == BigUint::from(0u32) {
            return false;
        }
    }
    let n1 = n - &one;
    let mut d = n1.clone();
    let mut s = 0;
    while &d % &two == BigUint::from(0u32) {
        d /= &two;
        s += 1;
    }
    'bases: for &a in &small {
        let mut x = BigUint::from(a).modpow(&d, n);
        if x == one || x == n1 {
            continue;
        }
        for _ in 1..s {
            x = x.modpow(&two, n);
            if x == n1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// 2^256 - k.
fn near_2_256(k: u32) -> BigUint {
    (BigUint::from(1u32) << 256) - BigUint::from(k)
}

/// A deterministic 512-bit test key from two hard-coded primes, e = 3.
fn test_key() -> RsaPrivateKey {
    let p = near_2_256(587);
    let q = near_2_256(617);
    assert!(is_probable_prime(&p) && is_probable_prime(&q));
    assert!(!is_probable_prime(&near_2_256(589)));
    let one = BigUint::from(1u32);
    let e = BigUint::from(3u32);
    let (p1, q1) = (&p - &one, &q - &one);
    let phi = &p1 * &q1;
    let d = (&e)
        .mod_inverse(&phi)
        .and_then(|d| d.to_biguint())
        .expect("e invertible");
    let key = RsaPrivateKey {
        n: &p * &q,
        dp: &d % &p1,
        dq: &d % &q1,
        qinv: (&q).mod_inverse(&p).and_then(|x| x.to_biguint()).unwrap(),
        e,
        d,
        p,
        q,
    };
    assert_eq!(key.n.bits(), 512);
    key
}

fn values(k: &RsaPrivateKey) -> [&BigUint; 8] {
    [&k.n, &k.e, &k.d, &k.p, &k.q, &k.dp, &k.dq, &k.qinv]
}

/// The block as rsasigkey prints it (with `0x` values), after `<indices>: RSA {`.
fn block(indices: &str, k: &RsaPrivateKey) -> String {
    let mut s = format!(
        "{indices}: RSA {{\n\t# RSA 512 bits   test\n\t#pubkey={}\n",
        k.pubkey_text()
    );
    for (name, v) in FIELD_NAMES.iter().zip(values(k)) {
        s += &format!(
            "\t{name}: 0x{}\n",
            crate::text::data::encode_hex(&v.to_bytes_be())
        );
    }
    s + "\t}\n"
}

#[test]
fn rsa_block_parses_and_passes_sanity_checks() {
    let k = test_key();
    assert_eq!(k.check(), Ok(()));
    let l = load(&format!(
        "{}@b: PSK \"after\"\n",
        block("@gw1.example.org", &k)
    ));
    assert_eq!(l.warnings, Vec::<String>::new());
    assert_eq!(l.rsa.len(), 1);
    assert_eq!(l.rsa[0].key, k);
    assert_eq!(l.rsa[0].indices, vec![idx(fqdn("gw1.example.org"))]);
    assert_eq!(l.rsa[0].origin, "\"t.secrets\" line 1");
    assert_eq!(l.psk.entries.len(), 1);
    // Debug shows neither private values nor the modulus.
    let shown = format!("{l:?}");
    for v in [&k.d, &k.p, &k.q, &k.dp, &k.dq, &k.qinv] {
        assert!(!shown.contains(&v.to_str_radix(16)), "{shown}");
        assert!(!shown.contains(&v.to_string()));
    }
    assert!(shown.contains("bits: 512"));
}

#[test]
fn rsa_field_spellings() {
    let k = test_key();
    // Colons optional, lower-case names, base64 and hex values.
    let mut s = String::from("@gw: rsa {\n");
    for (i, (name, v)) in FIELD_NAMES.iter().zip(values(&k)).enumerate() {
        let b = v.to_bytes_be();
        let text = if i % 2 == 0 {
            format!("0s{}", crate::text::data::encode_base64(&b))
        } else {
            format!("0x{}", crate::text::data::encode_hex(&b))
        };
        let sep = if i % 3 == 0 { " " } else { ": " };
        s += &format!("  {}{sep}{text}\n", name.to_ascii_lowercase());
    }
    s += "  }\n";
    let l = load(&s);
    assert_eq!(l.warnings, Vec::<String>::new());
    assert_eq!(l.rsa[0].key, k);
}

#[test]
fn public_key_blob_and_keyid() {
    let k = test_key();
    let blob = k.pubkey_blob();
    assert_eq!(blob.len(), 1 + 1 + 64);
    assert_eq!(&blob[..3], &[0x01, 0x03, 0xff]);
    assert!(k.pubkey_text().starts_with("0sAQP/"));
    assert_eq!(k.keyid(), &k.pubkey_text()[2..11]);
    assert_eq!(k.keyid().len(), 9);
    assert_eq!(k.modulus_len(), 64);
    // Long exponent: 0 then a 2-byte length.
    let mut big = k.clone();
    big.e = BigUint::from(1u32) << 2100;
    let b = big.pubkey_blob();
    assert_eq!(&b[..3], &[0, 1, 7]);
}

#[test]
fn sanity_checks_reject_bad_keys() {
    let good = test_key();
    let one = BigUint::from(1u32);
    let cases: Vec<(RsaPrivateKey, &str)> = vec![
        (
            RsaPrivateKey {
                n: &good.n + 2u32,
                ..good.clone()
            },
            "n != p * q",
        ),
        (
            RsaPrivateKey {
                d: &good.d + &one,
                ..good.clone()
            },
            "dQ is not congruent to d mod q-1",
        ),
        (
            RsaPrivateKey {
                dp: &good.dp + &one,
                ..good.clone()
            },
            "dP is not congruent to d mod p-1",
        ),
        (
            RsaPrivateKey {
                dq: &good.dq + &one,
                ..good.clone()
            },
            "dQ is not congruent to d mod q-1",
        ),
        (
            RsaPrivateKey {
                qinv: &good.qinv + &one,
                ..good.clone()
            },
            "qInv is not conguent ot (q^-1) mod p",
        ),
        (
            RsaPrivateKey {
                e: BigUint::from(1u32),
                ..good.clone()
            },
            "RSA public exponent too small",
        ),
        (
            RsaPrivateKey {
                q: one.clone(),
                ..good.clone()
            },
            "n != p * q",
        ),
        (
            RsaPrivateKey {
                n: BigUint::from(3233u32),
                ..good.clone()
            },
            "RSA modulus too small for security: less than 512 bits",
        ),
        (
            RsaPrivateKey {
                n: one.clone() << 8192,
                ..good.clone()
            },
            "RSA modulus too large: more than 8192 bits",
        ),
    ];
    for (k, why) in cases {
        assert_eq!(k.check(), Err(why));
    }
    // e = 4 divides p-1 (= 2^256 - 588); d*e then cannot be 1 mod lcm either, and
    // like RSA_private_key_sanity the last failed check is the one reported.
    let p1 = &good.p - &one;
    assert_eq!(&p1 % 4u32, BigUint::from(0u32));
    let k = RsaPrivateKey {
        e: BigUint::from(4u32),
        ..good
    };
    assert_eq!(k.check(), Err("(d * e) mod (lcm(p-1, q-1)) != 1"));
}

#[test]
fn wrong_modulus_block_is_dropped_with_file_and_line() {
    let good = test_key();
    let bad = RsaPrivateKey {
        n: &good.n + 2u32,
        ..good.clone()
    };
    let text = format!(
        "{}{}",
        block("@bad.example.org", &bad),
        block("@good.example.org", &good)
    );
    let l = load(&text);
    assert_eq!(l.warnings, vec!["\"t.secrets\" line 12: n != p * q"]);
    assert_eq!(l.rsa.len(), 1);
    assert_eq!(l.rsa[0].indices, vec![idx(fqdn("good.example.org"))]);
    assert_eq!(l.rsa[0].origin, "\"t.secrets\" line 13");
}

#[test]
fn rsa_syntax_errors() {
    let k = test_key();
    let good = block("@a", &k);
    let cases: Vec<(String, &str)> = vec![
        // Fields out of order.
        (
            good.replacen("PublicExponent", "PrivateExponentX", 1),
            "line 5: PublicExponent keyword not found where expected in RSA key",
        ),
        // Missing value at the end of the record.
        (
            "@a: RSA {\n  Modulus:\n@b: PSK \"x\"\n".to_string(),
            "line 2: premature end of RSA key",
        ),
        // Closing brace not indented.
        (
            good.replace("\t}\n", "}\n"),
            "line 11: malformed end of RSA private key -- indented '}' required",
        ),
        // Token after the brace.
        (
            good.replace("\t}\n", "\t} extra\n"),
            "line 12: malformed end of RSA private key -- unexpected token after '}'",
        ),
        // Bad data.
        (
            good.replacen("Modulus: 0x", "Modulus: 0xz", 1),
            "line 4: RSA data malformed (non-hex digit in input)",
        ),
    ];
    for (text, want) in cases {
        let l = load(&text);
        assert!(l.rsa.is_empty(), "{want}");
        assert_eq!(
            l.warnings.first().map(String::as_str),
            Some(&*format!("\"t.secrets\" {want}")),
            "{text}"
        );
    }
}

#[test]
fn rsa_selection_allows_me_only_for_multi_index_entries() {
    let k = test_key();
    let mut other = k.clone();
    other.e = BigUint::from(5u32); // distinguishable, not checked here
    let mut l = load(&block("@gw1 @gw2", &k));
    assert_eq!(l.warnings, Vec::<String>::new());
    l.rsa.push(RsaPrivateEntry {
        indices: vec![],
        key: other.clone(),
        origin: String::new(),
    });
    // me (4) is acceptable for RSA and beats the default entry (1).
    assert_eq!(l.rsa_key(&fqdn("gw1"), Some(&fqdn("peer"))), Some(&k));
    assert_eq!(l.rsa_key(&fqdn("gw2"), None), Some(&k));
    // Neither end listed: the default entry.
    assert_eq!(l.rsa_key(&fqdn("x"), Some(&fqdn("y"))), Some(&other));
    // The PSK view does not see RSA entries.
    assert!(l.psk_secrets().entries.is_empty());
}
