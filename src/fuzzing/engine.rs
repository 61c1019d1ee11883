//! Engine targets: two endpoints in one process (west initiates, east
//! answers) on a virtual clock, with a kernel that grants every request.
//! The negotiation is held at a chosen point and the fuzz input goes to
//! east in place of west's next message, encrypted under the live keys
//! when that message would be. Seeds and DH are fixed (`NullDh`), so one
//! input always takes the same path.

use crate::ike::crypto::NullDh;
use crate::ike::kernel::{KernelOp, KernelReply, Selector};
use crate::ike::rng::SeededRng;
use crate::ike::wire::{emit_chain, exchange, flags, parse_chain, payload_type, Identity, Payload};
use crate::ike::{Command, ConnConfig, End, Endpoint, Policy, SecretEntry, SecretIndex};
use crate::ike::{SecretValue, Secrets};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

const WEST: usize = 0;
const EAST: usize = 1;
/// Datagrams delivered per run at most: the engines never legitimately
/// exchange this many, and a fuzz input must not loop for ever.
const MAX_DELIVERIES: usize = 64;
/// Timer events run after the fuzz message (retransmits, expiries).
const TIMER_STEPS: usize = 4;

/// Where west's next message is held back for the fuzz input to replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// East answered MI1: the input is MI2.
    Mi2,
    /// East sent MR2 and holds the keys: the input is MI3 (Main Mode 5).
    Mi3,
    /// The ISAKMP SA is up: the input is QI1 or anything else under it.
    Qi1,
    /// East answered QI1 and installed its inbound SAs: the input is QI2.
    Qi2,
    /// Everything is established: an Informational or a new exchange.
    Done,
}

impl Stage {
    /// Whether west's datagram `d` (the `quick`-th Quick Mode one from
    /// west, counting from 1) is the one this stage holds back.
    fn holds(self, d: &[u8], quick: usize) -> bool {
        let (Some(&ex), Some(&fl)) = (d.get(18), d.get(19)) else {
            return false;
        };
        let rcookie_set = d.get(8..16).is_some_and(|r| r.iter().any(|&b| b != 0));
        match self {
            Stage::Mi2 => ex == exchange::IDENTITY_PROTECTION && rcookie_set,
            Stage::Mi3 => ex == exchange::IDENTITY_PROTECTION && fl & flags::ENCRYPTION != 0,
            Stage::Qi1 => ex == exchange::QUICK && quick == 1,
            Stage::Qi2 => ex == exchange::QUICK && quick == 2,
            Stage::Done => false,
        }
    }
}

fn addr(last: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)), 500)
}

fn end(last: u8, net: u8) -> End {
    End {
        host: Some(addr(last).ip()),
        port: 500,
        id: None,
        client: Some(Selector {
            addr: IpAddr::V4(Ipv4Addr::new(10, net, 0, 0)),
            prefix: 24,
            protocol: 0,
            port: 0,
        }),
        virt: None,
    }
}

/// West and east with one tunnel between them, PSK, ESP with PFS.
pub struct Pair {
    now: Instant,
    eps: [Endpoint; 2],
    next_spi: u32,
    queue: Vec<(usize, Vec<u8>)>,
    deliveries: usize,
    quick_from_west: usize,
    /// West's datagram the stage held back.
    pub held: Option<Vec<u8>>,
    /// Every datagram sent, by sender.
    pub wire: Vec<(usize, Vec<u8>)>,
    /// East's states once the injected datagram and what it caused were
    /// handled, before any timer ran (a timer may make west resend the
    /// message the input replaced).
    pub east_after_input: Vec<crate::ike::state::StateKind>,
}

impl Pair {
    pub fn new() -> Pair {
        let policy = Policy {
            psk: true,
            encrypt: true,
            tunnel: true,
            pfs: true,
            ..Policy::default()
        };
        let secrets = Secrets {
            entries: vec![SecretEntry {
                indices: [1, 2]
                    .iter()
                    .map(|&l| SecretIndex::Id(Identity::Ipv4(Ipv4Addr::new(192, 0, 2, l))))
                    .collect(),
                value: SecretValue::Psk(b"fuzzing secret".to_vec()),
            }],
            ..Secrets::default()
        };
        let now = Instant::now();
        let mut eps = [1u64, 2].map(|seed| {
            let mut ep = Endpoint::new(Box::new(NullDh), Box::new(SeededRng::new(seed)));
            ep.set_debug(true);
            ep
        });
        for (i, ep) in eps.iter_mut().enumerate() {
            let (me, him) = if i == WEST {
                (end(1, 1), end(2, 2))
            } else {
                (end(2, 2), end(1, 1))
            };
            let conn = ConnConfig::new("fuzz", me, him, policy);
            let _ = ep.handle_command(now, Command::AddConnection(Box::new(conn)));
            let _ = ep.handle_command(now, Command::LoadSecrets(secrets.clone()));
        }
        Pair {
            now,
            eps,
            next_spi: 0x1000,
            queue: Vec::new(),
            deliveries: 0,
            quick_from_west: 0,
            held: None,
            wire: Vec::new(),
            east_after_input: Vec::new(),
        }
    }

