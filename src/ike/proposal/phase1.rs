//! ISAKMP SA proposals (Main Mode): one proposal, transforms in preference order.

use super::join;
use crate::ike::crypto::{CipherAlg, DhGroup, HashAlg};
use crate::ike::error::{Incompatible, Misbehaviour, Reject};
use crate::ike::wire::{
    protocol, Attribute, Proposal, SaPayload, Transform, DOI_IPSEC, SIT_IDENTITY_ONLY,
};
use core::fmt;

/// Longest ISAKMP SA lifetime we accept (seconds).
pub const MAX_IKE_LIFETIME: u32 = 86400;
const DEFAULT_IKE_LIFETIME: u32 = 3600;
const KEY_IKE: u8 = 1;

mod oakley {
    pub const ENCRYPTION_ALGORITHM: u16 = 1;
    pub const HASH_ALGORITHM: u16 = 2;
    pub const AUTHENTICATION_METHOD: u16 = 3;
    pub const GROUP_DESCRIPTION: u16 = 4;
    pub const LIFE_TYPE: u16 = 11;
    pub const LIFE_DURATION: u16 = 12;
    pub const KEY_LENGTH: u16 = 14;
    pub const LIFE_SECONDS: u64 = 1;
    pub const LIFE_KILOBYTES: u64 = 2;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    Psk,
    RsaSig,
}

impl AuthMethod {
    pub fn id(self) -> u16 {
        match self {
            AuthMethod::Psk => 1,
            AuthMethod::RsaSig => 3,
        }
    }
    fn from_id(v: u64) -> Option<AuthMethod> {
        match v {
            1 => Some(AuthMethod::Psk),
            3 => Some(AuthMethod::RsaSig),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::Psk => "PRESHARED_KEY",
            AuthMethod::RsaSig => "RSA_SIG",
        }
    }
}

/// One phase-1 transform: the suite and the lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IkeTransform {
    pub cipher: CipherAlg,
    pub hash: HashAlg,
    pub auth: AuthMethod,
    pub group: DhGroup,
    pub lifetime: u32,
}

impl IkeTransform {
    pub fn new(cipher: CipherAlg, hash: HashAlg, auth: AuthMethod, group: DhGroup) -> Self {
        IkeTransform {
            cipher,
            hash,
            auth,
            group,
            lifetime: DEFAULT_IKE_LIFETIME,
        }
    }

    /// Same algorithms (lifetime aside).
    fn same_suite(&self, o: &IkeTransform) -> bool {
        self.cipher == o.cipher
            && self.hash == o.hash
            && self.auth == o.auth
            && self.group == o.group
    }

    fn to_wire(self, number: u8) -> Transform {
        let mut attributes = vec![
            Attribute::basic(oakley::LIFE_TYPE, oakley::LIFE_SECONDS as u16),
            Attribute::from_u32(oakley::LIFE_DURATION, self.lifetime),
            Attribute::basic(oakley::ENCRYPTION_ALGORITHM, self.cipher.oakley_id()),
            Attribute::basic(oakley::HASH_ALGORITHM, self.hash.oakley_id()),
            Attribute::basic(oakley::AUTHENTICATION_METHOD, self.auth.id()),
            Attribute::basic(oakley::GROUP_DESCRIPTION, self.group.id()),
        ];
        if let Some(bits) = aes_key_bits(self.cipher) {
            attributes.push(Attribute::basic(oakley::KEY_LENGTH, bits));
        }
        Transform {
            number,
            transform_id: KEY_IKE,
            attributes,
        }
    }
}

fn aes_key_bits(c: CipherAlg) -> Option<u16> {
    match c {
        CipherAlg::Des3 => None,
        CipherAlg::Aes128 => Some(128),
        CipherAlg::Aes192 => Some(192),
        CipherAlg::Aes256 => Some(256),
    }
}

impl fmt::Display for IkeTransform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}-{}",
            self.cipher.name(),
            self.hash.name(),
            self.group.name(),
            self.auth.name()
        )
    }
}

