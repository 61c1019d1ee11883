//! The PF_KEY ↔ XFRM translation: what `ipsec spi` / `ipsec eroute` send
//! through it must be what the XFRM builders make of the same SA or policy
//! (and so what iproute2 sends), and dumps must read back as `af_key`'s.
use super::*;
use crate::pfkey::build as pb;
use crate::pfkey::consts as pf;
use crate::xfrm::afkey::*;
use crate::xfrm::wire::Header;

fn spi_req(words: &[&str]) -> crate::spi::Request {
    let mut a = crate::spi::Args::default();
    let mut it = words.iter();
    while let Some(w) = it.next() {
        let v = || it.clone().next().map(|s| s.to_string());
        match *w {
            "--esp" | "--ah" | "--comp" => {
                a.action = w.trim_start_matches("--").into();
                a.alg = v();
            }
            "--said" => a.said = v(),
            "--src" => a.src = v(),
            "--enckey" => a.enckey = v(),
            "--authkey" => a.authkey = v(),
            "--replay_window" => a.replay_window = v(),
            "--life" => a.life = v(),
            "--del" => {
                a.action = "del".into();
                continue;
            }
            _ => panic!("{w}"),
        }
        it.next();
    }
    crate::spi::Request::from_args(&a).unwrap()
}

#[test]
fn spi_add_becomes_the_builders_newsa() {
    let enc = format!("0x{}", "21".repeat(24));
    let auth = format!("0x{}", "01".repeat(20));
    let req = spi_req(&[
        "--esp",
        "3des-sha1-96",
        "--said",
        "esp.1001@192.0.2.2",
        "--src",
        "192.0.2.1",
        "--enckey",
        &enc,
        "--authkey",
        &auth,
        "--replay_window",
        "32",
        "--life",
        "soft-addtime=2700,hard-addtime=3600,hard-packets=9",
    ]);
    let pfk = crate::spi::message::netkey_message(&req, 1).unwrap();
    let x = request_to_xfrm(&pfk).unwrap();
    let spec = SaSpec {
        mode: XFRM_MODE_TUNNEL,
        reqid: 0x1001,
        replay_window: 32,
        auth: Some(AuthKey {
            name: "hmac(sha1)".into(),
            key: vec![1; 20],
            trunc_bits: 96,
        }),
        crypt: Some(AlgKey {
            name: "cbc(des3_ede)".into(),
            key: vec![0x21; 24],
        }),
        lifetimes: Lifetimes {
            soft_add_secs: 2700,
            hard_add_secs: 3600,
            hard_packets: 9,
            ..Lifetimes::default()
        },
        ..SaSpec::new(IPPROTO_ESP, 0x1001, v4(192, 0, 2, 1), v4(192, 0, 2, 2))
    };
    assert_eq!(x, new_sa(&spec), "{}", x.summary());

    let del = crate::spi::message::netkey_message(
        &spi_req(&[
            "--del",
            "--said",
            "esp.1001@192.0.2.2",
            "--src",
            "192.0.2.1",
        ]),
        1,
    )
    .unwrap();
    assert_eq!(
        request_to_xfrm(&del).unwrap(),
        del_sa(IPPROTO_ESP, 0x1001, v4(192, 0, 2, 1), v4(192, 0, 2, 2))
    );
    assert_eq!(
        request_to_xfrm(&pb::flush(pf::SADB_SATYPE_UNSPEC, 1, 1)).unwrap(),
        flush_sa(0)
    );
    assert_eq!(
        request_to_xfrm(&pb::flush(pf::SADB_SATYPE_AH, 1, 1)).unwrap(),
        flush_sa(IPPROTO_AH)
    );
    assert_eq!(
        request_to_xfrm(&pb::spd_flush(1, 1)).unwrap(),
        flush_policy()
    );
    assert_eq!(request_to_xfrm(&pb::dump(0, 1, 1)).unwrap(), dump_sa());
    assert_eq!(request_to_xfrm(&pb::spd_dump(1, 1)).unwrap(), dump_policy());
    assert!(request_to_xfrm(&pb::register(pf::SADB_SATYPE_ESP, 1, 1)).is_err());
}

