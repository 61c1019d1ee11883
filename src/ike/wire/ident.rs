//! Identification payload with the IPsec DOI ID types (RFC 2407 §4.6.2).
use super::Result;
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
    pub fn id_type(&self) -> u8 { todo!() }
    /// The identification data bytes (what follows the 4-byte DOI header).
    pub fn data(&self) -> Vec<u8> { todo!() }
}

impl core::fmt::Display for Identity {
    /// Openswan-style text: `192.0.2.1`, `10.0.0.0/24` (or `addr/mask` when the mask
    /// is not contiguous), `a-b` for ranges, `@host`, `user@host`, `@#hex` for KEY_ID,
    /// DN bytes as `@#hex` too for now. Non-printable bytes of names escaped as `\xNN`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result { todo!() }
}

impl IdPayload {
    /// Parses an ID body. Fixed lengths: IPv4 4, IPv6 16, subnets/ranges twice that;
    /// names at least 1 byte; unknown ID type -> BadField "ID type".
    pub fn parse(body: &[u8]) -> Result<IdPayload> { todo!() }
    pub fn emit(&self, out: &mut Vec<u8>) { todo!() }
}
