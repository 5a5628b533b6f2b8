//! The metrics registry: counters, gauges and fixed-bucket latency histograms.
//!
//! Every stage records into one [`Metrics`] (cheap to clone, lock-free on the hot counters);
//! [`Metrics::snapshot`] returns plain numbers (serde-serializable, what bindings hand to users)
//! and [`Metrics::prometheus`] renders the Prometheus text exposition format with the `sfscale_`
//! prefix. Label sets are small and closed (route templates, status codes, reason names), so
//! labelled counters live in ordered maps behind a mutex, which also makes output deterministic.
//!
//! Rejected alternatives: the `metrics`/`prometheus` crates' global registries (two clients in
//! one process would mix their figures, and bindings need a value per client), and summaries
//! with client-side quantiles (not aggregatable across a fleet; fixed buckets are).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;

use super::events::Allocation;

/// Histogram bucket upper bounds, in milliseconds.
pub const LATENCY_BUCKETS_MS: [u64; 14] = [
    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 60_000, 300_000,
];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS_MS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, value: Duration) {
        let ms = value.as_millis();
        if let Some(i) = LATENCY_BUCKETS_MS
            .iter()
            .position(|le| ms <= u128::from(*le))
        {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(
            u64::try_from(value.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = 0;
        let buckets = LATENCY_BUCKETS_MS
            .iter()
            .zip(&self.buckets)
            .map(|(le, n)| {
                cumulative += n.load(Ordering::Relaxed);
                (*le, cumulative)
            })
            .collect();
        let sum_ms = self.sum_micros.load(Ordering::Relaxed) as f64 / 1000.0;
        HistogramSnapshot {
            count: self.count.load(Ordering::Relaxed),
            sum_ms,
            buckets,
        }
    }
}

/// A histogram's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistogramSnapshot {
    /// Observations.
    pub count: u64,
    /// Sum of observations in milliseconds.
    pub sum_ms: f64,
    /// `(upper bound in ms, cumulative count)`; observations above the last bound count only in `count`.
    pub buckets: Vec<(u64, u64)>,
}

/// Hit/miss figures of one cache entry kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheCounts {
    /// Served from the cache.
    pub hits: u64,
    /// Not in the cache when asked.
    pub misses: u64,
    /// Loads actually run (single-flight: concurrent misses share one).
    pub loads: u64,
}

/// Last known usage of an allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LimitUsage {
    /// Units used in the rolling window.
    pub used: u64,
    /// The allocation.
    pub max: u64,
}

/// Everything the registry holds, as plain numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsSnapshot {
    /// Requests by `(route, status)`; transport failures have status `"error"`.
    pub requests: BTreeMap<String, BTreeMap<String, u64>>,
    /// Latency per route.
    pub latency: BTreeMap<String, HistogramSnapshot>,
    /// Retries by reason (`throttled`, `timeout`, `transient`, `lock`).
    pub retries: BTreeMap<String, u64>,
    /// Retries refused by the retry budget.
    pub budget_denials: u64,
    /// Access tokens obtained.
    pub token_refreshes: u64,
    /// Concurrency decreases after throttling signals.
    pub throttled: u64,
    /// Cache figures per entry kind.
    pub cache: BTreeMap<String, CacheCounts>,
    /// Time spent waiting for a scheduler permit.
    pub queue_wait: HistogramSnapshot,
    /// Usage per allocation.
    pub limits: BTreeMap<String, LimitUsage>,
    /// Values read from registered gauges at snapshot time (e.g. `scheduler_in_flight`).
    pub gauges: BTreeMap<String, u64>,
}

impl MetricsSnapshot {
    /// Total requests across routes and statuses.
    pub fn requests_total(&self) -> u64 {
        self.requests
            .values()
            .flat_map(|by_status| by_status.values())
            .sum()
    }
}

