//! Counters the control endpoint `GET /__emulator/stats` serves, so tests in every language
//! can assert what a client did (calls spent, token grants, peak concurrency, lock errors).
//!
//! Counting is cheap (atomics and short mutex sections) because it runs on every request;
//! the snapshot is assembled only when asked.
//!
//! `api_requests` counts every call ever counted; the allocation itself is a rolling window
//! (24 h in a real org, scalable for tests): calls leave the `api-usage` figure one window
//! after they were made, in sixtieths of the window, so a client that hit TotalRequests
//! sees capacity come back the way it would in a real org.

use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Slots a usage window is divided into.
const SLOTS: usize = 60;

/// Calls counted in a rolling window, by slot of one sixtieth of the window.
struct UsageWindow {
    started: Instant,
    slot_len: Duration,
    slots: [u64; SLOTS],
    /// Absolute index (since `started`) of the newest slot.
    newest: u64,
    used: u64,
}

impl Default for UsageWindow {
    fn default() -> Self {
        UsageWindow::starting_with(Duration::from_secs(86_400), 0)
    }
}

impl UsageWindow {
    fn starting_with(window: Duration, used: u64) -> Self {
        let mut slots = [0; SLOTS];
        slots[0] = used;
        let slot_len = (window / SLOTS as u32).max(Duration::from_millis(1));
        UsageWindow {
            started: Instant::now(),
            slot_len,
            slots,
            newest: 0,
            used,
        }
    }

    /// Drops the calls older than `window` (restarting the slots, usage kept, when the
    /// window length changed).
    fn roll(&mut self, window: Duration) {
        self.roll_at(window, Instant::now());
    }

    fn roll_at(&mut self, window: Duration, now: Instant) {
        if (window / SLOTS as u32).max(Duration::from_millis(1)) != self.slot_len {
            *self = UsageWindow::starting_with(window, self.used);
            return;
        }
        let now = (now.saturating_duration_since(self.started).as_nanos()
            / self.slot_len.as_nanos()) as u64;
        for step in 1..=now.saturating_sub(self.newest).min(SLOTS as u64) {
            let slot = ((self.newest + step) % SLOTS as u64) as usize;
            self.used -= self.slots[slot];
            self.slots[slot] = 0;
        }
        self.newest = self.newest.max(now);
    }

    fn add(&mut self) {
        self.slots[(self.newest % SLOTS as u64) as usize] += 1;
        self.used += 1;
    }
}

/// All counters of one emulator.
#[derive(Default)]
pub struct Stats {
    api_requests: AtomicU64,
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    long_running: AtomicU64,
    peak_long_running: AtomicU64,
    by_route: Mutex<BTreeMap<String, u64>>,
    token_grants: Mutex<BTreeMap<String, u64>>,
    errors_by_code: Mutex<BTreeMap<String, u64>>,
    faults_injected: Mutex<BTreeMap<String, u64>>,
    bulk_batches: AtomicU64,
    bulk_rows_processed: AtomicU64,
    bulk_uploads: AtomicU64,
    bulk_query_jobs: AtomicU64,
    usage: Mutex<UsageWindow>,
}

fn bump(map: &Mutex<BTreeMap<String, u64>>, key: &str, by: u64) {
    let mut map = map.lock();
    match map.get_mut(key) {
        Some(n) => *n += by,
        None => {
            map.insert(key.to_string(), by);
        }
    }
}

fn raise_peak(peak: &AtomicU64, value: u64) {
    peak.fetch_max(value, Ordering::Relaxed);
}

