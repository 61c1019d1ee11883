//! The generic payload chain: next-payload byte, reserved, 16-bit length.
use super::{Payload, Result};

/// A message never legitimately carries more payloads than this.
pub const MAX_PAYLOADS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPayload {
    pub payload: Payload,
    /// Offset of this payload's generic header within the parsed data.
    pub start: usize,
    /// Offset one past its last byte.
    pub end: usize,
}

impl ParsedPayload {
    /// The payload body as received (without the generic header), e.g. SAi_b, IDii_b.
    pub fn body<'a>(&self, data: &'a [u8]) -> &'a [u8] { todo!() }
}

/// Walks the chain starting with payload type `first` over `data` (the message
/// body after the header, decrypted if need be). Every payload length must be
/// >= 4 and fit; the reserved byte is not checked. The chain ends at next
/// payload NONE. After it, if `allow_trailing` (encrypted messages carry
/// padding) remaining bytes are ignored, else they are an error. Types
/// PROPOSAL and TRANSFORM at top level, IKEv2 types (33..=53) and any other
/// undefined type below 128 except NAT-D/NAT-OA are InvalidPayloadType.
pub fn parse_chain(first: u8, data: &[u8], allow_trailing: bool) -> Result<Vec<ParsedPayload>> {
    todo!()
}

/// Emits payloads as a chain; returns the first payload type (NONE if empty)
/// and the bytes. Lengths and next-payload fields are computed here.
pub fn emit_chain(payloads: &[Payload]) -> (u8, Vec<u8>) {
    todo!()
}
