//! The benches' negotiation generator: rswan engines in west, one per
//! source address, each bringing up one Main Mode + Quick Mode (with PFS)
//! pair with a `%any` PSK connection ("rw") of a pluto in east.
//!
//! Each negotiation has an engine of its own: east announces
//! INITIAL-CONTACT to each of them (each is a new peer to it), and one
//! engine with all the connections would take that as the same peer
//! starting over and delete the others.
//!
//! The including bench declares `netns` (tests/common/netns.rs),
//! `procfs` and `shared_dh` at its root.

use crate::netns::Lab;
use crate::shared_dh::SharedDh;
use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use rswan::ike::crypto::{DhGroup, DhProvider};
use rswan::ike::proposal::AuthMethod;
use rswan::ike::rng::SeededRng;
use rswan::ike::wire::Identity;
use rswan::ike::{
    Command, ConnConfig, End, Endpoint, Event, Policy, SecretEntry, SecretIndex, SecretValue,
    Secrets,
};
use rswan::pluto::algs;
use rswan::pluto::kernel::{KernelBackend, KernelOutput, NoStack};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const EAST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

/// The suite both sides use: east's "rw" pins it or takes it as pluto's
/// default.
const IKE: &str = "3des-sha1-modp1536";
const ESP: &str = "3des-sha1";

/// Adds east's `%any` PSK tunnel "rw" (with PFS) to pluto `pluto`;
/// `extra` are further whack arguments (an algorithm choice).
pub fn add_rw(lab: &mut Lab, pluto: &str, extra: &[&str]) {
    let mut args = vec![
        "--name",
        "rw",
        "--host",
        "192.0.2.2",
        "--nexthop",
        "192.0.2.1",
        "--to",
        "--host",
        "%any",
        "--psk",
        "--encrypt",
        "--tunnel",
        "--pfs",
    ];
    args.extend_from_slice(extra);
    lab.whack_expect(pluto, &args, 0);
}

/// What to generate.
pub struct Spec {
    /// Negotiations, one engine and source address each.
    pub n: usize,
    /// The address of negotiation `i` (already on west's veth).
    pub source: fn(usize) -> Ipv4Addr,
    pub psk: &'static str,
    /// At most this many negotiations in flight (`usize::MAX`: all at
    /// once).
    pub window: usize,
    /// The engines' Diffie-Hellman, shared by all of them.
    pub dh: Arc<dyn DhProvider>,
    /// Fails the bench if not all are up by then.
    pub limit: Duration,
    /// Prints the engines' log lines.
    pub debug: bool,
}

/// What a generation took.
pub struct Outcome {
    /// From the first initiation until every negotiation has its IPsec SA.
    pub secs: f64,
    /// Datagrams sent more than once (each means east dropped or was late).
    pub resends: usize,
    /// The generating thread's CPU seconds meanwhile (it shares the
    /// machine with pluto).
    pub cpu: f64,
}

