//! Numbers from `<linux/netlink.h>` and `<linux/xfrm.h>`, and the sizes of
//! the structs as the x86_64 (and every other Linux) ABI lays them out;
//! `tests` pins each size against offsets worked out from the header.

/// `NETLINK_XFRM`, the netlink protocol of the socket.
pub const NETLINK_XFRM: i32 = 6;

// Netlink control message types.
pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;

// nlmsg_flags.
pub const NLM_F_REQUEST: u16 = 0x01;
pub const NLM_F_MULTI: u16 = 0x02;
pub const NLM_F_ACK: u16 = 0x04;
pub const NLM_F_ECHO: u16 = 0x08;
pub const NLM_F_ROOT: u16 = 0x100;
pub const NLM_F_MATCH: u16 = 0x200;
pub const NLM_F_DUMP: u16 = NLM_F_ROOT | NLM_F_MATCH;
pub const NLM_F_REPLACE: u16 = 0x100;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
/// In an NLMSG_ERROR: the original message was not copied back (only its header).
pub const NLM_F_CAPPED: u16 = 0x100;
/// In an NLMSG_ERROR: extended-ack attributes follow.
pub const NLM_F_ACK_TLVS: u16 = 0x200;
/// Extended-ack attribute carrying the error text.
pub const NLMSGERR_ATTR_MSG: u16 = 1;

// XFRM message types (XFRM_MSG_BASE = 0x10).
pub const XFRM_MSG_NEWSA: u16 = 16;
pub const XFRM_MSG_DELSA: u16 = 17;
pub const XFRM_MSG_GETSA: u16 = 18;
pub const XFRM_MSG_NEWPOLICY: u16 = 19;
pub const XFRM_MSG_DELPOLICY: u16 = 20;
pub const XFRM_MSG_GETPOLICY: u16 = 21;
pub const XFRM_MSG_ALLOCSPI: u16 = 22;
pub const XFRM_MSG_ACQUIRE: u16 = 23;
pub const XFRM_MSG_EXPIRE: u16 = 24;
pub const XFRM_MSG_UPDPOLICY: u16 = 25;
pub const XFRM_MSG_UPDSA: u16 = 26;
pub const XFRM_MSG_POLEXPIRE: u16 = 27;
pub const XFRM_MSG_FLUSHSA: u16 = 28;
pub const XFRM_MSG_FLUSHPOLICY: u16 = 29;
/// An encapsulated SA's packets came from another address or port (the
/// peer's NAT mapping changed); sent to XFRMNLGRP_MAPPING.
pub const XFRM_MSG_MAPPING: u16 = 38;

// Attribute types (enum xfrm_attr_type_t).
pub const XFRMA_UNSPEC: u16 = 0;
pub const XFRMA_ALG_AUTH: u16 = 1;
pub const XFRMA_ALG_CRYPT: u16 = 2;
pub const XFRMA_ALG_COMP: u16 = 3;
pub const XFRMA_ENCAP: u16 = 4;
pub const XFRMA_TMPL: u16 = 5;
pub const XFRMA_SA: u16 = 6;
pub const XFRMA_POLICY: u16 = 7;
pub const XFRMA_SEC_CTX: u16 = 8;
pub const XFRMA_LTIME_VAL: u16 = 9;
pub const XFRMA_REPLAY_VAL: u16 = 10;
pub const XFRMA_REPLAY_THRESH: u16 = 11;
pub const XFRMA_ETIMER_THRESH: u16 = 12;
pub const XFRMA_SRCADDR: u16 = 13;
pub const XFRMA_COADDR: u16 = 14;
pub const XFRMA_LASTUSED: u16 = 15;
pub const XFRMA_POLICY_TYPE: u16 = 16;
pub const XFRMA_MIGRATE: u16 = 17;
pub const XFRMA_ALG_AEAD: u16 = 18;
pub const XFRMA_KMADDRESS: u16 = 19;
pub const XFRMA_ALG_AUTH_TRUNC: u16 = 20;
pub const XFRMA_MARK: u16 = 21;
pub const XFRMA_TFCPAD: u16 = 22;
pub const XFRMA_REPLAY_ESN_VAL: u16 = 23;
pub const XFRMA_SA_EXTRA_FLAGS: u16 = 24;
pub const XFRMA_ADDRESS_FILTER: u16 = 26;
pub const XFRMA_PAD: u16 = 27;
pub const XFRMA_OFFLOAD_DEV: u16 = 28;
pub const XFRMA_SET_MARK: u16 = 29;
pub const XFRMA_IF_ID: u16 = 31;

