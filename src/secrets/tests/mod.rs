//! Unit tests for ipsec.secrets: lexer, grammar, ttodata, glob and RSA entries.
//! File-system tests (include, globs) are in `tests/secrets_file.rs`.

mod codec;
mod grammar;
mod lexer;
mod limits;
mod rsa;

use super::*;
use std::net::Ipv4Addr;

/// Parses `text` as file "t.secrets" (includes would be looked up in a directory
/// that does not exist).
fn load(text: &str) -> Loaded {
    parse_secrets_str(text, "t.secrets", Path::new("/nonexistent-rswan-dir"))
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> Identity {
    Identity::Ipv4(Ipv4Addr::new(a, b, c, d))
}

fn fqdn(n: &str) -> Identity {
    Identity::Fqdn(n.as_bytes().to_vec())
}

fn idx(i: Identity) -> SecretIndex {
    SecretIndex::Id(i)
}

/// The PSK bytes of entry `i`.
fn psk_of(l: &Loaded, i: usize) -> &[u8] {
    let SecretValue::Psk(p) = &l.psk.entries[i].value;
    p
}
