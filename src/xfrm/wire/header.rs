//! `struct nlmsghdr`, the 16-byte header of every netlink message.
//!
//! ```text
//! offset 0  u32 nlmsg_len    (whole message in bytes, header included,
//!                             not rounded: a FLUSHSA is 17)
//!        4  u16 nlmsg_type
//!        6  u16 nlmsg_flags
//!        8  u32 nlmsg_seq
//!       12  u32 nlmsg_pid    (the sender's port id; 0 = the kernel)
//! ```
use super::bytes::{Put, Reader};
use super::Result;

/// Size of `struct nlmsghdr` (NLMSG_HDRLEN).
pub const NLMSG_HDRLEN: usize = 16;

/// The netlink header without its length (computed on emit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Header {
    pub msg_type: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
}

impl Header {
    pub fn new(msg_type: u16, flags: u16) -> Header {
        Header {
            msg_type,
            flags,
            seq: 0,
            pid: 0,
        }
    }

    /// Parses the first 16 bytes of `buf`; returns the header and the length
    /// it declares.
    pub fn parse(buf: &[u8]) -> Result<(Header, usize)> {
        let mut r = Reader::new(buf, "netlink header");
        let len = r.u32()?;
        let header = Header {
            msg_type: r.u16()?,
            flags: r.u16()?,
            seq: r.u32()?,
            pid: r.u32()?,
        };
        Ok((header, usize::try_from(len).unwrap_or(usize::MAX)))
    }

    /// Appends the header with the given length.
    pub(crate) fn emit(&self, out: &mut Vec<u8>, len: u32) {
        out.put_u32(len);
        out.put_u16(self.msg_type);
        out.put_u16(self.flags);
        out.put_u32(self.seq);
        out.put_u32(self.pid);
    }
}
