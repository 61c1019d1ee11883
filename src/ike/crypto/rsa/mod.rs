//! RSA for IKEv1 signature authentication (spec §4.5–§4.9): public keys in the
//! RFC 3110 form `whack --pubkeyrsa` and `leftrsasigkey=` carry, the raw
//! PKCS#1 v1.5 signature IKEv1 uses, and key generation for `ipsec rsasigkey`.
//!
//! Sans I/O like the rest of [`crate::ike`]: randomness comes from the injected
//! [`Rng`], nothing here reads a file or the OS generator.
//!
//! # The IKEv1 signature convention
//!
//! The value signed is the raw main-mode HASH_I / HASH_R (16 bytes for MD5, 20
//! for SHA-1, 32/48/64 for SHA-2), **without** a DigestInfo wrapper, in an
//! EMSA-PKCS1-v1_5 block of type 1 exactly as long as the modulus (k bytes):
//!
//! ```text
//! 00 01 FF .. FF 00 <hash>        (k - 3 - hash_len bytes of FF, at least 8)
//! ```
//!
//! # Strict verification
//!
//! [`verify_pkcs1_raw`] does not parse the recovered block. It builds the one
//! block a correct signer produces for the expected hash and compares all k
//! bytes. There is no padding scan to fool, no length taken from the signature,
//! nothing after the hash to ignore, and block type 2 is refused (Openswan
//! accepted it "for interop"; no signer emits it). This is what closes the
//! Bleichenbacher e = 3 forgeries and the unchecked-hash-length bugs of
//! CVE-2018-15836 (Openswan), CVE-2026-50721 (libreswan) and
//! CVE-2018-16151/16152 (strongSwan gmp). Before any arithmetic the signature
//! must be exactly k bytes and 0 < s < n (CVE-2017-9022/11185, CVE-2018-17540).
//! Only the hash lengths IKEv1 PRFs produce are accepted (16, 20, 32, 48, 64).
//!
//! # Key sizes
//!
//! Keys shorter than [`MIN_MODULUS_BITS`] (1024) are refused for signing and
//! verification, and longer than [`MAX_MODULUS_BITS`] (8192, Openswan's limit)
//! too. 1024 bits (~80-bit strength) is kept as the floor only so that keys made
//! by old FreeS/WAN and Openswan installations still verify; `ipsec rsasigkey`
//! makes 3072-bit keys by default and refuses fewer than 2048 bits, and
//! libreswan peers insist on at least 2192.
//!
//! # Key generation
//!
//! [`generate`] uses e = 65537, not Openswan's e = 3. With e = 3 every lenient
//! PKCS#1 v1.5 verifier a peer may run (the CVEs above) accepts cube-root
//! forgeries of our signatures' form without the key; 65537 is what every other
//! implementation uses, costs nothing measurable in IKE, and Openswan, libreswan
//! and strongSwan all accept it (the RFC 3110 blob carries any exponent).
//! Primes have exactly bits/2 bits with the top two set (so n has exactly `bits`
//! bits), are found by an incremental search over a sieve of the odd primes
//! below 2^15 and then pass Miller–Rabin with base 2 plus [`MR_ROUNDS`] random
//! bases. p ≠ q, |p − q| > 2^(bits/2 − 100), gcd(e, p−1) = gcd(e, q−1) = 1,
//! d = e⁻¹ mod lcm(p−1, q−1) and d > 2^(bits/2) (the FIPS 186 key-pair bounds).
//! The random source is watched: a repeated or all-zero draw ends generation
//! with [`RsaError::BadRandom`] instead of producing a weak key.
//!
//! Signing uses the CRT and checks s^e mod n = m before returning s, so a
//! fault (or an inconsistent key) cannot leak a factor of n. The two
//! exponentiations mod p and mod q run in constant time ([`super::modexp`]);
//! the reductions and the CRT recombination use num-bigint-dig, which is not
//! constant time; there is no blinding.

use std::fmt;

use num_bigint_dig::{BigUint, ModInverse};

use super::modexp::Modulus;
use crate::ike::rng::Rng;

