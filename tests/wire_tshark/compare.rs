//! Comparing tshark's tree with what we sent.

use super::common::sim::*;
use super::pdml::Node;
use super::pdml::*;
use rswan::ike::wire::{
    flags, parse_chain, parse_header, payload_name, payload_type, protocol, AttrValue, Attribute,
    Header, ParsedPayload, Payload, Proposal, SaPayload, Transform, HEADER_LEN,
};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

// ---------------------------------------------------------------------------
// Comparing tshark's tree with what we sent
// ---------------------------------------------------------------------------

pub fn hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex string {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// Text after "Label: " in a showname, without a trailing " (n)".
pub fn label_value(showname: &str) -> &str {
    let v = showname.split_once(": ").map_or(showname, |(_, v)| v);
    match v.rfind(" (") {
        Some(i) if v.ends_with(')') => &v[..i],
        _ => v,
    }
}

/// tshark's name for the decoded value of each attribute type we emit.
pub fn attr_field(phase1: bool, ty: u16) -> &'static str {
    match (phase1, ty) {
        (true, 1) => "encryption_algorithm",
        (true, 2) => "hash_algorithm",
        (true, 3) => "authentication_method",
        (true, 4) => "group_description",
        (true, 11) => "life_type",
        (true, 12) => "life_duration",
        (true, 14) => "key_length",
        (false, 1) => "life_type",
        (false, 2) => "life_duration",
        (false, 3) => "group_description",
        (false, 4) => "encap_mode",
        (false, 5) => "auth_algorithm",
        (false, 6) => "key_length",
        _ => panic!("attribute type {ty} (phase 1: {phase1}) is not covered by this test"),
    }
}

pub fn check_attr(n: &Node, a: &Attribute, phase1: bool, ctx: &str) {
    let prefix = if phase1 {
        "isakmp.ike.attr"
    } else {
        "isakmp.ipsec.attr"
    };
    let ctx = &format!("{ctx} attribute type {}", a.ty);
    assert_eq!(n.name(), prefix, "{ctx}");
    assert_eq!(
        n.kid(&format!("{prefix}.type"), ctx).num(),
        u64::from(a.ty),
        "{ctx}: type"
    );
    let (tv, bytes) = match &a.value {
        AttrValue::Basic(v) => (true, v.to_be_bytes().to_vec()),
        AttrValue::Variable(b) => (false, b.clone()),
    };
    assert_eq!(
        n.kid(&format!("{prefix}.format"), ctx).num(),
        u64::from(tv),
        "{ctx}: format (1 = TV, 0 = TLV)"
    );
    if !tv {
        assert_eq!(
            n.kid(&format!("{prefix}.length"), ctx).num(),
            bytes.len() as u64,
            "{ctx}: TLV length"
        );
    }
    assert!(
        n.showname().starts_with(&format!(
            "{} Attribute (t={},l={})",
            if phase1 { "IKE" } else { "IPsec" },
            a.ty,
            bytes.len()
        )),
        "{ctx}: tshark shows {:?}",
        n.showname()
    );
    assert_eq!(
        n.kid(&format!("{prefix}.value"), ctx).value(),
        hex(&bytes),
        "{ctx}: value bytes"
    );
    let decoded = n.kid(&format!("{prefix}.{}", attr_field(phase1, a.ty)), ctx);
    assert_eq!(
        Some(decoded.num()),
        a.as_u64(),
        "{ctx}: decoded value ({})",
        decoded.showname()
    );
}

pub fn check_transform(n: &Node, t: &Transform, proto: u8, ctx: &str) {
    let ctx = &format!("{ctx} transform #{}", t.number);
    assert_eq!(
        n.num(),
        u64::from(payload_type::TRANSFORM),
        "{ctx}: payload type"
    );
    assert_eq!(
        n.kid("isakmp.trans.number", ctx).num(),
        u64::from(t.number),
        "{ctx}"
    );
    assert_eq!(
        n.kid("isakmp.trans.id", ctx).num(),
        u64::from(t.transform_id),
        "{ctx}: transform id"
    );
    let phase1 = proto == protocol::ISAKMP;
    let prefix = if phase1 {
        "isakmp.ike.attr"
    } else {
        "isakmp.ipsec.attr"
    };
    let attrs: Vec<&Node> = n.kids(prefix).collect();
    assert_eq!(attrs.len(), t.attributes.len(), "{ctx}: attribute count");
    for (node, a) in attrs.iter().zip(&t.attributes) {
        check_attr(node, a, phase1, ctx);
    }
}

