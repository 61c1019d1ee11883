//! State objects: one per ISAKMP SA or IPsec SA negotiation, numbered `#1`, `#2`...
//! The names, numbers and stories are the old pluto's, because scripts read them.

use super::crypto::{DhKeyPair, HashAlg, Phase1Keys};
use super::kernel::IpsecProto;
use super::proposal::{Chosen, IkeTransform, IpsecProposal};
use super::wire::Identity;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateKind {
    MainI1,
    MainR1,
    MainI2,
    MainR2,
    MainI3,
    MainR3,
    MainI4,
    /// Responder waiting for the kernel's SPIs before it can answer QI1.
    QuickR0,
    /// Initiator waiting for the kernel's SPIs before it can send QI1.
    QuickI0,
    QuickI1,
    QuickR1,
    QuickI2,
    QuickR2,
}

impl StateKind {
    pub fn name(self) -> &'static str {
        match self {
            StateKind::MainI1 => "STATE_MAIN_I1",
            StateKind::MainR1 => "STATE_MAIN_R1",
            StateKind::MainI2 => "STATE_MAIN_I2",
            StateKind::MainR2 => "STATE_MAIN_R2",
            StateKind::MainI3 => "STATE_MAIN_I3",
            StateKind::MainR3 => "STATE_MAIN_R3",
            StateKind::MainI4 => "STATE_MAIN_I4",
            StateKind::QuickR0 => "STATE_QUICK_R0",
            StateKind::QuickI0 => "STATE_QUICK_I1",
            StateKind::QuickI1 => "STATE_QUICK_I1",
            StateKind::QuickR1 => "STATE_QUICK_R1",
            StateKind::QuickI2 => "STATE_QUICK_I2",
            StateKind::QuickR2 => "STATE_QUICK_R2",
        }
    }

    /// The old pluto's enum value; whack progress lines carry 100 + this.
    pub fn number(self) -> u16 {
        match self {
            StateKind::MainI1 => 4,
            StateKind::MainR1 => 5,
            StateKind::MainI2 => 6,
            StateKind::MainR2 => 7,
            StateKind::MainI3 => 8,
            StateKind::MainR3 => 9,
            StateKind::MainI4 => 10,
            StateKind::QuickR0 => 16,
            StateKind::QuickI0 | StateKind::QuickI1 => 17,
            StateKind::QuickR1 => 18,
            StateKind::QuickI2 => 19,
            StateKind::QuickR2 => 20,
        }
    }

    pub fn story(self) -> &'static str {
        match self {
            StateKind::MainI1 => "sent MI1, expecting MR1",
            StateKind::MainR1 => "sent MR1, expecting MI2",
            StateKind::MainI2 => "sent MI2, expecting MR2",
            StateKind::MainR2 => "sent MR2, expecting MI3",
            StateKind::MainI3 => "sent MI3, expecting MR3",
            StateKind::MainR3 => "sent MR3, ISAKMP SA established",
            StateKind::MainI4 => "ISAKMP SA established",
            StateKind::QuickR0 => "expecting QI1",
            StateKind::QuickI0 => "waiting for the kernel's SPI",
            StateKind::QuickI1 => "sent QI1, expecting QR1",
            StateKind::QuickR1 => "sent QR1, inbound IPsec SA installed, expecting QI2",
            StateKind::QuickI2 => "sent QI2, IPsec SA established",
            StateKind::QuickR2 => "IPsec SA established",
        }
    }

    pub fn is_established(self) -> bool {
        matches!(
            self,
            StateKind::MainR3 | StateKind::MainI4 | StateKind::QuickI2 | StateKind::QuickR2
        )
    }

    /// States that answer an exact duplicate of the last message by sending
    /// their last message again (the peer evidently lost it).
    pub fn resends_on_duplicate(self) -> bool {
        matches!(
            self,
            StateKind::MainR1
                | StateKind::MainR2
                | StateKind::MainR3
                | StateKind::QuickR1
                | StateKind::QuickI2
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Initiator,
    Responder,
}

/// First wait before resending; it doubles each time.
pub const RETRANSMIT_DELAY: Duration = Duration::from_secs(10);
/// A message goes out at most this many times (first send included).
pub const MAX_SENDS: u8 = 3;
/// How long a responder keeps an ISAKMP state that has answered MI1 and
/// waits for MI2: as long as an initiator retransmits MI1 (10 + 20 + 40 s).
pub const HALF_OPEN_DISCARD: Duration = Duration::from_secs(70);
/// Resends triggered by duplicates per state, to bound amplification.
pub const MAX_DUPLICATE_RESENDS: u8 = 2;

/// SHA-1 of a datagram: what duplicate detection compares.
pub type Digest = [u8; 20];

/// The last message we sent, kept for retransmission.
#[derive(Debug, Clone)]
pub struct Retransmit {
    pub packet: Vec<u8>,
    /// Whether the timer may resend it (a responder's final reply waits for duplicates only).
    pub timed: bool,
    pub sends: u8,
    pub next: Instant,
    pub dup_resends: u8,
}

impl Retransmit {
    /// What a state of `kind` sends again for an exact duplicate of the
    /// message that brought it here: its last message, a bounded number of
    /// times, and only if that kind answers duplicates at all.
    pub fn for_duplicate(r: Option<&mut Retransmit>, kind: StateKind) -> Option<Vec<u8>> {
        let r =
            r.filter(|r| kind.resends_on_duplicate() && r.dup_resends < MAX_DUPLICATE_RESENDS)?;
        r.dup_resends += 1;
        Some(r.packet.clone())
    }

    /// The wait after the latest send: the first delay, doubled for each
    /// send after the first.
    pub fn delay(&self) -> Duration {
        let doublings = u32::from(self.sends.saturating_sub(1)).min(16);
        RETRANSMIT_DELAY.saturating_mul(1 << doublings)
    }

    pub fn new(packet: Vec<u8>, now: Instant, timed: bool) -> Retransmit {
        Retransmit {
            packet,
            timed,
            sends: 1,
            next: now + RETRANSMIT_DELAY,
            dup_resends: 0,
        }
    }
}

/// Keys and CBC state of an ISAKMP SA once g^xy is known.
#[derive(Clone)]
pub struct Phase1Crypto {
    pub xform: IkeTransform,
    pub keys: Phase1Keys,
    /// The CBC IV for the next phase-1 message; after establishment, the last
    /// phase-1 ciphertext block that phase-2 IVs derive from.
    pub iv: Vec<u8>,
}

impl Phase1Crypto {
    pub fn prf(&self) -> HashAlg {
        self.xform.hash
    }
}

#[cfg_attr(test, derive(Clone))]
pub struct Phase1 {
    pub serial: u64,
    pub conn: String,
    pub role: Role,
    pub kind: StateKind,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub icookie: [u8; 8],
    pub rcookie: [u8; 8],
    pub chosen: Option<IkeTransform>,
    /// What only Main Mode's messages need (see [`MainExchange`]); `None`
    /// once the ISAKMP SA is established.
    pub ex: Option<Box<MainExchange>>,
    pub crypto: Option<Phase1Crypto>,
    pub peer_id: Option<Identity>,
    pub retransmit: Option<Retransmit>,
    /// Digest of the last message that moved this state, to spot duplicates.
    pub last_rx: Option<Digest>,
    /// Message IDs seen or used under this SA: a reused one is a replay.
    pub msgids: Vec<u32>,
    /// When to start replacing this SA (EVENT_SA_REPLACE), if it is rekeyed.
    pub replace: Option<Instant>,
    pub expires: Option<Instant>,
    /// Keying attempt number (0 for responders).
    pub attempt: u32,
    /// Start Quick Mode for the connection once established.
    pub pending_quick: bool,
    /// Authenticated messages received under this SA after it was established.
    pub auth_rx: u64,
    /// The extensions the peer announced in MI1/MR1.
    pub peer: super::vendor::PeerCaps,
    /// Dead Peer Detection and the peer's INITIAL-CONTACT.
    pub dpd: super::dpd::DpdState,
    /// NAT traversal: the method in use and which end is behind a NAT.
    pub nat: super::natt::NatState,
    /// The computation (`compute`) the current step waits for: until it
    /// comes back the state stays as it is and another copy of the peer's
    /// message asks for nothing more.
    pub computing: Option<u64>,
}

/// The inputs of Main Mode's keys and hashes, kept only while it runs
/// (boxed, so that an established ISAKMP SA carries none of it).
#[derive(Default)]
#[cfg_attr(test, derive(Clone))]
pub struct MainExchange {
    /// Initiator: what MI1 offered. Responder: what it accepts.
    pub offered: Vec<IkeTransform>,
    /// The initiator's SA payload body as sent: input of HASH_I/HASH_R.
    pub sai_b: Vec<u8>,
    pub dh: Option<DhKeyPair>,
    pub gxi: Vec<u8>,
    pub gxr: Vec<u8>,
    pub ni: Vec<u8>,
    pub nr: Vec<u8>,
    pub psk: Vec<u8>,
    /// The peer's keys DNS gave (`dnskey`), and whether it was asked.
    pub dns_keys: Vec<super::crypto::rsa::RsaPublicKey>,
    pub dns_asked: bool,
}

/// What an established ISAKMP SA reads as its exchange: nothing.
static NO_EXCHANGE: MainExchange = MainExchange {
    offered: Vec::new(),
    sai_b: Vec::new(),
    dh: None,
    gxi: Vec::new(),
    gxr: Vec::new(),
    ni: Vec::new(),
    nr: Vec::new(),
    psk: Vec::new(),
    dns_keys: Vec::new(),
    dns_asked: false,
};

impl Phase1 {
    /// Main Mode's inputs (empty once it is over).
    pub fn ex(&self) -> &MainExchange {
        self.ex.as_deref().unwrap_or(&NO_EXCHANGE)
    }

    pub fn ex_mut(&mut self) -> &mut MainExchange {
        self.ex.get_or_insert_with(Box::default)
    }

    /// Main Mode is over: what only its messages needed goes (the DH pair
    /// and public values, nonces, the PSK, SA payload and offers, SKEYID,
    /// and SKEYID_e, which the encryption key is made from). SKEYID_d/a,
    /// the encryption key, the IV and the last message (a responder
    /// resends MR3 for a repeated MI3) stay.
    pub(crate) fn forget_exchange(&mut self) {
        self.ex = None;
        if let Some(c) = self.crypto.as_mut() {
            c.keys.forget_exchange();
        }
    }
}

#[cfg_attr(test, derive(Clone))]
pub struct Phase2 {
    pub serial: u64,
    pub parent: u64,
    pub conn: String,
    pub role: Role,
    pub kind: StateKind,
    pub msgid: u32,
    /// CBC IV for the next message of this exchange.
    pub iv: Vec<u8>,
    /// Initiator: the IV QR1 was decrypted with, to recognise a later copy.
    pub qr1_iv: Vec<u8>,
    /// The parent's `auth_rx` when QI1 went out: unchanged at give-up means
    /// the peer said nothing we could read since.
    pub parent_auth_rx: u64,
    pub ni: Vec<u8>,
    pub nr: Vec<u8>,
    /// The offers and PFS values (see [`QuickExchange`]); `None` once the
    /// IPsec SA is established.
    pub qx: Option<Box<QuickExchange>>,
    /// The computation (`compute`) the current step waits for, as in [`Phase1`].
    pub computing: Option<u64>,
    /// Client IDs as sent/received (IDci, IDcr), if any.
    pub id_i: Option<Vec<u8>>,
    pub id_r: Option<Vec<u8>>,
    pub chosen: Option<Chosen>,
    /// Our inbound SPIs (from the kernel), per protocol.
    pub our_spis: Vec<(IpsecProto, u32)>,
    /// Kernel requests still outstanding.
    pub pending_spis: Vec<(u64, IpsecProto)>,
    pub reqid: u32,
    pub retransmit: Option<Retransmit>,
    pub last_rx: Option<Digest>,
    /// When to start replacing this SA (EVENT_SA_REPLACE), if it is rekeyed.
    pub replace: Option<Instant>,
    pub expires: Option<Instant>,
    /// The replace and expiry times planned when the SAs went to the
    /// kernel: the kernel got the same replace time as its soft lifetime.
    pub planned: Option<(Option<Instant>, Instant)>,
    pub attempt: u32,
    /// SAs and policies the kernel confirmed, for removal.
    pub installed: Vec<super::kernel::InstalledSa>,
    pub policies: Vec<super::kernel::PolicySpec>,
    /// An install the kernel has not answered yet, and what follows it.
    pub pending_install: Option<Box<PendingInstall>>,
    /// The peer's original address (NAT-OA), if it sent one.
    pub nat_oa: Option<std::net::IpAddr>,
    /// The peer's client when it is a virtual one it proposed (`vhost:`/`vnet:`).
    pub peer_client: Option<super::kernel::Selector>,
}

/// A Quick Mode exchange's offers and PFS values, kept only while it runs
/// (boxed, so that an established IPsec SA carries none of it).
#[derive(Default)]
#[cfg_attr(test, derive(Clone))]
pub struct QuickExchange {
    pub offered: Vec<IpsecProposal>,
    pub dh: Option<DhKeyPair>,
    pub peer_ke: Option<Vec<u8>>,
    /// PFS: g^xy of `dh` and `peer_ke`, computed once for both directions'
    /// KEYMAT (a responder installs them at different times).
    pub gqm: Option<Vec<u8>>,
}

static NO_QUICK_EXCHANGE: QuickExchange = QuickExchange {
    offered: Vec::new(),
    dh: None,
    peer_ke: None,
    gqm: None,
};

impl Phase2 {
    /// The exchange's offers and PFS values (empty once it is over).
    pub fn qx(&self) -> &QuickExchange {
        self.qx.as_deref().unwrap_or(&NO_QUICK_EXCHANGE)
    }

    pub fn qx_mut(&mut self) -> &mut QuickExchange {
        self.qx.get_or_insert_with(Box::default)
    }
}

/// SAs and policies handed to the kernel, waiting for its answer.
#[derive(Debug)]
#[cfg_attr(test, derive(Clone))]
pub struct PendingInstall {
    pub req: u64,
    pub sas: Vec<super::kernel::SaInstall>,
    pub policies: Vec<super::kernel::PolicySpec>,
    pub then: AfterInstall,
}

/// What a Quick Mode state does once the kernel holds its SAs: the message
/// is only sent (and the SA only announced) after that, so that a kernel
/// refusal never leaves the peer believing in an SA we cannot carry.
#[derive(Debug)]
#[cfg_attr(test, derive(Clone))]
pub enum AfterInstall {
    /// Initiator: send QI2, the IPsec SA is established.
    SendQi2(Vec<u8>),
    /// Responder: the inbound SA is in; send QR1.
    SendQr1(Vec<u8>),
    /// Responder after QI2: the IPsec SA is established.
    Establish,
}

impl Phase2 {
    /// The SAs are in the kernel: the KEYMAT inputs (nonces, PFS values)
    /// and the offers go. An initiator keeps its nonces, to recognise and
    /// answer a repeated QR1 (`initiator_qr1_again`).
    pub(crate) fn forget_exchange(&mut self) {
        self.qx = None;
        self.pending_spis = Vec::new();
        if let Some(c) = self.chosen.as_mut() {
            c.forget_wire();
        }
        self.our_spis.shrink_to_fit();
        self.installed.shrink_to_fit();
        self.policies.shrink_to_fit();
        if self.role == Role::Responder {
            // Nor the CBC state: a responder sends nothing more in this
            // exchange, and a repeated QI2 is known by its digest.
            self.ni = Vec::new();
            self.nr = Vec::new();
            self.iv = Vec::new();
        }
    }

    pub fn our_spi(&self, p: IpsecProto) -> u32 {
        self.our_spis
            .iter()
            .find(|(q, _)| *q == p)
            .map_or(0, |(_, s)| *s)
    }
}

/// What a state can be found by, besides its serial (see `table`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum StateKey {
    /// The connection the state belongs to, and whether it is established.
    /// `conn` is a hash of the name (see `peers::conn_key`): every lookup
    /// by it also checks the name, so two names of one hash only share a
    /// bucket, and the key needs no copy of the name.
    Conn { conn: u64, established: bool },
    /// A Quick Mode exchange: its ISAKMP SA and message ID.
    Exchange { parent: u64, msgid: u32 },
    /// An IPsec state negotiated under this ISAKMP SA.
    Child(u64),
    /// An ISAKMP SA's peer address; an IPsec state's SAs' peer end (the
    /// source of inbound ones, the destination of outbound ones).
    Peer(std::net::IpAddr),
    /// A kernel request the state waits for the answer to.
    KernelReq(u64),
    /// An SPI the peer chose for an IPsec SA (what its Delete names).
    PeerSpi(IpsecProto, u32),
    /// A kernel SA the state installed: protocol, SPI, destination.
    Sa(IpsecProto, u32, std::net::IpAddr),
    /// An ISAKMP SA's peer ID, hashed (see `unique_ids::peer_id_key`).
    PeerId(u64),
}

