//! Following `include` (with globs, relative to the including file) and
//! `also=` (chains, several per section), and putting `conn %default`
//! under every conn. Loops in either are diagnosed, not followed.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::lexer::{lex, Entry, Item, Kind, Section};
use super::{Diagnostic, Severity};
use crate::secrets::glob::{canonical, glob, has_magic};

/// How deep includes may nest (Openswan stopped at 10).
const MAX_INCLUDE_DEPTH: usize = 10;
/// How long an `also=` chain may be (a bound on the recursion, far past
/// any real file).
const MAX_ALSO_DEPTH: usize = 64;

/// Every section of a configuration, includes followed, in file order.
#[derive(Debug, Default)]
pub struct Gathered {
    /// The `config setup` sections (normally one).
    pub setup: Vec<Section>,
    /// The `conn` sections, `%default` included.
    pub conns: Vec<Section>,
}

/// Reads `path` and what it includes. `Err` only if `path` itself cannot
/// be read.
pub fn gather(path: &Path, diags: &mut Vec<Diagnostic>) -> Result<Gathered, Diagnostic> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Diagnostic::new(path, 0, Severity::Error, format!("cannot read: {e}")))?;
    let mut g = Gathered::default();
    let mut stack = vec![canonical(path)];
    walk(path, &text, &mut stack, &mut g, diags);
    Ok(g)
}

fn walk(
    path: &Path,
    text: &str,
    stack: &mut Vec<PathBuf>,
    g: &mut Gathered,
    diags: &mut Vec<Diagnostic>,
) {
    let file: Rc<Path> = Rc::from(path);
    for entry in lex(text, &file, diags) {
        match entry {
            Entry::Section(s) if s.kind == Kind::Setup => g.setup.push(s),
            Entry::Section(s) => g.conns.push(s),
            Entry::Include { pattern, line } => {
                let err = |m: String| Diagnostic::new(path, line, Severity::Error, m);
                let full = match path.parent() {
                    Some(dir) if !Path::new(&pattern).is_absolute() => dir.join(&pattern),
                    _ => PathBuf::from(&pattern),
                };
                let mut files = match glob(&full) {
                    Ok(files) => files,
                    Err((dir, e)) => {
                        diags.push(err(format!(
                            "include \"{pattern}\": cannot read {}: {e}",
                            dir.display()
                        )));
                        continue;
                    }
                };
                files.retain(|f| f.is_file());
                if files.is_empty() && !has_magic(pattern.as_bytes()) {
                    diags.push(err(format!("include \"{pattern}\": no such file")));
                }
                for f in files {
                    let c = canonical(&f);
                    if stack.contains(&c) {
                        diags.push(err(format!(
                            "include loop: \"{}\" includes itself (through {})",
                            f.display(),
                            pattern
                        )));
                        continue;
                    }
                    if stack.len() > MAX_INCLUDE_DEPTH {
                        diags.push(err(format!(
                            "includes nested more than {MAX_INCLUDE_DEPTH} deep"
                        )));
                        continue;
                    }
                    match std::fs::read_to_string(&f) {
                        Ok(t) => {
                            stack.push(c);
                            walk(&f, &t, stack, g, diags);
                            stack.pop();
                        }
                        Err(e) => diags.push(err(format!("include \"{}\": {e}", f.display()))),
                    }
                }
            }
        }
    }
}

/// A conn with everything that applies to it: its own pairs, then those
/// of its `also=` sections (depth first, in order), then `%default`'s; the
/// first value of a key wins.
#[derive(Debug)]
pub struct Resolved<'a> {
    /// The conn's own section.
    pub section: &'a Section,
    /// Its name.
    pub name: &'a str,
    /// The pairs that apply (no key twice; `also` removed).
    pub items: Vec<Item>,
    /// An error was found while resolving (a missing or looping `also=`).
    pub broken: bool,
    /// Some other section names it in `also=` and neither it nor its own
    /// `also=` sections say `auto=`: a fragment, not a conn of its own
    /// (its problems are reported through the conns that use it).
    pub fragment: bool,
}

