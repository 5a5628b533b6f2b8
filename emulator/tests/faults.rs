//! Fault injection over real HTTP: every effect, route and window matching, seeded
//! repeatability, faults from the config file, and bad rules.

mod server_support;

use reqwest::Method;
use serde_json::{json, Value};
use server_support::{password_form, Emu};
use sfscale_emulator::config::{Config, FaultConfig};
use std::time::Duration;

fn rules(seed: u64, rules: Value) -> Value {
    json!({"seed": seed, "rules": rules})
}

#[tokio::test]
async fn a_503_brownout_answers_server_unavailable_and_still_counts_the_call() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    emu.set_faults(rules(
        1,
        json!([{"route": "limits", "share": 1.0, "effect": "503"}]),
    ))
    .await;
    let answer = emu.get(&token, "limits").await;
    assert_eq!(answer.status, 503);
    assert_eq!(
        answer.body,
        json!([{"message": "Server too busy. Please try again later.", "errorCode": "SERVER_UNAVAILABLE", "fields": []}])
    );
    assert!(answer
        .header("sforce-limit-info")
        .starts_with("api-usage=1/"));
    assert_ne!(
        emu.get(&token, "sobjects").await.status / 100,
        5,
        "other routes are untouched"
    );
    let stats = emu.stats().await;
    assert_eq!(stats["faults_injected"]["503"], 1);
    assert_eq!(stats["errors_by_code"]["SERVER_UNAVAILABLE"], 1);
    assert_eq!(stats["api_requests"], 2, "faulted calls reached Salesforce");
}

#[tokio::test]
async fn a_500_answers_unknown_exception() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    emu.set_faults(rules(
        1,
        json!([{"route": "*", "share": 1.0, "effect": "500"}]),
    ))
    .await;
    let answer = emu.get(&token, "limits").await;
    assert_eq!(
        (answer.status, answer.error_code()),
        (500, "UNKNOWN_EXCEPTION")
    );
    assert_eq!(emu.stats().await["faults_injected"]["500"], 1);
}

#[tokio::test]
async fn reset_drops_the_connection_without_an_answer() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    emu.set_faults(rules(
        1,
        json!([{"route": "limits", "share": 1.0, "effect": "reset"}]),
    ))
    .await;
    let error = emu
        .http
        .get(emu.url("limits"))
        .bearer_auth(&token)
        .send()
        .await
        .expect_err("no response");
    assert!(!error.is_timeout() && !error.is_status(), "{error:?}");
    assert_eq!(emu.stats().await["faults_injected"]["reset"], 1);
    emu.set_faults(rules(1, json!([]))).await;
    assert_eq!(
        emu.get(&token, "limits").await.status,
        200,
        "the server keeps serving"
    );
}

#[tokio::test]
async fn timeout_holds_the_call_until_the_client_gives_up() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    emu.set_faults(rules(
        1,
        json!([{"route": "limits", "share": 1.0, "effect": "timeout"}]),
    ))
    .await;
    let impatient = emu
        .http
        .get(emu.url("limits"))
        .bearer_auth(&token)
        .timeout(Duration::from_millis(300));
    let error = impatient.send().await.expect_err("no answer in time");
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(emu.stats().await["faults_injected"]["timeout"], 1);
    // The held call ends when the client hangs up, so it does not stay in flight.
    emu.wait_for_stats(|s| s["in_flight"] == 0).await;
    emu.emulator.shutdown().await;
}

#[tokio::test]
async fn delay_answers_normally() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    emu.set_faults(rules(
        1,
        json!([{"route": "limits", "share": 1.0, "effect": "delay:30"}]),
    ))
    .await;
    let answer = emu.get(&token, "limits").await;
    assert_eq!(answer.status, 200);
    assert!(answer.body["DailyApiRequests"].is_object());
    assert_eq!(emu.stats().await["faults_injected"]["delay"], 1);
}

