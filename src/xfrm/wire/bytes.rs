//! Bounds-checked reading and writing in the kernel's byte order.
//!
//! Netlink and XFRM structures are plain C structs: every multi-byte field
//! is in host byte order except the SPI, ports and addresses, which callers
//! read with the `_be` helpers.
use super::{Result, XfrmError};

/// Netlink messages and attributes start on 4-byte boundaries.
pub const NLA_ALIGNTO: usize = 4;

/// `n` rounded up to the next multiple of 4 (NLMSG_ALIGN / NLA_ALIGN);
/// saturates instead of overflowing.
pub fn align4(n: usize) -> usize {
    n.saturating_add(NLA_ALIGNTO - 1) & !(NLA_ALIGNTO - 1)
}

/// A cursor over a byte slice; every read checks the remaining length first.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { data, what }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len()
    }

    /// Takes the next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        match (self.data.get(..n), self.data.get(n..)) {
            (Some(head), Some(tail)) => {
                self.data = tail;
                Ok(head)
            }
            _ => Err(XfrmError::Truncated {
                what: self.what,
                need: n,
                have: self.data.len(),
            }),
        }
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let b = self.take(N)?;
        b.try_into().map_err(|_| XfrmError::Truncated {
            what: self.what,
            need: N,
            have: b.len(),
        })
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        self.array::<2>().map(u16::from_ne_bytes)
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        self.array::<4>().map(u32::from_ne_bytes)
    }

    pub(crate) fn i32(&mut self) -> Result<i32> {
        self.array::<4>().map(i32::from_ne_bytes)
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        self.array::<8>().map(u64::from_ne_bytes)
    }

    pub(crate) fn u16_be(&mut self) -> Result<u16> {
        self.array::<2>().map(u16::from_be_bytes)
    }

    pub(crate) fn u32_be(&mut self) -> Result<u32> {
        self.array::<4>().map(u32::from_be_bytes)
    }

    /// Skips `n` padding bytes (their value is not checked).
    pub(crate) fn skip(&mut self, n: usize) -> Result<()> {
        self.take(n).map(|_| ())
    }

    /// Everything not read yet.
    pub(crate) fn rest(self) -> &'a [u8] {
        self.data
    }

    /// Fails unless everything was read.
    pub(crate) fn finish(self) -> Result<()> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(XfrmError::TrailingData {
                what: self.what,
                len: self.data.len(),
            })
        }
    }
}

/// Parses a fixed-size struct that must fill `body` exactly.
pub(crate) fn exact<T>(
    body: &[u8],
    len: usize,
    what: &'static str,
    parse: impl FnOnce(&mut Reader<'_>) -> Result<T>,
) -> Result<T> {
    if body.len() != len {
        return Err(XfrmError::BadLength {
            what,
            len: body.len(),
        });
    }
    let mut r = Reader::new(body, what);
    let v = parse(&mut r)?;
    r.finish()?;
    Ok(v)
}

/// Appending writer helpers (host order unless `_be`).
pub(crate) trait Put {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u32(&mut self, v: u32);
    fn put_i32(&mut self, v: i32);
    fn put_u64(&mut self, v: u64);
    fn put_u16_be(&mut self, v: u16);
    fn put_u32_be(&mut self, v: u32);
    fn put_zeros(&mut self, n: usize);
    /// Zero bytes up to the next multiple of 4 counted from `start`.
    fn pad4_from(&mut self, start: usize);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_ne_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_ne_bytes());
    }
    fn put_i32(&mut self, v: i32) {
        self.extend_from_slice(&v.to_ne_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_ne_bytes());
    }
    fn put_u16_be(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u32_be(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_zeros(&mut self, n: usize) {
        self.resize(self.len().saturating_add(n), 0);
    }
    fn pad4_from(&mut self, start: usize) {
        let used = self.len().saturating_sub(start) % NLA_ALIGNTO;
        if used != 0 {
            self.put_zeros(NLA_ALIGNTO - used);
        }
    }
}

/// Overwrites the host-order u32 at `at` (used to patch length fields).
pub(crate) fn patch_u32(out: &mut [u8], at: usize, v: u32) {
    if let Some(field) = out.get_mut(at..at.saturating_add(4)) {
        field.copy_from_slice(&v.to_ne_bytes());
    }
}

/// Overwrites the host-order u16 at `at`.
pub(crate) fn patch_u16(out: &mut [u8], at: usize, v: u16) {
    if let Some(field) = out.get_mut(at..at.saturating_add(2)) {
        field.copy_from_slice(&v.to_ne_bytes());
    }
}