    /// Starts the negotiation and runs it until `stage` holds west's message
    /// back (or until it ends, for [`Stage::Done`]).
    pub fn run_to(stage: Stage) -> Pair {
        let mut p = Pair::new();
        let _ = p.eps[WEST].handle_command(p.now, Command::Initiate("fuzz".into()));
        p.run(Some(stage));
        p
    }

    /// The receiving endpoint.
    pub fn east(&self) -> &Endpoint {
        &self.eps[EAST]
    }

    /// East's cookie pair (zeros before it answered).
    pub fn cookies(&self) -> ([u8; 8], [u8; 8]) {
        let mut c = ([0u8; 8], [0u8; 8]);
        if let Some((_, d)) = self.wire.iter().find(|(from, _)| *from == EAST) {
            if let (Some(i), Some(r)) = (d.get(..8), d.get(8..16)) {
                c.0.copy_from_slice(i);
                c.1.copy_from_slice(r);
            }
        }
        c
    }

    /// The message ID of west's first Quick Mode, if it started one.
    pub fn quick_msgid(&self) -> Option<u32> {
        let from_west = self.wire.iter().filter(|(from, _)| *from == WEST);
        from_west
            .map(|(_, d)| d)
            .chain(self.held.iter())
            .find(|d| d.get(18) == Some(&exchange::QUICK))
            .and_then(|d| d.get(20..24))
            .and_then(|m| <[u8; 4]>::try_from(m).ok())
            .map(u32::from_be_bytes)
    }

    /// Gives east a datagram from west, then lets both ends run on: replies,
    /// kernel answers and a few timer events.
    pub fn inject(&mut self, datagram: &[u8]) {
        let now = self.now;
        self.eps[EAST].handle_datagram(now, addr(2), addr(1), datagram);
        self.run(None);
        self.east_after_input = self.eps[EAST].states().iter().map(|s| s.kind).collect();
        for _ in 0..TIMER_STEPS {
            let Some(t) = self.eps.iter().filter_map(Endpoint::poll_timeout).min() else {
                break;
            };
            self.now = self.now.max(t);
            let now = self.now;
            for ep in &mut self.eps {
                if ep.poll_timeout().is_some_and(|t| t <= now) {
                    ep.handle_timeout(now);
                }
            }
            self.run(None);
        }
    }

    fn run(&mut self, hold: Option<Stage>) {
        loop {
            for i in [WEST, EAST] {
                self.drain(i);
            }
            if self.queue.is_empty() || self.deliveries >= MAX_DELIVERIES {
                return;
            }
            let (from, d) = self.queue.remove(0);
            if from == WEST && d.get(18) == Some(&exchange::QUICK) {
                self.quick_from_west += 1;
            }
            if let Some(stage) = hold {
                if from == WEST && self.held.is_none() && stage.holds(&d, self.quick_from_west) {
                    self.held = Some(d);
                    self.queue.clear();
                    return;
                }
            }
            self.wire.push((from, d.clone()));
            self.deliveries += 1;
            let (to, local, remote) = if from == WEST {
                (EAST, addr(2), addr(1))
            } else {
                (WEST, addr(1), addr(2))
            };
            let now = self.now;
            self.eps[to].handle_datagram(now, local, remote, &d);
        }
    }

    /// Moves node `i`'s outputs along: kernel requests answered, events
    /// dropped, datagrams queued.
    fn drain(&mut self, i: usize) {
        let now = self.now;
        let Some(ep) = self.eps.get_mut(i) else {
            return;
        };
        loop {
            let mut any = false;
            while let Some(op) = ep.poll_kernel_op() {
                any = true;
                let reply = match op {
                    KernelOp::GetSpi { req, .. } => {
                        self.next_spi += 1;
                        Some(KernelReply::Spi {
                            req,
                            spi: self.next_spi,
                        })
                    }
                    KernelOp::Install { req, .. } | KernelOp::UpdateSa { req, .. } => {
                        Some(KernelReply::Installed { req })
                    }
                    KernelOp::QuerySa { req, .. } => Some(KernelReply::SaUse { req, bytes: 0 }),
                    KernelOp::DeleteSa { .. } | KernelOp::DeletePolicy(_) => None,
                };
                if let Some(r) = reply {
                    ep.handle_kernel_reply(now, r);
                }
            }
            while ep.poll_event().is_some() {
                any = true;
            }
            while let Some(t) = ep.poll_transmit() {
                any = true;
                self.queue.push((i, t.payload));
            }
            if !any {
                return;
            }
        }
    }
}

impl Default for Pair {
    fn default() -> Pair {
        Pair::new()
    }
}

/// Unencrypted Main Mode at the responder. Byte 0 even: the rest is MI1
/// as received. Odd: a real MI1 is answered first and the rest is MI2,
/// with the cookies east chose written over its first 16 bytes.
pub fn engine_mm1(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        Pair::new().inject(rest);
        return;
    }
    let mut p = Pair::run_to(Stage::Mi2);
    let (i, r) = p.cookies();
    let mut d = rest.to_vec();
    for (slot, b) in d.iter_mut().zip(i.iter().chain(r.iter())) {
        *slot = *b;
    }
    p.inject(&d);
}

