//! Cryptography for IKEv1: hashes and PRFs, CBC ciphers, MODP Diffie-Hellman,
//! and the RFC 2409 key schedule. Pure functions over byte slices; randomness
//! arrives through [`crate::ike::rng::Rng`].

mod cipher;
mod dh;
mod hash;
mod keys;
pub mod rsa;
pub use rswan_modexp as modexp;
#[cfg(test)]
mod tests;

pub use cipher::{cbc_decrypt, cbc_encrypt, CipherAlg, CipherError};
pub(crate) use dh::validate_public;
pub use dh::{DhError, DhGroup, DhKeyPair, DhProvider, ModpDh, NullDh};
pub use hash::{hash, prf, HashAlg};
pub use keys::{
    hash_i, hash_r, informational_hash, keymat, phase1_iv, phase2_iv, qm_hash1, qm_hash2, qm_hash3,
    skeyid_psk, skeyid_sig, Phase1Keys,
};
