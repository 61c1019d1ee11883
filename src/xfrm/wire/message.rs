//! The whole message: a checked view over the bytes, then the owned repr;
//! and the split of one datagram into its messages.
use super::addr::{Addr, LifetimeCur};
use super::attr::{
    Algo, AlgoAuth, Attr, EncapTmpl, Mark, PolicyType, RawAttr, ReplayEsn, ReplayState, NLA_HDRLEN,
};
use super::bytes::{align4, patch_u32, Put, Reader, NLA_ALIGNTO};
use super::consts::*;
use super::header::{Header, NLMSG_HDRLEN};
use super::policy::{UserAcquire, UserPolexpire, UserTmpl, UserpolicyId, UserpolicyInfo};
use super::sa::{UserExpire, UserMapping, UsersaFlush, UsersaId, UsersaInfo, UserspiInfo};
use super::{Result, XfrmError};
use core::fmt::Write as _;

/// NLMSG_ERROR's payload: `struct nlmsgerr` (`int error`, the header of the
/// message it answers) and what follows it, kept raw: the rest of that
/// message unless the kernel capped it, then extended-ack attributes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NlError {
    /// 0 for an ACK, else minus the errno.
    pub error: i32,
    /// The answered message's declared length and header.
    pub orig_len: u32,
    pub orig: Header,
    pub rest: Vec<u8>,
}

impl NlError {
    /// The positive errno (0 for an ACK).
    pub fn errno(&self) -> i32 {
        self.error.checked_neg().unwrap_or(i32::MAX)
    }
}

/// NLMSG_DONE's payload: the dump's final status (0 or minus an errno) and
/// anything after it, raw.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Done {
    pub error: i32,
    pub rest: Vec<u8>,
}

/// The fixed part of a message, by message type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Body {
    /// NEWSA / UPDSA (also the reply to GETSA and ALLOCSPI, and dumps).
    Sa(UsersaInfo),
    /// DELSA / GETSA (also the kernel's DELSA notification).
    SaId(UsersaId),
    /// ALLOCSPI.
    AllocSpi(UserspiInfo),
    /// NEWPOLICY / UPDPOLICY (also the reply to GETPOLICY, and dumps).
    Policy(UserpolicyInfo),
    /// DELPOLICY / GETPOLICY.
    PolicyId(UserpolicyId),
    FlushSa(UsersaFlush),
    Acquire(UserAcquire),
    Expire(UserExpire),
    PolExpire(UserPolexpire),
    /// MAPPING: the kernel's news of a moved NAT mapping.
    Mapping(UserMapping),
    /// FLUSHPOLICY, and the GETSA / GETPOLICY dump requests (NLM_F_DUMP):
    /// no fixed part, attributes only.
    Empty,
    Error(NlError),
    Done(Done),
    /// Any other message type: the payload, raw (no attributes parsed).
    Other(Vec<u8>),
}

/// Size of the fixed part a message of this type and flags carries; `None`
/// for the types whose payload is not fixed struct + attributes.
fn fixed_len(msg_type: u16, flags: u16) -> Option<usize> {
    let dump = flags & NLM_F_DUMP != 0;
    Some(match msg_type {
        XFRM_MSG_NEWSA | XFRM_MSG_UPDSA => XFRM_USERSA_INFO_LEN,
        XFRM_MSG_GETSA | XFRM_MSG_GETPOLICY if dump => 0,
        XFRM_MSG_DELSA | XFRM_MSG_GETSA => XFRM_USERSA_ID_LEN,
        XFRM_MSG_NEWPOLICY | XFRM_MSG_UPDPOLICY => XFRM_USERPOLICY_INFO_LEN,
        XFRM_MSG_DELPOLICY | XFRM_MSG_GETPOLICY => XFRM_USERPOLICY_ID_LEN,
        XFRM_MSG_ALLOCSPI => XFRM_USERSPI_INFO_LEN,
        XFRM_MSG_ACQUIRE => XFRM_USER_ACQUIRE_LEN,
        XFRM_MSG_EXPIRE => XFRM_USER_EXPIRE_LEN,
        XFRM_MSG_POLEXPIRE => XFRM_USER_POLEXPIRE_LEN,
        XFRM_MSG_MAPPING => XFRM_USER_MAPPING_LEN,
        XFRM_MSG_FLUSHSA => XFRM_USERSA_FLUSH_LEN,
        XFRM_MSG_FLUSHPOLICY => 0,
        _ => return None,
    })
}

