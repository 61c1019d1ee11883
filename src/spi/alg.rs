//! The algorithms `ipsec spi` knows: the names of `--ah`, `--esp` and
//! `--comp`, their PF_KEY numbers, the key sizes they need, and the names
//! /proc/net/ipsec_spi gives them.
//!
//! KLIPS left key sizes to the kernel (and, for `--esp <alg string>`, to
//! /proc/net/pf_key_supported); here every size is checked before anything
//! is sent, so a short key is one clear line and no kernel change.

use crate::pfkey::consts::*;

/// An encryption (or compression) algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enc {
    /// SADB_EALG_* / SADB_X_CALG_*.
    pub alg: u8,
    /// Name in /proc/net/ipsec_spi (`3DES`, `AES`, `DEFLATE`).
    pub name: &'static str,
    /// Key sizes in bytes the algorithm takes (empty: no key).
    pub key_bytes: &'static [usize],
}

/// An authentication algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Auth {
    /// SADB_AALG_*.
    pub alg: u8,
    /// Name in /proc/net/ipsec_spi (`HMAC_SHA1`...).
    pub name: &'static str,
    /// Key size in bytes (the hash's output size, as RFC 2403/2404/4868 want).
    pub key_bytes: usize,
}

/// What one `--ah`, `--esp` or `--comp` argument names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transform {
    pub enc: Option<Enc>,
    pub auth: Option<Auth>,
}

pub const DES3: Enc = Enc {
    alg: SADB_EALG_3DESCBC,
    name: "3DES",
    key_bytes: &[24],
};
const AES: Enc = Enc {
    alg: SADB_X_EALG_AESCBC,
    name: "AES",
    key_bytes: &[16, 24, 32],
};
const AES128: Enc = Enc {
    key_bytes: &[16],
    ..AES
};
const AES192: Enc = Enc {
    key_bytes: &[24],
    ..AES
};
const AES256: Enc = Enc {
    key_bytes: &[32],
    ..AES
};
pub const DEFLATE: Enc = Enc {
    alg: SADB_X_CALG_DEFLATE,
    name: "DEFLATE",
    key_bytes: &[],
};

pub const MD5: Auth = Auth {
    alg: SADB_AALG_MD5HMAC,
    name: "HMAC_MD5",
    key_bytes: 16,
};
pub const SHA1: Auth = Auth {
    alg: SADB_AALG_SHA1HMAC,
    name: "HMAC_SHA1",
    key_bytes: 20,
};
const SHA2_256: Auth = Auth {
    alg: SADB_X_AALG_SHA2_256HMAC,
    name: "HMAC_SHA2_256",
    key_bytes: 32,
};
const SHA2_384: Auth = Auth {
    alg: SADB_X_AALG_SHA2_384HMAC,
    name: "HMAC_SHA2_384",
    key_bytes: 48,
};
const SHA2_512: Auth = Auth {
    alg: SADB_X_AALG_SHA2_512HMAC,
    name: "HMAC_SHA2_512",
    key_bytes: 64,
};

const ENCS: &[(&str, Enc)] = &[
    ("3des", DES3),
    ("aes", AES),
    ("aes128", AES128),
    ("aes192", AES192),
    ("aes256", AES256),
];

const AUTHS: &[(&str, Auth)] = &[
    ("md5", MD5),
    ("md5-96", MD5),
    ("sha1", SHA1),
    ("sha1-96", SHA1),
    ("sha", SHA1),
    ("sha2", SHA2_256),
    ("sha256", SHA2_256),
    ("sha2_256", SHA2_256),
    ("sha2_256-128", SHA2_256),
    ("sha384", SHA2_384),
    ("sha2_384", SHA2_384),
    ("sha2_384-192", SHA2_384),
    ("sha512", SHA2_512),
    ("sha2_512", SHA2_512),
    ("sha2_512-256", SHA2_512),
];

/// `--ah hmac-md5-96|hmac-sha1-96` (and `hmac-sha2_256`... for the SHA-2
/// HMACs).
pub fn parse_ah(name: &str) -> Result<Transform, String> {
    let lower = name.to_ascii_lowercase();
    let auth = lower
        .strip_prefix("hmac-")
        .and_then(|a| AUTHS.iter().find(|(n, _)| *n == a))
        .map(|(_, a)| *a)
        .ok_or_else(|| format!("unknown authentication algorithm `{name}' for --ah (hmac-md5-96, hmac-sha1-96, hmac-sha2_256, hmac-sha2_384, hmac-sha2_512)"))?;
    Ok(Transform {
        enc: None,
        auth: Some(auth),
    })
}

/// `--esp 3des|3des-md5-96|3des-sha1-96` or an `esp=`-style transform
/// `ENC[-AUTH]` (ENC: 3des, aes, aes128, aes192, aes256; AUTH: md5, sha1,
/// sha2_256, sha2_384, sha2_512, with or without their truncation suffix).
pub fn parse_esp(name: &str) -> Result<Transform, String> {
    let lower = name.to_ascii_lowercase();
    let (enc_name, auth_name) = match lower.split_once('-') {
        Some((e, a)) => (e, Some(a)),
        None => (lower.as_str(), None),
    };
    let unknown = || {
        format!("unknown ESP transform `{name}' (ENC[-AUTH], ENC: 3des aes aes128 aes192 aes256, AUTH: md5 sha1 sha2_256 sha2_384 sha2_512)")
    };
    let enc = ENCS
        .iter()
        .find(|(n, _)| *n == enc_name)
        .map(|(_, e)| *e)
        .ok_or_else(unknown)?;
    let auth = match auth_name {
        None => None,
        Some(a) => Some(
            AUTHS
                .iter()
                .find(|(n, _)| *n == a)
                .map(|(_, a)| *a)
                .ok_or_else(unknown)?,
        ),
    };
    Ok(Transform {
        enc: Some(enc),
        auth,
    })
}

