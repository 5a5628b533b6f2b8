//! The scheduler: who may send now, who waits, and in what order.
//!
//! `acquire` grants a [`Permit`] when a slot is free under the adaptive concurrency limit (and,
//! for `LongRunning` calls, under the long-running lane's cap); otherwise the caller joins the
//! bounded priority queue. Every release, and every limit increase, hands free slots to queued
//! callers in service order, so "a queued caller that could run" never persists. A granted
//! caller then waits for the rate gate, if one is configured. Dropping the permit frees the slot;
//! `record` feeds the outcome into the concurrency limit.
//!
//! A queue that is full is backpressure: the caller waits for room (default) or fails fast with
//! `BACKPRESSURE`. Callers waiting for room are not ordered among themselves; once queued they are.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use super::class::{CostClass, Priority};
use super::concurrency::{AimdLimit, Change};
use super::config::{SchedulerConfig, WhenFull};
use super::queue::{Key, WaitQueue, Waiter};
use super::rate::RateGate;
use crate::error::Error;
use crate::observe::{Event, EventBus, Metrics};

/// The outcome of a permitted call, for the concurrency limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// The call completed (whatever its status) in `latency`.
    Ok {
        /// Time from send to response.
        latency: Duration,
    },
    /// The server pushed back: 503, 429, timeout, concurrent-limit 403.
    Overloaded {
        /// The error code seen (`SERVER_UNAVAILABLE`, `TIMEOUT`, `REQUEST_LIMIT_EXCEEDED`, ...).
        code: String,
    },
}

/// Point-in-time figures, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SchedulerSnapshot {
    /// Current concurrency limit.
    pub limit: u32,
    /// Permits held.
    pub in_flight: u32,
    /// Permits held by `LongRunning` calls.
    pub long_running_in_flight: u32,
    /// Callers in the wait queue.
    pub queued: usize,
}

#[derive(Debug)]
struct State {
    aimd: AimdLimit,
    in_flight: u32,
    long_running: u32,
    long_running_cap: u32,
    queue: WaitQueue<Permit>,
}

#[derive(Debug)]
struct Shared {
    config: SchedulerConfig,
    state: Mutex<State>,
    rate: Option<RateGate>,
    room: Notify,
    events: EventBus,
    metrics: Metrics,
}

/// Grants permits to send; clones share one limit and one queue.
#[derive(Debug, Clone)]
pub struct Scheduler {
    shared: Arc<Shared>,
}

/// Permission to send one request; the slot is released on drop.
#[derive(Debug)]
pub struct Permit {
    shared: Option<Arc<Shared>>,
    class: CostClass,
    epoch: u64,
    waited: Duration,
}

impl Scheduler {
    /// A scheduler reporting into its own (unobserved) event bus and metrics.
    pub fn new(config: SchedulerConfig) -> Result<Self, Error> {
        Self::with_observers(config, EventBus::default(), Metrics::new())
    }

    /// A scheduler that emits `Throttled`/`Backpressure` events and records queue waits.
    pub fn with_observers(
        config: SchedulerConfig,
        events: EventBus,
        metrics: Metrics,
    ) -> Result<Self, Error> {
        config.validate()?;
        let state = State {
            aimd: AimdLimit::new(config.concurrency),
            in_flight: 0,
            long_running: 0,
            long_running_cap: config.long_running_cap,
            queue: WaitQueue::new(config.queue_capacity),
        };
        let rate = config.rate.map(|r| RateGate::new(r.per_second, r.burst));
        let shared = Shared {
            config,
            state: Mutex::new(state),
            rate,
            room: Notify::new(),
            events,
            metrics,
        };
        let scheduler = Scheduler {
            shared: Arc::new(shared),
        };
        scheduler.register_gauges();
        Ok(scheduler)
    }

