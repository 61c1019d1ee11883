//! A deterministic network of rswan endpoints on a virtual clock, with a fake
//! kernel per node and seeded faults (loss, duplication, mutation) per link.

pub use super::fake_kernel::{FakeKernel, Fate};
use super::shared_dh::SharedDh;
use rswan::ike::compute::Computation;
use rswan::ike::crypto::{DhProvider, ModpDh, NullDh};
use rswan::ike::kernel::{SaInstall, Selector};
use rswan::ike::rng::{Rng, SeededRng};
use rswan::ike::wire::Identity;
use rswan::ike::{
    Command, ConnConfig, End, Endpoint, Event, LogLine, Policy, SecretEntry, SecretIndex,
    SecretValue, Secrets, StateInfo,
};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Node {
    pub name: String,
    pub ep: Endpoint,
    /// Runs the node's computations when the net offloads them.
    pub dh: Arc<dyn DhProvider>,
    pub addr: IpAddr,
    pub kernel: FakeKernel,
    pub logs: Vec<String>,
    pub events: Vec<Event>,
    /// When each entry of `events` was emitted (same index).
    pub event_times: Vec<Instant>,
}

impl Node {
    pub fn states(&self) -> Vec<StateInfo> {
        self.ep.states()
    }
    pub fn established(&self, ipsec: bool) -> usize {
        self.states()
            .iter()
            .filter(|s| s.ipsec == ipsec && s.kind.is_established())
            .count()
    }
    pub fn log_contains(&self, needle: &str) -> bool {
        self.logs.iter().any(|l| l.contains(needle))
    }
    /// Log lines containing `needle`.
    pub fn logs_with(&self, needle: &str) -> Vec<&String> {
        self.logs.iter().filter(|l| l.contains(needle)).collect()
    }
    /// The structured log lines (level, rc, text).
    pub fn log_lines(&self) -> impl Iterator<Item = &LogLine> {
        self.events.iter().filter_map(|e| match e {
            Event::Log(l) => Some(l),
            _ => None,
        })
    }
    /// `Failed` events with the time they happened.
    pub fn failures(&self) -> Vec<(Instant, String)> {
        self.events
            .iter()
            .zip(&self.event_times)
            .filter_map(|(e, t)| match e {
                Event::Failed { reason, .. } => Some((*t, reason.clone())),
                _ => None,
            })
            .collect()
    }
    /// The distinct reqids of the kernel's SAs.
    pub fn sa_reqids(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.kernel.sas.iter().map(|s| s.reqid).collect();
        rswan::sort::sort(&mut v);
        v.dedup();
        v
    }
    /// The distinct reqids of the kernel's policies.
    pub fn policy_reqids(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.kernel.policies.iter().map(|p| p.reqid).collect();
        rswan::sort::sort(&mut v);
        v.dedup();
        v
    }
    /// Kernel SAs in one direction.
    pub fn sas(&self, inbound: bool) -> Vec<&SaInstall> {
        self.kernel
            .sas
            .iter()
            .filter(|s| s.inbound == inbound)
            .collect()
    }
    /// The updown verbs the engine asked for, in order.
    pub fn updowns(&self) -> Vec<rswan::ike::Verb> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Updown { verbs, .. } => Some(verbs.iter().copied()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    pub fn dump_logs(&self) -> String {
        self.logs
            .iter()
            .map(|l| format!("[{}] {l}\n", self.name))
            .collect()
    }
}

/// Two SAs that are one SA seen from both ends: opposite directions, same
/// SPI, addresses, algorithms and keys.
pub fn is_twin(x: &SaInstall, y: &SaInstall) -> bool {
    x.inbound != y.inbound
        && x.proto == y.proto
        && x.spi == y.spi
        && x.src == y.src
        && x.dst == y.dst
        && x.encrypt == y.encrypt
        && x.integ == y.integ
        && x.compress == y.compress
}

/// How two nodes ended up, from [`Net::settle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settle {
    /// Unfinished states, leftover kernel entries, half-matching SAs.
    pub problems: Vec<String>,
    /// Established ISAKMP SAs on each node.
    pub isakmp: [usize; 2],
    /// IPsec negotiations (reqids) on each node none of whose SAs the other has.
    pub ipsec_orphans: [usize; 2],
}

