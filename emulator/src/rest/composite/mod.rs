//! Composite (`POST /composite`) and Composite Batch (`POST /composite/batch`), wire doc
//! 2.8: up to 25 subrequests in one API call, each answered by the same resource code that
//! answers it over HTTP (dispatched in-process through [`super::dispatch::resource`]).
//!
//! Composite runs subrequests in order and lets later ones use earlier results through
//! `@{refId.field}` / `@{refId.records[0].Id}` references. With `allOrNone: true` the
//! whole request is one transaction: the first failing subrequest rolls back everything,
//! keeps its own error, and every other entry answers 400 `PROCESSING_HALTED`. Without it,
//! each subrequest commits on its own and only subrequests whose references cannot be
//! resolved (because they point at a failed or unknown subrequest) are halted.
//!
//! Composite Batch runs independent subrequests (relative urls `vNN.N/...`, no
//! references, no shared transaction); `haltOnError` answers 412 `BATCH_PROCESSING_HALTED`
//! for every item after the first failure.
//!
//! Files: `request.rs` (body parsing and limits), `references.rs` (`@{...}` resolution),
//! `run.rs` (running subrequests, the transaction, the answers).

mod references;
mod request;
mod run;

pub use run::{batch, composite};
