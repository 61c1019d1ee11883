//! Dead Peer Detection (RFC 3706) on an established ISAKMP SA.
//!
//! Every `--dpddelay` seconds the connection's newest ISAKMP SA checks
//! whether its peer showed signs of life since the last check: an
//! authenticated IKE message, or bytes arriving on one of the inbound IPsec
//! SAs under that peer (the kernel's counters, [`KernelOp::QuerySa`]). If
//! not, an R_U_THERE goes out (a protected Informational Notify, the
//! cookie pair as SPI, a 32-bit sequence number as data) and, unless one is
//! already running, the `--dpdtimeout` clock starts, counted from the check
//! before, which last saw the peer alive; R_U_THERE is sent again
//! every delay meanwhile, as Openswan did. An R_U_THERE_ACK for one of the
//! numbers sent since then, the peer's own R_U_THERE, or traffic stops the
//! clock; when it runs out the peer is dead and `--dpdaction` applies.
//!
//! We answer the peer's R_U_THERE always, whether our own DPD is on or not
//! (MI1/MR1 announce that we do).

use super::config::{Dpd, DpdAction};
use super::endpoint::{Endpoint, Level};
use super::informational::notify_name;
use super::kernel::{IpsecProto, KernelOp, KernelReply};
use super::state::StateKey;
use super::wire::{notify_type, NotifyPayload};
use crate::ctl::Rc;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How long one check waits for the kernel's counters before it treats the
/// missing ones as unknown.
const QUERY_WAIT: Duration = Duration::from_secs(2);

/// How many times in a row we answer the peer's last sequence number again:
/// some peers forget to increment it when they resend an unanswered R_U_THERE.
const MAX_DUPLICATE_ANSWERS: u8 = 3;

/// The DPD bookkeeping of one ISAKMP SA.
#[derive(Debug, Clone, Default)]
pub struct DpdState {
    /// EVENT_DPD: the next idleness check (`None`: DPD does not run here).
    next: Option<Instant>,
    /// EVENT_DPD_TIMEOUT: the peer is declared dead at this time unless it
    /// shows signs of life first (set while R_U_THEREs are unanswered).
    dead_at: Option<Instant>,
    /// The sequence number of our last R_U_THERE (0: none sent yet).
    seq: u32,
    /// The first R_U_THERE not answered yet: ACKs for it up to `seq` count.
    waiting_from: Option<u32>,
    /// The sequence number of the peer's last R_U_THERE we answered.
    peer_seq: Option<u32>,
    /// How often in a row the peer repeated `peer_seq`.
    peer_repeats: u8,
    /// The last DPD message sent or accepted (`lastdpd=` of `--status`).
    last: Option<Instant>,
    /// The SA's `auth_rx` at the last check.
    seen_rx: u64,
    /// Bytes each inbound IPsec SA had carried at the last check.
    seen_bytes: Vec<(IpsecProto, u32, u64)>,
    /// A check waiting for the kernel's counters (boxed: every ISAKMP SA
    /// has a `DpdState`, few have a check under way).
    check: Option<Box<Check>>,
    /// The peer's MI3/MR3 carried INITIAL-CONTACT.
    pub(crate) initial_contact: bool,
}

/// One idleness check waiting for the kernel.
#[derive(Debug, Clone)]
struct Check {
    /// When the check began: the next one is due a delay after it, however
    /// long the kernel takes to answer.
    started: Instant,
    deadline: Instant,
    /// An authenticated IKE message arrived since the check before.
    rx_alive: bool,
    /// Usage queries not answered yet: (request, protocol, SPI).
    pending: Vec<(u64, IpsecProto, u32)>,
    /// Answers: bytes per SA (`None`: the kernel could not tell).
    answers: Vec<(IpsecProto, u32, Option<u64>)>,
}

