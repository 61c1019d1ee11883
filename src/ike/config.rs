//! What the engine is told: connections (already oriented: which end is us)
//! and the secrets it may use. Parsing whack messages and ipsec.secrets is the
//! daemon's job; the engine takes the result.

use super::crypto::rsa::{RsaPrivateKeyParts, RsaPublicKey};
use super::crypto::DhGroup;
use super::kernel::{PolicyAction, Selector};
use super::proposal::{IkeTransform, IpsecTransform};
use super::wire::Identity;
use std::net::IpAddr;

/// The connection's policy bits (whack `--psk`, `--encrypt`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    pub psk: bool,
    pub rsasig: bool,
    pub encrypt: bool,
    pub authenticate: bool,
    pub compress: bool,
    pub tunnel: bool,
    pub pfs: bool,
    /// `--dontrekey`: let SAs expire instead of replacing them.
    pub dont_rekey: bool,
    /// What the routed policy does while there is no SA: %trap (negotiate
    /// on traffic), or `--pass`/`--drop`/`--reject` for a connection that
    /// never negotiates.
    pub shunt: PolicyAction,
    /// `--failpass`/`--faildrop`/`--failreject`: what replaces the %trap
    /// of a routed connection whose negotiation failed.
    pub failure_shunt: Option<PolicyAction>,
    /// `--host %opportunistic` on the peer's end: a template whose peers
    /// and their gateways come from DNS (`oppo`).
    pub opportunistic: bool,
}

impl Policy {
    /// True when the connection negotiates IPsec SAs at all.
    pub fn wants_ipsec(&self) -> bool {
        self.encrypt || self.authenticate || self.compress
    }

    /// A shunt connection (`--pass`/`--drop`/`--reject`, or no
    /// authentication at all): it is only ever routed, never negotiated.
    pub fn never_negotiate(&self) -> bool {
        self.shunt != PolicyAction::Ipsec || !(self.psk || self.rsasig)
    }
}

/// One end of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    /// `None` is `%any`: a road-warrior template's peer.
    pub host: Option<IpAddr>,
    pub port: u16,
    /// `None`: the host address is the ID.
    pub id: Option<Identity>,
    /// `None`: the host itself is the client (host-to-host).
    pub client: Option<Selector>,
    /// `--client vhost:…`/`vnet:…` (a peer's end only): the client is the
    /// one the peer names in Quick Mode, if these allow it.
    pub virt: Option<Virtual>,
}

/// A virtual client (`vhost:`/`vnet:`): a road warrior behind NAT proposes
/// its private address or network as its client; these say which ones a
/// connection accepts (Openswan's rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Virtual {
    /// `vhost:`: only a single address (a /32 or /128); `vnet:` allows networks.
    pub host_only: bool,
    pub nets: Vec<VirtualNet>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VirtualNet {
    /// `%no`: no virtual client: the peer's client is its own (public) address.
    NoClient,
    /// `%priv`: any network of pluto's `--virtual_private`.
    Private,
    /// `%all`: any address.
    All,
    /// An explicit network.
    Net { addr: IpAddr, prefix: u8 },
}

/// `--dpdaction`, with Openswan's meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DpdAction {
    /// The peer's states are deleted; a routed connection's %trap stays.
    #[default]
    Clear,
    /// The states are deleted and the connection's traffic is held (%hold)
    /// until the peer is back.
    Hold,
    /// The states are deleted and the connection is negotiated again at once.
    Restart,
}

/// Dead Peer Detection of a connection (RFC 3706; `--dpddelay`,
/// `--dpdtimeout`, `--dpdaction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dpd {
    /// Seconds without inbound traffic before an R_U_THERE goes out.
    pub delay: u32,
    /// Seconds without any answer before the peer is declared dead.
    pub timeout: u32,
    pub action: DpdAction,
}

