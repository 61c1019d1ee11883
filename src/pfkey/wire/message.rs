//! The whole message: a checked view over the buffer, then the owned repr.
use super::addr::{Address, Identity, Protocol};
use super::bytes::{words16, Reader, WORD};
use super::consts::{msg_type_name, satype_name, SADB_EXT_HDR_LEN, SADB_EXT_RESERVED};
use super::ext::{Ext, ExtType};
use super::header::{Header, HEADER_LEN};
use super::policy::Policy;
use super::prop::{Proposal, Supported};
use super::sa::{Key, Lifetime, Sa, Sa2, SpiRange};
use super::{Dialect, PfkeyError, Result};
use core::fmt::Write as _;

/// One extension as it sits in the buffer: its type number and its body (the
/// bytes after the 4-byte `sadb_ext` header, padding included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawExt<'a> {
    pub ty: u16,
    pub body: &'a [u8],
}

/// A message whose framing has been checked: the header's length equals the
/// buffer's, every extension is at least one word long and ends inside the
/// message, no extension has type 0, and no type the dialect knows appears
/// twice (neither Linux `parse_exthdrs` nor KLIPS `pfkey_msg_parse` allows
/// it). Types the dialect does not know are allowed, repeated too, and left
/// opaque: Linux skips them the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView<'a> {
    dialect: Dialect,
    header: Header,
    exts: Vec<RawExt<'a>>,
}

