//! pluto's connection database: whack's descriptions, which end is us, and
//! the engine's view of them once oriented.

use super::algs;
use crate::ctl::{self, Rc};
use crate::ident::{parse_id, IdSpec};
use crate::ike::config::{ConnConfig, Dpd, DpdAction, End, Policy, Virtual, VirtualNet};
use crate::ike::kernel::{PolicyAction, Selector};
use crate::ike::proposal::AuthMethod;
use crate::ike::wire::Identity;
use crate::text::{ttosubnet, ttovirtual};
use std::net::IpAddr;

pub struct Conn {
    pub name: String,
    pub desc: ctl::Connection,
    /// `Some(true)`: the left end is us. `None`: not oriented (no local interface matches).
    pub left_is_us: Option<bool>,
    /// The engine has this connection loaded.
    pub loaded: bool,
    /// `--initiate` asked for it to be up (`UP` in the status policy).
    pub up: bool,
}

/// A refusal with the reply code whack shows.
pub type Refusal = (Rc, String);

fn end_to_engine(
    e: &ctl::End,
    family: ctl::AddrFamily,
    myid: Option<&Identity>,
) -> Result<End, Refusal> {
    let host = (!e.host.is_unspecified()).then_some(e.host);
    let id = match e.id.as_deref() {
        None => None,
        Some(text) => match parse_id(text) {
            Ok(IdSpec::Id(id)) => Some(id),
            Ok(IdSpec::Any) => None,
            Ok(IdSpec::MyId) => myid.cloned(),
            Err(err) => return Err((Rc::BadId, format!("bad --id {text}: {err}"))),
        },
    };
    let client = e.client.map(|s| Selector {
        addr: s.addr,
        prefix: s.prefix,
        protocol: e.protocol,
        port: e.port,
    });
    let virt = match e.virt.as_deref() {
        None => None,
        Some(text) => {
            // Openswan's rule: the peer's client is whatever it proposes
            // within these limits, so the end has no address and no client.
            if host.is_some() || client.is_some() {
                return Err((
                    Rc::Clash,
                    format!(
                        "virtual client {text}: a virtual client is only allowed for a %any peer without --client"
                    ),
                ));
            }
            Some(parse_virtual(text, family).map_err(|e| (Rc::Clash, e))?)
        }
    };
    Ok(End {
        host,
        port: e.ikeport,
        id,
        client,
        virt,
    })
}

/// `--client vhost:…`/`vnet:…` (Openswan's `create_virtual`): `vhost:`
/// accepts only single addresses, `vnet:` networks too; the list names
/// which: `%no` (the peer's own address), `%priv` (pluto's
/// `--virtual_private`), `%all`, and networks as `%v4:10.0.0.0/8`,
/// `%v6:fd00::/8` or, unlike Openswan, plain `10.0.0.0/8`. `family` is
/// the connection's client address family (`--tunnelipv4`/`--tunnelipv6`).
pub fn parse_virtual(text: &str, family: ctl::AddrFamily) -> Result<Virtual, String> {
    let (host_only, list) = if let Some(list) = text.strip_prefix("vhost:") {
        (true, list)
    } else if let Some(list) = text.strip_prefix("vnet:") {
        (false, list)
    } else {
        return Err(format!(
            "virtual client {text} must start with vhost: or vnet:"
        ));
    };
    if list.is_empty() {
        return Err(format!(
            "virtual client {text} allows nothing: give %no, %priv, %all or networks"
        ));
    }
    let mut nets = Vec::new();
    for item in list.split(',') {
        let net = match item {
            "%no" => VirtualNet::NoClient,
            "%priv" => VirtualNet::Private,
            "%all" => VirtualNet::All,
            "" => return Err(format!("virtual client {text} has an empty item")),
            // Listed by Openswan, implemented by none of its 2.x releases.
            "%dhcp" | "%ike" => {
                return Err(format!(
                    "{item} in virtual client {text} is not implemented by rswan yet"
                ))
            }
            _ => virtual_net(item, family)
                .map_err(|e| format!("bad \"{item}\" in virtual client {text}: {e}"))?,
        };
        nets.push(net);
    }
    Ok(Virtual { host_only, nets })
}

