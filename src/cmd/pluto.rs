//! `ipsec pluto`: the IKEv1 keying daemon (see [`crate::pluto`]).

/// Name of the subcommand (also its argv[0] basename).
pub const NAME: &str = "pluto";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str =
    "IKEv1 keying daemon: negotiates IPsec SAs with peers and installs them in the kernel";

/// Runs `ipsec pluto` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> i32 {
    crate::pluto::main(args)
}
