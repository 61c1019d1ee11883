//! CBC-mode block ciphers: 3DES (SP 800-67) and AES (RFC 3602).

use cbc::cipher::{
    generic_array::GenericArray, BlockCipher, BlockDecryptMut, BlockEncryptMut, KeyIvInit,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherAlg {
    Des3,
    Aes128,
    Aes192,
    Aes256,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CipherError {
    /// key, IV or data length wrong for the cipher (a local bug or a peer's short message).
    BadLength,
}

/// OAKLEY_ENCRYPTION_ALGORITHM values (RFC 2409 Appendix A, RFC 3602 §5.1).
const OAKLEY_3DES_CBC: u16 = 5;
const OAKLEY_AES_CBC: u16 = 7;

impl CipherAlg {
    pub fn key_len(self) -> usize {
        match self {
            CipherAlg::Des3 => 24,
            CipherAlg::Aes128 => 16,
            CipherAlg::Aes192 => 24,
            CipherAlg::Aes256 => 32,
        }
    }

    pub fn block_len(self) -> usize {
        match self {
            CipherAlg::Des3 => 8,
            CipherAlg::Aes128 | CipherAlg::Aes192 | CipherAlg::Aes256 => 16,
        }
    }

    /// OAKLEY_ENCRYPTION_ALGORITHM: 3DES_CBC 5, AES_CBC 7 (with key length attribute).
    pub fn oakley_id(self) -> u16 {
        match self {
            CipherAlg::Des3 => OAKLEY_3DES_CBC,
            CipherAlg::Aes128 | CipherAlg::Aes192 | CipherAlg::Aes256 => OAKLEY_AES_CBC,
        }
    }

    /// From OAKLEY encryption id and optional key length in bits (AES without
    /// KEY_LENGTH is refused in phase 1: RFC 3602 makes it mandatory).
    pub fn from_oakley(id: u64, key_bits: Option<u64>) -> Option<CipherAlg> {
        match (id, key_bits) {
            // 3DES has a fixed key length; a KEY_LENGTH attribute, if sent, must say so.
            (5, None) | (5, Some(192)) => Some(CipherAlg::Des3),
            (7, Some(128)) => Some(CipherAlg::Aes128),
            (7, Some(192)) => Some(CipherAlg::Aes192),
            (7, Some(256)) => Some(CipherAlg::Aes256),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CipherAlg::Des3 => "3DES_CBC",
            CipherAlg::Aes128 => "AES_CBC_128",
            CipherAlg::Aes192 => "AES_CBC_192",
            CipherAlg::Aes256 => "AES_CBC_256",
        }
    }
}

/// Checks the lengths shared by both directions: key exactly `key_len()`, IV
/// exactly one block, data a whole number of blocks (zero blocks is allowed).
fn check_lengths(alg: CipherAlg, key: &[u8], iv: &[u8], data: &[u8]) -> Result<(), CipherError> {
    let bl = alg.block_len();
    if key.len() != alg.key_len() || iv.len() != bl || data.len() % bl != 0 {
        return Err(CipherError::BadLength);
    }
    Ok(())
}

fn enc<C>(key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), CipherError>
where
    C: BlockEncryptMut + BlockCipher + cbc::cipher::KeyInit,
{
    let mut mode =
        cbc::Encryptor::<C>::new_from_slices(key, iv).map_err(|_| CipherError::BadLength)?;
    let bl = C::block_size();
    if data.len() % bl != 0 {
        return Err(CipherError::BadLength);
    }
    // chunks_exact_mut yields slices of exactly one block, so from_mut_slice's
    // length requirement holds.
    for chunk in data.chunks_exact_mut(bl) {
        mode.encrypt_block_mut(GenericArray::from_mut_slice(chunk));
    }
    Ok(())
}

fn dec<C>(key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), CipherError>
where
    C: BlockDecryptMut + BlockCipher + cbc::cipher::KeyInit,
{
    let mut mode =
        cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|_| CipherError::BadLength)?;
    let bl = C::block_size();
    if data.len() % bl != 0 {
        return Err(CipherError::BadLength);
    }
    for chunk in data.chunks_exact_mut(bl) {
        mode.decrypt_block_mut(GenericArray::from_mut_slice(chunk));
    }
    Ok(())
}

/// Encrypts `data` in place; `data.len()` must be a multiple of the block size,
/// `iv` exactly one block, `key` exactly `key_len()` bytes.
pub fn cbc_encrypt(
    alg: CipherAlg,
    key: &[u8],
    iv: &[u8],
    data: &mut [u8],
) -> Result<(), CipherError> {
    check_lengths(alg, key, iv, data)?;
    match alg {
        CipherAlg::Des3 => enc::<des::TdesEde3>(key, iv, data),
        CipherAlg::Aes128 => enc::<aes::Aes128>(key, iv, data),
        CipherAlg::Aes192 => enc::<aes::Aes192>(key, iv, data),
        CipherAlg::Aes256 => enc::<aes::Aes256>(key, iv, data),
    }
}

/// Decrypts `data` in place; same length rules as [`cbc_encrypt`].
pub fn cbc_decrypt(
    alg: CipherAlg,
    key: &[u8],
    iv: &[u8],
    data: &mut [u8],
) -> Result<(), CipherError> {
    check_lengths(alg, key, iv, data)?;
    match alg {
        CipherAlg::Des3 => dec::<des::TdesEde3>(key, iv, data),
        CipherAlg::Aes128 => dec::<aes::Aes128>(key, iv, data),
        CipherAlg::Aes192 => dec::<aes::Aes192>(key, iv, data),
        CipherAlg::Aes256 => dec::<aes::Aes256>(key, iv, data),
    }
}
