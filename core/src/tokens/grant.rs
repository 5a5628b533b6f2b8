//! The four OAuth grants and the token response they share.
//!
//! Each grant is one form POST to `{login}/services/oauth2/token`; they differ only in
//! the form fields (and client credentials' Basic header). The response has **no
//! `expires_in`** and `issued_at` is epoch **milliseconds**, so the lifetime comes from
//! configuration (see [`super::TokenManager`]), not from the server. A refresh-token
//! response may carry a rotated `refresh_token`, which the manager keeps for next time.
//! Grant errors keep Salesforce's `error` / `error_description`, which never contain the
//! credentials we sent; the retry classifier maps them (OAuth bodies become kind `Auth`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;
use url::Url;

use super::jwt::{self, Claims, JwtKey};
use super::secret::Secret;
use crate::error::{codes, Error};
use crate::http::validate_base_url;

/// How the client obtains access tokens. Secrets are redacted from `Debug`.
#[derive(Debug, Clone)]
pub enum Grant {
    /// JWT bearer: an RS256 assertion signed with the connected app's private key.
    JwtBearer {
        /// Connected app consumer key (`iss`).
        client_id: String,
        /// User to act as (`sub`).
        username: String,
        /// Signing key.
        key: JwtKey,
        /// `aud`; defaults to the login URL.
        audience: Option<String>,
    },
    /// Client credentials, sent as an HTTP Basic header.
    ClientCredentials {
        /// Consumer key.
        client_id: String,
        /// Consumer secret.
        client_secret: Secret,
    },
    /// Username-password (password with the security token appended where required).
    Password {
        /// Consumer key.
        client_id: String,
        /// Consumer secret.
        client_secret: Secret,
        /// Username.
        username: String,
        /// Password (+ security token).
        password: Secret,
    },
    /// Refresh token.
    RefreshToken {
        /// Consumer key.
        client_id: String,
        /// Consumer secret (optional for some connected apps).
        client_secret: Option<Secret>,
        /// The refresh token; replaced when the server rotates it.
        refresh_token: Secret,
    },
}

impl Grant {
    /// The grant's name as used in metrics and the emulator's counters.
    pub fn kind(&self) -> &'static str {
        match self {
            Grant::JwtBearer { .. } => "jwt_bearer",
            Grant::ClientCredentials { .. } => "client_credentials",
            Grant::Password { .. } => "password",
            Grant::RefreshToken { .. } => "refresh_token",
        }
    }

    /// The client id, which with the username identifies a token in a shared store.
    pub fn identity(&self) -> String {
        match self {
            Grant::JwtBearer {
                client_id,
                username,
                ..
            }
            | Grant::Password {
                client_id,
                username,
                ..
            } => {
                format!("{client_id}:{username}")
            }
            Grant::ClientCredentials { client_id, .. } | Grant::RefreshToken { client_id, .. } => {
                client_id.clone()
            }
        }
    }

    /// Takes the rotated refresh token from a response, if the server sent one.
    pub(crate) fn rotate(&mut self, new_refresh: Option<Secret>) {
        if let (Grant::RefreshToken { refresh_token, .. }, Some(new)) = (self, new_refresh) {
            *refresh_token = new;
        }
    }

    /// Form fields and optional Basic credentials for one grant request.
    fn form(
        &self,
        login_url: &Url,
        now: SystemTime,
    ) -> (Vec<(&'static str, String)>, Option<String>) {
        match self {
            Grant::JwtBearer {
                client_id,
                username,
                key,
                audience,
            } => {
                let aud = audience
                    .clone()
                    .unwrap_or_else(|| login_url.as_str().trim_end_matches('/').to_owned());
                let assertion = jwt::assertion(key, &Claims::new(client_id, username, &aud, now));
                let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer".to_owned();
                (vec![("grant_type", grant), ("assertion", assertion)], None)
            }
            Grant::ClientCredentials {
                client_id,
                client_secret,
            } => {
                let basic = STANDARD.encode(format!("{client_id}:{}", client_secret.expose()));
                (
                    vec![("grant_type", "client_credentials".to_owned())],
                    Some(format!("Basic {basic}")),
                )
            }
            Grant::Password {
                client_id,
                client_secret,
                username,
                password,
            } => (
                vec![
                    ("grant_type", "password".to_owned()),
                    ("client_id", client_id.clone()),
                    ("client_secret", client_secret.expose().to_owned()),
                    ("username", username.clone()),
                    ("password", password.expose().to_owned()),
                ],
                None,
            ),
            Grant::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            } => {
                let mut form = vec![
                    ("grant_type", "refresh_token".to_owned()),
                    ("client_id", client_id.clone()),
                    ("refresh_token", refresh_token.expose().to_owned()),
                ];
                if let Some(secret) = client_secret {
                    form.push(("client_secret", secret.expose().to_owned()));
                }
                (form, None)
            }
        }
    }

    /// The grant request for `{login_url}/services/oauth2/token`.
    pub(crate) fn http_request(
        &self,
        http: &reqwest::Client,
        login_url: &Url,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let endpoint = login_url
            .join("services/oauth2/token")
            .map_err(|e| Error::config("login_url", e))?;
        let (form, basic) = self.form(login_url, SystemTime::now());
        let request = http.post(endpoint).form(&form);
        Ok(match basic {
            Some(basic) => request.header(reqwest::header::AUTHORIZATION, basic),
            None => request,
        })
    }
}

