//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) and every past finding
//! (`fuzz/regressions/<target>/`) through the fuzz targets' own functions,
//! and checks that the engine harness really gets past decryption.

use rswan::fuzzing::{engine_encrypted_run, Pair, Stage, TARGETS};
use rswan::ike::state::StateKind;
use std::path::Path;

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    rswan::sort::sort(&mut v);
    v
}

fn replay(kind: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind);
    let mut n = 0;
    for dir in files(&root) {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let Some((_, target)) = TARGETS.iter().find(|(t, _)| *t == name) else {
            panic!("{}: no fuzz target of that name", dir.display());
        };
        for f in files(&dir) {
            let data = std::fs::read(&f).unwrap();
            // A panic names the file: the test harness prints the message.
            eprintln!("replaying {}", f.display());
            target(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn corpus_replays_without_a_finding() {
    let n = replay("corpus");
    assert!(n >= 7 * 4, "only {n} corpus files");
    for (t, _) in TARGETS {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(t);
        assert!(!files(&dir).is_empty(), "no corpus for {t}");
    }
}

#[test]
fn regressions_replay_without_a_finding() {
    replay("regressions");
}

/// East's states right after the fuzz input (before timers).
fn kinds(p: &Pair) -> Vec<StateKind> {
    p.east_after_input.clone()
}

fn seed(name: &str) -> Vec<u8> {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus/engine-encrypted")
        .join(name);
    std::fs::read(f).unwrap()
}

/// The seeds are the real MI3, QI1 and QI2 without their HASH; with the
/// harness's HASH (control bit 2) each moves east on as the real message
/// would, and without it east refuses them: mutations get past decryption
/// and, when they keep the hash bit, past authentication.
#[test]
fn engine_seeds_reach_past_decryption() {
    let mi3 = seed("exchange-00");
    assert_eq!(mi3[0] & 3, 0);
    let p = engine_encrypted_run(&mi3).unwrap();
    assert!(kinds(&p).contains(&StateKind::MainR3), "{:?}", kinds(&p));

    let qi1 = seed("exchange-01");
    let p = engine_encrypted_run(&qi1).unwrap();
    assert!(kinds(&p).contains(&StateKind::QuickR2), "{:?}", kinds(&p));

    let qi2 = seed("exchange-02");
    let p = engine_encrypted_run(&qi2).unwrap();
    assert!(kinds(&p).contains(&StateKind::QuickR2), "{:?}", kinds(&p));

    // The same messages without the HASH they need get nowhere.
    for (s, stuck) in [(&mi3, StateKind::MainR2), (&qi2, StateKind::QuickR1)] {
        let mut bad = s.clone();
        bad[0] &= !(1 << 2);
        let p = engine_encrypted_run(&bad).unwrap();
        assert!(kinds(&p).contains(&stuck), "{:?}", kinds(&p));
    }
    let mut bad = qi1.clone();
    bad[0] &= !(1 << 2);
    let p = engine_encrypted_run(&bad).unwrap();
    assert!(!kinds(&p).contains(&StateKind::QuickR2), "{:?}", kinds(&p));
}

/// The Informational seed deletes east's IPsec SA: an authenticated Delete.
#[test]
fn engine_informational_seed_deletes_the_ipsec_sa() {
    let done = Pair::run_to(Stage::Done);
    let before: Vec<StateKind> = done.east().states().iter().map(|s| s.kind).collect();
    assert!(before.contains(&StateKind::QuickR2), "{before:?}");
    let p = engine_encrypted_run(&seed("exchange-03")).unwrap();
    assert!(!kinds(&p).contains(&StateKind::QuickR2), "{:?}", kinds(&p));
    assert!(kinds(&p).contains(&StateKind::MainR3), "{:?}", kinds(&p));
}
