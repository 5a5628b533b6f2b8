//! The response cache: metadata and reference data are fetched once, not once per call.
//!
//! Describe and global describe change only when an admin deploys, yet naive integrations fetch
//! them before every write; reference queries (record types, price books, a country table) are
//! read far more often than they change. Each costs an API call from the daily allocation. This
//! cache serves them from memory (`moka`) with a TTL per [`EntryKind`] (or per entry, for a
//! caller-chosen reference TTL), and concurrent misses for one key run the loader once
//! (single-flight via `try_get_with`): a burst of 500 tasks asking for `describe(Account)` after
//! a restart makes one request, not 500. Hits, misses and loads are counted in [`Metrics`].
//!
//! Rejected alternatives: a `HashMap` behind a lock (no eviction, no TTL, and a miss storm on
//! cold start) and HTTP-level caching with `If-Modified-Since` alone (still one call per use;
//! the 304 costs the same allocation as the 200).

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::Expiry;

use crate::error::Error;
use crate::observe::{CacheEvent, Metrics};

/// What a cached entry is; decides its default TTL and its metrics label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// `GET /sobjects/{Type}/describe`.
    Describe,
    /// `GET /sobjects/`.
    GlobalDescribe,
    /// A caller-marked reference query (`query_cached`).
    Reference,
}

impl EntryKind {
    /// Stable label for metrics.
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Describe => "describe",
            EntryKind::GlobalDescribe => "global_describe",
            EntryKind::Reference => "reference",
        }
    }
}

/// Cache sizes and default TTLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// TTL of an object describe. Default: 1 h.
    pub describe_ttl: Duration,
    /// TTL of the global describe. Default: 1 h.
    pub global_describe_ttl: Duration,
    /// Default TTL of a reference query. Default: 5 min.
    pub reference_ttl: Duration,
    /// Entries kept at most (least recently used go first). Default: 10 000.
    pub max_entries: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            describe_ttl: Duration::from_secs(3600),
            global_describe_ttl: Duration::from_secs(3600),
            reference_ttl: Duration::from_secs(300),
            max_entries: 10_000,
        }
    }
}

impl CacheConfig {
    /// The default TTL for a kind.
    pub fn ttl(&self, kind: EntryKind) -> Duration {
        match kind {
            EntryKind::Describe => self.describe_ttl,
            EntryKind::GlobalDescribe => self.global_describe_ttl,
            EntryKind::Reference => self.reference_ttl,
        }
    }

    /// Checks that every TTL and the size are non-zero, naming the setting.
    pub fn validate(&self) -> Result<(), Error> {
        let ttls = [
            ("cache_describe_ttl", self.describe_ttl),
            ("cache_global_describe_ttl", self.global_describe_ttl),
            ("cache_reference_ttl", self.reference_ttl),
        ];
        if let Some((setting, _)) = ttls.iter().find(|(_, ttl)| ttl.is_zero()) {
            return Err(Error::config(setting, "must be greater than zero"));
        }
        if self.max_entries == 0 {
            return Err(Error::config("cache_max_entries", "must be at least 1"));
        }
        Ok(())
    }
}

type Key = (EntryKind, String);

/// A cached value and how long it lives.
#[derive(Debug)]
struct Entry<V> {
    value: Arc<V>,
    ttl: Duration,
}

impl<V> Clone for Entry<V> {
    fn clone(&self) -> Self {
        Entry {
            value: Arc::clone(&self.value),
            ttl: self.ttl,
        }
    }
}

/// Expires each entry after its own TTL, counted from when it was stored.
struct PerEntryTtl;

impl<V> Expiry<Key, Entry<V>> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &Key,
        entry: &Entry<V>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// A TTL cache with single-flight loads; clones share entries.
#[derive(Clone)]
pub struct ResponseCache<V: Send + Sync + 'static = serde_json::Value> {
    config: CacheConfig,
    entries: Cache<Key, Entry<V>>,
    metrics: Metrics,
}