/// `--comp deflate`.
pub fn parse_comp(name: &str) -> Result<Transform, String> {
    if name.eq_ignore_ascii_case("deflate") {
        Ok(Transform {
            enc: Some(DEFLATE),
            auth: None,
        })
    } else {
        Err(format!(
            "unknown compression algorithm `{name}' for --comp (deflate)"
        ))
    }
}

/// Checks a key against what the algorithm needs.
pub fn check_enc_key(enc: &Enc, key: &[u8]) -> Result<(), String> {
    if enc.key_bytes.contains(&key.len()) {
        return Ok(());
    }
    let want: Vec<String> = enc
        .key_bytes
        .iter()
        .map(|b| format!("{} bits", b * 8))
        .collect();
    Err(format!(
        "encryption key of {} bits is wrong for {} (needs {})",
        key.len() * 8,
        enc.name,
        want.join(" or ")
    ))
}

/// Checks an authentication key's size.
pub fn check_auth_key(auth: &Auth, key: &[u8]) -> Result<(), String> {
    if key.len() == auth.key_bytes {
        return Ok(());
    }
    Err(format!(
        "authentication key of {} bits is wrong for {} (needs {} bits)",
        key.len() * 8,
        auth.name,
        auth.key_bytes * 8
    ))
}

/// Listing name of an encryption algorithm number (`ID<n>` if unknown).
pub fn enc_name(alg: u8) -> String {
    match alg {
        SADB_EALG_3DESCBC => "3DES".into(),
        SADB_X_EALG_AESCBC => "AES".into(),
        SADB_EALG_DESCBC => "DES".into(),
        SADB_EALG_NULL => "NULL".into(),
        n => format!("ID{n}"),
    }
}

/// Listing name of an authentication algorithm number (`ID<n>` if unknown).
pub fn auth_name(alg: u8) -> String {
    AUTHS
        .iter()
        .find(|(_, a)| a.alg == alg)
        .map_or_else(|| format!("ID{alg}"), |(_, a)| a.name.to_string())
}

/// Output size in bits of an authentication algorithm (`alen=` of the
/// listing), 0 if unknown.
pub fn auth_bits(alg: u8) -> u32 {
    AUTHS
        .iter()
        .find(|(_, a)| a.alg == alg)
        .map_or(0, |(_, a)| (a.key_bytes * 8) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esp_names() {
        let t = parse_esp("3des").unwrap();
        assert_eq!((t.enc, t.auth), (Some(DES3), None));
        assert_eq!(parse_esp("3des-md5-96").unwrap().auth, Some(MD5));
        assert_eq!(parse_esp("3des-sha1-96").unwrap().auth, Some(SHA1));
        let t = parse_esp("aes128-sha2_256").unwrap();
        assert_eq!(t.enc.unwrap().key_bytes, &[16]);
        assert_eq!(t.auth.unwrap().alg, SADB_X_AALG_SHA2_256HMAC);
        assert_eq!(
            parse_esp("AES-SHA1").unwrap().enc.unwrap().alg,
            SADB_X_EALG_AESCBC
        );
        assert!(parse_esp("blowfish").is_err());
        assert!(parse_esp("3des-crc32").is_err());
        assert!(parse_esp("").is_err());
    }

    #[test]
    fn ah_and_comp_names() {
        assert_eq!(parse_ah("hmac-md5-96").unwrap().auth, Some(MD5));
        assert_eq!(parse_ah("hmac-sha1-96").unwrap().auth, Some(SHA1));
        assert!(parse_ah("md5").is_err());
        assert_eq!(parse_comp("deflate").unwrap().enc, Some(DEFLATE));
        assert!(parse_comp("lzs").is_err());
    }

    #[test]
    fn key_sizes() {
        assert!(check_enc_key(&DES3, &[0; 24]).is_ok());
        let e = check_enc_key(&DES3, &[0; 16]).unwrap_err();
        assert_eq!(
            e,
            "encryption key of 128 bits is wrong for 3DES (needs 192 bits)"
        );
        assert!(check_enc_key(&AES, &[0; 32]).is_ok());
        assert!(check_enc_key(&AES, &[0; 20]).is_err());
        assert!(check_enc_key(&AES128, &[0; 24]).is_err());
        assert!(check_auth_key(&SHA1, &[0; 20]).is_ok());
        assert!(check_auth_key(&SHA1, &[0; 16]).is_err());
        assert!(check_auth_key(&MD5, &[0; 16]).is_ok());
    }

    #[test]
    fn listing_names() {
        assert_eq!(enc_name(3), "3DES");
        assert_eq!(enc_name(12), "AES");
        assert_eq!(enc_name(99), "ID99");
        assert_eq!(auth_name(3), "HMAC_SHA1");
        assert_eq!(auth_name(200), "ID200");
        assert_eq!(auth_bits(2), 128);
        assert_eq!(auth_bits(3), 160);
    }
}
