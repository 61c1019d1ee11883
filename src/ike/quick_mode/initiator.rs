//! The initiator's side of Quick Mode: QI1 out, QR1 in, QI2 out.

use super::install::{id_bytes, id_of, same_selector, selector_of};
use super::*;
use crate::ctl::Rc;

impl Endpoint {
    pub(super) fn send_qi1(&mut self, now: Instant, serial: u64) -> Result<(), Reject> {
        let st = self
            .p2
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let parent = self
            .p1
            .get(&st.parent)
            .ok_or_else(|| Reject::Local("ISAKMP SA vanished".into()))?;
        let conn = self
            .conn(&st.conn)
            .cloned()
            .ok_or_else(|| Reject::Local("connection vanished".into()))?;
        let c = parent
            .crypto
            .clone()
            .ok_or_else(|| Reject::Local("ISAKMP SA has no keys".into()))?;
        let parent_auth_rx = parent.auth_rx;
        let (icookie, rcookie, lip, rip) = (
            parent.icookie,
            parent.rcookie,
            parent.local.ip(),
            parent.remote.ip(),
        );
        let group = self.pfs_group_for(&conn, st.parent);
        if let (Some(group), None) = (group, &st.qx().dh) {
            // Our key pair is made elsewhere; QI1 goes when it is back.
            let seed = self.dh_seed(group);
            self.ask(Work::KeyPair { group, seed }, Then::Qi1 { serial }, false);
            return Ok(());
        }
        let udp = self.natt_udp(st.parent);
        let mode = if conn.policy.tunnel {
            Mode::Tunnel
        } else {
            Mode::Transport
        };
        let nat_oas = self.natt_oa_out(st.parent, Role::Initiator, mode, udp);
        let ni = self.random_vec(NONCE_LEN);
        let st = self
            .p2
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let dh = st.qx_mut().dh.take().filter(|_| group.is_some());
        let spis = st.our_spis.clone();
        let spi_of = move |p: IpsecProto| spis.iter().find(|(q, _)| *q == p).map_or(0, |(_, s)| *s);
        let sa = ipsec_sa_payload_udp(
            &st.qx().offered,
            &spi_of,
            mode,
            udp,
            group,
            conn.ipsec_lifetime,
        );
        let mut rest = vec![Payload::Sa(sa), Payload::Nonce(ni.clone())];
        if let Some(d) = &dh {
            rest.push(Payload::Ke(d.public.clone()));
        }
        if Self::wants_ids(&conn) {
            let idci = id_of(&selector_of(conn.local.client, lip));
            let idcr = id_of(&selector_of(st.peer_client.or(conn.remote.client), rip));
            st.id_i = Some(id_bytes(&idci));
            st.id_r = Some(id_bytes(&idcr));
            rest.push(Payload::Id(idci));
            rest.push(Payload::Id(idcr));
        }
        rest.extend(nat_oas);
        let (_, rest_bytes) = emit_chain(&rest);
        let h1 = qm_hash1(c.prf(), c.keys.skeyid_a(), st.msgid, &rest_bytes);
        let mut all = vec![Payload::Hash(h1)];
        all.extend(rest);
        let (first, chain) = emit_chain(&all);
        let iv = phase2_iv(c.xform.hash, &c.iv, st.msgid, c.xform.cipher.block_len());
        let h = HeaderFields {
            icookie,
            rcookie,
            exchange: exchange::QUICK,
            msgid: st.msgid,
        };
        let (packet, next_iv) =
            build_encrypted(&h, first, &chain, c.xform.cipher, c.keys.enc_key(), &iv)?;
        st.iv = next_iv;
        st.ni = ni;
        st.qx_mut().dh = dh;
        st.kind = StateKind::QuickI1;
        st.parent_auth_rx = parent_auth_rx;
        st.retransmit = Some(Retransmit::new(packet.clone(), now, true));
        let conn_name = st.conn.clone();
        self.log_state(
            &conn_name,
            serial,
            Some(Rc::NewState(u32::from(StateKind::QuickI1.number()))),
            "STATE_QUICK_I1: initiate".into(),
        );
        let (l, r) = self.p1_addrs(serial)?;
        self.send(l, r, packet);
        Ok(())
    }

