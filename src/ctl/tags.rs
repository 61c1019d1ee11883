//! Item tags of the control protocol encoding (see [`super::codec`]).
//!
//! Each sequence has its own tag space: `MSG_*` (and [`TAG_CONNECTION`]) in
//! the message body, `CONN_*` inside the connection, `END_*` inside an end.
//! Tags with the top bit ([`TAG_OPTIONAL`]) set are reserved for fields an
//! older decoder may skip.

/// Top bit of a tag: an unknown tag with it set is skipped, not rejected.
pub const TAG_OPTIONAL: u16 = 0x8000;

// Message tags.
/// string: `--name`.
pub const MSG_NAME: u16 = 0x0001;
/// u64: debug set (present iff debug options were given).
pub const MSG_DEBUG: u16 = 0x0002;
/// string: `--myid`.
pub const MSG_MYID: u16 = 0x0003;
/// flag: `--delete`.
pub const MSG_DELETE: u16 = 0x0004;
/// u64: `--deletestate` serial.
pub const MSG_DELETESTATE: u16 = 0x0005;
/// address: `--crash`.
pub const MSG_CRASH: u16 = 0x0006;
/// nested `CONN_*`: the connection description.
pub const TAG_CONNECTION: u16 = 0x0007;
/// flag: `--listen`.
pub const MSG_LISTEN: u16 = 0x0008;
/// flag: `--unlisten`.
pub const MSG_UNLISTEN: u16 = 0x0009;
/// u8: `REREAD_*` bits.
pub const MSG_REREAD: u16 = 0x000a;
/// u32: `LIST_*` bits.
pub const MSG_LIST: u16 = 0x000b;
/// flag: `--utc`.
pub const MSG_UTC: u16 = 0x000c;
/// flag: `--purgeocsp`.
pub const MSG_PURGEOCSP: u16 = 0x000d;
/// string: `--keyid` (the pubkey form).
pub const MSG_KEYID: u16 = 0x000e;
/// flag: `--addkey` (requires [`MSG_KEYID`]).
pub const MSG_ADDKEY: u16 = 0x000f;
/// bytes (1..=1026): `--pubkeyrsa` (requires [`MSG_KEYID`]).
pub const MSG_PUBKEYRSA: u16 = 0x0010;
/// flag: `--route`.
pub const MSG_ROUTE: u16 = 0x0011;
/// flag: `--unroute`.
pub const MSG_UNROUTE: u16 = 0x0012;
/// flag: `--initiate`.
pub const MSG_INITIATE: u16 = 0x0013;
/// flag: `--asynchronous`.
pub const MSG_ASYNC: u16 = 0x0014;
/// address: `--oppohere` (with [`MSG_OPPO_THERE`], both or neither).
pub const MSG_OPPO_HERE: u16 = 0x0015;
/// address: `--oppothere`.
pub const MSG_OPPO_THERE: u16 = 0x0016;
/// flag: `--terminate`.
pub const MSG_TERMINATE: u16 = 0x0017;
/// flag: `--status`.
pub const MSG_STATUS: u16 = 0x0018;
/// flag: `--shutdown`.
pub const MSG_SHUTDOWN: u16 = 0x0019;
/// flag: `--status --json`: the status as JSON lines, with the kernel's counters.
pub const MSG_STATUS_JSON: u16 = 0x001A;
/// flag: `--trafficstatus`: one line per IPsec SA with its traffic.
pub const MSG_TRAFFIC: u16 = 0x001B;

// Connection tags (inside TAG_CONNECTION). Required: LEFT, RIGHT, POLICY, the
// two families, the five lifetime/rekey values and the three DPD values.
/// nested `END_*`: the left end.
pub const CONN_LEFT: u16 = 0x0101;
/// nested `END_*`: the right end.
pub const CONN_RIGHT: u16 = 0x0102;
/// u64: `POLICY_*` bits (known bits only).
pub const CONN_POLICY: u16 = 0x0103;
/// u8 4 or 6: host address family.
pub const CONN_ADDR_FAMILY: u16 = 0x0104;
/// u8 4 or 6: client subnet family.
pub const CONN_TUNNEL_ADDR_FAMILY: u16 = 0x0105;
/// u64: `--ikelifetime`.
pub const CONN_IKE_LIFETIME: u16 = 0x0106;
/// u64: `--ipseclifetime`.
pub const CONN_IPSEC_LIFETIME: u16 = 0x0107;
/// u64: `--rekeymargin`.
pub const CONN_REKEY_MARGIN: u16 = 0x0108;
/// u64: `--rekeyfuzz`.
pub const CONN_REKEY_FUZZ: u16 = 0x0109;
/// u64: `--keyingtries`.
pub const CONN_KEYING_TRIES: u16 = 0x010a;
/// u64: `--dpddelay`.
pub const CONN_DPD_DELAY: u16 = 0x010b;
/// u64: `--dpdtimeout`.
pub const CONN_DPD_TIMEOUT: u16 = 0x010c;
/// u8 0..=2: `--dpdaction`.
pub const CONN_DPD_ACTION: u16 = 0x010d;
/// flag: `--forceencaps`.
pub const CONN_FORCEENCAPS: u16 = 0x010e;
/// string: `--ike`.
pub const CONN_IKE: u16 = 0x010f;
/// string: `--esp`.
pub const CONN_ESP: u16 = 0x0110;
/// string: `--pfsgroup`.
pub const CONN_PFSGROUP: u16 = 0x0111;

