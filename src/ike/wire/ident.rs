//! Identification payload with the IPsec DOI ID types (RFC 2407 §4.6.2).
use super::bytes::Reader;
use super::{Result, WireError};
use std::net::{Ipv4Addr, Ipv6Addr};

pub mod id_type {
    pub const IPV4_ADDR: u8 = 1;
    pub const FQDN: u8 = 2;
    pub const USER_FQDN: u8 = 3;
    pub const IPV4_ADDR_SUBNET: u8 = 4;
    pub const IPV6_ADDR: u8 = 5;
    pub const IPV6_ADDR_SUBNET: u8 = 6;
    pub const IPV4_ADDR_RANGE: u8 = 7;
    pub const IPV6_ADDR_RANGE: u8 = 8;
    pub const DER_ASN1_DN: u8 = 9;
    pub const DER_ASN1_GN: u8 = 10;
    pub const KEY_ID: u8 = 11;
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    /// Address and mask as sent (the mask need not be contiguous on the wire).
    Ipv4Subnet(Ipv4Addr, Ipv4Addr),
    Ipv6Subnet(Ipv6Addr, Ipv6Addr),
    Ipv4Range(Ipv4Addr, Ipv4Addr),
    Ipv6Range(Ipv6Addr, Ipv6Addr),
    Fqdn(Vec<u8>),
    UserFqdn(Vec<u8>),
    DerAsn1Dn(Vec<u8>),
    DerAsn1Gn(Vec<u8>),
    KeyId(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPayload {
    /// IP protocol (0 = any) and port (0 = any) from the DOI-specific field.
    pub protocol: u8,
    pub port: u16,
    pub id: Identity,
}

impl Identity {
    pub fn id_type(&self) -> u8 {
        match self {
            Identity::Ipv4(_) => id_type::IPV4_ADDR,
            Identity::Ipv6(_) => id_type::IPV6_ADDR,
            Identity::Ipv4Subnet(..) => id_type::IPV4_ADDR_SUBNET,
            Identity::Ipv6Subnet(..) => id_type::IPV6_ADDR_SUBNET,
            Identity::Ipv4Range(..) => id_type::IPV4_ADDR_RANGE,
            Identity::Ipv6Range(..) => id_type::IPV6_ADDR_RANGE,
            Identity::Fqdn(_) => id_type::FQDN,
            Identity::UserFqdn(_) => id_type::USER_FQDN,
            Identity::DerAsn1Dn(_) => id_type::DER_ASN1_DN,
            Identity::DerAsn1Gn(_) => id_type::DER_ASN1_GN,
            Identity::KeyId(_) => id_type::KEY_ID,
        }
    }
    /// The identification data bytes (what follows the 4-byte DOI header).
    pub fn data(&self) -> Vec<u8> {
        match self {
            Identity::Ipv4(a) => a.octets().to_vec(),
            Identity::Ipv6(a) => a.octets().to_vec(),
            Identity::Ipv4Subnet(a, b) | Identity::Ipv4Range(a, b) => {
                let mut v = a.octets().to_vec();
                v.extend_from_slice(&b.octets());
                v
            }
            Identity::Ipv6Subnet(a, b) | Identity::Ipv6Range(a, b) => {
                let mut v = a.octets().to_vec();
                v.extend_from_slice(&b.octets());
                v
            }
            Identity::Fqdn(b)
            | Identity::UserFqdn(b)
            | Identity::DerAsn1Dn(b)
            | Identity::DerAsn1Gn(b)
            | Identity::KeyId(b) => b.clone(),
        }
    }
}

impl core::fmt::Display for Identity {
    /// Openswan-style text: `192.0.2.1`, `10.0.0.0/24` (or `addr/mask` when the mask
    /// is not contiguous), `a-b` for ranges, `@host`, `user@host`, `@#hex` for KEY_ID,
    /// DN bytes as `@#hex` too for now. Non-printable bytes of names escaped as `\xNN`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Identity::Ipv4(a) => write!(f, "{a}"),
            Identity::Ipv6(a) => write!(f, "{a}"),
            Identity::Ipv4Subnet(a, m) => match prefix_len(&m.octets()) {
                Some(p) => write!(f, "{a}/{p}"),
                None => write!(f, "{a}/{m}"),
            },
            Identity::Ipv6Subnet(a, m) => match prefix_len(&m.octets()) {
                Some(p) => write!(f, "{a}/{p}"),
                None => write!(f, "{a}/{m}"),
            },
            Identity::Ipv4Range(a, b) => write!(f, "{a}-{b}"),
            Identity::Ipv6Range(a, b) => write!(f, "{a}-{b}"),
            Identity::Fqdn(n) => {
                f.write_str("@")?;
                write_escaped(f, n)
            }
            Identity::UserFqdn(n) => write_escaped(f, n),
            Identity::KeyId(b) | Identity::DerAsn1Dn(b) | Identity::DerAsn1Gn(b) => {
                f.write_str("@#")?;
                b.iter().try_for_each(|x| write!(f, "{x:02x}"))
            }
        }
    }
}

