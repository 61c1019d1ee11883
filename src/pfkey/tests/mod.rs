//! Builder fixtures (hand-computed from `<linux/pfkeyv2.h>` / `<linux/ipsec.h>`),
//! round trips of every builder message, and the socket smoke test.
//!
//! The fixtures are little-endian: every PF_KEY field is host order except
//! the SPI, ports and addresses, so they are compared only on little-endian
//! hosts (x86, arm64); the round trips run everywhere.
use super::build::*;
use super::consts::*;
use super::wire::{IpsecRequest, Message};
use super::{KernelError, KernelErrorKind, PfkeyError, PfkeySocket};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub(crate) mod fixtures;

/// Hex to bytes; whitespace and `|` separators are ignored.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    assert_eq!(digits.len() % 2, 0, "odd number of hex digits");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

const PID: u32 = 1234;

/// Parses `m.emit()` back and checks it is the same message and the same bytes.
fn round_trip(m: &Message) -> Vec<u8> {
    let bytes = m.emit();
    assert_eq!(bytes.len() % 8, 0, "message not a whole number of words");
    assert_eq!(
        usize::from(u16::from_ne_bytes([bytes[4], bytes[5]])) * 8,
        bytes.len(),
        "sadb_msg_len"
    );
    let back = Message::parse_dialect(&bytes, m.dialect).unwrap();
    assert_eq!(&back, m, "repr round trip");
    assert_eq!(back.emit(), bytes, "byte round trip");
    bytes
}

fn esp_spec() -> SaSpec {
    SaSpec {
        satype: SADB_SATYPE_ESP,
        spi: 0x1234_5678,
        src: v4(192, 0, 2, 1),
        dst: v4(192, 0, 2, 2),
        mode: IPSEC_MODE_TUNNEL,
        reqid: 16,
        auth: Some(AlgKey {
            alg: SADB_AALG_SHA1HMAC,
            key: (0x01..=0x14).collect(),
        }),
        enc: Some(AlgKey {
            alg: SADB_EALG_3DESCBC,
            key: (0x21..=0x38).collect(),
        }),
        replay_window: 32,
        soft_secs: 2700,
        hard_secs: 3600,
        nat_t: None,
        proxy: None,
    }
}

fn tunnel_policy() -> PolicySpec {
    let src = Selector::subnet(v4(10, 1, 0, 0), 16);
    let dst = Selector::subnet(v4(10, 2, 0, 0), 16);
    PolicySpec {
        dir: IPSEC_DIR_OUTBOUND,
        src,
        dst,
        priority: policy_priority(&src, &dst),
        action: PolicyAction::Ipsec(IpsecSpec {
            tunnel: Some((v4(192, 0, 2, 1), v4(192, 0, 2, 2))),
            level: IPSEC_LEVEL_UNIQUE,
            ..IpsecSpec::new(16)
        }),
    }
}

#[test]
#[cfg(target_endian = "little")]
fn getspi_matches_fixture() {
    let m = getspi(
        SADB_SATYPE_ESP,
        v4(192, 0, 2, 2),
        v4(192, 0, 2, 1),
        0x100,
        0x0fff_ffff,
        1,
        PID,
    );
    assert_eq!(round_trip(&m), hex(fixtures::GETSPI));
}

#[test]
#[cfg(target_endian = "little")]
fn add_esp_3des_sha1_matches_fixture() {
    let m = add_sa(&esp_spec(), 2, PID);
    assert_eq!(round_trip(&m), hex(fixtures::ADD_ESP));
}

#[test]
#[cfg(target_endian = "little")]
fn spdadd_tunnel_matches_fixture() {
    let spec = tunnel_policy();
    assert_eq!(spec.priority, 0x1e000);
    let m = spd_add(&spec, 3, PID);
    assert_eq!(round_trip(&m), hex(fixtures::SPDADD_TUNNEL));
}

#[test]
#[cfg(target_endian = "little")]
fn delete_matches_fixture() {
    let m = delete_sa(
        SADB_SATYPE_ESP,
        0x1234_5678,
        v4(192, 0, 2, 1),
        v4(192, 0, 2, 2),
        4,
        PID,
    );
    assert_eq!(round_trip(&m), hex(fixtures::DELETE));
}

