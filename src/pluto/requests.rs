//! The bookkeeping both kernel backends share: which request an answer is
//! for, and install batches. A batch is sent whole; once every part is
//! answered it is reported installed, or, when any part was refused, the
//! parts that went in are taken back (the caller sends the undo messages
//! this returns) and the batch is reported failed.
//!
//! `M` is the backend's message type; answers come in already judged
//! ([`Answer`]), so nothing here knows PF_KEY or XFRM.

use super::kernel::{KernelEvent, KernelOutput};
use crate::ike::kernel::{Acquire, IpsecProto, KernelReply};
use std::collections::HashMap;
use std::net::IpAddr;

/// What an answer is for.
pub enum Pending<M> {
    /// GETSPI / ALLOCSPI of the engine's request `req`.
    Spi { req: u64 },
    /// One part of the install batch `req`; `undo` takes it back.
    /// `instead` is sent in its place when the kernel answers "no such
    /// SA": an inbound SA's UPDATE whose reserved SPI (the larval SA
    /// GETSPI made) expired, which the kernel does 30 s after GETSPI
    /// (`net.core.xfrm_acq_expires`) however slow the peer was; the SA is
    /// then added whole under the same SPI.
    Part {
        req: u64,
        what: String,
        undo: Option<Box<M>>,
        instead: Option<Box<Instead<M>>>,
    },
    /// A delete; `sa` when it is an SA's (an SA already gone is fine).
    Delete { what: String, sa: bool },
    /// The policy lookup of an ACQUIRE (PF_KEY names the policy only).
    Acquire { src: IpAddr, dst: IpAddr },
    /// Taking back a part of a refused batch.
    Undo { what: String },
    /// A policy of the backend's own (the neighbour discovery bypass).
    Own { what: String },
    /// The engine's [`KernelOp::UpdateSa`](crate::ike::kernel::KernelOp::UpdateSa) `req`.
    Update { req: u64, what: String },
    /// The engine's [`KernelOp::QuerySa`](crate::ike::kernel::KernelOp::QuerySa) `req`.
    Query { req: u64 },
}

/// An SA as the kernel's EXPIREs name it.
pub type SaKey = (IpsecProto, u32, IpAddr);

/// The ADD that replaces an inbound SA's UPDATE when its reserved SPI
/// expired, and the SA both are for.
pub struct Instead<M> {
    pub msg: M,
    pub sa: SaKey,
}

/// One part of an install batch: what it is (for messages), its message,
/// the message that takes it back, and the one sent in its place when the
/// kernel answers "no such SA".
pub type Part<M> = (String, M, Option<Box<M>>, Option<Box<Instead<M>>>);

impl<M> Instead<M> {
    /// `msg` (the ADD of `sa`) in place of `sa`'s UPDATE.
    pub fn of(sa: &crate::ike::kernel::SaInstall, msg: M) -> Box<Instead<M>> {
        Box::new(Instead {
            msg,
            sa: (sa.proto, sa.spi, sa.dst),
        })
    }
}

/// The kernel's answer, as the backend judged it.
pub enum Answer {
    /// Done; the SPI of a GETSPI, the reqid of a policy lookup.
    Done(Option<u32>),
    /// The SA a query asked for, with the bytes it has carried (the
    /// kernel's current lifetime counter).
    Used(u64),
    /// Refused (or could not be asked): the reason, and whether it means
    /// "no such SA or policy".
    Refused { reason: String, not_found: bool },
}

struct Batch<M> {
    unanswered: usize,
    refusal: Option<String>,
    undo: Vec<(String, M)>,
}

pub struct Requests<M> {
    /// By sequence number, with the request's message type.
    pending: HashMap<u32, (u16, Pending<M>)>,
    batches: HashMap<u64, Batch<M>>,
    out: Vec<KernelOutput>,
    /// Parts to send again in another form (see [`Pending::Part`]).
    resend: Vec<(Pending<M>, M)>,
    /// SAs added because their reserved SPI expired, with the number of
    /// polls since. The kernel announced that expiry with a hard EXPIRE
    /// of the SPI before it answered the UPDATE "no such SA", so the
    /// EXPIRE is already waiting on the events socket, which backends read
    /// after the replies: it is about the reserved SPI, not about the SA
    /// just added, and must not reach the engine after the SA is
    /// installed. One poll more covers a kernel that answered on one CPU
    /// while it was still announcing on another; an EXPIRE the engine got
    /// before the UPDATE went out found no SA of its own and was dropped
    /// there.
    larval_gone: Vec<(SaKey, u8)>,
}

