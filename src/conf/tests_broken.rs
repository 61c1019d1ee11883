//! The reader on broken files: one diagnostic per problem, at its line,
//! and the rest still loads; no input makes it panic.

use super::tests::{dir, load_in, FakeHost};
use super::*;

fn errors(c: &Config) -> Vec<String> {
    let mut e: Vec<&Diagnostic> = c
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    crate::sort::sort_by_key(&mut e, |d| (d.file.clone(), d.line));
    e.into_iter()
        .map(|d| {
            let f = d.file.file_name().unwrap().to_string_lossy().into_owned();
            format!("{f}:{}: {}", d.line, d.message)
        })
        .collect()
}

#[test]
fn missing_left_and_missing_also() {
    let d = dir(
        "broken1",
        &[(
            "ipsec.conf",
            "conn noleft\n\
             \tright=10.0.0.2\n\
             conn noalso\n\
             \tleft=10.0.0.1\n\
             \tright=10.0.0.2\n\
             \talso=nowhere\n\
             conn good\n\
             \tleft=10.0.0.1\n\
             \tright=10.0.0.3\n",
        )],
    );
    let c = load_in(&d);
    assert_eq!(
        errors(&c),
        [
            "ipsec.conf:1: conn noleft: left= is missing (the left end's host)",
            "ipsec.conf:6: also=nowhere: no conn \"nowhere\"",
        ]
    );
    let names: Vec<&str> = c.conns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["good"]);
}

#[test]
fn include_loop_and_also_loop() {
    let d = dir(
        "loops",
        &[
            ("ipsec.conf", "include a.conf\nconn ok\n\tleft=10.0.0.1\n\tright=10.0.0.2\n"),
            ("a.conf", "include b.conf\n"),
            (
                "b.conf",
                "include ./a.conf\nconn x\n\talso=y\n\tauto=add\n\tleft=10.0.0.5\n\tright=10.0.0.6\nconn y\n\talso=x\n",
            ),
        ],
    );
    let c = load_in(&d);
    let e = errors(&c);
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(e[0].starts_with("b.conf:1: include loop: \""), "{e:#?}");
    assert!(
        e[0].ends_with("a.conf\" includes itself (through ./a.conf)"),
        "{e:#?}"
    );
    // Each conn says where its own chain closes (y takes auto= from x,
    // so it is a conn too, and does not load either).
    assert_eq!(e[1], "b.conf:3: also=y loops back (y -> x -> y)");
    assert_eq!(e[2], "b.conf:8: also=x loops back (x -> y -> x)");
    assert_eq!(c.conns.len(), 1);
    assert!(c.conn("ok").is_some());
}

