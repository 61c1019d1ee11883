//! Running an updown command (spec §3.2; 2.4.9 `do_command_linux`'s
//! `popen` / `fgets` / `pclose`).
//!
//! [`run_command`] runs the text built by [`super::env::build`] with
//! `/bin/sh -c`, collects every output line and the exit status, and kills
//! the script's whole process group when it runs past a timeout (2.4.9
//! would block forever). The caller logs the result the way pluto does:
//! [`Outcome::log_lines`] gives `<verb> output: <line>` and
//! [`Outcome::failure`] gives `<verb> command exited with status N`.
//!
//! Differences from `popen`, all deliberate:
//! * the script gets `/dev/null` as stdin and runs in a process group of its
//!   own (so that a timeout can kill everything it started);
//! * the shell's own stderr is captured too (the command's leading `2>&1`
//!   only covers the script), interleaved by line;
//! * once the shell has exited, output is awaited for at most
//!   [`EOF_GRACE`] more: a background process that keeps the pipe open
//!   does not hold pluto up;
//! * lines are not folded at 255 bytes; at most [`MAX_OUTPUT`] bytes are
//!   kept, the rest is read and dropped.
//!
//! While a command runs, the caller must not reap children it did not start
//! (`waitpid(-1)` in a SIGCHLD handler), or the exit status is lost and an
//! error is returned — the reason 2.4.9 resets SIGCHLD around `popen`.
//!
//! pluto itself does not wait: it runs its commands through a
//! [`super::child::Runner`] driven by its event loop.

use super::child::{Job, Runner};
use mio::{Events, Poll, Token};
use std::fmt;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

/// The shell `popen` uses.
pub const SHELL: &str = "/bin/sh";

/// A reasonable timeout for an updown script.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long output is still awaited after the shell has exited.
pub const EOF_GRACE: Duration = Duration::from_secs(1);

/// At most this many bytes of output are kept.
pub const MAX_OUTPUT: usize = 1 << 20;

/// How the command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The shell exited with this status (0 = success).
    Exited(i32),
    /// The shell was killed by this signal.
    Signaled(i32),
    /// The command ran past the timeout; its process group was killed.
    TimedOut,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Exited(n) => write!(f, "exited with status {n}"),
            Status::Signaled(n) => write!(f, "exited with signal {n}"),
            Status::TimedOut => f.write_str("timed out and was killed"),
        }
    }
}

/// What running one command produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Every output line (stdout and stderr), without the newline; a
    /// final unterminated line is included. Invalid UTF-8 is replaced.
    pub lines: Vec<String>,
    /// How it ended.
    pub status: Status,
}

impl Outcome {
    /// Exit status 0 — the only success (spec §3.2).
    pub fn success(&self) -> bool {
        self.status == Status::Exited(0)
    }

    /// The lines as pluto logs them: `<verb> output: <line>`.
    pub fn log_lines(&self, verb: &str) -> Vec<String> {
        self.lines
            .iter()
            .map(|l| format!("{verb} output: {l}"))
            .collect()
    }

    /// The RC_LOG_SERIOUS message for a failure (`<verb> command exited
    /// with status N`, `... with signal N`, `... timed out and was
    /// killed`); `None` on success.
    pub fn failure(&self, verb: &str) -> Option<String> {
        if self.success() {
            None
        } else {
            Some(format!("{verb} command {}", self.status))
        }
    }
}

/// Runs `command` with `/bin/sh -c` and waits for it, at most `timeout`.
///
/// Errors are the cases where 2.4.9 logs `unable to popen` or `pclose
/// failed`: the shell could not be started, or its status could not be
/// collected. A timed-out command is not an error but
/// [`Status::TimedOut`], with the lines read until then.
pub fn run_command(command: &str, timeout: Duration) -> io::Result<Outcome> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(8);
    let mut runner = Runner::new(Token(0), 1, timeout);
    runner.enqueue(
        poll.registry(),
        Job {
            key: String::new(),
            tag: (),
            command: command.to_string(),
            chain: 0,
            stop_chain_on_failure: false,
        },
    );
    loop {
        let now = Instant::now();
        if let Some(done) = runner.poll(poll.registry(), now).pop() {
            return done.result;
        }
        let wait = runner
            .next_deadline(now)
            .map(|t| t.saturating_duration_since(now));
        match poll.poll(&mut events, wait) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for ev in events.iter() {
            runner.on_event(poll.registry(), ev.token());
        }
    }
}

pub(super) fn status_of(st: ExitStatus) -> Status {
    match (st.code(), st.signal()) {
        (Some(code), _) => Status::Exited(code),
        (None, Some(sig)) => Status::Signaled(sig),
        (None, None) => Status::Exited(-1),
    }
}

/// Splits the two byte streams into lines, in arrival order.
#[derive(Default)]
pub(super) struct Lines {
    partial: [Vec<u8>; 2],
    lines: Vec<String>,
    kept: usize,
    truncated: bool,
}

