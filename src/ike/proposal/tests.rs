//! The proposal tables against spec §6, and the choosing rules.

use super::*;
use crate::ike::config::Policy;
use crate::ike::crypto::{CipherAlg, DhGroup, HashAlg};
use crate::ike::error::{Incompatible, Reject};
use crate::ike::kernel::{IntegAlg, IpsecProto, Mode};
use crate::ike::wire::{AttrValue, Attribute, SaPayload, Transform};

fn attr(t: &Transform, ty: u16) -> Option<u64> {
    t.attributes
        .iter()
        .find(|a| a.ty == ty)
        .and_then(Attribute::as_u64)
}

#[test]
fn psk_default_table_is_the_seed_table_then_extras() {
    let t = default_ike_transforms(true, false, 3600);
    let seed: Vec<(CipherAlg, HashAlg, DhGroup)> = t
        .iter()
        .take(4)
        .map(|x| (x.cipher, x.hash, x.group))
        .collect();
    assert_eq!(
        seed,
        vec![
            (CipherAlg::Des3, HashAlg::Md5, DhGroup::Modp1536),
            (CipherAlg::Des3, HashAlg::Sha1, DhGroup::Modp1536),
            (CipherAlg::Des3, HashAlg::Sha1, DhGroup::Modp1024),
            (CipherAlg::Des3, HashAlg::Md5, DhGroup::Modp1024),
        ]
    );
    assert!(t
        .iter()
        .all(|x| x.auth == AuthMethod::Psk && x.lifetime == 3600));
    assert!(t
        .iter()
        .any(|x| x.cipher == CipherAlg::Aes128 && x.group == DhGroup::Modp2048));
    assert!(t.iter().any(|x| x.hash == HashAlg::Sha256));
}

#[test]
fn psk_and_rsa_table_interleaves_as_the_seed_does() {
    let t = default_ike_transforms(true, true, 3600);
    let auths: Vec<AuthMethod> = t.iter().take(8).map(|x| x.auth).collect();
    use AuthMethod::{Psk, RsaSig};
    assert_eq!(
        auths,
        vec![RsaSig, Psk, RsaSig, Psk, RsaSig, Psk, RsaSig, Psk]
    );
    assert_eq!(
        t.get(6).map(|x| (x.hash, x.group)),
        Some((HashAlg::Md5, DhGroup::Modp1024))
    );
}

#[test]
fn ike_sa_emits_attributes_in_seed_order_with_tlv_lifetime() {
    let mut x = IkeTransform::new(
        CipherAlg::Aes256,
        HashAlg::Sha1,
        AuthMethod::Psk,
        DhGroup::Modp2048,
    );
    x.lifetime = 86400;
    let sa = ike_sa_payload(&[x]);
    let p = &sa.proposals[0];
    assert_eq!((p.number, p.protocol, p.spi.len()), (0, 1, 0));
    let t = &p.transforms[0];
    assert_eq!((t.number, t.transform_id), (0, 1));
    let types: Vec<u16> = t.attributes.iter().map(|a| a.ty).collect();
    assert_eq!(types, vec![11, 12, 1, 2, 3, 4, 14]);
    assert_eq!(
        t.attributes[1].value,
        AttrValue::Variable(vec![0, 1, 0x51, 0x80])
    );
    assert_eq!(attr(t, 1), Some(7));
    assert_eq!(attr(t, 14), Some(256));
    assert_eq!(attr(t, 4), Some(14));
}

fn peer_sa(transforms: &[IkeTransform]) -> SaPayload {
    ike_sa_payload(transforms)
}

#[test]
fn responder_takes_first_acceptable_in_peer_order() {
    let ours = default_ike_transforms(true, false, 3600);
    let a = IkeTransform::new(
        CipherAlg::Aes128,
        HashAlg::Sha1,
        AuthMethod::Psk,
        DhGroup::Modp2048,
    );
    let b = IkeTransform::new(
        CipherAlg::Des3,
        HashAlg::Md5,
        AuthMethod::Psk,
        DhGroup::Modp1536,
    );
    let (chosen, reply) = select_ike(&peer_sa(&[a, b]), &ours).expect("acceptable");
    assert_eq!(chosen, a);
    // The reply echoes the peer's transform (number included).
    assert_eq!(reply.proposals[0].transforms.len(), 1);
    assert_eq!(
        reply.proposals[0].transforms[0],
        peer_sa(&[a, b]).proposals[0].transforms[0]
    );
    assert_eq!(parse_ike_reply(&reply, &[a, b]).expect("valid reply"), a);
}

