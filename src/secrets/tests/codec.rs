//! ttodata forms (§4.8) and glob pattern matching.

use crate::secrets::glob::{fnmatch, has_magic};
use crate::text::data::{decode_base64, decode_hex, encode_base64, encode_hex, ttodata};

#[test]
fn ttodata_forms() {
    assert_eq!(ttodata(b"0x0102ab"), Ok(vec![1, 2, 0xab]));
    assert_eq!(ttodata(b"0XAB_cd_EF"), Ok(vec![0xab, 0xcd, 0xef]));
    assert_eq!(ttodata(b"0sAQID"), Ok(vec![1, 2, 3]));
    assert_eq!(ttodata(b"0SAQI="), Ok(vec![1, 2]));
    assert_eq!(ttodata(b"0sAQ=="), Ok(vec![1]));
    assert_eq!(ttodata(b"0tx y"), Ok(b"x y".to_vec()));
    assert_eq!(ttodata(b"0Tz"), Ok(b"z".to_vec()));
    assert_eq!(ttodata(b"0t"), Err("no data bytes specified by input"));
    assert_eq!(ttodata(b"0x01 02"), Err("non-hex digit in input"));
    assert_eq!(ttodata(b"0sA QI"), Err("non-base64 digit in input"));
    assert_eq!(ttodata(b"0q00"), Err("unknown format prefix"));
    assert_eq!(
        decode_hex(b"abc"),
        Err("input ends in mid-byte, perhaps truncated")
    );
    assert_eq!(decode_base64(b"A==="), Err("improper base64 padding"));
}

#[test]
fn base64_round_trip() {
    for len in 0..40usize {
        let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
        let text = encode_base64(&data);
        assert_eq!(text.len() % 4, 0);
        if len > 0 {
            assert_eq!(decode_base64(text.as_bytes()), Ok(data.clone()), "{text}");
            assert_eq!(decode_hex(encode_hex(&data).as_bytes()), Ok(data));
        }
    }
    assert_eq!(encode_base64(b"abcd"), "YWJjZA==");
}

#[test]
fn glob_patterns() {
    assert!(has_magic(b"*.secrets"));
    assert!(has_magic(b"a?"));
    assert!(has_magic(b"[ab]"));
    assert!(!has_magic(b"plain.secrets"));
    assert!(!has_magic(b"esc\\*aped"));

    assert!(fnmatch(b"*.secrets", b"a.secrets"));
    assert!(!fnmatch(b"*.secrets", b".secrets.secrets"));
    assert!(fnmatch(b".*", b".hidden"));
    assert!(!fnmatch(b"*", b".hidden"));
    assert!(fnmatch(b"*", b""));
    assert!(fnmatch(b"a*b*c", b"axxbyyc"));
    assert!(!fnmatch(b"a*b*c", b"axxbyy"));
    assert!(fnmatch(b"*a*", b"bab"));
    assert!(fnmatch(b"?.conf", b"x.conf"));
    assert!(!fnmatch(b"?.conf", b"xy.conf"));
    assert!(fnmatch(b"[a-c]1", b"b1"));
    assert!(!fnmatch(b"[a-c]1", b"d1"));
    assert!(fnmatch(b"[!a-c]1", b"d1"));
    assert!(fnmatch(b"[^a-c]1", b"d1"));
    assert!(!fnmatch(b"[!a-c]1", b"a1"));
    assert!(fnmatch(b"[]x]", b"]"));
    assert!(fnmatch(b"[a-]", b"-"));
    assert!(fnmatch(b"x[", b"x["));
    assert!(fnmatch(b"\\*", b"*"));
    assert!(!fnmatch(b"\\*", b"a"));
    assert!(fnmatch(b"host-*.secrets", b"host-gw1.secrets"));
    assert!(!fnmatch(b"host-*.secrets", b"host-gw1.secrets~"));
}
