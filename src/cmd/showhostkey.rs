//! `ipsec showhostkey`: print the public half of an RSA key from ipsec.secrets
//! (Openswan 2.6 `programs/showhostkey/showhostkey.c`).
//!
//! ```text
//! ipsec showhostkey [--file FILE] [--id ID | --rsaid KEYID]
//!                   (--left | --right | --key | --pem | --txt GATEWAY | --list)
//! ```
//!
//! The key is the first RSA entry of the file, or the one `--id` selects the way
//! pluto picks our own key (spec §4.3), or the one with key ID `--rsaid`.
//!
//! * `--left` / `--right`: `\t# rsakey KEYID` and `\tleftrsasigkey=0s...`, for ipsec.conf;
//! * `--key`: the bare `0s...` text (for `whack --pubkeyrsa`; Openswan 2.6 printed
//!   "key not yet implemented" here);
//! * `--pem`: the public key as a PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC
//!   KEY-----`), what strongSwan's `pubkeys` and OpenSSL read;
//! * `--txt GATEWAY`: an `X-IPsec-Server` DNS TXT record;
//! * `--list`: one line per RSA entry and index.
//!
//! Deviations: errors go to stderr, not stdout, and `--id` does not print the
//! `; picking by keyid=` line (both so stdout can be pasted as is); the default
//! file is `/etc/ipsec.secrets`.

use crate::secrets::keyfmt::{pem, spki_der, txt_record};

use super::{err_line, out_line};
use crate::getopt::{self, Item, Opt};
use crate::ident::{format_id, parse_id, IdSpec};
use crate::ike::crypto::rsa;
use crate::ike::SecretIndex;
use crate::secrets::{self, RsaPrivateEntry};
use crate::text::data as ttodata;

/// Name of the subcommand (also its `argv[0]` basename).
pub const NAME: &str = "showhostkey";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str = "show the public part of an RSA key from ipsec.secrets";
/// The secrets file read without `--file`.
pub const DEFAULT_FILE: &str = "/etc/ipsec.secrets";

const ME: &str = "ipsec showhostkey";

const HELP: &str = "\
ipsec showhostkey: show the public part of an RSA key from ipsec.secrets

Usage: ipsec showhostkey [--file FILE] [--id ID | --rsaid KEYID]
                         (--left | --right | --key | --pem | --txt GATEWAY | --list)

  --file FILE      secrets file (default /etc/ipsec.secrets)
  --id ID          the key pluto would use for our identity ID
  --rsaid KEYID    the key with this 9-character key ID
  --left, --right  print leftrsasigkey= / rightrsasigkey= for ipsec.conf
  --key            print the bare 0s... public key (whack --pubkeyrsa)
  --pem            print a PEM public key (strongSwan pubkeys, OpenSSL)
  --txt GATEWAY    print a DNS TXT record X-IPsec-Server(10)=GATEWAY
  --list           list the RSA keys and their identities
  --verbose        also report problems found in the secrets file
  -h, --help       show this help
      --version    show the version

Without --id or --rsaid the first RSA key in the file is used.";

