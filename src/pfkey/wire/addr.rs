//! `sadb_address`, `sadb_ident`, and the small KLIPS `sadb_protocol`.
use super::bytes::{Put, Reader};
use super::sockaddr::{read_sockaddr, write_sockaddr};
use super::{PfkeyError, Result};
use std::net::{IpAddr, SocketAddr};

/// `struct sadb_address` (8 bytes) followed by a sockaddr padded to 8 bytes:
///
/// ```text
/// 0 u16 len | 2 u16 exttype | 4 u8 proto | 5 u8 prefixlen | 6 u16 reserved
/// 8 sockaddr_in (16)                     -> 24 bytes, len 3
/// 8 sockaddr_in6 (28) + 4 bytes padding  -> 40 bytes, len 5
/// ```
/// Used for ADDRESS_SRC/DST/PROXY, X_NAT_T_OA and the KLIPS flow/mask/DST2
/// extensions. The length must be exactly 3 or 5 words as the family says
/// (Linux `verify_address_len`), and the prefix at most 32 / 128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Address {
    /// Upper-layer protocol of a selector (IPSEC_ULPROTO_ANY = 255 for any).
    pub proto: u8,
    /// Prefix length of a selector; SA messages use the full length (Linux)
    /// or 0 (KLIPS requires 0).
    pub prefixlen: u8,
    /// Address and port (the port is a selector port; 0 = any).
    pub addr: SocketAddr,
}

impl Address {
    /// A host address: full prefix, any protocol, port 0 (how `setkey`
    /// writes SA endpoints).
    pub fn host(ip: IpAddr) -> Address {
        Address {
            proto: super::consts::IPSEC_ULPROTO_ANY,
            prefixlen: full_prefix(ip),
            addr: SocketAddr::new(ip, 0),
        }
    }

    pub fn ip(&self) -> IpAddr {
        self.addr.ip()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn parse(body: &[u8]) -> Result<Address> {
        let mut r = Reader::new(body, "address extension");
        let proto = r.u8()?;
        let prefixlen = r.u8()?;
        r.skip(2)?;
        let addr = read_sockaddr(&mut r)?;
        let (want, max_prefix) = match addr {
            SocketAddr::V4(_) => (20, 32),
            SocketAddr::V6(_) => (36, 128),
        };
        if body.len() != want {
            return Err(PfkeyError::BadLength {
                what: "address extension",
                len: body.len().saturating_add(4),
            });
        }
        if prefixlen > max_prefix {
            return Err(PfkeyError::BadField {
                what: "prefix length",
                value: u64::from(prefixlen),
            });
        }
        Ok(Address {
            proto,
            prefixlen,
            addr,
        })
    }

    /// Appends the body; the caller pads to 8 bytes.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u8(self.proto);
        out.put_u8(self.prefixlen);
        out.put_u16(0);
        write_sockaddr(out, &self.addr);
    }
}

/// 32 for IPv4, 128 for IPv6.
pub fn full_prefix(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// `struct sadb_ident` (16 bytes) followed by a NUL-terminated string padded
/// to 8 bytes: 4 u16 type | 6 u16 reserved | 8 u64 id | 16 string...
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    /// SADB_IDENTTYPE_*.
    pub ident_type: u16,
    pub id: u64,
    /// Everything after the fixed part, padding included (a multiple of 8
    /// bytes after a parse; zero-padded on emit).
    pub data: Vec<u8>,
}

impl Identity {
    /// An identity string (NUL-terminated and padded on emit).
    pub fn text(ident_type: u16, text: &str) -> Identity {
        let mut data = text.as_bytes().to_vec();
        data.push(0);
        Identity {
            ident_type,
            id: 0,
            data,
        }
    }

    /// The string up to its first NUL.
    pub fn name(&self) -> &[u8] {
        let end = self
            .data
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.data.len());
        self.data.get(..end).unwrap_or(&self.data)
    }

    pub fn parse(body: &[u8]) -> Result<Identity> {
        let mut r = Reader::new(body, "identity extension");
        let ident_type = r.u16()?;
        r.skip(2)?;
        let id = r.u64()?;
        Ok(Identity {
            ident_type,
            id,
            data: r.rest().to_vec(),
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u16(self.ident_type);
        out.put_u16(0);
        out.put_u64(self.id);
        out.extend_from_slice(&self.data);
    }
}

/// KLIPS `struct sadb_protocol` (8 bytes):
/// 4 u8 proto | 5 u8 direction | 6 u8 flags | 7 u8 reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Protocol {
    pub proto: u8,
    pub direction: u8,
    pub flags: u8,
}

impl Protocol {
    pub fn parse(body: &[u8]) -> Result<Protocol> {
        let mut r = Reader::new(body, "protocol extension");
        let p = Protocol {
            proto: r.u8()?,
            direction: r.u8()?,
            flags: r.u8()?,
        };
        r.skip(1)?;
        r.finish()?;
        Ok(p)
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u8(self.proto);
        out.put_u8(self.direction);
        out.put_u8(self.flags);
        out.put_u8(0);
    }
}
