//! XFRM netlink messages as Linux lays them out (x86_64 and every other
//! Linux ABI: the structs have no pointer- or long-sized fields).
//!
//! Two layers, as in the PF_KEY codec: [`MessageView`] checks the framing
//! (netlink header, the fixed struct the message type needs, attribute
//! lengths) before anything is trusted, then the body and every attribute
//! become validated, owned reprs inside a [`Message`] that emits back byte
//! for byte. [`parse_datagram`] splits one `recv` into its messages (dumps
//! pack several). Nothing here panics on any input, and there is no
//! `unsafe` (forbidden below).
//!
//! Byte order: host order for the C integers, network order for the SPI,
//! ports and addresses, as the kernel does; the codec follows the host it
//! runs on, like the kernel it talks to.
//!
//! Strictness: fixed structs and fixed-size attributes must have exactly
//! their size, algorithm attributes exactly the size their key length
//! gives, names a NUL inside their 64 bytes and zeros after it, template
//! arrays whole templates. That is what the kernel and iproute2 emit, and
//! what makes `emit(parse(b)) == b`. Padding and reserved bytes are not
//! checked (the kernel ignores them) and are emitted as zeros.
#![forbid(unsafe_code)]

mod addr;
mod attr;
mod bytes;
pub mod consts;
mod header;
mod message;
mod policy;
mod sa;
#[cfg(test)]
mod tests;

pub use super::error::XfrmError;
pub use addr::{
    family_of, full_prefix, mask, Addr, Id, LifetimeCfg, LifetimeCur, Selector, Stats, XFRM_INF,
};
pub use attr::{
    Algo, AlgoAuth, Attr, EncapTmpl, Mark, PolicyType, RawAttr, ReplayEsn, ReplayState, NLA_HDRLEN,
};
pub use bytes::{align4, NLA_ALIGNTO};
pub use header::{Header, NLMSG_HDRLEN};
pub use message::{emit_datagram, parse_datagram, Body, Done, Message, MessageView, NlError};
pub use policy::{UserAcquire, UserPolexpire, UserTmpl, UserpolicyId, UserpolicyInfo};
pub use sa::{UserExpire, UserMapping, UsersaFlush, UsersaId, UsersaInfo, UserspiInfo};

pub type Result<T> = core::result::Result<T, XfrmError>;