    /// Publishes the snapshot's figures as gauges, read when metrics are read.
    fn register_gauges(&self) {
        type Read = fn(&SchedulerSnapshot) -> u32;
        let gauges: [(&'static str, &'static str, Read); 4] = [
            (
                "scheduler_concurrency_limit",
                "Current adaptive concurrency limit.",
                |s| s.limit,
            ),
            ("scheduler_in_flight", "Scheduler permits held.", |s| {
                s.in_flight
            }),
            (
                "scheduler_long_running_in_flight",
                "Permits held by long-running calls.",
                |s| s.long_running_in_flight,
            ),
            ("scheduler_queued", "Callers waiting for a permit.", |s| {
                u32::try_from(s.queued).unwrap_or(u32::MAX)
            }),
        ];
        for (name, help, read) in gauges {
            let weak = Arc::downgrade(&self.shared);
            let source = move || {
                weak.upgrade()
                    .map(|shared| u64::from(read(&Scheduler { shared }.snapshot())))
            };
            self.shared
                .metrics
                .register_gauge(name, help, Box::new(source));
        }
    }

    /// Current limit, permits held and callers queued.
    pub fn snapshot(&self) -> SchedulerSnapshot {
        let st = self.shared.state.lock();
        SchedulerSnapshot {
            limit: st.aimd.limit(),
            in_flight: st.in_flight,
            long_running_in_flight: st.long_running,
            queued: st.queue.len(),
        }
    }

    /// Waits for permission to send a request of `class` at `priority`.
    pub async fn acquire(&self, priority: Priority, class: CostClass) -> Result<Permit, Error> {
        let started = Instant::now();
        let mut permit = match self.enqueue(priority, class).await? {
            Ticket::Granted(permit) => permit,
            Ticket::Queued(rx, key) => {
                let guard = LeaveOnDrop {
                    shared: &self.shared,
                    key,
                };
                let permit = rx
                    .await
                    .map_err(|_| Error::backpressure("scheduler closed while waiting"))?;
                std::mem::forget(guard);
                permit
            }
        };
        if let Some(rate) = &self.shared.rate {
            rate.ready().await;
        }
        permit.waited = started.elapsed();
        self.shared.metrics.record_queue_wait(permit.waited);
        Ok(permit)
    }

    /// A permit at once, or a place in the queue (waiting for room when it is full).
    async fn enqueue(&self, priority: Priority, class: CostClass) -> Result<Ticket, Error> {
        let mut told = false;
        loop {
            let room = self.shared.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            let queued = {
                let mut st = self.shared.state.lock();
                if st.can_grant(class) {
                    return Ok(Ticket::Granted(self.shared.grant(&mut st, class)));
                }
                let (reply, rx) = oneshot::channel();
                st.queue
                    .push(priority, Waiter { class, reply })
                    .map(|key| (rx, key))
                    .ok_or(st.queue.len())
            };
            match queued {
                Ok((rx, key)) => return Ok(Ticket::Queued(rx, key)),
                Err(queued) => {
                    let rejected = self.shared.config.when_full == WhenFull::FailFast;
                    if rejected || !told {
                        self.shared
                            .events
                            .emit(Event::Backpressure { queued, rejected });
                        told = true;
                    }
                    if rejected {
                        return Err(Error::backpressure(format!(
                            "scheduler queue full ({queued} waiting)"
                        )));
                    }
                    room.await;
                }
            }
        }
    }
}

enum Ticket {
    Granted(Permit),
    Queued(oneshot::Receiver<Permit>, Key),
}

/// Takes a cancelled caller out of the queue so the bound never counts it.
struct LeaveOnDrop<'a> {
    shared: &'a Arc<Shared>,
    key: Key,
}

impl Drop for LeaveOnDrop<'_> {
    fn drop(&mut self) {
        if self.shared.state.lock().queue.remove(self.key) {
            self.shared.room.notify_waiters();
        }
    }
}

impl State {
    fn lane_open(&self, class: CostClass) -> bool {
        class == CostClass::Normal || self.long_running < self.long_running_cap
    }

    fn can_grant(&self, class: CostClass) -> bool {
        self.in_flight < self.aimd.limit() && self.lane_open(class)
    }
}

impl Shared {
    fn grant(self: &Arc<Self>, st: &mut State, class: CostClass) -> Permit {
        st.in_flight += 1;
        if class == CostClass::LongRunning {
            st.long_running += 1;
        }
        Permit {
            shared: Some(Arc::clone(self)),
            class,
            epoch: st.aimd.epoch(),
            waited: Duration::ZERO,
        }
    }

