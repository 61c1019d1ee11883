//! pluto's connections by name, listed in the order `--status` shows them
//! and `--listen` hands them to the engine: by name, ignoring ASCII case,
//! equal names in the order added. A lookup, an add and a delete cost the
//! same with ten connections as with ten thousand.

use super::conns::Conn;
use std::collections::{BTreeMap, HashMap};

/// Where a connection sorts: its name in lower case, then when it came.
type SortKey = (String, u64);

#[derive(Default)]
pub struct ConnDb {
    sorted: BTreeMap<SortKey, Conn>,
    /// name -> the second half of its sort key.
    added: HashMap<String, u64>,
    next: u64,
}

impl ConnDb {
    fn key(&self, name: &str) -> Option<SortKey> {
        let seq = *self.added.get(name)?;
        Some((name.to_ascii_lowercase(), seq))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.added.contains_key(name)
    }

    pub fn get(&self, name: &str) -> Option<&Conn> {
        self.sorted.get(&self.key(name)?)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Conn> {
        let key = self.key(name)?;
        self.sorted.get_mut(&key)
    }

    /// Adds `c`; `false` (nothing added) when its name is taken.
    pub fn insert(&mut self, c: Conn) -> bool {
        if self.contains(&c.name) {
            return false;
        }
        let seq = self.next;
        self.next += 1;
        self.added.insert(c.name.clone(), seq);
        self.sorted.insert((c.name.to_ascii_lowercase(), seq), c);
        true
    }

    pub fn remove(&mut self, name: &str) -> Option<Conn> {
        let key = self.key(name)?;
        self.added.remove(name);
        self.sorted.remove(&key)
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// In status order.
    pub fn iter(&self) -> impl Iterator<Item = &Conn> {
        self.sorted.values()
    }

    /// The names, in status order.
    pub fn names(&self) -> Vec<String> {
        self.iter().map(|c| c.name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(name: &str) -> Conn {
        Conn {
            name: name.into(),
            desc: crate::ctl::Connection::default(),
            left_is_us: None,
            loaded: false,
            up: false,
        }
    }

    #[test]
    fn sorted_by_name_ignoring_case_then_by_age() {
        let mut db = ConnDb::default();
        for n in ["b", "B", "a", "C", "c", "A"] {
            assert!(db.insert(conn(n)));
        }
        assert!(!db.insert(conn("B")));
        assert_eq!(db.names(), ["a", "A", "b", "B", "C", "c"]);
        assert!(db.contains("C") && !db.contains("d"));
        assert_eq!(db.remove("b").map(|c| c.name), Some("b".into()));
        assert!(db.remove("b").is_none() && db.get("b").is_none());
        // Back again: behind the one of equal name that stayed.
        assert!(db.insert(conn("b")));
        assert_eq!(db.names(), ["a", "A", "B", "b", "C", "c"]);
        if let Some(c) = db.get_mut("c") {
            c.up = true;
        }
        assert!(db.get("c").is_some_and(|c| c.up));
        assert!(db.get("C").is_some_and(|c| !c.up));
        for n in db.names() {
            assert!(db.remove(&n).is_some());
        }
        assert!(db.is_empty());
    }
}
