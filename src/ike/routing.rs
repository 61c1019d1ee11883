//! A connection's life in the kernel: `--route`/`--unroute`, its shunt,
//! HOLD while the kernel waits for a negotiation it asked for, the failure
//! shunt, and when the updown verbs run.
//!
//! The seed's story, decided here and carried out by the daemon:
//! - `--route` runs updown `prepare` and `route` and installs the
//!   connection's routed policy: %trap for a connection that negotiates
//!   (traffic makes the kernel hold the packets and ACQUIRE), `%pass`,
//!   `%drop` or `%reject` for a shunt connection;
//! - every connection has one reqid, used by its routed policy and by all
//!   its SAs, as libreswan does: an IPsec SA's policy *is* the routed policy
//!   with SAs behind it, so establishing or losing an SA changes no policy,
//!   and the kernel's larval ACQUIRE state (which has the policy's reqid) is
//!   replaced by the negotiated outbound SA instead of lingering;
//! - an IPsec SA coming up runs `prepare`/`route` if the route is not there
//!   yet, then `up`; the last one going runs `down`, and `unroute` unless
//!   `--route` keeps the route;
//! - a failed negotiation of a routed connection puts its failure shunt in
//!   place of the %trap (`fail erouted`) until an SA comes up again;
//! - two routed connections for the same clients cannot both be routed:
//!   the second takes the route over unless the first has an IPsec SA.

use super::endpoint::{CommandError, Endpoint, Event, Level};
use super::kernel::{
    Acquire, IpsecProto, KernelOp, Mode, PolicyAction, PolicySpec, ProtoSet, Selector,
};
use crate::ctl::Rc;
use std::fmt;
use std::net::IpAddr;
use std::time::Instant;

/// The updown verbs (spec §3.1), the operation part of `PLUTO_VERB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verb {
    /// Delete a stale route before pluto installs its own (failure ignored).
    Prepare,
    /// Install the route toward the peer's client.
    Route,
    /// Remove that route.
    Unroute,
    /// A tunnel eroute for an IPsec SA was installed (firewall hook).
    Up,
    /// That eroute was removed (firewall hook).
    Down,
}

impl Verb {
    /// Every verb, in the order of the spec's table.
    pub const ALL: [Verb; 5] = [
        Verb::Prepare,
        Verb::Route,
        Verb::Unroute,
        Verb::Up,
        Verb::Down,
    ];

