//! `ipsec spi`: kernel security associations.

/// Name of the subcommand (also its argv[0] basename).
pub const NAME: &str = "spi";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str = "manage IPsec security associations (SAs) in the kernel";

const HELP: &str = "\
ipsec spi: manage IPsec security associations (SAs) in the kernel\n\
Not implemented yet: this build only answers --help and --version.

Usage: ipsec spi [OPTIONS]

Options:
  -h, --help     show this help
      --version  show the version";

/// Runs `ipsec spi` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> i32 {
    if let Some(code) = super::common_options(NAME, HELP, args) {
        return code;
    }
    super::not_implemented(NAME)
}
