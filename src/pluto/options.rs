//! pluto's command line (spec §1.1).

use crate::getopt::{self, Item, Opt};
use crate::ike::config::{NatConfig, PrivateNet, NAT_T_PORT};
use std::path::PathBuf;

/// Which IPsec stack to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    /// `--use-auto` (the default) and `--use-netkey`: Linux XFRM over
    /// netlink, or NETKEY over PF_KEY where a kernel has no XFRM netlink.
    Auto,
    Klips,
    Netkey,
    /// `--use-pfkey`: NETKEY over PF_KEYv2 (af_key), as 2.4's pluto did.
    Pfkey,
    /// `--noklips` / `--use-nostack`: negotiate, install nothing.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub nofork: bool,
    pub stderrlog: bool,
    pub stack: Stack,
    pub interfaces: Vec<String>,
    pub ikeport: u16,
    /// Socket `<ctlbase>.ctl`, lock `<ctlbase>.pid`.
    pub ctlbase: PathBuf,
    pub secretsfile: String,
    pub ipsecdir: PathBuf,
    pub debug: u64,
    /// `--nat_traversal`, `--keep_alive`, `--force_keepalive`,
    /// `--virtual_private`: what the engine gets with `set_nat`, and
    /// whether the daemon opens its port 4500 sockets.
    pub nat: NatConfig,
    /// `--nhelpers N`: threads that do the Diffie-Hellman arithmetic; -1
    /// (the default) is one fewer than the CPUs, 0 does it in the event loop.
    pub nhelpers: i32,
    /// `--uniqueids`: a new ISAKMP SA for a peer ID replaces the older
    /// ones of that ID from another address (the engine's `set_unique_ids`).
    pub uniqueids: bool,
}

/// The most `--nhelpers` may ask for.
pub const MAX_HELPERS: i32 = 64;

impl Default for Config {
    fn default() -> Config {
        Config {
            nofork: false,
            stderrlog: false,
            stack: Stack::Auto,
            interfaces: Vec::new(),
            ikeport: 500,
            ctlbase: PathBuf::from("/var/run/pluto"),
            secretsfile: "/etc/ipsec.secrets".into(),
            ipsecdir: PathBuf::from("/etc/ipsec.d"),
            debug: 0,
            nat: NatConfig::default(),
            nhelpers: -1,
            uniqueids: false,
        }
    }
}

impl Config {
    pub fn ctl_path(&self) -> PathBuf {
        with_suffix(&self.ctlbase, ".ctl")
    }
    pub fn lock_path(&self) -> PathBuf {
        with_suffix(&self.ctlbase, ".pid")
    }
}

fn with_suffix(base: &std::path::Path, s: &str) -> PathBuf {
    let mut p = base.as_os_str().to_owned();
    p.push(s);
    PathBuf::from(p)
}

/// Debug classes and their bit numbers (spec §1.6).
pub const DEBUG_CLASSES: &[(&str, u32)] = &[
    ("raw", 0),
    ("crypt", 1),
    ("parsing", 2),
    ("emitting", 3),
    ("control", 4),
    ("lifecycle", 5),
    ("klips", 6),
    ("dns", 7),
    ("oppo", 8),
    ("controlmore", 9),
    ("pfkey", 10),
    ("nattraversal", 11),
    ("natt", 11),
    ("nat_t", 11),
    ("nat-t", 11),
    ("x509", 12),
    ("dpd", 13),
    ("private", 20),
];

pub const IMPAIRMENTS: &[(&str, u32)] = &[
    ("impair-delay-adns-key-answer", 21),
    ("impair-delay-adns-txt-answer", 22),
    ("impair-bust-mi2", 23),
    ("impair-bust-mr2", 24),
    ("impair-sa-creation", 25),
    ("impair-die-oninfo", 26),
    ("impair-jacob-two-two", 27),
];

/// DBG_ALL: bits 0..=12 (not private, not impairments).
pub const DEBUG_ALL: u64 = crate::ctl::DBG_ALL;

