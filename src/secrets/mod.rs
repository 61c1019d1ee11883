//! ipsec.secrets: lexer, grammar, and the loaded secrets (`programs/pluto/keys.c`,
//! `lex.c`; spec §4.1–§4.5).
//!
//! [`load_secrets`] reads a file (glob-expanded like pluto does), follows `include`
//! lines (relative to the including file's directory, glob-expanded, nesting limit
//! [`MAX_INCLUDE_DEPTH`]) and returns the PSK and RSA entries in file order. A bad
//! record is dropped with a warning `"<file>" line <n>: <msg>` in
//! [`Loaded::warnings`]; only an unreadable top-level file is an error, so the caller
//! can keep the secrets it had.
//!
//! Loading is bounded so that a hostile or careless set of files cannot make pluto
//! spin: every file is read at most once per load (an `include` that reaches a file
//! already read, a cycle included, is refused with a warning instead of repeating
//! it), one `include` may match at most [`MAX_INCLUDE_MATCHES`] files, and a load
//! reads at most [`MAX_TOTAL_BYTES`] bytes and [`MAX_RECORDS`] records. A refused
//! include or the records past a limit are dropped with a warning; what was loaded
//! before stays, as for any other bad record.
//!
//! Deviations from pluto 2.4.9, all deliberate:
//! * a malformed index drops the whole entry (pluto drops only the index, which can
//!   silently turn `badname: PSK "x"` into a default entry matching everything);
//! * an unterminated quoted string drops its record (pluto logs it and goes on with a
//!   mangled token);
//! * messages never quote secret material (pluto quotes malformed PSK/RSA data);
//! * `RSA <file>` (PEM/DER key files), `PIN` (smartcard) and `XAUTH` entries are
//!   reported as not supported and dropped;
//! * host names in indices are not resolved (see [`crate::ident`]);
//! * a decoded PSK longer than 1026 bytes (RSA_MAX_ENCODING_BYTES) is refused
//!   instead of being truncated.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod glob;
pub mod keyfmt;
pub mod lexer;
pub mod parser;
pub mod rsa;

pub use rsa::{RsaPrivateEntry, RsaPrivateKey};

use crate::ike::wire::Identity;
use crate::ike::{SecretEntry, SecretIndex, SecretValue, Secrets};
use parser::Parsed;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Deepest `include` nesting followed (the top-level file is depth 0).
pub const MAX_INCLUDE_DEPTH: usize = 10;
/// Most files one `include` pattern (or the top-level pattern) may match; an
/// include matching more is refused whole.
pub const MAX_INCLUDE_MATCHES: usize = 100;
/// Most bytes read in one load, over all files; a file that would pass it is not read.
pub const MAX_TOTAL_BYTES: u64 = 16 * 1024 * 1024;
/// Most records (entries and includes, good or bad) taken in one load; the rest are dropped.
pub const MAX_RECORDS: usize = 100_000;

/// Largest secrets file read: some hundreds of RSA keys. A bigger one (an
/// `include` pattern that matched `/proc/kcore`, say) is refused unread.
pub const MAX_SECRETS_FILE: u64 = 4 << 20;

/// Reads one secrets file. Only regular files: a pattern that matches a
/// FIFO or a device (`include /dev/*`) would block or never end.
fn read_secrets_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking: opening a FIFO for reading would otherwise wait for a
    // writer. It changes nothing for a regular file.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    if meta.len() > MAX_SECRETS_FILE {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("larger than {MAX_SECRETS_FILE} bytes"),
        ));
    }
    let mut text = Vec::new();
    // Files whose size says 0 (/proc) are read too, but never past the cap.
    f.take(MAX_SECRETS_FILE.saturating_add(1))
        .read_to_end(&mut text)?;
    if text.len() as u64 > MAX_SECRETS_FILE {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("larger than {MAX_SECRETS_FILE} bytes"),
        ));
    }
    Ok(text)
}

/// The result of loading ipsec.secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    /// PSK entries, in file order (includes expanded in place).
    pub psk: Secrets,
    /// `RSA { ... }` entries that passed the sanity checks, in file order.
    pub rsa: Vec<RsaPrivateEntry>,
    /// Problems found (each dropped a record or an include), in order.
    pub warnings: Vec<String>,
    /// Every file read, in order (for `loading secrets from "<file>"` lines).
    pub files: Vec<PathBuf>,
}

/// A fatal load error: nothing was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretsError {
    /// The top-level file could not be read.
    Unreadable { path: PathBuf, reason: String },
    /// The top-level name is a pattern that matched nothing.
    NoMatch { pattern: String },
    /// The top-level pattern matched more than [`MAX_INCLUDE_MATCHES`] files.
    TooManyMatches { pattern: String, count: usize },
}

