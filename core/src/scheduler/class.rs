//! How a request asks to be treated: its [`Priority`] and its [`CostClass`].
//!
//! Priority decides who goes first when callers wait (scheduler queue) and who keeps going when
//! the daily allocation runs low (limits guard). Cost class decides which concurrency lane a
//! request occupies. Both are set per call by the operation that builds the request.

use serde::Serialize;

/// Who goes first, and who is stopped at the reserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Must go through: served first, continues past the reserve (never past the hard limit).
    Critical,
    /// Ordinary work. Default.
    #[default]
    Normal,
    /// Can wait: served last, paced first, stopped at the reserve.
    Background,
}

impl Priority {
    /// Every priority, highest first.
    pub const ALL: [Priority; 3] = [Priority::Critical, Priority::Normal, Priority::Background];

    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::Normal => "normal",
            Priority::Background => "background",
        }
    }
}

/// What a request costs the org while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CostClass {
    /// A short call (CRUD, collections, small queries). Default.
    #[default]
    Normal,
    /// A call likely to run past 20 s (large queries, bulk result downloads): counts against the
    /// org's concurrent long-running limit, so it also takes a slot in the long-running lane.
    LongRunning,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_order_critical_first() {
        let mut shuffled = [Priority::Background, Priority::Critical, Priority::Normal];
        shuffled.sort();
        assert_eq!(shuffled, Priority::ALL);
        assert_eq!(Priority::default(), Priority::Normal);
    }
}
