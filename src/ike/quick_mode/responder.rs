//! The responder's side of Quick Mode: QI1 in, QR1 out, QI2 in.

use super::install::{id_bytes, id_of, same_selector, selector_of};
use super::*;
use crate::ctl::Rc;
use crate::ike::crypto::validate_public;
use crate::ike::oppo::Admission;
use crate::ike::proposal::AuthMethod;
use crate::ike::wire::SaPayload;

impl Endpoint {
    pub(super) fn responder_qi1(
        &mut self,
        now: Instant,
        p1: u64,
        hdr: &Header,
        body: &[u8],
        message: (crate::ike::state::Digest, &[u8]),
    ) {
        let conn_name = self.p1.get(&p1).map(|s| s.conn.clone()).unwrap_or_default();
        match self.responder_qi1_inner(now, p1, hdr, body, message) {
            Ok(()) => {}
            Err((e, authenticated)) => {
                self.count_reject(&e);
                self.log(
                    Level::Warn,
                    Some(&conn_name),
                    Some(p1),
                    Some(Rc::Notification(u32::from(e.notify().unwrap_or(0)))),
                    format!("Quick Mode request refused: {e}"),
                );
                if authenticated {
                    if let Some(n) = e.notify() {
                        self.send_protected_notify(now, p1, n);
                    }
                }
            }
        }
    }

