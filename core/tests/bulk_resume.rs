//! A bulk run in a real process killed with SIGKILL mid-way, then resumed here: every row
//! present exactly once, finished jobs not uploaded again. Also: a deadline's handle resumes.
//!
//! Transitions of `bulk::ingest` exercised: Pending → Created → Uploaded → Closed → Done in the
//! child; on resume, Created/Uploaded with the job still Open → aborted → Pending (re-uploaded
//! to a new job), Created/Uploaded/Closed with the job past Open → Closed (polled, not
//! re-uploaded), and Done chunks left alone.
//!
//! The child is this test binary run again with `SFSCALE_BULK_CHILD_URL` set, selecting the
//! ignored `child_ingest` test, which runs the ingest against the parent's emulator.

mod common;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{count, Emu};
use futures::StreamExt as _;
use serde_json::json;
use sfscale::bulk::journal::{ChunkState, Journal};
use sfscale::bulk::{IngestInput, Operation, Record};
use sfscale_emulator::Config;

const ROWS: usize = 4_000;
const URL_ENV: &str = "SFSCALE_BULK_CHILD_URL";
const DIR_ENV: &str = "SFSCALE_BULK_CHILD_DIR";
const RUN_ID: &str = "killed-run";

fn contacts() -> Vec<Record> {
    (0..ROWS)
        .map(|i| {
            json!({"LastName": format!("L{i}"), "External_Id__c": format!("X-{i}")})
                .as_object()
                .unwrap()
                .clone()
        })
        .collect()
}

fn slow_emulator() -> Config {
    let mut config = Config::default();
    config.bulk.batch_size = 250;
    config.bulk.parallel_batches = 2;
    config.bulk.row_micros = 400;
    config
}

/// The child role: runs the ingest until it is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child role of a_killed_run_resumes_without_losing_or_duplicating_rows"]
async fn child_ingest() {
    let (Ok(url), Ok(dir)) = (std::env::var(URL_ENV), std::env::var(DIR_ENV)) else {
        return;
    };
    let client = sfscale::Client::builder()
        .instance_url(&url)
        .auth_client_credentials(
            sfscale_emulator::config::DEFAULT_CLIENT_ID,
            sfscale_emulator::config::DEFAULT_CLIENT_SECRET,
        )
        .build()
        .unwrap();
    client
        .bulk()
        .work_dir(dir)
        .ingest("Contact", Operation::Insert)
        .run_id(RUN_ID)
        .max_rows_per_job(500)
        .max_parallel_jobs(2)
        .poll_interval(Duration::from_millis(10), Duration::from_millis(50))
        .run(IngestInput::from_records(contacts()))
        .await
        .unwrap();
}

fn states(journal: &Journal) -> HashMap<&'static str, usize> {
    let mut by_state = HashMap::new();
    for chunk in journal.chunks(RUN_ID).unwrap_or_default() {
        *by_state.entry(chunk.state.name()).or_insert(0) += 1;
    }
    by_state
}

async fn external_ids(
    emu: &Emu,
    client: &sfscale::Client,
    dir: &std::path::Path,
) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    let mut rows = client
        .bulk()
        .work_dir(dir)
        .query("SELECT External_Id__c FROM Contact")
        .poll_interval(Duration::from_millis(10), Duration::from_millis(50))
        .stream();
    while let Some(row) = rows.next().await {
        *seen
            .entry(row.unwrap()["External_Id__c"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(
        count(&emu.stats().await, &["records", "Contact"]) as usize,
        seen.values().sum::<usize>()
    );
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_resumes_without_losing_or_duplicating_rows() {
    let emu = Emu::start_with(slow_emulator()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_ingest", "--exact", "--ignored", "--nocapture"])
        .env(URL_ENV, emu.url())
        .env(DIR_ENV, dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("child starts");
    let journal_path = dir.path().join("journal.sqlite");
    let mut at_kill = HashMap::new();
    for _ in 0..3_000 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        if !journal_path.exists() {
            continue;
        }
        let journal = Journal::open(&journal_path).unwrap();
        at_kill = states(&journal);
        let done = at_kill.get("done").copied().unwrap_or(0);
        if (2..8).contains(&done) {
            break;
        }
    }
    let client = emu.client();
    let busy = client
        .bulk()
        .work_dir(dir.path())
        .resume(RUN_ID)
        .run()
        .await
        .expect_err("the child still drives the run");
    assert_eq!(
        busy.code(),
        "BULK_RUN_BUSY",
        "two processes never drive one run: {busy}"
    );
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    let journal = Journal::open(&journal_path).unwrap();
    let chunks = journal.chunks(RUN_ID).unwrap();
    let closed_or_done = chunks
        .iter()
        .filter(|c| matches!(c.state, ChunkState::Closed | ChunkState::Done))
        .count();
    assert!(
        closed_or_done >= 2 && closed_or_done < chunks.len(),
        "killed mid-way: {at_kill:?}"
    );
    let uploads_before = count(&emu.stats().await, &["bulk_uploads"]);

    let result = client
        .bulk()
        .work_dir(dir.path())
        .resume(RUN_ID)
        .run()
        .await
        .expect("resume finishes the run");
    assert!(result.complete);
    assert_eq!(
        (result.rows_read, result.rows_succeeded, result.rows_failed),
        (ROWS as u64, ROWS as u64, 0)
    );
    let uploads_during_resume = count(&emu.stats().await, &["bulk_uploads"]) - uploads_before;
    let not_closed = (chunks.len() - closed_or_done) as u64;
    assert!(uploads_during_resume <= not_closed, "finished or closed jobs are not uploaded again: {uploads_during_resume} uploads for {not_closed} unfinished chunks");
    let ids = external_ids(&emu, &client, dir.path()).await;
    assert_eq!(ids.len(), ROWS, "every row present");
    assert!(ids.values().all(|n| *n == 1), "no row inserted twice");
    println!(
        "killed at {at_kill:?}; resume uploaded {uploads_during_resume} chunk(s) of {}",
        chunks.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_returns_a_handle_that_resumes() {
    let emu = Emu::start_with(slow_emulator()).await;
    let dir = tempfile::tempdir().unwrap();
    let client = emu.client();
    let bulk = client.bulk().work_dir(dir.path());
    let first = bulk
        .ingest("Contact", Operation::Insert)
        .max_rows_per_job(1_000)
        .poll_interval(Duration::from_millis(10), Duration::from_millis(50))
        .deadline(Duration::from_millis(300))
        .run(IngestInput::from_records(contacts()))
        .await
        .unwrap();
    assert!(
        !first.complete,
        "the deadline passes before 4 000 slow rows are processed"
    );
    assert!(first.rows_pending > 0);
    let finished = bulk.resume(&first.run_id).run().await.unwrap();
    assert!(finished.complete);
    assert_eq!(
        (finished.rows_succeeded, finished.rows_failed),
        (ROWS as u64, 0)
    );
    assert_eq!(
        count(&emu.stats().await, &["records", "Contact"]),
        ROWS as u64
    );
    let again = bulk.resume(&first.run_id).run().await.unwrap();
    assert_eq!(
        again.rows_succeeded, ROWS as u64,
        "a finished run reports its result again"
    );
}
