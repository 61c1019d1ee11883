//! The responder's second look at its connection, once MI3 (message 5) names
//! the peer.
//!
//! MI1 carries no identity, so the responder picks a connection by addresses
//! alone (`conn_for_mi1`). With RSA signatures nothing of the choice is baked
//! into the keys yet (SKEYID does not depend on it, unlike a PSK's), so when
//! the ID the peer declares fits another connection better, the state moves
//! there before the signature is checked: the seed's pluto "checks for a more
//! appropriate connection" at this point. With a PSK the key already chose the
//! connection, and the ID is only checked against it.

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
    /// the exchange is not RSA, or nothing else fits either, in which case the
    /// ID check refuses the peer). Ties keep the current connection, then the
    /// first added.
    pub(super) fn better_conn_for_id(&self, st: &Phase1, peer_id: &Identity) -> Option<String> {
        let chosen = st.chosen?;
        if st.role != Role::Responder || chosen.auth != AuthMethod::RsaSig {
            return None;
        }
        let current = self.conn(&st.conn)?;
        let remote = st.remote.ip();
        let here = fit(current, peer_id);
        // Only connections with our local host and a peer end that takes
        // the peer's address can be `compatible`: the index has just those.
        let local = current.local.host?;
        let best = self
            .conns
            .for_peer(local, remote)
            .filter(|c| c.name != current.name && compatible(current, c, remote, &chosen))
            .filter_map(|c| fit(c, peer_id).map(|f| (f, c)))
            .fold(None::<(Fit, &ConnConfig)>, |best, (f, c)| match best {
                Some((bf, _)) if bf >= f => best,
                _ => Some((f, c)),
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
