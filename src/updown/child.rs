//! Updown commands as child processes of an event loop: queued per
//! connection, run in parallel across connections, never waited for.
//!
//! A [`Runner`] starts each command with `/bin/sh -c` (as
//! [`super::run::run_command`] describes: stdin `/dev/null`, a process
//! group of its own, stdout and stderr captured), registers its two pipes
//! and a pidfd with the caller's mio registry, and hands back a [`Done`]
//! from [`Runner::poll`] once the shell has exited and its output is read.
//!
//! Exit is learnt from a pidfd (`pidfd_open`): it becomes readable when
//! that one child exits, so nothing process-wide changes — no SIGCHLD
//! handler or blocked signal that the scripts would inherit, and no
//! `waitpid(-1)` that could reap a child someone else started. The status
//! itself is collected with `waitpid` on that pid. Where the kernel has no
//! pidfd (before 5.3) the runner asks for a short poll timeout instead.
//!
//! Ordering: the jobs of one key (a connection name) run one after the
//! other, in the order queued; jobs of different keys run at once. A job
//! marked [`Job::stop_chain_on_failure`] that fails drops the jobs of the
//! same [`Job::chain`] still queued behind it (a failed `route` cancels
//! the `up` queued with it); other queued jobs of that key still run.

use super::run::{status_of, Lines, Outcome, Status, EOF_GRACE, SHELL};
use super::spawn::{self, Child};
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use std::collections::{BTreeMap, VecDeque};
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Tokens used per running child: stdout, stderr, pidfd.
const TOKENS_PER_CHILD: usize = 4;

/// Poll interval when the kernel offers no pidfd.
const NO_PIDFD_POLL: Duration = Duration::from_millis(50);

/// One command to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job<T> {
    /// Jobs with the same key run in order, one at a time.
    pub key: String,
    /// What the command is, for the caller (e.g. its updown verb).
    pub tag: T,
    /// The shell command line.
    pub command: String,
    /// Jobs queued together; see [`Job::stop_chain_on_failure`].
    pub chain: u64,
    /// When this job fails, the jobs of its chain still queued are dropped.
    pub stop_chain_on_failure: bool,
}

/// A finished job.
#[derive(Debug)]
pub struct Done<T> {
    pub job: Job<T>,
    /// The output and exit status; an error if the shell could not be
    /// started or its status not collected.
    pub result: io::Result<Outcome>,
    /// Jobs of the chain dropped because this one failed.
    pub cancelled: Vec<Job<T>>,
    /// Jobs of the same key still queued after this one (and after the
    /// cancellation).
    pub queued_after: usize,
}

impl<T> Done<T> {
    /// Exit status 0.
    pub fn success(&self) -> bool {
        self.result.as_ref().is_ok_and(Outcome::success)
    }
}

/// One end of a pipe being read.
struct Pipe {
    file: Option<File>,
}

struct Running<T> {
    job: Job<T>,
    child: Child,
    pipes: [Pipe; 2],
    pidfd: Option<OwnedFd>,
    lines: Lines,
    deadline: Instant,
    /// Set once the shell has exited: its status and until when output is
    /// still awaited.
    exited: Option<(Status, Instant)>,
    killed: bool,
}

impl<T> Running<T> {
    fn eof(&self) -> bool {
        self.pipes.iter().all(|p| p.file.is_none())
    }
}

/// The child processes of an event loop and their queues.
pub struct Runner<T> {
    base: usize,
    timeout: Duration,
    queues: BTreeMap<String, VecDeque<Job<T>>>,
    slots: Vec<Option<Running<T>>>,
    finished: Vec<Done<T>>,
    next_chain: u64,
}

impl<T> Runner<T> {
    /// A runner whose children use the tokens `base ..` (four per child
    /// running at once, at most `max` at once); each command runs at most
    /// `timeout`.
    pub fn new(base: Token, max: usize, timeout: Duration) -> Runner<T> {
        Runner {
            base: base.0,
            timeout,
            queues: BTreeMap::new(),
            slots: (0..max.max(1)).map(|_| None).collect(),
            finished: Vec::new(),
            next_chain: 1,
        }
    }