    /// The verb as it starts `PLUTO_VERB` (`prepare`, `route`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Prepare => "prepare",
            Verb::Route => "route",
            Verb::Unroute => "unroute",
            Verb::Up => "up",
            Verb::Down => "down",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a connection stands in the kernel: the routing story of `--status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteStory {
    Unrouted,
    /// Routed, no SA: its shunt (%trap, ...) is in place.
    Prospective,
    /// Routed, the kernel caught traffic and holds it while we negotiate.
    Hold,
    /// Routed, a negotiation failed: the failure shunt is in place.
    Fail,
    /// An IPsec SA carries the clients' traffic, the route is there.
    Erouted,
    /// An IPsec SA, but nobody asked for the route (`--initiate` alone).
    KeyedUnrouted,
}

impl RouteStory {
    pub fn text(self) -> &'static str {
        match self {
            RouteStory::Unrouted => "unrouted",
            RouteStory::Prospective => "prospective erouted",
            RouteStory::Hold => "erouted HOLD",
            RouteStory::Fail => "fail erouted",
            RouteStory::Erouted => "erouted",
            RouteStory::KeyedUnrouted => "keyed, unrouted",
        }
    }
}

/// One connection's place in the kernel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Routing {
    /// The reqid of its routed policy and of all its SAs.
    pub(crate) reqid: u32,
    /// `--route` asked for the routed policy.
    routed: bool,
    /// updown `route` ran for the peer's client (by `--route` or for an SA).
    route_done: bool,
    /// updown `up` ran: an IPsec SA carries the clients' traffic.
    up_done: bool,
    /// A negotiation the kernel asked for (ACQUIRE) is under way.
    hold: bool,
    /// The failure shunt replaced the %trap after a failed negotiation.
    fail_shunt: bool,
}

impl Endpoint {
    /// A reqid no other connection has: 1..=0x3fff, the range PF_KEY lets
    /// a policy name its SAs by (larger ones the kernel replaces by its own).
    pub(crate) fn new_reqid(&mut self, conn: &str) -> u32 {
        for _ in 0..0x3fff {
            let r = self.next_reqid;
            self.next_reqid = if r >= 0x3fff { 1 } else { r + 1 };
            if let std::collections::hash_map::Entry::Vacant(v) = self.reqid_owner.entry(r) {
                v.insert(conn.to_string());
                return r;
            }
        }
        // Every reqid is taken (16383 connections): share one. SAs still
        // work; only which SA an ACQUIRE is for becomes ambiguous.
        self.next_reqid
    }

    /// True when `--route` asked for `conn`'s routed policy.
    pub(crate) fn is_routed(&self, conn: &str) -> bool {
        self.routing.get(conn).is_some_and(|r| r.routed)
    }

    /// The reqid of `conn`'s SAs and policies.
    pub(crate) fn conn_reqid(&self, conn: &str) -> u32 {
        self.routing.get(conn).map_or(0, |r| r.reqid)
    }

    pub(crate) fn add_routing(&mut self, conn: &str) {
        let reqid = self.new_reqid(conn);
        self.routing.insert(
            conn.to_string(),
            Routing {
                reqid,
                ..Routing::default()
            },
        );
    }

    /// `conn` is going: its route and routed policy go with it.
    pub(crate) fn remove_routing(&mut self, conn: &str) {
        self.unroute_now(conn);
        if let Some(r) = self.routing.remove(conn) {
            if self.reqid_owner.get(&r.reqid).is_some_and(|o| o == conn) {
                self.reqid_owner.remove(&r.reqid);
            }
        }
    }

    /// How `conn` stands in the kernel (`--status`).
    pub fn route_story(&self, conn: &str) -> RouteStory {
        let Some(r) = self.routing.get(conn) else {
            return RouteStory::Unrouted;
        };
        match self.eroute_owner(conn) {
            Some(_) if r.routed || r.route_done => RouteStory::Erouted,
            Some(_) => RouteStory::KeyedUnrouted,
            None if r.fail_shunt => RouteStory::Fail,
            None if r.routed && r.hold => RouteStory::Hold,
            None if r.routed => RouteStory::Prospective,
            None => RouteStory::Unrouted,
        }
    }

    /// The policy `--route` installs for `conn` (its clients, or hosts, and
    /// IPsec template), doing `action`. `None` for a connection without a
    /// fixed peer, or one that would protect nothing.
    pub(crate) fn routed_policy(&self, conn: &str, action: PolicyAction) -> Option<PolicySpec> {
        let c = self.conn(conn)?;
        let us = c.local.host?;
        // An opportunistic template's %trap covers the whole peer range in
        // transport mode with no peer: the kernel's ACQUIRE then carries
        // the packet's own addresses (a tunnel template would carry its
        // unknown end), which is what the gateway is looked up for.
        let oe = c.policy.opportunistic && c.remote.host.is_none();
        let peer = match (c.remote.host, oe) {
            (Some(p), _) => p,
            (None, true) => unspecified(us),
            (None, false) => return None,
        };
        let mut protos = ProtoSet::default();
        if c.policy.compress {
            protos.insert(IpsecProto::Ipcomp);
        }
        if c.policy.encrypt {
            protos.insert(IpsecProto::Esp);
        }
        if c.policy.authenticate {
            protos.insert(IpsecProto::Ah);
        }
        if protos.is_empty() && c.policy.shunt == PolicyAction::Ipsec {
            return None;
        }
        Some(PolicySpec {
            src_sel: c.local.client.unwrap_or_else(|| Selector::host(us)),
            dst_sel: c.remote.client.unwrap_or_else(|| Selector::host(peer)),
            inbound: false,
            mode: if c.policy.tunnel && !oe {
                Mode::Tunnel
            } else {
                Mode::Transport
            },
            src_gw: us,
            dst_gw: peer,
            protos,
            reqid: self.conn_reqid(conn),
            action,
            if_id: c.if_id,
        })
    }

    /// True while an established IPsec SA of `conn` exists.
    pub(crate) fn keyed(&self, conn: &str) -> bool {
        self.newest_p2(conn).is_some()
    }

    fn updown(&mut self, conn: &str, verbs: &[Verb]) {
        if verbs.is_empty() || self.is_oe(conn) {
            return;
        }
        self.events.push_back(Event::Updown {
            conn: conn.to_string(),
            verbs: verbs.to_vec(),
        });
    }

    /// The daemon ran `verb` for `conn` and it failed (and, for `route`,
    /// whether the `up` after it was cancelled): the route or `up` is not
    /// there after all, so the next SA or `--route` asks for it again.
    pub fn updown_failed(&mut self, conn: &str, verb: Verb, up_cancelled: bool) {
        let Some(r) = self.routing.get_mut(conn) else {
            return;
        };
        match verb {
            Verb::Route => {
                r.route_done = false;
                if up_cancelled {
                    r.up_done = false;
                }
            }
            Verb::Up => r.up_done = false,
            Verb::Prepare | Verb::Unroute | Verb::Down => {}
        }
    }

    fn install_policy(&mut self, p: PolicySpec) {
        let req = self.next_req;
        self.next_req += 1;
        self.kernel_ops.push_back(KernelOp::Install {
            req,
            sas: Vec::new(),
            policies: vec![p],
        });
    }

    /// `--route NAME`.
    pub(crate) fn route(&mut self, now: Instant, name: &str) -> Result<(), CommandError> {
        let Some(c) = self.conn(name) else {
            return Err(CommandError::UnknownName(name.to_string()));
        };
        let shunt = c.policy.shunt;
        let Some(policy) = self.routed_policy(name, shunt) else {
            return Err(CommandError::CannotRoute(
                name.to_string(),
                "cannot route a connection without IPsec policy or with an unknown peer".into(),
            ));
        };
        self.take_route_over(now, name, &policy)?;
        let keyed = self.keyed(name);
        let Some(r) = self.routing.get_mut(name) else {
            return Err(CommandError::UnknownName(name.to_string()));
        };
        let run_route = !r.route_done;
        r.route_done = true;
        r.routed = true;
        r.fail_shunt = false;
        r.hold = false;
        if run_route {
            self.updown(name, &[Verb::Prepare, Verb::Route]);
        }
        // With an SA up its policy is already this one, with SAs behind it.
        if !keyed {
            let req = self.next_req;
            self.next_req += 1;
            self.route_reqs.insert(req, name.to_string());
            self.kernel_ops.push_back(KernelOp::Install {
                req,
                sas: Vec::new(),
                policies: vec![policy],
            });
        }
        Ok(())
    }

    /// The seed's eroute conflict at `--route`: another routed connection
    /// for the same clients gives its route up, unless an IPsec SA of it
    /// uses the route.
    fn take_route_over(
        &mut self,
        _now: Instant,
        name: &str,
        policy: &PolicySpec,
    ) -> Result<(), CommandError> {
        let rival = self
            .routing
            .iter()
            .filter(|(n, r)| n.as_str() != name && r.routed)
            .map(|(n, _)| n.clone())
            .find(|n| {
                self.routed_policy(n, PolicyAction::Ipsec)
                    .is_some_and(|p| p.src_sel == policy.src_sel && p.dst_sel == policy.dst_sel)
            });
        let Some(rival) = rival else { return Ok(()) };
        if self.keyed(&rival) {
            return Err(CommandError::CannotRoute(
                name.to_string(),
                format!("cannot route: \"{rival}\" routes the same clients and has an IPsec SA"),
            ));
        }
        self.log(
            Level::Info,
            Some(name),
            None,
            Some(Rc::Log),
            format!("unrouting \"{rival}\", which routes the same clients"),
        );
        if let Some(r) = self.routing.get_mut(&rival) {
            // Its policy is replaced by ours, and its updown route (to the
            // same peer client) now serves `name`.
            r.routed = false;
            r.route_done = false;
            r.fail_shunt = false;
            r.hold = false;
        }
        Ok(())
    }

    /// `--unroute NAME`.
    pub(crate) fn unroute(&mut self, now: Instant, name: &str) -> Result<(), CommandError> {
        if !self.routing.contains_key(name) {
            return Err(CommandError::UnknownName(name.to_string()));
        }
        if self.keyed(name) {
            return Err(CommandError::RouteBusy(name.to_string()));
        }
        self.oe_forget(now, name);
        self.unroute_now(name);
        Ok(())
    }

    /// Takes `name`'s routed policy and route away (no SA is left to use them).
    fn unroute_now(&mut self, name: &str) {
        let Some(r) = self.routing.get(name).cloned() else {
            return;
        };
        if r.routed && !self.keyed(name) {
            if let Some(p) = self.routed_policy(name, PolicyAction::Ipsec) {
                self.kernel_ops.push_back(KernelOp::DeletePolicy(p));
            }
        }
        if r.route_done {
            self.updown(name, &[Verb::Unroute]);
        }
        if let Some(r) = self.routing.get_mut(name) {
            r.routed = false;
            r.route_done = false;
            r.fail_shunt = false;
            r.hold = false;
        }
    }

    /// Every state goes (established ones tell their peers), then every
    /// route: the kernel is left as pluto found it.
    pub(crate) fn shutdown(&mut self, now: Instant) {
        let names: Vec<String> = self.conns.iter().map(|c| c.name.clone()).collect();
        for n in &names {
            // Opportunistic failure shunts are no connection's routed policy.
            self.oe_forget(now, n);
            self.terminate(now, n);
        }
        for n in &names {
            self.unroute_now(n);
        }
    }

    /// The kernel caught traffic for a routed connection: negotiate it,
    /// unless a negotiation of it is already under way.
    pub fn handle_acquire(&mut self, now: Instant, acq: Acquire) {
        self.clock = Some(now);
        self.acquire(now, acq);
        self.settle();
    }

    fn acquire(&mut self, now: Instant, acq: Acquire) {
        let by_reqid = acq.reqid.filter(|r| *r != 0).and_then(|reqid| {
            let owner = self.reqid_owner.get(&reqid).filter(|n| self.is_routed(n));
            // Past 0x3fff connections reqids are shared (`new_reqid`):
            // then any routed one with it will do, as the owner's.
            let shared = || {
                (self.routing.len() > 0x3fff)
                    .then(|| {
                        self.routing
                            .iter()
                            .find(|(_, r)| r.reqid == reqid && r.routed)
                            .map(|(n, _)| n)
                    })
                    .flatten()
            };
            owner.or_else(shared).cloned()
        });
        let name = by_reqid.or_else(|| {
            self.routing
                .iter()
                .filter(|(_, r)| r.routed)
                .map(|(n, _)| n.clone())
                .find(|n| {
                    self.routed_policy(n, PolicyAction::Ipsec)
                        .is_some_and(|p| p.src_gw == acq.src && p.dst_gw == acq.dst)
                })
        });
        let Some(name) = name else {
            self.log(
                Level::Debug,
                None,
                None,
                None,
                format!(
                    "kernel: ACQUIRE {} -> {} (reqid {:?}) matches no routed connection",
                    acq.src, acq.dst, acq.reqid
                ),
            );
            return;
        };
        if self.is_oe_template(&name) {
            return self.oe_acquire(&name, acq.src, acq.dst);
        }
        let trap = self
            .conn(&name)
            .is_some_and(|c| c.policy.shunt == PolicyAction::Ipsec && !c.policy.never_negotiate());
        if !trap || self.negotiating(&name) {
            return;
        }
        self.log(
            Level::Info,
            Some(&name),
            None,
            None,
            "initiate on demand: the kernel caught traffic for it".into(),
        );
        if let Some(r) = self.routing.get_mut(&name) {
            r.hold = true;
        }
        if let Err(e) = self.initiate(now, &name, 1) {
            self.log(
                Level::Info,
                Some(&name),
                None,
                None,
                format!("cannot initiate on demand: {e}"),
            );
        }
    }

    /// The kernel answered an install of a routed policy (`--route`).
    /// Returns false when `req` was not one.
    pub(crate) fn route_answered(&mut self, req: u64, refusal: Option<String>) -> bool {
        let Some(name) = self.route_reqs.remove(&req) else {
            return false;
        };
        if let Some(reason) = refusal {
            self.log(
                Level::Error,
                Some(&name),
                None,
                Some(Rc::Route),
                format!("could not route: {reason}"),
            );
            if let Some(r) = self.routing.get_mut(&name) {
                r.routed = false;
            }
        }
        true
    }

    /// An IPsec SA of `conn` is established: the route (if not there yet)
    /// and `up`; the SA's policy has replaced any failure shunt.
    pub(crate) fn routing_sa_up(&mut self, conn: &str) {
        let Some(r) = self.routing.get_mut(conn) else {
            return;
        };
        r.hold = false;
        r.fail_shunt = false;
        let (run_route, run_up) = (!r.route_done, !r.up_done);
        r.route_done = true;
        r.up_done = true;
        let mut verbs = Vec::new();
        if run_route {
            verbs.extend([Verb::Prepare, Verb::Route]);
        }
        if run_up {
            verbs.push(Verb::Up);
        }
        self.updown(conn, &verbs);
    }

    /// An IPsec state of `conn` is gone: after its last SA, `down`, and
    /// `unroute` unless `--route` keeps the route.
    pub(crate) fn routing_sa_gone(&mut self, conn: &str) {
        if self.keyed(conn) {
            return;
        }
        let Some(r) = self.routing.get_mut(conn) else {
            return;
        };
        let (was_up, unroute) = (r.up_done, r.route_done && !r.routed);
        r.up_done = false;
        if unroute {
            r.route_done = false;
        }
        let mut verbs = Vec::new();
        if was_up {
            verbs.push(Verb::Down);
        }
        if unroute {
            verbs.push(Verb::Unroute);
        }
        self.updown(conn, &verbs);
    }

    /// A negotiation of `conn` failed: a routed connection with a failure
    /// shunt gets it in place of its %trap, unless an IPsec SA of it still
    /// carries the traffic.
    pub(crate) fn routing_failed(&mut self, conn: &str) {
        let keyed = self.keyed(conn);
        let shunt = self.conn(conn).and_then(|c| c.policy.failure_shunt);
        let Some(r) = self.routing.get_mut(conn) else {
            return;
        };
        r.hold = false;
        let Some(shunt) = shunt else { return };
        if !r.routed || keyed || r.fail_shunt {
            return;
        }
        r.fail_shunt = true;
        if let Some(p) = self.routed_policy(conn, shunt) {
            self.install_policy(p);
        }
        self.log(
            Level::Info,
            Some(conn),
            None,
            None,
            format!(
                "negotiation failed: failure shunt {} installed",
                shunt.name()
            ),
        );
    }

    /// The outbound policy `p` lost its last SA: a routed connection's
    /// shunt comes back in its place (a %trap that is the same policy just
    /// stays). Returns false when `p` is not `conn`'s routed policy.
    pub(crate) fn routed_policy_back(&mut self, conn: &str, p: &PolicySpec) -> bool {
        if p.inbound || !self.routing.get(conn).is_some_and(|r| r.routed) {
            return false;
        }
        let Some(shunt) = self.conn(conn).map(|c| c.policy.shunt) else {
            return false;
        };
        let Some(routed) = self.routed_policy(conn, shunt) else {
            return false;
        };
        if routed.src_sel != p.src_sel || routed.dst_sel != p.dst_sel {
            return false;
        }
        if routed != *p {
            self.install_policy(routed);
        }
        true
    }
}

/// The unspecified address of `a`'s family.
pub(crate) fn unspecified(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    }
}