impl Lines {
    pub(super) fn push(&mut self, src: usize, data: &[u8]) {
        let room = MAX_OUTPUT.saturating_sub(self.kept);
        let data = if data.len() > room {
            self.truncated = true;
            &data[..room]
        } else {
            data
        };
        self.kept += data.len();
        let Some(buf) = self.partial.get_mut(src) else {
            return;
        };
        buf.extend_from_slice(data);
        while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
            let rest = buf.split_off(nl + 1);
            buf.truncate(nl);
            self.lines.push(String::from_utf8_lossy(buf).into_owned());
            *buf = rest;
        }
    }

    pub(super) fn finish(mut self, status: Status) -> Outcome {
        for buf in &mut self.partial {
            if !buf.is_empty() {
                self.lines.push(String::from_utf8_lossy(buf).into_owned());
                buf.clear();
            }
        }
        if self.truncated {
            self.lines
                .push(format!("[output truncated after {MAX_OUTPUT} bytes]"));
        }
        Outcome {
            lines: self.lines,
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_lines_and_exit_3() {
        let o = run_command(
            "2>&1 X='a b' sh -c 'echo \"first $X\"; echo second >&2; exit 3'",
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(o.lines, vec!["first a b".to_string(), "second".into()]);
        assert_eq!(o.status, Status::Exited(3));
        assert!(!o.success());
        assert_eq!(
            o.log_lines("route-client"),
            vec![
                "route-client output: first a b".to_string(),
                "route-client output: second".into()
            ]
        );
        assert_eq!(
            o.failure("route-client").as_deref(),
            Some("route-client command exited with status 3")
        );
    }

    #[test]
    fn success_unterminated_last_line_and_empty_lines() {
        let o = run_command("printf 'a\\n\\nb'", Duration::from_secs(10)).unwrap();
        assert_eq!(o.lines, vec!["a".to_string(), String::new(), "b".into()]);
        assert!(o.success());
        assert_eq!(o.failure("up-host"), None);
        let o = run_command("true", Duration::from_secs(10)).unwrap();
        assert_eq!(o.lines, Vec::<String>::new());
        assert_eq!(o.status, Status::Exited(0));
    }

    #[test]
    fn shell_errors_are_captured_too() {
        // No 2>&1 here: the shell's own complaint is still collected.
        let o = run_command("/nonexistent/updown", Duration::from_secs(10)).unwrap();
        assert_eq!(o.status, Status::Exited(127));
        assert_eq!(o.lines.len(), 1, "{:?}", o.lines);
        assert!(o.lines[0].contains("/nonexistent/updown"), "{:?}", o.lines);
    }

    #[test]
    fn signal() {
        let o = run_command("echo dying; kill -s TERM $$", Duration::from_secs(10)).unwrap();
        assert_eq!(o.lines, vec!["dying".to_string()]);
        assert_eq!(o.status, Status::Signaled(15));
        assert_eq!(
            o.failure("down-client").as_deref(),
            Some("down-client command exited with signal 15")
        );
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let start = Instant::now();
        // The shell forks `sleep` (it is not the last command), so killing
        // only the shell would leave `sleep` holding the pipe open.
        let o = run_command(
            "echo before; sleep 30; echo after",
            Duration::from_millis(300),
        )
        .unwrap();
        let took = start.elapsed();
        assert_eq!(o.status, Status::TimedOut);
        assert_eq!(o.lines, vec!["before".to_string()]);
        assert!(took < Duration::from_secs(5), "took {took:?}");
        assert_eq!(
            o.failure("route-host").as_deref(),
            Some("route-host command timed out and was killed")
        );
    }

    #[test]
    fn background_child_holding_the_pipe_does_not_block() {
        let start = Instant::now();
        let o = run_command("sleep 3 & echo done", Duration::from_secs(20)).unwrap();
        assert_eq!(o.status, Status::Exited(0));
        assert_eq!(o.lines, vec!["done".to_string()]);
        assert!(start.elapsed() < Duration::from_millis(2500));
    }

    #[test]
    fn output_is_capped() {
        let o = run_command(
            "head -c 1200000 /dev/zero | tr '\\0' 'x'; echo; echo end",
            Duration::from_secs(20),
        )
        .unwrap();
        assert!(o.success());
        let kept: usize = o
            .lines
            .iter()
            .take(o.lines.len() - 1)
            .map(String::len)
            .sum();
        assert_eq!(kept, MAX_OUTPUT);
        assert_eq!(
            o.lines.last().map(String::as_str),
            Some("[output truncated after 1048576 bytes]")
        );
    }

    #[test]
    fn status_display() {
        assert_eq!(Status::Exited(1).to_string(), "exited with status 1");
        assert_eq!(Status::Signaled(9).to_string(), "exited with signal 9");
    }
}
