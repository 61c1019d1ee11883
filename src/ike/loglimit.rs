//! Rate limits for the log lines about packets that belong to no state: a
//! flood of forged or broken datagrams must not write a line each. Per
//! source address and in total, the first lines of each minute are written;
//! the rest are counted and summed up in one line per source when the
//! minute ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The period the limits count over.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Lines per source address and window.
pub const PER_SOURCE: u32 = 10;
/// Lines in all and per window.
pub const GLOBAL: u32 = 200;
/// Sources counted one by one per window; beyond them (a spoofed flood
/// from many addresses) suppressed lines are counted together.
pub const MAX_SOURCES: usize = 4096;
/// Summary lines naming a source, at most, per window (those that lost the
/// most lines); the other sources' counts go into one more line.
pub const MAX_SUMMARIES: usize = 20;

#[derive(Debug, Default)]
pub struct LogLimiter {
    /// The current window began then (`None`: nothing logged yet).
    start: Option<Instant>,
    written: u32,
    /// Per source: lines written and lines suppressed in this window.
    sources: HashMap<IpAddr, (u32, u64)>,
    /// Lines suppressed from sources past [`MAX_SOURCES`].
    others: u64,
}

impl LogLimiter {
    /// Whether a line about a packet from `src` may be written at `now`.
    /// Call [`LogLimiter::roll`] first so that a finished window is summed up.
    pub fn allow(&mut self, now: Instant, src: IpAddr) -> bool {
        self.start.get_or_insert(now);
        let known = self.sources.len() < MAX_SOURCES || self.sources.contains_key(&src);
        if !known {
            self.others += 1;
            return false;
        }
        let (lines, suppressed) = self.sources.entry(src).or_default();
        if *lines >= PER_SOURCE || self.written >= GLOBAL {
            *suppressed += 1;
            return false;
        }
        *lines += 1;
        self.written += 1;
        true
    }

    /// When the window ends, if there is anything to sum up then.
    pub fn deadline(&self) -> Option<Instant> {
        let pending = self.others > 0 || self.sources.values().any(|(_, s)| *s > 0);
        self.start.filter(|_| pending).map(|s| s + WINDOW)
    }

    /// If the window is over at `now`: the summary lines of what it
    /// suppressed, and a fresh window.
    pub fn roll(&mut self, now: Instant) -> Vec<String> {
        let Some(start) = self.start else {
            return Vec::new();
        };
        if now < start + WINDOW {
            return Vec::new();
        }
        let mut lines: Vec<(IpAddr, u64)> = self
            .sources
            .drain()
            .filter(|(_, (_, s))| *s > 0)
            .map(|(ip, (_, s))| (ip, s))
            .collect();
        // Most suppressed first; by address among equals, for a stable order.
        crate::sort::sort_by(&mut lines, &mut |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let rest = lines.split_off(lines.len().min(MAX_SUMMARIES));
        let mut out: Vec<String> = lines
            .into_iter()
            .map(|(ip, n)| {
                format!(
                    "suppressed {n} log lines about packets from {ip} in the last {}s",
                    WINDOW.as_secs()
                )
            })
            .collect();
        let (others, sources) = (
            self.others + rest.iter().map(|(_, n)| n).sum::<u64>(),
            rest.len(),
        );
        if others > 0 {
            out.push(format!(
                "suppressed {others} log lines about packets from {} other sources in the last {}s",
                if self.others > 0 {
                    format!(
                        "{sources} + more than {}",
                        MAX_SOURCES - sources.min(MAX_SOURCES)
                    )
                } else {
                    sources.to_string()
                },
                WINDOW.as_secs()
            ));
        }
        *self = LogLimiter::default();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn per_source_limit_then_one_summary_per_source() {
        let t0 = Instant::now();
        let mut l = LogLimiter::default();
        let a = (0..50).filter(|_| l.allow(t0, ip(1))).count();
        let b = (0..3).filter(|_| l.allow(t0, ip(2))).count();
        assert_eq!((a, b), (PER_SOURCE as usize, 3));
        assert_eq!(l.deadline(), Some(t0 + WINDOW));
        assert!(l.roll(t0 + WINDOW - Duration::from_secs(1)).is_empty());
        let s = l.roll(t0 + WINDOW);
        assert_eq!(
            s,
            vec!["suppressed 40 log lines about packets from 10.0.0.1 in the last 60s".to_string()]
        );
        // A new window writes again, and nothing is pending.
        assert_eq!(l.deadline(), None);
        assert!(l.allow(t0 + WINDOW, ip(1)));
    }

    #[test]
    fn global_limit_and_many_sources_stay_bounded() {
        let t0 = Instant::now();
        let mut l = LogLimiter::default();
        let written = (0..(MAX_SOURCES as u32 + 1000))
            .filter(|n| l.allow(t0, ip(*n)))
            .count();
        assert_eq!(written, GLOBAL as usize);
        assert!(l.sources.len() <= MAX_SOURCES);
        let s = l.roll(t0 + WINDOW);
        // The sources that lost most by name, then one line for the rest.
        assert_eq!(s.len(), MAX_SUMMARIES + 1);
        let named = MAX_SOURCES - GLOBAL as usize;
        assert_eq!(
            s[s.len() - 1],
            format!(
                "suppressed {} log lines about packets from {} + more than {} other sources in the last 60s",
                named - MAX_SUMMARIES + 1000,
                named - MAX_SUMMARIES,
                MAX_SOURCES - (named - MAX_SUMMARIES)
            )
        );
    }

    #[test]
    fn the_sources_that_lost_most_are_named() {
        let t0 = Instant::now();
        let mut l = LogLimiter::default();
        for n in 0..100u32 {
            for _ in 0..(PER_SOURCE + 1 + n % 7) {
                l.allow(t0, ip(n));
            }
        }
        let s = l.roll(t0 + WINDOW);
        assert_eq!(s.len(), MAX_SUMMARIES + 1);
        // Sources 0..20 wrote 10 lines each and used up the global budget;
        // 20..100 lost all theirs, 17 at most (n % 7 == 6: 12 of them).
        assert!(s[0].starts_with("suppressed 17 log lines about packets from 10.0.0.20 "));
        assert_eq!(
            s.iter().filter(|l| l.starts_with("suppressed 17 ")).count(),
            12
        );
        assert!(s[12].starts_with("suppressed 16 "), "{}", s[12]);
        assert!(
            s[MAX_SUMMARIES].contains(" from 80 other sources "),
            "{}",
            s[MAX_SUMMARIES]
        );
    }
}
