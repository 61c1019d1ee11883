//! Forged datagrams for the attack suite (tests/attack.rs): UDP in raw IPv4
//! packets with any source address, sent from inside a network namespace at
//! a paced rate, and a counter of the replies that come back.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Moves the calling thread (only it) into network namespace `ns`.
pub fn enter_netns(ns: &str) -> io::Result<()> {
    let f = File::open(format!("/run/netns/{ns}"))?;
    // SAFETY: setns(2) on a valid descriptor of a namespace file; it changes
    // only this thread's network namespace.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// xorshift64*: cheap, seeded, good enough for cookies and addresses.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn seeded_by_clock() -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15);
        Rng::new(t ^ u64::from(std::process::id()) << 32)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    /// An address in 198.18.0.0/15 (RFC 2544's benchmarking prefix), never
    /// the .0 or .255 of a /24.
    pub fn bench_addr(&mut self) -> Ipv4Addr {
        let v = self.next();
        let host = 1 + (v % 254) as u8;
        let mid = (v >> 8) as u8;
        let hi = 18 + ((v >> 16) & 1) as u8;
        Ipv4Addr::new(198, hi, mid, host)
    }
}

/// An IPv4 packet carrying one UDP datagram. The kernel fills in the IP
/// checksum of a raw packet; the UDP checksum is 0, "none", which IPv4 allows.
pub fn ipv4_udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let total = 20 + udp_len;
    let mut p = Vec::with_capacity(total);
    p.extend_from_slice(&[0x45, 0]);
    p.extend_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x40, 0, 64, libc::IPPROTO_UDP as u8, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&(udp_len as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    p
}

/// A raw IPv4 socket (`IPPROTO_RAW`: the caller writes the IP header).
pub struct RawSender {
    fd: OwnedFd,
}

impl RawSender {
    pub fn new() -> io::Result<RawSender> {
        // SAFETY: socket(2) with constant arguments; the result is checked.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let big: libc::c_int = 4 << 20;
        // SAFETY: setsockopt(2) with a pointer to a c_int and its size.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_SNDBUFFORCE,
                (&big as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
        Ok(RawSender { fd })
    }

    /// Sends `packet` (from [`ipv4_udp`]) to `dst`.
    pub fn send(&self, packet: &[u8], dst: Ipv4Addr) -> io::Result<()> {
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes(dst.octets()),
            },
            sin_zero: [0; 8],
        };
        // SAFETY: the buffer and the sockaddr_in are valid for the lengths given.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                packet.as_ptr().cast(),
                packet.len(),
                0,
                (&sin as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// What one paced run sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sent {
    pub sent: u64,
    pub failed: u64,
    pub elapsed: Duration,
}

impl Sent {
    pub fn rate(&self) -> f64 {
        self.sent as f64 / self.elapsed.as_secs_f64().max(1e-6)
    }
}

/// Sends `count` packets made by `make(i)` (packet, destination) from
/// namespace `ns` at `rate` per second, on a thread of its own. A send the
/// kernel refuses (ENOBUFS under load) is counted, not retried.
pub fn spawn_paced<F>(ns: &str, rate: f64, count: u64, mut make: F) -> JoinHandle<Sent>
where
    F: FnMut(u64) -> (Vec<u8>, Ipv4Addr) + Send + 'static,
{
    let ns = ns.to_string();
    std::thread::spawn(move || {
        enter_netns(&ns).unwrap_or_else(|e| panic!("setns {ns}: {e}"));
        let sock = RawSender::new().unwrap_or_else(|e| panic!("raw socket in {ns}: {e}"));
        let start = Instant::now();
        let mut out = Sent::default();
        for i in 0..count {
            let due = start + Duration::from_secs_f64(i as f64 / rate);
            let now = Instant::now();
            // Sleep only when a millisecond ahead: fewer, longer sleeps keep
            // the rate without a syscall per packet.
            if due > now + Duration::from_millis(1) {
                std::thread::sleep(due - now);
            }
            let (packet, dst) = make(i);
            match sock.send(&packet, dst) {
                Ok(()) => out.sent += 1,
                Err(_) => out.failed += 1,
            }
        }
        out.elapsed = start.elapsed();
        out
    })
}

/// The replies seen at the attacker, by the first byte of the initiator
/// cookie (the suite tags each kind of forgery there) and, for the tags
/// asked for, by cookie.
#[derive(Debug, Default, Clone)]
pub struct Replies {
    /// Main Mode responses (MR1s) per tag.
    pub mr1_by_tag: HashMap<u8, u64>,
    /// MR1s per initiator cookie, for the tracked tags only.
    pub mr1_by_cookie: HashMap<[u8; 8], u32>,
    /// Every datagram received.
    pub datagrams: u64,
}

/// Counts the replies arriving at UDP port 500 of namespace `ns` (every
/// address routed there as local) until `stop` is set.
pub fn spawn_counter(
    ns: &str,
    tracked: &'static [u8],
    stop: Arc<AtomicBool>,
) -> (Arc<Mutex<Replies>>, JoinHandle<()>) {
    let ns = ns.to_string();
    let seen = Arc::new(Mutex::new(Replies::default()));
    let out = seen.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        enter_netns(&ns).unwrap_or_else(|e| panic!("setns {ns}: {e}"));
        let sock = UdpSocket::bind(SocketAddr::from(([0, 0, 0, 0], 500)))
            .unwrap_or_else(|e| panic!("bind port 500 in {ns}: {e}"));
        let big: libc::c_int = 16 << 20;
        // SAFETY: setsockopt(2) with a pointer to a c_int and its size.
        unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                (&big as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("read timeout");
        let _ = ready_tx.send(());
        let mut buf = [0u8; 2048];
        while !stop.load(Ordering::Relaxed) {
            let Ok(n) = sock.recv(&mut buf) else { continue };
            let d = &buf[..n];
            let mut r = seen.lock().unwrap_or_else(|p| p.into_inner());
            r.datagrams += 1;
            if is_mr1(d) {
                *r.mr1_by_tag.entry(d[0]).or_default() += 1;
                if tracked.contains(&d[0]) {
                    let mut c = [0u8; 8];
                    c.copy_from_slice(&d[..8]);
                    *r.mr1_by_cookie.entry(c).or_default() += 1;
                }
            }
        }
    });
    let _ = ready_rx.recv_timeout(Duration::from_secs(5));
    (out, handle)
}

/// A Main Mode response to a first message: ISAKMP header, exchange 2
/// (identity protection), a responder cookie, not encrypted.
pub fn is_mr1(d: &[u8]) -> bool {
    d.len() >= 28 && d[18] == 2 && d[19] & 1 == 0 && d[8..16] != [0; 8]
}
