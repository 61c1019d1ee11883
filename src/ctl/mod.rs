//! The whack <-> pluto control protocol: messages, their encoding, reply lines.
//!
//! * [`WhackMessage`] ([`message`]) is everything one whack invocation can ask
//!   of pluto: the actions of the whack forms, a [`Connection`] description with
//!   its two [`End`]s, debug bits, a public key, ...
//! * [`encode`] / [`decode`] ([`codec`]) turn it into one frame on the control
//!   socket and back. The encoding is ours (versioned, length-prefixed TLV), not
//!   a dump of a native struct; see [`codec`] for the byte layout and the
//!   decoding rules.
//! * [`reply`] is the other direction: pluto answers with `NNN text` lines
//!   ([`Rc`] names the codes) and whack derives its exit status from them
//!   ([`exit_status`]).
//!
//! The bit numberings below are the Openswan 2.4.9 ones (`pluto_constants.h`),
//! so status output and debugging sets mean the same as in the original.
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

pub mod check;
pub mod codec;
mod decode;
pub mod message;
pub mod reply;
pub mod tags;

#[cfg(test)]
mod tests;

pub use codec::{
    decode, encode, frame_len, DecodeError, EncodeError, HEADER_LEN, MAGIC, MAX_FRAME, MAX_STRING,
    VERSION,
};
pub use message::{
    AddrFamily, Connection, DpdAction, End, KeyRequest, OppoInitiate, SendCert, Subnet,
    WhackMessage, MAX_CONN_NAME,
};
pub use reply::{exit_code, exit_status, format_line, parse_line, update_status, Rc, ReplyLine};

/// Default control socket base: the socket is `<ctlbase>.ctl`. This is the
/// FreeS/WAN 2.0.0 location (`/var/run/pluto.ctl`); Openswan 2.4.9 moved it to
/// `/var/run/pluto/pluto.ctl`.
pub const DEFAULT_CTLBASE: &str = "/var/run/pluto";
/// Suffix appended to the ctlbase to name the control socket.
pub const CTL_SUFFIX: &str = ".ctl";

// ---------------------------------------------------------------------------
// Policy bits (lset_t POLICY_*, bit = value below). The whack CD_* option order
// equals this bit order.

/// Allow/propose pre-shared key authentication.
pub const POLICY_PSK: u64 = 1 << 0;
/// Allow/propose RSA signature authentication.
pub const POLICY_RSASIG: u64 = 1 << 1;
/// The IPsec SA must include (non-null) ESP.
pub const POLICY_ENCRYPT: u64 = 1 << 2;
/// Propose AH; accept AH or ESP with authentication.
pub const POLICY_AUTHENTICATE: u64 = 1 << 3;
/// Add IPCOMP (deflate).
pub const POLICY_COMPRESS: u64 = 1 << 4;
/// Tunnel mode.
pub const POLICY_TUNNEL: u64 = 1 << 5;
/// Perfect forward secrecy in quick mode.
pub const POLICY_PFS: u64 = 1 << 6;
/// No inbound tunnel policy check.
pub const POLICY_DISABLEARRIVALCHECK: u64 = 1 << 7;
/// Shift of the 2-bit shunt field (what a routed, unkeyed connection does).
pub const POLICY_SHUNT_SHIFT: u32 = 8;
/// Mask of the shunt field.
pub const POLICY_SHUNT_MASK: u64 = 3 << POLICY_SHUNT_SHIFT;
/// Shunt TRAP: negotiate on demand (the default).
pub const POLICY_SHUNT_TRAP: u64 = 0 << POLICY_SHUNT_SHIFT;
/// Shunt PASS.
pub const POLICY_SHUNT_PASS: u64 = 1 << POLICY_SHUNT_SHIFT;
/// Shunt DROP.
pub const POLICY_SHUNT_DROP: u64 = 2 << POLICY_SHUNT_SHIFT;
/// Shunt REJECT.
pub const POLICY_SHUNT_REJECT: u64 = 3 << POLICY_SHUNT_SHIFT;
/// Shift of the 2-bit failure-shunt field.
pub const POLICY_FAIL_SHIFT: u32 = 10;
/// Mask of the failure-shunt field.
pub const POLICY_FAIL_MASK: u64 = 3 << POLICY_FAIL_SHIFT;
/// Failure shunt NONE (the default).
pub const POLICY_FAIL_NONE: u64 = 0 << POLICY_FAIL_SHIFT;
/// Failure shunt PASS.
pub const POLICY_FAIL_PASS: u64 = 1 << POLICY_FAIL_SHIFT;
/// Failure shunt DROP.
pub const POLICY_FAIL_DROP: u64 = 2 << POLICY_FAIL_SHIFT;
/// Failure shunt REJECT.
pub const POLICY_FAIL_REJECT: u64 = 3 << POLICY_FAIL_SHIFT;
/// Do not rekey.
pub const POLICY_DONT_REKEY: u64 = 1 << 12;
/// Opportunistic (set by `--host %opportunistic`).
pub const POLICY_OPPO: u64 = 1 << 13;
/// Policy group (set by `--host %group`).
pub const POLICY_GROUP: u64 = 1 << 14;
/// Routed group instance (internal to pluto).
pub const POLICY_GROUTED: u64 = 1 << 15;
/// Connection is meant to be up (set by initiate).
pub const POLICY_UP: u64 = 1 << 16;
/// ModeCfg pull.
pub const POLICY_MODECFG_PULL: u64 = 1 << 18;
/// Aggressive mode.
pub const POLICY_AGGRESSIVE: u64 = 1 << 19;
/// Authentication bits.
pub const POLICY_ID_AUTH_MASK: u64 = POLICY_PSK | POLICY_RSASIG;
/// IPsec policy bits (ENCRYPT..DISABLEARRIVALCHECK).
pub const POLICY_IPSEC_MASK: u64 = POLICY_ENCRYPT
    | POLICY_AUTHENTICATE
    | POLICY_COMPRESS
    | POLICY_TUNNEL
    | POLICY_PFS
    | POLICY_DISABLEARRIVALCHECK;
