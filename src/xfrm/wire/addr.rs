//! The small structs every XFRM message embeds: `xfrm_address_t`,
//! `xfrm_selector`, `xfrm_id`, lifetimes and statistics.
use super::bytes::{Put, Reader};
use super::consts::{AF_INET, AF_INET6};
use super::Result;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// "No limit" for byte and packet lifetimes (`XFRM_INF`).
pub const XFRM_INF: u64 = u64::MAX;

/// `xfrm_address_t`: 16 bytes in network order; an IPv4 address uses the
/// first 4. Which family it holds is said by the enclosing struct, so the
/// bytes are kept as they are and read with [`Addr::ip`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Addr(pub [u8; 16]);

impl Addr {
    pub const ZERO: Addr = Addr([0; 16]);

    /// The address for `family` (AF_INET / AF_INET6), `None` for others.
    pub fn ip(&self, family: u16) -> Option<IpAddr> {
        match family {
            AF_INET => {
                let [a, b, c, d, ..] = self.0;
                Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
            }
            AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(self.0))),
            _ => None,
        }
    }

    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<Addr> {
        r.array::<16>().map(Addr)
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl From<IpAddr> for Addr {
    fn from(ip: IpAddr) -> Addr {
        let mut b = [0u8; 16];
        match ip {
            IpAddr::V4(a) => {
                for (d, s) in b.iter_mut().zip(a.octets()) {
                    *d = s;
                }
            }
            IpAddr::V6(a) => b = a.octets(),
        }
        Addr(b)
    }
}

/// The address family number of an address.
pub fn family_of(ip: IpAddr) -> u16 {
    match ip {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

/// The longest prefix of an address's family.
pub fn full_prefix(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// `ip` with the bits after `prefixlen` cleared.
pub fn mask(ip: IpAddr, prefixlen: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let m = u32::MAX
                .checked_shl(32 - u32::from(prefixlen.min(32)))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(prefixlen.min(128)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

/// `struct xfrm_selector` (56 bytes): which packets an SA or policy covers.
///
/// ```text
///  0 daddr  16 saddr  32 dport(be16) 34 dport_mask(be16) 36 sport(be16)
/// 38 sport_mask(be16) 40 family(u16) 42 prefixlen_d 43 prefixlen_s
/// 44 proto  45 pad[3]  48 ifindex(i32)  52 user(u32)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Selector {
    pub daddr: Addr,
    pub saddr: Addr,
    pub dport: u16,
    pub dport_mask: u16,
    pub sport: u16,
    pub sport_mask: u16,
    pub family: u16,
    pub prefixlen_d: u8,
    pub prefixlen_s: u8,
    /// Upper-layer protocol, 0 = any.
    pub proto: u8,
    pub ifindex: i32,
    pub user: u32,
}

impl Selector {
    /// Traffic from `src/src_prefix` to `dst/dst_prefix`, any protocol and
    /// port; host bits are cleared (the kernel compares masked addresses
    /// but lists what it was given). The family is `src`'s.
    pub fn new(src: IpAddr, src_prefix: u8, dst: IpAddr, dst_prefix: u8) -> Selector {
        let sp = src_prefix.min(full_prefix(src));
        let dp = dst_prefix.min(full_prefix(dst));
        Selector {
            daddr: mask(dst, dp).into(),
            saddr: mask(src, sp).into(),
            family: family_of(src),
            prefixlen_d: dp,
            prefixlen_s: sp,
            ..Selector::default()
        }
    }

    /// All traffic between two hosts.
    pub fn hosts(src: IpAddr, dst: IpAddr) -> Selector {
        Selector::new(src, full_prefix(src), dst, full_prefix(dst))
    }

    /// Only upper-layer protocol `proto` (0 = any).
    pub fn with_proto(mut self, proto: u8) -> Selector {
        self.proto = proto;
        self
    }

    /// Only these ports (0 = any), which also sets the port masks.
    pub fn with_ports(mut self, sport: u16, dport: u16) -> Selector {
        self.sport = sport;
        self.sport_mask = if sport == 0 { 0 } else { u16::MAX };
        self.dport = dport;
        self.dport_mask = if dport == 0 { 0 } else { u16::MAX };
        self
    }

    pub fn src_ip(&self) -> Option<IpAddr> {
        self.saddr.ip(self.family)
    }

    pub fn dst_ip(&self) -> Option<IpAddr> {
        self.daddr.ip(self.family)
    }

    /// The same traffic seen from the other end (addresses and ports swapped).
    pub fn reversed(&self) -> Selector {
        Selector {
            daddr: self.saddr,
            saddr: self.daddr,
            dport: self.sport,
            dport_mask: self.sport_mask,
            sport: self.dport,
            sport_mask: self.dport_mask,
            prefixlen_d: self.prefixlen_s,
            prefixlen_s: self.prefixlen_d,
            ..*self
        }
    }

    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<Selector> {
        let daddr = Addr::parse(r)?;
        let saddr = Addr::parse(r)?;
        let dport = r.u16_be()?;
        let dport_mask = r.u16_be()?;
        let sport = r.u16_be()?;
        let sport_mask = r.u16_be()?;
        let family = r.u16()?;
        let prefixlen_d = r.u8()?;
        let prefixlen_s = r.u8()?;
        let proto = r.u8()?;
        r.skip(3)?;
        Ok(Selector {
            daddr,
            saddr,
            dport,
            dport_mask,
            sport,
            sport_mask,
            family,
            prefixlen_d,
            prefixlen_s,
            proto,
            ifindex: r.i32()?,
            user: r.u32()?,
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        self.daddr.emit(out);
        self.saddr.emit(out);
        out.put_u16_be(self.dport);
        out.put_u16_be(self.dport_mask);
        out.put_u16_be(self.sport);
        out.put_u16_be(self.sport_mask);
        out.put_u16(self.family);
        out.put_u8(self.prefixlen_d);
        out.put_u8(self.prefixlen_s);
        out.put_u8(self.proto);
        out.put_zeros(3);
        out.put_i32(self.ifindex);
        out.put_u32(self.user);
    }
}

/// `struct xfrm_id` (24 bytes): destination, SPI (network order) and
/// protocol, the triple naming an SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Id {
    pub daddr: Addr,
    pub spi: u32,
    pub proto: u8,
}

impl Id {
    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<Id> {
        let daddr = Addr::parse(r)?;
        let spi = r.u32_be()?;
        let proto = r.u8()?;
        r.skip(3)?;
        Ok(Id { daddr, spi, proto })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        self.daddr.emit(out);
        out.put_u32_be(self.spi);
        out.put_u8(self.proto);
        out.put_zeros(3);
    }
}

/// `struct xfrm_lifetime_cfg` (64 bytes): limits; [`XFRM_INF`] bytes or
/// packets and 0 seconds mean none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LifetimeCfg {
    pub soft_byte_limit: u64,
    pub hard_byte_limit: u64,
    pub soft_packet_limit: u64,
    pub hard_packet_limit: u64,
    pub soft_add_expires_seconds: u64,
    pub hard_add_expires_seconds: u64,
    pub soft_use_expires_seconds: u64,
    pub hard_use_expires_seconds: u64,
}

impl LifetimeCfg {
    /// No limit at all (what iproute2 sends when none is given).
    pub fn infinite() -> LifetimeCfg {
        LifetimeCfg {
            soft_byte_limit: XFRM_INF,
            hard_byte_limit: XFRM_INF,
            soft_packet_limit: XFRM_INF,
            hard_packet_limit: XFRM_INF,
            ..LifetimeCfg::default()
        }
    }

    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<LifetimeCfg> {
        Ok(LifetimeCfg {
            soft_byte_limit: r.u64()?,
            hard_byte_limit: r.u64()?,
            soft_packet_limit: r.u64()?,
            hard_packet_limit: r.u64()?,
            soft_add_expires_seconds: r.u64()?,
            hard_add_expires_seconds: r.u64()?,
            soft_use_expires_seconds: r.u64()?,
            hard_use_expires_seconds: r.u64()?,
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        for v in [
            self.soft_byte_limit,
            self.hard_byte_limit,
            self.soft_packet_limit,
            self.hard_packet_limit,
            self.soft_add_expires_seconds,
            self.hard_add_expires_seconds,
            self.soft_use_expires_seconds,
            self.hard_use_expires_seconds,
        ] {
            out.put_u64(v);
        }
    }
}

/// `struct xfrm_lifetime_cur` (32 bytes): what was used, and when (seconds
/// since the epoch; `use_time` 0 = never used).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LifetimeCur {
    pub bytes: u64,
    pub packets: u64,
    pub add_time: u64,
    pub use_time: u64,
}

impl LifetimeCur {
    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<LifetimeCur> {
        Ok(LifetimeCur {
            bytes: r.u64()?,
            packets: r.u64()?,
            add_time: r.u64()?,
            use_time: r.u64()?,
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        for v in [self.bytes, self.packets, self.add_time, self.use_time] {
            out.put_u64(v);
        }
    }
}

/// `struct xfrm_stats` (12 bytes): replay-window drops, replays, integrity
/// failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Stats {
    pub replay_window: u32,
    pub replay: u32,
    pub integrity_failed: u32,
}

impl Stats {
    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<Stats> {
        Ok(Stats {
            replay_window: r.u32()?,
            replay: r.u32()?,
            integrity_failed: r.u32()?,
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        out.put_u32(self.replay_window);
        out.put_u32(self.replay);
        out.put_u32(self.integrity_failed);
    }
}
