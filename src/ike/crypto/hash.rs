//! Hash functions and HMAC-based PRFs (RFC 2104, RFC 4868 for SHA-2).

use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

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
    pub fn output_len(self) -> usize {
        match self {
            HashAlg::Md5 => 16,
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// OAKLEY_HASH_ALGORITHM value: MD5 1, SHA 2, SHA2_256 4, SHA2_384 5, SHA2_512 6.
    pub fn oakley_id(self) -> u16 {
        match self {
            HashAlg::Md5 => 1,
            HashAlg::Sha1 => 2,
            HashAlg::Sha256 => 4,
            HashAlg::Sha384 => 5,
            HashAlg::Sha512 => 6,
        }
    }

    pub fn from_oakley_id(id: u64) -> Option<HashAlg> {
        match id {
            1 => Some(HashAlg::Md5),
            2 => Some(HashAlg::Sha1),
            4 => Some(HashAlg::Sha256),
            5 => Some(HashAlg::Sha384),
            6 => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Md5 => "MD5",
            HashAlg::Sha1 => "SHA1",
            HashAlg::Sha256 => "SHA2_256",
            HashAlg::Sha384 => "SHA2_384",
            HashAlg::Sha512 => "SHA2_512",
        }
    }
}

/// Plain hash of the concatenation of `parts`.
pub fn hash(alg: HashAlg, parts: &[&[u8]]) -> Vec<u8> {
    fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut d = D::new();
        for p in parts {
            d.update(p);
        }
        d.finalize().to_vec()
    }
    match alg {
        HashAlg::Md5 => run::<Md5>(parts),
        HashAlg::Sha1 => run::<Sha1>(parts),
        HashAlg::Sha256 => run::<Sha256>(parts),
        HashAlg::Sha384 => run::<Sha384>(parts),
        HashAlg::Sha512 => run::<Sha512>(parts),
    }
}

/// HMAC-`alg`(key, concatenation of `parts`): the IKEv1 PRF for that hash.
pub fn prf(alg: HashAlg, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    macro_rules! hmac_with {
        ($d:ty) => {
            match <Hmac<$d> as Mac>::new_from_slice(key) {
                Ok(mut mac) => {
                    for p in parts {
                        mac.update(p);
                    }
                    mac.finalize().into_bytes().to_vec()
                }
                // Not reachable: HMAC takes keys of any length (RFC 2104 §2:
                // longer keys are hashed, shorter ones zero-padded) and hmac 0.12
                // never returns InvalidLength for `Hmac<D>`. An empty output would
                // make every key derived from it fail the cipher length checks.
                Err(_) => Vec::new(),
            }
        };
    }
    match alg {
        HashAlg::Md5 => hmac_with!(Md5),
        HashAlg::Sha1 => hmac_with!(Sha1),
        HashAlg::Sha256 => hmac_with!(Sha256),
        HashAlg::Sha384 => hmac_with!(Sha384),
        HashAlg::Sha512 => hmac_with!(Sha512),
    }
}
