//! SA lifetimes (spec §7.8): when an established SA is replaced and when it
//! expires, and the timer events that carry those out, with retransmission.

use super::endpoint::{Endpoint, Level};
use super::kernel::IpsecProto;
use super::state::{Phase2, Retransmit, Role, StateKey, StateKind, MAX_SENDS};
use crate::ctl::Rc;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// What a state's timers want done now.
enum Due {
    Resend(Vec<u8>, Duration),
    GiveUp,
    Replace,
    Expire,
    Nothing,
}

/// The first of a state's timers, named as `--status` names them.
pub(crate) fn next_event(
    r: Option<&Retransmit>,
    replace: Option<Instant>,
    expires: Option<Instant>,
) -> Option<(&'static str, Instant)> {
    let cands = [
        r.filter(|r| r.timed).map(|r| ("EVENT_RETRANSMIT", r.next)),
        replace.map(|t| ("EVENT_SA_REPLACE", t)),
        expires.map(|t| ("EVENT_SA_EXPIRE", t)),
    ];
    cands.into_iter().flatten().min_by_key(|(_, t)| *t)
}

fn due(
    r: Option<&mut Retransmit>,
    replace: &mut Option<Instant>,
    expires: Option<Instant>,
    now: Instant,
) -> Due {
    if let Some(r) = r.filter(|r| r.timed && r.next <= now) {
        if r.sends >= MAX_SENDS {
            return Due::GiveUp;
        }
        r.sends += 1;
        r.next = now + r.delay();
        return Due::Resend(r.packet.clone(), r.delay());
    }
    if replace.is_some_and(|t| t <= now) {
        *replace = None;
        return Due::Replace;
    }
    if expires.is_some_and(|t| t <= now) {
        return Due::Expire;
    }
    Due::Nothing
}

impl Endpoint {
    /// Replace and expiry times for an SA with lifetime `life` seconds (at
    /// most the connection's own `ipseclifetime`, with `ipsec`, or
    /// `ikelifetime`): the
    /// initiator replaces at L - m with m = rekeymargin * (1 + rekeyfuzz% * r),
    /// r uniform in [0, 1); the responder at L - rekeymargin/2. Nothing is
    /// replaced with `--dontrekey`, or when L <= m.
    pub(crate) fn plan_lifetime(
        &mut self,
        now: Instant,
        conn: &str,
        role: Role,
        life: u32,
        ipsec: bool,
    ) -> (Option<Instant>, Instant) {
        let Some(c) = self.conn(conn) else {
            return (None, now + Duration::from_secs(u64::from(life)));
        };
        // Our own lifetime bounds what was agreed, as Openswan's "delay":
        // a responder takes the initiator's lifetime, however long, yet
        // replaces (and ends) its SA by its own.
        let life = life.min(if ipsec {
            c.ipsec_lifetime
        } else {
            c.ike_lifetime
        });
        let expire = now + Duration::from_secs(u64::from(life));
        let (margin, fuzz, dont) = (
            u64::from(c.rekey_margin),
            u64::from(c.rekey_fuzz),
            c.policy.dont_rekey,
        );
        if dont {
            return (None, expire);
        }
        let m_ms = match role {
            Role::Initiator => {
                let r = u64::from(u32::from_be_bytes(self.random::<4>()));
                // margin * 1000 * (1 + fuzz/100 * r / 2^32), in milliseconds.
                margin * 1000 + ((margin * 10 * fuzz).saturating_mul(r) >> 32)
            }
            Role::Responder => margin * 500,
        };
        let life_ms = u64::from(life) * 1000;
        if life_ms <= m_ms {
            return (None, expire);
        }
        (Some(now + Duration::from_millis(life_ms - m_ms)), expire)
    }

