//! Micro-benchmarks of the cryptographic primitives a negotiation costs:
//! modular exponentiation per MODP size and exponent length for each
//! implementation considered, the HMAC PRF per call, and CBC encryption and
//! decryption per KB.
//!
//! Modexp candidates:
//! - `num-bigint-dig`: `BigUint::modpow` (4-bit windows, table indexed by
//!   the exponent, variable-time final subtraction: not constant time);
//! - `in-tree`: `rswan::ike::crypto::modexp` (CIOS Montgomery, dedicated
//!   squaring, fixed windows, masked table scans, constant time):
//!   `Modulus::pow` for a peer's value y, `FixedBase::pow` (a comb table
//!   made once per group) for the generator g = 2;
//! - `crypto-bigint`: RustCrypto's `DynResidue::pow_bounded_exp` (constant
//!   time, 4-bit windows), with the exponent length bounded as given.
//!
//! Rows "y^x" raise a random base, rows "g^x" the generator 2 (what a DH
//! key pair costs; only the in-tree code has a fixed-base method).
//! Sizes 1024/1536/2048 use the RFC 2409/3526 primes; 3072 and 4096 use
//! random odd moduli (the cost does not depend on primality). "short"
//! exponents are 256 and 320 bits (what `ModpDh` draws), "full" as long as
//! the modulus (strongSwan's default). Each cell: mean/min/max over
//! `BENCH_ROUNDS` rounds (default 5) of a loop of about 0.2 s.
//!
//! Run with `make bench` (or `cargo bench --bench primitives`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::{Encoding, Uint, U1024, U1536, U2048, U3072, U4096};
use num_bigint_dig::BigUint;
use rswan::ike::crypto::modexp::{FixedBase, Modulus};
use rswan::ike::crypto::{cbc_decrypt, cbc_encrypt, prf, CipherAlg, DhGroup, HashAlg};
use rswan::ike::rng::{Rng, SeededRng};

const ROUND: Duration = Duration::from_millis(200);

/// Mean, min and max time per call, in microseconds.
struct Stat {
    mean: f64,
    min: f64,
    max: f64,
}

fn measure(rounds: usize, mut f: impl FnMut()) -> Stat {
    // Calibrate: how many calls fill one round.
    f();
    let start = Instant::now();
    f();
    let one = start.elapsed().max(Duration::from_nanos(50));
    let iters = (ROUND.as_secs_f64() / one.as_secs_f64()).clamp(1.0, 1e7) as usize;
    let mut per_call = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        per_call.push(start.elapsed().as_secs_f64() * 1e6 / iters as f64);
    }
    let mean = per_call.iter().sum::<f64>() / rounds as f64;
    let min = per_call.iter().copied().fold(f64::INFINITY, f64::min);
    let max = per_call.iter().copied().fold(0.0, f64::max);
    Stat { mean, min, max }
}

fn row(what: &str, unit: &str, scale: f64, s: &Stat) {
    println!(
        "{what:<44} {:>10.3} {:>10.3} {:>10.3}  {unit}",
        s.mean * scale,
        s.min * scale,
        s.max * scale
    );
}

fn random(rng: &mut SeededRng, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rng.fill(&mut v);
    v
}

/// The modulus for `bits`: the MODP prime, or a random odd number with the
/// top bit set.
fn modulus(bits: usize, rng: &mut SeededRng) -> (String, Vec<u8>) {
    for g in [DhGroup::Modp1024, DhGroup::Modp1536, DhGroup::Modp2048] {
        if g.len() * 8 == bits {
            return (g.name().to_string(), g.prime_bytes().to_vec());
        }
    }
    let mut n = random(rng, bits / 8);
    if let Some(b) = n.first_mut() {
        *b |= 0x80;
    }
    if let Some(b) = n.last_mut() {
        *b |= 1;
    }
    (format!("odd{bits}"), n)
}

