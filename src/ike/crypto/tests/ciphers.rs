//! CBC cipher known answers and length checks.
use super::*;

// ---------------------------------------------------------------- ciphers

#[test]
fn cipher_ids_and_lengths() {
    use CipherAlg::*;
    for (alg, key, block, id, name) in [
        (Des3, 24, 8, 5, "3DES_CBC"),
        (Aes128, 16, 16, 7, "AES_CBC_128"),
        (Aes192, 24, 16, 7, "AES_CBC_192"),
        (Aes256, 32, 16, 7, "AES_CBC_256"),
    ] {
        assert_eq!(alg.key_len(), key);
        assert_eq!(alg.block_len(), block);
        assert_eq!(alg.oakley_id(), id);
        assert_eq!(alg.name(), name);
    }
    assert_eq!(CipherAlg::from_oakley(5, None), Some(Des3));
    assert_eq!(CipherAlg::from_oakley(5, Some(192)), Some(Des3));
    assert_eq!(CipherAlg::from_oakley(5, Some(128)), None);
    assert_eq!(CipherAlg::from_oakley(5, Some(168)), None);
    assert_eq!(CipherAlg::from_oakley(7, Some(128)), Some(Aes128));
    assert_eq!(CipherAlg::from_oakley(7, Some(192)), Some(Aes192));
    assert_eq!(CipherAlg::from_oakley(7, Some(256)), Some(Aes256));
    assert_eq!(CipherAlg::from_oakley(7, None), None);
    assert_eq!(CipherAlg::from_oakley(7, Some(64)), None);
    assert_eq!(CipherAlg::from_oakley(7, Some(u64::MAX)), None);
    assert_eq!(CipherAlg::from_oakley(1, None), None); // DES
    assert_eq!(CipherAlg::from_oakley(0, None), None);
}

fn check_cbc(alg: CipherAlg, key: &str, iv: &str, pt: &[u8], ct: &str, what: &str) {
    let (key, iv, ct) = (hex(key), hex(iv), hex(ct));
    let mut buf = pt.to_vec();
    cbc_encrypt(alg, &key, &iv, &mut buf).unwrap();
    assert_eq!(buf, ct, "{what} encrypt");
    cbc_decrypt(alg, &key, &iv, &mut buf).unwrap();
    assert_eq!(buf, pt, "{what} decrypt");
}

#[test]
fn rfc3602_aes128_cbc() {
    check_cbc(
        CipherAlg::Aes128,
        "06a9214036b8a15b512e03d534120006",
        "3dafba429d9eb430b422da802c9fac41",
        b"Single block msg",
        "e353779c1079aeb82708942dbe77181a",
        "case 1",
    );
    check_cbc(
        CipherAlg::Aes128,
        "c286696d887c9aa0611bbb3e2025a45a",
        "562e17996d093d28ddb3ba695a2e6f58",
        &(0u8..0x20).collect::<Vec<_>>(),
        "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1",
        "case 2",
    );
    check_cbc(
        CipherAlg::Aes128,
        "6c3ea0477630ce21a2ce334aa746c2cd",
        "c782dc4c098c66cbd9cd27d825682c81",
        b"This is a 48-byte message (exactly 3 AES blocks)",
        "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5\
         021c19216bad525c8579695d83ba2684",
        "case 3",
    );
    check_cbc(
        CipherAlg::Aes128,
        "56e47a38c5598974bc46903dba290349",
        "8ce82eefbea0da3c44699ed7db51b7d9",
        &(0xa0u8..=0xdf).collect::<Vec<_>>(),
        "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e\
         35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55",
        "case 4",
    );
}

const SP800_38A_PT: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
                            30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const SP800_38A_IV: &str = "000102030405060708090a0b0c0d0e0f";

#[test]
fn sp800_38a_aes192_cbc() {
    // F.2.3 CBC-AES192.Encrypt and F.2.4 CBC-AES192.Decrypt.
    check_cbc(
        CipherAlg::Aes192,
        "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
        SP800_38A_IV,
        &hex(SP800_38A_PT),
        "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a\
         571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd",
        "F.2.3/F.2.4",
    );
}

#[test]
fn sp800_38a_aes256_cbc() {
    // F.2.5 CBC-AES256.Encrypt and F.2.6 CBC-AES256.Decrypt.
    check_cbc(
        CipherAlg::Aes256,
        "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
        SP800_38A_IV,
        &hex(SP800_38A_PT),
        "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d\
         39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
        "F.2.5/F.2.6",
    );
}

