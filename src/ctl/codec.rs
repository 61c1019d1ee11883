//! The byte encoding of a [`WhackMessage`] on the control socket.
//!
//! # Frame
//!
//! ```text
//! offset  size  field
//!      0     4  magic "RSWK"
//!      4     2  version, big-endian (VERSION = 1)
//!      6     4  body length N, big-endian
//!     10     N  body: a sequence of items
//! ```
//!
//! The whole frame is at most [`MAX_FRAME`] (64 KiB) bytes. whack writes
//! exactly one frame per connection; pluto reads [`HEADER_LEN`] bytes, asks
//! [`frame_len`] for the total, reads the rest and calls [`decode`].
//!
//! # Items
//!
//! ```text
//! tag u16 BE | length u16 BE | value (length bytes)
//! ```
//!
//! Value kinds: *flag* (empty value, present = true; absent = false),
//! *u8/u16/u32/u64* (exactly 1/2/4/8 bytes, big-endian), *string* (UTF-8, no
//! NUL, at most [`MAX_STRING`] bytes), *bytes*, *address* (family byte 4 or 6,
//! then 4 or 16 address bytes), *subnet* (address, then the prefix length
//! byte; host bits must be zero), and *nested* (the value is itself a
//! sequence of items, with its own tag space). The message body holds the
//! `MSG_*` tags; [`TAG_CONNECTION`] nests the `CONN_*` tags, which nest the two
//! ends ([`CONN_LEFT`], [`CONN_RIGHT`]) holding `END_*` tags. The tags, with
//! the kind and requirements of each, are in [`super::tags`] (re-exported
//! here).
//!
//! # Decoding rules
//!
//! Every length is checked against what is left of its enclosing value and
//! against the kind of its tag; a tag may appear at most once per sequence;
//! required scalars (see the `CONN_*`/`END_*` docs) must be present; enum and
//! bit-set values must be known ones. An **unknown tag** is skipped if its
//! top bit ([`TAG_OPTIONAL`]) is set and rejected otherwise, so a later
//! version can add fields an older pluto may ignore by giving them tags
//! `>= 0x8000`, and anything else forces a version bump. A different
//! **version** is rejected. Decoding never panics; every failure is a
//! [`DecodeError`].

use std::net::IpAddr;

use super::message::{AddrFamily, Connection, End, Subnet, WhackMessage};
pub use super::tags::*;
use super::RSA_MAX_ENCODING_BYTES;

/// Frame magic.
pub const MAGIC: [u8; 4] = *b"RSWK";
/// Encoding version written and accepted.
pub const VERSION: u16 = 1;
/// Bytes before the body: magic, version, length.
pub const HEADER_LEN: usize = 10;
/// Largest frame, header included.
pub const MAX_FRAME: usize = 64 * 1024;
/// Largest string value.
pub const MAX_STRING: usize = 4096;
/// Why a message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// A string or byte value is longer than the encoding allows.
    ValueTooLong { tag: u16, len: usize },
    /// The frame would exceed [`MAX_FRAME`].
    FrameTooLarge(usize),
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncodeError::ValueTooLong { tag, len } => {
                write!(f, "value of tag {tag:#06x} too long ({len} bytes)")
            }
            EncodeError::FrameTooLarge(n) => {
                write!(f, "message too large ({n} bytes, at most {MAX_FRAME})")
            }
        }
    }
}

impl std::error::Error for EncodeError {}