/// The control byte of an `engine-encrypted` input.
const STAGE_BITS: u8 = 0b11;
const FIX_HASH: u8 = 1 << 2;
const EXCHANGE_SHIFT: u8 = 3;
const LIVE_MSGID: u8 = 1 << 5;

/// Encrypted messages at the responder. Input: a control byte (bits 0-1:
/// stage MI3, QI1, QI2 or done; bit 2: put the correct HASH first; bits
/// 3-4: exchange as the stage expects it, Quick, Informational or Main;
/// bit 5: the live message ID instead of bytes 2-5), the first payload
/// type, a 4-byte message ID, then the payload chain, which is encrypted
/// under east's keys and IV as west would.
pub fn engine_encrypted(data: &[u8]) {
    let _ = engine_encrypted_run(data);
}

/// [`engine_encrypted`], returning the pair afterwards (None: the input is
/// too short, or the stage has no keys to encrypt with).
pub fn engine_encrypted_run(data: &[u8]) -> Option<Pair> {
    let (ctl, first, msgid, chain) = split_encrypted_input(data)?;
    let stage = match ctl & STAGE_BITS {
        0 => Stage::Mi3,
        1 => Stage::Qi1,
        2 => Stage::Qi2,
        _ => Stage::Done,
    };
    let mut p = Pair::run_to(stage);
    let ex = match (ctl >> EXCHANGE_SHIFT) & 0b11 {
        0 if stage == Stage::Mi3 => exchange::IDENTITY_PROTECTION,
        0 | 1 => exchange::QUICK,
        2 => exchange::INFORMATIONAL,
        _ => exchange::IDENTITY_PROTECTION,
    };
    let msgid = match (ctl & LIVE_MSGID != 0, stage) {
        (false, _) => msgid,
        (true, Stage::Mi3) => 0,
        (true, _) => p.quick_msgid().unwrap_or(msgid),
    };
    let (i, r) = p.cookies();
    let d = p
        .east()
        .fuzz_seal_as_peer(i, r, ex, msgid, first, chain, ctl & FIX_HASH != 0)?;
    p.inject(&d);
    Some(p)
}

fn split_encrypted_input(data: &[u8]) -> Option<(u8, u8, u32, &[u8])> {
    let (&ctl, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let m = rest.get(..4)?;
    let msgid = u32::from_be_bytes(<[u8; 4]>::try_from(m).ok()?);
    Some((ctl, first, msgid, rest.get(4..)?))
}

/// Seeds from one real negotiation: every datagram of MI1..QI2 (for the
/// `isakmp` and `engine-mm1` corpora, the latter with its mode byte), and
/// west's MI3, QI1 and QI2 opened and stripped of HASH as `engine-encrypted`
/// inputs, plus an Informational Delete of the IPsec SA.
pub fn exchange_datagrams() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let done = Pair::run_to(Stage::Done);
    let clear: Vec<Vec<u8>> = done.wire.iter().map(|(_, d)| d.clone()).collect();
    let mut encrypted = Vec::new();
    for (ctl, stage) in [(0u8, Stage::Mi3), (1, Stage::Qi1), (2, Stage::Qi2)] {
        let p = Pair::run_to(stage);
        let Some(held) = p.held.as_ref() else {
            continue;
        };
        let Some((first, plain)) = p.east().fuzz_open(held) else {
            continue;
        };
        let Ok(parsed) = parse_chain(first, &plain, true) else {
            continue;
        };
        let rest: Vec<Payload> = parsed
            .into_iter()
            .map(|x| x.payload)
            .filter(|x| x.ty() != payload_type::HASH)
            .collect();
        encrypted.push(encrypted_input(ctl | FIX_HASH | LIVE_MSGID, 0, &rest));
    }
    if let Some(spi) = done.quick_msgid().and_then(|_| last_esp_spi(&done)) {
        let del = crate::ike::wire::DeletePayload {
            doi: crate::ike::wire::DOI_IPSEC,
            protocol: crate::ike::wire::protocol::ESP,
            spi_size: 4,
            spis: vec![spi.to_be_bytes().to_vec()],
        };
        encrypted.push(encrypted_input(
            3 | FIX_HASH | (2 << EXCHANGE_SHIFT),
            0x5eed_0001,
            &[Payload::Delete(del)],
        ));
    }
    (clear, encrypted)
}

fn encrypted_input(ctl: u8, msgid: u32, payloads: &[Payload]) -> Vec<u8> {
    let (first, chain) = emit_chain(payloads);
    let mut v = vec![ctl, first];
    v.extend_from_slice(&msgid.to_be_bytes());
    v.extend_from_slice(&chain);
    v
}

/// The SPI of an ESP SA west receives on (east's outbound SA): what a
/// Delete from west names.
fn last_esp_spi(p: &Pair) -> Option<u32> {
    p.east()
        .states()
        .iter()
        .flat_map(|s| s.saids.iter().map(|&(_, outbound, _)| outbound))
        .find(|&s| s != 0)
}
