//! One Bulk API 2.0 job (ingest or query): its fixed description, its state machine, its
//! counters, and the JobInfo JSON clients poll.
//!
//! Transitions, as `(from, to, who)`; anything not listed is refused with 400
//! `INVALIDJOBSTATE` when a client asks for it, and ignored when the processor does:
//!
//! ```text
//! Open           -> UploadComplete   client  PATCH {"state":"UploadComplete"} (ingest only)
//! Open           -> Aborted          client  PATCH {"state":"Aborted"}
//! UploadComplete -> Aborted          client
//! UploadComplete -> InProgress       processor picks the job up
//! InProgress     -> Aborted          client  (rows not yet processed stay unprocessed)
//! InProgress     -> JobComplete      processor, after its last batch
//! InProgress     -> Failed           processor (bad header or no data, daily batch
//!                                    limit, invalid query, injected failure)
//! ```
//!
//! Query jobs are born in `UploadComplete` (they have no `Open` phase). The table is data,
//! not a `match`, so the tests and this doc read the same list.

use super::csv_io::Dialect;
use crate::values;
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::Notify;

/// A job's state, as named on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum JobState {
    Open,
    UploadComplete,
    InProgress,
    JobComplete,
    Failed,
    Aborted,
}

/// Who asks for a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Client,
    Processor,
}

use Actor::{Client, Processor};
use JobState::*;

/// Every legal transition (see the module doc).
pub const TRANSITIONS: &[(JobState, JobState, Actor)] = &[
    (Open, UploadComplete, Client),
    (Open, Aborted, Client),
    (UploadComplete, Aborted, Client),
    (UploadComplete, InProgress, Processor),
    (InProgress, Aborted, Client),
    (InProgress, JobComplete, Processor),
    (InProgress, Failed, Processor),
];

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Open => "Open",
            UploadComplete => "UploadComplete",
            InProgress => "InProgress",
            JobComplete => "JobComplete",
            Failed => "Failed",
            Aborted => "Aborted",
        }
    }

    /// A wire name → state.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Open,
            UploadComplete,
            InProgress,
            JobComplete,
            Failed,
            Aborted,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// `JobComplete`, `Failed` or `Aborted`.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobComplete | Failed | Aborted)
    }

    /// Whether `actor` may move a job from `self` to `to`.
    pub fn allows(self, to: JobState, actor: Actor) -> bool {
        TRANSITIONS
            .iter()
            .any(|&(f, t, a)| f == self && t == to && a == actor)
    }
}

/// Ingest or query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Ingest,
    Query,
}

impl JobKind {
    /// The path segment (`ingest` / `query`).
    pub fn segment(self) -> &'static str {
        match self {
            JobKind::Ingest => "ingest",
            JobKind::Query => "query",
        }
    }

    /// `jobType` in JobInfo.
    pub fn job_type(self) -> &'static str {
        match self {
            JobKind::Ingest => "V2Ingest",
            JobKind::Query => "V2Query",
        }
    }
}

/// What a job was created with; never changes.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub id: String,
    pub kind: JobKind,
    /// `insert`, `update`, `upsert`, `delete`, `hardDelete`, `query`, `queryAll`.
    pub operation: String,
    /// The object's API name as the schema spells it.
    pub object: String,
    pub external_id_field: Option<String>,
    pub dialect: Dialect,
    /// API version of the creating request, e.g. `62.0`.
    pub api_version: String,
    pub created_by: String,
    pub created_date: String,
}

/// The mutable part guarded together.
#[derive(Debug)]
struct Status {
    state: JobState,
    error_message: Option<String>,
    modstamp: String,
}

/// A job: spec, state and counters. Kind-specific data lives beside it (see `ingest` and
/// `query`).
#[derive(Debug)]
pub struct Job {
    pub spec: JobSpec,
    status: Mutex<Status>,
    /// Set when the job is deleted (or the org reset) so workers stop touching it.
    deleted: AtomicBool,
    /// Woken on every state change (lets tests and tools await a job's end).
    changed: Notify,
    pub processed: AtomicU64,
    pub failed: AtomicU64,
    pub retries: AtomicU64,
    pub processing_ms: AtomicU64,
}

impl Job {
    pub fn new(spec: JobSpec, state: JobState) -> Self {
        let modstamp = spec.created_date.clone();
        Job {
            spec,
            status: Mutex::new(Status {
                state,
                error_message: None,
                modstamp,
            }),
            deleted: AtomicBool::new(false),
            changed: Notify::new(),
            processed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            processing_ms: AtomicU64::new(0),
        }
    }

    pub fn state(&self) -> JobState {
        self.status.lock().state
    }

    /// Moves the job if the table allows it; otherwise returns the state it is in.
    pub fn transition(&self, to: JobState, actor: Actor) -> Result<(), JobState> {
        let mut status = self.status.lock();
        if !status.state.allows(to, actor) {
            return Err(status.state);
        }
        status.state = to;
        status.modstamp = values::now();
        drop(status);
        self.changed.notify_waiters();
        Ok(())
    }

    /// The processor fails the job with `message` (no effect if it already ended).
    pub fn fail(&self, message: impl Into<String>) {
        let mut status = self.status.lock();
        if status.state.allows(Failed, Processor) {
            status.state = Failed;
            status.error_message = Some(message.into());
            status.modstamp = values::now();
            drop(status);
            self.changed.notify_waiters();
        }
    }

