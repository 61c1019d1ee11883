//! Why an exchange step failed, sorted by who is to blame (as rustls does).
//!
//! Each variant maps to at most one IKEv1 notification for the peer and to one
//! log line for the administrator.

use super::wire::{notify_type, WireError};
use core::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reject {
    /// The bytes do not parse: truncated, bad lengths, bad payload types.
    Malformed(WireError),
    /// Well-formed, but not what the protocol allows at this point.
    PeerMisbehaved(Misbehaviour),
    /// Well-formed and legal, but nothing we are configured to accept.
    PeerIncompatible(Incompatible),
    /// Our side cannot go on (missing secret, kernel refusal, bad config).
    Local(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misbehaviour {
    /// A payload the exchange step requires is absent.
    MissingPayload(&'static str),
    /// A payload appears where it may not, or too often.
    UnexpectedPayload(&'static str),
    /// HASH_I/HASH_R or a Quick Mode / Informational HASH did not verify.
    /// With a PSK this is also what a wrong shared secret looks like.
    BadHash(&'static str),
    /// The RSA signature over HASH_I/HASH_R does not verify with any key
    /// known for the peer's ID.
    BadSignature(&'static str),
    /// The peer's DH public value is out of range or of the wrong length.
    BadKeyExchange(String),
    /// A message that should be encrypted was not, or the reverse.
    BadEncryption(&'static str),
    /// The responder chose something we did not offer, or more than one thing.
    BadProposalReply(String),
    /// The peer's ID is not the one the connection expects.
    WrongIdentity { expected: String, got: String },
    /// Cookies, message ID or SPI that make no sense for this state.
    BadParameter(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incompatible {
    /// No proposal in the peer's SA is acceptable: what was offered, what we allow.
    NoProposalChosen { offered: String, allowed: String },
    /// Exchange type or DOI feature we do not implement.
    Unsupported(String),
}

impl Reject {
    /// The notification to send back, if any. Failures that would tell an
    /// unauthenticated peer something useful, or that it cannot act on, send nothing.
    pub fn notify(&self) -> Option<u16> {
        match self {
            Reject::Malformed(_) => Some(notify_type::PAYLOAD_MALFORMED),
            Reject::PeerMisbehaved(m) => Some(match m {
                Misbehaviour::BadHash(_) => notify_type::INVALID_HASH_INFORMATION,
                Misbehaviour::BadSignature(_) => notify_type::INVALID_SIGNATURE,
                Misbehaviour::BadKeyExchange(_) => notify_type::INVALID_KEY_INFORMATION,
                Misbehaviour::WrongIdentity { .. } => notify_type::INVALID_ID_INFORMATION,
                Misbehaviour::BadProposalReply(_) => notify_type::BAD_PROPOSAL_SYNTAX,
                _ => notify_type::PAYLOAD_MALFORMED,
            }),
            Reject::PeerIncompatible(Incompatible::NoProposalChosen { .. }) => {
                Some(notify_type::NO_PROPOSAL_CHOSEN)
            }
            Reject::PeerIncompatible(Incompatible::Unsupported(_)) => None,
            Reject::Local(_) => None,
        }
    }

    /// Short word for the blame class, used in logs and counters.
    pub fn class(&self) -> &'static str {
        match self {
            Reject::Malformed(_) => "malformed",
            Reject::PeerMisbehaved(_) => "peer misbehaved",
            Reject::PeerIncompatible(_) => "peer incompatible",
            Reject::Local(_) => "local",
        }
    }
}

impl From<WireError> for Reject {
    fn from(e: WireError) -> Reject {
        Reject::Malformed(e)
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::Malformed(e) => write!(f, "malformed message: {e}"),
            Reject::PeerMisbehaved(m) => write!(f, "{m}"),
            Reject::PeerIncompatible(Incompatible::NoProposalChosen { offered, allowed }) => {
                write!(
                    f,
                    "no acceptable proposal: peer offered {offered}; we allow {allowed}"
                )
            }
            Reject::PeerIncompatible(Incompatible::Unsupported(s)) => write!(f, "unsupported: {s}"),
            Reject::Local(s) => write!(f, "{s}"),
        }
    }
}

impl fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misbehaviour::MissingPayload(p) => write!(f, "missing {p} payload"),
            Misbehaviour::BadSignature(which) => {
                write!(
                    f,
                    "RSA signature over {which} does not verify with any key known for the peer"
                )
            }
            Misbehaviour::UnexpectedPayload(p) => write!(f, "unexpected {p} payload"),
            Misbehaviour::BadHash(which) => write!(
                f,
                "{which} failed to verify (wrong pre-shared key or corrupted message)"
            ),
            Misbehaviour::BadKeyExchange(s) => write!(f, "invalid KE payload: {s}"),
            Misbehaviour::BadEncryption(s) => write!(f, "{s}"),
            Misbehaviour::BadProposalReply(s) => write!(f, "bad proposal in reply: {s}"),
            Misbehaviour::WrongIdentity { expected, got } => {
                write!(
                    f,
                    "we require peer to have ID '{expected}', but peer declares '{got}'"
                )
            }
            Misbehaviour::BadParameter(s) => write!(f, "{s}"),
        }
    }
}

pub type Result<T> = core::result::Result<T, Reject>;

pub(crate) fn missing(p: &'static str) -> Reject {
    Reject::PeerMisbehaved(Misbehaviour::MissingPayload(p))
}

pub(crate) fn misbehaved(m: Misbehaviour) -> Reject {
    Reject::PeerMisbehaved(m)
}
