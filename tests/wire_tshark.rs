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
    exchange, flags, notify_type, parse_chain, parse_header, payload_name, payload_type, protocol,
    AttrValue, Attribute, Header, Identity, ParsedPayload, Payload, Proposal, SaPayload, Transform,
    HEADER_LEN,
};
use rswan::ike::{Command, ConnConfig, Policy};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------
// tshark itself
// ---------------------------------------------------------------------------

const TSHARK_MISSING: &str = "tshark not found: apt-get install tshark";

struct Tshark {
    program: PathBuf,
    /// First line of `tshark --version`.
    version: String,
}

fn tshark_at(program: &Path) -> Result<Tshark, String> {
    match Process::new(program).arg("--version").output() {
        Ok(out) if out.status.success() => {
            let stdout = String::from_utf8_lossy(&out.stdout);
            Ok(Tshark {
                program: program.to_path_buf(),
                version: stdout.lines().next().unwrap_or("").trim().to_string(),
            })
        }
        Ok(out) => Err(format!(
            "{TSHARK_MISSING} ({} --version exited with {}: {})",
            program.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("{TSHARK_MISSING} ({}: {e})", program.display())),
    }
}

/// The tshark to use (`$TSHARK` or `tshark` on the PATH). Fails the test,
/// never skips it, when there is none.
fn tshark() -> Tshark {
    let program = std::env::var_os("TSHARK").map_or_else(|| PathBuf::from("tshark"), PathBuf::from);
    tshark_at(&program).unwrap_or_else(|e| panic!("{e}"))
}

/// A scratch directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "rswan-wire-tshark-{}-{label}-{}-{nanos}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What tshark made of one run.
struct Dissection {
    /// `tshark -V`, the human-readable tree.
    text: String,
    /// The `<packet>` elements of `tshark -T pdml`, in frame order.
    packets: Vec<Node>,
}

/// Writes `net.wire` to a pcap in a fresh temp dir and dissects it.
/// `ikev1_keys` are (initiator cookie, phase-1 encryption key) pairs for
/// tshark's IKEv1 decryption table.
fn dissect(ts: &Tshark, label: &str, net: &Net, ikev1_keys: &[([u8; 8], Vec<u8>)]) -> Dissection {
    let dir = TempDir::new(label);
    let file = dir.0.join(format!("{label}.pcap"));
    pcap::write_pcap(&file, net.start, &net.wire).expect("writing the pcap");
    // An empty personal configuration: a developer's Wireshark preferences
    // (disabled protocols, decryption tables...) must not change the result.
    let config = dir.0.join("wireshark-config");
    std::fs::create_dir(&config).expect("creating the tshark config dir");
    let mut args: Vec<String> = vec![
        "-n".into(),
        "-r".into(),
        file.display().to_string(),
        // Our IPv4 and UDP checksums are checked too (a bad one is an expert error).
        "-o".into(),
        "ip.check_checksum:TRUE".into(),
        "-o".into(),
        "udp.check_checksum:TRUE".into(),
    ];
    for (icookie, key) in ikev1_keys {
        args.push("-o".into());
        args.push(format!(
            "uat:ikev1_decryption_table:{},{}",
            hex(icookie),
            hex(key)
        ));
    }
    let run = |extra: &[&str]| -> String {
        let out = Process::new(&ts.program)
            .args(&args)
            .args(extra)
            .env("WIRESHARK_CONFIG_DIR", &config)
            .output()
            .unwrap_or_else(|e| panic!("{TSHARK_MISSING} ({e})"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "tshark {args:?} {extra:?} failed ({}): {stderr}",
            out.status
        );
        // Anything on stderr besides the running-as-root notice is suspect.
        for line in stderr.lines() {
            assert!(
                line.trim().is_empty() || line.contains("This could be dangerous"),
                "tshark {extra:?} complained: {line}"
            );
        }
        String::from_utf8(out.stdout).expect("tshark output is UTF-8")
    };
    let text = run(&["-V"]);
    let pdml = run(&["-T", "pdml"]);
    let root = parse_xml(&pdml);
    let pdml_root = root
        .children
        .iter()
        .find(|n| n.tag == "pdml")
        .expect("no <pdml> element in tshark -T pdml output");
    let packets: Vec<Node> = pdml_root
        .children
        .iter()
        .filter(|n| n.tag == "packet")
        .cloned()
        .collect();
    Dissection { text, packets }
}

// ---------------------------------------------------------------------------
// A minimal XML reader, enough for PDML (elements, attributes, entities)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
struct Node {
    tag: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, key: &str) -> &str {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }
    fn name(&self) -> &str {
        self.attr("name")
    }
    fn show(&self) -> &str {
        self.attr("show")
    }
    fn showname(&self) -> &str {
        self.attr("showname")
    }
    /// The field's bytes as lowercase hex.
    fn value(&self) -> &str {
        self.attr("value")
    }
    fn size(&self) -> usize {
        self.attr("size").parse().unwrap_or(0)
    }
    /// `show` as a number (decimal or 0x-hex).
    fn num(&self) -> u64 {
        let s = self.show();
        let parsed = match s.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16),
            None => s.parse(),
        };
        parsed.unwrap_or_else(|_| panic!("field {} shows {s:?}, not a number", self.name()))
    }
    /// Direct children with field/proto name `name`.
    fn kids<'a, 'b: 'a>(&'a self, name: &'b str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name() == name)
    }
    /// The one direct child named `name`.
    fn kid(&self, name: &str, ctx: &str) -> &Node {
        let v: Vec<&Node> = self.children.iter().filter(|c| c.name() == name).collect();
        match v.as_slice() {
            [one] => one,
            _ => panic!(
                "{ctx}: expected one {name} under {} ({:?}), found {}",
                self.name(),
                self.showname(),
                v.len()
            ),
        }
    }
    /// Depth-first search for the first descendant named `name`.
    fn find(&self, name: &str) -> Option<&Node> {
        self.children.iter().find_map(|c| {
            if c.name() == name {
                Some(c)
            } else {
                c.find(name)
            }
        })
    }
    /// Calls `f` on every descendant with the name of the innermost enclosing `<proto>`.
    fn walk<'a>(&'a self, proto: &str, f: &mut dyn FnMut(&'a Node, &str)) {
        for c in &self.children {
            // A top-level <proto> (e.g. _ws.malformed) is attributed to itself.
            let inner = if c.tag == "proto" { c.name() } else { proto };
            f(c, if proto.is_empty() { inner } else { proto });
            c.walk(inner, f);
        }
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest
            .find(';')
            .unwrap_or_else(|| panic!("unterminated entity in {s:?}"));
        let ent = &rest[1..end];
        let ch = match ent {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(h) = ent.strip_prefix("#x").or(ent.strip_prefix("#X")) {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = ent.strip_prefix('#') {
                    d.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .unwrap_or_else(|| panic!("unknown entity &{ent}; in {s:?}"))
            }
        };
        out.push(ch);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn parse_tag(inner: &str) -> (String, Vec<(String, String)>) {
    let inner = inner.trim();
    let (tag, mut rest) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
    let mut attrs = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let eq = rest
            .find('=')
            .unwrap_or_else(|| panic!("attribute without value in <{inner}>"));
        let key = rest[..eq].trim().to_string();
        let after = rest[eq + 1..].trim_start();
        let quote = after
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
            .unwrap_or_else(|| panic!("unquoted attribute in <{inner}>"));
        let close = after[1..]
            .find(quote)
            .unwrap_or_else(|| panic!("unterminated attribute in <{inner}>"))
            + 1;
        attrs.push((key, unescape(&after[1..close])));
        rest = &after[close + 1..];
    }
    (tag.to_string(), attrs)
}

/// Parses a whole document into a synthetic root node.
fn parse_xml(doc: &str) -> Node {
    let mut stack = vec![Node {
        tag: "#document".into(),
        ..Node::default()
    }];
    let mut rest = doc;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        if let Some(r) = rest.strip_prefix("<?") {
            let e = r.find("?>").expect("unterminated <?...?>");
            rest = &r[e + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            let e = r.find("-->").expect("unterminated comment");
            rest = &r[e + 3..];
        } else if let Some(r) = rest.strip_prefix("</") {
            let e = r.find('>').expect("unterminated end tag");
            let tag = r[..e].trim();
            let node = stack.pop().expect("end tag without element");
            assert_eq!(node.tag, tag, "mismatched end tag in PDML");
            stack
                .last_mut()
                .expect("end tag closes the document")
                .children
                .push(node);
            rest = &r[e + 1..];
        } else {
            // A start tag: find its '>' outside quoted attribute values.
            let mut quote = None;
            let end = rest
                .char_indices()
                .skip(1)
                .find(|&(_, c)| match quote {
                    Some(q) if c == q => {
                        quote = None;
                        false
                    }
                    Some(_) => false,
                    None if c == '"' || c == '\'' => {
                        quote = Some(c);
                        false
                    }
                    None => c == '>',
                })
                .map(|(i, _)| i)
                .expect("unterminated start tag");
            let inner = &rest[1..end];
            let (inner, empty) = match inner.strip_suffix('/') {
                Some(x) => (x, true),
                None => (inner, false),
            };
            let (tag, attrs) = parse_tag(inner);
            let node = Node {
                tag,
                attrs,
                children: Vec::new(),
            };
            if empty {
                stack
                    .last_mut()
                    .expect("element outside the document")
                    .children
                    .push(node);
            } else {
                stack.push(node);
            }
            rest = &rest[end + 1..];
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements in PDML");
    stack.pop().expect("document root")
}

// ---------------------------------------------------------------------------
// Comparing tshark's tree with what we sent
// ---------------------------------------------------------------------------

fn hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex string {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// Text after "Label: " in a showname, without a trailing " (n)".
fn label_value(showname: &str) -> &str {
    let v = showname.split_once(": ").map_or(showname, |(_, v)| v);
    match v.rfind(" (") {
        Some(i) if v.ends_with(')') => &v[..i],
        _ => v,
    }
}

/// tshark's name for the decoded value of each attribute type we emit.
fn attr_field(phase1: bool, ty: u16) -> &'static str {
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

fn check_attr(n: &Node, a: &Attribute, phase1: bool, ctx: &str) {
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

fn check_transform(n: &Node, t: &Transform, proto: u8, ctx: &str) {
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

fn check_proposal(n: &Node, p: &Proposal, ctx: &str) {
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
fn check_sa(n: &Node, sa: &SaPayload, ctx: &str) {
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
fn leaf_bytes(n: &Node) -> String {
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

fn check_payload(n: &Node, p: &Payload, ctx: &str) {
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
fn check_chain(nodes: &[&Node], payloads: &[ParsedPayload], body: &[u8], ctx: &str) {
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
struct Msg<'a> {
    frame: usize,
    at: Duration,
    from: SocketAddr,
    to: SocketAddr,
    hdr: Header,
    /// Our parse of the cleartext body, or of tshark's decryption of it.
    payloads: Vec<ParsedPayload>,
    /// The bytes `payloads` index into.
    plain: Vec<u8>,
    /// tshark's nodes for those payloads, in order.
    nodes: Vec<&'a Node>,
    encrypted: bool,
    /// tshark's name of the exchange type.
    exchange_name: String,
}

impl Msg<'_> {
    fn payload(&self, ty: u8) -> (&Payload, &Node) {
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
    fn payloads_of(&self, ty: u8) -> Vec<(&Payload, &Node)> {
        (0..self.payloads.len())
            .filter(|&i| self.payloads[i].payload.ty() == ty)
            .map(|i| (&self.payloads[i].payload, self.nodes[i]))
            .collect()
    }
    fn sa(&self) -> (&SaPayload, &Node) {
        match self.payload(payload_type::SA) {
            (Payload::Sa(sa), n) => (sa, n),
            _ => unreachable!(),
        }
    }
    fn bytes_of(&self, ty: u8) -> Vec<u8> {
        match self.payload(ty).0 {
            Payload::Ke(b) | Payload::Nonce(b) | Payload::Hash(b) => b.clone(),
            other => panic!("frame {}: {other:?} has no plain bytes", self.frame),
        }
    }
    /// One line for the summary.
    fn describe(&self) -> String {
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
fn expert_findings(packets: &[Node]) -> Vec<String> {
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
fn check_frames<'a>(net: &Net, d: &'a Dissection, decrypting: bool) -> Vec<Msg<'a>> {
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
fn check_clean(label: &str, d: &Dissection) -> Vec<String> {
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

fn summary(label: &str, ts: &Tshark, msgs: &[Msg], findings: &[String]) {
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
    (mi2.hdr.icookie, keys.enc_key)
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
