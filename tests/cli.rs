//! Runs the built `ipsec` binary: top-level dispatch, argv[0] dispatch, and the
//! subcommands' shared options.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ipsec");
const SUBCOMMANDS: [&str; 5] = ["pluto", "whack", "tncfg", "eroute", "spi"];

fn run(program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()))
}

fn ipsec(args: &[&str]) -> Output {
    run(Path::new(BIN), args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

/// A fresh, empty directory under Cargo's per-target temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A symlink named `name` pointing at the binary, as `make install` lays them out.
fn link_as(dir: &TempDir, name: &str) -> PathBuf {
    let link = dir.0.join(name);
    std::os::unix::fs::symlink(BIN, &link).expect("symlink to the binary");
    link
}

#[test]
fn help_lists_every_subcommand() {
    for flag in ["--help", "-h", "help"] {
        let o = ipsec(&[flag]);
        assert_eq!(o.status.code(), Some(0), "ipsec {flag}");
        let out = stdout(&o);
        for name in SUBCOMMANDS {
            assert!(
                out.lines().any(|l| l.trim_start().starts_with(name)),
                "ipsec {flag} does not list {name}:\n{out}"
            );
        }
        assert!(o.stderr.is_empty());
    }
}

#[test]
fn no_arguments_prints_usage_to_stderr_and_exits_2() {
    let o = ipsec(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("Usage: ipsec"));
}

#[test]
fn version() {
    let o = ipsec(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), format!("rswan {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn unknown_subcommand_is_one_line_and_exit_2() {
    let o = ipsec(&["frobnicate", "--help"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert_eq!(
        stderr(&o),
        "ipsec: unknown command 'frobnicate' (try 'ipsec --help')\n"
    );
}

#[test]
fn subcommand_help_and_version() {
    for name in SUBCOMMANDS {
        // The manual tools keep Openswan's exit codes (spec §5.1): tncfg and
        // eroute exit 1 after --help and --version, spi 255 and 1.
        let (help_code, version_code) = match name {
            "eroute" | "tncfg" => (1, 1),
            "spi" => (255, 1),
            _ => (0, 0),
        };
        let o = ipsec(&[name, "--help"]);
        assert_eq!(o.status.code(), Some(help_code), "ipsec {name} --help");
        // pluto and whack print their usage on stderr, as the originals do.
        let text = format!("{}{}", stdout(&o), stderr(&o));
        assert!(
            text.contains(name) && text.contains("Usage"),
            "ipsec {name} --help:\n{text}"
        );
        let o = ipsec(&[name, "--version"]);
        assert_eq!(
            o.status.code(),
            Some(version_code),
            "ipsec {name} --version"
        );
        assert!(stdout(&o).contains(env!("CARGO_PKG_VERSION")));
    }
}

#[test]
fn dispatch_by_argv0() {
    let dir = TempDir::new("argv0");
    for name in ["whack", "pluto"] {
        let via_link = run(&link_as(&dir, name), &["--help"]);
        let via_ipsec = ipsec(&[name, "--help"]);
        assert_eq!(via_link.status.code(), Some(0), "{name} --help");
        let text = format!("{}{}", stdout(&via_link), stderr(&via_link));
        assert!(text.contains(name), "{name} --help");
        assert_eq!(via_link.stdout, via_ipsec.stdout, "{name} --help");
        assert_eq!(via_link.stderr, via_ipsec.stderr, "{name} --help");
    }
    // Any other name behaves as `ipsec`.
    let o = run(&link_as(&dir, "ipsec-renamed"), &["pluto", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("ipsec pluto"));
}
