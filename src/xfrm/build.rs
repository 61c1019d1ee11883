//! The XFRM messages a keying daemon and the manual tools send, as pure
//! functions from typed specs.
//!
//! Every builder returns a [`Message`] with seq 0 and pid 0;
//! [`super::XfrmSocket::send`] stamps a fresh sequence number. The flags
//! are what iproute2 sends for the same request: NLM_F_REQUEST|NLM_F_ACK
//! for changes (the kernel answers with an NLMSG_ERROR, errno 0 = done),
//! NLM_F_REQUEST alone for GETSA / GETPOLICY / ALLOCSPI (the answer is the
//! object), NLM_F_REQUEST|NLM_F_DUMP for dumps (NLMSG_DONE ends them).
//!
//! # Templates and inbound traffic
//!
//! A policy's templates are in the order the kernel applies them on output,
//! innermost first (IPCOMP, ESP, AH), as with PF_KEY (see
//! [`crate::pfkey::build`]). Inbound, the kernel checks decapsulated
//! packets against the `in` / `fwd` policies (`xfrm_policy_ok`): a template
//! marked `optional` (iproute2's "level use") may be missing, and a
//! template's zero SPI, reqid or (tunnel-mode) addresses match any SA
//! (`xfrm_state_ok`, `xfrm_state_addr_cmp`).
use super::wire::consts::*;
use super::wire::{
    family_of, Addr, Algo, AlgoAuth, Attr, Body, EncapTmpl, Header, Id, LifetimeCfg, Mark, Message,
    Selector, UserTmpl, UserpolicyId, UserpolicyInfo, UsersaFlush, UsersaId, UsersaInfo,
    UserspiInfo, XFRM_INF,
};
use crate::ike::crypto::CipherAlg;
use crate::ike::kernel::{IntegAlg, IpsecProto};
use crate::pfkey::consts as pf;
use core::fmt;
use std::net::IpAddr;

/// An encryption or compression algorithm by kernel name, with its key
/// (Debug never shows the key).
#[derive(Clone, PartialEq, Eq)]
pub struct AlgKey {
    /// Crypto API name: "cbc(aes)", "cbc(des3_ede)", "deflate"...
    pub name: String,
    pub key: Vec<u8>,
}

/// An integrity algorithm by kernel name, its key and ICV length.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey {
    /// Crypto API name: "hmac(sha1)"...
    pub name: String,
    pub key: Vec<u8>,
    /// ICV length in bits (96 for HMAC-MD5/SHA1-96, 128 for SHA2-256-128).
    pub trunc_bits: u32,
}

impl fmt::Debug for AlgKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlgKey")
            .field("name", &self.name)
            .field("key", &format_args!("<{} bytes>", self.key.len()))
            .finish()
    }
}

impl fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKey")
            .field("name", &self.name)
            .field("key", &format_args!("<{} bytes>", self.key.len()))
            .field("trunc_bits", &self.trunc_bits)
            .finish()
    }
}

/// SA lifetimes; 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lifetimes {
    pub soft_bytes: u64,
    pub hard_bytes: u64,
    pub soft_packets: u64,
    pub hard_packets: u64,
    /// Seconds after adding.
    pub soft_add_secs: u64,
    pub hard_add_secs: u64,
}

impl Lifetimes {
    /// The kernel's form: byte and packet limits of 0 become XFRM_INF.
    pub fn to_cfg(&self) -> LifetimeCfg {
        let inf = |v: u64| if v == 0 { XFRM_INF } else { v };
        LifetimeCfg {
            soft_byte_limit: inf(self.soft_bytes),
            hard_byte_limit: inf(self.hard_bytes),
            soft_packet_limit: inf(self.soft_packets),
            hard_packet_limit: inf(self.hard_packets),
            soft_add_expires_seconds: self.soft_add_secs,
            hard_add_expires_seconds: self.hard_add_secs,
            ..LifetimeCfg::default()
        }
    }
}

/// One SA for NEWSA / UPDSA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaSpec {
    /// IPPROTO_ESP / IPPROTO_AH / IPPROTO_COMP.
    pub proto: u8,
    /// SPI (the CPI for IPCOMP), host value.
    pub spi: u32,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// XFRM_MODE_TRANSPORT / XFRM_MODE_TUNNEL.
    pub mode: u8,
    pub reqid: u32,
    pub replay_window: u8,
    /// XFRM_STATE_* flags (0 usually).
    pub flags: u8,
    /// Traffic the SA may carry; `None`: any (the kernel fills the family
    /// in, as for iproute2's `ip xfrm state add` without `sel`).
    pub selector: Option<Selector>,
    /// Sent as XFRMA_ALG_AUTH_TRUNC.
    pub auth: Option<AuthKey>,
    /// Sent as XFRMA_ALG_CRYPT.
    pub crypt: Option<AlgKey>,
    /// Compression algorithm name ("deflate"), sent as XFRMA_ALG_COMP.
    pub comp: Option<String>,
    /// UDP encapsulation (NAT traversal).
    pub encap: Option<EncapTmpl>,
    pub if_id: Option<u32>,
    pub mark: Option<Mark>,
    pub lifetimes: Lifetimes,
}

