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

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sfscale::rest::{RecordBatches, RecordStream};

use crate::runtime::{promise, Cancel};

/// Most records per batch.
const BATCH: usize = 2000;

/// The records of one query. Wrapped by an async iterator in `lib/query.js`.
#[napi]
pub struct NativeQuery {
    source: Arc<tokio::sync::Mutex<RecordBatches>>,
}

impl NativeQuery {
    pub fn new(stream: RecordStream) -> Self {
        NativeQuery {
            source: Arc::new(tokio::sync::Mutex::new(RecordBatches::new(stream))),
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
            source.lock().await.next_batch(BATCH).await
        })
    }

    /// Stops the query: drops the stream, so no further page is requested.
    #[napi]
    pub fn close(&self) {
        if let Ok(mut source) = self.source.try_lock() {
            source.close();
        } else {
            let source = Arc::clone(&self.source);
            if let Ok(handle) = crate::runtime::handle() {
                handle.spawn(async move { source.lock().await.close() });
            }
        }
    }
}