/// A datagram in flight.
#[derive(Clone)]
pub struct Packet {
    pub at: Instant,
    pub from: SocketAddr,
    pub to: SocketAddr,
    pub data: Vec<u8>,
}

/// A masquerading NAT in front of one node: datagrams from `inside` leave
/// with the source `public`:<mapped port>, datagrams to `public` reach
/// `inside` through the mapping (none: dropped).
pub struct NatBox {
    pub inside: IpAddr,
    pub public: IpAddr,
    /// (inside address and port, public port).
    pub map: Vec<(SocketAddr, u16)>,
    next_port: u16,
}

impl NatBox {
    pub fn new(inside: IpAddr, public: IpAddr) -> NatBox {
        NatBox {
            inside,
            public,
            map: Vec::new(),
            next_port: 1024,
        }
    }

    /// Forgets every mapping (a conntrack flush): the next datagram out
    /// gets a new port.
    pub fn flush(&mut self) {
        self.map.clear();
    }

    /// The public port of `inside` port `port`, if mapped.
    pub fn public_port(&self, port: u16) -> Option<u16> {
        self.map
            .iter()
            .find(|(a, _)| a.port() == port)
            .map(|(_, p)| *p)
    }

    fn out(&mut self, from: SocketAddr) -> SocketAddr {
        if from.ip() != self.inside {
            return from;
        }
        let port = match self.map.iter().find(|(a, _)| *a == from) {
            Some((_, p)) => *p,
            None => {
                let p = self.next_port;
                self.next_port += 1;
                self.map.push((from, p));
                p
            }
        };
        SocketAddr::new(self.public, port)
    }

    fn back_in(&self, to: SocketAddr) -> Option<SocketAddr> {
        if to.ip() != self.public {
            return Some(to);
        }
        self.map
            .iter()
            .find(|(_, p)| *p == to.port())
            .map(|(a, _)| *a)
    }
}

/// Per-datagram fault decision, given the datagram's index in the run and its bytes.
pub type Mutator = Box<dyn FnMut(usize, &mut Vec<u8>) -> bool>;

pub struct Net {
    pub nodes: Vec<Node>,
    pub now: Instant,
    pub start: Instant,
    pub latency: Duration,
    /// Loss probability in percent, each direction.
    pub loss_percent: u32,
    /// Deliver every datagram twice.
    pub duplicate: bool,
    /// Every datagram sent, as sent (before faults).
    pub wire: Vec<Packet>,
    /// Per entry of `wire`: whether the faults (mutator or loss) dropped it.
    pub lost: Vec<bool>,
    pub mutator: Option<Mutator>,
    /// Hosts cut off the network: every datagram from or to them is lost.
    pub unreachable: Vec<IpAddr>,
    /// A NAT in front of one node; `wire` then shows the outside view.
    pub nat: Option<NatBox>,
    /// When set, every node hands its computations out and each outcome
    /// comes back this long after it was asked for (a worker thread).
    pub compute_delay: Option<Duration>,
    /// Computations out: when they finish, for which node.
    computing: Vec<(Instant, usize, Computation)>,
    /// The name server every node asks: its records (owner names in lower
    /// case, as `dns::wire` gives them), how long an answer takes, and
    /// whether it answers at all (`None` in `answer_delay`: never, and the
    /// lookups fail as a resolver's do after its tries).
    pub zone: Vec<rswan::dns::wire::Record>,
    pub dns_delay: Option<Duration>,
    /// Every lookup asked, by which node.
    pub lookups: Vec<(usize, rswan::ike::dnskey::Lookup)>,
    dns_pending: Vec<(Instant, usize, rswan::ike::dnskey::Lookup)>,
    fault_rng: SeededRng,
    in_flight: Vec<Packet>,
    sent: usize,
}

