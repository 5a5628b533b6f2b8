//! Issued access and refresh tokens, and the check every data call makes.
//!
//! An access token is valid while it is known, not revoked and younger than the session
//! lifetime; anything else is the same 401 `INVALID_SESSION_ID` to the caller, as in a real
//! org (which never says why). Refresh tokens never expire on their own; they die only by
//! revocation, which also ends the access tokens minted from them.
//!
//! Tokens are kept in a read-mostly map: every data call takes a shared lock for one hash
//! lookup; only issuing and revoking write. Expired tokens are swept when the map has
//! doubled since the last sweep, so a load test that logs in a million times stays bounded
//! without a background task.

use crate::config::OrgConfig;
use axum::http::{header, HeaderMap};
use parking_lot::RwLock;
use rand::distr::{Alphanumeric, SampleString};
use rsa::RsaPublicKey;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Length of the random part of an access token (real ones are about this long).
const ACCESS_RANDOM_LEN: usize = 96;
/// Length of a refresh token.
const REFRESH_LEN: usize = 87;
/// Smallest map size at which expired sessions are swept.
const MIN_SWEEP_AT: usize = 1024;

struct Session {
    issued: Instant,
    /// The refresh token this session was minted from, if any.
    refresh: Option<Arc<str>>,
}

#[derive(Default)]
struct Table {
    access: HashMap<String, Session>,
    refresh: HashSet<Arc<str>>,
    sweep_at: usize,
}

/// The bearer token of a request (`Bearer` or the legacy `OAuth` scheme).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.trim())
}

/// Every token the org has issued, and the key that verifies JWT assertions.
pub struct Sessions {
    lifetime: Duration,
    table: RwLock<Table>,
    /// None when the configured PEM does not load (start-up refuses such a config first).
    jwt_key: Option<RsaPublicKey>,
}

impl Sessions {
    /// An empty table whose sessions last `session_lifetime_secs`.
    pub fn new(org: &OrgConfig) -> Self {
        let table = Table {
            sweep_at: MIN_SWEEP_AT,
            ..Table::default()
        };
        let jwt_key = super::jwt::load_key(&org.jwt_cert_pem)
            .map_err(|error| tracing::error!(%error, "JWT bearer grant disabled"))
            .ok();
        Sessions {
            lifetime: Duration::from_secs(org.session_lifetime_secs),
            table: RwLock::new(table),
            jwt_key,
        }
    }

    /// The public key JWT assertions must be signed for.
    pub fn jwt_key(&self) -> Option<&RsaPublicKey> {
        self.jwt_key.as_ref()
    }

    /// Mints an access token `<org id 15>!<random>`, optionally tied to a refresh token.
    pub fn issue(&self, org_id: &str, refresh: Option<&str>) -> String {
        let token = format!(
            "{}!{}",
            &org_id[..15],
            Alphanumeric.sample_string(&mut rand::rng(), ACCESS_RANDOM_LEN)
        );
        let mut table = self.table.write();
        let refresh = refresh.and_then(|r| table.refresh.get(r).cloned());
        table.access.insert(
            token.clone(),
            Session {
                issued: Instant::now(),
                refresh,
            },
        );
        if table.access.len() >= table.sweep_at {
            let lifetime = self.lifetime;
            table.access.retain(|_, s| s.issued.elapsed() < lifetime);
            table.sweep_at = (table.access.len() * 2).max(MIN_SWEEP_AT);
        }
        token
    }

    /// Mints a refresh token.
    pub fn issue_refresh(&self) -> String {
        let token = format!(
            "5Aep{}",
            Alphanumeric.sample_string(&mut rand::rng(), REFRESH_LEN - 4)
        );
        self.table.write().refresh.insert(token.as_str().into());
        token
    }

    /// Whether `token` is a live access token.
    pub fn is_valid(&self, token: &str) -> bool {
        self.table
            .read()
            .access
            .get(token)
            .is_some_and(|s| s.issued.elapsed() < self.lifetime)
    }

    /// Whether `token` is a live refresh token.
    pub fn is_refresh_token(&self, token: &str) -> bool {
        self.table.read().refresh.contains(token)
    }

    /// Revokes an access token, or a refresh token and every session minted from it.
    /// Returns whether the token was known.
    pub fn revoke(&self, token: &str) -> bool {
        let mut table = self.table.write();
        if table.access.remove(token).is_some() {
            return true;
        }
        if !table.refresh.remove(token) {
            return false;
        }
        table
            .access
            .retain(|_, s| s.refresh.as_deref() != Some(token));
        true
    }

    /// Ends every access token now (refresh tokens stay valid, as after a session timeout).
    pub fn expire_all(&self) {
        self.table.write().access.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = "00D5g0000000001AAA";

    fn sessions(lifetime_secs: u64) -> Sessions {
        Sessions::new(&OrgConfig {
            session_lifetime_secs: lifetime_secs,
            ..OrgConfig::default()
        })
    }

    #[test]
    fn tokens_carry_the_org_prefix_and_are_valid_until_revoked() {
        let sessions = sessions(60);
        let token = sessions.issue(ORG, None);
        assert!(token.starts_with("00D5g0000000001!"));
        assert!(sessions.is_valid(&token));
        assert!(!sessions.is_valid("00D5g0000000001!nope"));
        assert!(sessions.revoke(&token));
        assert!(!sessions.is_valid(&token));
        assert!(!sessions.revoke(&token));
    }

    #[test]
    fn bearer_tokens_are_read_from_either_scheme() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, "OAuth xyz".parse().unwrap());
        assert_eq!(bearer(&headers), Some("xyz"));
        headers.insert(header::AUTHORIZATION, "Basic xyz".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn a_zero_lifetime_expires_at_once() {
        let sessions = sessions(0);
        let token = sessions.issue(ORG, None);
        assert!(!sessions.is_valid(&token));
    }

    #[test]
    fn revoking_a_refresh_token_ends_its_sessions_only() {
        let sessions = sessions(60);
        let refresh = sessions.issue_refresh();
        let child = sessions.issue(ORG, Some(&refresh));
        let other = sessions.issue(ORG, None);
        assert!(sessions.revoke(&refresh));
        assert!(!sessions.is_refresh_token(&refresh));
        assert!(!sessions.is_valid(&child));
        assert!(sessions.is_valid(&other));
    }

    #[test]
    fn expire_all_keeps_refresh_tokens() {
        let sessions = sessions(60);
        let refresh = sessions.issue_refresh();
        let token = sessions.issue(ORG, Some(&refresh));
        sessions.expire_all();
        assert!(!sessions.is_valid(&token));
        assert!(sessions.is_refresh_token(&refresh));
    }

    #[test]
    fn expired_sessions_are_swept_as_the_table_grows() {
        let sessions = sessions(0);
        for _ in 0..MIN_SWEEP_AT * 3 {
            sessions.issue(ORG, None);
        }
        assert!(sessions.table.read().access.len() <= MIN_SWEEP_AT);
    }
}
