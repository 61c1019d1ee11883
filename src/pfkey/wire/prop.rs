//! `sadb_prop` with its `sadb_comb`s (ACQUIRE) and `sadb_supported` with its
//! `sadb_alg`s (REGISTER replies).
use super::bytes::{Put, Reader};
use super::{Dialect, PfkeyError, Result};

/// `struct sadb_comb`: 72 bytes on Linux, 80 on KLIPS (two packet limits).
///
/// ```text
///  0 u8 auth | 1 u8 encrypt | 2 u16 flags | 4 u16 auth_minbits
///  6 u16 auth_maxbits | 8 u16 encrypt_minbits | 10 u16 encrypt_maxbits
/// 12 u32 reserved | 16 u32 soft_allocations | 20 u32 hard_allocations
/// 24 u64 soft_bytes | 32 u64 hard_bytes | 40 u64 soft_addtime
/// 48 u64 hard_addtime | 56 u64 soft_usetime | 64 u64 hard_usetime
/// KLIPS: 72 u32 soft_packets | 76 u32 hard_packets
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Comb {
    pub auth: u8,
    pub encrypt: u8,
    pub flags: u16,
    pub auth_minbits: u16,
    pub auth_maxbits: u16,
    pub encrypt_minbits: u16,
    pub encrypt_maxbits: u16,
    pub soft_allocations: u32,
    pub hard_allocations: u32,
    pub soft_bytes: u64,
    pub hard_bytes: u64,
    pub soft_addtime: u64,
    pub hard_addtime: u64,
    pub soft_usetime: u64,
    pub hard_usetime: u64,
    /// KLIPS only (0 after a Linux parse, not emitted for Linux).
    pub soft_packets: u32,
    pub hard_packets: u32,
}

/// Size of one `sadb_comb` in `dialect`.
pub fn comb_len(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Linux => 72,
        Dialect::Klips => 80,
    }
}

impl Comb {
    fn parse(r: &mut Reader<'_>, dialect: Dialect) -> Result<Comb> {
        let auth = r.u8()?;
        let encrypt = r.u8()?;
        let flags = r.u16()?;
        let auth_minbits = r.u16()?;
        let auth_maxbits = r.u16()?;
        let encrypt_minbits = r.u16()?;
        let encrypt_maxbits = r.u16()?;
        r.skip(4)?;
        let mut c = Comb {
            auth,
            encrypt,
            flags,
            auth_minbits,
            auth_maxbits,
            encrypt_minbits,
            encrypt_maxbits,
            soft_allocations: r.u32()?,
            hard_allocations: r.u32()?,
            soft_bytes: r.u64()?,
            hard_bytes: r.u64()?,
            soft_addtime: r.u64()?,
            hard_addtime: r.u64()?,
            soft_usetime: r.u64()?,
            hard_usetime: r.u64()?,
            soft_packets: 0,
            hard_packets: 0,
        };
        if dialect == Dialect::Klips {
            c.soft_packets = r.u32()?;
            c.hard_packets = r.u32()?;
        }
        Ok(c)
    }

    fn emit(&self, out: &mut Vec<u8>, dialect: Dialect) {
        out.put_u8(self.auth);
        out.put_u8(self.encrypt);
        out.put_u16(self.flags);
        out.put_u16(self.auth_minbits);
        out.put_u16(self.auth_maxbits);
        out.put_u16(self.encrypt_minbits);
        out.put_u16(self.encrypt_maxbits);
        out.put_u32(0);
        out.put_u32(self.soft_allocations);
        out.put_u32(self.hard_allocations);
        out.put_u64(self.soft_bytes);
        out.put_u64(self.hard_bytes);
        out.put_u64(self.soft_addtime);
        out.put_u64(self.hard_addtime);
        out.put_u64(self.soft_usetime);
        out.put_u64(self.hard_usetime);
        if dialect == Dialect::Klips {
            out.put_u32(self.soft_packets);
            out.put_u32(self.hard_packets);
        }
    }
}

/// `struct sadb_prop` (8 bytes: 4 u8 replay | 5 3 reserved) followed by
/// whole combs; leftover bytes that do not make a comb are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Proposal {
    pub replay: u8,
    pub combs: Vec<Comb>,
}

impl Proposal {
    pub fn parse(body: &[u8], dialect: Dialect) -> Result<Proposal> {
        let mut r = Reader::new(body, "proposal extension");
        let replay = r.u8()?;
        r.skip(3)?;
        let size = comb_len(dialect);
        if r.remaining() % size != 0 {
            return Err(PfkeyError::BadLength {
                what: "proposal extension",
                len: body.len().saturating_add(4),
            });
        }
        let mut combs = Vec::with_capacity(r.remaining() / size);
        while !r.is_empty() {
            combs.push(Comb::parse(&mut r, dialect)?);
        }
        Ok(Proposal { replay, combs })
    }

    pub fn emit(&self, out: &mut Vec<u8>, dialect: Dialect) {
        out.put_u8(self.replay);
        out.put_zeros(3);
        for c in &self.combs {
            c.emit(out, dialect);
        }
    }
}

/// `struct sadb_alg` (8 bytes):
/// 0 u8 id | 1 u8 ivlen | 2 u16 minbits | 4 u16 maxbits | 6 u16 reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Alg {
    pub id: u8,
    pub ivlen: u8,
    pub minbits: u16,
    pub maxbits: u16,
}

/// `struct sadb_supported` (8 bytes: 4 u32 reserved) followed by `sadb_alg`s.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Supported {
    pub algs: Vec<Alg>,
}

impl Supported {
    pub fn parse(body: &[u8]) -> Result<Supported> {
        let mut r = Reader::new(body, "supported extension");
        r.skip(4)?;
        // The body after the header is a whole number of words, so of algs.
        let mut algs = Vec::with_capacity(r.remaining() / 8);
        while !r.is_empty() {
            let id = r.u8()?;
            let ivlen = r.u8()?;
            let minbits = r.u16()?;
            let maxbits = r.u16()?;
            r.skip(2)?;
            algs.push(Alg {
                id,
                ivlen,
                minbits,
                maxbits,
            });
        }
        Ok(Supported { algs })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u32(0);
        for a in &self.algs {
            out.put_u8(a.id);
            out.put_u8(a.ivlen);
            out.put_u16(a.minbits);
            out.put_u16(a.maxbits);
            out.put_u16(0);
        }
    }

    /// The entry for algorithm `id`, if the kernel listed it.
    pub fn find(&self, id: u8) -> Option<&Alg> {
        self.algs.iter().find(|a| a.id == id)
    }
}
