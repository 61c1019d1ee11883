//! The attack suite (`make attack`): floods and forged packets against a
//! `pluto --noklips` responder in network namespaces, and what they cost it.
//!
//! Namespaces: the real peer P (192.0.2.1, pluto that initiates "secret"),
//! the responder R (192.0.2.2, pluto with "secret" and a PSK road-warrior
//! connection for `%any`), the attacker A, and G (203.0.113.2, a second
//! responder that takes only garbage, so its log grows by nothing else).
//! A sends raw IPv4 packets with any source: forged sources come from
//! 198.18.0.0/15, routed from R (and G) to A, where they are local
//! addresses so that every reply to a forgery is received and counted.
//!
//! The forged first messages (MI1) are a real Main Mode MI1 made by the
//! engine, with a fresh initiator cookie each; the first cookie byte tags
//! which check sent it. Every number is printed in one table
//! (`name value limit PASS/FAIL`) before anything is asserted, so a failing
//! build still shows all of them. `ATTACK_IPSEC=/path/to/ipsec` measures
//! another binary (an older build).
//!
//! Needs root and iproute2, like tests/pluto_netns.rs. About 70 s.

mod common;
use common::flood::*;
use common::netns::*;
use common::procfs::*;
use common::sim::{conn_pair, esp_tunnel_policy, ip, pair};
use rswan::ike::Command as IkeCommand;
use std::fmt::Write as _;
use std::fs;
use std::net::Ipv4Addr;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const R_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const G_ADDR: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
const P_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

/// Initiator cookie tags: the first byte of every forged MI1.
const TAG_SINGLE: u8 = 0xa1;
const TAG_FLOOD: u8 = 0xb1;
const TAG_PEER: u8 = 0xd1;

const FLOOD_RATE: f64 = 5000.0;
const FLOOD_TIME: Duration = Duration::from_secs(10);
const SINGLE_MI1S: u64 = 200;
const PEER_MI1S: u64 = 200;
const GARBAGE: u64 = 100_000;
const GARBAGE_RATE: f64 = 25_000.0;
/// How long a negotiation may take, and how long it is waited for.
const NEGOTIATION_LIMIT: f64 = 5.0;
const NEGOTIATION_WAIT: Duration = Duration::from_secs(20);
/// Replies to the single MI1s are counted this long after they went out:
/// past the old retransmissions at 10 s and 20 s.
const REPLY_WINDOW: Duration = Duration::from_secs(35);
/// The log limiter sums up after 60 s; the garbage's log is read after that.
const LOG_WINDOW: Duration = Duration::from_secs(62);

/// A real MI1 (ISAKMP header, SA with the default PSK proposals, vendor
/// IDs), made by the engine on the simulated network.
fn real_mi1() -> Vec<u8> {
    let (w, e) = conn_pair("probe", esp_tunnel_policy());
    let mut net = pair(1, false, w, e, "x", "x");
    net.unreachable.push(ip(1));
    net.command(0, IkeCommand::Initiate("probe".into()));
    net.advance(Duration::from_millis(100));
    net.wire
        .iter()
        .find(|p| p.from.ip() == ip(1))
        .map(|p| p.data.clone())
        .expect("the engine's MI1")
}

/// `mi1` with initiator cookie `tag`, `n` (3 bytes), 4 random bytes.
fn forged(mi1: &[u8], tag: u8, n: u64, rng: &mut Rng) -> Vec<u8> {
    let mut f = mi1.to_vec();
    f[0] = tag;
    f[1..4].copy_from_slice(&n.to_be_bytes()[5..]);
    rng.fill(&mut f[4..8]);
    f
}

/// A datagram pluto must refuse, of one of four kinds: too short for a
/// header; random bytes; a first message whose payloads are noise; a
/// message for a state that does not exist.
fn garbage(i: u64, rng: &mut Rng) -> Vec<u8> {
    match i % 4 {
        0 => {
            let mut g = vec![0u8; 1 + rng.below(27) as usize];
            rng.fill(&mut g);
            g
        }
        1 => {
            let mut g = vec![0u8; 28 + rng.below(572) as usize];
            rng.fill(&mut g);
            g
        }
        k => {
            let len = 28 + rng.below(400) as usize;
            let mut g = vec![0u8; len];
            rng.fill(&mut g);
            if k == 2 {
                g[8..16].fill(0);
                g[16] = 1; // SA
                g[18] = 2; // identity protection
                g[19] = 0;
            } else {
                g[16] = 8; // hash
                g[18] = 5; // informational
                g[19] = 1; // encrypted
            }
            g[17] = 0x10;
            g[24..28].copy_from_slice(&(len as u32).to_be_bytes());
            g
        }
    }
}

