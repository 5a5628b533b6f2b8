//! The Rust runner of the cross-language scenarios in `tests/scenarios/*.json`.
//!
//! The format is documented in `tests/scenarios/README.md`; every binding has a runner
//! like this one, and every runner must pass every file unchanged. Each scenario runs on
//! a fresh in-process emulator (and, for `"baseline": true`, first on another one without
//! faults); failures name the scenario and the assertion, with the stats and results.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::Emu;
use futures::{StreamExt as _, TryStreamExt as _};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sfscale::{Client, ClientBuilder, Error, Priority};
use sfscale_emulator::config::{DEFAULT_CLIENT_ID, DEFAULT_USERNAME};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    name: String,
    #[allow(dead_code)] // documentation for readers of the file
    description: String,
    #[serde(default)]
    baseline: bool,
    #[serde(default)]
    emulator: EmulatorSetup,
    #[serde(default)]
    client: ClientSetup,
    steps: Vec<Step>,
    #[serde(rename = "assert")]
    assertions: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmulatorSetup {
    limits: Option<Value>,
    faults: Option<Value>,
    #[serde(default)]
    load: Vec<Load>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Load {
    object: String,
    count: usize,
    prefix: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientSetup {
    grant: Option<String>,
    reserve: Option<f64>,
    pace_band: Option<f64>,
    long_running_cap: Option<u32>,
    concurrency: Option<[u32; 3]>,
    retry_max_attempts: Option<u32>,
    retry_backoff_ms: Option<[u64; 2]>,
    query_batch_size: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Step {
    Control(ControlStep),
    Call(CallStep),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlStep {
    control: String,
    name: Option<String>,
    body: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallStep {
    name: String,
    call: String,
    #[serde(default = "one")]
    count: usize,
    #[serde(default = "one")]
    concurrency: usize,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    long_running: bool,
    soql: Option<String>,
    object: Option<String>,
    external_id_field: Option<String>,
    record: Option<Map<String, Value>>,
    records: Option<usize>,
    operation: Option<String>,
}

fn one() -> usize {
    1
}

/// Client-side outcomes: ok / failed counts and failure codes, overall and per step.
#[derive(Debug, Default)]
struct Results {
    steps: BTreeMap<String, StepResults>,
}

#[derive(Debug, Default, Clone)]
struct StepResults {
    ok: u64,
    failed: u64,
    failed_by_code: BTreeMap<String, u64>,
}

impl StepResults {
    fn record(&mut self, outcome: &Result<(), Error>) {
        match outcome {
            Ok(()) => self.ok += 1,
            Err(e) => {
                self.failed += 1;
                *self.failed_by_code.entry(e.code().to_owned()).or_default() += 1;
            }
        }
    }

    fn to_json(&self) -> Value {
        json!({"ok": self.ok, "failed": self.failed, "failed_by_code": self.failed_by_code})
    }
}

impl Results {
    fn to_json(&self) -> Value {
        let mut total = StepResults::default();
        let mut out = Map::new();
        for (name, step) in &self.steps {
            total.ok += step.ok;
            total.failed += step.failed;
            for (code, n) in &step.failed_by_code {
                *total.failed_by_code.entry(code.clone()).or_default() += n;
            }
            out.insert(name.clone(), step.to_json());
        }
        let mut calls = total.to_json();
        calls.as_object_mut().expect("an object").extend(out);
        calls
    }
}

/// The result of one run: final stats, stats at each mark, client-side results.
struct Run {
    stats: Value,
    marks: BTreeMap<String, Value>,
    calls: Value,
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn load_scenario(path: &Path) -> Scenario {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn builder(emu: &Emu, setup: &ClientSetup) -> ClientBuilder {
    let mut b = emu.builder();
    match setup.grant.as_deref() {
        None | Some("client_credentials") => {}
        Some("password") => b = emu.password_builder(),
        Some("jwt") => {
            let key = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../emulator/fixtures/jwt/private.pem"
            );
            b = b.auth_jwt(
                DEFAULT_CLIENT_ID,
                DEFAULT_USERNAME,
                std::fs::read_to_string(key).expect("emulator JWT key"),
            );
        }
        Some(other) => panic!("unknown grant {other}"),
    }
    if let Some(r) = setup.reserve {
        b = b.limits_reserve(r);
    }
    if let Some(p) = setup.pace_band {
        b = b.limits_pace_band(p);
    }
    if let Some(c) = setup.long_running_cap {
        b = b.scheduler_long_running_cap(c);
    }
    if let Some([initial, min, max]) = setup.concurrency {
        b = b.scheduler_concurrency(initial, min, max);
    }
    if let Some(n) = setup.retry_max_attempts {
        b = b.retry_max_attempts(n);
    }
    if let Some([base, cap]) = setup.retry_backoff_ms {
        b = b.retry_backoff(Duration::from_millis(base), Duration::from_millis(cap));
    }
    if let Some(n) = setup.query_batch_size {
        b = b.query_batch_size(n);
    }
    b
}

async fn run(scenario: &Scenario, with_faults: bool) -> Run {
    let emu = Emu::start().await;
    let setup = &scenario.emulator;
    if let Some(limits) = &setup.limits {
        emu.set_limits(limits.clone()).await;
    }
    for load in &setup.load {
        emu.load(&load.object, common::accounts(&load.prefix, load.count))
            .await;
    }
    if let (true, Some(faults)) = (with_faults, &setup.faults) {
        emu.set_faults(faults.clone()).await;
    }
    let client = builder(&emu, &scenario.client)
        .build()
        .expect("scenario client builds");
    let mut results = Results::default();
    let mut marks = BTreeMap::new();
    for step in &scenario.steps {
        match step {
            Step::Control(c) => control(&emu, c, &mut marks).await,
            Step::Call(c) => {
                let outcome = run_calls(&client, c).await;
                results.steps.insert(c.name.clone(), outcome);
            }
        }
    }
    Run {
        stats: emu.stats().await,
        marks,
        calls: results.to_json(),
    }
}

async fn control(emu: &Emu, step: &ControlStep, marks: &mut BTreeMap<String, Value>) {
    match step.control.as_str() {
        "expire_sessions" => emu.expire_sessions().await,
        "faults" => {
            emu.set_faults(step.body.clone().expect("faults needs a body"))
                .await
        }
        "limits" => {
            emu.set_limits(step.body.clone().expect("limits needs a body"))
                .await
        }
        "mark" => {
            marks.insert(
                step.name.clone().expect("mark needs a name"),
                emu.stats().await,
            );
        }
        other => panic!("unknown control step {other}"),
    }
}

async fn run_calls(client: &Client, step: &CallStep) -> StepResults {
    let priority = match step.priority.as_deref() {
        None | Some("normal") => Priority::Normal,
        Some("critical") => Priority::Critical,
        Some("background") => Priority::Background,
        Some(other) => panic!("unknown priority {other}"),
    };
    let mut client = client.with_priority(priority);
    if step.long_running {
        client = client.long_running();
    }
    let results = Arc::new(Mutex::new(StepResults::default()));
    futures::stream::iter(0..step.count)
        .for_each_concurrent(step.concurrency, |i| {
            let (client, results) = (client.clone(), Arc::clone(&results));
            async move {
                let outcome = one_call(&client, step, i).await;
                results.lock().record(&outcome);
            }
        })
        .await;
    let out = results.lock().clone();
    out
}

fn fill(template: &Map<String, Value>, i: usize, j: usize) -> Map<String, Value> {
    template
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => Value::String(
                    s.replace("{i}", &i.to_string())
                        .replace("{j}", &j.to_string()),
                ),
                other => other.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

async fn one_call(client: &Client, step: &CallStep, i: usize) -> Result<(), Error> {
    let need = |what: Option<&String>, field: &str| {
        what.cloned()
            .unwrap_or_else(|| panic!("step {} needs {field}", step.name))
    };
    let record = || {
        fill(
            step.record
                .as_ref()
                .unwrap_or_else(|| panic!("step {} needs record", step.name)),
            i,
            0,
        )
    };
    match step.call.as_str() {
        "query" => {
            client
                .query(need(step.soql.as_ref(), "soql"))
                .try_for_each(|_| async { Ok(()) })
                .await
        }
        "create" => client
            .create(&need(step.object.as_ref(), "object"), &record())
            .await
            .map(drop),
        "upsert" => {
            let field = need(step.external_id_field.as_ref(), "external_id_field");
            let record = record();
            let value = record
                .get(&field)
                .and_then(Value::as_str)
                .expect("the record carries its external id")
                .to_owned();
            client
                .upsert(
                    &need(step.object.as_ref(), "object"),
                    &field,
                    &value,
                    &record,
                )
                .await
                .map(drop)
        }
        "upsert_many" => {
            let template = step.record.as_ref().expect("upsert_many needs record");
            let records: Vec<_> = (0..step.records.unwrap_or(200))
                .map(|j| fill(template, i, j))
                .collect();
            let field = need(step.external_id_field.as_ref(), "external_id_field");
            let results = client
                .upsert_many(
                    &need(step.object.as_ref(), "object"),
                    &field,
                    &records,
                    false,
                )
                .await?;
            results.iter().find_map(|r| r.error()).map_or(Ok(()), Err)
        }
        "bulk_ingest" => bulk_ingest(client, step, i).await,
        "queue" => queue_writes(client, step, i).await,
        "limits" => client.limits().await.map(drop),
        "describe" => client
            .describe(&need(step.object.as_ref(), "object"))
            .await
            .map(drop),
        other => panic!("unknown call {other}"),
    }
}

/// A Bulk API 2.0 ingest of `records` rows made from `record`; ok when no row failed.
async fn bulk_ingest(client: &Client, step: &CallStep, i: usize) -> Result<(), Error> {
    let template = step.record.as_ref().expect("bulk_ingest needs record");
    let records: Vec<_> = (0..step.records.unwrap_or(1000))
        .map(|j| fill(template, i, j))
        .collect();
    let operation = sfscale::bulk::Operation::parse(step.operation.as_deref().unwrap_or("insert"))?;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ingest = client.bulk().work_dir(dir.path()).ingest(
        step.object.as_deref().expect("bulk_ingest needs object"),
        operation,
    );
    if let Some(field) = &step.external_id_field {
        ingest = ingest.external_id(field);
    }
    let result = ingest
        .run(sfscale::bulk::IngestInput::from_records(records))
        .await?;
    match result.failures.first().and_then(|f| f.error.as_ref()) {
        Some(e) => Err(Error::new(
            sfscale::ErrorKind::Salesforce,
            e.code.clone(),
            &e.message,
        )),
        None => Ok(()),
    }
}

/// `records` single-record writes through a write-behind queue on a fresh journal, then
/// `close` (which flushes); ok when no write became a dead letter.
async fn queue_writes(client: &Client, step: &CallStep, i: usize) -> Result<(), Error> {
    let template = step.record.as_ref().expect("queue needs record");
    let op = sfscale::WriteOp::parse(
        step.operation.as_deref().unwrap_or("upsert"),
        step.external_id_field.as_deref(),
    )?;
    let object = step.object.as_deref().expect("queue needs object");
    let dir = tempfile::tempdir().expect("temp dir");
    let queue = client
        .queue(sfscale::QueueConfig::new(dir.path().join("queue.sqlite")))
        .await?;
    futures::stream::iter(0..step.records.unwrap_or(1000))
        .map(|j| queue.enqueue(object, op.clone(), fill(template, i, j), None))
        .buffer_unordered(64)
        .try_for_each(|_| async { Ok(()) })
        .await?;
    queue.flush().await?;
    let dead = queue.dead_letters(sfscale::Ticket(0), 1).await?;
    queue.close().await?;
    match dead.first() {
        Some(letter) => Err(Error::new(
            sfscale::ErrorKind::Salesforce,
            letter.error.code.clone(),
            &letter.error.message,
        )),
        None => Ok(()),
    }
}

/// Reads `path` from the stats document or, for `calls.*`, from the client results.
fn lookup(run: &Run, path: &str) -> f64 {
    let (root, rest) = match path.strip_prefix("calls.") {
        Some(rest) => (&run.calls, rest),
        None => (&run.stats, path),
    };
    rest.split('.')
        .fold(root, |v, k| &v[k])
        .as_f64()
        .unwrap_or(0.0)
}

fn check(assertion: &str, run: &Run, baseline: Option<&Run>) -> Result<(), String> {
    let tokens: Vec<&str> = assertion.split(' ').collect();
    let (lhs, rest) = match tokens.as_slice() {
        [path, "since", mark, rest @ ..] => {
            let at_mark = run
                .marks
                .get(*mark)
                .ok_or_else(|| format!("no mark named {mark}"))?;
            let then = Run {
                stats: at_mark.clone(),
                marks: BTreeMap::new(),
                calls: Value::Null,
            };
            (lookup(run, path) - lookup(&then, path), rest)
        }
        [path, rest @ ..] => (lookup(run, path), rest),
        [] => return Err("empty assertion".into()),
    };
    let baseline_value = |path: &str| {
        let base = baseline.ok_or("baseline.* needs \"baseline\": true")?;
        Ok::<f64, String>(lookup(
            base,
            path.strip_prefix("baseline.")
                .ok_or("rhs path must start with baseline.")?,
        ))
    };
    let (op, rhs) = match rest {
        [op, number] => (
            *op,
            number.parse::<f64>().or_else(|_| baseline_value(number))?,
        ),
        [op, factor, "*", path] => (
            *op,
            factor.parse::<f64>().map_err(|e| e.to_string())? * baseline_value(path)?,
        ),
        _ => return Err(format!("cannot parse '{assertion}'")),
    };
    let holds = match op {
        "==" => lhs == rhs,
        "!=" => lhs != rhs,
        "<=" => lhs <= rhs,
        ">=" => lhs >= rhs,
        "<" => lhs < rhs,
        ">" => lhs > rhs,
        other => return Err(format!("unknown operator {other}")),
    };
    if holds {
        Ok(())
    } else {
        Err(format!(
            "'{assertion}' failed: left side is {lhs}, right side {rhs}"
        ))
    }
}

async fn run_scenario(path: &Path) -> Result<(), String> {
    let scenario = load_scenario(path);
    let baseline = if scenario.baseline {
        Some(run(&scenario, false).await)
    } else {
        None
    };
    let result = run(&scenario, true).await;
    let failures: Vec<String> = scenario
        .assertions
        .iter()
        .filter_map(|a| check(a, &result, baseline.as_ref()).err())
        .collect();
    if failures.is_empty() {
        let base = baseline
            .as_ref()
            .map(|b| b.stats["api_requests"].clone())
            .unwrap_or(Value::Null);
        println!(
            "scenario {} holds: api_requests {} (baseline {base}), calls {}",
            scenario.name, result.stats["api_requests"], result.calls
        );
        return Ok(());
    }
    let base = baseline.map(|b| b.stats).unwrap_or(Value::Null);
    Err(format!(
        "scenario {}:\n  {}\nstats: {}\ncalls: {}\nbaseline: {base}",
        scenario.name,
        failures.join("\n  "),
        result.stats,
        result.calls
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_file_holds() {
    let files = scenario_files();
    assert!(
        files.len() >= 4,
        "expected the scenario files, found {files:?}"
    );
    let mut failures = Vec::new();
    for file in &files {
        if let Err(failure) = run_scenario(file).await {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn assertions_parse_and_compare() {
    let run = Run {
        stats: json!({"token_grants": {"total": 3}, "api_requests": 110}),
        marks: BTreeMap::from([("m".to_owned(), json!({"token_grants": {"total": 2}}))]),
        calls: json!({"ok": 5, "failed": 0, "storm": {"ok": 5}}),
    };
    let base = Run {
        stats: json!({"api_requests": 100}),
        marks: BTreeMap::new(),
        calls: Value::Null,
    };
    for ok in [
        "token_grants.total since m == 1",
        "calls.storm.ok == 5",
        "calls.failed == 0",
        "api_requests <= 1.2 * baseline.api_requests",
        "errors_by_code.REQUEST_LIMIT_EXCEEDED == 0",
    ] {
        check(ok, &run, Some(&base)).unwrap();
    }
    for bad in [
        "token_grants.total == 1",
        "api_requests <= 1.05 * baseline.api_requests",
        "calls.ok ~ 5",
        "x since nope == 1",
    ] {
        assert!(check(bad, &run, Some(&base)).is_err(), "{bad}");
    }
    assert!(check("api_requests <= baseline.api_requests", &run, None).is_err());
}
