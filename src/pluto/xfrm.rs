//! pluto's kernel backend for Linux XFRM over netlink (what Openswan 2.x's
//! NETKEY, libreswan and strongSwan speak): SPIs from XFRM_MSG_ALLOCSPI,
//! SAs with UPDSA (inbound, completing the larval SA, and every change of
//! an installed SA) and NEWSA (outbound), ESP in UDP with XFRMA_ENCAP, SA
//! counters from GETSA, policies with UPDPOLICY/DELPOLICY, ACQUIRE, EXPIRE
//! and NAT MAPPING from the multicast groups. It works on kernels without
//! af_key.
//!
//! Like the PF_KEY backend it never waits: requests go out with fresh
//! sequence numbers, answers are matched when the event loop finds the
//! socket readable, and an install batch is reported once every part is
//! answered (refused parts make it take back what went in).

use super::kernel::{KernelBackend, KernelEvent, KernelOutput, ICMPV6, ND_PRIORITY, ND_TYPES};
use super::requests::{Answer, Instead, Pending, Requests};
use crate::ike::kernel::{
    Acquire, IpsecProto, KernelOp, Mode, NatMapping, PolicyAction, PolicySpec, SaInstall, Selector,
};
use crate::pfkey::KernelErrorKind;
use crate::xfrm::build::{self, AlgKey, AuthKey, Tmpl};
use crate::xfrm::consts::*;
use crate::xfrm::wire::{Addr, EncapTmpl, Selector as XfrmSelector};
use crate::xfrm::{Attr, Body, Message, XfrmError, XfrmSocket};
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::AsRawFd;

pub struct Xfrm {
    /// Requests and their answers.
    sock: XfrmSocket,
    /// Member of the ACQUIRE and EXPIRE groups.
    events: XfrmSocket,
    requests: Requests<Message>,
}

fn proto_number(p: IpsecProto) -> u8 {
    build::proto_number(p)
}

fn proto_of(n: u8) -> Option<IpsecProto> {
    match n {
        IPPROTO_ESP => Some(IpsecProto::Esp),
        IPPROTO_AH => Some(IpsecProto::Ah),
        IPPROTO_COMP => Some(IpsecProto::Ipcomp),
        _ => None,
    }
}

fn xfrm_selector(src: &Selector, dst: &Selector) -> XfrmSelector {
    XfrmSelector::new(src.addr, src.prefix, dst.addr, dst.prefix)
        .with_proto(src.protocol.max(dst.protocol))
        .with_ports(src.port, dst.port)
}

/// The SA message for `sa`: UPDSA with `update` (an inbound SA completes
/// the larval one ALLOCSPI made; an installed SA gets new parameters),
/// else NEWSA. A transport-mode SA carries the traffic selector of its
/// hosts; a tunnel's SA (and ESP or AH inside an IPCOMP tunnel) matches
/// what its policy sends it, as strongSwan installs them.
fn sa_message(sa: &SaInstall, update: bool) -> Message {
    let mut spec = build::SaSpec::new(proto_number(sa.proto), sa.spi, sa.src, sa.dst);
    // With IPCOMP the IPCOMP SA carries the tunnel (it is the first
    // template of the policy); ESP and AH inside it are transport.
    let inner = sa.proto != IpsecProto::Ipcomp && sa.group.contains(&IpsecProto::Ipcomp);
    spec.mode = if sa.mode == Mode::Tunnel && !inner {
        XFRM_MODE_TUNNEL
    } else {
        XFRM_MODE_TRANSPORT
    };
    spec.reqid = sa.reqid;
    spec.replay_window = if sa.proto == IpsecProto::Ipcomp {
        0
    } else {
        32
    };
    if sa.mode == Mode::Transport && !inner {
        spec.selector = Some(xfrm_selector(&sa.src_sel, &sa.dst_sel));
    }
    if spec.mode == XFRM_MODE_TUNNEL {
        // Any traffic of the tunnel's family (see `foreign_traffic_family`).
        if let Some(any) = sa.foreign_traffic_family() {
            spec.selector = Some(XfrmSelector::new(any, 0, any, 0));
        }
    }
    spec.auth = sa.integ.as_ref().map(|(alg, key)| {
        let (name, trunc_bits) = build::integ_name(*alg);
        AuthKey {
            name: name.to_string(),
            key: key.clone(),
            trunc_bits,
        }
    });
    spec.crypt = sa.encrypt.as_ref().map(|(alg, key)| AlgKey {
        name: build::cipher_name(*alg).to_string(),
        key: key.clone(),
    });
    spec.comp = sa.compress.map(|_| "deflate".to_string());
    spec.encap = sa.encap.map(|e| EncapTmpl {
        encap_type: UDP_ENCAP_ESPINUDP,
        sport: e.sport,
        dport: e.dport,
        oa: e.oa.map_or(Addr::ZERO, Addr::from),
    });
    spec.if_id = sa.if_id;
    // The kernel's soft EXPIRE is the engine's replace time; its hard one a
    // safety net after the engine's own expiry.
    spec.lifetimes.soft_add_secs = sa.soft_secs.map_or(0, u64::from);
    spec.lifetimes.hard_add_secs = u64::from(sa.lifetime_secs) + 60;
    if update {
        build::update_sa(&spec)
    } else {
        build::new_sa(&spec)
    }
}

