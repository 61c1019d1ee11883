//! The policy structs: `xfrm_userpolicy_info` (NEWPOLICY / UPDPOLICY,
//! dumps), `xfrm_userpolicy_id` (DELPOLICY / GETPOLICY), `xfrm_user_tmpl`
//! (XFRMA_TMPL), `xfrm_user_acquire` (ACQUIRE) and `xfrm_user_polexpire`.
use super::addr::{Addr, Id, LifetimeCfg, LifetimeCur, Selector};
use super::bytes::{exact, Put, Reader};
use super::consts::*;
use super::Result;
use std::net::IpAddr;

/// `struct xfrm_userpolicy_info` (168 bytes).
///
/// ```text
///   0 sel (56)  56 lft (64)  120 curlft (32)  152 priority  156 index
/// 160 dir  161 action  162 flags  163 share  164 pad[4]
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UserpolicyInfo {
    pub sel: Selector,
    pub lft: LifetimeCfg,
    pub curlft: LifetimeCur,
    /// Lower wins.
    pub priority: u32,
    /// The kernel's id of the policy (its low 3 bits are the direction).
    pub index: u32,
    pub dir: u8,
    pub action: u8,
    pub flags: u8,
    pub share: u8,
}

impl UserpolicyInfo {
    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<UserpolicyInfo> {
        let sel = Selector::parse(r)?;
        let lft = LifetimeCfg::parse(r)?;
        let curlft = LifetimeCur::parse(r)?;
        let p = UserpolicyInfo {
            sel,
            lft,
            curlft,
            priority: r.u32()?,
            index: r.u32()?,
            dir: r.u8()?,
            action: r.u8()?,
            flags: r.u8()?,
            share: r.u8()?,
        };
        r.skip(4)?;
        Ok(p)
    }

    pub(crate) fn parse_exact(body: &[u8]) -> Result<UserpolicyInfo> {
        exact(
            body,
            XFRM_USERPOLICY_INFO_LEN,
            "xfrm_userpolicy_info",
            UserpolicyInfo::parse,
        )
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        self.sel.emit(out);
        self.lft.emit(out);
        self.curlft.emit(out);
        out.put_u32(self.priority);
        out.put_u32(self.index);
        out.put_u8(self.dir);
        out.put_u8(self.action);
        out.put_u8(self.flags);
        out.put_u8(self.share);
        out.put_zeros(4);
    }
}

/// `struct xfrm_userpolicy_id` (64 bytes): `0 sel, 56 index, 60 dir, 61
/// pad[3]`. The kernel looks the policy up by index if non-zero, else by
/// selector and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UserpolicyId {
    pub sel: Selector,
    pub index: u32,
    pub dir: u8,
}

impl UserpolicyId {
    pub(crate) fn parse_exact(body: &[u8]) -> Result<UserpolicyId> {
        exact(body, XFRM_USERPOLICY_ID_LEN, "xfrm_userpolicy_id", |r| {
            let id = UserpolicyId {
                sel: Selector::parse(r)?,
                index: r.u32()?,
                dir: r.u8()?,
            };
            r.skip(3)?;
            Ok(id)
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        self.sel.emit(out);
        out.put_u32(self.index);
        out.put_u8(self.dir);
        out.put_zeros(3);
    }
}

/// `struct xfrm_user_tmpl` (64 bytes): one SA a policy needs.
///
/// ```text
///  0 id (24)  24 family(u16)  26 pad[2]  28 saddr (16)  44 reqid
/// 48 mode  49 share  50 optional  51 pad  52 aalgos  56 ealgos  60 calgos
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UserTmpl {
    pub id: Id,
    pub family: u16,
    pub saddr: Addr,
    pub reqid: u32,
    pub mode: u8,
    pub share: u8,
    /// 1: the SA may be missing on input ("level use").
    pub optional: u8,
    pub aalgos: u32,
    pub ealgos: u32,
    pub calgos: u32,
}

impl UserTmpl {
    pub fn src(&self) -> Option<IpAddr> {
        self.saddr.ip(self.family)
    }

    pub fn dst(&self) -> Option<IpAddr> {
        self.id.daddr.ip(self.family)
    }

    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<UserTmpl> {
        let id = Id::parse(r)?;
        let family = r.u16()?;
        r.skip(2)?;
        let saddr = Addr::parse(r)?;
        let reqid = r.u32()?;
        let mode = r.u8()?;
        let share = r.u8()?;
        let optional = r.u8()?;
        r.skip(1)?;
        Ok(UserTmpl {
            id,
            family,
            saddr,
            reqid,
            mode,
            share,
            optional,
            aalgos: r.u32()?,
            ealgos: r.u32()?,
            calgos: r.u32()?,
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        self.id.emit(out);
        out.put_u16(self.family);
        out.put_zeros(2);
        self.saddr.emit(out);
        out.put_u32(self.reqid);
        out.put_u8(self.mode);
        out.put_u8(self.share);
        out.put_u8(self.optional);
        out.put_zeros(1);
        out.put_u32(self.aalgos);
        out.put_u32(self.ealgos);
        out.put_u32(self.calgos);
    }
}

/// `struct xfrm_user_acquire` (280 bytes): the kernel needs an SA for
/// `id` (destination, protocol; SPI 0) from `saddr`, for traffic `sel`,
/// because of `policy`; `seq` ties the answer to the larval SA.
///
/// ```text
///   0 id (24)  24 saddr (16)  40 sel (56)  96 policy (168)
/// 264 aalgos  268 ealgos  272 calgos  276 seq
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UserAcquire {
    pub id: Id,
    pub saddr: Addr,
    pub sel: Selector,
    pub policy: UserpolicyInfo,
    pub aalgos: u32,
    pub ealgos: u32,
    pub calgos: u32,
    pub seq: u32,
}

impl UserAcquire {
    pub(crate) fn parse_exact(body: &[u8]) -> Result<UserAcquire> {
        exact(body, XFRM_USER_ACQUIRE_LEN, "xfrm_user_acquire", |r| {
            Ok(UserAcquire {
                id: Id::parse(r)?,
                saddr: Addr::parse(r)?,
                sel: Selector::parse(r)?,
                policy: UserpolicyInfo::parse(r)?,
                aalgos: r.u32()?,
                ealgos: r.u32()?,
                calgos: r.u32()?,
                seq: r.u32()?,
            })
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        self.id.emit(out);
        self.saddr.emit(out);
        self.sel.emit(out);
        self.policy.emit(out);
        out.put_u32(self.aalgos);
        out.put_u32(self.ealgos);
        out.put_u32(self.calgos);
        out.put_u32(self.seq);
    }
}

/// `struct xfrm_user_polexpire` (176 bytes): the policy and whether its
/// hard (1) or soft (0) lifetime ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UserPolexpire {
    pub pol: UserpolicyInfo,
    pub hard: u8,
}

impl UserPolexpire {
    pub(crate) fn parse_exact(body: &[u8]) -> Result<UserPolexpire> {
        exact(body, XFRM_USER_POLEXPIRE_LEN, "xfrm_user_polexpire", |r| {
            let pol = UserpolicyInfo::parse(r)?;
            let hard = r.u8()?;
            r.skip(7)?;
            Ok(UserPolexpire { pol, hard })
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        self.pol.emit(out);
        out.put_u8(self.hard);
        out.put_zeros(7);
    }
}
