//! Asking the name servers: one UDP socket per query, connected to the
//! server (the kernel drops datagrams from anyone else), a random ID, the
//! question echoed back; every server in turn, `attempts` rounds.

use super::conf::{hosts_lookup, ResolvConf};
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

    /// Asks the servers for records of `qtype` for `name` until one answers.
    pub fn query(&self, name: &str, qtype: u16) -> Result<Response, String> {
        let asked = wire::check_name(name).map_err(|e| e.0)?;
        let mut last = String::from("no name server answered");
        for _ in 0..self.conf.attempts {
            for server in &self.conf.servers {
                match self.ask(*server, &asked, qtype) {
                    Ok(Response::Failed(rcode)) => last = describe(&Response::Failed(rcode)),
                    Ok(r) => return Ok(r),
                    Err(e) => last = format!("name server {server}: {e}"),
                }
            }
        }
        Err(last)
    }

    fn ask(&self, server: SocketAddr, name: &str, qtype: u16) -> Result<Response, String> {
        let mut id = [0u8; 2];
        getrandom::getrandom(&mut id).map_err(|e| e.to_string())?;
        let id = u16::from_be_bytes(id);
        let q = wire::query(id, name, qtype).map_err(|e| e.0)?;
        let local: IpAddr = if server.is_ipv6() {
            Ipv6Addr::UNSPECIFIED.into()
        } else {
            Ipv4Addr::UNSPECIFIED.into()
        };
        let sock = UdpSocket::bind(SocketAddr::new(local, 0)).map_err(|e| e.to_string())?;
        sock.connect(server).map_err(|e| e.to_string())?;
        sock.send(&q).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + self.conf.timeout;
        let mut buf = [0u8; 1232];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("no answer".into());
            }
            sock.set_read_timeout(Some(left))
                .map_err(|e| e.to_string())?;
            let n = match sock.recv(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err("no answer".into())
                }
                Err(e) => return Err(e.to_string()),
            };
            // A datagram that is not the answer (another ID, a mangled
            // one) is dropped; the real answer may still come.
            if let Ok(r) = wire::parse_response(&buf[..n], id, name, qtype) {
                return Ok(r);
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
