//! The extension types of both dialects and the decoded [`Ext`] repr.
//!
//! Every extension starts with `struct sadb_ext`: `u16 len` (64-bit words,
//! header included, at least 1) and `u16 type`; bodies are padded to 8 bytes.
use super::addr::{Address, Identity, Protocol};
use super::bytes::{patch_u16, words16, Put, Reader, WORD};
use super::consts::*;
use super::policy::Policy;
use super::prop::{Proposal, Supported};
use super::sa::{Key, Lifetime, Sa, Sa2, SpiRange};
use super::{Dialect, PfkeyError, Result};

/// A known extension type, independent of its number in a dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtType {
    Sa,
    LifetimeCurrent,
    LifetimeHard,
    LifetimeSoft,
    AddressSrc,
    AddressDst,
    AddressProxy,
    KeyAuth,
    KeyEncrypt,
    IdentitySrc,
    IdentityDst,
    Sensitivity,
    Proposal,
    SupportedAuth,
    SupportedEncrypt,
    SpiRange,
    KmPrivate,
    // Linux only.
    Policy,
    Sa2,
    SecCtx,
    KmAddress,
    // Both, under different numbers.
    NatTType,
    NatTSport,
    NatTDport,
    NatTOa,
    // KLIPS only.
    SaType2,
    KlipsSa2,
    AddressDst2,
    AddressSrcFlow,
    AddressDstFlow,
    AddressSrcMask,
    AddressDstMask,
    Debug,
    Protocol,
}

