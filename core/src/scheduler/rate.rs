//! Requests per second: a GCRA rate limiter (`governor`) on tokio's clock.
//!
//! GCRA admits a steady rate with a bounded burst and answers "not before T" instead of
//! "no", so a caller sleeps exactly as long as needed. The clock is tokio's, so paused-time
//! tests step it by hand and production uses the monotonic clock tokio already reads.
//!
//! Rejected alternatives: a fixed-window counter (allows 2× the rate across a window edge) and
//! a hand-written token bucket (GCRA is the same policy in one atomic word, already proven).

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

/// Tokio time as seen by governor: time elapsed since the gate was built.
#[derive(Debug, Clone, Copy)]
struct TokioClock {
    start: tokio::time::Instant,
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

/// A rate limit shared by every call of a client.
#[derive(Debug)]
pub struct RateGate {
    limiter: RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>,
    clock: TokioClock,
}

impl RateGate {
    /// `per_second` steady rate with bursts of up to `burst` requests.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        let clock = TokioClock {
            start: tokio::time::Instant::now(),
        };
        let quota = Quota::per_second(per_second).allow_burst(burst);
        RateGate {
            limiter: RateLimiter::direct_with_clock(quota, clock),
            clock,
        }
    }

    /// Takes a slot now, or says how long until one is free.
    pub fn check(&self) -> Result<(), Duration> {
        self.limiter
            .check()
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Waits until a slot is taken.
    pub async fn ready(&self) {
        while let Err(wait) = self.check() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).expect("non-zero")
    }

    #[tokio::test(start_paused = true)]
    async fn burst_passes_then_requests_are_spaced_at_the_rate() {
        let gate = RateGate::new(nz(10), nz(3));
        for _ in 0..3 {
            assert_eq!(gate.check(), Ok(()));
        }
        assert_eq!(gate.check(), Err(Duration::from_millis(100)));
        tokio::time::advance(Duration::from_millis(100)).await;
        assert_eq!(gate.check(), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn ready_admits_the_configured_rate_over_virtual_time() {
        let gate = RateGate::new(nz(20), nz(1));
        let start = tokio::time::Instant::now();
        for _ in 0..41 {
            gate.ready().await;
        }
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(2),
            "41 requests at 20/s with no burst take 2 s"
        );
    }
}
