//! PF_KEY messages in XFRM terms and back, the way the kernel's `af_key`
//! translates them (`pfkey_msg2xfrm_state`, `pfkey_spdadd`,
//! `pfkey_xfrm_state2msg`, `pfkey_xfrm_policy2msg`), so that a tool written
//! against Linux PF_KEY behaves the same on a kernel without `af_key`.
//!
//! Requests: SADB_ADD / UPDATE / DELETE / FLUSH / DUMP and X_SPDADD /
//! UPDATE / DELETE / FLUSH / DUMP. Replies: the NEWSA and NEWPOLICY of
//! dumps become the SADB_DUMP / X_SPDDUMP entries `af_key` would have sent.
use super::build::{self, pfkey_aalg_name, pfkey_calg_name, pfkey_ealg_name};
use super::wire::consts::*;
use super::wire::{
    Addr, Algo, AlgoAuth, Attr, Body, EncapTmpl, Header, LifetimeCfg, Message, Selector, UserTmpl,
    UserpolicyId, UserpolicyInfo, UsersaFlush, UsersaId, UsersaInfo, XFRM_INF,
};
use crate::pfkey::consts::{self as pf, linux};
use crate::pfkey::wire::{Address, IpsecRequest, Key, Lifetime, Policy, Sa, Sa2};
use crate::pfkey::{Ext, Header as PfHeader, Message as PfMessage};
use std::net::{IpAddr, SocketAddr};

/// Why a PF_KEY message has no XFRM equivalent here.
pub type Untranslatable = String;

fn satype_proto(satype: u8) -> Option<u8> {
    pf::linux_proto_of_satype(satype)
}

/// `_KEY2X`: 0 means no limit.
fn key2x(v: u64) -> u64 {
    if v == 0 {
        XFRM_INF
    } else {
        v
    }
}

/// `_X2KEY`: no limit is 0.
fn x2key(v: u64) -> u64 {
    if v == XFRM_INF {
        0
    } else {
        v
    }
}

fn family(ip: IpAddr) -> u16 {
    super::wire::family_of(ip)
}

fn lifetimes(m: &PfMessage) -> LifetimeCfg {
    let mut l = LifetimeCfg::infinite();
    if let Some(h) = m.lifetime_hard() {
        l.hard_packet_limit = key2x(u64::from(h.allocations));
        l.hard_byte_limit = key2x(h.bytes);
        l.hard_add_expires_seconds = h.addtime;
        l.hard_use_expires_seconds = h.usetime;
    }
    if let Some(s) = m.lifetime_soft() {
        l.soft_packet_limit = key2x(u64::from(s.allocations));
        l.soft_byte_limit = key2x(s.bytes);
        l.soft_add_expires_seconds = s.addtime;
        l.soft_use_expires_seconds = s.usetime;
    }
    l
}

/// IPSEC_MODE_* to XFRM_MODE_* (`pfkey_mode_to_xfrm`; ANY is transport).
fn mode_to_xfrm(mode: u8) -> Result<u8, Untranslatable> {
    match mode {
        pf::IPSEC_MODE_ANY | pf::IPSEC_MODE_TRANSPORT => Ok(XFRM_MODE_TRANSPORT),
        pf::IPSEC_MODE_TUNNEL => Ok(XFRM_MODE_TUNNEL),
        pf::IPSEC_MODE_BEET => Ok(XFRM_MODE_BEET),
        m => Err(format!("IPsec mode {m} has no XFRM equivalent")),
    }
}

fn mode_to_pfkey(mode: u8) -> u8 {
    match mode {
        XFRM_MODE_TUNNEL => pf::IPSEC_MODE_TUNNEL,
        XFRM_MODE_BEET => pf::IPSEC_MODE_BEET,
        _ => pf::IPSEC_MODE_TRANSPORT,
    }
}

