//! `ipsec spi` and `ipsec eroute` through the built binary: bad input is one
//! line on stderr and exit 1, decided before the kernel is looked at (so
//! these run on any host, PF_KEY or not); `--optionsfrom` splices.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ipsec");

fn ipsec(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {BIN}: {e}"))
}

/// Runs and checks: exit 1, nothing on stdout, exactly one stderr line
/// starting with `prefix` and containing `want`.
fn refused(args: &[&str], prefix: &str, want: &str) {
    let o = ipsec(args);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert!(o.stdout.is_empty(), "{args:?}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(err.starts_with(prefix), "{args:?}: {err}");
    assert!(err.contains(want), "{args:?}: {err:?} lacks {want:?}");
}

const K24: &str = "0x0123456789abcdef0123456789abcdef0123456789abcdef";
const K20: &str = "0x0123456789abcdef0123456789abcdef01234567";

#[test]
fn spi_bad_input() {
    let base = [
        "spi",
        "--esp",
        "3des-sha1-96",
        "--said",
        "esp.1001@192.0.2.2",
        "--src",
        "192.0.2.1",
    ];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v: Vec<&str> = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    refused(
        &with(&["--enckey", "0x0102", "--authkey", K20]),
        "ipsec spi: ",
        "encryption key of 16 bits",
    );
    refused(
        &with(&["--enckey", K24, "--authkey", "0x01"]),
        "ipsec spi: ",
        "authentication key of 8 bits",
    );
    refused(
        &[
            "spi",
            "--esp",
            "twofish",
            "--said",
            "esp.1001@192.0.2.2",
            "--enckey",
            K24,
        ],
        "ipsec spi: ",
        "unknown ESP transform",
    );
    refused(
        &[
            "spi",
            "--ah",
            "hmac-crc",
            "--said",
            "ah.1001@192.0.2.2",
            "--authkey",
            K20,
        ],
        "ipsec spi: ",
        "unknown authentication",
    );
    refused(
        &[
            "spi",
            "--esp",
            "3des",
            "--said",
            "esp.ff@192.0.2.2",
            "--enckey",
            K24,
        ],
        "ipsec spi: ",
        "below 0x100",
    );
    refused(
        &[
            "spi", "--esp", "3des", "--af", "inet", "--spi", "0x1001", "--proto", "esp",
            "--enckey", K24,
        ],
        "ipsec spi: ",
        "missing --edst",
    );
    refused(&["spi", "--del", "--clear"], "ipsec spi: ", "exactly one");
    refused(
        &["spi", "--label", "west", "--del", "--said", "nonsense"],
        "ipsec spi --label west: ",
        "bad --said",
    );
    refused(
        &["spi", "--frobnicate"],
        "ipsec spi: ",
        "unrecognized option",
    );
}

#[test]
fn eroute_bad_input() {
    refused(
        &[
            "eroute",
            "--add",
            "--eraf",
            "inet",
            "--src",
            "10.1.0.0/24",
            "--dst",
            "10.2.0.0/24",
        ],
        "ipsec eroute: ",
        "missing --edst",
    );
    refused(
        &[
            "eroute",
            "--add",
            "--src",
            "10.1.0.0/24",
            "--dst",
            "10.2.0.0/24",
            "--said",
            "esp.10@192.0.2.2",
        ],
        "ipsec eroute: ",
        "below 0x100",
    );
    refused(
        &[
            "eroute",
            "--add",
            "--src",
            "10.1.0.0",
            "--dst",
            "10.2.0.0/24",
            "--said",
            "%pass",
        ],
        "ipsec eroute: ",
        "bad --src",
    );
    refused(
        &["eroute", "--del", "--src", "10.1.0.0/24"],
        "ipsec eroute: ",
        "needs --dst",
    );
    refused(
        &["eroute", "--add", "--replace"],
        "ipsec eroute: ",
        "exactly one",
    );
    refused(
        &["eroute", "--clear", "--src", "10.1.0.0/24"],
        "ipsec eroute: ",
        "no other options",
    );
}

#[test]
fn optionsfrom_is_spliced() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let f = dir.join(format!("spi-opts-{}", std::process::id()));
    std::fs::write(
        &f,
        "# a comment\n--esp 3des --said esp.1001@192.0.2.2\n--enckey 0x01\n",
    )
    .unwrap();
    let path = f.to_string_lossy().to_string();
    refused(
        &["spi", "--optionsfrom", &path],
        "ipsec spi: ",
        "encryption key of 8 bits",
    );
    let _ = std::fs::remove_file(&f);
}

#[test]
fn help_and_version_codes() {
    let o = ipsec(&["spi", "--help"]);
    assert_eq!(o.status.code(), Some(255));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("--sport and --dport set the ports they name"));
    assert!(out.contains("--dst is checked"));
    let o = ipsec(&["eroute", "--help"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("--replace sends REPLACEFLOW"));
    for cmd in ["spi", "eroute"] {
        let o = ipsec(&[cmd, "--version"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&o.stdout).contains(env!("CARGO_PKG_VERSION")));
    }
}
