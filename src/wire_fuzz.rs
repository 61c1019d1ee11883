//! Test-only helpers for the kernel codecs' robustness tests: a seeded
//! generator and the byte mutations their fuzz loops share.

/// A tiny deterministic generator (64-bit LCG, high bits out), so a fuzz
/// failure reproduces from its seed.
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// Uniform-enough in `0..n`; `n` must not be 0.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(crate) fn byte(&mut self) -> u8 {
        self.next() as u8
    }

    /// Overwrites one to four random bytes of a non-empty `b`.
    pub(crate) fn mutate(&mut self, b: &mut [u8]) {
        for _ in 0..=self.below(4) {
            let at = self.below(b.len());
            b[at] = self.byte();
        }
    }
}

/// Overwrites the host-order u16 at `at`.
pub(crate) fn set_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_ne_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_mutations_stay_in_bounds() {
        let (mut a, mut b) = (Lcg(7), Lcg(7));
        let xs: Vec<u64> = (0..8).map(|_| a.next()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next()).collect();
        assert_eq!(xs, ys);
        assert!(xs.windows(2).any(|w| w[0] != w[1]));
        let mut buf = [0u8; 3];
        for _ in 0..100 {
            assert!(a.below(3) < 3);
            a.mutate(&mut buf);
        }
        assert_ne!(buf, [0u8; 3]);
        set_u16(&mut buf, 1, 0x0102);
        assert_eq!(&buf[1..], &0x0102u16.to_ne_bytes());
    }
}
