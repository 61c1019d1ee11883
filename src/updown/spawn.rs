//! Child processes through `posix_spawn`, without `std::process`.
//!
//! std's `Command` brings its environment map, its builder and its output
//! reader into the binary (about 25 KB of a static binary that has a size
//! budget) for the two things rswan spawns: updown commands and the `ip`
//! commands of `ipsec _updown`. This is what those need: argv, the current
//! environment, stdin from /dev/null, stdout and stderr as pipes, and
//! optionally a process group of its own.
//!
//! The child starts with an empty signal mask and every signal at its
//! default action: pluto blocks the signals it reads through a signalfd,
//! and a child must not inherit that.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// A started child: reap it with [`Child::wait`] or [`Child::try_wait`].
#[derive(Debug)]
pub struct Child {
    pid: libc::pid_t,
    status: Option<ExitStatus>,
}

/// A child and the read ends of its stdout and stderr.
#[derive(Debug)]
pub struct Spawned {
    pub child: Child,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

fn cstring(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "argument contains a NUL byte"))
}

/// A pipe, both ends close-on-exec: (read, write).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1; 2];
    // SAFETY: pipe2 writes two descriptors into the array it is given,
    // which has room for two.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors are new and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Starts `argv[0]` (looked up on PATH when `search`) with `argv`, the
/// current environment, stdin from /dev/null and stdout/stderr piped; in a
/// process group of its own when `own_group`.
pub fn spawn(argv: &[&OsStr], search: bool, own_group: bool) -> io::Result<Spawned> {
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let pid = start(argv, search, own_group, &out_w, &err_w)?;
    drop((out_w, err_w));
    Ok(Spawned {
        child: Child { pid, status: None },
        stdout: out_r,
        stderr: err_r,
    })
}

/// Starts `argv[0]` (a path) with `argv`, the current environment, stdin
/// from /dev/null and stdout/stderr on the descriptors given (a daemon's
/// log file, /dev/null): for a program that outlives us.
pub fn spawn_to(argv: &[&OsStr], stdout: &OwnedFd, stderr: &OwnedFd) -> io::Result<Child> {
    let pid = start(argv, false, false, stdout, stderr)?;
    Ok(Child { pid, status: None })
}

