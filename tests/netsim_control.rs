//! (f) disjoint proposals, and the control paths: terminate, delete by
//! serial, keying attempts, unknown peers, the retransmission schedule.
//!
//! Protected messages on the wire are checked by decrypting them the way the
//! peer does: with the null DH provider g^xy is a function of the two public
//! values, so knowing the PSK is enough to rebuild the ISAKMP SA's keys.
mod common;
use common::sim::*;
use rswan::ike::crypto::{
    cbc_decrypt, informational_hash, phase2_iv, skeyid_psk, CipherAlg, DhGroup, DhProvider,
    HashAlg, NullDh, Phase1Keys,
};
use rswan::ike::proposal::{AuthMethod, IkeTransform, IpsecTransform};
use rswan::ike::rng::Rng;
use rswan::ike::wire::{
    exchange, notify_type, parse_chain, parse_header, payload_type, protocol, Header, Payload,
};
use rswan::ike::{Command, ConnConfig, Event};
use std::time::Duration;

const CONN: &str = "west-east";
const PSK: &str = "secret";

fn logs(net: &Net) -> String {
    net.nodes.iter().map(Node::dump_logs).collect()
}

fn header(p: &Packet) -> Header {
    parse_header(&p.data).expect("sim datagrams parse").0
}

fn body(p: &Packet) -> &[u8] {
    parse_header(&p.data).expect("sim datagrams parse").1
}

/// Cleartext payloads of a datagram.
fn clear_payloads(p: &Packet) -> Vec<Payload> {
    let h = header(p);
    assert_eq!(h.flags & 1, 0, "encrypted");
    let chain = parse_chain(h.next_payload, body(p), false).expect("chain parses");
    chain.into_iter().map(|x| x.payload).collect()
}

/// Hands out fixed bytes: makes [`NullDh::generate`] rebuild a known public value.
struct Replay(Vec<u8>);

impl Rng for Replay {
    fn fill(&mut self, buf: &mut [u8]) {
        for (b, v) in buf
            .iter_mut()
            .zip(self.0.iter().chain(std::iter::repeat(&0)))
        {
            *b = *v;
        }
    }
}

/// The keys of the ISAKMP SA negotiated on the wire (first Main Mode).
struct Snoop {
    cipher: CipherAlg,
    hash: HashAlg,
    keys: Phase1Keys,
    /// Last ciphertext block of MR3: where phase-2 IVs start.
    iv_base: Vec<u8>,
}

impl Snoop {
    fn new(net: &Net, psk: &str, xf: IkeTransform) -> Snoop {
        let mm: Vec<&Packet> = net
            .wire
            .iter()
            .filter(|p| header(p).exchange == exchange::IDENTITY_PROTECTION)
            .collect();
        let ke_nonce = |from| {
            let p = mm
                .iter()
                .find(|p| {
                    p.from.ip() == from
                        && clear_payloads(p)
                            .iter()
                            .any(|x| matches!(x, Payload::Ke(_)))
                })
                .expect("KE message");
            let pl = clear_payloads(p);
            let ke = pl.iter().find_map(|x| match x {
                Payload::Ke(k) => Some(k.clone()),
                _ => None,
            });
            let n = pl.iter().find_map(|x| match x {
                Payload::Nonce(n) => Some(n.clone()),
                _ => None,
            });
            (ke.unwrap(), n.unwrap(), header(p))
        };
        let (gxi, ni, h) = ke_nonce(ip(1));
        let (gxr, nr, _) = ke_nonce(ip(2));
        let ours = NullDh.generate(xf.group, &mut Replay(gxi.clone()));
        assert_eq!(ours.public, gxi);
        let gxy = NullDh.shared(&ours, &gxr).expect("valid publics");
        let skeyid = skeyid_psk(xf.hash, psk.as_bytes(), &ni, &nr);
        let keys = Phase1Keys::derive(xf.hash, skeyid, &gxy, &h.icookie, &h.rcookie, xf.cipher);
        let mr3 = mm
            .iter()
            .rev()
            .find(|p| p.from.ip() == ip(2) && header(p).flags & 1 != 0)
            .expect("MR3");
        let b = body(mr3);
        let iv_base = b[b.len() - xf.cipher.block_len()..].to_vec();
        Snoop {
            cipher: xf.cipher,
            hash: xf.hash,
            keys,
            iv_base,
        }
    }