/// (type, Linux number, KLIPS number, C name).
const TABLE: &[(ExtType, Option<u16>, Option<u16>, &str)] = &[
    (ExtType::Sa, Some(SADB_EXT_SA), Some(SADB_EXT_SA), "SA"),
    (
        ExtType::LifetimeCurrent,
        Some(SADB_EXT_LIFETIME_CURRENT),
        Some(SADB_EXT_LIFETIME_CURRENT),
        "LIFETIME_CURRENT",
    ),
    (
        ExtType::LifetimeHard,
        Some(SADB_EXT_LIFETIME_HARD),
        Some(SADB_EXT_LIFETIME_HARD),
        "LIFETIME_HARD",
    ),
    (
        ExtType::LifetimeSoft,
        Some(SADB_EXT_LIFETIME_SOFT),
        Some(SADB_EXT_LIFETIME_SOFT),
        "LIFETIME_SOFT",
    ),
    (
        ExtType::AddressSrc,
        Some(SADB_EXT_ADDRESS_SRC),
        Some(SADB_EXT_ADDRESS_SRC),
        "ADDRESS_SRC",
    ),
    (
        ExtType::AddressDst,
        Some(SADB_EXT_ADDRESS_DST),
        Some(SADB_EXT_ADDRESS_DST),
        "ADDRESS_DST",
    ),
    (
        ExtType::AddressProxy,
        Some(SADB_EXT_ADDRESS_PROXY),
        Some(SADB_EXT_ADDRESS_PROXY),
        "ADDRESS_PROXY",
    ),
    (
        ExtType::KeyAuth,
        Some(SADB_EXT_KEY_AUTH),
        Some(SADB_EXT_KEY_AUTH),
        "KEY_AUTH",
    ),
    (
        ExtType::KeyEncrypt,
        Some(SADB_EXT_KEY_ENCRYPT),
        Some(SADB_EXT_KEY_ENCRYPT),
        "KEY_ENCRYPT",
    ),
    (
        ExtType::IdentitySrc,
        Some(SADB_EXT_IDENTITY_SRC),
        Some(SADB_EXT_IDENTITY_SRC),
        "IDENTITY_SRC",
    ),
    (
        ExtType::IdentityDst,
        Some(SADB_EXT_IDENTITY_DST),
        Some(SADB_EXT_IDENTITY_DST),
        "IDENTITY_DST",
    ),
    (
        ExtType::Sensitivity,
        Some(SADB_EXT_SENSITIVITY),
        Some(SADB_EXT_SENSITIVITY),
        "SENSITIVITY",
    ),
    (
        ExtType::Proposal,
        Some(SADB_EXT_PROPOSAL),
        Some(SADB_EXT_PROPOSAL),
        "PROPOSAL",
    ),
    (
        ExtType::SupportedAuth,
        Some(SADB_EXT_SUPPORTED_AUTH),
        Some(SADB_EXT_SUPPORTED_AUTH),
        "SUPPORTED_AUTH",
    ),
    (
        ExtType::SupportedEncrypt,
        Some(SADB_EXT_SUPPORTED_ENCRYPT),
        Some(SADB_EXT_SUPPORTED_ENCRYPT),
        "SUPPORTED_ENCRYPT",
    ),
    (
        ExtType::SpiRange,
        Some(SADB_EXT_SPIRANGE),
        Some(SADB_EXT_SPIRANGE),
        "SPIRANGE",
    ),
    (
        ExtType::KmPrivate,
        Some(SADB_X_EXT_KMPRIVATE),
        Some(SADB_X_EXT_KMPRIVATE),
        "X_KMPRIVATE",
    ),
    (
        ExtType::Policy,
        Some(linux::SADB_X_EXT_POLICY),
        None,
        "X_POLICY",
    ),
    (ExtType::Sa2, Some(linux::SADB_X_EXT_SA2), None, "X_SA2"),
    (
        ExtType::SecCtx,
        Some(linux::SADB_X_EXT_SEC_CTX),
        None,
        "X_SEC_CTX",
    ),
    (
        ExtType::KmAddress,
        Some(linux::SADB_X_EXT_KMADDRESS),
        None,
        "X_KMADDRESS",
    ),
    (
        ExtType::NatTType,
        Some(linux::SADB_X_EXT_NAT_T_TYPE),
        Some(klips::SADB_X_EXT_NAT_T_TYPE),
        "X_NAT_T_TYPE",
    ),
    (
        ExtType::NatTSport,
        Some(linux::SADB_X_EXT_NAT_T_SPORT),
        Some(klips::SADB_X_EXT_NAT_T_SPORT),
        "X_NAT_T_SPORT",
    ),
    (
        ExtType::NatTDport,
        Some(linux::SADB_X_EXT_NAT_T_DPORT),
        Some(klips::SADB_X_EXT_NAT_T_DPORT),
        "X_NAT_T_DPORT",
    ),
    (
        ExtType::NatTOa,
        Some(linux::SADB_X_EXT_NAT_T_OA),
        Some(klips::SADB_X_EXT_NAT_T_OA),
        "X_NAT_T_OA",
    ),
    (
        ExtType::SaType2,
        None,
        Some(klips::SADB_X_EXT_SATYPE2),
        "X_SATYPE2",
    ),
    (
        ExtType::KlipsSa2,
        None,
        Some(klips::SADB_X_EXT_SA2),
        "X_SA2",
    ),
    (
        ExtType::AddressDst2,
        None,
        Some(klips::SADB_X_EXT_ADDRESS_DST2),
        "X_ADDRESS_DST2",
    ),
    (
        ExtType::AddressSrcFlow,
        None,
        Some(klips::SADB_X_EXT_ADDRESS_SRC_FLOW),
        "X_ADDRESS_SRC_FLOW",
    ),
    (
        ExtType::AddressDstFlow,
        None,
        Some(klips::SADB_X_EXT_ADDRESS_DST_FLOW),
        "X_ADDRESS_DST_FLOW",
    ),
    (
        ExtType::AddressSrcMask,
        None,
        Some(klips::SADB_X_EXT_ADDRESS_SRC_MASK),
        "X_ADDRESS_SRC_MASK",
    ),
    (
        ExtType::AddressDstMask,
        None,
        Some(klips::SADB_X_EXT_ADDRESS_DST_MASK),
        "X_ADDRESS_DST_MASK",
    ),
    (
        ExtType::Debug,
        None,
        Some(klips::SADB_X_EXT_DEBUG),
        "X_DEBUG",
    ),
    (
        ExtType::Protocol,
        None,
        Some(klips::SADB_X_EXT_PROTOCOL),
        "X_PROTOCOL",
    ),
];

impl ExtType {
    /// The number of this extension type in `dialect`, if it exists there.
    pub fn number(self, dialect: Dialect) -> Option<u16> {
        TABLE
            .iter()
            .find(|e| e.0 == self)
            .and_then(|e| match dialect {
                Dialect::Linux => e.1,
                Dialect::Klips => e.2,
            })
    }