/// Samples a process's CPU time every 100 ms from `t0` on.
struct CpuSampler {
    samples: Arc<Mutex<Vec<(Duration, u64)>>>,
    stop: Arc<AtomicBool>,
}

impl CpuSampler {
    fn start(pid: u32, t0: Instant) -> CpuSampler {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (samples.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                if let Some(t) = cpu_ticks(pid) {
                    s.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((t0.elapsed(), t));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        CpuSampler { samples, stop }
    }

    /// Percent of one core used between `a` and `b` (after `t0`).
    fn percent(&self, a: Duration, b: Duration) -> f64 {
        let s = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        let at = |t: Duration| {
            s.iter()
                .min_by_key(|(d, _)| if *d > t { *d - t } else { t - *d })
                .copied()
        };
        match (at(a), at(b)) {
            (Some((da, ta)), Some((db, tb))) if db > da => {
                (tb - ta) as f64 / clock_ticks_per_s() / (db - da).as_secs_f64() * 100.0
            }
            _ => f64::NAN,
        }
    }
}

impl Drop for CpuSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Runs whack `args` for pluto `name` and times it; `None` if it did not end
/// within [`NEGOTIATION_WAIT`] (then it is killed).
fn timed_whack(lab: &Lab, name: &str, args: &[&str]) -> (f64, Option<Out>) {
    let p = lab.pluto(name);
    let mut all = vec!["whack", "--ctlbase", path_str(&p.ctlbase)];
    all.extend_from_slice(args);
    let start = Instant::now();
    let child = lab
        .ipsec_in(&p.ns, &all)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn whack");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(NEGOTIATION_WAIT) {
        Ok(Ok(o)) => (
            start.elapsed().as_secs_f64(),
            Some(Out {
                code: o.status.code(),
                stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            }),
        ),
        _ => {
            kill(pid, libc::SIGKILL);
            (start.elapsed().as_secs_f64(), None)
        }
    }
}

/// Seconds until `--initiate` reported the IPsec SA; infinity if it did not.
fn negotiation_time(lab: &Lab) -> (f64, String) {
    let (t, out) = timed_whack(lab, "p", &["--initiate", "--name", "secret"]);
    match out {
        Some(o) if o.stdout.contains("IPsec SA established") => (t, o.stdout),
        Some(o) => (f64::INFINITY, o.to_string()),
        None => (
            f64::INFINITY,
            format!("no answer within {NEGOTIATION_WAIT:?}"),
        ),
    }
}

/// The most frequent kinds of line in `log` (digits and addresses blanked),
/// with their counts and bytes: where a log's growth comes from.
fn log_kinds(log: &str, top: usize) -> String {
    let mut kinds: std::collections::HashMap<String, (u64, u64)> = Default::default();
    for line in log.lines() {
        let kind: String = line
            .chars()
            .map(|c| if c.is_ascii_hexdigit() { '#' } else { c })
            .take(90)
            .collect();
        let e = kinds.entry(kind).or_default();
        e.0 += 1;
        e.1 += line.len() as u64 + 1;
    }
    let mut v: Vec<_> = kinds.into_iter().collect();
    rswan::sort::sort_by_key(&mut v, |k| std::cmp::Reverse(k.1 .1));
    v.iter()
        .take(top)
        .map(|(k, (n, b))| format!("{n:>8} lines {b:>9} bytes  {k}\n"))
        .collect()
}

/// The summary table.
#[derive(Default)]
struct Table {
    rows: Vec<(String, String, String, Option<bool>)>,
}

impl Table {
    /// A measured number held to a limit.
    fn check(&mut self, name: &str, value: f64, limit: &str, pass: bool) {
        self.rows
            .push((name.into(), fmt_num(value), limit.into(), Some(pass)));
    }

    /// A number reported only.
    fn info(&mut self, name: &str, value: impl ToString) {
        self.rows
            .push((name.into(), value.to_string(), "-".into(), None));
    }

