//! One allocation's state and the admission decision, as a pure state machine.
//!
//! The [`Counter`] knows the last observed usage, the units in flight, which thresholds are
//! crossed and when the next paced call may go; [`Counter::decide`] applies the table in the
//! guard's module doc at a given instant. No clock, no lock, no I/O: the guard supplies `now`
//! and holds the lock, and the tests below step time by hand.

use std::time::Duration;

use tokio::time::Instant;

use super::config::LimitsConfig;
use super::header::Usage;
use crate::observe::{Allocation, Event};
use crate::scheduler::Priority;

/// The decision for one admission request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gate {
    /// Go, after `pace` (zero when not pacing). The units are now counted in flight.
    Admit { pace: Duration },
    /// Above the reserve line and not critical: wait or fail.
    Reserve,
    /// Sending would pass the allocation's max.
    Exhausted { used: u64, max: u64 },
}

/// What the guard knows about one allocation.
#[derive(Debug)]
pub(super) struct Counter {
    allocation: Allocation,
    pub(super) usage: Option<Usage>,
    observed_at: Option<Instant>,
    pub(super) in_flight: u64,
    crossed: Vec<bool>,
    reserve_reached: bool,
    next_paced: Option<Instant>,
    last_probe: Option<Instant>,
}

impl Counter {
    pub(super) fn new(allocation: Allocation) -> Self {
        Counter {
            allocation,
            usage: None,
            observed_at: None,
            in_flight: 0,
            crossed: Vec::new(),
            reserve_reached: false,
            next_paced: None,
            last_probe: None,
        }
    }

    /// Whether the figure is missing or older than `stale_after`.
    pub(super) fn is_stale(&self, now: Instant, stale_after: Duration) -> bool {
        older_than(self.observed_at, now, stale_after)
    }

    /// Whether a per-response figure was overtaken: concurrent calls answer out of order, so
    /// a header counted as call 79 can arrive after the one counted as call 80. Taking it
    /// would make the guard think a unit was freed and admit one call too many. Within
    /// `stale_after` of a fresh higher figure (same allocation size) lower ones are ignored;
    /// usage that really fell (the rolling window freed calls) is learned from `/limits`
    /// once the figure goes stale. The error is on the safe side.
    pub(super) fn is_overtaken(&self, usage: Usage, now: Instant, stale_after: Duration) -> bool {
        matches!(self.usage, Some(known) if known.max == usage.max && usage.used < known.used)
            && !self.is_stale(now, stale_after)
    }

    /// Records a new figure; returns the threshold and reserve events it triggers.
    pub(super) fn observe(
        &mut self,
        usage: Usage,
        now: Instant,
        config: &LimitsConfig,
    ) -> Vec<Event> {
        self.usage = Some(usage);
        self.observed_at = Some(now);
        self.crossed.resize(config.thresholds.len(), false);
        let fraction = usage.fraction();
        let mut events = Vec::new();
        for (threshold, crossed) in config.thresholds.iter().zip(self.crossed.iter_mut()) {
            let above = fraction >= *threshold;
            if above && !*crossed {
                events.push(Event::LimitThreshold {
                    allocation: self.allocation,
                    fraction: *threshold,
                    used: usage.used,
                    max: usage.max,
                });
            }
            *crossed = above;
        }
        if usage.used > line(usage.max, 1.0 - config.reserve) {
            events.extend(self.mark_reserve(usage, config.reserve));
        } else {
            self.reserve_reached = false;
        }
        events
    }

