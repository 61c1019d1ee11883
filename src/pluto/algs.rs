//! The `--ike`, `--esp` and `--pfsgroup` strings of whack.
//!
//! `--ike`: comma-separated `ENC[KEYLEN]-HASH[-GROUP]`, e.g. `3des-sha1-modp1536`,
//! `aes128-sha1-modp2048`, `aes256-sha2_256`. Without a group, MODP1536 and
//! MODP1024 are both offered (as pluto did). `--esp`: comma-separated
//! `ENC[KEYLEN][-AUTH]`, e.g. `3des-md5`, `aes128-sha1`, `aes-sha2_256`.

use crate::ike::crypto::{CipherAlg, DhGroup, HashAlg};
use crate::ike::kernel::IntegAlg;
use crate::ike::proposal::{AuthMethod, IkeTransform, IpsecTransform};

fn cipher(word: &str) -> Result<CipherAlg, String> {
    match word.to_ascii_lowercase().replace(['_', '-'], "").as_str() {
        "3des" | "3descbc" => Ok(CipherAlg::Des3),
        "aes" | "aes128" | "aescbc" | "aescbc128" => Ok(CipherAlg::Aes128),
        "aes192" | "aescbc192" => Ok(CipherAlg::Aes192),
        "aes256" | "aescbc256" => Ok(CipherAlg::Aes256),
        other => Err(format!("encryption algorithm \"{other}\" is not supported (use 3des, aes, aes128, aes192, aes256)")),
    }
}

fn hash(word: &str) -> Result<HashAlg, String> {
    match word.to_ascii_lowercase().as_str() {
        "md5" => Ok(HashAlg::Md5),
        "sha" | "sha1" => Ok(HashAlg::Sha1),
        "sha2" | "sha256" | "sha2_256" => Ok(HashAlg::Sha256),
        "sha384" | "sha2_384" => Ok(HashAlg::Sha384),
        "sha512" | "sha2_512" => Ok(HashAlg::Sha512),
        other => Err(format!("hash algorithm \"{other}\" is not supported (use md5, sha1, sha2_256, sha2_384, sha2_512)")),
    }
}

fn integ(word: &str) -> Result<IntegAlg, String> {
    match word.to_ascii_lowercase().as_str() {
        "md5" | "md5_96" => Ok(IntegAlg::HmacMd5_96),
        "sha" | "sha1" | "sha1_96" => Ok(IntegAlg::HmacSha1_96),
        "sha2" | "sha256" | "sha2_256" => Ok(IntegAlg::HmacSha2_256_128),
        other => Err(format!(
            "authentication algorithm \"{other}\" is not supported (use md5, sha1, sha2_256)"
        )),
    }
}

pub fn group(word: &str) -> Result<DhGroup, String> {
    match word.to_ascii_lowercase().as_str() {
        "modp1024" => Ok(DhGroup::Modp1024),
        "modp1536" => Ok(DhGroup::Modp1536),
        "modp2048" => Ok(DhGroup::Modp2048),
        other => Err(format!(
            "DH group \"{other}\" is not supported (use modp1024, modp1536, modp2048)"
        )),
    }
}

/// Splits `aes128` / `aes-128`-less forms: the cipher word may carry its key length.
fn words(entry: &str) -> Vec<String> {
    entry
        .trim()
        .split('-')
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty())
        .collect()
}

pub fn parse_ike(
    s: &str,
    auths: &[AuthMethod],
    lifetime: u32,
) -> Result<Vec<IkeTransform>, String> {
    let mut out = Vec::new();
    for entry in s.split(',').filter(|e| !e.trim().is_empty()) {
        let w = words(entry);
        let (c, h, g) = match w.as_slice() {
            [c, h] => (cipher(c)?, hash(h)?, None),
            [c, h, g] => (cipher(c)?, hash(h)?, Some(group(g)?)),
            _ => {
                return Err(format!(
                    "ike algorithm \"{}\" is not ENC-HASH[-GROUP]",
                    entry.trim()
                ))
            }
        };
        let groups = g.map_or(vec![DhGroup::Modp1536, DhGroup::Modp1024], |g| vec![g]);
        for g in groups {
            for a in auths {
                let mut t = IkeTransform::new(c, h, *a, g);
                t.lifetime = lifetime;
                out.push(t);
            }
        }
    }
    if out.is_empty() {
        return Err("empty ike algorithm list".into());
    }
    Ok(out)
}

pub fn parse_esp(s: &str) -> Result<Vec<IpsecTransform>, String> {
    let mut out = Vec::new();
    for entry in s.split(',').filter(|e| !e.trim().is_empty()) {
        let w = words(entry);
        let t = match w.as_slice() {
            [c] => IpsecTransform::Esp {
                cipher: cipher(c)?,
                integ: None,
            },
            [c, a] => IpsecTransform::Esp {
                cipher: cipher(c)?,
                integ: Some(integ(a)?),
            },
            _ => {
                return Err(format!(
                    "esp algorithm \"{}\" is not ENC[-AUTH]",
                    entry.trim()
                ))
            }
        };
        out.push(t);
    }
    if out.is_empty() {
        return Err("empty esp algorithm list".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ike_strings() {
        let t = parse_ike(
            "3des-sha1-modp1536, aes256-sha2_256",
            &[AuthMethod::Psk],
            3600,
        )
        .unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(
            (t[0].cipher, t[0].hash, t[0].group),
            (CipherAlg::Des3, HashAlg::Sha1, DhGroup::Modp1536)
        );
        assert_eq!(
            (t[1].cipher, t[1].group),
            (CipherAlg::Aes256, DhGroup::Modp1536)
        );
        assert_eq!(t[2].group, DhGroup::Modp1024);
        assert!(parse_ike("blowfish-md5", &[AuthMethod::Psk], 3600).is_err());
        assert!(parse_ike("aes-sha1-modp8192", &[AuthMethod::Psk], 3600).is_err());
        assert!(parse_ike("", &[AuthMethod::Psk], 3600).is_err());
    }

    #[test]
    fn esp_strings() {
        let t = parse_esp("3des-md5,aes-sha1,aes256").unwrap();
        assert_eq!(
            t,
            vec![
                IpsecTransform::Esp {
                    cipher: CipherAlg::Des3,
                    integ: Some(IntegAlg::HmacMd5_96)
                },
                IpsecTransform::Esp {
                    cipher: CipherAlg::Aes128,
                    integ: Some(IntegAlg::HmacSha1_96)
                },
                IpsecTransform::Esp {
                    cipher: CipherAlg::Aes256,
                    integ: None
                },
            ]
        );
        assert!(parse_esp("null-md5").is_err());
        assert_eq!(group("MODP2048"), Ok(DhGroup::Modp2048));
    }
}
