//! IPsec SA proposals (Quick Mode): AH, ESP and IPCOMP, conjunct protocols
//! sharing a proposal number.

use super::join;
use crate::ike::config::Policy;
use crate::ike::crypto::{CipherAlg, DhGroup};
use crate::ike::error::{Incompatible, Misbehaviour, Reject};
use crate::ike::kernel::{IntegAlg, IpsecProto, Mode};
use crate::ike::natt::UdpEncap;
use crate::ike::wire::{Attribute, Proposal, SaPayload, Transform, DOI_IPSEC, SIT_IDENTITY_ONLY};
use core::fmt;

/// Longer IPsec lifetimes are clamped to this (seconds).
pub const MAX_IPSEC_LIFETIME: u32 = 86400;
const DEFAULT_IPSEC_LIFETIME: u32 = 28800;

mod attr {
    pub const SA_LIFE_TYPE: u16 = 1;
    pub const SA_LIFE_DURATION: u16 = 2;
    pub const GROUP_DESCRIPTION: u16 = 3;
    pub const ENCAPSULATION_MODE: u16 = 4;
    pub const AUTH_ALGORITHM: u16 = 5;
    pub const KEY_LENGTH: u16 = 6;
    pub const LIFE_SECONDS: u64 = 1;
    pub const LIFE_KILOBYTES: u64 = 2;
    pub const MODE_TUNNEL: u64 = 1;
    pub const MODE_TRANSPORT: u64 = 2;
    /// UDP-Encapsulated-Tunnel/-Transport (RFC 3947), and the values the
    /// nat-t-ike drafts took from the private range.
    pub const MODE_UDP_TUNNEL: u64 = 3;
    pub const MODE_UDP_TRANSPORT: u64 = 4;
    pub const MODE_UDP_TUNNEL_DRAFT: u64 = 61443;
    pub const MODE_UDP_TRANSPORT_DRAFT: u64 = 61444;
}

mod xform {
    pub const ESP_3DES: u8 = 3;
    pub const ESP_AES: u8 = 12;
    pub const AH_MD5: u8 = 2;
    pub const AH_SHA: u8 = 3;
    pub const AH_SHA2_256: u8 = 5;
    pub const IPCOMP_DEFLATE: u8 = 2;
}

/// One IPsec transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpsecTransform {
    Esp {
        cipher: CipherAlg,
        integ: Option<IntegAlg>,
    },
    Ah {
        integ: IntegAlg,
    },
    IpcompDeflate,
}

impl IpsecTransform {
    pub fn proto(&self) -> IpsecProto {
        match self {
            IpsecTransform::Esp { .. } => IpsecProto::Esp,
            IpsecTransform::Ah { .. } => IpsecProto::Ah,
            IpsecTransform::IpcompDeflate => IpsecProto::Ipcomp,
        }
    }
}

fn integ_auth_attr(i: IntegAlg) -> u16 {
    match i {
        IntegAlg::HmacMd5_96 => 1,
        IntegAlg::HmacSha1_96 => 2,
        IntegAlg::HmacSha2_256_128 => 5,
    }
}

fn integ_from_auth_attr(v: u64) -> Option<IntegAlg> {
    match v {
        1 => Some(IntegAlg::HmacMd5_96),
        2 => Some(IntegAlg::HmacSha1_96),
        5 => Some(IntegAlg::HmacSha2_256_128),
        _ => None,
    }
}

impl fmt::Display for IpsecTransform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpsecTransform::Esp {
                cipher,
                integ: Some(i),
            } => {
                write!(f, "ESP_{}-{}", cipher.name(), i.name())
            }
            IpsecTransform::Esp {
                cipher,
                integ: None,
            } => write!(f, "ESP_{}", cipher.name()),
            IpsecTransform::Ah { integ } => write!(f, "AH_{}", integ.name()),
            IpsecTransform::IpcompDeflate => f.write_str("IPCOMP_DEFLATE"),
        }
    }
}

/// One proposal: conjunct protocols, each with its alternatives in preference order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpsecProposal {
    pub protos: Vec<(IpsecProto, Vec<IpsecTransform>)>,
}

fn esp_defaults() -> Vec<IpsecTransform> {
    use CipherAlg::{Aes128, Des3};
    use IntegAlg::{HmacMd5_96, HmacSha1_96};
    [
        (Aes128, HmacSha1_96),
        (Aes128, HmacMd5_96),
        (Des3, HmacSha1_96),
        (Des3, HmacMd5_96),
    ]
    .into_iter()
    .map(|(c, i)| IpsecTransform::Esp {
        cipher: c,
        integ: Some(i),
    })
    .collect()
}

