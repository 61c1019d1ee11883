//! Where pluto's lines go: syslog (ident "pluto", facility authpriv, with
//! the PID) or stderr with `--stderrlog`.

use crate::ike::{Level, LogLine};
use std::ffi::CString;
use std::io::Write;

/// Longest line written, as the old pluto's LOG_WIDTH.
const LOG_WIDTH: usize = 1024;

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
            // SAFETY: openlog keeps the ident pointer; a 'static C string literal outlives the process.
            unsafe {
                libc::openlog(
                    c"pluto".as_ptr(),
                    libc::LOG_CONS | libc::LOG_NDELAY | libc::LOG_PID,
                    libc::LOG_AUTHPRIV,
                );
            }
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
                let prio = match level {
                    Level::Debug => libc::LOG_DEBUG,
                    Level::Error => libc::LOG_ERR,
                    Level::Info | Level::Warn => libc::LOG_WARNING,
                };
                if let Ok(c) = CString::new(clean) {
                    // SAFETY: "%s" with one valid NUL-terminated argument.
                    unsafe { libc::syslog(prio, c"%s".as_ptr(), c.as_ptr()) };
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
