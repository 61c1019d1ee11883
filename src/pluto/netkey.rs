//! pluto's kernel backend for Linux NETKEY, over the in-tree PF_KEYv2: SPIs
//! from GETSPI, SAs with UPDATE (inbound, completing the larval SA) and ADD
//! (outbound), SPD entries with X_SPDADD/X_SPDDELETE.

use super::kernel::{KernelBackend, KernelEvent};
use crate::ike::crypto::CipherAlg;
use crate::ike::kernel::{
    Acquire, IntegAlg, IpsecProto, KernelOp, KernelReply, Mode, PolicyAction, PolicySpec,
    SaInstall, Selector,
};
use crate::pfkey::build::{self, AlgKey, IpsecSpec, SaSpec};
use crate::pfkey::consts::{self, linux};
use crate::pfkey::{KernelErrorKind, PfkeyError, PfkeySocket};
use std::net::IpAddr;

pub struct Netkey {
    /// Requests and their replies.
    sock: PfkeySocket,
    /// Registered for ESP and AH: the kernel's ACQUIREs and EXPIREs.
    events: PfkeySocket,
    /// Errors of operations that have no reply, for the daemon to log.
    errors: Vec<String>,
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

impl Netkey {
    /// Opens PF_KEY; fails where the kernel has no af_key.
    pub fn open() -> Result<Netkey, String> {
        let mut sock = PfkeySocket::open().map_err(|e| e.to_string())?;
        // A first SA with a new algorithm can take seconds in a slow kernel.
        sock.set_timeout(std::time::Duration::from_secs(10));
        let events = PfkeySocket::open_with(true, crate::pfkey::Dialect::Linux)
            .map_err(|e| e.to_string())?;
        Ok(Netkey {
            sock,
            events,
            errors: Vec::new(),
        })
    }

    fn pid(&self) -> u32 {
        self.sock.pid()
    }

    fn sa(&mut self, sa: &SaInstall) -> Result<(), String> {
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
            soft_secs: 0,
            hard_secs: u64::from(sa.lifetime_secs) + 60,
            nat_t: None,
        };
        let seq = 0; // the socket stamps its own sequence number
        let msg = if sa.inbound {
            build::update_sa(&spec, seq, self.pid())
        } else {
            build::add_sa(&spec, seq, self.pid())
        };
        self.sock
            .request(msg)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Installs (`add`, replacing what has the same selectors) or removes
    /// the policies of `p`: outbound, or inbound and forward. An IPsec
    /// action protects with `p`'s template (with no SA of its reqid,
    /// traffic makes the kernel ACQUIRE); the others pass or discard.
    fn policy(&mut self, p: &PolicySpec, add: bool) -> Result<(), String> {
        let (src, dst) = (selector(&p.src_sel), selector(&p.dst_sel));
        let dirs: &[u8] = if p.inbound {
            &[consts::IPSEC_DIR_INBOUND, consts::IPSEC_DIR_FWD]
        } else {
            &[consts::IPSEC_DIR_OUTBOUND]
        };
        for dir in dirs {
            let seq = 0; // the socket stamps its own sequence number
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
                build::spd_update(&spec, seq, self.pid())
            } else {
                build::spd_delete(*dir, &src, &dst, seq, self.pid())
            };
            self.sock.request(msg).map_err(|e| {
                format!(
                    "{} policy {}: {e}",
                    dir_name(*dir),
                    flow(&p.src_sel, &p.dst_sel)
                )
            })?;
        }
        Ok(())
    }

    /// Installs a batch, all or nothing: on a refusal the outbound SAs and
    /// the policies of the batch that went in are taken out again (filled
    /// inbound SAs stay: the engine deletes them with their reserved SPIs).
    fn install(&mut self, sas: &[SaInstall], policies: &[PolicySpec]) -> Result<(), String> {
        let mut added_sas: Vec<&SaInstall> = Vec::new();
        let mut added_policies: Vec<&PolicySpec> = Vec::new();
        let mut refusal = None;
        for sa in sas {
            match self.sa(sa) {
                Ok(()) => added_sas.push(sa),
                Err(e) => {
                    refusal = Some(format!(
                        "cannot install SA {}: {e}",
                        sa_name(sa.proto, sa.spi, sa.dst)
                    ));
                    break;
                }
            }
        }
        if refusal.is_none() {
            for p in policies {
                match self.policy(p, true) {
                    Ok(_) => added_policies.push(p),
                    Err(e) => {
                        refusal = Some(format!("cannot install {e}"));
                        break;
                    }
                }
            }
        }
        let Some(refusal) = refusal else {
            return Ok(());
        };
        for p in added_policies {
            if let Err(e) = self.policy(p, false) {
                self.errors.push(format!("ERROR: cannot take back {e}"));
            }
        }
        for sa in added_sas.into_iter().filter(|sa| !sa.inbound) {
            let msg = build::delete_sa(satype(sa.proto), sa.spi, sa.src, sa.dst, 0, self.pid());
            if let Err(e) = self.sock.request(msg) {
                self.errors.push(format!(
                    "ERROR: cannot take back SA {}: {e}",
                    sa_name(sa.proto, sa.spi, sa.dst)
                ));
            }
        }
        Err(refusal)
    }

