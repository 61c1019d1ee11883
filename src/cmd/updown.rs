//! `ipsec _updown`: the default updown script (spec §3.4), i.e. the
//! routing half of Openswan's iproute2 `_updown`, in Rust.
//!
//! Pluto runs it through `/bin/sh -c` with the `PLUTO_*` variables set
//! (see [`crate::updown::env`]); it reads them from its environment:
//!
//! * `PLUTO_VERSION` must be `1.x` other than `1.0` (else exit 2, as the
//!   script: "obsolete" / "unknown interface version");
//! * arguments: none, or one of `ipfwadm` / `iptables` (the
//!   `leftfirewall=yes` marker; accepted, and ignored since no firewall
//!   rules are written); `custom:...` and anything else are refused (exit 2);
//! * `prepare-*`: `ip route delete <peer client>`, failure ignored (a
//!   failure other than "No such process" is reported on stderr);
//! * `route-*`: `ip route add <peer client> [via PLUTO_NEXT_HOP, unless it
//!   equals PLUTO_PEER or is of the other family] dev <PLUTO_INTERFACE up to its last ':'>
//!   [IPROUTEARGS] [table IPROUTETABLE] [src PLUTO_MY_SOURCEIP]`, then
//!   `ip route flush cache` (failure ignored);
//! * `unroute-*`: the same `ip route delete` (without `src`), then the flush;
//! * a peer client of `0.0.0.0/0` is routed as the two halves `0.0.0.0/1`
//!   and `128.0.0.0/1` (eclipsing the default route without replacing it);
//!   likewise `::/0` as `::/1` and `8000::/1`; the second half is only
//!   added/deleted when the first succeeded;
//! * `up-*` / `down-*`: nothing (exit 0). The stock script's firewall hooks
//!   are empty too: firewall rules belong in a custom `--updown` script.
//!
//! `/etc/sysconfig/pluto_updown`, when it exists, is read for two
//! settings only, `IPROUTETABLE` and `IPROUTEARGS`, as simple `KEY=value`
//! lines (optional `export `, optional surrounding quotes, `#` comments,
//! the last assignment wins; nothing is evaluated). `DEFAULTSOURCE` and
//! `IPRULEARGS` are ignored: no source addresses or policy rules are set up.
//!
//! `ip` is found on `PATH` and run directly (no shell). The exit status is
//! 0 on success, else the failing `ip` command's (128+N if it was killed by
//! signal N, 127 if it could not be run), with a message on stderr naming
//! the command.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::net::IpAddr;

use super::err_line;
use crate::updown::env::{Verb, VerbName};

/// Name of the subcommand (also its argv[0] basename).
pub const NAME: &str = "_updown";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str = "default updown script run by pluto: routes via iproute2";

/// The optional settings file of the stock script.
pub const CONFIG_FILE: &str = "/etc/sysconfig/pluto_updown";

/// How the subcommand names itself in messages (`$0` in the script).
const ME: &str = "ipsec _updown";

const HELP: &str = "\
ipsec _updown: default updown script run by pluto: routes via iproute2

Usage: ipsec _updown [ipfwadm|iptables]
       (run by pluto with PLUTO_VERSION, PLUTO_VERB and the other PLUTO_*
       variables in the environment)

prepare-*  ip route delete PEER_CLIENT (failure ignored)
route-*    ip route add PEER_CLIENT [via NEXT_HOP] dev IFACE [src SOURCEIP];
           ip route flush cache
unroute-*  ip route delete PEER_CLIENT [via NEXT_HOP] dev IFACE;
           ip route flush cache
up-*, down-*  nothing: put firewall rules in a custom --updown script

A peer client of 0.0.0.0/0 is routed as 0.0.0.0/1 and 128.0.0.0/1.
IPROUTETABLE and IPROUTEARGS are read from /etc/sysconfig/pluto_updown.

Options:
  -h, --help     show this help
      --version  show the version";

/// The `PLUTO_*` variables, by name.
pub type Env = BTreeMap<String, String>;

/// Settings from [`CONFIG_FILE`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteConfig {
    /// `IPROUTETABLE`: adds `table T` to every route command when non-empty.
    pub table: Option<String>,
    /// `IPROUTEARGS`, split at whitespace: extra `ip route` arguments.
    pub args: Vec<String>,
}