pub fn check_proposal(n: &Node, p: &Proposal, ctx: &str) {
    let ctx = &format!("{ctx} proposal #{} (protocol {})", p.number, p.protocol);
    assert_eq!(
        n.num(),
        u64::from(payload_type::PROPOSAL),
        "{ctx}: payload type"
    );
    assert_eq!(
        n.kid("isakmp.prop.number", ctx).num(),
        u64::from(p.number),
        "{ctx}"
    );
    assert_eq!(
        n.kid("isakmp.prop.protoid", ctx).num(),
        u64::from(p.protocol),
        "{ctx}"
    );
    assert_eq!(
        n.kid("isakmp.spisize", ctx).num(),
        p.spi.len() as u64,
        "{ctx}: SPI size"
    );
    if !p.spi.is_empty() {
        assert_eq!(n.kid("isakmp.spi", ctx).value(), hex(&p.spi), "{ctx}: SPI");
    }
    assert_eq!(
        n.kid("isakmp.prop.transforms", ctx).num(),
        p.transforms.len() as u64,
        "{ctx}: transform count"
    );
    let ts: Vec<&Node> = n.kids("isakmp.typepayload").collect();
    assert_eq!(ts.len(), p.transforms.len(), "{ctx}: transform payloads");
    for (node, t) in ts.iter().zip(&p.transforms) {
        check_transform(node, t, p.protocol, ctx);
    }
}

/// tshark's SA payload node against an SA payload value.
pub fn check_sa(n: &Node, sa: &SaPayload, ctx: &str) {
    assert_eq!(
        n.kid("isakmp.sa.doi", ctx).num(),
        u64::from(sa.doi),
        "{ctx}: DOI"
    );
    assert_eq!(
        n.kid("isakmp.sa.situation", ctx).value(),
        hex(&sa.situation.to_be_bytes()),
        "{ctx}: situation"
    );
    let props: Vec<&Node> = n.kids("isakmp.typepayload").collect();
    assert_eq!(props.len(), sa.proposals.len(), "{ctx}: proposal count");
    for (node, p) in props.iter().zip(&sa.proposals) {
        check_proposal(node, p, ctx);
    }
}

/// Concatenated values of a node's descendants that carry bytes (ID data).
pub fn leaf_bytes(n: &Node) -> String {
    n.children
        .iter()
        .map(|c| {
            if c.children.is_empty() {
                c.value().to_string()
            } else {
                leaf_bytes(c)
            }
        })
        .collect()
}