    fn render(&self) -> String {
        let mut s = format!(
            "{:<44} {:>14} {:>10}  {}\n",
            "name", "value", "limit", "result"
        );
        for (n, v, l, p) in &self.rows {
            let r = match p {
                Some(true) => "PASS",
                Some(false) => "FAIL",
                None => "info",
            };
            let _ = writeln!(s, "{n:<44} {v:>14} {l:>10}  {r}");
        }
        s
    }

    fn failed(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|r| r.3 == Some(false))
            .map(|r| r.0.as_str())
            .collect()
    }
}

fn fmt_num(v: f64) -> String {
    if v.is_infinite() {
        "timeout".into()
    } else if v.fract() == 0.0 && v.abs() < 1e12 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Sets up the four namespaces, links and routes (see the module comment).
fn topology(lab: &Lab) {
    let (p, r, a, g) = (lab.ns(0), lab.ns(1), lab.ns(2), lab.ns(3));
    let veth = |x: &str, y: &str, nx: &str, ny: &str, ax: &str, ay: &str| {
        let (vx, vy) = (format!("{}{x}", lab.tag), format!("{}{y}", lab.tag));
        sh(&[
            "ip", "link", "add", &vx, "netns", nx, "type", "veth", "peer", "name", &vy, "netns", ny,
        ]);
        sh(&["ip", "-n", nx, "addr", "add", ax, "dev", &vx]);
        sh(&["ip", "-n", ny, "addr", "add", ay, "dev", &vy]);
        sh(&["ip", "-n", nx, "link", "set", &vx, "up"]);
        sh(&["ip", "-n", ny, "link", "set", &vy, "up"]);
    };
    veth("a", "b", p, r, "192.0.2.1/24", "192.0.2.2/24");
    veth("c", "d", r, a, "198.51.100.2/24", "198.51.100.1/24");
    veth("e", "f", g, a, "203.0.113.2/24", "203.0.113.1/24");
    // Replies to forged sources go to the attacker, which takes them as local.
    for (ns, via) in [(r, "198.51.100.1"), (g, "203.0.113.1")] {
        sh(&["ip", "-n", ns, "route", "add", "198.18.0.0/15", "via", via]);
    }
    sh(&[
        "ip",
        "-n",
        a,
        "route",
        "add",
        "local",
        "198.18.0.0/15",
        "dev",
        "lo",
    ]);
    sh(&[
        "ip",
        "-n",
        a,
        "route",
        "add",
        "192.0.2.0/24",
        "via",
        "198.51.100.2",
    ]);
    // R takes packets claiming P's address from the attacker's link.
    for ns in [r, g] {
        sh(&[
            "ip",
            "netns",
            "exec",
            ns,
            "sh",
            "-c",
            "for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 > $f; done",
        ]);
    }
}

fn road_warrior(host: &str) -> Vec<&str> {
    vec![
        "--name",
        "rw",
        "--host",
        host,
        "--client",
        "10.0.2.0/24",
        "--nexthop",
        "%direct",
        "--to",
        "--host",
        "%any",
        "--psk",
        "--encrypt",
        "--tunnel",
        "--pfs",
    ]
}

#[test]
#[ignore = "the attack suite: root, network namespaces, about 70 s; `make attack`"]
fn attack_suite() {
    let mut lab = Lab::new(4);
    if let Ok(bin) = std::env::var("ATTACK_IPSEC") {
        if !bin.is_empty() {
            lab.bin = bin;
        }
    }
    eprintln!("attack suite: binary {}", lab.bin);
    topology(&lab);
    fs::write(
        lab.dir.join("ipsec.secrets"),
        format!("{SECRETS}%any : PSK \"road warrior secret\"\n"),
    )
    .expect("write ipsec.secrets");
    lab.start_pluto("p", 0);
    lab.start_pluto("r", 1);
    lab.start_pluto("g", 3);
    lab.whack_expect("p", CONN, 0);
    lab.whack_expect("r", CONN, 0);
    lab.whack_expect("r", &road_warrior("192.0.2.2"), 0);
    lab.whack_expect("g", &road_warrior("203.0.113.2"), 0);
    for n in ["p", "r", "g"] {
        lab.whack_expect(n, &["--listen"], 0);
    }
    let (r_pid, g_pid) = (lab.pid("r"), lab.pid("g"));
    let mi1 = real_mi1();
    let attacker = lab.ns(2).to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let (replies, counter) = spawn_counter(&attacker, &[TAG_SINGLE], stop.clone());
    let mut table = Table::default();
    let rss_r0 = status_kb(r_pid, "VmRSS:");
    let rss_g0 = status_kb(g_pid, "VmRSS:");

    // t0: the single MI1s from distinct sources, and the garbage (to G).
    let t0 = Instant::now();
    let cpu = CpuSampler::start(r_pid, t0);
    let g_log0 = fs::metadata(&lab.pluto("g").log)
        .map(|m| m.len())
        .unwrap_or(0);
    let single = {
        let (mi1, mut rng) = (mi1.clone(), Rng::seeded_by_clock());
        spawn_paced(&attacker, 1000.0, SINGLE_MI1S, move |i| {
            let src = Ipv4Addr::new(198, 19, 250 + (i / 250) as u8, 1 + (i % 250) as u8);
            (
                ipv4_udp(
                    src,
                    R_ADDR,
                    500,
                    500,
                    &forged(&mi1, TAG_SINGLE, i, &mut rng),
                ),
                R_ADDR,
            )
        })
    };
    let junk = {
        let mut rng = Rng::seeded_by_clock();
        spawn_paced(&attacker, GARBAGE_RATE, GARBAGE, move |i| {
            let src = rng.bench_addr();
            (
                ipv4_udp(src, G_ADDR, 500, 500, &garbage(i, &mut rng)),
                G_ADDR,
            )
        })
    };
    let single = single.join().expect("single MI1s");
    let junk = junk.join().expect("garbage");
    let rss_g1 = status_kb(g_pid, "VmRSS:");
    std::thread::sleep(Duration::from_secs(5).saturating_sub(t0.elapsed()));

    // The flood, with the real peer negotiating in the middle of it.
    let drops0 = udp_rcvbuf_errors(r_pid);
    let flood_start = t0.elapsed();
    let flood = {
        let (mi1, mut rng) = (mi1.clone(), Rng::seeded_by_clock());
        let count = (FLOOD_RATE * FLOOD_TIME.as_secs_f64()) as u64;
        spawn_paced(&attacker, FLOOD_RATE, count, move |i| {
            let src = rng.bench_addr();
            (
                ipv4_udp(src, R_ADDR, 500, 500, &forged(&mi1, TAG_FLOOD, i, &mut rng)),
                R_ADDR,
            )
        })
    };
    std::thread::sleep(Duration::from_secs(2));
    let (t_flood, flood_out) = negotiation_time(&lab);
    let flood = flood.join().expect("flood");
    let flood_end = t0.elapsed();
    let drops = udp_rcvbuf_errors(r_pid).saturating_sub(drops0);
    let rss_r1 = status_kb(r_pid, "VmRSS:");
    std::thread::sleep(Duration::from_secs(12));
    let cpu_during = cpu.percent(flood_start, flood_end);
    let after: Vec<f64> = (0..12)
        .map(|k| {
            let a = flood_end + Duration::from_secs(k);
            cpu.percent(a, a + Duration::from_secs(1))
        })
        .collect();

    // 200 forged MI1s claiming the real peer, then the real peer.
    lab.whack_expect("p", &["--terminate", "--name", "secret"], 0);
    std::thread::sleep(Duration::from_secs(1));
    let peer = {
        let (mi1, mut rng) = (mi1.clone(), Rng::seeded_by_clock());
        spawn_paced(&attacker, 2000.0, PEER_MI1S, move |i| {
            let f = forged(&mi1, TAG_PEER, i, &mut rng);
            (ipv4_udp(P_ADDR, R_ADDR, 500, 500, &f), R_ADDR)
        })
    };
    let peer = peer.join().expect("forged peer MI1s");
    std::thread::sleep(Duration::from_millis(200));
    let (t_peer, peer_out) = negotiation_time(&lab);

    // Replies to the single MI1s, past the old retransmissions.
    std::thread::sleep(REPLY_WINDOW.saturating_sub(t0.elapsed()));
    let counted = replies.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let per_mi1: Vec<u32> = counted.mr1_by_cookie.values().copied().collect();
    let answered = per_mi1.len() as f64 / SINGLE_MI1S as f64;
    let max_per_mi1 = per_mi1.iter().copied().max().unwrap_or(0);
    let total_single: u32 = per_mi1.iter().sum();

    // The garbage's log, once the log limiter's minute has ended.
    std::thread::sleep(LOG_WINDOW.saturating_sub(t0.elapsed()));
    let g_text = fs::read(&lab.pluto("g").log).unwrap_or_default();
    let g_log = (g_text.len() as u64).saturating_sub(g_log0);
    let rss_r2 = status_kb(r_pid, "VmRSS:");
    stop.store(true, Ordering::Relaxed);
    let _ = counter.join();
    let final_counts = replies.lock().unwrap_or_else(|p| p.into_inner()).clone();

    table.check(
        "negotiation_during_5000/s_mi1_flood_s",
        t_flood,
        "5",
        t_flood <= NEGOTIATION_LIMIT,
    );
    table.check(
        "negotiation_after_200_mi1s_from_peer_addr_s",
        t_peer,
        "5",
        t_peer <= NEGOTIATION_LIMIT,
    );
    table.info("flood_mi1s_sent", flood.sent);
    table.info("flood_rate_achieved_per_s", fmt_num(flood.rate().round()));
    table.info("flood_send_failures", flood.failed);
    table.info(
        "flood_mr1s_received",
        final_counts
            .mr1_by_tag
            .get(&TAG_FLOOD)
            .copied()
            .unwrap_or(0),
    );
    table.info("udp_rcvbuf_errors_during_flood", drops);
    table.info(
        "cpu_during_flood_pct",
        fmt_num((cpu_during * 10.0).round() / 10.0),
    );
    for (k, c) in after.iter().enumerate() {
        table.info(
            &format!("cpu_after_flood_{k}-{}s_pct", k + 1),
            fmt_num((c * 10.0).round() / 10.0),
        );
    }
    let idle_after = after[5..].iter().copied().fold(0.0, f64::max);
    table.check(
        "cpu_after_flood_max_5-12s_pct",
        (idle_after * 10.0).round() / 10.0,
        "<5",
        idle_after < 5.0,
    );
    table.info("single_mi1s_sent", single.sent);
    table.check(
        "single_mi1s_answered_fraction",
        answered,
        ">=0.9",
        answered >= 0.9,
    );
    table.check(
        "mr1s_per_forged_mi1_max_35s",
        f64::from(max_per_mi1),
        "<=1",
        max_per_mi1 <= 1,
    );
    table.info(
        "mr1s_per_forged_mi1_mean_35s",
        fmt_num(f64::from(total_single) / SINGLE_MI1S as f64),
    );
    table.info("peer_addr_mi1s_sent", peer.sent);
    table.info("garbage_sent", junk.sent);
    table.info("garbage_rate_achieved_per_s", fmt_num(junk.rate().round()));
    table.check(
        "garbage_log_bytes_after_60s",
        g_log as f64,
        "<1048576",
        g_log < 1 << 20,
    );
    table.info("responder_rss_kb_start", rss_r0);
    table.info("responder_rss_kb_after_flood", rss_r1);
    table.info("responder_rss_kb_end", rss_r2);
    table.info("garbage_responder_rss_kb_before", rss_g0);
    table.info("garbage_responder_rss_kb_after", rss_g1);
    // After floods, forged and real negotiations, and garbage, neither
    // responder has run a page of the code that only the other subcommands
    // run (ld/cold-text.ld): that segment adds nothing to pluto's RSS.
    for (name, pid) in [("r", r_pid), ("g", g_pid)] {
        match exec_mappings_rss_kb(pid).as_slice() {
            [cold, _] => table.check(
                &format!("{name}_cold_text_resident_kb"),
                *cold as f64,
                "0",
                *cold == 0,
            ),
            other => table.info(
                &format!("{name}_exec_mappings_resident_kb"),
                format!("{other:?} (no cold segment in this build)"),
            ),
        }
    }
    eprintln!("\n=== attack suite: {} ===\n{}", lab.bin, table.render());
    if g_log >= 1 << 20 {
        let added = g_text.get(g_log0 as usize..).unwrap_or_default();
        eprintln!(
            "the garbage responder's log grew by {g_log} bytes, most of it:\n{}",
            log_kinds(&String::from_utf8_lossy(added), 8)
        );
    }
    lab.assert_alive("r", "the attacks");
    lab.assert_alive("g", "the garbage");
    let failed = table.failed();
    assert!(
        failed.is_empty(),
        "limits failed: {failed:?}\n--- initiate during the flood ---\n{flood_out}\n\
         --- initiate after the forged peer MI1s ---\n{peer_out}"
    );
}
