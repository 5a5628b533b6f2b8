//! The JS options object to a core [`ClientBuilder`].
//!
//! Two groups of keys, both named after the core's settings in camelCase:
//! - the environment settings (`instanceUrl` → `SFSCALE_INSTANCE_URL`, `clientId` →
//!   `SFSCALE_CLIENT_ID`, ...), handed to the core's own `ClientBuilder::from_lookup`, so the
//!   grant is chosen by the core's documented rule whether values come from options or the
//!   environment (`Client.fromEnv()` reads options first, then the variables);
//! - builder knobs without a variable (`paceBand`, `retryMaxAttempts`, ...), one builder
//!   call each.
//!
//! Durations are milliseconds (JS's unit). An unknown key or a value of the wrong type is an
//! `InvalidInput` error naming it; a bad value is the core's `Config` error naming the setting.

use std::time::Duration;

use serde_json::{Map, Value};
use sfscale::{ClientBuilder, Error};

/// Option keys read like `SFSCALE_<NAME>` variables (see the core's `config` docs).
const ENV_KEYS: &[&str] = &[
    "instanceUrl",
    "loginUrl",
    "clientId",
    "clientSecret",
    "username",
    "password",
    "privateKeyFile",
    "refreshToken",
    "apiVersion",
    "reserve",
    "sessionLifetimeSecs",
    "caFile",
    "maxRps",
    "longRunningCap",
];

/// `instanceUrl` → `SFSCALE_INSTANCE_URL`.
fn variable(key: &str) -> String {
    let mut name = String::from("SFSCALE_");
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Builds a core client from options, reading the `SFSCALE_*` variables too when `env`.
pub fn build(options: &Map<String, Value>, env: bool) -> Result<sfscale::Client, Error> {
    let mut settings = Vec::new();
    let mut knobs = Vec::new();
    for (key, value) in options.iter().filter(|(_, v)| !v.is_null()) {
        if ENV_KEYS.contains(&key.as_str()) {
            settings.push((variable(key), text(value)));
        } else {
            knobs.push((key.as_str(), value));
        }
    }
    let lookup = |name: &str| {
        let given = settings
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        given.or_else(|| {
            env.then(|| std::env::var(name).ok().filter(|v| !v.is_empty()))
                .flatten()
        })
    };
    let mut builder = ClientBuilder::from_lookup(lookup)?;
    for (key, value) in knobs {
        builder = knob(builder, key, value)?;
    }
    builder.build()
}

fn knob(b: ClientBuilder, key: &str, value: &Value) -> Result<ClientBuilder, Error> {
    Ok(match key {
        "paceBand" => b.limits_pace_band(number(key, value)?),
        "retryMaxAttempts" => b.retry_max_attempts(count(key, value)?),
        "retryBackoff" => {
            let [base, cap] = numbers::<2>(key, value)?;
            b.retry_backoff(millis(key, base)?, millis(key, cap)?)
        }
        "concurrency" => {
            let [initial, min, max] = numbers::<3>(key, value)?;
            b.scheduler_concurrency(initial as u32, min as u32, max as u32)
        }
        "queryBatchSize" => b.query_batch_size(count(key, value)?),
        "requestTimeout" => b.http_request_timeout(millis(key, number(key, value)?)?),
        "connectTimeout" => b.http_connect_timeout(millis(key, number(key, value)?)?),
        "reserveWait" => b.limits_reserve_wait(millis(key, number(key, value)?)?),
        "developerEdition" if value.as_bool() == Some(true) => b.scheduler_developer_edition(),
        "developerEdition" => b,
        other => {
            return Err(Error::invalid_input(format!(
                "unknown client option '{other}'"
            )))
        }
    })
}

/// A number option.
pub fn number(key: &str, value: &Value) -> Result<f64, Error> {
    value
        .as_f64()
        .ok_or_else(|| Error::invalid_input(format!("{key}: expected a number, got {value}")))
}

/// A non-negative integer option.
pub fn count(key: &str, value: &Value) -> Result<u32, Error> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| Error::invalid_input(format!("{key}: expected an integer ≥ 0, got {value}")))
}

fn numbers<const N: usize>(key: &str, value: &Value) -> Result<[f64; N], Error> {
    let bad = || {
        Error::invalid_input(format!(
            "{key}: expected an array of {N} numbers, got {value}"
        ))
    };
    let items = value.as_array().filter(|a| a.len() == N).ok_or_else(bad)?;
    let mut out = [0.0; N];
    for (slot, item) in out.iter_mut().zip(items) {
        *slot = item.as_f64().ok_or_else(bad)?;
    }
    Ok(out)
}

/// Milliseconds as a duration; negative or non-finite values are refused naming the setting.
pub fn millis(key: &str, ms: f64) -> Result<Duration, Error> {
    Duration::try_from_secs_f64(ms / 1000.0).map_err(|_| {
        Error::invalid_input(format!("{key}: {ms} is not a number of milliseconds ≥ 0"))
    })
}
