//! R_U_THERE and R_U_THERE_ACK that pass HASH(1) but break RFC 3706's
//! rules: made by the peer itself (it has the keys), so only the DPD checks
//! stand between them and the state.

use super::*;
use crate::ike::config::{ConnConfig, End, Policy, SecretEntry, SecretIndex, SecretValue, Secrets};
use crate::ike::crypto::NullDh;
use crate::ike::kernel::KernelOp;
use crate::ike::rng::SeededRng;
use crate::ike::wire::{protocol, Identity, Payload, DOI_IPSEC};
use crate::ike::{Command, Transmit};
use std::net::Ipv4Addr;

pub(crate) const CONN: &str = "c";

fn addr(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, last)
}

fn end(last: u8) -> End {
    End {
        host: Some(IpAddr::V4(addr(last))),
        port: 500,
        id: None,
        client: None,
        virt: None,
    }
}

pub(crate) fn endpoint(me: u8, peer: u8, seed: u64, dpd: Option<Dpd>) -> Endpoint {
    let mut ep = Endpoint::new(Box::new(NullDh), Box::new(SeededRng::new(seed)));
    let policy = Policy {
        psk: true,
        encrypt: true,
        tunnel: true,
        ..Policy::default()
    };
    let mut c = ConnConfig::new(CONN, end(me), end(peer), policy);
    c.dpd = dpd;
    let now = Instant::now();
    let secrets = Secrets {
        entries: vec![SecretEntry {
            indices: vec![
                SecretIndex::Id(Identity::Ipv4(addr(1))),
                SecretIndex::Id(Identity::Ipv4(addr(2))),
            ],
            value: SecretValue::Psk(b"secret".to_vec()),
        }],
        ..Secrets::default()
    };
    assert!(ep
        .handle_command(now, Command::AddConnection(Box::new(c)))
        .is_ok());
    assert!(ep
        .handle_command(now, Command::LoadSecrets(secrets))
        .is_ok());
    ep
}

/// Two endpoints and a kernel that says yes; datagrams go straight across.
pub(crate) struct Pair {
    pub(crate) eps: [Endpoint; 2],
    pub(crate) now: Instant,
    next_spi: u32,
}

impl Pair {
    pub(crate) fn new(dpd: Option<Dpd>) -> Pair {
        let mut p = Pair {
            eps: [endpoint(1, 2, 11, dpd), endpoint(2, 1, 12, None)],
            now: Instant::now(),
            next_spi: 0x1000,
        };
        assert!(p.eps[0]
            .handle_command(p.now, Command::Initiate(CONN.into()))
            .is_ok());
        p.pump();
        assert!(p.eps.iter().all(|e| e.states().len() == 2));
        p
    }

    /// Delivers everything until quiet; returns what each side sent.
    pub(crate) fn pump(&mut self) -> [Vec<Transmit>; 2] {
        let mut sent: [Vec<Transmit>; 2] = [Vec::new(), Vec::new()];
        loop {
            let mut any = false;
            for (i, out) in sent.iter_mut().enumerate() {
                while let Some(op) = self.eps[i].poll_kernel_op() {
                    let reply = match op {
                        KernelOp::GetSpi { req, .. } => {
                            self.next_spi += 1;
                            Some(KernelReply::Spi {
                                req,
                                spi: self.next_spi,
                            })
                        }
                        KernelOp::Install { req, .. } => Some(KernelReply::Installed { req }),
                        KernelOp::QuerySa { req, .. } => Some(KernelReply::Failed {
                            req,
                            reason: "no counters".into(),
                        }),
                        _ => None,
                    };
                    if let Some(r) = reply {
                        self.eps[i].handle_kernel_reply(self.now, r);
                    }
                }
                while self.eps[i].poll_event().is_some() {}
                while let Some(t) = self.eps[i].poll_transmit() {
                    any = true;
                    self.eps[1 - i].handle_datagram(self.now, t.remote, t.local, &t.payload);
                    out.push(t);
                }
            }
            if !any {
                return sent;
            }
        }
    }

    fn p1(&self, i: usize) -> u64 {
        self.eps[i]
            .states()
            .iter()
            .find(|s| !s.ipsec)
            .map(|s| s.serial)
            .unwrap_or_default()
    }

