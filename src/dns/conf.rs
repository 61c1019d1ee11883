//! `/etc/resolv.conf` and `/etc/hosts`, as glibc's stub resolver reads them
//! (the parts a stub needs: name servers, timeout, attempts, search list,
//! ndots; addresses by name).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// glibc's MAXNS: name servers beyond the third are not asked.
const MAX_SERVERS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvConf {
    pub servers: Vec<SocketAddr>,
    /// How long one query waits for its answer (`options timeout:`).
    pub timeout: Duration,
    /// Rounds over the servers (`options attempts:`).
    pub attempts: u32,
    /// Domains tried after (or, for a name with fewer dots than `ndots`,
    /// before) the name itself.
    pub search: Vec<String>,
    pub ndots: usize,
}

impl ResolvConf {
    /// What glibc assumes of a missing or empty file: the server on this
    /// host, 5 s, 2 attempts.
    fn defaults() -> ResolvConf {
        ResolvConf {
            servers: Vec::new(),
            timeout: Duration::from_secs(5),
            attempts: 2,
            search: Vec::new(),
            ndots: 1,
        }
    }

    /// Reads resolv.conf `text`; lines it does not know are skipped, as
    /// glibc skips them.
    pub fn parse(text: &str) -> ResolvConf {
        let mut c = ResolvConf::defaults();
        for line in text.lines() {
            let mut w = line.split_whitespace();
            match w.next() {
                Some("nameserver") => {
                    if let Some(ip) = w.next().and_then(|a| a.parse::<IpAddr>().ok()) {
                        if c.servers.len() < MAX_SERVERS {
                            c.servers.push(SocketAddr::new(ip, 53));
                        }
                    }
                }
                // The last of domain/search wins, as in glibc.
                Some("domain") => {
                    c.search = w.next().map(|d| vec![d.to_string()]).unwrap_or_default()
                }
                Some("search") => c.search = w.take(6).map(str::to_string).collect(),
                Some("options") => {
                    for o in w {
                        let num = |p: &str| o.strip_prefix(p).and_then(|n| n.parse::<u32>().ok());
                        if let Some(n) = num("timeout:") {
                            c.timeout = Duration::from_secs(u64::from(n.clamp(1, 30)));
                        } else if let Some(n) = num("attempts:") {
                            c.attempts = n.clamp(1, 5);
                        } else if let Some(n) = num("ndots:") {
                            c.ndots = n.min(15) as usize;
                        }
                    }
                }
                _ => {}
            }
        }
        if c.servers.is_empty() {
            c.servers
                .push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53));
        }
        c
    }

    /// The names to ask for, in order, for `name` as given.
    pub fn candidates(&self, name: &str) -> Vec<String> {
        if let Some(absolute) = name.strip_suffix('.') {
            return vec![absolute.to_string()];
        }
        let searched = self.search.iter().map(|d| format!("{name}.{d}"));
        if name.matches('.').count() >= self.ndots {
            std::iter::once(name.to_string()).chain(searched).collect()
        } else {
            searched.chain(std::iter::once(name.to_string())).collect()
        }
    }
}

/// The first address of the family asked for (`v6`) that `/etc/hosts`
/// text gives `name` (case does not matter).
pub fn hosts_lookup(text: &str, name: &str, v6: bool) -> Option<IpAddr> {
    let name = name.strip_suffix('.').unwrap_or(name);
    text.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let addr = w.next()?.parse::<IpAddr>().ok()?;
            (addr.is_ipv6() == v6 && w.any(|n| n.eq_ignore_ascii_case(name))).then_some(addr)
        })
        .next()
}
