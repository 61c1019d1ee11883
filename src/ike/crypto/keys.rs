//! The RFC 2409 key schedule: SKEYID and its children, Appendix B key expansion,
//! phase-1 and phase-2 IVs, the Main Mode and Quick Mode hashes, and KEYMAT.
use std::fmt;

use super::{prf as prf_fn, CipherAlg, HashAlg};

/// Everything derived once g^xy is known in phase 1.
#[derive(Clone)]
pub struct Phase1Keys {
    /// SKEYID, SKEYID_d, SKEYID_a, SKEYID_e and the encryption key (of
    /// `cipher.key_len()` bytes, expanded per Appendix B if SKEYID_e is
    /// shorter), one after the other in one block: an ISAKMP SA keeps them
    /// for as long as it lives, and five blocks took more room than the keys.
    buf: Vec<u8>,
    /// Where each of the five ends in `buf`.
    ends: [u16; 5],
}

/// Never prints key material.
impl fmt::Debug for Phase1Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Phase1Keys { .. }")
    }
}

/// SKEYID = prf(pre-shared-key, Ni_b | Nr_b).
pub fn skeyid_psk(prf: HashAlg, psk: &[u8], ni: &[u8], nr: &[u8]) -> Vec<u8> {
    prf_fn(prf, psk, &[ni, nr])
}

/// SKEYID = prf(Ni_b | Nr_b, g^xy) for signature authentication.
pub fn skeyid_sig(prf: HashAlg, ni: &[u8], nr: &[u8], gxy: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(ni.len() + nr.len());
    key.extend_from_slice(ni);
    key.extend_from_slice(nr);
    prf_fn(prf, &key, &[gxy])
}

/// RFC 2409 Appendix B: the cipher key from SKEYID_e. If SKEYID_e is at least
/// `key_len` bytes, its leftmost `key_len` bytes; otherwise
/// Ka = K1 | K2 | K3 ... truncated, with K1 = prf(SKEYID_e, 0) (one zero byte)
/// and Kn = prf(SKEYID_e, Kn-1).
pub(crate) fn expand_enc_key(prf: HashAlg, skeyid_e: &[u8], key_len: usize) -> Vec<u8> {
    if skeyid_e.len() >= key_len {
        return skeyid_e.iter().take(key_len).copied().collect();
    }
    let mut out = Vec::with_capacity(key_len + prf.output_len());
    let mut k = prf_fn(prf, skeyid_e, &[&[0u8]]);
    loop {
        out.extend_from_slice(&k);
        // An empty block could never make progress (see hash::prf).
        if out.len() >= key_len || k.is_empty() {
            break;
        }
        k = prf_fn(prf, skeyid_e, &[&k]);
    }
    out.truncate(key_len);
    out
}

impl Phase1Keys {
    /// SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0), _a with SKEYID_d prefix and 1,
    /// _e with SKEYID_a prefix and 2; then the cipher key.
    pub fn derive(
        prf: HashAlg,
        skeyid: Vec<u8>,
        gxy: &[u8],
        cky_i: &[u8],
        cky_r: &[u8],
        cipher: CipherAlg,
    ) -> Phase1Keys {
        let skeyid_d = prf_fn(prf, &skeyid, &[gxy, cky_i, cky_r, &[0u8]]);
        let skeyid_a = prf_fn(prf, &skeyid, &[&skeyid_d, gxy, cky_i, cky_r, &[1u8]]);
        let skeyid_e = prf_fn(prf, &skeyid, &[&skeyid_a, gxy, cky_i, cky_r, &[2u8]]);
        let enc_key = expand_enc_key(prf, &skeyid_e, cipher.key_len());
        Phase1Keys::of([&skeyid, &skeyid_d, &skeyid_a, &skeyid_e, &enc_key])
    }

    fn of(parts: [&[u8]; 5]) -> Phase1Keys {
        let mut buf = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
        let mut ends = [0u16; 5];
        for (end, part) in ends.iter_mut().zip(parts) {
            buf.extend_from_slice(part);
            // PRF outputs are at most 64 bytes, a cipher key 32.
            *end = u16::try_from(buf.len()).unwrap_or(u16::MAX);
        }
        Phase1Keys { buf, ends }
    }

    fn part(&self, i: usize) -> &[u8] {
        let end = usize::from(self.ends.get(i).copied().unwrap_or(0));
        let start = i
            .checked_sub(1)
            .and_then(|j| self.ends.get(j))
            .map_or(0, |&e| usize::from(e));
        self.buf.get(start..end).unwrap_or_default()
    }

    pub fn skeyid(&self) -> &[u8] {
        self.part(0)
    }

    pub fn skeyid_d(&self) -> &[u8] {
        self.part(1)
    }

    pub fn skeyid_a(&self) -> &[u8] {
        self.part(2)
    }

