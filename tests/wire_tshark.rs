//! Independent wire check (issue item 8): the datagrams of simulated runs are
//! written to a pcap file and dissected by Wireshark's ISAKMP dissector
//! (`tshark -V` for the record, `tshark -T pdml` for structured checks).
//!
//! Every frame must dissect as ISAKMP with no malformed marker and no
//! error/warning expert info at any layer (the IP and UDP headers are ours
//! too), and what tshark decodes must equal what we meant to send: header
//! fields against the header bytes, payload chains against our own parse of
//! the bytes, and the SA payloads against what the proposal code builds.
//!
//! tshark is required: without it the tests fail ("tshark not found: apt-get
//! install tshark"); `TSHARK=/path/to/tshark` picks another binary.
//!
//! The PFS/AES run uses the null DH provider, whose shared secret follows from
//! the two public values: the test derives the phase-1 encryption key from
//! what is on the wire and hands it to tshark, which then decrypts (with its
//! own IV chaining) and dissects Main Mode 5/6 and Quick Mode too.

mod common;

use common::pcap;
use common::sim::*;
use rswan::ike::crypto::{skeyid_psk, CipherAlg, DhGroup, DhProvider, HashAlg, NullDh, Phase1Keys};
use rswan::ike::kernel::{IntegAlg, IpsecProto, Mode};
use rswan::ike::proposal::{
    default_ike_transforms, default_ipsec_proposals, ike_sa_payload, ipsec_sa_payload, AuthMethod,
    IkeTransform, IpsecTransform,
};
use rswan::ike::rng::SeededRng;
use rswan::ike::wire::{
    exchange, notify_type, payload_type, protocol, AttrValue, Attribute, Identity, Payload,
    SaPayload,
};
use rswan::ike::{Command, ConnConfig, Policy};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

#[path = "wire_tshark/compare.rs"]
mod compare;
#[path = "wire_tshark/pdml.rs"]
mod pdml;
use compare::*;
use pdml::Node;
use pdml::*;

// ---------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------

fn established(net: &Net) {
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    let logs = || format!("{}{}", west.dump_logs(), east.dump_logs());
    assert_eq!(west.established(false), 1, "west ISAKMP SA\n{}", logs());
    assert_eq!(west.established(true), 1, "west IPsec SA\n{}", logs());
    assert_eq!(east.established(false), 1, "east ISAKMP SA\n{}", logs());
    assert_eq!(east.established(true), 1, "east IPsec SA\n{}", logs());
}

/// Main Mode 1-4 in the clear: cookies, SA offer/answer, KE and nonce sizes.
/// Returns the chosen group.
fn check_main_mode_clear(msgs: &[Msg], offered: &SaPayload) -> DhGroup {
    let [mi1, mr1, mi2, mr2, ..] = msgs else {
        panic!("fewer than four messages")
    };
    for (m, e) in [(mi1, false), (mr1, false), (mi2, false), (mr2, false)] {
        assert_eq!(
            m.hdr.exchange,
            exchange::IDENTITY_PROTECTION,
            "frame {}",
            m.frame
        );
        assert_eq!(m.encrypted, e, "frame {}", m.frame);
        assert_eq!(m.hdr.msgid, 0, "frame {}", m.frame);
        assert_eq!(m.exchange_name, "Identity Protection (Main Mode)");
    }
    assert_eq!(mi1.hdr.rcookie, [0; 8], "MI1 carries no responder cookie");
    assert_ne!(mr1.hdr.rcookie, [0; 8], "MR1 sets the responder cookie");
    for m in msgs {
        assert_eq!(
            m.hdr.icookie, mi1.hdr.icookie,
            "frame {}: initiator cookie",
            m.frame
        );
    }
    for m in &msgs[1..] {
        assert_eq!(
            m.hdr.rcookie, mr1.hdr.rcookie,
            "frame {}: responder cookie",
            m.frame
        );
    }
    // MI1's SA as tshark decoded it equals what the proposal code builds.
    let (sa1, sa1_node) = mi1.sa();
    check_sa(sa1_node, offered, "MI1 SA vs proposal code");
    assert_eq!(sa1, offered, "MI1 SA bytes vs proposal code");
    let prop = sa1_node.kid("isakmp.typepayload", "MI1 SA");
    assert_eq!(prop.kid("isakmp.prop.number", "MI1").num(), 0);
    assert_eq!(
        prop.kid("isakmp.prop.protoid", "MI1").showname(),
        "Protocol ID: ISAKMP (1)"
    );
    assert_eq!(
        prop.kid("isakmp.prop.transforms", "MI1").num(),
        offered.proposals[0].transforms.len() as u64
    );
    // MR1 echoes exactly one of the offered transforms.
    let (sa2, _) = mr1.sa();
    let [p] = sa2.proposals.as_slice() else {
        panic!("MR1: {} proposals", sa2.proposals.len())
    };
    let [chosen] = p.transforms.as_slice() else {
        panic!("MR1: {} transforms", p.transforms.len())
    };
    let original = offered.proposals[0]
        .transforms
        .iter()
        .find(|t| t.number == chosen.number)
        .expect("MR1 chose a transform number we did not offer");
    assert_eq!(chosen, original, "MR1 echoes the offered transform");
    let group_id = chosen
        .attributes
        .iter()
        .find(|a| a.ty == 4)
        .and_then(Attribute::as_u64)
        .expect("chosen transform has a group");
    let group = DhGroup::from_id(group_id).expect("known group");
    for m in [mi2, mr2] {
        let ctx = format!("frame {} KE", m.frame);
        let (_, ke) = m.payload(payload_type::KE);
        assert_eq!(
            ke.kid("isakmp.payloadlength", &ctx).num(),
            4 + group.len() as u64,
            "{ctx}"
        );
        assert_eq!(
            ke.kid("isakmp.key_exchange.data", &ctx).size(),
            group.len(),
            "{ctx}"
        );
        let (_, nonce) = m.payload(payload_type::NONCE);
        assert_eq!(
            nonce.kid("isakmp.nonce", "nonce").size(),
            32,
            "frame {} nonce",
            m.frame
        );
    }
    group
}