/// Smallest modulus, in bits, accepted for signing and verification.
pub const MIN_MODULUS_BITS: usize = 1024;
/// Largest modulus, in bits (Openswan: 1024 bytes, RSA_MAX_OCTETS).
pub const MAX_MODULUS_BITS: usize = 8192;
/// The public exponent [`generate`] uses.
pub const PUBLIC_EXPONENT: u32 = 65537;
/// Random-base Miller–Rabin rounds a prime candidate must pass in [`generate`]
/// (after the base-2 round). A composite passes one round with probability at
/// most 1/4, so this bounds the error by 2^-128 even for adversarial inputs;
/// for random candidates it is far smaller still.
pub const MR_ROUNDS: usize = 64;
/// Hash lengths the IKEv1 PRFs produce (MD5, SHA-1, SHA2-256/384/512).
pub const HASH_LENGTHS: [usize; 5] = [16, 20, 32, 48, 64];
/// Smallest number of FF padding bytes in a signature block (PKCS#1 v1.5).
const MIN_PADDING: usize = 8;
/// Odd primes below this bound are sieved out of prime candidates.
const SIEVE_LIMIT: u32 = 1 << 15;
/// How far an incremental prime search walks from its random start.
const MAX_SEARCH_STEP: u32 = 1 << 16;
/// Random starting points tried per prime before giving up.
const MAX_PRIME_STARTS: usize = 64;
/// Prime pairs tried per key before giving up.
const MAX_KEY_ATTEMPTS: usize = 32;

/// Why an RSA operation refused its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RsaError {
    /// The RFC 3110 blob is malformed (the reason).
    BadEncoding(&'static str),
    /// The modulus is zero or even.
    BadModulus,
    /// The modulus has fewer than [`MIN_MODULUS_BITS`] bits.
    ModulusTooSmall { bits: usize },
    /// The modulus has more than [`MAX_MODULUS_BITS`] bits.
    ModulusTooLarge { bits: usize },
    /// The public exponent is 0, 1, even, or not below the modulus.
    BadExponent,
    /// A hash length IKEv1 does not use.
    BadHashLength(usize),
    /// The modulus is too short for this hash with at least 8 bytes of padding.
    KeyTooShortForHash {
        modulus_bytes: usize,
        hash_len: usize,
    },
    /// The signature is not exactly as long as the modulus.
    BadLength { expected: usize, got: usize },
    /// The signature value is 0 or not below the modulus.
    OutOfRange,
    /// The recovered block is not `00 01 FF..FF 00` followed by a hash.
    BadPadding,
    /// The block is well formed but carries a different hash.
    HashMismatch,
    /// The private key is inconsistent (the reason).
    BadKey(&'static str),
    /// The CRT result failed its check (fault or inconsistent key).
    Fault,
    /// `generate` was asked for an unsupported size.
    BadBits(usize),
    /// The random source repeated itself or returned zeros.
    BadRandom,
    /// No key found within the attempt limits (should not happen).
    GenerationFailed,
}

impl fmt::Display for RsaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RsaError::BadEncoding(why) => write!(f, "RSA public key malformed ({why})"),
            RsaError::BadModulus => f.write_str("RSA modulus is zero or even"),
            RsaError::ModulusTooSmall { bits } => write!(
                f,
                "RSA modulus of {bits} bits is too small (minimum {MIN_MODULUS_BITS})"
            ),
            RsaError::ModulusTooLarge { bits } => write!(
                f,
                "RSA modulus of {bits} bits is too large (maximum {MAX_MODULUS_BITS})"
            ),
            RsaError::BadExponent => {
                f.write_str("RSA public exponent is not odd, greater than 1 and below n")
            }
            RsaError::BadHashLength(n) => write!(f, "hash length {n} is not an IKEv1 PRF length"),
            RsaError::KeyTooShortForHash {
                modulus_bytes,
                hash_len,
            } => write!(
                f,
                "{modulus_bytes}-byte RSA modulus too short for a {hash_len}-byte hash"
            ),
            RsaError::BadLength { expected, got } => write!(
                f,
                "SIG length {got} does not match public key length {expected}"
            ),
            RsaError::OutOfRange => f.write_str("RSA signature value out of range"),
            RsaError::BadPadding => f.write_str("RSA signature has bad PKCS#1 v1.5 padding"),
            RsaError::HashMismatch => f.write_str("RSA signature does not match the hash"),
            RsaError::BadKey(why) => write!(f, "RSA private key inconsistent ({why})"),
            RsaError::Fault => f.write_str("RSA signature failed its self-check"),
            RsaError::BadBits(b) => write!(
                f,
                "cannot generate a {b}-bit RSA key: need a multiple of 16 from {MIN_MODULUS_BITS} to {MAX_MODULUS_BITS}"
            ),
            RsaError::BadRandom => f.write_str("random source failed (repeated or zero output)"),
            RsaError::GenerationFailed => f.write_str("RSA key generation failed"),
        }
    }
}

