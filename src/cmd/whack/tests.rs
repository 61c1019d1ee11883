//! Unit tests of whack's command line (no socket involved).

use std::net::IpAddr;
use std::path::PathBuf;

use super::options::{lookup, Lookup, OPTIONS};
use super::*;
use crate::ctl::{self, AddrFamily, Connection, End, Subnet, WhackMessage};
use crate::text::{numeric_arg, strtoul};

fn args(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_string).collect()
}

fn parse(line: &str) -> Result<Parsed, WhackError> {
    parse_args_with(&args(line), super::tests_lookup::fake_dns)
}

fn request(line: &str) -> Request {
    match parse(line) {
        Ok(Parsed::Send(r)) => *r,
        other => panic!("{line}: {other:?}"),
    }
}

fn msg(line: &str) -> WhackMessage {
    request(line).msg
}

fn conn(line: &str) -> Connection {
    msg(line).connection.expect("a connection")
}

/// The full diagnostic line whack would print for `line`.
fn error(line: &str) -> String {
    match parse(line) {
        Err(e) => e.to_string(),
        other => panic!("{line}: expected an error, got {other:?}"),
    }
}

fn v4(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn subnet(s: &str) -> Option<Subnet> {
    let (a, p) = s.split_once('/').unwrap();
    Subnet::new(v4(a), p.parse().unwrap())
}

const BASE: &str = "--name secret --host 10.0.0.1 --to --host 10.0.0.2";

#[test]
fn man_page_example_connection() {
    let m = msg("--name secret --host 10.0.0.1 --client 10.0.1.0/24 --to \
                 --host 10.0.0.2 --client 10.0.2.0/24 --encrypt --tunnel --pfs --psk");
    let left = End {
        host: v4("10.0.0.1"),
        nexthop: v4("10.0.0.2"),
        client: subnet("10.0.1.0/24"),
        ..End::default()
    };
    let right = End {
        host: v4("10.0.0.2"),
        nexthop: v4("10.0.0.1"),
        client: subnet("10.0.2.0/24"),
        ..End::default()
    };
    let expected = WhackMessage {
        name: Some("secret".into()),
        connection: Some(Connection {
            left,
            right,
            policy: ctl::POLICY_PSK | ctl::POLICY_ENCRYPT | ctl::POLICY_TUNNEL | ctl::POLICY_PFS,
            ..Connection::default()
        }),
        ..WhackMessage::default()
    };
    assert_eq!(m, expected);
    let c = m.connection.unwrap();
    assert_eq!(
        (
            c.ike_lifetime,
            c.ipsec_lifetime,
            c.rekey_margin,
            c.rekey_fuzz,
            c.keying_tries
        ),
        (3600, 28800, 540, 100, 3)
    );
    assert_eq!(c.left.ikeport, 500);
    // What the client would send decodes back to the same message.
    let r = request(&format!("{BASE} --psk"));
    assert_eq!(r.ctl_path, "/var/run/pluto.ctl");
    assert_eq!(ctl::decode(&ctl::encode(&r.msg).unwrap()).unwrap(), r.msg);
}

#[test]
fn simple_forms() {
    assert!(msg("--status").status);
    assert!(msg("--shutdown").shutdown);
    let m = msg("--listen --unlisten --rereadsecrets --listpubkeys --utc");
    assert!(m.listen && m.unlisten && m.utc && !m.purge_ocsp);
    assert_eq!(m.reread, ctl::REREAD_SECRETS);
    assert_eq!(m.list, ctl::LIST_PUBKEYS);
    // "All" is what rswan has: the secrets, the public keys.
    assert_eq!(msg("--rereadall").reread, ctl::REREAD_SECRETS);
    assert_eq!(msg("--listall").list, ctl::LIST_PUBKEYS);
    let m = msg("--initiate --name x --asynchronous");
    assert!(m.initiate && m.asynchronous);
    assert!(msg("--route --name x").route);
    assert!(msg("--unroute --name x").unroute);
    assert!(msg("--terminate --name x").terminate);
    assert!(msg("--delete --name x").delete);
    assert_eq!(msg("--myid @west").myid.as_deref(), Some("@west"));
    assert_eq!(msg("--crash 192.0.2.1").crash, Some(v4("192.0.2.1")));
    let k = msg("--keyid @east --addkey --pubkeyrsa 0sAQM=")
        .key
        .unwrap();
    assert_eq!(k.keyid, "@east");
    assert!(k.add);
    assert_eq!(k.pubkey_rsa, Some(vec![1, 3]));
    let r = request("--initiate --name x --label L");
    assert_eq!(r.label.as_deref(), Some("L"));
}

#[test]
fn help_and_version_stop_scanning() {
    assert_eq!(parse("--help"), Ok(Parsed::Help));
    assert_eq!(parse("--he --bogus"), Ok(Parsed::Help));
    assert_eq!(parse("--status --version"), Ok(Parsed::Version));
    // Errors before --help still win; --help as an option value is a value.
    assert!(parse("--bogus --help").is_err());
    assert_eq!(msg("--name --help --route").name.as_deref(), Some("--help"));
}

#[test]
fn unique_prefixes_and_value_forms() {
    assert!(msg("--stat").status);
    assert_eq!(msg("--na=x --rou").name.as_deref(), Some("x"));
    assert_eq!(msg("--name=a=b --route").name.as_deref(), Some("a=b"));
    assert_eq!(conn(&format!("{BASE} --psk --rekeyw 60")).rekey_margin, 60);
    assert_eq!(
        conn(&format!("{BASE} --psk --ikelife=7200")).ike_lifetime,
        7200
    );
    // Aliases with identical meaning are not ambiguous.
    assert_eq!(msg("--debug-nat").debug, Some(ctl::DBG_NATT));
    assert_eq!(msg("--debug-all").debug, Some(ctl::DBG_ALL));
    assert!(matches!(lookup("debug-all]"), Lookup::Found(_)));
    assert!(matches!(lookup("xauth"), Lookup::Found(d) if d.name == "xauth"));
    assert_eq!(lookup("nosuch"), Lookup::Unknown);
    // Every full name finds itself.
    for d in OPTIONS {
        assert!(matches!(lookup(d.name), Lookup::Found(f) if f.name == d.name));
    }
}

#[test]
fn getopt_errors() {
    assert_eq!(
        error("--rekey 5"),
        "whack: option '--rekey' is ambiguous; possibilities: '--rekeymargin' '--rekeyfuzz'"
    );
    assert_eq!(
        error("--lis"),
        "whack: option '--lis' is ambiguous; possibilities: '--listen' '--listpubkeys' \
         '--listcerts' '--listcacerts' '--listacerts' '--listaacerts' '--listocspcerts' \
         '--listgroups' '--listcrls' '--listocsp' '--listcards' '--listevents' '--listall'"
    );
    assert_eq!(error("--frob=1"), "whack: unrecognized option '--frob=1'");
    assert_eq!(
        error("--name"),
        "whack: option '--name' requires an argument"
    );
    assert_eq!(
        error("--stat=1"),
        "whack: option '--status' doesn't allow an argument"
    );
    assert_eq!(error("-h"), "whack: invalid option -- 'h'");
    for line in ["--rekey 5", "--frob", "--name", "-x"] {
        assert_eq!(parse(line).unwrap_err().exit_code(), 1);
    }
}

#[test]
fn unexpected_arguments() {
    assert_eq!(
        error("--status extra"),
        "whack error: unexpected argument \"extra\""
    );
    assert_eq!(
        error("first --status second"),
        "whack error: unexpected argument \"first\""
    );
    assert_eq!(
        error("--status -- --listen"),
        "whack error: unexpected argument \"--listen\""
    );
    assert_eq!(
        error("- --status"),
        "whack error: unexpected argument \"-\""
    );
    // Option errors come first (getopt permutes non-options to the end).
    assert_eq!(error("stray --frob"), "whack: unrecognized option '--frob'");
}

#[test]
fn numeric_arguments() {
    assert_eq!(msg("--deletestate 0x10").delete_state, Some(16));
    assert_eq!(msg("--deletestate 010").delete_state, Some(8));
    assert_eq!(msg("--deletestate 10").delete_state, Some(10));
    assert_eq!(msg("--deletestate 0").delete_state, Some(0));
    assert_eq!(msg("--deletestate=+7").delete_state, Some(7));
    assert_eq!(msg("--deletestate -1").delete_state, Some(u64::MAX));
    for bad in ["10x", "08", "0x", "x", "1.5"] {
        assert_eq!(
            error(&format!("--deletestate {bad}")),
            format!("whack error: badly formed numeric argument \"{bad}\"")
        );
    }
    assert_eq!(
        parse_args(&["--deletestate".into(), String::new()])
            .unwrap_err()
            .to_string(),
        "whack error: badly formed numeric argument \"\""
    );
    assert_eq!(numeric_arg(" 12"), Some(12));
    assert_eq!(numeric_arg("99999999999999999999999"), Some(u64::MAX));
    assert_eq!(strtoul("0x1fz", 0), (31, 4));
    assert_eq!(strtoul("0xz", 0), (0, 1));
    assert_eq!(strtoul("", 0), (0, 0));
    assert_eq!(
        conn(&format!("{BASE} --psk --ikeport 0x1f4")).right.ikeport,
        500
    );
    assert_eq!(
        error(&format!("{BASE} --psk --ikeport 70000")),
        "whack error: \"secret\" <port-number> must be a number between 1 and 65535 \"70000\""
    );
}

#[test]
fn duplicated_flags() {
    assert_eq!(
        error("--status --status"),
        "whack error: duplicated flag \"status\""
    );
    assert_eq!(
        error("--name a --name b"),
        "whack error: \"a\" duplicated flag \"name\""
    );
    assert_eq!(
        error("--listcerts --listce"),
        "whack error: duplicated flag \"listcerts\""
    );
    assert_eq!(
        error("--name x --host 1.2.3.4 --host 1.2.3.5"),
        "whack error: \"x\" duplicated flag \"host\""
    );
    assert_eq!(
        error(&format!("{BASE} --psk --pass --drop")),
        "whack error: \"secret\" duplicated flag \"drop\""
    );
    assert_eq!(
        error(&format!("{BASE} --psk --rekeymargin 1 --rekeywindow 2")),
        "whack error: \"secret\" duplicated flag \"rekeywindow\""
    );
    assert_eq!(
        error(&format!("{BASE} --psk --to")),
        "whack error: \"secret\" duplicated flag \"to\""
    );
    // End options are per end; debug options may repeat.
    let c = conn("--name x --host 1.2.3.4 --id @a --to --host 1.2.3.5 --id @b --psk");
    assert_eq!(
        (c.left.id.as_deref(), c.right.id.as_deref()),
        (Some("@a"), Some("@b"))
    );
    assert_eq!(msg("--debug-raw --debug-raw").debug, Some(ctl::DBG_RAW));
    assert!(msg("--label a --label b --status").status);
}

#[test]
fn diagnostics_are_decorated() {
    assert_eq!(
        error("--label LBL --name nm --route --status --bogus=1"),
        "whack: unrecognized option '--bogus=1'"
    );
    assert_eq!(
        error("--label LBL --name nm --status"),
        "whack error: LBL \"nm\" no reason for --name"
    );
    assert_eq!(
        error("--name nm --label LBL --status"),
        "whack error: LBL \"nm\" no reason for --name"
    );
    // diagq's 120-byte buffer cuts long messages.
    let long = "9".repeat(200) + "x";
    let e = error(&format!("--deletestate {long}"));
    assert_eq!(e.len(), "whack error: ".len() + 119);
}

#[test]
fn validation_messages_in_order() {
    let cases: &[(&str, &str)] = &[
        ("--name x --psk", "\"x\" connection description option, but no --to"),
        ("--name x --host 1.2.3.4", "\"x\" connection description option, but no --to"),
        ("--name x --to", "\"x\" connection missing --host before --to"),
        ("--name x --host 1.2.3.4 --to --psk", "\"x\" connection missing --host after --to"),
        (
            "--name x --host %any --to --host 0.0.0.0 --psk",
            "\"x\" hosts cannot both be 0.0.0.0 or 0::0",
        ),
        (
            "--name x --host 1.2.3.4 --to --host %any --psk",
            "\"x\" our nexthop must be specified when other host is a %any or %opportunistic",
        ),
        (
            "--name x --host 1.2.3.4 --clientprotoport tcp --to --host 1.2.3.5 --psk",
            "\"x\" the protocol for leftprotoport and rightprotoport must be the same",
        ),
        (
            "--name x --tunnelipv6 --host 1.2.3.4 --client ::1/128 --to --host 1.2.3.5 --psk",
            "\"x\" endpoints clash: one is IPv4 and the other is IPv6",
        ),
        (
            "--name x --host 1.2.3.4 --to --host 1.2.3.5 --encrypt",
            "\"x\" non-shunt connection must have --psk or --rsasig or both",
        ),
        ("--route", "missing --name <connection_name>"),
        ("--delete", "missing --name <connection_name>"),
        ("--name x --listen", "\"x\" no reason for --name"),
        ("--addkey", "--addkey and --pubkeyrsa require --keyid"),
        ("", "no action specified; try --help for hints"),
        ("--utc --asynchronous", "no action specified; try --help for hints"),
        (
            "--name x --host 1.2.3.4 --to --host 1.2.3.5 --psk --rekeymargin 0x4000000000000000",
            "\"x\" rekeymargin or rekeyfuzz values are so large that they cause oveflow",
        ),
        (
            "--name x --host 1.2.3.4 --to --host 1.2.3.5 --psk --ikelifetime 86401",
            "\"x\" ikelifetime [86401 seconds] must be less than 86400 seconds",
        ),
        (
            "--name x --host 1.2.3.4 --to --host 1.2.3.5 --psk --ikelifetime 1080",
            "\"x\" ikelifetime [1080] must be greater than rekeymargin*(100+rekeyfuzz)/100 [540*(100+100)/100 = 1080]",
        ),
        (
            "--name x --host 1.2.3.4 --to --host 1.2.3.5 --psk --ipseclifetime 90000",
            "\"x\" ipseclifetime [90000 seconds] must be less than 86400 seconds",
        ),
        (
            "--name x --host 1.2.3.4 --to --host 1.2.3.5 --psk --dpddelay 30",
            "\"x\" dpddelay specified, but dpdtimeout is zero, both should be specified",
        ),
        (
            "--name x --host 1.2.3.4 --to --host 1.2.3.5 --psk --dpdtimeout 30",
            "\"x\" dpdtimeout specified, but dpddelay is zero, both should be specified",
        ),
        (
            "--name x --host 1.2.3.4 --to --host 1.2.3.5 --psk --dpdaction maybe",
            "\"x\" dpdaction can only be \"clear\", \"hold\" or \"restart\", defaulting to \"hold\"",
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(error(line), format!("whack error: {expected}"), "{line}");
        assert_eq!(parse(line).unwrap_err().exit_code(), 1);
    }
    // --dontrekey lifts the lower lifetime bound, not the upper one.
    assert_eq!(
        conn(&format!("{BASE} --psk --dontrekey --ikelifetime 60")).ike_lifetime,
        60
    );
    // A pure shunt needs no authentication.
    assert!(msg(&format!("{BASE} --pass")).connection.is_some());
}

#[test]
fn parse_time_messages() {
    let cases: &[(&str, &str)] = &[
        (
            "--name x --host 1.2.3.4x",
            "\"x\" extra garbage on end of dotted-decimal address \"1.2.3.4x\"",
        ),
        (
            "--name x --host gw.example",
            "\"x\" does not look numeric and name lookup failed (\"gw.example\": no such host) \"gw.example\"",
        ),
        (
            "--name x --host 1.2.3.256",
            "\"x\" byte overflow in dotted-decimal address \"1.2.3.256\"",
        ),
        (
            "--name x --host ::1",
            "\"x\" non-ipv6 address may not contain `:' \"::1\"",
        ),
        (
            "--name x --host a/b",
            "\"x\" illegal (non-DNS-name) character in name \"a/b\"",
        ),
        (
            "--name x --client 10.0.0.0",
            "\"x\" no / in subnet specification \"10.0.0.0\"",
        ),
        (
            "--name x --client 10.0.0.0/33",
            "\"x\" subnet mask bit count too large \"10.0.0.0/33\"",
        ),
        (
            "--name x --client 10.0.0.0/255.0.255.0",
            "\"x\" non-contiguous or otherwise erroneous mask \"10.0.0.0/255.0.255.0\"",
        ),
        (
            "--name x --client 10.0.0.0/8 --clientwithin 10.0.0.0/8",
            "\"x\" --clientwithin conflicts with --client",
        ),
        (
            "--name x --client 1.0.0.0/8 --host %group",
            "\"x\" --host %group clashes with --client",
        ),
        (
            "--name x --host %group --client 1.0.0.0/8",
            "\"x\" duplicated flag \"client\"",
        ),
        (
            "--name x --sendcert sometimes",
            "\"x\" whack sendcert value is not legal \"sometimes\"",
        ),
        (
            "--name x --clientprotoport 300/80",
            "\"x\" <protocol> must be between 0 and 255 \"300/80\"",
        ),
        (
            "--name x --clientprotoport bogus/80",
            "\"x\" <protocol> is neither a number nor a valid name \"bogus/80\"",
        ),
        (
            "--name x --clientprotoport tcp/70000",
            "\"x\" <port> must be between 0 and 65535 \"tcp/70000\"",
        ),
        (
            "--crash 0.0.0.0",
            "0.0.0.0 or 0::0 isn't a valid client address \"0.0.0.0\"",
        ),
        (
            "--name x --host 1.2.3.4 --ipv6",
            "\"x\" --ipv6 must precede \"host\"",
        ),
        ("--ipv4 --ipv6", "--ipv6 conflicts with --ipv4"),
        ("--ipv6 --ipv4", "--ipv4 conflicts with --ipv6"),
        (
            "--tunnelipv4 --tunnelipv6",
            "--tunnelipv6 conflicts with --tunnelipv4",
        ),
        (
            "--client 10.0.0.0/8 --tunnelipv6",
            "--tunnelipv6 must precede \"client\"",
        ),
        (
            "--keyid @x --pubkeyrsa 0sA",
            "RSA public-key data malformed (input ends in mid-byte, perhaps truncated) \"0sA\"",
        ),
        (
            "--keyid @x --pubkeyrsa 1234",
            "RSA public-key data malformed (input does not begin with format prefix) \"1234\"",
        ),
        (
            "--keyid @x --pubkeyrsa 0xzz",
            "RSA public-key data malformed (unknown character (`z') in input) \"0xzz\"",
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(error(line), format!("whack error: {expected}"), "{line}");
    }
}

#[test]
fn special_host_values() {
    // %any: road warrior peer; our nexthop must then be given (%direct ok).
    let c = conn("--name rw --host 1.2.3.4 --nexthop %direct --to --host %any --psk");
    assert!(c.right.host.is_unspecified());
    assert!(c.left.nexthop.is_unspecified());
    assert_eq!(c.right.nexthop, v4("1.2.3.4"));
    // %opportunistic, %group and %opportunisticgroup are refused (see
    // not_implemented_options_are_refused).
    // %default client.
    let c = conn(&format!("{BASE} --client %default --psk"));
    assert_eq!(c.right.client, subnet("0.0.0.0/0"));
    assert_eq!(c.policy & ctl::POLICY_TUNNEL, ctl::POLICY_TUNNEL);
}

#[test]
fn connection_options() {
    let c = conn(&format!(
        "{BASE} --rsasig --authenticate --compress --reject --failpass \
         --dontrekey --forceencaps --dpddelay 30 --dpdtimeout 120 --dpdaction restart \
         --ike 3des-sha1 --esp aes128 --pfsgroup modp1536 --keyingtries 0 --rekeyfuzz 0 \
         --ipseclifetime 0x3840"
    ));
    assert_eq!(
        c.policy,
        ctl::POLICY_RSASIG
            | ctl::POLICY_AUTHENTICATE
            | ctl::POLICY_COMPRESS
            | ctl::POLICY_SHUNT_REJECT
            | ctl::POLICY_FAIL_PASS
            | ctl::POLICY_DONT_REKEY
    );
    assert!(c.force_encaps);
    assert_eq!((c.dpd_delay, c.dpd_timeout), (30, 120));
    assert_eq!(c.dpd_action, ctl::DpdAction::Restart);
    assert_eq!(c.ike.as_deref(), Some("3des-sha1"));
    assert_eq!(c.esp.as_deref(), Some("aes128"));
    assert_eq!(c.pfsgroup.as_deref(), Some("modp1536"));
    assert_eq!(
        (c.keying_tries, c.rekey_fuzz, c.ipsec_lifetime),
        (0, 0, 14400)
    );
    // End options.
    let c = conn(
        "--name e --host 1.2.3.4 --id @west --ikeport 4500 \
         --nexthop 1.2.3.1 --srcip 10.0.1.1 --client 10.0.1.0/255.255.255.0 \
         --clientprotoport udp/l2tp --updown /bin/true \
         --to --host 1.2.3.5 --client 10.0.2.0/24 --clientprotoport 17/%any --psk",
    );
    let l = &c.left;
    assert_eq!(l.id.as_deref(), Some("@west"));
    assert_eq!(l.ikeport, 4500);
    assert_eq!(l.nexthop, v4("1.2.3.1"));
    assert_eq!(l.srcip, Some(v4("10.0.1.1")));
    assert_eq!(l.client, subnet("10.0.1.0/24"));
    assert_eq!((l.protocol, l.port, l.port_wildcard), (17, 1701, false));
    assert_eq!(l.updown.as_deref(), Some("/bin/true"));
    // Nothing rswan does not implement travels.
    assert!(l.cert.is_none() && l.ca.is_none() && l.groups.is_none());
    assert!(!l.dns_key_on_demand && !l.xauth_server && !l.modecfg_client);
    assert_eq!((l.sendcert, l.certtype), (None, None));
    let r = &c.right;
    assert_eq!(r.client, subnet("10.0.2.0/24"));
    assert!(!r.client_wildcard);
    assert_eq!((r.protocol, r.port, r.port_wildcard), (17, 0, true));
    // Virtual IP clients travel as text.
    let c = conn(&format!("{BASE} --client vhost:%no,%priv --psk"));
    assert_eq!(c.right.virt.as_deref(), Some("vhost:%no,%priv"));
    assert_eq!(c.right.client, None);
}

#[test]
fn ipv6_connection() {
    let c = conn(
        "--name six --ipv6 --host 2001:db8::1 --client 2001:db8:1::/48 --to \
         --host 2001:db8::2 --client 2001:db8:2::/48 --psk --encrypt",
    );
    assert_eq!(c.addr_family, AddrFamily::Ipv6);
    assert_eq!(c.tunnel_addr_family, AddrFamily::Ipv6);
    assert_eq!(c.left.nexthop, "2001:db8::2".parse::<IpAddr>().unwrap());
    assert_eq!(c.right.client.unwrap().prefix, 48);
    // IPv6 hosts, IPv4 clients.
    let c = conn(
        "--name mix --ipv6 --tunnelipv4 --host 2001:db8::1 --client 10.0.1.0/24 --to \
         --host 2001:db8::2 --client 10.0.2.0/24 --psk",
    );
    assert_eq!(c.tunnel_addr_family, AddrFamily::Ipv4);
}

#[test]
fn debug_options() {
    assert_eq!(
        msg("--debug-raw --debug-crypt").debug,
        Some(ctl::DBG_RAW | ctl::DBG_CRYPT)
    );
    assert_eq!(msg("--debug-raw --debug-none").debug, Some(0));
    assert_eq!(msg("--debug-none --debug-dpd").debug, Some(ctl::DBG_DPD));
    assert_eq!(
        msg("--debug-all --debug-private").debug,
        Some(ctl::DBG_ALL | ctl::DBG_PRIVATE)
    );
    // Impairments and per-connection debugging are refused (see
    // not_implemented_options_are_refused).
    assert_eq!(msg("--status").debug, None);
}

#[test]
fn ctlbase() {
    assert_eq!(request("--ctlbase /tmp/p --status").ctl_path, "/tmp/p.ctl");
    assert_eq!(
        error(&format!("--ctlbase /{} --status", "x".repeat(110))),
        "whack error: <ctlbase>.ctl must be fit in a sun_addr"
    );
    assert_eq!(
        error("--ctlbase a --ctlbase b"),
        "whack error: duplicated flag \"ctlbase\""
    );
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("rswan-whack-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn optionsfrom_files() {
    let dir = TempDir::new("optionsfrom");
    let inner = dir.file(
        "inner",
        "# the right end\n--host 10.0.0.2 --client\t10.0.2.0/24\n\n   \n--updown\n\"ipsec _updown --x\"\n",
    );
    let outer = dir.file(
        "outer",
        &format!("--name\nsecret\n--host 10.0.0.1\n--to\n--optionsfrom {inner}\n--psk\n"),
    );
    let r = request(&format!("--optionsfrom {outer} --encrypt"));
    let c = r.msg.connection.unwrap();
    assert_eq!(r.msg.name.as_deref(), Some("secret"));
    assert_eq!(c.right.host, v4("10.0.0.2"));
    assert_eq!(c.right.client, subnet("10.0.2.0/24"));
    assert_eq!(c.right.updown.as_deref(), Some("ipsec _updown --x"));
    assert_eq!(
        c.policy,
        ctl::POLICY_PSK | ctl::POLICY_ENCRYPT | ctl::POLICY_TUNNEL
    );
    // A plain line is one argument, quotes and all inner spaces kept.
    let plain = dir.file("plain", "--name\nmy conn\n--route\n");
    assert_eq!(
        msg(&format!("--optionsfrom={plain}")).name.as_deref(),
        Some("my conn")
    );
    // A missing file, and a file that includes itself.
    let e = parse_args(&[
        "--optionsfrom".into(),
        dir.0.join("none").to_str().unwrap().into(),
    ])
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "whack: optionsfrom failed: unable to open file"
    );
    assert_eq!(e.exit_code(), 2);
    let looping = dir.0.join("loop");
    std::fs::write(&looping, format!("--optionsfrom {}\n", looping.display())).unwrap();
    let e = parse_args(&["--optionsfrom".into(), looping.to_str().unwrap().into()]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "whack: optionsfrom called 100 times, looping?"
    );
    assert_eq!(e.exit_code(), 2);
    let long = dir.file("long", &format!("--name\n{}\n", "n".repeat(1022)));
    assert_eq!(
        parse_args(&["--optionsfrom".into(), long])
            .unwrap_err()
            .to_string(),
        "whack: optionsfrom failed: error in line read"
    );
}

/// Every option rswan parses but does not implement, by its table name.
const NOT_IMPLEMENTED: &[&str] = &[
    "purgeocsp",
    "rereadcacerts",
    "rereadaacerts",
    "rereadocspcerts",
    "rereadacerts",
    "rereadcrls",
    "xauthname",
    "xauthpass",
    "listcerts",
    "listcacerts",
    "listacerts",
    "listaacerts",
    "listocspcerts",
    "listgroups",
    "listcrls",
    "listocsp",
    "listcards",
    "listevents",
    "cert",
    "ca",
    "groups",
    "clientwithin",
    "aggrmode",
    "disablearrivalcheck",
    "xauth",
    "xauthserver",
    "xauthclient",
    "modecfgpull",
    "modecfgserver",
    "modecfgclient",
    "modeconfigserver",
    "modeconfigclient",
    "sendcert",
    "certtype",
    "impair-delay-adns-key-answer",
    "impair-delay-adns-txt-answer",
    "impair-bust-mi2",
    "impair-bust-mr2",
    "impair-sa-fail",
    "impair-die-oninfo",
    "impair-jacob-two-two",
];

/// A command line that would be sent if `opt` (with a valid argument) were
/// implemented: an end option on the left end of a connection, a connection
/// option in a connection, anything else next to `--status`.
fn line_with(def: &options::OptDef) -> String {
    let value = match def.name {
        "cert" => " w.pem",
        "ca" => " %same",
        "groups" => " g",
        "sendcert" => " always",
        "oppohere" | "oppothere" => " 10.0.0.1",
        "clientwithin" => " 10.0.1.0/24",
        _ => match def.arg {
            options::Arg::None => "",
            options::Arg::Numeric => " 2",
            options::Arg::Required => " x",
        },
    };
    let opt = format!("--{}{value}", def.name);
    match def.class {
        options::Class::End => {
            format!("--name c --host 1.2.3.4 {opt} --to --host 1.2.3.5 --psk --encrypt")
        }
        options::Class::Conn => {
            format!("--name c --host 1.2.3.4 --to --host 1.2.3.5 --psk --encrypt --ike 3des {opt}")
        }
        _ => format!("--status {opt}"),
    }
}

#[test]
fn not_implemented_options_are_refused() {
    let refused: Vec<&str> = OPTIONS
        .iter()
        .filter(|d| d.id.not_implemented())
        .map(|d| d.name)
        .collect();
    assert_eq!(refused, NOT_IMPLEMENTED);
    let help_tokens: Vec<&str> = HELP
        .split_once("Not implemented by rswan yet")
        .expect("a not-implemented section in --help")
        .1
        .split(|c: char| c.is_whitespace() || c == ',')
        .collect();
    for def in OPTIONS.iter().filter(|d| d.id.not_implemented()) {
        let line = line_with(def);
        let e = parse(&line).expect_err(&line);
        assert_eq!(
            e.to_string(),
            format!("whack: --{} is not implemented by rswan yet", def.name),
            "{line}"
        );
        assert_eq!(e.exit_code(), 1, "{line}");
        assert!(
            help_tokens.contains(&format!("--{}", def.name).as_str()),
            "--{} in --help",
            def.name
        );
    }
    // The same lines without the option are sent.
    assert!(
        msg("--name c --host 1.2.3.4 --to --host 1.2.3.5 --psk --encrypt --ike 3des")
            .connection
            .is_some()
    );
}

#[test]
fn other_refusals() {
    let oppo = "--name x --host 1.2.3.4 --nexthop 1.2.3.1 --to --host";
    let conn_line = "--name x --host 1.2.3.4 --to --host 1.2.3.5 --psk";
    let cases: &[(&str, &str)] = &[
        // Special hosts.
        (&format!("{oppo} %group --psk --encrypt"), "--host %group"),
        (
            &format!("{oppo} %opportunisticgroup --rsasig --pfs --encrypt"),
            "--host %opportunisticgroup",
        ),
        (&format!("{conn_line} --aggrmode"), "--aggrmode"),
        ("--impair-jacob-two-two", "--impair-jacob-two-two"),
        // Abbreviations and aliases are named as whack's table spells them.
        (&format!("{conn_line} --aggr"), "--aggrmode"),
        (
            "--name x --host 1.2.3.4 --xauth --to --host 1.2.3.5 --psk",
            "--xauth",
        ),
        // The first one on the line is named.
        ("--status --listcrls --listcerts", "--listcrls"),
        (
            &format!("{conn_line} --modecfgpull --aggrmode"),
            "--modecfgpull",
        ),
        // Keys from DNS.
        (
            "--keyid @east",
            "--keyid without --pubkeyrsa (a key lookup in DNS)",
        ),
        (
            "--keyid @east --addkey",
            "--keyid without --pubkeyrsa (a key lookup in DNS)",
        ),
        // Debugging of one connection.
        (
            "--name x --debug-control",
            "--debug-control with --name (debugging of one connection)",
        ),
        (
            "--name x --debug-all --debug-dpd",
            "--debug-all with --name (debugging of one connection)",
        ),
        (
            &format!("{conn_line} --debug-none"),
            "--debug-none with --name (debugging of one connection)",
        ),
    ];
    for (line, what) in cases {
        let e = parse(line).expect_err(line);
        assert_eq!(
            e.to_string(),
            format!("whack: {what} is not implemented by rswan yet"),
            "{line}"
        );
        assert_eq!(e.exit_code(), 1, "{line}");
    }
    // Opportunism is taken, with Openswan's conditions.
    assert!(parse(&format!("{oppo} %opportunistic --rsasig --pfs --encrypt")).is_ok());
    assert_eq!(
        error(&format!("{oppo} %opportunistic --psk --pfs --encrypt")),
        "whack error: \"x\" only RSASIG is supported for opportunism"
    );
    assert!(parse("--oppohere 10.0.0.1 --oppothere 10.0.0.2").is_ok());
    // Errors found while scanning still come first; --help still helps.
    assert_eq!(
        error("--aggrmode --bogus"),
        "whack: unrecognized option '--bogus'"
    );
    assert_eq!(
        error("--name x --sendcert sometimes"),
        "whack error: \"x\" whack sendcert value is not legal \"sometimes\""
    );
    assert_eq!(parse("--aggrmode --help"), Ok(Parsed::Help));
}

#[test]
fn nat_and_dpd_options_are_not_refused() {
    let c = conn(&format!(
        "{BASE} --psk --encrypt --dpddelay 10 --dpdtimeout 30 --dpdaction hold --forceencaps"
    ));
    assert_eq!((c.dpd_delay, c.dpd_timeout), (10, 30));
    assert_eq!(c.dpd_action, ctl::DpdAction::Hold);
    assert!(c.force_encaps);
    for virt in ["vhost:%no,%priv", "vnet:%all", "vnet:%v4:10.0.0.0/8,%priv"] {
        let c = conn(&format!(
            "--name rw --host 1.2.3.4 --nexthop 1.2.3.1 --to --host %any --client {virt} --psk"
        ));
        assert_eq!(c.right.virt.as_deref(), Some(virt));
    }
    // Debug options without --name set pluto's debugging.
    assert_eq!(
        msg("--debug-natt --debug-dpd").debug,
        Some(ctl::DBG_NATT | ctl::DBG_DPD)
    );
    // --keyid with a key is the pubkey form.
    assert!(msg("--keyid @east --pubkeyrsa 0sAQM=").key.is_some());
}
