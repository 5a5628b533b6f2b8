//! Turns a [`Verdict`] into what the pipeline does next.
//!
//! A call is retried only when all of these hold: the classifier said `Retry`, the per-call
//! attempt cap is not reached, any `Retry-After` is within `max_retry_after`, and the shared
//! [`RetryBudget`] pays for it. The delay is `Retry-After` when the server sent one, else
//! full-jitter backoff. A 401 refreshes the token once and replays once; that replay is not a
//! retry (it costs no budget and no attempt).
//!
//! The pipeline loop stays a few lines:
//!
//! ```ignore
//! let mut attempts = policy.begin();
//! loop {
//!     let outcome = send().await;
//!     match attempts.next(classify(&outcome, safety, SystemTime::now())) {
//!         Decision::Done => return Ok(response),
//!         Decision::RefreshToken => tokens.refresh().await?,
//!         Decision::Retry { delay, .. } => tokio::time::sleep(delay).await,
//!         Decision::GiveUp { error, .. } => return Err(error),
//!     }
//! }
//! ```

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::backoff::Backoff;
use super::budget::{BudgetConfig, RetryBudget, RetryToken};
use super::classify::{RetryReason, Verdict};
use crate::error::Error;

/// Retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// Attempts per call, the first included. Default: 4.
    pub max_attempts: u32,
    /// Backoff between attempts. Default: 100 ms base, 20 s cap.
    pub backoff: Backoff,
    /// The shared retry budget. Default: AWS standard (500 / 5 / 10 / 1).
    pub budget: BudgetConfig,
    /// Longest `Retry-After` the client will wait; longer means give up. Default: 60 s.
    pub max_retry_after: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 4,
            backoff: Backoff::default(),
            budget: BudgetConfig::default(),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Why a call stopped being retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUpReason {
    /// The classifier said the failure is permanent.
    NotRetryable,
    /// `max_attempts` reached.
    AttemptsExhausted,
    /// The retry budget is empty (a brownout): count it and emit `RetryBudgetExhausted`.
    BudgetExhausted,
    /// The server asked to wait longer than `max_retry_after`.
    RetryAfterTooLong,
    /// The session was still invalid after one refresh and replay.
    SessionStillInvalid,
}

/// The pipeline's next step.
#[derive(Debug)]
pub enum Decision {
    /// Success: return the response.
    Done,
    /// Refresh the access token, then replay at once.
    RefreshToken,
    /// Sleep `delay`, then replay.
    Retry {
        /// How long to wait.
        delay: Duration,
        /// Why the call is retried (metrics label; overload feeds the scheduler).
        reason: RetryReason,
        /// The failure being retried, for logs.
        error: Error,
    },
    /// Return `error` to the caller.
    GiveUp {
        /// The failure.
        error: Error,
        /// Why no further attempt.
        reason: GiveUpReason,
    },
}

/// A client's retry policy; clones share one budget and one jitter source.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    config: RetryConfig,
    budget: RetryBudget,
    rng: Arc<Mutex<StdRng>>,
}

impl RetryPolicy {
    /// A policy with OS-seeded jitter.
    pub fn new(config: RetryConfig) -> Result<Self, Error> {
        Self::with_rng(config, StdRng::from_os_rng())
    }

    /// A policy whose jitter is reproducible (tests, simulations).
    pub fn seeded(config: RetryConfig, seed: u64) -> Result<Self, Error> {
        Self::with_rng(config, StdRng::seed_from_u64(seed))
    }

    fn with_rng(config: RetryConfig, rng: StdRng) -> Result<Self, Error> {
        if config.max_attempts == 0 {
            return Err(Error::config("retry_max_attempts", "must be at least 1"));
        }
        config.budget.validate()?;
        Ok(RetryPolicy {
            config,
            budget: RetryBudget::new(config.budget),
            rng: Arc::new(Mutex::new(rng)),
        })
    }

    /// The shared budget (for metrics: `available()`).
    pub fn budget(&self) -> &RetryBudget {
        &self.budget
    }

    /// The settings.
    pub fn config(&self) -> &RetryConfig {
        &self.config
    }

