//! The write-behind queue against the emulator: few calls for many writes, nothing lost in a
//! brownout or a killed process, dead letters with Salesforce's error, replay, backpressure,
//! collapse. Transitions exercised (see `queue::state`) are named per test.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{count, Emu};
use futures::{StreamExt as _, TryStreamExt as _};
use parking_lot::Mutex;
use serde_json::{json, Value};
use sfscale::queue::{Outcome, QueueEvent, WhenFull};
use sfscale::rest::Record;
use sfscale::{Client, Queue, QueueConfig, WriteOp};

/// Env var that turns this test binary into the child of the kill test (value: journal path).
const CHILD_JOURNAL: &str = "SFSCALE_QUEUE_TEST_CHILD_JOURNAL";
/// Env var giving the child the emulator URL.
const CHILD_EMULATOR: &str = "SFSCALE_QUEUE_TEST_CHILD_EMULATOR";
/// Env var selecting the child's workload: `upsert` (default) or `bulk_insert`.
const CHILD_MODE: &str = "SFSCALE_QUEUE_TEST_CHILD_MODE";
/// Writes the child offers before it is killed.
const CHILD_WRITES: usize = 3_000;
/// Inserts the bulk child offers (all of them go into one bulk run).
const BULK_CHILD_WRITES: usize = 1_000;

fn record(value: Value) -> Record {
    value.as_object().expect("an object").clone()
}

fn upsert() -> WriteOp {
    WriteOp::upsert("External_Id__c")
}

fn account(ext: &str) -> Record {
    record(json!({"Name": ext, "External_Id__c": ext}))
}

/// A queue config in `dir` with short backoff (tests drain quickly after a fault).
fn config(dir: &Path) -> QueueConfig {
    QueueConfig::new(dir.join("queue.sqlite"))
        .retry_backoff(Duration::from_millis(20), Duration::from_millis(300))
}

/// Every outcome the queue announces, by ticket.
fn collect_outcomes(queue: &Queue) -> Arc<Mutex<BTreeMap<u64, QueueEvent>>> {
    let seen: Arc<Mutex<BTreeMap<u64, QueueEvent>>> = Arc::default();
    let sink = Arc::clone(&seen);
    queue.on_outcome(move |e| {
        sink.lock().insert(e.ticket.0, e.clone());
    });
    seen
}

/// How many Accounts carry each external id, read back through the REST API.
async fn external_ids(client: &Client) -> BTreeMap<String, u64> {
    let rows: Vec<Record> = client
        .query("SELECT External_Id__c FROM Account")
        .try_collect()
        .await
        .expect("query");
    let mut counts = BTreeMap::new();
    for row in rows {
        if let Some(ext) = row.get("External_Id__c").and_then(Value::as_str) {
            *counts.entry(ext.to_owned()).or_default() += 1;
        }
    }
    counts
}

async fn enqueue_upserts(queue: &Queue, prefix: &str, n: usize, concurrency: usize) {
    futures::stream::iter(0..n)
        .for_each_concurrent(concurrency, |i| async move {
            let ext = format!("{prefix}-{i}");
            queue
                .enqueue("Account", upsert(), account(&ext), None)
                .await
                .expect("accepted");
        })
        .await;
}

/// T1, T2, T4: many single writes, few calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_single_enqueues_take_at_most_sixty_api_calls_and_store_every_record() {
    let emu = Emu::start().await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    // A 1 s linger (default 200 ms) keeps calls full even on a slow machine that enqueues
    // under 1 000 writes per second.
    let queue = client
        .queue(config(dir.path()).linger(Duration::from_secs(1)))
        .await
        .unwrap();
    let outcomes = collect_outcomes(&queue);
    let started = std::time::Instant::now();
    enqueue_upserts(&queue, "ten-k", 10_000, 256).await;
    let accepted_in = started.elapsed();
    queue.flush().await.unwrap();
    let stats = emu.stats().await;
    let figures = queue.stats();
    println!(
        "10 000 enqueues: accepted in {accepted_in:?}, all settled in {:?}; api_requests {}, queue {figures:?}, routes {}",
        started.elapsed(),
        stats["api_requests"],
        stats["requests_by_route"]
    );
    assert!(count(&stats, &["api_requests"]) <= 60, "{stats}");
    assert_eq!(count(&stats, &["records", "Account"]), 10_000);
    assert_eq!(
        (
            figures.delivered + figures.superseded,
            figures.dead_letters,
            figures.depth
        ),
        (10_000, 0, 0)
    );
    {
        let outcomes = outcomes.lock();
        assert_eq!(outcomes.len(), 10_000);
        assert!(outcomes.values().all(
            |e| matches!(&e.outcome, Outcome::Delivered { id: Some(id), .. } if id.len() == 18)
        ));
    }
    let gauges = client.metrics().gauges;
    assert_eq!(gauges.get("queue_depth"), Some(&0));
    assert!(gauges["queue_writes_per_call"] >= 100, "{gauges:?}");
    queue.close().await.unwrap();
    assert_eq!(external_ids(&client).await.len(), 10_000);
}

