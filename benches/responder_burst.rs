//! Responder burst: how fast a `--noklips` pluto answers a burst of whole
//! negotiations, Main Mode and Quick Mode with PFS (PSK,
//! 3DES-SHA1-MODP1536, ESP 3DES-SHA1, PFS MODP1536: four MODP1536
//! exponentiations for the responder), with its crypto helpers
//! (`--nhelpers`) off and on.
//!
//! West, in a network namespace, runs a generator: an rswan engine that
//! reuses one key pair per group (so its side costs two exponentiations
//! per negotiation, g^xy in each phase, against the responder's four) and
//! a stand-in kernel that grants every SPI and installation,
//! `BENCH_N` connections (default 960, at most 1000), each from a source
//! address of its own, all initiated at once. East runs pluto with a
//! `%any` PSK connection. The clock stops when every negotiation has its
//! IPsec SA (QI2 sent). Reported per setting and round: that time,
//! negotiations per second, pluto's CPU time (all threads) in all and per
//! negotiation, the generator's CPU time (it shares the machine), UDP
//! receive-buffer drops in east, and the generator's retransmissions (each
//! means east dropped or was late).
//!
//! Needs root (network namespaces). Run with `make bench`.

#[path = "../tests/common/netns.rs"]
#[allow(dead_code)]
mod netns;
#[path = "../tests/common/procfs.rs"]
#[allow(dead_code)]
mod procfs;

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use netns::{sh, Lab};
use rswan::ike::crypto::{CipherAlg, DhError, DhGroup, DhKeyPair, DhProvider, HashAlg, ModpDh};
use rswan::ike::kernel::IntegAlg;
use rswan::ike::proposal::{AuthMethod, IkeTransform, IpsecTransform};
use rswan::ike::rng::SeededRng;
use rswan::ike::state::StateKind;
use rswan::ike::wire::Identity;
use rswan::ike::{
    Command, ConnConfig, End, Endpoint, KernelOp, KernelReply, Policy, SecretEntry, SecretIndex,
    SecretValue, Secrets,
};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

const EAST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
/// Source addresses, one per negotiation: east rightly takes a second
/// ISAKMP SA from one address for the same peer starting over and
/// replaces the first.
const SOURCES: usize = 1000;
/// Where they are (on west's veth; east routes there through west's
/// address, so that it resolves one neighbour instead of a thousand: its
/// neighbour table would drop answers while it fills).
const SOURCE_NET: &str = "198.18.0.0/22";
const PSK: &str = "burst";
const LIMIT: Duration = Duration::from_secs(120);

fn source(i: usize) -> Ipv4Addr {
    let i = (i % SOURCES) as u32;
    Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 1)) + i)
}

