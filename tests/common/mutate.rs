//! Mutation strategies for datagrams.
//!
//! Deterministic: every choice comes from a [`SeededRng`]. The strategies know
//! the ISAKMP layout: a 28-byte header (icookie 8, rcookie 8, next payload,
//! version, exchange, flags, message ID u32, length u32), then a chain of
//! payloads, each starting with next(1) reserved(1) length(2, big endian).
//! Cleartext messages are walked down to proposals and transforms; of an
//! encrypted one (flag bit 0x01) only the header is visible, and "payload"
//! strategies work on 8-byte ciphertext blocks instead.

use rswan::ike::rng::{Rng, SeededRng};

/// ISAKMP header length.
pub const HDR: usize = 28;
/// Offset of the header's next-payload byte.
pub const OFF_NEXT: usize = 16;
pub const OFF_VERSION: usize = 17;
pub const OFF_EXCHANGE: usize = 18;
pub const OFF_FLAGS: usize = 19;
pub const OFF_MSGID: usize = 20;
pub const OFF_LEN: usize = 24;

/// What was done to a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Strategy {
    BitFlip,
    MultiBitFlip,
    ByteSet,
    Truncate,
    Extend,
    HeaderLength,
    PayloadLength,
    NextPayload,
    Exchange,
    Flags,
    MsgId,
    Version,
    Cookies,
    SwapPayloads,
    DuplicatePayload,
    /// Two to four of the above, one after the other.
    Stacked,
}

/// The single strategies, in the order [`Mutations::mutate`] draws from.
pub const SINGLE: [Strategy; 15] = [
    Strategy::BitFlip,
    Strategy::MultiBitFlip,
    Strategy::ByteSet,
    Strategy::Truncate,
    Strategy::Extend,
    Strategy::HeaderLength,
    Strategy::PayloadLength,
    Strategy::NextPayload,
    Strategy::Exchange,
    Strategy::Flags,
    Strategy::MsgId,
    Strategy::Version,
    Strategy::Cookies,
    Strategy::SwapPayloads,
    Strategy::DuplicatePayload,
];

/// A mutated datagram and what was done to it.
#[derive(Clone, Debug)]
pub struct Mutant {
    pub bytes: Vec<u8>,
    pub strategy: Strategy,
    pub desc: String,
}

impl Mutant {
    /// The description plus the mutated bytes in hex, for failure reports.
    pub fn report(&self) -> String {
        format!(
            "{:?}: {} ({} bytes: {})",
            self.strategy,
            self.desc,
            self.bytes.len(),
            hex(&self.bytes)
        )
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A generic payload header found in a cleartext message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Offset of the 4-byte generic header in the datagram.
    pub at: usize,
    /// Declared length (header included); the span fits the datagram.
    pub len: usize,
    /// This payload's type (from the previous next-payload field).
    pub ty: u8,
}

impl Span {
    pub fn end(&self) -> usize {
        self.at + self.len
    }
}

/// What can be seen of a datagram's structure.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub has_header: bool,
    pub encrypted: bool,
    /// Top-level payloads, in chain order (cleartext only).
    pub top: Vec<Span>,
    /// Proposal (type 2) and transform (type 3) payloads inside SA payloads.
    pub inner: Vec<Span>,
}

fn be16(d: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *d.get(at)?,
        *d.get(at + 1)?,
    ])))
}

/// Walks a chain of generic headers inside `d[from..to]` starting with type
/// `first`; stops at the first inconsistency.
fn walk(d: &[u8], from: usize, to: usize, first: u8, out: &mut Vec<Span>) {
    let mut pos = from;
    let mut ty = first;
    while ty != 0 && pos + 4 <= to {
        let Some(len) = be16(d, pos + 2) else { break };
        if len < 4 || pos + len > to {
            break;
        }
        out.push(Span { at: pos, len, ty });
        ty = d[pos];
        pos += len;
    }
}

