//! Numbers from RFC 2367, Linux `<linux/pfkeyv2.h>` / `<linux/ipsec.h>`, and
//! the KLIPS `pfkeyv2.h` of Openswan 2.4.9 (spec §5.5).
//!
//! Numbers 0..=17 of message and extension types are the RFC's and shared by
//! both kernels; above that Linux (KAME-derived) and KLIPS reuse the same
//! numbers for different things, so those live in [`linux`] and [`klips`].
use super::Dialect;

/// `sadb_msg_version`.
pub const PF_KEY_V2: u8 = 2;
/// Size of `struct sadb_msg`.
pub const SADB_MSG_LEN: usize = 16;
/// Size of `struct sadb_ext` (the generic extension header).
pub const SADB_EXT_HDR_LEN: usize = 4;

// Message types shared by RFC 2367, Linux and KLIPS.
pub const SADB_RESERVED: u8 = 0;
pub const SADB_GETSPI: u8 = 1;
pub const SADB_UPDATE: u8 = 2;
pub const SADB_ADD: u8 = 3;
pub const SADB_DELETE: u8 = 4;
pub const SADB_GET: u8 = 5;
pub const SADB_ACQUIRE: u8 = 6;
pub const SADB_REGISTER: u8 = 7;
pub const SADB_EXPIRE: u8 = 8;
pub const SADB_FLUSH: u8 = 9;
pub const SADB_DUMP: u8 = 10;
pub const SADB_X_PROMISC: u8 = 11;
pub const SADB_X_PCHANGE: u8 = 12;

// Extension types shared by RFC 2367, Linux and KLIPS.
pub const SADB_EXT_RESERVED: u16 = 0;
pub const SADB_EXT_SA: u16 = 1;
pub const SADB_EXT_LIFETIME_CURRENT: u16 = 2;
pub const SADB_EXT_LIFETIME_HARD: u16 = 3;
pub const SADB_EXT_LIFETIME_SOFT: u16 = 4;
pub const SADB_EXT_ADDRESS_SRC: u16 = 5;
pub const SADB_EXT_ADDRESS_DST: u16 = 6;
pub const SADB_EXT_ADDRESS_PROXY: u16 = 7;
pub const SADB_EXT_KEY_AUTH: u16 = 8;
pub const SADB_EXT_KEY_ENCRYPT: u16 = 9;
pub const SADB_EXT_IDENTITY_SRC: u16 = 10;
pub const SADB_EXT_IDENTITY_DST: u16 = 11;
pub const SADB_EXT_SENSITIVITY: u16 = 12;
pub const SADB_EXT_PROPOSAL: u16 = 13;
pub const SADB_EXT_SUPPORTED_AUTH: u16 = 14;
pub const SADB_EXT_SUPPORTED_ENCRYPT: u16 = 15;
pub const SADB_EXT_SPIRANGE: u16 = 16;
pub const SADB_X_EXT_KMPRIVATE: u16 = 17;

// SA types shared by both kernels.
pub const SADB_SATYPE_UNSPEC: u8 = 0;
pub const SADB_SATYPE_AH: u8 = 2;
pub const SADB_SATYPE_ESP: u8 = 3;

// SA states.
pub const SADB_SASTATE_LARVAL: u8 = 0;
pub const SADB_SASTATE_MATURE: u8 = 1;
pub const SADB_SASTATE_DYING: u8 = 2;
pub const SADB_SASTATE_DEAD: u8 = 3;

/// SA flag: perfect forward secrecy.
pub const SADB_SAFLAGS_PFS: u32 = 1;

// Authentication algorithms.
pub const SADB_AALG_NONE: u8 = 0;
pub const SADB_AALG_MD5HMAC: u8 = 2;
pub const SADB_AALG_SHA1HMAC: u8 = 3;
pub const SADB_X_AALG_SHA2_256HMAC: u8 = 5;
pub const SADB_X_AALG_SHA2_384HMAC: u8 = 6;
pub const SADB_X_AALG_SHA2_512HMAC: u8 = 7;
pub const SADB_X_AALG_RIPEMD160HMAC: u8 = 8;
pub const SADB_X_AALG_NULL: u8 = 251;