#[test]
fn phase1_lifetime_over_a_day_is_refused_and_absent_is_3600() {
    let ours = default_ike_transforms(true, false, 3600);
    let mut long = IkeTransform::new(
        CipherAlg::Des3,
        HashAlg::Sha1,
        AuthMethod::Psk,
        DhGroup::Modp1536,
    );
    long.lifetime = 86401;
    let err = select_ike(&peer_sa(&[long]), &ours).expect_err("too long");
    assert!(
        err.to_string()
            .contains("86401 seconds which exceeds our limit 86400"),
        "{err}"
    );
    let mut sa = peer_sa(&[IkeTransform::new(
        CipherAlg::Des3,
        HashAlg::Sha1,
        AuthMethod::Psk,
        DhGroup::Modp1536,
    )]);
    sa.proposals[0].transforms[0]
        .attributes
        .retain(|a| a.ty != 11 && a.ty != 12);
    let (chosen, _) = select_ike(&sa, &ours).expect("acceptable");
    assert_eq!(chosen.lifetime, 3600);
}

#[test]
fn no_proposal_chosen_names_offered_and_allowed() {
    let ours = vec![IkeTransform::new(
        CipherAlg::Des3,
        HashAlg::Md5,
        AuthMethod::Psk,
        DhGroup::Modp1024,
    )];
    let theirs = IkeTransform::new(
        CipherAlg::Aes256,
        HashAlg::Sha512,
        AuthMethod::Psk,
        DhGroup::Modp2048,
    );
    let err = select_ike(&peer_sa(&[theirs]), &ours).expect_err("disjoint");
    let Reject::PeerIncompatible(Incompatible::NoProposalChosen { offered, allowed }) = &err else {
        panic!("wrong error {err:?}")
    };
    assert!(
        offered.contains("AES_CBC_256") && offered.contains("SHA2_512"),
        "{offered}"
    );
    assert!(
        allowed.contains("3DES_CBC") && allowed.contains("MODP1024"),
        "{allowed}"
    );
    assert_eq!(err.notify(), Some(14));
}

#[test]
fn phase1_needs_exactly_one_proposal_and_unknown_attributes_skip_a_transform() {
    let ours = default_ike_transforms(true, false, 3600);
    let x = IkeTransform::new(
        CipherAlg::Des3,
        HashAlg::Sha1,
        AuthMethod::Psk,
        DhGroup::Modp1536,
    );
    let mut two = peer_sa(&[x]);
    two.proposals.push(two.proposals[0].clone());
    assert!(select_ike(&two, &ours).is_err());
    let mut odd = peer_sa(&[x, x]);
    odd.proposals[0].transforms[0]
        .attributes
        .push(Attribute::basic(13, 1)); // PRF: not supported
    let (chosen, reply) = select_ike(&odd, &ours).expect("second transform usable");
    assert_eq!(chosen, x);
    assert_eq!(
        reply.proposals[0].transforms[0].attributes.len(),
        odd.proposals[0].transforms[1].attributes.len()
    );
}

#[test]
fn initiator_refuses_a_reply_it_did_not_offer() {
    let offered = vec![IkeTransform::new(
        CipherAlg::Des3,
        HashAlg::Sha1,
        AuthMethod::Psk,
        DhGroup::Modp1536,
    )];
    let other = IkeTransform::new(
        CipherAlg::Aes128,
        HashAlg::Sha1,
        AuthMethod::Psk,
        DhGroup::Modp1536,
    );
    assert!(parse_ike_reply(&peer_sa(&[other]), &offered).is_err());
    assert!(parse_ike_reply(&peer_sa(&[offered[0], offered[0]]), &offered).is_err());
}

fn policy(encrypt: bool, authenticate: bool, compress: bool) -> Policy {
    Policy {
        psk: true,
        encrypt,
        authenticate,
        compress,
        tunnel: true,
        ..Policy::default()
    }
}

#[test]
fn ipsec_defaults_follow_the_seed_table() {
    let esp = default_ipsec_proposals(&policy(true, false, false), &[]);
    let [p] = esp.as_slice() else {
        panic!("one proposal")
    };
    let [(IpsecProto::Esp, xs)] = p.protos.as_slice() else {
        panic!("ESP only")
    };
    use CipherAlg::{Aes128, Des3};
    use IntegAlg::{HmacMd5_96 as Md5, HmacSha1_96 as Sha1};
    let want: Vec<IpsecTransform> = [(Aes128, Sha1), (Aes128, Md5), (Des3, Sha1), (Des3, Md5)]
        .into_iter()
        .map(|(c, i)| IpsecTransform::Esp {
            cipher: c,
            integ: Some(i),
        })
        .collect();
    assert_eq!(xs, &want);
    let all = default_ipsec_proposals(&policy(true, true, true), &[]);
    let protos: Vec<IpsecProto> = all[0].protos.iter().map(|(p, _)| *p).collect();
    assert_eq!(
        protos,
        vec![IpsecProto::Ah, IpsecProto::Esp, IpsecProto::Ipcomp]
    );
    assert_eq!(
        all[0].protos[1].1,
        vec![IpsecTransform::Esp {
            cipher: Des3,
            integ: None
        }]
    );
    assert!(default_ipsec_proposals(
        &Policy {
            psk: true,
            ..Policy::default()
        },
        &[]
    )
    .is_empty());
}

