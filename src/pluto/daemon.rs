//! The event loop: one mio poll over the IKE sockets, the control socket,
//! its clients and the signalfd, with the engine's next timer as timeout.

use super::ifaces::{self, RawIface};
use super::kernel::{KernelBackend, KernelEvent, KernelOutput, MappingNews};
use super::logger::Logger;
use super::options::Config;
use super::signals::{Signal, Signals};
use crate::ctl::Rc;
use crate::ike::config::NAT_T_PORT;
use crate::ike::{Endpoint, Event, Level};
use mio::net::UdpSocket;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CTL: Token = Token(0);
const SIGNALS: Token = Token(1);
const KERNEL: Token = Token(2);
/// The crypto helpers' outcomes are ready.
const HELPERS: Token = Token(FIRST_UDP - 1);
/// The updown children's pipes and pidfds (four tokens each).
const FIRST_CHILD: Token = Token(1 << 19);
const FIRST_UDP: usize = 16;
const FIRST_CLIENT: usize = 1 << 20;
/// Whack clients served at once; more wait in the listen backlog.
const MAX_CLIENTS: usize = 32;
/// A whack client must send its whole request within this time.
const CLIENT_DEADLINE: Duration = Duration::from_secs(5);

/// Largest UDP payload.
const DATAGRAM_MAX: usize = 65536;

/// The IKE receive buffer, in zero-initialised static memory: its pages
/// become resident only as datagrams reach them (one for the usual IKE
/// message), where a zeroed heap buffer would be written whole at start
/// (64 KB of idle RSS).
static DATAGRAM: Mutex<[u8; DATAGRAM_MAX]> = Mutex::new([0; DATAGRAM_MAX]);
/// Largest request accepted from whack.
pub const MAX_REQUEST: usize = 64 * 1024;

/// One IKE socket: an interface address and a port, as Openswan's
/// `iface_port`. Every address has one on pluto's IKE port and, with
/// `--nat_traversal`, one on [`NAT_T_PORT`] (which also takes ESP in UDP).
pub struct Iface {
    pub raw: RawIface,
    pub port: u16,
    pub socket: UdpSocket,
    pub token: Token,
}

/// A connected whack client.
pub struct Client {
    pub stream: UnixStream,
    pub buf: Vec<u8>,
    pub since: Instant,
}

/// A whack that waits for the outcome of `--initiate` of `conn`.
pub struct Waiter {
    pub stream: UnixStream,
    pub conn: String,
    /// `--initiate` waits for an IPsec SA (else for the ISAKMP SA).
    pub ipsec: bool,
    /// `--route` waits until the connection's updown commands (prepare,
    /// route) have run, as the old pluto's synchronous route did: traffic
    /// a script sends right after `--route` finds the route there.
    pub updown: bool,
}

pub struct Daemon {
    pub config: Config,
    pub ep: Endpoint,
    pub kernel: Box<dyn KernelBackend>,
    pub log: Logger,
    pub poll: Poll,
    pub ctl: UnixListener,
    pub signals: Signals,
    pub ifaces: Vec<Iface>,
    pub clients: HashMap<Token, Client>,
    pub waiters: Vec<Waiter>,
    /// `--status --json` / `--trafficstatus` requests waiting for counters.
    pub status_waiters: Vec<super::traffic::Pending>,
    /// The last counter query's number (see `traffic`).
    pub next_query: u64,
    pub listening: bool,
    next_token: usize,
    pub shutdown: bool,
    /// Where log lines of the current whack request also go.
    pub echo: Option<UnixStream>,
    pub conns: super::conndb::ConnDb,
    /// `%myid`.
    pub myid: Option<crate::ike::wire::Identity>,
    /// Public keys given with `whack --keyid ... --pubkeyrsa` (used once RSA authentication exists).
    pub pubkeys: Vec<crate::ike::config::PublicKey>,
    pub secrets: Option<crate::secrets::Loaded>,
    /// `ipsecN` XFRM interfaces and the devices they are attached to.
    pub ipsec_devices: Vec<crate::tncfg::xfrm::Attachment>,
    /// The updown commands running and queued.
    pub children: crate::updown::child::Runner<super::updown::Step>,
    /// The NAT mapping changes the engine has heard of.
    mappings: MappingNews,
    /// `--nhelpers`: threads for the engine's computations, if any.
    helpers: Option<super::helpers::Helpers>,
    /// When freed heap pages go back to the kernel (after a burst).
    trim: super::heap::Trim,
    /// The engine's DNS questions being asked.
    lookups: super::lookups::Lookups,
}