impl SaSpec {
    /// An SA with no algorithms, transport mode, no limits.
    pub fn new(proto: u8, spi: u32, src: IpAddr, dst: IpAddr) -> SaSpec {
        SaSpec {
            proto,
            spi,
            src,
            dst,
            mode: XFRM_MODE_TRANSPORT,
            reqid: 0,
            replay_window: 0,
            flags: 0,
            selector: None,
            auth: None,
            crypt: None,
            comp: None,
            encap: None,
            if_id: None,
            mark: None,
            lifetimes: Lifetimes::default(),
        }
    }

    /// The `xfrm_usersa_info` of this SA.
    pub fn to_info(&self) -> UsersaInfo {
        UsersaInfo {
            sel: self.selector.unwrap_or_default(),
            id: Id {
                daddr: self.dst.into(),
                spi: self.spi,
                proto: self.proto,
            },
            saddr: self.src.into(),
            lft: self.lifetimes.to_cfg(),
            reqid: self.reqid,
            family: family_of(self.dst),
            mode: self.mode,
            replay_window: self.replay_window,
            flags: self.flags,
            ..UsersaInfo::default()
        }
    }
}

/// One template of a policy: an SA the traffic must (or, if `optional`,
/// may) go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tmpl {
    pub proto: u8,
    /// 0 = any SPI.
    pub spi: u32,
    /// Tunnel endpoints; `None` = any (and what transport mode uses).
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub mode: u8,
    /// 0 = any reqid.
    pub reqid: u32,
    /// Level "use": the SA may be missing on input.
    pub optional: bool,
    /// XFRM_SHARE_* (XFRM_SHARE_ANY usually).
    pub share: u8,
}

impl Tmpl {
    /// A required template of `proto` in `mode`, any SPI, no addresses.
    pub fn new(proto: u8, mode: u8, reqid: u32) -> Tmpl {
        Tmpl {
            proto,
            spi: 0,
            src: None,
            dst: None,
            mode,
            reqid,
            optional: false,
            share: XFRM_SHARE_ANY,
        }
    }

    /// A tunnel-mode template from `src` to `dst`.
    pub fn tunnel(proto: u8, src: IpAddr, dst: IpAddr, reqid: u32) -> Tmpl {
        Tmpl {
            src: Some(src),
            dst: Some(dst),
            ..Tmpl::new(proto, XFRM_MODE_TUNNEL, reqid)
        }
    }

    /// The `xfrm_user_tmpl`; every algorithm allowed. The family is the
    /// endpoints', else `default_family` (the selector's).
    pub fn to_user(&self, default_family: u16) -> UserTmpl {
        let family = self.dst.or(self.src).map_or(default_family, family_of);
        UserTmpl {
            id: Id {
                daddr: self.dst.map_or(Addr::ZERO, Addr::from),
                spi: self.spi,
                proto: self.proto,
            },
            family,
            saddr: self.src.map_or(Addr::ZERO, Addr::from),
            reqid: self.reqid,
            mode: self.mode,
            share: self.share,
            optional: u8::from(self.optional),
            aalgos: u32::MAX,
            ealgos: u32::MAX,
            calgos: u32::MAX,
        }
    }
}

/// One policy for NEWPOLICY / UPDPOLICY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySpec {
    pub selector: Selector,
    /// XFRM_POLICY_IN / OUT / FWD.
    pub dir: u8,
    /// Lower wins.
    pub priority: u32,
    /// XFRM_POLICY_ALLOW / XFRM_POLICY_BLOCK.
    pub action: u8,
    /// Innermost first; empty for a plain allow or block.
    pub templates: Vec<Tmpl>,
    pub if_id: Option<u32>,
    pub mark: Option<Mark>,
    /// 0: the kernel picks the index.
    pub index: u32,
}

impl PolicySpec {
    /// An allow policy without templates (add them to protect traffic).
    pub fn new(selector: Selector, dir: u8, priority: u32) -> PolicySpec {
        PolicySpec {
            selector,
            dir,
            priority,
            action: XFRM_POLICY_ALLOW,
            templates: Vec::new(),
            if_id: None,
            mark: None,
            index: 0,
        }
    }

    /// The `xfrm_userpolicy_info`, no lifetime limits.
    pub fn to_info(&self) -> UserpolicyInfo {
        UserpolicyInfo {
            sel: self.selector,
            lft: LifetimeCfg::infinite(),
            priority: self.priority,
            index: self.index,
            dir: self.dir,
            action: self.action,
            ..UserpolicyInfo::default()
        }
    }
}