impl std::error::Error for RsaError {}

/// x^e mod m (odd m, x < m) by the Montgomery code of [`super::modexp`],
/// constant time with respect to x and e.
fn modpow(x: &BigUint, e: &BigUint, m: &BigUint) -> Result<BigUint, RsaError> {
    let m = Modulus::new(&m.to_bytes_be()).map_err(|_| RsaError::BadModulus)?;
    let r = m
        .pow(&x.to_bytes_be(), &e.to_bytes_be())
        .map_err(|_| RsaError::OutOfRange)?;
    Ok(BigUint::from_bytes_be(&r))
}

fn big(v: u32) -> BigUint {
    BigUint::from(v)
}

fn is_odd(x: &BigUint) -> bool {
    x.to_bytes_le().first().is_some_and(|b| b & 1 == 1)
}

fn gcd(a: &BigUint, b: &BigUint) -> BigUint {
    let zero = big(0);
    let (mut a, mut b) = (a.clone(), b.clone());
    while b != zero {
        let r = &a % &b;
        a = b;
        b = r;
    }
    a
}

/// x⁻¹ mod m, in [0, m); None when not invertible.
fn mod_inverse(x: &BigUint, m: &BigUint) -> Option<BigUint> {
    if *m <= big(1) {
        return None;
    }
    x.mod_inverse(m).and_then(|i| i.to_biguint())
}

/// `x` as exactly `len` big-endian bytes; None if it does not fit.
fn to_fixed_be(x: &BigUint, len: usize) -> Option<Vec<u8>> {
    let raw = x.to_bytes_be();
    let raw: &[u8] = if raw == [0] { &[] } else { &raw };
    let pad = len.checked_sub(raw.len())?;
    let mut out = vec![0u8; pad];
    out.extend_from_slice(raw);
    Some(out)
}

fn check_modulus(n: &BigUint) -> Result<(), RsaError> {
    if !is_odd(n) {
        return Err(RsaError::BadModulus);
    }
    let bits = n.bits();
    if bits < MIN_MODULUS_BITS {
        return Err(RsaError::ModulusTooSmall { bits });
    }
    if bits > MAX_MODULUS_BITS {
        return Err(RsaError::ModulusTooLarge { bits });
    }
    Ok(())
}

fn check_exponent(e: &BigUint, n: &BigUint) -> Result<(), RsaError> {
    if !is_odd(e) || *e <= big(1) || e >= n {
        return Err(RsaError::BadExponent);
    }
    Ok(())
}

/// Base64 with `=` padding (the one encoder, with the other text forms).
fn base64(data: &[u8]) -> String {
    crate::text::data::encode_base64(data)
}

/// Openswan's key ID of an RFC 3110 blob (`keyblobtoid`): its first nine base64
/// digits, e.g. `AQOm9dY/4` for an e = 3 key.
///
/// This is the one implementation; `crate::secrets` should call it too.
pub fn keyid_from_blob(blob: &[u8]) -> String {
    // Nine digits need 54 bits: the first 7 bytes are enough.
    let head = blob.get(..7).unwrap_or(blob);
    base64(head).chars().take(9).collect()
}

/// An RSA public key with its checks done: odd n of [`MIN_MODULUS_BITS`] to
/// [`MAX_MODULUS_BITS`] bits, 1 < e < n, e odd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    n: BigUint,
    e: BigUint,
}

impl RsaPublicKey {
    /// Checks and wraps (n, e).
    pub fn new(n: BigUint, e: BigUint) -> Result<RsaPublicKey, RsaError> {
        check_modulus(&n)?;
        check_exponent(&e, &n)?;
        Ok(RsaPublicKey { n, e })
    }