    fn ungrant(st: &mut State, class: CostClass) {
        st.in_flight -= 1;
        if class == CostClass::LongRunning {
            st.long_running -= 1;
        }
    }

    /// Hands free slots to queued callers in service order; returns whether any left the queue.
    fn dispatch(self: &Arc<Self>, st: &mut State) -> bool {
        let mut moved = false;
        while st.in_flight < st.aimd.limit() {
            let long_lane_open = st.lane_open(CostClass::LongRunning);
            let Some(waiter) = st
                .queue
                .take_first(|class| class == CostClass::Normal || long_lane_open)
            else {
                break;
            };
            moved = true;
            let permit = self.grant(st, waiter.class);
            if let Err(mut unsent) = waiter.reply.send(permit) {
                // The caller left between queueing and now: take the slot back without Drop.
                unsent.shared = None;
                Shared::ungrant(st, waiter.class);
            }
        }
        moved
    }

    fn release(self: &Arc<Self>, class: CostClass) {
        let moved = {
            let mut st = self.state.lock();
            Shared::ungrant(&mut st, class);
            self.dispatch(&mut st)
        };
        if moved {
            self.room.notify_waiters();
        }
    }

    fn record(self: &Arc<Self>, permit: &Permit, signal: Signal) {
        let (change, limit, moved) = {
            let mut st = self.state.lock();
            let overloaded = match &signal {
                Signal::Overloaded { .. } => true,
                Signal::Ok { latency } => {
                    permit.class == CostClass::Normal && st.aimd.is_too_slow(*latency)
                }
            };
            let in_flight = st.in_flight;
            let change = if overloaded {
                st.aimd.on_overload(permit.epoch)
            } else {
                st.aimd.on_success(in_flight)
            };
            let moved = change == Change::Increased && self.dispatch(&mut st);
            (change, st.aimd.limit(), moved)
        };
        if moved {
            self.room.notify_waiters();
        }
        if change == Change::Decreased {
            self.metrics.record_throttled();
            let code = match signal {
                Signal::Overloaded { code } => code,
                Signal::Ok { .. } => "SLOW_RESPONSE".to_owned(),
            };
            self.events.emit(Event::Throttled {
                code,
                concurrency_limit: limit,
            });
        }
    }
}

impl Permit {
    /// Feeds the call's outcome to the adaptive concurrency limit.
    pub fn record(&self, signal: Signal) {
        if let Some(shared) = &self.shared {
            shared.record(self, signal);
        }
    }

    /// Time spent queued and rate-limited before the grant.
    pub fn waited(&self) -> Duration {
        self.waited
    }

