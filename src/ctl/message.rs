//! What whack says to pluto: one [`WhackMessage`] per invocation.
//!
//! Fields are carried as typed values where whack has to parse them to
//! validate the command line (host addresses, nexthops, client subnets, ports,
//! protocol), and as the exact strings the user typed where pluto interprets
//! them (identities, certificate paths, CA names, updown commands, algorithm
//! strings). The `--label`, `--ctlbase` and xauth answers stay in whack.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{
    IKE_LIFETIME_DEFAULT, IKE_UDP_PORT, IPSEC_LIFETIME_DEFAULT, KEYING_TRIES_DEFAULT,
    REKEY_FUZZ_DEFAULT, REKEY_MARGIN_DEFAULT,
};

/// Longest connection name (`--name`), in bytes. The name starts most status
/// and log lines about its connection, so pluto refuses a longer one
/// (RC_BADWHACKMESSAGE) instead of carrying it into every line; whack refuses
/// it before sending (RC_WHACK_PROBLEM).
pub const MAX_CONN_NAME: usize = 256;

/// One whack request. Pluto executes the parts in the fixed order of the spec
/// (§2.7): debug, myid, delete, deletestate, crash, add connection, listen,
/// unlisten, reread secrets, list pubkeys, reread certs/CRLs, purge OCSP,
/// other lists, key, route, unroute, initiate, opportunistic initiate,
/// terminate, status, shutdown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WhackMessage {
    /// `--name`: the connection the command is about (connection form,
    /// delete, route, unroute, initiate, terminate, per-connection debug).
    pub name: Option<String>,
    /// Debug options were given: the debug/impairment set (spec §1.6 bits).
    /// Without `--name` it replaces pluto's base debugging; with `--name` it
    /// is that connection's extra debugging.
    pub debug: Option<u64>,
    /// `--myid`: the new `%myid`, as typed.
    pub myid: Option<String>,
    /// `--delete`: delete the connections named `name` (with a connection
    /// form: replace, ignoring absence).
    pub delete: bool,
    /// `--deletestate`: serial number of the state to delete.
    pub delete_state: Option<u64>,
    /// `--crash`: delete every state whose peer is this address.
    pub crash: Option<IpAddr>,
    /// Connection form: the description to add.
    pub connection: Option<Connection>,
    /// `--listen`.
    pub listen: bool,
    /// `--unlisten`.
    pub unlisten: bool,
    /// `--reread*`: `REREAD_*` bits.
    pub reread: u8,
    /// `--list*`: `LIST_*` bits.
    pub list: u32,
    /// `--utc`: list times in UTC.
    pub utc: bool,
    /// `--purgeocsp`.
    pub purge_ocsp: bool,
    /// Pubkey form (`--keyid` [`--addkey`] [`--pubkeyrsa`]).
    pub key: Option<KeyRequest>,
    /// `--route`.
    pub route: bool,
    /// `--unroute`.
    pub unroute: bool,
    /// `--initiate`.
    pub initiate: bool,
    /// `--asynchronous`: do not keep whack attached during initiation.
    pub asynchronous: bool,
    /// Opportunistic initiation (`--oppohere` + `--oppothere`).
    pub oppo_initiate: Option<OppoInitiate>,
    /// `--terminate`.
    pub terminate: bool,
    /// `--status`.
    pub status: bool,
    /// `--shutdown`.
    pub shutdown: bool,
    /// `--status --json`: the status as JSON lines (with `status`).
    pub status_json: bool,
    /// `--trafficstatus`: one line per IPsec SA with its traffic.
    pub traffic_status: bool,
}

/// The pubkey form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyRequest {
    /// `--keyid`: the identity the key belongs to, as typed.
    pub keyid: String,
    /// `--addkey`: keep the keys already known for the id (otherwise they are
    /// deleted first).
    pub add: bool,
    /// `--pubkeyrsa`: the decoded RSA public key (RFC 3110 layout). Absent:
    /// pluto looks the key up in DNS.
    pub pubkey_rsa: Option<Vec<u8>>,
}

/// Opportunistic initiation: pretend a packet from `my_client` to
/// `peer_client` was trapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OppoInitiate {
    /// `--oppohere`.
    pub my_client: IpAddr,
    /// `--oppothere`.
    pub peer_client: IpAddr,
}

/// Address family of hosts or of client subnets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddrFamily {
    /// AF_INET.
    #[default]
    Ipv4,
    /// AF_INET6.
    Ipv6,
}

