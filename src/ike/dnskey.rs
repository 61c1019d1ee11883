//! Keys from DNS (`--dnskeyondemand`, ipsec.conf's `rsasigkey=%dnsondemand`):
//! when MI3 or MR3 is signed by an ID no key is on record for, and the
//! connection lets DNS supply one, the message is parked, the engine asks
//! for the TXT (`X-IPsec-Server`) and IPSECKEY records of the ID's name
//! (an address's reverse-map name, an FQDN itself), and once both answers
//! are in, the keys they hold for that ID go into the Main Mode exchange
//! (not into a lasting store: the next negotiation asks again, and the
//! name server's cache is what keeps that cheap) and the message is read
//! again. A key counts for the ID only if its record names no other
//! gateway than the ID itself.
//!
//! The engine stays sans-IO: it hands out [`Lookup`]s and takes the
//! answers back through [`Endpoint::handle_lookup`]; the daemon does the
//! asking (`dns::query`).

use super::crypto::rsa::RsaPublicKey;
use super::endpoint::{Endpoint, Level};
use super::wire::Identity;
use crate::dns::keys::{key_records, name_for, KeyRecord};
use crate::dns::wire::{Gateway, Record, TYPE_IPSECKEY, TYPE_TXT};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

/// Key lookups under way at most; a message that would start another is
/// dropped (the peer resends it), so that peers who reach MI3 cannot make
/// the engine hold unbounded parked messages.
pub const MAX_OUTSTANDING: usize = 256;

/// Lookup IDs start high so that none equals a computation's (both mark
/// what a state waits for).
const FIRST_ID: u64 = 1 << 62;

/// A DNS question for the caller to put to the name servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub id: u64,
    pub name: String,
    pub qtype: u16,
}

/// The records answered (none for a name that does not exist), or why
/// there was no answer.
pub type LookupAnswer = Result<Vec<Record>, String>;

/// The TXT and IPSECKEY records of one name, asked for a reason.
pub(crate) struct KeyRequest {
    /// Its TXT lookup's ID; the IPSECKEY one is the next.
    pub(crate) id: u64,
    pub(crate) name: String,
    /// Lookups not answered yet: bit 0 the TXT one, bit 1 the IPSECKEY one.
    outstanding: u8,
    pub(crate) records: Vec<Record>,
    pub(crate) failures: Vec<String>,
    pub(crate) purpose: Purpose,
}

/// What the records are asked for.
pub(crate) enum Purpose {
    /// The key of `peer`, for Main Mode state `serial`, whose message
    /// waits to be read again.
    PeerKey {
        serial: u64,
        peer: Identity,
        datagram: (SocketAddr, SocketAddr, Vec<u8>),
    },
    /// The gateway of `dst`, for traffic from `src` an opportunistic
    /// template caught (`oppo`).
    Gateway {
        conn: String,
        src: std::net::IpAddr,
        dst: std::net::IpAddr,
    },
    /// Whether the peer of ISAKMP SA `p1` is the gateway of its client
    /// `client`, named in a QI1 that waits to be read again (`oppo`).
    Client {
        p1: u64,
        client: std::net::IpAddr,
        /// Our client the QI1 names.
        ours: super::kernel::Selector,
        datagram: (SocketAddr, SocketAddr, Vec<u8>),
    },
}

#[derive(Default)]
pub struct Lookups {
    next: u64,
    queue: VecDeque<Lookup>,
    /// At most [`MAX_OUTSTANDING`]: a scan finds an answer's request.
    requests: Vec<KeyRequest>,
}

impl Lookups {
    fn ask(&mut self, name: &str, qtype: u16) -> u64 {
        let id = FIRST_ID + self.next;
        self.next += 1;
        self.queue.push_back(Lookup {
            id,
            name: name.to_string(),
            qtype,
        });
        id
    }
}

/// What to do with a MI3/MR3 signed by an ID without a key on record.
pub(crate) enum KeyWait {
    /// Parked under this request ID: the state waits for it.
    Parked(u64),
    /// Too many lookups out (or, which the caller rules out, the ID has
    /// no name): drop the message, the peer resends it.
    Busy,
}

impl Endpoint {
    /// The next DNS question to ask.
    pub fn poll_lookup(&mut self) -> Option<Lookup> {
        self.lookups.queue.pop_front()
    }

    /// The answer to lookup `id`.
    pub fn handle_lookup(&mut self, now: Instant, id: u64, answer: LookupAnswer) {
        self.clock = Some(now);
        self.lookup_answered(now, id, answer);
        self.settle();
    }

