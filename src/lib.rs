//! rswan: an IKEv1 keying daemon and the FreeS/WAN/Openswan IPsec userland tools.
//!
//! The protocol engine lives in [`ike`] and performs no I/O; the subcommand
//! front ends in [`cmd`] wrap it with sockets, files and the kernel.

pub mod auto;
pub mod cmd;
pub mod conf;
pub mod control_client;
pub mod ctl;
pub mod dns;
pub mod eroute;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod getopt;
pub mod ident;
pub mod ike;
pub mod netkey;
pub mod pfkey;
pub mod pluto;
pub mod said;
pub mod secrets;
pub mod sort;
pub mod spi;
mod sys_socket;
pub mod text;
pub mod tncfg;
pub mod updown;
pub mod verify;
mod wire_bytes;
#[cfg(test)]
mod wire_fuzz;
pub mod xfrm;

/// The version `--version` prints.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One diagnostic line on stderr (a tool's error or debug output).
pub fn err_line(s: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{s}");
}
