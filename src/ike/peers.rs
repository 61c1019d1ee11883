//! States by peer address and by connection, through the state tables'
//! indexes: what DPD, INITIAL-CONTACT, rekeying or routing look for costs
//! what that peer or connection has, not what every one has.

use super::endpoint::Endpoint;
use super::state::{Phase2, StateKey};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// The index key of `conn`'s states, established or not. Lookups by it
/// check the name too (see [`StateKey::Conn`]).
pub(crate) fn conn_key(conn: &str, established: bool) -> StateKey {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    conn.hash(&mut h);
    StateKey::Conn {
        conn: h.finish(),
        established,
    }
}

impl Endpoint {
    /// The ISAKMP states of connection `conn`, in serial order.
    pub(crate) fn p1_of(&self, conn: &str) -> Vec<u64> {
        let mut v = self.p1.find_all(&conn_key(conn, false), |s| s.conn == conn);
        v.extend(self.p1.find_all(&conn_key(conn, true), |s| s.conn == conn));
        crate::sort::sort(&mut v);
        v.dedup();
        v
    }

    /// The IPsec states of connection `conn`, in serial order.
    pub(crate) fn p2_of(&self, conn: &str) -> Vec<u64> {
        let mut v = self.p2.find_all(&conn_key(conn, false), |s| s.conn == conn);
        v.extend(self.p2.find_all(&conn_key(conn, true), |s| s.conn == conn));
        crate::sort::sort(&mut v);
        v.dedup();
        v
    }

    /// The newest established ISAKMP SA of `conn`.
    pub(crate) fn newest_p1(&self, conn: &str) -> Option<u64> {
        self.p1.find_last(&conn_key(conn, true), |s| {
            s.conn == conn && s.kind.is_established()
        })
    }

    /// The newest established IPsec SA of `conn`.
    pub(crate) fn newest_p2(&self, conn: &str) -> Option<u64> {
        self.p2.find_last(&conn_key(conn, true), |s| {
            s.conn == conn && s.kind.is_established()
        })
    }

    /// A state of `conn` is still negotiating.
    pub(crate) fn negotiating(&self, conn: &str) -> bool {
        let key = conn_key(conn, false);
        self.p1
            .find(&key, |s| s.conn == conn && !s.kind.is_established())
            .is_some()
            || self
                .p2
                .find(&key, |s| s.conn == conn && !s.kind.is_established())
                .is_some()
    }

    /// The ISAKMP states with the peer at `ip`, in serial order.
    pub(crate) fn p1_with_peer(&self, ip: IpAddr) -> Vec<u64> {
        self.p1
            .find_all(&StateKey::Peer(ip), |s| s.remote.ip() == ip)
    }

    /// The peer address of IPsec state `p2`: its ISAKMP SA's, or for one
    /// that outlived it, the source of its inbound SAs.
    pub(crate) fn p2_peer(&self, p2: &Phase2) -> Option<IpAddr> {
        self.p1
            .get(&p2.parent)
            .map(|p| p.remote.ip())
            .or_else(|| p2.installed.iter().find(|sa| sa.inbound).map(|sa| sa.src))
    }

    /// The IPsec states whose peer ([`Endpoint::p2_peer`]) is at `ip`, in
    /// serial order: those under an ISAKMP SA with that peer, and those
    /// whose inbound SAs come from it (which covers the ones that outlived
    /// their ISAKMP SA).
    pub(crate) fn p2_with_peer(&self, ip: IpAddr) -> Vec<u64> {
        let children = self
            .p1_with_peer(ip)
            .into_iter()
            .flat_map(|p1| self.p2.find_all(&StateKey::Child(p1), |x| x.parent == p1));
        let mut v: Vec<u64> = children
            .chain(self.p2.find_all(&StateKey::Peer(ip), |_| true))
            .filter(|s| self.p2.get(s).is_some_and(|x| self.p2_peer(x) == Some(ip)))
            .collect();
        crate::sort::sort(&mut v);
        v.dedup();
        v
    }
}
