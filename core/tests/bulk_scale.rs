//! Memory stays flat whatever the input size: the same ingest at two sizes, each in its own
//! process (this binary re-run with `SFSCALE_BULK_SCALE_URL` set, selecting the ignored
//! `child_scale` role), compared by peak RSS (`VmHWM` from `/proc/self/status`). The emulator
//! runs in this process, so the child's peak is the client's alone.
//!
//! The child also streams every Contact back with a bulk query and reports its peak again.
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
const QUERY_MARK: &str = "SFSCALE_PEAK_AFTER_QUERY_KB=";

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
    let mut streamed = 0u64;
    let mut rows_back = client
        .bulk()
        .query("SELECT Id, LastName, Email, External_Id__c FROM Contact")
        .page_size(20_000)
        .poll_interval(Duration::from_millis(20), Duration::from_millis(200))
        .stream();
    while let Some(row) = rows_back.next().await {
        row.unwrap();
        streamed += 1;
    }
    assert!(streamed >= rows, "every row streams back: {streamed}");
    println!("{QUERY_MARK}{}", peak_rss_kb());
}

/// Runs the child for `rows` rows against the emulator at `url`; returns its peak RSS in kB
/// after the ingest and after streaming every Contact back with a bulk query.
fn child_peak(url: &str, rows: u64) -> (u64, u64) {
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
    let mark = |m: &str| -> u64 {
        stdout
            .lines()
            .find_map(|l| l.find(m).map(|i| l[i + m.len()..].trim().parse().unwrap()))
            .expect("the child reports its peaks")
    };
    (mark(MARK), mark(QUERY_MARK))
}

/// Runs the child for `small` then `large` rows (the emulator keeps serving on this runtime
/// while the children run on a blocking thread); the peaks may grow by `growth_mb` at most.
async fn compare(small: u64, large: u64, growth_mb: u64) {
    let emu = Emu::start().await;
    let url = emu.url().to_owned();
    let (s, l) =
        tokio::task::spawn_blocking(move || (child_peak(&url, small), child_peak(&url, large)))
            .await
            .unwrap();
    assert_eq!(
        count(&emu.stats().await, &["records", "Contact"]),
        small + large
    );
    println!(
        "peak RSS of the client process: ingest {small} rows → {} MB, {large} rows → {} MB; after streaming every Contact back → {} MB, {} MB",
        s.0 / 1024,
        l.0 / 1024,
        s.1 / 1024,
        l.1 / 1024
    );
    assert!(
        l.0 <= s.0 + growth_mb * 1024,
        "ingest peak grew: {s:?} kB vs {l:?} kB"
    );
    assert!(
        l.1 <= s.1 + growth_mb * 1024,
        "query peak grew: {s:?} kB vs {l:?} kB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_and_query_memory_stay_flat_as_rows_grow() {
    compare(10_000, 60_000, 16).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "1 M rows: minutes in a debug build; run by hand"]
async fn a_million_rows_ingest_and_query_in_flat_memory() {
    compare(100_000, 1_000_000, 32).await;
}