impl DpdState {
    /// The kernel requests of the check under way, not answered yet.
    pub(crate) fn pending_reqs(&self) -> impl Iterator<Item = u64> + '_ {
        self.check
            .iter()
            .flat_map(|c| c.pending.iter().map(|(r, _, _)| *r))
    }

    /// When this SA's DPD timers next want attention.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        [
            self.next,
            self.dead_at,
            self.check.as_ref().map(|c| c.deadline),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The DPD timer `--status` would name, and when it fires.
    pub(crate) fn event(&self) -> Option<(&'static str, Instant)> {
        let next = self
            .next
            .or(self.check.as_ref().map(|c| c.deadline))
            .map(|t| ("EVENT_DPD", t));
        let timeout = self.dead_at.map(|t| ("EVENT_DPD_TIMEOUT", t));
        [next, timeout].into_iter().flatten().min_by_key(|e| e.1)
    }

    /// What `--status` shows of an ISAKMP SA whose peer does DPD.
    pub(crate) fn status(&self) -> DpdStatus {
        DpdStatus {
            last: self.last,
            // Openswan's "seq in" is the number its next R_U_THERE carries,
            // "out" the one it waits an ACK for (0: none).
            next_seq: if self.seq == 0 { 0 } else { next_seq(self.seq) },
            expect: self.waiting_from.map_or(0, |_| self.seq),
        }
    }

    /// The peer is alive: nothing is outstanding any more.
    fn alive(&mut self) {
        self.waiting_from = None;
        self.dead_at = None;
    }
}

/// DPD as `--status` shows it on an ISAKMP state line:
/// `lastdpd=<n>s(seq in:<next_seq> out:<expect>)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DpdStatus {
    /// The last R_U_THERE sent or DPD message accepted (`-1` when never).
    pub last: Option<Instant>,
    /// The sequence number of our next R_U_THERE (0 before the first).
    pub next_seq: u32,
    /// The sequence number we wait an ACK for (0: none).
    pub expect: u32,
}

/// The number after `s`, skipping 0 (which means "none").
fn next_seq(s: u32) -> u32 {
    match s.wrapping_add(1) {
        0 => 1,
        n => n,
    }
}

/// True when `seq` comes after `last` in serial-number arithmetic (RFC
/// 1982): the peer's numbers increase, and may wrap.
fn newer(seq: u32, last: u32) -> bool {
    let d = seq.wrapping_sub(last);
    d != 0 && d < 0x8000_0000
}

/// When a peer found idle by the check begun at `checked` is dead without
/// an answer (`now`: the R_U_THERE goes out). The check one delay before saw
/// it alive (or it was heard then), so `--dpdtimeout` counts from there: the
/// peer is declared dead at most timeout + delay after its last sign of
/// life. An R_U_THERE always gets the shorter of the delay and the timeout
/// to be answered.
fn dead_time(now: Instant, checked: Instant, d: Dpd) -> Instant {
    let silent_since = checked.checked_sub(secs(d.delay)).unwrap_or(checked);
    (silent_since + secs(d.timeout)).max(now + secs(d.delay.min(d.timeout)))
}

fn secs(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}

impl Endpoint {
    /// The DPD settings in force on ISAKMP SA `p1`: established, the peer
    /// announced DPD, and its connection asks for it.
    pub(crate) fn dpd_settings(&self, p1: u64) -> Option<Dpd> {
        let s = self.p1.get(&p1)?;
        if !s.peer.dpd || !s.kind.is_established() {
            return None;
        }
        self.conn(&s.conn)?
            .dpd
            .filter(|d| d.delay > 0 && d.timeout > 0)
    }

    /// ISAKMP SA `p1` was just established: the peer's INITIAL-CONTACT, the
    /// SAs the new one replaces and `--uniqueids` are dealt with, then its
    /// DPD timer starts.
    pub(crate) fn dpd_established(&mut self, now: Instant, p1: u64) {
        self.replace_after_peer_restart(now, p1);
        self.enforce_unique_ids(now, p1);
        let Some(s) = self.p1.get(&p1) else { return };
        let (conn, peer_dpd, auth_rx) = (s.conn.clone(), s.peer.dpd, s.auth_rx);
        let wanted = self.conn(&conn).and_then(|c| c.dpd).is_some();
        let Some(d) = self.dpd_settings(p1) else {
            if wanted && !peer_dpd {
                self.log_state(
                    &conn,
                    p1,
                    None,
                    "Dead Peer Detection (RFC 3706): not enabled because peer did not advertise it"
                        .into(),
                );
            }
            return;
        };
        self.log_state(
            &conn,
            p1,
            None,
            "Dead Peer Detection (RFC 3706): enabled".into(),
        );
        if let Some(s) = self.p1.get_mut(&p1) {
            s.dpd.next = Some(now + secs(d.delay));
            s.dpd.seen_rx = auth_rx;
        }
    }