/// crypto-bigint's exponentiation for one size: base^exp mod n with the
/// exponent bounded to its real length.
fn crypto_bigint_pow<const L: usize>(n: &[u8], base: &[u8], exp: &[u8]) -> impl FnMut() -> Vec<u8>
where
    Uint<L>: Encoding,
{
    let n = Uint::<L>::from_be_slice(n);
    let params = DynResidueParams::new(&n);
    // from_be_slice wants exactly L limbs of bytes.
    let padded = |v: &[u8]| {
        let mut out = vec![0u8; L * 8 - v.len()];
        out.extend_from_slice(v);
        out
    };
    let base = Uint::<L>::from_be_slice(&padded(base));
    let e = Uint::<L>::from_be_slice(&padded(exp));
    let bits = exp.len() * 8;
    move || {
        let r = DynResidue::new(black_box(&base), params).pow_bounded_exp(black_box(&e), bits);
        r.retrieve().to_be_bytes().as_ref().to_vec()
    }
}

fn crypto_bigint_for(
    bits: usize,
    n: &[u8],
    base: &[u8],
    exp: &[u8],
) -> Box<dyn FnMut() -> Vec<u8>> {
    match bits {
        1024 => Box::new(crypto_bigint_pow::<{ U1024::LIMBS }>(n, base, exp)),
        1536 => Box::new(crypto_bigint_pow::<{ U1536::LIMBS }>(n, base, exp)),
        2048 => Box::new(crypto_bigint_pow::<{ U2048::LIMBS }>(n, base, exp)),
        3072 => Box::new(crypto_bigint_pow::<{ U3072::LIMBS }>(n, base, exp)),
        _ => Box::new(crypto_bigint_pow::<{ U4096::LIMBS }>(n, base, exp)),
    }
}

fn modexp_table(rounds: usize, sizes: &[usize]) {
    let mut rng = SeededRng::new(1);
    println!("modexp, ms per exponentiation (mean / min / max)");
    for &bits in sizes {
        let (name, n) = modulus(bits, &mut rng);
        let nb = BigUint::from_bytes_be(&n);
        let m = match Modulus::new(&n) {
            Ok(m) => m,
            Err(e) => {
                println!("{name}: {e}");
                continue;
            }
        };
        let s = measure(rounds, || {
            black_box(Modulus::new(black_box(&n)).ok());
        });
        row(
            &format!("{name} in-tree Modulus::new (once per group)"),
            "ms",
            1e-3,
            &s,
        );
        for ebits in [256, 320, bits] {
            let label = if ebits == bits {
                "full".to_string()
            } else {
                ebits.to_string()
            };
            let base = random(&mut rng, bits / 8);
            let exp = random(&mut rng, ebits / 8);
            let comb = match FixedBase::new(&m, &[2], exp.len()) {
                Ok(c) => c,
                Err(e) => {
                    println!("{name}: {e}");
                    continue;
                }
            };
            let s = measure(rounds, || {
                black_box(FixedBase::new(&m, &[2], black_box(exp.len())).ok());
            });
            row(
                &format!("{name} e{label} in-tree FixedBase::new (once)"),
                "ms",
                1e-3,
                &s,
            );
            for (what, base) in [("y^x", base.as_slice()), ("g^x", &[2u8][..])] {
                // All candidates must agree before their times mean anything.
                let (bb, eb) = (BigUint::from_bytes_be(base), BigUint::from_bytes_be(&exp));
                let want = bb.modpow(&eb, &nb);
                let mut cb = crypto_bigint_for(bits, &n, base, &exp);
                let ours = if what == "g^x" {
                    comb.pow(&exp)
                } else {
                    m.pow(base, &exp)
                };
                let ours = BigUint::from_bytes_be(&ours.unwrap_or_default());
                assert_eq!(ours, want, "in-tree {name} {what} e{ebits}");
                let theirs = BigUint::from_bytes_be(&cb());
                assert_eq!(theirs, want, "crypto-bigint {name} {what} e{ebits}");

                let s = measure(rounds, || {
                    black_box(black_box(&bb).modpow(black_box(&eb), &nb));
                });
                row(
                    &format!("{name} e{label} {what} num-bigint-dig"),
                    "ms",
                    1e-3,
                    &s,
                );
                let s = if what == "g^x" {
                    measure(rounds, || {
                        black_box(comb.pow(black_box(&exp)).ok());
                    })
                } else {
                    measure(rounds, || {
                        black_box(m.pow(black_box(base), black_box(&exp)).ok());
                    })
                };
                let ours = if what == "g^x" {
                    "in-tree comb"
                } else {
                    "in-tree"
                };
                row(&format!("{name} e{label} {what} {ours}"), "ms", 1e-3, &s);
                let s = measure(rounds, || {
                    black_box(cb());
                });
                row(
                    &format!("{name} e{label} {what} crypto-bigint"),
                    "ms",
                    1e-3,
                    &s,
                );
            }
        }
    }
}