    fn lookup_answered(&mut self, now: Instant, id: u64, answer: LookupAnswer) {
        let reqs = &mut self.lookups.requests;
        let Some(i) = reqs.iter().position(|r| r.id == id || r.id + 1 == id) else {
            return;
        };
        let Some(req) = reqs.get_mut(i) else {
            return;
        };
        let bit = 1 << (id - req.id);
        if req.outstanding & bit == 0 {
            return; // answered already
        }
        req.outstanding &= !bit;
        match answer {
            Ok(records) => req.records.extend(records),
            Err(e) => req.failures.push(e),
        }
        if req.outstanding == 0 {
            let req = reqs.swap_remove(i);
            match req.purpose {
                Purpose::PeerKey { .. } => self.key_request_done(now, req),
                Purpose::Gateway { .. } => self.oe_gateway_answer(now, req),
                Purpose::Client { .. } => self.oe_client_answer(now, req),
            }
        }
    }

    /// Asks for the TXT and IPSECKEY records of `name`; `None` when too
    /// many lookups are out already.
    pub(crate) fn ask_records(&mut self, name: String, purpose: Purpose) -> Option<u64> {
        if self.lookups.requests.len() >= MAX_OUTSTANDING {
            return None;
        }
        let first = self.lookups.ask(&name, TYPE_TXT);
        self.lookups.ask(&name, TYPE_IPSECKEY);
        self.lookups.requests.push(KeyRequest {
            id: first,
            name,
            outstanding: 0b11,
            records: Vec::new(),
            failures: Vec::new(),
            purpose,
        });
        Some(first)
    }

    /// Parks the message `datagram` of state `serial` until DNS has been
    /// asked for the key of `id`.
    pub(crate) fn await_peer_key(
        &mut self,
        serial: u64,
        id: &Identity,
        datagram: (SocketAddr, SocketAddr, &[u8]),
    ) -> KeyWait {
        let Some(name) = name_for(id) else {
            return KeyWait::Busy;
        };
        let (local, remote, data) = datagram;
        let purpose = Purpose::PeerKey {
            serial,
            peer: id.clone(),
            datagram: (local, remote, data.to_vec()),
        };
        let Some(first) = self.ask_records(name.clone(), purpose) else {
            return KeyWait::Busy;
        };
        if let Some(st) = self.p1.get(&serial) {
            let conn = st.conn.clone();
            self.log_state(
                &conn,
                serial,
                None,
                format!(
                    "no RSA public key known for '{id}': asking DNS (TXT and IPSECKEY of {name})"
                ),
            );
        }
        KeyWait::Parked(first)
    }

    fn key_request_done(&mut self, now: Instant, req: KeyRequest) {
        let Purpose::PeerKey {
            serial,
            peer,
            datagram,
        } = req.purpose
        else {
            return;
        };
        let Some(st) = self.p1.get_mut(&serial) else {
            return;
        };
        if st.computing != Some(req.id) {
            return;
        }
        let (records, skipped) = key_records(&req.records, &req.name);
        let mut keys = Vec::new();
        let mut problems = skipped;
        for r in records.iter().filter(|r| speaks_for_itself(r, &peer)) {
            let Some(blob) = &r.key else { continue };
            match RsaPublicKey::from_rfc3110(blob) {
                Ok(k) if !keys.contains(&k) => keys.push(k),
                Ok(_) => {}
                Err(e) => problems.push(e.to_string()),
            }
        }
        problems.extend(req.failures);
        let conn = st.conn.clone();
        let found = keys.len();
        let ex = st.ex_mut();
        ex.dns_keys = keys;
        ex.dns_asked = true;
        st.computing = None;
        // The parked message is read as if it had just come.
        st.last_rx = None;
        let mut text = format!(
            "DNS gave {found} RSA public key(s) for '{peer}' under {}",
            req.name
        );
        if !problems.is_empty() {
            text.push_str(&format!(" ({})", problems.join("; ")));
        }
        self.log(Level::Info, Some(&conn), Some(serial), None, text);
        let (local, remote, data) = datagram;
        self.dispatch_datagram(now, local, remote, &data);
    }
}

/// Whether a record's key is the key of `id` itself: the record names no
/// gateway, or names `id` as its own gateway.
fn speaks_for_itself(r: &KeyRecord, id: &Identity) -> bool {
    match (&r.gateway, id) {
        (Gateway::None, _) => true,
        (Gateway::V4(a), Identity::Ipv4(b)) => a == b,
        (Gateway::V6(a), Identity::Ipv6(b)) => a == b,
        (Gateway::Name(n), Identity::Fqdn(f)) => {
            std::str::from_utf8(f).is_ok_and(|f| f.trim_start_matches('@').eq_ignore_ascii_case(n))
        }
        _ => false,
    }
}