impl RouteConfig {
    /// Parses `KEY=value` lines; only `IPROUTETABLE` and `IPROUTEARGS` count.
    pub fn parse(text: &str) -> RouteConfig {
        let mut conf = RouteConfig::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = unquote(value.trim());
            match key.trim() {
                "IPROUTETABLE" => {
                    conf.table = Some(value.trim().to_string()).filter(|t| !t.is_empty());
                }
                "IPROUTEARGS" => {
                    conf.args = value.split_whitespace().map(str::to_string).collect();
                }
                _ => {}
            }
        }
        conf
    }

    /// Reads [`CONFIG_FILE`] (or `path`); a missing or unreadable file
    /// gives the defaults.
    pub fn load(path: &str) -> RouteConfig {
        std::fs::read_to_string(path)
            .map(|t| RouteConfig::parse(&t))
            .unwrap_or_default()
    }
}

/// Strips one pair of matching surrounding quotes; an unquoted value ends
/// at a ` #` comment.
fn unquote(value: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(inner) = value.strip_prefix(q) {
            return match inner.find(q) {
                Some(end) => &inner[..end],
                None => inner,
            };
        }
    }
    match value.find(" #") {
        Some(i) => value[..i].trim_end(),
        None => value,
    }
}

/// Why the script stops: exit code and the message for stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The exit status.
    pub code: i32,
    /// One line, without the `ipsec _updown: ` prefix.
    pub message: String,
}

impl Failure {
    fn new(code: i32, message: String) -> Failure {
        Failure { code, message }
    }
}

/// The interface version check: `1.x` except `1.0` passes.
pub fn check_version(version: Option<&str>) -> Result<(), Failure> {
    let v = version.unwrap_or("");
    if v == "1.0" {
        return Err(Failure::new(
            2,
            format!("obsolete interface version `{v}', called by obsolete Pluto?"),
        ));
    }
    if v.starts_with("1.") {
        return Ok(());
    }
    Err(Failure::new(2, format!("unknown interface version `{v}'")))
}

/// The argument check: no arguments, or exactly `ipfwadm` or `iptables`.
pub fn check_args(args: &[String]) -> Result<(), Failure> {
    match args {
        [] => Ok(()),
        [one] if one == "ipfwadm" || one == "iptables" => Ok(()),
        [first, ..] if first.starts_with("custom:") => Err(Failure::new(
            2,
            format!(
                "custom parameters `{}' are not supported: use a custom updown script",
                args.join(" ")
            ),
        )),
        _ => Err(Failure::new(
            2,
            format!("unknown parameters `{}'", args.join(" ")),
        )),
    }
}

/// A variable, `None` when unset or empty (the script's `-n` tests).
fn var<'a>(env: &'a Env, name: &str) -> Option<&'a str> {
    env.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

fn parse_addr(name: &str, text: &str) -> Result<IpAddr, Failure> {
    text.parse()
        .map_err(|_| Failure::new(1, format!("invalid {name} `{text}'")))
}

/// Parses `addr/bits` (a bare address means a host route).
fn parse_prefix(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match text.split_once('/') {
        Some((a, b)) => (a.parse::<IpAddr>().ok()?, b.parse::<u8>().ok()?),
        None => {
            let a = text.parse::<IpAddr>().ok()?;
            (a, if a.is_ipv6() { 128 } else { 32 })
        }
    };
    let max = if addr.is_ipv6() { 128 } else { 32 };
    (bits <= max).then_some((addr, bits))
}