    fn dpd(&self, i: usize) -> DpdState {
        self.eps[i]
            .p1
            .get(&self.p1(i))
            .map(|s| s.dpd.clone())
            .unwrap_or_default()
    }

    /// Side `i` sends a protected Notify of `ntype` with this SPI and data.
    fn notify(&mut self, i: usize, ntype: u16, spi: Vec<u8>, data: Vec<u8>) -> [Vec<Transmit>; 2] {
        let p1 = self.p1(i);
        let n = NotifyPayload {
            doi: DOI_IPSEC,
            protocol: protocol::ISAKMP,
            spi,
            msg_type: ntype,
            data,
        };
        self.eps[i].send_protected_info(p1, vec![Payload::Notify(n)]);
        self.pump()
    }

    fn cookies(&self, i: usize) -> Vec<u8> {
        let s = self.eps[i].p1.get(&self.p1(i));
        s.map(|s| [s.icookie, s.rcookie].concat())
            .unwrap_or_default()
    }
}

fn refused(ep: &Endpoint) -> u64 {
    ep.counters().peer_misbehaved
}

#[test]
fn r_u_there_is_answered_with_its_own_number_and_garbage_is_not() {
    let mut p = Pair::new(None);
    let spi = p.cookies(0);
    let sent = p.notify(
        0,
        notify_type::R_U_THERE,
        spi.clone(),
        5u32.to_be_bytes().to_vec(),
    );
    assert_eq!(sent[1].len(), 1, "one ACK");
    assert_eq!(p.dpd(1).peer_seq, Some(5));
    // The ACK arrived at side 0, which asked nothing: refused there.
    assert_eq!(refused(&p.eps[0]), 1);

    let before = refused(&p.eps[1]);
    let garbage: [(Vec<u8>, Vec<u8>); 5] = [
        (vec![0; 16], 6u32.to_be_bytes().to_vec()),
        (spi[..8].to_vec(), 6u32.to_be_bytes().to_vec()),
        (Vec::new(), 6u32.to_be_bytes().to_vec()),
        (spi.clone(), vec![0, 6]),
        (spi.clone(), vec![0, 0, 0, 6, 0]),
    ];
    for (s, d) in garbage {
        let sent = p.notify(0, notify_type::R_U_THERE, s, d);
        assert!(sent[1].is_empty(), "garbage answered");
    }
    assert_eq!(refused(&p.eps[1]), before + 5);
    assert_eq!(p.dpd(1).peer_seq, Some(5));

    // Older numbers are refused; a repeat is answered a few times only.
    let sent = p.notify(
        0,
        notify_type::R_U_THERE,
        spi.clone(),
        4u32.to_be_bytes().to_vec(),
    );
    assert!(sent[1].is_empty());
    let mut answered = 0;
    for _ in 0..6 {
        let sent = p.notify(
            0,
            notify_type::R_U_THERE,
            spi.clone(),
            5u32.to_be_bytes().to_vec(),
        );
        answered += sent[1].len();
    }
    assert_eq!(answered, usize::from(MAX_DUPLICATE_ANSWERS));
    // Numbers wrap: u32::MAX is 6 behind 5, across the wrap: old.
    let sent = p.notify(
        0,
        notify_type::R_U_THERE,
        spi.clone(),
        u32::MAX.to_be_bytes().to_vec(),
    );
    assert!(sent[1].is_empty());
    let sent = p.notify(0, notify_type::R_U_THERE, spi, 6u32.to_be_bytes().to_vec());
    assert_eq!(sent[1].len(), 1);
    assert_eq!(p.dpd(1).peer_seq, Some(6));
    assert!(p.eps.iter().all(|e| e.states().len() == 2));
}

