//! Text forms of identities (whack --id, --keyid, --myid, ipsec.secrets indices):
//! `programs/pluto/id.c` atoid and idtoa.
//!
//! Accepted syntax ([`parse_id`]):
//! * `%myid` → [`IdSpec::MyId`], resolved by the caller (only connection ends allow it);
//! * contains `=` → an ASCII X.501 DN (`C=CH, O=Acme, CN=gw`; a leading `@` is dropped),
//!   DER-encoded as ID_DER_ASN1_DN the way Openswan's `atodn` does it: RDNs separated
//!   by `,` or `/`, attribute types CN, S, SN/serialNumber, C, L, ST, O, OU, T, D, N, G,
//!   I, ID, E/Email/emailAddress, UN/unstructuredName, DC, UID (case-insensitive);
//!   values as PrintableString (T61String when not printable), IA5String for E and UN;
//! * no `@`: `%any`, `0.0.0.0` or `::` → [`IdSpec::Any`]; else an IPv4 literal, or an
//!   IPv6 literal when it contains `:`;
//! * `@#hex` → ID_KEY_ID bytes; `@~hex` → binary ID_DER_ASN1_DN; `@[text]` → textual
//!   ID_KEY_ID (a trailing `]` dropped);
//! * `@name` → ID_FQDN `name`; `user@name` → ID_USER_FQDN kept verbatim.
//!
//! Deviation: atoid resolves host names with DNS at parse time. rswan has no resolver
//! (router build), so a name that is not an address literal is refused with
//! [`IdError::NeedsDns`]; write the address, or `@name` for an FQDN identity.
//! IPv4 literals are strict dotted decimal (no ttoaddr hex/octal forms).
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use crate::ike::wire::Identity;
use crate::text::data as ttodata;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The result of parsing an identity text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdSpec {
    /// `%any`, `0.0.0.0`, `::`: ID_NONE, matches any peer ID.
    Any,
    /// `%myid`: the caller substitutes the configured own ID.
    MyId,
    Id(Identity),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdError {
    Empty,
    /// Not an address literal; rswan does not resolve names.
    NeedsDns,
    BadIpv4,
    BadIpv6,
    /// Bad hex after `@#` / `@~` (the ttodata reason).
    BadHex(&'static str),
    /// Bad ASCII DN (the reason).
    BadDn(&'static str),
}

impl core::fmt::Display for IdError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            IdError::Empty => f.write_str("empty identity"),
            IdError::NeedsDns => {
                f.write_str("cannot resolve host name without DNS: use an address or @name")
            }
            IdError::BadIpv4 => f.write_str("not a valid IPv4 address"),
            IdError::BadIpv6 => f.write_str("not a valid IPv6 address"),
            IdError::BadHex(why) => write!(f, "malformed hex identity ({why})"),
            IdError::BadDn(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for IdError {}

impl core::fmt::Display for IdSpec {
    /// idtoa: `(none)` for ID_NONE, `%myid`, else [`format_id`].
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            IdSpec::Any => f.write_str("(none)"),
            IdSpec::MyId => f.write_str("%myid"),
            IdSpec::Id(id) => f.write_str(&format_id(id)),
        }
    }
}

/// atoid: parses an identity text (see the module documentation).
pub fn parse_id(text: &str) -> Result<IdSpec, IdError> {
    if text.is_empty() {
        return Err(IdError::Empty);
    }
    if text == "%myid" {
        return Ok(IdSpec::MyId);
    }
    if text.contains('=') {
        let dn = text.strip_prefix('@').unwrap_or(text);
        return Ok(IdSpec::Id(Identity::DerAsn1Dn(atodn(dn)?)));
    }
    let Some(rest) = text.strip_prefix('@') else {
        if text.contains('@') {
            return Ok(IdSpec::Id(Identity::UserFqdn(text.as_bytes().to_vec())));
        }
        return parse_addr(text);
    };
    if let Some(hex) = rest.strip_prefix('#') {
        let b = ttodata::decode_hex(hex.as_bytes()).map_err(IdError::BadHex)?;
        Ok(IdSpec::Id(Identity::KeyId(b)))
    } else if let Some(hex) = rest.strip_prefix('~') {
        let b = ttodata::decode_hex(hex.as_bytes()).map_err(IdError::BadHex)?;
        Ok(IdSpec::Id(Identity::DerAsn1Dn(b)))
    } else if let Some(t) = rest.strip_prefix('[') {
        let t = t.strip_suffix(']').unwrap_or(t);
        Ok(IdSpec::Id(Identity::KeyId(t.as_bytes().to_vec())))
    } else if rest.is_empty() {
        Err(IdError::Empty)
    } else {
        Ok(IdSpec::Id(Identity::Fqdn(rest.as_bytes().to_vec())))
    }
}

fn parse_addr(text: &str) -> Result<IdSpec, IdError> {
    if text == "%any" || text == "0.0.0.0" {
        return Ok(IdSpec::Any);
    }
    if text.contains(':') {
        let a: Ipv6Addr = text.parse().map_err(|_| IdError::BadIpv6)?;
        return Ok(if a.is_unspecified() {
            IdSpec::Any
        } else {
            IdSpec::Id(Identity::Ipv6(a))
        });
    }
    match text.parse::<Ipv4Addr>() {
        Ok(a) => Ok(IdSpec::Id(Identity::Ipv4(a))),
        Err(_) if text.bytes().all(|c| c.is_ascii_digit() || c == b'.') => Err(IdError::BadIpv4),
        Err(_) => Err(IdError::NeedsDns),
    }
}

/// idtoa: dotted/colon IP, `@fqdn`, `user@fqdn`, `@#hex` for KEY_ID, the DN text for
/// a DER DN (`@~hex` when the bytes are not a DN this module can print), and the wire
/// module's forms for subnets and ranges. Non-printable name bytes appear as `\xNN`.
pub fn format_id(id: &Identity) -> String {
    match id {
        Identity::DerAsn1Dn(der) => {
            dntoa(der).unwrap_or_else(|| format!("@~{}", ttodata::encode_hex(der)))
        }
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Distinguished names (Openswan x509.c atodn / dntoa, the common attribute types).

const ASN1_SEQUENCE: u8 = 0x30;
const ASN1_SET: u8 = 0x31;
const ASN1_OID: u8 = 0x06;
const ASN1_UTF8STRING: u8 = 0x0c;
const ASN1_PRINTABLESTRING: u8 = 0x13;
const ASN1_T61STRING: u8 = 0x14;
const ASN1_IA5STRING: u8 = 0x16;

struct Rdn {
    name: &'static str,
    oid: &'static [u8],
    tag: u8,
}

macro_rules! x520 {
    ($n:expr, $last:expr) => {
        Rdn {
            name: $n,
            oid: &[0x55, 0x04, $last],
            tag: ASN1_PRINTABLESTRING,
        }
    };
}

/// Attribute types; for printing, the first entry with a given OID names it.
static RDNS: &[Rdn] = &[
    x520!("CN", 3),
    x520!("S", 4),
    x520!("SN", 5),
    x520!("serialNumber", 5),
    x520!("C", 6),
    x520!("L", 7),
    x520!("ST", 8),
    x520!("O", 10),
    x520!("OU", 11),
    x520!("T", 12),
    x520!("D", 13),
    x520!("N", 41),
    x520!("G", 42),
    x520!("I", 43),
    x520!("ID", 45),
    Rdn {
        name: "E",
        oid: &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
        tag: ASN1_IA5STRING,
    },
    Rdn {
        name: "Email",
        oid: &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
        tag: ASN1_IA5STRING,
    },
    Rdn {
        name: "emailAddress",
        oid: &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
        tag: ASN1_IA5STRING,
    },
    Rdn {
        name: "UN",
        oid: &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x02],
        tag: ASN1_IA5STRING,
    },
    Rdn {
        name: "unstructuredName",
        oid: &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x02],
        tag: ASN1_IA5STRING,
    },
    Rdn {
        name: "DC",
        oid: &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19],
        tag: ASN1_PRINTABLESTRING,
    },
    Rdn {
        name: "UID",
        oid: &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01],
        tag: ASN1_PRINTABLESTRING,
    },
];