impl Daemon {
    pub fn new(
        config: Config,
        ep: Endpoint,
        mut kernel: Box<dyn KernelBackend>,
        log: Logger,
        ctl: UnixListener,
    ) -> io::Result<Daemon> {
        let poll = Poll::new()?;
        ctl.set_nonblocking(true)?;
        poll.registry()
            .register(&mut SourceFd(&ctl.as_raw_fd()), CTL, Interest::READABLE)?;
        let fds = kernel.fds();
        if fds.len() > HELPERS.0 - KERNEL.0 {
            return Err(io::Error::other("kernel backend has too many descriptors"));
        }
        for (i, fd) in fds.iter().enumerate() {
            poll.registry()
                .register(&mut SourceFd(fd), Token(KERNEL.0 + i), Interest::READABLE)?;
        }
        if !fds.is_empty() {
            kernel.start_events().map_err(io::Error::other)?;
            kernel.neighbour_discovery_bypass(true);
        }
        let signals = Signals::new()?;
        // After the signals are blocked (for the signalfd): threads inherit
        // the mask, so SIGTERM and the rest still reach the loop only.
        let n = super::helpers::count(config.nhelpers);
        let helpers = if n == 0 {
            log.info(
                "no helpers will be started, all cryptographic operations will be done inline",
            );
            None
        } else {
            log.info(&format!("starting up {n} cryptographic helpers"));
            Some(super::helpers::Helpers::start(n, poll.registry(), HELPERS)?)
        };
        let mut ep = ep;
        ep.set_offload(helpers.is_some());
        poll.registry().register(
            &mut SourceFd(&signals.as_raw_fd()),
            SIGNALS,
            Interest::READABLE,
        )?;
        Ok(Daemon {
            ep,
            kernel,
            log,
            poll,
            ctl,
            signals,
            ifaces: Vec::new(),
            clients: HashMap::new(),
            waiters: Vec::new(),
            status_waiters: Vec::new(),
            next_query: 0,
            listening: false,
            next_token: FIRST_CLIENT,
            shutdown: false,
            echo: None,
            conns: super::conndb::ConnDb::default(),
            myid: None,
            pubkeys: Vec::new(),
            secrets: None,
            ipsec_devices: Vec::new(),
            children: super::updown::runner(FIRST_CHILD),
            mappings: MappingNews::default(),
            lookups: super::lookups::Lookups::new(config.stack != super::options::Stack::None),
            config,
            helpers,
            trim: Default::default(),
        })
    }

