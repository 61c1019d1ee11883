//! Scale: what a `--noklips` pluto spends on many connections and on many
//! established SAs.
//!
//! - startup: from exec to the whack socket accepting a connection;
//! - loading 2 500, 5 000 and 10 000 connections, each size into a fresh
//!   pluto that already listens (so every add is also oriented and given
//!   to the engine), through the whack socket with frames made in-process:
//!   pluto's CPU time, the wall time, and its RSS growth per connection;
//! - `whack --status` with 10 000 connections (one `ipsec whack` process);
//! - the same 10 000 adds made by as many `ipsec whack` processes;
//! - memory per established IKE+IPsec SA pair: a generator in west (an
//!   rswan engine, PSK, 3DES-SHA1-MODP1536 with PFS, `BENCH_PAIRS`
//!   connections, default 2 000, each from an address of its own: east
//!   keeps one ISAKMP SA per peer of its `%any` connection) brings up that
//!   many Main Mode + Quick Mode pairs; reported as east's RSS growth
//!   divided by the pairs.
//!
//! Needs root (network namespaces). Run with `make bench`.

#[path = "../tests/common/netns.rs"]
#[allow(dead_code)]
mod netns;
#[path = "common/pairs.rs"]
#[allow(dead_code)] // the generator's CPU time and resends: responder_burst's
mod pairs;
#[path = "../tests/common/procfs.rs"]
#[allow(dead_code)]
mod procfs;
#[path = "../tests/common/shared_dh.rs"]
mod shared_dh;