/// One network of a virtual client: `%v4:net`, `%v6:net` or a plain `net`.
fn virtual_net(item: &str, family: ctl::AddrFamily) -> Result<VirtualNet, &'static str> {
    let s = if item.starts_with("%v4:") || item.starts_with("%v6:") {
        match ttovirtual(item)? {
            (true, _) => return Err("exclusions (!) belong in pluto's --virtual_private"),
            (false, s) => s,
        }
    } else if item.starts_with('%') {
        return Err("not one of %no, %priv, %all, %v4:<network>, %v6:<network>");
    } else if item.starts_with('!') {
        return Err("exclusions (!) belong in pluto's --virtual_private");
    } else if item.contains(':') {
        ttosubnet(item, ctl::AddrFamily::Ipv6)?
    } else {
        ttosubnet(item, ctl::AddrFamily::Ipv4)?
    };
    if s.addr.is_ipv4() != (family == ctl::AddrFamily::Ipv4) {
        return Err("not of the connection's client address family");
    }
    Ok(VirtualNet::Net {
        addr: s.addr,
        prefix: s.prefix,
    })
}

/// The first option of `c` that rswan does not implement, named as whack
/// spells it. whack refuses these itself; pluto checks again so that no
/// message gets a connection added without what it asks for.
pub fn not_implemented(c: &ctl::Connection) -> Option<&'static str> {
    const POLICIES: &[(u64, &str)] = &[
        (ctl::POLICY_AGGRESSIVE, "--aggrmode"),
        (ctl::POLICY_MODECFG_PULL, "--modecfgpull"),
        (ctl::POLICY_DISABLEARRIVALCHECK, "--disablearrivalcheck"),
        (
            ctl::POLICY_OPPO | ctl::POLICY_GROUP,
            "--host %opportunisticgroup",
        ),
        (ctl::POLICY_GROUP, "--host %group"),
    ];
    if let Some((_, opt)) = POLICIES.iter().find(|(bits, _)| c.policy & bits == *bits) {
        return Some(opt);
    }
    [&c.left, &c.right].into_iter().find_map(|e| {
        [
            (e.cert.is_some(), "--cert"),
            (e.ca.is_some(), "--ca"),
            (e.groups.is_some(), "--groups"),
            (e.client_wildcard, "--clientwithin"),
            (e.sendcert.is_some(), "--sendcert"),
            (e.certtype.is_some(), "--certtype"),
            (e.xauth_server, "--xauthserver"),
            (e.xauth_client, "--xauthclient"),
            (e.modecfg_server, "--modecfgserver"),
            (e.modecfg_client, "--modecfgclient"),
        ]
        .into_iter()
        .find_map(|(on, opt)| on.then_some(opt))
    })
}

/// `--dpddelay`/`--dpdtimeout`/`--dpdaction`: DPD is on with a delay, and
/// then needs a timeout (whack insists on both or neither; so does pluto).
fn dpd_of(c: &ctl::Connection) -> Result<Option<Dpd>, Refusal> {
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    match (c.dpd_delay, c.dpd_timeout) {
        (0, 0) => Ok(None),
        (0, _) => Err((
            Rc::Clash,
            "dpdtimeout specified, but dpddelay is zero, both should be specified".into(),
        )),
        (_, 0) => Err((
            Rc::Clash,
            "dpddelay specified, but dpdtimeout is zero, both should be specified".into(),
        )),
        (delay, timeout) => Ok(Some(Dpd {
            delay: clamp(delay),
            timeout: clamp(timeout),
            action: match c.dpd_action {
                ctl::DpdAction::Clear => DpdAction::Clear,
                ctl::DpdAction::Hold => DpdAction::Hold,
                ctl::DpdAction::Restart => DpdAction::Restart,
            },
        })),
    }
}

pub fn policy_of(bits: u64) -> Policy {
    Policy {
        psk: bits & ctl::POLICY_PSK != 0,
        rsasig: bits & ctl::POLICY_RSASIG != 0,
        encrypt: bits & ctl::POLICY_ENCRYPT != 0,
        authenticate: bits & ctl::POLICY_AUTHENTICATE != 0,
        compress: bits & ctl::POLICY_COMPRESS != 0,
        tunnel: bits & ctl::POLICY_TUNNEL != 0,
        pfs: bits & ctl::POLICY_PFS != 0,
        dont_rekey: bits & ctl::POLICY_DONT_REKEY != 0,
        shunt: PolicyAction::from_field(
            (bits & ctl::POLICY_SHUNT_MASK) >> ctl::POLICY_SHUNT_SHIFT,
            false,
        )
        .unwrap_or(PolicyAction::Ipsec),
        failure_shunt: PolicyAction::from_field(
            (bits & ctl::POLICY_FAIL_MASK) >> ctl::POLICY_FAIL_SHIFT,
            true,
        ),
        opportunistic: bits & ctl::POLICY_OPPO != 0,
    }
}