struct Round {
    secs: f64,
    cpu: f64,
    /// The generator's CPU time (it shares the machine with pluto).
    gen_cpu: f64,
    drops: u64,
    resends: usize,
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` builds and
    // runs this too, without it: nothing to measure then.
    if !std::env::args().any(|a| a == "--bench") {
        println!("responder_burst: a benchmark; run it with `make bench`");
        return;
    }
    let n: usize = std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(960)
        .min(SOURCES);
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let settings: [(&str, &str); 3] = [
        ("0", "--nhelpers 0"),
        ("1", "--nhelpers 1"),
        ("2", "--nhelpers 2"),
    ];
    let mut results: HashMap<&str, Vec<Round>> = HashMap::new();
    for r in 0..rounds {
        // Alternating settings within each round, so drift hits all alike.
        for (helpers, label) in settings {
            let got = burst(n, helpers);
            eprintln!(
                "round {} {label}: {:.3} s, cpu {:.3} s, generator cpu {:.3} s, drops {}, resends {}",
                r + 1,
                got.secs,
                got.cpu,
                got.gen_cpu,
                got.drops,
                got.resends
            );
            results.entry(label).or_default().push(got);
        }
    }
    println!(
        "responder burst: {n} negotiations at once, Main Mode + Quick Mode with PFS \
         (PSK, 3DES-SHA1-MODP1536, ESP 3DES-SHA1), {rounds} rounds; drops and resends summed"
    );
    println!(
        "{:<14} {:>22} {:>8} {:>12} {:>11} {:>10} {:>6} {:>8}",
        "setting",
        "wall s mean (min-max)",
        "neg/s",
        "pluto cpu s",
        "cpu ms/neg",
        "gen cpu s",
        "drops",
        "resends"
    );
    let base = mean(&results[settings[0].1], |r| r.secs);
    for (_, label) in settings {
        let v = &results[label];
        let secs = mean(v, |r| r.secs);
        let cpu = mean(v, |r| r.cpu);
        println!(
            "{:<14} {:>8.3} ({:.3}-{:.3}) {:>8.0} {:>12.3} {:>11.3} {:>10.3} {:>6} {:>8}   wall x{:.2} of --nhelpers 0",
            label,
            secs,
            v.iter().map(|r| r.secs).fold(f64::MAX, f64::min),
            v.iter().map(|r| r.secs).fold(0.0, f64::max),
            n as f64 / secs,
            cpu,
            cpu * 1000.0 / n as f64,
            mean(v, |r| r.gen_cpu),
            v.iter().map(|r| r.drops).sum::<u64>(),
            v.iter().map(|r| r.resends).sum::<usize>(),
            secs / base
        );
    }
}

fn mean(v: &[Round], f: impl Fn(&Round) -> f64) -> f64 {
    v.iter().map(f).sum::<f64>() / v.len().max(1) as f64
}

fn burst(n: usize, helpers: &str) -> Round {
    let mut lab = Lab::new(2);
    std::fs::write(
        lab.dir.join("ipsec.secrets"),
        format!("192.0.2.2 %any : PSK \"{PSK}\"\n"),
    )
    .expect("write secrets");
    let west = lab.ns(0).to_string();
    let veth = format!("{}a", lab.tag);
    let batch = lab.dir.join("sources.ip");
    let lines: String = (0..n)
        .map(|i| format!("addr add {}/32 dev {veth}\n", source(i)))
        .collect();
    std::fs::write(&batch, lines).expect("write ip batch");
    sh(&["ip", "-n", &west, "-batch", &batch.to_string_lossy()]);
    let east_veth = format!("{}b", lab.tag);
    sh(&[
        "ip",
        "-n",
        lab.ns(1),
        "route",
        "add",
        SOURCE_NET,
        "via",
        "192.0.2.1",
        "dev",
        &east_veth,
    ]);
    lab.start_pluto_with("e", 1, &["--noklips", "--nhelpers", helpers]);
    lab.whack_expect(
        "e",
        &[
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
            "--ike",
            "3des-sha1-modp1536",
            "--esp",
            "3des-sha1",
            "--pfsgroup",
            "modp1536",
        ],
        0,
    );
    lab.whack_expect("e", &["--listen"], 0);
    let pid = lab.pid("e");
    let drops0 = procfs::udp_rcvbuf_errors(pid);
    let cpu0 = cpu_secs(pid);
    let (secs, resends, gen_cpu) = {
        let ns = west.clone();
        std::thread::spawn(move || generate(&ns, n))
            .join()
            .expect("generator thread")
    };
    let cpu = cpu_secs(pid) - cpu0;
    let drops = procfs::udp_rcvbuf_errors(pid) - drops0;
    Round {
        secs,
        cpu,
        gen_cpu,
        drops,
        resends,
    }
}

/// Runs in `ns`: initiates `n` negotiations at once and returns the
/// seconds until all have their IPsec SA, how many datagrams were sent
/// again, and the CPU seconds the generator spent meanwhile.
///
/// Each negotiation has an engine of its own: east announces
/// INITIAL-CONTACT to each of them (each is a new peer to it), and one
/// engine with all the connections would take that as the same peer
/// starting over and delete the others. Datagrams from east go to the
/// engine whose initiator cookie they carry.
fn generate(ns: &str, n: usize) -> (f64, usize, f64) {
    enter(ns);
    let dh = std::sync::Arc::new(OneKeyDh::default());
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
    let now = Instant::now();
    let mut gen = Generator {
        eps: Vec::new(),
        by_cookie: HashMap::new(),
        sockets: HashMap::new(),
        sent: 0,
        next_spi: 0x1000,
    };
    for i in 0..n {
        let mut ep = Endpoint::new(
            Box::new(SharedDh(dh.clone())),
            Box::new(SeededRng::new(i as u64 + 1)),
        );
        let secrets = Secrets {
            entries: vec![SecretEntry {
                indices: vec![
                    SecretIndex::Id(Identity::Ipv4(source(i))),
                    SecretIndex::Id(Identity::Ipv4(EAST)),
                ],
                value: SecretValue::Psk(PSK.as_bytes().to_vec()),
            }],
            ..Secrets::default()
        };
        ep.handle_command(now, Command::LoadSecrets(secrets))
            .expect("secrets");
        let mut c = ConnConfig::new(&format!("g{i}"), end(source(i)), end(EAST), policy);
        c.ike = vec![IkeTransform::new(
            CipherAlg::Des3,
            HashAlg::Sha1,
            AuthMethod::Psk,
            DhGroup::Modp1536,
        )];
        c.esp = vec![IpsecTransform::Esp {
            cipher: CipherAlg::Des3,
            integ: Some(IntegAlg::HmacSha1_96),
        }];
        c.pfs_group = Some(DhGroup::Modp1536);
        ep.handle_command(now, Command::AddConnection(Box::new(c)))
            .expect("add");
        gen.eps.push(ep);
    }
    let mut poll = Poll::new().expect("poll");
    for i in 0..n {
        let a = IpAddr::V4(source(i));
        let mut s = UdpSocket::bind(SocketAddr::new(a, 500)).expect("bind");
        poll.registry()
            .register(&mut s, Token(i), Interest::READABLE)
            .expect("register");
        gen.sockets.insert(a, (Token(i), s));
    }
    let by_token: HashMap<Token, IpAddr> = gen.sockets.iter().map(|(a, (t, _))| (*t, *a)).collect();
    let start = Instant::now();
    let cpu0 = thread_cpu_secs();
    for i in 0..n {
        gen.eps[i]
            .handle_command(start, Command::Initiate(format!("g{i}")))
            .expect("initiate");
        gen.pump(i);
    }
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 65536];
    let mut last_check = start;
    loop {
        let now = Instant::now();
        if now.duration_since(last_check) > Duration::from_millis(20) {
            last_check = now;
            for i in 0..n {
                if gen.eps[i].poll_timeout().is_some_and(|t| t <= now) {
                    gen.eps[i].handle_timeout(now);
                    gen.pump(i);
                }
            }
            let up = gen
                .eps
                .iter()
                .filter(|ep| {
                    ep.states()
                        .iter()
                        .any(|s| s.ipsec && s.kind == StateKind::QuickI2)
                })
                .count();
            if up >= n {
                break;
            }
            assert!(
                now.duration_since(start) < LIMIT,
                "burst did not finish in {LIMIT:?}: {up} of {n}"
            );
        }
        poll.poll(&mut events, Some(Duration::from_millis(20)))
            .expect("poll");
        for ev in events.iter() {
            let Some(a) = by_token.get(&ev.token()) else {
                continue;
            };
            while let Some((_, s)) = gen.sockets.get(a) {
                let Ok((len, from)) = s.recv_from(&mut buf) else {
                    break;
                };
                let data = &buf[..len];
                let cookie: Option<[u8; 8]> = data.get(..8).and_then(|c| c.try_into().ok());
                let Some(&i) = cookie.and_then(|c| gen.by_cookie.get(&c)) else {
                    continue;
                };
                gen.eps[i].handle_datagram(Instant::now(), SocketAddr::new(*a, 500), from, data);
                gen.pump(i);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    // MI1, MI2, MI3, QI1 and QI2 once each; anything more was sent again.
    (
        secs,
        gen.sent.saturating_sub(5 * n),
        thread_cpu_secs() - cpu0,
    )
}

/// The generator's engines, one per negotiation, and their sockets (one
/// per source address, as each engine has).
struct Generator {
    eps: Vec<Endpoint>,
    /// Which engine an initiator cookie belongs to.
    by_cookie: HashMap<[u8; 8], usize>,
    sockets: HashMap<IpAddr, (Token, UdpSocket)>,
    sent: usize,
    next_spi: u32,
}

impl Generator {
    /// Moves engine `i`'s outputs: datagrams out, and a stand-in kernel
    /// that grants every SPI and installation at once.
    fn pump(&mut self, i: usize) {
        loop {
            let ep = &mut self.eps[i];
            let mut any = false;
            while let Some(t) = ep.poll_transmit() {
                if let Some(c) = t.payload.get(..8).and_then(|c| c.try_into().ok()) {
                    self.by_cookie.insert(c, i);
                }
                if let Some((_, s)) = self.sockets.get(&t.local.ip()) {
                    let _ = s.send_to(&t.payload, t.remote);
                    self.sent += 1;
                }
            }
            while ep.poll_event().is_some() {}
            while let Some(op) = ep.poll_kernel_op() {
                let reply = match op {
                    KernelOp::GetSpi { req, .. } => {
                        self.next_spi += 1;
                        KernelReply::Spi {
                            req,
                            spi: self.next_spi,
                        }
                    }
                    KernelOp::Install { req, .. } => KernelReply::Installed { req },
                    _ => continue,
                };
                ep.handle_kernel_reply(Instant::now(), reply);
                any = true;
            }
            if !any {
                return;
            }
        }
    }
}

/// One provider shared by the generator's engines.
struct SharedDh(std::sync::Arc<OneKeyDh>);

impl DhProvider for SharedDh {
    fn generate(&self, group: DhGroup, rng: &mut dyn rswan::ike::rng::Rng) -> DhKeyPair {
        self.0.generate(group, rng)
    }
    fn shared(&self, ours: &DhKeyPair, peer_public: &[u8]) -> Result<Vec<u8>, DhError> {
        self.0.shared(ours, peer_public)
    }
    fn seed_len(&self, group: DhGroup) -> usize {
        self.0.seed_len(group)
    }
}

/// Real MODP arithmetic with one key pair per group, made once: the
/// responder cannot tell, and the generator spends half of what it
/// measures.
#[derive(Default)]
struct OneKeyDh {
    pairs: std::sync::Mutex<HashMap<DhGroup, DhKeyPair>>,
}

impl DhProvider for OneKeyDh {
    fn generate(&self, group: DhGroup, rng: &mut dyn rswan::ike::rng::Rng) -> DhKeyPair {
        let mut pairs = self.pairs.lock().expect("lock");
        pairs
            .entry(group)
            .or_insert_with(|| ModpDh.generate(group, rng))
            .clone()
    }
    fn shared(&self, ours: &DhKeyPair, peer_public: &[u8]) -> Result<Vec<u8>, DhError> {
        ModpDh.shared(ours, peer_public)
    }
    fn seed_len(&self, group: DhGroup) -> usize {
        ModpDh.seed_len(group)
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
fn cpu_secs(pid: u32) -> f64 {
    procfs::cpu_ticks(pid).unwrap_or(0) as f64 / procfs::clock_ticks_per_s()
}
