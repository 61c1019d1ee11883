//! Which IPsec state owns each kernel policy (eroute).
//!
//! The kernel keys a policy by its selectors and direction: installing one
//! for the same clients replaces the one before, and deleting removes
//! whatever is there. So during a rekey the new SA takes the outbound
//! traffic over (the seed: "all its outgoing traffic is taken over by the
//! new eroute"), and when the old SA goes its policy must not be deleted,
//! or the new SA would lose its traffic. The engine therefore remembers the
//! owner of every policy it installed, deletes a policy only when its owner
//! goes, and then hands it back to another live SA of the same connection
//! if there is one.
//!
//! Two different connections with the same clients conflict (the seed's
//! eroute conflict): as responder the newer negotiation wins and the older
//! connection's SAs are deleted (the peer is probably a road warrior that
//! came back); as initiator the install is refused.

use super::endpoint::{Endpoint, Level};
use super::kernel::{KernelOp, PolicySpec, Selector};
use super::state::Role;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::time::Instant;

/// The kernel's identity of a policy: its selectors and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PolicyKey {
    src: Selector,
    dst: Selector,
    inbound: bool,
}

impl PolicyKey {
    pub(crate) fn of(p: &PolicySpec) -> PolicyKey {
        PolicyKey {
            src: p.src_sel,
            dst: p.dst_sel,
            inbound: p.inbound,
        }
    }
}

/// The state that owns each policy we installed, by a keyed 64-bit hash of
/// its [`PolicyKey`]: every tunnel keeps two entries for as long as it
/// lives, 24 bytes each instead of 64. Two policies share a hash by a
/// 2^-64 chance that nobody can raise (the key is random).
#[derive(Default)]
pub(crate) struct Owners {
    map: HashMap<u64, Owner>,
    hasher: RandomState,
}

#[derive(Debug, Clone, Copy)]
struct Owner {
    serial: u64,
    inbound: bool,
}

impl Owners {
    fn hash(&self, k: &PolicyKey) -> u64 {
        self.hasher.hash_one(k)
    }

    /// The state that owns the policy `k`.
    fn get(&self, k: &PolicyKey) -> Option<u64> {
        self.map.get(&self.hash(k)).map(|o| o.serial)
    }

    fn insert(&mut self, k: &PolicyKey, serial: u64) {
        let owner = Owner {
            serial,
            inbound: k.inbound,
        };
        self.map.insert(self.hash(k), owner);
    }

    fn remove(&mut self, k: &PolicyKey) {
        self.map.remove(&self.hash(k));
    }

    /// The owners of outbound policies (with repeats).
    fn outbound(&self) -> impl Iterator<Item = u64> + '_ {
        (self.map.values()).filter(|o| !o.inbound).map(|o| o.serial)
    }
}

impl Endpoint {
    /// The kernel confirmed `policies` for state `serial`: it owns them now.
    pub(crate) fn policies_installed(&mut self, serial: u64, policies: &[PolicySpec]) {
        for p in policies {
            self.eroute_owner.insert(&PolicyKey::of(p), serial);
        }
    }

    /// The state that owns the outbound policy of `conn`, if any (`--status`:
    /// "eroute owner").
    pub fn eroute_owner(&self, conn: &str) -> Option<u64> {
        (self.eroute_owner.outbound())
            .filter(|s| self.p2.get(s).is_some_and(|st| st.conn == conn))
            .max()
    }

    /// The IPsec states that own an outbound eroute (one pass over them).
    pub fn eroute_owner_serials(&self) -> std::collections::HashSet<u64> {
        self.eroute_owner.outbound().collect()
    }

