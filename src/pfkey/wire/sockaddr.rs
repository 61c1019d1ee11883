//! `struct sockaddr_in` / `struct sockaddr_in6` as Linux lays them out.
//!
//! ```text
//! sockaddr_in  (16): u16 family=2 (host order) | u16 port (BE) | 4 addr | 8 zero
//! sockaddr_in6 (28): u16 family=10 (host order) | u16 port (BE) | u32 flowinfo (BE)
//!                    | 16 addr | u32 scope_id (host order)
//! ```
use super::bytes::{Put, Reader};
use super::consts::{AF_INET, AF_INET6};
use super::{PfkeyError, Result};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

pub const SOCKADDR_IN_LEN: usize = 16;
pub const SOCKADDR_IN6_LEN: usize = 28;

/// Bytes `sockaddr` occupies (16 or 28), before any padding.
pub fn sockaddr_len(sa: &SocketAddr) -> usize {
    match sa {
        SocketAddr::V4(_) => SOCKADDR_IN_LEN,
        SocketAddr::V6(_) => SOCKADDR_IN6_LEN,
    }
}

/// Reads one sockaddr; the family decides its length. The 8 `sin_zero`
/// bytes are not checked.
pub(crate) fn read_sockaddr(r: &mut Reader<'_>) -> Result<SocketAddr> {
    let family = r.u16()?;
    match family {
        AF_INET => {
            let port = r.u16_be()?;
            let ip = Ipv4Addr::from(r.array::<4>()?);
            r.skip(8)?;
            Ok(SocketAddr::V4(SocketAddrV4::new(ip, port)))
        }
        AF_INET6 => {
            let port = r.u16_be()?;
            let flowinfo = r.u32_be()?;
            let ip = Ipv6Addr::from(r.array::<16>()?);
            let scope_id = r.u32()?;
            Ok(SocketAddr::V6(SocketAddrV6::new(
                ip, port, flowinfo, scope_id,
            )))
        }
        other => Err(PfkeyError::BadField {
            what: "address family",
            value: u64::from(other),
        }),
    }
}

/// Appends one sockaddr (16 or 28 bytes, no padding).
pub(crate) fn write_sockaddr(out: &mut Vec<u8>, sa: &SocketAddr) {
    match sa {
        SocketAddr::V4(v4) => {
            out.put_u16(AF_INET);
            out.put_u16_be(v4.port());
            out.extend_from_slice(&v4.ip().octets());
            out.put_zeros(8);
        }
        SocketAddr::V6(v6) => {
            out.put_u16(AF_INET6);
            out.put_u16_be(v6.port());
            out.put_u32_be(v6.flowinfo());
            out.extend_from_slice(&v6.ip().octets());
            out.put_u32(v6.scope_id());
        }
    }
}
