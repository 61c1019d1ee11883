//! A peer that came back: INITIAL-CONTACT (RFC 2407 §4.6.3.3) and the
//! replacement of ISAKMP SAs that DPD already doubts.
//!
//! MI3 and MR3 carry INITIAL-CONTACT when we hold no other state at all
//! with the peer: "this is the only SA between us" (strongSwan and libreswan
//! send it in MI3). HASH_I/HASH_R cover the ID payload only, so the notify
//! is protected by the encryption alone: CBC lets bits of it be flipped
//! (which at worst hides it) but not a notify be made up. We also honour it
//! in a protected Informational (strongSwan does). A peer that says so has
//! lost whatever we still hold with it (it rebooted): our older states with
//! that peer address and ID go, except the new ISAKMP SA. IPsec states
//! count too in our condition, so an ISAKMP SA that expired while its
//! IPsec SAs live on never makes the peer drop SAs we still use.

use super::endpoint::Endpoint;
use super::state::Phase1;
use super::wire::{notify_type, protocol, NotifyPayload, Payload, DOI_IPSEC};
use std::time::Instant;

impl Endpoint {
    /// The INITIAL-CONTACT notify for MI3/MR3 of `st`: only when no other
    /// ISAKMP or IPsec state with its peer exists.
    pub(crate) fn initial_contact_payload(&self, st: &Phase1) -> Option<Payload> {
        let ip = st.remote.ip();
        let other_p1 = self.p1_with_peer(ip).iter().any(|s| *s != st.serial);
        let any_p2 = !self.p2_with_peer(ip).is_empty();
        if other_p1 || any_p2 {
            return None;
        }
        let mut spi = st.icookie.to_vec();
        spi.extend_from_slice(&st.rcookie);
        Some(Payload::Notify(NotifyPayload {
            doi: DOI_IPSEC,
            protocol: protocol::ISAKMP,
            spi,
            msg_type: notify_type::INITIAL_CONTACT,
            data: Vec::new(),
        }))
    }

    /// True when authenticated MI3/MR3 `payloads` carry INITIAL-CONTACT.
    pub(crate) fn carries_initial_contact<'a>(
        payloads: impl IntoIterator<Item = &'a Payload>,
    ) -> bool {
        payloads
            .into_iter()
            .any(|p| matches!(p, Payload::Notify(n) if n.msg_type == notify_type::INITIAL_CONTACT))
    }

    /// The peer of ISAKMP SA `p1` holds nothing with us but `p1`: every
    /// other established ISAKMP SA with its address and ID goes, with the
    /// IPsec states under them or left over from them.
    pub(crate) fn honour_initial_contact(&mut self, now: Instant, p1: u64) {
        let Some(s) = self.p1.get(&p1) else { return };
        let (conn, ip, id) = (s.conn.clone(), s.remote.ip(), s.peer_id.clone());
        let stale: Vec<u64> = self
            .p1_with_peer(ip)
            .iter()
            .filter_map(|x| self.p1.get(x))
            .filter(|x| x.serial != p1 && x.peer_id == id && x.kind.is_established())
            .map(|x| x.serial)
            .collect();
        let ipsec: Vec<u64> = self
            .p2_with_peer(ip)
            .iter()
            .filter_map(|x| self.p2.get(x))
            .filter(|x| x.parent != p1)
            .filter(|x| match self.p1.get(&x.parent) {
                Some(parent) => stale.contains(&parent.serial),
                // Outlived its ISAKMP SA: ours if its connection is.
                None => x.conn == conn,
            })
            .map(|x| x.serial)
            .collect();
        if stale.is_empty() && ipsec.is_empty() {
            return;
        }
        self.log_state(
            &conn,
            p1,
            None,
            format!(
                "received INITIAL_CONTACT: deleting {} older ISAKMP and {} IPsec states with this peer",
                stale.len(),
                ipsec.len()
            ),
        );
        for s in ipsec {
            self.delete_phase2(now, s, true);
        }
        for s in stale {
            self.delete_phase1(now, s, true);
        }
    }

    /// New ISAKMP SA `p1` is established: with the peer's INITIAL-CONTACT
    /// its older states go; without it, an older ISAKMP SA of the same
    /// connection and peer still waiting for an R_U_THERE_ACK is replaced.
    pub(crate) fn replace_after_peer_restart(&mut self, now: Instant, p1: u64) {
        let Some(s) = self.p1.get(&p1) else { return };
        if s.dpd.initial_contact {
            return self.honour_initial_contact(now, p1);
        }
        let (conn, ip) = (s.conn.clone(), s.remote.ip());
        let doubted: Vec<u64> = self
            .p1_with_peer(ip)
            .iter()
            .filter_map(|x| self.p1.get(x))
            .filter(|x| x.serial < p1 && x.conn == conn)
            .map(|x| x.serial)
            .filter(|x| self.dpd_pending(*x))
            .collect();
        for old in doubted {
            self.log_state(
                &conn,
                old,
                None,
                format!("replaced by ISAKMP SA #{p1}: the peer never answered its R_U_THERE"),
            );
            self.delete_phase1(now, old, true);
        }
    }
}
