//! Main Mode (RFC 2409 §5, pre-shared key): six messages that build an ISAKMP SA.
//!
//! MI1 SA -> MR1 SA -> MI2 KE,Ni -> MR2 KE,Nr -> MI3* IDii,HASH_I -> MR3* IDir,HASH_R

use super::compute::{Then, Work};
use super::config::ConnConfig;
use super::crypto::rsa::RsaError;
use super::crypto::rsa::RsaPrivateKeyParts;
use super::crypto::{
    hash_i, hash_r, phase1_iv, skeyid_psk, skeyid_sig, CipherAlg, HashAlg, Phase1Keys,
};
use super::dnskey::KeyWait;
use super::packet::{build_clear, build_encrypted, ct_eq, decrypt_body, HeaderFields, Parsed};
use super::proposal::{
    default_ike_transforms, ike_sa_payload, parse_ike_reply, select_ike, AuthMethod, IkeTransform,
};
use super::state::{MainExchange, Phase1, Phase1Crypto, Retransmit, Role, StateKind};
use super::vendor::{self, PeerCaps};
use crate::ctl::Rc;
use crate::ike::endpoint::{Endpoint, Level};
use crate::ike::error::{misbehaved, Misbehaviour, Reject};
use crate::ike::wire::{
    emit_chain, exchange, flags, payload_type, protocol, Header, IdPayload, Identity,
    NotifyPayload, Payload, DOI_IPSEC,
};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Our nonces are this long (RFC 2409 allows 8..=256).
pub(crate) const NONCE_LEN: usize = 32;

/// What one message step decided.
enum Next {
    /// Send this (timed: retransmit until the next message arrives).
    Reply { packet: Vec<u8>, timed: bool },
    /// Nothing to send.
    Quiet,
    /// The answer waits for a computation (`compute`): nothing to send yet.
    Computing,
    /// The message changed nothing (overload, a second MI2): it is not
    /// remembered, so the peer's resend of it is handled afresh.
    Drop,
    /// MI3/MR3 is signed by this ID, without a key on record that DNS may
    /// supply (`dnskey`): the message waits for the lookup.
    AwaitKey(Identity),
}

/// What MI3/MR3 proved: the peer's ID, the next IV, for a responder the
/// better connection for that ID (see `switch`), and whether the message
/// carried INITIAL-CONTACT; or that the key to check it must come first.
enum IdProof {
    Proved(Identity, Vec<u8>, Option<String>, bool),
    NeedKey(Identity),
}

#[cfg(test)]
mod choice_tests;
mod initiator;
mod responder;
mod switch;

impl Endpoint {
    fn ike_transforms(conn: &ConnConfig) -> Vec<IkeTransform> {
        if conn.ike.is_empty() {
            default_ike_transforms(
                conn.policy.psk || !conn.policy.rsasig,
                conn.policy.rsasig,
                conn.ike_lifetime,
            )
        } else {
            conn.ike.clone()
        }
    }

    pub(crate) fn conn_psk(&self, conn: &ConnConfig) -> Option<Vec<u8>> {
        let me = conn.local.effective_id()?;
        let him = conn.remote.effective_id();
        // Road warriors (no fixed peer) are looked up as %any.
        let him = if conn.remote.host.is_none() {
            None
        } else {
            him
        };
        self.secrets.psk(&me, him.as_ref()).map(<[u8]>::to_vec)
    }

    /// Our RSA private key for the connection, if ipsec.secrets has one.
    fn conn_rsa_key(&self, conn: &ConnConfig) -> Option<RsaPrivateKeyParts> {
        let me = conn.local.effective_id()?;
        let him = conn
            .remote
            .effective_id()
            .filter(|_| conn.remote.host.is_some());
        self.secrets.rsa_key(&me, him.as_ref()).cloned()
    }