impl Stats {
    /// A data-API call that counts against `DailyApiRequests`; returns the new total.
    pub fn count_api_request(&self, route: &str) -> u64 {
        bump(&self.by_route, route, 1);
        self.api_requests.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Counts a data-API call only if fewer than `max` were counted in the last `window`
    /// (atomically, so concurrent calls never push usage past the limit). Ok(usage now) or
    /// Err(usage, unchanged).
    pub fn try_count_api_request(
        &self,
        route: &str,
        max: u64,
        window: Duration,
    ) -> Result<u64, u64> {
        let used = {
            let mut usage = self.usage.lock();
            usage.roll(window);
            if usage.used >= max {
                return Err(usage.used);
            }
            usage.add();
            usage.used
        };
        self.api_requests.fetch_add(1, Ordering::Relaxed);
        bump(&self.by_route, route, 1);
        Ok(used)
    }

    /// Calls counted in the last `window` (the `used` of `api-usage=used/max`).
    pub fn api_usage(&self, window: Duration) -> u64 {
        let mut usage = self.usage.lock();
        usage.roll(window);
        usage.used
    }

    /// Calls counted since start (or the last reset), whatever the window.
    pub fn api_requests(&self) -> u64 {
        self.api_requests.load(Ordering::Relaxed)
    }

    /// A request (of any kind) entered the server; pair with [`Stats::leave`].
    pub fn enter(&self) {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        raise_peak(&self.peak_in_flight, now);
    }

    /// A request left the server.
    pub fn leave(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// An in-flight request crossed the long-running threshold; returns how many are long-running now.
    pub fn enter_long_running(&self) -> u64 {
        let now = self.long_running.fetch_add(1, Ordering::Relaxed) + 1;
        raise_peak(&self.peak_long_running, now);
        now
    }

    /// A long-running request finished.
    pub fn leave_long_running(&self) {
        self.long_running.fetch_sub(1, Ordering::Relaxed);
    }

    /// Requests currently past the long-running threshold.
    pub fn long_running(&self) -> u64 {
        self.long_running.load(Ordering::Relaxed)
    }

    /// A successful OAuth grant of `grant_type`.
    pub fn count_token_grant(&self, grant_type: &str) {
        bump(&self.token_grants, grant_type, 1);
    }

    /// An error answered (HTTP error or a bulk row error), by Salesforce code.
    pub fn count_error(&self, code: &str) {
        self.count_errors(code, 1);
    }

    /// `n` errors of one code at once (bulk rows).
    pub fn count_errors(&self, code: &str, n: u64) {
        if n > 0 {
            bump(&self.errors_by_code, code, n);
        }
    }

    /// An injected fault, by effect.
    pub fn count_fault(&self, effect: &str) {
        bump(&self.faults_injected, effect, 1);
    }

    /// One Bulk API 2.0 internal batch processed (`DailyBulkApiBatches` usage).
    pub fn count_bulk_batch(&self, rows: u64) {
        self.bulk_batches.fetch_add(1, Ordering::Relaxed);
        self.bulk_rows_processed.fetch_add(rows, Ordering::Relaxed);
    }

    /// Bulk batches used so far.
    pub fn bulk_batches(&self) -> u64 {
        self.bulk_batches.load(Ordering::Relaxed)
    }

    /// One CSV upload accepted by a bulk ingest job.
    pub fn count_bulk_upload(&self) {
        self.bulk_uploads.fetch_add(1, Ordering::Relaxed);
    }

    /// One Bulk API 2.0 query job created (`DailyBulkV2QueryJobs` usage).
    pub fn count_bulk_query_job(&self) {
        self.bulk_query_jobs.fetch_add(1, Ordering::Relaxed);
    }

    /// Bulk query jobs created so far.
    pub fn bulk_query_jobs(&self) -> u64 {
        self.bulk_query_jobs.load(Ordering::Relaxed)
    }

    /// Zeroes every counter (control endpoint `reset`). Requests still in flight stay
    /// counted as in flight, and the peaks restart from them.
    pub fn reset(&self) {
        for counter in [
            &self.api_requests,
            &self.bulk_batches,
            &self.bulk_rows_processed,
            &self.bulk_uploads,
            &self.bulk_query_jobs,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        for map in [
            &self.by_route,
            &self.token_grants,
            &self.errors_by_code,
            &self.faults_injected,
        ] {
            map.lock().clear();
        }
        self.peak_in_flight
            .store(self.in_flight.load(Ordering::Relaxed), Ordering::Relaxed);
        self.peak_long_running
            .store(self.long_running(), Ordering::Relaxed);
        *self.usage.lock() = UsageWindow::default();
    }

    /// Errors counted for `code`.
    pub fn errors(&self, code: &str) -> u64 {
        self.errors_by_code.lock().get(code).copied().unwrap_or(0)
    }

    /// The JSON served by `GET /__emulator/stats`; `records` and `bulk_jobs` come from the
    /// store and the bulk job table.
    pub fn snapshot(
        &self,
        records: BTreeMap<String, usize>,
        bulk_jobs: BTreeMap<String, u64>,
    ) -> Value {
        let grants = self.token_grants.lock().clone();
        let total: u64 = grants.values().sum();
        let mut token_grants = json!({"total": total});
        for (grant, n) in grants {
            token_grants[grant] = json!(n);
        }
        let api_usage = {
            let mut usage = self.usage.lock();
            let window = usage.slot_len * SLOTS as u32;
            usage.roll(window);
            usage.used
        };
        json!({
            "api_requests": self.api_requests(),
            "api_usage": api_usage,
            "requests_by_route": *self.by_route.lock(),
            "token_grants": token_grants,
            "in_flight": self.in_flight.load(Ordering::Relaxed),
            "peak_in_flight": self.peak_in_flight.load(Ordering::Relaxed),
            "long_running": self.long_running(),
            "peak_long_running": self.peak_long_running.load(Ordering::Relaxed),
            "errors_by_code": *self.errors_by_code.lock(),
            "faults_injected": *self.faults_injected.lock(),
            "records": records,
            "bulk_jobs": bulk_jobs,
            "bulk_batches": self.bulk_batches(),
            "bulk_rows_processed": self.bulk_rows_processed.load(Ordering::Relaxed),
            "bulk_uploads": self.bulk_uploads.load(Ordering::Relaxed),
            "bulk_query_jobs": self.bulk_query_jobs(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_has_the_keys_every_binding_asserts_on() {
        let stats = Stats::default();
        stats.count_api_request("query");
        stats.count_api_request("query");
        stats.count_token_grant("password");
        stats.count_error("UNABLE_TO_LOCK_ROW");
        stats.enter();
        stats.enter();
        stats.leave();
        let snap = stats.snapshot(BTreeMap::from([("Account".into(), 3)]), BTreeMap::new());
        assert_eq!(snap["api_requests"], 2);
        assert_eq!(snap["requests_by_route"]["query"], 2);
        assert_eq!(snap["token_grants"]["total"], 1);
        assert_eq!(snap["token_grants"]["password"], 1);
        assert_eq!(snap["peak_in_flight"], 2);
        assert_eq!(snap["errors_by_code"]["UNABLE_TO_LOCK_ROW"], 1);
        assert_eq!(snap["records"]["Account"], 3);
        for key in ["peak_long_running", "faults_injected", "bulk_jobs"] {
            assert!(snap.get(key).is_some(), "{key}");
        }
    }

    #[test]
    fn counting_stops_at_the_limit_and_reset_zeroes_counters() {
        let stats = Stats::default();
        let day = Duration::from_secs(86_400);
        assert_eq!(stats.try_count_api_request("query", 2, day), Ok(1));
        assert_eq!(stats.try_count_api_request("query", 2, day), Ok(2));
        assert_eq!(stats.try_count_api_request("query", 2, day), Err(2));
        assert_eq!(stats.api_usage(day), 2);
        stats.count_token_grant("password");
        stats.enter();
        stats.reset();
        let snap = stats.snapshot(BTreeMap::new(), BTreeMap::new());
        assert_eq!(snap["api_requests"], 0);
        assert_eq!(snap["token_grants"]["total"], 0);
        assert_eq!(snap["in_flight"], 1);
        assert_eq!(snap["peak_in_flight"], 1);
        assert_eq!(stats.api_usage(Duration::from_secs(86_400)), 0);
    }

    #[test]
    fn usage_leaves_the_window_slot_by_slot() {
        let minute = Duration::from_secs(60);
        let mut window = UsageWindow::starting_with(minute, 0);
        let start = window.started;
        let (t2, t61, t700) = (
            start + Duration::from_secs(2),
            start + Duration::from_secs(61),
            start + Duration::from_secs(700),
        );
        window.add();
        window.add();
        window.roll_at(minute, t2);
        window.add();
        assert_eq!(window.used, 3);
        window.roll_at(minute, t61);
        assert_eq!(window.used, 1, "the first two calls are a full window old");
        window.roll_at(minute, t700);
        assert_eq!(window.used, 0);
    }

    #[test]
    fn changing_the_window_keeps_the_usage() {
        let mut window = UsageWindow::starting_with(Duration::from_secs(60), 0);
        window.add();
        window.roll(Duration::from_secs(3600));
        assert_eq!(window.used, 1);
        window.add();
        assert_eq!(window.used, 2);
    }
}
