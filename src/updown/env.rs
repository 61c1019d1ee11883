//! Building the updown command line for one invocation (spec §3.1–§3.3).
//!
//! Pluto does not pass the `PLUTO_*` variables through `execve`'s
//! environment: it writes them as shell assignments in front of the script
//! and hands the whole line to `popen`, i.e. `/bin/sh -c`:
//!
//! ```text
//! 2>&1 PLUTO_VERSION='1.1' PLUTO_VERB='route-client' ... ipsec _updown
//! ```
//!
//! [`build`] reproduces Openswan 2.4.9's `do_command_linux` byte for byte:
//! the variable order, the single quoting, the optional `PLUTO_NEXT_HOP`
//! and `PLUTO_MY_SOURCEIP`, the blank slot where 2.4.9 puts the (here
//! unsupported) `PLUTO_XAUTH_USERNAME`, `escape_metachar` on the IDs and
//! the peer CA, Openswan's `addrtot` address text, and the 1536-byte
//! command buffer.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `PLUTO_VERSION` as 2.4.9 sends it (the 2.6 series sends `2.0`).
pub const PLUTO_VERSION: &str = "1.1";

/// The script run when the local end has no `--updown` (DEFAULT_UPDOWN).
pub const DEFAULT_UPDOWN: &str = "ipsec _updown";

/// Size of 2.4.9's command buffer (`char cmd[1536]`, NUL included): a
/// command of `COMMAND_BUF` bytes or more is refused as too long.
pub const COMMAND_BUF: usize = 1536;

/// The operation part of `PLUTO_VERB` (spec §3.1): the engine decides
/// when each runs.
pub use crate::ike::routing::Verb;

/// A complete `PLUTO_VERB` value: verb, `-host`/`-client`, optional `-v6`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VerbName {
    /// The operation.
    pub verb: Verb,
    /// `-host` (our client is exactly our host address) rather than `-client`.
    pub host: bool,
    /// `-v6`: the gateway (host) addresses are IPv6.
    pub v6: bool,
}

impl VerbName {
    /// Parses a `PLUTO_VERB` value such as `route-client` or `up-host-v6`.
    pub fn parse(text: &str) -> Option<VerbName> {
        let (rest, v6) = match text.strip_suffix("-v6") {
            Some(rest) => (rest, true),
            None => (text, false),
        };
        let (op, host) = if let Some(op) = rest.strip_suffix("-host") {
            (op, true)
        } else if let Some(op) = rest.strip_suffix("-client") {
            (op, false)
        } else {
            return None;
        };
        let verb = Verb::ALL.into_iter().find(|v| v.as_str() == op)?;
        Some(VerbName { verb, host, v6 })
    }
}

impl fmt::Display for VerbName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.verb.as_str())?;
        f.write_str(if self.host { "-host" } else { "-client" })?;
        if self.v6 {
            f.write_str("-v6")?;
        }
        Ok(())
    }
}

/// Everything pluto knows about one updown invocation (one spd route,
/// already oriented: "my" is the local end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdownCall {
    /// The operation.
    pub verb: Verb,
    /// Connection name (`PLUTO_CONNECTION`), inserted verbatim as 2.4.9 does.
    pub conn: String,
    /// Our nexthop toward the peer; `None` or the unspecified address
    /// omits `PLUTO_NEXT_HOP` entirely (2.4.9).
    pub next_hop: Option<IpAddr>,
    /// `PLUTO_INTERFACE` (KLIPS: `ipsec0`; NETKEY: the real interface).
    pub interface: String,
    /// Our public address (`PLUTO_ME`); its family decides `-v6`.
    pub me: IpAddr,
    /// Our ID in idtoa form; escaped with [`escape_metachar`].
    pub my_id: String,
    /// Our client subnet as (address, prefix length); `None` = just the host.
    pub my_client: Option<(IpAddr, u8)>,
    /// Our port selector (0 = any).
    pub my_port: u16,
    /// Our protocol selector (0 = any).
    pub my_protocol: u8,
    /// The peer's public address (`PLUTO_PEER`).
    pub peer: IpAddr,
    /// The peer's ID in idtoa form; escaped with [`escape_metachar`].
    pub peer_id: String,
    /// The peer's client subnet; `None` = just the peer host.
    pub peer_client: Option<(IpAddr, u8)>,
    /// The peer's port selector.
    pub peer_port: u16,
    /// The peer's protocol selector.
    pub peer_protocol: u8,
    /// Issuer DN of a trusted RSA key for the peer ID, empty if none;
    /// escaped with [`escape_metachar`].
    pub peer_ca: String,
    /// prettypolicy text, e.g. `PSK+ENCRYPT+TUNNEL+PFS+UP`, verbatim.
    pub policy: String,
    /// `--srcip`; `None` or the unspecified address omits `PLUTO_MY_SOURCEIP`.
    pub my_sourceip: Option<IpAddr>,
    /// The local end's `--updown` string (may carry arguments), inserted
    /// verbatim; `None` runs [`DEFAULT_UPDOWN`].
    pub script: Option<String>,
}

