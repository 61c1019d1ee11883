//! Quick Mode (RFC 2409 §5.5): three messages under an ISAKMP SA that build
//! the IPsec SAs, with optional PFS and client IDs.
//!
//! QI1* HASH(1),SA,Ni[,KE][,IDci,IDcr] -> QR1* HASH(2),SA,Nr[,KE][,IDci,IDcr] -> QI2* HASH(3)

use super::config::ConnConfig;
use super::crypto::{keymat, phase2_iv, qm_hash1, qm_hash2, qm_hash3, CipherAlg, DhGroup, HashAlg};
use super::endpoint::{Endpoint, Level};
use super::error::{misbehaved, missing, Incompatible, Misbehaviour, Reject};
use super::kernel::{
    IntegAlg, IpsecProto, KernelOp, KernelReply, Mode, PolicySpec, SaInstall, Selector,
};
use super::main_mode::NONCE_LEN;
use super::packet::{build_encrypted, ct_eq, decrypt_body, HeaderFields, Parsed};
use super::proposal::{
    default_ipsec_proposals, ipsec_sa_payload, parse_ipsec_reply, select_ipsec, Chosen,
    IpsecTransform,
};
use super::state::{Phase2, Retransmit, Role, StateKind, MAX_DUPLICATE_RESENDS};
use super::wire::{
    emit_chain, exchange, flags, payload_type, Header, IdPayload, Identity, Payload,
};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Inbound SPIs below this are reserved for manual keying.
pub const SPI_MIN: u32 = 0x1000;
/// IPCOMP CPIs pluto negotiates (IPCOMP_FIRST/LAST_NEGOTIATED).
pub const CPI_MIN: u32 = 256;
pub const CPI_MAX: u32 = 61439;

/// What Quick Mode needs from its ISAKMP SA.
struct P1Keys {
    prf: HashAlg,
    skeyid_a: Vec<u8>,
    hash: HashAlg,
    cipher: CipherAlg,
    /// The last phase-1 CBC block.
    iv: Vec<u8>,
    enc_key: Vec<u8>,
    icookie: [u8; 8],
    rcookie: [u8; 8],
}

fn selector_of(client: Option<Selector>, host: IpAddr) -> Selector {
    client.unwrap_or(Selector {
        addr: host,
        prefix: if host.is_ipv4() { 32 } else { 128 },
        protocol: 0,
        port: 0,
    })
}

fn id_of(sel: &Selector) -> IdPayload {
    let id = match sel.addr {
        IpAddr::V4(a) if sel.prefix >= 32 => Identity::Ipv4(a),
        IpAddr::V6(a) if sel.prefix >= 128 => Identity::Ipv6(a),
        IpAddr::V4(a) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(sel.prefix))
                .unwrap_or(0);
            Identity::Ipv4Subnet(a, mask.into())
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(sel.prefix))
                .unwrap_or(0);
            Identity::Ipv6Subnet(a, mask.into())
        }
    };
    IdPayload {
        protocol: sel.protocol,
        port: sel.port,
        id,
    }
}

fn id_bytes(id: &IdPayload) -> Vec<u8> {
    let mut b = Vec::new();
    id.emit(&mut b);
    b
}

impl Endpoint {
    fn ipsec_offer(conn: &ConnConfig) -> Vec<super::proposal::IpsecProposal> {
        default_ipsec_proposals(&conn.policy, &conn.esp)
    }

    /// Quick Mode IDs are exchanged unless both ends are the hosts themselves.
    fn wants_ids(conn: &ConnConfig) -> bool {
        conn.local.client.is_some() || conn.remote.client.is_some()
    }

    fn fresh_msgid(&mut self, p1: u64) -> u32 {
        loop {
            let m = u32::from_be_bytes(self.random::<4>());
            let used = self.p1.get(&p1).is_some_and(|s| s.msgids.contains(&m));
            if m != 0 && !used {
                if let Some(s) = self.p1.get_mut(&p1) {
                    s.msgids.push(m);
                }
                return m;
            }
        }
    }

