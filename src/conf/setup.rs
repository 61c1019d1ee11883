//! `config setup` to the argument vector of `ipsec pluto`.

use std::path::{Path, PathBuf};

use super::keys::{self, Support};
use super::lexer::{Item, Section};
use super::{Diagnostic, Host, Setup, Severity};
use crate::ctl::{AddrFamily, DBG_NAMES};

/// Builds the setup from the `config setup` sections (normally one).
pub fn build(
    sections: &[Section],
    confs: &Path,
    host: &dyn Host,
    diags: &mut Vec<Diagnostic>,
) -> Setup {
    let mut s = Setup {
        secrets: confs.join("ipsec.secrets"),
        ..Setup::default()
    };
    let mut args: Vec<String> = Vec::new();
    let mut seen: Vec<&Item> = Vec::new();
    if let Some(second) = sections.get(1) {
        diags.push(Diagnostic::new(
            &second.file,
            second.line,
            Severity::Warning,
            "a second \"config setup\": its keys are merged with the first's",
        ));
    }
    let mut stack = None;
    // Openswan's default: ipsec.conf says uniqueids=yes unless told no.
    let mut uniqueids = true;
    for it in sections.iter().flat_map(|sec| sec.items.iter()) {
        let mut diag = |sev, m: String| diags.push(Diagnostic::new(&it.file, it.line, sev, m));
        if let Some(prev) = seen.iter().find(|p| p.key == it.key) {
            diag(
                Severity::Error,
                format!(
                    "duplicate key \"{}\" (first given at {}:{})",
                    it.key,
                    prev.file.display(),
                    prev.line
                ),
            );
            continue;
        }
        seen.push(it);
        if keys::is_user_extension(&it.key) {
            continue;
        }
        let Some((k, _)) = keys::lookup(&it.key, true) else {
            diag(
                Severity::Error,
                format!("unknown config setup key \"{}\"", it.key),
            );
            continue;
        };
        let v = it.value.as_str();
        match k.support {
            Support::Refused(why) if !keys::is_off(v) => {
                diag(Severity::Error, format!("{}={v}: {why}", it.key));
                continue;
            }
            Support::Refused(_) => continue,
            Support::Ignored(why) => {
                diag(Severity::Note, format!("{} ignored: {why}", it.key));
                continue;
            }
            Support::Used => {}
        }
        if v.is_empty() {
            continue;
        }
        let yes = |diag: &mut dyn FnMut(Severity, String)| match v {
            "yes" => Some(true),
            "no" => Some(false),
            _ => {
                diag(
                    Severity::Error,
                    format!("{}={v}: must be yes or no", it.key),
                );
                None
            }
        };
        match it.key.as_str() {
            "protostack" => match v {
                "netkey" | "auto" | "none" => stack = Some(v),
                "klips" | "mast" => diag(
                    Severity::Error,
                    format!("protostack={v}: KLIPS is not supported; use protostack=netkey"),
                ),
                _ => diag(
                    Severity::Error,
                    format!("protostack={v}: must be netkey, auto or none"),
                ),
            },
            "interfaces" => interfaces(v, host, &mut args, &mut diag),
            "nat_traversal" if yes(&mut diag) == Some(true) => args.push("--nat_traversal".into()),
            "force_keepalive" if yes(&mut diag) == Some(true) => {
                args.push("--force_keepalive".into())
            }
            "keep_alive" | "virtual_private" | "nhelpers" => {
                let opt = [format!("--{}", it.key), v.to_string()];
                match crate::pluto::options::parse(&opt) {
                    Ok(_) => args.extend(opt),
                    Err(e) => diag(Severity::Error, format!("{}={v}: {e}", it.key)),
                }
            }
            "plutodebug" => debug(v, &mut args, &mut diag),
            "plutostderrlog" => {
                args.push("--stderrlog".into());
                s.stderr_log = Some(PathBuf::from(v));
            }
            "plutoopts" => {
                let opts: Vec<String> = v.split_whitespace().map(String::from).collect();
                match crate::pluto::options::parse(&opts) {
                    Ok(_) => args.extend(opts),
                    Err(e) => diag(Severity::Error, format!("plutoopts: {e}")),
                }
            }
            "plutowait" => s.pluto_wait = yes(&mut diag) == Some(true),
            "oe" if yes(&mut diag) == Some(true) => {
                diag(
                    Severity::Error,
                    "oe=yes: opportunistic encryption is not supported".into(),
                );
            }
            "uniqueids" => uniqueids = yes(&mut diag).unwrap_or(uniqueids),
            "myid" => s.myid = Some(v.to_string()),
            _ => {}
        }
    }
    let stack_arg = match stack {
        Some("auto") => "--use-auto",
        Some("none") => "--use-nostack",
        _ => "--use-netkey",
    };
    args.insert(0, stack_arg.into());
    if uniqueids && !args.iter().any(|a| a == "--uniqueids") {
        args.push("--uniqueids".into());
    }
    args.push("--secretsfile".into());
    args.push(s.secrets.to_string_lossy().into_owned());
    s.pluto_args = args;
    // One option parser: what pluto would refuse is said here, at the
    // config setup line, rather than when pluto starts.
    if let Err(e) = crate::pluto::options::parse(&s.pluto_args) {
        let (file, line) = sections.first().map_or((PathBuf::new(), 0), |sec| {
            (sec.file.to_path_buf(), sec.line)
        });
        diags.push(Diagnostic::new(
            &file,
            line,
            Severity::Error,
            format!("config setup: pluto refuses its options: {e}"),
        ));
    }
    s
}

/// `interfaces=`: `%defaultroute`, `%none`, or `virt=phys` pairs (the
/// physical interface is what pluto listens on) or plain names.
fn interfaces(
    v: &str,
    host: &dyn Host,
    args: &mut Vec<String>,
    diag: &mut dyn FnMut(Severity, String),
) {
    for word in v.split_whitespace() {
        let phys = match word {
            "%none" => continue,
            "%defaultroute" => match host.default_route(AddrFamily::Ipv4) {
                Some(dr) => dr.iface,
                None => {
                    diag(
                        Severity::Error,
                        "interfaces=%defaultroute: no default route".into(),
                    );
                    continue;
                }
            },
            w => w.split_once('=').map_or(w, |(_, p)| p).to_string(),
        };
        if phys.is_empty() || phys.starts_with('%') {
            diag(
                Severity::Error,
                format!("interfaces: \"{word}\" is not an interface"),
            );
            continue;
        }
        if !args.windows(2).any(|w| {
            w.first().map(String::as_str) == Some("--interface") && w.get(1) == Some(&phys)
        }) {
            args.push("--interface".into());
            args.push(phys);
        }
    }
}

/// `plutodebug=`: names of debug classes, `all` or `none`.
fn debug(v: &str, args: &mut Vec<String>, diag: &mut dyn FnMut(Severity, String)) {
    for w in v.split([' ', '\t', ',']).filter(|w| !w.is_empty()) {
        let known = matches!(w, "all" | "none" | "natt" | "nattraversal")
            || DBG_NAMES.iter().take(14).any(|n| !n.is_empty() && *n == w)
            || w == "private";
        if known {
            args.push(format!("--debug-{w}"));
        } else {
            diag(
                Severity::Error,
                format!("plutodebug: \"{w}\" is not a debug class"),
            );
        }
    }
}
