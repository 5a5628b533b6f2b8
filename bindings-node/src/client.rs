//! `NativeClient`: one core client; every method converts its arguments, calls the core on
//! its runtime and hands back a Promise of JSON text (see `runtime::promise`).
//!
//! The core client (cheap to clone) sits in a slot that `close()` empties, so later calls
//! fail with a clear `InvalidInput` error; calls already running keep their own clone.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use parking_lot::RwLock;
use serde_json::{Map, Value};
use sfscale::rest::Subrequest;
use sfscale::Priority;

use crate::bulk::NativeBulk;
use crate::config::{self, millis};
use crate::errors::{core_err, invalid};
use crate::observe::{self, Callback};
use crate::query::NativeQuery;
use crate::runtime::{promise, Cancel};

/// A JS record (a plain object) as a core record; `row` names it in errors.
pub fn record(value: Value, row: Option<usize>) -> Result<Map<String, Value>> {
    match value {
        Value::Object(map) => Ok(map),
        other => {
            let at = row.map_or(String::new(), |r| format!(" (row {r})"));
            Err(invalid(format!(
                "a record must be an object of field name to value{at}, got {other}"
            )))
        }
    }
}

/// JS records as core records.
pub fn records(values: Vec<Value>) -> Result<Vec<Map<String, Value>>> {
    values
        .into_iter()
        .enumerate()
        .map(|(row, v)| record(v, Some(row)))
        .collect()
}

/// The `Priority` named by `name`.
pub fn priority(name: &str) -> Result<Priority> {
    match name {
        "critical" => Ok(Priority::Critical),
        "normal" => Ok(Priority::Normal),
        "background" => Ok(Priority::Background),
        other => Err(invalid(format!(
            "unknown priority '{other}' (critical, normal, background)"
        ))),
    }
}

/// A Salesforce client on the core's pipeline. Wrapped by `Client` in `lib/client.js`.
#[napi]
pub struct NativeClient {
    slot: RwLock<Option<sfscale::Client>>,
}

impl NativeClient {
    fn wrap(client: sfscale::Client) -> Self {
        NativeClient {
            slot: RwLock::new(Some(client)),
        }
    }

    /// The core client, or the error a closed client's use gets.
    pub fn core(&self) -> Result<sfscale::Client> {
        self.slot
            .read()
            .clone()
            .ok_or_else(|| invalid("the client is closed"))
    }
}

#[napi]
impl NativeClient {
    /// Builds a client from options (`env`: the `SFSCALE_*` variables fill what is missing).
    #[napi(constructor)]
    pub fn new(options: Map<String, Value>, env: bool) -> Result<Self> {
        Ok(NativeClient::wrap(
            config::build(&options, env).map_err(core_err)?,
        ))
    }

    #[napi]
    pub fn with_priority(&self, name: String) -> Result<NativeClient> {
        Ok(NativeClient::wrap(
            self.core()?.with_priority(priority(&name)?),
        ))
    }

    #[napi]
    pub fn long_running(&self) -> Result<NativeClient> {
        Ok(NativeClient::wrap(self.core()?.long_running()))
    }