/// The earliest of a state's retransmit, replace and expiry timers.
pub(crate) fn lifetime_deadline(
    r: Option<&Retransmit>,
    replace: Option<Instant>,
    expires: Option<Instant>,
) -> Option<Instant> {
    super::lifetime::next_event(r, replace, expires).map(|(_, t)| t)
}

impl super::table::Tracked for Phase1 {
    type Key = StateKey;

    /// The lifetime timers and the DPD ones.
    fn deadline(&self) -> Option<Instant> {
        let life = lifetime_deadline(self.retransmit.as_ref(), self.replace, self.expires);
        life.into_iter().chain(self.dpd.deadline()).min()
    }

    fn keys(&self, out: &mut Vec<StateKey>) {
        out.push(super::peers::conn_key(
            &self.conn,
            self.kind.is_established(),
        ));
        out.push(StateKey::Peer(self.remote.ip()));
        out.extend(self.peer_id.as_ref().map(super::unique_ids::peer_id_key));
        out.extend(self.dpd.pending_reqs().map(StateKey::KernelReq));
    }
}

impl super::table::Tracked for Phase2 {
    type Key = StateKey;

    fn deadline(&self) -> Option<Instant> {
        lifetime_deadline(self.retransmit.as_ref(), self.replace, self.expires)
    }

