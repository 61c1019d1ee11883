//! Informational exchanges: Delete and Notify, protected by HASH(1) once the
//! ISAKMP SA exists (an unprotected one is only logged).

use super::crypto::{informational_hash, phase2_iv};
use super::endpoint::{Endpoint, Level};
use super::kernel::IpsecProto;
use super::packet::{build_encrypted, ct_eq, decrypt_body, HeaderFields, Parsed};
use super::state::{StateKey, StateKind};
use super::wire::{
    emit_chain, exchange, flags, notify_type, protocol, DeletePayload, Header, NotifyPayload,
    Payload, DOI_IPSEC,
};
use crate::ctl::Rc;
use std::net::SocketAddr;
use std::time::Instant;

/// Most SPIs we act on from one Delete payload.
const MAX_DELETE_SPIS: usize = 64;

pub(crate) fn notify_name(t: u16) -> String {
    let name = match t {
        notify_type::INVALID_PAYLOAD_TYPE => "INVALID_PAYLOAD_TYPE",
        notify_type::INVALID_COOKIE => "INVALID_COOKIE",
        notify_type::INVALID_EXCHANGE_TYPE => "INVALID_EXCHANGE_TYPE",
        notify_type::INVALID_MESSAGE_ID => "INVALID_MESSAGE_ID",
        notify_type::INVALID_SPI => "INVALID_SPI",
        notify_type::NO_PROPOSAL_CHOSEN => "NO_PROPOSAL_CHOSEN",
        notify_type::BAD_PROPOSAL_SYNTAX => "BAD_PROPOSAL_SYNTAX",
        notify_type::PAYLOAD_MALFORMED => "PAYLOAD_MALFORMED",
        notify_type::INVALID_KEY_INFORMATION => "INVALID_KEY_INFORMATION",
        notify_type::INVALID_ID_INFORMATION => "INVALID_ID_INFORMATION",
        notify_type::INVALID_HASH_INFORMATION => "INVALID_HASH_INFORMATION",
        notify_type::AUTHENTICATION_FAILED => "AUTHENTICATION_FAILED",
        notify_type::INVALID_SIGNATURE => "INVALID_SIGNATURE",
        notify_type::RESPONDER_LIFETIME => "RESPONDER_LIFETIME",
        notify_type::REPLAY_STATUS => "REPLAY_STATUS",
        notify_type::INITIAL_CONTACT => "INITIAL_CONTACT",
        notify_type::R_U_THERE => "R_U_THERE",
        notify_type::R_U_THERE_ACK => "R_U_THERE_ACK",
        _ => return format!("notification type {t}"),
    };
    name.to_string()
}

impl Endpoint {
    /// Sends `payloads` in a protected Informational exchange under ISAKMP SA `p1`.
    pub(crate) fn send_protected_info(&mut self, p1: u64, payloads: Vec<Payload>) {
        let Some(parent) = self.p1.get(&p1) else {
            return;
        };
        let Some(c) = parent
            .crypto
            .clone()
            .filter(|_| parent.kind.is_established())
        else {
            return;
        };
        let (icookie, rcookie, local, remote) =
            (parent.icookie, parent.rcookie, parent.local, parent.remote);
        let msgid = loop {
            let m = u32::from_be_bytes(self.random::<4>());
            if m != 0 && !self.p1.get(&p1).is_some_and(|s| s.msgids.contains(&m)) {
                break m;
            }
        };
        if let Some(s) = self.p1.get_mut(&p1) {
            s.msgids.push(msgid);
        }
        let (_, rest) = emit_chain(&payloads);
        let h = informational_hash(c.prf(), c.keys.skeyid_a(), msgid, &rest);
        let mut all = vec![Payload::Hash(h)];
        all.extend(payloads);
        let (first, chain) = emit_chain(&all);
        let iv = phase2_iv(c.xform.hash, &c.iv, msgid, c.xform.cipher.block_len());
        let hf = HeaderFields {
            icookie,
            rcookie,
            exchange: exchange::INFORMATIONAL,
            msgid,
        };
        match build_encrypted(&hf, first, &chain, c.xform.cipher, c.keys.enc_key(), &iv) {
            Ok((pkt, _)) => self.send(local, remote, pkt),
            Err(e) => self.log(
                Level::Error,
                None,
                Some(p1),
                None,
                format!("cannot send informational: {e}"),
            ),
        }
    }

