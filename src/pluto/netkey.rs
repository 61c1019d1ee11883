//! pluto's kernel backend for Linux NETKEY over the in-tree PF_KEYv2: SPIs
//! from GETSPI, SAs with UPDATE (inbound, completing the larval SA, and
//! every change of an installed SA) and ADD (outbound), ESP in UDP with
//! the af_key NAT-T extensions, SA counters from GET, SPD entries with
//! X_SPDUPDATE/X_SPDDELETE, and the kernel's ACQUIRE, EXPIRE and
//! X_NAT_T_NEW_MAPPING.
//!
//! Nothing here waits for the kernel: requests go out with fresh sequence
//! numbers and their answers are matched when the event loop finds the
//! socket readable. An install batch is sent whole; once every part is
//! answered it is reported installed, or, when any part was refused, what
//! went in is taken out again and the batch reported failed.

use super::kernel::{KernelBackend, KernelEvent, KernelOutput, ICMPV6, ND_PRIORITY, ND_TYPES};
use super::requests::{Answer, Instead, Pending, Requests};
use crate::ike::crypto::CipherAlg;
use crate::ike::kernel::{
    Acquire, IntegAlg, IpsecProto, KernelOp, Mode, NatMapping, PolicyAction, PolicySpec, SaInstall,
    Selector,
};
use crate::pfkey::build::{self, AlgKey, IpsecSpec, NatT, SaSpec};
use crate::pfkey::consts::{self, linux};
use crate::pfkey::{KernelErrorKind, Message, PfkeyError, PfkeySocket};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;

pub struct Netkey {
    /// Requests and their replies.
    sock: PfkeySocket,
    /// Registered for ESP and AH: the kernel's ACQUIREs, EXPIREs and NAT
    /// mapping changes.
    events: PfkeySocket,
    requests: Requests<Message>,
    /// Our address on each encapsulated inbound ESP SA, by SPI: af_key's
    /// X_NAT_T_NEW_MAPPING names the SA by SPI only (its ADDRESS_DST is
    /// the peer's new address), and the engine knows SAs by destination.
    encap_dst: HashMap<u32, IpAddr>,
}

fn pfkey_enc(c: CipherAlg) -> u8 {
    match c {
        CipherAlg::Des3 => consts::SADB_EALG_3DESCBC,
        CipherAlg::Aes128 | CipherAlg::Aes192 | CipherAlg::Aes256 => consts::SADB_X_EALG_AESCBC,
    }
}

fn pfkey_auth(i: IntegAlg) -> u8 {
    match i {
        IntegAlg::HmacMd5_96 => consts::SADB_AALG_MD5HMAC,
        IntegAlg::HmacSha1_96 => consts::SADB_AALG_SHA1HMAC,
        IntegAlg::HmacSha2_256_128 => consts::SADB_X_AALG_SHA2_256HMAC,
    }
}

fn satype(p: IpsecProto) -> u8 {
    match p {
        IpsecProto::Ah => consts::SADB_SATYPE_AH,
        IpsecProto::Esp => consts::SADB_SATYPE_ESP,
        IpsecProto::Ipcomp => linux::SADB_X_SATYPE_IPCOMP,
    }
}

fn mode(m: Mode) -> u8 {
    match m {
        Mode::Tunnel => consts::IPSEC_MODE_TUNNEL,
        Mode::Transport => consts::IPSEC_MODE_TRANSPORT,
    }
}

fn selector(s: &Selector) -> build::Selector {
    build::Selector {
        addr: s.addr,
        prefixlen: s.prefix,
        proto: s.protocol,
        port: s.port,
    }
}