    fn keys(&self, out: &mut Vec<StateKey>) {
        out.push(super::peers::conn_key(
            &self.conn,
            self.kind.is_established(),
        ));
        out.push(StateKey::Child(self.parent));
        out.extend(self.chosen.iter().flat_map(|c| {
            c.protos
                .iter()
                .map(|cp| StateKey::PeerSpi(cp.proto, cp.peer_spi))
        }));
        out.push(StateKey::Exchange {
            parent: self.parent,
            msgid: self.msgid,
        });
        out.extend(
            self.pending_install
                .as_ref()
                .map(|p| StateKey::KernelReq(p.req)),
        );
        out.extend(
            self.pending_spis
                .iter()
                .map(|(r, _)| StateKey::KernelReq(*r)),
        );
        out.extend(
            self.installed
                .iter()
                .map(|sa| StateKey::Sa(sa.proto, sa.spi, sa.dst)),
        );
        let mut peers: Vec<std::net::IpAddr> = (self.installed.iter())
            .map(|sa| if sa.inbound { sa.src } else { sa.dst })
            .collect();
        crate::sort::sort(&mut peers);
        peers.dedup();
        out.extend(peers.into_iter().map(StateKey::Peer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    /// Every established SA pair holds one of each: growing them grows
    /// pluto's memory per SA pair (see `tests/sa_memory.rs` for the heap
    /// behind them). What only an exchange needs belongs in `MainExchange`
    /// or `QuickExchange`, which go once the SA is up.
    #[test]
    fn states_stay_small() {
        assert!(
            size_of::<Phase1>() <= 600,
            "Phase1: {}",
            size_of::<Phase1>()
        );
        assert!(
            size_of::<Phase2>() <= 544,
            "Phase2: {}",
            size_of::<Phase2>()
        );
        assert!(size_of::<Retransmit>() <= 48);
        assert!(size_of::<super::super::dpd::DpdState>() <= 112);
        assert!(size_of::<super::super::kernel::InstalledSa>() <= 56);
        assert!(size_of::<StateKey>() <= 24);
        // The exchanges are boxed: a pointer each in the state.
        assert_eq!(size_of::<Option<Box<MainExchange>>>(), size_of::<usize>());
        assert_eq!(size_of::<Option<Box<QuickExchange>>>(), size_of::<usize>());
    }
}