#[test]
#[cfg(target_endian = "little")]
fn header_only_messages_match_fixtures() {
    // 02 | type | errno 0 | satype | len 2 words | reserved | seq 5 | pid 1234.
    let cases = [
        (
            flush(SADB_SATYPE_UNSPEC, 5, PID),
            "02 09 00 00 0200 0000 05000000 d2040000",
        ),
        (spd_flush(5, PID), "02 13 00 00 0200 0000 05000000 d2040000"),
        (
            dump(SADB_SATYPE_ESP, 5, PID),
            "02 0a 00 03 0200 0000 05000000 d2040000",
        ),
        (spd_dump(5, PID), "02 12 00 00 0200 0000 05000000 d2040000"),
        (
            register(SADB_SATYPE_AH, 5, PID),
            "02 07 00 02 0200 0000 05000000 d2040000",
        ),
    ];
    for (m, want) in cases {
        assert_eq!(round_trip(&m), hex(want), "{}", m.summary());
    }
}

#[test]
fn every_builder_round_trips() {
    let v6a: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    let v6b: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));
    let mut msgs = vec![
        getspi(SADB_SATYPE_AH, v6a, v6b, 0x100, 0xffff_ffff, 1, PID),
        getspi(
            linux::SADB_X_SATYPE_IPCOMP,
            v4(1, 2, 3, 4),
            v4(5, 6, 7, 8),
            0x100,
            0xffff,
            1,
            PID,
        ),
        add_sa(&esp_spec(), 2, PID),
        update_sa(&esp_spec(), 2, PID),
        delete_sa(SADB_SATYPE_AH, 7, v6a, v6b, 3, PID),
        get_sa(SADB_SATYPE_ESP, 7, v6a, v6b, 3, PID),
        spd_add(&tunnel_policy(), 4, PID),
        spd_update(&tunnel_policy(), 4, PID),
        spd_delete(
            IPSEC_DIR_FWD,
            &Selector::host(v6a),
            &Selector::host(v6b),
            5,
            PID,
        ),
        flush(SADB_SATYPE_UNSPEC, 6, PID),
        spd_flush(6, PID),
        dump(SADB_SATYPE_UNSPEC, 6, PID),
        spd_dump(6, PID),
        register(SADB_SATYPE_ESP, 6, PID),
    ];
    // IPv6 ESP with NAT-T and AES; AH; IPCOMP.
    let mut nat = esp_spec();
    nat.src = v6a;
    nat.dst = v6b;
    nat.enc = Some(AlgKey {
        alg: SADB_X_EALG_AESCBC,
        key: vec![7; 16],
    });
    nat.nat_t = Some(NatT {
        encap_type: UDP_ENCAP_ESPINUDP,
        sport: 4500,
        dport: 4501,
        original_addr: Some(v4(10, 0, 0, 1)),
    });
    msgs.push(add_sa(&nat, 7, PID));
    let mut ah = esp_spec();
    ah.satype = SADB_SATYPE_AH;
    ah.enc = None;
    msgs.push(add_sa(&ah, 8, PID));
    let mut comp = esp_spec();
    comp.satype = linux::SADB_X_SATYPE_IPCOMP;
    comp.spi = 0x4242;
    comp.auth = None;
    comp.enc = Some(AlgKey {
        alg: SADB_X_CALG_DEFLATE,
        key: vec![],
    });
    msgs.push(update_sa(&comp, 9, PID));
    // Shunts and a full IPv6 bundle, every direction.
    for dir in [IPSEC_DIR_INBOUND, IPSEC_DIR_OUTBOUND, IPSEC_DIR_FWD] {
        for action in [
            PolicyAction::Discard,
            PolicyAction::None,
            PolicyAction::Ipsec(IpsecSpec {
                ipcomp: true,
                ah: true,
                tunnel: Some((v6a, v6b)),
                ..IpsecSpec::new(3)
            }),
        ] {
            let src = Selector {
                addr: v6a,
                prefixlen: 64,
                proto: IPPROTO_TCP,
                port: 80,
            };
            let dst = Selector::subnet(v6b, 48);
            msgs.push(spd_add(
                &PolicySpec {
                    dir,
                    src,
                    dst,
                    priority: policy_priority(&src, &dst),
                    action,
                },
                10,
                PID,
            ));
        }
    }
    for m in &msgs {
        round_trip(m);
    }
}

