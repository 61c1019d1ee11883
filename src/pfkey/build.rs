//! The Linux PF_KEY messages a keying daemon sends, as pure functions.
//!
//! Every builder returns a [`Message`] in the Linux dialect with the given
//! `seq` and `pid`; [`super::PfkeySocket::send`] overwrites both with the
//! socket's pid and a fresh sequence number.
//!
//! # Order of the ipsecrequests in a policy
//!
//! [`spd_add`] writes one `sadb_x_ipsecrequest` per protocol in the order
//! **IPCOMP, ESP, AH**: innermost (applied first on output) to outermost.
//! Linux copies the requests into `xfrm_vec[]` in wire order and
//! `xfrm_bundle_create` applies `xfrm_vec[0]` first, so the packet leaves as
//! `IP | AH | ESP | IPCOMP | payload`, the RFC 4301 nesting; the inbound
//! check (`xfrm_policy_ok`) walks the same list. This is also KAME/setkey's
//! convention ("esp/transport//require ah/transport//require"), strongSwan's
//! (`protos[] = { COMP, ESP, AH }`) and Openswan's (`kernel.c`: "must be in
//! inner-most to outer-most order").
//!
//! In tunnel mode only the first (innermost) request is a tunnel carrying the
//! outer endpoints; the others are transport requests applied over the new
//! outer header. The SAs must match: with IPCOMP the IPCOMP SA is the tunnel
//! one and ESP/AH SAs are transport mode. For inbound and forward policies
//! the IPCOMP request is optional (level USE): peers send small packets
//! uncompressed, which a required IPCOMP template would make the kernel drop.
//!
//! Levels: Linux keeps a request's reqid only with IPSEC_LEVEL_UNIQUE (and
//! only up to IPSEC_MANUAL_REQID_MAX = 0x3fff; above it the kernel picks its
//! own); with IPSEC_LEVEL_REQUIRE the reqid is ignored and any SA between the
//! endpoints matches. [`IpsecSpec::new`] uses REQUIRE; set `level` to UNIQUE
//! to bind a policy to the SAs of one negotiation.
use super::wire::consts::*;
use super::wire::{
    full_prefix, Address, Ext, Header, IpsecRequest, Key, Lifetime, Message, Policy, Sa, Sa2,
    SpiRange,
};
use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// An algorithm number and its key (Debug never shows the key).
#[derive(Clone, PartialEq, Eq)]
pub struct AlgKey {
    /// SADB_AALG_* / SADB_EALG_* / SADB_X_CALG_*.
    pub alg: u8,
    pub key: Vec<u8>,
}

impl fmt::Debug for AlgKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlgKey")
            .field("alg", &self.alg)
            .field("key", &format_args!("<{} bytes>", self.key.len()))
            .finish()
    }
}

/// NAT traversal (UDP encapsulation) parameters of an ESP SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatT {
    /// UDP_ENCAP_ESPINUDP (2) for RFC 3948.
    pub encap_type: u8,
    pub sport: u16,
    pub dport: u16,
    /// The peer's original address (NAT-OA), if known.
    pub original_addr: Option<IpAddr>,
}

/// One SA for SADB_ADD / SADB_UPDATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaSpec {
    /// SADB_SATYPE_AH / ESP / SADB_X_SATYPE_IPCOMP.
    pub satype: u8,
    /// SPI (the CPI for IPCOMP).
    pub spi: u32,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPSEC_MODE_TRANSPORT / TUNNEL (sent in X_SA2 with the reqid).
    pub mode: u8,
    pub reqid: u32,
    pub auth: Option<AlgKey>,
    /// Encryption (ESP) or compression (IPCOMP, empty key) algorithm.
    pub enc: Option<AlgKey>,
    pub replay_window: u8,
    /// Seconds after adding; 0 = no limit.
    pub soft_secs: u64,
    pub hard_secs: u64,
    pub nat_t: Option<NatT>,
    /// Sent as ADDRESS_PROXY, which Linux takes for the SA's selector (its
    /// source; the destination stays any): a tunnel-mode SA whose traffic
    /// is of the other address family than its endpoints needs one of the
    /// traffic's family.
    pub proxy: Option<Selector>,
}

/// A traffic selector of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Selector {
    /// Network address (host bits are cleared by the builders).
    pub addr: IpAddr,
    pub prefixlen: u8,
    /// Upper-layer protocol, 0 = any (sent as IPSEC_ULPROTO_ANY).
    pub proto: u8,
    /// Port, 0 = any.
    pub port: u16,
}