// End tags (inside CONN_LEFT / CONN_RIGHT). Required: HOST, NEXTHOP, IKEPORT
// (non-zero), PROTOCOL, PORT.
/// address: `--host`.
pub const END_HOST: u16 = 0x0201;
/// address: `--nexthop` (defaulted by whack).
pub const END_NEXTHOP: u16 = 0x0202;
/// address: `--srcip`.
pub const END_SRCIP: u16 = 0x0203;
/// subnet: `--client`/`--clientwithin`.
pub const END_CLIENT: u16 = 0x0204;
/// flag: the client is a `--clientwithin` wildcard.
pub const END_CLIENT_WILDCARD: u16 = 0x0205;
/// string: `--client vhost:`/`vnet:` text.
pub const END_VIRT: u16 = 0x0206;
/// string: `--id`.
pub const END_ID: u16 = 0x0207;
/// string: `--cert`.
pub const END_CERT: u16 = 0x0208;
/// string: `--ca`.
pub const END_CA: u16 = 0x0209;
/// string: `--groups`.
pub const END_GROUPS: u16 = 0x020a;
/// string: `--updown`.
pub const END_UPDOWN: u16 = 0x020b;
/// u16 (non-zero): `--ikeport`.
pub const END_IKEPORT: u16 = 0x020c;
/// u8: `--clientprotoport` protocol.
pub const END_PROTOCOL: u16 = 0x020d;
/// u16: `--clientprotoport` port.
pub const END_PORT: u16 = 0x020e;
/// flag: `--clientprotoport proto/%any`.
pub const END_PORT_WILDCARD: u16 = 0x020f;
/// flag: `--dnskeyondemand`.
pub const END_DNSKEYONDEMAND: u16 = 0x0210;
/// flag: `--xauthserver`.
pub const END_XAUTH_SERVER: u16 = 0x0211;
/// flag: `--xauthclient`.
pub const END_XAUTH_CLIENT: u16 = 0x0212;
/// flag: `--modecfgserver`.
pub const END_MODECFG_SERVER: u16 = 0x0213;
/// flag: `--modecfgclient`.
pub const END_MODECFG_CLIENT: u16 = 0x0214;
/// u8 1..=4: `--sendcert`.
pub const END_SENDCERT: u16 = 0x0215;
/// u64: `--certtype`.
pub const END_CERTTYPE: u16 = 0x0216;

/// Tags of the message body.
pub(super) const MSG_TAGS: &[u16] = &[
    MSG_NAME,
    MSG_DEBUG,
    MSG_MYID,
    MSG_DELETE,
    MSG_DELETESTATE,
    MSG_CRASH,
    TAG_CONNECTION,
    MSG_LISTEN,
    MSG_UNLISTEN,
    MSG_REREAD,
    MSG_LIST,
    MSG_UTC,
    MSG_PURGEOCSP,
    MSG_KEYID,
    MSG_ADDKEY,
    MSG_PUBKEYRSA,
    MSG_ROUTE,
    MSG_UNROUTE,
    MSG_INITIATE,
    MSG_ASYNC,
    MSG_OPPO_HERE,
    MSG_OPPO_THERE,
    MSG_TERMINATE,
    MSG_STATUS,
    MSG_SHUTDOWN,
    MSG_STATUS_JSON,
    MSG_TRAFFIC,
];

/// Tags of a connection.
pub(super) const CONN_TAGS: &[u16] = &[
    CONN_LEFT,
    CONN_RIGHT,
    CONN_POLICY,
    CONN_ADDR_FAMILY,
    CONN_TUNNEL_ADDR_FAMILY,
    CONN_IKE_LIFETIME,
    CONN_IPSEC_LIFETIME,
    CONN_REKEY_MARGIN,
    CONN_REKEY_FUZZ,
    CONN_KEYING_TRIES,
    CONN_DPD_DELAY,
    CONN_DPD_TIMEOUT,
    CONN_DPD_ACTION,
    CONN_FORCEENCAPS,
    CONN_IKE,
    CONN_ESP,
    CONN_PFSGROUP,
];

/// Tags of an end.
pub(super) const END_TAGS: &[u16] = &[
    END_HOST,
    END_NEXTHOP,
    END_SRCIP,
    END_CLIENT,
    END_CLIENT_WILDCARD,
    END_VIRT,
    END_ID,
    END_CERT,
    END_CA,
    END_GROUPS,
    END_UPDOWN,
    END_IKEPORT,
    END_PROTOCOL,
    END_PORT,
    END_PORT_WILDCARD,
    END_DNSKEYONDEMAND,
    END_XAUTH_SERVER,
    END_XAUTH_CLIENT,
    END_MODECFG_SERVER,
    END_MODECFG_CLIENT,
    END_SENDCERT,
    END_CERTTYPE,
];
