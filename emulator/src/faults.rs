//! Fault injection: which calls fail, how, and when — decided by seeded rules so a failing
//! run can be repeated exactly.
//!
//! A rule names a route family (or `*`), the share of matching calls to hit, an effect and
//! an optional time window relative to the moment the rules were set (a brownout from `t1`
//! to `t2`). Every call that matches a rule's route and window draws one number from a
//! single seeded generator; the first rule whose draw falls under its share wins. With the
//! same seed and the same sequence of calls, the same calls fail. (A generator per rule was
//! rejected: adding a rule would silently change which calls the others hit.)
//!
//! Effects on a call: `503` (SERVER_UNAVAILABLE), `500` (UNKNOWN_EXCEPTION), `reset`
//! (connection dropped without a response), `timeout` (no answer until the client gives
//! up), `delay:MS` (slow but correct answer), `expire-session` (the caller's token is
//! revoked and the call answers 401), and Salesforce errors a client must classify without
//! having to provoke them for real: `concurrent-limit` and `long-txn` (403
//! `REQUEST_LIMIT_EXCEEDED`, ConcurrentRequests / ConcurrentPerOrgLongTxn), `lock` (400
//! `UNABLE_TO_LOCK_ROW`), `query-timeout` (400 `QUERY_TIMEOUT`). Those data-API errors never
//! apply to the token endpoint. `bulk-fail` does not touch calls: Bulk job processing asks
//! [`Faults::bulk_job_fails`] whether a job should end `Failed`.

use crate::config::{FaultConfig, FaultRule};
use crate::server::Family;
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What an injected fault does to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// 503 `SERVER_UNAVAILABLE`.
    Unavailable,
    /// 500 `UNKNOWN_EXCEPTION`.
    ServerError,
    /// Drop the connection without answering.
    Reset,
    /// Hold the call without answering until the client gives up (or the server stops).
    Timeout,
    /// Answer normally after this extra delay.
    Delay(Duration),
    /// Revoke the caller's session and answer 401 `INVALID_SESSION_ID`.
    ExpireSession,
    /// Make the next Bulk job processed end in `Failed`.
    BulkFail,
    /// 403 `REQUEST_LIMIT_EXCEEDED` "ConcurrentRequests" without real long-running calls.
    ConcurrentLimit,
    /// 403 `REQUEST_LIMIT_EXCEEDED` "ConcurrentPerOrgLongTxn" (Apex's long-transaction cap).
    LongTxn,
    /// 400 `UNABLE_TO_LOCK_ROW` without a real lock conflict.
    Lock,
    /// 400 `QUERY_TIMEOUT`.
    QueryTimeout,
}

impl Effect {
    /// Parses a rule's `effect` text.
    pub fn parse(text: &str) -> Option<Effect> {
        let effect = match text {
            "503" => Effect::Unavailable,
            "500" => Effect::ServerError,
            "reset" => Effect::Reset,
            "timeout" => Effect::Timeout,
            "expire-session" => Effect::ExpireSession,
            "bulk-fail" => Effect::BulkFail,
            "concurrent-limit" => Effect::ConcurrentLimit,
            "long-txn" => Effect::LongTxn,
            "lock" => Effect::Lock,
            "query-timeout" => Effect::QueryTimeout,
            other => Effect::Delay(Duration::from_millis(
                other.strip_prefix("delay:")?.parse().ok()?,
            )),
        };
        Some(effect)
    }

    /// The key this effect is counted under in `faults_injected`.
    pub fn name(self) -> &'static str {
        match self {
            Effect::Unavailable => "503",
            Effect::ServerError => "500",
            Effect::Reset => "reset",
            Effect::Timeout => "timeout",
            Effect::Delay(_) => "delay",
            Effect::ExpireSession => "expire-session",
            Effect::BulkFail => "bulk-fail",
            Effect::ConcurrentLimit => "concurrent-limit",
            Effect::LongTxn => "long-txn",
            Effect::Lock => "lock",
            Effect::QueryTimeout => "query-timeout",
        }
    }
}

/// A fault rule that cannot be used, naming the rule (0-based) and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fault rule {index}: {problem}")]
pub struct FaultError {
    /// Position of the rule in the list, from 0.
    pub index: usize,
    /// What is wrong with it.
    pub problem: String,
}

/// A validated rule.
#[derive(Debug, Clone)]
struct Rule {
    /// None = every family.
    route: Option<Family>,
    share: f64,
    effect: Effect,
    starts: Duration,
    ends: Option<Duration>,
}