    pub(crate) fn send_protected_notify(&mut self, _now: Instant, p1: u64, ntype: u16) {
        let n = NotifyPayload {
            doi: DOI_IPSEC,
            protocol: protocol::ISAKMP,
            spi: Vec::new(),
            msg_type: ntype,
            data: Vec::new(),
        };
        self.send_protected_info(p1, vec![Payload::Notify(n)]);
    }

    /// A Notify about ISAKMP SA `p1` itself (R_U_THERE, R_U_THERE_ACK): its
    /// cookie pair as SPI, `data` after it.
    pub(crate) fn send_cookie_notify(&mut self, p1: u64, ntype: u16, data: Vec<u8>) {
        let Some(s) = self.p1.get(&p1) else {
            return;
        };
        let mut spi = s.icookie.to_vec();
        spi.extend_from_slice(&s.rcookie);
        let n = NotifyPayload {
            doi: DOI_IPSEC,
            protocol: protocol::ISAKMP,
            spi,
            msg_type: ntype,
            data,
        };
        self.send_protected_info(p1, vec![Payload::Notify(n)]);
    }

    /// Tells the peer an established ISAKMP SA is going away.
    pub(crate) fn send_isakmp_delete(&mut self, _now: Instant, p1: u64) {
        let Some(s) = self.p1.get(&p1).filter(|s| s.kind.is_established()) else {
            return;
        };
        let mut spi = s.icookie.to_vec();
        spi.extend_from_slice(&s.rcookie);
        let d = DeletePayload {
            doi: DOI_IPSEC,
            protocol: protocol::ISAKMP,
            spi_size: 16,
            spis: vec![spi],
        };
        self.send_protected_info(p1, vec![Payload::Delete(d)]);
    }

    /// Tells the peer an IPsec SA is going away: one Delete per protocol
    /// carrying our inbound SPI, under any established ISAKMP SA of the
    /// connection. For established SAs, and for a responder's QUICK_R1 (it
    /// sent QR1, so the initiator may have installed its half).
    pub(crate) fn send_ipsec_delete(&mut self, _now: Instant, p2: u64) {
        let Some(s) = self
            .p2
            .get(&p2)
            .filter(|s| s.kind.is_established() || s.kind == StateKind::QuickR1)
        else {
            return;
        };
        let mut payloads = Vec::new();
        for (proto, spi) in &s.our_spis {
            if *proto == IpsecProto::Ipcomp {
                continue;
            }
            payloads.push(Payload::Delete(DeletePayload {
                doi: DOI_IPSEC,
                protocol: proto.doi_id(),
                spi_size: 4,
                spis: vec![spi.to_be_bytes().to_vec()],
            }));
        }
        let parent = Some(s.parent)
            .filter(|p| self.p1.get(p).is_some_and(|x| x.kind.is_established()))
            .or_else(|| self.newest_p1(&s.conn));
        if let (Some(p1), false) = (parent, payloads.is_empty()) {
            self.send_protected_info(p1, payloads);
        }
    }