/// Finds the header, the top-level chain of a cleartext message and the
/// proposals and transforms of its SA payloads.
pub fn layout(d: &[u8]) -> Layout {
    let mut l = Layout::default();
    if d.len() < HDR {
        return l;
    }
    l.has_header = true;
    l.encrypted = d[OFF_FLAGS] & 0x01 != 0;
    if l.encrypted {
        return l;
    }
    walk(d, HDR, d.len(), d[OFF_NEXT], &mut l.top);
    for sa in l.top.iter().filter(|s| s.ty == 1) {
        // SA body: DOI(4) situation(4), then proposals.
        let mut props = Vec::new();
        walk(d, sa.at + 12, sa.end(), 2, &mut props);
        for p in &props {
            // Proposal body: number, protocol, SPI size, #transforms, SPI.
            let spi_size = usize::from(d.get(p.at + 6).copied().unwrap_or(0));
            walk(d, p.at + 8 + spi_size, p.end(), 3, &mut l.inner);
        }
        l.inner.extend(props);
    }
    // Stable: spans at the same offset keep their order.
    #[allow(clippy::disallowed_methods)] // a test helper: the binary's size is not at stake
    l.inner.sort_by_key(|s| s.at);
    l
}

/// Payload types worth trying in a next-payload field: none, every IKEv1
/// type, the ones in between, IKEv2's 33..=53 and private use.
fn next_payload_values() -> Vec<u8> {
    let mut v: Vec<u8> = (0..=22).collect();
    v.extend(32..=54);
    v.extend([127, 128, 129, 200, 254, 255]);
    v
}

/// Header-only / byte-level view of a datagram plus a seeded generator.
pub struct Mutations {
    rng: SeededRng,
}

impl Mutations {
    pub fn new(seed: u64) -> Mutations {
        Mutations {
            rng: SeededRng::new(seed),
        }
    }

