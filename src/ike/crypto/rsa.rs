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
//! fault (or an inconsistent key) cannot leak a factor of n. It is not constant
//! time (num-bigint-dig is not); there is no blinding.

use std::fmt;

use num_bigint_dig::{BigUint, ModInverse};

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

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 with `=` padding.
fn base64(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let mut v: u32 = 0;
        for (i, &b) in chunk.iter().enumerate() {
            v |= u32::from(b) << (16 - 8 * i);
        }
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((v >> (18 - 6 * i)) & 0x3f) as usize;
                s.push(char::from(B64.get(idx).copied().unwrap_or(b'A')));
            } else {
                s.push('=');
            }
        }
    }
    s
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
    let m = s.modpow(&key.e, &key.n);
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
        let keyid = keyid_from_blob(
            &RsaPublicKey {
                n: self.n.clone(),
                e: self.e.clone(),
            }
            .to_rfc3110(),
        );
        write!(
            f,
            "RsaPrivateKeyParts {{ bits: {}, keyid: {keyid} }}",
            self.n.bits()
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

    /// The public half, checked like a peer's key.
    pub fn public(&self) -> Result<RsaPublicKey, RsaError> {
        RsaPublicKey::new(self.n.clone(), self.e.clone())
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
        let m1 = (m % &self.p).modpow(&self.dp, &self.p);
        let m2 = (m % &self.q).modpow(&self.dq, &self.q);
        let diff = (&m1 + &self.p - (&m2 % &self.p)) % &self.p;
        let h = (&self.qinv * diff) % &self.p;
        let s = m2 + h * &self.q;
        // Fault guard: a wrong s (glitch, or p, q, dp, dq, qinv not matching n)
        // must not leave this function; it would reveal a factor of n.
        if s >= self.n || s.modpow(&self.e, &self.n) != *m {
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
    let witness = |a: &BigUint| -> bool {
        // true when a proves n composite
        let mut x = a.modpow(&d, n);
        if x == one || x == n1 {
            return false;
        }
        for _ in 1..s {
            x = x.modpow(&two, n);
            if x == n1 {
                return false;
            }
            if x == one {
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
mod tests {
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
        let bad_enc =
            |b: &[u8]| matches!(RsaPublicKey::from_rfc3110(b), Err(RsaError::BadEncoding(_)));
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
        let tot = RsaPrivateKeyParts::from_primes(
            p.clone(),
            q.clone(),
            big(65537),
            PrivateExponent::Totient,
        )
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
}
