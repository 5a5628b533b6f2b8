//! A local, wire-faithful Salesforce API server for testing and load-testing sfscale (and
//! any other Salesforce client) on one machine.
//!
//! It serves OAuth, REST, sObject Collections, Composite and Bulk API 2.0 over real HTTP on
//! loopback, and models what hurts at scale: the daily API allocation, the concurrent
//! long-running request limit, parent-row locking, session expiry, latency and injected
//! faults. The wire facts it follows are in `shared/salesforce-wire.md`; it shares no code
//! with the sfscale client so a misreading cannot hide on both sides.

pub mod auth;
pub mod bulk;
pub mod config;
pub mod control;
pub mod error;
pub mod faults;
pub mod ids;
pub mod locks;
pub mod rest;
pub mod schema;
pub mod server;
pub mod soql;
pub mod state;
pub mod stats;
pub mod store;
pub mod tls;
pub mod values;

pub use config::Config;
pub use server::{Emulator, StartError};
