//! The SA structs: `xfrm_usersa_info` (NEWSA / UPDSA, dumps, the ALLOCSPI
//! reply), `xfrm_usersa_id` (DELSA / GETSA), `xfrm_userspi_info`
//! (ALLOCSPI), `xfrm_user_expire` (EXPIRE), `xfrm_usersa_flush` and
//! `xfrm_user_mapping` (MAPPING).
use super::addr::{Addr, Id, LifetimeCfg, LifetimeCur, Selector, Stats};
use super::bytes::{exact, Put, Reader};
use super::consts::*;
use super::Result;
use std::net::IpAddr;

/// `struct xfrm_usersa_info` (224 bytes).
///
/// ```text
///   0 sel (56)   56 id (24)   80 saddr (16)   96 lft (64)   160 curlft (32)
/// 192 stats (12) 204 seq  208 reqid  212 family(u16)  214 mode  215 replay_window
/// 216 flags  217 pad[7]
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UsersaInfo {
    pub sel: Selector,
    pub id: Id,
    pub saddr: Addr,
    pub lft: LifetimeCfg,
    pub curlft: LifetimeCur,
    pub stats: Stats,
    pub seq: u32,
    pub reqid: u32,
    pub family: u16,
    pub mode: u8,
    pub replay_window: u8,
    pub flags: u8,
}

impl UsersaInfo {
    /// The SA's source address.
    pub fn src(&self) -> Option<IpAddr> {
        self.saddr.ip(self.family)
    }

    /// The SA's destination address.
    pub fn dst(&self) -> Option<IpAddr> {
        self.id.daddr.ip(self.family)
    }

    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<UsersaInfo> {
        let sel = Selector::parse(r)?;
        let id = Id::parse(r)?;
        let saddr = Addr::parse(r)?;
        let lft = LifetimeCfg::parse(r)?;
        let curlft = LifetimeCur::parse(r)?;
        let stats = Stats::parse(r)?;
        let info = UsersaInfo {
            sel,
            id,
            saddr,
            lft,
            curlft,
            stats,
            seq: r.u32()?,
            reqid: r.u32()?,
            family: r.u16()?,
            mode: r.u8()?,
            replay_window: r.u8()?,
            flags: r.u8()?,
        };
        r.skip(7)?;
        Ok(info)
    }

    pub(crate) fn parse_exact(body: &[u8]) -> Result<UsersaInfo> {
        exact(
            body,
            XFRM_USERSA_INFO_LEN,
            "xfrm_usersa_info",
            UsersaInfo::parse,
        )
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        self.sel.emit(out);
        self.id.emit(out);
        self.saddr.emit(out);
        self.lft.emit(out);
        self.curlft.emit(out);
        self.stats.emit(out);
        out.put_u32(self.seq);
        out.put_u32(self.reqid);
        out.put_u16(self.family);
        out.put_u8(self.mode);
        out.put_u8(self.replay_window);
        out.put_u8(self.flags);
        out.put_zeros(7);
    }
}

/// `struct xfrm_usersa_id` (24 bytes): `0 daddr, 16 spi(be32), 20 family,
/// 22 proto, 23 pad`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UsersaId {
    pub daddr: Addr,
    pub spi: u32,
    pub family: u16,
    pub proto: u8,
}

impl UsersaId {
    pub fn dst(&self) -> Option<IpAddr> {
        self.daddr.ip(self.family)
    }

    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<UsersaId> {
        let id = UsersaId {
            daddr: Addr::parse(r)?,
            spi: r.u32_be()?,
            family: r.u16()?,
            proto: r.u8()?,
        };
        r.skip(1)?;
        Ok(id)
    }

    pub(crate) fn parse_exact(body: &[u8]) -> Result<UsersaId> {
        exact(body, XFRM_USERSA_ID_LEN, "xfrm_usersa_id", UsersaId::parse)
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        self.daddr.emit(out);
        out.put_u32_be(self.spi);
        out.put_u16(self.family);
        out.put_u8(self.proto);
        out.put_zeros(1);
    }
}

