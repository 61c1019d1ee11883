//! The responder's side of Main Mode: MI1 (connection choice, proposal), MI2, MI3
//! (where the connection may change for the peer's ID: `switch`).

use super::*;
use crate::ike::compute::{Then, Work};
use crate::ike::crypto::{validate_public, DhError, DhKeyPair};

impl Endpoint {
    /// Responder connection choice on MI1: by addresses only (spec §7.1).
    pub(crate) fn conn_for_mi1(&self, local: SocketAddr, remote: SocketAddr) -> Option<ConnConfig> {
        let (l, r) = (local.ip(), remote.ip());
        self.conns
            .first_with_hosts(l, Some(r))
            .or_else(|| self.conns.first_with_hosts(l, None))
            .cloned()
    }

    pub(super) fn send_clear_notify(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
        icookie: [u8; 8],
        rcookie: [u8; 8],
        ntype: u16,
    ) {
        let h = HeaderFields {
            icookie,
            rcookie,
            exchange: exchange::INFORMATIONAL,
            msgid: 0,
        };
        let n = NotifyPayload {
            doi: DOI_IPSEC,
            protocol: protocol::ISAKMP,
            spi: Vec::new(),
            msg_type: ntype,
            data: Vec::new(),
        };
        let pkt = build_clear(&h, &[Payload::Notify(n)]);
        self.send(local, remote, pkt);
    }

    /// An acceptable MI1 for a connection we hold no key for: our fault,
    /// logged within the rate limits (the MI1 may be one of a flood).
    fn mi1_without_key(&mut self, remote: SocketAddr, conn: &str, text: &str) {
        self.counters.local += 1;
        if self.peer_budget(remote) {
            self.log(Level::Error, Some(conn), None, None, text.into());
        }
    }