    pub fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.rng.fill(&mut b);
        u64::from_be_bytes(b)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.u64() % n as u64) as usize
    }

    pub fn byte(&mut self) -> u8 {
        let mut b = [0u8; 1];
        self.rng.fill(&mut b);
        b[0]
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }

    fn random_bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        self.rng.fill(&mut v);
        v
    }

    /// A mutant of `data` by a strategy drawn at random (one in eight stacked).
    /// The result always differs from `data`.
    pub fn mutate(&mut self, data: &[u8]) -> Mutant {
        let s = if self.chance(12) {
            Strategy::Stacked
        } else {
            self.pick(&SINGLE)
        };
        self.mutate_with(s, data)
    }

    /// A mutant of `data` by `strategy`, or by a byte-level fallback when the
    /// strategy does not apply to this datagram (noted in the description).
    /// The result always differs from `data`.
    pub fn mutate_with(&mut self, strategy: Strategy, data: &[u8]) -> Mutant {
        for _ in 0..8 {
            if let Some((bytes, desc)) = self.apply(strategy, data) {
                if bytes != data {
                    return Mutant {
                        bytes,
                        strategy,
                        desc,
                    };
                }
            }
        }
        // Not applicable (e.g. no payloads to swap): flip a bit instead.
        let (bytes, desc) = self.bit_flip(data);
        Mutant {
            bytes,
            strategy: Strategy::BitFlip,
            desc: format!("{desc} (fallback from {strategy:?})"),
        }
    }

    /// One strategy; `None` when it does not apply.
    pub fn apply(&mut self, s: Strategy, d: &[u8]) -> Option<(Vec<u8>, String)> {
        let l = layout(d);
        match s {
            Strategy::BitFlip => Some(self.bit_flip(d)),
            Strategy::MultiBitFlip => {
                if d.is_empty() {
                    return None;
                }
                let mut v = d.to_vec();
                let n = 2 + self.below(7);
                let mut at = Vec::new();
                for _ in 0..n {
                    let i = self.below(v.len());
                    let b = self.below(8);
                    v[i] ^= 1 << b;
                    at.push(format!("{i}.{b}"));
                }
                Some((v, format!("flip bits {}", at.join(","))))
            }
            Strategy::ByteSet => {
                if d.is_empty() {
                    return None;
                }
                let mut v = d.to_vec();
                // One time in three, aim at the header.
                let i = if self.chance(33) {
                    self.below(v.len().min(HDR))
                } else {
                    self.below(v.len())
                };
                let val = match self.below(3) {
                    0 => 0x00,
                    1 => 0xff,
                    _ => self.byte(),
                };
                v[i] = val;
                Some((v, format!("byte {i} = {val:#04x}")))
            }
            Strategy::Truncate => {
                if d.is_empty() {
                    return None;
                }
                let at = if self.chance(30) {
                    self.below(d.len().min(HDR + 1))
                } else {
                    self.below(d.len())
                };
                let mut v = d[..at].to_vec();
                let fix = at >= HDR && self.chance(50);
                if fix {
                    set_len(&mut v, at as u32);
                }
                Some((
                    v,
                    format!(
                        "truncate to {at}{}",
                        if fix { ", header length fixed" } else { "" }
                    ),
                ))
            }
            Strategy::Extend => {
                // Whole 8/16-byte blocks half the time: those get past the
                // "whole number of cipher blocks" check of encrypted bodies.
                let n = if self.chance(50) {
                    self.pick(&[8usize, 16, 24, 32, 64])
                } else {
                    1 + self.below(64)
                };
                let mut v = d.to_vec();
                v.extend(self.random_bytes(n));
                let fix = v.len() >= HDR && l.has_header && self.chance(50);
                if fix {
                    let len = v.len() as u32;
                    set_len(&mut v, len);
                }
                Some((
                    v,
                    format!(
                        "append {n} random bytes{}",
                        if fix { ", header length fixed" } else { "" }
                    ),
                ))
            }
            Strategy::HeaderLength => {
                if !l.has_header {
                    return None;
                }
                let n = d.len() as u32;
                let val = self.pick(&[
                    0,
                    1,
                    3,
                    4,
                    27,
                    28,
                    29,
                    n.wrapping_sub(1),
                    n + 1,
                    n.wrapping_sub(8),
                    n + 8,
                    n.wrapping_sub(16),
                    n + 16,
                    0xffff,
                    0x1_0000,
                    0x8000_0000,
                    0xffff_ffff,
                ]);
                let mut v = d.to_vec();
                set_len(&mut v, val);
                Some((v, format!("header length = {val:#x} (datagram {n})")))
            }
            Strategy::PayloadLength => {
                let spans: Vec<Span> = l.top.iter().chain(&l.inner).copied().collect();
                if spans.is_empty() {
                    return None;
                }
                let s = self.pick(&spans);
                let rest = d.len() - s.at;
                let val = self.pick(&[
                    0,
                    1,
                    2,
                    3,
                    4,
                    5,
                    s.len - 1,
                    s.len + 1,
                    s.len + 4,
                    rest,
                    rest + 1,
                    0x8000,
                    0xffff,
                ]);
                let val = val.min(0xffff) as u16;
                let mut v = d.to_vec();
                v[s.at + 2..s.at + 4].copy_from_slice(&val.to_be_bytes());
                Some((
                    v,
                    format!(
                        "length of payload type {} at {} = {val} (was {})",
                        s.ty, s.at, s.len
                    ),
                ))
            }
            Strategy::NextPayload => {
                if !l.has_header {
                    return None;
                }
                let mut at: Vec<usize> = vec![OFF_NEXT];
                at.extend(l.top.iter().map(|s| s.at));
                at.extend(l.inner.iter().map(|s| s.at));
                let i = self.pick(&at);
                let val = if self.chance(10) {
                    self.byte()
                } else {
                    self.pick(&next_payload_values())
                };
                let mut v = d.to_vec();
                let was = v[i];
                v[i] = val;
                Some((v, format!("next payload at {i} = {val} (was {was})")))
            }
            Strategy::Exchange => {
                if !l.has_header {
                    return None;
                }
                let val = if self.chance(10) {
                    self.byte()
                } else {
                    self.pick(&[0u8, 1, 2, 3, 4, 5, 6, 31, 32, 33, 34, 35, 36, 37, 255])
                };
                let mut v = d.to_vec();
                v[OFF_EXCHANGE] = val;
                Some((v, format!("exchange type = {val}")))
            }
            Strategy::Flags => {
                if !l.has_header {
                    return None;
                }
                let was = d[OFF_FLAGS];
                let val = match self.below(4) {
                    0 => self.pick(&[0x00u8, 0x01, 0x02, 0x03, 0x04, 0x05, 0x07, 0x08, 0x80, 0xff]),
                    1 => was ^ self.pick(&[0x01u8, 0x02, 0x04]),
                    2 => was ^ (1 << self.below(8)),
                    _ => self.byte(),
                };
                let mut v = d.to_vec();
                v[OFF_FLAGS] = val;
                Some((v, format!("flags = {val:#04x} (was {was:#04x})")))
            }
            Strategy::MsgId => {
                if !l.has_header {
                    return None;
                }
                let was = u32::from_be_bytes(d[OFF_MSGID..OFF_MSGID + 4].try_into().ok()?);
                let val = match self.below(7) {
                    0 => 0,
                    1 => 1,
                    2 => 0xffff_ffff,
                    3 => was.wrapping_add(1),
                    4 => was ^ 0x8000_0000,
                    5 => was.swap_bytes(),
                    _ => self.u64() as u32,
                };
                let mut v = d.to_vec();
                v[OFF_MSGID..OFF_MSGID + 4].copy_from_slice(&val.to_be_bytes());
                Some((v, format!("message ID = {val:#010x} (was {was:#010x})")))
            }
            Strategy::Version => {
                if !l.has_header {
                    return None;
                }
                let val = if self.chance(20) {
                    self.byte()
                } else {
                    self.pick(&[0x00u8, 0x01, 0x0f, 0x11, 0x1f, 0x20, 0x21, 0x30, 0xf0, 0xff])
                };
                let mut v = d.to_vec();
                v[OFF_VERSION] = val;
                Some((v, format!("version = {val:#04x}")))
            }
            Strategy::Cookies => {
                if !l.has_header {
                    return None;
                }
                let mut v = d.to_vec();
                let desc = match self.below(5) {
                    0 => {
                        v[8..16].fill(0);
                        "responder cookie zeroed"
                    }
                    1 => {
                        v[0..8].fill(0);
                        "initiator cookie zeroed"
                    }
                    2 => {
                        let (a, b) = v.split_at_mut(8);
                        a.swap_with_slice(&mut b[..8]);
                        "cookies swapped"
                    }
                    3 => {
                        let r = self.random_bytes(8);
                        v[8..16].copy_from_slice(&r);
                        "responder cookie random"
                    }
                    _ => {
                        let i: Vec<u8> = v[0..8].to_vec();
                        v[8..16].copy_from_slice(&i);
                        "responder cookie = initiator cookie"
                    }
                };
                Some((v, desc.to_string()))
            }
            Strategy::SwapPayloads => {
                if l.encrypted {
                    let blocks = (d.len() - HDR) / 8;
                    if blocks < 2 {
                        return None;
                    }
                    let a = self.below(blocks);
                    let b = self.below(blocks);
                    if a == b {
                        return None;
                    }
                    let mut v = d.to_vec();
                    let (pa, pb) = (HDR + 8 * a, HDR + 8 * b);
                    let tmp: Vec<u8> = v[pa..pa + 8].to_vec();
                    v.copy_within(pb..pb + 8, pa);
                    v[pb..pb + 8].copy_from_slice(&tmp);
                    return Some((v, format!("swap ciphertext blocks {a} and {b} (8 bytes)")));
                }
                if l.top.len() < 2 {
                    return None;
                }
                let i = self.below(l.top.len());
                let j = self.below(l.top.len());
                if i == j {
                    return None;
                }
                let mut order: Vec<usize> = (0..l.top.len()).collect();
                order.swap(i, j);
                let fix = self.chance(50);
                let v = reassemble(d, &l.top, &order, fix);
                Some((
                    v,
                    format!(
                        "swap payloads #{i} (type {}) and #{j} (type {}){}",
                        l.top[i].ty,
                        l.top[j].ty,
                        if fix { ", chain fixed" } else { ", raw" }
                    ),
                ))
            }
            Strategy::DuplicatePayload => {
                if l.encrypted {
                    let blocks = (d.len() - HDR) / 8;
                    if blocks < 1 {
                        return None;
                    }
                    let a = self.below(blocks);
                    let pa = HDR + 8 * a;
                    let mut v = d.to_vec();
                    let blk: Vec<u8> = v[pa..pa + 8].to_vec();
                    let at = if self.chance(50) { pa + 8 } else { v.len() };
                    v.splice(at..at, blk);
                    let fix = self.chance(80);
                    if fix {
                        let n = v.len() as u32;
                        set_len(&mut v, n);
                    }
                    return Some((
                        v,
                        format!(
                            "duplicate ciphertext block {a} at {at}{}",
                            if fix { ", header length fixed" } else { "" }
                        ),
                    ));
                }
                if l.top.is_empty() {
                    return None;
                }
                let i = self.below(l.top.len());
                let mut order: Vec<usize> = (0..l.top.len()).collect();
                let at = if self.chance(50) {
                    i + 1
                } else {
                    self.below(order.len() + 1)
                };
                order.insert(at, i);
                let fix = self.chance(85);
                let v = reassemble(d, &l.top, &order, fix);
                Some((
                    v,
                    format!(
                        "duplicate payload #{i} (type {}) at position {at}{}",
                        l.top[i].ty,
                        if fix { ", chain fixed" } else { ", raw" }
                    ),
                ))
            }
            Strategy::Stacked => {
                let n = 2 + self.below(3);
                let mut v = d.to_vec();
                let mut descs = Vec::new();
                for _ in 0..n {
                    let s = self.pick(&SINGLE);
                    if let Some((w, desc)) = self.apply(s, &v) {
                        v = w;
                        descs.push(format!("{s:?}: {desc}"));
                    }
                }
                Some((v, descs.join(" + ")))
            }
        }
    }

    fn bit_flip(&mut self, d: &[u8]) -> (Vec<u8>, String) {
        if d.is_empty() {
            return (vec![self.byte()], "empty datagram: one random byte".into());
        }
        let mut v = d.to_vec();
        let i = self.below(v.len());
        let b = self.below(8);
        v[i] ^= 1 << b;
        (v, format!("flip bit {b} of byte {i}"))
    }
}

