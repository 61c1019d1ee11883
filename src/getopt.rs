//! Long options the way getopt_long reads them: `--name`, `--name=value`,
//! `--name value`, any unique prefix of a name, no short options; and
//! `--optionsfrom FILE` splicing.

use std::path::Path;

/// One long option.
#[derive(Debug, Clone, Copy)]
pub struct Opt {
    pub name: &'static str,
    pub takes_arg: bool,
}

impl Opt {
    pub const fn flag(name: &'static str) -> Opt {
        Opt {
            name,
            takes_arg: false,
        }
    }
    pub const fn arg(name: &'static str) -> Opt {
        Opt {
            name,
            takes_arg: true,
        }
    }
}

/// One recognised option with its argument, or a leftover word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Opt(&'static str, Option<String>),
    Positional(String),
}

/// Finds the option `word` (without `--`) names: an exact name, or the one
/// name it is a prefix of.
pub fn lookup(table: &[Opt], word: &str) -> Result<Opt, String> {
    if let Some(o) = table.iter().find(|o| o.name == word) {
        return Ok(*o);
    }
    let matches: Vec<&Opt> = table.iter().filter(|o| o.name.starts_with(word)).collect();
    match matches.as_slice() {
        [one] => Ok(**one),
        [] => Err(format!("unrecognized option '--{word}'")),
        many => {
            // Aliases spelled differently but meaning one entry are not ambiguous.
            let names: Vec<&str> = many.iter().map(|o| o.name).collect();
            Err(format!(
                "option '--{word}' is ambiguous; possibilities: --{}",
                names.join(" --")
            ))
        }
    }
}

/// Splits `args` into options and positionals. `--optionsfrom FILE` is
/// replaced by the file's arguments on the spot.
pub fn parse(table: &[Opt], args: &[String]) -> Result<Vec<Item>, String> {
    let mut out = Vec::new();
    let mut queue: Vec<String> = args.iter().rev().cloned().collect();
    let mut splices = 0;
    while let Some(a) = queue.pop() {
        let Some(body) = a.strip_prefix("--").filter(|b| !b.is_empty()) else {
            out.push(Item::Positional(a));
            continue;
        };
        let (word, inline) = match body.split_once('=') {
            Some((w, v)) => (w, Some(v.to_string())),
            None => (body, None),
        };
        let opt = lookup(table, word)?;
        let value = match (opt.takes_arg, inline) {
            (true, Some(v)) => Some(v),
            (true, None) => Some(
                queue
                    .pop()
                    .ok_or_else(|| format!("option '--{}' requires an argument", opt.name))?,
            ),
            (false, Some(_)) => {
                return Err(format!("option '--{}' doesn't allow an argument", opt.name))
            }
            (false, None) => None,
        };
        if opt.name == "optionsfrom" {
            splices += 1;
            if splices > 100 {
                return Err("--optionsfrom nested too deeply".into());
            }
            let path = value.unwrap_or_default();
            let more = options_from_file(Path::new(&path))
                .map_err(|why| format!("optionsfrom failed: {why}"))?;
            queue.extend(more.into_iter().rev());
            continue;
        }
        out.push(Item::Opt(opt.name, value));
    }
    Ok(out)
}

/// Longest line the original's `fgets` buffer takes.
const MAX_LINE: usize = 1021;

/// Reads an `--optionsfrom` file (libopenswan `optionsfrom(3)`): blank lines
/// and lines starting with `#` are ignored; a line not starting with `-` is
/// one argument (a pair of surrounding double quotes is stripped, nothing
/// else is interpreted); a line starting with `-` is split on spaces and tabs.
/// Lines are limited to 1021 characters, as with the original's buffer.
pub fn options_from_file(path: &Path) -> Result<Vec<String>, String> {
    let data = std::fs::read(path).map_err(|_| "unable to open file".to_string())?;
    let text = String::from_utf8_lossy(&data);
    let mut out = Vec::new();
    let mut lines: Vec<&str> = text.split('\n').collect();
    if text.ends_with('\n') || text.is_empty() {
        lines.pop();
    }
    for line in lines {
        if line.len() > MAX_LINE {
            return Err("error in line read".into());
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

/// A whole argument as a number, as C's `strtoul(arg, &end, 0)` reads it.
pub use crate::text::numeric_arg as parse_number;

#[cfg(test)]
mod tests {
    use super::*;

    const T: &[Opt] = &[
        Opt::flag("nofork"),
        Opt::flag("noklips"),
        Opt::arg("ctlbase"),
        Opt::arg("optionsfrom"),
        Opt::flag("debug-all"),
    ];

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn prefixes_values_and_positionals() {
        let items = parse(
            T,
            &s(&[
                "--nof",
                "--ctl=/tmp/x",
                "--ctlbase",
                "/tmp/y",
                "extra",
                "--debug-a",
            ]),
        )
        .unwrap();
        assert_eq!(
            items,
            vec![
                Item::Opt("nofork", None),
                Item::Opt("ctlbase", Some("/tmp/x".into())),
                Item::Opt("ctlbase", Some("/tmp/y".into())),
                Item::Positional("extra".into()),
                Item::Opt("debug-all", None),
            ]
        );
    }

    #[test]
    fn ambiguity_unknown_and_missing_argument() {
        assert!(parse(T, &s(&["--no"])).unwrap_err().contains("ambiguous"));
        assert!(parse(T, &s(&["--bogus"]))
            .unwrap_err()
            .contains("unrecognized"));
        assert!(parse(T, &s(&["--ctlbase"]))
            .unwrap_err()
            .contains("requires an argument"));
        assert!(parse(T, &s(&["--nofork=1"]))
            .unwrap_err()
            .contains("doesn't allow"));
    }

    #[test]
    fn options_from_file_is_spliced_in_place() {
        let dir = std::env::temp_dir().join(format!("rswan-getopt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("opts");
        std::fs::write(&f, "# comment\n\n--nofork --ctlbase\n\"/tmp/with space\"\n").unwrap();
        let items = parse(T, &s(&["--optionsfrom", f.to_str().unwrap(), "--noklips"])).unwrap();
        assert_eq!(
            items,
            vec![
                Item::Opt("nofork", None),
                Item::Opt("ctlbase", Some("/tmp/with space".into())),
                Item::Opt("noklips", None)
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