/// SADB_UPDATE with `update` (an inbound SA completes the larval one
/// GETSPI made; an installed SA gets new parameters), else SADB_ADD.
fn sa_message(sa: &SaInstall, pid: u32, update: bool) -> Message {
    let enc = match (sa.proto, &sa.encrypt, sa.compress) {
        (IpsecProto::Ipcomp, _, Some(c)) => Some(AlgKey {
            alg: c,
            key: Vec::new(),
        }),
        (_, Some((alg, key)), _) => Some(AlgKey {
            alg: pfkey_enc(*alg),
            key: key.clone(),
        }),
        _ => None,
    };
    let auth = sa.integ.as_ref().map(|(alg, key)| AlgKey {
        alg: pfkey_auth(*alg),
        key: key.clone(),
    });
    // With IPCOMP the IPCOMP SA carries the tunnel (it is the first
    // template of the policy); ESP and AH inside it are transport.
    let m = if sa.proto != IpsecProto::Ipcomp && sa.group.contains(&IpsecProto::Ipcomp) {
        consts::IPSEC_MODE_TRANSPORT
    } else {
        mode(sa.mode)
    };
    let spec = SaSpec {
        satype: satype(sa.proto),
        spi: sa.spi,
        src: sa.src,
        dst: sa.dst,
        mode: m,
        reqid: sa.reqid,
        auth,
        enc,
        replay_window: if sa.proto == IpsecProto::Ipcomp {
            0
        } else {
            32
        },
        // The kernel's soft EXPIRE is the engine's replace time; its hard
        // one a safety net after the engine's own expiry.
        soft_secs: sa.soft_secs.map_or(0, u64::from),
        hard_secs: u64::from(sa.lifetime_secs) + 60,
        // Any traffic of the tunnel's family (see `foreign_traffic_family`).
        proxy: (m == consts::IPSEC_MODE_TUNNEL)
            .then(|| sa.foreign_traffic_family())
            .flatten()
            .map(|any| build::Selector {
                addr: any,
                prefixlen: 0,
                proto: 0,
                port: 0,
            }),
        nat_t: sa.encap.map(|e| NatT {
            encap_type: consts::UDP_ENCAP_ESPINUDP,
            sport: e.sport,
            dport: e.dport,
            original_addr: e.oa,
        }),
    };
    let seq = 0; // the socket stamps its own sequence number
    if update {
        build::update_sa(&spec, seq, pid)
    } else {
        build::add_sa(&spec, seq, pid)
    }
}

/// The messages that install (`add`) or remove the policies of `p`:
/// outbound, or inbound and forward, each with what it is for logs. An
/// IPsec action protects with `p`'s template (with no SA of its reqid,
/// traffic makes the kernel ACQUIRE); the others pass or discard.
fn policy_messages(p: &PolicySpec, add: bool, pid: u32) -> Vec<(String, Message)> {
    let (src, dst) = (selector(&p.src_sel), selector(&p.dst_sel));
    let dirs: &[u8] = if p.inbound {
        &[consts::IPSEC_DIR_INBOUND, consts::IPSEC_DIR_FWD]
    } else {
        &[consts::IPSEC_DIR_OUTBOUND]
    };
    let seq = 0; // the socket stamps its own sequence number
    dirs.iter()
        .map(|dir| {
            let what = format!("{} policy {}", dir_name(*dir), flow(&p.src_sel, &p.dst_sel));
            let msg = if add {
                let spec = build::PolicySpec {
                    dir: *dir,
                    src,
                    dst,
                    priority: build::policy_priority(&src, &dst),
                    action: match p.action {
                        PolicyAction::Pass => build::PolicyAction::None,
                        PolicyAction::Drop | PolicyAction::Reject => build::PolicyAction::Discard,
                        PolicyAction::Ipsec => build::PolicyAction::Ipsec(IpsecSpec {
                            ipcomp: p.protos.contains(IpsecProto::Ipcomp),
                            esp: p.protos.contains(IpsecProto::Esp),
                            ah: p.protos.contains(IpsecProto::Ah),
                            tunnel: (p.mode == Mode::Tunnel).then_some((p.src_gw, p.dst_gw)),
                            // UNIQUE: the policy uses the SAs of this reqid only
                            // (while there are none, traffic ACQUIREs).
                            level: consts::IPSEC_LEVEL_UNIQUE,
                            ..IpsecSpec::new(p.reqid)
                        }),
                    },
                };
                build::spd_update(&spec, seq, pid)
            } else {
                build::spd_delete(*dir, &src, &dst, seq, pid)
            };
            (what, msg)
        })
        .collect()
}

impl Netkey {
    /// Opens PF_KEY; fails where the kernel has no af_key.
    pub fn open() -> Result<Netkey, String> {
        let sock = PfkeySocket::open_with(true, crate::pfkey::Dialect::Linux)
            .map_err(|e| e.to_string())?;
        let events = PfkeySocket::open_with(true, crate::pfkey::Dialect::Linux)
            .map_err(|e| e.to_string())?;
        Ok(Netkey {
            sock,
            events,
            requests: Requests::default(),
            encap_dst: HashMap::new(),
        })
    }

    fn pid(&self) -> u32 {
        self.sock.pid()
    }

