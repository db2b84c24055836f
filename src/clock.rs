//! The one clock the timing code reads: escalation pages, SLA warnings and the outbox's
//! "due now". Real in production; in tests a shared offset moves it forward, so a test
//! checks a 15-minute wait without sleeping through it.

use chrono::{DateTime, Duration, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// What time it is. Cloned into everything that needs the time; clones share one offset,
/// so every instance of a test (a restarted one, a sibling) sees the same moved time.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Milliseconds added to the system time; only tests move it.
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system time.
    pub fn real() -> Self {
        Clock::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }

    /// Moves the time forward by `by` (time keeps running from there).
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds().max(0), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone() {
        let clock = Clock::real();
        let other = clock.clone();
        let before = other.now();
        clock.advance(Duration::minutes(15));
        let moved = other.now() - before;
        assert!(moved >= Duration::minutes(15) && moved < Duration::minutes(16));
    }
}
