//! The few rtnetlink messages an XFRM interface needs, built and parsed as
//! plain bytes (no I/O here): a link dump request, RTM_NEWLINK for an
//! `xfrm` link, RTM_DELLINK, and the link / error replies the kernel sends.
//!
//! Layouts (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h): every
//! message is a 16-byte `nlmsghdr` (len u32, type u16, flags u16, seq u32,
//! pid u32) in host byte order; link messages carry a 16-byte `ifinfomsg`
//! (family u8, pad u8, type u16, index i32, flags u32, change u32) followed
//! by attributes (len u16, type u16, value, padded to 4 bytes).
#![forbid(unsafe_code)]

/// Netlink message types and flags (linux/netlink.h, linux/rtnetlink.h).
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_GETLINK: u16 = 18;
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_MULTI: u16 = 0x2;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
pub const NLM_F_DUMP: u16 = 0x300;
/// In an NLMSG_ERROR: the echoed request was cut to its header.
const NLM_F_CAPPED: u16 = 0x100;
/// In an NLMSG_ERROR: extended-ack attributes follow the echoed request.
const NLM_F_ACK_TLVS: u16 = 0x200;
/// Extended-ack attribute holding the kernel's text (linux/netlink.h).
const NLMSGERR_ATTR_MSG: u16 = 1;

/// Link attributes (linux/if_link.h).
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_XFRM_LINK: u16 = 1;
const IFLA_XFRM_IF_ID: u16 = 2;
/// Attribute type bits that are flags, not part of the type.
const NLA_F_NESTED: u16 = 0x8000;
const NLA_TYPE_MASK: u16 = 0x3fff;

/// `IFF_UP` (linux/if.h).
pub const IFF_UP: u32 = 0x1;

const NLMSG_HDRLEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;
const NLA_HDRLEN: usize = 4;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Builds one netlink message: header, fixed part, attributes (nesting by
/// [`Builder::begin_nested`] / [`Builder::end_nested`]).
struct Builder {
    buf: Vec<u8>,
    open: Vec<usize>,
}

impl Builder {
    fn new(kind: u16, flags: u16, seq: u32) -> Builder {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&0u32.to_ne_bytes()); // length, set by finish
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        // pid 0: the kernel fills in the port it bound us to.
        buf.extend_from_slice(&0u32.to_ne_bytes());
        Builder {
            buf,
            open: Vec::new(),
        }
    }

    fn ifinfomsg(&mut self, index: i32, flags: u32, change: u32) {
        self.buf.push(0); // AF_UNSPEC: links of every family
        self.buf.push(0);
        self.buf.extend_from_slice(&0u16.to_ne_bytes()); // ARPHRD: the kernel's choice
        self.buf.extend_from_slice(&index.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&change.to_ne_bytes());
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }

    fn attr(&mut self, kind: u16, value: &[u8]) {
        // Every value we send is a few bytes: far below the u16 limit.
        let len = u16::try_from(NLA_HDRLEN + value.len()).unwrap_or(u16::MAX);
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.pad();
    }

    /// A NUL-terminated string attribute.
    fn attr_str(&mut self, kind: u16, value: &str) {
        let mut v = value.as_bytes().to_vec();
        v.push(0);
        self.attr(kind, &v);
    }

    fn begin_nested(&mut self, kind: u16) {
        self.open.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
    }

    fn end_nested(&mut self) {
        if let Some(start) = self.open.pop() {
            let len = u16::try_from(self.buf.len() - start).unwrap_or(u16::MAX);
            self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        }
    }

    fn finish(mut self) -> Vec<u8> {
        while !self.open.is_empty() {
            self.end_nested();
        }
        let len = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf
    }
}

/// RTM_GETLINK dump of every link of the namespace.
pub fn dump_links(seq: u32) -> Vec<u8> {
    let mut b = Builder::new(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq);
    b.ifinfomsg(0, 0, 0);
    b.finish()
}

