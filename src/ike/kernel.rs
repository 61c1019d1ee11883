//! What the engine asks of the kernel's IPsec stack, and what comes back.
//!
//! The engine never talks to PF_KEY itself: it queues [`KernelOp`]s, the daemon
//! performs them, and answers to requests that need one (an SPI) come back
//! through [`crate::ike::Endpoint::handle_kernel_reply`].

use super::crypto::CipherAlg;
use std::net::IpAddr;

/// IPsec protocols the kernel carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpsecProto {
    Ah,
    Esp,
    Ipcomp,
}

impl IpsecProto {
    /// RFC 2407 protocol id (AH 2, ESP 3, IPCOMP 4).
    pub fn doi_id(self) -> u8 {
        match self {
            IpsecProto::Ah => 2,
            IpsecProto::Esp => 3,
            IpsecProto::Ipcomp => 4,
        }
    }
    pub fn from_doi_id(id: u8) -> Option<IpsecProto> {
        match id {
            2 => Some(IpsecProto::Ah),
            3 => Some(IpsecProto::Esp),
            4 => Some(IpsecProto::Ipcomp),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            IpsecProto::Ah => "AH",
            IpsecProto::Esp => "ESP",
            IpsecProto::Ipcomp => "IPCOMP",
        }
    }
}

/// A set of IPsec protocols: what a policy's templates carry. The kernel
/// backends lay the templates out in their own fixed order (IPCOMP, ESP,
/// AH), so a set is all a policy needs; one byte where a vector took a
/// block of its own for every policy an SA holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ProtoSet(u8);

impl ProtoSet {
    fn bit(p: IpsecProto) -> u8 {
        match p {
            IpsecProto::Ah => 1,
            IpsecProto::Esp => 2,
            IpsecProto::Ipcomp => 4,
        }
    }

    pub fn contains(self, p: IpsecProto) -> bool {
        self.0 & Self::bit(p) != 0
    }

    pub fn insert(&mut self, p: IpsecProto) {
        self.0 |= Self::bit(p);
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<IpsecProto> for ProtoSet {
    fn from_iter<I: IntoIterator<Item = IpsecProto>>(iter: I) -> ProtoSet {
        let mut set = ProtoSet::default();
        for p in iter {
            set.insert(p);
        }
        set
    }
}

/// Integrity algorithms for AH and ESP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegAlg {
    HmacMd5_96,
    HmacSha1_96,
    HmacSha2_256_128,
}

impl IntegAlg {
    pub fn key_len(self) -> usize {
        match self {
            IntegAlg::HmacMd5_96 => 16,
            IntegAlg::HmacSha1_96 => 20,
            IntegAlg::HmacSha2_256_128 => 32,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            IntegAlg::HmacMd5_96 => "HMAC_MD5_96",
            IntegAlg::HmacSha1_96 => "HMAC_SHA1_96",
            IntegAlg::HmacSha2_256_128 => "HMAC_SHA2_256_128",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Tunnel,
    Transport,
}

/// A traffic selector: an address prefix, with protocol and port (0 = any).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Selector {
    pub addr: IpAddr,
    pub prefix: u8,
    pub protocol: u8,
    pub port: u16,
}

impl Selector {
    /// The single address `a`, any protocol and port.
    pub fn host(a: IpAddr) -> Selector {
        Selector {
            addr: a,
            prefix: if a.is_ipv4() { 32 } else { 128 },
            protocol: 0,
            port: 0,
        }
    }

    /// Whether every packet `inner` selects, this one selects too.
    pub fn contains(&self, inner: &Selector) -> bool {
        within(inner.addr, inner.prefix, self.addr, self.prefix)
            && (self.protocol == 0 || self.protocol == inner.protocol)
            && (self.port == 0 || self.port == inner.port)
    }
}

/// `inner/ip` lies within `net/np` (same family).
pub(crate) fn within(addr: IpAddr, prefix: u8, net: IpAddr, np: u8) -> bool {
    if prefix < np {
        return false;
    }
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let m = u32::MAX
                .checked_shl(32 - u32::from(np.min(32)))
                .unwrap_or(0);
            u32::from(a) & m == u32::from(n) & m
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(np.min(128)))
                .unwrap_or(0);
            u128::from(a) & m == u128::from(n) & m
        }
        _ => false,
    }
}

