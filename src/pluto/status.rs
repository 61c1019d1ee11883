//! `whack --status` (spec §2.10): interfaces, %myid, debug, connections, states,
//! then the public keys on record (the "List of Public Keys" section, which is
//! also all of `whack --listpubkeys`).

use super::conns::policy_text;
use super::daemon::{vname, Daemon};
use crate::ike::StateInfo;
use std::collections::HashMap;
use std::time::Instant;

/// A connection's (or instance's) newest ISAKMP and IPsec SA.
type Newest = (Option<u64>, Option<u64>);

pub fn render(d: &Daemon, now: Instant) -> Vec<String> {
    let mut out = Vec::new();
    for f in &d.ifaces {
        out.push(format!(
            "interface {}/{} {}",
            vname(&f.raw, &d.config),
            f.raw.name,
            f.raw.addr
        ));
    }
    let myid = d
        .myid
        .as_ref()
        .map_or("(none)".to_string(), crate::ident::format_id);
    out.push(format!("%myid = {myid}"));
    out.push(format!("debug {}", crate::ctl::debug_names(d.config.debug)));
    out.push(" ".into());
    let states = d.ep.states();
    // Per connection (and Road Warrior instance), its newest established
    // ISAKMP and IPsec SA, and the states that own an outbound eroute: one
    // pass each over the states, not one per connection.
    let mut newest: HashMap<(&str, Option<u32>), Newest> = HashMap::new();
    for s in states.iter().filter(|s| s.kind.is_established()) {
        let e = newest.entry((s.conn.as_str(), s.instance)).or_default();
        let slot = if s.ipsec { &mut e.1 } else { &mut e.0 };
        *slot = (*slot).max(Some(s.serial));
    }
    let owners = d.ep.eroute_owner_serials();
    for c in d.conns.iter() {
        let n = &c.name;
        let (p1, p2) = newest.get(&(n.as_str(), None)).copied().unwrap_or_default();
        let routing = d.ep.route_story(n).text();
        // A template's eroutes are its instances'.
        let instances = d.ep.instances_of(n);
        let owner = d.ep.eroute_owner(n).filter(|_| instances.is_empty());
        conn_lines(
            &mut out,
            d,
            c,
            &format!("\"{n}\""),
            &c.desc,
            &states,
            (p1, p2),
            routing,
            owner,
        );
        // A template's instances, each with the peer filled in.
        for (k, ip) in instances {
            let mut desc = c.desc.clone();
            if desc.left.host.is_unspecified() {
                desc.left.host = ip;
            } else if desc.right.host.is_unspecified() {
                desc.right.host = ip;
            }
            let (p1, p2) = newest
                .get(&(n.as_str(), Some(k)))
                .copied()
                .unwrap_or_default();
            let owner = p2.filter(|s| owners.contains(s));
            let routing = if owner.is_some() {
                "erouted"
            } else {
                "unrouted"
            };
            conn_lines(
                &mut out,
                d,
                c,
                &format!("\"{n}\"[{k}]"),
                &desc,
                &states,
                (p1, p2),
                routing,
                owner,
            );
        }
    }
    if !d.conns.is_empty() {
        out.push(" ".into());
    }
    let mut sorted: Vec<&StateInfo> = states.iter().collect();
    crate::sort::sort_by(&mut sorted, &mut |a, b| {
        a.conn.cmp(&b.conn).then(b.serial.cmp(&a.serial))
    });
    for s in sorted {
        let (p1, p2) = newest
            .get(&(s.conn.as_str(), s.instance))
            .copied()
            .unwrap_or_default();
        let is_newest = (if s.ipsec { p2 } else { p1 }) == Some(s.serial);
        out.extend(state_lines(s, is_newest, owners.contains(&s.serial), now));
    }
    if !states.is_empty() {
        out.push(" ".into());
    }
    // Openswan ended its status with the keys; without any the section would be
    // only a header, so it is left out (--listpubkeys prints it anyway).
    if !d.pubkeys.is_empty() {
        out.extend(pubkey_lines(d));
    }
    out
}

