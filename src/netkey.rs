//! The NETKEY kernel link of the manual tools (`ipsec spi`, `ipsec
//! eroute`): Linux PF_KEY when `af_key` is there, else XFRM netlink with
//! the same PF_KEY messages translated the way `af_key` would
//! ([`crate::xfrm::afkey`]). Both tools build PF_KEY messages and read
//! PF_KEY dump entries either way, so their behaviour and listings are one
//! code path on both kernels.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use crate::pfkey::consts::{linux, SADB_DUMP, SADB_SATYPE_UNSPEC};
use crate::pfkey::{build, Dialect, KernelError, Message, PfkeyError, PfkeySocket};
use crate::said::Stack;
use crate::xfrm::{afkey, XfrmError, XfrmSocket};

/// An open NETKEY link.
#[derive(Debug)]
pub enum Link {
    Pfkey(PfkeySocket),
    Xfrm(XfrmSocket),
}

/// A refusal or failure of the XFRM path in PF_KEY terms, so the tools word
/// it the same on both kernels (`af_key` returns the same errnos: it calls
/// the same xfrm functions).
fn pfkey_error(e: XfrmError, msg_type: u8) -> PfkeyError {
    match e {
        XfrmError::Kernel(k) => PfkeyError::Kernel(KernelError {
            dialect: Dialect::Linux,
            msg_type,
            errno: k.errno,
        }),
        XfrmError::Io { op, errno } => PfkeyError::Io { op, errno },
        XfrmError::Unavailable { errno } => PfkeyError::Io {
            op: "XFRM netlink socket",
            errno,
        },
        XfrmError::Timeout { seq, .. } => PfkeyError::Timeout { msg_type, seq },
        XfrmError::Oversized { len } => PfkeyError::Oversized { len },
        other => PfkeyError::BadField {
            what: "XFRM reply",
            value: other.is_malformed().into(),
        },
    }
}

impl Link {
    /// Opens the link of a stack: PF_KEY in its dialect, or XFRM netlink
    /// (`Err` for none). KLIPS links only carry requests: KLIPS lists its
    /// tables in /proc.
    pub fn open(stack: Stack) -> Result<Link, String> {
        let pfkey = |d| {
            PfkeySocket::open_with(false, d)
                .map(Link::Pfkey)
                .map_err(|e| e.to_string())
        };
        match stack {
            Stack::Klips => pfkey(Dialect::Klips),
            Stack::Netkey => pfkey(Dialect::Linux),
            Stack::Xfrm => XfrmSocket::open()
                .map(Link::Xfrm)
                .map_err(|e| e.to_string()),
            Stack::None => Err(crate::spi::NO_STACK.into()),
        }
    }

    /// Sends a PF_KEY request and waits for the kernel's answer. On
    /// XFRM the answer is an ACK, so the request itself comes back (what
    /// `af_key` echoes for ADD, DELETE, X_SPDADD...).
    pub fn request(&mut self, m: Message) -> Result<Message, PfkeyError> {
        match self {
            Link::Pfkey(s) => s.request(m),
            Link::Xfrm(s) => {
                let x = afkey::request_to_xfrm(&m)
                    .map_err(|_| PfkeyError::BadMsgType(m.header.msg_type))?;
                s.request(x)
                    .map_err(|e| pfkey_error(e, m.header.msg_type))?;
                Ok(m)
            }
        }
    }

    /// Every SA, as SADB_DUMP entries.
    pub fn dump_sa(&mut self) -> Result<Vec<Message>, PfkeyError> {
        match self {
            Link::Pfkey(s) => s.request_dump(build::dump(SADB_SATYPE_UNSPEC, 0, 0)),
            Link::Xfrm(s) => Ok(s
                .request_dump(crate::xfrm::build::dump_sa())
                .map_err(|e| pfkey_error(e, SADB_DUMP))?
                .iter()
                .filter_map(afkey::sa_to_pfkey)
                .collect()),
        }
    }

    /// Every policy, as SADB_X_SPDDUMP entries.
    pub fn dump_spd(&mut self) -> Result<Vec<Message>, PfkeyError> {
        match self {
            Link::Pfkey(s) => s.request_dump(build::spd_dump(0, 0)),
            Link::Xfrm(s) => Ok(s
                .request_dump(crate::xfrm::build::dump_policy())
                .map_err(|e| pfkey_error(e, linux::SADB_X_SPDDUMP))?
                .iter()
                .filter_map(afkey::policy_to_pfkey)
                .collect()),
        }
    }
}