/// The templates of an IPsec policy, innermost first (IPCOMP, ESP, AH):
/// the first carries the tunnel. Inbound, IPCOMP is optional (the peer
/// sends small packets uncompressed).
fn templates(p: &PolicySpec) -> Vec<Tmpl> {
    let mut out: Vec<Tmpl> = Vec::new();
    for proto in [IpsecProto::Ipcomp, IpsecProto::Esp, IpsecProto::Ah] {
        if !p.protos.contains(proto) {
            continue;
        }
        let mut t = if out.is_empty() && p.mode == Mode::Tunnel {
            Tmpl::tunnel(proto_number(proto), p.src_gw, p.dst_gw, p.reqid)
        } else {
            Tmpl::new(proto_number(proto), XFRM_MODE_TRANSPORT, p.reqid)
        };
        t.optional = proto == IpsecProto::Ipcomp && p.inbound;
        out.push(t);
    }
    out
}

/// The messages that install (`add`) or remove the policies of `p`:
/// outbound, or inbound and forward, each with what it is for logs.
fn policy_messages(p: &PolicySpec, add: bool) -> Vec<(String, Message)> {
    let sel = xfrm_selector(&p.src_sel, &p.dst_sel);
    let dirs: &[(u8, &str)] = if p.inbound {
        &[(XFRM_POLICY_IN, "in"), (XFRM_POLICY_FWD, "fwd")]
    } else {
        &[(XFRM_POLICY_OUT, "out")]
    };
    dirs.iter()
        .map(|(dir, name)| {
            let what = format!(
                "{name} policy {}/{} -> {}/{}",
                p.src_sel.addr, p.src_sel.prefix, p.dst_sel.addr, p.dst_sel.prefix
            );
            let msg = if add {
                let prio = crate::pfkey::build::policy_priority(
                    &pfkey_selector(&p.src_sel),
                    &pfkey_selector(&p.dst_sel),
                );
                let mut spec = build::PolicySpec::new(sel, *dir, prio);
                spec.if_id = p.if_id;
                match p.action {
                    PolicyAction::Pass => spec.action = XFRM_POLICY_ALLOW,
                    PolicyAction::Drop | PolicyAction::Reject => spec.action = XFRM_POLICY_BLOCK,
                    PolicyAction::Ipsec => {
                        spec.action = XFRM_POLICY_ALLOW;
                        spec.templates = templates(p);
                    }
                }
                build::update_policy(&spec)
            } else {
                // The kernel files a policy under its if_id too.
                match p.if_id {
                    Some(id) => build::del_policy(&sel, *dir).with(Attr::IfId(id)),
                    None => build::del_policy(&sel, *dir),
                }
            };
            (what, msg)
        })
        .collect()
}

/// Both stacks order policies by the same rule (more specific first).
fn pfkey_selector(s: &Selector) -> crate::pfkey::build::Selector {
    crate::pfkey::build::Selector {
        addr: s.addr,
        prefixlen: s.prefix,
        proto: s.protocol,
        port: s.port,
    }
}

