//! Randomness is injected: the daemon supplies the OS generator, tests a seeded one.

/// A source of random bytes (cookies, nonces, DH exponents, IVs of nothing: IKEv1 IVs are derived).
pub trait Rng {
    fn fill(&mut self, buf: &mut [u8]);
}

/// Deterministic generator for tests, simulations and fuzzing: SHA-256 in
/// counter mode over a 64-bit seed. Not for production keys.
pub struct SeededRng {
    seed: u64,
    counter: u64,
    buf: [u8; 32],
    used: usize,
}

impl SeededRng {
    pub fn new(seed: u64) -> SeededRng {
        SeededRng {
            seed,
            counter: 0,
            buf: [0; 32],
            used: 32,
        }
    }
}

impl Rng for SeededRng {
    fn fill(&mut self, out: &mut [u8]) {
        use sha2::{Digest, Sha256};
        for b in out.iter_mut() {
            if self.used == self.buf.len() {
                let mut h = Sha256::new();
                h.update(self.seed.to_be_bytes());
                h.update(self.counter.to_be_bytes());
                self.buf.copy_from_slice(&h.finalize());
                self.counter = self.counter.wrapping_add(1);
                self.used = 0;
            }
            // `used` < 32 here by the refill above.
            *b = self.buf.get(self.used).copied().unwrap_or(0);
            self.used += 1;
        }
    }
}
