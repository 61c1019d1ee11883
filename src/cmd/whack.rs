//! `ipsec whack`: the control interface to pluto.

/// Name of the subcommand (also its argv[0] basename).
pub const NAME: &str = "whack";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str =
    "control interface to pluto: add, initiate and delete connections, show status";

const HELP: &str = "\
ipsec whack: control interface to pluto: add, initiate and delete connections, show status\n\
Not implemented yet: this build only answers --help and --version.

Usage: ipsec whack [OPTIONS]

Options:
  -h, --help     show this help
      --version  show the version";

/// Runs `ipsec whack` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> i32 {
    if let Some(code) = super::common_options(NAME, HELP, args) {
        return code;
    }
    super::not_implemented(NAME)
}
