//! Opportunistic Encryption, as FreeS/WAN did it with keys in DNS.
//!
//! A connection whose peer is `%opportunistic` is a template over a whole
//! peer range (`0.0.0.0/0` unless `--client` says otherwise). Routed, its
//! %trap covers our client to that range in transport mode without a peer,
//! so that the kernel's ACQUIRE names the packet's own source and
//! destination. Then:
//!
//! - the initiator looks up the destination's reverse-map name (TXT
//!   `X-IPsec-Server(...)=GATEWAY [KEY]`, IPSECKEY); the best record with a
//!   gateway address gives the peer. An instance of the template is made
//!   for that pair of clients (`"oe[1]"`: our end the source, or our host;
//!   the peer's the destination, or the gateway itself), routed (its own
//!   %trap, later its SA's policy, and its failure shunt if it fails) and
//!   negotiated; the gateway's key comes from DNS on demand at MR3. No
//!   gateway found: the template's failure shunt goes in for that pair
//!   alone (`%pass` for clear-or-private), or, without one, nothing, and
//!   the kernel keeps holding the flow until its ACQUIRE times out;
//! - the responder takes the peer's Main Mode under the template (its key
//!   from DNS on demand) and, at QI1, admits the clients named: ours must
//!   lie within the template's, and the peer's must be the peer itself or
//!   an address whose reverse-map records name the peer as its gateway
//!   (the QI1 waits for that lookup). Admitted, an instance for the pair is
//!   made and Quick Mode goes on under it. An instance we made as
//!   responder goes with its last state.
//!
//! Instances and failure shunts go when their template is unrouted or
//! deleted. No updown command runs for a template or its instances: the
//! kernel's policies carry the traffic (the routing table is left alone,
//! where a route for the whole range would replace the default one).

use super::dnskey::{KeyRequest, Purpose};
use super::endpoint::{Endpoint, Level};
use super::kernel::{IpsecProto, KernelOp, Mode, PolicySpec, Selector};
use crate::dns::keys::{key_records, reverse_name};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// Instances and failure shunts at most, over all templates: past that,
/// traffic to a new destination stays held (the kernel drops it), logged.
pub const MAX_INSTANCES: usize = 1024;

#[derive(Default)]
pub(crate) struct Oppo {
    next: u32,
    /// Instances by name.
    pub(crate) instances: HashMap<String, Instance>,
    /// (template, source, destination) whose gateway is being looked up.
    pending: Vec<(String, IpAddr, IpAddr)>,
    /// (ISAKMP SA, client) whose gateway a parked QI1 waits for ...
    checking: Vec<(u64, IpAddr)>,
    /// ... and those DNS did not give the peer: their QI1 is refused once.
    refused: Vec<(u64, IpAddr)>,
    /// Failure shunts for pairs without a gateway, by template.
    shunts: Vec<(String, PolicySpec)>,
}

pub(crate) struct Instance {
    pub(crate) template: String,
    /// Made by us as responder: it goes with its last state.
    responder: bool,
    src: Selector,
    dst: Selector,
}

/// What QI1's clients are to an opportunistic template.
pub(crate) enum Admission {
    /// An instance for them exists (now): Quick Mode goes on under it.
    Instance,
    /// The QI1 waits for DNS.
    Waiting,
    /// Not admitted; why.
    Refused(String),
}

fn covers(outer: &Selector, a: IpAddr) -> bool {
    outer.contains(&Selector::host(a))
}

impl Endpoint {
    /// Logs `text` for `conn` (one call shape for this file's notes).
    #[inline(never)]
    fn oe_note(&mut self, conn: &str, text: String) {
        self.log(Level::Info, Some(conn), None, None, text);
    }

    /// An opportunistic template: `%opportunistic` peer, no host.
    pub(crate) fn is_oe_template(&self, conn: &str) -> bool {
        self.conn(conn)
            .is_some_and(|c| c.policy.opportunistic && c.remote.host.is_none())
    }

    /// A template or an instance of one: no updown runs for these.
    pub(crate) fn is_oe(&self, conn: &str) -> bool {
        self.oppo.instances.contains_key(conn) || self.is_oe_template(conn)
    }