    /// Decrypts a protected Informational message and checks its HASH(1);
    /// returns the payloads after the hash.
    fn open_info(&self, p: &Packet) -> Vec<Payload> {
        let h = header(p);
        assert_eq!(h.exchange, exchange::INFORMATIONAL);
        assert_eq!(h.flags & 1, 1, "not encrypted");
        let iv = phase2_iv(self.hash, &self.iv_base, h.msgid, self.cipher.block_len());
        let mut plain = body(p).to_vec();
        cbc_decrypt(self.cipher, self.keys.enc_key(), &iv, &mut plain).expect("decrypts");
        let chain = parse_chain(h.next_payload, &plain, true).expect("decrypted chain parses");
        let Payload::Hash(got) = &chain[0].payload else {
            panic!("HASH(1) not first: {chain:?}");
        };
        let last = chain.last().map_or(0, |x| x.end);
        let rest = &plain[chain[0].end..last];
        let want = informational_hash(self.hash, self.keys.skeyid_a(), h.msgid, rest);
        assert_eq!(got, &want, "HASH(1) does not verify");
        chain.into_iter().skip(1).map(|x| x.payload).collect()
    }
}

fn from_to(net: &Net, from: u8, ex: u8) -> Vec<Packet> {
    net.wire
        .iter()
        .filter(|p| p.from.ip() == ip(from) && header(p).exchange == ex)
        .cloned()
        .collect()
}

fn suite(c: CipherAlg, h: HashAlg, g: DhGroup) -> IkeTransform {
    IkeTransform::new(c, h, AuthMethod::Psk, g)
}

fn up(seed: u64, tweak: impl Fn(&mut ConnConfig, &mut ConnConfig)) -> Net {
    let (mut w, mut e) = conn_pair(CONN, esp_tunnel_policy());
    tweak(&mut w, &mut e);
    let mut net = pair(seed, false, w, e, PSK, PSK);
    net.command(0, Command::Initiate(CONN.into()));
    net
}

#[test]
fn f_disjoint_proposals_phase1() {
    let offer = suite(CipherAlg::Aes256, HashAlg::Sha512, DhGroup::Modp2048);
    let allow = suite(CipherAlg::Des3, HashAlg::Md5, DhGroup::Modp1024);
    let mut net = up(60, |w, e| {
        w.ike = vec![offer];
        e.ike = vec![allow];
    });
    net.run(Duration::from_secs(600));
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    let want = "no acceptable proposal: peer offered AES_CBC_256-SHA2_512-MODP2048-PRESHARED_KEY; \
                we allow 3DES_CBC-MD5-MODP1024-PRESHARED_KEY";
    let refusals = east.logs_with("no acceptable proposal");
    assert!(!refusals.is_empty(), "{}", logs(&net));
    for l in &refusals {
        assert!(l.contains(want), "{l}");
        assert!(
            l.contains("initial Main Mode message from 192.0.2.1:500 refused"),
            "{l}"
        );
    }
    // One refusal, one notification, per MI1 received; no state ever.
    let mi1 = from_to(&net, 1, exchange::IDENTITY_PROTECTION);
    let notes = from_to(&net, 2, exchange::INFORMATIONAL);
    assert_eq!(from_to(&net, 2, exchange::IDENTITY_PROTECTION).len(), 0);
    assert_eq!(notes.len(), refusals.len());
    assert_eq!(mi1.len(), 9, "3 attempts of 3 sends");
    for n in &notes {
        let h = header(n);
        assert_eq!((h.rcookie, h.msgid, h.flags), ([0; 8], 0, 0));
        assert!(mi1.iter().any(|m| header(m).icookie == h.icookie));
        let payloads = clear_payloads(n);
        let [Payload::Notify(note)] = payloads.as_slice() else {
            panic!("not a lone Notify: {payloads:?}");
        };
        assert_eq!(note.msg_type, notify_type::NO_PROPOSAL_CHOSEN);
        assert_eq!(note.msg_type, 14);
        assert_eq!(note.protocol, protocol::ISAKMP);
    }
    assert!(west.log_contains("ignoring unauthenticated informational payload NO_PROPOSAL_CHOSEN"));
    assert!(
        east.events.iter().all(|e| matches!(e, Event::Log(_))),
        "east made state"
    );
    for n in [west, east] {
        assert!(n.states().is_empty(), "{}: {:?}", n.name, n.states());
    }
    assert_eq!(west.failures().len(), 3);
}

