//! One AFL++ binary for every target: `fuzz TARGET` (AFL's persistent mode
//! feeds the inputs). The target bodies are `rswan::fuzzing`'s functions, so
//! `cargo test` replays the same code over the corpus and past findings.

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(&(_, target)) = rswan::fuzzing::TARGETS.iter().find(|(n, _)| *n == name) else {
        let names: Vec<&str> = rswan::fuzzing::TARGETS.iter().map(|(n, _)| *n).collect();
        eprintln!("usage: fuzz TARGET   (one of: {})", names.join(" "));
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| {
        target(data);
    });
}
