//! `ipsec spi`: kernel security associations (spec §5.4). The command line
//! and its exit codes; the work is in [`crate::spi`].

use super::manual::Tool;
use crate::getopt::Opt;
use crate::spi::{self, Args, Request};

/// Name of the subcommand (also its argv[0] basename).
pub const NAME: &str = "spi";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str = "manage IPsec security associations (SAs) in the kernel";

const HELP: &str = "\
Usage: ipsec spi --ah hmac-md5-96|hmac-sha1-96 <SA> [<life>] [--replay_window W] --authkey K
       ipsec spi --esp 3des|3des-md5-96|3des-sha1-96|ENC[-AUTH] <SA> [<life>] [--replay_window W]
                 --enckey K [--authkey K] [--natt none|nonesp|nonike|N [--sport P] [--dport P]]
       ipsec spi --comp deflate <SA>
       ipsec spi --ip4|--ip6 <SA> --src ENCAP_SRC [--dst ENCAP_DST]      (KLIPS only)
       ipsec spi --del <SA>
       ipsec spi --clear
       ipsec spi                                  (list every SA)
  <SA>   := --af inet|inet6 --edst ADDR --spi SPI --proto ah|esp|comp|tun  |  --said SAID
  SAID   := PROTO.HEXSPI@IPv4 | PROTO:HEXSPI@IPv6 | PROTO<SPI>@ADDR, PROTO ah esp comp tun
  <life> := --life soft|hard-allocations|bytes|addtime|usetime|packets=N[,...]
  ENC: 3des aes aes128 aes192 aes256; AUTH: md5 sha1 sha2_256 sha2_384 sha2_512
  Keys and --iv: 0x hex, 0s base64 or 0t text. SPI >= 0x100, replay window 1..64.
Other options: --src A (SA source), --dst A (must equal the SA's destination),
  --iv V (checked, not sent: PF_KEY v2 has no IV field), --saref (KLIPS),
  --listenreply, --label L, --debug, --optionsfrom FILE, --version, --help.

Kernels: KLIPS (/proc/net/ipsec_* exist) gets Openswan's PF_KEY messages and the
listing is /proc/net/ipsec_spi. NETKEY (/proc/net/pfkey) has no IP-in-IP SAs:
every ESP/AH/IPCOMP SA is added in tunnel mode from --src to its destination
(give --src), --ip4/--ip6 and --saref are refused, and SAs with an SPI up to
0x3fff get the SPI as reqid so `ipsec eroute` binds its policy to exactly that SA.
The listing prints the SADB_DUMP in the ipsec_spi line format (no iv, replay
counters, idle or refcounts: Linux has none; packets(c,s,h) are Linux's counts).

Differences from Openswan 2.4.9: --sport and --dport set the ports they name
(2.4.9 swapped them); --dst is checked instead of silently ignored; key sizes
are checked before anything is sent; --help exits 255 and --version exits 1,
as the original.";

const OPTS: &[Opt] = &[
    Opt::arg("ah"),
    Opt::arg("esp"),
    Opt::arg("comp"),
    Opt::flag("ip4"),
    Opt::flag("ip6"),
    Opt::flag("del"),
    Opt::flag("clear"),
    Opt::arg("said"),
    Opt::arg("af"),
    Opt::arg("edst"),
    Opt::arg("spi"),
    Opt::arg("proto"),
    Opt::arg("src"),
    Opt::arg("dst"),
    Opt::arg("life"),
    Opt::arg("replay_window"),
    Opt::arg("authkey"),
    Opt::arg("enckey"),
    Opt::arg("iv"),
    Opt::arg("natt"),
    Opt::arg("sport"),
    Opt::arg("dport"),
    Opt::flag("saref"),
    Opt::flag("listenreply"),
    Opt::flag("debug"),
    Opt::arg("label"),
    Opt::arg("optionsfrom"),
    Opt::flag("version"),
    Opt::flag("help"),
];

const TOOL: Tool<Args> = Tool {
    name: NAME,
    help: HELP,
    help_exit: 255,
    actions: &["ah", "esp", "comp", "ip4", "ip6", "del", "clear"],
    listed: "SAs",
    take,
    take_action: |args, name, value| {
        args.action = name.to_string();
        args.alg = value;
    },
    list: spi::list_lines,
    apply: |args, stack, debug| {
        Request::from_args(args).and_then(|req| spi::apply(&req, stack, debug))
    },
};

fn take(args: &mut Args, name: &'static str, value: Option<String>) {
    let slot = match name {
        "said" => &mut args.said,
        "af" => &mut args.af,
        "edst" => &mut args.edst,
        "spi" => &mut args.spi,
        "proto" => &mut args.proto,
        "src" => &mut args.src,
        "dst" => &mut args.dst,
        "life" => &mut args.life,
        "replay_window" => &mut args.replay_window,
        "authkey" => &mut args.authkey,
        "enckey" => &mut args.enckey,
        "iv" => &mut args.iv,
        "natt" => &mut args.natt,
        "sport" => &mut args.sport,
        "dport" => &mut args.dport,
        "saref" => {
            args.saref = true;
            return;
        }
        // The reply is always read: a refusal is reported either way.
        _ => return,
    };
    *slot = value;
}

/// Runs `ipsec spi` with the arguments after the subcommand name.
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
        let a = args_of("--esp 3des-sha1-96 --said esp.1001@192.0.2.2 --src 192.0.2.1 --enckey 0x01 --authkey 0x02").unwrap();
        assert_eq!(a.action, "esp");
        assert_eq!(a.alg.as_deref(), Some("3des-sha1-96"));
        assert_eq!(a.said.as_deref(), Some("esp.1001@192.0.2.2"));
        let a = args_of("--clear").unwrap();
        assert_eq!(a.action, "clear");
        assert!(args_of("--del --clear")
            .unwrap_err()
            .contains("exactly one"));
        assert!(args_of("--src 1.2.3.4")
            .unwrap_err()
            .contains("exactly one"));
        assert!(args_of("--del --spi 1 --spi 2")
            .unwrap_err()
            .contains("more than once"));
        assert!(args_of("--del stray").unwrap_err().contains("unexpected"));
        assert!(args_of("--bogus").unwrap_err().contains("unrecognized"));
        let mut p = "ipsec spi".to_string();
        assert!(matches!(
            parse(&words("--debug --label x"), &mut p),
            Ok(Parsed::List { debug: true })
        ));
        assert_eq!(p, "ipsec spi --label x");
        assert!(matches!(
            parse(&words("--del --help"), &mut p),
            Ok(Parsed::Help)
        ));
    }
}