    pub(crate) fn informational_input(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        hdr: &Header,
        body: &[u8],
    ) {
        let serial = self
            .by_cookies
            .get(&(hdr.icookie, hdr.rcookie))
            .or_else(|| self.by_icookie.get(&hdr.icookie))
            .copied();
        let Some(p1) =
            serial.filter(|s| self.p1.get(s).is_some_and(|x| x.remote.ip() == remote.ip()))
        else {
            self.counters.peer_misbehaved += 1;
            self.log_peer(
                remote,
                "Informational message for an unknown ISAKMP SA; dropped".to_string(),
            );
            return;
        };
        let conn = self.p1.get(&p1).map(|s| s.conn.clone()).unwrap_or_default();
        if hdr.flags & flags::ENCRYPTION == 0 {
            // Anyone can forge these: log them, act on none.
            match Parsed::parse(hdr.next_payload, body.to_vec(), false) {
                Ok(parsed) => {
                    for p in &parsed.payloads {
                        if let Payload::Notify(n) = &p.payload {
                            self.log(
                                Level::Warn,
                                Some(&conn),
                                Some(p1),
                                Some(Rc::Notification(u32::from(n.msg_type.min(55)))),
                                format!(
                                    "ignoring unauthenticated informational payload {}",
                                    notify_name(n.msg_type)
                                ),
                            );
                        }
                    }
                }
                Err(e) => {
                    self.counters.malformed += 1;
                    self.log(
                        Level::Warn,
                        Some(&conn),
                        Some(p1),
                        None,
                        format!("malformed unauthenticated informational message: {e}"),
                    );
                }
            }
            return;
        }
        let Some(parent) = self.p1.get(&p1) else {
            return;
        };
        let Some(c) = parent
            .crypto
            .clone()
            .filter(|_| parent.kind.is_established())
        else {
            self.log(
                Level::Warn,
                Some(&conn),
                Some(p1),
                None,
                "encrypted informational message before the ISAKMP SA is established; dropped"
                    .into(),
            );
            return;
        };
        if hdr.msgid == 0 || parent.msgids.contains(&hdr.msgid) {
            self.counters.peer_misbehaved += 1;
            self.log(
                Level::Warn,
                Some(&conn),
                Some(p1),
                None,
                format!(
                    "informational message with a used or zero message ID {:#010x}; dropped",
                    hdr.msgid
                ),
            );
            return;
        }
        let iv = phase2_iv(c.xform.hash, &c.iv, hdr.msgid, c.xform.cipher.block_len());
        let parsed = match decrypt_body(c.xform.cipher, c.keys.enc_key(), &iv, body)
            .and_then(|(plain, _)| Parsed::parse(hdr.next_payload, plain, true))
        {
            Ok(p) => p,
            Err(e) => {
                self.count_reject(&e);
                self.log(
                    Level::Warn,
                    Some(&conn),
                    Some(p1),
                    None,
                    format!("informational message refused: {e}"),
                );
                return;
            }
        };
        let Some(Payload::Hash(got)) = parsed.payloads.first().map(|p| &p.payload) else {
            self.counters.peer_misbehaved += 1;
            self.log(
                Level::Warn,
                Some(&conn),
                Some(p1),
                None,
                "informational message without HASH(1) first; dropped".into(),
            );
            return;
        };
        let expected = informational_hash(c.prf(), c.keys.skeyid_a(), hdr.msgid, parsed.after(0));
        if !ct_eq(got, &expected) {
            self.counters.peer_misbehaved += 1;
            self.log(
                Level::Warn,
                Some(&conn),
                Some(p1),
                None,
                "informational message HASH(1) does not verify; dropped".into(),
            );
            return;
        }
        self.peer_spoke(p1, hdr.msgid);
        // Collect first, act after: deleting the ISAKMP SA must not leave
        // later payloads of the same message working on a dead state.
        let mut delete_self = false;
        let mut initial_contact = false;
        for p in parsed.payloads.iter().skip(1) {
            match &p.payload {
                Payload::Notify(n)
                    if matches!(
                        n.msg_type,
                        notify_type::R_U_THERE | notify_type::R_U_THERE_ACK
                    ) =>
                {
                    if !delete_self {
                        self.dpd_notify(now, p1, n);
                    }
                }
                Payload::Notify(n) if n.msg_type == notify_type::INITIAL_CONTACT => {
                    initial_contact = true;
                }
                Payload::Notify(n) => {
                    self.log(
                        Level::Info,
                        Some(&conn),
                        Some(p1),
                        None,
                        format!(
                            "ignoring informational payload, type {}",
                            notify_name(n.msg_type)
                        ),
                    );
                }
                Payload::Delete(d) => delete_self |= self.accept_delete(now, p1, remote, d),
                other => {
                    self.log(
                        Level::Debug,
                        Some(&conn),
                        Some(p1),
                        None,
                        format!(
                            "ignoring {} payload in informational message",
                            super::wire::payload_name(other.ty())
                        ),
                    );
                }
            }
        }
        if initial_contact && !delete_self {
            self.honour_initial_contact(now, p1);
        }
        if delete_self {
            self.log_state(
                &conn,
                p1,
                None,
                "received Delete SA payload: deleting ISAKMP State".into(),
            );
            self.delete_phase1(now, p1, false);
        }
    }