fn start(
    argv: &[&OsStr],
    search: bool,
    own_group: bool,
    out_w: &OwnedFd,
    err_w: &OwnedFd,
) -> io::Result<libc::pid_t> {
    let args = argv
        .iter()
        .map(|a| cstring(a))
        .collect::<io::Result<Vec<_>>>()?;
    let Some(prog) = args.first() else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no program"));
    };
    let env = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k;
            kv.push("=");
            kv.push(v);
            cstring(&kv)
        })
        .collect::<io::Result<Vec<_>>>()?;
    let mut argp: Vec<*mut libc::c_char> = args.iter().map(|a| a.as_ptr().cast_mut()).collect();
    argp.push(std::ptr::null_mut());
    let mut envp: Vec<*mut libc::c_char> = env.iter().map(|e| e.as_ptr().cast_mut()).collect();
    envp.push(std::ptr::null_mut());
    let devnull = c"/dev/null";
    let mut pid: libc::pid_t = 0;
    // SAFETY: the attribute and file-action objects are initialised before
    // use and destroyed after; every pointer handed to posix_spawn (path,
    // NULL-terminated argv and envp, /dev/null) points into CStrings and
    // Vecs that live until it returns; the descriptors are open (the pipes'
    // write ends, or the caller's descriptors, are dup2'd onto 1 and 2; the
    // pipe ends are close-on-exec, so the child keeps only 0, 1 and 2 of them).
    let rc = unsafe {
        use std::os::fd::AsRawFd;
        let mut fa: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        let mut at: libc::posix_spawnattr_t = std::mem::zeroed();
        libc::posix_spawn_file_actions_init(&mut fa);
        libc::posix_spawnattr_init(&mut at);
        let mut rc =
            libc::posix_spawn_file_actions_addopen(&mut fa, 0, devnull.as_ptr(), libc::O_RDONLY, 0);
        if rc == 0 {
            rc = libc::posix_spawn_file_actions_adddup2(&mut fa, out_w.as_raw_fd(), 1);
        }
        if rc == 0 {
            rc = libc::posix_spawn_file_actions_adddup2(&mut fa, err_w.as_raw_fd(), 2);
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigfillset(&mut all);
        libc::sigdelset(&mut all, libc::SIGKILL);
        libc::sigdelset(&mut all, libc::SIGSTOP);
        let mut flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF;
        if own_group {
            flags |= libc::POSIX_SPAWN_SETPGROUP;
        }
        if rc == 0 {
            rc = libc::posix_spawnattr_setsigmask(&mut at, &empty);
        }
        if rc == 0 {
            rc = libc::posix_spawnattr_setsigdefault(&mut at, &all);
        }
        if rc == 0 {
            rc = libc::posix_spawnattr_setpgroup(&mut at, 0);
        }
        if rc == 0 {
            // The flags are a short in the attribute object.
            rc = libc::posix_spawnattr_setflags(&mut at, flags as libc::c_short);
        }
        if rc == 0 {
            let f = if search {
                libc::posix_spawnp
            } else {
                libc::posix_spawn
            };
            rc = f(
                &mut pid,
                prog.as_ptr(),
                &fa,
                &at,
                argp.as_ptr(),
                envp.as_ptr(),
            );
        }
        libc::posix_spawn_file_actions_destroy(&mut fa);
        libc::posix_spawnattr_destroy(&mut at);
        rc
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(pid)
}

impl Spawned {
    /// Reads stdout and stderr to their ends (both at once, so that a child
    /// filling one pipe never waits on the other), then reaps the child.
    pub fn output(self) -> io::Result<(ExitStatus, Vec<u8>, Vec<u8>)> {
        use std::os::fd::AsRawFd;
        let Spawned {
            mut child,
            stdout,
            stderr,
        } = self;
        let mut open = [Some(stdout), Some(stderr)];
        let mut bufs = [Vec::new(), Vec::new()];
        let mut chunk = [0u8; 4096];
        while open.iter().any(Option::is_some) {
            let mut fds: Vec<libc::pollfd> = open
                .iter()
                .map(|f| libc::pollfd {
                    fd: f.as_ref().map_or(-1, |f| f.as_raw_fd()),
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            // SAFETY: poll reads and writes exactly fds.len() pollfd
            // entries of the Vec; negative descriptors are skipped.
            let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for ((p, slot), buf) in fds.iter().zip(open.iter_mut()).zip(bufs.iter_mut()) {
                let Some(fd) = slot.as_ref() else { continue };
                if p.revents == 0 {
                    continue;
                }
                // SAFETY: reads at most chunk.len() bytes into chunk from an
                // open descriptor we own.
                let n =
                    unsafe { libc::read(fd.as_raw_fd(), chunk.as_mut_ptr().cast(), chunk.len()) };
                match usize::try_from(n) {
                    Ok(0) => *slot = None,
                    Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                    Err(_) => {
                        let e = io::Error::last_os_error();
                        if e.kind() != io::ErrorKind::Interrupted {
                            *slot = None;
                        }
                    }
                }
            }
        }
        let [out, err] = bufs;
        Ok((child.wait()?, out, err))
    }
}

impl Child {
    pub fn id(&self) -> u32 {
        self.pid.unsigned_abs()
    }

    /// SIGKILL to the child itself, unless it has been reaped already.
    pub fn kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        // SAFETY: the pid is our unreaped child's, so it names no other
        // process.
        if unsafe { libc::kill(self.pid, libc::SIGKILL) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn reap(&mut self, flags: libc::c_int) -> io::Result<Option<ExitStatus>> {
        if let Some(s) = self.status {
            return Ok(Some(s));
        }
        loop {
            let mut st: libc::c_int = 0;
            // SAFETY: waitpid for our own child, writing its status into a
            // local.
            let r = unsafe { libc::waitpid(self.pid, &mut st, flags) };
            if r == self.pid {
                let s = ExitStatus::from_raw(st);
                self.status = Some(s);
                return Ok(Some(s));
            }
            if r == 0 {
                return Ok(None);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// The exit status if the child has exited (reaping it), else `None`.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.reap(libc::WNOHANG)
    }

    /// Waits for the child to exit and reaps it.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        self.reap(0)?
            .ok_or_else(|| io::Error::other("waitpid returned no status"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn run(argv: &[&str], group: bool) -> (ExitStatus, String, String, u32) {
        let argv: Vec<&OsStr> = argv.iter().map(OsStr::new).collect();
        let s = spawn(&argv, true, group).expect("spawn");
        let (mut child, o, e) = (s.child, s.stdout, s.stderr);
        let (mut out, mut err) = (String::new(), String::new());
        std::fs::File::from(o)
            .read_to_string(&mut out)
            .expect("stdout");
        std::fs::File::from(e)
            .read_to_string(&mut err)
            .expect("stderr");
        let pid = child.id();
        (child.wait().expect("wait"), out, err, pid)
    }

    #[test]
    fn exit_codes_signals_and_both_streams() {
        let (st, out, err, _) = run(&["sh", "-c", "echo out; echo err >&2; exit 3"], false);
        assert_eq!(
            (st.code(), out.as_str(), err.as_str()),
            (Some(3), "out\n", "err\n")
        );
        let (st, _, _, _) = run(&["sh", "-c", "kill -TERM $$"], false);
        assert_eq!(st.signal(), Some(libc::SIGTERM));
        let (_, out, _, _) = run(&["sh", "-c", "read x; echo \"[$x]\""], false);
        assert_eq!(out, "[]\n", "stdin is /dev/null");
    }

    #[test]
    fn output_takes_both_streams_past_a_pipe_full() {
        let argv = [
            "sh",
            "-c",
            "head -c 200000 /dev/zero >&2; echo done; exit 4",
        ];
        let argv: Vec<&OsStr> = argv.iter().map(OsStr::new).collect();
        let (st, out, err) = spawn(&argv, true, false)
            .expect("spawn")
            .output()
            .expect("output");
        assert_eq!(
            (st.code(), out.as_slice(), err.len()),
            (Some(4), &b"done\n"[..], 200_000)
        );
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let e = spawn(&[OsStr::new("/nonexistent/rswan-test")], false, false)
            .expect_err("no such program");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(spawn(&[], true, false).is_err());
        assert!(spawn(&[OsStr::new("a\0b")], true, false).is_err());
    }

    #[test]
    fn the_child_has_no_blocked_signals_and_its_own_group() {
        // Block a signal here, as pluto does for its signalfd.
        // SAFETY: changes only this test thread's signal mask, restored below.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGHUP);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
        let (_, out, _, pid) = run(
            &[
                "sh",
                "-c",
                "grep SigBlk /proc/self/status; ps -o pgid= -p $$ || cut -d' ' -f5 /proc/$$/stat",
            ],
            true,
        );
        // SAFETY: as above.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGHUP);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        }
        let mut lines = out.lines();
        assert_eq!(
            lines.next().map(|l| l.split_whitespace().last()),
            Some(Some("0000000000000000")),
            "{out}"
        );
        assert_eq!(
            lines.next().map(str::trim),
            Some(pid.to_string().as_str()),
            "{out}"
        );
    }

    #[test]
    fn kill_and_try_wait() {
        let s = spawn(&[OsStr::new("sleep"), OsStr::new("10")], true, false).expect("spawn");
        let mut c = s.child;
        assert!(c.try_wait().expect("try_wait").is_none());
        c.kill().expect("kill");
        assert_eq!(c.wait().expect("wait").signal(), Some(libc::SIGKILL));
        c.kill().expect("a reaped child is not signalled again");
    }
}
