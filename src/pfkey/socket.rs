//! The PF_KEY socket: request/reply by sequence number over the system
//! calls of [`crate::sys_socket`] (this module has no `unsafe` of its own).

use super::error::{KernelError, PfkeyError};
use super::wire::consts::PF_KEY_V2;
use super::wire::{Dialect, Message, Result};
use crate::sys_socket;
use std::collections::VecDeque;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// Receive buffer size. Messages are at most 65535 words long; in practice
/// the largest (SPDDUMP entries, REGISTER replies) are a few KiB.
const RECV_BUF: usize = 64 * 1024;
/// Most unrelated messages kept while waiting for a reply.
const MAX_QUEUED: usize = 1024;
/// Default time to wait for a reply.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Sequence numbers are unique across all PF_KEY sockets of the process, so
/// replies the kernel broadcasts to every socket cannot be mistaken for
/// another socket's.
static NEXT_SEQ: sys_socket::SeqCounter = sys_socket::SeqCounter::new();

/// A fresh sequence number (never 0: dump replies end with seq 0).
pub fn next_seq() -> u32 {
    NEXT_SEQ.next()
}

/// `socket(PF_KEY, SOCK_RAW, PF_KEY_V2)` with the messages it sent and the
/// unrelated ones it received on the way.
#[derive(Debug)]
pub struct PfkeySocket {
    fd: OwnedFd,
    pid: u32,
    dialect: Dialect,
    timeout: Duration,
    buf: Vec<u8>,
    queue: VecDeque<Message>,
}

impl PfkeySocket {
    /// A blocking, close-on-exec Linux PF_KEY socket.
    pub fn open() -> Result<PfkeySocket> {
        PfkeySocket::open_with(false, Dialect::Linux)
    }

    /// Opens the socket (close-on-exec, non-blocking if asked: receiving
    /// polls first anyway, so either works with [`PfkeySocket::request`]).
    /// EAFNOSUPPORT / EPROTONOSUPPORT become [`PfkeyError::Unavailable`].
    pub fn open_with(nonblocking: bool, dialect: Dialect) -> Result<PfkeySocket> {
        let mut ty = libc::SOCK_RAW | libc::SOCK_CLOEXEC;
        if nonblocking {
            ty |= libc::SOCK_NONBLOCK;
        }
        let fd = sys_socket::socket(libc::PF_KEY, ty, i32::from(PF_KEY_V2)).map_err(|e| match e
            .errno
        {
            libc::EAFNOSUPPORT | libc::EPROTONOSUPPORT => {
                PfkeyError::Unavailable { errno: e.errno }
            }
            _ => PfkeyError::from(e),
        })?;
        Ok(PfkeySocket {
            fd,
            pid: std::process::id(),
            dialect,
            timeout: DEFAULT_TIMEOUT,
            buf: vec![0; RECV_BUF],
            queue: VecDeque::new(),
        })
    }

