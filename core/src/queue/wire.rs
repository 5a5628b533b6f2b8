//! Sending one batch: an sObject Collections call, or a Bulk API 2.0 job for a large backlog,
//! always through the client's pipeline (limits guard, scheduler, token, retry, observe).
//!
//! | operation | collections call | bulk operation |
//! |---|---|---|
//! | insert | `POST /composite/sobjects` | `insert` |
//! | update | `PATCH /composite/sobjects` | `update` |
//! | upsert | `PATCH /composite/sobjects/{Type}/{ExtField}` | `upsert` by `ExtField` |
//! | delete | `DELETE /composite/sobjects?ids=…` | `delete` |
//!
//! Calls are `allOrNone: false`, so one bad record does not hold back its neighbours.
//! Why not `Client::create_many` and friends: they fold a failed call into per-record errors,
//! and the queue must tell "Salesforce refused this record" (a dead letter) from "the call
//! did not go through" (send again later); here the two stay apart ([`super::state`]).

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::item::{Item, WriteOp};
use super::journal::GroupKey;
use super::outcome::WriteError;
use super::state::{is_refusal, settle_bulk_row, settle_call, settle_record, Settle};
use crate::bulk::{Bulk, BulkResult, IngestInput, Operation, RowError, RowOutcome};
use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::pipeline::{Request, Target};
use crate::rest::{Record, RecordError};

/// Bulk status polls: first delay and largest (short, because a queue bounds latency).
const BULK_POLL: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(2));

#[derive(Deserialize)]
struct SaveResult {
    #[serde(default)]
    id: Option<String>,
    success: bool,
    #[serde(default)]
    created: Option<bool>,
    #[serde(default)]
    errors: Vec<RecordError>,
}

/// What one send did.
#[derive(Debug)]
pub struct Sent {
    /// Each write's settlement.
    pub settled: Vec<(Item, Settle)>,
    /// Whether Salesforce answered (false when the call was refused before it left, e.g. at
    /// the limits reserve, or never got a response).
    pub answered: bool,
    /// Whether the call (or bulk run) failed as a whole for a reason that is not about its
    /// writes (an outage, a limit): the queue then pauses before its next call.
    pub failed: bool,
}

/// Sends `items` (one group) in one collections call and settles each.
pub async fn send_collections(client: &Client, group: &GroupKey, items: Vec<Item>) -> Sent {
    let outcome = match collections_request(client, group, &items) {
        Ok(request) => client
            .pipeline
            .execute(&request)
            .await
            .and_then(|r| r.json::<Vec<SaveResult>>()),
        Err(error) => Err(error),
    };
    let failed = outcome.as_ref().is_err_and(|e| !is_refusal(e));
    let answered = outcome
        .as_ref()
        .map_or_else(|e| e.status().is_some(), |_| true);
    let settled = match outcome {
        Ok(results) if results.len() == items.len() => items
            .into_iter()
            .zip(results)
            .map(|(item, r)| {
                (
                    item,
                    settle_record(&group.op, r.id, r.success, r.created, &r.errors),
                )
            })
            .collect(),
        Ok(_) => items
            .into_iter()
            .map(|i| (i, Settle::Retry("INVALID_RESPONSE".into())))
            .collect(),
        Err(error) => {
            let alone = items.len() == 1;
            items
                .into_iter()
                .map(|i| (i, settle_call(&error, alone)))
                .collect()
        }
    };
    Sent {
        settled,
        answered,
        failed,
    }
}

fn collections_request(
    client: &Client,
    group: &GroupKey,
    items: &[Item],
) -> Result<Request, Error> {
    let object = group.object.as_str();
    let (method, path, route) = match &group.op {
        WriteOp::Insert => (
            Method::POST,
            "composite/sobjects".to_owned(),
            "collections.create",
        ),
        WriteOp::Update => (
            Method::PATCH,
            "composite/sobjects".to_owned(),
            "collections.update",
        ),
        WriteOp::Upsert { external_id } => (
            Method::PATCH,
            format!("composite/sobjects/{object}/{external_id}"),
            "collections.upsert",
        ),
        WriteOp::Delete => {
            let ids: Vec<&str> = items
                .iter()
                .filter_map(|i| i.record.get("Id").and_then(Value::as_str))
                .collect();
            return Ok(client
                .request(
                    Method::DELETE,
                    Target::Versioned("composite/sobjects".into()),
                    "collections.delete",
                    "queue",
                )
                .object(object)
                .query("ids", ids.join(","))
                .query("allOrNone", "false"));
        }
    };
    let records: Vec<Value> = items.iter().map(|i| typed(object, &i.record)).collect();
    // An insert is a POST: the pipeline must not replay it after an ambiguous failure (the
    // queue sends it again later, which is the documented at-least-once for inserts).
    let idempotent = !matches!(group.op, WriteOp::Insert);
    client
        .request(method, Target::Versioned(path), route, "queue")
        .object(object)
        .idempotent(idempotent)
        .json(&json!({ "allOrNone": false, "records": records }))
}