/// Why bytes are not a valid frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ends before the header, the body or an item is complete.
    Truncated,
    /// The first four bytes are not [`MAGIC`].
    BadMagic,
    /// The frame has another encoding version.
    UnsupportedVersion(u16),
    /// The header announces a frame larger than [`MAX_FRAME`].
    FrameTooLarge(usize),
    /// Bytes follow the announced end of the frame.
    TrailingBytes(usize),
    /// A tag appears twice in one sequence.
    DuplicateTag(u16),
    /// A tag unknown in its sequence, without [`TAG_OPTIONAL`].
    UnknownTag(u16),
    /// A value has the wrong length for its tag's kind.
    BadLength { tag: u16, len: usize },
    /// A string or byte value is longer than allowed.
    TooLong { tag: u16, len: usize },
    /// A string is not UTF-8.
    BadUtf8 { tag: u16 },
    /// A string contains a NUL byte.
    NulInString { tag: u16 },
    /// A value is out of range or inconsistent.
    BadValue { tag: u16, what: &'static str },
    /// A required tag is absent.
    Missing { tag: u16 },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Truncated => write!(f, "truncated message"),
            DecodeError::BadMagic => write!(f, "bad magic"),
            DecodeError::UnsupportedVersion(v) => {
                write!(f, "unsupported version {v} (expected {VERSION})")
            }
            DecodeError::FrameTooLarge(n) => write!(f, "message too large ({n} bytes)"),
            DecodeError::TrailingBytes(n) => write!(f, "{n} bytes after the end of the message"),
            DecodeError::DuplicateTag(t) => write!(f, "duplicate tag {t:#06x}"),
            DecodeError::UnknownTag(t) => write!(f, "unknown tag {t:#06x}"),
            DecodeError::BadLength { tag, len } => {
                write!(f, "tag {tag:#06x}: bad value length {len}")
            }
            DecodeError::TooLong { tag, len } => {
                write!(f, "tag {tag:#06x}: value too long ({len} bytes)")
            }
            DecodeError::BadUtf8 { tag } => write!(f, "tag {tag:#06x}: string is not UTF-8"),
            DecodeError::NulInString { tag } => write!(f, "tag {tag:#06x}: NUL in string"),
            DecodeError::BadValue { tag, what } => write!(f, "tag {tag:#06x}: {what}"),
            DecodeError::Missing { tag } => write!(f, "missing tag {tag:#06x}"),
        }
    }
}

impl std::error::Error for DecodeError {}

// ---------------------------------------------------------------------------
// Encoding.

struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn new() -> Writer {
        Writer { buf: Vec::new() }
    }

    fn put(&mut self, tag: u16, value: &[u8]) -> Result<(), EncodeError> {
        let len = u16::try_from(value.len()).map_err(|_| EncodeError::ValueTooLong {
            tag,
            len: value.len(),
        })?;
        self.buf.extend_from_slice(&tag.to_be_bytes());
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(value);
        Ok(())
    }

    fn flag(&mut self, tag: u16, on: bool) -> Result<(), EncodeError> {
        if on {
            self.put(tag, &[])?;
        }
        Ok(())
    }

    fn u8(&mut self, tag: u16, v: u8) -> Result<(), EncodeError> {
        self.put(tag, &[v])
    }

    fn u16(&mut self, tag: u16, v: u16) -> Result<(), EncodeError> {
        self.put(tag, &v.to_be_bytes())
    }

    fn u32(&mut self, tag: u16, v: u32) -> Result<(), EncodeError> {
        self.put(tag, &v.to_be_bytes())
    }

    fn u64(&mut self, tag: u16, v: u64) -> Result<(), EncodeError> {
        self.put(tag, &v.to_be_bytes())
    }

    fn string(&mut self, tag: u16, s: Option<&str>) -> Result<(), EncodeError> {
        match s {
            Some(s) if s.len() > MAX_STRING => Err(EncodeError::ValueTooLong { tag, len: s.len() }),
            Some(s) => self.put(tag, s.as_bytes()),
            None => Ok(()),
        }
    }

    fn addr(&mut self, tag: u16, a: Option<&IpAddr>) -> Result<(), EncodeError> {
        match a {
            Some(a) => self.put(tag, &addr_bytes(a)),
            None => Ok(()),
        }
    }

    fn subnet(&mut self, tag: u16, s: Option<&Subnet>) -> Result<(), EncodeError> {
        match s {
            Some(s) => {
                let mut v = addr_bytes(&s.addr);
                v.push(s.prefix);
                self.put(tag, &v)
            }
            None => Ok(()),
        }
    }

    fn nested(&mut self, tag: u16, inner: Writer) -> Result<(), EncodeError> {
        self.put(tag, &inner.buf)
    }
}

fn addr_bytes(a: &IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v4) => {
            let mut v = vec![4];
            v.extend_from_slice(&v4.octets());
            v
        }
        IpAddr::V6(v6) => {
            let mut v = vec![6];
            v.extend_from_slice(&v6.octets());
            v
        }
    }
}