pub const PORT: u16 = 500;

pub fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

pub fn subnet(a: u8, b: u8) -> Selector {
    Selector {
        addr: IpAddr::V4(Ipv4Addr::new(10, a, b, 0)),
        prefix: 24,
        protocol: 0,
        port: 0,
    }
}

impl Net {
    /// Datagrams node `from` sent, in order, with their times since the start.
    pub fn sent_by(&self, from: u8) -> Vec<Duration> {
        self.wire
            .iter()
            .filter(|p| p.from.ip() == ip(from))
            .map(|p| p.at - self.start)
            .collect()
    }

    pub fn new(seed: u64) -> Net {
        let start = Instant::now();
        Net {
            nodes: Vec::new(),
            now: start,
            start,
            latency: Duration::from_millis(5),
            loss_percent: 0,
            duplicate: false,
            wire: Vec::new(),
            lost: Vec::new(),
            mutator: None,
            unreachable: Vec::new(),
            nat: None,
            compute_delay: None,
            computing: Vec::new(),
            zone: Vec::new(),
            dns_delay: Some(Duration::from_millis(20)),
            lookups: Vec::new(),
            dns_pending: Vec::new(),
            fault_rng: SeededRng::new(seed ^ 0x5eed),
            in_flight: Vec::new(),
            sent: 0,
        }
    }

    /// Adds a node; `real_dh` chooses MODP arithmetic over the null provider.
    pub fn add_node(&mut self, name: &str, addr: IpAddr, seed: u64, real_dh: bool) -> usize {
        let dh: Arc<dyn DhProvider> = if real_dh {
            Arc::new(ModpDh)
        } else {
            Arc::new(NullDh)
        };
        self.add_node_dh(name, addr, seed, dh)
    }

    /// Adds a node with its own Diffie-Hellman provider.
    pub fn add_node_dh(
        &mut self,
        name: &str,
        addr: IpAddr,
        seed: u64,
        dh: Arc<dyn DhProvider>,
    ) -> usize {
        let mut ep = Endpoint::new(
            Box::new(SharedDh(dh.clone())),
            Box::new(SeededRng::new(seed)),
        );
        ep.set_debug(true);
        // Distinct SPI ranges per node, so a swapped in/out SPI cannot pass unnoticed.
        let kernel = FakeKernel::with_spis_from(u32::from(self.nodes.len() as u8) * 0x100_000);
        self.nodes.push(Node {
            name: name.into(),
            ep,
            dh,
            addr,
            kernel,
            logs: Vec::new(),
            events: Vec::new(),
            event_times: Vec::new(),
        });
        self.nodes.len() - 1
    }

    pub fn command(&mut self, node: usize, cmd: Command) {
        let now = self.now;
        let n = &mut self.nodes[node];
        if let Err(e) = n.ep.handle_command(now, cmd) {
            n.logs.push(format!("command error: {e}"));
        }
    }

    fn roll(&mut self, percent: u32) -> bool {
        let mut b = [0u8; 4];
        self.fault_rng.fill(&mut b);
        u32::from_be_bytes(b) % 100 < percent
    }

