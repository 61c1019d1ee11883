//! The bounds on one load: records taken and include nesting.

use super::*;

#[test]
fn records_past_the_limit_are_dropped_with_one_warning() {
    let mut text = String::new();
    for i in 0..MAX_RECORDS + 5 {
        text.push_str(&format!("@h{i}: PSK \"s{i}\"\n"));
    }
    let l = load(&text);
    // Entries before the limit stay, in order.
    assert_eq!(l.psk.entries.len(), MAX_RECORDS);
    assert_eq!(
        psk_of(&l, MAX_RECORDS - 1),
        format!("s{}", MAX_RECORDS - 1).as_bytes()
    );
    assert_eq!(
        l.warnings,
        vec![format!(
            "\"t.secrets\" line {}: more than {MAX_RECORDS} records in secrets files; the rest are ignored",
            MAX_RECORDS + 1
        )]
    );
}

#[test]
fn bad_records_count_towards_the_limit() {
    let mut text = String::new();
    for _ in 0..MAX_RECORDS {
        text.push_str("@bad PSK\n");
    }
    text.push_str("@late: PSK \"late\"\n");
    let l = load(&text);
    assert!(l.psk.entries.is_empty());
    assert_eq!(l.warnings.len(), MAX_RECORDS + 1);
    assert!(l.warnings[MAX_RECORDS].ends_with("the rest are ignored"));
}

#[test]
fn include_below_depth_limit_is_followed_and_above_refused() {
    // Text parsed at depth 0 names a missing file: the include is tried (and
    // reported missing), so depth 1 is allowed.
    let l = load("include nowhere.secrets\n");
    assert_eq!(
        l.warnings,
        vec!["no secrets filename matched \"/nonexistent-rswan-dir/nowhere.secrets\"".to_string()]
    );
    let mut loader = Loader::default();
    loader.include(
        "t.secrets",
        1,
        Path::new("/nonexistent-rswan-dir/x"),
        MAX_INCLUDE_DEPTH + 1,
    );
    assert_eq!(
        loader.out.warnings,
        vec!["preshared secrets file \"/nonexistent-rswan-dir/x\" nested too deeply".to_string()]
    );
}
