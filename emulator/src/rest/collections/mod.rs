//! sObject Collections (`/composite/sobjects`, wire doc 2.7): create, update, upsert,
//! retrieve and delete up to 200 records in one call.
//!
//! A well-formed call answers 200 with one result per record **in input order**, errors
//! keyed `statusCode`. The call is one transaction: it plans every record first (a record
//! that cannot even be planned — no `attributes.type`, an `Id` on create — fails on its
//! own), then takes all the parent locks of all its records together and holds them for
//! its whole processing time (`row_micros` × records). Records whose locks stay busy past
//! the lock wait fail with `UNABLE_TO_LOCK_ROW`; without `allOrNone` the rest are locked
//! again and saved, as Salesforce's partial-save retry does. With `allOrNone: true` any
//! failure rolls back every write of the call and every other record reports
//! `ALL_OR_NONE_OPERATION_ROLLED_BACK`.
//!
//! Files: `plan.rs` (body, limits, per-record plans), `run.rs` (the transaction),
//! `resource.rs` (the five resources).

mod plan;
mod resource;
mod run;

pub use resource::{create, delete, retrieve, update, upsert};
