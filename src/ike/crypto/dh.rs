//! MODP Diffie-Hellman groups 2, 5 and 14 (RFC 2409 §6.2, RFC 3526).
//!
//! # Private exponents
//!
//! [`ModpDh`] draws the private exponent x from the injected [`Rng`] with a
//! fixed length per group, well below the group size (as FreeS/WAN, Openswan
//! and most IKE implementations do) but at least twice the group's symmetric
//! strength estimate, which is what RFC 3526 §8 asks of short exponents:
//!
//! | group    | strength estimate (RFC 3526 §8) | exponent |
//! |----------|---------------------------------|----------|
//! | MODP1024 | ~80 bits                        | 256 bits |
//! | MODP1536 | 90 to 120 bits                  | 256 bits |
//! | MODP2048 | 110 to 160 bits                 | 320 bits |
//!
//! The top bit of the exponent is forced to 1, so x has exactly that many bits
//! and is never zero. All three primes are safe primes (p = 2q + 1), so any
//! accepted peer value 1 < y < p-1 has order q or 2q and a short exponent loses
//! nothing to small subgroups.
//!
//! # Peer values
//!
//! [`DhProvider::shared`] checks the peer's public value before any
//! arithmetic: exactly the group's length ([`DhError::BadLength`]), then
//! 1 < y < p-1 ([`DhError::OutOfRange`]), which refuses 0, 1, p-1 and
//! everything >= p.
//!
//! # Arithmetic
//!
//! [`super::modexp`]: Montgomery exponentiation in constant time with respect
//! to the exponent and the peer's value, the modulus of each group prepared
//! once; g^x uses the generator's precomputed comb table.
use std::fmt;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::modexp::{FixedBase, Modulus};
use crate::ike::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DhGroup {
    Modp1024,
    Modp1536,
    Modp2048,
}

impl DhGroup {
    /// Group description numbers 2, 5, 14.
    pub fn id(self) -> u16 {
        match self {
            DhGroup::Modp1024 => 2,
            DhGroup::Modp1536 => 5,
            DhGroup::Modp2048 => 14,
        }
    }

    pub fn from_id(id: u64) -> Option<DhGroup> {
        match id {
            2 => Some(DhGroup::Modp1024),
            5 => Some(DhGroup::Modp1536),
            14 => Some(DhGroup::Modp2048),
            _ => None,
        }
    }

    /// Length of public values and of the shared secret in bytes (128, 192, 256).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(self) -> usize {
        match self {
            DhGroup::Modp1024 => 128,
            DhGroup::Modp1536 => 192,
            DhGroup::Modp2048 => 256,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DhGroup::Modp1024 => "MODP1024",
            DhGroup::Modp1536 => "MODP1536",
            DhGroup::Modp2048 => "MODP2048",
        }
    }

    /// Length in bytes of the private exponent [`ModpDh`] draws (see module docs).
    pub fn exponent_len(self) -> usize {
        match self {
            DhGroup::Modp1024 | DhGroup::Modp1536 => 32, // 256 bits
            DhGroup::Modp2048 => 40,                     // 320 bits
        }
    }

    /// The prime p as big-endian bytes of exactly `len()` bytes.
    pub fn prime_bytes(self) -> &'static [u8] {
        match self {
            DhGroup::Modp1024 => &MODP1024_P,
            DhGroup::Modp1536 => &MODP1536_P,
            DhGroup::Modp2048 => &MODP2048_P,
        }
    }

    /// The prime p with its Montgomery constants and the generator's comb
    /// table for exponents of [`DhGroup::exponent_len`], made once per group
    /// on first use (8 KB for MODP1024, 12 KB for MODP1536, 16 KB for
    /// MODP2048).
    fn generator(self) -> Option<&'static FixedBase> {
        static GENERATORS: [OnceLock<Option<FixedBase>>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let slot = match self {
            DhGroup::Modp1024 => &GENERATORS[0],
            DhGroup::Modp1536 => &GENERATORS[1],
            DhGroup::Modp2048 => &GENERATORS[2],
        };
        slot.get_or_init(|| {
            let p = Modulus::new(self.prime_bytes()).ok()?;
            FixedBase::new(&p, &[GENERATOR], self.exponent_len()).ok()
        })
        .as_ref()
    }
}

/// g = 2 in all three groups.
const GENERATOR: u8 = 2;

