//! The text forms of FreeS/WAN's libopenswan, one implementation each for
//! every command line and file: `strtoul` (numeric options), `ttoaddr`,
//! `ttosubnet`, `ttoprotoport` (here, with libopenswan's error strings) and
//! the data forms `ttodata`, base64 and hex ([`data`]).
//!
//! Host names are not resolved (the binary does no NSS lookups): a name that
//! is not numeric gets ttoaddr's "does not look numeric and name lookup
//! failed". Protocol and service names come from a built-in table and then
//! from /etc/protocols and /etc/services read directly.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::ctl::{AddrFamily, Subnet};

pub mod data;
pub use data::ttodata;

/// C's `strtoul(s, &end, base)` for base 0 or 10: the value and the number
/// of bytes consumed (0 when no conversion was performed). Leading white
/// space and a sign are accepted; base 0 reads `0x` hex and leading-0 octal;
/// overflow saturates; a minus sign negates modulo 2^64.
pub fn strtoul(s: &str, base: u32) -> (u64, usize) {
    let b = s.as_bytes();
    let mut i = b
        .iter()
        .take_while(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .count();
    let mut negative = false;
    match b.get(i) {
        Some(b'-') => {
            negative = true;
            i += 1;
        }
        Some(b'+') => i += 1,
        _ => {}
    }
    let mut radix = base;
    if base == 0 {
        let hex_prefix = b.get(i) == Some(&b'0')
            && matches!(b.get(i + 1), Some(b'x' | b'X'))
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if hex_prefix {
            radix = 16;
            i += 2;
        } else if b.get(i) == Some(&b'0') {
            radix = 8;
        } else {
            radix = 10;
        }
    }
    let start = i;
    let mut value: u64 = 0;
    let mut overflow = false;
    while let Some(d) = b.get(i).and_then(|c| char::from(*c).to_digit(radix)) {
        match value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    let value = if overflow {
        u64::MAX
    } else if negative {
        value.wrapping_neg()
    } else {
        value
    };
    (value, i)
}

/// A whole argument as a number the way whack checks it: `None` if nothing
/// was converted or anything follows the number.
pub fn numeric_arg(s: &str) -> Option<u64> {
    match strtoul(s, 0) {
        (_, 0) => None,
        (v, n) if n == s.len() => Some(v),
        _ => None,
    }
}

/// libopenswan `ttoul` with base 10 (digits only).
fn ttoul10(s: &str) -> Result<u64, &'static str> {
    if s.is_empty() {
        return Err("empty string");
    }
    let mut v: u64 = 0;
    for c in s.bytes() {
        let d = char::from(c)
            .to_digit(10)
            .ok_or("non-digit character in number")?;
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or("unsigned-long overflow")?;
    }
    Ok(v)
}

/// libopenswan `ttoul` with base 0 (as used for a subnet's `:port`).
fn ttoul0(s: &str) -> Result<u64, &'static str> {
    if s.is_empty() {
        return Err("empty string");
    }
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() {
        return Err("non-digit character in number");
    }
    let mut v: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix).ok_or("non-digit character in number")?;
        v = v
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or("unsigned-long overflow")?;
    }
    Ok(v)
}

const NAMECHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.";

/// ttoaddr's name fallback, without the lookup.
/// What [`ttoaddr`] says of text that can only be a host name: the caller
/// may look it up.
pub const NAME_LOOKUP_FAILED: &str = "does not look numeric and name lookup failed";

fn tryname(s: &str) -> &'static str {
    if s.chars().any(|c| c.is_ascii() && !NAMECHARS.contains(c)) {
        "illegal (non-DNS-name) character in name"
    } else {
        NAME_LOOKUP_FAILED
    }
}

