//! `ipsec rsasigkey`: generate an RSA signature key and print it in the
//! ipsec.secrets `RSA { ... }` layout (`programs/rsasigkey/rsasigkey.c`, spec §4.5).
//!
//! ```text
//! ipsec rsasigkey [--verbose] [--random FILE] [--hostname NAME] [--noopt] [NBITS]
//! ```
//!
//! The output is the body of an `RSA { }` entry, exactly in Openswan's layout;
//! wrap it as `@id: RSA {` ... `\t}` in ipsec.secrets.
//!
//! Deviations from Openswan 2.x, all deliberate:
//! * e = 65537 instead of 3 (see [`crate::ike::crypto::rsa`]); the output says
//!   `PublicExponent: 0x010001` and `#pubkey=0sAwEAA...`;
//! * NBITS defaults to 3072 and must be at least 2048 (1024-bit RSA is within
//!   reach of well-funded attackers; libreswan even wants 2192) and at most 8192
//!   (the ipsec.secrets limit); it must still be a multiple of 16;
//! * randomness comes from the OS (`getrandom`) unless `--random FILE` is given;
//! * `--rounds N` is accepted and ignored (64 random Miller–Rabin bases are
//!   always used); `--oldkey` is refused (it reformats e = 3 keys only);
//! * the date in the header line is in UTC (ctime layout, `Thu Jan  1 00:00:00 1970`).

use crate::secrets::keyfmt::{ctime_utc, render};
use std::fs::File;
use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{err_line, out_line};
use crate::getopt::{self, Item, Opt};
use crate::ike::crypto::rsa::{self, PrivateExponent};
use crate::ike::rng::Rng;

/// Name of the subcommand (also its `argv[0]` basename).
pub const NAME: &str = "rsasigkey";
/// One-line description for `ipsec --help`.
pub const SUMMARY: &str = "generate an RSA signature key in ipsec.secrets form";

/// Key size when NBITS is not given.
pub const DEFAULT_BITS: usize = 3072;
/// Smallest key size generated.
pub const MIN_BITS: usize = 2048;
/// Smallest key size libreswan accepts (a warning below it).
pub const LIBRESWAN_MIN_BITS: usize = 2192;

const ME: &str = "ipsec rsasigkey";

const HELP: &str = "\
ipsec rsasigkey: generate an RSA signature key in ipsec.secrets form

Usage: ipsec rsasigkey [--verbose] [--random FILE] [--hostname NAME] [--noopt] [NBITS]