fn attr_showname(sa: &Node, transform: usize, ty: u16) -> &str {
    let prop = sa.kid("isakmp.typepayload", "SA");
    let t = prop
        .kids("isakmp.typepayload")
        .nth(transform)
        .expect("transform");
    t.kids("isakmp.ike.attr")
        .chain(t.kids("isakmp.ipsec.attr"))
        .find(|a| a.kid(&format!("{}.type", a.name()), "attr").num() == u64::from(ty))
        .map_or("", |a| a.showname())
}

#[test]
fn pcap_writer_builds_valid_ipv4_udp() {
    // RFC 1071 style check against a well-known header (checksum 0xb861).
    let mut h = unhex("450000730000400040110000c0a80001c0a800c7");
    assert_eq!(pcap::ipv4_checksum(&h), 0xb861);
    h[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
    assert_eq!(pcap::ipv4_checksum(&h), 0, "a correct header sums to zero");

    let from = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 500);
    let to = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)), 4500);
    let payload = [1u8, 2, 3, 4, 5];
    let p = pcap::ip_udp_packet(from, to, 7, &payload);
    assert_eq!(p.len(), 20 + 8 + 5);
    assert_eq!(p[0], 0x45);
    assert_eq!(u16::from_be_bytes([p[2], p[3]]), 33, "IPv4 total length");
    assert_eq!(u16::from_be_bytes([p[4], p[5]]), 7, "identification");
    assert_eq!(p[9], 17, "protocol UDP");
    assert_eq!(
        pcap::ipv4_checksum(&p[..20]),
        0,
        "IPv4 header checksum verifies"
    );
    assert_eq!(&p[12..16], &[192, 0, 2, 1]);
    assert_eq!(&p[16..20], &[192, 0, 2, 2]);
    assert_eq!(u16::from_be_bytes([p[20], p[21]]), 500);
    assert_eq!(u16::from_be_bytes([p[22], p[23]]), 4500);
    assert_eq!(u16::from_be_bytes([p[24], p[25]]), 13, "UDP length");
    assert_eq!(&p[28..], &payload);

    let start = Instant::now();
    let packets = vec![Packet {
        at: start + Duration::from_micros(1_500_250),
        from,
        to,
        data: payload.to_vec(),
    }];
    let f = pcap::pcap_bytes(start, &packets);
    let le32 = |o: usize| u32::from_le_bytes([f[o], f[o + 1], f[o + 2], f[o + 3]]);
    assert_eq!(le32(0), 0xa1b2_c3d4, "magic (microseconds)");
    assert_eq!(le32(20), pcap::LINKTYPE_RAW);
    assert_eq!((le32(24), le32(28)), (1, 500_250), "timestamp = at - start");
    assert_eq!(
        (le32(32), le32(36)),
        (33, 33),
        "captured and original length"
    );
    assert_eq!(&f[40..], &pcap::ip_udp_packet(from, to, 0, &payload)[..]);
    assert_eq!(f.len(), 24 + 16 + 33);
}