/// The kernel's answer as the bookkeeping takes it: the SPI an ALLOCSPI
/// answer carries, or with `query` the byte counter of a GETSA answer, or
/// done, or refused.
fn judge(reply: Result<Message, XfrmError>, query: bool) -> Answer {
    match reply {
        Ok(Message {
            body: Body::Sa(info),
            ..
        }) if query => Answer::Used(info.curlft.bytes),
        Ok(Message {
            body: Body::Sa(info),
            ..
        }) => Answer::Done(Some(info.id.spi)),
        Ok(_) => Answer::Done(None),
        Err(e) => Answer::Refused {
            not_found: matches!(&e, XfrmError::Kernel(k) if k.kind() == KernelErrorKind::NotFound),
            reason: e.to_string(),
        },
    }
}

fn sa_name(p: IpsecProto, spi: u32, dst: IpAddr) -> String {
    format!("{}.{spi:x}@{dst}", p.name().to_ascii_lowercase())
}

impl Xfrm {
    /// Opens XFRM netlink; fails where the kernel has none.
    pub fn open() -> Result<Xfrm, String> {
        let sock = XfrmSocket::open().map_err(|e| e.to_string())?;
        let events = XfrmSocket::open().map_err(|e| e.to_string())?;
        Ok(Xfrm {
            sock,
            events,
            requests: Requests::default(),
        })
    }

    /// Sends `msg` for `why`; a socket that will not take it is answered
    /// at once as a refusal.
    fn send(&mut self, mut msg: Message, why: Pending<Message>) {
        let msg_type = msg.header.msg_type;
        match self.sock.send(&mut msg) {
            Ok(seq) => self.requests.sent(seq, msg_type, why),
            Err(e) => {
                let undo = self.requests.answer(why, judge(Err(e), false));
                self.send_undo(undo);
            }
        }
    }

    fn send_undo(&mut self, undo: Vec<(String, Message)>) {
        for (what, msg) in undo {
            self.send(msg, Pending::Undo { what });
        }
    }

    fn install(&mut self, req: u64, sas: &[SaInstall], policies: &[PolicySpec]) {
        let mut parts = Vec::new();
        for sa in sas {
            let what = format!("SA {}", sa_name(sa.proto, sa.spi, sa.dst));
            // Filled inbound SAs stay on a refusal: the engine deletes
            // them with the SPIs it reserved.
            let undo = (!sa.inbound).then(|| {
                Box::new(build::del_sa(
                    proto_number(sa.proto),
                    sa.spi,
                    sa.src,
                    sa.dst,
                ))
            });
            // An inbound SA fills the SPI ALLOCSPI reserved; if that
            // expired, it is added whole (see `Pending::Part`).
            let instead = sa.inbound.then(|| Instead::of(sa, sa_message(sa, false)));
            parts.push((what, sa_message(sa, sa.inbound), undo, instead));
        }
        for p in policies {
            let undo = policy_messages(p, false);
            for ((what, msg), (_, undo)) in policy_messages(p, true).into_iter().zip(undo) {
                parts.push((what, msg, Some(Box::new(undo)), None));
            }
        }
        for (msg, why) in self.requests.batch(req, parts) {
            self.send(msg, why);
        }
        let undo = self.requests.finish_batch(req);
        self.send_undo(undo);
    }

    fn read_replies(&mut self) {
        loop {
            let m = match self.sock.recv_any() {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(e) if e.is_malformed() => {
                    log::warn!("ignoring malformed XFRM message: {e}");
                    continue;
                }
                Err(_) => break,
            };
            if m.header.pid != self.sock.port_id() {
                continue;
            }
            let Some((msg_type, why)) = self.requests.take(m.header.seq) else {
                continue;
            };
            let query = matches!(why, Pending::Query { .. });
            let undo = self
                .requests
                .answer(why, judge(XfrmSocket::check(msg_type, m), query));
            self.send_undo(undo);
            for (why, msg) in self.requests.take_resends() {
                self.send(msg, why);
            }
        }
    }

