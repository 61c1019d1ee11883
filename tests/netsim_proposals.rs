//! Every suite we negotiate, end to end: (a) each phase-1 suite and each
//! IPsec transform set, checking that both ends derive the same keys with
//! inbound and outbound swapped; (b) Quick Mode with PFS.
mod common;
use common::sim::*;
use rswan::ike::crypto::{CipherAlg, DhGroup, HashAlg};
use rswan::ike::kernel::{IntegAlg, IpsecProto, Mode, ProtoSet, SaInstall};
use rswan::ike::proposal::{AuthMethod, IkeTransform, IpsecTransform};
use rswan::ike::wire::{exchange, parse_header};
use rswan::ike::{Command, ConnConfig, Event, Policy};
use std::time::{Duration, Instant};

const CIPHERS: [CipherAlg; 4] = [
    CipherAlg::Des3,
    CipherAlg::Aes128,
    CipherAlg::Aes192,
    CipherAlg::Aes256,
];
const HASHES: [HashAlg; 5] = [
    HashAlg::Md5,
    HashAlg::Sha1,
    HashAlg::Sha256,
    HashAlg::Sha384,
    HashAlg::Sha512,
];
const GROUPS: [DhGroup; 3] = [DhGroup::Modp1024, DhGroup::Modp1536, DhGroup::Modp2048];
const INTEGS: [IntegAlg; 3] = [
    IntegAlg::HmacMd5_96,
    IntegAlg::HmacSha1_96,
    IntegAlg::HmacSha2_256_128,
];

/// One negotiation to run.
#[derive(Clone)]
struct Case {
    policy: Policy,
    ike: Option<IkeTransform>,
    esp: Vec<IpsecTransform>,
    /// Hosts only (no client subnets).
    host_to_host: bool,
    real_dh: bool,
    pfs_group: Option<DhGroup>,
}

impl Case {
    fn new(policy: Policy) -> Case {
        Case {
            policy,
            ike: None,
            esp: Vec::new(),
            host_to_host: false,
            real_dh: false,
            pfs_group: None,
        }
    }

    fn conns(&self) -> (ConnConfig, ConnConfig) {
        let (mut w, mut e) = conn_pair("west-east", self.policy);
        for c in [&mut w, &mut e] {
            c.ike = self.ike.into_iter().collect();
            c.esp = self.esp.clone();
            c.pfs_group = self.pfs_group;
            if self.host_to_host {
                c.local.client = None;
                c.remote.client = None;
            }
        }
        (w, e)
    }

    fn label(&self) -> String {
        format!(
            "ike={} esp={:?} policy={:?} h2h={} real_dh={} pfs_group={:?}",
            self.ike.map_or("default".into(), |t| t.to_string()),
            self.esp,
            self.policy,
            self.host_to_host,
            self.real_dh,
            self.pfs_group
        )
    }
}

fn psk(cipher: CipherAlg, hash: HashAlg, group: DhGroup) -> IkeTransform {
    IkeTransform::new(cipher, hash, AuthMethod::Psk, group)
}

fn esp(cipher: CipherAlg, integ: IntegAlg) -> IpsecTransform {
    IpsecTransform::Esp {
        cipher,
        integ: Some(integ),
    }
}

/// Runs `case` to completion and checks that MM and QM finished on both ends.
fn run_case(seed: u64, case: &Case) -> Net {
    let (w, e) = case.conns();
    let mut net = pair(
        seed,
        case.real_dh,
        w,
        e,
        "squeamish ossifrage",
        "squeamish ossifrage",
    );
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(5));
    let ok = (0..2).all(|i| net.nodes[i].established(false) == 1)
        && (0..2).all(|i| net.nodes[i].established(true) == 1)
        && net.nodes.iter().all(|n| n.states().len() == 2);
    assert!(
        ok,
        "{}: did not come up\n{}{}",
        case.label(),
        net.nodes[0].dump_logs(),
        net.nodes[1].dump_logs()
    );
    if let Some(t) = case.ike {
        // The old pluto's wording: oakley_* names, key and group sizes in bits.
        let cipher = match t.cipher {
            CipherAlg::Des3 => "oakley_3des_cbc",
            _ => "oakley_aes_cbc",
        };
        let prf = match t.hash {
            HashAlg::Md5 => "oakley_md5",
            HashAlg::Sha1 => "oakley_sha",
            HashAlg::Sha256 => "oakley_sha2_256",
            HashAlg::Sha384 => "oakley_sha2_384",
            HashAlg::Sha512 => "oakley_sha2_512",
        };
        let want = format!(
            "{{auth=OAKLEY_PRESHARED_KEY cipher={cipher}_{} prf={prf} group=modp{}}}",
            t.cipher.key_len() * 8,
            t.group.len() * 8
        );
        for n in &net.nodes {
            assert!(
                n.log_contains(&want),
                "{}: {} lacks {want}",
                case.label(),
                n.name
            );
        }
    }
    net
}

