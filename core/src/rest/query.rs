//! SOQL queries as a stream of records, at most two pages in memory at a time.
//!
//! `GET query?q=` returns up to `batchSize` records (we ask with
//! `Sforce-Query-Options: batchSize=N`, 200..=2000) and, while `done` is false, a
//! `nextRecordsUrl` for the next page. When the stream hands out a page's records, it has
//! already started fetching the next page on its own task, so the download and the server's
//! work overlap the consumer's (a strictly sequential reader waits for a full round trip
//! per page with both sides idle in turn). That is the whole look-ahead: one page, never
//! more, so a million-row extract holds at most two pages, not a million rows, and only one
//! request of a query is ever in flight. A consumer that stops early (drops the stream)
//! aborts the page being fetched; at most that one page was requested for nothing. Each
//! page is its own call through the pipeline (limits, scheduler, retry): a 503 on page 40
//! retries page 40.
//!
//! `query_cached` is for small reference data (record types, a country table): the whole
//! result is collected once, kept for the caller's TTL, and concurrent callers for the
//! same SOQL share one load.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt as _, TryStreamExt as _};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;
use serde::Deserialize;
use tokio::task::JoinHandle;
use tracing::Instrument as _;

use crate::cache::EntryKind;
use crate::client::Client;
use crate::error::Error;
use crate::pipeline::Target;

/// One record as Salesforce returns it: field name → value, plus `attributes`.
pub type Record = serde_json::Map<String, serde_json::Value>;

const QUERY_OPTIONS: HeaderName = HeaderName::from_static("sforce-query-options");

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    done: bool,
    #[serde(default)]
    next_records_url: Option<String>,
    records: Vec<Record>,
}

impl Page {
    /// The next page's locator while `done` is false; the end otherwise.
    fn next_cursor(&self) -> Cursor {
        match (self.done, &self.next_records_url) {
            (false, Some(url)) => Cursor::Next(url.clone()),
            _ => Cursor::End,
        }
    }
}

/// What to fetch next.
enum Cursor {
    First {
        resource: &'static str,
        soql: String,
    },
    Next(String),
    End,
}

/// One fetched page and the cursor after it; `None` past the end.
type Fetched = Option<(Vec<Record>, Cursor)>;

/// The page a query stream reads next: not requested yet (the first page: a stream does
/// nothing until polled), or being fetched on its own task.
enum Ahead {
    Idle(Cursor),
    Fetching(Prefetch),
}

/// A page fetch on its own task, aborted when dropped (the consumer stopped early).
struct Prefetch(JoinHandle<Result<Fetched, Error>>);

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Client {
    /// Runs a SOQL query and streams its records across every page.
    pub fn query(&self, soql: impl Into<String>) -> BoxStream<'static, Result<Record, Error>> {
        self.stream_query("query", soql.into())
    }

    /// Like [`query`](Self::query), including deleted and archived records (`queryAll`).
    pub fn query_all(&self, soql: impl Into<String>) -> BoxStream<'static, Result<Record, Error>> {
        self.stream_query("queryAll", soql.into())
    }

    /// Runs a query once and keeps its records for `ttl`; meant for small reference data.
    /// Concurrent callers with the same SOQL share one load.
    pub async fn query_cached(
        &self,
        soql: impl Into<String>,
        ttl: Duration,
    ) -> Result<Arc<Vec<Record>>, Error> {
        let soql = soql.into();
        let loader = self.query(soql.clone()).try_collect::<Vec<Record>>();
        self.pipeline
            .reference_cache()
            .get_or_load_for(&soql, EntryKind::Reference, ttl, loader)
            .await
    }

    fn stream_query(
        &self,
        resource: &'static str,
        soql: String,
    ) -> BoxStream<'static, Result<Record, Error>> {
        if soql.trim().is_empty() {
            return stream::once(async { Err(Error::invalid_input("the SOQL query is empty")) })
                .boxed();
        }
        let client = self.clone();
        stream::try_unfold(
            Ahead::Idle(Cursor::First { resource, soql }),
            move |ahead| {
                let client = client.clone();
                async move {
                    let fetched = match ahead {
                        Ahead::Idle(cursor) => client.next_page(cursor).await?,
                        Ahead::Fetching(mut prefetch) => match (&mut prefetch.0).await {
                            Ok(fetched) => fetched?,
                            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                            // Only a runtime shutting down cancels the task (we abort it
                            // only when the stream is dropped, and then nobody awaits it).
                            Err(e) => return Err(Error::network(format!("query page: {e}"))),
                        },
                    };
                    Ok(fetched.map(|(records, next)| (records, client.prefetch(next))))
                }
            },
        )
        .map_ok(|records| stream::iter(records.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }

    /// Starts fetching the page at `cursor` on its own task (nothing to fetch past the end).
    fn prefetch(&self, cursor: Cursor) -> Ahead {
        if matches!(cursor, Cursor::End) {
            return Ahead::Idle(cursor);
        }
        let client = self.clone();
        let fetch = async move { client.next_page(cursor).await };
        Ahead::Fetching(Prefetch(tokio::spawn(fetch.in_current_span())))
    }

    async fn next_page(&self, cursor: Cursor) -> Result<Fetched, Error> {
        let request = match cursor {
            Cursor::End => return Ok(None),
            Cursor::First { resource, soql } => self
                .request(
                    Method::GET,
                    Target::Versioned(resource.to_owned()),
                    "query",
                    "query",
                )
                .query("q", soql),
            Cursor::Next(url) => self.request(Method::GET, Target::Path(url), "query", "query"),
        };
        let batch = format!("batchSize={}", self.pipeline.config().query_batch_size);
        let request = request.header(
            QUERY_OPTIONS,
            HeaderValue::from_str(&batch).expect("digits are a valid header"),
        );
        let page: Page = self.pipeline.execute(&request).await?.json()?;
        let next = page.next_cursor();
        Ok(Some((page.records, next)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_follows_next_records_url_until_done() {
        let more: Page = serde_json::from_str(
            r#"{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gX-2",
                "records":[{"attributes":{"type":"Account"},"Id":"001"}]}"#,
        )
        .unwrap();
        assert!(
            matches!(more.next_cursor(), Cursor::Next(u) if u == "/services/data/v62.0/query/01gX-2")
        );
        let last: Page =
            serde_json::from_str(r#"{"totalSize":3,"done":true,"records":[]}"#).unwrap();
        assert!(matches!(last.next_cursor(), Cursor::End));
        // A server that says "not done" without a locator ends the stream rather than looping.
        let odd: Page =
            serde_json::from_str(r#"{"totalSize":3,"done":false,"records":[]}"#).unwrap();
        assert!(matches!(odd.next_cursor(), Cursor::End));
    }
}
