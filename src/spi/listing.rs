//! `ipsec spi` without arguments on NETKEY: the SAs of an SADB_DUMP printed
//! in the line format of KLIPS's /proc/net/ipsec_spi (spec §5.4):
//!
//! ```text
//! esp0x1001@192.0.2.2 ESP_3DES_HMAC_SHA1: dir=out src=192.0.2.1 ooowin=32 alen=160 aklen=160 eklen=192 life(c,s,h)=addtime(12,0,0) natencap=none natsport=0 natdport=0
//! ```
//!
//! What Linux does not keep is left out rather than made up: `iv_bits`,
//! the replay counters (`seq`, `bit`), `idle`, and KLIPS's table
//! references `refcount`/`ref`. Linux counts packets where KLIPS counted
//! allocations, so the `packets(c,s,h)` triple carries them and `alloc(...)`
//! is never printed. `dir=in ` marks SAs whose destination is an address of
//! this host (the network namespace's).

use super::alg::{auth_bits, auth_name, enc_name};
use super::message::linux_satype;
use crate::pfkey::consts::linux::SADB_X_SATYPE_IPCOMP;
use crate::pfkey::consts::{SADB_SATYPE_AH, SADB_SATYPE_ESP, SADB_X_CALG_DEFLATE};
use crate::pfkey::wire::Lifetime;
use crate::pfkey::Message;
use crate::said::{SaProto, Said};
use core::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// This host's addresses: the `LOCAL` /32 entries of /proc/net/fib_trie and
/// the addresses of /proc/net/if_inet6.
pub fn local_addresses() -> Vec<IpAddr> {
    let mut out = Vec::new();
    if let Ok(t) = std::fs::read_to_string("/proc/net/fib_trie") {
        out.extend(parse_fib_trie(&t));
    }
    if let Ok(t) = std::fs::read_to_string("/proc/net/if_inet6") {
        out.extend(parse_if_inet6(&t));
    }
    out
}

fn parse_fib_trie(text: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(a) = t.strip_prefix("|-- ") {
            last = a.parse().ok();
        } else if t.starts_with("/32 host LOCAL") {
            if let Some(a) = last {
                let a = IpAddr::V4(a);
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        }
    }
    out
}

fn parse_if_inet6(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|h| u128::from_str_radix(h, 16).ok())
        .map(|v| IpAddr::V6(Ipv6Addr::from(v)))
        .collect()
}

fn said_proto(satype: u8) -> Option<SaProto> {
    [SaProto::Ah, SaProto::Esp, SaProto::Comp]
        .into_iter()
        .find(|p| linux_satype(*p) == Some(satype))
}

/// `name(c,s,h)` if current > 1 or a limit is set (the KLIPS rule).
fn triple(out: &mut String, name: &str, c: u64, s: u64, h: u64) {
    if c > 1 || s != 0 || h != 0 {
        let _ = write!(out, "{name}({c},{s},{h})");
    }
}

fn life(cur: &Lifetime, soft: &Lifetime, hard: &Lifetime, now: u64) -> String {
    let mut s = String::new();
    triple(&mut s, "bytes", cur.bytes, soft.bytes, hard.bytes);
    let since = |t: u64| if t == 0 { 0 } else { now.saturating_sub(t) };
    triple(
        &mut s,
        "addtime",
        since(cur.addtime),
        soft.addtime,
        hard.addtime,
    );
    triple(
        &mut s,
        "usetime",
        since(cur.usetime),
        soft.usetime,
        hard.usetime,
    );
    triple(
        &mut s,
        "packets",
        u64::from(cur.allocations),
        u64::from(soft.allocations),
        u64::from(hard.allocations),
    );
    s
}