/// The lines of one connection (or instance) `label`: its topology and
/// routing, lifetimes, policy, DPD and newest SAs.
#[allow(clippy::too_many_arguments)]
fn conn_lines(
    out: &mut Vec<String>,
    d: &Daemon,
    c: &super::conns::Conn,
    label: &str,
    desc: &crate::ctl::Connection,
    states: &[StateInfo],
    (p1, p2): Newest,
    routing: &str,
    owner: Option<u64>,
) {
    let owner = owner.map_or(String::new(), |s| format!("; eroute owner: #{s}"));
    out.push(format!(
        "{label}: {}; {routing}{owner}",
        super::conns::topology(desc)
    ));
    out.push(format!(
        "{label}:   ike_life: {}s; ipsec_life: {}s; rekey_margin: {}s; rekey_fuzz: {}%; keyingtries: {}",
        desc.ike_lifetime, desc.ipsec_lifetime, desc.rekey_margin, desc.rekey_fuzz, desc.keying_tries
    ));
    let up = if c.up { crate::ctl::POLICY_UP } else { 0 };
    let iface = match c.left_is_us {
        Some(true) => iface_name(d, desc.left.host),
        Some(false) => iface_name(d, desc.right.host),
        None => "unset".into(),
    };
    let prio = |e: &crate::ctl::End| {
        e.client
            .map_or(if e.host.is_ipv4() { 32 } else { 128 }, |s| s.prefix)
    };
    let (ours, theirs) = match c.left_is_us {
        Some(false) => (&desc.right, &desc.left),
        _ => (&desc.left, &desc.right),
    };
    let newest_ipsec = p2.and_then(|serial| states.iter().find(|s| s.serial == serial));
    out.push(format!(
        "{label}:   policy: {}; prio: {},{}; interface: {iface}; encap: {};",
        policy_text(desc.policy | up),
        prio(ours),
        prio(theirs),
        encap_text(desc.force_encaps, newest_ipsec)
    ));
    if let Some(dpd) = dpd_text(desc) {
        out.push(format!("{label}:   {dpd}"));
    }
    let show = |s: Option<u64>| s.map_or("unset".to_string(), |v| format!("#{v}"));
    out.push(format!(
        "{label}:   newest ISAKMP SA: {}; newest IPsec SA: {}; ",
        show(p1),
        show(p2)
    ));
}

/// The `encap:` field: `udp` when the connection's ESP goes in UDP
/// (`--forceencaps`, or its newest IPsec SA's ESP is encapsulated), else
/// `esp`.
fn encap_text(force_encaps: bool, newest_ipsec: Option<&StateInfo>) -> &'static str {
    let natt = |s: &StateInfo| s.sa_nat.is_some_and(|n| n.encap);
    if force_encaps || newest_ipsec.is_some_and(natt) {
        "udp"
    } else {
        "esp"
    }
}

/// Openswan's DPD line of a connection with DPD on (its trailing space
/// included): `dpd: action:hold; delay:30; timeout:120; `.
fn dpd_text(c: &crate::ctl::Connection) -> Option<String> {
    if c.dpd_delay == 0 {
        return None;
    }
    let action = match c.dpd_action {
        crate::ctl::DpdAction::Clear => "clear",
        crate::ctl::DpdAction::Hold => "hold",
        crate::ctl::DpdAction::Restart => "restart",
    };
    Some(format!(
        "dpd: action:{action}; delay:{}; timeout:{}; ",
        c.dpd_delay, c.dpd_timeout
    ))
}

/// `List of Public Keys:` and two lines per key: the ID, size and key ID
/// (Openswan's `list_public_keys` layout, without its date and expiry, which
/// keys from whack do not have), then the ID with its type.
pub fn pubkey_lines(d: &Daemon) -> Vec<String> {
    let mut out = vec![
        " ".to_string(),
        "List of Public Keys:".to_string(),
        " ".to_string(),
    ];
    for k in &d.pubkeys {
        let id = crate::ident::format_id(&k.id);
        out.push(format!(
            "       {id}, {} RSA Key {} (no private key)",
            k.key.bits(),
            k.key.keyid()
        ));
        out.push(format!("       ID_{}: {id}", id_type_name(&k.id)));
    }
    out
}

fn id_type_name(id: &crate::ike::wire::Identity) -> &'static str {
    use crate::ike::wire::Identity as I;
    match id {
        I::Ipv4(_) => "IPV4_ADDR",
        I::Ipv6(_) => "IPV6_ADDR",
        I::Fqdn(_) => "FQDN",
        I::UserFqdn(_) => "USER_FQDN",
        I::KeyId(_) => "KEY_ID",
        I::DerAsn1Dn(_) => "DER_ASN1_DN",
        _ => "OTHER",
    }
}

