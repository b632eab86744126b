//! The node's hybrid logical clock: every write's version. A version is one integer,
//! milliseconds since the epoch shifted left by `LOGICAL_BITS` plus a logical counter, so
//! versions compare exactly as integers and follow wall-clock time where clocks agree.
//!
//! Invariants: `tick` answers a version greater than every version this node issued or
//! observed before (also across restarts: the store seeds the clock with the highest version in
//! its log); observing a version received from a peer moves the clock past it, however far
//! ahead the peer's clock runs, so a write made here after it is always newer than what it
//! replaces. Last-writer-wins orders by (version, origin).
//!
//! Not `uhlc`: its timestamps are 128-bit with a random id and it refuses peers beyond a maximum
//! drift, while a version here must fit one SQLite integer and a skewed peer's write must be
//! replaceable (not refused) for nodes to converge.

use std::sync::atomic::{AtomicI64, Ordering};

/// Bits of the logical counter: about a million versions per millisecond before the clock runs
/// ahead of wall time.
pub const LOGICAL_BITS: u32 = 20;

#[derive(Debug)]
pub struct Clock {
    last: AtomicI64,
}

/// The version a wall-clock time in epoch milliseconds (with a fraction) maps to: its whole
/// milliseconds, and its microseconds as the counter (so existing data keeps its order).
pub fn version_of_ms(ms: f64) -> i64 {
    if !ms.is_finite() || ms <= 0.0 {
        return 0;
    }
    let whole = ms.trunc();
    let micros = ((ms - whole) * 1000.0).floor().clamp(0.0, 999.0) as i64;
    ((whole as i64) << LOGICAL_BITS) | micros
}

/// The wall-clock milliseconds of a version.
pub fn ms_of_version(v: i64) -> i64 {
    v >> LOGICAL_BITS
}

fn physical_now() -> i64 {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    ms << LOGICAL_BITS
}

impl Clock {
    /// A clock past `high`, the highest version already stored.
    pub fn starting_after(high: i64) -> Clock {
        Clock { last: AtomicI64::new(high) }
    }

    /// A new version: the wall clock's, or one past the last one when that is not ahead.
    pub fn tick(&self) -> i64 {
        let now = physical_now();
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = now.max(last.saturating_add(1));
            match self.last.compare_exchange_weak(last, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// The highest version issued or observed so far.
    pub fn last(&self) -> i64 {
        self.last.load(Ordering::Acquire)
    }

    /// A version received from elsewhere: later ticks are past it.
    pub fn observe(&self, v: i64) {
        self.last.fetch_max(v, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_grow_and_pass_whatever_was_observed() {
        let c = Clock::starting_after(0);
        let a = c.tick();
        let b = c.tick();
        assert!(b > a, "every tick is newer");
        assert!(ms_of_version(a) > 1_700_000_000_000, "follows wall time");
        // A peer an hour ahead: the next local version is still newer than its.
        let ahead = version_of_ms(ms_of_version(b) as f64 + 3_600_000.0);
        c.observe(ahead);
        assert!(c.tick() > ahead);
        // A clock seeded from storage starts past it.
        let seeded = Clock::starting_after(ahead + 1000);
        assert!(seeded.tick() > ahead + 1000);
    }

    #[test]
    fn wall_clock_times_map_in_order_and_exactly() {
        let a = version_of_ms(1796534462114.071);
        let b = version_of_ms(1796534462114.072);
        assert!(b > a, "a microsecond apart stays apart");
        assert_eq!(ms_of_version(a), 1796534462114);
        assert_eq!(version_of_ms(-1.0), 0);
    }
}
