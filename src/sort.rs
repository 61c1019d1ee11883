//! The binary's one sorting routine: a heapsort whose comparison goes through
//! `dyn`.
//!
//! `slice::sort_unstable` is compiled once per element type and comparator:
//! pattern-defeating quicksort with its heapsort fallback, sorting networks
//! and pivot selection, 3 to 5 KB each, 48 KB for the dozen sorts of this
//! binary.  Everything sorted here is a listing, a batch of due timers or the
//! candidates under one index key; a heapsort's O(n log n) without a worst
//! case is plenty for them, and costs a few hundred bytes per element type.
//! `clippy.toml` keeps the slice methods out of the rest of the tree.

use std::cmp::Ordering;

/// Sorts `v` in ascending order (not stable: equal elements may swap).
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, &mut |a: &T, b: &T| a.cmp(b));
}

/// Sorts `v` by the key `key` (not stable).
pub fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(v, &mut |a: &T, b: &T| key(a).cmp(&key(b)));
}

/// Sorts `v` by `cmp` (not stable).
pub fn sort_by<T>(v: &mut [T], cmp: &mut dyn FnMut(&T, &T) -> Ordering) {
    let len = v.len();
    // A max-heap in place, then the maximum moved to the end, len - 1 times.
    for root in (0..len / 2).rev() {
        sift_down(v, root, len, cmp);
    }
    for end in (1..len).rev() {
        v.swap(0, end);
        sift_down(v, 0, end, cmp);
    }
}

/// Restores the heap property below `root` within `v[..end]`.
fn sift_down<T>(v: &mut [T], mut root: usize, end: usize, cmp: &mut dyn FnMut(&T, &T) -> Ordering) {
    loop {
        // `root < end / 2` or the loop ends: no overflow for any slice length.
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && cmp(&v[child], &v[child + 1]) == Ordering::Less {
            child += 1;
        }
        if cmp(&v[root], &v[child]) != Ordering::Less {
            return;
        }
        v.swap(root, child);
        root = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random sequence (xorshift64).
    fn numbers(seed: u64, n: usize, modulo: u64) -> Vec<u64> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % modulo
            })
            .collect()
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // std's sort is the reference here
    fn agrees_with_std_on_every_shape() {
        let mut shapes: Vec<Vec<u64>> = vec![vec![], vec![7], vec![2, 1], vec![1, 2], vec![5; 9]];
        for n in [3, 8, 31, 64, 257, 1000] {
            shapes.push(numbers(n as u64, n, 1 << 40)); // distinct
            shapes.push(numbers(n as u64 + 1, n, 4)); // many equal
            shapes.push((0..n as u64).collect()); // sorted
            shapes.push((0..n as u64).rev().collect()); // reversed
        }
        for shape in shapes {
            let mut want = shape.clone();
            want.sort_unstable();
            let mut got = shape.clone();
            sort(&mut got);
            assert_eq!(got, want, "input {shape:?}");
        }
    }

    #[test]
    fn by_key_and_by_comparator() {
        let mut v = vec![(3, "c"), (1, "a"), (2, "b"), (0, "z")];
        sort_by_key(&mut v, |&(n, _)| n);
        assert_eq!(v, [(0, "z"), (1, "a"), (2, "b"), (3, "c")]);
        sort_by(&mut v, &mut |a, b| b.1.cmp(a.1));
        assert_eq!(v, [(0, "z"), (3, "c"), (2, "b"), (1, "a")]);
    }
}
