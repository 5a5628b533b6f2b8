//! `sfscale bench`: a load test through the core against a target — by default an emulator
//! started in-process with the production profile, or any org with `--url`.
//!
//! Operations are offered at `--rate` per second by one ticker; each waits for one of
//! `--concurrency` slots, so a target slower than the offered rate shows as an achieved
//! rate below it (not as an unbounded pile of tasks). Latency is measured around the core's
//! call, so it includes scheduler waits and retries: what the application feels. The
//! report gives throughput, latency percentiles, API calls per record, retries by reason,
//! budget denials, throttling and errors by code.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt as _;
use parking_lot::Mutex;
use serde_json::json;
use sfscale::{Client, Soql};
use tokio::sync::Semaphore;

use crate::commands::emulate::start;
use crate::connect::{emulator_builder, ConnectArgs};
use crate::failure::{Failure, EXIT_ERROR};
use crate::profile;
use crate::progress::Display;
use crate::report::{breakdown, millis, percent, thousands, Report};

/// What the emulator in process does while the test runs.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    /// Production latencies, no faults.
    Steady,
    /// Steady, plus 30 % of calls answering 503 during the middle third of the run.
    Brownout,
}

/// The operations offered.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    /// Single-record upserts by external id.
    Upsert,
    /// Single-record queries by external id.
    Query,
    /// Three upserts for every query.
    Mixed,
}

/// Load-test a target: throughput, latency percentiles, calls per record, retries, errors.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  sfscale bench --rate 200 --concurrency 16 --duration 30s
  sfscale bench --rate 100 --concurrency 8 --duration 1m --profile brownout
  sfscale bench --url http://127.0.0.1:8443 --workload query --rate 50 --duration 10s

Without --url an emulator runs in this process with production latencies; with --url the
SFSCALE_* credentials are used (none needed for an emulator: its default app is used).")]
pub struct Args {
    /// Operations offered per second.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    rate: u32,
    /// Operations in flight at most.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,
    /// How long operations are offered: 500ms, 10s, 2m (a bare number is seconds).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Emulator profile (in-process target only).
    #[arg(long, value_enum, default_value_t = Profile::Steady)]
    profile: Profile,
    /// Operations to offer.
    #[arg(long, value_enum, default_value_t = Workload::Mixed)]
    workload: Workload,
    /// Target instance URL instead of an in-process emulator.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Parses `500ms`, `10s`, `2m` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (e.g. 500ms, 10s, 2m)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown unit '{unit}' in '{text}' (ms, s, m)")),
    };
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!("'{text}' must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// What the operations did.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    records: u64,
    errors: BTreeMap<String, u64>,
}

pub async fn run(args: Args) -> Result<ExitCode, Failure> {
    let (emulator, client) = target(&args).await?;
    let display = Display::detect();
    display.line(format!(
        "bench: {} at {}/s, {} in flight at most, for {:.1} s against {}",
        format!("{:?}", args.workload).to_lowercase(),
        args.rate,
        args.concurrency,
        args.duration.as_secs_f64(),
        args.url.as_deref().unwrap_or("an in-process emulator")
    ));
    let started = Instant::now();
    let tally = offer(&args, &client, &display).await;
    let elapsed = started.elapsed();
    let stats = emulator.as_ref().map(|e| e.stats());
    let tally = std::mem::take(&mut *tally.lock());
    print!(
        "{}",
        report(&args, &client, &tally, elapsed, stats.as_ref()).render()
    );
    if let Some(emulator) = emulator {
        emulator.shutdown().await;
    }
    let failed: u64 = tally.errors.values().sum();
    if tally.latencies.len() as u64 == failed {
        return Err(Failure::new(EXIT_ERROR, "no operation succeeded"));
    }
    Ok(ExitCode::SUCCESS)
}

/// The emulator (when in-process) and a client for the target.
async fn target(args: &Args) -> Result<(Option<sfscale_emulator::Emulator>, Client), Failure> {
    if let Some(url) = &args.url {
        if args.profile == Profile::Brownout {
            return Err(Failure::usage(
                "--profile brownout drives the in-process emulator; for --url set faults on the target (PUT /__emulator/faults)",
            ));
        }
        return Ok((None, args.connect.builder_for(url)?.build()?));
    }
    let mut config = profile::production();
    config.org.session_lifetime_secs = 7_200;
    if args.profile == Profile::Brownout {
        let third = args.duration / 3;
        config.faults = profile::brownout(third, third, 0.3);
    }
    let emulator = start(config).await?;
    let client = emulator_builder(emulator.url()).build()?;
    Ok((Some(emulator), client))
}

