//! `ipsec eroute` on NETKEY: the same command lines as SPD entries.
//!
//! KLIPS routes outbound traffic to a SA; Linux decides with its security
//! policy database. The mapping:
//!
//! * `--add` → SADB_X_SPDADD of an outbound entry, `--replace` →
//!   SADB_X_SPDUPDATE; `--addin`/`--replacein` → the inbound and forward
//!   entries (what KLIPS's INFLOW check does: decrypted tunnel traffic must
//!   have come through this SA; Linux also drops it without them).
//! * The SAID decides the X_POLICY: an `esp`, `ah` or `comp` SAID (and
//!   `tun`, which on NETKEY names the ESP SA of that SPI: Linux has no
//!   IP-in-IP SA, its ESP SA is the tunnel) → an IPsec request in tunnel
//!   mode to the SAID's address, from any source (the kernel takes the
//!   route's source address). An SPI up to 0x3fff is also the request's
//!   reqid with level UNIQUE, binding the entry to the SA `ipsec spi` added
//!   with that SPI; larger SPIs get level REQUIRE (any SA to that
//!   destination). `%pass`/`%passthrough` → a bypass entry (NONE), `%drop`
//!   and `%reject` → discard, `%hold`, `%trap` and `%trapsubnet` → an ESP
//!   transport request without SA, so the kernel sends ACQUIRE.
//! * `--add` / `--replace` of an SA (not a shunt) also adds the mirrored
//!   inbound and forward entries (the reversed selectors) with an
//!   *optional* tunnel-mode request of the SA's protocol, any endpoints,
//!   any reqid ([`mirror_messages`]). KLIPS accepted decapsulated traffic
//!   without an inbound eroute; Linux drops tunnel-decapsulated packets
//!   that match no inbound policy (XfrmInNoPols), so a KLIPS-era script
//!   with one `--add` per side would carry nothing back. An optional
//!   template accepts what came through any tunnel SA of that protocol
//!   (`xfrm_policy_ok`, `xfrm_state_addr_cmp`: zero addresses and reqid
//!   match any) and still lets cleartext in, as KLIPS did. An inbound
//!   entry already there (`--addin` first) is left alone; `--addin` later
//!   replaces the mirrors; `--del` removes them if they are still mirrors.
//!   They have no listing line (only outbound entries have).
//! * `--del` → SADB_X_SPDDELETE of the outbound, inbound and forward
//!   entries with these selectors (those that exist; none is an error).
//! * `--clear` → SADB_X_SPDFLUSH.

use super::request::{Action, Flow, Request};
use crate::pfkey::build::{
    policy_priority, spd_add, spd_delete, spd_flush, spd_update, IpsecSpec, PolicyAction,
    PolicySpec, Selector,
};
use crate::pfkey::consts::{
    IPSEC_DIR_FWD, IPSEC_DIR_INBOUND, IPSEC_DIR_OUTBOUND, IPSEC_LEVEL_REQUIRE, IPSEC_LEVEL_UNIQUE,
    IPSEC_LEVEL_USE, IPSEC_POLICY_IPSEC,
};
use crate::pfkey::Message;
use crate::said::{
    any_addr, SaProto, Said, SPI_DROP, SPI_HOLD, SPI_PASS, SPI_REJECT, SPI_TRAP, SPI_TRAPSUBNET,
};
use crate::spi::message::netkey_reqid;

/// The selector of one side of the flow.
pub fn selector(f: &Flow, proto: u8) -> Selector {
    Selector {
        addr: f.net.addr,
        prefixlen: f.net.prefix,
        proto,
        port: f.port,
    }
}