impl Selector {
    /// All traffic of one host.
    pub fn host(addr: IpAddr) -> Selector {
        Selector {
            addr,
            prefixlen: full_prefix(addr),
            proto: 0,
            port: 0,
        }
    }

    /// All traffic of a subnet.
    pub fn subnet(addr: IpAddr, prefixlen: u8) -> Selector {
        Selector {
            addr,
            prefixlen,
            proto: 0,
            port: 0,
        }
    }

    /// The address extension: masked address, prefix, protocol, port.
    pub fn to_address(&self) -> Address {
        let prefixlen = self.prefixlen.min(full_prefix(self.addr));
        Address {
            proto: if self.proto == 0 {
                IPSEC_ULPROTO_ANY
            } else {
                self.proto
            },
            prefixlen,
            addr: SocketAddr::new(mask(self.addr, prefixlen), self.port),
        }
    }
}

/// `addr` with the bits after `prefixlen` cleared.
fn mask(addr: IpAddr, prefixlen: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let m = u32::MAX
                .checked_shl(32 - u32::from(prefixlen.min(32)))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(prefixlen.min(128)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

/// A priority for a policy between `src` and `dst`: more specific selectors
/// get smaller numbers, which the xfrm lookup prefers (at equal priority the
/// policy inserted first wins, whatever its prefix). 0x20000 minus 256 per
/// prefix bit, minus 64 for a protocol and 32 per port.
pub fn policy_priority(src: &Selector, dst: &Selector) -> u32 {
    let bits = u32::from(src.prefixlen) + u32::from(dst.prefixlen);
    let mut p = 0x2_0000u32.saturating_sub(bits.saturating_mul(256));
    if src.proto != 0 || dst.proto != 0 {
        p = p.saturating_sub(64);
    }
    for port in [src.port, dst.port] {
        if port != 0 {
            p = p.saturating_sub(32);
        }
    }
    p
}

/// The IPsec protocols of a policy and how their SAs are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpsecSpec {
    pub ipcomp: bool,
    pub esp: bool,
    pub ah: bool,
    /// Outer (source, destination) of the tunnel for this direction; `None`
    /// for transport mode.
    pub tunnel: Option<(IpAddr, IpAddr)>,
    pub reqid: u32,
    /// IPSEC_LEVEL_REQUIRE or IPSEC_LEVEL_UNIQUE (see the module docs).
    pub level: u8,
}

impl IpsecSpec {
    /// ESP only, transport mode, level REQUIRE.
    pub fn new(reqid: u32) -> IpsecSpec {
        IpsecSpec {
            ipcomp: false,
            esp: true,
            ah: false,
            tunnel: None,
            reqid,
            level: IPSEC_LEVEL_REQUIRE,
        }
    }
}

/// What a policy does with matching traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyAction {
    /// Drop (IPSEC_POLICY_DISCARD): %drop / %reject / %hold shunts.
    Discard,
    /// Let through unprotected (IPSEC_POLICY_NONE): %pass.
    None,
    /// Protect with IPsec (IPSEC_POLICY_IPSEC).
    Ipsec(IpsecSpec),
}

/// One SPD entry for X_SPDADD / X_SPDUPDATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicySpec {
    /// IPSEC_DIR_INBOUND / OUTBOUND / FWD.
    pub dir: u8,
    pub src: Selector,
    pub dst: Selector,
    pub priority: u32,
    pub action: PolicyAction,
}

fn header(msg_type: u8, satype: u8, seq: u32, pid: u32) -> Message {
    Message::new(Header::new(msg_type, satype, seq, pid))
}

/// SADB_GETSPI: allocate an SPI in `min..=max` for SAs from `src` to `dst`
/// (`src` is the peer, `dst` us). Extensions: ADDRESS_SRC, ADDRESS_DST, SPIRANGE.
pub fn getspi(
    satype: u8,
    src: IpAddr,
    dst: IpAddr,
    min: u32,
    max: u32,
    seq: u32,
    pid: u32,
) -> Message {
    header(SADB_GETSPI, satype, seq, pid)
        .with(Ext::AddressSrc(Address::host(src)))
        .with(Ext::AddressDst(Address::host(dst)))
        .with(Ext::SpiRange(SpiRange { min, max }))
}

