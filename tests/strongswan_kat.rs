//! Known-answer tests for the RFC 2409 key schedule against vectors recorded
//! from a real strongSwan 5.9.8 (Debian 12) Main Mode + Quick Mode exchange.
//!
//! Each `tests/vectors/strongswan-5.9.8-ikev1-<name>.txt` file is checked by
//! the test function named after it; `tests/vectors/README.md` explains how
//! the values were produced.  A missing, unparsable, unknown or mismatching
//! field fails the test.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use rswan::ike::crypto::{
    cbc_decrypt, cbc_encrypt, hash_i, hash_r, keymat, phase1_iv, phase2_iv, qm_hash1, qm_hash2,
    skeyid_psk, CipherAlg, DhGroup, HashAlg, Phase1Keys,
};

const PREFIX: &str = "strongswan-5.9.8-ikev1-";

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
}

/// `key = value` lines; `#` starts a comment; blank lines ignored.
struct Vector {
    name: String,
    fields: BTreeMap<String, String>,
    used: RefCell<BTreeSet<String>>,
}

impl Vector {
    fn load(name: &str) -> Vector {
        let path = vectors_dir().join(format!("{PREFIX}{name}.txt"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: cannot read: {e}", path.display()));
        let mut fields = BTreeMap::new();
        for (no, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (k, v) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("{name}:{}: not `key = value`: {raw:?}", no + 1));
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            assert!(
                !k.is_empty() && !v.is_empty(),
                "{name}:{}: empty key or value",
                no + 1
            );
            if fields.insert(k.clone(), v).is_some() {
                panic!("{name}:{}: duplicate field {k}", no + 1);
            }
        }
        Vector {
            name: name.to_string(),
            fields,
            used: RefCell::new(BTreeSet::new()),
        }
    }

    fn opt_str(&self, key: &str) -> Option<&str> {
        self.used.borrow_mut().insert(key.to_string());
        self.fields.get(key).map(String::as_str)
    }

    fn str(&self, key: &str) -> &str {
        self.opt_str(key)
            .unwrap_or_else(|| panic!("{}: required field `{key}` missing", self.name))
    }

    fn opt_hex(&self, key: &str) -> Option<Vec<u8>> {
        self.opt_str(key)
            .map(|s| unhex(s).unwrap_or_else(|e| panic!("{}: field `{key}`: {e}", self.name)))
    }

    fn hex(&self, key: &str) -> Vec<u8> {
        self.opt_hex(key)
            .unwrap_or_else(|| panic!("{}: required field `{key}` missing", self.name))
    }

    fn hash_alg(&self, key: &str) -> HashAlg {
        match self.str(key) {
            "md5" => HashAlg::Md5,
            "sha1" => HashAlg::Sha1,
            "sha256" => HashAlg::Sha256,
            "sha384" => HashAlg::Sha384,
            "sha512" => HashAlg::Sha512,
            other => panic!("{}: unknown {key} {other:?}", self.name),
        }
    }

    fn cipher(&self, key: &str) -> CipherAlg {
        match self.str(key) {
            "3des" => CipherAlg::Des3,
            "aes128" => CipherAlg::Aes128,
            "aes192" => CipherAlg::Aes192,
            "aes256" => CipherAlg::Aes256,
            other => panic!("{}: unknown {key} {other:?}", self.name),
        }
    }

    fn group(&self, key: &str) -> Option<DhGroup> {
        self.opt_str(key).map(|g| match g {
            "modp1024" => DhGroup::Modp1024,
            "modp1536" => DhGroup::Modp1536,
            "modp2048" => DhGroup::Modp2048,
            other => panic!("{}: unknown {key} {other:?}", self.name),
        })
    }

    fn unused(&self) -> Vec<String> {
        let used = self.used.borrow();
        self.fields
            .keys()
            .filter(|k| !used.contains(*k))
            .cloned()
            .collect()
    }
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err(format!("odd-length hex ({} digits)", s.len()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(s.get(i..i + 2).unwrap_or("?"), 16)
                .map_err(|_| format!("bad hex at offset {i}"))
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

/// Collects every mismatch of one vector so a failure reports all of them.
struct Checker {
    name: String,
    failures: Vec<String>,
    checked: usize,
}

impl Checker {
    fn eq(&mut self, what: &str, got: &[u8], want: &[u8]) {
        self.checked += 1;
        if got != want {
            self.failures.push(format!(
                "{what}:\n      got  {} ({} bytes)\n      want {} ({} bytes)",
                hex(got),
                got.len(),
                hex(want),
                want.len()
            ));
        }
    }

    fn len(&mut self, what: &str, got: usize, want: usize) {
        self.checked += 1;
        if got != want {
            self.failures
                .push(format!("{what}: length {got}, expected {want}"));
        }
    }

    fn finish(self) {
        if !self.failures.is_empty() {
            panic!(
                "{}: {} of {} checks failed:\n  {}",
                self.name,
                self.failures.len(),
                self.checked,
                self.failures.join("\n  ")
            );
        }
    }
}

/// Key length of the ESP transforms strongSwan derived KEYMAT for.
fn esp_encr_len(v: &Vector) -> usize {
    match v.str("esp_cipher") {
        "3DES_CBC" => 24,
        "AES_CBC_128" => 16,
        "AES_CBC_192" => 24,
        "AES_CBC_256" => 32,
        other => panic!("{}: unknown esp_cipher {other:?}", v.name),
    }
}

fn esp_integ_len(v: &Vector) -> usize {
    match v.str("esp_integ") {
        "HMAC_MD5_96" => 16,
        "HMAC_SHA1_96" => 20,
        "HMAC_SHA2_256_128" => 32,
        "HMAC_SHA2_384_192" => 48,
        "HMAC_SHA2_512_256" => 64,
        other => panic!("{}: unknown esp_integ {other:?}", v.name),
    }
}

fn check(name: &str) {
    let v = Vector::load(name);
    let mut c = Checker {
        name: name.to_string(),
        failures: Vec::new(),
        checked: 0,
    };

    // ---- negotiated algorithms
    let prf = v.hash_alg("prf");
    let hash = v.hash_alg("hash");
    let cipher = v.cipher("cipher");
    let group = v
        .group("group")
        .unwrap_or_else(|| panic!("{name}: required field `group` missing"));

    // ---- phase 1 inputs
    let psk = v.hex("psk");
    let cky_i = v.hex("cky_i");
    let cky_r = v.hex("cky_r");
    let ni = v.hex("ni");
    let nr = v.hex("nr");
    let gxi = v.hex("gxi");
    let gxr = v.hex("gxr");
    let gxy = v.hex("gxy");
    c.len("cky_i", cky_i.len(), 8);
    c.len("cky_r", cky_r.len(), 8);
    // The DH secret cannot be recomputed without a private exponent; check
    // at least that every DH value has the group's length.
    c.len("gxi", gxi.len(), group.len());
    c.len("gxr", gxr.len(), group.len());
    c.len("gxy", gxy.len(), group.len());

    // ---- SKEYID and its children
    let skeyid = skeyid_psk(prf, &psk, &ni, &nr);
    c.eq("SKEYID = prf(psk, Ni_b | Nr_b)", &skeyid, &v.hex("skeyid"));
    let keys = Phase1Keys::derive(prf, v.hex("skeyid"), &gxy, &cky_i, &cky_r, cipher);
    c.eq("Phase1Keys.skeyid", keys.skeyid(), &v.hex("skeyid"));
    c.eq("SKEYID_d", keys.skeyid_d(), &v.hex("skeyid_d"));
    c.eq("SKEYID_a", keys.skeyid_a(), &v.hex("skeyid_a"));
    c.eq("SKEYID_e", keys.skeyid_e(), &v.hex("skeyid_e"));
    let enc_key = v.hex("enc_key");
    c.len(
        "enc_key vs cipher key length",
        enc_key.len(),
        cipher.key_len(),
    );
    c.eq("encryption key Ka (Appendix B)", keys.enc_key(), &enc_key);
    let iv = v.hex("iv");
    c.len("iv vs cipher block length", iv.len(), cipher.block_len());
    c.eq(
        "initial IV = hash(g^xi | g^xr)",
        &phase1_iv(hash, &gxi, &gxr, cipher.block_len()),
        &iv,
    );

    // ---- Main Mode authentication hashes
    let sai_b = v.hex("sai_b");
    let skeyid_v = v.hex("skeyid");
    c.eq(
        "HASH_I",
        &hash_i(
            prf,
            &skeyid_v,
            &gxi,
            &gxr,
            &cky_i,
            &cky_r,
            &sai_b,
            &v.hex("idii_b"),
        ),
        &v.hex("hash_i"),
    );
    c.eq(
        "HASH_R",
        &hash_r(
            prf,
            &skeyid_v,
            &gxi,
            &gxr,
            &cky_i,
            &cky_r,
            &sai_b,
            &v.hex("idir_b"),
        ),
        &v.hex("hash_r"),
    );

    // ---- the phase-1 key and IV really decrypt/encrypt strongSwan's MM5
    let mm5_enc = v.hex("mm5_enc");
    let mm5_dec = v.hex("mm5_dec");
    let mut buf = mm5_enc.clone();
    match cbc_decrypt(cipher, &enc_key, &iv, &mut buf) {
        Ok(()) => c.eq("cbc_decrypt(MM5, Ka, IV)", &buf, &mm5_dec),
        Err(e) => c.failures.push(format!("cbc_decrypt(MM5): {e:?}")),
    }
    let mut buf = mm5_dec.clone();
    match cbc_encrypt(cipher, &enc_key, &iv, &mut buf) {
        Ok(()) => c.eq("cbc_encrypt(MM5 plaintext, Ka, IV)", &buf, &mm5_enc),
        Err(e) => c.failures.push(format!("cbc_encrypt(MM5): {e:?}")),
    }

    // ---- Quick Mode
    let msgid_b = v.hex("msgid");
    c.len("msgid", msgid_b.len(), 4);
    let msgid = u32::from_be_bytes(
        msgid_b
            .get(..4)
            .and_then(|s| s.try_into().ok())
            .unwrap_or([0; 4]),
    );
    let qm_iv = v.hex("qm_iv");
    c.eq(
        "phase-2 IV = hash(last phase-1 block | M-ID)",
        &phase2_iv(hash, &v.hex("last_block"), msgid, cipher.block_len()),
        &qm_iv,
    );
    let qm1_enc = v.hex("qm1_enc");
    let qm1_dec = v.hex("qm1_dec");
    let mut buf = qm1_enc.clone();
    match cbc_decrypt(cipher, &enc_key, &qm_iv, &mut buf) {
        Ok(()) => c.eq("cbc_decrypt(QM1, Ka, phase-2 IV)", &buf, &qm1_dec),
        Err(e) => c.failures.push(format!("cbc_decrypt(QM1): {e:?}")),
    }

    let skeyid_a = v.hex("skeyid_a");
    let skeyid_d = v.hex("skeyid_d");
    let ni2 = v.hex("ni2");
    let nr2 = v.hex("nr2");
    c.eq(
        "HASH(1)",
        &qm_hash1(prf, &skeyid_a, msgid, &v.hex("qm1_rest")),
        &v.hex("hash1"),
    );
    c.eq(
        "HASH(2)",
        &qm_hash2(prf, &skeyid_a, msgid, &ni2, &v.hex("qm2_rest")),
        &v.hex("hash2"),
    );

    let protocol_b = v.hex("protocol");
    c.len("protocol", protocol_b.len(), 1);
    let protocol = protocol_b.first().copied().unwrap_or(0);
    let spi_i = v.hex("spi_i");
    let spi_r = v.hex("spi_r");
    c.len("spi_i", spi_i.len(), 4);
    c.len("spi_r", spi_r.len(), 4);

    // PFS: g(qm)^xy enters KEYMAT; all three are present or none.
    let qm_group = v.group("qm_group");
    let gqm = v.opt_hex("gqm");
    let (gqm_i, gqm_r) = (v.opt_hex("gqm_i"), v.opt_hex("gqm_r"));
    match (qm_group, &gqm, &gqm_i, &gqm_r) {
        (Some(g), Some(s), Some(a), Some(b)) => {
            c.len("gqm", s.len(), g.len());
            c.len("gqm_i", a.len(), g.len());
            c.len("gqm_r", b.len(), g.len());
        }
        (None, None, None, None) => {}
        _ => {
            panic!("{name}: PFS fields qm_group/gqm/gqm_i/gqm_r must all be present or all absent")
        }
    }

    let (elen, ilen) = (esp_encr_len(&v), esp_integ_len(&v));
    for (dir, spi) in [("i", &spi_r), ("r", &spi_i)] {
        let encr = v.hex(&format!("keymat_{dir}_encr"));
        let integ = v.hex(&format!("keymat_{dir}_integ"));
        c.len(&format!("keymat_{dir}_encr"), encr.len(), elen);
        c.len(&format!("keymat_{dir}_integ"), integ.len(), ilen);
        let want = [encr, integ].concat();
        let got = keymat(
            prf,
            &skeyid_d,
            gqm.as_deref(),
            protocol,
            spi,
            &ni2,
            &nr2,
            want.len(),
        );
        c.eq(
            &format!("KEYMAT {dir} (encr | integ, SPI {})", hex(spi)),
            &got,
            &want,
        );
    }

    let unused = v.unused();
    if !unused.is_empty() {
        c.failures
            .push(format!("unknown fields in vector file: {unused:?}"));
    }
    c.finish();
}

macro_rules! vectors {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check($name);
            }
        )*

        /// Every vector file on disk must have a test above, and vice versa.
        #[test]
        fn every_vector_file_is_tested() {
            let listed: BTreeSet<String> = [$($name),*].iter().map(|s| s.to_string()).collect();
            let mut on_disk = BTreeSet::new();
            for entry in std::fs::read_dir(vectors_dir()).expect("tests/vectors") {
                let fname = entry.expect("dir entry").file_name().to_string_lossy().into_owned();
                if let Some(rest) = fname.strip_prefix(PREFIX) {
                    if let Some(name) = rest.strip_suffix(".txt") {
                        if !name.ends_with(".log") {
                            on_disk.insert(name.to_string());
                        }
                    }
                }
            }
            assert_eq!(on_disk, listed, "vector files on disk vs tests in strongswan_kat.rs");
        }
    };
}

vectors! {
    strongswan_5_9_8_ikev1_3des_sha1_modp1536 => "3des-sha1-modp1536",
    strongswan_5_9_8_ikev1_3des_md5_modp1024 => "3des-md5-modp1024",
    strongswan_5_9_8_ikev1_aes128_sha1_modp2048 => "aes128-sha1-modp2048",
    strongswan_5_9_8_ikev1_aes192_sha256_modp1536 => "aes192-sha256-modp1536",
    strongswan_5_9_8_ikev1_aes256_sha1_modp1024 => "aes256-sha1-modp1024",
    strongswan_5_9_8_ikev1_aes256_sha256_modp2048 => "aes256-sha256-modp2048",
}
