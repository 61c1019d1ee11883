//! Support for the tests that run pluto and whack as real processes in
//! network namespaces (tests/pluto_netns.rs): commands with deadlines, and a
//! [`Lab`] guard that owns namespaces, a directory and plutos.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_ipsec");
pub const WEST: &str = "192.0.2.1";
pub const EAST: &str = "192.0.2.2";
pub const TOPOLOGY: &str = "\"secret\": 10.0.1.0/24===192.0.2.1...192.0.2.2===10.0.2.0/24";
pub const SECRETS: &str = "192.0.2.1 192.0.2.2 : PSK \"a shared secret\"\n";

/// The connection of the seed example, as whack arguments.
pub const CONN: &[&str] = &[
    "--name",
    "secret",
    "--host",
    WEST,
    "--client",
    "10.0.1.0/24",
    "--to",
    "--host",
    EAST,
    "--client",
    "10.0.2.0/24",
    "--encrypt",
    "--tunnel",
    "--pfs",
    "--psk",
];

/// Limit for one whack or ip command.
pub const CMD_LIMIT: Duration = Duration::from_secs(30);
/// Limit for a daemon to come up, go away, or a peer to catch up.
pub const SETTLE: Duration = Duration::from_secs(10);

pub static SEQ: AtomicUsize = AtomicUsize::new(0);
/// `ip netns add` run concurrently can race on the /run/netns mount.
pub static NETNS_LOCK: Mutex<()> = Mutex::new(());

// ---------------------------------------------------------------------------
// Processes.

/// What a finished command left.
pub struct Out {
    /// Exit code; `None` if killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` to completion (stdin from /dev/null, output captured); kills it
/// and panics if it takes longer than `limit`.
pub fn run(cmd: &mut Command, limit: Duration) -> Out {
    let desc = format!("{cmd:?}");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {desc}: {e}"));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let result = match rx.recv_timeout(limit) {
        Ok(r) => r,
        Err(_) => {
            kill(pid, libc::SIGKILL);
            // Output ends once every holder of the pipes is gone; a daemon
            // that kept them is killed with its namespace by the Lab guard.
            let got = rx
                .recv_timeout(Duration::from_secs(5))
                .ok()
                .and_then(Result::ok)
                .map(|o| {
                    format!(
                        "{}{}",
                        String::from_utf8_lossy(&o.stdout),
                        String::from_utf8_lossy(&o.stderr)
                    )
                })
                .unwrap_or_else(|| "(output still held open by another process)".into());
            panic!("{desc} did not finish within {limit:?}; killed it. Output:\n{got}");
        }
    };
    let o = result.unwrap_or_else(|e| panic!("waiting for {desc}: {e}"));
    Out {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs an `ip` (or similar setup) command that must succeed.
pub fn sh(args: &[&str]) {
    let out = run(Command::new(args[0]).args(&args[1..]), CMD_LIMIT);
    assert_eq!(out.code, Some(0), "{args:?} failed: {out}");
}

pub fn kill(pid: u32, sig: i32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 1 {
        return false;
    }
    // SAFETY: kill(2) with a positive PID only sends a signal.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// True while `pid` is a running (not zombie) process.
pub fn pid_alive(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) S ...": the state follows the last ')'.
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].trim_start().chars().next());
    !matches!(state, None | Some('Z') | Some('X'))
}