// Multicast groups (enum xfrm_nlgroups), for NETLINK_ADD_MEMBERSHIP.
pub const XFRMNLGRP_ACQUIRE: u32 = 1;
pub const XFRMNLGRP_EXPIRE: u32 = 2;
pub const XFRMNLGRP_SA: u32 = 3;
pub const XFRMNLGRP_POLICY: u32 = 4;
pub const XFRMNLGRP_AEVENTS: u32 = 5;
pub const XFRMNLGRP_REPORT: u32 = 6;
pub const XFRMNLGRP_MIGRATE: u32 = 7;
pub const XFRMNLGRP_MAPPING: u32 = 8;

// Modes (xfrm_usersa_info.mode, xfrm_user_tmpl.mode).
pub const XFRM_MODE_TRANSPORT: u8 = 0;
pub const XFRM_MODE_TUNNEL: u8 = 1;
pub const XFRM_MODE_ROUTEOPTIMIZATION: u8 = 2;
pub const XFRM_MODE_IN_TRIGGER: u8 = 3;
pub const XFRM_MODE_BEET: u8 = 4;

// Policy directions and actions.
pub const XFRM_POLICY_IN: u8 = 0;
pub const XFRM_POLICY_OUT: u8 = 1;
pub const XFRM_POLICY_FWD: u8 = 2;
pub const XFRM_POLICY_ALLOW: u8 = 0;
pub const XFRM_POLICY_BLOCK: u8 = 1;
// Policy types (XFRMA_POLICY_TYPE).
pub const XFRM_POLICY_TYPE_MAIN: u8 = 0;
pub const XFRM_POLICY_TYPE_SUB: u8 = 1;
// Template share modes.
pub const XFRM_SHARE_ANY: u8 = 0;
pub const XFRM_SHARE_SESSION: u8 = 1;
pub const XFRM_SHARE_USER: u8 = 2;
pub const XFRM_SHARE_UNIQUE: u8 = 3;

// xfrm_usersa_info.flags.
pub const XFRM_STATE_NOECN: u8 = 1;
pub const XFRM_STATE_DECAP_DSCP: u8 = 2;
pub const XFRM_STATE_NOPMTUDISC: u8 = 4;
pub const XFRM_STATE_WILDRECV: u8 = 8;
pub const XFRM_STATE_ICMP: u8 = 16;
pub const XFRM_STATE_AF_UNSPEC: u8 = 32;
pub const XFRM_STATE_ALIGN4: u8 = 64;
pub const XFRM_STATE_ESN: u8 = 128;

/// UDP encapsulation types (xfrm_encap_tmpl.encap_type).
pub const UDP_ENCAP_ESPINUDP_NON_IKE: u16 = 1;
pub const UDP_ENCAP_ESPINUDP: u16 = 2;

// IP protocols of SAs and selectors.
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ESP: u8 = 50;
pub const IPPROTO_AH: u8 = 51;
pub const IPPROTO_COMP: u8 = 108;
/// `IPSEC_PROTO_ANY`: FLUSHSA of every protocol.
pub const IPSEC_PROTO_ANY: u8 = 255;

// Address families (host-order u16 in the structs).
pub const AF_UNSPEC: u16 = 0;
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;