fn sa_addresses(m: &PfMessage) -> Result<(IpAddr, IpAddr), Untranslatable> {
    match (m.address_src(), m.address_dst()) {
        (Some(s), Some(d)) => Ok((s.ip(), d.ip())),
        _ => Err("SA message without both addresses".into()),
    }
}

fn sa_request(msg_type: u16, m: &PfMessage) -> Result<Message, Untranslatable> {
    let proto = satype_proto(m.header.satype)
        .ok_or_else(|| format!("SA type {} has no XFRM protocol", m.header.satype))?;
    let sa = m.sa().ok_or("SA message without SA extension")?;
    let (src, dst) = sa_addresses(m)?;
    let (mode, reqid) = match m.sa2() {
        Some(s2) => (mode_to_xfrm(s2.mode)?, s2.reqid),
        None => (XFRM_MODE_TRANSPORT, 0),
    };
    let info = UsersaInfo {
        id: super::wire::Id {
            daddr: dst.into(),
            spi: sa.spi,
            proto,
        },
        saddr: src.into(),
        lft: lifetimes(m),
        reqid,
        family: family(dst),
        mode,
        replay_window: sa.replay.min(32),
        ..UsersaInfo::default()
    };
    let mut x = Message::new(
        Header::new(msg_type, NLM_F_REQUEST | NLM_F_ACK),
        Body::Sa(info),
    );
    if proto == IPPROTO_COMP {
        let name = pfkey_calg_name(sa.encrypt)
            .ok_or_else(|| format!("compression algorithm {} unknown to XFRM", sa.encrypt))?;
        x.attrs.push(Attr::AlgComp(Algo::new(name, &[])));
        return Ok(x);
    }
    if sa.auth != pf::SADB_AALG_NONE {
        let (name, trunc) = pfkey_aalg_name(sa.auth)
            .ok_or_else(|| format!("authentication algorithm {} unknown to XFRM", sa.auth))?;
        let key = m.key_auth().map_or(&[][..], |k| k.data.as_slice());
        x.attrs
            .push(Attr::AlgAuthTrunc(AlgoAuth::new(name, key, trunc)));
    }
    if proto == IPPROTO_ESP {
        let name = pfkey_ealg_name(sa.encrypt)
            .ok_or_else(|| format!("encryption algorithm {} unknown to XFRM", sa.encrypt))?;
        let key = m.key_encrypt().map_or(&[][..], |k| k.data.as_slice());
        x.attrs.push(Attr::AlgCrypt(Algo::new(name, key)));
    }
    if let Some(t) = m.nat_t_type() {
        x.attrs.push(Attr::Encap(EncapTmpl {
            encap_type: u16::from(t),
            sport: m.nat_t_sport().unwrap_or(0),
            dport: m.nat_t_dport().unwrap_or(0),
            oa: m.nat_t_oa().map_or(Addr::ZERO, |a| a.ip().into()),
        }));
    }
    Ok(x)
}

/// The selector of a policy's address extensions (`pfkey_spdadd`).
fn selector(m: &PfMessage) -> Result<Selector, Untranslatable> {
    let (s, d) = match (m.address_src(), m.address_dst()) {
        (Some(s), Some(d)) => (s, d),
        _ => return Err("policy message without both selectors".into()),
    };
    let proto = if s.proto == pf::IPSEC_ULPROTO_ANY {
        0
    } else {
        s.proto
    };
    Ok(Selector::new(s.ip(), s.prefixlen, d.ip(), d.prefixlen)
        .with_proto(proto)
        .with_ports(s.port(), d.port()))
}

fn dir_to_xfrm(dir: u8) -> Result<u8, Untranslatable> {
    match dir {
        pf::IPSEC_DIR_INBOUND => Ok(XFRM_POLICY_IN),
        pf::IPSEC_DIR_OUTBOUND => Ok(XFRM_POLICY_OUT),
        pf::IPSEC_DIR_FWD => Ok(XFRM_POLICY_FWD),
        d => Err(format!("policy direction {d} has no XFRM equivalent")),
    }
}

