//! The ipsec.secrets grammar, one record at a time (`keys.c` process_secret_records,
//! process_secret, process_psk_secret, process_rsa_secret).
//!
//! Error texts follow the C ones, except that no message ever quotes a token that
//! may be a secret (the C quotes malformed PSK/RSA data and unrecognized key formats).

use super::lexer::{Record, Token};
use super::rsa::{RsaPrivateKey, FIELD_NAMES, MAX_FIELD_BYTES};
use crate::ident::{parse_id, IdSpec};
use crate::ike::SecretIndex;
use crate::text::data as ttodata;
use num_bigint_dig::BigUint;

/// What one record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// `include PATHGLOB` (the raw token; resolved by the loader).
    Include(Vec<u8>),
    Psk {
        indices: Vec<SecretIndex>,
        secret: Secret,
    },
    Rsa {
        indices: Vec<SecretIndex>,
        key: Box<RsaPrivateKey>,
    },
}

/// PSK bytes that do not show in Debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub Vec<u8>);

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A record error: the line to report and the message.
pub type RecordError = (usize, String);

fn err<T>(line: usize, msg: impl Into<String>) -> Result<T, RecordError> {
    Err((line, msg.into()))
}

/// Parses one record.
pub fn parse_record(rec: &Record<'_>) -> Result<Parsed, RecordError> {
    let toks = rec.tokens.as_slice();
    let Some((first, rest)) = toks.split_first() else {
        return err(0, "empty record");
    };
    if let Some(t) = toks.iter().find(|t| t.unterminated) {
        return err(t.line, "unterminated string");
    }
    if first.is_word("include") {
        return match rest {
            [] => err(first.line, "unexpected end of include directive"),
            [path] => Ok(Parsed::Include(path.text.to_vec())),
            [_, extra, ..] => err(
                extra.line,
                "ignoring malformed INCLUDE -- what comes after the pathname?",
            ),
        };
    }
    if first.is("}") {
        return err(
            first.line,
            "'}' in column 0: the closing brace of an RSA key must be indented",
        );
    }
    let Some(colon) = toks.iter().position(|t| t.is(":")) else {
        // No ":" at all: a quoted token is most likely a legacy colon-less PSK.
        if let Some(q) = toks.iter().find(|t| t.quote().is_some()) {
            return err(q.line, QUOTED_INDEX);
        }
        let line = toks.last().map_or(first.line, |t| t.line);
        return err(line, "unexpected end of id list");
    };
    let index_toks = toks.get(..colon).unwrap_or_default();
    let mut indices = Vec::with_capacity(index_toks.len());
    for t in index_toks {
        indices.push(parse_index(t)?);
    }
    let colon_line = toks.get(colon).map_or(first.line, |t| t.line);
    let secret_toks = toks.get(colon + 1..).unwrap_or_default();
    let (parsed, used) = parse_secret(indices, secret_toks, colon_line)?;
    if let Some(extra) = secret_toks.get(used) {
        return err(extra.line, "expected record boundary in key");
    }
    Ok(parsed)
}

const QUOTED_INDEX: &str = "quoted token where an index was expected (a secret must follow \":\")";

/// One index: `%any`, `%any6` or an identity.
fn parse_index(t: &Token<'_>) -> Result<SecretIndex, RecordError> {
    if t.quote().is_some() {
        // Most likely a legacy colon-less PSK (2.0.0 syntax): do not echo it.
        return err(t.line, QUOTED_INDEX);
    }
    let Ok(text) = std::str::from_utf8(t.text) else {
        return err(t.line, "index is not valid UTF-8");
    };
    if text == "%any" || text == "%any6" {
        return Ok(SecretIndex::Any);
    }
    match parse_id(text) {
        Ok(IdSpec::Any) => Ok(SecretIndex::Any),
        Ok(IdSpec::Id(id)) => Ok(SecretIndex::Id(id)),
        Ok(IdSpec::MyId) => err(t.line, "index \"%myid\" is not allowed in ipsec.secrets"),
        Err(e) => {
            let looks_secret = text.len() > 2
                && text.starts_with('0')
                && matches!(
                    text.as_bytes().get(1),
                    Some(b'x' | b'X' | b's' | b'S' | b't')
                );
            if looks_secret {
                err(t.line, format!("index (not shown) {e}"))
            } else {
                err(t.line, format!("index \"{text}\" {e}"))
            }
        }
    }
}

