//! The control API under `/__emulator/`: what load tests and every language's test suite
//! use to observe and steer the emulator (counters, reset, limits, faults, seeding data).
//!
//! These calls are never counted, never authenticated and never faulted: they describe the
//! org rather than act as a client of it. Bad input gets 400 `{"error": "..."}` naming the
//! problem. `POST reset` clears data, counters, cursors, Bulk jobs and fault rules but keeps
//! sessions valid and limits as last set, so a test can reset between cases without logging
//! in again.

use crate::config::{FaultConfig, Limits};
use crate::error::error_json;
use crate::state::{AppState, Org};
use crate::store::WriteMode;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Largest `POST load` body (seeding a few hundred thousand records at once is fine).
const MAX_LOAD_BYTES: usize = 512 * 1024 * 1024;
/// What secrets are replaced by in `GET config`.
const REDACTED: &str = "<redacted>";

/// The control routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/__emulator/stats", get(stats))
        .route("/__emulator/reset", post(reset))
        .route("/__emulator/expire-sessions", post(expire_sessions))
        .route("/__emulator/limits", get(get_limits).put(put_limits))
        .route("/__emulator/faults", get(get_faults).put(put_faults))
        .route(
            "/__emulator/load",
            post(load).layer(DefaultBodyLimit::max(MAX_LOAD_BYTES)),
        )
        .route("/__emulator/config", get(config))
}

/// The `GET /__emulator/stats` document.
pub fn stats_snapshot(org: &Org) -> Value {
    org.stats
        .snapshot(org.store.counts(), org.bulk.counts_by_state())
}

/// A control request that cannot be carried out.
struct ControlError(String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(json!({"error": self.0}))).into_response()
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ControlError> {
    serde_json::from_slice(body).map_err(|e| ControlError(format!("invalid JSON body: {e}")))
}

fn ok() -> Json<Value> {
    Json(json!({"ok": true}))
}

async fn stats(State(app): State<AppState>) -> Json<Value> {
    Json(stats_snapshot(&app))
}

async fn reset(State(app): State<AppState>) -> Json<Value> {
    app.store.clear();
    app.seed_integration_user();
    app.cursors.clear();
    app.bulk.clear();
    app.faults.clear();
    app.stats.reset();
    ok()
}

async fn expire_sessions(State(app): State<AppState>) -> Json<Value> {
    app.sessions.expire_all();
    ok()
}

async fn get_limits(State(app): State<AppState>) -> Json<Limits> {
    Json(app.limits.read().clone())
}

/// Applies a partial update: only the keys given change; unknown keys or wrong types → 400.
async fn put_limits(
    State(app): State<AppState>,
    body: Bytes,
) -> Result<Json<Limits>, ControlError> {
    let patch: Map<String, Value> = parse(&body)?;
    let mut limits = app.limits.write();
    let Value::Object(mut current) =
        serde_json::to_value(&*limits).map_err(|e| ControlError(e.to_string()))?
    else {
        return Err(ControlError("limits are not an object".into()));
    };
    for (key, value) in patch {
        if !current.contains_key(&key) {
            let known: Vec<&String> = current.keys().collect();
            return Err(ControlError(format!(
                "unknown limit '{key}' (known: {known:?})"
            )));
        }
        current.insert(key, value);
    }
    let updated: Limits = serde_json::from_value(Value::Object(current))
        .map_err(|e| ControlError(format!("invalid limits: {e}")))?;
    *limits = updated.clone();
    Ok(Json(updated))
}

async fn get_faults(State(app): State<AppState>) -> Json<FaultConfig> {
    Json(app.faults.config())
}

async fn put_faults(
    State(app): State<AppState>,
    body: Bytes,
) -> Result<Json<FaultConfig>, ControlError> {
    let config: FaultConfig = parse(&body)?;
    app.faults
        .set(config)
        .map_err(|e| ControlError(e.to_string()))?;
    Ok(Json(app.faults.config()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Load {
    object: String,
    records: Vec<Map<String, Value>>,
}

/// Inserts records straight into the store (no locks, no latency, not counted) and reports
/// each one like an sObject Collections result.
async fn load(State(app): State<AppState>, body: Bytes) -> Result<Json<Value>, ControlError> {
    let load: Load = parse(&body)?;
    let object = app
        .store
        .schema()
        .object(&load.object)
        .ok_or_else(|| ControlError(format!("unknown object '{}'", load.object)))?;
    let mut created = 0;
    let results: Vec<Value> = load
        .records
        .iter()
        .map(|record| {
            match app
                .store
                .changes_from_json(object, record, WriteMode::Insert)
                .and_then(|changes| app.store.insert(object, changes))
            {
                Ok(id) => {
                    created += 1;
                    json!({"id": id, "success": true, "errors": []})
                }
                Err(error) => json!({"id": null, "success": false, "errors": [error_json(&error)]}),
            }
        })
        .collect();
    let failed = results.len() - created;
    Ok(Json(
        json!({"object": object.name, "created": created, "failed": failed, "results": results}),
    ))
}

/// The configuration in force, secrets redacted, current limits and fault rules.
async fn config(State(app): State<AppState>) -> Result<Json<Value>, ControlError> {
    let mut config = serde_json::to_value(&app.config).map_err(|e| ControlError(e.to_string()))?;
    for secret in ["client_secret", "password", "security_token"] {
        config["org"][secret] = json!(REDACTED);
    }
    config["limits"] = json!(*app.limits.read());
    config["faults"] = json!(app.faults.config());
    config["url"] = json!(app.base_url());
    Ok(Json(config))
}
