//! The seams that make the monitor testable without waiting: time, sleeping and randomness.
//!
//! The monitor never calls `Instant::now`, `SystemTime::now` or `thread::sleep` itself; it asks a
//! [`Clock`]. [`SystemClock`] is the real one; [`SimClock`] advances only when slept on, so a
//! four-minute deployment is simulated in microseconds.

use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime};

/// Time and sleeping, as the monitor sees them.
pub trait Clock {
    /// Monotonic time since the clock was made.
    fn elapsed(&self) -> Duration;
    /// Wall-clock time, for log lines and records.
    fn wall(&self) -> SystemTime;
    fn sleep(&self, duration: Duration);
}

/// The operating system's clock.
#[derive(Debug)]
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock {
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A simulated clock: time stands still until someone sleeps.
#[derive(Debug)]
pub struct SimClock {
    now: Cell<Duration>,
    origin: SystemTime,
}

impl SimClock {
    pub fn new(origin: SystemTime) -> SimClock {
        SimClock {
            now: Cell::new(Duration::ZERO),
            origin,
        }
    }
}

impl Clock for SimClock {
    fn elapsed(&self) -> Duration {
        self.now.get()
    }

    fn wall(&self) -> SystemTime {
        self.origin + self.now.get()
    }

    fn sleep(&self, duration: Duration) {
        self.now.set(self.now.get() + duration);
    }
}

/// A small deterministic generator (xorshift64*) for backoff jitter: seeded by the caller, so
/// tests are repeatable and runs are not in lockstep.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    pub fn new(seed: u64) -> Jitter {
        // Zero is xorshift's one fixed point.
        Jitter(seed | 1)
    }

    /// A seed that differs between processes and runs.
    pub fn from_entropy() -> Jitter {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Jitter::new(nanos ^ (u64::from(std::process::id()) << 32))
    }

    /// Uniform in `[0, upper]`.
    pub fn up_to(&mut self, upper: Duration) -> Duration {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        let r = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let fraction = (r >> 11) as f64 / (1u64 << 53) as f64;
        upper.mul_f64(fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_clock_moves_only_when_slept_on() {
        let clock = SimClock::new(SystemTime::UNIX_EPOCH);
        assert_eq!(clock.elapsed(), Duration::ZERO);
        clock.sleep(Duration::from_secs(3));
        assert_eq!(clock.elapsed(), Duration::from_secs(3));
        assert_eq!(
            clock.wall(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(3)
        );
    }

    #[test]
    fn jitter_stays_in_range_and_repeats() {
        let (mut a, mut b) = (Jitter::new(7), Jitter::new(7));
        for _ in 0..100 {
            let x = a.up_to(Duration::from_secs(1));
            assert!(x <= Duration::from_secs(1));
            assert_eq!(x, b.up_to(Duration::from_secs(1)));
        }
    }
}
