//! Data attributes (RFC 2408 §3.3): TV (AF=1, 2-byte value) and TLV.
use super::bytes::{len16, Reader};
use super::Result;

/// The attribute-format bit: set for TV (basic) attributes.
const AF_TV: u16 = 0x8000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// AF=1: the 16-bit value is in the attribute itself.
    Basic(u16),
    /// AF=0: a length and that many bytes.
    Variable(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Attribute type without the AF bit.
    pub ty: u16,
    pub value: AttrValue,
}

impl Attribute {
    pub fn basic(ty: u16, v: u16) -> Attribute {
        Attribute {
            ty: ty & !AF_TV,
            value: AttrValue::Basic(v),
        }
    }
    /// A value < 65536 as TV, otherwise TLV with exactly 4 big-endian bytes
    /// (what pluto's `out_attr` does, e.g. for a lifetime of 86400).
    pub fn from_u32(ty: u16, v: u32) -> Attribute {
        match u16::try_from(v) {
            Ok(small) => Attribute::basic(ty, small),
            Err(_) => Attribute {
                ty: ty & !AF_TV,
                value: AttrValue::Variable(v.to_be_bytes().to_vec()),
            },
        }
    }
    /// The value as an integer: TV directly; TLV of 1..=8 bytes big-endian.
    /// None when a TLV is empty or longer than 8 bytes.
    pub fn as_u64(&self) -> Option<u64> {
        match &self.value {
            AttrValue::Basic(v) => Some(u64::from(*v)),
            AttrValue::Variable(b) if (1..=8).contains(&b.len()) => {
                Some(b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
            }
            AttrValue::Variable(_) => None,
        }
    }
    pub fn emit(&self, out: &mut Vec<u8>) {
        let ty = self.ty & !AF_TV;
        match &self.value {
            AttrValue::Basic(v) => {
                out.extend_from_slice(&(ty | AF_TV).to_be_bytes());
                out.extend_from_slice(&v.to_be_bytes());
            }
            AttrValue::Variable(b) => {
                // A value longer than 65535 bytes cannot be encoded; write what
                // the length field says so the output stays self-consistent.
                let len = len16(b.len());
                out.extend_from_slice(&ty.to_be_bytes());
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(b.get(..usize::from(len)).unwrap_or(b));
            }
        }
    }
    /// Parses a whole attribute list (exactly fills `data`).
    pub fn parse_list(data: &[u8]) -> Result<Vec<Attribute>> {
        let mut r = Reader::new(data, "attribute");
        let mut attrs = Vec::new();
        while !r.is_empty() {
            // Every iteration consumes at least the 4-byte attribute header.
            let raw = r.u16()?;
            let ty = raw & !AF_TV;
            let value = if raw & AF_TV != 0 {
                AttrValue::Basic(r.u16()?)
            } else {
                let len = usize::from(r.u16()?);
                AttrValue::Variable(r.take(len)?.to_vec())
            };
            attrs.push(Attribute { ty, value });
        }
        Ok(attrs)
    }
}
