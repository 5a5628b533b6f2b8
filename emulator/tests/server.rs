//! The server over real HTTP: discovery endpoints, error shapes for unknown paths and
//! methods, gzip, TLS, shutdown, and the binary's ready line and exit codes.

mod server_support;

use reqwest::Method;
use serde_json::json;
use server_support::{http_client, Emu, V};
use sfscale_emulator::{Config, Emulator};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

#[tokio::test]
async fn version_list_needs_no_session_is_not_counted_and_has_no_limit_header() {
    let emu = Emu::start().await;
    for path in ["/services/data/", "/services/data"] {
        let answer = emu.send(emu.http.get(emu.url(path))).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("sforce-limit-info"), "");
        let versions = answer.body.as_array().unwrap();
        assert_eq!(versions.first().unwrap()["version"], "20.0");
        assert!(versions.contains(
            &json!({"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"})
        ));
        assert_eq!(versions.last().unwrap()["version"], "66.0");
    }
    assert_eq!(emu.stats().await["api_requests"], 0);
}

#[tokio::test]
async fn resource_directory_lists_served_resources_and_counts_as_other() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    let answer = emu.get(&token, &format!("/services/data/{V}/")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["query"], format!("/services/data/{V}/query"));
    assert_eq!(
        answer.body["sobjects"],
        format!("/services/data/{V}/sobjects")
    );
    assert_eq!(
        answer.header("sforce-limit-info"),
        "api-usage=1/100000; per-app-api-usage=1/100000(appName=sfscale)"
    );
    assert_eq!(emu.stats().await["requests_by_route"]["other"], 1);
}

#[tokio::test]
async fn limits_report_usage_with_a_per_app_entry() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    emu.get(&token, "limits").await;
    let answer = emu.get(&token, "limits").await;
    assert_eq!(answer.status, 200);
    let daily = &answer.body["DailyApiRequests"];
    assert_eq!(daily["Max"], 100_000);
    assert_eq!(daily["Remaining"], 100_000 - 2, "this call counts too");
    assert_eq!(
        daily["sfscale"],
        json!({"Max": 100_000, "Remaining": 99_998})
    );
    for key in [
        "DailyBulkApiBatches",
        "DailyBulkV2QueryJobs",
        "DailyBulkV2QueryFileStorageMB",
        "DailyAsyncApexExecutions",
    ] {
        assert!(answer.body[key]["Max"].as_u64().unwrap() > 0, "{key}");
    }
    assert_eq!(
        answer.header("sforce-limit-info"),
        "api-usage=2/100000; per-app-api-usage=2/100000(appName=sfscale)"
    );
    assert_eq!(emu.stats().await["requests_by_route"]["limits"], 2);
}

#[tokio::test]
async fn unknown_paths_versions_and_methods_get_salesforce_error_lists() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    let missing = emu.get(&token, "no/such/resource").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body,
        json!([{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND", "fields": []}])
    );
    assert!(
        missing
            .header("sforce-limit-info")
            .starts_with("api-usage=1/"),
        "unknown resources are counted calls"
    );

    let old_version = emu.get(&token, "/services/data/v19.0/limits").await;
    assert_eq!(
        (old_version.status, old_version.error_code()),
        (404, "NOT_FOUND")
    );
    let outside = emu.send(emu.http.get(emu.url("/nothing-here"))).await;
    assert_eq!((outside.status, outside.error_code()), (404, "NOT_FOUND"));

    let wrong_method = emu
        .send(emu.http.delete(emu.url("limits")).bearer_auth(&token))
        .await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.error_code(), "METHOD_NOT_ALLOWED");
    assert!(
        wrong_method.message().contains("GET"),
        "{}",
        wrong_method.message()
    );
    assert_eq!(
        wrong_method.header("x-emulator-error-code"),
        "",
        "the counting header never leaks"
    );
    let get_token = emu
        .send(emu.http.get(emu.url("/services/oauth2/token")))
        .await;
    assert_eq!(get_token.status, 405);

    let stats = emu.stats().await;
    assert_eq!(stats["errors_by_code"]["NOT_FOUND"], 3);
    assert_eq!(stats["errors_by_code"]["METHOD_NOT_ALLOWED"], 2);
}

#[tokio::test]
async fn unauthenticated_data_calls_get_401_whatever_the_path() {
    let emu = Emu::start().await;
    for path in ["limits", "query?q=SELECT+Id+FROM+Account", "no/such/thing"] {
        let answer = emu.send(emu.http.get(emu.url(path))).await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (401, "INVALID_SESSION_ID"),
            "{path}"
        );
        let bad = emu
            .send(emu.http.get(emu.url(path)).bearer_auth("00Dxx!forged"))
            .await;
        assert_eq!(bad.status, 401, "{path}");
    }
    assert_eq!(emu.stats().await["api_requests"], 0);
}

