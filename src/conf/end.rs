//! The `left...`/`right...` keys of a conn: one [`End`] each, with the
//! `%` forms of ipsec.conf(5) resolved through the [`Host`].

use std::net::IpAddr;

use super::conn::Ctx;
use super::lexer::Item;
use super::Host;
use crate::ctl::{AddrFamily, End, KeyRequest, Subnet, RSA_MAX_ENCODING_BYTES};
use crate::text::data::ttodata_public;
use crate::text::{numeric_arg, ttoaddr, ttoprotoport, ttosubnet};

/// The keys of one end, as given.
#[derive(Debug, Default, Clone)]
pub struct EndKeys {
    pub host: Option<Item>,
    pub id: Option<Item>,
    pub subnet: Option<Item>,
    pub subnets: Option<Item>,
    pub nexthop: Option<Item>,
    pub sourceip: Option<Item>,
    pub updown: Option<Item>,
    pub protoport: Option<Item>,
    pub rsasigkey: Option<Item>,
    pub ikeport: Option<Item>,
}

impl EndKeys {
    /// Files `it` under its key (without `left`/`right`); false if unknown.
    pub fn set(&mut self, key: &str, it: Item) -> bool {
        let slot = match key {
            "" => &mut self.host,
            "id" => &mut self.id,
            "subnet" => &mut self.subnet,
            "subnets" => &mut self.subnets,
            "nexthop" => &mut self.nexthop,
            "sourceip" => &mut self.sourceip,
            "updown" => &mut self.updown,
            "protoport" => &mut self.protoport,
            "rsasigkey" => &mut self.rsasigkey,
            "ikeport" => &mut self.ikeport,
            _ => return false,
        };
        // `key=` means "back to the default".
        *slot = Some(it).filter(|i| !i.value.is_empty());
        true
    }

    /// The family its host address or subnet values say, if literal.
    pub fn literal_family(&self) -> Option<AddrFamily> {
        match self.host.as_ref()?.value.as_str() {
            "%any6" => Some(AddrFamily::Ipv6),
            v => (!v.starts_with('%')).then(|| family_of_text(v)),
        }
    }

    /// The family its subnet(s) are written in, if any.
    pub fn subnet_family(&self) -> Option<AddrFamily> {
        let v = self.subnet.as_ref().or(self.subnets.as_ref())?;
        (!v.value.starts_with("vhost:") && !v.value.starts_with("vnet:"))
            .then(|| family_of_text(&v.value))
    }
}

fn family_of_text(v: &str) -> AddrFamily {
    if v.contains(':') {
        AddrFamily::Ipv6
    } else {
        AddrFamily::Ipv4
    }
}

/// An end with what decides its defaults.
#[derive(Debug, Clone)]
pub struct Built {
    pub end: End,
    /// `leftsubnets=`: more clients, one conn each (numbered from 1;
    /// `leftsubnet=`, if given too, is number 0).
    pub subnets: Vec<Subnet>,
    /// The nexthop was given.
    pub nexthop_given: bool,
    /// The default route's gateway, when the host was `%defaultroute`.
    pub route_nexthop: Option<IpAddr>,
    /// The raw RSA key, if any.
    pub key: Option<Vec<u8>>,
    /// `%opportunistic`: the peers and their keys come from DNS.
    pub oppo: bool,
}

