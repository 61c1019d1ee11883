//! XFRM netlink (`NETLINK_XFRM`) for Linux, in tree: the codec, the messages
//! a keying daemon and the manual tools send, and the socket. The sibling of
//! [`crate::pfkey`] for kernels without `af_key`.
//!
//! * [`wire`]: checked parsing and byte-exact emission of the netlink header,
//!   NLMSG_ERROR / NLMSG_DONE and every XFRM message and attribute the
//!   kernel sends or takes from a keying daemon. Unknown attributes are kept
//!   raw, so `emit(parse(b)) == b` for what the kernel sends. No `unsafe`
//!   (forbidden there).
//! * [`build`]: pure functions returning the [`Message`]s to send (NEWSA,
//!   DELSA, ALLOCSPI, NEWPOLICY, dumps, flushes...) from typed specs, and
//!   the kernel names of rswan's algorithms.
//! * [`socket`]: `socket(AF_NETLINK, SOCK_RAW, NETLINK_XFRM)`, blocking
//!   request/reply by sequence number and port id, dumps, and a
//!   non-blocking mode with multicast groups (ACQUIRE, EXPIRE, POLEXPIRE)
//!   for an event loop. The only module allowed `unsafe` (the netlink-only
//!   calls; the rest are `crate::sys_socket`'s, shared with PF_KEY).
//! * [`afkey`]: Linux PF_KEY requests as XFRM messages and XFRM dump entries
//!   as PF_KEY ones, as the kernel's `af_key` translates them (what lets
//!   `ipsec spi` / `ipsec eroute` run unchanged without `af_key`).
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod afkey;
pub mod build;
mod error;
pub mod socket;
#[cfg(test)]
pub(crate) mod tests;
pub mod wire;

pub use error::{KernelError, XfrmError};
pub use socket::XfrmSocket;
pub use wire::{consts, Attr, Body, Header, Message};
