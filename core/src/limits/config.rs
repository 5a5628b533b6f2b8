//! Limits guard settings: the reserve, the pacing band, threshold events, staleness.

use std::time::Duration;

use crate::error::Error;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(LimitsConfig::default().validate().is_ok());
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
            pace_band: 0.9,
            ..LimitsConfig::default()
        }
        .validate()
        .expect_err("invalid");
        assert!(err.to_string().contains("limits_pace_band"));
        let err = LimitsConfig {
            thresholds: vec![0.5, 0.0],
            ..LimitsConfig::default()
        }
        .validate()
        .expect_err("invalid");
        assert!(err.to_string().contains("limits_thresholds"));
    }
}