// Struct sizes (pinned in the tests).
pub const XFRM_SELECTOR_LEN: usize = 56;
pub const XFRM_ID_LEN: usize = 24;
pub const XFRM_LIFETIME_CFG_LEN: usize = 64;
pub const XFRM_LIFETIME_CUR_LEN: usize = 32;
pub const XFRM_STATS_LEN: usize = 12;
pub const XFRM_USERSA_INFO_LEN: usize = 224;
pub const XFRM_USERSA_ID_LEN: usize = 24;
pub const XFRM_USERSPI_INFO_LEN: usize = 232;
pub const XFRM_USERPOLICY_INFO_LEN: usize = 168;
pub const XFRM_USERPOLICY_ID_LEN: usize = 64;
pub const XFRM_USERSA_FLUSH_LEN: usize = 1;
pub const XFRM_USER_ACQUIRE_LEN: usize = 280;
pub const XFRM_USER_EXPIRE_LEN: usize = 232;
pub const XFRM_USER_POLEXPIRE_LEN: usize = 176;
pub const XFRM_USER_MAPPING_LEN: usize = 64;
pub const XFRM_USER_TMPL_LEN: usize = 64;
/// `xfrm_algo` without its key.
pub const XFRM_ALGO_LEN: usize = 68;
/// `xfrm_algo_auth` without its key.
pub const XFRM_ALGO_AUTH_LEN: usize = 72;
pub const XFRM_ALG_NAME_LEN: usize = 64;
pub const XFRM_ENCAP_TMPL_LEN: usize = 24;
pub const XFRM_MARK_LEN: usize = 8;
pub const XFRM_REPLAY_STATE_LEN: usize = 12;
/// `xfrm_replay_state_esn` without its bitmap.
pub const XFRM_REPLAY_STATE_ESN_LEN: usize = 24;
pub const XFRM_USERPOLICY_TYPE_LEN: usize = 6;
/// `struct nlmsgerr` (errno + the original header).
pub const NLMSGERR_LEN: usize = 20;

/// A message type's name for logs and errors.
pub fn msg_type_name(t: u16) -> &'static str {
    match t {
        NLMSG_NOOP => "NLMSG_NOOP",
        NLMSG_ERROR => "NLMSG_ERROR",
        NLMSG_DONE => "NLMSG_DONE",
        NLMSG_OVERRUN => "NLMSG_OVERRUN",
        XFRM_MSG_NEWSA => "XFRM_MSG_NEWSA",
        XFRM_MSG_DELSA => "XFRM_MSG_DELSA",
        XFRM_MSG_GETSA => "XFRM_MSG_GETSA",
        XFRM_MSG_NEWPOLICY => "XFRM_MSG_NEWPOLICY",
        XFRM_MSG_DELPOLICY => "XFRM_MSG_DELPOLICY",
        XFRM_MSG_GETPOLICY => "XFRM_MSG_GETPOLICY",
        XFRM_MSG_ALLOCSPI => "XFRM_MSG_ALLOCSPI",
        XFRM_MSG_ACQUIRE => "XFRM_MSG_ACQUIRE",
        XFRM_MSG_EXPIRE => "XFRM_MSG_EXPIRE",
        XFRM_MSG_UPDPOLICY => "XFRM_MSG_UPDPOLICY",
        XFRM_MSG_UPDSA => "XFRM_MSG_UPDSA",
        XFRM_MSG_POLEXPIRE => "XFRM_MSG_POLEXPIRE",
        XFRM_MSG_FLUSHSA => "XFRM_MSG_FLUSHSA",
        XFRM_MSG_FLUSHPOLICY => "XFRM_MSG_FLUSHPOLICY",
        XFRM_MSG_MAPPING => "XFRM_MSG_MAPPING",
        _ => "XFRM_MSG_UNKNOWN",
    }
}

/// An attribute type's name for logs.
pub fn attr_name(t: u16) -> &'static str {
    match t {
        XFRMA_ALG_AUTH => "ALG_AUTH",
        XFRMA_ALG_CRYPT => "ALG_CRYPT",
        XFRMA_ALG_COMP => "ALG_COMP",
        XFRMA_ENCAP => "ENCAP",
        XFRMA_TMPL => "TMPL",
        XFRMA_SA => "SA",
        XFRMA_POLICY => "POLICY",
        XFRMA_LTIME_VAL => "LTIME_VAL",
        XFRMA_REPLAY_VAL => "REPLAY_VAL",
        XFRMA_SRCADDR => "SRCADDR",
        XFRMA_COADDR => "COADDR",
        XFRMA_POLICY_TYPE => "POLICY_TYPE",
        XFRMA_ALG_AUTH_TRUNC => "ALG_AUTH_TRUNC",
        XFRMA_MARK => "MARK",
        XFRMA_REPLAY_ESN_VAL => "REPLAY_ESN_VAL",
        XFRMA_IF_ID => "IF_ID",
        _ => "UNKNOWN",
    }
}
