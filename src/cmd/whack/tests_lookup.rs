//! Host names in whack's address arguments, looked up through a fake DNS.

use super::parse_args_with;
use std::net::IpAddr;

/// The tests' DNS: one name.
pub(super) fn fake_dns(name: &str, v6: bool) -> Result<IpAddr, String> {
    match (name, v6) {
        ("gw.example.org", false) => Ok("192.0.2.7".parse().unwrap()),
        _ => Err(format!("\"{name}\": no such host")),
    }
}

fn msg_of(line: &str) -> crate::ctl::WhackMessage {
    match parse(line) {
        Ok(super::Parsed::Send(r)) => r.msg,
        other => panic!("{line}: {other:?}"),
    }
}

fn parse(line: &str) -> Result<super::Parsed, super::WhackError> {
    let args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    parse_args_with(&args, fake_dns)
}

#[test]
fn host_names_are_looked_up() {
    let m = msg_of("--name x --host gw.example.org --nexthop gw.example.org --to --host 192.0.2.2 --psk --encrypt");
    let c = m.connection.expect("a connection");
    let gw: IpAddr = "192.0.2.7".parse().unwrap();
    assert_eq!((c.left.host, c.left.nexthop), (gw, gw));
    // An IPv6 connection asks for IPv6 addresses: the tests' DNS has none.
    let e = parse("--name x --ipv6 --host gw.example.org --to --host ::2 --psk").unwrap_err();
    assert!(
        e.to_string()
            .contains("name lookup failed (\"gw.example.org\": no such host)"),
        "{e}"
    );
}
