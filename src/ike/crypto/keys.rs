//! The RFC 2409 key schedule: SKEYID and its children, Appendix B key expansion,
//! phase-1 and phase-2 IVs, the Main Mode and Quick Mode hashes, and KEYMAT.
use super::{CipherAlg, HashAlg};

/// Everything derived once g^xy is known in phase 1.
#[derive(Clone)]
pub struct Phase1Keys {
    pub skeyid: Vec<u8>,
    pub skeyid_d: Vec<u8>,
    pub skeyid_a: Vec<u8>,
    pub skeyid_e: Vec<u8>,
    /// Encryption key of `cipher.key_len()` bytes, expanded per Appendix B if
    /// SKEYID_e is shorter.
    pub enc_key: Vec<u8>,
}

/// SKEYID = prf(pre-shared-key, Ni_b | Nr_b).
pub fn skeyid_psk(prf: HashAlg, psk: &[u8], ni: &[u8], nr: &[u8]) -> Vec<u8> { todo!() }
/// SKEYID = prf(Ni_b | Nr_b, g^xy) for signature authentication.
pub fn skeyid_sig(prf: HashAlg, ni: &[u8], nr: &[u8], gxy: &[u8]) -> Vec<u8> { todo!() }

impl Phase1Keys {
    /// SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0), _a with SKEYID_d prefix and 1,
    /// _e with SKEYID_a prefix and 2; then the cipher key.
    pub fn derive(prf: HashAlg, skeyid: Vec<u8>, gxy: &[u8], cky_i: &[u8], cky_r: &[u8], cipher: CipherAlg) -> Phase1Keys { todo!() }
}

/// Initial phase-1 IV: hash(g^xi | g^xr) truncated to the cipher block size.
pub fn phase1_iv(hash: HashAlg, gxi: &[u8], gxr: &[u8], block_len: usize) -> Vec<u8> { todo!() }
/// Phase-2 / informational IV: hash(last phase-1 CBC block | M-ID) truncated.
pub fn phase2_iv(hash: HashAlg, last_block: &[u8], msgid: u32, block_len: usize) -> Vec<u8> { todo!() }

/// HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b).
pub fn hash_i(prf: HashAlg, skeyid: &[u8], gxi: &[u8], gxr: &[u8], cky_i: &[u8], cky_r: &[u8], sai_b: &[u8], idii_b: &[u8]) -> Vec<u8> { todo!() }
/// HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b).
pub fn hash_r(prf: HashAlg, skeyid: &[u8], gxi: &[u8], gxr: &[u8], cky_i: &[u8], cky_r: &[u8], sai_b: &[u8], idir_b: &[u8]) -> Vec<u8> { todo!() }

/// HASH(1) = prf(SKEYID_a, M-ID | rest-of-message-after-HASH).
pub fn qm_hash1(prf: HashAlg, skeyid_a: &[u8], msgid: u32, rest: &[u8]) -> Vec<u8> { todo!() }
/// HASH(2) = prf(SKEYID_a, M-ID | Ni_b | rest).
pub fn qm_hash2(prf: HashAlg, skeyid_a: &[u8], msgid: u32, ni_b: &[u8], rest: &[u8]) -> Vec<u8> { todo!() }
/// HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b).
pub fn qm_hash3(prf: HashAlg, skeyid_a: &[u8], msgid: u32, ni_b: &[u8], nr_b: &[u8]) -> Vec<u8> { todo!() }
/// Informational HASH(1) = prf(SKEYID_a, M-ID | N/D payloads).
pub fn informational_hash(prf: HashAlg, skeyid_a: &[u8], msgid: u32, rest: &[u8]) -> Vec<u8> { todo!() }

/// KEYMAT for one SA direction: K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
/// Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b), concatenated
/// and truncated to `len` bytes.
pub fn keymat(prf: HashAlg, skeyid_d: &[u8], gqm: Option<&[u8]>, protocol: u8, spi: &[u8], ni_b: &[u8], nr_b: &[u8], len: usize) -> Vec<u8> { todo!() }