    /// The earliest DPD timer of any ISAKMP SA.
    #[cfg(test)]
    pub(crate) fn dpd_deadline(&self) -> Option<Instant> {
        self.p1.values().filter_map(|s| s.dpd.deadline()).min()
    }

    /// Runs the DPD timers that are due (of the ISAKMP SAs whose timers
    /// are due, those that are so for DPD).
    pub(crate) fn dpd_timeouts(&mut self, now: Instant) {
        let due = self.p1.take_due(now);
        let due: Vec<u64> = due
            .into_iter()
            .filter(|s| {
                self.p1
                    .get(s)
                    .is_some_and(|s| s.dpd.deadline().is_some_and(|t| t <= now))
            })
            .collect();
        for p1 in due {
            self.dpd_due(now, p1);
        }
    }

    fn dpd_due(&mut self, now: Instant, p1: u64) {
        let Some(d) = self.dpd_settings(p1) else {
            // The connection no longer asks for DPD: the timers stop.
            if let Some(s) = self.p1.get_mut(&p1) {
                (s.dpd.next, s.dpd.dead_at, s.dpd.check) = (None, None, None);
            }
            return;
        };
        let Some(s) = self.p1.get(&p1) else { return };
        if s.dpd.dead_at.is_some_and(|t| t <= now) {
            if self.newest_p1_with(&s.conn, s.remote.ip()) == Some(p1) {
                return self.dpd_dead(now, p1, d);
            }
            // A newer ISAKMP SA with the peer speaks for it.
            if let Some(s) = self.p1.get_mut(&p1) {
                s.dpd.alive();
            }
        }
        let Some(s) = self.p1.get(&p1) else { return };
        if s.dpd.check.as_ref().is_some_and(|c| c.deadline <= now) {
            return self.dpd_decide(now, p1, d);
        }
        if s.dpd.next.is_some_and(|t| t <= now) {
            self.dpd_check(now, p1, d);
        }
    }

    /// The newest established ISAKMP SA of `conn` with the peer at `ip`.
    fn newest_p1_with(&self, conn: &str, ip: IpAddr) -> Option<u64> {
        self.p1_with_peer(ip)
            .into_iter()
            .filter(|s| {
                self.p1
                    .get(s)
                    .is_some_and(|s| s.conn == conn && s.kind.is_established())
            })
            .max()
    }

    /// EVENT_DPD: was the peer heard from since the last check? Asks the
    /// kernel how much the connection's inbound SAs carried.
    fn dpd_check(&mut self, now: Instant, p1: u64, d: Dpd) {
        let Some(s) = self.p1.get(&p1) else { return };
        let (conn, ip, auth_rx) = (s.conn.clone(), s.remote.ip(), s.auth_rx);
        if self.newest_p1_with(&conn, ip) != Some(p1) {
            // A newer ISAKMP SA does the checking; this one just waits to go.
            if let Some(s) = self.p1.get_mut(&p1) {
                s.dpd.alive();
                s.dpd.next = Some(now + secs(d.delay));
            }
            return;
        }
        let sas: Vec<(IpsecProto, u32, IpAddr, IpAddr)> = self
            .p2_with_peer(ip)
            .iter()
            .filter_map(|x| self.p2.get(x))
            .filter(|x| x.conn == conn && x.kind.is_established())
            .flat_map(|x| x.installed.iter())
            .filter(|sa| sa.inbound && sa.proto != IpsecProto::Ipcomp)
            .map(|sa| (sa.proto, sa.spi, sa.src, sa.dst))
            .collect();
        let mut pending = Vec::new();
        for (proto, spi, src, dst) in sas {
            let req = self.next_req;
            self.next_req += 1;
            self.kernel_ops.push_back(KernelOp::QuerySa {
                req,
                proto,
                spi,
                src,
                dst,
            });
            pending.push((req, proto, spi));
        }
        let none_asked = pending.is_empty();
        if let Some(s) = self.p1.get_mut(&p1) {
            s.dpd.next = None;
            s.dpd.check = Some(Box::new(Check {
                started: now,
                deadline: now + QUERY_WAIT,
                rx_alive: auth_rx != s.dpd.seen_rx,
                pending,
                answers: Vec::new(),
            }));
            s.dpd.seen_rx = auth_rx;
        }
        if none_asked {
            self.dpd_decide(now, p1, d);
        }
    }