impl core::fmt::Display for SecretsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SecretsError::Unreadable { path, reason } => {
                write!(f, "could not open \"{}\": {reason}", path.display())
            }
            SecretsError::NoMatch { pattern } => {
                write!(f, "no secrets filename matched \"{pattern}\"")
            }
            SecretsError::TooManyMatches { pattern, count } => write!(
                f,
                "secrets filename pattern \"{pattern}\" matched {count} files \
                 (at most {MAX_INCLUDE_MATCHES} allowed)"
            ),
        }
    }
}

impl std::error::Error for SecretsError {}

/// Loads `path` (a file name or a glob pattern) and everything it includes.
pub fn load_secrets(path: &Path) -> Result<Loaded, SecretsError> {
    let files = if glob::has_magic(path.as_os_str().as_bytes()) {
        let found = glob::glob(path).map_err(|(p, e)| SecretsError::Unreadable {
            path: p,
            reason: e.to_string(),
        })?;
        if found.is_empty() {
            return Err(SecretsError::NoMatch {
                pattern: path.display().to_string(),
            });
        }
        found
    } else {
        vec![path.to_path_buf()]
    };
    if files.len() > MAX_INCLUDE_MATCHES {
        return Err(SecretsError::TooManyMatches {
            pattern: path.display().to_string(),
            count: files.len(),
        });
    }
    let mut loader = Loader::default();
    let mut contents = Vec::with_capacity(files.len());
    for f in files {
        let text = loader
            .read_bounded(&f)
            .map_err(|reason| SecretsError::Unreadable {
                path: f.clone(),
                reason,
            })?;
        contents.push((f, text));
    }
    for (f, text) in contents {
        if !loader.first_visit(&f) {
            continue;
        }
        let dir = parent_dir(&f);
        loader.out.files.push(f.clone());
        let key = glob::canonical(&f);
        loader.stack.push(key);
        loader.process_file(&f.display().to_string(), dir.as_deref(), &text, 0);
        loader.stack.pop();
    }
    Ok(loader.out)
}

/// Parses secrets text as if read from a file named `origin_name` in `base_dir`
/// (where relative `include` names are looked up). Nothing is fatal here.
pub fn parse_secrets_str(text: &str, origin_name: &str, base_dir: &Path) -> Loaded {
    let mut loader = Loader::default();
    loader.process_file(origin_name, Some(base_dir), text.as_bytes(), 0);
    loader.out
}

/// The directory part of a file name, None when it has none (pluto then takes a
/// relative include name as it is).
fn parent_dir(file: &Path) -> Option<PathBuf> {
    file.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
}

#[derive(Default)]
struct Loader {
    out: Loaded,
    /// Every file read so far (by [`glob::canonical`]).
    seen: std::collections::HashSet<PathBuf>,
    /// The files being processed, outermost first (by [`glob::canonical`]).
    stack: Vec<PathBuf>,
    /// Bytes read so far.
    bytes: u64,
    /// Records taken so far.
    records: usize,
    /// Set once [`MAX_RECORDS`] is reached: every later record is dropped.
    records_full: bool,
}

impl Loader {
    fn warn(&mut self, file: &str, line: usize, msg: &str) {
        self.out
            .warnings
            .push(format!("\"{file}\" line {line}: {msg}"));
    }

    /// Marks `f` as read; false if it was read already in this load.
    fn first_visit(&mut self, f: &Path) -> bool {
        self.seen.insert(glob::canonical(f))
    }

    /// Reads `f` unless that would take the load past [`MAX_TOTAL_BYTES`].
    fn read_bounded(&mut self, f: &Path) -> Result<Vec<u8>, String> {
        let text = read_secrets_file(f).map_err(|e| e.to_string())?;
        let n = u64::try_from(text.len()).unwrap_or(u64::MAX);
        if self.bytes.saturating_add(n) > MAX_TOTAL_BYTES {
            return Err(format!(
                "secrets files total more than {MAX_TOTAL_BYTES} bytes; not read"
            ));
        }
        self.bytes = self.bytes.saturating_add(n);
        Ok(text)
    }

