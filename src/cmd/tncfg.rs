//! `ipsec tncfg`: the command line of Openswan's tncfg (§5.2); the work is
//! done in [`crate::tncfg`].

use super::{err_line, out_line, VERSION};
use crate::getopt::{self, Item, Opt};
use crate::tncfg::{self, Action, VirtualDevice};
use std::path::Path;

/// Name of the subcommand (also its argv[0] basename).
pub const NAME: &str = "tncfg";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str =
    "attach and detach ipsecN virtual interfaces to physical interfaces (KLIPS or XFRM interfaces)";

const HELP: &str = "\
Usage: ipsec tncfg --attach --virtual <virtual-device> --physical <physical-device>
       ipsec tncfg --detach --virtual <virtual-device>
       ipsec tncfg --clear
       ipsec tncfg --help
       ipsec tncfg --version
       ipsec tncfg
        [ --debug ] is optional to any ipsec tncfg command.
        [ --label <label> ] is optional to any ipsec tncfg command.
        [ --optionsfrom <file> ] reads more options from <file>.

Without an action, lists the ipsecN devices, one per line:
  ipsecN -> <physical|NULL> mtu=<mtu>(<effective mtu>) -> <physical mtu>

The virtual device is ipsecN (N decimal). Options may start with one dash.

Kernel mechanism:
  KLIPS (when /proc/net/ipsec_tncfg exists): ipsecN are KLIPS's devices and
    --attach/--detach/--clear bind and unbind them with the SIOCDEVPRIVATE
    ioctls; the listing is /proc/net/ipsec_tncfg.
  otherwise (NETKEY/XFRM kernels): --attach creates ipsecN as an XFRM
    interface (Linux 4.19+) on the physical device, up, with if_id N+1;
    --detach deletes it, --clear deletes every ipsecN XFRM interface; the
    listing shows those interfaces. Only SAs and policies with that if_id
    (ip xfrm state/policy ... if_id N+1) apply to traffic routed into
    ipsecN. The interface has one MTU (kernel default 1500, set it with
    ip link); the kernel finds the path MTU per SA, so both MTU fields of
    the listing show it.

Exit status: 0 on success, 1 on any error (one line on stderr), and 1
after --help or --version, as Openswan's tncfg.";

const TABLE: &[Opt] = &[
    Opt::arg("virtual"),
    Opt::arg("physical"),
    Opt::flag("attach"),
    Opt::flag("detach"),
    Opt::flag("clear"),
    Opt::flag("help"),
    Opt::flag("version"),
    Opt::arg("label"),
    Opt::arg("optionsfrom"),
    Opt::flag("debug"),
];

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Help,
    Version,
    Run { action: Action, debug: bool },
}

/// A command line error: the program name for the message (with its
/// `--label`) and the text.
#[derive(Debug, PartialEq, Eq)]
pub struct Usage {
    pub program: String,
    pub text: String,
}

/// tncfg read its options with getopt_long_only: `-attach` is `--attach`,
/// on the command line and in `--optionsfrom` files alike, so the files are
/// spliced in here, as the words are made long. A word right after an
/// option that takes a separate value is that value, dashes and all.
fn long_options(args: &[String]) -> Result<Vec<String>, String> {
    let mut queue: Vec<String> = args.iter().rev().cloned().collect();
    let mut out = Vec::with_capacity(args.len());
    let mut splices = 0;
    while let Some(a) = queue.pop() {
        let long = if a.starts_with("--") {
            a
        } else if a.len() > 1 && a.starts_with('-') {
            format!("-{a}")
        } else {
            out.push(a);
            continue;
        };
        let body = long.get(2..).unwrap_or("");
        let (word, inline) = match body.split_once('=') {
            Some((w, v)) => (w, Some(v.to_string())),
            None => (body, None),
        };
        // Unknown or ambiguous words are left for getopt::parse to report.
        let opt = match getopt::lookup(TABLE, word) {
            Ok(o) if o.takes_arg => o,
            _ => {
                out.push(long);
                continue;
            }
        };
        let separate = inline.is_none();
        let Some(value) = inline.or_else(|| queue.pop()) else {
            out.push(long); // getopt::parse: "requires an argument"
            continue;
        };
        if opt.name == "optionsfrom" {
            splices += 1;
            if splices > 100 {
                return Err("--optionsfrom nested too deeply".into());
            }
            let more = getopt::options_from_file(Path::new(&value))
                .map_err(|why| format!("optionsfrom failed: {why}"))?;
            queue.extend(more.into_iter().rev());
            continue;
        }
        out.push(long);
        if separate {
            out.push(value);
        }
    }
    Ok(out)
}

