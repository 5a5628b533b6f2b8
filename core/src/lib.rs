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
#![deny(missing_docs)]

pub mod bulk;
pub mod error;
pub mod retry;
pub mod observe;
pub mod limits;
pub mod scheduler;
pub mod cache;

mod client;
pub mod config;
pub mod http;
pub mod pipeline;
pub mod rest;
pub mod runtime;
pub mod soql;
pub mod tokens;

pub use client::Client;
pub use config::{ClientBuilder, Config};
pub use error::{Error, ErrorKind};
pub use observe::{Event, MetricsSnapshot};
pub use scheduler::{CostClass, Priority};
pub use soql::{Cond, Op, Order, Soql, SoqlValue};
pub use tokens::{AccessToken, Grant, MemoryTokenStore, Secret, TokenStore};
