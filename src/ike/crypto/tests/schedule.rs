//! RFC 2409 key schedule known answers.
use super::*;

// ---------------------------------------------------------------- key schedule

/// Output of `python3 src/ike/crypto/kat_gen.py`, pasted verbatim.
mod kat {
    pub const MD5_SKEYID: &str = "0213982fc61cc7d4a1ec196be34e3585";
    pub const MD5_SKEYID_D: &str = "124e6e8b1ca990d30087e0966ef2f95c";
    pub const MD5_SKEYID_A: &str = "53cab148c6ca456c80dea99504347a39";
    pub const MD5_SKEYID_E: &str = "d8c2906d0ab8bec863150cb887d16806";
    pub const MD5_3DES_KEY: &str = "7239fcfb3737f394032541ab2d6ebbcb242ee796eb515d55";
    pub const MD5_IV1_3DES: &str = "4fdba1f8db0c933b";
    pub const MD5_IV2_3DES: &str = "5db4d38487ce74ee";
    pub const MD5_KEYMAT_44: &str =
        "c9db1bc9bb27c4dcc8937abdf16d67585e9bb05605ea3e7675db1c243e70a072995a6d8fe75531aa1be87f96";
    pub const SHA1_SKEYID: &str = "27e351ca08c3b2fd964b7508164373d5bcec895b";
    pub const SHA1_SKEYID_D: &str = "1152e622310b02bbfbdb2061178f24fc90a609d1";
    pub const SHA1_SKEYID_A: &str = "cf818adc15e7814d11048fbfdf62833e4be27cb2";
    pub const SHA1_SKEYID_E: &str = "1578e8de8f3b1b96293dfc00ddddbc2f263a9eee";
    pub const SHA1_AES256_KEY: &str =
        "58ca60502dc8dc39e90a4369135dc995561d2727360394fca9b85728ff18abe4";
    pub const SHA1_AES128_KEY: &str = "1578e8de8f3b1b96293dfc00ddddbc2f";
    pub const SHA1_IV1_AES: &str = "cf1ce1cb19609d236d9e2b5365bf2f13";
    pub const SHA1_IV2_AES: &str = "7cfff70d4b493b21ed4494c8e9cd44e5";
    pub const SHA1_HASH_I: &str = "cc16c5409f90005ef4ea228ea57b4767e0cd9972";
    pub const SHA1_HASH_R: &str = "ab30770995607b6ec9db6cbd0a19ba1e316cce91";
    pub const SHA1_QM_HASH1: &str = "cb20144048316b7218f3e8a9b2dc956b8de9be3e";
    pub const SHA1_QM_HASH2: &str = "752f3cefc3edc65e3c6efa6b1ab0294ff3b86e14";
    pub const SHA1_QM_HASH3: &str = "25218ecbde5d0c3b76ab934b05dfcf54f3f07366";
    pub const SHA1_INFO_HASH: &str = "cb20144048316b7218f3e8a9b2dc956b8de9be3e";
    pub const SHA1_KEYMAT_72: &str = "ba5da2e9e552c67dacaee9f5efcc258161fde6dd4c7d7c274cd4e197cc55d760b06c153dcefa579623802883a8c4f282546020792e683434d566fad57e025192b49eccee4f8ddff3";
    pub const SHA1_KEYMAT_72_PFS: &str = "f6eb414e313d6a7739d42809398c98f1411544be0ea1cc995544c6612a28a47a8cfabae0dd3f61116ce50d28d929999b22ae3372b8d6f6bc679ec87adf79aa284e884a5dc80526f4";
    pub const SHA256_SKEYID_SIG: &str =
        "c90c01d9073965ed5c017d591083829012dc1d901cab3ef1e8176eb2f1934d98";
    pub const SHA256_SKEYID_E: &str =
        "56e58bd27517fdba371538ad32defa00612a9acd8c3c3bddc1c45d6ca8bae824";
    pub const SHA256_AES256_KEY: &str =
        "56e58bd27517fdba371538ad32defa00612a9acd8c3c3bddc1c45d6ca8bae824";
    pub const SHA256_KEYMAT_100_PFS: &str = "aee45a5fea4bcf5faeb4a942a7faa1552cfd321abf76b4b47993c78de5aaf3aeb560b2f758ddc889079c27befcb679110ea53754059a0c2660597b2dde3622e765fe53e2a0a5f636df9478065c9a5f197f294723924c8da6d88c9dc1ac454f9045c7c724";
}