impl<V: Send + Sync + 'static> std::fmt::Debug for ResponseCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("config", &self.config)
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl<V: Send + Sync + 'static> ResponseCache<V> {
    /// An empty cache counting into `metrics`.
    pub fn new(config: CacheConfig, metrics: Metrics) -> Result<Self, Error> {
        config.validate()?;
        let entries = Cache::builder()
            .max_capacity(config.max_entries)
            .expire_after(PerEntryTtl)
            .build();
        Ok(ResponseCache {
            config,
            entries,
            metrics,
        })
    }

    /// The cached value for `key`, or the result of `loader` (run once however many callers miss
    /// at the same time), kept for the kind's default TTL. Errors are not cached.
    pub async fn get_or_load<F>(
        &self,
        key: &str,
        kind: EntryKind,
        loader: F,
    ) -> Result<Arc<V>, Error>
    where
        F: Future<Output = Result<V, Error>>,
    {
        self.get_or_load_for(key, kind, self.config.ttl(kind), loader)
            .await
    }

    /// Like [`get_or_load`](Self::get_or_load) with a caller-chosen TTL (e.g. `query_cached(soql, ttl)`).
    pub async fn get_or_load_for<F>(
        &self,
        key: &str,
        kind: EntryKind,
        ttl: Duration,
        loader: F,
    ) -> Result<Arc<V>, Error>
    where
        F: Future<Output = Result<V, Error>>,
    {
        if ttl.is_zero() {
            return Err(Error::invalid_input("cache TTL must be greater than zero"));
        }
        let cache_key = (kind, key.to_owned());
        if let Some(entry) = self.entries.get(&cache_key).await {
            self.metrics.record_cache(kind.name(), CacheEvent::Hit);
            return Ok(entry.value);
        }
        self.metrics.record_cache(kind.name(), CacheEvent::Miss);
        let load = async {
            self.metrics.record_cache(kind.name(), CacheEvent::Load);
            loader.await.map(|value| Entry {
                value: Arc::new(value),
                ttl,
            })
        };
        self.entries
            .try_get_with(cache_key, load)
            .await
            .map(|entry| entry.value)
            .map_err(Error::from_shared)
    }

    /// Drops one entry (e.g. after a metadata deploy).
    pub async fn invalidate(&self, key: &str, kind: EntryKind) {
        self.entries.invalidate(&(kind, key.to_owned())).await;
    }

    /// Drops every entry.
    pub fn invalidate_all(&self) {
        self.entries.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn cache(metrics: &Metrics) -> ResponseCache<String> {
        ResponseCache::new(CacheConfig::default(), metrics.clone()).expect("valid config")
    }

    #[tokio::test]
    async fn a_second_lookup_is_a_hit_and_runs_no_loader() {
        let metrics = Metrics::new();
        let cache = cache(&metrics);
        let first = cache
            .get_or_load("Account", EntryKind::Describe, async {
                Ok("fields".to_owned())
            })
            .await
            .expect("loaded");
        let second = cache
            .get_or_load("Account", EntryKind::Describe, async {
                Err(Error::network("must not run"))
            })
            .await
            .expect("hit");
        assert!(Arc::ptr_eq(&first, &second));
        let counts = metrics.snapshot().cache["describe"];
        assert_eq!((counts.hits, counts.misses, counts.loads), (1, 1, 1));
    }

    #[tokio::test]
    async fn concurrent_misses_for_one_key_make_one_load() {
        let metrics = Metrics::new();
        let cache = cache(&metrics);
        let loads = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (cache, loads, gate) = (cache.clone(), Arc::clone(&loads), Arc::clone(&gate));
                tokio::spawn(async move {
                    cache
                        .get_or_load("global", EntryKind::GlobalDescribe, async move {
                            loads.fetch_add(1, Ordering::SeqCst);
                            gate.notified().await;
                            Ok("sobjects".to_owned())
                        })
                        .await
                })
            })
            .collect();
        while loads.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        gate.notify_waiters();
        for task in tasks {
            assert_eq!(
                task.await.expect("joined").expect("value").as_str(),
                "sobjects"
            );
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!(metrics.snapshot().cache["global_describe"].loads, 1);
    }

    #[tokio::test]
    async fn failed_loads_are_not_cached_and_keep_their_code() {
        let cache = cache(&Metrics::new());
        let err = cache
            .get_or_load("q", EntryKind::Reference, async {
                Err(Error::timeout("slow"))
            })
            .await
            .expect_err("failed");
        assert_eq!(err.code(), "TIMEOUT");
        let value = cache
            .get_or_load("q", EntryKind::Reference, async { Ok("rows".to_owned()) })
            .await
            .expect("retried");
        assert_eq!(value.as_str(), "rows");
    }

    #[tokio::test]
    async fn kinds_do_not_collide_and_invalidate_forces_a_reload() {
        let cache = cache(&Metrics::new());
        cache
            .get_or_load("Account", EntryKind::Describe, async {
                Ok("describe".to_owned())
            })
            .await
            .expect("loaded");
        let reference = cache
            .get_or_load("Account", EntryKind::Reference, async {
                Ok("rows".to_owned())
            })
            .await
            .expect("loaded");
        assert_eq!(reference.as_str(), "rows");
        cache.invalidate("Account", EntryKind::Describe).await;
        let reloaded = cache
            .get_or_load("Account", EntryKind::Describe, async {
                Ok("new describe".to_owned())
            })
            .await
            .expect("reloaded");
        assert_eq!(reloaded.as_str(), "new describe");
    }

    #[test]
    fn each_entry_expires_after_its_own_ttl() {
        let entry = Entry {
            value: Arc::new(()),
            ttl: Duration::from_secs(42),
        };
        let expiry = <PerEntryTtl as Expiry<Key, Entry<()>>>::expire_after_create(
            &PerEntryTtl,
            &(EntryKind::Reference, "q".into()),
            &entry,
            Instant::now(),
        );
        assert_eq!(expiry, Some(Duration::from_secs(42)));
        assert_eq!(
            CacheConfig::default().ttl(EntryKind::Reference),
            Duration::from_secs(300)
        );
    }

    #[tokio::test]
    async fn zero_ttls_are_refused() {
        let err = CacheConfig {
            describe_ttl: Duration::ZERO,
            ..CacheConfig::default()
        }
        .validate()
        .expect_err("invalid");
        assert!(err.to_string().contains("cache_describe_ttl"));
        let cache = cache(&Metrics::new());
        let err = cache
            .get_or_load_for("q", EntryKind::Reference, Duration::ZERO, async {
                Ok("x".to_owned())
            })
            .await
            .expect_err("invalid");
        assert_eq!(err.code(), "INVALID_INPUT");
    }
}