impl AddrFamily {
    /// The family of an address.
    pub fn of(addr: &IpAddr) -> AddrFamily {
        match addr {
            IpAddr::V4(_) => AddrFamily::Ipv4,
            IpAddr::V6(_) => AddrFamily::Ipv6,
        }
    }

    /// The any-address (0.0.0.0 or ::) of this family.
    pub fn any(self) -> IpAddr {
        match self {
            AddrFamily::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            AddrFamily::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }

    /// Address length in bits.
    pub fn bits(self) -> u8 {
        match self {
            AddrFamily::Ipv4 => 32,
            AddrFamily::Ipv6 => 128,
        }
    }
}

/// An IP subnet: network address (host bits zero) and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    /// Network address; the bits past `prefix` are zero.
    pub addr: IpAddr,
    /// Prefix length, at most 32 (IPv4) or 128 (IPv6).
    pub prefix: u8,
}

impl Subnet {
    /// The subnet of `prefix` bits containing `addr` (host bits cleared);
    /// `None` if the prefix is too long for the family.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Subnet> {
        match addr {
            IpAddr::V4(a) if prefix <= 32 => {
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                Some(Subnet {
                    addr: IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask)),
                    prefix,
                })
            }
            IpAddr::V6(a) if prefix <= 128 => {
                let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
                Some(Subnet {
                    addr: IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask)),
                    prefix,
                })
            }
            _ => None,
        }
    }

    /// The family of the subnet.
    pub fn family(&self) -> AddrFamily {
        AddrFamily::of(&self.addr)
    }

    /// True if the address has no bits set past the prefix (a valid subnet).
    pub fn is_canonical(&self) -> bool {
        Subnet::new(self.addr, self.prefix).as_ref() == Some(self)
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// `--dpdaction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DpdAction {
    /// `clear` (0; also what an omitted `--dpdaction` means).
    #[default]
    Clear,
    /// `hold` (1).
    Hold,
    /// `restart` (2).
    Restart,
}

impl DpdAction {
    /// Wire value (DPD_ACTION_*).
    pub fn value(self) -> u8 {
        match self {
            DpdAction::Clear => 0,
            DpdAction::Hold => 1,
            DpdAction::Restart => 2,
        }
    }

    /// From the wire value.
    pub fn from_value(v: u8) -> Option<DpdAction> {
        match v {
            0 => Some(DpdAction::Clear),
            1 => Some(DpdAction::Hold),
            2 => Some(DpdAction::Restart),
            _ => None,
        }
    }
}

/// `--sendcert` (cert sending policy of an end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendCert {
    /// `no` / `never` (1).
    Never,
    /// `ifasked` (2): pluto's default for an end.
    IfAsked,
    /// `yes` / `always` (3).
    Always,
    /// `forced` (4).
    Forced,
}

impl SendCert {
    /// Wire value (cert_policy enum).
    pub fn value(self) -> u8 {
        match self {
            SendCert::Never => 1,
            SendCert::IfAsked => 2,
            SendCert::Always => 3,
            SendCert::Forced => 4,
        }
    }

    /// From the wire value.
    pub fn from_value(v: u8) -> Option<SendCert> {
        match v {
            1 => Some(SendCert::Never),
            2 => Some(SendCert::IfAsked),
            3 => Some(SendCert::Always),
            4 => Some(SendCert::Forced),
            _ => None,
        }
    }
}

/// A connection description (`--name N <left end> --to <right end> <options>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The end described before `--to`.
    pub left: End,
    /// The end described after `--to`.
    pub right: End,
    /// `POLICY_*` bits.
    pub policy: u64,
    /// Family of host addresses and nexthops (`--ipv4`/`--ipv6`).
    pub addr_family: AddrFamily,
    /// Family of client subnets (`--tunnelipv4`/`--tunnelipv6`).
    pub tunnel_addr_family: AddrFamily,
    /// `--ikelifetime` seconds.
    pub ike_lifetime: u64,
    /// `--ipseclifetime` seconds.
    pub ipsec_lifetime: u64,
    /// `--rekeymargin` seconds.
    pub rekey_margin: u64,
    /// `--rekeyfuzz` percent.
    pub rekey_fuzz: u64,
    /// `--keyingtries` (0 = unlimited).
    pub keying_tries: u64,
    /// `--dpddelay` seconds (0 = no DPD).
    pub dpd_delay: u64,
    /// `--dpdtimeout` seconds.
    pub dpd_timeout: u64,
    /// `--dpdaction`.
    pub dpd_action: DpdAction,
    /// `--forceencaps`.
    pub force_encaps: bool,
    /// `--ike`: phase-1 algorithm string, as typed.
    pub ike: Option<String>,
    /// `--esp`: phase-2 algorithm string, as typed.
    pub esp: Option<String>,
    /// `--pfsgroup`, as typed. (Openswan's whack appended it to the esp string
    /// as `"<esp>;<pfsgroup>"`; here it travels on its own.)
    pub pfsgroup: Option<String>,
}