/// Dotted decimal; an error starting with `?` means "did not look dotted".
fn trydotted(s: &[u8]) -> Result<Ipv4Addr, &'static str> {
    let mut buf = [0u8; 4];
    let mut src = 0;
    let stop = s.len();
    let mut i = 0;
    while i < 4 && src < stop {
        // getbyte
        let mut no: u32 = 0;
        let mut p = src;
        while let Some(c) = s.get(p).filter(|c| c.is_ascii_digit() && no <= 255) {
            no = no * 10 + u32::from(c - b'0');
            p += 1;
        }
        let err = if p == src {
            Some("?non-numeric component in dotted-decimal address")
        } else if no > 255 {
            Some("byte overflow in dotted-decimal address")
        } else {
            None
        };
        if let Some(e) = err {
            if !e.starts_with('?') {
                return Err(e);
            }
            return Err(if i > 1 { &e[1..] } else { e });
        }
        src = p;
        if let Some(b) = buf.get_mut(i) {
            *b = no as u8;
        }
        if i < 3 && src < stop {
            let c = s.get(src).copied();
            src += 1;
            if c != Some(b'.') {
                return Err(if i == 0 {
                    "?syntax error in dotted-decimal address"
                } else {
                    "syntax error in dotted-decimal address"
                });
            }
        }
        i += 1;
    }
    if src != stop {
        return Err("extra garbage on end of dotted-decimal address");
    }
    Ok(Ipv4Addr::from(buf))
}

/// One 16-bit piece of an IPv6 address; `Ok(None)` is an empty field.
fn getpiece(s: &[u8], src: &mut usize) -> Result<Option<u16>, &'static str> {
    if s.get(*src).map_or(true, |c| *c == b':') {
        return Ok(None);
    }
    let digits = s
        .iter()
        .skip(*src)
        .take(4)
        .take_while(|c| c.is_ascii_hexdigit())
        .count();
    if digits == 0 {
        return Err("non-hex field in IPv6 numeric address");
    }
    if digits == 4 && s.get(*src + 4).is_some_and(u8::is_ascii_hexdigit) {
        return Err("field in IPv6 numeric address longer than 4 hex digits");
    }
    let text = s.get(*src..*src + digits).unwrap_or_default();
    let v = std::str::from_utf8(text)
        .ok()
        .and_then(|t| u16::from_str_radix(t, 16).ok())
        .ok_or("non-hex field in IPv6 numeric address")?;
    *src += digits;
    Ok(Some(v))
}

/// IPv6 colon notation, as libopenswan's `colon()`.
fn colon(s: &[u8]) -> Result<Ipv6Addr, &'static str> {
    let stop = s.len();
    let mut src = 0;
    if s.first() == Some(&b':') {
        if stop == 1 || s.get(1) != Some(&b':') {
            return Err("illegal leading `:' in IPv6 numeric address");
        }
        if stop == 2 {
            return Ok(Ipv6Addr::UNSPECIFIED);
        }
        src = 1;
    }
    if s.last() == Some(&b':') && (stop == 1 || s.get(stop - 2) != Some(&b':')) {
        return Err("illegal trailing `:' in IPv6 numeric address");
    }
    let mut pieces = [0u16; 8];
    let mut gapat: Option<usize> = None;
    let mut i = 0;
    while i < 8 && src < stop {
        match getpiece(s, &mut src)? {
            None => {
                if gapat.is_some() {
                    return Err("more than one :: in IPv6 numeric address");
                }
                gapat = Some(i);
            }
            Some(v) => {
                if let Some(p) = pieces.get_mut(i) {
                    *p = v;
                }
            }
        }
        if i < 7 {
            if src == stop && gapat.is_none() {
                return Err("IPv6 numeric address ends prematurely");
            }
            if src != stop {
                let c = s.get(src).copied();
                src += 1;
                if c != Some(b':') {
                    return Err("syntax error in IPv6 numeric address");
                }
            }
        }
        i += 1;
    }
    if src != stop {
        return Err("extra garbage on end of IPv6 numeric address");
    }
    match gapat {
        None if i < 8 => Err("incomplete IPv6 numeric address (internal error)"),
        None => Ok(Ipv6Addr::from(pieces)),
        Some(_) if i == 8 => Err("non-abbreviating empty field in IPv6 numeric address"),
        Some(g) => {
            // Pieces before the gap stay, the ones after it move to the end.
            let mut out = [0u16; 8];
            let after = i - (g + 1);
            out[..g].copy_from_slice(&pieces[..g]);
            out[8 - after..].copy_from_slice(&pieces[g + 1..i]);
            Ok(Ipv6Addr::from(out))
        }
    }
}