fn is_printable_string(s: &[u8]) -> bool {
    s.iter()
        .all(|&c| c.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&c))
}

fn push_der(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let sig = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | sig.len() as u8);
        out.extend_from_slice(sig);
    }
    out.extend_from_slice(content);
}

/// atodn: ASCII DN → DER. `type=value` pairs separated by `,` or `/`; blanks around
/// types and at the ends of values are ignored.
fn atodn(src: &str) -> Result<Vec<u8>, IdError> {
    let mut rdns = Vec::new();
    let mut any = false;
    for part in src.split([',', '/']) {
        let part = part.trim_matches(' ');
        if part.is_empty() {
            continue;
        }
        let Some((ty, value)) = part.split_once('=') else {
            return Err(IdError::BadDn("missing '=' in distinguished name"));
        };
        let ty = ty.trim_matches(' ');
        let value = value.trim_start_matches([' ', '=']).trim_end_matches(' ');
        let rdn = RDNS
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(ty))
            .ok_or(IdError::BadDn("unknown OID in distinguished name"))?;
        if value.is_empty() {
            return Err(IdError::BadDn("empty value in distinguished name"));
        }
        let tag = if rdn.tag == ASN1_PRINTABLESTRING && !is_printable_string(value.as_bytes()) {
            ASN1_T61STRING
        } else {
            rdn.tag
        };
        let mut atv = Vec::new();
        push_der(&mut atv, ASN1_OID, rdn.oid);
        push_der(&mut atv, tag, value.as_bytes());
        let mut seq = Vec::new();
        push_der(&mut seq, ASN1_SEQUENCE, &atv);
        push_der(&mut rdns, ASN1_SET, &seq);
        any = true;
    }
    if !any {
        return Err(IdError::BadDn("empty distinguished name"));
    }
    let mut dn = Vec::new();
    push_der(&mut dn, ASN1_SEQUENCE, &rdns);
    Ok(dn)
}