#[test]
fn tshark_missing_is_a_failure_with_instructions() {
    let err = tshark_at(Path::new("/nonexistent/rswan-test/tshark"))
        .err()
        .expect("a missing binary must not be accepted");
    assert!(err.starts_with(TSHARK_MISSING), "{err}");
}

/// Default proposals, PSK, ESP tunnel, real MODP: the cleartext half of Main
/// Mode is checked field by field; the rest must at least be recognised as
/// encrypted ISAKMP. The `-V` text is printed for the record.
#[test]
fn default_psk_esp_tunnel_dissects_cleanly() {
    let ts = tshark();
    let (w, e) = conn_pair("west-east", esp_tunnel_policy());
    let lifetime = w.ike_lifetime;
    let mut net = pair(1, true, w, e, "secret", "secret");
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(5));
    established(&net);

    let d = dissect(&ts, "default", &net, &[]);
    let findings = check_clean("default", &d);
    let msgs = check_frames(&net, &d, false);

    let exchanges: Vec<u8> = msgs.iter().map(|m| m.hdr.exchange).collect();
    let q = exchange::QUICK;
    assert_eq!(exchanges, [2, 2, 2, 2, 2, 2, q, q, q], "MM1-6 then QM1-3");
    let enc: Vec<bool> = msgs.iter().map(|m| m.encrypted).collect();
    assert_eq!(
        enc,
        [false, false, false, false, true, true, true, true, true]
    );

    let offered = ike_sa_payload(&default_ike_transforms(true, false, lifetime));
    let group = check_main_mode_clear(&msgs, &offered);
    assert_eq!(group, DhGroup::Modp1536, "the seed table's first choice");
    // Spot checks of tshark's own words for the first transform.
    let sa1 = msgs[0].sa().1;
    assert_eq!(
        attr_showname(sa1, 0, 1),
        "IKE Attribute (t=1,l=2): Encryption-Algorithm: 3DES-CBC"
    );
    assert_eq!(
        attr_showname(sa1, 0, 2),
        "IKE Attribute (t=2,l=2): Hash-Algorithm: MD5"
    );
    assert_eq!(
        attr_showname(sa1, 0, 3),
        "IKE Attribute (t=3,l=2): Authentication-Method: Pre-shared key"
    );
    assert_eq!(
        attr_showname(sa1, 0, 4),
        "IKE Attribute (t=4,l=2): Group-Description: 1536 bit MODP group"
    );
    assert_eq!(
        attr_showname(sa1, 0, 11),
        "IKE Attribute (t=11,l=2): Life-Type: Seconds"
    );
    assert_eq!(
        attr_showname(sa1, 0, 12),
        "IKE Attribute (t=12,l=2): Life-Duration: 3600"
    );
    // An AES transform carries its key length.
    let aes = offered.proposals[0]
        .transforms
        .iter()
        .position(|t| {
            t.attributes
                .iter()
                .any(|a| a.ty == 1 && a.as_u64() == Some(7))
        })
        .expect("the defaults include AES");
    assert!(attr_showname(sa1, aes, 14).starts_with("IKE Attribute (t=14,l=2): Key-Length: "));
    assert_eq!(msgs[0].hdr.next_payload, payload_type::SA);

    // Without keys, MM5/6 and Quick Mode are only a header and opaque bytes.
    for m in &msgs[4..] {
        assert!(m.encrypted && m.nodes.is_empty(), "frame {}", m.frame);
    }

    summary("default", &ts, &msgs, &findings);
    let record = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wire_tshark_default.txt");
    if let Err(e) = std::fs::write(&record, &d.text) {
        eprintln!("(could not save {}: {e})", record.display());
    }
    eprintln!(
        "----- tshark -V of the default run (also in {}) -----\n{}----- end of tshark -V -----",
        record.display(),
        d.text
    );
}

