//! `ipsec eroute`: the kernel's extended routing table (spec §5.3). The
//! command line and its exit codes; the work is in [`crate::eroute`].

use super::manual::Tool;
use crate::eroute::{self, Args, Request};
use crate::getopt::Opt;

/// Name of the subcommand (also its argv[0] basename).
pub const NAME: &str = "eroute";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str =
    "manage the kernel's extended routing table: which traffic goes to which SA";

const HELP: &str = "\
Usage: ipsec eroute --add|--addin|--replace|--replacein --eraf inet|inet6 --src S/M --dst D/M
                    [--transport-proto P] [--src-port P] [--dst-port P] <SA>
       ipsec eroute --del --eraf inet|inet6 --src S/M --dst D/M
                    [--transport-proto P] [--src-port P] [--dst-port P]
       ipsec eroute --clear
       ipsec eroute                               (list the eroutes)
  <SA>  := --af inet|inet6 --edst ADDR --spi SPI --proto ah|esp|comp|tun  |  --said SAID
  SAID  := PROTO.HEXSPI@IPv4 | PROTO:HEXSPI@IPv6 | PROTO<SPI>@ADDR, or %pass %drop %reject
           %hold %trap %trapsubnet %passthrough %passthrough4 %passthrough6
  S/M, D/M: addr/bits or addr/mask; ports need --transport-proto tcp or udp.
Other options: --label L, --debug, --optionsfrom FILE, --version, --help.

Kernels: KLIPS (/proc/net/ipsec_* exist) gets SADB_X_ADDFLOW/X_DELFLOW and the
listing is /proc/net/ipsec_eroute. NETKEY (/proc/net/pfkey) gets SPD entries:
--add/--replace an outbound entry (X_SPDADD/X_SPDUPDATE), --addin/--replacein the
inbound and forward entries; an esp/ah/comp SAID is a tunnel-mode request to its
address (tun names the ESP SA of that SPI; SPIs up to 0x3fff bind the entry to
that SA through its reqid), %pass/%passthrough a bypass, %drop/%reject a discard,
%hold/%trap/%trapsubnet an ESP request without SA (the kernel sends ACQUIRE).
--del deletes the entries of those selectors in every direction, --clear flushes
the SPD. The listing shows outbound entries; the count is that of the SA an entry
leads to (Linux counts no packets per policy); an entry whose SA is missing, or a
%hold/%trap, lists as %trap; %reject lists as %drop.

Differences from Openswan 2.4.9: --replace sends REPLACEFLOW and --addin INFLOW
(2.4.9 sent no flag); %passthrough is accepted (2.4.9's SPI check refused it);
NETKEY is supported (2.4.9 said `NETKEY does not support eroute table.');
--help and --version exit 1, as the original.";

const OPTS: &[Opt] = &[
    Opt::flag("add"),
    Opt::flag("addin"),
    Opt::flag("replace"),
    Opt::flag("replacein"),
    Opt::flag("del"),
    Opt::flag("clear"),
    Opt::arg("eraf"),
    Opt::arg("src"),
    Opt::arg("dst"),
    Opt::arg("transport-proto"),
    Opt::arg("src-port"),
    Opt::arg("dst-port"),
    Opt::arg("said"),
    Opt::arg("af"),
    Opt::arg("edst"),
    Opt::arg("spi"),
    Opt::arg("proto"),
    Opt::flag("debug"),
    Opt::arg("label"),
    Opt::arg("optionsfrom"),
    Opt::flag("version"),
    Opt::flag("help"),
];

const TOOL: Tool<Args> = Tool {
    name: NAME,
    help: HELP,
    help_exit: 1,
    actions: &["add", "addin", "replace", "replacein", "del", "clear"],
    listed: "eroutes",
    take,
    take_action: |args, name, _| args.action = name.to_string(),
    list: eroute::list_lines,
    apply: |args, stack, debug| {
        Request::from_args(args).and_then(|req| eroute::apply(&req, stack, debug))
    },
};

fn take(args: &mut Args, name: &'static str, value: Option<String>) {
    let slot = match name {
        "eraf" => &mut args.eraf,
        "src" => &mut args.src,
        "dst" => &mut args.dst,
        "transport-proto" => &mut args.transport_proto,
        "src-port" => &mut args.src_port,
        "dst-port" => &mut args.dst_port,
        "said" => &mut args.said,
        "af" => &mut args.af,
        "edst" => &mut args.edst,
        "spi" => &mut args.spi,
        _ => &mut args.proto,
    };
    *slot = value;
}

/// Runs `ipsec eroute` with the arguments after the subcommand name.
pub fn run(words: &[String]) -> i32 {
    TOOL.run(OPTS, words)
}

#[cfg(test)]
mod tests {
    use super::super::manual::{words, Parsed};
    use super::*;

    fn args_of(s: &str) -> Result<Args, String> {
        TOOL.args_of(OPTS, s)
    }

    fn parse(w: &[String], prog: &mut String) -> Result<Parsed<Args>, String> {
        TOOL.parse(OPTS, w, prog)
    }

    #[test]
    fn command_lines() {
        let a = args_of("--add --eraf inet --src 10.1.0.0/24 --dst 10.2.0.0/24 --said tun0x1001@192.0.2.2 --transport-proto tcp --dst-port 25").unwrap();
        assert_eq!(a.action, "add");
        assert_eq!(a.transport_proto.as_deref(), Some("tcp"));
        assert_eq!(a.dst_port.as_deref(), Some("25"));
        assert_eq!(a.said.as_deref(), Some("tun0x1001@192.0.2.2"));
        let a = args_of("--del --src 1.0.0.0/8 --dst 2.0.0.0/8 --proto esp").unwrap();
        assert_eq!(a.proto.as_deref(), Some("esp"));
        assert!(args_of("--add --del").unwrap_err().contains("exactly one"));
        assert!(args_of("--src 1.0.0.0/8")
            .unwrap_err()
            .contains("exactly one"));
        assert!(args_of("--add --src a --src b")
            .unwrap_err()
            .contains("more than once"));
        let mut p = "ipsec eroute".to_string();
        assert!(matches!(
            parse(&words("--label L --debug"), &mut p),
            Ok(Parsed::List { debug: true })
        ));
        assert_eq!(p, "ipsec eroute --label L");
        assert!(matches!(
            parse(&words("--version"), &mut p),
            Ok(Parsed::Version)
        ));
    }
}
