//! Where pluto's lines go: syslog (ident "pluto", facility authpriv, with
//! the PID) or stderr with `--stderrlog`.

use super::syslog::{Severity, Syslog, FACILITY_AUTHPRIV};
use crate::ike::{Level, LogLine};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Longest line written, as the old pluto's LOG_WIDTH.
const LOG_WIDTH: usize = 1024;

/// The process's syslog connection, opened by the first syslog Logger.
static SYSLOG: OnceLock<Syslog> = OnceLock::new();

#[derive(Clone, Copy)]
pub enum Sink {
    Stderr,
    Syslog,
}

pub struct Logger {
    sink: Sink,
    pub debug: bool,
}

impl Logger {
    pub fn new(stderr: bool) -> Logger {
        if !stderr {
            SYSLOG.get_or_init(|| {
                Syslog::open(Path::new("/dev/log"), "pluto", FACILITY_AUTHPRIV, true)
            });
        }
        Logger {
            sink: if stderr { Sink::Stderr } else { Sink::Syslog },
            debug: false,
        }
    }

    /// Writes one line. Control characters are replaced so a peer cannot
    /// forge log lines through names it sends.
    pub fn line(&self, level: Level, text: &str) {
        if level == Level::Debug && !self.debug {
            return;
        }
        let mut clean: String = text
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        if clean.len() > LOG_WIDTH {
            let mut cut = LOG_WIDTH;
            while !clean.is_char_boundary(cut) {
                cut -= 1;
            }
            clean.truncate(cut);
        }
        match self.sink {
            Sink::Stderr => {
                let _ = writeln!(std::io::stderr(), "{clean}");
            }
            Sink::Syslog => {
                let severity = match level {
                    Level::Debug => Severity::Debug,
                    Level::Error => Severity::Err,
                    Level::Info | Level::Warn => Severity::Warning,
                };
                if let Some(s) = SYSLOG.get() {
                    s.send(severity, &clean);
                }
            }
        }
    }

    pub fn log(&self, l: &LogLine) {
        self.line(l.level, &l.to_string());
    }

    pub fn info(&self, text: &str) {
        self.line(Level::Info, text);
    }
}

/// The `log` crate's records (the kernel and socket modules warn through
/// it) go where pluto's own lines go: the bridge is installed once pluto
/// runs (after the fork), with the sink pluto chose; debug records pass
/// only while debugging is on (`--debug-*`, `whack --debug-*`).
struct Bridge {
    stderr: AtomicBool,
    debug: AtomicBool,
}

static BRIDGE: Bridge = Bridge {
    stderr: AtomicBool::new(true),
    debug: AtomicBool::new(false),
};

impl log::Log for Bridge {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Info || self.debug.load(Ordering::Relaxed)
    }

    fn log(&self, r: &log::Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let level = match r.level() {
            log::Level::Error => Level::Error,
            log::Level::Warn => Level::Warn,
            log::Level::Info => Level::Info,
            log::Level::Debug | log::Level::Trace => Level::Debug,
        };
        let sink = if self.stderr.load(Ordering::Relaxed) {
            Sink::Stderr
        } else {
            Sink::Syslog
        };
        let text = match level {
            Level::Warn => format!("WARNING: {}", r.args()),
            Level::Error => format!("ERROR: {}", r.args()),
            _ => r.args().to_string(),
        };
        Logger {
            sink,
            debug: self.debug.load(Ordering::Relaxed),
        }
        .line(level, &text);
    }

    fn flush(&self) {}
}

impl Logger {
    /// Sends the `log` crate's records to this logger's sink from now on.
    pub fn install_bridge(&self) {
        BRIDGE
            .stderr
            .store(matches!(self.sink, Sink::Stderr), Ordering::Relaxed);
        self.bridge_debug();
        // Only the first call installs it; later ones keep it.
        if log::set_logger(&BRIDGE).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
    }

    /// Debug records pass through the bridge exactly when `self.debug`.
    pub fn bridge_debug(&self) {
        BRIDGE.debug.store(self.debug, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_passes_warnings_and_debug_only_when_debugging() {
        let l = Logger {
            sink: Sink::Stderr,
            debug: false,
        };
        l.install_bridge();
        let meta = |level| log::MetadataBuilder::new().level(level).build();
        assert!(log::logger().enabled(&meta(log::Level::Warn)));
        assert!(!log::logger().enabled(&meta(log::Level::Debug)));
        let l = Logger {
            sink: Sink::Stderr,
            debug: true,
        };
        l.bridge_debug();
        assert!(log::logger().enabled(&meta(log::Level::Debug)));
        assert!(log::log_enabled!(log::Level::Warn));
    }
}
