//! XFRM's use of the shared byte cursor: netlink's 4-byte alignment.
//!
//! Netlink and XFRM structures are plain C structs in host byte order except
//! the SPI, ports and addresses, which callers read with the `_be` helpers
//! of [`crate::wire_bytes`].
use super::{Result, XfrmError};
pub(crate) use crate::wire_bytes::{patch_u16, patch_u32, Put};

/// Netlink messages and attributes start on 4-byte boundaries.
pub const NLA_ALIGNTO: usize = 4;

/// `n` rounded up to the next multiple of 4 (NLMSG_ALIGN / NLA_ALIGN);
/// saturates instead of overflowing.
pub fn align4(n: usize) -> usize {
    n.saturating_add(NLA_ALIGNTO - 1) & !(NLA_ALIGNTO - 1)
}

/// The shared cursor, failing with [`XfrmError`].
pub(crate) type Reader<'a> = crate::wire_bytes::Reader<'a, XfrmError>;

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
