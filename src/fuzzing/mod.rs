//! Fuzz target bodies (feature `fuzzing`): one function per decoder and two
//! for the engine, called by the AFL binaries in `fuzz/` and by
//! `tests/fuzz_corpus.rs`, which replays the corpus and every past finding.
//!
//! Each function takes arbitrary bytes and panics only when a property the
//! code promises is broken: a decoder that accepts bytes must emit a value
//! that decodes again to the same value. Anything else (a refusal) is fine.

mod engine;

pub use engine::{
    engine_encrypted, engine_encrypted_run, engine_mm1, exchange_datagrams, Pair, Stage,
};

use crate::ctl;
use crate::ike::wire::{emit_chain, flags, parse_chain, parse_header, Payload};
use std::path::{Path, PathBuf};

/// A fuzz target: any bytes in, a panic only for a broken promise.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `fuzz/` and `make fuzz` call them.
pub const TARGETS: &[(&str, Target)] = &[
    ("isakmp", isakmp),
    ("pfkey", pfkey),
    ("xfrm", xfrm),
    ("whack", whack),
    ("secrets", secrets),
    ("engine-mm1", engine_mm1),
    ("engine-encrypted", engine_encrypted),
];

/// A datagram through the ISAKMP header and payload chain decoder; an
/// accepted chain re-emitted decodes to the same payloads.
pub fn isakmp(data: &[u8]) {
    let Ok((hdr, body)) = parse_header(data) else {
        return;
    };
    // An encrypted body would be decrypted first: parse it as such a
    // plaintext (trailing padding allowed).
    let encrypted = hdr.flags & flags::ENCRYPTION != 0;
    let Ok(parsed) = parse_chain(hdr.next_payload, body, encrypted) else {
        return;
    };
    let payloads: Vec<Payload> = parsed.into_iter().map(|p| p.payload).collect();
    let (first, bytes) = emit_chain(&payloads);
    let again: Vec<Payload> = match parse_chain(first, &bytes, false) {
        Ok(v) => v.into_iter().map(|p| p.payload).collect(),
        Err(e) => panic!("re-emitted chain refused: {e}"),
    };
    assert_eq!(payloads, again, "chain changed through emit and parse");
}

/// A PF_KEY datagram in both numberings; an accepted message re-emitted
/// parses to the same message.
pub fn pfkey(data: &[u8]) {
    use crate::pfkey::{Dialect, Message};
    for dialect in [Dialect::Linux, Dialect::Klips] {
        let Ok(m) = Message::parse_dialect(data, dialect) else {
            continue;
        };
        let _ = m.summary();
        if dialect == Dialect::Linux {
            // What `spi`/`eroute` do with it on a kernel without af_key.
            let _ = crate::xfrm::afkey::request_to_xfrm(&m);
        }
        let bytes = m.emit();
        match Message::parse_dialect(&bytes, dialect) {
            Ok(again) => assert_eq!(m, again, "PF_KEY message changed through emit and parse"),
            Err(e) => panic!("re-emitted PF_KEY message refused: {e}"),
        }
    }
}

/// A netlink datagram from the XFRM socket; accepted messages re-emitted
/// parse to the same messages.
pub fn xfrm(data: &[u8]) {
    use crate::xfrm::wire::{emit_datagram, parse_datagram};
    let Ok(msgs) = parse_datagram(data) else {
        return;
    };
    for m in &msgs {
        let _ = m.summary();
        let _ = m.ext_ack_msg();
        // A dump entry as `spi`/`eroute` list it on a kernel without af_key.
        let _ = crate::xfrm::afkey::sa_to_pfkey(m);
        let _ = crate::xfrm::afkey::policy_to_pfkey(m);
    }
    match parse_datagram(&emit_datagram(&msgs)) {
        Ok(again) => assert_eq!(msgs, again, "XFRM messages changed through emit and parse"),
        Err(e) => panic!("re-emitted XFRM datagram refused: {e}"),
    }
}

/// A whack control frame as pluto reads it: the header check first, then
/// the frame; an accepted message re-encoded decodes to the same message.
pub fn whack(data: &[u8]) {
    let _ = ctl::frame_len(data);
    let Ok(msg) = ctl::decode(data) else {
        return;
    };
    let frame = match ctl::encode(&msg) {
        Ok(f) => f,
        Err(e) => panic!("decoded message cannot be encoded: {e}"),
    };
    match ctl::decode(&frame) {
        Ok(again) => assert_eq!(
            msg, again,
            "whack message changed through encode and decode"
        ),
        Err(e) => panic!("re-encoded frame refused: {e}"),
    }
}

/// ipsec.secrets text, with `include` resolved in a scratch directory that
/// holds a few files of its own (one includes another, one includes itself,
/// one is a link to /dev/zero). Text that could name a file outside it (an
/// absolute path, `..`) is skipped: the host's files are not fuzz input.
pub fn secrets(data: &[u8]) {
    let Some(dir) = secrets_dir() else {
        return;
    };
    let text = String::from_utf8_lossy(data);
    if may_leave_scratch_dir(&text) {
        return;
    }
    let loaded = crate::secrets::parse_secrets_str(&text, "fuzz.secrets", dir);
    let _ = loaded.psk_secrets();
}

/// Whether an `include` in `text` could reach outside the scratch
/// directory: any `..`, or a `/` or `~` that starts a word.
fn may_leave_scratch_dir(text: &str) -> bool {
    let mut prev = ' ';
    for c in text.chars() {
        let word_start = prev.is_whitespace() || matches!(prev, '"' | '\'' | '=');
        if word_start && matches!(c, '/' | '~') {
            return true;
        }
        prev = c;
    }
    text.contains("..")
}

/// The scratch directory of [`secrets`], made once per process.
fn secrets_dir() -> Option<&'static Path> {
    static DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("rswan-fuzz-secrets-{}", std::process::id()));
        let files: [(&str, &str); 4] = [
            (
                "a.secrets",
                "192.0.2.1 192.0.2.2 : PSK \"from a\"\ninclude sub/*.secrets\n",
            ),
            ("sub/b.secrets", "@west @east : PSK 0x0102030405060708\n"),
            (
                "sub/c.secrets",
                "include ../sub/c.secrets\n: PSK \"loop\"\n",
            ),
            ("empty.secrets", ""),
        ];
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent()?).ok()?;
            std::fs::write(&path, text).ok()?;
        }
        // A pattern may match a device: it must be refused, not read.
        let zero = dir.join("zero.secrets");
        if !zero.exists() {
            std::os::unix::fs::symlink("/dev/zero", zero).ok()?;
        }
        Some(dir)
    })
    .as_deref()
}