/// RFC 2409 §6.2, the prime of the Second Oakley Group:
/// 2^1024 - 2^960 - 1 + 2^64 * { [2^894 pi] + 129093 }.
pub(crate) const MODP1024_HEX: &str = "\
    FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 \
    29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD \
    EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 \
    E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED \
    EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE65381 \
    FFFFFFFF FFFFFFFF";

/// RFC 3526 §2, the 1536-bit MODP group (group 5):
/// 2^1536 - 2^1472 - 1 + 2^64 * { [2^1406 pi] + 741804 }.
pub(crate) const MODP1536_HEX: &str = "\
    FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 \
    29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD \
    EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 \
    E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED \
    EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D \
    C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F \
    83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D \
    670C354E 4ABC9804 F1746C08 CA237327 FFFFFFFF FFFFFFFF";

/// RFC 3526 §3, the 2048-bit MODP group (group 14):
/// 2^2048 - 2^1984 - 1 + 2^64 * { [2^1918 pi] + 124476 }.
pub(crate) const MODP2048_HEX: &str = "\
    FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 \
    29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD \
    EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 \
    E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED \
    EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D \
    C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F \
    83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D \
    670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B \
    E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9 \
    DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510 \
    15728E5A 8AACAA68 FFFFFFFF FFFFFFFF";

/// Compile-time hex decoder for the prime constants: skips spaces, and gives
/// `None` on any other non-hex character or on a digit count other than 2*N.
// Only evaluated in const context (below), where an out-of-bounds index would
// be a compile error, never a run-time panic; `i < s.len()` guards it anyway.
#[allow(clippy::indexing_slicing)]
const fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    let mut nibbles = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        let v = match c {
            b' ' => continue,
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        if nibbles >= 2 * N {
            return None;
        }
        let byte = nibbles / 2;
        if nibbles % 2 == 0 {
            out[byte] = v << 4;
        } else {
            out[byte] |= v;
        }
        nibbles += 1;
    }
    if nibbles != 2 * N {
        return None;
    }
    Some(out)
}

const fn prime_or_zero<const N: usize>(s: &str) -> [u8; N] {
    match parse_hex::<N>(s) {
        Some(p) => p,
        None => [0; N],
    }
}

// A typo that breaks the hex syntax or the length stops the build here; the
// value itself is checked by the tests (bit length, safe-prime Fermat tests,
// checksum, and recomputation from pi).
const _: () = assert!(parse_hex::<128>(MODP1024_HEX).is_some());
const _: () = assert!(parse_hex::<192>(MODP1536_HEX).is_some());
const _: () = assert!(parse_hex::<256>(MODP2048_HEX).is_some());

const MODP1024_P: [u8; 128] = prime_or_zero(MODP1024_HEX);
const MODP1536_P: [u8; 192] = prime_or_zero(MODP1536_HEX);
const MODP2048_P: [u8; 256] = prime_or_zero(MODP2048_HEX);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DhError {
    /// Public value not exactly the group's length.
    BadLength { expected: usize, got: usize },
    /// Public value y outside 1 < y < p-1 (0, 1, p-1, >= p): refused before any arithmetic.
    OutOfRange,
}

impl fmt::Display for DhError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DhError::BadLength { expected, got } => {
                write!(f, "DH public value is {got} bytes, expected {expected}")
            }
            DhError::OutOfRange => f.write_str("DH public value out of range (not 1 < y < p-1)"),
        }
    }
}

impl std::error::Error for DhError {}

/// Our half of an exchange. `secret` is provider-specific and never logged.
/// Not `Clone` in the daemon: the secret has one owner (tests, and load
/// generators built with `fuzzing`, reuse a pair).
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub struct DhKeyPair {
    pub group: DhGroup,
    pub public: Vec<u8>,
    secret: Vec<u8>,
}

/// Shows the group and public value only; the secret is never printed.
impl fmt::Debug for DhKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DhKeyPair")
            .field("group", &self.group)
            .field("public_len", &self.public.len())
            .finish_non_exhaustive()
    }
}

/// Supplies DH: the real MODP arithmetic, or a null provider for tests/fuzzing.
pub trait DhProvider: Send + Sync {
    fn generate(&self, group: DhGroup, rng: &mut dyn Rng) -> DhKeyPair;
    /// How many random bytes [`DhProvider::generate`] draws for `group`:
    /// the engine draws them itself when the key pair is made elsewhere
    /// (see `ike::compute`).
    fn seed_len(&self, group: DhGroup) -> usize;
    /// Validates `peer_public` (length, range) and computes g^xy, left-padded
    /// to the group length.
    fn shared(&self, ours: &DhKeyPair, peer_public: &[u8]) -> Result<Vec<u8>, DhError>;
}

