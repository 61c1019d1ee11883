//! Modular exponentiation b^e mod n for odd n, in Montgomery form with 64-bit
//! limbs, in constant time with respect to the base and the exponent's value.
//!
//! What may leak through timing is public by construction: the modulus, the
//! byte lengths of base and exponent, and which entry point was called (the
//! generator is public). Everything that depends on secret data runs
//! without branches or secret-indexed memory accesses:
//!
//! - Montgomery multiplication is CIOS (Koç, Acar and Kaliski, "Analyzing and
//!   comparing Montgomery multiplication algorithms", 1996) with `u128`
//!   products; its final subtraction is always computed and selected by mask.
//! - The exponent is read in fixed windows of w bits, most significant first:
//!   every window costs w squarings and one multiplication, whatever its
//!   value, and the table entry is fetched by scanning the whole table.
//! - Squarings compute each cross product once ([`mont_sqr`]), a quarter
//!   fewer multiplications than a general product.
//! - A public base used again and again (the MODP generator) is prepared
//!   once as a [`FixedBase`] comb table: a 256-bit exponent then costs 43
//!   squarings and 43 multiplications instead of 256 and 64.
//!
//! Nothing here allocates per multiplication: an exponentiation takes its
//! table and temporaries from a scratch buffer its thread keeps, and
//! allocates only its result.
//!
//! Inputs are never trusted: the modulus must be odd, at least 3 and at most
//! [`MAX_MODULUS_BYTES`] long; a base may be any value (0, 1, n-1, >= n) that
//! is no longer in bytes than the modulus; an exponent may be any value up to
//! [`MAX_MODULUS_BYTES`] long (all zeros gives 1).

use std::cell::Cell;
use std::fmt;

/// Longest modulus and exponent accepted, in bytes (8192 bits, the largest
/// RSA key the secrets file takes).
pub const MAX_MODULUS_BYTES: usize = 1024;

/// Why an exponentiation refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModexpError {
    /// The modulus is even or below 3.
    BadModulus,
    /// The modulus is longer than [`MAX_MODULUS_BYTES`].
    ModulusTooLong,
    /// The base has more bytes than the modulus.
    BaseTooLong,
    /// The exponent is longer than [`MAX_MODULUS_BYTES`].
    ExponentTooLong,
    /// The exponent is not the length its [`FixedBase`] was prepared for.
    ExponentLength,
}

impl fmt::Display for ModexpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModexpError::BadModulus => "modulus is even or below 3",
            ModexpError::ModulusTooLong => "modulus too long",
            ModexpError::BaseTooLong => "base longer than the modulus",
            ModexpError::ExponentTooLong => "exponent too long",
            ModexpError::ExponentLength => "exponent length differs from the prepared one",
        })
    }
}

impl std::error::Error for ModexpError {}

/// An odd modulus with its Montgomery constants (R = 2^(64k), k limbs).
#[derive(Clone)]
pub struct Modulus {
    /// n, little-endian limbs, the top one nonzero.
    n: Vec<u64>,
    /// -n^-1 mod 2^64.
    n0: u64,
    /// R mod n: 1 in Montgomery form.
    one: Vec<u64>,
    /// R^2 mod n: converts into Montgomery form.
    rr: Vec<u64>,
    /// Byte length of n (without leading zeros): the length of every result.
    len: usize,
}

impl fmt::Debug for Modulus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Modulus")
            .field("bytes", &self.len)
            .finish_non_exhaustive()
    }
}

/// a + b*c + carry as (low, high); cannot overflow u128.
#[inline(always)]
fn mac(a: u64, b: u64, c: u64, carry: u64) -> (u64, u64) {
    let t = u128::from(a) + u128::from(b) * u128::from(c) + u128::from(carry);
    (t as u64, (t >> 64) as u64)
}