/// Overwrites the ISAKMP header's 32-bit length (if the datagram has one).
pub fn set_len(v: &mut [u8], len: u32) {
    if v.len() >= HDR {
        v[OFF_LEN..OFF_LEN + 4].copy_from_slice(&len.to_be_bytes());
    }
}

/// Rebuilds a cleartext message with its top-level payloads in `order`
/// (indices into `top`, repeats allowed). With `fix`, the next-payload
/// fields and the header length are made consistent with the new order;
/// without, payloads are moved as raw bytes. Bytes after the chain are kept.
fn reassemble(d: &[u8], top: &[Span], order: &[usize], fix: bool) -> Vec<u8> {
    let chain_end = top.last().map_or(HDR, Span::end);
    let mut v = d[..HDR].to_vec();
    let mut starts = Vec::new();
    for &k in order {
        starts.push(v.len());
        v.extend_from_slice(&d[top[k].at..top[k].end()]);
    }
    v.extend_from_slice(&d[chain_end..]);
    if fix {
        v[OFF_NEXT] = order.first().map_or(0, |&k| top[k].ty);
        for (n, &start) in starts.iter().enumerate() {
            v[start] = order.get(n + 1).map_or(0, |&k| top[k].ty);
        }
        let len = v.len() as u32;
        set_len(&mut v, len);
    }
    v
}