/// A message whose framing has been checked: the declared length equals
/// the buffer's, the fixed part its type needs is there, every attribute is
/// at least a header long and ends inside the message, and no decoded type
/// appears twice. Types not decoded may repeat and stay opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView<'a> {
    header: Header,
    fixed: &'a [u8],
    attrs: Vec<RawAttr<'a>>,
}

impl<'a> MessageView<'a> {
    /// Checks one whole message (`buf` is exactly `nlmsg_len` bytes).
    pub fn new(buf: &'a [u8]) -> Result<MessageView<'a>> {
        let (header, declared) = Header::parse(buf)?;
        if declared < NLMSG_HDRLEN {
            return Err(XfrmError::BadLength {
                what: "netlink message",
                len: declared,
            });
        }
        if declared > buf.len() {
            return Err(XfrmError::Truncated {
                what: "netlink message",
                need: declared,
                have: buf.len(),
            });
        }
        if declared < buf.len() {
            return Err(XfrmError::TrailingData {
                what: "netlink message",
                len: buf.len().saturating_sub(declared),
            });
        }
        let payload = buf.get(NLMSG_HDRLEN..).unwrap_or(&[]);
        let Some(flen) = fixed_len(header.msg_type, header.flags) else {
            return Ok(MessageView {
                header,
                fixed: payload,
                attrs: Vec::new(),
            });
        };
        let what = msg_type_name(header.msg_type);
        let fixed = payload.get(..flen).ok_or(XfrmError::Truncated {
            what,
            need: flen,
            have: payload.len(),
        })?;
        // Attributes start at the fixed part rounded up to 4 bytes.
        let rest = if payload.len() == flen {
            &[][..]
        } else {
            payload.get(align4(flen)..).ok_or(XfrmError::TrailingData {
                what,
                len: payload.len().saturating_sub(flen),
            })?
        };
        let attrs = split_attrs(rest)?;
        Ok(MessageView {
            header,
            fixed,
            attrs,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn attrs(&self) -> &[RawAttr<'a>] {
        &self.attrs
    }

    /// Decodes the fixed part and every attribute.
    pub fn to_message(&self) -> Result<Message> {
        let f = self.fixed;
        let h = &self.header;
        let dump = h.flags & NLM_F_DUMP != 0;
        let body = match h.msg_type {
            NLMSG_ERROR => Body::Error(parse_nlerror(f)?),
            NLMSG_DONE => {
                let mut r = Reader::new(f, "NLMSG_DONE");
                Body::Done(Done {
                    error: r.i32()?,
                    rest: r.rest().to_vec(),
                })
            }
            XFRM_MSG_NEWSA | XFRM_MSG_UPDSA => Body::Sa(UsersaInfo::parse_exact(f)?),
            XFRM_MSG_GETSA | XFRM_MSG_GETPOLICY if dump => Body::Empty,
            XFRM_MSG_DELSA | XFRM_MSG_GETSA => Body::SaId(UsersaId::parse_exact(f)?),
            XFRM_MSG_NEWPOLICY | XFRM_MSG_UPDPOLICY => {
                Body::Policy(UserpolicyInfo::parse_exact(f)?)
            }
            XFRM_MSG_DELPOLICY | XFRM_MSG_GETPOLICY => {
                Body::PolicyId(UserpolicyId::parse_exact(f)?)
            }
            XFRM_MSG_ALLOCSPI => Body::AllocSpi(UserspiInfo::parse_exact(f)?),
            XFRM_MSG_ACQUIRE => Body::Acquire(UserAcquire::parse_exact(f)?),
            XFRM_MSG_EXPIRE => Body::Expire(UserExpire::parse_exact(f)?),
            XFRM_MSG_POLEXPIRE => Body::PolExpire(UserPolexpire::parse_exact(f)?),
            XFRM_MSG_MAPPING => Body::Mapping(UserMapping::parse_exact(f)?),
            XFRM_MSG_FLUSHSA => Body::FlushSa(UsersaFlush::parse_exact(f)?),
            XFRM_MSG_FLUSHPOLICY => Body::Empty,
            _ => Body::Other(f.to_vec()),
        };
        let attrs = self
            .attrs
            .iter()
            .map(|a| Attr::parse(a.ty, a.data))
            .collect::<Result<Vec<Attr>>>()?;
        Ok(Message {
            header: self.header,
            body,
            attrs,
        })
    }
}

fn parse_nlerror(f: &[u8]) -> Result<NlError> {
    let mut r = Reader::new(f, "nlmsgerr");
    let error = r.i32()?;
    let orig_len = r.u32()?;
    let orig = Header {
        msg_type: r.u16()?,
        flags: r.u16()?,
        seq: r.u32()?,
        pid: r.u32()?,
    };
    Ok(NlError {
        error,
        orig_len,
        orig,
        rest: r.rest().to_vec(),
    })
}

/// Splits attribute bytes; the last attribute's padding may be missing.
fn split_attrs(mut rest: &[u8]) -> Result<Vec<RawAttr<'_>>> {
    let mut attrs = Vec::new();
    let mut seen: u64 = 0;
    while !rest.is_empty() {
        let mut h = Reader::new(rest, "attribute header");
        let len = usize::from(h.u16()?);
        let ty = h.u16()?;
        if len < NLA_HDRLEN || len > rest.len() {
            return Err(XfrmError::BadLength {
                what: "attribute",
                len,
            });
        }
        if Attr::is_known(ty) {
            let bit = 1u64.checked_shl(u32::from(ty)).unwrap_or(0);
            if seen & bit != 0 {
                return Err(XfrmError::DuplicateAttr(ty));
            }
            seen |= bit;
        }
        let data = rest.get(NLA_HDRLEN..len).unwrap_or(&[]);
        attrs.push(RawAttr { ty, data });
        rest = rest.get(align4(len).min(rest.len())..).unwrap_or(&[]);
    }
    Ok(attrs)
}

/// One netlink message: header, fixed part, attributes in wire order.
///
/// `emit` computes the length; a message parsed from well-formed bytes
/// emits them back byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Message {
    pub header: Header,
    pub body: Body,
    pub attrs: Vec<Attr>,
}

macro_rules! accessors {
    ($($(#[$m:meta])* $name:ident => $variant:ident: $t:ty;)*) => {
        $(
            $(#[$m])*
            pub fn $name(&self) -> Option<&$t> {
                self.attrs.iter().find_map(|a| match a {
                    Attr::$variant(v) => Some(v),
                    _ => None,
                })
            }
        )*
    };
}

impl Message {
    /// A message with this header and body and no attributes yet.
    pub fn new(header: Header, body: Body) -> Message {
        Message {
            header,
            body,
            attrs: Vec::new(),
        }
    }

    /// Parses one whole message (`buf` is exactly `nlmsg_len` bytes).
    pub fn parse(buf: &[u8]) -> Result<Message> {
        MessageView::new(buf)?.to_message()
    }

    /// The bytes of this message (`nlmsg_len` of them, not rounded up).
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(NLMSG_HDRLEN + 256);
        self.header.emit(&mut out, 0);
        match &self.body {
            Body::Sa(b) => b.emit(&mut out),
            Body::SaId(b) => b.emit(&mut out),
            Body::AllocSpi(b) => b.emit(&mut out),
            Body::Policy(b) => b.emit(&mut out),
            Body::PolicyId(b) => b.emit(&mut out),
            Body::FlushSa(b) => b.emit(&mut out),
            Body::Acquire(b) => b.emit(&mut out),
            Body::Expire(b) => b.emit(&mut out),
            Body::PolExpire(b) => b.emit(&mut out),
            Body::Mapping(b) => b.emit(&mut out),
            Body::Empty => {}
            Body::Error(e) => {
                out.put_i32(e.error);
                e.orig.emit(&mut out, e.orig_len);
                out.extend_from_slice(&e.rest);
            }
            Body::Done(d) => {
                out.put_i32(d.error);
                out.extend_from_slice(&d.rest);
            }
            Body::Other(raw) => out.extend_from_slice(raw),
        }
        if !self.attrs.is_empty() {
            out.pad_from(0, NLA_ALIGNTO);
            for a in &self.attrs {
                a.emit(&mut out);
            }
        }
        let len = u32::try_from(out.len()).unwrap_or(u32::MAX);
        patch_u32(&mut out, 0, len);
        out
    }

    /// Appends an attribute (builder style).
    pub fn with(mut self, attr: Attr) -> Message {
        self.attrs.push(attr);
        self
    }

    /// The first attribute of type `ty`.
    pub fn find(&self, ty: u16) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.ty() == ty)
    }

    /// The kernel's errno if this is an NLMSG_ERROR (0 = ACK), or a failed
    /// NLMSG_DONE.
    pub fn errno(&self) -> Option<i32> {
        match &self.body {
            Body::Error(e) => Some(e.errno()),
            Body::Done(d) => Some(d.error.checked_neg().unwrap_or(i32::MAX)),
            _ => None,
        }
    }

    /// The extended-ack text of an NLMSG_ERROR (NLMSGERR_ATTR_MSG), if the
    /// kernel attached one.
    pub fn ext_ack_msg(&self) -> Option<String> {
        let Body::Error(e) = &self.body else {
            return None;
        };
        if self.header.flags & NLM_F_ACK_TLVS == 0 {
            return None;
        }
        let skip = if self.header.flags & NLM_F_CAPPED != 0 {
            0
        } else {
            align4(
                usize::try_from(e.orig_len)
                    .ok()?
                    .checked_sub(NLMSG_HDRLEN)?,
            )
        };
        let tlvs = e.rest.get(skip..)?;
        let attrs = split_attrs_lenient(tlvs);
        let raw = attrs.into_iter().find(|a| a.ty == NLMSGERR_ATTR_MSG)?.data;
        let text = raw.split(|&b| b == 0).next().unwrap_or(&[]);
        Some(String::from_utf8_lossy(text).into_owned())
    }

    accessors! {
        alg_auth => AlgAuth: Algo;
        alg_crypt => AlgCrypt: Algo;
        alg_comp => AlgComp: Algo;
        alg_auth_trunc => AlgAuthTrunc: AlgoAuth;
        encap => Encap: EncapTmpl;
        /// The SA of a DELSA notification.
        sa_attr => Sa: UsersaInfo;
        /// The policy of a DELPOLICY notification.
        policy_attr => Policy: UserpolicyInfo;
        ltime_val => LtimeVal: LifetimeCur;
        replay_val => ReplayVal: ReplayState;
        replay_esn_val => ReplayEsnVal: ReplayEsn;
        src_addr => SrcAddr: Addr;
        coaddr => CoAddr: Addr;
        policy_type => PolicyType: PolicyType;
        mark => Mark: Mark;
    }

    /// The templates of XFRMA_TMPL (empty if absent).
    pub fn tmpls(&self) -> &[UserTmpl] {
        self.attrs
            .iter()
            .find_map(|a| match a {
                Attr::Tmpl(t) => Some(t.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    pub fn if_id(&self) -> Option<u32> {
        self.attrs.iter().find_map(|a| match a {
            Attr::IfId(i) => Some(*i),
            _ => None,
        })
    }

    /// One line for debug logs, without key material:
    /// `XFRM_MSG_NEWSA flags=0x5 seq=1 pid=0 [ALG_AUTH_TRUNC hmac(sha1) 160 bits, ...]`.
    pub fn summary(&self) -> String {
        let h = &self.header;
        let mut s = format!(
            "{} flags={:#x} seq={} pid={}",
            msg_type_name(h.msg_type),
            h.flags,
            h.seq,
            h.pid
        );
        let _ = match &self.body {
            Body::Sa(i) => write!(
                s,
                " spi={:#010x} proto={} reqid={}",
                i.id.spi, i.id.proto, i.reqid
            ),
            Body::SaId(i) => write!(s, " spi={:#010x} proto={}", i.spi, i.proto),
            Body::AllocSpi(i) => write!(
                s,
                " proto={} range={:#x}-{:#x}",
                i.info.id.proto, i.min, i.max
            ),
            Body::Policy(p) => write!(s, " dir={} action={} index={}", p.dir, p.action, p.index),
            Body::PolicyId(p) => write!(s, " dir={} index={}", p.dir, p.index),
            Body::Acquire(a) => write!(s, " proto={} seq={}", a.id.proto, a.seq),
            Body::Expire(e) => write!(s, " spi={:#010x} hard={}", e.state.id.spi, e.hard),
            Body::PolExpire(p) => write!(s, " index={} hard={}", p.pol.index, p.hard),
            Body::Mapping(m) => write!(
                s,
                " spi={:#010x} proto={} sport {}->{}",
                m.id.spi, m.id.proto, m.old_sport, m.new_sport
            ),
            Body::FlushSa(f) => write!(s, " proto={}", f.proto),
            Body::Error(e) => write!(
                s,
                " errno={} for {}",
                e.errno(),
                msg_type_name(e.orig.msg_type)
            ),
            Body::Done(d) => write!(s, " error={}", d.error),
            Body::Empty | Body::Other(_) => Ok(()),
        };
        s.push_str(" [");
        for (i, a) in self.attrs.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            let name = attr_name(a.ty());
            let _ = match a {
                Attr::AlgAuth(x) | Attr::AlgCrypt(x) | Attr::AlgComp(x) => {
                    write!(s, "{name} {} {} bits", x.name, x.key_bits)
                }
                Attr::AlgAuthTrunc(x) => {
                    write!(s, "{name} {} {} bits/{}", x.name, x.key_bits, x.trunc_bits)
                }
                Attr::Tmpl(t) => write!(s, "{name} x{}", t.len()),
                Attr::Unknown { ty, data } => write!(s, "UNKNOWN({ty}) {} bytes", data.len()),
                _ => write!(s, "{name}"),
            };
        }
        s.push(']');
        s
    }
}

/// Attribute framing for extended acks: stops at the first bad length
/// instead of failing (the text is a courtesy, the errno is what counts).
fn split_attrs_lenient(mut rest: &[u8]) -> Vec<RawAttr<'_>> {
    let mut v = Vec::new();
    while let [a, b, c, d, ..] = *rest {
        let len = usize::from(u16::from_ne_bytes([a, b]));
        let ty = u16::from_ne_bytes([c, d]);
        if len < NLA_HDRLEN || len > rest.len() {
            break;
        }
        v.push(RawAttr {
            ty,
            data: rest.get(NLA_HDRLEN..len).unwrap_or(&[]),
        });
        rest = rest.get(align4(len).min(rest.len())..).unwrap_or(&[]);
    }
    v
}

/// Splits one received datagram into its messages (a dump packs several;
/// each starts on a 4-byte boundary) and decodes each.
pub fn parse_datagram(mut buf: &[u8]) -> Result<Vec<Message>> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let (_, len) = Header::parse(buf)?;
        if len < NLMSG_HDRLEN || len > buf.len() {
            return Err(XfrmError::BadLength {
                what: "netlink message in datagram",
                len,
            });
        }
        let one = buf.get(..len).unwrap_or(&[]);
        out.push(Message::parse(one)?);
        buf = buf.get(align4(len).min(buf.len())..).unwrap_or(&[]);
    }
    Ok(out)
}

/// The datagram carrying `msgs` back to back, each padded to 4 bytes.
pub fn emit_datagram(msgs: &[Message]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        let start = out.len();
        out.extend_from_slice(&m.emit());
        out.pad_from(start, NLA_ALIGNTO);
    }
    out
}