    /// Per-call state for one logical call.
    pub fn begin(&self) -> Attempts {
        Attempts {
            policy: self.clone(),
            attempt: 1,
            retries: 0,
            refreshed: false,
            token: None,
        }
    }
}

/// The retry state of one logical call.
#[derive(Debug)]
pub struct Attempts {
    policy: RetryPolicy,
    attempt: u32,
    retries: u32,
    refreshed: bool,
    token: Option<RetryToken>,
}

impl Attempts {
    /// The 1-based number of the attempt about to be (or just) sent, replays included.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Decides what follows the verdict of the latest attempt.
    pub fn next(&mut self, verdict: Verdict) -> Decision {
        let decision = match verdict {
            Verdict::Success => {
                self.policy.budget.on_success(self.token.take());
                return Decision::Done;
            }
            Verdict::RefreshToken(error) if self.refreshed => {
                give_up(error, GiveUpReason::SessionStillInvalid)
            }
            Verdict::RefreshToken(_) => {
                self.refreshed = true;
                Decision::RefreshToken
            }
            Verdict::Fail(error) => give_up(error, GiveUpReason::NotRetryable),
            Verdict::Retry {
                after,
                reason,
                error,
            } => self.retry(after, reason, error),
        };
        if !matches!(decision, Decision::GiveUp { .. }) {
            self.attempt += 1;
        }
        decision
    }

    fn retry(&mut self, after: Option<Duration>, reason: RetryReason, error: Error) -> Decision {
        let config = &self.policy.config;
        if self.retries + 1 >= config.max_attempts {
            return give_up(error, GiveUpReason::AttemptsExhausted);
        }
        if after.is_some_and(|d| d > config.max_retry_after) {
            return give_up(error, GiveUpReason::RetryAfterTooLong);
        }
        let cost = match reason {
            RetryReason::Timeout => config.budget.timeout_retry_cost,
            _ => config.budget.retry_cost,
        };
        let Some(token) = self.policy.budget.try_acquire(cost) else {
            return give_up(error, GiveUpReason::BudgetExhausted);
        };
        self.token = Some(token);
        let delay = after.unwrap_or_else(|| {
            config
                .backoff
                .delay(self.retries, &mut *self.policy.rng.lock())
        });
        self.retries += 1;
        Decision::Retry {
            delay,
            reason,
            error,
        }
    }
}

