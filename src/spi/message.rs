//! The PF_KEY message of a checked `ipsec spi` request, for KLIPS and for
//! NETKEY (Linux `af_key`), as pure functions.
//!
//! KLIPS (spec §5.4): SADB_ADD / SADB_DELETE / SADB_FLUSH with the SA types
//! AH 2, ESP 3, IPIP 9, COMP 10; extensions in ascending type order, as
//! KLIPS's `pfkey_msg_build` lays them out; address extensions with
//! protocol 0 and prefix 0 (KLIPS requires 0); lifetimes only if `--life`
//! was given.
//!
//! NETKEY has no IP-in-IP SA: the tunnel is a mode of the ESP, AH or IPCOMP
//! SA itself, so every SA is added in tunnel mode between `--src` and the
//! SA's destination (what KLIPS's IPIP+ESP group does), and `--ip4/--ip6`
//! are refused. An SA whose SPI is at most IPSEC_MANUAL_REQID_MAX (0x3fff)
//! gets that SPI as its reqid, so an `ipsec eroute` naming the SAID can bind
//! its policy to exactly this SA (level UNIQUE).

use super::request::{Action, Kind, Request};
use crate::pfkey::consts::{linux, IPSEC_MANUAL_REQID_MAX, IPSEC_MODE_TUNNEL, IPSEC_ULPROTO_ANY};
use crate::pfkey::consts::{
    SADB_ADD, SADB_DELETE, SADB_FLUSH, SADB_SASTATE_MATURE, SADB_SATYPE_AH, SADB_SATYPE_ESP,
    SADB_SATYPE_UNSPEC,
};
use crate::pfkey::wire::{full_prefix, Address, Key, Lifetime, Sa, Sa2};
use crate::pfkey::{Dialect, Ext, Header, Message};
use crate::said::{any_addr, SaProto, Said};
use std::net::{IpAddr, SocketAddr};

/// KLIPS `IPSEC_SAREF_NULL`: asks the kernel to choose the SA reference.
pub const SAREF_NULL: u32 = 0xffff_ffff;

/// The reqid an SA of this SPI gets on NETKEY (0: none).
pub fn netkey_reqid(spi: u32) -> u32 {
    if spi <= IPSEC_MANUAL_REQID_MAX {
        spi
    } else {
        0
    }
}

/// The Linux SA type of a SAID protocol (`None`: Linux has no such SA).
pub fn linux_satype(proto: SaProto) -> Option<u8> {
    match proto {
        SaProto::Ah => Some(SADB_SATYPE_AH),
        SaProto::Esp => Some(SADB_SATYPE_ESP),
        SaProto::Comp => Some(linux::SADB_X_SATYPE_IPCOMP),
        SaProto::Tun | SaProto::Int => None,
    }
}

fn klips_addr(ip: IpAddr) -> Address {
    Address {
        proto: 0,
        prefixlen: 0,
        addr: SocketAddr::new(ip, 0),
    }
}

fn linux_addr(ip: IpAddr) -> Address {
    Address {
        proto: IPSEC_ULPROTO_ANY,
        prefixlen: full_prefix(ip),
        addr: SocketAddr::new(ip, 0),
    }
}

fn sa_ext(req: &Request, said: &Said, dialect: Dialect) -> Sa {
    let (auth, encrypt) = req.transform.map_or((0, 0), |t| {
        (t.auth.map_or(0, |a| a.alg), t.enc.map_or(0, |e| e.alg))
    });
    let adding = matches!(req.action, Action::Add(_));
    Sa {
        spi: said.spi,
        replay: req.replay_window,
        state: if adding { SADB_SASTATE_MATURE } else { 0 },
        auth,
        encrypt,
        flags: 0,
        klips_ref: (dialect == Dialect::Klips && req.saref).then_some(SAREF_NULL),
    }
}

/// The KLIPS message (header seq 1 and `pid`, as the original sends).
pub fn klips_message(req: &Request, pid: u32) -> Message {
    let mut m = Message {
        dialect: Dialect::Klips,
        header: Header::new(SADB_FLUSH, SADB_SATYPE_UNSPEC, 1, pid),
        exts: Vec::new(),
    };
    let Some(said) = req.said.filter(|_| req.action != Action::Clear) else {
        return m;
    };
    m.header.satype = said.proto.klips_satype();
    m.header.msg_type = if req.action == Action::Del {
        SADB_DELETE
    } else {
        SADB_ADD
    };
    m.exts.push(Ext::Sa(sa_ext(req, &said, Dialect::Klips)));
    if let Some(h) = req.hard {
        m.exts.push(Ext::LifetimeHard(h));
    }
    if let Some(s) = req.soft {
        m.exts.push(Ext::LifetimeSoft(s));
    }
    let src = req.src.unwrap_or_else(|| any_addr(said.family()));
    m.exts.push(Ext::AddressSrc(klips_addr(src)));
    m.exts.push(Ext::AddressDst(klips_addr(said.dst)));
    push_keys_and_natt(&mut m, req);
    m
}

