//! The one error type of the PF_KEY module: malformed messages, socket
//! failures, and the kernel's refusals (`sadb_msg_errno`).
use super::wire::consts::{msg_type_name, SADB_ADD};
use super::wire::Dialect;
use core::fmt;

/// Why a message was refused or a PF_KEY exchange failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PfkeyError {
    /// Fewer bytes than a fixed part or a declared length needs.
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    /// A length field that is zero, not what the structure needs, or past the
    /// enclosing data (`len` in bytes).
    BadLength { what: &'static str, len: usize },
    /// Bytes left over after a structure that must fill its container.
    TrailingData { what: &'static str, len: usize },
    /// `sadb_msg_version` other than 2.
    BadVersion(u8),
    /// `sadb_msg_type` 0 (SADB_RESERVED).
    BadMsgType(u8),
    /// Extension type 0 (SADB_EXT_RESERVED).
    BadExtType(u16),
    /// A known extension type appearing twice (neither kernel allows it).
    DuplicateExt(u16),
    /// A field with a value the layout forbids (address family, prefix length...).
    BadField { what: &'static str, value: u64 },
    /// `socket(PF_KEY, SOCK_RAW, PF_KEY_V2)` failed because this kernel has no
    /// PF_KEY (EAFNOSUPPORT / EPROTONOSUPPORT: `af_key` not built or loaded).
    Unavailable { errno: i32 },
    /// A system call on the PF_KEY socket failed.
    Io { op: &'static str, errno: i32 },
    /// No reply with our sequence number arrived in time.
    Timeout { msg_type: u8, seq: u32 },
    /// A datagram larger than the receive buffer (it was dropped).
    Oversized { len: usize },
    /// The kernel answered with a non-zero `sadb_msg_errno`.
    Kernel(KernelError),
}

/// A refusal from the kernel: the request's type and the errno it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelError {
    pub dialect: Dialect,
    pub msg_type: u8,
    pub errno: i32,
}

/// What a kernel errno means for a keying daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelErrorKind {
    /// EEXIST: the SA or policy is already there.
    Exists,
    /// ENOENT / ESRCH: no such SA or policy (except for SADB_ADD, see
    /// [`KernelErrorKind::AlgorithmMissing`]).
    NotFound,
    /// EINVAL: the kernel refused the message's contents.
    Invalid,
    /// ENOSYS / EPROTONOSUPPORT / ENOPROTOOPT, or ENOENT in reply to SADB_ADD
    /// (the crypto API has no such algorithm): an algorithm or transform
    /// module is missing from the kernel.
    AlgorithmMissing,
    /// ENOMEM / ENOBUFS.
    NoMemory,
    /// EPERM / EACCES.
    PermissionDenied,
    /// EBUSY / EAGAIN.
    Busy,
    Other,
}

impl KernelErrorKind {
    /// What `errno` means in reply to a request; `adds_sa` says whether the
    /// request installs an SA, where ENOENT is the crypto API's "no such
    /// algorithm" rather than "no such SA". Both kernel interfaces answer
    /// with the same errnos, so PF_KEY and XFRM share this one table.
    pub(crate) fn classify(errno: i32, adds_sa: bool) -> KernelErrorKind {
        match errno {
            libc::EEXIST => KernelErrorKind::Exists,
            libc::ENOENT if adds_sa => KernelErrorKind::AlgorithmMissing,
            libc::ENOENT | libc::ESRCH => KernelErrorKind::NotFound,
            libc::EINVAL => KernelErrorKind::Invalid,
            libc::ENOSYS | libc::EPROTONOSUPPORT | libc::ENOPROTOOPT => {
                KernelErrorKind::AlgorithmMissing
            }
            libc::ENOMEM | libc::ENOBUFS => KernelErrorKind::NoMemory,
            libc::EPERM | libc::EACCES => KernelErrorKind::PermissionDenied,
            libc::EBUSY | libc::EAGAIN => KernelErrorKind::Busy,
            _ => KernelErrorKind::Other,
        }
    }
}

impl KernelError {
    /// ENOENT means a missing algorithm only in reply to SADB_ADD.
    pub fn kind(&self) -> KernelErrorKind {
        KernelErrorKind::classify(self.errno, self.msg_type == SADB_ADD)
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kernel refused {}: {}",
            msg_type_name(self.dialect, self.msg_type),
            ErrnoText(self.errno)
        )?;
        if self.kind() == KernelErrorKind::AlgorithmMissing {
            f.write_str(" (the kernel lacks this algorithm or transform; module not loaded?)")?;
        }
        Ok(())
    }
}

/// The symbolic name of an errno value, if it is one we know.
pub fn errno_name(errno: i32) -> Option<&'static str> {
    Some(match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ENOSYS => "ENOSYS",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::ENOPROTOOPT => "ENOPROTOOPT",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::ENOBUFS => "ENOBUFS",
        libc::ETIMEDOUT => "ETIMEDOUT",
        _ => return None,
    })
}

/// `strerror` text plus the symbolic name: "File exists (EEXIST)".
pub(crate) struct ErrnoText(pub(crate) i32);

impl fmt::Display for ErrnoText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = std::io::Error::from_raw_os_error(self.0).to_string();
        let suffix = format!(" (os error {})", self.0);
        let text = full.strip_suffix(suffix.as_str()).unwrap_or(&full);
        match errno_name(self.0) {
            Some(name) => write!(f, "{text} ({name})"),
            None => write!(f, "{text} (errno {})", self.0),
        }
    }
}

impl fmt::Display for PfkeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PfkeyError::Truncated { what, need, have } => {
                write!(f, "PF_KEY {what} truncated: need {need} bytes, have {have}")
            }
            PfkeyError::BadLength { what, len } => {
                write!(f, "PF_KEY {what} has impossible length {len}")
            }
            PfkeyError::TrailingData { what, len } => {
                write!(f, "PF_KEY {what} has {len} unexpected trailing bytes")
            }
            PfkeyError::BadVersion(v) => write!(f, "PF_KEY version {v}, expected 2"),
            PfkeyError::BadMsgType(t) => write!(f, "invalid PF_KEY message type {t}"),
            PfkeyError::BadExtType(t) => write!(f, "invalid PF_KEY extension type {t}"),
            PfkeyError::DuplicateExt(t) => write!(f, "PF_KEY extension type {t} appears twice"),
            PfkeyError::BadField { what, value } => write!(f, "PF_KEY bad {what} {value}"),
            PfkeyError::Unavailable { errno } => write!(
                f,
                "PF_KEY is not available in this kernel (load af_key?): {}",
                ErrnoText(*errno)
            ),
            PfkeyError::Io { op, errno } => {
                write!(f, "PF_KEY {op} failed: {}", ErrnoText(*errno))
            }
            PfkeyError::Timeout { msg_type, seq } => write!(
                f,
                "no PF_KEY reply to message type {msg_type} (seq {seq}) in time"
            ),
            PfkeyError::Oversized { len } => {
                write!(
                    f,
                    "PF_KEY message of {len} bytes exceeds the receive buffer"
                )
            }
            PfkeyError::Kernel(k) => k.fmt(f),
        }
    }
}

impl std::error::Error for PfkeyError {}

impl From<KernelError> for PfkeyError {
    fn from(k: KernelError) -> PfkeyError {
        PfkeyError::Kernel(k)
    }
}

crate::sys_socket::codec_error_from_shared!(PfkeyError);
