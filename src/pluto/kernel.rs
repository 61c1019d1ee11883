//! The kernel side of pluto: a backend performs the engine's kernel
//! operations. `--noklips` (`--use-nostack`) negotiates without installing.

use crate::ike::kernel::{Acquire, IpsecProto, KernelOp, KernelReply, NatMapping};
use crate::ike::rng::Rng;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// The kernel speaking on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelEvent {
    /// Traffic hit a policy without SAs (SADB_ACQUIRE, XFRM_MSG_ACQUIRE).
    Acquire(Acquire),
    /// An SA reached its soft or hard lifetime (SADB_EXPIRE); after a hard
    /// one the kernel has deleted it.
    Expire {
        proto: IpsecProto,
        spi: u32,
        dst: IpAddr,
        hard: bool,
    },
    /// ESP in UDP for an encapsulated SA arrived from another address or
    /// port than the SA has (XFRM_MSG_MAPPING, SADB_X_NAT_T_NEW_MAPPING):
    /// the peer's NAT mapping moved.
    NatMapping(NatMapping),
}

/// The kernel repeats a NAT mapping change for every packet that comes
/// from the new address until the SA is updated (af_key always, XFRM
/// unless the SA has a mapping timer): the engine hears of each change
/// once per SA.
#[derive(Debug, Default)]
pub struct MappingNews {
    last: HashMap<(IpsecProto, u32, IpAddr), SocketAddr>,
}

impl MappingNews {
    /// Whether `m` says something not said before about its SA.
    pub fn is_new(&mut self, m: &NatMapping) -> bool {
        self.last.insert((m.proto, m.spi, m.dst), m.new) != Some(m.new)
    }

    /// The SA is gone: a later SA with its SPI starts afresh.
    pub fn forget(&mut self, proto: IpsecProto, spi: u32, dst: IpAddr) {
        self.last.remove(&(proto, spi, dst));
    }
}

/// What a backend has to say: an answer to a request, the kernel speaking
/// on its own, or a failure of an operation that has no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelOutput {
    Reply(KernelReply),
    Event(KernelEvent),
    Error(String),
}

/// A kernel IPsec stack: a translator of the engine's kernel operations
/// into the stack's messages. It keeps no decisions of its own (which
/// policy a connection has, what comes back when an SA goes): those are
/// the engine's. It never waits for the kernel: [`KernelBackend::submit`]
/// sends, and the answers come out of [`KernelBackend::poll`] when the
/// event loop sees its descriptors readable.
pub trait KernelBackend {
    /// The stack's name for logs and `--status`.
    fn name(&self) -> &'static str;
    /// Sends what `op` needs and returns at once.
    fn submit(&mut self, op: KernelOp);
    /// Answers, events and failures that have arrived; never blocks.
    fn poll(&mut self) -> Vec<KernelOutput>;
    /// Asks the kernel for its ACQUIREs, EXPIREs and NAT mapping
    /// changes. Called by the daemon
    /// once it runs (after the fork: it may start a thread).
    fn start_events(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// Descriptors that become readable when the kernel answered or spoke.
    fn fds(&self) -> Vec<std::os::fd::RawFd> {
        Vec::new()
    }
    /// Lets IPv6 neighbour discovery ([`ND_TYPES`]) pass in the clear ahead
    /// of every policy (`on`, at start), or takes that exemption away again
    /// (at shutdown). Like the IKE sockets' bypass this is the stack's own
    /// hygiene, not a connection's policy, so it is no engine decision.
    fn neighbour_discovery_bypass(&mut self, _on: bool) {}
}

/// ICMPv6 neighbour solicitation and advertisement (RFC 4861 types 135 and
/// 136). A policy over whole prefixes (a host-to-host connection, a road
/// warrior's `::/0`) catches them too, and while it has no SA (a TRAP) the
/// hosts can no longer learn each other's link-layer address: not even
/// IKE's packets leave then. Both backends pass them in and out at
/// [`ND_PRIORITY`], as libreswan's `v6neighbor-hole` connections do.
pub const ND_TYPES: [u16; 2] = [135, 136];
/// Ahead of the engine's policies, whose priorities are 0xff80 or more
/// (`pfkey::build::policy_priority`).
pub const ND_PRIORITY: u32 = 1;
/// IPPROTO_ICMPV6.
pub const ICMPV6: u8 = 58;

/// No IPsec stack: SPIs are made up here (first one random, then counting
/// up, as pluto did for KLIPS), SAs and policies are only logged.
pub struct NoStack {
    next_spi: u32,
    next_cpi: u32,
    replies: Vec<KernelOutput>,
}

impl NoStack {
    pub fn new(rng: &mut dyn Rng) -> NoStack {
        let mut b = [0u8; 4];
        rng.fill(&mut b);
        NoStack {
            next_spi: 0x1000 + (u32::from_be_bytes(b) % 0x7fff_0000),
            next_cpi: 256,
            replies: Vec::new(),
        }
    }
}

impl KernelBackend for NoStack {
    fn name(&self) -> &'static str {
        "no kernel interface"
    }

    fn poll(&mut self) -> Vec<KernelOutput> {
        std::mem::take(&mut self.replies)
    }

    fn submit(&mut self, op: KernelOp) {
        let reply = match op {
            KernelOp::GetSpi { req, min, max, .. } => {
                let pick = if max <= 0xffff {
                    self.next_cpi = if self.next_cpi >= max || self.next_cpi < min {
                        min
                    } else {
                        self.next_cpi + 1
                    };
                    self.next_cpi
                } else {
                    self.next_spi = if self.next_spi >= max || self.next_spi < min {
                        min
                    } else {
                        self.next_spi + 1
                    };
                    self.next_spi
                };
                Some(KernelReply::Spi { req, spi: pick })
            }
            KernelOp::Install { req, .. } | KernelOp::UpdateSa { req, .. } => {
                Some(KernelReply::Installed { req })
            }
            // Nothing carries traffic: there is nothing to count.
            KernelOp::QuerySa { req, .. } => Some(KernelReply::Failed {
                req,
                reason: "no kernel interface".into(),
            }),
            KernelOp::DeleteSa { .. } | KernelOp::DeletePolicy(_) => None,
        };
        self.replies.extend(reply.map(KernelOutput::Reply));
    }
}

/// The OS random generator.
pub struct OsRng;

impl Rng for OsRng {
    fn fill(&mut self, buf: &mut [u8]) {
        if let Err(e) = getrandom::getrandom(buf) {
            // Without randomness no key can be made safely: stop rather than go on weakly.
            eprintln!("pluto: FATAL ERROR: the system random generator failed: {e}");
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mapping_change_is_news_once() {
        let mut news = MappingNews::default();
        let peer = |port| SocketAddr::new("198.51.100.7".parse().unwrap(), port);
        let m = |spi, new| NatMapping {
            proto: IpsecProto::Esp,
            spi,
            dst: "192.0.2.1".parse().unwrap(),
            old: peer(4500),
            new: peer(new),
        };
        assert!(news.is_new(&m(1, 61001)));
        // Every further packet from there says the same.
        assert!(!news.is_new(&m(1, 61001)));
        assert!(!news.is_new(&m(1, 61001)));
        // Another SA, another port, and back to the first port: news.
        assert!(news.is_new(&m(2, 61001)));
        assert!(news.is_new(&m(1, 61002)));
        assert!(news.is_new(&m(1, 61001)));
        // A deleted SA's SPI used again starts afresh.
        news.forget(IpsecProto::Esp, 2, "192.0.2.1".parse().unwrap());
        assert!(news.is_new(&m(2, 61001)));
    }
}