    pub(super) fn responder_qi1_inner(
        &mut self,
        now: Instant,
        p1: u64,
        hdr: &Header,
        body: &[u8],
        (digest, data): (crate::ike::state::Digest, &[u8]),
    ) -> Result<(), (Reject, bool)> {
        let unauth = |e: Reject| (e, false);
        let P1Keys {
            prf,
            skeyid_a,
            hash,
            cipher,
            iv: p1_iv,
            ..
        } = self.p1_keys(p1).map_err(unauth)?;
        let iv = phase2_iv(hash, &p1_iv, hdr.msgid, cipher.block_len());
        let (parsed, got, next_iv) = self.open_quick(p1, &iv, hdr, body).map_err(unauth)?;
        let expected = qm_hash1(prf, &skeyid_a, hdr.msgid, parsed.after(0));
        if !ct_eq(&got, &expected) {
            return Err(unauth(misbehaved(Misbehaviour::BadHash(
                "Quick Mode HASH(1)",
            ))));
        }
        if parsed.all(payload_type::KE).next().is_some() && !self.compute.has_room(false) {
            // PFS needs a computation and the queue is full: nothing is
            // remembered (not even the message ID), so the peer's resend
            // of QI1 is answered once the computations out have come back.
            self.log(
                Level::Debug,
                None,
                Some(p1),
                None,
                "too many computations in progress; QI1 dropped".into(),
            );
            return Ok(());
        }
        // From here the message is authentic: the peer deserves a notification.
        let auth = |e: Reject| (e, true);
        self.peer_spoke(p1, hdr.msgid);
        let conn_name = self.p1.get(&p1).map(|s| s.conn.clone()).unwrap_or_default();
        let conn = self
            .conn(&conn_name)
            .cloned()
            .ok_or_else(|| auth(Reject::Local("connection vanished".into())))?;
        let Payload::Sa(sa) = &parsed.one(payload_type::SA, "SA").map_err(auth)?.payload else {
            return Err(auth(missing("SA")));
        };
        let Payload::Nonce(ni) = &parsed
            .one(payload_type::NONCE, "NONCE")
            .map_err(auth)?
            .payload
        else {
            return Err(auth(missing("NONCE")));
        };
        let ke = match parsed.all(payload_type::KE).count() {
            0 => None,
            1 => parsed.all(payload_type::KE).find_map(|p| match &p.payload {
                Payload::Ke(k) => Some(k.clone()),
                _ => None,
            }),
            _ => return Err(auth(misbehaved(Misbehaviour::UnexpectedPayload("KE")))),
        };
        let ids: Vec<&crate::ike::wire::ParsedPayload> = parsed.all(payload_type::ID).collect();
        let (id_i, id_r) = match ids.as_slice() {
            [] => (None, None),
            [a, b] if b.start == a.end => (
                Some(parsed.body_of(a).to_vec()),
                Some(parsed.body_of(b).to_vec()),
            ),
            _ => {
                return Err(auth(misbehaved(Misbehaviour::BadParameter(
                    "Quick Mode needs no ID payloads or exactly two adjacent ones",
                ))))
            }
        };
        let udp = self.natt_udp(p1);
        let quick = QuickOffer {
            p1,
            sa,
            ke: ke.as_deref(),
            id_i: id_i.as_deref(),
            id_r: id_r.as_deref(),
            udp,
            parsed: &parsed,
        };
        // The ISAKMP SA's connection, or, when its IDs or proposals do not
        // fit it, another between the same ends whose clients they are and
        // which takes the proposal (the seed's pluto looks for "a connection
        // with matching clients"; a host-to-host transport connection beside
        // tunnels between the same hosts differs in its mode only).
        let (conn, accepted) = match self.accept_quick(&conn, &quick) {
            Ok(a) => (conn, a),
            Err(
                e @ (Reject::PeerMisbehaved(Misbehaviour::WrongIdentity { .. })
                | Reject::PeerIncompatible(Incompatible::NoProposalChosen { .. })),
            ) => match self.opportunistic_clients(&conn.name, p1, hdr.msgid, &quick, data) {
                Some(Admission::Waiting) => return Ok(()),
                Some(Admission::Refused(why)) => {
                    self.log(Level::Info, Some(&conn.name), Some(p1), None, why);
                    return Err(auth(e));
                }
                Some(Admission::Instance) | None => match self.conn_for_clients(&conn, &quick) {
                    Some((other, a)) => {
                        self.log(
                            Level::Info,
                            Some(&other.name),
                            Some(p1),
                            None,
                            format!(
                                "Quick Mode for \"{}\"'s ISAKMP SA: the clients are \"{}\"'s",
                                conn.name, other.name
                            ),
                        );
                        (other, a)
                    }
                    None => return Err(auth(e)),
                },
            },
            Err(e) => return Err(auth(e)),
        };
        let Accepted {
            offered,
            chosen,
            nat_oa,
            peer_client,
        } = accepted;
        let serial = self.new_serial();
        let reqid = self.conn_reqid(&conn.name);
        let mut st = new_phase2(
            serial,
            p1,
            &conn.name,
            Role::Responder,
            StateKind::QuickR0,
            hdr.msgid,
            offered,
            reqid,
            0,
        );
        st.iv = next_iv;
        st.ni = ni.clone();
        st.qx_mut().peer_ke = ke;
        st.id_i = id_i;
        st.id_r = id_r;
        st.nat_oa = nat_oa;
        st.peer_client = peer_client;
        st.last_rx = Some(digest);
        let protos: Vec<IpsecProto> = chosen.protos.iter().map(|c| c.proto).collect();
        st.chosen = Some(chosen);
        self.p2.insert(serial, st);
        let (l, r) = self.p1_addrs(serial).map_err(auth)?;
        self.note_instance(&conn.name, r.ip());
        self.log_state(
            &conn.name,
            serial,
            None,
            format!(
                "responding to Quick Mode proposal {{msgid:{:08x}}}",
                hdr.msgid
            ),
        );
        self.request_spis(serial, &protos, l.ip(), r.ip());
        let _ = now;
        Ok(())
    }