    /// Once established: turns the state's expiry into a replace time too.
    pub(crate) fn schedule_replace(&mut self, now: Instant, serial: u64, ipsec: bool) {
        let (conn, role, expires) = if ipsec {
            let Some(s) = self.p2.get(&serial) else {
                return;
            };
            (s.conn.clone(), s.role, s.expires)
        } else {
            let Some(s) = self.p1.get(&serial) else {
                return;
            };
            (s.conn.clone(), s.role, s.expires)
        };
        let Some(e) = expires else { return };
        let planned = if ipsec {
            self.p2.get(&serial).and_then(|s| s.planned)
        } else {
            None
        };
        let (replace, expires) = match planned {
            Some(p) => p,
            None => {
                let life =
                    u32::try_from(e.saturating_duration_since(now).as_secs()).unwrap_or(u32::MAX);
                self.plan_lifetime(now, &conn, role, life, ipsec)
            }
        };
        if ipsec {
            if let Some(s) = self.p2.get_mut(&serial) {
                (s.replace, s.expires) = (replace, Some(expires));
            }
        } else if let Some(s) = self.p1.get_mut(&serial) {
            (s.replace, s.expires) = (replace, Some(expires));
        }
    }

    /// The kernel says one of our SAs reached a lifetime (SADB_EXPIRE).
    /// Soft: replace it now, if it would be replaced at EVENT_SA_REPLACE
    /// (the usual checks then decide). Hard: the kernel has deleted it, so
    /// its IPsec state goes, and the peer is told.
    pub fn handle_sa_expire(
        &mut self,
        now: Instant,
        proto: IpsecProto,
        spi: u32,
        dst: IpAddr,
        hard: bool,
    ) {
        self.clock = Some(now);
        self.sa_expire(now, proto, spi, dst, hard);
        self.settle();
    }

    fn sa_expire(&mut self, now: Instant, proto: IpsecProto, spi: u32, dst: IpAddr, hard: bool) {
        let holds = |s: &Phase2| {
            s.installed
                .iter()
                .any(|sa| sa.proto == proto && sa.spi == spi && sa.dst == dst)
        };
        let found = self.p2.find(&StateKey::Sa(proto, spi, dst), holds);
        let Some(s) = found.and_then(|serial| self.p2.get_mut(&serial)) else {
            self.log(
                Level::Debug,
                None,
                None,
                None,
                format!(
                    "kernel: {} SA {spi:#010x}@{dst} expired; not one of ours",
                    proto.name()
                ),
            );
            return;
        };
        let (serial, conn) = (s.serial, s.conn.clone());
        if !hard {
            if s.replace.is_some_and(|t| t > now) {
                s.replace = Some(now);
                self.log_state(
                    &conn,
                    serial,
                    None,
                    format!(
                        "kernel: soft lifetime of {} SA {spi:#010x}@{dst} reached; replacing it now",
                        proto.name()
                    ),
                );
            }
            return;
        }
        self.log_state(
            &conn,
            serial,
            None,
            format!(
                "IPsec SA expired: the kernel ended {} SA {spi:#010x}@{dst} (hard lifetime)",
                proto.name()
            ),
        );
        self.delete_phase2(now, serial, true);
    }

    pub(crate) fn phase1_timeout(&mut self, now: Instant, serial: u64) {
        let Some(s) = self.p1.get_mut(&serial) else {
            return;
        };
        let what = due(s.retransmit.as_mut(), &mut s.replace, s.expires, now);
        let (conn, kind, attempt, local, remote) =
            (s.conn.clone(), s.kind, s.attempt, s.local, s.remote);
        match what {
            Due::Resend(pkt, wait) => {
                self.note_resend(&conn, serial, kind, wait);
                self.send(local, remote, pkt);
            }
            Due::GiveUp => self.give_up(now, &conn, serial, kind, attempt, false),
            Due::Replace => {
                let newest = self.newest_p1(&conn) == Some(serial);
                if newest && self.conn(&conn).is_some_and(|c| c.remote.host.is_some()) {
                    self.log_state(&conn, serial, None, "replacing stale ISAKMP SA".into());
                    if let Some(c) = self.conn(&conn).cloned() {
                        self.start_main(now, &c, 1, false);
                    }
                }
            }
            Due::Expire if !kind.is_established() => {
                // Debug only: forged MI1s make these.
                self.log(
                    Level::Debug,
                    Some(&conn),
                    Some(serial),
                    None,
                    format!("discarding half-open ISAKMP state: {}", kind.story()),
                );
                self.delete_phase1(now, serial, false);
            }
            Due::Expire => {
                let latest = if self.newest_p1(&conn) == Some(serial) {
                    " (LATEST!)"
                } else {
                    ""
                };
                self.log_state(&conn, serial, None, format!("ISAKMP SA expired{latest}"));
                self.delete_phase1(now, serial, true);
            }
            Due::Nothing => {}
        }
    }

