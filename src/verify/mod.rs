//! `ipsec verify`: what a gateway needs, checked one line at a time.
//!
//! Each check is a function of a [`System`] (the files and probes it
//! reads), so the tests run every check on fake systems; [`Real`] is the
//! machine itself.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod real;
#[cfg(test)]
mod tests;

pub use real::Real;

use crate::conf::{Config, Severity};

/// What the checks read of the machine.
pub trait System {
    /// A file's contents (`/proc`, `/sys`, `/lib/modules`), if readable.
    fn read(&self, path: &str) -> Option<String>;
    /// Whether a path exists.
    fn exists(&self, path: &str) -> bool;
    /// Owner uid and permission bits of a file.
    fn owner_mode(&self, path: &str) -> Option<(u32, u32)>;
    /// Whether an XFRM netlink socket can be opened (NETKEY).
    fn xfrm_netlink(&self) -> bool;
    /// Whether pluto answers on its control socket.
    fn pluto_answers(&self) -> bool;
    /// The kernel release (`uname -r`).
    fn kernel_release(&self) -> String;
}

/// A check's verdict, as Openswan's verify printed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
    Warning,
    NotApplicable,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "OK",
            Outcome::Failed => "FAILED",
            Outcome::Warning => "WARNING",
            Outcome::NotApplicable => "N/A",
        }
    }
}

/// One line of the report, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub title: String,
    pub outcome: Outcome,
    /// Indented lines under the check: what was found, what to fix.
    pub detail: Vec<String>,
}

impl Check {
    fn new(title: impl Into<String>, outcome: Outcome) -> Check {
        Check {
            title: title.into(),
            outcome,
            detail: Vec::new(),
        }
    }

    fn with(mut self, line: impl Into<String>) -> Check {
        self.detail.push(line.into());
        self
    }

    /// The report line: title, padded, then `[OUTCOME]`.
    pub fn line(&self) -> String {
        format!("{:<60}[{}]", self.title, self.outcome.label())
    }
}

/// What the checks are about: the configuration (if it was read) and
/// where its files are.
pub struct Subject<'a> {
    pub config: Result<&'a Config, String>,
    pub secrets: &'a str,
    pub conf_file: &'a str,
}

/// Every check, in the order they are printed.
pub fn run(sys: &dyn System, s: &Subject<'_>) -> Vec<Check> {
    let mut out = vec![kernel_support(sys)];
    out.push(algorithms(sys, s));
    let running = sys.pluto_answers();
    out.push(pluto_running(running));
    out.extend(ports(sys, running));
    out.push(ip_forward(sys, s));
    out.push(rp_filter(sys));
    out.push(secrets(sys, s.secrets));
    out.push(conf(s));
    out
}

/// Which kernel interface pluto would use (the order of `--use-auto`:
/// XFRM netlink, then PF_KEY), or none.
pub fn kernel_support(sys: &dyn System) -> Check {
    let title = "Checking for IPsec support in kernel";
    let pfkey = sys.exists("/proc/net/pfkey");
    if sys.xfrm_netlink() {
        let c = Check::new(title, Outcome::Ok).with("NETKEY: pluto uses XFRM netlink");
        if pfkey {
            c.with("PF_KEY (af_key) is there too (pluto --use-pfkey)")
        } else {
            c
        }
    } else if pfkey {
        Check::new(title, Outcome::Ok).with("NETKEY over PF_KEY (af_key): XFRM netlink is missing")
    } else if sys.exists("/proc/net/ipsec_eroute") {
        Check::new(title, Outcome::Failed).with(
            "only KLIPS is there, which pluto does not drive: load xfrm_user (modprobe xfrm_user)",
        )
    } else {
        Check::new(title, Outcome::Failed)
            .with("neither XFRM netlink nor PF_KEY: modprobe xfrm_user (or af_key), or a kernel with CONFIG_XFRM_USER")
    }
}