/// Offers operations for the duration; returns what they did once all have ended.
async fn offer(args: &Args, client: &Client, display: &Display) -> Arc<Mutex<Tally>> {
    let tally = Arc::new(Mutex::new(Tally::default()));
    let slots = Arc::new(Semaphore::new(args.concurrency as usize));
    let total = (args.duration.as_secs_f64() * f64::from(args.rate)).ceil() as u64;
    let bar = display.bar("bench", Some(total), "ops");
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(args.rate)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let run = std::process::id();
    let deadline = Instant::now() + args.duration;
    let mut tasks = tokio::task::JoinSet::new();
    let mut offered = 0u64;
    while Instant::now() < deadline && offered < total {
        ticker.tick().await;
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            break;
        };
        let (client, tally, workload) = (client.clone(), Arc::clone(&tally), args.workload);
        tasks.spawn(async move {
            let began = Instant::now();
            let outcome = operation(&client, workload, run, offered).await;
            let mut tally = tally.lock();
            tally.latencies.push(began.elapsed());
            match outcome {
                Ok(records) => tally.records += records,
                Err(error) => *tally.errors.entry(error.code().to_owned()).or_default() += 1,
            }
            drop(slot);
        });
        offered += 1;
        bar.set(offered);
    }
    while tasks.join_next().await.is_some() {}
    bar.finish(offered, "offered; all ended");
    tally
}

/// One operation; returns the records it wrote or read.
async fn operation(
    client: &Client,
    workload: Workload,
    run: u32,
    n: u64,
) -> Result<u64, sfscale::Error> {
    let key = format!("BENCH-{run}-{}", n % 1_000);
    let query = match workload {
        Workload::Upsert => false,
        Workload::Query => true,
        Workload::Mixed => n % 4 == 3,
    };
    if query {
        let soql = Soql::select(["Id", "LastName"])
            .from("Contact")
            .where_eq("External_Id__c", key.as_str())
            .build()?;
        let records: Vec<_> = client.query(soql).try_collect().await?;
        Ok(records.len() as u64)
    } else {
        let record =
            json!({"LastName": format!("Bench {n}"), "Email": format!("bench{n}@example.test")});
        client
            .upsert("Contact", "External_Id__c", &key, &record)
            .await?;
        Ok(1)
    }
}

/// The `p`-th percentile (0..=100) of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn report(
    args: &Args,
    client: &Client,
    tally: &Tally,
    elapsed: Duration,
    stats: Option<&serde_json::Value>,
) -> Report {
    let mut sorted = tally.latencies.clone();
    sorted.sort_unstable();
    let ops = sorted.len() as u64;
    let failed: u64 = tally.errors.values().sum();
    let metrics = client.metrics();
    let calls = metrics.requests_total();
    let mut report = Report::default();
    report
        .section("bench")
        .line(
            "target",
            args.url.clone().unwrap_or_else(|| {
                format!("in-process emulator, profile {:?}", args.profile).to_lowercase()
            }),
        )
        .line(
            "operations",
            format!("{} ({} failed)", thousands(ops), thousands(failed)),
        )
        .line(
            "throughput",
            format!(
                "{:.1} ops/s (offered {}/s)",
                ops as f64 / elapsed.as_secs_f64(),
                args.rate
            ),
        )
        .line("records", thousands(tally.records))
        .section("latency (as the application sees it: waits and retries included)")
        .line("p50", millis(percentile(&sorted, 50.0)))
        .line("p90", millis(percentile(&sorted, 90.0)))
        .line("p99", millis(percentile(&sorted, 99.0)))
        .line("max", millis(sorted.last().copied().unwrap_or_default()))
        .section("cost")
        .line("API calls (client)", thousands(calls))
        .line(
            "calls per record",
            format!("{:.2}", calls as f64 / tally.records.max(1) as f64),
        )
        .line("retries", breakdown(&metrics.retries))
        .line("budget denials", thousands(metrics.budget_denials))
        .line("throttled", thousands(metrics.throttled))
        .line("token grants", thousands(metrics.token_refreshes));
    if let Some(stats) = stats {
        report
            .line(
                "API calls (emulator)",
                thousands(stats["api_requests"].as_u64().unwrap_or(0)),
            )
            .line(
                "503s injected",
                thousands(stats["faults_injected"]["503"].as_u64().unwrap_or(0)),
            );
    }
    report.section("errors");
    if tally.errors.is_empty() {
        report.line("none", "");
    }
    for (code, n) in &tally.errors {
        report.line(code, format!("{} ({})", thousands(*n), percent(*n, ops)));
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5h").unwrap_err().contains("unit"));
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn percentiles_pick_by_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 50.0), Duration::from_millis(51));
        assert_eq!(percentile(&samples, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}