/// What the SAID makes of matching traffic.
pub fn action_of(said: &Said) -> Result<PolicyAction, String> {
    let spec = |esp, ah, ipcomp, tunnel, reqid| IpsecSpec {
        ipcomp,
        esp,
        ah,
        tunnel,
        reqid,
        level: if reqid != 0 {
            IPSEC_LEVEL_UNIQUE
        } else {
            IPSEC_LEVEL_REQUIRE
        },
    };
    match (said.proto, said.spi) {
        (SaProto::Int, SPI_PASS) | (SaProto::Tun, 0) => Ok(PolicyAction::None),
        (SaProto::Int, SPI_DROP | SPI_REJECT) => Ok(PolicyAction::Discard),
        (SaProto::Int, SPI_HOLD | SPI_TRAP | SPI_TRAPSUBNET) => {
            Ok(PolicyAction::Ipsec(spec(true, false, false, None, 0)))
        }
        (SaProto::Int, spi) => Err(format!("int0x{spi:x} is not a shunt NETKEY knows")),
        (p, spi) => {
            let tunnel = Some((any_addr(said.family()), said.dst));
            let reqid = netkey_reqid(spi);
            Ok(PolicyAction::Ipsec(match p {
                SaProto::Ah => spec(false, true, false, tunnel, reqid),
                SaProto::Comp => spec(false, false, true, tunnel, reqid),
                _ => spec(true, false, false, tunnel, reqid),
            }))
        }
    }
}

/// The directions an action concerns.
pub fn directions(action: Action) -> &'static [u8] {
    match action {
        Action::Add | Action::Replace => &[IPSEC_DIR_OUTBOUND],
        Action::AddIn | Action::ReplaceIn => &[IPSEC_DIR_INBOUND, IPSEC_DIR_FWD],
        Action::Del => &[IPSEC_DIR_OUTBOUND, IPSEC_DIR_INBOUND, IPSEC_DIR_FWD],
        Action::Clear => &[],
    }
}

/// The messages to send, in order (seq and pid are set by the socket).
pub fn messages(req: &Request) -> Result<Vec<Message>, String> {
    let Some((src, dst)) = req.flows else {
        return Ok(vec![spd_flush(0, 0)]);
    };
    let (s, d) = (selector(&src, req.proto), selector(&dst, req.proto));
    let dirs = directions(req.action);
    let Some(said) = req.said else {
        return Ok(dirs
            .iter()
            .map(|dir| spd_delete(*dir, &s, &d, 0, 0))
            .collect());
    };
    let action = action_of(&said)?;
    Ok(dirs
        .iter()
        .map(|dir| {
            let spec = PolicySpec {
                dir: *dir,
                src: s,
                dst: d,
                priority: policy_priority(&s, &d),
                action,
            };
            if req.action.replaces() {
                spd_update(&spec, 0, 0)
            } else {
                spd_add(&spec, 0, 0)
            }
        })
        .collect())
}

/// The selectors of the mirrored inbound entries of an `--add` /
/// `--replace` of an SA (the flow reversed), `None` when it gets none.
pub fn mirror_selectors(req: &Request) -> Option<(Selector, Selector)> {
    let (src, dst) = req.flows?;
    Some((selector(&dst, req.proto), selector(&src, req.proto)))
}

/// The mirrored inbound and forward entries of an `--add` / `--replace`
/// through an SA (see the module docs); empty for shunts and other actions.
pub fn mirror_messages(req: &Request) -> Result<Vec<Message>, String> {
    let (Some(said), Some((s, d))) = (req.said, mirror_selectors(req)) else {
        return Ok(Vec::new());
    };
    if !matches!(req.action, Action::Add | Action::Replace) {
        return Ok(Vec::new());
    }
    let PolicyAction::Ipsec(out) = action_of(&said)? else {
        return Ok(Vec::new());
    };
    if out.tunnel.is_none() {
        return Ok(Vec::new());
    }
    let any = any_addr(said.family());
    let action = PolicyAction::Ipsec(IpsecSpec {
        tunnel: Some((any, any)),
        reqid: 0,
        level: IPSEC_LEVEL_USE,
        ..out
    });
    Ok([IPSEC_DIR_INBOUND, IPSEC_DIR_FWD]
        .iter()
        .map(|dir| {
            spd_add(
                &PolicySpec {
                    dir: *dir,
                    src: s,
                    dst: d,
                    priority: policy_priority(&s, &d),
                    action,
                },
                0,
                0,
            )
        })
        .collect())
}

