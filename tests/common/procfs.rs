//! What /proc says about a process: CPU time, memory, and the UDP receive
//! drops of the network namespace it runs in (attack suite and benchmarks).

use std::fs;

/// utime + stime of `pid`, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `rest` starts at field 3.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

pub fn clock_ticks_per_s() -> f64 {
    // SAFETY: sysconf(3) has no memory effects.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

pub fn status_kb(pid: u32, key: &str) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The resident kB of each executable mapping of `pid`'s program, in address
/// order. The static `ipsec` has two: the code only the other subcommands
/// run (ld/cold-text.ld), then pluto's.
pub fn exec_mappings_rss_kb(pid: u32) -> Vec<u64> {
    let exe = fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
    let smaps = fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut out = Vec::new();
    let mut in_exec = false;
    for line in smaps.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["Rss:", kb, ..] if in_exec => {
                out.push(kb.parse().unwrap_or(0));
                in_exec = false;
            }
            [range, perms, _, _, _, path, ..] if range.contains('-') => {
                in_exec = perms.contains('x') && std::path::Path::new(path) == exe;
            }
            _ => {}
        }
    }
    out
}

/// UdpRcvbufErrors of the namespace `pid` lives in.
pub fn udp_rcvbuf_errors(pid: u32) -> u64 {
    let snmp = fs::read_to_string(format!("/proc/{pid}/net/snmp")).unwrap_or_default();
    let udp: Vec<&str> = snmp.lines().filter(|l| l.starts_with("Udp:")).collect();
    let (Some(names), Some(values)) = (udp.first(), udp.get(1)) else {
        return 0;
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == "RcvbufErrors")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}