pub fn check_payload(n: &Node, p: &Payload, ctx: &str) {
    match p {
        Payload::Sa(sa) => check_sa(n, sa, ctx),
        Payload::Ke(k) => {
            let d = n.kid("isakmp.key_exchange.data", ctx);
            assert_eq!(d.value(), hex(k), "{ctx}: KE data");
        }
        Payload::Nonce(x) => assert_eq!(n.kid("isakmp.nonce", ctx).value(), hex(x), "{ctx}"),
        Payload::Hash(h) => assert_eq!(n.kid("isakmp.hash", ctx).value(), hex(h), "{ctx}"),
        Payload::Vid(v) => assert_eq!(n.kid("isakmp.vid_bytes", ctx).value(), hex(v), "{ctx}"),
        Payload::Id(id) => {
            assert_eq!(
                n.kid("isakmp.id.type", ctx).num(),
                u64::from(id.id.id_type()),
                "{ctx}"
            );
            assert_eq!(
                n.kid("isakmp.id.protoid", ctx).num(),
                u64::from(id.protocol),
                "{ctx}"
            );
            assert_eq!(
                n.kid("isakmp.id.port", ctx).num(),
                u64::from(id.port),
                "{ctx}"
            );
            let data = n.kid("isakmp.id.data", ctx);
            assert_eq!(leaf_bytes(data), hex(&id.id.data()), "{ctx}: ID data");
        }
        Payload::Notify(nt) => {
            assert_eq!(
                n.kid("isakmp.notify.doi", ctx).num(),
                u64::from(nt.doi),
                "{ctx}"
            );
            assert_eq!(
                n.kid("isakmp.notify.protoid", ctx).num(),
                u64::from(nt.protocol),
                "{ctx}"
            );
            assert_eq!(
                n.kid("isakmp.spisize", ctx).num(),
                nt.spi.len() as u64,
                "{ctx}"
            );
            if !nt.spi.is_empty() {
                assert_eq!(n.kid("isakmp.spi", ctx).value(), hex(&nt.spi), "{ctx}");
            }
            assert_eq!(
                n.kid("isakmp.notify.msgtype", ctx).num(),
                u64::from(nt.msg_type),
                "{ctx}"
            );
            if !nt.data.is_empty() {
                assert_eq!(
                    n.kid("isakmp.notify.data", ctx).value(),
                    hex(&nt.data),
                    "{ctx}"
                );
            }
        }
        Payload::Delete(d) => {
            assert_eq!(
                n.kid("isakmp.delete.doi", ctx).num(),
                u64::from(d.doi),
                "{ctx}"
            );
            assert_eq!(
                n.kid("isakmp.delete.protoid", ctx).num(),
                u64::from(d.protocol),
                "{ctx}"
            );
            assert_eq!(
                n.kid("isakmp.spisize", ctx).num(),
                u64::from(d.spi_size),
                "{ctx}"
            );
            assert_eq!(
                n.kid("isakmp.spinum", ctx).num(),
                d.spis.len() as u64,
                "{ctx}"
            );
            let spis: Vec<String> = n
                .kids("isakmp.delete.spi")
                .map(|s| s.value().to_string())
                .collect();
            let ours: Vec<String> = d.spis.iter().map(|s| hex(s)).collect();
            assert_eq!(spis, ours, "{ctx}: SPIs");
        }
        Payload::Cert { .. }
        | Payload::CertReq { .. }
        | Payload::Sig(_)
        | Payload::Other { .. } => {}
    }
}

/// tshark's top-level payload nodes against our parse of the same bytes.
pub fn check_chain(nodes: &[&Node], payloads: &[ParsedPayload], body: &[u8], ctx: &str) {
    let names: Vec<&str> = nodes.iter().map(|n| n.showname()).collect();
    assert_eq!(
        nodes.len(),
        payloads.len(),
        "{ctx}: payload count; tshark saw {names:?}"
    );
    for (k, (n, p)) in nodes.iter().zip(payloads).enumerate() {
        let ty = p.payload.ty();
        let ctx = &format!("{ctx} payload {k} ({})", payload_name(ty));
        let next = payloads
            .get(k + 1)
            .map_or(payload_type::NONE, |q| q.payload.ty());
        assert_eq!(n.num(), u64::from(ty), "{ctx}: type ({})", n.showname());
        assert_eq!(
            n.kid("isakmp.nextpayload", ctx).num(),
            u64::from(next),
            "{ctx}: next payload"
        );
        assert_eq!(
            n.kid("isakmp.payloadlength", ctx).num(),
            (p.end - p.start) as u64,
            "{ctx}: payload length"
        );
        assert_eq!(
            n.value(),
            hex(&body[p.start..p.end]),
            "{ctx}: payload bytes"
        );
        check_payload(n, &p.payload, ctx);
    }
}

/// One frame: what we sent and what tshark saw.
pub struct Msg<'a> {
    pub frame: usize,
    pub at: Duration,
    pub from: SocketAddr,
    pub to: SocketAddr,
    pub hdr: Header,
    /// Our parse of the cleartext body, or of tshark's decryption of it.
    pub payloads: Vec<ParsedPayload>,
    /// The bytes `payloads` index into.
    pub plain: Vec<u8>,
    /// tshark's nodes for those payloads, in order.
    pub nodes: Vec<&'a Node>,
    pub encrypted: bool,
    /// tshark's name of the exchange type.
    pub exchange_name: String,
}

