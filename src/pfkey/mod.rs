//! PF_KEY v2 (RFC 2367) for Linux, in tree: the codec, the messages a keying
//! daemon sends, and the socket.
//!
//! * [`wire`]: checked parsing and byte-exact emission of every message and
//!   extension of Linux `af_key` and, with [`Dialect::Klips`], of Openswan's
//!   KLIPS (X_GRPSA, X_ADDFLOW/X_DELFLOW and the flow extensions), so the
//!   manual tools can share the codec. No `unsafe` (forbidden there).
//! * [`build`]: pure functions returning the [`Message`]s pluto sends
//!   (GETSPI, ADD/UPDATE, DELETE, X_SPDADD/UPDATE/DELETE, FLUSH, DUMP,
//!   REGISTER...), including the documented ipsecrequest order.
//! * [`socket`]: `socket(PF_KEY, SOCK_RAW, PF_KEY_V2)`, request/reply by
//!   sequence number, broadcasts (ACQUIRE, EXPIRE) via `recv_any`, over the
//!   system calls of `crate::sys_socket`; no `unsafe` anywhere here.
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

pub mod build;
mod error;
pub mod socket;
#[cfg(test)]
mod tests;
pub mod wire;

pub(crate) use error::ErrnoText;
pub use error::{errno_name, KernelError, KernelErrorKind, PfkeyError};
pub use socket::PfkeySocket;
pub use wire::{consts, Dialect, Ext, ExtType, Header, Message};