    /// The ACQUIRE `m` as the engine takes it: PF_KEY names the policy by
    /// its kernel index only, so the policy's reqid is asked for
    /// (SADB_X_SPDGET); the addresses are the SA's ends.
    fn acquire(&mut self, m: &crate::pfkey::Message) -> Option<Acquire> {
        let src = m.address_src()?.addr.ip();
        let dst = m.address_dst()?.addr.ip();
        let reqid = m.policy().map(|p| p.id).and_then(|id| {
            let reply = self.sock.request(build::spd_get(id, 0, self.pid())).ok()?;
            reply
                .policy()?
                .requests
                .iter()
                .map(|r| r.reqid)
                .find(|r| *r != 0)
        });
        Some(Acquire { reqid, src, dst })
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

impl KernelBackend for Netkey {
    fn name(&self) -> &'static str {
        "NETKEY (PF_KEYv2)"
    }

    fn take_errors(&mut self) -> Vec<String> {
        std::mem::take(&mut self.errors)
    }

    fn start_events(&mut self) -> Result<(), String> {
        register_in_background(&self.events)
    }

    fn events_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        Some(self.events.as_raw_fd())
    }

    fn poll_events(&mut self) -> Vec<KernelEvent> {
        let mut out = Vec::new();
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
                    if let Some(acq) = self.acquire(&m) {
                        let ev = KernelEvent::Acquire(acq);
                        if !out.contains(&ev) {
                            out.push(ev);
                        }
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
                    out.push(KernelEvent::Expire {
                        proto,
                        spi: sa.spi,
                        dst: dst.addr.ip(),
                        hard: m.lifetime_hard().is_some(),
                    });
                }
                _ => {}
            }
        }
        out
    }

    fn apply(&mut self, op: KernelOp) -> Option<KernelReply> {
        match op {
            KernelOp::GetSpi {
                req,
                proto,
                src,
                dst,
                min,
                max,
            } => {
                let seq = 0; // the socket stamps its own sequence number
                let msg = build::getspi(satype(proto), src, dst, min, max, seq, self.pid());
                Some(match self.sock.request(msg) {
                    Ok(reply) => match reply.sa() {
                        Some(sa) => KernelReply::Spi { req, spi: sa.spi },
                        None => KernelReply::Failed {
                            req,
                            reason: "GETSPI reply without an SA".into(),
                        },
                    },
                    Err(e) => KernelReply::Failed {
                        req,
                        reason: e.to_string(),
                    },
                })
            }
            KernelOp::Install { req, sas, policies } => Some(match self.install(&sas, &policies) {
                Ok(()) => KernelReply::Installed { req },
                Err(reason) => KernelReply::Failed { req, reason },
            }),
            KernelOp::DeleteSa {
                proto,
                spi,
                src,
                dst,
            } => {
                let seq = 0; // the socket stamps its own sequence number
                let msg = build::delete_sa(satype(proto), spi, src, dst, seq, self.pid());
                match self.sock.request(msg) {
                    // Already gone: an SPI reserved by GETSPI lives 30 s
                    // unfilled, and a hard lifetime ends an SA in the kernel
                    // first. Either way the goal of the delete is met.
                    Err(PfkeyError::Kernel(k)) if k.kind() == KernelErrorKind::NotFound => {}
                    Err(e) => self.errors.push(format!(
                        "ERROR: cannot delete SA {}: {e}",
                        sa_name(proto, spi, dst)
                    )),
                    Ok(_) => {}
                }
                None
            }
            KernelOp::DeletePolicy(p) => {
                if let Err(e) = self.policy(&p, false) {
                    self.errors.push(format!("ERROR: cannot delete {e}"));
                }
                None
            }
        }
    }
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