#[test]
fn bad_values_each_diagnosed() {
    let d = dir(
        "badvalues",
        &[(
            "ipsec.conf",
            "config setup\n\
             \tprotostack=klips\n\
             \tplutodebug=\"control bogus\"\n\
             \tuniqueids=yes\n\
             \tfrobnicate=yes\n\
             \tkeep_alive=soon\n\
             \tplutoopts=\"--perpeerlog\"\n\
             conn bad\n\
             \tleft=10.0.0.1\n\
             \tright=10.0.0.300\n\
             \tleftsubnet=10.0.0.0/33\n\
             \tkeylife=8x\n\
             \tauthby=magic\n\
             \tdpddelay=30\n\
             \taggrmode=yes\n\
             \tleftcert=west.pem\n\
             \trightrsasigkey=%cert\n\
             \tleft=10.0.0.2\n\
             \tnosuchkey=1\n\
             conn nosuchname\n\
             \tleft=10.0.0.1\n\
             \tright=nowhere.example.net\n\
             conn transport\n\
             \tleft=10.0.0.1\n\
             \tright=10.0.0.2\n\
             \ttype=transport\n\
             \trightsubnet=10.1.0.0/16\n\
             conn alsobad\n\
             \tleft=%group\n\
             \tright=10.0.0.1\n\
             \tauto=launch\n\
             conn fine\n\
             \tleft=10.0.0.1\n\
             \tright=10.0.0.2\n\
             \taggrmode=no\n\
             \tkeyingtries=5\n\
             conn oebad\n\
             \tleft=10.0.0.1\n\
             \tright=%opportunistic\n\
             \tauthby=secret\n",
        )],
    );
    let c = load_in(&d);
    let e = errors(&c);
    let want = [
        "ipsec.conf:18: duplicate key \"left\" (first given on line 9)",
        "ipsec.conf:2: protostack=klips: KLIPS is not supported; use protostack=netkey",
        "ipsec.conf:3: plutodebug: \"bogus\" is not a debug class",
        "ipsec.conf:5: unknown config setup key \"frobnicate\"",
        "ipsec.conf:6: keep_alive=soon: --keep_alive argument must be a number of seconds, not \"soon\"",
        "ipsec.conf:7: plutoopts: --perpeerlog is not implemented by rswan yet; remove it from the command line",
        "ipsec.conf:15: conn bad: aggrmode=yes: aggressive mode is not supported",
        "ipsec.conf:16: conn bad: leftcert=west.pem: X.509 certificates are not supported; use rsasigkey= raw keys or authby=secret",
        "ipsec.conf:19: conn bad: unknown key \"nosuchkey\"",
        "ipsec.conf:13: conn bad: authby=magic: must be rsasig, secret, secret|rsasig or never",
        "ipsec.conf:12: conn bad: keylife=8x: not a time (seconds, or a number with s, m, h or d)",
    ];
    for w in want {
        assert!(e.iter().any(|x| x == w), "missing {w}\nin {e:#?}");
    }
    for w in [
        "ipsec.conf:10: conn bad: right=\"10.0.0.300\"",
        "ipsec.conf:11: conn bad: leftsubnet=\"10.0.0.0/33\"",
        "ipsec.conf:17: conn bad: rightrsasigkey: %cert: X.509",
        "ipsec.conf:8: conn bad: dpddelay specified, but dpdtimeout is zero",
        "ipsec.conf:22: conn nosuchname: right=\"nowhere.example.net\": name lookup failed: \"nowhere.example.net\": no such host",
        "ipsec.conf:23: conn transport: type=transport cannot have subnets (they need type=tunnel)",
        "ipsec.conf:29: conn alsobad: left=%group: policy groups are not supported",
        "ipsec.conf:37: conn oebad: %opportunistic needs authby=rsasig",
        "ipsec.conf:31: conn alsobad: auto=launch: must be ignore, add, route or start",
    ] {
        assert!(e.iter().any(|x| x.starts_with(w)), "missing {w}\nin {e:#?}");
    }
    let warn: Vec<String> = c
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| d.to_string())
        .collect();
    assert!(warn.is_empty(), "{warn:?}");
    assert!(c.setup.pluto_args.contains(&"--uniqueids".to_string()));
    // klips was not passed on: the default stack.
    assert_eq!(c.setup.pluto_args[0], "--use-netkey");
    assert!(c.setup.pluto_args.contains(&"--debug-control".to_string()));
    let names: Vec<&str> = c.conns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["fine"]);
    assert_eq!(c.conns[0].connection.keying_tries, 5);
}

#[test]
fn syntax_errors_keep_the_rest() {
    let d = dir(
        "syntax",
        &[(
            "ipsec.conf",
            "version 3.0\n\
             \tleft=1.2.3.4\n\
             conn\n\
             \tleft=1.2.3.4\n\
             config other\n\
             conn q\n\
             \tleftid=\"unterminated\n\
             \tnot-a-pair\n\
             \tleft=10.0.0.1 right=10.0.0.2\n\
             include missing.conf\n\
             include none-*.conf\n\
             bogus line\n",
        )],
    );
    let c = load_in(&d);
    assert_eq!(
        errors(&c),
        [
            "ipsec.conf:1: version \"3.0\" is not supported (only 2.0)",
            "ipsec.conf:2: \"left=1.2.3.4\" outside of a section (indented lines continue a \"conn\" or \"config\" section)",
            "ipsec.conf:3: \"conn\" needs one name of letters, digits and -_.%/, found \"\"",
            "ipsec.conf:5: only \"config setup\" is known",
            "ipsec.conf:7: unterminated quoted string or {list}",
            "ipsec.conf:8: expected key=value, found \"not-a-pair\"",
            "ipsec.conf:10: include \"missing.conf\": no such file",
            "ipsec.conf:12: unexpected \"bogus\" at the start of a line (expected version, config, conn or include)",
        ]
    );
    assert!(c.conn("q").is_some(), "two pairs on one line");
}

