//! RSA private keys from `RSA { ... }` blocks (`keys.c` process_rsa_secret); the key
//! type, its sanity check and public form are the engine's (`crate::ike::crypto::rsa`).

use crate::ike::SecretIndex;

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

/// An RSA private key in PKCS#1 CRT form: the engine's type, so that a
/// loaded key goes to the engine as it is. `check` is Openswan's sanity check.
pub use crate::ike::crypto::rsa::RsaPrivateKeyParts as RsaPrivateKey;

/// An `RSA { ... }` entry of ipsec.secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPrivateEntry {
    /// The entry's indices (empty = default entry).
    pub indices: Vec<SecretIndex>,
    pub key: RsaPrivateKey,
    /// `"<file>" line <n>` of the entry, for messages.
    pub origin: String,
}