/// The IKE port of NAT traversal (RFC 3947): its IKE messages carry a
/// four-byte zero non-ESP marker, and ESP in UDP shares it.
pub const NAT_T_PORT: u16 = 4500;

/// pluto's NAT traversal options (`--nat_traversal`, `--keep_alive`,
/// `--force_keepalive`, `--virtual_private`): one set for the whole engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatConfig {
    /// Offer and accept NAT-T (vendor IDs, NAT-D, port 4500).
    pub enabled: bool,
    /// Seconds between keepalives when we are behind a NAT.
    pub keep_alive: u32,
    /// Send keepalives whenever NAT-T is in use, NAT or not.
    pub force_keepalive: bool,
    /// `--virtual_private`: the networks `%priv` stands for.
    pub virtual_private: Vec<PrivateNet>,
}

impl Default for NatConfig {
    fn default() -> NatConfig {
        NatConfig {
            enabled: false,
            keep_alive: 20,
            force_keepalive: false,
            virtual_private: Vec::new(),
        }
    }
}

/// One element of `--virtual_private` (`%v4:10.0.0.0/8`, or an exclusion
/// `%v4:!10.1.0.0/16`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivateNet {
    pub addr: IpAddr,
    pub prefix: u8,
    pub exclude: bool,
}

impl End {
    /// The ID this end uses: the configured one or its address.
    pub fn effective_id(&self) -> Option<Identity> {
        match (&self.id, self.host) {
            (Some(id), _) => Some(id.clone()),
            (None, Some(IpAddr::V4(a))) => Some(Identity::Ipv4(a)),
            (None, Some(IpAddr::V6(a))) => Some(Identity::Ipv6(a)),
            (None, None) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnConfig {
    pub name: String,
    pub local: End,
    pub remote: End,
    pub policy: Policy,
    /// `--ike`: phase-1 transforms to offer and accept; empty = the defaults.
    pub ike: Vec<IkeTransform>,
    /// `--esp`: one ESP proposal built from these; empty = the defaults by policy.
    pub esp: Vec<IpsecTransform>,
    /// `--pfsgroup`; without it PFS uses the phase-1 group.
    pub pfs_group: Option<DhGroup>,
    pub ike_lifetime: u32,
    pub ipsec_lifetime: u32,
    pub rekey_margin: u32,
    pub rekey_fuzz: u32,
    /// 0 = keep trying forever.
    pub keying_tries: u32,
    /// The if_id of the `ipsecN` XFRM interface on our end's device
    /// (`ipsec tncfg --attach`): its SAs and policies carry it.
    pub if_id: Option<u32>,
    /// `--dpddelay`/`--dpdtimeout`/`--dpdaction`; `None`: we send no R_U_THERE.
    pub dpd: Option<Dpd>,
    /// `--forceencaps`: UDP-encapsulate ESP even when no NAT is detected.
    pub force_encaps: bool,
    /// `--dnskeyondemand` on the peer's end (ipsec.conf `rsasigkey=%dnsondemand`):
    /// a peer ID without a key on record has its key looked up in DNS.
    pub key_from_dns: bool,
}

impl ConnConfig {
    /// A connection with the whack defaults (ikelifetime 3600, ipseclifetime
    /// 28800, rekeymargin 540, rekeyfuzz 100 %, keyingtries 3).
    pub fn new(name: &str, local: End, remote: End, policy: Policy) -> ConnConfig {
        ConnConfig {
            name: name.to_string(),
            local,
            remote,
            policy,
            ike: Vec::new(),
            esp: Vec::new(),
            pfs_group: None,
            ike_lifetime: 3600,
            ipsec_lifetime: 28800,
            rekey_margin: 540,
            rekey_fuzz: 100,
            keying_tries: 3,
            if_id: None,
            dpd: None,
            force_encaps: false,
            key_from_dns: false,
        }
    }
}

/// An ipsec.secrets index: `%any` or an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretIndex {
    Any,
    Id(Identity),
}

#[derive(Clone, PartialEq, Eq)]
pub enum SecretValue {
    Psk(Vec<u8>),
}

impl core::fmt::Debug for SecretValue {
    // Secrets never reach logs through Debug.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SecretValue::Psk(_) => f.write_str("Psk(..)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretEntry {
    pub indices: Vec<SecretIndex>,
    pub value: SecretValue,
}

/// One RSA private key of ipsec.secrets with its indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaSecret {
    pub indices: Vec<SecretIndex>,
    pub key: RsaPrivateKeyParts,
}

/// An RSA public key known for a peer ID (`whack --keyid --pubkeyrsa`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub id: Identity,
    pub key: RsaPublicKey,
}