fn ah_defaults() -> Vec<IpsecTransform> {
    vec![
        IpsecTransform::Ah {
            integ: IntegAlg::HmacSha1_96,
        },
        IpsecTransform::Ah {
            integ: IntegAlg::HmacMd5_96,
        },
    ]
}

/// The seed's table (spec §6.3) for the policy bits; `esp` (from `--esp`)
/// replaces only the ESP transforms. AH and IPCOMP are kept alongside (the
/// old pluto dropped them, bug #538).
pub fn default_ipsec_proposals(policy: &Policy, esp: &[IpsecTransform]) -> Vec<IpsecProposal> {
    let mut protos = Vec::new();
    let custom_esp = !esp.is_empty();
    if policy.authenticate {
        protos.push((IpsecProto::Ah, ah_defaults()));
    }
    if policy.encrypt {
        let list = if custom_esp {
            esp.to_vec()
        } else if policy.authenticate {
            vec![IpsecTransform::Esp {
                cipher: CipherAlg::Des3,
                integ: None,
            }]
        } else {
            esp_defaults()
        };
        protos.push((IpsecProto::Esp, list));
    }
    if policy.compress {
        protos.push((IpsecProto::Ipcomp, vec![IpsecTransform::IpcompDeflate]));
    }
    if protos.is_empty() {
        Vec::new()
    } else {
        vec![IpsecProposal { protos }]
    }
}

/// Everything a transform carries besides its algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Params {
    mode: Mode,
    /// ESP in UDP across a NAT, with the code points of RFC or drafts.
    udp: Option<UdpEncap>,
    group: Option<DhGroup>,
    lifetime: u32,
}

fn transform_to_wire(t: &IpsecTransform, number: u8, p: &Params) -> Transform {
    let mut attributes = Vec::new();
    let is_comp = matches!(t, IpsecTransform::IpcompDeflate);
    if let (Some(g), false) = (p.group, is_comp) {
        attributes.push(Attribute::basic(attr::GROUP_DESCRIPTION, g.id()));
    }
    let mode = match (p.mode, p.udp) {
        (Mode::Transport, _) if is_comp => None,
        (Mode::Tunnel, None) => Some(attr::MODE_TUNNEL),
        (Mode::Transport, None) => Some(attr::MODE_TRANSPORT),
        (Mode::Tunnel, Some(UdpEncap::Rfc)) => Some(attr::MODE_UDP_TUNNEL),
        (Mode::Transport, Some(UdpEncap::Rfc)) => Some(attr::MODE_UDP_TRANSPORT),
        (Mode::Tunnel, Some(UdpEncap::Draft)) => Some(attr::MODE_UDP_TUNNEL_DRAFT),
        (Mode::Transport, Some(UdpEncap::Draft)) => Some(attr::MODE_UDP_TRANSPORT_DRAFT),
    };
    if let Some(m) = mode {
        attributes.push(Attribute::basic(attr::ENCAPSULATION_MODE, m as u16));
    }
    attributes.push(Attribute::basic(
        attr::SA_LIFE_TYPE,
        attr::LIFE_SECONDS as u16,
    ));
    attributes.push(Attribute::from_u32(attr::SA_LIFE_DURATION, p.lifetime));
    let transform_id = match t {
        IpsecTransform::Esp { cipher, integ } => {
            if let Some(i) = integ {
                attributes.push(Attribute::basic(attr::AUTH_ALGORITHM, integ_auth_attr(*i)));
            }
            match cipher {
                CipherAlg::Des3 => xform::ESP_3DES,
                CipherAlg::Aes128 | CipherAlg::Aes192 | CipherAlg::Aes256 => {
                    // Sent explicitly: RFC 3602 requires it and strict peers refuse AES without it.
                    let bits = (cipher.key_len() * 8) as u16;
                    attributes.push(Attribute::basic(attr::KEY_LENGTH, bits));
                    xform::ESP_AES
                }
            }
        }
        IpsecTransform::Ah { integ } => {
            attributes.push(Attribute::basic(
                attr::AUTH_ALGORITHM,
                integ_auth_attr(*integ),
            ));
            match integ {
                IntegAlg::HmacMd5_96 => xform::AH_MD5,
                IntegAlg::HmacSha1_96 => xform::AH_SHA,
                IntegAlg::HmacSha2_256_128 => xform::AH_SHA2_256,
            }
        }
        IpsecTransform::IpcompDeflate => xform::IPCOMP_DEFLATE,
    };
    Transform {
        number,
        transform_id,
        attributes,
    }
}

