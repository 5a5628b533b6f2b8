//! `sfscale demo`: the main job, end to end, against an emulator started in this process
//! with a production profile (see [`crate::profile`]).
//!
//! 1. reference data: describe through the cache;
//! 2. nightly load, Accounts: a Bulk upsert by external id;
//! 3. nightly load, Contacts, while the online app runs: a Bulk upsert of Contacts naming
//!    their Account by external id, concurrently with web sign-ups written through the
//!    durable queue and a report streaming every Account — through a brownout window, parent
//!    lock contention and session expiry;
//! 4. verification in the org: every record present exactly once (exit code 3 otherwise);
//! 5. the report: rows moved, API calls against a one-call-per-record client, retries,
//!    budget denials, locks, token grants, limit usage, time.

mod data;
mod online;
mod summary;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::commands::emulate::start;
use crate::connect::emulator_builder;
use crate::failure::{Failure, EXIT_DATA};
use crate::profile;
use crate::progress::Display;
use crate::report::thousands;
use data::{account_key, contact_key, signup_key, Plan};

/// When the brownout starts, counted from the start of the concurrent phase.
const BROWNOUT_AFTER: Duration = Duration::from_secs(2);
/// How long it lasts.
const BROWNOUT_FOR: Duration = Duration::from_secs(8);

/// Run the main job against an in-process emulator with a production profile, and prove
/// no record was lost or duplicated.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  sfscale demo                                    # 300,000 Contacts over 3,000 Accounts, 5,000 sign-ups
  sfscale demo --contacts 20000 --accounts 200    # a quick look
  sfscale demo --session-secs 5                   # sessions expire more often

Exit code 0 when every record is in the org exactly once, 3 when any was lost or duplicated.")]
pub struct Args {
    /// Contacts in the nightly Bulk upsert.
    #[arg(long, default_value_t = 300_000)]
    contacts: u64,
    /// Accounts they belong to (at least 10).
    #[arg(long, default_value_t = 3_000, value_parser = clap::value_parser!(u64).range(10..))]
    accounts: u64,
    /// Web sign-ups written one at a time through the queue while the load runs.
    #[arg(long, default_value_t = 5_000)]
    events: u64,
    /// Pace of the web sign-ups.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    events_per_sec: u64,
    /// Session lifetime of the emulated org, in seconds.
    #[arg(long, default_value_t = profile::SESSION_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    session_secs: u64,
    /// Share of calls answering 503 during the brownout (0 to 1).
    #[arg(long, default_value_t = 0.25, value_parser = share)]
    brownout_share: f64,
    /// Directory for the bulk journal and the queue (default: a temporary one, removed).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
}

fn share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("'{text}' is not a share between 0 and 1")),
    }
}

/// Wall-clock time of each phase.
#[derive(Debug, Default)]
pub struct Timings {
    pub reference: Duration,
    pub accounts: Duration,
    pub concurrent: Duration,
    pub verify: Duration,
    pub total: Duration,
}

pub async fn run(args: Args) -> Result<ExitCode, Failure> {
    let plan = Plan {
        accounts: args.accounts,
        contacts: args.contacts,
        events: args.events,
        events_per_sec: args.events_per_sec,
    };
    let temp = tempfile::tempdir().map_err(|e| Failure::io("cannot create a work directory", e))?;
    let dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::io(format!("cannot create {}", dir.display()), e))?;
    let mut config = profile::production();
    config.org.session_lifetime_secs = args.session_secs;
    let emulator = start(config).await?;
    let client = emulator_builder(emulator.url())
        .retry_backoff(Duration::from_millis(50), Duration::from_secs(2))
        .build()?;
    let display = Display::detect();
    display.line(format!(
        "sfscale demo: {} Contacts over {} Accounts, {} web sign-ups, against an emulated production org at {}\n  (daily allocation {} calls, sessions expire after {} s, parent locks held during Bulk processing, a {} s brownout at {:.0} % 503s)",
        thousands(plan.contacts),
        thousands(plan.accounts),
        thousands(plan.events),
        emulator.url(),
        thousands(profile::DAILY_API_REQUESTS),
        args.session_secs,
        BROWNOUT_FOR.as_secs(),
        args.brownout_share * 100.0
    ));
    let bulk = client.bulk().work_dir(dir.join("bulk"));
    let mut times = Timings::default();
    let started = Instant::now();

    let phase = Instant::now();
    let industries = data::industries(&client).await?;
    times.reference = phase.elapsed();

    let phase = Instant::now();
    let accounts = data::load_accounts(&bulk, plan, industries, &display).await?;
    times.accounts = phase.elapsed();

    let phase = Instant::now();
    emulator
        .faults()
        .set(profile::brownout(
            BROWNOUT_AFTER,
            BROWNOUT_FOR,
            args.brownout_share,
        ))
        .map_err(|e| Failure::usage(format!("brownout rules: {e}")))?;
    let (contacts, signups, streamed) = tokio::join!(
        data::load_contacts(&bulk, plan, &display),
        online::signups(&client, &dir, plan, &display),
        online::account_report(&client, &display),
    );
    emulator.faults().clear();
    let (contacts, signups, streamed) = (contacts?, signups?, streamed?);
    times.concurrent = phase.elapsed();

    let phase = Instant::now();
    display.line("verifying in the org: COUNT(Id) and a Bulk query of every external id");
    let checks = [
        verify::check(&client, "Account", (0..plan.accounts).map(account_key)).await?,
        verify::check(
            &client,
            "Contact",
            (0..plan.contacts)
                .map(contact_key)
                .chain((0..plan.events).map(signup_key)),
        )
        .await?,
    ];
    times.verify = phase.elapsed();
    let limits = client.limits().await?;
    times.total = started.elapsed();

    let outcome = summary::Outcome {
        plan,
        accounts,
        contacts,
        signups,
        streamed,
        checks,
        limits,
        times,
    };
    print!(
        "{}",
        summary::report(&outcome, &client, &emulator.stats()).render()
    );
    emulator.shutdown().await;
    let passed = outcome.checks.iter().all(verify::ObjectCheck::passed);
    let settled = outcome.accounts.result.rows_failed
        + outcome.contacts.result.rows_failed
        + outcome.signups.dead_letters
        == 0;
    Ok(if passed && settled {
        println!("\nPASS: every record is in the org exactly once.");
        ExitCode::SUCCESS
    } else {
        println!("\nFAIL: records were lost, duplicated or refused (see above).");
        ExitCode::from(EXIT_DATA)
    })
}