impl<M> Default for Requests<M> {
    fn default() -> Requests<M> {
        Requests {
            pending: HashMap::new(),
            batches: HashMap::new(),
            out: Vec::new(),
            resend: Vec::new(),
            larval_gone: Vec::new(),
        }
    }
}

impl<M> Requests<M> {
    /// Request `seq` (of `msg_type`) went out for `why`.
    pub fn sent(&mut self, seq: u32, msg_type: u16, why: Pending<M>) {
        self.pending.insert(seq, (msg_type, why));
    }

    /// The request an answer with `seq` is for, if it is one of ours.
    pub fn take(&mut self, seq: u32) -> Option<(u16, Pending<M>)> {
        self.pending.remove(&seq)
    }

    /// The parts an answer turned into other messages: the backend sends
    /// each for its `Pending`.
    pub fn take_resends(&mut self) -> Vec<(Pending<M>, M)> {
        std::mem::take(&mut self.resend)
    }

    /// Batch `req` of `parts` parts is about to be sent.
    pub fn begin_batch(&mut self, req: u64, parts: usize) {
        self.batches.insert(
            req,
            Batch {
                unanswered: parts,
                refusal: None,
                undo: Vec::new(),
            },
        );
    }

    /// Batch `req` of `parts`, each `(what, message, undo, instead)` (see
    /// [`Pending::Part`]): the messages to send, each with what it is for.
    pub fn batch(&mut self, req: u64, parts: Vec<Part<M>>) -> Vec<(M, Pending<M>)> {
        self.begin_batch(req, parts.len());
        parts
            .into_iter()
            .map(|(what, msg, undo, instead)| {
                let why = Pending::Part {
                    req,
                    what,
                    undo,
                    instead,
                };
                (msg, why)
            })
            .collect()
    }

    /// Reports batch `req` if every part is answered; returns what must
    /// be sent to take a refused batch back.
    pub fn finish_batch(&mut self, req: u64) -> Vec<(String, M)> {
        if self.batches.get(&req).is_some_and(|b| b.unanswered > 0) {
            return Vec::new();
        }
        let Some(b) = self.batches.remove(&req) else {
            return Vec::new();
        };
        let (reply, undo) = match b.refusal {
            None => (KernelReply::Installed { req }, Vec::new()),
            Some(reason) => (KernelReply::Failed { req, reason }, b.undo),
        };
        self.out.push(KernelOutput::Reply(reply));
        undo
    }

