//! `client.queue(path, options)`: the core's durable write-behind queue.
//!
//! `enqueue` resolves once the write is journaled (a ticket number); the core's workers
//! coalesce writes into Collections calls or Bulk jobs under the client's pipeline; `flush`
//! waits for every accepted write to settle; `close` flushes and stops. Outcomes reach an
//! `onOutcome` listener through a weak thread-safe function (see `observe`). Every promise
//! (journal, retries, dead letters, backpressure) is the core's; this file converts.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use parking_lot::RwLock;
use serde_json::{Map, Value};
use sfscale::queue::{Queue as CoreQueue, QueueConfig, SyncMode, Ticket, WhenFull, WriteOp};
use sfscale::Error as CoreError;

use crate::client::{priority, record, NativeClient};
use crate::config::{count, millis, number};
use crate::errors::{core_err, invalid, CoreResult};
use crate::observe::{sink, Callback};
use crate::runtime::promise;

/// The queue's configuration from options (each one core knob; durations in ms).
fn config(path: String, options: &Map<String, Value>) -> Result<QueueConfig> {
    let mut c = QueueConfig::new(path);
    for (key, v) in options
        .iter()
        .filter(|(k, v)| !v.is_null() || *k == "bulkThreshold")
    {
        c = knob(c, key, v).map_err(core_err)?;
    }
    Ok(c)
}

fn knob(c: QueueConfig, key: &str, v: &Value) -> CoreResult<QueueConfig> {
    let choice = |options: &'static str| {
        let text = v.as_str().unwrap_or_default().to_owned();
        move || CoreError::invalid_input(format!("{key}: '{text}' ({options})"))
    };
    Ok(match key {
        "sync" => c.sync(match v.as_str() {
            Some("full") => SyncMode::Full,
            Some("normal") => SyncMode::Normal,
            _ => return Err(choice("full, normal")()),
        }),
        "batchSize" => c.batch_size(count(key, v)? as usize),
        "linger" => c.linger(millis(key, number(key, v)?)?),
        "collapseSameKey" => c.collapse_same_key(v.as_bool().unwrap_or(true)),
        "bulkThreshold" if v.is_null() => c.no_bulk(),
        "bulkThreshold" => c.bulk_threshold(count(key, v)? as usize),
        "bulkMaxRows" => c.bulk_max_rows(count(key, v)? as usize),
        "bulkDir" => c.bulk_dir(v.as_str().ok_or_else(choice("a path"))?),
        "maxPending" => c.max_pending(count(key, v)?.into()),
        "whenFull" => c.when_full(match v.as_str() {
            Some("wait") => WhenFull::Wait,
            Some("fail") => WhenFull::FailFast,
            _ => return Err(choice("wait, fail")()),
        }),
        "workers" => c.workers(count(key, v)? as usize),
        "retryBackoff" => {
            let pair = v
                .as_array()
                .filter(|a| a.len() == 2)
                .ok_or_else(choice("[baseMs, capMs]"))?;
            c.retry_backoff(
                millis(key, number(key, &pair[0])?)?,
                millis(key, number(key, &pair[1])?)?,
            )
        }
        "priority" => c.priority(
            priority(v.as_str().unwrap_or_default())
                .map_err(|_| choice("critical, normal, background")())?,
        ),
        other => {
            return Err(CoreError::invalid_input(format!(
                "unknown queue option '{other}'"
            )))
        }
    })
}

/// A write-behind queue. Wrapped by `Queue` in `lib/queue.js`.
#[napi]
#[derive(Default)]
pub struct NativeQueue {
    slot: std::sync::Arc<RwLock<Option<CoreQueue>>>,
}

impl NativeQueue {
    fn core(&self) -> Result<CoreQueue> {
        self.slot
            .read()
            .clone()
            .ok_or_else(|| invalid("the queue is not open"))
    }
}

#[napi]
impl NativeQueue {
    #[napi(constructor)]
    pub fn new() -> Self {
        NativeQueue::default()
    }

    /// Opens the journal at `path` for `client` (resolves `null`).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn open<'e>(
        &self,
        env: &'e Env,
        client: &NativeClient,
        path: String,
        options: Map<String, Value>,
    ) -> Result<Object<'e>> {
        let (client, config, slot) = (client.core()?, config(path, &options)?, self.slot.clone());
        promise(env, None, async move {
            let queue = client.queue(config).await?;
            *slot.write() = Some(queue);
            Ok(())
        })
    }

    /// Accepts one write; resolves with its ticket once journaled.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn enqueue<'e>(
        &self,
        env: &'e Env,
        object: String,
        operation: String,
        fields: Value,
        external_id: Option<String>,
        key: Option<String>,
    ) -> Result<Object<'e>> {
        let op = WriteOp::parse(&operation, external_id.as_deref()).map_err(core_err)?;
        let (q, fields) = (self.core()?, record(fields, None)?);
        promise(env, None, async move {
            q.enqueue(&object, op, fields, key.as_deref()).await
        })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn flush<'e>(&self, env: &'e Env) -> Result<Object<'e>> {
        let q = self.core()?;
        promise(env, None, async move { q.flush().await })
    }

    /// Flushes and stops; later calls fail.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn close<'e>(&self, env: &'e Env) -> Result<Object<'e>> {
        let q = self
            .slot
            .write()
            .take()
            .ok_or_else(|| invalid("the queue is not open"))?;
        promise(env, None, q.close())
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn dead_letters<'e>(&self, env: &'e Env, after: f64, limit: u32) -> Result<Object<'e>> {
        let q = self.core()?;
        promise(env, None, async move {
            q.dead_letters(Ticket(after as u64), limit as usize).await
        })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn replay<'e>(
        &self,
        env: &'e Env,
        ticket: f64,
        fixed: Option<Value>,
    ) -> Result<Object<'e>> {
        let fixed = fixed
            .filter(|f| !f.is_null())
            .map(|f| record(f, None))
            .transpose()?;
        let q = self.core()?;
        promise(env, None, async move {
            q.replay(Ticket(ticket as u64), fixed).await
        })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn discard<'e>(&self, env: &'e Env, ticket: f64) -> Result<Object<'e>> {
        let q = self.core()?;
        promise(
            env,
            None,
            async move { q.discard(Ticket(ticket as u64)).await },
        )
    }

    /// Calls `listener` with each settled write as JSON text.
    #[napi(ts_args_type = "listener: (outcome: string) => void")]
    pub fn on_outcome(&self, listener: Callback) -> Result<()> {
        let sink = sink(listener);
        self.core()?.on_outcome(move |event| sink.send(event));
        Ok(())
    }

    /// The queue's counters as JSON text.
    #[napi]
    pub fn stats(&self) -> Result<String> {
        serde_json::to_string(&self.core()?.stats()).map_err(|e| Error::from_reason(e.to_string()))
    }
}
