//! One DNS question asked over UDP without blocking: the caller owns the
//! socket and the clock, this decides what to send to whom and when to
//! give up (the servers of resolv.conf in turn, `attempts` rounds, each
//! try waiting `timeout`), and which datagram is the answer (from the
//! server asked, with the query's ID and question echoed).

use super::conf::ResolvConf;
use super::wire::{self, Response};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub struct Query {
    id: u16,
    name: String,
    qtype: u16,
    message: Vec<u8>,
    servers: Vec<SocketAddr>,
    timeout: Duration,
    /// Tries left to start, and the one under way (server, give-up time).
    tries_left: usize,
    next: usize,
    current: Option<(SocketAddr, Instant)>,
    /// What the last failed try said.
    last_error: String,
}

/// What the query came to.
pub type Outcome = Result<Response, String>;

impl Query {
    /// A query for records of `qtype` of `name` with the random `id`.
    pub fn new(conf: &ResolvConf, name: &str, qtype: u16, id: u16) -> Result<Query, String> {
        let name = wire::check_name(name).map_err(|e| format!("\"{name}\": {e}"))?;
        let message = wire::query(id, &name, qtype).map_err(|e| e.0)?;
        if conf.servers.is_empty() {
            return Err("no name server configured".into());
        }
        let attempts = usize::try_from(conf.attempts.max(1)).unwrap_or(1);
        Ok(Query {
            id,
            name,
            qtype,
            message,
            servers: conf.servers.clone(),
            timeout: conf.timeout,
            tries_left: attempts.saturating_mul(conf.servers.len()),
            next: 0,
            current: None,
            last_error: "no name server answered".into(),
        })
    }

