//! Decoding of a frame body into a [`WhackMessage`] (rules in [`super::codec`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::codec::{DecodeError, MAX_STRING};
use super::message::{
    AddrFamily, Connection, DpdAction, End, KeyRequest, OppoInitiate, SendCert, Subnet,
    WhackMessage,
};
use super::tags::*;
use super::{DBG_KNOWN, LIST_KNOWN, POLICY_KNOWN, REREAD_ALL, RSA_MAX_ENCODING_BYTES};

/// The items of one sequence, after the per-sequence checks.
struct Items<'a> {
    items: Vec<(u16, &'a [u8])>,
}

impl<'a> Items<'a> {
    /// Splits `body` into items; `known` are the tags of this sequence.
    fn parse(mut body: &'a [u8], known: &[u16]) -> Result<Items<'a>, DecodeError> {
        let mut items: Vec<(u16, &'a [u8])> = Vec::new();
        while !body.is_empty() {
            let Some(head) = body.get(0..4).and_then(|h| <[u8; 4]>::try_from(h).ok()) else {
                return Err(DecodeError::Truncated);
            };
            let [t0, t1, l0, l1] = head;
            let tag = u16::from_be_bytes([t0, t1]);
            let len = usize::from(u16::from_be_bytes([l0, l1]));
            let value = body.get(4..4 + len).ok_or(DecodeError::Truncated)?;
            body = body.get(4 + len..).unwrap_or(&[]);
            if items.iter().any(|(t, _)| *t == tag) {
                return Err(DecodeError::DuplicateTag(tag));
            }
            if known.contains(&tag) {
                items.push((tag, value));
            } else if tag & TAG_OPTIONAL == 0 {
                return Err(DecodeError::UnknownTag(tag));
            } else {
                // Skipped, but remembered so that a duplicate is still caught.
                items.push((tag, value));
            }
        }
        Ok(Items { items })
    }

    fn get(&self, tag: u16) -> Option<&'a [u8]> {
        self.items.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v)
    }

    fn required(&self, tag: u16) -> Result<&'a [u8], DecodeError> {
        self.get(tag).ok_or(DecodeError::Missing { tag })
    }

    fn flag(&self, tag: u16) -> Result<bool, DecodeError> {
        match self.get(tag) {
            None => Ok(false),
            Some([]) => Ok(true),
            Some(v) => Err(DecodeError::BadLength { tag, len: v.len() }),
        }
    }

    fn fixed<const N: usize>(&self, tag: u16) -> Result<Option<[u8; N]>, DecodeError> {
        match self.get(tag) {
            None => Ok(None),
            Some(v) => <[u8; N]>::try_from(v)
                .map(Some)
                .map_err(|_| DecodeError::BadLength { tag, len: v.len() }),
        }
    }

    fn u8(&self, tag: u16) -> Result<Option<u8>, DecodeError> {
        Ok(self.fixed::<1>(tag)?.map(u8::from_be_bytes))
    }

    fn u16(&self, tag: u16) -> Result<Option<u16>, DecodeError> {
        Ok(self.fixed::<2>(tag)?.map(u16::from_be_bytes))
    }

    fn u32(&self, tag: u16) -> Result<Option<u32>, DecodeError> {
        Ok(self.fixed::<4>(tag)?.map(u32::from_be_bytes))
    }

    fn u64(&self, tag: u16) -> Result<Option<u64>, DecodeError> {
        Ok(self.fixed::<8>(tag)?.map(u64::from_be_bytes))
    }

    fn req_u8(&self, tag: u16) -> Result<u8, DecodeError> {
        self.u8(tag)?.ok_or(DecodeError::Missing { tag })
    }

    fn req_u16(&self, tag: u16) -> Result<u16, DecodeError> {
        self.u16(tag)?.ok_or(DecodeError::Missing { tag })
    }

    fn req_u64(&self, tag: u16) -> Result<u64, DecodeError> {
        self.u64(tag)?.ok_or(DecodeError::Missing { tag })
    }

    fn string(&self, tag: u16) -> Result<Option<String>, DecodeError> {
        let Some(v) = self.get(tag) else {
            return Ok(None);
        };
        if v.len() > MAX_STRING {
            return Err(DecodeError::TooLong { tag, len: v.len() });
        }
        if v.contains(&0) {
            return Err(DecodeError::NulInString { tag });
        }
        std::str::from_utf8(v)
            .map(|s| Some(s.to_string()))
            .map_err(|_| DecodeError::BadUtf8 { tag })
    }

    fn addr(&self, tag: u16) -> Result<Option<IpAddr>, DecodeError> {
        match self.get(tag) {
            None => Ok(None),
            Some(v) => parse_addr(tag, v).map(Some),
        }
    }

    fn req_addr(&self, tag: u16) -> Result<IpAddr, DecodeError> {
        self.addr(tag)?.ok_or(DecodeError::Missing { tag })
    }

    fn subnet(&self, tag: u16) -> Result<Option<Subnet>, DecodeError> {
        let Some(v) = self.get(tag) else {
            return Ok(None);
        };
        let Some((prefix, a)) = v.split_last() else {
            return Err(DecodeError::BadLength { tag, len: 0 });
        };
        let addr = parse_addr(tag, a).map_err(|e| match e {
            DecodeError::BadLength { tag, .. } => DecodeError::BadLength { tag, len: v.len() },
            e => e,
        })?;
        let s = Subnet {
            addr,
            prefix: *prefix,
        };
        if *prefix > AddrFamily::of(&addr).bits() {
            return Err(DecodeError::BadValue {
                tag,
                what: "prefix length too large",
            });
        }
        if !s.is_canonical() {
            return Err(DecodeError::BadValue {
                tag,
                what: "host bits set in subnet",
            });
        }
        Ok(Some(s))
    }

    fn family(&self, tag: u16) -> Result<AddrFamily, DecodeError> {
        match self.req_u8(tag)? {
            4 => Ok(AddrFamily::Ipv4),
            6 => Ok(AddrFamily::Ipv6),
            _ => Err(DecodeError::BadValue {
                tag,
                what: "address family must be 4 or 6",
            }),
        }
    }
}

