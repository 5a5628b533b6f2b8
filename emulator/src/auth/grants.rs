//! `POST /services/oauth2/token` and `/services/oauth2/revoke` (wire doc 1.1–1.5).
//!
//! Each grant checks what Salesforce checks and fails with the same `error` /
//! `error_description` pair (always HTTP 400, as the wire doc recommends). A success body
//! carries exactly the 1.4 fields — never `expires_in`, because clients must learn expiry
//! from a 401 as they would against a real org. Token calls are not counted against the
//! daily allocation; each successful grant is counted in `token_grants` by type.

use super::identity::identity;
use super::jwt::{self, AssertionError, Claims};
use crate::config::OrgConfig;
use crate::error::ERROR_CODE_HEADER;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use std::collections::HashMap;

/// The `grant_type` of the JWT bearer flow.
pub const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Clock skew allowed on a JWT's `exp`, as Salesforce allows about three minutes.
const EXP_SKEW_SECS: i64 = 180;
/// Audiences every org accepts besides its own URL and `https://*.salesforce.com`.
const LOGIN_AUDIENCES: [&str; 2] = [
    "https://login.salesforce.com",
    "https://test.salesforce.com",
];

/// The token, revoke and identity routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services/oauth2/token", post(token))
        .route(
            "/services/oauth2/revoke",
            post(revoke_form).get(revoke_query),
        )
        .route("/id/{org}/{user}", get(identity).post(identity))
}

/// An OAuth error body `{"error", "error_description"}` with status 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: &'static str,
}

impl OAuthError {
    const fn new(error: &'static str, description: &'static str) -> Self {
        OAuthError { error, description }
    }
}

const AUTH_FAILURE: OAuthError = OAuthError::new("invalid_grant", "authentication failure");
const EXPIRED_TOKEN: OAuthError = OAuthError::new("invalid_grant", "expired access/refresh token");
const BAD_CLIENT_ID: OAuthError = OAuthError::new("invalid_client_id", "client identifier invalid");
const BAD_CLIENT: OAuthError = OAuthError::new("invalid_client", "invalid client credentials");
const BAD_ASSERTION: OAuthError = OAuthError::new("invalid_grant", "invalid assertion");
const BAD_AUDIENCE: OAuthError = OAuthError::new("invalid_grant", "audience is invalid");
const EXPIRED_ASSERTION: OAuthError =
    OAuthError::new("invalid_grant", "expired authorization code");
const NOT_APPROVED: OAuthError =
    OAuthError::new("invalid_grant", "user hasn't approved this consumer");
const UNSUPPORTED_GRANT: OAuthError =
    OAuthError::new("unsupported_grant_type", "grant type not supported");
const MISSING_GRANT: OAuthError = OAuthError::new("invalid_request", "grant type not supported");
const BAD_TOKEN_TYPE: OAuthError =
    OAuthError::new("unsupported_token_type", "this token type is not supported");

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        oauth_error_response(StatusCode::BAD_REQUEST, self.error, self.description)
    }
}

