//! The engine's front door: datagrams, time, commands and kernel replies in;
//! datagrams, timers, kernel operations and events out (quinn-proto style).

use super::config::{ConnConfig, Secrets};
use super::crypto::{hash, DhProvider, HashAlg};
use super::kernel::{KernelOp, KernelReply};
use super::rng::Rng;
use super::shrink::ShrinkSparse;
use super::state::{lifetime_deadline, Phase1, Phase2, Role, StateKey, StateKind, MAX_SENDS};
use super::table::StateTable;
use super::wire::{exchange, flags, parse_header};
pub use crate::ctl::Rc;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Only with debugging on; printed with a `| ` prefix.
    Debug,
    Info,
    Warn,
    Error,
}

/// One log line. `rc` is the whack reply code it carries (spec §2.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: Level,
    pub conn: Option<String>,
    /// The Road Warrior instance of `conn` the line is about, and its peer.
    pub instance: Option<(u32, std::net::IpAddr)>,
    pub serial: Option<u64>,
    pub rc: Option<Rc>,
    pub text: String,
}

impl core::fmt::Display for LogLine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.level == Level::Debug {
            f.write_str("| ")?;
        }
        // Openswan's prefixes: `"c" #3: `, `"c"[2] 192.0.2.7 #3: `, `"c": `.
        if let Some(c) = &self.conn {
            write!(f, "\"{c}\"")?;
            if let Some((n, ip)) = self.instance {
                write!(f, "[{n}] {ip}")?;
            }
            match self.serial {
                Some(s) => write!(f, " #{s}: ")?,
                None => f.write_str(": ")?,
            }
        } else if let Some(s) = self.serial {
            write!(f, "#{s}: ")?;
        }
        f.write_str(&self.text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Log(LogLine),
    /// A state reached an established state.
    Established {
        serial: u64,
        conn: String,
        ipsec: bool,
    },
    /// A negotiation gave up (retransmission limit, fatal error).
    Failed {
        serial: u64,
        conn: String,
        reason: String,
    },
    /// A state is gone.
    Deleted {
        serial: u64,
        conn: String,
    },
    /// Run the updown command of `conn` with these verbs, in order; a
    /// failing `route` cancels the rest of the chain. The chains of one
    /// connection must run in the order they come.
    Updown {
        conn: String,
        verbs: Vec<super::routing::Verb>,
    },
}

pub use super::command::{Command, CommandError};

pub use super::state_info::StateInfo;

/// Counters per class of refused input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub malformed: u64,
    pub peer_misbehaved: u64,
    pub peer_incompatible: u64,
    pub local: u64,
    pub duplicates: u64,
    pub retransmits: u64,
}

/// Responder states that have not completed Main Mode, at most, in all
/// and per peer address (the oldest goes first: see `half_open`).
pub use super::half_open::{MAX_PER_ADDRESS as MAX_HALF_OPEN_PER_PEER, MAX_TOTAL as MAX_HALF_OPEN};

pub struct Endpoint {
    pub(crate) dh: Box<dyn DhProvider>,
    pub(crate) rng: Box<dyn Rng>,
    pub(crate) conns: super::conns::Conns,
    pub(crate) secrets: Secrets,
    /// ISAKMP and IPsec states by serial, with their timers and indexes.
    pub(crate) p1: StateTable<Phase1>,
    pub(crate) p2: StateTable<Phase2>,
    /// (icookie, rcookie) -> ISAKMP state.
    pub(crate) by_cookies: HashMap<([u8; 8], [u8; 8]), u64>,
    /// Our own initiator states still waiting for the responder's cookie.
    pub(crate) by_icookie: HashMap<[u8; 8], u64>,
    pub(crate) next_serial: u64,
    pub(crate) next_req: u64,
    pub(crate) next_reqid: u32,
    /// The reqids connections have.
    /// The connection each reqid was given to (an ACQUIRE names it).
    pub(crate) reqid_owner: HashMap<u32, String>,
    /// Per connection: its reqid, route, shunt and updown progress.
    pub(crate) routing: HashMap<String, super::routing::Routing>,
    /// Installs of routed policies waiting for the kernel's answer.
    pub(crate) route_reqs: HashMap<u64, String>,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) kernel_ops: VecDeque<KernelOp>,
    /// The state whose SAs each kernel policy we installed leads to.
    pub(crate) eroute_owner: super::eroute::Owners,
    pub(crate) events: VecDeque<Event>,
    pub(crate) counters: Counters,
    pub(crate) debug: bool,
    /// pluto's NAT traversal options.
    pub(crate) nat: super::config::NatConfig,
    /// Responder states not established yet, indexed (MI1 lookups, limits).
    pub(crate) half_open: super::half_open::HalfOpen,
    /// Rate limits of the lines about packets that belong to no state.
    pub(crate) loglimit: super::loglimit::LogLimiter,
    /// The `now` of the input being handled (for the log rate limits).
    pub(crate) clock: Option<Instant>,
    /// When the next round of NAT keepalives is due (`EVENT_NAT_T_KEEPALIVE`).
    pub(crate) keepalive_at: Option<Instant>,
    /// Diffie-Hellman work asked for and not yet returned.
    pub(crate) compute: super::compute::Queue,
    /// DNS key lookups under way (`dnskey`).
    pub(crate) lookups: super::dnskey::Lookups,
    /// Opportunistic instances, lookups and shunts (`oppo`).
    pub(crate) oppo: super::oppo::Oppo,
    /// `--uniqueids` (see `unique_ids`).
    pub(crate) unique_ids: bool,
    /// The Road Warrior instances of the templates (see `instances`).
    pub(crate) instances: super::instances::Instances,
}