/// Whether a mutant carries the same message as `orig` for an IKEv1
/// receiver: both headers parse, and the cookies, first payload, exchange,
/// encryption flag, message ID and body (up to the header length) are equal.
/// What may differ: the minor version, the commit/authentication-only flags
/// and bytes past the header's length.
pub fn equivalent(orig: &[u8], mutant: &[u8]) -> bool {
    use rswan::ike::wire::parse_header;
    match (parse_header(orig), parse_header(mutant)) {
        (Ok((a, ab)), Ok((b, bb))) => {
            a.icookie == b.icookie
                && a.rcookie == b.rcookie
                && a.next_payload == b.next_payload
                && a.version >> 4 == b.version >> 4
                && a.exchange == b.exchange
                && a.flags & 0x01 == b.flags & 0x01
                && b.flags & !0x07 == 0
                && a.msgid == b.msgid
                && ab == bb
        }
        _ => false,
    }
}

/// `orig` is encrypted and `mutant` is the same message with whole 8-byte
/// blocks appended to the ciphertext and the header length raised to cover
/// them (other header fields as [`equivalent`] allows). The payload chain
/// still decrypts, the extra blocks pass for padding, but the receiver's CBC
/// IV for the next message (the last ciphertext block) is no longer the
/// sender's.
pub fn ciphertext_extended(orig: &[u8], mutant: &[u8]) -> bool {
    use rswan::ike::wire::parse_header;
    match (parse_header(orig), parse_header(mutant)) {
        (Ok((a, ab)), Ok((b, bb))) => {
            a.flags & 0x01 != 0
                && a.icookie == b.icookie
                && a.rcookie == b.rcookie
                && a.next_payload == b.next_payload
                && a.exchange == b.exchange
                && b.flags & !0x07 == a.flags & !0x07
                && a.msgid == b.msgid
                && bb.len() > ab.len()
                && (bb.len() - ab.len()) % 8 == 0
                && bb.starts_with(ab)
        }
        _ => false,
    }
}

/// `mutant` is `orig` (which carries a responder cookie) with the responder
/// cookie zeroed, otherwise as [`equivalent`] allows.
pub fn rcookie_zeroed(orig: &[u8], mutant: &[u8]) -> bool {
    if orig.len() < HDR || orig[8..16] == [0; 8] {
        return false;
    }
    let mut o = orig.to_vec();
    o[8..16].fill(0);
    equivalent(&o, mutant)
}
