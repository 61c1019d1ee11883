//! The system calls of `ipsec tncfg`, and the only `unsafe` code of the
//! module: the KLIPS ioctl on an AF_INET datagram socket, and an
//! rtnetlink socket (open, set two options, send, receive).
#![allow(unsafe_code)]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

fn last_errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Takes ownership of a descriptor a system call just returned.
fn owned(fd: libc::c_int) -> Result<OwnedFd, i32> {
    if fd < 0 {
        return Err(last_errno());
    }
    // SAFETY: `fd` was just returned by socket(2), is valid and owned by
    // nobody else; OwnedFd closes it exactly once.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Where a KLIPS ioctl failed: creating the socket or the ioctl itself;
/// both carry the errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoctlFailure {
    Socket(i32),
    Ioctl(i32),
}

/// `ioctl(socket(AF_INET, SOCK_DGRAM, 0), cmd, ifreq)`: the KLIPS device
/// ioctls take a `struct ifreq` (40 bytes on Linux).
pub fn klips_ioctl(cmd: u32, ifreq: &mut [u8; 40]) -> Result<(), IoctlFailure> {
    // SAFETY: socket(2) takes plain integers and touches no memory of ours.
    let fd =
        owned(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })
            .map_err(IoctlFailure::Socket)?;
    // SAFETY: `ifreq` is a live, writable buffer of sizeof(struct ifreq)
    // bytes, which is all the kernel reads or writes for these commands.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), cmd as _, ifreq.as_mut_ptr()) };
    if rc < 0 {
        return Err(IoctlFailure::Ioctl(last_errno()));
    }
    Ok(())
}

/// SOL_NETLINK / NETLINK_EXT_ACK (linux/netlink.h): ask for the kernel's
/// error text along with the errno.
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_EXT_ACK: libc::c_int = 11;

/// How long a receive waits: the kernel answers at once, so a silent
/// kernel is an error to report, not a reason to hang a boot script.
const RECV_TIMEOUT_SECS: libc::time_t = 5;

/// A blocking NETLINK_ROUTE socket (receives time out).
pub struct RouteSocket {
    fd: OwnedFd,
}

impl RouteSocket {
    pub fn open() -> Result<RouteSocket, i32> {
        let ty = libc::SOCK_RAW | libc::SOCK_CLOEXEC;
        // SAFETY: socket(2) takes plain integers and touches no memory of ours.
        let fd = owned(unsafe { libc::socket(libc::AF_NETLINK, ty, libc::NETLINK_ROUTE) })?;
        let on: libc::c_int = 1;
        // SAFETY: the pointer and length describe `on`, a live c_int the
        // kernel only reads. Old kernels refuse the option: texts are a
        // nicety, so the result is ignored.
        let _ = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                SOL_NETLINK,
                NETLINK_EXT_ACK,
                (&on as *const libc::c_int).cast::<libc::c_void>(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        let wait = libc::timeval {
            tv_sec: RECV_TIMEOUT_SECS,
            tv_usec: 0,
        };
        // SAFETY: the pointer and length describe `wait`, a live timeval the
        // kernel only reads.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&wait as *const libc::timeval).cast::<libc::c_void>(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(last_errno());
        }
        Ok(RouteSocket { fd })
    }

    /// Sends one message to the kernel (port 0).
    pub fn send(&self, msg: &[u8]) -> Result<(), i32> {
        // SAFETY: sockaddr_nl is plain data; all-zero is a valid value.
        let mut to: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        to.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        loop {
            // SAFETY: the pointers and lengths describe `msg` and `to`,
            // live values the kernel only reads during the call.
            let n = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    msg.as_ptr().cast::<libc::c_void>(),
                    msg.len(),
                    0,
                    (&to as *const libc::sockaddr_nl).cast::<libc::sockaddr>(),
                    std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
                )
            };
            if n >= 0 {
                return Ok(());
            }
            let errno = last_errno();
            if errno != libc::EINTR {
                return Err(errno);
            }
        }
    }

    /// Receives one datagram into `buf`, returning its length; a datagram
    /// larger than `buf` is an error (EMSGSIZE), never silently cut.
    pub fn recv(&self, buf: &mut [u8]) -> Result<usize, i32> {
        loop {
            // SAFETY: the pointer and length describe `buf`, a live,
            // writable slice the kernel fills during the call.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast::<libc::c_void>(),
                    buf.len(),
                    libc::MSG_TRUNC,
                )
            };
            if n < 0 {
                let errno = last_errno();
                if errno == libc::EINTR {
                    continue;
                }
                return Err(errno);
            }
            let n = n as usize;
            return if n > buf.len() {
                Err(libc::EMSGSIZE)
            } else {
                Ok(n)
            };
        }
    }
}