fn msg(msg_type: u16, flags: u16, body: Body) -> Message {
    Message::new(Header::new(msg_type, flags), body)
}

const CHANGE: u16 = NLM_F_REQUEST | NLM_F_ACK;

fn sa_message(msg_type: u16, spec: &SaSpec) -> Message {
    let mut m = msg(msg_type, CHANGE, Body::Sa(spec.to_info()));
    if let Some(a) = &spec.auth {
        m.attrs.push(Attr::AlgAuthTrunc(AlgoAuth::new(
            &a.name,
            &a.key,
            a.trunc_bits,
        )));
    }
    if let Some(c) = &spec.crypt {
        m.attrs.push(Attr::AlgCrypt(Algo::new(&c.name, &c.key)));
    }
    if let Some(c) = &spec.comp {
        m.attrs.push(Attr::AlgComp(Algo::new(c, &[])));
    }
    if let Some(e) = spec.encap {
        m.attrs.push(Attr::Encap(e));
    }
    if let Some(mark) = spec.mark {
        m.attrs.push(Attr::Mark(mark));
    }
    if let Some(id) = spec.if_id {
        m.attrs.push(Attr::IfId(id));
    }
    m
}

/// XFRM_MSG_NEWSA (fails with EEXIST if the SA exists). Attributes:
/// ALG_AUTH_TRUNC, ALG_CRYPT, ALG_COMP, ENCAP, MARK, IF_ID as given.
pub fn new_sa(spec: &SaSpec) -> Message {
    sa_message(XFRM_MSG_NEWSA, spec)
}

/// XFRM_MSG_UPDSA: as [`new_sa`], replacing an SA (or completing the
/// larval one ALLOCSPI made).
pub fn update_sa(spec: &SaSpec) -> Message {
    sa_message(XFRM_MSG_UPDSA, spec)
}

fn sa_id(msg_type: u16, flags: u16, proto: u8, spi: u32, src: IpAddr, dst: IpAddr) -> Message {
    msg(
        msg_type,
        flags,
        Body::SaId(UsersaId {
            daddr: dst.into(),
            spi,
            family: family_of(dst),
            proto,
        }),
    )
    .with(Attr::SrcAddr(src.into()))
}

/// XFRM_MSG_DELSA of the SA (dst, spi, proto), with XFRMA_SRCADDR.
pub fn del_sa(proto: u8, spi: u32, src: IpAddr, dst: IpAddr) -> Message {
    sa_id(XFRM_MSG_DELSA, CHANGE, proto, spi, src, dst)
}

/// XFRM_MSG_GETSA of one SA; the answer is a NEWSA with its counters.
pub fn get_sa(proto: u8, spi: u32, src: IpAddr, dst: IpAddr) -> Message {
    sa_id(XFRM_MSG_GETSA, NLM_F_REQUEST, proto, spi, src, dst)
}

/// XFRM_MSG_GETSA with NLM_F_DUMP: every SA, one NEWSA each.
pub fn dump_sa() -> Message {
    msg(XFRM_MSG_GETSA, NLM_F_REQUEST | NLM_F_DUMP, Body::Empty)
}

/// XFRM_MSG_ALLOCSPI: a larval SA of `proto` from `src` (the peer) to
/// `dst` (us) with an SPI in `min..=max`; the answer is a NEWSA carrying
/// the SPI. Complete it with [`update_sa`].
pub fn alloc_spi(proto: u8, src: IpAddr, dst: IpAddr, reqid: u32, min: u32, max: u32) -> Message {
    let info = UsersaInfo {
        id: Id {
            daddr: dst.into(),
            spi: 0,
            proto,
        },
        saddr: src.into(),
        family: family_of(dst),
        reqid,
        ..UsersaInfo::default()
    };
    msg(
        XFRM_MSG_ALLOCSPI,
        NLM_F_REQUEST,
        Body::AllocSpi(UserspiInfo { info, min, max }),
    )
}

fn policy_message(msg_type: u16, spec: &PolicySpec) -> Message {
    let mut m = msg(msg_type, CHANGE, Body::Policy(spec.to_info()));
    if !spec.templates.is_empty() {
        let family = spec.selector.family;
        m.attrs.push(Attr::Tmpl(
            spec.templates.iter().map(|t| t.to_user(family)).collect(),
        ));
    }
    if let Some(mark) = spec.mark {
        m.attrs.push(Attr::Mark(mark));
    }
    if let Some(id) = spec.if_id {
        m.attrs.push(Attr::IfId(id));
    }
    m
}

/// XFRM_MSG_NEWPOLICY (EEXIST if selector and direction exist).
/// Attributes: TMPL (if any), MARK, IF_ID.
pub fn new_policy(spec: &PolicySpec) -> Message {
    policy_message(XFRM_MSG_NEWPOLICY, spec)
}

