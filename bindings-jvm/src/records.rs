//! `NativeRecords`: a record stream (REST query, Bulk query) read page by page.
//!
//! Crossing the boundary once per record would cost a foreign call and a JSON document per
//! record, so [`NativeRecords::next_page`] waits for one record, then takes every record that
//! is already in memory (up to [`BATCH`]) and hands them over as one JSON array (the core's
//! [`RecordBatches`]). Memory stays bounded by the core's page size. An error after some
//! records were read is kept and reported by the next call, so records read before it are
//! delivered first. Cancelling a
//! `next_page` call drops the stream (the query ends); `end` does the same on purpose.

use parking_lot::Mutex;
use sfscale::rest::{RecordBatches, RecordStream};

use crate::errors::{invalid, FfiError};
use crate::json;
use crate::task::on_core;

/// Most records handed over per page.
const BATCH: usize = 2000;

enum State {
    /// Readable.
    Open(RecordBatches),
    /// A `next_page` call holds the stream; left as is if that call is cancelled.
    Cancelled,
    /// Ended (the last record was read, an error was reported, or closed).
    Done,
}

/// A query's records, page by page.
#[derive(uniffi::Object)]
pub struct NativeRecords {
    state: Mutex<State>,
}

impl NativeRecords {
    /// Wraps a core stream.
    pub fn new(stream: RecordStream) -> std::sync::Arc<Self> {
        std::sync::Arc::new(NativeRecords {
            state: Mutex::new(State::Open(RecordBatches::new(stream))),
        })
    }
}

#[uniffi::export]
impl NativeRecords {
    /// The next records as a JSON array, or `None` at the end.
    pub async fn next_page(&self) -> Result<Option<String>, FfiError> {
        let taken = std::mem::replace(&mut *self.state.lock(), State::Cancelled);
        let mut batches = match taken {
            State::Open(batches) => batches,
            State::Done => {
                *self.state.lock() = State::Done;
                return Ok(None);
            }
            State::Cancelled => {
                return Err(invalid(
                    "the query was cancelled (or is being read by another call)",
                ))
            }
        };
        let read = on_core(async move {
            let page = batches.next_batch(BATCH).await?;
            Ok((batches, page))
        })
        .await;
        let (state, page) = match read {
            Ok((batches, page)) if !page.is_empty() => (State::Open(batches), Some(page)),
            Ok(_) => (State::Done, None),
            Err(error) => {
                *self.state.lock() = State::Done;
                return Err(error);
            }
        };
        *self.state.lock() = state;
        Ok(page.map(|p| json::text(&p)).transpose()?)
    }

    /// Ends the query now (later pages are never fetched). Not `close`: uniffi objects are
    /// `AutoCloseable` already.
    pub fn end(&self) {
        *self.state.lock() = State::Done;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{stream, StreamExt as _};
    use sfscale::rest::Record;
    use sfscale::Error;

    fn record(n: usize) -> Record {
        let mut r = Record::new();
        r.insert("n".into(), n.into());
        r
    }

    fn pager(items: Vec<Result<Record, Error>>) -> std::sync::Arc<NativeRecords> {
        NativeRecords::new(stream::iter(items).boxed())
    }

    fn count(page: &str) -> usize {
        serde_json::from_str::<Vec<Record>>(page).unwrap().len()
    }

    #[tokio::test]
    async fn records_read_before_an_error_come_first_then_the_error_then_the_end() {
        let p = pager(vec![
            Ok(record(1)),
            Ok(record(2)),
            Err(Error::invalid_input("boom")),
        ]);
        assert_eq!(
            p.next_page().await.unwrap().as_deref(),
            Some(r#"[{"n":1},{"n":2}]"#)
        );
        let FfiError::Core { info } = p.next_page().await.unwrap_err();
        assert_eq!(info.code, "INVALID_INPUT");
        assert_eq!(p.next_page().await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_page_holds_at_most_batch_records() {
        let p = pager((0..BATCH + 500).map(|i| Ok(record(i))).collect());
        assert_eq!(count(&p.next_page().await.unwrap().unwrap()), BATCH);
        assert_eq!(count(&p.next_page().await.unwrap().unwrap()), 500);
        assert_eq!(p.next_page().await.unwrap(), None);
    }

    #[tokio::test]
    async fn ended_queries_stay_ended() {
        let p = pager(vec![Ok(record(1))]);
        p.end();
        assert_eq!(p.next_page().await.unwrap(), None);
    }
}