/// One /proc/net/ipsec_spi line for one SADB_DUMP reply; `None` for a reply
/// that is not an AH, ESP or IPCOMP SA.
pub fn spi_line(m: &Message, now: u64, local: &[IpAddr]) -> Option<String> {
    let proto = said_proto(m.header.satype)?;
    let sa = m.sa()?;
    let dst = m.address_dst()?.ip();
    let src = m.address_src().map(|a| a.ip());
    let said = Said {
        proto,
        spi: sa.spi,
        dst,
    };
    let mut name = match m.header.satype {
        SADB_SATYPE_AH => "AH".to_string(),
        SADB_SATYPE_ESP => "ESP".to_string(),
        _ => "COMP".to_string(),
    };
    if m.header.satype == SADB_X_SATYPE_IPCOMP {
        if sa.encrypt == SADB_X_CALG_DEFLATE {
            name.push_str("_DEFLATE");
        } else if sa.encrypt != 0 {
            let _ = write!(name, "_ID{}", sa.encrypt);
        }
    } else {
        if sa.encrypt != 0 {
            let _ = write!(name, "_{}", enc_name(sa.encrypt));
        }
        if sa.auth != 0 {
            let _ = write!(name, "_{}", auth_name(sa.auth));
        }
    }
    let dir = if local.contains(&dst) { "in " } else { "out" };
    let mut line = format!("{said} {name}: dir={dir}");
    if let Some(s) = src {
        let _ = write!(line, " src={s}");
    }
    if m.header.satype != SADB_X_SATYPE_IPCOMP {
        if sa.replay != 0 {
            let _ = write!(line, " ooowin={}", sa.replay);
        }
        if sa.auth != 0 && auth_bits(sa.auth) != 0 {
            let _ = write!(line, " alen={}", auth_bits(sa.auth));
        }
        if let Some(k) = m.key_auth().filter(|k| k.bits != 0) {
            let _ = write!(line, " aklen={}", k.bits);
        }
        if let Some(k) = m.key_encrypt().filter(|k| k.bits != 0) {
            let _ = write!(line, " eklen={}", k.bits);
        }
    }
    let zero = Lifetime::default();
    let _ = write!(
        line,
        " life(c,s,h)={}",
        life(
            m.lifetime_current().unwrap_or(&zero),
            m.lifetime_soft().unwrap_or(&zero),
            m.lifetime_hard().unwrap_or(&zero),
            now
        )
    );
    match m.nat_t_type() {
        Some(t @ (1 | 2)) => {
            let _ = write!(
                line,
                " natencap={} natsport={} natdport={}",
                if t == 1 { "nonike" } else { "nonesp" },
                m.nat_t_sport().unwrap_or(0),
                m.nat_t_dport().unwrap_or(0)
            );
        }
        _ => line.push_str(" natencap=none natsport=0 natdport=0"),
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pfkey::wire::{Address, Key, Sa};
    use crate::pfkey::{Ext, Header};

    fn dump_reply(satype: u8, spi: u32, enc: u8, auth: u8) -> Message {
        Message::new(Header::new(10, satype, 0, 5))
            .with(Ext::Sa(Sa {
                spi,
                replay: 32,
                state: 1,
                auth,
                encrypt: enc,
                ..Sa::default()
            }))
            .with(Ext::LifetimeCurrent(Lifetime {
                allocations: 7,
                bytes: 840,
                addtime: 1000,
                usetime: 1010,
                packets: 0,
            }))
            .with(Ext::AddressSrc(Address::host("192.0.2.2".parse().unwrap())))
            .with(Ext::AddressDst(Address::host("192.0.2.1".parse().unwrap())))
            .with(Ext::KeyAuth(Key::new(&[0; 20])))
            .with(Ext::KeyEncrypt(Key::new(&[0; 24])))
    }

    #[test]
    fn esp_line() {
        let m = dump_reply(3, 0x1002, 3, 3);
        let local = ["192.0.2.1".parse().unwrap()];
        assert_eq!(
            spi_line(&m, 1100, &local).unwrap(),
            "esp0x1002@192.0.2.1 ESP_3DES_HMAC_SHA1: dir=in  src=192.0.2.2 ooowin=32 alen=160 aklen=160 eklen=192 life(c,s,h)=bytes(840,0,0)addtime(100,0,0)usetime(90,0,0)packets(7,0,0) natencap=none natsport=0 natdport=0"
        );
        let line = spi_line(&dump_reply(3, 0x1002, 12, 3), 1000, &[]).unwrap();
        assert!(
            line.starts_with("esp0x1002@192.0.2.1 ESP_AES_HMAC_SHA1: dir=out src="),
            "{line}"
        );
    }

    #[test]
    fn natt_and_ipcomp_lines() {
        let m = dump_reply(3, 0x1002, 12, 5)
            .with(Ext::NatTType(2))
            .with(Ext::NatTSport(4500))
            .with(Ext::NatTDport(4501));
        let line = spi_line(&m, 1000, &[]).unwrap();
        assert!(line.contains("ESP_AES_HMAC_SHA2_256: dir=out"), "{line}");
        assert!(line.contains(" alen=256 "), "{line}");
        assert!(
            line.ends_with(" natencap=nonesp natsport=4500 natdport=4501"),
            "{line}"
        );
        let comp = Message::new(Header::new(10, 9, 0, 5))
            .with(Ext::Sa(Sa {
                spi: 0x3d0,
                encrypt: 2,
                ..Sa::default()
            }))
            .with(Ext::AddressSrc(Address::host("192.0.2.2".parse().unwrap())))
            .with(Ext::AddressDst(Address::host("192.0.2.1".parse().unwrap())));
        assert_eq!(
            spi_line(&comp, 1000, &[]).unwrap(),
            "comp0x3d0@192.0.2.1 COMP_DEFLATE: dir=out src=192.0.2.2 life(c,s,h)= natencap=none natsport=0 natdport=0"
        );
        // Not an SA type the listing knows: no line.
        assert!(spi_line(&Message::new(Header::new(10, 7, 0, 5)), 0, &[]).is_none());
    }

    #[test]
    fn fib_trie_and_if_inet6() {
        let t = "Local:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 10.1.0.1\n        /32 host LOCAL\n     |-- 10.1.0.255\n        /32 link BROADCAST\n";
        assert_eq!(
            parse_fib_trie(t),
            vec!["10.1.0.1".parse::<IpAddr>().unwrap()]
        );
        let t = "00000000000000000000000000000001 01 80 10 80       lo\n";
        assert_eq!(parse_if_inet6(t), vec!["::1".parse::<IpAddr>().unwrap()]);
    }
}