const OPTS: &[Opt] = &[
    Opt::arg("file"),
    Opt::arg("id"),
    Opt::arg("rsaid"),
    Opt::flag("left"),
    Opt::flag("right"),
    Opt::flag("key"),
    Opt::flag("pem"),
    Opt::arg("txt"),
    Opt::flag("list"),
    Opt::flag("verbose"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Conf(&'static str),
    Key,
    Pem,
    Txt(String),
    List,
}

fn usage_error(msg: &str) -> i32 {
    err_line(&format!("{ME}: {msg}"));
    err_line(
        "Usage: ipsec showhostkey [--file FILE] [--id ID | --rsaid KEYID] (--left | --right | --key | --pem | --txt GATEWAY | --list)",
    );
    1
}

/// Runs `ipsec showhostkey` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> i32 {
    if let Some(code) = super::common_options(NAME, HELP, args) {
        return code;
    }
    let items = match getopt::parse(OPTS, args) {
        Ok(i) => i,
        Err(e) => return usage_error(&e),
    };
    let mut file = DEFAULT_FILE.to_string();
    let mut id = None;
    let mut rsaid = None;
    let mut verbose = false;
    let mut ops = Vec::new();
    for item in items {
        match item {
            Item::Opt("file", Some(v)) => file = v,
            Item::Opt("id", v) => id = v,
            Item::Opt("rsaid", v) => rsaid = v,
            Item::Opt("verbose", _) => verbose = true,
            Item::Opt("left", _) => ops.push(Op::Conf("left")),
            Item::Opt("right", _) => ops.push(Op::Conf("right")),
            Item::Opt("key", _) => ops.push(Op::Key),
            Item::Opt("pem", _) => ops.push(Op::Pem),
            Item::Opt("txt", v) => ops.push(Op::Txt(v.unwrap_or_default())),
            Item::Opt("list", _) => ops.push(Op::List),
            Item::Opt(other, _) => return usage_error(&format!("unexpected option --{other}")),
            Item::Positional(p) => return usage_error(&format!("unexpected argument '{p}'")),
        }
    }
    let op = match ops.as_slice() {
        [] => return usage_error("You must specify some operation"),
        [one] => one.clone(),
        _ => return usage_error("You must specify only one operation"),
    };
    if id.is_some() && rsaid.is_some() {
        return usage_error("--id and --rsaid cannot be used together");
    }

    let loaded = match secrets::load_secrets(std::path::Path::new(&file)) {
        Ok(l) => l,
        Err(e) => {
            err_line(&format!("{ME}: {e}"));
            return 1;
        }
    };
    if verbose {
        for w in &loaded.warnings {
            err_line(&format!("{ME}: {w}"));
        }
    }

    if op == Op::List {
        for entry in &loaded.rsa {
            for line in list_lines(entry) {
                out_line(&line);
            }
        }
        return 0;
    }

    let entry = if let Some(text) = &rsaid {
        match loaded.rsa.iter().find(|e| &e.key.keyid() == text) {
            Some(e) => e,
            None => {
                err_line(&format!("{ME}: can not find key with rsaid {text}"));
                return 5;
            }
        }
    } else if let Some(text) = &id {
        match pick_by_id(&loaded, text) {
            Ok(e) => e,
            Err((code, msg)) => {
                err_line(&format!("{ME}: {msg}"));
                return code;
            }
        }
    } else {
        match loaded.rsa.first() {
            Some(e) => e,
            None => {
                err_line("No keys found");
                return 20;
            }
        }
    };

    let key = &entry.key;
    if key.n.bits() < rsa::MIN_MODULUS_BITS {
        err_line(&format!(
            "{ME}: warning: this {}-bit key is below the {}-bit minimum; rswan's pluto will not use it",
            key.n.bits(),
            rsa::MIN_MODULUS_BITS
        ));
    }
    let blob = key.pubkey_blob();
    let text = format!("0s{}", ttodata::encode_base64(&blob));
    match op {
        Op::Conf(side) => {
            out_line(&format!("\t# rsakey {}", rsa::keyid_from_blob(&blob)));
            out_line(&format!("\t{side}rsasigkey={text}"));
        }
        Op::Key => out_line(&text),
        Op::Pem => out_line(pem("PUBLIC KEY", &spki_der(&key.n, &key.e)).trim_end()),
        Op::Txt(gateway) => {
            out_line(&format!(
                "; info about key: {}",
                rsa::keyid_from_blob(&blob)
            ));
            out_line(&txt_record(
                &super::rsasigkey::local_hostname(),
                &gateway,
                &text,
            ));
        }
        Op::List => {}
    }
    0
}

/// The key pluto would pick for our identity `text` (asymmetric lookup, §4.3).
fn pick_by_id<'a>(
    loaded: &'a secrets::Loaded,
    text: &str,
) -> Result<&'a RsaPrivateEntry, (i32, String)> {
    let found = match parse_id(text) {
        Ok(IdSpec::Id(me)) => loaded
            .rsa_key(&me, None)
            .and_then(|k| loaded.rsa.iter().find(|e| &e.key == k)),
        Ok(IdSpec::Any) => loaded
            .rsa
            .iter()
            .find(|e| e.indices.contains(&SecretIndex::Any)),
        Ok(IdSpec::MyId) => return Err((4, format!("key '{text}' is invalid"))),
        Err(e) => return Err((4, format!("key '{text}' is invalid ({e})"))),
    };
    found.ok_or_else(|| (5, format!("can not find key: {text}")))
}