    /// The token range this runner uses.
    pub fn owns(&self, token: Token) -> bool {
        token.0 >= self.base && token.0 < self.base + self.slots.len() * TOKENS_PER_CHILD
    }

    /// A fresh chain number for jobs queued together.
    pub fn new_chain(&mut self) -> u64 {
        self.next_chain += 1;
        self.next_chain
    }

    /// Queues a job behind the others of its key; starts it if none runs.
    pub fn enqueue(&mut self, reg: &Registry, job: Job<T>) {
        self.queues
            .entry(job.key.clone())
            .or_default()
            .push_back(job);
        self.start_ready(reg, Instant::now());
    }

    /// Nothing runs and nothing is queued or left to report.
    pub fn is_idle(&self) -> bool {
        self.finished.is_empty()
            && self.queues.values().all(VecDeque::is_empty)
            && self.slots.iter().all(Option::is_none)
    }

    /// Is a job of `key` running or queued?
    pub fn busy(&self, key: &str) -> bool {
        self.queues.get(key).is_some_and(|q| !q.is_empty())
            || self.slots.iter().flatten().any(|r| r.job.key == key)
    }

    /// When [`Runner::poll`] must next be called, at the latest.
    pub fn next_deadline(&self, now: Instant) -> Option<Instant> {
        if !self.finished.is_empty() {
            return Some(now);
        }
        self.slots
            .iter()
            .flatten()
            .map(|r| {
                let t = match r.exited {
                    Some((_, grace)) => grace,
                    None => r.deadline,
                };
                if r.pidfd.is_none() && r.exited.is_none() {
                    t.min(now + NO_PIDFD_POLL)
                } else {
                    t
                }
            })
            .min()
    }

    /// A readiness event for one of the runner's tokens: reads the output
    /// that is there. Exits are collected by [`Runner::poll`].
    pub fn on_event(&mut self, reg: &Registry, token: Token) {
        let Some(off) = token.0.checked_sub(self.base) else {
            return;
        };
        let (slot, which) = (off / TOKENS_PER_CHILD, off % TOKENS_PER_CHILD);
        let Some(Some(r)) = self.slots.get_mut(slot) else {
            return;
        };
        if which < 2 {
            read_pipe(reg, r, which);
        }
    }

    /// Collects exits, enforces timeouts and grace periods, starts queued
    /// jobs, and returns the jobs that finished.
    pub fn poll(&mut self, reg: &Registry, now: Instant) -> Vec<Done<T>> {
        for i in 0..self.slots.len() {
            let Some(Some(r)) = self.slots.get_mut(i) else {
                continue;
            };
            let failed = check(reg, r, now).err();
            let ended = matches!(r.exited, Some((_, grace)) if r.eof() || now >= grace);
            if failed.is_none() && !ended {
                continue;
            }
            let Some(Some(mut r)) = self.slots.get_mut(i).map(Option::take) else {
                continue;
            };
            let status = r.exited.map_or(Status::Exited(-1), |(s, _)| s);
            let lines = std::mem::take(&mut r.lines);
            let job = release(reg, r);
            match failed {
                Some(e) => self.complete(job, Err(e)),
                None => self.complete(job, Ok(lines.finish(status))),
            }
        }
        self.start_ready(reg, now);
        std::mem::take(&mut self.finished)
    }

    /// Kills every running child (and its process group), reaps it, and
    /// drops what is queued: the end of the event loop.
    pub fn kill_all(&mut self, reg: &Registry) -> Vec<Done<T>> {
        for i in 0..self.slots.len() {
            if let Some(Some(mut r)) = self.slots.get_mut(i).map(Option::take) {
                kill_group(&mut r.child);
                let _ = r.child.wait();
                for which in 0..2 {
                    read_pipe(reg, &mut r, which);
                }
                let lines = std::mem::take(&mut r.lines);
                let job = release(reg, r);
                self.finished.push(Done {
                    job,
                    result: Ok(lines.finish(Status::TimedOut)),
                    cancelled: Vec::new(),
                    queued_after: 0,
                });
            }
        }
        self.queues.clear();
        std::mem::take(&mut self.finished)
    }