    /// Parses the RFC 3110 (RFC 2537) public-key field: exponent length (1
    /// byte 1..255, or 0 and then 2 bytes big-endian, 256 or more), exponent,
    /// modulus (the rest). Only the canonical encoding is accepted: no leading
    /// zero bytes in exponent or modulus, no 3-byte length below 256.
    pub fn from_rfc3110(blob: &[u8]) -> Result<RsaPublicKey, RsaError> {
        let (elen, rest) = match blob {
            [] => return Err(RsaError::BadEncoding("empty")),
            [0, hi, lo, rest @ ..] => {
                let l = usize::from(u16::from_be_bytes([*hi, *lo]));
                if l < 256 {
                    return Err(RsaError::BadEncoding("3-byte exponent length below 256"));
                }
                (l, rest)
            }
            [0, ..] => return Err(RsaError::BadEncoding("truncated exponent length")),
            [l, rest @ ..] => (usize::from(*l), rest),
        };
        if rest.len() <= elen {
            return Err(RsaError::BadEncoding("no modulus after the exponent"));
        }
        let (e, n) = rest.split_at(elen);
        if e.first() == Some(&0) {
            return Err(RsaError::BadEncoding("exponent has a leading zero"));
        }
        if n.first() == Some(&0) {
            return Err(RsaError::BadEncoding("RSA modulus shorter than specified"));
        }
        if n.len() * 8 > MAX_MODULUS_BITS {
            return Err(RsaError::ModulusTooLarge { bits: n.len() * 8 });
        }
        RsaPublicKey::new(BigUint::from_bytes_be(n), BigUint::from_bytes_be(e))
    }

    /// The RFC 3110 blob (the inverse of [`RsaPublicKey::from_rfc3110`]).
    pub fn to_rfc3110(&self) -> Vec<u8> {
        let e = self.e.to_bytes_be();
        let n = self.n.to_bytes_be();
        let mut out = Vec::with_capacity(3 + e.len() + n.len());
        match u8::try_from(e.len()) {
            Ok(l) => out.push(l),
            Err(_) => {
                // e < n and n has at most 1024 bytes, so the length fits.
                out.push(0);
                out.extend_from_slice(&u16::try_from(e.len()).unwrap_or(u16::MAX).to_be_bytes());
            }
        }
        out.extend_from_slice(&e);
        out.extend_from_slice(&n);
        out
    }

    /// The `0s...` text of the blob (`leftrsasigkey=`, `whack --pubkeyrsa`).
    pub fn to_text(&self) -> String {
        format!("0s{}", base64(&self.to_rfc3110()))
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.n.bits()
    }

    /// Modulus size in bytes (k, the signature length).
    pub fn modulus_len(&self) -> usize {
        self.n.bits().div_ceil(8)
    }

    /// Openswan's 9-character key ID ([`keyid_from_blob`] of the RFC 3110 blob).
    pub fn keyid(&self) -> String {
        keyid_from_blob(&self.to_rfc3110())
    }

    /// The modulus n.
    pub fn n(&self) -> &BigUint {
        &self.n
    }

    /// The public exponent e.
    pub fn e(&self) -> &BigUint {
        &self.e
    }

    /// [`verify_pkcs1_raw`] with this key.
    pub fn verify_pkcs1_raw(&self, hash: &[u8], sig: &[u8]) -> Result<(), RsaError> {
        verify_pkcs1_raw(self, hash, sig)
    }
}

/// The k-byte block `00 01 FF..FF 00 hash` for an IKEv1 hash.
fn encode_block(hash: &[u8], k: usize) -> Result<Vec<u8>, RsaError> {
    if !HASH_LENGTHS.contains(&hash.len()) {
        return Err(RsaError::BadHashLength(hash.len()));
    }
    let pad = k
        .checked_sub(3 + hash.len())
        .filter(|&p| p >= MIN_PADDING)
        .ok_or(RsaError::KeyTooShortForHash {
            modulus_bytes: k,
            hash_len: hash.len(),
        })?;
    let mut em = Vec::with_capacity(k);
    em.extend_from_slice(&[0x00, 0x01]);
    em.resize(2 + pad, 0xff);
    em.push(0x00);
    em.extend_from_slice(hash);
    Ok(em)
}