// Encryption algorithms.
pub const SADB_EALG_NONE: u8 = 0;
pub const SADB_EALG_DESCBC: u8 = 2;
pub const SADB_EALG_3DESCBC: u8 = 3;
pub const SADB_X_EALG_CASTCBC: u8 = 6;
pub const SADB_X_EALG_BLOWFISHCBC: u8 = 7;
pub const SADB_EALG_NULL: u8 = 11;
pub const SADB_X_EALG_AESCBC: u8 = 12;

// Compression algorithms (IPCOMP SAs carry them in `sadb_sa_encrypt`).
pub const SADB_X_CALG_NONE: u8 = 0;
pub const SADB_X_CALG_OUI: u8 = 1;
pub const SADB_X_CALG_DEFLATE: u8 = 2;
pub const SADB_X_CALG_LZS: u8 = 3;

// Identity types.
pub const SADB_IDENTTYPE_RESERVED: u16 = 0;
pub const SADB_IDENTTYPE_PREFIX: u16 = 1;
pub const SADB_IDENTTYPE_FQDN: u16 = 2;
pub const SADB_IDENTTYPE_USERFQDN: u16 = 3;

// `<linux/ipsec.h>`: modes, directions, policy types, levels.
pub const IPSEC_MODE_ANY: u8 = 0;
pub const IPSEC_MODE_TRANSPORT: u8 = 1;
pub const IPSEC_MODE_TUNNEL: u8 = 2;
pub const IPSEC_MODE_BEET: u8 = 3;

pub const IPSEC_DIR_ANY: u8 = 0;
pub const IPSEC_DIR_INBOUND: u8 = 1;
pub const IPSEC_DIR_OUTBOUND: u8 = 2;
pub const IPSEC_DIR_FWD: u8 = 3;

pub const IPSEC_POLICY_DISCARD: u16 = 0;
pub const IPSEC_POLICY_NONE: u16 = 1;
pub const IPSEC_POLICY_IPSEC: u16 = 2;
pub const IPSEC_POLICY_ENTRUST: u16 = 3;
pub const IPSEC_POLICY_BYPASS: u16 = 4;

pub const IPSEC_LEVEL_DEFAULT: u8 = 0;
pub const IPSEC_LEVEL_USE: u8 = 1;
pub const IPSEC_LEVEL_REQUIRE: u8 = 2;
pub const IPSEC_LEVEL_UNIQUE: u8 = 3;

/// Largest reqid Linux keeps from an `IPSEC_LEVEL_UNIQUE` ipsecrequest; a
/// bigger one is replaced by a kernel-generated reqid.
pub const IPSEC_MANUAL_REQID_MAX: u32 = 0x3fff;
/// "Any upper-layer protocol" in address extensions and selectors.
pub const IPSEC_ULPROTO_ANY: u8 = 255;
pub const IPSEC_PROTO_ANY: u8 = 255;
pub const IPSEC_PORT_ANY: u16 = 0;

// IP protocol numbers.
pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_IPIP: u8 = 4;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_IPV6: u8 = 41;
pub const IPPROTO_ESP: u8 = 50;
pub const IPPROTO_AH: u8 = 51;
pub const IPPROTO_ICMPV6: u8 = 58;
pub const IPPROTO_COMP: u8 = 108;

// Socket address families (Linux).
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;

// NAT-T encapsulation types (`sadb_x_nat_t_type_type`, `<linux/udp.h>`).
pub const UDP_ENCAP_ESPINUDP_NON_IKE: u8 = 1;
pub const UDP_ENCAP_ESPINUDP: u8 = 2;

/// Linux (NETKEY / KAME) numbers above the shared range.
pub mod linux {
    pub const SADB_X_SPDUPDATE: u8 = 13;
    pub const SADB_X_SPDADD: u8 = 14;
    pub const SADB_X_SPDDELETE: u8 = 15;
    pub const SADB_X_SPDGET: u8 = 16;
    pub const SADB_X_SPDACQUIRE: u8 = 17;
    pub const SADB_X_SPDDUMP: u8 = 18;
    pub const SADB_X_SPDFLUSH: u8 = 19;
    pub const SADB_X_SPDSETIDX: u8 = 20;
    pub const SADB_X_SPDEXPIRE: u8 = 21;
    pub const SADB_X_SPDDELETE2: u8 = 22;
    pub const SADB_X_NAT_T_NEW_MAPPING: u8 = 23;
    pub const SADB_X_MIGRATE: u8 = 24;
    pub const SADB_MAX: u8 = 24;

