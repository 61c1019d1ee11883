//! Hash functions and HMAC-based PRFs (RFC 2104, RFC 4868 for SHA-2).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlg {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    /// Output length in bytes (16, 20, 32, 48, 64).
    pub fn output_len(self) -> usize { todo!() }
    /// OAKLEY_HASH_ALGORITHM value: MD5 1, SHA 2, SHA2_256 4, SHA2_384 5, SHA2_512 6.
    pub fn oakley_id(self) -> u16 { todo!() }
    pub fn from_oakley_id(id: u64) -> Option<HashAlg> { todo!() }
    pub fn name(self) -> &'static str { todo!() } // "MD5", "SHA1", "SHA2_256", ...
}

/// Plain hash of the concatenation of `parts`.
pub fn hash(alg: HashAlg, parts: &[&[u8]]) -> Vec<u8> { todo!() }

/// HMAC-`alg`(key, concatenation of `parts`): the IKEv1 PRF for that hash.
pub fn prf(alg: HashAlg, key: &[u8], parts: &[&[u8]]) -> Vec<u8> { todo!() }