    /// Honours one Delete payload. Returns true when it names the ISAKMP SA it
    /// arrived under (deleted by the caller once the message is done).
    fn accept_delete(
        &mut self,
        now: Instant,
        p1: u64,
        remote: SocketAddr,
        d: &DeletePayload,
    ) -> bool {
        let conn = self.p1.get(&p1).map(|s| s.conn.clone()).unwrap_or_default();
        let mut this_one = false;
        for spi in d.spis.iter().take(MAX_DELETE_SPIS) {
            match d.protocol {
                protocol::ISAKMP => {
                    let (Some(ic), Some(rc)) = (spi.get(..8), spi.get(8..16)) else {
                        continue;
                    };
                    let (Ok(ic), Ok(rc)) = (<[u8; 8]>::try_from(ic), <[u8; 8]>::try_from(rc))
                    else {
                        continue;
                    };
                    match self.by_cookies.get(&(ic, rc)).copied() {
                        Some(s) if s == p1 => this_one = true,
                        Some(s)
                            if self
                                .p1
                                .get(&s)
                                .is_some_and(|x| x.remote.ip() == remote.ip()) =>
                        {
                            self.log_state(
                                &conn,
                                s,
                                None,
                                "received Delete SA payload: deleting ISAKMP State".into(),
                            );
                            self.delete_phase1(now, s, false);
                        }
                        _ => self.log(
                            Level::Info,
                            Some(&conn),
                            Some(p1),
                            None,
                            "ignoring Delete SA payload: ISAKMP SA not found".into(),
                        ),
                    }
                }
                proto_id => {
                    let Some(proto) = IpsecProto::from_doi_id(proto_id) else {
                        continue;
                    };
                    let Ok(b) = <[u8; 4]>::try_from(spi.as_slice()) else {
                        continue;
                    };
                    let spi_v = u32::from_be_bytes(b);
                    let victim = self.p2.find(&StateKey::PeerSpi(proto, spi_v), |s| {
                        s.chosen.as_ref().is_some_and(|c| {
                            c.protos
                                .iter()
                                .any(|cp| cp.proto == proto && cp.peer_spi == spi_v)
                        }) && self
                            .p1
                            .get(&s.parent)
                            .map_or(s.conn == conn, |x| x.remote.ip() == remote.ip())
                    });
                    match victim {
                        Some(v) => {
                            self.log_state(&conn, v, None, format!("received Delete SA({spi_v:#010x}) payload: deleting IPsec State"));
                            self.delete_phase2(now, v, false);
                        }
                        None => self.log(
                            Level::Info,
                            Some(&conn),
                            Some(p1),
                            None,
                            format!(
                                "ignoring Delete SA payload: {} SA({spi_v:#010x}) not found",
                                proto.name()
                            ),
                        ),
                    }
                }
            }
        }
        this_one
    }
}
