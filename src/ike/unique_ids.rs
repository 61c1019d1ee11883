//! `--uniqueids`: one peer ID, one place.
//!
//! When an ISAKMP SA is established, the states of every other ISAKMP SA
//! with the same pair of IDs (ours and the peer's) but another peer address
//! or port go, with the IPsec states negotiated under them: the peer has
//! come back from elsewhere (a road warrior with a new address, a gateway
//! behind a NAT whose mapping moved) and what was set up with its old
//! address is dead.  This is Openswan's rule (it released those
//! connections); a peer that returns from the same address and port is
//! INITIAL-CONTACT's business (`initial_contact`).  The candidates come from
//! the index by peer ID, so the work does not grow with the number of states.

use super::endpoint::Endpoint;
use super::state::StateKey;
use super::wire::Identity;
use std::hash::{Hash, Hasher};
use std::time::Instant;

/// The index key of the ISAKMP states whose peer proved `id`.
pub(crate) fn peer_id_key(id: &Identity) -> StateKey {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    StateKey::PeerId(h.finish())
}

impl Endpoint {
    /// pluto's `--uniqueids`.
    pub fn set_unique_ids(&mut self, on: bool) {
        self.unique_ids = on;
    }

    /// ISAKMP SA `p1` was just established: with `--uniqueids`, the states
    /// of its IDs with other peer addresses go.
    pub(crate) fn enforce_unique_ids(&mut self, now: Instant, p1: u64) {
        if !self.unique_ids {
            return;
        }
        let Some(s) = self.p1.get(&p1) else { return };
        let Some(id) = s.peer_id.clone() else { return };
        let (conn, remote) = (s.conn.clone(), s.remote);
        let Some(ours) = self.conn(&conn).and_then(|c| c.local.effective_id()) else {
            return;
        };
        let older: Vec<(u64, String, std::net::SocketAddr)> = self
            .p1
            .find_all(&peer_id_key(&id), |x| x.peer_id.as_ref() == Some(&id))
            .into_iter()
            .filter(|x| *x != p1)
            .filter_map(|x| self.p1.get(&x))
            .filter(|x| x.remote != remote)
            .filter(|x| {
                self.conn(&x.conn)
                    .and_then(|c| c.local.effective_id())
                    .is_some_and(|o| o == ours)
            })
            .map(|x| (x.serial, x.conn.clone(), x.remote))
            .collect();
        for (old, old_conn, old_remote) in older {
            self.log_state(
                &old_conn,
                old,
                None,
                format!(
                    "uniqueids: ID '{id}' is now used by #{p1} from {remote}: deleting this ISAKMP SA from {old_remote} and its IPsec SAs"
                ),
            );
            // Its IPsec states: those negotiated under it, and, when the
            // address changed, those of its connection left over with the
            // old address (their ISAKMP SA already gone).
            let mut ipsec = self.p2.find_all(&StateKey::Child(old), |x| x.parent == old);
            if old_remote.ip() != remote.ip() {
                ipsec.extend(self.p2_with_peer(old_remote.ip()).into_iter().filter(|x| {
                    self.p2
                        .get(x)
                        .is_some_and(|x| x.conn == old_conn && !self.p1.contains_key(&x.parent))
                }));
            }
            crate::sort::sort(&mut ipsec);
            ipsec.dedup();
            for s in ipsec {
                self.delete_phase2(now, s, true);
            }
            self.delete_phase1(now, old, true);
        }
    }
}