/// Checks an IKEv1 RSA signature over the raw `hash` (see the module
/// documentation): |sig| = k, 0 < s < n, and s^e mod n, as k bytes, equal to
/// `00 01 FF..FF 00 hash` byte for byte.
pub fn verify_pkcs1_raw(key: &RsaPublicKey, hash: &[u8], sig: &[u8]) -> Result<(), RsaError> {
    let k = key.modulus_len();
    let expected = encode_block(hash, k)?;
    if sig.len() != k {
        return Err(RsaError::BadLength {
            expected: k,
            got: sig.len(),
        });
    }
    let s = BigUint::from_bytes_be(sig);
    if s == big(0) || s >= key.n {
        return Err(RsaError::OutOfRange);
    }
    let m = modpow(&s, &key.e, &key.n)?;
    let em = to_fixed_be(&m, k).ok_or(RsaError::OutOfRange)?;
    if em == expected {
        return Ok(());
    }
    let body = k - hash.len();
    if em.get(..body) == expected.get(..body) {
        Err(RsaError::HashMismatch)
    } else {
        Err(RsaError::BadPadding)
    }
}

/// How [`RsaPrivateKeyParts::from_primes`] reduces d.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateExponent {
    /// d = e⁻¹ mod lcm(p−1, q−1), the smallest d (rsasigkey's default).
    Lcm,
    /// d = e⁻¹ mod (p−1)(q−1) (`rsasigkey --noopt`).
    Totient,
}

/// An RSA private key in the PKCS#1 CRT form of an ipsec.secrets `RSA { }`
/// block. Plain data: [`RsaPrivateKeyParts::sign_pkcs1_raw`] checks what it
/// needs. `Debug` shows only the size and the key ID.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPrivateKeyParts {
    /// Modulus n = p·q.
    pub n: BigUint,
    /// Public exponent e.
    pub e: BigUint,
    /// Private exponent d.
    pub d: BigUint,
    /// Prime1 p (the larger prime).
    pub p: BigUint,
    /// Prime2 q.
    pub q: BigUint,
    /// Exponent1 d mod (p−1).
    pub dp: BigUint,
    /// Exponent2 d mod (q−1).
    pub dq: BigUint,
    /// Coefficient q⁻¹ mod p.
    pub qinv: BigUint,
}

impl fmt::Debug for RsaPrivateKeyParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RsaPrivateKeyParts {{ bits: {}, keyid: {} }}",
            self.n.bits(),
            self.keyid()
        )
    }
}

impl RsaPrivateKeyParts {
    /// Builds the key from two primes (not tested for primality here) and e.
    /// The larger prime becomes p. Refuses p = q, primes ≤ 2 or even, e even
    /// or < 3, and e sharing a factor with p−1 or q−1.
    pub fn from_primes(
        p: BigUint,
        q: BigUint,
        e: BigUint,
        exp: PrivateExponent,
    ) -> Result<RsaPrivateKeyParts, RsaError> {
        let one = big(1);
        if !is_odd(&p) || !is_odd(&q) || p <= one || q <= one {
            return Err(RsaError::BadKey("primes must be odd and greater than 2"));
        }
        if p == q {
            return Err(RsaError::BadKey("p = q"));
        }
        if !is_odd(&e) || e < big(3) {
            return Err(RsaError::BadExponent);
        }
        let (p, q) = if p > q { (p, q) } else { (q, p) };
        let p1 = &p - &one;
        let q1 = &q - &one;
        if gcd(&e, &p1) != one || gcd(&e, &q1) != one {
            return Err(RsaError::BadKey("e shares a factor with p-1 or q-1"));
        }
        let phi = &p1 * &q1;
        let m = match exp {
            PrivateExponent::Lcm => &phi / gcd(&p1, &q1),
            PrivateExponent::Totient => phi,
        };
        let d = mod_inverse(&e, &m).ok_or(RsaError::BadKey("e not invertible"))?;
        let dp = &d % &p1;
        let dq = &d % &q1;
        let qinv = mod_inverse(&q, &p).ok_or(RsaError::BadKey("q not invertible mod p"))?;
        Ok(RsaPrivateKeyParts {
            n: &p * &q,
            e,
            d,
            p,
            q,
            dp,
            dq,
            qinv,
        })
    }