    /// `--oppohere`/`--oppothere`: the routed template covering the pair
    /// (the most specific, the first added among equals) acts as on an
    /// ACQUIRE.
    pub(crate) fn oe_initiate(
        &mut self,
        here: IpAddr,
        there: IpAddr,
    ) -> Result<(), super::command::CommandError> {
        let template = (self.conns.iter())
            .filter(|c| self.is_oe_template(&c.name) && self.is_routed(&c.name))
            .filter_map(|c| {
                let ours = c
                    .local
                    .client
                    .or_else(|| c.local.host.map(Selector::host))?;
                let theirs = c.remote.client?;
                (covers(&ours, here) && covers(&theirs, there)).then(|| {
                    (
                        u32::from(ours.prefix) + u32::from(theirs.prefix),
                        c.name.clone(),
                    )
                })
            })
            .fold(None::<(u32, String)>, |best, x| match best {
                Some(b) if b.0 >= x.0 => Some(b),
                _ => Some(x),
            });
        let Some((_, conn)) = template else {
            return Err(super::command::CommandError::NoOppo(here, there));
        };
        self.oe_acquire(&conn, here, there);
        Ok(())
    }

    /// The kernel caught traffic from `src` to `dst` under template `conn`.
    pub(crate) fn oe_acquire(&mut self, conn: &str, src: IpAddr, dst: IpAddr) {
        let known =
            |t: &str, s: &Selector, d: &Selector| t == conn && covers(s, src) && covers(d, dst);
        if self
            .oppo
            .pending
            .iter()
            .any(|(t, s, d)| t == conn && *s == src && *d == dst)
            || (self.oppo.instances.values()).any(|i| known(&i.template, &i.src, &i.dst))
            || (self.oppo.shunts.iter()).any(|(t, p)| known(t, &p.src_sel, &p.dst_sel))
        {
            return;
        }
        let name = reverse_name(dst);
        self.oe_note(
            conn,
            format!(
                "initiate on demand from {src} to {dst}: looking up its gateway in DNS ({name})"
            ),
        );
        let purpose = Purpose::Gateway {
            conn: conn.to_string(),
            src,
            dst,
        };
        match self.ask_records(name, purpose) {
            Some(_) => self.oppo.pending.push((conn.to_string(), src, dst)),
            None => self.oe_note(
                conn,
                "too many DNS lookups in progress; the traffic stays held".into(),
            ),
        }
    }

    /// The records of the destination's reverse-map name came back.
    pub(crate) fn oe_gateway_answer(&mut self, now: Instant, req: KeyRequest) {
        let Purpose::Gateway { conn, src, dst } = req.purpose else {
            return;
        };
        self.oppo
            .pending
            .retain(|(t, s, d)| !(*t == conn && *s == src && *d == dst));
        if !self.is_routed(&conn) {
            return;
        }
        let (records, mut problems) = key_records(&req.records, &req.name);
        problems.extend(req.failures);
        let gw = records
            .iter()
            .filter_map(|r| r.gateway.addr())
            .find(|g| g.is_ipv4() == dst.is_ipv4());
        let Some(gw) = gw else {
            let mut text = format!("no gateway for {dst} in DNS ({})", req.name);
            if !problems.is_empty() {
                text.push_str(&format!(": {}", problems.join("; ")));
            }
            self.oe_note(&conn, text);
            self.oe_shunt(&conn, src, dst);
            return;
        };
        let Some(us) = self.conn(&conn).and_then(|c| c.local.host) else {
            return;
        };
        let mine = (src != us).then(|| Selector::host(src));
        let theirs = (dst != gw).then(|| Selector::host(dst));
        let Some(name) = self.oe_instantiate(&conn, gw, mine, theirs, false) else {
            return;
        };
        self.oe_note(
            &name,
            format!(
                "{dst} is behind {gw} (DNS {}): negotiating with it",
                req.name
            ),
        );
        if let Err(e) = self
            .route(now, &name)
            .and_then(|()| self.initiate(now, &name, 1))
        {
            self.oe_note(&name, format!("cannot initiate: {e}"));
        }
    }

