//! Text ↔ binary data in the FreeS/WAN `ttodata` forms (`lib/libopenswan/ttodata.c`).
//!
//! * `0x`/`0X` + hex digit pairs, a single `_` allowed between pairs;
//! * `0s`/`0S` + base64 in 4-character groups with `=` padding in the last group;
//! * `0t`/`0T` + literal text.
//!
//! Spaces count as bad characters (`TTODATAV_SPACECOUNTS`). Error texts are the C ones
//! where they exist; none of them quotes the input, which may be a secret.

/// Decodes `text` with its format prefix (ttodata base 0).
pub fn ttodata(text: &[u8]) -> Result<Vec<u8>, &'static str> {
    let (prefix, body) = match text {
        [] | [_] => return Err("input too short to be valid"),
        [b'0', p, body @ ..] => (*p, body),
        _ => return Err("input does not begin with format prefix"),
    };
    let out = match prefix {
        b'x' | b'X' => decode_hex(body)?,
        b's' | b'S' => decode_base64(body)?,
        b't' | b'T' => body.to_vec(),
        _ => return Err("unknown format prefix"),
    };
    if out.is_empty() {
        return Err("no data bytes specified by input");
    }
    Ok(out)
}

/// [`ttodata`] for data that is no secret (whack's public keys): a bad
/// character is named, in libopenswan's words (`unknown character (`z')
/// in input`); secrets keep [`ttodata`]'s texts, which quote nothing.
pub fn ttodata_public(text: &[u8]) -> Result<Vec<u8>, String> {
    ttodata(text).map_err(|e| {
        let ok: fn(u8) -> bool = match text.get(1) {
            Some(b'x' | b'X') => |c| hex_digit(c).is_some() || c == b'_',
            Some(b's' | b'S') => |c| b64_digit(c).is_some() || c == b'=',
            _ => return e.to_string(),
        };
        let bad = text.get(2..).unwrap_or_default().iter().find(|c| !ok(**c));
        match bad {
            Some(&c) if e.starts_with("non-") => {
                if c.is_ascii_graphic() || c == b' ' {
                    format!("unknown character (`{}') in input", char::from(c))
                } else {
                    format!("unknown character (`\\{c:03o}') in input")
                }
            }
            _ => e.to_string(),
        }
    })
}

/// Hex digit pairs without prefix (ttodata base 16); one `_` allowed between pairs.
pub fn decode_hex(text: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut rest = text;
    while !rest.is_empty() {
        let (hi, lo) = match rest {
            [h, l, tail @ ..] => {
                rest = tail;
                (hex_digit(*h), hex_digit(*l))
            }
            _ => return Err("input ends in mid-byte, perhaps truncated"),
        };
        match (hi, lo) {
            (Some(h), Some(l)) => out.push(h << 4 | l),
            _ => return Err("non-hex digit in input"),
        }
        if let [b'_', tail @ ..] = rest {
            if tail.is_empty() {
                return Err("input ends with a separator");
            }
            rest = tail;
        }
    }
    if out.is_empty() {
        return Err("no data bytes specified by input");
    }
    Ok(out)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_digit(c: u8) -> Option<u32> {
    B64.iter()
        .position(|&x| x == c)
        .and_then(|p| u32::try_from(p).ok())
}

/// Base64 in groups of four (ttodata base 64); `=` padding only at the very end.
pub fn decode_base64(text: &[u8]) -> Result<Vec<u8>, &'static str> {
    if text.len() % 4 != 0 {
        return Err("input ends in mid-byte, perhaps truncated");
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let groups = text.len() / 4;
    for (i, g) in text.chunks_exact(4).enumerate() {
        let last = i + 1 == groups;
        let pad = g.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return Err("improper base64 padding");
        }
        let mut v: u32 = 0;
        for &c in g.iter().take(4 - pad) {
            v = v << 6 | b64_digit(c).ok_or("non-base64 digit in input")?;
        }
        v <<= 6 * pad;
        let bytes = v.to_be_bytes();
        let keep = 3 - pad;
        // Padding bits that would be dropped must be zero.
        if pad > 0 && v & ((1 << (8 * pad)) - 1) != 0 {
            return Err("bad (non-zero) padding at end of base64 input");
        }
        out.extend(bytes.iter().skip(1).take(keep));
    }
    Ok(out)
}

/// Base64 with `=` padding (for `0s` texts and key IDs).
pub fn encode_base64(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let mut v: u32 = 0;
        for (i, &b) in chunk.iter().enumerate() {
            v |= u32::from(b) << (16 - 8 * i);
        }
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = (v >> (18 - 6 * i)) & 0x3f;
                s.push(char::from(B64.get(idx as usize).copied().unwrap_or(b'A')));
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Lower-case hex without separators.
pub fn encode_hex(data: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        let _ = write!(s, "{b:02x}");
    }
    s
}
