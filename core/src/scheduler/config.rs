//! Scheduler settings, with the defaults and the Developer Edition preset.

use std::num::NonZeroU32;

use super::concurrency::AimdConfig;
use crate::error::Error;

/// A requests-per-second limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateConfig {
    /// Steady rate.
    pub per_second: NonZeroU32,
    /// Requests allowed at once after an idle period.
    pub burst: NonZeroU32,
}

/// What `acquire` does when the wait queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenFull {
    /// Wait for room in the queue (backpressure). Default.
    #[default]
    Wait,
    /// Fail at once with a `BACKPRESSURE` error.
    FailFast,
}

/// Scheduler settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerConfig {
    /// Requests-per-second limit. Default: `None` (Salesforce enforces no per-second rate).
    pub rate: Option<RateConfig>,
    /// Adaptive concurrency bounds. Default: 16 initial, [1, 64].
    pub concurrency: AimdConfig,
    /// Concurrent `LongRunning` calls. Default: 10 (headroom under production's 25 for other
    /// integrations); [`SchedulerConfig::developer_edition`] uses 5, Developer Edition's cap.
    pub long_running_cap: u32,
    /// Callers allowed to wait for a slot. Default: 1024.
    pub queue_capacity: usize,
    /// Behaviour when the queue is full. Default: [`WhenFull::Wait`].
    pub when_full: WhenFull,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            rate: None,
            concurrency: AimdConfig::default(),
            long_running_cap: 10,
            queue_capacity: 1024,
            when_full: WhenFull::Wait,
        }
    }
}

impl SchedulerConfig {
    /// Defaults for a Developer Edition or trial org: long-running lane of 5, concurrency ≤ 16.
    pub fn developer_edition() -> Self {
        let concurrency = AimdConfig {
            initial: 8,
            max: 16,
            ..AimdConfig::default()
        };
        SchedulerConfig {
            long_running_cap: 5,
            concurrency,
            ..SchedulerConfig::default()
        }
    }

    /// Checks every setting, naming the offending one.
    pub fn validate(&self) -> Result<(), Error> {
        self.concurrency.validate()?;
        if self.long_running_cap == 0 {
            return Err(Error::config(
                "scheduler_long_running_cap",
                "must be at least 1",
            ));
        }
        if self.queue_capacity == 0 {
            return Err(Error::config(
                "scheduler_queue_capacity",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}