fn spi_bytes(proto: IpsecProto, spi: u32) -> Vec<u8> {
    match proto {
        // A CPI travels in two bytes.
        IpsecProto::Ipcomp => (spi as u16).to_be_bytes().to_vec(),
        _ => spi.to_be_bytes().to_vec(),
    }
}

fn spi_from_bytes(b: &[u8]) -> Option<u32> {
    match b.len() {
        2 | 4 => Some(b.iter().fold(0u32, |acc, x| (acc << 8) | u32::from(*x))),
        _ => None,
    }
}

/// The initiator's SA payload. `spi_of` gives our inbound SPI per protocol
/// (one per protocol, shared by its transforms). Proposals numbered from 1.
pub fn ipsec_sa_payload(
    proposals: &[IpsecProposal],
    spi_of: &dyn Fn(IpsecProto) -> u32,
    mode: Mode,
    group: Option<DhGroup>,
    lifetime: u32,
) -> SaPayload {
    ipsec_sa_payload_udp(proposals, spi_of, mode, None, group, lifetime)
}

/// [`ipsec_sa_payload`] with ESP in UDP (`udp`) when a NAT is in the way.
pub fn ipsec_sa_payload_udp(
    proposals: &[IpsecProposal],
    spi_of: &dyn Fn(IpsecProto) -> u32,
    mode: Mode,
    udp: Option<UdpEncap>,
    group: Option<DhGroup>,
    lifetime: u32,
) -> SaPayload {
    let params = Params {
        mode,
        udp,
        group,
        lifetime,
    };
    let mut out = Vec::new();
    for (n, prop) in proposals.iter().enumerate() {
        for (proto, xforms) in &prop.protos {
            let transforms = xforms
                .iter()
                .enumerate()
                .map(|(i, t)| transform_to_wire(t, u8::try_from(i).unwrap_or(u8::MAX), &params))
                .collect();
            out.push(Proposal {
                number: u8::try_from(n + 1).unwrap_or(u8::MAX),
                protocol: proto.doi_id(),
                spi: spi_bytes(*proto, spi_of(*proto)),
                transforms,
            });
        }
    }
    SaPayload {
        doi: DOI_IPSEC,
        situation: SIT_IDENTITY_ONLY,
        proposals: out,
    }
}

/// What one protocol of the accepted proposal carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChosenProto {
    pub proto: IpsecProto,
    pub transform: IpsecTransform,
    /// The peer's SPI: where our outbound SA for this protocol points.
    pub peer_spi: u32,
    /// As received, to echo in the responder's reply.
    wire: Transform,
    number: u8,
}

/// The accepted proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub protos: Vec<ChosenProto>,
    pub mode: Mode,
    /// The SAs carry ESP in UDP (a UDP-encapsulated mode was agreed).
    pub udp: Option<UdpEncap>,
    pub pfs_group: Option<DhGroup>,
    pub lifetime: u32,
}

impl Chosen {
    /// The reply is sent and the SAs are in: the transforms as received
    /// (kept only to echo them in the reply) go.
    pub fn forget_wire(&mut self) {
        for p in &mut self.protos {
            p.wire.attributes = Vec::new();
        }
        self.protos.shrink_to_fit();
    }

    /// The responder's reply SA: the chosen transforms echoed, with our SPIs.
    pub fn reply_payload(&self, spi_of: &dyn Fn(IpsecProto) -> u32) -> SaPayload {
        let proposals = self
            .protos
            .iter()
            .map(|c| Proposal {
                number: c.number,
                protocol: c.proto.doi_id(),
                spi: spi_bytes(c.proto, spi_of(c.proto)),
                transforms: vec![c.wire.clone()],
            })
            .collect();
        SaPayload {
            doi: DOI_IPSEC,
            situation: SIT_IDENTITY_ONLY,
            proposals,
        }
    }

    pub fn describe(&self) -> String {
        let v: Vec<String> = self
            .protos
            .iter()
            .map(|c| c.transform.to_string())
            .collect();
        v.join("+")
    }
}

