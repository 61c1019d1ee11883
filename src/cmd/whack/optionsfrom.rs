//! `--optionsfrom FILE` (libopenswan `optionsfrom(3)`): more arguments from
//! a file, inserted where the option stood.
//!
//! File format: blank lines (spaces and tabs only) and lines starting with
//! `#` are ignored; a line not starting with `-` is one argument (a pair of
//! surrounding double quotes is stripped, nothing else is interpreted); a
//! line starting with `-` is split on spaces and tabs into several
//! arguments. Nested `--optionsfrom` works; the 100th use is taken for a
//! loop. Lines are limited to 1021 characters, as with the original's
//! 1024-byte line buffer. Failures exit with status 2.

use super::parser::{optionsfrom_limit_reached, WhackError, PROGNAME};

/// Longest line the original's `fgets` buffer takes.
const MAX_LINE: usize = 1021;

/// The arguments `path` holds; counts one use of optionsfrom.
pub(super) fn expand(path: &str, uses: &mut u32) -> Result<Vec<String>, WhackError> {
    *uses += 1;
    if optionsfrom_limit_reached(*uses) {
        return Err(WhackError::OptionsFrom(format!(
            "{PROGNAME}: optionsfrom called {uses} times, looping?"
        )));
    }
    let fail =
        |why: &str| WhackError::OptionsFrom(format!("{PROGNAME}: optionsfrom failed: {why}"));
    let data = std::fs::read(path).map_err(|_| fail("unable to open file"))?;
    let text = String::from_utf8_lossy(&data);
    let mut out = Vec::new();
    let mut lines: Vec<&str> = text.split('\n').collect();
    if text.ends_with('\n') || text.is_empty() {
        lines.pop();
    }
    for line in lines {
        if line.len() > MAX_LINE {
            return Err(fail("error in line read"));
        }
        if line.starts_with('#') || line.chars().all(|c| c == ' ' || c == '\t') {
            continue;
        }
        if !line.starts_with('-') {
            let arg = match line.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
                Some(inner) if line.len() >= 2 => inner,
                _ => line,
            };
            out.push(arg.to_string());
        } else {
            out.extend(
                line.split([' ', '\t'])
                    .filter(|w| !w.is_empty())
                    .map(str::to_string),
            );
        }
    }
    Ok(out)
}