/// libopenswan `ttoaddr` for a given family (names are not resolved).
pub fn ttoaddr(src: &str, af: AddrFamily) -> Result<IpAddr, &'static str> {
    if src.is_empty() {
        return Err("empty string");
    }
    let b = src.as_bytes();
    if af == AddrFamily::Ipv4 && b.len() == 10 && b.first() == Some(&b'0') {
        let flavor = b.get(1).copied();
        if matches!(flavor, Some(b'x' | b'X' | b'h' | b'H')) {
            let digits = src.get(2..).unwrap_or("");
            if !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err("non-digit character in number");
            }
            let ul =
                u32::from_str_radix(digits, 16).map_err(|_| "non-digit character in number")?;
            let octets = if matches!(flavor, Some(b'x' | b'X')) {
                ul.to_be_bytes()
            } else {
                ul.to_ne_bytes()
            };
            return Ok(IpAddr::V4(Ipv4Addr::from(octets)));
        }
    }
    if src.contains(':') {
        if af != AddrFamily::Ipv6 {
            return Err("non-ipv6 address may not contain `:'");
        }
        return colon(b).map(IpAddr::V6);
    }
    if af == AddrFamily::Ipv4 {
        match trydotted(b) {
            Ok(a) => return Ok(IpAddr::V4(a)),
            Err(e) if !e.starts_with('?') => return Err(e),
            Err(_) => {}
        }
    }
    Err(tryname(src))
}

/// Number of leading one bits of a contiguous IPv4 mask, `None` otherwise.
fn masktocount(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let n = m.leading_ones();
    (m.checked_shl(n).unwrap_or(0) == 0).then_some(n as u8)
}

/// One network of Openswan's virtual notation: `%v4:NET/LEN` or
/// `%v6:NET/LEN`, the network optionally preceded by `!` (an exclusion, for
/// `--virtual_private`). Returns the exclusion mark and the network.
pub fn ttovirtual(src: &str) -> Result<(bool, Subnet), &'static str> {
    let (af, rest) = if let Some(r) = src.strip_prefix("%v4:") {
        (AddrFamily::Ipv4, r)
    } else if let Some(r) = src.strip_prefix("%v6:") {
        (AddrFamily::Ipv6, r)
    } else {
        return Err("it must start with %v4: or %v6:");
    };
    let (exclude, net) = match rest.strip_prefix('!') {
        Some(n) => (true, n),
        None => (false, rest),
    };
    // ttosubnet also takes a `:port` suffix; a network here has none.
    if net
        .split_once('/')
        .is_some_and(|(_, len)| len.contains(':'))
    {
        return Err("a network has no port");
    }
    Ok((exclude, ttosubnet(net, af)?))
}

/// libopenswan `ttosubnet`: `addr/bits` or `addr/mask` (IPv4), optionally
/// `:port` (ignored here), `%default` = all addresses. Host bits are cleared.
pub fn ttosubnet(src: &str, af: AddrFamily) -> Result<Subnet, &'static str> {
    if src.is_empty() {
        return Err("empty string");
    }
    let src = if src == "%default" {
        match af {
            AddrFamily::Ipv4 => "0/0",
            AddrFamily::Ipv6 => "::/0",
        }
    } else {
        src
    };
    let slash = src.find('/').ok_or("no / in subnet specification")?;
    let addr_text = if slash == 0 { src } else { &src[..slash] };
    let addr = ttoaddr(addr_text, af)?;
    let mut mask = &src[slash + 1..];
    if let Some(c) = mask.find(':') {
        ttoul0(&mask[c + 1..])?;
        mask = &mask[..c];
    }
    let bits = match ttoul10(mask) {
        Ok(bc) if bc > u64::from(af.bits()) => return Err("subnet mask bit count too large"),
        Ok(bc) => bc as u8,
        Err(_) if af == AddrFamily::Ipv4 => match ttoaddr(mask, af)? {
            IpAddr::V4(m) => masktocount(m).ok_or("non-contiguous or otherwise erroneous mask")?,
            IpAddr::V6(_) => return Err("non-contiguous or otherwise erroneous mask"),
        },
        Err(_) => return Err("masks are not permitted for IPv6 addresses"),
    };
    Subnet::new(addr, bits).ok_or("subnet mask bit count too large")
}