    fn complete(&mut self, job: Job<T>, result: io::Result<Outcome>) {
        let failed = !result.as_ref().is_ok_and(Outcome::success);
        let queue = self.queues.entry(job.key.clone()).or_default();
        let mut cancelled = Vec::new();
        if failed && job.stop_chain_on_failure {
            let (drop, keep): (VecDeque<Job<T>>, VecDeque<Job<T>>) =
                queue.drain(..).partition(|j| j.chain == job.chain);
            *queue = keep;
            cancelled.extend(drop);
        }
        let queued_after = queue.len();
        self.finished.push(Done {
            job,
            result,
            cancelled,
            queued_after,
        });
    }

    /// Starts the head of every queue whose key has nothing running.
    fn start_ready(&mut self, reg: &Registry, now: Instant) {
        let keys: Vec<String> = self
            .queues
            .iter()
            .filter(|(k, q)| {
                !q.is_empty() && !self.slots.iter().flatten().any(|r| &r.job.key == *k)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            let Some(slot) = self.slots.iter().position(Option::is_none) else {
                return;
            };
            let Some(job) = self.queues.get_mut(&key).and_then(VecDeque::pop_front) else {
                continue;
            };
            match spawn(
                reg,
                self.base + slot * TOKENS_PER_CHILD,
                job,
                now + self.timeout,
            ) {
                Ok(r) => {
                    if let Some(s) = self.slots.get_mut(slot) {
                        *s = Some(r);
                    }
                }
                Err((job, e)) => self.complete(job, Err(e)),
            }
        }
        self.queues.retain(|_, q| !q.is_empty());
    }
}

impl<T> Drop for Runner<T> {
    /// No zombie and no orphaned script outlive the runner.
    fn drop(&mut self) {
        for r in self.slots.iter_mut().flatten() {
            kill_group(&mut r.child);
            let _ = r.child.wait();
        }
    }
}

/// Reads a running child's output, collects its exit, kills it when it
/// runs past its deadline. An error (its status could not be collected)
/// leaves it killed and reaped.
fn check<T>(reg: &Registry, r: &mut Running<T>, now: Instant) -> io::Result<()> {
    for which in 0..2 {
        read_pipe(reg, r, which);
    }
    if r.exited.is_some() {
        return Ok(());
    }
    match r.child.try_wait() {
        Ok(Some(st)) => {
            let status = if r.killed {
                Status::TimedOut
            } else {
                status_of(st)
            };
            r.exited = Some((status, now + EOF_GRACE));
            if let Some(fd) = r.pidfd.take() {
                let _ = reg.deregister(&mut SourceFd(&fd.as_raw_fd()));
            }
            // What the shell wrote just before exiting.
            for which in 0..2 {
                read_pipe(reg, r, which);
            }
        }
        Ok(None) if now >= r.deadline => {
            if !r.killed {
                kill_group(&mut r.child);
                r.killed = true;
            }
            // A SIGKILLed shell exits at once; its status is collected on
            // the pidfd event (or at this new deadline) like any other.
            r.deadline = now + NO_PIDFD_POLL;
        }
        Ok(None) => {}
        Err(e) => {
            kill_group(&mut r.child);
            let _ = r.child.wait();
            return Err(e);
        }
    }
    Ok(())
}

/// Deregisters a finished child's descriptors; gives its job back.
fn release<T>(reg: &Registry, mut r: Running<T>) -> Job<T> {
    for p in &mut r.pipes {
        if let Some(f) = p.file.take() {
            let _ = reg.deregister(&mut SourceFd(&f.as_raw_fd()));
        }
    }
    if let Some(fd) = r.pidfd.take() {
        let _ = reg.deregister(&mut SourceFd(&fd.as_raw_fd()));
    }
    r.job
}

fn spawn<T>(
    reg: &Registry,
    token: usize,
    job: Job<T>,
    deadline: Instant,
) -> Result<Running<T>, (Job<T>, io::Error)> {
    let argv = [
        OsStr::new(SHELL),
        OsStr::new("-c"),
        OsStr::new(&job.command),
    ];
    let (child, out, err) = match spawn::spawn(&argv, false, true) {
        Ok(s) => (s.child, Some(s.stdout), Some(s.stderr)),
        Err(e) => return Err((job, e)),
    };
    let mut r = Running {
        job,
        pidfd: None,
        pipes: [Pipe { file: None }, Pipe { file: None }],
        lines: Lines::default(),
        deadline,
        exited: None,
        killed: false,
        child,
    };
    let setup = (|| -> io::Result<()> {
        for (i, fd) in [out, err].into_iter().enumerate() {
            let Some(fd) = fd else { continue };
            set_nonblocking(&fd)?;
            reg.register(
                &mut SourceFd(&fd.as_raw_fd()),
                Token(token + i),
                Interest::READABLE,
            )?;
            if let Some(p) = r.pipes.get_mut(i) {
                p.file = Some(File::from(fd));
            }
        }
        if let Some(fd) = pidfd_open(r.child.id()) {
            reg.register(
                &mut SourceFd(&fd.as_raw_fd()),
                Token(token + 2),
                Interest::READABLE,
            )?;
            r.pidfd = Some(fd);
        }
        Ok(())
    })();
    match setup {
        Ok(()) => Ok(r),
        Err(e) => {
            kill_group(&mut r.child);
            let _ = r.child.wait();
            Err((release(reg, r), e))
        }
    }
}

/// Reads what a pipe holds, until it would block; at end of file the pipe
/// is closed and deregistered.
fn read_pipe<T>(reg: &Registry, r: &mut Running<T>, which: usize) {
    let mut buf = [0u8; 4096];
    let Some(pipe) = r.pipes.get_mut(which) else {
        return;
    };
    let Some(file) = pipe.file.as_mut() else {
        return;
    };
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => r.lines.push(which, buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if let Some(f) = pipe.file.take() {
        let _ = reg.deregister(&mut SourceFd(&f.as_raw_fd()));
    }
}

fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    let rc = unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK)
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A pidfd for our child `pid`, if the kernel has `pidfd_open`.
fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: pidfd_open takes a pid and flags; it returns a new descriptor
    // or -1. The pid is our unreaped child, so it cannot name another process.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: the descriptor was just returned to us and is owned by nobody else.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Kills the child's process group (the child is its leader) and the child
/// itself. Errors are ignored: the processes may be gone already. The
/// child is not reaped here.
fn kill_group(child: &mut Child) {
    if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill with a negative pid signals that process group; the
        // group is the one our unreaped child leads.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
    let _ = child.kill();
}

#[cfg(test)]
mod tests {
    use super::*;
    use mio::{Events, Poll};
    use std::path::PathBuf;

