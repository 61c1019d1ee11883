//! `ipsec auto`: one conn of ipsec.conf to pluto, or a pluto-wide request,
//! with Openswan's command line (see [`crate::auto`]).

use crate::auto::{self, daemon, Op};
use crate::conf::{self, SystemHost};
use crate::control_client::{self, Call};
use crate::err_line;

/// Name of the subcommand (also its argv[0] basename).
pub const NAME: &str = "auto";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str = "control pluto by conn name from ipsec.conf (add, up, down, route, ...)";

const USAGE: &str = "\
Usage: ipsec auto [--config FILE] [--ctlbase PATH] [--asynchronous] [--verbose]
                  --add | --delete | --replace | --up | --down | --route | --unroute  NAME
       ipsec auto [--config FILE] [--ctlbase PATH] [--verbose]
                  --status | --rereadsecrets | --rereadall | --listall | --listpubkeys | --ready

Sends pluto what `ipsec whack` would for the conn NAME of ipsec.conf
($IPSEC_CONFS/ipsec.conf, /etc/ipsec.conf when IPSEC_CONFS is unset):
--add sends the conn's rsasigkey= keys and the conn, --replace deletes it
first, --up initiates it (waiting for the outcome unless --asynchronous),
--down terminates it. The control socket is the one config setup gives
pluto (plutoopts=\"--ctlbase ...\"), /var/run/pluto.ctl by default.
The exit status is whack's (0, or the RC code of the failure); 1 when the
conn is not in ipsec.conf or could not be read; 2 for a usage error.";

struct Args {
    op: Op,
    name: Option<String>,
    config: Option<String>,
    ctlbase: Option<String>,
    asynchronous: bool,
    verbose: bool,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut op = None;
    let mut name = None;
    let mut config = None;
    let mut ctlbase = None;
    let (mut asynchronous, mut verbose) = (false, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config" => config = Some(it.next().ok_or("--config needs a file")?.clone()),
            "--ctlbase" => ctlbase = Some(it.next().ok_or("--ctlbase needs a path")?.clone()),
            "--asynchronous" => asynchronous = true,
            "--verbose" | "--show" => verbose = true,
            "--showonly" => {
                return Err("--showonly is not supported: --verbose shows what is sent".into())
            }
            o if o.starts_with("--") => match Op::from_option(o) {
                Some(new) if op.is_none() => op = Some(new),
                Some(_) => return Err(format!("{o}: only one operation at a time")),
                None => return Err(format!("unknown option {o}")),
            },
            n if name.is_none() => name = Some(n.to_string()),
            n => return Err(format!("unexpected argument {n}")),
        }
    }
    let op = op.ok_or("no operation given")?;
    match (op.needs_name(), &name) {
        (true, None) => return Err("this operation needs a conn name".into()),
        (false, Some(n)) => return Err(format!("unexpected argument {n}")),
        _ => {}
    }
    Ok(Args {
        op,
        name,
        config,
        ctlbase,
        asynchronous,
        verbose,
    })
}

/// What a step asks of pluto, for --verbose.
fn describe(m: &crate::ctl::WhackMessage) -> String {
    let name = m.name.as_deref().unwrap_or("");
    let what = if let Some(k) = &m.key {
        format!("--keyid {} --pubkeyrsa ...", k.keyid)
    } else if m.connection.is_some() {
        format!("--name {name} (the conn of ipsec.conf)")
    } else if m.delete {
        format!("--delete --name {name}")
    } else if m.initiate {
        format!(
            "--initiate --name {name}{}",
            if m.asynchronous {
                " --asynchronous"
            } else {
                ""
            }
        )
    } else if m.terminate {
        format!("--terminate --name {name}")
    } else if m.route {
        format!("--route --name {name}")
    } else if m.unroute {
        format!("--unroute --name {name}")
    } else if m.listen {
        "--listen".into()
    } else if m.status {
        "--status".into()
    } else if m.reread != 0 {
        "--reread...".into()
    } else if m.list != 0 {
        "--list...".into()
    } else if let Some(id) = &m.myid {
        format!("--myid {id}")
    } else {
        "(request)".into()
    };
    format!("ipsec whack {what}")
}

/// Sends the steps in order; the first failure that matters ends the run
/// with its exit status.
pub(crate) fn send_all(steps: &[auto::Step], ctl: &str, verbose: bool) -> i32 {
    for s in steps {
        if verbose {
            err_line(&format!("+ {}", describe(&s.msg)));
        }
        let rc = control_client::send(Call::new(&s.msg, ctl));
        if s.failed(rc) && !s.may_fail {
            return rc;
        }
    }
    0
}

/// Runs `ipsec auto` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> i32 {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        err_line(USAGE);
        return 0;
    }
    let a = match parse(args) {
        Ok(a) => a,
        Err(e) => {
            err_line(&format!("ipsec auto: {e}"));
            err_line(USAGE);
            return 2;
        }
    };
    let file = a.config.clone().map_or_else(
        || conf::confs_dir().join("ipsec.conf"),
        std::path::PathBuf::from,
    );
    // The conn's description comes from the file; the other operations only
    // need it for the control socket, and work without it.
    let config = match conf::load(&file, &SystemHost) {
        Ok(c) => Some(c),
        Err(d) if a.op.reads_conn() => {
            err_line(&format!("ipsec auto: {d}"));
            return 1;
        }
        Err(_) => None,
    };
    let pluto_args = config.as_ref().map_or(&[][..], |c| &c.setup.pluto_args[..]);
    let ctl = match (&a.ctlbase, daemon::paths(pluto_args)) {
        (Some(b), _) => format!("{b}.ctl"),
        (None, Ok(p)) => p.ctl_str(),
        (None, Err(e)) => {
            err_line(&format!("ipsec auto: {}: {e}", file.display()));
            return 1;
        }
    };
    let name = a.name.as_deref().unwrap_or("");
    let conns = config
        .as_ref()
        .map(|c| auto::conns_named(c, name))
        .unwrap_or_default();
    if a.op.reads_conn() {
        if let Some(c) = &config {
            for line in auto::diagnostics_for(c, Some(name), a.verbose) {
                err_line(&line);
            }
        }
        if conns.is_empty() {
            err_line(&format!(
                "ipsec auto: no loadable conn \"{name}\" in {}",
                file.display()
            ));
            return 1;
        }
    }
    let steps = auto::plan(a.op, name, &conns, a.asynchronous);
    send_all(&steps, &ctl, a.verbose)
}
