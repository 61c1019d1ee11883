//! Road Warrior instances: the numbers that tell the peers of one `%any`
//! connection apart.
//!
//! A connection whose peer host is `%any` is a template.  Each peer address
//! that negotiates with it is an instance, numbered per template from 1 in
//! the order they come, as Openswan's `instance_serial`: status and log lines
//! name it `"rw"[3] 198.51.100.7`.  The number lives while any state of that
//! connection with that address does, and goes with the last one (a peer
//! that comes back later gets a new number).  The states keep the template's
//! name; the instance is found from the connection and the peer address.

use super::endpoint::Endpoint;
use std::collections::HashMap;
use std::net::IpAddr;

/// The instances of one template.
#[derive(Debug, Default)]
pub(crate) struct Template {
    /// The number the last instance got.
    last: u32,
    peers: HashMap<IpAddr, u32>,
}

/// Templates by connection name.
pub(crate) type Instances = HashMap<String, Template>;

impl Endpoint {
    pub(crate) fn is_template(&self, conn: &str) -> bool {
        self.conn(conn).is_some_and(|c| c.remote.host.is_none())
    }

    /// A state of `conn` with the peer at `ip` exists: the instance gets a
    /// number if `conn` is a template and it has none yet.
    pub(crate) fn note_instance(&mut self, conn: &str, ip: IpAddr) {
        if !self.is_template(conn) {
            return;
        }
        let t = match self.instances.get_mut(conn) {
            Some(t) => t,
            None => self.instances.entry(conn.to_string()).or_default(),
        };
        if !t.peers.contains_key(&ip) {
            t.last = t.last.wrapping_add(1).max(1);
            t.peers.insert(ip, t.last);
        }
    }

    /// A state of `conn` with the peer at `ip` went: the instance goes too
    /// if it was the last.
    pub(crate) fn release_instance(&mut self, conn: &str, ip: IpAddr) {
        if self.instance(conn, ip).is_none() {
            return;
        }
        let p1 = self.p1_with_peer(ip);
        let p2 = self.p2_with_peer(ip);
        let busy = p1
            .iter()
            .any(|s| self.p1.get(s).is_some_and(|s| s.conn == conn))
            || p2
                .iter()
                .any(|s| self.p2.get(s).is_some_and(|s| s.conn == conn));
        if !busy {
            if let Some(t) = self.instances.get_mut(conn) {
                t.peers.remove(&ip);
            }
        }
    }

    /// The instance number of template `conn` for the peer at `ip`.
    pub fn instance(&self, conn: &str, ip: IpAddr) -> Option<u32> {
        self.instances.get(conn)?.peers.get(&ip).copied()
    }

    /// The instances of `conn`, in number order: (number, peer address).
    pub fn instances_of(&self, conn: &str) -> Vec<(u32, IpAddr)> {
        let mut v: Vec<(u32, IpAddr)> = self
            .instances
            .get(conn)
            .map(|t| t.peers.iter().map(|(ip, n)| (*n, *ip)).collect())
            .unwrap_or_default();
        crate::sort::sort(&mut v);
        v
    }

    /// The instance state `serial` of `conn` belongs to, with its peer.
    pub(crate) fn instance_of_state(&self, conn: &str, serial: u64) -> Option<(u32, IpAddr)> {
        let ip = match self.p1.get(&serial) {
            Some(s) => s.remote.ip(),
            None => self.p2_peer(self.p2.get(&serial)?)?,
        };
        self.instance(conn, ip).map(|n| (n, ip))
    }

    /// `conn` was deleted: so are its instances' numbers.
    pub(crate) fn forget_instances(&mut self, conn: &str) {
        self.instances.remove(conn);
    }
}
