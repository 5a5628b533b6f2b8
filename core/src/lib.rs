//! sfscale: a Salesforce API client core that keeps integrations alive under high traffic —
//! limit-aware scheduling, retry budgets, token sharing, caching and observability.
//!
//! Start with [`Client::builder`] (or [`Client::from_env`]), then call the operations on
//! [`Client`]: [`Client::query`] streams records across pages, [`Client::upsert`] and the
//! collection calls write, [`Client::metrics`] and [`Client::on_event`] tell you what
//! happened. Every call passes the same pipeline (see [`pipeline`]): cache, limits guard,
//! scheduler, token, HTTP, classify and retry, observe.
//!
//! What users call is re-exported here, flat; the stage modules stay public for readers
//! and for bindings that need a stage's types.
//!
//! ```no_run
//! use futures::TryStreamExt as _;
//! use sfscale::{Client, Priority, Soql};
//!
//! # async fn nightly() -> Result<(), sfscale::Error> {
//! let client = Client::from_env()?; // or Client::builder()...build()?
//! let soql = Soql::select(["Id", "Name"]).from("Account").where_eq("Industry", "Energy").build()?;
//! let mut accounts = client.with_priority(Priority::Background).query(soql);
//! while let Some(account) = accounts.try_next().await? {
//!     println!("{}", account["Name"]);
//! }
//! let saved = client
//!     .upsert("Account", "External_Id__c", "CUST-1", &serde_json::json!({"Name": "Acme"}))
//!     .await?;
//! println!("created: {}, API calls so far: {}", saved.created, client.metrics().requests_total());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod bulk;
pub mod cache;
mod client;
pub mod config;
pub mod error;
pub mod http;
pub mod limits;
pub mod observe;
pub mod pipeline;
pub mod queue;
pub mod rest;
pub mod retry;
pub mod runtime;
pub mod scheduler;
pub mod soql;
pub mod tokens;

pub use client::Client;
pub use config::{ClientBuilder, Config};
pub use error::{Error, ErrorKind};
pub use http::Response;
pub use observe::{Event, MetricsSnapshot};
pub use pipeline::{Request, Target};
pub use queue::{Queue, QueueConfig, Ticket, WriteOp};
pub use rest::{
    Limit, OrgLimits, Record, RecordError, RecordResult, SubResponse, Subrequest, UpsertResult,
};
pub use scheduler::{CostClass, Priority};
pub use soql::{Cond, Op, Order, Soql, SoqlValue};
pub use tokens::{AccessToken, Grant, JwtKey, MemoryTokenStore, Secret, TokenStore};