/// The engine's connection for `c` seen from the end that is us.
pub fn to_engine(
    name: &str,
    c: &ctl::Connection,
    left_is_us: bool,
    myid: Option<&Identity>,
) -> Result<ConnConfig, Refusal> {
    let (us, them) = if left_is_us {
        (&c.left, &c.right)
    } else {
        (&c.right, &c.left)
    };
    if let Some(opt) = not_implemented(c) {
        return Err((
            Rc::BadWhackMessage,
            format!("{opt} is not implemented by rswan yet"),
        ));
    }
    let family = c.tunnel_addr_family;
    let local = end_to_engine(us, family, myid)?;
    let remote = end_to_engine(them, family, myid)?;
    let policy = policy_of(c.policy);
    let mut cfg = ConnConfig::new(name, local, remote, policy);
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    cfg.ike_lifetime = clamp(c.ike_lifetime);
    cfg.ipsec_lifetime = clamp(c.ipsec_lifetime);
    cfg.rekey_margin = clamp(c.rekey_margin);
    cfg.rekey_fuzz = clamp(c.rekey_fuzz);
    cfg.keying_tries = clamp(c.keying_tries);
    cfg.dpd = dpd_of(c)?;
    cfg.force_encaps = c.force_encaps;
    // On our own end it asks for nothing: we sign with ipsec.secrets' key.
    cfg.key_from_dns = them.dns_key_on_demand;
    let mut auths = Vec::new();
    if policy.rsasig {
        auths.push(AuthMethod::RsaSig);
    }
    if policy.psk || !policy.rsasig {
        auths.push(AuthMethod::Psk);
    }
    if let Some(ike) = &c.ike {
        cfg.ike = algs::parse_ike(ike, &auths, cfg.ike_lifetime).map_err(|e| (Rc::NoAlgo, e))?;
    }
    if let Some(esp) = &c.esp {
        cfg.esp = algs::parse_esp(esp).map_err(|e| (Rc::NoAlgo, e))?;
    }
    if let Some(g) = &c.pfsgroup {
        cfg.pfs_group = Some(algs::group(g).map_err(|e| (Rc::NoAlgo, e))?);
    }
    Ok(cfg)
}

/// Which end is us, given our interface addresses.
pub fn orient(c: &ctl::Connection, ours: &[IpAddr]) -> Result<Option<bool>, String> {
    let l = ours.contains(&c.left.host);
    let r = ours.contains(&c.right.host);
    match (l, r) {
        (true, true) => Err(format!("both sides are our interface {}", c.left.host)),
        (true, false) => Ok(Some(true)),
        (false, true) => Ok(Some(false)),
        (false, false) => Ok(None),
    }
}