/// What one protocol of the negotiated SA bundle should carry.
struct Want {
    proto: IpsecProto,
    cipher: Option<CipherAlg>,
    integ: Option<IntegAlg>,
}

fn want(proto: IpsecProto, cipher: Option<CipherAlg>, integ: Option<IntegAlg>) -> Want {
    Want {
        proto,
        cipher,
        integ,
    }
}

/// The SA as the other end must have it: everything but the direction and
/// the node-local reqid.
fn twin_key(s: &SaInstall) -> impl PartialEq + core::fmt::Debug + '_ {
    (
        (s.proto, s.spi, s.src, s.dst, s.mode),
        (&s.encrypt, &s.integ, s.compress, s.lifetime_secs),
        (s.src_sel, s.dst_sel),
    )
}

fn one(n: &Node, proto: IpsecProto, inbound: bool) -> &SaInstall {
    let v: Vec<&SaInstall> = n
        .kernel
        .sas
        .iter()
        .filter(|s| s.proto == proto && s.inbound == inbound)
        .collect();
    assert_eq!(v.len(), 1, "{}: {proto:?} inbound={inbound}: {v:?}", n.name);
    v[0]
}

/// Both ends hold the same SAs with in/out swapped, keys of the right length,
/// inbound and outbound keys distinct, SPIs and CPIs in range.
fn check_keys(net: &Net, label: &str, wants: &[Want], mode: Mode) {
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    for n in [west, east] {
        assert_eq!(n.kernel.sas.len(), wants.len() * 2, "{label}: {}", n.name);
        assert_eq!(n.kernel.policies.len(), 2, "{label}: {}", n.name);
        assert!(n.kernel.larval.is_empty(), "{label}: {}", n.name);
        // One GETSPI per protocol, in the range RFC 2407 / pluto use.
        assert_eq!(n.kernel.spi_requests.len(), wants.len(), "{label}");
        for (proto, min, max) in &n.kernel.spi_requests {
            let want = match proto {
                IpsecProto::Ipcomp => (256, 61439),
                _ => (0x1000, u32::MAX),
            };
            assert_eq!((*min, *max), want, "{label}: {proto:?}");
        }
    }
    net.check_settled(0, 1)
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    for w in wants {
        for (a, b) in [(west, east), (east, west)] {
            let out = one(a, w.proto, false);
            let inb = one(b, w.proto, true);
            assert_eq!(
                twin_key(out),
                twin_key(inb),
                "{label}: {} -> {}",
                a.name,
                b.name
            );
            assert_eq!(out.mode, mode, "{label}");
            let mine_in = one(a, w.proto, true);
            assert_ne!(
                mine_in.spi, out.spi,
                "{label}: {} uses one SPI both ways",
                a.name
            );
            for s in [out, mine_in] {
                match w.proto {
                    IpsecProto::Ipcomp => {
                        assert!((256..=61439).contains(&s.spi), "{label}: CPI {:#x}", s.spi);
                        assert_eq!(s.compress, Some(2), "{label}");
                    }
                    _ => assert!(s.spi >= 0x1000, "{label}: SPI {:#x}", s.spi),
                }
                assert_eq!(s.encrypt.as_ref().map(|e| e.0), w.cipher, "{label}");
                assert_eq!(s.integ.as_ref().map(|i| i.0), w.integ, "{label}");
                if let Some((c, k)) = &s.encrypt {
                    assert_eq!(k.len(), c.key_len(), "{label}: {c:?} key");
                    assert!(k.iter().any(|b| *b != 0), "{label}: all-zero key");
                }
                if let Some((i, k)) = &s.integ {
                    assert_eq!(k.len(), i.key_len(), "{label}: {i:?} key");
                    assert!(k.iter().any(|b| *b != 0), "{label}: all-zero key");
                }
            }
            if w.cipher.is_some() {
                assert_ne!(mine_in.encrypt, out.encrypt, "{label}: same key both ways");
            }
            if w.integ.is_some() {
                assert_ne!(mine_in.integ, out.integ, "{label}: same key both ways");
            }
        }
    }
}