#[test]
fn only_an_ack_of_an_outstanding_number_counts() {
    let d = Dpd {
        delay: 10,
        timeout: 30,
        action: DpdAction::Clear,
    };
    let mut p = Pair::new(Some(d));
    let p1 = p.p1(0);
    // Side 0 asks; the question is lost.
    p.eps[0].send_r_u_there(p.now, p.now, p1, d);
    let lost = p.eps[0].poll_transmit();
    assert!(lost.is_some());
    let asked = p.dpd(0);
    let seq = asked.seq;
    assert_eq!(asked.waiting_from, Some(seq));
    let dead_at = asked.dead_at;
    assert!(dead_at.is_some());
    let spi = p.cookies(1);
    for wrong in [seq.wrapping_add(1), seq.wrapping_sub(1), 0] {
        let sent = p.notify(
            1,
            notify_type::R_U_THERE_ACK,
            spi.clone(),
            wrong.to_be_bytes().to_vec(),
        );
        assert!(sent[0].is_empty());
        let now = p.dpd(0);
        assert_eq!((now.waiting_from, now.dead_at), (Some(seq), dead_at));
    }
    // A second R_U_THERE keeps the first one's clock.
    p.eps[0].send_r_u_there(p.now, p.now, p1, d);
    assert!(p.eps[0].poll_transmit().is_some());
    assert_eq!(p.dpd(0).dead_at, dead_at);
    assert_eq!(p.dpd(0).seq, next_seq(seq));
    // A late ACK of the first one still proves the peer alive.
    let sent = p.notify(
        1,
        notify_type::R_U_THERE_ACK,
        spi,
        seq.to_be_bytes().to_vec(),
    );
    assert!(sent[0].is_empty());
    let done = p.dpd(0);
    assert_eq!((done.waiting_from, done.dead_at), (None, None));
    assert_eq!(done.status().expect, 0);
    assert_eq!(done.status().next_seq, next_seq(next_seq(seq)));
}

#[test]
fn sequence_arithmetic() {
    assert!(newer(6, 5));
    assert!(!newer(5, 5));
    assert!(!newer(4, 5));
    assert!(newer(2, u32::MAX));
    assert!(!newer(u32::MAX, 2));
    assert_eq!(next_seq(u32::MAX), 1);
    assert_eq!(next_seq(7), 8);
}

#[test]
fn a_dpd_timer_without_settings_is_disarmed() {
    // A DPD timer of a state whose connection lost its DPD settings is
    // disarmed, not spun on.
    let mut p = Pair::new(None);
    let p1 = p.p1(0);
    if let Some(s) = p.eps[0].p1.get_mut(&p1) {
        s.dpd.next = Some(p.now);
    }
    assert_eq!(p.eps[0].poll_timeout().map(|t| t <= p.now), Some(true));
    p.eps[0].handle_timeout(p.now);
    assert!(p.eps[0].dpd_deadline().is_none());
}

#[test]
fn unknown_counters_mean_the_peer_is_asked() {
    let d = Dpd {
        delay: 10,
        timeout: 30,
        action: DpdAction::Clear,
    };
    let mut p = Pair::new(Some(d));
    // First check: Quick Mode was heard since establishment.
    p.now += Duration::from_secs(10);
    p.eps[0].handle_timeout(p.now);
    let sent = p.pump();
    assert!(sent[0].is_empty());
    // Second check: the kernel cannot tell (this one fails every query).
    p.now += Duration::from_secs(10);
    p.eps[0].handle_timeout(p.now);
    let sent = p.pump();
    assert_eq!((sent[0].len(), sent[1].len()), (1, 1), "R_U_THERE and ACK");
    let st = p.dpd(0);
    assert_eq!((st.waiting_from, st.dead_at), (None, None));
    assert_eq!(st.next, Some(p.now + Duration::from_secs(10)));
}

#[test]
fn initial_contact_in_an_informational_drops_the_older_states() {
    let mut p = Pair::new(None);
    let old: Vec<u64> = p.eps[1].states().iter().map(|s| s.serial).collect();
    let conn = p.eps[0].conn(CONN).cloned();
    let Some(conn) = conn else {
        panic!("no connection")
    };
    // A second ISAKMP SA: the first still exists, so no INITIAL-CONTACT;
    // the responder keeps its older one too, which the peer used.
    p.eps[0].start_main(p.now, &conn, 1, false);
    p.pump();
    assert_eq!(p.eps[1].states().len(), 3);
    assert_eq!(p.eps[1].states().iter().filter(|s| s.ipsec).count(), 1);
    let newest = p.eps[0]
        .states()
        .iter()
        .filter(|s| !s.ipsec)
        .map(|s| s.serial)
        .max()
        .unwrap_or_default();
    let n = NotifyPayload {
        doi: DOI_IPSEC,
        protocol: protocol::ISAKMP,
        spi: Vec::new(),
        msg_type: notify_type::INITIAL_CONTACT,
        data: Vec::new(),
    };
    p.eps[0].send_protected_info(newest, vec![Payload::Notify(n)]);
    p.pump();
    let left = p.eps[1].states();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(!old.contains(&left[0].serial));
    assert!(!left[0].ipsec);
}

