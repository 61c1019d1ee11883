//! The fixed 28-byte ISAKMP header.
use super::Result;

pub const HEADER_LEN: usize = 28;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub icookie: [u8; 8],
    pub rcookie: [u8; 8],
    pub next_payload: u8,
    /// Major version in the high nibble, minor in the low: always 0x10 on emit.
    pub version: u8,
    pub exchange: u8,
    pub flags: u8,
    pub msgid: u32,
    /// Total message length including this header.
    pub length: u32,
}

/// Checks the header of a datagram and returns it with the message body
/// (the bytes after the header, up to `length`). Rejects: datagram shorter than
/// 28, major version != 1, `length` < 28 or > datagram length. Bytes past
/// `length` in the datagram are ignored.
pub fn parse_header(datagram: &[u8]) -> Result<(Header, &[u8])> {
    todo!()
}

impl Header {
    /// Appends the 28 header bytes to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        todo!()
    }
}