impl Endpoint {
    pub fn new(dh: Box<dyn DhProvider>, rng: Box<dyn Rng>) -> Endpoint {
        Endpoint {
            dh,
            rng,
            conns: super::conns::Conns::default(),
            secrets: Secrets::default(),
            p1: StateTable::default(),
            p2: StateTable::default(),
            by_cookies: HashMap::new(),
            by_icookie: HashMap::new(),
            next_serial: 1,
            next_req: 1,
            next_reqid: 1,
            reqid_owner: HashMap::new(),
            routing: HashMap::new(),
            route_reqs: HashMap::new(),
            transmits: VecDeque::new(),
            kernel_ops: VecDeque::new(),
            eroute_owner: Default::default(),
            events: VecDeque::new(),
            counters: Counters::default(),
            debug: false,
            nat: super::config::NatConfig::default(),
            half_open: super::half_open::HalfOpen::default(),
            loglimit: super::loglimit::LogLimiter::default(),
            clock: None,
            keepalive_at: None,
            compute: super::compute::Queue::default(),
            lookups: super::dnskey::Lookups::default(),
            oppo: super::oppo::Oppo::default(),
            unique_ids: false,
            instances: Default::default(),
        }
    }

    /// pluto's `--nat_traversal`, `--keep_alive`, `--force_keepalive` and
    /// `--virtual_private`.
    pub fn set_nat(&mut self, nat: super::config::NatConfig) {
        self.nat = nat;
    }

    /// Emit `Level::Debug` lines too.
    pub fn set_debug(&mut self, on: bool) {
        self.debug = on;
    }

