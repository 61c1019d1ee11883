//! PF_KEY's use of the shared byte cursor: lengths count 64-bit words.
//!
//! PF_KEY structures are plain C structs in host byte order except the SPI,
//! ports, addresses and IPv6 flow labels, which callers read with the `_be`
//! helpers of [`crate::wire_bytes`].
use super::PfkeyError;
pub(crate) use crate::wire_bytes::{patch_u16, Put};

/// One PF_KEY length unit: all lengths count 64-bit words.
pub const WORD: usize = 8;

/// The shared cursor, failing with [`PfkeyError`].
pub(crate) type Reader<'a> = crate::wire_bytes::Reader<'a, PfkeyError>;

/// `n` bytes rounded up to whole 64-bit words, as a u16 length field;
/// saturates (only an impossible repr gets there, and emit cannot fail).
pub(crate) fn words16(n: usize) -> u16 {
    u16::try_from(n.div_ceil(WORD)).unwrap_or(u16::MAX)
}
