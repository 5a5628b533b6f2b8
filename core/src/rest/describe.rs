//! Describe and global describe, always served from the cache.
//!
//! Metadata changes only when an admin deploys, yet integrations tend to describe before
//! every write. Both calls go through the metadata cache (TTL `cache_describe_ttl`,
//! single-flight), so a burst of tasks describing `Account` after a restart costs one
//! API call. The result is the JSON Salesforce returned, shared behind an `Arc`.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;

use super::path;
use crate::cache::EntryKind;
use crate::client::Client;
use crate::error::Error;
use crate::pipeline::Target;

impl Client {
    /// The full describe of one object (fields, relationships, record types), cached.
    pub async fn describe(&self, object: &str) -> Result<Arc<Value>, Error> {
        let target = Target::Versioned(format!("sobjects/{}/describe", path::name(object)?));
        let request = self
            .request(Method::GET, target, "describe", "describe")
            .object(object);
        let load = async move { self.pipeline.execute(&request).await?.json::<Value>() };
        self.pipeline
            .metadata_cache()
            .get_or_load(object, EntryKind::Describe, load)
            .await
    }

    /// The global describe (every object and its capabilities), cached.
    pub async fn describe_global(&self) -> Result<Arc<Value>, Error> {
        let request = self.request(
            Method::GET,
            Target::Versioned("sobjects/".into()),
            "describe",
            "describe_global",
        );
        let load = async move { self.pipeline.execute(&request).await?.json::<Value>() };
        self.pipeline
            .metadata_cache()
            .get_or_load("", EntryKind::GlobalDescribe, load)
            .await
    }
}
