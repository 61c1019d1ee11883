//! The engine's connections, indexed: by name, in the order they were added
//! (which an MI1's choice among equals follows), and by the host addresses
//! an MI1 is matched on, so that adding, deleting and looking one up cost
//! the same with ten connections as with ten thousand.

use super::config::ConnConfig;
use super::wire::Identity;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

/// Which connections have local host `.0` and remote host `.1`
/// (`None`: a `%any` peer).
type Hosts = (IpAddr, Option<IpAddr>);

#[derive(Default)]
pub(crate) struct Conns {
    /// By order of addition; the key only grows, so a connection deleted
    /// and added again goes behind the others.
    by_order: BTreeMap<u64, ConnConfig>,
    by_name: HashMap<String, u64>,
    /// Connections with a local host address, by their two hosts.
    by_hosts: HashMap<Hosts, BTreeSet<u64>>,
    /// Connections with a local host address and a configured peer ID, by
    /// the two (what Main Mode's switch by ID looks up).
    by_peer_id: HashMap<(IpAddr, Identity), BTreeSet<u64>>,
    next: u64,
    /// Connections looked at so far (the scale tests count them).
    visits: Cell<u64>,
}

fn hosts(c: &ConnConfig) -> Option<Hosts> {
    Some((c.local.host?, c.remote.host))
}

fn peer_id(c: &ConnConfig) -> Option<(IpAddr, Identity)> {
    Some((c.local.host?, c.remote.id.clone()?))
}

impl Conns {
    fn visit(&self, n: usize) {
        self.visits.set(self.visits.get().saturating_add(n as u64));
    }

    #[cfg(test)]
    pub(crate) fn visits(&self) -> u64 {
        self.visits.get()
    }

    /// Adds `c`; `false` (and nothing added) if its name is taken.
    pub(crate) fn insert(&mut self, c: ConnConfig) -> bool {
        if self.by_name.contains_key(&c.name) {
            return false;
        }
        let key = self.next;
        self.next += 1;
        if let Some(h) = hosts(&c) {
            self.by_hosts.entry(h).or_default().insert(key);
        }
        if let Some(p) = peer_id(&c) {
            self.by_peer_id.entry(p).or_default().insert(key);
        }
        self.by_name.insert(c.name.clone(), key);
        self.by_order.insert(key, c);
        true
    }

    pub(crate) fn remove(&mut self, name: &str) -> Option<ConnConfig> {
        let key = self.by_name.remove(name)?;
        let c = self.by_order.remove(&key)?;
        if let Some(h) = hosts(&c) {
            if let Some(set) = self.by_hosts.get_mut(&h) {
                set.remove(&key);
                if set.is_empty() {
                    self.by_hosts.remove(&h);
                }
            }
        }
        if let Some(p) = peer_id(&c) {
            if let Some(set) = self.by_peer_id.get_mut(&p) {
                set.remove(&key);
                if set.is_empty() {
                    self.by_peer_id.remove(&p);
                }
            }
        }
        Some(c)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&ConnConfig> {
        self.visit(1);
        self.by_order.get(self.by_name.get(name)?)
    }

    /// Every connection, in the order added (a scan: each one counts as
    /// visited).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &ConnConfig> {
        self.by_order.values().inspect(|_| self.visit(1))
    }

    /// The first added connection with local host `local` and remote host
    /// `remote` (`None`: a `%any` peer).
    pub(crate) fn first_with_hosts(
        &self,
        local: IpAddr,
        remote: Option<IpAddr>,
    ) -> Option<&ConnConfig> {
        let key = self.by_hosts.get(&(local, remote))?.first()?;
        self.visit(1);
        self.by_order.get(key)
    }

    /// The connections with local host `local` whose peer ID is `id`, in
    /// the order added.
    pub(crate) fn with_peer_id(
        &self,
        local: IpAddr,
        id: &Identity,
    ) -> impl Iterator<Item = &ConnConfig> {
        self.in_order(self.by_peer_id.get(&(local, id.clone())))
    }

    /// The connections with local host `local` and remote host `remote`
    /// exactly, in the order added.
    pub(crate) fn with_hosts(
        &self,
        local: IpAddr,
        remote: IpAddr,
    ) -> impl Iterator<Item = &ConnConfig> {
        self.in_order(self.by_hosts.get(&(local, Some(remote))))
    }

    /// The connections of one index entry, in the order added.
    fn in_order<'a>(
        &'a self,
        keys: Option<&'a BTreeSet<u64>>,
    ) -> impl Iterator<Item = &'a ConnConfig> + 'a {
        keys.into_iter()
            .flatten()
            .inspect(|_| self.visit(1))
            .filter_map(|k| self.by_order.get(k))
    }

    /// The connections with local host `local` that take a peer at
    /// `remote` (theirs, or `%any`), in the order added.
    pub(crate) fn for_peer(
        &self,
        local: IpAddr,
        remote: IpAddr,
    ) -> impl Iterator<Item = &ConnConfig> {
        let exact = self.by_hosts.get(&(local, Some(remote)));
        let wild = self.by_hosts.get(&(local, None));
        let mut keys: Vec<u64> = exact
            .into_iter()
            .chain(wild)
            .flat_map(|s| s.iter().copied())
            .collect();
        crate::sort::sort(&mut keys);
        self.visit(keys.len());
        keys.into_iter().filter_map(|k| self.by_order.get(&k))
    }
}