/// One SA to install. Inbound SAs use an SPI the kernel allocated earlier
/// (GETSPI), so the kernel layer updates that larval SA; outbound ones are added.
#[derive(Clone, PartialEq, Eq)]
pub struct SaInstall {
    pub proto: IpsecProto,
    pub inbound: bool,
    pub spi: u32,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub mode: Mode,
    pub encrypt: Option<(CipherAlg, Vec<u8>)>,
    pub integ: Option<(IntegAlg, Vec<u8>)>,
    /// IPCOMP: the compression algorithm id (DEFLATE 2).
    pub compress: Option<u8>,
    pub lifetime_secs: u32,
    /// When the kernel should tell us (soft EXPIRE) to replace the SA:
    /// the engine's own replace time; `None` when it is not replaced.
    pub soft_secs: Option<u32>,
    /// Ties the SAs of one negotiation to its policies.
    pub reqid: u32,
    /// Every protocol negotiated together with this one (AH, ESP, IPCOMP):
    /// stacks differ in which SA of a group carries the tunnel.
    pub group: Vec<IpsecProto>,
    pub src_sel: Selector,
    pub dst_sel: Selector,
    /// The XFRM interface (`ipsecN`) the SA belongs to, if any: only
    /// traffic routed into that interface uses it.
    pub if_id: Option<u32>,
    /// ESP in UDP (RFC 3948) across a NAT.
    pub encap: Option<Encap>,
}

impl SaInstall {
    /// For a tunnel-mode SA whose traffic is of the other address family
    /// than its endpoints (IPv4 inside IPv6, or the reverse): the
    /// unspecified address of the traffic's family. The kernel gives an SA
    /// its endpoints' family as its selector's unless told otherwise, and
    /// such an SA then carries no packet of its tunnel: outbound the kernel
    /// finds no SA and asks for one, inbound it drops what it decrypts.
    pub fn foreign_traffic_family(&self) -> Option<IpAddr> {
        if self.mode != Mode::Tunnel || self.src_sel.addr.is_ipv4() == self.src.is_ipv4() {
            return None;
        }
        Some(match self.src_sel.addr {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        })
    }

    /// Why the kernel could not carry the negotiated traffic over this SA,
    /// if it could not. The engine asks before every install, so that no
    /// SA is announced established that would carry nothing: clients of
    /// two families, or transport mode (which has no inner header) for
    /// clients of the other family than the hosts'.
    pub fn unusable(&self) -> Option<String> {
        let family = |a: IpAddr| if a.is_ipv4() { "IPv4" } else { "IPv6" };
        let (s, d) = (self.src_sel.addr, self.dst_sel.addr);
        if s.is_ipv4() != d.is_ipv4() {
            return Some(format!("its clients are {} and {}", family(s), family(d)));
        }
        if self.mode == Mode::Transport && s.is_ipv4() != self.src.is_ipv4() {
            return Some(format!(
                "transport mode between {} hosts cannot carry {} clients",
                family(self.src),
                family(s)
            ));
        }
        None
    }
}

/// An SA the kernel holds, as the engine remembers it: what deleting,
/// querying and finding it take. An SA without UDP encapsulation is never
/// handed to the kernel again, so its keys and the rest go; one with it
/// keeps everything, to be updated when the peer's NAT mapping moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledSa {
    pub proto: IpsecProto,
    pub inbound: bool,
    pub spi: u32,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The whole SA, for one with UDP encapsulation only.
    pub encapsulated: Option<Box<SaInstall>>,
}

impl From<SaInstall> for InstalledSa {
    fn from(sa: SaInstall) -> InstalledSa {
        InstalledSa {
            proto: sa.proto,
            inbound: sa.inbound,
            spi: sa.spi,
            src: sa.src,
            dst: sa.dst,
            encapsulated: sa.encap.is_some().then(|| Box::new(sa)),
        }
    }
}

/// RFC 3948 UDP encapsulation of an ESP SA: the ports of its packets' outer
/// UDP header (the NAT's, as the IKE exchange saw them), type ESPINUDP with
/// the non-ESP marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encap {
    pub sport: u16,
    pub dport: u16,
    /// NAT-OA: the peer's original address, which transport mode needs to
    /// fix the TCP/UDP checksums of decapsulated packets.
    pub oa: Option<IpAddr>,
}

impl core::fmt::Debug for SaInstall {
    // Keys are secret: never in Debug output.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SaInstall")
            .field("proto", &self.proto)
            .field("inbound", &self.inbound)
            .field("spi", &format_args!("{:#010x}", self.spi))
            .field("src", &self.src)
            .field("dst", &self.dst)
            .field("mode", &self.mode)
            .field("encrypt", &self.encrypt.as_ref().map(|(a, _)| a))
            .field("integ", &self.integ.as_ref().map(|(a, _)| a))
            .field("compress", &self.compress)
            .field("reqid", &self.reqid)
            .field("if_id", &self.if_id)
            .field("encap", &self.encap)
            .finish()
    }
}

