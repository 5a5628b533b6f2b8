//! The org's `/limits`: every allocation with its maximum and what remains.
//!
//! Fetching it also refreshes the limits guard's figure, so a caller that checks limits
//! before a big job leaves the guard current too.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::Deserialize;

use crate::client::Client;
use crate::error::Error;
use crate::pipeline::{Target, LIMITS_ROUTE};

/// One allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Limit {
    /// The allocation.
    #[serde(rename = "Max")]
    pub max: u64,
    /// What is left of it.
    #[serde(rename = "Remaining")]
    pub remaining: u64,
}

impl Limit {
    /// Units used.
    pub fn used(&self) -> u64 {
        self.max.saturating_sub(self.remaining)
    }
}

/// Every allocation `/limits` reported, by name (`DailyApiRequests`, ...). Per-app
/// sub-entries are not kept.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrgLimits(pub BTreeMap<String, Limit>);

impl OrgLimits {
    /// One allocation by name.
    pub fn get(&self, name: &str) -> Option<Limit> {
        self.0.get(name).copied()
    }

    /// `DailyApiRequests`.
    pub fn daily_api_requests(&self) -> Option<Limit> {
        self.get("DailyApiRequests")
    }
}

impl Client {
    /// The org's limits (one API call); also refreshes the limits guard.
    pub async fn limits(&self) -> Result<OrgLimits, Error> {
        let request = self.request(
            Method::GET,
            Target::Versioned("limits".into()),
            LIMITS_ROUTE,
            "limits",
        );
        let response = self.pipeline.execute(&request).await?;
        self.pipeline.guard().observe_limits_body(&response.body)?;
        response.json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_with_per_app_entries_ignored() {
        let body = r#"{"DailyApiRequests":{"Max":15000,"Remaining":14990,"MyApp":{"Max":0,"Remaining":0}},
                        "DailyBulkApiBatches":{"Max":15000,"Remaining":15000}}"#;
        let limits: OrgLimits = serde_json::from_str(body).unwrap();
        assert_eq!(limits.daily_api_requests().unwrap().used(), 10);
        assert_eq!(limits.get("DailyBulkApiBatches").unwrap().remaining, 15000);
    }
}