#[tokio::test]
async fn responses_are_gzipped_when_asked() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let response = raw
        .get(emu.url("limits"))
        .bearer_auth(&token)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let decoded = emu.get(&token, "limits").await;
    assert!(
        decoded.body["DailyApiRequests"].is_object(),
        "reqwest's gzip decoding reads it"
    );
}

#[tokio::test]
async fn tls_serves_https_with_a_ca_clients_can_trust() {
    let config = Config {
        tls: true,
        ..Config::default()
    };
    let emulator = Emulator::start(config).await.unwrap();
    assert!(emulator.url().starts_with("https://127.0.0.1:"));
    let ca = reqwest::Certificate::from_pem(emulator.ca_pem().unwrap().as_bytes()).unwrap();
    let _ = http_client();
    let trusting = reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .unwrap();
    let versions = trusting
        .get(format!("{}/services/data/", emulator.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(versions.status(), 200);
    let localhost = emulator.url().replace("127.0.0.1", "localhost");
    assert_eq!(
        trusting
            .get(format!("{localhost}/services/data/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let untrusting = reqwest::Client::new();
    assert!(untrusting
        .get(format!("{}/services/data/", emulator.url()))
        .send()
        .await
        .is_err());
    emulator.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let emu = Emu::start().await;
    let url = emu.url("/services/data/");
    assert_eq!(emu.http.get(&url).send().await.unwrap().status(), 200);
    emu.emulator.shutdown().await;
    let fresh = reqwest::Client::new();
    assert!(fresh.get(&url).send().await.is_err());
}

#[tokio::test]
async fn bad_configs_refuse_to_start_naming_the_setting() {
    let mut config = Config::default();
    config.org.jwt_cert_pem = "not a pem".into();
    let error = Emulator::start(config).await.err().unwrap().to_string();
    assert!(error.contains("jwt_cert_pem"), "{error}");
    let mut config = Config::default();
    config.faults.rules =
        serde_json::from_value(json!([{"share": 0.5, "effect": "boom"}])).unwrap();
    let error = Emulator::start(config).await.err().unwrap().to_string();
    assert!(error.contains("boom"), "{error}");
}

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sfscale-emulator"))
}

#[test]
fn binary_prints_one_ready_line_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let mut child = binary()
        .args(["--port", "0", "--tls-cert-out"])
        .arg(&ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("sfscale-emulator listening on https://127.0.0.1:"),
        "{line}"
    );
    assert!(std::fs::read_to_string(&ca)
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
}

#[test]
fn binary_exits_2_with_one_line_on_a_bad_config() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "[limits]\ndaily_api_requestz = 5").unwrap();
    let output = binary().arg("--config").arg(file.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("daily_api_requestz"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[tokio::test]
async fn control_calls_are_never_counted() {
    let emu = Emu::start().await;
    for _ in 0..3 {
        emu.control(Method::GET, "stats", None).await;
    }
    let stats = emu.stats().await;
    assert_eq!(stats["api_requests"], 0);
    assert_eq!(stats["requests_by_route"], json!({}));
}

#[test]
fn the_readme_config_example_parses() {
    let readme = include_str!("../README.md");
    let start = readme.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let config = Config::from_toml(block).unwrap_or_else(|e| panic!("README example: {e}"));
    assert_eq!(config.latency.routes["query"].base_ms, 40);
    assert_eq!(config.faults.rules.len(), 1);
    assert_eq!(config.objects[0].name, "Invoice__c");
}

#[tokio::test]
async fn route_latency_is_applied_and_unknown_families_are_refused() {
    let mut config = Config::default();
    config.latency.routes.insert(
        "limits".into(),
        sfscale_emulator::config::RouteLatency {
            base_ms: 150,
            jitter_ms: 0,
        },
    );
    config.limits.long_running_after_ms = 20;
    let emu = Emu::start_with(config).await;
    let token = emu.token().await;
    assert_eq!(emu.get(&token, "limits").await.status, 200);
    assert_eq!(
        emu.stats().await["peak_long_running"],
        1,
        "the 150 ms latency made the call long-running"
    );
    assert_eq!(
        emu.get(&token, &format!("/services/data/{V}/"))
            .await
            .status,
        200
    );
    assert_eq!(
        emu.stats().await["peak_long_running"],
        1,
        "other families have no latency"
    );

    let mut config = Config::default();
    config
        .latency
        .routes
        .insert("soap".into(), Default::default());
    let error = Emulator::start(config).await.err().unwrap().to_string();
    assert!(error.contains("latency.routes.soap"), "{error}");
}