#[derive(Deserialize)]
struct RawTokenResponse {
    access_token: String,
    instance_url: String,
    #[serde(default)]
    issued_at: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// A parsed, successful token response.
#[derive(Debug, Clone)]
pub(crate) struct GrantResponse {
    pub access_token: Secret,
    pub instance_url: Url,
    pub issued_at: SystemTime,
    pub refresh_token: Option<Secret>,
}

impl GrantResponse {
    pub(crate) fn parse(body: &[u8]) -> Result<GrantResponse, Error> {
        let raw: RawTokenResponse = serde_json::from_slice(body)
            .map_err(|e| Error::auth(codes::AUTH, format!("unreadable token response: {e}")))?;
        let instance_url = validate_base_url("token response instance_url", &raw.instance_url)?;
        Ok(GrantResponse {
            access_token: Secret::new(raw.access_token),
            instance_url,
            issued_at: raw
                .issued_at
                .as_deref()
                .and_then(parse_issued_at)
                .unwrap_or_else(SystemTime::now),
            refresh_token: raw.refresh_token.map(Secret::new),
        })
    }
}

/// `issued_at` is an epoch-milliseconds string (13 digits).
fn parse_issued_at(raw: &str) -> Option<SystemTime> {
    raw.parse::<u64>()
        .ok()
        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login() -> Url {
        Url::parse("https://login.salesforce.com/").unwrap()
    }

    #[test]
    fn client_credentials_use_basic_auth_not_the_body() {
        let g = Grant::ClientCredentials {
            client_id: "id".into(),
            client_secret: "s3cret".into(),
        };
        let (form, basic) = g.form(&login(), SystemTime::now());
        assert_eq!(form, vec![("grant_type", "client_credentials".to_owned())]);
        assert_eq!(
            basic.unwrap(),
            format!("Basic {}", STANDARD.encode("id:s3cret"))
        );
    }

    #[test]
    fn password_and_refresh_forms_carry_their_fields() {
        let g = Grant::Password {
            client_id: "id".into(),
            client_secret: "cs".into(),
            username: "u".into(),
            password: "pw".into(),
        };
        let (form, basic) = g.form(&login(), SystemTime::now());
        assert!(basic.is_none());
        assert!(form.contains(&("grant_type", "password".to_owned())));
        assert!(form.contains(&("password", "pw".to_owned())));
        let mut r = Grant::RefreshToken {
            client_id: "id".into(),
            client_secret: None,
            refresh_token: "rt1".into(),
        };
        r.rotate(Some("rt2".into()));
        let (form, _) = r.form(&login(), SystemTime::now());
        assert!(form.contains(&("refresh_token", "rt2".to_owned())));
        assert!(!form.iter().any(|(k, _)| *k == "client_secret"));
    }

    #[test]
    fn jwt_audience_defaults_to_the_login_url() {
        let key =
            JwtKey::from_pem(include_str!("../../tests/fixtures/test-key-pkcs8.pem")).unwrap();
        let g = Grant::JwtBearer {
            client_id: "id".into(),
            username: "u".into(),
            key,
            audience: None,
        };
        let (form, _) = g.form(&login(), SystemTime::now());
        let assertion = &form[1].1;
        let claims = assertion.split('.').nth(1).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(claims)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["aud"], "https://login.salesforce.com");
    }

    #[test]
    fn token_response_parses_millisecond_issued_at_without_expires_in() {
        let body = br#"{"access_token":"00Dxx!AQ","instance_url":"https://acme.my.salesforce.com",
            "id":"https://login.salesforce.com/id/00D/005","token_type":"Bearer",
            "issued_at":"1699999999999","signature":"abc"}"#;
        let r = GrantResponse::parse(body).unwrap();
        assert_eq!(
            r.issued_at,
            UNIX_EPOCH + Duration::from_millis(1_699_999_999_999)
        );
        assert_eq!(r.access_token.expose(), "00Dxx!AQ");
        assert!(r.refresh_token.is_none());
        assert!(!format!("{r:?}").contains("00Dxx"));
    }

    #[test]
    fn plain_http_instance_urls_are_refused_off_loopback() {
        let body = br#"{"access_token":"t","instance_url":"http://evil.example.com"}"#;
        assert!(GrantResponse::parse(body).is_err());
        let body = br#"{"access_token":"t","instance_url":"http://127.0.0.1:8080"}"#;
        assert!(GrantResponse::parse(body).is_ok());
    }
}
