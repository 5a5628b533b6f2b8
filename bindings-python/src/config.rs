//! Keyword arguments to a core [`ClientBuilder`].
//!
//! Two groups of keywords, both named after the core's settings:
//! - the environment settings (`SFSCALE_INSTANCE_URL` → `instance_url`, `SFSCALE_CLIENT_ID` →
//!   `client_id`, ...), handed to the core's own `ClientBuilder::from_lookup`, so the grant is
//!   chosen by the core's documented rule whether the values come from keywords or the
//!   environment (`from_env()` reads keywords first, then the variables);
//! - builder knobs without a variable (`pace_band`, `retry_max_attempts`, ...), each one
//!   builder call.
//!
//! Durations are seconds (`float`). An unknown keyword is a `TypeError` naming it; a bad
//! value is the core's `ConfigError` naming the setting.

use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sfscale::ClientBuilder;

use crate::errors::core_err;

/// Keywords read like `SFSCALE_<NAME>` variables (see the core's `config` docs).
const ENV_KEYS: &[&str] = &[
    "instance_url",
    "login_url",
    "client_id",
    "client_secret",
    "username",
    "password",
    "private_key_file",
    "refresh_token",
    "api_version",
    "reserve",
    "session_lifetime_secs",
    "ca_file",
    "max_rps",
    "long_running_cap",
];

/// Builder knobs without an environment variable.
const KNOBS: &[&str] = &[
    "pace_band",
    "retry_max_attempts",
    "retry_backoff",
    "concurrency",
    "query_batch_size",
    "request_timeout",
    "connect_timeout",
    "reserve_wait",
    "developer_edition",
];

/// Builds a core client from keywords, reading the `SFSCALE_*` variables too when `env`.
pub fn build(
    py: Python<'_>,
    kwargs: Option<&Bound<'_, PyDict>>,
    env: bool,
) -> PyResult<sfscale::Client> {
    let mut settings = Vec::new();
    let mut knobs = Vec::new();
    for (key, value) in kwargs.into_iter().flat_map(|d| d.iter()) {
        let key: String = key.extract()?;
        if ENV_KEYS.contains(&key.as_str()) {
            if !value.is_none() {
                settings.push((
                    format!("SFSCALE_{}", key.to_ascii_uppercase()),
                    value.str()?.to_string(),
                ));
            }
        } else if KNOBS.contains(&key.as_str()) {
            knobs.push((key, value));
        } else {
            return Err(PyTypeError::new_err(format!(
                "unexpected keyword argument '{key}'"
            )));
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
    let mut builder = ClientBuilder::from_lookup(lookup).map_err(|e| core_err(py, e))?;
    for (key, value) in &knobs {
        builder = knob(builder, key, value)?;
    }
    builder.build().map_err(|e| core_err(py, e))
}

fn knob(b: ClientBuilder, key: &str, value: &Bound<'_, PyAny>) -> PyResult<ClientBuilder> {
    Ok(match key {
        "pace_band" => b.limits_pace_band(value.extract()?),
        "retry_max_attempts" => b.retry_max_attempts(value.extract()?),
        "retry_backoff" => {
            let (base, cap): (f64, f64) = value.extract()?;
            b.retry_backoff(seconds(key, base)?, seconds(key, cap)?)
        }
        "concurrency" => {
            let (initial, min, max): (u32, u32, u32) = value.extract()?;
            b.scheduler_concurrency(initial, min, max)
        }
        "query_batch_size" => b.query_batch_size(value.extract()?),
        "request_timeout" => b.http_request_timeout(seconds(key, value.extract()?)?),
        "connect_timeout" => b.http_connect_timeout(seconds(key, value.extract()?)?),
        "reserve_wait" => b.limits_reserve_wait(seconds(key, value.extract()?)?),
        "developer_edition" if value.is_truthy()? => b.scheduler_developer_edition(),
        _ => b,
    })
}

/// Seconds as a duration; negative or non-finite values are refused naming the setting.
pub fn seconds(setting: &str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        PyValueError::new_err(format!("{setting}: {value} is not a number of seconds ≥ 0"))
    })
}
