//! `NativeClient`: one core client, built from the same settings as every binding.
//!
//! Configuration: the Kotlin builder hands over the environment-style settings
//! (`SFSCALE_INSTANCE_URL`, `SFSCALE_CLIENT_ID`, ...) as a map, which goes to the core's own
//! `ClientBuilder::from_lookup`, so the grant is chosen by the core's documented rule whether
//! the values come from the builder or the environment (`fromEnv()` reads the builder's
//! values first, then the variables); knobs without a variable come as a [`Knobs`] record,
//! each one builder call. Bad values are the core's `CONFIG` error naming the setting.
//!
//! Every method converts, calls the core on its runtime (see `task`), and converts back.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sfscale::rest::{RecordResult, Subrequest};
use sfscale::{ClientBuilder, Priority};

use crate::bulk::NativeBulk;
use crate::errors::{info, invalid, setting, ErrorInfo, FfiError};
use crate::json;
use crate::listen::{Dispatcher, JsonListener};
use crate::queue::{NativeQueue, QueueOptions};
use crate::records::NativeRecords;
use crate::task::on_core;

/// Builder knobs without an environment variable; `None` keeps the core's default.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct Knobs {
    /// `limits_pace_band`.
    pub pace_band: Option<f64>,
    /// `retry_max_attempts`.
    pub retry_max_attempts: Option<i32>,
    /// `retry_backoff` base, milliseconds (with the cap).
    pub retry_backoff_base_ms: Option<i64>,
    /// `retry_backoff` cap, milliseconds.
    pub retry_backoff_cap_ms: Option<i64>,
    /// `scheduler_concurrency`: initial, min, max.
    pub concurrency: Option<Vec<i32>>,
    /// `query_batch_size`.
    pub query_batch_size: Option<i32>,
    /// `http_request_timeout`, milliseconds.
    pub request_timeout_ms: Option<i64>,
    /// `http_connect_timeout`, milliseconds.
    pub connect_timeout_ms: Option<i64>,
    /// `limits_reserve_wait`, milliseconds.
    pub reserve_wait_ms: Option<i64>,
    /// `scheduler_developer_edition`.
    pub developer_edition: bool,
}

/// A non-negative integer setting, or the core's `CONFIG` error naming it.
pub fn natural<T: TryFrom<i64>>(name: &str, value: i64) -> Result<T, FfiError> {
    T::try_from(value).map_err(|_| setting(name, format!("{value} is out of range")))
}

/// Milliseconds as a duration (negative refused, naming the setting).
pub fn millis(name: &str, value: i64) -> Result<Duration, FfiError> {
    Ok(Duration::from_millis(natural(name, value)?))
}

fn apply(mut b: ClientBuilder, k: Knobs) -> Result<ClientBuilder, FfiError> {
    if let Some(band) = k.pace_band {
        b = b.limits_pace_band(band);
    }
    if let Some(n) = k.retry_max_attempts {
        b = b.retry_max_attempts(natural("retry_max_attempts", n.into())?);
    }
    if let (Some(base), Some(cap)) = (k.retry_backoff_base_ms, k.retry_backoff_cap_ms) {
        b = b.retry_backoff(
            millis("retry_backoff", base)?,
            millis("retry_backoff", cap)?,
        );
    }
    if let Some(c) = k.concurrency {
        let [initial, min, max] = <[i32; 3]>::try_from(c)
            .map_err(|_| setting("concurrency", "needs [initial, min, max]"))?;
        let n = |v: i32| natural::<u32>("concurrency", v.into());
        b = b.scheduler_concurrency(n(initial)?, n(min)?, n(max)?);
    }
    if let Some(n) = k.query_batch_size {
        b = b.query_batch_size(natural("query_batch_size", n.into())?);
    }
    if let Some(ms) = k.request_timeout_ms {
        b = b.http_request_timeout(millis("request_timeout", ms)?);
    }
    if let Some(ms) = k.connect_timeout_ms {
        b = b.http_connect_timeout(millis("connect_timeout", ms)?);
    }
    if let Some(ms) = k.reserve_wait_ms {
        b = b.limits_reserve_wait(millis("reserve_wait", ms)?);
    }
    if k.developer_edition {
        b = b.scheduler_developer_edition();
    }
    Ok(b)
}