    fn read_events(&mut self) {
        loop {
            let m = match self.events.recv_any() {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(e) if e.is_malformed() => {
                    log::warn!("ignoring malformed XFRM message: {e}");
                    continue;
                }
                Err(_) => break,
            };
            match &m.body {
                Body::Acquire(a) => {
                    // The template names the SA's ends and the policy's reqid;
                    // one without them (an opportunistic %trap, transport
                    // mode) leaves the packet's own addresses in the message.
                    let tmpl = m.tmpls().first();
                    let reqid = m.tmpls().iter().map(|t| t.reqid).find(|r| *r != 0);
                    let family = tmpl.map_or(a.policy.sel.family, |t| t.family);
                    let given = |a: Option<std::net::IpAddr>| a.filter(|a| !a.is_unspecified());
                    let src = given(tmpl.and_then(|t| t.src())).or_else(|| a.saddr.ip(family));
                    let dst = given(tmpl.and_then(|t| t.id.daddr.ip(family)))
                        .or_else(|| a.id.daddr.ip(family));
                    if let (Some(src), Some(dst)) = (src, dst) {
                        self.requests
                            .event(KernelEvent::Acquire(Acquire { reqid, src, dst }));
                    }
                }
                Body::Expire(e) => {
                    let st = &e.state;
                    let (Some(proto), Some(dst)) =
                        (proto_of(st.id.proto), st.id.daddr.ip(st.family))
                    else {
                        continue;
                    };
                    self.requests.event(KernelEvent::Expire {
                        proto,
                        spi: st.id.spi,
                        dst,
                        hard: e.hard != 0,
                    });
                }
                Body::Mapping(map) => {
                    if let Some(m) = nat_mapping(map) {
                        self.requests.event(KernelEvent::NatMapping(m));
                    }
                }
                _ => {}
            }
        }
    }
}

impl KernelBackend for Xfrm {
    fn name(&self) -> &'static str {
        "Linux XFRM/NETKEY (XFRM netlink)"
    }

    fn start_events(&mut self) -> Result<(), String> {
        self.events
            .subscribe(&[XFRMNLGRP_ACQUIRE, XFRMNLGRP_EXPIRE, XFRMNLGRP_MAPPING])
            .map_err(|e| format!("cannot join the XFRM ACQUIRE/EXPIRE/MAPPING groups: {e}"))
    }

    fn fds(&self) -> Vec<std::os::fd::RawFd> {
        vec![self.sock.as_raw_fd(), self.events.as_raw_fd()]
    }

    fn poll(&mut self) -> Vec<KernelOutput> {
        self.read_replies();
        self.read_events();
        self.requests.outputs()
    }

    fn neighbour_discovery_bypass(&mut self, on: bool) {
        for (what, msg) in nd_bypass_messages(on) {
            let why = if on {
                Pending::Own { what }
            } else {
                Pending::Delete { what, sa: false }
            };
            self.send(msg, why);
        }
    }

    fn submit(&mut self, op: KernelOp) {
        match op {
            KernelOp::GetSpi {
                req,
                proto,
                src,
                dst,
                min,
                max,
            } => {
                let msg = build::alloc_spi(proto_number(proto), src, dst, 0, min, max);
                self.send(msg, Pending::Spi { req });
            }
            KernelOp::Install { req, sas, policies } => self.install(req, &sas, &policies),
            KernelOp::DeleteSa {
                proto,
                spi,
                src,
                dst,
            } => {
                let msg = build::del_sa(proto_number(proto), spi, src, dst);
                let what = format!("SA {}", sa_name(proto, spi, dst));
                self.send(msg, Pending::Delete { what, sa: true });
            }
            KernelOp::DeletePolicy(p) => {
                for (what, msg) in policy_messages(&p, false) {
                    self.send(msg, Pending::Delete { what, sa: false });
                }
            }
            KernelOp::UpdateSa { req, sa } => {
                let what = format!("SA {}", sa_name(sa.proto, sa.spi, sa.dst));
                self.send(sa_message(&sa, true), Pending::Update { req, what });
            }
            KernelOp::QuerySa {
                req,
                proto,
                spi,
                src,
                dst,
            } => {
                let msg = build::get_sa(proto_number(proto), spi, src, dst);
                self.send(msg, Pending::Query { req });
            }
        }
    }
}