fn sa_message(msg_type: u8, spec: &SaSpec, seq: u32, pid: u32) -> Message {
    let sa = Sa {
        spi: spec.spi,
        replay: spec.replay_window,
        state: SADB_SASTATE_MATURE,
        auth: spec.auth.as_ref().map_or(SADB_AALG_NONE, |a| a.alg),
        encrypt: spec.enc.as_ref().map_or(SADB_EALG_NONE, |e| e.alg),
        flags: 0,
        klips_ref: None,
    };
    let mut m = header(msg_type, spec.satype, seq, pid)
        .with(Ext::Sa(sa))
        .with(Ext::LifetimeHard(Lifetime::seconds(spec.hard_secs)))
        .with(Ext::LifetimeSoft(Lifetime::seconds(spec.soft_secs)))
        .with(Ext::AddressSrc(Address::host(spec.src)))
        .with(Ext::AddressDst(Address::host(spec.dst)));
    if let Some(p) = &spec.proxy {
        m.exts.push(Ext::AddressProxy(p.to_address()));
    }
    // Linux wants KEY_AUTH for AH and KEY_ENCRYPT for ESP even when empty
    // (NULL algorithms), and refuses a 0-bit key for anything else.
    if let Some(a) = &spec.auth {
        if !a.key.is_empty() || spec.satype == SADB_SATYPE_AH {
            m.exts.push(Ext::KeyAuth(Key::new(&a.key)));
        }
    }
    if let Some(e) = &spec.enc {
        if !e.key.is_empty() || spec.satype == SADB_SATYPE_ESP {
            m.exts.push(Ext::KeyEncrypt(Key::new(&e.key)));
        }
    }
    m.exts.push(Ext::Sa2(Sa2 {
        mode: spec.mode,
        sequence: 0,
        reqid: spec.reqid,
    }));
    if let Some(n) = &spec.nat_t {
        m.exts.push(Ext::NatTType(n.encap_type));
        m.exts.push(Ext::NatTSport(n.sport));
        m.exts.push(Ext::NatTDport(n.dport));
        if let Some(oa) = n.original_addr {
            m.exts.push(Ext::NatTOa(Address::host(oa)));
        }
    }
    m
}

/// SADB_ADD. Extensions: SA (state MATURE, algorithms, replay window),
/// LIFETIME_HARD, LIFETIME_SOFT (both always: Linux wants both or neither),
/// ADDRESS_SRC, ADDRESS_DST, KEY_AUTH, KEY_ENCRYPT, X_SA2 (mode, reqid),
/// then the NAT-T extensions.
pub fn add_sa(spec: &SaSpec, seq: u32, pid: u32) -> Message {
    sa_message(SADB_ADD, spec, seq, pid)
}

/// SADB_UPDATE: as [`add_sa`], completing the larval SA GETSPI made.
pub fn update_sa(spec: &SaSpec, seq: u32, pid: u32) -> Message {
    sa_message(SADB_UPDATE, spec, seq, pid)
}

fn sa_id_message(
    msg_type: u8,
    satype: u8,
    spi: u32,
    src: IpAddr,
    dst: IpAddr,
    seq: u32,
    pid: u32,
) -> Message {
    header(msg_type, satype, seq, pid)
        .with(Ext::Sa(Sa {
            spi,
            ..Sa::default()
        }))
        .with(Ext::AddressSrc(Address::host(src)))
        .with(Ext::AddressDst(Address::host(dst)))
}

/// SADB_DELETE of the SA (satype, spi, dst). Extensions: SA (SPI only),
/// ADDRESS_SRC, ADDRESS_DST.
pub fn delete_sa(satype: u8, spi: u32, src: IpAddr, dst: IpAddr, seq: u32, pid: u32) -> Message {
    sa_id_message(SADB_DELETE, satype, spi, src, dst, seq, pid)
}

/// SADB_GET of one SA (its counters come back in LIFETIME_CURRENT).
pub fn get_sa(satype: u8, spi: u32, src: IpAddr, dst: IpAddr, seq: u32, pid: u32) -> Message {
    sa_id_message(SADB_GET, satype, spi, src, dst, seq, pid)
}