/// Parses the arguments after `tncfg`.
pub fn parse(args: &[String]) -> Result<Parsed, Usage> {
    let mut program = "ipsec tncfg".to_string();
    let usage = |program: &str, text: String| Usage {
        program: program.to_string(),
        text,
    };
    let items = long_options(args)
        .and_then(|words| getopt::parse(TABLE, &words))
        .map_err(|e| usage(&program, e))?;
    let (mut virt, mut phys, mut action): (Option<String>, Option<String>, Option<&str>) =
        (None, None, None);
    let mut debug = false;
    let mut only_decoration = true;
    for item in items {
        match item {
            Item::Positional(p) => {
                return Err(usage(&program, format!("unexpected argument \"{p}\".")))
            }
            Item::Opt("help", _) => return Ok(Parsed::Help),
            Item::Opt("version", _) => return Ok(Parsed::Version),
            Item::Opt("debug", _) => debug = true,
            Item::Opt("label", l) => {
                program = format!("ipsec tncfg --label {}", l.unwrap_or_default())
            }
            Item::Opt(a @ ("attach" | "detach" | "clear"), _) => {
                only_decoration = false;
                if action.is_some() {
                    return Err(usage(&program, "exactly one of '--attach', '--detach' or '--clear' options must be specified.".into()));
                }
                action = Some(a);
            }
            Item::Opt(name @ ("virtual" | "physical"), v) => {
                only_decoration = false;
                let slot = if name == "virtual" {
                    &mut virt
                } else {
                    &mut phys
                };
                if slot.is_some() {
                    return Err(usage(
                        &program,
                        format!("option --{name} given more than once."),
                    ));
                }
                *slot = Some(v.unwrap_or_default());
            }
            Item::Opt(other, _) => {
                return Err(usage(&program, format!("option --{other} is not handled.")))
            }
        }
    }
    if only_decoration {
        return Ok(Parsed::Run {
            action: Action::List,
            debug,
        });
    }
    let action = match action {
        None => {
            return Err(usage(
                &program,
                "exactly one of '--attach', '--detach' or '--clear' options must be specified."
                    .into(),
            ))
        }
        Some("attach") => {
            let v = virt.ok_or_else(|| usage(&program, "virtual I/F parameter missing.".into()))?;
            let p =
                phys.ok_or_else(|| usage(&program, "physical I/F parameter missing.".into()))?;
            let v = VirtualDevice::parse(&v).map_err(|e| usage(&program, e))?;
            tncfg::check_physical(&p).map_err(|e| usage(&program, e))?;
            Action::Attach { virt: v, phys: p }
        }
        Some("detach") => {
            if phys.is_some() {
                return Err(usage(
                    &program,
                    "--physical is only meaningful with --attach.".into(),
                ));
            }
            let v = virt.ok_or_else(|| usage(&program, "virtual I/F parameter missing.".into()))?;
            let v = VirtualDevice::parse(&v).map_err(|e| usage(&program, e))?;
            Action::Detach { virt: v }
        }
        _ => {
            if virt.is_some() || phys.is_some() {
                return Err(usage(
                    &program,
                    "--clear detaches every ipsecN; it takes no --virtual or --physical.".into(),
                ));
            }
            Action::Clear
        }
    };
    Ok(Parsed::Run { action, debug })
}

/// The program name a failure line starts with, from a `--label` anywhere
/// on the line (errors can come from the kernel, after parsing).
fn program_name(args: &[String]) -> String {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let a = a.trim_start_matches('-');
        if let Some(l) = a.strip_prefix("label=") {
            return format!("ipsec tncfg --label {l}");
        }
        if a == "label" {
            if let Some(l) = it.next() {
                return format!("ipsec tncfg --label {l}");
            }
        }
    }
    "ipsec tncfg".into()
}

