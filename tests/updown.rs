//! `ipsec _updown` end to end: the built binary with a fake `ip` on PATH
//! that logs its arguments, and pluto's command line (built by
//! `rswan::updown::env::build`, run by `rswan::updown::run::run_command`)
//! driving it.

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use rswan::updown::env::{build, UpdownCall, Verb};
use rswan::updown::run::{run_command, Status};

const BIN: &str = env!("CARGO_BIN_EXE_ipsec");

/// A temp dir holding a fake `ip` that appends its arguments to `ip.log`
/// and, when `FAKE_IP_FAIL` occurs in them, prints `FAKE_IP_MSG` on stderr
/// and exits with `FAKE_IP_STATUS` (default 2).
struct FakeIp(PathBuf);

impl FakeIp {
    fn new(tag: &str) -> FakeIp {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("updown-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let ip = dir.join("ip");
        let script = format!(
            "#!/bin/sh\n\
             echo \"$*\" >> '{}'\n\
             if [ -n \"$FAKE_IP_FAIL\" ]; then\n\
             \tcase \"$*\" in *\"$FAKE_IP_FAIL\"*)\n\
             \t\techo \"$FAKE_IP_MSG\" >&2; exit \"${{FAKE_IP_STATUS:-2}}\";;\n\
             \tesac\n\
             fi\n\
             exit 0\n",
            dir.join("ip.log").display()
        );
        std::fs::write(&ip, script).expect("write fake ip");
        std::fs::set_permissions(&ip, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        FakeIp(dir)
    }

    fn path_var(&self) -> String {
        format!("{}:/usr/bin:/bin", self.0.display())
    }

    /// The logged `ip` invocations, one per line.
    fn log(&self) -> Vec<String> {
        std::fs::read_to_string(self.0.join("ip.log"))
            .map(|t| t.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// Runs `ipsec _updown args` with only PATH and `vars` in the environment.
    fn updown(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        Command::new(BIN)
            .arg("_updown")
            .args(args)
            .env_clear()
            .env("PATH", self.path_var())
            .envs(vars.iter().copied())
            .output()
            .expect("run ipsec _updown")
    }
}

impl Drop for FakeIp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The exact commands depend on /etc/sysconfig/pluto_updown being absent.
fn config_present() -> bool {
    let present = Path::new("/etc/sysconfig/pluto_updown").exists();
    if present {
        eprintln!("skipping: /etc/sysconfig/pluto_updown exists and changes the ip commands");
    }
    present
}

const SUBNETS: &[(&str, &str)] = &[
    ("PLUTO_VERSION", "1.1"),
    ("PLUTO_CONNECTION", "west-east"),
    ("PLUTO_NEXT_HOP", "192.0.2.254"),
    ("PLUTO_INTERFACE", "eth0:1"),
    ("PLUTO_ME", "192.0.2.1"),
    ("PLUTO_MY_CLIENT", "10.0.1.0/24"),
    ("PLUTO_PEER", "198.51.100.2"),
    ("PLUTO_PEER_CLIENT", "10.0.2.0/24"),
    ("PLUTO_PEER_CLIENT_NET", "10.0.2.0"),
    ("PLUTO_PEER_CLIENT_MASK", "255.255.255.0"),
];

fn with(
    base: &[(&'static str, &'static str)],
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<_> = base
        .iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        .copied()
        .collect();
    v.extend_from_slice(extra);
    v
}

#[test]
fn route_client() {
    if config_present() {
        return;
    }
    let ip = FakeIp::new("route");
    let o = ip.updown(&[], &with(SUBNETS, &[("PLUTO_VERB", "route-client")]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    assert_eq!(
        ip.log(),
        vec![
            "route add 10.0.2.0/24 via 192.0.2.254 dev eth0",
            "route flush cache"
        ]
    );
}

#[test]
fn unroute_client() {
    if config_present() {
        return;
    }
    let ip = FakeIp::new("unroute");
    let o = ip.updown(&[], &with(SUBNETS, &[("PLUTO_VERB", "unroute-client")]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        ip.log(),
        vec![
            "route delete 10.0.2.0/24 via 192.0.2.254 dev eth0",
            "route flush cache"
        ]
    );
}

#[test]
fn prepare_host_default_route_ignores_missing_routes() {
    if config_present() {
        return;
    }
    let ip = FakeIp::new("prepare");
    let vars = with(
        SUBNETS,
        &[
            ("PLUTO_VERB", "prepare-host"),
            ("PLUTO_MY_CLIENT", "192.0.2.1/32"),
            ("PLUTO_PEER_CLIENT", "0.0.0.0/0"),
            ("PLUTO_PEER_CLIENT_NET", "0.0.0.0"),
            ("PLUTO_PEER_CLIENT_MASK", "0.0.0.0"),
            ("FAKE_IP_FAIL", "delete"),
            ("FAKE_IP_MSG", "RTNETLINK answers: No such process"),
        ],
    );
    let o = ip.updown(&[], &vars);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    assert_eq!(
        ip.log(),
        vec!["route delete 0.0.0.0/1", "route delete 128.0.0.0/1"]
    );
}

#[test]
fn prepare_host() {
    if config_present() {
        return;
    }
    let ip = FakeIp::new("prepare-host");
    let vars = with(
        SUBNETS,
        &[
            ("PLUTO_VERB", "prepare-host"),
            ("PLUTO_MY_CLIENT", "192.0.2.1/32"),
        ],
    );
    let o = ip.updown(&[], &vars);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(ip.log(), vec!["route delete 10.0.2.0/24"]);
}

#[test]
fn failing_route_add_gives_its_status_and_names_the_command() {
    if config_present() {
        return;
    }
    let ip = FakeIp::new("fail");
    let vars = with(
        SUBNETS,
        &[
            ("PLUTO_VERB", "route-client"),
            ("FAKE_IP_FAIL", "add"),
            ("FAKE_IP_MSG", "RTNETLINK answers: File exists"),
            ("FAKE_IP_STATUS", "7"),
        ],
    );
    let o = ip.updown(&[], &vars);
    assert_eq!(o.status.code(), Some(7));
    assert_eq!(
        stderr(&o),
        "ipsec _updown: doroute `ip route add 10.0.2.0/24 via 192.0.2.254 dev eth0' \
         failed (RTNETLINK answers: File exists)\n"
    );
    // The cache is flushed anyway.
    assert_eq!(
        ip.log(),
        vec![
            "route add 10.0.2.0/24 via 192.0.2.254 dev eth0",
            "route flush cache"
        ]
    );
}

#[test]
fn interface_version_2_is_refused() {
    let ip = FakeIp::new("version");
    let o = ip.updown(
        &[],
        &with(
            SUBNETS,
            &[("PLUTO_VERB", "route-client"), ("PLUTO_VERSION", "2.0")],
        ),
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "ipsec _updown: unknown interface version `2.0'\n"
    );
    assert!(ip.log().is_empty());
    let o = ip.updown(
        &[],
        &with(SUBNETS, &[("PLUTO_VERB", "route-client")])
            .into_iter()
            .filter(|(k, _)| *k != "PLUTO_VERSION")
            .collect::<Vec<_>>(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(ip.log().is_empty());
}

#[test]
fn up_down_are_no_ops_and_arguments_are_checked() {
    let ip = FakeIp::new("updown");
    for verb in ["up-client", "down-client", "up-host", "down-host"] {
        for args in [&[][..], &["ipfwadm"][..], &["iptables"][..]] {
            let o = ip.updown(args, &with(SUBNETS, &[("PLUTO_VERB", verb)]));
            assert_eq!(o.status.code(), Some(0), "{verb} {args:?}: {}", stderr(&o));
        }
    }
    assert!(ip.log().is_empty());
    let o = ip.updown(
        &["custom:foo"],
        &with(SUBNETS, &[("PLUTO_VERB", "up-client")]),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("custom:foo"), "{}", stderr(&o));
    let o = ip.updown(&[], &with(SUBNETS, &[("PLUTO_VERB", "sideways-client")]));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "ipsec _updown: unknown verb `sideways-client'\n"
    );
}

#[test]
fn help_is_on_stdout() {
    let o = Command::new(BIN)
        .args(["_updown", "--help"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Usage: ipsec _updown"), "{out}");
}

/// Pluto's side: build the command, run it through /bin/sh, and let it
/// reach `ipsec _updown` and the fake `ip`.
#[test]
fn pluto_command_line_drives_the_subcommand() {
    if config_present() {
        return;
    }
    let ip = FakeIp::new("e2e");
    let addr = |s: &str| s.parse::<IpAddr>().unwrap();
    let call = UpdownCall {
        verb: Verb::Route,
        conn: "west-east".into(),
        next_hop: Some(addr("192.0.2.254")),
        interface: "eth0".into(),
        me: addr("192.0.2.1"),
        my_id: "@west's".into(),
        my_client: Some((addr("10.0.1.0"), 24)),
        my_port: 0,
        my_protocol: 0,
        peer: addr("198.51.100.2"),
        peer_id: "@east".into(),
        peer_client: Some((addr("10.0.2.0"), 24)),
        peer_port: 0,
        peer_protocol: 0,
        peer_ca: String::new(),
        policy: "PSK+ENCRYPT+TUNNEL+PFS+UP".into(),
        my_sourceip: Some(addr("10.0.1.1")),
        // --updown strings may carry shell syntax: PATH for the fake ip.
        script: Some(format!("PATH='{}' {BIN} _updown", ip.path_var())),
    };
    let cmd = build(&call).unwrap();
    assert_eq!(cmd.verb.to_string(), "route-client");
    let o = run_command(&cmd.command, Duration::from_secs(20)).unwrap();
    assert_eq!(o.status, Status::Exited(0), "{:?}", o.lines);
    assert!(o.lines.is_empty(), "{:?}", o.lines);
    assert_eq!(
        ip.log(),
        vec![
            "route add 10.0.2.0/24 via 192.0.2.254 dev eth0 src 10.0.1.1",
            "route flush cache"
        ]
    );

    // A failing route: the output and status reach pluto.
    let call = UpdownCall {
        script: Some(format!(
            "FAKE_IP_FAIL=add FAKE_IP_MSG='RTNETLINK answers: Network is unreachable' \
             PATH='{}' {BIN} _updown",
            ip.path_var()
        )),
        ..call
    };
    let cmd = build(&call).unwrap();
    let o = run_command(&cmd.command, Duration::from_secs(20)).unwrap();
    assert_eq!(o.status, Status::Exited(2));
    assert_eq!(
        o.log_lines("route-client"),
        vec![
            "route-client output: ipsec _updown: doroute `ip route add 10.0.2.0/24 via \
             192.0.2.254 dev eth0 src 10.0.1.1' failed (RTNETLINK answers: Network is \
             unreachable)"
        ]
    );
    assert_eq!(
        o.failure("route-client").as_deref(),
        Some("route-client command exited with status 2")
    );
}