    pub const SADB_X_EXT_POLICY: u16 = 18;
    pub const SADB_X_EXT_SA2: u16 = 19;
    pub const SADB_X_EXT_NAT_T_TYPE: u16 = 20;
    pub const SADB_X_EXT_NAT_T_SPORT: u16 = 21;
    pub const SADB_X_EXT_NAT_T_DPORT: u16 = 22;
    pub const SADB_X_EXT_NAT_T_OA: u16 = 23;
    pub const SADB_X_EXT_SEC_CTX: u16 = 24;
    pub const SADB_X_EXT_KMADDRESS: u16 = 25;
    /// Newer kernels' dump filter; parsed as an unknown (opaque) extension.
    pub const SADB_X_EXT_FILTER: u16 = 26;

    pub const SADB_SATYPE_RSVP: u8 = 5;
    pub const SADB_SATYPE_OSPFV2: u8 = 6;
    pub const SADB_SATYPE_RIPV2: u8 = 7;
    pub const SADB_SATYPE_MIP: u8 = 8;
    pub const SADB_X_SATYPE_IPCOMP: u8 = 9;

    pub const SADB_SAFLAGS_NOPMTUDISC: u32 = 0x2000_0000;
    pub const SADB_SAFLAGS_DECAP_DSCP: u32 = 0x4000_0000;
    pub const SADB_SAFLAGS_NOECN: u32 = 0x8000_0000;
}

/// KLIPS (Openswan 2.4.9 `linux/include/pfkeyv2.h`, spec §5.5) numbers above
/// the shared range.
pub mod klips {
    pub const SADB_X_GRPSA: u8 = 13;
    pub const SADB_X_ADDFLOW: u8 = 14;
    pub const SADB_X_DELFLOW: u8 = 15;
    pub const SADB_X_DEBUG: u8 = 16;
    pub const SADB_X_NAT_T_NEW_MAPPING: u8 = 17;
    pub const SADB_MAX: u8 = 17;

    pub const SADB_X_EXT_SATYPE2: u16 = 18;
    pub const SADB_X_EXT_SA2: u16 = 19;
    pub const SADB_X_EXT_ADDRESS_DST2: u16 = 20;
    pub const SADB_X_EXT_ADDRESS_SRC_FLOW: u16 = 21;
    pub const SADB_X_EXT_ADDRESS_DST_FLOW: u16 = 22;
    pub const SADB_X_EXT_ADDRESS_SRC_MASK: u16 = 23;
    pub const SADB_X_EXT_ADDRESS_DST_MASK: u16 = 24;
    pub const SADB_X_EXT_DEBUG: u16 = 25;
    pub const SADB_X_EXT_PROTOCOL: u16 = 26;
    pub const SADB_X_EXT_NAT_T_TYPE: u16 = 27;
    pub const SADB_X_EXT_NAT_T_SPORT: u16 = 28;
    pub const SADB_X_EXT_NAT_T_DPORT: u16 = 29;
    pub const SADB_X_EXT_NAT_T_OA: u16 = 30;

    pub const SADB_X_SATYPE_IPIP: u8 = 9;
    pub const SADB_X_SATYPE_COMP: u8 = 10;
    pub const SADB_X_SATYPE_INT: u8 = 11;

    pub const SADB_X_SAFLAGS_REPLACEFLOW: u32 = 2;
    pub const SADB_X_SAFLAGS_CLEARFLOW: u32 = 4;
    pub const SADB_X_SAFLAGS_INFLOW: u32 = 8;

    pub const SADB_X_IDENTTYPE_CONNECTION: u16 = 4;
}