/// The prefix length of a contiguous mask (ones then zeros), else None.
fn prefix_len(mask: &[u8]) -> Option<u32> {
    let mut ones = 0u32;
    let mut seen_zero = false;
    for &b in mask {
        if seen_zero {
            if b != 0 {
                return None;
            }
        } else if b == 0xff {
            ones = ones.saturating_add(8);
        } else {
            // b.leading_ones() ones, then the rest of the byte must be zero.
            let lead = b.leading_ones();
            if b.checked_shl(lead).unwrap_or(0) != 0 {
                return None;
            }
            ones = ones.saturating_add(lead);
            seen_zero = true;
        }
    }
    Some(ones)
}

/// Printable ASCII as is, everything else as `\xNN`.
fn write_escaped(f: &mut core::fmt::Formatter<'_>, name: &[u8]) -> core::fmt::Result {
    use core::fmt::Write;
    for &b in name {
        if (0x20..0x7f).contains(&b) {
            f.write_char(char::from(b))?;
        } else {
            write!(f, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

impl IdPayload {
    /// Parses an ID body. Fixed lengths: IPv4 4, IPv6 16, subnets/ranges twice that;
    /// names at least 1 byte; unknown ID type -> BadField "ID type".
    pub fn parse(body: &[u8]) -> Result<IdPayload> {
        let mut r = Reader::new(body, "ID");
        let ty = r.u8()?;
        let protocol = r.u8()?;
        let port = r.u16()?;
        let data = r.rest();
        let bad_len = || WireError::BadField {
            what: "ID data length",
            value: u32::try_from(data.len()).unwrap_or(u32::MAX),
        };
        let v4 = |d: &[u8]| -> Result<[u8; 4]> { d.try_into().map_err(|_| bad_len()) };
        let v6 = |d: &[u8]| -> Result<[u8; 16]> { d.try_into().map_err(|_| bad_len()) };
        let pair4 = || -> Result<(Ipv4Addr, Ipv4Addr)> {
            let a = v4(data.get(..4).ok_or_else(bad_len)?)?;
            let b = v4(data.get(4..).ok_or_else(bad_len)?)?;
            Ok((Ipv4Addr::from(a), Ipv4Addr::from(b)))
        };
        let pair6 = || -> Result<(Ipv6Addr, Ipv6Addr)> {
            let a = v6(data.get(..16).ok_or_else(bad_len)?)?;
            let b = v6(data.get(16..).ok_or_else(bad_len)?)?;
            Ok((Ipv6Addr::from(a), Ipv6Addr::from(b)))
        };
        let name = || -> Result<Vec<u8>> {
            if data.is_empty() {
                Err(bad_len())
            } else {
                Ok(data.to_vec())
            }
        };
        let id = match ty {
            id_type::IPV4_ADDR => Identity::Ipv4(Ipv4Addr::from(v4(data)?)),
            id_type::IPV6_ADDR => Identity::Ipv6(Ipv6Addr::from(v6(data)?)),
            id_type::IPV4_ADDR_SUBNET => {
                let (a, m) = pair4()?;
                Identity::Ipv4Subnet(a, m)
            }
            id_type::IPV6_ADDR_SUBNET => {
                let (a, m) = pair6()?;
                Identity::Ipv6Subnet(a, m)
            }
            id_type::IPV4_ADDR_RANGE => {
                let (a, b) = pair4()?;
                Identity::Ipv4Range(a, b)
            }
            id_type::IPV6_ADDR_RANGE => {
                let (a, b) = pair6()?;
                Identity::Ipv6Range(a, b)
            }
            id_type::FQDN => Identity::Fqdn(name()?),
            id_type::USER_FQDN => Identity::UserFqdn(name()?),
            id_type::DER_ASN1_DN => Identity::DerAsn1Dn(name()?),
            id_type::DER_ASN1_GN => Identity::DerAsn1Gn(name()?),
            id_type::KEY_ID => Identity::KeyId(name()?),
            other => {
                return Err(WireError::BadField {
                    what: "ID type",
                    value: u32::from(other),
                })
            }
        };
        Ok(IdPayload { protocol, port, id })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.id.id_type());
        out.push(self.protocol);
        out.extend_from_slice(&self.port.to_be_bytes());
        out.extend_from_slice(&self.id.data());
    }
}
