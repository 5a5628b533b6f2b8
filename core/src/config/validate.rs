//! Validation: turns a [`ClientBuilder`] into a [`Config`], or names the first bad setting.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::builder::{AuthSetting, ClientBuilder, RetrySettings, DEFAULT_LOGIN_URL};
use crate::cache::CacheConfig;
use crate::client::Client;
use crate::error::Error;
use crate::http::{validate_base_url, HttpSettings};
use crate::limits::LimitsConfig;
use crate::retry::{Backoff, RetryConfig};
use crate::scheduler::{RateConfig, SchedulerConfig};
use crate::tokens::{Grant, JwtKey, MemoryTokenStore, SessionTiming, TokenStore};

/// A validated configuration, produced by [`ClientBuilder::build`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Instance URL given in config (the token response's `instance_url` is used for calls).
    pub instance_url: Option<Url>,
    /// OAuth host.
    pub login_url: Url,
    /// REST API version, e.g. `62.0`.
    pub api_version: String,
    /// How tokens are obtained.
    pub grant: Grant,
    /// Where tokens are kept.
    pub token_store: Arc<dyn TokenStore>,
    /// Session lifetime and refresh point.
    pub session: SessionTiming,
    /// Limits guard.
    pub limits: LimitsConfig,
    /// Retries.
    pub retry: RetryConfig,
    /// Scheduler.
    pub scheduler: SchedulerConfig,
    /// Cache.
    pub cache: CacheConfig,
    /// Transport.
    pub http: HttpSettings,
    /// `Sforce-Query-Options: batchSize` for queries (200..=2000).
    pub query_batch_size: u32,
}

impl ClientBuilder {
    /// Validates every setting and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        Client::from_config(self.validate()?)
    }

    /// Validates every setting into a [`Config`] without building a client.
    pub fn validate(self) -> Result<Config, Error> {
        let instance_url = self
            .instance_url
            .as_deref()
            .map(|u| validate_base_url("instance_url", u))
            .transpose()?;
        let login_url = match (&self.login_url, &instance_url) {
            (Some(raw), _) => validate_base_url("login_url", raw)?,
            (None, Some(instance)) => instance.clone(),
            (None, None) => Url::parse(DEFAULT_LOGIN_URL).expect("default login URL parses"),
        };
        validate_api_version(&self.api_version)?;
        let auth = self.auth.ok_or_else(|| {
            Error::config("auth", "no grant configured: call one of auth_jwt, auth_client_credentials, auth_password, auth_refresh_token")
        })?;
        let grant = resolve_grant(auth, self.jwt_audience)?;
        validate_session(&self.session)?;
        self.limits.validate()?;
        if self.limits.stale_after.is_zero() {
            return Err(Error::config("limits_stale_after", "must be positive"));
        }
        let retry = retry_config(&self.retry)?;
        let mut scheduler = self.scheduler;
        scheduler.rate = self.rate.map(rate_config).transpose()?;
        scheduler.validate()?;
        validate_http(&self.http)?;
        self.cache.validate()?;
        if !(200..=2000).contains(&self.query_batch_size) {
            return Err(Error::config(
                "query_batch_size",
                format!("{} is outside 200..=2000", self.query_batch_size),
            ));
        }
        Ok(Config {
            instance_url,
            login_url,
            api_version: self.api_version,
            grant,
            token_store: self
                .token_store
                .unwrap_or_else(|| MemoryTokenStore::shared()),
            session: self.session,
            limits: self.limits,
            retry,
            scheduler,
            cache: self.cache,
            http: self.http,
            query_batch_size: self.query_batch_size,
        })
    }
}

fn resolve_grant(auth: AuthSetting, audience: Option<String>) -> Result<Grant, Error> {
    let grant = match auth {
        AuthSetting::Jwt {
            client_id,
            username,
            key_pem,
        } => {
            let key =
                JwtKey::from_pem(key_pem.expose()).map_err(|e| Error::config("auth_jwt key", e))?;
            Grant::JwtBearer {
                client_id,
                username,
                key,
                audience,
            }
        }
        AuthSetting::Grant(_) if audience.is_some() => {
            return Err(Error::config(
                "auth_jwt_audience",
                "applies only to the JWT bearer grant (auth_jwt)",
            ))
        }
        AuthSetting::Grant(grant) => grant,
    };
    check_grant_fields(&grant)?;
    Ok(grant)
}

fn check_grant_fields(grant: &Grant) -> Result<(), Error> {
    let empty = |setting: &str| Err(Error::config(setting, "must not be empty"));
    match grant {
        Grant::JwtBearer { client_id, .. }
        | Grant::ClientCredentials { client_id, .. }
        | Grant::Password { client_id, .. }
        | Grant::RefreshToken { client_id, .. }
            if client_id.trim().is_empty() =>
        {
            empty("auth client_id")
        }
        Grant::JwtBearer { username, .. } | Grant::Password { username, .. }
            if username.trim().is_empty() =>
        {
            empty("auth username")
        }
        Grant::ClientCredentials { client_secret, .. } | Grant::Password { client_secret, .. }
            if client_secret.is_empty() =>
        {
            empty("auth client_secret")
        }
        Grant::Password { password, .. } if password.is_empty() => empty("auth password"),
        Grant::RefreshToken { refresh_token, .. } if refresh_token.is_empty() => {
            empty("auth refresh_token")
        }
        _ => Ok(()),
    }
}