    fn request_spis(&mut self, serial: u64, protos: &[IpsecProto], local: IpAddr, remote: IpAddr) {
        for p in protos {
            let req = self.next_req;
            self.next_req += 1;
            let (min, max) = match p {
                IpsecProto::Ipcomp => (CPI_MIN, CPI_MAX),
                _ => (SPI_MIN, u32::MAX),
            };
            self.kernel_ops.push_back(KernelOp::GetSpi {
                req,
                proto: *p,
                src: remote,
                dst: local,
                min,
                max,
            });
            if let Some(s) = self.p2.get_mut(&serial) {
                s.pending_spis.push((req, *p));
            }
        }
    }

    pub(crate) fn start_quick(&mut self, now: Instant, p1: u64, attempt: u32) {
        let Some(parent) = self.p1.get(&p1) else {
            return;
        };
        let Some(conn) = self.conn(&parent.conn).cloned() else {
            return;
        };
        let offered = Self::ipsec_offer(&conn);
        let Some(first) = offered.first() else { return };
        let protos: Vec<IpsecProto> = first.protos.iter().map(|(p, _)| *p).collect();
        let (local, remote) = (parent.local.ip(), parent.remote.ip());
        let serial = self.new_serial();
        let msgid = self.fresh_msgid(p1);
        let reqid = self.next_reqid;
        self.next_reqid += 1;
        self.p2.insert(
            serial,
            new_phase2(
                serial,
                p1,
                &conn.name,
                Role::Initiator,
                StateKind::QuickI0,
                msgid,
                offered,
                reqid,
                attempt,
            ),
        );
        self.log(
            Level::Debug,
            Some(&conn.name),
            Some(serial),
            None,
            format!("asking the kernel for SPIs ({} protocols)", protos.len()),
        );
        let _ = now;
        self.request_spis(serial, &protos, local, remote);
    }

    pub(crate) fn quick_kernel_reply(&mut self, now: Instant, reply: KernelReply) {
        let req = match &reply {
            KernelReply::Spi { req, .. } | KernelReply::Failed { req, .. } => *req,
        };
        let Some(serial) = self
            .p2
            .values()
            .find(|s| s.pending_spis.iter().any(|(r, _)| *r == req))
            .map(|s| s.serial)
        else {
            self.log(
                Level::Debug,
                None,
                None,
                None,
                format!("kernel reply to unknown request {req}"),
            );
            return;
        };
        let Some(st) = self.p2.get_mut(&serial) else {
            return;
        };
        let Some(pos) = st.pending_spis.iter().position(|(r, _)| *r == req) else {
            return;
        };
        let (_, proto) = st.pending_spis.remove(pos);
        match reply {
            KernelReply::Spi { spi, .. } => st.our_spis.push((proto, spi)),
            KernelReply::Failed { reason, .. } => {
                let conn = st.conn.clone();
                self.log(
                    Level::Error,
                    Some(&conn),
                    Some(serial),
                    Some(32),
                    format!("kernel refused an SPI for {}: {reason}", proto.name()),
                );
                self.events.push_back(super::endpoint::Event::Failed {
                    serial,
                    conn,
                    reason,
                });
                self.delete_phase2(now, serial, false);
                return;
            }
        }
        if !st.pending_spis.is_empty() {
            return;
        }
        let kind = st.kind;
        let result = match kind {
            StateKind::QuickI0 => self.send_qi1(now, serial),
            StateKind::QuickR0 => self.send_qr1(now, serial),
            _ => Ok(()),
        };
        if let Err(e) = result {
            self.count_reject(&e);
            let conn = self
                .p2
                .get(&serial)
                .map(|s| s.conn.clone())
                .unwrap_or_default();
            self.log(
                Level::Error,
                Some(&conn),
                Some(serial),
                Some(32),
                format!("{}: {e}", kind.name()),
            );
            self.delete_phase2(now, serial, false);
        }
    }

    fn pfs_group_for(&self, conn: &ConnConfig, p1: u64) -> Option<DhGroup> {
        if !conn.policy.pfs {
            return None;
        }
        conn.pfs_group
            .or_else(|| self.p1.get(&p1).and_then(|s| s.chosen).map(|x| x.group))
    }

