//! The generic payload chain: next-payload byte, reserved, 16-bit length.
use super::bytes::{begin_payload, patch_len, Reader};
use super::{
    payload_type as pt, DeletePayload, IdPayload, NotifyPayload, Payload, Result, SaPayload,
    WireError,
};

/// Size of the generic payload header.
const GENERIC_LEN: usize = 4;

/// Smallest and largest nonce body (RFC 2409 §5).
const NONCE_MIN: usize = 8;
const NONCE_MAX: usize = 256;

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
    pub fn body<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        self.start
            .checked_add(GENERIC_LEN)
            .and_then(|b| data.get(b..self.end))
            .unwrap_or(&[])
    }
}

/// Walks the chain starting with payload type `first` over `data` (the message
/// body after the header, decrypted if need be). Every payload length must be at
/// least 4 and fit; the reserved byte is not checked. The chain ends at next
/// payload NONE. After it, if `allow_trailing` (encrypted messages carry
/// padding) remaining bytes are ignored, else they are an error. Types
/// PROPOSAL and TRANSFORM at top level, IKEv2 types (33..=53) and any other
/// undefined type below 128 except NAT-D/NAT-OA are InvalidPayloadType.
pub fn parse_chain(first: u8, data: &[u8], allow_trailing: bool) -> Result<Vec<ParsedPayload>> {
    let mut out = Vec::new();
    let mut next = first;
    let mut pos = 0usize;
    while next != pt::NONE {
        if !is_ikev1_type(next) {
            return Err(WireError::InvalidPayloadType(next));
        }
        if out.len() >= MAX_PAYLOADS {
            return Err(WireError::TooManyPayloads);
        }
        let rest = data.get(pos..).unwrap_or(&[]);
        let mut r = Reader::new(rest, "payload header");
        let this_next = r.u8()?;
        let _reserved = r.u8()?;
        let len = usize::from(r.u16()?);
        if len < GENERIC_LEN || len > rest.len() {
            return Err(WireError::BadLength {
                what: super::payload_name(next),
                len,
            });
        }
        let body = rest.get(GENERIC_LEN..len).ok_or(WireError::BadLength {
            what: "payload",
            len,
        })?;
        let payload = Payload::parse_body(next, body)?;
        // len >= 4: the walk always advances.
        let end = pos.saturating_add(len);
        out.push(ParsedPayload {
            payload,
            start: pos,
            end,
        });
        pos = end;
        next = this_next;
    }
    let trailing = data.len().saturating_sub(pos);
    if trailing != 0 && !allow_trailing {
        return Err(WireError::TrailingData(trailing));
    }
    Ok(out)
}

/// The payload types an IKEv1 chain may carry at top level.
fn is_ikev1_type(ty: u8) -> bool {
    matches!(ty, pt::SA | pt::KE..=pt::VID | pt::NAT_D | pt::NAT_OA | 128..=255)
}

/// Error for a body that must not be empty / is out of range.
fn bad_len(what: &'static str, len: usize) -> WireError {
    WireError::BadField {
        what,
        value: u32::try_from(len).unwrap_or(u32::MAX),
    }
}

impl Payload {
    /// Decodes the body (without the generic header) of a payload of type `ty`.
    /// Types IKEv1 does not define at top level are InvalidPayloadType.
    pub fn parse_body(ty: u8, body: &[u8]) -> Result<Payload> {
        let non_empty = |what| {
            if body.is_empty() {
                Err(bad_len(what, 0))
            } else {
                Ok(body.to_vec())
            }
        };
        Ok(match ty {
            pt::SA => Payload::Sa(SaPayload::parse(body)?),
            pt::KE => Payload::Ke(non_empty("KE length")?),
            pt::ID => Payload::Id(IdPayload::parse(body)?),
            pt::CERT => {
                let (&encoding, data) = body.split_first().ok_or(WireError::Truncated {
                    what: "CERT",
                    need: 1,
                    have: 0,
                })?;
                Payload::Cert {
                    encoding,
                    data: data.to_vec(),
                }
            }
            pt::CR => {
                let (&cert_type, authority) = body.split_first().ok_or(WireError::Truncated {
                    what: "CR",
                    need: 1,
                    have: 0,
                })?;
                Payload::CertReq {
                    cert_type,
                    authority: authority.to_vec(),
                }
            }
            pt::HASH => Payload::Hash(non_empty("HASH length")?),
            pt::SIG => Payload::Sig(non_empty("SIG length")?),
            pt::NONCE => {
                if !(NONCE_MIN..=NONCE_MAX).contains(&body.len()) {
                    return Err(bad_len("nonce length", body.len()));
                }
                Payload::Nonce(body.to_vec())
            }
            pt::N => Payload::Notify(NotifyPayload::parse(body)?),
            pt::D => Payload::Delete(DeletePayload::parse(body)?),
            pt::VID => Payload::Vid(body.to_vec()),
            pt::NAT_D | pt::NAT_OA | 128..=255 => Payload::Other {
                ty,
                body: body.to_vec(),
            },
            other => return Err(WireError::InvalidPayloadType(other)),
        })
    }

    /// Appends the body (without the generic header).
    pub fn emit_body(&self, out: &mut Vec<u8>) {
        match self {
            Payload::Sa(sa) => sa.emit(out),
            Payload::Id(id) => id.emit(out),
            Payload::Notify(n) => n.emit(out),
            Payload::Delete(d) => d.emit(out),
            Payload::Cert { encoding: b, data }
            | Payload::CertReq {
                cert_type: b,
                authority: data,
            } => {
                out.push(*b);
                out.extend_from_slice(data);
            }
            Payload::Ke(b)
            | Payload::Hash(b)
            | Payload::Sig(b)
            | Payload::Nonce(b)
            | Payload::Vid(b)
            | Payload::Other { body: b, .. } => out.extend_from_slice(b),
        }
    }
}

/// Emits payloads as a chain; returns the first payload type (NONE if empty)
/// and the bytes. Lengths and next-payload fields are computed here.
pub fn emit_chain(payloads: &[Payload]) -> (u8, Vec<u8>) {
    let mut out = Vec::new();
    let first = payloads.first().map_or(pt::NONE, Payload::ty);
    let mut iter = payloads.iter().peekable();
    while let Some(p) = iter.next() {
        let next = iter.peek().map_or(pt::NONE, |n| n.ty());
        let start = begin_payload(&mut out, next);
        p.emit_body(&mut out);
        patch_len(&mut out, start);
    }
    (first, out)
}
