//! Bounds-checked reading and writing in the kernel's byte order.
//!
//! PF_KEY structures are plain C structs: every multi-byte field is in host
//! byte order except the few the RFC marks as network order (the SPI, ports,
//! addresses and IPv6 flow labels), which callers read with the `_be` helpers.
use super::{PfkeyError, Result};

/// One PF_KEY length unit: all lengths count 64-bit words.
pub const WORD: usize = 8;

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

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Takes the next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        match (self.data.get(..n), self.data.get(n..)) {
            (Some(head), Some(tail)) => {
                self.data = tail;
                Ok(head)
            }
            _ => Err(PfkeyError::Truncated {
                what: self.what,
                need: n,
                have: self.data.len(),
            }),
        }
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let b = self.take(N)?;
        b.try_into().map_err(|_| PfkeyError::Truncated {
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

    pub(crate) fn u64(&mut self) -> Result<u64> {
        self.array::<8>().map(u64::from_ne_bytes)
    }

    pub(crate) fn u16_be(&mut self) -> Result<u16> {
        self.array::<2>().map(u16::from_be_bytes)
    }

    pub(crate) fn u32_be(&mut self) -> Result<u32> {
        self.array::<4>().map(u32::from_be_bytes)
    }

    /// Skips `n` reserved or padding bytes (their value is not checked).
    pub(crate) fn skip(&mut self, n: usize) -> Result<()> {
        self.take(n).map(|_| ())
    }

    /// Everything not read yet, without consuming it.
    pub(crate) fn peek(&self) -> &'a [u8] {
        self.data
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
            Err(PfkeyError::TrailingData {
                what: self.what,
                len: self.data.len(),
            })
        }
    }
}

/// Appending writer helpers (host order unless `_be`).
pub(crate) trait Put {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u32(&mut self, v: u32);
    fn put_u64(&mut self, v: u64);
    fn put_u16_be(&mut self, v: u16);
    fn put_u32_be(&mut self, v: u32);
    fn put_zeros(&mut self, n: usize);
    /// Zero bytes up to the next multiple of 8 counted from `start`.
    fn pad8_from(&mut self, start: usize);
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
    fn pad8_from(&mut self, start: usize) {
        let used = self.len().saturating_sub(start) % WORD;
        if used != 0 {
            self.put_zeros(WORD - used);
        }
    }
}

/// `n` bytes rounded up to whole 64-bit words, as a u16 length field;
/// saturates (only an impossible repr gets there, and emit cannot fail).
pub(crate) fn words16(n: usize) -> u16 {
    u16::try_from(n.div_ceil(WORD)).unwrap_or(u16::MAX)
}

/// Overwrites the host-order u16 at `at` (used to patch length fields).
pub(crate) fn patch_u16(out: &mut [u8], at: usize, v: u16) {
    if let Some(field) = out.get_mut(at..at.saturating_add(2)) {
        field.copy_from_slice(&v.to_ne_bytes());
    }
}
