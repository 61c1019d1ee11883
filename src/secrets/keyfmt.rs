//! The text forms of RSA keys the key tools print: the ipsec.secrets block
//! `ipsec rsasigkey` writes, and what `ipsec showhostkey` derives from a
//! key (a DER SubjectPublicKeyInfo in PEM armour, a DNS TXT record).

use super::RsaPrivateKey as RsaPrivateKeyParts;
use crate::ike::crypto::rsa;
use crate::text::data as ttodata;
use num_bigint_dig::BigUint;

/// `0x` and an even number of lower-case hex digits (rsasigkey's hexout).
fn hexout(x: &BigUint) -> String {
    let h = x.to_str_radix(16);
    if h.len() % 2 == 1 {
        format!("0x0{h}")
    } else {
        format!("0x{h}")
    }
}

/// The key in Openswan's layout, one `\t`-indented line each, ending in a newline.
/// Fails only for a key whose public half [`rsa::RsaPublicKey::new`] refuses.
pub fn render(
    key: &RsaPrivateKeyParts,
    hostname: &str,
    date: &str,
) -> Result<String, rsa::RsaError> {
    let pubkey = key.public()?.to_text();
    let mut s = String::new();
    let mut line = |l: String| {
        s.push('\t');
        s.push_str(&l);
        s.push('\n');
    };
    line(format!("# RSA {} bits   {hostname}   {date}", key.n.bits()));
    line("# for signatures only, UNSAFE FOR ENCRYPTION".into());
    line(format!("#pubkey={pubkey}"));
    line(format!("Modulus: {}", hexout(&key.n)));
    line(format!("PublicExponent: {}", hexout(&key.e)));
    line("# everything after this point is secret".into());
    line(format!("PrivateExponent: {}", hexout(&key.d)));
    line(format!("Prime1: {}", hexout(&key.p)));
    line(format!("Prime2: {}", hexout(&key.q)));
    line(format!("Exponent1: {}", hexout(&key.dp)));
    line(format!("Exponent2: {}", hexout(&key.dq)));
    line(format!("Coefficient: {}", hexout(&key.qinv)));
    Ok(s)
}

/// `secs` since the epoch in ctime(3)'s layout, UTC, without the newline:
/// `Thu Jan  1 00:00:00 1970`.
pub fn ctime_utc(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86400;
    let rem = secs % 86400;
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Howard Hinnant's civil_from_days, for days >= 0.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let wd = DAYS.get((days % 7) as usize).copied().unwrap_or("???");
    let mon = MONTHS
        .get((month as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("???");
    format!("{wd} {mon} {day:2} {h:02}:{m:02}:{s:02} {year}")
}

/// Openswan's TXT record: `HOST.    IN    TXT    "X-IPsec-Server(10)=GW " "AQ..."`,
/// the base64 (without `0s`) in strings of at most 240 characters.
pub fn txt_record(host: &str, gateway: &str, pubkey_text: &str) -> String {
    let b64 = pubkey_text.strip_prefix("0s").unwrap_or(pubkey_text);
    let mut s = format!("{host}.    IN    TXT    \"X-IPsec-Server(10)={gateway} \" ");
    let mut rest = b64;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(rest.len().min(240));
        s.push_str(&format!("\"{chunk}\" "));
        rest = tail;
    }
    s
}

// ---------------------------------------------------------------------------
// A tiny DER encoder: exactly what a SubjectPublicKeyInfo and an RSAPrivateKey
// need (definite lengths, INTEGER, NULL, OID, BIT STRING, SEQUENCE).

/// DER tag-length-value.
pub fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A non-negative DER INTEGER (minimal, a 00 in front of a set top bit).
pub fn der_uint(x: &BigUint) -> Vec<u8> {
    let mut b = x.to_bytes_be();
    if b.first().is_some_and(|&t| t & 0x80 != 0) {
        b.insert(0, 0);
    }
    der_tlv(0x02, &b)
}

/// A DER SEQUENCE of already-encoded elements.
pub fn der_sequence(parts: &[Vec<u8>]) -> Vec<u8> {
    der_tlv(0x30, &parts.concat())
}

/// The DER of OID 1.2.840.113549.1.1.1 (rsaEncryption).
const RSA_ENCRYPTION_OID: [u8; 11] = [
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];

/// SubjectPublicKeyInfo { AlgorithmIdentifier { rsaEncryption, NULL },
/// BIT STRING { RSAPublicKey { n, e } } } (RFC 5280, RFC 8017 A.1.1).
pub fn spki_der(n: &BigUint, e: &BigUint) -> Vec<u8> {
    let algorithm = der_sequence(&[RSA_ENCRYPTION_OID.to_vec(), vec![0x05, 0x00]]);
    let rsa_public_key = der_sequence(&[der_uint(n), der_uint(e)]);
    let mut bits = vec![0u8]; // no unused bits
    bits.extend_from_slice(&rsa_public_key);
    der_sequence(&[algorithm, der_tlv(0x03, &bits)])
}

/// PEM armour: `-----BEGIN label-----`, base64 in 64-character lines, `-----END label-----`.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = ttodata::encode_base64(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    let mut rest = b64.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        s.push_str(line);
        s.push('\n');
        rest = tail;
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}
