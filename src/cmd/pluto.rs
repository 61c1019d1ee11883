//! `ipsec pluto`: the IKEv1 keying daemon.

/// Name of the subcommand (also its argv[0] basename).
pub const NAME: &str = "pluto";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str =
    "IKEv1 keying daemon: negotiates IPsec SAs with peers and installs them in the kernel";

const HELP: &str = "\
ipsec pluto: IKEv1 keying daemon: negotiates IPsec SAs with peers and installs them in the kernel\n\
Not implemented yet: this build only answers --help and --version.

Usage: ipsec pluto [OPTIONS]

Options:
  -h, --help     show this help
      --version  show the version";

/// Runs `ipsec pluto` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> i32 {
    if let Some(code) = super::common_options(NAME, HELP, args) {
        return code;
    }
    super::not_implemented(NAME)
}