#[test]
fn authenticated_random_dpd_notifies_never_move_anything_but_the_numbers() {
    let d = Dpd {
        delay: 10,
        timeout: 30,
        action: DpdAction::Clear,
    };
    let mut p = Pair::new(Some(d));
    let mut rng = SeededRng::new(99);
    let mut byte = || {
        let mut b = [0u8; 1];
        crate::ike::rng::Rng::fill(&mut rng, &mut b);
        b[0]
    };
    let cookies = p.cookies(0);
    let mut answered = 0;
    for _ in 0..500 {
        let ntype = if byte() & 1 == 0 {
            notify_type::R_U_THERE
        } else {
            notify_type::R_U_THERE_ACK
        };
        let spi: Vec<u8> = match byte() % 3 {
            0 => cookies.clone(),
            1 => (0..byte() % 17).map(|_| byte()).collect(),
            _ => {
                let mut c = cookies.clone();
                let i = usize::from(byte()) % c.len();
                c[i] ^= 1 << (byte() % 8);
                c
            }
        };
        let data: Vec<u8> = (0..byte() % 9).map(|_| byte()).collect();
        let valid = spi == cookies && data.len() == 4;
        let sent = p.notify(0, ntype, spi, data);
        // Only a well-formed R_U_THERE is ever answered, with one ACK.
        assert!(sent[1].len() <= usize::from(valid && ntype == notify_type::R_U_THERE));
        answered += sent[1].len();
        assert_eq!(p.eps[1].states().len(), 2);
        assert_eq!(p.eps[0].states().len(), 2);
    }
    // Random numbers are newer than the last one about half the time.
    assert!(answered > 5, "{answered}");
    // The peer never asked side 1 anything it could ACK: its DPD is idle.
    assert_eq!(p.dpd(1).waiting_from, None);
    assert!(p.eps[1].dpd_deadline().is_none());
}

#[test]
fn crash_deletes_every_state_with_that_peer_and_sends_nothing() {
    let mut p = Pair::new(None);
    let now = p.now;
    // An address no state has: nothing happens.
    assert!(p.eps[1]
        .handle_command(now, Command::Crash(IpAddr::V4(addr(9))))
        .is_ok());
    assert_eq!(p.eps[1].states().len(), 2);
    while p.eps[1].poll_kernel_op().is_some() {}
    assert!(p.eps[1]
        .handle_command(now, Command::Crash(IpAddr::V4(addr(1))))
        .is_ok());
    assert_eq!(
        p.eps[1].states().len(),
        0,
        "both the ISAKMP and the IPsec state go"
    );
    assert!(
        p.eps[1].poll_transmit().is_none(),
        "no Delete to a peer that lost its state"
    );
    let mut deleted = 0;
    while let Some(op) = p.eps[1].poll_kernel_op() {
        if matches!(op, KernelOp::DeleteSa { .. }) {
            deleted += 1;
        }
    }
    assert_eq!(
        deleted, 2,
        "the inbound and the outbound SA leave the kernel"
    );
    let logged: Vec<String> = std::iter::from_fn(|| p.eps[1].poll_event())
        .filter_map(|e| match e {
            crate::ike::Event::Log(l) => Some(l.to_string()),
            _ => None,
        })
        .collect();
    assert!(
        logged
            .iter()
            .any(|l| l.contains("peer 192.0.2.1 crashed: deleting its states")),
        "{logged:?}"
    );
    // The other side keeps its states: it was not told.
    assert_eq!(p.eps[0].states().len(), 2);
}
