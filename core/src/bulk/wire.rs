//! The Bulk API 2.0 calls, each one request through the client's pipeline (limits guard,
//! scheduler, token, retry, observe) — never a side channel.
//!
//! Replay safety is set per call: creating a job is a `POST` (a lost answer could leave an
//! orphan `Open` job, harmless: nothing runs until it is closed), so it is not replayed; an
//! upload is not replayed either (a second upload to the same job could double its rows),
//! its failure is handled by aborting the job and starting the chunk over; closing, polling
//! and reading results are idempotent.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use reqwest::header::{HeaderValue, ACCEPT};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::bulk::options::Operation;
use crate::client::Client;
use crate::error::Error;
use crate::pipeline::{Body, Target};

/// What Salesforce says about a job (the fields the engine reads).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct JobInfo {
    /// Job id.
    pub id: String,
    /// `Open`, `UploadComplete`, `InProgress`, `JobComplete`, `Failed`, `Aborted`.
    pub state: String,
    /// Rows processed, failed ones included.
    #[serde(default)]
    pub number_records_processed: u64,
    /// Rows failed.
    #[serde(default)]
    pub number_records_failed: u64,
    /// Why the job failed.
    #[serde(default)]
    pub error_message: Option<String>,
}

impl JobInfo {
    /// Whether Salesforce is done with the job.
    pub fn is_terminal(&self) -> bool {
        matches!(self.state.as_str(), "JobComplete" | "Failed" | "Aborted")
    }
}

/// The three result lists of an ingest job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultList {
    /// `successfulResults/`.
    Successful,
    /// `failedResults/`.
    Failed,
    /// `unprocessedrecords/` (lowercase `r`, as Salesforce spells it).
    Unprocessed,
}

impl ResultList {
    fn path(self) -> &'static str {
        match self {
            ResultList::Successful => "successfulResults/",
            ResultList::Failed => "failedResults/",
            ResultList::Unprocessed => "unprocessedrecords/",
        }
    }
}

/// Bulk calls through one client, counting the requests made.
#[derive(Debug)]
pub struct Wire {
    client: Client,
    calls: AtomicU64,
}

/// A job id as Salesforce issues them (`750…`): checked before it goes into a path.
fn job_path(kind: &str, id: &str, rest: &str) -> Result<Target, Error> {
    if !(id.len() == 15 || id.len() == 18) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::invalid_input(format!(
            "'{id}' is not a Bulk API job id"
        )));
    }
    Ok(Target::Versioned(format!("jobs/{kind}/{id}{rest}")))
}

impl Wire {
    /// Calls go through `client` (its priority and cost class).
    pub fn new(client: Client) -> Wire {
        Wire {
            client,
            calls: AtomicU64::new(0),
        }
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Requests made so far (logical calls; retries inside the pipeline are the pipeline's).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    async fn send(
        &self,
        request: crate::pipeline::Request,
    ) -> Result<crate::http::Response, Error> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.client.pipeline.execute(&request).await
    }

    /// Refreshes the limits guard (`GET /limits`) when its figures are stale, so bulk batches
    /// are admitted against a current `DailyBulkApiBatches` (only `/limits` reports it). A
    /// failed refresh is logged; admission then uses the figure the guard has.
    pub async fn refresh_limits_if_stale(&self) {
        if !self
            .client
            .pipeline
            .guard()
            .is_stale(tokio::time::Instant::now())
        {
            return;
        }
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Err(error) = self.client.limits().await {
            tracing::warn!(%error, "could not refresh the org's limits before admitting bulk batches");
        }
    }

    /// `POST /jobs/ingest`.
    pub async fn create_ingest(
        &self,
        object: &str,
        operation: Operation,
        external_id: Option<&str>,
    ) -> Result<JobInfo, Error> {
        let mut body = json!({"object": object, "operation": operation.wire(), "contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA"});
        if let Some(ext) = external_id {
            body["externalIdFieldName"] = json!(ext);
        }
        let request = self
            .client
            .request(
                Method::POST,
                Target::Versioned("jobs/ingest".into()),
                "bulk.ingest.create",
                "bulk.ingest",
            )
            .object(object)
            .json(&body)?;
        self.send(request).await?.json()
    }

