//! A record stream read in batches, for callers that hand records across a boundary (a
//! language binding) where one crossing per record would cost more than the record.
//!
//! [`RecordBatches::next_batch`] waits for one record, then takes every record already in
//! memory behind it, up to a maximum, so a batch never waits for a page that has not
//! arrived. The stream ends for good at its end or its first error (a finished stream is
//! never polled again); an error met after some records is returned by the next call, so
//! the records read before it are delivered first.

use futures::stream::BoxStream;
use futures::{FutureExt as _, StreamExt as _};

use crate::error::Error;
use crate::rest::Record;

/// A stream of records (REST query, Bulk query).
pub type RecordStream = BoxStream<'static, Result<Record, Error>>;

/// A record stream, read a batch at a time.
pub struct RecordBatches {
    stream: Option<RecordStream>,
    error: Option<Error>,
}

impl RecordBatches {
    /// Reads `stream` in batches.
    pub fn new(stream: RecordStream) -> RecordBatches {
        RecordBatches {
            stream: Some(stream),
            error: None,
        }
    }

    /// Waits for the next record, then takes those already in memory behind it, at most
    /// `max` in all; an empty batch means the end.
    pub async fn next_batch(&mut self, max: usize) -> Result<Vec<Record>, Error> {
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
            if batch.len() >= max {
                break;
            }
        }
        Ok(batch)
    }

    /// Ends the stream now: no further page is requested.
    pub fn close(&mut self) {
        (self.stream, self.error) = (None, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn record(n: usize) -> Record {
        let mut r = Record::new();
        r.insert("n".into(), n.into());
        r
    }

    fn batches(items: Vec<Result<Record, Error>>) -> RecordBatches {
        RecordBatches::new(stream::iter(items).boxed())
    }

    #[tokio::test]
    async fn records_read_before_an_error_come_first_then_the_error_then_the_end() {
        let mut b = batches(vec![
            Ok(record(1)),
            Ok(record(2)),
            Err(Error::invalid_input("boom")),
        ]);
        assert_eq!(b.next_batch(10).await.unwrap(), [record(1), record(2)]);
        assert_eq!(b.next_batch(10).await.unwrap_err().code(), "INVALID_INPUT");
        assert!(b.next_batch(10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_batch_holds_at_most_max_records_and_a_closed_stream_is_ended() {
        let mut b = batches((0..25).map(|i| Ok(record(i))).collect());
        assert_eq!(b.next_batch(10).await.unwrap().len(), 10);
        assert_eq!(b.next_batch(10).await.unwrap().len(), 10);
        b.close();
        assert!(b.next_batch(10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_batch_does_not_wait_for_records_that_have_not_arrived() {
        let (tx, rx) = futures::channel::mpsc::unbounded();
        tx.unbounded_send(Ok(record(1))).unwrap();
        let mut b = RecordBatches::new(rx.boxed());
        assert_eq!(b.next_batch(10).await.unwrap(), [record(1)]);
        drop(tx);
        assert!(b.next_batch(10).await.unwrap().is_empty());
    }
}