/// The secret after `:`. Returns the entry and how many tokens it used.
fn parse_secret(
    indices: Vec<SecretIndex>,
    toks: &[Token<'_>],
    colon_line: usize,
) -> Result<(Parsed, usize), RecordError> {
    let Some(kind) = toks.first() else {
        return err(
            colon_line,
            "unexpected end of record: no secret after \":\"",
        );
    };
    if kind.quote().is_some() {
        // Old PSK format: just a string.
        let secret = Secret(kind.unquoted().to_vec());
        return Ok((Parsed::Psk { indices, secret }, 1));
    }
    if kind.is_word("psk") {
        let Some(v) = toks.get(1) else {
            return err(kind.line, "unexpected end of record in PSK");
        };
        let bytes = if v.quote().is_some() {
            v.unquoted().to_vec()
        } else {
            let b = ttodata::ttodata(v.text)
                .map_err(|why| (v.line, format!("PSK data malformed ({why})")))?;
            if b.len() > MAX_FIELD_BYTES {
                return err(v.line, "PSK data malformed (too long)");
            }
            b
        };
        let secret = Secret(bytes);
        return Ok((Parsed::Psk { indices, secret }, 2));
    }
    if kind.is_word("rsa") {
        return match toks.get(1) {
            None => err(kind.line, "bad RSA key syntax"),
            Some(b) if b.is("{") => {
                let (key, used) = parse_rsa_block(toks.get(2..).unwrap_or_default(), b.line)?;
                let key = Box::new(key);
                Ok((Parsed::Rsa { indices, key }, used + 2))
            }
            Some(f) => err(
                f.line,
                "RSA private key files are not supported (use an RSA { ... } block)",
            ),
        };
    }
    if kind.is_word("pin") {
        return err(kind.line, "PIN (smartcard) entries are not supported");
    }
    if kind.is_word("xauth") {
        return err(kind.line, "XAUTH entries are not supported");
    }
    err(kind.line, "unrecognized key format")
}

/// The fields and `}` of an `RSA {` block. Returns the checked key and the tokens used.
fn parse_rsa_block(
    toks: &[Token<'_>],
    brace_line: usize,
) -> Result<(RsaPrivateKey, usize), RecordError> {
    let mut i = 0usize;
    let mut last_line = brace_line;
    let next = |i: &mut usize| -> Option<&Token<'_>> {
        let t = toks.get(*i)?;
        *i += 1;
        Some(t)
    };
    let mut fields: [BigUint; 8] = Default::default();
    for (name, slot) in FIELD_NAMES.iter().zip(fields.iter_mut()) {
        let Some(t) = next(&mut i) else {
            return err(last_line, "premature end of RSA key");
        };
        last_line = t.line;
        if !t.is_word(name) {
            return err(
                t.line,
                format!("{name} keyword not found where expected in RSA key"),
            );
        }
        let mut v = next(&mut i);
        if v.is_some_and(|v| v.is(":")) {
            v = next(&mut i);
        }
        let Some(v) = v else {
            return err(last_line, "premature end of RSA key");
        };
        last_line = v.line;
        let bytes = ttodata::ttodata(v.text)
            .map_err(|why| (v.line, format!("RSA data malformed ({why})")))?;
        if bytes.len() > MAX_FIELD_BYTES {
            return err(v.line, "RSA data malformed (too long)");
        }
        *slot = BigUint::from_bytes_be(&bytes);
    }
    match next(&mut i) {
        Some(t) if t.is("}") => last_line = t.line,
        _ => {
            return err(
                last_line,
                "malformed end of RSA private key -- indented '}' required",
            )
        }
    }
    if let Some(t) = toks.get(i) {
        return err(
            t.line,
            "malformed end of RSA private key -- unexpected token after '}'",
        );
    }
    let key = RsaPrivateKey::from_fields(fields);
    key.check().map_err(|m| (last_line, m.to_string()))?;
    Ok((key, i))
}
