//! Exponential backoff with full jitter.
//!
//! The delay before retry `n` (0 for the first retry) is drawn uniformly from
//! `[0, min(cap, base * 2^n)]`. Full jitter spreads a crowd of clients that failed together over
//! the whole window, so they do not come back in synchronized waves.
//!
//! Rejected alternatives: fixed delays (every client retries at the same instant and the brownout
//! repeats) and "equal jitter" (`ceiling/2 + rand(ceiling/2)`), which keeps a floor that slows
//! recovery without reducing collisions much (see AWS's "Exponential Backoff and Jitter").
//! The random source is a parameter so tests pin it with a seeded RNG.

use std::time::Duration;

use rand::Rng;

use crate::error::Error;

/// Exponential backoff parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
}

impl Default for Backoff {
    /// Base 100 ms, cap 20 s.
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(20),
        }
    }
}

impl Backoff {
    /// Backoff with the given base and cap; the base must be non-zero and not above the cap.
    pub fn new(base: Duration, cap: Duration) -> Result<Self, Error> {
        if base.is_zero() {
            return Err(Error::config(
                "retry_backoff_base",
                "must be greater than zero",
            ));
        }
        if base > cap {
            return Err(Error::config(
                "retry_backoff_cap",
                format!("{cap:?} is below the base {base:?}"),
            ));
        }
        Ok(Backoff { base, cap })
    }

    /// The first retry's ceiling.
    pub fn base(&self) -> Duration {
        self.base
    }

    /// The largest ceiling.
    pub fn cap(&self) -> Duration {
        self.cap
    }

    /// `min(cap, base * 2^retry)`, without overflow for any `retry`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.base
            .checked_mul(factor)
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// A full-jitter delay for retry `retry` (0-based).
    pub fn delay<R: Rng + ?Sized>(&self, retry: u32, rng: &mut R) -> Duration {
        let ceiling = self.ceiling(retry);
        Duration::from_nanos(rng.random_range(0..=ceiling.as_nanos().min(u64::MAX as u128) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn backoff() -> Backoff {
        Backoff::new(Duration::from_millis(100), Duration::from_secs(2)).expect("valid")
    }

    #[test]
    fn ceiling_doubles_until_the_cap() {
        let b = backoff();
        let ceilings: Vec<_> = (0..7).map(|n| b.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(2));
    }

    #[test]
    fn delays_stay_within_the_ceiling_and_spread_over_it() {
        let b = backoff();
        let mut rng = StdRng::seed_from_u64(7);
        let delays: Vec<_> = (0..1000).map(|_| b.delay(3, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(800)));
        let low = delays
            .iter()
            .filter(|d| **d < Duration::from_millis(400))
            .count();
        assert!(
            (400..600).contains(&low),
            "full jitter is uniform: {low} of 1000 below half"
        );
    }

    #[test]
    fn same_seed_gives_same_delays() {
        let b = backoff();
        let draw = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..5).map(|n| b.delay(n, &mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
    }

    #[test]
    fn invalid_parameters_name_the_setting() {
        let err = Backoff::new(Duration::ZERO, Duration::from_secs(1)).expect_err("zero base");
        assert!(err.to_string().contains("retry_backoff_base"));
        let err = Backoff::new(Duration::from_secs(5), Duration::from_secs(1))
            .expect_err("cap below base");
        assert!(err.to_string().contains("retry_backoff_cap"));
    }
}