/// Runs `ipsec tncfg` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> i32 {
    let (action, debug) = match parse(args) {
        Ok(Parsed::Help) => {
            out_line(HELP);
            return 1;
        }
        Ok(Parsed::Version) => {
            out_line(&format!("ipsec tncfg (rswan {VERSION})"));
            return 1;
        }
        Ok(Parsed::Run { action, debug }) => (action, debug),
        Err(u) => {
            err_line(&format!("{}: {}", u.program, u.text));
            return 1;
        }
    };
    match tncfg::run(&action, debug) {
        Ok(lines) => {
            for l in lines {
                out_line(&l);
            }
            0
        }
        Err(e) => {
            err_line(&format!("{}: {}", program_name(args), e.text));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<Parsed, Usage> {
        parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn err(v: &[&str]) -> String {
        match p(v) {
            Err(u) => format!("{}: {}", u.program, u.text),
            Ok(x) => panic!("{v:?} parsed as {x:?}"),
        }
    }

    fn run_of(v: &[&str]) -> Action {
        match p(v) {
            Ok(Parsed::Run { action, .. }) => action,
            other => panic!("{v:?}: {other:?}"),
        }
    }

    #[test]
    fn the_four_forms() {
        assert_eq!(
            run_of(&["--attach", "--virtual", "ipsec0", "--physical", "eth0"]),
            Action::Attach {
                virt: VirtualDevice { n: 0 },
                phys: "eth0".into()
            }
        );
        assert_eq!(
            run_of(&["--detach", "--virtual=ipsec3"]),
            Action::Detach {
                virt: VirtualDevice { n: 3 }
            }
        );
        assert_eq!(run_of(&["--clear"]), Action::Clear);
        assert_eq!(run_of(&[]), Action::List);
        assert_eq!(
            p(&["--debug", "--label", "x"]),
            Ok(Parsed::Run {
                action: Action::List,
                debug: true
            })
        );
    }

    #[test]
    fn single_dash_and_prefixes() {
        assert_eq!(
            run_of(&["-att", "-virt", "ipsec1", "-phys", "w0"]),
            Action::Attach {
                virt: VirtualDevice { n: 1 },
                phys: "w0".into()
            }
        );
        // a value that starts with a dash stays a value
        assert_eq!(
            run_of(&["-attach", "-virtual", "ipsec1", "-physical", "-x"]),
            Action::Attach {
                virt: VirtualDevice { n: 1 },
                phys: "-x".into()
            }
        );
        assert_eq!(p(&["-help"]), Ok(Parsed::Help));
        assert_eq!(
            p(&["--clear=x"]).map_err(|u| u.text),
            Err("option '--clear' doesn't allow an argument".into())
        );
        assert!(err(&["-attach", "-virtual"]).contains("requires an argument"));
        assert_eq!(p(&["--attach", "--version"]), Ok(Parsed::Version));
    }

    #[test]
    fn errors_are_one_line() {
        assert_eq!(
            err(&["--attach", "--virtual", "ipsec0"]),
            "ipsec tncfg: physical I/F parameter missing."
        );
        assert_eq!(
            err(&["--detach"]),
            "ipsec tncfg: virtual I/F parameter missing."
        );
        assert_eq!(
            err(&["--label", "L", "--attach", "--detach"]),
            "ipsec tncfg --label L: exactly one of '--attach', '--detach' or '--clear' options must be specified."
        );
        assert_eq!(
            err(&["--virtual", "ipsec0"]),
            "ipsec tncfg: exactly one of '--attach', '--detach' or '--clear' options must be specified."
        );
        assert!(
            err(&["--attach", "--virtual", "eth0", "--physical", "eth1"])
                .contains("\"eth0\" is not of the form ipsecN")
        );
        assert!(
            err(&["--attach", "--virtual", "ipsecX", "--physical", "eth1"])
                .contains("\"ipsecX\" is not of the form ipsecN")
        );
        assert!(err(&["--clear", "--virtual", "ipsec1"]).contains("takes no --virtual"));
        assert!(
            err(&["--detach", "--virtual", "ipsec1", "--physical", "w0"])
                .contains("only meaningful with --attach")
        );
        assert!(err(&["--bogus"]).contains("unrecognized option '--bogus'"));
        assert!(err(&["--attach", "extra"]).contains("unexpected argument \"extra\""));
        assert!(
            err(&["--virtual", "ipsec0", "--virtual", "ipsec1", "--detach"])
                .contains("more than once")
        );
        assert!(err(&["--attach", "--virtual"]).contains("requires an argument"));
        for e in [err(&["--detach"]), err(&["--bogus"])] {
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }

    #[test]
    fn label_is_found_for_late_errors() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(program_name(&s(&["--clear"])), "ipsec tncfg");
        assert_eq!(
            program_name(&s(&["--clear", "-label", "gw"])),
            "ipsec tncfg --label gw"
        );
        assert_eq!(
            program_name(&s(&["--label=gw", "--clear"])),
            "ipsec tncfg --label gw"
        );
    }
}
