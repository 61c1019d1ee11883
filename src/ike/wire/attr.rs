//! Data attributes (RFC 2408 §3.3): TV (AF=1, 2-byte value) and TLV.
use super::Result;

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
    pub fn basic(ty: u16, v: u16) -> Attribute { todo!() }
    /// A value < 65536 as TV, otherwise TLV with exactly 4 big-endian bytes
    /// (what pluto's `out_attr` does, e.g. for a lifetime of 86400).
    pub fn from_u32(ty: u16, v: u32) -> Attribute { todo!() }
    /// The value as an integer: TV directly; TLV of 1..=8 bytes big-endian.
    /// None when a TLV is empty or longer than 8 bytes.
    pub fn as_u64(&self) -> Option<u64> { todo!() }
    pub fn emit(&self, out: &mut Vec<u8>) { todo!() }
    /// Parses a whole attribute list (exactly fills `data`).
    pub fn parse_list(data: &[u8]) -> Result<Vec<Attribute>> { todo!() }
}
