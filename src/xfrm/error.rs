//! The one error type of the XFRM module: malformed messages, socket
//! failures, and the kernel's refusals (NLMSG_ERROR with a negative errno).
use super::wire::consts::{msg_type_name, XFRM_MSG_NEWSA, XFRM_MSG_UPDSA};
use crate::pfkey::{ErrnoText, KernelErrorKind};
use core::fmt;

/// Why a message was refused or an XFRM exchange failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XfrmError {
    /// Fewer bytes than a fixed part or a declared length needs.
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    /// A length field below its minimum, not what the structure needs, or
    /// past the enclosing data (`len` in bytes).
    BadLength { what: &'static str, len: usize },
    /// Bytes left over after a structure that must fill its container.
    TrailingData { what: &'static str, len: usize },
    /// A field with a value the layout forbids (name without NUL, bitmap
    /// length not matching...).
    BadField { what: &'static str, value: u64 },
    /// A known attribute type appearing twice in one message (the kernel
    /// never sends that; it would silently keep the last one).
    DuplicateAttr(u16),
    /// `socket(AF_NETLINK, SOCK_RAW, NETLINK_XFRM)` failed because this
    /// kernel has no XFRM netlink (EPROTONOSUPPORT / EAFNOSUPPORT).
    Unavailable { errno: i32 },
    /// A system call on the netlink socket failed.
    Io { op: &'static str, errno: i32 },
    /// No reply with our sequence number arrived in time.
    Timeout { msg_type: u16, seq: u32 },
    /// A datagram larger than the receive buffer (it was dropped).
    Oversized { len: usize },
    /// The kernel answered with NLMSG_ERROR carrying a non-zero errno.
    Kernel(KernelError),
}

impl XfrmError {
    /// Whether the bytes were at fault (as opposed to the socket or kernel).
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            XfrmError::Truncated { .. }
                | XfrmError::BadLength { .. }
                | XfrmError::TrailingData { .. }
                | XfrmError::BadField { .. }
                | XfrmError::DuplicateAttr(_)
        )
    }
}

/// A refusal from the kernel: the request's type, the (positive) errno and
/// the extended-ack text the kernel attached, if any ("Requested CRYPT
/// algorithm not found").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    pub msg_type: u16,
    pub errno: i32,
    pub message: Option<String>,
}

impl KernelError {
    /// The same classification as PF_KEY's. XFRM reports a missing
    /// algorithm or transform with ENOSYS / EPROTONOSUPPORT, and a missing
    /// ESP/AH/IPCOMP type with ENOENT on NEWSA/UPDSA.
    pub fn kind(&self) -> KernelErrorKind {
        let sa_add = self.msg_type == XFRM_MSG_NEWSA || self.msg_type == XFRM_MSG_UPDSA;
        KernelErrorKind::classify(self.errno, sa_add)
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kernel refused {}: {}",
            msg_type_name(self.msg_type),
            ErrnoText(self.errno)
        )?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        if self.kind() == KernelErrorKind::AlgorithmMissing {
            f.write_str(" (the kernel lacks this algorithm or transform; module not loaded?)")?;
        }
        Ok(())
    }
}

impl fmt::Display for XfrmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XfrmError::Truncated { what, need, have } => {
                write!(f, "XFRM {what} truncated: need {need} bytes, have {have}")
            }
            XfrmError::BadLength { what, len } => {
                write!(f, "XFRM {what} has impossible length {len}")
            }
            XfrmError::TrailingData { what, len } => {
                write!(f, "XFRM {what} has {len} unexpected trailing bytes")
            }
            XfrmError::BadField { what, value } => write!(f, "XFRM bad {what} {value}"),
            XfrmError::DuplicateAttr(t) => write!(f, "XFRM attribute type {t} appears twice"),
            XfrmError::Unavailable { errno } => write!(
                f,
                "XFRM netlink is not available in this kernel (CONFIG_XFRM_USER?): {}",
                ErrnoText(*errno)
            ),
            XfrmError::Io { op, errno } => {
                write!(f, "XFRM netlink {op} failed: {}", ErrnoText(*errno))
            }
            XfrmError::Timeout { msg_type, seq } => write!(
                f,
                "no XFRM reply to {} (seq {seq}) in time",
                msg_type_name(*msg_type)
            ),
            XfrmError::Oversized { len } => write!(
                f,
                "XFRM netlink datagram of {len} bytes exceeds the receive buffer"
            ),
            XfrmError::Kernel(k) => k.fmt(f),
        }
    }
}

impl std::error::Error for XfrmError {}

impl From<KernelError> for XfrmError {
    fn from(k: KernelError) -> XfrmError {
        XfrmError::Kernel(k)
    }
}

crate::sys_socket::codec_error_from_shared!(XfrmError);
