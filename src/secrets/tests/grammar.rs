//! §4.2 grammar, PSK forms, error handling and §4.3/§4.4 selection.

use super::*;

#[test]
fn every_psk_form() {
    let l = load(concat!(
        "@a1: PSK \"double quoted # with hash\"\n",
        "@a2: PSK 'single \"quoted\"'\n",
        "@a3: \"bare after colon\"\n",
        "@a4 : psk 0x5ba3c1f0_9e7d2a11\n",
        "@a5: Psk 0X0102\n",
        "@a6: PSK 0sYWJjZA==\n",
        "@a7: PSK 0tplain text, to end of line\n",
        "@a8: PSK \"\"\n",
        "@a9: PSK 0Sab8=\n",
    ));
    assert_eq!(l.warnings, Vec::<String>::new());
    let want: [&[u8]; 9] = [
        b"double quoted # with hash",
        b"single \"quoted\"",
        b"bare after colon",
        &[0x5b, 0xa3, 0xc1, 0xf0, 0x9e, 0x7d, 0x2a, 0x11],
        &[1, 2],
        b"abcd",
        b"plain text, to end of line",
        b"",
        &[0x69, 0xbf],
    ];
    assert_eq!(l.psk.entries.len(), want.len());
    for (i, w) in want.iter().enumerate() {
        assert_eq!(psk_of(&l, i), *w, "entry {i}");
        let name = format!("a{}", i + 1);
        assert_eq!(l.psk.entries[i].indices, vec![idx(fqdn(&name))]);
    }
}

#[test]
fn index_forms() {
    let l = load(concat!(
        "%any %any6 0.0.0.0 0::0 : PSK \"any\"\n",
        "192.0.2.1 2001:db8::1 @gw.example.org joe@example.org @#0102 @~3000 @[kid]",
        " CN=gw: PSK \"ids\"\n",
        ": PSK \"no index: default\"\n",
        "INCLUDE\n",
    ));
    let e = &l.psk.entries;
    assert_eq!(e.len(), 3, "{:?}", l.warnings);
    assert_eq!(e[0].indices, vec![SecretIndex::Any; 4]);
    let ids: Vec<String> = e[1]
        .indices
        .iter()
        .map(|i| match i {
            SecretIndex::Id(id) => crate::ident::format_id(id),
            SecretIndex::Any => "%any".into(),
        })
        .collect();
    assert_eq!(
        ids,
        [
            "192.0.2.1",
            "2001:db8::1",
            "@gw.example.org",
            "joe@example.org",
            "@#0102",
            "@~3000",
            "@#6b6964",
            "CN=gw"
        ]
    );
    assert!(e[2].indices.is_empty());
    // `INCLUDE` is the keyword (case-insensitive) and lacks its path.
    assert_eq!(
        l.warnings,
        vec!["\"t.secrets\" line 4: unexpected end of include directive"]
    );
}

#[test]
fn continuation_lines_and_comments_inside_a_record() {
    let l = load(concat!(
        "# leading comment\n",
        "@a.example  # comment after an index\n",
        "\t@b.example\n",
        "    # a comment line inside the record\n",
        "  : PSK\n",
        "\t\"spanning lines\"\n",
    ));
    assert_eq!(l.warnings, Vec::<String>::new());
    assert_eq!(
        l.psk.entries[0].indices,
        vec![idx(fqdn("a.example")), idx(fqdn("b.example"))]
    );
    assert_eq!(psk_of(&l, 0), b"spanning lines");
}

