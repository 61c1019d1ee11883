//! `ipsec whack`: the control interface to pluto.
//!
//! The command line follows Openswan 2.4.9's whack (spec §2.1-2.6): long
//! options only, unique prefixes accepted, `--opt=value` or `--opt value`,
//! per-class duplicate detection, `--optionsfrom`, the same validation order
//! and messages. [`parse_args`] turns it into a [`Parsed`] value without
//! touching a socket; [`crate::control_client::send`] then talks to pluto over the control
//! socket using [`crate::ctl`]'s encoding and relays the reply lines.

pub mod options;
mod optionsfrom;
mod parser;
mod validate;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_lookup;

pub use parser::{
    parse_args, parse_args_with, HostLookup, Parsed, Request, WhackError, DEFAULT_CTL_PATH,
};

/// Name of the subcommand (also its argv[0] basename).
pub const NAME: &str = "whack";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str =
    "control interface to pluto: add, initiate and delete connections, show status";

/// The usage text `--help` prints (to stderr, like the original).
pub const HELP: &str = "\
ipsec whack: control interface to pluto: add, initiate and delete connections, show status

Usage:

all forms: [--optionsfrom <filename>] [--ctlbase <path>] [--label <string>]
    (the control socket is <path>.ctl; the default is /var/run/pluto.ctl,
    the FreeS/WAN location - Openswan 2.4.9 used /var/run/pluto/pluto.ctl)

help: whack [--help] [--version]

connection: whack --name <connection_name> \\
    [--ipv4 | --ipv6] [--tunnelipv4 | --tunnelipv6] \\
    --host <ip-address>|%any|%opportunistic|%group|%opportunisticgroup \\
    [--id <identity>] [--cert <path>] [--ca <distinguished name>] \\
    [--groups <access control groups>] [--ikeport <port-number>] \\
    [--nexthop <ip-address>|%direct] [--srcip <ip-address>] \\
    [--client <subnet>|%default | --clientwithin <address range>] \\
    [--clientprotoport <protocol>/<port>] [--dnskeyondemand] \\
    [--updown <updown>] [--sendcert yes|always|no|never|ifasked|forced] \\
    [--certtype <number>] [--xauthserver] [--xauthclient] \\
    [--modecfgserver] [--modecfgclient] \\
    --to \\
    --host <ip-address> ... (the same options for the other end) \\
    [--psk] [--rsasig] [--encrypt] [--authenticate] [--compress] \\
    [--tunnel] [--pfs] [--pfsgroup modp1024|modp1536|modp2048|modp3072|modp4096|modp6144|modp8192] \\
    [--disablearrivalcheck] [--dontrekey] [--aggrmode] [--modecfgpull] \\
    [--ikelifetime <seconds>] [--ipseclifetime <seconds>] \\
    [--rekeymargin <seconds>] [--rekeyfuzz <percentage>] \\
    [--keyingtries <count>] [--ike <ike-algos>] [--esp <esp-algos>] \\
    [--dpddelay <seconds> --dpdtimeout <seconds>] [--dpdaction clear|hold|restart] \\
    [--forceencaps] \\
    [--initiateontraffic | --pass | --drop | --reject] \\
    [--failnone | --failpass | --faildrop | --failreject]

routing: whack (--route | --unroute) --name <connection_name>

initiation: whack (--initiate | --terminate) --name <connection_name> \\
    [--asynchronous] [--xauthname <name>] [--xauthpass <pass>]

opportunistic initiation: whack [--tunnelipv4 | --tunnelipv6] \\
    --oppohere <ip-address> --oppothere <ip-address>

delete: whack --delete --name <connection_name>

deletestate: whack --deletestate <state_object_number>

crash: whack --crash <ip-address>

pubkey: whack --keyid <id> [--addkey] [--pubkeyrsa <key>]

myid: whack --myid <id>