fn iface_name(d: &Daemon, addr: std::net::IpAddr) -> String {
    if let Some(a) = d.ipsec_device(addr) {
        return a.virt.clone();
    }
    d.ifaces
        .iter()
        .find(|f| f.raw.addr == addr)
        .map_or("unset".into(), |f| f.raw.name.clone())
}

/// `; lastdpd=<n>s(seq in:<a> out:<b>)` for an ISAKMP state whose peer
/// does DPD (`-1s` before any DPD message), `; nodpd` otherwise.
fn dpd_part(s: &StateInfo, now: Instant) -> String {
    match &s.dpd {
        Some(d) => {
            let ago = d.last.map_or(-1, |t| {
                i64::try_from(now.saturating_duration_since(t).as_secs()).unwrap_or(i64::MAX)
            });
            format!("; lastdpd={ago}s(seq in:{} out:{})", d.next_seq, d.expect)
        }
        None => "; nodpd".into(),
    }
}

/// The lines of state `s`; `newest`: the newest established SA of its
/// kind of its connection.
/// The connection of state `s` as Openswan named it: `"name"`, or for a
/// Road Warrior instance `"name"[N] 192.0.2.1`.
pub(crate) fn state_name(s: &StateInfo) -> String {
    match s.instance {
        Some(n) => format!("\"{}\"[{n}] {}", s.conn, s.peer.ip()),
        None => format!("\"{}\"", s.conn),
    }
}