/// The loaded secrets, in file order, and the peers' public keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    pub entries: Vec<SecretEntry>,
    pub rsa: Vec<RsaSecret>,
    pub public_keys: Vec<PublicKey>,
}

impl Secrets {
    /// Picks the PSK for (our ID, peer ID) by the ipsec.secrets scoring rules:
    /// no index = default (1); an index equal to us = me (4), to the peer = him
    /// (2); an entry whose only index is us also gets default. Acceptable for a
    /// PSK: 1, 5, 6. Highest wins; among equals the first in file order.
    /// `him == None` stands for a road warrior, looked up as `%any`.
    pub fn psk(&self, me: &Identity, him: Option<&Identity>) -> Option<&[u8]> {
        let mut best: Option<(u32, &[u8])> = None;
        for e in &self.entries {
            let SecretValue::Psk(secret) = &e.value;
            let score = score(&e.indices, me, him);
            if !matches!(score, 1 | 5 | 6) {
                continue;
            }
            if best.map_or(true, |(s, _)| score > s) {
                best = Some((score, secret.as_slice()));
            }
        }
        best.map(|(_, s)| s)
    }

    /// Our RSA private key for (our ID, peer ID): as for a PSK, but an entry
    /// matching only us (score 4: "all my identities") is acceptable too.
    pub fn rsa_key(&self, me: &Identity, him: Option<&Identity>) -> Option<&RsaPrivateKeyParts> {
        let mut best: Option<(u32, &RsaPrivateKeyParts)> = None;
        for e in &self.rsa {
            let score = score(&e.indices, me, him);
            if !matches!(score, 1 | 4 | 5 | 6) {
                continue;
            }
            if best.map_or(true, |(s, _)| score > s) {
                best = Some((score, &e.key));
            }
        }
        best.map(|(_, k)| k)
    }

    /// Every public key on record for `id` (all are tried).
    pub fn public_keys_for<'a>(
        &'a self,
        id: &'a Identity,
    ) -> impl Iterator<Item = &'a RsaPublicKey> + 'a {
        self.public_keys
            .iter()
            .filter(move |k| k.id == *id)
            .map(|k| &k.key)
    }
}

fn score(indices: &[SecretIndex], me: &Identity, him: Option<&Identity>) -> u32 {
    const DEFAULT: u32 = 1;
    const HIM: u32 = 2;
    const ME: u32 = 4;
    if indices.is_empty() {
        return DEFAULT;
    }
    let mut s = 0;
    for idx in indices {
        let (is_me, is_him) = match idx {
            SecretIndex::Id(id) => (id == me, Some(id) == him),
            // `%any` matches the peer we do not know yet, and nothing else.
            SecretIndex::Any => (false, him.is_none()),
        };
        if is_me {
            s |= ME;
        } else if is_him {
            s |= HIM;
        }
    }
    if indices.len() == 1 && s == ME {
        s |= DEFAULT;
    }
    // A lone `%any` is the road warriors' shared secret: the old scoring left
    // it unusable (it scores "him" only), though every example shows it.
    if matches!(indices, [SecretIndex::Any]) && s == HIM {
        s = DEFAULT;
    }
    s
}