Prints the body of an ipsec.secrets RSA entry; use it as
    @your.id: RSA {
    <output>
    \t}

  NBITS            key size in bits, a multiple of 16 from 2048 to 8192
                   (default 3072; libreswan peers need 2192 or more)
  --verbose        describe progress on stderr
  --random FILE    read random bytes from FILE instead of the system generator
  --hostname NAME  host name for the header comment (default: this host's)
  --noopt          use d = e^-1 mod (p-1)(q-1) instead of mod lcm(p-1, q-1)
  -h, --help       show this help
      --version    show the version

The public exponent is 65537 (Openswan used 3).";

const OPTS: &[Opt] = &[
    Opt::flag("verbose"),
    Opt::arg("random"),
    Opt::arg("rounds"),
    Opt::arg("oldkey"),
    Opt::arg("hostname"),
    Opt::flag("noopt"),
];

fn usage_error(msg: &str) -> i32 {
    err_line(&format!("{ME}: {msg}"));
    err_line(
        "Usage: ipsec rsasigkey [--verbose] [--random FILE] [--hostname NAME] [--noopt] [NBITS]",
    );
    2
}

/// Runs `ipsec rsasigkey` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> i32 {
    if let Some(code) = super::common_options(NAME, HELP, args) {
        return code;
    }
    let items = match getopt::parse(OPTS, args) {
        Ok(i) => i,
        Err(e) => return usage_error(&e),
    };
    let mut verbose = false;
    let mut random: Option<String> = None;
    let mut hostname: Option<String> = None;
    let mut exp = PrivateExponent::Lcm;
    let mut positional = Vec::new();
    for item in items {
        match item {
            Item::Opt("verbose", _) => verbose = true,
            Item::Opt("random", v) => random = v,
            Item::Opt("hostname", v) => hostname = v,
            Item::Opt("noopt", _) => exp = PrivateExponent::Totient,
            Item::Opt("rounds", v) => {
                if !v
                    .as_deref()
                    .and_then(|s| s.parse::<u32>().ok())
                    .is_some_and(|n| n > 0)
                {
                    err_line(&format!("{ME}: rounds must be > 0"));
                    return 2;
                }
            }
            Item::Opt("oldkey", _) => {
                err_line(&format!(
                    "{ME}: --oldkey is not supported (it reformats e=3 keys); generate a new key"
                ));
                return 1;
            }
            Item::Opt(other, _) => return usage_error(&format!("unexpected option --{other}")),
            Item::Positional(p) => positional.push(p),
        }
    }
    let bits = match positional.as_slice() {
        [] => DEFAULT_BITS,
        [one] => match check_bits(one) {
            Ok(b) => b,
            Err(msg) => {
                err_line(&format!("{ME}: {msg}"));
                return 1;
            }
        },
        _ => return usage_error("only one NBITS argument is allowed"),
    };
    if bits < LIBRESWAN_MIN_BITS {
        err_line(&format!(
            "{ME}: note: libreswan refuses RSA keys under {LIBRESWAN_MIN_BITS} bits"
        ));
    }
    let host = hostname.unwrap_or_else(local_hostname);

    let mut rng = match &random {
        Some(path) => match File::open(path) {
            Ok(f) => ToolRng::File {
                file: f,
                path: path.clone(),
                error: None,
            },
            Err(e) => {
                err_line(&format!("{ME}: could not open {path} ({e})"));
                return 1;
            }
        },
        None => ToolRng::Os { error: None },
    };
    if verbose {
        let from = random
            .as_deref()
            .unwrap_or("the system generator (getrandom)");
        err_line(&format!(
            "generating a {bits}-bit key with e=65537, random bytes from {from}..."
        ));
    }
    let started = std::time::Instant::now();
    let result = rsa::generate_with(bits, exp, &mut rng);
    if let Some(e) = rng.error() {
        err_line(&format!("{ME}: {e}"));
        return 1;
    }
    let key = match result {
        Ok(k) => k,
        Err(e) => {
            err_line(&format!("{ME}: {e}"));
            return 1;
        }
    };
    if verbose {
        // Tenths of a second in integers: float formatting would add its
        // tables to the binary for this one line.
        let tenths = started.elapsed().as_millis().saturating_add(50) / 100;
        err_line(&format!(
            "found it in {}.{}s; key ID {}",
            tenths / 10,
            tenths % 10,
            key.public().map(|p| p.keyid()).unwrap_or_default()
        ));
        err_line("output...\n");
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let text = match render(&key, &host, &ctime_utc(now)) {
        Ok(t) => t,
        Err(e) => {
            err_line(&format!("{ME}: {e}"));
            return 1;
        }
    };
    // One write: the block is not split by an interleaved message.
    out_line(text.trim_end_matches('\n'));
    0
}

/// Parses and checks NBITS (Openswan's messages where it had them).
pub fn check_bits(text: &str) -> Result<usize, String> {
    let bits = match text.parse::<usize>() {
        Ok(b) if b > 0 => b,
        _ => return Err(format!("invalid bit count ({text})")),
    };
    if bits > rsa::MAX_MODULUS_BITS {
        return Err(format!(
            "overlarge bit count (max {}: ipsec.secrets takes no larger keys)",
            rsa::MAX_MODULUS_BITS
        ));
    }
    if bits % 16 != 0 {
        return Err(format!("bit count ({bits}) not multiple of 16"));
    }
    if bits < MIN_BITS {
        return Err(format!(
            "bit count ({bits}) too small: RSA keys under {MIN_BITS} bits can be factored by well-funded attackers; use {MIN_BITS} or more ({DEFAULT_BITS} is the default, libreswan peers need {LIBRESWAN_MIN_BITS})"
        ));
    }
    Ok(bits)
}

/// This host's name (the kernel's), `localhost` if it cannot be read.
pub(crate) fn local_hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// The tool's random source: the OS generator or a file. A failure is
/// remembered and zeros are returned, which the key generator's continuous
/// test refuses at once; [`ToolRng::error`] then says what went wrong.
enum ToolRng {
    Os {
        error: Option<String>,
    },
    File {
        file: File,
        path: String,
        error: Option<String>,
    },
}

impl ToolRng {
    fn error(&self) -> Option<&str> {
        match self {
            ToolRng::Os { error } | ToolRng::File { error, .. } => error.as_deref(),
        }
    }
}

impl Rng for ToolRng {
    fn fill(&mut self, buf: &mut [u8]) {
        buf.fill(0);
        match self {
            ToolRng::Os { error } => {
                if error.is_none() {
                    if let Err(e) = getrandom::getrandom(buf) {
                        *error = Some(format!("the system random generator failed ({e})"));
                        buf.fill(0);
                    }
                }
            }
            ToolRng::File { file, path, error } => {
                if error.is_some() {
                    return;
                }
                let mut done = 0;
                while let Some(rest) = buf.get_mut(done..).filter(|r| !r.is_empty()) {
                    match file.read(rest) {
                        Ok(0) => {
                            *error = Some(format!("eof on {path}!?!"));
                            break;
                        }
                        Ok(n) => done += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            *error = Some(format!("read error on {path} ({e})"));
                            break;
                        }
                    }
                }
                if error.is_some() {
                    buf.fill(0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::rng::SeededRng;
    #[allow(unused_imports)]
    use crate::secrets::keyfmt::*;

    #[test]
    fn ctime_layout() {
        assert_eq!(ctime_utc(0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(ctime_utc(951_782_400), "Tue Feb 29 00:00:00 2000");
        assert_eq!(ctime_utc(1_700_000_000), "Tue Nov 14 22:13:20 2023");
        assert_eq!(ctime_utc(4_102_444_799), "Thu Dec 31 23:59:59 2099");
    }

    #[test]
    fn bit_counts() {
        assert_eq!(check_bits("3072"), Ok(3072));
        assert_eq!(check_bits("2048"), Ok(2048));
        assert_eq!(check_bits("8192"), Ok(8192));
        assert!(check_bits("1024").unwrap_err().contains("too small"));
        assert!(check_bits("2056").unwrap_err().contains("multiple of 16"));
        assert!(check_bits("8208").unwrap_err().contains("overlarge"));
        assert!(check_bits("0").unwrap_err().contains("invalid"));
        assert!(check_bits("x").unwrap_err().contains("invalid"));
        assert!(check_bits("-2048").unwrap_err().contains("invalid"));
    }

    #[test]
    fn render_parses_back_as_a_secrets_entry() {
        let key = rsa::generate(1024, &mut SeededRng::new(7)).unwrap();
        let text = render(&key, "gw.example", "Thu Jan  1 00:00:00 1970").unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 12);
        assert_eq!(
            lines[0],
            "\t# RSA 1024 bits   gw.example   Thu Jan  1 00:00:00 1970"
        );
        assert_eq!(lines[1], "\t# for signatures only, UNSAFE FOR ENCRYPTION");
        assert!(lines[2].starts_with("\t#pubkey=0sAwEAA"));
        assert!(lines[3].starts_with("\tModulus: 0x"));
        assert_eq!(lines[4], "\tPublicExponent: 0x010001");
        assert_eq!(lines[5], "\t# everything after this point is secret");
        for (l, name) in lines[6..].iter().zip([
            "PrivateExponent",
            "Prime1",
            "Prime2",
            "Exponent1",
            "Exponent2",
            "Coefficient",
        ]) {
            let v = l.strip_prefix(&format!("\t{name}: 0x")).unwrap();
            assert_eq!(v.len() % 2, 0);
        }
        let file = format!("@gw.example: RSA {{\n{text}\t}}\n");
        let loaded =
            crate::secrets::parse_secrets_str(&file, "test", std::path::Path::new("/nonexistent"));
        assert_eq!(loaded.warnings, Vec::<String>::new());
        assert_eq!(loaded.rsa.len(), 1);
        let k = &loaded.rsa[0].key;
        assert_eq!(k.check(), Ok(()));
        assert_eq!(
            (&k.n, &k.e, &k.d, &k.p, &k.q),
            (&key.n, &key.e, &key.d, &key.p, &key.q)
        );
        assert_eq!((&k.dp, &k.dq, &k.qinv), (&key.dp, &key.dq, &key.qinv));
        assert_eq!(format!("\t#pubkey={}", k.pubkey_text()), lines[2]);
        assert_eq!(
            rsa::keyid_from_blob(&k.pubkey_blob()),
            key.public().unwrap().keyid()
        );
    }
}
