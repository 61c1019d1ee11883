//! IKE's own packets must never be caught by the IPsec policies pluto
//! installs (a host-to-host TRAP covers UDP 500 too): each IKE socket gets a
//! per-socket BYPASS policy, inbound and outbound, as other NETKEY daemons do.
//! The XFRM form (`IP_XFRM_POLICY` with an allow `xfrm_userpolicy_info`)
//! works wherever xfrm_user is, with or without af_key; the PF_KEY form
//! (`IP_IPSEC_POLICY` with a bypass `sadb_x_policy`) is the fallback for a
//! kernel with af_key but no xfrm_user.

use crate::xfrm::build::PolicySpec;
use crate::xfrm::consts::{XFRM_POLICY_ALLOW, XFRM_POLICY_IN, XFRM_POLICY_OUT};
use crate::xfrm::wire::Selector;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;

/// `struct sadb_x_policy` with no ipsecrequests: 16 bytes.
#[repr(C)]
struct SadbXPolicy {
    len: u16,
    exttype: u16,
    policy_type: u16,
    dir: u8,
    reserved: u8,
    id: u32,
    priority: u32,
}

const SADB_X_EXT_POLICY: u16 = 18;
const IPSEC_POLICY_BYPASS: u16 = 4;
const IPSEC_DIR_INBOUND: u8 = 1;
const IPSEC_DIR_OUTBOUND: u8 = 2;
/// linux/in.h and linux/in6.h.
const IP_IPSEC_POLICY: libc::c_int = 16;
const IPV6_IPSEC_POLICY: libc::c_int = 34;
const IP_XFRM_POLICY: libc::c_int = 17;
const IPV6_XFRM_POLICY: libc::c_int = 35;

pub fn ike_socket_bypass(sock: &impl AsRawFd, ipv4: bool) -> io::Result<()> {
    match xfrm_bypass(sock, ipv4) {
        Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => pfkey_bypass(sock, ipv4),
        r => r,
    }
}

pub(super) fn setsockopt(
    sock: &impl AsRawFd,
    level: libc::c_int,
    opt: libc::c_int,
    val: &[u8],
) -> io::Result<()> {
    let len = libc::socklen_t::try_from(val.len())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: a valid fd we own, and a pointer/length pair describing a
    // live byte buffer the kernel only reads during the call.
    let r = unsafe { libc::setsockopt(sock.as_raw_fd(), level, opt, val.as_ptr().cast(), len) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn xfrm_bypass(sock: &impl AsRawFd, ipv4: bool) -> io::Result<()> {
    let (level, opt, any) = if ipv4 {
        (
            libc::IPPROTO_IP,
            IP_XFRM_POLICY,
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        )
    } else {
        (
            libc::IPPROTO_IPV6,
            IPV6_XFRM_POLICY,
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        )
    };
    for dir in [XFRM_POLICY_IN, XFRM_POLICY_OUT] {
        let mut spec = PolicySpec::new(Selector::new(any, 0, any, 0), dir, 0);
        spec.action = XFRM_POLICY_ALLOW;
        let mut info = Vec::new();
        spec.to_info().emit(&mut info);
        setsockopt(sock, level, opt, &info)?;
    }
    Ok(())
}

fn pfkey_bypass(sock: &impl AsRawFd, ipv4: bool) -> io::Result<()> {
    let (level, opt) = if ipv4 {
        (libc::IPPROTO_IP, IP_IPSEC_POLICY)
    } else {
        (libc::IPPROTO_IPV6, IPV6_IPSEC_POLICY)
    };
    for dir in [IPSEC_DIR_INBOUND, IPSEC_DIR_OUTBOUND] {
        let pol = SadbXPolicy {
            len: (std::mem::size_of::<SadbXPolicy>() / 8) as u16,
            exttype: SADB_X_EXT_POLICY,
            policy_type: IPSEC_POLICY_BYPASS,
            dir,
            reserved: 0,
            id: 0,
            priority: 0,
        };
        // SAFETY: a valid fd we own, and a pointer/length pair describing a
        // live, properly laid out sadb_x_policy on our stack.
        let r = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                level,
                opt,
                (&pol as *const SadbXPolicy).cast(),
                std::mem::size_of::<SadbXPolicy>() as libc::socklen_t,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