/// Waits for `n` outcomes, each a delivery (a generous bound turns a stranded write into a
/// failure instead of a hang).
async fn delivered(events: &mut tokio::sync::broadcast::Receiver<QueueEvent>, n: usize) {
    for _ in 0..n {
        let event = tokio::time::timeout(Duration::from_secs(60), events.recv())
            .await
            .expect("an outcome arrives without a flush")
            .expect("no event lost");
        assert!(
            matches!(event.outcome, Outcome::Delivered { .. }),
            "{event:?}"
        );
    }
}

/// T1, T2, T4 without a flush: the dispatcher is woken only by commits it would otherwise
/// see too late, so this checks that none is stranded: a lone write, a write after the queue
/// drained, and a stream from one sequential caller (the B6 shape) all go out by linger or
/// full batch alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_go_out_without_a_flush_whether_alone_after_a_drain_or_in_a_stream() {
    let emu = Emu::start().await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let queue = client
        .queue(config(dir.path()).linger(Duration::from_millis(50)))
        .await
        .unwrap();
    let mut events = queue.subscribe();
    queue
        .enqueue("Account", upsert(), account("alone"), None)
        .await
        .unwrap();
    delivered(&mut events, 1).await;
    queue
        .enqueue("Account", upsert(), account("after-drain"), None)
        .await
        .unwrap();
    delivered(&mut events, 1).await;
    enqueue_upserts(&queue, "stream", 1_000, 1).await;
    delivered(&mut events, 1_000).await;
    assert_eq!(queue.stats().depth, 0);
    assert_eq!(external_ids(&client).await.len(), 1_002);
    queue.close().await.unwrap();
}

/// T5: every collections call fails for a while; the queue keeps the writes and drains later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brownout_in_the_middle_loses_nothing() {
    let emu = Emu::start().await;
    let client = emu.builder().retry_max_attempts(2).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let queue = client
        .queue(config(dir.path()).no_bulk().batch_size(100))
        .await
        .unwrap();
    enqueue_upserts(&queue, "before", 500, 64).await;
    emu.set_faults(json!({"seed": 1, "rules": [{"route": "composite", "share": 1.0, "effect": "503", "after_s": 0, "for_s": 1}]})).await;
    enqueue_upserts(&queue, "during", 1_000, 64).await;
    queue.flush().await.unwrap();
    let stats = emu.stats().await;
    let figures = queue.stats();
    println!(
        "brownout: api_requests {}, faults {}, queue {figures:?}",
        stats["api_requests"], stats["faults_injected"]
    );
    assert!(count(&stats, &["faults_injected", "503"]) >= 1, "{stats}");
    assert!(
        figures.writes_sent > 1_500,
        "some writes were sent again: {figures:?}"
    );
    assert_eq!((figures.delivered, figures.dead_letters), (1_500, 0));
    let ids = external_ids(&client).await;
    assert_eq!(ids.len(), 1_500);
    assert!(ids.values().all(|n| *n == 1));
    queue.close().await.unwrap();
}