    /// The next datagram to send and where, when a try is to start: first
    /// right away, then after each try that timed out.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<(SocketAddr, &[u8])> {
        if self.current.is_some() || self.tries_left == 0 {
            return None;
        }
        let server = *self.servers.get(self.next % self.servers.len())?;
        self.next += 1;
        self.tries_left -= 1;
        self.current = Some((server, now + self.timeout));
        Some((server, &self.message))
    }

    /// When the try under way gives up.
    pub fn deadline(&self) -> Option<Instant> {
        self.current.map(|(_, t)| t)
    }

    /// The try under way timed out at `now`: the outcome if it was the last.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Outcome> {
        let (server, t) = self.current?;
        if now < t {
            return None;
        }
        self.last_error = format!("name server {server}: no answer");
        self.current = None;
        (self.tries_left == 0).then(|| Err(self.last_error.clone()))
    }

    /// A datagram arrived from `from`: the outcome if it is the answer.
    /// Anything else (another sender, another ID or question, mangled) is
    /// dropped and the real answer may still come.
    pub fn handle_datagram(&mut self, from: SocketAddr, data: &[u8]) -> Option<Outcome> {
        let (server, _) = self.current?;
        if from != server {
            return None;
        }
        match wire::parse_response(data, self.id, &self.name, self.qtype) {
            Ok(Response::Failed(rcode)) => {
                // SERVFAIL and REFUSED: the next server may know.
                self.last_error = format!("name server {server}: error {rcode}");
                self.current = None;
                (self.tries_left == 0).then(|| Err(self.last_error.clone()))
            }
            Ok(r) => {
                self.current = None;
                self.tries_left = 0;
                Some(Ok(r))
            }
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn conf(servers: &[&str]) -> ResolvConf {
        let text: String = servers
            .iter()
            .map(|s| format!("nameserver {s}\n"))
            .collect();
        let mut c = ResolvConf::parse(&text);
        c.timeout = Duration::from_secs(2);
        c.attempts = 2;
        c
    }

    /// An answer to query `id` for `name` of `qtype` with one TXT record.
    fn answer(id: u16, name: &str, qtype: u16, rcode: u8, txt: &[u8]) -> Vec<u8> {
        let mut m = wire::query(id, name, qtype).unwrap();
        m[2] |= 0x80;
        m[3] = (m[3] & 0xf0) | rcode;
        if rcode == 0 {
            m[7] = 1; // ANCOUNT
            m.extend_from_slice(&[0xc0, 12]);
            m.extend_from_slice(&wire::TYPE_TXT.to_be_bytes());
            m.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            m.extend_from_slice(&(txt.len() as u16 + 1).to_be_bytes());
            m.push(txt.len() as u8);
            m.extend_from_slice(txt);
        }
        m
    }

    #[test]
    fn servers_in_turn_then_gives_up() {
        let c = conf(&["192.0.2.53", "192.0.2.54"]);
        let t0 = Instant::now();
        let mut q = Query::new(&c, "Example.ORG", wire::TYPE_TXT, 7).unwrap();
        let mut asked = Vec::new();
        let mut now = t0;
        let outcome = loop {
            if let Some((s, m)) = q.poll_transmit(now) {
                assert_eq!(&m[..2], &7u16.to_be_bytes());
                assert!(
                    m.windows(8).any(|w| w == b"\x07example"),
                    "asked in lower case"
                );
                asked.push(s.ip());
            }
            assert!(q.poll_transmit(now).is_none(), "one try at a time");
            assert!(q.handle_timeout(now).is_none(), "not yet");
            now = q.deadline().unwrap();
            if let Some(o) = q.handle_timeout(now) {
                break o;
            }
        };
        let a: IpAddr = Ipv4Addr::new(192, 0, 2, 53).into();
        let b: IpAddr = Ipv4Addr::new(192, 0, 2, 54).into();
        assert_eq!(asked, vec![a, b, a, b], "2 attempts over 2 servers");
        assert_eq!(now - t0, Duration::from_secs(8));
        assert_eq!(outcome, Err("name server 192.0.2.54:53: no answer".into()));
    }

    #[test]
    fn only_the_answer_from_the_server_asked_counts() {
        let c = conf(&["192.0.2.53"]);
        let now = Instant::now();
        let mut q = Query::new(&c, "example.org", wire::TYPE_TXT, 7).unwrap();
        let (server, _) = q.poll_transmit(now).unwrap();
        let good = answer(7, "example.org", wire::TYPE_TXT, 0, b"hello");
        let other: SocketAddr = "192.0.2.99:53".parse().unwrap();
        assert!(q.handle_datagram(other, &good).is_none(), "another sender");
        let wrong_id = answer(8, "example.org", wire::TYPE_TXT, 0, b"hello");
        assert!(q.handle_datagram(server, &wrong_id).is_none(), "another ID");
        let wrong_q = answer(7, "example.net", wire::TYPE_TXT, 0, b"hello");
        assert!(
            q.handle_datagram(server, &wrong_q).is_none(),
            "another question"
        );
        assert!(
            q.handle_datagram(server, &good[..good.len() - 3]).is_none(),
            "cut short"
        );
        match q.handle_datagram(server, &good) {
            Some(Ok(Response::Answers(r))) => assert_eq!(r.len(), 1),
            o => panic!("{o:?}"),
        }
        assert!(q.poll_transmit(now).is_none(), "done");
        assert!(q.deadline().is_none());
    }

    #[test]
    fn a_failing_server_passes_to_the_next_and_no_such_name_is_an_answer() {
        let c = conf(&["192.0.2.53", "192.0.2.54"]);
        let now = Instant::now();
        let mut q = Query::new(&c, "example.org", wire::TYPE_TXT, 9).unwrap();
        let (s1, _) = q.poll_transmit(now).unwrap();
        let servfail = answer(9, "example.org", wire::TYPE_TXT, 2, b"");
        assert!(q.handle_datagram(s1, &servfail).is_none());
        let (s2, _) = q.poll_transmit(now).unwrap();
        assert_ne!(s1, s2);
        let nx = answer(9, "example.org", wire::TYPE_TXT, 3, b"");
        assert_eq!(q.handle_datagram(s2, &nx), Some(Ok(Response::NoSuchName)));
    }

    #[test]
    fn no_servers_or_a_bad_name_is_refused_at_once() {
        let mut c = conf(&["192.0.2.53"]);
        assert!(Query::new(&c, "bad..name", wire::TYPE_TXT, 1).is_err());
        c.servers.clear();
        assert_eq!(
            Query::new(&c, "example.org", wire::TYPE_TXT, 1).err(),
            Some("no name server configured".into())
        );
    }
}
