//! Asking the name servers from a command (whack, ipsec.conf's host
//! names): `/etc/hosts` first, then the search list's names, each asked
//! as pluto asks (`query::Query`), waiting on the socket.

use super::conf::{hosts_lookup, ResolvConf};
use super::query::Query;
use super::wire::{self, Response};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Instant;

/// The resolver's configuration and hosts table.
#[derive(Debug, Clone)]
pub struct Resolver {
    pub conf: ResolvConf,
    pub hosts: String,
}

impl Resolver {
    /// `/etc/resolv.conf` and `/etc/hosts` (a missing file counts as empty).
    pub fn system() -> Resolver {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        Resolver {
            conf: ResolvConf::parse(&read("/etc/resolv.conf")),
            hosts: read("/etc/hosts"),
        }
    }

    /// The first address of the family asked for (`v6`) that `name` has:
    /// from the hosts table, else from DNS (with the search list).
    pub fn lookup_host(&self, name: &str, v6: bool) -> Result<IpAddr, String> {
        wire::check_name(name).map_err(|e| format!("\"{name}\": {e}"))?;
        if let Some(a) = hosts_lookup(&self.hosts, name, v6) {
            return Ok(a);
        }
        let qtype = if v6 { wire::TYPE_AAAA } else { wire::TYPE_A };
        let mut last = format!(
            "\"{name}\": no {} address",
            if v6 { "IPv6" } else { "IPv4" }
        );
        for candidate in self.conf.candidates(name) {
            match self.query(&candidate, qtype) {
                Ok(Response::Answers(records)) => {
                    let want = wire::check_name(&candidate).map_err(|e| e.0)?;
                    if let Some(a) = wire::addresses(&records, &want, v6).first() {
                        return Ok(*a);
                    }
                }
                Ok(Response::NoSuchName) => last = format!("\"{name}\": no such host"),
                Ok(other) => last = format!("\"{name}\": {}", describe(&other)),
                Err(e) => last = format!("\"{name}\": {e}"),
            }
        }
        Err(last)
    }

    /// Asks the servers for records of `qtype` for `name` until one
    /// answers, blocking: the event loop's [`Query`] driven over a socket
    /// of its own for each try.
    pub fn query(&self, name: &str, qtype: u16) -> Result<Response, String> {
        let mut id = [0u8; 2];
        getrandom::getrandom(&mut id).map_err(|e| e.to_string())?;
        let mut q = Query::new(&self.conf, name, qtype, u16::from_be_bytes(id))?;
        let mut sock: Option<UdpSocket> = None;
        let mut buf = [0u8; 1232];
        loop {
            let now = Instant::now();
            if let Some((server, msg)) = q.poll_transmit(now) {
                let any: IpAddr = if server.is_ipv4() {
                    Ipv4Addr::UNSPECIFIED.into()
                } else {
                    Ipv6Addr::UNSPECIFIED.into()
                };
                sock = Some(UdpSocket::bind(SocketAddr::new(any, 0)).map_err(|e| e.to_string())?);
                if let Some(s) = &sock {
                    let _ = s.send_to(msg, server);
                }
            }
            let Some(deadline) = q.deadline() else {
                return Err("no name server answered".into());
            };
            let left = deadline.saturating_duration_since(Instant::now());
            let got = match (&sock, left.is_zero()) {
                (Some(s), false) => {
                    s.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
                    s.recv_from(&mut buf).ok()
                }
                _ => None,
            };
            let outcome = match got {
                Some((n, from)) => q.handle_datagram(from, buf.get(..n).unwrap_or_default()),
                None => q.handle_timeout(Instant::now()),
            };
            if let Some(o) = outcome {
                return o;
            }
        }
    }
}

fn describe(r: &Response) -> String {
    match r {
        Response::Answers(_) => "answered".into(),
        Response::NoSuchName => "no such name".into(),
        Response::Failed(2) => "the name server failed (SERVFAIL)".into(),
        Response::Failed(5) => "the name server refused (REFUSED)".into(),
        Response::Failed(c) => format!("the name server answered with error {c}"),
        Response::Truncated => "the answer does not fit in UDP (TCP is not supported)".into(),
    }
}