#[test]
fn f_disjoint_proposals_phase2() {
    let xf = suite(CipherAlg::Aes128, HashAlg::Sha1, DhGroup::Modp1536);
    let mut net = up(61, |w, e| {
        for c in [&mut *w, &mut *e] {
            c.ike = vec![xf];
        }
        w.esp = vec![IpsecTransform::Esp {
            cipher: CipherAlg::Aes256,
            integ: Some(rswan::ike::kernel::IntegAlg::HmacSha2_256_128),
        }];
        e.esp = vec![IpsecTransform::Esp {
            cipher: CipherAlg::Des3,
            integ: Some(rswan::ike::kernel::IntegAlg::HmacMd5_96),
        }];
    });
    net.run(Duration::from_secs(600));
    let all = logs(&net);
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    let refusals = east.logs_with("Quick Mode request refused");
    assert_eq!(refusals.len(), 3, "one per keying attempt\n{all}");
    for l in &refusals {
        assert!(
            l.contains(
                "no acceptable proposal: peer offered #1 ESP_AES_CBC_256-HMAC_SHA2_256_128; we allow "
            ) && l.contains("ESP_3DES_CBC-HMAC_MD5_96"),
            "{l}"
        );
        assert!(!l.contains("we allow nothing"), "{l}");
    }
    // The NO_PROPOSAL_CHOSEN goes back protected under the ISAKMP SA.
    let snoop = Snoop::new(&net, PSK, xf);
    let notes = from_to(&net, 2, exchange::INFORMATIONAL);
    assert_eq!(notes.len(), 3, "{all}");
    for p in &notes {
        let payloads = snoop.open_info(p);
        let [Payload::Notify(n)] = payloads.as_slice() else {
            panic!("{payloads:?}");
        };
        assert_eq!(n.msg_type, 14);
        assert_eq!(payloads[0].ty(), payload_type::N);
    }
    assert_eq!(
        west.logs_with("ignoring informational payload, type NO_PROPOSAL_CHOSEN")
            .len(),
        3
    );
    // Phase 1 stands; phase 2 never came up, and nothing is left of it.
    for n in [west, east] {
        assert_eq!(n.established(false), 1, "{all}");
        assert_eq!(n.states().len(), 1, "{}: {:?}", n.name, n.states());
        assert!(
            !n.events
                .iter()
                .any(|e| matches!(e, Event::Established { ipsec: true, .. })),
            "{all}"
        );
        assert!(n.kernel.sas.is_empty() && n.kernel.policies.is_empty());
        assert!(
            n.kernel.larval.is_empty(),
            "{}: {:x?}",
            n.name,
            n.kernel.larval
        );
    }
    net.check_settled(0, 1).unwrap();
}

/// West and east with the tunnel up; returns the net.
fn tunnel(seed: u64) -> Net {
    let mut net = up(seed, |_, _| {});
    net.run(Duration::from_secs(5));
    for n in &net.nodes {
        assert_eq!(
            (n.established(false), n.established(true)),
            (1, 1),
            "{}",
            logs(&net)
        );
    }
    net
}

fn default_suite() -> IkeTransform {
    // What the default proposal list puts first: 3DES-MD5-MODP1536.
    suite(CipherAlg::Des3, HashAlg::Md5, DhGroup::Modp1536)
}