/// Real MODP groups ([`super::modexp`], constant time). Private exponents:
/// see module docs.
pub struct ModpDh;

/// Test-only: public = random bytes of group length with the same range checks,
/// shared = a symmetric function of both publics. Offers no security.
///
/// Anyone who sees both public values can compute the "shared secret"; this
/// provider exists only so that tests, simulations and fuzzers can run
/// exchanges without the cost of modular exponentiation. Never use it to
/// protect traffic.
pub struct NullDh;

/// Checks a peer public value: exact length, then 1 < y < p-1.
pub(crate) fn validate_public(group: DhGroup, peer_public: &[u8]) -> Result<(), DhError> {
    let expected = group.len();
    if peer_public.len() != expected {
        return Err(DhError::BadLength {
            expected,
            got: peer_public.len(),
        });
    }
    // Equal-length big-endian strings compare as their numbers do. p is odd,
    // so p-1 is p with its last byte one less.
    let p = group.prime_bytes();
    let (Some((&y_last, y_head)), Some((&p_last, p_head))) =
        (peer_public.split_last(), p.split_last())
    else {
        return Err(DhError::OutOfRange);
    };
    let at_most_one = y_head.iter().all(|&b| b == 0) && y_last <= 1;
    let at_least_p_minus_1 = (y_head, y_last) >= (p_head, p_last.wrapping_sub(1));
    if at_most_one || at_least_p_minus_1 {
        return Err(DhError::OutOfRange);
    }
    Ok(())
}

impl DhProvider for ModpDh {
    fn seed_len(&self, group: DhGroup) -> usize {
        group.exponent_len()
    }

    fn generate(&self, group: DhGroup, rng: &mut dyn Rng) -> DhKeyPair {
        let mut secret = vec![0u8; group.exponent_len()];
        rng.fill(&mut secret);
        // Force the top bit: x has exactly exponent_len()*8 bits and is never zero.
        if let Some(b) = secret.first_mut() {
            *b |= 0x80;
        }
        // The primes are constants the tests prove valid, so the modulus
        // always exists; were it missing, the all-zero public value would be
        // refused by every peer's range check rather than leak anything.
        let public = group
            .generator()
            .and_then(|g| g.pow(&secret).ok())
            .unwrap_or_else(|| vec![0; group.len()]);
        DhKeyPair {
            group,
            public,
            secret,
        }
    }

    fn shared(&self, ours: &DhKeyPair, peer_public: &[u8]) -> Result<Vec<u8>, DhError> {
        validate_public(ours.group, peer_public)?;
        ours.group
            .generator()
            .and_then(|g| g.modulus().pow(peer_public, &ours.secret).ok())
            .ok_or(DhError::OutOfRange)
    }
}

impl DhProvider for NullDh {
    fn seed_len(&self, group: DhGroup) -> usize {
        group.len()
    }

    fn generate(&self, group: DhGroup, rng: &mut dyn Rng) -> DhKeyPair {
        let mut public = vec![0u8; group.len()];
        rng.fill(&mut public);
        // Top byte in 0x40..=0x7f: nonzero, so y > 1, and below p's 0xff top
        // byte, so y < p-1: passes the same range check as real values.
        if let Some(b) = public.first_mut() {
            *b = (*b & 0x3f) | 0x40;
        }
        DhKeyPair {
            group,
            public,
            secret: Vec::new(),
        }
    }

    fn shared(&self, ours: &DhKeyPair, peer_public: &[u8]) -> Result<Vec<u8>, DhError> {
        validate_public(ours.group, peer_public)?;
        let (lo, hi) = if ours.public.as_slice() <= peer_public {
            (ours.public.as_slice(), peer_public)
        } else {
            (peer_public, ours.public.as_slice())
        };
        let len = ours.group.len();
        let mut out = Vec::with_capacity(len);
        let mut counter: u32 = 0;
        while out.len() < len {
            let mut h = Sha256::new();
            h.update(b"rswan NullDh");
            h.update(counter.to_be_bytes());
            h.update((lo.len() as u32).to_be_bytes());
            h.update(lo);
            h.update(hi);
            out.extend_from_slice(&h.finalize());
            counter = counter.wrapping_add(1);
        }
        out.truncate(len);
        Ok(out)
    }
}
