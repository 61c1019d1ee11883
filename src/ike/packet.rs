//! Assembling and opening whole ISAKMP messages: header, payload chain,
//! padding and CBC encryption with IV chaining.

use super::crypto::{cbc_decrypt, cbc_encrypt, CipherAlg};
use super::error::{Misbehaviour, Reject};
use super::wire::{emit_chain, flags, parse_chain, Header, ParsedPayload, Payload, HEADER_LEN};

/// Fields of the header that vary per message; the length is computed.
#[derive(Debug, Clone, Copy)]
pub struct HeaderFields {
    pub icookie: [u8; 8],
    pub rcookie: [u8; 8],
    pub exchange: u8,
    pub msgid: u32,
}

fn header(h: &HeaderFields, next: u8, flag_bits: u8, len: usize) -> Header {
    Header {
        icookie: h.icookie,
        rcookie: h.rcookie,
        next_payload: next,
        version: 0x10,
        exchange: h.exchange,
        flags: flag_bits,
        msgid: h.msgid,
        length: u32::try_from(len).unwrap_or(u32::MAX),
    }
}

/// A cleartext message.
pub fn build_clear(h: &HeaderFields, payloads: &[Payload]) -> Vec<u8> {
    let (first, body) = emit_chain(payloads);
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    header(h, first, 0, HEADER_LEN + body.len()).emit(&mut out);
    out.extend_from_slice(&body);
    out
}

/// An encrypted message from an already emitted chain (`first` is its first
/// payload type), zero-padded to the
/// block size. Returns the datagram and the
/// IV for the next message (the last ciphertext block).
pub fn build_encrypted(
    h: &HeaderFields,
    first: u8,
    chain: &[u8],
    cipher: CipherAlg,
    key: &[u8],
    iv: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), Reject> {
    let bl = cipher.block_len();
    let mut body = chain.to_vec();
    // As little padding as possible: a last block that held only padding
    // could be altered in flight without failing any hash, and it becomes the
    // next IV.
    let pad = (bl - body.len() % bl) % bl;
    body.resize(body.len() + pad, 0);
    cbc_encrypt(cipher, key, iv, &mut body)
        .map_err(|_| Reject::Local("encryption failed: bad key or IV length".into()))?;
    let next_iv = last_block(&body, bl);
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    header(h, first, flags::ENCRYPTION, HEADER_LEN + body.len()).emit(&mut out);
    out.extend_from_slice(&body);
    Ok((out, next_iv))
}

fn last_block(data: &[u8], bl: usize) -> Vec<u8> {
    data.get(data.len().saturating_sub(bl)..)
        .unwrap_or_default()
        .to_vec()
}

/// Decrypts a message body. Returns the plaintext and the IV that follows
/// this message; the caller commits that IV only if the message is accepted.
pub fn decrypt_body(
    cipher: CipherAlg,
    key: &[u8],
    iv: &[u8],
    body: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), Reject> {
    let bl = cipher.block_len();
    if body.is_empty() || body.len() % bl != 0 {
        return Err(Reject::PeerMisbehaved(Misbehaviour::BadEncryption(
            "encrypted body is not a whole number of cipher blocks",
        )));
    }
    let next_iv = last_block(body, bl);
    let mut plain = body.to_vec();
    cbc_decrypt(cipher, key, iv, &mut plain)
        .map_err(|_| Reject::Local("decryption failed: bad key or IV length".into()))?;
    Ok((plain, next_iv))
}

/// Parsed payloads of a (decrypted) message with the bytes they came from.
pub struct Parsed {
    pub data: Vec<u8>,
    pub payloads: Vec<ParsedPayload>,
}

impl Parsed {
    pub fn parse(first: u8, data: Vec<u8>, encrypted: bool) -> Result<Parsed, Reject> {
        let payloads = parse_chain(first, &data, encrypted)?;
        Ok(Parsed { data, payloads })
    }

    /// The one payload of type `ty`; an error if absent or repeated.
    pub fn one(&self, ty: u8, name: &'static str) -> Result<&ParsedPayload, Reject> {
        let mut it = self.payloads.iter().filter(|p| p.payload.ty() == ty);
        let first = it
            .next()
            .ok_or(Reject::PeerMisbehaved(Misbehaviour::MissingPayload(name)))?;
        if it.next().is_some() {
            return Err(Reject::PeerMisbehaved(Misbehaviour::UnexpectedPayload(
                name,
            )));
        }
        Ok(first)
    }

    pub fn all(&self, ty: u8) -> impl Iterator<Item = &ParsedPayload> {
        self.payloads.iter().filter(move |p| p.payload.ty() == ty)
    }

    pub fn body_of(&self, p: &ParsedPayload) -> &[u8] {
        p.body(&self.data)
    }

    /// Bytes from the end of payload `idx` to the end of the last payload
    /// (padding excluded): what Quick Mode and Informational hashes cover.
    pub fn after(&self, idx: usize) -> &[u8] {
        let start = self.payloads.get(idx).map_or(0, |p| p.end);
        let end = self.payloads.last().map_or(0, |p| p.end);
        self.data.get(start..end).unwrap_or_default()
    }
}

/// Constant-time comparison for hashes.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