/// Every bit a policy may carry (bit 17, once XAUTH, is unused).
pub const POLICY_KNOWN: u64 = ((1 << 17) - 1) | POLICY_MODECFG_PULL | POLICY_AGGRESSIVE;

/// `NEVER_NEGOTIATE(p)`: neither PSK nor RSASIG nor AGGRESSIVE, or a non-TRAP shunt.
pub fn never_negotiate(policy: u64) -> bool {
    policy & (POLICY_PSK | POLICY_RSASIG | POLICY_AGGRESSIVE) == 0
        || policy & POLICY_SHUNT_MASK != POLICY_SHUNT_TRAP
}

// ---------------------------------------------------------------------------
// Debug and impairment bits (2.4.9 numbering, spec §1.6).

/// Names of the debug/impairment bits, indexed by bit number ("" = reserved).
pub const DBG_NAMES: [&str; 28] = [
    "raw",
    "crypt",
    "parsing",
    "emitting",
    "control",
    "lifecycle",
    "klips",
    "dns",
    "oppo",
    "controlmore",
    "pfkey",
    "nattraversal",
    "x509",
    "dpd",
    "",
    "",
    "",
    "",
    "",
    "",
    "private",
    "impair-delay-adns-key-answer",
    "impair-delay-adns-txt-answer",
    "impair-bust-mi2",
    "impair-bust-mr2",
    "impair-sa-creation",
    "impair-die-oninfo",
    "impair-jacob-two-two",
];
/// Bit of `raw`.
pub const DBG_RAW: u64 = 1 << 0;
/// Bit of `crypt`.
pub const DBG_CRYPT: u64 = 1 << 1;
/// Bit of `parsing`.
pub const DBG_PARSING: u64 = 1 << 2;
/// Bit of `emitting`.
pub const DBG_EMITTING: u64 = 1 << 3;
/// Bit of `control`.
pub const DBG_CONTROL: u64 = 1 << 4;
/// Bit of `lifecycle`.
pub const DBG_LIFECYCLE: u64 = 1 << 5;
/// Bit of `klips`.
pub const DBG_KLIPS: u64 = 1 << 6;
/// Bit of `dns`.
pub const DBG_DNS: u64 = 1 << 7;
/// Bit of `oppo`.
pub const DBG_OPPO: u64 = 1 << 8;
/// Bit of `controlmore`.
pub const DBG_CONTROLMORE: u64 = 1 << 9;
/// Bit of `pfkey`.
pub const DBG_PFKEY: u64 = 1 << 10;
/// Bit of `nattraversal`.
pub const DBG_NATT: u64 = 1 << 11;
/// Bit of `x509`.
pub const DBG_X509: u64 = 1 << 12;
/// Bit of `dpd`.
pub const DBG_DPD: u64 = 1 << 13;
/// Bit of `private` (secrets in the log; never part of `all`).
pub const DBG_PRIVATE: u64 = 1 << 20;
/// `--debug-all`: bits 0..12 (not dpd, not private, no impairments).
pub const DBG_ALL: u64 = (1 << 13) - 1;
/// First impairment bit.
pub const IMPAIR_DELAY_ADNS_KEY_ANSWER: u64 = 1 << 21;
/// Impairment bit.
pub const IMPAIR_DELAY_ADNS_TXT_ANSWER: u64 = 1 << 22;
/// Impairment bit.
pub const IMPAIR_BUST_MI2: u64 = 1 << 23;
/// Impairment bit.
pub const IMPAIR_BUST_MR2: u64 = 1 << 24;
/// Impairment bit (`--impair-sa-fail`).
pub const IMPAIR_SA_CREATION: u64 = 1 << 25;
/// Impairment bit.
pub const IMPAIR_DIE_ONINFO: u64 = 1 << 26;
/// Impairment bit.
pub const IMPAIR_JACOB_TWO_TWO: u64 = 1 << 27;
/// Every impairment bit (21..=27).
pub const IMPAIR_ALL: u64 = ((1 << 28) - 1) & !((1 << 21) - 1);
/// Every debug/impairment bit with a name.
pub const DBG_KNOWN: u64 = ((1 << 14) - 1) | (((1 << 28) - 1) & !((1 << 20) - 1));

