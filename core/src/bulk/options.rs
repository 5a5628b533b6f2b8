//! What a bulk run is asked to do ([`Operation`], [`GroupBy`]) and the knobs that shape it
//! ([`IngestSettings`]), with their defaults and their validation.
//!
//! Settings are serialisable because the journal keeps them with the run: `resume(run_id)`
//! must continue with the caps and the grouping the run was planned with, not with whatever
//! the resuming process happens to pass.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A Bulk API 2.0 ingest operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Operation {
    /// Create records.
    Insert,
    /// Update records by `Id`.
    Update,
    /// Insert or update by an external id field.
    Upsert,
    /// Delete by `Id` (to the recycle bin).
    Delete,
    /// Delete by `Id`, skipping the recycle bin.
    HardDelete,
}

impl Operation {
    /// The wire name (`insert`, `hardDelete`, ...).
    pub fn wire(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Upsert => "upsert",
            Operation::Delete => "delete",
            Operation::HardDelete => "hardDelete",
        }
    }

    /// Parses a wire name, case-insensitively (`"hard_delete"` also accepted for bindings).
    pub fn parse(name: &str) -> Result<Operation, Error> {
        let all = [
            Operation::Insert,
            Operation::Update,
            Operation::Upsert,
            Operation::Delete,
            Operation::HardDelete,
        ];
        let wanted = name.replace('_', "");
        all.into_iter()
            .find(|op| op.wire().eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "unknown bulk operation '{name}' (insert, update, upsert, delete, hardDelete)"
                ))
            })
    }

    /// Whether a JSON `null` means "set to null" (`#N/A`) rather than "no value".
    pub fn sets_nulls(self) -> bool {
        matches!(self, Operation::Update | Operation::Upsert)
    }

    /// Whether rows are identified by `Id` (update, delete, hardDelete).
    pub fn by_id(self) -> bool {
        matches!(
            self,
            Operation::Update | Operation::Delete | Operation::HardDelete
        )
    }
}

/// How rows are grouped by parent so parallel jobs do not fight over one parent's lock.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum GroupBy {
    /// Infer the parent column from describe (see `bulk::infer::infer_group_by`). Default.
    #[default]
    Infer,
    /// Group by this column (e.g. `AccountId` or `Account.External_Id__c`).
    Field(String),
    /// No grouping: rows go to jobs in input order.
    Off,
}

/// The knobs of an ingest run. Every default is given where it is set, in [`Default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestSettings {
    /// Raw CSV bytes per upload (one upload per job). Salesforce allows 100 MB raw (150 MB
    /// after its base64 step). Default: 100 000 000.
    pub max_upload_bytes: u64,
    /// Rows per job. Bounds one job's memory (its upload and result bodies are held while it
    /// runs) and the work a resume may redo. Default: 100 000.
    pub max_rows_per_job: u64,
    /// Salesforce's internal batch size (10 000). With grouping, a job holds at most this many
    /// rows so that no parent straddles two of the server's batches. Default: 10 000.
    pub batch_rows: u64,
    /// Jobs running at once. Default: 4.
    pub max_parallel_jobs: usize,
    /// Later rounds for rows that failed with `UNABLE_TO_LOCK_ROW`; each round halves the
    /// parallelism and the job size, and the last one runs jobs one at a time. Default: 3.
    pub lock_retry_rounds: u32,
    /// Temp-file buckets rows are spilled to by hash of their parent while grouping. Default: 64.
    pub buckets: usize,
    /// Rows of one bucket grouped in memory; a larger bucket is split again. Default: 200 000.
    pub sort_rows: u64,
    /// First poll delay. Default: 500 ms.
    pub poll_initial: Duration,
    /// Longest poll delay (delays grow ×1.5 up to it, brought forward to a job's expected end;
    /// polling never gives up). Default: 10 s.
    pub poll_max: Duration,
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            max_upload_bytes: 100_000_000,
            max_rows_per_job: 100_000,
            batch_rows: 10_000,
            max_parallel_jobs: 4,
            lock_retry_rounds: 3,
            buckets: 64,
            sort_rows: 200_000,
            poll_initial: Duration::from_millis(500),
            poll_max: Duration::from_secs(10),
        }
    }
}

