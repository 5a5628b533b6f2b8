//! Bulk API 2.0 at millions of rows: lock-aware, resumable, in bounded memory.
//!
//! - [`options`]: the operation, the grouping and the knobs of a run.
//! - [`encode`]: records → CSV fields with Salesforce's value rules; shapes (headers).
//! - [`plan`]: rows → chunk files (one per job), grouped by parent so parallel jobs do not
//!   fight over a parent's lock.
pub mod encode;
pub mod options;
pub mod plan;

pub use encode::Record;
pub use options::{GroupBy, IngestSettings, Operation};