    /// The answer `a` for `why`; returns what must be sent to take back a
    /// batch it completed with a refusal.
    pub fn answer(&mut self, why: Pending<M>, a: Answer) -> Vec<(String, M)> {
        match why {
            Pending::Spi { req } => {
                let r = match a {
                    Answer::Done(Some(spi)) => KernelReply::Spi { req, spi },
                    Answer::Done(None) | Answer::Used(_) => KernelReply::Failed {
                        req,
                        reason: "the kernel's SPI answer carried no SA".into(),
                    },
                    Answer::Refused { reason, .. } => KernelReply::Failed { req, reason },
                };
                self.out.push(KernelOutput::Reply(r));
            }
            Pending::Part {
                req,
                what,
                undo,
                instead: Some(instead),
            } if matches!(
                a,
                Answer::Refused {
                    not_found: true,
                    ..
                }
            ) =>
            {
                let Instead { msg, sa } = *instead;
                log::info!(
                    "kernel: the SPI reserved for {what} expired before its keys came \
                     (net.core.xfrm_acq_expires); adding the SA whole"
                );
                let again = Pending::Part {
                    req,
                    what,
                    undo,
                    instead: None,
                };
                self.resend.push((again, msg));
                self.larval_gone.push((sa, 0));
            }
            Pending::Part {
                req, what, undo, ..
            } => {
                if let Some(b) = self.batches.get_mut(&req) {
                    b.unanswered = b.unanswered.saturating_sub(1);
                    match a {
                        Answer::Done(_) | Answer::Used(_) => {
                            b.undo.extend(undo.map(|u| (what, *u)))
                        }
                        Answer::Refused { reason, .. } => {
                            b.refusal
                                .get_or_insert(format!("cannot install {what}: {reason}"));
                        }
                    }
                }
                return self.finish_batch(req);
            }
            Pending::Delete { what, sa } => match a {
                // Already gone: an SPI reserved by GETSPI lives 30 s
                // unfilled, and a hard lifetime ends an SA in the kernel
                // first. Either way the goal of the delete is met.
                Answer::Refused {
                    not_found: true, ..
                } if sa => {}
                Answer::Refused { reason, .. } => self.out.push(KernelOutput::Error(format!(
                    "ERROR: cannot delete {what}: {reason}"
                ))),
                Answer::Done(_) | Answer::Used(_) => {}
            },
            Pending::Acquire { src, dst } => {
                let reqid = match a {
                    Answer::Done(r) => r,
                    Answer::Used(_) | Answer::Refused { .. } => None,
                };
                self.event(KernelEvent::Acquire(Acquire { reqid, src, dst }));
            }
            Pending::Undo { what } => {
                if let Answer::Refused { reason, .. } = a {
                    self.out.push(KernelOutput::Error(format!(
                        "ERROR: cannot take back {what}: {reason}"
                    )));
                }
            }
            Pending::Own { what } => {
                if let Answer::Refused { reason, .. } = a {
                    self.out.push(KernelOutput::Error(format!(
                        "ERROR: cannot install {what}: {reason}"
                    )));
                }
            }
            Pending::Update { req, what } => {
                let r = match a {
                    Answer::Done(_) | Answer::Used(_) => KernelReply::Installed { req },
                    Answer::Refused { reason, .. } => KernelReply::Failed {
                        req,
                        reason: format!("cannot update {what}: {reason}"),
                    },
                };
                self.out.push(KernelOutput::Reply(r));
            }
            Pending::Query { req } => {
                let r = match a {
                    Answer::Used(bytes) => KernelReply::SaUse { req, bytes },
                    Answer::Done(_) => KernelReply::Failed {
                        req,
                        reason: "the kernel's answer carried no SA counters".into(),
                    },
                    Answer::Refused { reason, .. } => KernelReply::Failed { req, reason },
                };
                self.out.push(KernelOutput::Reply(r));
            }
        }
        Vec::new()
    }

    /// Something the kernel said on its own.
    pub fn event(&mut self, e: KernelEvent) {
        if let KernelEvent::Expire {
            proto,
            spi,
            dst,
            hard: true,
        } = e
        {
            let key = (proto, spi, dst);
            if let Some(i) = self.larval_gone.iter().position(|(k, _)| *k == key) {
                self.larval_gone.swap_remove(i);
                log::info!(
                    "kernel: ignoring the EXPIRE of the reserved SPI {spi:#010x}@{dst}: \
                     its SA was added in its place"
                );
                return;
            }
        }
        self.out.push(KernelOutput::Event(e));
    }

    /// A failed batch the backend refuses before sending anything.
    pub fn refuse(&mut self, req: u64, reason: String) {
        self.out
            .push(KernelOutput::Reply(KernelReply::Failed { req, reason }));
    }