/// z += x*y for the limbs of z and x (equal lengths; y one limb), returning
/// the carry out. Two limbs per turn, which halves the loop's bookkeeping.
#[inline(always)]
fn mul_add(z: &mut [u64], x: &[u64], y: u64) -> u64 {
    let mut c = 0;
    let mut zs = z.chunks_exact_mut(2);
    let mut xs = x.chunks_exact(2);
    for (zp, xp) in (&mut zs).zip(&mut xs) {
        if let ([z0, z1], [x0, x1]) = (zp, xp) {
            let (v0, h0) = mac(*z0, *x0, y, c);
            let (v1, h1) = mac(*z1, *x1, y, h0);
            *z0 = v0;
            *z1 = v1;
            c = h1;
        }
    }
    for (zj, &xj) in zs.into_remainder().iter_mut().zip(xs.remainder()) {
        let (v, h) = mac(*zj, xj, y, c);
        *zj = v;
        c = h;
    }
    c
}

/// a - b - borrow as (difference, borrow out 0 or 1).
#[inline(always)]
fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let t = u128::from(a)
        .wrapping_sub(u128::from(b))
        .wrapping_sub(u128::from(borrow));
    (t as u64, (t >> 127) as u64)
}

/// All ones when `bit` is 1, zero when it is 0. `black_box` keeps the
/// optimiser from turning the masked selections back into branches.
#[inline(always)]
fn mask(bit: u64) -> u64 {
    std::hint::black_box(0u64.wrapping_sub(bit & 1))
}

/// x = (x + top*R) - n when that is not negative, else x unchanged, where
/// x + top*R < 2n. `scratch` has x's length.
#[inline(always)]
fn reduce_once(x: &mut [u64], top: u64, n: &[u64], scratch: &mut [u64]) {
    let mut borrow = 0;
    for ((d, &xi), &ni) in scratch.iter_mut().zip(x.iter()).zip(n) {
        let (v, b) = sbb(xi, ni, borrow);
        *d = v;
        borrow = b;
    }
    // x + top*R >= n exactly when top is set or x - n did not borrow.
    let m = mask(top | (borrow ^ 1));
    for (xi, &d) in x.iter_mut().zip(scratch.iter()) {
        *xi ^= m & (*xi ^ d);
    }
}

/// out = a*b/R mod n (CIOS). a, b < R with a*b < R*n (one of them below n);
/// out, a, b and n have k limbs, `scratch` has k.
#[inline(always)]
fn mont_mul(out: &mut [u64], a: &[u64], b: &[u64], n: &[u64], n0: u64, scratch: &mut [u64]) {
    out.fill(0);
    let mut top = 0u64;
    let (Some((&a0, a_rest)), Some((&n_0, n_rest))) = (a.split_first(), n.split_first()) else {
        return;
    };
    for &bi in b {
        // t += a*bi and t += m*n, with m chosen so that the sum ends in a
        // zero limb, then t >>= 64: both passes fused into one loop.
        let mut limbs = out.iter_mut();
        let Some(first) = limbs.next() else {
            return;
        };
        let (lo, mut c1) = mac(*first, a0, bi, 0);
        let m = lo.wrapping_mul(n0);
        let (_, mut c2) = mac(lo, m, n_0, 0);
        let mut prev = first;
        for ((tj, &aj), &nj) in limbs.zip(a_rest).zip(n_rest) {
            let (x, h1) = mac(*tj, aj, bi, c1);
            let (y, h2) = mac(x, m, nj, c2);
            *prev = y;
            prev = tj;
            c1 = h1;
            c2 = h2;
        }
        let s = u128::from(top) + u128::from(c1) + u128::from(c2);
        *prev = s as u64;
        top = (s >> 64) as u64;
    }
    reduce_once(out, top, n, scratch);
}

