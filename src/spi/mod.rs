//! `ipsec spi`: security associations keyed by hand (spec §5.4).
//!
//! [`request`] turns the command line into a checked [`Request`],
//! [`message`] into the PF_KEY message of the kernel's dialect, [`alg`]
//! knows the algorithms, [`listing`] prints NETKEY's SAs the way KLIPS's
//! /proc/net/ipsec_spi does. This file talks to the kernel.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod alg;
pub mod listing;
pub mod message;
pub mod request;

pub use request::{Action, Args, Kind, Request};

use crate::netkey::Link;
use crate::pfkey::{KernelError, Message, PfkeyError};
use crate::said::Stack;
use std::io::Write;

/// Where debug lines go (`--debug`): stderr.
pub fn debug_line(on: bool, text: &str) {
    if on {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}

/// The kernel's refusal as `ipsec spi` words it.
fn kernel_text(e: &PfkeyError, req: &Request) -> String {
    let said = req.said.map(|s| s.to_string()).unwrap_or_default();
    match e {
        PfkeyError::Kernel(KernelError { errno, .. }) => match *errno {
            libc::EEXIST => {
                format!("SA {said} already exists: delete it first or choose another SPI ({e})")
            }
            libc::ENOENT | libc::ESRCH => format!("SA {said} does not exist ({e})"),
            _ => e.to_string(),
        },
        _ => e.to_string(),
    }
}

/// Sends the request to the kernel and waits for its answer.
pub fn apply(req: &Request, stack: Stack, debug: bool) -> Result<(), String> {
    let msg = match stack {
        Stack::Klips => message::klips_message(req, std::process::id()),
        Stack::Netkey | Stack::Xfrm => message::netkey_message(req, std::process::id())?,
        Stack::None => return Err(NO_STACK.into()),
    };
    if let Some(iv) = &req.iv {
        debug_line(
            debug,
            &format!(
                "--iv of {} bytes checked; PF_KEY v2 carries no IV, the kernel chooses it",
                iv.len()
            ),
        );
    }
    debug_line(debug, &format!("sending {}", msg.summary()));
    let reply = Link::open(stack)?
        .request(msg)
        .map_err(|e| kernel_text(&e, req))?;
    debug_line(debug, &format!("reply {}", reply.summary()));
    if req.saref {
        if let Some(r) = reply.sa().and_then(|s| s.klips_ref) {
            let _ = writeln!(std::io::stdout().lock(), "saref={r}");
        }
    }
    Ok(())
}

/// What the tools say on a kernel without IPsec.
pub const NO_STACK: &str =
    "no IPsec stack in this kernel (no /proc/net/ipsec_*, no /proc/net/pfkey, no XFRM netlink)";

/// Every SA of the kernel, in the /proc/net/ipsec_spi format.
pub fn list_lines(stack: Stack) -> Result<Vec<String>, String> {
    match stack {
        Stack::Klips => std::fs::read_to_string("/proc/net/ipsec_spi")
            .map(|t| t.lines().map(str::to_string).collect())
            .map_err(|e| format!("cannot read /proc/net/ipsec_spi: {e}")),
        Stack::Netkey | Stack::Xfrm => {
            let sas: Vec<Message> = Link::open(stack)?.dump_sa().map_err(|e| e.to_string())?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let local = listing::local_addresses();
            Ok(sas
                .iter()
                .filter_map(|m| listing::spi_line(m, now, &local))
                .collect())
        }
        Stack::None => Err(NO_STACK.into()),
    }
}