/// The destinations for a peer client: the client itself, or the two
/// halves of the address space for a default route.
fn destinations(client: (IpAddr, u8)) -> Vec<String> {
    match client {
        (IpAddr::V4(_), 0) => vec!["0.0.0.0/1".into(), "128.0.0.0/1".into()],
        (IpAddr::V6(_), 0) => vec!["::/1".into(), "8000::/1".into()],
        (addr, bits) => vec![format!("{addr}/{bits}")],
    }
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// The `ip` commands for the environment `env`, each as its argument
/// vector starting with `ip`, in execution order. For `route-*` and
/// `unroute-*` the last one is the `ip route flush cache`; `up-*` and
/// `down-*` give none. The version and arguments are not checked here.
pub fn ip_commands(env: &Env, conf: &RouteConfig) -> Result<Vec<Vec<String>>, Failure> {
    let verb_text = var(env, "PLUTO_VERB").unwrap_or("");
    let Some(verb) = VerbName::parse(verb_text) else {
        return Err(Failure::new(1, format!("unknown verb `{verb_text}'")));
    };
    if matches!(verb.verb, Verb::Up | Verb::Down) {
        return Ok(Vec::new());
    }
    let client_text = var(env, "PLUTO_PEER_CLIENT")
        .ok_or_else(|| Failure::new(1, format!("{verb}: PLUTO_PEER_CLIENT is not set")))?;
    let client = parse_prefix(client_text)
        .ok_or_else(|| Failure::new(1, format!("invalid PLUTO_PEER_CLIENT `{client_text}'")))?;
    let dsts = destinations(client);
    let mut extra: Vec<String> = conf.args.clone();
    if let Some(table) = &conf.table {
        extra.push("table".into());
        extra.push(table.clone());
    }
    if verb.verb == Verb::Prepare {
        return Ok(dsts
            .into_iter()
            .map(|dst| {
                let mut c = strings(&["ip", "route", "delete"]);
                c.push(dst);
                c.extend(extra.iter().cloned());
                c
            })
            .collect());
    }
    // route / unroute
    let iface_text = var(env, "PLUTO_INTERFACE")
        .ok_or_else(|| Failure::new(1, format!("{verb}: PLUTO_INTERFACE is not set")))?;
    let iface = iface_text
        .rfind(':')
        .map_or(iface_text, |i| &iface_text[..i]);
    let via = match var(env, "PLUTO_NEXT_HOP") {
        None => None,
        Some(text) => {
            let hop = parse_addr("PLUTO_NEXT_HOP", text)?;
            let is_peer = match var(env, "PLUTO_PEER") {
                Some(peer) => peer.parse::<IpAddr>().map_or(peer == text, |p| p == hop),
                None => false,
            };
            // A tunnel of the other family (IPv6 clients over IPv4 hosts)
            // cannot name its gateway as the route's next hop: the route
            // is on the interface only; the policy takes the traffic there.
            (!is_peer && hop.is_ipv6() == client.0.is_ipv6()).then_some(hop)
        }
    };
    let src = match var(env, "PLUTO_MY_SOURCEIP") {
        Some(text) if verb.verb == Verb::Route => {
            let addr = text.rsplit_once('/').map_or(text, |(a, _)| a);
            Some(parse_addr("PLUTO_MY_SOURCEIP", addr)?)
        }
        _ => None,
    };
    let op = if verb.verb == Verb::Route {
        "add"
    } else {
        "delete"
    };
    let mut cmds: Vec<Vec<String>> = dsts
        .into_iter()
        .map(|dst| {
            let mut c = strings(&["ip", "route", op]);
            c.push(dst);
            if let Some(hop) = via {
                c.push("via".into());
                c.push(hop.to_string());
            }
            c.push("dev".into());
            c.push(iface.to_string());
            c.extend(extra.iter().cloned());
            if let Some(src) = src {
                c.push("src".into());
                c.push(src.to_string());
            }
            c
        })
        .collect();
    cmds.push(if client.0.is_ipv6() {
        strings(&["ip", "-6", "route", "flush", "cache"])
    } else {
        strings(&["ip", "route", "flush", "cache"])
    });
    Ok(cmds)
}

/// Result of running one command: exit code and combined output.
struct Ran {
    code: i32,
    output: String,
}

/// Runs `argv` (program looked up on PATH), capturing its output.
fn run_captured(argv: &[String]) -> Ran {
    let Some((prog, args)) = argv.split_first() else {
        return Ran {
            code: 0,
            output: String::new(),
        };
    };
    let argv: Vec<&OsStr> = std::iter::once(prog).chain(args).map(OsStr::new).collect();
    match crate::updown::spawn::spawn(&argv, true, false).and_then(|s| s.output()) {
        Ok((status, stdout, stderr)) => {
            use std::os::unix::process::ExitStatusExt;
            let code = match (status.code(), status.signal()) {
                (Some(c), _) => c,
                (None, Some(s)) => 128 + s,
                (None, None) => 1,
            };
            let mut text = String::from_utf8_lossy(&stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&stderr));
            Ran {
                code,
                output: text.trim_end().to_string(),
            }
        }
        Err(e) => Ran {
            code: 127,
            output: format!("cannot run `{prog}': {e}"),
        },
    }
}

