//! RSA private keys from `RSA { ... }` blocks (`keys.c` process_rsa_secret,
//! RSA_private_key_sanity) and their RFC 3110 public form.

use super::ttodata;
use crate::ike::SecretIndex;
use num_bigint_dig::BigUint;

/// The eight fields of an `RSA { ... }` block, in the required order.
pub const FIELD_NAMES: [&str; 8] = [
    "Modulus",
    "PublicExponent",
    "PrivateExponent",
    "Prime1",
    "Prime2",
    "Exponent1",
    "Exponent2",
    "Coefficient",
];

/// Largest decoded field value (RSA_MAX_ENCODING_BYTES).
pub const MAX_FIELD_BYTES: usize = 1026;

/// An RSA private key in PKCS#1 CRT form. Debug shows only the public part's size
/// and key ID.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPrivateKey {
    /// Modulus n.
    pub n: BigUint,
    /// PublicExponent e.
    pub e: BigUint,
    /// PrivateExponent d.
    pub d: BigUint,
    /// Prime1 p (the larger prime).
    pub p: BigUint,
    /// Prime2 q.
    pub q: BigUint,
    /// Exponent1 d mod (p-1).
    pub dp: BigUint,
    /// Exponent2 d mod (q-1).
    pub dq: BigUint,
    /// Coefficient q^-1 mod p.
    pub qinv: BigUint,
}

impl core::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "RsaPrivateKey {{ bits: {}, keyid: {} }}",
            self.n.bits(),
            self.keyid()
        )
    }
}

/// An `RSA { ... }` entry of ipsec.secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPrivateEntry {
    /// The entry's indices (empty = default entry).
    pub indices: Vec<SecretIndex>,
    pub key: RsaPrivateKey,
    /// `"<file>" line <n>` of the entry, for messages.
    pub origin: String,
}

fn gcd(a: &BigUint, b: &BigUint) -> BigUint {
    let zero = BigUint::from(0u32);
    let (mut a, mut b) = (a.clone(), b.clone());
    while b != zero {
        let r = &a % &b;
        a = b;
        b = r;
    }
    a
}

impl RsaPrivateKey {
    /// Builds a key from the eight field values in [`FIELD_NAMES`] order.
    pub fn from_fields(f: [BigUint; 8]) -> RsaPrivateKey {
        let [n, e, d, p, q, dp, dq, qinv] = f;
        RsaPrivateKey {
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

    /// Modulus length in bytes (k).
    pub fn modulus_len(&self) -> usize {
        self.n.bits().div_ceil(8)
    }

    /// RSA_private_key_sanity. As in the C, every check runs and the last failure is
    /// reported. Degenerate values that would make the C divide by zero are refused
    /// up front.
    pub fn check(&self) -> Result<(), &'static str> {
        let one = BigUint::from(1u32);
        let zero = BigUint::from(0u32);
        let k = self.modulus_len();
        if k < 512 / 8 {
            return Err("RSA modulus too small for security: less than 512 bits");
        }
        if k > 8192 / 8 {
            return Err("RSA modulus too large: more than 8192 bits");
        }
        if self.e < BigUint::from(3u32) {
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

    /// The RFC 3110 public-key blob: exponent length (1 byte, or 0 then 2 bytes),
    /// exponent, modulus.
    pub fn pubkey_blob(&self) -> Vec<u8> {
        let e = self.e.to_bytes_be();
        let n = self.n.to_bytes_be();
        let mut out = Vec::with_capacity(3 + e.len() + n.len());
        match u8::try_from(e.len()) {
            Ok(l) if l > 0 => out.push(l),
            _ => {
                out.push(0);
                out.extend_from_slice(&u16::try_from(e.len()).unwrap_or(u16::MAX).to_be_bytes());
            }
        }
        out.extend_from_slice(&e);
        out.extend_from_slice(&n);
        out
    }

    /// The `0s...` text of the public key (`#pubkey=`, `--pubkeyrsa`).
    pub fn pubkey_text(&self) -> String {
        format!("0s{}", ttodata::encode_base64(&self.pubkey_blob()))
    }

    /// Key ID: the first 9 base64 digits of the public-key blob (keyblobtoid).
    pub fn keyid(&self) -> String {
        crate::ike::crypto::rsa::keyid_from_blob(&self.pubkey_blob())
    }
}
