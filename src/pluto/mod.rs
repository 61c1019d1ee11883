//! The pluto daemon: the thin shell around the sans-IO engine. It owns the
//! sockets, the clock, the OS random generator, the files and the kernel.

pub mod algs;
pub mod bypass;
pub mod conndb;
pub mod conns;
pub mod daemon;
mod espinudp;
mod heap;
mod helpers;
pub mod ifaces;
pub mod kernel;
pub mod lock;
pub mod logger;
mod lookups;
pub mod netkey;
pub mod options;
mod requests;
pub mod signals;
mod sockbuf;
pub mod status;
mod syslog;
pub mod traffic;
pub mod updown;
pub mod whack;
pub mod xfrm;

use crate::ike::crypto::ModpDh;
use crate::ike::Endpoint;
use daemon::Daemon;
use kernel::{KernelBackend, NoStack, OsRng};
use lock::Lock;
use logger::Logger;
use options::{Config, Parsed, Stack, USAGE};
use std::os::unix::net::UnixListener;
use std::path::Path;

/// `ipsec pluto ARGS`: returns the exit status.
pub fn main(args: &[String]) -> i32 {
    let config = match options::parse(args) {
        Ok(Parsed::Run(c)) => c,
        Ok(Parsed::Help) => {
            eprintln!("{USAGE}");
            return 0;
        }
        Ok(Parsed::Version) => {
            println!("rswan pluto {}", crate::VERSION);
            return 0;
        }
        Err(e) => {
            eprintln!("pluto: {e}\n{USAGE}");
            return 1;
        }
    };
    let mut rng = OsRng;
    let kernel: Box<dyn KernelBackend> = match config.stack {
        Stack::None => Box::new(NoStack::new(&mut rng)),
        Stack::Klips => {
            eprintln!("pluto: KLIPS is not supported by this build; use --use-netkey or --noklips");
            return 1;
        }
        Stack::Auto | Stack::Netkey => match xfrm::Xfrm::open() {
            Ok(x) => Box::new(x),
            Err(xe) => match pfkey_backend() {
                Ok(n) => Box::new(n),
                Err(pe) => {
                    eprintln!("pluto: no supported IPsec stack found: XFRM netlink: {xe}; PF_KEY: {pe}; run with --noklips to negotiate without installing SAs");
                    return 1;
                }
            },
        },
        Stack::Pfkey => match pfkey_backend() {
            Ok(n) => Box::new(n),
            Err(e) => {
                eprintln!("pluto: --use-pfkey: cannot use PF_KEY: {e}; without --use-pfkey pluto uses XFRM netlink");
                return 1;
            }
        },
    };
    run(config, kernel)
}

/// NETKEY over PF_KEYv2, where the kernel has af_key.
fn pfkey_backend() -> Result<netkey::Netkey, String> {
    if !Path::new("/proc/net/pfkey").exists() {
        return Err("/proc/net/pfkey is missing (try 'modprobe af_key')".into());
    }
    netkey::Netkey::open()
}