/// An OAuth-shaped error with any status (faults on the token endpoint use it too).
pub fn oauth_error_response(
    status: StatusCode,
    error: &'static str,
    description: &str,
) -> Response {
    let mut response = (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    response
        .headers_mut()
        .insert(ERROR_CODE_HEADER, HeaderValue::from_static(error));
    response
}

type Form = HashMap<String, String>;

fn parse_form(body: &[u8]) -> Form {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// What a successful grant produced.
struct Grant {
    /// Counter key in `token_grants`.
    kind: &'static str,
    /// A refresh token to hand out with this response.
    new_refresh: Option<String>,
    /// The refresh token the session descends from (revoking it ends the session).
    family: Option<String>,
}

async fn token(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = parse_form(&body);
    match grant(&app, &headers, &form) {
        Ok(grant) => {
            app.stats.count_token_grant(grant.kind);
            success(&app, grant).into_response()
        }
        Err(error) => error.into_response(),
    }
}

fn grant(app: &AppState, headers: &HeaderMap, form: &Form) -> Result<Grant, OAuthError> {
    match form.get("grant_type").map(String::as_str) {
        Some("password") => password(app, form),
        Some("client_credentials") => client_credentials(&app.config.org, headers, form),
        Some("refresh_token") => refresh_token(app, form),
        Some(JWT_GRANT) => jwt_bearer(app, form),
        Some(_) => Err(UNSUPPORTED_GRANT),
        None => Err(MISSING_GRANT),
    }
}

/// Checks the consumer key and, when given or required, the secret.
fn check_client(
    org: &OrgConfig,
    id: Option<&str>,
    secret: Option<&str>,
    secret_required: bool,
) -> Result<(), OAuthError> {
    if id != Some(org.client_id.as_str()) {
        return Err(BAD_CLIENT_ID);
    }
    match secret {
        Some(secret) if secret == org.client_secret => Ok(()),
        None if !secret_required => Ok(()),
        _ => Err(BAD_CLIENT),
    }
}

fn field<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.get(name).map(String::as_str)
}

fn password(app: &AppState, form: &Form) -> Result<Grant, OAuthError> {
    let org = &app.config.org;
    check_client(
        org,
        field(form, "client_id"),
        field(form, "client_secret"),
        true,
    )?;
    let user_ok = field(form, "username").is_some_and(|u| u.eq_ignore_ascii_case(&org.username));
    let given = field(form, "password").unwrap_or_default();
    let password_ok = given == org.password
        || given.strip_prefix(org.password.as_str()) == Some(org.security_token.as_str());
    if !(user_ok && password_ok) {
        return Err(AUTH_FAILURE);
    }
    let refresh = org
        .issue_refresh_tokens
        .then(|| app.sessions.issue_refresh());
    Ok(Grant {
        kind: "password",
        new_refresh: refresh.clone(),
        family: refresh,
    })
}

/// `Authorization: Basic base64(client_id:client_secret)`, each part form-url-encoded.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    Some((unescape(id), unescape(secret)))
}

