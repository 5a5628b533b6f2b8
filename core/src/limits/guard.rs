//! The limits guard: spends the org's daily allocation on purpose, never by accident.
//!
//! The guard holds the latest known usage of each allocation (`DailyApiRequests` from every
//! `Sforce-Limit-Info` header and from `/limits`; `DailyBulkApiBatches` from `/limits`) plus the
//! units that admitted calls have reserved but not yet reported. Every call is admitted against
//! the *projected* usage `p = used + in_flight + units`, so concurrent callers cannot overshoot
//! between two header updates. With `max` the allocation and `r` the reserve fraction:
//!
//! | projected usage | Critical | Normal / Background |
//! |---|---|---|
//! | `p ≤ max·(1−r−pace_band)` | admit | admit |
//! | up to the reserve line `max·(1−r)` | admit | admit, **paced** |
//! | above the reserve line, `p ≤ max` | admit | wait for usage to fall (`reserve_wait`) or fail `LIMIT_RESERVE_REACHED` |
//! | `p > max` | fail `REQUEST_LIMIT_EXCEEDED` | fail `REQUEST_LIMIT_EXCEEDED` |
//!
//! Pacing: with `h = reserve_line − (used + in_flight)` units of headroom left before the
//! reserve, paced calls are spaced `window / h` apart (per unit), so the headroom lasts the whole
//! rolling window even if none of the past usage ages out — the worst case, since the guard does
//! not know when past calls were made. The first paced call goes at once; each next one is
//! scheduled one spacing after the previous slot.
//!
//! An unknown allocation (nothing observed yet) admits everything: the pipeline fetches `/limits`
//! first when [`LimitsGuard::is_stale`] says so. At the max with a stale figure, one probe call
//! per `stale_after` is let through (in practice the pipeline's `/limits` refresh), since refused
//! calls bring no headers and the guard would otherwise never see the window roll. Threshold
//! fractions and the reserve emit one event per upward crossing, re-armed when usage falls below
//! them (the window rolled). The decision itself is the pure [`counter`](super::counter) state
//! machine; this file adds the lock, the clock, waiting and events.
//!
//! Rejected alternative: counting calls locally from zero. Other integrations share the
//! allocation; only Salesforce's own figure is true, so the guard follows it and adds only what
//! is in flight.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::Deserialize;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::config::LimitsConfig;
use super::counter::{Counter, Gate};
use super::header::{self, Usage};
use crate::error::{Error, ErrorKind};
use crate::observe::{Allocation, Event, EventBus, Metrics};
use crate::scheduler::Priority;

#[derive(Debug)]
struct Shared {
    config: LimitsConfig,
    counters: Mutex<[Counter; 2]>,
    changed: Notify,
    events: EventBus,
    metrics: Metrics,
}

impl Shared {
    fn emit(&self, events: Vec<Event>) {
        events.into_iter().for_each(|e| self.events.emit(e));
    }
}

/// Admits calls against the daily allocations; clones share state.
#[derive(Debug, Clone)]
pub struct LimitsGuard {
    shared: Arc<Shared>,
}

/// A reservation of allocation units for one admitted call; released on drop. Drop it after
/// the response's `Sforce-Limit-Info` was observed.
#[derive(Debug)]
pub struct Admission {
    shared: Arc<Shared>,
    allocation: Allocation,
    units: u64,
    waited: Duration,
}

impl Admission {
    /// Time spent paced or waiting at the reserve.
    pub fn waited(&self) -> Duration {
        self.waited
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.shared.counters.lock()[index(self.allocation)].release(self.units);
        self.shared.changed.notify_waiters();
    }
}

fn index(allocation: Allocation) -> usize {
    match allocation {
        Allocation::ApiRequests => 0,
        Allocation::BulkBatches => 1,
    }
}

