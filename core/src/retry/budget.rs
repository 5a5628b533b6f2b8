//! The retry budget: a cost-weighted token bucket shared by every call of a client.
//!
//! Each retry must first take tokens from the bucket (`retry_cost`, or `timeout_retry_cost` for a
//! timeout, which is likelier to mean real overload). A call that succeeds at the first attempt
//! puts back `success_refund`; a call that succeeds after retries puts back what its last retry
//! took. When Salesforce browns out, failures drain the bucket faster than successes refill it,
//! so retries stop adding load: with the defaults (500 / 5 / 10 / 1) at most 100 retries run
//! back-to-back before each further retry needs about five successes.
//! This is the AWS SDKs' "retry quota" (standard retry mode).
//!
//! Rejected alternative: a bare per-call attempt count. Three attempts per call triples the load
//! exactly when the server is least able to take it; the per-call cap stays (in `policy`), but
//! the budget is what bounds the fleet-wide amplification.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::error::Error;

/// Bucket sizes and costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetConfig {
    /// Tokens when full. Default: 500.
    pub capacity: u32,
    /// Cost of a retry. Default: 5.
    pub retry_cost: u32,
    /// Cost of a retry after a timeout. Default: 10.
    pub timeout_retry_cost: u32,
    /// Refund for a success at the first attempt. Default: 1.
    pub success_refund: u32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            capacity: 500,
            retry_cost: 5,
            timeout_retry_cost: 10,
            success_refund: 1,
        }
    }
}

impl BudgetConfig {
    /// Checks that every retry costs something and fits in the bucket.
    pub fn validate(&self) -> Result<(), Error> {
        if self.retry_cost == 0 || self.timeout_retry_cost == 0 {
            return Err(Error::config(
                "retry_budget_cost",
                "retry costs must be greater than zero",
            ));
        }
        if self.capacity < self.retry_cost.max(self.timeout_retry_cost) {
            return Err(Error::config(
                "retry_budget_capacity",
                "must hold at least one retry",
            ));
        }
        Ok(())
    }
}

/// Proof that a retry was paid for; hand it back on success to refund the cost.
#[derive(Debug, PartialEq, Eq)]
pub struct RetryToken {
    cost: u32,
}

impl RetryToken {
    /// Tokens this retry took.
    pub fn cost(&self) -> u32 {
        self.cost
    }
}

/// A thread-safe retry budget; clones share one bucket.
#[derive(Debug, Clone)]
pub struct RetryBudget {
    config: BudgetConfig,
    available: Arc<AtomicU32>,
}

impl RetryBudget {
    /// A full bucket.
    pub fn new(config: BudgetConfig) -> Self {
        RetryBudget {
            config,
            available: Arc::new(AtomicU32::new(config.capacity)),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BudgetConfig {
        &self.config
    }

    /// Tokens currently available.
    pub fn available(&self) -> u32 {
        self.available.load(Ordering::Acquire)
    }

    /// Takes `cost` tokens if there are that many.
    pub fn try_acquire(&self, cost: u32) -> Option<RetryToken> {
        self.available
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                now.checked_sub(cost)
            })
            .ok()
            .map(|_| RetryToken { cost })
    }

    /// Records a success: refunds the retry's cost, or `success_refund` for a first-attempt success.
    pub fn on_success(&self, token: Option<RetryToken>) {
        let refund = token.map_or(self.config.success_refund, |t| t.cost);
        let capacity = self.config.capacity;
        // fetch_update with a closure that always returns Some cannot fail.
        let _ = self
            .available
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                Some(now.saturating_add(refund).min(capacity))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_budget_stops_retries_during_brownout() {
        let budget = RetryBudget::new(BudgetConfig::default());
        let granted = (0..1000).filter_map(|_| budget.try_acquire(5)).count();
        assert_eq!(granted, 100);
        assert_eq!(budget.available(), 0);
        for _ in 0..5 {
            budget.on_success(None);
        }
        assert!(
            budget.try_acquire(5).is_some(),
            "five first-attempt successes pay for one retry"
        );
        assert!(budget.try_acquire(5).is_none());
    }

    #[test]
    fn a_successful_retry_refunds_its_cost() {
        let budget = RetryBudget::new(BudgetConfig::default());
        let token = budget.try_acquire(10).expect("full bucket");
        assert_eq!(budget.available(), 490);
        budget.on_success(Some(token));
        assert_eq!(budget.available(), 500);
    }

    #[test]
    fn refunds_never_overfill_the_bucket() {
        let budget = RetryBudget::new(BudgetConfig::default());
        budget.on_success(None);
        assert_eq!(budget.available(), 500);
    }

    #[test]
    fn concurrent_acquires_never_overspend() {
        let budget = RetryBudget::new(BudgetConfig {
            capacity: 1000,
            ..BudgetConfig::default()
        });
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let b = budget.clone();
                std::thread::spawn(move || (0..100).filter_map(|_| b.try_acquire(5)).count())
            })
            .collect();
        let total: usize = threads.into_iter().map(|t| t.join().expect("thread")).sum();
        assert_eq!(total, 200);
    }

    #[test]
    fn zero_cost_retries_are_rejected_as_configuration() {
        let err = BudgetConfig {
            retry_cost: 0,
            ..BudgetConfig::default()
        }
        .validate()
        .expect_err("zero cost");
        assert!(err.to_string().contains("retry_budget_cost"));
    }
}