    pub fn skeyid_e(&self) -> &[u8] {
        self.part(3)
    }

    pub fn enc_key(&self) -> &[u8] {
        self.part(4)
    }

    /// Main Mode is over: SKEYID and SKEYID_e go (the encryption key is
    /// made); SKEYID_d, SKEYID_a and the key stay.
    pub(crate) fn forget_exchange(&mut self) {
        let (d, a, k) = (self.skeyid_d(), self.skeyid_a(), self.enc_key());
        *self = Phase1Keys::of([&[], d, a, &[], k]);
    }
}

fn truncated(mut v: Vec<u8>, len: usize) -> Vec<u8> {
    v.truncate(len);
    v
}

/// Initial phase-1 IV: hash(g^xi | g^xr) truncated to the cipher block size.
pub fn phase1_iv(hash: HashAlg, gxi: &[u8], gxr: &[u8], block_len: usize) -> Vec<u8> {
    truncated(super::hash(hash, &[gxi, gxr]), block_len)
}

/// Phase-2 / informational IV: hash(last phase-1 CBC block | M-ID) truncated.
pub fn phase2_iv(hash: HashAlg, last_block: &[u8], msgid: u32, block_len: usize) -> Vec<u8> {
    truncated(
        super::hash(hash, &[last_block, &msgid.to_be_bytes()]),
        block_len,
    )
}

/// HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b).
#[allow(clippy::too_many_arguments)]
pub fn hash_i(
    prf: HashAlg,
    skeyid: &[u8],
    gxi: &[u8],
    gxr: &[u8],
    cky_i: &[u8],
    cky_r: &[u8],
    sai_b: &[u8],
    idii_b: &[u8],
) -> Vec<u8> {
    prf_fn(prf, skeyid, &[gxi, gxr, cky_i, cky_r, sai_b, idii_b])
}

/// HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b).
#[allow(clippy::too_many_arguments)]
pub fn hash_r(
    prf: HashAlg,
    skeyid: &[u8],
    gxi: &[u8],
    gxr: &[u8],
    cky_i: &[u8],
    cky_r: &[u8],
    sai_b: &[u8],
    idir_b: &[u8],
) -> Vec<u8> {
    prf_fn(prf, skeyid, &[gxr, gxi, cky_r, cky_i, sai_b, idir_b])
}

/// HASH(1) = prf(SKEYID_a, M-ID | rest-of-message-after-HASH).
pub fn qm_hash1(prf: HashAlg, skeyid_a: &[u8], msgid: u32, rest: &[u8]) -> Vec<u8> {
    prf_fn(prf, skeyid_a, &[&msgid.to_be_bytes(), rest])
}

/// HASH(2) = prf(SKEYID_a, M-ID | Ni_b | rest).
pub fn qm_hash2(prf: HashAlg, skeyid_a: &[u8], msgid: u32, ni_b: &[u8], rest: &[u8]) -> Vec<u8> {
    prf_fn(prf, skeyid_a, &[&msgid.to_be_bytes(), ni_b, rest])
}

/// HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b).
pub fn qm_hash3(prf: HashAlg, skeyid_a: &[u8], msgid: u32, ni_b: &[u8], nr_b: &[u8]) -> Vec<u8> {
    prf_fn(prf, skeyid_a, &[&[0u8], &msgid.to_be_bytes(), ni_b, nr_b])
}

/// Informational HASH(1) = prf(SKEYID_a, M-ID | N/D payloads).
pub fn informational_hash(prf: HashAlg, skeyid_a: &[u8], msgid: u32, rest: &[u8]) -> Vec<u8> {
    prf_fn(prf, skeyid_a, &[&msgid.to_be_bytes(), rest])
}

/// KEYMAT for one SA direction: K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
/// Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b), concatenated
/// and truncated to `len` bytes.
#[allow(clippy::too_many_arguments)]
pub fn keymat(
    prf: HashAlg,
    skeyid_d: &[u8],
    gqm: Option<&[u8]>,
    protocol: u8,
    spi: &[u8],
    ni_b: &[u8],
    nr_b: &[u8],
    len: usize,
) -> Vec<u8> {
    let gqm = gqm.unwrap_or(&[]);
    let proto = [protocol];
    let mut out = Vec::with_capacity(len + prf.output_len());
    let mut prev: Vec<u8> = Vec::new();
    while out.len() < len {
        // K1 has no previous block: `prev` is empty the first time round.
        let k = prf_fn(prf, skeyid_d, &[&prev, gqm, &proto, spi, ni_b, nr_b]);
        if k.is_empty() {
            break; // cannot happen (see hash::prf); avoids looping forever
        }
        out.extend_from_slice(&k);
        prev = k;
    }
    out.truncate(len);
    out
}
