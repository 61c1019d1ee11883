//! Cutting one file into its top-level entries.
//!
//! Openswan 2.x layout: a line starting in column 0 opens something
//! (`version 2.0`, `config setup`, `conn NAME`, `include PATTERN`); the
//! indented lines after a section header continue that section with
//! `key=value` pairs. `#` starts a comment outside double quotes; a value
//! holding blanks or `#` is written in double quotes.

use std::path::Path;
use std::rc::Rc;

use super::{Diagnostic, Severity};

/// One `key=value` pair, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The key (as written; keys are case-sensitive, as in Openswan).
    pub key: String,
    /// The value without its quotes. Empty: `key=` (back to the default).
    pub value: String,
    /// The file it is in.
    pub file: Rc<Path>,
    /// Its line.
    pub line: u32,
}

/// What a section is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `config setup`.
    Setup,
    /// `conn NAME` (`%default` included).
    Conn(String),
}

/// A section header and its pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// What it is.
    pub kind: Kind,
    /// The file it is in.
    pub file: Rc<Path>,
    /// The line of its header.
    pub line: u32,
    /// Its pairs, in order (no key twice, `also` excepted).
    pub items: Vec<Item>,
}

/// One top-level entry of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A section.
    Section(Section),
    /// `include PATTERN`.
    Include {
        /// The pattern as written.
        pattern: String,
        /// Its line.
        line: u32,
    },
}

/// The keys that may be given more than once in a section.
const REPEATABLE: &[&str] = &["also"];

/// Cuts `text` (the contents of `file`) into entries; every problem is
/// pushed to `diags` and the line is skipped.
pub fn lex(text: &str, file: &Rc<Path>, diags: &mut Vec<Diagnostic>) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut current: Option<Section> = None;
    let mut in_bad_section = false;
    for (n, raw) in text.lines().enumerate() {
        let line = u32::try_from(n).unwrap_or(u32::MAX - 1).saturating_add(1);
        let mut err = |m: String| diags.push(Diagnostic::new(file, line, Severity::Error, m));
        let (tokens, unterminated) = tokens(raw);
        if unterminated {
            err("unterminated quoted string or {list}".into());
            continue;
        }
        let Some(first) = tokens.first() else {
            continue; // blank or comment only
        };
        let indented = raw.starts_with([' ', '\t']);
        if indented {
            if in_bad_section {
                continue;
            }
            let Some(sec) = current.as_mut() else {
                err(format!("\"{first}\" outside of a section (indented lines continue a \"conn\" or \"config\" section)"));
                continue;
            };
            for tok in &tokens {
                let Some((key, value)) = tok.split_once('=') else {
                    err(format!("expected key=value, found \"{tok}\""));
                    continue;
                };
                if !valid_key(key) {
                    err(format!("invalid key \"{key}\""));
                    continue;
                }
                if !REPEATABLE.contains(&key) {
                    if let Some(prev) = sec.items.iter().find(|i| i.key == key) {
                        err(format!(
                            "duplicate key \"{key}\" (first given on line {})",
                            prev.line
                        ));
                        continue;
                    }
                }
                sec.items.push(Item {
                    key: key.to_string(),
                    value: value.to_string(),
                    file: file.clone(),
                    line,
                });
            }
            continue;
        }
        // A header: closes the open section.
        out.extend(current.take().map(Entry::Section));
        in_bad_section = false;
        let args = tokens.get(1..).unwrap_or_default();
        let new = |kind| Section {
            kind,
            file: file.clone(),
            line,
            items: Vec::new(),
        };
        match (first.as_str(), args) {
            ("version", [v]) => {
                if v != "2" && v != "2.0" {
                    err(format!("version \"{v}\" is not supported (only 2.0)"));
                }
            }
            ("config", [s]) if s == "setup" => current = Some(new(Kind::Setup)),
            ("config", _) => {
                err("only \"config setup\" is known".into());
                in_bad_section = true;
            }
            ("conn", [name]) if valid_name(name) => current = Some(new(Kind::Conn(name.clone()))),
            ("conn", _) => {
                err(format!(
                    "\"conn\" needs one name of letters, digits and -_.%/, found \"{}\"",
                    args.join(" ")
                ));
                in_bad_section = true;
            }
            ("include", [p]) => out.push(Entry::Include {
                pattern: p.clone(),
                line,
            }),
            ("include", _) => err("\"include\" needs one file name or pattern".into()),
            _ => {
                err(format!("unexpected \"{first}\" at the start of a line (expected version, config, conn or include)"));
                in_bad_section = true;
            }
        }
    }
    out.extend(current.take().map(Entry::Section));
    out
}

/// The blank-separated tokens of a line up to its comment, quotes removed;
/// and whether a quote was left open.
fn tokens(line: &str) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut tok = String::new();
    let mut started = false;
    let mut quoted = false;
    // `{a b}` (a list, as in leftsubnets=) is one token, braces kept.
    let mut braced = false;
    let chars: Vec<char> = line.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '"' if !braced => {
                quoted = !quoted;
                started = true;
            }
            '{' if !quoted => {
                braced = true;
                tok.push(c);
                started = true;
            }
            '}' if !quoted => {
                braced = false;
                tok.push(c);
            }
            '#' if !quoted => break,
            c if c.is_whitespace() && !quoted && !braced => {
                // Blanks on either side of `=` are allowed (ipsec.conf(5)).
                let next = chars.iter().skip(i).find(|c| !c.is_whitespace());
                let key_only = tok.ends_with('=') && tok.matches('=').count() == 1;
                if started && (key_only || next == Some(&'=')) {
                    continue;
                }
                if started {
                    out.push(std::mem::take(&mut tok));
                    started = false;
                }
            }
            c => {
                tok.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(tok);
    }
    (out, quoted || braced)
}

/// Keys are letters, digits, `_` and `-` (Openswan's lexer).
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Conn names: what pluto accepts in `--name` and status lines.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= crate::ctl::MAX_CONN_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.%/+:@".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_quotes_and_comments() {
        let (t, open) = tokens("  leftupdown=\"ipsec _updown --x\" # c");
        assert!(!open);
        assert_eq!(t, ["leftupdown=ipsec _updown --x"]);
        let (t, _) = tokens("\ta=1 b=\"#x\"#y");
        assert_eq!(t, ["a=1", "b=#x"]);
        assert!(tokens("  a=\"x").1);
        assert_eq!(tokens("  a=").0, ["a="]);
        assert_eq!(tokens("  a = 1  b= \"x y\"").0, ["a=1", "b=x y"]);
        assert!(tokens("   # only a comment").0.is_empty());
        assert_eq!(
            tokens(" s={1.0.0.0/8 2.0.0.0/8} t=1").0,
            ["s={1.0.0.0/8 2.0.0.0/8}", "t=1"]
        );
        assert!(tokens(" s={1.0.0.0/8").1);
    }
}