/// Whether an SPD dump entry is such a mirror: inbound or forward, every
/// request optional with no reqid, the first a tunnel between any addresses.
pub fn is_mirror(m: &Message) -> bool {
    let Some(p) = m.policy() else {
        return false;
    };
    let tunnel_any = p
        .requests
        .first()
        .and_then(|r| r.tunnel)
        .is_some_and(|(a, b)| a.ip().is_unspecified() && b.ip().is_unspecified());
    p.dir != IPSEC_DIR_OUTBOUND
        && p.policy_type == IPSEC_POLICY_IPSEC
        && tunnel_any
        && p.requests
            .iter()
            .all(|r| r.level == IPSEC_LEVEL_USE && r.reqid == 0)
}

/// Whether a dump entry has this direction and these selectors.
pub fn same_entry(m: &Message, dir: u8, src: &Selector, dst: &Selector) -> bool {
    m.policy().is_some_and(|p| p.dir == dir)
        && m.address_src() == Some(&src.to_address())
        && m.address_dst() == Some(&dst.to_address())
}

#[cfg(test)]
mod tests {
    use super::super::request::Args;
    use super::*;
    use crate::pfkey::consts::linux::{
        SADB_X_SPDADD, SADB_X_SPDDELETE, SADB_X_SPDFLUSH, SADB_X_SPDUPDATE,
    };
    use crate::pfkey::consts::{
        IPPROTO_AH, IPPROTO_ESP, IPSEC_MODE_TUNNEL, IPSEC_POLICY_DISCARD, IPSEC_POLICY_NONE,
    };

    fn req(action: &str, said: Option<&str>) -> Request {
        Request::from_args(&Args {
            action: action.into(),
            src: Some("10.1.0.0/24".into()),
            dst: Some("10.2.0.0/24".into()),
            said: said.map(str::to_string),
            ..Args::default()
        })
        .unwrap()
    }

    #[test]
    fn add_tunnel() {
        let ms = messages(&req("add", Some("tun0x1001@192.0.2.2"))).unwrap();
        assert_eq!(ms.len(), 1);
        let m = &ms[0];
        assert_eq!(m.header.msg_type, SADB_X_SPDADD);
        let p = m.policy().unwrap();
        assert_eq!(
            (p.policy_type, p.dir),
            (IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND)
        );
        let r = &p.requests[0];
        assert_eq!(
            (r.proto, r.mode, r.level, r.reqid),
            (
                u16::from(IPPROTO_ESP),
                IPSEC_MODE_TUNNEL,
                IPSEC_LEVEL_UNIQUE,
                0x1001
            )
        );
        assert_eq!(r.tunnel.unwrap().1.ip().to_string(), "192.0.2.2");
        assert_eq!(m.address_src().unwrap().prefixlen, 24);
        let ms = messages(&req("addin", Some("ah.12345@192.0.2.1"))).unwrap();
        assert_eq!(ms.len(), 2);
        let dirs: Vec<u8> = ms.iter().map(|m| m.policy().unwrap().dir).collect();
        assert_eq!(dirs, vec![IPSEC_DIR_INBOUND, IPSEC_DIR_FWD]);
        let r = &ms[0].policy().unwrap().requests[0];
        assert_eq!(
            (r.proto, r.level),
            (u16::from(IPPROTO_AH), IPSEC_LEVEL_REQUIRE)
        );
        let ms = messages(&req("replace", Some("esp.1001@192.0.2.2"))).unwrap();
        assert_eq!(ms[0].header.msg_type, SADB_X_SPDUPDATE);
    }