    /// Applies the admission table; counts the units in flight when admitting.
    pub(super) fn decide(
        &mut self,
        priority: Priority,
        units: u64,
        now: Instant,
        config: &LimitsConfig,
    ) -> (Gate, Vec<Event>) {
        let Some(usage) = self.usage else {
            self.in_flight += units;
            return (
                Gate::Admit {
                    pace: Duration::ZERO,
                },
                Vec::new(),
            );
        };
        let committed = usage.used + self.in_flight;
        let projected = committed + units;
        let reserve_line = line(usage.max, 1.0 - config.reserve);
        let pace_line = line(usage.max, 1.0 - config.reserve - config.pace_band);
        let critical = priority == Priority::Critical;
        let mut events = Vec::new();
        let gate = if projected > usage.max {
            self.probe_or_refuse(now, config.stale_after, committed, usage.max)
        } else if projected > reserve_line && !critical {
            events.extend(self.mark_reserve(usage, config.reserve));
            Gate::Reserve
        } else if projected > pace_line && !critical {
            let headroom = reserve_line.saturating_sub(committed).max(1);
            self.next_paced_slot(now, config.window.mul_f64(units as f64 / headroom as f64))
        } else {
            Gate::Admit {
                pace: Duration::ZERO,
            }
        };
        if matches!(gate, Gate::Admit { .. }) {
            self.in_flight += units;
        }
        (gate, events)
    }

    /// Releases units an admitted call had reserved.
    pub(super) fn release(&mut self, units: u64) {
        self.in_flight = self.in_flight.saturating_sub(units);
    }

    /// The next paced slot, then moves the schedule `spacing` further.
    fn next_paced_slot(&mut self, now: Instant, spacing: Duration) -> Gate {
        let slot = self.next_paced.map_or(now, |next| next.max(now));
        self.next_paced = Some(slot + spacing);
        Gate::Admit { pace: slot - now }
    }

    /// At the max, a figure older than `stale_after` may be out of date (the window rolled, and
    /// refused calls bring no new headers): let one call through, at most once per `stale_after`,
    /// so the guard re-learns instead of refusing forever.
    fn probe_or_refuse(
        &mut self,
        now: Instant,
        stale_after: Duration,
        used: u64,
        max: u64,
    ) -> Gate {
        let may_probe = self.in_flight == 0
            && older_than(self.observed_at, now, stale_after)
            && older_than(self.last_probe, now, stale_after);
        if may_probe {
            self.last_probe = Some(now);
            Gate::Admit {
                pace: Duration::ZERO,
            }
        } else {
            Gate::Exhausted { used, max }
        }
    }

    fn mark_reserve(&mut self, usage: Usage, reserve: f64) -> Option<Event> {
        if self.reserve_reached {
            return None;
        }
        self.reserve_reached = true;
        Some(Event::ReserveReached {
            allocation: self.allocation,
            used: usage.used,
            max: usage.max,
            reserve,
        })
    }
}

fn older_than(at: Option<Instant>, now: Instant, age: Duration) -> bool {
    at.is_none_or(|at| now.saturating_duration_since(at) > age)
}