#[test]
fn add_sa_extension_rules() {
    let m = add_sa(&esp_spec(), 1, PID);
    let sa = m.sa().unwrap();
    assert_eq!(
        (sa.state, sa.auth, sa.encrypt, sa.replay),
        (SADB_SASTATE_MATURE, 3, 3, 32)
    );
    assert_eq!(m.key_auth().unwrap().bits, 160);
    assert_eq!(m.key_encrypt().unwrap().bits, 192);
    assert_eq!(m.lifetime_hard().unwrap().addtime, 3600);
    assert_eq!(m.lifetime_soft().unwrap().addtime, 2700);
    let sa2 = m.sa2().unwrap();
    assert_eq!((sa2.mode, sa2.reqid), (IPSEC_MODE_TUNNEL, 16));
    // Keys never appear in Debug output.
    let dbg = format!("{m:?} {:?}", esp_spec());
    assert!(!dbg.contains("33, 34"), "{dbg}");

    // IPCOMP: no 0-bit key (Linux refuses it for anything but NULL).
    let mut comp = esp_spec();
    comp.satype = linux::SADB_X_SATYPE_IPCOMP;
    comp.auth = None;
    comp.enc = Some(AlgKey {
        alg: SADB_X_CALG_DEFLATE,
        key: vec![],
    });
    let m = add_sa(&comp, 1, PID);
    assert!(m.key_encrypt().is_none() && m.key_auth().is_none());
    assert_eq!(m.sa().unwrap().encrypt, SADB_X_CALG_DEFLATE);

    // ESP with NULL encryption: KEY_ENCRYPT present with 0 bits (Linux wants it).
    let mut null = esp_spec();
    null.enc = Some(AlgKey {
        alg: SADB_EALG_NULL,
        key: vec![],
    });
    let m = add_sa(&null, 1, PID);
    assert_eq!(m.key_encrypt().unwrap().bits, 0);
    assert_eq!(round_trip(&m).len() % 8, 0);
}

#[test]
fn ipsecrequest_order_and_modes() {
    let a = v4(192, 0, 2, 1);
    let b = v4(192, 0, 2, 2);
    let tunnel = Some((SocketAddr::new(a, 0), SocketAddr::new(b, 0)));
    let spec = |dir| PolicySpec {
        dir,
        src: Selector::subnet(v4(10, 1, 0, 0), 16),
        dst: Selector::subnet(v4(10, 2, 0, 0), 16),
        priority: 0,
        action: PolicyAction::Ipsec(IpsecSpec {
            ipcomp: true,
            esp: true,
            ah: true,
            tunnel: Some((a, b)),
            reqid: 9,
            level: IPSEC_LEVEL_UNIQUE,
        }),
    };
    let out = spd_add(&spec(IPSEC_DIR_OUTBOUND), 1, PID);
    let reqs: Vec<IpsecRequest> = out.policy().unwrap().requests.clone();
    let rq = |proto: u8, mode, level, tunnel| IpsecRequest {
        proto: u16::from(proto),
        mode,
        level,
        reqid: 9,
        tunnel,
    };
    assert_eq!(
        reqs,
        vec![
            rq(IPPROTO_COMP, IPSEC_MODE_TUNNEL, IPSEC_LEVEL_UNIQUE, tunnel),
            rq(IPPROTO_ESP, IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_UNIQUE, None),
            rq(IPPROTO_AH, IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_UNIQUE, None),
        ]
    );
    // Inbound: IPCOMP optional (peers skip compressing small packets).
    let inb = spd_add(&spec(IPSEC_DIR_INBOUND), 1, PID);
    let levels: Vec<u8> = inb
        .policy()
        .unwrap()
        .requests
        .iter()
        .map(|r| r.level)
        .collect();
    assert_eq!(
        levels,
        vec![IPSEC_LEVEL_USE, IPSEC_LEVEL_UNIQUE, IPSEC_LEVEL_UNIQUE]
    );

    // Shunts carry no requests; selectors are masked and proto 0 means any.
    let shunt = spd_add(
        &PolicySpec {
            dir: IPSEC_DIR_OUTBOUND,
            src: Selector::subnet(v4(10, 1, 2, 3), 16),
            dst: Selector::host(v4(10, 2, 0, 9)),
            priority: 5,
            action: PolicyAction::Discard,
        },
        1,
        PID,
    );
    let p = shunt.policy().unwrap();
    assert_eq!((p.policy_type, p.requests.len()), (IPSEC_POLICY_DISCARD, 0));
    let src = shunt.address_src().unwrap();
    assert_eq!(
        (src.ip(), src.prefixlen, src.proto),
        (v4(10, 1, 0, 0), 16, IPSEC_ULPROTO_ANY)
    );
}