/// The child role of the kill test: enqueue slowly-drained writes, report each accepted one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_role_enqueues_until_killed() {
    let (Ok(journal), Ok(url)) = (std::env::var(CHILD_JOURNAL), std::env::var(CHILD_EMULATOR))
    else {
        return; // Only meaningful when the kill test starts this binary as its child.
    };
    let client = Client::builder()
        .instance_url(&url)
        .auth_client_credentials(
            sfscale_emulator::config::DEFAULT_CLIENT_ID,
            sfscale_emulator::config::DEFAULT_CLIENT_SECRET,
        )
        .build()
        .unwrap();
    if std::env::var(CHILD_MODE).as_deref() == Ok("bulk_insert") {
        return bulk_child(&client, &journal).await;
    }
    let config = QueueConfig::new(journal)
        .no_bulk()
        .batch_size(20)
        .workers(1)
        .linger(Duration::from_millis(20));
    let queue = client.queue(config).await.unwrap();
    for i in 0..CHILD_WRITES {
        let ext = format!("killed-{i}");
        let ticket = queue
            .enqueue("Account", upsert(), account(&ext), None)
            .await
            .unwrap();
        println!("accepted {ext} {}", ticket.0);
    }
    std::future::pending::<()>().await;
}

/// The name in a child's `accepted <name> <ticket>` line (the test harness may print its
/// own text before the first one on the same line).
fn accepted_name(line: &str) -> Option<String> {
    let (_, rest) = line.split_once("accepted ")?;
    rest.split(' ').next().map(str::to_owned)
}

/// The bulk child: inserts that pile up while collections calls fail, then go out as one
/// bulk run; it reports each accepted write and waits to be killed.
async fn bulk_child(client: &Client, journal: &str) {
    let config = QueueConfig::new(journal)
        .bulk_threshold(300)
        .retry_backoff(Duration::from_millis(200), Duration::from_secs(2));
    let queue = client.queue(config).await.unwrap();
    for i in 0..BULK_CHILD_WRITES {
        let name = format!("bk-{i}");
        let ticket = queue
            .enqueue(
                "Account",
                WriteOp::Insert,
                record(json!({ "Name": name })),
                None,
            )
            .await
            .unwrap();
        println!("accepted {name} {}", ticket.0);
    }
    std::future::pending::<()>().await;
}

/// This test binary again, running only the child role (`mode`: its `CHILD_MODE`), with its
/// stdout piped so the parent can read which writes were accepted.
fn spawn_child(journal: &Path, emulator: &str, mode: Option<&str>) -> std::process::Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "child_role_enqueues_until_killed",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_JOURNAL, journal)
        .env(CHILD_EMULATOR, emulator)
        .stdout(Stdio::piped());
    if let Some(mode) = mode {
        command.env(CHILD_MODE, mode);
    }
    command.spawn().expect("child starts")
}

/// T10 for a bulk run: a process killed while its bulk insert job runs; the restarted process
/// resumes that run (no second upload) and every insert exists exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_during_a_bulk_insert_resumes_the_run_and_inserts_each_record_once() {
    // Bulk processing takes ~3 ms per row, so the job is still running at the kill.
    let mut setup = sfscale_emulator::Config::default();
    setup.bulk.row_micros = 3_000;
    let emu = Emu::start_with(setup).await;
    // Collections calls fail, so the inserts pile up past the bulk threshold.
    emu.set_faults(
        json!({"seed": 4, "rules": [{"route": "composite", "share": 1.0, "effect": "503"}]}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("queue.sqlite");
    let mut child = spawn_child(&journal, emu.url(), Some("bulk_insert"));
    let accepted = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| accepted_name(&l))
        .take(BULK_CHILD_WRITES)
        .count();
    assert_eq!(accepted, BULK_CHILD_WRITES);
    // No signal crosses the process boundary: watch the emulator for the upload.
    while count(&emu.stats().await, &["bulk_uploads"]) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    let at_kill = emu.stats().await;
    emu.set_faults(json!({"seed": 4, "rules": []})).await;

    let client = emu.client();
    let queue = client
        .queue(config(dir.path()))
        .await
        .expect("the journal reopens after the kill");
    queue.flush().await.unwrap();
    let stats = emu.stats().await;
    println!(
        "bulk kill: at the kill {} stored, {} uploads; finally {} stored, {} uploads, queue {:?}",
        at_kill["records"]["Account"],
        at_kill["bulk_uploads"],
        stats["records"]["Account"],
        stats["bulk_uploads"],
        queue.stats()
    );
    assert_eq!(
        count(&stats, &["bulk_uploads"]),
        1,
        "the run was resumed, not uploaded again"
    );
    let rows: Vec<Record> = client
        .query("SELECT Name FROM Account")
        .try_collect()
        .await
        .unwrap();
    let names: std::collections::BTreeSet<&str> =
        rows.iter().filter_map(|r| r["Name"].as_str()).collect();
    assert_eq!(
        (rows.len(), names.len()),
        (BULK_CHILD_WRITES, BULK_CHILD_WRITES),
        "each insert once"
    );
    assert_eq!(
        (queue.stats().delivered, queue.stats().dead_letters),
        (BULK_CHILD_WRITES as u64, 0)
    );
    queue.close().await.unwrap();
}