/// `max · fraction`, rounded down.
fn line(max: u64, fraction: f64) -> u64 {
    (max as f64 * fraction.max(0.0)).floor() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    /// Allocation 1000 with the default config: pacing from 700, reserve line 800.
    fn counter_at(used: u64, now: Instant) -> Counter {
        let mut counter = Counter::new(Allocation::ApiRequests);
        counter.observe(Usage { used, max: 1000 }, now, &LimitsConfig::default());
        counter
    }

    fn gate(counter: &mut Counter, priority: Priority, now: Instant) -> Gate {
        counter.decide(priority, 1, now, &LimitsConfig::default()).0
    }

    #[test]
    fn the_admission_table_by_band_and_priority() {
        let now = Instant::now();
        let zero = Gate::Admit {
            pace: Duration::ZERO,
        };
        for (used, background, critical) in [
            (100, zero, zero),
            (750, zero, zero),
            (800, Gate::Reserve, zero),
            (
                1000,
                Gate::Exhausted {
                    used: 1000,
                    max: 1000,
                },
                Gate::Exhausted {
                    used: 1000,
                    max: 1000,
                },
            ),
        ] {
            assert_eq!(
                gate(&mut counter_at(used, now), Priority::Background, now),
                background,
                "background at {used}"
            );
            assert_eq!(
                gate(&mut counter_at(used, now), Priority::Critical, now),
                critical,
                "critical at {used}"
            );
        }
    }

    #[test]
    fn paced_calls_are_spread_so_the_headroom_lasts_the_window() {
        let now = Instant::now();
        let mut counter = counter_at(760, now);
        let paces: Vec<Duration> = (0..3)
            .map(|_| {
                let pace = match gate(&mut counter, Priority::Normal, now) {
                    Gate::Admit { pace } => pace,
                    other => panic!("{other:?}"),
                };
                counter.release(1);
                pace
            })
            .collect();
        // 40 units of headroom below the reserve line, 24 h window: one every 36 min.
        assert_eq!(
            paces,
            [
                Duration::ZERO,
                36 * 60 * Duration::from_secs(1),
                72 * 60 * Duration::from_secs(1)
            ]
        );
        assert_eq!(
            gate(&mut counter, Priority::Normal, now + 2 * HOUR),
            Gate::Admit {
                pace: Duration::ZERO
            },
            "the schedule caught up"
        );
    }

    #[test]
    fn in_flight_units_count_before_the_header_confirms_them() {
        let now = Instant::now();
        let mut counter = counter_at(998, now);
        assert_eq!(
            gate(&mut counter, Priority::Critical, now),
            Gate::Admit {
                pace: Duration::ZERO
            }
        );
        assert_eq!(
            gate(&mut counter, Priority::Critical, now),
            Gate::Admit {
                pace: Duration::ZERO
            }
        );
        assert_eq!(
            gate(&mut counter, Priority::Critical, now),
            Gate::Exhausted {
                used: 1000,
                max: 1000
            }
        );
        counter.release(2);
        assert_eq!(counter.in_flight, 0);
    }

    #[test]
    fn a_stale_figure_at_the_max_allows_one_probe_per_period() {
        let now = Instant::now();
        let mut counter = counter_at(1000, now);
        let later = now + Duration::from_secs(301);
        assert_eq!(
            gate(&mut counter, Priority::Background, later),
            Gate::Admit {
                pace: Duration::ZERO
            }
        );
        counter.release(1);
        assert!(matches!(
            gate(&mut counter, Priority::Background, later),
            Gate::Exhausted { .. }
        ));
        let much_later = later + Duration::from_secs(301);
        assert_eq!(
            gate(&mut counter, Priority::Critical, much_later),
            Gate::Admit {
                pace: Duration::ZERO
            }
        );
    }

    #[test]
    fn thresholds_fire_once_per_crossing_and_rearm_after_the_window_rolls() {
        let now = Instant::now();
        let mut counter = Counter::new(Allocation::ApiRequests);
        let fractions: Vec<f64> = [400, 600, 650, 800, 950, 960, 100, 600]
            .into_iter()
            .flat_map(|used| {
                counter.observe(Usage { used, max: 1000 }, now, &LimitsConfig::default())
            })
            .filter_map(|e| match e {
                Event::LimitThreshold { fraction, .. } => Some(fraction),
                _ => None,
            })
            .collect();
        assert_eq!(fractions, [0.5, 0.75, 0.9, 0.5]);
    }

    #[test]
    fn the_reserve_event_fires_once_until_usage_falls_below_it() {
        let now = Instant::now();
        let mut counter = Counter::new(Allocation::BulkBatches);
        let config = LimitsConfig::default();
        let reserve_events = |events: Vec<Event>| {
            events
                .iter()
                .filter(|e| matches!(e, Event::ReserveReached { .. }))
                .count()
        };
        assert_eq!(
            reserve_events(counter.observe(Usage { used: 90, max: 100 }, now, &config)),
            1
        );
        assert_eq!(
            reserve_events(counter.decide(Priority::Background, 1, now, &config).1),
            0
        );
        assert_eq!(
            reserve_events(counter.observe(Usage { used: 10, max: 100 }, now, &config)),
            0
        );
        assert_eq!(
            reserve_events(counter.observe(Usage { used: 85, max: 100 }, now, &config)),
            1
        );
    }

    #[test]
    fn an_unknown_allocation_admits_and_is_stale() {
        let now = Instant::now();
        let mut counter = Counter::new(Allocation::ApiRequests);
        assert!(counter.is_stale(now, Duration::from_secs(300)));
        assert_eq!(
            gate(&mut counter, Priority::Background, now),
            Gate::Admit {
                pace: Duration::ZERO
            }
        );
        assert_eq!(counter.in_flight, 1);
    }
}
