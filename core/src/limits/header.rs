//! Parsing `Sforce-Limit-Info`, the usage figure Salesforce attaches to every REST response.
//!
//! Shape: `api-usage=<used>/<max>`, optionally followed by `; `-separated segments such as
//! `per-app-api-usage=<used>/<max>(appName=<app>)` or `api-bursts=<n>/<m>`. Unknown segments are
//! skipped, so a new segment from Salesforce never breaks a client. Anything malformed yields
//! `None` (the guard then keeps its previous figure); parsing never panics.
//!
//! Rejected alternative: a regex like simple-salesforce's `api-usage=(\d+)/(\d+)`. It silently
//! accepts `used > max` garbage and pulls in a regex engine for a three-token grammar.

use serde::Serialize;

/// The response header's name.
pub const HEADER: &str = "sforce-limit-info";

/// A `used/max` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Units used in the rolling 24 h window.
    pub used: u64,
    /// The allocation.
    pub max: u64,
}

impl Usage {
    /// `used / max`, 1.0 for a zero allocation.
    pub fn fraction(&self) -> f64 {
        if self.max == 0 {
            1.0
        } else {
            self.used as f64 / self.max as f64
        }
    }
}

/// The connected app's own quota (per-app usage, a pilot feature).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppUsage {
    /// The app's usage.
    pub usage: Usage,
    /// The connected app's name.
    pub app_name: String,
}

/// A parsed `Sforce-Limit-Info` value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LimitInfo {
    /// Org-wide API usage.
    pub api_usage: Usage,
    /// Per-app usage, when the header carries it.
    pub per_app: Option<AppUsage>,
}

/// Parses a header value; `None` if `api-usage` is missing or any known segment is malformed.
pub fn parse(value: &str) -> Option<LimitInfo> {
    let mut api_usage = None;
    let mut per_app = None;
    for segment in value.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, rest) = segment.split_once('=')?;
        match name.trim() {
            "api-usage" => api_usage = Some(parse_usage(rest)?),
            "per-app-api-usage" => per_app = Some(parse_app_usage(rest)?),
            _ => {}
        }
    }
    Some(LimitInfo {
        api_usage: api_usage?,
        per_app,
    })
}

fn parse_usage(text: &str) -> Option<Usage> {
    let (used, max) = text.trim().split_once('/')?;
    let usage = Usage {
        used: used.trim().parse().ok()?,
        max: max.trim().parse().ok()?,
    };
    Some(usage)
}

fn parse_app_usage(text: &str) -> Option<AppUsage> {
    let (figures, app) = text.split_once('(')?;
    let app_name = app.strip_suffix(')')?.strip_prefix("appName=")?;
    if app_name.is_empty() {
        return None;
    }
    Some(AppUsage {
        usage: parse_usage(figures)?,
        app_name: app_name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_api_usage() {
        let info = parse("api-usage=18/5000").expect("valid");
        assert_eq!(
            info.api_usage,
            Usage {
                used: 18,
                max: 5000
            }
        );
        assert_eq!(info.per_app, None);
    }

    #[test]
    fn parses_per_app_usage_and_skips_bursts_and_unknown_segments() {
        let info = parse("api-usage=25/5000; per-app-api-usage=17/250(appName=sample-app); api-bursts=3/100; future-thing=x").expect("valid");
        assert_eq!(
            info.api_usage,
            Usage {
                used: 25,
                max: 5000
            }
        );
        let app = info.per_app.expect("per-app");
        assert_eq!(
            (app.usage, app.app_name.as_str()),
            (Usage { used: 17, max: 250 }, "sample-app")
        );
    }

    #[test]
    fn malformed_values_are_none_never_a_panic() {
        for bad in [
            "",
            "api-usage",
            "api-usage=",
            "api-usage=18",
            "api-usage=a/b",
            "api-usage=-1/5",
            "api-usage=18/5000; per-app-api-usage=1/2(app=x)",
            "per-app-api-usage=1/2(appName=x)",
            "api-usage=99999999999999999999999/1",
            "api-usage=1/2; per-app-api-usage=1/2(appName=)",
            "=;=;",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tolerates_spacing_and_reports_the_fraction() {
        let info = parse(" api-usage = 250/1000 ;").expect("valid");
        assert_eq!(info.api_usage.fraction(), 0.25);
        assert_eq!(Usage { used: 1, max: 0 }.fraction(), 1.0);
    }
}