/// T10: a process killed with writes pending and in flight; a new process delivers every
/// accepted write, each exactly once in the final data (upsert by external id).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_restarted_delivers_every_accepted_write_exactly_once() {
    let emu = Emu::start().await;
    // Slow collections calls, so the kill lands with calls in flight and writes pending.
    emu.set_faults(
        json!({"seed": 3, "rules": [{"route": "composite", "share": 1.0, "effect": "delay:300"}]}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("queue.sqlite");
    let mut child = spawn_child(&journal, emu.url(), None);
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut accepted = Vec::new();
    let mut lines = stdout.lines();
    while accepted.len() < 1_000 {
        let line = lines.next().expect("the child keeps enqueuing").unwrap();
        accepted.extend(accepted_name(&line));
    }
    let stored_before_kill = count(&emu.stats().await, &["records", "Account"]);
    child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    child.wait().unwrap();
    // Lines the child printed before dying are accepted writes too.
    accepted.extend(
        lines
            .map_while(Result::ok)
            .filter_map(|l| accepted_name(&l)),
    );
    println!(
        "killed after {} accepted writes, {stored_before_kill} stored",
        accepted.len()
    );
    assert!(
        (stored_before_kill as usize) < accepted.len(),
        "writes were still pending at the kill"
    );

    emu.set_faults(json!({"seed": 3, "rules": []})).await;
    let client = emu.client();
    let queue = client
        .queue(config(dir.path()))
        .await
        .expect("the journal reopens after the kill");
    assert!(
        queue.stats().resumed >= 1,
        "the new process found the dead one's pending writes"
    );
    queue.flush().await.unwrap();
    let ids = external_ids(&client).await;
    for ext in &accepted {
        assert_eq!(ids.get(ext), Some(&1), "{ext} stored exactly once");
    }
    assert!(ids.values().all(|n| *n == 1), "no duplicate external id");
    assert_eq!(queue.stats().dead_letters, 0);
    queue.close().await.unwrap();
}

/// T7, T11, T12: invalid records become dead letters with Salesforce's error; fixed, they
/// replay; the valid ones load meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_records_become_dead_letters_with_the_real_error_and_replay_after_fixing() {
    let emu = Emu::start().await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let queue = client.queue(config(dir.path())).await.unwrap();
    let outcomes = collect_outcomes(&queue);
    let insert = |value: Value| {
        let queue = queue.clone();
        async move {
            queue
                .enqueue("Account", WriteOp::Insert, record(value), None)
                .await
                .unwrap()
        }
    };
    let good = insert(json!({"Name": "good", "External_Id__c": "dl-good"})).await;
    let missing = insert(json!({"External_Id__c": "dl-missing"})).await;
    let unknown = insert(json!({"Name": "bogus", "Bogus__c": 1})).await;
    let dup = insert(json!({"Name": "dup", "External_Id__c": "dl-good"})).await;
    let gone = insert(json!({"Name": "discard me", "Bogus__c": 2})).await;
    queue.flush().await.unwrap();

    let letters = queue.dead_letters(sfscale::Ticket(0), 100).await.unwrap();
    let codes: BTreeMap<u64, &str> = letters
        .iter()
        .map(|l| (l.ticket.0, l.error.code.as_str()))
        .collect();
    assert_eq!(
        codes,
        BTreeMap::from([
            (missing.0, "REQUIRED_FIELD_MISSING"),
            (unknown.0, "INVALID_FIELD"),
            (dup.0, "DUPLICATE_VALUE"),
            (gone.0, "INVALID_FIELD")
        ])
    );
    assert!(letters.iter().all(|l| !l.error.message.is_empty()));
    assert_eq!(
        letters
            .iter()
            .find(|l| l.ticket == missing)
            .unwrap()
            .error
            .fields,
        vec!["Name".to_owned()]
    );
    assert!(matches!(
        &outcomes.lock()[&good.0].outcome,
        Outcome::Delivered {
            id: Some(_),
            created: _
        }
    ));
    assert!(
        matches!(&outcomes.lock()[&dup.0].outcome, Outcome::DeadLettered { error } if error.code == "DUPLICATE_VALUE")
    );
    assert_eq!(queue.stats().dead_letters, 4);
    assert_eq!(client.metrics().gauges["queue_dead_letters"], 4);

    let replayed = [
        queue
            .replay(
                missing,
                Some(record(
                    json!({"Name": "fixed", "External_Id__c": "dl-missing"}),
                )),
            )
            .await
            .unwrap(),
        queue
            .replay(unknown, Some(record(json!({"Name": "bogus"}))))
            .await
            .unwrap(),
        queue
            .replay(
                dup,
                Some(record(json!({"Name": "dup", "External_Id__c": "dl-dup"}))),
            )
            .await
            .unwrap(),
    ];
    assert!(queue.discard(gone).await.unwrap());
    assert_eq!(
        queue.replay(gone, None).await.unwrap_err().code(),
        "NOT_FOUND"
    );
    queue.flush().await.unwrap();
    assert!(queue
        .dead_letters(sfscale::Ticket(0), 100)
        .await
        .unwrap()
        .is_empty());
    for ticket in replayed {
        assert!(
            matches!(
                outcomes.lock()[&ticket.0].outcome,
                Outcome::Delivered { .. }
            ),
            "{ticket:?}"
        );
    }
    assert_eq!(count(&emu.stats().await, &["records", "Account"]), 4);
    queue.close().await.unwrap();
}