/// The phase-1 encryption key of a null-DH PSK exchange, from the wire alone.
fn null_dh_phase1_key(msgs: &[Msg], psk: &[u8]) -> ([u8; 8], Vec<u8>) {
    let (mi2, mr1, mr2) = (&msgs[2], &msgs[1], &msgs[3]);
    let (sa, _) = mr1.sa();
    let t = &sa.proposals[0].transforms[0];
    let attr = |ty: u16| {
        t.attributes
            .iter()
            .find(|a| a.ty == ty)
            .and_then(Attribute::as_u64)
    };
    let cipher = CipherAlg::from_oakley(attr(1).expect("enc"), attr(14)).expect("cipher");
    let hash = HashAlg::from_oakley_id(attr(2).expect("hash")).expect("hash alg");
    let group = DhGroup::from_id(attr(4).expect("group")).expect("group");
    let mut ours = NullDh.generate(group, &mut SeededRng::new(0));
    ours.public = mi2.bytes_of(payload_type::KE);
    let gxy = NullDh
        .shared(&ours, &mr2.bytes_of(payload_type::KE))
        .expect("null DH");
    let ni = mi2.bytes_of(payload_type::NONCE);
    let nr = mr2.bytes_of(payload_type::NONCE);
    let skeyid = skeyid_psk(hash, psk, &ni, &nr);
    let keys = Phase1Keys::derive(
        hash,
        skeyid,
        &gxy,
        &mi2.hdr.icookie,
        &mi2.hdr.rcookie,
        cipher,
    );
    (mi2.hdr.icookie, keys.enc_key().to_vec())
}

fn subnet_id(a: u8) -> Identity {
    Identity::Ipv4Subnet(Ipv4Addr::new(10, a, 0, 0), Ipv4Addr::new(255, 255, 255, 0))
}

