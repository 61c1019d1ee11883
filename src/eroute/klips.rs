//! The KLIPS message of an `ipsec eroute` request (spec §5.3), byte for
//! byte what Openswan's tool sends, with the flags it meant to send:
//!
//! * add/replace/addin → SADB_X_ADDFLOW, satype of the SAID's protocol;
//!   SA (SPI, flags), ADDRESS_SRC = the any-address of the SAID's family,
//!   ADDRESS_DST = the SAID's address, the flows (network address and
//!   port), the masks (netmask, port 0xFFFF when a port is given), and
//!   X_PROTOCOL with a transport protocol. `--replace` sets REPLACEFLOW and
//!   `--addin` INFLOW (2.4.9 sent 0 for both).
//! * del → SADB_X_DELFLOW with the flows, masks and protocol only.
//! * clear → SADB_X_DELFLOW with an SA extension (SPI 0) carrying CLEARFLOW.
//!
//! Extensions go in ascending type order, as KLIPS's `pfkey_msg_build`
//! writes them; address extensions have protocol and prefix 0.

use super::request::{Action, Flow, Request};
use crate::pfkey::consts::klips::{
    SADB_X_ADDFLOW, SADB_X_DELFLOW, SADB_X_SAFLAGS_CLEARFLOW, SADB_X_SAFLAGS_INFLOW,
    SADB_X_SAFLAGS_REPLACEFLOW,
};
use crate::pfkey::consts::SADB_SATYPE_UNSPEC;
use crate::pfkey::wire::{Address, Protocol, Sa};
use crate::pfkey::{Dialect, Ext, Header, Message};
use crate::said::any_addr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

fn addr(ip: IpAddr, port: u16) -> Address {
    Address {
        proto: 0,
        prefixlen: 0,
        addr: SocketAddr::new(ip, port),
    }
}

/// The netmask of `prefix` bits in the family of `like`.
fn netmask(like: IpAddr, prefix: u8) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(
            u32::MAX
                .checked_shl(32u32.saturating_sub(u32::from(prefix)))
                .unwrap_or(0),
        )),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(
            u128::MAX
                .checked_shl(128u32.saturating_sub(u32::from(prefix)))
                .unwrap_or(0),
        )),
    }
}

fn push_flows(m: &mut Message, src: &Flow, dst: &Flow, proto: u8) {
    let mask_port = |f: &Flow| if f.port != 0 { 0xffff } else { 0 };
    m.exts
        .push(Ext::AddressSrcFlow(addr(src.net.addr, src.port)));
    m.exts
        .push(Ext::AddressDstFlow(addr(dst.net.addr, dst.port)));
    m.exts.push(Ext::AddressSrcMask(addr(
        netmask(src.net.addr, src.net.prefix),
        mask_port(src),
    )));
    m.exts.push(Ext::AddressDstMask(addr(
        netmask(dst.net.addr, dst.net.prefix),
        mask_port(dst),
    )));
    if proto != 0 {
        m.exts.push(Ext::Protocol(Protocol {
            proto,
            direction: 0,
            flags: 0,
        }));
    }
}