/// RTM_NEWLINK creating the XFRM interface `name` (up) on the device with
/// index `link`, with `if_id`; fails with EEXIST instead of changing an
/// existing link.
pub fn new_xfrm_link(seq: u32, name: &str, link: u32, if_id: u32) -> Vec<u8> {
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    let mut b = Builder::new(RTM_NEWLINK, flags, seq);
    b.ifinfomsg(0, IFF_UP, IFF_UP);
    b.attr_str(IFLA_IFNAME, name);
    b.begin_nested(IFLA_LINKINFO);
    b.attr_str(IFLA_INFO_KIND, "xfrm");
    b.begin_nested(IFLA_INFO_DATA);
    b.attr(IFLA_XFRM_LINK, &link.to_ne_bytes());
    b.attr(IFLA_XFRM_IF_ID, &if_id.to_ne_bytes());
    b.end_nested();
    b.end_nested();
    b.finish()
}

/// RTM_DELLINK of the link with index `index`.
pub fn del_link(seq: u32, index: u32) -> Vec<u8> {
    let mut b = Builder::new(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    b.ifinfomsg(i32::try_from(index).unwrap_or(0), 0, 0);
    b.finish()
}

/// One received netlink message, its payload borrowed from the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    pub payload: &'a [u8],
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at + 2)?;
    Some(u16::from_ne_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

/// Splits one datagram into its messages. A length field that points
/// outside the datagram or below the header is an error, not a panic.
pub fn messages(datagram: &[u8]) -> Result<Vec<Message<'_>>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < datagram.len() {
        let len = u32_at(datagram, at).ok_or("netlink reply: truncated header")? as usize;
        if len < NLMSG_HDRLEN || at + len > datagram.len() {
            return Err(format!("netlink reply: bad message length {len}"));
        }
        let kind = u16_at(datagram, at + 4).ok_or("netlink reply: truncated header")?;
        let flags = u16_at(datagram, at + 6).ok_or("netlink reply: truncated header")?;
        let seq = u32_at(datagram, at + 8).ok_or("netlink reply: truncated header")?;
        out.push(Message {
            kind,
            flags,
            seq,
            payload: &datagram[at + NLMSG_HDRLEN..at + len],
        });
        at += align4(len);
    }
    Ok(out)
}

/// The attributes in `b`: (type without flag bits, value).
fn attrs(b: &[u8]) -> Result<Vec<(u16, &[u8])>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + NLA_HDRLEN <= b.len() {
        let len = usize::from(u16_at(b, at).ok_or("netlink attribute: truncated")?);
        let kind = u16_at(b, at + 2).ok_or("netlink attribute: truncated")? & NLA_TYPE_MASK;
        if len < NLA_HDRLEN || at + len > b.len() {
            return Err(format!("netlink attribute {kind}: bad length {len}"));
        }
        out.push((kind, &b[at + NLA_HDRLEN..at + len]));
        at += align4(len);
    }
    Ok(out)
}

/// A string attribute without its terminating NUL (and whatever follows it).
fn attr_string(v: &[u8]) -> String {
    let end = v.iter().position(|&c| c == 0).unwrap_or(v.len());
    String::from_utf8_lossy(&v[..end]).into_owned()
}

fn attr_u32(v: &[u8]) -> Option<u32> {
    u32_at(v, 0)
}

/// What a link dump says about one link.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub mtu: u32,
    pub flags: u32,
    /// IFLA_INFO_KIND (`xfrm`, `veth`, ...), empty for plain devices.
    pub kind: String,
    /// IFLA_XFRM_LINK of an `xfrm` link (0: none).
    pub xfrm_link: u32,
    /// IFLA_XFRM_IF_ID of an `xfrm` link.
    pub xfrm_if_id: u32,
}

/// Reads the payload of an RTM_NEWLINK message (a dump entry).
pub fn parse_link(payload: &[u8]) -> Result<Link, String> {
    if payload.len() < IFINFOMSG_LEN {
        return Err("netlink link message: shorter than ifinfomsg".into());
    }
    let index = u32_at(payload, 4).ok_or("netlink link message: truncated")?;
    let flags = u32_at(payload, 8).ok_or("netlink link message: truncated")?;
    let mut link = Link {
        index,
        flags,
        ..Link::default()
    };
    for (kind, value) in attrs(&payload[IFINFOMSG_LEN..])? {
        match kind {
            IFLA_IFNAME => link.name = attr_string(value),
            IFLA_MTU => link.mtu = attr_u32(value).unwrap_or(0),
            IFLA_LINKINFO => parse_linkinfo(value, &mut link)?,
            _ => {}
        }
    }
    Ok(link)
}