/// The command line for one invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdownCommand {
    /// The full `PLUTO_VERB`, which also prefixes pluto's log lines
    /// (`route-client output: ...`).
    pub verb: VerbName,
    /// The text for `/bin/sh -c`.
    pub command: String,
}

/// Why no command could be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// The command does not fit the 1536-byte buffer; displays as 2.4.9's
    /// `<verb> command too long!`.
    TooLong {
        /// The full verb.
        verb: VerbName,
        /// Length of the command that was refused, in bytes.
        len: usize,
    },
    /// A client prefix length exceeds the address size (33+ for IPv4,
    /// 129+ for IPv6).
    BadPrefix {
        /// The full verb.
        verb: VerbName,
        /// `"my"` or `"peer"`.
        end: &'static str,
        /// The offending prefix length.
        prefix: u8,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::TooLong { verb, .. } => write!(f, "{verb} command too long!"),
            BuildError::BadPrefix { verb, end, prefix } => {
                write!(f, "{verb}: invalid {end} client prefix length /{prefix}")
            }
        }
    }
}

impl std::error::Error for BuildError {}

/// The full verb for `call`: `-host` when our client is exactly our host
/// address (no client, or a /32 or /128 equal to `me`), else `-client`;
/// `-v6` when `me` is IPv6 (2.4.9 `subnetisaddr` and `addrtypeof(host_addr)`).
pub fn verb_name(call: &UpdownCall) -> VerbName {
    let host = match call.my_client {
        None => true,
        Some((addr, bits)) => u32::from(bits) == max_bits(addr) && addr == call.me,
    };
    VerbName {
        verb: call.verb,
        host,
        v6: call.me.is_ipv6(),
    }
}

