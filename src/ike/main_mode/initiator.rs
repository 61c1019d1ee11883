//! The initiator's side of Main Mode: MR1, MR2 and MR3 in. Our key pair
//! (for MI2) and g^xy (on MR2) are computations (`compute`): MI2 and MI3
//! go out when they come back.

use super::*;
use crate::ike::compute::{Then, Work};
use crate::ike::crypto::{DhError, DhKeyPair};

impl Endpoint {
    /// MR1 (SA): the responder's choice. Asks for our key pair; MI2 follows
    /// in [`Endpoint::initiator_mi2`].
    pub(super) fn initiator_mr1(
        &mut self,
        serial: u64,
        hdr: &Header,
        body: &[u8],
    ) -> Result<Next, Reject> {
        clear_phase1(hdr)?;
        let parsed = Parsed::parse(hdr.next_payload, body.to_vec(), false)?;
        let sa_p = parsed.one(payload_type::SA, "SA")?;
        let Payload::Sa(sa) = &sa_p.payload else {
            return Err(crate::ike::error::missing("SA"));
        };
        let conn_name = self
            .p1
            .get(&serial)
            .map(|s| s.conn.clone())
            .unwrap_or_default();
        let conn = self
            .conn(&conn_name)
            .cloned()
            .ok_or_else(|| Reject::Local("connection vanished".into()))?;
        let st = self
            .p1
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let xform = parse_ike_reply(sa, &st.ex().offered)?;
        let peer = PeerCaps::learn(
            parsed.all(payload_type::VID).map(|p| &p.payload),
            self.nat.enabled,
        );
        let psk = match xform.auth {
            AuthMethod::Psk => self.conn_psk(&conn).ok_or_else(|| {
                Reject::Local(
                    "Can't authenticate: no preshared key found for the connection's IDs".into(),
                )
            })?,
            AuthMethod::RsaSig => Vec::new(),
        };
        if !self.room_to_compute(serial, false) {
            return Ok(Next::Drop);
        }
        // Drawn in the order the key pair and the nonce always were.
        let seed = self.dh_seed(xform.group);
        let ni = self.random_vec(NONCE_LEN);
        let st = self
            .p1
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        st.rcookie = hdr.rcookie;
        st.chosen = Some(xform);
        st.peer = peer;
        st.ex_mut().psk = psk;
        st.ex_mut().ni = ni;
        let (ic, rc) = (st.icookie, st.rcookie);
        self.by_icookie.remove(&ic);
        self.by_cookies.insert((ic, rc), serial);
        self.ask(
            Work::KeyPair {
                group: xform.group,
                seed,
            },
            Then::Mi2 { serial },
            false,
        );
        Ok(Next::Computing)
    }

    /// MI2 (KE, Ni), once our key pair is known.
    pub(crate) fn initiator_mi2(&mut self, now: Instant, serial: u64, pair: DhKeyPair) {
        let Some(st) = self.p1.get_mut(&serial) else {
            return;
        };
        st.ex_mut().gxi = pair.public.clone();
        st.ex_mut().dh = Some(pair);
        st.kind = StateKind::MainI2;
        let h = HeaderFields {
            icookie: st.icookie,
            rcookie: st.rcookie,
            exchange: exchange::IDENTITY_PROTECTION,
            msgid: 0,
        };
        let mut payloads = vec![
            Payload::Ke(st.ex().gxi.clone()),
            Payload::Nonce(st.ex().ni.clone()),
        ];
        payloads.extend(self.natd_out(serial));
        let packet = build_clear(&h, &payloads);
        self.main_step_done(
            now,
            serial,
            Next::Reply {
                packet,
                timed: true,
            },
        );
    }

    /// MR2 (KE, Nr): asks for g^xy; [`Endpoint::initiator_mi3`] goes on.
    pub(super) fn initiator_mr2(
        &mut self,
        serial: u64,
        hdr: &Header,
        body: &[u8],
    ) -> Result<Next, Reject> {
        clear_phase1(hdr)?;
        let parsed = Parsed::parse(hdr.next_payload, body.to_vec(), false)?;
        let (gxr, nr) = Self::ke_nonce(&parsed)?;
        if !self.room_to_compute(serial, false) {
            return Ok(Next::Drop);
        }
        self.natd_in(serial, &parsed);
        let st = self
            .p1
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let pair = st
            .ex_mut()
            .dh
            .take()
            .ok_or_else(|| Reject::Local("no DH key".into()))?;
        st.ex_mut().nr = nr;
        st.ex_mut().gxr = gxr.clone();
        self.ask(
            Work::Shared { pair, peer: gxr },
            Then::Mi3 { serial },
            false,
        );
        Ok(Next::Computing)
    }

    /// g^xy of MR2 is known: the keys, and MI3 (IDii, HASH_I or SIG_I).
    pub(crate) fn initiator_mi3(
        &mut self,
        now: Instant,
        serial: u64,
        pair: DhKeyPair,
        shared: Result<Vec<u8>, DhError>,
    ) {
        let Some(st) = self.p1.get_mut(&serial) else {
            return;
        };
        st.ex_mut().dh = Some(pair);
        let (conn, kind) = (st.conn.clone(), st.kind);
        match self.initiator_keys(now, serial, shared) {
            Ok(next) => self.main_step_done(now, serial, next),
            Err(e) => self.main_rejected(now, serial, &conn, kind, e),
        }
    }

    fn initiator_keys(
        &mut self,
        now: Instant,
        serial: u64,
        shared: Result<Vec<u8>, DhError>,
    ) -> Result<Next, Reject> {
        let gxy = shared.map_err(|e| misbehaved(Misbehaviour::BadKeyExchange(format!("{e:?}"))))?;
        let st = self
            .p1
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let crypto = self.phase1_crypto(st, &gxy)?;
        let idii_b = self.our_id_bytes(&st.conn)?;
        let hi = hash_i(
            crypto.prf(),
            crypto.keys.skeyid(),
            &st.ex().gxi,
            &st.ex().gxr,
            &st.icookie,
            &st.rcookie,
            &st.ex().sai_b,
            &idii_b,
        );
        let st = self
            .p1
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        st.crypto = Some(crypto);
        // The keys are made: our key pair is not needed again.
        st.ex_mut().dh = None;
        self.prove_identity(now, serial, hi)
    }

    /// Decrypts MI3/MR3 and checks the peer's ID and hash. Returns the peer ID
    /// and the IV that follows the message.
    pub(super) fn initiator_mr3(
        &mut self,
        now: Instant,
        serial: u64,
        hdr: &Header,
        body: &[u8],
    ) -> Result<Next, Reject> {
        let (peer_id, iv, initial_contact) = match self.open_id_hash(serial, hdr, body)? {
            IdProof::Proved(id, iv, _, ic) => (id, iv, ic),
            IdProof::NeedKey(id) => return Ok(Next::AwaitKey(id)),
        };
        let st = self
            .p1
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        if let Some(c) = st.crypto.as_mut() {
            c.iv = iv;
        }
        let life = st.chosen.map_or(3600, |x| x.lifetime);
        st.peer_id = Some(peer_id);
        st.dpd.initial_contact = initial_contact;
        st.kind = StateKind::MainI4;
        st.expires = Some(now + Duration::from_secs(u64::from(life)));
        st.forget_exchange();
        Ok(Next::Quiet)
    }
}
