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
            let more = options_from(Path::new(&path))?;
            queue.extend(more.into_iter().rev());
            continue;
        }
        out.push(Item::Opt(opt.name, value));
    }
    Ok(out)
}

/// Reads an `--optionsfrom` file: blank lines and `#` lines are skipped; a
/// line starting with `-` is split on white space; any other line is one
/// argument, with surrounding double quotes removed.
pub fn options_from(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read options file \"{}\": {e}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if t.starts_with('-') {
            out.extend(t.split_whitespace().map(str::to_string));
        } else {
            let unq = t
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(t);
            out.push(unq.to_string());
        }
    }
    Ok(out)
}

/// strtoul(arg, &end, 0): decimal, `0x` hex, leading-0 octal; the whole word must be a number.
pub fn parse_number(arg: &str) -> Option<u64> {
    let a = arg.trim_start();
    if let Some(h) = a.strip_prefix("0x").or_else(|| a.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if a.len() > 1 && a.starts_with('0') {
        u64::from_str_radix(a.get(1..)?, 8).ok()
    } else {
        a.parse().ok()
    }
}

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

    #[test]
    fn numbers_like_strtoul_base_0() {
        assert_eq!(parse_number("10"), Some(10));
        assert_eq!(parse_number("0x10"), Some(16));
        assert_eq!(parse_number("010"), Some(8));
        assert_eq!(parse_number("0"), Some(0));
        assert_eq!(parse_number("10x"), None);
        assert_eq!(parse_number("09"), None);
    }
}