pub fn cmdline(pid: u32) -> String {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// Polls `f` every few milliseconds until it gives `Ok` or `limit` passes;
/// then panics with `what` and the last `Err` (what was seen instead).
pub fn poll_until<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_millis(5);
    loop {
        match f() {
            Ok(v) => return v,
            Err(last) => {
                if Instant::now() >= deadline {
                    panic!("timed out after {limit:?} waiting for {what}; last seen:\n{last}");
                }
            }
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

pub fn wait_exit(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    poll_until(limit, what, || match child.try_wait() {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err("still running".into()),
        Err(e) => Err(e.to_string()),
    })
}

pub fn require_root() {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1).map(str::to_string));
    assert_eq!(
        euid.as_deref(),
        Some("0"),
        "the pluto_netns tests need root: they create network namespaces and veth pairs \
         with `ip netns` and run pluto on port 500 (effective uid is {euid:?}). \
         Run them as root, e.g. `sudo -E cargo test --test pluto_netns`."
    );
}

// ---------------------------------------------------------------------------
// The lab: namespaces, a directory, plutos.

pub struct Pluto {
    pub name: String,
    pub ns: String,
    pub ctlbase: PathBuf,
    pub log: PathBuf,
    pub child: Option<Child>,
}

pub struct Lab {
    /// The `ipsec` binary every command runs ([`BIN`] unless replaced).
    pub bin: String,
    pub tag: String,
    pub dir: PathBuf,
    pub namespaces: Vec<String>,
    pub plutos: Vec<Pluto>,
    /// ctlbases whose lock files may name a daemon not started as our child.
    pub ctlbases: Vec<PathBuf>,
}

impl Lab {
    /// `nodes` namespaces (lo up); with two, a veth pair between them with
    /// 192.0.2.1/24 in the first and 192.0.2.2/24 in the second.
    pub fn new(nodes: usize) -> Lab {
        require_root();
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        // At most 2 + 7 + 1 + 2 + 1 = 13 characters: fits IFNAMSIZ for the veth names.
        let tag = format!("rs{pid}t{n}");
        let dir = PathBuf::from(format!("/tmp/rswan-netns-{pid}-{n}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        // Searchable by others, so only the socket's own mode keeps them out.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod lab dir");
        fs::write(dir.join("ipsec.secrets"), SECRETS).expect("write ipsec.secrets");
        let mut lab = Lab {
            bin: BIN.to_string(),
            tag,
            dir,
            namespaces: Vec::new(),
            plutos: Vec::new(),
            ctlbases: Vec::new(),
        };
        for i in 0..nodes {
            let ns = format!("{}{}", lab.tag, ["w", "e", "x", "y"][i]);
            {
                let _g = NETNS_LOCK.lock().unwrap_or_else(|p| p.into_inner());
                let out = run(Command::new("ip").args(["netns", "add", &ns]), CMD_LIMIT);
                assert_eq!(
                    out.code,
                    Some(0),
                    "`ip netns add {ns}` failed (these tests need root and iproute2 with netns support): {out}"
                );
            }
            lab.namespaces.push(ns.clone());
            sh(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
        }
        if nodes == 2 {
            let (w, e) = (lab.namespaces[0].clone(), lab.namespaces[1].clone());
            let (vw, ve) = (format!("{}a", lab.tag), format!("{}b", lab.tag));
            sh(&[
                "ip", "link", "add", &vw, "netns", &w, "type", "veth", "peer", "name", &ve,
                "netns", &e,
            ]);
            sh(&["ip", "-n", &w, "addr", "add", "192.0.2.1/24", "dev", &vw]);
            sh(&["ip", "-n", &e, "addr", "add", "192.0.2.2/24", "dev", &ve]);
            sh(&["ip", "-n", &w, "link", "set", &vw, "up"]);
            sh(&["ip", "-n", &e, "link", "set", &ve, "up"]);
        }
        lab
    }

    pub fn ns(&self, i: usize) -> &str {
        &self.namespaces[i]
    }

    pub fn ctlbase(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn pluto(&self, name: &str) -> &Pluto {
        self.plutos
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no pluto {name}"))
    }

    pub fn pluto_mut(&mut self, name: &str) -> &mut Pluto {
        self.plutos
            .iter_mut()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no pluto {name}"))
    }

    /// `ip netns exec <ns> ipsec <args>`.
    pub fn ipsec_in(&self, ns: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns, &self.bin]).args(args);
        c
    }

    /// Starts `pluto --nofork --stderrlog --noklips` named `name` (ctlbase
    /// `<dir>/<name>`, log `<dir>/<name>.log`) in namespace `ns` and waits
    /// until its lock file holds its PID.
    pub fn start_pluto(&mut self, name: &str, ns: usize) {
        self.start_pluto_with(name, ns, &["--noklips"]);
    }

    /// As [`Lab::start_pluto`], with `options` instead of `--noklips`.
    pub fn start_pluto_with(&mut self, name: &str, ns: usize, options: &[&str]) {
        let ns = self.ns(ns).to_string();
        let ctlbase = self.ctlbase(name);
        let log = self.dir.join(format!("{name}.log"));
        let out = fs::File::create(self.dir.join(format!("{name}.out"))).expect("create .out");
        let err = fs::File::create(&log).expect("create .log");
        self.ctlbases.push(ctlbase.clone());
        let child = self
            .ipsec_in(
                &ns,
                &[
                    &[
                        "pluto",
                        "--nofork",
                        "--stderrlog",
                        "--ctlbase",
                        path_str(&ctlbase),
                        "--secretsfile",
                        path_str(&self.dir.join("ipsec.secrets")),
                    ][..],
                    options,
                ]
                .concat(),
            )
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn pluto");
        let pid = child.id();
        self.plutos.push(Pluto {
            name: name.to_string(),
            ns,
            ctlbase: ctlbase.clone(),
            log: log.clone(),
            child: Some(child),
        });
        let lock = with_suffix(&ctlbase, ".pid");
        let ctl = with_suffix(&ctlbase, ".ctl");
        let p = self.pluto_mut(name);
        poll_until(SETTLE, &format!("pluto {name} to start"), || {
            if let Some(c) = p.child.as_mut() {
                if let Ok(Some(s)) = c.try_wait() {
                    panic!(
                        "pluto {name} exited ({s}) while starting; log:\n{}",
                        fs::read_to_string(&log).unwrap_or_default()
                    );
                }
            }
            match read_pid(&lock) {
                Some(p) if p == pid && ctl.exists() => Ok(()),
                other => Err(format!(
                    "lock file pid {other:?}, socket exists: {}",
                    ctl.exists()
                )),
            }
        });
    }

    pub fn pid(&self, name: &str) -> u32 {
        self.pluto(name).child.as_ref().expect("pluto child").id()
    }

    /// Checks the pluto is still running.
    pub fn assert_alive(&mut self, name: &str, after: &str) {
        let log = self.pluto(name).log.clone();
        let p = self.pluto_mut(name);
        let c = p.child.as_mut().expect("pluto child");
        if let Ok(Some(s)) = c.try_wait() {
            panic!(
                "pluto {name} died after {after}: {s}; log:\n{}",
                fs::read_to_string(&log).unwrap_or_default()
            );
        }
        assert!(pid_alive(c.id()), "pluto {name} PID gone after {after}");
    }

    pub fn log(&self, name: &str) -> String {
        fs::read_to_string(&self.pluto(name).log).unwrap_or_default()
    }

    /// `whack --ctlbase <pluto's> <args>` in the pluto's namespace.
    pub fn whack(&self, name: &str, args: &[&str]) -> Out {
        let p = self.pluto(name);
        let mut all = vec!["whack", "--ctlbase", path_str(&p.ctlbase)];
        all.extend_from_slice(args);
        run(&mut self.ipsec_in(&p.ns, &all), CMD_LIMIT)
    }

    /// whack that must exit with `code`.
    pub fn whack_expect(&self, name: &str, args: &[&str], code: i32) -> Out {
        let out = self.whack(name, args);
        assert_eq!(
            out.code,
            Some(code),
            "whack {args:?} to {name}: expected exit {code}; got {out}\npluto log:\n{}",
            self.log(name)
        );
        out
    }

    /// `whack --status` output (must exit 0 and look like a status).
    pub fn status(&self, name: &str) -> String {
        let out = self.whack_expect(name, &["--status"], 0);
        assert!(
            out.stdout.contains("000 %myid = "),
            "whack --status to {name} gave no status: {out}"
        );
        out.stdout
    }

    /// Seed example up to an established IPsec SA: add the connection on both,
    /// listen on both, route and initiate on west (w), wait for east (e) to
    /// reach QUICK_R2. Returns the output of --initiate.
    pub fn establish(&mut self) -> Out {
        self.start_pluto("w", 0);
        self.start_pluto("e", 1);
        for n in ["w", "e"] {
            let out = self.whack_expect(n, CONN, 0);
            assert!(
                out.stdout
                    .contains("added connection description \"secret\""),
                "{out}"
            );
        }
        for n in ["w", "e"] {
            let out = self.whack_expect(n, &["--listen"], 0);
            assert!(out.stdout.contains("listening for IKE messages"), "{out}");
        }
        self.whack_expect("w", &["--route", "--name", "secret"], 0);
        let init = self.whack_expect("w", &["--initiate", "--name", "secret"], 0);
        assert!(
            init.stdout.contains("IPsec SA established"),
            "--initiate output lacks \"IPsec SA established\": {init}"
        );
        poll_until(SETTLE, "east to reach STATE_QUICK_R2", || {
            let s = self.status("e");
            if state_lines(&s).iter().any(|l| l.contains("STATE_QUICK_R2")) {
                Ok(())
            } else {
                Err(s)
            }
        });
        init
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let mut pids: Vec<u32> = Vec::new();
        for p in &self.plutos {
            if let Some(c) = &p.child {
                pids.push(c.id());
            }
        }
        for cb in &self.ctlbases {
            if let Some(pid) = read_pid(&with_suffix(cb, ".pid")) {
                if cmdline(pid).contains("pluto") {
                    pids.push(pid);
                }
            }
        }
        // Anything else left inside our namespaces (a forked pluto, a stuck whack).
        for ns in &self.namespaces {
            if let Ok(o) = Command::new("ip")
                .args(["netns", "pids", ns])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
            {
                pids.extend(
                    String::from_utf8_lossy(&o.stdout)
                        .split_whitespace()
                        .filter_map(|s| s.parse::<u32>().ok()),
                );
            }
        }
        rswan::sort::sort(&mut pids);
        pids.dedup();
        for &pid in &pids {
            if pid != std::process::id() {
                kill(pid, libc::SIGKILL);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for p in &mut self.plutos {
            if let Some(mut c) = p.child.take() {
                while !matches!(c.try_wait(), Ok(Some(_)) | Err(_)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        for ns in &self.namespaces {
            let _g = NETNS_LOCK.lock().unwrap_or_else(|p| p.into_inner());
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

pub fn with_suffix(base: &Path, suffix: &str) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

pub fn read_pid(lock: &Path) -> Option<u32> {
    fs::read_to_string(lock).ok()?.trim().parse().ok()
}

/// The `000 #...` lines of a status.
pub fn state_lines(status: &str) -> Vec<&str> {
    status.lines().filter(|l| l.starts_with("000 #")).collect()
}

pub fn has_state(status: &str, state: &str) -> bool {
    state_lines(status).iter().any(|l| l.contains(state))
}

/// The connection's topology line is there, as `000 "secret": <topology>; ...`.
pub fn has_topology(status: &str) -> bool {
    status
        .lines()
        .any(|l| l.starts_with(&format!("000 {TOPOLOGY};")))
}

// ---------------------------------------------------------------------------
// 1.
