//! Subcommand front ends of the `ipsec` multi-call binary.
//!
//! The binary runs a subcommand either by the basename it was invoked under
//! (`pluto`, `whack`, ... as symlinks to `ipsec`) or, invoked as `ipsec` or
//! under any other name, by its first argument (`ipsec whack --status`).
//! Every subcommand is a `fn(&[String]) -> i32` taking the arguments after
//! its name and returning the process exit code.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;

pub mod auto;
pub mod eroute;
mod manual;
pub mod pluto;
pub mod rsasigkey;
pub mod setup;
pub mod showhostkey;
pub mod spi;
pub mod tncfg;
pub mod updown;
pub mod verify;
pub mod whack;

/// The crate version, as printed by `ipsec --version`.
pub use crate::VERSION;

/// One subcommand of the multi-call binary.
pub struct Command {
    /// Name used as `ipsec NAME` and as the argv[0] basename.
    pub name: &'static str,
    /// One-line description for `ipsec --help`.
    pub summary: &'static str,
    /// Entry point: arguments after the subcommand name, returns the exit code.
    pub run: fn(&[String]) -> i32,
}

/// Every subcommand, in the order `ipsec --help` lists them.
pub static COMMANDS: &[Command] = &[
    Command {
        name: pluto::NAME,
        summary: pluto::SUMMARY,
        run: pluto::run,
    },
    Command {
        name: whack::NAME,
        summary: whack::SUMMARY,
        run: whack::run,
    },
    Command {
        name: auto::NAME,
        summary: auto::SUMMARY,
        run: auto::run,
    },
    Command {
        name: setup::NAME,
        summary: setup::SUMMARY,
        run: setup::run,
    },
    Command {
        name: verify::NAME,
        summary: verify::SUMMARY,
        run: verify::run,
    },
    Command {
        name: tncfg::NAME,
        summary: tncfg::SUMMARY,
        run: tncfg::run,
    },
    Command {
        name: eroute::NAME,
        summary: eroute::SUMMARY,
        run: eroute::run,
    },
    Command {
        name: spi::NAME,
        summary: spi::SUMMARY,
        run: spi::run,
    },
    Command {
        name: updown::NAME,
        summary: updown::SUMMARY,
        run: updown::run,
    },
    Command {
        name: rsasigkey::NAME,
        summary: rsasigkey::SUMMARY,
        run: rsasigkey::run,
    },
    Command {
        name: showhostkey::NAME,
        summary: showhostkey::SUMMARY,
        run: showhostkey::run,
    },
];

/// Looks a subcommand up by name.
pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Runs the subcommand `name` with `args`; unknown names get one line on stderr and exit 2.
pub fn run(name: &str, args: &[String]) -> i32 {
    match find(name) {
        Some(cmd) => (cmd.run)(args),
        None => {
            err_line(&format!(
                "ipsec: unknown command '{name}' (try 'ipsec --help')"
            ));
            2
        }
    }
}

/// Entry point of the binary: `argv0` is the name it was invoked under,
/// `args` the arguments after it.
pub fn main(argv0: &OsStr, args: &[String]) -> i32 {
    let base = Path::new(argv0)
        .file_name()
        .and_then(OsStr::to_str)
        .unwrap_or("");
    if let Some(cmd) = find(base) {
        return (cmd.run)(args);
    }
    let Some(first) = args.first() else {
        err_line(&usage());
        return 2;
    };
    match first.as_str() {
        "--help" | "-h" | "help" => {
            out_line(&usage());
            0
        }
        "--version" => {
            out_line(&format!("rswan {VERSION}"));
            0
        }
        name => run(name, &args[1..]),
    }
}

/// The top-level usage text (no trailing newline).
pub fn usage() -> String {
    let width = COMMANDS.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut s = String::from(
        "Usage: ipsec COMMAND [ARGS...]\n       COMMAND [ARGS...]   (invoked through a link named after the command)\n\nCommands:\n",
    );
    for c in COMMANDS {
        s.push_str(&format!("  {:width$}  {}\n", c.name, c.summary));
    }
    s.push_str(
        "\nOptions:\n  -h, --help     show this help\n      --version  show the version\n\nRun 'ipsec COMMAND --help' for the options of one command.",
    );
    s
}

/// Handles the options every subcommand shares: `--help`/`-h` anywhere in
/// `args` prints `help` to stdout, `--version` prints the version; both
/// return `Some(0)`. Returns `None` when neither is present.
pub fn common_options(name: &str, help: &str, args: &[String]) -> Option<i32> {
    for arg in args {
        match arg.as_str() {
            "--" => break,
            "--help" | "-h" => {
                out_line(help);
                return Some(0);
            }
            "--version" => {
                out_line(&format!("ipsec {name} (rswan {VERSION})"));
                return Some(0);
            }
            _ => {}
        }
    }
    None
}

/// Writes one line to stdout; a closed pipe is not an error worth panicking over.
pub(crate) fn out_line(s: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{s}");
}

pub(crate) use crate::err_line;

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_are_unique_and_found() {
        for c in COMMANDS {
            assert_eq!(COMMANDS.iter().filter(|d| d.name == c.name).count(), 1);
            assert_eq!(find(c.name).map(|d| d.summary), Some(c.summary));
        }
        assert!(find("ipsec").is_none());
    }

    #[test]
    fn usage_lists_every_command() {
        let u = usage();
        for c in COMMANDS {
            assert!(u.contains(c.name) && u.contains(c.summary), "{}", c.name);
        }
    }

    #[test]
    fn common_options_stop_at_double_dash() {
        assert_eq!(
            common_options("spi", "h", &strings(&["--", "--help"])),
            None
        );
        assert_eq!(common_options("spi", "h", &strings(&["x", "-h"])), Some(0));
        assert_eq!(common_options("spi", "h", &strings(&["x"])), None);
    }
}
