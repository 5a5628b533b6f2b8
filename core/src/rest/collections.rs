//! sObject Collections: many records per call, with one result per input record.
//!
//! Salesforce takes at most 200 records per collections call and answers 200 with an
//! array of results **in input order** (`{"id","success","errors":[{"statusCode",...}]}`;
//! note `statusCode`, not `errorCode`). We split the input into chunks of 200, run up to
//! [`PARALLEL_CHUNKS`] at a time through the pipeline, and map every result back to the
//! caller's input position, so "row 4,137 failed with DUPLICATE_VALUE" survives chunking.
//!
//! `all_or_none` applies per chunk (that is what Salesforce offers): with it, a failure
//! rolls back its own chunk of 200, whose other records report
//! `ALL_OR_NONE_OPERATION_ROLLED_BACK`; other chunks are unaffected. A chunk whose call
//! fails outright (after the pipeline's retries) reports that error on each of its
//! records, so the results always cover every input and other chunks' work is kept.
//! Only invalid input (a bad object name, an update without `Id`) fails the whole call.

use futures::stream::{self, StreamExt as _};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::path;
use super::query::Record;
use crate::client::Client;
use crate::error::Error;
use crate::pipeline::{Request, Target};
use crate::retry::record_error;

/// Records per collections call (Salesforce's maximum).
pub const CHUNK: usize = 200;
/// Chunks in flight at once for one call; the scheduler still bounds the total.
pub const PARALLEL_CHUNKS: usize = 4;

/// One error on one record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordError {
    /// Salesforce's code, e.g. `DUPLICATE_VALUE`, `ALL_OR_NONE_OPERATION_ROLLED_BACK`.
    pub status_code: String,
    /// Salesforce's message.
    #[serde(default)]
    pub message: String,
    /// Fields concerned.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// The outcome for one input record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordResult {
    /// Position of the record (or id) in the caller's input.
    pub index: usize,
    /// The record id, when known.
    pub id: Option<String>,
    /// Whether this record was saved.
    pub success: bool,
    /// For upserts: whether the record was inserted.
    pub created: Option<bool>,
    /// Why it was not saved.
    pub errors: Vec<RecordError>,
}

impl RecordResult {
    /// The first error as an [`Error`] carrying the input row, if the record failed.
    pub fn error(&self) -> Option<Error> {
        let first = self.errors.first()?;
        Some(record_error(
            &first.status_code,
            &first.message,
            first.fields.clone(),
            self.index as u64,
        ))
    }
}

#[derive(Deserialize)]
struct RawResult {
    #[serde(default)]
    id: Option<String>,
    success: bool,
    #[serde(default)]
    created: Option<bool>,
    #[serde(default)]
    errors: Vec<RecordError>,
}

/// Which collections call to make.
#[derive(Clone, Copy)]
enum Op<'a> {
    Create,
    Update,
    Upsert(&'a str),
}

