//! `ipsec rsasigkey` and `ipsec showhostkey` end to end: the generated block
//! loads as an ipsec.secrets entry, showhostkey prints its public half in the
//! forms ipsec.conf, whack, DNS and strongSwan/OpenSSL take, and signatures of
//! the core interoperate with OpenSSL's raw PKCS#1 v1.5 (skipped with a note
//! when `openssl` is not installed).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use num_bigint_dig::BigUint;
use rswan::ike::crypto::rsa::{self, verify_pkcs1_raw, RsaError, RsaPrivateKeyParts, RsaPublicKey};
use rswan::ike::rng::{Rng, SeededRng};
use rswan::secrets::keyfmt::{der_sequence, der_uint, pem};
use rswan::secrets::{parse_secrets_str, RsaPrivateKey};
use rswan::text::data as ttodata;

const BIN: &str = env!("CARGO_BIN_EXE_ipsec");

fn ipsec(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {BIN}: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

/// A directory under Cargo's per-target temp dir for this test binary (kept
/// for the whole run: the tests share it).
fn tmp() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("rsa-tools-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        dir
    })
}

/// 1 MiB of deterministic "randomness" for `--random FILE`.
fn random_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = tmp().join("random.bin");
        let mut buf = vec![0u8; 1 << 20];
        SeededRng::new(0x5eed).fill(&mut buf);
        std::fs::write(&path, &buf).unwrap();
        path
    })
}

/// `ipsec rsasigkey --hostname test.example --random FILE [--noopt] 2048`, run once.
fn generated(noopt: bool) -> &'static Output {
    static PLAIN: OnceLock<Output> = OnceLock::new();
    static NOOPT: OnceLock<Output> = OnceLock::new();
    let cell = if noopt { &NOOPT } else { &PLAIN };
    cell.get_or_init(|| {
        let rnd = random_file().to_str().unwrap();
        let mut args = vec!["rsasigkey", "--hostname", "test.example", "--random", rnd];
        if noopt {
            args.push("--noopt");
        }
        args.push("2048");
        let o = ipsec(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        o
    })
}

/// Wraps an rsasigkey block as an ipsec.secrets entry and loads it.
fn load_block(id: &str, block: &str) -> RsaPrivateKey {
    let file = format!("{id}: RSA {{\n{block}\t}}\n");
    let loaded = parse_secrets_str(&file, "test.secrets", Path::new("/nonexistent"));
    assert_eq!(loaded.warnings, Vec::<String>::new());
    assert_eq!(loaded.rsa.len(), 1);
    loaded.rsa[0].key.clone()
}

fn parts(k: &RsaPrivateKey) -> RsaPrivateKeyParts {
    RsaPrivateKeyParts {
        n: k.n.clone(),
        e: k.e.clone(),
        d: k.d.clone(),
        p: k.p.clone(),
        q: k.q.clone(),
        dp: k.dp.clone(),
        dq: k.dq.clone(),
        qinv: k.qinv.clone(),
    }
}

fn main_key() -> RsaPrivateKey {
    load_block("@test.example", &stdout(generated(false)))
}

fn have_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("NOTE: openssl not installed; skipping the OpenSSL cross-check");
    }
    ok
}

