//! `ipsec setup` and `ipsec auto` on this host, against a real `--noklips`
//! pluto: configured only by an ipsec.conf in `IPSEC_CONFS`, started,
//! driven by conn name, and stopped with nothing left behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ipsec");

fn ipsec(confs: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("IPSEC_CONFS", confs)
        .output()
        .unwrap_or_else(|e| panic!("running ipsec {args:?}: {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

#[test]
fn setup_start_auto_and_stop() {
    let dir: PathBuf =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("setup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let base = dir.join("pluto");
    let port = 20000 + (std::process::id() % 20000) as u16;
    std::fs::write(
        dir.join("ipsec.conf"),
        format!(
            "version 2.0\n\nconfig setup\n\tplutoopts=\"--noklips --ikeport {port} --ctlbase {}\"\n\
             \tplutostderrlog={}\n\nconn %default\n\tauthby=secret\n\n\
             conn near\n\tleft=127.0.0.1\n\tleftsubnet=10.1.0.0/24\n\tright=127.0.0.2\n\
             \trightsubnet=10.2.0.0/24\n\tauto=start\n\n\
             conn far\n\tleft=127.0.0.1\n\tright=%any\n\tauto=add\n\n\
             conn later\n\tleft=127.0.0.1\n\tright=127.0.0.9\n",
            base.display(),
            dir.join("pluto.log").display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("ipsec.secrets"),
        "127.0.0.1 127.0.0.2 : PSK \"x\"\n",
    )
    .unwrap();

    let status = ipsec(&dir, &["setup", "status"]);
    assert_eq!(status.status.code(), Some(3), "{}", text(&status));
    let start = ipsec(&dir, &["setup", "start"]);
    assert_eq!(start.status.code(), Some(0), "{}", text(&start));
    let pid: u32 = std::fs::read_to_string(dir.join("pluto.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(alive(pid));
    let again = ipsec(&dir, &["setup", "start"]);
    assert!(text(&again).contains("already running"), "{}", text(&again));
    let status = ipsec(&dir, &["setup", "--status"]);
    assert_eq!(status.status.code(), Some(0));
    assert!(
        text(&status).contains(&format!("pluto pid {pid}")),
        "{}",
        text(&status)
    );

    // auto=start was initiated, auto=add added, the conn without auto= not
    let st = text(&ipsec(&dir, &["auto", "--status"]));
    assert!(st.contains("\"near\": 10.1.0.0/24===127.0.0.1"), "{st}");
    assert!(st.contains("\"far\": 127.0.0.1...%any"), "{st}");
    assert!(!st.contains("\"later\""), "{st}");
    assert!(st.contains("STATE_MAIN_I1"), "{st}");

    // the status as JSON lines: pluto, each connection, each state
    let json = ipsec(
        &dir,
        &[
            "whack",
            "--ctlbase",
            base.to_str().unwrap(),
            "--status",
            "--json",
        ],
    );
    assert_eq!(json.status.code(), Some(0), "{}", text(&json));
    let lines: Vec<String> = String::from_utf8_lossy(&json.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert!(
        lines.iter().all(|l| l.starts_with('{') && l.ends_with('}')),
        "{lines:?}"
    );
    assert!(lines[0].starts_with("{\"type\":\"pluto\""), "{lines:?}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("\"type\":\"connection\""))
            .count(),
        2
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"type\":\"state\"") && l.contains("\"state\":\"STATE_MAIN_I1\"")),
        "{lines:?}"
    );
    if let Ok(py) = Command::new("python3")
        .args([
            "-c",
            "import json,sys\nfor l in sys.stdin: json.loads(l)\nprint('ok')",
        ])
        .stdin(
            std::fs::File::open({
                let f = dir.join("status.json");
                std::fs::write(&f, &json.stdout).unwrap();
                f
            })
            .unwrap(),
        )
        .output()
    {
        assert_eq!(
            String::from_utf8_lossy(&py.stdout).trim(),
            "ok",
            "{}",
            String::from_utf8_lossy(&py.stderr)
        );
    }
    // no IPsec SA yet: no traffic line, and a successful exit
    let traffic = ipsec(
        &dir,
        &[
            "whack",
            "--ctlbase",
            base.to_str().unwrap(),
            "--trafficstatus",
        ],
    );
    assert_eq!(traffic.status.code(), Some(0), "{}", text(&traffic));
    assert!(traffic.stdout.is_empty(), "{}", text(&traffic));

    let add = ipsec(&dir, &["auto", "--add", "later"]);
    assert_eq!(add.status.code(), Some(0), "{}", text(&add));
    let down = ipsec(&dir, &["auto", "--down", "near"]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down));
    let st = text(&ipsec(&dir, &["auto", "--status"]));
    assert!(
        st.contains("\"later\": ") && !st.contains("STATE_MAIN_I1"),
        "{st}"
    );
    let up = ipsec(&dir, &["auto", "--asynchronous", "--up", "near"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));
    assert!(text(&up).contains("STATE_MAIN_I1"), "{}", text(&up));
    let replace = ipsec(&dir, &["auto", "--replace", "far"]);
    assert_eq!(replace.status.code(), Some(0), "{}", text(&replace));
    let del = ipsec(&dir, &["auto", "--delete", "later"]);
    assert_eq!(del.status.code(), Some(0), "{}", text(&del));
    let none = ipsec(&dir, &["auto", "--add", "nosuch"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(
        text(&none).contains("no loadable conn \"nosuch\""),
        "{}",
        text(&none)
    );
    let unknown = ipsec(&dir, &["auto", "--up", "nosuch"]);
    assert_eq!(unknown.status.code(), Some(21), "{}", text(&unknown));
    let usage = ipsec(&dir, &["auto", "--up"]);
    assert_eq!(usage.status.code(), Some(2));

    let stop = ipsec(&dir, &["setup", "stop"]);
    assert_eq!(stop.status.code(), Some(0), "{}", text(&stop));
    assert!(
        text(&stop).contains("stopped by whack --shutdown"),
        "{}",
        text(&stop)
    );
    assert!(!alive(pid), "pluto {pid} still runs");
    assert!(!dir.join("pluto.ctl").exists() && !dir.join("pluto.pid").exists());
    let status = ipsec(&dir, &["setup", "status"]);
    assert_eq!(status.status.code(), Some(3), "{}", text(&status));
    let stop = ipsec(&dir, &["setup", "stop"]);
    assert!(text(&stop).contains("not running"), "{}", text(&stop));
    let log = std::fs::read_to_string(dir.join("pluto.log")).unwrap();
    assert!(!log.contains("ignoring message from whack"), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}
