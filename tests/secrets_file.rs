//! ipsec.secrets loading from the file system: `include` with globs and relative
//! paths, the nesting limit, fatal vs. per-record errors, and PSK selection.

use rswan::ike::wire::Identity;
use rswan::ike::{SecretIndex, SecretValue};
use rswan::secrets::{
    load_secrets, parse_secrets_str, Loaded, SecretsError, MAX_INCLUDE_DEPTH, MAX_INCLUDE_MATCHES,
};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A unique scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rswan-secrets-{}-{}-{}",
            std::process::id(),
            name,
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fqdn(n: &str) -> Identity {
    Identity::Fqdn(n.as_bytes().to_vec())
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> Identity {
    Identity::Ipv4(Ipv4Addr::new(a, b, c, d))
}

/// The PSKs in file order, as strings.
fn psks(l: &Loaded) -> Vec<String> {
    l.psk
        .entries
        .iter()
        .map(|e| {
            let SecretValue::Psk(p) = &e.value;
            String::from_utf8_lossy(p).into_owned()
        })
        .collect()
}

fn names(l: &Loaded, root: &Path) -> Vec<String> {
    l.files
        .iter()
        .map(|f| f.strip_prefix(root).unwrap().display().to_string())
        .collect()
}

#[test]
fn include_with_globs_and_relative_paths() {
    let s = Scratch::new("glob");
    s.write(
        "ipsec.secrets",
        "@first: PSK \"first\"\n\
         include ipsec.d/*.secrets\n\
         @middle: PSK \"middle\"\n\
         include sub/b?.sec\n\
         include sub/[xz]*.sec\n\
         @last: PSK \"last\"\n",
    );
    s.write("ipsec.d/b.secrets", "@b: PSK \"b\"\n");
    s.write("ipsec.d/a.secrets", "@a: PSK \"a\"\n");
    s.write("ipsec.d/.hidden.secrets", "@hidden: PSK \"hidden\"\n");
    s.write("ipsec.d/c.secrets~", "@backup: PSK \"backup\"\n");
    // Relative to the including file's directory (sub/), not the top level.
    s.write("sub/b1.sec", "@b1: PSK \"b1\"\ninclude deeper/*\n");
    s.write("sub/deeper/d.sec", "@d: PSK \"d\"\n");
    s.write("sub/b22.sec", "@b22: PSK \"no: two chars\"\n");
    s.write("sub/x.sec", "@x: PSK \"x\"\n");
    s.write("sub/y.sec", "@y: PSK \"y\"\n");
    s.write("sub/z.sec", "@z: PSK \"z\"\n");
    let l = load_secrets(&s.path("ipsec.secrets")).unwrap();
    assert_eq!(l.warnings, Vec::<String>::new());
    assert_eq!(
        psks(&l),
        ["first", "a", "b", "middle", "b1", "d", "x", "z", "last"]
    );
    assert_eq!(
        names(&l, &s.0),
        [
            "ipsec.secrets",
            "ipsec.d/a.secrets",
            "ipsec.d/b.secrets",
            "sub/b1.sec",
            "sub/deeper/d.sec",
            "sub/x.sec",
            "sub/z.sec"
        ]
    );
}

#[test]
fn include_absolute_path_and_no_match() {
    let s = Scratch::new("abs");
    let other = s.write("elsewhere/one.secrets", "@one: PSK \"one\"\n");
    let top = s.write(
        "etc/ipsec.secrets",
        &format!(
            "include {}\ninclude nothing-*.secrets\n  # comment\ninclude missing.secrets\n@two: PSK \"two\"\n",
            other.display()
        ),
    );
    let l = load_secrets(&top).unwrap();
    assert_eq!(psks(&l), ["one", "two"]);
    let etc = s.path("etc");
    assert_eq!(
        l.warnings,
        vec![
            format!(
                "no secrets filename matched \"{}\"",
                etc.join("nothing-*.secrets").display()
            ),
            format!(
                "no secrets filename matched \"{}\"",
                etc.join("missing.secrets").display()
            ),
        ]
    );
}

#[test]
fn include_nesting_limit() {
    let s = Scratch::new("nest");
    // f0 includes f1 ... f11 includes f12: depths 0..=10 load, f11 is refused.
    for i in 0..=12 {
        s.write(
            &format!("f{i}"),
            &format!("@n{i}: PSK \"s{i}\"\ninclude f{}\n", i + 1),
        );
    }
    let l = load_secrets(&s.path("f0")).unwrap();
    let want: Vec<String> = (0..=MAX_INCLUDE_DEPTH).map(|i| format!("s{i}")).collect();
    assert_eq!(psks(&l), want);
    assert_eq!(
        l.warnings,
        vec![format!(
            "preshared secrets file \"{}\" nested too deeply",
            s.path(&format!("f{}", MAX_INCLUDE_DEPTH + 1)).display()
        )]
    );
}

#[test]
fn a_file_including_itself_is_a_cycle() {
    let s = Scratch::new("self");
    let me = s.write("loop.secrets", "@me: PSK \"me\"\ninclude loop.secrets\n");
    let l = load_secrets(&me).unwrap();
    assert_eq!(psks(&l), ["me"]);
    assert_eq!(
        l.warnings,
        vec![format!(
            "\"{0}\" line 2: include cycle: \"{0}\" is already being read; ignored",
            me.display()
        )]
    );
}

#[test]
fn self_including_glob_loads_each_file_once_and_quickly() {
    // Four files that each include all four: without cycle and repeat checks
    // this grows exponentially (millions of entries); it must load each once.
    let s = Scratch::new("globloop");
    for i in 0..4 {
        s.write(
            &format!("d/g{i}.secrets"),
            &format!("@g{i}: PSK \"g{i}\"\ninclude *.secrets\n"),
        );
    }
    let start = std::time::Instant::now();
    let l = load_secrets(&s.path("d/g0.secrets")).unwrap();
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(psks(&l), ["g0", "g1", "g2", "g3"]);
    assert_eq!(l.files.len(), 4);
    // g0 line 2 meets itself (cycle) and reads g1, which meets g0 (cycle), g1
    // (cycle) and reads g2, and so on: every refusal names file and line.
    let g = |i: usize| s.path(&format!("d/g{i}.secrets")).display().to_string();
    let cycle = |from: usize, to: usize| {
        format!(
            "\"{}\" line 2: include cycle: \"{}\" is already being read; ignored",
            g(from),
            g(to)
        )
    };
    // Unwinding, g1 and g0 find the rest already read.
    let again = |from: usize, to: usize| {
        format!(
            "\"{}\" line 2: \"{}\" was already read; not read again",
            g(from),
            g(to)
        )
    };
    let want = vec![
        cycle(0, 0),
        cycle(1, 0),
        cycle(1, 1),
        cycle(2, 0),
        cycle(2, 1),
        cycle(2, 2),
        cycle(3, 0),
        cycle(3, 1),
        cycle(3, 2),
        cycle(3, 3),
        again(1, 3),
        again(0, 2),
        again(0, 3),
    ];
    assert_eq!(l.warnings, want);
}

#[test]
fn a_file_included_twice_is_read_once() {
    let s = Scratch::new("twice");
    s.write("one.secrets", "@one: PSK \"one\"\n");
    let top = s.write(
        "top.secrets",
        "include one.secrets\n@t: PSK \"t\"\ninclude one.secrets\n",
    );
    let l = load_secrets(&top).unwrap();
    assert_eq!(psks(&l), ["one", "t"]);
    assert_eq!(
        l.warnings,
        vec![format!(
            "\"{}\" line 3: \"{}\" was already read; not read again",
            top.display(),
            s.path("one.secrets").display()
        )]
    );
}

#[test]
fn include_fan_out_limit() {
    let s = Scratch::new("fan");
    for i in 0..=MAX_INCLUDE_MATCHES {
        s.write(
            &format!("many/f{i:03}.secrets"),
            &format!("@f{i}: PSK \"f{i}\"\n"),
        );
    }
    s.write("few/a.secrets", "@a: PSK \"a\"\n");
    let top = s.write(
        "top.secrets",
        "@t: PSK \"t\"\ninclude many/*.secrets\ninclude few/*.secrets\n",
    );
    let l = load_secrets(&top).unwrap();
    // The over-wide include is refused whole; what came before and after stays.
    assert_eq!(psks(&l), ["t", "a"]);
    assert_eq!(
        l.warnings,
        vec![format!(
            "\"{}\" line 2: include \"{}\" matched {} files (at most {} allowed); ignored",
            top.display(),
            s.path("many/*.secrets").display(),
            MAX_INCLUDE_MATCHES + 1,
            MAX_INCLUDE_MATCHES
        )]
    );
    // Exactly at the limit is fine.
    std::fs::remove_file(s.path("many/f000.secrets")).unwrap();
    let l = load_secrets(&top).unwrap();
    assert_eq!(l.warnings, Vec::<String>::new());
    assert_eq!(l.psk.entries.len(), MAX_INCLUDE_MATCHES + 2);
    // The top-level pattern has the same bound, and is fatal like a pattern
    // that matches nothing.
    s.write("many/f000.secrets", "@f0: PSK \"f0\"\n");
    let e = load_secrets(&s.path("many/*.secrets")).unwrap_err();
    assert!(
        matches!(e, SecretsError::TooManyMatches { count, .. } if count == MAX_INCLUDE_MATCHES + 1)
    );
}

#[test]
fn errors_in_included_files_name_that_file() {
    let s = Scratch::new("errs");
    let inc = s.write(
        "inc.secrets",
        "@ok: PSK \"ok\"\n@bad PSK 0x01\n  \"dangling\"\n@ok2: PSK \"ok2\"\n",
    );
    let top = s.write(
        "top.secrets",
        "  indented: first line\n@t: PSK \"t\"\ninclude inc.secrets trailing\ninclude inc.secrets\n",
    );
    let l = load_secrets(&top).unwrap();
    assert_eq!(psks(&l), ["t", "ok", "ok2"]);
    assert_eq!(
        l.warnings,
        vec![
            format!(
                "\"{}\" line 1: file starts with indentation (continuation notation)",
                top.display()
            ),
            format!(
                "\"{}\" line 3: ignoring malformed INCLUDE -- what comes after the pathname?",
                top.display()
            ),
            format!(
                "\"{}\" line 3: quoted token where an index was expected (a secret must follow \":\")",
                inc.display()
            ),
        ]
    );
}

#[test]
fn unreadable_top_level_is_fatal() {
    let s = Scratch::new("fatal");
    let missing = s.path("no-such.secrets");
    match load_secrets(&missing) {
        Err(SecretsError::Unreadable { path, reason }) => {
            assert_eq!(path, missing);
            assert!(!reason.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let e = load_secrets(&s.path("*.secrets")).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "no secrets filename matched \"{}\"",
            s.path("*.secrets").display()
        )
    );
    // A directory is not readable as a file either.
    assert!(matches!(
        load_secrets(&s.0),
        Err(SecretsError::Unreadable { .. })
    ));
}

#[test]
fn top_level_glob_loads_every_match_in_order() {
    let s = Scratch::new("top");
    s.write("b.secrets", "@b: PSK \"b\"\n");
    s.write("a.secrets", "@a: PSK \"a\"\n");
    let l = load_secrets(&s.path("*.secrets")).unwrap();
    assert_eq!(psks(&l), ["a", "b"]);
}

#[test]
fn parse_str_resolves_includes_against_base_dir() {
    let s = Scratch::new("str");
    s.write("peers/gw2.secrets", "@gw1 @gw2: PSK \"gw2 secret\"\n");
    let l = parse_secrets_str(
        "192.0.2.1 %any: PSK \"rw\"\ninclude peers/*.secrets\n",
        "memory",
        &s.0,
    );
    assert_eq!(l.warnings, Vec::<String>::new());
    let secrets = l.psk_secrets();
    assert_eq!(secrets.entries[0].indices[1], SecretIndex::Any);
    assert_eq!(
        secrets.psk(&fqdn("gw1"), Some(&fqdn("gw2"))),
        Some(&b"gw2 secret"[..])
    );
    assert_eq!(secrets.psk(&v4(192, 0, 2, 1), None), Some(&b"rw"[..]));
    assert_eq!(secrets.psk(&v4(192, 0, 2, 1), Some(&fqdn("gw2"))), None);
}

/// An include pattern that matches a FIFO, a device or a directory reads
/// none of them (the FIFO would block pluto, /dev/zero never ends) and the
/// files around them still load. Found by fuzzing (`include /*/*`).
#[test]
fn include_reads_only_regular_files() {
    let s = Scratch::new("special");
    s.write("inc/a-ok.secrets", "@ok: PSK \"ok\"\n");
    let fifo = s.path("inc/b-pipe.secrets");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("/dev/zero", s.path("inc/c-zero.secrets")).unwrap();
    std::fs::create_dir_all(s.path("inc/d-dir.secrets")).unwrap();
    let top = s.write(
        "etc/ipsec.secrets",
        "include ../inc/*.secrets\n@after: PSK \"after\"\n",
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(load_secrets(&top));
    });
    let l = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("loading blocked on a special file")
        .unwrap();
    assert_eq!(psks(&l), ["ok", "after"]);
    let refused: Vec<&String> = l
        .warnings
        .iter()
        .filter(|w| w.contains("not a regular file"))
        .collect();
    assert_eq!(refused.len(), 3, "{:?}", l.warnings);
    for name in ["b-pipe", "c-zero", "d-dir"] {
        assert!(refused.iter().any(|w| w.contains(name)), "{:?}", l.warnings);
    }
}
