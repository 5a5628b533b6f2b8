//! The org's daily allocations: know them, keep a reserve, never exceed them.
//!
//! - [`header`]: parses `Sforce-Limit-Info` (`api-usage`, `per-app-api-usage`).
//! - [`counter`]: one allocation's state and the admission table, as a pure state machine.
//! - [`guard`]: the [`LimitsGuard`] that admits, paces, holds back or refuses each call.
//! - [`config`]: the reserve, pacing band, thresholds and staleness settings.
//!
//! Why: an integration that burns the daily allocation takes every other integration of the org
//! down with it until the rolling window frees calls, and Salesforce's only feedback is the 403
//! once it is too late. The guard acts before that, from the figure Salesforce reports.

pub mod config;
pub(crate) mod counter;
pub mod guard;
pub mod header;

pub use config::LimitsConfig;
pub use guard::{Admission, LimitsGuard};
pub use header::{AppUsage, LimitInfo, Usage};