/// Status text of a debug set: the `+`-joined names, or `none`.
pub fn debug_names(bits: u64) -> String {
    let names: Vec<&str> = DBG_NAMES
        .iter()
        .enumerate()
        .filter(|(i, n)| !n.is_empty() && bits & (1u64 << i) != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join("+")
    }
}

// ---------------------------------------------------------------------------
// List and reread bits.

/// `--listpubkeys`.
pub const LIST_PUBKEYS: u32 = 0x1;
/// `--listcerts`.
pub const LIST_CERTS: u32 = 0x2;
/// `--listcacerts`.
pub const LIST_CACERTS: u32 = 0x4;
/// `--listacerts`.
pub const LIST_ACERTS: u32 = 0x8;
/// `--listaacerts`.
pub const LIST_AACERTS: u32 = 0x10;
/// `--listocspcerts`.
pub const LIST_OCSPCERTS: u32 = 0x20;
/// `--listgroups`.
pub const LIST_GROUPS: u32 = 0x40;
/// `--listcrls`.
pub const LIST_CRLS: u32 = 0x80;
/// `--listocsp`.
pub const LIST_OCSP: u32 = 0x100;
/// `--listcards`.
pub const LIST_CARDS: u32 = 0x200;
/// `--listevents`.
pub const LIST_EVENTS: u32 = 0x400;
/// `--listall`: everything but events.
pub const LIST_ALL: u32 = 0x3ff;
/// Every list bit.
pub const LIST_KNOWN: u32 = 0x7ff;

/// `--rereadsecrets`.
pub const REREAD_SECRETS: u8 = 0x01;
/// `--rereadcacerts`.
pub const REREAD_CACERTS: u8 = 0x02;
/// `--rereadaacerts`.
pub const REREAD_AACERTS: u8 = 0x04;
/// `--rereadocspcerts`.
pub const REREAD_OCSPCERTS: u8 = 0x08;
/// `--rereadacerts`.
pub const REREAD_ACERTS: u8 = 0x10;
/// `--rereadcrls`.
pub const REREAD_CRLS: u8 = 0x20;
/// `--rereadall`.
pub const REREAD_ALL: u8 = 0x3f;

// ---------------------------------------------------------------------------
// Defaults and limits of connection descriptions (pluto_constants.h).

/// OAKLEY_ISAKMP_SA_LIFETIME_DEFAULT.
pub const IKE_LIFETIME_DEFAULT: u64 = 3600;
/// OAKLEY_ISAKMP_SA_LIFETIME_MAXIMUM.
pub const IKE_LIFETIME_MAXIMUM: u64 = 86400;
/// PLUTO_SA_LIFE_DURATION_DEFAULT.
pub const IPSEC_LIFETIME_DEFAULT: u64 = 28800;
/// SA_LIFE_DURATION_MAXIMUM.
pub const IPSEC_LIFETIME_MAXIMUM: u64 = 86400;
/// SA_REPLACEMENT_MARGIN_DEFAULT.
pub const REKEY_MARGIN_DEFAULT: u64 = 540;
/// SA_REPLACEMENT_FUZZ_DEFAULT (percent).
pub const REKEY_FUZZ_DEFAULT: u64 = 100;
/// SA_REPLACEMENT_RETRIES_DEFAULT.
pub const KEYING_TRIES_DEFAULT: u64 = 3;
/// IKE_UDP_PORT: default `--ikeport`.
pub const IKE_UDP_PORT: u16 = 500;
/// RSA_MAX_ENCODING_BYTES: the largest `--pubkeyrsa` blob.
pub const RSA_MAX_ENCODING_BYTES: usize = 1026;