fn give_up(error: Error, reason: GiveUpReason) -> Decision {
    Decision::GiveUp { error, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn unavailable() -> Verdict {
        let error =
            Error::new(ErrorKind::Server, "SERVER_UNAVAILABLE", "Server too busy").with_status(503);
        Verdict::Retry {
            after: None,
            reason: RetryReason::Throttled,
            error,
        }
    }

    fn policy(config: RetryConfig) -> RetryPolicy {
        RetryPolicy::seeded(config, 42).expect("valid config")
    }

    fn give_up_reason(decision: Decision) -> GiveUpReason {
        match decision {
            Decision::GiveUp { reason, .. } => reason,
            other => panic!("expected GiveUp, got {other:?}"),
        }
    }

    #[test]
    fn retries_until_the_attempt_cap_then_gives_up() {
        let mut attempts = policy(RetryConfig::default()).begin();
        for _ in 0..3 {
            assert!(matches!(
                attempts.next(unavailable()),
                Decision::Retry { .. }
            ));
        }
        assert_eq!(attempts.attempt(), 4);
        assert_eq!(
            give_up_reason(attempts.next(unavailable())),
            GiveUpReason::AttemptsExhausted
        );
    }

    #[test]
    fn retry_budget_stops_retries_during_brownout() {
        let config = RetryConfig {
            budget: BudgetConfig {
                capacity: 50,
                ..BudgetConfig::default()
            },
            ..RetryConfig::default()
        };
        let policy = policy(config);
        let mut retried = 0;
        let mut denied = 0;
        for _ in 0..100 {
            let mut call = policy.begin();
            match call.next(unavailable()) {
                Decision::Retry { .. } => retried += 1,
                Decision::GiveUp {
                    reason: GiveUpReason::BudgetExhausted,
                    ..
                } => denied += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!((retried, denied), (10, 90));
    }

    #[test]
    fn success_after_a_retry_refunds_the_budget() {
        let policy = policy(RetryConfig::default());
        let mut call = policy.begin();
        assert!(matches!(call.next(unavailable()), Decision::Retry { .. }));
        assert_eq!(policy.budget().available(), 495);
        assert!(matches!(call.next(Verdict::Success), Decision::Done));
        assert_eq!(policy.budget().available(), 500);
    }

    #[test]
    fn retry_after_is_used_as_the_delay_and_too_long_gives_up() {
        let mut call = policy(RetryConfig::default()).begin();
        let verdict = |secs| Verdict::Retry {
            after: Some(Duration::from_secs(secs)),
            reason: RetryReason::Throttled,
            error: Error::network("x"),
        };
        match call.next(verdict(3)) {
            Decision::Retry { delay, .. } => assert_eq!(delay, Duration::from_secs(3)),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            give_up_reason(call.next(verdict(3600))),
            GiveUpReason::RetryAfterTooLong
        );
    }

    #[test]
    fn jittered_delays_stay_under_the_growing_ceiling() {
        let mut call = policy(RetryConfig::default()).begin();
        for retry in 0..3 {
            match call.next(unavailable()) {
                Decision::Retry { delay, .. } => {
                    assert!(delay <= Backoff::default().ceiling(retry))
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn token_refresh_replays_once_without_spending_budget() {
        let policy = policy(RetryConfig::default());
        let mut call = policy.begin();
        let expired = || {
            Verdict::RefreshToken(Error::auth(
                "INVALID_SESSION_ID",
                "Session expired or invalid",
            ))
        };
        assert!(matches!(call.next(expired()), Decision::RefreshToken));
        assert_eq!(policy.budget().available(), 500);
        assert_eq!(
            give_up_reason(call.next(expired())),
            GiveUpReason::SessionStillInvalid
        );
    }

    #[test]
    fn daily_limit_403_is_never_retried() {
        let mut call = policy(RetryConfig::default()).begin();
        let verdict = Verdict::Fail(
            Error::request_limit_exceeded("TotalRequests Limit exceeded.").with_status(403),
        );
        assert_eq!(
            give_up_reason(call.next(verdict)),
            GiveUpReason::NotRetryable
        );
    }

    /// Runs `calls` logical calls where each attempt fails with probability `p_fail`; returns
    /// (attempts sent, calls that succeeded).
    fn simulate(calls: u32, p_fail: f64) -> (u32, u32) {
        use rand::Rng;
        let policy = policy(RetryConfig::default());
        let mut outcomes = StdRng::seed_from_u64(9);
        let (mut sent, mut succeeded) = (0, 0);
        for _ in 0..calls {
            let mut call = policy.begin();
            loop {
                sent += 1;
                let verdict = if outcomes.random_bool(p_fail) {
                    unavailable()
                } else {
                    Verdict::Success
                };
                match call.next(verdict) {
                    Decision::Retry { .. } => continue,
                    Decision::Done => succeeded += 1,
                    _ => {}
                }
                break;
            }
        }
        (sent, succeeded)
    }

    #[test]
    fn severe_brownout_keeps_retries_a_small_fraction_of_traffic() {
        // 90 % of attempts fail: a bare 4-attempt policy would send ~3.4 attempts per call.
        let (sent, _) = simulate(10_000, 0.9);
        let retries = sent - 10_000;
        assert!(retries < 1_000, "{retries} retries for 10000 calls");
    }

    #[test]
    fn mild_brownout_retries_freely_because_successful_retries_refund_their_cost() {
        // 30 % of attempts fail: successes refill the budget, so nearly every call completes.
        let (sent, succeeded) = simulate(10_000, 0.3);
        assert!(succeeded > 9_800, "{succeeded} of 10000 succeeded");
        assert!(sent < 15_000, "{sent} attempts");
    }

    #[test]
    fn zero_attempts_is_a_configuration_error() {
        let err = RetryPolicy::new(RetryConfig {
            max_attempts: 0,
            ..RetryConfig::default()
        })
        .expect_err("invalid");
        assert!(err.to_string().contains("retry_max_attempts"));
    }
}
