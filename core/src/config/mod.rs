//! Client configuration: the builder, the environment variables, and their validation.
//!
//! Every knob has a default documented where it is set, knobs are grouped by prefix
//! (`auth_`, `limits_`, `retry_`, `scheduler_`, `cache_`, `http_`, `tls_`, `query_`), and
//! every mistake is reported once, by [`ClientBuilder::build`], as an error with code
//! `CONFIG` naming the setting. Nothing is checked earlier so that chains stay simple, and
//! nothing is checked later so that a bad key or URL never surfaces as a failed request.
//!
//! # Environment variables ([`ClientBuilder::from_env`] / [`Client::from_env`](crate::Client::from_env))
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `SFSCALE_INSTANCE_URL` | My Domain / instance URL; also the login URL when `SFSCALE_LOGIN_URL` is unset | — |
//! | `SFSCALE_LOGIN_URL` | OAuth host (`https://login.salesforce.com`, `https://test.salesforce.com`, My Domain) | instance URL, else `https://login.salesforce.com` |
//! | `SFSCALE_CLIENT_ID` | connected app consumer key (every grant) | — |
//! | `SFSCALE_CLIENT_SECRET` | consumer secret | — |
//! | `SFSCALE_USERNAME` | user (JWT, password) | — |
//! | `SFSCALE_PASSWORD` | password + security token (password grant) | — |
//! | `SFSCALE_PRIVATE_KEY_FILE` | PEM RSA key (PKCS#8 or PKCS#1) for the JWT bearer grant | — |
//! | `SFSCALE_REFRESH_TOKEN` | refresh token (refresh-token grant) | — |
//! | `SFSCALE_API_VERSION` | REST API version, e.g. `62.0` | `62.0` |
//! | `SFSCALE_RESERVE` | fraction of the daily allocation kept for others, 0 ≤ r < 1 | `0.2` |
//! | `SFSCALE_SESSION_LIFETIME_SECS` | the org's session timeout, in seconds | `7200` |
//! | `SFSCALE_CA_FILE` | extra trusted CA certificates (PEM) | — |
//! | `SFSCALE_MAX_RPS` | requests per second ceiling | unlimited |
//! | `SFSCALE_LONG_RUNNING_CAP` | concurrent long-running requests allowed | `10` |
//!
//! The grant is chosen by which variables are set, first match wins:
//! 1. `SFSCALE_PRIVATE_KEY_FILE` → JWT bearer (needs `CLIENT_ID`, `USERNAME`);
//! 2. `SFSCALE_REFRESH_TOKEN` → refresh token (needs `CLIENT_ID`; `CLIENT_SECRET` optional);
//! 3. `SFSCALE_PASSWORD` → username-password (needs `CLIENT_ID`, `CLIENT_SECRET`, `USERNAME`);
//! 4. `SFSCALE_CLIENT_SECRET` → client credentials (needs `CLIENT_ID`).
//!
//! Files: `builder.rs` (the knobs and their defaults), `env.rs` (the variables above),
//! `validate.rs` (every check, and the resulting [`Config`]).

mod builder;
mod env;
mod validate;

pub use builder::{ClientBuilder, DEFAULT_API_VERSION};
pub use validate::Config;