debug: whack [--name <connection_name>] \\
    [--debug-none] [--debug-all] \\
    [--debug-raw] [--debug-crypt] [--debug-parsing] [--debug-emitting] \\
    [--debug-control] [--debug-lifecycle] [--debug-klips] [--debug-dns] \\
    [--debug-oppo] [--debug-controlmore] [--debug-pfkey] [--debug-natt] \\
    [--debug-x509] [--debug-dpd] [--debug-private] \\
    [--impair-delay-adns-key-answer] [--impair-delay-adns-txt-answer] \\
    [--impair-bust-mi2] [--impair-bust-mr2] [--impair-sa-fail] \\
    [--impair-die-oninfo] [--impair-jacob-two-two]

listen: whack (--listen | --unlisten)

list: whack [--utc] [--listpubkeys] [--listcerts] [--listcacerts] \\
    [--listacerts] [--listaacerts] [--listocspcerts] [--listgroups] \\
    [--listcrls] [--listocsp] [--listcards] [--listevents] [--listall]

purge: whack --purgeocsp

reread: whack [--rereadsecrets] [--rereadcacerts] [--rereadaacerts] \\
    [--rereadocspcerts] [--rereadacerts] [--rereadcrls] [--rereadall]

status: whack --status [--json]
    (--json: one JSON object a line: pluto, each connection, each state;
    IPsec states with the kernel's byte counters in_bytes/out_bytes, null
    where the kernel has none)

traffic: whack --trafficstatus
    (one line per IPsec SA, as libreswan prints it:
    006 #2: \"name\", type=ESP, inBytes=N, outBytes=N, id='ID')

shutdown: whack --shutdown

Options may be abbreviated to any unique prefix. Exit status: 1 for a
problem found by whack, otherwise the code of the last significant reply
line from pluto (0 on success).

Not implemented by rswan yet, and refused (one line naming the first such
option, e.g. \"whack: --aggrmode is not implemented by rswan yet\", exit 1,
nothing sent to pluto):
    Aggressive Mode: --aggrmode
    XAUTH and Mode Config: --xauth --xauthserver --xauthclient --xauthname
        --xauthpass --modecfgserver --modecfgclient --modeconfigserver
        --modeconfigclient --modecfgpull
    X.509: --cert --ca --sendcert --certtype --listcerts --listcacerts
        --listacerts --listaacerts --listocspcerts --listcrls --listocsp
        --listcards --rereadcacerts --rereadaacerts --rereadocspcerts
        --rereadacerts --rereadcrls --purgeocsp
    groups: --groups --listgroups --host %group --host %opportunisticgroup
    DNS: --keyid without --pubkeyrsa
    others: --clientwithin --disablearrivalcheck --listevents
        --impair-delay-adns-key-answer --impair-delay-adns-txt-answer
        --impair-bust-mi2 --impair-bust-mr2 --impair-sa-fail
        --impair-die-oninfo --impair-jacob-two-two, and debug options
        with --name (debugging of one connection)
--listall lists what rswan has (the public keys) and --rereadall rereads
the secrets; --utc is accepted (rswan's lists carry no times).

With rswan's pluto on NETKEY: --reject blocks like --drop (the kernel has no
ICMP-sending discard); a kernel refusal of an SA fails the negotiation (032)
instead of being only logged.";

/// The version lines `--version` prints (to stdout).
pub fn version_text() -> String {
    format!(
        "ipsec whack (rswan {})\nFreeS/WAN/Openswan-compatible whack; GPL-2.0-or-later.",
        super::VERSION
    )
}

/// Runs `ipsec whack` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> i32 {
    match parse_args(args) {
        Err(e) => {
            super::err_line(&e.to_string());
            e.exit_code()
        }
        Ok(Parsed::Help) => {
            super::err_line(HELP);
            0
        }
        Ok(Parsed::Version) => {
            super::out_line(&version_text());
            0
        }
        Ok(Parsed::Send(req)) => crate::control_client::send(crate::control_client::Call {
            msg: &req.msg,
            ctl_path: &req.ctl_path,
            xauth_name: req.xauth_name.as_deref(),
            xauth_pass: req.xauth_pass.as_deref(),
        }),
    }
}