/// The seed's table (spec §6.1) for the connection's authentication bits, then
/// AES/SHA2/MODP2048 extras that modern peers want.
pub fn default_ike_transforms(psk: bool, rsasig: bool, lifetime: u32) -> Vec<IkeTransform> {
    use AuthMethod::{Psk, RsaSig};
    use CipherAlg::Des3;
    use DhGroup::{Modp1024 as G2, Modp1536 as G5};
    use HashAlg::{Md5, Sha1};
    let table: Vec<(HashAlg, AuthMethod, DhGroup)> = match (psk, rsasig) {
        (true, true) => vec![
            (Md5, RsaSig, G5),
            (Md5, Psk, G5),
            (Sha1, RsaSig, G5),
            (Sha1, Psk, G5),
            (Sha1, RsaSig, G2),
            (Sha1, Psk, G2),
            (Md5, RsaSig, G2),
            (Md5, Psk, G2),
        ],
        (false, true) => vec![
            (Md5, RsaSig, G5),
            (Sha1, RsaSig, G5),
            (Sha1, RsaSig, G2),
            (Md5, RsaSig, G2),
        ],
        _ => vec![
            (Md5, Psk, G5),
            (Sha1, Psk, G5),
            (Sha1, Psk, G2),
            (Md5, Psk, G2),
        ],
    };
    let mut out: Vec<IkeTransform> = table
        .into_iter()
        .map(|(h, a, g)| IkeTransform::new(Des3, h, a, g))
        .collect();
    let auths: Vec<AuthMethod> = match (psk, rsasig) {
        (true, true) => vec![RsaSig, Psk],
        (false, true) => vec![RsaSig],
        _ => vec![Psk],
    };
    for a in auths {
        for (c, h, g) in [
            (CipherAlg::Aes128, Sha1, DhGroup::Modp2048),
            (CipherAlg::Aes256, HashAlg::Sha256, DhGroup::Modp2048),
            (CipherAlg::Aes128, Sha1, G5),
            (Des3, Sha1, DhGroup::Modp2048),
        ] {
            out.push(IkeTransform::new(c, h, a, g));
        }
    }
    for t in &mut out {
        t.lifetime = lifetime;
    }
    out
}

/// The initiator's SA payload: proposal #0, protocol ISAKMP, no SPI, one
/// transform per entry numbered from 0.
pub fn ike_sa_payload(transforms: &[IkeTransform]) -> SaPayload {
    let transforms = transforms
        .iter()
        .enumerate()
        .map(|(i, t)| t.to_wire(u8::try_from(i).unwrap_or(u8::MAX)))
        .collect();
    SaPayload {
        doi: DOI_IPSEC,
        situation: SIT_IDENTITY_ONLY,
        proposals: vec![Proposal {
            number: 0,
            protocol: protocol::ISAKMP,
            spi: Vec::new(),
            transforms,
        }],
    }
}

