//! Who sends now: rate, adaptive concurrency, the long-running lane, and priority queueing.
//!
//! - [`class`]: [`Priority`] and [`CostClass`], set per call.
//! - [`rate`]: the GCRA requests-per-second gate (`governor`).
//! - [`concurrency`]: the AIMD concurrency limit fed by call outcomes.
//! - [`queue`]: the bounded wait queue ordered by priority, then arrival.
//! - [`permit`]: the [`Scheduler`] tying them together and the [`Permit`] a call holds.
//! - [`config`]: settings and presets.
//!
//! Why: Salesforce punishes bursts late and coarsely (503s in a brownout, 403 once 25 calls run
//! past 20 s). Shaping traffic in the client — fewer calls in flight when the server pushes back,
//! long calls kept under the org cap, important calls first — keeps an integration working where
//! a plain connection pool would hammer the org and fail together.
//!
//! Rejected alternative: a `tower` layer stack (`ConcurrencyLimit` + `RateLimit` + `Buffer`). Its
//! buffer is FIFO with no priorities, its concurrency limit is static, and bindings drive calls
//! through the core's own pipeline rather than a `Service`.

pub mod class;
pub mod concurrency;
pub mod config;
pub mod permit;
pub(crate) mod queue;
pub mod rate;

pub use class::{CostClass, Priority};
pub use concurrency::{AimdConfig, AimdLimit};
pub use config::{RateConfig, SchedulerConfig, WhenFull};
pub use permit::{Permit, Scheduler, SchedulerSnapshot, Signal};
pub use rate::RateGate;
