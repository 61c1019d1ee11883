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

use std::fmt;
use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// The shell `popen` uses.
pub const SHELL: &str = "/bin/sh";

/// A reasonable timeout for an updown script.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long output is still awaited after the shell has exited.
pub const EOF_GRACE: Duration = Duration::from_secs(1);

/// At most this many bytes of output are kept.
pub const MAX_OUTPUT: usize = 1 << 20;

/// How often the child is polled while no output arrives.
const POLL: Duration = Duration::from_millis(10);

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
    let mut child = Command::new(SHELL)
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let (tx, rx) = mpsc::channel();
    if let Err(e) = start_readers(&mut child, tx) {
        kill_group(&mut child);
        return Err(e);
    }
    let start = Instant::now();
    let deadline = start.checked_add(timeout);
    let mut out = Lines::default();
    let mut exited: Option<(ExitStatus, Option<Instant>)> = None;
    let mut eof = false;
    loop {
        if exited.is_none() {
            match child.try_wait() {
                Ok(Some(st)) => {
                    let grace = Instant::now().checked_add(EOF_GRACE);
                    exited = Some((st, earliest(grace, deadline)));
                }
                Ok(None) => {}
                Err(e) => {
                    kill_group(&mut child);
                    return Err(e);
                }
            }
        }
        let limit = match exited {
            Some((_, grace)) => grace,
            None => deadline,
        };
        if let (Some((st, _)), true) = (exited, eof) {
            return Ok(out.finish(status_of(st)));
        }
        let now = Instant::now();
        if limit.is_some_and(|l| now >= l) {
            return Ok(match exited {
                Some((st, _)) => {
                    drain(&rx, &mut out);
                    out.finish(status_of(st))
                }
                None => {
                    kill_group(&mut child);
                    drain(&rx, &mut out);
                    out.finish(Status::TimedOut)
                }
            });
        }
        let wait = limit.map_or(POLL, |l| POLL.min(l.saturating_duration_since(now)));
        if eof {
            std::thread::sleep(wait);
            continue;
        }
        match rx.recv_timeout(wait) {
            Ok((src, data)) => out.push(src, &data),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => eof = true,
        }
    }
}

/// The earlier of two optional instants (`None` = never).
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

fn status_of(st: ExitStatus) -> Status {
    match (st.code(), st.signal()) {
        (Some(code), _) => Status::Exited(code),
        (None, Some(sig)) => Status::Signaled(sig),
        (None, None) => Status::Exited(-1),
    }
}

/// Which pipe a chunk came from.
type Chunk = (usize, Vec<u8>);

/// One thread per pipe, each sending what it reads; the channel
/// disconnects when both have seen end of file.
fn start_readers(child: &mut Child, tx: Sender<Chunk>) -> io::Result<()> {
    enum Pipe {
        Out(ChildStdout),
        Err(ChildStderr),
    }
    let pipes = [
        child.stdout.take().map(Pipe::Out),
        child.stderr.take().map(Pipe::Err),
    ];
    for (src, pipe) in pipes.into_iter().enumerate() {
        let Some(pipe) = pipe else { continue };
        let tx = tx.clone();
        std::thread::Builder::new()
            .name("updown-output".into())
            .spawn(move || match pipe {
                Pipe::Out(p) => pump(src, p, &tx),
                Pipe::Err(p) => pump(src, p, &tx),
            })?;
    }
    Ok(())
}

fn pump(src: usize, mut pipe: impl Read, tx: &Sender<Chunk>) {
    let mut buf = [0u8; 4096];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if tx.send((src, buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Takes what the readers have already sent, without waiting.
fn drain(rx: &Receiver<Chunk>, out: &mut Lines) {
    while let Ok((src, data)) = rx.try_recv() {
        out.push(src, &data);
    }
}

/// Kills the child's process group (the child is its leader), then the
/// child itself should that fail, and reaps it. Errors are ignored: the
/// processes may be gone already.
fn kill_group(child: &mut Child) {
    let pgid = child.id();
    let _ = Command::new(SHELL)
        .arg("-c")
        .arg(format!("kill -s KILL -- -{pgid}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

/// Splits the two byte streams into lines, in arrival order.
#[derive(Default)]
struct Lines {
    partial: [Vec<u8>; 2],
    lines: Vec<String>,
    kept: usize,
    truncated: bool,
}

impl Lines {
    fn push(&mut self, src: usize, data: &[u8]) {
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

    fn finish(mut self, status: Status) -> Outcome {
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
