//! The simulated kernel of a netsim node: the SAs and policies it holds,
//! its replies to the engine's operations, and the ACQUIREs and expiries
//! it raises.

use rswan::ike::kernel::{
    Acquire, IpsecProto, KernelOp, KernelReply, Mode, PolicyAction, PolicySpec, SaInstall, Selector,
};
use std::net::IpAddr;

/// What a node's kernel holds.
#[derive(Default)]
pub struct FakeKernel {
    next_spi: u32,
    pub sas: Vec<SaInstall>,
    pub policies: Vec<PolicySpec>,
    pub larval: Vec<u32>,
    /// Every GETSPI asked for: protocol and the range (min, max).
    pub spi_requests: Vec<(IpsecProto, u32, u32)>,
    /// Fail the Nth GETSPI (for kernel-failure tests).
    pub fail_getspi: bool,
    /// Refuse installs with this reason (for kernel-refusal tests): every
    /// one, or with `refuse_outbound_only` those that carry an outbound SA.
    pub refuse_installs: Option<String>,
    pub refuse_outbound_only: bool,
    /// Larval states the kernel made for ACQUIREs: (reqid, src, dst). As in
    /// Linux, an outbound SA with the same reqid and addresses replaces one.
    pub acquiring: Vec<(u32, IpAddr, IpAddr)>,
    /// Bytes each SA (by SPI) has carried: tests add traffic here.
    pub traffic: std::collections::HashMap<u32, u64>,
    /// Leave usage queries unanswered (a kernel that is slow to answer).
    pub mute_queries: bool,
}

/// What the kernel does with one outbound packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// No policy matches: it goes out in the clear.
    NoPolicy,
    /// Through this outbound SA.
    Protected(u32),
    /// Held: the policy has no SA. `Some` when the kernel asks pluto for
    /// one (the first packet; later ones wait for the same larval state).
    Held(Option<Acquire>),
    Passed,
    Dropped,
}

fn covers(sel: &Selector, a: IpAddr) -> bool {
    match (sel.addr, a) {
        (IpAddr::V4(n), IpAddr::V4(x)) => {
            let m = u32::MAX
                .checked_shl(32 - u32::from(sel.prefix))
                .unwrap_or(0);
            u32::from(n) & m == u32::from(x) & m
        }
        (IpAddr::V6(n), IpAddr::V6(x)) => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(sel.prefix))
                .unwrap_or(0);
            u128::from(n) & m == u128::from(x) & m
        }
        _ => false,
    }
}

