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

use crate::netkey::Link;
use crate::pfkey::build::{self, Selector};
use crate::pfkey::consts::{linux, IPSEC_DIR_FWD, IPSEC_DIR_INBOUND};
use crate::pfkey::{KernelError, Message, PfkeyError};
use crate::said::Stack;
use crate::spi::{debug_line, NO_STACK};

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

fn send(sock: &mut Link, m: Message, debug: bool) -> Result<Message, PfkeyError> {
    debug_line(debug, &format!("sending {}", m.summary()));
    let r = sock.request(m);
    if let Ok(reply) = &r {
        debug_line(debug, &format!("reply {}", reply.summary()));
    }
    r
}

fn is_eexist(e: &PfkeyError) -> bool {
    matches!(e, PfkeyError::Kernel(KernelError { errno, .. }) if *errno == libc::EEXIST)
}

/// `--del`: the entries of these selectors, then the mirrors an `--add` of
/// them installed (if they are still mirrors, see [`netkey`]).
fn del_netkey(
    link: &mut Link,
    req: &Request,
    msgs: Vec<Message>,
    debug: bool,
) -> Result<(), String> {
    let mut deleted = 0;
    for m in msgs {
        match send(link, m, debug) {
            Ok(_) => deleted += 1,
            Err(e) if is_enoent(&e) => {}
            Err(e) => return Err(kernel_text(&e, req.action)),
        }
    }
    if deleted == 0 {
        return Err("eroute doesn't exist.  Can't delete.".into());
    }
    if let Some((s, d)) = netkey::mirror_selectors(req) {
        let spd = link.dump_spd().map_err(|e| e.to_string())?;
        for dir in [IPSEC_DIR_INBOUND, IPSEC_DIR_FWD] {
            if spd
                .iter()
                .any(|m| netkey::is_mirror(m) && netkey::same_entry(m, dir, &s, &d))
            {
                match send(link, build::spd_delete(dir, &s, &d, 0, 0), debug) {
                    Ok(_) => {}
                    Err(e) if is_enoent(&e) => {}
                    Err(e) => return Err(kernel_text(&e, req.action)),
                }
            }
        }
    }
    Ok(())
}

fn apply_netkey(req: &Request, stack: Stack, debug: bool) -> Result<(), String> {
    let mut msgs = netkey::messages(req)?;
    let mut link = Link::open(stack)?;
    if req.action == Action::Del {
        return del_netkey(&mut link, req, msgs, debug);
    }
    // `--addin` over the mirrors of an `--add`: replace them.
    if matches!(req.action, Action::AddIn) {
        let spd = link.dump_spd().map_err(|e| e.to_string())?;
        for m in &mut msgs {
            let (Some(p), Some(s), Some(d)) = (m.policy(), m.address_src(), m.address_dst()) else {
                continue;
            };
            let mirror = spd.iter().any(|e| {
                netkey::is_mirror(e)
                    && e.policy().is_some_and(|q| q.dir == p.dir)
                    && e.address_src() == Some(s)
                    && e.address_dst() == Some(d)
            });
            if mirror {
                m.header.msg_type = linux::SADB_X_SPDUPDATE;
            }
        }
    }
    let mut done: Vec<u8> = Vec::new();
    let undo = |link: &mut Link, done: &[u8], s: &Selector, d: &Selector| {
        for dir in done {
            let _ = send(link, build::spd_delete(*dir, s, d, 0, 0), debug);
        }
    };
    let flows = req.flows.map(|(src, dst)| {
        (
            netkey::selector(&src, req.proto),
            netkey::selector(&dst, req.proto),
        )
    });
    for m in msgs {
        let dir = m.policy().map_or(0, |p| p.dir);
        if let Err(e) = send(&mut link, m, debug) {
            // An inbound entry without its forward twin would half work:
            // take back what this command added.
            if let (false, Some((s, d))) = (req.action.replaces(), flows) {
                undo(&mut link, &done, &s, &d);
            }
            return Err(kernel_text(&e, req.action));
        }
        done.push(dir);
    }
    let mirrors = netkey::mirror_messages(req)?;
    let Some((ms, md)) = netkey::mirror_selectors(req) else {
        return Ok(());
    };
    let mut added: Vec<u8> = Vec::new();
    for m in mirrors {
        let dir = m.policy().map_or(0, |p| p.dir);
        match send(&mut link, m, debug) {
            Ok(_) => added.push(dir),
            // An inbound eroute of its own is already there: it stays.
            Err(e) if is_eexist(&e) => {}
            Err(e) => {
                undo(&mut link, &added, &ms, &md);
                if let (false, Some((s, d))) = (req.action.replaces(), flows) {
                    undo(&mut link, &done, &s, &d);
                }
                return Err(kernel_text(&e, req.action));
            }
        }
    }
    Ok(())
}

/// Sends the request to the kernel.
pub fn apply(req: &Request, stack: Stack, debug: bool) -> Result<(), String> {
    match stack {
        Stack::Klips => {
            let mut link = Link::open(stack)?;
            send(&mut link, klips::message(req, std::process::id()), debug)
                .map(|_| ())
                .map_err(|e| kernel_text(&e, req.action))
        }
        Stack::Netkey | Stack::Xfrm => apply_netkey(req, stack, debug),
        Stack::None => Err(NO_STACK.into()),
    }
}

/// The eroute table in the /proc/net/ipsec_eroute format.
pub fn list_lines(stack: Stack) -> Result<Vec<String>, String> {
    match stack {
        Stack::Klips => std::fs::read_to_string("/proc/net/ipsec_eroute")
            .map(|t| t.lines().map(str::to_string).collect())
            .map_err(|e| format!("cannot read /proc/net/ipsec_eroute: {e}")),
        Stack::Netkey | Stack::Xfrm => {
            let mut link = Link::open(stack)?;
            let policies = link.dump_spd().map_err(|e| e.to_string())?;
            let sas = link.dump_sa().map_err(|e| e.to_string())?;
            Ok(policies
                .iter()
                .filter_map(|p| listing::eroute_line(p, &sas))
                .collect())
        }
        Stack::None => Err(NO_STACK.into()),
    }
}

#[cfg(test)]
mod tests;