    fn send_qi1(&mut self, now: Instant, serial: u64) -> Result<(), Reject> {
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
        let dh = group.map(|g| self.dh.generate(g, self.rng.as_mut()));
        let ni = self.random_vec(NONCE_LEN);
        let st = self
            .p2
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let mode = if conn.policy.tunnel {
            Mode::Tunnel
        } else {
            Mode::Transport
        };
        let spis = st.our_spis.clone();
        let spi_of = move |p: IpsecProto| spis.iter().find(|(q, _)| *q == p).map_or(0, |(_, s)| *s);
        let sa = ipsec_sa_payload(&st.offered, &spi_of, mode, group, conn.ipsec_lifetime);
        let mut rest = vec![Payload::Sa(sa), Payload::Nonce(ni.clone())];
        if let Some(d) = &dh {
            rest.push(Payload::Ke(d.public.clone()));
        }
        if Self::wants_ids(&conn) {
            let idci = id_of(&selector_of(conn.local.client, lip));
            let idcr = id_of(&selector_of(conn.remote.client, rip));
            st.id_i = Some(id_bytes(&idci));
            st.id_r = Some(id_bytes(&idcr));
            rest.push(Payload::Id(idci));
            rest.push(Payload::Id(idcr));
        }
        let (_, rest_bytes) = emit_chain(&rest);
        let h1 = qm_hash1(c.prf(), &c.keys.skeyid_a, st.msgid, &rest_bytes);
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
            build_encrypted(&h, first, &chain, c.xform.cipher, &c.keys.enc_key, &iv)?;
        st.iv = next_iv;
        st.ni = ni;
        st.dh = dh;
        st.kind = StateKind::QuickI1;
        st.parent_auth_rx = parent_auth_rx;
        st.retransmit = Some(Retransmit::new(packet.clone(), now, true));
        let conn_name = st.conn.clone();
        self.log_state(
            &conn_name,
            serial,
            Some(100 + StateKind::QuickI1.number()),
            "STATE_QUICK_I1: initiate".into(),
        );
        let (l, r) = self.p1_addrs(serial)?;
        self.send(l, r, packet);
        Ok(())
    }

    fn p1_addrs(&self, p2: u64) -> Result<(SocketAddr, SocketAddr), Reject> {
        let parent = self
            .p2
            .get(&p2)
            .map(|s| s.parent)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let p = self
            .p1
            .get(&parent)
            .ok_or_else(|| Reject::Local("ISAKMP SA vanished".into()))?;
        Ok((p.local, p.remote))
    }

    pub(crate) fn quick_input(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        hdr: &Header,
        body: &[u8],
        data: &[u8],
    ) {
        let Some(&p1) = self.by_cookies.get(&(hdr.icookie, hdr.rcookie)) else {
            self.counters.peer_misbehaved += 1;
            self.log_peer(
                remote,
                "Quick Mode message for an unknown ISAKMP SA; dropped".to_string(),
            );
            return;
        };
        let Some(parent) = self.p1.get(&p1) else {
            return;
        };
        let conn = parent.conn.clone();
        if parent.remote.ip() != remote.ip() || !parent.kind.is_established() {
            self.counters.peer_misbehaved += 1;
            self.log(Level::Warn, Some(&conn), Some(p1), None, format!("Quick Mode message from {remote} before the ISAKMP SA is established or from another peer; dropped"));
            return;
        }
        if hdr.flags & flags::ENCRYPTION == 0 || hdr.msgid == 0 {
            self.counters.peer_misbehaved += 1;
            self.log(
                Level::Warn,
                Some(&conn),
                Some(p1),
                None,
                "Quick Mode message not encrypted or with message ID 0; dropped".into(),
            );
            return;
        }
        let digest = Self::digest(data);
        let existing = self
            .p2
            .values()
            .find(|s| s.parent == p1 && s.msgid == hdr.msgid)
            .map(|s| s.serial);
        let Some(serial) = existing else {
            if parent.msgids.contains(&hdr.msgid) {
                self.counters.peer_misbehaved += 1;
                self.log(
                    Level::Warn,
                    Some(&conn),
                    Some(p1),
                    None,
                    format!(
                        "Quick Mode message ID {:#010x} was already used; dropped",
                        hdr.msgid
                    ),
                );
                return;
            }
            return self.responder_qi1(now, p1, hdr, body, digest);
        };
        let Some(st) = self.p2.get_mut(&serial) else {
            return;
        };
        if st.last_rx.as_deref() == Some(digest.as_slice()) {
            self.counters.duplicates += 1;
            let kind = st.kind;
            match st.retransmit.as_mut() {
                Some(r) if kind.resends_on_duplicate() && r.dup_resends < MAX_DUPLICATE_RESENDS => {
                    r.dup_resends += 1;
                    let pkt = r.packet.clone();
                    self.log(
                        Level::Debug,
                        Some(&conn),
                        Some(serial),
                        None,
                        format!(
                            "retransmitting in response to duplicate packet; already {}",
                            kind.name()
                        ),
                    );
                    if let Ok((l, r)) = self.p1_addrs(serial) {
                        self.send(l, r, pkt);
                    }
                }
                _ => self.log(
                    Level::Debug,
                    Some(&conn),
                    Some(serial),
                    None,
                    format!("discarding duplicate packet; already {}", kind.name()),
                ),
            }
            return;
        }
        let kind = st.kind;
        let result = match kind {
            StateKind::QuickI1 => self.initiator_qr1(now, serial, hdr, body),
            StateKind::QuickR1 => self.responder_qi2(now, serial, hdr, body),
            StateKind::QuickI2 => self.initiator_qr1_again(serial, hdr, body),
            _ => {
                self.log(
                    Level::Debug,
                    Some(&conn),
                    Some(serial),
                    None,
                    format!(
                        "discarding unexpected Quick Mode message; already {}",
                        kind.name()
                    ),
                );
                return;
            }
        };
        match result {
            Ok(()) => {
                if let Some(st) = self.p2.get_mut(&serial) {
                    st.last_rx = Some(digest);
                }
                if let Some(p) = self.p1.get_mut(&p1) {
                    p.auth_rx += 1;
                }
            }
            Err(e) => {
                self.count_reject(&e);
                self.log(
                    Level::Warn,
                    Some(&conn),
                    Some(serial),
                    Some(200 + e.notify().unwrap_or(0)),
                    format!("{}: {e}", kind.name()),
                );
                if let Reject::Local(_) = e {
                    self.delete_phase2(now, serial, false);
                }
            }
        }
    }

