//! [`Client`]: the handle users hold. Cheap to clone; every clone shares one pipeline.
//!
//! The client owns nothing but an `Arc` of the pipeline (HTTP pool, token manager, limits
//! guard, scheduler, retry budget, cache, metrics, events), so a clone per task is the
//! intended use: one org's quota, one token and one connection pool serve them all.
//! Operations live beside their wire formats in [`crate::rest`]; this file holds
//! construction and the observability accessors.

use std::sync::Arc;

use crate::config::{ClientBuilder, Config};
use crate::error::Error;
use crate::observe::{Event, MetricsSnapshot};
use crate::pipeline::{Pipeline, Request, Target};
use crate::scheduler::{CostClass, Priority};

/// A Salesforce API client. Build with [`Client::builder`] or [`Client::from_env`].
///
/// Calls made through a clone from [`with_priority`](Self::with_priority) or
/// [`long_running`](Self::long_running) carry that class; everything else is shared.
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) pipeline: Arc<Pipeline>,
    priority: Priority,
    cost: CostClass,
}

impl Client {
    /// A builder with every default; choose a grant with one of its `auth_` methods.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from the `SFSCALE_*` environment variables
    /// (see [`crate::config`] for the list and how the grant is chosen).
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// Builds a client from a validated configuration.
    pub fn from_config(config: Config) -> Result<Client, Error> {
        let pipeline = Arc::new(Pipeline::new(config)?);
        Ok(Client {
            pipeline,
            priority: Priority::Normal,
            cost: CostClass::Normal,
        })
    }

    /// A handle whose calls run at `priority` (critical work continues past the reserve;
    /// background work stops there). Shares everything with `self`.
    pub fn with_priority(&self, priority: Priority) -> Client {
        Client {
            priority,
            ..self.clone()
        }
    }

    /// A handle whose calls are expected to run past 20 s (large queries, big downloads),
    /// so they take a slot in the scheduler's long-running lane.
    pub fn long_running(&self) -> Client {
        Client {
            cost: CostClass::LongRunning,
            ..self.clone()
        }
    }

    /// The priority this handle's calls run at.
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// A request carrying this handle's priority and cost class.
    pub(crate) fn request(
        &self,
        method: reqwest::Method,
        target: Target,
        route: &'static str,
        operation: &'static str,
    ) -> Request {
        Request::new(method, target, route, operation).class(self.priority, self.cost)
    }

    /// The validated configuration this client runs with.
    pub fn config(&self) -> &Config {
        self.pipeline.config()
    }

    /// A point-in-time copy of the client's metrics.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.pipeline.metrics().snapshot()
    }

    /// The metrics in Prometheus text exposition format.
    pub fn metrics_prometheus(&self) -> String {
        self.pipeline.metrics().prometheus()
    }

    /// Calls `callback` for every event (limit thresholds, throttling, token refreshes, ...).
    pub fn on_event(&self, callback: impl Fn(&Event) + Send + Sync + 'static) {
        self.pipeline.events().on_event(Box::new(callback));
    }

    /// A receiver of every event emitted from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.pipeline.events().subscribe()
    }

    /// How many OAuth grants this client has performed.
    pub fn token_grants(&self) -> u64 {
        self.pipeline.tokens().grants()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::Method;

    fn client() -> Client {
        Client::builder()
            .instance_url("http://127.0.0.1:9")
            .auth_client_credentials("id", "s3cr3t-value")
            .build()
            .unwrap()
    }

    #[test]
    fn handles_carry_their_class_and_share_the_pipeline() {
        let base = client();
        let background = base.with_priority(Priority::Background).long_running();
        let request = background.request(
            Method::GET,
            Target::Versioned("query".into()),
            "query",
            "query",
        );
        assert_eq!(
            (request.priority, request.cost),
            (Priority::Background, CostClass::LongRunning)
        );
        let plain = base.request(
            Method::POST,
            Target::Versioned("sobjects/Account".into()),
            "r",
            "create",
        );
        assert_eq!(
            (plain.priority, plain.cost, plain.idempotent),
            (Priority::Normal, CostClass::Normal, false)
        );
        assert!(Arc::ptr_eq(&base.pipeline, &background.pipeline));
    }

    #[test]
    fn debug_output_never_contains_the_secret() {
        let shown = format!("{:?}", client());
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
    }
}
