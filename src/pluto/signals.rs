//! SIGTERM, SIGINT and SIGHUP arrive through a signalfd, so the event loop
//! sees them as readable events instead of interrupting it.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub struct Signals {
    fd: OwnedFd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Term,
    Hup,
    Other(u32),
}

impl Signals {
    /// Blocks the signals for normal delivery and opens a signalfd for them.
    pub fn new() -> io::Result<Signals> {
        // SAFETY: sigset operations on a zeroed local set; sigprocmask and
        // signalfd take valid pointers to it; the returned fd is owned below.
        let fd = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for s in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
                libc::sigaddset(&mut set, s);
            }
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            OwnedFd::from_raw_fd(fd)
        };
        // Broken whack connections must give EPIPE, not kill the daemon.
        // SAFETY: setting a signal disposition to SIG_IGN has no other effect.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        Ok(Signals { fd })
    }

    /// The signals that arrived since the last call.
    pub fn drain(&self) -> Vec<Signal> {
        let mut out = Vec::new();
        loop {
            // SAFETY: signalfd_siginfo is plain data; read writes at most its size.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: reading into a properly sized, writable buffer from our own fd.
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    (&mut info as *mut libc::signalfd_siginfo).cast(),
                    size,
                )
            };
            if n != size as isize {
                break;
            }
            out.push(match info.ssi_signo as i32 {
                libc::SIGTERM | libc::SIGINT => Signal::Term,
                libc::SIGHUP => Signal::Hup,
                other => Signal::Other(other as u32),
            });
        }
        out
    }
}

impl AsRawFd for Signals {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