/// AES phase 1 with a one-day lifetime (4-byte TLV Life-Duration), PFS with a
/// different group, AES ESP. Null DH lets tshark decrypt everything.
#[test]
fn pfs_aes_exchange_dissects_and_decrypts() {
    let ts = tshark();
    let policy = Policy {
        pfs: true,
        ..esp_tunnel_policy()
    };
    let ike: Vec<IkeTransform> = [
        (CipherAlg::Aes256, HashAlg::Sha256, DhGroup::Modp2048),
        (CipherAlg::Aes128, HashAlg::Sha1, DhGroup::Modp1536),
    ]
    .into_iter()
    .map(|(c, h, g)| IkeTransform {
        lifetime: 86400,
        ..IkeTransform::new(c, h, AuthMethod::Psk, g)
    })
    .collect();
    let esp = vec![
        IpsecTransform::Esp {
            cipher: CipherAlg::Aes256,
            integ: Some(IntegAlg::HmacSha1_96),
        },
        IpsecTransform::Esp {
            cipher: CipherAlg::Aes128,
            integ: Some(IntegAlg::HmacSha2_256_128),
        },
    ];
    let configure = |mut c: ConnConfig| {
        c.ike = ike.clone();
        c.esp = esp.clone();
        c.pfs_group = Some(DhGroup::Modp1536);
        c.ipsec_lifetime = 86400;
        c
    };
    let (w, e) = conn_pair("west-east", policy);
    let (w, e) = (configure(w), configure(e));
    let mut net = pair(2, false, w.clone(), e, "pfs secret", "pfs secret");
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(5));
    established(&net);

    // First without keys, to get the cleartext part; then with the key.
    let plain = dissect(&ts, "pfs-nokey", &net, &[]);
    check_clean("pfs-nokey", &plain);
    let clear_msgs = check_frames(&net, &plain, false);
    let key = null_dh_phase1_key(&clear_msgs, b"pfs secret");
    let d = dissect(&ts, "pfs", &net, &[key]);
    let findings = check_clean("pfs", &d);
    let msgs = check_frames(&net, &d, true);

    let exchanges: Vec<u8> = msgs.iter().map(|m| m.hdr.exchange).collect();
    let q = exchange::QUICK;
    assert_eq!(exchanges, [2, 2, 2, 2, 2, 2, q, q, q], "MM1-6 then QM1-3");

    let offered = ike_sa_payload(&ike);
    let group = check_main_mode_clear(&msgs, &offered);
    assert_eq!(
        group,
        DhGroup::Modp2048,
        "responder takes our first transform"
    );
    // The one-day lifetime does not fit 16 bits: a TLV with 4 value bytes.
    let sa1 = msgs[0].sa().1;
    assert_eq!(
        attr_showname(sa1, 0, 12),
        "IKE Attribute (t=12,l=4): Life-Duration: 86400"
    );
    assert_eq!(
        attr_showname(sa1, 0, 1),
        "IKE Attribute (t=1,l=2): Encryption-Algorithm: AES-CBC"
    );
    assert_eq!(
        attr_showname(sa1, 0, 14),
        "IKE Attribute (t=14,l=2): Key-Length: 256"
    );
    assert_eq!(
        attr_showname(sa1, 0, 2),
        "IKE Attribute (t=2,l=2): Hash-Algorithm: SHA2-256"
    );
    assert_eq!(
        attr_showname(sa1, 0, 4),
        "IKE Attribute (t=4,l=2): Group-Description: 2048 bit MODP group"
    );
    assert_eq!(
        attr_showname(sa1, 1, 14),
        "IKE Attribute (t=14,l=2): Key-Length: 128"
    );
    let life = &offered.proposals[0].transforms[0].attributes[1];
    assert_eq!(
        life.value,
        AttrValue::Variable(86400u32.to_be_bytes().to_vec())
    );

    // Main Mode 5/6, decrypted by tshark: ID and HASH (SHA2-256, 32 bytes).
    let prf_len = HashAlg::Sha256.output_len();
    for (m, addr) in [(&msgs[4], ip(1)), (&msgs[5], ip(2))] {
        let IpAddr::V4(a) = addr else { unreachable!() };
        match m.payload(payload_type::ID).0 {
            Payload::Id(id) => assert_eq!(id.id, Identity::Ipv4(a), "frame {}", m.frame),
            _ => unreachable!(),
        }
        assert_eq!(
            m.bytes_of(payload_type::HASH).len(),
            prf_len,
            "frame {}",
            m.frame
        );
    }

    // Quick Mode 1: HASH(1), SA, Ni, KE (PFS group 5), IDci, IDcr.
    let (qi1, qr1, qi2) = (&msgs[6], &msgs[7], &msgs[8]);
    let tys: Vec<u8> = qi1.payloads.iter().map(|p| p.payload.ty()).collect();
    assert_eq!(tys, [8, 1, 10, 4, 5, 5], "QI1 payload order");
    assert_eq!(qi1.bytes_of(payload_type::HASH).len(), prf_len);
    let (sa, sa_node) = qi1.sa();
    let spi = u32::from_be_bytes(sa.proposals[0].spi.clone().try_into().expect("4-byte SPI"));
    let expected = ipsec_sa_payload(
        &default_ipsec_proposals(&w.policy, &esp),
        &|p| {
            assert_eq!(p, IpsecProto::Esp);
            spi
        },
        Mode::Tunnel,
        Some(DhGroup::Modp1536),
        86400,
    );
    check_sa(sa_node, &expected, "QI1 SA vs proposal code");
    assert_eq!(sa, &expected);
    let prop = sa_node.kid("isakmp.typepayload", "QI1 SA");
    assert_eq!(
        prop.kid("isakmp.prop.protoid", "QI1").showname(),
        "Protocol ID: IPSEC_ESP (3)"
    );
    assert_eq!(
        attr_showname(sa_node, 0, 2),
        "IPsec Attribute (t=2,l=4): SA-Life-Duration: 86400"
    );
    assert_eq!(
        attr_showname(sa_node, 0, 3),
        "IPsec Attribute (t=3,l=2): Group-Description: 1536 bit MODP group"
    );
    assert_eq!(
        attr_showname(sa_node, 0, 6),
        "IPsec Attribute (t=6,l=2): Key-Length: 256"
    );
    for m in [qi1, qr1] {
        let (_, ke) = m.payload(payload_type::KE);
        assert_eq!(
            ke.kid("isakmp.key_exchange.data", "KE").size(),
            DhGroup::Modp1536.len(),
            "frame {}",
            m.frame
        );
        assert_eq!(
            m.bytes_of(payload_type::NONCE).len(),
            32,
            "frame {}",
            m.frame
        );
        let ids: Vec<Identity> = m
            .payloads_of(payload_type::ID)
            .iter()
            .map(|(p, _)| match p {
                Payload::Id(id) => id.id.clone(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            ids,
            [subnet_id(1), subnet_id(2)],
            "frame {}: IDci, IDcr",
            m.frame
        );
    }
    // QR1 answers with one of the offered transforms, its own SPI.
    let (sa_r, _) = qr1.sa();
    let [p] = sa_r.proposals.as_slice() else {
        panic!("QR1: {} proposals", sa_r.proposals.len())
    };
    let [t] = p.transforms.as_slice() else {
        panic!("QR1: {} transforms", p.transforms.len())
    };
    assert_eq!(
        t, &expected.proposals[0].transforms[0],
        "QR1 picks our first ESP transform"
    );
    assert_ne!(p.spi, sa.proposals[0].spi, "each side its own SPI");
    // QI2: HASH(3) only.
    let tys: Vec<u8> = qi2.payloads.iter().map(|p| p.payload.ty()).collect();
    assert_eq!(tys, [payload_type::HASH]);
    for m in &msgs[6..] {
        assert_eq!(m.hdr.msgid, qi1.hdr.msgid);
        assert_ne!(m.hdr.msgid, 0);
    }
    summary("pfs-aes", &ts, &msgs, &findings);
}

/// A proposal the responder refuses: MI1 is answered by a cleartext
/// Informational carrying NO_PROPOSAL_CHOSEN (14).
#[test]
fn refused_proposal_notify_dissects() {
    let ts = tshark();
    let (mut w, mut e) = conn_pair("west-east", esp_tunnel_policy());
    w.ike = vec![IkeTransform::new(
        CipherAlg::Aes256,
        HashAlg::Sha256,
        AuthMethod::Psk,
        DhGroup::Modp2048,
    )];
    e.ike = vec![IkeTransform::new(
        CipherAlg::Des3,
        HashAlg::Md5,
        AuthMethod::Psk,
        DhGroup::Modp1536,
    )];
    let offered = ike_sa_payload(&w.ike);
    let mut net = pair(3, true, w, e, "secret", "secret");
    net.command(0, Command::Initiate("west-east".into()));
    // Long enough for MI1 to be retransmitted once (10 s timer).
    net.run(Duration::from_secs(25));
    assert_eq!(net.nodes[0].established(false), 0);

    let d = dissect(&ts, "refused", &net, &[]);
    let findings = check_clean("refused", &d);
    let msgs = check_frames(&net, &d, false);
    let mi1 = &msgs[0];
    assert_eq!(mi1.hdr.exchange, exchange::IDENTITY_PROTECTION);
    let (sa, node) = mi1.sa();
    check_sa(node, &offered, "MI1 SA vs proposal code");
    assert_eq!(sa, &offered);

    let infos: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.hdr.exchange == exchange::INFORMATIONAL)
        .collect();
    assert!(!infos.is_empty(), "no Informational was sent");
    for m in &msgs {
        let ctx = format!("frame {}", m.frame);
        assert!(
            !m.encrypted,
            "{ctx}: nothing is encrypted before keys exist"
        );
        assert_eq!(m.hdr.icookie, mi1.hdr.icookie, "{ctx}");
        assert_eq!(
            m.hdr.rcookie, [0; 8],
            "{ctx}: no responder state, no cookie"
        );
        if m.hdr.exchange == exchange::INFORMATIONAL {
            assert_eq!(m.exchange_name, "Informational", "{ctx}");
            assert_eq!(m.hdr.msgid, 0, "{ctx}");
            assert_eq!(m.from.ip(), ip(2), "{ctx}: from the responder");
            let tys: Vec<u8> = m.payloads.iter().map(|p| p.payload.ty()).collect();
            assert_eq!(tys, [payload_type::N], "{ctx}");
            let (_, n) = m.payload(payload_type::N);
            let mt = n.kid("isakmp.notify.msgtype", &ctx);
            assert_eq!(
                mt.num(),
                u64::from(notify_type::NO_PROPOSAL_CHOSEN),
                "{ctx}"
            );
            assert_eq!(mt.num(), 14);
            assert_eq!(
                mt.showname(),
                "Notify Message Type: NO-PROPOSAL-CHOSEN (14)",
                "{ctx}"
            );
            assert_eq!(
                n.kid("isakmp.notify.protoid", &ctx).num(),
                u64::from(protocol::ISAKMP),
                "{ctx}"
            );
            assert_eq!(n.kid("isakmp.spisize", &ctx).num(), 0, "{ctx}");
        } else {
            assert_eq!(m.hdr.exchange, exchange::IDENTITY_PROTECTION, "{ctx}");
            assert_eq!(m.plain, mi1.plain, "{ctx}: a retransmission of MI1");
        }
    }
    summary("refused", &ts, &msgs, &findings);
}
