//! Handing freed heap memory back to the kernel once a burst is over.
//!
//! A burst of negotiations leaves the heap fragmented: each one's transient
//! buffers (DH values, packets kept for retransmission, the proposal being
//! parsed) were interleaved with the long-lived states, and when they are
//! freed the pages between the survivors stay resident.  glibc returns only
//! the top of the heap by itself; `malloc_trim` also gives back every whole
//! free page inside it, in every arena (the helper threads have their own).
//! It walks the free lists, so it runs once things have been quiet for
//! [`QUIET`], and under a load that never pauses at most every [`AT_MOST`].

#![allow(unsafe_code)]

use std::time::{Duration, Instant};

/// Quiet time after the last activity before the heap is trimmed.
pub const QUIET: Duration = Duration::from_millis(300);
/// The longest a trim waits while activity goes on.
pub const AT_MOST: Duration = Duration::from_secs(10);

/// When the next trim is due, if any activity happened since the last one.
#[derive(Debug, Default)]
pub struct Trim {
    /// The first activity since the last trim, and the latest.
    dirty: Option<(Instant, Instant)>,
}

impl Trim {
    /// Something was handled at `now` (a datagram, a computation, a request).
    pub fn activity(&mut self, now: Instant) {
        let first = self.dirty.map_or(now, |(first, _)| first);
        self.dirty = Some((first, now));
    }

    /// When the trim is due.
    pub fn deadline(&self) -> Option<Instant> {
        self.dirty
            .map(|(first, last)| (last + QUIET).min(first + AT_MOST))
    }

    /// Trims the heap if it is due at `now`; returns whether it did.
    pub fn poll(&mut self, now: Instant) -> bool {
        if !self.deadline().is_some_and(|t| t <= now) {
            return false;
        }
        self.dirty = None;
        release();
        true
    }
}

/// Gives the heap's free pages back to the kernel.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release() {
    // SAFETY: malloc_trim takes no pointers and only rearranges the
    // allocator's own free memory, under the allocator's locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_quiet_and_never_longer_than_at_most() {
        let t0 = Instant::now();
        let mut trim = Trim::default();
        assert_eq!(trim.deadline(), None);
        assert!(!trim.poll(t0 + AT_MOST * 3), "nothing happened: no trim");

        trim.activity(t0);
        assert_eq!(trim.deadline(), Some(t0 + QUIET));
        assert!(!trim.poll(t0 + QUIET / 2));
        // Activity keeps pushing it back...
        let mut now = t0;
        while now < t0 + AT_MOST - QUIET {
            now += QUIET / 2;
            trim.activity(now);
            assert!(!trim.poll(now));
        }
        // ...but not past AT_MOST after the first.
        assert_eq!(trim.deadline(), Some(t0 + AT_MOST));
        assert!(trim.poll(t0 + AT_MOST));
        assert_eq!(trim.deadline(), None, "a trim starts a new round");

        trim.activity(t0 + AT_MOST * 2);
        assert!(trim.poll(t0 + AT_MOST * 2 + QUIET));
    }
}