    /// Moves every node's outputs along: datagrams onto the wire (with
    /// faults), kernel operations into its fake kernel (answers fed back).
    fn pump(&mut self) -> bool {
        let mut progress = false;
        for i in 0..self.nodes.len() {
            loop {
                let now = self.now;
                let n = &mut self.nodes[i];
                let mut any = false;
                n.ep.set_offload(self.compute_delay.is_some());
                while let Some(c) = n.ep.poll_computation() {
                    any = true;
                    let at = now + self.compute_delay.unwrap_or_default();
                    self.computing.push((at, i, c));
                }
                while let Some(l) = n.ep.poll_lookup() {
                    any = true;
                    // A resolver that never hears back gives up after its
                    // tries (2 x 5 s).
                    let wait = self.dns_delay.unwrap_or(Duration::from_secs(10));
                    self.lookups.push((i, l.clone()));
                    self.dns_pending.push((now + wait, i, l));
                }
                while let Some(op) = n.ep.poll_kernel_op() {
                    any = true;
                    if let Some(reply) = n.kernel.apply(op) {
                        n.ep.handle_kernel_reply(now, reply);
                    }
                }
                while let Some(ev) = n.ep.poll_event() {
                    any = true;
                    if let Event::Log(l) = &ev {
                        n.logs.push(l.to_string());
                    }
                    n.events.push(ev);
                    n.event_times.push(now);
                }
                let mut out = Vec::new();
                while let Some(t) = n.ep.poll_transmit() {
                    any = true;
                    out.push(t);
                }
                for mut t in out {
                    if let Some(nat) = self.nat.as_mut() {
                        t.local = nat.out(t.local);
                    }
                    let mut data = t.payload;
                    self.wire.push(Packet {
                        at: now,
                        from: t.local,
                        to: t.remote,
                        data: data.clone(),
                    });
                    let idx = self.sent;
                    self.sent += 1;
                    self.lost.push(true);
                    if [t.local.ip(), t.remote.ip()]
                        .iter()
                        .any(|a| self.unreachable.contains(a))
                    {
                        continue;
                    }
                    if let Some(m) = self.mutator.as_mut() {
                        if !m(idx, &mut data) {
                            continue;
                        }
                    }
                    if self.loss_percent > 0 && self.roll(self.loss_percent) {
                        continue;
                    }
                    if let Some(l) = self.lost.last_mut() {
                        *l = false;
                    }
                    let copies = if self.duplicate { 2 } else { 1 };
                    for _ in 0..copies {
                        self.in_flight.push(Packet {
                            at: now + self.latency,
                            from: t.local,
                            to: t.remote,
                            data: data.clone(),
                        });
                    }
                }
                if !any {
                    break;
                }
                progress = true;
            }
        }
        progress
    }

    /// Hands the computations that are done back to their nodes.
    fn compute_due(&mut self) -> bool {
        let now = self.now;
        let (due, rest): (Vec<_>, Vec<_>) = self.computing.drain(..).partition(|c| c.0 <= now);
        self.computing = rest;
        let any = !due.is_empty();
        for (_, i, c) in due {
            let n = &mut self.nodes[i];
            let outcome = c.work.run(n.dh.as_ref());
            n.ep.handle_computed(now, c.id, outcome);
        }
        any
    }

    /// Answers the lookups that are due from `zone`.
    fn dns_due(&mut self) -> bool {
        use rswan::dns::wire::{Rdata, TYPE_IPSECKEY, TYPE_TXT};
        let now = self.now;
        let (due, rest): (Vec<_>, Vec<_>) = self.dns_pending.drain(..).partition(|l| l.0 <= now);
        self.dns_pending = rest;
        let any = !due.is_empty();
        for (_, i, l) in due {
            let answer = match self.dns_delay {
                None => Err("name server 192.0.2.53:53: no answer".to_string()),
                Some(_) => Ok(self
                    .zone
                    .iter()
                    .filter(|r| r.name == l.name)
                    .filter(|r| {
                        matches!(
                            (&r.data, l.qtype),
                            (Rdata::Txt(_), TYPE_TXT) | (Rdata::IpsecKey(_), TYPE_IPSECKEY)
                        )
                    })
                    .cloned()
                    .collect()),
            };
            self.nodes[i].ep.handle_lookup(now, l.id, answer);
        }
        any
    }

    fn deliver_due(&mut self) -> bool {
        let now = self.now;
        let (due, rest): (Vec<Packet>, Vec<Packet>) =
            self.in_flight.drain(..).partition(|p| p.at <= now);
        self.in_flight = rest;
        let any = !due.is_empty();
        for p in due {
            let to = match &self.nat {
                Some(nat) => match nat.back_in(p.to) {
                    Some(to) => to,
                    None => continue,
                },
                None => p.to,
            };
            if let Some(n) = self.nodes.iter_mut().find(|n| n.addr == to.ip()) {
                n.ep.handle_datagram(now, to, p.from, &p.data);
            }
        }
        any
    }

