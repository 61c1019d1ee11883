//! `ipsec eroute`: the kernel's extended routing table.

/// Name of the subcommand (also its argv[0] basename).
pub const NAME: &str = "eroute";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str =
    "manage the kernel's extended routing table: which traffic goes to which SA";

const HELP: &str = "\
ipsec eroute: manage the kernel's extended routing table: which traffic goes to which SA\n\
Not implemented yet: this build only answers --help and --version.

Usage: ipsec eroute [OPTIONS]

Options:
  -h, --help     show this help
      --version  show the version";

/// Runs `ipsec eroute` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> i32 {
    if let Some(code) = super::common_options(NAME, HELP, args) {
        return code;
    }
    super::not_implemented(NAME)
}