fn openssl(args: &[&str]) -> Output {
    let o = Command::new("openssl").args(args).output().unwrap();
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

#[test]
fn rsasigkey_block_has_openswan_layout_and_loads_as_secrets() {
    let o = generated(false);
    let out = stdout(o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 12, "{out}");
    assert!(lines[0].starts_with("\t# RSA 2048 bits   test.example   "));
    // ctime layout: "Www Mmm dd hh:mm:ss yyyy"
    let date = lines[0].rsplit("   ").next().unwrap();
    assert_eq!(date.len(), 24, "{date:?}");
    assert_eq!(lines[1], "\t# for signatures only, UNSAFE FOR ENCRYPTION");
    assert!(lines[2].starts_with("\t#pubkey=0sAwEAA"));
    assert!(lines[3].starts_with("\tModulus: 0x"));
    assert_eq!(lines[4], "\tPublicExponent: 0x010001");
    assert_eq!(lines[5], "\t# everything after this point is secret");
    let names = [
        "PrivateExponent",
        "Prime1",
        "Prime2",
        "Exponent1",
        "Exponent2",
        "Coefficient",
    ];
    for (l, name) in lines[6..].iter().zip(names) {
        assert!(l.starts_with(&format!("\t{name}: 0x")), "{l}");
    }
    assert!(stderr(o).contains("libreswan refuses RSA keys under 2192 bits"));

    let key = main_key();
    assert_eq!(key.check(), Ok(()));
    assert_eq!(key.n.bits(), 2048);
    assert_eq!(key.e, BigUint::from(65537u32));
    assert_eq!(lines[2], format!("\t#pubkey={}", key.pubkey_text()));
    let modulus = lines[3].strip_prefix("\tModulus: 0x").unwrap();
    assert_eq!(BigUint::parse_bytes(modulus.as_bytes(), 16).unwrap(), key.n);
    assert!(key.p > key.q);
    // The key signs and verifies through the core.
    let core = parts(&key);
    let public = core.public().unwrap();
    assert_eq!(public.keyid(), key.keyid());
    let h = [0x42u8; 20];
    let sig = core.sign_pkcs1_raw(&h).unwrap();
    assert_eq!(verify_pkcs1_raw(&public, &h, &sig), Ok(()));
}

#[test]
fn rsasigkey_random_file_is_deterministic_and_noopt_changes_only_d() {
    // Generate the --noopt key first, so the two runs overlap.
    let noopt = load_block("@test.example", &stdout(generated(true)));
    let plain = main_key();
    assert_eq!(noopt.check(), Ok(()));
    assert_eq!(
        (&noopt.n, &noopt.p, &noopt.q),
        (&plain.n, &plain.p, &plain.q)
    );
    assert_eq!(
        (&noopt.dp, &noopt.dq, &noopt.qinv),
        (&plain.dp, &plain.dq, &plain.qinv)
    );
    let one = BigUint::from(1u32);
    let phi = (&plain.p - &one) * (&plain.q - &one);
    assert_eq!((&noopt.d * &noopt.e) % &phi, one);
    assert!(noopt.d > plain.d, "lcm-reduced d is the smaller one");
}

#[test]
fn rsasigkey_default_uses_the_system_generator() {
    // The default size (3072) is slow in the debug profile; 2048 exercises the path.
    let o = ipsec(&["rsasigkey", "--verbose", "2048"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("getrandom"));
    let key = load_block("%any", &stdout(&o));
    assert_eq!(key.check(), Ok(()));
    assert_ne!(key.n, main_key().n);
}

#[test]
fn rsasigkey_refuses_bad_arguments() {
    let cases: &[(&[&str], i32, &str)] = &[
        (&["1024"], 1, "too small"),
        (&["512"], 1, "use 2048 or more"),
        (&["2056"], 1, "not multiple of 16"),
        (&["9000"], 1, "overlarge"),
        (&["abc"], 1, "invalid bit count"),
        (&["2048", "4096"], 2, "only one NBITS"),
        (&["--bogus", "2048"], 2, "unrecognized option"),
        (&["--oldkey", "x"], 1, "not supported"),
        (&["--rounds", "0", "2048"], 2, "rounds must be > 0"),
        (
            &["--random", "/nonexistent/rnd", "2048"],
            1,
            "could not open",
        ),
    ];
    for (args, code, msg) in cases {
        let mut v = vec!["rsasigkey"];
        v.extend_from_slice(args);
        let o = ipsec(&v);
        assert_eq!(o.status.code(), Some(*code), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    // A random file that runs dry is an error, never a weak key.
    let short = tmp().join("short.bin");
    std::fs::write(&short, [0x5au8; 300]).unwrap();
    let o = ipsec(&["rsasigkey", "--random", short.to_str().unwrap(), "2048"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("eof on"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    // Help and the top-level list.
    let o = ipsec(&["rsasigkey", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("--random FILE"));
    let o = ipsec(&["--help"]);
    assert!(stdout(&o).contains("rsasigkey") && stdout(&o).contains("showhostkey"));
}

/// A secrets file with a PSK, the generated 2048-bit key for @test.example and
/// a 1024-bit key for @other.example; returns (path, other key). Made once.
fn secrets_file() -> (PathBuf, RsaPrivateKey) {
    static FILE: OnceLock<(PathBuf, RsaPrivateKey)> = OnceLock::new();
    FILE.get_or_init(|| {
        let other = rsa::generate(1024, &mut SeededRng::new(11)).unwrap();
        let other_block = rswan::secrets::keyfmt::render(&other, "other", "date").unwrap();
        let text = format!(
            "192.0.2.1 192.0.2.2: PSK \"not this one\"\n@test.example: RSA {{\n{}\t}}\n@other.example: RSA {{\n{other_block}\t}}\n",
            stdout(generated(false))
        );
        let path = tmp().join("ipsec.secrets");
        std::fs::write(&path, &text).unwrap();
        let loaded = parse_secrets_str(&text, "x", Path::new("/nonexistent"));
        assert_eq!(loaded.rsa.len(), 2);
        (path, loaded.rsa[1].key.clone())
    })
    .clone()
}

#[test]
fn showhostkey_prints_conf_key_and_txt_forms() {
    let (path, other) = secrets_file();
    let f = path.to_str().unwrap();
    let main = main_key();

    let o = ipsec(&["showhostkey", "--file", f, "--left"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!(
            "\t# rsakey {}\n\tleftrsasigkey={}\n",
            main.keyid(),
            main.pubkey_text()
        )
    );
    let o = ipsec(&["showhostkey", "--file", f, "--right"]);
    assert!(stdout(&o).ends_with(&format!("\trightrsasigkey={}\n", main.pubkey_text())));

    // --key: exactly what whack --pubkeyrsa takes, and it parses back.
    let o = ipsec(&["showhostkey", "--file", f, "--key"]);
    let text = stdout(&o);
    assert_eq!(text, format!("{}\n", main.pubkey_text()));
    let blob = ttodata::ttodata(text.trim_end().as_bytes()).unwrap();
    let public = RsaPublicKey::from_rfc3110(&blob).unwrap();
    assert_eq!((public.n(), public.e()), (&main.n, &main.e));

    // Selection by identity and by key ID.
    let o = ipsec(&[
        "showhostkey",
        "--file",
        f,
        "--id",
        "@other.example",
        "--key",
    ]);
    assert_eq!(stdout(&o), format!("{}\n", other.pubkey_text()));
    let o = ipsec(&[
        "showhostkey",
        "--file",
        f,
        "--rsaid",
        &other.keyid(),
        "--key",
    ]);
    assert_eq!(stdout(&o), format!("{}\n", other.pubkey_text()));
    let o = ipsec(&["showhostkey", "--file", f, "--id", "@test.example", "--key"]);
    assert_eq!(stdout(&o), format!("{}\n", main.pubkey_text()));

    // --txt
    let o = ipsec(&["showhostkey", "--file", f, "--txt", "192.0.2.1"]);
    let out = stdout(&o);
    assert!(out.starts_with(&format!("; info about key: {}\n", main.keyid())));
    assert!(out.contains("IN    TXT    \"X-IPsec-Server(10)=192.0.2.1 \" \"AwEAA"));

    // --list
    let o = ipsec(&["showhostkey", "--file", f, "--list"]);
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains(&format!(
        "RSA 2048 bits keyid: {} with id: @test.example",
        main.keyid()
    )));
    assert!(out.contains(&format!(
        "RSA 1024 bits keyid: {} with id: @other.example",
        other.keyid()
    )));
}

#[test]
fn showhostkey_errors() {
    let (path, _) = secrets_file();
    let f = path.to_str().unwrap();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["--file", f], 1, "You must specify some operation"),
        (&["--file", f, "--left", "--key"], 1, "only one operation"),
        (
            &["--file", f, "--id", "@nobody.example", "--key"],
            5,
            "can not find key",
        ),
        (
            &["--file", f, "--id", "no-dns-name", "--key"],
            4,
            "is invalid",
        ),
        (
            &["--file", f, "--rsaid", "AAAAAAAAA", "--key"],
            5,
            "can not find key",
        ),
        (
            &["--file", "/nonexistent/ipsec.secrets", "--key"],
            1,
            "could not open",
        ),
        (&["--file", f, "extra", "--key"], 1, "unexpected argument"),
    ];
    for (args, code, msg) in cases {
        let mut v = vec!["showhostkey"];
        v.extend_from_slice(args);
        let o = ipsec(&v);
        assert_eq!(o.status.code(), Some(*code), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    let psk_only = tmp().join("psk.secrets");
    std::fs::write(&psk_only, ": PSK \"x\"\n").unwrap();
    let o = ipsec(&[
        "showhostkey",
        "--file",
        psk_only.to_str().unwrap(),
        "--left",
    ]);
    assert_eq!(o.status.code(), Some(20));
    assert!(stderr(&o).contains("No keys found"));
}

/// The hex number of an `openssl ... -text` block that starts at `label`.
fn openssl_hex_field(text: &str, label: &str) -> BigUint {
    let mut hex = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with(label) {
            inside = true;
            continue;
        }
        if inside {
            if !line.starts_with(' ') {
                break;
            }
            hex.extend(line.chars().filter(|c| c.is_ascii_hexdigit()));
        }
    }
    BigUint::parse_bytes(hex.as_bytes(), 16).expect("hex field")
}

#[test]
fn showhostkey_pem_is_read_by_openssl() {
    let (path, _) = secrets_file();
    let o = ipsec(&["showhostkey", "--file", path.to_str().unwrap(), "--pem"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert!(out.ends_with("-----END PUBLIC KEY-----\n"));
    assert!(out.lines().all(|l| l.len() <= 64));
    if !have_openssl() {
        return;
    }
    let pem_path = tmp().join("pub.pem");
    std::fs::write(&pem_path, &out).unwrap();
    let o = openssl(&[
        "pkey",
        "-pubin",
        "-in",
        pem_path.to_str().unwrap(),
        "-text",
        "-noout",
    ]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
    assert!(text.contains("Exponent: 65537 (0x10001)"), "{text}");
    assert_eq!(openssl_hex_field(&text, "Modulus:"), main_key().n);
}

/// PKCS#1 RSAPrivateKey (RFC 8017 A.1.2), for handing our key to OpenSSL.
fn rsa_private_key_pem(k: &RsaPrivateKey) -> String {
    let der = der_sequence(&[
        der_uint(&BigUint::from(0u32)),
        der_uint(&k.n),
        der_uint(&k.e),
        der_uint(&k.d),
        der_uint(&k.p),
        der_uint(&k.q),
        der_uint(&k.dp),
        der_uint(&k.dq),
        der_uint(&k.qinv),
    ]);
    pem("RSA PRIVATE KEY", &der)
}

#[test]
fn signatures_interoperate_with_openssl_raw_pkcs1() {
    if !have_openssl() {
        return;
    }
    let key = main_key();
    let core = parts(&key);
    let public = core.public().unwrap();
    let dir = tmp().join("interop");
    std::fs::create_dir_all(&dir).unwrap();
    let p = |name: &str| dir.join(name).to_str().unwrap().to_string();
    std::fs::write(p("priv.pem"), rsa_private_key_pem(&key)).unwrap();
    std::fs::write(
        p("pub.pem"),
        pem(
            "PUBLIC KEY",
            &rswan::secrets::keyfmt::spki_der(&key.n, &key.e),
        ),
    )
    .unwrap();
    // OpenSSL agrees that our private key is consistent.
    let o = openssl(&["rsa", "-in", &p("priv.pem"), "-check", "-noout"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("RSA key ok"));

    for len in [16usize, 20, 32] {
        let hash: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
        std::fs::write(p("hash.bin"), &hash).unwrap();

        // Ours → OpenSSL: verifyrecover gives back the raw hash (no DigestInfo).
        let sig = core.sign_pkcs1_raw(&hash).unwrap();
        std::fs::write(p("ours.sig"), &sig).unwrap();
        let o = openssl(&[
            "pkeyutl",
            "-verifyrecover",
            "-pubin",
            "-inkey",
            &p("pub.pem"),
            "-in",
            &p("ours.sig"),
            "-pkeyopt",
            "rsa_padding_mode:pkcs1",
        ]);
        assert_eq!(o.stdout, hash, "len {len}");

        // OpenSSL → ours: a raw PKCS#1 v1.5 signature of the bare hash.
        openssl(&[
            "pkeyutl",
            "-sign",
            "-inkey",
            &p("priv.pem"),
            "-in",
            &p("hash.bin"),
            "-out",
            &p("theirs.sig"),
            "-pkeyopt",
            "rsa_padding_mode:pkcs1",
        ]);
        let theirs = std::fs::read(p("theirs.sig")).unwrap();
        assert_eq!(theirs, sig, "PKCS#1 v1.5 is deterministic");
        assert_eq!(verify_pkcs1_raw(&public, &hash, &theirs), Ok(()));
    }

    // A DigestInfo-wrapped SHA-1 signature (TLS/X.509 style) is refused.
    let hash = [0x33u8; 20];
    std::fs::write(p("hash.bin"), hash).unwrap();
    openssl(&[
        "pkeyutl",
        "-sign",
        "-inkey",
        &p("priv.pem"),
        "-in",
        &p("hash.bin"),
        "-out",
        &p("di.sig"),
        "-pkeyopt",
        "digest:sha1",
    ]);
    let di = std::fs::read(p("di.sig")).unwrap();
    assert_eq!(
        verify_pkcs1_raw(&public, &hash, &di),
        Err(RsaError::BadPadding)
    );
}