    pub(super) fn responder_mi1(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        hdr: &Header,
        body: &[u8],
        data: &[u8],
    ) {
        let Some(conn) = self.conn_for_mi1(local, remote) else {
            self.counters.peer_incompatible += 1;
            self.log_peer(remote, format!("initial Main Mode message received on {local} but no connection has been authorized"));
            return;
        };
        // RSA is accepted only with a private key to sign with.
        let have_rsa = self.conn_rsa_key(&conn).is_some();
        type Mi1 = (IkeTransform, crate::ike::wire::SaPayload, Vec<u8>, PeerCaps);
        let natt = self.nat.enabled;
        let step = || -> Result<Mi1, Reject> {
            if hdr.flags & flags::ENCRYPTION != 0 || hdr.msgid != 0 {
                return Err(misbehaved(Misbehaviour::BadParameter(
                    "MI1 must be cleartext with message ID 0",
                )));
            }
            let parsed = Parsed::parse(hdr.next_payload, body.to_vec(), false)?;
            let sa_p = parsed.one(payload_type::SA, "SA")?;
            let Payload::Sa(sa) = &sa_p.payload else {
                return Err(crate::ike::error::missing("SA"));
            };
            let allowed: Vec<IkeTransform> = Self::ike_transforms(&conn)
                .into_iter()
                .filter(|t| t.auth == AuthMethod::Psk || have_rsa)
                .collect();
            let (xform, reply) = select_ike(sa, &allowed)?;
            let caps = PeerCaps::learn(parsed.all(payload_type::VID).map(|p| &p.payload), natt);
            Ok((xform, reply, parsed.body_of(sa_p).to_vec(), caps))
        };
        let (xform, reply, sai_b, peer) = match step() {
            Ok(x) => x,
            Err(e) => {
                self.count_reject(&e);
                // Rate-limited like every line about a packet that makes no
                // state, and so is the answer: a flood of broken MI1s must
                // neither fill the log nor be reflected one for one.
                if !self.peer_budget(remote) {
                    return;
                }
                self.log(
                    Level::Warn,
                    Some(&conn.name),
                    None,
                    None,
                    format!("initial Main Mode message from {remote} refused: {e}"),
                );
                if let Some(n) = e.notify() {
                    // No state exists, so the reply carries no responder cookie.
                    self.send_clear_notify(local, remote, hdr.icookie, [0; 8], n);
                }
                return;
            }
        };
        let psk = match xform.auth {
            AuthMethod::Psk => match self.conn_psk(&conn) {
                Some(k) => k,
                None => {
                    return self.mi1_without_key(
                        remote,
                        &conn.name,
                        "Can't authenticate: no preshared key found for the connection's IDs",
                    );
                }
            },
            AuthMethod::RsaSig => {
                if self.conn_rsa_key(&conn).is_none() {
                    return self.mi1_without_key(
                        remote,
                        &conn.name,
                        "Can't authenticate: no RSA private key for our ID in ipsec.secrets",
                    );
                }
                Vec::new()
            }
        };
        // At a limit, a half-open state makes room for this one (see
        // `half_open` for which, and why not the newest): only now that the
        // MI1 proved acceptable, so broken ones evict nothing.
        if let Some(old) = self.half_open.victim(remote.ip()) {
            self.log(
                Level::Debug,
                None,
                Some(old),
                None,
                format!("too many half-open ISAKMP SAs; dropping the oldest for MI1 from {remote}"),
            );
            self.delete_phase1(now, old, false);
        }
        let serial = self.new_serial();
        let mut rcookie = self.random::<8>();
        if rcookie == [0; 8] {
            rcookie[7] = 1;
        }
        let h = HeaderFields {
            icookie: hdr.icookie,
            rcookie,
            exchange: exchange::IDENTITY_PROTECTION,
            msgid: 0,
        };
        let mut payloads = vec![Payload::Sa(reply)];
        payloads.extend(vendor::responder_vids(peer.natt));
        let packet = build_clear(&h, &payloads);
        let st = Phase1 {
            serial,
            conn: conn.name.clone(),
            role: Role::Responder,
            kind: StateKind::MainR1,
            local,
            remote,
            icookie: hdr.icookie,
            rcookie,
            chosen: Some(xform),
            ex: Some(Box::new(MainExchange {
                offered: Self::ike_transforms(&conn),
                sai_b,
                psk,
                ..MainExchange::default()
            })),
            crypto: None,
            peer_id: None,
            // MR1 goes again only for a repeated MI1, never on a timer: the
            // source address of MI1 is unproven, and a timer would send it
            // three answers for one forged packet (CVE-2016-5361's class).
            retransmit: Some(Retransmit::new(packet.clone(), now, false)),
            last_rx: Some(Self::digest(data)),
            msgids: Vec::new(),
            replace: None,
            // Discarded if MI2 does not come (EVENT_SO_DISCARD).
            expires: Some(now + crate::ike::state::HALF_OPEN_DISCARD),
            attempt: 0,
            pending_quick: false,
            auth_rx: 0,
            nat: Default::default(),
            peer,
            dpd: Default::default(),
            computing: None,
        };
        self.p1.insert(serial, st);
        self.note_instance(&conn.name, remote.ip());
        let configured = conn.remote.host == Some(remote.ip());
        self.half_open
            .insert(serial, hdr.icookie, remote, configured);
        self.by_cookies.insert((hdr.icookie, rcookie), serial);
        self.log_state(
            &conn.name,
            serial,
            None,
            format!("responding to Main Mode from {remote}"),
        );
        self.announce(&conn.name, serial, StateKind::MainR1, "");
        self.send(local, remote, packet);
    }

    /// MI2 (KE, Ni): it echoed our cookie, so its source receives where it
    /// claims. Checks the peer's public value and asks for our key pair and
    /// g^xy ([`Work::Dh`]); [`Endpoint::responder_mr2`] answers with the outcome.
    pub(super) fn responder_mi2(
        &mut self,
        serial: u64,
        hdr: &Header,
        body: &[u8],
    ) -> Result<Next, Reject> {
        clear_phase1(hdr)?;
        let parsed = Parsed::parse(hdr.next_payload, body.to_vec(), false)?;
        let (gxi, ni) = Self::ke_nonce(&parsed)?;
        let st = self
            .p1
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let group = st
            .chosen
            .map(|x| x.group)
            .ok_or_else(|| Reject::Local("no group".into()))?;
        // Length and range (1 < y < p-1) before any arithmetic is spent.
        validate_public(group, &gxi)
            .map_err(|e| misbehaved(Misbehaviour::BadKeyExchange(e.to_string())))?;
        let remote = st.remote;
        self.half_open.proven(serial);
        let stranger = !self.half_open.configured(serial);
        if !self.compute.has_room(stranger) {
            // Overloaded: the peer resends MI2 and is answered once the
            // computations out have come back.
            self.log_peer(
                remote,
                "too many Diffie-Hellman computations in progress; MI2 dropped".into(),
            );
            return Ok(Next::Drop);
        }
        let nr = self.random_vec(NONCE_LEN);
        let seed = self.dh_seed(group);
        let st = self
            .p1
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        st.ex_mut().gxi = gxi.clone();
        st.ex_mut().ni = ni;
        st.ex_mut().nr = nr;
        // MR1 is not sent again once MI2 came: a repeated MI2 meanwhile
        // draws nothing, and MR2 takes over when it is ready.
        st.retransmit = None;
        self.natd_in(serial, &parsed);
        self.ask(
            Work::Dh {
                group,
                seed,
                peer: gxi,
            },
            Then::Mr2 { serial },
            stranger,
        );
        Ok(Next::Computing)
    }