/// `struct xfrm_userspi_info` (232 bytes): the larval SA and the SPI range
/// (host order) to pick from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UserspiInfo {
    pub info: UsersaInfo,
    pub min: u32,
    pub max: u32,
}

impl UserspiInfo {
    pub(crate) fn parse_exact(body: &[u8]) -> Result<UserspiInfo> {
        exact(body, XFRM_USERSPI_INFO_LEN, "xfrm_userspi_info", |r| {
            Ok(UserspiInfo {
                info: UsersaInfo::parse(r)?,
                min: r.u32()?,
                max: r.u32()?,
            })
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        self.info.emit(out);
        out.put_u32(self.min);
        out.put_u32(self.max);
    }
}

/// `struct xfrm_user_expire` (232 bytes): the SA and whether its hard
/// (1) or soft (0) limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UserExpire {
    pub state: UsersaInfo,
    pub hard: u8,
}

impl UserExpire {
    pub(crate) fn parse_exact(body: &[u8]) -> Result<UserExpire> {
        exact(body, XFRM_USER_EXPIRE_LEN, "xfrm_user_expire", |r| {
            let state = UsersaInfo::parse(r)?;
            let hard = r.u8()?;
            r.skip(7)?;
            Ok(UserExpire { state, hard })
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        self.state.emit(out);
        out.put_u8(self.hard);
        out.put_zeros(7);
    }
}

/// `struct xfrm_usersa_flush` (1 byte): the protocol to flush
/// ([`IPSEC_PROTO_ANY`] or 0: all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UsersaFlush {
    pub proto: u8,
}

impl UsersaFlush {
    pub(crate) fn parse_exact(body: &[u8]) -> Result<UsersaFlush> {
        exact(body, XFRM_USERSA_FLUSH_LEN, "xfrm_usersa_flush", |r| {
            Ok(UsersaFlush { proto: r.u8()? })
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        out.put_u8(self.proto);
    }
}

/// `struct xfrm_user_mapping` (64 bytes): the kernel saw ESP in UDP for
/// the SA `id` arrive from `new_saddr:new_sport` instead of the SA's
/// `old_saddr:old_sport` (a peer behind a NAT whose mapping changed).
///
/// ```text
///  0 id (xfrm_usersa_id, 24)  24 reqid  28 old_saddr (16)  44 new_saddr (16)
/// 60 old_sport (be16)  62 new_sport (be16)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UserMapping {
    pub id: UsersaId,
    pub reqid: u32,
    pub old_saddr: Addr,
    pub new_saddr: Addr,
    pub old_sport: u16,
    pub new_sport: u16,
}

impl UserMapping {
    /// The peer's address and port the SA had.
    pub fn old_peer(&self) -> Option<std::net::SocketAddr> {
        let ip = self.old_saddr.ip(self.id.family)?;
        Some(std::net::SocketAddr::new(ip, self.old_sport))
    }

    /// Where the SA's packets come from now.
    pub fn new_peer(&self) -> Option<std::net::SocketAddr> {
        let ip = self.new_saddr.ip(self.id.family)?;
        Some(std::net::SocketAddr::new(ip, self.new_sport))
    }

    pub(crate) fn parse_exact(body: &[u8]) -> Result<UserMapping> {
        exact(body, XFRM_USER_MAPPING_LEN, "xfrm_user_mapping", |r| {
            Ok(UserMapping {
                id: UsersaId::parse(r)?,
                reqid: r.u32()?,
                old_saddr: Addr::parse(r)?,
                new_saddr: Addr::parse(r)?,
                old_sport: r.u16_be()?,
                new_sport: r.u16_be()?,
            })
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        self.id.emit(out);
        out.put_u32(self.reqid);
        self.old_saddr.emit(out);
        self.new_saddr.emit(out);
        out.put_u16_be(self.old_sport);
        out.put_u16_be(self.new_sport);
    }
}