fn default_esp() -> Want {
    want(
        IpsecProto::Esp,
        Some(CipherAlg::Aes128),
        Some(IntegAlg::HmacSha1_96),
    )
}

#[test]
fn a_every_proposal_combination() {
    let started = Instant::now();
    let mut runs = 0u64;
    // Every phase-1 suite, each with every ESP transform (null DH: fast).
    for (ci, cipher) in CIPHERS.into_iter().enumerate() {
        for (hi, hash) in HASHES.into_iter().enumerate() {
            for (gi, group) in GROUPS.into_iter().enumerate() {
                for ec in CIPHERS {
                    for integ in INTEGS {
                        let mut case = Case::new(esp_tunnel_policy());
                        case.ike = Some(psk(cipher, hash, group));
                        case.esp = vec![esp(ec, integ)];
                        runs += 1;
                        let seed = 1000 + (ci * 100 + hi * 10 + gi) as u64 * 64 + runs;
                        let net = run_case(seed, &case);
                        let w = want(IpsecProto::Esp, Some(ec), Some(integ));
                        check_keys(&net, &case.label(), &[w], Mode::Tunnel);
                    }
                }
            }
        }
    }
    assert_eq!(runs, 60 * 12);
    eprintln!("{runs} suite combinations in {:?}", started.elapsed());
}

#[test]
fn a_every_dh_group_with_real_modp() {
    for (i, group) in GROUPS.into_iter().enumerate() {
        let mut case = Case::new(esp_tunnel_policy());
        case.ike = Some(psk(CIPHERS[i + 1], HASHES[i + 1], group));
        case.real_dh = true;
        let net = run_case(7 + i as u64, &case);
        check_keys(&net, &case.label(), &[default_esp()], Mode::Tunnel);
    }
}

#[test]
fn a_ah_only() {
    let mut policy = esp_tunnel_policy();
    policy.encrypt = false;
    policy.authenticate = true;
    let case = Case::new(policy);
    let net = run_case(21, &case);
    let ah = want(IpsecProto::Ah, None, Some(IntegAlg::HmacSha1_96));
    check_keys(&net, &case.label(), &[ah], Mode::Tunnel);
    let only_ah: ProtoSet = [IpsecProto::Ah].into_iter().collect();
    assert_eq!(net.nodes[0].kernel.policies[0].protos, only_ah);
}

#[test]
fn a_ah_plus_esp() {
    let mut policy = esp_tunnel_policy();
    policy.authenticate = true;
    let case = Case::new(policy);
    let net = run_case(22, &case);
    let ah = want(IpsecProto::Ah, None, Some(IntegAlg::HmacSha1_96));
    let esp = want(IpsecProto::Esp, Some(CipherAlg::Des3), None);
    check_keys(&net, &case.label(), &[ah, esp], Mode::Tunnel);
    let both: ProtoSet = [IpsecProto::Ah, IpsecProto::Esp].into_iter().collect();
    assert_eq!(net.nodes[1].kernel.policies[0].protos, both);
    assert!(!both.contains(IpsecProto::Ipcomp));
}

#[test]
fn a_esp_plus_ipcomp() {
    let mut policy = esp_tunnel_policy();
    policy.compress = true;
    let case = Case::new(policy);
    let net = run_case(23, &case);
    let comp = want(IpsecProto::Ipcomp, None, None);
    check_keys(&net, &case.label(), &[default_esp(), comp], Mode::Tunnel);
}