    /// Builds a key from the eight values of an ipsec.secrets `RSA { }`
    /// block, in their order (Modulus, PublicExponent, PrivateExponent,
    /// Prime1, Prime2, Exponent1, Exponent2, Coefficient); unchecked.
    pub fn from_fields(f: [BigUint; 8]) -> RsaPrivateKeyParts {
        let [n, e, d, p, q, dp, dq, qinv] = f;
        RsaPrivateKeyParts {
            n,
            e,
            d,
            p,
            q,
            dp,
            dq,
            qinv,
        }
    }

    /// Openswan's RSA_private_key_sanity, with its messages: every check
    /// runs and the last failure is reported. Degenerate values that would
    /// make the C divide by zero are refused up front.
    pub fn check(&self) -> Result<(), &'static str> {
        let one = big(1);
        let zero = big(0);
        let k = self.modulus_len();
        if k < 512 / 8 {
            return Err("RSA modulus too small for security: less than 512 bits");
        }
        if k > 8192 / 8 {
            return Err("RSA modulus too large: more than 8192 bits");
        }
        if self.e < big(3) {
            return Err("RSA public exponent too small");
        }
        if self.p <= one || self.q <= one {
            return Err("n != p * q");
        }
        let mut ugh = None;
        if &self.p * &self.q != self.n {
            ugh = Some("n != p * q");
        }
        let p1 = &self.p - &one;
        let q1 = &self.q - &one;
        if &p1 % &self.e == zero {
            ugh = Some("e divides p-1");
        }
        if &q1 % &self.e == zero {
            ugh = Some("e divides q-1");
        }
        let lcm = &p1 * &q1 / gcd(&p1, &q1);
        if (&self.d * &self.e) % &lcm != one {
            ugh = Some("(d * e) mod (lcm(p-1, q-1)) != 1");
        }
        if &self.d % &p1 != self.dp {
            ugh = Some("dP is not congruent to d mod p-1");
        }
        if &self.d % &q1 != self.dq {
            ugh = Some("dQ is not congruent to d mod q-1");
        }
        if (&self.qinv * &self.q) % &self.p != one {
            ugh = Some("qInv is not conguent ot (q^-1) mod p");
        }
        ugh.map_or(Ok(()), Err)
    }

    /// The public half, checked like a peer's key.
    pub fn public(&self) -> Result<RsaPublicKey, RsaError> {
        RsaPublicKey::new(self.n.clone(), self.e.clone())
    }

    /// The public half as it is, unchecked (for its blob, text and key ID).
    fn public_unchecked(&self) -> RsaPublicKey {
        RsaPublicKey {
            n: self.n.clone(),
            e: self.e.clone(),
        }
    }

    /// The RFC 3110 public-key blob.
    pub fn pubkey_blob(&self) -> Vec<u8> {
        self.public_unchecked().to_rfc3110()
    }

    /// The `0s...` text of the public key (`#pubkey=`, `--pubkeyrsa`).
    pub fn pubkey_text(&self) -> String {
        self.public_unchecked().to_text()
    }

    /// Key ID: the first 9 base64 digits of the public-key blob.
    pub fn keyid(&self) -> String {
        keyid_from_blob(&self.pubkey_blob())
    }

    /// Modulus length in bytes (k).
    pub fn modulus_len(&self) -> usize {
        self.n.bits().div_ceil(8)
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.n.bits()
    }

    /// The RSA private operation m^d mod n by the CRT, checked by s^e mod n = m.
    /// Needs 0 ≤ m < n.
    fn private_op(&self, m: &BigUint) -> Result<BigUint, RsaError> {
        let one = big(1);
        check_modulus(&self.n)?;
        check_exponent(&self.e, &self.n)?;
        if self.p <= one || self.q <= one {
            return Err(RsaError::BadKey("primes must be greater than 1"));
        }
        if *m >= self.n {
            return Err(RsaError::OutOfRange);
        }
        let half = |m: &BigUint, d: &BigUint, prime: &BigUint| {
            modpow(&(m % prime), d, prime).map_err(|_| RsaError::BadKey("p or q is even"))
        };
        let m1 = half(m, &self.dp, &self.p)?;
        let m2 = half(m, &self.dq, &self.q)?;
        let diff = (&m1 + &self.p - (&m2 % &self.p)) % &self.p;
        let h = (&self.qinv * diff) % &self.p;
        let s = m2 + h * &self.q;
        // Fault guard: a wrong s (glitch, or p, q, dp, dq, qinv not matching n)
        // must not leave this function; it would reveal a factor of n.
        if s >= self.n || modpow(&s, &self.e, &self.n)? != *m {
            return Err(RsaError::Fault);
        }
        Ok(s)
    }

    /// Signs a raw IKEv1 hash (16, 20, 32, 48 or 64 bytes): PKCS#1 v1.5 block
    /// type 1 without DigestInfo, RSA by the CRT; the result is k bytes.
    pub fn sign_pkcs1_raw(&self, hash: &[u8]) -> Result<Vec<u8>, RsaError> {
        check_modulus(&self.n)?;
        let k = self.n.bits().div_ceil(8);
        let em = encode_block(hash, k)?;
        let s = self.private_op(&BigUint::from_bytes_be(&em))?;
        to_fixed_be(&s, k).ok_or(RsaError::Fault)
    }
}