fn dir_to_pfkey(dir: u8) -> u8 {
    dir.saturating_add(1)
}

/// `parse_ipsecrequest`: level USE is an optional template, UNIQUE keeps
/// the reqid, REQUIRE matches any SA (reqid 0); every algorithm allowed.
fn tmpl_of(r: &IpsecRequest, sel_family: u16) -> Result<UserTmpl, Untranslatable> {
    let proto = u8::try_from(r.proto).map_err(|_| format!("protocol {}", r.proto))?;
    let (saddr, daddr, fam) = match r.tunnel {
        Some((s, d)) => (Addr::from(s.ip()), Addr::from(d.ip()), family(d.ip())),
        None => (Addr::ZERO, Addr::ZERO, sel_family),
    };
    let reqid = if r.level == pf::IPSEC_LEVEL_UNIQUE {
        r.reqid
    } else {
        0
    };
    Ok(UserTmpl {
        id: super::wire::Id {
            daddr,
            spi: 0,
            proto,
        },
        family: fam,
        saddr,
        reqid,
        mode: mode_to_xfrm(r.mode)?,
        share: XFRM_SHARE_ANY,
        optional: u8::from(r.level == pf::IPSEC_LEVEL_USE),
        aalgos: u32::MAX,
        ealgos: u32::MAX,
        calgos: u32::MAX,
    })
}

fn policy_request(msg_type: u16, m: &PfMessage) -> Result<Message, Untranslatable> {
    let p = m.policy().ok_or("policy message without X_POLICY")?;
    let sel = selector(m)?;
    let info = UserpolicyInfo {
        sel,
        lft: LifetimeCfg::infinite(),
        priority: p.priority,
        dir: dir_to_xfrm(p.dir)?,
        action: if p.policy_type == pf::IPSEC_POLICY_DISCARD {
            XFRM_POLICY_BLOCK
        } else {
            XFRM_POLICY_ALLOW
        },
        ..UserpolicyInfo::default()
    };
    let mut x = Message::new(
        Header::new(msg_type, NLM_F_REQUEST | NLM_F_ACK),
        Body::Policy(info),
    );
    if p.policy_type == pf::IPSEC_POLICY_IPSEC {
        let t = p
            .requests
            .iter()
            .map(|r| tmpl_of(r, sel.family))
            .collect::<Result<Vec<_>, _>>()?;
        x.attrs.push(Attr::Tmpl(t));
    }
    Ok(x)
}

/// The XFRM request doing what the Linux PF_KEY request `m` does.
pub fn request_to_xfrm(m: &PfMessage) -> Result<Message, Untranslatable> {
    let h = &m.header;
    match h.msg_type {
        pf::SADB_ADD => sa_request(XFRM_MSG_NEWSA, m),
        pf::SADB_UPDATE => sa_request(XFRM_MSG_UPDSA, m),
        pf::SADB_DELETE => {
            let proto = satype_proto(h.satype)
                .ok_or_else(|| format!("SA type {} has no XFRM protocol", h.satype))?;
            let sa = m.sa().ok_or("DELETE without SA extension")?;
            let (src, dst) = sa_addresses(m)?;
            Ok(Message::new(
                Header::new(XFRM_MSG_DELSA, NLM_F_REQUEST | NLM_F_ACK),
                Body::SaId(UsersaId {
                    daddr: dst.into(),
                    spi: sa.spi,
                    family: family(dst),
                    proto,
                }),
            )
            .with(Attr::SrcAddr(src.into())))
        }
        pf::SADB_FLUSH => {
            let proto = if h.satype == pf::SADB_SATYPE_UNSPEC {
                0
            } else {
                satype_proto(h.satype)
                    .ok_or_else(|| format!("SA type {} has no XFRM protocol", h.satype))?
            };
            Ok(Message::new(
                Header::new(XFRM_MSG_FLUSHSA, NLM_F_REQUEST | NLM_F_ACK),
                Body::FlushSa(UsersaFlush { proto }),
            ))
        }
        pf::SADB_DUMP => Ok(build::dump_sa()),
        linux::SADB_X_SPDADD => policy_request(XFRM_MSG_NEWPOLICY, m),
        linux::SADB_X_SPDUPDATE => policy_request(XFRM_MSG_UPDPOLICY, m),
        linux::SADB_X_SPDDELETE => {
            let p = m.policy().ok_or("X_SPDDELETE without X_POLICY")?;
            Ok(Message::new(
                Header::new(XFRM_MSG_DELPOLICY, NLM_F_REQUEST | NLM_F_ACK),
                Body::PolicyId(UserpolicyId {
                    sel: selector(m)?,
                    index: 0,
                    dir: dir_to_xfrm(p.dir)?,
                }),
            ))
        }
        linux::SADB_X_SPDFLUSH => Ok(build::flush_policy()),
        linux::SADB_X_SPDDUMP => Ok(build::dump_policy()),
        t => Err(format!(
            "{} has no XFRM equivalent here",
            pf::msg_type_name(crate::pfkey::Dialect::Linux, t)
        )),
    }
}