/// Runs in network namespace `ns` (this thread moves there) and brings up
/// `spec.n` MM+QM pairs.
pub fn generate(ns: &str, spec: &Spec) -> Outcome {
    enter(ns);
    let n = spec.n;
    raise_nofile(n as u64 + 256);
    let policy = Policy {
        psk: true,
        encrypt: true,
        tunnel: true,
        pfs: true,
        ..Policy::default()
    };
    let end = |a: Ipv4Addr| End {
        host: Some(IpAddr::V4(a)),
        port: 500,
        id: None,
        client: None,
        virt: None,
    };
    let ike = algs::parse_ike(IKE, &[AuthMethod::Psk], 3600).expect("ike");
    let esp = algs::parse_esp(ESP).expect("esp");
    let now = Instant::now();
    let mut poll = Poll::new().expect("poll");
    let mut gens: Vec<Generator> = (0..n)
        .map(|i| {
            let source = (spec.source)(i);
            let mut ep = Endpoint::new(
                Box::new(SharedDh(spec.dh.clone())),
                Box::new(SeededRng::new(i as u64 + 1)),
            );
            let secrets = Secrets {
                entries: vec![SecretEntry {
                    indices: vec![
                        SecretIndex::Id(Identity::Ipv4(source)),
                        SecretIndex::Id(Identity::Ipv4(EAST)),
                    ],
                    value: SecretValue::Psk(spec.psk.as_bytes().to_vec()),
                }],
                ..Secrets::default()
            };
            ep.handle_command(now, Command::LoadSecrets(secrets))
                .expect("secrets");
            let mut c = ConnConfig::new("g", end(source), end(EAST), policy);
            c.ike = ike.clone();
            c.esp = esp.clone();
            c.pfs_group = Some(DhGroup::Modp1536);
            ep.handle_command(now, Command::AddConnection(Box::new(c)))
                .expect("add");
            let addr = SocketAddr::new(IpAddr::V4(source), 500);
            let mut socket = UdpSocket::bind(addr).expect("bind");
            poll.registry()
                .register(&mut socket, Token(i), Interest::READABLE)
                .expect("register");
            Generator {
                ep,
                kernel: NoStack::new(&mut SeededRng::new(i as u64)),
                socket,
                addr,
                sent: 0,
                up: false,
            }
        })
        .collect();
    let start = Instant::now();
    let cpu0 = thread_cpu_secs();
    let mut started: usize = 0;
    let mut up: usize = 0;
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 65536];
    let mut last_check = start;
    loop {
        while started < n && started < up.saturating_add(spec.window) {
            if let Some(g) = gens.get_mut(started) {
                g.ep.handle_command(Instant::now(), Command::Initiate("g".into()))
                    .expect("initiate");
                up += g.drain(spec.debug);
            }
            started += 1;
        }
        if up >= n {
            break;
        }
        assert!(
            start.elapsed() < spec.limit,
            "{up} of {n} pairs up in {:?}",
            spec.limit
        );
        poll.poll(&mut events, Some(Duration::from_millis(20)))
            .expect("poll");
        for ev in events.iter() {
            let Some(g) = gens.get_mut(ev.token().0) else {
                continue;
            };
            while let Ok((len, from)) = g.socket.recv_from(&mut buf) {
                g.ep.handle_datagram(Instant::now(), g.addr, from, &buf[..len]);
                up += g.drain(spec.debug);
            }
        }
        // Retransmissions are due in seconds: looking every 20 ms spares a
        // walk over every engine after each datagram.
        let now = Instant::now();
        if now.duration_since(last_check) > Duration::from_millis(20) {
            last_check = now;
            for g in &mut gens {
                if g.ep.poll_timeout().is_some_and(|t| t <= now) {
                    g.ep.handle_timeout(now);
                    up += g.drain(spec.debug);
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let sent: usize = gens.iter().map(|g| g.sent).sum();
    Outcome {
        secs,
        // MI1, MI2, MI3, QI1 and QI2 once each; anything more was sent again.
        resends: sent.saturating_sub(5 * n),
        cpu: thread_cpu_secs() - cpu0,
    }
}

/// One negotiation of the generator: an engine, its kernel (which grants
/// every SPI and installation), its socket.
struct Generator {
    ep: Endpoint,
    kernel: NoStack,
    socket: UdpSocket,
    addr: SocketAddr,
    sent: usize,
    /// Has its IPsec SA.
    up: bool,
}

impl Generator {
    /// Sends what the engine queued and answers its kernel requests;
    /// returns 1 when this brought its IPsec SA up.
    fn drain(&mut self, debug: bool) -> usize {
        let was = self.up;
        loop {
            let mut busy = false;
            while let Some(t) = self.ep.poll_transmit() {
                busy = true;
                let _ = self.socket.send_to(&t.payload, t.remote);
                self.sent += 1;
            }
            while let Some(op) = self.ep.poll_kernel_op() {
                busy = true;
                self.kernel.submit(op);
            }
            for out in self.kernel.poll() {
                busy = true;
                if let KernelOutput::Reply(r) = out {
                    self.ep.handle_kernel_reply(Instant::now(), r);
                }
            }
            while let Some(e) = self.ep.poll_event() {
                match e {
                    Event::Established { ipsec: true, .. } => self.up = true,
                    Event::Log(l) if debug => eprintln!("generator: {l}"),
                    _ => {}
                }
            }
            if !busy {
                return usize::from(self.up && !was);
            }
        }
    }
}

/// One socket per source address: more than the default 1 024.
fn raise_nofile(need: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read or fill the struct they are given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < need {
            lim.rlim_cur = need;
            lim.rlim_max = lim.rlim_max.max(need);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// Moves this thread into network namespace `ns`.
fn enter(ns: &str) {
    let f = std::fs::File::open(format!("/run/netns/{ns}")).expect("open netns");
    // SAFETY: setns on a valid descriptor of a network namespace; it only
    // changes the namespace of the calling thread.
    let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(r, 0, "setns {ns}: {}", std::io::Error::last_os_error());
}

/// CPU seconds of the calling thread.
fn thread_cpu_secs() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `ts` is.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(r, 0, "clock_gettime");
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// CPU seconds (user + system, all threads) of process `pid`.
pub fn cpu_secs(pid: u32) -> f64 {
    crate::procfs::cpu_ticks(pid).unwrap_or(0) as f64 / crate::procfs::clock_ticks_per_s()
}