fn push_keys_and_natt(m: &mut Message, req: &Request) {
    if !req.auth_key.is_empty() {
        m.exts.push(Ext::KeyAuth(Key::new(&req.auth_key)));
    }
    if !req.enc_key.is_empty() {
        m.exts.push(Ext::KeyEncrypt(Key::new(&req.enc_key)));
    }
    if let Some(n) = req.natt {
        m.exts.push(Ext::NatTType(n.encap));
        m.exts.push(Ext::NatTSport(n.sport));
        m.exts.push(Ext::NatTDport(n.dport));
    }
}

/// A lifetime for Linux, which counts packets in `allocations`.
fn linux_lifetime(l: Option<Lifetime>) -> Lifetime {
    let mut l = l.unwrap_or_default();
    if l.allocations == 0 {
        l.allocations = l.packets;
    }
    l.packets = 0;
    l
}

/// The NETKEY message; `Err` for what Linux cannot do.
pub fn netkey_message(req: &Request, pid: u32) -> Result<Message, String> {
    let mut m = Message::new(Header::new(SADB_FLUSH, SADB_SATYPE_UNSPEC, 1, pid));
    let Some(said) = req.said.filter(|_| req.action != Action::Clear) else {
        return Ok(m);
    };
    if let Action::Add(Kind::Ip4 | Kind::Ip6) = req.action {
        return Err("NETKEY has no IP-in-IP SAs: add the ESP/AH/IPCOMP SA with --src (it is a tunnel-mode SA itself)".into());
    }
    if req.saref {
        return Err("--saref is a KLIPS feature; NETKEY has no SA references".into());
    }
    let satype = linux_satype(said.proto)
        .ok_or_else(|| format!("NETKEY has no {} SAs", said.proto.name()))?;
    m.header.satype = satype;
    let src = req.src.unwrap_or_else(|| any_addr(said.family()));
    if req.action == Action::Del {
        m.header.msg_type = SADB_DELETE;
        m.exts.push(Ext::Sa(sa_ext(req, &said, Dialect::Linux)));
        m.exts.push(Ext::AddressSrc(linux_addr(src)));
        m.exts.push(Ext::AddressDst(linux_addr(said.dst)));
        return Ok(m);
    }
    m.header.msg_type = SADB_ADD;
    m.exts.push(Ext::Sa(sa_ext(req, &said, Dialect::Linux)));
    if req.soft.is_some() || req.hard.is_some() {
        m.exts.push(Ext::LifetimeHard(linux_lifetime(req.hard)));
        m.exts.push(Ext::LifetimeSoft(linux_lifetime(req.soft)));
    }
    m.exts.push(Ext::AddressSrc(linux_addr(src)));
    m.exts.push(Ext::AddressDst(linux_addr(said.dst)));
    // Linux wants KEY_AUTH for AH and KEY_ENCRYPT for ESP.
    push_keys_and_natt(&mut m, req);
    m.exts.push(Ext::Sa2(Sa2 {
        mode: IPSEC_MODE_TUNNEL,
        sequence: 0,
        reqid: netkey_reqid(said.spi),
    }));
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::super::request::Args;
    use super::*;

    fn req(args: Args) -> Request {
        Request::from_args(&args).unwrap()
    }

    fn esp() -> Args {
        Args {
            action: "esp".into(),
            alg: Some("3des-md5-96".into()),
            said: Some("esp.1001@192.0.2.2".into()),
            src: Some("192.0.2.1".into()),
            enckey: Some(format!("0x{}", "11".repeat(24))),
            authkey: Some(format!("0x{}", "22".repeat(16))),
            replay_window: Some("32".into()),
            ..Args::default()
        }
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn klips_esp_add_bytes() {
        let m = klips_message(&req(esp()), 0x1234);
        let b = m.emit();
        let mut want = String::new();
        // sadb_msg: v2, ADD, errno 0, ESP, len 17 words, seq 1, pid 0x1234
        want += "0203000311000000";
        want += &hex(&1u32.to_ne_bytes());
        want += &hex(&0x1234u32.to_ne_bytes());
        // SA: len 2, type 1, spi 0x1001 (network order), replay 32, MATURE, MD5 2, 3DES 3, flags 0
        want += &hex(&2u16.to_ne_bytes());
        want += &hex(&1u16.to_ne_bytes());
        want += "00001001";
        want += "20010203";
        want += "00000000";
        // ADDRESS_SRC: len 3, type 5, proto 0, prefix 0, sockaddr_in 192.0.2.1
        for (ty, ip) in [(5u16, "c0000201"), (6, "c0000202")] {
            want += &hex(&3u16.to_ne_bytes());
            want += &hex(&ty.to_ne_bytes());
            want += "00000000";
            want += &hex(&2u16.to_ne_bytes());
            want += "0000";
            want += ip;
            want += "0000000000000000";
        }
        // KEY_AUTH: len 3, type 8, 128 bits, key, KEY_ENCRYPT: len 4, type 9, 192 bits
        want += &hex(&3u16.to_ne_bytes());
        want += &hex(&8u16.to_ne_bytes());
        want += &hex(&128u16.to_ne_bytes());
        want += "0000";
        want += &"22".repeat(16);
        want += &hex(&4u16.to_ne_bytes());
        want += &hex(&9u16.to_ne_bytes());
        want += &hex(&192u16.to_ne_bytes());
        want += "0000";
        want += &"11".repeat(24);
        assert_eq!(hex(&b), want);
        assert_eq!(b.len(), 17 * 8);
    }

    #[test]
    fn klips_other_forms() {
        let mut a = esp();
        a.action = "del".into();
        a.alg = None;
        a.enckey = None;
        a.authkey = None;
        a.replay_window = None;
        let m = klips_message(&req(a), 7);
        assert_eq!((m.header.msg_type, m.header.satype), (SADB_DELETE, 3));
        assert_eq!(m.exts.len(), 3);
        assert_eq!(m.sa().unwrap().state, 0);
        let m = klips_message(
            &req(Args {
                action: "clear".into(),
                ..Args::default()
            }),
            7,
        );
        assert_eq!(
            (m.header.msg_type, m.header.satype, m.exts.len()),
            (SADB_FLUSH, 0, 0)
        );
        assert_eq!(m.emit().len(), 16);
        let ip4 = Args {
            action: "ip4".into(),
            said: Some("tun.1001@192.0.2.2".into()),
            src: Some("192.0.2.1".into()),
            ..Args::default()
        };
        let m = klips_message(&req(ip4), 7);
        assert_eq!(
            m.header.satype,
            crate::pfkey::consts::klips::SADB_X_SATYPE_IPIP
        );
        assert_eq!(
            m.address_src().unwrap().ip(),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
        assert!(netkey_message(
            &req(Args {
                action: "ip4".into(),
                said: Some("tun.1001@192.0.2.2".into()),
                src: Some("192.0.2.1".into()),
                ..Args::default()
            }),
            7
        )
        .is_err());
        let mut a = esp();
        a.life = Some("hard-packets=5,soft-bytes=100".into());
        let m = klips_message(&req(a.clone()), 7);
        // KLIPS lifetimes are 40 bytes (5 words) and carry packets.
        let b = m.emit();
        let hard = m.lifetime_hard().unwrap();
        assert_eq!(hard.packets, 5);
        assert_eq!(b.len(), (17 + 5 + 5) * 8);
        let n = netkey_message(&req(a), 7).unwrap();
        assert_eq!(n.lifetime_hard().unwrap().allocations, 5);
        assert_eq!(n.lifetime_soft().unwrap().bytes, 100);
    }

    #[test]
    fn klips_delete_bytes() {
        let a = Args {
            action: "del".into(),
            said: Some("ah.200@10.0.0.2".into()),
            ..Args::default()
        };
        let b = klips_message(&req(a), 0x55).emit();
        let mut want = String::new();
        // v2, DELETE 4, errno 0, AH 2, 10 words, seq 1, pid 0x55
        want += &format!(
            "02040002{}0000{}{}",
            hex(&10u16.to_ne_bytes()),
            hex(&1u32.to_ne_bytes()),
            hex(&0x55u32.to_ne_bytes())
        );
        // SA: spi 0x200, everything else 0
        want += &format!(
            "{}{}00000200{}{}",
            hex(&2u16.to_ne_bytes()),
            hex(&1u16.to_ne_bytes()),
            "00000000",
            "00000000"
        );
        // ADDRESS_SRC any (no --src), ADDRESS_DST 10.0.0.2
        for (ty, ip) in [(5u16, "00000000"), (6, "0a000002")] {
            want += &format!(
                "{}{}00000000{}0000{ip}0000000000000000",
                hex(&3u16.to_ne_bytes()),
                hex(&ty.to_ne_bytes()),
                hex(&2u16.to_ne_bytes())
            );
        }
        assert_eq!(hex(&b), want);
    }

    #[test]
    fn netkey_add_is_tunnel_mode_with_reqid() {
        let m = netkey_message(&req(esp()), 9).unwrap();
        assert_eq!(
            (m.header.msg_type, m.header.satype),
            (SADB_ADD, SADB_SATYPE_ESP)
        );
        let sa2 = m.sa2().unwrap();
        assert_eq!((sa2.mode, sa2.reqid), (IPSEC_MODE_TUNNEL, 0x1001));
        assert_eq!(m.key_encrypt().unwrap().bits, 192);
        assert!(m.lifetime_hard().is_none());
        // Round trip through the codec.
        assert_eq!(Message::parse(&m.emit()).unwrap(), m);
        let mut a = esp();
        a.said = Some("esp.12345678@192.0.2.2".into());
        assert_eq!(netkey_message(&req(a), 9).unwrap().sa2().unwrap().reqid, 0);
    }
}