#[test]
fn fips81_des_cbc_as_tdea_with_equal_keys() {
    // FIPS 81 Appendix C, Table C1 (DES-CBC): key 0123456789abcdef,
    // IV 1234567890abcdef. With K1 = K2 = K3, E(K3, D(K2, E(K1, x))) = E(K1, x).
    check_cbc(
        CipherAlg::Des3,
        "0123456789abcdef0123456789abcdef0123456789abcdef",
        "1234567890abcdef",
        b"Now is the time for all ",
        "e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6",
        "FIPS 81",
    );
}

#[test]
fn sp800_67_tdea_three_keys_through_cbc() {
    // NIST SP 800-67 Rev. 1, TDEA example with three distinct keys (ECB):
    // K1 0123456789ABCDEF, K2 23456789ABCDEF01, K3 456789ABCDEF0123,
    // P "The qufck brown fox jump", C A826FD8CE53B855F CCE21C8112256FE6 68D5C05DD9B6B900.
    let key = hex("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123");
    let p = b"The qufck brown fox jump";
    let c = hex("A826FD8CE53B855FCCE21C8112256FE668D5C05DD9B6B900");
    let zero_iv = [0u8; 8];
    // CBC with a zero IV computes C_i = E(P'_i ^ C_{i-1}), so feeding
    // P'_i = P_i ^ C_{i-1} (C_0 = IV = 0) must give the ECB answers.
    let mut chained: Vec<u8> = p.to_vec();
    for (i, b) in chained.iter_mut().enumerate().skip(8) {
        *b ^= c[i - 8];
    }
    let mut buf = chained.clone();
    cbc_encrypt(CipherAlg::Des3, &key, &zero_iv, &mut buf).unwrap();
    assert_eq!(buf, c);
    cbc_decrypt(CipherAlg::Des3, &key, &zero_iv, &mut buf).unwrap();
    assert_eq!(buf, chained);
    // And with a nonzero IV (value from `openssl enc -des-ede3-cbc`).
    let mut buf = p.to_vec();
    let iv = hex("F69F2445DF4F9B17");
    cbc_encrypt(CipherAlg::Des3, &key, &iv, &mut buf).unwrap();
    assert_eq!(buf, hex("a5c282bad0de3774becd2e04386b589fb5057d8552fc4336"));
    cbc_decrypt(CipherAlg::Des3, &key, &iv, &mut buf).unwrap();
    assert_eq!(buf, p);
}

#[test]
fn cbc_roundtrip_all() {
    let mut rng = SeededRng::new(7);
    for alg in [
        CipherAlg::Des3,
        CipherAlg::Aes128,
        CipherAlg::Aes192,
        CipherAlg::Aes256,
    ] {
        for blocks in 0..5 {
            let mut key = vec![0u8; alg.key_len()];
            let mut iv = vec![0u8; alg.block_len()];
            let mut pt = vec![0u8; blocks * alg.block_len()];
            rng.fill(&mut key);
            rng.fill(&mut iv);
            rng.fill(&mut pt);
            let mut buf = pt.clone();
            cbc_encrypt(alg, &key, &iv, &mut buf).unwrap();
            if blocks > 0 {
                assert_ne!(buf, pt);
            }
            cbc_decrypt(alg, &key, &iv, &mut buf).unwrap();
            assert_eq!(buf, pt, "{} {blocks}", alg.name());
        }
    }
}

#[test]
fn cbc_bad_lengths() {
    for alg in [
        CipherAlg::Des3,
        CipherAlg::Aes128,
        CipherAlg::Aes192,
        CipherAlg::Aes256,
    ] {
        let (k, b) = (alg.key_len(), alg.block_len());
        let key = vec![1u8; k];
        let iv = vec![2u8; b];
        let cases: Vec<(Vec<u8>, Vec<u8>, usize)> = vec![
            (vec![1u8; k - 1], iv.clone(), b),
            (vec![1u8; k + 1], iv.clone(), b),
            (Vec::new(), iv.clone(), b),
            (key.clone(), vec![2u8; b - 1], b),
            (key.clone(), vec![2u8; b + 1], b),
            (key.clone(), Vec::new(), b),
            (key.clone(), iv.clone(), b - 1),
            (key.clone(), iv.clone(), b + 1),
            (key.clone(), iv.clone(), 1),
        ];
        for (key, iv, n) in cases {
            let mut data = vec![3u8; n];
            assert_eq!(
                cbc_encrypt(alg, &key, &iv, &mut data),
                Err(CipherError::BadLength),
                "{} enc key {} iv {} data {n}",
                alg.name(),
                key.len(),
                iv.len()
            );
            assert_eq!(
                cbc_decrypt(alg, &key, &iv, &mut data),
                Err(CipherError::BadLength),
                "{} dec",
                alg.name()
            );
            assert_eq!(data, vec![3u8; n], "data untouched on error");
        }
        let mut empty: [u8; 0] = [];
        assert_eq!(cbc_encrypt(alg, &key, &iv, &mut empty), Ok(()));
    }
}