#[test]
fn esp_option_keeps_ah_and_ipcomp() {
    let custom = [IpsecTransform::Esp {
        cipher: CipherAlg::Aes256,
        integ: Some(IntegAlg::HmacSha2_256_128),
    }];
    let p = default_ipsec_proposals(&policy(true, true, true), &custom);
    let protos: Vec<IpsecProto> = p[0].protos.iter().map(|(p, _)| *p).collect();
    assert_eq!(
        protos,
        vec![IpsecProto::Ah, IpsecProto::Esp, IpsecProto::Ipcomp]
    );
    assert_eq!(p[0].protos[1].1, custom.to_vec());
}

fn offer(pol: &Policy, group: Option<DhGroup>, lifetime: u32) -> SaPayload {
    let props = default_ipsec_proposals(pol, &[]);
    ipsec_sa_payload(
        &props,
        &|p| {
            if p == IpsecProto::Ipcomp {
                0x1234
            } else {
                0x1000_0001
            }
        },
        Mode::Tunnel,
        group,
        lifetime,
    )
}

#[test]
fn ipsec_transform_attributes_in_seed_order() {
    let sa = offer(&policy(true, false, true), Some(DhGroup::Modp1536), 28800);
    let esp = &sa.proposals[0];
    assert_eq!(
        (esp.number, esp.protocol, esp.spi.clone()),
        (1, 3, vec![0x10, 0, 0, 1])
    );
    let t = &esp.transforms[0];
    let types: Vec<u16> = t.attributes.iter().map(|a| a.ty).collect();
    assert_eq!(types, vec![3, 4, 1, 2, 5, 6]);
    assert_eq!(t.transform_id, 12);
    let comp = &sa.proposals[1];
    assert_eq!(
        (comp.number, comp.protocol, comp.spi.clone()),
        (1, 4, vec![0x12, 0x34])
    );
    // No group on IPCOMP.
    assert!(comp.transforms[0].attributes.iter().all(|a| a.ty != 3));
}

#[test]
fn responder_chooses_conjunct_proposal_and_clamps_lifetime() {
    let pol = policy(true, false, true);
    let sa = offer(&pol, None, 100_000);
    let ours = default_ipsec_proposals(&pol, &[]);
    let c = select_ipsec(&sa, &pol, &ours, false).expect("acceptable");
    assert_eq!(c.protos.len(), 2);
    assert_eq!(c.lifetime, MAX_IPSEC_LIFETIME);
    assert_eq!(c.protos[0].peer_spi, 0x1000_0001);
    assert_eq!(c.protos[1].peer_spi, 0x1234);
    let reply = c.reply_payload(&|_| 0x2000);
    let back = parse_ipsec_reply(&reply, &ours, false).expect("valid reply");
    assert_eq!(back.protos[0].peer_spi, 0x2000);
    assert_eq!(back.describe(), c.describe());
}

#[test]
fn pfs_policy_requires_a_group_and_mode_must_match() {
    let mut pol = policy(true, false, false);
    pol.pfs = true;
    let ours = default_ipsec_proposals(&pol, &[]);
    let err = select_ipsec(&offer(&pol, None, 28800), &pol, &ours, false).expect_err("no group");
    assert_eq!(err.notify(), Some(14));
    assert!(select_ipsec(
        &offer(&pol, Some(DhGroup::Modp1024), 28800),
        &pol,
        &ours,
        false
    )
    .is_ok());
    let mut transport = pol;
    transport.tunnel = false;
    let err = select_ipsec(
        &offer(&pol, Some(DhGroup::Modp1024), 28800),
        &transport,
        &ours,
        false,
    )
    .expect_err("tunnel mode offered, transport wanted");
    // The same algorithms on both sides: the message tells the modes.
    let text = err.to_string();
    assert!(
        text.contains(" in tunnel mode;") && text.ends_with(" in transport mode"),
        "{text}"
    );
    // Only when the mode is what differs.
    let err = select_ipsec(&offer(&pol, None, 28800), &pol, &ours, false).expect_err("no group");
    assert!(!err.to_string().contains(" mode"), "{err}");
}

#[test]
fn encrypt_policy_refuses_ah_only_and_missing_ipcomp() {
    let ah_only = policy(false, true, false);
    let sa = offer(&ah_only, None, 28800);
    let esp_pol = policy(true, false, false);
    let ours = default_ipsec_proposals(&esp_pol, &[]);
    let err = select_ipsec(&sa, &esp_pol, &ours, false).expect_err("AH cannot satisfy ENCRYPT");
    assert!(err.to_string().contains("AH_HMAC_SHA1_96"), "{err}");
    let comp_pol = policy(true, false, true);
    assert!(select_ipsec(&offer(&esp_pol, None, 28800), &comp_pol, &ours, false).is_err());
}