#[test]
fn errors_name_file_and_line_and_keep_other_entries() {
    let l = load(concat!(
        "   @early: PSK \"dropped: indented start\"\n", // 1
        "@ok1: PSK \"s3cr3t-one\"\n",                   // 2
        "@no.colon PSK 0x01\n",                         // 3
        "host.example: PSK \"needs dns\"\n",            // 4
        "@ok2: PSK \"s3cr3t-two\"\n",                   // 5
        "@bad: PSK 0xabc\n",                            // 6
        "@bad: PSK \"a\" extra\n",                      // 7
        "@bad: PSK\n",                                  // 8
        "@bad:\n",                                      // 9
        "@bad: 0x0102\n",                               // 10
        "@bad: PIN %smartcard \"1234\"\n",              // 11
        "@bad: RSA mykey.pem \"pass\"\n",               // 12
        "@bad: XAUTH \"pw\"\n",                         // 13
        "@bad: PSK \"unterminated\n",                   // 14
        "@bad \"colonless legacy\"\n",                  // 15
        "%myid: PSK \"x\"\n",                           // 16
        "@bad: RSA\n",                                  // 17
        "@bad: PSK 0zz\n",                              // 18
        "include a b\n",                                // 19
        "@ok3: PSK \"s3cr3t-three\"\n",                 // 20
    ));
    let w: Vec<&str> = l.warnings.iter().map(String::as_str).collect();
    assert_eq!(
        w,
        [
            "\"t.secrets\" line 1: file starts with indentation (continuation notation)",
            "\"t.secrets\" line 3: unexpected end of id list",
            "\"t.secrets\" line 4: index \"host.example\" cannot resolve host name without DNS: use an address or @name",
            "\"t.secrets\" line 6: PSK data malformed (input ends in mid-byte, perhaps truncated)",
            "\"t.secrets\" line 7: expected record boundary in key",
            "\"t.secrets\" line 8: unexpected end of record in PSK",
            "\"t.secrets\" line 9: unexpected end of record: no secret after \":\"",
            "\"t.secrets\" line 10: unrecognized key format",
            "\"t.secrets\" line 11: PIN (smartcard) entries are not supported",
            "\"t.secrets\" line 12: RSA private key files are not supported (use an RSA { ... } block)",
            "\"t.secrets\" line 13: XAUTH entries are not supported",
            "\"t.secrets\" line 14: unterminated string",
            "\"t.secrets\" line 15: quoted token where an index was expected (a secret must follow \":\")",
            "\"t.secrets\" line 16: index \"%myid\" is not allowed in ipsec.secrets",
            "\"t.secrets\" line 17: bad RSA key syntax",
            "\"t.secrets\" line 18: PSK data malformed (unknown format prefix)",
            "\"t.secrets\" line 19: ignoring malformed INCLUDE -- what comes after the pathname?",
        ]
    );
    let kept: Vec<&[u8]> = (0..l.psk.entries.len()).map(|i| psk_of(&l, i)).collect();
    assert_eq!(kept, [&b"s3cr3t-one"[..], b"s3cr3t-two", b"s3cr3t-three"]);
    // No secret material leaks into messages or Debug output.
    let all = format!("{:?} {}", l, l.warnings.join("\n"));
    for s in [
        "s3cr3t",
        "colonless",
        "0102",
        "unterminated\"",
        "1234",
        "pw",
    ] {
        assert!(!all.contains(s), "{s} leaked: {all}");
    }
}

#[test]
fn ttodata_errors() {
    for (text, why) in [
        ("0x", "no data bytes specified by input"),
        ("0xab__cd", "non-hex digit in input"),
        ("0x_ab", "non-hex digit in input"),
        ("0xab_", "input ends with a separator"),
        ("0xgg", "non-hex digit in input"),
        ("0sYWJ", "input ends in mid-byte, perhaps truncated"),
        ("0sY=Jj", "non-base64 digit in input"),
        ("0sYWJjZ", "input ends in mid-byte, perhaps truncated"),
        ("0sYR==", "bad (non-zero) padding at end of base64 input"),
        ("0sYQ==YWJj", "improper base64 padding"),
        ("0s!!!!", "non-base64 digit in input"),
        ("x", "input too short to be valid"),
        ("1x00", "input does not begin with format prefix"),
    ] {
        let l = load(&format!("@a: PSK {text}\n"));
        assert!(l.psk.entries.is_empty(), "{text}");
        assert_eq!(
            l.warnings,
            vec![format!("\"t.secrets\" line 1: PSK data malformed ({why})")],
            "{text}"
        );
    }
    // Too long for RSA_MAX_ENCODING_BYTES.
    let l = load(&format!("@a: PSK 0x{}\n", "ab".repeat(1027)));
    assert_eq!(
        l.warnings,
        vec!["\"t.secrets\" line 1: PSK data malformed (too long)"]
    );
}

#[test]
fn column_zero_closing_brace_is_reported() {
    let l = load("@a: PSK \"k\"\n}\n");
    assert_eq!(
        l.warnings,
        vec!["\"t.secrets\" line 2: '}' in column 0: the closing brace of an RSA key must be indented"]
    );
    assert_eq!(l.psk.entries.len(), 1);
}