/// The KLIPS message for `req` (seq 1 and `pid`, as the original).
pub fn message(req: &Request, pid: u32) -> Message {
    let satype = req
        .said
        .map_or(SADB_SATYPE_UNSPEC, |s| s.proto.klips_satype());
    let msg_type = if req.action.installs() {
        SADB_X_ADDFLOW
    } else {
        SADB_X_DELFLOW
    };
    let mut m = Message {
        dialect: Dialect::Klips,
        header: Header::new(msg_type, satype, 1, pid),
        exts: Vec::new(),
    };
    if req.action == Action::Clear {
        m.exts.push(Ext::Sa(Sa {
            flags: SADB_X_SAFLAGS_CLEARFLOW,
            ..Sa::default()
        }));
        return m;
    }
    if let Some(said) = req.said {
        let mut flags = 0;
        if req.action.replaces() {
            flags |= SADB_X_SAFLAGS_REPLACEFLOW;
        }
        if req.action.inbound() {
            flags |= SADB_X_SAFLAGS_INFLOW;
        }
        m.exts.push(Ext::Sa(Sa {
            spi: said.spi,
            flags,
            ..Sa::default()
        }));
        m.exts
            .push(Ext::AddressSrc(addr(any_addr(said.family()), 0)));
        m.exts.push(Ext::AddressDst(addr(said.dst, 0)));
    }
    if let Some((src, dst)) = req.flows {
        push_flows(&mut m, &src, &dst, req.proto);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::super::request::Args;
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn ne16(v: u16) -> String {
        hex(&v.to_ne_bytes())
    }

    fn ne32(v: u32) -> String {
        hex(&v.to_ne_bytes())
    }

    /// An address extension of KLIPS: len 3, type, proto 0, prefix 0, sockaddr_in.
    fn addr_ext(ty: u16, ip: &str, port: &str) -> String {
        format!(
            "{}{}00000000{}{port}{ip}0000000000000000",
            ne16(3),
            ne16(ty),
            ne16(2)
        )
    }

    fn req(action: &str, said: Option<&str>) -> Request {
        Request::from_args(&Args {
            action: action.into(),
            eraf: Some("inet".into()),
            src: Some("10.1.0.0/24".into()),
            dst: Some("10.2.0.0/16".into()),
            transport_proto: Some("tcp".into()),
            dst_port: Some("25".into()),
            said: said.map(str::to_string),
            ..Args::default()
        })
        .unwrap()
    }

    #[test]
    fn replace_is_addflow_with_replaceflow() {
        let m = message(&req("replace", Some("tun0x1001@192.0.2.2")), 0x4321);
        let mut want = String::new();
        // v2, X_ADDFLOW 14, errno 0, satype IPIP 9, 23 words, seq 1, pid
        want += &format!("020e0009{}0000{}{}", ne16(23), ne32(1), ne32(0x4321));
        // SA: len 2, type 1, spi, replay/state/auth/enc 0, flags REPLACEFLOW 2
        want += &format!("{}{}00001001{}{}", ne16(2), ne16(1), "00000000", ne32(2));
        want += &addr_ext(5, "00000000", "0000");
        want += &addr_ext(6, "c0000202", "0000");
        want += &addr_ext(21, "0a010000", "0000");
        want += &addr_ext(22, "0a020000", "0019");
        want += &addr_ext(23, "ffffff00", "0000");
        want += &addr_ext(24, "ffff0000", "ffff");
        // X_PROTOCOL: len 1, type 26, tcp, direction 0, flags 0
        want += &format!("{}{}06000000", ne16(1), ne16(26));
        assert_eq!(hex(&m.emit()), want);
        // The codec reads it back as the same message.
        assert_eq!(
            Message::parse_dialect(&m.emit(), Dialect::Klips).unwrap(),
            m
        );
    }

    #[test]
    fn flags_per_action() {
        let flags = |a: &str| {
            message(&req(a, Some("esp.1001@192.0.2.2")), 1)
                .sa()
                .unwrap()
                .flags
        };
        assert_eq!(flags("add"), 0);
        assert_eq!(flags("replace"), SADB_X_SAFLAGS_REPLACEFLOW);
        assert_eq!(flags("addin"), SADB_X_SAFLAGS_INFLOW);
        assert_eq!(
            flags("replacein"),
            SADB_X_SAFLAGS_REPLACEFLOW | SADB_X_SAFLAGS_INFLOW
        );
        let m = message(&req("add", Some("%pass")), 1);
        assert_eq!(m.header.satype, 11);
        assert_eq!(m.sa().unwrap().spi, 256);
    }

    #[test]
    fn del_and_clear() {
        let m = message(&req("del", None), 1);
        assert_eq!((m.header.msg_type, m.header.satype), (SADB_X_DELFLOW, 0));
        assert!(m.sa().is_none() && m.address_dst().is_none());
        assert_eq!(m.exts.len(), 5);
        let clear = Request::from_args(&Args {
            action: "clear".into(),
            ..Args::default()
        })
        .unwrap();
        let m = message(&clear, 0x10);
        let want = format!(
            "020f0000{}0000{}{}{}{}00000000{}{}",
            ne16(4),
            ne32(1),
            ne32(0x10),
            ne16(2),
            ne16(1),
            "00000000",
            ne32(4)
        );
        assert_eq!(hex(&m.emit()), want);
    }
}
