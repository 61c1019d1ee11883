//! SA, Proposal and Transform payloads (RFC 2408 §3.4-3.6, IPsec DOI situation).
use super::bytes::{begin_payload, patch_len, Reader};
use super::{payload_type, Attribute, Result, WireError, DOI_IPSEC, SIT_IDENTITY_ONLY};

/// Most proposal payloads accepted in one SA payload.
const MAX_PROPOSALS: usize = 64;
/// Most transform payloads accepted in one proposal.
const MAX_TRANSFORMS: usize = 64;
/// Largest SPI any protocol uses (ISAKMP cookie pair).
const MAX_SPI_SIZE: usize = 16;
/// Generic header + proposal#, protocol, SPI size, #transforms.
const PROPOSAL_FIXED: usize = 8;
/// Generic header + transform#, transform id, reserved u16.
const TRANSFORM_FIXED: usize = 8;

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
    pub fn parse(body: &[u8]) -> Result<SaPayload> {
        let mut r = Reader::new(body, "SA");
        let doi = r.u32()?;
        let situation = r.u32()?;
        if doi != DOI_IPSEC {
            return Err(WireError::BadField {
                what: "DOI",
                value: doi,
            });
        }
        if situation != SIT_IDENTITY_ONLY {
            return Err(WireError::BadField {
                what: "situation",
                value: situation,
            });
        }
        if r.is_empty() {
            return Err(WireError::BadSaStructure("no proposals"));
        }
        let mut proposals = Vec::new();
        loop {
            if proposals.len() >= MAX_PROPOSALS {
                return Err(WireError::BadSaStructure("too many proposals"));
            }
            let (next, p) = nested(&mut r, "proposal", payload_type::PROPOSAL, PROPOSAL_FIXED)?;
            proposals.push(Proposal::parse(p)?);
            if next == payload_type::NONE {
                break;
            }
            if r.is_empty() {
                return Err(WireError::BadSaStructure("proposal chain ends early"));
            }
        }
        if !r.is_empty() {
            return Err(WireError::BadSaStructure("data after the last proposal"));
        }
        Ok(SaPayload {
            doi,
            situation,
            proposals,
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.doi.to_be_bytes());
        out.extend_from_slice(&self.situation.to_be_bytes());
        let last = self.proposals.len().saturating_sub(1);
        for (i, p) in self.proposals.iter().enumerate() {
            let next = if i == last {
                payload_type::NONE
            } else {
                payload_type::PROPOSAL
            };
            p.emit(out, next);
        }
    }
}

/// Splits the next nested payload (proposal or transform) off `r`: checks the
/// next-payload byte against `more` (or NONE) and the length against `fixed`
/// and the enclosing data. Returns (next, whole payload bytes).
fn nested<'a>(
    r: &mut Reader<'a>,
    what: &'static str,
    more: u8,
    fixed: usize,
) -> Result<(u8, &'a [u8])> {
    if r.remaining() < fixed {
        return Err(WireError::Truncated {
            what,
            need: fixed,
            have: r.remaining(),
        });
    }
    let whole = r.clone_rest();
    let mut h = Reader::new(whole, what);
    let next = h.u8()?;
    let _reserved = h.u8()?;
    let len = usize::from(h.u16()?);
    if next != more && next != payload_type::NONE {
        return Err(WireError::BadSaStructure(
            if more == payload_type::PROPOSAL {
                "proposal next payload is not P or NONE"
            } else {
                "transform next payload is not T or NONE"
            },
        ));
    }
    if len < fixed || len > whole.len() {
        return Err(WireError::BadLength { what, len });
    }
    // `len` >= `fixed` > 0: the caller always advances.
    let bytes = r.take(len)?;
    Ok((next, bytes))
}

impl Transform {
    fn parse(bytes: &[u8]) -> Result<Transform> {
        let mut r = Reader::new(bytes, "transform");
        let _generic = r.fixed::<4>()?;
        let number = r.u8()?;
        let transform_id = r.u8()?;
        let _reserved = r.u16()?;
        let attributes = Attribute::parse_list(r.rest())?;
        Ok(Transform {
            number,
            transform_id,
            attributes,
        })
    }

    fn emit(&self, out: &mut Vec<u8>, next: u8) {
        let start = begin_payload(out, next);
        out.push(self.number);
        out.push(self.transform_id);
        out.extend_from_slice(&[0, 0]);
        for a in &self.attributes {
            a.emit(out);
        }
        patch_len(out, start);
    }
}

impl Proposal {
    fn parse(bytes: &[u8]) -> Result<Proposal> {
        let mut r = Reader::new(bytes, "proposal");
        let _generic = r.fixed::<4>()?;
        let number = r.u8()?;
        let protocol = r.u8()?;
        let spi_size = r.u8()?;
        let count = usize::from(r.u8()?);
        if usize::from(spi_size) > MAX_SPI_SIZE {
            return Err(WireError::BadField {
                what: "SPI size",
                value: u32::from(spi_size),
            });
        }
        if count == 0 {
            return Err(WireError::BadSaStructure("proposal without transforms"));
        }
        if count > MAX_TRANSFORMS {
            return Err(WireError::BadSaStructure("too many transforms"));
        }
        let spi = r.take(usize::from(spi_size))?.to_vec();
        let mut transforms = Vec::new();
        loop {
            if transforms.len() >= count {
                return Err(WireError::BadSaStructure(
                    "more transforms than the count says",
                ));
            }
            let (next, t) = nested(
                &mut r,
                "transform",
                payload_type::TRANSFORM,
                TRANSFORM_FIXED,
            )?;
            transforms.push(Transform::parse(t)?);
            if next == payload_type::NONE {
                break;
            }
            if r.is_empty() {
                return Err(WireError::BadSaStructure("transform chain ends early"));
            }
        }
        if !r.is_empty() {
            return Err(WireError::BadSaStructure("data after the last transform"));
        }
        if transforms.len() != count {
            return Err(WireError::BadSaStructure("transform count mismatch"));
        }
        Ok(Proposal {
            number,
            protocol,
            spi,
            transforms,
        })
    }

    fn emit(&self, out: &mut Vec<u8>, next: u8) {
        let start = begin_payload(out, next);
        out.push(self.number);
        out.push(self.protocol);
        out.push(u8::try_from(self.spi.len()).unwrap_or(u8::MAX));
        out.push(u8::try_from(self.transforms.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&self.spi);
        let last = self.transforms.len().saturating_sub(1);
        for (i, t) in self.transforms.iter().enumerate() {
            let next = if i == last {
                payload_type::NONE
            } else {
                payload_type::TRANSFORM
            };
            t.emit(out, next);
        }
        patch_len(out, start);
    }
}
