//! Codec tests: malformed input of every kind (robustness.rs) over the
//! captured kernel and iproute2 messages and the builders' output.
use super::consts::*;
use super::*;
use crate::xfrm::tests::{esp_spec, fixtures, hex, out_policy};

mod robustness;

/// Every message the tests know: captures and builder output.
fn seeds() -> Vec<Vec<u8>> {
    use crate::xfrm::build::*;
    let mut v: Vec<Vec<u8>> = [
        fixtures::NEWSA_ESP_TUNNEL,
        fixtures::ERROR_ENOSYS_EXT_ACK,
        fixtures::DELSA,
        fixtures::ERROR_ESRCH,
        fixtures::GETSA,
        fixtures::GETSA_DUMP_FILTER,
        fixtures::DONE,
        fixtures::FLUSHSA_ESP,
        fixtures::ACK_FLUSHSA,
        fixtures::ALLOCSPI,
        fixtures::ALLOCSPI_REPLY,
        fixtures::NEWPOLICY_OUT_TUNNEL,
        fixtures::NEWPOLICY_IN_USE,
        fixtures::GETPOLICY_DUMP,
        fixtures::GETPOLICY,
        fixtures::DELPOLICY,
        fixtures::FLUSHPOLICY,
        fixtures::SA_DUMP_ENTRY,
        fixtures::POLEXPIRE_SOFT,
        fixtures::EXPIRE_HARD,
        fixtures::FLUSHPOLICY_EVENT,
        fixtures::ACQUIRE,
        fixtures::NEWSA_ESP_ENCAP,
        fixtures::UPDSA_ESP_ENCAP,
        fixtures::MAPPING,
    ]
    .iter()
    .map(|s| hex(s))
    .collect();
    let mut sa = esp_spec();
    sa.comp = Some("deflate".into());
    sa.encap = Some(EncapTmpl {
        encap_type: UDP_ENCAP_ESPINUDP,
        sport: 4500,
        dport: 4500,
        oa: Addr::ZERO,
    });
    sa.mark = Some(Mark { v: 1, m: 1 });
    sa.if_id = Some(3);
    v.push(new_sa(&sa).emit());
    v.push(new_policy(&out_policy()).emit());
    // Attributes only the kernel sends, built by hand.
    let esn = Message::new(
        Header::new(XFRM_MSG_NEWSA, 0),
        Body::Sa(UsersaInfo::default()),
    )
    .with(Attr::ReplayEsnVal(ReplayEsn {
        replay_window: 64,
        bmp: vec![1, 2],
        ..ReplayEsn::default()
    }))
    .with(Attr::LtimeVal(LifetimeCur::default()))
    .with(Attr::CoAddr(Addr::ZERO))
    .with(Attr::AlgAuth(Algo::new("hmac(md5)", &[9; 16])));
    v.push(esn.emit());
    let del = Message::new(
        Header::new(XFRM_MSG_DELSA, 0),
        Body::SaId(UsersaId::default()),
    )
    .with(Attr::Sa(UsersaInfo::default()));
    v.push(del.emit());
    let delp = Message::new(
        Header::new(XFRM_MSG_DELPOLICY, 0),
        Body::PolicyId(UserpolicyId::default()),
    )
    .with(Attr::Policy(UserpolicyInfo::default()))
    .with(Attr::PolicyType(PolicyType::default()));
    v.push(delp.emit());
    v
}

#[test]
fn seeds_round_trip() {
    for b in seeds() {
        let m = Message::parse(&b).unwrap();
        assert_eq!(m.emit(), b, "{}", m.summary());
    }
}
