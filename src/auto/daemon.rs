//! The pluto process of `ipsec setup`: start it from `config setup`, find
//! it, stop it and check that it left nothing behind.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::conf::Setup;
use crate::pluto::options::{self, Parsed};

/// Where the pluto of a `config setup` keeps its control socket and lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub ctl: PathBuf,
    pub lock: PathBuf,
}

impl Paths {
    /// The control socket as a string for the control client.
    pub fn ctl_str(&self) -> String {
        self.ctl.to_string_lossy().into_owned()
    }
}

/// The paths pluto will use with these arguments (`--ctlbase` may come
/// from `plutoopts=`), parsed by pluto's own option parser.
pub fn paths(pluto_args: &[String]) -> Result<Paths, String> {
    match options::parse(pluto_args) {
        Ok(Parsed::Run(c)) => Ok(Paths {
            ctl: c.ctl_path(),
            lock: c.lock_path(),
        }),
        Ok(_) => Err("the pluto options of config setup ask for help or the version".into()),
        Err(e) => Err(format!("the pluto options of config setup: {e}")),
    }
}

/// The pid in pluto's lock file, if there is one.
pub fn lock_pid(lock: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(lock).ok()?;
    text.trim().parse().ok().filter(|p| *p > 0)
}

/// True if process `pid` exists.
pub fn alive(pid: u32) -> bool {
    let Ok(p) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks that the process exists.
    unsafe { libc::kill(p, 0) == 0 }
}

/// Whether process `pid` runs pluto (a stale lock file may name a pid
/// that another program has by now).
fn is_pluto(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
        c.split(|b| *b == 0)
            .take(2)
            .any(|a| a == b"pluto" || a.ends_with(b"/pluto"))
    })
}

fn signal(pid: u32, sig: libc::c_int) {
    if let Ok(p) = libc::pid_t::try_from(pid) {
        // SAFETY: sends a signal to one process; no memory is involved.
        unsafe { libc::kill(p, sig) };
    }
}

/// Polls `done` every 50 ms for at most `limit`.
fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Is a pluto running there: Some(pid) when its control socket answers
/// (pid 0 if its lock file says nothing).
pub fn running(p: &Paths) -> Option<u32> {
    crate::control_client::answers(&p.ctl_str()).then(|| lock_pid(&p.lock).unwrap_or(0))
}

fn open_null() -> Result<OwnedFd, String> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map(OwnedFd::from)
        .map_err(|e| format!("cannot open /dev/null: {e}"))
}

/// Starts `ipsec pluto` (this very binary) with `setup`'s arguments as a
/// daemon: pluto forks, its first process exits once the control socket
/// and the lock exist. stderr goes to `plutostderrlog=` (appended) or
/// nowhere. Returns once the control socket answers.
pub fn start(setup: &Setup, p: &Paths) -> Result<u32, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let null = open_null()?;
    let err: OwnedFd = match &setup.stderr_log {
        Some(log) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map(OwnedFd::from)
            .map_err(|e| format!("plutostderrlog={}: {e}", log.display()))?,
        None => open_null()?,
    };
    let mut argv: Vec<&OsStr> = vec![exe.as_os_str(), OsStr::new("pluto")];
    argv.extend(setup.pluto_args.iter().map(OsStr::new));
    let mut child = crate::updown::spawn::spawn_to(&argv, &null, &err)
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let status = child
        .wait()
        .map_err(|e| format!("waiting for pluto: {e}"))?;
    if !status.success() {
        let how = setup
            .stderr_log
            .as_ref()
            .map_or(" (see syslog)".to_string(), |l| {
                format!(" (see {})", l.display())
            });
        return Err(format!("pluto did not start: {status}{how}"));
    }
    if !wait_for(Duration::from_secs(10), || running(p).is_some()) {
        return Err(format!(
            "pluto started, but its control socket {} does not answer",
            p.ctl.display()
        ));
    }
    Ok(lock_pid(&p.lock).unwrap_or(0))
}

/// How [`stop`] went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// Nothing was running.
    NotRunning,
    /// pluto ended after `whack --shutdown` (or SIGTERM, if it did not).
    Clean { pid: u32, how: &'static str },
    /// pluto had to be killed: it could not take its SAs and policies out.
    Killed { pid: u32 },
}

/// SIGTERM (pluto's clean exit), then SIGKILL if it is still there after 5 s.
fn terminate(pid: u32) -> Stopped {
    signal(pid, libc::SIGTERM);
    if wait_for(Duration::from_secs(5), || !alive(pid)) {
        return Stopped::Clean {
            pid,
            how: "SIGTERM",
        };
    }
    signal(pid, libc::SIGKILL);
    wait_for(Duration::from_secs(2), || !alive(pid));
    Stopped::Killed { pid }
}

/// Stops the pluto at `p`: `--shutdown` (pluto deletes its states, SAs
/// and policies, its socket and lock), then SIGTERM after 10 s and SIGKILL
/// after 5 more. A lock file or socket left by a pluto that is gone is
/// removed.
pub fn stop(p: &Paths) -> Result<Stopped, String> {
    let pid = lock_pid(&p.lock);
    let outcome = if running(p).is_some() {
        let msg = crate::ctl::WhackMessage {
            shutdown: true,
            ..crate::ctl::WhackMessage::default()
        };
        let _ = crate::control_client::send(crate::control_client::Call::new(&msg, &p.ctl_str()));
        match pid {
            Some(pid) => {
                if wait_for(Duration::from_secs(10), || !alive(pid)) {
                    Stopped::Clean {
                        pid,
                        how: "whack --shutdown",
                    }
                } else {
                    terminate(pid)
                }
            }
            // No lock to name the process: the socket going away says it ended.
            None => {
                if !wait_for(Duration::from_secs(10), || running(p).is_none()) {
                    return Err(format!(
                        "pluto still answers on {} after --shutdown, and {} names no process",
                        p.ctl.display(),
                        p.lock.display()
                    ));
                }
                Stopped::Clean {
                    pid: 0,
                    how: "whack --shutdown",
                }
            }
        }
    } else {
        match pid {
            Some(pid) if alive(pid) && is_pluto(pid) => {
                // A pluto holds the lock but does not answer: end it.
                terminate(pid)
            }
            _ => Stopped::NotRunning,
        }
    };
    // What a pluto that is gone left behind (it removes both when it ends
    // normally).
    for f in [&p.ctl, &p.lock] {
        if f.exists() {
            std::fs::remove_file(f).map_err(|e| format!("cannot remove {}: {e}", f.display()))?;
        }
    }
    Ok(outcome)
}