    /// QI1 under an opportunistic template (`oppo`): whether its clients
    /// are admitted. While DNS is asked, the message ID is not counted as
    /// used: the QI1 is read again with the answer.
    fn opportunistic_clients(
        &mut self,
        conn: &str,
        p1: u64,
        msgid: u32,
        q: &QuickOffer<'_>,
        data: &[u8],
    ) -> Option<Admission> {
        if !self.is_oe_template(conn) {
            return None;
        }
        let sel = |b: Option<&[u8]>| crate::ike::natt::id_selector(&IdPayload::parse(b?).ok()?);
        let (Some(theirs), Some(ours)) = (sel(q.id_i), sel(q.id_r)) else {
            return Some(Admission::Refused(
                "opportunism needs the clients' IDs in Quick Mode".into(),
            ));
        };
        let (local, remote) = self.p1.get(&p1).map(|s| (s.local, s.remote))?;
        let a = self.oe_admit(conn, p1, theirs, ours, (local, remote, data));
        if matches!(a, Admission::Waiting) {
            if let Some(p) = self.p1.get_mut(&p1) {
                p.msgids.retain(|m| *m != msgid);
                p.auth_rx = p.auth_rx.saturating_sub(1);
            }
        }
        Some(a)
    }

    /// What `conn` makes of QI1: the proposal it chooses, and the peer's
    /// client when that is a virtual one.
    fn accept_quick(&self, conn: &ConnConfig, q: &QuickOffer<'_>) -> Result<Accepted, Reject> {
        let offered = Self::ipsec_offer(conn);
        let chosen = select_ipsec_udp(q.sa, &conn.policy, &offered, !conn.esp.is_empty(), q.udp)
            .map_err(|e| pfs_hint(e, conn.policy.pfs, q.ke.is_some()))?;
        let nat_oa = Self::natt_oa_in(chosen.udp, Role::Responder, q.parsed);
        match (chosen.pfs_group, q.ke) {
            (Some(g), Some(k)) if k.len() != g.len() => {
                return Err(misbehaved(Misbehaviour::BadKeyExchange(format!(
                    "{} bytes for {}",
                    k.len(),
                    g.name()
                ))))
            }
            (Some(_), None) => return Err(missing("KE")),
            (None, Some(_)) => {
                return Err(misbehaved(Misbehaviour::UnexpectedPayload(
                    "KE without PFS group",
                )))
            }
            _ => {}
        }
        let peer_client = self.check_client_ids(conn, q.p1, q.id_i, q.id_r, nat_oa)?;
        Ok(Accepted {
            offered,
            chosen,
            nat_oa,
            peer_client,
        })
    }

    /// Another connection for a QI1 whose IDs do not fit the ISAKMP SA's
    /// connection `current`: the first added that has the same local end
    /// (host and ID), takes the peer (its host, or `%any`) under the ID
    /// Main Mode proved, with the same kind of authentication (and for a
    /// PSK the same key), and accepts QI1 as it is. Looked up by the two
    /// hosts, so the work does not grow with the connections elsewhere.
    fn conn_for_clients(
        &self,
        current: &ConnConfig,
        q: &QuickOffer<'_>,
    ) -> Option<(ConnConfig, Accepted)> {
        let parent = self.p1.get(&q.p1)?;
        let (local, remote) = (parent.local.ip(), parent.remote.ip());
        let auth = parent.chosen?.auth;
        let peer_id = parent.peer_id.as_ref()?;
        // A PSK exchange stays with connections of the same key.
        let psk = match auth {
            AuthMethod::Psk => Some(self.conn_psk(current)?),
            AuthMethod::RsaSig => None,
        };
        let fits = |c: &ConnConfig| {
            c.name != current.name
                && c.local.host == current.local.host
                && c.local.effective_id() == current.local.effective_id()
                && match &c.remote.id {
                    Some(id) => id == peer_id,
                    None => {
                        c.remote.host.is_none() || c.remote.effective_id().as_ref() == Some(peer_id)
                    }
                }
                && match auth {
                    AuthMethod::Psk => c.policy.psk && self.conn_psk(c) == psk,
                    AuthMethod::RsaSig => c.policy.rsasig,
                }
        };
        self.conns
            .for_peer(local, remote)
            .filter(|c| fits(c))
            .find_map(|c| Some((c.clone(), self.accept_quick(c, q).ok()?)))
    }