/// Reads one DER TLV: (tag, content, rest).
fn read_der(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&l0, mut rest) = rest.split_first()?;
    let len = if l0 < 0x80 {
        usize::from(l0)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let lb = rest.get(..n)?;
        rest = rest.get(n..)?;
        lb.iter().fold(0usize, |a, &x| a << 8 | usize::from(x))
    };
    Some((tag, rest.get(..len)?, rest.get(len..)?))
}

fn oid_text(oid: &[u8]) -> String {
    if let Some(r) = RDNS.iter().find(|r| r.oid == oid) {
        return r.name.to_string();
    }
    // Unknown: dotted decimal.
    let mut arcs: Vec<u64> = Vec::new();
    let mut v: u64 = 0;
    for &b in oid {
        v = v << 7 | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (v / 40).min(2);
                arcs.push(first);
                arcs.push(v - first * 40);
            } else {
                arcs.push(v);
            }
            v = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// dntoa: DER DN → `C=CH, O=Acme, CN=gw`; None if the bytes are not a DN of
/// string-valued attributes.
fn dntoa(der: &[u8]) -> Option<String> {
    let (tag, mut rdns, rest) = read_der(der)?;
    if tag != ASN1_SEQUENCE || !rest.is_empty() || rdns.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    while !rdns.is_empty() {
        let (tag, set, rest) = read_der(rdns)?;
        rdns = rest;
        if tag != ASN1_SET {
            return None;
        }
        // One attribute per RDN (multi-valued RDNs have no text form here).
        {
            let (tag, atv, rest) = read_der(set)?;
            if tag != ASN1_SEQUENCE || !rest.is_empty() {
                return None;
            }
            let (otag, oid, rest) = read_der(atv)?;
            let (vtag, value, rest) = read_der(rest)?;
            if otag != ASN1_OID
                || !rest.is_empty()
                || oid.is_empty()
                || ![
                    ASN1_PRINTABLESTRING,
                    ASN1_T61STRING,
                    ASN1_IA5STRING,
                    ASN1_UTF8STRING,
                ]
                .contains(&vtag)
            {
                return None;
            }
            let value = std::str::from_utf8(value).ok()?;
            // Text that would not parse back the same way is left to the hex form.
            if value.is_empty()
                || value.contains([',', '/'])
                || value.starts_with([' ', '='])
                || value.ends_with(' ')
                || value.chars().any(char::is_control)
            {
                return None;
            }
            parts.push(format!("{}={}", oid_text(oid), value));
        }
    }
    Some(parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> Identity {
        match parse_id(text) {
            Ok(IdSpec::Id(i)) => i,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn any_forms() {
        for t in ["%any", "0.0.0.0", "::", "0:0::0"] {
            assert_eq!(parse_id(t), Ok(IdSpec::Any), "{t}");
        }
        assert_eq!(parse_id("%myid"), Ok(IdSpec::MyId));
        assert_eq!(IdSpec::Any.to_string(), "(none)");
        assert_eq!(IdSpec::MyId.to_string(), "%myid");
    }

    #[test]
    fn addresses() {
        assert_eq!(id("192.0.2.1"), Identity::Ipv4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(
            id("2001:db8::1"),
            Identity::Ipv6("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_id("192.0.2.300"), Err(IdError::BadIpv4));
        assert_eq!(parse_id("1.2.3"), Err(IdError::BadIpv4));
        assert_eq!(parse_id("2001:db8::g"), Err(IdError::BadIpv6));
    }

    #[test]
    fn host_names_are_not_resolved() {
        let e = parse_id("gw.example.org").unwrap_err();
        assert_eq!(e, IdError::NeedsDns);
        assert_eq!(
            e.to_string(),
            "cannot resolve host name without DNS: use an address or @name"
        );
        assert_eq!(parse_id("%anything"), Err(IdError::NeedsDns));
    }

    #[test]
    fn names() {
        assert_eq!(
            id("@gw.example.org"),
            Identity::Fqdn(b"gw.example.org".to_vec())
        );
        assert_eq!(
            id("joe@example.org"),
            Identity::UserFqdn(b"joe@example.org".to_vec())
        );
        assert_eq!(parse_id("@"), Err(IdError::Empty));
        assert_eq!(parse_id(""), Err(IdError::Empty));
    }

    #[test]
    fn key_ids() {
        assert_eq!(id("@#0a0B_ff"), Identity::KeyId(vec![0x0a, 0x0b, 0xff]));
        assert_eq!(id("@[my key]"), Identity::KeyId(b"my key".to_vec()));
        assert_eq!(id("@[no bracket"), Identity::KeyId(b"no bracket".to_vec()));
        assert_eq!(id("@~3000"), Identity::DerAsn1Dn(vec![0x30, 0x00]));
        assert!(matches!(parse_id("@#abc"), Err(IdError::BadHex(_))));
        assert!(matches!(parse_id("@#zz"), Err(IdError::BadHex(_))));
        assert!(matches!(parse_id("@#"), Err(IdError::BadHex(_))));
    }

    #[test]
    fn dn_der_encoding() {
        // SEQUENCE { SET { SEQUENCE { OID 2.5.4.6, PrintableString "CH" } },
        //            SET { SEQUENCE { OID 2.5.4.3, PrintableString "gw" } } }
        let want = vec![
            0x30, 0x1a, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, b'C',
            b'H', 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x02, b'g', b'w',
        ];
        assert_eq!(id("C=CH, CN=gw"), Identity::DerAsn1Dn(want.clone()));
        assert_eq!(id("@c = CH/cn=gw  "), Identity::DerAsn1Dn(want));
        // E is an IA5String; a non-printable value becomes a T61String.
        let Identity::DerAsn1Dn(e) = id("E=a@b") else {
            unreachable!()
        };
        assert_eq!(e.get(e.len() - 5..e.len() - 3), Some(&[0x16, 0x03][..]));
        let Identity::DerAsn1Dn(t) = id("CN=a_b") else {
            unreachable!()
        };
        assert_eq!(t.get(t.len() - 5), Some(&0x14));
        assert_eq!(
            parse_id("XX=foo"),
            Err(IdError::BadDn("unknown OID in distinguished name"))
        );
        assert!(matches!(parse_id("CN="), Err(IdError::BadDn(_))));
    }

    #[test]
    fn long_dn_uses_long_lengths() {
        let long = format!("CN={}", "x".repeat(200));
        let Identity::DerAsn1Dn(der) = id(&long) else {
            unreachable!()
        };
        assert_eq!(der.get(..2), Some(&[0x30, 0x81][..]));
        assert_eq!(format_id(&Identity::DerAsn1Dn(der)), long);
    }

    #[test]
    fn format_round_trips() {
        for text in [
            "192.0.2.1",
            "2001:db8::1",
            "@gw.example.org",
            "joe@example.org",
            "@#0a0bff",
            "C=CH, O=Acme Ltd., OU=VPN, ST=Zurich, L=Zurich, CN=gw.example.org, E=ops@example.org",
            "DC=org, DC=example, UID=joe, SN=1234",
            "@~3003020100",
        ] {
            let i = id(text);
            let shown = format_id(&i);
            assert_eq!(shown, text);
            assert_eq!(id(&shown), i, "{text}");
            assert_eq!(IdSpec::Id(i).to_string(), text);
        }
        // Aliases print under the canonical name.
        assert_eq!(
            format_id(&id("emailAddress=a@b, serialNumber=7")),
            "E=a@b, SN=7"
        );
        // A textual key ID prints as hex.
        assert_eq!(format_id(&id("@[ab]")), "@#6162");
    }

    #[test]
    fn dn_printing_of_foreign_der() {
        // UTF8String value and an unknown OID (2.5.4.97) print as text / dotted.
        let der = vec![
            0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x61, 0x0c, 0x01, b'z',
        ];
        assert_eq!(format_id(&Identity::DerAsn1Dn(der)), "2.5.4.97=z");
        // Trailing garbage: hex form.
        let der = vec![0x30, 0x00, 0x00];
        assert_eq!(format_id(&Identity::DerAsn1Dn(der)), "@~300000");
    }
}