/// The POLICY_* names joined with `+` (status `policy:` line).
pub fn policy_text(bits: u64) -> String {
    const NAMES: &[(u64, &str)] = &[
        (ctl::POLICY_PSK, "PSK"),
        (ctl::POLICY_RSASIG, "RSASIG"),
        (ctl::POLICY_ENCRYPT, "ENCRYPT"),
        (ctl::POLICY_AUTHENTICATE, "AUTHENTICATE"),
        (ctl::POLICY_COMPRESS, "COMPRESS"),
        (ctl::POLICY_TUNNEL, "TUNNEL"),
        (ctl::POLICY_PFS, "PFS"),
        (ctl::POLICY_DISABLEARRIVALCHECK, "DISABLEARRIVALCHECK"),
        (ctl::POLICY_DONT_REKEY, "DONTREKEY"),
        (ctl::POLICY_OPPO, "OPPORTUNISTIC"),
        (ctl::POLICY_GROUP, "GROUP"),
        (ctl::POLICY_GROUTED, "GROUTED"),
        (ctl::POLICY_UP, "UP"),
        (ctl::POLICY_MODECFG_PULL, "MODECFGPULL"),
        (ctl::POLICY_AGGRESSIVE, "AGGRESSIVE"),
    ];
    let mut v: Vec<String> = NAMES
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    match bits & ctl::POLICY_SHUNT_MASK {
        ctl::POLICY_SHUNT_PASS => v.push("PASS".into()),
        ctl::POLICY_SHUNT_DROP => v.push("DROP".into()),
        ctl::POLICY_SHUNT_REJECT => v.push("REJECT".into()),
        _ => {}
    }
    match bits & ctl::POLICY_FAIL_MASK {
        ctl::POLICY_FAIL_PASS => v.push("failurePASS".into()),
        ctl::POLICY_FAIL_DROP => v.push("failureDROP".into()),
        ctl::POLICY_FAIL_REJECT => v.push("failureREJECT".into()),
        _ => {}
    }
    if ctl::never_negotiate(bits) {
        v.push("NEVER_NEGOTIATE".into());
    }
    if v.is_empty() {
        "none".into()
    } else {
        v.join("+")
    }
}

fn end_text(e: &ctl::End, other_host: IpAddr, left: bool) -> String {
    let host = if e.host.is_unspecified() && e.virt.is_some() {
        "%virtual".to_string()
    } else if e.host.is_unspecified() {
        "%any".to_string()
    } else {
        e.host.to_string()
    };
    let mut h = host;
    if e.ikeport != ctl::IKE_UDP_PORT {
        h.push_str(&format!(":{}", e.ikeport));
    }
    if let Some(id) = e.id.as_deref().filter(|id| *id != e.host.to_string()) {
        h.push_str(&format!("[{id}]"));
    }
    if e.protocol != 0 || e.port != 0 {
        h.push_str(&format!(":{}/{}", e.protocol, e.port));
    }
    let client = e.client.map(|c| c.to_string());
    let hop =
        (!e.nexthop.is_unspecified() && e.nexthop != other_host).then(|| e.nexthop.to_string());
    if left {
        let mut s = client.map_or(String::new(), |c| format!("{c}==="));
        s.push_str(&h);
        if let Some(n) = hop {
            s.push_str(&format!("---{n}"));
        }
        s
    } else {
        let mut s = hop.map_or(String::new(), |n| format!("{n}---"));
        s.push_str(&h);
        if let Some(c) = client {
            s.push_str(&format!("==={c}"));
        }
        s
    }
}

