//! A small glob(3) for the `include` lines of ipsec.secrets and ipsec.conf:
//! `*`, `?`, `[...]` (with `!`/`^` negation and ranges) and `\` escapes, in
//! any path component. Like glob(3) without flags, a wildcard does not match
//! a leading `.` of a name, results are sorted, and a pattern without
//! wildcards matches only if the file exists.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The paths matching `pattern`, sorted bytewise; empty if none. An unreadable
/// directory on the way aborts the expansion (glob's GLOB_ERR) with that directory.
pub fn glob(pattern: &Path) -> Result<Vec<PathBuf>, (PathBuf, io::Error)> {
    let bytes = pattern.as_os_str().as_bytes();
    let mut candidates: Vec<PathBuf> = vec![if bytes.first() == Some(&b'/') {
        PathBuf::from("/")
    } else {
        PathBuf::new()
    }];
    for comp in bytes.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
        let mut next = Vec::new();
        if has_magic(comp) {
            for dir in &candidates {
                let read_from = if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir.as_path()
                };
                let rd = match std::fs::read_dir(read_from) {
                    Ok(rd) => rd,
                    Err(e) if is_absent(&e) => continue,
                    Err(e) => return Err((read_from.to_path_buf(), e)),
                };
                let mut names: Vec<Vec<u8>> = Vec::new();
                for ent in rd {
                    let ent = ent.map_err(|e| (read_from.to_path_buf(), e))?;
                    let name = ent.file_name();
                    if fnmatch(comp, name.as_bytes()) {
                        names.push(name.as_bytes().to_vec());
                    }
                }
                crate::sort::sort(&mut names);
                next.extend(names.iter().map(|n| dir.join(OsStr::from_bytes(n))));
            }
        } else {
            let lit = unescape(comp);
            next.extend(candidates.iter().map(|d| d.join(OsStr::from_bytes(&lit))));
        }
        candidates = next;
    }
    let mut out: Vec<PathBuf> = candidates
        .into_iter()
        .filter(|p| !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_ok())
        .collect();
    crate::sort::sort_by(&mut out, &mut |a, b| {
        a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes())
    });
    Ok(out)
}

/// How an included file is recognised when it is reached again: its
/// canonical path when it has one (so `a/../x` and `x`, or a symlink, are
/// the same file).
pub fn canonical(f: &Path) -> PathBuf {
    std::fs::canonicalize(f).unwrap_or_else(|_| f.to_path_buf())
}

fn is_absent(e: &io::Error) -> bool {
    // NotFound, or ENOTDIR: a file where the pattern wants a directory.
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR)
}

/// True when the component contains an unescaped `*`, `?` or `[`.
pub fn has_magic(comp: &[u8]) -> bool {
    let mut i = comp.iter();
    while let Some(&c) = i.next() {
        match c {
            b'\\' => {
                i.next();
            }
            b'*' | b'?' | b'[' => return true,
            _ => {}
        }
    }
    false
}

fn unescape(comp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(comp.len());
    let mut i = comp.iter();
    while let Some(&c) = i.next() {
        if c == b'\\' {
            if let Some(&n) = i.next() {
                out.push(n);
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Matches one name against one pattern component (fnmatch with FNM_PERIOD).
pub fn fnmatch(pat: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pat.first() != Some(&b'.') {
        return false;
    }
    match_from(pat, name)
}

fn match_from(pat: &[u8], name: &[u8]) -> bool {
    // Iterative matcher with single-star backtracking.
    let (mut p, mut n) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(&pc) = pat.get(p) {
            match pc {
                b'*' => {
                    star = Some((p + 1, n));
                    p += 1;
                    continue;
                }
                b'?' if n < name.len() => {
                    p += 1;
                    n += 1;
                    continue;
                }
                b'[' => {
                    if let Some(&c) = name.get(n) {
                        match bracket(pat, p + 1, c) {
                            Some((true, after)) => {
                                p = after;
                                n += 1;
                                continue;
                            }
                            Some((false, _)) => {}
                            // No closing `]`: the `[` is an ordinary character.
                            None if c == b'[' => {
                                p += 1;
                                n += 1;
                                continue;
                            }
                            None => {}
                        }
                    }
                }
                b'\\' => {
                    let lit = pat.get(p + 1).copied().unwrap_or(b'\\');
                    if name.get(n) == Some(&lit) {
                        p += if pat.get(p + 1).is_some() { 2 } else { 1 };
                        n += 1;
                        continue;
                    }
                }
                c if name.get(n) == Some(&c) && c != b'?' => {
                    p += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
        } else if n == name.len() {
            return true;
        }
        // Mismatch: let the last `*` swallow one more character.
        match star {
            Some((sp, sn)) if sn < name.len() => {
                star = Some((sp, sn + 1));
                p = sp;
                n = sn + 1;
            }
            _ => return false,
        }
    }
}

/// Evaluates a bracket expression starting after `[` at `start` against `c`.
/// Returns (matched, index after `]`), or None when there is no closing `]`.
fn bracket(pat: &[u8], start: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = start;
    let negate = matches!(pat.get(i), Some(b'!') | Some(b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let mut lo = *pat.get(i)?;
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if lo == b'\\' {
            i += 1;
            lo = *pat.get(i)?;
        }
        i += 1;
        let mut hi = lo;
        if pat.get(i) == Some(&b'-') && pat.get(i + 1).is_some_and(|&x| x != b']') {
            hi = *pat.get(i + 1)?;
            if hi == b'\\' {
                i += 1;
                hi = *pat.get(i + 1)?;
            }
            i += 2;
        }
        if lo <= c && c <= hi {
            matched = true;
        }
    }
}
