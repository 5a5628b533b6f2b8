//! The adaptive concurrency limit: additive increase, multiplicative decrease (AIMD).
//!
//! - **Increase**: after a full window of successes (as many as the current limit) the limit
//!   grows by one — about +1 per round trip at full use, like TCP congestion avoidance. Only
//!   successes seen while the limit was at least half in use count, so an idle client does not
//!   drift up to the maximum and then stampede.
//! - **Decrease**: an overload signal (503, 429, a timeout, a concurrent-limit 403) multiplies
//!   the limit by `decrease_factor` (0.7). Signals from permits granted before the last decrease
//!   are ignored: they describe the old limit, and counting them would collapse the limit to the
//!   minimum on one burst of failures.
//! - Always within `[min, max]`.
//!
//! Rejected alternatives: a fixed concurrency (either too low for a healthy org or too high for
//! a browning-out one) and gradient/latency-only limits (Salesforce latency varies per call far
//! more than with load, so latency alone is a noisy congestion signal; it is used only through
//! an optional latency threshold for short calls).

use std::time::Duration;

use crate::error::Error;

/// AIMD settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AimdConfig {
    /// Starting limit. Default: 16.
    pub initial: u32,
    /// Lowest limit. Default: 1.
    pub min: u32,
    /// Highest limit. Default: 64.
    pub max: u32,
    /// Multiplier applied on overload. Default: 0.7.
    pub decrease_factor: f64,
    /// A short call slower than this counts as overload. Default: `None` (latency ignored).
    pub latency_threshold: Option<Duration>,
}

impl Default for AimdConfig {
    fn default() -> Self {
        AimdConfig {
            initial: 16,
            min: 1,
            max: 64,
            decrease_factor: 0.7,
            latency_threshold: None,
        }
    }
}

impl AimdConfig {
    /// Checks bounds, naming the offending setting.
    pub fn validate(&self) -> Result<(), Error> {
        if self.min == 0 || self.min > self.max {
            return Err(Error::config(
                "scheduler_min_concurrency",
                format!("{} must be in [1, max {}]", self.min, self.max),
            ));
        }
        if !(self.min..=self.max).contains(&self.initial) {
            return Err(Error::config(
                "scheduler_initial_concurrency",
                format!("{} is outside [{}, {}]", self.initial, self.min, self.max),
            ));
        }
        if !(self.decrease_factor > 0.0 && self.decrease_factor < 1.0) {
            return Err(Error::config(
                "scheduler_decrease_factor",
                format!("{} is not in (0, 1)", self.decrease_factor),
            ));
        }
        Ok(())
    }
}

/// What a limit change was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The limit grew.
    Increased,
    /// The limit shrank.
    Decreased,
    /// No change.
    Unchanged,
}

/// The AIMD state machine (pure: no clock, no locks).
#[derive(Debug, Clone)]
pub struct AimdLimit {
    config: AimdConfig,
    limit: u32,
    successes: u32,
    epoch: u64,
}

impl AimdLimit {
    /// A limit at `config.initial`.
    pub fn new(config: AimdConfig) -> Self {
        AimdLimit {
            config,
            limit: config.initial,
            successes: 0,
            epoch: 0,
        }
    }

    /// The current limit.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Increments at every decrease; permits remember the epoch they were granted in.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// A success while `in_flight` calls (this one included) were running.
    pub fn on_success(&mut self, in_flight: u32) -> Change {
        if in_flight.saturating_mul(2) < self.limit {
            return Change::Unchanged;
        }
        self.successes += 1;
        if self.successes < self.limit || self.limit >= self.config.max {
            return Change::Unchanged;
        }
        self.successes = 0;
        self.limit += 1;
        Change::Increased
    }

    /// An overload signal from a permit granted in `permit_epoch`.
    pub fn on_overload(&mut self, permit_epoch: u64) -> Change {
        if permit_epoch < self.epoch {
            return Change::Unchanged;
        }
        self.epoch += 1;
        self.successes = 0;
        let reduced = ((self.limit as f64) * self.config.decrease_factor).floor() as u32;
        let next = reduced.max(self.config.min);
        if next == self.limit {
            return Change::Unchanged;
        }
        self.limit = next;
        Change::Decreased
    }

    /// Whether a short call's latency counts as overload.
    pub fn is_too_slow(&self, latency: Duration) -> bool {
        self.config.latency_threshold.is_some_and(|t| latency > t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aimd(initial: u32) -> AimdLimit {
        AimdLimit::new(AimdConfig {
            initial,
            min: 2,
            max: 12,
            ..AimdConfig::default()
        })
    }

    #[test]
    fn a_full_window_of_busy_successes_adds_one() {
        let mut limit = aimd(4);
        let changes: Vec<_> = (0..4).map(|_| limit.on_success(4)).collect();
        assert_eq!(changes.last(), Some(&Change::Increased));
        assert_eq!(limit.limit(), 5);
    }

    #[test]
    fn idle_successes_do_not_raise_the_limit() {
        let mut limit = aimd(10);
        for _ in 0..100 {
            limit.on_success(1);
        }
        assert_eq!(limit.limit(), 10);
    }

    #[test]
    fn overload_multiplies_by_the_factor_down_to_the_minimum() {
        let mut limit = aimd(10);
        let mut seen = Vec::new();
        for _ in 0..5 {
            limit.on_overload(limit.epoch());
            seen.push(limit.limit());
        }
        assert_eq!(seen, [7, 4, 2, 2, 2]);
    }

    #[test]
    fn signals_from_before_the_last_decrease_are_ignored() {
        let mut limit = aimd(10);
        let granted_in = limit.epoch();
        assert_eq!(limit.on_overload(granted_in), Change::Decreased);
        for _ in 0..9 {
            assert_eq!(limit.on_overload(granted_in), Change::Unchanged);
        }
        assert_eq!(limit.limit(), 7);
    }

    #[test]
    fn the_limit_never_passes_the_maximum() {
        let mut limit = aimd(12);
        for _ in 0..100 {
            limit.on_success(12);
        }
        assert_eq!(limit.limit(), 12);
    }

    #[test]
    fn latency_threshold_is_optional() {
        assert!(!aimd(4).is_too_slow(Duration::from_secs(600)));
        let strict = AimdLimit::new(AimdConfig {
            latency_threshold: Some(Duration::from_secs(5)),
            ..AimdConfig::default()
        });
        assert!(strict.is_too_slow(Duration::from_secs(6)));
    }

    #[test]
    fn bad_bounds_name_the_setting() {
        let err = AimdConfig {
            initial: 100,
            ..AimdConfig::default()
        }
        .validate()
        .expect_err("outside bounds");
        assert!(err.to_string().contains("scheduler_initial_concurrency"));
    }
}