/// The fixed inputs of kat_gen.py.
struct KatInputs {
    psk: Vec<u8>,
    ni: Vec<u8>,
    nr: Vec<u8>,
    gxy: Vec<u8>,
    cky_i: Vec<u8>,
    cky_r: Vec<u8>,
    gxi: Vec<u8>,
    gxr: Vec<u8>,
    sai_b: Vec<u8>,
    idii_b: Vec<u8>,
    idir_b: Vec<u8>,
    last8: Vec<u8>,
    last16: Vec<u8>,
    msgid: u32,
    rest: Vec<u8>,
    gqm: Vec<u8>,
    spi: Vec<u8>,
    proto_esp: u8,
}

fn kat_inputs() -> KatInputs {
    KatInputs {
        psk: b"rswan kat pre-shared key".to_vec(),
        ni: pat(16, 3, 1),
        nr: pat(24, 5, 2),
        gxy: pat(128, 7, 3),
        cky_i: pat(8, 11, 4),
        cky_r: pat(8, 13, 5),
        gxi: pat(128, 17, 6),
        gxr: pat(128, 19, 7),
        sai_b: pat(52, 23, 8),
        idii_b: pat(12, 29, 9),
        idir_b: pat(12, 31, 10),
        last8: pat(8, 37, 11),
        last16: pat(16, 41, 12),
        msgid: 0xDEAD_BEEF,
        rest: pat(100, 43, 13),
        gqm: pat(128, 47, 14),
        spi: pat(4, 53, 15),
        proto_esp: 3,
    }
}

#[test]
fn kat_md5_3des() {
    let k = kat_inputs();
    let prf_alg = HashAlg::Md5;
    let skeyid = skeyid_psk(prf_alg, &k.psk, &k.ni, &k.nr);
    assert_eq!(skeyid, hex(kat::MD5_SKEYID));
    let keys = Phase1Keys::derive(
        prf_alg,
        skeyid.clone(),
        &k.gxy,
        &k.cky_i,
        &k.cky_r,
        CipherAlg::Des3,
    );
    assert_eq!(keys.skeyid(), skeyid);
    assert_eq!(keys.skeyid_d(), hex(kat::MD5_SKEYID_D));
    assert_eq!(keys.skeyid_a(), hex(kat::MD5_SKEYID_A));
    assert_eq!(keys.skeyid_e(), hex(kat::MD5_SKEYID_E));
    // 16-byte SKEYID_e, 24-byte key: Appendix B expansion.
    assert_eq!(keys.enc_key(), hex(kat::MD5_3DES_KEY));
    assert_eq!(
        phase1_iv(HashAlg::Md5, &k.gxi, &k.gxr, 8),
        hex(kat::MD5_IV1_3DES)
    );
    assert_eq!(
        phase2_iv(HashAlg::Md5, &k.last8, k.msgid, 8),
        hex(kat::MD5_IV2_3DES)
    );
    assert_eq!(
        keymat(
            prf_alg,
            keys.skeyid_d(),
            None,
            k.proto_esp,
            &k.spi,
            &k.ni,
            &k.nr,
            44
        ),
        hex(kat::MD5_KEYMAT_44)
    );
}