/// `left...right` as the status output draws a connection.
pub fn topology(c: &ctl::Connection) -> String {
    format!(
        "{}...{}",
        end_text(&c.left, c.right.host, true),
        end_text(&c.right, c.left.host, false)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctl::AddrFamily::{Ipv4, Ipv6};
    use crate::ike::config::VirtualNet::{All, Net, NoClient, Private};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// A gateway 192.0.2.1 (left) and a road warrior (%any, right) behind
    /// a NAT, with PSK and ESP.
    fn road_warrior(virt: Option<&str>) -> ctl::Connection {
        let mut c = ctl::Connection {
            policy: ctl::POLICY_PSK | ctl::POLICY_ENCRYPT | ctl::POLICY_TUNNEL,
            ..ctl::Connection::default()
        };
        c.left.host = ip("192.0.2.1");
        c.left.client = ctl::Subnet::new(ip("10.1.0.0"), 16);
        c.right.virt = virt.map(str::to_string);
        c
    }

    fn refusal(c: &ctl::Connection) -> Refusal {
        to_engine("rw", c, true, None).expect_err("a refusal")
    }

    #[test]
    fn virtual_clients_parse_as_openswan_wrote_them() {
        let net = |a: &str, prefix| Net {
            addr: ip(a),
            prefix,
        };
        let cases: &[(&str, bool, &[VirtualNet])] = &[
            ("vhost:%no,%priv", true, &[NoClient, Private]),
            ("vnet:%all", false, &[All]),
            (
                "vnet:%priv,%v4:10.0.0.0/8",
                false,
                &[Private, net("10.0.0.0", 8)],
            ),
            (
                "vnet:10.0.0.0/8,%priv",
                false,
                &[net("10.0.0.0", 8), Private],
            ),
            (
                "vhost:%v4:192.168.0.0/255.255.0.0",
                true,
                &[net("192.168.0.0", 16)],
            ),
            ("vnet:10.1.2.3/16", false, &[net("10.1.0.0", 16)]),
        ];
        for (text, host_only, nets) in cases {
            assert_eq!(
                parse_virtual(text, Ipv4),
                Ok(Virtual {
                    host_only: *host_only,
                    nets: nets.to_vec()
                }),
                "{text}"
            );
        }
        assert_eq!(
            parse_virtual("vnet:%v6:fd00::/8,%no", Ipv6),
            Ok(Virtual {
                host_only: false,
                nets: vec![net("fd00::", 8), NoClient]
            })
        );
    }

    #[test]
    fn bad_virtual_clients_are_refused_with_the_reason() {
        let cases: &[(&str, &str)] = &[
            ("%priv", "virtual client %priv must start with vhost: or vnet:"),
            ("vhosts:%no", "virtual client vhosts:%no must start with vhost: or vnet:"),
            (
                "vhost:",
                "virtual client vhost: allows nothing: give %no, %priv, %all or networks",
            ),
            (
                "vnet:%no,,%priv",
                "virtual client vnet:%no,,%priv has an empty item",
            ),
            ("vhost:%no,", "virtual client vhost:%no, has an empty item"),
            (
                "vnet:%private",
                "bad \"%private\" in virtual client vnet:%private: not one of %no, %priv, %all, %v4:<network>, %v6:<network>",
            ),
            (
                "vhost:%dhcp",
                "%dhcp in virtual client vhost:%dhcp is not implemented by rswan yet",
            ),
            (
                "vnet:%v4:!10.1.0.0/16",
                "bad \"%v4:!10.1.0.0/16\" in virtual client vnet:%v4:!10.1.0.0/16: exclusions (!) belong in pluto's --virtual_private",
            ),
            (
                "vnet:%v4:10.0.0.0",
                "bad \"%v4:10.0.0.0\" in virtual client vnet:%v4:10.0.0.0: no / in subnet specification",
            ),
            (
                "vnet:%v4:10.0.0.0/33",
                "bad \"%v4:10.0.0.0/33\" in virtual client vnet:%v4:10.0.0.0/33: subnet mask bit count too large",
            ),
            (
                "vnet:%v6:fd00::/8",
                "bad \"%v6:fd00::/8\" in virtual client vnet:%v6:fd00::/8: not of the connection's client address family",
            ),
            (
                "vnet:%v4:",
                "bad \"%v4:\" in virtual client vnet:%v4:: empty string",
            ),
        ];
        for (text, why) in cases {
            assert_eq!(parse_virtual(text, Ipv4), Err(why.to_string()), "{text}");
        }
    }

    #[test]
    fn virtual_client_reaches_the_engine_on_the_peer_end() {
        let c = road_warrior(Some("vhost:%no,%priv"));
        let cfg = to_engine("rw", &c, true, None).unwrap();
        assert_eq!(cfg.local.virt, None);
        assert_eq!(
            cfg.remote.virt,
            Some(Virtual {
                host_only: true,
                nets: vec![NoClient, Private]
            })
        );
        assert_eq!((cfg.remote.host, cfg.remote.client), (None, None));
        // The same description seen from a host that is the right end
        // (a %any end never is, but the checks must not depend on it).
        let cfg = to_engine("rw", &c, false, None).unwrap();
        assert!(cfg.local.virt.is_some() && cfg.remote.virt.is_none());
        // Without a virtual client: none.
        let cfg = to_engine("rw", &road_warrior(None), true, None).unwrap();
        assert_eq!(cfg.remote.virt, None);
        assert_eq!(
            topology(&road_warrior(Some("vnet:%all"))),
            "10.1.0.0/16===192.0.2.1...%virtual"
        );
    }

    #[test]
    fn virtual_client_needs_a_wildcard_peer_without_client() {
        let mut c = road_warrior(Some("vhost:%priv"));
        c.right.host = ip("198.51.100.7");
        assert_eq!(
            refusal(&c),
            (
                Rc::Clash,
                "virtual client vhost:%priv: a virtual client is only allowed for a %any peer without --client"
                    .into()
            )
        );
        let mut c = road_warrior(Some("vhost:%priv"));
        c.right.client = ctl::Subnet::new(ip("10.9.0.0"), 16);
        assert_eq!(refusal(&c).0, Rc::Clash);
        let c = road_warrior(Some("vnet:%bogus"));
        assert_eq!(refusal(&c).0, Rc::Clash);
        assert!(refusal(&c).1.contains("%bogus"), "{:?}", refusal(&c));
    }

    #[test]
    fn dpd_and_forceencaps_reach_the_engine() {
        let cfg = to_engine("rw", &road_warrior(None), true, None).unwrap();
        assert_eq!((cfg.dpd, cfg.force_encaps), (None, false));
        let actions = [
            (ctl::DpdAction::Clear, DpdAction::Clear),
            (ctl::DpdAction::Hold, DpdAction::Hold),
            (ctl::DpdAction::Restart, DpdAction::Restart),
        ];
        for (ours, engine) in actions {
            let mut c = road_warrior(None);
            c.dpd_delay = 30;
            c.dpd_timeout = 120;
            c.dpd_action = ours;
            c.force_encaps = true;
            let cfg = to_engine("rw", &c, true, None).unwrap();
            assert_eq!(
                cfg.dpd,
                Some(Dpd {
                    delay: 30,
                    timeout: 120,
                    action: engine
                })
            );
            assert!(cfg.force_encaps);
        }
        // Values past u32 are clamped, not wrapped.
        let mut c = road_warrior(None);
        c.dpd_delay = u64::MAX;
        c.dpd_timeout = 1 << 40;
        let dpd = to_engine("rw", &c, true, None).unwrap().dpd.unwrap();
        assert_eq!((dpd.delay, dpd.timeout), (u32::MAX, u32::MAX));
        // One without the other is refused, as whack does.
        let mut c = road_warrior(None);
        c.dpd_delay = 30;
        assert_eq!(
            refusal(&c),
            (
                Rc::Clash,
                "dpddelay specified, but dpdtimeout is zero, both should be specified".into()
            )
        );
        let mut c = road_warrior(None);
        c.dpd_timeout = 30;
        assert_eq!(refusal(&c).0, Rc::Clash);
    }

    #[test]
    fn options_not_implemented_are_refused() {
        type Set = fn(&mut ctl::Connection);
        let cases: &[(Set, &str)] = &[
            (|c| c.policy |= ctl::POLICY_AGGRESSIVE, "--aggrmode"),
            (|c| c.policy |= ctl::POLICY_MODECFG_PULL, "--modecfgpull"),
            (
                |c| c.policy |= ctl::POLICY_DISABLEARRIVALCHECK,
                "--disablearrivalcheck",
            ),
            (|c| c.policy |= ctl::POLICY_GROUP, "--host %group"),
            (
                |c| c.policy |= ctl::POLICY_GROUP | ctl::POLICY_OPPO,
                "--host %opportunisticgroup",
            ),
            (|c| c.left.cert = Some("w.pem".into()), "--cert"),
            (|c| c.right.ca = Some("%same".into()), "--ca"),
            (|c| c.left.groups = Some("g".into()), "--groups"),
            (|c| c.right.client_wildcard = true, "--clientwithin"),
            (
                |c| c.left.sendcert = Some(ctl::SendCert::Always),
                "--sendcert",
            ),
            (|c| c.left.certtype = Some(2), "--certtype"),
            (|c| c.left.xauth_server = true, "--xauthserver"),
            (|c| c.right.xauth_client = true, "--xauthclient"),
            (|c| c.left.modecfg_server = true, "--modecfgserver"),
            (|c| c.right.modecfg_client = true, "--modecfgclient"),
        ];
        assert_eq!(not_implemented(&road_warrior(None)), None);
        for (set, opt) in cases {
            let mut c = road_warrior(None);
            set(&mut c);
            assert_eq!(not_implemented(&c), Some(*opt));
            assert_eq!(
                refusal(&c),
                (
                    Rc::BadWhackMessage,
                    format!("{opt} is not implemented by rswan yet")
                )
            );
        }
        // What is being implemented is not refused.
        let mut c = road_warrior(Some("vnet:%priv"));
        c.force_encaps = true;
        c.dpd_delay = 10;
        c.dpd_timeout = 30;
        assert_eq!(not_implemented(&c), None);
    }
}