impl Client {
    /// Creates many records of one object, 200 per call.
    pub async fn create_many(
        &self,
        object: &str,
        records: &[Record],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>, Error> {
        self.save_many(Op::Create, object, records, all_or_none)
            .await
    }

    /// Updates many records of one object; each must carry its `Id`.
    pub async fn update_many(
        &self,
        object: &str,
        records: &[Record],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>, Error> {
        if let Some(row) = records
            .iter()
            .position(|r| !r.get("Id").is_some_and(Value::is_string))
        {
            return Err(Error::invalid_input("update_many: record has no Id").with_row(row as u64));
        }
        self.save_many(Op::Update, object, records, all_or_none)
            .await
    }

    /// Upserts many records of one object by the external id field `ext_field`, which
    /// every record must carry.
    pub async fn upsert_many(
        &self,
        object: &str,
        ext_field: &str,
        records: &[Record],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>, Error> {
        path::name(ext_field)?;
        if let Some(row) = records
            .iter()
            .position(|r| r.get(ext_field).is_none_or(Value::is_null))
        {
            return Err(
                Error::invalid_input(format!("upsert_many: record has no {ext_field}"))
                    .with_row(row as u64),
            );
        }
        self.save_many(Op::Upsert(ext_field), object, records, all_or_none)
            .await
    }

    /// Deletes many records by id, 200 per call.
    pub async fn delete_many(
        &self,
        ids: &[&str],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>, Error> {
        ids.iter()
            .try_for_each(|id| path::record_id(id).map(drop))?;
        let chunks = ids.chunks(CHUNK).enumerate().map(|(n, chunk)| {
            let request = self
                .request(
                    Method::DELETE,
                    Target::Versioned("composite/sobjects".into()),
                    "collections.delete",
                    "delete_many",
                )
                .query("ids", chunk.join(","))
                .query("allOrNone", all_or_none.to_string());
            (n * CHUNK, chunk.len(), Ok(request))
        });
        Ok(self.run_chunks(chunks.collect()).await)
    }

    async fn save_many(
        &self,
        op: Op<'_>,
        object: &str,
        records: &[Record],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>, Error> {
        path::name(object)?;
        let chunks = records
            .chunks(CHUNK)
            .enumerate()
            .map(|(n, chunk)| {
                (
                    n * CHUNK,
                    chunk.len(),
                    self.chunk_request(op, object, chunk, all_or_none),
                )
            })
            .collect::<Vec<_>>();
        Ok(self.run_chunks(chunks).await)
    }

    fn chunk_request(
        &self,
        op: Op<'_>,
        object: &str,
        chunk: &[Record],
        all_or_none: bool,
    ) -> Result<Request, Error> {
        let (method, target, route, operation) = match op {
            Op::Create => (
                Method::POST,
                "composite/sobjects".to_owned(),
                "collections.create",
                "create_many",
            ),
            Op::Update => (
                Method::PATCH,
                "composite/sobjects".to_owned(),
                "collections.update",
                "update_many",
            ),
            Op::Upsert(ext) => (
                Method::PATCH,
                format!("composite/sobjects/{object}/{ext}"),
                "collections.upsert",
                "upsert_many",
            ),
        };
        let records: Vec<Value> = chunk.iter().map(|r| with_type(object, r)).collect();
        let body = json!({ "allOrNone": all_or_none, "records": records });
        // Create is a POST: replaying it after an ambiguous failure would duplicate records.
        let idempotent = !matches!(op, Op::Create);
        self.request(method, Target::Versioned(target), route, operation)
            .object(object)
            .idempotent(idempotent)
            .json(&body)
    }

    /// Runs the chunk requests (offset, length, request) and returns results in input order.
    async fn run_chunks(
        &self,
        chunks: Vec<(usize, usize, Result<Request, Error>)>,
    ) -> Vec<RecordResult> {
        let results = stream::iter(chunks)
            .map(|(offset, len, request)| async move {
                let outcome = match request {
                    Ok(request) => self
                        .pipeline
                        .execute(&request)
                        .await
                        .and_then(|r| r.json::<Vec<RawResult>>()),
                    Err(error) => Err(error),
                };
                chunk_results(offset, len, outcome)
            })
            .buffered(PARALLEL_CHUNKS)
            .collect::<Vec<_>>()
            .await;
        results.into_iter().flatten().collect()
    }
}

/// A copy of `record` with `attributes.type` set (the caller's own `attributes` win).
fn with_type(object: &str, record: &Record) -> Value {
    let mut out = Record::new();
    out.insert("attributes".into(), json!({ "type": object }));
    for (k, v) in record {
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

/// Maps one chunk's answer to results at input positions `offset..offset+len`.
fn chunk_results(
    offset: usize,
    len: usize,
    outcome: Result<Vec<RawResult>, Error>,
) -> Vec<RecordResult> {
    let raw = outcome.and_then(|raw| {
        if raw.len() == len {
            Ok(raw)
        } else {
            Err(Error::new(
                crate::ErrorKind::Salesforce,
                crate::error::codes::INVALID_RESPONSE,
                format!(
                    "collections answered {} results for {len} records",
                    raw.len()
                ),
            ))
        }
    });
    match raw {
        Ok(raw) => raw
            .into_iter()
            .enumerate()
            .map(|(i, r)| RecordResult {
                index: offset + i,
                id: r.id,
                success: r.success,
                created: r.created,
                errors: r.errors,
            })
            .collect(),
        Err(error) => (0..len)
            .map(|i| RecordResult {
                index: offset + i,
                id: None,
                success: false,
                created: None,
                errors: vec![RecordError {
                    status_code: error.code().to_owned(),
                    message: error.message().to_owned(),
                    fields: error.fields().to_vec(),
                }],
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_map_to_input_positions() {
        let raw = vec![
            RawResult {
                id: Some("001A".into()),
                success: true,
                created: Some(true),
                errors: vec![],
            },
            RawResult {
                id: None,
                success: false,
                created: None,
                errors: vec![RecordError {
                    status_code: "DUPLICATE_VALUE".into(),
                    message: "dup".into(),
                    fields: vec!["Name".into()],
                }],
            },
        ];
        let out = chunk_results(400, 2, Ok(raw));
        assert_eq!(out[0].index, 400);
        assert_eq!(out[1].index, 401);
        let err = out[1].error().unwrap();
        assert_eq!((err.code(), err.row()), ("DUPLICATE_VALUE", Some(401)));
        assert!(out[0].error().is_none());
    }

    #[test]
    fn a_failed_chunk_reports_on_every_record_and_a_short_answer_is_an_error() {
        let out = chunk_results(200, 3, Err(Error::timeout("slow")));
        assert_eq!(out.len(), 3);
        assert!(out
            .iter()
            .all(|r| !r.success && r.errors[0].status_code == "TIMEOUT"));
        assert_eq!(
            out.iter().map(|r| r.index).collect::<Vec<_>>(),
            vec![200, 201, 202]
        );
        let short = chunk_results(
            0,
            2,
            Ok(vec![RawResult {
                id: None,
                success: true,
                created: None,
                errors: vec![],
            }]),
        );
        assert!(short
            .iter()
            .all(|r| r.errors[0].status_code == "INVALID_RESPONSE"));
    }

    #[test]
    fn records_get_their_type_attribute() {
        let mut r = Record::new();
        r.insert("Name".into(), json!("Acme"));
        assert_eq!(
            with_type("Account", &r),
            json!({"attributes": {"type": "Account"}, "Name": "Acme"})
        );
    }
}
