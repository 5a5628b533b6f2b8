//! Bulk API 2.0 (owned by the bulk engineer).

/// Bulk ingest and query jobs.
#[derive(Default)]
pub struct BulkJobs {}