fn prf_table(rounds: usize) {
    println!("HMAC PRF, us per call (20-byte key, 64-byte message; mean / min / max)");
    let key = [0x0bu8; 20];
    let msg = [0x5au8; 64];
    for alg in [HashAlg::Md5, HashAlg::Sha1, HashAlg::Sha256] {
        let s = measure(rounds, || {
            black_box(prf(alg, black_box(&key), &[black_box(&msg)]));
        });
        row(&format!("prf {}", alg.name()), "us", 1.0, &s);
    }
}

fn cipher_table(rounds: usize) {
    println!("CBC, us per KB (mean / min / max)");
    let mut data = vec![0x33u8; 1024];
    for alg in [CipherAlg::Des3, CipherAlg::Aes128, CipherAlg::Aes256] {
        let key = vec![0x42u8; alg.key_len()];
        let iv = vec![0x24u8; alg.block_len()];
        let s = measure(rounds, || {
            black_box(cbc_encrypt(alg, &key, &iv, black_box(&mut data)).ok());
        });
        row(&format!("{} encrypt", alg.name()), "us/KB", 1.0, &s);
        let s = measure(rounds, || {
            black_box(cbc_decrypt(alg, &key, &iv, black_box(&mut data)).ok());
        });
        row(&format!("{} decrypt", alg.name()), "us/KB", 1.0, &s);
    }
}

/// `BENCH_COUNT=candidate:bits:ebits:calls` makes only that many calls of
/// one modexp candidate (`num-bigint-dig`, `pow`, `comb` with base 2,
/// `crypto-bigint`) and nothing else: run it under
/// `valgrind --tool=cachegrind --cache-sim=no` twice with different call
/// counts, and the difference of the instruction counts divided by the
/// difference of the calls is the cost of one call, free of the noise of a
/// shared machine.
fn count_one(spec: &str) {
    let f: Vec<&str> = spec.split(':').collect();
    let [what, bits, ebits, calls] = f[..] else {
        println!("BENCH_COUNT: want candidate:bits:ebits:calls");
        return;
    };
    let (Ok(bits), Ok(ebits), Ok(calls)) = (bits.parse(), ebits.parse::<usize>(), calls.parse())
    else {
        println!("BENCH_COUNT: bad number in {spec}");
        return;
    };
    let mut rng = SeededRng::new(1);
    let (_, n) = modulus(bits, &mut rng);
    let base = random(&mut rng, bits / 8);
    let exp = random(&mut rng, ebits / 8);
    let m = Modulus::new(&n).ok();
    let nb = BigUint::from_bytes_be(&n);
    let (bb, eb) = (BigUint::from_bytes_be(&base), BigUint::from_bytes_be(&exp));
    let mut cb = crypto_bigint_for(bits, &n, &base, &exp);
    let comb = m
        .as_ref()
        .and_then(|m| FixedBase::new(m, &[2], exp.len()).ok());
    for _ in 0..calls {
        match (what, &m) {
            ("num-bigint-dig", _) => drop(black_box(bb.modpow(&eb, &nb))),
            ("pow", Some(m)) => drop(black_box(m.pow(&base, &exp))),
            ("comb", _) => drop(black_box(comb.as_ref().map(|c| c.pow(&exp)))),
            ("crypto-bigint", _) => drop(black_box(cb())),
            _ => {
                println!("BENCH_COUNT: unknown candidate {what}");
                return;
            }
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` builds and
    // runs this too, without it: nothing to measure then.
    if !std::env::args().any(|a| a == "--bench") {
        println!("primitives: a benchmark; run it with `make bench`");
        return;
    }
    let rounds = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5usize)
        .max(1);
    if let Ok(spec) = std::env::var("BENCH_COUNT") {
        count_one(&spec);
        return;
    }
    let sizes: Vec<usize> = std::env::var("BENCH_MODEXP_BITS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1024, 1536, 2048, 3072, 4096]);
    println!("{:<44} {:>10} {:>10} {:>10}", "", "mean", "min", "max");
    modexp_table(rounds, &sizes);
    prf_table(rounds);
    cipher_table(rounds);
}
