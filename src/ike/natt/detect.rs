//! NAT detection (RFC 3947 §3.2): each end hashes the addresses it knows
//! into NAT-D payloads in MI2/MR2; a hash the receiver cannot reproduce
//! from the addresses it sees means a NAT rewrote them.

use crate::ike::crypto::{hash, HashAlg};
use crate::ike::packet::ct_eq;
use crate::ike::vendor::NattMethod;
use crate::ike::wire::{payload_type, Payload};
use std::net::{IpAddr, SocketAddr};

/// HASH(CKY-I | CKY-R | IP | Port) with the negotiated hash.
pub fn natd_hash(alg: HashAlg, icookie: &[u8; 8], rcookie: &[u8; 8], addr: SocketAddr) -> Vec<u8> {
    let port = addr.port().to_be_bytes();
    match addr.ip() {
        IpAddr::V4(a) => hash(alg, &[icookie, rcookie, &a.octets(), &port]),
        IpAddr::V6(a) => hash(alg, &[icookie, rcookie, &a.octets(), &port]),
    }
}

/// The NAT-D payload type of a method.
pub fn natd_type(m: NattMethod) -> u8 {
    if m.is_draft() {
        payload_type::NAT_D_DRAFT
    } else {
        payload_type::NAT_D
    }
}

/// The NAT-D payloads of a message from `local` to `remote`: the
/// destination first, then our own address. With `force` (`--forceencaps`)
/// ours is the hash of an address and port no packet can come from, so
/// the peer believes we are behind a NAT and encapsulates ESP.
pub fn natd_payloads(
    m: NattMethod,
    alg: HashAlg,
    icookie: &[u8; 8],
    rcookie: &[u8; 8],
    local: SocketAddr,
    remote: SocketAddr,
    force: bool,
) -> Vec<Payload> {
    let ty = natd_type(m);
    let ours = if force {
        let none = match local.ip() {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        };
        SocketAddr::new(none, 0)
    } else {
        local
    };
    [remote, ours]
        .into_iter()
        .map(|a| Payload::Other {
            ty,
            body: natd_hash(alg, icookie, rcookie, a),
        })
        .collect()
}

/// What the peer's NAT-D payloads say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detection {
    /// The peer addressed something other than our local address.
    pub we_behind: bool,
    /// None of the peer's own addresses is the one its packet came from.
    pub peer_behind: bool,
}