/// Runs the commands of [`ip_commands`] with the failure rules of `verb`;
/// returns the exit status.
fn execute(verb: Verb, cmds: &[Vec<String>]) -> i32 {
    match verb {
        Verb::Up | Verb::Down => 0,
        Verb::Prepare => {
            for c in cmds {
                let r = run_captured(c);
                if r.code != 0 && !r.output.contains("No such process") {
                    let oops = if r.output.is_empty() {
                        format!("silent error, exit status {}", r.code)
                    } else {
                        r.output
                    };
                    err_line(&format!("{ME}: `{}' failed ({oops})", c.join(" ")));
                }
            }
            0
        }
        Verb::Route | Verb::Unroute => {
            let Some((flush, routes)) = cmds.split_last() else {
                return 0;
            };
            let mut status = 0;
            for c in routes {
                let r = run_captured(c);
                if r.code != 0 {
                    let oops = if r.output.is_empty() {
                        format!("silent error, exit status {}", r.code)
                    } else {
                        r.output
                    };
                    err_line(&format!("{ME}: doroute `{}' failed ({oops})", c.join(" ")));
                    status = r.code;
                    break;
                }
                if !r.output.is_empty() {
                    err_line(&r.output);
                }
            }
            let _ = run_captured(flush);
            status
        }
    }
}

/// The `PLUTO_*` variables of this process (non-UTF-8 ones are skipped).
fn pluto_env() -> Env {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with("PLUTO_"))
        .collect()
}