impl Msg<'_> {
    pub fn payload(&self, ty: u8) -> (&Payload, &Node) {
        let found: Vec<usize> = (0..self.payloads.len())
            .filter(|&i| self.payloads[i].payload.ty() == ty)
            .collect();
        match found.as_slice() {
            [i] => (&self.payloads[*i].payload, self.nodes[*i]),
            _ => panic!(
                "frame {}: expected one {} payload, found {}",
                self.frame,
                payload_name(ty),
                found.len()
            ),
        }
    }
    pub fn payloads_of(&self, ty: u8) -> Vec<(&Payload, &Node)> {
        (0..self.payloads.len())
            .filter(|&i| self.payloads[i].payload.ty() == ty)
            .map(|i| (&self.payloads[i].payload, self.nodes[i]))
            .collect()
    }
    pub fn sa(&self) -> (&SaPayload, &Node) {
        match self.payload(payload_type::SA) {
            (Payload::Sa(sa), n) => (sa, n),
            _ => unreachable!(),
        }
    }
    pub fn bytes_of(&self, ty: u8) -> Vec<u8> {
        match self.payload(ty).0 {
            Payload::Ke(b) | Payload::Nonce(b) | Payload::Hash(b) => b.clone(),
            other => panic!("frame {}: {other:?} has no plain bytes", self.frame),
        }
    }
    /// One line for the summary.
    pub fn describe(&self) -> String {
        let payloads: Vec<&str> = self
            .nodes
            .iter()
            .map(|n| label_value(n.showname()))
            .collect();
        let body = if self.encrypted && payloads.is_empty() {
            format!("encrypted, {} bytes", self.hdr.length as usize - HEADER_LEN)
        } else if self.encrypted {
            format!("encrypted (tshark decrypted): {}", payloads.join(", "))
        } else {
            payloads.join(", ")
        };
        format!(
            "  #{:<2} {:>8.3}s {} -> {}  {} [msgid {:08x}]  {body}",
            self.frame,
            self.at.as_secs_f64(),
            self.from,
            self.to,
            self.exchange_name,
            self.hdr.msgid
        )
    }
}

/// Malformed markers and expert infos anywhere in the tree.
pub fn expert_findings(packets: &[Node]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        p.walk("", &mut |n, proto| {
            if n.name() == "_ws.malformed" || n.name() == "_ws.expert" {
                out.push(format!("frame {}: [{proto}] {}", i + 1, n.showname()));
            }
        });
    }
    out
}

/// Checks every frame and returns them with tshark's nodes attached.
/// `decrypting`: tshark was given the keys, so encrypted bodies must be dissected.
pub fn check_frames<'a>(net: &Net, d: &'a Dissection, decrypting: bool) -> Vec<Msg<'a>> {
    assert_eq!(
        d.packets.len(),
        net.wire.len(),
        "tshark saw a different number of frames than were sent"
    );
    let mut msgs = Vec::new();
    for (i, (sent, pkt)) in net.wire.iter().zip(&d.packets).enumerate() {
        let frame = i + 1;
        let ctx = &format!("frame {frame}");
        let protocols = pkt
            .find("frame.protocols")
            .unwrap_or_else(|| panic!("{ctx}: no frame.protocols"))
            .show();
        assert_eq!(
            protocols, "raw:ip:udp:isakmp",
            "{ctx}: not dissected as ISAKMP"
        );
        let isakmp = pkt
            .children
            .iter()
            .find(|c| c.tag == "proto" && c.name() == "isakmp")
            .unwrap_or_else(|| panic!("{ctx}: no isakmp protocol"));
        assert_eq!(isakmp.size(), sent.data.len(), "{ctx}: ISAKMP length");

        let (hdr, body) =
            parse_header(&sent.data).unwrap_or_else(|e| panic!("{ctx}: we sent garbage: {e}"));
        assert_eq!(
            isakmp.kid("isakmp.ispi", ctx).value(),
            hex(&hdr.icookie),
            "{ctx}: initiator cookie"
        );
        assert_eq!(
            isakmp.kid("isakmp.rspi", ctx).value(),
            hex(&hdr.rcookie),
            "{ctx}: responder cookie"
        );
        assert_eq!(
            isakmp.kid("isakmp.nextpayload", ctx).num(),
            u64::from(hdr.next_payload),
            "{ctx}"
        );
        assert_eq!(
            isakmp.kid("isakmp.version", ctx).value(),
            hex(&[hdr.version]),
            "{ctx}"
        );
        let exch = isakmp.kid("isakmp.exchangetype", ctx);
        assert_eq!(exch.num(), u64::from(hdr.exchange), "{ctx}: exchange type");
        assert_eq!(
            isakmp.kid("isakmp.flags", ctx).value(),
            hex(&[hdr.flags]),
            "{ctx}: flags"
        );
        let encrypted = hdr.flags & flags::ENCRYPTION != 0;
        let flag_e = isakmp.find("isakmp.flag_e").expect("flag_e");
        assert_eq!(flag_e.num(), u64::from(encrypted), "{ctx}: E flag");
        assert_eq!(
            isakmp.kid("isakmp.messageid", ctx).value(),
            hex(&hdr.msgid.to_be_bytes()),
            "{ctx}"
        );
        assert_eq!(
            isakmp.kid("isakmp.length", ctx).num(),
            u64::from(hdr.length),
            "{ctx}"
        );
        assert_eq!(
            hdr.length as usize,
            sent.data.len(),
            "{ctx}: we sent trailing bytes"
        );

        let (plain, nodes, payloads) = if encrypted {
            assert!(
                isakmp.kids("isakmp.typepayload").next().is_none(),
                "{ctx}: tshark parsed encrypted bytes as cleartext payloads"
            );
            let enc = isakmp.kid("isakmp.enc.data", ctx);
            assert_eq!(enc.size(), body.len(), "{ctx}: encrypted data length");
            assert!(
                enc.showname().starts_with("Encrypted Data"),
                "{ctx}: {}",
                enc.showname()
            );
            let nodes: Vec<&Node> = enc.kids("isakmp.typepayload").collect();
            if decrypting {
                assert!(!nodes.is_empty(), "{ctx}: tshark did not decrypt");
                // tshark's decrypted payloads, back to bytes, through our parser.
                let plain: Vec<u8> = nodes.iter().flat_map(|n| unhex(n.value())).collect();
                let payloads = parse_chain(hdr.next_payload, &plain, true)
                    .unwrap_or_else(|e| panic!("{ctx}: decrypted body does not parse: {e}"));
                (plain, nodes, payloads)
            } else {
                assert!(nodes.is_empty(), "{ctx}: tshark decrypted without a key?");
                (Vec::new(), nodes, Vec::new())
            }
        } else {
            let payloads = parse_chain(hdr.next_payload, body, false)
                .unwrap_or_else(|e| panic!("{ctx}: we sent an unparsable chain: {e}"));
            let nodes: Vec<&Node> = isakmp.kids("isakmp.typepayload").collect();
            (body.to_vec(), nodes, payloads)
        };
        check_chain(&nodes, &payloads, &plain, ctx);
        msgs.push(Msg {
            frame,
            at: sent.at - net.start,
            from: sent.from,
            to: sent.to,
            hdr,
            payloads,
            plain,
            nodes,
            encrypted,
            exchange_name: label_value(exch.showname()).to_string(),
        });
    }
    msgs
}