    /// An instance of template `conn` with the peer at `gw` and these
    /// clients (`None`: the host itself).
    fn oe_instantiate(
        &mut self,
        conn: &str,
        gw: IpAddr,
        mine: Option<Selector>,
        theirs: Option<Selector>,
        responder: bool,
    ) -> Option<String> {
        let mut c = self.conn(conn)?.clone();
        let us = c.local.host?;
        if self.oppo.instances.len() + self.oppo.shunts.len() >= MAX_INSTANCES {
            self.oe_note(
                conn,
                format!("{MAX_INSTANCES} opportunistic instances and shunts exist already"),
            );
            return None;
        }
        self.oppo.next = self.oppo.next.wrapping_add(1);
        let name = format!("{conn}[{}]", self.oppo.next);
        c.name.clone_from(&name);
        c.policy.opportunistic = false;
        c.remote.host = Some(gw);
        c.remote.client = theirs;
        c.local.client = mine;
        c.key_from_dns = true;
        let src = mine.unwrap_or_else(|| Selector::host(us));
        let dst = theirs.unwrap_or_else(|| Selector::host(gw));
        self.add_routing(&name);
        self.conns.insert(c);
        self.oppo.instances.insert(
            name.clone(),
            super::oppo::Instance {
                template: conn.to_string(),
                responder,
                src,
                dst,
            },
        );
        Some(name)
    }

    /// No gateway for `dst`: the template's failure shunt for the pair.
    fn oe_shunt(&mut self, conn: &str, src: IpAddr, dst: IpAddr) {
        let Some(c) = self.conn(conn) else { return };
        // Past the limit the flow stays held, as without a failure shunt.
        let room = self.oppo.instances.len() + self.oppo.shunts.len() < MAX_INSTANCES;
        let (Some(action), Some(us), true) = (c.policy.failure_shunt, c.local.host, room) else {
            self.oe_note(
                conn,
                format!("no failure shunt: {src} -> {dst} stays held until the kernel gives up"),
            );
            return;
        };
        let p = PolicySpec {
            src_sel: Selector::host(src),
            dst_sel: Selector::host(dst),
            inbound: false,
            mode: Mode::Transport,
            src_gw: us,
            dst_gw: dst,
            protos: [IpsecProto::Esp].into_iter().collect(),
            reqid: self.conn_reqid(conn),
            action,
            if_id: c.if_id,
        };
        self.oe_note(
            conn,
            format!(
                "failure shunt {} installed for {src} -> {dst}",
                action.name()
            ),
        );
        self.kernel_ops.push_back(KernelOp::Install {
            req: self.next_req,
            sas: Vec::new(),
            policies: vec![p.clone()],
        });
        self.next_req += 1;
        self.oppo.shunts.push((conn.to_string(), p));
    }

    /// QI1 under template `conn` on ISAKMP SA `p1` names these clients:
    /// admit them, or wait for DNS to say whether the peer speaks for its
    /// client, or refuse.
    pub(crate) fn oe_admit(
        &mut self,
        conn: &str,
        p1: u64,
        theirs: Selector,
        ours: Selector,
        datagram: (SocketAddr, SocketAddr, &[u8]),
    ) -> Admission {
        let Some(c) = self.conn(conn) else {
            return Admission::Refused("connection vanished".into());
        };
        let (Some(us), Some(range)) = (c.local.host, c.remote.client) else {
            return Admission::Refused("template without host or peer range".into());
        };
        let Some(peer) = self.p1.get(&p1).map(|s| s.remote.ip()) else {
            return Admission::Refused("ISAKMP SA vanished".into());
        };
        let our_range = c.local.client.unwrap_or_else(|| Selector::host(us));
        let single = |s: &Selector| s.prefix == Selector::host(s.addr).prefix && s.protocol == 0;
        if !single(&theirs)
            || !single(&ours)
            || !our_range.contains(&ours)
            || !range.contains(&theirs)
        {
            return Admission::Refused(format!(
                "{}/{} <=> {}/{} are not single addresses within {}/{} <=> {}/{}",
                theirs.addr,
                theirs.prefix,
                ours.addr,
                ours.prefix,
                range.addr,
                range.prefix,
                our_range.addr,
                our_range.prefix
            ));
        }
        let exists = (self.oppo.instances.iter()).any(|(n, i)| {
            i.template == conn
                && i.src == ours
                && i.dst == theirs
                && self.conn(n).and_then(|c| c.remote.host) == Some(peer)
        });
        if exists {
            return Admission::Instance;
        }
        if theirs.addr != peer {
            if self.oppo.checking.contains(&(p1, theirs.addr)) {
                return Admission::Waiting;
            }
            if let Some(i) = (self.oppo.refused.iter()).position(|x| *x == (p1, theirs.addr)) {
                self.oppo.refused.swap_remove(i);
                return Admission::Refused(format!(
                    "DNS does not name {peer} as the gateway of {}",
                    theirs.addr
                ));
            }
            let name = reverse_name(theirs.addr);
            let (local, remote, data) = datagram;
            let purpose = Purpose::Client {
                p1,
                client: theirs.addr,
                ours,
                datagram: (local, remote, data.to_vec()),
            };
            self.log(
                Level::Info,
                Some(conn),
                Some(p1),
                None,
                format!(
                    "Quick Mode for client {}: asking DNS ({name}) whether {peer} is its gateway",
                    theirs.addr
                ),
            );
            return match self.ask_records(name, purpose) {
                Some(_) => {
                    self.oppo.checking.push((p1, theirs.addr));
                    Admission::Waiting
                }
                None => Admission::Refused("too many DNS lookups in progress".into()),
            };
        }
        let mine = (ours.addr != us).then_some(ours);
        match self.oe_instantiate(conn, peer, mine, None, true) {
            Some(_) => Admission::Instance,
            None => Admission::Refused("no instance could be made".into()),
        }
    }

