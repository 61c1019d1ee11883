//! MODP Diffie-Hellman groups 2, 5 and 14 (RFC 2409 §6.2, RFC 3526).
use crate::ike::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DhGroup {
    Modp1024,
    Modp1536,
    Modp2048,
}

impl DhGroup {
    /// Group description numbers 2, 5, 14.
    pub fn id(self) -> u16 { todo!() }
    pub fn from_id(id: u64) -> Option<DhGroup> { todo!() }
    /// Length of public values and of the shared secret in bytes (128, 192, 256).
    pub fn len(self) -> usize { todo!() }
    pub fn name(self) -> &'static str { todo!() } // "MODP1024", ...
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DhError {
    /// Public value not exactly the group's length.
    BadLength { expected: usize, got: usize },
    /// Public value y outside 1 < y < p-1 (0, 1, p-1, >= p): refused before any arithmetic.
    OutOfRange,
}

/// Our half of an exchange. `secret` is provider-specific and never logged.
pub struct DhKeyPair {
    pub group: DhGroup,
    pub public: Vec<u8>,
    secret: Vec<u8>,
}

/// Supplies DH: the real MODP arithmetic, or a null provider for tests/fuzzing.
pub trait DhProvider {
    fn generate(&self, group: DhGroup, rng: &mut dyn Rng) -> DhKeyPair;
    /// Validates `peer_public` (length, range) and computes g^xy, left-padded
    /// to the group length.
    fn shared(&self, ours: &DhKeyPair, peer_public: &[u8]) -> Result<Vec<u8>, DhError>;
}

/// Real MODP groups with num-bigint-dig. Private exponents: see module docs.
pub struct ModpDh;

/// Test-only: public = random bytes of group length with the same range checks,
/// shared = a symmetric function of both publics. Offers no security.
pub struct NullDh;