    // ---- inputs -------------------------------------------------------------

    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) {
        self.clock = Some(now);
        // Port 4500 (NAT traversal): marker, keepalive, floating ports.
        if let Some(data) = self.natt_unwrap(local, remote, data) {
            let float = self.natt_float_begin(local, remote, data);
            self.dispatch_datagram(now, local, remote, data);
            self.natt_float_end(float);
            self.natt_arm_keepalive(now, data);
        }
        self.settle();
    }

    /// Runs the computations the input asked for when they are not handed
    /// out (`compute`), then re-arms the timers and re-indexes the states
    /// the input changed.
    pub(crate) fn settle(&mut self) {
        self.run_in_place();
        self.p1.refresh();
        self.p2.refresh();
    }

    pub(crate) fn dispatch_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) {
        let (hdr, body) = match parse_header(data) {
            Ok(x) => x,
            Err(e) => {
                self.counters.malformed += 1;
                self.log_peer(remote, format!("dropping packet: {e}"));
                return;
            }
        };
        if hdr.flags & flags::COMMIT != 0 {
            self.log_peer(remote, "IKE message has the Commit Flag set but Pluto doesn't implement this feature; ignoring flag".into());
        }
        if hdr.flags & !(flags::ENCRYPTION | flags::COMMIT | flags::AUTH_ONLY) != 0 {
            self.counters.malformed += 1;
            self.log_peer(
                remote,
                format!(
                    "dropping packet: reserved flag bits 0x{:02x} set",
                    hdr.flags
                ),
            );
            return;
        }
        match hdr.exchange {
            exchange::IDENTITY_PROTECTION => {
                self.main_mode_input(now, local, remote, &hdr, body, data)
            }
            exchange::QUICK => self.quick_input(now, remote, &hdr, body, data),
            exchange::INFORMATIONAL => self.informational_input(now, remote, &hdr, body),
            other => {
                self.counters.peer_incompatible += 1;
                self.log_peer(
                    remote,
                    format!("dropping packet: unsupported exchange type {other}"),
                );
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.clock = Some(now);
        self.log_suppressed(now);
        // Only the states whose timers are due are looked at; one that is
        // due for DPD only is left to `dpd_timeouts`.
        let due1: Vec<u64> = self.p1.take_due(now);
        let due1 = due1.into_iter().filter(|s| {
            self.p1.get(s).is_some_and(|s| {
                lifetime_deadline(s.retransmit.as_ref(), s.replace, s.expires)
                    .is_some_and(|d| d <= now)
            })
        });
        for serial in due1.collect::<Vec<u64>>() {
            self.phase1_timeout(now, serial);
        }
        let due2: Vec<u64> = self.p2.take_due(now);
        let due2 = due2.into_iter().filter(|s| {
            self.p2.get(s).is_some_and(|s| {
                lifetime_deadline(s.retransmit.as_ref(), s.replace, s.expires)
                    .is_some_and(|d| d <= now)
            })
        });
        for serial in due2.collect::<Vec<u64>>() {
            self.phase2_timeout(now, serial);
        }
        self.dpd_timeouts(now);
        self.natt_keepalive_timeout(now);
        self.settle();
    }

    pub fn handle_command(&mut self, now: Instant, cmd: Command) -> Result<(), CommandError> {
        self.clock = Some(now);
        let r = self.command(now, cmd);
        self.settle();
        r
    }

    fn command(&mut self, now: Instant, cmd: Command) -> Result<(), CommandError> {
        match cmd {
            Command::AddConnection(c) => {
                if self.conn(&c.name).is_some() {
                    return Err(CommandError::DuplicateName(c.name));
                }
                self.add_routing(&c.name);
                self.conns.insert(*c);
                Ok(())
            }
            Command::DeleteConnection(name) => {
                if self.conn(&name).is_none() {
                    return Err(CommandError::UnknownName(name));
                }
                self.oe_forget(now, &name);
                self.terminate(now, &name);
                self.remove_routing(&name);
                self.forget_instances(&name);
                self.conns.remove(&name);
                self.oppo.instances.remove(&name);
                Ok(())
            }
            Command::Initiate(name) => self.initiate(now, &name, 1),
            Command::Terminate(name) => {
                if self.conn(&name).is_none() {
                    return Err(CommandError::UnknownName(name));
                }
                self.terminate(now, &name);
                Ok(())
            }
            Command::DeleteState(serial) => {
                if self.p2.contains_key(&serial) {
                    self.delete_phase2(now, serial, true);
                } else if self.p1.contains_key(&serial) {
                    self.delete_phase1(now, serial, true);
                } else {
                    return Err(CommandError::UnknownState(serial));
                }
                Ok(())
            }
            Command::LoadSecrets(s) => {
                self.secrets = s;
                Ok(())
            }
            Command::Route(name) => self.route(now, &name),
            Command::Unroute(name) => self.unroute(now, &name),
            Command::Shutdown => {
                self.shutdown(now);
                Ok(())
            }
            Command::Crash(ip) => {
                self.crash(now, ip);
                Ok(())
            }
            Command::OppoInitiate(here, there) => self.oe_initiate(here, there),
        }
    }

    pub fn handle_kernel_reply(&mut self, now: Instant, reply: KernelReply) {
        self.clock = Some(now);
        if !self.dpd_kernel_reply(now, &reply) {
            let routed = match &reply {
                KernelReply::Installed { req } => self.route_answered(*req, None),
                KernelReply::Failed { req, reason } => {
                    self.route_answered(*req, Some(reason.clone()))
                }
                KernelReply::Spi { .. } | KernelReply::SaUse { .. } => false,
            };
            if !routed {
                self.quick_kernel_reply(now, reply);
            }
        }
        self.settle();
    }

    // ---- outputs ------------------------------------------------------------

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_kernel_op(&mut self) -> Option<KernelOp> {
        self.kernel_ops.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Endpoint::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.p1
            .next_deadline()
            .into_iter()
            .chain(self.p2.next_deadline())
            .chain(self.keepalive_at)
            .chain(self.loglimit.deadline())
            .min()
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Every connection, in the order added.
    pub fn connections(&self) -> impl Iterator<Item = &ConnConfig> {
        self.conns.iter()
    }

    pub fn connection(&self, name: &str) -> Option<&ConnConfig> {
        self.conns.get(name)
    }

    // ---- shared helpers -----------------------------------------------------

    pub(crate) fn conn(&self, name: &str) -> Option<&ConnConfig> {
        self.conns.get(name)
    }

    pub(crate) fn new_serial(&mut self) -> u64 {
        let s = self.next_serial;
        self.next_serial += 1;
        s
    }

    pub(crate) fn random<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        self.rng.fill(&mut b);
        b
    }

    pub(crate) fn random_vec(&mut self, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        self.rng.fill(&mut b);
        b
    }

    /// Queues an IKE message; from port 4500 it gets the non-ESP marker.
    pub(crate) fn send(&mut self, local: SocketAddr, remote: SocketAddr, payload: Vec<u8>) {
        let payload = if local.port() == super::config::NAT_T_PORT {
            let mut p = Vec::with_capacity(4 + payload.len());
            p.extend_from_slice(&super::natt::NON_ESP_MARKER);
            p.extend_from_slice(&payload);
            p
        } else {
            payload
        };
        self.transmits.push_back(Transmit {
            local,
            remote,
            payload,
        });
    }

    pub(crate) fn log(
        &mut self,
        level: Level,
        conn: Option<&str>,
        serial: Option<u64>,
        rc: Option<Rc>,
        text: String,
    ) {
        if level == Level::Debug && !self.debug {
            return;
        }
        let instance = conn
            .zip(serial)
            .and_then(|(c, s)| self.instance_of_state(c, s));
        self.log_instance(level, conn, instance, serial, rc, text);
    }

    /// [`Endpoint::log`] with the instance given (a state that is gone
    /// can no longer tell it).
    pub(crate) fn log_instance(
        &mut self,
        level: Level,
        conn: Option<&str>,
        instance: Option<(u32, std::net::IpAddr)>,
        serial: Option<u64>,
        rc: Option<Rc>,
        text: String,
    ) {
        if level == Level::Debug && !self.debug {
            return;
        }
        self.events.push_back(Event::Log(LogLine {
            level,
            conn: conn.map(str::to_string),
            instance,
            serial,
            rc,
            text,
        }));
    }

    /// A line about a packet that belongs to no state (yet): rate-limited
    /// per source and in all, since anyone can send such packets.
    pub(crate) fn log_peer(&mut self, remote: SocketAddr, text: String) {
        if !self.peer_budget(remote) {
            return;
        }
        self.log(
            Level::Info,
            None,
            None,
            None,
            format!("packet from {remote}: {text}"),
        );
    }

    /// Whether one more line (or answer) about a packet from `remote` that
    /// made no state fits the rate limits (`loglimit`); counts it if so.
    pub(crate) fn peer_budget(&mut self, remote: SocketAddr) -> bool {
        let Some(now) = self.clock else {
            return true;
        };
        self.log_suppressed(now);
        self.loglimit.allow(now, remote.ip())
    }

    /// The summary lines of a log rate-limit window that is over.
    fn log_suppressed(&mut self, now: Instant) {
        for line in self.loglimit.roll(now) {
            self.log(Level::Info, None, None, None, line);
        }
    }

    pub(crate) fn log_state(&mut self, conn: &str, serial: u64, rc: Option<Rc>, text: String) {
        self.log(Level::Info, Some(conn), Some(serial), rc, text);
    }

    pub(crate) fn count_reject(&mut self, r: &super::error::Reject) {
        use super::error::Reject;
        match r {
            Reject::Malformed(_) => self.counters.malformed += 1,
            Reject::PeerMisbehaved(_) => self.counters.peer_misbehaved += 1,
            Reject::PeerIncompatible(_) => self.counters.peer_incompatible += 1,
            Reject::Local(_) => self.counters.local += 1,
        }
    }

    /// Announces a new state, as whack progress lines do (RC 100 + state,
    /// or 004 when established).
    pub(crate) fn announce(&mut self, conn: &str, serial: u64, kind: StateKind, details: &str) {
        let rc = if kind.is_established() {
            Rc::Success
        } else {
            Rc::NewState(u32::from(kind.number()))
        };
        self.log_state(
            conn,
            serial,
            Some(rc),
            format!("{}: {}{}", kind.name(), kind.story(), details),
        );
        if kind.is_established() {
            let ipsec = matches!(kind, StateKind::QuickI2 | StateKind::QuickR2);
            if ipsec {
                self.routing_sa_up(conn);
            }
            self.events.push_back(Event::Established {
                serial,
                conn: conn.to_string(),
                ipsec,
            });
        }
    }

    /// Counts and logs an exact duplicate, answered (`resent`) or not.
    pub(crate) fn note_duplicate(
        &mut self,
        conn: &str,
        serial: u64,
        kind: StateKind,
        resent: bool,
    ) {
        self.counters.duplicates += 1;
        let what = if resent {
            "retransmitting in response to duplicate packet"
        } else {
            "discarding duplicate packet"
        };
        self.log(
            Level::Debug,
            Some(conn),
            Some(serial),
            None,
            format!("{what}; already {}", kind.name()),
        );
    }

    /// Digest that identifies a datagram for duplicate detection.
    pub(crate) fn digest(data: &[u8]) -> super::state::Digest {
        let h = hash(HashAlg::Sha1, &[data]);
        super::state::Digest::try_from(h.as_slice()).unwrap_or_default()
    }

    /// Kills every state of `name`, telling the peer about established ones.
    pub(crate) fn terminate(&mut self, now: Instant, name: &str) {
        for s in self.p2_of(name) {
            self.delete_phase2(now, s, true);
        }
        for s in self.p1_of(name) {
            self.delete_phase1(now, s, true);
        }
    }

    /// Removes an ISAKMP state. With `notify`, an established one sends a Delete first.
    pub(crate) fn delete_phase1(&mut self, now: Instant, serial: u64, notify: bool) {
        if !self.p1.contains_key(&serial) {
            return;
        }
        if notify {
            self.send_isakmp_delete(now, serial);
        }
        // Phase-2 negotiations that have not finished cannot go on without it.
        // They go first, while the parent's addresses are there to release
        // the SPIs they reserved.
        let orphans = self.p2.find_all(&StateKey::Child(serial), |c| {
            c.parent == serial && !c.kind.is_established()
        });
        for o in orphans {
            self.delete_phase2(now, o, false);
        }
        let instance = self
            .p1
            .get(&serial)
            .and_then(|s| self.instance_of_state(&s.conn, serial));
        let Some(s) = self.p1.remove(&serial) else {
            return;
        };
        self.half_open.remove(serial);
        self.by_cookies.remove(&(s.icookie, s.rcookie));
        self.by_cookies.shrink_sparse();
        // Half-open responder states come and go with unverified MI1s: a
        // line each would let anyone fill the log.
        let level = if s.role == Role::Responder && !s.kind.is_established() {
            Level::Debug
        } else {
            Level::Info
        };
        if self.by_icookie.get(&s.icookie) == Some(&serial) {
            self.by_icookie.remove(&s.icookie);
        }
        self.log_instance(
            level,
            Some(&s.conn),
            instance,
            Some(serial),
            None,
            "deleting state".into(),
        );
        self.release_instance(&s.conn, s.remote.ip());
        self.events.push_back(Event::Deleted {
            serial,
            conn: s.conn,
        });
    }

    /// Removes an IPsec state and its kernel SAs and policies.
    pub(crate) fn delete_phase2(&mut self, now: Instant, serial: u64, notify: bool) {
        if notify {
            self.send_ipsec_delete(now, serial);
        }
        let peer = self.p2.get(&serial).and_then(|s| self.p2_peer(s));
        let instance = self
            .p2
            .get(&serial)
            .and_then(|s| self.instance_of_state(&s.conn, serial));
        let Some(s) = self.p2.remove(&serial) else {
            return;
        };
        // Inbound SPIs we reserved (GETSPI) but never filled with an SA.
        let filled: Vec<(super::kernel::IpsecProto, u32)> = s
            .installed
            .iter()
            .filter(|sa| sa.inbound)
            .map(|sa| (sa.proto, sa.spi))
            .collect();
        if let Some(p) = self.p1.get(&s.parent) {
            let (local, remote) = (p.local.ip(), p.remote.ip());
            for (proto, spi) in &s.our_spis {
                if !filled.contains(&(*proto, *spi)) {
                    self.kernel_ops.push_back(KernelOp::DeleteSa {
                        proto: *proto,
                        spi: *spi,
                        src: remote,
                        dst: local,
                    });
                }
            }
        }
        self.release_policies(serial, &s.conn, s.policies);
        for sa in s.installed {
            self.kernel_ops.push_back(KernelOp::DeleteSa {
                proto: sa.proto,
                spi: sa.spi,
                src: sa.src,
                dst: sa.dst,
            });
        }
        self.log_instance(
            Level::Info,
            Some(&s.conn),
            instance,
            Some(serial),
            None,
            "deleting state".into(),
        );
        if let Some(ip) = peer {
            self.release_instance(&s.conn, ip);
        }
        self.routing_sa_gone(&s.conn);
        self.oe_state_gone(&s.conn);
        self.events.push_back(Event::Deleted {
            serial,
            conn: s.conn,
        });
    }

    /// Gives up on a negotiation: tell whack, and start the next keying attempt if any.
    pub(crate) fn give_up(
        &mut self,
        now: Instant,
        conn: &str,
        serial: u64,
        kind: StateKind,
        attempt: u32,
        is_p2: bool,
    ) {
        let reason = format!(
            "max number of retransmissions ({}) reached {}",
            MAX_SENDS - 1,
            kind.name()
        );
        self.log_state(conn, serial, Some(Rc::NoRetransmission), reason.clone());
        self.routing_failed(conn);
        self.events.push_back(Event::Failed {
            serial,
            conn: conn.to_string(),
            reason,
        });
        if is_p2 {
            // A responder that installed its inbound SA and sent QR1 cannot
            // tell whether the initiator got QR1 and installed its half:
            // tell it to drop that half.
            let notify = kind == StateKind::QuickR1;
            let parent = self.p2.get(&serial).map(|s| (s.parent, s.parent_auth_rx));
            self.delete_phase2(now, serial, notify);
            // Not a word we could read since QI1 went out means the ISAKMP SA
            // is of no use: the peer may have restarted, or its CBC state no
            // longer matches ours. The next attempt starts over with Main Mode.
            if let (StateKind::QuickI1, Some((p1, seen))) = (kind, parent) {
                if self.p1.get(&p1).is_some_and(|p| p.auth_rx == seen) {
                    self.log_state(
                        conn,
                        p1,
                        None,
                        "ISAKMP SA got no answer to Quick Mode: replacing it".into(),
                    );
                    self.delete_phase1(now, p1, true);
                }
            }
        } else {
            self.delete_phase1(now, serial, false);
        }
        let tries = self.conn(conn).map_or(1, |c| c.keying_tries);
        if attempt != 0 && (tries == 0 || attempt < tries) {
            let limit = if tries == 0 {
                "an unlimited number".to_string()
            } else {
                format!("at most {tries}")
            };
            self.log(
                Level::Info,
                Some(conn),
                None,
                Some(Rc::Comment),
                format!(
                    "starting keying attempt {} of {limit}, but releasing whack",
                    attempt + 1
                ),
            );
            let _ = self.initiate(now, conn, attempt + 1);
        }
    }

    /// Starts (or continues) keying for a connection: Quick Mode on an
    /// existing ISAKMP SA, otherwise Main Mode first.
    pub(crate) fn initiate(
        &mut self,
        now: Instant,
        name: &str,
        attempt: u32,
    ) -> Result<(), CommandError> {
        let conn = self
            .conn(name)
            .ok_or_else(|| CommandError::UnknownName(name.to_string()))?
            .clone();
        if conn.policy.never_negotiate() {
            return Err(CommandError::InitShunt(name.to_string()));
        }
        if conn.remote.host.is_none() {
            return Err(CommandError::NoPeerIp(name.to_string()));
        }
        // Reuse an ISAKMP SA: an established one, or one we are negotiating.
        let existing = self
            .p1_of(name)
            .iter()
            .filter_map(|s| self.p1.get(s))
            .filter(|s| s.kind.is_established() || s.role == Role::Initiator)
            .max_by_key(|s| (s.kind.is_established(), s.serial))
            .map(|s| (s.serial, s.kind.is_established()));
        match existing {
            Some((p1, true)) => {
                if conn.policy.wants_ipsec() {
                    self.start_quick(now, p1, attempt);
                }
            }
            Some((p1, false)) => {
                if let Some(s) = self.p1.get_mut(&p1) {
                    s.pending_quick |= conn.policy.wants_ipsec();
                }
            }
            None => self.start_main(now, &conn, attempt, true),
        }
        Ok(())
    }
}

impl Role {
    pub fn is_initiator(self) -> bool {
        self == Role::Initiator
    }
}
