//! tshark itself and a minimal reader of its PDML output.

use super::common::pcap;
use super::common::sim::*;
use super::compare::hex;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------
// tshark itself
// ---------------------------------------------------------------------------

pub const TSHARK_MISSING: &str = "tshark not found: apt-get install tshark";

pub struct Tshark {
    pub program: PathBuf,
    /// First line of `tshark --version`.
    pub version: String,
}

pub fn tshark_at(program: &Path) -> Result<Tshark, String> {
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
pub fn tshark() -> Tshark {
    let program = std::env::var_os("TSHARK").map_or_else(|| PathBuf::from("tshark"), PathBuf::from);
    tshark_at(&program).unwrap_or_else(|e| panic!("{e}"))
}

/// A scratch directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
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
pub struct Dissection {
    /// `tshark -V`, the human-readable tree.
    pub text: String,
    /// The `<packet>` elements of `tshark -T pdml`, in frame order.
    pub packets: Vec<Node>,
}

/// Writes `net.wire` to a pcap in a fresh temp dir and dissects it.
/// `ikev1_keys` are (initiator cookie, phase-1 encryption key) pairs for
/// tshark's IKEv1 decryption table.
pub fn dissect(
    ts: &Tshark,
    label: &str,
    net: &Net,
    ikev1_keys: &[([u8; 8], Vec<u8>)],
) -> Dissection {
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
pub struct Node {
    pub tag: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

impl Node {
    pub fn attr(&self, key: &str) -> &str {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }
    pub fn name(&self) -> &str {
        self.attr("name")
    }
    pub fn show(&self) -> &str {
        self.attr("show")
    }
    pub fn showname(&self) -> &str {
        self.attr("showname")
    }
    /// The field's bytes as lowercase hex.
    pub fn value(&self) -> &str {
        self.attr("value")
    }
    pub fn size(&self) -> usize {
        self.attr("size").parse().unwrap_or(0)
    }
    /// `show` as a number (decimal or 0x-hex).
    pub fn num(&self) -> u64 {
        let s = self.show();
        let parsed = match s.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16),
            None => s.parse(),
        };
        parsed.unwrap_or_else(|_| panic!("field {} shows {s:?}, not a number", self.name()))
    }
    /// Direct children with field/proto name `name`.
    pub fn kids<'a, 'b: 'a>(&'a self, name: &'b str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name() == name)
    }
    /// The one direct child named `name`.
    pub fn kid(&self, name: &str, ctx: &str) -> &Node {
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
    pub fn find(&self, name: &str) -> Option<&Node> {
        self.children.iter().find_map(|c| {
            if c.name() == name {
                Some(c)
            } else {
                c.find(name)
            }
        })
    }
    /// Calls `f` on every descendant with the name of the innermost enclosing `<proto>`.
    pub fn walk<'a>(&'a self, proto: &str, f: &mut dyn FnMut(&'a Node, &str)) {
        for c in &self.children {
            // A top-level <proto> (e.g. _ws.malformed) is attributed to itself.
            let inner = if c.tag == "proto" { c.name() } else { proto };
            f(c, if proto.is_empty() { inner } else { proto });
            c.walk(inner, f);
        }
    }
}

pub fn unescape(s: &str) -> String {
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

pub fn parse_tag(inner: &str) -> (String, Vec<(String, String)>) {
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
pub fn parse_xml(doc: &str) -> Node {
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
