//! `ipsec tncfg`: ipsecN virtual interface configuration.

/// Name of the subcommand (also its argv[0] basename).
pub const NAME: &str = "tncfg";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str =
    "attach and detach ipsecN virtual interfaces to physical interfaces (KLIPS)";

const HELP: &str = "\
ipsec tncfg: attach and detach ipsecN virtual interfaces to physical interfaces (KLIPS)\n\
Not implemented yet: this build only answers --help and --version.

Usage: ipsec tncfg [OPTIONS]

Options:
  -h, --help     show this help
      --version  show the version";

/// Runs `ipsec tncfg` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> i32 {
    if let Some(code) = super::common_options(NAME, HELP, args) {
        return code;
    }
    super::not_implemented(NAME)
}
