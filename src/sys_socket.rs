//! The system calls PF_KEY and XFRM netlink sockets share: opening a raw
//! socket, sending one datagram, waiting for readability with a deadline
//! and receiving one datagram without blocking. Each `unsafe` block carries
//! its `SAFETY` reason; the codecs' sockets only see [`OsError`].
#![allow(unsafe_code)]
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

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A failed system call: which one, and its errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OsError {
    pub(crate) op: &'static str,
    pub(crate) errno: i32,
}

/// The calling thread's errno (EIO if the OS reported none).
pub(crate) fn last_errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn last_error(op: &'static str) -> OsError {
    OsError {
        op,
        errno: last_errno(),
    }
}

/// `socket(domain, ty, protocol)`, owned (closed on drop).
pub(crate) fn socket(domain: i32, ty: i32, protocol: i32) -> Result<OwnedFd, OsError> {
    // SAFETY: socket(2) takes plain integers and touches no memory of ours.
    let fd = unsafe { libc::socket(domain, ty, protocol) };
    if fd < 0 {
        return Err(last_error("socket"));
    }
    // SAFETY: `fd` was just returned by socket(2), is valid and owned by
    // nobody else; OwnedFd closes it exactly once.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Writes `bytes` as one datagram, retrying on EINTR; a short write is
/// EMSGSIZE.
pub(crate) fn send(fd: BorrowedFd<'_>, bytes: &[u8]) -> Result<(), OsError> {
    loop {
        // SAFETY: the pointer and length describe `bytes`, a live slice
        // the kernel only reads during the call.
        let n = unsafe {
            libc::send(
                fd.as_raw_fd(),
                bytes.as_ptr().cast::<libc::c_void>(),
                bytes.len(),
                0,
            )
        };
        if n < 0 {
            let errno = last_errno();
            if errno == libc::EINTR {
                continue;
            }
            return Err(OsError { op: "send", errno });
        }
        if usize::try_from(n).ok() != Some(bytes.len()) {
            return Err(OsError {
                op: "send (short write)",
                errno: libc::EMSGSIZE,
            });
        }
        return Ok(());
    }
}

/// Waits up to `timeout` (`None`: forever) for `fd` to be readable; EINTR
/// resumes the wait with what is left of it.
pub(crate) fn wait_readable(
    fd: BorrowedFd<'_>,
    timeout: Option<Duration>,
) -> Result<bool, OsError> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let ms: i32 = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up so a sub-millisecond wait does not spin.
                let ms = left.as_micros().div_ceil(1000);
                i32::try_from(ms).unwrap_or(i32::MAX)
            }
        };
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `pfd` is one live, initialised pollfd and nfds is 1.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let errno = last_errno();
            if errno == libc::EINTR {
                continue;
            }
            return Err(OsError { op: "poll", errno });
        }
        if rc > 0 {
            return Ok(true);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(false);
        }
    }
}

/// Receives one datagram into `buf` without waiting (MSG_DONTWAIT), and
/// the sender's netlink address into `from` if given. Returns the
/// datagram's real size (MSG_TRUNC: it may exceed `buf.len()`, which the
/// caller reports as oversized), or `None` when nothing is queued (EAGAIN)
/// or a signal interrupted the call.
pub(crate) fn recv(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    from: Option<&mut libc::sockaddr_nl>,
) -> Result<Option<usize>, OsError> {
    let mut from_len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
    let (addr, addr_len) = match from {
        Some(a) => (
            std::ptr::addr_of_mut!(*a).cast::<libc::sockaddr>(),
            std::ptr::addr_of_mut!(from_len),
        ),
        None => (std::ptr::null_mut(), std::ptr::null_mut()),
    };
    // SAFETY: the buffer pointer and length describe `buf`, which we borrow
    // exclusively; `addr` / `addr_len` are either both null (no address
    // wanted) or describe a live sockaddr_nl and its size. The kernel writes
    // at most the given lengths.
    let n = unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast::<libc::c_void>(),
            buf.len(),
            libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            addr,
            addr_len,
        )
    };
    if n < 0 {
        let errno = last_errno();
        return match errno {
            libc::EAGAIN | libc::EINTR => Ok(None),
            _ => Err(OsError { op: "recv", errno }),
        };
    }
    Ok(Some(usize::try_from(n).unwrap_or(0)))
}

/// A process-wide sequence number source for one kind of kernel socket:
/// numbers are unique across that kind's sockets, so replies the kernel
/// broadcasts cannot be taken for another socket's, and never 0 (which
/// marks events and the end of dumps).
pub(crate) struct SeqCounter(AtomicU32);

impl SeqCounter {
    pub(crate) const fn new() -> SeqCounter {
        SeqCounter(AtomicU32::new(1))
    }

    /// A fresh sequence number, skipping 0 on wrap-around.
    pub(crate) fn next(&self) -> u32 {
        loop {
            let s = self.0.fetch_add(1, Ordering::Relaxed);
            if s != 0 {
                return s;
            }
        }
    }
}

/// `From` conversions of the shared layers' errors ([`OsError`] and
/// [`crate::wire_bytes::BytesError`]) into a kernel codec's error enum,
/// which has `Io`, `Truncated` and `TrailingData` variants of their shape.
macro_rules! codec_error_from_shared {
    ($codec:ident) => {
        impl From<$crate::sys_socket::OsError> for $codec {
            fn from(e: $crate::sys_socket::OsError) -> $codec {
                let $crate::sys_socket::OsError { op, errno } = e;
                $codec::Io { op, errno }
            }
        }

        impl From<$crate::wire_bytes::BytesError> for $codec {
            fn from(e: $crate::wire_bytes::BytesError) -> $codec {
                use $crate::wire_bytes::BytesError;
                match e {
                    BytesError::Truncated { what, need, have } => {
                        $codec::Truncated { what, need, have }
                    }
                    BytesError::TrailingData { what, len } => $codec::TrailingData { what, len },
                }
            }
        }
    };
}
pub(crate) use codec_error_from_shared;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_are_fresh_and_skip_zero() {
        let c = SeqCounter(AtomicU32::new(u32::MAX));
        assert_eq!(c.next(), u32::MAX);
        assert_eq!(c.next(), 1, "0 is skipped on wrap-around");
        assert_eq!(c.next(), 2);
    }
}
