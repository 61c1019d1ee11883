//! The Openswan 2.x `ipsec.conf` reader.
//!
//! [`load`] reads a configuration file (and the files it `include`s), and
//! turns `config setup` into the argument vector of `ipsec pluto`
//! ([`Setup::pluto_args`]) and every `conn` into the
//! [`crate::ctl::Connection`] that `ipsec whack --name NAME ... --to ...`
//! would send ([`Conn`]). Problems do not stop the reading: each one is a
//! [`Diagnostic`] with the file and line it is about, a conn with an error
//! is left out and the rest loads.
//!
//! The work is split by job: [`lexer`] cuts a file into sections of
//! `key=value` lines, `sections` follows `include` and `also=`, `conn`
//! and `setup` give the keys their meaning ([`keys`] is the table of every
//! key the reader knows), [`host`] answers `%defaultroute`.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::todo,
        clippy::unimplemented
    )
)]

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

mod conn;
mod end;
pub mod host;
pub mod keys;
pub mod lexer;
mod sections;
mod setup;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_broken;

pub use host::SystemHost;

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The section it is in is not loaded (or, for `config setup`, the key
    /// is not passed to pluto).
    Error,
    /// Loaded, but not as the file asks (e.g. a setting that is not enforced).
    Warning,
    /// Loaded as asked; something worth knowing (e.g. a key that has no
    /// meaning here and is ignored).
    Note,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        })
    }
}

/// One problem found while reading, with the place it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file.
    pub file: PathBuf,
    /// The line (1-based; 0 when about the file as a whole).
    pub line: u32,
    /// How bad it is.
    pub severity: Severity,
    /// What is wrong, in one line.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic about `file:line`.
    pub fn new(file: &Path, line: u32, severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            line,
            severity,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.severity,
            self.message
        )
    }
}

/// `auto=`: what `ipsec setup start` does with a conn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Auto {
    /// `ignore` (the default): nothing.
    #[default]
    Ignore,
    /// `add`: added to pluto.
    Add,
    /// `route`: added and routed.
    Route,
    /// `start`: added, routed and initiated.
    Start,
}

/// One connection as `ipsec auto --add` would give it to pluto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conn {
    /// The connection name (`NAME`, or `NAME/1x2` for a `leftsubnets=`
    /// combination).
    pub name: String,
    /// `auto=`.
    pub auto: Auto,
    /// Exactly what `ipsec whack --name NAME <left end> --to <right end>
    /// <options>` sends.
    pub connection: crate::ctl::Connection,
    /// `leftrsasigkey=`/`rightrsasigkey=` raw keys, to be sent before the
    /// connection as `whack --keyid ID --pubkeyrsa KEY`.
    pub keys: Vec<crate::ctl::KeyRequest>,
    /// The file holding `conn NAME`.
    pub file: PathBuf,
    /// The line of `conn NAME`.
    pub line: u32,
}

/// What `config setup` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Setup {
    /// argv for `ipsec pluto` (without the program name), parsed again by
    /// [`crate::pluto::options::parse`].
    pub pluto_args: Vec<String>,
    /// The secrets file to use (`IPSEC_CONFS/ipsec.secrets` unless
    /// overridden).
    pub secrets: PathBuf,
    /// `plutostderrlog=`: where pluto's stderr goes (None: syslog).
    pub stderr_log: Option<PathBuf>,
    /// `plutowait=`: `ipsec setup` waits for each conn's negotiation.
    pub pluto_wait: bool,
    /// `myid=`: to be sent to pluto as `whack --myid`.
    pub myid: Option<String>,
}

/// A whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// `config setup`.
    pub setup: Setup,
    /// The conns that loaded, in file order (`%default` and sections only
    /// used through `also=` excepted).
    pub conns: Vec<Conn>,
    /// Everything worth saying about the files, in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

impl Config {
    /// The conn named `name`.
    pub fn conn(&self, name: &str) -> Option<&Conn> {
        self.conns.iter().find(|c| c.name == name)
    }

    /// True if some diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// What the reader asks of the system (so tests run on fakes).
pub trait Host {
    /// `%defaultroute`: the address of the interface the default route
    /// leaves by, and its gateway.
    fn default_route(&self, family: crate::ctl::AddrFamily) -> Option<DefaultRoute>;

    /// A host name in `left=`/`right=` (Openswan looked names up): its
    /// first address of `family`, or why there is none.  The default knows
    /// no names; [`SystemHost`] asks rswan's resolver (`crate::dns`).
    fn resolve(&self, name: &str, _family: crate::ctl::AddrFamily) -> Result<IpAddr, String> {
        Err(format!("\"{name}\": host names are not looked up here"))
    }
}

/// The default route of one family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultRoute {
    /// The interface's address.
    pub addr: IpAddr,
    /// The gateway (the nexthop).
    pub nexthop: IpAddr,
    /// The interface's name.
    pub iface: String,
}

/// The environment variable naming the directory of `ipsec.conf` and
/// `ipsec.secrets`.
pub const IPSEC_CONFS_ENV: &str = "IPSEC_CONFS";

/// The directory holding `ipsec.conf` and `ipsec.secrets`: `$IPSEC_CONFS`
/// or `/etc`.
pub fn confs_dir() -> PathBuf {
    match std::env::var_os(IPSEC_CONFS_ENV) {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from("/etc"),
    }
}

/// Reads `path` (and its includes). `Err` only when `path` itself cannot be
/// read; every other problem is a [`Diagnostic`], and a conn with an error
/// diagnostic is left out of `conns` while the rest load.
pub fn load(path: &Path, host: &dyn Host) -> Result<Config, Diagnostic> {
    let mut diagnostics = Vec::new();
    let g = sections::gather(path, &mut diagnostics)?;
    let confs = confs_dir();
    let setup = setup::build(&g.setup, &confs, host, &mut diagnostics);
    let mut conns: Vec<Conn> = Vec::new();
    let mut names = std::collections::HashSet::new();
    let mut reported = std::collections::HashSet::new();
    for r in sections::resolve(&g, &mut diagnostics) {
        for c in conn::build(&r, host, &mut diagnostics, &mut reported) {
            if !names.insert(c.name.clone()) {
                diagnostics.push(Diagnostic::new(
                    &c.file,
                    c.line,
                    Severity::Error,
                    format!("conn {}: the name is taken by another conn", c.name),
                ));
                continue;
            }
            conns.push(c);
        }
    }
    // A problem in a section several conns use is said once.
    let mut said = std::collections::HashSet::new();
    let unique: Vec<Diagnostic> = diagnostics
        .into_iter()
        .filter(|d| said.insert((d.file.clone(), d.line, d.message.clone())))
        .collect();
    Ok(Config {
        setup,
        conns,
        diagnostics: unique,
    })
}