    /// The peer's IDci must be its client and IDcr ours (spec §7.4, without
    /// switching connections yet), or IDci a virtual client the
    /// connection allows: then that is the peer's client.
    pub(super) fn check_client_ids(
        &self,
        conn: &ConnConfig,
        p1: u64,
        id_i: Option<&[u8]>,
        id_r: Option<&[u8]>,
        peer_oa: Option<IpAddr>,
    ) -> Result<Option<Selector>, Reject> {
        let parent = self
            .p1
            .get(&p1)
            .ok_or_else(|| Reject::Local("ISAKMP SA vanished".into()))?;
        let theirs = id_bytes(&id_of(&selector_of(conn.remote.client, parent.remote.ip())));
        let ours = id_bytes(&id_of(&selector_of(conn.local.client, parent.local.ip())));
        let ok = match (id_i, id_r) {
            (None, None) => !Self::wants_ids(conn),
            (Some(i), Some(r)) => same_selector(i, &theirs) && same_selector(r, &ours),
            _ => false,
        };
        if ok {
            return Ok(None);
        }
        if let Some(virt) = self.virtual_client(conn, p1, id_i, id_r, &ours, peer_oa) {
            return Ok(Some(virt));
        }
        {
            let show = |b: Option<&[u8]>| {
                b.and_then(|b| IdPayload::parse(b).ok())
                    .map_or("none".to_string(), |i| i.id.to_string())
            };
            Err(misbehaved(Misbehaviour::WrongIdentity {
                expected: format!("{} <=> {}", show(Some(&theirs)), show(Some(&ours))),
                got: format!("{} <=> {}", show(id_i), show(id_r)),
            }))
        }
    }

    /// A virtual client (`--client vhost:`/`vnet:` on the peer's end) the
    /// peer proposed as IDci, with IDcr our client, if the rules allow it.
    fn virtual_client(
        &self,
        conn: &ConnConfig,
        p1: u64,
        id_i: Option<&[u8]>,
        id_r: Option<&[u8]>,
        ours: &[u8],
        peer_oa: Option<IpAddr>,
    ) -> Option<Selector> {
        let virt = conn.remote.virt.as_ref()?;
        let (i, r) = (id_i?, id_r?);
        if !same_selector(r, ours) {
            return None;
        }
        let sel = crate::ike::natt::id_selector(&IdPayload::parse(i).ok()?)?;
        let peer = self.p1.get(&p1)?.remote.ip();
        crate::ike::natt::virtual_client_allowed(
            virt,
            &sel,
            peer,
            peer_oa,
            &self.nat.virtual_private,
        )
        .then_some(sel)
    }

    pub(super) fn send_qr1(&mut self, now: Instant, serial: u64) -> Result<(), Reject> {
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
        let chosen = st
            .chosen
            .clone()
            .ok_or_else(|| Reject::Local("nothing chosen".into()))?;
        if let (Some(group), None) = (chosen.pfs_group, &st.qx().dh) {
            // Our key pair and g^xy are made elsewhere; QR1 goes when they are back.
            let peer = st.qx().peer_ke.clone().ok_or_else(|| missing("KE"))?;
            validate_public(group, &peer)
                .map_err(|e| misbehaved(Misbehaviour::BadKeyExchange(e.to_string())))?;
            let seed = self.dh_seed(group);
            self.ask(Work::Dh { group, seed, peer }, Then::Qr1 { serial }, false);
            return Ok(());
        }
        let nat_oas = self.natt_oa_out(st.parent, Role::Responder, chosen.mode, chosen.udp);
        let nr = self.random_vec(NONCE_LEN);
        let st = self
            .p2
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let dh = st.qx_mut().dh.take().filter(|_| chosen.pfs_group.is_some());
        let spis = st.our_spis.clone();
        let spi_of = move |p: IpsecProto| spis.iter().find(|(q, _)| *q == p).map_or(0, |(_, s)| *s);
        let mut rest = vec![
            Payload::Sa(chosen.reply_payload(&spi_of)),
            Payload::Nonce(nr.clone()),
        ];
        if let Some(d) = &dh {
            rest.push(Payload::Ke(d.public.clone()));
        }
        if let (Some(i), Some(r)) = (&st.id_i, &st.id_r) {
            let i = IdPayload::parse(i).map_err(Reject::from)?;
            let r = IdPayload::parse(r).map_err(Reject::from)?;
            rest.push(Payload::Id(i));
            rest.push(Payload::Id(r));
        }
        rest.extend(nat_oas);
        let (_, rest_bytes) = emit_chain(&rest);
        let h2 = qm_hash2(prf, &skeyid_a, st.msgid, &st.ni, &rest_bytes);
        let mut all = vec![Payload::Hash(h2)];
        all.extend(rest);
        let (first, chain) = emit_chain(&all);
        let h = HeaderFields {
            icookie,
            rcookie,
            exchange: exchange::QUICK,
            msgid: st.msgid,
        };
        let (packet, next_iv) = build_encrypted(&h, first, &chain, cipher, &enc_key, &st.iv)?;
        st.iv = next_iv;
        st.nr = nr;
        if st.qx().gqm.is_some() {
            // PFS: g^xy is known and QR1 carries our public value; neither
            // our key pair nor the peer's value is needed again (a repeated
            // QI1 gets QR1's copy). Some 450 bytes less per exchange in
            // flight, a thousand of which a gateway may hold at once.
            st.qx_mut().peer_ke = None;
        } else {
            st.qx_mut().dh = dh;
        }
        st.kind = StateKind::QuickR1;
        st.retransmit = None;
        self.install(now, serial, true, false, AfterInstall::SendQr1(packet))
    }