/// Kernel names of what the conns' ike=/esp= (or the defaults) need.
fn needed(s: &Subject<'_>) -> Vec<&'static str> {
    let conns = s.config.as_ref().map_or(&[][..], |c| &c.conns[..]);
    let mut texts: Vec<String> = conns
        .iter()
        .filter_map(|c| c.connection.esp.as_ref())
        .map(|e| e.to_ascii_lowercase())
        .collect();
    // pluto's own proposals, for a conn without esp=
    if conns.is_empty() || conns.iter().any(|c| c.connection.esp.is_none()) {
        texts.push("3des-sha1,3des-md5,aes-sha1".into());
    }
    let all = texts.join(",");
    let mut out = vec!["esp4"];
    for (key, module) in [
        ("3des", "des3_ede"),
        ("aes", "aes"),
        ("sha1", "sha1"),
        ("md5", "md5"),
        ("sha2", "sha256"),
    ] {
        if all.contains(key) {
            out.push(module);
        }
    }
    out
}

/// Whether the kernel has `name`: built in, loaded, or a module it can load.
fn have_module(sys: &dyn System, name: &str) -> bool {
    if sys.exists(&format!("/sys/module/{name}")) {
        return true;
    }
    if sys.read("/proc/crypto").is_some_and(|c| {
        c.lines()
            .any(|l| l.starts_with("name") && l.ends_with(&format!(": {name}")))
    }) {
        return true;
    }
    let dir = format!("/lib/modules/{}", sys.kernel_release());
    let file = format!("/{name}.ko");
    ["modules.builtin", "modules.dep"].iter().any(|f| {
        sys.read(&format!("{dir}/{f}")).is_some_and(|t| {
            t.lines().any(|l| {
                let path = l.split(':').next().unwrap_or("");
                path.ends_with(&file) || path.contains(&format!("{file}."))
            })
        })
    })
}

/// The transforms and ciphers the configured algorithms need.
pub fn algorithms(sys: &dyn System, s: &Subject<'_>) -> Check {
    let title = "Kernel modules for the configured algorithms";
    let need = needed(s);
    let missing: Vec<&str> = need
        .iter()
        .copied()
        .filter(|m| !have_module(sys, m))
        .collect();
    if missing.is_empty() {
        Check::new(title, Outcome::Ok).with(format!("present: {}", need.join(" ")))
    } else {
        Check::new(title, Outcome::Failed).with(format!(
            "missing: {} (neither loaded, built in nor in /lib/modules/{}): install them or change ike=/esp=",
            missing.join(" "),
            sys.kernel_release()
        ))
    }
}

pub fn pluto_running(running: bool) -> Check {
    let title = "Checking that pluto is running";
    if running {
        Check::new(title, Outcome::Ok)
    } else {
        Check::new(title, Outcome::Failed)
            .with("pluto does not answer on its control socket: ipsec setup start")
    }
}

/// Local UDP ports bound, from /proc/net/udp and udp6.
fn bound_udp(sys: &dyn System) -> Vec<u16> {
    let mut out = Vec::new();
    for f in ["/proc/net/udp", "/proc/net/udp6"] {
        let Some(t) = sys.read(f) else { continue };
        for l in t.lines().skip(1) {
            let Some(local) = l.split_whitespace().nth(1) else {
                continue;
            };
            let Some(port) = local.rsplit(':').next() else {
                continue;
            };
            if let Ok(p) = u16::from_str_radix(port, 16) {
                out.push(p);
            }
        }
    }
    out
}

/// IKE (500) and NAT-T (4500): held by pluto when it runs, free when it
/// does not.
pub fn ports(sys: &dyn System, running: bool) -> Vec<Check> {
    let bound = bound_udp(sys);
    [(500u16, "IKE"), (4500, "NAT-T")]
        .iter()
        .map(|(port, what)| {
            let held = bound.contains(port);
            match (running, held) {
                (true, true) => Check::new(
                    format!(" Pluto listening for {what} on udp {port}"),
                    Outcome::Ok,
                ),
                (true, false) if *port == 4500 => Check::new(
                    format!(" Pluto listening for {what} on udp {port}"),
                    Outcome::NotApplicable,
                )
                .with("NAT traversal is off (config setup: nat_traversal=yes turns it on)"),
                (true, false) => Check::new(
                    format!(" Pluto listening for {what} on udp {port}"),
                    Outcome::Failed,
                )
                .with("pluto runs but nothing listens there: see its log (interfaces=?)"),
                (false, false) => Check::new(
                    format!(" UDP port {port} ({what}) free for pluto"),
                    Outcome::Ok,
                ),
                (false, true) => Check::new(
                    format!(" UDP port {port} ({what}) free for pluto"),
                    Outcome::Failed,
                )
                .with(format!(
                    "another program holds udp {port}: stop it (ss -ulpn)"
                )),
            }
        })
        .collect()
}

fn sysctl(sys: &dyn System, path: &str) -> Option<u32> {
    sys.read(path)?.trim().parse().ok()
}

/// Forwarding is needed when a conn protects subnets behind the gateway.
pub fn ip_forward(sys: &dyn System, s: &Subject<'_>) -> Check {
    let title = "Checking IP forwarding";
    let subnets = s.config.as_ref().is_ok_and(|c| {
        c.conns
            .iter()
            .any(|c| c.connection.left.client.is_some() || c.connection.right.client.is_some())
    });
    match (sysctl(sys, "/proc/sys/net/ipv4/ip_forward"), subnets) {
        (Some(1), _) => Check::new(title, Outcome::Ok),
        (_, false) => {
            Check::new(title, Outcome::NotApplicable).with("no conn has a subnet behind this host")
        }
        _ => Check::new(title, Outcome::Failed)
            .with("conns with subnets need forwarding: sysctl -w net.ipv4.ip_forward=1"),
    }
}

/// Strict reverse-path filtering (1) drops decapsulated packets whose
/// source is routed elsewhere.
pub fn rp_filter(sys: &dyn System) -> Check {
    let title = "Checking rp_filter";
    let strict: Vec<&str> = ["all", "default"]
        .into_iter()
        .filter(|i| sysctl(sys, &format!("/proc/sys/net/ipv4/conf/{i}/rp_filter")) == Some(1))
        .collect();
    if strict.is_empty() {
        Check::new(title, Outcome::Ok)
    } else {
        Check::new(title, Outcome::Warning).with(format!(
            "strict rp_filter on {}: tunnelled packets may be dropped: sysctl -w net.ipv4.conf.{}.rp_filter=2",
            strict.join(", "),
            strict.first().copied().unwrap_or("all")
        ))
    }
}

/// ipsec.secrets: there, root's, and nobody else's to read.
pub fn secrets(sys: &dyn System, path: &str) -> Check {
    let title = format!("Checking {path}");
    match sys.owner_mode(path) {
        None => Check::new(title, Outcome::Failed)
            .with("missing: pluto has no keys (see ipsec.secrets(5))"),
        Some((uid, mode)) if uid != 0 || mode & 0o077 != 0 => Check::new(title, Outcome::Failed)
            .with(format!(
                "owner uid {uid}, mode {:03o}: chown root {path}; chmod 600 {path}",
                mode & 0o777
            )),
        Some(_) => Check::new(title, Outcome::Ok),
    }
}

/// ipsec.conf reads without errors; its diagnostics go under the line.
pub fn conf(s: &Subject<'_>) -> Check {
    let title = format!("Checking {}", s.conf_file);
    match &s.config {
        Err(e) => Check::new(title, Outcome::Failed).with(e.clone()),
        Ok(c) => {
            let outcome = if c.has_errors() {
                Outcome::Failed
            } else if c
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Warning)
            {
                Outcome::Warning
            } else {
                Outcome::Ok
            };
            let mut check = Check::new(title, outcome);
            check.detail = c
                .diagnostics
                .iter()
                .filter(|d| d.severity != Severity::Note)
                .map(|d| d.to_string())
                .collect();
            check.detail.push(format!("{} conns loaded", c.conns.len()));
            check
        }
    }
}
