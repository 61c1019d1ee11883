//! Hash ids and HMAC known answers.
use super::*;

// ---------------------------------------------------------------- hashes

#[test]
fn hash_ids_and_lengths() {
    for (alg, id, len, name) in [
        (HashAlg::Md5, 1, 16, "MD5"),
        (HashAlg::Sha1, 2, 20, "SHA1"),
        (HashAlg::Sha256, 4, 32, "SHA2_256"),
        (HashAlg::Sha384, 5, 48, "SHA2_384"),
        (HashAlg::Sha512, 6, 64, "SHA2_512"),
    ] {
        assert_eq!(alg.oakley_id(), id);
        assert_eq!(HashAlg::from_oakley_id(u64::from(id)), Some(alg));
        assert_eq!(alg.output_len(), len);
        assert_eq!(alg.name(), name);
        assert_eq!(hash(alg, &[b"abc"]).len(), len);
        assert_eq!(prf(alg, b"k", &[b"abc"]).len(), len);
    }
    for id in [0, 3, 7, 65536, u64::MAX] {
        assert_eq!(HashAlg::from_oakley_id(id), None);
    }
}

#[test]
fn hash_known_answers() {
    // FIPS 180 / RFC 1321 "abc", split across parts to exercise concatenation.
    assert_eq!(
        hash(HashAlg::Md5, &[b"a", b"bc"]),
        hex("900150983cd24fb0d6963f7d28e17f72")
    );
    assert_eq!(
        hash(HashAlg::Sha1, &[b"ab", b"", b"c"]),
        hex("a9993e364706816aba3e25717850c26c9cd0d89d")
    );
    assert_eq!(
        hash(HashAlg::Sha256, &[b"abc"]),
        hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
}

struct HmacCase {
    key: Vec<u8>,
    data: Vec<u8>,
}

fn rfc2202_cases(key_len: usize) -> Vec<HmacCase> {
    // key_len: 16 for MD5, 20 for SHA-1 in cases 1, 3 and 5.
    vec![
        HmacCase {
            key: vec![0x0b; key_len],
            data: b"Hi There".to_vec(),
        },
        HmacCase {
            key: b"Jefe".to_vec(),
            data: b"what do ya want for nothing?".to_vec(),
        },
        HmacCase {
            key: vec![0xaa; key_len],
            data: vec![0xdd; 50],
        },
        HmacCase {
            key: (1..=25).collect(),
            data: vec![0xcd; 50],
        },
        HmacCase {
            key: vec![0x0c; key_len],
            data: b"Test With Truncation".to_vec(),
        },
        HmacCase {
            key: vec![0xaa; 80],
            data: b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
        },
        HmacCase {
            key: vec![0xaa; 80],
            data: b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"
                .to_vec(),
        },
    ]
}

#[test]
fn rfc2202_hmac_md5() {
    let expected = [
        "9294727a3638bb1c13f48ef8158bfc9d",
        "750c783e6ab0b503eaa86e310a5db738",
        "56be34521d144c88dbb8c733f0e8b3f6",
        "697eaf0aca3a3aea3a75164746ffaa79",
        "56461ef2342edc00f9bab995690efd4c",
        "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
        "6f630fad67cda0ee1fb1f562db3aa53e",
    ];
    for (i, (c, e)) in rfc2202_cases(16).iter().zip(expected).enumerate() {
        assert_eq!(
            prf(HashAlg::Md5, &c.key, &[&c.data]),
            hex(e),
            "case {}",
            i + 1
        );
    }
}

#[test]
fn rfc2202_hmac_sha1() {
    let expected = [
        "b617318655057264e28bc0b6fb378c8ef146be00",
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
        "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
        "4c9007f4026250c6bc8414f9bf50c86c2d7235da",
        "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04",
        "aa4ae5e15272d00e95705637ce8a3b55ed402112",
        "e8e99d0f45237d786d6bbaa7965c7808bbff1a91",
    ];
    for (i, (c, e)) in rfc2202_cases(20).iter().zip(expected).enumerate() {
        assert_eq!(
            prf(HashAlg::Sha1, &c.key, &[&c.data]),
            hex(e),
            "case {}",
            i + 1
        );
        // Same result when the data arrives in pieces.
        let (a, b) = c.data.split_at(c.data.len() / 2);
        assert_eq!(
            prf(HashAlg::Sha1, &c.key, &[a, b]),
            hex(e),
            "case {} split",
            i + 1
        );
    }
}

#[test]
fn rfc4231_hmac_sha2() {
    // (case, key, data, [SHA-256, SHA-384, SHA-512])
    type Case = (&'static str, Vec<u8>, Vec<u8>, [&'static str; 3]);
    let cases: Vec<Case> = vec![
        (
            "1",
            vec![0x0b; 20],
            b"Hi There".to_vec(),
            [
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c\
                 faea9ea9076ede7f4af152e8b2fa9cb6",
                "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde\
                 daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
            ],
        ),
        (
            "2",
            b"Jefe".to_vec(),
            b"what do ya want for nothing?".to_vec(),
            [
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e\
                 8e2240ca5e69e2c78b3239ecfab21649",
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                 9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ],
        ),
        (
            "3",
            vec![0xaa; 20],
            vec![0xdd; 50],
            [
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
                "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b\
                 2a5ab39dc13814b94e3ab6e101a34f27",
                "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39\
                 bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
            ],
        ),
        (
            "4",
            (1..=25).collect(),
            vec![0xcd; 50],
            [
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
                "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e\
                 6801dd23c4a7d679ccf8a386c674cffb",
                "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db\
                 a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
            ],
        ),
        (
            "6",
            vec![0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
            [
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6\
                 0c2ef6ab4030fe8296248df163f44952",
                "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
                 6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
            ],
        ),
        (
            "7",
            vec![0xaa; 131],
            b"This is a test using a larger than block-size key and a larger than \
              block-size data. The key needs to be hashed before being used by the \
              HMAC algorithm."
                .to_vec(),
            [
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
                "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5\
                 a678cc31e799176d3860e6110c46523e",
                "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944\
                 b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
            ],
        ),
    ];
    for (name, key, data, [e256, e384, e512]) in &cases {
        assert_eq!(
            prf(HashAlg::Sha256, key, &[data]),
            hex(e256),
            "case {name} SHA-256"
        );
        assert_eq!(
            prf(HashAlg::Sha384, key, &[data]),
            hex(e384),
            "case {name} SHA-384"
        );
        assert_eq!(
            prf(HashAlg::Sha512, key, &[data]),
            hex(e512),
            "case {name} SHA-512"
        );
    }
}