    /// Runs until shutdown. Returns the exit status.
    pub fn run(&mut self) -> i32 {
        let mut events = Events::with_capacity(256);
        // A second daemon in the process (none runs one) takes a heap buffer.
        let mut shared = DATAGRAM.try_lock().ok();
        let mut own = Vec::new();
        let dgram: &mut [u8] = match shared.as_deref_mut() {
            Some(b) => b,
            None => {
                own.resize(DATAGRAM_MAX, 0);
                &mut own
            }
        };
        while !self.shutdown {
            let now = Instant::now();
            let mut timeout = self
                .ep
                .poll_timeout()
                .map(|t| t.saturating_duration_since(now));
            if !self.clients.is_empty() {
                timeout = Some(timeout.map_or(CLIENT_DEADLINE, |t| t.min(CLIENT_DEADLINE)));
            }
            if let Some(t) = self.children.next_deadline(now) {
                let t = t.saturating_duration_since(now);
                timeout = Some(timeout.map_or(t, |u| u.min(t)));
            }
            if let Some(t) = super::traffic::next_deadline(self) {
                let t = t.saturating_duration_since(now);
                timeout = Some(timeout.map_or(t, |u| u.min(t)));
            }
            if let Some(t) = self.lookups.deadline() {
                let t = t.saturating_duration_since(now);
                timeout = Some(timeout.map_or(t, |u| u.min(t)));
            }
            if let Some(t) = self.trim.deadline() {
                let t = t.saturating_duration_since(now);
                timeout = Some(timeout.map_or(t, |u| u.min(t)));
            }
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                self.log
                    .line(Level::Error, &format!("ERROR: poll failed: {e}"));
                return 1;
            }
            for ev in events.iter() {
                match ev.token() {
                    CTL => self.accept_clients(),
                    SIGNALS => self.on_signals(),
                    HELPERS => self.helpers_finished(),
                    t if self.children.owns(t) => self.children.on_event(self.poll.registry(), t),
                    t if self.lookups.owns(t) => {
                        if let Some((id, a)) = self.lookups.readable(self.poll.registry(), t) {
                            self.ep.handle_lookup(Instant::now(), id, a);
                        }
                    }
                    t if t.0 >= FIRST_CLIENT => self.read_client(t),
                    t if t.0 >= KERNEL.0 && t.0 < FIRST_UDP => self.pump(),
                    t => self.read_udp(t, dgram),
                }
            }
            let now = Instant::now();
            if !events.is_empty() {
                self.trim.activity(now);
            }
            self.trim.poll(now);
            if self.ep.poll_timeout().is_some_and(|t| t <= now) {
                self.ep.handle_timeout(now);
            }
            for (id, a) in self.lookups.timeouts(self.poll.registry(), now) {
                self.ep.handle_lookup(now, id, a);
            }
            self.expire_clients(now);
            self.collect_children(now);
            self.pump();
            if !self.status_waiters.is_empty() {
                super::traffic::finish_due(self, Instant::now());
            }
            let children = &self.children;
            self.waiters.retain(|w| !w.updown || children.busy(&w.conn));
        }
        self.teardown();
        self.finish_children();
        0
    }

    /// Logs the updown commands that finished; starts the next queued ones.
    fn collect_children(&mut self, now: Instant) {
        for done in self.children.poll(self.poll.registry(), now) {
            super::updown::done(self, done);
        }
    }

    /// At exit: the down/unroute commands teardown queued (and any still
    /// running) may take up to the updown timeout, so routes are removed;
    /// what still runs after that is killed. Only the children are served
    /// meanwhile. No zombie is left.
    fn finish_children(&mut self) {
        let bound = Instant::now() + super::updown::TIMEOUT;
        let mut events = Events::with_capacity(64);
        while !self.children.is_idle() {
            let now = Instant::now();
            if now >= bound {
                break;
            }
            let until = self
                .children
                .next_deadline(now)
                .map_or(bound, |t| t.min(bound));
            match self
                .poll
                .poll(&mut events, Some(until.saturating_duration_since(now)))
            {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
            for ev in events.iter() {
                if self.children.owns(ev.token()) {
                    self.children.on_event(self.poll.registry(), ev.token());
                }
            }
            self.collect_children(Instant::now());
        }
        for done in self.children.kill_all(self.poll.registry()) {
            super::updown::done(self, done);
        }
    }

    /// What the kernel said: answers to requests go to the engine, and so
    /// do ACQUIREs (traffic hit a routed connection's %trap: the engine
    /// negotiates it unless a negotiation is under way), EXPIREs (an SA
    /// reached a lifetime: the engine replaces or forgets it) and NAT
    /// mapping changes (the engine follows the peer's new port). Returns
    /// true when there was anything.
    fn kernel_outputs(&mut self) -> bool {
        let outs = self.kernel.poll();
        let any = !outs.is_empty();
        for o in outs {
            let now = Instant::now();
            match o {
                KernelOutput::Reply(r) => {
                    if !super::traffic::answer(self, &r) {
                        self.ep.handle_kernel_reply(now, r)
                    }
                }
                KernelOutput::Event(KernelEvent::Acquire(acq)) => self.ep.handle_acquire(now, acq),
                KernelOutput::Event(KernelEvent::Expire {
                    proto,
                    spi,
                    dst,
                    hard,
                }) => {
                    if hard {
                        self.mappings.forget(proto, spi, dst);
                    }
                    self.ep.handle_sa_expire(now, proto, spi, dst, hard)
                }
                KernelOutput::Event(KernelEvent::NatMapping(m)) => {
                    if self.mappings.is_new(&m) {
                        self.ep.handle_nat_mapping(now, m)
                    }
                }
                KernelOutput::Error(e) => {
                    self.log.line(Level::Error, &e);
                    if let Some(s) = &self.echo {
                        let _ = reply_line(s, Rc::LogSerious, &e);
                    }
                }
            }
        }
        any
    }

    fn on_signals(&mut self) {
        for s in self.signals.drain() {
            match s {
                Signal::Term => {
                    self.log.info("shutting down");
                    self.shutdown = true;
                }
                Signal::Hup => self
                    .log
                    .info("Pluto ignores SIGHUP -- perhaps you want \"whack --listen\""),
                Signal::Other(n) => self.log.info(&format!("ignoring signal {n}")),
            }
        }
    }

    /// Deletes every state (sending Deletes for established SAs) and every
    /// route, and lets the datagrams, kernel operations and updown
    /// commands that causes go out.
    pub fn teardown(&mut self) {
        let _ = self
            .ep
            .handle_command(Instant::now(), crate::ike::Command::Shutdown);
        self.pump();
        self.kernel.neighbour_discovery_bypass(false);
        if let Some(h) = self.helpers.as_mut() {
            h.stop();
        }
    }

    /// Hands the helpers' outcomes to the engine.
    fn helpers_finished(&mut self) {
        if self.take_outcomes() {
            self.pump();
        }
    }

    /// Hands the outcomes ready now to the engine (without moving what
    /// that produces); returns whether there were any.
    fn take_outcomes(&mut self) -> bool {
        let Some(h) = self.helpers.as_ref() else {
            return false;
        };
        let done: Vec<_> = h.finished().collect();
        let now = Instant::now();
        let any = !done.is_empty();
        for (id, outcome) in done {
            self.ep.handle_computed(now, id, outcome);
        }
        any
    }

    fn accept_clients(&mut self) {
        loop {
            match self.ctl.accept() {
                Ok((stream, _)) => {
                    if self.clients.len() >= MAX_CLIENTS {
                        self.log.info("too many whack connections; dropping one");
                        continue;
                    }
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let token = Token(self.next_token);
                    self.next_token += 1;
                    if self
                        .poll
                        .registry()
                        .register(
                            &mut SourceFd(&stream.as_raw_fd()),
                            token,
                            Interest::READABLE,
                        )
                        .is_err()
                    {
                        continue;
                    }
                    self.clients.insert(
                        token,
                        Client {
                            stream,
                            buf: Vec::new(),
                            since: Instant::now(),
                        },
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    self.log.line(
                        Level::Error,
                        &format!("ERROR: accept() on the control socket failed: {e}"),
                    );
                    break;
                }
            }
        }
    }

    fn drop_client(&mut self, token: Token) -> Option<Client> {
        let c = self.clients.remove(&token)?;
        let _ = self
            .poll
            .registry()
            .deregister(&mut SourceFd(&c.stream.as_raw_fd()));
        Some(c)
    }

    fn expire_clients(&mut self, now: Instant) {
        let late: Vec<Token> = self
            .clients
            .iter()
            .filter(|(_, c)| now.duration_since(c.since) > CLIENT_DEADLINE)
            .map(|(t, _)| *t)
            .collect();
        for t in late {
            if let Some(c) = self.drop_client(t) {
                let msg = if c.buf.is_empty() {
                    "whack connected but sent nothing"
                } else {
                    "whack sent a truncated message"
                };
                self.log.info(&format!(
                    "ignoring message from whack: {msg} within {}s",
                    CLIENT_DEADLINE.as_secs()
                ));
                let _ = reply_line(
                    &c.stream,
                    Rc::BadWhackMessage,
                    &format!("ignoring message from whack: {msg}"),
                );
            }
        }
    }

    fn read_client(&mut self, token: Token) {
        let mut chunk = [0u8; 4096];
        loop {
            let Some(c) = self.clients.get_mut(&token) else {
                return;
            };
            match c.stream.read(&mut chunk) {
                Ok(0) => {
                    // The client closed its side: what it sent is all there is.
                    // Nothing at all is a probe (`ipsec setup status`: is
                    // pluto there?), not a bad message.
                    if let Some(c) = self.drop_client(token) {
                        if !c.buf.is_empty() {
                            self.on_request(c.stream, c.buf);
                        }
                    }
                    return;
                }
                Ok(n) => {
                    c.buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
                    if c.buf.len() > MAX_REQUEST {
                        if let Some(c) = self.drop_client(token) {
                            self.log.info("ignoring message from whack: too long");
                            let _ = reply_line(
                                &c.stream,
                                Rc::BadWhackMessage,
                                "ignoring message from whack: too long",
                            );
                        }
                        return;
                    }
                    if super::whack::frame_complete(&c.buf) {
                        if let Some(c) = self.drop_client(token) {
                            self.on_request(c.stream, c.buf);
                        }
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.drop_client(token);
                    return;
                }
            }
        }
    }

    fn on_request(&mut self, stream: UnixStream, buf: Vec<u8>) {
        // Replies are short; a whack that stops reading must not stall the daemon.
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
        super::whack::handle(self, stream, &buf);
        self.pump();
    }

    /// Reads the socket until it is empty: edge-triggered readiness says
    /// nothing more until then, and what stays queued in a burst is what
    /// overflows the buffer. Outcomes the helpers finished meanwhile are
    /// taken between datagrams, so that answers do not wait for the burst
    /// to end (a peer would resend in the meantime).
    fn read_udp(&mut self, token: Token, buf: &mut [u8]) {
        let Some(i) = self.ifaces.iter().position(|f| f.token == token) else {
            return;
        };
        loop {
            let Some(iface) = self.ifaces.get(i) else {
                return;
            };
            match iface.socket.recv_from(buf) {
                Ok((n, from)) => {
                    let local = SocketAddr::new(iface.raw.addr, iface.port);
                    let now = Instant::now();
                    self.ep
                        .handle_datagram(now, local, from, buf.get(..n).unwrap_or_default());
                    self.take_outcomes();
                    self.pump();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // ICMP errors surface here; they do not stop the socket.
                    self.log.line(
                        Level::Debug,
                        &format!("recvfrom on {}: {e}", iface.raw.addr),
                    );
                    return;
                }
            }
        }
    }

    /// Moves the engine's outputs to where they go.
    pub fn pump(&mut self) {
        loop {
            let mut any = false;
            if let Some(h) = self.helpers.as_ref() {
                while let Some(c) = self.ep.poll_computation() {
                    h.submit(c);
                }
            }
            while let Some(op) = self.ep.poll_kernel_op() {
                any = true;
                if let crate::ike::kernel::KernelOp::DeleteSa {
                    proto, spi, dst, ..
                } = op
                {
                    self.mappings.forget(proto, spi, dst);
                }
                self.kernel.submit(op);
            }
            any |= self.kernel_outputs();
            while let Some(l) = self.ep.poll_lookup() {
                any = true;
                let now = Instant::now();
                if let Some((id, a)) = self.lookups.start(self.poll.registry(), l, now) {
                    self.ep.handle_lookup(now, id, a);
                }
            }
            while let Some(t) = self.ep.poll_transmit() {
                any = true;
                // The engine's port 4500 is the NAT-T socket; anything
                // else is the IKE port's. The payload goes as it is (the
                // engine put the non-ESP marker in front of IKE).
                let port = if t.local.port() == NAT_T_PORT {
                    NAT_T_PORT
                } else {
                    self.config.ikeport
                };
                match self
                    .ifaces
                    .iter()
                    .find(|f| f.raw.addr == t.local.ip() && f.port == port)
                {
                    Some(f) => {
                        if let Err(e) = f.socket.send_to(&t.payload, t.remote) {
                            self.log.info(&format!(
                                "ERROR: sendto on {}:{port} to {} failed: {e}",
                                f.raw.addr, t.remote
                            ));
                        }
                    }
                    None => self.log.info(&format!(
                        "ERROR: no interface with address {}:{port} to send from",
                        t.local.ip()
                    )),
                }
            }
            while let Some(ev) = self.ep.poll_event() {
                any = true;
                self.on_event(ev);
            }
            if !any {
                break;
            }
        }
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Log(l) => {
                self.log.log(&l);
                let text = l.to_string();
                if let Some(e) = &self.echo {
                    let _ = reply_line(e, l.rc.unwrap_or(Rc::Log), &text);
                }
                if let (Some(rc), Some(conn)) = (l.rc, &l.conn) {
                    for w in self.waiters.iter().filter(|w| w.conn == *conn) {
                        let _ = reply_line(&w.stream, rc, &text);
                    }
                }
            }
            Event::Established { conn, ipsec, .. } => {
                // Release whack once what it waits for is up.
                self.waiters
                    .retain(|w| w.updown || !(w.conn == conn && (ipsec || !w.ipsec)));
            }
            Event::Failed { conn, .. } => {
                self.waiters.retain(|w| w.updown || w.conn != conn);
            }
            Event::Deleted { .. } => {}
            Event::Updown { conn, verbs } => {
                super::updown::run(self, &conn, &verbs);
            }
        }
    }

    /// Logs a line and copies it to the whack being served, if any.
    pub fn say(&mut self, level: Level, text: &str) {
        self.log.line(level, text);
        if let Some(e) = &self.echo {
            let rc = if level == Level::Error {
                Rc::LogSerious
            } else {
                Rc::Log
            };
            let _ = reply_line(e, rc, text);
        }
    }

    /// The `ipsecN` interface `ipsec tncfg --attach` put on the device
    /// holding our address `host`, if any: a connection from there uses
    /// it as KLIPS connections used theirs.
    pub fn ipsec_device(&self, host: IpAddr) -> Option<&crate::tncfg::xfrm::Attachment> {
        let dev = &self.ifaces.iter().find(|f| f.raw.addr == host)?.raw.name;
        self.ipsec_devices.iter().find(|a| a.phys == *dev)
    }

    /// Re-reads the interfaces: opens sockets for new addresses, closes gone ones.
    pub fn refresh_interfaces(&mut self) -> io::Result<()> {
        if self.config.stack != super::options::Stack::None {
            match crate::tncfg::xfrm::attachments() {
                Ok(a) => self.ipsec_devices = a,
                Err(e) => self.log.line(
                    Level::Debug,
                    &format!("cannot list the ipsecN interfaces: {}", e.text),
                ),
            }
            for a in &self.ipsec_devices {
                self.log.info(&format!(
                    "{} is attached to {} (if_id {})",
                    a.virt, a.phys, a.if_id
                ));
            }
        }
        let found = ifaces::select(ifaces::discover()?, &self.config.interfaces);
        let mut i = 0;
        while let Some(f) = self.ifaces.get(i) {
            if found.iter().any(|r| r.addr == f.raw.addr) {
                i += 1;
                continue;
            }
            let mut f = self.ifaces.remove(i);
            let _ = self.poll.registry().deregister(&mut f.socket);
            self.log.info(&format!(
                "shutting down interface {}/{} {}:{}",
                vname(&f.raw, &self.config),
                f.raw.name,
                f.raw.addr,
                f.port
            ));
        }
        let mut ports = vec![self.config.ikeport];
        if self.config.nat.enabled {
            ports.push(NAT_T_PORT);
        }
        for raw in found {
            for &port in &ports {
                if self
                    .ifaces
                    .iter()
                    .any(|f| f.raw.addr == raw.addr && f.port == port)
                {
                    continue;
                }
                if let Some(f) = self.open_socket(raw.clone(), port)? {
                    self.ifaces.push(f);
                }
            }
        }
        Ok(())
    }

    /// The IKE socket of `raw` on `port`; `None` (logged) when the address
    /// cannot be bound. Every IKE socket is exempt from IPsec; the NAT-T
    /// one also takes ESP in UDP.
    fn open_socket(&mut self, raw: RawIface, port: u16) -> io::Result<Option<Iface>> {
        let sa = SocketAddr::new(raw.addr, port);
        let mut socket = match UdpSocket::bind(sa) {
            Ok(s) => s,
            Err(e) => {
                self.log.line(
                    Level::Error,
                    &format!(
                        "ERROR: bind() for {}/{} {sa} failed: {e}",
                        vname(&raw, &self.config),
                        raw.name
                    ),
                );
                return Ok(None);
            }
        };
        if let Err(e) = super::sockbuf::enlarge(&socket) {
            self.log.line(
                Level::Warn,
                &format!("cannot enlarge the socket buffers of {sa}: {e}; bursts may be dropped"),
            );
        }
        // Without a kernel stack there are neither policies to escape nor
        // SAs to take ESP: the engine sees every datagram.
        if self.config.stack != super::options::Stack::None {
            if let Err(e) = super::bypass::ike_socket_bypass(&socket, raw.addr.is_ipv4()) {
                self.log.line(
                    Level::Error,
                    &format!("ERROR: cannot exempt the IKE socket {sa} from IPsec policies: {e}"),
                );
            }
            if port == NAT_T_PORT {
                if let Err(e) = super::espinudp::set_espinudp(&socket) {
                    self.log.line(
                        Level::Error,
                        &format!(
                            "ERROR: cannot set UDP_ENCAP_ESPINUDP on {sa}: {e}; \
                             ESP in UDP will not reach the kernel's SAs"
                        ),
                    );
                }
            }
        }
        let token = Token(FIRST_UDP + self.next_udp_token());
        self.poll
            .registry()
            .register(&mut socket, token, Interest::READABLE)?;
        self.log.info(&format!(
            "adding interface {}/{} {sa}",
            vname(&raw, &self.config),
            raw.name
        ));
        Ok(Some(Iface {
            raw,
            port,
            socket,
            token,
        }))
    }

    fn next_udp_token(&self) -> usize {
        (0..)
            .find(|i| !self.ifaces.iter().any(|f| f.token.0 == FIRST_UDP + i))
            .unwrap_or(0)
    }

    pub fn close_interfaces(&mut self) {
        for mut f in self.ifaces.drain(..) {
            let _ = self.poll.registry().deregister(&mut f.socket);
            self.log.info(&format!(
                "shutting down interface {}/{} {}:{}",
                vname(&f.raw, &self.config),
                f.raw.name,
                f.raw.addr,
                f.port
            ));
        }
    }
}

/// The "virtual" interface name shown for an address (`virtual<ip>` without a stack).
pub fn vname(raw: &RawIface, c: &Config) -> String {
    match c.stack {
        super::options::Stack::None => format!("virtual{}", raw.addr),
        _ => raw.name.clone(),
    }
}

/// Writes one `NNN text` reply line to whack.
/// A newline inside `text` (from a name or id whack sent) would start a
/// line of its own, so [`ctl::format_line`] turns it into a space.
pub fn reply_line(mut s: &UnixStream, rc: Rc, text: &str) -> io::Result<()> {
    let line = crate::ctl::format_line(rc, text);
    s.write_all(line.as_bytes())
}
