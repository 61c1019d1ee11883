//! `ipsec eroute` without arguments on NETKEY: the outbound SPD entries in
//! the line format of KLIPS's /proc/net/ipsec_eroute (spec §5.3):
//!
//! ```text
//! printf("%-10d %-18s -> %-18s => %s%s\n", packets, src, dst, said, proto)
//! 12         10.1.0.0/24        -> 10.2.0.0/24        => esp0x1001@192.0.2.2
//! ```
//!
//! src/dst are `addr/bits` with `:port` only if the port is not 0, proto is
//! `:<n>` only with a transport protocol. The SAID is read back from the
//! entry: NONE → `%pass`, DISCARD → `%drop`, an IPsec request → the SA it
//! leads to (found in the SADB_DUMP by protocol, destination, mode and,
//! when the entry has one, reqid), or `%trap` when there is none yet (the
//! kernel will ACQUIRE: what a KLIPS %trap does). Linux keeps no per-policy
//! packet count, so the count is that of the SA the entry leads to (0 for
//! shunts). Inbound and forward entries (`--addin`) have no line, as KLIPS's
//! inbound checks had none in this file.

use crate::pfkey::consts::{
    linux_satype_of_proto, IPSEC_DIR_OUTBOUND, IPSEC_MODE_TUNNEL, IPSEC_POLICY_DISCARD,
    IPSEC_POLICY_IPSEC, IPSEC_POLICY_NONE, IPSEC_ULPROTO_ANY,
};
use crate::pfkey::wire::Address;
use crate::pfkey::Message;
use crate::said::{SaProto, Said};
use crate::spi::message::linux_satype;
use std::net::IpAddr;

fn flow_text(a: &Address) -> String {
    let mut s = format!("{}/{}", a.ip(), a.prefixlen);
    if a.port() != 0 {
        s.push_str(&format!(":{}", a.port()));
    }
    s
}

fn sa_proto(ipproto: u16) -> Option<SaProto> {
    let satype = linux_satype_of_proto(u8::try_from(ipproto).ok()?)?;
    [SaProto::Ah, SaProto::Esp, SaProto::Comp]
        .into_iter()
        .find(|p| linux_satype(*p) == Some(satype))
}

/// The SAID an IPsec entry leads to and its SA's packet count.
fn ipsec_said(
    policy_dst: IpAddr,
    p: &crate::pfkey::wire::Policy,
    sas: &[Message],
) -> (String, u64) {
    let Some(r) = p.requests.first() else {
        return ("%trap".into(), 0);
    };
    if r.tunnel.is_none() && r.reqid == 0 {
        return ("%trap".into(), 0);
    }
    let Some(proto) = sa_proto(r.proto) else {
        return ("%trap".into(), 0);
    };
    let dst = r.tunnel.map_or(policy_dst, |(_, d)| d.ip());
    let found = sas.iter().find(|m| {
        linux_satype(proto) == Some(m.header.satype)
            && m.address_dst().map(Address::ip) == Some(dst)
            && m.sa2().map_or(true, |s2| {
                (r.reqid == 0 || s2.reqid == r.reqid)
                    && (s2.mode == IPSEC_MODE_TUNNEL) == (r.mode == IPSEC_MODE_TUNNEL)
            })
    });
    match found.and_then(|m| m.sa().map(|sa| (sa.spi, m))) {
        Some((spi, m)) => (
            Said { proto, spi, dst }.to_string(),
            m.lifetime_current().map_or(0, |l| u64::from(l.allocations)),
        ),
        None => ("%trap".into(), 0),
    }
}

/// The line of one SADB_X_SPDDUMP reply, `None` unless it is an outbound
/// entry; `sas` are the SADB_DUMP replies.
pub fn eroute_line(m: &Message, sas: &[Message]) -> Option<String> {
    let p = m.policy()?;
    if p.dir != IPSEC_DIR_OUTBOUND {
        return None;
    }
    let (src, dst) = (m.address_src()?, m.address_dst()?);
    let (said, count) = match p.policy_type {
        IPSEC_POLICY_NONE => ("%pass".to_string(), 0),
        IPSEC_POLICY_DISCARD => ("%drop".to_string(), 0),
        IPSEC_POLICY_IPSEC => ipsec_said(dst.ip(), p, sas),
        _ => return None,
    };
    let proto = match src.proto {
        0 | IPSEC_ULPROTO_ANY => String::new(),
        n => format!(":{n}"),
    };
    Some(format!(
        "{:<10} {:<18} -> {:<18} => {}{}",
        count,
        flow_text(src),
        flow_text(dst),
        said,
        proto
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eroute::netkey::messages;
    use crate::eroute::request::{Args, Request};
    use crate::pfkey::consts::{SADB_DUMP, SADB_SATYPE_ESP};
    use crate::pfkey::wire::{Lifetime, Sa, Sa2};
    use crate::pfkey::{Ext, Header};

    fn policy_msg(said: &str, extra: impl Fn(&mut Args)) -> Message {
        let mut a = Args {
            action: "add".into(),
            src: Some("10.1.0.0/24".into()),
            dst: Some("10.2.0.0/24".into()),
            said: Some(said.into()),
            ..Args::default()
        };
        extra(&mut a);
        messages(&Request::from_args(&a).unwrap())
            .unwrap()
            .remove(0)
    }

    fn sa(spi: u32, reqid: u32, packets: u32) -> Message {
        Message::new(Header::new(SADB_DUMP, SADB_SATYPE_ESP, 0, 1))
            .with(Ext::Sa(Sa {
                spi,
                ..Sa::default()
            }))
            .with(Ext::LifetimeCurrent(Lifetime {
                allocations: packets,
                ..Lifetime::default()
            }))
            .with(Ext::AddressSrc(Address::host("192.0.2.1".parse().unwrap())))
            .with(Ext::AddressDst(Address::host("192.0.2.2".parse().unwrap())))
            .with(Ext::Sa2(Sa2 {
                mode: IPSEC_MODE_TUNNEL,
                sequence: 0,
                reqid,
            }))
    }

    #[test]
    fn lines() {
        let sas = [sa(0x1003, 0x1003, 1), sa(0x1001, 0x1001, 12)];
        let m = policy_msg("esp.1001@192.0.2.2", |_| {});
        assert_eq!(
            eroute_line(&m, &sas).unwrap(),
            "12         10.1.0.0/24        -> 10.2.0.0/24        => esp0x1001@192.0.2.2"
        );
        assert_eq!(
            eroute_line(&m, &[]).unwrap(),
            "0          10.1.0.0/24        -> 10.2.0.0/24        => %trap"
        );
        let m = policy_msg("%pass", |_| {});
        assert!(eroute_line(&m, &sas).unwrap().ends_with("=> %pass"));
        let m = policy_msg("%drop", |a| {
            a.transport_proto = Some("tcp".into());
            a.dst_port = Some("25".into());
        });
        assert_eq!(
            eroute_line(&m, &sas).unwrap(),
            "0          10.1.0.0/24        -> 10.2.0.0/24:25     => %drop:6"
        );
        let mut a = Args {
            action: "addin".into(),
            src: Some("10.2.0.0/24".into()),
            dst: Some("10.1.0.0/24".into()),
            said: Some("esp.1002@192.0.2.1".into()),
            ..Args::default()
        };
        let m = messages(&Request::from_args(&a).unwrap())
            .unwrap()
            .remove(0);
        assert!(eroute_line(&m, &sas).is_none());
        a.action = "add".into();
        let m = messages(&Request::from_args(&a).unwrap())
            .unwrap()
            .remove(0);
        assert!(eroute_line(&m, &sas).is_some());
    }
}
