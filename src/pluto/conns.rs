//! pluto's connection database: whack's descriptions, which end is us, and
//! the engine's view of them once oriented.

use super::algs;
use crate::ctl::{self, Rc};
use crate::ident::{parse_id, IdSpec};
use crate::ike::config::{ConnConfig, End, Policy};
use crate::ike::kernel::{PolicyAction, Selector};
use crate::ike::proposal::AuthMethod;
use crate::ike::wire::Identity;
use std::net::IpAddr;

pub struct Conn {
    pub name: String,
    pub desc: ctl::Connection,
    /// `Some(true)`: the left end is us. `None`: not oriented (no local interface matches).
    pub left_is_us: Option<bool>,
    /// The engine has this connection loaded.
    pub loaded: bool,
    /// `--initiate` asked for it to be up (`UP` in the status policy).
    pub up: bool,
}

/// A refusal with the reply code whack shows.
pub type Refusal = (Rc, String);

fn end_to_engine(e: &ctl::End, myid: Option<&Identity>) -> Result<End, Refusal> {
    let host = (!e.host.is_unspecified()).then_some(e.host);
    let id = match e.id.as_deref() {
        None => None,
        Some(text) => match parse_id(text) {
            Ok(IdSpec::Id(id)) => Some(id),
            Ok(IdSpec::Any) => None,
            Ok(IdSpec::MyId) => myid.cloned(),
            Err(err) => return Err((Rc::BadId, format!("bad --id {text}: {err}"))),
        },
    };
    let client = e.client.map(|s| Selector {
        addr: s.addr,
        prefix: s.prefix,
        protocol: e.protocol,
        port: e.port,
    });
    Ok(End {
        host,
        port: e.ikeport,
        id,
        client,
        virt: None,
    })
}

pub fn policy_of(bits: u64) -> Policy {
    Policy {
        psk: bits & ctl::POLICY_PSK != 0,
        rsasig: bits & ctl::POLICY_RSASIG != 0,
        encrypt: bits & ctl::POLICY_ENCRYPT != 0,
        authenticate: bits & ctl::POLICY_AUTHENTICATE != 0,
        compress: bits & ctl::POLICY_COMPRESS != 0,
        tunnel: bits & ctl::POLICY_TUNNEL != 0,
        pfs: bits & ctl::POLICY_PFS != 0,
        dont_rekey: bits & ctl::POLICY_DONT_REKEY != 0,
        shunt: PolicyAction::from_field(
            (bits & ctl::POLICY_SHUNT_MASK) >> ctl::POLICY_SHUNT_SHIFT,
            false,
        )
        .unwrap_or(PolicyAction::Ipsec),
        failure_shunt: PolicyAction::from_field(
            (bits & ctl::POLICY_FAIL_MASK) >> ctl::POLICY_FAIL_SHIFT,
            true,
        ),
    }
}

/// The engine's connection for `c` seen from the end that is us.
pub fn to_engine(
    name: &str,
    c: &ctl::Connection,
    left_is_us: bool,
    myid: Option<&Identity>,
) -> Result<ConnConfig, Refusal> {
    let (us, them) = if left_is_us {
        (&c.left, &c.right)
    } else {
        (&c.right, &c.left)
    };
    let local = end_to_engine(us, myid)?;
    let remote = end_to_engine(them, myid)?;
    let policy = policy_of(c.policy);
    let mut cfg = ConnConfig::new(name, local, remote, policy);
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    cfg.ike_lifetime = clamp(c.ike_lifetime);
    cfg.ipsec_lifetime = clamp(c.ipsec_lifetime);
    cfg.rekey_margin = clamp(c.rekey_margin);
    cfg.rekey_fuzz = clamp(c.rekey_fuzz);
    cfg.keying_tries = clamp(c.keying_tries);
    let mut auths = Vec::new();
    if policy.rsasig {
        auths.push(AuthMethod::RsaSig);
    }
    if policy.psk || !policy.rsasig {
        auths.push(AuthMethod::Psk);
    }
    if let Some(ike) = &c.ike {
        cfg.ike = algs::parse_ike(ike, &auths, cfg.ike_lifetime).map_err(|e| (Rc::NoAlgo, e))?;
    }
    if let Some(esp) = &c.esp {
        cfg.esp = algs::parse_esp(esp).map_err(|e| (Rc::NoAlgo, e))?;
    }
    if let Some(g) = &c.pfsgroup {
        cfg.pfs_group = Some(algs::group(g).map_err(|e| (Rc::NoAlgo, e))?);
    }
    Ok(cfg)
}

