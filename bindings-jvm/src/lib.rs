//! `libsfscale_jvm`: the native half of the JVM binding (`io.sfscale:sfscale`).
//!
//! uniffi proc-macros export the objects below; the uniffi bindgen (the `uniffi-bindgen`
//! binary of this crate, same uniffi version) turns the compiled library into Kotlin over
//! JNA (`io.sfscale.ffi`), which the hand-written Kotlin (`CoroutineClient`, suspend + `Flow`)
//! and Java (`SfscaleClient`, `CompletableFuture` + blocking) layers wrap. Every decision is
//! the core's; this crate converts arguments, calls the core and maps results and errors.
//!
//! Values cross the boundary as JSON text (records, describe bodies, metrics, events): one
//! string per call or page instead of a tree of foreign objects per field, and a format both
//! sides already speak exactly. Small fixed shapes (an upsert's outcome, a record result,
//! an error) are uniffi records.
//!
//! - [`task`]: every async export runs on the core's one runtime; dropping it aborts the task.
//! - [`errors`]: the core's error as `FfiException.Core(ErrorInfo)`; the kind list for tests.
//! - [`client`]: `NativeClient` (configuration, CRUD, collections, composite, describe, limits).
//! - [`records`]: `NativeRecords`, a query's records page by page.
//! - [`bulk`]: `NativeBulk` (ingest from rows or a CSV file, resume, write, query).
//! - [`queue`]: `NativeQueue`, the durable write-behind queue.
//! - [`soql`]: `NativeSoql`, the core's SOQL builder (values escaped, never query text).
//! - [`listen`]: listeners (events, progress, queue outcomes) called from a thread of their own.
//! - [`logs`]: the core's `tracing` events forwarded to JVM logging, when asked.
//! - [`json`]: JSON text to core records and back.

// `FfiError` is the boundary's error: the `ErrorInfo` record Kotlin receives, built only on the
// error path. Boxing it is not a type uniffi can lift, so its size is accepted here.
#![allow(clippy::result_large_err)]

mod bulk;
mod client;
mod errors;
mod json;
mod listen;
mod logs;
mod queue;
mod records;
mod soql;
mod task;

uniffi::setup_scaffolding!();