/// What a policy (eroute) does with the traffic it matches: the seed's
/// shunts. A connection's routed policy and an IPsec SA's policy are the
/// same [`PolicyAction::Ipsec`] policy (one reqid per connection): while the
/// connection has no SA the kernel holds the traffic and asks for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PolicyAction {
    /// Through the SAs of the policy's reqid; with none, %trap: the kernel
    /// holds the packets (%hold) and ACQUIREs.
    #[default]
    Ipsec,
    /// %pass: traffic goes in the clear.
    Pass,
    /// %drop: traffic is discarded.
    Drop,
    /// %reject: discarded; Linux has no ICMP-sending discard, so this acts
    /// like %drop there.
    Reject,
}

impl PolicyAction {
    /// The shunt of a whack policy's 2-bit shunt or failure field (`field`
    /// is the field's value, 0..=3); `None` for the failure field's NONE.
    pub fn from_field(field: u64, is_failure: bool) -> Option<PolicyAction> {
        match field {
            0 if is_failure => None,
            0 => Some(PolicyAction::Ipsec),
            1 => Some(PolicyAction::Pass),
            2 => Some(PolicyAction::Drop),
            _ => Some(PolicyAction::Reject),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            PolicyAction::Ipsec => "%trap",
            PolicyAction::Pass => "%pass",
            PolicyAction::Drop => "%drop",
            PolicyAction::Reject => "%reject",
        }
    }
}

/// A policy (eroute): traffic from `src_sel` to `dst_sel` goes through the SAs
/// of `reqid` between the two gateways, or is passed or dropped (`action`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySpec {
    pub src_sel: Selector,
    pub dst_sel: Selector,
    pub inbound: bool,
    pub mode: Mode,
    pub src_gw: IpAddr,
    pub dst_gw: IpAddr,
    pub protos: ProtoSet,
    pub reqid: u32,
    pub action: PolicyAction,
    /// The XFRM interface (`ipsecN`) whose traffic the policy is for.
    pub if_id: Option<u32>,
}

/// The kernel saw an encapsulated SA's packets arrive from another address
/// or port than the SA has (XFRM_MSG_MAPPING, SADB_X_NAT_T_NEW_MAPPING):
/// the peer's NAT mapping changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatMapping {
    pub proto: IpsecProto,
    pub spi: u32,
    /// The SA's destination (our address).
    pub dst: IpAddr,
    /// The peer's address and port the SA had, and the new ones.
    pub old: std::net::SocketAddr,
    pub new: std::net::SocketAddr,
}

/// The kernel caught outbound traffic that a policy without SAs protects
/// (PF_KEY SADB_ACQUIRE, XFRM_MSG_ACQUIRE): it wants SAs from `src` to
/// `dst` for the policy's `reqid` (when the backend can tell it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acquire {
    pub reqid: Option<u32>,
    pub src: IpAddr,
    pub dst: IpAddr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelOp {
    /// Allocate an inbound SPI (CPI for IPCOMP) in `min..=max` for SAs from `src` to `dst`.
    /// Answer with [`KernelReply::Spi`] carrying the same `req`.
    GetSpi {
        req: u64,
        proto: IpsecProto,
        src: IpAddr,
        dst: IpAddr,
        min: u32,
        max: u32,
    },
    /// Install these SAs, then these policies, all or none: a backend that
    /// fails part-way removes what it added of this batch (inbound SAs it
    /// filled stay, the engine deletes them with their reserved SPIs) and
    /// answers [`KernelReply::Failed`]; otherwise [`KernelReply::Installed`].
    Install {
        req: u64,
        sas: Vec<SaInstall>,
        policies: Vec<PolicySpec>,
    },
    DeleteSa {
        proto: IpsecProto,
        spi: u32,
        src: IpAddr,
        dst: IpAddr,
    },
    DeletePolicy(PolicySpec),
    /// Replace an installed SA's parameters (the peer's NAT port moved):
    /// answered with [`KernelReply::Installed`] or [`KernelReply::Failed`].
    UpdateSa {
        req: u64,
        sa: SaInstall,
    },
    /// How much an installed SA has carried so far (DPD idleness):
    /// answered with [`KernelReply::SaUse`] or [`KernelReply::Failed`].
    QuerySa {
        req: u64,
        proto: IpsecProto,
        spi: u32,
        src: IpAddr,
        dst: IpAddr,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelReply {
    Spi {
        req: u64,
        spi: u32,
    },
    /// Everything of the [`KernelOp::Install`] `req` is in place.
    Installed {
        req: u64,
    },
    /// The SA of [`KernelOp::QuerySa`] `req` has carried `bytes` so far.
    SaUse {
        req: u64,
        bytes: u64,
    },
    /// The request `req` failed; `reason` is the kernel's word for it.
    Failed {
        req: u64,
        reason: String,
    },
}
