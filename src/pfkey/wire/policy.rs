//! Linux `sadb_x_policy` with its `sadb_x_ipsecrequest` list (`<linux/pfkeyv2.h>`,
//! parsed by `af_key.c` `parse_ipsecrequests`).
use super::bytes::{Put, Reader, WORD};
use super::consts::IPSEC_POLICY_IPSEC;
use super::sockaddr::{read_sockaddr, sockaddr_len, write_sockaddr};
use super::{PfkeyError, Result};
use std::net::SocketAddr;

/// Size of `struct sadb_x_ipsecrequest` without the addresses.
pub const IPSECREQUEST_LEN: usize = 16;

/// One `struct sadb_x_ipsecrequest`: a template the kernel matches SAs
/// against.
///
/// ```text
///  0 u16 len (in BYTES, addresses included) | 2 u16 proto (IPPROTO_*)
///  4 u8 mode (IPSEC_MODE_*) | 5 u8 level (IPSEC_LEVEL_*) | 6 u16 reserved1
///  8 u32 reqid | 12 u32 reserved2
/// 16 tunnel mode only: src sockaddr, dst sockaddr (same family, back to
///    back), padded to 8: 2x16 = 32 for IPv4 (len 48), 2x28 = 56 for IPv6 (len 72)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpsecRequest {
    pub proto: u16,
    pub mode: u8,
    pub level: u8,
    /// Linux honours it only with IPSEC_LEVEL_UNIQUE (and only up to
    /// IPSEC_MANUAL_REQID_MAX); with REQUIRE any SA between the endpoints matches.
    pub reqid: u32,
    /// The tunnel's outer source and destination (tunnel mode), with ports 0.
    pub tunnel: Option<(SocketAddr, SocketAddr)>,
}

impl IpsecRequest {
    /// Bytes this request occupies (its `len` field).
    pub fn wire_len(&self) -> usize {
        match &self.tunnel {
            None => IPSECREQUEST_LEN,
            Some((s, d)) => IPSECREQUEST_LEN.saturating_add(
                sockaddr_len(s)
                    .saturating_add(sockaddr_len(d))
                    .div_ceil(WORD)
                    * WORD,
            ),
        }
    }

    fn parse(bytes: &[u8]) -> Result<IpsecRequest> {
        let mut r = Reader::new(bytes, "ipsecrequest");
        let _len = r.u16()?;
        let proto = r.u16()?;
        let mode = r.u8()?;
        let level = r.u8()?;
        r.skip(2)?;
        let reqid = r.u32()?;
        r.skip(4)?;
        let tunnel = if r.is_empty() {
            None
        } else {
            let src = read_sockaddr(&mut r)?;
            let dst = read_sockaddr(&mut r)?;
            if src.is_ipv4() != dst.is_ipv4() {
                return Err(PfkeyError::BadField {
                    what: "ipsecrequest tunnel family mix",
                    value: 0,
                });
            }
            Some((src, dst))
        };
        let rq = IpsecRequest {
            proto,
            mode,
            level,
            reqid,
            tunnel,
        };
        if rq.wire_len() != bytes.len() {
            return Err(PfkeyError::BadLength {
                what: "ipsecrequest",
                len: bytes.len(),
            });
        }
        Ok(rq)
    }

    fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.put_u16(u16::try_from(self.wire_len()).unwrap_or(u16::MAX));
        out.put_u16(self.proto);
        out.put_u8(self.mode);
        out.put_u8(self.level);
        out.put_u16(0);
        out.put_u32(self.reqid);
        out.put_u32(0);
        if let Some((s, d)) = &self.tunnel {
            write_sockaddr(out, s);
            write_sockaddr(out, d);
            out.pad_from(start, WORD);
        }
    }
}

/// Linux `struct sadb_x_policy` (16 bytes) and the requests after it.
///
/// ```text
/// 0 u16 len | 2 u16 exttype | 4 u16 type (IPSEC_POLICY_*) | 6 u8 dir
/// 7 u8 reserved | 8 u32 id | 12 u32 priority | 16 ipsecrequests...
/// ```
/// The requests must fill the rest of the extension exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Policy {
    /// IPSEC_POLICY_DISCARD / NONE / IPSEC.
    pub policy_type: u16,
    /// IPSEC_DIR_INBOUND / OUTBOUND / FWD.
    pub dir: u8,
    /// Kernel-assigned index (0 when adding).
    pub id: u32,
    /// Lower values win in the xfrm lookup.
    pub priority: u32,
    /// Templates in the order the kernel applies them on output: the first is
    /// the innermost (applied first), the last the outermost.
    pub requests: Vec<IpsecRequest>,
}

impl Policy {
    pub fn is_ipsec(&self) -> bool {
        self.policy_type == IPSEC_POLICY_IPSEC
    }

    pub fn parse(body: &[u8]) -> Result<Policy> {
        let mut r = Reader::new(body, "policy extension");
        let policy_type = r.u16()?;
        let dir = r.u8()?;
        r.skip(1)?;
        let id = r.u32()?;
        let priority = r.u32()?;
        let mut requests = Vec::new();
        while !r.is_empty() {
            let rest = r.remaining();
            let len = {
                let mut peek = Reader::new(r.peek(), "ipsecrequest");
                usize::from(peek.u16()?)
            };
            if len < IPSECREQUEST_LEN || len > rest {
                return Err(PfkeyError::BadLength {
                    what: "ipsecrequest",
                    len,
                });
            }
            requests.push(IpsecRequest::parse(r.take(len)?)?);
        }
        Ok(Policy {
            policy_type,
            dir,
            id,
            priority,
            requests,
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u16(self.policy_type);
        out.put_u8(self.dir);
        out.put_u8(0);
        out.put_u32(self.id);
        out.put_u32(self.priority);
        for rq in &self.requests {
            rq.emit(out);
        }
    }
}
