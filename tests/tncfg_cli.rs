//! `ipsec tncfg` run as a program: help, version and every bad command line
//! give the exit codes of §5.1/§5.2 and one line on stderr, before any
//! system call (the kernel paths are tested in the lab: lab/scenarios/tncfg.sh).

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ipsec");

fn tncfg(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("tncfg")
        .args(args)
        .output()
        .expect("run ipsec tncfg")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn help_and_version_go_to_stdout_and_exit_1() {
    let o = tncfg(&["--help"]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    assert!(out
        .contains("ipsec tncfg --attach --virtual <virtual-device> --physical <physical-device>"));
    assert!(
        out.contains("XFRM interface") && out.contains("if_id N+1"),
        "{out}"
    );
    assert!(o.stderr.is_empty());
    // getopt_long_only: one dash is enough
    assert_eq!(tncfg(&["-help"]).stdout, o.stdout);

    let o = tncfg(&["--version"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stdout),
        format!("ipsec tncfg (rswan {})\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_command_lines_exit_1_with_one_line() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--attach", "--virtual", "ipsec0"],
            "ipsec tncfg: physical I/F parameter missing.\n",
        ),
        (
            &["--detach"],
            "ipsec tncfg: virtual I/F parameter missing.\n",
        ),
        (
            &["--label", "gw", "--clear", "--detach"],
            "ipsec tncfg --label gw: exactly one of '--attach', '--detach' or '--clear' options must be specified.\n",
        ),
        (
            &["--attach", "--virtual", "eth0", "--physical", "eth1"],
            "ipsec tncfg: virtual device \"eth0\" is not of the form ipsecN (N a decimal number).\n",
        ),
        (
            &["--attach", "--virtual", "ipsecX", "--physical", "eth1"],
            "ipsec tncfg: virtual device \"ipsecX\" is not of the form ipsecN (N a decimal number).\n",
        ),
        (
            &["--attach", "--virtual", "ipsec0", "--physical", "a/b"],
            "ipsec tncfg: physical device \"a/b\" is not a valid interface name.\n",
        ),
        (&["--frob"], "ipsec tncfg: unrecognized option '--frob'\n"),
        (&["list"], "ipsec tncfg: unexpected argument \"list\".\n"),
    ];
    for (args, want) in cases {
        let o = tncfg(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(text(&o.stderr), *want, "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn optionsfrom_supplies_the_command_line() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let f = dir.join(format!("tncfg-opts-{}", std::process::id()));
    std::fs::write(
        &f,
        // one dash is enough in the file too, as with getopt_long_only
        "# attach without its physical device\n-attach -virtual\nipsec3\n",
    )
    .expect("write options file");
    let o = tncfg(&["--optionsfrom", f.to_str().expect("utf-8 path")]);
    let _ = std::fs::remove_file(&f);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "ipsec tncfg: physical I/F parameter missing.\n"
    );
}
