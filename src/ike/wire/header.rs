//! The fixed 28-byte ISAKMP header.
use super::bytes::Reader;
use super::{Result, WireError};

pub const HEADER_LEN: usize = 28;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub icookie: [u8; 8],
    pub rcookie: [u8; 8],
    pub next_payload: u8,
    /// Major version in the high nibble, minor in the low: 0x10 in what we
    /// build; emitted as held.
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
    if datagram.len() < HEADER_LEN {
        return Err(WireError::Truncated {
            what: "ISAKMP header",
            need: HEADER_LEN,
            have: datagram.len(),
        });
    }
    let mut r = Reader::new(datagram, "ISAKMP header");
    let icookie = r.fixed::<8>()?;
    let rcookie = r.fixed::<8>()?;
    let next_payload = r.u8()?;
    let version = r.u8()?;
    let exchange = r.u8()?;
    let flags = r.u8()?;
    let msgid = r.u32()?;
    let length = r.u32()?;
    if version >> 4 != 1 {
        return Err(WireError::BadVersion(version));
    }
    let len = usize::try_from(length).unwrap_or(usize::MAX);
    if len < HEADER_LEN || len > datagram.len() {
        return Err(WireError::BadLength {
            what: "ISAKMP message",
            len,
        });
    }
    let body = datagram.get(HEADER_LEN..len).ok_or(WireError::BadLength {
        what: "ISAKMP message",
        len,
    })?;
    let header = Header {
        icookie,
        rcookie,
        next_payload,
        version,
        exchange,
        flags,
        msgid,
        length,
    };
    Ok((header, body))
}

impl Header {
    /// Appends the 28 header bytes to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.icookie);
        out.extend_from_slice(&self.rcookie);
        out.extend_from_slice(&[self.next_payload, self.version, self.exchange, self.flags]);
        out.extend_from_slice(&self.msgid.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
    }
}
