//! Classify every outcome, and retry only what is safe and affordable.
//!
//! - [`classify`]: the one table mapping responses and transport failures to a [`Verdict`].
//! - [`backoff`]: exponential backoff with full jitter.
//! - [`budget`]: the shared, cost-weighted retry budget that bounds retries during brownouts.
//! - [`policy`]: combines them into the pipeline's next [`Decision`].
//!
//! Why a stage of its own: retries are where a client turns a server's bad minute into a bad hour
//! for everyone. Keeping classification, backoff and budget in one place (instead of scattered
//! `if status == 503` checks) makes "what is retried, how often, at what cost" one readable answer.

pub mod backoff;
pub mod budget;
pub mod classify;
pub mod policy;

pub use backoff::Backoff;
pub use budget::{BudgetConfig, RetryBudget, RetryToken};
pub use classify::{
    classify, parse_error_body, record_error, retry_after, CallSafety, Outcome, RetryReason,
    SalesforceError, TransportFailure, Verdict,
};
pub use policy::{Attempts, Decision, GiveUpReason, RetryConfig, RetryPolicy};