const FLAGS: &[&str] = &[
    "help",
    "version",
    "nofork",
    "stderrlog",
    "use-auto",
    "use-klips",
    "useklips",
    "use-netkey",
    "usenetkey",
    "use-pfkey",
    "use-nostack",
    "noklips",
    "uniqueids",
    "perpeerlog",
    "noretransmits",
    "nocrsend",
    "strictcrlpolicy",
    "ocsprequestcert",
    "nat_traversal",
    "force_keepalive",
    "disable_port_floating",
    "debug-none",
    "debug-all",
];
const WITH_ARG: &[&str] = &[
    "optionsfrom",
    "interface",
    "ikeport",
    "ctlbase",
    "secretsfile",
    "ipsecdir",
    "ipsec_dir",
    "foodgroupsdir",
    "adns",
    "lwdnsq",
    "perpeerlogbase",
    "coredir",
    "nhelpers",
    "crlcheckinterval",
    "ocspuri",
    "keep_alive",
    "virtual_private",
];

fn table() -> Vec<Opt> {
    let mut t: Vec<Opt> = FLAGS.iter().map(|n| Opt::flag(n)).collect();
    t.extend(WITH_ARG.iter().map(|n| Opt::arg(n)));
    t.extend(DEBUG_OPTION_NAMES.iter().map(|n| Opt::flag(n)));
    for (n, _) in IMPAIRMENTS {
        t.push(Opt::flag(n));
    }
    t
}

/// `--debug-<class>` for every class of [`DEBUG_CLASSES`].
const DEBUG_OPTION_NAMES: &[&str] = &[
    "debug-raw",
    "debug-crypt",
    "debug-parsing",
    "debug-emitting",
    "debug-control",
    "debug-lifecycle",
    "debug-klips",
    "debug-dns",
    "debug-oppo",
    "debug-controlmore",
    "debug-pfkey",
    "debug-nattraversal",
    "debug-natt",
    "debug-nat_t",
    "debug-nat-t",
    "debug-x509",
    "debug-dpd",
    "debug-private",
];

/// Openswan options rswan knows but does not implement yet: pluto refuses
/// to start with one of them rather than run without what it asks for.
pub const NOT_IMPLEMENTED: &[&str] = &[
    "perpeerlog",
    "perpeerlogbase",
    "noretransmits",
    "strictcrlpolicy",
    "ocsprequestcert",
    "crlcheckinterval",
    "ocspuri",
    "disable_port_floating",
    "adns",
    "lwdnsq",
    "coredir",
];

fn not_implemented(name: &str) -> String {
    format!("--{name} is not implemented by rswan yet; remove it from the command line")
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(Config),
    Help,
    Version,
}

pub fn parse(args: &[String]) -> Result<Parsed, String> {
    let items = getopt::parse(&table(), args)?;
    let mut c = Config::default();
    let mut seen: Vec<&'static str> = Vec::new();
    for it in items {
        let (name, val) = match it {
            Item::Positional(p) => return Err(format!("unexpected argument \"{p}\"")),
            Item::Opt(n, v) => (n, v.unwrap_or_default()),
        };
        if name != "interface" && !name.starts_with("debug-") && !name.starts_with("impair-") {
            if seen.contains(&name) {
                return Err(format!("option --{name} given more than once"));
            }
            seen.push(name);
        }
        match name {
            "help" => return Ok(Parsed::Help),
            "version" => return Ok(Parsed::Version),
            "nofork" => c.nofork = true,
            "stderrlog" => c.stderrlog = true,
            "use-auto" => c.stack = Stack::Auto,
            "use-klips" | "useklips" => c.stack = Stack::Klips,
            "use-netkey" | "usenetkey" => c.stack = Stack::Netkey,
            "use-pfkey" => c.stack = Stack::Pfkey,
            "use-nostack" | "noklips" => c.stack = Stack::None,
            "uniqueids" => c.uniqueids = true,
            "interface" => {
                if c.interfaces.len() >= 10 {
                    return Err("too many --interface options (at most 10)".into());
                }
                c.interfaces.push(val)
            }
            "ikeport" => {
                c.ikeport = getopt::parse_number(&val)
                    .filter(|p| (1..=65535).contains(p))
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| {
                        format!("--ikeport argument must be between 1 and 65535, not \"{val}\"")
                    })?
            }
            "ctlbase" => c.ctlbase = PathBuf::from(val),
            "secretsfile" => c.secretsfile = val,
            "ipsecdir" | "ipsec_dir" | "foodgroupsdir" => c.ipsecdir = PathBuf::from(val),
            "debug-none" => c.debug = 0,
            "debug-all" => c.debug |= DEBUG_ALL,
            n if n.starts_with("debug-") => {
                let class = n.trim_start_matches("debug-");
                if let Some((_, bit)) = DEBUG_CLASSES.iter().find(|(k, _)| *k == class) {
                    c.debug |= 1 << bit;
                }
            }
            // rswan's engine has none of these deliberate faults: they are
            // known, so that they are refused by name.
            n if n.starts_with("impair-") => return Err(not_implemented(n)),
            "nat_traversal" => c.nat.enabled = true,
            "force_keepalive" => c.nat.force_keepalive = true,
            "keep_alive" => c.nat.keep_alive = keep_alive(&val)?,
            "virtual_private" => c.nat.virtual_private = virtual_private(&val)?,
            "nhelpers" => c.nhelpers = nhelpers(&val)?,
            // rswan never sends certificate requests: what --nocrsend asks for.
            "nocrsend" => {}
            other => return Err(not_implemented(other)),
        }
    }
    // The IKE socket cannot also be NAT-T's: ESP in UDP arrives on 4500
    // and would be taken for IKE messages without the non-ESP marker.
    if c.nat.enabled && c.ikeport == NAT_T_PORT {
        return Err(format!(
            "--ikeport {NAT_T_PORT} cannot be used with --nat_traversal, which listens on port {NAT_T_PORT} itself"
        ));
    }
    Ok(Parsed::Run(c))
}

