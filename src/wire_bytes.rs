//! Bounds-checked reading and writing of the kernel's plain C structs.
//!
//! PF_KEY and XFRM netlink lay their messages out the same way: every
//! multi-byte field is in host byte order except the few the kernel keeps in
//! network order (SPI, ports, addresses, flow labels), which callers read and
//! write with the `_be` helpers. Both codecs share this one cursor; each
//! instantiates [`Reader`] with its own error type, which converts from
//! [`BytesError`] so that `?` keeps working unchanged at every call site.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::todo,
        clippy::unimplemented
    )
)]

use std::marker::PhantomData;

/// What a [`Reader`] can find wrong: too few bytes, or bytes left over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BytesError {
    /// A field needed `need` bytes where only `have` remained.
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    /// `len` bytes remained after a struct that should have used them all.
    TrailingData { what: &'static str, len: usize },
}

/// A cursor over a byte slice; every read checks the remaining length first.
/// `E` is the codec's own error type.
pub(crate) struct Reader<'a, E> {
    data: &'a [u8],
    what: &'static str,
    error: PhantomData<fn() -> E>,
}

impl<'a, E: From<BytesError>> Reader<'a, E> {
    pub(crate) fn new(data: &'a [u8], what: &'static str) -> Reader<'a, E> {
        Reader {
            data,
            what,
            error: PhantomData,
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Takes the next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], E> {
        match (self.data.get(..n), self.data.get(n..)) {
            (Some(head), Some(tail)) => {
                self.data = tail;
                Ok(head)
            }
            _ => Err(self.truncated(n, self.data.len())),
        }
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], E> {
        let b = self.take(N)?;
        b.try_into().map_err(|_| self.truncated(N, b.len()))
    }

    fn truncated(&self, need: usize, have: usize) -> E {
        E::from(BytesError::Truncated {
            what: self.what,
            need,
            have,
        })
    }

    pub(crate) fn u8(&mut self) -> Result<u8, E> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, E> {
        self.array::<2>().map(u16::from_ne_bytes)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, E> {
        self.array::<4>().map(u32::from_ne_bytes)
    }

    pub(crate) fn i32(&mut self) -> Result<i32, E> {
        self.array::<4>().map(i32::from_ne_bytes)
    }

    pub(crate) fn u64(&mut self) -> Result<u64, E> {
        self.array::<8>().map(u64::from_ne_bytes)
    }

    pub(crate) fn u16_be(&mut self) -> Result<u16, E> {
        self.array::<2>().map(u16::from_be_bytes)
    }

    pub(crate) fn u32_be(&mut self) -> Result<u32, E> {
        self.array::<4>().map(u32::from_be_bytes)
    }

    /// Skips `n` reserved or padding bytes (their value is not checked).
    pub(crate) fn skip(&mut self, n: usize) -> Result<(), E> {
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
    pub(crate) fn finish(self) -> Result<(), E> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(E::from(BytesError::TrailingData {
                what: self.what,
                len: self.data.len(),
            }))
        }
    }
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
    /// Zero bytes up to the next multiple of `align` counted from `start`
    /// (8 for PF_KEY's 64-bit words, 4 for netlink).
    fn pad_from(&mut self, start: usize, align: usize);
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
    fn pad_from(&mut self, start: usize, align: usize) {
        let used = self.len().saturating_sub(start).checked_rem(align);
        if let Some(used @ 1..) = used {
            self.put_zeros(align - used);
        }
    }
}

/// Overwrites the host-order u16 at `at` (used to patch length fields);
/// does nothing if `out` is too short.
pub(crate) fn patch_u16(out: &mut [u8], at: usize, v: u16) {
    if let Some(field) = out.get_mut(at..at.saturating_add(2)) {
        field.copy_from_slice(&v.to_ne_bytes());
    }
}

/// Overwrites the host-order u32 at `at`; does nothing if `out` is too short.
pub(crate) fn patch_u32(out: &mut [u8], at: usize, v: u32) {
    if let Some(field) = out.get_mut(at..at.saturating_add(4)) {
        field.copy_from_slice(&v.to_ne_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type R<'a> = Reader<'a, BytesError>;

    #[test]
    fn reads_host_and_network_order_and_reports_truncation() {
        let data = [1, 2, 3, 4, 5, 6];
        let mut r = R::new(&data, "thing");
        assert_eq!(r.u16_be(), Ok(0x0102));
        assert_eq!(r.u16(), Ok(u16::from_ne_bytes([3, 4])));
        assert_eq!(
            r.u32(),
            Err(BytesError::Truncated {
                what: "thing",
                need: 4,
                have: 2
            })
        );
        assert_eq!(r.remaining(), 2);
        assert_eq!(
            r.finish(),
            Err(BytesError::TrailingData {
                what: "thing",
                len: 2
            })
        );
    }

    #[test]
    fn pads_to_the_alignment_counted_from_start() {
        let mut out = vec![9u8; 3];
        out.put_u8(1);
        out.pad_from(3, 8);
        assert_eq!(out.len(), 11);
        out.pad_from(3, 8);
        assert_eq!(out.len(), 11);
        out.put_u8(2);
        out.pad_from(0, 4);
        assert_eq!(out.len(), 12);
        patch_u16(&mut out, 11, 7);
        assert_eq!(out.len(), 12, "a patch past the end is ignored");
    }
}
