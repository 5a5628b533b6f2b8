//! The error codes the bulk engine itself produces, in one place for bindings and callers to
//! match on. Salesforce's own codes (`REQUIRED_FIELD_MISSING`, `UNABLE_TO_LOCK_ROW`, ...) pass
//! through unchanged in row outcomes; these are the ones Salesforce never sends.
//!
//! | code | where | meaning |
//! |---|---|---|
//! | `BULK_JOB_FAILED` | row outcome, query error | the job ended `Failed` before this row (or the query) was processed; the message is the job's `errorMessage` |
//! | `BULK_JOB_ABORTED` | row outcome | the job was aborted before this row was processed |
//! | `RESULT_MISSING` | row outcome | no result list of the job mentions this row |
//! | `BULK_RUN_BUSY` | run error | another live process drives this run |
//! | `BULK_JOURNAL` | run error | the journal (SQLite) could not be read or written |
//! | `BULK_IO` | run error | a run file could not be read or written (disk full, permissions) |
//! | `INVALID_RESPONSE` | run error | a bulk response body could not be parsed |

/// The job ended `Failed` before the row was processed.
pub const BULK_JOB_FAILED: &str = "BULK_JOB_FAILED";
/// The job was aborted before the row was processed.
pub const BULK_JOB_ABORTED: &str = "BULK_JOB_ABORTED";
/// No result list mentions the row.
pub const RESULT_MISSING: &str = "RESULT_MISSING";
/// Another live process drives the run.
pub const BULK_RUN_BUSY: &str = "BULK_RUN_BUSY";
/// The journal could not be read or written.
pub const BULK_JOURNAL: &str = "BULK_JOURNAL";
/// A run file could not be read or written.
pub const BULK_IO: &str = "BULK_IO";
/// A bulk response body could not be parsed.
pub const INVALID_RESPONSE: &str = "INVALID_RESPONSE";