    /// The pid written into every message we send.
    /// A second handle on the same socket (the same registrations and
    /// queue of the kernel), for a thread that only writes to it.
    pub fn try_clone(&self) -> Result<PfkeySocket> {
        let fd = self.fd.try_clone().map_err(|e| PfkeyError::Io {
            op: "dup",
            errno: e.raw_os_error().unwrap_or(libc::EIO),
        })?;
        Ok(PfkeySocket {
            fd,
            pid: self.pid,
            dialect: self.dialect,
            timeout: self.timeout,
            buf: vec![0; self.buf.len()],
            queue: VecDeque::new(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// How long [`PfkeySocket::request`] waits for a reply.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Messages received while waiting for replies, not yet taken by
    /// [`PfkeySocket::recv_any`].
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Stamps `msg` with our pid and a fresh sequence number and writes it.
    /// Returns the sequence number.
    pub fn send(&mut self, msg: &mut Message) -> Result<u32> {
        let seq = next_seq();
        msg.header.seq = seq;
        msg.header.pid = self.pid;
        self.send_raw(&msg.emit())?;
        Ok(seq)
    }

    /// Writes one already-encoded message as is.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        Ok(sys_socket::send(self.fd.as_fd(), bytes)?)
    }

    /// Reads the next datagram from the socket itself (the queue is not
    /// consulted). `Ok(None)` when nothing arrived within `timeout`.
    pub fn recv(&mut self, timeout: Option<Duration>) -> Result<Option<Message>> {
        if !sys_socket::wait_readable(self.fd.as_fd(), timeout)? {
            return Ok(None);
        }
        let Some(len) = sys_socket::recv(self.fd.as_fd(), &mut self.buf, None)? else {
            return Ok(None);
        };
        let Some(bytes) = self.buf.get(..len) else {
            return Err(PfkeyError::Oversized { len });
        };
        Message::parse_dialect(bytes, self.dialect).map(Some)
    }

    /// The next message not yet consumed: a queued one first, else one from
    /// the socket (ACQUIRE, EXPIRE, NEW_MAPPING, other daemons' broadcasts).
    pub fn recv_any(&mut self, timeout: Option<Duration>) -> Result<Option<Message>> {
        match self.queue.pop_front() {
            Some(m) => Ok(Some(m)),
            None => self.recv(timeout),
        }
    }

    fn enqueue(&mut self, m: Message) {
        if self.queue.len() >= MAX_QUEUED {
            if let Some(old) = self.queue.pop_front() {
                log::warn!("PF_KEY queue full, dropping {}", old.summary());
            }
        }
        self.queue.push_back(m);
    }

    /// Reads until the reply to (`msg_type`, `seq`) arrives, queueing the
    /// rest; a malformed datagram is logged and skipped.
    fn wait_reply(&mut self, msg_type: u8, seq: u32) -> Result<Message> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PfkeyError::Timeout { msg_type, seq });
            }
            let m = match self.recv(Some(left)) {
                Ok(Some(m)) => m,
                Ok(None) => continue,
                Err(e @ (PfkeyError::Io { .. } | PfkeyError::Unavailable { .. })) => return Err(e),
                Err(e) => {
                    log::warn!("ignoring malformed PF_KEY message: {e}");
                    continue;
                }
            };
            let h = &m.header;
            if h.seq == seq && h.pid == self.pid && h.msg_type == msg_type {
                return Ok(m);
            }
            self.enqueue(m);
        }
    }

    /// A reply as the answer it is: the message, or the kernel's refusal
    /// when `sadb_msg_errno` is set.
    pub fn check(&self, m: Message) -> Result<Message> {
        if m.header.errno == 0 {
            Ok(m)
        } else {
            Err(PfkeyError::Kernel(KernelError {
                dialect: self.dialect,
                msg_type: m.header.msg_type,
                errno: i32::from(m.header.errno),
            }))
        }
    }

    /// Sends `msg` and waits for the kernel's answer (same type, seq and
    /// pid); other messages read meanwhile are queued for
    /// [`PfkeySocket::recv_any`]. A non-zero `sadb_msg_errno` becomes
    /// [`PfkeyError::Kernel`].
    pub fn request(&mut self, mut msg: Message) -> Result<Message> {
        let msg_type = msg.header.msg_type;
        let seq = self.send(&mut msg)?;
        let reply = self.wait_reply(msg_type, seq)?;
        self.check(reply)
    }

    /// Sends a DUMP / X_SPDDUMP and collects the entries until the one with
    /// seq 0 that ends it (entries carry our pid, not our seq). An ENOENT
    /// answer means an empty table.
    pub fn request_dump(&mut self, mut msg: Message) -> Result<Vec<Message>> {
        let msg_type = msg.header.msg_type;
        let seq = self.send(&mut msg)?;
        let mut out = Vec::new();
        loop {
            let deadline = Instant::now() + self.timeout;
            let m = loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(PfkeyError::Timeout { msg_type, seq });
                }
                match self.recv(Some(left)) {
                    Ok(Some(m)) if m.header.pid == self.pid && m.header.msg_type == msg_type => {
                        break m
                    }
                    Ok(Some(m)) => self.enqueue(m),
                    Ok(None) => {}
                    Err(e @ PfkeyError::Io { .. }) => return Err(e),
                    Err(e) => log::warn!("ignoring malformed PF_KEY message: {e}"),
                }
            };
            if i32::from(m.header.errno) == libc::ENOENT && m.exts.is_empty() {
                return Ok(out);
            }
            let last = m.header.seq == 0;
            let m = self.check(m)?;
            out.push(m);
            if last {
                return Ok(out);
            }
        }
    }
}

impl AsRawFd for PfkeySocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for PfkeySocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