/// `--nhelpers N`: -1 ..= [`MAX_HELPERS`].
fn nhelpers(val: &str) -> Result<i32, String> {
    let n = if val == "-1" {
        Some(-1)
    } else {
        getopt::parse_number(val)
            .and_then(|n| i32::try_from(n).ok())
            .filter(|n| *n <= MAX_HELPERS)
    };
    n.ok_or_else(|| {
        format!("--nhelpers argument must be -1 (one fewer than the CPUs), 0 (none) or a number up to {MAX_HELPERS}, not \"{val}\"")
    })
}

/// `--keep_alive SECS`: seconds between NAT keepalives; 0 is the default
/// period (20 s), as in Openswan.
fn keep_alive(val: &str) -> Result<u32, String> {
    let secs = getopt::parse_number(val)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            format!("--keep_alive argument must be a number of seconds, not \"{val}\"")
        })?;
    Ok(if secs == 0 {
        NatConfig::default().keep_alive
    } else {
        secs
    })
}

/// `--virtual_private LIST`: comma-separated `%v4:NET/LEN` and
/// `%v6:NET/LEN` networks, each optionally excluded with `!` after the
/// family prefix (`%v4:!10.1.0.0/16`). Openswan logged and skipped a bad
/// entry; here the whole option is refused, naming the entry, since a
/// `%priv` that silently lost a network would accept or refuse peers
/// other than the ones configured.
pub fn virtual_private(list: &str) -> Result<Vec<PrivateNet>, String> {
    list.split(',')
        .map(|entry| {
            private_net(entry)
                .map_err(|why| format!("--virtual_private entry \"{entry}\" is invalid: {why}"))
        })
        .collect()
}

fn private_net(entry: &str) -> Result<PrivateNet, String> {
    let (exclude, subnet) = crate::text::ttovirtual(entry)?;
    Ok(PrivateNet {
        addr: subnet.addr,
        prefix: subnet.prefix,
        exclude,
    })
}

pub const USAGE: &str = "\
Usage: ipsec pluto [--help] [--version] [--optionsfrom FILE]
        [--nofork] [--stderrlog]
        [--noklips | --use-nostack | --use-auto | --use-netkey | --use-pfkey | --use-klips]
        [--interface IFNAME]... [--ikeport PORT]
        [--ctlbase PATH] [--secretsfile FILE] [--ipsecdir DIR]
        [--nat_traversal] [--keep_alive SECS] [--force_keepalive]
        [--virtual_private %v4:NET/LEN,%v4:!NET/LEN,%v6:NET/LEN...]
        [--nhelpers N]
        [--debug-none | --debug-all | --debug-CLASS...]
CLASS: raw crypt parsing emitting control lifecycle klips dns oppo controlmore
       pfkey nattraversal x509 dpd private