    /// The kernel answered a usage query of a DPD check. Returns false when
    /// `reply` was not one.
    pub(crate) fn dpd_kernel_reply(&mut self, now: Instant, reply: &KernelReply) -> bool {
        let (req, bytes) = match reply {
            KernelReply::SaUse { req, bytes } => (*req, Some(*bytes)),
            KernelReply::Failed { req, .. } => (*req, None),
            KernelReply::Spi { .. } | KernelReply::Installed { .. } => return false,
        };
        let asked = |s: &super::state::Phase1| {
            s.dpd
                .check
                .as_ref()
                .is_some_and(|c| c.pending.iter().any(|(r, _, _)| *r == req))
        };
        let found = self.p1.find(&StateKey::KernelReq(req), asked);
        let Some(s) = found.and_then(|serial| self.p1.get_mut(&serial)) else {
            return false;
        };
        let p1 = s.serial;
        let Some(c) = s.dpd.check.as_mut() else {
            return false;
        };
        if let Some(i) = c.pending.iter().position(|(r, _, _)| *r == req) {
            let (_, proto, spi) = c.pending.remove(i);
            c.answers.push((proto, spi, bytes));
        }
        if c.pending.is_empty() {
            if let Some(d) = self.dpd_settings(p1) {
                self.dpd_decide(now, p1, d);
            }
        }
        true
    }

    /// The check's evidence is in: the peer is alive, or it is asked.
    fn dpd_decide(&mut self, now: Instant, p1: u64, d: Dpd) {
        let Some(s) = self.p1.get_mut(&p1) else {
            return;
        };
        let Some(c) = s.dpd.check.take() else { return };
        let grew = c.answers.iter().any(|(proto, spi, bytes)| {
            let before = s
                .dpd
                .seen_bytes
                .iter()
                .find(|(p, x, _)| p == proto && x == spi)
                .map_or(0, |(_, _, b)| *b);
            bytes.is_some_and(|b| b > before)
        });
        s.dpd.seen_bytes = c
            .answers
            .iter()
            .filter_map(|(p, x, b)| b.map(|b| (*p, *x, b)))
            .collect();
        s.dpd.next = Some((c.started + secs(d.delay)).max(now));
        let conn = s.conn.clone();
        if c.rx_alive || grew {
            s.dpd.alive();
            let why = if grew {
                "inbound IPsec traffic"
            } else {
                "IKE messages"
            };
            self.log(
                Level::Debug,
                Some(&conn),
                Some(p1),
                None,
                format!("DPD: peer alive ({why}); next check in {}s", d.delay),
            );
            return;
        }
        self.send_r_u_there(now, c.started, p1, d);
    }

    /// An R_U_THERE from the check begun at `checked`.
    fn send_r_u_there(&mut self, now: Instant, checked: Instant, p1: u64, d: Dpd) {
        let start = u32::from_be_bytes(self.random::<4>()) & 0x7fff;
        let Some(s) = self.p1.get_mut(&p1) else {
            return;
        };
        // A random start with room to grow (RFC 3706 §7), as Openswan.
        let seq = next_seq(if s.dpd.seq == 0 { start } else { s.dpd.seq });
        s.dpd.seq = seq;
        s.dpd.waiting_from.get_or_insert(seq);
        let dead_at = *s
            .dpd
            .dead_at
            .get_or_insert_with(|| dead_time(now, checked, d));
        s.dpd.last = Some(now);
        let conn = s.conn.clone();
        self.log(
            Level::Debug,
            Some(&conn),
            Some(p1),
            None,
            format!(
                "DPD: sending R_U_THERE {seq}; peer declared dead in {}s without an answer",
                dead_at.saturating_duration_since(now).as_secs()
            ),
        );
        self.send_cookie_notify(p1, notify_type::R_U_THERE, seq.to_be_bytes().to_vec());
    }

