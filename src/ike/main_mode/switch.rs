//! The responder's second look at its connection, once MI3 (message 5) names
//! the peer.
//!
//! MI1 carries no identity, so the responder picks a connection by addresses
//! alone (`conn_for_mi1`). When the ID the peer declares in MI3 fits another
//! connection better, the state moves there before the proof is checked: the
//! seed's pluto "checks for a more appropriate connection" at this point.
//! With RSA signatures nothing of the choice is baked into the keys yet.
//! With a PSK it is (SKEYID is made from it, and MI3 was decrypted with it),
//! so a connection qualifies only if its PSK is the same one: the seed's
//! rule that the keys so far must not change.

use super::*;
use std::net::IpAddr;

/// How well a connection's peer end fits a declared ID; higher is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fit {
    /// No ID configured (`--id` absent): any ID is taken, as on MI1.
    Unnamed,
    /// No ID configured, but the peer's address as ID is the declared one.
    ByAddress,
    /// The configured ID is the declared one.
    Named,
}

fn fit(c: &ConnConfig, peer_id: &Identity) -> Option<Fit> {
    match &c.remote.id {
        Some(want) if want == peer_id => Some(Fit::Named),
        Some(_) => None,
        None if c.remote.effective_id().as_ref() == Some(peer_id) => Some(Fit::ByAddress),
        None => Some(Fit::Unnamed),
    }
}

/// A candidate must be usable where the state already is: the same local end
/// (the address the peer reached and the ID we are about to prove), a peer end
/// that takes the peer's address, and a policy that allows what MR1 accepted.
fn compatible(current: &ConnConfig, c: &ConnConfig, remote: IpAddr, chosen: &IkeTransform) -> bool {
    let same_local = c.local.host == current.local.host
        && c.local.effective_id() == current.local.effective_id();
    let takes_peer = c.remote.host.map_or(true, |h| h == remote);
    let auth_ok = match chosen.auth {
        AuthMethod::RsaSig => c.policy.rsasig,
        AuthMethod::Psk => c.policy.psk,
    };
    let suite_ok = Endpoint::ike_transforms(c).iter().any(|t| {
        t.cipher == chosen.cipher
            && t.hash == chosen.hash
            && t.group == chosen.group
            && t.auth == chosen.auth
    });
    same_local && takes_peer && auth_ok && suite_ok
}

impl Endpoint {
    /// The connection the responder's state should belong to once the peer
    /// declared `peer_id` in MI3: `None` to stay where it is (it fits best,
    /// or nothing else fits either, in which case the ID check refuses the
    /// peer). Ties keep the current connection, then the first added.
    pub(super) fn better_conn_for_id(&self, st: &Phase1, peer_id: &Identity) -> Option<String> {
        let chosen = st.chosen?;
        if st.role != Role::Responder {
            return None;
        }
        // A PSK exchange can only move where the PSK is the same.
        let same_keys = |c: &ConnConfig| {
            chosen.auth != AuthMethod::Psk || self.conn_psk(c).is_some_and(|k| k == st.ex().psk)
        };
        let current = self.conn(&st.conn)?;
        let remote = st.remote.ip();
        let here = fit(current, peer_id);
        let local = current.local.host?;
        let ok = |c: &&ConnConfig| {
            c.name != current.name && compatible(current, c, remote, &chosen) && same_keys(c)
        };
        // The best fit first, each from an index, so that the work does not
        // grow with the connections: one named for this ID; one for this
        // address whose ID is the address; and only when the current one
        // does not take the ID at all, the first that takes any ID.
        let best = (self
            .conns
            .with_peer_id(local, peer_id)
            .find(ok)
            .map(|c| (Fit::Named, c)))
        .or_else(|| {
            (self.conns.with_hosts(local, remote))
                .filter(ok)
                .find(|c| fit(c, peer_id) == Some(Fit::ByAddress))
                .map(|c| (Fit::ByAddress, c))
        })
        .or_else(|| {
            here.is_none().then_some(())?;
            (self.conns.for_peer(local, remote))
                .filter(ok)
                .find(|c| fit(c, peer_id) == Some(Fit::Unnamed))
                .map(|c| (Fit::Unnamed, c))
        })?;
        match here {
            Some(h) if h >= best.0 => None,
            _ => Some(best.1.name.clone()),
        }
    }

    /// Moves responder state `serial` to connection `to` (see the module
    /// comment), with the log line the old pluto wrote.
    pub(super) fn switch_conn(&mut self, serial: u64, to: String) {
        let Some(st) = self.p1.get_mut(&serial) else {
            return;
        };
        let from = std::mem::replace(&mut st.conn, to.clone());
        let ip = st.remote.ip();
        self.note_instance(&to, ip);
        self.release_instance(&from, ip);
        self.log(
            Level::Info,
            Some(&to),
            Some(serial),
            None,
            format!("switched from \"{from}\" to \"{to}\": the peer's ID fits it better"),
        );
    }
}