/// The priority named `name` (`critical`, `normal`, `background`).
pub fn priority(name: &str) -> Result<Priority, FfiError> {
    match name {
        "critical" => Ok(Priority::Critical),
        "normal" => Ok(Priority::Normal),
        "background" => Ok(Priority::Background),
        other => Err(invalid(format!(
            "unknown priority '{other}' (critical, normal, background)"
        ))),
    }
}

/// An upsert's outcome.
#[derive(Debug, Clone, uniffi::Record)]
pub struct UpsertOutcome {
    /// The record id (absent only for API v45.0 and earlier 204 answers).
    pub id: Option<String>,
    /// Whether a record was inserted.
    pub created: bool,
}

/// One record's outcome in a collections call.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RecordOutcome {
    /// Position in the caller's input.
    pub index: i64,
    /// The record id, when known.
    pub id: Option<String>,
    /// Whether it was saved.
    pub success: bool,
    /// For upserts: whether it was inserted.
    pub created: Option<bool>,
    /// Salesforce's errors as a JSON array of `{statusCode, message, fields}`.
    pub errors_json: String,
    /// The first error as the core reports it (input row set).
    pub error: Option<ErrorInfo>,
}

fn outcome(r: RecordResult) -> RecordOutcome {
    let errors: Vec<serde_json::Value> = r
        .errors
        .iter()
        .map(|e| {
            serde_json::json!({"statusCode": e.status_code, "message": e.message, "fields": e.fields})
        })
        .collect();
    RecordOutcome {
        index: i64::try_from(r.index).unwrap_or(i64::MAX),
        id: r.id.clone(),
        success: r.success,
        created: r.created,
        errors_json: serde_json::Value::Array(errors).to_string(),
        error: r.error().as_ref().map(info),
    }
}

fn outcomes(results: Vec<RecordResult>) -> Vec<RecordOutcome> {
    results.into_iter().map(outcome).collect()
}

/// One composite subrequest (body as JSON text).
#[derive(Debug, Clone, uniffi::Record)]
pub struct SubrequestSpec {
    /// `GET`, `POST`, `PATCH`, `DELETE`.
    pub method: String,
    /// The resource URL (`/services/data/vXX.X/...`).
    pub url: String,
    /// Name later subrequests reference this one by.
    pub reference_id: String,
    /// JSON body.
    pub body_json: Option<String>,
}

/// One subrequest's answer.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SubResult {
    /// Its reference id.
    pub reference_id: String,
    /// Its HTTP status.
    pub status: i32,
    /// Its body as JSON text.
    pub body_json: String,
    /// Its headers as a JSON object.
    pub headers_json: String,
}

/// One allocation of `/limits`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LimitValue {
    /// The allocation's name (`DailyApiRequests`, ...).
    pub name: String,
    /// The allocation.
    pub max: i64,
    /// What is left of it.
    pub remaining: i64,
}

fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A Salesforce client (the core's `Client`).
#[derive(uniffi::Object)]
pub struct NativeClient {
    inner: sfscale::Client,
}

#[uniffi::export]
impl NativeClient {
    /// Builds a client from `SFSCALE_*` settings and knobs; with `env`, variables fill the
    /// settings not given.
    #[uniffi::constructor]
    pub fn build(
        settings: HashMap<String, String>,
        knobs: Knobs,
        env: bool,
    ) -> Result<Arc<Self>, FfiError> {
        let lookup = |name: &str| {
            settings.get(name).cloned().or_else(|| {
                env.then(|| std::env::var(name).ok().filter(|v| !v.is_empty()))
                    .flatten()
            })
        };
        let builder = apply(ClientBuilder::from_lookup(lookup)?, knobs)?;
        Ok(Arc::new(NativeClient {
            inner: builder.build()?,
        }))
    }

    /// The same client (shared pipeline) with another priority.
    pub fn with_priority(&self, priority_name: String) -> Result<Arc<Self>, FfiError> {
        Ok(Arc::new(NativeClient {
            inner: self.inner.with_priority(priority(&priority_name)?),
        }))
    }

    /// The same client, its calls in the scheduler's long-running lane.
    pub fn long_running(&self) -> Arc<Self> {
        Arc::new(NativeClient {
            inner: self.inner.long_running(),
        })
    }

    /// A SOQL query's records (`queryAll` with `include_deleted`).
    pub fn query(&self, soql: String, include_deleted: bool) -> Arc<NativeRecords> {
        NativeRecords::new(if include_deleted {
            self.inner.query_all(soql)
        } else {
            self.inner.query(soql)
        })
    }

    /// A reference query served from the cache for `ttl_ms` (JSON array of records).
    pub async fn query_cached(&self, soql: String, ttl_ms: i64) -> Result<String, FfiError> {
        let (c, ttl) = (self.inner.clone(), millis("ttl", ttl_ms)?);
        on_core(async move { json::text(&*c.query_cached(soql, ttl).await?) }).await
    }

    /// Creates a record; its id.
    pub async fn create(&self, object: String, record_json: String) -> Result<String, FfiError> {
        let (c, record) = (self.inner.clone(), json::record(&record_json)?);
        on_core(async move { c.create(&object, &record).await }).await
    }

    /// A record (JSON object) with `fields`, or every field when empty.
    pub async fn get(
        &self,
        object: String,
        id: String,
        fields: Vec<String>,
    ) -> Result<String, FfiError> {
        let c = self.inner.clone();
        on_core(async move {
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            json::text(&c.get(&object, &id, &fields).await?)
        })
        .await
    }

    /// Updates a record.
    pub async fn update(
        &self,
        object: String,
        id: String,
        record_json: String,
    ) -> Result<(), FfiError> {
        let (c, record) = (self.inner.clone(), json::record(&record_json)?);
        on_core(async move { c.update(&object, &id, &record).await }).await
    }

    /// Deletes a record.
    pub async fn delete(&self, object: String, id: String) -> Result<(), FfiError> {
        let c = self.inner.clone();
        on_core(async move { c.delete(&object, &id).await }).await
    }

    /// Upserts a record by external id.
    pub async fn upsert(
        &self,
        object: String,
        external_id_field: String,
        value: String,
        record_json: String,
    ) -> Result<UpsertOutcome, FfiError> {
        let (c, record) = (self.inner.clone(), json::record(&record_json)?);
        let saved =
            on_core(async move { c.upsert(&object, &external_id_field, &value, &record).await })
                .await?;
        Ok(UpsertOutcome {
            id: saved.id,
            created: saved.created,
        })
    }

    /// sObject Collections create (chunks of 200).
    pub async fn create_many(
        &self,
        object: String,
        records_json: String,
        all_or_none: bool,
    ) -> Result<Vec<RecordOutcome>, FfiError> {
        let (c, rows) = (self.inner.clone(), json::records(&records_json)?);
        on_core(async move { c.create_many(&object, &rows, all_or_none).await })
            .await
            .map(outcomes)
    }

    /// sObject Collections update.
    pub async fn update_many(
        &self,
        object: String,
        records_json: String,
        all_or_none: bool,
    ) -> Result<Vec<RecordOutcome>, FfiError> {
        let (c, rows) = (self.inner.clone(), json::records(&records_json)?);
        on_core(async move { c.update_many(&object, &rows, all_or_none).await })
            .await
            .map(outcomes)
    }

    /// sObject Collections upsert by external id.
    pub async fn upsert_many(
        &self,
        object: String,
        external_id_field: String,
        records_json: String,
        all_or_none: bool,
    ) -> Result<Vec<RecordOutcome>, FfiError> {
        let (c, rows) = (self.inner.clone(), json::records(&records_json)?);
        on_core(async move {
            c.upsert_many(&object, &external_id_field, &rows, all_or_none)
                .await
        })
        .await
        .map(outcomes)
    }

    /// sObject Collections delete.
    pub async fn delete_many(
        &self,
        ids: Vec<String>,
        all_or_none: bool,
    ) -> Result<Vec<RecordOutcome>, FfiError> {
        let c = self.inner.clone();
        on_core(async move {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            c.delete_many(&ids, all_or_none).await
        })
        .await
        .map(outcomes)
    }

    /// A composite request.
    pub async fn composite(
        &self,
        subrequests: Vec<SubrequestSpec>,
        all_or_none: bool,
    ) -> Result<Vec<SubResult>, FfiError> {
        let subs = subrequests
            .into_iter()
            .map(|s| {
                let sub = Subrequest::new(&s.method, s.url, s.reference_id);
                Ok(match s.body_json {
                    Some(body) => sub.body(json::value(&body)?),
                    None => sub,
                })
            })
            .collect::<Result<Vec<_>, FfiError>>()?;
        let c = self.inner.clone();
        let answers = on_core(async move { c.composite(all_or_none, subs).await }).await?;
        Ok(answers
            .into_iter()
            .map(|a| SubResult {
                reference_id: a.reference_id,
                status: i32::from(a.http_status_code),
                body_json: a.body.to_string(),
                headers_json: serde_json::Value::Object(a.http_headers).to_string(),
            })
            .collect())
    }

    /// An object's describe (JSON), or the global describe when `object` is `None`.
    pub async fn describe(&self, object: Option<String>) -> Result<String, FfiError> {
        let c = self.inner.clone();
        on_core(async move {
            let body = match object {
                Some(object) => c.describe(&object).await?,
                None => c.describe_global().await?,
            };
            json::text(&*body)
        })
        .await
    }

    /// The org's `/limits`.
    pub async fn limits(&self) -> Result<Vec<LimitValue>, FfiError> {
        let c = self.inner.clone();
        let limits = on_core(async move { c.limits().await }).await?;
        Ok(limits
            .0
            .into_iter()
            .map(|(name, l)| LimitValue {
                name,
                max: signed(l.max),
                remaining: signed(l.remaining),
            })
            .collect())
    }

    /// Bulk API 2.0 (work directory: the core's default).
    pub fn bulk(&self) -> Arc<NativeBulk> {
        NativeBulk::new(self.inner.bulk())
    }

    /// Opens a durable write-behind queue journaled at `path`.
    pub async fn queue(
        &self,
        path: String,
        options: QueueOptions,
    ) -> Result<Arc<NativeQueue>, FfiError> {
        let config = crate::queue::config(path, options)?;
        let c = self.inner.clone();
        let queue = on_core(async move { c.queue(config).await }).await?;
        Ok(NativeQueue::new(queue))
    }

    /// The metrics snapshot as JSON.
    pub fn metrics(&self) -> Result<String, FfiError> {
        Ok(json::text(&self.inner.metrics())?)
    }

    /// The metrics in Prometheus text format.
    pub fn prometheus(&self) -> String {
        self.inner.metrics_prometheus()
    }

    /// Calls `listener` with each event (JSON) from a thread of its own.
    pub fn on_event(&self, listener: Arc<dyn JsonListener>) -> Result<(), FfiError> {
        let dispatcher = Dispatcher::new(listener)?;
        self.inner.on_event(move |event| dispatcher.send(event));
        Ok(())
    }

    /// OAuth grants this client's token cache has made.
    pub fn token_grants(&self) -> i64 {
        signed(self.inner.token_grants())
    }
}