/// The C name of a message type, for log lines (`"UNKNOWN"` if none).
pub fn msg_type_name(dialect: Dialect, ty: u8) -> &'static str {
    match ty {
        SADB_RESERVED => return "SADB_RESERVED",
        SADB_GETSPI => return "SADB_GETSPI",
        SADB_UPDATE => return "SADB_UPDATE",
        SADB_ADD => return "SADB_ADD",
        SADB_DELETE => return "SADB_DELETE",
        SADB_GET => return "SADB_GET",
        SADB_ACQUIRE => return "SADB_ACQUIRE",
        SADB_REGISTER => return "SADB_REGISTER",
        SADB_EXPIRE => return "SADB_EXPIRE",
        SADB_FLUSH => return "SADB_FLUSH",
        SADB_DUMP => return "SADB_DUMP",
        SADB_X_PROMISC => return "SADB_X_PROMISC",
        SADB_X_PCHANGE => return "SADB_X_PCHANGE",
        _ => {}
    }
    match dialect {
        Dialect::Linux => match ty {
            linux::SADB_X_SPDUPDATE => "SADB_X_SPDUPDATE",
            linux::SADB_X_SPDADD => "SADB_X_SPDADD",
            linux::SADB_X_SPDDELETE => "SADB_X_SPDDELETE",
            linux::SADB_X_SPDGET => "SADB_X_SPDGET",
            linux::SADB_X_SPDACQUIRE => "SADB_X_SPDACQUIRE",
            linux::SADB_X_SPDDUMP => "SADB_X_SPDDUMP",
            linux::SADB_X_SPDFLUSH => "SADB_X_SPDFLUSH",
            linux::SADB_X_SPDSETIDX => "SADB_X_SPDSETIDX",
            linux::SADB_X_SPDEXPIRE => "SADB_X_SPDEXPIRE",
            linux::SADB_X_SPDDELETE2 => "SADB_X_SPDDELETE2",
            linux::SADB_X_NAT_T_NEW_MAPPING => "SADB_X_NAT_T_NEW_MAPPING",
            linux::SADB_X_MIGRATE => "SADB_X_MIGRATE",
            _ => "UNKNOWN",
        },
        Dialect::Klips => match ty {
            klips::SADB_X_GRPSA => "SADB_X_GRPSA",
            klips::SADB_X_ADDFLOW => "SADB_X_ADDFLOW",
            klips::SADB_X_DELFLOW => "SADB_X_DELFLOW",
            klips::SADB_X_DEBUG => "SADB_X_DEBUG",
            klips::SADB_X_NAT_T_NEW_MAPPING => "SADB_X_NAT_T_NEW_MAPPING",
            _ => "UNKNOWN",
        },
    }
}

/// The C name of an SA type, for log lines (`"UNKNOWN"` if none).
pub fn satype_name(dialect: Dialect, satype: u8) -> &'static str {
    match (dialect, satype) {
        (_, SADB_SATYPE_UNSPEC) => "UNSPEC",
        (_, SADB_SATYPE_AH) => "AH",
        (_, SADB_SATYPE_ESP) => "ESP",
        (Dialect::Linux, linux::SADB_SATYPE_RSVP) => "RSVP",
        (Dialect::Linux, linux::SADB_SATYPE_OSPFV2) => "OSPFV2",
        (Dialect::Linux, linux::SADB_SATYPE_RIPV2) => "RIPV2",
        (Dialect::Linux, linux::SADB_SATYPE_MIP) => "MIP",
        (Dialect::Linux, linux::SADB_X_SATYPE_IPCOMP) => "IPCOMP",
        (Dialect::Klips, klips::SADB_X_SATYPE_IPIP) => "IPIP",
        (Dialect::Klips, klips::SADB_X_SATYPE_COMP) => "COMP",
        (Dialect::Klips, klips::SADB_X_SATYPE_INT) => "INT",
        _ => "UNKNOWN",
    }
}

/// SA type of an IP protocol on Linux (AH, ESP, IPCOMP), if it has one.
pub fn linux_satype_of_proto(proto: u8) -> Option<u8> {
    match proto {
        IPPROTO_AH => Some(SADB_SATYPE_AH),
        IPPROTO_ESP => Some(SADB_SATYPE_ESP),
        IPPROTO_COMP => Some(linux::SADB_X_SATYPE_IPCOMP),
        _ => None,
    }
}

/// IP protocol of a Linux SA type (the inverse of [`linux_satype_of_proto`]).
pub fn linux_proto_of_satype(satype: u8) -> Option<u8> {
    match satype {
        SADB_SATYPE_AH => Some(IPPROTO_AH),
        SADB_SATYPE_ESP => Some(IPPROTO_ESP),
        linux::SADB_X_SATYPE_IPCOMP => Some(IPPROTO_COMP),
        _ => None,
    }
}