// ---------------------------------------------------------------------------
// Key generation.

/// An [`Rng`] wrapper that refuses repeated or all-zero output (the FIPS 140-2
/// continuous test, per draw length), so a broken source fails loudly.
struct CheckedRng<'a> {
    inner: &'a mut dyn Rng,
    last: Vec<Vec<u8>>,
}

impl CheckedRng<'_> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), RsaError> {
        self.inner.fill(buf);
        if buf.len() < 8 {
            return Ok(());
        }
        if buf.iter().all(|&b| b == 0) {
            return Err(RsaError::BadRandom);
        }
        match self.last.iter_mut().find(|l| l.len() == buf.len()) {
            Some(prev) if prev.as_slice() == &*buf => return Err(RsaError::BadRandom),
            Some(prev) => prev.copy_from_slice(buf),
            None => self.last.push(buf.to_vec()),
        }
        Ok(())
    }
}

/// The odd primes below [`SIEVE_LIMIT`].
fn small_primes() -> Vec<u32> {
    let limit = SIEVE_LIMIT as usize;
    let mut composite = vec![false; limit];
    let mut out = Vec::new();
    for i in 3..limit {
        if i % 2 == 0 || composite.get(i).copied().unwrap_or(true) {
            continue;
        }
        out.push(i as u32);
        let mut j = i * i;
        while j < limit {
            if let Some(c) = composite.get_mut(j) {
                *c = true;
            }
            j += 2 * i;
        }
    }
    out
}

/// x mod m for a big-endian byte string and a small m.
fn mod_small(bytes: &[u8], m: u32) -> u32 {
    let m = u64::from(m);
    let r = bytes
        .iter()
        .fold(0u64, |r, &b| ((r << 8) | u64::from(b)) % m);
    // r < m ≤ u32::MAX.
    u32::try_from(r).unwrap_or(0)
}