    /// Decrypts a Quick Mode message with `iv`, checks that HASH comes first,
    /// and returns the payloads, the hash and the IV after the message.
    fn open_quick(
        &self,
        p1: u64,
        iv: &[u8],
        hdr: &Header,
        body: &[u8],
    ) -> Result<(Parsed, Vec<u8>, Vec<u8>), Reject> {
        let parent = self
            .p1
            .get(&p1)
            .ok_or_else(|| Reject::Local("ISAKMP SA vanished".into()))?;
        let c = parent
            .crypto
            .as_ref()
            .ok_or_else(|| Reject::Local("ISAKMP SA has no keys".into()))?;
        let (plain, next_iv) = decrypt_body(c.xform.cipher, &c.keys.enc_key, iv, body)?;
        let parsed = Parsed::parse(hdr.next_payload, plain, true)?;
        let Some(Payload::Hash(h)) = parsed.payloads.first().map(|p| &p.payload) else {
            return Err(misbehaved(Misbehaviour::MissingPayload("HASH (first)")));
        };
        if parsed.all(payload_type::HASH).count() != 1 {
            return Err(misbehaved(Misbehaviour::UnexpectedPayload("HASH")));
        }
        let h = h.clone();
        Ok((parsed, h, next_iv))
    }

    fn p1_keys(&self, p1: u64) -> Result<P1Keys, Reject> {
        let parent = self
            .p1
            .get(&p1)
            .ok_or_else(|| Reject::Local("ISAKMP SA vanished".into()))?;
        let c = parent
            .crypto
            .as_ref()
            .ok_or_else(|| Reject::Local("ISAKMP SA has no keys".into()))?;
        Ok(P1Keys {
            prf: c.prf(),
            skeyid_a: c.keys.skeyid_a.clone(),
            hash: c.xform.hash,
            cipher: c.xform.cipher,
            iv: c.iv.clone(),
            enc_key: c.keys.enc_key.clone(),
            icookie: parent.icookie,
            rcookie: parent.rcookie,
        })
    }