#[test]
fn long_also_chain_is_bounded() {
    let mut text =
        String::from("conn c0\n\tleft=10.0.0.1\n\tright=10.0.0.2\n\tauto=add\n\talso=c1\n");
    for i in 1..200 {
        text.push_str(&format!("conn c{i}\n\talso=c{}\n", i + 1));
    }
    let d = dir("longalso", &[("ipsec.conf", &text)]);
    let c = load_in(&d);
    let e = errors(&c);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(
        e[0].ends_with("also=c65: also= chain longer than 64 sections"),
        "{e:#?}"
    );
    assert!(c.conns.is_empty());
}

#[test]
fn unreadable_file_is_the_only_err() {
    let e = load(std::path::Path::new("/nonexistent/ipsec.conf"), &FakeHost).unwrap_err();
    assert!(e
        .to_string()
        .starts_with("/nonexistent/ipsec.conf:0: error: cannot read:"));
}

#[test]
fn mutated_files_never_panic() {
    // A small deterministic generator: lines of a valid file cut, swapped,
    // duplicated and sprinkled with odd bytes.
    let base = "version 2.0\nconfig setup\n\tinterfaces=%defaultroute\n\tplutodebug=all\n\
                conn %default\n\tkeyingtries=3\nconn a\n\talso=b\n\tleft=%defaultroute\n\
                \tleftsubnets={10.0.0.0/8,11.0.0.0/8}\n\tright=%any\n\trightid=@x\n\
                \trightrsasigkey=0sAwEAAQ==\n\tauto=start\nconn b\n\talso=a\n\tike=aes\n\
                include *.conf\n";
    let bits: &[&str] = &[
        "\"", "#", "=", "%", "\t", " ", "{", "}", "/", ":", "\u{e9}", "0x", "also=a",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let d = dir("fuzz", &[]);
    std::fs::create_dir_all(&d).unwrap();
    for _ in 0..300 {
        let mut lines: Vec<String> = base.lines().map(String::from).collect();
        for _ in 0..(next() % 6) {
            let n = lines.len();
            let i = (next() as usize) % n;
            match next() % 4 {
                0 => {
                    let j = (next() as usize) % n;
                    lines.swap(i, j);
                }
                1 => {
                    let l = lines[i].clone();
                    lines.insert(i, l);
                }
                2 => {
                    let b = bits[(next() as usize) % bits.len()];
                    let at = (next() as usize) % (lines[i].len() + 1);
                    if lines[i].is_char_boundary(at) {
                        lines[i].insert_str(at, b);
                    }
                }
                _ => {
                    let at = (next() as usize) % (lines[i].len() + 1);
                    if lines[i].is_char_boundary(at) {
                        lines[i].truncate(at);
                    }
                }
            }
        }
        std::fs::write(d.join("ipsec.conf"), lines.join("\n")).unwrap();
        let c = load_in(&d);
        for conn in &c.conns {
            assert!(crate::ctl::encode(&crate::ctl::WhackMessage {
                name: Some(conn.name.clone()),
                connection: Some(conn.connection.clone()),
                ..Default::default()
            })
            .is_ok());
        }
    }
}

#[test]
fn any6_with_ipv4_hosts() {
    let d = dir(
        "broken-any6",
        &[(
            "ipsec.conf",
            "conn mixed\n\
             \tleft=192.0.2.1\n\
             \tright=%any6\n\
             conn forced\n\
             \tconnaddrfamily=ipv4\n\
             \tleft=%any6\n\
             \tright=192.0.2.2\n",
        )],
    );
    let c = load_in(&d);
    assert_eq!(
        errors(&c),
        [
            "ipsec.conf:3: conn mixed: right=%any6 in a conn of IPv4 hosts",
            "ipsec.conf:6: conn forced: left=%any6 in a conn of IPv4 hosts"
        ]
    );
    assert!(c.conn("mixed").is_none() && c.conn("forced").is_none());
}