/// Builds the command line for `call` (2.4.9 `do_command_linux`).
pub fn build(call: &UpdownCall) -> Result<UpdownCommand, BuildError> {
    let verb = verb_name(call);
    let my = Client::of(call.my_client, call.me).ok_or(BuildError::BadPrefix {
        verb,
        end: "my",
        prefix: call.my_client.map_or(0, |c| c.1),
    })?;
    let peer = Client::of(call.peer_client, call.peer).ok_or(BuildError::BadPrefix {
        verb,
        end: "peer",
        prefix: call.peer_client.map_or(0, |c| c.1),
    })?;
    let next_hop = match call.next_hop {
        Some(a) if !a.is_unspecified() => format!("PLUTO_NEXT_HOP='{}' ", addrtot(a)),
        _ => String::new(),
    };
    let srcip = match call.my_sourceip {
        Some(a) if !a.is_unspecified() => format!("PLUTO_MY_SOURCEIP='{}'", addrtot(a)),
        _ => String::new(),
    };
    // 2.4.9 leaves a "%s " slot for PLUTO_XAUTH_USERNAME; XAUTH is not
    // supported, so the slot is always empty (hence the run of blanks).
    let xauth = "";
    let command = format!(
        "2>&1 PLUTO_VERSION='{PLUTO_VERSION}' PLUTO_VERB='{verb}' PLUTO_CONNECTION='{conn}' \
         {next_hop}PLUTO_INTERFACE='{iface}' PLUTO_ME='{me}' PLUTO_MY_ID='{my_id}' \
         PLUTO_MY_CLIENT='{my_client}' PLUTO_MY_CLIENT_NET='{my_net}' \
         PLUTO_MY_CLIENT_MASK='{my_mask}' PLUTO_MY_PORT='{my_port}' \
         PLUTO_MY_PROTOCOL='{my_proto}' PLUTO_PEER='{peer_addr}' PLUTO_PEER_ID='{peer_id}' \
         PLUTO_PEER_CLIENT='{peer_client}' PLUTO_PEER_CLIENT_NET='{peer_net}' \
         PLUTO_PEER_CLIENT_MASK='{peer_mask}' PLUTO_PEER_PORT='{peer_port}' \
         PLUTO_PEER_PROTOCOL='{peer_proto}' PLUTO_PEER_CA='{peer_ca}' \
         PLUTO_CONN_POLICY='{policy}' {xauth} {srcip} {script}",
        conn = call.conn,
        iface = call.interface,
        me = addrtot(call.me),
        my_id = escape_metachar(&call.my_id),
        my_client = my.subnet,
        my_net = my.net,
        my_mask = my.mask,
        my_port = call.my_port,
        my_proto = call.my_protocol,
        peer_addr = addrtot(call.peer),
        peer_id = escape_metachar(&call.peer_id),
        peer_client = peer.subnet,
        peer_net = peer.net,
        peer_mask = peer.mask,
        peer_port = call.peer_port,
        peer_proto = call.peer_protocol,
        peer_ca = escape_metachar(&call.peer_ca),
        policy = call.policy,
        script = call.script.as_deref().unwrap_or(DEFAULT_UPDOWN),
    );
    if command.len() >= COMMAND_BUF {
        return Err(BuildError::TooLong {
            verb,
            len: command.len(),
        });
    }
    Ok(UpdownCommand { verb, command })
}

/// The text of one client for the `*_CLIENT`, `*_CLIENT_NET` and
/// `*_CLIENT_MASK` variables.
struct Client {
    subnet: String,
    net: String,
    mask: String,
}

impl Client {
    /// `None` when the prefix is longer than the address.
    fn of(client: Option<(IpAddr, u8)>, host: IpAddr) -> Option<Client> {
        let (addr, bits) = client.unwrap_or((host, max_bits(host) as u8));
        let net = network_of(addr, bits)?;
        let mask = mask_of(addr.is_ipv6(), bits)?;
        Some(Client {
            subnet: format!("{}/{bits}", addrtot(net)),
            net: addrtot(net),
            mask: addrtot(mask),
        })
    }
}

/// 32 or 128.
fn max_bits(addr: IpAddr) -> u32 {
    if addr.is_ipv6() {
        128
    } else {
        32
    }
}

/// The netmask with `bits` leading ones, in the given family; `None` if
/// `bits` exceeds the address size.
pub fn mask_of(v6: bool, bits: u8) -> Option<IpAddr> {
    let bits = u32::from(bits);
    if v6 {
        let m = match bits {
            0 => 0,
            1..=128 => u128::MAX << (128 - bits),
            _ => return None,
        };
        Some(IpAddr::V6(Ipv6Addr::from(m)))
    } else {
        let m = match bits {
            0 => 0,
            1..=32 => u32::MAX << (32 - bits),
            _ => return None,
        };
        Some(IpAddr::V4(Ipv4Addr::from(m)))
    }
}

/// `addr` with the host bits below a `bits`-long prefix cleared; `None`
/// if `bits` exceeds the address size.
pub fn network_of(addr: IpAddr, bits: u8) -> Option<IpAddr> {
    match (addr, mask_of(addr.is_ipv6(), bits)?) {
        (IpAddr::V4(a), IpAddr::V4(m)) => {
            Some(IpAddr::V4(Ipv4Addr::from(u32::from(a) & u32::from(m))))
        }
        (IpAddr::V6(a), IpAddr::V6(m)) => {
            Some(IpAddr::V6(Ipv6Addr::from(u128::from(a) & u128::from(m))))
        }
        _ => None,
    }
}