#[derive(Debug, Default)]
struct Registry {
    requests: Mutex<BTreeMap<(String, String), u64>>,
    latency: Mutex<BTreeMap<String, Arc<Histogram>>>,
    retries: Mutex<BTreeMap<&'static str, u64>>,
    cache: Mutex<BTreeMap<&'static str, CacheCounts>>,
    limits: Mutex<BTreeMap<&'static str, LimitUsage>>,
    budget_denials: AtomicU64,
    token_refreshes: AtomicU64,
    throttled: AtomicU64,
    queue_wait: Histogram,
    gauges: Mutex<BTreeMap<&'static str, Gauge>>,
}

/// Reads a live value (e.g. the scheduler's in-flight count); `None` once its source is gone.
pub type GaugeSource = Box<dyn Fn() -> Option<u64> + Send + Sync>;

struct Gauge {
    help: &'static str,
    read: GaugeSource,
}

impl std::fmt::Debug for Gauge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.help)
    }
}

/// A client's metrics registry; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    registry: Arc<Registry>,
}

/// Which cache figure to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheEvent {
    /// Served from the cache.
    Hit,
    /// Not in the cache.
    Miss,
    /// A loader ran.
    Load,
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        Metrics::default()
    }

    /// One finished attempt on `route` (a template such as `query` or `sobject.create`).
    pub fn record_request(&self, route: &str, status: Option<u16>, latency: Duration) {
        let status = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
        *self
            .registry
            .requests
            .lock()
            .entry((route.to_owned(), status))
            .or_default() += 1;
        let histogram = Arc::clone(
            self.registry
                .latency
                .lock()
                .entry(route.to_owned())
                .or_default(),
        );
        histogram.observe(latency);
    }

    /// A retry about to be sent, by reason name.
    pub fn record_retry(&self, reason: &'static str) {
        *self.registry.retries.lock().entry(reason).or_default() += 1;
    }

    /// A retry refused by the budget.
    pub fn record_budget_denial(&self) {
        self.registry.budget_denials.fetch_add(1, Ordering::Relaxed);
    }

    /// A token obtained.
    pub fn record_token_refresh(&self) {
        self.registry
            .token_refreshes
            .fetch_add(1, Ordering::Relaxed);
    }

    /// A concurrency decrease after a throttling signal.
    pub fn record_throttled(&self) {
        self.registry.throttled.fetch_add(1, Ordering::Relaxed);
    }

    /// A cache hit, miss or load for an entry kind.
    pub fn record_cache(&self, kind: &'static str, event: CacheEvent) {
        let mut cache = self.registry.cache.lock();
        let counts = cache.entry(kind).or_default();
        match event {
            CacheEvent::Hit => counts.hits += 1,
            CacheEvent::Miss => counts.misses += 1,
            CacheEvent::Load => counts.loads += 1,
        }
    }

    /// Time a caller waited for a scheduler permit.
    pub fn record_queue_wait(&self, wait: Duration) {
        self.registry.queue_wait.observe(wait);
    }

    /// The latest usage of an allocation.
    pub fn set_limit_usage(&self, allocation: Allocation, used: u64, max: u64) {
        self.registry
            .limits
            .lock()
            .insert(allocation.name(), LimitUsage { used, max });
    }

    /// Registers a gauge read at snapshot time; a later registration under `name` replaces it.
    /// Sources should hold only weak references to what they read.
    pub fn register_gauge(&self, name: &'static str, help: &'static str, read: GaugeSource) {
        self.registry
            .gauges
            .lock()
            .insert(name, Gauge { help, read });
    }

    /// Every figure, as plain numbers.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let r = &self.registry;
        let mut requests: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for ((route, status), n) in r.requests.lock().iter() {
            requests
                .entry(route.clone())
                .or_default()
                .insert(status.clone(), *n);
        }
        MetricsSnapshot {
            requests,
            latency: r
                .latency
                .lock()
                .iter()
                .map(|(route, h)| (route.clone(), h.snapshot()))
                .collect(),
            retries: r
                .retries
                .lock()
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
            budget_denials: r.budget_denials.load(Ordering::Relaxed),
            token_refreshes: r.token_refreshes.load(Ordering::Relaxed),
            throttled: r.throttled.load(Ordering::Relaxed),
            cache: r
                .cache
                .lock()
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
            queue_wait: r.queue_wait.snapshot(),
            limits: r
                .limits
                .lock()
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
            gauges: r
                .gauges
                .lock()
                .iter()
                .filter_map(|(k, g)| Some(((*k).to_owned(), (g.read)()?)))
                .collect(),
        }
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn prometheus(&self) -> String {
        let snapshot = self.snapshot();
        let help = self
            .registry
            .gauges
            .lock()
            .iter()
            .map(|(name, g)| (*name, g.help))
            .collect();
        super::prometheus::render(&snapshot, &help)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_metrics() -> Metrics {
        let m = Metrics::new();
        m.record_request("query", Some(200), Duration::from_millis(40));
        m.record_request("query", Some(200), Duration::from_millis(400));
        m.record_request("sobject.create", Some(503), Duration::from_millis(3));
        m.record_request("query", None, Duration::from_secs(400));
        m.record_retry("throttled");
        m.record_budget_denial();
        m.record_cache("describe", CacheEvent::Miss);
        m.record_cache("describe", CacheEvent::Load);
        m.record_cache("describe", CacheEvent::Hit);
        m.set_limit_usage(Allocation::ApiRequests, 18, 5000);
        m.register_gauge("scheduler_in_flight", "Permits held.", Box::new(|| Some(3)));
        m.register_gauge("gone", "A source that was dropped.", Box::new(|| None));
        m
    }

    #[test]
    fn snapshot_reports_plain_counts_and_cumulative_buckets() {
        let s = sample_metrics().snapshot();
        assert_eq!(s.requests_total(), 4);
        assert_eq!(s.requests["query"]["200"], 2);
        assert_eq!(s.requests["query"]["error"], 1);
        let q = &s.latency["query"];
        assert_eq!(q.count, 3);
        assert_eq!(
            q.buckets.iter().find(|(le, _)| *le == 50).map(|b| b.1),
            Some(1)
        );
        assert_eq!(
            q.buckets.last().map(|b| b.1),
            Some(2),
            "400 s is above every bound"
        );
        assert_eq!(
            s.cache["describe"],
            CacheCounts {
                hits: 1,
                misses: 1,
                loads: 1
            }
        );
        assert_eq!(
            s.limits["api_requests"],
            LimitUsage {
                used: 18,
                max: 5000
            }
        );
        assert!(serde_json::to_string(&s).is_ok());
    }

    #[test]
    fn prometheus_output_is_valid_exposition_text() {
        let text = sample_metrics().prometheus();
        let mut typed = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                typed.insert(rest.split(' ').next().expect("name").to_owned());
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("sample has a value");
            assert!(value.parse::<f64>().is_ok(), "numeric value in {line}");
            let name = series.split('{').next().expect("name");
            assert!(name.starts_with("sfscale_"), "{line}");
            let family = ["_bucket", "_sum", "_count"].iter().fold(name, |n, s| {
                n.strip_suffix(s)
                    .filter(|b| typed.contains(*b))
                    .unwrap_or(n)
            });
            assert!(typed.contains(family), "TYPE precedes {line}");
            assert_eq!(
                series.matches('"').count() % 2,
                0,
                "balanced quotes in {line}"
            );
        }
        assert!(text.contains("sfscale_requests_total{route=\"query\",status=\"200\"} 2"));
        assert!(
            text.contains("sfscale_request_duration_seconds_bucket{route=\"query\",le=\"+Inf\"} 3")
        );
        assert!(text.contains("sfscale_limit_used{allocation=\"api_requests\"} 18"));
        assert!(text
            .contains("# TYPE sfscale_scheduler_in_flight gauge\nsfscale_scheduler_in_flight 3"));
        assert!(!text.contains("gone"));
    }
}