fn family_byte(f: AddrFamily) -> u8 {
    match f {
        AddrFamily::Ipv4 => 4,
        AddrFamily::Ipv6 => 6,
    }
}

fn encode_end(e: &End) -> Result<Writer, EncodeError> {
    let mut w = Writer::new();
    w.addr(END_HOST, Some(&e.host))?;
    w.addr(END_NEXTHOP, Some(&e.nexthop))?;
    w.addr(END_SRCIP, e.srcip.as_ref())?;
    w.subnet(END_CLIENT, e.client.as_ref())?;
    w.flag(END_CLIENT_WILDCARD, e.client_wildcard)?;
    w.string(END_VIRT, e.virt.as_deref())?;
    w.string(END_ID, e.id.as_deref())?;
    w.string(END_CERT, e.cert.as_deref())?;
    w.string(END_CA, e.ca.as_deref())?;
    w.string(END_GROUPS, e.groups.as_deref())?;
    w.string(END_UPDOWN, e.updown.as_deref())?;
    w.u16(END_IKEPORT, e.ikeport)?;
    w.u8(END_PROTOCOL, e.protocol)?;
    w.u16(END_PORT, e.port)?;
    w.flag(END_PORT_WILDCARD, e.port_wildcard)?;
    w.flag(END_DNSKEYONDEMAND, e.dns_key_on_demand)?;
    w.flag(END_XAUTH_SERVER, e.xauth_server)?;
    w.flag(END_XAUTH_CLIENT, e.xauth_client)?;
    w.flag(END_MODECFG_SERVER, e.modecfg_server)?;
    w.flag(END_MODECFG_CLIENT, e.modecfg_client)?;
    if let Some(s) = e.sendcert {
        w.u8(END_SENDCERT, s.value())?;
    }
    if let Some(t) = e.certtype {
        w.u64(END_CERTTYPE, t)?;
    }
    Ok(w)
}

fn encode_connection(c: &Connection) -> Result<Writer, EncodeError> {
    let mut w = Writer::new();
    w.nested(CONN_LEFT, encode_end(&c.left)?)?;
    w.nested(CONN_RIGHT, encode_end(&c.right)?)?;
    w.u64(CONN_POLICY, c.policy)?;
    w.u8(CONN_ADDR_FAMILY, family_byte(c.addr_family))?;
    w.u8(CONN_TUNNEL_ADDR_FAMILY, family_byte(c.tunnel_addr_family))?;
    w.u64(CONN_IKE_LIFETIME, c.ike_lifetime)?;
    w.u64(CONN_IPSEC_LIFETIME, c.ipsec_lifetime)?;
    w.u64(CONN_REKEY_MARGIN, c.rekey_margin)?;
    w.u64(CONN_REKEY_FUZZ, c.rekey_fuzz)?;
    w.u64(CONN_KEYING_TRIES, c.keying_tries)?;
    w.u64(CONN_DPD_DELAY, c.dpd_delay)?;
    w.u64(CONN_DPD_TIMEOUT, c.dpd_timeout)?;
    w.u8(CONN_DPD_ACTION, c.dpd_action.value())?;
    w.flag(CONN_FORCEENCAPS, c.force_encaps)?;
    w.string(CONN_IKE, c.ike.as_deref())?;
    w.string(CONN_ESP, c.esp.as_deref())?;
    w.string(CONN_PFSGROUP, c.pfsgroup.as_deref())?;
    Ok(w)
}