#[test]
fn kat_sha1_aes() {
    let k = kat_inputs();
    let prf_alg = HashAlg::Sha1;
    let skeyid = skeyid_psk(prf_alg, &k.psk, &k.ni, &k.nr);
    assert_eq!(skeyid, hex(kat::SHA1_SKEYID));
    let keys = Phase1Keys::derive(
        prf_alg,
        skeyid.clone(),
        &k.gxy,
        &k.cky_i,
        &k.cky_r,
        CipherAlg::Aes256,
    );
    assert_eq!(keys.skeyid_d(), hex(kat::SHA1_SKEYID_D));
    assert_eq!(keys.skeyid_a(), hex(kat::SHA1_SKEYID_A));
    assert_eq!(keys.skeyid_e(), hex(kat::SHA1_SKEYID_E));
    // 20-byte SKEYID_e, 32-byte key: expansion.
    assert_eq!(keys.enc_key(), hex(kat::SHA1_AES256_KEY));
    // 16-byte key: leftmost bytes of SKEYID_e.
    let keys128 = Phase1Keys::derive(
        prf_alg,
        skeyid.clone(),
        &k.gxy,
        &k.cky_i,
        &k.cky_r,
        CipherAlg::Aes128,
    );
    assert_eq!(keys128.enc_key(), hex(kat::SHA1_AES128_KEY));
    assert_eq!(keys128.skeyid_e(), keys.skeyid_e());

    assert_eq!(
        phase1_iv(HashAlg::Sha1, &k.gxi, &k.gxr, 16),
        hex(kat::SHA1_IV1_AES)
    );
    assert_eq!(
        phase2_iv(HashAlg::Sha1, &k.last16, k.msgid, 16),
        hex(kat::SHA1_IV2_AES)
    );
    assert_eq!(
        hash_i(prf_alg, &skeyid, &k.gxi, &k.gxr, &k.cky_i, &k.cky_r, &k.sai_b, &k.idii_b),
        hex(kat::SHA1_HASH_I)
    );
    assert_eq!(
        hash_r(prf_alg, &skeyid, &k.gxi, &k.gxr, &k.cky_i, &k.cky_r, &k.sai_b, &k.idir_b),
        hex(kat::SHA1_HASH_R)
    );
    let a = &keys.skeyid_a();
    assert_eq!(
        qm_hash1(prf_alg, a, k.msgid, &k.rest),
        hex(kat::SHA1_QM_HASH1)
    );
    assert_eq!(
        qm_hash2(prf_alg, a, k.msgid, &k.ni, &k.rest),
        hex(kat::SHA1_QM_HASH2)
    );
    assert_eq!(
        qm_hash3(prf_alg, a, k.msgid, &k.ni, &k.nr),
        hex(kat::SHA1_QM_HASH3)
    );
    assert_eq!(
        informational_hash(prf_alg, a, k.msgid, &k.rest),
        hex(kat::SHA1_INFO_HASH)
    );
    let d = &keys.skeyid_d();
    assert_eq!(
        keymat(prf_alg, d, None, k.proto_esp, &k.spi, &k.ni, &k.nr, 72),
        hex(kat::SHA1_KEYMAT_72)
    );
    assert_eq!(
        keymat(
            prf_alg,
            d,
            Some(&k.gqm),
            k.proto_esp,
            &k.spi,
            &k.ni,
            &k.nr,
            72
        ),
        hex(kat::SHA1_KEYMAT_72_PFS)
    );
    // Prefix property: a shorter request is a prefix of a longer one.
    let short = keymat(
        prf_alg,
        d,
        Some(&k.gqm),
        k.proto_esp,
        &k.spi,
        &k.ni,
        &k.nr,
        5,
    );
    assert_eq!(short, hex(kat::SHA1_KEYMAT_72_PFS).get(..5).unwrap());
    assert!(keymat(prf_alg, d, None, k.proto_esp, &k.spi, &k.ni, &k.nr, 0).is_empty());
}

#[test]
fn kat_sha256_sig() {
    let k = kat_inputs();
    let prf_alg = HashAlg::Sha256;
    let skeyid = skeyid_sig(prf_alg, &k.ni, &k.nr, &k.gxy);
    assert_eq!(skeyid, hex(kat::SHA256_SKEYID_SIG));
    let keys = Phase1Keys::derive(
        prf_alg,
        skeyid,
        &k.gxy,
        &k.cky_i,
        &k.cky_r,
        CipherAlg::Aes256,
    );
    assert_eq!(keys.skeyid_e(), hex(kat::SHA256_SKEYID_E));
    // 32-byte SKEYID_e, 32-byte key: no expansion.
    assert_eq!(keys.enc_key(), hex(kat::SHA256_AES256_KEY));
    assert_eq!(
        keymat(
            prf_alg,
            keys.skeyid_d(),
            Some(&k.gqm),
            k.proto_esp,
            &k.spi,
            &k.ni,
            &k.nr,
            100
        ),
        hex(kat::SHA256_KEYMAT_100_PFS)
    );
}

#[test]
fn iv_truncation_and_debug() {
    // Block lengths longer than the hash give the whole hash, never a panic.
    assert_eq!(phase1_iv(HashAlg::Md5, b"a", b"b", 32).len(), 16);
    assert_eq!(phase2_iv(HashAlg::Sha1, b"", 0, 8).len(), 8);
    let keys = Phase1Keys::derive(
        HashAlg::Sha1,
        vec![1; 20],
        b"g",
        b"i",
        b"r",
        CipherAlg::Des3,
    );
    assert_eq!(format!("{keys:?}"), "Phase1Keys { .. }");
    assert_eq!(keys.enc_key().len(), 24);
    // Once Main Mode is over only SKEYID_d, SKEYID_a and the key stay.
    let mut kept = keys.clone();
    kept.forget_exchange();
    assert!(kept.skeyid().is_empty() && kept.skeyid_e().is_empty());
    assert_eq!(kept.skeyid_d(), keys.skeyid_d());
    assert_eq!(kept.skeyid_a(), keys.skeyid_a());
    assert_eq!(kept.enc_key(), keys.enc_key());
    assert_eq!(keys.skeyid(), &[1; 20][..]);
    assert!(keys.skeyid_e().len() == 20 && keys.skeyid_d() != keys.skeyid_a());
}
