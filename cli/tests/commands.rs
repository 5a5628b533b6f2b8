//! Every `sfscale` command, run as the built binary against an emulator on loopback:
//! exit codes, files written and the emulator's counters (`/__emulator/stats`).

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use sfscale_emulator::config::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use sfscale_emulator::{Config, Emulator};

/// The binary with no inherited `SFSCALE_*` settings.
fn sfscale() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sfscale"));
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("SFSCALE_")) {
        command.env_remove(name);
    }
    command
}

/// The binary pointed at `emulator` through the `SFSCALE_*` variables.
fn sfscale_for(emulator: &Emulator) -> Command {
    let mut command = sfscale();
    command
        .env("SFSCALE_INSTANCE_URL", emulator.url())
        .env("SFSCALE_CLIENT_ID", DEFAULT_CLIENT_ID)
        .env("SFSCALE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET);
    command
}

/// Runs `command` off the runtime (the emulator keeps serving on it).
async fn output(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("sfscale runs"))
        .await
        .expect("runner thread")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether `report` holds `line` once runs of spaces (column alignment) are ignored.
fn has_line(report: &str, line: &str) -> bool {
    let squeeze = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    squeeze(report).contains(&squeeze(line))
}

async fn emulator(config: Config) -> Emulator {
    Emulator::start(Config { port: 0, ..config })
        .await
        .expect("emulator starts")
}

/// A plain-HTTP client (reqwest is built without a default TLS provider: install ring's).
fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// `GET /__emulator/stats` over HTTP.
async fn stats(url: &str) -> Value {
    http()
        .get(format!("{url}/__emulator/stats"))
        .send()
        .await
        .expect("stats answer")
        .json()
        .await
        .expect("stats are JSON")
}

fn count(stats: &Value, path: &[&str]) -> u64 {
    path.iter().fold(stats, |v, k| &v[*k]).as_u64().unwrap_or(0)
}

/// Data rows of a CSV file, as maps by header.
fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).expect("csv file");
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .map(str::to_owned)
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_at_a_tiny_size_verifies_every_record_and_reports() {
    let mut command = sfscale();
    command.args([
        "demo",
        "--contacts",
        "3000",
        "--accounts",
        "30",
        "--events",
        "300",
    ]);
    let out = output(command).await;
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        text(&out.stderr)
    );
    for line in [
        "naive one-call-per-record client",
        "retry budget denials",
        "lock errors met (UNABLE_TO_LOCK_ROW)",
        "token grants",
        "DailyApiRequests",
        "Contact   3,300 expected, COUNT(Id) 3,300, listed 3,300, missing 0, duplicated 0, unexpected 0 → ok",
        "PASS: every record is in the org exactly once.",
    ] {
        assert!(has_line(&stdout, line), "'{line}' missing from:\n{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_writes_success_and_error_csvs_with_row_numbers() {
    let emu = emulator(Config::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("contacts.csv");
    std::fs::write(
        &input,
        "LastName,Email,External_Id__c\n\
         Lovelace,ada@example.test,C-1\n\
         ,nobody@example.test,C-2\n\
         Hopper,not-an-email,C-3\n\
         Turing,alan@example.test,C-4\n",
    )
    .unwrap();
    let mut command = sfscale_for(&emu);
    command
        .args(["load", "Contact"])
        .arg(&input)
        .args([
            "--operation",
            "upsert",
            "--external-id",
            "External_Id__c",
            "--work-dir",
        ])
        .arg(dir.path().join("work"));
    let out = output(command).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "rows failed: exit 3\n{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(has_line(&stdout, "succeeded 2"), "{stdout}");
    assert!(has_line(&stdout, "failed 2"), "{stdout}");

    let successes = csv_rows(&dir.path().join("contacts.success.csv"));
    let rows: Vec<&str> = successes
        .iter()
        .map(|r| r["sfscale__Row"].as_str())
        .collect();
    assert_eq!(rows, ["0", "3"]);
    assert!(successes.iter().all(|r| r["sf__Id"].len() == 18));

    let errors = csv_rows(&dir.path().join("contacts.error.csv"));
    let rows: Vec<(&str, &str)> = errors
        .iter()
        .map(|r| (r["sfscale__Row"].as_str(), r["sf__Error"].as_str()))
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "1");
    assert!(rows[0].1.starts_with("REQUIRED_FIELD_MISSING"), "{rows:?}");
    assert_eq!(rows[1].0, "2");
    assert!(rows[1].1.starts_with("INVALID_EMAIL_ADDRESS"), "{rows:?}");
    assert_eq!(count(&stats(emu.url()).await, &["records", "Contact"]), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_load_resumes_without_reuploading_finished_jobs() {
    const ROWS: u64 = 4_000;
    const JOBS: u64 = 8;
    let mut config = Config::default();
    config.bulk.row_micros = 1_000; // 0.5 s per 500-row job: the kill lands mid-run
    config.bulk.parallel_batches = 1;
    let emu = emulator(config).await;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("contacts.csv");
    let mut file = std::fs::File::create(&input).unwrap();
    writeln!(file, "LastName,External_Id__c").unwrap();
    for i in 0..ROWS {
        writeln!(file, "Resumed {i},R-{i}").unwrap();
    }
    drop(file);
    let work = dir.path().join("work");
    let mut command = sfscale_for(&emu);
    command
        .args(["load", "Contact"])
        .arg(&input)
        .args([
            "--operation",
            "insert",
            "--rows-per-job",
            "500",
            "--parallel",
            "1",
        ])
        .args(["--run-id", "nightly-1", "--work-dir"])
        .arg(&work)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    loop {
        let done = count(&stats(emu.url()).await, &["bulk_jobs", "JobComplete"]);
        if done >= 2 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the load ended before it was killed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(child.try_wait().unwrap().is_none(), "killed mid-run");
    child.kill().unwrap();
    child.wait().unwrap();
    let before = count(&stats(emu.url()).await, &["records", "Contact"]);
    assert!(before < ROWS, "the kill landed mid-run ({before} rows in)");

    let mut command = sfscale_for(&emu);
    command
        .args(["load", "--resume", "nightly-1", "--work-dir"])
        .arg(&work);
    command.current_dir(dir.path());
    let out = output(command).await;
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let after = stats(emu.url()).await;
    assert_eq!(
        count(&after, &["records", "Contact"]),
        ROWS,
        "every row exactly once (insert: a re-uploaded job would duplicate)"
    );
    assert!(
        count(&after, &["bulk_uploads"]) <= JOBS + 1,
        "finished jobs were not uploaded again: {after}"
    );
    assert_eq!(
        csv_rows(&dir.path().join("nightly-1.success.csv")).len() as u64,
        ROWS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extract_writes_every_row_to_a_csv_file() {
    let emu = emulator(Config::default()).await;
    let records: Vec<Value> = (0..1_234)
        .map(|i| json!({"Name": format!("Extracted {i}")}))
        .collect();
    let loaded: Value = http()
        .post(format!("{}/__emulator/load", emu.url()))
        .json(&json!({"object": "Account", "records": records}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(loaded["created"], 1_234);
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("accounts.csv");
    let mut command = sfscale_for(&emu);
    command
        .args([
            "extract",
            "SELECT Id, Name FROM Account",
            "--page-size",
            "500",
            "--out",
        ])
        .arg(&out_file);
    let out = output(command).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let rows = csv_rows(&out_file);
    assert_eq!(rows.len(), 1_234);
    assert!(rows.iter().all(|r| r["Name"].starts_with("Extracted ")));
    assert!(has_line(&stdout, "result pages 3"), "{stdout}");
    assert_eq!(count(&stats(emu.url()).await, &["bulk_query_jobs"]), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_prints_the_allocations_as_json_and_as_a_table() {
    let mut config = Config::default();
    config.limits.daily_api_requests = 12_345;
    let emu = emulator(config).await;
    let mut command = sfscale_for(&emu);
    command.args(["limits", "--json"]);
    let out = output(command).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let limits: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(limits["DailyApiRequests"]["max"], 12_345);
    let used = limits["DailyApiRequests"]["used"].as_u64().unwrap();
    assert!(used >= 1 && used <= count(&stats(emu.url()).await, &["api_requests"]));

    let mut command = sfscale_for(&emu);
    command.arg("limits");
    let out = output(command).await;
    let table = text(&out.stdout);
    assert!(table.starts_with("LIMIT"), "{table}");
    assert!(
        table.contains("DailyApiRequests") && table.contains("12,345"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_settings_fail_with_one_line_and_exit_code_2() {
    let out = output({
        let mut command = sfscale();
        command.arg("limits");
        command
    })
    .await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("sfscale: ") && stderr.contains("SFSCALE_CLIENT_ID"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulate_with_a_bad_config_names_the_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("emulator.toml");
    std::fs::write(&config, "[limits]\ndaily_api_requestz = 5\n").unwrap();
    let mut command = sfscale();
    command.args(["emulate", "--config"]).arg(&config);
    let out = output(command).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("daily_api_requestz"), "{stderr}");
    assert!(out.stdout.is_empty(), "no ready line");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulate_prints_the_ready_line_answers_and_stops_on_sigterm() {
    let mut child = sfscale()
        .args(["emulate", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let url = line
        .trim()
        .strip_prefix("sfscale-emulator listening on ")
        .unwrap_or_else(|| panic!("ready line: {line:?}"))
        .to_owned();
    let token: Value = http()
        .post(format!("{url}/services/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(token["access_token"].is_string(), "{token}");
    assert_eq!(count(&stats(&url).await, &["token_grants", "total"]), 1);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "graceful exit on SIGTERM: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_reports_throughput_latency_and_cost() {
    let mut command = sfscale();
    command.args([
        "bench",
        "--rate",
        "40",
        "--concurrency",
        "4",
        "--duration",
        "1s",
        "--profile",
        "brownout",
    ]);
    let out = output(command).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    for line in [
        "throughput",
        "p50",
        "p99",
        "calls per record",
        "retries",
        "503s injected",
    ] {
        assert!(stdout.contains(line), "'{line}' missing from:\n{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_against_a_url_writes_there() {
    let emu = emulator(Config::default()).await;
    let mut command = sfscale();
    command.args([
        "bench",
        "--url",
        emu.url(),
        "--workload",
        "upsert",
        "--rate",
        "20",
        "--concurrency",
        "2",
        "--duration",
        "1s",
    ]);
    let out = output(command).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let after = stats(emu.url()).await;
    assert!(count(&after, &["records", "Contact"]) >= 1, "{after}");
    assert!(
        count(&after, &["requests_by_route", "sobjects"]) >= 1,
        "{after}"
    );
}
