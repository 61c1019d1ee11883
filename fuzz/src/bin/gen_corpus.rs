//! Writes the seed corpus `fuzz/corpus/<target>/` from one real negotiation
//! between two in-process endpoints (ISAKMP, engine) and from the kernel
//! messages the crate's own tests hold as hand-checked byte vectors (PF_KEY,
//! XFRM; given as files of hex). Usage: gen-corpus OUTDIR [HEXFILE...]
//! where each HEXFILE is named `<target>-<name>.hex`.

use std::path::Path;

fn write(dir: &Path, target: &str, name: &str, data: &[u8]) {
    let d = dir.join(target);
    if let Err(e) = std::fs::create_dir_all(&d).and_then(|_| std::fs::write(d.join(name), data)) {
        eprintln!("gen-corpus: {}: {e}", d.display());
        std::process::exit(1);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: gen-corpus OUTDIR [TARGET-NAME.hex...]");
        std::process::exit(2);
    };
    let out = Path::new(&out);
    let (clear, encrypted) = rswan::fuzzing::exchange_datagrams();
    for (k, d) in clear.iter().enumerate() {
        write(out, "isakmp", &format!("exchange-{k:02}"), d);
        // engine-mm1 mode byte: 0 = as MI1, 1 = as MI2.
        if k < 4 {
            let mut v = vec![u8::from(k >= 2)];
            v.extend_from_slice(d);
            write(out, "engine-mm1", &format!("exchange-{k:02}"), &v);
        }
    }
    for (k, d) in encrypted.iter().enumerate() {
        write(out, "engine-encrypted", &format!("exchange-{k:02}"), d);
    }
    for f in args {
        let p = Path::new(&f);
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let Some((target, name)) = stem.split_once('-') else {
            continue;
        };
        let text = std::fs::read_to_string(p).unwrap_or_default();
        let hex: String = text.chars().filter(char::is_ascii_hexdigit).collect();
        let bytes: Vec<u8> = (0..hex.len() / 2)
            .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        write(out, target, name, &bytes);
    }
}