/// The checks shared by every run: nothing malformed, no error or warning at
/// any layer, in the PDML tree or in the `-V` text.
pub fn check_clean(label: &str, d: &Dissection) -> Vec<String> {
    let findings = expert_findings(&d.packets);
    let bad: Vec<&String> = findings
        .iter()
        .filter(|f| f.contains("Malformed") || f.contains("(Error") || f.contains("(Warning"))
        .collect();
    assert!(bad.is_empty(), "[{label}] tshark flagged: {bad:#?}");
    for line in d.text.lines() {
        assert!(
            !line.contains("Malformed")
                && !line.contains("Expert Info (Error")
                && !line.contains("Expert Info (Warning"),
            "[{label}] tshark -V: {line}"
        );
    }
    findings
}

pub fn summary(label: &str, ts: &Tshark, msgs: &[Msg], findings: &[String]) {
    let mut kinds: Vec<(String, usize, usize)> = Vec::new();
    for m in msgs {
        match kinds.iter_mut().find(|k| k.0 == m.exchange_name) {
            Some(k) => {
                k.1 += 1;
                k.2 += usize::from(m.encrypted);
            }
            None => kinds.push((m.exchange_name.clone(), 1, usize::from(m.encrypted))),
        }
    }
    let kinds: Vec<String> = kinds
        .iter()
        .map(|(n, c, e)| format!("{n} x{c} ({e} encrypted)"))
        .collect();
    let mut s = format!(
        "[{label}] {} | {} frames: {}\n",
        ts.version,
        msgs.len(),
        kinds.join(", ")
    );
    for m in msgs {
        s.push_str(&m.describe());
        s.push('\n');
    }
    if findings.is_empty() {
        s.push_str("  expert infos: none\n");
    } else {
        let _ = writeln!(s, "  expert infos (none error/warning): {findings:?}");
    }
    eprint!("{s}");
}
