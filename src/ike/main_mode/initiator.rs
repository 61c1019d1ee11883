//! The initiator's side of Main Mode: MR1, MR2 and MR3 in.

use super::*;

impl Endpoint {
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
        let dh = self.dh.generate(xform.group, self.rng.as_mut());
        let ni = self.random_vec(NONCE_LEN);
        let st = self
            .p1
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        st.rcookie = hdr.rcookie;
        st.chosen = Some(xform);
        st.peer = peer;
        st.ex_mut().psk = psk;
        st.ex_mut().gxi = dh.public.clone();
        st.ex_mut().ni = ni.clone();
        st.ex_mut().dh = Some(dh);
        st.kind = StateKind::MainI2;
        let h = HeaderFields {
            icookie: st.icookie,
            rcookie: st.rcookie,
            exchange: exchange::IDENTITY_PROTECTION,
            msgid: 0,
        };
        let mut payloads = vec![Payload::Ke(st.ex().gxi.clone()), Payload::Nonce(ni)];
        let (ic, rc) = (st.icookie, st.rcookie);
        payloads.extend(self.natd_out(serial));
        let packet = build_clear(&h, &payloads);
        self.by_icookie.remove(&ic);
        self.by_cookies.insert((ic, rc), serial);
        Ok(Next::Reply {
            packet,
            timed: true,
        })
    }

    /// KE and nonce of MI2/MR2.
    pub(super) fn initiator_mr2(
        &mut self,
        serial: u64,
        hdr: &Header,
        body: &[u8],
    ) -> Result<Next, Reject> {
        clear_phase1(hdr)?;
        let parsed = Parsed::parse(hdr.next_payload, body.to_vec(), false)?;
        let (gxr, nr) = Self::ke_nonce(&parsed)?;
        self.natd_in(serial, &parsed);
        let st = self
            .p1
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        st.ex_mut().nr = nr;
        let st = self
            .p1
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let crypto = self.derive_phase1(st, &gxr)?;
        let id = IdPayload {
            protocol: 0,
            port: 0,
            id: self.our_id(&st.conn)?,
        };
        let mut idii_b = Vec::new();
        id.emit(&mut idii_b);
        let st = self
            .p1
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        st.ex_mut().gxr = gxr;
        let prf = crypto.prf();
        let hi = hash_i(
            prf,
            &crypto.keys.skeyid,
            &st.ex().gxi,
            &st.ex().gxr,
            &st.icookie,
            &st.rcookie,
            &st.ex().sai_b,
            &idii_b,
        );
        let (packet, next_iv) = self.id_proof_message(serial, id, hi, &crypto, &crypto.iv)?;
        let st = self
            .p1
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        st.crypto = Some(Phase1Crypto {
            iv: next_iv,
            ..crypto
        });
        st.kind = StateKind::MainI3;
        self.natt_float_initiator(serial);
        Ok(Next::Reply {
            packet,
            timed: true,
        })
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
        let (peer_id, iv, _, initial_contact) = self.open_id_hash(serial, hdr, body)?;
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