use netns::{path_str, sh, with_suffix, Lab, Pluto};
use pairs::{add_rw, cpu_secs, Spec, EAST};
use rswan::ctl::{self, Connection, Subnet, WhackMessage};
use rswan::ike::crypto::ModpDh;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PSK: &str = "scale";
const SIZES: [usize; 3] = [2_500, 5_000, 10_000];
const LIMIT: Duration = Duration::from_secs(300);

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` builds and
    // runs this too, without it: nothing to measure then.
    if !std::env::args().any(|a| a == "--bench") {
        println!("conn_load: a benchmark; run it with `make bench`");
        return;
    }
    let pairs: usize = std::env::var("BENCH_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let mut lab = Lab::new(2);
    std::fs::write(
        lab.dir.join("ipsec.secrets"),
        format!("192.0.2.2 %any : PSK \"{PSK}\"\n"),
    )
    .expect("write secrets");

    // `BENCH_ONLY=pairs`: the SA pairs alone.
    if std::env::var("BENCH_ONLY").is_ok_and(|v| v == "pairs") {
        report_pairs(&mut lab, pairs);
        return;
    }
    let startups: Vec<f64> = (0..5)
        .map(|i| startup(&mut lab, &format!("s{i}")))
        .collect();
    println!("conn_load: pluto --noklips, one per measurement");
    println!(
        "startup, exec to whack socket ready: {:.1} ms mean ({:.1}-{:.1}) of {}",
        mean(&startups) * 1e3,
        min(&startups) * 1e3,
        max(&startups) * 1e3,
        startups.len()
    );

    println!(
        "{:>8} {:>14} {:>12} {:>14} {:>16}",
        "conns", "pluto cpu s", "wall s", "cpu us/conn", "RSS bytes/conn"
    );
    let mut last = String::new();
    for n in SIZES {
        let name = format!("l{n}");
        let l = load(&mut lab, &name, n);
        println!(
            "{:>8} {:>14.3} {:>12.3} {:>14.1} {:>16.0}",
            n,
            l.cpu,
            l.wall,
            l.cpu * 1e6 / n as f64,
            l.rss_kb as f64 * 1024.0 / n as f64
        );
        // The last one stays for --status; the others free port 500.
        if !last.is_empty() {
            stop(&mut lab, &last);
        }
        last = name;
    }
    let pid = lab.pid(&last);
    let cpu0 = cpu_secs(pid);
    let t = Instant::now();
    let out = lab.whack_expect(&last, &["--status"], 0);
    let status_wall = t.elapsed().as_secs_f64();
    let status_cpu = cpu_secs(pid) - cpu0;
    println!(
        "whack --status with {} connections: {:.3} s wall, {:.3} s pluto cpu, {} lines",
        SIZES[2],
        status_wall,
        status_cpu,
        out.stdout.lines().count()
    );
    stop(&mut lab, &last);

    let (wall, cpu) = load_with_processes(&mut lab, "p", SIZES[2]);
    println!(
        "{} adds by `ipsec whack` processes: {:.2} s wall, {:.3} s pluto cpu",
        SIZES[2], wall, cpu
    );
    stop(&mut lab, "p");

    report_pairs(&mut lab, pairs);
}

fn report_pairs(lab: &mut Lab, pairs: usize) {
    let m = sa_pairs(lab, pairs);
    println!(
        "{} IKE+IPsec SA pairs (MM+QM, PSK, 3DES-SHA1-MODP1536, PFS): up in {:.2} s; \
         RSS {} kB idle -> {} kB; {:.0} bytes per pair",
        pairs,
        m.secs,
        m.rss0_kb,
        m.rss1_kb,
        (m.rss1_kb.saturating_sub(m.rss0_kb)) as f64 * 1024.0 / pairs as f64
    );
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}
fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::MAX, f64::min)
}
fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

/// Starts pluto `name` in east directly (no `ip netns exec` in between:
/// the child enters the namespace itself) and returns it with the seconds
/// from exec until its whack socket accepts a connection.
fn spawn_pluto(lab: &mut Lab, name: &str) -> f64 {
    let ns = lab.ns(1).to_string();
    let ctlbase = lab.ctlbase(name);
    let log = lab.dir.join(format!("{name}.log"));
    let err = std::fs::File::create(&log).expect("create log");
    let nsfile = std::fs::File::open(format!("/run/netns/{ns}")).expect("open netns");
    let fd = nsfile.as_raw_fd();
    let mut cmd = std::process::Command::new(&lab.bin);
    cmd.args([
        "pluto",
        "--nofork",
        "--stderrlog",
        "--noklips",
        "--ctlbase",
        path_str(&ctlbase),
        "--secretsfile",
        path_str(&lab.dir.join("ipsec.secrets")),
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(err);
    // SAFETY: setns is async-signal-safe; `fd` stays open in the parent
    // (`nsfile` lives past spawn) and so in the child until exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setns(fd, libc::CLONE_NEWNET) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let ctl = with_suffix(&ctlbase, ".ctl");
    let t = Instant::now();
    let mut child: Child = cmd.spawn().expect("spawn pluto");
    loop {
        if UnixStream::connect(&ctl).is_ok() {
            break;
        }
        if let Ok(Some(s)) = child.try_wait() {
            panic!(
                "pluto {name} exited ({s}); log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        assert!(t.elapsed() < LIMIT, "pluto {name} did not start");
        std::thread::sleep(Duration::from_micros(200));
    }
    let secs = t.elapsed().as_secs_f64();
    drop(nsfile);
    lab.ctlbases.push(ctlbase.clone());
    lab.plutos.push(Pluto {
        name: name.to_string(),
        ns,
        ctlbase,
        log,
        child: Some(child),
    });
    secs
}

fn stop(lab: &mut Lab, name: &str) {
    let p = lab.pluto_mut(name);
    if let Some(mut c) = p.child.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

fn startup(lab: &mut Lab, name: &str) -> f64 {
    let secs = spawn_pluto(lab, name);
    stop(lab, name);
    secs
}

/// Connection `i` of the load: east (us) with a client subnet, a peer of
/// its own with its own client.
fn connection(i: usize) -> Connection {
    let (a, b) = ((i >> 8) as u8, (i & 0xff) as u8);
    let mut c = Connection {
        policy: ctl::POLICY_PSK | ctl::POLICY_ENCRYPT | ctl::POLICY_TUNNEL | ctl::POLICY_PFS,
        ..Connection::default()
    };
    let peer = IpAddr::V4(Ipv4Addr::new(198, 19, a, b));
    c.left.host = IpAddr::V4(EAST);
    c.left.nexthop = peer;
    c.left.client = Subnet::new(IpAddr::V4(Ipv4Addr::new(10, 255, 0, 0)), 16);
    c.right.host = peer;
    c.right.nexthop = IpAddr::V4(EAST);
    c.right.client = Subnet::new(IpAddr::V4(Ipv4Addr::new(10, a, b, 0)), 24);
    c
}

/// Sends one whack frame and reads pluto's answer to its end.
fn whack_frame(ctl: &std::path::Path, msg: &WhackMessage) -> String {
    let frame = ctl::encode(msg).expect("encode");
    let mut s = UnixStream::connect(ctl).expect("connect to pluto");
    s.write_all(&frame).expect("send frame");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read reply");
    out
}

struct Load {
    cpu: f64,
    wall: f64,
    rss_kb: u64,
}

/// A fresh listening pluto `name` given `n` connections over its socket.
fn load(lab: &mut Lab, name: &str, n: usize) -> Load {
    spawn_pluto(lab, name);
    lab.whack_expect(name, &["--listen"], 0);
    let pid = lab.pid(name);
    let ctl = with_suffix(&lab.ctlbase(name), ".ctl");
    let msgs: Vec<WhackMessage> = (0..n)
        .map(|i| WhackMessage {
            name: Some(format!("conn-{i}")),
            connection: Some(connection(i)),
            ..WhackMessage::default()
        })
        .collect();
    let rss0 = procfs::status_kb(pid, "VmRSS:");
    let cpu0 = cpu_secs(pid);
    let t = Instant::now();
    for m in &msgs {
        let out = whack_frame(&ctl, m);
        assert!(
            out.contains("added connection description"),
            "adding {:?}: {out}",
            m.name
        );
    }
    let wall = t.elapsed().as_secs_f64();
    Load {
        cpu: cpu_secs(pid) - cpu0,
        wall,
        rss_kb: procfs::status_kb(pid, "VmRSS:").saturating_sub(rss0),
    }
}

/// `n` adds by `ipsec whack` processes, one after the other, into a fresh
/// listening pluto: (wall seconds, pluto CPU seconds).
fn load_with_processes(lab: &mut Lab, name: &str, n: usize) -> (f64, f64) {
    spawn_pluto(lab, name);
    lab.whack_expect(name, &["--listen"], 0);
    let pid = lab.pid(name);
    let ctlbase = lab.ctlbase(name);
    let cpu0 = cpu_secs(pid);
    let t = Instant::now();
    for i in 0..n {
        let c = connection(i);
        let args = [
            "whack".to_string(),
            "--ctlbase".into(),
            path_str(&ctlbase).into(),
            "--name".into(),
            format!("conn-{i}"),
            "--host".into(),
            c.left.host.to_string(),
            "--client".into(),
            c.left.client.map(|s| s.to_string()).unwrap_or_default(),
            "--to".into(),
            "--host".into(),
            c.right.host.to_string(),
            "--client".into(),
            c.right.client.map(|s| s.to_string()).unwrap_or_default(),
            "--psk".into(),
            "--encrypt".into(),
            "--tunnel".into(),
            "--pfs".into(),
        ];
        // The control socket is a path: whack needs no namespace of its own.
        let st = std::process::Command::new(&lab.bin)
            .args(&args)
            .stdout(Stdio::null())
            .status()
            .expect("run whack");
        assert!(st.success(), "whack {args:?}: {st}");
    }
    (t.elapsed().as_secs_f64(), cpu_secs(pid) - cpu0)
}

/// The generator's address for its pair `i` (198.18.0.0/16 in west).
fn source(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 1 + (i / 250) as u8, 1 + (i % 250) as u8)
}

struct Pairs {
    secs: f64,
    rss0_kb: u64,
    rss1_kb: u64,
}

/// East's RSS before and after `n` MM+QM pairs came up with it.
fn sa_pairs(lab: &mut Lab, n: usize) -> Pairs {
    let west = lab.ns(0).to_string();
    let east = lab.ns(1).to_string();
    let batch = lab.dir.join("addrs.batch");
    let veth = format!("{}a", lab.tag);
    let lines: String = (0..n)
        .map(|i| format!("addr add {}/16 dev {veth}\n", source(i)))
        .collect();
    std::fs::write(&batch, lines).expect("write batch");
    sh(&["ip", "-n", &west, "-batch", path_str(&batch)]);
    sh(&[
        "ip",
        "-n",
        &east,
        "route",
        "add",
        "198.18.0.0/16",
        "dev",
        &format!("{}b", lab.tag),
    ]);
    spawn_pluto(lab, "m");
    add_rw(lab, "m", &[]);
    lab.whack_expect("m", &["--listen"], 0);
    let pid = lab.pid("m");
    std::thread::sleep(Duration::from_millis(200));
    let rss0_kb = procfs::status_kb(pid, "VmRSS:");
    let spec = Spec {
        n,
        source,
        psk: PSK,
        // This measures memory, not how a burst is survived
        // (responder_burst does that); BENCH_WINDOW=N lets N be in
        // flight at once (the default 50 is a steady arrival).
        window: std::env::var("BENCH_WINDOW")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(50),
        dh: Arc::new(ModpDh),
        limit: LIMIT,
        debug: std::env::var_os("BENCH_DEBUG").is_some(),
    };
    let Ok(got) = std::thread::spawn(move || pairs::generate(&west, &spec)).join() else {
        let log = lab.log("m");
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!(
            "generator failed; east's log ends:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    };
    std::thread::sleep(Duration::from_millis(200));
    let rss1_kb = procfs::status_kb(pid, "VmRSS:");
    let status = lab.whack_expect("m", &["--status"], 0).stdout;
    let up = status
        .lines()
        .filter(|l| l.contains("STATE_QUICK_R2"))
        .count();
    assert!(up >= n, "east has {up} IPsec SAs of {n}");
    stop(lab, "m");
    Pairs {
        secs: got.secs,
        rss0_kb,
        rss1_kb,
    }
}