/// Decodes one transform of protocol `proto`.
fn decode(proto: IpsecProto, t: &Transform) -> Result<(IpsecTransform, Params), String> {
    let mut mode = None;
    let mut udp = None;
    let mut group = None;
    let mut lifetime = DEFAULT_IPSEC_LIFETIME;
    let mut life_type = None;
    let mut auth = None;
    let mut key_bits = None;
    for a in &t.attributes {
        let v = a
            .as_u64()
            .ok_or_else(|| format!("attribute {} has no usable value", a.ty))?;
        match a.ty {
            attr::SA_LIFE_TYPE => life_type = Some(v),
            attr::SA_LIFE_DURATION => match life_type {
                Some(attr::LIFE_SECONDS) => {
                    lifetime = u32::try_from(v.min(u64::from(MAX_IPSEC_LIFETIME)))
                        .unwrap_or(MAX_IPSEC_LIFETIME)
                }
                Some(attr::LIFE_KILOBYTES) => {}
                _ => return Err("life duration without life type".into()),
            },
            attr::GROUP_DESCRIPTION => {
                group = Some(DhGroup::from_id(v).ok_or_else(|| format!("DH group {v}"))?)
            }
            attr::ENCAPSULATION_MODE => {
                let (m, u) = match v {
                    attr::MODE_TUNNEL => (Mode::Tunnel, None),
                    attr::MODE_TRANSPORT => (Mode::Transport, None),
                    attr::MODE_UDP_TUNNEL => (Mode::Tunnel, Some(UdpEncap::Rfc)),
                    attr::MODE_UDP_TRANSPORT => (Mode::Transport, Some(UdpEncap::Rfc)),
                    attr::MODE_UDP_TUNNEL_DRAFT => (Mode::Tunnel, Some(UdpEncap::Draft)),
                    attr::MODE_UDP_TRANSPORT_DRAFT => (Mode::Transport, Some(UdpEncap::Draft)),
                    other => return Err(format!("encapsulation mode {other}")),
                };
                mode = Some(m);
                udp = u;
            }
            attr::AUTH_ALGORITHM => {
                auth = Some(integ_from_auth_attr(v).ok_or_else(|| format!("auth algorithm {v}"))?)
            }
            attr::KEY_LENGTH => key_bits = Some(v),
            other => return Err(format!("unsupported attribute {other}")),
        }
    }
    let xf = match proto {
        IpsecProto::Esp => {
            let cipher = match (t.transform_id, key_bits) {
                (xform::ESP_3DES, None | Some(192)) => CipherAlg::Des3,
                (xform::ESP_AES, None | Some(128)) => CipherAlg::Aes128,
                (xform::ESP_AES, Some(192)) => CipherAlg::Aes192,
                (xform::ESP_AES, Some(256)) => CipherAlg::Aes256,
                (id, k) => return Err(format!("ESP transform {id} key length {k:?}")),
            };
            IpsecTransform::Esp {
                cipher,
                integ: auth,
            }
        }
        IpsecProto::Ah => {
            let expect = match t.transform_id {
                xform::AH_MD5 => IntegAlg::HmacMd5_96,
                xform::AH_SHA => IntegAlg::HmacSha1_96,
                xform::AH_SHA2_256 => IntegAlg::HmacSha2_256_128,
                id => return Err(format!("AH transform {id}")),
            };
            if auth.is_some_and(|a| a != expect) {
                return Err("AH transform and auth attribute disagree".into());
            }
            IpsecTransform::Ah { integ: expect }
        }
        IpsecProto::Ipcomp => match t.transform_id {
            xform::IPCOMP_DEFLATE => IpsecTransform::IpcompDeflate,
            id => return Err(format!("IPCOMP transform {id}")),
        },
    };
    // IPCOMP in transport mode carries no mode attribute.
    let mode = mode.unwrap_or(Mode::Transport);
    Ok((
        xf,
        Params {
            mode,
            udp,
            group,
            lifetime,
        },
    ))
}

/// What we accept for each protocol: our proposals' transforms plus the
/// default ones, so a peer's different preference order still meets us.
fn allowed_for(proto: IpsecProto, ours: &[IpsecProposal], custom_esp: bool) -> Vec<IpsecTransform> {
    let mut v: Vec<IpsecTransform> = ours
        .iter()
        .flat_map(|p| p.protos.iter())
        .filter(|(pr, _)| *pr == proto)
        .flat_map(|(_, x)| x.iter().copied())
        .collect();
    match proto {
        IpsecProto::Esp if !custom_esp => v.extend(esp_defaults()),
        IpsecProto::Ah => v.extend(ah_defaults()),
        _ => {}
    }
    v
}