impl Default for Connection {
    fn default() -> Connection {
        Connection {
            left: End::default(),
            right: End::default(),
            policy: 0,
            addr_family: AddrFamily::Ipv4,
            tunnel_addr_family: AddrFamily::Ipv4,
            ike_lifetime: IKE_LIFETIME_DEFAULT,
            ipsec_lifetime: IPSEC_LIFETIME_DEFAULT,
            rekey_margin: REKEY_MARGIN_DEFAULT,
            rekey_fuzz: REKEY_FUZZ_DEFAULT,
            keying_tries: KEYING_TRIES_DEFAULT,
            dpd_delay: 0,
            dpd_timeout: 0,
            dpd_action: DpdAction::Clear,
            force_encaps: false,
            ike: None,
            esp: None,
            pfsgroup: None,
        }
    }
}

/// One end of a connection: `client_subnet <--> host:ikeport <--> nexthop <---`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    /// `--host`: public address; the any-address for `%any`,
    /// `%opportunistic`, `%group`, `%opportunisticgroup` (the policy bits say
    /// which).
    pub host: IpAddr,
    /// `--nexthop`, or the other end's host when omitted (filled by whack);
    /// the any-address for `%direct`.
    pub nexthop: IpAddr,
    /// `--srcip`.
    pub srcip: Option<IpAddr>,
    /// `--client` / `--clientwithin` (or 0.0.0.0/0 put there by
    /// `%opportunistic`/`%group`). `None`: the host itself.
    pub client: Option<Subnet>,
    /// The client came from `--clientwithin`.
    pub client_wildcard: bool,
    /// `--client vhost:...` / `vnet:...` (virtual IP), as typed.
    pub virt: Option<String>,
    /// `--id`, as typed (pluto parses it; default the host address).
    pub id: Option<String>,
    /// `--cert` path.
    pub cert: Option<String>,
    /// `--ca` distinguished name.
    pub ca: Option<String>,
    /// `--groups`.
    pub groups: Option<String>,
    /// `--updown` command.
    pub updown: Option<String>,
    /// `--ikeport`: where to send IKE for this host (default 500).
    pub ikeport: u16,
    /// `--clientprotoport` protocol (0 = any).
    pub protocol: u8,
    /// `--clientprotoport` port (0 = any).
    pub port: u16,
    /// `--clientprotoport proto/%any`.
    pub port_wildcard: bool,
    /// `--dnskeyondemand` (also implied by `%opportunistic`).
    pub dns_key_on_demand: bool,
    /// `--xauthserver`.
    pub xauth_server: bool,
    /// `--xauthclient`.
    pub xauth_client: bool,
    /// `--modecfgserver`.
    pub modecfg_server: bool,
    /// `--modecfgclient`.
    pub modecfg_client: bool,
    /// `--sendcert` (absent: pluto's default, ifasked).
    pub sendcert: Option<SendCert>,
    /// `--certtype`.
    pub certtype: Option<u64>,
}

impl Default for End {
    fn default() -> End {
        End {
            host: AddrFamily::Ipv4.any(),
            nexthop: AddrFamily::Ipv4.any(),
            srcip: None,
            client: None,
            client_wildcard: false,
            virt: None,
            id: None,
            cert: None,
            ca: None,
            groups: None,
            updown: None,
            ikeport: IKE_UDP_PORT,
            protocol: 0,
            port: 0,
            port_wildcard: false,
            dns_key_on_demand: false,
            xauth_server: false,
            xauth_client: false,
            modecfg_server: false,
            modecfg_client: false,
            sendcert: None,
            certtype: None,
        }
    }
}

impl WhackMessage {
    /// True if the message asks for anything at all.
    pub fn has_action(&self) -> bool {
        self.connection.is_some()
            || self.key.is_some()
            || self.myid.is_some()
            || self.delete
            || self.delete_state.is_some()
            || self.initiate
            || self.oppo_initiate.is_some()
            || self.terminate
            || self.route
            || self.unroute
            || self.listen
            || self.unlisten
            || self.list != 0
            || self.purge_ocsp
            || self.reread != 0
            || self.crash.is_some()
            || self.status
            || self.debug.is_some()
            || self.shutdown
            || self.traffic_status
    }
}