#[tokio::test]
async fn expire_session_ends_the_callers_session() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    let other = emu.token().await;
    emu.set_faults(rules(
        1,
        json!([{"route": "limits", "share": 1.0, "effect": "expire-session"}]),
    ))
    .await;
    let answer = emu.get(&token, "limits").await;
    assert_eq!(
        (answer.status, answer.error_code()),
        (401, "INVALID_SESSION_ID")
    );
    emu.set_faults(rules(1, json!([]))).await;
    assert_eq!(
        emu.get(&token, "limits").await.status,
        401,
        "the session stays expired"
    );
    assert_eq!(
        emu.get(&other, "limits").await.status,
        200,
        "other sessions live on"
    );
    let grant = emu.grant(&password_form()).await;
    assert_eq!(
        grant.status, 200,
        "expire-session never hits the token endpoint"
    );
}

#[tokio::test]
async fn token_endpoint_faults_use_the_oauth_error_shape() {
    let emu = Emu::start().await;
    emu.set_faults(rules(
        1,
        json!([{"route": "token", "share": 1.0, "effect": "503"}]),
    ))
    .await;
    let answer = emu.grant(&password_form()).await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.body["error"], "temporarily_unavailable");
    let stats = emu.stats().await;
    assert_eq!(stats["errors_by_code"]["SERVER_UNAVAILABLE"], 1);
    assert_eq!(stats["token_grants"]["total"], 0);
}

async fn fault_pattern(emu: &Emu, token: &str, seed: u64) -> Vec<u16> {
    emu.set_faults(rules(
        seed,
        json!([{"route": "limits", "share": 0.4, "effect": "503"}]),
    ))
    .await;
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(emu.get(token, "limits").await.status);
    }
    statuses
}

#[tokio::test]
async fn the_same_seed_fails_the_same_calls() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    let first = fault_pattern(&emu, &token, 7).await;
    let again = fault_pattern(&emu, &token, 7).await;
    let other = fault_pattern(&emu, &token, 8).await;
    assert_eq!(first, again);
    assert_ne!(first, other);
    let failed = first.iter().filter(|s| **s == 503).count();
    assert!((4..=30).contains(&failed), "{failed} of 40 at share 0.4");
    assert_eq!(
        emu.stats().await["faults_injected"]["503"],
        (first
            .iter()
            .chain(&again)
            .chain(&other)
            .filter(|s| **s == 503)
            .count())
    );
}

#[tokio::test]
async fn rules_apply_only_inside_their_window() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    emu.set_faults(rules(
        1,
        json!([{"route": "*", "share": 1.0, "effect": "503", "after_s": 3600}]),
    ))
    .await;
    assert_eq!(
        emu.get(&token, "limits").await.status,
        200,
        "before the window"
    );
    emu.set_faults(rules(
        1,
        json!([{"route": "*", "share": 1.0, "effect": "503", "after_s": 0, "for_s": 0}]),
    ))
    .await;
    assert_eq!(
        emu.get(&token, "limits").await.status,
        200,
        "after the window"
    );
    emu.set_faults(rules(
        1,
        json!([{"route": "*", "share": 1.0, "effect": "503", "for_s": 3600}]),
    ))
    .await;
    assert_eq!(
        emu.get(&token, "limits").await.status,
        503,
        "inside the window"
    );
    assert_eq!(emu.stats().await["faults_injected"]["503"], 1);
}

#[tokio::test]
async fn faults_from_the_config_apply_from_the_start() {
    let faults: FaultConfig = serde_json::from_value(rules(
        3,
        json!([{"route": "limits", "share": 1.0, "effect": "500"}]),
    ))
    .unwrap();
    let emu = Emu::start_with(Config {
        faults,
        ..Config::default()
    })
    .await;
    let token = emu.token().await;
    assert_eq!(emu.get(&token, "limits").await.status, 500);
    let shown = emu.control(Method::GET, "faults", None).await;
    assert_eq!(shown.body["seed"], 3);
    assert_eq!(shown.body["rules"][0]["effect"], "500");
}