fn describe_peer(sa: &SaPayload) -> String {
    let mut v = Vec::new();
    for p in &sa.proposals {
        let Some(proto) = IpsecProto::from_doi_id(p.protocol) else {
            v.push(format!("[protocol {}]", p.protocol));
            continue;
        };
        for t in &p.transforms {
            v.push(match decode(proto, t) {
                Ok((x, _)) => format!("#{} {x}", p.number),
                Err(e) => format!("#{} [{e}]", p.number),
            });
        }
    }
    join(&v)
}

/// Responder: the first of the peer's proposals (by number, in its order) that
/// satisfies `policy` with transforms we allow. `pfs_needed` requires a group.
pub fn select_ipsec(
    sa: &SaPayload,
    policy: &Policy,
    ours: &[IpsecProposal],
    custom_esp: bool,
) -> Result<Chosen, Reject> {
    select_ipsec_udp(sa, policy, ours, custom_esp, None)
}

/// [`select_ipsec`] under an ISAKMP SA that may carry ESP in UDP: a
/// UDP-encapsulated mode is taken only with the code points of `udp`, the
/// NAT traversal in use with a NAT between the ends. The plain modes stay
/// acceptable even then: the SAs are not encapsulated, as the peer asked.
pub fn select_ipsec_udp(
    sa: &SaPayload,
    policy: &Policy,
    ours: &[IpsecProposal],
    custom_esp: bool,
    udp: Option<UdpEncap>,
) -> Result<Chosen, Reject> {
    let mut i = 0;
    let props = &sa.proposals;
    while let Some(first) = props.get(i) {
        let number = first.number;
        let group: Vec<&Proposal> = props
            .iter()
            .skip(i)
            .take_while(|p| p.number == number)
            .collect();
        i += group.len().max(1);
        if let Some(c) = try_group(&group, policy, ours, custom_esp, udp) {
            return Ok(c);
        }
    }
    let wanted = [
        (IpsecProto::Ah, policy.authenticate),
        (IpsecProto::Esp, policy.encrypt || policy.authenticate),
        (IpsecProto::Ipcomp, policy.compress),
    ];
    let mut allowed: Vec<IpsecTransform> = Vec::new();
    for t in wanted
        .into_iter()
        .filter(|(_, w)| *w)
        .flat_map(|(p, _)| allowed_for(p, ours, custom_esp))
    {
        if !allowed.contains(&t) {
            allowed.push(t);
        }
    }
    let (mut offered, mut allowed) = (describe_peer(sa), join(&allowed));
    // The same algorithms in the other mode read alike: say so.
    let want = if policy.tunnel {
        Mode::Tunnel
    } else {
        Mode::Transport
    };
    let modes = sa.proposals.iter().flat_map(|p| {
        let proto = IpsecProto::from_doi_id(p.protocol).filter(|x| *x != IpsecProto::Ipcomp);
        p.transforms
            .iter()
            .filter_map(move |t| decode(proto?, t).ok().map(|(_, prm)| prm.mode))
    });
    if modes.clone().next().is_some() && modes.clone().all(|m| m != want) {
        let name = |m| {
            if m == Mode::Tunnel {
                " in tunnel mode"
            } else {
                " in transport mode"
            }
        };
        offered.push_str(name(if want == Mode::Tunnel {
            Mode::Transport
        } else {
            Mode::Tunnel
        }));
        allowed.push_str(name(want));
    }
    Err(Reject::PeerIncompatible(Incompatible::NoProposalChosen {
        offered,
        allowed,
    }))
}

