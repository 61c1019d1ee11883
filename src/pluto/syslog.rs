//! pluto's syslog client: what glibc's `openlog("pluto", LOG_CONS |
//! LOG_NDELAY | LOG_PID, LOG_AUTHPRIV)` and `syslog()` did, written here
//! because glibc's syslog pulls its local-time and time-zone code into the
//! static binary (about 33 KB).
//!
//! A line goes to `/dev/log` as one datagram (one NUL-terminated record on
//! a stream socket, for daemons that offer only that) in RFC 3164's
//! `<PRI>TAG[PID]: MSG` form. It carries no TIMESTAMP: the daemon stamps the
//! time of arrival, as RFC 3164 §4.3.2 has a relay do, and syslogd, rsyslog
//! and journald all do. A daemon that restarted is reconnected once per
//! line; a line that still cannot be sent goes to `/dev/console`.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// LOG_AUTHPRIV: security messages that may be private.
pub const FACILITY_AUTHPRIV: u8 = 10 << 3;

/// Severities (RFC 3164 §4.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Err = 3,
    Warning = 4,
    Debug = 7,
}

enum Sock {
    Dgram(UnixDatagram),
    Stream(UnixStream),
}

impl Sock {
    fn connect(path: &Path) -> io::Result<Sock> {
        match UnixDatagram::unbound().and_then(|s| s.connect(path).map(|()| s)) {
            Ok(s) => Ok(Sock::Dgram(s)),
            // EPROTOTYPE: the socket is a stream one.
            Err(e) if e.raw_os_error() == Some(libc::EPROTOTYPE) => {
                UnixStream::connect(path).map(Sock::Stream)
            }
            Err(e) => Err(e),
        }
    }

    fn send(&mut self, record: &[u8]) -> io::Result<()> {
        match self {
            Sock::Dgram(s) => s.send(record).map(|_| ()),
            Sock::Stream(s) => {
                s.write_all(record)?;
                s.write_all(b"\0")
            }
        }
    }
}

/// One process-wide connection, as openlog's: pluto's lines and the `log`
/// crate's records (from any thread) share it.
pub struct Syslog {
    path: PathBuf,
    tag: &'static str,
    facility: u8,
    console: bool,
    sock: Mutex<Option<Sock>>,
}

impl Syslog {
    /// Connects now (LOG_NDELAY); a daemon that is not there yet is tried
    /// again at each line. `console`: LOG_CONS.
    pub fn open(path: &Path, tag: &'static str, facility: u8, console: bool) -> Syslog {
        Syslog {
            path: path.to_path_buf(),
            tag,
            facility,
            console,
            sock: Mutex::new(Sock::connect(path).ok()),
        }
    }

    /// Sends one line (the caller keeps control characters out of it).
    pub fn send(&self, severity: Severity, msg: &str) {
        let record = record(self.facility, severity, self.tag, std::process::id(), msg);
        if self.deliver(&record).is_err() && self.console {
            // LOG_CONS writes the line without its priority.
            let body = record.get(record.iter().position(|&b| b == b'>').map_or(0, |i| i + 1)..);
            if let Ok(mut c) = OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NOCTTY)
                .open("/dev/console")
            {
                let _ = c.write_all(body.unwrap_or_default());
                let _ = c.write_all(b"\r\n");
            }
        }
    }

    fn deliver(&self, record: &[u8]) -> io::Result<()> {
        let mut sock = self.sock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = sock.as_mut() {
            if s.send(record).is_ok() {
                return Ok(());
            }
        }
        // Not connected yet, or the daemon went away (ECONNREFUSED,
        // ENOTCONN, EPIPE): a new connection, once.
        *sock = None;
        let mut s = Sock::connect(&self.path)?;
        let sent = s.send(record);
        *sock = Some(s);
        sent
    }
}

/// `<PRI>TAG[PID]: MSG`, PRI = facility + severity.
pub fn record(facility: u8, severity: Severity, tag: &str, pid: u32, msg: &str) -> Vec<u8> {
    format!("<{}>{tag}[{pid}]: {msg}", facility | severity as u8).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn record_has_priority_tag_and_pid() {
        assert_eq!(
            record(
                FACILITY_AUTHPRIV,
                Severity::Warning,
                "pluto",
                42,
                "hi there"
            ),
            b"<84>pluto[42]: hi there".to_vec()
        );
        assert_eq!(
            record(FACILITY_AUTHPRIV, Severity::Debug, "pluto", 7, "x"),
            b"<87>pluto[7]: x".to_vec()
        );
        assert_eq!(
            record(FACILITY_AUTHPRIV, Severity::Err, "pluto", 7, "x")[..4],
            *b"<83>"
        );
    }

    fn daemon(path: &Path) -> UnixDatagram {
        let _ = std::fs::remove_file(path);
        let d = UnixDatagram::bind(path).expect("bind");
        d.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        d
    }

    fn recv(d: &UnixDatagram) -> String {
        let mut buf = [0u8; 2048];
        let n = d.recv(&mut buf).expect("a datagram");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn lines_reach_the_daemon_and_survive_its_restart() {
        let dir = std::env::temp_dir().join(format!("rswan-syslog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("log");
        // Opened before the daemon exists: the first line connects.
        let log = Syslog::open(&path, "pluto", FACILITY_AUTHPRIV, false);
        let d = daemon(&path);
        log.send(Severity::Warning, "first");
        let pid = std::process::id();
        assert_eq!(recv(&d), format!("<84>pluto[{pid}]: first"));
        log.send(Severity::Err, "second");
        assert_eq!(recv(&d), format!("<83>pluto[{pid}]: second"));
        // The daemon restarts on the same path: the old connection fails,
        // the line goes over a new one.
        drop(d);
        let d = daemon(&path);
        log.send(Severity::Debug, "third");
        assert_eq!(recv(&d), format!("<87>pluto[{pid}]: third"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn stream_daemon_gets_nul_terminated_records() {
        let dir = std::env::temp_dir().join(format!("rswan-syslog-s-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("log");
        let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let log = Syslog::open(&path, "pluto", FACILITY_AUTHPRIV, false);
        let (mut conn, _) = listener.accept().expect("connected at open");
        log.send(Severity::Warning, "one");
        log.send(Severity::Warning, "two");
        drop(log);
        let mut got = Vec::new();
        io::Read::read_to_end(&mut conn, &mut got).expect("read");
        let pid = std::process::id();
        assert_eq!(
            got,
            format!("<84>pluto[{pid}]: one\0<84>pluto[{pid}]: two\0").into_bytes()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