    /// Runs until nothing is pending or `limit` of virtual time has passed.
    /// Returns the virtual time used.
    pub fn run(&mut self, limit: Duration) -> Duration {
        let deadline = self.now + limit;
        let mut steps = 0u64;
        loop {
            steps += 1;
            assert!(steps < 10_000_000, "simulation does not settle");
            let a = self.pump();
            let b = self.deliver_due();
            let c = self.compute_due();
            let d = self.dns_due();
            if a || b || c || d {
                continue;
            }
            let next_packet = self
                .in_flight
                .iter()
                .map(|p| p.at)
                .chain(self.computing.iter().map(|c| c.0))
                .chain(self.dns_pending.iter().map(|l| l.0))
                .min();
            let next_timer = self.nodes.iter().filter_map(|n| n.ep.poll_timeout()).min();
            let next = match (next_packet, next_timer) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(x) => x,
                    None => break,
                },
            };
            if next > deadline {
                break;
            }
            self.now = self.now.max(next);
            let now = self.now;
            for n in &mut self.nodes {
                if n.ep.poll_timeout().is_some_and(|t| t <= now) {
                    n.ep.handle_timeout(now);
                }
            }
        }
        self.now - self.start
    }

    /// Virtual time since the net was made.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Puts a datagram on the wire now (a replay or a forgery), past the
    /// fault injection; it arrives after the usual latency.
    pub fn inject(&mut self, from: SocketAddr, to: SocketAddr, data: Vec<u8>) {
        self.in_flight.push(Packet {
            at: self.now + self.latency,
            from,
            to,
            data,
        });
    }

    /// Checks that nodes `a` and `b` (one connection between them) have
    /// settled: every state is established, both hold as many ISAKMP SAs,
    /// and every IPsec SA one kernel installed outbound is installed inbound
    /// on the other with the same SPI and keys (and the reverse), with nothing
    /// else in either kernel (no half-installed SA, no reserved SPI left).
    pub fn check_settled(&self, a: usize, b: usize) -> Result<(), String> {
        let s = self.settle(a, b);
        let (na, nb) = (&self.nodes[a].name, &self.nodes[b].name);
        if let Some(p) = s.problems.first() {
            return Err(p.clone());
        }
        if s.isakmp[0] != s.isakmp[1] {
            return Err(format!(
                "{na} has {} established ISAKMP SAs, {nb} has {}",
                s.isakmp[0], s.isakmp[1]
            ));
        }
        if s.ipsec_orphans != [0, 0] {
            return Err(format!(
                "IPsec SAs without counterpart: {} on {na}, {} on {nb}",
                s.ipsec_orphans[0], s.ipsec_orphans[1]
            ));
        }
        Ok(())
    }

    /// What [`Net::check_settled`] looks at, with the differences between
    /// the two ends counted rather than refused.
    pub fn settle(&self, a: usize, b: usize) -> Settle {
        let (na, nb) = (&self.nodes[a], &self.nodes[b]);
        let mut problems = Vec::new();
        for n in [na, nb] {
            for s in n.states().iter().filter(|s| !s.kind.is_established()) {
                problems.push(format!(
                    "{}: state #{} left in {:?}",
                    n.name, s.serial, s.kind
                ));
            }
            let ipsec = n.established(true);
            let (sa_reqids, pol_reqids) = (n.sa_reqids(), n.policy_reqids());
            if sa_reqids.len() != ipsec || pol_reqids != sa_reqids {
                problems.push(format!(
                    "{}: {ipsec} IPsec states but kernel SAs of {} and policies of {} negotiations",
                    n.name,
                    sa_reqids.len(),
                    pol_reqids.len()
                ));
            }
            if !n.kernel.larval.is_empty() {
                problems.push(format!(
                    "{}: reserved SPIs left: {:x?}",
                    n.name, n.kernel.larval
                ));
            }
        }
        // One negotiation's SAs (a reqid) either all have their twin on the
        // other end, or none do (an orphan); anything between is a bug.
        let mut ipsec_orphans = [0, 0];
        for (k, (me, peer)) in [(na, nb), (nb, na)].into_iter().enumerate() {
            for reqid in me.sa_reqids() {
                let sas: Vec<&SaInstall> =
                    me.kernel.sas.iter().filter(|s| s.reqid == reqid).collect();
                let twinned = sas
                    .iter()
                    .filter(|s| peer.kernel.sas.iter().any(|p| is_twin(s, p)))
                    .count();
                if twinned == 0 {
                    ipsec_orphans[k] += 1;
                } else if twinned != sas.len() {
                    problems.push(format!(
                        "{}: SAs of reqid {reqid} only partly match {}: {sas:?}",
                        me.name, peer.name
                    ));
                }
            }
        }
        Settle {
            problems,
            isakmp: [na.established(false), nb.established(false)],
            ipsec_orphans,
        }
    }

    /// Advances the clock by `d`, running everything due on the way.
    /// A host behind node `node` sends a packet from `src` to `dst`: its
    /// kernel decides, and an ACQUIRE goes to the node's engine.
    pub fn traffic(&mut self, node: usize, src: IpAddr, dst: IpAddr) -> Fate {
        let now = self.now;
        let n = &mut self.nodes[node];
        let fate = n.kernel.send(src, dst);
        if let Fate::Held(Some(acq)) = fate {
            n.ep.handle_acquire(now, acq);
        }
        fate
    }

    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        self.run(d);
        // Idle time passes too: the clock ends at the target even when
        // nothing was due before it.
        self.now = self.now.max(target);
    }
}

