//! `ipsec eroute`: which traffic goes to which SA (spec §5.3), on KLIPS
//! (X_ADDFLOW/X_DELFLOW, [`klips`]) and on NETKEY (SPD entries, [`netkey`]).
//!
//! [`request`] checks the command line, [`listing`] prints NETKEY's SPD in
//! the /proc/net/ipsec_eroute format. This file talks to the kernel.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod klips;
pub mod listing;
pub mod netkey;
pub mod request;

pub use request::{Action, Args, Request};

use crate::pfkey::consts::SADB_SATYPE_UNSPEC;
use crate::pfkey::{build, Dialect, KernelError, Message, PfkeyError, PfkeySocket};
use crate::said::Stack;
use crate::spi::debug_line;

/// The kernel's refusal in the words of Openswan's eroute.
fn kernel_text(e: &PfkeyError, action: Action) -> String {
    let PfkeyError::Kernel(KernelError { errno, .. }) = e else {
        return e.to_string();
    };
    match *errno {
        libc::EEXIST => "eroute already in use.  Delete old one first.".into(),
        libc::ENOENT if action == Action::AddIn => "non-existant IPIP SA.".into(),
        libc::ENOENT => "eroute doesn't exist.  Can't delete.".into(),
        libc::ENXIO => "invalid mask.".into(),
        libc::EFAULT => "invalid address.".into(),
        _ => e.to_string(),
    }
}

fn is_enoent(e: &PfkeyError) -> bool {
    matches!(e, PfkeyError::Kernel(KernelError { errno, .. }) if *errno == libc::ENOENT)
}

fn open(dialect: Dialect) -> Result<PfkeySocket, String> {
    PfkeySocket::open_with(false, dialect).map_err(|e| e.to_string())
}

fn send(sock: &mut PfkeySocket, m: Message, debug: bool) -> Result<Message, PfkeyError> {
    debug_line(debug, &format!("sending {}", m.summary()));
    let r = sock.request(m);
    if let Ok(reply) = &r {
        debug_line(debug, &format!("reply {}", reply.summary()));
    }
    r
}

fn apply_netkey(req: &Request, debug: bool) -> Result<(), String> {
    let msgs = netkey::messages(req)?;
    let mut sock = open(Dialect::Linux)?;
    if req.action == Action::Del {
        let mut deleted = 0;
        for m in msgs {
            match send(&mut sock, m, debug) {
                Ok(_) => deleted += 1,
                Err(e) if is_enoent(&e) => {}
                Err(e) => return Err(kernel_text(&e, req.action)),
            }
        }
        if deleted == 0 {
            return Err("eroute doesn't exist.  Can't delete.".into());
        }
        return Ok(());
    }
    let mut done: Vec<u8> = Vec::new();
    for m in msgs {
        let dir = m.policy().map_or(0, |p| p.dir);
        if let Err(e) = send(&mut sock, m, debug) {
            // An inbound entry without its forward twin would half work:
            // take back what this command added.
            if let (false, Some((src, dst))) = (req.action.replaces(), req.flows) {
                let (s, d) = (
                    netkey::selector(&src, req.proto),
                    netkey::selector(&dst, req.proto),
                );
                for dir in &done {
                    let _ = send(&mut sock, build::spd_delete(*dir, &s, &d, 0, 0), debug);
                }
            }
            return Err(kernel_text(&e, req.action));
        }
        done.push(dir);
    }
    Ok(())
}

/// Sends the request to the kernel.
pub fn apply(req: &Request, stack: Stack, debug: bool) -> Result<(), String> {
    match stack {
        Stack::Klips => {
            let mut sock = open(Dialect::Klips)?;
            send(&mut sock, klips::message(req, std::process::id()), debug)
                .map(|_| ())
                .map_err(|e| kernel_text(&e, req.action))
        }
        Stack::Netkey => apply_netkey(req, debug),
        Stack::None => Err(
            "no IPsec stack in this kernel (neither /proc/net/ipsec_* nor /proc/net/pfkey)".into(),
        ),
    }
}

/// The eroute table in the /proc/net/ipsec_eroute format.
pub fn list_lines(stack: Stack) -> Result<Vec<String>, String> {
    match stack {
        Stack::Klips => std::fs::read_to_string("/proc/net/ipsec_eroute")
            .map(|t| t.lines().map(str::to_string).collect())
            .map_err(|e| format!("cannot read /proc/net/ipsec_eroute: {e}")),
        Stack::Netkey => {
            let mut sock = open(Dialect::Linux)?;
            let policies = sock
                .request_dump(build::spd_dump(0, 0))
                .map_err(|e| e.to_string())?;
            let sas = sock
                .request_dump(build::dump(SADB_SATYPE_UNSPEC, 0, 0))
                .map_err(|e| e.to_string())?;
            Ok(policies
                .iter()
                .filter_map(|p| listing::eroute_line(p, &sas))
                .collect())
        }
        Stack::None => Err(
            "no IPsec stack in this kernel (neither /proc/net/ipsec_eroute nor /proc/net/pfkey)"
                .into(),
        ),
    }
}