    /// `PUT /jobs/ingest/{id}/batches` with the chunk's CSV.
    pub async fn upload(&self, job_id: &str, object: &str, csv: Bytes) -> Result<(), Error> {
        let mut request = self
            .client
            .request(
                Method::PUT,
                job_path("ingest", job_id, "/batches")?,
                "bulk.ingest.upload",
                "bulk.ingest",
            )
            .object(object)
            .idempotent(false);
        request.body = Some(Body {
            bytes: csv,
            content_type: "text/csv",
        });
        self.send(request).await.map(drop)
    }

    /// `PATCH /jobs/{kind}/{id}` to `UploadComplete` or `Aborted`.
    pub async fn set_state(&self, kind: &str, job_id: &str, state: &str) -> Result<JobInfo, Error> {
        let request = self
            .client
            .request(
                Method::PATCH,
                job_path(kind, job_id, "")?,
                "bulk.job.state",
                "bulk.job",
            )
            .idempotent(true)
            .json(&json!({"state": state}))?;
        self.send(request).await?.json()
    }

    /// `GET /jobs/{kind}/{id}`.
    pub async fn job_info(&self, kind: &str, job_id: &str) -> Result<JobInfo, Error> {
        let request = self.client.request(
            Method::GET,
            job_path(kind, job_id, "")?,
            "bulk.job.info",
            "bulk.job",
        );
        self.send(request).await?.json()
    }

    /// One result list of an ingest job, as CSV.
    pub async fn results(&self, job_id: &str, list: ResultList) -> Result<Bytes, Error> {
        let request = self
            .client
            .request(
                Method::GET,
                job_path("ingest", job_id, &format!("/{}", list.path()))?,
                "bulk.ingest.results",
                "bulk.ingest",
            )
            .header(ACCEPT, HeaderValue::from_static("text/csv"));
        Ok(self.send(request).await?.body)
    }

    /// `POST /jobs/query`.
    pub async fn create_query(&self, soql: &str, all: bool) -> Result<JobInfo, Error> {
        let body = json!({"operation": if all { "queryAll" } else { "query" }, "query": soql, "contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA"});
        let request = self
            .client
            .request(
                Method::POST,
                Target::Versioned("jobs/query".into()),
                "bulk.query.create",
                "bulk.query",
            )
            .json(&body)?;
        self.send(request).await?.json()
    }

    /// One page of a query job's results: the CSV body and the next locator (`None` at the end).
    pub async fn query_page(
        &self,
        job_id: &str,
        locator: Option<&str>,
        max_records: u64,
    ) -> Result<(Bytes, Option<String>), Error> {
        let mut request = self
            .client
            .request(
                Method::GET,
                job_path("query", job_id, "/results")?,
                "bulk.query.results",
                "bulk.query",
            )
            .header(ACCEPT, HeaderValue::from_static("text/csv"))
            .query("maxRecords", max_records.to_string());
        if let Some(locator) = locator {
            request = request.query("locator", locator);
        }
        let response = self.send(request).await?;
        let next = response
            .headers
            .get("sforce-locator")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "null")
            .map(str::to_owned);
        Ok((response.body, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_checked_before_they_reach_a_path() {
        assert!(job_path("ingest", "750XX0000000001AAA", "/batches").is_ok());
        for bad in [
            "../../sobjects/Account",
            "750XX0000000001AA",
            "750XX00000/0001AAA",
        ] {
            assert!(job_path("ingest", bad, "").is_err(), "{bad}");
        }
    }

    #[test]
    fn job_info_reads_the_fields_the_engine_needs() {
        let info: JobInfo = serde_json::from_str(
            r#"{"id":"750XX0000000001AAA","state":"Failed","numberRecordsProcessed":10,"numberRecordsFailed":2,"errorMessage":"boom","apiVersion":59.0}"#,
        )
        .unwrap();
        assert!(info.is_terminal());
        assert_eq!(
            (info.number_records_processed, info.error_message.as_deref()),
            (10, Some("boom"))
        );
        let open: JobInfo =
            serde_json::from_str(r#"{"id":"750XX0000000001AAA","state":"Open"}"#).unwrap();
        assert!(!open.is_terminal());
    }
}