fn client_credentials(
    org: &OrgConfig,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Grant, OAuthError> {
    // Body fields win; HTTP Basic fills in whatever the body leaves out.
    let basic = basic_credentials(headers);
    let id = field(form, "client_id").or(basic.as_ref().map(|(id, _)| id.as_str()));
    let secret = field(form, "client_secret").or(basic.as_ref().map(|(_, s)| s.as_str()));
    check_client(org, id, secret, true)?;
    Ok(Grant {
        kind: "client_credentials",
        new_refresh: None,
        family: None,
    })
}

fn refresh_token(app: &AppState, form: &Form) -> Result<Grant, OAuthError> {
    check_client(
        &app.config.org,
        field(form, "client_id"),
        field(form, "client_secret"),
        false,
    )?;
    let refresh = field(form, "refresh_token")
        .filter(|t| app.sessions.is_refresh_token(t))
        .ok_or(EXPIRED_TOKEN)?;
    Ok(Grant {
        kind: "refresh_token",
        new_refresh: None,
        family: Some(refresh.to_string()),
    })
}

fn jwt_bearer(app: &AppState, form: &Form) -> Result<Grant, OAuthError> {
    let key = app.sessions.jwt_key().ok_or(BAD_ASSERTION)?;
    let assertion = field(form, "assertion").ok_or(BAD_ASSERTION)?;
    let claims = jwt::verify(assertion, key).map_err(|error: AssertionError| {
        tracing::debug!(%error, "JWT assertion refused");
        BAD_ASSERTION
    })?;
    check_claims(app, &claims, chrono::Utc::now().timestamp())?;
    Ok(Grant {
        kind: "jwt_bearer",
        new_refresh: None,
        family: None,
    })
}

fn check_claims(app: &AppState, claims: &Claims, now: i64) -> Result<(), OAuthError> {
    let org = &app.config.org;
    if claims.iss != org.client_id {
        return Err(BAD_CLIENT_ID);
    }
    if !claims
        .audiences
        .iter()
        .any(|aud| audience_ok(aud, app.base_url()))
    {
        return Err(BAD_AUDIENCE);
    }
    if claims.exp + EXP_SKEW_SECS < now {
        return Err(EXPIRED_ASSERTION);
    }
    if !claims.subject.eq_ignore_ascii_case(&org.username) {
        return Err(NOT_APPROVED);
    }
    Ok(())
}

/// Login hosts, the emulator itself, or any `https://*.salesforce.com` (My Domain, or what
/// simple-salesforce sends).
fn audience_ok(aud: &str, base_url: &str) -> bool {
    let aud = aud.trim_end_matches('/');
    if LOGIN_AUDIENCES.contains(&aud)
        || (!base_url.is_empty() && aud == base_url.trim_end_matches('/'))
    {
        return true;
    }
    url::Url::parse(aud).is_ok_and(|url| {
        url.scheme() == "https"
            && url.path() == "/"
            && url
                .host_str()
                .is_some_and(|h| h.ends_with(".salesforce.com"))
    })
}

fn success(app: &AppState, grant: Grant) -> Json<serde_json::Value> {
    let base = app.base_url();
    let access_token = app.sessions.issue(&app.org_id, grant.family.as_deref());
    let id = format!("{base}/id/{}/{}", app.org_id, app.user_id);
    let issued_at = chrono::Utc::now().timestamp_millis().to_string();
    let scope = if grant.family.is_some() {
        "api refresh_token"
    } else {
        "api"
    };
    let mut body = json!({
        "access_token": access_token,
        "signature": signature(&app.config.org.client_secret, &id, &issued_at),
        "scope": scope,
        "instance_url": base,
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
    });
    if let Some(refresh) = grant.new_refresh {
        body["refresh_token"] = json!(refresh);
    }
    Json(body)
}

/// base64(HMAC-SHA256(client_secret, id + issued_at)).
fn signature(client_secret: &str, id: &str, issued_at: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(client_secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

async fn revoke_form(State(app): State<AppState>, body: Bytes) -> Response {
    revoke(&app, parse_form(&body).get("token").map(String::as_str))
}

async fn revoke_query(State(app): State<AppState>, Query(query): Query<Form>) -> Response {
    revoke(&app, query.get("token").map(String::as_str))
}

/// 200 with an empty body when the token was known, else 400 `unsupported_token_type`.
fn revoke(app: &AppState, token: Option<&str>) -> Response {
    match token {
        Some(token) if app.sessions.revoke(token) => StatusCode::OK.into_response(),
        _ => BAD_TOKEN_TYPE.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_accept_login_hosts_the_emulator_and_salesforce_subdomains() {
        let base = "http://127.0.0.1:4000";
        for ok in [
            "https://login.salesforce.com",
            "https://test.salesforce.com/",
            "http://127.0.0.1:4000",
            "https://acme.my.salesforce.com",
        ] {
            assert!(audience_ok(ok, base), "{ok}");
        }
        for bad in [
            "https://evil.example.com",
            "http://login.salesforce.com",
            "https://salesforce.com.evil.io",
            "https://x.salesforce.com/path",
            "",
        ] {
            assert!(!audience_ok(bad, base), "{bad}");
        }
    }

    #[test]
    fn basic_credentials_are_decoded() {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode("my%3Aid:s3cret"));
        headers.insert(header::AUTHORIZATION, value.parse().unwrap());
        assert_eq!(
            basic_credentials(&headers),
            Some(("my:id".into(), "s3cret".into()))
        );
    }

    #[test]
    fn signature_is_hmac_sha256_of_id_and_issued_at() {
        // RFC 4231-style check computed independently: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
        let sig = signature("key", "The quick brown fox ", "jumps over the lazy dog");
        assert_eq!(sig, "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=");
    }
}