fn run(config: Config, kernel: Box<dyn KernelBackend>) -> i32 {
    let mut lock = match Lock::create(&config.lock_path()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return e.exit_code();
        }
    };
    let log = Logger::new(config.stderrlog);
    let ctl_path = config.ctl_path();
    let ctl = match bind_control(&ctl_path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "pluto: cannot create control socket \"{}\": {e}",
                ctl_path.display()
            );
            return 1;
        }
    };
    if config.nofork {
        if let Err(e) = lock.write_pid(std::process::id()) {
            eprintln!("pluto: cannot write lock file: {e}");
            return 1;
        }
        println!("Pluto initialized");
    } else {
        // SAFETY: no other threads exist yet; the child continues with copies of our state.
        match unsafe { libc::fork() } {
            -1 => {
                eprintln!("pluto: fork failed: {}", std::io::Error::last_os_error());
                return 1;
            }
            0 => {
                // SAFETY: setsid in the new child detaches it from the terminal.
                unsafe { libc::setsid() };
                detach_stdio(config.stderrlog);
            }
            child => {
                let status = if lock.write_pid(child as u32).is_ok() {
                    0
                } else {
                    1
                };
                lock.forget();
                // The child owns the socket path now.
                std::mem::forget(ctl);
                return status;
            }
        }
    }
    log.info(&format!(
        "Starting Pluto (rswan Version {})",
        crate::VERSION
    ));
    log.info(&format!("Using {}", kernel.name()));
    for line in nat_lines(&config.nat) {
        log.info(&line);
    }
    let mut ep = Endpoint::new(Box::new(ModpDh), Box::new(OsRng));
    ep.set_debug(config.debug != 0);
    ep.set_nat(config.nat.clone());
    ep.set_unique_ids(config.uniqueids);
    let mut logger = log;
    logger.debug = config.debug != 0;
    logger.install_bridge();
    let status = match Daemon::new(config, ep, kernel, logger, ctl) {
        Ok(mut d) => d.run(),
        Err(e) => {
            eprintln!("pluto: cannot start the event loop: {e}");
            1
        }
    };
    let _ = std::fs::remove_file(&ctl_path);
    drop(lock);
    status
}

/// What pluto says at start about its NAT traversal settings, in
/// Openswan's words.
fn nat_lines(nat: &crate::ike::config::NatConfig) -> Vec<String> {
    let mut out = vec![format!(
        "NAT-Traversal support {}{}",
        if nat.enabled {
            "[enabled]"
        } else {
            "[disabled]"
        },
        if nat.enabled && nat.force_keepalive {
            " [Force KeepAlive]"
        } else {
            ""
        }
    )];
    if !nat.virtual_private.is_empty() {
        out.push("virtual_private (%priv):".into());
        for (exclude, what) in [(false, "allowed"), (true, "disallowed")] {
            let nets: Vec<String> = nat
                .virtual_private
                .iter()
                .filter(|n| n.exclude == exclude)
                .map(|n| format!("{}/{}", n.addr, n.prefix))
                .collect();
            if !nets.is_empty() {
                out.push(format!(
                    "- {what} {} subnet{}: {}",
                    nets.len(),
                    if nets.len() == 1 { "" } else { "s" },
                    nets.join(", ")
                ));
            }
        }
    }
    out
}

/// The control socket: owner-only, made before forking so whack never races us.
fn bind_control(path: &Path) -> std::io::Result<UnixListener> {
    let _ = std::fs::remove_file(path);
    // SAFETY: umask only changes this process's file creation mask; restored below.
    let old = unsafe { libc::umask(0o077) };
    let r = UnixListener::bind(path);
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    r
}

/// A daemon keeps no terminal: stdin and stdout (and stderr unless it is the log) go to /dev/null.
fn detach_stdio(keep_stderr: bool) {
    let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    else {
        return;
    };
    use std::os::fd::AsRawFd;
    let fd = null.as_raw_fd();
    // SAFETY: dup2 onto the standard descriptors with a valid open fd.
    unsafe {
        libc::dup2(fd, 0);
        libc::dup2(fd, 1);
        if !keep_stderr {
            libc::dup2(fd, 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::config::{NatConfig, PrivateNet};

    #[test]
    fn nat_settings_are_announced() {
        assert_eq!(
            nat_lines(&NatConfig::default()),
            ["NAT-Traversal support [disabled]"]
        );
        let net = |a: &str, prefix, exclude| PrivateNet {
            addr: a.parse().unwrap(),
            prefix,
            exclude,
        };
        let nat = NatConfig {
            enabled: true,
            force_keepalive: true,
            virtual_private: vec![
                net("10.0.0.0", 8, false),
                net("10.1.0.0", 16, true),
                net("fd00::", 8, false),
            ],
            ..NatConfig::default()
        };
        assert_eq!(
            nat_lines(&nat),
            [
                "NAT-Traversal support [enabled] [Force KeepAlive]",
                "virtual_private (%priv):",
                "- allowed 2 subnets: 10.0.0.0/8, fd00::/8",
                "- disallowed 1 subnet: 10.1.0.0/16",
            ]
        );
    }
}
