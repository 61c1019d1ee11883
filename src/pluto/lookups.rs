//! The engine's DNS questions, asked over the one event loop: each try of
//! a query has a UDP socket of its own (a random source port besides the
//! random ID), registered with mio, and a `dns::query::Query` deciding what to
//! send and when to give up. Sockets are exempt from IPsec policies as the
//! IKE sockets are: an opportunistic TRAP over a whole range must not
//! catch the lookups its own negotiations wait for.

use crate::dns::conf::ResolvConf;
use crate::dns::query::{Outcome, Query};
use crate::dns::wire::Response;
use crate::ike::dnskey::{Lookup, LookupAnswer};
use mio::net::UdpSocket;
use mio::{Interest, Registry, Token};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;

/// Tokens of the query sockets: [FIRST, FIRST + SPAN).
pub const FIRST: usize = 1 << 18;
const SPAN: usize = 1 << 18;

struct Pending {
    lookup: u64,
    query: Query,
    socket: Option<UdpSocket>,
}

pub struct Lookups {
    /// Exempt the sockets from IPsec policies (not without a kernel stack).
    bypass: bool,
    pending: HashMap<Token, Pending>,
    next: usize,
}

impl Lookups {
    pub fn new(bypass: bool) -> Lookups {
        Lookups {
            bypass,
            pending: HashMap::new(),
            next: 0,
        }
    }

    pub fn owns(&self, t: Token) -> bool {
        (FIRST..FIRST + SPAN).contains(&t.0)
    }

    /// Starts asking `l`; an answer that is known at once (a name that
    /// cannot be asked, no socket) comes back as `Some`.
    pub fn start(
        &mut self,
        registry: &Registry,
        l: Lookup,
        now: Instant,
    ) -> Option<(u64, LookupAnswer)> {
        let mut id = [0u8; 2];
        if let Err(e) = getrandom::getrandom(&mut id) {
            return Some((l.id, Err(format!("no random query ID: {e}"))));
        }
        // Read for each query: a router's resolv.conf changes with its
        // uplink (DHCP, PPP), and lookups are few.
        let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let conf = ResolvConf::parse(&text);
        let query = match Query::new(&conf, &l.name, l.qtype, u16::from_be_bytes(id)) {
            Ok(q) => q,
            Err(e) => return Some((l.id, Err(e))),
        };
        let token = Token(FIRST + self.next % SPAN);
        self.next = self.next.wrapping_add(1);
        let mut p = Pending {
            lookup: l.id,
            query,
            socket: None,
        };
        if let Some(done) = self.send(registry, token, &mut p, now) {
            return Some((l.id, done));
        }
        self.pending.insert(token, p);
        None
    }

    /// Sends the query's next try, if it has one to start; the outcome if
    /// it cannot go on.
    fn send(
        &self,
        registry: &Registry,
        token: Token,
        p: &mut Pending,
        now: Instant,
    ) -> Option<LookupAnswer> {
        let (server, msg) = p.query.poll_transmit(now)?;
        let msg = msg.to_vec();
        // A socket (a random port) for each try, of the server's family.
        if let Some(mut old) = p.socket.take() {
            let _ = registry.deregister(&mut old);
        }
        match self.socket(registry, token, server) {
            Ok(s) => p.socket = Some(s),
            Err(e) => return Some(Err(format!("cannot open a socket to {server}: {e}"))),
        }
        if let Some(s) = &p.socket {
            // A send that fails is a try that times out: the next server
            // may be reachable.
            let _ = s.send_to(&msg, server);
        }
        None
    }

    fn socket(
        &self,
        registry: &Registry,
        token: Token,
        server: SocketAddr,
    ) -> io::Result<UdpSocket> {
        let any: IpAddr = if server.is_ipv4() {
            Ipv4Addr::UNSPECIFIED.into()
        } else {
            Ipv6Addr::UNSPECIFIED.into()
        };
        let mut s = UdpSocket::bind(SocketAddr::new(any, 0))?;
        if self.bypass {
            super::bypass::ike_socket_bypass(&s, server.is_ipv4())?;
        }
        registry.register(&mut s, token, Interest::READABLE)?;
        Ok(s)
    }

    /// Reads what came to query socket `t`: the lookup's answer, if that was it.
    pub fn readable(&mut self, registry: &Registry, t: Token) -> Option<(u64, LookupAnswer)> {
        let p = self.pending.get_mut(&t)?;
        let mut buf = [0u8; 1232];
        let mut outcome = None;
        while let Some(s) = &p.socket {
            match s.recv_from(&mut buf) {
                Ok((n, from)) => {
                    if let Some(o) = p
                        .query
                        .handle_datagram(from, buf.get(..n).unwrap_or_default())
                    {
                        outcome = Some(o);
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        match outcome {
            Some(o) => self.finish(registry, t, o),
            // A server that failed (SERVFAIL, REFUSED) ends its try at
            // once: the next one starts now rather than at its deadline.
            None if p.query.deadline().is_none() => {
                let mut p = self.pending.remove(&t)?;
                match self.send(registry, t, &mut p, Instant::now()) {
                    Some(a) => {
                        if let Some(mut s) = p.socket.take() {
                            let _ = registry.deregister(&mut s);
                        }
                        Some((p.lookup, a))
                    }
                    None => {
                        self.pending.insert(t, p);
                        None
                    }
                }
            }
            None => None,
        }
    }

    /// Times out the tries due at `now`, starts the next ones; the lookups
    /// that came to an end.
    pub fn timeouts(&mut self, registry: &Registry, now: Instant) -> Vec<(u64, LookupAnswer)> {
        let due: Vec<Token> = (self.pending.iter())
            .filter(|(_, p)| p.query.deadline().is_some_and(|d| d <= now))
            .map(|(t, _)| *t)
            .collect();
        let mut done = Vec::new();
        for t in due {
            let Some(mut p) = self.pending.remove(&t) else {
                continue;
            };
            let ended = match p.query.handle_timeout(now) {
                Some(o) => Some(answer(o)),
                None => self.send(registry, t, &mut p, now),
            };
            match ended {
                Some(a) => {
                    if let Some(mut s) = p.socket.take() {
                        let _ = registry.deregister(&mut s);
                    }
                    done.push((p.lookup, a));
                }
                None => {
                    self.pending.insert(t, p);
                }
            }
        }
        done
    }

    fn finish(&mut self, registry: &Registry, t: Token, o: Outcome) -> Option<(u64, LookupAnswer)> {
        let mut p = self.pending.remove(&t)?;
        if let Some(mut s) = p.socket.take() {
            let _ = registry.deregister(&mut s);
        }
        Some((p.lookup, answer(o)))
    }

    /// When the next try gives up.
    pub fn deadline(&self) -> Option<Instant> {
        self.pending
            .values()
            .filter_map(|p| p.query.deadline())
            .min()
    }
}

fn answer(o: Outcome) -> LookupAnswer {
    match o {
        Ok(Response::Answers(r)) => Ok(r),
        Ok(Response::NoSuchName) => Ok(Vec::new()),
        // `Query` turns a server's failure into the next try, or an error.
        Ok(Response::Truncated | Response::Failed(_)) => {
            Err("the answer does not fit in UDP".into())
        }
        Err(e) => Err(e),
    }
}