#[test]
fn a_transport_mode_host_to_host() {
    for (seed, real_dh) in [(24, false), (25, true)] {
        let mut policy = esp_tunnel_policy();
        policy.tunnel = false;
        let mut case = Case::new(policy);
        case.host_to_host = true;
        case.real_dh = real_dh;
        let net = run_case(seed, &case);
        check_keys(&net, &case.label(), &[default_esp()], Mode::Transport);
        let sa = one(&net.nodes[0], IpsecProto::Esp, false);
        assert_eq!((sa.src_sel.addr, sa.src_sel.prefix), (ip(1), 32));
        assert_eq!((sa.dst_sel.addr, sa.dst_sel.prefix), (ip(2), 32));
    }
}

/// Size of the first Quick Mode datagram (QI1) on the wire.
fn qi1_len(net: &Net) -> usize {
    net.wire
        .iter()
        .find(|p| parse_header(&p.data).is_ok_and(|(h, _)| h.exchange == exchange::QUICK))
        .map(|p| p.data.len())
        .expect("no Quick Mode message")
}

fn esp_keys(net: &Net) -> (Vec<u8>, Vec<u8>) {
    let sa = one(&net.nodes[0], IpsecProto::Esp, false);
    let enc = sa.encrypt.as_ref().map(|x| x.1.clone());
    let integ = sa.integ.as_ref().map(|x| x.1.clone());
    (enc.unwrap_or_default(), integ.unwrap_or_default())
}

#[test]
fn b_pfs() {
    let ike = psk(CipherAlg::Aes128, HashAlg::Sha256, DhGroup::Modp1024);
    let mut base = Case::new(esp_tunnel_policy());
    base.ike = Some(ike);
    base.real_dh = true;
    let plain = run_case(31, &base);
    check_keys(&plain, "no PFS", &[default_esp()], Mode::Tunnel);

    // PFS with the phase-1 group, then with another one.
    for (pfs_group, ke_len) in [(None, 128), (Some(DhGroup::Modp2048), 256)] {
        let mut case = base.clone();
        case.policy.pfs = true;
        case.pfs_group = pfs_group;
        let net = run_case(31, &case);
        check_keys(&net, &case.label(), &[default_esp()], Mode::Tunnel);
        // QI1 (and QR1) carry a KE payload of the group's size.
        assert!(
            qi1_len(&net) >= qi1_len(&plain) + ke_len + 4,
            "{}: QI1 {} bytes, without PFS {}",
            case.label(),
            qi1_len(&net),
            qi1_len(&plain)
        );
        assert_ne!(
            esp_keys(&net),
            esp_keys(&plain),
            "{}: same KEYMAT",
            case.label()
        );
    }
}

#[test]
fn b_pfs_responder_refuses_proposal_without_group() {
    let (mut w, e) = Case::new(Policy {
        pfs: true,
        ..esp_tunnel_policy()
    })
    .conns();
    w.policy.pfs = false;
    let mut net = pair(32, false, w, e, "secret", "secret");
    net.command(0, Command::Initiate("west-east".into()));
    net.run(Duration::from_secs(600));
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    let logs = format!("{}{}", west.dump_logs(), east.dump_logs());
    let refusal = east
        .log_lines()
        .find(|l| {
            l.text
                .contains("Quick Mode request refused: no acceptable proposal")
        })
        .unwrap_or_else(|| panic!("east did not refuse\n{logs}"));
    assert_eq!(refusal.rc, Some(rswan::ctl::Rc::Notification(14)), "{logs}");
    assert!(
        refusal.text.contains("(without PFS); we allow")
            && refusal.text.ends_with("(with PFS only)"),
        "{}",
        refusal.text
    );
    // The protected NO_PROPOSAL_CHOSEN reached west, which logged it.
    assert!(west.log_contains("NO_PROPOSAL_CHOSEN"), "{logs}");
    for n in [west, east] {
        assert_eq!(n.established(false), 1, "{logs}");
        assert_eq!(n.established(true), 0, "{logs}");
        assert!(n.kernel.sas.is_empty(), "{logs}");
        assert!(n.kernel.policies.is_empty(), "{logs}");
    }
    assert!(
        !east
            .events
            .iter()
            .any(|e| matches!(e, Event::Established { ipsec: true, .. })),
        "{logs}"
    );
    net.check_settled(0, 1)
        .unwrap_or_else(|e| panic!("{e}\n{logs}"));
}
