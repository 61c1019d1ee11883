//! `ipsec verify`: checks what a gateway needs (see [`crate::verify`]).

use crate::auto::daemon;
use crate::conf::{self, SystemHost};
use crate::verify::{self, Outcome, Real, Subject};

/// Name of the subcommand (also its argv[0] basename).
pub const NAME: &str = "verify";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str = "check that this host can run IPsec, and what to fix";

const USAGE: &str = "\
Usage: ipsec verify [--config FILE] [--ctlbase PATH]

One line per check, [OK], [FAILED], [WARNING] or [N/A], with what to fix
indented under it: kernel IPsec support and the stack pluto uses, kernel
modules for the configured algorithms, pluto running, UDP 500/4500, IP
forwarding, rp_filter, ipsec.secrets owned by root and private, ipsec.conf
read without errors ($IPSEC_CONFS/ipsec.conf, /etc/ipsec.conf by default).
Exit status 1 if a check FAILED, else 0.";

/// Runs `ipsec verify` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> i32 {
    let mut file = conf::confs_dir().join("ipsec.conf");
    let mut ctlbase: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.clone().next()) {
            ("--config", Some(f)) => {
                file = f.into();
                it.next();
            }
            ("--ctlbase", Some(b)) => {
                ctlbase = Some(b.clone());
                it.next();
            }
            ("--help" | "-h", _) => {
                crate::err_line(USAGE);
                return 0;
            }
            _ => {
                crate::err_line(&format!("ipsec verify: unexpected argument {a}"));
                crate::err_line(USAGE);
                return 2;
            }
        }
    }
    let loaded = conf::load(&file, &SystemHost).map_err(|d| d.to_string());
    let pluto_args = loaded.as_ref().map_or(&[][..], |c| &c.setup.pluto_args[..]);
    let ctl = match (ctlbase, daemon::paths(pluto_args)) {
        (Some(b), _) => format!("{b}.ctl"),
        (None, Ok(p)) => p.ctl_str(),
        (None, Err(_)) => daemon::paths(&[]).map(|p| p.ctl_str()).unwrap_or_default(),
    };
    let secrets = loaded.as_ref().map_or_else(
        |_| conf::confs_dir().join("ipsec.secrets"),
        |c| c.setup.secrets.clone(),
    );
    let secrets = secrets.to_string_lossy().into_owned();
    let conf_file = file.to_string_lossy().into_owned();
    let subject = Subject {
        config: loaded.as_ref().map_err(|e| e.clone()),
        secrets: &secrets,
        conf_file: &conf_file,
    };
    println!("Checking your system to see if IPsec got installed and started correctly:");
    println!("{:<60}[OK]", "Version check and ipsec on-path");
    println!(
        "rswan {} (static binary {})",
        crate::VERSION,
        std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    let checks = verify::run(&Real { ctl }, &subject);
    for c in &checks {
        println!("{}", c.line());
        for d in &c.detail {
            println!("    {d}");
        }
    }
    i32::from(checks.iter().any(|c| c.outcome == Outcome::Failed))
}
