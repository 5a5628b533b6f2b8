//! The control API under `/__emulator/` over real HTTP.

mod server_support;

use reqwest::Method;
use serde_json::json;
use server_support::Emu;
use sfscale_emulator::config::{DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN};

#[tokio::test]
async fn stats_carry_every_key_the_language_suites_assert_on() {
    let emu = Emu::start().await;
    let stats = emu.stats().await;
    for key in [
        "api_requests",
        "requests_by_route",
        "token_grants",
        "peak_in_flight",
        "peak_long_running",
        "errors_by_code",
        "faults_injected",
        "records",
        "bulk_jobs",
    ] {
        assert!(stats.get(key).is_some(), "{key} missing from {stats}");
    }
    assert_eq!(stats["token_grants"]["total"], 0);
    assert_eq!(stats["records"]["Account"], 0);
    assert_eq!(
        stats,
        emu.emulator.stats(),
        "the handle serves the same document"
    );
}

#[tokio::test]
async fn limits_take_partial_updates_and_refuse_unknown_keys() {
    let emu = Emu::start().await;
    let answer = emu
        .control(
            Method::PUT,
            "limits",
            Some(json!({"daily_api_requests": 50, "lock_wait_ms": 5})),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["daily_api_requests"], 50);
    assert_eq!(answer.body["lock_wait_ms"], 5);
    assert_eq!(
        answer.body["long_running_cap"], 25,
        "keys not given keep their value"
    );
    assert_eq!(emu.emulator.org().lock_wait().as_millis(), 5);

    let unknown = emu
        .control(
            Method::PUT,
            "limits",
            Some(json!({"daily_api_requestz": 1})),
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.body["error"]
        .as_str()
        .unwrap()
        .contains("daily_api_requestz"));
    let wrong_type = emu
        .control(
            Method::PUT,
            "limits",
            Some(json!({"long_running_cap": "many"})),
        )
        .await;
    assert_eq!(wrong_type.status, 400);
    let not_object = emu.control(Method::PUT, "limits", Some(json!([1]))).await;
    assert_eq!(not_object.status, 400);
    let current = emu.control(Method::GET, "limits", None).await;
    assert_eq!(
        current.body["daily_api_requests"], 50,
        "refused updates change nothing"
    );
}

#[tokio::test]
async fn faults_can_be_set_read_and_cleared() {
    let emu = Emu::start().await;
    let rules = json!({"seed": 9, "rules": [{"route": "query", "share": 0.25, "effect": "delay:100", "after_s": 1.0, "for_s": 2.0}]});
    emu.set_faults(rules.clone()).await;
    let shown = emu.control(Method::GET, "faults", None).await.body;
    assert_eq!(shown, rules);
    emu.set_faults(json!({"seed": 0, "rules": []})).await;
    assert_eq!(
        emu.control(Method::GET, "faults", None).await.body["rules"],
        json!([])
    );
}

#[tokio::test]
async fn load_inserts_records_and_reports_each_one() {
    let emu = Emu::start().await;
    let load = json!({"object": "account", "records": [
        {"Name": "Acme", "External_Id__c": "A-1"},
        {"Name": "Globex", "AnnualRevenue": 1000},
        {"Industry": "Energy"},
        {"Name": "Dup", "External_Id__c": "A-1"},
    ]});
    let answer = emu.control(Method::POST, "load", Some(load)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["object"], "Account");
    assert_eq!(answer.body["created"], 2);
    assert_eq!(answer.body["failed"], 2);
    let results = answer.body["results"].as_array().unwrap();
    let id = results[0]["id"].as_str().unwrap();
    assert_eq!(id.len(), 18);
    assert!(id.starts_with("001"));
    assert_eq!(results[2]["success"], false);
    assert_eq!(
        results[2]["errors"][0]["errorCode"],
        "REQUIRED_FIELD_MISSING"
    );
    assert_eq!(results[3]["errors"][0]["errorCode"], "DUPLICATE_VALUE");

    let stats = emu.stats().await;
    assert_eq!(stats["records"]["Account"], 2);
    assert_eq!(stats["api_requests"], 0, "seeding is not counted");

    let unknown = emu
        .control(
            Method::POST,
            "load",
            Some(json!({"object": "Nope__c", "records": []})),
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.body["error"].as_str().unwrap().contains("Nope__c"));
    let malformed = emu
        .control(Method::POST, "load", Some(json!({"object": "Account"})))
        .await;
    assert_eq!(malformed.status, 400);
}

#[tokio::test]
async fn reset_clears_data_counters_and_faults_but_keeps_sessions_and_limits() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    emu.control(
        Method::POST,
        "load",
        Some(json!({"object": "Contact", "records": [{"LastName": "Doe"}]})),
    )
    .await;
    emu.set_limits(json!({"daily_api_requests": 1000})).await;
    emu.set_faults(
        json!({"seed": 1, "rules": [{"route": "sobjects", "share": 1.0, "effect": "503"}]}),
    )
    .await;
    emu.get(&token, "limits").await;

    let answer = emu.control(Method::POST, "reset", None).await;
    assert_eq!(answer.status, 200);
    let stats = emu.stats().await;
    assert_eq!(stats["records"]["Contact"], 0);
    assert_eq!(stats["api_requests"], 0);
    assert_eq!(stats["token_grants"]["total"], 0);
    assert_eq!(
        emu.control(Method::GET, "faults", None).await.body["rules"],
        json!([])
    );
    let after = emu.get(&token, "limits").await;
    assert_eq!(after.status, 200, "sessions survive a reset");
    assert_eq!(
        after.header("sforce-limit-info"),
        "api-usage=1/1000; per-app-api-usage=1/1000(appName=sfscale)"
    );
}

#[tokio::test]
async fn config_is_shown_with_secrets_redacted() {
    let emu = Emu::start().await;
    emu.set_limits(json!({"lock_wait_ms": 42})).await;
    let answer = emu.control(Method::GET, "config", None).await;
    assert_eq!(answer.status, 200);
    let text = answer.body.to_string();
    for secret in [
        DEFAULT_CLIENT_SECRET,
        DEFAULT_PASSWORD,
        DEFAULT_SECURITY_TOKEN,
    ] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    assert_eq!(answer.body["org"]["client_secret"], "<redacted>");
    assert_eq!(answer.body["org"]["client_id"], "sfscale-emulator-client");
    assert_eq!(
        answer.body["limits"]["lock_wait_ms"], 42,
        "current limits, not the start-up ones"
    );
    assert_eq!(answer.body["url"], emu.emulator.url());
}

#[tokio::test]
async fn expire_sessions_answers_ok() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    let answer = emu.control(Method::POST, "expire-sessions", None).await;
    assert_eq!(
        (answer.status, answer.body.clone()),
        (200, json!({"ok": true}))
    );
    assert_eq!(emu.get(&token, "limits").await.status, 401);
}
