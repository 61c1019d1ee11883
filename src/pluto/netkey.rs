//! pluto's kernel backend for Linux NETKEY over the in-tree PF_KEYv2: SPIs
//! from GETSPI, SAs with UPDATE (inbound, completing the larval SA) and ADD
//! (outbound), SPD entries with X_SPDUPDATE/X_SPDDELETE.
//!
//! Nothing here waits for the kernel: requests go out with fresh sequence
//! numbers and their answers are matched when the event loop finds the
//! socket readable. An install batch is sent whole; once every part is
//! answered it is reported installed, or, when any part was refused, what
//! went in is taken out again and the batch reported failed.

use super::kernel::{KernelBackend, KernelEvent, KernelOutput};
use super::requests::{Answer, Pending, Requests};
use crate::ike::crypto::CipherAlg;
use crate::ike::kernel::{
    Acquire, IntegAlg, IpsecProto, KernelOp, Mode, PolicyAction, PolicySpec, SaInstall, Selector,
};
use crate::pfkey::build::{self, AlgKey, IpsecSpec, SaSpec};
use crate::pfkey::consts::{self, linux};
use crate::pfkey::{KernelErrorKind, Message, PfkeyError, PfkeySocket};
use std::net::IpAddr;
use std::os::fd::AsRawFd;

pub struct Netkey {
    /// Requests and their replies.
    sock: PfkeySocket,
    /// Registered for ESP and AH: the kernel's ACQUIREs and EXPIREs.
    events: PfkeySocket,
    requests: Requests<Message>,
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

fn sa_message(sa: &SaInstall, pid: u32) -> Message {
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
        nat_t: None,
    };
    let seq = 0; // the socket stamps its own sequence number
    if sa.inbound {
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
                            ipcomp: p.protos.contains(&IpsecProto::Ipcomp),
                            esp: p.protos.contains(&IpsecProto::Esp),
                            ah: p.protos.contains(&IpsecProto::Ah),
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
            parts.push((what, sa_message(sa, pid), undo));
        }
        for p in policies {
            let undo = policy_messages(p, false, pid);
            for ((what, msg), (_, undo)) in policy_messages(p, true, pid).into_iter().zip(undo) {
                parts.push((what, msg, Some(Box::new(undo))));
            }
        }
        self.requests.begin_batch(req, parts.len());
        for (what, msg, undo) in parts {
            self.send(msg, Pending::Part { req, what, undo });
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
            let lookup = matches!(why, Pending::Acquire { .. });
            let undo = self.requests.answer(why, judge(self.sock.check(m), lookup));
            self.send_undo(undo);
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
                    self.requests.event(KernelEvent::Expire {
                        proto,
                        spi: sa.spi,
                        dst: dst.addr.ip(),
                        hard: m.lifetime_hard().is_some(),
                    });
                }
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
                let msg = build::delete_sa(satype(proto), spi, src, dst, 0, pid);
                let what = format!("SA {}", sa_name(proto, spi, dst));
                self.send(msg, Pending::Delete { what, sa: true });
            }
            KernelOp::DeletePolicy(p) => {
                for (what, msg) in policy_messages(&p, false, pid) {
                    self.send(msg, Pending::Delete { what, sa: false });
                }
            }
            KernelOp::UpdateSa { req, .. } | KernelOp::QuerySa { req, .. } => self
                .requests
                .refuse(req, "not supported by this backend yet".into()),
        }
    }
}

/// The kernel's answer as the bookkeeping takes it: an SA's SPI (GETSPI),
/// or with `lookup` the reqid of a policy (SADB_X_SPDGET).
fn judge(reply: Result<Message, PfkeyError>, lookup: bool) -> Answer {
    match reply {
        Ok(m) if lookup => Answer::Done(
            m.policy()
                .and_then(|p| p.requests.iter().map(|r| r.reqid).find(|r| *r != 0)),
        ),
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
