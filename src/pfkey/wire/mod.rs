//! PF_KEY v2 (RFC 2367) messages as Linux and KLIPS lay them out.
//!
//! Two layers, as in the ISAKMP codec: [`MessageView`] checks the framing of
//! a whole datagram before anything is trusted, then every extension becomes
//! a validated, owned repr ([`Ext`]) inside a [`Message`] that emits back
//! byte for byte. Nothing here panics on any input, and there is no
//! `unsafe` (forbidden below).
//!
//! Byte order: the structs are plain C structs in host order, except the SPI,
//! ports, IP addresses and IPv6 flow label, which are big-endian; the codec
//! follows the host it runs on, like the kernel it talks to.
//!
//! Strictness: fixed-size extensions must have exactly their size, address
//! extensions exactly the size their family needs, key extensions exactly
//! `1 + ceil(bits / 64)` words and ipsecrequest lists must fill their policy.
//! That is what both kernels emit, and what makes `emit(parse(b)) == b`.
#![forbid(unsafe_code)]

mod addr;
mod bytes;
pub mod consts;
mod ext;
mod header;
mod message;
mod policy;
mod prop;
mod sa;
mod sockaddr;
#[cfg(test)]
mod tests;

pub use super::error::PfkeyError;
pub use addr::{full_prefix, Address, Identity, Protocol};
pub use bytes::WORD;
pub use ext::{Ext, ExtType};
pub use header::{Header, HEADER_LEN};
pub use message::{Message, MessageView, RawExt};
pub use policy::{IpsecRequest, Policy, IPSECREQUEST_LEN};
pub use prop::{comb_len, Alg, Comb, Proposal, Supported};
pub use sa::{Key, Lifetime, Sa, Sa2, SpiRange};
pub use sockaddr::{sockaddr_len, SOCKADDR_IN6_LEN, SOCKADDR_IN_LEN};

pub type Result<T> = core::result::Result<T, PfkeyError>;

/// Which kernel's PF_KEY a message is for. The RFC's numbers (message types
/// 0..=12, extension types 0..=17) are shared; above that the two reuse the
/// same numbers differently, and a few layouts differ (KLIPS lifetimes and
/// combs carry packet counts, its `sadb_sa` may carry an SA reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// Linux `af_key` (NETKEY, KAME numbering: X_SPD*, X_POLICY, X_SA2...).
    #[default]
    Linux,
    /// Openswan KLIPS (X_GRPSA, X_ADDFLOW, flow extensions...; spec §5.5).
    Klips,
}