    /// QR1: checks it; with PFS first asks for g^xy (the state waits,
    /// unchanged, and [`Endpoint::initiator_qr1_resumed`] handles the same
    /// QR1 again), then sends QI2 once the SAs are installed.
    pub(super) fn initiator_qr1(
        &mut self,
        now: Instant,
        serial: u64,
        hdr: &Header,
        body: &[u8],
        data: &[u8],
    ) -> Result<(), Reject> {
        let st = self
            .p2
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let P1Keys {
            prf,
            skeyid_a,
            cipher,
            enc_key,
            icookie,
            rcookie,
            ..
        } = self.p1_keys(st.parent)?;
        let (parsed, got, next_iv) = self.open_quick(st.parent, &st.iv, hdr, body)?;
        let expected = qm_hash2(prf, &skeyid_a, st.msgid, &st.ni, parsed.after(0));
        if !ct_eq(&got, &expected) {
            return Err(misbehaved(Misbehaviour::BadHash("Quick Mode HASH(2)")));
        }
        let conn = self
            .conn(&st.conn)
            .cloned()
            .ok_or_else(|| Reject::Local("connection vanished".into()))?;
        let Payload::Sa(sa) = &parsed.one(payload_type::SA, "SA")?.payload else {
            return Err(missing("SA"));
        };
        let Payload::Nonce(nr) = &parsed.one(payload_type::NONCE, "NONCE")?.payload else {
            return Err(missing("NONCE"));
        };
        let chosen = parse_ipsec_reply(sa, &st.qx().offered, !conn.esp.is_empty())?;
        let udp = self.natt_udp(st.parent);
        if chosen.udp != udp {
            return Err(misbehaved(Misbehaviour::BadProposalReply(
                "encapsulation mode differs from ours".into(),
            )));
        }
        let nat_oa = Self::natt_oa_in(udp, Role::Initiator, &parsed);
        let our_group = st.qx().dh.as_ref().map(|d| d.group);
        if chosen.pfs_group != our_group {
            return Err(misbehaved(Misbehaviour::BadProposalReply(
                "PFS group differs from ours".into(),
            )));
        }
        let ke = match (&st.qx().dh, parsed.all(payload_type::KE).count()) {
            (Some(_), 1) => parsed.all(payload_type::KE).find_map(|p| match &p.payload {
                Payload::Ke(k) => Some(k.clone()),
                _ => None,
            }),
            (None, 0) => None,
            (Some(_), 0) => return Err(missing("KE")),
            _ => return Err(misbehaved(Misbehaviour::UnexpectedPayload("KE"))),
        };
        let ids: Vec<&crate::ike::wire::ParsedPayload> = parsed.all(payload_type::ID).collect();
        match (ids.as_slice(), &st.id_i, &st.id_r) {
            ([], _, _) => {}
            ([a, b], Some(i), Some(r))
                if same_selector(parsed.body_of(a), i) && same_selector(parsed.body_of(b), r) => {}
            _ => {
                return Err(misbehaved(Misbehaviour::BadParameter(
                    "Quick Mode reply IDs differ from ours",
                )))
            }
        }
        if let (Some(_), Some(peer), None) = (&st.qx().dh, &ke, &st.qx().gqm) {
            let peer = peer.clone();
            let st = self
                .p2
                .get_mut(&serial)
                .ok_or_else(|| Reject::Local("state vanished".into()))?;
            let pair = st
                .qx_mut()
                .dh
                .take()
                .ok_or_else(|| Reject::Local("no DH key".into()))?;
            let qr1 = data.to_vec();
            self.ask(
                Work::Shared { pair, peer },
                Then::Qr1In { serial, qr1 },
                false,
            );
            return Ok(());
        }
        let ni = st.ni.clone();
        let msgid = st.msgid;
        let h3 = qm_hash3(prf, &skeyid_a, msgid, &ni, nr);
        let (first, chain) = emit_chain(&[Payload::Hash(h3)]);
        let h = HeaderFields {
            icookie,
            rcookie,
            exchange: exchange::QUICK,
            msgid,
        };
        let (packet, after_qi2) = build_encrypted(&h, first, &chain, cipher, &enc_key, &next_iv)?;
        let st = self
            .p2
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        st.nr = nr.clone();
        st.nat_oa = nat_oa;
        st.qx_mut().peer_ke = ke;
        st.qr1_iv = std::mem::replace(&mut st.iv, after_qi2);
        st.chosen = Some(chosen.clone());
        st.kind = StateKind::QuickI2;
        st.retransmit = None;
        st.expires =
            Some(now + Duration::from_secs(u64::from(chosen.lifetime.min(conn.ipsec_lifetime))));
        self.install(now, serial, true, true, AfterInstall::SendQi2(packet))
    }

