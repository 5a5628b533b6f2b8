//! The nightly load of the demo: Accounts first, then Contacts that name their Account by
//! its external id (`Account.External_Id__c`), both as Bulk API 2.0 upserts through the
//! core's engine, generated row by row so memory stays flat at any `--contacts`.
//!
//! Contacts are generated in the worst order for locks — consecutive rows belong to
//! different Accounts — so that the core's lock-aware planning (grouping by the parent
//! column it infers from describe) has real work to do.

use std::time::Duration;

use futures::StreamExt as _;
use serde_json::{json, Value};
use sfscale::bulk::{Bulk, BulkResult, IngestInput, IngestSettings, Operation, Progress, Record};
use sfscale::{Client, Error};

use crate::profile::BULK_BATCH_ROWS;
use crate::progress::{Bar, Display};
use crate::report::{plural, thousands};

/// Pause before resuming a Bulk run that stopped on a transient failure.
const RESUME_PAUSE: Duration = Duration::from_secs(1);

/// The external id field every demo object is keyed by.
pub const EXTERNAL_ID: &str = "External_Id__c";

/// External id of Account `i`.
pub fn account_key(i: u64) -> String {
    format!("ACC-{i:06}")
}

/// External id of nightly-load Contact `i`.
pub fn contact_key(i: u64) -> String {
    format!("CON-{i:07}")
}

/// External id of web sign-up Contact `i` (written through the queue).
pub fn signup_key(i: u64) -> String {
    format!("WEB-{i:06}")
}

/// How big the demo is.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub accounts: u64,
    pub contacts: u64,
    pub events: u64,
    pub events_per_sec: u64,
}

/// The Account `Industry` picklist, read through the describe cache (the online app's
/// reference data comes from the same cached describe).
pub async fn industries(client: &Client) -> Result<Vec<String>, Error> {
    let describe = client.describe("Account").await?;
    let values = describe["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["name"] == "Industry")
        .and_then(|f| f["picklistValues"].as_array())
        .map(|values| {
            values
                .iter()
                .filter_map(|v| v["value"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok(values)
}

/// The ingest knobs of the demo: one chunk per emulator batch, four jobs at once, quick polls.
fn settings() -> IngestSettings {
    IngestSettings {
        batch_rows: BULK_BATCH_ROWS as u64,
        max_rows_per_job: 20_000,
        max_parallel_jobs: 4,
        poll_initial: Duration::from_millis(100),
        poll_max: Duration::from_secs(1),
        ..IngestSettings::default()
    }
}

/// A JSON object as a record (anything else as an empty one).
pub fn record(value: Value) -> Record {
    match value {
        Value::Object(map) => map,
        _ => Record::new(),
    }
}

/// Upserts every Account.
pub async fn load_accounts(
    bulk: &Bulk,
    plan: Plan,
    industries: Vec<String>,
    display: &Display,
) -> Result<Loaded, Error> {
    let rows = futures::stream::iter(0..plan.accounts).map(move |i| {
        let industry = industries
            .get(i as usize % industries.len().max(1))
            .cloned();
        Ok(record(json!({
            EXTERNAL_ID: account_key(i),
            "Name": format!("Account {i}"),
            "Industry": industry,
            "Phone": format!("+1 555 {:04}", i % 10_000),
        })))
    });
    upsert(
        bulk,
        "Account",
        plan.accounts,
        IngestInput::records(rows),
        display,
    )
    .await
}

/// Upserts every Contact, each naming its Account by external id.
pub async fn load_contacts(bulk: &Bulk, plan: Plan, display: &Display) -> Result<Loaded, Error> {
    let accounts = plan.accounts.max(1);
    let rows = futures::stream::iter(0..plan.contacts).map(move |i| {
        Ok(record(json!({
            EXTERNAL_ID: contact_key(i),
            "FirstName": format!("First{}", i % 997),
            "LastName": format!("Contact {i}"),
            "Email": format!("contact{i}@example.test"),
            "Account": {EXTERNAL_ID: account_key(i % accounts)},
        })))
    });
    upsert(
        bulk,
        "Contact",
        plan.contacts,
        IngestInput::records(rows),
        display,
    )
    .await
}

/// Times a Bulk run interrupted by a transient failure is resumed from its journal.
const MAX_RESUMES: u32 = 5;

/// A finished Bulk run and how often it had to be resumed.
#[derive(Debug)]
pub struct Loaded {
    pub result: BulkResult,
    /// Resumes after the run stopped on a transient failure (brownout).
    pub resumes: u32,
}

/// Upserts `input` into `object`. A run that stops on a transient failure (a brownout that
/// outlasts the pipeline's retries) is resumed from its journal, as a scheduler would
/// restart a nightly job: finished jobs are not uploaded again.
async fn upsert(
    bulk: &Bulk,
    object: &str,
    total: u64,
    input: IngestInput,
    display: &Display,
) -> Result<Loaded, Error> {
    let bar = display.bar(object, Some(total), "rows");
    let show = |bar: &Bar| {
        let bar = bar.clone();
        move |p: Progress| {
            bar.set(p.rows_processed);
            bar.note(format!("uploaded {}", thousands(p.rows_uploaded)));
        }
    };
    let run_id = format!("demo-{object}-{}", std::process::id());
    let mut attempt = bulk
        .ingest(object, Operation::Upsert)
        .external_id(EXTERNAL_ID)
        .settings(settings())
        .run_id(&run_id)
        .on_progress(show(&bar))
        .run(input)
        .await;
    let mut resumes = 0;
    let result = loop {
        match attempt {
            Err(error) if error.is_retryable() && resumes < MAX_RESUMES => {
                resumes += 1;
                display.line(format!(
                    "{object} load stopped ({error}); resuming run {run_id} from its journal"
                ));
                tokio::time::sleep(RESUME_PAUSE).await;
                attempt = bulk.resume(&run_id).on_progress(show(&bar)).run().await;
            }
            other => break other?,
        }
    };
    bar.finish(
        result.rows_succeeded + result.rows_failed,
        &format!(
            "{} upserted, {} failed, {}, lock-retried rows {}, resumed {resumes}×",
            thousands(result.rows_succeeded),
            thousands(result.rows_failed),
            plural(result.jobs_used, "job"),
            thousands(result.lock_retried_rows)
        ),
    );
    Ok(Loaded { result, resumes })
}