    /// A fresh scratch directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rswan-child-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn job(key: &str, tag: &str, command: &str, chain: u64, stop: bool) -> Job<String> {
        Job {
            key: key.into(),
            tag: tag.into(),
            command: command.into(),
            chain,
            stop_chain_on_failure: stop,
        }
    }

    /// Drives the runner like an event loop until it is idle (or `limit`
    /// passes); each finished job with the time it was reported. Also
    /// checks that no call into the runner blocks.
    fn drive(
        poll: &mut Poll,
        r: &mut Runner<String>,
        limit: Duration,
    ) -> Vec<(Instant, Done<String>)> {
        let end = Instant::now() + limit;
        let mut events = Events::with_capacity(16);
        let mut out = Vec::new();
        loop {
            let now = Instant::now();
            for d in r.poll(poll.registry(), now) {
                out.push((Instant::now(), d));
            }
            assert!(now.elapsed() < Duration::from_millis(500), "poll blocked");
            if r.is_idle() || now >= end {
                return out;
            }
            let until = r.next_deadline(now).map_or(end, |t| t.min(end));
            match poll.poll(&mut events, Some(until.saturating_duration_since(now))) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => r.unwrap(),
            }
            for ev in events.iter() {
                let t = Instant::now();
                assert!(r.owns(ev.token()));
                r.on_event(poll.registry(), ev.token());
                assert!(t.elapsed() < Duration::from_millis(500), "on_event blocked");
            }
        }
    }

    fn lines(d: &Done<String>) -> Vec<String> {
        d.result.as_ref().unwrap().lines.clone()
    }

    /// `pid` is gone and reaped: not even a zombie is left.
    fn reaped(pid: i32) -> bool {
        // SAFETY: signal 0 only checks that the process exists.
        let rc = unsafe { libc::kill(pid, 0) };
        rc != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
    }

    fn read_pid(path: &std::path::Path) -> i32 {
        std::fs::read_to_string(path)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    #[test]
    fn one_key_in_order_other_keys_in_parallel() {
        let dir = scratch("order");
        let log = dir.join("log");
        let l = log.display();
        let mut poll = Poll::new().unwrap();
        let mut r = Runner::new(Token(100), 8, Duration::from_secs(20));
        let start = Instant::now();
        r.enqueue(
            poll.registry(),
            job(
                "a",
                "a1",
                &format!("echo a1 >> {l}; echo one; sleep 1; echo a1-end >> {l}"),
                1,
                false,
            ),
        );
        r.enqueue(
            poll.registry(),
            job("a", "a2", &format!("echo a2 >> {l}; echo two"), 2, false),
        );
        r.enqueue(
            poll.registry(),
            job(
                "b",
                "b",
                &format!("sleep 0.2; echo b >> {l}; echo three >&2"),
                3,
                false,
            ),
        );
        assert!(
            start.elapsed() < Duration::from_millis(200),
            "enqueue blocked"
        );
        assert!(r.busy("a") && r.busy("b") && !r.busy("c"));
        let done = drive(&mut poll, &mut r, Duration::from_secs(20));
        let tags: Vec<&str> = done.iter().map(|(_, d)| d.job.tag.as_str()).collect();
        assert_eq!(tags, ["b", "a1", "a2"]);
        // b did not wait for a1; a2 waited for a1.
        assert!(
            done[0].0 < start + Duration::from_millis(900),
            "b was held up"
        );
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "a1\nb\na1-end\na2\n"
        );
        assert_eq!(lines(&done[0].1), ["three"]);
        assert_eq!(lines(&done[1].1), ["one"]);
        assert_eq!(lines(&done[2].1), ["two"]);
        assert!(done
            .iter()
            .all(|(_, d)| d.success() && d.cancelled.is_empty()));
        assert_eq!(done[1].1.queued_after, 1);
        assert!(r.is_idle());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failing_step_cancels_the_rest_of_its_chain_only() {
        let dir = scratch("chain");
        let d = dir.display();
        let mut poll = Poll::new().unwrap();
        let mut r = Runner::new(Token(0), 4, Duration::from_secs(20));
        r.enqueue(poll.registry(), job("c", "prepare", "true", 1, false));
        r.enqueue(
            poll.registry(),
            job("c", "route", "echo no route; exit 2", 1, true),
        );
        r.enqueue(
            poll.registry(),
            job("c", "up", &format!("touch {d}/up"), 1, false),
        );
        r.enqueue(
            poll.registry(),
            job("c", "down", &format!("touch {d}/down"), 2, false),
        );
        let done = drive(&mut poll, &mut r, Duration::from_secs(20));
        let tags: Vec<&str> = done.iter().map(|(_, d)| d.job.tag.as_str()).collect();
        assert_eq!(tags, ["prepare", "route", "down"]);
        let route = &done[1].1;
        assert!(!route.success());
        assert_eq!(route.result.as_ref().unwrap().status, Status::Exited(2));
        assert_eq!(lines(route), ["no route"]);
        let cancelled: Vec<&str> = route.cancelled.iter().map(|j| j.tag.as_str()).collect();
        assert_eq!(cancelled, ["up"]);
        assert_eq!(route.queued_after, 1);
        assert!(!dir.join("up").exists());
        assert!(dir.join("down").exists());
        // A failure without stop_chain_on_failure cancels nothing.
        r.enqueue(poll.registry(), job("c", "up", "exit 1", 3, false));
        r.enqueue(
            poll.registry(),
            job("c", "up2", &format!("touch {d}/up2"), 3, false),
        );
        let done = drive(&mut poll, &mut r, Duration::from_secs(20));
        assert_eq!(done.len(), 2);
        assert!(done[0].1.cancelled.is_empty());
        assert!(dir.join("up2").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn timeout_kills_the_group_and_reaps() {
        let dir = scratch("timeout");
        let d = dir.display();
        let mut poll = Poll::new().unwrap();
        let mut r = Runner::new(Token(0), 4, Duration::from_millis(400));
        let start = Instant::now();
        r.enqueue(
            poll.registry(),
            job(
                "t",
                "up",
                &format!(
                    "echo $$ > {d}/pid; echo before; sleep 30 & echo $! > {d}/bg; wait; echo after"
                ),
                1,
                false,
            ),
        );
        r.enqueue(poll.registry(), job("t", "next", "echo next", 2, false));
        let done = drive(&mut poll, &mut r, Duration::from_secs(20));
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "took {:?}",
            start.elapsed()
        );
        assert_eq!(done.len(), 2);
        let o = done[0].1.result.as_ref().unwrap();
        assert_eq!(o.status, Status::TimedOut);
        assert_eq!(o.lines, ["before"]);
        assert_eq!(
            o.failure("up").as_deref(),
            Some("up command timed out and was killed")
        );
        // The next job of the key still runs.
        assert_eq!(lines(&done[1].1), ["next"]);
        assert!(
            reaped(read_pid(&dir.join("pid"))),
            "the shell is left as a zombie"
        );
        // The background sleep of its group was killed too (it is not
        // our child: its parent's parent reaps it, so only check that
        // it is no longer running).
        let bg = read_pid(&dir.join("bg"));
        let state = std::fs::read_to_string(format!("/proc/{bg}/stat")).unwrap_or_default();
        assert!(
            state.is_empty() || state.contains(") Z "),
            "sleep still runs: {state}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn finished_children_are_reaped() {
        let dir = scratch("reap");
        let d = dir.display();
        let mut poll = Poll::new().unwrap();
        let mut r = Runner::new(Token(0), 4, Duration::from_secs(20));
        for k in ["x", "y", "z"] {
            r.enqueue(
                poll.registry(),
                job(k, k, &format!("echo $$ > {d}/{k}; exit 3"), 1, false),
            );
        }
        let done = drive(&mut poll, &mut r, Duration::from_secs(20));
        assert_eq!(done.len(), 3);
        for (_, dn) in &done {
            assert_eq!(dn.result.as_ref().unwrap().status, Status::Exited(3));
            assert!(reaped(read_pid(&dir.join(&dn.job.tag))));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn kill_all_ends_what_runs_and_drops_what_is_queued() {
        let dir = scratch("killall");
        let d = dir.display();
        let poll = Poll::new().unwrap();
        let mut r = Runner::new(Token(0), 4, Duration::from_secs(30));
        r.enqueue(
            poll.registry(),
            job(
                "k",
                "down",
                &format!("echo $$ > {d}/pid; echo going; exec sleep 30"),
                1,
                false,
            ),
        );
        r.enqueue(
            poll.registry(),
            job("k", "unroute", &format!("touch {d}/unroute"), 1, false),
        );
        // Let it start and write its output.
        let end = Instant::now() + Duration::from_secs(5);
        while !dir.join("pid").exists() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        let start = Instant::now();
        let done = r.kill_all(poll.registry());
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(done.len(), 1);
        let o = done[0].result.as_ref().unwrap();
        assert_eq!(o.status, Status::TimedOut);
        assert_eq!(o.lines, ["going"]);
        assert!(r.is_idle());
        assert!(reaped(read_pid(&dir.join("pid"))));
        assert!(!dir.join("unroute").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn with_every_slot_taken_the_next_key_waits() {
        let mut poll = Poll::new().unwrap();
        // One slot: the second key waits for the first to end.
        let mut r = Runner::new(Token(0), 1, Duration::from_secs(20));
        r.enqueue(
            poll.registry(),
            job("p", "p", "sleep 0.3; echo p", 1, false),
        );
        r.enqueue(poll.registry(), job("q", "q", "echo q", 2, false));
        let done = drive(&mut poll, &mut r, Duration::from_secs(20));
        let tags: Vec<&str> = done.iter().map(|(_, d)| d.job.tag.as_str()).collect();
        assert_eq!(tags, ["p", "q"]);
        assert!(!r.owns(Token(4)) && r.owns(Token(3)));
    }
}