    /// Sends `msg` for `why`; a socket that will not take it is answered
    /// at once as a refusal.
    fn send(&mut self, mut msg: Message, why: Pending<Message>) {
        let msg_type = u16::from(msg.header.msg_type);
        match self.sock.send(&mut msg) {
            Ok(seq) => self.requests.sent(seq, msg_type, why),
            Err(e) => {
                let undo = self.requests.answer(why, judge(Err(e), Asked::Sa));
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
        let pid = self.pid();
        if sas.iter().any(|s| s.if_id.is_some()) || policies.iter().any(|p| p.if_id.is_some()) {
            self.requests.refuse(
                req,
                "PF_KEY cannot bind SAs and policies to an XFRM interface (ipsecN, \
                 if_id): run pluto without --use-pfkey"
                    .into(),
            );
            return;
        }
        let mut parts = Vec::new();
        for sa in sas {
            let what = format!("SA {}", sa_name(sa.proto, sa.spi, sa.dst));
            // Filled inbound SAs stay on a refusal: the engine deletes
            // them with the SPIs it reserved.
            let undo = (!sa.inbound).then(|| {
                Box::new(build::delete_sa(
                    satype(sa.proto),
                    sa.spi,
                    sa.src,
                    sa.dst,
                    0,
                    pid,
                ))
            });
            self.remember(sa);
            // An inbound SA fills the SPI GETSPI reserved; if that expired,
            // it is added whole (see `Pending::Part`).
            let instead = sa
                .inbound
                .then(|| Instead::of(sa, sa_message(sa, pid, false)));
            parts.push((what, sa_message(sa, pid, sa.inbound), undo, instead));
        }
        for p in policies {
            let undo = policy_messages(p, false, pid);
            for ((what, msg), (_, undo)) in policy_messages(p, true, pid).into_iter().zip(undo) {
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
            let m = match self.sock.recv_any(Some(std::time::Duration::ZERO)) {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(PfkeyError::Io { .. } | PfkeyError::Unavailable { .. }) => break,
                Err(e) => {
                    log::warn!("ignoring malformed PF_KEY message: {e}");
                    continue;
                }
            };
            if m.header.pid != self.pid() {
                continue;
            }
            let Some((_, why)) = self.requests.take(m.header.seq) else {
                continue;
            };
            let asked = match why {
                Pending::Acquire { .. } => Asked::Reqid,
                Pending::Query { .. } => Asked::Bytes,
                _ => Asked::Sa,
            };
            let undo = self.requests.answer(why, judge(self.sock.check(m), asked));
            self.send_undo(undo);
            for (why, msg) in self.requests.take_resends() {
                self.send(msg, why);
            }
        }
    }

    /// What the kernel said on its own: ACQUIREs (whose policy's reqid is
    /// asked for first: PF_KEY names the policy by its index only) and
    /// EXPIREs.
    fn read_events(&mut self) {
        loop {
            let m = match self.events.recv_any(Some(std::time::Duration::ZERO)) {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(PfkeyError::Io { .. } | PfkeyError::Unavailable { .. }) => break,
                Err(e) => {
                    log::warn!("ignoring malformed PF_KEY message: {e}");
                    continue;
                }
            };
            match m.header.msg_type {
                consts::SADB_ACQUIRE => {
                    let (Some(src), Some(dst)) = (m.address_src(), m.address_dst()) else {
                        continue;
                    };
                    let (src, dst) = (src.addr.ip(), dst.addr.ip());
                    match m.policy().map(|p| p.id) {
                        Some(id) => {
                            let msg = build::spd_get(id, 0, self.pid());
                            self.send(msg, Pending::Acquire { src, dst });
                        }
                        None => self.requests.event(KernelEvent::Acquire(Acquire {
                            reqid: None,
                            src,
                            dst,
                        })),
                    }
                }
                consts::SADB_EXPIRE => {
                    let proto = match m.header.satype {
                        consts::SADB_SATYPE_ESP => IpsecProto::Esp,
                        consts::SADB_SATYPE_AH => IpsecProto::Ah,
                        linux::SADB_X_SATYPE_IPCOMP => IpsecProto::Ipcomp,
                        _ => continue,
                    };
                    let (Some(sa), Some(dst)) = (m.sa(), m.address_dst()) else {
                        continue;
                    };
                    let hard = m.lifetime_hard().is_some();
                    if hard && self.encap_dst.get(&sa.spi) == Some(&dst.addr.ip()) {
                        self.encap_dst.remove(&sa.spi);
                    }
                    self.requests.event(KernelEvent::Expire {
                        proto,
                        spi: sa.spi,
                        dst: dst.addr.ip(),
                        hard,
                    });
                }
                linux::SADB_X_NAT_T_NEW_MAPPING => match nat_mapping(&m, &self.encap_dst) {
                    Some(map) => self.requests.event(KernelEvent::NatMapping(map)),
                    None => log::warn!(
                        "ignoring a PF_KEY NAT mapping change of an SA pluto did not install: {}",
                        m.summary()
                    ),
                },
                _ => {}
            }
        }
    }
}

impl KernelBackend for Netkey {
    fn name(&self) -> &'static str {
        "NETKEY (PF_KEYv2)"
    }

    fn start_events(&mut self) -> Result<(), String> {
        register_in_background(&self.events)
    }

    fn fds(&self) -> Vec<std::os::fd::RawFd> {
        vec![self.sock.as_raw_fd(), self.events.as_raw_fd()]
    }

    fn poll(&mut self) -> Vec<KernelOutput> {
        self.read_replies();
        self.read_events();
        // An ACQUIRE's lookup may have been answered already.
        self.read_replies();
        self.requests.outputs()
    }

    fn neighbour_discovery_bypass(&mut self, on: bool) {
        for (what, msg) in nd_bypass_messages(on, self.pid()) {
            let why = if on {
                Pending::Own { what }
            } else {
                Pending::Delete { what, sa: false }
            };
            self.send(msg, why);
        }
    }

    fn submit(&mut self, op: KernelOp) {
        let pid = self.pid();
        match op {
            KernelOp::GetSpi {
                req,
                proto,
                src,
                dst,
                min,
                max,
            } => {
                let msg = build::getspi(satype(proto), src, dst, min, max, 0, pid);
                self.send(msg, Pending::Spi { req });
            }
            KernelOp::Install { req, sas, policies } => self.install(req, &sas, &policies),
            KernelOp::DeleteSa {
                proto,
                spi,
                src,
                dst,
            } => {
                if proto == IpsecProto::Esp && self.encap_dst.get(&spi) == Some(&dst) {
                    self.encap_dst.remove(&spi);
                }
                let msg = build::delete_sa(satype(proto), spi, src, dst, 0, pid);
                let what = format!("SA {}", sa_name(proto, spi, dst));
                self.send(msg, Pending::Delete { what, sa: true });
            }
            KernelOp::DeletePolicy(p) => {
                for (what, msg) in policy_messages(&p, false, pid) {
                    self.send(msg, Pending::Delete { what, sa: false });
                }
            }
            KernelOp::UpdateSa { req, sa } => {
                let what = format!("SA {}", sa_name(sa.proto, sa.spi, sa.dst));
                self.remember(&sa);
                self.send(sa_message(&sa, pid, true), Pending::Update { req, what });
            }
            KernelOp::QuerySa {
                req,
                proto,
                spi,
                src,
                dst,
            } => {
                let msg = build::get_sa(satype(proto), spi, src, dst, 0, pid);
                self.send(msg, Pending::Query { req });
            }
        }
    }
}

impl Netkey {
    /// Notes where an encapsulated inbound ESP SA ends, for its NAT
    /// mapping changes.
    fn remember(&mut self, sa: &SaInstall) {
        if sa.inbound && sa.proto == IpsecProto::Esp && sa.encap.is_some() {
            self.encap_dst.insert(sa.spi, sa.dst);
        }
    }
}

/// The engine's form of af_key's X_NAT_T_NEW_MAPPING: SA (the SPI),
/// ADDRESS_SRC and X_NAT_T_SPORT (the peer as the SA had it),
/// ADDRESS_DST and X_NAT_T_DPORT (where its packets come from now). Our
/// own address is not in the message: `dsts` has it by SPI.
/// The SPD entries passing IPv6 neighbour discovery ([`ND_TYPES`]), in
/// and out, or (`on` false) their deletions.
fn nd_bypass_messages(on: bool, pid: u32) -> Vec<(String, Message)> {
    let mut out = Vec::new();
    for t in ND_TYPES {
        // af_key takes an ICMP type as the source port.
        let src = build::Selector {
            addr: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            prefixlen: 0,
            proto: ICMPV6,
            port: t,
        };
        let dst = build::Selector { port: 0, ..src };
        for dir in [consts::IPSEC_DIR_INBOUND, consts::IPSEC_DIR_OUTBOUND] {
            let what = format!("{} policy passing ICMPv6 type {t}", dir_name(dir));
            let msg = if on {
                let spec = build::PolicySpec {
                    dir,
                    src,
                    dst,
                    priority: ND_PRIORITY,
                    action: build::PolicyAction::None,
                };
                build::spd_update(&spec, 0, pid)
            } else {
                build::spd_delete(dir, &src, &dst, 0, pid)
            };
            out.push((what, msg));
        }
    }
    out
}

fn nat_mapping(m: &Message, dsts: &HashMap<u32, IpAddr>) -> Option<NatMapping> {
    if m.header.satype != consts::SADB_SATYPE_ESP {
        return None;
    }
    let spi = m.sa()?.spi;
    Some(NatMapping {
        proto: IpsecProto::Esp,
        spi,
        dst: *dsts.get(&spi)?,
        old: SocketAddr::new(m.address_src()?.ip(), m.nat_t_sport()?),
        new: SocketAddr::new(m.address_dst()?.ip(), m.nat_t_dport()?),
    })
}

/// What a request's answer carries for the bookkeeping.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// The SA's SPI (GETSPI), or nothing.
    Sa,
    /// The reqid of a policy (SADB_X_SPDGET of an ACQUIRE's policy).
    Reqid,
    /// The SA's byte counter (SADB_GET of a usage query).
    Bytes,
}

/// The kernel's answer as the bookkeeping takes it.
fn judge(reply: Result<Message, PfkeyError>, asked: Asked) -> Answer {
    match reply {
        Ok(m) if asked == Asked::Reqid => Answer::Done(
            m.policy()
                .and_then(|p| p.requests.iter().map(|r| r.reqid).find(|r| *r != 0)),
        ),
        Ok(m) if asked == Asked::Bytes => match m.lifetime_current() {
            Some(lt) => Answer::Used(lt.bytes),
            None => Answer::Done(None),
        },
        Ok(m) => Answer::Done(m.sa().map(|sa| sa.spi)),
        Err(e) => Answer::Refused {
            not_found: matches!(&e, PfkeyError::Kernel(k) if k.kind() == KernelErrorKind::NotFound),
            reason: e.to_string(),
        },
    }
}

fn dir_name(d: u8) -> &'static str {
    match d {
        consts::IPSEC_DIR_INBOUND => "in",
        consts::IPSEC_DIR_OUTBOUND => "out",
        _ => "fwd",
    }
}