/// out = a*a/R mod n for a < n: the square first, with each cross product
/// computed once and doubled, then a separate Montgomery reduction; about
/// a quarter fewer multiplications than [`mont_mul`]. `wide` has 2k limbs,
/// `scratch` k.
#[inline(always)]
fn mont_sqr(out: &mut [u64], a: &[u64], n: &[u64], n0: u64, wide: &mut [u64], scratch: &mut [u64]) {
    let k = a.len();
    wide.fill(0);
    // Cross products a[i]*a[j], i < j, at limb i+j: row i fills limbs 2i+1
    // to i+k-1 and sets i+k, which no earlier row reached.
    for (i, &ai) in a.iter().enumerate() {
        let Some((last, row)) = wide
            .get_mut(2 * i + 1..=i + k)
            .and_then(|r| r.split_last_mut())
        else {
            continue;
        };
        *last = mul_add(row, a.get(i + 1..).unwrap_or(&[]), ai);
    }
    // Double them and add the squares a[i]^2 at limb 2i.
    let (mut shifted_out, mut c) = (0u64, 0u64);
    for (pair, &ai) in wide.chunks_exact_mut(2).zip(a) {
        let [lo, hi] = pair else {
            break;
        };
        let (dlo, dhi) = ((*lo << 1) | shifted_out, (*hi << 1) | (*lo >> 63));
        shifted_out = *hi >> 63;
        let sq = u128::from(ai) * u128::from(ai);
        let s_lo = u128::from(dlo) + u128::from(sq as u64) + u128::from(c);
        let s_hi = u128::from(dhi) + (sq >> 64) + (s_lo >> 64);
        *lo = s_lo as u64;
        *hi = s_hi as u64;
        c = (s_hi >> 64) as u64;
    }
    // Montgomery reduction: k rounds of adding m*n to zero the lowest limb;
    // the result is the upper half, below 2n.
    let mut top = 0u64;
    for i in 0..k {
        let Some(window) = wide.get_mut(i..=i + k) else {
            break;
        };
        let Some((last, body)) = window.split_last_mut() else {
            break;
        };
        let m = body.first().copied().unwrap_or(0).wrapping_mul(n0);
        let c = mul_add(body, n, m);
        let s = u128::from(*last) + u128::from(c) + u128::from(top);
        *last = s as u64;
        top = (s >> 64) as u64;
    }
    if let Some(high) = wide.get(k..) {
        out.copy_from_slice(high);
    }
    reduce_once(out, top, n, scratch);
}

/// x = 2x mod n for x < n; `scratch` has x's length.
#[inline(always)]
fn double_mod(x: &mut [u64], n: &[u64], scratch: &mut [u64]) {
    let mut carry = 0;
    for xi in x.iter_mut() {
        let next = *xi >> 63;
        *xi = (*xi << 1) | carry;
        carry = next;
    }
    reduce_once(x, carry, n, scratch);
}

/// Limbs of scratch a thread keeps between exponentiations (every MODP
/// group and RSA up to 4096 bits; a larger one allocates its own each time).
const SCRATCH_KEEP: usize = 4096;