/// T3: writes to one key inside the linger window collapse into one record write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_to_one_key_collapse_to_the_latest_values_in_one_call() {
    let emu = Emu::start().await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let queue = client
        .queue(config(dir.path()).linger(Duration::from_secs(3600)))
        .await
        .unwrap();
    let outcomes = collect_outcomes(&queue);
    let writes = [
        json!({"External_Id__c": "c-1", "Name": "first", "Phone": "555"}),
        json!({"External_Id__c": "c-1", "Name": "second"}),
        json!({"External_Id__c": "c-1", "Name": "third"}),
    ];
    let mut tickets = Vec::new();
    for w in writes {
        tickets.push(
            queue
                .enqueue("Account", upsert(), record(w), None)
                .await
                .unwrap(),
        );
    }
    queue.flush().await.unwrap();
    let stats = emu.stats().await;
    assert_eq!(
        count(&stats, &["requests_by_route", "composite"]),
        1,
        "one collections call: {stats}"
    );
    {
        let outcomes = outcomes.lock();
        assert_eq!(
            outcomes[&tickets[0].0].outcome,
            Outcome::Superseded { by: tickets[2] }
        );
        assert_eq!(
            outcomes[&tickets[1].0].outcome,
            Outcome::Superseded { by: tickets[2] }
        );
        assert!(matches!(
            outcomes[&tickets[2].0].outcome,
            Outcome::Delivered {
                created: Some(true),
                ..
            }
        ));
    }
    let row: Vec<Record> = client
        .query("SELECT Name, Phone FROM Account WHERE External_Id__c = 'c-1'")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        (row[0]["Name"].as_str(), row[0]["Phone"].as_str()),
        (Some("third"), Some("555"))
    );
    assert_eq!(queue.stats().superseded, 2);
    queue.close().await.unwrap();
}