#[test]
fn terminate_sends_delete_and_peer_removes_sas() {
    let mut net = tunnel(70);
    let sent = net.wire.len();
    let west_in_spi = net.nodes[0].sas(true)[0].spi;
    net.command(0, Command::Terminate(CONN.into()));
    net.run(Duration::from_secs(5));
    let all = logs(&net);
    let (west, east) = (&net.nodes[0], &net.nodes[1]);
    assert!(west.states().is_empty(), "{all}");
    assert!(west.kernel.sas.is_empty() && west.kernel.policies.is_empty());
    assert!(east.log_contains("received Delete"), "{all}");
    assert!(east.log_contains(&format!(
        "received Delete SA({west_in_spi:#010x}) payload: deleting IPsec State"
    )));
    assert!(
        east.log_contains("received Delete SA payload: deleting ISAKMP State"),
        "{all}"
    );
    assert!(
        east.kernel.sas.iter().all(|s| s.reqid == 0),
        "{:?}",
        east.kernel.sas
    );
    assert!(east.kernel.sas.is_empty() && east.kernel.policies.is_empty());
    assert_eq!(east.established(true), 0);
    assert!(east.states().is_empty(), "{all}");
    // On the wire: a Delete for west's inbound ESP SPI, then one for the ISAKMP SA.
    let snoop = Snoop::new(&net, PSK, default_suite());
    let dels: Vec<Vec<Payload>> = net.wire[sent..]
        .iter()
        .map(|p| snoop.open_info(p))
        .collect();
    assert_eq!(dels.len(), 2, "{all}");
    let [Payload::Delete(esp)] = dels[0].as_slice() else {
        panic!("{:?}", dels[0])
    };
    assert_eq!((esp.protocol, esp.spi_size), (protocol::ESP, 4));
    assert_eq!(esp.spis, vec![west_in_spi.to_be_bytes().to_vec()]);
    let [Payload::Delete(isakmp)] = dels[1].as_slice() else {
        panic!("{:?}", dels[1])
    };
    let h = header(&net.wire[0]);
    assert_eq!((isakmp.protocol, isakmp.spi_size), (protocol::ISAKMP, 16));
    assert_eq!(isakmp.spis[0][..8], h.icookie);
    // Nothing more happens afterwards.
    net.run(Duration::from_secs(600));
    assert!(net
        .nodes
        .iter()
        .all(|n| n.states().is_empty() && n.kernel.sas.is_empty()));
}

#[test]
fn delete_state_by_serial() {
    let mut net = tunnel(71);
    let ipsec = net.nodes[0].states().into_iter().find(|s| s.ipsec).unwrap();
    net.command(0, Command::DeleteState(ipsec.serial));
    net.run(Duration::from_secs(5));
    let all = logs(&net);
    for n in &net.nodes {
        assert_eq!((n.established(false), n.established(true)), (1, 0), "{all}");
        assert!(
            n.kernel.sas.is_empty() && n.kernel.policies.is_empty(),
            "{all}"
        );
    }
    assert!(net.nodes[1].log_contains("deleting IPsec State"), "{all}");
    // The ISAKMP SA carries a new Quick Mode; no new Main Mode.
    let mm = from_to(&net, 1, exchange::IDENTITY_PROTECTION).len();
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(5));
    assert_eq!(from_to(&net, 1, exchange::IDENTITY_PROTECTION).len(), mm);
    net.check_settled(0, 1).unwrap();
    assert_eq!(net.nodes[1].established(true), 1);
    // Deleting the ISAKMP SA from the responder's side takes the peer's too;
    // the IPsec SA lives on independently.
    let isakmp = net.nodes[1]
        .states()
        .into_iter()
        .find(|s| !s.ipsec)
        .unwrap();
    net.command(1, Command::DeleteState(isakmp.serial));
    net.run(Duration::from_secs(5));
    for n in &net.nodes {
        assert_eq!(
            (n.established(false), n.established(true)),
            (0, 1),
            "{}",
            logs(&net)
        );
    }
    assert!(net.nodes[0].log_contains("received Delete SA payload: deleting ISAKMP State"));
    net.command(0, Command::DeleteState(999));
    assert!(net.nodes[0].log_contains("command error: no state #999 to delete"));
}