    /// QUICK_I2 got a QR1 that is not a byte-for-byte repeat. If it is an
    /// authentic copy of the QR1 we accepted (the responder retransmits when
    /// QI2 did not work for it), the copy we took may have carried extra
    /// ciphertext that moved our CBC IV: re-encrypt QI2 with the IV that
    /// follows this copy and send it again.
    pub(super) fn initiator_qr1_again(
        &mut self,
        serial: u64,
        hdr: &Header,
        body: &[u8],
    ) -> Result<(), Reject> {
        let st = self
            .p2
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        if st.qr1_iv.is_empty()
            || st
                .retransmit
                .as_ref()
                .is_some_and(|r| r.dup_resends >= MAX_DUPLICATE_RESENDS)
        {
            return Err(misbehaved(Misbehaviour::BadParameter(
                "unexpected Quick Mode message after QI2",
            )));
        }
        let P1Keys {
            prf,
            skeyid_a,
            cipher,
            enc_key,
            icookie,
            rcookie,
            ..
        } = self.p1_keys(st.parent)?;
        let (parsed, got, next_iv) = self.open_quick(st.parent, &st.qr1_iv, hdr, body)?;
        if !ct_eq(
            &got,
            &qm_hash2(prf, &skeyid_a, st.msgid, &st.ni, parsed.after(0)),
        ) {
            return Err(misbehaved(Misbehaviour::BadHash("Quick Mode HASH(2)")));
        }
        let Payload::Nonce(nr) = &parsed.one(payload_type::NONCE, "NONCE")?.payload else {
            return Err(missing("NONCE"));
        };
        if *nr != st.nr {
            return Err(misbehaved(Misbehaviour::BadParameter(
                "a second, different QR1",
            )));
        }
        let h3 = qm_hash3(prf, &skeyid_a, st.msgid, &st.ni, &st.nr);
        let (first, chain) = emit_chain(&[Payload::Hash(h3)]);
        let h = HeaderFields {
            icookie,
            rcookie,
            exchange: exchange::QUICK,
            msgid: st.msgid,
        };
        let (packet, after_qi2) = build_encrypted(&h, first, &chain, cipher, &enc_key, &next_iv)?;
        let conn = st.conn.clone();
        let st = self
            .p2
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        st.iv = after_qi2;
        if let Some(r) = st.retransmit.as_mut() {
            r.packet = packet.clone();
            r.dup_resends += 1;
        }
        self.log(
            Level::Debug,
            Some(&conn),
            Some(serial),
            None,
            "QR1 arrived again in another encryption; resending QI2 to match it".into(),
        );
        let (l, r) = self.p1_addrs(serial)?;
        self.send(l, r, packet);
        Ok(())
    }

    /// g^xy for QR1 came back: QR1, kept meanwhile, is handled again
    /// (the state did not change), now going on to the SAs and QI2.
    pub(crate) fn initiator_qr1_resumed(
        &mut self,
        now: Instant,
        serial: u64,
        pair: DhKeyPair,
        shared: Result<Vec<u8>, DhError>,
        qr1: &[u8],
    ) {
        let Some(st) = self.p2.get_mut(&serial) else {
            return;
        };
        st.qx_mut().dh = Some(pair);
        let (conn, kind) = (st.conn.clone(), st.kind);
        let result = shared
            .map_err(|e| misbehaved(Misbehaviour::BadKeyExchange(format!("{e:?}"))))
            .and_then(|g| {
                if let Some(st) = self.p2.get_mut(&serial) {
                    st.qx_mut().gqm = Some(g);
                }
                let (hdr, body) = crate::ike::wire::parse_header(qr1).map_err(Reject::from)?;
                self.initiator_qr1(now, serial, &hdr, body, qr1)
            });
        if let Err(e) = result {
            self.quick_rejected(now, serial, &conn, kind, e);
        }
    }
}