    /// State `serial` is going with these policies: delete the ones it owns,
    /// or hand them to another live SA of its connection that has the same
    /// clients. Policies another state took over are left alone.
    pub(crate) fn release_policies(&mut self, serial: u64, conn: &str, policies: Vec<PolicySpec>) {
        let mut handover = Vec::new();
        for p in policies {
            let key = PolicyKey::of(&p);
            if self.eroute_owner.get(&key) != Some(serial) {
                continue;
            }
            self.eroute_owner.remove(&key);
            let heir = self
                .p2
                .find_last(&super::peers::conn_key(conn, true), |s| {
                    s.serial != serial
                        && s.conn == conn
                        && s.kind.is_established()
                        && s.policies.iter().any(|q| PolicyKey::of(q) == key)
                })
                .and_then(|h| self.p2.get(&h))
                .and_then(|s| {
                    s.policies
                        .iter()
                        .find(|q| PolicyKey::of(q) == key)
                        .map(|q| (s.serial, q.clone()))
                });
            match heir {
                Some((s, q)) => {
                    self.eroute_owner.insert(&key, s);
                    handover.push(q);
                }
                None => {
                    if !self.routed_policy_back(conn, &p) {
                        self.kernel_ops.push_back(KernelOp::DeletePolicy(p));
                    }
                }
            }
        }
        if !handover.is_empty() {
            let req = self.next_req;
            self.next_req += 1;
            self.kernel_ops.push_back(KernelOp::Install {
                req,
                sas: Vec::new(),
                policies: handover,
            });
        }
    }

    /// Before state `serial` (of `conn`, in `role`) installs `policies`: a
    /// live SA of another connection that owns the same clients' policy is
    /// deleted when we are the responder; as initiator the conflict is
    /// returned (and nothing is installed).
    pub(crate) fn resolve_eroute_conflicts(
        &mut self,
        now: Instant,
        serial: u64,
        conn: &str,
        role: Role,
        policies: &[PolicySpec],
    ) -> Result<(), String> {
        // Two instances of one template are different connections too (the
        // states keep the template's name): the peer tells them apart.
        let peer = self.p2.get(&serial).and_then(|s| self.p2_peer(s));
        let mut rivals: Vec<(u64, String, Option<IpAddr>)> = policies
            .iter()
            .filter_map(|p| self.eroute_owner.get(&PolicyKey::of(p)))
            .filter_map(|s| self.p2.get(&s))
            .map(|s| (s.serial, s.conn.clone(), self.p2_peer(s)))
            .filter(|(s, c, ip)| *s != serial && (c != conn || *ip != peer))
            .collect();
        crate::sort::sort(&mut rivals);
        rivals.dedup();
        let mut unoriented: Vec<(String, IpAddr)> = Vec::new();
        for (rival, rival_conn, rival_peer) in rivals {
            if role == Role::Initiator {
                return Err(format!(
                    "eroute conflicts with \"{rival_conn}\" #{rival}, which carries the same clients"
                ));
            }
            if let Some(ip) = rival_peer.filter(|_| self.is_template(&rival_conn)) {
                // Once per instance, whichever of its states owned the eroute.
                if !unoriented.contains(&(rival_conn.clone(), ip)) {
                    self.unorient(now, (serial, peer), &rival_conn, rival, ip);
                    unoriented.push((rival_conn, ip));
                }
                continue;
            }
            self.log(
                Level::Info,
                Some(conn),
                Some(serial),
                None,
                format!(
                    "deleting \"{rival_conn}\" #{rival}: its eroute is for the same clients \
                     (the responder's newer SA replaces it)"
                ),
            );
            self.delete_phase2(now, rival, true);
        }
        Ok(())
    }

    /// The seed's rule for a Road Warrior connection with a fixed client:
    /// a negotiation (state `by.0`, with the peer `by.1`) for that client
    /// unorients every other instance with it, here the one of template
    /// `conn` with the peer at `ip` whose IPsec state `rival` holds the
    /// eroute: all its states go, with Deletes, and the instance with them.
    fn unorient(
        &mut self,
        now: Instant,
        by: (u64, Option<IpAddr>),
        conn: &str,
        rival: u64,
        ip: IpAddr,
    ) {
        let (serial, from) = by;
        let from = from.map_or_else(String::new, |p| format!(" from {p}"));
        let text = format!(
            "unorienting this instance: #{serial}{from} negotiates its clients (#{rival}'s eroute)"
        );
        self.log(Level::Info, Some(conn), Some(rival), None, text);
        let p2: Vec<u64> = self
            .p2_with_peer(ip)
            .into_iter()
            .filter(|s| self.p2.get(s).is_some_and(|x| x.conn == conn))
            .collect();
        for s in p2 {
            self.delete_phase2(now, s, true);
        }
        let p1: Vec<u64> = self
            .p1_with_peer(ip)
            .into_iter()
            .filter(|s| self.p1.get(s).is_some_and(|x| x.conn == conn))
            .collect();
        for s in p1 {
            self.delete_phase1(now, s, true);
        }
    }
}