/// Miller–Rabin: base 2, then `rounds` random bases in [2, n−2]. `n` is odd
/// and larger than 2^64 here.
fn is_probable_prime(
    n: &BigUint,
    rounds: usize,
    rng: &mut CheckedRng<'_>,
) -> Result<bool, RsaError> {
    let one = big(1);
    let two = big(2);
    let n1 = n - &one;
    let s = n1.trailing_zeros().unwrap_or(0);
    let d = &n1 >> s;
    // n is odd and above 2^64 here, so the modulus always exists.
    let Ok(m) = Modulus::new(&n.to_bytes_be()) else {
        return Ok(false);
    };
    let (d, one_be, n1_be) = (
        d.to_bytes_be(),
        to_fixed_be(&one, m.len()),
        to_fixed_be(&n1, m.len()),
    );
    let witness = |a: &BigUint| -> bool {
        // true when a proves n composite (or, never, when the arithmetic
        // refuses its input: n is then no prime of ours either)
        let Ok(mut x) = m.pow(&a.to_bytes_be(), &d) else {
            return true;
        };
        if Some(&x) == one_be.as_ref() || Some(&x) == n1_be.as_ref() {
            return false;
        }
        for _ in 1..s {
            x = match m.pow(&x, &[2]) {
                Ok(x) => x,
                Err(_) => return true,
            };
            if Some(&x) == n1_be.as_ref() {
                return false;
            }
            if Some(&x) == one_be.as_ref() {
                return true;
            }
        }
        true
    };
    if witness(&two) {
        return Ok(false);
    }
    let range = n - big(3);
    let mut buf = vec![0u8; n.bits().div_ceil(8) + 8];
    for _ in 0..rounds {
        rng.fill(&mut buf)?;
        let a = BigUint::from_bytes_be(&buf) % &range + &two;
        if witness(&a) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A random prime of exactly `bits` bits (a multiple of 8) with the top two
/// bits set and p mod e ≠ 1 (so gcd(e, p−1) = 1 for a prime e).
fn random_prime(
    bits: usize,
    e: u32,
    primes: &[u32],
    rng: &mut CheckedRng<'_>,
) -> Result<BigUint, RsaError> {
    let nbytes = bits / 8;
    let mut buf = vec![0u8; nbytes];
    for _ in 0..MAX_PRIME_STARTS {
        rng.fill(&mut buf)?;
        if let Some(b) = buf.first_mut() {
            *b |= 0xc0;
        }
        if let Some(b) = buf.last_mut() {
            *b |= 0x01;
        }
        let base = BigUint::from_bytes_be(&buf);
        let residues: Vec<u32> = primes.iter().map(|&p| mod_small(&buf, p)).collect();
        let res_e = mod_small(&buf, e);
        let mut delta: u32 = 0;
        while delta < MAX_SEARCH_STEP {
            let sieved = primes
                .iter()
                .zip(&residues)
                .any(|(&p, &r)| (u64::from(r) + u64::from(delta)) % u64::from(p) == 0);
            let bad_e = (u64::from(res_e) + u64::from(delta)) % u64::from(e) == 1;
            if !sieved && !bad_e {
                let cand = &base + big(delta);
                if cand.bits() != bits {
                    break;
                }
                if is_probable_prime(&cand, MR_ROUNDS, rng)? {
                    return Ok(cand);
                }
            }
            delta += 2;
        }
    }
    Err(RsaError::GenerationFailed)
}

/// Generates an RSA key of exactly `bits` bits (a multiple of 16, from
/// [`MIN_MODULUS_BITS`] to [`MAX_MODULUS_BITS`]) with e = [`PUBLIC_EXPONENT`];
/// see the module documentation for the construction.
pub fn generate(bits: usize, rng: &mut dyn Rng) -> Result<RsaPrivateKeyParts, RsaError> {
    generate_with(bits, PrivateExponent::Lcm, rng)
}

/// [`generate`] with a choice of how d is reduced.
pub fn generate_with(
    bits: usize,
    exp: PrivateExponent,
    rng: &mut dyn Rng,
) -> Result<RsaPrivateKeyParts, RsaError> {
    if bits % 16 != 0 || !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bits) {
        return Err(RsaError::BadBits(bits));
    }
    let half = bits / 2;
    let mut rng = CheckedRng {
        inner: rng,
        last: Vec::new(),
    };
    let primes = small_primes();
    let min_diff = big(1) << (half - 100);
    let min_d = big(1) << half;
    for _ in 0..MAX_KEY_ATTEMPTS {
        let p = random_prime(half, PUBLIC_EXPONENT, &primes, &mut rng)?;
        let q = random_prime(half, PUBLIC_EXPONENT, &primes, &mut rng)?;
        let diff = if p > q { &p - &q } else { &q - &p };
        if diff <= min_diff {
            continue;
        }
        let key = RsaPrivateKeyParts::from_primes(p, q, big(PUBLIC_EXPONENT), exp)?;
        if key.n.bits() != bits || key.d <= min_d {
            continue;
        }
        return Ok(key);
    }
    Err(RsaError::GenerationFailed)
}

#[cfg(test)]
mod tests;