/// Backpressure: beyond `max_pending`, fail fast; room returns once writes settle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_fails_fast_with_backpressure_and_never_drops_what_it_accepted() {
    let emu = Emu::start().await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path())
        .linger(Duration::from_secs(3600))
        .max_pending(5)
        .when_full(WhenFull::FailFast);
    let queue = client.queue(config).await.unwrap();
    for i in 0..5 {
        queue
            .enqueue("Account", upsert(), account(&format!("bp-{i}")), None)
            .await
            .unwrap();
    }
    let refused = queue
        .enqueue("Account", upsert(), account("bp-5"), None)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "BACKPRESSURE");
    assert_eq!(queue.stats().depth, 5);
    let text = client.metrics_prometheus();
    assert!(text.contains("\nsfscale_queue_depth 5\n"), "{text}");
    assert!(
        text.contains("# TYPE sfscale_queue_oldest_pending_age_ms gauge"),
        "{text}"
    );
    queue.flush().await.unwrap();
    queue
        .enqueue("Account", upsert(), account("bp-5"), None)
        .await
        .expect("room again after the flush");
    queue.close().await.unwrap();
    let ids = external_ids(&client).await;
    assert_eq!(ids.len(), 6);
}

/// Backpressure: beyond `max_pending`, `enqueue` waits (by default) until writes settle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_makes_enqueue_wait_for_room() {
    let emu = Emu::start().await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let queue = client
        .queue(
            config(dir.path())
                .linger(Duration::from_secs(3600))
                .max_pending(3),
        )
        .await
        .unwrap();
    for i in 0..3 {
        queue
            .enqueue("Account", upsert(), account(&format!("w-{i}")), None)
            .await
            .unwrap();
    }
    let mut fourth = Box::pin(queue.enqueue("Account", upsert(), account("w-3"), None));
    assert!(
        futures::poll!(&mut fourth).is_pending(),
        "no room: the fourth enqueue waits"
    );
    let (flushed, fourth) = tokio::join!(queue.flush(), fourth);
    flushed.unwrap();
    assert_eq!(fourth.unwrap(), sfscale::Ticket(4));
    queue.close().await.unwrap();
    assert_eq!(external_ids(&client).await.len(), 4);
}

/// T6: records that fail with `UNABLE_TO_LOCK_ROW` (parallel calls writing children of one
/// parent) are retried, not dead-lettered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_that_hit_a_row_lock_are_retried_until_saved() {
    // Each collections call holds the parent Account's lock for 0.5 ms per record; a writer
    // waits at most 1 ms for it.
    let mut setup = sfscale_emulator::Config::default();
    setup.bulk.row_micros = 500;
    setup.limits.lock_wait_ms = 1;
    let emu = Emu::start_with(setup).await;
    let client = emu.client();
    let parent = client
        .create("Account", &account("lock-parent"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let queue = client
        .queue(config(dir.path()).no_bulk().batch_size(50).workers(8))
        .await
        .unwrap();
    futures::stream::iter(0..1_000)
        .for_each_concurrent(64, |i| {
            let queue = queue.clone();
            let parent = parent.clone();
            async move {
                let contact = record(json!({"LastName": format!("c{i}"), "AccountId": parent, "External_Id__c": format!("lock-{i}")}));
                queue.enqueue("Contact", upsert(), contact, None).await.unwrap();
            }
        })
        .await;
    queue.flush().await.unwrap();
    let stats = emu.stats().await;
    println!(
        "lock contention: errors {}, queue {:?}",
        stats["errors_by_code"],
        queue.stats()
    );
    assert!(
        count(&stats, &["errors_by_code", "UNABLE_TO_LOCK_ROW"]) >= 1,
        "the parent lock was contended: {stats}"
    );
    assert_eq!(count(&stats, &["records", "Contact"]), 1_000);
    assert_eq!(queue.stats().dead_letters, 0);
    queue.close().await.unwrap();
}

/// T5 at the limits reserve: the queue's background calls stop at the reserve (no
/// `REQUEST_LIMIT_EXCEEDED`, writes stay pending) and drain once the allocation has room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_limits_reserve_the_queue_waits_and_drains_when_room_returns() {
    let emu = Emu::start().await;
    emu.set_limits(json!({"daily_api_requests": 40})).await;
    let client = emu
        .builder()
        .limits_reserve(0.5)
        .limits_pace_band(0.0)
        .limits_stale_after(Duration::from_millis(100))
        .build()
        .unwrap();
    let mut events = client.subscribe();
    let dir = tempfile::tempdir().unwrap();
    let queue = client
        .queue(config(dir.path()).no_bulk().batch_size(100))
        .await
        .unwrap();
    enqueue_upserts(&queue, "reserve", 3_000, 64).await;
    loop {
        if let sfscale::Event::ReserveReached { .. } = events.recv().await.expect("events flow") {
            break;
        }
    }
    let at_reserve = emu.stats().await;
    assert!(
        queue.stats().depth >= 1_000,
        "20 calls of 100 cannot carry 3 000 writes: {:?}",
        queue.stats()
    );
    assert_eq!(
        count(&at_reserve, &["errors_by_code", "REQUEST_LIMIT_EXCEEDED"]),
        0
    );
    emu.set_limits(json!({"daily_api_requests": 100_000})).await;
    tokio::time::timeout(Duration::from_secs(120), queue.flush())
        .await
        .expect("drains once there is room")
        .unwrap();
    let stats = emu.stats().await;
    println!(
        "reserve: at the reserve {} calls, finally {}; queue {:?}",
        at_reserve["api_requests"],
        stats["api_requests"],
        queue.stats()
    );
    assert_eq!(count(&stats, &["records", "Account"]), 3_000);
    assert_eq!(
        count(&stats, &["errors_by_code", "REQUEST_LIMIT_EXCEEDED"]),
        0
    );
    queue.close().await.unwrap();
}

