//! `write(object, operation, records)`: one call for writes of any size; the engine picks a
//! single REST call, sObject Collections or Bulk API 2.0 by volume, and says what it chose
//! and why.
//!
//! | records | method | why |
//! |---|---|---|
//! | ≤ `single_max` (1) | one sObject call | nothing to batch |
//! | ≤ `collections_max` (2 000) | Collections, 200 per call | synchronous, per-record results, no job overhead |
//! | more, or `hardDelete` | Bulk API 2.0 | ≈ rows/10 000 calls instead of rows/200; Salesforce's own guidance is Bulk above 2 000 records |
//!
//! `hardDelete` exists only in the Bulk API, so it always goes there. Thresholds are knobs
//! because the right cut depends on the org: Bulk jobs queue behind other jobs, so latency-
//! sensitive callers raise `collections_max`.

use serde_json::Value;

use crate::bulk::api::{Bulk, BulkResult, IngestInput};
use crate::bulk::encode::Record;
use crate::bulk::options::Operation;
use crate::bulk::results::{RowError, RowOutcome};
use crate::error::Error;
use crate::rest::RecordResult;

/// How a write was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteMethod {
    /// One sObject REST call.
    Single,
    /// sObject Collections.
    Collections,
    /// Bulk API 2.0.
    Bulk,
}

/// What a write did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WriteReport {
    /// The method chosen.
    pub method: WriteMethod,
    /// Why.
    pub reason: String,
    /// Records given.
    pub rows: u64,
    /// Records saved.
    pub succeeded: u64,
    /// Records not saved.
    pub failed: u64,
    /// Per-record outcomes (single and collections: every record, in input order; bulk: the
    /// first failures — the bulk result's files hold all).
    pub outcomes: Vec<RowOutcome>,
    /// The bulk run, when bulk was chosen.
    pub bulk: Option<BulkResult>,
}

/// A write being described. Finish with [`WriteBuilder::run`].
#[must_use]
pub struct WriteBuilder {
    bulk: Bulk,
    object: String,
    operation: Operation,
    records: Vec<Record>,
    external_id: Option<String>,
    single_max: usize,
    collections_max: usize,
}

impl Bulk {
    /// Writes `records` by whichever API suits their number (see the module docs).
    pub fn write(&self, object: &str, operation: Operation, records: Vec<Record>) -> WriteBuilder {
        WriteBuilder {
            bulk: self.clone(),
            object: object.to_owned(),
            operation,
            records,
            external_id: None,
            single_max: 1,
            collections_max: 2000,
        }
    }
}

/// Which method suits `rows` records of `operation`, and why.
pub fn choose(
    operation: Operation,
    rows: usize,
    single_max: usize,
    collections_max: usize,
) -> (WriteMethod, String) {
    if operation == Operation::HardDelete {
        return (
            WriteMethod::Bulk,
            "hardDelete exists only in the Bulk API".to_owned(),
        );
    }
    if rows <= single_max {
        (
            WriteMethod::Single,
            format!("{rows} record(s) ≤ single_max {single_max}: one sObject call"),
        )
    } else if rows <= collections_max {
        (
            WriteMethod::Collections,
            format!(
                "{rows} records ≤ collections_max {collections_max}: {} Collections call(s)",
                rows.div_ceil(200)
            ),
        )
    } else {
        (
            WriteMethod::Bulk,
            format!("{rows} records > collections_max {collections_max}: Bulk API 2.0"),
        )
    }
}

impl WriteBuilder {
    /// The external id field (required for upsert).
    pub fn external_id(mut self, field: &str) -> Self {
        self.external_id = Some(field.to_owned());
        self
    }

    /// Largest write sent as one sObject call. Default: 1.
    pub fn single_max(mut self, n: usize) -> Self {
        self.single_max = n;
        self
    }

    /// Largest write sent through Collections. Default: 2 000.
    pub fn collections_max(mut self, n: usize) -> Self {
        self.collections_max = n;
        self
    }

    /// Sends the write.
    pub async fn run(self) -> Result<WriteReport, Error> {
        if self.operation == Operation::Upsert && self.external_id.is_none() {
            return Err(Error::invalid_input(
                "upsert needs an external id field (external_id)",
            ));
        }
        let rows = self.records.len();
        let (method, reason) = choose(self.operation, rows, self.single_max, self.collections_max);
        let mut report = match method {
            WriteMethod::Single => self.single().await?,
            WriteMethod::Collections => self.collections().await?,
            WriteMethod::Bulk => self.via_bulk().await?,
        };
        report.method = method;
        report.reason = reason;
        Ok(report)
    }

    fn report(outcomes: Vec<RowOutcome>, rows: usize) -> WriteReport {
        let failed = outcomes.iter().filter(|o| o.error.is_some()).count() as u64;
        WriteReport {
            method: WriteMethod::Single,
            reason: String::new(),
            rows: rows as u64,
            succeeded: rows as u64 - failed,
            failed,
            outcomes,
            bulk: None,
        }
    }

