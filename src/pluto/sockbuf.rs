//! Socket buffers of the IKE sockets. A gateway that reboots with a
//! thousand peers, or a thousand road warriors coming back at once, gets a
//! burst of first messages faster than one loop pass answers them; with
//! Linux's default buffer (about 90 datagrams) the rest is dropped and each
//! peer waits out its retransmission timer (10 s or more). The buffers are
//! sized for bursts of a few thousand datagrams instead.

use std::io;
use std::os::fd::AsRawFd;

/// Receive buffer: room for about 3 600 IKE datagrams (the kernel counts
/// each at its allocation size, some 2.3 KB for a small datagram).
pub const RECEIVE: usize = 8 << 20;
/// Send buffer: a loop pass may answer a whole burst at once.
pub const SEND: usize = 2 << 20;

/// Sets both buffers, past `net.core.[rw]mem_max` where pluto may (it runs
/// as root: the `FORCE` options), else as far as the limits allow.
pub fn enlarge(sock: &impl AsRawFd) -> io::Result<()> {
    set(sock, libc::SO_RCVBUFFORCE, libc::SO_RCVBUF, RECEIVE)?;
    set(sock, libc::SO_SNDBUFFORCE, libc::SO_SNDBUF, SEND)
}

fn set(sock: &impl AsRawFd, force: libc::c_int, plain: libc::c_int, size: usize) -> io::Result<()> {
    // The kernel doubles the value for its bookkeeping.
    let val = libc::c_int::try_from(size / 2).unwrap_or(libc::c_int::MAX);
    let bytes = val.to_ne_bytes();
    match super::bypass::setsockopt(sock, libc::SOL_SOCKET, force, &bytes) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            super::bypass::setsockopt(sock, libc::SOL_SOCKET, plain, &bytes)
        }
        r => r,
    }
}