    /// The records of a QI1's client came back: if they name the ISAKMP
    /// SA's peer as its gateway, the instance for the pair is made; the
    /// QI1 is read again either way (and refused if not admitted).
    pub(crate) fn oe_client_answer(&mut self, now: Instant, req: KeyRequest) {
        let Purpose::Client {
            p1,
            client,
            ours,
            datagram,
        } = req.purpose
        else {
            return;
        };
        self.oppo.checking.retain(|x| *x != (p1, client));
        let Some((conn, peer)) = self.p1.get(&p1).map(|s| (s.conn.clone(), s.remote.ip())) else {
            return;
        };
        let (records, _) = key_records(&req.records, &req.name);
        if records.iter().any(|r| r.gateway.addr() == Some(peer)) {
            self.log(
                Level::Info,
                Some(&conn),
                Some(p1),
                None,
                format!("DNS ({}) names {peer} as the gateway of {client}", req.name),
            );
            let us = self.conn(&conn).and_then(|c| c.local.host);
            let mine = (Some(ours.addr) != us).then_some(ours);
            if self
                .oe_instantiate(&conn, peer, mine, Some(Selector::host(client)), true)
                .is_none()
            {
                return;
            }
        } else {
            self.oppo.refused.push((p1, client));
        }
        let (local, remote, data) = datagram;
        self.dispatch_datagram(now, local, remote, &data);
    }

    /// A state of `conn` went: an instance we made as responder goes with
    /// its last state.
    pub(crate) fn oe_state_gone(&mut self, conn: &str) {
        if !self.oppo.instances.get(conn).is_some_and(|i| i.responder) {
            return;
        }
        if !self.p1_of(conn).is_empty() || !self.p2_of(conn).is_empty() {
            return;
        }
        self.oppo.instances.remove(conn);
        self.remove_routing(conn);
        self.conns.remove(conn);
    }

    /// Template `conn` is unrouted or deleted: its instances and failure
    /// shunts go.
    pub(crate) fn oe_forget(&mut self, now: Instant, conn: &str) {
        let names: Vec<String> = (self.oppo.instances.iter())
            .filter(|(_, i)| i.template == conn)
            .map(|(n, _)| n.clone())
            .collect();
        for n in names {
            self.terminate(now, &n);
            self.remove_routing(&n);
            self.conns.remove(&n);
            self.oppo.instances.remove(&n);
        }
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.oppo.shunts)
            .into_iter()
            .partition(|(t, _)| t == conn);
        self.oppo.shunts = kept;
        for (_, p) in gone {
            self.kernel_ops.push_back(KernelOp::DeletePolicy(p));
        }
        self.oppo.pending.retain(|(t, _, _)| t != conn);
    }
}
