//! Responder burst: how fast a `--noklips` pluto answers a burst of Main
//! Mode exchanges up to MR2 (the message that costs it two MODP1536
//! exponentiations), with its crypto helpers (`--nhelpers`) off and on.
//!
//! West, in a network namespace, runs a generator: an rswan engine with
//! the null Diffie-Hellman provider (so its own side costs next to
//! nothing), `BENCH_N` connections (default 960) spread over 240 source
//! addresses (at most 4 each: under the responder's per-address half-open
//! limit), all initiated at once. East runs pluto with a `%any` PSK
//! connection. The clock stops when every exchange has had its MR2.
//! Reported per setting and round: that time, exchanges per second,
//! pluto's CPU time (all threads), UDP receive-buffer drops in east, and
//! the generator's retransmissions (each means east dropped or was late).
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
use rswan::ike::crypto::NullDh;
use rswan::ike::rng::SeededRng;
use rswan::ike::state::StateKind;
use rswan::ike::wire::Identity;
use rswan::ike::{
    Command, ConnConfig, End, Endpoint, Policy, SecretEntry, SecretIndex, SecretValue, Secrets,
};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

const EAST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const SOURCES: u8 = 240;
const PSK: &str = "burst";
const LIMIT: Duration = Duration::from_secs(120);

fn source(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, 10 + (i % usize::from(SOURCES)) as u8)
}

struct Round {
    secs: f64,
    cpu: f64,
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
        .min(usize::from(SOURCES) * 4);
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
                "round {} {label}: {:.3} s, cpu {:.3} s, drops {}, resends {}",
                r + 1,
                got.secs,
                got.cpu,
                got.drops,
                got.resends
            );
            results.entry(label).or_default().push(got);
        }
    }
    println!("responder burst: {n} Main Mode exchanges to MR2 (MODP1536, PSK), {rounds} rounds");
    println!(
        "{:<14} {:>22} {:>10} {:>18} {:>8} {:>8}",
        "setting", "wall s mean (min-max)", "exch/s", "pluto cpu s mean", "drops", "resends"
    );
    let base = mean(&results[settings[0].1], |r| r.secs);
    for (_, label) in settings {
        let v = &results[label];
        let secs = mean(v, |r| r.secs);
        println!(
            "{:<14} {:>8.3} ({:.3}-{:.3}) {:>10.0} {:>18.3} {:>8} {:>8}   x{:.2} of --nhelpers 0",
            label,
            secs,
            v.iter().map(|r| r.secs).fold(f64::MAX, f64::min),
            v.iter().map(|r| r.secs).fold(0.0, f64::max),
            n as f64 / secs,
            mean(v, |r| r.cpu),
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
    for i in 0..usize::from(SOURCES) {
        sh(&[
            "ip",
            "-n",
            &west,
            "addr",
            "add",
            &format!("{}/24", source(i)),
            "dev",
            &veth,
        ]);
    }
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
        ],
        0,
    );
    lab.whack_expect("e", &["--listen"], 0);
    let pid = lab.pid("e");
    let drops0 = procfs::udp_rcvbuf_errors(pid);
    let cpu0 = cpu_secs(pid);
    let (secs, resends) = {
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
        drops,
        resends,
    }
}

