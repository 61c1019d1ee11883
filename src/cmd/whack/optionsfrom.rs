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

/// The arguments `path` holds; counts one use of optionsfrom.
pub(super) fn expand(path: &str, uses: &mut u32) -> Result<Vec<String>, WhackError> {
    *uses += 1;
    if optionsfrom_limit_reached(*uses) {
        return Err(WhackError::OptionsFrom(format!(
            "{PROGNAME}: optionsfrom called {uses} times, looping?"
        )));
    }
    crate::getopt::options_from_file(std::path::Path::new(path))
        .map_err(|why| WhackError::OptionsFrom(format!("{PROGNAME}: optionsfrom failed: {why}")))
}