/// Which end is us, given our interface addresses.
pub fn orient(c: &ctl::Connection, ours: &[IpAddr]) -> Result<Option<bool>, String> {
    let l = ours.contains(&c.left.host);
    let r = ours.contains(&c.right.host);
    match (l, r) {
        (true, true) => Err(format!("both sides are our interface {}", c.left.host)),
        (true, false) => Ok(Some(true)),
        (false, true) => Ok(Some(false)),
        (false, false) => Ok(None),
    }
}

/// The POLICY_* names joined with `+` (status `policy:` line).
pub fn policy_text(bits: u64) -> String {
    const NAMES: &[(u64, &str)] = &[
        (ctl::POLICY_PSK, "PSK"),
        (ctl::POLICY_RSASIG, "RSASIG"),
        (ctl::POLICY_ENCRYPT, "ENCRYPT"),
        (ctl::POLICY_AUTHENTICATE, "AUTHENTICATE"),
        (ctl::POLICY_COMPRESS, "COMPRESS"),
        (ctl::POLICY_TUNNEL, "TUNNEL"),
        (ctl::POLICY_PFS, "PFS"),
        (ctl::POLICY_DISABLEARRIVALCHECK, "DISABLEARRIVALCHECK"),
        (ctl::POLICY_DONT_REKEY, "DONTREKEY"),
        (ctl::POLICY_OPPO, "OPPORTUNISTIC"),
        (ctl::POLICY_GROUP, "GROUP"),
        (ctl::POLICY_GROUTED, "GROUTED"),
        (ctl::POLICY_UP, "UP"),
        (ctl::POLICY_MODECFG_PULL, "MODECFGPULL"),
        (ctl::POLICY_AGGRESSIVE, "AGGRESSIVE"),
    ];
    let mut v: Vec<String> = NAMES
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    match bits & ctl::POLICY_SHUNT_MASK {
        ctl::POLICY_SHUNT_PASS => v.push("PASS".into()),
        ctl::POLICY_SHUNT_DROP => v.push("DROP".into()),
        ctl::POLICY_SHUNT_REJECT => v.push("REJECT".into()),
        _ => {}
    }
    match bits & ctl::POLICY_FAIL_MASK {
        ctl::POLICY_FAIL_PASS => v.push("failurePASS".into()),
        ctl::POLICY_FAIL_DROP => v.push("failureDROP".into()),
        ctl::POLICY_FAIL_REJECT => v.push("failureREJECT".into()),
        _ => {}
    }
    if ctl::never_negotiate(bits) {
        v.push("NEVER_NEGOTIATE".into());
    }
    if v.is_empty() {
        "none".into()
    } else {
        v.join("+")
    }
}

fn end_text(e: &ctl::End, other_host: IpAddr, left: bool) -> String {
    let host = if e.host.is_unspecified() {
        "%any".to_string()
    } else {
        e.host.to_string()
    };
    let mut h = host;
    if e.ikeport != ctl::IKE_UDP_PORT {
        h.push_str(&format!(":{}", e.ikeport));
    }
    if let Some(id) = e.id.as_deref().filter(|id| *id != e.host.to_string()) {
        h.push_str(&format!("[{id}]"));
    }
    if e.protocol != 0 || e.port != 0 {
        h.push_str(&format!(":{}/{}", e.protocol, e.port));
    }
    let client = e.client.map(|c| c.to_string());
    let hop =
        (!e.nexthop.is_unspecified() && e.nexthop != other_host).then(|| e.nexthop.to_string());
    if left {
        let mut s = client.map_or(String::new(), |c| format!("{c}==="));
        s.push_str(&h);
        if let Some(n) = hop {
            s.push_str(&format!("---{n}"));
        }
        s
    } else {
        let mut s = hop.map_or(String::new(), |n| format!("{n}---"));
        s.push_str(&h);
        if let Some(c) = client {
            s.push_str(&format!("==={c}"));
        }
        s
    }
}

/// `left...right` as the status output draws a connection.
pub fn topology(c: &ctl::Connection) -> String {
    format!(
        "{}...{}",
        end_text(&c.left, c.right.host, true),
        end_text(&c.right, c.left.host, false)
    )
}
