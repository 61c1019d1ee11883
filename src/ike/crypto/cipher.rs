//! CBC-mode block ciphers: 3DES (SP 800-67) and AES (RFC 3602).

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

impl CipherAlg {
    pub fn key_len(self) -> usize { todo!() }   // 24, 16, 24, 32
    pub fn block_len(self) -> usize { todo!() } // 8 or 16
    /// OAKLEY_ENCRYPTION_ALGORITHM: 3DES_CBC 5, AES_CBC 7 (with key length attribute).
    pub fn oakley_id(self) -> u16 { todo!() }
    /// From OAKLEY encryption id and optional key length in bits (AES without
    /// KEY_LENGTH is refused in phase 1: RFC 3602 makes it mandatory).
    pub fn from_oakley(id: u64, key_bits: Option<u64>) -> Option<CipherAlg> { todo!() }
    pub fn name(self) -> &'static str { todo!() } // "3DES_CBC", "AES_CBC_128", ...
}

/// Encrypts `data` in place; `data.len()` must be a multiple of the block size,
/// `iv` exactly one block, `key` exactly `key_len()` bytes.
pub fn cbc_encrypt(alg: CipherAlg, key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), CipherError> { todo!() }
pub fn cbc_decrypt(alg: CipherAlg, key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), CipherError> { todo!() }