/// Openswan's `escape_metachar`: each of `'` `\` `"` `` ` `` `$` becomes a
/// backslash and its three octal digits (`'` → `\047`). Inside single quotes
/// the shell leaves the sequence alone, so the script sees the escaped text.
pub fn escape_metachar(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\'' | '\\' | '"' | '`' | '$' => out.push_str(&format!("\\{:03o}", u32::from(c))),
            _ => out.push(c),
        }
    }
    out
}

/// Openswan's `addrtot(addr, 0, ...)`: dotted quad for IPv4; for IPv6 the
/// groups in lowercase hex without leading zeros, with the *first* run of
/// two or more zero groups squished to `::` (not the longest run, as RFC
/// 5952 would; IPv4-mapped addresses are not given a dotted tail).
pub fn addrtot(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => normal6(a),
    }
}

/// `addrtot.c` normal6 with squish.
fn normal6(addr: Ipv6Addr) -> String {
    let mut buf = String::from(":");
    for seg in addr.segments() {
        buf.push_str(&format!("{seg:x}:"));
    }
    let Some(q) = buf.find(":0:0:") else {
        // No squishing: strip the initial and the final ':'.
        return buf.trim_matches(':').to_string();
    };
    // Skip every "0:" group of the run, starting after the ':' at q.
    let bytes = buf.as_bytes();
    let mut p = q + 1;
    while bytes.get(p) == Some(&b'0') && bytes.get(p + 1) == Some(&b':') {
        p += 2;
    }
    let mut out = String::with_capacity(buf.len());
    out.push_str(&buf[..=q]);
    out.push(':');
    out.push_str(&buf[p..]);
    if !out.ends_with("::") {
        out.pop(); // the final ':'
    }
    if !out.starts_with("::") {
        out.remove(0); // the initial ':'
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn v4_call(verb: Verb) -> UpdownCall {
        UpdownCall {
            verb,
            conn: "west-east".into(),
            next_hop: Some(ip("192.0.2.254")),
            interface: "ipsec0".into(),
            me: ip("192.0.2.1"),
            my_id: "@west.example.com".into(),
            my_client: Some((ip("10.0.1.0"), 24)),
            my_port: 0,
            my_protocol: 0,
            peer: ip("198.51.100.2"),
            peer_id: "@east.example.com".into(),
            peer_client: Some((ip("10.0.2.0"), 24)),
            peer_port: 0,
            peer_protocol: 0,
            peer_ca: String::new(),
            policy: "PSK+ENCRYPT+TUNNEL+PFS+UP".into(),
            my_sourceip: None,
            script: None,
        }
    }

    #[test]
    fn subnet_to_subnet_route_client_exact() {
        let c = build(&v4_call(Verb::Route)).unwrap();
        assert_eq!(c.verb.to_string(), "route-client");
        assert_eq!(
            c.command,
            "2>&1 PLUTO_VERSION='1.1' PLUTO_VERB='route-client' PLUTO_CONNECTION='west-east' \
             PLUTO_NEXT_HOP='192.0.2.254' PLUTO_INTERFACE='ipsec0' PLUTO_ME='192.0.2.1' \
             PLUTO_MY_ID='@west.example.com' PLUTO_MY_CLIENT='10.0.1.0/24' \
             PLUTO_MY_CLIENT_NET='10.0.1.0' PLUTO_MY_CLIENT_MASK='255.255.255.0' \
             PLUTO_MY_PORT='0' PLUTO_MY_PROTOCOL='0' PLUTO_PEER='198.51.100.2' \
             PLUTO_PEER_ID='@east.example.com' PLUTO_PEER_CLIENT='10.0.2.0/24' \
             PLUTO_PEER_CLIENT_NET='10.0.2.0' PLUTO_PEER_CLIENT_MASK='255.255.255.0' \
             PLUTO_PEER_PORT='0' PLUTO_PEER_PROTOCOL='0' PLUTO_PEER_CA='' \
             PLUTO_CONN_POLICY='PSK+ENCRYPT+TUNNEL+PFS+UP'   ipsec _updown"
        );
    }

    #[test]
    fn host_to_host_without_nexthop_with_sourceip_and_script() {
        let mut call = v4_call(Verb::Up);
        call.my_client = None;
        call.peer_client = None;
        call.next_hop = None;
        call.my_sourceip = Some(ip("10.9.9.9"));
        call.my_port = 1701;
        call.my_protocol = 17;
        call.peer_port = 0;
        call.peer_protocol = 17;
        call.script = Some("/etc/ipsec.d/updown custom:x".into());
        let c = build(&call).unwrap();
        assert_eq!(c.verb.to_string(), "up-host");
        assert_eq!(
            c.command,
            "2>&1 PLUTO_VERSION='1.1' PLUTO_VERB='up-host' PLUTO_CONNECTION='west-east' \
             PLUTO_INTERFACE='ipsec0' PLUTO_ME='192.0.2.1' \
             PLUTO_MY_ID='@west.example.com' PLUTO_MY_CLIENT='192.0.2.1/32' \
             PLUTO_MY_CLIENT_NET='192.0.2.1' PLUTO_MY_CLIENT_MASK='255.255.255.255' \
             PLUTO_MY_PORT='1701' PLUTO_MY_PROTOCOL='17' PLUTO_PEER='198.51.100.2' \
             PLUTO_PEER_ID='@east.example.com' PLUTO_PEER_CLIENT='198.51.100.2/32' \
             PLUTO_PEER_CLIENT_NET='198.51.100.2' PLUTO_PEER_CLIENT_MASK='255.255.255.255' \
             PLUTO_PEER_PORT='0' PLUTO_PEER_PROTOCOL='17' PLUTO_PEER_CA='' \
             PLUTO_CONN_POLICY='PSK+ENCRYPT+TUNNEL+PFS+UP'  PLUTO_MY_SOURCEIP='10.9.9.9' \
             /etc/ipsec.d/updown custom:x"
        );
    }

    #[test]
    fn unspecified_nexthop_and_sourceip_are_omitted() {
        let mut call = v4_call(Verb::Prepare);
        call.next_hop = Some(ip("0.0.0.0"));
        call.my_sourceip = Some(ip("0.0.0.0"));
        let c = build(&call).unwrap().command;
        assert!(!c.contains("PLUTO_NEXT_HOP"), "{c}");
        assert!(!c.contains("PLUTO_MY_SOURCEIP"), "{c}");
        assert!(
            c.contains("PLUTO_CONNECTION='west-east' PLUTO_INTERFACE="),
            "{c}"
        );
    }

    #[test]
    fn host_suffix_rule() {
        let mut call = v4_call(Verb::Down);
        // Client exactly our host address: -host.
        call.my_client = Some((ip("192.0.2.1"), 32));
        assert_eq!(verb_name(&call).to_string(), "down-host");
        // A /32 that is not us: -client.
        call.my_client = Some((ip("192.0.2.7"), 32));
        assert_eq!(verb_name(&call).to_string(), "down-client");
        // Our address but not a /32: -client.
        call.my_client = Some((ip("192.0.2.1"), 31));
        assert_eq!(verb_name(&call).to_string(), "down-client");
        // The peer's client does not matter.
        call.my_client = None;
        call.peer_client = Some((ip("0.0.0.0"), 0));
        assert_eq!(verb_name(&call).to_string(), "down-host");
    }

    #[test]
    fn every_verb_spelling() {
        for (verb, text) in [
            (Verb::Prepare, "prepare-client"),
            (Verb::Route, "route-client"),
            (Verb::Unroute, "unroute-client"),
            (Verb::Up, "up-client"),
            (Verb::Down, "down-client"),
        ] {
            let c = build(&v4_call(verb)).unwrap();
            assert_eq!(c.verb.to_string(), text);
            assert!(c.command.contains(&format!(" PLUTO_VERB='{text}' ")));
            assert_eq!(VerbName::parse(text), Some(c.verb));
        }
        for text in ["up-host-v6", "unroute-client-v6", "prepare-host"] {
            assert_eq!(VerbName::parse(text).unwrap().to_string(), text);
        }
        for bad in [
            "",
            "up",
            "up-v6",
            "up-host-v4",
            "sideways-host",
            "up-hostv6",
        ] {
            assert_eq!(VerbName::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ids_and_ca_are_escaped() {
        let mut call = v4_call(Verb::Route);
        call.my_id = "@o'reilly.example.com".into();
        call.peer_id = "user\"x\\y`z$HOME@example.com".into();
        call.peer_ca = "C=CH, O=Bob's CA".into();
        let c = build(&call).unwrap().command;
        assert!(
            c.contains(" PLUTO_MY_ID='@o\\047reilly.example.com' "),
            "{c}"
        );
        assert!(
            c.contains(" PLUTO_PEER_ID='user\\042x\\134y\\140z\\044HOME@example.com' "),
            "{c}"
        );
        assert!(c.contains(" PLUTO_PEER_CA='C=CH, O=Bob\\047s CA' "), "{c}");
    }

    #[test]
    fn escape_metachar_table() {
        assert_eq!(escape_metachar("'"), "\\047");
        assert_eq!(escape_metachar("\\"), "\\134");
        assert_eq!(escape_metachar("\""), "\\042");
        assert_eq!(escape_metachar("`"), "\\140");
        assert_eq!(escape_metachar("$"), "\\044");
        assert_eq!(escape_metachar("a b;c|d&e*f"), "a b;c|d&e*f");
        assert_eq!(escape_metachar(""), "");
    }

    #[test]
    fn escaped_id_reaches_the_script_as_escaped_text() {
        let mut call = v4_call(Verb::Up);
        call.peer_id = "@it's.$(touch /nonexistent)`x`".into();
        call.script = Some("sh -c 'printf \"%s\\n\" \"$PLUTO_PEER_ID\"'".into());
        let c = build(&call).unwrap().command;
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&c)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "@it\\047s.\\044(touch /nonexistent)\\140x\\140\n"
        );
    }

    #[test]
    fn ipv6_gateways_and_clients() {
        let call = UpdownCall {
            verb: Verb::Route,
            conn: "v6".into(),
            next_hop: Some(ip("fe80::1")),
            interface: "eth0".into(),
            me: ip("2001:db8:0:1::1"),
            my_id: "@a".into(),
            my_client: Some((ip("2001:db8:1:0:ff::"), 64)),
            my_port: 0,
            my_protocol: 0,
            peer: ip("2001:db8:0:2::2"),
            peer_id: "@b".into(),
            peer_client: None,
            peer_port: 0,
            peer_protocol: 0,
            peer_ca: String::new(),
            policy: "RSASIG+ENCRYPT+TUNNEL+PFS".into(),
            my_sourceip: None,
            script: None,
        };
        let c = build(&call).unwrap();
        assert_eq!(c.verb.to_string(), "route-client-v6");
        assert_eq!(
            c.command,
            "2>&1 PLUTO_VERSION='1.1' PLUTO_VERB='route-client-v6' PLUTO_CONNECTION='v6' \
             PLUTO_NEXT_HOP='fe80::1' PLUTO_INTERFACE='eth0' PLUTO_ME='2001:db8:0:1::1' \
             PLUTO_MY_ID='@a' PLUTO_MY_CLIENT='2001:db8:1::/64' \
             PLUTO_MY_CLIENT_NET='2001:db8:1::' PLUTO_MY_CLIENT_MASK='ffff:ffff:ffff:ffff::' \
             PLUTO_MY_PORT='0' PLUTO_MY_PROTOCOL='0' PLUTO_PEER='2001:db8:0:2::2' \
             PLUTO_PEER_ID='@b' PLUTO_PEER_CLIENT='2001:db8:0:2::2/128' \
             PLUTO_PEER_CLIENT_NET='2001:db8:0:2::2' \
             PLUTO_PEER_CLIENT_MASK='ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' \
             PLUTO_PEER_PORT='0' PLUTO_PEER_PROTOCOL='0' PLUTO_PEER_CA='' \
             PLUTO_CONN_POLICY='RSASIG+ENCRYPT+TUNNEL+PFS'   ipsec _updown"
        );
        let mut host = call.clone();
        host.verb = Verb::Unroute;
        host.my_client = Some((ip("2001:db8:0:1::1"), 128));
        assert_eq!(build(&host).unwrap().verb.to_string(), "unroute-host-v6");
    }

    #[test]
    fn addrtot_matches_openswan() {
        for (input, text) in [
            ("1.2.3.0", "1.2.3.0"),
            ("1:2::3:4", "1:2::3:4"),
            ("1:2:0:0:3:4:0:0", "1:2::3:4:0:0"),
            // Openswan squishes the first run, RFC 5952 the longest.
            ("1:0:0:2:0:0:0:3", "1::2:0:0:0:3"),
            ("::", "::"),
            ("::1", "::1"),
            ("1::", "1::"),
            ("1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"),
            ("::ffff:1.2.3.4", "::ffff:102:304"),
            ("2001:DB8::A", "2001:db8::a"),
            ("0:0:1:0:0:0:0:0", "::1:0:0:0:0:0"),
        ] {
            assert_eq!(addrtot(ip(input)), text, "{input}");
        }
    }

    #[test]
    fn masks_and_networks() {
        assert_eq!(mask_of(false, 0), Some(ip("0.0.0.0")));
        assert_eq!(mask_of(false, 1), Some(ip("128.0.0.0")));
        assert_eq!(mask_of(false, 32), Some(ip("255.255.255.255")));
        assert_eq!(mask_of(false, 33), None);
        assert_eq!(mask_of(true, 0), Some(ip("::")));
        assert_eq!(
            mask_of(true, 128),
            Some(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
        );
        assert_eq!(mask_of(true, 129), None);
        assert_eq!(network_of(ip("10.1.2.3"), 16), Some(ip("10.1.0.0")));
        assert_eq!(network_of(ip("10.1.2.3"), 0), Some(ip("0.0.0.0")));
        assert_eq!(network_of(ip("2001:db8::1"), 32), Some(ip("2001:db8::")));
    }

    #[test]
    fn default_route_client_and_bad_prefix() {
        let mut call = v4_call(Verb::Prepare);
        call.peer_client = Some((ip("0.0.0.0"), 0));
        let c = build(&call).unwrap().command;
        assert!(
            c.contains(
                " PLUTO_PEER_CLIENT='0.0.0.0/0' PLUTO_PEER_CLIENT_NET='0.0.0.0' \
                 PLUTO_PEER_CLIENT_MASK='0.0.0.0' "
            ),
            "{c}"
        );
        // A client address with host bits set is printed normalized.
        call.peer_client = Some((ip("10.0.2.77"), 24));
        assert!(build(&call)
            .unwrap()
            .command
            .contains(" PLUTO_PEER_CLIENT='10.0.2.0/24' PLUTO_PEER_CLIENT_NET='10.0.2.0' "));
        call.peer_client = Some((ip("10.0.2.0"), 33));
        let e = build(&call).unwrap_err();
        assert_eq!(
            e.to_string(),
            "prepare-client: invalid peer client prefix length /33"
        );
    }

    #[test]
    fn too_long_is_refused_at_the_buffer_size() {
        let mut call = v4_call(Verb::Route);
        call.script = Some(String::new());
        let base = build(&call).unwrap().command.len();
        call.script = Some("x".repeat(COMMAND_BUF - 1 - base));
        assert_eq!(build(&call).unwrap().command.len(), COMMAND_BUF - 1);
        call.script = Some("x".repeat(COMMAND_BUF - base));
        let e = build(&call).unwrap_err();
        assert_eq!(
            e,
            BuildError::TooLong {
                verb: VerbName {
                    verb: Verb::Route,
                    host: false,
                    v6: false
                },
                len: COMMAND_BUF
            }
        );
        assert_eq!(e.to_string(), "route-client command too long!");
        // Escaping counts: 400 quotes become 1600 bytes.
        let mut call = v4_call(Verb::Up);
        call.peer_id = "'".repeat(400);
        assert_eq!(
            build(&call).unwrap_err().to_string(),
            "up-client command too long!"
        );
    }
}
