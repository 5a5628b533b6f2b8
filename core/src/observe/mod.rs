//! Observability: what happened (metrics), what is happening (events), and where (spans).
//!
//! - [`metrics`]: a per-client registry with a snapshot API and Prometheus text output.
//! - [`events`]: limit thresholds, throttling, budget exhaustion, token refreshes, lock
//!   contention and backpressure, to subscribers and callbacks.
//! - [`span`]: the `tracing` span per call and the fields it carries.
//!
//! Why in the core: every binding gets the same figures and events from one place instead of
//! re-deriving them, and the stages that make decisions are the only ones that know why.

pub mod events;
pub mod metrics;
mod prometheus;
pub mod span;

pub use events::{Allocation, Event, EventBus};
pub use metrics::{
    CacheCounts, CacheEvent, GaugeSource, HistogramSnapshot, LimitUsage, Metrics, MetricsSnapshot,
};
pub use span::{call_span, record_attempt, record_wait};