    pub(crate) fn phase2_timeout(&mut self, now: Instant, serial: u64) {
        let Some(s) = self.p2.get_mut(&serial) else {
            return;
        };
        let what = due(s.retransmit.as_mut(), &mut s.replace, s.expires, now);
        let (conn, kind, attempt, parent) = (s.conn.clone(), s.kind, s.attempt, s.parent);
        match what {
            Due::Resend(pkt, wait) => {
                self.note_resend(&conn, serial, kind, wait);
                if let Some(p) = self.p1.get(&parent) {
                    let (l, r) = (p.local, p.remote);
                    self.send(l, r, pkt);
                }
            }
            Due::GiveUp => self.give_up(now, &conn, serial, kind, attempt, true),
            Due::Replace => {
                let newest = self.newest_p2(&conn) == Some(serial);
                let fixed_peer = self.conn(&conn).is_some_and(|c| c.remote.host.is_some());
                if fixed_peer && newest {
                    self.log_state(&conn, serial, None, "replacing IPsec SA".into());
                    let _ = self.initiate(now, &conn, 1);
                } else if !fixed_peer {
                    self.replace_road_warrior_sa(now, serial);
                }
            }
            Due::Expire => {
                let why = if self.conn(&conn).is_some_and(|c| c.policy.dont_rekey) {
                    " (--dontrekey)"
                } else {
                    ""
                };
                self.log_state(&conn, serial, None, format!("IPsec SA expired{why}"));
                self.delete_phase2(now, serial, true);
            }
            Due::Nothing => {}
        }
    }

    fn note_resend(&mut self, conn: &str, serial: u64, kind: StateKind, wait: Duration) {
        self.counters.retransmits += 1;
        let text = format!(
            "{}: retransmission; will wait {}s for response",
            kind.name(),
            wait.as_secs()
        );
        self.log_state(conn, serial, Some(Rc::Retransmission), text);
    }

    /// A road warrior's IPsec SA is due for replacement on our side (the
    /// road warrior did not replace it: `--dontrekey`, or it is late): the
    /// gateway negotiates its successor over the newest ISAKMP SA with that
    /// peer, for the same clients, with the roles reversed. Only the newest
    /// IPsec SA with that peer is replaced, and only while an ISAKMP SA is
    /// there to carry it: the gateway has no address to start Main Mode to.
    fn replace_road_warrior_sa(&mut self, now: Instant, serial: u64) {
        let Some(s) = self.p2.get(&serial) else {
            return;
        };
        let (conn, parent, peer_client) = (s.conn.clone(), s.parent, s.peer_client);
        let Some(peer) = self.p1.get(&parent).map(|p| p.remote.ip()) else {
            return;
        };
        let same_peer = |p: u64| self.p1.get(&p).is_some_and(|p| p.remote.ip() == peer);
        let newest = self
            .p2_of(&conn)
            .iter()
            .filter_map(|o| self.p2.get(o))
            .filter(|o| o.kind.is_established() && same_peer(o.parent))
            .map(|o| o.serial)
            .max();
        let isakmp = self
            .p1_with_peer(peer)
            .iter()
            .filter_map(|p| self.p1.get(p))
            .filter(|p| p.conn == conn && p.kind.is_established())
            .map(|p| p.serial)
            .max();
        if newest != Some(serial) {
            return;
        }
        let Some(p1) = isakmp else {
            self.log_state(
                &conn,
                serial,
                None,
                "not replacing IPsec SA: no ISAKMP SA with the road warrior".into(),
            );
            return;
        };
        self.log_state(&conn, serial, None, "replacing IPsec SA".into());
        self.start_quick_to(now, p1, 1, peer_client);
    }
}
