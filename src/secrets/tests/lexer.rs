//! §4.1 lexical rules.

use crate::secrets::lexer::{lex, Lexed};

/// Each record's tokens as strings.
fn toks(l: &Lexed<'_>) -> Vec<Vec<String>> {
    l.records
        .iter()
        .map(|r| {
            r.tokens
                .iter()
                .map(|t| String::from_utf8_lossy(t.text).into_owned())
                .collect()
        })
        .collect()
}

fn lines(l: &Lexed<'_>) -> Vec<Vec<usize>> {
    l.records
        .iter()
        .map(|r| r.tokens.iter().map(|t| t.line).collect())
        .collect()
}

#[test]
fn column_zero_starts_records_and_indented_lines_continue() {
    let l = lex(b"a b : PSK \"x\"\n  c\n\td\ne: PSK 'y'\n");
    assert_eq!(
        toks(&l),
        vec![
            vec!["a", "b", ":", "PSK", "\"x\"", "c", "d"],
            vec!["e", ":", "PSK", "'y'"],
        ]
    );
    assert_eq!(lines(&l), vec![vec![1, 1, 1, 1, 1, 2, 3], vec![4, 4, 4, 4]]);
    assert_eq!(l.starts_indented, None);
}

#[test]
fn trailing_colon_is_split_off() {
    // `::` (the IPv6 any-address) is split too, as in lex.c: not usable as an index.
    let l = lex(b"10.0.0.1: PSK\nx :\ny::\n:\n@a:b\n::\n");
    assert_eq!(
        toks(&l),
        vec![
            vec!["10.0.0.1", ":", "PSK"],
            vec!["x", ":"],
            vec!["y:", ":"],
            vec![":"],
            vec!["@a:b"],
            vec![":", ":"],
        ]
    );
}

#[test]
fn comments_between_tokens_only() {
    let l = lex(b"# whole line\na # rest : PSK \"x\"\n  ab#cd \"q # not a comment\" #c\n   # indented comment\nb\n");
    assert_eq!(
        toks(&l),
        vec![vec!["a", "ab#cd", "\"q # not a comment\""], vec!["b"]]
    );
}

#[test]
fn quoted_tokens() {
    let l = lex(b"a: \"it's\" 'say \"hi\"' \"x\"y \"\"\n");
    assert_eq!(
        toks(&l),
        vec![vec![
            "a",
            ":",
            "\"it's\"",
            "'say \"hi\"'",
            "\"x\"",
            "y",
            "\"\""
        ]]
    );
    let r = &l.records[0];
    assert_eq!(r.tokens[2].unquoted(), b"it's");
    assert_eq!(r.tokens[3].unquoted(), b"say \"hi\"");
    assert_eq!(r.tokens[2].quote(), Some(b'"'));
    assert_eq!(r.tokens[3].quote(), Some(b'\''));
    assert_eq!(r.tokens[0].quote(), None);
    assert!(r.tokens.iter().all(|t| !t.unterminated));
}

#[test]
fn unterminated_quote_runs_to_end_of_line() {
    let l = lex(b"a: \"abc # def  \nb\n");
    assert_eq!(toks(&l), vec![vec!["a", ":", "\"abc # def"], vec!["b"]]);
    let t = &l.records[0].tokens[2];
    assert!(t.unterminated);
    assert_eq!(t.unquoted(), b"abc # def");
}

#[test]
fn zero_t_runs_to_end_of_line() {
    let l = lex(b"a: PSK 0tsome text # not a comment \t \n  0x01\n");
    assert_eq!(
        toks(&l),
        vec![vec!["a", ":", "PSK", "0tsome text # not a comment", "0x01"]]
    );
}

#[test]
fn tabs_and_crlf_and_blank_lines() {
    let l = lex(b"a\t:\tPSK\t\"x y\"\r\n\r\n \t \n\tb\r\nc\r\n");
    assert_eq!(
        toks(&l),
        vec![vec!["a", ":", "PSK", "\"x y\"", "b"], vec!["c"]]
    );
}

#[test]
fn file_starting_with_indentation() {
    let l = lex(b"# comment\n\n   x y\n  z\nb : PSK \"k\"\n");
    assert_eq!(l.starts_indented, Some(3));
    assert_eq!(toks(&l), vec![vec!["b", ":", "PSK", "\"k\""]]);
    assert_eq!(lex(b"").records.len(), 0);
    assert_eq!(lex(b"  # only a comment\n").starts_indented, None);
}

#[test]
fn keywords_compare_case_insensitively() {
    let l = lex(b"InClUdE x\n");
    let t = &l.records[0].tokens[0];
    assert!(t.is_word("include"));
    assert!(!t.is("include"));
    // Debug never shows token text.
    let shown = format!("{t:?}");
    assert!(!shown.contains("InClUdE"), "{shown}");
}
