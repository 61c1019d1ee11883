//! What `--status` and tests see of each state.

use super::endpoint::Endpoint;
use super::state::{Role, StateKind};
use std::net::SocketAddr;
use std::time::Instant;

/// A summary of one state, for status output and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateInfo {
    pub serial: u64,
    pub conn: String,
    pub kind: StateKind,
    pub ipsec: bool,
    pub parent: Option<u64>,
    pub role: Role,
    pub local: SocketAddr,
    pub peer: SocketAddr,
    /// The next timer event (`EVENT_RETRANSMIT`, `EVENT_SA_REPLACE`, `EVENT_SA_EXPIRE`) and when.
    pub event: Option<(&'static str, Instant)>,
    /// IPsec SAs: per protocol, the peer's SPI (our outbound) and ours (inbound).
    pub saids: Vec<(super::kernel::IpsecProto, u32, u32)>,
    /// ISAKMP SAs whose peer announced DPD: `lastdpd=`; `None`: `nodpd`.
    pub dpd: Option<super::dpd::DpdStatus>,
    /// The DPD timer (`EVENT_DPD` or `EVENT_DPD_TIMEOUT`) and when.
    pub dpd_event: Option<(&'static str, Instant)>,
    /// NAT traversal of the ISAKMP SA (an IPsec SA's: its parent's). With
    /// a NAT between the ends `local` and `peer` are the port-4500 ones.
    pub nat: super::natt::NatState,
    /// IPsec SAs: encapsulation, NAT-OA and NAT-D (`NATOA=… NATD=…`).
    pub sa_nat: Option<super::natt::SaNatInfo>,
    /// The peer's authenticated identity (an IPsec SA's: its ISAKMP SA's).
    pub peer_id: Option<super::wire::Identity>,
    /// The Road Warrior instance of `conn` the state belongs to (`"rw"[N]`).
    pub instance: Option<u32>,
}

const UNSPECIFIED: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0);

impl Endpoint {
    pub fn states(&self) -> Vec<StateInfo> {
        let mut v: Vec<StateInfo> = self
            .p1
            .values()
            .map(|s| StateInfo {
                serial: s.serial,
                conn: s.conn.clone(),
                kind: s.kind,
                ipsec: false,
                parent: None,
                role: s.role,
                local: s.local,
                peer: s.remote,
                event: super::lifetime::next_event(s.retransmit.as_ref(), s.replace, s.expires),
                saids: Vec::new(),
                dpd: self.dpd_status(s.serial),
                dpd_event: s.dpd.event(),
                nat: s.nat,
                sa_nat: None,
                peer_id: s.peer_id.clone(),
                instance: self.instance(&s.conn, s.remote.ip()),
            })
            .chain(self.p2.values().map(|s| {
                let parent = self.p1.get(&s.parent);
                // An IPsec SA outlives its ISAKMP SA; then its kernel SAs
                // name the two ends (without ports: shown as 0).
                let ends = || {
                    let sa = s.installed.iter().find(|sa| sa.inbound)?;
                    Some((SocketAddr::new(sa.dst, 0), SocketAddr::new(sa.src, 0)))
                };
                let (local, peer, nat) = match parent {
                    Some(p) => (p.local, p.remote, p.nat),
                    None => {
                        let (l, r) = ends().unwrap_or((UNSPECIFIED, UNSPECIFIED));
                        (l, r, Default::default())
                    }
                };
                let saids = s.chosen.as_ref().map_or(Vec::new(), |c| {
                    c.protos
                        .iter()
                        .map(|cp| (cp.proto, cp.peer_spi, s.our_spi(cp.proto)))
                        .collect()
                });
                StateInfo {
                    serial: s.serial,
                    conn: s.conn.clone(),
                    kind: s.kind,
                    ipsec: true,
                    parent: Some(s.parent),
                    role: s.role,
                    local,
                    peer,
                    event: super::lifetime::next_event(s.retransmit.as_ref(), s.replace, s.expires),
                    saids,
                    dpd: None,
                    dpd_event: None,
                    nat,
                    sa_nat: Some(self.natt_sa_info(s.serial)),
                    peer_id: parent.and_then(|p| p.peer_id.clone()),
                    instance: self.p2_peer(s).and_then(|ip| self.instance(&s.conn, ip)),
                }
            }))
            .collect();
        crate::sort::sort_by_key(&mut v, |s| s.serial);
        v
    }
}