    /// Waits until the job is `JobComplete`, `Failed` or `Aborted`, or deleted.
    pub async fn ended(&self) -> JobState {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let state = self.state();
            if state.is_terminal() || self.deleted.load(Ordering::Relaxed) {
                return state;
            }
            notified.await;
        }
    }

    /// Marks the job deleted (workers stop at their next chunk).
    pub fn mark_deleted(&self) {
        self.deleted.store(true, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    /// Whether workers should keep processing this job.
    pub fn is_running(&self) -> bool {
        !self.deleted.load(Ordering::Relaxed) && self.state() == InProgress
    }

    /// JobInfo as returned by create and state changes.
    pub fn info(&self) -> Value {
        let status = self.status.lock();
        let spec = &self.spec;
        let mut info = Map::new();
        info.insert("id".into(), json!(spec.id));
        info.insert("operation".into(), json!(spec.operation));
        info.insert("object".into(), json!(spec.object));
        info.insert("createdById".into(), json!(spec.created_by));
        info.insert("createdDate".into(), json!(spec.created_date));
        info.insert("systemModstamp".into(), json!(status.modstamp));
        info.insert("state".into(), json!(status.state.as_str()));
        if let Some(ext) = &spec.external_id_field {
            info.insert("externalIdFieldName".into(), json!(ext));
        }
        info.insert("concurrencyMode".into(), json!("Parallel"));
        info.insert("contentType".into(), json!("CSV"));
        info.insert("apiVersion".into(), api_version_number(&spec.api_version));
        if spec.kind == JobKind::Ingest {
            let url = format!(
                "services/data/v{}/jobs/ingest/{}/batches",
                spec.api_version, spec.id
            );
            info.insert("contentUrl".into(), json!(url));
        }
        info.insert(
            "lineEnding".into(),
            json!(spec.dialect.line_ending.as_str()),
        );
        info.insert(
            "columnDelimiter".into(),
            json!(spec.dialect.delimiter.as_str()),
        );
        Value::Object(info)
    }

    /// JobInfo with processing counters, as `GET /jobs/{kind}/{id}` returns it.
    pub fn detailed_info(&self) -> Value {
        let mut info = self.info();
        let map = info.as_object_mut().expect("info is an object");
        let ms = self.processing_ms.load(Ordering::Relaxed);
        map.insert("jobType".into(), json!(self.spec.kind.job_type()));
        map.insert(
            "numberRecordsProcessed".into(),
            json!(self.processed.load(Ordering::Relaxed)),
        );
        if self.spec.kind == JobKind::Ingest {
            map.insert(
                "numberRecordsFailed".into(),
                json!(self.failed.load(Ordering::Relaxed)),
            );
        }
        map.insert(
            "retries".into(),
            json!(self.retries.load(Ordering::Relaxed)),
        );
        map.insert("totalProcessingTime".into(), json!(ms));
        if self.spec.kind == JobKind::Ingest {
            map.insert("apiActiveProcessingTime".into(), json!(ms));
            map.insert("apexProcessingTime".into(), json!(0));
        } else {
            map.insert("isPkChunkingSupported".into(), json!(true));
        }
        if let Some(message) = &self.status.lock().error_message {
            map.insert("errorMessage".into(), json!(message));
        }
        info
    }
}

/// `62.0` → the JSON number `62.0`.
fn api_version_number(version: &str) -> Value {
    version
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::csv_io::{Delimiter, LineEnding};

    fn job(kind: JobKind, state: JobState) -> Job {
        let spec = JobSpec {
            id: "7505g0000000001AAA".into(),
            kind,
            operation: "insert".into(),
            object: "Account".into(),
            external_id_field: None,
            dialect: Dialect {
                delimiter: Delimiter::Comma,
                line_ending: LineEnding::Lf,
            },
            api_version: "62.0".into(),
            created_by: "0055g0000000001AAA".into(),
            created_date: "2024-05-01T10:00:00.000+0000".into(),
        };
        Job::new(spec, state)
    }

    #[test]
    fn clients_may_only_close_or_abort_and_only_from_the_listed_states() {
        assert!(Open.allows(UploadComplete, Client));
        assert!(InProgress.allows(Aborted, Client));
        assert!(!InProgress.allows(UploadComplete, Client));
        assert!(!JobComplete.allows(Aborted, Client));
        assert!(
            !Open.allows(InProgress, Client),
            "only the processor starts a job"
        );
        assert!(!Open.allows(JobComplete, Processor));
        let terminal: Vec<_> = [
            Open,
            UploadComplete,
            InProgress,
            JobComplete,
            Failed,
            Aborted,
        ]
        .into_iter()
        .filter(|s| s.is_terminal())
        .collect();
        assert_eq!(terminal, [JobComplete, Failed, Aborted]);
        assert!(
            TRANSITIONS.iter().all(|(from, _, _)| !from.is_terminal()),
            "terminal states are final"
        );
    }

    #[test]
    fn failing_an_ended_job_changes_nothing() {
        let job = job(JobKind::Ingest, InProgress);
        job.transition(JobComplete, Processor).unwrap();
        job.fail("late");
        assert_eq!(job.state(), JobComplete);
        assert!(job.detailed_info().get("errorMessage").is_none());
        assert_eq!(job.transition(Aborted, Client), Err(JobComplete));
    }

    #[test]
    fn info_has_the_wire_shape() {
        let ingest = job(JobKind::Ingest, Open).info();
        assert_eq!(ingest["apiVersion"], json!(62.0));
        assert_eq!(
            ingest["contentUrl"],
            "services/data/v62.0/jobs/ingest/7505g0000000001AAA/batches"
        );
        assert_eq!(ingest["state"], "Open");
        let query = job(JobKind::Query, UploadComplete);
        query.transition(InProgress, Processor).unwrap();
        query.fail("bad");
        let detail = query.detailed_info();
        assert_eq!(
            (detail["jobType"].as_str(), detail["errorMessage"].as_str()),
            (Some("V2Query"), Some("bad"))
        );
        assert!(detail.get("contentUrl").is_none());
    }
}