impl Rule {
    fn compile(index: usize, rule: &FaultRule) -> Result<Rule, FaultError> {
        let fail = |problem: String| FaultError { index, problem };
        let route = match rule.route.as_str() {
            "*" => None,
            name => Some(Family::parse(name).ok_or_else(|| fail(format!("unknown route '{name}' (expected *, token, query, sobjects, composite, bulk, limits or other)")))?),
        };
        let effect = Effect::parse(&rule.effect)
            .ok_or_else(|| fail(format!("unknown effect '{}' (expected 503, 500, reset, timeout, delay:MS, expire-session, concurrent-limit, long-txn, lock, query-timeout or bulk-fail)", rule.effect)))?;
        if !(0.0..=1.0).contains(&rule.share) {
            return Err(fail(format!("share {} is not between 0 and 1", rule.share)));
        }
        let seconds = |value: f64, name: &str| {
            Duration::try_from_secs_f64(value).map_err(|_| {
                fail(format!(
                    "{name} {value} is not a non-negative number of seconds"
                ))
            })
        };
        let starts = seconds(rule.after_s, "after_s")?;
        let ends = rule
            .for_s
            .map(|for_s| seconds(for_s, "for_s"))
            .transpose()?
            // A window too long to represent never ends.
            .and_then(|length| starts.checked_add(length));
        Ok(Rule {
            route,
            share: rule.share,
            effect,
            starts,
            ends,
        })
    }

    fn applies(&self, family: Family, since_set: Duration) -> bool {
        let route_matches = self.route.is_none_or(|route| route == family);
        let in_window = since_set >= self.starts && self.ends.is_none_or(|ends| since_set < ends);
        route_matches && in_window
    }
}

/// Validates every rule of a fault config.
fn compile(config: &FaultConfig) -> Result<Vec<Rule>, FaultError> {
    config
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| Rule::compile(i, rule))
        .collect()
}

/// Checks a fault config without installing it (used at start-up to reject a bad file).
pub fn validate(config: &FaultConfig) -> Result<(), FaultError> {
    compile(config).map(drop)
}

struct Active {
    config: FaultConfig,
    rules: Vec<Rule>,
    rng: StdRng,
    set_at: Instant,
}

impl Active {
    fn new(config: FaultConfig, rules: Vec<Rule>) -> Self {
        let rng = StdRng::seed_from_u64(config.seed);
        Active {
            config,
            rules,
            rng,
            set_at: Instant::now(),
        }
    }

    /// Draws for each applicable rule `wanted` accepts; returns the first hit.
    fn draw(&mut self, family: Family, wanted: impl Fn(Effect) -> bool) -> Option<Effect> {
        let since_set = self.set_at.elapsed();
        for rule in &self.rules {
            if wanted(rule.effect)
                && rule.applies(family, since_set)
                && self.rng.random::<f64>() < rule.share
            {
                return Some(rule.effect);
            }
        }
        None
    }
}

/// The fault rules in force and their generator.
pub struct Faults {
    /// False when there are no rules, so the common path takes no lock.
    armed: AtomicBool,
    active: Mutex<Active>,
}

impl Faults {
    /// Installs the configured rules; a config that does not validate installs none (start-up
    /// validates with [`validate`] first, so this only happens for hand-built orgs).
    pub fn new(config: FaultConfig) -> Self {
        let rules = compile(&config).unwrap_or_else(|error| {
            tracing::error!(%error, "ignoring invalid fault rules");
            Vec::new()
        });
        Faults {
            armed: AtomicBool::new(!rules.is_empty()),
            active: Mutex::new(Active::new(config, rules)),
        }
    }

    /// Replaces the rules and reseeds; windows restart from now. An empty list clears.
    pub fn set(&self, config: FaultConfig) -> Result<(), FaultError> {
        let rules = compile(&config)?;
        let mut active = self.active.lock();
        self.armed.store(!rules.is_empty(), Ordering::Release);
        *active = Active::new(config, rules);
        Ok(())
    }

    /// Removes every rule.
    pub fn clear(&self) {
        let mut active = self.active.lock();
        self.armed.store(false, Ordering::Release);
        *active = Active::new(FaultConfig::default(), Vec::new());
    }

    /// The rules as last set.
    pub fn config(&self) -> FaultConfig {
        self.active.lock().config.clone()
    }

    /// The fault to inject into one call of `family`, if any.
    pub fn pick(&self, family: Family) -> Option<Effect> {
        if !self.armed.load(Ordering::Acquire) {
            return None;
        }
        let for_calls = |effect: Effect| match effect {
            Effect::BulkFail => false,
            Effect::Unavailable
            | Effect::ServerError
            | Effect::Reset
            | Effect::Timeout
            | Effect::Delay(_) => true,
            // Data-API errors: the token endpoint has no session, rows or queries.
            Effect::ExpireSession
            | Effect::ConcurrentLimit
            | Effect::LongTxn
            | Effect::Lock
            | Effect::QueryTimeout => family != Family::Token,
        };
        self.active.lock().draw(family, for_calls)
    }

