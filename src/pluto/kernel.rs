//! The kernel side of pluto: a backend performs the engine's kernel
//! operations. `--noklips` (`--use-nostack`) negotiates without installing.

use crate::ike::kernel::{IpsecProto, KernelOp, KernelReply, PolicySpec};
use crate::ike::rng::Rng;

/// The kernel speaking on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelEvent {
    /// Traffic hit the TRAP of this connection (SADB_ACQUIRE).
    Acquire(String),
    /// An SA reached its soft or hard lifetime (SADB_EXPIRE); after a hard
    /// one the kernel has deleted it.
    Expire {
        proto: IpsecProto,
        spi: u32,
        dst: std::net::IpAddr,
        hard: bool,
    },
}

/// What a routed connection's policy does with traffic that has no SA:
/// the seed's shunt eroutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shunt {
    /// %trap: the kernel asks pluto to negotiate (SADB_ACQUIRE).
    Trap,
    /// %pass: traffic goes in the clear.
    Pass,
    /// %drop: traffic is discarded.
    Drop,
    /// %reject: discarded; NETKEY has no ICMP-sending discard, so this acts
    /// like %drop there.
    Reject,
}

impl Shunt {
    /// The shunt of a policy's 2-bit shunt or failure field (`field` is
    /// the field's value, 0..=3); `None` for the failure field's NONE.
    pub fn from_field(field: u64, is_failure: bool) -> Option<Shunt> {
        match field {
            0 if is_failure => None,
            0 => Some(Shunt::Trap),
            1 => Some(Shunt::Pass),
            2 => Some(Shunt::Drop),
            _ => Some(Shunt::Reject),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Shunt::Trap => "%trap",
            Shunt::Pass => "%pass",
            Shunt::Drop => "%drop",
            Shunt::Reject => "%reject",
        }
    }
}

pub trait KernelBackend {
    /// The stack's name for logs and `--status`.
    fn name(&self) -> &'static str;
    /// Performs `op`; requests that need an answer return it.
    fn apply(&mut self, op: KernelOp) -> Option<KernelReply>;
    /// Failures of operations that have no reply, since the last call.
    fn take_errors(&mut self) -> Vec<String> {
        Vec::new()
    }
    /// `--route`: an outbound policy for `conn`'s clients doing `shunt`
    /// (a TRAP makes traffic ask the kernel for SAs). While SAs exist their
    /// policy takes its place; when they go it comes back.
    fn route(&mut self, _conn: &str, _spec: &PolicySpec, _shunt: Shunt) -> Result<(), String> {
        Ok(())
    }
    /// Puts `shunt` in place of `conn`'s routed policy now, or (`now` false,
    /// while an SA's policy is there) records it as what comes back later.
    fn set_shunt(&mut self, _conn: &str, _shunt: Shunt, _now: bool) -> Result<(), String> {
        Ok(())
    }
    fn unroute(&mut self, _conn: &str) -> Result<(), String> {
        Ok(())
    }
    /// Asks the kernel for its ACQUIREs and EXPIREs. Called by the daemon
    /// once it runs (after the fork: it may start a thread).
    fn start_events(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// A descriptor that becomes readable when the kernel has something
    /// to say on its own (an ACQUIRE, an EXPIRE).
    fn events_fd(&self) -> Option<std::os::fd::RawFd> {
        None
    }
    /// What the kernel said since the last call.
    fn poll_events(&mut self) -> Vec<KernelEvent> {
        Vec::new()
    }
}

/// No IPsec stack: SPIs are made up here (first one random, then counting
/// up, as pluto did for KLIPS), SAs and policies are only logged.
pub struct NoStack {
    next_spi: u32,
    next_cpi: u32,
}

impl NoStack {
    pub fn new(rng: &mut dyn Rng) -> NoStack {
        let mut b = [0u8; 4];
        rng.fill(&mut b);
        NoStack {
            next_spi: 0x1000 + (u32::from_be_bytes(b) % 0x7fff_0000),
            next_cpi: 256,
        }
    }
}

impl KernelBackend for NoStack {
    fn name(&self) -> &'static str {
        "no kernel interface"
    }

    fn apply(&mut self, op: KernelOp) -> Option<KernelReply> {
        match op {
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
            KernelOp::Install { req, .. } => Some(KernelReply::Installed { req }),
            KernelOp::DeleteSa { .. } | KernelOp::DeletePolicy(_) => None,
        }
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