fn alg_id<T: PartialEq + Copy>(
    name: &str,
    ids: &[u8],
    lookup: impl Fn(u8) -> Option<T>,
    key: impl Fn(T) -> &'static str,
) -> u8 {
    ids.iter()
        .copied()
        .find(|&id| lookup(id).map(&key) == Some(name))
        .unwrap_or(0)
}

const AALGS: &[u8] = &[
    pf::SADB_AALG_MD5HMAC,
    pf::SADB_AALG_SHA1HMAC,
    pf::SADB_X_AALG_SHA2_256HMAC,
    pf::SADB_X_AALG_SHA2_384HMAC,
    pf::SADB_X_AALG_SHA2_512HMAC,
];
const EALGS: &[u8] = &[
    pf::SADB_EALG_3DESCBC,
    pf::SADB_X_EALG_AESCBC,
    pf::SADB_EALG_DESCBC,
    pf::SADB_EALG_NULL,
];

/// The SADB_DUMP entry `af_key` would send for this NEWSA (`None` for
/// other messages and protocols PF_KEY has no type for).
pub fn sa_to_pfkey(x: &Message) -> Option<PfMessage> {
    let Body::Sa(info) = &x.body else {
        return None;
    };
    let satype = pf::linux_satype_of_proto(info.id.proto)?;
    let (src, dst) = (info.src()?, info.dst()?);
    let auth = x
        .alg_auth_trunc()
        .map(|a| (a.name.as_str(), a.key.as_slice()))
        .or_else(|| x.alg_auth().map(|a| (a.name.as_str(), a.key.as_slice())));
    let aalg = auth.map_or(0, |(n, _)| alg_id(n, AALGS, pfkey_aalg_name, |(n, _)| n));
    let ealg = if info.id.proto == IPPROTO_COMP {
        x.alg_comp().map_or(0, |c| {
            alg_id(&c.name, &[pf::SADB_X_CALG_DEFLATE], pfkey_calg_name, |n| n)
        })
    } else {
        x.alg_crypt()
            .map_or(0, |c| alg_id(&c.name, EALGS, pfkey_ealg_name, |n| n))
    };
    let lft = &info.lft;
    let cur = &info.curlft;
    let small = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    let mut m = PfMessage::new(PfHeader::new(pf::SADB_DUMP, satype, 0, 0))
        .with(Ext::Sa(Sa {
            spi: info.id.spi,
            replay: info.replay_window,
            state: pf::SADB_SASTATE_MATURE,
            auth: aalg,
            encrypt: ealg,
            flags: 0,
            klips_ref: None,
        }))
        .with(Ext::LifetimeCurrent(Lifetime {
            allocations: small(cur.packets),
            bytes: cur.bytes,
            addtime: cur.add_time,
            usetime: cur.use_time,
            packets: 0,
        }))
        .with(Ext::LifetimeHard(Lifetime {
            allocations: small(x2key(lft.hard_packet_limit)),
            bytes: x2key(lft.hard_byte_limit),
            addtime: lft.hard_add_expires_seconds,
            usetime: lft.hard_use_expires_seconds,
            packets: 0,
        }))
        .with(Ext::LifetimeSoft(Lifetime {
            allocations: small(x2key(lft.soft_packet_limit)),
            bytes: x2key(lft.soft_byte_limit),
            addtime: lft.soft_add_expires_seconds,
            usetime: lft.soft_use_expires_seconds,
            packets: 0,
        }))
        .with(Ext::AddressSrc(Address::host(src)))
        .with(Ext::AddressDst(Address::host(dst)));
    if let Some((_, key)) = auth {
        m.exts.push(Ext::KeyAuth(Key::new(key)));
    }
    if let Some(c) = x.alg_crypt() {
        m.exts.push(Ext::KeyEncrypt(Key::new(&c.key)));
    }
    m.exts.push(Ext::Sa2(Sa2 {
        mode: mode_to_pfkey(info.mode),
        sequence: 0,
        reqid: info.reqid,
    }));
    if let Some(e) = x.encap() {
        m.exts
            .push(Ext::NatTType(u8::try_from(e.encap_type).unwrap_or(u8::MAX)));
        m.exts.push(Ext::NatTSport(e.sport));
        m.exts.push(Ext::NatTDport(e.dport));
    }
    Some(m)
}