/// Runs in `ns`: initiates `n` exchanges at once and returns the seconds
/// until all have had MR2, and how many datagrams were sent again.
fn generate(ns: &str, n: usize) -> (f64, usize) {
    enter(ns);
    let mut ep = Endpoint::new(Box::new(NullDh), Box::new(SeededRng::new(n as u64)));
    let mut secrets = Secrets::default();
    for i in 0..usize::from(SOURCES) {
        secrets.entries.push(SecretEntry {
            indices: vec![
                SecretIndex::Id(Identity::Ipv4(source(i))),
                SecretIndex::Id(Identity::Ipv4(EAST)),
            ],
            value: SecretValue::Psk(PSK.as_bytes().to_vec()),
        });
    }
    let now = Instant::now();
    ep.handle_command(now, Command::LoadSecrets(secrets))
        .expect("secrets");
    let policy = Policy {
        psk: true,
        encrypt: true,
        tunnel: true,
        ..Policy::default()
    };
    let end = |a: Ipv4Addr| End {
        host: Some(IpAddr::V4(a)),
        port: 500,
        id: None,
        client: None,
        virt: None,
    };
    for i in 0..n {
        let c = ConnConfig::new(&format!("g{i}"), end(source(i)), end(EAST), policy);
        ep.handle_command(now, Command::AddConnection(Box::new(c)))
            .expect("add");
    }
    let mut poll = Poll::new().expect("poll");
    let mut sockets: HashMap<IpAddr, (Token, UdpSocket)> = HashMap::new();
    for i in 0..usize::from(SOURCES) {
        let a = IpAddr::V4(source(i));
        let mut s = UdpSocket::bind(SocketAddr::new(a, 500)).expect("bind");
        poll.registry()
            .register(&mut s, Token(i), Interest::READABLE)
            .expect("register");
        sockets.insert(a, (Token(i), s));
    }
    let by_token: HashMap<Token, IpAddr> = sockets.iter().map(|(a, (t, _))| (*t, *a)).collect();
    let start = Instant::now();
    for i in 0..n {
        ep.handle_command(start, Command::Initiate(format!("g{i}")))
            .expect("initiate");
    }
    let mut sent = 0usize;
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 65536];
    let mut last_check = start;
    loop {
        while let Some(t) = ep.poll_transmit() {
            if let Some((_, s)) = sockets.get(&t.local.ip()) {
                let _ = s.send_to(&t.payload, t.remote);
                sent += 1;
            }
        }
        while ep.poll_event().is_some() {}
        while ep.poll_kernel_op().is_some() {}
        let now = Instant::now();
        if now.duration_since(last_check) > Duration::from_millis(20) {
            last_check = now;
            let past_mr2 = ep
                .states()
                .iter()
                .filter(|s| !s.ipsec && s.kind == StateKind::MainI3)
                .count();
            if past_mr2 >= n {
                break;
            }
            assert!(
                now.duration_since(start) < LIMIT,
                "burst did not finish in {LIMIT:?}: {past_mr2} of {n}"
            );
        }
        let timeout = ep
            .poll_timeout()
            .map(|t| t.saturating_duration_since(now))
            .unwrap_or(Duration::from_millis(20))
            .min(Duration::from_millis(20));
        poll.poll(&mut events, Some(timeout)).expect("poll");
        for ev in events.iter() {
            let Some(a) = by_token.get(&ev.token()) else {
                continue;
            };
            let Some((_, s)) = sockets.get(a) else {
                continue;
            };
            while let Ok((len, from)) = s.recv_from(&mut buf) {
                ep.handle_datagram(Instant::now(), SocketAddr::new(*a, 500), from, &buf[..len]);
            }
        }
        let now = Instant::now();
        if ep.poll_timeout().is_some_and(|t| t <= now) {
            ep.handle_timeout(now);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    // MI1, MI2 and MI3 once each; anything more was sent again.
    (secs, sent.saturating_sub(3 * n))
}

/// Moves this thread into network namespace `ns`.
fn enter(ns: &str) {
    let f = std::fs::File::open(format!("/run/netns/{ns}")).expect("open netns");
    // SAFETY: setns on a valid descriptor of a network namespace; it only
    // changes the namespace of the calling thread.
    let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(r, 0, "setns {ns}: {}", std::io::Error::last_os_error());
}

/// CPU seconds (user + system, all threads) of process `pid`.
fn cpu_secs(pid: u32) -> f64 {
    procfs::cpu_ticks(pid).unwrap_or(0) as f64 / procfs::clock_ticks_per_s()
}