fn state_lines(s: &StateInfo, newest: bool, eroute_owner: bool, now: Instant) -> Vec<String> {
    let event = match &s.event {
        Some((name, at)) => format!("{name} in {}s", at.saturating_duration_since(now).as_secs()),
        None => "none in -1s".into(),
    };
    let name = state_name(s);
    let mut line = format!(
        "#{}: {name}:{} {} ({}); {event}",
        s.serial,
        s.peer.port(),
        s.kind.name(),
        s.kind.story()
    );
    if newest {
        line.push_str(if s.ipsec {
            "; newest IPSEC"
        } else {
            "; newest ISAKMP"
        });
    }
    if s.ipsec && eroute_owner {
        line.push_str("; eroute owner");
    }
    if !s.ipsec {
        line.push_str(&dpd_part(s, now));
    }
    let mut v = vec![line];
    if s.ipsec && s.kind.is_established() && !s.saids.is_empty() {
        let saids: Vec<String> = s
            .saids
            .iter()
            .flat_map(|(proto, peer_spi, our_spi)| {
                let p = proto.name().to_ascii_lowercase();
                let p = if p == "ipcomp" { "comp".to_string() } else { p };
                [
                    format!("{p}.{peer_spi:x}@{}", s.peer.ip()),
                    format!("{p}.{our_spi:x}@{}", s.local.ip()),
                ]
            })
            .collect();
        let mut sa_line = format!("#{}: {name} {}", s.serial, saids.join(" "));
        // NAT traversal in use: where the peer's NAT is and its original
        // address, as Openswan appended them.
        if let Some(nat) = s.sa_nat.filter(|n| n.natd.is_some()) {
            sa_line.push_str(&format!(" {nat}"));
        }
        v.push(sa_line);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::state::{Role, StateKind};
    use crate::ike::DpdStatus;
    use std::net::SocketAddr;
    use std::time::Duration;

    fn ipsec_state(local: &str, peer: &str) -> StateInfo {
        StateInfo {
            serial: 2,
            conn: "c".into(),
            kind: StateKind::QuickI2,
            ipsec: true,
            parent: Some(1),
            role: Role::Initiator,
            local: local.parse::<SocketAddr>().unwrap(),
            peer: peer.parse::<SocketAddr>().unwrap(),
            event: None,
            saids: Vec::new(),
            dpd: None,
            dpd_event: None,
            nat: Default::default(),
            sa_nat: None,
            peer_id: None,
            instance: None,
        }
    }

    fn isakmp(dpd: Option<DpdStatus>) -> StateInfo {
        let a = std::net::SocketAddr::from(([192, 0, 2, 1], 500));
        StateInfo {
            serial: 1,
            conn: "c".into(),
            kind: StateKind::MainI4,
            ipsec: false,
            parent: None,
            role: Role::Initiator,
            local: a,
            peer: a,
            event: None,
            saids: Vec::new(),
            dpd,
            dpd_event: None,
            nat: Default::default(),
            sa_nat: None,
            peer_id: None,
            instance: None,
        }
    }

    #[test]
    fn encap_is_udp_when_forced_or_encapsulated() {
        assert_eq!(encap_text(false, None), "esp");
        assert_eq!(encap_text(true, None), "udp");
        let plain = ipsec_state("192.0.2.1:500", "192.0.2.2:500");
        assert_eq!(encap_text(false, Some(&plain)), "esp");
        assert_eq!(encap_text(true, Some(&plain)), "udp");
        // Across a NAT but with a plain mode (as Openswan allowed): esp.
        let mut natt = ipsec_state("192.0.2.1:4500", "198.51.100.7:31337");
        let peer = "198.51.100.7:31337".parse().ok();
        natt.sa_nat = Some(crate::ike::natt::SaNatInfo {
            encap: false,
            oa: None,
            natd: peer,
        });
        assert_eq!(encap_text(false, Some(&natt)), "esp");
        natt.sa_nat = natt
            .sa_nat
            .map(|n| crate::ike::natt::SaNatInfo { encap: true, ..n });
        assert_eq!(encap_text(false, Some(&natt)), "udp");
        let lines = state_lines(&natt, false, false, Instant::now());
        assert_eq!(lines.len(), 1, "no SAIDs, no SA line: {lines:?}");
        natt.saids = vec![(crate::ike::kernel::IpsecProto::Esp, 0x1234, 0x5678)];
        let lines = state_lines(&natt, false, false, Instant::now());
        assert_eq!(
            lines[1],
            "#2: \"c\" esp.1234@198.51.100.7 esp.5678@192.0.2.1 NATOA=none NATD=198.51.100.7:31337"
        );
    }

    #[test]
    fn road_warrior_instances_are_named_with_number_and_peer() {
        let mut s = ipsec_state("192.0.2.2:500", "198.51.100.7:500");
        s.kind = StateKind::QuickR2;
        s.instance = Some(3);
        s.saids = vec![(crate::ike::kernel::IpsecProto::Esp, 0x1234, 0x5678)];
        let lines = state_lines(&s, true, true, Instant::now());
        assert!(
            lines[0]
                .starts_with("#2: \"c\"[3] 198.51.100.7:500 STATE_QUICK_R2 (IPsec SA established)"),
            "{lines:?}"
        );
        assert!(
            lines[0].ends_with("; newest IPSEC; eroute owner"),
            "{lines:?}"
        );
        assert_eq!(
            lines[1],
            "#2: \"c\"[3] 198.51.100.7 esp.1234@198.51.100.7 esp.5678@192.0.2.2"
        );
        s.instance = None;
        assert!(state_lines(&s, false, false, Instant::now())[0].starts_with("#2: \"c\":500 "));
    }

    #[test]
    fn dpd_line_only_with_dpd_on() {
        let mut c = crate::ctl::Connection::default();
        assert_eq!(dpd_text(&c), None);
        c.dpd_delay = 30;
        c.dpd_timeout = 120;
        assert_eq!(
            dpd_text(&c).as_deref(),
            Some("dpd: action:clear; delay:30; timeout:120; ")
        );
        c.dpd_action = crate::ctl::DpdAction::Hold;
        assert_eq!(
            dpd_text(&c).as_deref(),
            Some("dpd: action:hold; delay:30; timeout:120; ")
        );
        c.dpd_action = crate::ctl::DpdAction::Restart;
        c.dpd_delay = 5;
        c.dpd_timeout = 15;
        assert_eq!(
            dpd_text(&c).as_deref(),
            Some("dpd: action:restart; delay:5; timeout:15; ")
        );
    }

    #[test]
    fn isakmp_lines_show_the_last_dpd_or_nodpd() {
        let now = Instant::now() + Duration::from_secs(100);
        let asked = DpdStatus {
            last: Some(now - Duration::from_secs(7)),
            next_seq: 1235,
            expect: 1234,
        };
        let never = DpdStatus {
            last: None,
            next_seq: 0,
            expect: 0,
        };
        let line = |d| state_lines(&isakmp(d), false, false, now).remove(0);
        assert!(line(Some(asked)).ends_with("; lastdpd=7s(seq in:1235 out:1234)"));
        assert!(line(Some(never)).ends_with("; lastdpd=-1s(seq in:0 out:0)"));
        assert!(line(None).ends_with("; nodpd"));
    }
}
