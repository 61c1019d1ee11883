//! `ipsec setup`: start and stop IPsec as ipsec.conf says (see
//! [`crate::auto`]).

use crate::auto::{self, daemon};
use crate::conf::{self, SystemHost};
use crate::err_line;

/// Name of the subcommand (also its argv[0] basename).
pub const NAME: &str = "setup";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str = "start, stop or restart pluto and the conns of ipsec.conf; status";

const USAGE: &str = "\
Usage: ipsec setup start | stop | restart | status     (also --start, --stop, ...)

start    starts pluto with the options of ipsec.conf's config setup (a daemon;
         /var/run/pluto.ctl and /var/run/pluto.pid unless plutoopts= says
         --ctlbase), adds the conns with auto=add|route|start, tells pluto to
         listen, routes the auto=route|start conns and initiates the
         auto=start ones. Exit 0 if pluto runs and every conn went in; 6 (LSB:
         not configured) if pluto runs but a conn or request failed; 1 if
         pluto could not start; 0 with a message if pluto already runs.
stop     whack --shutdown (pluto deletes its states, SAs and policies, its
         socket and lock), SIGTERM after 10 s, SIGKILL after 5 more; exit 0,
         or 1 if pluto had to be killed.
restart  stop, then start.
status   \"IPsec running\" and pluto's pid, exit 0; \"IPsec stopped\", exit 3;
         a lock file whose pluto does not answer, exit 1.
ipsec.conf is $IPSEC_CONFS/ipsec.conf (/etc/ipsec.conf when IPSEC_CONFS is unset).";

fn load() -> Result<conf::Config, i32> {
    let file = conf::confs_dir().join("ipsec.conf");
    match conf::load(&file, &SystemHost) {
        Ok(c) => {
            for line in auto::diagnostics_for(&c, None, false) {
                err_line(&line);
            }
            Ok(c)
        }
        Err(d) => {
            err_line(&format!("ipsec setup: {d}"));
            Err(1)
        }
    }
}

fn paths(c: &conf::Config) -> Result<daemon::Paths, i32> {
    daemon::paths(&c.setup.pluto_args).map_err(|e| {
        err_line(&format!("ipsec setup: {e}"));
        1
    })
}

fn start() -> i32 {
    let c = match load() {
        Ok(c) => c,
        Err(rc) => return rc,
    };
    let p = match paths(&c) {
        Ok(p) => p,
        Err(rc) => return rc,
    };
    if let Some(pid) = daemon::running(&p) {
        println!("ipsec setup: pluto is already running (pid {pid})");
        return 0;
    }
    println!("ipsec setup: Starting rswan IPsec {}...", crate::VERSION);
    let pid = match daemon::start(&c.setup, &p) {
        Ok(pid) => pid,
        Err(e) => {
            err_line(&format!("ipsec setup: {e}"));
            return 1;
        }
    };
    let mut failed = 0;
    for s in auto::start_plan(&c) {
        let rc =
            crate::control_client::send(crate::control_client::Call::new(&s.msg, &p.ctl_str()));
        if s.failed(rc) {
            failed += 1;
            err_line(&format!(
                "ipsec setup: {} failed (exit status {rc})",
                s.msg
                    .name
                    .as_deref()
                    .map_or("a request".to_string(), |n| format!("conn \"{n}\""))
            ));
        }
    }
    let loaded = c
        .conns
        .iter()
        .filter(|c| c.auto != conf::Auto::Ignore)
        .count();
    println!("ipsec setup: pluto runs (pid {pid}); {loaded} conns loaded from ipsec.conf, {failed} requests failed");
    if failed > 0 {
        6
    } else {
        0
    }
}

fn stop() -> i32 {
    // Without a readable ipsec.conf the default paths still find a pluto.
    let p = match load().ok().map(|c| paths(&c)) {
        Some(Ok(p)) => p,
        Some(Err(rc)) => return rc,
        None => match daemon::paths(&[]) {
            Ok(p) => p,
            Err(e) => {
                err_line(&format!("ipsec setup: {e}"));
                return 1;
            }
        },
    };
    println!("ipsec setup: Stopping rswan IPsec...");
    match daemon::stop(&p) {
        Ok(daemon::Stopped::NotRunning) => {
            println!("ipsec setup: pluto is not running");
            0
        }
        Ok(daemon::Stopped::Clean { pid, how }) => {
            println!("ipsec setup: pluto (pid {pid}) stopped by {how}");
            0
        }
        Ok(daemon::Stopped::Killed { pid }) => {
            err_line(&format!(
                "ipsec setup: pluto (pid {pid}) ignored --shutdown and SIGTERM and was killed: \
                 its SAs and policies may be left in the kernel (see ip xfrm state / ip xfrm policy)"
            ));
            1
        }
        Err(e) => {
            err_line(&format!("ipsec setup: {e}"));
            1
        }
    }
}

fn status() -> i32 {
    let p = match conf::load(&conf::confs_dir().join("ipsec.conf"), &SystemHost) {
        Ok(c) => daemon::paths(&c.setup.pluto_args),
        Err(_) => daemon::paths(&[]),
    };
    let p = match p {
        Ok(p) => p,
        Err(e) => {
            err_line(&format!("ipsec setup: {e}"));
            return 1;
        }
    };
    if let Some(pid) = daemon::running(&p) {
        println!("IPsec running");
        println!("pluto pid {pid}");
        return 0;
    }
    match daemon::lock_pid(&p.lock) {
        Some(pid) if daemon::alive(pid) => {
            println!(
                "IPsec not answering: pluto pid {pid} holds {} but {} does not answer",
                p.lock.display(),
                p.ctl.display()
            );
            1
        }
        Some(_) => {
            println!("IPsec stopped (stale lock file {})", p.lock.display());
            1
        }
        None => {
            println!("IPsec stopped");
            3
        }
    }
}

/// Runs `ipsec setup` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> i32 {
    let verb = match args {
        [v] => v.trim_start_matches("--"),
        _ => "",
    };
    match verb {
        "start" => start(),
        "stop" => stop(),
        "restart" => {
            let rc = stop();
            if rc != 0 {
                return rc;
            }
            start()
        }
        "status" => status(),
        "help" | "h" => {
            err_line(USAGE);
            0
        }
        _ => {
            err_line(USAGE);
            2
        }
    }
}
