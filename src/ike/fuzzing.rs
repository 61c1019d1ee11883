//! Encryption "as the peer would", for the engine fuzzer (feature `fuzzing`).
//!
//! A fuzzer that mutates ciphertext only ever reaches the decryption check.
//! This seals an arbitrary payload chain with the keys and CBC IV an
//! ISAKMP SA of this endpoint expects from its peer next, so mutated
//! cleartext reaches the Main Mode 5/6, Quick Mode and Informational
//! handlers. It reads the state and changes nothing: the engine still
//! decides everything about the message it is then given.

use super::crypto::{hash_i, informational_hash, phase2_iv, qm_hash3};
use super::endpoint::Endpoint;
use super::packet::{build_encrypted, decrypt_body, HeaderFields};
use super::state::{Phase1, Phase1Crypto, Phase2};
use super::wire::{exchange, parse_chain, payload_type, Payload};

impl Endpoint {
    /// The datagram the peer of the ISAKMP SA `(icookie, rcookie)` would send
    /// with header `exchange`/`msgid` and the payload chain `chain` (first
    /// payload type `first`), encrypted under the IV this endpoint will
    /// decrypt it with. With `fix_hash`, a HASH payload with the value the
    /// engine checks goes first: HASH_I over the chain's first ID for Main
    /// Mode, HASH(3) for the second message of a Quick Mode this endpoint
    /// answered, else HASH(1) over the chain. None: no such SA, or it has no
    /// keys yet.
    #[allow(clippy::too_many_arguments)]
    pub fn fuzz_seal_as_peer(
        &self,
        icookie: [u8; 8],
        rcookie: [u8; 8],
        exchange_type: u8,
        msgid: u32,
        first: u8,
        chain: &[u8],
        fix_hash: bool,
    ) -> Option<Vec<u8>> {
        let (st, c, p2, iv) = self.next_rx(icookie, rcookie, msgid)?;
        let hash = match (fix_hash, msgid, p2) {
            (false, _, _) => None,
            (true, 0, _) => {
                let parsed = parse_chain(first, chain, true).ok()?;
                let id_b = parsed
                    .iter()
                    .find(|p| p.payload.ty() == payload_type::ID)
                    .map(|p| p.body(chain))?;
                Some(hash_i(
                    c.prf(),
                    c.keys.skeyid(),
                    &st.ex().gxi,
                    &st.ex().gxr,
                    &st.icookie,
                    &st.rcookie,
                    &st.ex().sai_b,
                    id_b,
                ))
            }
            (true, _, Some(p)) if exchange_type == exchange::QUICK => {
                Some(qm_hash3(c.prf(), c.keys.skeyid_a(), msgid, &p.ni, &p.nr))
            }
            // QM HASH(1) and the Informational hash are the same function.
            (true, _, _) => Some(informational_hash(c.prf(), c.keys.skeyid_a(), msgid, chain)),
        };
        let (first, body) = match hash {
            None => (first, chain.to_vec()),
            Some(h) => {
                // HASH first, its next-payload field pointing at the chain.
                let (_, mut body) = super::wire::emit_chain(&[Payload::Hash(h)]);
                if let Some(next) = body.first_mut() {
                    *next = first;
                }
                body.extend_from_slice(chain);
                (payload_type::HASH, body)
            }
        };
        let h = HeaderFields {
            icookie,
            rcookie,
            exchange: exchange_type,
            msgid,
        };
        build_encrypted(&h, first, &body, c.xform.cipher, c.keys.enc_key(), &iv)
            .ok()
            .map(|(pkt, _)| pkt)
    }
}

impl Endpoint {
    /// The cleartext chain of an encrypted datagram this endpoint is about
    /// to receive (first payload type, bytes with padding), opened with the
    /// IV [`Endpoint::fuzz_seal_as_peer`] would use: how the fuzz corpus is
    /// seeded from real exchanges.
    pub fn fuzz_open(&self, datagram: &[u8]) -> Option<(u8, Vec<u8>)> {
        let (hdr, body) = super::wire::parse_header(datagram).ok()?;
        let (_, c, _, iv) = self.next_rx(hdr.icookie, hdr.rcookie, hdr.msgid)?;
        let (plain, _) = decrypt_body(c.xform.cipher, c.keys.enc_key(), &iv, body).ok()?;
        Some((hdr.next_payload, plain))
    }
}

impl Endpoint {
    /// The ISAKMP SA of a cookie pair, its keys, the Quick Mode of `msgid`
    /// under it if one exists, and the IV the next message with `msgid`
    /// is decrypted with: the phase-1 IV for Main Mode, the exchange's own
    /// for a Quick Mode under way, else one derived for a new message ID.
    fn next_rx(
        &self,
        icookie: [u8; 8],
        rcookie: [u8; 8],
        msgid: u32,
    ) -> Option<(&Phase1, &Phase1Crypto, Option<&Phase2>, Vec<u8>)> {
        let serial = *self.by_cookies.get(&(icookie, rcookie))?;
        let st = self.p1.get(&serial)?;
        let c = st.crypto.as_ref()?;
        let p2 = self
            .p2
            .values()
            .find(|p| p.parent == serial && p.msgid == msgid && msgid != 0);
        let iv = match (msgid, p2) {
            (0, _) => c.iv.clone(),
            (_, Some(p)) => p.iv.clone(),
            (_, None) => phase2_iv(c.prf(), &c.iv, msgid, c.xform.cipher.block_len()),
        };
        Some((st, c, p2, iv))
    }
}