impl FakeKernel {
    /// An empty kernel whose SPIs count up from `first`.
    pub fn with_spis_from(first: u32) -> FakeKernel {
        FakeKernel {
            next_spi: first,
            ..FakeKernel::default()
        }
    }
    pub fn apply(&mut self, op: KernelOp) -> Option<KernelReply> {
        match op {
            KernelOp::GetSpi {
                req,
                proto,
                min,
                max,
                ..
            } => {
                self.spi_requests.push((proto, min, max));
                if self.fail_getspi {
                    return Some(KernelReply::Failed {
                        req,
                        reason: "No buffer space available".into(),
                    });
                }
                self.next_spi += 1;
                // Spread over the requested range (CPIs have a small one), and
                // never hand out an SPI this kernel already holds.
                let (lo, hi) = (u64::from(min), u64::from(max.max(min)));
                let span = hi - lo + 1;
                let mut n = 0x2000 + u64::from(self.next_spi) * 7;
                let spi = loop {
                    let cand = u32::try_from(lo + n % span).unwrap_or(max);
                    let taken = self.larval.contains(&cand)
                        || self.sas.iter().any(|s| s.inbound && s.spi == cand);
                    if !taken || n > 0x2000 + u64::from(self.next_spi) * 7 + span {
                        break cand;
                    }
                    n += 1;
                };
                self.larval.push(spi);
                Some(KernelReply::Spi { req, spi })
            }
            KernelOp::Install { req, sas, policies } => {
                let refused = self
                    .refuse_installs
                    .clone()
                    .filter(|_| !self.refuse_outbound_only || sas.iter().any(|sa| !sa.inbound));
                if let Some(reason) = refused {
                    // All or nothing, like a real backend's rollback (inbound
                    // SPIs stay reserved: the engine deletes them).
                    return Some(KernelReply::Failed { req, reason });
                }
                for sa in sas {
                    self.larval.retain(|s| !(sa.inbound && *s == sa.spi));
                    if !sa.inbound {
                        self.acquiring.retain(|a| *a != (sa.reqid, sa.src, sa.dst));
                    }
                    self.sas.push(sa);
                }
                // Like the kernel's SPD: one policy per selectors and direction,
                // a new one replaces the one before.
                for p in policies {
                    self.policies.retain(|q| !same_slot(q, &p));
                    self.policies.push(p);
                }
                Some(KernelReply::Installed { req })
            }
            KernelOp::DeleteSa {
                proto, spi, dst, ..
            } => {
                self.sas
                    .retain(|s| !(s.proto == proto && s.spi == spi && s.dst == dst));
                // Deleting a reserved (larval) SPI releases it.
                self.larval.retain(|s| *s != spi);
                None
            }
            KernelOp::DeletePolicy(p) => {
                // The kernel deletes by selectors and direction, whoever owns it.
                self.policies.retain(|q| !same_slot(q, &p));
                None
            }
            KernelOp::UpdateSa { req, sa } => {
                let slot = self
                    .sas
                    .iter_mut()
                    .find(|s| s.proto == sa.proto && s.spi == sa.spi && s.dst == sa.dst);
                Some(match slot {
                    Some(s) => {
                        *s = sa;
                        KernelReply::Installed { req }
                    }
                    None => KernelReply::Failed {
                        req,
                        reason: "No such process".into(),
                    },
                })
            }
            KernelOp::QuerySa { .. } if self.mute_queries => None,
            KernelOp::QuerySa {
                req,
                proto,
                spi,
                dst,
                ..
            } => Some(
                if self
                    .sas
                    .iter()
                    .any(|s| s.proto == proto && s.spi == spi && s.dst == dst)
                {
                    KernelReply::SaUse {
                        req,
                        bytes: self.traffic.get(&spi).copied().unwrap_or(0),
                    }
                } else {
                    KernelReply::Failed {
                        req,
                        reason: "No such process".into(),
                    }
                },
            ),
        }
    }
}

impl FakeKernel {
    /// An outbound packet from `src` to `dst` meets the SPD: the most
    /// specific matching policy decides, as in Linux.
    pub fn send(&mut self, src: IpAddr, dst: IpAddr) -> Fate {
        let Some(p) = self
            .policies
            .iter()
            .filter(|p| !p.inbound && covers(&p.src_sel, src) && covers(&p.dst_sel, dst))
            .max_by_key(|p| u32::from(p.src_sel.prefix) + u32::from(p.dst_sel.prefix))
            .cloned()
        else {
            return Fate::NoPolicy;
        };
        match p.action {
            PolicyAction::Pass => Fate::Passed,
            PolicyAction::Drop | PolicyAction::Reject => Fate::Dropped,
            PolicyAction::Ipsec => {
                let sa = self
                    .sas
                    .iter()
                    .rev()
                    .find(|s| !s.inbound && s.reqid == p.reqid && s.dst == p.dst_gw);
                if let Some(sa) = sa {
                    return Fate::Protected(sa.spi);
                }
                // A transport-mode template's larval state is the packet's
                // own pair (Linux takes its ends from the flow).
                let (a_src, a_dst) = match p.mode {
                    Mode::Transport => (src, dst),
                    Mode::Tunnel => (p.src_gw, p.dst_gw),
                };
                let key = (p.reqid, a_src, a_dst);
                if self.acquiring.contains(&key) {
                    return Fate::Held(None);
                }
                self.acquiring.push(key);
                Fate::Held(Some(Acquire {
                    reqid: Some(p.reqid),
                    src: a_src,
                    dst: a_dst,
                }))
            }
        }
    }
}

/// Two policies the kernel files under the same key.
fn same_slot(a: &PolicySpec, b: &PolicySpec) -> bool {
    a.src_sel == b.src_sel && a.dst_sel == b.dst_sel && a.inbound == b.inbound
}