/// A net-to-net connection between west (.1, 10.1.0.0/24) and east (.2,
/// 10.2.0.0/24), from the point of view of `local`.
pub fn conn_pair(name: &str, policy: Policy) -> (ConnConfig, ConnConfig) {
    let west = End {
        host: Some(ip(1)),
        port: PORT,
        id: None,
        client: Some(subnet(1, 0)),
        virt: None,
    };
    let east = End {
        host: Some(ip(2)),
        port: PORT,
        id: None,
        client: Some(subnet(2, 0)),
        virt: None,
    };
    (
        ConnConfig::new(name, west.clone(), east.clone(), policy),
        ConnConfig::new(name, east, west, policy),
    )
}

pub fn psk_secrets(secret: &str) -> Secrets {
    let id = |a: IpAddr| match a {
        IpAddr::V4(v) => SecretIndex::Id(Identity::Ipv4(v)),
        IpAddr::V6(v) => SecretIndex::Id(Identity::Ipv6(v)),
    };
    Secrets {
        entries: vec![SecretEntry {
            indices: vec![id(ip(1)), id(ip(2))],
            value: SecretValue::Psk(secret.as_bytes().to_vec()),
        }],
        ..Secrets::default()
    }
}

pub fn esp_tunnel_policy() -> Policy {
    Policy {
        psk: true,
        encrypt: true,
        tunnel: true,
        ..Policy::default()
    }
}

/// Two nodes with the same connection loaded on both ends and PSKs.
pub fn pair(
    seed: u64,
    real_dh: bool,
    west: ConnConfig,
    east: ConnConfig,
    psk_w: &str,
    psk_e: &str,
) -> Net {
    let mut net = Net::new(seed);
    let w = net.add_node("west", ip(1), seed.wrapping_mul(3) + 1, real_dh);
    let e = net.add_node("east", ip(2), seed.wrapping_mul(3) + 2, real_dh);
    net.command(w, Command::AddConnection(Box::new(west)));
    net.command(e, Command::AddConnection(Box::new(east)));
    net.command(w, Command::LoadSecrets(psk_secrets(psk_w)));
    net.command(e, Command::LoadSecrets(psk_secrets(psk_e)));
    net
}