    fn id_of(record: &Record) -> Result<String, Error> {
        record
            .get("Id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid_input("the record has no Id").with_row(0))
    }

    async fn single(&self) -> Result<WriteReport, Error> {
        let client = &self.bulk.client;
        let mut outcomes = Vec::new();
        for (row, record) in self.records.iter().enumerate() {
            let result = match self.operation {
                Operation::Insert => client
                    .create(&self.object, record)
                    .await
                    .map(|id| (Some(id), Some(true))),
                Operation::Update => {
                    let id = Self::id_of(record)?;
                    let mut fields = record.clone();
                    fields.remove("Id");
                    client
                        .update(&self.object, &id, &fields)
                        .await
                        .map(|_| (Some(id), Some(false)))
                }
                Operation::Upsert => {
                    let ext = self.external_id.as_deref().unwrap_or_default();
                    let value = match record.get(ext) {
                        Some(Value::String(s)) => s.clone(),
                        Some(v) if !v.is_null() => v.to_string(),
                        _ => {
                            return Err(Error::invalid_input(format!("the record has no {ext}"))
                                .with_row(row as u64))
                        }
                    };
                    let mut fields = record.clone();
                    fields.remove(ext);
                    client
                        .upsert(&self.object, ext, &value, &fields)
                        .await
                        .map(|r| (r.id, Some(r.created)))
                }
                Operation::Delete | Operation::HardDelete => {
                    let id = Self::id_of(record)?;
                    client
                        .delete(&self.object, &id)
                        .await
                        .map(|_| (Some(id), None))
                }
            };
            outcomes.push(match result {
                Ok((id, created)) => RowOutcome {
                    row: Some(row as u64),
                    id,
                    created,
                    error: None,
                },
                Err(e)
                    if e.kind() == crate::ErrorKind::InvalidInput
                        || e.kind() == crate::ErrorKind::NotFound =>
                {
                    RowOutcome {
                        row: Some(row as u64),
                        id: None,
                        created: None,
                        error: Some(RowError {
                            code: e.code().to_owned(),
                            message: e.message().to_owned(),
                            fields: e.fields().to_vec(),
                        }),
                    }
                }
                Err(e) => return Err(e),
            });
        }
        Ok(Self::report(outcomes, self.records.len()))
    }

    async fn collections(&self) -> Result<WriteReport, Error> {
        let client = &self.bulk.client;
        let results = match self.operation {
            Operation::Insert => {
                client
                    .create_many(&self.object, &self.records, false)
                    .await?
            }
            Operation::Update => {
                client
                    .update_many(&self.object, &self.records, false)
                    .await?
            }
            Operation::Upsert => {
                client
                    .upsert_many(
                        &self.object,
                        self.external_id.as_deref().unwrap_or_default(),
                        &self.records,
                        false,
                    )
                    .await?
            }
            Operation::Delete | Operation::HardDelete => {
                let ids = self
                    .records
                    .iter()
                    .map(Self::id_of)
                    .collect::<Result<Vec<_>, _>>()?;
                client
                    .delete_many(&ids.iter().map(String::as_str).collect::<Vec<_>>(), false)
                    .await?
            }
        };
        Ok(Self::report(
            results.into_iter().map(outcome_of).collect(),
            self.records.len(),
        ))
    }

    async fn via_bulk(self) -> Result<WriteReport, Error> {
        let rows = self.records.len() as u64;
        let mut ingest = self.bulk.ingest(&self.object, self.operation);
        if let Some(ext) = &self.external_id {
            ingest = ingest.external_id(ext);
        }
        let result = ingest.run(IngestInput::from_records(self.records)).await?;
        Ok(WriteReport {
            method: WriteMethod::Bulk,
            reason: String::new(),
            rows,
            succeeded: result.rows_succeeded,
            failed: result.rows_failed,
            outcomes: result.failures.clone(),
            bulk: Some(result),
        })
    }
}

fn outcome_of(result: RecordResult) -> RowOutcome {
    let error = match result.errors.first() {
        _ if result.success => None,
        Some(e) => Some(RowError {
            code: e.status_code.clone(),
            message: e.message.clone(),
            fields: e.fields.clone(),
        }),
        None => Some(RowError {
            code: "UNKNOWN_EXCEPTION".into(),
            message: "not saved, no error given".into(),
            fields: Vec::new(),
        }),
    };
    RowOutcome {
        row: Some(result.index as u64),
        id: result.id,
        created: result.created,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_picks_the_method_and_says_why() {
        assert_eq!(choose(Operation::Insert, 1, 1, 2000).0, WriteMethod::Single);
        let (method, why) = choose(Operation::Update, 450, 1, 2000);
        assert_eq!(method, WriteMethod::Collections);
        assert!(why.contains("3 Collections call(s)"), "{why}");
        assert_eq!(
            choose(Operation::Upsert, 2001, 1, 2000).0,
            WriteMethod::Bulk
        );
        assert_eq!(
            choose(Operation::HardDelete, 1, 1, 2000).0,
            WriteMethod::Bulk
        );
        assert_eq!(
            choose(Operation::Insert, 5000, 1, 10_000).0,
            WriteMethod::Collections,
            "thresholds are knobs"
        );
    }
}