/// West alone: its peer never answers.
fn lonely(keying_tries: u32) -> Net {
    let mut net = Net::new(80);
    let w = net.add_node("west", ip(1), 81, false);
    let (mut conn, _) = conn_pair(CONN, esp_tunnel_policy());
    conn.keying_tries = keying_tries;
    net.command(w, Command::AddConnection(Box::new(conn)));
    net.command(w, Command::LoadSecrets(psk_secrets(PSK)));
    net.command(w, Command::Initiate(CONN.into()));
    net
}

#[test]
fn keying_tries_restart() {
    let mut net = lonely(3);
    net.run(Duration::from_secs(1000));
    let west = &net.nodes[0];
    let all = west.dump_logs();
    assert!(
        west.log_contains("starting keying attempt 2 of at most 3, but releasing whack"),
        "{all}"
    );
    assert!(
        west.log_contains("starting keying attempt 3 of at most 3, but releasing whack"),
        "{all}"
    );
    assert!(!west.log_contains("starting keying attempt 4"), "{all}");
    let fails = west.failures();
    let at: Vec<u64> = fails
        .iter()
        .map(|(t, _)| (*t - net.start).as_secs())
        .collect();
    assert_eq!(at, vec![70, 140, 210], "{all}");
    let cookies: std::collections::BTreeSet<[u8; 8]> =
        net.wire.iter().map(|p| header(p).icookie).collect();
    assert_eq!(
        (net.wire.len(), cookies.len()),
        (9, 3),
        "a fresh MI1 per attempt"
    );
    assert!(west.states().is_empty());
    assert!(
        net.elapsed() <= Duration::from_secs(211),
        "{:?}",
        net.elapsed()
    );

    // keyingtries=0: it never stops trying.
    let mut net = lonely(0);
    net.run(Duration::from_secs(1000));
    assert!(net.nodes[0].log_contains("starting keying attempt 14 of an unlimited number"));
    assert_eq!(net.nodes[0].states().len(), 1);
}

#[test]
fn unknown_connection_mi1_is_refused_without_state() {
    let (w, _) = conn_pair(CONN, esp_tunnel_policy());
    // East knows only a peer at .3.
    let (mut e, _) = conn_pair("east-other", esp_tunnel_policy());
    e.local.host = Some(ip(2));
    e.remote.host = Some(ip(3));
    let mut net = pair(90, false, w, e, PSK, PSK);
    net.command(0, Command::Initiate(CONN.into()));
    net.run(Duration::from_secs(600));
    let east = &net.nodes[1];
    let line =
        "initial Main Mode message received on 192.0.2.2:500 but no connection has been authorized";
    assert_eq!(east.logs_with(line).len(), 9, "{}", logs(&net));
    assert!(east.states().is_empty());
    assert!(east.events.iter().all(|e| matches!(e, Event::Log(_))));
    assert!(
        net.wire.iter().all(|p| p.from.ip() == ip(1)),
        "east answered"
    );
    assert!(net.nodes[0].states().is_empty());
    assert_eq!(net.nodes[0].failures().len(), 3);
}

#[test]
fn retransmission_schedule_is_10_20_40() {
    let mut net = lonely(1);
    net.run(Duration::from_secs(1000));
    let west = &net.nodes[0];
    let at: Vec<u64> = net
        .wire
        .iter()
        .map(|p| (p.at - net.start).as_secs())
        .collect();
    assert_eq!(at, vec![0, 10, 30], "MI1 send times");
    assert!(
        net.wire.iter().all(|p| p.data == net.wire[0].data),
        "resent unchanged"
    );
    let fails = west.failures();
    assert_eq!(fails.len(), 1);
    assert_eq!((fails[0].0 - net.start).as_secs(), 70);
    assert!(fails[0]
        .1
        .contains("max number of retransmissions (2) reached STATE_MAIN_I1"));
    for wait in ["will wait 20s for response", "will wait 40s for response"] {
        assert_eq!(west.logs_with(wait).len(), 1, "{}", west.dump_logs());
    }
    assert!(west.states().is_empty());
    assert_eq!(net.elapsed(), Duration::from_secs(70));
}