    /// An R_U_THERE or R_U_THERE_ACK arrived, authenticated, under
    /// established ISAKMP SA `p1`.
    pub(crate) fn dpd_notify(&mut self, now: Instant, p1: u64, n: &NotifyPayload) {
        let Some(s) = self.p1.get(&p1) else { return };
        let conn = s.conn.clone();
        let what = notify_name(n.msg_type);
        let mut cookies = s.icookie.to_vec();
        cookies.extend_from_slice(&s.rcookie);
        let problem = if n.spi.len() != 16 {
            Some(format!("has invalid SPI length ({})", n.spi.len()))
        } else if n.spi != cookies {
            Some("has an SPI that is not this ISAKMP SA's cookie pair".to_string())
        } else if n.data.len() != 4 {
            Some(format!("has invalid data length ({})", n.data.len()))
        } else {
            None
        };
        let seq = <[u8; 4]>::try_from(n.data.as_slice()).map(u32::from_be_bytes);
        let (None, Ok(seq)) = (problem.as_ref(), seq) else {
            let why = problem.unwrap_or_default();
            return self.dpd_refuse(&conn, p1, format!("DPD: {what} {why}; ignored"));
        };
        match n.msg_type {
            notify_type::R_U_THERE => self.dpd_answer(now, p1, seq),
            _ => self.dpd_ack(now, p1, seq),
        }
    }

    fn dpd_refuse(&mut self, conn: &str, p1: u64, text: String) {
        self.counters.peer_misbehaved += 1;
        self.log(
            Level::Warn,
            Some(conn),
            Some(p1),
            Some(Rc::LogSerious),
            text,
        );
    }

    /// The peer's R_U_THERE `seq`: answered with an ACK of the same number
    /// when it is newer than the last one (or a bounded repeat of it).
    fn dpd_answer(&mut self, now: Instant, p1: u64, seq: u32) {
        let Some(s) = self.p1.get_mut(&p1) else {
            return;
        };
        let conn = s.conn.clone();
        match s.dpd.peer_seq {
            Some(last) if last == seq => {
                if s.dpd.peer_repeats >= MAX_DUPLICATE_ANSWERS {
                    return self.dpd_refuse(
                        &conn,
                        p1,
                        format!("DPD: R_U_THERE {seq} repeated too often; no longer answered"),
                    );
                }
                s.dpd.peer_repeats += 1;
            }
            Some(last) if !newer(seq, last) => {
                return self.dpd_refuse(
                    &conn,
                    p1,
                    format!("DPD: received old R_U_THERE {seq} (last was {last}); ignored"),
                );
            }
            _ => s.dpd.peer_repeats = 0,
        }
        s.dpd.peer_seq = Some(seq);
        self.log(
            Level::Debug,
            Some(&conn),
            Some(p1),
            None,
            format!("DPD: received R_U_THERE {seq}; sending R_U_THERE_ACK"),
        );
        self.send_cookie_notify(p1, notify_type::R_U_THERE_ACK, seq.to_be_bytes().to_vec());
        // The peer checks us: our own check can wait a full delay.
        self.dpd_heard(now, p1, true);
    }

    /// The peer's R_U_THERE_ACK `seq`: it must answer one of the R_U_THEREs
    /// we are waiting for.
    fn dpd_ack(&mut self, now: Instant, p1: u64, seq: u32) {
        let Some(s) = self.p1.get(&p1) else { return };
        let conn = s.conn.clone();
        let Some(from) = s.dpd.waiting_from else {
            return self.dpd_refuse(
                &conn,
                p1,
                format!("DPD: R_U_THERE_ACK {seq} but no R_U_THERE is outstanding; ignored"),
            );
        };
        let last = s.dpd.seq;
        if seq.wrapping_sub(from) > last.wrapping_sub(from) {
            return self.dpd_refuse(
                &conn,
                p1,
                format!(
                    "DPD: R_U_THERE_ACK has unexpected sequence number {seq} (expected {from}..={last}); ignored"
                ),
            );
        }
        self.log(
            Level::Debug,
            Some(&conn),
            Some(p1),
            None,
            format!("DPD: received R_U_THERE_ACK {seq}: peer alive"),
        );
        // The next check stays a delay after the R_U_THERE.
        self.dpd_heard(now, p1, false);
    }

    /// A DPD message of the peer was accepted: it is alive. The message
    /// itself is no traffic for the next check; with `postpone` that check
    /// is a full delay away.
    fn dpd_heard(&mut self, now: Instant, p1: u64, postpone: bool) {
        let delay = self.dpd_settings(p1).map(|d| d.delay);
        let Some(s) = self.p1.get_mut(&p1) else {
            return;
        };
        s.dpd.alive();
        s.dpd.last = Some(now);
        s.dpd.seen_rx = s.auth_rx;
        if let (Some(delay), None, true) = (delay, &s.dpd.check, postpone) {
            s.dpd.next = Some(now + secs(delay));
        }
    }