/// The §4.4 example, verbatim.
const SPEC_4_4: &str = "\
# host 192.0.2.1 <-> 192.0.2.2, and a second shared secret spanning several names
192.0.2.1 192.0.2.2: PSK \"a long and random shared secret\"
@gw1.example.org @gw2.example.org
    198.51.100.7: PSK 0x5ba3c1f0_9e7d2a11_4c0b8e62_17f3d9a4
%any : PSK \"one secret for all road warriors\"
";

const HEX_4_4: [u8; 16] = [
    0x5b, 0xa3, 0xc1, 0xf0, 0x9e, 0x7d, 0x2a, 0x11, 0x4c, 0x0b, 0x8e, 0x62, 0x17, 0xf3, 0xd9, 0xa4,
];

#[test]
fn spec_example_4_4_parses() {
    let l = load(SPEC_4_4);
    assert_eq!(l.warnings, Vec::<String>::new());
    let e = &l.psk.entries;
    assert_eq!(e.len(), 3);
    assert_eq!(
        e[0].indices,
        vec![idx(v4(192, 0, 2, 1)), idx(v4(192, 0, 2, 2))]
    );
    assert_eq!(psk_of(&l, 0), b"a long and random shared secret");
    assert_eq!(
        e[1].indices,
        vec![
            idx(fqdn("gw1.example.org")),
            idx(fqdn("gw2.example.org")),
            idx(v4(198, 51, 100, 7))
        ]
    );
    assert_eq!(psk_of(&l, 1), HEX_4_4);
    assert_eq!(e[2].indices, vec![SecretIndex::Any]);
    assert_eq!(psk_of(&l, 2), b"one secret for all road warriors");
    assert!(!format!("{l:?}").contains("random"));
}

#[test]
fn spec_example_4_4_selection() {
    let s = load(SPEC_4_4).psk_secrets();
    let lit: &[u8] = b"a long and random shared secret";
    assert_eq!(s.psk(&v4(192, 0, 2, 1), Some(&v4(192, 0, 2, 2))), Some(lit));
    assert_eq!(s.psk(&v4(192, 0, 2, 2), Some(&v4(192, 0, 2, 1))), Some(lit));
    let gw1 = fqdn("gw1.example.org");
    let gw2 = fqdn("gw2.example.org");
    assert_eq!(s.psk(&gw1, Some(&gw2)), Some(&HEX_4_4[..]));
    assert_eq!(s.psk(&gw2, Some(&v4(198, 51, 100, 7))), Some(&HEX_4_4[..]));
    // Only one end matching a multi-index PSK entry is not enough (me = 4).
    assert_eq!(s.psk(&v4(192, 0, 2, 1), Some(&v4(192, 0, 2, 9))), None);
    // A lone `%any` index is the road warriors' secret. (The 2.x scoring gave it
    // "him" only, which a PSK lookup refused; rswan accepts it as the example means.)
    assert_eq!(
        s.psk(&v4(192, 0, 2, 1), None),
        Some(&b"one secret for all road warriors"[..])
    );
}

#[test]
fn road_warrior_selection() {
    let s = load(concat!(
        "192.0.2.1 %any: PSK \"rw secret\"\n",
        "192.0.2.1 192.0.2.2: PSK \"host secret\"\n",
        "192.0.2.5: PSK \"only me: default peer\"\n",
        ": PSK \"default\"\n",
    ))
    .psk_secrets();
    let me = v4(192, 0, 2, 1);
    assert_eq!(s.psk(&me, None), Some(&b"rw secret"[..]));
    assert_eq!(
        s.psk(&me, Some(&v4(192, 0, 2, 2))),
        Some(&b"host secret"[..])
    );
    // me + default (5) beats default (1).
    assert_eq!(
        s.psk(&v4(192, 0, 2, 5), Some(&v4(203, 0, 113, 1))),
        Some(&b"only me: default peer"[..])
    );
    assert_eq!(
        s.psk(&v4(10, 0, 0, 1), Some(&v4(10, 0, 0, 2))),
        Some(&b"default"[..])
    );
}

#[test]
fn ties_go_to_the_first_entry_in_file_order() {
    let s = load(concat!("@a @b: PSK \"first\"\n", "@b @a: PSK \"second\"\n",)).psk_secrets();
    assert_eq!(s.psk(&fqdn("a"), Some(&fqdn("b"))), Some(&b"first"[..]));
}
