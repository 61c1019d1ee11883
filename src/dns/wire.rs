//! DNS messages (RFC 1035): the query a stub resolver sends and a checked
//! reading of the answer.  Everything from the wire is bounded: names by
//! RFC 1035's 255 bytes, compression pointers only backwards (no loop can
//! be built), every count and length against what the message holds.

use std::net::{Ipv4Addr, Ipv6Addr};

pub const TYPE_A: u16 = 1;
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_TXT: u16 = 16;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_IPSECKEY: u16 = 45;
const CLASS_IN: u16 = 1;
const HEADER: usize = 12;
const MAX_NAME: usize = 255;

/// What is wrong with a name to look up or a message received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsError(pub String);

impl std::fmt::Display for DnsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(m: &str) -> Result<T, DnsError> {
    Err(DnsError(m.to_string()))
}

/// An IPSECKEY record (RFC 4025).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpsecKey {
    pub precedence: u8,
    pub gateway: Gateway,
    /// 1 DSA, 2 RSA (RFC 4025 §2.4).
    pub algorithm: u8,
    pub key: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gateway {
    None,
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rdata {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(String),
    /// The character-strings of a TXT record.
    Txt(Vec<Vec<u8>>),
    IpsecKey(IpsecKey),
    Other(u16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The owner name, lower case, without the final dot.
    pub name: String,
    pub data: Rdata,
}

/// What a server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Answers(Vec<Record>),
    /// NXDOMAIN: the name does not exist.
    NoSuchName,
    /// The server failed or refused (the RCODE).
    Failed(u8),
    /// TC: the answer did not fit in UDP.
    Truncated,
}

/// `name` as lower-case labels, checked: 1 to 63 bytes each of letters,
/// digits, `-` and `_`, 253 characters in all; a final dot is allowed.
pub fn check_name(name: &str) -> Result<String, DnsError> {
    let n = name.strip_suffix('.').unwrap_or(name);
    if n.is_empty() || n.len() > 253 {
        return err("a host name has 1 to 253 characters");
    }
    for label in n.split('.') {
        if label.is_empty() || label.len() > 63 {
            return err("each label of a host name has 1 to 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return err("a host name has only letters, digits, '-', '_' and dots");
        }
    }
    Ok(n.to_ascii_lowercase())
}

/// A recursive query for `name` (checked) of type `qtype`, class IN.
pub fn query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, DnsError> {
    let name = check_name(name)?;
    let mut m = Vec::with_capacity(HEADER + name.len() + 6);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; one question
    for label in name.split('.') {
        m.push(label.len() as u8); // at most 63: checked
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(m)
}

fn u16_at(m: &[u8], at: usize) -> Result<u16, DnsError> {
    match m.get(at..at + 2) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => err("message truncated"),
    }
}

/// The name at `at` in `m` and where the bytes after it begin.
fn read_name(m: &[u8], at: usize) -> Result<(String, usize), DnsError> {
    let mut name = String::new();
    let (mut pos, mut end) = (at, None);
    loop {
        let len = *m
            .get(pos)
            .ok_or_else(|| DnsError("name runs past the message".into()))?;
        match len {
            0 => break,
            l if l & 0xc0 == 0xc0 => {
                let target = usize::from(u16_at(m, pos)? & 0x3fff);
                // Only backwards, to a label before this one: no loops.
                if target >= pos {
                    return err("compression pointer does not point backwards");
                }
                end.get_or_insert(pos + 2);
                pos = target;
            }
            l if l & 0xc0 != 0 => return err("unknown label type"),
            l => {
                let l = usize::from(l);
                let label = m
                    .get(pos + 1..pos + 1 + l)
                    .ok_or_else(|| DnsError("label runs past the message".into()))?;
                if !name.is_empty() {
                    name.push('.');
                }
                for &b in label {
                    if b.is_ascii_graphic() && b != b'.' {
                        name.push(char::from(b.to_ascii_lowercase()));
                    } else {
                        name.push_str(&format!("\\{b:03}"));
                    }
                }
                if name.len() > MAX_NAME {
                    return err("name longer than 255 bytes");
                }
                pos += 1 + l;
            }
        }
    }
    Ok((name, end.unwrap_or(pos + 1)))
}

/// Reads the answer to query `id` for `name` (as [`check_name`] gives it)
/// of type `qtype`: the question must be echoed, every record must lie
/// within the message.
pub fn parse_response(m: &[u8], id: u16, name: &str, qtype: u16) -> Result<Response, DnsError> {
    if m.len() < HEADER {
        return err("message shorter than a DNS header");
    }
    if u16_at(m, 0)? != id {
        return err("answer to another query (ID)");
    }
    let (flags, rcode) = (m[2], m[3] & 0x0f);
    if flags & 0x80 == 0 || flags & 0x78 != 0 {
        return err("not an answer to a standard query");
    }
    if flags & 0x02 != 0 {
        return Ok(Response::Truncated);
    }
    if u16_at(m, 4)? != 1 {
        return err("answer without exactly one question");
    }
    let (qname, mut pos) = read_name(m, HEADER)?;
    if qname != name || u16_at(m, pos)? != qtype || u16_at(m, pos + 2)? != CLASS_IN {
        return err("answer to another question");
    }
    pos += 4;
    match rcode {
        0 => {}
        3 => return Ok(Response::NoSuchName),
        r => return Ok(Response::Failed(r)),
    }
    let count = u16_at(m, 6)?;
    let mut out = Vec::new();
    for _ in 0..count {
        let (owner, p) = read_name(m, pos)?;
        let rtype = u16_at(m, p)?;
        let class = u16_at(m, p + 2)?;
        let len = usize::from(u16_at(m, p + 8)?);
        let start = p + 10;
        let data = m
            .get(start..start + len)
            .ok_or_else(|| DnsError("record data runs past the message".into()))?;
        pos = start + len;
        if class != CLASS_IN {
            continue;
        }
        let data = match rtype {
            TYPE_A => Rdata::A(Ipv4Addr::from(
                <[u8; 4]>::try_from(data)
                    .map_err(|_| DnsError("A record is not 4 bytes".into()))?,
            )),
            TYPE_AAAA => Rdata::Aaaa(Ipv6Addr::from(
                <[u8; 16]>::try_from(data)
                    .map_err(|_| DnsError("AAAA record is not 16 bytes".into()))?,
            )),
            TYPE_CNAME => {
                let (target, after) = read_name(m, start)?;
                if after != pos {
                    return err("CNAME record length does not match its name");
                }
                Rdata::Cname(target)
            }
            TYPE_TXT => Rdata::Txt(txt(data)?),
            TYPE_IPSECKEY => Rdata::IpsecKey(ipseckey(data)?),
            other => Rdata::Other(other),
        };
        out.push(Record { name: owner, data });
    }
    Ok(Response::Answers(out))
}

fn txt(mut d: &[u8]) -> Result<Vec<Vec<u8>>, DnsError> {
    let mut v = Vec::new();
    while let Some((&l, rest)) = d.split_first() {
        let s = rest
            .get(..usize::from(l))
            .ok_or_else(|| DnsError("TXT string runs past its record".into()))?;
        v.push(s.to_vec());
        d = &rest[usize::from(l)..];
    }
    Ok(v)
}

/// RFC 4025 §2: precedence, gateway type, algorithm, gateway, key.
fn ipseckey(d: &[u8]) -> Result<IpsecKey, DnsError> {
    let short = || DnsError("IPSECKEY record too short".into());
    let head = d.get(..3).ok_or_else(short)?;
    let (precedence, gw_type, algorithm) = (head[0], head[1], head[2]);
    let rest = &d[3..];
    let (gateway, used) = match gw_type {
        0 => (Gateway::None, 0),
        1 => {
            let a: [u8; 4] = rest
                .get(..4)
                .and_then(|a| a.try_into().ok())
                .ok_or_else(short)?;
            (Gateway::V4(Ipv4Addr::from(a)), 4)
        }
        2 => {
            let a: [u8; 16] = rest
                .get(..16)
                .and_then(|a| a.try_into().ok())
                .ok_or_else(short)?;
            (Gateway::V6(Ipv6Addr::from(a)), 16)
        }
        3 => {
            // Never compressed (RFC 4025 §2.5): labels up to the root,
            // within the record.
            let mut name = Vec::new();
            let mut pos = 0;
            loop {
                let l = usize::from(*rest.get(pos).ok_or_else(short)?);
                if l == 0 {
                    break;
                }
                if l > 63 {
                    return err("IPSECKEY gateway name is compressed or malformed");
                }
                let label = rest.get(pos + 1..pos + 1 + l).ok_or_else(short)?;
                name.push(String::from_utf8_lossy(label).to_ascii_lowercase());
                pos += 1 + l;
                if pos > MAX_NAME {
                    return err("IPSECKEY gateway name longer than 255 bytes");
                }
            }
            (Gateway::Name(name.join(".")), pos + 1)
        }
        _ => return err("IPSECKEY gateway type unknown"),
    };
    Ok(IpsecKey {
        precedence,
        gateway,
        algorithm,
        key: rest[used..].to_vec(),
    })
}

/// The addresses `records` give for `name`, through at most 8 CNAMEs
/// within them: IPv4 ones (`v6` false) or IPv6 ones.
pub fn addresses(records: &[Record], name: &str, v6: bool) -> Vec<std::net::IpAddr> {
    let mut name = name.to_string();
    for _ in 0..8 {
        let here: Vec<&Record> = records.iter().filter(|r| r.name == name).collect();
        let addrs: Vec<std::net::IpAddr> = here
            .iter()
            .filter_map(|r| match r.data {
                Rdata::A(a) if !v6 => Some(a.into()),
                Rdata::Aaaa(a) if v6 => Some(a.into()),
                _ => None,
            })
            .collect();
        if !addrs.is_empty() {
            return addrs;
        }
        match here.iter().find_map(|r| match &r.data {
            Rdata::Cname(t) => Some(t.clone()),
            _ => None,
        }) {
            Some(t) => name = t,
            None => break,
        }
    }
    Vec::new()
}