    fn responder_qi1(&mut self, now: Instant, p1: u64, hdr: &Header, body: &[u8], digest: Vec<u8>) {
        let conn_name = self.p1.get(&p1).map(|s| s.conn.clone()).unwrap_or_default();
        match self.responder_qi1_inner(now, p1, hdr, body, digest) {
            Ok(()) => {}
            Err((e, authenticated)) => {
                self.count_reject(&e);
                self.log(
                    Level::Warn,
                    Some(&conn_name),
                    Some(p1),
                    Some(200 + e.notify().unwrap_or(0)),
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

    fn responder_qi1_inner(
        &mut self,
        now: Instant,
        p1: u64,
        hdr: &Header,
        body: &[u8],
        digest: Vec<u8>,
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
        // From here the message is authentic: the peer deserves a notification.
        let auth = |e: Reject| (e, true);
        if let Some(p) = self.p1.get_mut(&p1) {
            p.msgids.push(hdr.msgid);
            p.auth_rx += 1;
        }
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
        let ids: Vec<&super::wire::ParsedPayload> = parsed.all(payload_type::ID).collect();
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
        let offered = Self::ipsec_offer(&conn);
        let chosen = select_ipsec(sa, &conn.policy, &offered, !conn.esp.is_empty())
            .map_err(|e| auth(pfs_hint(e, conn.policy.pfs, ke.is_some())))?;
        match (chosen.pfs_group, &ke) {
            (Some(g), Some(k)) if k.len() != g.len() => {
                return Err(auth(misbehaved(Misbehaviour::BadKeyExchange(format!(
                    "{} bytes for {}",
                    k.len(),
                    g.name()
                )))))
            }
            (Some(_), None) => return Err(auth(missing("KE"))),
            (None, Some(_)) => {
                return Err(auth(misbehaved(Misbehaviour::UnexpectedPayload(
                    "KE without PFS group",
                ))))
            }
            _ => {}
        }
        self.check_client_ids(&conn, p1, id_i.as_deref(), id_r.as_deref())
            .map_err(auth)?;
        let serial = self.new_serial();
        let reqid = self.next_reqid;
        self.next_reqid += 1;
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
        st.peer_ke = ke;
        st.id_i = id_i;
        st.id_r = id_r;
        st.last_rx = Some(digest);
        let protos: Vec<IpsecProto> = chosen.protos.iter().map(|c| c.proto).collect();
        st.chosen = Some(chosen);
        self.p2.insert(serial, st);
        let (l, r) = self.p1_addrs(serial).map_err(auth)?;
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

    /// The peer's IDci must be its client and IDcr ours (spec §7.4, without
    /// switching connections yet).
    fn check_client_ids(
        &self,
        conn: &ConnConfig,
        p1: u64,
        id_i: Option<&[u8]>,
        id_r: Option<&[u8]>,
    ) -> Result<(), Reject> {
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
            Ok(())
        } else {
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

    fn send_qr1(&mut self, now: Instant, serial: u64) -> Result<(), Reject> {
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
        let dh = chosen
            .pfs_group
            .map(|g| self.dh.generate(g, self.rng.as_mut()));
        let nr = self.random_vec(NONCE_LEN);
        let st = self
            .p2
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
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
        st.dh = dh;
        st.kind = StateKind::QuickR1;
        st.retransmit = Some(Retransmit::new(packet.clone(), now, true));
        self.install(serial, true, false)?;
        let conn = self
            .p2
            .get(&serial)
            .map(|s| s.conn.clone())
            .unwrap_or_default();
        self.announce(&conn, serial, StateKind::QuickR1, "");
        let (l, r) = self.p1_addrs(serial)?;
        self.send(l, r, packet);
        Ok(())
    }

    fn initiator_qr1(
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
        let chosen = parse_ipsec_reply(sa, &st.offered, !conn.esp.is_empty())?;
        let our_group = st.dh.as_ref().map(|d| d.group);
        if chosen.pfs_group != our_group {
            return Err(misbehaved(Misbehaviour::BadProposalReply(
                "PFS group differs from ours".into(),
            )));
        }
        let ke = match (&st.dh, parsed.all(payload_type::KE).count()) {
            (Some(_), 1) => parsed.all(payload_type::KE).find_map(|p| match &p.payload {
                Payload::Ke(k) => Some(k.clone()),
                _ => None,
            }),
            (None, 0) => None,
            (Some(_), 0) => return Err(missing("KE")),
            _ => return Err(misbehaved(Misbehaviour::UnexpectedPayload("KE"))),
        };
        let ids: Vec<&super::wire::ParsedPayload> = parsed.all(payload_type::ID).collect();
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
        st.peer_ke = ke;
        st.qr1_iv = std::mem::replace(&mut st.iv, after_qi2);
        st.chosen = Some(chosen.clone());
        st.kind = StateKind::QuickI2;
        st.retransmit = Some(Retransmit::new(packet.clone(), now, false));
        st.expires =
            Some(now + Duration::from_secs(u64::from(chosen.lifetime.min(conn.ipsec_lifetime))));
        self.install(serial, true, true)?;
        let (l, r) = self.p1_addrs(serial)?;
        self.send(l, r, packet);
        self.ipsec_established(now, serial);
        Ok(())
    }

    /// QUICK_I2 got a QR1 that is not a byte-for-byte repeat. If it is an
    /// authentic copy of the QR1 we accepted (the responder retransmits when
    /// QI2 did not work for it), the copy we took may have carried extra
    /// ciphertext that moved our CBC IV: re-encrypt QI2 with the IV that
    /// follows this copy and send it again.
    fn initiator_qr1_again(
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

    fn responder_qi2(
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
        self.install(serial, false, true)?;
        self.ipsec_established(now, serial);
        Ok(())
    }

    fn ipsec_established(&mut self, now: Instant, serial: u64) {
        self.schedule_replace(now, serial, true);
        let Some(st) = self.p2.get(&serial) else {
            return;
        };
        let Some(chosen) = &st.chosen else { return };
        let mut parts = Vec::new();
        for c in &chosen.protos {
            let ours = st.our_spi(c.proto);
            let integ = |i: IntegAlg| match i {
                IntegAlg::HmacMd5_96 => "HMAC_MD5",
                IntegAlg::HmacSha1_96 => "HMAC_SHA1",
                IntegAlg::HmacSha2_256_128 => "HMAC_SHA2_256",
            };
            let xf = match c.transform {
                IpsecTransform::IpcompDeflate => String::new(),
                IpsecTransform::Ah { integ: i } => format!(" xfrm={}", integ(i)),
                IpsecTransform::Esp { cipher, integ: i } => {
                    let enc = if cipher == CipherAlg::Des3 {
                        "3DES"
                    } else {
                        "AES"
                    };
                    let auth = i.map_or("NONE", integ);
                    format!(" xfrm={enc}_{}-{auth}", cipher.key_len() * 8)
                }
            };
            parts.push(format!(
                "{}=>{:#010x} <{:#010x}{xf}",
                c.proto.name(),
                c.peer_spi,
                ours
            ));
        }
        // This build does no NAT traversal and no DPD yet.
        let details = format!(" {{{} NATOA=none NATD=none DPD=none}}", parts.join(" "));
        let (conn, kind) = (st.conn.clone(), st.kind);
        self.announce(&conn, serial, kind, &details);
    }

    /// Computes KEYMAT and queues the kernel SAs: inbound and/or outbound, and
    /// the policies once both directions exist.
    fn install(&mut self, serial: u64, inbound: bool, outbound: bool) -> Result<(), Reject> {
        let st = self
            .p2
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let parent = self
            .p1
            .get(&st.parent)
            .ok_or_else(|| Reject::Local("ISAKMP SA vanished".into()))?;
        let c = parent
            .crypto
            .as_ref()
            .ok_or_else(|| Reject::Local("ISAKMP SA has no keys".into()))?;
        let conn = self
            .conn(&st.conn)
            .ok_or_else(|| Reject::Local("connection vanished".into()))?;
        let chosen: &Chosen = st
            .chosen
            .as_ref()
            .ok_or_else(|| Reject::Local("nothing chosen".into()))?;
        let gqm = match (&st.dh, &st.peer_ke) {
            (Some(d), Some(k)) => Some(
                self.dh
                    .shared(d, k)
                    .map_err(|e| misbehaved(Misbehaviour::BadKeyExchange(format!("{e:?}"))))?,
            ),
            _ => None,
        };
        let (ni, nr) = (&st.ni, &st.nr);
        let (lip, rip) = (parent.local.ip(), parent.remote.ip());
        let (lsel, rsel) = (
            selector_of(conn.local.client, lip),
            selector_of(conn.remote.client, rip),
        );
        let mut ops = Vec::new();
        for cp in &chosen.protos {
            let (cipher, integ, compress) = match cp.transform {
                IpsecTransform::Esp { cipher, integ } => (Some(cipher), integ, None),
                IpsecTransform::Ah { integ } => (None, Some(integ), None),
                IpsecTransform::IpcompDeflate => (None, None, Some(2u8)),
            };
            let need = cipher.map_or(0, |x| x.key_len()) + integ.map_or(0, |x| x.key_len());
            let dirs = [
                (true, inbound, st.our_spi(cp.proto)),
                (false, outbound, cp.peer_spi),
            ];
            for (is_in, wanted, spi) in dirs {
                if !wanted {
                    continue;
                }
                let spi_b = spi.to_be_bytes();
                let km = if need == 0 {
                    Vec::new()
                } else {
                    keymat(
                        c.prf(),
                        &c.keys.skeyid_d,
                        gqm.as_deref(),
                        cp.proto.doi_id(),
                        &spi_b,
                        ni,
                        nr,
                        need,
                    )
                };
                let (ek, ik) = km.split_at(cipher.map_or(0, |x| x.key_len()).min(km.len()));
                let (src, dst, src_sel, dst_sel) = if is_in {
                    (rip, lip, rsel, lsel)
                } else {
                    (lip, rip, lsel, rsel)
                };
                ops.push(KernelOp::AddSa(SaInstall {
                    proto: cp.proto,
                    inbound: is_in,
                    spi,
                    src,
                    dst,
                    mode: chosen.mode,
                    encrypt: cipher.map(|x| (x, ek.to_vec())),
                    integ: integ.map(|x| (x, ik.to_vec())),
                    compress,
                    lifetime_secs: chosen.lifetime,
                    reqid: st.reqid,
                    src_sel,
                    dst_sel,
                }));
            }
        }
        let mut policies = Vec::new();
        if outbound {
            let protos: Vec<IpsecProto> = chosen.protos.iter().map(|c| c.proto).collect();
            for (inb, s, d, sg, dg) in [(false, lsel, rsel, lip, rip), (true, rsel, lsel, rip, lip)]
            {
                policies.push(PolicySpec {
                    src_sel: s,
                    dst_sel: d,
                    inbound: inb,
                    mode: chosen.mode,
                    src_gw: sg,
                    dst_gw: dg,
                    protos: protos.clone(),
                    reqid: st.reqid,
                });
            }
        }
        for op in &ops {
            self.kernel_ops.push_back(op.clone());
        }
        for p in &policies {
            self.kernel_ops.push_back(KernelOp::AddPolicy(p.clone()));
        }
        if let Some(st) = self.p2.get_mut(&serial) {
            st.installed.extend(ops);
            st.policies.extend(policies);
        }
        Ok(())
    }
}

/// A refusal because our policy demands PFS and the peer offered none would
/// otherwise list the same transforms as offered and allowed: say why.
fn pfs_hint(e: Reject, pfs: bool, peer_ke: bool) -> Reject {
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

/// Two ID payload bodies name the same selector (type, protocol, port, data).
fn same_selector(a: &[u8], b: &[u8]) -> bool {
    match (IdPayload::parse(a), IdPayload::parse(b)) {
        (Ok(x), Ok(y)) => {
            x == y
                || (x.id == y.id
                    && (x.protocol == 0 || y.protocol == 0)
                    && (x.port == 0 || y.port == 0))
        }
        _ => false,
    }
}

#[allow(clippy::too_many_arguments)]
fn new_phase2(
    serial: u64,
    parent: u64,
    conn: &str,
    role: Role,
    kind: StateKind,
    msgid: u32,
    offered: Vec<super::proposal::IpsecProposal>,
    reqid: u32,
    attempt: u32,
) -> Phase2 {
    Phase2 {
        serial,
        parent,
        conn: conn.to_string(),
        role,
        kind,
        msgid,
        iv: Vec::new(),
        qr1_iv: Vec::new(),
        parent_auth_rx: 0,
        ni: Vec::new(),
        nr: Vec::new(),
        dh: None,
        peer_ke: None,
        id_i: None,
        id_r: None,
        offered,
        chosen: None,
        our_spis: Vec::new(),
        pending_spis: Vec::new(),
        reqid,
        retransmit: None,
        last_rx: None,
        replace: None,
        expires: None,
        attempt,
        installed: Vec::new(),
        policies: Vec::new(),
    }
}
