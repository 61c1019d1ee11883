//! The IKEv1 engine, sans I/O.
//!
//! Nothing in this module touches a socket, the clock, the OS random generator
//! or a file. The caller feeds datagrams, the current time, whack commands and
//! kernel replies into an [`Endpoint`], and drains the datagrams to send, the
//! next timer, the kernel operations to perform and the log lines to write.
//! That makes the engine deterministic: the same inputs and seed give the same
//! outputs, which is what the simulated-network tests and the fuzzers rely on.
#![forbid(unsafe_code)]
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

pub mod command;
pub mod compute;
pub mod config;
mod conns;
pub mod crypto;
pub mod dnskey;
pub mod dpd;
pub mod endpoint;
mod eroute;
pub mod error;
#[cfg(feature = "fuzzing")]
mod fuzzing;
mod half_open;
mod informational;
mod initial_contact;
mod instances;
pub mod kernel;
mod lifetime;
mod loglimit;
mod main_mode;
pub mod natt;
pub(crate) mod oppo;
mod packet;
mod peers;
pub mod proposal;
mod quick_mode;
pub mod rng;
pub mod routing;
#[cfg(test)]
mod scale_tests;
mod shrink;
pub mod state;
mod state_info;
mod table;
mod unique_ids;
pub mod vendor;
pub mod wire;

pub use config::{ConnConfig, End, Policy, SecretEntry, SecretIndex, SecretValue, Secrets};
pub use dpd::DpdStatus;
pub use endpoint::{
    Command, CommandError, Counters, Endpoint, Event, Level, LogLine, StateInfo, Transmit,
};
pub use error::Reject;
pub use kernel::{KernelOp, KernelReply};
pub use routing::{RouteStory, Verb};