    /// Whether the Bulk job about to be processed should fail (`bulk-fail` rules on `bulk`
    /// or `*`).
    pub fn bulk_job_fails(&self) -> bool {
        self.armed.load(Ordering::Acquire)
            && self
                .active
                .lock()
                .draw(Family::Bulk, |e| e == Effect::BulkFail)
                .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(route: &str, share: f64, effect: &str) -> FaultRule {
        FaultRule {
            route: route.into(),
            share,
            effect: effect.into(),
            after_s: 0.0,
            for_s: None,
        }
    }

    fn config(seed: u64, rules: Vec<FaultRule>) -> FaultConfig {
        FaultConfig { seed, rules }
    }

    fn pattern(faults: &Faults, n: usize) -> Vec<bool> {
        (0..n)
            .map(|_| faults.pick(Family::Query).is_some())
            .collect()
    }

    #[test]
    fn effects_parse_and_unknown_ones_are_rejected() {
        assert_eq!(
            Effect::parse("delay:250"),
            Some(Effect::Delay(Duration::from_millis(250)))
        );
        assert_eq!(Effect::parse("503"), Some(Effect::Unavailable));
        assert_eq!(Effect::parse("delay:abc"), None);
        assert_eq!(Effect::parse("404"), None);
        let error = validate(&config(
            1,
            vec![rule("*", 0.5, "503"), rule("query", 0.5, "explode")],
        ))
        .unwrap_err();
        assert_eq!(error.index, 1);
        assert!(error.problem.contains("explode"));
        assert!(validate(&config(1, vec![rule("soap", 0.5, "503")])).is_err());
        assert!(validate(&config(1, vec![rule("*", 1.5, "503")])).is_err());
        let huge = FaultRule {
            after_s: 1e300,
            ..rule("*", 0.5, "503")
        };
        assert!(validate(&config(1, vec![huge])).is_err());
        let endless = FaultRule {
            for_s: Some(1.7e19),
            after_s: 1.7e19,
            ..rule("*", 0.5, "503")
        };
        assert!(validate(&config(1, vec![endless])).is_ok());
    }

    #[test]
    fn the_same_seed_hits_the_same_calls() {
        let a = Faults::new(config(42, vec![rule("*", 0.3, "503")]));
        let b = Faults::new(config(42, vec![rule("*", 0.3, "503")]));
        let c = Faults::new(config(43, vec![rule("*", 0.3, "503")]));
        let (pa, pb, pc) = (pattern(&a, 200), pattern(&b, 200), pattern(&c, 200));
        assert_eq!(pa, pb);
        assert_ne!(pa, pc);
        let hits = pa.iter().filter(|hit| **hit).count();
        assert!((30..=90).contains(&hits), "{hits} of 200 at share 0.3");
    }

    #[test]
    fn rules_only_hit_their_route_and_window() {
        let faults = Faults::new(config(1, vec![rule("bulk", 1.0, "500")]));
        assert_eq!(faults.pick(Family::Query), None);
        assert_eq!(faults.pick(Family::Bulk), Some(Effect::ServerError));
        let later = FaultRule {
            after_s: 3600.0,
            ..rule("*", 1.0, "503")
        };
        faults.set(config(1, vec![later])).unwrap();
        assert_eq!(faults.pick(Family::Query), None);
        let over = FaultRule {
            for_s: Some(0.0),
            ..rule("*", 1.0, "503")
        };
        faults.set(config(1, vec![over])).unwrap();
        assert_eq!(faults.pick(Family::Query), None);
        faults.clear();
        assert_eq!(faults.pick(Family::Bulk), None);
    }

    #[test]
    fn data_api_errors_skip_the_token_endpoint() {
        for effect in ["concurrent-limit", "long-txn", "lock", "query-timeout"] {
            let faults = Faults::new(config(1, vec![rule("*", 1.0, effect)]));
            assert_eq!(faults.pick(Family::Token), None, "{effect}");
            assert_eq!(
                faults.pick(Family::Sobjects).map(Effect::name),
                Some(effect)
            );
        }
    }

    #[test]
    fn session_expiry_skips_the_token_endpoint_and_bulk_fail_skips_calls() {
        let faults = Faults::new(config(
            1,
            vec![
                rule("*", 1.0, "expire-session"),
                rule("*", 1.0, "bulk-fail"),
            ],
        ));
        assert_eq!(faults.pick(Family::Token), None);
        assert_eq!(faults.pick(Family::Query), Some(Effect::ExpireSession));
        assert!(faults.bulk_job_fails());
    }
}