fn parse_addr(tag: u16, v: &[u8]) -> Result<IpAddr, DecodeError> {
    let bad = DecodeError::BadLength { tag, len: v.len() };
    match v.split_first() {
        Some((4, a)) => <[u8; 4]>::try_from(a)
            .map(|b| IpAddr::V4(Ipv4Addr::from(b)))
            .map_err(|_| bad),
        Some((6, a)) => <[u8; 16]>::try_from(a)
            .map(|b| IpAddr::V6(Ipv6Addr::from(b)))
            .map_err(|_| bad),
        Some(_) => Err(DecodeError::BadValue {
            tag,
            what: "address family must be 4 or 6",
        }),
        None => Err(bad),
    }
}

fn decode_end(body: &[u8]) -> Result<End, DecodeError> {
    let it = Items::parse(body, END_TAGS)?;
    let ikeport = it.req_u16(END_IKEPORT)?;
    if ikeport == 0 {
        return Err(DecodeError::BadValue {
            tag: END_IKEPORT,
            what: "port 0",
        });
    }
    let sendcert = match it.u8(END_SENDCERT)? {
        None => None,
        Some(v) => Some(SendCert::from_value(v).ok_or(DecodeError::BadValue {
            tag: END_SENDCERT,
            what: "unknown sendcert value",
        })?),
    };
    Ok(End {
        host: it.req_addr(END_HOST)?,
        nexthop: it.req_addr(END_NEXTHOP)?,
        srcip: it.addr(END_SRCIP)?,
        client: it.subnet(END_CLIENT)?,
        client_wildcard: it.flag(END_CLIENT_WILDCARD)?,
        virt: it.string(END_VIRT)?,
        id: it.string(END_ID)?,
        cert: it.string(END_CERT)?,
        ca: it.string(END_CA)?,
        groups: it.string(END_GROUPS)?,
        updown: it.string(END_UPDOWN)?,
        ikeport,
        protocol: it.req_u8(END_PROTOCOL)?,
        port: it.req_u16(END_PORT)?,
        port_wildcard: it.flag(END_PORT_WILDCARD)?,
        dns_key_on_demand: it.flag(END_DNSKEYONDEMAND)?,
        xauth_server: it.flag(END_XAUTH_SERVER)?,
        xauth_client: it.flag(END_XAUTH_CLIENT)?,
        modecfg_server: it.flag(END_MODECFG_SERVER)?,
        modecfg_client: it.flag(END_MODECFG_CLIENT)?,
        sendcert,
        certtype: it.u64(END_CERTTYPE)?,
    })
}

