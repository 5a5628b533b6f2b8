//! The `tracing` span every call runs in.
//!
//! One span per logical call, named `sfscale.call`, with these fields (the pipeline fills the
//! empty ones as they become known; nothing else is recorded, and never a token or a body):
//!
//! | field | set | value |
//! |---|---|---|
//! | `operation` | at creation | `query`, `create`, `upsert`, `bulk.ingest`, ... |
//! | `object` | at creation | the sObject, or empty |
//! | `attempt` | each attempt | 1-based attempt number, replays included |
//! | `status` | each response | HTTP status, or 0 for a transport failure |
//! | `wait_ms` | after admission | ms spent in the limits guard and the scheduler queue |
//!
//! Rejected alternative: a span per attempt. Retries are part of one call; one span with an
//! `attempt` field keeps traces readable, and per-attempt detail goes to events inside it.

use std::time::Duration;

use tracing::field::Empty;
use tracing::Span;

/// The span for one call.
pub fn call_span(operation: &str, object: Option<&str>) -> Span {
    tracing::info_span!(
        "sfscale.call",
        operation,
        object = object.unwrap_or(""),
        attempt = Empty,
        status = Empty,
        wait_ms = Empty
    )
}

/// Records the attempt number and, once known, the status (0 = no response).
pub fn record_attempt(span: &Span, attempt: u32, status: Option<u16>) {
    span.record("attempt", attempt);
    span.record("status", status.unwrap_or(0));
}

/// Records the time spent waiting for admission.
pub fn record_wait(span: &Span, wait: Duration) {
    span.record(
        "wait_ms",
        u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buffer").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn span_carries_the_documented_fields() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = call_span("upsert", Some("Account"));
            record_attempt(&span, 2, Some(503));
            record_wait(&span, Duration::from_millis(1500));
            span.in_scope(|| tracing::info!("attempt done"));
        });
        let out = String::from_utf8(buffer.0.lock().expect("buffer").clone()).expect("utf8");
        for field in [
            "operation=\"upsert\"",
            "object=\"Account\"",
            "attempt=2",
            "status=503",
            "wait_ms=1500",
        ] {
            assert!(out.contains(field), "{field} missing in {out}");
        }
    }
}
