//! NAT traversal (RFC 3947, RFC 3948, and the nat-t-ike drafts 02/03 that
//! older peers speak).
//!
//! Main Mode: both ends announce the methods they speak by vendor ID
//! (`vendor.rs`), then hash the addresses they know into NAT-D payloads in
//! MI2/MR2 (`detect`). When either end is behind a NAT, the initiator moves
//! the ISAKMP SA to port 4500 from MI3 on, where every IKE message carries
//! a four-byte zero non-ESP marker (`port`); the peer's port may change later
//! on (its NAT's mapping moved) and the SA follows it. Quick Mode then
//! negotiates the UDP-encapsulated modes and installs ESP-in-UDP SAs
//! (`quick`); while we are behind a NAT, one-byte keepalives hold the
//! mapping open (`keepalive`). A road warrior behind a NAT proposes its
//! private address as its client (`virt`).

mod detect;
mod keepalive;
mod port;
mod quick;
mod virt;

pub use detect::{detect, natd_hash, natd_payloads, Detection};
pub use keepalive::EVENT_NAT_T_KEEPALIVE;
pub use port::{KEEPALIVE, NON_ESP_MARKER};
pub(crate) use quick::sa_encap;
pub use quick::{SaNatInfo, UdpEncap};
pub use virt::{id_selector, virtual_client_allowed};

use super::endpoint::{Endpoint, Level};
use super::packet::Parsed;
use super::vendor::NattMethod;
use crate::ike::config::NAT_T_PORT;
use crate::ike::wire::Payload;

/// NAT traversal on one ISAKMP SA.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NatState {
    /// The method in use: both ends announced it and exchanged NAT-D.
    pub method: Option<NattMethod>,
    /// Our address is rewritten on the way to the peer (or `--forceencaps`
    /// makes us act as if it were).
    pub we_behind: bool,
    /// The peer's address is rewritten on the way to us.
    pub peer_behind: bool,
}

impl NatState {
    /// A NAT sits between the ends: IKE moves to port 4500 and ESP is
    /// encapsulated in UDP.
    pub fn nat_between(&self) -> bool {
        self.method.is_some() && (self.we_behind || self.peer_behind)
    }

    fn story(&self) -> &'static str {
        match (self.we_behind, self.peer_behind) {
            (false, false) => "no NAT detected",
            (true, false) => "i am NATed",
            (false, true) => "peer is NATed",
            (true, true) => "both are NATed",
        }
    }
}

impl Endpoint {
    /// The NAT-D payloads of MI2/MR2 for ISAKMP state `serial`: none unless
    /// both ends speak a NAT-T method.
    pub(crate) fn natd_out(&self, serial: u64) -> Vec<Payload> {
        let Some(st) = self.p1.get(&serial) else {
            return Vec::new();
        };
        let (Some(m), Some(x)) = (st.peer.natt.filter(|_| self.nat.enabled), st.chosen) else {
            return Vec::new();
        };
        let force = self.conn(&st.conn).is_some_and(|c| c.force_encaps);
        natd_payloads(
            m,
            x.hash,
            &st.icookie,
            &st.rcookie,
            st.local,
            st.remote,
            force,
        )
    }

    /// Learns from the NAT-D payloads of MI2/MR2 which end is behind a NAT.
    pub(crate) fn natd_in(&mut self, serial: u64, parsed: &Parsed) {
        let Some(st) = self.p1.get(&serial) else {
            return;
        };
        let (Some(m), Some(x)) = (st.peer.natt.filter(|_| self.nat.enabled), st.chosen) else {
            return;
        };
        let hashes: Vec<&[u8]> = parsed
            .all(detect::natd_type(m))
            .filter_map(|p| match &p.payload {
                Payload::Other { body, .. } => Some(body.as_slice()),
                _ => None,
            })
            .collect();
        let found = detect(
            x.hash,
            &st.icookie,
            &st.rcookie,
            st.local,
            st.remote,
            &hashes,
        );
        let force = self.conn(&st.conn).is_some_and(|c| c.force_encaps);
        let conn = st.conn.clone();
        let Some(d) = found else {
            let n = hashes.len();
            self.log_state(
                &conn,
                serial,
                None,
                format!("NAT-Traversal: received {n} NAT-D payloads, expecting at least 2; NAT traversal not used"),
            );
            return;
        };
        let Some(st) = self.p1.get_mut(&serial) else {
            return;
        };
        st.nat = NatState {
            method: Some(m),
            we_behind: d.we_behind || force,
            peer_behind: d.peer_behind,
        };
        let story = st.nat.story();
        let forced = if force && !d.we_behind {
            " (encapsulation forced)"
        } else {
            ""
        };
        self.log_state(
            &conn,
            serial,
            None,
            format!("NAT-Traversal: Result using {}: {story}{forced}", m.name()),
        );
    }

    /// The initiator, about to send MI3: with a NAT between the ends the
    /// ISAKMP SA moves to port 4500 on both sides (RFC 3947 §4).
    pub(crate) fn natt_float_initiator(&mut self, serial: u64) {
        let Some(st) = self.p1.get_mut(&serial) else {
            return;
        };
        if !st.nat.nat_between() || st.local.port() == NAT_T_PORT {
            return;
        }
        st.local.set_port(NAT_T_PORT);
        st.remote.set_port(NAT_T_PORT);
        let (conn, local, remote) = (st.conn.clone(), st.local, st.remote);
        self.log(
            Level::Debug,
            Some(&conn),
            Some(serial),
            None,
            format!("NAT-T: floating to {local} -> {remote}"),
        );
    }
}
