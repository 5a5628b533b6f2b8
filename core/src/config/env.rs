//! The `SFSCALE_*` environment variables (listed in the [module docs](super)).

use std::path::PathBuf;
use std::time::Duration;

use super::builder::{AuthSetting, ClientBuilder};
use crate::error::Error;
use crate::tokens::{Grant, Secret};

impl ClientBuilder {
    /// Reads the `SFSCALE_*` variables (see the [module docs](crate::config)).
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Like [`from_env`](Self::from_env) with a custom variable lookup (tests, bindings).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let mut b = ClientBuilder::new();
        b.instance_url = get("SFSCALE_INSTANCE_URL");
        b.login_url = get("SFSCALE_LOGIN_URL");
        if let Some(v) = get("SFSCALE_API_VERSION") {
            b.api_version = v;
        }
        if let Some(r) = parse_env::<f64>(&get, "SFSCALE_RESERVE")? {
            b.limits.reserve = r;
        }
        if let Some(s) = parse_env::<u64>(&get, "SFSCALE_SESSION_LIFETIME_SECS")? {
            b.session.lifetime = Duration::from_secs(s);
        }
        b.http.ca_file = get("SFSCALE_CA_FILE").map(PathBuf::from);
        b.rate = parse_env::<u32>(&get, "SFSCALE_MAX_RPS")?.map(|rps| (rps, rps));
        if let Some(cap) = parse_env::<u32>(&get, "SFSCALE_LONG_RUNNING_CAP")? {
            b.scheduler.long_running_cap = cap;
        }
        b.auth = Some(auth_from_env(&get)?);
        Ok(b)
    }
}

fn parse_env<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<T>, Error>
where
    T::Err: std::fmt::Display,
{
    get(name)
        .map(|raw| {
            raw.trim()
                .parse::<T>()
                .map_err(|e| Error::config(name, format!("'{raw}': {e}")))
        })
        .transpose()
}

fn auth_from_env(get: &impl Fn(&str) -> Option<String>) -> Result<AuthSetting, Error> {
    let require = |name: &str, why: &str| {
        get(name).ok_or_else(|| Error::config(name, format!("required for {why}")))
    };
    if let Some(path) = get("SFSCALE_PRIVATE_KEY_FILE") {
        let pem = std::fs::read_to_string(&path).map_err(|e| {
            Error::config(
                "SFSCALE_PRIVATE_KEY_FILE",
                format!("cannot read {path}: {e}"),
            )
        })?;
        return Ok(AuthSetting::Jwt {
            client_id: require("SFSCALE_CLIENT_ID", "the JWT bearer grant")?,
            username: require("SFSCALE_USERNAME", "the JWT bearer grant")?,
            key_pem: Secret::new(pem),
        });
    }
    let client_id = require("SFSCALE_CLIENT_ID", "every grant")?;
    let secret = get("SFSCALE_CLIENT_SECRET").map(Secret::new);
    if let Some(token) = get("SFSCALE_REFRESH_TOKEN") {
        let refresh_token = Secret::new(token);
        return Ok(AuthSetting::Grant(Grant::RefreshToken {
            client_id,
            client_secret: secret,
            refresh_token,
        }));
    }
    if let Some(password) = get("SFSCALE_PASSWORD") {
        return Ok(AuthSetting::Grant(Grant::Password {
            client_id,
            client_secret: secret.ok_or_else(|| {
                Error::config("SFSCALE_CLIENT_SECRET", "required for the password grant")
            })?,
            username: require("SFSCALE_USERNAME", "the password grant")?,
            password: Secret::new(password),
        }));
    }
    match secret {
        Some(client_secret) => Ok(AuthSetting::Grant(Grant::ClientCredentials { client_id, client_secret })),
        None => Err(Error::config(
            "SFSCALE_CLIENT_SECRET",
            "no grant configured: set SFSCALE_PRIVATE_KEY_FILE, SFSCALE_REFRESH_TOKEN, SFSCALE_PASSWORD or SFSCALE_CLIENT_SECRET",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn env_picks_grant_in_documented_order() {
        let key = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/test-key-pkcs1.pem"
        );
        let all = [
            ("SFSCALE_CLIENT_ID", "id"),
            ("SFSCALE_CLIENT_SECRET", "s"),
            ("SFSCALE_USERNAME", "u"),
            ("SFSCALE_PASSWORD", "p"),
            ("SFSCALE_REFRESH_TOKEN", "r"),
            ("SFSCALE_PRIVATE_KEY_FILE", key),
        ];
        let kind = |n: usize| {
            ClientBuilder::from_lookup(env(&all[..n]))
                .unwrap()
                .validate()
                .unwrap()
                .grant
                .kind()
        };
        assert_eq!(kind(6), "jwt_bearer");
        assert_eq!(kind(5), "refresh_token");
        assert_eq!(kind(4), "password");
        assert_eq!(kind(2), "client_credentials");
        let err = ClientBuilder::from_lookup(env(&all[..1])).unwrap_err();
        assert!(err.to_string().contains("SFSCALE_CLIENT_SECRET"), "{err}");
    }

    #[test]
    fn env_numbers_are_parsed_and_bad_ones_named() {
        let vars = [
            ("SFSCALE_CLIENT_ID", "id"),
            ("SFSCALE_CLIENT_SECRET", "s"),
            ("SFSCALE_INSTANCE_URL", "http://localhost:9"),
            ("SFSCALE_API_VERSION", "59.0"),
            ("SFSCALE_RESERVE", "0.3"),
            ("SFSCALE_SESSION_LIFETIME_SECS", "60"),
            ("SFSCALE_MAX_RPS", "25"),
            ("SFSCALE_LONG_RUNNING_CAP", "5"),
        ];
        let c = ClientBuilder::from_lookup(env(&vars))
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(c.api_version, "59.0");
        assert_eq!(c.limits.reserve, 0.3);
        assert_eq!(c.session.lifetime, Duration::from_secs(60));
        assert_eq!(c.scheduler.rate.map(|r| r.per_second.get()), Some(25));
        assert_eq!(c.scheduler.long_running_cap, 5);
        let err = ClientBuilder::from_lookup(env(&[("SFSCALE_RESERVE", "lots")])).unwrap_err();
        assert!(err.to_string().contains("SFSCALE_RESERVE"), "{err}");
    }
}