/// Why one peer transform is unusable, or the suite it names.
fn decode_transform(t: &Transform) -> Result<IkeTransform, String> {
    if t.transform_id != KEY_IKE {
        return Err(format!("transform id {}", t.transform_id));
    }
    let (mut enc, mut hash, mut auth, mut group, mut key_bits) = (None, None, None, None, None);
    let mut life_type: Option<u64> = None;
    let mut lifetime = DEFAULT_IKE_LIFETIME;
    for a in &t.attributes {
        let v = a
            .as_u64()
            .ok_or_else(|| format!("attribute {} has no usable value", a.ty))?;
        match a.ty {
            oakley::ENCRYPTION_ALGORITHM => enc = Some(v),
            oakley::HASH_ALGORITHM => {
                hash = Some(HashAlg::from_oakley_id(v).ok_or_else(|| format!("hash {v}"))?)
            }
            oakley::AUTHENTICATION_METHOD => {
                auth = Some(AuthMethod::from_id(v).ok_or_else(|| format!("auth method {v}"))?)
            }
            oakley::GROUP_DESCRIPTION => {
                group = Some(DhGroup::from_id(v).ok_or_else(|| format!("DH group {v}"))?)
            }
            oakley::KEY_LENGTH => key_bits = Some(v),
            oakley::LIFE_TYPE => life_type = Some(v),
            oakley::LIFE_DURATION => match life_type {
                Some(oakley::LIFE_SECONDS) => {
                    if v > u64::from(MAX_IKE_LIFETIME) {
                        return Err(format!(
                            "peer requested {v} seconds which exceeds our limit {MAX_IKE_LIFETIME} seconds"
                        ));
                    }
                    lifetime = u32::try_from(v).unwrap_or(MAX_IKE_LIFETIME);
                }
                // A volume limit we do not enforce; the time limit still applies.
                Some(oakley::LIFE_KILOBYTES) => {}
                _ => return Err("life duration without life type".to_string()),
            },
            other => return Err(format!("unsupported attribute {other}")),
        }
    }
    let cipher = enc
        .and_then(|e| CipherAlg::from_oakley(e, key_bits))
        .ok_or_else(|| format!("encryption {enc:?} with key length {key_bits:?}"))?;
    let (Some(hash), Some(auth), Some(group)) = (hash, auth, group) else {
        return Err("missing hash, auth or group attribute".to_string());
    };
    Ok(IkeTransform {
        cipher,
        hash,
        auth,
        group,
        lifetime,
    })
}

fn describe_offer(sa: &SaPayload) -> String {
    let mut v = Vec::new();
    for p in &sa.proposals {
        for t in &p.transforms {
            v.push(match decode_transform(t) {
                Ok(x) => x.to_string(),
                Err(e) => format!("[{e}]"),
            });
        }
    }
    join(&v)
}

fn no_proposal(sa: &SaPayload, allowed: &[IkeTransform]) -> Reject {
    Reject::PeerIncompatible(Incompatible::NoProposalChosen {
        offered: describe_offer(sa),
        allowed: join(allowed),
    })
}

/// Responder: the first of the peer's transforms (in the peer's order) whose
/// suite we allow. Returns our view of it and the reply SA (the chosen
/// transform echoed with its number and attributes).
pub fn select_ike(
    sa: &SaPayload,
    allowed: &[IkeTransform],
) -> Result<(IkeTransform, SaPayload), Reject> {
    let [prop] = sa.proposals.as_slice() else {
        return Err(Reject::PeerMisbehaved(Misbehaviour::BadProposalReply(
            format!(
                "phase 1 needs exactly one proposal, got {}",
                sa.proposals.len()
            ),
        )));
    };
    if prop.protocol != protocol::ISAKMP {
        return Err(no_proposal(sa, allowed));
    }
    for t in &prop.transforms {
        let Ok(mine) = decode_transform(t) else {
            continue;
        };
        if allowed.iter().any(|a| a.same_suite(&mine)) {
            let reply = SaPayload {
                doi: sa.doi,
                situation: sa.situation,
                proposals: vec![Proposal {
                    number: prop.number,
                    protocol: prop.protocol,
                    spi: prop.spi.clone(),
                    transforms: vec![t.clone()],
                }],
            };
            return Ok((mine, reply));
        }
    }
    Err(no_proposal(sa, allowed))
}

/// Initiator: the responder's SA must hold one proposal with one transform that
/// is one of ours (the commit bit and any lifetime it names aside).
pub fn parse_ike_reply(sa: &SaPayload, offered: &[IkeTransform]) -> Result<IkeTransform, Reject> {
    let bad = |s: String| Reject::PeerMisbehaved(Misbehaviour::BadProposalReply(s));
    let [prop] = sa.proposals.as_slice() else {
        return Err(bad(format!("{} proposals", sa.proposals.len())));
    };
    let [t] = prop.transforms.as_slice() else {
        return Err(bad(format!("{} transforms", prop.transforms.len())));
    };
    let chosen = decode_transform(t).map_err(bad)?;
    if !offered.iter().any(|o| o.same_suite(&chosen)) {
        return Err(bad(format!("{chosen} was not offered")));
    }
    Ok(chosen)
}