/// The policies passing IPv6 neighbour discovery ([`ND_TYPES`]), in and
/// out, or (`on` false) their deletions.
fn nd_bypass_messages(on: bool) -> Vec<(String, Message)> {
    let any = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
    let mut out = Vec::new();
    for t in ND_TYPES {
        let sel = XfrmSelector::new(any, 0, any, 0)
            .with_proto(ICMPV6)
            .with_ports(t, 0);
        for (dir, name) in [(XFRM_POLICY_IN, "in"), (XFRM_POLICY_OUT, "out")] {
            let what = format!("{name} policy passing ICMPv6 type {t}");
            let msg = if on {
                let mut spec = build::PolicySpec::new(sel, dir, ND_PRIORITY);
                spec.action = XFRM_POLICY_ALLOW;
                build::update_policy(&spec)
            } else {
                build::del_policy(&sel, dir)
            };
            out.push((what, msg));
        }
    }
    out
}

/// The engine's form of an XFRM_MSG_MAPPING; `None` for an SA the engine
/// cannot have made (not ESP, or an unknown family).
fn nat_mapping(m: &crate::xfrm::wire::UserMapping) -> Option<NatMapping> {
    Some(NatMapping {
        proto: proto_of(m.id.proto)?,
        spi: m.id.spi,
        dst: m.id.dst()?,
        old: m.old_peer()?,
        new: m.new_peer()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::crypto::CipherAlg;
    use crate::ike::kernel::{Encap, IntegAlg};
    use crate::xfrm::tests::{fixtures, hex};
    use crate::xfrm::wire::UsersaInfo;
    use std::net::SocketAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// What `ip xfrm state add ... encap espinudp 4501 4500 198.51.100.7`
    /// in the fixtures asks for, as the engine hands it over.
    fn encap_sa() -> SaInstall {
        let sel = Selector {
            addr: ip("10.0.1.0"),
            prefix: 24,
            protocol: 0,
            port: 0,
        };
        SaInstall {
            proto: IpsecProto::Esp,
            inbound: false,
            spi: 0x1234_5678,
            src: ip("192.0.2.1"),
            dst: ip("192.0.2.2"),
            mode: Mode::Tunnel,
            encrypt: Some((CipherAlg::Des3, (0x21..=0x38).collect())),
            integ: Some((IntegAlg::HmacSha1_96, (0x01..=0x14).collect())),
            compress: None,
            lifetime_secs: 3540,
            soft_secs: Some(2700),
            reqid: 16,
            group: vec![IpsecProto::Esp],
            src_sel: sel,
            dst_sel: sel,
            if_id: None,
            encap: Some(Encap {
                sport: 4501,
                dport: 4500,
                oa: Some(ip("198.51.100.7")),
            }),
        }
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn encapsulated_sas_are_what_iproute2_sends() {
        let sa = encap_sa();
        assert_eq!(
            sa_message(&sa, false).emit(),
            hex(fixtures::NEWSA_ESP_ENCAP)
        );
        // An update (the peer's NAT port moved) is the whole SA again.
        assert_eq!(sa_message(&sa, true).emit(), hex(fixtures::UPDSA_ESP_ENCAP));
    }

    #[test]
    fn neighbour_discovery_passes_first_in_and_out_and_goes_at_shutdown() {
        let mut seen = Vec::new();
        for (what, m) in nd_bypass_messages(true) {
            let Body::Policy(p) = &m.body else {
                panic!("{what}: {m:?}")
            };
            let sel = p.sel;
            assert_eq!(m.header.msg_type, XFRM_MSG_UPDPOLICY, "{what}");
            assert_eq!(
                (sel.family, sel.proto),
                (libc::AF_INET6 as u16, 58),
                "{what}"
            );
            assert_eq!((sel.prefixlen_s, sel.prefixlen_d), (0, 0), "{what}");
            assert_eq!((sel.sport_mask, sel.dport, sel.dport_mask), (0xffff, 0, 0));
            assert_eq!((p.priority, p.action), (1, XFRM_POLICY_ALLOW), "{what}");
            assert!(m.attrs.is_empty(), "{what}: no template, nothing else");
            seen.push((sel.sport, p.dir));
        }
        let both = |t| [(t, XFRM_POLICY_IN), (t, XFRM_POLICY_OUT)];
        assert_eq!(seen, [both(135), both(136)].concat());
        let gone: Vec<_> = nd_bypass_messages(false)
            .into_iter()
            .map(|(_, m)| match m.body {
                Body::PolicyId(id) if m.header.msg_type == XFRM_MSG_DELPOLICY => {
                    (id.sel.sport, id.sel.proto, id.dir)
                }
                b => panic!("{b:?}"),
            })
            .collect();
        assert_eq!(
            gone,
            [
                (135, 58, XFRM_POLICY_IN),
                (135, 58, XFRM_POLICY_OUT),
                (136, 58, XFRM_POLICY_IN),
                (136, 58, XFRM_POLICY_OUT)
            ]
        );
    }

    #[test]
    fn encapsulation_is_espinudp_with_the_ports_and_original_address() {
        let mut sa = encap_sa();
        let encap = |m: &Message| {
            m.attrs.iter().find_map(|a| match a {
                Attr::Encap(e) => Some(*e),
                _ => None,
            })
        };
        let e = encap(&sa_message(&sa, false)).unwrap();
        assert_eq!(e.encap_type, UDP_ENCAP_ESPINUDP);
        assert_eq!((e.sport, e.dport), (4501, 4500));
        assert_eq!(e.oa, Addr::from(ip("198.51.100.7")));
        // Without NAT-OA (tunnel mode needs none) the address is zero.
        sa.encap = Some(Encap {
            sport: 4500,
            dport: 61001,
            oa: None,
        });
        let e = encap(&sa_message(&sa, true)).unwrap();
        assert_eq!((e.sport, e.dport, e.oa), (4500, 61001, Addr::ZERO));
        sa.encap = None;
        assert_eq!(encap(&sa_message(&sa, false)), None);
    }

    #[test]
    fn a_tunnel_of_the_other_family_has_a_selector_of_its_traffics_family() {
        let sel_of = |src: &str, dst: &str, clients: &str, mode: Mode| {
            let mut sa = encap_sa();
            (sa.src, sa.dst, sa.encap, sa.mode) = (ip(src), ip(dst), None, mode);
            (sa.src_sel.addr, sa.dst_sel.addr) = (ip(clients), ip(clients));
            match sa_message(&sa, false).body {
                Body::Sa(info) => (info.sel.family, info.sel.prefixlen_s, info.family),
                _ => panic!("not an SA message"),
            }
        };
        let (v4, v6) = (
            crate::xfrm::wire::consts::AF_INET,
            crate::xfrm::wire::consts::AF_INET6,
        );
        // IPv4 clients over IPv6 hosts, and the reverse: any traffic of the
        // clients' family, in an SA of the hosts' family.
        let t = Mode::Tunnel;
        assert_eq!(
            sel_of("2001:db8::1", "2001:db8::2", "10.0.1.0", t),
            (v4, 0, v6)
        );
        assert_eq!(
            sel_of("192.0.2.1", "192.0.2.2", "2001:db8:1::", t),
            (v6, 0, v4)
        );
        // One family: no selector; the kernel's default (its family) is right.
        assert_eq!(sel_of("192.0.2.1", "192.0.2.2", "10.0.1.0", t), (0, 0, v4));
        // Transport mode keeps the hosts' selector.
        let (f, p, _) = sel_of("2001:db8::1", "2001:db8::2", "2001:db8::1", Mode::Transport);
        assert_eq!((f, p), (v6, 24));
    }

    #[test]
    fn sa_counters_answer_a_query() {
        let mut info = UsersaInfo::default();
        info.curlft.bytes = 98_765;
        info.id.spi = 0x1234_5678;
        let reply = Message::new(crate::xfrm::Header::new(XFRM_MSG_NEWSA, 0), Body::Sa(info));
        assert!(matches!(
            judge(Ok(reply.clone()), true),
            Answer::Used(98_765)
        ));
        assert!(matches!(
            judge(Ok(reply), false),
            Answer::Done(Some(0x1234_5678))
        ));
    }

    #[test]
    fn the_kernels_mapping_reaches_the_engine_as_it_said() {
        let m = Message::parse(&hex(fixtures::MAPPING)).unwrap();
        let Body::Mapping(map) = &m.body else {
            panic!("{}", m.summary())
        };
        assert_eq!(
            nat_mapping(map),
            Some(NatMapping {
                proto: IpsecProto::Esp,
                spi: 0x1234_5678,
                dst: ip("192.0.2.1"),
                old: SocketAddr::new(ip("198.51.100.7"), 4500),
                new: SocketAddr::new(ip("198.51.100.7"), 61001),
            })
        );
        let mut odd = *map;
        odd.id.proto = 17;
        assert_eq!(nat_mapping(&odd), None);
    }
}

/// The backend against the running kernel in a private network namespace.
/// The host kernel may lack ESP, so the SA is a larval one (ALLOCSPI):
/// enough for a usage query, which must not wait for anything.
#[cfg(test)]
mod live {
    use super::*;
    use crate::ike::kernel::KernelReply;
    use std::time::{Duration, Instant};

    fn answer(x: &mut Xfrm, req: u64) -> KernelReply {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            for o in x.poll() {
                if let KernelOutput::Reply(r) = o {
                    let of = match &r {
                        KernelReply::Spi { req, .. }
                        | KernelReply::Installed { req }
                        | KernelReply::SaUse { req, .. }
                        | KernelReply::Failed { req, .. } => *req,
                    };
                    if of == req {
                        return r;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("no answer to request {req}");
    }

    #[test]
    fn usage_queries_and_updates_are_answered() {
        let ran = crate::xfrm::tests::kernel::in_new_netns(|| {
            let mut x = Xfrm::open().unwrap();
            // The mapping group exists on every kernel with XFRM netlink.
            x.start_events().unwrap();
            let (peer, us): (IpAddr, IpAddr) =
                ("192.0.2.2".parse().unwrap(), "192.0.2.1".parse().unwrap());
            x.submit(KernelOp::GetSpi {
                req: 1,
                proto: IpsecProto::Esp,
                src: peer,
                dst: us,
                min: 0x1000,
                max: 0xffff,
            });
            let KernelReply::Spi { spi, .. } = answer(&mut x, 1) else {
                panic!("no SPI")
            };
            let query = |req, spi| KernelOp::QuerySa {
                req,
                proto: IpsecProto::Esp,
                spi,
                src: peer,
                dst: us,
            };
            x.submit(query(2, spi));
            assert_eq!(answer(&mut x, 2), KernelReply::SaUse { req: 2, bytes: 0 });
            x.submit(query(3, spi ^ 1));
            assert!(
                matches!(answer(&mut x, 3), KernelReply::Failed { req: 3, .. }),
                "a query of a missing SA fails"
            );
            // An update is answered either way (the kernel may lack ESP).
            let mut sa = tests_sa(spi, peer, us);
            sa.inbound = true;
            x.submit(KernelOp::UpdateSa { req: 4, sa });
            match answer(&mut x, 4) {
                KernelReply::Installed { .. } => {}
                KernelReply::Failed { reason, .. } => {
                    assert!(reason.starts_with("cannot update SA esp."), "{reason}")
                }
                other => panic!("{other:?}"),
            }
        });
        if !ran {
            eprintln!("skipped: needs root");
        }
    }

    fn tests_sa(spi: u32, src: IpAddr, dst: IpAddr) -> SaInstall {
        let sel = Selector {
            addr: src,
            prefix: 32,
            protocol: 0,
            port: 0,
        };
        SaInstall {
            proto: IpsecProto::Esp,
            inbound: true,
            spi,
            src,
            dst,
            mode: Mode::Tunnel,
            encrypt: Some((crate::ike::crypto::CipherAlg::Aes128, vec![7; 16])),
            integ: Some((crate::ike::kernel::IntegAlg::HmacSha1_96, vec![9; 20])),
            compress: None,
            lifetime_secs: 3600,
            soft_secs: None,
            reqid: 16,
            group: vec![IpsecProto::Esp],
            src_sel: sel,
            dst_sel: sel,
            if_id: None,
            encap: Some(crate::ike::kernel::Encap {
                sport: 61001,
                dport: 4500,
                oa: None,
            }),
        }
    }
}