#[tokio::test]
async fn bad_rules_are_refused_naming_the_problem() {
    let emu = Emu::start().await;
    let cases = [
        (
            json!([{"route": "soap", "share": 0.5, "effect": "503"}]),
            "soap",
        ),
        (
            json!([{"route": "*", "share": 2.0, "effect": "503"}]),
            "share",
        ),
        (
            json!([{"route": "*", "share": 0.5, "effect": "delay:soon"}]),
            "delay:soon",
        ),
        (
            json!([{"route": "*", "share": 0.5, "effect": "503", "for_s": -1}]),
            "for_s",
        ),
        (json!([{"route": "*", "effect": "503"}]), "share"),
    ];
    for (bad, named) in cases {
        let answer = emu
            .control(Method::PUT, "faults", Some(rules(1, bad)))
            .await;
        assert_eq!(answer.status, 400);
        let error = answer.body["error"].as_str().unwrap();
        assert!(error.contains(named), "{error} should name {named}");
    }
    let not_json = emu
        .send(emu.http.put(emu.url("/__emulator/faults")).body("{"))
        .await;
    assert_eq!(not_json.status, 400);
}

#[tokio::test]
async fn the_library_handle_sets_faults_too() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    let faults: FaultConfig =
        serde_json::from_value(rules(1, json!([{"share": 1.0, "effect": "503"}]))).unwrap();
    emu.emulator.faults().set(faults).unwrap();
    assert_eq!(emu.get(&token, "limits").await.status, 503);
    emu.emulator.faults().clear();
    assert_eq!(emu.get(&token, "limits").await.status, 200);
}

#[tokio::test]
async fn data_api_error_effects_answer_the_documented_errors() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    let cases = [
        (
            "concurrent-limit",
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
        ),
        (
            "long-txn",
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "ConcurrentPerOrgLongTxn Limit exceeded.",
        ),
        (
            "lock",
            400,
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record",
        ),
        (
            "query-timeout",
            400,
            "QUERY_TIMEOUT",
            "Your query request was running for too long.",
        ),
    ];
    for (effect, status, code, message) in cases {
        emu.set_faults(rules(1, json!([{"share": 1.0, "effect": effect}])))
            .await;
        let answer = emu.get(&token, "limits").await;
        assert_eq!(
            (answer.status, answer.error_code(), answer.message()),
            (status, code, message),
            "{effect}"
        );
        assert_eq!(
            emu.grant(&password_form()).await.status,
            200,
            "{effect} never hits the token endpoint"
        );
        assert_eq!(emu.stats().await["faults_injected"][effect], 1);
    }
}

#[tokio::test]
async fn reset_also_drops_http2_streams_over_tls() {
    let emu = Emu::start_with(Config {
        tls: true,
        ..Config::default()
    })
    .await;
    let ca = reqwest::Certificate::from_pem(emu.emulator.ca_pem().unwrap().as_bytes()).unwrap();
    let https = reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .unwrap();
    let grant = https
        .post(emu.url("/services/oauth2/token"))
        .form(&password_form())
        .send()
        .await
        .unwrap();
    assert_eq!(grant.version(), reqwest::Version::HTTP_2, "ALPN picks h2");
    let token = grant.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let faults = rules(
        1,
        json!([{"route": "limits", "share": 1.0, "effect": "reset"}]),
    );
    emu.emulator
        .faults()
        .set(serde_json::from_value(faults).unwrap())
        .unwrap();
    assert!(https
        .get(emu.url("limits"))
        .bearer_auth(&token)
        .send()
        .await
        .is_err());
    let directory = https
        .get(emu.url("/services/data/v62.0/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        directory.status(),
        200,
        "other calls on the connection carry on"
    );
}
