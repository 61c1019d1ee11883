//! The NAT traversal payloads (RFC 3947 §3.2, §5.2): NAT-D, an opaque hash,
//! and NAT-OA, an original address in the layout of an ID payload's
//! address types.
use super::bytes::Reader;
use super::ident::id_type;
use super::{Result, WireError};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// NAT-OA: the address a peer had before a NAT rewrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatOa(pub IpAddr);

impl NatOa {
    /// ID type (IPv4 or IPv6 address), three reserved bytes, the address.
    pub fn parse(body: &[u8]) -> Result<NatOa> {
        let mut r = Reader::new(body, "NAT-OA");
        let ty = r.u8()?;
        let _reserved = r.take(3)?;
        let addr = match ty {
            id_type::IPV4_ADDR => IpAddr::V4(Ipv4Addr::from(r.fixed::<4>()?)),
            id_type::IPV6_ADDR => IpAddr::V6(Ipv6Addr::from(r.fixed::<16>()?)),
            other => {
                return Err(WireError::BadField {
                    what: "NAT-OA ID type",
                    value: u32::from(other),
                })
            }
        };
        if !r.is_empty() {
            return Err(WireError::BadLength {
                what: "NAT-OA",
                len: body.len(),
            });
        }
        Ok(NatOa(addr))
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        match self.0 {
            IpAddr::V4(a) => {
                out.extend_from_slice(&[id_type::IPV4_ADDR, 0, 0, 0]);
                out.extend_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                out.extend_from_slice(&[id_type::IPV6_ADDR, 0, 0, 0]);
                out.extend_from_slice(&a.octets());
            }
        }
    }

    pub fn to_bytes(self) -> Vec<u8> {
        let mut v = Vec::with_capacity(20);
        self.emit(&mut v);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nat_oa_round_trips_and_refuses_bad_bodies() {
        for a in ["192.0.2.7", "2001:db8::9"] {
            let oa = NatOa(a.parse().unwrap());
            let b = oa.to_bytes();
            assert_eq!(NatOa::parse(&b), Ok(oa));
            for cut in 0..b.len() {
                assert!(NatOa::parse(&b[..cut]).is_err(), "{a} cut at {cut}");
            }
            let mut long = b.clone();
            long.push(0);
            assert!(NatOa::parse(&long).is_err());
        }
        // An FQDN is no address.
        assert!(NatOa::parse(&[2, 0, 0, 0, b'a', b'b', b'c', b'd']).is_err());
        // IPv4 type with an IPv6-sized address.
        let mut wrong = vec![1, 0, 0, 0];
        wrong.extend_from_slice(&[0; 16]);
        assert!(NatOa::parse(&wrong).is_err());
    }
}