const PROTOCOLS: &[(&str, u8)] = &[
    ("ip", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ipencap", 4),
    ("tcp", 6),
    ("egp", 8),
    ("udp", 17),
    ("ipv6", 41),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("ipv6-icmp", 58),
    ("ospf", 89),
    ("pim", 103),
    ("ipcomp", 108),
    ("vrrp", 112),
    ("l2tp", 115),
    ("sctp", 132),
    ("udplite", 136),
];

const SERVICES: &[(&str, u16)] = &[
    ("ftp-data", 20),
    ("ftp", 21),
    ("ssh", 22),
    ("telnet", 23),
    ("smtp", 25),
    ("domain", 53),
    ("bootps", 67),
    ("bootpc", 68),
    ("tftp", 69),
    ("http", 80),
    ("www", 80),
    ("kerberos", 88),
    ("pop3", 110),
    ("sunrpc", 111),
    ("nntp", 119),
    ("ntp", 123),
    ("imap2", 143),
    ("imap", 143),
    ("snmp", 161),
    ("bgp", 179),
    ("ldap", 389),
    ("https", 443),
    ("isakmp", 500),
    ("syslog", 514),
    ("l2tp", 1701),
    ("ipsec-nat-t", 4500),
];

/// Looks `name` up in an /etc/protocols- or /etc/services-style file: the
/// second field of the line whose first field or an alias is `name`.
fn lookup_file(path: &str, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let first = fields.next()?;
        let second = fields.next()?;
        (first == name || fields.any(|a| a == name)).then(|| second.to_string())
    })
}

fn protocol_by_name(name: &str) -> Option<u8> {
    if name.is_empty() {
        return None;
    }
    if let Some((_, n)) = PROTOCOLS.iter().find(|(p, _)| p.eq_ignore_ascii_case(name)) {
        return Some(*n);
    }
    lookup_file("/etc/protocols", name)?.parse().ok()
}

fn service_by_name(name: &str) -> Option<u16> {
    if name.is_empty() {
        return None;
    }
    if let Some((_, n)) = SERVICES.iter().find(|(s, _)| *s == name) {
        return Some(*n);
    }
    let field = lookup_file("/etc/services", name)?;
    field.split('/').next()?.parse().ok()
}

/// C's `strtol(s, &end, 0)` reduced to what ttoprotoport needs: the value
/// (saturated to the i64 range) and whether the whole string was consumed.
fn strtol0(s: &str) -> (i64, bool) {
    let (v, n) = strtoul(s, 0);
    let negative = s
        .trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c'])
        .starts_with('-');
    let value = if negative && v != 0 {
        -1
    } else {
        i64::try_from(v).unwrap_or(i64::MAX)
    };
    (value, n == s.len())
}

