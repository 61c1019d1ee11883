//! The XFRM netlink socket: the only `unsafe` code of the XFRM module (the
//! netlink-only `bind`, `getsockname` and `setsockopt` system calls), each
//! block with its `SAFETY` reason; `socket`, `send`, `poll` and `recv` are
//! the ones [`crate::sys_socket`] shares with PF_KEY.
#![allow(unsafe_code)]

use super::error::{KernelError, XfrmError};
use super::wire::consts::{NETLINK_XFRM, NLMSG_DONE, NLMSG_ERROR};
use super::wire::{parse_datagram, Body, Message, Result};
use crate::sys_socket::{self, last_errno};
use std::collections::VecDeque;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// Receive buffer for one datagram. The kernel sizes dump datagrams after
/// the reader's buffer but caps them at 32 KiB; anything larger is
/// reported as [`XfrmError::Oversized`] (MSG_TRUNC gives the real size).
const RECV_BUF: usize = 64 * 1024;
/// The socket's kernel receive queue (SO_RCVBUF): dumps of many SAs and
/// bursts of ACQUIREs must not overflow it (ENOBUFS, messages lost).
const SO_RCVBUF_BYTES: i32 = 1024 * 1024;
/// Most unrelated messages kept while waiting for a reply.
const MAX_QUEUED: usize = 4096;
/// Default time to wait for a reply.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Sequence numbers are unique across the sockets of the process.
static NEXT_SEQ: sys_socket::SeqCounter = sys_socket::SeqCounter::new();

/// A fresh sequence number (never 0: events carry seq 0).
pub fn next_seq() -> u32 {
    NEXT_SEQ.next()
}

fn sockaddr_nl() -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is plain integers; all-zero is a valid value
    // (family set below, pid 0 = let the kernel pick, no groups).
    let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    sa
}

/// `socket(AF_NETLINK, SOCK_RAW, NETLINK_XFRM)`, bound, with the messages
/// received but not yet taken.
#[derive(Debug)]
pub struct XfrmSocket {
    fd: OwnedFd,
    port_id: u32,
    timeout: Duration,
    buf: Vec<u8>,
    queue: VecDeque<Message>,
}

