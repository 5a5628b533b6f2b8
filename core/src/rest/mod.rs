//! The REST operations, each beside the wire format it speaks.
//!
//! Every operation is an `async fn` on [`Client`](crate::Client) that builds a
//! [`Request`](crate::pipeline::Request), runs it through the pipeline and maps the
//! response. Path pieces that come from callers are validated (object and field names as
//! identifiers, record ids by shape) or percent-encoded (external id values), so input
//! cannot redirect a call to another resource.
//!
//! - [`query`]: `query` / `query_all` streams across `nextRecordsUrl`, `query_cached`.
//! - [`batches`]: a record stream read a batch at a time, for the language bindings.
//! - [`sobjects`]: create, get, update, delete, upsert by external id.
//! - [`collections`]: sObject Collections in chunks of 200 with per-record results.
//! - [`composite`]: up to 25 subrequests in one call.
//! - [`describe`]: object and global describe, always cached.
//! - [`limits`]: the org's `/limits`.

pub mod batches;
pub mod collections;
pub mod composite;
pub mod describe;

pub mod limits;
pub mod query;
pub mod sobjects;

mod path;

pub use batches::{RecordBatches, RecordStream};
pub use collections::{RecordError, RecordResult};
pub use composite::{SubResponse, Subrequest};
pub use limits::{Limit, OrgLimits};
pub use query::Record;
pub use sobjects::UpsertResult;
