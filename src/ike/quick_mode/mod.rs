//! Quick Mode (RFC 2409 §5.5): three messages under an ISAKMP SA that build
//! the IPsec SAs, with optional PFS and client IDs.
//!
//! QI1* HASH(1),SA,Ni[,KE][,IDci,IDcr] -> QR1* HASH(2),SA,Nr[,KE][,IDci,IDcr] -> QI2* HASH(3)

use super::config::ConnConfig;
use super::error::{misbehaved, missing, Incompatible, Misbehaviour, Reject};
use super::main_mode::NONCE_LEN;
use super::packet::{build_encrypted, ct_eq, decrypt_body, HeaderFields, Parsed};
use super::state::{
    AfterInstall, PendingInstall, Phase2, Retransmit, Role, StateKey, StateKind,
    MAX_DUPLICATE_RESENDS,
};
use crate::ctl::Rc;
use crate::ike::compute::{Then, Work};
use crate::ike::crypto::{
    keymat, phase2_iv, qm_hash1, qm_hash2, qm_hash3, CipherAlg, DhError, DhGroup, DhKeyPair,
    HashAlg,
};
use crate::ike::endpoint::{Endpoint, Event, Level};
use crate::ike::kernel::{
    IntegAlg, IpsecProto, KernelOp, KernelReply, Mode, PolicyAction, PolicySpec, SaInstall,
    Selector,
};
use crate::ike::proposal::{
    default_ipsec_proposals, ipsec_sa_payload_udp, parse_ipsec_reply, select_ipsec_udp, Chosen,
    IpsecTransform,
};
use crate::ike::wire::{
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

mod initiator;
mod install;
mod responder;

impl Endpoint {
    fn ipsec_offer(conn: &ConnConfig) -> Vec<crate::ike::proposal::IpsecProposal> {
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
        self.start_quick_to(now, p1, attempt, None);
    }

    /// Quick Mode on the ISAKMP SA `p1`; `peer_client` names the peer's
    /// client when the connection does not (a road warrior's virtual client,
    /// when the gateway replaces the SAs the road warrior negotiated).
    pub(crate) fn start_quick_to(
        &mut self,
        now: Instant,
        p1: u64,
        attempt: u32,
        peer_client: Option<super::kernel::Selector>,
    ) {
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
        let reqid = self.conn_reqid(&conn.name);
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
        if let Some(st) = self.p2.get_mut(&serial) {
            st.peer_client = peer_client;
        }
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
            KernelReply::Spi { req, .. }
            | KernelReply::SaUse { req, .. }
            | KernelReply::Installed { req }
            | KernelReply::Failed { req, .. } => *req,
        };
        let waits_install = |s: &Phase2| s.pending_install.as_ref().is_some_and(|p| p.req == req);
        if let Some(serial) = self.p2.find(&StateKey::KernelReq(req), waits_install) {
            let refusal = match reply {
                KernelReply::Failed { reason, .. } => Some(reason),
                _ => None,
            };
            if let Err(e) = self.install_answered(now, serial, refusal) {
                self.count_reject(&e);
                self.log(
                    Level::Error,
                    None,
                    Some(serial),
                    Some(Rc::InternalErr),
                    e.to_string(),
                );
                self.delete_phase2(now, serial, false);
            }
            return;
        }
        let waits_spi = |s: &Phase2| s.pending_spis.iter().any(|(r, _)| *r == req);
        let Some(serial) = self.p2.find(&StateKey::KernelReq(req), waits_spi) else {
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
            KernelReply::Installed { .. } | KernelReply::SaUse { .. } => return,
            KernelReply::Failed { reason, .. } => {
                let text = format!("kernel refused an SPI for {}: {reason}", proto.name());
                self.kernel_failed(now, serial, text, reason, false);
                return;
            }
        }
        if !st.pending_spis.is_empty() {
            return;
        }
        self.quick_first_message(now, serial);
    }

    /// QI1 or QR1, once the SPIs (and with PFS our key pair) are there.
    fn quick_first_message(&mut self, now: Instant, serial: u64) {
        let Some(kind) = self.p2.get(&serial).map(|s| s.kind) else {
            return;
        };
        let result = match kind {
            StateKind::QuickI0 => self.send_qi1(now, serial),
            StateKind::QuickR0 => self.send_qr1(now, serial),
            _ => Ok(()),
        };
        if let Err(e) = result {
            self.quick_first_failed(now, serial, kind, e);
        }
    }

    /// QI1 or QR1 cannot be sent: the state goes.
    fn quick_first_failed(&mut self, now: Instant, serial: u64, kind: StateKind, e: Reject) {
        self.count_reject(&e);
        self.quick_internal_error(serial, format!("{}: {e}", kind.name()));
        self.delete_phase2(now, serial, false);
    }

    /// Logs `text` as an internal error (RC 32) of IPsec state `serial`;
    /// returns the state's connection.
    fn quick_internal_error(&mut self, serial: u64, text: String) -> String {
        let conn = self
            .p2
            .get(&serial)
            .map(|s| s.conn.clone())
            .unwrap_or_default();
        self.log(
            Level::Error,
            Some(&conn),
            Some(serial),
            Some(Rc::InternalErr),
            text,
        );
        conn
    }

    /// The kernel failed state `serial`: say so (RC 32, whack's
    /// "internal error"), report the failure, and take the state with its
    /// SAs and policies away (telling the peer when `notify`).
    pub(super) fn kernel_failed(
        &mut self,
        now: Instant,
        serial: u64,
        text: String,
        reason: String,
        notify: bool,
    ) {
        let conn = self.quick_internal_error(serial, text);
        self.routing_failed(&conn);
        self.events.push_back(Event::Failed {
            serial,
            conn,
            reason,
        });
        self.delete_phase2(now, serial, notify);
    }

    fn pfs_group_for(&self, conn: &ConnConfig, p1: u64) -> Option<DhGroup> {
        if !conn.policy.pfs {
            return None;
        }
        conn.pfs_group
            .or_else(|| self.p1.get(&p1).and_then(|s| s.chosen).map(|x| x.group))
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
        let msgid = hdr.msgid;
        let existing = self
            .p2
            .find(&StateKey::Exchange { parent: p1, msgid }, |s| {
                s.parent == p1 && s.msgid == msgid
            });
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
            return self.responder_qi1(now, p1, hdr, body, (digest, data));
        };
        let Some(st) = self.p2.get_mut(&serial) else {
            return;
        };
        if st.last_rx == Some(digest) {
            let kind = st.kind;
            let resend = Retransmit::for_duplicate(st.retransmit.as_mut(), kind);
            self.note_duplicate(&conn, serial, kind, resend.is_some());
            if let (Some(pkt), Ok((l, r))) = (resend, self.p1_addrs(serial)) {
                self.send(l, r, pkt);
            }
            return;
        }
        let kind = st.kind;
        if st.computing.is_some() {
            // Another version of the message whose answer is being computed.
            self.log(
                Level::Debug,
                Some(&conn),
                Some(serial),
                None,
                "dropping a second Quick Mode message while the first is being answered".into(),
            );
            return;
        }
        if kind == StateKind::QuickI1 && st.qx().dh.is_some() && !self.compute.has_room(false) {
            // PFS needs g^xy: the responder resends QR1 when it is answered.
            self.log(
                Level::Debug,
                Some(&conn),
                Some(serial),
                None,
                "too many computations in progress; QR1 dropped".into(),
            );
            return;
        }
        let result = match kind {
            StateKind::QuickI1 => self.initiator_qr1(now, serial, hdr, body, data),
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
            Err(e) => self.quick_rejected(now, serial, &conn, kind, e),
        }
    }

    /// A Quick Mode step refused its input (or its computation's outcome).
    fn quick_rejected(
        &mut self,
        now: Instant,
        serial: u64,
        conn: &str,
        kind: StateKind,
        e: Reject,
    ) {
        self.count_reject(&e);
        self.log(
            Level::Warn,
            Some(conn),
            Some(serial),
            Some(Rc::Notification(u32::from(e.notify().unwrap_or(0)))),
            format!("{}: {e}", kind.name()),
        );
        if let Reject::Local(_) = e {
            self.delete_phase2(now, serial, false);
        }
    }

    /// Our key pair for QI1/QR1 (and, for QR1, g^xy) came back: the
    /// message goes out.
    pub(crate) fn quick_resumed(
        &mut self,
        now: Instant,
        serial: u64,
        pair: DhKeyPair,
        shared: Option<Result<Vec<u8>, DhError>>,
    ) {
        let Some(st) = self.p2.get_mut(&serial) else {
            return;
        };
        st.qx_mut().dh = Some(pair);
        match shared {
            Some(Ok(g)) => st.qx_mut().gqm = Some(g),
            Some(Err(e)) => {
                let kind = st.kind;
                let e = misbehaved(Misbehaviour::BadKeyExchange(format!("{e:?}")));
                return self.quick_first_failed(now, serial, kind, e);
            }
            None => {}
        }
        self.quick_first_message(now, serial);
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
        let (plain, next_iv) = decrypt_body(c.xform.cipher, c.keys.enc_key(), iv, body)?;
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
            skeyid_a: c.keys.skeyid_a().to_vec(),
            hash: c.xform.hash,
            cipher: c.xform.cipher,
            iv: c.iv.clone(),
            enc_key: c.keys.enc_key().to_vec(),
            icookie: parent.icookie,
            rcookie: parent.rcookie,
        })
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
    offered: Vec<crate::ike::proposal::IpsecProposal>,
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
        qx: Some(Box::new(crate::ike::state::QuickExchange {
            offered,
            ..Default::default()
        })),
        computing: None,
        id_i: None,
        id_r: None,
        chosen: None,
        our_spis: Vec::new(),
        pending_spis: Vec::new(),
        reqid,
        retransmit: None,
        last_rx: None,
        replace: None,
        planned: None,
        expires: None,
        attempt,
        installed: Vec::new(),
        policies: Vec::new(),
        pending_install: None,
        nat_oa: None,
        peer_client: None,
    }
}
