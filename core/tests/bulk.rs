//! Bulk API 2.0 engine against the emulator: ingest from records and CSV, per-row outcomes,
//! bad rows, a failed job, lock-aware planning, query, auto write.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{count, Emu};
use futures::StreamExt as _;
use serde_json::{json, Value};
use sfscale::bulk::{Bulk, IngestInput, Operation, Record, WriteMethod};
use sfscale::Client;
use sfscale_emulator::Config;

fn record(value: Value) -> Record {
    value.as_object().expect("object").clone()
}

fn bulk(client: &Client, dir: &tempfile::TempDir) -> Bulk {
    client.bulk().work_dir(dir.path())
}

fn fast() -> (Duration, Duration) {
    (Duration::from_millis(10), Duration::from_millis(100))
}

fn read_csv(path: &std::path::Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).expect("outcome file");
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_insert_from_records_maps_every_row_to_its_outcome() {
    let emu = Emu::start().await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let rows = 2_500;
    let records: Vec<Record> = (0..rows).map(|i| record(json!({"LastName": format!("L{i}"), "Email": format!("c{i}@x.test"), "External_Id__c": format!("C-{i}")}))).collect();
    let seen = Arc::new(AtomicU64::new(0));
    let seen_rows = Arc::clone(&seen);
    let last = Arc::new(parking_lot::Mutex::new(None));
    let last_progress = Arc::clone(&last);
    let (initial, max) = fast();
    let result = bulk(&client, &dir)
        .ingest("Contact", Operation::Insert)
        .max_rows_per_job(1_000)
        .max_parallel_jobs(2)
        .poll_interval(initial, max)
        .on_row(move |_| {
            seen_rows.fetch_add(1, Ordering::Relaxed);
        })
        .on_progress(move |p| *last_progress.lock() = Some(p))
        .run(IngestInput::from_records(records))
        .await
        .expect("ingest runs");
    assert!(result.complete);
    assert_eq!(
        (result.rows_read, result.rows_succeeded, result.rows_failed),
        (rows, rows, 0)
    );
    assert_eq!(result.jobs_used, 3);
    assert_eq!(seen.load(Ordering::Relaxed), rows);
    let progress = last.lock().expect("progress reported");
    assert_eq!(
        (
            progress.rows_read,
            progress.rows_uploaded,
            progress.rows_processed
        ),
        (rows, rows, rows)
    );
    let stats = emu.stats().await;
    assert_eq!(count(&stats, &["records", "Contact"]), rows);
    assert_eq!(count(&stats, &["bulk_uploads"]), 3);
    assert!(
        result.api_calls >= 3 * 7,
        "create, upload, close, ≥1 poll, 3 result lists per job: {}",
        result.api_calls
    );
    let success = read_csv(&result.success_file);
    let numbers: HashSet<u64> = success
        .iter()
        .map(|r| r["sfscale__Row"].parse().unwrap())
        .collect();
    assert_eq!(numbers, (0..rows).collect());
    let row_7 = success.iter().find(|r| r["sfscale__Row"] == "7").unwrap();
    assert_eq!(
        row_7["LastName"], "L7",
        "the outcome row is the input row 7"
    );
    assert!(row_7["sf__Id"].starts_with("003"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rows_are_reported_per_row_with_salesforce_errors_while_good_rows_load() {
    let emu = Emu::start().await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let mut records: Vec<Record> = (0..20)
        .map(|i| record(json!({"Name": format!("A{i}"), "NumberOfEmployees": i})))
        .collect();
    records[3] = record(json!({"NumberOfEmployees": 5}));
    records[8] = record(json!({"Name": "typed", "NumberOfEmployees": "many"}));
    records[12] = record(json!({"Name": "odd", "Bogus__c": "x"}));
    let (initial, max) = fast();
    let result = bulk(&client, &dir)
        .ingest("Account", Operation::Insert)
        .poll_interval(initial, max)
        .run(IngestInput::from_records(records))
        .await
        .expect("ingest runs");
    assert_eq!((result.rows_succeeded, result.rows_failed), (17, 3));
    let errors: HashMap<String, String> = read_csv(&result.error_file)
        .into_iter()
        .map(|r| (r["sfscale__Row"].clone(), r["sf__Error"].clone()))
        .collect();
    assert!(
        errors["3"].starts_with("REQUIRED_FIELD_MISSING:"),
        "{errors:?}"
    );
    assert!(
        errors["8"].starts_with("INVALID_TYPE_ON_FIELD_IN_RECORD:")
            || errors["8"].contains("NumberOfEmployees"),
        "{errors:?}"
    );
    assert!(
        errors["12"].contains("Bogus__c"),
        "the unknown column fails its own job with Salesforce's message: {errors:?}"
    );
    let failures: HashSet<u64> = result.failures.iter().filter_map(|f| f.row).collect();
    assert_eq!(failures, HashSet::from([3, 8, 12]));
    assert_eq!(count(&emu.stats().await, &["records", "Account"]), 17);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_the_emulator_fails_reports_its_unprocessed_rows_with_the_job_error() {
    let mut config = Config::default();
    config.bulk.batch_size = 100;
    config.bulk.parallel_batches = 1; // no batch in flight when the fault fails the job at batch 2 of 4
    let emu = Emu::start_with(config).await;
    emu.set_faults(
        json!({"seed": 1, "rules": [{"route": "bulk", "share": 1.0, "effect": "bulk-fail"}]}),
    )
    .await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let csv_text: String = std::iter::once("Name\n".to_owned())
        .chain((0..400).map(|i| format!("Acct {i}\n")))
        .collect();
    let (initial, max) = fast();
    let result = bulk(&client, &dir)
        .ingest("Account", Operation::Insert)
        .poll_interval(initial, max)
        .lock_retry_rounds(0)
        .run(IngestInput::csv_bytes(csv_text))
        .await
        .expect("a failed job is an outcome, not an error");
    assert!(result.complete);
    assert_eq!(result.rows_succeeded + result.rows_failed, 400);
    let failed = result.rows_failed;
    assert!(
        failed >= 100 && failed % 100 == 0,
        "whole batches (the failing one and any not yet run) are unprocessed: {failed}"
    );
    let failure = &result.failures[0];
    let error = failure.error.as_ref().unwrap();
    assert_eq!(error.code, "BULK_JOB_FAILED");
    assert!(!error.message.is_empty());
    assert_eq!(
        count(&emu.stats().await, &["records", "Account"]),
        result.rows_succeeded
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_from_csv_then_query_update_and_delete_by_id() {
    let emu = Emu::start().await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let (initial, max) = fast();
    let file = dir.path().join("accounts.csv");
    let text: String = std::iter::once("External_Id__c,Name\n".to_owned())
        .chain((0..300).map(|i| format!("E-{i},\"Name, {i}\"\n")))
        .collect();
    std::fs::write(&file, text).unwrap();
    let run = |op: Operation| {
        bulk(&client, &dir)
            .ingest("Account", op)
            .external_id("External_Id__c")
            .poll_interval(initial, max)
    };
    let first = run(Operation::Upsert)
        .run(IngestInput::csv_file(&file))
        .await
        .unwrap();
    assert_eq!(first.rows_succeeded, 300);
    let again = run(Operation::Upsert)
        .run(IngestInput::csv_file(&file))
        .await
        .unwrap();
    let created: Vec<_> = read_csv(&again.success_file)
        .into_iter()
        .map(|r| r["sf__Created"].clone())
        .collect();
    assert!(
        created.iter().all(|c| c == "false"),
        "the second upsert updates"
    );
    assert_eq!(count(&emu.stats().await, &["records", "Account"]), 300);

    let ids: Vec<Record> = bulk(&client, &dir)
        .query("SELECT Id, Name FROM Account")
        .page_size(70)
        .poll_interval(initial, max)
        .stream()
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(ids.len(), 300);
    assert!(ids.iter().any(|r| r["Name"] == "Name, 7"));
    let renamed: Vec<Record> = ids
        .iter()
        .map(|r| record(json!({"Id": r["Id"], "Name": "renamed"})))
        .collect();
    let updated = bulk(&client, &dir)
        .ingest("Account", Operation::Update)
        .poll_interval(initial, max)
        .run(IngestInput::from_records(renamed))
        .await
        .unwrap();
    assert_eq!(updated.rows_succeeded, 300);
    let out = dir.path().join("accounts-out.csv");
    let written = bulk(&client, &dir)
        .query("SELECT Id, Name FROM Account")
        .page_size(70)
        .poll_interval(initial, max)
        .to_csv(&out)
        .await
        .unwrap();
    assert_eq!((written.rows, written.pages), (300, 5));
    let rows = read_csv(&out);
    assert_eq!(rows.len(), 300, "one header, every row");
    assert!(rows.iter().all(|r| r["Name"] == "renamed"));
    let deletes: Vec<Record> = ids
        .iter()
        .take(100)
        .map(|r| record(json!({"Id": r["Id"]})))
        .collect();
    let deleted = bulk(&client, &dir)
        .ingest("Account", Operation::Delete)
        .poll_interval(initial, max)
        .run(IngestInput::from_records(deletes))
        .await
        .unwrap();
    assert_eq!(deleted.rows_succeeded, 100);
    assert_eq!(count(&emu.stats().await, &["records", "Account"]), 200);
    let with_deleted = bulk(&client, &dir)
        .query("SELECT Id FROM Account")
        .query_all()
        .poll_interval(initial, max)
        .stream()
        .count()
        .await;
    assert_eq!(with_deleted, 300, "queryAll includes the deleted rows");
    let rest: Vec<Record> = ids
        .iter()
        .skip(100)
        .map(|r| record(json!({"Id": r["Id"]})))
        .collect();
    let hard = bulk(&client, &dir)
        .write("Account", Operation::HardDelete, rest)
        .run()
        .await
        .unwrap();
    assert_eq!(
        (hard.method, hard.succeeded),
        (WriteMethod::Bulk, 200),
        "hardDelete exists only in bulk"
    );
    assert_eq!(count(&emu.stats().await, &["records", "Account"]), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_picks_single_collections_or_bulk_by_volume() {
    let emu = Emu::start().await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let accounts = |n: usize, tag: &str| {
        (0..n)
            .map(|i| record(json!({"Name": format!("{tag}{i}")})))
            .collect::<Vec<_>>()
    };
    let one = bulk(&client, &dir)
        .write("Account", Operation::Insert, accounts(1, "s"))
        .run()
        .await
        .unwrap();
    assert_eq!((one.method, one.succeeded), (WriteMethod::Single, 1));
    let some = bulk(&client, &dir)
        .write("Account", Operation::Insert, accounts(450, "c"))
        .run()
        .await
        .unwrap();
    assert_eq!(
        (some.method, some.succeeded, some.outcomes.len()),
        (WriteMethod::Collections, 450, 450)
    );
    let many = bulk(&client, &dir)
        .write("Account", Operation::Insert, accounts(60, "b"))
        .collections_max(50)
        .run()
        .await
        .unwrap();
    assert_eq!((many.method, many.succeeded), (WriteMethod::Bulk, 60));
    assert!(
        many.reason.contains("collections_max 50"),
        "{}",
        many.reason
    );
    let stats = emu.stats().await;
    assert_eq!(count(&stats, &["records", "Account"]), 511);
    assert_eq!(count(&stats, &["bulk_uploads"]), 1);
}

/// How the parent-heavy load is planned.
#[derive(Clone, Copy, PartialEq)]
enum Plan {
    /// Input order, no lock-retry round: what a naive parallel loader does.
    Naive,
    /// Input order, lock failures retried in later rounds.
    NaiveWithRounds,
    /// Grouped by parent (inferred from describe).
    LockAware,
}

/// Contacts spread over few Accounts, interleaved (the worst order for locks).
async fn parent_heavy_load(
    contacts: usize,
    accounts: usize,
    plan: Plan,
) -> (u64, sfscale::bulk::BulkResult) {
    let mut config = Config::default();
    config.bulk.batch_size = 1_000;
    config.bulk.chunk_size = 200;
    config.bulk.parallel_batches = 4;
    config.bulk.row_micros = 40;
    config.bulk.batch_retries = 1;
    config.limits.lock_wait_ms = 20;
    let emu = Emu::start_with(config).await;
    emu.load("Account", common::accounts("P", accounts)).await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let (initial, max) = fast();
    let parents: Vec<String> = bulk(&client, &dir)
        .query("SELECT Id FROM Account")
        .poll_interval(initial, max)
        .stream()
        .map(|r| r.unwrap()["Id"].as_str().unwrap().to_owned())
        .collect()
        .await;
    assert_eq!(parents.len(), accounts);
    let records: Vec<Record> =
        (0..contacts).map(|i| record(json!({"LastName": format!("L{i}"), "External_Id__c": format!("K-{i}"), "AccountId": parents[i % accounts]}))).collect();
    let settings = sfscale::bulk::IngestSettings {
        batch_rows: 1_000,
        max_parallel_jobs: 4,
        poll_initial: initial,
        poll_max: max,
        ..Default::default()
    };
    let ingest = bulk(&client, &dir)
        .ingest("Contact", Operation::Insert)
        .settings(settings);
    let ingest = match plan {
        Plan::LockAware => ingest,
        Plan::Naive => ingest
            .no_grouping()
            .max_rows_per_job(2_500)
            .lock_retry_rounds(0),
        Plan::NaiveWithRounds => ingest.no_grouping().max_rows_per_job(2_500),
    };
    let result = ingest
        .run(IngestInput::from_records(records))
        .await
        .expect("ingest runs");
    let stats = emu.stats().await;
    assert_eq!(
        count(&stats, &["records", "Contact"]),
        result.rows_succeeded
    );
    (
        count(&stats, &["errors_by_code", "UNABLE_TO_LOCK_ROW"]),
        result,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_aware_planning_cuts_lock_errors_and_loses_no_row() {
    let (naive_errors, naive) = parent_heavy_load(10_000, 100, Plan::Naive).await;
    let (aware_errors, aware) = parent_heavy_load(10_000, 100, Plan::LockAware).await;
    println!("UNABLE_TO_LOCK_ROW naive: {naive_errors} ({} rows failed), lock-aware: {aware_errors} (rounds {}, rows retried {})", naive.rows_failed, aware.lock_retry_rounds, aware.lock_retried_rows);
    assert_eq!(
        aware.group_by.as_deref(),
        Some("AccountId"),
        "{}",
        aware.grouping_reason
    );
    assert!(
        naive_errors > 0,
        "the naive parallel load meets lock contention"
    );
    assert!(
        aware_errors * 10 <= naive_errors,
        "lock-aware: {aware_errors} vs naive {naive_errors}"
    );
    assert_eq!((aware.rows_succeeded, aware.rows_failed), (10_000, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_that_fail_on_locks_are_retried_in_smaller_rounds_until_none_fail() {
    let (errors, result) = parent_heavy_load(10_000, 100, Plan::NaiveWithRounds).await;
    println!(
        "UNABLE_TO_LOCK_ROW {errors}; rounds {}, rows retried {}, jobs {}",
        result.lock_retry_rounds, result.lock_retried_rows, result.jobs_used
    );
    assert!(
        errors > 0 && result.lock_retried_rows > 0,
        "the first pass met lock contention"
    );
    assert!(
        (1..=3).contains(&result.lock_retry_rounds),
        "bounded rounds: {}",
        result.lock_retry_rounds
    );
    assert_eq!((result.rows_succeeded, result.rows_failed), (10_000, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the issue's scale (100 000 Contacts over 1 000 Accounts): about a minute in debug; run by hand"]
async fn lock_aware_planning_at_100k_contacts_over_1k_accounts() {
    let (naive_errors, naive) = parent_heavy_load(100_000, 1_000, Plan::Naive).await;
    let (aware_errors, aware) = parent_heavy_load(100_000, 1_000, Plan::LockAware).await;
    println!(
        "100k/1k: UNABLE_TO_LOCK_ROW naive {naive_errors} ({} rows failed), lock-aware {aware_errors} (rounds {}, jobs {})",
        naive.rows_failed, aware.lock_retry_rounds, aware.jobs_used
    );
    assert!(aware_errors * 10 <= naive_errors);
    assert_eq!((aware.rows_succeeded, aware.rows_failed), (100_000, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_batches_stop_at_the_reserve_of_the_daily_allocation_and_the_run_resumes() {
    let mut config = Config::default();
    config.limits.daily_bulk_batches = 10;
    let emu = Emu::start_with(config).await;
    let client = emu
        .builder()
        .limits_stale_after(Duration::from_millis(1))
        .limits_pace_band(0.0)
        .limits_reserve_wait(Duration::ZERO)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (initial, max) = fast();
    let accounts: Vec<Record> = (0..1_200)
        .map(|i| record(json!({"Name": format!("Q{i}")})))
        .collect();
    let error = bulk(&client, &dir)
        .ingest("Account", Operation::Insert)
        .run_id("quota")
        .max_rows_per_job(100)
        .max_parallel_jobs(1)
        .poll_interval(initial, max)
        .run(IngestInput::from_records(accounts))
        .await
        .expect_err("the guard stops the run at the reserve (8 of 10 batches)");
    assert_eq!(error.code(), "LIMIT_RESERVE_REACHED", "{error}");
    assert!(
        error.to_string().contains("run quota"),
        "the error names the run to resume: {error}"
    );
    let stats = emu.stats().await;
    assert_eq!(
        count(&stats, &["bulk_batches"]),
        8,
        "no batch past the reserve line"
    );
    assert_eq!(
        count(&stats, &["bulk_jobs", "Failed"]),
        0,
        "no job hit Salesforce's quota"
    );
    emu.set_limits(json!({"daily_bulk_batches": 100})).await;
    let result = bulk(&client, &dir)
        .resume("quota")
        .run()
        .await
        .expect("resumes once the allocation allows");
    assert_eq!((result.rows_succeeded, result.rows_failed), (1_200, 0));
    let stats = emu.stats().await;
    assert_eq!(count(&stats, &["records", "Account"]), 1_200);
    assert_eq!(
        count(&stats, &["bulk_uploads"]),
        12,
        "every chunk uploaded once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_brownout_of_503s_and_resets_still_lands_every_row_exactly_once() {
    let emu = Emu::start().await;
    emu.set_faults(json!({"seed": 11, "rules": [
        {"route": "bulk", "share": 0.1, "effect": "503"},
        {"route": "bulk", "share": 0.1, "effect": "reset"}
    ]}))
    .await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let (initial, max) = fast();
    let rows = 3_000u64;
    let records: Vec<Record> = (0..rows)
        .map(|i| record(json!({"LastName": format!("B{i}"), "External_Id__c": format!("BR-{i}")})))
        .collect();
    let result = bulk(&client, &dir)
        .ingest("Contact", Operation::Insert)
        .max_rows_per_job(250)
        .max_parallel_jobs(3)
        .poll_interval(initial, max)
        .run(IngestInput::from_records(records))
        .await
        .expect("a brownout is survived");
    let stats = emu.stats().await;
    println!(
        "faults injected {}; jobs {} for 12 chunks; api calls {}",
        stats["faults_injected"], result.jobs_used, result.api_calls
    );
    assert_eq!((result.rows_succeeded, result.rows_failed), (rows, 0));
    assert_eq!(
        count(&stats, &["records", "Contact"]),
        rows,
        "no row inserted twice"
    );
    assert!(
        count(&stats, &["faults_injected", "503"]) + count(&stats, &["faults_injected", "reset"])
            > 0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brownout_while_polling_a_running_job_delays_the_run_but_never_ends_it() {
    let mut config = Config::default();
    config.bulk.row_micros = 1_000;
    config.bulk.parallel_batches = 1;
    let emu = Emu::start_with(config).await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let rows = 2_000u64;
    let records: Vec<Record> = (0..rows)
        .map(|i| record(json!({"Name": format!("P{i}"), "External_Id__c": format!("POLL-{i}")})))
        .collect();
    let run = tokio::spawn({
        let bulk = bulk(&client, &dir);
        async move {
            bulk.ingest("Account", Operation::Insert)
                .poll_interval(Duration::from_millis(50), Duration::from_millis(200))
                .run(IngestInput::from_records(records))
                .await
        }
    });
    // Once the job runs on the server, every bulk call answers 503 for longer than the
    // pipeline's retries last (4 attempts, full-jitter backoff well under a second).
    let running = async {
        while count(&emu.stats().await, &["bulk_jobs", "InProgress"]) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), running)
        .await
        .expect("the job starts running");
    emu.set_faults(json!({"seed": 3, "rules": [
        {"route": "bulk", "share": 1.0, "effect": "503", "for_s": 2.5}
    ]}))
    .await;
    let result = run.await.unwrap().expect("polling outlives the brownout");
    let stats = emu.stats().await;
    assert_eq!((result.rows_succeeded, result.rows_failed), (rows, 0));
    assert_eq!(count(&stats, &["records", "Account"]), rows);
    assert!(
        count(&stats, &["faults_injected", "503"]) >= 4,
        "the brownout hit the polls"
    );
}