fn flow(a: &Selector, b: &Selector) -> String {
    format!("{}/{} -> {}/{}", a.addr, a.prefix, b.addr, b.prefix)
}

fn sa_name(p: IpsecProto, spi: u32, dst: IpAddr) -> String {
    format!("{}.{spi:x}@{dst}", p.name().to_ascii_lowercase())
}

/// SADB_REGISTER for ESP and AH on `events`, from a thread: the kernel
/// probes every algorithm it knows while it handles the message (module
/// loads, seconds on a slow machine), and pluto must not stop answering
/// meanwhile. The replies come back on `events` itself, where the event
/// loop reads and ignores them.
fn register_in_background(events: &PfkeySocket) -> Result<(), String> {
    let mut writer = events
        .try_clone()
        .map_err(|e| format!("PF_KEY events socket: {e}"))?;
    std::thread::Builder::new()
        .name("pfkey-register".into())
        .spawn(move || {
            for t in [consts::SADB_SATYPE_ESP, consts::SADB_SATYPE_AH] {
                let mut msg = build::register(t, 0, 0);
                if let Err(e) = writer.send(&mut msg) {
                    log::warn!("SADB_REGISTER: {e}: no ACQUIRE or EXPIRE will reach pluto");
                }
            }
        })
        .map(|_| ())
        .map_err(|e| format!("cannot start the PF_KEY registration: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::kernel::Encap;
    use crate::pfkey::wire::{Ext, Lifetime};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn hex(s: &str) -> Vec<u8> {
        crate::xfrm::tests::hex(s)
    }

    fn encap_sa() -> SaInstall {
        let sel = Selector {
            addr: ip("10.0.1.0"),
            prefix: 24,
            protocol: 0,
            port: 0,
        };
        SaInstall {
            proto: IpsecProto::Esp,
            inbound: true,
            spi: 0x1234_5678,
            src: ip("192.0.2.2"),
            dst: ip("192.0.2.1"),
            mode: Mode::Tunnel,
            encrypt: Some((CipherAlg::Aes128, vec![7; 16])),
            integ: Some((IntegAlg::HmacSha1_96, vec![9; 20])),
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

    /// `encap_sa` without encapsulation, between `src` and `dst`, for the
    /// traffic of `sel`.
    fn tunnel_sa(src: &str, dst: &str, sel: &str) -> SaInstall {
        let mut sa = encap_sa();
        (sa.src, sa.dst, sa.encap) = (ip(src), ip(dst), None);
        sa.src_sel.addr = ip(sel);
        sa.dst_sel.addr = ip(sel);
        sa
    }

    fn proxy_of(sa: &SaInstall) -> Option<crate::pfkey::wire::Address> {
        let m = Message::parse(&sa_message(sa, 1234, true).emit()).unwrap();
        m.exts.into_iter().find_map(|e| match e {
            Ext::AddressProxy(a) => Some(a),
            _ => None,
        })
    }

    #[test]
    fn neighbour_discovery_passes_first_in_and_out_and_goes_at_shutdown() {
        let parsed = |on| -> Vec<Message> {
            nd_bypass_messages(on, 1234)
                .into_iter()
                .map(|(_, m)| Message::parse(&m.emit()).unwrap())
                .collect()
        };
        let mut seen = Vec::new();
        for m in parsed(true) {
            assert_eq!(m.header.msg_type, linux::SADB_X_SPDUPDATE);
            let (mut src, mut dst, mut pol) = (None, None, None);
            for e in m.exts {
                match e {
                    Ext::AddressSrc(a) => src = Some(a),
                    Ext::AddressDst(a) => dst = Some(a),
                    Ext::Policy(p) => pol = Some(p),
                    _ => {}
                }
            }
            let (src, dst, pol) = (src.unwrap(), dst.unwrap(), pol.unwrap());
            assert_eq!((src.proto, src.prefixlen, src.ip()), (58, 0, ip("::")));
            assert_eq!((dst.proto, dst.prefixlen, dst.port()), (58, 0, 0));
            assert_eq!(
                (pol.policy_type, pol.priority),
                (consts::IPSEC_POLICY_NONE, 1)
            );
            assert!(pol.requests.is_empty());
            seen.push((src.port(), pol.dir));
        }
        let (i, o) = (consts::IPSEC_DIR_INBOUND, consts::IPSEC_DIR_OUTBOUND);
        assert_eq!(seen, [(135, i), (135, o), (136, i), (136, o)]);
        let gone: Vec<u8> = parsed(false).iter().map(|m| m.header.msg_type).collect();
        assert_eq!(gone, [linux::SADB_X_SPDDELETE; 4]);
    }

    #[test]
    fn a_tunnel_of_the_other_family_tells_the_kernel_its_traffics_family() {
        // IPv4 clients over IPv6 hosts: ADDRESS_PROXY 0.0.0.0/0.
        let p = proxy_of(&tunnel_sa("2001:db8::2", "2001:db8::1", "10.0.1.0"));
        let p = p.expect("no ADDRESS_PROXY");
        assert_eq!((p.addr.ip(), p.prefixlen), (ip("0.0.0.0"), 0));
        // And the reverse: ::/0.
        let p = proxy_of(&tunnel_sa("192.0.2.2", "192.0.2.1", "2001:db8:1::")).unwrap();
        assert_eq!((p.addr.ip(), p.prefixlen), (ip("::"), 0));
        // One family: the kernel's default is right, nothing is added; nor
        // in transport mode.
        assert_eq!(
            proxy_of(&tunnel_sa("192.0.2.2", "192.0.2.1", "10.0.1.0")),
            None
        );
        let mut sa = tunnel_sa("2001:db8::2", "2001:db8::1", "10.0.1.0");
        sa.mode = Mode::Transport;
        assert_eq!(proxy_of(&sa), None);
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn encapsulated_sas_end_with_the_nat_t_extensions() {
        let sa = encap_sa();
        let add = sa_message(&sa, 1234, false).emit();
        let upd = sa_message(&sa, 1234, true).emit();
        assert_eq!(add[1], consts::SADB_ADD);
        assert_eq!(upd[1], consts::SADB_UPDATE);
        // <linux/pfkeyv2.h>: sadb_x_nat_t_type (len 1, type 20,
        // UDP_ENCAP_ESPINUDP 2), sadb_x_nat_t_port (len 1, types 21 and 22,
        // the port big-endian), then X_NAT_T_OA (23) as an sadb_address
        // with a sockaddr_in of the original address.
        let tail = hex("
            0100 1400 02 000000
            0100 1500 1195 0000
            0100 1600 1194 0000
            0300 1700 ff 20 0000  0200 0000 c6336407 0000000000000000
            ");
        assert!(add.ends_with(&tail), "{add:02x?}");
        assert!(upd.ends_with(&tail), "{upd:02x?}");
        // The rest is the plain SA.
        let mut plain = sa.clone();
        plain.encap = None;
        let plain = sa_message(&plain, 1234, true).emit();
        assert_eq!(&upd[8..plain.len()], &plain[8..]);
        assert_eq!(upd.len(), plain.len() + tail.len());
        // Without NAT-OA (tunnel mode) no OA extension.
        let mut no_oa = sa;
        no_oa.encap = Some(Encap {
            sport: 4500,
            dport: 61001,
            oa: None,
        });
        let m = sa_message(&no_oa, 1234, true);
        assert_eq!(m.nat_t_type(), Some(consts::UDP_ENCAP_ESPINUDP));
        assert_eq!(
            (m.nat_t_sport(), m.nat_t_dport()),
            (Some(4500), Some(61001))
        );
        assert!(m.nat_t_oa().is_none());
    }

    /// X_NAT_T_NEW_MAPPING as af_key's `pfkey_send_new_mapping` lays it
    /// out: SA, ADDRESS_SRC + X_NAT_T_SPORT (the peer the SA had),
    /// ADDRESS_DST + X_NAT_T_DPORT (where it is now). 96 bytes, 12 words.
    const NEW_MAPPING: &str = "
        02 17 00 03 0c00 0000 07000000 00000000
        0200 0100 12345678 00 00 00 00 00000000
        0300 0500 00 20 0000  0200 0000 c6336407 0000000000000000
        0100 1500 1194 0000
        0300 0600 00 20 0000  0200 0000 c6336409 0000000000000000
        0100 1600 ee49 0000
    ";

    #[test]
    #[cfg(target_endian = "little")]
    fn the_kernels_new_mapping_reaches_the_engine() {
        let m = Message::parse(&hex(NEW_MAPPING)).unwrap();
        assert_eq!(m.header.msg_type, linux::SADB_X_NAT_T_NEW_MAPPING);
        let mut dsts = HashMap::new();
        // Not an SA pluto installed with encapsulation: nothing to say.
        assert_eq!(nat_mapping(&m, &dsts), None);
        dsts.insert(0x1234_5678, ip("192.0.2.1"));
        assert_eq!(
            nat_mapping(&m, &dsts),
            Some(NatMapping {
                proto: IpsecProto::Esp,
                spi: 0x1234_5678,
                dst: ip("192.0.2.1"),
                old: SocketAddr::new(ip("198.51.100.7"), 4500),
                new: SocketAddr::new(ip("198.51.100.9"), 61001),
            })
        );
        let mut ah = m.clone();
        ah.header.satype = consts::SADB_SATYPE_AH;
        assert_eq!(nat_mapping(&ah, &dsts), None);
        let mut portless = m;
        portless.exts.retain(|e| !matches!(e, Ext::NatTDport(_)));
        assert_eq!(nat_mapping(&portless, &dsts), None);
    }

    #[test]
    fn a_usage_query_is_answered_with_the_current_bytes() {
        let get = build::get_sa(
            consts::SADB_SATYPE_ESP,
            0x1234_5678,
            ip("192.0.2.2"),
            ip("192.0.2.1"),
            0,
            1,
        );
        assert_eq!(get.header.msg_type, consts::SADB_GET);
        let reply = get.clone().with(Ext::LifetimeCurrent(Lifetime {
            bytes: 4242,
            ..Lifetime::default()
        }));
        assert!(matches!(
            judge(Ok(reply.clone()), Asked::Bytes),
            Answer::Used(4242)
        ));
        assert!(matches!(
            judge(Ok(reply), Asked::Sa),
            Answer::Done(Some(0x1234_5678))
        ));
        assert!(matches!(judge(Ok(get), Asked::Bytes), Answer::Done(None)));
    }
}