impl LimitsGuard {
    /// A guard with nothing observed yet.
    pub fn new(config: LimitsConfig, events: EventBus, metrics: Metrics) -> Result<Self, Error> {
        config.validate()?;
        let counters = Mutex::new([
            Counter::new(Allocation::ApiRequests),
            Counter::new(Allocation::BulkBatches),
        ]);
        let shared = Shared {
            config,
            counters,
            changed: Notify::new(),
            events,
            metrics,
        };
        Ok(LimitsGuard {
            shared: Arc::new(shared),
        })
    }

    /// Feeds a `Sforce-Limit-Info` value; returns whether it parsed.
    ///
    /// Responses overtake each other, so a header lower than a fresh figure is ignored (see
    /// `Counter::is_overtaken`); `/limits` bodies, which are authoritative, always apply.
    pub fn observe_header(&self, value: &str) -> bool {
        let Some(info) = header::parse(value) else {
            return false;
        };
        let index = index(Allocation::ApiRequests);
        let overtaken = self.shared.counters.lock()[index].is_overtaken(
            info.api_usage,
            Instant::now(),
            self.shared.config.stale_after,
        );
        if !overtaken {
            self.observe(Allocation::ApiRequests, info.api_usage);
        }
        true
    }

    /// Feeds a `/limits` response body (`DailyApiRequests`, `DailyBulkApiBatches`).
    pub fn observe_limits_body(&self, body: &[u8]) -> Result<(), Error> {
        #[derive(Deserialize)]
        struct Figure {
            #[serde(rename = "Max")]
            max: u64,
            #[serde(rename = "Remaining")]
            remaining: u64,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Limits {
            daily_api_requests: Figure,
            #[serde(alias = "DailyBulkApiRequests")]
            daily_bulk_api_batches: Option<Figure>,
        }
        let limits: Limits = serde_json::from_slice(body).map_err(|e| {
            Error::new(
                ErrorKind::Salesforce,
                crate::error::codes::INVALID_RESPONSE,
                format!("/limits body not understood: {e}"),
            )
        })?;
        let usage = |f: &Figure| Usage {
            used: f.max.saturating_sub(f.remaining),
            max: f.max,
        };
        self.observe(Allocation::ApiRequests, usage(&limits.daily_api_requests));
        if let Some(bulk) = &limits.daily_bulk_api_batches {
            self.observe(Allocation::BulkBatches, usage(bulk));
        }
        Ok(())
    }

    /// Records the latest usage of an allocation and emits any crossing events.
    pub fn observe(&self, allocation: Allocation, usage: Usage) {
        let events = self.shared.counters.lock()[index(allocation)].observe(
            usage,
            Instant::now(),
            &self.shared.config,
        );
        self.shared
            .metrics
            .set_limit_usage(allocation, usage.used, usage.max);
        self.shared.emit(events);
        self.shared.changed.notify_waiters();
    }

    /// Records that Salesforce refused a call for the daily limit (403 `REQUEST_LIMIT_EXCEEDED`
    /// TotalRequests): the allocation is used up, whatever the last header said. Unknown
    /// allocations stay unknown (their size is not known).
    pub fn observe_exhausted(&self, allocation: Allocation) {
        if let Some(usage) = self.usage(allocation) {
            self.observe(
                allocation,
                Usage {
                    used: usage.max,
                    max: usage.max,
                },
            );
        }
    }

    /// The last observed usage.
    pub fn usage(&self, allocation: Allocation) -> Option<Usage> {
        self.shared.counters.lock()[index(allocation)].usage
    }

    /// Units reserved by admitted calls that have not finished.
    pub fn in_flight(&self, allocation: Allocation) -> u64 {
        self.shared.counters.lock()[index(allocation)].in_flight
    }

    /// Whether the API usage figure is missing or older than `stale_after` at `now`.
    pub fn is_stale(&self, now: Instant) -> bool {
        self.shared.counters.lock()[0].is_stale(now, self.shared.config.stale_after)
    }

    /// Admits a call costing `units` API requests (see the module table).
    pub async fn admit(&self, priority: Priority, units: u64) -> Result<Admission, Error> {
        self.admit_in(Allocation::ApiRequests, priority, units)
            .await
    }

    /// Admits work costing `batches` Bulk API batches.
    pub async fn admit_bulk(&self, priority: Priority, batches: u64) -> Result<Admission, Error> {
        self.admit_in(Allocation::BulkBatches, priority, batches)
            .await
    }

    async fn admit_in(
        &self,
        allocation: Allocation,
        priority: Priority,
        units: u64,
    ) -> Result<Admission, Error> {
        let started = Instant::now();
        let deadline = self.shared.config.reserve_wait.map(|wait| started + wait);
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let (gate, events) = self.shared.counters.lock()[index(allocation)].decide(
                priority,
                units,
                Instant::now(),
                &self.shared.config,
            );
            self.shared.emit(events);
            match gate {
                Gate::Admit { pace } => {
                    let mut admission = Admission {
                        shared: Arc::clone(&self.shared),
                        allocation,
                        units,
                        waited: Duration::ZERO,
                    };
                    if !pace.is_zero() {
                        tokio::time::sleep(pace).await;
                    }
                    admission.waited = started.elapsed();
                    return Ok(admission);
                }
                Gate::Exhausted { used, max } => {
                    let message = format!(
                        "{} would exceed the allocation: {used} used or in flight of {max}",
                        allocation.name()
                    );
                    return Err(Error::request_limit_exceeded(message));
                }
                Gate::Reserve => match deadline {
                    Some(deadline) if Instant::now() < deadline => {
                        // Woken by any usage update or release; re-decide either way.
                        let _ = tokio::time::timeout_at(deadline, changed).await;
                    }
                    _ => return Err(self.reserve_error(allocation, priority)),
                },
            }
        }
    }

