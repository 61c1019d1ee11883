//! The updown contract between pluto and its routing/firewall script
//! (spec §3, `programs/pluto/sysdep_linux.c` do_command_linux).
//!
//! * [`env`] builds the shell command line for one invocation (pure: the
//!   `PLUTO_*` assignments in the 2.4.9 order, quoting and escaping, the
//!   1536-byte limit);
//! * [`run`] runs such a command with `/bin/sh -c`, collects its output lines
//!   and its exit status, with a timeout;
//! * [`child`] runs them as children of an event loop, queued per
//!   connection, without waiting.
//!
//! The default script itself, `ipsec _updown`, is a subcommand of the
//! binary (its front end lives with the others in `src/cmd/`).

pub mod child;
pub mod env;
pub mod run;
pub mod spawn;

pub use env::{build, BuildError, UpdownCall, UpdownCommand, Verb, VerbName};
pub use run::{run_command, Outcome, Status};