/// T4: deletes by id; a delete of a record already gone (a resend) is delivered, not dead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_remove_records_and_a_repeated_delete_counts_as_delivered() {
    let emu = Emu::start().await;
    let client = emu.client();
    let ids = [
        client.create("Account", &account("del-1")).await.unwrap(),
        client.create("Account", &account("del-2")).await.unwrap(),
    ];
    let dir = tempfile::tempdir().unwrap();
    let queue = client
        .queue(config(dir.path()).collapse_same_key(false))
        .await
        .unwrap();
    let outcomes = collect_outcomes(&queue);
    let mut tickets = Vec::new();
    for id in [&ids[0], &ids[1], &ids[0]] {
        tickets.push(
            queue
                .enqueue(
                    "Account",
                    WriteOp::Delete,
                    record(json!({"Id": id, "Name": "ignored"})),
                    None,
                )
                .await
                .unwrap(),
        );
    }
    queue.flush().await.unwrap();
    assert_eq!(count(&emu.stats().await, &["records", "Account"]), 0);
    assert_eq!(queue.stats().dead_letters, 0);
    let outcomes = outcomes.lock();
    assert!(
        tickets
            .iter()
            .all(|t| matches!(outcomes[&t.0].outcome, Outcome::Delivered { .. })),
        "{outcomes:?}"
    );
}

/// T8, T9: a call Salesforce refuses as a whole (an external id field the object lacks) is
/// split, and each write, refused alone, becomes a dead letter with that error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_refused_as_a_whole_is_split_and_each_write_dead_lettered_alone() {
    let emu = Emu::start().await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let queue = client.queue(config(dir.path())).await.unwrap();
    for i in 0..3 {
        let r = record(json!({"Name": "x", "Nope__c": format!("n-{i}")}));
        queue
            .enqueue("Account", WriteOp::upsert("Nope__c"), r, None)
            .await
            .unwrap();
    }
    queue.flush().await.unwrap();
    let letters = queue.dead_letters(sfscale::Ticket(0), 10).await.unwrap();
    let stats = emu.stats().await;
    println!(
        "refused: {:?}, routes {}",
        letters.first().map(|l| &l.error),
        stats["requests_by_route"]
    );
    assert_eq!(letters.len(), 3);
    assert!(letters
        .iter()
        .all(|l| l.error == letters[0].error && !l.error.code.is_empty()));
    assert_eq!(
        count(&stats, &["requests_by_route", "composite"]),
        4,
        "one batch, then each alone: {stats}"
    );
    queue.close().await.unwrap();
}

/// T2 guard: a second queue on a live journal is refused instead of double-sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_open_in_one_queue_is_refused_to_another() {
    let emu = Emu::start().await;
    let client = emu.client();
    let dir = tempfile::tempdir().unwrap();
    let first = client.queue(config(dir.path())).await.unwrap();
    let err = client.queue(config(dir.path())).await.unwrap_err();
    assert_eq!(err.code(), "QUEUE_JOURNAL_IN_USE");
    first.close().await.unwrap();
    client
        .queue(config(dir.path()))
        .await
        .expect("free again after close")
        .close()
        .await
        .unwrap();
}