fn sel_address(addr: &Addr, prefixlen: u8, port: u16, sel: &Selector) -> Option<Address> {
    Some(Address {
        proto: if sel.proto == 0 {
            pf::IPSEC_ULPROTO_ANY
        } else {
            sel.proto
        },
        prefixlen,
        addr: SocketAddr::new(addr.ip(sel.family)?, port),
    })
}

/// The X_SPDDUMP entry `af_key` would send for this NEWPOLICY.
pub fn policy_to_pfkey(x: &Message) -> Option<PfMessage> {
    let Body::Policy(p) = &x.body else {
        return None;
    };
    let sel = &p.sel;
    let src = sel_address(&sel.saddr, sel.prefixlen_s, sel.sport, sel)?;
    let dst = sel_address(&sel.daddr, sel.prefixlen_d, sel.dport, sel)?;
    let tmpls = x.tmpls();
    let policy_type = match (p.action, tmpls.is_empty()) {
        (XFRM_POLICY_BLOCK, _) => pf::IPSEC_POLICY_DISCARD,
        (_, true) => pf::IPSEC_POLICY_NONE,
        (_, false) => pf::IPSEC_POLICY_IPSEC,
    };
    let requests = tmpls
        .iter()
        .map(|t| {
            let tunnel = if t.mode == XFRM_MODE_TRANSPORT {
                None
            } else {
                Some((SocketAddr::new(t.src()?, 0), SocketAddr::new(t.dst()?, 0)))
            };
            let level = if t.optional != 0 {
                pf::IPSEC_LEVEL_USE
            } else if t.reqid != 0 {
                pf::IPSEC_LEVEL_UNIQUE
            } else {
                pf::IPSEC_LEVEL_REQUIRE
            };
            Some(IpsecRequest {
                proto: u16::from(t.id.proto),
                mode: mode_to_pfkey(t.mode),
                level,
                reqid: t.reqid,
                tunnel,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(
        PfMessage::new(PfHeader::new(linux::SADB_X_SPDDUMP, 0, 0, 0))
            .with(Ext::AddressSrc(src))
            .with(Ext::AddressDst(dst))
            .with(Ext::Policy(Policy {
                policy_type,
                dir: dir_to_pfkey(p.dir),
                id: p.index,
                priority: p.priority,
                requests,
            })),
    )
}
