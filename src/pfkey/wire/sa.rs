//! Fixed-size SA extensions: `sadb_sa`, `sadb_lifetime`, `sadb_spirange`,
//! `sadb_x_sa2`, and the variable `sadb_key`.
//!
//! Every `parse` takes the extension body, i.e. the bytes after the 4-byte
//! `sadb_ext` header (`sadb_*_len`, `sadb_*_exttype`), and every `emit`
//! appends that body; [`super::Ext`] adds the header and the padding.
use super::bytes::{Put, Reader, WORD};
use super::{Dialect, PfkeyError, Result};
use core::fmt;

/// `struct sadb_sa` (16 bytes; KLIPS also has a 24-byte form).
///
/// ```text
/// 0 u16 len | 2 u16 exttype | 4 u32 spi (network order) | 8 u8 replay
/// 9 u8 state | 10 u8 auth | 11 u8 encrypt | 12 u32 flags
/// KLIPS 24-byte form: 16 u32 sadb_x_sa_ref | 20 4 reserved
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Sa {
    /// The SPI as a number (it is big-endian on the wire); for IPCOMP the CPI.
    pub spi: u32,
    /// Replay window in packets (Linux caps it at 32 for PF_KEY SAs).
    pub replay: u8,
    pub state: u8,
    /// SADB_AALG_*.
    pub auth: u8,
    /// SADB_EALG_*, or SADB_X_CALG_* for IPCOMP SAs.
    pub encrypt: u8,
    pub flags: u32,
    /// KLIPS only: `sadb_x_sa_ref` of the 24-byte form; `None` = 16-byte form.
    /// Always `None` after a Linux parse and ignored by a Linux emit.
    pub klips_ref: Option<u32>,
}

const SA_BODY: usize = 12;
const SA_BODY_KLIPS: usize = 20;

impl Sa {
    pub fn parse(body: &[u8], dialect: Dialect) -> Result<Sa> {
        let long = match (dialect, body.len()) {
            (_, SA_BODY) => false,
            (Dialect::Klips, SA_BODY_KLIPS) => true,
            (_, len) => {
                return Err(PfkeyError::BadLength {
                    what: "SA extension",
                    len: len.saturating_add(4),
                })
            }
        };
        let mut r = Reader::new(body, "SA extension");
        let mut sa = Sa {
            spi: r.u32_be()?,
            replay: r.u8()?,
            state: r.u8()?,
            auth: r.u8()?,
            encrypt: r.u8()?,
            flags: r.u32()?,
            klips_ref: None,
        };
        if long {
            sa.klips_ref = Some(r.u32()?);
            r.skip(4)?;
        }
        r.finish()?;
        Ok(sa)
    }

    pub fn emit(&self, out: &mut Vec<u8>, dialect: Dialect) {
        out.put_u32_be(self.spi);
        out.put_u8(self.replay);
        out.put_u8(self.state);
        out.put_u8(self.auth);
        out.put_u8(self.encrypt);
        out.put_u32(self.flags);
        if let (Dialect::Klips, Some(r)) = (dialect, self.klips_ref) {
            out.put_u32(r);
            out.put_zeros(4);
        }
    }
}

/// `struct sadb_lifetime` (32 bytes on Linux, 40 on KLIPS).
///
/// ```text
/// 0 u16 len | 2 u16 exttype | 4 u32 allocations | 8 u64 bytes
/// 16 u64 addtime | 24 u64 usetime
/// KLIPS: 32 u32 sadb_x_lifetime_packets | 36 u32 reserved
/// ```
/// Linux reads 0 in `allocations`/`bytes` as "no limit"; `addtime`/`usetime`
/// are seconds (relative in HARD/SOFT, absolute times in CURRENT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Lifetime {
    pub allocations: u32,
    pub bytes: u64,
    pub addtime: u64,
    pub usetime: u64,
    /// KLIPS only (`sadb_x_lifetime_packets`); 0 after a Linux parse and not
    /// emitted for Linux.
    pub packets: u32,
}

const LIFETIME_BODY: usize = 28;
const LIFETIME_BODY_KLIPS: usize = 36;

impl Lifetime {
    /// A lifetime of `secs` seconds after the SA was added (0 = none).
    pub fn seconds(secs: u64) -> Lifetime {
        Lifetime {
            addtime: secs,
            ..Lifetime::default()
        }
    }

