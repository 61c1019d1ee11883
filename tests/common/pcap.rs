//! Writing simulated datagrams as a pcap file (for tshark).
//!
//! Classic libpcap format (microsecond timestamps, little-endian), link type
//! `LINKTYPE_RAW` (101): every record is a bare IP packet, no link header.
//! Each datagram gets an IPv4 (or IPv6) header and a UDP header with correct
//! lengths and checksums; timestamps are `Packet::at - start`.

use super::sim::Packet;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Instant;

/// Raw IP: the record starts with the IP header (version from its first nibble).
pub const LINKTYPE_RAW: u32 = 101;
const PCAP_MAGIC_USEC: u32 = 0xa1b2_c3d4;
const SNAPLEN: u32 = 65535;
const IPV4_HEADER_LEN: usize = 20;
const IPV6_HEADER_LEN: usize = 40;
const UDP_HEADER_LEN: usize = 8;
const IPPROTO_UDP: u8 = 17;
const TTL: u8 = 64;

/// RFC 1071 one's-complement sum of `data` (odd length padded with a zero
/// byte), added to `initial`, not yet complemented.
fn ones_complement_sum(initial: u32, data: &[u8]) -> u32 {
    let mut sum = initial;
    for chunk in data.chunks(2) {
        let word = match chunk {
            [a, b] => u16::from_be_bytes([*a, *b]),
            [a] => u16::from_be_bytes([*a, 0]),
            _ => 0,
        };
        sum += u32::from(word);
        // Fold as we go so the sum never overflows, whatever the length.
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum
}

fn fold_complement(sum: u32) -> u16 {
    let mut s = sum;
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// The IPv4 header checksum of `header` (whose checksum field must be zero
/// for computing, or hold the checksum for verifying: then the result is 0).
pub fn ipv4_checksum(header: &[u8]) -> u16 {
    fold_complement(ones_complement_sum(0, header))
}

/// UDP checksum over the pseudo-header and the UDP header + payload (with
/// its checksum field zero). 0 is sent as 0xffff (RFC 768).
fn udp_checksum(src: IpAddr, dst: IpAddr, udp: &[u8]) -> u16 {
    let udp_len = udp.len() as u32;
    let mut pseudo = Vec::with_capacity(40);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&[0, IPPROTO_UDP]);
            pseudo.extend_from_slice(&(udp_len as u16).to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&udp_len.to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, IPPROTO_UDP]);
        }
        _ => panic!("mixed address families: {src} -> {dst}"),
    }
    let sum = ones_complement_sum(ones_complement_sum(0, &pseudo), udp);
    match fold_complement(sum) {
        0 => 0xffff,
        c => c,
    }
}

/// One IP + UDP datagram carrying `payload` from `from` to `to`. `ident` is
/// the IPv4 identification field (ignored for IPv6).
pub fn ip_udp_packet(from: SocketAddr, to: SocketAddr, ident: u16, payload: &[u8]) -> Vec<u8> {
    let udp_len = UDP_HEADER_LEN + payload.len();
    assert!(
        udp_len <= usize::from(u16::MAX),
        "datagram too long for UDP"
    );
    let mut udp = Vec::with_capacity(udp_len);
    udp.extend_from_slice(&from.port().to_be_bytes());
    udp.extend_from_slice(&to.port().to_be_bytes());
    udp.extend_from_slice(&(udp_len as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let ck = udp_checksum(from.ip(), to.ip(), &udp);
    udp[6..8].copy_from_slice(&ck.to_be_bytes());

    let mut out = Vec::with_capacity(IPV6_HEADER_LEN + udp.len());
    match (from.ip(), to.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = IPV4_HEADER_LEN + udp.len();
            assert!(total <= usize::from(u16::MAX), "datagram too long for IPv4");
            out.push(0x45); // version 4, IHL 5 words
            out.push(0); // DSCP/ECN
            out.extend_from_slice(&(total as u16).to_be_bytes());
            out.extend_from_slice(&ident.to_be_bytes());
            out.extend_from_slice(&[0x40, 0x00]); // DF, fragment offset 0
            out.push(TTL);
            out.push(IPPROTO_UDP);
            out.extend_from_slice(&[0, 0]); // checksum, filled below
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
            let ck = ipv4_checksum(&out[..IPV4_HEADER_LEN]);
            out[10..12].copy_from_slice(&ck.to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            out.extend_from_slice(&[0x60, 0, 0, 0]); // version 6, no class/flow
            out.extend_from_slice(&(udp.len() as u16).to_be_bytes());
            out.push(IPPROTO_UDP);
            out.push(TTL);
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
        }
        (s, d) => panic!("mixed address families: {s} -> {d}"),
    }
    out.extend_from_slice(&udp);
    out
}

/// The whole pcap file for `packets`, timestamps relative to `start`.
pub fn pcap_bytes(start: Instant, packets: &[Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&PCAP_MAGIC_USEC.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes()); // version 2.4
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes()); // thiszone
    out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
    out.extend_from_slice(&SNAPLEN.to_le_bytes());
    out.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        let rel = p.at.saturating_duration_since(start);
        let secs = u32::try_from(rel.as_secs()).expect("run longer than 136 years");
        let frame = ip_udp_packet(p.from, p.to, i as u16, &p.data);
        let len = u32::try_from(frame.len()).expect("frame length");
        out.extend_from_slice(&secs.to_le_bytes());
        out.extend_from_slice(&rel.subsec_micros().to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes()); // captured
        out.extend_from_slice(&len.to_le_bytes()); // on the wire
        out.extend_from_slice(&frame);
    }
    out
}

/// Writes `packets` (e.g. `net.wire`) to `path` as a pcap file.
pub fn write_pcap(path: &Path, start: Instant, packets: &[Packet]) -> io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(&pcap_bytes(start, packets))?;
    f.sync_all()
}
