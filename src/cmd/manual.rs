//! What `ipsec spi` and `ipsec eroute` share (spec §5.1): the conventions of
//! their command lines (`--help`, `--version`, `--debug`, `--label`, every
//! option at most once, no stray words, exactly one action) and how a parsed
//! line runs: list, or check the request and send it, one line and exit 1
//! on any error.

use super::{err_line, out_line, VERSION};
use crate::getopt::{self, Item, Opt};
use crate::said::Stack;

/// What the command line asked for.
pub(super) enum Parsed<A> {
    Help,
    Version,
    List { debug: bool },
    Run { args: Box<A>, debug: bool },
}

/// One manual tool: its texts, exit codes and work.
pub(super) struct Tool<A> {
    /// "spi", "eroute".
    pub name: &'static str,
    pub help: &'static str,
    /// The original's exit status after `--help` (`--version` exits 1).
    pub help_exit: i32,
    /// The options that are actions; exactly one must be given.
    pub actions: &'static [&'static str],
    /// What the listing lists, for `--debug` ("SAs").
    pub listed: &'static str,
    /// Puts an option other than an action (and other than the
    /// conventions) into the arguments.
    pub take: fn(&mut A, &'static str, Option<String>),
    /// Puts an action into the arguments.
    pub take_action: fn(&mut A, &'static str, Option<String>),
    pub list: fn(Stack) -> Result<Vec<String>, String>,
    pub apply: fn(&A, Stack, bool) -> Result<(), String>,
}

impl<A: Default> Tool<A> {
    /// Parses `words` with `opts`; `prog` becomes `ipsec NAME --label L`
    /// when a label is given (it prefixes every diagnostic).
    pub fn parse(
        &self,
        opts: &'static [Opt],
        words: &[String],
        prog: &mut String,
    ) -> Result<Parsed<A>, String> {
        let items = getopt::parse(opts, words)?;
        let mut args = A::default();
        let mut debug = false;
        let mut seen: Vec<&str> = Vec::new();
        let mut actions = 0;
        for item in items {
            let (name, value) = match item {
                Item::Opt(n, v) => (n, v),
                Item::Positional(w) => return Err(format!("unexpected argument `{w}'")),
            };
            match name {
                "help" => return Ok(Parsed::Help),
                "version" => return Ok(Parsed::Version),
                "debug" => {
                    debug = true;
                    continue;
                }
                "label" => {
                    *prog = format!("ipsec {} --label {}", self.name, value.unwrap_or_default());
                    continue;
                }
                _ => {}
            }
            if seen.contains(&name) {
                return Err(format!("--{name} given more than once"));
            }
            seen.push(name);
            if self.actions.contains(&name) {
                actions += 1;
                (self.take_action)(&mut args, name, value);
            } else {
                (self.take)(&mut args, name, value);
            }
        }
        if seen.is_empty() {
            return Ok(Parsed::List { debug });
        }
        if actions != 1 {
            let names: Vec<String> = self.actions.iter().map(|a| format!("--{a}")).collect();
            let (last, rest) = names.split_last().map_or(("", &[][..]), |(l, r)| (l, r));
            return Err(format!(
                "exactly one of {} or {last} must be given",
                rest.join(", ")
            ));
        }
        Ok(Parsed::Run {
            args: Box::new(args),
            debug,
        })
    }

    /// Runs the tool with the arguments after its name; the exit status.
    pub fn run(&self, opts: &'static [Opt], words: &[String]) -> i32 {
        let mut prog = format!("ipsec {}", self.name);
        let parsed = match self.parse(opts, words, &mut prog) {
            Ok(p) => p,
            Err(e) => {
                err_line(&format!("{prog}: {e}"));
                return 1;
            }
        };
        let result = match parsed {
            Parsed::Help => {
                out_line(self.help);
                return self.help_exit;
            }
            Parsed::Version => {
                out_line(&format!("ipsec {} (rswan {VERSION})", self.name));
                return 1;
            }
            Parsed::List { debug } => (self.list)(Stack::detect()).map(|lines| {
                crate::spi::debug_line(debug, &format!("{} {}", lines.len(), self.listed));
                for l in lines {
                    out_line(&l);
                }
            }),
            Parsed::Run { args, debug } => (self.apply)(&args, Stack::detect(), debug),
        };
        match result {
            Ok(()) => 0,
            Err(e) => {
                err_line(&format!("{prog}: {e}"));
                1
            }
        }
    }
}

/// The words of a command line written as one string.
#[cfg(test)]
pub(super) fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

#[cfg(test)]
impl<A: Default> Tool<A> {
    /// The arguments of a command line that asks to run an action.
    pub fn args_of(&self, opts: &'static [Opt], s: &str) -> Result<A, String> {
        let mut p = String::new();
        match self.parse(opts, &words(s), &mut p)? {
            Parsed::Run { args, .. } => Ok(*args),
            _ => Err("not a run".into()),
        }
    }
}