    /// MI3 or MR3 with the proof of our identity over `hash` (HASH_I or
    /// HASH_R): for a PSK the hash itself, sent now; for RSA our signature
    /// over it (PKCS#1 v1.5 type 1 without DigestInfo), asked for as a
    /// computation and sent by [`Endpoint::signed_id`].
    fn prove_identity(&mut self, now: Instant, serial: u64, hash: Vec<u8>) -> Result<Next, Reject> {
        let st = self
            .p1
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        if st.chosen.map(|x| x.auth) != Some(AuthMethod::RsaSig) {
            return self.id_proof_message(now, serial, Payload::Hash(hash));
        }
        let conn = self
            .conn(&st.conn)
            .ok_or_else(|| Reject::Local("connection vanished".into()))?;
        let key = self.conn_rsa_key(conn).ok_or_else(|| {
            Reject::Local("no RSA private key for our ID in ipsec.secrets".into())
        })?;
        let key = Box::new(key);
        self.ask(Work::Sign { key, hash }, Then::Signed { serial }, false);
        Ok(Next::Computing)
    }

    /// Our signature for MI3/MR3 came back: the message goes out.
    pub(crate) fn signed_id(&mut self, now: Instant, serial: u64, sig: Result<Vec<u8>, RsaError>) {
        let Some(st) = self.p1.get(&serial) else {
            return;
        };
        let (conn, kind) = (st.conn.clone(), st.kind);
        let result = sig
            .map_err(|e| Reject::Local(format!("cannot sign: {e}")))
            .and_then(|sig| self.id_proof_message(now, serial, Payload::Sig(sig)));
        match result {
            Ok(next) => self.main_step_done(now, serial, next),
            Err(e) => self.main_rejected(now, serial, &conn, kind, e),
        }
    }