fn validate_api_version(version: &str) -> Result<(), Error> {
    let valid = version
        .split_once('.')
        .is_some_and(|(major, minor)| major.parse::<u32>().is_ok_and(|m| m >= 20) && minor == "0");
    if valid {
        Ok(())
    } else {
        Err(Error::config(
            "api_version",
            format!("'{version}' is not a version like 62.0"),
        ))
    }
}

fn validate_session(s: &SessionTiming) -> Result<(), Error> {
    if s.lifetime < Duration::from_secs(1) {
        return Err(Error::config(
            "auth_session_lifetime",
            "must be at least 1 s",
        ));
    }
    if !(s.refresh_ratio > 0.0 && s.refresh_ratio <= 1.0) {
        return Err(Error::config(
            "auth_refresh_ratio",
            format!("{} is outside (0, 1]", s.refresh_ratio),
        ));
    }
    Ok(())
}

fn retry_config(r: &RetrySettings) -> Result<RetryConfig, Error> {
    if r.max_attempts == 0 {
        return Err(Error::config("retry_max_attempts", "must be at least 1"));
    }
    r.budget.validate()?;
    Ok(RetryConfig {
        max_attempts: r.max_attempts,
        backoff: Backoff::new(r.base_delay, r.max_delay)?,
        budget: r.budget,
        max_retry_after: r.max_retry_after,
    })
}

fn rate_config((rps, burst): (u32, u32)) -> Result<RateConfig, Error> {
    let positive = |v: u32, setting: &str| {
        NonZeroU32::new(v)
            .ok_or_else(|| Error::config(setting, "must be at least 1 request per second"))
    };
    Ok(RateConfig {
        per_second: positive(rps, "scheduler_max_rps")?,
        burst: positive(burst, "scheduler_rate burst")?,
    })
}

fn validate_http(h: &HttpSettings) -> Result<(), Error> {
    if h.connect_timeout.is_zero() {
        return Err(Error::config("http_connect_timeout", "must be positive"));
    }
    if h.request_timeout.is_zero() {
        return Err(Error::config("http_request_timeout", "must be positive"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ClientBuilder {
        ClientBuilder::new()
            .instance_url("http://127.0.0.1:1")
            .auth_client_credentials("id", "secret")
    }

    fn config_error(b: ClientBuilder) -> String {
        let err = b.validate().unwrap_err();
        assert_eq!(err.code(), "CONFIG");
        err.to_string()
    }

    #[test]
    fn defaults_validate_and_login_follows_instance() {
        let c = base().validate().unwrap();
        assert_eq!(c.login_url.as_str(), "http://127.0.0.1:1/");
        assert_eq!(c.api_version, "62.0");
        assert_eq!(c.limits.reserve, 0.2);
        assert_eq!(c.session.lifetime, Duration::from_secs(7200));
        let c = ClientBuilder::new()
            .auth_client_credentials("id", "s")
            .validate()
            .unwrap();
        assert_eq!(c.login_url.as_str(), "https://login.salesforce.com/");
    }

    #[test]
    fn each_invalid_setting_is_named() {
        let cases: Vec<(ClientBuilder, &str)> = vec![
            (base().instance_url("http://example.com"), "instance_url"),
            (base().login_url("not a url"), "login_url"),
            (base().api_version("v62"), "api_version"),
            (base().limits_reserve(1.0), "limits_reserve"),
            (
                base().limits_thresholds(vec![0.5, 1.5]),
                "limits_thresholds",
            ),
            (base().retry_max_attempts(0), "retry_max_attempts"),
            (
                base().retry_backoff(Duration::from_secs(2), Duration::from_secs(1)),
                "retry_backoff",
            ),
            (base().retry_budget(500, 0, 1), "retry_budget"),
            (base().scheduler_max_rps(0), "scheduler_max_rps"),
            (base().scheduler_concurrency(4, 5, 2), "scheduler_"),
            (
                base().scheduler_long_running_cap(0),
                "scheduler_long_running_cap",
            ),
            (
                base().auth_session_lifetime(Duration::ZERO),
                "auth_session_lifetime",
            ),
            (base().auth_refresh_ratio(1.5), "auth_refresh_ratio"),
            (base().query_batch_size(100), "query_batch_size"),
            (base().auth_client_credentials("", "s"), "client_id"),
            (base().auth_password("id", "s", "u", ""), "password"),
            (base().auth_jwt("id", "u", "garbage"), "auth_jwt"),
            (
                base().auth_jwt_audience("https://test.salesforce.com"),
                "auth_jwt_audience",
            ),
            (ClientBuilder::new(), "auth"),
        ];
        for (builder, setting) in cases {
            let msg = config_error(builder);
            assert!(msg.contains(setting), "{setting}: {msg}");
        }
    }

    #[test]
    fn secrets_never_appear_in_debug_or_errors() {
        let b = base().auth_password("id", "client-secret-xyz", "user", "password-xyz");
        let dbg = format!("{b:?}");
        assert!(
            !dbg.contains("client-secret-xyz") && !dbg.contains("password-xyz"),
            "{dbg}"
        );
        let msg = config_error(base().auth_jwt(
            "id",
            "u",
            "-----BEGIN PRIVATE KEY-----\nSECRETKEYBYTES\n-----END PRIVATE KEY-----",
        ));
        assert!(!msg.contains("SECRETKEYBYTES"), "{msg}");
    }
}