fn list_lines(entry: &RsaPrivateEntry) -> Vec<String> {
    let id = entry.key.keyid();
    let bits = entry.key.n.bits();
    if entry.indices.is_empty() {
        return vec![format!(
            "{}: RSA {bits} bits keyid: {id} (default entry)",
            entry.origin
        )];
    }
    entry
        .indices
        .iter()
        .enumerate()
        .map(|(i, idx)| {
            let name = match idx {
                SecretIndex::Any => "%any".to_string(),
                SecretIndex::Id(x) => format_id(x),
            };
            format!(
                "{}({}): RSA {bits} bits keyid: {id} with id: {name}",
                entry.origin,
                i + 1
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::keyfmt::*;
    use num_bigint_dig::BigUint;

    #[test]
    fn der_lengths_and_integers() {
        assert_eq!(der_tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = der_tlv(0x04, &[0; 200]);
        assert_eq!(&long[..3], &[0x04, 0x81, 200]);
        let longer = der_tlv(0x04, &[0; 300]);
        assert_eq!(&longer[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(der_uint(&BigUint::from(0x7fu32)), vec![0x02, 1, 0x7f]);
        assert_eq!(der_uint(&BigUint::from(0x80u32)), vec![0x02, 2, 0, 0x80]);
        assert_eq!(
            der_uint(&BigUint::from(65537u32)),
            vec![0x02, 3, 0x01, 0x00, 0x01]
        );
    }

    #[test]
    fn spki_of_a_small_key_matches_openssl_layout() {
        // n = 0xc5a7 (a 16-bit toy value), e = 3: checks only the framing.
        let der = spki_der(&BigUint::from(0xc5a7u32), &BigUint::from(3u32));
        // Checked with `openssl asn1parse -inform DER` and `openssl pkey -pubin
        // -inform DER -text` (Modulus: 50599 (0xc5a7), Exponent: 3).
        let expected: Vec<u8> = vec![
            0x30, 0x1c, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
            0x01, 0x05, 0x00, 0x03, 0x0b, 0x00, 0x30, 0x08, 0x02, 0x03, 0x00, 0xc5, 0xa7, 0x02,
            0x01, 0x03,
        ];
        assert_eq!(der, expected);
        let p = pem("PUBLIC KEY", &der);
        assert!(p.starts_with("-----BEGIN PUBLIC KEY-----\nMBwwDQYJKoZIhvcNAQEBBQAD"));
        assert!(p.ends_with("-----END PUBLIC KEY-----\n"));
    }

    #[test]
    fn txt_record_splits_long_keys() {
        let text = format!("0s{}", "A".repeat(500));
        let r = txt_record("gw", "192.0.2.1", &text);
        assert!(r.starts_with("gw.    IN    TXT    \"X-IPsec-Server(10)=192.0.2.1 \" \""));
        let quoted: Vec<&str> = r.split('"').collect();
        // The three base64 pieces: 240, 240 and 20 characters.
        let pieces: Vec<usize> = quoted
            .iter()
            .filter(|q| q.chars().all(|c| c == 'A') && !q.is_empty())
            .map(|q| q.len())
            .collect();
        assert_eq!(pieces, vec![240, 240, 20]);
    }
}