/// Resolves every conn of `g` except `%default`.
pub fn resolve<'a>(g: &'a Gathered, diags: &mut Vec<Diagnostic>) -> Vec<Resolved<'a>> {
    // Looked up by name once per conn and per also=: a map, so that a file
    // of ten thousand conns costs ten thousand lookups, not their square.
    let mut first: HashMap<&str, &Section> = HashMap::new();
    for s in &g.conns {
        if let Kind::Conn(n) = &s.kind {
            first.entry(n.as_str()).or_insert(s);
        }
    }
    let by_name = |n: &str| first.get(n).copied();
    // A name given twice: the second section is an error.
    let mut seen: HashSet<&str> = HashSet::new();
    let mut dup = vec![false; g.conns.len()];
    for (i, s) in g.conns.iter().enumerate() {
        let Kind::Conn(name) = &s.kind else { continue };
        if name == "%default" {
            continue;
        }
        if !seen.insert(name.as_str()) {
            if let Some(d) = dup.get_mut(i) {
                *d = true;
            }
            let first = by_name(name).map_or(0, |f| f.line);
            diags.push(Diagnostic::new(
                &s.file,
                s.line,
                Severity::Error,
                format!(
                    "conn \"{name}\" defined twice (first at {}:{first})",
                    by_name(name).map_or_else(String::new, |f| f.file.display().to_string())
                ),
            ));
        }
    }
    let also_targets: HashSet<&str> = g
        .conns
        .iter()
        .flat_map(|s| s.items.iter())
        .filter(|i| i.key == "also")
        .flat_map(|i| i.value.split_whitespace())
        .collect();

    // %default: all its sections merged, itself resolved for also=.
    let mut defaults = Vec::new();
    for d in g
        .conns
        .iter()
        .filter(|s| s.kind == Kind::Conn("%default".into()))
    {
        let mut chain = vec!["%default".to_string()];
        let mut broken = false;
        collect(d, &by_name, &mut chain, &mut defaults, &mut broken, diags);
    }

    let mut out = Vec::new();
    for (i, s) in g.conns.iter().enumerate() {
        let Kind::Conn(name) = &s.kind else { continue };
        if name == "%default" || dup.get(i).copied().unwrap_or(true) {
            continue;
        }
        let mut items = Vec::new();
        let mut chain = vec![name.clone()];
        let mut broken = false;
        let mut mine = Vec::new();
        collect(s, &by_name, &mut chain, &mut items, &mut broken, &mut mine);
        let fragment =
            also_targets.contains(&name.as_str()) && !items.iter().any(|i| i.key == "auto");
        if !fragment {
            diags.append(&mut mine);
        }
        for d in &defaults {
            if !items.iter().any(|i: &Item| i.key == d.key) {
                items.push(d.clone());
            }
        }
        out.push(Resolved {
            section: s,
            name,
            items,
            broken,
            fragment,
        });
    }
    out
}

/// Adds the pairs of `s` not yet in `items`, then those of its `also=`s.
fn collect<'a>(
    s: &'a Section,
    by_name: &dyn Fn(&str) -> Option<&'a Section>,
    chain: &mut Vec<String>,
    items: &mut Vec<Item>,
    broken: &mut bool,
    diags: &mut Vec<Diagnostic>,
) {
    for it in s.items.iter().filter(|i| i.key != "also") {
        if !items.iter().any(|i| i.key == it.key) {
            items.push(it.clone());
        }
    }
    for it in s.items.iter().filter(|i| i.key == "also") {
        for target in it.value.split_whitespace() {
            let err = |m: String| Diagnostic::new(&it.file, it.line, Severity::Error, m);
            if chain.iter().any(|c| c == target) {
                diags.push(err(format!(
                    "also={target} loops back ({} -> {target})",
                    chain.join(" -> ")
                )));
                *broken = true;
                continue;
            }
            if chain.len() > MAX_ALSO_DEPTH {
                diags.push(err(format!(
                    "also={target}: also= chain longer than {MAX_ALSO_DEPTH} sections"
                )));
                *broken = true;
                continue;
            }
            let Some(t) = by_name(target).filter(|_| target != "%default") else {
                diags.push(err(format!("also={target}: no conn \"{target}\"")));
                *broken = true;
                continue;
            };
            chain.push(target.to_string());
            collect(t, by_name, chain, items, broken, diags);
            chain.pop();
        }
    }
}