    #[napi]
    pub fn query(&self, soql: String, include_deleted: bool) -> Result<NativeQuery> {
        let c = self.core()?;
        Ok(NativeQuery::new(if include_deleted {
            c.query_all(soql)
        } else {
            c.query(soql)
        }))
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn query_cached<'e>(
        &self,
        env: &'e Env,
        soql: String,
        ttl_ms: f64,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let (c, ttl) = (self.core()?, millis("ttl", ttl_ms).map_err(core_err)?);
        promise(env, cancel, async move { c.query_cached(soql, ttl).await })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn create<'e>(
        &self,
        env: &'e Env,
        object: String,
        fields: Value,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let (c, fields) = (self.core()?, record(fields, None)?);
        promise(env, cancel, async move { c.create(&object, &fields).await })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn get<'e>(
        &self,
        env: &'e Env,
        object: String,
        id: String,
        fields: Vec<String>,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let c = self.core()?;
        promise(env, cancel, async move {
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            c.get(&object, &id, &fields).await
        })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn update<'e>(
        &self,
        env: &'e Env,
        object: String,
        id: String,
        fields: Value,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let (c, fields) = (self.core()?, record(fields, None)?);
        promise(
            env,
            cancel,
            async move { c.update(&object, &id, &fields).await },
        )
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn delete<'e>(
        &self,
        env: &'e Env,
        object: String,
        id: String,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let c = self.core()?;
        promise(env, cancel, async move { c.delete(&object, &id).await })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn upsert<'e>(
        &self,
        env: &'e Env,
        object: String,
        external_id_field: String,
        value: String,
        fields: Value,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let (c, fields) = (self.core()?, record(fields, None)?);
        promise(env, cancel, async move {
            c.upsert(&object, &external_id_field, &value, &fields).await
        })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn create_many<'e>(
        &self,
        env: &'e Env,
        object: String,
        rows: Vec<Value>,
        all_or_none: bool,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let (c, rows) = (self.core()?, records(rows)?);
        promise(env, cancel, async move {
            c.create_many(&object, &rows, all_or_none).await
        })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn update_many<'e>(
        &self,
        env: &'e Env,
        object: String,
        rows: Vec<Value>,
        all_or_none: bool,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let (c, rows) = (self.core()?, records(rows)?);
        promise(env, cancel, async move {
            c.update_many(&object, &rows, all_or_none).await
        })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn upsert_many<'e>(
        &self,
        env: &'e Env,
        object: String,
        external_id_field: String,
        rows: Vec<Value>,
        all_or_none: bool,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let (c, rows) = (self.core()?, records(rows)?);
        promise(env, cancel, async move {
            c.upsert_many(&object, &external_id_field, &rows, all_or_none)
                .await
        })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn delete_many<'e>(
        &self,
        env: &'e Env,
        ids: Vec<String>,
        all_or_none: bool,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let c = self.core()?;
        promise(env, cancel, async move {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            c.delete_many(&ids, all_or_none).await
        })
    }

    /// `subrequests`: `{method, url, referenceId, body?}` objects.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn composite<'e>(
        &self,
        env: &'e Env,
        subrequests: Vec<Value>,
        all_or_none: bool,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let subs = subrequests
            .into_iter()
            .enumerate()
            .map(|(row, v)| subrequest(v, row))
            .collect::<Result<Vec<_>>>()?;
        let c = self.core()?;
        promise(
            env,
            cancel,
            async move { c.composite(all_or_none, subs).await },
        )
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn describe<'e>(
        &self,
        env: &'e Env,
        object: Option<String>,
        cancel: Option<&Cancel>,
    ) -> Result<Object<'e>> {
        let c = self.core()?;
        promise(env, cancel, async move {
            match object {
                Some(object) => c.describe(&object).await,
                None => c.describe_global().await,
            }
        })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn limits<'e>(&self, env: &'e Env, cancel: Option<&Cancel>) -> Result<Object<'e>> {
        let c = self.core()?;
        promise(env, cancel, async move { c.limits().await })
    }

    #[napi]
    pub fn bulk(&self, work_dir: Option<String>) -> Result<NativeBulk> {
        let bulk = self.core()?.bulk();
        Ok(NativeBulk::new(match work_dir {
            Some(dir) => bulk.work_dir(dir),
            None => bulk,
        }))
    }

    /// The metrics snapshot as JSON text.
    #[napi]
    pub fn metrics(&self) -> Result<String> {
        serde_json::to_string(&self.core()?.metrics())
            .map_err(|e| Error::from_reason(e.to_string()))
    }

    #[napi]
    pub fn prometheus(&self) -> Result<String> {
        Ok(self.core()?.metrics_prometheus())
    }

    /// Calls `listener` with each core event as JSON text (never from the core's tasks).
    #[napi(ts_args_type = "listener: (event: string) => void")]
    pub fn on_event(&self, listener: Callback) -> Result<()> {
        let sink = observe::sink(listener);
        self.core()?.on_event(move |event| sink.send(event));
        Ok(())
    }

    #[napi]
    pub fn token_grants(&self) -> Result<f64> {
        Ok(self.core()?.token_grants() as f64)
    }

    #[napi]
    pub fn close(&self) {
        self.slot.write().take();
    }
}

/// `{method, url, referenceId, body?}` as a core subrequest.
fn subrequest(value: Value, row: usize) -> Result<Subrequest> {
    let text = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| invalid(format!("subrequest {row} has no string '{key}'")))
    };
    let sub = Subrequest::new(&text("method")?, text("url")?, text("referenceId")?);
    Ok(match value.get("body") {
        Some(body) if !body.is_null() => sub.body(body.clone()),
        _ => sub,
    })
}