/// Salesforce's raw upload ceiling.
pub const SALESFORCE_MAX_UPLOAD_BYTES: u64 = 100_000_000;

impl IngestSettings {
    /// Checks every knob, naming the first bad one.
    pub fn validate(&self) -> Result<(), Error> {
        let positive = [
            ("bulk_max_upload_bytes", self.max_upload_bytes),
            ("bulk_max_rows_per_job", self.max_rows_per_job),
            ("bulk_batch_rows", self.batch_rows),
            ("bulk_max_parallel_jobs", self.max_parallel_jobs as u64),
            ("bulk_buckets", self.buckets as u64),
            ("bulk_sort_rows", self.sort_rows),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(Error::config(name, "must be greater than zero"));
        }
        if self.max_upload_bytes > SALESFORCE_MAX_UPLOAD_BYTES {
            return Err(Error::config(
                "bulk_max_upload_bytes",
                format!("above Salesforce's {SALESFORCE_MAX_UPLOAD_BYTES}-byte raw upload limit"),
            ));
        }
        if self.max_upload_bytes < 1024 {
            return Err(Error::config(
                "bulk_max_upload_bytes",
                "must be at least 1024 bytes",
            ));
        }
        if self.poll_initial.is_zero() || self.poll_initial > self.poll_max {
            return Err(Error::config(
                "bulk_poll_initial",
                "must be above zero and not above bulk_poll_max",
            ));
        }
        Ok(())
    }

    /// The settings of lock-retry round `round` (0 = the first pass): parallelism and job size
    /// halve each round; the last allowed round runs one job at a time, each at most one
    /// internal batch, so nothing it runs can contend with anything else it runs.
    pub fn for_round(&self, round: u32) -> IngestSettings {
        let mut s = self.clone();
        if round == 0 {
            return s;
        }
        let shift = round.min(16);
        s.max_parallel_jobs = (self.max_parallel_jobs >> shift).max(1);
        s.max_rows_per_job = (self.max_rows_per_job >> shift).max(200);
        s.batch_rows = (self.batch_rows >> shift).max(200).min(self.batch_rows);
        if round >= self.lock_retry_rounds {
            s.max_parallel_jobs = 1;
            s.max_rows_per_job = s.max_rows_per_job.min(self.batch_rows);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_round_trip_their_wire_names() {
        for op in [
            Operation::Insert,
            Operation::Update,
            Operation::Upsert,
            Operation::Delete,
            Operation::HardDelete,
        ] {
            assert_eq!(Operation::parse(op.wire()).unwrap(), op);
        }
        assert_eq!(
            Operation::parse("hard_delete").unwrap(),
            Operation::HardDelete
        );
        assert!(Operation::parse("merge")
            .unwrap_err()
            .to_string()
            .contains("merge"));
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let mut s = IngestSettings {
            max_parallel_jobs: 0,
            ..IngestSettings::default()
        };
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("bulk_max_parallel_jobs"));
        s.max_parallel_jobs = 2;
        s.max_upload_bytes = 200_000_000;
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("bulk_max_upload_bytes"));
        assert!(IngestSettings::default().validate().is_ok());
    }

    #[test]
    fn later_rounds_are_smaller_and_the_last_is_serial() {
        let s = IngestSettings {
            max_parallel_jobs: 8,
            lock_retry_rounds: 3,
            ..IngestSettings::default()
        };
        assert_eq!(s.for_round(0), s);
        assert_eq!(s.for_round(1).max_parallel_jobs, 4);
        assert_eq!(s.for_round(1).max_rows_per_job, 50_000);
        assert_eq!(s.for_round(2).max_parallel_jobs, 2);
        assert_eq!(s.for_round(3).max_parallel_jobs, 1);
        assert!(
            s.for_round(3).max_rows_per_job <= s.batch_rows,
            "one internal batch per job"
        );
        assert!(s.for_round(3).batch_rows < s.batch_rows);
    }
}