#[test]
fn spd_entries_become_the_builders_policies() {
    let src = pb::Selector::subnet(v4(10, 1, 0, 0), 16);
    let dst = pb::Selector::subnet(v4(10, 2, 0, 0), 16);
    let spec = pb::PolicySpec {
        dir: pf::IPSEC_DIR_OUTBOUND,
        src,
        dst,
        priority: 122880,
        action: pb::PolicyAction::Ipsec(pb::IpsecSpec {
            tunnel: Some((v4(192, 0, 2, 1), v4(192, 0, 2, 2))),
            level: pf::IPSEC_LEVEL_UNIQUE,
            ..pb::IpsecSpec::new(16)
        }),
    };
    let x = request_to_xfrm(&pb::spd_add(&spec, 1, 1)).unwrap();
    assert_eq!(x, new_policy(&out_policy()));
    #[cfg(target_endian = "little")]
    {
        let mut b = x.emit();
        b[8..12].fill(0);
        assert_eq!(b, request(fixtures::NEWPOLICY_OUT_TUNNEL));
    }
    // Back: the dump entry af_key would send for it.
    let back = policy_to_pfkey(&x).unwrap();
    let sent = pb::spd_add(&spec, 1, 1);
    assert_eq!(back.address_src(), sent.address_src());
    assert_eq!(back.address_dst(), sent.address_dst());
    assert_eq!(back.policy(), sent.policy());
    assert_eq!(back.header.msg_type, pf::linux::SADB_X_SPDDUMP);

    // REQUIRE keeps no reqid; USE is optional; shunts; ports and protocol.
    let tcp = pb::Selector {
        proto: IPPROTO_TCP,
        port: 25,
        ..dst
    };
    for (action, xaction, ntmpl) in [
        (pb::PolicyAction::Discard, XFRM_POLICY_BLOCK, 0),
        (pb::PolicyAction::None, XFRM_POLICY_ALLOW, 0),
        (
            pb::PolicyAction::Ipsec(pb::IpsecSpec {
                level: pf::IPSEC_LEVEL_USE,
                tunnel: Some((v4(0, 0, 0, 0), v4(0, 0, 0, 0))),
                ..pb::IpsecSpec::new(5)
            }),
            XFRM_POLICY_ALLOW,
            1,
        ),
    ] {
        // (af_key reads the protocol from the source selector.)
        let s = pb::PolicySpec {
            dir: pf::IPSEC_DIR_FWD,
            src: pb::Selector {
                proto: IPPROTO_TCP,
                ..src
            },
            dst: tcp,
            action,
            ..spec
        };
        let pm = pb::spd_update(&s, 1, 1);
        let x = request_to_xfrm(&pm).unwrap();
        assert_eq!(x.header.msg_type, XFRM_MSG_UPDPOLICY);
        let Body::Policy(p) = &x.body else { panic!() };
        assert_eq!(
            (p.dir, p.action, x.tmpls().len()),
            (XFRM_POLICY_FWD, xaction, ntmpl)
        );
        assert_eq!(
            (p.sel.proto, p.sel.dport, p.sel.dport_mask),
            (IPPROTO_TCP, 25, 0xffff)
        );
        if ntmpl == 1 {
            let t = x.tmpls()[0];
            assert_eq!((t.optional, t.reqid, t.daddr_is_zero()), (1, 0, true));
        }
        let back = policy_to_pfkey(&x).unwrap();
        assert_eq!(
            back.policy().unwrap().policy_type,
            pm.policy().unwrap().policy_type
        );
        assert_eq!(back.address_dst(), pm.address_dst());
        // Only UNIQUE keeps a reqid (parse_ipsecrequest).
        let mut want = pm.policy().unwrap().requests.clone();
        want.iter_mut().for_each(|r| r.reqid = 0);
        assert_eq!(back.policy().unwrap().requests, want);
    }
    let del = pb::spd_delete(pf::IPSEC_DIR_OUTBOUND, &src, &dst, 1, 1);
    assert_eq!(
        request_to_xfrm(&del).unwrap(),
        del_policy(&out_policy().selector, XFRM_POLICY_OUT)
    );
}

impl UserTmpl {
    fn daddr_is_zero(&self) -> bool {
        self.id.daddr == Addr::ZERO && self.saddr == Addr::ZERO
    }
}
use crate::xfrm::wire::UserTmpl;

#[test]
fn sa_dump_entries_read_like_af_keys() {
    let mut spec = esp_spec();
    spec.lifetimes.hard_packets = 100;
    let mut x = new_sa(&spec);
    x.header = Header::new(XFRM_MSG_NEWSA, NLM_F_MULTI);
    if let Body::Sa(info) = &mut x.body {
        info.curlft.packets = 12;
        info.curlft.bytes = 1440;
    }
    let m = sa_to_pfkey(&x).unwrap();
    assert_eq!(m.header.satype, pf::SADB_SATYPE_ESP);
    let sa = m.sa().unwrap();
    assert_eq!(
        (sa.spi, sa.replay, sa.auth, sa.encrypt),
        (
            0x1234_5678,
            32,
            pf::SADB_AALG_SHA1HMAC,
            pf::SADB_EALG_3DESCBC
        )
    );
    assert_eq!(m.lifetime_current().unwrap().allocations, 12);
    assert_eq!(m.lifetime_hard().unwrap().allocations, 100);
    assert_eq!(m.lifetime_hard().unwrap().bytes, 0);
    assert_eq!(m.lifetime_soft().unwrap().addtime, 2700);
    assert_eq!(m.key_auth().unwrap().bits, 160);
    assert_eq!(m.key_encrypt().unwrap().bits, 192);
    let s2 = m.sa2().unwrap();
    assert_eq!((s2.mode, s2.reqid), (pf::IPSEC_MODE_TUNNEL, 16));
    let line = crate::spi::listing::spi_line(&m, 0, &[]).unwrap();
    assert_eq!(
        line,
        "esp0x12345678@192.0.2.2 ESP_3DES_HMAC_SHA1: dir=out src=192.0.2.1 ooowin=32 alen=160 \
         aklen=160 eklen=192 life(c,s,h)=bytes(1440,0,0)addtime(0,2700,3600)packets(12,0,100) \
         natencap=none natsport=0 natdport=0"
    );
    // The kernel's own dump entry (a larval SA) reads too; policies are not SAs.
    let larval = Message::parse(&hex(fixtures::SA_DUMP_ENTRY)).unwrap();
    assert_eq!(sa_to_pfkey(&larval).unwrap().sa().unwrap().auth, 0);
    assert!(sa_to_pfkey(&new_policy(&out_policy())).is_none());
    let dumped = parse_datagram(&hex(fixtures::POLICY_DUMP_DATAGRAM)).unwrap();
    let p = policy_to_pfkey(&dumped[0]).unwrap();
    assert_eq!(p.policy().unwrap().requests[0].level, pf::IPSEC_LEVEL_USE);
    let p = policy_to_pfkey(&dumped[1]).unwrap();
    assert_eq!(
        p.policy().unwrap().requests[0].level,
        pf::IPSEC_LEVEL_UNIQUE
    );
}