/// `record` with `attributes.type` set to `object`.
fn typed(object: &str, record: &Record) -> Value {
    let mut out = Record::new();
    out.insert("attributes".into(), json!({ "type": object }));
    out.extend(
        record
            .iter()
            .filter(|(k, _)| *k != "attributes")
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    Value::Object(out)
}

fn bulk_operation(op: &WriteOp) -> Operation {
    match op {
        WriteOp::Insert => Operation::Insert,
        WriteOp::Update => Operation::Update,
        WriteOp::Upsert { .. } => Operation::Upsert,
        WriteOp::Delete => Operation::Delete,
    }
}

/// Sends `items` (one group) as the bulk ingest run `run_id` — or, with `resume`, continues
/// that run after a restart (the bulk engine's journal knows which jobs exist, so nothing is
/// uploaded twice) — and settles each write by its row in the run's outcome files. Writes
/// without an outcome (the run failed part way, or a resumed run is unknown because the
/// process died before it started) are settled by the run's error: sent again later.
pub async fn send_bulk(
    bulk: &Bulk,
    group: &GroupKey,
    items: Vec<Item>,
    run_id: &str,
    resume: bool,
) -> Sent {
    let run = if resume {
        bulk.resume(run_id).run().await
    } else {
        let mut ingest = bulk
            .ingest(&group.object, bulk_operation(&group.op))
            .run_id(run_id)
            .poll_interval(BULK_POLL.0, BULK_POLL.1);
        if let Some(field) = group.op.external_id() {
            ingest = ingest.external_id(field);
        }
        let records: Vec<Record> = items.iter().map(|i| i.record.clone()).collect();
        ingest.run(IngestInput::from_records(records)).await
    };
    let rows = match &run {
        Ok(result) => read_outcomes(result, items.len()).unwrap_or_else(|e| {
            tracing::warn!(
                code = e.code(),
                message = e.message(),
                "bulk outcome files unreadable; the writes are sent again"
            );
            vec![None; items.len()]
        }),
        Err(_) => vec![None; items.len()],
    };
    let answered = run.as_ref().map_or_else(|e| e.status().is_some(), |_| true);
    let failed = run.as_ref().is_err_and(|e| !is_refusal(e));
    let settled = items
        .into_iter()
        .zip(rows)
        .map(|(item, row)| {
            let settle = match (row, &run) {
                (Some(row), _) => settle_bulk_row(
                    &group.op,
                    row.id,
                    row.created,
                    row.error.map(WriteError::from).as_ref(),
                ),
                (None, Err(error)) => settle_call(error, false),
                (None, Ok(_)) => Settle::Retry("RESULT_MISSING".into()),
            };
            (item, settle)
        })
        .collect();
    Sent {
        settled,
        answered,
        failed,
    }
}

/// Each input row's outcome from a run's `success.csv` and `error.csv` (first columns:
/// `sfscale__Row`, `sf__Id`, then `sf__Created` or `sf__Error`).
fn read_outcomes(result: &BulkResult, rows: usize) -> Result<Vec<Option<RowOutcome>>, Error> {
    let mut out = vec![None; rows];
    for (path, success) in [(&result.success_file, true), (&result.error_file, false)] {
        if !path.exists() {
            continue;
        }
        let unreadable = |e: csv::Error| {
            Error::new(
                ErrorKind::Config,
                "QUEUE_BULK_OUTCOME",
                format!("{}: {e}", path.display()),
            )
        };
        let mut reader = csv::Reader::from_path(path).map_err(unreadable)?;
        for record in reader.records() {
            let record = record.map_err(unreadable)?;
            let Some(row) = record.get(0).and_then(|r| r.parse::<u64>().ok()) else {
                continue;
            };
            let third = record.get(2).unwrap_or_default();
            let outcome = RowOutcome {
                row: Some(row),
                id: record.get(1).filter(|v| !v.is_empty()).map(str::to_owned),
                created: success.then(|| third.eq_ignore_ascii_case("true")),
                error: (!success).then(|| RowError::parse(third)),
            };
            if let Some(slot) = usize::try_from(row).ok().and_then(|r| out.get_mut(r)) {
                *slot = Some(outcome);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_typed_and_a_callers_attributes_key_is_replaced() {
        let record = json!({"Name": "A", "attributes": {"type": "Contact"}})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(
            typed("Account", &record),
            json!({"attributes": {"type": "Account"}, "Name": "A"})
        );
    }

    #[test]
    fn every_operation_has_its_bulk_counterpart() {
        assert_eq!(bulk_operation(&WriteOp::upsert("E__c")), Operation::Upsert);
        assert_eq!(bulk_operation(&WriteOp::Delete), Operation::Delete);
        assert_eq!(bulk_operation(&WriteOp::Insert), Operation::Insert);
        assert_eq!(bulk_operation(&WriteOp::Update), Operation::Update);
    }
}
