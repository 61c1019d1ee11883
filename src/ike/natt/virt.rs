//! Virtual clients (`--client vhost:…`/`vnet:…` on the peer's end): a road
//! warrior behind a NAT names its private address or network as its client
//! in Quick Mode, and the responder takes it if the connection allows it —
//! Openswan's rules (virtual.c): `%no` the peer's own address, `%priv` a
//! network of `--virtual_private` that no exclusion touches, `%all` anything,
//! or a network listed explicitly; `vhost:` only single addresses.

use crate::ike::config::{PrivateNet, Virtual, VirtualNet};
use crate::ike::kernel::Selector;
use crate::ike::wire::{IdPayload, Identity};
use std::net::IpAddr;

/// The selector a Quick Mode client ID names: an address or a subnet with
/// a contiguous mask (ranges and names are not clients).
pub fn id_selector(id: &IdPayload) -> Option<Selector> {
    let (addr, prefix) = match id.id {
        Identity::Ipv4(a) => (IpAddr::V4(a), 32),
        Identity::Ipv6(a) => (IpAddr::V6(a), 128),
        Identity::Ipv4Subnet(a, m) => {
            let m = u32::from(m);
            let p = m.leading_ones();
            if m.checked_shl(p).unwrap_or(0) != 0 {
                return None;
            }
            (IpAddr::V4(a), u8::try_from(p).ok()?)
        }
        Identity::Ipv6Subnet(a, m) => {
            let m = u128::from(m);
            let p = m.leading_ones();
            if m.checked_shl(p).unwrap_or(0) != 0 {
                return None;
            }
            (IpAddr::V6(a), u8::try_from(p).ok()?)
        }
        _ => return None,
    };
    Some(Selector {
        addr,
        prefix,
        protocol: id.protocol,
        port: id.port,
    })
}

fn host_prefix(a: IpAddr) -> u8 {
    if a.is_ipv4() {
        32
    } else {
        128
    }
}

/// `inner/ip` lies within `net/np` (same family).
fn within(addr: IpAddr, prefix: u8, net: IpAddr, np: u8) -> bool {
    if prefix < np {
        return false;
    }
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let m = u32::MAX
                .checked_shl(32 - u32::from(np.min(32)))
                .unwrap_or(0);
            u32::from(a) & m == u32::from(n) & m
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(np.min(128)))
                .unwrap_or(0);
            u128::from(a) & m == u128::from(n) & m
        }
        _ => false,
    }
}

/// Whether the peer (public address `peer`, original address `peer_oa`
/// from NAT-OA if any) may have `client` as its client.
pub fn virtual_client_allowed(
    virt: &Virtual,
    client: &Selector,
    peer: IpAddr,
    peer_oa: Option<IpAddr>,
    private: &[PrivateNet],
) -> bool {
    let is_host = client.prefix == host_prefix(client.addr);
    if virt.host_only && !is_host {
        return false;
    }
    let inside = |net: IpAddr, np: u8| within(client.addr, client.prefix, net, np);
    virt.nets.iter().any(|v| match *v {
        VirtualNet::NoClient => is_host && (client.addr == peer || Some(client.addr) == peer_oa),
        VirtualNet::Private => {
            let included = private
                .iter()
                .filter(|p| !p.exclude)
                .any(|p| inside(p.addr, p.prefix));
            // An exclusion that overlaps the client at all refuses it.
            let excluded = private.iter().filter(|p| p.exclude).any(|p| {
                inside(p.addr, p.prefix) || within(p.addr, p.prefix, client.addr, client.prefix)
            });
            included && !excluded
        }
        VirtualNet::All => true,
        VirtualNet::Net { addr, prefix } => inside(addr, prefix),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(s: &str) -> Selector {
        let (a, p) = s.split_once('/').unwrap();
        Selector {
            addr: a.parse().unwrap(),
            prefix: p.parse().unwrap(),
            protocol: 0,
            port: 0,
        }
    }

    fn private() -> Vec<PrivateNet> {
        let n = |s: &str, exclude| {
            let x = sel(s);
            PrivateNet {
                addr: x.addr,
                prefix: x.prefix,
                exclude,
            }
        };
        vec![
            n("10.0.0.0/8", false),
            n("192.168.0.0/16", false),
            n("10.9.0.0/16", true),
        ]
    }

    fn v(host_only: bool, nets: &[VirtualNet]) -> Virtual {
        Virtual {
            host_only,
            nets: nets.to_vec(),
        }
    }

    const PEER: &str = "198.51.100.7";

    fn ok(virt: &Virtual, client: &str, oa: Option<&str>) -> bool {
        virtual_client_allowed(
            virt,
            &sel(client),
            PEER.parse().unwrap(),
            oa.map(|o| o.parse().unwrap()),
            &private(),
        )
    }

    #[test]
    fn client_ids_become_selectors_only_with_contiguous_masks() {
        let id = |id| IdPayload {
            protocol: 17,
            port: 500,
            id,
        };
        let a = "10.1.2.0".parse().unwrap();
        let s = id_selector(&id(Identity::Ipv4Subnet(
            a,
            "255.255.255.0".parse().unwrap(),
        )))
        .unwrap();
        assert_eq!(
            (s.addr, s.prefix, s.protocol, s.port),
            (IpAddr::V4(a), 24, 17, 500)
        );
        assert!(
            id_selector(&id(Identity::Ipv4Subnet(a, "255.0.255.0".parse().unwrap()))).is_none()
        );
        assert_eq!(id_selector(&id(Identity::Ipv4(a))).unwrap().prefix, 32);
        assert!(id_selector(&id(Identity::Fqdn(b"x".to_vec()))).is_none());
    }

    #[test]
    fn vhost_priv_takes_private_hosts_outside_exclusions() {
        let vh = v(true, &[VirtualNet::NoClient, VirtualNet::Private]);
        assert!(ok(&vh, "10.1.2.3/32", None));
        assert!(ok(&vh, "192.168.1.9/32", None));
        assert!(!ok(&vh, "10.1.2.0/24", None), "vhost: a network");
        assert!(!ok(&vh, "10.9.1.1/32", None), "excluded");
        assert!(!ok(&vh, "172.16.0.1/32", None), "not private");
        assert!(ok(&vh, "198.51.100.7/32", None), "%no: its own address");
        assert!(!ok(&vh, "198.51.100.8/32", None));
        assert!(ok(
            &v(true, &[VirtualNet::NoClient]),
            "10.0.0.5/32",
            Some("10.0.0.5")
        ));
        assert!(!ok(&v(true, &[VirtualNet::NoClient]), "10.0.0.5/32", None));
    }

    #[test]
    fn vnet_takes_networks_and_exclusions_cut_through_them() {
        let vn = v(false, &[VirtualNet::Private]);
        assert!(ok(&vn, "10.1.2.0/24", None));
        assert!(!ok(&vn, "10.0.0.0/8", None) && ok(&vn, "10.128.0.0/9", None));
        assert!(!ok(&vn, "10.8.0.0/15", None), "contains an excluded net");
        assert!(!ok(&vn, "0.0.0.0/0", None));
        assert!(ok(&v(false, &[VirtualNet::All]), "0.0.0.0/0", None));
        let explicit = v(
            false,
            &[VirtualNet::Net {
                addr: "172.16.0.0".parse().unwrap(),
                prefix: 12,
            }],
        );
        assert!(ok(&explicit, "172.20.1.0/24", None));
        assert!(!ok(&explicit, "172.32.0.0/24", None));
        assert!(!ok(&explicit, "2001:db8::/64", None));
        assert!(!ok(&v(false, &[]), "10.1.2.0/24", None));
    }
}