/// XFRM_MSG_UPDPOLICY: as [`new_policy`], replacing an existing entry.
pub fn update_policy(spec: &PolicySpec) -> Message {
    policy_message(XFRM_MSG_UPDPOLICY, spec)
}

fn policy_id(msg_type: u16, flags: u16, sel: &Selector, dir: u8) -> Message {
    msg(
        msg_type,
        flags,
        Body::PolicyId(UserpolicyId {
            sel: *sel,
            index: 0,
            dir,
        }),
    )
}

/// XFRM_MSG_DELPOLICY of the policy with this selector and direction (add
/// `Attr::Mark` / `Attr::IfId` with `.with()` if it has them).
pub fn del_policy(sel: &Selector, dir: u8) -> Message {
    policy_id(XFRM_MSG_DELPOLICY, CHANGE, sel, dir)
}

/// XFRM_MSG_GETPOLICY of one policy; the answer is a NEWPOLICY.
pub fn get_policy(sel: &Selector, dir: u8) -> Message {
    policy_id(XFRM_MSG_GETPOLICY, NLM_F_REQUEST, sel, dir)
}

/// XFRM_MSG_GETPOLICY with NLM_F_DUMP: every policy, one NEWPOLICY each.
pub fn dump_policy() -> Message {
    msg(XFRM_MSG_GETPOLICY, NLM_F_REQUEST | NLM_F_DUMP, Body::Empty)
}

/// XFRM_MSG_FLUSHSA of every SA of `proto` (0: all).
pub fn flush_sa(proto: u8) -> Message {
    msg(
        XFRM_MSG_FLUSHSA,
        CHANGE,
        Body::FlushSa(UsersaFlush { proto }),
    )
}

/// XFRM_MSG_FLUSHPOLICY: remove every (main-type) policy.
pub fn flush_policy() -> Message {
    msg(XFRM_MSG_FLUSHPOLICY, CHANGE, Body::Empty)
}

/// The IP protocol number of an IPsec protocol.
pub fn proto_number(p: IpsecProto) -> u8 {
    match p {
        IpsecProto::Ah => IPPROTO_AH,
        IpsecProto::Esp => IPPROTO_ESP,
        IpsecProto::Ipcomp => IPPROTO_COMP,
    }
}

/// The kernel name of an ESP cipher.
pub fn cipher_name(c: CipherAlg) -> &'static str {
    match c {
        CipherAlg::Des3 => "cbc(des3_ede)",
        CipherAlg::Aes128 | CipherAlg::Aes192 | CipherAlg::Aes256 => "cbc(aes)",
    }
}

/// The kernel name and ICV bits of an integrity algorithm.
pub fn integ_name(i: IntegAlg) -> (&'static str, u32) {
    match i {
        IntegAlg::HmacMd5_96 => ("hmac(md5)", 96),
        IntegAlg::HmacSha1_96 => ("hmac(sha1)", 96),
        IntegAlg::HmacSha2_256_128 => ("hmac(sha256)", 128),
    }
}

/// The kernel name of IPCOMP's DEFLATE.
pub const COMP_DEFLATE: &str = "deflate";

/// The kernel name of a PF_KEY encryption algorithm (SADB_EALG_*).
pub fn pfkey_ealg_name(alg: u8) -> Option<&'static str> {
    Some(match alg {
        pf::SADB_EALG_3DESCBC => "cbc(des3_ede)",
        pf::SADB_X_EALG_AESCBC => "cbc(aes)",
        pf::SADB_EALG_DESCBC => "cbc(des)",
        pf::SADB_EALG_NULL => "ecb(cipher_null)",
        _ => return None,
    })
}

/// The kernel name and ICV bits of a PF_KEY authentication algorithm
/// (SADB_AALG_*), as af_key truncates them.
pub fn pfkey_aalg_name(alg: u8) -> Option<(&'static str, u32)> {
    Some(match alg {
        pf::SADB_AALG_MD5HMAC => ("hmac(md5)", 96),
        pf::SADB_AALG_SHA1HMAC => ("hmac(sha1)", 96),
        pf::SADB_X_AALG_SHA2_256HMAC => ("hmac(sha256)", 128),
        pf::SADB_X_AALG_SHA2_384HMAC => ("hmac(sha384)", 192),
        pf::SADB_X_AALG_SHA2_512HMAC => ("hmac(sha512)", 256),
        _ => return None,
    })
}

/// The kernel name of a PF_KEY compression algorithm (SADB_X_CALG_*).
pub fn pfkey_calg_name(alg: u8) -> Option<&'static str> {
    match alg {
        pf::SADB_X_CALG_DEFLATE => Some(COMP_DEFLATE),
        _ => None,
    }
}