    /// The known type numbered `n` in `dialect`.
    pub fn from_number(dialect: Dialect, n: u16) -> Option<ExtType> {
        TABLE
            .iter()
            .find(|e| match dialect {
                Dialect::Linux => e.1 == Some(n),
                Dialect::Klips => e.2 == Some(n),
            })
            .map(|e| e.0)
    }

    /// The C name without the `SADB_(X_)EXT_` prefix.
    pub fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|e| e.0 == self)
            .map_or("UNKNOWN", |e| e.3)
    }
}

/// One decoded extension. Opaque variants hold the body after the 4-byte
/// extension header, padding included.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ext {
    Sa(Sa),
    LifetimeCurrent(Lifetime),
    LifetimeHard(Lifetime),
    LifetimeSoft(Lifetime),
    AddressSrc(Address),
    AddressDst(Address),
    AddressProxy(Address),
    KeyAuth(Key),
    KeyEncrypt(Key),
    IdentitySrc(Identity),
    IdentityDst(Identity),
    /// `sadb_sens` and its bitmaps, opaque (at least 12 bytes).
    Sensitivity(Vec<u8>),
    Proposal(Proposal),
    SupportedAuth(Supported),
    SupportedEncrypt(Supported),
    SpiRange(SpiRange),
    KmPrivate(Vec<u8>),
    /// Linux `sadb_x_policy`.
    Policy(Policy),
    /// Linux `sadb_x_sa2` (mode, sequence, reqid).
    Sa2(Sa2),
    /// Linux `sadb_x_sec_ctx` and its context string, opaque.
    SecCtx(Vec<u8>),
    /// Linux `sadb_x_kmaddress` and its two sockaddrs, opaque.
    KmAddress(Vec<u8>),
    /// `sadb_x_nat_t_type_type` (UDP_ENCAP_ESPINUDP...).
    NatTType(u8),
    /// `sadb_x_nat_t_port_port` (host-order number; big-endian on the wire).
    NatTSport(u16),
    NatTDport(u16),
    NatTOa(Address),
    /// KLIPS `sadb_x_satype`: the second SA's type (GRPSA).
    SaType2(u8),
    /// KLIPS X_SA2: a second `sadb_sa` (GRPSA).
    KlipsSa2(Sa),
    AddressDst2(Address),
    AddressSrcFlow(Address),
    AddressDstFlow(Address),
    AddressSrcMask(Address),
    AddressDstMask(Address),
    /// KLIPS `sadb_x_debug`, opaque.
    Debug(Vec<u8>),
    /// KLIPS `sadb_protocol`.
    Protocol(Protocol),
    /// A type this dialect does not define (e.g. Linux X_FILTER 26), kept as is.
    Unknown {
        ty: u16,
        body: Vec<u8>,
    },
}

/// A body of exactly 4 bytes (`sadb_x_nat_t_type`, `sadb_x_nat_t_port`,
/// `sadb_x_satype`): the meaningful bytes, the rest reserved.
fn small(body: &[u8], what: &'static str) -> Result<[u8; 4]> {
    let mut r = Reader::new(body, what);
    let b = r.array::<4>()?;
    r.finish()?;
    Ok(b)
}

fn opaque(body: &[u8], min: usize, what: &'static str) -> Result<Vec<u8>> {
    if body.len() < min {
        return Err(PfkeyError::Truncated {
            what,
            need: min,
            have: body.len(),
        });
    }
    Ok(body.to_vec())
}