/// Builds one end; `None` after an error (already diagnosed).
pub fn build(
    k: &EndKeys,
    side: &str,
    cx: &mut Ctx,
    host: &dyn Host,
    af: AddrFamily,
    taf: AddrFamily,
) -> Option<Built> {
    let mut ok = true;
    let mut end = End {
        host: af.any(),
        nexthop: af.any(),
        ..End::default()
    };
    let mut route_nexthop = None;
    let mut oppo = false;
    match &k.host {
        None => {
            cx.error_at_section(format!("{side}= is missing (the {side} end's host)"));
            ok = false;
        }
        Some(it) => match it.value.as_str() {
            "%any" => {}
            // The IPv6 road warrior (libreswan's spelling; Openswan 2.x set
            // connaddrfamily=ipv6 with %any).
            "%any6" if af == AddrFamily::Ipv6 => {}
            "%any6" => {
                cx.error(it, format!("{side}=%any6 in a conn of IPv4 hosts"));
                ok = false;
            }
            "%defaultroute" => match host.default_route(af) {
                Some(dr) => {
                    end.host = dr.addr;
                    route_nexthop = Some(dr.nexthop);
                }
                None => {
                    cx.error(it, format!("{side}=%defaultroute: no default route"));
                    ok = false;
                }
            },
            "%opportunistic" | "%oppo" => {
                oppo = true;
                end.dns_key_on_demand = true;
            }
            "%group" | "%opportunisticgroup" => {
                cx.error(
                    it,
                    format!("{side}={}: policy groups are not supported", it.value),
                );
                ok = false;
            }
            v => match ttoaddr(v, af) {
                Ok(a) => end.host = a,
                Err(_) if looks_like_name(v) => match host.resolve(v, af) {
                    Ok(a) => end.host = a,
                    Err(why) => {
                        cx.error(it, format!("{side}=\"{v}\": name lookup failed: {why}"));
                        ok = false;
                    }
                },
                Err(e) => {
                    cx.error(it, format!("{side}=\"{v}\": {e}"));
                    ok = false;
                }
            },
        },
    }
    end.id = k.id.as_ref().map(|i| i.value.clone());
    end.updown = k.updown.as_ref().map(|i| i.value.clone());
    let mut subnets = Vec::new();
    if let Some(it) = &k.subnet {
        let v = it.value.as_str();
        if v.starts_with("vhost:") || v.starts_with("vnet:") {
            end.virt = Some(v.to_string());
        } else {
            match ttosubnet(v, taf) {
                Ok(s) => end.client = Some(s),
                Err(e) => {
                    cx.error(it, format!("{side}subnet=\"{v}\": {e}"));
                    ok = false;
                }
            }
        }
    }
    // With subnet= too, subnets= adds to it (as Openswan's starter did).
    if let Some(it) = &k.subnets {
        let list = it.value.trim_start_matches('{').trim_end_matches('}');
        for s in list.split([',', ' ', '\t']).filter(|s| !s.is_empty()) {
            match ttosubnet(s, taf) {
                Ok(sn) => subnets.push(sn),
                Err(e) => {
                    cx.error(it, format!("{side}subnets: \"{s}\": {e}"));
                    ok = false;
                }
            }
        }
        if subnets.is_empty() && ok {
            cx.error(it, format!("{side}subnets= names no subnet"));
            ok = false;
        }
    }
    if let Some(it) = &k.nexthop {
        match it.value.as_str() {
            // The peer's address: what an omitted nexthop gets (below).
            "%direct" => {}
            "%defaultroute" => match host.default_route(af) {
                Some(dr) => end.nexthop = dr.nexthop,
                None => {
                    cx.error(it, format!("{side}nexthop=%defaultroute: no default route"));
                    ok = false;
                }
            },
            v => match ttoaddr(v, af) {
                Ok(a) => end.nexthop = a,
                Err(e) => {
                    cx.error(it, format!("{side}nexthop=\"{v}\": {e}"));
                    ok = false;
                }
            },
        }
    }
    if let Some(it) = &k.sourceip {
        match ttoaddr(&it.value, af) {
            Ok(a) => end.srcip = Some(a),
            Err(e) => {
                cx.error(it, format!("{side}sourceip=\"{}\": {e}", it.value));
                ok = false;
            }
        }
    }
    if let Some(it) = &k.protoport {
        match ttoprotoport(&it.value) {
            Ok((p, port, wild)) => {
                end.protocol = p;
                end.port = port;
                end.port_wildcard = wild;
            }
            Err(e) => {
                cx.error(it, format!("{side}protoport=\"{}\": {e}", it.value));
                ok = false;
            }
        }
    }
    if let Some(it) = &k.ikeport {
        match numeric_arg(&it.value)
            .and_then(|n| u16::try_from(n).ok())
            .filter(|p| *p != 0)
        {
            Some(p) => end.ikeport = p,
            None => {
                cx.error(
                    it,
                    format!(
                        "{side}ikeport=\"{}\": must be a number between 1 and 65535",
                        it.value
                    ),
                );
                ok = false;
            }
        }
    }
    let mut key = None;
    if let Some(it) = &k.rsasigkey {
        match rsasigkey(&it.value) {
            Ok(RsaSigKey::Raw(k)) => key = Some(k),
            Ok(RsaSigKey::None) => {}
            Ok(RsaSigKey::Dns) => end.dns_key_on_demand = true,
            Err(e) => {
                cx.error(it, format!("{side}rsasigkey: {e}"));
                ok = false;
            }
        }
    }
    ok.then_some(Built {
        end,
        subnets,
        nexthop_given: k.nexthop.as_ref().is_some_and(|i| i.value != "%direct"),
        route_nexthop,
        key,
        oppo,
    })
}

/// A DNS name rather than a mistyped address: letters in it, no `:`.
fn looks_like_name(v: &str) -> bool {
    v.bytes().any(|b| b.is_ascii_alphabetic())
        && !v.contains(':')
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// What `rsasigkey=` says of the end's key.
enum RsaSigKey {
    Raw(Vec<u8>),
    None,
    /// `%dns`, `%dnsondemand`: looked up in DNS when a signature needs it
    /// (whack's `--dnskeyondemand`; Openswan's `%dns` fetched it at load
    /// time, which a gateway booting before its name server cannot do).
    Dns,
}

/// `rsasigkey=`: a raw key (`0s` base64 / `0x` hex), `%none`, or `%dns`
/// / `%dnsondemand`; `%cert` needs what rswan does not have.
fn rsasigkey(v: &str) -> Result<RsaSigKey, String> {
    match v {
        "%none" | "" => Ok(RsaSigKey::None),
        "%cert" => {
            Err("%cert: X.509 certificates are not supported; give the raw key (0s...)".into())
        }
        "%dns" | "%dnsondemand" => Ok(RsaSigKey::Dns),
        v if v.starts_with('%') => Err(format!(
            "\"{v}\" is not a known form (0s..., 0x..., %none, %dnsondemand)"
        )),
        v => {
            let k = ttodata_public(v.as_bytes())
                .map_err(|e| format!("RSA public-key data malformed ({e})"))?;
            if k.len() > RSA_MAX_ENCODING_BYTES {
                return Err(format!("key longer than {RSA_MAX_ENCODING_BYTES} bytes"));
            }
            Ok(RsaSigKey::Raw(k))
        }
    }
}

/// The key request for an end with a raw key: under its id, or its
/// address when it has none.
pub fn key_request(end: &End, key: &[u8]) -> Option<KeyRequest> {
    let keyid = match &end.id {
        Some(id) => id.clone(),
        None if !end.host.is_unspecified() => end.host.to_string(),
        None => return None,
    };
    Some(KeyRequest {
        keyid,
        add: false,
        pubkey_rsa: Some(key.to_vec()),
    })
}
