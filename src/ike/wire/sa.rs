//! SA, Proposal and Transform payloads (RFC 2408 §3.4-3.6, IPsec DOI situation).
use super::{Attribute, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transform {
    pub number: u8,
    pub transform_id: u8,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub number: u8,
    pub protocol: u8,
    /// 0 bytes (ISAKMP in phase 1), 4 (AH/ESP) or 2 (IPCOMP CPI; 4 also accepted on parse).
    pub spi: Vec<u8>,
    pub transforms: Vec<Transform>,
}

/// SA payload body with DOI = IPsec and SIT_IDENTITY_ONLY. Proposals appear in
/// wire order; proposals sharing a number are conjuncts (e.g. AH and ESP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaPayload {
    pub doi: u32,
    pub situation: u32,
    pub proposals: Vec<Proposal>,
}

impl SaPayload {
    /// Parses the SA body. Rejects DOI != 1 (BadField "DOI"), situation other than
    /// SIT_IDENTITY_ONLY, no proposals, a proposal payload whose next-payload is not
    /// 0/2, transforms whose next is not 0/3, count mismatch, SPI size > 16,
    /// nested lengths inconsistent with the outer one, more than 64 proposals or
    /// 64 transforms per proposal.
    pub fn parse(body: &[u8]) -> Result<SaPayload> { todo!() }
    pub fn emit(&self, out: &mut Vec<u8>) { todo!() }
}