impl Ext {
    /// The known type of this extension (`None` for [`Ext::Unknown`]).
    pub fn ext_type(&self) -> Option<ExtType> {
        Some(match self {
            Ext::Sa(_) => ExtType::Sa,
            Ext::LifetimeCurrent(_) => ExtType::LifetimeCurrent,
            Ext::LifetimeHard(_) => ExtType::LifetimeHard,
            Ext::LifetimeSoft(_) => ExtType::LifetimeSoft,
            Ext::AddressSrc(_) => ExtType::AddressSrc,
            Ext::AddressDst(_) => ExtType::AddressDst,
            Ext::AddressProxy(_) => ExtType::AddressProxy,
            Ext::KeyAuth(_) => ExtType::KeyAuth,
            Ext::KeyEncrypt(_) => ExtType::KeyEncrypt,
            Ext::IdentitySrc(_) => ExtType::IdentitySrc,
            Ext::IdentityDst(_) => ExtType::IdentityDst,
            Ext::Sensitivity(_) => ExtType::Sensitivity,
            Ext::Proposal(_) => ExtType::Proposal,
            Ext::SupportedAuth(_) => ExtType::SupportedAuth,
            Ext::SupportedEncrypt(_) => ExtType::SupportedEncrypt,
            Ext::SpiRange(_) => ExtType::SpiRange,
            Ext::KmPrivate(_) => ExtType::KmPrivate,
            Ext::Policy(_) => ExtType::Policy,
            Ext::Sa2(_) => ExtType::Sa2,
            Ext::SecCtx(_) => ExtType::SecCtx,
            Ext::KmAddress(_) => ExtType::KmAddress,
            Ext::NatTType(_) => ExtType::NatTType,
            Ext::NatTSport(_) => ExtType::NatTSport,
            Ext::NatTDport(_) => ExtType::NatTDport,
            Ext::NatTOa(_) => ExtType::NatTOa,
            Ext::SaType2(_) => ExtType::SaType2,
            Ext::KlipsSa2(_) => ExtType::KlipsSa2,
            Ext::AddressDst2(_) => ExtType::AddressDst2,
            Ext::AddressSrcFlow(_) => ExtType::AddressSrcFlow,
            Ext::AddressDstFlow(_) => ExtType::AddressDstFlow,
            Ext::AddressSrcMask(_) => ExtType::AddressSrcMask,
            Ext::AddressDstMask(_) => ExtType::AddressDstMask,
            Ext::Debug(_) => ExtType::Debug,
            Ext::Protocol(_) => ExtType::Protocol,
            Ext::Unknown { .. } => return None,
        })
    }

    /// The type number written for this extension in `dialect` (`None` if
    /// the dialect has no such extension).
    pub fn number(&self, dialect: Dialect) -> Option<u16> {
        match self {
            Ext::Unknown { ty, .. } => Some(*ty),
            other => other.ext_type().and_then(|t| t.number(dialect)),
        }
    }

    /// Decodes the body (bytes after the 4-byte header) of an extension
    /// numbered `ty` in `dialect`.
    pub fn parse(dialect: Dialect, ty: u16, body: &[u8]) -> Result<Ext> {
        let Some(kind) = ExtType::from_number(dialect, ty) else {
            return Ok(Ext::Unknown {
                ty,
                body: body.to_vec(),
            });
        };
        Ok(match kind {
            ExtType::Sa => Ext::Sa(Sa::parse(body, dialect)?),
            ExtType::LifetimeCurrent => Ext::LifetimeCurrent(Lifetime::parse(body, dialect)?),
            ExtType::LifetimeHard => Ext::LifetimeHard(Lifetime::parse(body, dialect)?),
            ExtType::LifetimeSoft => Ext::LifetimeSoft(Lifetime::parse(body, dialect)?),
            ExtType::AddressSrc => Ext::AddressSrc(Address::parse(body)?),
            ExtType::AddressDst => Ext::AddressDst(Address::parse(body)?),
            ExtType::AddressProxy => Ext::AddressProxy(Address::parse(body)?),
            ExtType::KeyAuth => Ext::KeyAuth(Key::parse(body)?),
            ExtType::KeyEncrypt => Ext::KeyEncrypt(Key::parse(body)?),
            ExtType::IdentitySrc => Ext::IdentitySrc(Identity::parse(body)?),
            ExtType::IdentityDst => Ext::IdentityDst(Identity::parse(body)?),
            ExtType::Sensitivity => Ext::Sensitivity(opaque(body, 12, "sensitivity extension")?),
            ExtType::Proposal => Ext::Proposal(Proposal::parse(body, dialect)?),
            ExtType::SupportedAuth => Ext::SupportedAuth(Supported::parse(body)?),
            ExtType::SupportedEncrypt => Ext::SupportedEncrypt(Supported::parse(body)?),
            ExtType::SpiRange => Ext::SpiRange(SpiRange::parse(body)?),
            ExtType::KmPrivate => Ext::KmPrivate(opaque(body, 4, "kmprivate extension")?),
            ExtType::Policy => Ext::Policy(Policy::parse(body)?),
            ExtType::Sa2 => Ext::Sa2(Sa2::parse(body)?),
            ExtType::SecCtx => Ext::SecCtx(opaque(body, 4, "security context extension")?),
            ExtType::KmAddress => Ext::KmAddress(opaque(body, 4, "kmaddress extension")?),
            ExtType::NatTType => {
                let [t, ..] = small(body, "NAT-T type extension")?;
                Ext::NatTType(t)
            }
            ExtType::NatTSport => {
                let [a, b, ..] = small(body, "NAT-T port extension")?;
                Ext::NatTSport(u16::from_be_bytes([a, b]))
            }
            ExtType::NatTDport => {
                let [a, b, ..] = small(body, "NAT-T port extension")?;
                Ext::NatTDport(u16::from_be_bytes([a, b]))
            }
            ExtType::NatTOa => Ext::NatTOa(Address::parse(body)?),
            ExtType::SaType2 => {
                let [t, ..] = small(body, "satype extension")?;
                Ext::SaType2(t)
            }
            ExtType::KlipsSa2 => Ext::KlipsSa2(Sa::parse(body, dialect)?),
            ExtType::AddressDst2 => Ext::AddressDst2(Address::parse(body)?),
            ExtType::AddressSrcFlow => Ext::AddressSrcFlow(Address::parse(body)?),
            ExtType::AddressDstFlow => Ext::AddressDstFlow(Address::parse(body)?),
            ExtType::AddressSrcMask => Ext::AddressSrcMask(Address::parse(body)?),
            ExtType::AddressDstMask => Ext::AddressDstMask(Address::parse(body)?),
            ExtType::Debug => Ext::Debug(opaque(body, 4, "debug extension")?),
            ExtType::Protocol => Ext::Protocol(Protocol::parse(body)?),
        })
    }

