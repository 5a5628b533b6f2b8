//! The state of one emulated org, shared by every handler: configuration, records, locks,
//! sessions, counters, faults, query cursors and bulk jobs.
//!
//! Handlers receive it as axum state (`State<AppState>`). Each part lives in the module
//! that owns its behaviour; this file only puts them together.

use crate::auth::Sessions;
use crate::bulk::BulkJobs;
use crate::config::{Config, Limits};
use crate::faults::Faults;
use crate::ids;
use crate::locks::LockTable;
use crate::rest::QueryCursors;
use crate::schema::{Schema, SchemaError};
use crate::stats::Stats;
use crate::store::{Store, WriteMode};
use parking_lot::RwLock;
use std::sync::Arc;
use std::time::Duration;

/// Key prefix `00D` (Organization) id of the emulated org.
const ORG_PREFIX: &str = "00D";
/// The "pod" characters every minted id carries.
pub const POD: &str = "5g";

/// One emulated org.
pub struct Org {
    /// The configuration the emulator started with (limits below may have changed since).
    pub config: Config,
    /// Limits in force now (`PUT /__emulator/limits` changes them).
    pub limits: RwLock<Limits>,
    pub org_id: String,
    pub user_id: String,
    pub store: Store,
    pub locks: Arc<LockTable>,
    pub stats: Stats,
    pub sessions: Sessions,
    pub faults: Faults,
    pub cursors: QueryCursors,
    pub bulk: BulkJobs,
    /// The URL clients reach this org at (`instance_url`), set once the server has bound.
    pub base_url: std::sync::OnceLock<String>,
}

impl Org {
    /// Builds the org from its config (validates the schema additions).
    pub fn new(config: Config) -> Result<Self, SchemaError> {
        let schema = Arc::new(Schema::build(&config.objects, &config.fields)?);
        let org_id = ids::mint(ORG_PREFIX, POD, 1);
        let user_id = ids::mint("005", POD, 1);
        let store = Store::new(schema, POD, &user_id);
        let org = Org {
            limits: RwLock::new(config.limits.clone()),
            sessions: Sessions::new(&config.org),
            faults: Faults::new(config.faults.clone()),
            org_id,
            user_id,
            store,
            locks: Arc::new(LockTable::default()),
            stats: Stats::default(),
            cursors: QueryCursors::default(),
            bulk: BulkJobs::default(),
            base_url: std::sync::OnceLock::new(),
            config,
        };
        org.seed_integration_user();
        Ok(org)
    }

    /// Stores the integration user every record is owned by, so `Owner.Name` and
    /// `CreatedBy.Email` resolve as in a real org. Runs on an empty store (start and
    /// `reset`), where the first User minted gets exactly `user_id`.
    pub fn seed_integration_user(&self) {
        let user = self
            .store
            .schema()
            .object("User")
            .expect("standard object")
            .clone();
        let username = &self.config.org.username;
        let record = serde_json::json!({
            "Username": username,
            "LastName": "Integration",
            "FirstName": "sfscale",
            "Email": username,
            "Alias": "sfscale",
            "IsActive": true,
        });
        let changes = self
            .store
            .changes_from_json(
                &user,
                record.as_object().expect("object"),
                WriteMode::Insert,
            )
            .expect("the integration user fits the User schema");
        let id = self
            .store
            .insert(&user, changes)
            .expect("an empty store accepts the user");
        debug_assert_eq!(id, self.user_id);
    }

    /// The URL clients reach this org at, e.g. `http://127.0.0.1:41234` (empty before the
    /// server has bound).
    pub fn base_url(&self) -> &str {
        self.base_url.get().map(String::as_str).unwrap_or_default()
    }

    /// The current lock wait.
    pub fn lock_wait(&self) -> Duration {
        Duration::from_millis(self.limits.read().lock_wait_ms)
    }
}

/// Axum state: a cheap handle to the org.
#[derive(Clone)]
pub struct AppState {
    pub org: Arc<Org>,
}

impl std::ops::Deref for AppState {
    type Target = Org;

    fn deref(&self) -> &Org {
        &self.org
    }
}

/// The API version of a `/services/data/vNN.N/...` request, without the `v` (e.g. `62.0`).
///
/// Extract it in handlers with `ApiVersion(version): ApiVersion`; it reads the path, so it
/// works whatever the route's own parameters are. Malformed versions answer 404 NOT_FOUND,
/// as Salesforce does for unknown versions.
#[derive(Debug, Clone)]
pub struct ApiVersion(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ApiVersion {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let segment = parts.uri.path().split('/').nth(3).unwrap_or_default();
        parse_version(segment)
            .map(ApiVersion)
            .ok_or_else(crate::error::ApiError::not_found)
    }
}

/// `v62.0` → `62.0`; anything else → None.
pub fn parse_version(segment: &str) -> Option<String> {
    let rest = segment.strip_prefix('v')?;
    let (major, minor) = rest.split_once('.')?;
    let ok = !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()) && minor == "0";
    ok.then(|| rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soql;

    #[test]
    fn records_are_owned_by_a_stored_integration_user() {
        let org = Org::new(Config::default()).unwrap();
        let account = org.store.schema().object("Account").unwrap().clone();
        let body = serde_json::json!({"Name": "Acme"});
        let changes = org
            .store
            .changes_from_json(&account, body.as_object().unwrap(), WriteMode::Insert)
            .unwrap();
        org.store.insert(&account, changes).unwrap();
        let prepared = soql::prepare(
            org.store.schema(),
            "SELECT Owner.Name, Owner.Username FROM Account",
        )
        .unwrap();
        let result = soql::execute(&org.store, &prepared, false).unwrap();
        let row = result.rows[0].to_json(&prepared, "62.0");
        assert_eq!(row["Owner"]["Name"], "sfscale Integration");
        assert_eq!(row["Owner"]["Username"], org.config.org.username.as_str());
    }
}
