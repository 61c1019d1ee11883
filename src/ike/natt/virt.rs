//! Virtual clients (`--client vhost:…`/`vnet:…` on the peer's end): a road
//! warrior behind a NAT names its private address or network as its client
//! in Quick Mode, and the responder takes it if the connection allows it —
//! Openswan's rules (virtual.c): `%no` the peer's own address, `%priv` a
//! network of `--virtual_private` that no exclusion touches, `%all` anything,
//! or a network listed explicitly; `vhost:` only single addresses.

use crate::ike::config::{PrivateNet, Virtual, VirtualNet};
use crate::ike::kernel::{within, Selector};
use crate::ike::wire::{IdPayload, Identity};
use std::net::IpAddr;

/// The selector a Quick Mode client ID names: an address, a subnet with a
/// contiguous mask, or a range that is exactly such a subnet (Openswan
/// took ranges so), host bits cleared; names and other ranges name no
/// client.
pub fn id_selector(id: &IdPayload) -> Option<Selector> {
    // Both families as (address, mask) in a u128, IPv4 in the low 32 bits.
    let (v4, addr, mask) = match id.id {
        Identity::Ipv4(a) => (true, u128::from(u32::from(a)), u128::from(u32::MAX)),
        Identity::Ipv6(a) => (false, u128::from(a), u128::MAX),
        Identity::Ipv4Subnet(a, m) => (true, u32::from(a).into(), u32::from(m).into()),
        Identity::Ipv6Subnet(a, m) => (false, a.into(), m.into()),
        Identity::Ipv4Range(a, b) => {
            let (a, b) = (u32::from(a).into(), u32::from(b).into());
            (true, a, range_mask(a, b, 32)?)
        }
        Identity::Ipv6Range(a, b) => (false, a.into(), range_mask(a.into(), b.into(), 128)?),
        _ => return None,
    };
    let bits = if v4 { 32 } else { 128 };
    // Left-aligned, a contiguous mask is ones, then zeros only.
    let aligned = mask << (128 - bits);
    let prefix = aligned.leading_ones();
    if aligned.checked_shl(prefix).unwrap_or(0) != 0 {
        return None;
    }
    let net = addr & mask;
    Some(Selector {
        addr: if v4 {
            IpAddr::V4(u32::try_from(net).ok()?.into())
        } else {
            IpAddr::V6(net.into())
        },
        prefix: u8::try_from(prefix).ok()?,
        protocol: id.protocol,
        port: id.port,
    })
}

/// The mask of the subnet that the range `first..=last` of a `bits`-bit
/// family is exactly, if it is one.
fn range_mask(first: u128, last: u128, bits: u32) -> Option<u128> {
    let span = last.checked_sub(first)?;
    // span + 1 a power of two (span all ones below some bit), first aligned.
    if span & span.wrapping_add(1) != 0 || first & span != 0 {
        return None;
    }
    let all = u128::MAX >> (128 - bits);
    Some(all & !span)
}

fn host_prefix(a: IpAddr) -> u8 {
    if a.is_ipv4() {
        32
    } else {
        128
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
    fn ranges_that_are_subnets_name_them_and_host_bits_are_cleared() {
        let id = |id| IdPayload {
            protocol: 0,
            port: 0,
            id,
        };
        let show = |i| id_selector(&id(i)).map(|s| format!("{}/{}", s.addr, s.prefix));
        let v4 = |t: &str| t.parse::<std::net::Ipv4Addr>().unwrap();
        let v6 = |t: &str| t.parse::<std::net::Ipv6Addr>().unwrap();
        let r4 = |a, b| show(Identity::Ipv4Range(v4(a), v4(b)));
        let r6 = |a, b| show(Identity::Ipv6Range(v6(a), v6(b)));
        assert_eq!(r4("10.1.0.0", "10.1.0.255").as_deref(), Some("10.1.0.0/24"));
        assert_eq!(r4("10.1.0.7", "10.1.0.7").as_deref(), Some("10.1.0.7/32"));
        assert_eq!(
            r4("0.0.0.0", "255.255.255.255").as_deref(),
            Some("0.0.0.0/0")
        );
        assert_eq!(r4("10.1.0.0", "10.1.0.254"), None, "not a power of two");
        assert_eq!(r4("10.1.0.128", "10.1.1.127"), None, "not aligned");
        assert_eq!(r4("10.1.0.255", "10.1.0.0"), None, "backwards");
        assert_eq!(
            r6("2001:db8:b::", "2001:db8:b::ffff:ffff:ffff:ffff").as_deref(),
            Some("2001:db8:b::/64")
        );
        assert_eq!(
            r6("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").as_deref(),
            Some("::/0")
        );
        assert_eq!(r6("2001:db8:b::1", "2001:db8:b::2"), None);
        let sub6 = Identity::Ipv6Subnet(v6("2001:db8:b::1"), v6("ffff:ffff:ffff:ffff::"));
        assert_eq!(show(sub6).as_deref(), Some("2001:db8:b::/64"));
        let sub4 = Identity::Ipv4Subnet(v4("10.1.0.5"), v4("255.255.255.0"));
        assert_eq!(show(sub4).as_deref(), Some("10.1.0.0/24"));
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