impl<'a> MessageView<'a> {
    pub fn new(buf: &'a [u8], dialect: Dialect) -> Result<MessageView<'a>> {
        let (header, declared) = Header::parse(buf)?;
        if declared < HEADER_LEN {
            return Err(PfkeyError::BadLength {
                what: "message",
                len: declared,
            });
        }
        if declared > buf.len() {
            return Err(PfkeyError::Truncated {
                what: "message",
                need: declared,
                have: buf.len(),
            });
        }
        if declared < buf.len() {
            return Err(PfkeyError::TrailingData {
                what: "message",
                len: buf.len().saturating_sub(declared),
            });
        }
        let mut r = Reader::new(buf.get(HEADER_LEN..).unwrap_or(&[]), "extension");
        let mut exts = Vec::new();
        let mut seen: u64 = 0;
        while !r.is_empty() {
            let (len, ty) = {
                let mut h = Reader::new(r.peek(), "extension header");
                (usize::from(h.u16()?).saturating_mul(WORD), h.u16()?)
            };
            if len == 0 || len > r.remaining() {
                return Err(PfkeyError::BadLength {
                    what: "extension",
                    len,
                });
            }
            if ty == SADB_EXT_RESERVED {
                return Err(PfkeyError::BadExtType(ty));
            }
            if ExtType::from_number(dialect, ty).is_some() {
                let bit = 1u64.checked_shl(u32::from(ty)).unwrap_or(0);
                if seen & bit != 0 {
                    return Err(PfkeyError::DuplicateExt(ty));
                }
                seen |= bit;
            }
            let whole = r.take(len)?;
            let body = whole.get(SADB_EXT_HDR_LEN..).unwrap_or(&[]);
            exts.push(RawExt { ty, body });
        }
        Ok(MessageView {
            dialect,
            header,
            exts,
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn exts(&self) -> &[RawExt<'a>] {
        &self.exts
    }

    /// Decodes every extension.
    pub fn to_message(&self) -> Result<Message> {
        let exts = self
            .exts
            .iter()
            .map(|e| Ext::parse(self.dialect, e.ty, e.body))
            .collect::<Result<Vec<Ext>>>()?;
        Ok(Message {
            dialect: self.dialect,
            header: self.header,
            exts,
        })
    }
}

/// A PF_KEY message: base header and extensions in wire order.
///
/// `emit` computes every length field; a message parsed from well-formed
/// bytes emits them back byte for byte, reserved fields and padding being
/// zero (what both kernels write).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Message {
    /// Which kernel's numbering and layouts the extensions use.
    pub dialect: Dialect,
    pub header: Header,
    pub exts: Vec<Ext>,
}

macro_rules! accessors {
    ($($(#[$m:meta])* $name:ident => $variant:ident: $t:ty;)*) => {
        $(
            $(#[$m])*
            pub fn $name(&self) -> Option<&$t> {
                self.exts.iter().find_map(|e| match e {
                    Ext::$variant(v) => Some(v),
                    _ => None,
                })
            }
        )*
    };
}

impl Message {
    /// A Linux message with no extensions yet.
    pub fn new(header: Header) -> Message {
        Message {
            dialect: Dialect::Linux,
            header,
            exts: Vec::new(),
        }
    }

    /// Parses one whole Linux PF_KEY message (`buf` is one datagram).
    pub fn parse(buf: &[u8]) -> Result<Message> {
        Message::parse_dialect(buf, Dialect::Linux)
    }

    /// Parses one whole message numbered as `dialect` says.
    pub fn parse_dialect(buf: &[u8], dialect: Dialect) -> Result<Message> {
        MessageView::new(buf, dialect)?.to_message()
    }

    /// The bytes of this message, lengths computed. Extensions the dialect
    /// does not have (a Linux X_POLICY in a KLIPS message...) are left out.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN.saturating_add(self.exts.len() * 32));
        self.header.emit(&mut out, 0);
        for e in &self.exts {
            e.emit(self.dialect, &mut out);
        }
        let words = words16(out.len());
        super::bytes::patch_u16(&mut out, 4, words);
        out
    }

    /// Appends an extension (builder style).
    pub fn with(mut self, ext: Ext) -> Message {
        self.exts.push(ext);
        self
    }

    /// The first extension of a known type.
    pub fn find(&self, ty: ExtType) -> Option<&Ext> {
        self.exts.iter().find(|e| e.ext_type() == Some(ty))
    }

    /// The kernel's errno (0 = success).
    pub fn errno(&self) -> u8 {
        self.header.errno
    }

    accessors! {
        sa => Sa: Sa;
        lifetime_current => LifetimeCurrent: Lifetime;
        lifetime_hard => LifetimeHard: Lifetime;
        lifetime_soft => LifetimeSoft: Lifetime;
        address_src => AddressSrc: Address;
        address_dst => AddressDst: Address;
        address_proxy => AddressProxy: Address;
        key_auth => KeyAuth: Key;
        key_encrypt => KeyEncrypt: Key;
        identity_src => IdentitySrc: Identity;
        identity_dst => IdentityDst: Identity;
        proposal => Proposal: Proposal;
        supported_auth => SupportedAuth: Supported;
        supported_encrypt => SupportedEncrypt: Supported;
        spirange => SpiRange: SpiRange;
        /// Linux X_POLICY.
        policy => Policy: Policy;
        /// Linux X_SA2 (mode, reqid).
        sa2 => Sa2: Sa2;
        nat_t_oa => NatTOa: Address;
        /// KLIPS X_SA2 (the second SA of a GRPSA).
        klips_sa2 => KlipsSa2: Sa;
        address_dst2 => AddressDst2: Address;
        address_src_flow => AddressSrcFlow: Address;
        address_dst_flow => AddressDstFlow: Address;
        address_src_mask => AddressSrcMask: Address;
        address_dst_mask => AddressDstMask: Address;
        protocol => Protocol: Protocol;
    }

    pub fn nat_t_type(&self) -> Option<u8> {
        self.exts.iter().find_map(|e| match e {
            Ext::NatTType(t) => Some(*t),
            _ => None,
        })
    }

    pub fn nat_t_sport(&self) -> Option<u16> {
        self.exts.iter().find_map(|e| match e {
            Ext::NatTSport(p) => Some(*p),
            _ => None,
        })
    }

    pub fn nat_t_dport(&self) -> Option<u16> {
        self.exts.iter().find_map(|e| match e {
            Ext::NatTDport(p) => Some(*p),
            _ => None,
        })
    }

    /// KLIPS X_SATYPE2.
    pub fn satype2(&self) -> Option<u8> {
        self.exts.iter().find_map(|e| match e {
            Ext::SaType2(t) => Some(*t),
            _ => None,
        })
    }

    /// One line for debug logs, without key material:
    /// `SADB_ADD ESP seq=5 pid=123 errno=0 [SA spi=0x12345678, ADDRESS_SRC 192.0.2.1, ...]`.
    pub fn summary(&self) -> String {
        let h = &self.header;
        let mut s = format!(
            "{} {} seq={} pid={} errno={} [",
            msg_type_name(self.dialect, h.msg_type),
            satype_name(self.dialect, h.satype),
            h.seq,
            h.pid,
            h.errno
        );
        for (i, e) in self.exts.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            let name = e.ext_type().map_or("UNKNOWN", ExtType::name);
            let _ = match e {
                Ext::Sa(sa) | Ext::KlipsSa2(sa) => write!(s, "{name} spi={:#010x}", sa.spi),
                Ext::AddressSrc(a)
                | Ext::AddressDst(a)
                | Ext::AddressProxy(a)
                | Ext::NatTOa(a)
                | Ext::AddressDst2(a)
                | Ext::AddressSrcFlow(a)
                | Ext::AddressDstFlow(a)
                | Ext::AddressSrcMask(a)
                | Ext::AddressDstMask(a) => write!(s, "{name} {}/{}", a.addr, a.prefixlen),
                Ext::KeyAuth(k) | Ext::KeyEncrypt(k) => write!(s, "{name} {} bits", k.bits),
                Ext::Policy(p) => write!(
                    s,
                    "{name} type={} dir={} id={} requests={}",
                    p.policy_type,
                    p.dir,
                    p.id,
                    p.requests.len()
                ),
                Ext::Unknown { ty, .. } => write!(s, "UNKNOWN({ty})"),
                _ => write!(s, "{name}"),
            };
        }
        s.push(']');
        s
    }
}