/// Compares the received hashes (`received`, in order) with the addresses
/// of the datagram: `local` where it arrived, `remote` where it came from.
/// `None` when there are fewer than two (a broken peer: no NAT-T then).
pub fn detect(
    alg: HashAlg,
    icookie: &[u8; 8],
    rcookie: &[u8; 8],
    local: SocketAddr,
    remote: SocketAddr,
    received: &[&[u8]],
) -> Option<Detection> {
    let (first, rest) = received.split_first()?;
    if rest.is_empty() {
        return None;
    }
    let me = natd_hash(alg, icookie, rcookie, local);
    let him = natd_hash(alg, icookie, rcookie, remote);
    Some(Detection {
        we_behind: !ct_eq(first, &me),
        peer_behind: !rest.iter().any(|h| ct_eq(h, &him)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IC: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
    const RC: [u8; 8] = [9, 10, 11, 12, 13, 14, 15, 16];

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn hash_covers_cookies_address_and_port_in_order() {
        let a = sa("192.0.2.1:500");
        let h = natd_hash(HashAlg::Sha1, &IC, &RC, a);
        let mut input = Vec::new();
        input.extend_from_slice(&IC);
        input.extend_from_slice(&RC);
        input.extend_from_slice(&[192, 0, 2, 1, 0x01, 0xf4]);
        assert_eq!(h, hash(HashAlg::Sha1, &[&input]));
        assert_eq!(h.len(), 20);
        // Every input matters.
        assert_ne!(h, natd_hash(HashAlg::Sha1, &IC, &RC, sa("192.0.2.1:4500")));
        assert_ne!(h, natd_hash(HashAlg::Sha1, &IC, &RC, sa("192.0.2.2:500")));
        assert_ne!(h, natd_hash(HashAlg::Sha1, &RC, &IC, a));
        assert_eq!(natd_hash(HashAlg::Md5, &IC, &RC, a).len(), 16);
        assert_eq!(
            natd_hash(HashAlg::Sha256, &IC, &RC, sa("[2001:db8::1]:500")).len(),
            32
        );
    }

    #[test]
    fn sha1_hash_matches_an_independent_computation() {
        // SHA-1 of 0102030405060708 090a0b0c0d0e0f10 c0000201 01f4, computed
        // with another implementation (Python hashlib).
        let h = natd_hash(HashAlg::Sha1, &IC, &RC, sa("192.0.2.1:500"));
        let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, EXPECTED_SHA1);
    }
    const EXPECTED_SHA1: &str = "f91d4f6bc96115a493f7b83bfe8b8f9b6c885243";

    fn bodies(p: &[Payload]) -> Vec<Vec<u8>> {
        p.iter()
            .map(|p| match p {
                Payload::Other { body, .. } => body.clone(),
                _ => panic!("not NAT-D"),
            })
            .collect()
    }

    #[test]
    fn both_ends_agree_without_nat_and_see_each_side_of_a_nat() {
        let (w, e) = (sa("192.0.2.1:500"), sa("192.0.2.2:500"));
        let sent = natd_payloads(NattMethod::Rfc3947, HashAlg::Sha1, &IC, &RC, w, e, false);
        assert!(sent.iter().all(|p| p.ty() == payload_type::NAT_D));
        let b = bodies(&sent);
        let refs: Vec<&[u8]> = b.iter().map(Vec::as_slice).collect();
        let no_nat = Detection {
            we_behind: false,
            peer_behind: false,
        };
        assert_eq!(detect(HashAlg::Sha1, &IC, &RC, e, w, &refs), Some(no_nat));
        // West behind a NAT that shows it as 198.51.100.7:1024.
        let d = detect(HashAlg::Sha1, &IC, &RC, e, sa("198.51.100.7:1024"), &refs);
        assert_eq!(
            d,
            Some(Detection {
                we_behind: false,
                peer_behind: true
            })
        );
        // East's packets reach west addressed to a public address: west
        // is the one behind the NAT.
        let to_public = natd_payloads(
            NattMethod::Rfc3947,
            HashAlg::Sha1,
            &IC,
            &RC,
            e,
            sa("198.51.100.7:1024"),
            false,
        );
        let b = bodies(&to_public);
        let refs: Vec<&[u8]> = b.iter().map(Vec::as_slice).collect();
        let d = detect(HashAlg::Sha1, &IC, &RC, sa("10.0.0.5:500"), e, &refs);
        assert_eq!(
            d,
            Some(Detection {
                we_behind: true,
                peer_behind: false
            })
        );
        assert_eq!(detect(HashAlg::Sha1, &IC, &RC, e, w, &refs[..1]), None);
        assert_eq!(detect(HashAlg::Sha1, &IC, &RC, e, w, &[]), None);
    }

    #[test]
    fn forced_encapsulation_looks_like_a_nat_and_drafts_use_private_types() {
        let (w, e) = (sa("192.0.2.1:500"), sa("192.0.2.2:500"));
        let sent = natd_payloads(NattMethod::Draft02n, HashAlg::Md5, &IC, &RC, w, e, true);
        assert!(sent.iter().all(|p| p.ty() == payload_type::NAT_D_DRAFT));
        let b = bodies(&sent);
        let refs: Vec<&[u8]> = b.iter().map(Vec::as_slice).collect();
        let d = detect(HashAlg::Md5, &IC, &RC, e, w, &refs).unwrap();
        assert!(d.peer_behind && !d.we_behind);
    }
}
