//! Open query cursors: what a `nextRecordsUrl` (`/query/<locator>-<offset>`) points at.
//!
//! A query runs once; its result rows stay here, keyed by an 18-character locator with
//! the `01g` key prefix real locators carry, and each "query more" call renders one page
//! of them. A cursor is closed when its last page is served. Since API v56.0 Salesforce
//! keeps locators about two days with no cap on open cursors; an emulator under load
//! cannot keep unbounded memory, so cursors idle longer than [`IDLE_LIMIT`] expire and
//! beyond [`MAX_OPEN`] the least recently used one is evicted. Either way a later fetch
//! answers 400 `INVALID_QUERY_LOCATOR`, which is what a client meets after expiry in a
//! real org.

use crate::ids;
use crate::state::POD;
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Most cursors kept open at once.
pub const MAX_OPEN: usize = 1000;
/// How long an unused cursor lives (Salesforce: about two days).
pub const IDLE_LIMIT: Duration = Duration::from_secs(2 * 24 * 3600);
/// Key prefix of query locators.
const LOCATOR_PREFIX: &str = "01g";

/// A query's result rows, rendered a page at a time.
pub trait Pages: Send + Sync {
    /// Rows the query returned.
    fn row_count(&self) -> usize;
    /// `totalSize`: rows the query matched (equal to `row_count` for row queries).
    fn total_size(&self) -> usize;
    /// The REST JSON of rows `range` for API `version`.
    fn render(&self, range: Range<usize>, version: &str) -> Vec<Value>;
}

/// One open cursor.
#[derive(Clone)]
pub struct Cursor {
    pub pages: Arc<dyn Pages>,
    /// Rows per page the query asked for (`Sforce-Query-Options: batchSize`).
    pub batch_size: usize,
    last_used: Instant,
}

/// The org's open cursors.
#[derive(Default)]
pub struct QueryCursors {
    open: Mutex<HashMap<String, Cursor>>,
    sequence: AtomicU64,
}

impl QueryCursors {
    /// Keeps `pages` for later pages and returns its locator.
    pub fn open(&self, pages: Arc<dyn Pages>, batch_size: usize) -> String {
        let locator = ids::mint(
            LOCATOR_PREFIX,
            POD,
            self.sequence.fetch_add(1, Ordering::Relaxed) + 1,
        );
        let now = Instant::now();
        let mut open = self.open.lock();
        open.retain(|_, c| now.duration_since(c.last_used) < IDLE_LIMIT);
        if open.len() >= MAX_OPEN {
            let oldest = open
                .iter()
                .min_by_key(|(_, c)| c.last_used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                open.remove(&oldest);
            }
        }
        open.insert(
            locator.clone(),
            Cursor {
                pages,
                batch_size,
                last_used: now,
            },
        );
        locator
    }

    /// The cursor behind `locator`, if it is still open.
    pub fn get(&self, locator: &str) -> Option<Cursor> {
        let now = Instant::now();
        let mut open = self.open.lock();
        let cursor = open.get_mut(locator)?;
        if now.duration_since(cursor.last_used) >= IDLE_LIMIT {
            open.remove(locator);
            return None;
        }
        cursor.last_used = now;
        Some(cursor.clone())
    }

    /// Forgets a cursor whose last page was served.
    pub fn close(&self, locator: &str) {
        self.open.lock().remove(locator);
    }

    /// Cursors open now.
    pub fn len(&self) -> usize {
        self.open.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes every cursor (control endpoint `reset`).
    pub fn clear(&self) {
        self.open.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Numbers(usize);

    impl Pages for Numbers {
        fn row_count(&self) -> usize {
            self.0
        }
        fn total_size(&self) -> usize {
            self.0
        }
        fn render(&self, range: Range<usize>, _: &str) -> Vec<Value> {
            range.map(Value::from).collect()
        }
    }

    #[tokio::test]
    async fn locators_are_valid_01g_ids_and_the_least_recently_used_cursor_is_evicted() {
        let cursors = QueryCursors::default();
        let first = cursors.open(Arc::new(Numbers(3)), 200);
        assert_eq!(ids::normalize(&first).as_deref(), Some(first.as_str()));
        assert!(first.starts_with("01g"));
        tokio::time::pause();
        for _ in 1..MAX_OPEN {
            tokio::time::advance(Duration::from_millis(1)).await;
            cursors.open(Arc::new(Numbers(1)), 200);
        }
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(
            cursors.get(&first).is_some(),
            "touching the first cursor makes it recent"
        );
        cursors.open(Arc::new(Numbers(1)), 200);
        assert_eq!(cursors.len(), MAX_OPEN);
        assert!(cursors.get(&first).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn idle_cursors_expire() {
        let cursors = QueryCursors::default();
        let locator = cursors.open(Arc::new(Numbers(5)), 200);
        tokio::time::advance(IDLE_LIMIT).await;
        assert!(cursors.get(&locator).is_none());
        assert!(cursors.is_empty());
    }
}
