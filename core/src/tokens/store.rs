//! Where the current access token lives, so several clients can share one.
//!
//! The [`TokenManager`](super::TokenManager) consults its store before running a grant:
//! if another client (or, with a shared store, another process) already holds a newer
//! token than the one that failed, that token is adopted and no grant is made. The trait
//! is async (boxed futures, no `async_trait` dependency) because the shared store that
//! comes later talks to Redis; [`MemoryTokenStore`] is the in-process implementation,
//! shared by handing the same `Arc` to several builders.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use futures::future::BoxFuture;
use parking_lot::Mutex;
use url::Url;

use super::secret::Secret;
use crate::error::Error;

/// An access token as issued: the bearer value, where to send it, and when it was issued.
#[derive(Clone)]
pub struct AccessToken {
    pub(crate) value: Secret,
    pub(crate) instance_url: Url,
    pub(crate) issued_at: SystemTime,
    /// Local sequence number: bumps each time this client adopts a new token.
    pub(crate) generation: u64,
}

impl AccessToken {
    /// Builds a token, e.g. for a custom [`TokenStore`] that deserialises one.
    pub fn new(value: Secret, instance_url: Url, issued_at: SystemTime) -> AccessToken {
        AccessToken {
            value,
            instance_url,
            issued_at,
            generation: 0,
        }
    }
    /// The bearer value (send it, never log it).
    pub fn secret(&self) -> &Secret {
        &self.value
    }
    /// The instance base URL the token is valid for.
    pub fn instance_url(&self) -> &Url {
        &self.instance_url
    }
    /// When the token was issued.
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &self.value)
            .field("instance_url", &self.instance_url.as_str())
            .field("issued_at", &self.issued_at)
            .field("generation", &self.generation)
            .finish()
    }
}

/// Storage for tokens, keyed by the grant's identity (client id, and user where one applies).
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The stored token for `key`, if any.
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<AccessToken>, Error>>;
    /// Replaces the stored token for `key`.
    fn save<'a>(&'a self, key: &'a str, token: &'a AccessToken)
        -> BoxFuture<'a, Result<(), Error>>;
}

/// An in-process [`TokenStore`]; clone the `Arc` into several builders to share tokens.
#[derive(Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<HashMap<String, AccessToken>>,
}

impl MemoryTokenStore {
    /// An empty store behind an `Arc`, ready to share.
    pub fn shared() -> Arc<MemoryTokenStore> {
        Arc::new(MemoryTokenStore::default())
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTokenStore")
            .field("entries", &self.tokens.lock().len())
            .finish()
    }
}

impl TokenStore for MemoryTokenStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<AccessToken>, Error>> {
        let token = self.tokens.lock().get(key).cloned();
        Box::pin(async move { Ok(token) })
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        token: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.tokens.lock().insert(key.to_owned(), token.clone());
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_store_round_trips_and_redacts() {
        let store = MemoryTokenStore::shared();
        assert!(store.load("k").await.unwrap().is_none());
        let t = AccessToken::new(
            "00D!secret".into(),
            Url::parse("https://x.my.salesforce.com").unwrap(),
            SystemTime::now(),
        );
        store.save("k", &t).await.unwrap();
        let back = store.load("k").await.unwrap().unwrap();
        assert_eq!(back.secret().expose(), "00D!secret");
        assert!(!format!("{back:?}").contains("secret\""));
        assert!(!format!("{back:?}").contains("00D!"));
    }
}