    /// Appends the whole extension (header, body, padding) as `dialect`
    /// numbers it. An extension the dialect does not have is skipped.
    pub fn emit(&self, dialect: Dialect, out: &mut Vec<u8>) {
        let Some(ty) = self.number(dialect) else {
            return;
        };
        let start = out.len();
        out.put_u16(0);
        out.put_u16(ty);
        match self {
            Ext::Sa(sa) | Ext::KlipsSa2(sa) => sa.emit(out, dialect),
            Ext::LifetimeCurrent(l) | Ext::LifetimeHard(l) | Ext::LifetimeSoft(l) => {
                l.emit(out, dialect)
            }
            Ext::AddressSrc(a)
            | Ext::AddressDst(a)
            | Ext::AddressProxy(a)
            | Ext::NatTOa(a)
            | Ext::AddressDst2(a)
            | Ext::AddressSrcFlow(a)
            | Ext::AddressDstFlow(a)
            | Ext::AddressSrcMask(a)
            | Ext::AddressDstMask(a) => a.emit(out),
            Ext::KeyAuth(k) | Ext::KeyEncrypt(k) => k.emit(out),
            Ext::IdentitySrc(i) | Ext::IdentityDst(i) => i.emit(out),
            Ext::Sensitivity(b)
            | Ext::KmPrivate(b)
            | Ext::SecCtx(b)
            | Ext::KmAddress(b)
            | Ext::Debug(b)
            | Ext::Unknown { body: b, .. } => out.extend_from_slice(b),
            Ext::Proposal(p) => p.emit(out, dialect),
            Ext::SupportedAuth(s) | Ext::SupportedEncrypt(s) => s.emit(out),
            Ext::SpiRange(r) => r.emit(out),
            Ext::Policy(p) => p.emit(out),
            Ext::Sa2(s) => s.emit(out),
            Ext::NatTType(t) | Ext::SaType2(t) => {
                out.put_u8(*t);
                out.put_zeros(3);
            }
            Ext::NatTSport(p) | Ext::NatTDport(p) => {
                out.put_u16_be(*p);
                out.put_u16(0);
            }
            Ext::Protocol(p) => p.emit(out),
        }
        out.pad_from(start, WORD);
        let words = words16(out.len().saturating_sub(start));
        patch_u16(out, start, words);
    }
}