fn try_group(
    group: &[&Proposal],
    policy: &Policy,
    ours: &[IpsecProposal],
    custom_esp: bool,
    udp: Option<UdpEncap>,
) -> Option<Chosen> {
    let mut chosen: Vec<ChosenProto> = Vec::new();
    let mut params: Option<Params> = None;
    for p in group {
        let proto = IpsecProto::from_doi_id(p.protocol)?;
        if chosen.iter().any(|c| c.proto == proto) {
            return None;
        }
        let wanted = match proto {
            IpsecProto::Esp => policy.encrypt || policy.authenticate,
            IpsecProto::Ah => policy.authenticate,
            IpsecProto::Ipcomp => policy.compress,
        };
        if !wanted {
            return None;
        }
        let peer_spi = spi_from_bytes(&p.spi)?;
        let allowed = allowed_for(proto, ours, custom_esp);
        let (t, xf, prm) = p.transforms.iter().find_map(|t| {
            let (xf, prm) = decode(proto, t).ok()?;
            let encap_ok = prm.udp.is_none() || prm.udp == udp;
            (allowed.contains(&xf) && encap_ok).then_some((t, xf, prm))
        })?;
        if proto != IpsecProto::Ipcomp {
            // Mode and PFS group must agree across the conjunct protocols.
            if let Some(prev) = params {
                if prev.mode != prm.mode || prev.udp != prm.udp || prev.group != prm.group {
                    return None;
                }
            }
            params = Some(prm);
        }
        chosen.push(ChosenProto {
            proto,
            transform: xf,
            peer_spi,
            wire: t.clone(),
            number: p.number,
        });
    }
    let has = |pr: IpsecProto| chosen.iter().any(|c| c.proto == pr);
    let esp_integ = chosen
        .iter()
        .any(|c| matches!(c.transform, IpsecTransform::Esp { integ: Some(_), .. }));
    if policy.encrypt && !has(IpsecProto::Esp) {
        return None;
    }
    if policy.authenticate && !(has(IpsecProto::Ah) || esp_integ) {
        return None;
    }
    if policy.compress && !has(IpsecProto::Ipcomp) {
        return None;
    }
    let prm = params?; // IPCOMP alone is never a proposal we take
    let want_mode = if policy.tunnel {
        Mode::Tunnel
    } else {
        Mode::Transport
    };
    if prm.mode != want_mode || (policy.pfs && prm.group.is_none()) {
        return None;
    }
    let lifetime = prm.lifetime;
    Some(Chosen {
        protos: chosen,
        mode: prm.mode,
        udp: prm.udp,
        pfs_group: prm.group,
        lifetime,
    })
}

/// Initiator: the responder's reply must name, per protocol we offered, one
/// transform we allow, and its SPI.
pub fn parse_ipsec_reply(
    sa: &SaPayload,
    offered: &[IpsecProposal],
    custom_esp: bool,
) -> Result<Chosen, Reject> {
    let bad = |s: String| Reject::PeerMisbehaved(Misbehaviour::BadProposalReply(s));
    let mut protos = Vec::new();
    let mut params: Option<Params> = None;
    for p in &sa.proposals {
        let proto = IpsecProto::from_doi_id(p.protocol)
            .ok_or_else(|| bad(format!("protocol {}", p.protocol)))?;
        let [t] = p.transforms.as_slice() else {
            return Err(bad(format!(
                "{} transforms for {}",
                p.transforms.len(),
                proto.name()
            )));
        };
        let (xf, prm) = decode(proto, t).map_err(bad)?;
        if !allowed_for(proto, offered, custom_esp).contains(&xf) {
            return Err(bad(format!("{xf} was not offered")));
        }
        if protos.iter().any(|c: &ChosenProto| c.proto == proto) {
            return Err(bad(format!("{} twice", proto.name())));
        }
        let peer_spi =
            spi_from_bytes(&p.spi).ok_or_else(|| bad(format!("SPI of {} bytes", p.spi.len())))?;
        if proto != IpsecProto::Ipcomp {
            params = Some(prm);
        }
        protos.push(ChosenProto {
            proto,
            transform: xf,
            peer_spi,
            wire: t.clone(),
            number: p.number,
        });
    }
    let offered_protos: Vec<IpsecProto> = offered
        .first()
        .map(|p| p.protos.iter().map(|(pr, _)| *pr).collect())
        .unwrap_or_default();
    if protos.len() != offered_protos.len()
        || !offered_protos
            .iter()
            .all(|pr| protos.iter().any(|c| c.proto == *pr))
    {
        return Err(bad("reply does not cover the protocols we proposed".into()));
    }
    let prm = params.ok_or_else(|| bad("no AH or ESP in reply".into()))?;
    Ok(Chosen {
        protos,
        mode: prm.mode,
        udp: prm.udp,
        pfs_group: prm.group,
        lifetime: prm.lifetime,
    })
}