thread_local! {
    /// This thread's scratch, zeroed between uses.
    static SCRATCH: Cell<Vec<u64>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` on `len` zeroed limbs of this thread's scratch. A negotiation
/// makes four exponentiations, and a buffer of some kilobytes allocated and
/// freed for each one left holes in the heap of the thread that keeps the
/// states when it computes too (pluto `--nhelpers 0`), which the SAs'
/// long-lived blocks then filled and pinned. The buffer is zeroed after
/// use: it held powers of secret exponents.
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [u64]) -> R) -> R {
    let mut buf = SCRATCH.with(Cell::take);
    buf.clear();
    buf.resize(len, 0);
    let r = f(&mut buf);
    buf.fill(0);
    if buf.capacity() <= SCRATCH_KEEP {
        SCRATCH.with(|c| c.set(buf));
    }
    r
}

/// `be` (big-endian, at most 8*out.len() bytes) into little-endian limbs.
fn limbs_from_be(be: &[u8], out: &mut [u64]) {
    out.fill(0);
    for (limb, chunk) in out.iter_mut().zip(be.rchunks(8)) {
        *limb = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    }
}

/// Little-endian limbs into exactly `len` big-endian bytes (the limbs hold a
/// value below 256^len).
fn limbs_to_be(limbs: &[u64], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    for (chunk, limb) in out.rchunks_mut(8).zip(limbs) {
        let bytes = limb.to_be_bytes();
        let skip = bytes.len().saturating_sub(chunk.len());
        for (o, &b) in chunk.iter_mut().zip(bytes.iter().skip(skip)) {
            *o = b;
        }
    }
    out
}

/// The w bits of the big-endian `exp` starting at bit `lo` (bit 0 is the
/// least significant); bits past the top read as zero. Positions are public.
fn window(exp: &[u8], lo: usize, w: usize) -> usize {
    let mut v = 0usize;
    for i in (lo..lo + w).rev() {
        let byte = exp
            .len()
            .checked_sub(1 + i / 8)
            .and_then(|j| exp.get(j))
            .copied()
            .unwrap_or(0);
        v = (v << 1) | usize::from((byte >> (i % 8)) & 1);
    }
    v
}

/// The fixed window width for an exponent of `bits` bits: the one with the
/// fewest multiplications (one per window plus 2^w - 2 to fill the table);
/// squarings are one per bit whatever w is.
fn window_bits(bits: usize) -> usize {
    (1..=6)
        .min_by_key(|&w| bits.div_ceil(w) + (1usize << w) - 2)
        .unwrap_or(4)
}

/// out = table[idx] (entries of k limbs), reading every entry.
#[inline(always)]
fn select(out: &mut [u64], table: &[u64], k: usize, idx: usize) {
    out.fill(0);
    for (i, entry) in table.chunks_exact(k).enumerate() {
        let diff = (i ^ idx) as u64;
        // diff == 0 exactly when diff - 1 borrows (diff is small).
        let m = mask(diff.wrapping_sub(1) >> 63);
        for (o, &e) in out.iter_mut().zip(entry) {
            *o |= m & e;
        }
    }
}

impl Modulus {
    /// Checks n (big-endian, leading zeros allowed) and prepares its constants.
    pub fn new(n_be: &[u8]) -> Result<Modulus, ModexpError> {
        let start = n_be.iter().position(|&b| b != 0).unwrap_or(n_be.len());
        let n_be = n_be.get(start..).unwrap_or(&[]);
        let len = n_be.len();
        if len > MAX_MODULUS_BYTES {
            return Err(ModexpError::ModulusTooLong);
        }
        match n_be {
            [] => return Err(ModexpError::BadModulus),
            [.., last] if last & 1 == 0 => return Err(ModexpError::BadModulus),
            [1] => return Err(ModexpError::BadModulus),
            _ => {}
        }
        let k = len.div_ceil(8);
        let mut n = vec![0u64; k];
        limbs_from_be(n_be, &mut n);
        let n_low = n.first().copied().unwrap_or(1);
        // Newton's iteration for n^-1 mod 2^64: each step doubles the number
        // of correct low bits, and n*n = 1 mod 8 gives three to start with.
        let mut inv = n_low;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(n_low.wrapping_mul(inv)));
        }
        let n0 = inv.wrapping_neg();

        let mut scratch = vec![0u64; k];
        // R mod n: start from 2^(bits-1), which is below n (n is odd and
        // above 2, so not a power of two), and double up to 2^(64k).
        let top = n.last().copied().unwrap_or(0);
        let bits = 64 * k - top.leading_zeros() as usize;
        let mut one = vec![0u64; k];
        if let Some(limb) = one.get_mut((bits - 1) / 64) {
            *limb = 1 << ((bits - 1) % 64);
        }
        for _ in bits - 1..64 * k {
            double_mod(&mut one, &n, &mut scratch);
        }
        // R^2 mod n: 64k = j * 2^t with t = trailing zeros. Doubling R j
        // times gives 2^j in Montgomery form; t Montgomery squarings raise
        // it to 2^(j*2^t) = R, i.e. R*R mod n in Montgomery form.
        let r_bits = 64 * k;
        let t = r_bits.trailing_zeros();
        let mut rr = one.clone();
        for _ in 0..r_bits >> t {
            double_mod(&mut rr, &n, &mut scratch);
        }
        let mut tmp = vec![0u64; k];
        for _ in 0..t {
            mont_mul(&mut tmp, &rr, &rr, &n, n0, &mut scratch);
            std::mem::swap(&mut rr, &mut tmp);
        }
        Ok(Modulus {
            n,
            n0,
            one,
            rr,
            len,
        })
    }

    /// Byte length of the modulus, and of every result.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.len
    }

    fn check(&self, base: &[u8], exp: &[u8]) -> Result<(), ModexpError> {
        if base.len() > self.len {
            return Err(ModexpError::BaseTooLong);
        }
        if exp.len() > MAX_MODULUS_BYTES {
            return Err(ModexpError::ExponentTooLong);
        }
        Ok(())
    }

    /// base^exp mod n as exactly [`Modulus::len`] big-endian bytes. Both
    /// are big-endian; time depends on their lengths, not their values.
    pub fn pow(&self, base: &[u8], exp: &[u8]) -> Result<Vec<u8>, ModexpError> {
        self.check(base, exp)?;
        let k = self.n.len();
        let bits = exp.len() * 8;
        let w = window_bits(bits);
        let entries = 1usize << w;
        Ok(with_scratch((entries + 7) * k, |buf| {
            self.pow_in(base, exp, w, buf)
        }))
    }

    /// [`Modulus::pow`] with window `w` in `buf`, (2^w + 7) * k limbs.
    fn pow_in(&self, base: &[u8], exp: &[u8], w: usize, buf: &mut [u64]) -> Vec<u8> {
        let k = self.n.len();
        let bits = exp.len() * 8;
        let entries = 1usize << w;
        let (table, rest) = buf.split_at_mut(entries * k);
        let (acc, rest) = rest.split_at_mut(k);
        let (tmp, rest) = rest.split_at_mut(k);
        let (prod, rest) = rest.split_at_mut(k);
        let (wide, scratch) = rest.split_at_mut(2 * k);
        let (n, n0) = (self.n.as_slice(), self.n0);

        // table[i] = base^i in Montgomery form; base*R^2/R = base*R mod n
        // for any base < R (the product is below R*n).
        limbs_from_be(base, tmp);
        for (i, entry) in table.chunks_exact_mut(k).enumerate() {
            match i {
                0 => entry.copy_from_slice(&self.one),
                1 => {
                    mont_mul(entry, tmp, &self.rr, n, n0, scratch);
                    acc.copy_from_slice(entry);
                }
                _ => {
                    // acc holds table[1] and prod table[i-1].
                    let prev = if i == 2 { &*acc } else { &*prod };
                    mont_mul(entry, prev, acc, n, n0, scratch);
                    prod.copy_from_slice(entry);
                }
            }
        }

        // Windows from the top; the first one only loads its entry.
        let windows = bits.div_ceil(w);
        acc.copy_from_slice(&self.one);
        for win in (0..windows).rev() {
            let idx = window(exp, win * w, w);
            if win + 1 == windows {
                select(acc, table, k, idx);
                continue;
            }
            for _ in 0..w {
                mont_sqr(prod, acc, n, n0, wide, scratch);
                acc.copy_from_slice(prod);
            }
            select(tmp, table, k, idx);
            mont_mul(prod, acc, tmp, n, n0, scratch);
            acc.copy_from_slice(prod);
        }
        self.leave_mont(acc, prod, scratch)
    }

    /// x/R mod n as big-endian bytes (out of Montgomery form); `scratch`
    /// has 2k limbs (the callers' k for products, and k more here).
    fn leave_mont(&self, x: &[u64], out: &mut [u64], scratch: &mut [u64]) -> Vec<u8> {
        let (unit, scratch) = scratch.split_at_mut(self.n.len());
        unit.fill(0);
        if let Some(u) = unit.first_mut() {
            *u = 1;
        }
        mont_mul(out, x, unit, &self.n, self.n0, scratch);
        limbs_to_be(out, self.len)
    }
}

/// Comb teeth of a [`FixedBase`]: 2^6 table entries. For a 256-bit exponent
/// that is 43 squarings and 43 multiplications where [`Modulus::pow`] needs
/// 256 and 64; six beats five and seven once the table scans are counted.
const COMB_TEETH: usize = 6;

/// A public base prepared once for exponents of one byte length: the comb
/// table of Lim and Lee ("More flexible exponentiation with precomputation",
/// CRYPTO '94). With spacing d = ceil(bits/h), entry v (h bits) holds the
/// product of base^(2^(r*d)) over the bits r set in v; then base^e is d
/// rounds of one squaring and one multiplication by the entry that column c
/// of e selects (bits c, d+c, 2d+c, ...). Lookups scan the whole table.
#[derive(Clone)]
pub struct FixedBase {
    modulus: Modulus,
    /// 2^COMB_TEETH entries of k limbs, in Montgomery form.
    table: Vec<u64>,
    spacing: usize,
    exp_len: usize,
}

impl fmt::Debug for FixedBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixedBase")
            .field("modulus", &self.modulus)
            .field("exp_len", &self.exp_len)
            .finish_non_exhaustive()
    }
}

impl FixedBase {
    /// Prepares `base` (no longer than the modulus, any value) for
    /// exponents of exactly `exp_len` bytes.
    pub fn new(modulus: &Modulus, base: &[u8], exp_len: usize) -> Result<FixedBase, ModexpError> {
        modulus.check(base, &[])?;
        if exp_len > MAX_MODULUS_BYTES {
            return Err(ModexpError::ExponentTooLong);
        }
        let k = modulus.n.len();
        let (n, n0) = (modulus.n.as_slice(), modulus.n0);
        let spacing = (exp_len * 8).div_ceil(COMB_TEETH);
        let mut table = vec![0u64; k << COMB_TEETH];
        let mut buf = vec![0u64; 5 * k];
        let (g, rest) = buf.split_at_mut(k);
        let (prod, rest) = rest.split_at_mut(k);
        let (wide, scratch) = rest.split_at_mut(2 * k);
        limbs_from_be(base, prod);
        mont_mul(g, prod, &modulus.rr, n, n0, scratch);
        // Entry 2^r is base^(2^(r*d)); entry v = entry (v minus its top
        // bit) times entry (its top bit).
        for r in 0..COMB_TEETH {
            let (low, high) = table.split_at_mut(k << r);
            let Some(entry) = high.get_mut(..k) else {
                break;
            };
            entry.copy_from_slice(g);
            for (v, dst) in high.chunks_exact_mut(k).enumerate().skip(1) {
                let Some(src) = low.get(v * k..(v + 1) * k) else {
                    break;
                };
                mont_mul(dst, src, g, n, n0, scratch);
            }
            for _ in 0..spacing {
                mont_sqr(prod, g, n, n0, wide, scratch);
                g.copy_from_slice(prod);
            }
        }
        if let Some(t0) = table.get_mut(..k) {
            t0.copy_from_slice(&modulus.one);
        }
        Ok(FixedBase {
            modulus: modulus.clone(),
            table,
            spacing,
            exp_len,
        })
    }

    /// The modulus this base was prepared for.
    pub fn modulus(&self) -> &Modulus {
        &self.modulus
    }

    /// base^exp mod n as exactly [`Modulus::len`] big-endian bytes; `exp`
    /// must be exactly the length given to [`FixedBase::new`].
    pub fn pow(&self, exp: &[u8]) -> Result<Vec<u8>, ModexpError> {
        if exp.len() != self.exp_len {
            return Err(ModexpError::ExponentLength);
        }
        let k = self.modulus.n.len();
        Ok(with_scratch(7 * k, |buf| self.pow_in(exp, buf)))
    }

    /// [`FixedBase::pow`] in `buf`, 7k limbs.
    fn pow_in(&self, exp: &[u8], buf: &mut [u64]) -> Vec<u8> {
        let m = &self.modulus;
        let k = m.n.len();
        let (n, n0) = (m.n.as_slice(), m.n0);
        let (acc, rest) = buf.split_at_mut(k);
        let (entry, rest) = rest.split_at_mut(k);
        let (prod, rest) = rest.split_at_mut(k);
        let (wide, scratch) = rest.split_at_mut(2 * k);
        acc.copy_from_slice(&m.one);
        for c in (0..self.spacing).rev() {
            mont_sqr(prod, acc, n, n0, wide, scratch);
            let mut v = 0;
            for r in (0..COMB_TEETH).rev() {
                v = (v << 1) | window(exp, r * self.spacing + c, 1);
            }
            select(entry, &self.table, k, v);
            mont_mul(acc, prod, entry, n, n0, scratch);
        }
        m.leave_mont(acc, prod, scratch)
    }
}
