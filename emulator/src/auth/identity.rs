//! The identity service behind the `id` URL of every token response
//! (`GET <instance>/id/<org id>/<user id>`): who the token acts as, and the org's service
//! URLs. Clients call it to learn the user and the REST base after a login.
//!
//! Like Salesforce's, it answers in plain text when something is wrong (`403
//! Bad_OAuth_Token`, `404 Bad_Id`) rather than with a REST error list, and it is not a data
//! call: it is not counted against the allocation. The token may come as a bearer header or
//! as an `oauth_token` query parameter.

use super::sessions::bearer;
use crate::ids;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::collections::HashMap;

/// `GET` and `POST /id/{org}/{user}`.
pub async fn identity(
    State(app): State<AppState>,
    Path((org, user)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let token = bearer(&headers).or(params.get("oauth_token").map(String::as_str));
    if !token.is_some_and(|t| app.sessions.is_valid(t)) {
        return (StatusCode::FORBIDDEN, "Bad_OAuth_Token").into_response();
    }
    let same = |given: &str, ours: &str| ids::normalize(given).is_some_and(|id| id == ours);
    if !same(&org, &app.org_id) || !same(&user, &app.user_id) {
        return (StatusCode::NOT_FOUND, "Bad_Id").into_response();
    }
    Json(document(&app)).into_response()
}

fn document(app: &AppState) -> serde_json::Value {
    let base = app.base_url();
    let username = &app.config.org.username;
    let nick = username.split('@').next().unwrap_or(username);
    let rest = format!("{base}/services/data/v{{version}}/");
    json!({
        "id": format!("{base}/id/{}/{}", app.org_id, app.user_id),
        "asserted_user": true,
        "user_id": app.user_id,
        "organization_id": app.org_id,
        "username": username,
        "nick_name": nick,
        "display_name": nick,
        "email": username,
        "email_verified": true,
        "active": true,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "timezone": "GMT",
        "is_app_installed": true,
        "urls": {
            "rest": rest,
            "sobjects": format!("{rest}sobjects/"),
            "query": format!("{rest}query/"),
            "limits": format!("{rest}limits/"),
            "profile": format!("{base}/{}", app.user_id),
            "custom_domain": base,
        },
    })
}
