//! The online side of the demo, running while the nightly load runs: web sign-ups arriving
//! one at a time at a steady pace (each handler reads cached reference data, then hands its write to the
//! core's durable queue, which coalesces them into few calls), and a report that streams
//! every Account page by page.
//!
//! Both run through the brownout window and meet the nightly load's parent locks: the
//! queue retries what Salesforce refused for a passing reason and never drops a write.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt as _, TryStreamExt as _};
use serde_json::json;
use sfscale::queue::{Outcome, QueueStats, SyncMode};
use sfscale::{Client, Error, QueueConfig, WriteOp};

use super::data::{record, signup_key, Plan, EXTERNAL_ID};
use crate::progress::Display;
use crate::report::thousands;

/// The online app's reference data: the key Accounts sign-ups are attached to (a few parents
/// taking many children at once, which is where production meets lock contention).
pub const REFERENCE_SOQL: &str =
    "SELECT Id, Name FROM Account WHERE Industry = 'Energy' ORDER BY External_Id__c LIMIT 20";
/// How long reference data is kept.
const REFERENCE_TTL: Duration = Duration::from_secs(300);
/// Sign-up handlers running at once.
const HANDLERS: usize = 16;

/// What the sign-ups did.
#[derive(Debug)]
pub struct Signups {
    pub stats: QueueStats,
    pub dead_letters: u64,
}

/// One sign-up handler: validate against the cached describe, pick an Account from the
/// cached reference data, enqueue the upsert.
async fn handle(client: &Client, queue: &sfscale::Queue, i: u64) -> Result<(), Error> {
    let describe = client.describe("Contact").await?;
    if !describe["fields"]
        .as_array()
        .is_some_and(|fields| fields.iter().any(|f| f["name"] == EXTERNAL_ID))
    {
        return Err(Error::invalid_input("Contact has no External_Id__c field"));
    }
    let accounts = client.query_cached(REFERENCE_SOQL, REFERENCE_TTL).await?;
    let account = accounts
        .get(i as usize % accounts.len().max(1))
        .and_then(|a| a["Id"].as_str())
        .ok_or_else(|| Error::invalid_input("no Energy account to attach sign-ups to"))?;
    let record = record(json!({
        EXTERNAL_ID: signup_key(i),
        "LastName": format!("Signup {i}"),
        "Email": format!("signup{i}@example.test"),
        "AccountId": account,
    }));
    let key = signup_key(i);
    queue
        .enqueue("Contact", WriteOp::upsert(EXTERNAL_ID), record, Some(&key))
        .await?;
    Ok(())
}

/// Runs every sign-up through the queue and waits until each has an outcome.
pub async fn signups(
    client: &Client,
    dir: &Path,
    plan: Plan,
    display: &Display,
) -> Result<Signups, Error> {
    let config = QueueConfig::new(dir.join("signups.sqlite"))
        .sync(SyncMode::Normal)
        .retry_backoff(Duration::from_millis(200), Duration::from_secs(3));
    let queue = client.queue(config).await?;
    let bar = display.bar("sign-ups", Some(plan.events), "writes");
    let (delivered, dead) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    {
        let (bar, delivered, dead) = (bar.clone(), Arc::clone(&delivered), Arc::clone(&dead));
        queue.on_outcome(move |event| {
            match event.outcome {
                Outcome::DeadLettered { .. } => dead.fetch_add(1, Ordering::Relaxed),
                _ => delivered.fetch_add(1, Ordering::Relaxed),
            };
            bar.set(delivered.load(Ordering::Relaxed) + dead.load(Ordering::Relaxed));
        });
    }
    let start = tokio::time::Instant::now();
    let gap = Duration::from_secs_f64(1.0 / plan.events_per_sec.max(1) as f64);
    let queue_ref = &queue;
    futures::stream::iter(0..plan.events)
        .map(|i| async move {
            tokio::time::sleep_until(start + gap.mul_f64(i as f64)).await;
            handle(client, queue_ref, i).await
        })
        .buffer_unordered(HANDLERS)
        .try_collect::<()>()
        .await?;
    queue.flush().await?;
    let stats = queue.stats();
    queue.close().await?;
    let dead_letters = dead.load(Ordering::Relaxed);
    bar.finish(
        delivered.load(Ordering::Relaxed) + dead_letters,
        &format!(
            "{} delivered in {} calls, {} dead letters",
            thousands(stats.delivered),
            thousands(stats.calls),
            thousands(dead_letters)
        ),
    );
    Ok(Signups {
        stats,
        dead_letters,
    })
}

/// Streams every Account (REST query, page by page) and counts them.
pub async fn account_report(client: &Client, display: &Display) -> Result<u64, Error> {
    let bar = display.bar("report", None, "rows");
    let rows = client
        .query("SELECT Id, Name, Industry FROM Account")
        .try_fold(0u64, |n, _| {
            bar.set(n + 1);
            futures::future::ready(Ok(n + 1))
        })
        .await?;
    bar.finish(rows, "Accounts streamed page by page");
    Ok(rows)
}