fn parse_linkinfo(b: &[u8], link: &mut Link) -> Result<(), String> {
    let mut data = None;
    for (kind, value) in attrs(b)? {
        match kind {
            IFLA_INFO_KIND => link.kind = attr_string(value),
            IFLA_INFO_DATA => data = Some(value),
            _ => {}
        }
    }
    // IFLA_INFO_DATA means something different for every kind.
    if let (Some(data), "xfrm") = (data, link.kind.as_str()) {
        for (kind, value) in attrs(data)? {
            match kind {
                IFLA_XFRM_LINK => link.xfrm_link = attr_u32(value).unwrap_or(0),
                IFLA_XFRM_IF_ID => link.xfrm_if_id = attr_u32(value).unwrap_or(0),
                _ => {}
            }
        }
    }
    Ok(())
}

/// An NLMSG_ERROR payload: the errno (0 for an acknowledgement) and the
/// kernel's extended-ack text, if it sent one.
pub fn parse_error(flags: u16, payload: &[u8]) -> Result<(i32, Option<String>), String> {
    let err = u32_at(payload, 0).ok_or("netlink error message: truncated")? as i32;
    let mut text = None;
    if flags & NLM_F_ACK_TLVS != 0 {
        // After the error code comes the request: its header only when capped.
        let echoed = if flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            u32_at(payload, 4).ok_or("netlink error message: truncated")? as usize
        };
        let tlvs = payload.get(4 + align4(echoed)..).unwrap_or(&[]);
        for (kind, value) in attrs(tlvs)? {
            if kind == NLMSGERR_ATTR_MSG {
                text = Some(attr_string(value));
            }
        }
    }
    Ok((err.saturating_neg(), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Native-endian bytes of a sequence of (u16 | u32) fields, to spell
    /// expected messages out field by field.
    enum F {
        H(u16),
        W(u32),
        B(&'static [u8]),
    }

    fn bytes(fields: &[F]) -> Vec<u8> {
        let mut v = Vec::new();
        for f in fields {
            match f {
                F::H(x) => v.extend_from_slice(&x.to_ne_bytes()),
                F::W(x) => v.extend_from_slice(&x.to_ne_bytes()),
                F::B(b) => v.extend_from_slice(b),
            }
        }
        v
    }

    #[test]
    fn dump_request_bytes() {
        let want = bytes(&[
            F::W(32),
            F::H(18),
            F::H(0x301),
            F::W(7),
            F::W(0),
            F::B(&[0, 0, 0, 0]),
            F::W(0),
            F::W(0),
            F::W(0),
        ]);
        assert_eq!(dump_links(7), want);
    }

    #[test]
    fn new_xfrm_link_bytes() {
        let want = bytes(&[
            // nlmsghdr: 16 + ifinfomsg 16 + ifname 12 + linkinfo 36 = 80
            F::W(80),
            F::H(16),
            F::H(0x605),
            F::W(9),
            F::W(0),
            // ifinfomsg: AF_UNSPEC, index 0, IFF_UP set and changed
            F::B(&[0, 0, 0, 0]),
            F::W(0),
            F::W(1),
            F::W(1),
            // IFLA_IFNAME "ipsec0\0" (4+7 = 11, padded to 12)
            F::H(11),
            F::H(3),
            F::B(b"ipsec0\0\0"),
            // IFLA_LINKINFO, nested: 4 + kind 12 + data 20 = 36
            F::H(36),
            F::H(0x8012),
            F::H(9),
            F::H(1),
            F::B(b"xfrm\0\0\0\0"),
            F::H(20),
            F::H(0x8002),
            F::H(8),
            F::H(1),
            F::W(4),
            F::H(8),
            F::H(2),
            F::W(1),
        ]);
        assert_eq!(new_xfrm_link(9, "ipsec0", 4, 1), want);
    }

    #[test]
    fn del_link_bytes() {
        let want = bytes(&[
            F::W(32),
            F::H(17),
            F::H(5),
            F::W(3),
            F::W(0),
            F::B(&[0, 0, 0, 0]),
            F::W(12),
            F::W(0),
            F::W(0),
        ]);
        assert_eq!(del_link(3, 12), want);
    }

    /// An RTM_NEWLINK the way the kernel sends it in a dump, for `name`.
    fn kernel_link(index: u32, name: &str, xfrm: Option<(u32, u32)>) -> Vec<u8> {
        let mut b = Builder::new(RTM_NEWLINK, NLM_F_MULTI, 5);
        b.ifinfomsg(i32::try_from(index).unwrap(), 0x1043, 0);
        b.attr_str(IFLA_IFNAME, name);
        b.attr(IFLA_MTU, &1400u32.to_ne_bytes());
        b.attr(99, &[1, 2, 3]); // unknown attribute: skipped
        if let Some((link, if_id)) = xfrm {
            b.begin_nested(IFLA_LINKINFO);
            b.attr_str(IFLA_INFO_KIND, "xfrm");
            b.begin_nested(IFLA_INFO_DATA);
            b.attr(IFLA_XFRM_LINK, &link.to_ne_bytes());
            b.attr(IFLA_XFRM_IF_ID, &if_id.to_ne_bytes());
        }
        b.finish()
    }

    #[test]
    fn parses_a_dump_datagram() {
        let mut d = kernel_link(2, "w0", None);
        d.extend(kernel_link(7, "ipsec3", Some((2, 4))));
        let msgs = messages(&d).unwrap();
        assert_eq!(msgs.len(), 2);
        assert!(msgs.iter().all(|m| m.kind == RTM_NEWLINK && m.seq == 5));
        let w0 = parse_link(msgs[0].payload).unwrap();
        assert_eq!(
            w0,
            Link {
                index: 2,
                name: "w0".into(),
                mtu: 1400,
                flags: 0x1043,
                ..Link::default()
            }
        );
        let x = parse_link(msgs[1].payload).unwrap();
        assert_eq!(
            (x.index, x.name.as_str(), x.kind.as_str()),
            (7, "ipsec3", "xfrm")
        );
        assert_eq!((x.xfrm_link, x.xfrm_if_id), (2, 4));
    }

    #[test]
    fn bad_lengths_are_errors() {
        let mut d = kernel_link(2, "w0", None);
        d[0] = 200; // longer than the datagram
        assert!(messages(&d).is_err());
        let mut d = kernel_link(2, "w0", None);
        d[0] = 8; // shorter than a header
        assert!(messages(&d).is_err());
        assert!(messages(&[1, 2, 3]).is_err());
        // an attribute claiming more than is there
        let mut d = kernel_link(2, "w0", None);
        d[32] = 0xff;
        let m = messages(&d).unwrap();
        assert!(parse_link(m[0].payload).is_err());
        assert!(parse_link(&[0; 8]).is_err());
    }

    #[test]
    fn error_with_extended_ack_text() {
        let req = new_xfrm_link(9, "ipsec0", 4, 0);
        let mut p = (-22i32).to_ne_bytes().to_vec();
        p.extend_from_slice(&req[..16]); // capped: header only
        p.extend(bytes(&[
            F::H(27),
            F::H(1),
            F::B(b"if_id must be non zero\0\0"),
        ]));
        let (errno, text) = parse_error(NLM_F_CAPPED | NLM_F_ACK_TLVS, &p).unwrap();
        assert_eq!(errno, 22);
        assert_eq!(text.as_deref(), Some("if_id must be non zero"));
        // An uncapped echo is skipped by its own length.
        let mut p = (-17i32).to_ne_bytes().to_vec();
        p.extend_from_slice(&req);
        p.extend(bytes(&[F::H(8), F::H(1), F::B(b"abc\0")]));
        assert_eq!(
            parse_error(NLM_F_ACK_TLVS, &p).unwrap(),
            (17, Some("abc".into()))
        );
        // A plain acknowledgement.
        let mut p = 0i32.to_ne_bytes().to_vec();
        p.extend_from_slice(&req[..16]);
        assert_eq!(parse_error(0, &p).unwrap(), (0, None));
        assert!(parse_error(0, &[1, 2]).is_err());
    }
}