    pub(super) fn responder_qi2(
        &mut self,
        now: Instant,
        serial: u64,
        hdr: &Header,
        body: &[u8],
    ) -> Result<(), Reject> {
        let st = self
            .p2
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let P1Keys { prf, skeyid_a, .. } = self.p1_keys(st.parent)?;
        let (parsed, got, next_iv) = self.open_quick(st.parent, &st.iv, hdr, body)?;
        if parsed.payloads.len() != 1 {
            return Err(misbehaved(Misbehaviour::UnexpectedPayload(
                "anything but HASH in QI2",
            )));
        }
        let expected = qm_hash3(prf, &skeyid_a, st.msgid, &st.ni, &st.nr);
        if !ct_eq(&got, &expected) {
            return Err(misbehaved(Misbehaviour::BadHash("Quick Mode HASH(3)")));
        }
        let conn_life = self.conn(&st.conn).map_or(28800, |c| c.ipsec_lifetime);
        let st = self
            .p2
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        st.iv = next_iv;
        st.kind = StateKind::QuickR2;
        st.retransmit = None;
        let life = st
            .chosen
            .as_ref()
            .map_or(conn_life, |c| c.lifetime.min(conn_life));
        st.expires = Some(now + Duration::from_secs(u64::from(life)));
        self.install(now, serial, false, true, AfterInstall::Establish)
    }
}

/// A refusal because our policy demands PFS and the peer offered none would
/// otherwise list the same transforms as offered and allowed: say why.
pub(super) fn pfs_hint(e: Reject, pfs: bool, peer_ke: bool) -> Reject {
    match e {
        Reject::PeerIncompatible(Incompatible::NoProposalChosen { offered, allowed })
            if pfs && !peer_ke =>
        {
            Reject::PeerIncompatible(Incompatible::NoProposalChosen {
                offered: format!("{offered} (without PFS)"),
                allowed: format!("{allowed} (with PFS only)"),
            })
        }
        other => other,
    }
}

/// QI1's parts that a connection is judged on.
struct QuickOffer<'a> {
    p1: u64,
    sa: &'a SaPayload,
    ke: Option<&'a [u8]>,
    id_i: Option<&'a [u8]>,
    id_r: Option<&'a [u8]>,
    udp: Option<crate::ike::natt::UdpEncap>,
    parsed: &'a Parsed,
}

/// What a connection makes of QI1 (see `accept_quick`).
struct Accepted {
    offered: Vec<crate::ike::proposal::IpsecProposal>,
    chosen: Chosen,
    nat_oa: Option<IpAddr>,
    peer_client: Option<Selector>,
}
