//! Memory stays flat whatever the input size: the same ingest at two sizes, each in its own
//! process (this binary re-run with `SFSCALE_BULK_SCALE_URL` set, selecting the ignored
//! `child_scale` role), compared by peak RSS (`VmHWM` from `/proc/self/status`). The emulator
//! runs in this process, so the child's peak is the client's alone.
//!
//! Always on: 10 000 vs 60 000 rows. Ignored (run by hand, figures in the report):
//! 100 000 vs 1 000 000 rows.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{count, Emu};
use futures::StreamExt as _;
use serde_json::json;
use sfscale::bulk::{IngestInput, Operation};

const URL_ENV: &str = "SFSCALE_BULK_SCALE_URL";
const DIR_ENV: &str = "SFSCALE_BULK_SCALE_DIR";
const ROWS_ENV: &str = "SFSCALE_BULK_SCALE_ROWS";
const MARK: &str = "SFSCALE_PEAK_RSS_KB=";

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The child role: ingests `ROWS` generated records (never all in memory) and prints its peak RSS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child role of the memory tests"]
async fn child_scale() {
    let (Ok(url), Ok(dir), Ok(rows)) = (
        std::env::var(URL_ENV),
        std::env::var(DIR_ENV),
        std::env::var(ROWS_ENV),
    ) else {
        return;
    };
    let rows: u64 = rows.parse().unwrap();
    let client = sfscale::Client::builder()
        .instance_url(&url)
        .auth_client_credentials(
            sfscale_emulator::config::DEFAULT_CLIENT_ID,
            sfscale_emulator::config::DEFAULT_CLIENT_SECRET,
        )
        .build()
        .unwrap();
    let records = futures::stream::iter(0..rows).map(move |i| {
        Ok(json!({"LastName": format!("Last name {i}"), "Email": format!("contact{i}@example.test"), "External_Id__c": format!("S{rows}-{i}")})
            .as_object()
            .unwrap()
            .clone())
    });
    let result = client
        .bulk()
        .work_dir(dir)
        .ingest("Contact", Operation::Insert)
        .max_rows_per_job(10_000)
        .max_parallel_jobs(4)
        .poll_interval(Duration::from_millis(20), Duration::from_millis(200))
        .run(IngestInput::records(records))
        .await
        .unwrap();
    assert_eq!((result.rows_succeeded, result.rows_failed), (rows, 0));
    println!("{MARK}{}", peak_rss_kb());
}

/// Runs the child for `rows` rows against the emulator at `url`; returns its peak RSS in kB.
fn child_peak(url: &str, rows: u64) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["child_scale", "--exact", "--ignored", "--nocapture"])
        .env(URL_ENV, url)
        .env(DIR_ENV, dir.path())
        .env(ROWS_ENV, rows.to_string())
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .find_map(|l| {
            l.find(MARK)
                .map(|i| l[i + MARK.len()..].trim().parse().unwrap())
        })
        .expect("the child reports its peak")
}

/// Peak RSS of the ingesting process for `small` and `large` rows (the emulator keeps
/// serving on this runtime while the children run on a blocking thread).
async fn compare(small: u64, large: u64) -> (u64, u64) {
    let emu = Emu::start().await;
    let url = emu.url().to_owned();
    let (small_kb, large_kb) =
        tokio::task::spawn_blocking(move || (child_peak(&url, small), child_peak(&url, large)))
            .await
            .unwrap();
    assert_eq!(
        count(&emu.stats().await, &["records", "Contact"]),
        small + large
    );
    println!(
        "peak RSS of the ingesting process: {small} rows → {} MB, {large} rows → {} MB",
        small_kb / 1024,
        large_kb / 1024
    );
    (small_kb, large_kb)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_memory_stays_flat_as_rows_grow() {
    let (small, large) = compare(10_000, 60_000).await;
    assert!(
        large <= small + 16 * 1024,
        "6× the rows must not grow the peak by more than 16 MB: {small} kB vs {large} kB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "1 M rows: minutes in a debug build; run by hand"]
async fn a_million_rows_ingest_in_flat_memory() {
    let (small, large) = compare(100_000, 1_000_000).await;
    assert!(
        large <= small + 32 * 1024,
        "10× the rows must not grow the peak by more than 32 MB: {small} kB vs {large} kB"
    );
}
