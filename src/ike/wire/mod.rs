//! ISAKMP (RFC 2408) with the IPsec DOI (RFC 2407): the bytes on the wire.
//!
//! Two layers, as in smoltcp: [`Header`] and the generic payload chain are
//! checked before anything is trusted ([`parse_header`], [`parse_chain`]); each
//! payload body then becomes a validated, owned `Repr` ([`Payload`]) that can be
//! emitted back byte for byte. Nothing here panics on any input.

mod attr;
mod bytes;
mod chain;
mod header;
mod ident;
mod natt;
mod notify;
mod sa;
#[cfg(test)]
mod tests;

pub use attr::{AttrValue, Attribute};
pub use chain::{emit_chain, parse_chain, ParsedPayload, MAX_PAYLOADS};
pub use header::{parse_header, Header, HEADER_LEN};
pub use ident::{IdPayload, Identity};
pub use natt::NatOa;
pub use notify::{DeletePayload, NotifyPayload};
pub use sa::{Proposal, SaPayload, Transform};

use core::fmt;

/// Why a datagram or payload was refused. Every variant is the sender's fault
/// (a malformed message); callers map it to a log line or an INVALID_* notify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// Fewer bytes than a fixed part or a declared length needs.
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    /// A length field smaller than its own fixed part, or past the enclosing data.
    BadLength { what: &'static str, len: usize },
    /// ISAKMP major version other than 1.
    BadVersion(u8),
    /// A payload type that IKEv1 does not define (IKEv2 types included: they
    /// are never accepted inside an IKEv1 message).
    InvalidPayloadType(u8),
    /// More payloads in one chain than [`MAX_PAYLOADS`].
    TooManyPayloads,
    /// Bytes after the last payload where none may be (unencrypted messages).
    TrailingData(usize),
    /// A field with a value the DOI forbids (situation, SPI size, ID type...).
    BadField { what: &'static str, value: u32 },
    /// Proposal/transform chain inside an SA payload is inconsistent.
    BadSaStructure(&'static str),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated { what, need, have } => {
                write!(f, "{what} truncated: need {need} bytes, have {have}")
            }
            WireError::BadLength { what, len } => write!(f, "{what} has impossible length {len}"),
            WireError::BadVersion(v) => write!(f, "unsupported ISAKMP version 0x{v:02x}"),
            WireError::InvalidPayloadType(t) => write!(f, "invalid payload type {t}"),
            WireError::TooManyPayloads => write!(f, "more than {MAX_PAYLOADS} payloads"),
            WireError::TrailingData(n) => write!(f, "{n} bytes after the last payload"),
            WireError::BadField { what, value } => write!(f, "bad {what} {value}"),
            WireError::BadSaStructure(s) => write!(f, "malformed SA payload: {s}"),
        }
    }
}

impl std::error::Error for WireError {}

pub type Result<T> = core::result::Result<T, WireError>;

/// Payload type numbers (RFC 2408 §3.1, RFC 3947 for NAT-D/NAT-OA).
pub mod payload_type {
    pub const NONE: u8 = 0;
    pub const SA: u8 = 1;
    pub const PROPOSAL: u8 = 2;
    pub const TRANSFORM: u8 = 3;
    pub const KE: u8 = 4;
    pub const ID: u8 = 5;
    pub const CERT: u8 = 6;
    pub const CR: u8 = 7;
    pub const HASH: u8 = 8;
    pub const SIG: u8 = 9;
    pub const NONCE: u8 = 10;
    pub const N: u8 = 11;
    pub const D: u8 = 12;
    pub const VID: u8 = 13;
    pub const NAT_D: u8 = 20;
    pub const NAT_OA: u8 = 21;
    /// The same two in the private range, as draft-ietf-ipsec-nat-t-ike-02/03 numbered them.
    pub const NAT_D_DRAFT: u8 = 130;
    pub const NAT_OA_DRAFT: u8 = 131;
}

/// Exchange types (RFC 2408 §3.1, RFC 2409 §5).
pub mod exchange {
    pub const IDENTITY_PROTECTION: u8 = 2; // Main Mode
    pub const AGGRESSIVE: u8 = 4;
    pub const INFORMATIONAL: u8 = 5;
    pub const QUICK: u8 = 32;
}

/// Header flag bits.
pub mod flags {
    pub const ENCRYPTION: u8 = 0x01;
    pub const COMMIT: u8 = 0x02;
    pub const AUTH_ONLY: u8 = 0x04;
}