    /// EVENT_DPD_TIMEOUT: nothing from the peer for `--dpdtimeout` seconds.
    fn dpd_dead(&mut self, now: Instant, p1: u64, d: Dpd) {
        let Some(s) = self.p1.get(&p1) else { return };
        let (conn, ip) = (s.conn.clone(), s.remote.ip());
        self.log(
            Level::Info,
            Some(&conn),
            Some(p1),
            Some(Rc::LogSerious),
            "DPD: No response from peer - declaring peer dead".into(),
        );
        let what = match d.action {
            DpdAction::Clear => "DPD: Clearing Connection",
            DpdAction::Hold => "DPD: Putting connection into %trap",
            DpdAction::Restart => "DPD: Restarting Connection",
        };
        self.log(
            Level::Info,
            Some(&conn),
            None,
            Some(Rc::LogSerious),
            what.into(),
        );
        if d.action == DpdAction::Hold && !self.is_routed(&conn) {
            // The routed %trap stays when the SAs go: traffic is held and
            // starts a new negotiation.
            if let Err(e) = self.route(now, &conn) {
                self.log(
                    Level::Info,
                    Some(&conn),
                    None,
                    None,
                    format!("DPD: cannot hold the connection's traffic: {e}"),
                );
            }
        }
        self.delete_states_with_peer(now, &conn, ip, false);
        if d.action == DpdAction::Restart {
            if let Err(e) = self.initiate(now, &conn, 1) {
                self.log(
                    Level::Info,
                    Some(&conn),
                    None,
                    None,
                    format!("DPD: cannot restart: {e}"),
                );
            }
        }
    }

    /// Deletes every state of `conn` with the peer at `ip`: IPsec ones
    /// first, while their ISAKMP SA can still carry a Delete.
    pub(crate) fn delete_states_with_peer(
        &mut self,
        now: Instant,
        conn: &str,
        ip: IpAddr,
        notify: bool,
    ) {
        let mut p2 = self.p2_with_peer(ip);
        p2.retain(|s| self.p2.get(s).is_some_and(|s| s.conn == conn));
        for s in p2 {
            self.delete_phase2(now, s, notify);
        }
        let mut p1 = self.p1_with_peer(ip);
        p1.retain(|s| self.p1.get(s).is_some_and(|s| s.conn == conn));
        for s in p1 {
            self.delete_phase1(now, s, notify);
        }
    }

    /// `--crash`: every state whose peer is at `ip`, of every connection,
    /// without a Delete; IPsec ones first, so that each finds its parent's
    /// addresses when its SPIs are released.
    pub(crate) fn crash(&mut self, now: Instant, ip: IpAddr) {
        let p2 = self.p2_with_peer(ip);
        let p1 = self.p1_with_peer(ip);
        let mut conns: Vec<String> = (p2
            .iter()
            .filter_map(|s| self.p2.get(s).map(|s| s.conn.clone())))
        .chain(
            p1.iter()
                .filter_map(|s| self.p1.get(s).map(|s| s.conn.clone())),
        )
        .collect();
        crate::sort::sort(&mut conns);
        conns.dedup();
        for conn in &conns {
            let text = format!("peer {ip} crashed: deleting its states");
            self.log(Level::Info, Some(conn), None, None, text);
        }
        for s in p2 {
            self.delete_phase2(now, s, false);
        }
        for s in p1 {
            self.delete_phase1(now, s, false);
        }
    }

    /// `DPD=enabled` of the IPsec SA's announcement: DPD runs on its ISAKMP SA.
    pub(crate) fn dpd_text(&self, p1: u64) -> &'static str {
        if self.dpd_settings(p1).is_some() {
            "enabled"
        } else {
            "none"
        }
    }

    /// True for an ISAKMP state whose R_U_THERE is unanswered.
    pub(crate) fn dpd_pending(&self, p1: u64) -> bool {
        self.p1
            .get(&p1)
            .is_some_and(|s| s.dpd.waiting_from.is_some())
    }

    /// `--status` data of ISAKMP state `p1` (`None`: `nodpd`).
    pub(crate) fn dpd_status(&self, p1: u64) -> Option<DpdStatus> {
        let s = self.p1.get(&p1)?;
        s.peer.dpd.then(|| s.dpd.status())
    }
}

#[cfg(test)]
pub(crate) mod tests;
