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
//! per `stale_after` is let through (in practice the pipeline's `/limits` refresh), since
//! refused calls bring no headers and the guard would otherwise never see the window roll. Threshold fractions and the reserve emit one
//! event per upward crossing, re-armed when usage falls below them (the window rolled).
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

use super::header::{self, Usage};
use crate::error::{Error, ErrorKind};
use crate::observe::{Allocation, Event, EventBus, Metrics};
use crate::scheduler::Priority;

/// Guard settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitsConfig {
    /// Fraction of each allocation kept for other integrations. Default: 0.2.
    pub reserve: f64,
    /// Width of the pacing band below the reserve line, as a fraction of the allocation. Default: 0.1.
    pub pace_band: f64,
    /// Usage fractions that emit a `LimitThreshold` event when crossed. Default: 0.5, 0.75, 0.9.
    pub thresholds: Vec<f64>,
    /// At the reserve, how long low-priority work waits for usage to fall; `None` fails fast. Default: `None`.
    pub reserve_wait: Option<Duration>,
    /// The rolling window paced headroom must last. Default: 24 h.
    pub window: Duration,
    /// Age after which the known usage should be refreshed from `/limits`. Default: 5 min.
    pub stale_after: Duration,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            reserve: 0.2,
            pace_band: 0.1,
            thresholds: vec![0.5, 0.75, 0.9],
            reserve_wait: None,
            window: Duration::from_secs(24 * 3600),
            stale_after: Duration::from_secs(300),
        }
    }
}

impl LimitsConfig {
    /// Checks the fractions, naming the offending setting.
    pub fn validate(&self) -> Result<(), Error> {
        if !(0.0..1.0).contains(&self.reserve) {
            return Err(Error::config(
                "limits_reserve",
                format!("{} is not in [0, 1)", self.reserve),
            ));
        }
        if !(0.0..=1.0 - self.reserve).contains(&self.pace_band) {
            return Err(Error::config(
                "limits_pace_band",
                format!("{} is not in [0, 1 - reserve]", self.pace_band),
            ));
        }
        if let Some(bad) = self.thresholds.iter().find(|t| !(**t > 0.0 && **t <= 1.0)) {
            return Err(Error::config(
                "limits_thresholds",
                format!("{bad} is not in (0, 1]"),
            ));
        }
        if self.window.is_zero() {
            return Err(Error::config("limits_window", "must be greater than zero"));
        }
        Ok(())
    }
}

/// What the guard knows about one allocation.
#[derive(Debug, Default)]
struct Counter {
    usage: Option<Usage>,
    observed_at: Option<Instant>,
    in_flight: u64,
    crossed: Vec<bool>,
    reserve_reached: bool,
    next_paced: Option<Instant>,
    last_probe: Option<Instant>,
}

impl Counter {
    /// At the max, a figure older than `stale_after` may be out of date (the window rolled, and
    /// refused calls bring no new headers): let one call through, at most once per `stale_after`,
    /// so the guard re-learns instead of refusing forever.
    fn may_probe(&self, now: Instant, stale_after: Duration) -> bool {
        let older = |at: Option<Instant>| {
            at.is_none_or(|at| now.saturating_duration_since(at) > stale_after)
        };
        self.in_flight == 0 && older(self.observed_at) && older(self.last_probe)
    }
}

/// The guard's verdict for one admission request.
#[derive(Debug, PartialEq, Eq)]
enum Gate {
    Admit { pace: Duration },
    Reserve,
    Exhausted { used: u64, max: u64 },
}