The IKEv1 keying daemon. It creates PATH.pid (a lock: a leftover one must be
removed) and the control socket PATH.ctl (default PATH is /var/run/pluto),
then waits for whack. It listens for IKE and reads ipsec.secrets only after
`ipsec whack --listen`.
Kernel: --use-auto (the default) and --use-netkey use Linux XFRM netlink
(NETKEY), falling back to PF_KEY where XFRM netlink is missing; --use-pfkey
insists on PF_KEYv2 (af_key); --noklips installs nothing; KLIPS is not
supported.
--nhelpers N: threads for the Diffie-Hellman arithmetic of answering Main
Mode (-1, the default: one fewer than the CPUs; 0: none, all in one thread).
--uniqueids: an ISAKMP SA established for a peer ID deletes the states of
that ID with other peer addresses or ports (a road warrior that came back
from elsewhere replaces its old tunnel).
Not implemented yet, and refused: --perpeerlog --perpeerlogbase
--noretransmits --strictcrlpolicy --ocsprequestcert --crlcheckinterval --ocspuri
--disable_port_floating --adns --lwdnsq --coredir and the
--impair-* options (--nocrsend is accepted: rswan sends no certificate
requests).
Exit status: 0 ok, 1 failure, 10 lock file exists.";

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn man_page_example() {
        let Parsed::Run(c) = parse(&s(&[
            "--secretsfile",
            "ipsec.secrets",
            "--ctlbase",
            "pluto.base",
            "--ikeport",
            "8500",
            "--nofork",
            "--use-nostack",
            "--stderrlog",
        ]))
        .unwrap() else {
            panic!()
        };
        assert_eq!(c.ikeport, 8500);
        assert_eq!(c.stack, Stack::None);
        assert!(c.nofork && c.stderrlog);
        assert_eq!(c.ctl_path(), PathBuf::from("pluto.base.ctl"));
        assert_eq!(c.lock_path(), PathBuf::from("pluto.base.pid"));
    }

    #[test]
    fn defaults_and_debug() {
        let Parsed::Run(c) = parse(&s(&[
            "--debug-all",
            "--debug-priv",
            "--interface",
            "eth0",
            "--interface",
            "eth1",
        ]))
        .unwrap() else {
            panic!()
        };
        assert_eq!(c.ctl_path(), PathBuf::from("/var/run/pluto.ctl"));
        assert_eq!(c.debug, DEBUG_ALL | (1 << 20));
        assert_eq!(c.interfaces, vec!["eth0", "eth1"]);
        assert!(crate::ctl::debug_names(c.debug).contains("private"));
    }

    #[test]
    fn errors() {
        assert!(parse(&s(&["stray"]))
            .unwrap_err()
            .contains("unexpected argument"));
        assert!(parse(&s(&["--ikeport", "0"])).is_err());
        assert!(parse(&s(&["--ikeport", "65536"])).is_err());
        assert!(parse(&s(&["--nofork", "--nofork"])).is_err());
        assert!(parse(&s(&["--bogus"])).is_err());
        for (name, _) in IMPAIRMENTS {
            assert_eq!(
                parse(&s(&[&format!("--{name}")])),
                Err(not_implemented(name)),
                "--{name}"
            );
        }
        // Known but not implemented: refused by name, never silently kept.
        for name in NOT_IMPLEMENTED {
            let flag = FLAGS.contains(name);
            let args = if flag {
                s(&[&format!("--{name}")])
            } else {
                s(&[&format!("--{name}"), "x"])
            };
            assert_eq!(parse(&args), Err(not_implemented(name)), "--{name}");
            assert!(
                USAGE.contains(&format!("--{name} ")) || USAGE.contains(&format!("--{name}\n")),
                "--{name} in USAGE"
            );
        }
        assert!(parse(&s(&["--nocrsend"])).is_ok());
        assert_eq!(parse(&s(&["--he"])).unwrap(), Parsed::Help);
    }

    fn run(v: &[&str]) -> Config {
        match parse(&s(v)) {
            Ok(Parsed::Run(c)) => c,
            other => panic!("{v:?}: {other:?}"),
        }
    }

    fn net(addr: &str, prefix: u8, exclude: bool) -> PrivateNet {
        PrivateNet {
            addr: addr.parse().unwrap(),
            prefix,
            exclude,
        }
    }

    #[test]
    fn nhelpers() {
        assert_eq!(run(&[]).nhelpers, -1);
        assert_eq!(run(&["--nhelpers", "-1"]).nhelpers, -1);
        assert_eq!(run(&["--nhelpers", "0"]).nhelpers, 0);
        assert_eq!(run(&["--nhelpers", "3"]).nhelpers, 3);
        for bad in ["-2", "65", "x", ""] {
            let e = parse(&s(&["--nhelpers", bad])).unwrap_err();
            assert!(e.contains("--nhelpers argument"), "{bad}: {e}");
        }
    }

    #[test]
    fn nat_traversal_options() {
        let c = run(&[]);
        assert_eq!(c.nat, NatConfig::default());
        assert!(!c.nat.enabled);
        let c = run(&[
            "--nat_traversal",
            "--keep_alive",
            "30",
            "--force_keepalive",
            "--virtual_private",
            "%v4:10.0.0.0/8,%v4:!10.1.0.0/16,%v6:fd00::/8,%v4:192.168.0.0/255.255.0.0",
        ]);
        assert!(c.nat.enabled && c.nat.force_keepalive);
        assert_eq!(c.nat.keep_alive, 30);
        assert_eq!(
            c.nat.virtual_private,
            vec![
                net("10.0.0.0", 8, false),
                net("10.1.0.0", 16, true),
                net("fd00::", 8, false),
                net("192.168.0.0", 16, false),
            ]
        );
        // Host bits go, as ttosubnet clears them; %v6 exclusions too.
        assert_eq!(
            run(&["--virtual_private", "%v4:172.16.9.9/12,%v6:!fd00:1::5/32"])
                .nat
                .virtual_private,
            vec![net("172.16.0.0", 12, false), net("fd00:1::", 32, true)]
        );
        // 0 is Openswan's "the default period"; hex as strtoul reads it.
        assert_eq!(run(&["--keep_alive", "0"]).nat.keep_alive, 20);
        assert_eq!(run(&["--keep_alive", "0x10"]).nat.keep_alive, 16);
        // The options are independent of each other, as in Openswan.
        assert!(!run(&["--keep_alive", "5"]).nat.enabled);
    }

    #[test]
    fn bad_nat_arguments_are_one_line_naming_them() {
        for bad in ["x", "", "-1", "4294967296", "10s"] {
            let e = parse(&s(&["--keep_alive", bad])).unwrap_err();
            assert_eq!(
                e,
                format!("--keep_alive argument must be a number of seconds, not \"{bad}\"")
            );
        }
        let cases: &[(&str, &str, &str)] = &[
            (
                "10.0.0.0/8",
                "10.0.0.0/8",
                "it must start with %v4: or %v6:",
            ),
            ("", "", "it must start with %v4: or %v6:"),
            ("%v4:10.0.0.0/8,", "", "it must start with %v4: or %v6:"),
            (
                "%v4:10.0.0.0",
                "%v4:10.0.0.0",
                "no / in subnet specification",
            ),
            (
                "%v4:10.0.0.0/33",
                "%v4:10.0.0.0/33",
                "subnet mask bit count too large",
            ),
            (
                "%v4:fd00::/8",
                "%v4:fd00::/8",
                "non-ipv6 address may not contain `:'",
            ),
            ("%v4:!", "%v4:!", "empty string"),
            (
                "%v4:10.0.0.0/8:500",
                "%v4:10.0.0.0/8:500",
                "a network has no port",
            ),
            (
                "%v4:10.0.0.0/8,%v6:fd00::/129",
                "%v6:fd00::/129",
                "subnet mask bit count too large",
            ),
        ];
        for (arg, entry, why) in cases {
            let e = parse(&s(&["--virtual_private", arg])).unwrap_err();
            assert_eq!(
                e,
                format!("--virtual_private entry \"{entry}\" is invalid: {why}"),
                "{arg}"
            );
            assert!(!e.contains('\n'));
        }
        assert!(parse(&s(&["--virtual_private", "%v6:10.0.0.0/8"]))
            .unwrap_err()
            .starts_with("--virtual_private entry \"%v6:10.0.0.0/8\" is invalid"));
        // Port 4500 is NAT-T's own.
        assert!(parse(&s(&["--nat_traversal", "--ikeport", "4500"]))
            .unwrap_err()
            .contains("--ikeport 4500 cannot be used with --nat_traversal"));
        assert_eq!(run(&["--ikeport", "4500"]).ikeport, 4500);
        assert_eq!(
            parse(&s(&["--disable_port_floating"])),
            Err(not_implemented("disable_port_floating"))
        );
    }
}