/// Runs `ipsec _updown` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> i32 {
    if let Some(code) = super::common_options(NAME, HELP, args) {
        return code;
    }
    let env = pluto_env();
    let checked = check_version(env.get("PLUTO_VERSION").map(String::as_str))
        .and_then(|()| check_args(args))
        .and_then(|()| {
            let conf = RouteConfig::load(CONFIG_FILE);
            ip_commands(&env, &conf)
        });
    match checked {
        Ok(cmds) => {
            let verb = env
                .get("PLUTO_VERB")
                .and_then(|v| VerbName::parse(v))
                .map_or(Verb::Up, |v| v.verb);
            execute(verb, &cmds)
        }
        Err(f) => {
            err_line(&format!("{ME}: {}", f.message));
            f.code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A subnet-to-subnet connection as pluto describes it.
    fn base(verb: &str) -> Env {
        env(&[
            ("PLUTO_VERSION", "1.1"),
            ("PLUTO_VERB", verb),
            ("PLUTO_CONNECTION", "west-east"),
            ("PLUTO_NEXT_HOP", "192.0.2.254"),
            ("PLUTO_INTERFACE", "ipsec0"),
            ("PLUTO_ME", "192.0.2.1"),
            ("PLUTO_MY_CLIENT", "10.0.1.0/24"),
            ("PLUTO_PEER", "198.51.100.2"),
            ("PLUTO_PEER_CLIENT", "10.0.2.0/24"),
            ("PLUTO_PEER_CLIENT_NET", "10.0.2.0"),
            ("PLUTO_PEER_CLIENT_MASK", "255.255.255.0"),
        ])
    }

    fn cmds(e: &Env) -> Vec<String> {
        ip_commands(e, &RouteConfig::default())
            .unwrap()
            .into_iter()
            .map(|c| c.join(" "))
            .collect()
    }

    #[test]
    fn every_verb() {
        assert_eq!(
            cmds(&base("prepare-client")),
            vec!["ip route delete 10.0.2.0/24"]
        );
        assert_eq!(
            cmds(&base("route-client")),
            vec![
                "ip route add 10.0.2.0/24 via 192.0.2.254 dev ipsec0",
                "ip route flush cache"
            ]
        );
        assert_eq!(
            cmds(&base("unroute-client")),
            vec![
                "ip route delete 10.0.2.0/24 via 192.0.2.254 dev ipsec0",
                "ip route flush cache"
            ]
        );
        for verb in ["up-client", "down-client", "up-host", "down-host-v6"] {
            assert_eq!(cmds(&base(verb)), Vec::<String>::new(), "{verb}");
        }
        // -host verbs route the same way.
        assert_eq!(
            cmds(&base("route-host")),
            vec![
                "ip route add 10.0.2.0/24 via 192.0.2.254 dev ipsec0",
                "ip route flush cache"
            ]
        );
    }

    #[test]
    fn default_route_halves() {
        let mut e = base("prepare-host");
        e.insert("PLUTO_PEER_CLIENT".into(), "0.0.0.0/0".into());
        assert_eq!(
            cmds(&e),
            vec!["ip route delete 0.0.0.0/1", "ip route delete 128.0.0.0/1"]
        );
        e.insert("PLUTO_VERB".into(), "route-client".into());
        assert_eq!(
            cmds(&e),
            vec![
                "ip route add 0.0.0.0/1 via 192.0.2.254 dev ipsec0",
                "ip route add 128.0.0.0/1 via 192.0.2.254 dev ipsec0",
                "ip route flush cache"
            ]
        );
        e.insert("PLUTO_VERB".into(), "unroute-client".into());
        assert_eq!(
            cmds(&e),
            vec![
                "ip route delete 0.0.0.0/1 via 192.0.2.254 dev ipsec0",
                "ip route delete 128.0.0.0/1 via 192.0.2.254 dev ipsec0",
                "ip route flush cache"
            ]
        );
    }

    #[test]
    fn via_only_when_nexthop_differs_from_peer() {
        let mut e = base("route-client");
        e.insert("PLUTO_NEXT_HOP".into(), "198.51.100.2".into());
        assert_eq!(
            cmds(&e)[0],
            "ip route add 10.0.2.0/24 dev ipsec0",
            "nexthop = peer"
        );
        e.remove("PLUTO_NEXT_HOP");
        assert_eq!(cmds(&e)[0], "ip route add 10.0.2.0/24 dev ipsec0", "absent");
        e.insert("PLUTO_NEXT_HOP".into(), String::new());
        assert_eq!(cmds(&e)[0], "ip route add 10.0.2.0/24 dev ipsec0", "empty");
        e.insert("PLUTO_NEXT_HOP".into(), "not-an-ip".into());
        assert_eq!(
            ip_commands(&e, &RouteConfig::default()).unwrap_err(),
            Failure::new(1, "invalid PLUTO_NEXT_HOP `not-an-ip'".into())
        );
    }

    #[test]
    fn interface_alias_suffix_is_dropped() {
        let mut e = base("route-client");
        e.insert("PLUTO_INTERFACE".into(), "eth0:1".into());
        assert_eq!(
            cmds(&e)[0],
            "ip route add 10.0.2.0/24 via 192.0.2.254 dev eth0"
        );
        e.remove("PLUTO_INTERFACE");
        assert_eq!(
            ip_commands(&e, &RouteConfig::default()).unwrap_err(),
            Failure::new(1, "route-client: PLUTO_INTERFACE is not set".into())
        );
    }

    #[test]
    fn sourceip_only_on_add() {
        let mut e = base("route-client");
        e.insert("PLUTO_MY_SOURCEIP".into(), "10.0.1.1".into());
        assert_eq!(
            cmds(&e)[0],
            "ip route add 10.0.2.0/24 via 192.0.2.254 dev ipsec0 src 10.0.1.1"
        );
        e.insert("PLUTO_MY_SOURCEIP".into(), "10.0.1.1/32".into());
        assert_eq!(
            cmds(&e)[0],
            "ip route add 10.0.2.0/24 via 192.0.2.254 dev ipsec0 src 10.0.1.1"
        );
        e.insert("PLUTO_VERB".into(), "unroute-client".into());
        assert_eq!(
            cmds(&e)[0],
            "ip route delete 10.0.2.0/24 via 192.0.2.254 dev ipsec0"
        );
    }

    #[test]
    fn ipv6() {
        let e = env(&[
            ("PLUTO_VERSION", "1.1"),
            ("PLUTO_VERB", "route-client-v6"),
            ("PLUTO_NEXT_HOP", "fe80::1"),
            ("PLUTO_INTERFACE", "eth0"),
            ("PLUTO_PEER", "2001:db8:0:2::2"),
            ("PLUTO_PEER_CLIENT", "2001:db8:2::/64"),
            ("PLUTO_MY_SOURCEIP", "2001:db8:1::1"),
        ]);
        assert_eq!(
            cmds(&e),
            vec![
                "ip route add 2001:db8:2::/64 via fe80::1 dev eth0 src 2001:db8:1::1",
                "ip -6 route flush cache"
            ]
        );
        let mut e = e;
        // IPv6 clients over IPv4 hosts: no IPv4 next hop for an IPv6 route.
        e.insert("PLUTO_NEXT_HOP".into(), "192.0.2.254".into());
        e.insert("PLUTO_PEER".into(), "192.0.2.2".into());
        e.remove("PLUTO_MY_SOURCEIP");
        assert_eq!(
            cmds(&e),
            vec![
                "ip route add 2001:db8:2::/64 dev eth0",
                "ip -6 route flush cache"
            ]
        );
        e.insert("PLUTO_VERB".into(), "prepare-host-v6".into());
        e.insert("PLUTO_PEER_CLIENT".into(), "::/0".into());
        assert_eq!(
            cmds(&e),
            vec!["ip route delete ::/1", "ip route delete 8000::/1"]
        );
    }

    #[test]
    fn config_table_and_args() {
        let conf = RouteConfig::parse(
            "# pluto_updown\nDEFAULTSOURCE=10.9.9.9\nexport IPROUTETABLE=\"vpn\"\n\
             IPROUTEARGS='metric 50  proto static'\nIPRULEARGS=prio 100\n",
        );
        assert_eq!(
            conf,
            RouteConfig {
                table: Some("vpn".into()),
                args: strings(&["metric", "50", "proto", "static"]),
            }
        );
        let mut e = base("route-client");
        e.insert("PLUTO_MY_SOURCEIP".into(), "10.0.1.1".into());
        let got: Vec<String> = ip_commands(&e, &conf)
            .unwrap()
            .into_iter()
            .map(|c| c.join(" "))
            .collect();
        assert_eq!(
            got,
            vec![
                "ip route add 10.0.2.0/24 via 192.0.2.254 dev ipsec0 metric 50 proto static \
                 table vpn src 10.0.1.1",
                "ip route flush cache"
            ]
        );
        e.insert("PLUTO_VERB".into(), "prepare-client".into());
        let got = ip_commands(&e, &conf).unwrap();
        assert_eq!(
            got,
            vec![strings(&[
                "ip",
                "route",
                "delete",
                "10.0.2.0/24",
                "metric",
                "50",
                "proto",
                "static",
                "table",
                "vpn"
            ])]
        );
        assert_eq!(RouteConfig::parse(""), RouteConfig::default());
        assert_eq!(
            RouteConfig::parse("IPROUTETABLE=\nIPROUTEARGS=onlink # comment\n"),
            RouteConfig {
                table: None,
                args: strings(&["onlink"])
            }
        );
        assert_eq!(
            RouteConfig::load("/nonexistent/pluto_updown"),
            RouteConfig::default()
        );
    }

    #[test]
    fn bad_environment() {
        let mut e = base("sideways-client");
        assert_eq!(
            ip_commands(&e, &RouteConfig::default()).unwrap_err(),
            Failure::new(1, "unknown verb `sideways-client'".into())
        );
        e.insert("PLUTO_VERB".into(), "route-client".into());
        for bad in ["10.0.2.0/33", "10.0.2.0/x", "ten/24"] {
            e.insert("PLUTO_PEER_CLIENT".into(), bad.into());
            assert_eq!(
                ip_commands(&e, &RouteConfig::default()).unwrap_err(),
                Failure::new(1, format!("invalid PLUTO_PEER_CLIENT `{bad}'"))
            );
        }
        e.remove("PLUTO_PEER_CLIENT");
        assert_eq!(
            ip_commands(&e, &RouteConfig::default()).unwrap_err().code,
            1
        );
        // A bare address is a host route.
        e.insert("PLUTO_PEER_CLIENT".into(), "10.0.2.9".into());
        assert_eq!(
            cmds(&e)[0],
            "ip route add 10.0.2.9/32 via 192.0.2.254 dev ipsec0"
        );
    }

    #[test]
    fn versions() {
        assert_eq!(check_version(Some("1.1")), Ok(()));
        assert_eq!(check_version(Some("1.5")), Ok(()));
        for bad in [Some("2.0"), Some("1"), Some(""), None] {
            assert_eq!(
                check_version(bad),
                Err(Failure::new(
                    2,
                    format!("unknown interface version `{}'", bad.unwrap_or(""))
                ))
            );
        }
        assert_eq!(check_version(Some("1.0")).unwrap_err().code, 2);
    }

    #[test]
    fn arguments() {
        assert_eq!(check_args(&[]), Ok(()));
        assert_eq!(check_args(&strings(&["ipfwadm"])), Ok(()));
        assert_eq!(check_args(&strings(&["iptables"])), Ok(()));
        assert_eq!(
            check_args(&strings(&["custom:foo", "bar"])),
            Err(Failure::new(
                2,
                "custom parameters `custom:foo bar' are not supported: use a custom updown script"
                    .into()
            ))
        );
        assert_eq!(
            check_args(&strings(&["ipfwadm", "x"])),
            Err(Failure::new(2, "unknown parameters `ipfwadm x'".into()))
        );
    }
}
