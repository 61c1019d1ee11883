//! `struct sadb_msg`, the 16-byte base header of every PF_KEY message.
//!
//! ```text
//! offset 0  u8  sadb_msg_version   (PF_KEY_V2 = 2)
//!        1  u8  sadb_msg_type
//!        2  u8  sadb_msg_errno
//!        3  u8  sadb_msg_satype
//!        4  u16 sadb_msg_len       (whole message, 64-bit words)
//!        6  u16 sadb_msg_reserved
//!        8  u32 sadb_msg_seq
//!       12  u32 sadb_msg_pid
//! ```
use super::bytes::{Put, Reader};
use super::consts::{PF_KEY_V2, SADB_MSG_LEN, SADB_RESERVED};
use super::{PfkeyError, Result};

/// The base header without its length (computed on emit) and reserved field
/// (written as zero; Linux refuses anything else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Header {
    pub msg_type: u8,
    pub errno: u8,
    pub satype: u8,
    pub seq: u32,
    pub pid: u32,
}

impl Header {
    pub fn new(msg_type: u8, satype: u8, seq: u32, pid: u32) -> Header {
        Header {
            msg_type,
            errno: 0,
            satype,
            seq,
            pid,
        }
    }

    /// Parses the first 16 bytes of `buf`; returns the header and the
    /// message length in bytes the header declares.
    pub fn parse(buf: &[u8]) -> Result<(Header, usize)> {
        let mut r = Reader::new(buf, "message header");
        let version = r.u8()?;
        let msg_type = r.u8()?;
        let errno = r.u8()?;
        let satype = r.u8()?;
        let len_words = r.u16()?;
        r.skip(2)?;
        let seq = r.u32()?;
        let pid = r.u32()?;
        if version != PF_KEY_V2 {
            return Err(PfkeyError::BadVersion(version));
        }
        if msg_type == SADB_RESERVED {
            return Err(PfkeyError::BadMsgType(msg_type));
        }
        let header = Header {
            msg_type,
            errno,
            satype,
            seq,
            pid,
        };
        Ok((header, usize::from(len_words).saturating_mul(8)))
    }

    /// Appends the header with the given total length in 64-bit words.
    pub(crate) fn emit(&self, out: &mut Vec<u8>, len_words: u16) {
        out.put_u8(PF_KEY_V2);
        out.put_u8(self.msg_type);
        out.put_u8(self.errno);
        out.put_u8(self.satype);
        out.put_u16(len_words);
        out.put_u16(0);
        out.put_u32(self.seq);
        out.put_u32(self.pid);
    }
}

/// Size of the header in bytes.
pub const HEADER_LEN: usize = SADB_MSG_LEN;
