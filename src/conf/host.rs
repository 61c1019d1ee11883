//! `%defaultroute` on the real system: the default route from
//! `/proc/net/route` (IPv4) or `/proc/net/ipv6_route` (IPv6), and the
//! address the kernel would send from towards its gateway (a connected UDP
//! socket's local address: nothing is sent).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};

use super::{DefaultRoute, Host};
use crate::ctl::AddrFamily;

/// The [`Host`] of the machine the reader runs on.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemHost;

impl Host for SystemHost {
    fn resolve(&self, name: &str, family: AddrFamily) -> Result<IpAddr, String> {
        crate::dns::Resolver::system().lookup_host(name, family == AddrFamily::Ipv6)
    }

    fn default_route(&self, family: AddrFamily) -> Option<DefaultRoute> {
        match family {
            AddrFamily::Ipv4 => {
                let table = std::fs::read_to_string("/proc/net/route").ok()?;
                let (iface, gw) = default_v4(&table)?;
                let addr = source_towards(SocketAddr::new(IpAddr::V4(gw), 9))?;
                Some(DefaultRoute {
                    addr,
                    nexthop: IpAddr::V4(gw),
                    iface,
                })
            }
            AddrFamily::Ipv6 => {
                let table = std::fs::read_to_string("/proc/net/ipv6_route").ok()?;
                let (iface, gw) = default_v6(&table)?;
                let index = std::fs::read_to_string(format!("/sys/class/net/{iface}/ifindex"))
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok())
                    .unwrap_or(0);
                let addr = source_towards(SocketAddr::V6(SocketAddrV6::new(gw, 9, 0, index)))?;
                Some(DefaultRoute {
                    addr,
                    nexthop: IpAddr::V6(gw),
                    iface,
                })
            }
        }
    }
}

/// The local address a datagram to `to` would leave from.
fn source_towards(to: SocketAddr) -> Option<IpAddr> {
    let any: SocketAddr = match to {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    };
    let sock = UdpSocket::bind(any).ok()?;
    sock.connect(to).ok()?;
    let addr = sock.local_addr().ok()?.ip();
    (!addr.is_unspecified()).then_some(addr)
}

/// The interface and gateway of the first default route of
/// `/proc/net/route` (`Iface Destination Gateway Flags ... Mask`, hex in
/// host byte order as the kernel prints it: little-endian here).
pub fn default_v4(table: &str) -> Option<(String, Ipv4Addr)> {
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(iface), Some(dst), Some(gw), Some(mask)) =
            (f.first(), f.get(1), f.get(2), f.get(7))
        else {
            continue;
        };
        let hex = |s: &str| u32::from_str_radix(s, 16).ok();
        if hex(dst) == Some(0) && hex(mask) == Some(0) {
            let gw = hex(gw)?;
            if gw == 0 {
                continue;
            }
            return Some((iface.to_string(), Ipv4Addr::from(gw.swap_bytes())));
        }
    }
    None
}

/// The interface and gateway of the first default route of
/// `/proc/net/ipv6_route` (`dst dstlen src srclen nexthop metric refcnt
/// use flags iface`, addresses as 32 hex digits).
pub fn default_v6(table: &str) -> Option<(String, Ipv6Addr)> {
    for line in table.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(dst), Some(len), Some(gw), Some(iface)) =
            (f.first(), f.get(1), f.get(4), f.get(9))
        else {
            continue;
        };
        let hex = |s: &str| u128::from_str_radix(s, 16).ok();
        if hex(dst) == Some(0) && *len == "00" && *iface != "lo" {
            let gw = hex(gw)?;
            if gw == 0 {
                continue;
            }
            return Some((iface.to_string(), Ipv6Addr::from(gw)));
        }
    }
    None
}
