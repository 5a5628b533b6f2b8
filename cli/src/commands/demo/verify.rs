//! The demo's proof: in the org, after everything settled, every record that was written is
//! there exactly once. Two independent reads per object: a `COUNT(Id)` (REST, one call) and
//! a Bulk API 2.0 query of every external id, checked against the keys the demo generated
//! for missing, duplicated and unexpected ones.

use std::collections::HashMap;
use std::time::Duration;

use futures::TryStreamExt as _;
use sfscale::{Client, Error};

/// What one object looks like in the org.
#[derive(Debug)]
pub struct ObjectCheck {
    pub object: &'static str,
    pub expected: u64,
    /// `SELECT COUNT(Id)`.
    pub counted: u64,
    /// Rows of the bulk query of external ids.
    pub listed: u64,
    /// Expected keys not found.
    pub missing: u64,
    /// Keys found more than once (each counted once).
    pub duplicated: u64,
    /// Keys found that the demo never wrote (or empty).
    pub unexpected: u64,
}

impl ObjectCheck {
    /// Every expected record present exactly once, nothing else.
    pub fn passed(&self) -> bool {
        self.counted == self.expected
            && self.listed == self.expected
            && self.missing == 0
            && self.duplicated == 0
            && self.unexpected == 0
    }
}

/// Counts `object`'s records and checks its external ids against `expected` keys.
pub async fn check(
    client: &Client,
    object: &'static str,
    expected: impl Iterator<Item = String>,
) -> Result<ObjectCheck, Error> {
    let counted = count(client, object).await?;
    let mut seen: HashMap<String, u32> = HashMap::new();
    let soql = format!("SELECT External_Id__c FROM {object}");
    let mut rows = client
        .bulk()
        .query(&soql)
        .poll_interval(Duration::from_millis(100), Duration::from_secs(1))
        .stream();
    let mut listed = 0;
    while let Some(row) = rows.try_next().await? {
        listed += 1;
        let key = row["External_Id__c"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        *seen.entry(key).or_default() += 1;
    }
    let (mut expected_n, mut matched) = (0u64, 0u64);
    for key in expected {
        expected_n += 1;
        matched += u64::from(seen.contains_key(&key));
    }
    let missing = expected_n - matched;
    let duplicated = seen.values().filter(|n| **n > 1).count() as u64;
    let unexpected = seen.len() as u64 - matched;
    Ok(ObjectCheck {
        object,
        expected: expected_n,
        counted,
        listed,
        missing,
        duplicated,
        unexpected,
    })
}

async fn count(client: &Client, object: &str) -> Result<u64, Error> {
    let soql = format!("SELECT COUNT(Id) n FROM {object}");
    let rows: Vec<_> = client.query(soql).try_collect().await?;
    rows.first()
        .and_then(|r| r["n"].as_u64())
        .ok_or_else(|| Error::invalid_input(format!("COUNT(Id) on {object} returned no number")))
}