    fn reserve_error(&self, allocation: Allocation, priority: Priority) -> Error {
        let reserve = self.shared.config.reserve * 100.0;
        let usage = self
            .usage(allocation)
            .map_or_else(String::new, |u| format!(" ({}/{})", u.used, u.max));
        let (name, priority) = (allocation.name(), priority.name());
        Error::limit_reserve_reached(format!(
            "{name} reserve of {reserve:.0}% reached{usage}; {priority} work is held back"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard_with(config: LimitsConfig) -> (LimitsGuard, EventBus) {
        let events = EventBus::default();
        (
            LimitsGuard::new(config, events.clone(), Metrics::new()).expect("valid config"),
            events,
        )
    }

    /// Allocation 1000, reserve line 800, pacing from 700.
    fn guard_at(used: u64) -> LimitsGuard {
        let (guard, _) = guard_with(LimitsConfig::default());
        guard.observe(Allocation::ApiRequests, Usage { used, max: 1000 });
        guard
    }

    fn code(result: Result<Admission, Error>) -> String {
        result.expect_err("refused").code().to_owned()
    }

    fn used(guard: &LimitsGuard) -> u64 {
        guard.usage(Allocation::ApiRequests).expect("known").used
    }

    #[tokio::test(start_paused = true)]
    async fn an_overtaken_response_cannot_lower_the_usage_figure() {
        let (guard, _) = guard_with(LimitsConfig::default());
        assert!(guard.observe_header("api-usage=80/100"));
        guard.observe_header("api-usage=79/100");
        assert_eq!(used(&guard), 80, "call 79's answer arrived after call 80's");
        guard.observe_header("api-usage=81/100");
        assert_eq!(used(&guard), 81);
        let body = br#"{"DailyApiRequests": {"Max": 100, "Remaining": 90}}"#;
        guard.observe_limits_body(body).expect("parsed");
        assert_eq!(
            used(&guard),
            10,
            "/limits is authoritative: the window rolled"
        );
        guard.observe_header("api-usage=11/100");
        tokio::time::advance(LimitsConfig::default().stale_after + Duration::from_secs(1)).await;
        guard.observe_header("api-usage=5/100");
        assert_eq!(
            used(&guard),
            5,
            "a stale figure no longer blocks a lower one"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn far_from_the_reserve_every_call_goes_at_once() {
        let guard = guard_at(100);
        for priority in Priority::ALL {
            let admission = guard.admit(priority, 1).await.expect("admitted");
            assert_eq!(admission.waited(), Duration::ZERO);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn near_the_reserve_low_priority_work_is_paced_over_the_window() {
        let guard = guard_at(750);
        let first = guard
            .admit(Priority::Background, 1)
            .await
            .expect("admitted");
        assert_eq!(
            first.waited(),
            Duration::ZERO,
            "the first paced call goes at once"
        );
        drop(first);
        let critical = guard.admit(Priority::Critical, 1).await.expect("admitted");
        assert_eq!(
            critical.waited(),
            Duration::ZERO,
            "critical work is not paced"
        );
        drop(critical);
        let second = guard.admit(Priority::Normal, 1).await.expect("admitted");
        // 50 units of headroom (800 - 750) spread over 24 h: one unit every 1728 s.
        assert_eq!(second.waited(), Duration::from_secs(1728));
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_reserve_background_fails_fast_and_critical_continues() {
        let (guard, events) = guard_with(LimitsConfig::default());
        let mut rx = events.subscribe();
        guard.observe(
            Allocation::ApiRequests,
            Usage {
                used: 800,
                max: 1000,
            },
        );
        assert_eq!(
            code(guard.admit(Priority::Background, 1).await),
            "LIMIT_RESERVE_REACHED"
        );
        assert_eq!(
            code(guard.admit(Priority::Normal, 1).await),
            "LIMIT_RESERVE_REACHED"
        );
        assert!(guard.admit(Priority::Critical, 1).await.is_ok());
        let kinds: Vec<Event> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        let reserve_events = kinds
            .iter()
            .filter(|e| matches!(e, Event::ReserveReached { .. }))
            .count();
        assert_eq!(reserve_events, 1, "{kinds:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_is_sent_past_the_hard_max_even_for_critical_work() {
        let guard = guard_at(999);
        let last = guard
            .admit(Priority::Critical, 1)
            .await
            .expect("the last unit");
        let err = guard
            .admit(Priority::Critical, 1)
            .await
            .expect_err("over the max");
        assert_eq!(
            (err.code(), err.kind()),
            ("REQUEST_LIMIT_EXCEEDED", ErrorKind::Limit)
        );
        drop(last);
        guard.observe(
            Allocation::ApiRequests,
            Usage {
                used: 1000,
                max: 1000,
            },
        );
        assert_eq!(
            code(guard.admit(Priority::Critical, 1).await),
            "REQUEST_LIMIT_EXCEEDED"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_max_a_stale_figure_lets_one_probe_through_per_period() {
        let guard = guard_at(1000);
        assert_eq!(
            code(guard.admit(Priority::Critical, 1).await),
            "REQUEST_LIMIT_EXCEEDED"
        );
        tokio::time::advance(Duration::from_secs(301)).await;
        let probe = guard.admit(Priority::Critical, 1).await.expect("one probe");
        assert_eq!(
            code(guard.admit(Priority::Critical, 1).await),
            "REQUEST_LIMIT_EXCEEDED"
        );
        drop(probe);
        assert_eq!(
            code(guard.admit(Priority::Critical, 1).await),
            "REQUEST_LIMIT_EXCEEDED",
            "one probe per period"
        );
        guard.observe(
            Allocation::ApiRequests,
            Usage {
                used: 400,
                max: 1000,
            },
        );
        assert!(
            guard.admit(Priority::Background, 1).await.is_ok(),
            "the window rolled"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_side_daily_limit_refusal_stops_further_calls() {
        let guard = guard_at(300);
        guard.observe_exhausted(Allocation::ApiRequests);
        assert_eq!(
            guard.usage(Allocation::ApiRequests),
            Some(Usage {
                used: 1000,
                max: 1000
            })
        );
        assert_eq!(
            code(guard.admit(Priority::Critical, 1).await),
            "REQUEST_LIMIT_EXCEEDED"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn in_flight_reservations_stop_concurrent_callers_overshooting() {
        let guard = guard_at(990);
        let mut held = Vec::new();
        let mut refused = 0;
        for _ in 0..20 {
            match guard.admit(Priority::Critical, 1).await {
                Ok(admission) => held.push(admission),
                Err(_) => refused += 1,
            }
        }
        assert_eq!((held.len(), refused), (10, 10));
        assert_eq!(guard.in_flight(Allocation::ApiRequests), 10);
        drop(held);
        assert_eq!(guard.in_flight(Allocation::ApiRequests), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_background_work_resumes_when_usage_falls() {
        let (guard, _) = guard_with(LimitsConfig {
            reserve_wait: Some(Duration::from_secs(600)),
            ..LimitsConfig::default()
        });
        guard.observe(
            Allocation::ApiRequests,
            Usage {
                used: 850,
                max: 1000,
            },
        );
        let waiter = tokio::spawn({
            let guard = guard.clone();
            async move {
                guard
                    .admit(Priority::Background, 1)
                    .await
                    .map(|a| a.waited())
            }
        });
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(!waiter.is_finished());
        guard.observe(
            Allocation::ApiRequests,
            Usage {
                used: 100,
                max: 1000,
            },
        );
        let waited = waiter
            .await
            .expect("joined")
            .expect("admitted after the window rolled");
        assert_eq!(waited, Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_at_the_reserve_gives_up_after_reserve_wait() {
        let (guard, _) = guard_with(LimitsConfig {
            reserve_wait: Some(Duration::from_secs(60)),
            ..LimitsConfig::default()
        });
        guard.observe(
            Allocation::ApiRequests,
            Usage {
                used: 850,
                max: 1000,
            },
        );
        assert_eq!(
            code(guard.admit(Priority::Background, 1).await),
            "LIMIT_RESERVE_REACHED"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn limits_body_feeds_api_and_bulk_allocations_separately() {
        let (guard, _) = guard_with(LimitsConfig::default());
        let body = br#"{"DailyApiRequests":{"Max":15000,"Remaining":14000,"MyApp":{"Max":0,"Remaining":0}},"DailyBulkApiBatches":{"Max":100,"Remaining":15},"DailyBulkV2QueryJobs":{"Max":10000,"Remaining":9998}}"#;
        guard.observe_limits_body(body).expect("parsed");
        assert_eq!(
            guard.usage(Allocation::ApiRequests),
            Some(Usage {
                used: 1000,
                max: 15000
            })
        );
        assert_eq!(
            guard.usage(Allocation::BulkBatches),
            Some(Usage { used: 85, max: 100 })
        );
        assert!(guard.admit(Priority::Background, 1).await.is_ok());
        assert_eq!(
            code(guard.admit_bulk(Priority::Background, 1).await),
            "LIMIT_RESERVE_REACHED"
        );
        assert!(guard.observe_limits_body(b"{}").is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn usage_goes_stale_after_the_configured_age() {
        let (guard, _) = guard_with(LimitsConfig::default());
        assert!(guard.is_stale(Instant::now()), "nothing observed yet");
        assert!(guard.observe_header("api-usage=18/5000"));
        assert!(!guard.is_stale(Instant::now()));
        tokio::time::advance(Duration::from_secs(301)).await;
        assert!(guard.is_stale(Instant::now()));
    }

    #[test]
    fn a_malformed_header_keeps_the_previous_figure() {
        let guard = guard_at(10);
        assert!(!guard.observe_header("api-usage=garbage"));
        assert_eq!(
            guard.usage(Allocation::ApiRequests),
            Some(Usage {
                used: 10,
                max: 1000
            })
        );
    }
}
