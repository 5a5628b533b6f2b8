//! Emulator profiles the demo and the load test run against: what a production org looks
//! like under a heavy night, in numbers the emulator understands.
//!
//! - [`production`]: a daily allocation, a session lifetime short enough to expire during
//!   the run, route latencies in the range of a real org, and Bulk processing that holds
//!   parent locks for a while (`row_micros`) with a short lock wait, so parent-heavy loads
//!   meet `UNABLE_TO_LOCK_ROW` the way they do in production.
//! - [`brownout`]: a window in which a share of every call answers 503, as during a
//!   Salesforce incident or a maintenance brownout.
//!
//! The numbers are scaled down (a 5 s session instead of 2 h, a 5 ms lock wait instead of
//! 10 s) so that a run of a few minutes meets every one of these events.

use std::collections::BTreeMap;
use std::time::Duration;

use sfscale_emulator::config::{FaultConfig, FaultRule, RouteLatency};
use sfscale_emulator::Config;

/// The org's daily API allocation in the demo (an Enterprise org's order of magnitude).
pub const DAILY_API_REQUESTS: u64 = 100_000;
/// Session lifetime: short enough to expire several times during the demo.
pub const SESSION_SECS: u64 = 5;
/// Rows per Bulk batch inside the emulator (and per job chunk in the client).
pub const BULK_BATCH_ROWS: usize = 2_000;

/// A production-like org: see the module docs.
pub fn production() -> Config {
    let mut config = Config::default();
    config.limits.daily_api_requests = DAILY_API_REQUESTS;
    config.limits.lock_wait_ms = 5;
    config.org.session_lifetime_secs = SESSION_SECS;
    config.bulk.batch_size = BULK_BATCH_ROWS;
    config.bulk.chunk_size = 200;
    config.bulk.parallel_batches = 2;
    config.bulk.row_micros = 50;
    // Salesforce re-runs a batch that met a lock timeout up to 10 times; here its rows fail at
    // once, so contention surfaces to the client instead of being absorbed server-side.
    config.bulk.batch_retries = 0;
    config.latency.default = latency(5, 5);
    config.latency.routes = BTreeMap::from([
        ("token".to_owned(), latency(40, 20)),
        ("query".to_owned(), latency(15, 10)),
        ("sobjects".to_owned(), latency(10, 10)),
        ("composite".to_owned(), latency(25, 15)),
    ]);
    config
}

fn latency(base_ms: u64, jitter_ms: u64) -> RouteLatency {
    RouteLatency { base_ms, jitter_ms }
}

/// A brownout: from `after` for `length`, `share` of every call answers 503.
pub fn brownout(after: Duration, length: Duration, share: f64) -> FaultConfig {
    FaultConfig {
        seed: 7,
        rules: vec![FaultRule {
            route: "*".into(),
            share,
            effect: "503".into(),
            after_s: after.as_secs_f64(),
            for_s: Some(length.as_secs_f64()),
        }],
    }
}