    pub fn parse(body: &[u8], dialect: Dialect) -> Result<Lifetime> {
        let want = match dialect {
            Dialect::Linux => LIFETIME_BODY,
            Dialect::Klips => LIFETIME_BODY_KLIPS,
        };
        if body.len() != want {
            return Err(PfkeyError::BadLength {
                what: "lifetime extension",
                len: body.len().saturating_add(4),
            });
        }
        let mut r = Reader::new(body, "lifetime extension");
        let mut lt = Lifetime {
            allocations: r.u32()?,
            bytes: r.u64()?,
            addtime: r.u64()?,
            usetime: r.u64()?,
            packets: 0,
        };
        if dialect == Dialect::Klips {
            lt.packets = r.u32()?;
            r.skip(4)?;
        }
        r.finish()?;
        Ok(lt)
    }

    pub fn emit(&self, out: &mut Vec<u8>, dialect: Dialect) {
        out.put_u32(self.allocations);
        out.put_u64(self.bytes);
        out.put_u64(self.addtime);
        out.put_u64(self.usetime);
        if dialect == Dialect::Klips {
            out.put_u32(self.packets);
            out.put_zeros(4);
        }
    }
}

/// `struct sadb_spirange` (16 bytes): 4 u32 min | 8 u32 max | 12 u32 reserved.
/// Both bounds are host-order numbers (Linux converts them itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SpiRange {
    pub min: u32,
    pub max: u32,
}

impl SpiRange {
    pub fn parse(body: &[u8]) -> Result<SpiRange> {
        let mut r = Reader::new(body, "SPI range extension");
        let range = SpiRange {
            min: r.u32()?,
            max: r.u32()?,
        };
        r.skip(4)?;
        r.finish()?;
        Ok(range)
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u32(self.min);
        out.put_u32(self.max);
        out.put_u32(0);
    }
}

/// Linux `struct sadb_x_sa2` (16 bytes):
/// 4 u8 mode | 5 u8 reserved1 | 6 u16 reserved2 | 8 u32 sequence | 12 u32 reqid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Sa2 {
    /// IPSEC_MODE_* (Linux treats ANY as transport).
    pub mode: u8,
    pub sequence: u32,
    pub reqid: u32,
}

impl Sa2 {
    pub fn parse(body: &[u8]) -> Result<Sa2> {
        let mut r = Reader::new(body, "SA2 extension");
        let mode = r.u8()?;
        r.skip(3)?;
        let sa2 = Sa2 {
            mode,
            sequence: r.u32()?,
            reqid: r.u32()?,
        };
        r.finish()?;
        Ok(sa2)
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u8(self.mode);
        out.put_zeros(3);
        out.put_u32(self.sequence);
        out.put_u32(self.reqid);
    }
}

/// `struct sadb_key` (8 bytes) followed by the key, zero-padded to 8 bytes:
/// 4 u16 bits | 6 u16 reserved | 8 key bytes...
///
/// `data` holds exactly `ceil(bits / 8)` bytes; the extension is exactly
/// `1 + ceil(bits / 64)` words long (what both kernels emit). Debug output
/// never shows the key.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Key {
    pub bits: u16,
    pub data: Vec<u8>,
}

impl Key {
    /// A key of all of `data` (bits = 8 * length, saturating at 65535 bits).
    pub fn new(data: &[u8]) -> Key {
        let bits = u16::try_from(data.len().saturating_mul(8)).unwrap_or(u16::MAX);
        let keep = usize::from(bits).div_ceil(8);
        Key {
            bits,
            data: data.get(..keep).unwrap_or(data).to_vec(),
        }
    }

    fn byte_len(bits: u16) -> usize {
        usize::from(bits).div_ceil(8)
    }

    pub fn parse(body: &[u8]) -> Result<Key> {
        let mut r = Reader::new(body, "key extension");
        let bits = r.u16()?;
        r.skip(2)?;
        let n = Key::byte_len(bits);
        let padded = n.div_ceil(WORD).saturating_mul(WORD);
        if r.remaining() != padded {
            return Err(PfkeyError::BadLength {
                what: "key extension",
                len: body.len().saturating_add(4),
            });
        }
        let data = r.take(n)?.to_vec();
        Ok(Key { bits, data })
    }

    /// Appends bits, reserved and exactly `ceil(bits / 8)` key bytes (the
    /// data cut or zero-filled to that length); the caller pads.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u16(self.bits);
        out.put_u16(0);
        let n = Key::byte_len(self.bits);
        let have = self.data.get(..n).unwrap_or(&self.data);
        out.extend_from_slice(have);
        out.put_zeros(n.saturating_sub(have.len()));
    }
}

impl fmt::Debug for Key {
    // Keys are secret: never in Debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("bits", &self.bits)
            .field("data", &format_args!("<{} bytes>", self.data.len()))
            .finish()
    }
}