#[derive(Debug)]
struct Shared {
    config: LimitsConfig,
    counters: Mutex<[Counter; 2]>,
    changed: Notify,
    events: EventBus,
    metrics: Metrics,
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
        let mut counters = self.shared.counters.lock();
        let counter = &mut counters[index(self.allocation)];
        counter.in_flight = counter.in_flight.saturating_sub(self.units);
        drop(counters);
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
        let counters = [Counter::default(), Counter::default()];
        Ok(LimitsGuard {
            shared: Arc::new(Shared {
                config,
                counters: Mutex::new(counters),
                changed: Notify::new(),
                events,
                metrics,
            }),
        })
    }

    /// Feeds a `Sforce-Limit-Info` value; returns whether it parsed.
    pub fn observe_header(&self, value: &str) -> bool {
        header::parse(value)
            .map(|info| self.observe(Allocation::ApiRequests, info.api_usage))
            .is_some()
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
                "UNEXPECTED_RESPONSE",
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
        let events = {
            let mut counters = self.shared.counters.lock();
            let counter = &mut counters[index(allocation)];
            counter.usage = Some(usage);
            counter.observed_at = Some(Instant::now());
            self.crossings(counter, allocation, usage)
        };
        self.shared
            .metrics
            .set_limit_usage(allocation, usage.used, usage.max);
        events.into_iter().for_each(|e| self.shared.events.emit(e));
        self.shared.changed.notify_waiters();
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
        let observed = self.shared.counters.lock()[0].observed_at;
        match observed {
            Some(at) => now.saturating_duration_since(at) > self.shared.config.stale_after,
            None => true,
        }
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
            let (gate, events) = self.decide(allocation, priority, units);
            events.into_iter().for_each(|e| self.shared.events.emit(e));
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
        let reserve = self.shared.config.reserve;
        let usage = self
            .usage(allocation)
            .map_or_else(String::new, |u| format!(" ({}/{})", u.used, u.max));
        Error::limit_reserve_reached(format!(
            "{} reserve of {:.0}% reached{usage}; {} work is held back",
            allocation.name(),
            reserve * 100.0,
            priority.name()
        ))
    }

    /// Decides under the lock and reserves the units when admitting.
    fn decide(&self, allocation: Allocation, priority: Priority, units: u64) -> (Gate, Vec<Event>) {
        let config = &self.shared.config;
        let mut counters = self.shared.counters.lock();
        let counter = &mut counters[index(allocation)];
        let Some(usage) = counter.usage else {
            counter.in_flight += units;
            return (
                Gate::Admit {
                    pace: Duration::ZERO,
                },
                Vec::new(),
            );
        };
        let committed = usage.used + counter.in_flight;
        let projected = committed + units;
        let reserve_line = line(usage.max, 1.0 - config.reserve);
        let pace_line = line(usage.max, 1.0 - config.reserve - config.pace_band);
        let mut events = Vec::new();
        let now = Instant::now();
        let gate = if projected > usage.max {
            if counter.may_probe(now, config.stale_after) {
                counter.last_probe = Some(now);
                Gate::Admit {
                    pace: Duration::ZERO,
                }
            } else {
                Gate::Exhausted {
                    used: committed,
                    max: usage.max,
                }
            }
        } else if projected > reserve_line && priority != Priority::Critical {
            events.extend(mark_reserve(counter, allocation, usage, config.reserve));
            Gate::Reserve
        } else if projected > pace_line && priority != Priority::Critical {
            let headroom = reserve_line.saturating_sub(committed).max(1);
            let spacing = config.window.mul_f64(units as f64 / headroom as f64);
            let slot = counter.next_paced.map_or(now, |next| next.max(now));
            counter.next_paced = Some(slot + spacing);
            Gate::Admit { pace: slot - now }
        } else {
            Gate::Admit {
                pace: Duration::ZERO,
            }
        };
        if matches!(gate, Gate::Admit { .. }) {
            counter.in_flight += units;
        }
        (gate, events)
    }

    fn crossings(&self, counter: &mut Counter, allocation: Allocation, usage: Usage) -> Vec<Event> {
        let config = &self.shared.config;
        counter.crossed.resize(config.thresholds.len(), false);
        let fraction = usage.fraction();
        let mut events = Vec::new();
        for (threshold, crossed) in config.thresholds.iter().zip(counter.crossed.iter_mut()) {
            let above = fraction >= *threshold;
            if above && !*crossed {
                events.push(Event::LimitThreshold {
                    allocation,
                    fraction: *threshold,
                    used: usage.used,
                    max: usage.max,
                });
            }
            *crossed = above;
        }
        if usage.used > line(usage.max, 1.0 - config.reserve) {
            events.extend(mark_reserve(counter, allocation, usage, config.reserve));
        } else {
            counter.reserve_reached = false;
        }
        events
    }
}

/// `max · fraction`, rounded down.
fn line(max: u64, fraction: f64) -> u64 {
    (max as f64 * fraction.max(0.0)).floor() as u64
}

fn mark_reserve(
    counter: &mut Counter,
    allocation: Allocation,
    usage: Usage,
    reserve: f64,
) -> Option<Event> {
    if counter.reserve_reached {
        return None;
    }
    counter.reserve_reached = true;
    Some(Event::ReserveReached {
        allocation,
        used: usage.used,
        max: usage.max,
        reserve,
    })
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

    #[test]
    fn thresholds_fire_once_per_crossing_and_rearm_after_the_window_rolls() {
        let (guard, events) = guard_with(LimitsConfig::default());
        let mut rx = events.subscribe();
        for used in [400, 600, 650, 800, 950, 960, 100, 600] {
            guard.observe(Allocation::ApiRequests, Usage { used, max: 1000 });
        }
        let fractions: Vec<f64> = std::iter::from_fn(|| rx.try_recv().ok())
            .filter_map(|e| match e {
                Event::LimitThreshold { fraction, .. } => Some(fraction),
                _ => None,
            })
            .collect();
        assert_eq!(fractions, [0.5, 0.75, 0.9, 0.5]);
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

    #[test]
    fn invalid_fractions_name_the_setting() {
        let err = LimitsConfig {
            reserve: 1.5,
            ..LimitsConfig::default()
        }
        .validate()
        .expect_err("invalid");
        assert!(err.to_string().contains("limits_reserve"));
        let err = LimitsConfig {
            thresholds: vec![0.5, 0.0],
            ..LimitsConfig::default()
        }
        .validate()
        .expect_err("invalid");
        assert!(err.to_string().contains("limits_thresholds"));
    }
}