    #[test]
    fn shunts() {
        let ty = |s| {
            messages(&req("add", Some(s))).unwrap()[0]
                .policy()
                .unwrap()
                .clone()
        };
        assert_eq!(ty("%pass").policy_type, IPSEC_POLICY_NONE);
        assert_eq!(ty("%passthrough").policy_type, IPSEC_POLICY_NONE);
        assert_eq!(ty("%drop").policy_type, IPSEC_POLICY_DISCARD);
        assert_eq!(ty("%reject").policy_type, IPSEC_POLICY_DISCARD);
        let t = ty("%trap");
        assert_eq!(t.policy_type, IPSEC_POLICY_IPSEC);
        assert!(t.requests[0].tunnel.is_none());
        assert_eq!(t.requests[0].reqid, 0);
        assert!(messages(&req("add", Some("int0x200@0.0.0.0"))).is_err());
    }

    #[test]
    fn del_and_clear() {
        let ms = messages(&req("del", None)).unwrap();
        assert_eq!(ms.len(), 3);
        assert!(ms.iter().all(|m| m.header.msg_type == SADB_X_SPDDELETE));
        let clear = Request::from_args(&Args {
            action: "clear".into(),
            ..Args::default()
        })
        .unwrap();
        let ms = messages(&clear).unwrap();
        assert_eq!(ms.len(), 1);
        assert_eq!(ms[0].header.msg_type, SADB_X_SPDFLUSH);
    }

    #[test]
    fn mirrors_of_an_sa_eroute() {
        let r = req("add", Some("tun0x1001@192.0.2.2"));
        let ms = mirror_messages(&r).unwrap();
        assert_eq!(ms.len(), 2);
        for (m, dir) in ms.iter().zip([IPSEC_DIR_INBOUND, IPSEC_DIR_FWD]) {
            assert_eq!(m.header.msg_type, SADB_X_SPDADD);
            let p = m.policy().unwrap();
            assert_eq!((p.dir, p.policy_type), (dir, IPSEC_POLICY_IPSEC));
            // The flow reversed: traffic from 10.2.0.0/24 to 10.1.0.0/24.
            assert_eq!(m.address_src().unwrap().ip().to_string(), "10.2.0.0");
            assert_eq!(m.address_dst().unwrap().ip().to_string(), "10.1.0.0");
            let r = &p.requests[0];
            assert_eq!(
                (r.proto, r.mode, r.level, r.reqid),
                (
                    u16::from(IPPROTO_ESP),
                    IPSEC_MODE_TUNNEL,
                    IPSEC_LEVEL_USE,
                    0
                )
            );
            let (a, b) = r.tunnel.unwrap();
            assert!(a.ip().is_unspecified() && b.ip().is_unspecified());
            assert!(is_mirror(m));
            let (s, d) = mirror_selectors(&req("add", Some("tun0x1001@192.0.2.2"))).unwrap();
            assert!(same_entry(m, dir, &s, &d));
        }
        // AH keeps its protocol; --replace mirrors too.
        let ms = mirror_messages(&req("replace", Some("ah.1003@192.0.2.2"))).unwrap();
        assert_eq!(
            ms[0].policy().unwrap().requests[0].proto,
            u16::from(IPPROTO_AH)
        );
        // Shunts, inbound eroutes and deletions get none.
        for (a, s) in [
            ("add", Some("%pass")),
            ("add", Some("%trap")),
            ("add", Some("%drop")),
            ("addin", Some("esp.1002@192.0.2.1")),
            ("del", None),
        ] {
            assert!(mirror_messages(&req(a, s)).unwrap().is_empty(), "{a} {s:?}");
        }
        // What --addin and --add send are no mirrors.
        for m in messages(&req("addin", Some("esp.1002@192.0.2.1")))
            .unwrap()
            .iter()
            .chain(&messages(&req("add", Some("esp.1002@192.0.2.1"))).unwrap())
        {
            assert!(!is_mirror(m));
        }
    }
}
