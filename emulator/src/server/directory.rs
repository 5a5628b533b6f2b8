//! The discovery endpoints every client touches first (wire doc 2.1, 2.2): the version
//! list, the resource directory of one version, `/limits`, and the 404 for everything else.
//!
//! `/limits` reports what the gate and Bulk processing actually consumed, so a client's
//! view of its allocation can be checked against `stats`. Platform limits nothing here
//! consumes are reported at their documented Max with nothing used.

use super::gate::{daily_window, MAX_VERSION, MIN_VERSION};
use crate::error::ApiError;
use crate::state::{ApiVersion, AppState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

/// `DailyBulkV2QueryFileStorageMB` Max (about 1 TB).
const BULK_QUERY_STORAGE_MB: u64 = 976_562;
/// Limits reported but not modelled: (name, Max).
const UNMODELLED_LIMITS: [(&str, u64); 6] = [
    ("DailyAsyncApexExecutions", 250_000),
    ("DailyStreamingApiEvents", 1_000_000),
    ("ConcurrentAsyncGetReportInstances", 200),
    ("HourlyODataCallout", 20_000),
    ("SingleEmail", 5_000),
    ("MassEmail", 5_000),
];
/// Resources listed in a version's directory (the ones the emulator serves).
const RESOURCES: [&str; 5] = ["sobjects", "query", "queryAll", "limits", "composite"];

/// The discovery routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services/data", get(versions))
        .route("/services/data/{version}", get(resources))
        .route("/services/data/{version}/limits", get(limits))
}

/// The release name of a version: 20.0 is Winter '11, three releases a year since.
fn release_label(major: u32) -> String {
    let k = major - MIN_VERSION;
    let season = ["Winter", "Spring", "Summer"][(k % 3) as usize];
    format!("{season} '{:02}", 11 + k / 3)
}

async fn versions() -> Json<Value> {
    let list: Vec<Value> = (MIN_VERSION..=MAX_VERSION)
        .map(|major| json!({"label": release_label(major), "url": format!("/services/data/v{major}.0"), "version": format!("{major}.0")}))
        .collect();
    Json(Value::Array(list))
}

async fn resources(ApiVersion(version): ApiVersion) -> Json<Value> {
    let map: Map<String, Value> = RESOURCES
        .iter()
        .map(|name| {
            (
                name.to_string(),
                json!(format!("/services/data/v{version}/{name}")),
            )
        })
        .collect();
    Json(Value::Object(map))
}

fn limit(max: u64, used: u64) -> Value {
    json!({"Max": max, "Remaining": max.saturating_sub(used)})
}

/// A limit with a per-connected-app sub-object (all usage comes through the one app).
fn limit_with_app(max: u64, used: u64, app: &str) -> Value {
    let mut value = limit(max, used);
    value[app] = limit(max, used);
    value
}

async fn limits(State(app): State<AppState>, _: ApiVersion) -> Json<Value> {
    let limits = app.limits.read().clone();
    let app_name = &app.config.org.app_name;
    let mut map = Map::new();
    map.insert(
        "DailyApiRequests".into(),
        limit_with_app(
            limits.daily_api_requests,
            app.stats.api_usage(daily_window(&limits)),
            app_name,
        ),
    );
    map.insert(
        "DailyBulkApiBatches".into(),
        limit_with_app(
            limits.daily_bulk_batches,
            app.stats.bulk_batches(),
            app_name,
        ),
    );
    map.insert(
        "DailyBulkV2QueryJobs".into(),
        limit(limits.daily_bulk_query_jobs, app.stats.bulk_query_jobs()),
    );
    map.insert(
        "DailyBulkV2QueryFileStorageMB".into(),
        limit(BULK_QUERY_STORAGE_MB, 0),
    );
    for (name, max) in UNMODELLED_LIMITS {
        map.insert(name.into(), limit(max, 0));
    }
    Json(Value::Object(map))
}

/// Every unknown path: 404 `NOT_FOUND` as an error list.
pub async fn not_found() -> ApiError {
    ApiError::not_found()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_labels_follow_the_three_a_year_cycle() {
        assert_eq!(release_label(20), "Winter '11");
        assert_eq!(release_label(59), "Winter '24");
        assert_eq!(release_label(60), "Spring '24");
        assert_eq!(release_label(66), "Spring '26");
    }
}
