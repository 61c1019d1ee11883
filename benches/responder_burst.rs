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
#[path = "common/pairs.rs"]
mod pairs;
#[path = "../tests/common/procfs.rs"]
#[allow(dead_code)]
mod procfs;
#[path = "../tests/common/shared_dh.rs"]
mod shared_dh;

use netns::{sh, Lab};
use pairs::{add_rw, cpu_secs, Spec};
use rswan::ike::crypto::{DhError, DhGroup, DhKeyPair, DhProvider, ModpDh};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

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
    add_rw(
        &mut lab,
        "e",
        &[
            "--ike",
            "3des-sha1-modp1536",
            "--esp",
            "3des-sha1",
            "--pfsgroup",
            "modp1536",
        ],
    );
    lab.whack_expect("e", &["--listen"], 0);
    let pid = lab.pid("e");
    let drops0 = procfs::udp_rcvbuf_errors(pid);
    let cpu0 = cpu_secs(pid);
    let spec = Spec {
        n,
        source,
        psk: PSK,
        window: usize::MAX,
        dh: Arc::new(OneKeyDh::default()),
        limit: LIMIT,
        debug: false,
    };
    let got = std::thread::spawn(move || pairs::generate(&west, &spec))
        .join()
        .expect("generator thread");
    let cpu = cpu_secs(pid) - cpu0;
    let drops = procfs::udp_rcvbuf_errors(pid) - drops0;
    Round {
        secs: got.secs,
        cpu,
        gen_cpu: got.cpu,
        drops,
        resends: got.resends,
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
