//! Runs the built `ipsec whack`: usage, diagnostics, a missing pluto, and
//! conversations with a fake pluto listening on a temporary control socket.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use rswan::ctl::{self, WhackMessage};

const BIN: &str = env!("CARGO_BIN_EXE_ipsec");

fn whack(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("whack")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running ipsec whack")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// A fresh, empty directory under Cargo's per-target temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("wh-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn base(&self) -> String {
        self.0.join("x").to_str().expect("UTF-8 path").to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn help_goes_to_stderr_with_status_0() {
    let o = whack(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    assert!(err.contains("Usage"), "{err}");
    for form in [
        "connection: whack",
        "--initiate",
        "--status",
        "/var/run/pluto.ctl",
        "Not implemented by rswan yet, and refused",
    ] {
        assert!(err.contains(form), "--help lacks {form}");
    }
    let o = whack(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn validation_error_exits_1_with_the_message() {
    let o = whack(&[
        "--label",
        "conf:",
        "--name",
        "x",
        "--host",
        "10.0.0.1",
        "--to",
        "--host",
        "10.0.0.2",
        "--encrypt",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert_eq!(
        text(&o.stderr),
        "whack error: conf: \"x\" non-shunt connection must have --psk or --rsasig or both\n"
    );
    let o = whack(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "whack error: no action specified; try --help for hints\n"
    );
    let o = whack(&["--stat=yes"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "whack: option '--status' doesn't allow an argument\n"
    );
}

#[test]
fn pluto_not_running() {
    let dir = TempDir::new("absent");
    let base = dir.base();
    let o = whack(&["--ctlbase", &base, "--status"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert_eq!(
        text(&o.stderr),
        format!("whack: Pluto is not running (no \"{base}.ctl\")\n")
    );
}

/// Accepts one connection on `listener`, failing if `child` exits first or
/// nothing arrives within a few seconds.
fn accept(listener: &UnixListener, child: &mut Child) -> UnixStream {
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).expect("blocking stream");
                s.set_read_timeout(Some(Duration::from_secs(10)))
                    .expect("read timeout");
                return s;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(status) = child.try_wait().expect("try_wait") {
                    panic!("whack exited with {status} before connecting");
                }
                assert!(Instant::now() < deadline, "whack never connected");
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Reads exactly one frame and decodes it.
fn read_message(s: &mut UnixStream) -> WhackMessage {
    let mut frame = vec![0u8; ctl::HEADER_LEN];
    s.read_exact(&mut frame).expect("frame header");
    let total = ctl::frame_len(&frame)
        .expect("valid header")
        .expect("complete header");
    frame.resize(total, 0);
    s.read_exact(&mut frame[ctl::HEADER_LEN..])
        .expect("frame body");
    ctl::decode(&frame).expect("decodable frame")
}

/// Runs whack with `args` against a fake pluto that checks the message with
/// `check` and answers `reply`; returns whack's output.
fn converse(tag: &str, args: &[&str], reply: &str, check: impl Fn(&WhackMessage)) -> Output {
    let dir = TempDir::new(tag);
    let base = dir.base();
    let listener = UnixListener::bind(format!("{base}.ctl")).expect("bind control socket");
    let mut child = Command::new(BIN)
        .arg("whack")
        .arg("--ctlbase")
        .arg(&base)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn whack");
    let mut s = accept(&listener, &mut child);
    let msg = read_message(&mut s);
    check(&msg);
    // From another thread: a reply larger than the pipes would otherwise
    // block on whack's stdout, which is read only below.
    let reply = reply.to_string();
    let writer = std::thread::spawn(move || {
        s.write_all(reply.as_bytes()).expect("reply");
    });
    let out = child.wait_with_output().expect("whack output");
    writer.join().expect("reply writer");
    out
}

#[test]
fn status_round_trip_with_fake_pluto() {
    let reply = "000 status line\n004 \"x\" #1: done\n";
    let o = converse("status", &["--status"], reply, |m| {
        assert_eq!(
            m,
            &WhackMessage {
                status: true,
                ..WhackMessage::default()
            }
        );
    });
    assert_eq!(text(&o.stdout), reply);
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn give_up_after_retransmissions_exits_31() {
    let reply = "104 \"x\" #1: STATE_MAIN_I1: initiate\n\
                 010 \"x\" #1: STATE_MAIN_I1: retransmission; will wait 20s for response\n\
                 031 \"x\" #1: max number of retransmissions (2) reached STATE_MAIN_I1.  No response (or no acceptable response) to our first IKE message\n\
                 000 \"x\" #1: starting keying attempt 2 of at most 3, but releasing whack\n";
    let o = converse("retrans", &["--initiate", "--name", "x"], reply, |m| {
        assert!(m.initiate);
        assert_eq!(m.name.as_deref(), Some("x"));
        assert!(m.connection.is_none());
    });
    assert_eq!(text(&o.stdout), reply);
    assert_eq!(o.status.code(), Some(31));
}

#[test]
fn connection_reaches_pluto_and_partial_line_is_reported() {
    let args = [
        "--name",
        "secret",
        "--host",
        "10.0.0.1",
        "--client",
        "10.0.1.0/24",
        "--to",
        "--host",
        "10.0.0.2",
        "--client",
        "10.0.2.0/24",
        "--encrypt",
        "--tunnel",
        "--pfs",
        "--psk",
    ];
    let reply = "002 added connection description \"secret\"\n003 oops\n020 no newline";
    let o = converse("conn", &args, reply, |m| {
        let c = m.connection.as_ref().expect("connection");
        assert_eq!(m.name.as_deref(), Some("secret"));
        assert_eq!(c.left.host, "10.0.0.1".parse::<std::net::IpAddr>().unwrap());
        assert_eq!(c.right.nexthop, c.left.host);
        assert_eq!(
            c.policy,
            ctl::POLICY_PSK | ctl::POLICY_ENCRYPT | ctl::POLICY_TUNNEL | ctl::POLICY_PFS
        );
    });
    // Every line is copied; the unterminated one is reported and does not count.
    assert_eq!(
        text(&o.stdout),
        "002 added connection description \"secret\"\n003 oops\n020 no newline\n"
    );
    assert_eq!(
        text(&o.stderr),
        "whack: last line from pluto unterminated\n"
    );
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn unterminated_last_line_after_success_exits_1() {
    let reply = "004 fine\n000 cut her";
    let o = converse("cut", &["--status"], reply, |m| assert!(m.status));
    assert_eq!(text(&o.stdout), "004 fine\n000 cut her\n");
    assert_eq!(
        text(&o.stderr),
        "whack: last line from pluto unterminated\n"
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn long_status_lines_are_printed_completely() {
    // Lines far beyond whack's 4096-byte buffer, some ending exactly on a
    // buffer boundary, and a long failure line whose code must still count.
    let mut reply = String::new();
    for i in 0..40 {
        let len = 4096 * (i % 4 + 1) - 5 + i;
        reply.push_str(&format!("000 {}\n", "n".repeat(len)));
    }
    reply.push_str(&format!("031 {}\n", "f".repeat(9000)));
    reply.push_str("000 after\n");
    let o = converse("long", &["--status"], &reply, |m| assert!(m.status));
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
    assert_eq!(o.stdout.len(), reply.len());
    assert!(text(&o.stdout) == reply, "status output differs");
    assert_eq!(o.status.code(), Some(31));
    // A long line then success: 004 resets the status as usual.
    let reply = format!("025 {}\n004 ok\n", "r".repeat(10_000));
    let o = converse("long2", &["--status"], &reply, |m| assert!(m.status));
    assert!(text(&o.stdout) == reply, "status output differs");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn overlong_connection_name_is_refused_before_pluto_is_reached() {
    let name = "n".repeat(4000);
    let o = whack(&[
        "--ctlbase",
        "/nonexistent-rswan/x",
        "--initiate",
        "--name",
        &name,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert_eq!(
        text(&o.stderr),
        format!(
            "whack error: connection name is 4000 bytes long; at most {} allowed\n",
            ctl::MAX_CONN_NAME
        )
    );
    // At the limit the name is accepted (and pluto, absent here, is looked for).
    let name = "n".repeat(ctl::MAX_CONN_NAME);
    let o = whack(&[
        "--ctlbase",
        "/nonexistent-rswan/x",
        "--initiate",
        "--name",
        &name,
    ]);
    assert_eq!(
        text(&o.stderr),
        "whack: Pluto is not running (no \"/nonexistent-rswan/x.ctl\")\n"
    );
}

#[test]
fn not_implemented_option_is_refused_before_pluto_is_reached() {
    let dir = TempDir::new("refuse");
    let base = dir.base();
    let listener = UnixListener::bind(format!("{base}.ctl")).expect("bind control socket");
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--name",
                "c",
                "--host",
                "192.0.2.1",
                "--to",
                "--host",
                "192.0.2.2",
                "--psk",
                "--ike",
                "3des",
                "--aggrmode",
            ],
            "--aggrmode",
        ),
        (
            &[
                "--name",
                "c",
                "--host",
                "192.0.2.1",
                "--cert",
                "c.pem",
                "--to",
                "--host",
                "192.0.2.2",
                "--rsasig",
            ],
            "--cert",
        ),
        (&["--status", "--listcerts"], "--listcerts"),
        (
            &["--initiate", "--name", "c", "--xauthpass", "pw"],
            "--xauthpass",
        ),
    ];
    for (args, what) in cases {
        let o = Command::new(BIN)
            .arg("whack")
            .arg("--ctlbase")
            .arg(&base)
            .args(*args)
            .stdin(Stdio::null())
            .output()
            .expect("running ipsec whack");
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        assert_eq!(
            text(&o.stderr),
            format!("whack: {what} is not implemented by rswan yet\n")
        );
        // Nothing reached the control socket.
        match listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("{args:?}: whack connected to pluto: {other:?}"),
        }
    }
}