/// IPsec DOI number and the only situation we support.
pub const DOI_IPSEC: u32 = 1;
pub const SIT_IDENTITY_ONLY: u32 = 1;

/// Protocol ids (RFC 2407 §4.4.1).
pub mod protocol {
    pub const ISAKMP: u8 = 1;
    pub const AH: u8 = 2;
    pub const ESP: u8 = 3;
    pub const IPCOMP: u8 = 4;
}

/// Notify message types used by this implementation (RFC 2408 §3.14.1, RFC 2407 §4.6.3).
pub mod notify_type {
    pub const INVALID_PAYLOAD_TYPE: u16 = 1;
    pub const DOI_NOT_SUPPORTED: u16 = 2;
    pub const SITUATION_NOT_SUPPORTED: u16 = 3;
    pub const INVALID_COOKIE: u16 = 4;
    pub const INVALID_MAJOR_VERSION: u16 = 5;
    pub const INVALID_EXCHANGE_TYPE: u16 = 7;
    pub const INVALID_FLAGS: u16 = 8;
    pub const INVALID_MESSAGE_ID: u16 = 9;
    pub const INVALID_SPI: u16 = 11;
    pub const BAD_PROPOSAL_SYNTAX: u16 = 15;
    pub const NO_PROPOSAL_CHOSEN: u16 = 14;
    pub const PAYLOAD_MALFORMED: u16 = 16;
    pub const INVALID_KEY_INFORMATION: u16 = 17;
    pub const INVALID_ID_INFORMATION: u16 = 18;
    pub const AUTHENTICATION_FAILED: u16 = 24;
    pub const INVALID_HASH_INFORMATION: u16 = 23;
    pub const INVALID_SIGNATURE: u16 = 25;
    pub const RESPONDER_LIFETIME: u16 = 24576;
    pub const REPLAY_STATUS: u16 = 24577;
    pub const INITIAL_CONTACT: u16 = 24578;
    pub const R_U_THERE: u16 = 36136;
    pub const R_U_THERE_ACK: u16 = 36137;
}

/// One decoded payload body (the generic 4-byte header is not part of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Sa(SaPayload),
    Ke(Vec<u8>),
    Id(IdPayload),
    /// CERT: encoding byte, then the certificate data.
    Cert {
        encoding: u8,
        data: Vec<u8>,
    },
    /// CR: certificate type, then the certificate authority (may be empty).
    CertReq {
        cert_type: u8,
        authority: Vec<u8>,
    },
    Hash(Vec<u8>),
    Sig(Vec<u8>),
    Nonce(Vec<u8>),
    Notify(NotifyPayload),
    Delete(DeletePayload),
    Vid(Vec<u8>),
    /// NAT-D / NAT-OA (RFC 3947) and private-use types 128..=255: kept opaque.
    Other {
        ty: u8,
        body: Vec<u8>,
    },
}

impl Payload {
    /// The payload type number this variant is emitted with.
    pub fn ty(&self) -> u8 {
        match self {
            Payload::Sa(_) => payload_type::SA,
            Payload::Ke(_) => payload_type::KE,
            Payload::Id(_) => payload_type::ID,
            Payload::Cert { .. } => payload_type::CERT,
            Payload::CertReq { .. } => payload_type::CR,
            Payload::Hash(_) => payload_type::HASH,
            Payload::Sig(_) => payload_type::SIG,
            Payload::Nonce(_) => payload_type::NONCE,
            Payload::Notify(_) => payload_type::N,
            Payload::Delete(_) => payload_type::D,
            Payload::Vid(_) => payload_type::VID,
            Payload::Other { ty, .. } => *ty,
        }
    }
}

/// Human name of a payload type, for log lines.
pub fn payload_name(ty: u8) -> &'static str {
    match ty {
        payload_type::NONE => "NONE",
        payload_type::SA => "SA",
        payload_type::PROPOSAL => "P",
        payload_type::TRANSFORM => "T",
        payload_type::KE => "KE",
        payload_type::ID => "ID",
        payload_type::CERT => "CERT",
        payload_type::CR => "CR",
        payload_type::HASH => "HASH",
        payload_type::SIG => "SIG",
        payload_type::NONCE => "NONCE",
        payload_type::N => "N",
        payload_type::D => "D",
        payload_type::VID => "VID",
        payload_type::NAT_D => "NAT-D",
        payload_type::NAT_OA => "NAT-OA",
        payload_type::NAT_D_DRAFT => "NAT-D (draft)",
        payload_type::NAT_OA_DRAFT => "NAT-OA (draft)",
        _ => "UNKNOWN",
    }
}
