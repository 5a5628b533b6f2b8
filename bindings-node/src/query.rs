//! Record streams as batches for the JS layer's async iterator (`for await`).
//!
//! The core streams a query page by page, fetching one page ahead of the reader. Crossing
//! into JS one record at a time would cost a Promise per record, so each `next()` waits for
//! one record and then takes every record already in memory behind it (up to [`BATCH`]),
//! and resolves with them as one JSON array; the JS iterator serves them from a buffer and
//! calls `next()` again only when it is empty. That is the backpressure: the core starts no
//! page beyond the one ahead until JS asks for the next batch, so memory stays bounded by
//! about three pages (the batch in JS, the page read here, the one ahead). An empty array
//! means the end. `close()` drops the stream (a `break` out of `for await`, or an aborted
//! signal), which stops fetching.

use std::sync::Arc;

use futures::stream::BoxStream;
use futures::{FutureExt as _, StreamExt as _};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use sfscale::rest::Record;

use crate::errors::CoreResult;
use crate::runtime::{promise, Cancel};

/// Most records per batch.
const BATCH: usize = 2000;

/// A stream of records (REST query, Bulk query).
pub type Records = BoxStream<'static, CoreResult<Record>>;

/// A record stream that ends for good at its end or its first error (a finished core stream
/// must not be polled again), delivering the records read before an error first.
struct Source {
    stream: Option<Records>,
    error: Option<sfscale::Error>,
}

impl Source {
    /// Waits for the next record, then takes those already buffered behind it.
    async fn next_batch(&mut self) -> CoreResult<Vec<Record>> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        let mut batch = Vec::new();
        while let Some(stream) = self.stream.as_mut() {
            let next = if batch.is_empty() {
                stream.next().await
            } else {
                match stream.next().now_or_never() {
                    Some(next) => next,
                    None => break,
                }
            };
            match next {
                Some(Ok(record)) => batch.push(record),
                Some(Err(error)) if batch.is_empty() => {
                    self.stream = None;
                    return Err(error);
                }
                Some(Err(error)) => (self.stream, self.error) = (None, Some(error)),
                None => self.stream = None,
            }
            if batch.len() >= BATCH {
                break;
            }
        }
        Ok(batch)
    }
}

/// The records of one query. Wrapped by an async iterator in `lib/query.js`.
#[napi]
pub struct NativeQuery {
    source: Arc<tokio::sync::Mutex<Source>>,
}

impl NativeQuery {
    pub fn new(stream: Records) -> Self {
        NativeQuery {
            source: Arc::new(tokio::sync::Mutex::new(Source {
                stream: Some(stream),
                error: None,
            })),
        }
    }
}

#[napi]
impl NativeQuery {
    /// The next batch of records as a JSON array (`[]` at the end).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn next<'e>(&self, env: &'e Env, cancel: Option<&Cancel>) -> Result<Object<'e>> {
        let source = Arc::clone(&self.source);
        promise(env, cancel, async move {
            source.lock().await.next_batch().await
        })
    }

    /// Stops the query: drops the stream, so no further page is requested.
    #[napi]
    pub fn close(&self) {
        if let Ok(mut source) = self.source.try_lock() {
            source.stream = None;
        } else {
            let source = Arc::clone(&self.source);
            if let Ok(handle) = crate::runtime::handle() {
                handle.spawn(async move { source.lock().await.stream = None });
            }
        }
    }
}