/// libopenswan `ttoprotoport`: `proto[/port]`, proto a name or 0..255,
/// port a service name, a number 0..65535 or `%any` (the wildcard). As in
/// the original, an empty protocol is 0 and an unparsable port is 0.
pub fn ttoprotoport(src: &str) -> Result<(u8, u16, bool), &'static str> {
    let (proto_name, service) = match src.find('/') {
        Some(i) => (&src[..i], &src[i + 1..]),
        None => (src, ""),
    };
    let proto = match protocol_by_name(proto_name) {
        Some(p) => p,
        None => {
            let (l, whole) = strtol0(proto_name);
            if !proto_name.is_empty() && !whole {
                return Err("<protocol> is neither a number nor a valid name");
            }
            u8::try_from(l).map_err(|_| "<protocol> must be between 0 and 255")?
        }
    };
    if service == "%any" {
        return Ok((proto, 0, true));
    }
    let port = match service_by_name(service) {
        Some(p) => p,
        None => {
            let (l, whole) = strtol0(service);
            if !service.is_empty() && !whole {
                0
            } else {
                u16::try_from(l).map_err(|_| "<port> must be between 0 and 65535")?
            }
        }
    };
    Ok((proto, port, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_notation() {
        let net = |a: &str, p| Subnet {
            addr: a.parse().unwrap(),
            prefix: p,
        };
        assert_eq!(
            ttovirtual("%v4:10.0.0.0/8"),
            Ok((false, net("10.0.0.0", 8)))
        );
        assert_eq!(
            ttovirtual("%v4:!10.1.0.0/16"),
            Ok((true, net("10.1.0.0", 16)))
        );
        assert_eq!(ttovirtual("%v6:fd00::/8"), Ok((false, net("fd00::", 8))));
        for bad in [
            "10.0.0.0/8",
            "%v4:",
            "%v4:!",
            "%v4:10.0.0.0/33",
            "%v4:10.0.0.0/8:500",
            "%v6:10.0.0.0/8",
            "%v5:1.2.3.4/32",
        ] {
            assert!(ttovirtual(bad).is_err(), "{bad}");
        }
    }

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn subnet(s: &str) -> Option<Subnet> {
        let (a, p) = s.split_once('/').unwrap();
        Subnet::new(v4(a), p.parse().unwrap())
    }

    #[test]
    fn text_conversions() {
        let v4a = |s: &str| ttoaddr(s, AddrFamily::Ipv4);
        assert_eq!(v4a("10.1.2.3"), Ok(v4("10.1.2.3")));
        assert_eq!(v4a("10.1"), Ok(v4("10.1.0.0")));
        assert_eq!(v4a("0x0a000001"), Ok(v4("10.0.0.1")));
        assert_eq!(v4a(""), Err("empty string"));
        assert_eq!(
            v4a("1.2.x"),
            Err("non-numeric component in dotted-decimal address")
        );
        assert_eq!(
            v4a("1.2.3.4.5"),
            Err("extra garbage on end of dotted-decimal address")
        );
        let v6a = |s: &str| ttoaddr(s, AddrFamily::Ipv6);
        assert_eq!(v6a("::"), Ok(IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
        assert_eq!(v6a("1::2"), Ok("1::2".parse().unwrap()));
        assert_eq!(
            v6a("1:2:3:4:5:6:7:8"),
            Ok("1:2:3:4:5:6:7:8".parse().unwrap())
        );
        assert_eq!(v6a("fe80::"), Ok("fe80::".parse().unwrap()));
        assert_eq!(
            v6a("1::2::3"),
            Err("more than one :: in IPv6 numeric address")
        );
        assert_eq!(v6a("1:2"), Err("IPv6 numeric address ends prematurely"));
        assert_eq!(
            v6a(":1::"),
            Err("illegal leading `:' in IPv6 numeric address")
        );
        assert_eq!(
            v6a("1:"),
            Err("illegal trailing `:' in IPv6 numeric address")
        );
        assert_eq!(
            v6a("12345::"),
            Err("field in IPv6 numeric address longer than 4 hex digits")
        );
        assert_eq!(
            ttosubnet("10.1.2.3/8", AddrFamily::Ipv4),
            Ok(Subnet::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)), 8).unwrap())
        );
        assert_eq!(
            ttosubnet("10.1.2.0/24:80", AddrFamily::Ipv4),
            Ok(subnet("10.1.2.0/24").unwrap())
        );
        assert_eq!(
            ttosubnet("%default", AddrFamily::Ipv6).map(|s| s.to_string()),
            Ok("::/0".to_string())
        );
        assert_eq!(
            ttosubnet("2001:db8::1/ffff", AddrFamily::Ipv6),
            Err("masks are not permitted for IPv6 addresses")
        );
        assert_eq!(ttoprotoport("tcp/80"), Ok((6, 80, false)));
        assert_eq!(ttoprotoport("6/http"), Ok((6, 80, false)));
        assert_eq!(ttoprotoport("0x11/0x6a5"), Ok((17, 1701, false)));
        assert_eq!(ttoprotoport("gre"), Ok((47, 0, false)));
        assert_eq!(ttoprotoport("tcp/%any"), Ok((6, 0, true)));
        assert_eq!(ttoprotoport("tcp/nosuchservice"), Ok((6, 0, false)));
        assert_eq!(
            ttoprotoport("-1/1"),
            Err("<protocol> must be between 0 and 255")
        );
        assert_eq!(ttodata(b"0xab_cd"), Ok(vec![0xab, 0xcd]));
        assert_eq!(ttodata(b"0sDCBA"), Ok(vec![0x0c, 0x20, 0x40]));
        assert_eq!(ttodata(b"0sDA=="), Ok(vec![0x0c]));
        assert_eq!(ttodata(b"0tabc"), Ok(b"abc".to_vec()));
        assert!(ttodata(b"0sDC==").is_err());
        assert!(ttodata(b"0xab_").is_err());
        assert!(ttodata(b"0x").is_err());
        assert!(ttodata(b"0q12").is_err());
    }
}