    /// MI3 or MR3: our ID and `proof`, encrypted from the state's IV; moves
    /// the state on (MAIN_I3, or MAIN_R3 established).
    fn id_proof_message(
        &mut self,
        now: Instant,
        serial: u64,
        proof: Payload,
    ) -> Result<Next, Reject> {
        let st = self
            .p1
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let id = IdPayload {
            protocol: 0,
            port: 0,
            id: self.our_id(&st.conn)?,
        };
        let c = st
            .crypto
            .clone()
            .ok_or_else(|| Reject::Local("no keys".into()))?;
        let mut payloads = vec![Payload::Id(id), proof];
        payloads.extend(self.initial_contact_payload(st));
        let (first, chain) = emit_chain(&payloads);
        let h = HeaderFields {
            icookie: st.icookie,
            rcookie: st.rcookie,
            exchange: exchange::IDENTITY_PROTECTION,
            msgid: 0,
        };
        let (packet, next_iv) =
            build_encrypted(&h, first, &chain, c.xform.cipher, c.keys.enc_key(), &c.iv)?;
        let st = self
            .p1
            .get_mut(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        st.crypto = Some(Phase1Crypto { iv: next_iv, ..c });
        match st.role {
            Role::Initiator => {
                st.kind = StateKind::MainI3;
                self.natt_float_initiator(serial);
                Ok(Next::Reply {
                    packet,
                    timed: true,
                })
            }
            Role::Responder => {
                st.kind = StateKind::MainR3;
                st.expires = Some(now + Duration::from_secs(u64::from(c.xform.lifetime)));
                st.forget_exchange();
                // The final reply is resent only when the peer repeats MI3.
                Ok(Next::Reply {
                    packet,
                    timed: false,
                })
            }
        }
    }

    /// Our ID payload's body as HASH_I/HASH_R cover it.
    fn our_id_bytes(&self, conn: &str) -> Result<Vec<u8>, Reject> {
        let id = IdPayload {
            protocol: 0,
            port: 0,
            id: self.our_id(conn)?,
        };
        let mut b = Vec::new();
        id.emit(&mut b);
        Ok(b)
    }

    /// Starts Main Mode; `with_quick` goes on to Quick Mode once it is up.
    pub(crate) fn start_main(
        &mut self,
        now: Instant,
        conn: &ConnConfig,
        attempt: u32,
        with_quick: bool,
    ) {
        let serial = self.new_serial();
        let (Some(lh), Some(rh)) = (conn.local.host, conn.remote.host) else {
            self.log(
                Level::Error,
                Some(&conn.name),
                None,
                Some(Rc::NoPeerIp),
                "cannot initiate: an address is unknown".into(),
            );
            return;
        };
        // RSA is offered only with a private key to sign with.
        let have_rsa = self.conn_rsa_key(conn).is_some();
        let offered: Vec<IkeTransform> = Self::ike_transforms(conn)
            .into_iter()
            .filter(|t| t.auth == AuthMethod::Psk || have_rsa)
            .filter(|t| t.auth != AuthMethod::Psk || conn.policy.psk || !conn.policy.rsasig)
            .collect();
        if offered.is_empty() {
            self.log(
                Level::Error,
                Some(&conn.name),
                None,
                Some(Rc::Fatal),
                "cannot initiate: RSA signatures need our private key in ipsec.secrets".into(),
            );
            return;
        }
        let mut icookie = self.random::<8>();
        if icookie == [0; 8] {
            icookie[0] = 1;
        }
        let sa = ike_sa_payload(&offered);
        let mut sai_b = Vec::new();
        sa.emit(&mut sai_b);
        let h = HeaderFields {
            icookie,
            rcookie: [0; 8],
            exchange: exchange::IDENTITY_PROTECTION,
            msgid: 0,
        };
        let mut payloads = vec![Payload::Sa(sa)];
        payloads.extend(vendor::initiator_vids(self.nat.enabled));
        let packet = build_clear(&h, &payloads);
        let local = SocketAddr::new(lh, conn.local.port);
        let remote = SocketAddr::new(rh, conn.remote.port);
        let st = Phase1 {
            serial,
            conn: conn.name.clone(),
            role: Role::Initiator,
            kind: StateKind::MainI1,
            local,
            remote,
            icookie,
            rcookie: [0; 8],
            chosen: None,
            ex: Some(Box::new(MainExchange {
                offered,
                sai_b,
                ..MainExchange::default()
            })),
            crypto: None,
            peer_id: None,
            retransmit: Some(Retransmit::new(packet.clone(), now, true)),
            last_rx: None,
            msgids: Vec::new(),
            replace: None,
            expires: None,
            attempt,
            pending_quick: with_quick && conn.policy.wants_ipsec(),
            auth_rx: 0,
            nat: Default::default(),
            peer: PeerCaps::default(),
            dpd: Default::default(),
            computing: None,
        };
        self.p1.insert(serial, st);
        self.by_icookie.insert(icookie, serial);
        self.log_state(
            &conn.name,
            serial,
            Some(Rc::NewState(u32::from(StateKind::MainI1.number()))),
            "STATE_MAIN_I1: initiate".into(),
        );
        self.send(local, remote, packet);
    }

    pub(crate) fn main_mode_input(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        hdr: &Header,
        body: &[u8],
        data: &[u8],
    ) {
        let serial = if hdr.rcookie == [0; 8] {
            // MI1 (or a retransmission of it): find the state it already made.
            let made = self.half_open.find(hdr.icookie, remote);
            match made.and_then(|serial| self.p1.get(&serial)) {
                // Only MI1 travels without the responder cookie: an exact
                // repeat is answered again, anything else is not ours to read.
                Some(s) => {
                    let serial = s.serial;
                    if s.last_rx == Some(Self::digest(data)) {
                        self.duplicate_p1(serial);
                    } else {
                        self.counters.peer_misbehaved += 1;
                        self.log_peer(remote, "dropping Main Mode message without responder cookie for an existing ISAKMP SA".to_string());
                    }
                    return;
                }
                None => {
                    if self.by_icookie.contains_key(&hdr.icookie) {
                        self.log_peer(remote, "dropping Main Mode message with our own initiator cookie and no responder cookie".into());
                        return;
                    }
                    return self.responder_mi1(now, local, remote, hdr, body, data);
                }
            }
        } else if let Some(s) = self.by_cookies.get(&(hdr.icookie, hdr.rcookie)) {
            *s
        } else if let Some(s) = self.by_icookie.get(&hdr.icookie) {
            *s
        } else {
            self.counters.peer_misbehaved += 1;
            self.log_peer(
                remote,
                "Main Mode message for an unknown ISAKMP SA; dropped".to_string(),
            );
            return;
        };
        let Some(st) = self.p1.get_mut(&serial) else {
            return;
        };
        if st.remote.ip() != remote.ip() {
            self.counters.peer_misbehaved += 1;
            self.log_peer(
                remote,
                "Main Mode message for an ISAKMP SA with another peer; dropped".to_string(),
            );
            return;
        }
        let digest = Self::digest(data);
        if st.last_rx == Some(digest) {
            self.duplicate_p1(serial);
            return;
        }
        let kind = st.kind;
        let conn = st.conn.clone();
        if st.computing.is_some() {
            // Another version of the message whose answer is being
            // computed: not remembered, so a resend of it counts afresh.
            self.log_peer(
                remote,
                format!(
                    "dropping a second Main Mode message while the first is being answered; {}",
                    kind.name()
                ),
            );
            return;
        }
        let result = match kind {
            StateKind::MainI1 => self.initiator_mr1(serial, hdr, body),
            StateKind::MainR1 => self.responder_mi2(serial, hdr, body),
            StateKind::MainI2 => self.initiator_mr2(serial, hdr, body),
            StateKind::MainR2 => self.responder_mi3(now, serial, hdr, body),
            StateKind::MainI3 => self.initiator_mr3(now, serial, hdr, body),
            _ => {
                self.log_state(
                    &conn,
                    serial,
                    None,
                    format!(
                        "discarding unexpected Main Mode message; already {}",
                        kind.name()
                    ),
                );
                return;
            }
        };
        match result {
            Ok(Next::Drop) => {}
            Ok(Next::AwaitKey(id)) => {
                match self.await_peer_key(serial, &id, (local, remote, data)) {
                    KeyWait::Parked(req) => {
                        if let Some(st) = self.p1.get_mut(&serial) {
                            st.computing = Some(req);
                            st.last_rx = Some(digest);
                        }
                    }
                    KeyWait::Busy => self.log_peer(
                        remote,
                        "too many DNS key lookups in progress; Main Mode message dropped".into(),
                    ),
                }
            }
            Ok(next) => {
                let Some(st) = self.p1.get_mut(&serial) else {
                    return;
                };
                st.last_rx = Some(digest);
                self.main_step_done(now, serial, next);
            }
            Err(e) => self.main_rejected(now, serial, &conn, kind, e),
        }
    }

    /// Sends what a step (or the computation it waited for) produced, and
    /// says where the state is now.
    fn main_step_done(&mut self, now: Instant, serial: u64, next: Next) {
        let Some(st) = self.p1.get_mut(&serial) else {
            return;
        };
        let (local, remote, new_kind, conn) = (st.local, st.remote, st.kind, st.conn.clone());
        match next {
            Next::Reply { packet, timed } => {
                st.retransmit = Some(Retransmit::new(packet.clone(), now, timed));
                self.send(local, remote, packet);
            }
            Next::Quiet => st.retransmit = None,
            Next::Computing | Next::Drop | Next::AwaitKey(_) => return,
        }
        if new_kind.is_established() {
            self.main_established(now, serial);
        } else {
            self.announce(&conn, serial, new_kind, "");
        }
    }

    /// Whether a step may ask for a computation now; if not, the message
    /// that wants it is dropped (`Next::Drop`) and the peer's resend of it
    /// is answered once the computations out have come back.
    fn room_to_compute(&mut self, serial: u64, stranger: bool) -> bool {
        if self.compute.has_room(stranger) {
            return true;
        }
        if let Some(remote) = self.p1.get(&serial).map(|s| s.remote) {
            self.log_peer(
                remote,
                "too many computations in progress; Main Mode message dropped".into(),
            );
        }
        false
    }

    /// A Main Mode step refused its input (or its computation's outcome).
    fn main_rejected(&mut self, now: Instant, serial: u64, conn: &str, kind: StateKind, e: Reject) {
        self.count_reject(&e);
        let prefix = if matches!(kind, StateKind::MainR2 | StateKind::MainI3)
            && matches!(e, Reject::Malformed(_))
        {
            "probable authentication failure (mismatch of preshared secrets?): "
        } else {
            ""
        };
        self.log(
            Level::Warn,
            Some(conn),
            Some(serial),
            Some(Rc::Notification(u32::from(e.notify().unwrap_or(0)))),
            format!("{}: {prefix}{e}", kind.name()),
        );
        if let Reject::Local(_) = e {
            self.delete_phase1(now, serial, false);
        }
    }

    fn duplicate_p1(&mut self, serial: u64) {
        let Some(st) = self.p1.get_mut(&serial) else {
            return;
        };
        let (kind, conn, local, remote) = (st.kind, st.conn.clone(), st.local, st.remote);
        // While the answer is computed, the last message is not it.
        let resend = match st.computing {
            Some(_) => None,
            None => Retransmit::for_duplicate(st.retransmit.as_mut(), kind),
        };
        self.note_duplicate(&conn, serial, kind, resend.is_some());
        if let Some(pkt) = resend {
            self.send(local, remote, pkt);
        }
    }

    /// KE and nonce of MI2/MR2.
    fn ke_nonce(parsed: &Parsed) -> Result<(Vec<u8>, Vec<u8>), Reject> {
        let Payload::Ke(ke) = &parsed.one(payload_type::KE, "KE")?.payload else {
            return Err(crate::ike::error::missing("KE"));
        };
        let Payload::Nonce(n) = &parsed.one(payload_type::NONCE, "NONCE")?.payload else {
            return Err(crate::ike::error::missing("NONCE"));
        };
        Ok((ke.clone(), n.clone()))
    }

    /// SKEYID and its children, and the first phase-1 IV, from g^xy.
    fn phase1_crypto(&self, st: &Phase1, gxy: &[u8]) -> Result<Phase1Crypto, Reject> {
        let xform = st
            .chosen
            .ok_or_else(|| Reject::Local("no transform chosen".into()))?;
        let (gxi, gxr) = (&st.ex().gxi, &st.ex().gxr);
        if gxi.is_empty() || gxr.is_empty() {
            return Err(Reject::Local("no DH public values".into()));
        }
        let skeyid = match xform.auth {
            AuthMethod::Psk => skeyid_psk(xform.hash, &st.ex().psk, &st.ex().ni, &st.ex().nr),
            AuthMethod::RsaSig => skeyid_sig(xform.hash, &st.ex().ni, &st.ex().nr, gxy),
        };
        let keys = Phase1Keys::derive(
            xform.hash,
            skeyid,
            gxy,
            &st.icookie,
            &st.rcookie,
            xform.cipher,
        );
        let iv = phase1_iv(xform.hash, gxi, gxr, xform.cipher.block_len());
        Ok(Phase1Crypto { xform, keys, iv })
    }

    fn our_id(&self, conn_name: &str) -> Result<Identity, Reject> {
        self.conn(conn_name)
            .and_then(|c| c.local.effective_id())
            .ok_or_else(|| Reject::Local("connection has no local ID".into()))
    }

    /// Decrypts and checks MI3/MR3: the peer's ID, its proof, and that the ID
    /// is the one the connection wants (for a responder, the better
    /// connection for the ID, which the caller moves the state to).
    fn open_id_hash(&self, serial: u64, hdr: &Header, body: &[u8]) -> Result<IdProof, Reject> {
        if hdr.flags & flags::ENCRYPTION == 0 {
            return Err(misbehaved(Misbehaviour::BadEncryption(
                "Main Mode message 5/6 must be encrypted",
            )));
        }
        if hdr.msgid != 0 {
            return Err(misbehaved(Misbehaviour::BadParameter(
                "Main Mode message ID must be 0",
            )));
        }
        let st = self
            .p1
            .get(&serial)
            .ok_or_else(|| Reject::Local("state vanished".into()))?;
        let c = st
            .crypto
            .as_ref()
            .ok_or_else(|| Reject::Local("no keys".into()))?;
        let (plain, next_iv) = decrypt_body(c.xform.cipher, c.keys.enc_key(), &c.iv, body)?;
        let parsed = Parsed::parse(hdr.next_payload, plain, true)?;
        let id_p = parsed.one(payload_type::ID, "ID")?;
        let Payload::Id(id) = &id_p.payload else {
            return Err(crate::ike::error::missing("ID"));
        };
        let rsa = st.chosen.is_some_and(|x| x.auth == AuthMethod::RsaSig);
        let proof = if rsa {
            match &parsed.one(payload_type::SIG, "SIG")?.payload {
                Payload::Sig(s) => s.clone(),
                _ => return Err(crate::ike::error::missing("SIG")),
            }
        } else {
            match &parsed.one(payload_type::HASH, "HASH")?.payload {
                Payload::Hash(h) => h.clone(),
                _ => return Err(crate::ike::error::missing("HASH")),
            }
        };
        let id_b = parsed.body_of(id_p);
        let switch_to = self.better_conn_for_id(st, &id.id);
        let prf = c.prf();
        let (which, expected) = match st.role {
            Role::Responder => (
                "HASH_I",
                hash_i(
                    prf,
                    c.keys.skeyid(),
                    &st.ex().gxi,
                    &st.ex().gxr,
                    &st.icookie,
                    &st.rcookie,
                    &st.ex().sai_b,
                    id_b,
                ),
            ),
            Role::Initiator => (
                "HASH_R",
                hash_r(
                    prf,
                    c.keys.skeyid(),
                    &st.ex().gxi,
                    &st.ex().gxr,
                    &st.icookie,
                    &st.rcookie,
                    &st.ex().sai_b,
                    id_b,
                ),
            ),
        };
        if rsa {
            // Every key on record for the ID the peer declares is tried,
            // and those DNS gave for this exchange.
            let mut keys = (self.secrets.public_keys_for(&id.id))
                .chain(&st.ex().dns_keys)
                .peekable();
            if keys.peek().is_none() {
                let by_dns = self
                    .conn(switch_to.as_deref().unwrap_or(&st.conn))
                    .is_some_and(|c| c.key_from_dns);
                // An ID with a name to look up under (an address, an FQDN).
                let named = crate::dns::keys::name_for(&id.id).is_some();
                if by_dns && named && !st.ex().dns_asked {
                    return Ok(IdProof::NeedKey(id.id.clone()));
                }
                return Err(Reject::Local(format!(
                    "no RSA public key known for '{}'{}",
                    id.id,
                    if by_dns { ", not even in DNS" } else { "" }
                )));
            }
            if !keys.any(|k| k.verify_pkcs1_raw(&expected, &proof).is_ok()) {
                return Err(misbehaved(Misbehaviour::BadSignature(which)));
            }
        } else if !ct_eq(&proof, &expected) {
            return Err(misbehaved(Misbehaviour::BadHash(which)));
        }
        let conn = self
            .conn(switch_to.as_deref().unwrap_or(&st.conn))
            .ok_or_else(|| Reject::Local("connection vanished".into()))?;
        // The initiator insists on the configured peer ID; so does a responder
        // whose connection names one.
        if let Some(want) = conn
            .remote
            .effective_id()
            .filter(|_| st.role == Role::Initiator || conn.remote.id.is_some())
        {
            if want != id.id {
                return Err(misbehaved(Misbehaviour::WrongIdentity {
                    expected: want.to_string(),
                    got: id.id.to_string(),
                }));
            }
        }
        let initial_contact =
            Self::carries_initial_contact(parsed.payloads.iter().map(|p| &p.payload));
        Ok(IdProof::Proved(
            id.id.clone(),
            next_iv,
            switch_to,
            initial_contact,
        ))
    }

    /// The peer sent an authentic message under the established ISAKMP SA
    /// `p1` (message ID `msgid`): it has Main Mode's last message, so a
    /// responder no longer keeps MR3 for a repeated MI3 (the copy and its
    /// block: some 110 bytes an SA, for as long as the SA lives).
    pub(crate) fn peer_spoke(&mut self, p1: u64, msgid: u32) {
        let Some(p) = self.p1.get_mut(&p1) else {
            return;
        };
        p.msgids.push(msgid);
        p.auth_rx += 1;
        if p.role == Role::Responder && p.kind.is_established() {
            p.retransmit = None;
        }
    }

    fn main_established(&mut self, now: Instant, serial: u64) {
        self.half_open.established(serial);
        self.schedule_replace(now, serial, false);
        let Some(st) = self.p1.get_mut(&serial) else {
            return;
        };
        let details = st.chosen.map_or(String::new(), |x| {
            // The old pluto's wording, which scripts grep for.
            let auth = match x.auth {
                AuthMethod::Psk => "OAKLEY_PRESHARED_KEY",
                AuthMethod::RsaSig => "OAKLEY_RSA_SIG",
            };
            let cipher = match x.cipher {
                CipherAlg::Des3 => "oakley_3des_cbc",
                _ => "oakley_aes_cbc",
            };
            let prf = match x.hash {
                HashAlg::Md5 => "oakley_md5",
                HashAlg::Sha1 => "oakley_sha",
                HashAlg::Sha256 => "oakley_sha2_256",
                HashAlg::Sha384 => "oakley_sha2_384",
                HashAlg::Sha512 => "oakley_sha2_512",
            };
            format!(
                " {{auth={auth} cipher={cipher}_{} prf={prf} group=modp{}}}",
                x.cipher.key_len() * 8,
                x.group.len() * 8
            )
        });
        let (conn, kind, pending, attempt) =
            (st.conn.clone(), st.kind, st.pending_quick, st.attempt);
        let (role, remote) = (st.role, st.remote);
        st.pending_quick = false;
        self.announce(&conn, serial, kind, &details);
        if role == Role::Responder {
            self.replace_older_responder_sas(now, serial, &conn, remote);
        }
        self.dpd_established(now, serial);
        if pending {
            self.start_quick(now, serial, attempt);
        }
    }
}

impl Endpoint {
    /// The peer just authenticated a new ISAKMP SA for `conn` with us as
    /// responder. An older one we still hold as responder for the same peer,
    /// under which the peer never said anything, is one whose last message
    /// (MR3) the peer never got: it gave up and started over, so nothing on
    /// its side matches ours. Replace it (the Delete goes under the old SA,
    /// harmless if the peer no longer has it). One the peer used is kept:
    /// the peer may hold ISAKMP SAs for several of its connections that
    /// Main Mode (which names no clients) put on the same one of ours.
    fn replace_older_responder_sas(
        &mut self,
        now: Instant,
        serial: u64,
        conn: &str,
        remote: SocketAddr,
    ) {
        let older: Vec<u64> = self
            .p1_with_peer(remote.ip())
            .iter()
            .filter_map(|s| self.p1.get(s))
            .filter(|s| {
                s.serial < serial
                    && s.conn == conn
                    && s.remote == remote
                    && s.role == Role::Responder
                    && s.kind.is_established()
                    && s.auth_rx == 0
            })
            .map(|s| s.serial)
            .collect();
        for old in older {
            self.log_state(
                conn,
                old,
                None,
                format!("replaced by newer ISAKMP SA #{serial} with the same peer"),
            );
            self.delete_phase1(now, old, true);
        }
    }
}

fn clear_phase1(hdr: &Header) -> Result<(), Reject> {
    if hdr.flags & flags::ENCRYPTION != 0 {
        return Err(misbehaved(Misbehaviour::BadEncryption(
            "Main Mode messages 1-4 must not be encrypted",
        )));
    }
    if hdr.msgid != 0 {
        return Err(misbehaved(Misbehaviour::BadParameter(
            "Main Mode message ID must be 0",
        )));
    }
    Ok(())
}