/// Encodes `msg` as one frame.
pub fn encode(msg: &WhackMessage) -> Result<Vec<u8>, EncodeError> {
    let mut w = Writer::new();
    w.string(MSG_NAME, msg.name.as_deref())?;
    if let Some(d) = msg.debug {
        w.u64(MSG_DEBUG, d)?;
    }
    w.string(MSG_MYID, msg.myid.as_deref())?;
    w.flag(MSG_DELETE, msg.delete)?;
    if let Some(n) = msg.delete_state {
        w.u64(MSG_DELETESTATE, n)?;
    }
    w.addr(MSG_CRASH, msg.crash.as_ref())?;
    if let Some(c) = &msg.connection {
        w.nested(TAG_CONNECTION, encode_connection(c)?)?;
    }
    w.flag(MSG_LISTEN, msg.listen)?;
    w.flag(MSG_UNLISTEN, msg.unlisten)?;
    if msg.reread != 0 {
        w.u8(MSG_REREAD, msg.reread)?;
    }
    if msg.list != 0 {
        w.u32(MSG_LIST, msg.list)?;
    }
    w.flag(MSG_UTC, msg.utc)?;
    w.flag(MSG_PURGEOCSP, msg.purge_ocsp)?;
    if let Some(k) = &msg.key {
        w.string(MSG_KEYID, Some(&k.keyid))?;
        w.flag(MSG_ADDKEY, k.add)?;
        if let Some(key) = &k.pubkey_rsa {
            if key.len() > RSA_MAX_ENCODING_BYTES {
                return Err(EncodeError::ValueTooLong {
                    tag: MSG_PUBKEYRSA,
                    len: key.len(),
                });
            }
            w.put(MSG_PUBKEYRSA, key)?;
        }
    }
    w.flag(MSG_ROUTE, msg.route)?;
    w.flag(MSG_UNROUTE, msg.unroute)?;
    w.flag(MSG_INITIATE, msg.initiate)?;
    w.flag(MSG_ASYNC, msg.asynchronous)?;
    if let Some(o) = &msg.oppo_initiate {
        w.addr(MSG_OPPO_HERE, Some(&o.my_client))?;
        w.addr(MSG_OPPO_THERE, Some(&o.peer_client))?;
    }
    w.flag(MSG_TERMINATE, msg.terminate)?;
    w.flag(MSG_STATUS, msg.status)?;
    w.flag(MSG_SHUTDOWN, msg.shutdown)?;
    w.flag(MSG_STATUS_JSON, msg.status_json)?;
    w.flag(MSG_TRAFFIC, msg.traffic_status)?;

    let total = HEADER_LEN + w.buf.len();
    if total > MAX_FRAME {
        return Err(EncodeError::FrameTooLarge(total));
    }
    let body_len = u32::try_from(w.buf.len()).map_err(|_| EncodeError::FrameTooLarge(total))?;
    let mut frame = Vec::with_capacity(total);
    frame.extend_from_slice(&MAGIC);
    frame.extend_from_slice(&VERSION.to_be_bytes());
    frame.extend_from_slice(&body_len.to_be_bytes());
    frame.extend_from_slice(&w.buf);
    Ok(frame)
}

// ---------------------------------------------------------------------------
// Decoding.

/// Checks the header bytes available so far. `Ok(None)`: fewer than
/// [`HEADER_LEN`] bytes and nothing wrong yet; `Ok(Some(n))`: the whole frame
/// is `n` bytes. Lets pluto reject garbage before reading a body.
pub fn frame_len(prefix: &[u8]) -> Result<Option<usize>, DecodeError> {
    let m = prefix.len().min(MAGIC.len());
    if prefix.get(..m) != MAGIC.get(..m) {
        return Err(DecodeError::BadMagic);
    }
    let Some(v) = prefix.get(4..6).and_then(|v| <[u8; 2]>::try_from(v).ok()) else {
        return Ok(None);
    };
    let version = u16::from_be_bytes(v);
    if version != VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let Some(l) = prefix.get(6..10).and_then(|l| <[u8; 4]>::try_from(l).ok()) else {
        return Ok(None);
    };
    let body = u32::from_be_bytes(l) as usize;
    let total = HEADER_LEN.saturating_add(body);
    if total > MAX_FRAME {
        return Err(DecodeError::FrameTooLarge(total));
    }
    Ok(Some(total))
}

/// Decodes exactly one frame (no bytes before or after it).
pub fn decode(frame: &[u8]) -> Result<WhackMessage, DecodeError> {
    if frame.len() > MAX_FRAME {
        return Err(DecodeError::FrameTooLarge(frame.len()));
    }
    let total = frame_len(frame)?.ok_or(DecodeError::Truncated)?;
    if frame.len() < total {
        return Err(DecodeError::Truncated);
    }
    if frame.len() > total {
        return Err(DecodeError::TrailingBytes(frame.len() - total));
    }
    let body = frame.get(HEADER_LEN..).ok_or(DecodeError::Truncated)?;
    super::decode::decode_message(body)
}