fn decode_connection(body: &[u8]) -> Result<Connection, DecodeError> {
    let it = Items::parse(body, CONN_TAGS)?;
    let policy = it.req_u64(CONN_POLICY)?;
    if policy & !POLICY_KNOWN != 0 {
        return Err(DecodeError::BadValue {
            tag: CONN_POLICY,
            what: "unknown policy bits",
        });
    }
    let dpd_action =
        DpdAction::from_value(it.req_u8(CONN_DPD_ACTION)?).ok_or(DecodeError::BadValue {
            tag: CONN_DPD_ACTION,
            what: "unknown dpdaction",
        })?;
    Ok(Connection {
        left: decode_end(it.required(CONN_LEFT)?)?,
        right: decode_end(it.required(CONN_RIGHT)?)?,
        policy,
        addr_family: it.family(CONN_ADDR_FAMILY)?,
        tunnel_addr_family: it.family(CONN_TUNNEL_ADDR_FAMILY)?,
        ike_lifetime: it.req_u64(CONN_IKE_LIFETIME)?,
        ipsec_lifetime: it.req_u64(CONN_IPSEC_LIFETIME)?,
        rekey_margin: it.req_u64(CONN_REKEY_MARGIN)?,
        rekey_fuzz: it.req_u64(CONN_REKEY_FUZZ)?,
        keying_tries: it.req_u64(CONN_KEYING_TRIES)?,
        dpd_delay: it.req_u64(CONN_DPD_DELAY)?,
        dpd_timeout: it.req_u64(CONN_DPD_TIMEOUT)?,
        dpd_action,
        force_encaps: it.flag(CONN_FORCEENCAPS)?,
        ike: it.string(CONN_IKE)?,
        esp: it.string(CONN_ESP)?,
        pfsgroup: it.string(CONN_PFSGROUP)?,
    })
}

pub(super) fn decode_message(body: &[u8]) -> Result<WhackMessage, DecodeError> {
    let it = Items::parse(body, MSG_TAGS)?;

    let debug = it.u64(MSG_DEBUG)?;
    if debug.is_some_and(|d| d & !DBG_KNOWN != 0) {
        return Err(DecodeError::BadValue {
            tag: MSG_DEBUG,
            what: "unknown debug bits",
        });
    }
    let reread = it.u8(MSG_REREAD)?.unwrap_or(0);
    if reread & !REREAD_ALL != 0 {
        return Err(DecodeError::BadValue {
            tag: MSG_REREAD,
            what: "unknown reread bits",
        });
    }
    let list = it.u32(MSG_LIST)?.unwrap_or(0);
    if list & !LIST_KNOWN != 0 {
        return Err(DecodeError::BadValue {
            tag: MSG_LIST,
            what: "unknown list bits",
        });
    }

    let keyid = it.string(MSG_KEYID)?;
    let add = it.flag(MSG_ADDKEY)?;
    let pubkey = it.get(MSG_PUBKEYRSA);
    if let Some(k) = pubkey {
        if k.is_empty() || k.len() > RSA_MAX_ENCODING_BYTES {
            return Err(DecodeError::BadLength {
                tag: MSG_PUBKEYRSA,
                len: k.len(),
            });
        }
    }
    let key = match keyid {
        Some(keyid) => Some(KeyRequest {
            keyid,
            add,
            pubkey_rsa: pubkey.map(<[u8]>::to_vec),
        }),
        None if add => return Err(DecodeError::Missing { tag: MSG_KEYID }),
        None if pubkey.is_some() => return Err(DecodeError::Missing { tag: MSG_KEYID }),
        None => None,
    };

    let oppo_initiate = match (it.addr(MSG_OPPO_HERE)?, it.addr(MSG_OPPO_THERE)?) {
        (Some(my_client), Some(peer_client)) => Some(OppoInitiate {
            my_client,
            peer_client,
        }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(DecodeError::Missing {
                tag: MSG_OPPO_THERE,
            })
        }
        (None, Some(_)) => return Err(DecodeError::Missing { tag: MSG_OPPO_HERE }),
    };

    let connection = match it.get(TAG_CONNECTION) {
        Some(c) => Some(decode_connection(c)?),
        None => None,
    };

    Ok(WhackMessage {
        name: it.string(MSG_NAME)?,
        debug,
        myid: it.string(MSG_MYID)?,
        delete: it.flag(MSG_DELETE)?,
        delete_state: it.u64(MSG_DELETESTATE)?,
        crash: it.addr(MSG_CRASH)?,
        connection,
        listen: it.flag(MSG_LISTEN)?,
        unlisten: it.flag(MSG_UNLISTEN)?,
        reread,
        list,
        utc: it.flag(MSG_UTC)?,
        purge_ocsp: it.flag(MSG_PURGEOCSP)?,
        key,
        route: it.flag(MSG_ROUTE)?,
        unroute: it.flag(MSG_UNROUTE)?,
        initiate: it.flag(MSG_INITIATE)?,
        asynchronous: it.flag(MSG_ASYNC)?,
        oppo_initiate,
        terminate: it.flag(MSG_TERMINATE)?,
        status: it.flag(MSG_STATUS)?,
        shutdown: it.flag(MSG_SHUTDOWN)?,
        status_json: it.flag(MSG_STATUS_JSON)?,
        traffic_status: it.flag(MSG_TRAFFIC)?,
    })
}