    fn process_file(&mut self, name: &str, dir: Option<&Path>, text: &[u8], depth: usize) {
        let lexed = lexer::lex(text);
        if let Some(line) = lexed.starts_indented {
            self.warn(
                name,
                line,
                "file starts with indentation (continuation notation)",
            );
        }
        for rec in &lexed.records {
            let line = rec.line();
            if self.records_full {
                return;
            }
            if self.records >= MAX_RECORDS {
                self.records_full = true;
                self.warn(
                    name,
                    line,
                    &format!(
                        "more than {MAX_RECORDS} records in secrets files; the rest are ignored"
                    ),
                );
                return;
            }
            self.records += 1;
            match parser::parse_record(rec) {
                Err((l, msg)) => self.warn(name, l, &msg),
                Ok(Parsed::Include(pat)) => {
                    let pat = Path::new(OsStr::from_bytes(&pat));
                    let full = match dir {
                        Some(d) if pat.is_relative() => d.join(pat),
                        _ => pat.to_path_buf(),
                    };
                    self.include(name, line, &full, depth + 1);
                }
                Ok(Parsed::Psk { indices, secret }) => self.out.psk.entries.push(SecretEntry {
                    indices,
                    value: SecretValue::Psk(secret.0),
                }),
                Ok(Parsed::Rsa { indices, key }) => self.out.rsa.push(RsaPrivateEntry {
                    indices,
                    key: *key,
                    origin: format!("\"{name}\" line {line}"),
                }),
            }
        }
    }

    /// Follows `include <pattern>` found at `from` line `line`.
    fn include(&mut self, from: &str, line: usize, pattern: &Path, depth: usize) {
        let shown = pattern.display().to_string();
        if depth > MAX_INCLUDE_DEPTH {
            self.out.warnings.push(format!(
                "preshared secrets file \"{shown}\" nested too deeply"
            ));
            return;
        }
        let found = match glob::glob(pattern) {
            Ok(f) => f,
            Err((p, e)) => {
                self.out.warnings.push(format!(
                    "problem with secrets file \"{}\": {e}",
                    p.display()
                ));
                return;
            }
        };
        if found.is_empty() {
            self.out
                .warnings
                .push(format!("no secrets filename matched \"{shown}\""));
            return;
        }
        if found.len() > MAX_INCLUDE_MATCHES {
            self.warn(
                from,
                line,
                &format!(
                    "include \"{shown}\" matched {} files (at most {MAX_INCLUDE_MATCHES} allowed); ignored",
                    found.len()
                ),
            );
            return;
        }
        for f in found {
            let key = glob::canonical(&f);
            if self.stack.contains(&key) {
                self.warn(
                    from,
                    line,
                    &format!(
                        "include cycle: \"{}\" is already being read; ignored",
                        f.display()
                    ),
                );
                continue;
            }
            if !self.seen.insert(key.clone()) {
                self.warn(
                    from,
                    line,
                    &format!("\"{}\" was already read; not read again", f.display()),
                );
                continue;
            }
            match self.read_bounded(&f) {
                Ok(text) => {
                    self.out.files.push(f.clone());
                    let dir = parent_dir(&f);
                    self.stack.push(key);
                    self.process_file(&f.display().to_string(), dir.as_deref(), &text, depth);
                    self.stack.pop();
                }
                Err(e) => self
                    .out
                    .warnings
                    .push(format!("could not open \"{}\": {e}", f.display())),
            }
        }
    }
}

impl Loaded {
    /// The PSK entries in the engine's form (file order; `%any` → [`SecretIndex::Any`]).
    pub fn psk_secrets(&self) -> Secrets {
        self.psk.clone()
    }

    /// The RSA private key for (our ID, peer ID) by the §4.3 scoring, where a
    /// multi-index entry matching only us is acceptable too ("all my identities").
    /// `him == None` is a road warrior, looked up as `%any`. Ties go to the entry
    /// first in file order.
    pub fn rsa_key(&self, me: &Identity, him: Option<&Identity>) -> Option<&RsaPrivateKey> {
        let mut best: Option<(u32, &RsaPrivateKey)> = None;
        for e in &self.rsa {
            let s = score(&e.indices, me, him);
            if matches!(s, 1 | 4 | 5 | 6) && best.map_or(true, |(b, _)| s > b) {
                best = Some((s, &e.key));
            }
        }
        best.map(|(_, k)| k)
    }
}

/// keys.c get_secret scoring: default 1, him 2, me 4; a lone index matching us also
/// gets default.
fn score(indices: &[SecretIndex], me: &Identity, him: Option<&Identity>) -> u32 {
    if indices.is_empty() {
        return 1;
    }
    let mut s = 0;
    for idx in indices {
        let (is_me, is_him) = match idx {
            SecretIndex::Id(id) => (id == me, Some(id) == him),
            SecretIndex::Any => (false, him.is_none()),
        };
        if is_me {
            s |= 4;
        } else if is_him {
            s |= 2;
        }
    }
    if indices.len() == 1 && s == 4 {
        s |= 1;
    }
    s
}

#[cfg(test)]
mod tests;