fn requests(spec: &PolicySpec, ipsec: &IpsecSpec) -> Vec<IpsecRequest> {
    let inbound = spec.dir != IPSEC_DIR_OUTBOUND;
    let order = [
        (ipsec.ipcomp, IPPROTO_COMP),
        (ipsec.esp, IPPROTO_ESP),
        (ipsec.ah, IPPROTO_AH),
    ];
    let mut out = Vec::new();
    for (_, proto) in order.iter().filter(|(on, _)| *on) {
        let outer = if out.is_empty() { ipsec.tunnel } else { None };
        let level = if *proto == IPPROTO_COMP && inbound {
            IPSEC_LEVEL_USE
        } else {
            ipsec.level
        };
        out.push(IpsecRequest {
            proto: u16::from(*proto),
            mode: if outer.is_some() {
                IPSEC_MODE_TUNNEL
            } else {
                IPSEC_MODE_TRANSPORT
            },
            level,
            reqid: ipsec.reqid,
            tunnel: outer.map(|(s, d)| (SocketAddr::new(s, 0), SocketAddr::new(d, 0))),
        });
    }
    out
}

fn spd_message(msg_type: u8, spec: &PolicySpec, seq: u32, pid: u32) -> Message {
    let (policy_type, reqs) = match &spec.action {
        PolicyAction::Discard => (IPSEC_POLICY_DISCARD, Vec::new()),
        PolicyAction::None => (IPSEC_POLICY_NONE, Vec::new()),
        PolicyAction::Ipsec(i) => (IPSEC_POLICY_IPSEC, requests(spec, i)),
    };
    header(msg_type, SADB_SATYPE_UNSPEC, seq, pid)
        .with(Ext::AddressSrc(spec.src.to_address()))
        .with(Ext::AddressDst(spec.dst.to_address()))
        .with(Ext::Policy(Policy {
            policy_type,
            dir: spec.dir,
            id: 0,
            priority: spec.priority,
            requests: reqs,
        }))
}

/// SADB_X_SPDADD (fails with EEXIST if the selector and direction exist).
/// Extensions: ADDRESS_SRC, ADDRESS_DST (selectors), X_POLICY with the
/// requests in the order documented above.
pub fn spd_add(spec: &PolicySpec, seq: u32, pid: u32) -> Message {
    spd_message(linux::SADB_X_SPDADD, spec, seq, pid)
}

/// SADB_X_SPDUPDATE: as [`spd_add`], replacing an existing entry.
pub fn spd_update(spec: &PolicySpec, seq: u32, pid: u32) -> Message {
    spd_message(linux::SADB_X_SPDUPDATE, spec, seq, pid)
}

/// SADB_X_SPDDELETE of the entry with these selectors and direction. The
/// kernel reads only the direction from X_POLICY.
pub fn spd_delete(dir: u8, src: &Selector, dst: &Selector, seq: u32, pid: u32) -> Message {
    header(linux::SADB_X_SPDDELETE, SADB_SATYPE_UNSPEC, seq, pid)
        .with(Ext::AddressSrc(src.to_address()))
        .with(Ext::AddressDst(dst.to_address()))
        .with(Ext::Policy(Policy {
            policy_type: IPSEC_POLICY_IPSEC,
            dir,
            ..Policy::default()
        }))
}

/// SADB_X_SPDGET of the policy the kernel numbered `id` (an ACQUIRE names
/// its policy by that number; the reply carries its requests and reqid).
pub fn spd_get(id: u32, seq: u32, pid: u32) -> Message {
    header(linux::SADB_X_SPDGET, SADB_SATYPE_UNSPEC, seq, pid).with(Ext::Policy(Policy {
        policy_type: IPSEC_POLICY_IPSEC,
        id,
        ..Policy::default()
    }))
}

/// SADB_FLUSH of all SAs of `satype` (SADB_SATYPE_UNSPEC: all).
pub fn flush(satype: u8, seq: u32, pid: u32) -> Message {
    header(SADB_FLUSH, satype, seq, pid)
}

/// SADB_X_SPDFLUSH: remove every policy.
pub fn spd_flush(seq: u32, pid: u32) -> Message {
    header(linux::SADB_X_SPDFLUSH, SADB_SATYPE_UNSPEC, seq, pid)
}

/// SADB_DUMP of the SAs of `satype` (one reply per SA, the last with seq 0).
pub fn dump(satype: u8, seq: u32, pid: u32) -> Message {
    header(SADB_DUMP, satype, seq, pid)
}

/// SADB_X_SPDDUMP (one reply per policy, the last with seq 0).
pub fn spd_dump(seq: u32, pid: u32) -> Message {
    header(linux::SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, seq, pid)
}

/// SADB_REGISTER for `satype`: the reply lists the supported algorithms, and
/// the socket then receives ACQUIRE and EXPIRE for that type.
pub fn register(satype: u8, seq: u32, pid: u32) -> Message {
    header(SADB_REGISTER, satype, seq, pid)
}
