//! IKE's own packets must never be caught by the IPsec policies pluto
//! installs (a host-to-host TRAP covers UDP 500 too): each IKE socket gets a
//! per-socket BYPASS policy, inbound and outbound, as other NETKEY daemons do.

use std::io;
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

pub fn ike_socket_bypass(sock: &impl AsRawFd, ipv4: bool) -> io::Result<()> {
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