    /// The lane this permit occupies.
    pub fn class(&self) -> CostClass {
        self.class
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared.release(self.class);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::AimdConfig;
    use tokio::task::yield_now;

    fn scheduler(
        limit: u32,
        long_running_cap: u32,
        queue_capacity: usize,
        when_full: WhenFull,
    ) -> Scheduler {
        let concurrency = AimdConfig {
            initial: limit,
            min: 1,
            max: 64,
            ..AimdConfig::default()
        };
        Scheduler::new(SchedulerConfig {
            concurrency,
            long_running_cap,
            queue_capacity,
            when_full,
            ..SchedulerConfig::default()
        })
        .expect("valid")
    }

    /// Lets spawned tasks run until they block.
    async fn settle() {
        for _ in 0..10 {
            yield_now().await;
        }
    }

    async fn normal(s: &Scheduler, priority: Priority) -> Permit {
        s.acquire(priority, CostClass::Normal)
            .await
            .expect("permit")
    }

    #[tokio::test(start_paused = true)]
    async fn grants_up_to_the_limit_then_queues_until_a_release() {
        let s = scheduler(2, 10, 10, WhenFull::Wait);
        let first = normal(&s, Priority::Normal).await;
        let _second = normal(&s, Priority::Normal).await;
        let waiting = tokio::spawn({
            let s = s.clone();
            async move {
                s.acquire(Priority::Normal, CostClass::Normal)
                    .await
                    .map(|p| p.waited())
            }
        });
        settle().await;
        assert_eq!(
            s.snapshot(),
            SchedulerSnapshot {
                limit: 2,
                in_flight: 2,
                long_running_in_flight: 0,
                queued: 1
            }
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        drop(first);
        assert_eq!(
            waiting.await.expect("joined").expect("permit"),
            Duration::from_millis(250)
        );
        assert_eq!(s.snapshot().queued, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn queue_serves_by_priority_then_arrival() {
        let s = scheduler(1, 10, 10, WhenFull::Wait);
        let holder = normal(&s, Priority::Normal).await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for (name, priority) in [
            ("b1", Priority::Background),
            ("n1", Priority::Normal),
            ("c1", Priority::Critical),
            ("n2", Priority::Normal),
        ] {
            let (s, tx) = (s.clone(), tx.clone());
            tokio::spawn(async move {
                let _permit = s
                    .acquire(priority, CostClass::Normal)
                    .await
                    .expect("permit");
                tx.send(name).expect("send");
            });
            settle().await;
        }
        drop(holder);
        let mut order = Vec::new();
        for _ in 0..4 {
            order.push(rx.recv().await.expect("served"));
        }
        assert_eq!(order, ["c1", "n1", "n2", "b1"]);
    }

    #[tokio::test(start_paused = true)]
    async fn long_running_lane_caps_long_calls_without_blocking_short_ones() {
        let s = scheduler(10, 2, 10, WhenFull::Wait);
        let long_a = s
            .acquire(Priority::Critical, CostClass::LongRunning)
            .await
            .expect("permit");
        let _long_b = s
            .acquire(Priority::Critical, CostClass::LongRunning)
            .await
            .expect("permit");
        let third = tokio::spawn({
            let s = s.clone();
            async move {
                s.acquire(Priority::Critical, CostClass::LongRunning)
                    .await
                    .map(|p| p.class())
            }
        });
        settle().await;
        assert_eq!(
            s.snapshot().queued,
            1,
            "the third long call waits for the lane"
        );
        let short = normal(&s, Priority::Background).await;
        assert_eq!(
            s.snapshot().in_flight,
            3,
            "a short call passes the queued long one"
        );
        drop(short);
        assert!(!third.is_finished());
        drop(long_a);
        assert_eq!(
            third.await.expect("joined").expect("permit"),
            CostClass::LongRunning
        );
        assert_eq!(s.snapshot().long_running_in_flight, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_fails_fast_with_backpressure_when_configured() {
        let events = EventBus::default();
        let mut rx = events.subscribe();
        let config = SchedulerConfig {
            concurrency: AimdConfig {
                initial: 1,
                ..AimdConfig::default()
            },
            queue_capacity: 1,
            when_full: WhenFull::FailFast,
            ..SchedulerConfig::default()
        };
        let s = Scheduler::with_observers(config, events, Metrics::new()).expect("valid");
        let _holder = normal(&s, Priority::Normal).await;
        let _queued = tokio::spawn({
            let s = s.clone();
            async move {
                s.acquire(Priority::Normal, CostClass::Normal)
                    .await
                    .map(|_| ())
            }
        });
        settle().await;
        let err = s
            .acquire(Priority::Critical, CostClass::Normal)
            .await
            .expect_err("queue full");
        assert_eq!(err.code(), "BACKPRESSURE");
        assert_eq!(
            rx.try_recv().expect("event"),
            Event::Backpressure {
                queued: 1,
                rejected: true
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_makes_callers_wait_for_room_by_default() {
        let s = scheduler(1, 10, 1, WhenFull::Wait);
        let holder = normal(&s, Priority::Normal).await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for name in ["queued", "waiting-for-room"] {
            let (s, tx) = (s.clone(), tx.clone());
            tokio::spawn(async move {
                let _permit = s
                    .acquire(Priority::Normal, CostClass::Normal)
                    .await
                    .expect("permit");
                tx.send(name).expect("send");
            });
            settle().await;
        }
        assert_eq!(s.snapshot().queued, 1);
        drop(holder);
        assert_eq!(rx.recv().await, Some("queued"));
        assert_eq!(rx.recv().await, Some("waiting-for-room"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_waiter_leaves_the_queue_and_leaks_no_slot() {
        let s = scheduler(1, 10, 10, WhenFull::Wait);
        let holder = normal(&s, Priority::Normal).await;
        let waiter = tokio::spawn({
            let s = s.clone();
            async move {
                s.acquire(Priority::Normal, CostClass::Normal)
                    .await
                    .map(|_| ())
            }
        });
        settle().await;
        assert_eq!(s.snapshot().queued, 1);
        waiter.abort();
        settle().await;
        assert_eq!(s.snapshot().queued, 0);
        drop(holder);
        assert_eq!(s.snapshot().in_flight, 0);
        let _again = normal(&s, Priority::Normal).await;
    }

    #[tokio::test(start_paused = true)]
    async fn overload_shrinks_the_limit_once_per_generation_and_emits_throttled() {
        let events = EventBus::default();
        let mut rx = events.subscribe();
        let metrics = Metrics::new();
        let config = SchedulerConfig {
            concurrency: AimdConfig {
                initial: 10,
                ..AimdConfig::default()
            },
            ..SchedulerConfig::default()
        };
        let s = Scheduler::with_observers(config, events, metrics.clone()).expect("valid");
        let mut permits = Vec::new();
        for _ in 0..5 {
            permits.push(normal(&s, Priority::Normal).await);
        }
        for p in &permits {
            p.record(Signal::Overloaded {
                code: "SERVER_UNAVAILABLE".into(),
            });
        }
        assert_eq!(
            s.snapshot().limit,
            7,
            "five 503s from one generation shrink the limit once"
        );
        assert_eq!(
            rx.try_recv().expect("event"),
            Event::Throttled {
                code: "SERVER_UNAVAILABLE".into(),
                concurrency_limit: 7
            }
        );
        assert_eq!(metrics.snapshot().throttled, 1);
        assert_eq!(
            metrics.snapshot().gauges.get("scheduler_concurrency_limit"),
            Some(&7)
        );
        assert_eq!(
            metrics.snapshot().gauges.get("scheduler_in_flight"),
            Some(&5)
        );
        drop((permits, s));
        assert!(
            metrics.snapshot().gauges.is_empty(),
            "a dropped scheduler leaves no gauges behind"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn sustained_busy_successes_grow_the_limit_and_admit_queued_callers() {
        let s = scheduler(2, 10, 10, WhenFull::Wait);
        let a = normal(&s, Priority::Normal).await;
        let b = normal(&s, Priority::Normal).await;
        let queued = tokio::spawn({
            let s = s.clone();
            async move {
                s.acquire(Priority::Normal, CostClass::Normal)
                    .await
                    .map(|_| ())
            }
        });
        settle().await;
        a.record(Signal::Ok {
            latency: Duration::from_millis(50),
        });
        b.record(Signal::Ok {
            latency: Duration::from_millis(50),
        });
        assert_eq!(s.snapshot().limit, 3);
        queued
            .await
            .expect("joined")
            .expect("admitted by the increase");
    }

    #[tokio::test(start_paused = true)]
    async fn rate_gate_spaces_grants() {
        let config = SchedulerConfig {
            rate: Some(crate::scheduler::RateConfig {
                per_second: std::num::NonZeroU32::new(10).expect("nz"),
                burst: std::num::NonZeroU32::new(1).expect("nz"),
            }),
            ..SchedulerConfig::default()
        };
        let s = Scheduler::new(config).expect("valid");
        let first = normal(&s, Priority::Normal).await;
        let second = normal(&s, Priority::Normal).await;
        assert_eq!(
            (first.waited(), second.waited()),
            (Duration::ZERO, Duration::from_millis(100))
        );
    }

    #[test]
    fn developer_edition_preset_caps_the_long_running_lane_at_five() {
        assert_eq!(SchedulerConfig::developer_edition().long_running_cap, 5);
        assert_eq!(SchedulerConfig::default().long_running_cap, 10);
        let err = SchedulerConfig {
            queue_capacity: 0,
            ..SchedulerConfig::default()
        }
        .validate()
        .expect_err("invalid");
        assert!(err.to_string().contains("scheduler_queue_capacity"));
    }
}