#[test]
fn kernel_errors_are_typed_and_readable() {
    let e = KernelError {
        dialect: super::Dialect::Linux,
        msg_type: SADB_ADD,
        errno: libc::EEXIST,
    };
    assert_eq!(e.kind(), KernelErrorKind::Exists);
    assert_eq!(
        e.to_string(),
        "kernel refused SADB_ADD: File exists (EEXIST)"
    );
    let e = KernelError {
        errno: libc::ENOSYS,
        ..e
    };
    assert_eq!(e.kind(), KernelErrorKind::AlgorithmMissing);
    assert!(e.to_string().contains("ENOSYS") && e.to_string().contains("algorithm"));
    let e = KernelError {
        msg_type: SADB_DELETE,
        errno: libc::ENOENT,
        ..e
    };
    assert_eq!(e.kind(), KernelErrorKind::NotFound);
    assert_eq!(
        PfkeyError::Kernel(e).to_string(),
        "kernel refused SADB_DELETE: No such file or directory (ENOENT)"
    );
    let e = KernelError {
        msg_type: linux::SADB_X_SPDADD,
        errno: libc::EINVAL,
        ..e
    };
    assert_eq!(e.kind(), KernelErrorKind::Invalid);
    assert!(e
        .to_string()
        .starts_with("kernel refused SADB_X_SPDADD: Invalid argument (EINVAL)"));
}

/// Opens a real PF_KEY socket. This host has none (EAFNOSUPPORT): the error
/// must then be typed and say so. In the lab VM (af_key loaded, root) the
/// socket opens and a REGISTER round trip must work.
#[test]
fn socket_open_or_typed_error() {
    let opened = PfkeySocket::open();
    if let Err(e) = &opened {
        eprintln!("PfkeySocket::open: {e}");
    }
    match opened {
        Err(e @ PfkeyError::Unavailable { errno }) => {
            assert!(errno == libc::EAFNOSUPPORT || errno == libc::EPROTONOSUPPORT);
            let text = e.to_string();
            assert!(text.contains("PF_KEY is not available"), "{text}");
            assert!(
                text.contains("EAFNOSUPPORT") || text.contains("EPROTONOSUPPORT"),
                "{text}"
            );
        }
        Err(
            e @ PfkeyError::Io {
                op: "socket",
                errno,
            },
        ) => {
            // PF_KEY exists but we are not allowed (not root).
            assert!(errno == libc::EPERM || errno == libc::EACCES, "{e}");
            assert!(e.to_string().contains("PF_KEY socket failed"), "{e}");
        }
        Err(e) => panic!("unexpected error opening PF_KEY: {e}"),
        Ok(mut s) => {
            use std::os::fd::AsRawFd;
            assert!(s.as_raw_fd() >= 0);
            let reply = s.request(register(SADB_SATYPE_ESP, 0, 0)).unwrap();
            assert_eq!(reply.header.msg_type, SADB_REGISTER);
            assert_eq!(reply.header.pid, s.pid());
            assert!(
                reply.find(super::ExtType::SupportedEncrypt).is_some() || reply.exts.is_empty()
            );
        }
    }
}