impl XfrmSocket {
    /// A close-on-exec XFRM socket. Reading never blocks the thread longer
    /// than asked ([`XfrmSocket::recv`] polls first, [`XfrmSocket::recv_any`]
    /// does not wait), so the same socket serves blocking requests and an
    /// event loop. EPROTONOSUPPORT / EAFNOSUPPORT become
    /// [`XfrmError::Unavailable`].
    pub fn open() -> Result<XfrmSocket> {
        let fd = sys_socket::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            NETLINK_XFRM,
        )
        .map_err(|e| match e.errno {
            libc::EAFNOSUPPORT | libc::EPROTONOSUPPORT => XfrmError::Unavailable { errno: e.errno },
            _ => XfrmError::from(e),
        })?;
        let mut s = XfrmSocket {
            fd,
            port_id: 0,
            timeout: DEFAULT_TIMEOUT,
            buf: vec![0; RECV_BUF],
            queue: VecDeque::new(),
        };
        // A larger queue is an optimisation: SO_RCVBUFFORCE needs
        // CAP_NET_ADMIN (which XFRM needs anyway), SO_RCVBUF is capped by
        // net.core.rmem_max; neither failing is fatal.
        if s.setsockopt(
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            SO_RCVBUF_BYTES,
            "SO_RCVBUFFORCE",
        )
        .is_err()
        {
            let _ = s.setsockopt(
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                SO_RCVBUF_BYTES,
                "SO_RCVBUF",
            );
        }
        // Extended acks carry the kernel's reason ("Requested CRYPT
        // algorithm not found"); capped acks do not echo our request back.
        let _ = s.setsockopt(
            libc::SOL_NETLINK,
            libc::NETLINK_EXT_ACK,
            1,
            "NETLINK_EXT_ACK",
        );
        let _ = s.setsockopt(
            libc::SOL_NETLINK,
            libc::NETLINK_CAP_ACK,
            1,
            "NETLINK_CAP_ACK",
        );
        s.bind()?;
        Ok(s)
    }

    fn setsockopt(&self, level: i32, name: i32, value: i32, op: &'static str) -> Result<()> {
        // SAFETY: the pointer and length describe `value`, a live i32 the
        // kernel only reads during the call.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                std::ptr::addr_of!(value).cast::<libc::c_void>(),
                std::mem::size_of::<i32>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(XfrmError::Io {
                op,
                errno: last_errno(),
            });
        }
        Ok(())
    }

    /// Binds to a kernel-chosen port id and reads it back: replies carry it
    /// in `nlmsg_pid` (it is the process id only for the first socket).
    fn bind(&mut self) -> Result<()> {
        let sa = sockaddr_nl();
        let len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        // SAFETY: `sa` is a live, initialised sockaddr_nl and `len` its size.
        let rc = unsafe {
            libc::bind(
                self.fd.as_raw_fd(),
                std::ptr::addr_of!(sa).cast::<libc::sockaddr>(),
                len,
            )
        };
        if rc < 0 {
            return Err(XfrmError::Io {
                op: "bind",
                errno: last_errno(),
            });
        }
        let mut got = sockaddr_nl();
        let mut got_len = len;
        // SAFETY: `got` is a live sockaddr_nl we own and `got_len` its size;
        // the kernel writes at most `got_len` bytes and updates `got_len`.
        let rc = unsafe {
            libc::getsockname(
                self.fd.as_raw_fd(),
                std::ptr::addr_of_mut!(got).cast::<libc::sockaddr>(),
                &mut got_len,
            )
        };
        if rc < 0 {
            return Err(XfrmError::Io {
                op: "getsockname",
                errno: last_errno(),
            });
        }
        self.port_id = got.nl_pid;
        Ok(())
    }

    /// Joins multicast groups (XFRMNLGRP_ACQUIRE, XFRMNLGRP_EXPIRE...;
    /// POLEXPIRE arrives on XFRMNLGRP_EXPIRE). Needs CAP_NET_ADMIN.
    pub fn subscribe(&mut self, groups: &[u32]) -> Result<()> {
        for &g in groups {
            let g = i32::try_from(g).map_err(|_| XfrmError::Io {
                op: "NETLINK_ADD_MEMBERSHIP",
                errno: libc::EINVAL,
            })?;
            self.setsockopt(
                libc::SOL_NETLINK,
                libc::NETLINK_ADD_MEMBERSHIP,
                g,
                "NETLINK_ADD_MEMBERSHIP",
            )?;
        }
        Ok(())
    }

    /// The port id the kernel gave this socket (`nlmsg_pid` of replies).
    pub fn port_id(&self) -> u32 {
        self.port_id
    }

    /// How long [`XfrmSocket::request`] waits for a reply.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Messages received while waiting for replies, not yet taken by
    /// [`XfrmSocket::recv_any`].
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Stamps `msg` with a fresh sequence number (pid 0, as iproute2: the
    /// kernel knows the sender) and writes it; never waits for an answer.
    /// Returns the sequence number, which the answer will carry.
    pub fn send(&mut self, msg: &mut Message) -> Result<u32> {
        let seq = next_seq();
        msg.header.seq = seq;
        msg.header.pid = 0;
        self.send_raw(&msg.emit())?;
        Ok(seq)
    }

    /// Writes one already-encoded message as is.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        Ok(sys_socket::send(self.fd.as_fd(), bytes)?)
    }

    /// Waits up to `timeout` (`None`: forever) for the socket to be readable.
    fn wait_readable(&self, timeout: Option<Duration>) -> Result<bool> {
        Ok(sys_socket::wait_readable(self.fd.as_fd(), timeout)?)
    }

    /// Reads one datagram without waiting and queues its messages. Returns
    /// whether one was read. Datagrams not from the kernel are ignored.
    fn read_datagram(&mut self) -> Result<bool> {
        let mut from = sockaddr_nl();
        let Some(len) = sys_socket::recv(self.fd.as_fd(), &mut self.buf, Some(&mut from))? else {
            return Ok(false);
        };
        let Some(bytes) = self.buf.get(..len) else {
            return Err(XfrmError::Oversized { len });
        };
        if from.nl_pid != 0 {
            log::warn!("ignoring netlink datagram from port {}", from.nl_pid);
            return Ok(true);
        }
        let msgs = parse_datagram(bytes)?;
        for m in msgs {
            self.enqueue(m);
        }
        Ok(true)
    }

    fn enqueue(&mut self, m: Message) {
        if self.queue.len() >= MAX_QUEUED {
            if let Some(old) = self.queue.pop_front() {
                log::warn!("XFRM queue full, dropping {}", old.summary());
            }
        }
        self.queue.push_back(m);
    }

    /// The next message that arrived (a reply to [`XfrmSocket::send`] or an
    /// event of a subscribed group), without waiting: `Ok(None)` when there
    /// is nothing. For an event loop polling [`AsRawFd::as_raw_fd`]. A
    /// malformed datagram is an error (the next call goes on); ENOBUFS
    /// means the kernel dropped events because the queue overflowed.
    pub fn recv_any(&mut self) -> Result<Option<Message>> {
        // `None` only once the socket would block, so an edge-triggered
        // poller that drains until `None` never misses a datagram.
        loop {
            if let Some(m) = self.queue.pop_front() {
                return Ok(Some(m));
            }
            if !self.read_datagram()? {
                return Ok(None);
            }
        }
    }

    /// As [`XfrmSocket::recv_any`], waiting up to `timeout` (`None`:
    /// forever) for something to arrive.
    pub fn recv(&mut self, timeout: Option<Duration>) -> Result<Option<Message>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if let Some(m) = self.recv_any()? {
                return Ok(Some(m));
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) || !self.wait_readable(left)? {
                return Ok(None);
            }
        }
    }

    /// Reads until a message with our `seq` and port id arrives; others are
    /// kept for [`XfrmSocket::recv_any`]. Malformed datagrams are logged and
    /// skipped, so are lost events (ENOBUFS).
    fn wait_for(&mut self, msg_type: u16, seq: u32, deadline: Instant) -> Result<Message> {
        let mut pos = 0;
        loop {
            if let Some(i) = self
                .queue
                .iter()
                .skip(pos)
                .position(|m| m.header.seq == seq && m.header.pid == self.port_id)
            {
                if let Some(m) = self.queue.remove(pos + i) {
                    return Ok(m);
                }
            }
            pos = self.queue.len();
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.wait_readable(Some(left))? {
                return Err(XfrmError::Timeout { msg_type, seq });
            }
            match self.read_datagram() {
                Ok(_) => {}
                Err(XfrmError::Io {
                    errno: libc::ENOBUFS,
                    ..
                }) => log::warn!("XFRM socket overflowed: kernel events were lost"),
                Err(e) if e.is_malformed() => {
                    log::warn!("ignoring malformed XFRM message: {e}")
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The answer `m` to a request of type `msg_type`: the message, or the
    /// kernel's refusal when it is an NLMSG_ERROR with a non-zero errno.
    pub fn check(msg_type: u16, m: Message) -> Result<Message> {
        match Self::kernel_error(msg_type, &m) {
            Some(e) => Err(e),
            None => Ok(m),
        }
    }

    fn kernel_error(msg_type: u16, m: &Message) -> Option<XfrmError> {
        let errno = m.errno()?;
        if errno == 0 {
            return None;
        }
        Some(XfrmError::Kernel(KernelError {
            msg_type,
            errno,
            message: m.ext_ack_msg(),
        }))
    }

    /// Sends `msg` and waits for the kernel's answer: the object for
    /// GETSA / GETPOLICY / ALLOCSPI, the ACK (an NLMSG_ERROR with errno 0)
    /// for changes sent with NLM_F_ACK. A non-zero errno becomes
    /// [`XfrmError::Kernel`].
    pub fn request(&mut self, mut msg: Message) -> Result<Message> {
        let msg_type = msg.header.msg_type;
        let seq = self.send(&mut msg)?;
        let reply = self.wait_for(msg_type, seq, Instant::now() + self.timeout)?;
        match Self::kernel_error(msg_type, &reply) {
            Some(e) => Err(e),
            None => Ok(reply),
        }
    }

    /// Sends a dump request (NLM_F_DUMP) and collects the entries until
    /// NLMSG_DONE. Each wait for the next part has the full timeout.
    pub fn request_dump(&mut self, mut msg: Message) -> Result<Vec<Message>> {
        let msg_type = msg.header.msg_type;
        let seq = self.send(&mut msg)?;
        let mut out = Vec::new();
        loop {
            let m = self.wait_for(msg_type, seq, Instant::now() + self.timeout)?;
            if let Some(e) = Self::kernel_error(msg_type, &m) {
                return Err(e);
            }
            match (&m.body, m.header.msg_type) {
                (Body::Done(_), NLMSG_DONE) => return Ok(out),
                // A stray ACK (the request carried NLM_F_ACK) ends it too.
                (Body::Error(_), NLMSG_ERROR) => return Ok(out),
                _ => out.push(m),
            }
        }
    }
}

impl AsRawFd for XfrmSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for XfrmSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