    /// Everything to report since the last call; backends call this once
    /// at the end of each poll.
    pub fn outputs(&mut self) -> Vec<KernelOutput> {
        self.larval_gone.retain_mut(|(_, polls)| {
            *polls += 1;
            *polls < 2
        });
        std::mem::take(&mut self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(reason: &str, not_found: bool) -> Answer {
        Answer::Refused {
            reason: reason.into(),
            not_found,
        }
    }

    fn part(req: u64, what: &str, undo: Option<&'static str>) -> Pending<&'static str> {
        Pending::Part {
            req,
            what: what.into(),
            undo: undo.map(Box::new),
            instead: None,
        }
    }

    const GW: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

    fn instead(spi: u32) -> Box<Instead<&'static str>> {
        Box::new(Instead {
            msg: "add",
            sa: (IpsecProto::Esp, spi, GW),
        })
    }

    fn hard_expire(spi: u32) -> KernelEvent {
        KernelEvent::Expire {
            proto: IpsecProto::Esp,
            spi,
            dst: GW,
            hard: true,
        }
    }

    /// The UPDATE of inbound SA `spi`, part of batch `req`.
    fn update(req: u64, spi: u32) -> Pending<&'static str> {
        Pending::Part {
            req,
            what: format!("SA esp.{spi:x}@192.0.2.1"),
            undo: None,
            instead: Some(instead(spi)),
        }
    }

    /// An UPDATE refused "no such SA" for SPI 0x1000, answered by ADD.
    fn add_after_expired_spi(r: &mut Requests<&'static str>, req: u64) {
        r.begin_batch(req, 1);
        let update = update(req, 0x1000);
        assert!(r
            .answer(update, refused("No such process (ESRCH)", true))
            .is_empty());
        let (why, msg) = r.take_resends().pop().unwrap();
        assert_eq!(msg, "add");
        assert!(r.answer(why, Answer::Done(None)).is_empty());
    }

    #[test]
    fn the_expire_of_a_reserved_spi_does_not_reach_the_sa_added_in_its_place() {
        let mut r: Requests<&'static str> = Requests::default();
        add_after_expired_spi(&mut r, 7);
        // Read in the same poll, after the replies: the reserved SPI's.
        r.event(hard_expire(0x1000));
        assert_eq!(
            r.outputs(),
            [KernelOutput::Reply(KernelReply::Installed { req: 7 })]
        );
        // The SA's own EXPIRE, later, goes through; so do other SAs' and
        // soft ones.
        r.event(hard_expire(0x1000));
        r.event(hard_expire(0x2000));
        assert_eq!(
            r.outputs(),
            [
                KernelOutput::Event(hard_expire(0x1000)),
                KernelOutput::Event(hard_expire(0x2000))
            ]
        );

        // Announced late (in the next poll): still the reserved SPI's.
        add_after_expired_spi(&mut r, 8);
        assert_eq!(r.outputs().len(), 1);
        r.event(hard_expire(0x1000));
        assert!(r.outputs().is_empty());

        // An EXPIRE that came before the UPDATE (the engine dropped it)
        // leaves nothing behind to swallow the SA's own two polls later.
        add_after_expired_spi(&mut r, 9);
        assert_eq!(r.outputs().len(), 1);
        assert!(r.outputs().is_empty());
        r.event(hard_expire(0x1000));
        assert_eq!(r.outputs(), [KernelOutput::Event(hard_expire(0x1000))]);
    }

    #[test]
    fn an_update_of_an_expired_spi_is_sent_again_as_an_add() {
        let mut r: Requests<&'static str> = Requests::default();
        r.begin_batch(7, 2);
        // "No such SA": not an answer yet, but the ADD to send in its place.
        assert!(r
            .answer(update(7, 0x1000), refused("No such process (ESRCH)", true))
            .is_empty());
        assert!(r.outputs().is_empty(), "the batch is not decided");
        let again = r.take_resends();
        assert_eq!(again.len(), 1);
        let (why, msg) = again.into_iter().next().unwrap();
        assert_eq!(msg, "add");
        assert!(matches!(
            why,
            Pending::Part {
                req: 7,
                instead: None,
                ..
            }
        ));
        assert!(r
            .answer(part(7, "policy out", Some("undo out")), Answer::Done(None))
            .is_empty());
        // The ADD succeeds: the batch is installed.
        assert!(r.answer(why, Answer::Done(None)).is_empty());
        assert!(matches!(
            r.outputs().as_slice(),
            [KernelOutput::Reply(KernelReply::Installed { req: 7 })]
        ));
        // Another refusal of an update is the batch's refusal, as before.
        r.begin_batch(8, 1);
        assert!(r
            .answer(update(8, 0x1001), refused("Invalid argument", false))
            .is_empty());
        assert!(r.take_resends().is_empty());
        assert!(matches!(
            r.outputs().as_slice(),
            [KernelOutput::Reply(KernelReply::Failed { req: 8, .. })]
        ));
    }

    #[test]
    fn a_batch_is_reported_once_every_part_is_answered() {
        let mut r: Requests<&str> = Requests::default();
        r.begin_batch(7, 2);
        assert!(r
            .answer(part(7, "SA a", Some("del a")), Answer::Done(None))
            .is_empty());
        assert!(r.outputs().is_empty());
        assert!(r
            .answer(part(7, "SA b", None), Answer::Done(None))
            .is_empty());
        assert_eq!(
            r.outputs(),
            [KernelOutput::Reply(KernelReply::Installed { req: 7 })]
        );
    }

    #[test]
    fn a_refused_part_fails_the_batch_and_takes_back_what_went_in() {
        let mut r: Requests<&str> = Requests::default();
        r.begin_batch(9, 3);
        r.answer(part(9, "SA a", Some("del a")), Answer::Done(None));
        r.answer(
            part(9, "out policy p", Some("del p")),
            refused("EINVAL", false),
        );
        let undo = r.answer(part(9, "SA b", None), Answer::Done(None));
        assert_eq!(undo, [("SA a".to_string(), "del a")]);
        assert_eq!(
            r.outputs(),
            [KernelOutput::Reply(KernelReply::Failed {
                req: 9,
                reason: "cannot install out policy p: EINVAL".into()
            })]
        );
    }

    #[test]
    fn an_empty_batch_is_installed_at_once() {
        let mut r: Requests<&str> = Requests::default();
        r.begin_batch(3, 0);
        assert!(r.finish_batch(3).is_empty());
        assert_eq!(
            r.outputs(),
            [KernelOutput::Reply(KernelReply::Installed { req: 3 })]
        );
    }

    #[test]
    fn deleting_what_is_gone_is_no_error_for_sas_only() {
        let mut r: Requests<&str> = Requests::default();
        let del = |sa| Pending::Delete {
            what: "x".into(),
            sa,
        };
        r.answer(del(true), refused("ESRCH", true));
        assert!(r.outputs().is_empty());
        r.answer(del(false), refused("ENOENT", true));
        assert_eq!(
            r.outputs(),
            [KernelOutput::Error("ERROR: cannot delete x: ENOENT".into())]
        );
    }

    #[test]
    fn sequence_numbers_find_their_request_once() {
        let mut r: Requests<&str> = Requests::default();
        r.sent(41, 16, Pending::Spi { req: 5 });
        assert!(r.take(40).is_none());
        let (ty, why) = r.take(41).expect("pending");
        assert_eq!(ty, 16);
        r.answer(why, Answer::Done(Some(0x1234)));
        assert!(r.take(41).is_none());
        assert_eq!(
            r.outputs(),
            [KernelOutput::Reply(KernelReply::Spi {
                req: 5,
                spi: 0x1234
            })]
        );
    }

    #[test]
    fn sa_updates_and_queries_answer_the_engine() {
        let mut r: Requests<&str> = Requests::default();
        let update = |req| Pending::Update {
            req,
            what: "SA esp.1@192.0.2.1".into(),
        };
        r.answer(update(1), Answer::Done(None));
        r.answer(update(2), refused("ESRCH", true));
        r.answer(Pending::Query { req: 3 }, Answer::Used(123_456));
        r.answer(Pending::Query { req: 4 }, refused("ESRCH", true));
        r.answer(Pending::Query { req: 5 }, Answer::Done(None));
        let failed = |req, reason: &str| {
            KernelOutput::Reply(KernelReply::Failed {
                req,
                reason: reason.into(),
            })
        };
        assert_eq!(
            r.outputs(),
            [
                KernelOutput::Reply(KernelReply::Installed { req: 1 }),
                failed(2, "cannot update SA esp.1@192.0.2.1: ESRCH"),
                KernelOutput::Reply(KernelReply::SaUse {
                    req: 3,
                    bytes: 123_456
                }),
                failed(4, "ESRCH"),
                failed(5, "the kernel's answer carried no SA counters"),
            ]
        );
    }
}