    /// MR2 (KE, Nr), once our key pair and g^xy for MI2 are known.
    pub(crate) fn responder_mr2(
        &mut self,
        now: Instant,
        serial: u64,
        pair: DhKeyPair,
        shared: Result<Vec<u8>, DhError>,
    ) {
        let Some(st) = self.p1.get_mut(&serial) else {
            return; // gone meanwhile (deleted, evicted, expired)
        };
        if st.kind != StateKind::MainR1 || st.ex().gxi.is_empty() || st.crypto.is_some() {
            return;
        }
        let conn = st.conn.clone();
        // Only our public value is kept: the secret has served its turn.
        st.ex_mut().gxr = pair.public;
        let result = shared
            .map_err(|e| misbehaved(Misbehaviour::BadKeyExchange(e.to_string())))
            .and_then(|gxy| {
                let st = self
                    .p1
                    .get(&serial)
                    .ok_or_else(|| Reject::Local("state vanished".into()))?;
                self.phase1_crypto(st, &gxy)
            });
        let crypto = match result {
            Ok(c) => c,
            Err(e) => return self.main_rejected(now, serial, &conn, StateKind::MainR1, e),
        };
        let Some(st) = self.p1.get_mut(&serial) else {
            return;
        };
        st.crypto = Some(crypto);
        st.kind = StateKind::MainR2;
        // MI2 proved the peer receives: MR2 is retransmitted and given up on
        // like any other message, and the discard time of MR1 is over.
        st.expires = None;
        let h = HeaderFields {
            icookie: st.icookie,
            rcookie: st.rcookie,
            exchange: exchange::IDENTITY_PROTECTION,
            msgid: 0,
        };
        let mut payloads = vec![
            Payload::Ke(st.ex().gxr.clone()),
            Payload::Nonce(st.ex().nr.clone()),
        ];
        payloads.extend(self.natd_out(serial));
        let packet = build_clear(&h, &payloads);
        let Some(st) = self.p1.get_mut(&serial) else {
            return;
        };
        st.retransmit = Some(Retransmit::new(packet.clone(), now, true));
        let (local, remote) = (st.local, st.remote);
        self.send(local, remote, packet);
        self.announce(&conn, serial, StateKind::MainR2, "");
    }

    /// MI3 (IDii, HASH_I or SIG_I): checks the peer's proof and answers
    /// with ours (MR3), at once or when our signature is made.
    pub(super) fn responder_mi3(
        &mut self,
        now: Instant,
        serial: u64,
        hdr: &Header,
        body: &[u8],
    ) -> Result<Next, Reject> {
        let rsa = self
            .p1
            .get(&serial)
            .and_then(|s| s.chosen)
            .is_some_and(|x| x.auth == AuthMethod::RsaSig);
        if rsa && !self.room_to_compute(serial, false) {
            return Ok(Next::Drop);
        }
        let (peer_id, iv, switch_to, initial_contact) =
            match self.open_id_hash(serial, hdr, body)? {
                IdProof::Proved(id, iv, switch_to, ic) => (id, iv, switch_to, ic),
                IdProof::NeedKey(id) => return Ok(Next::AwaitKey(id)),
            };
        if let Some(to) = switch_to {
            self.switch_conn(serial, to);
        }
        let st = self
            .p1
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let idir_b = self.our_id_bytes(&st.conn)?;
        let c = st
            .crypto
            .as_ref()
            .ok_or_else(|| Reject::Local("no keys".into()))?;
        let hr = hash_r(
            c.prf(),
            c.keys.skeyid(),
            &st.ex().gxi,
            &st.ex().gxr,
            &st.icookie,
            &st.rcookie,
            &st.ex().sai_b,
            &idir_b,
        );
        let st = self
            .p1
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        if let Some(c) = st.crypto.as_mut() {
            c.iv = iv;
        }
        st.peer_id = Some(peer_id);
        st.dpd.initial_contact = initial_contact;
        self.prove_identity(now, serial, hr)
    }
}
