//! Bounds-checked big-endian reading and length patching, shared by the codecs.
use super::{Result, WireError};

/// A cursor over a byte slice; every read checks the remaining length first.
pub(super) struct Reader<'a> {
    data: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(super) fn new(data: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { data, what }
    }

    pub(super) fn remaining(&self) -> usize {
        self.data.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Takes the next `n` bytes.
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        match (self.data.get(..n), self.data.get(n..)) {
            (Some(head), Some(tail)) => {
                self.data = tail;
                Ok(head)
            }
            _ => Err(WireError::Truncated {
                what: self.what,
                need: n,
                have: self.data.len(),
            }),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let b = self.take(N)?;
        b.try_into().map_err(|_| WireError::Truncated {
            what: self.what,
            need: N,
            have: b.len(),
        })
    }

    pub(super) fn u8(&mut self) -> Result<u8> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    pub(super) fn u16(&mut self) -> Result<u16> {
        self.array::<2>().map(u16::from_be_bytes)
    }

    pub(super) fn u32(&mut self) -> Result<u32> {
        self.array::<4>().map(u32::from_be_bytes)
    }

    pub(super) fn fixed<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.array::<N>()
    }

    /// Everything not read yet, without consuming it.
    pub(super) fn clone_rest(&self) -> &'a [u8] {
        self.data
    }

    /// Everything not read yet.
    pub(super) fn rest(self) -> &'a [u8] {
        self.data
    }
}

/// Length of `n` bytes as a 16-bit length field; saturates (only a caller
/// building an impossible payload can get there, and emit cannot fail).
pub(super) fn len16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Appends a generic payload header with a zero length, to be fixed by
/// [`patch_len`]; returns its offset.
pub(super) fn begin_payload(out: &mut Vec<u8>, next: u8) -> usize {
    let start = out.len();
    out.push(next);
    out.push(0);
    out.extend_from_slice(&[0, 0]);
    start
}

/// Writes `out.len() - start` into the length field of the generic payload
/// header at `start`.
pub(super) fn patch_len(out: &mut [u8], start: usize) {
    let len = len16(out.len().saturating_sub(start));
    if let Some(field) = start
        .checked_add(2)
        .and_then(|a| out.get_mut(a..a.saturating_add(2)))
    {
        for (dst, src) in field.iter_mut().zip(len.to_be_bytes()) {
            *dst = src;
        }
    }
}
