//! The demo's closing report. Figures come from three independent places: the core's own
//! results and metrics (what the client did and saw), the emulator's counters (what the
//! org saw: calls counted, token grants, lock errors, faults injected) and the
//! verification queries (what the org holds).
//!
//! The naive client it is compared with makes one call per record written, reads with REST
//! pages of 2,000 records, and has no cache (one describe and one reference query per
//! sign-up). Its calls are computed, not run:
//! `writes (Accounts + Contacts + sign-ups) + Σ ⌈rows read / 2,000⌉ per query + 2 × sign-ups`.

use serde_json::Value;
use sfscale::{Client, OrgLimits};

use super::data::{Loaded, Plan};
use super::online::Signups;
use super::verify::ObjectCheck;
use super::Timings;
use crate::report::{breakdown, percent, plural, seconds, thousands, Report};

/// REST query page size a naive client reads with (Salesforce's default batch).
const NAIVE_PAGE: u64 = 2_000;

/// Everything the demo did.
pub struct Outcome {
    pub plan: Plan,
    pub accounts: Loaded,
    pub contacts: Loaded,
    pub signups: Signups,
    pub streamed: u64,
    pub checks: [ObjectCheck; 2],
    pub limits: OrgLimits,
    pub times: Timings,
}

fn pages(rows: u64) -> u64 {
    rows.div_ceil(NAIVE_PAGE).max(1)
}

/// The naive client's calls for the same work: `(writes, query pages, reference lookups)`.
fn naive_calls(o: &Outcome) -> (u64, u64, u64) {
    let writes = o.plan.accounts + o.plan.contacts + o.plan.events;
    let reads = pages(o.streamed) + o.checks.iter().map(|c| pages(c.listed) + 1).sum::<u64>();
    (writes, reads, 2 * o.plan.events)
}

fn stat(stats: &Value, path: &[&str]) -> u64 {
    path.iter()
        .fold(stats, |v, key| &v[*key])
        .as_u64()
        .unwrap_or(0)
}

/// The report.
pub fn report(o: &Outcome, client: &Client, stats: &Value) -> Report {
    let metrics = client.metrics();
    let mut report = Report::default();
    let queued = &o.signups.stats;
    report
        .section("rows moved")
        .line(
            "Accounts (Bulk upsert)",
            format!(
                "{} upserted, {} failed, {}",
                thousands(o.accounts.result.rows_succeeded),
                thousands(o.accounts.result.rows_failed),
                plural(o.accounts.result.jobs_used, "job")
            ),
        )
        .line(
            "Contacts (Bulk upsert)",
            format!(
                "{} upserted, {} failed, {}, grouped {}",
                thousands(o.contacts.result.rows_succeeded),
                thousands(o.contacts.result.rows_failed),
                plural(o.contacts.result.jobs_used, "job"),
                o.contacts
                    .result
                    .group_by
                    .as_deref()
                    .map_or("by nothing".into(), |g| format!("by {g}"))
            ),
        )
        .line(
            "sign-ups (queue)",
            format!(
                "{} delivered in {}, {}",
                thousands(queued.delivered),
                plural(queued.calls, "call"),
                plural(o.signups.dead_letters, "dead letter")
            ),
        )
        .line("Accounts streamed (REST)", thousands(o.streamed))
        .line(
            "rows verified (Bulk query)",
            thousands(o.checks.iter().map(|c| c.listed).sum()),
        );
    let used = stat(stats, &["api_requests"]);
    let (writes, reads, lookups) = naive_calls(o);
    let naive = writes + reads + lookups;
    report
        .section("API calls")
        .line("used (emulator's count)", format!("{} {}", thousands(used), by_route(stats)))
        .line("naive one-call-per-record client", format!("{} = {} writes + {} query pages (2,000 rows each) + {} describe/reference lookups (no cache)", thousands(naive), thousands(writes), thousands(reads), thousands(lookups)))
        .line("saved", format!("{} fewer calls ({:.0}× fewer)", thousands(naive.saturating_sub(used)), naive as f64 / used.max(1) as f64));
    let cache: Vec<String> = metrics
        .cache
        .iter()
        .map(|(kind, c)| format!("{kind} {} hits / {} loads", c.hits, c.loads))
        .collect();
    report
        .section("resilience")
        .line("retries (core)", breakdown(&metrics.retries))
        .line("retry budget denials", thousands(metrics.budget_denials))
        .line("Bulk runs resumed from their journal", (o.accounts.resumes + o.contacts.resumes).to_string())
        .line("brownout 503s injected", thousands(stat(stats, &["faults_injected", "503"])))
        .line("lock errors met (UNABLE_TO_LOCK_ROW)", thousands(stat(stats, &["errors_by_code", "UNABLE_TO_LOCK_ROW"])))
        .line("  resolved by", format!("{} call retries, {} queue writes re-sent, {} Bulk rows re-run in {} smaller rounds; failed rows left: {}", metrics.retries.get("lock").copied().unwrap_or(0), thousands(queued.writes_sent.saturating_sub(queued.delivered + o.signups.dead_letters)), thousands(o.accounts.result.lock_retried_rows + o.contacts.result.lock_retried_rows), o.accounts.result.lock_retry_rounds + o.contacts.result.lock_retry_rounds, o.accounts.result.rows_failed + o.contacts.result.rows_failed + o.signups.dead_letters))
        .line("sessions expired (401 INVALID_SESSION_ID)", thousands(stat(stats, &["errors_by_code", "INVALID_SESSION_ID"])))
        .line("token grants", format!("{} (emulator), {} (client)", stat(stats, &["token_grants", "total"]), metrics.token_refreshes))
        .line("cache", cache.join(", "))
        .line("throttling signals", thousands(metrics.throttled));
    report.section("limits at the end");
    for name in [
        "DailyApiRequests",
        "DailyBulkApiBatches",
        "DailyBulkV2QueryJobs",
    ] {
        if let Some(limit) = o.limits.get(name) {
            report.line(
                name,
                format!(
                    "{} of {} used ({})",
                    thousands(limit.used()),
                    thousands(limit.max),
                    percent(limit.used(), limit.max)
                ),
            );
        }
    }
    let t = &o.times;
    report
        .section("time")
        .line("reference data", seconds(t.reference))
        .line("Accounts load", seconds(t.accounts))
        .line("Contacts load + online traffic", seconds(t.concurrent))
        .line("verification", seconds(t.verify))
        .line("total", seconds(t.total));
    report.section("verification (in the org)");
    for c in &o.checks {
        report.line(
            c.object,
            format!(
                "{} expected, COUNT(Id) {}, listed {}, missing {}, duplicated {}, unexpected {} → {}",
                thousands(c.expected), thousands(c.counted), thousands(c.listed), c.missing, c.duplicated, c.unexpected,
                if c.passed() { "ok" } else { "FAILED" }
            ),
        );
    }
    report
}

fn by_route(stats: &Value) -> String {
    let routes: Vec<String> = stats["requests_by_route"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(route, n)| {
            n.as_u64()
                .filter(|n| *n > 0)
                .map(|n| format!("{route} {n}"))
        })
        .collect();
    format!("({})", routes.join(", "))
}
