//! The pipeline's policies end to end: what is retried and what is not, the retry
//! budget, the concurrency limit, the limits guard's events, and the metrics, each
//! checked against the emulator's own counters.

mod common;

use std::time::Duration;

use common::{accounts, count, Emu};
use futures::TryStreamExt as _;
use serde_json::json;
use sfscale::{ErrorKind, Event};

fn faults(route: &str, share: f64, effect: &str) -> serde_json::Value {
    json!({"seed": 5, "rules": [{"route": route, "share": share, "effect": effect}]})
}

#[tokio::test]
async fn a_503_brownout_is_retried_until_every_call_succeeds() {
    let emu = Emu::start().await;
    let client = emu.builder().retry_max_attempts(8).build().unwrap();
    client.limits().await.unwrap();
    emu.set_faults(faults("sobjects", 0.4, "503")).await;
    for i in 0..40 {
        client
            .upsert(
                "Account",
                "External_Id__c",
                &format!("b-{i}"),
                &json!({"Name": "b"}),
            )
            .await
            .unwrap();
    }
    let stats = emu.stats().await;
    let injected = count(&stats, &["faults_injected", "503"]);
    assert!(injected > 0, "{stats}");
    assert_eq!(count(&stats, &["records", "Account"]), 40);
    let metrics = client.metrics();
    assert_eq!(
        metrics.retries.get("throttled").copied().unwrap_or(0),
        injected,
        "{metrics:?}"
    );
    assert!(metrics.throttled > 0, "503s shrink the concurrency limit");
}

#[tokio::test]
async fn a_create_that_may_have_been_applied_is_not_replayed() {
    let emu = Emu::start().await;
    let client = emu.client();
    client.limits().await.unwrap();
    emu.set_faults(faults("sobjects", 1.0, "500")).await;
    let error = client
        .create("Account", &json!({"Name": "once"}))
        .await
        .unwrap_err();
    assert_eq!(
        (error.kind(), error.status()),
        (ErrorKind::Server, Some(500)),
        "{error}"
    );
    assert_eq!(
        count(&emu.stats().await, &["requests_by_route", "sobjects"]),
        1,
        "a POST is never replayed after a 500"
    );
    // An upsert by external id is idempotent: it is retried up to the attempt cap (4).
    client
        .upsert("Account", "External_Id__c", "x", &json!({"Name": "x"}))
        .await
        .unwrap_err();
    assert_eq!(
        count(&emu.stats().await, &["requests_by_route", "sobjects"]),
        1 + 4
    );
}

#[tokio::test]
async fn connection_resets_on_reads_are_retried() {
    let emu = Emu::start().await;
    emu.load("Account", accounts("r", 3)).await;
    let client = emu.builder().retry_max_attempts(10).build().unwrap();
    client.limits().await.unwrap();
    emu.set_faults(faults("query", 0.5, "reset")).await;
    for _ in 0..10 {
        let rows: Vec<_> = client
            .query("SELECT Id FROM Account")
            .try_collect()
            .await
            .unwrap();
        assert_eq!(rows.len(), 3);
    }
    let stats = emu.stats().await;
    assert!(count(&stats, &["faults_injected", "reset"]) > 0, "{stats}");
    assert!(
        client
            .metrics()
            .retries
            .get("transient")
            .copied()
            .unwrap_or(0)
            > 0
    );
}

#[tokio::test]
async fn a_hung_call_times_out_and_is_retried_only_up_to_the_cap() {
    let emu = Emu::start().await;
    let client = emu
        .builder()
        .http_request_timeout(Duration::from_millis(300))
        .retry_max_attempts(2)
        .build()
        .unwrap();
    client.limits().await.unwrap();
    emu.set_faults(faults("query", 1.0, "timeout")).await;
    let error = client
        .query("SELECT Id FROM Account")
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(
        (error.kind(), error.code()),
        (ErrorKind::Timeout, "TIMEOUT"),
        "{error}"
    );
    assert_eq!(
        count(&emu.stats().await, &["requests_by_route", "query"]),
        2
    );
}

#[tokio::test]
async fn an_empty_retry_budget_stops_retries_and_says_so() {
    let emu = Emu::start().await;
    // Room for exactly two retries, no refund.
    let client = emu
        .builder()
        .retry_budget(10, 5, 0)
        .retry_max_attempts(5)
        .build()
        .unwrap();
    let mut events = client.subscribe();
    client.limits().await.unwrap();
    emu.set_faults(faults("sobjects", 1.0, "503")).await;
    for i in 0..3 {
        let error = client
            .upsert(
                "Account",
                "External_Id__c",
                &format!("e{i}"),
                &json!({"Name": "e"}),
            )
            .await
            .unwrap_err();
        assert_eq!(error.code(), "SERVER_UNAVAILABLE");
    }
    // 3 first attempts + the 2 retries the budget paid for.
    assert_eq!(
        count(&emu.stats().await, &["requests_by_route", "sobjects"]),
        5
    );
    assert!(client.metrics().budget_denials >= 1);
    let mut exhausted = false;
    while let Ok(event) = events.try_recv() {
        exhausted |= matches!(event, Event::RetryBudgetExhausted { .. });
    }
    assert!(exhausted, "a RetryBudgetExhausted event was emitted");
    assert_eq!(
        client
            .metrics()
            .gauges
            .get("retry_budget_available")
            .copied(),
        Some(0)
    );
}

#[tokio::test]
async fn the_concurrency_limit_bounds_calls_in_flight_at_the_server() {
    let emu = Emu::start().await;
    let client = emu
        .builder()
        .scheduler_concurrency(3, 1, 3)
        .build()
        .unwrap();
    client.limits().await.unwrap();
    emu.set_faults(faults("sobjects", 1.0, "delay:30")).await;
    let calls: Vec<_> = (0..30)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .create("Account", &json!({"Name": format!("c{i}")}))
                    .await
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let stats = emu.stats().await;
    assert!(count(&stats, &["peak_in_flight"]) <= 3, "{stats}");
    assert!(
        count(&stats, &["peak_in_flight"]) >= 2,
        "calls did overlap: {stats}"
    );
}

#[tokio::test]
async fn usage_thresholds_emit_events_and_reach_the_metrics() {
    let emu = Emu::start().await;
    emu.set_limits(json!({"daily_api_requests": 20})).await;
    let client = emu.builder().limits_reserve(0.0).build().unwrap();
    let mut events = client.subscribe();
    for i in 0..11 {
        client
            .create("Account", &json!({"Name": format!("t{i}")}))
            .await
            .unwrap();
    }
    let mut crossed = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let Event::LimitThreshold { fraction, .. } = event {
            crossed.push(fraction);
        }
    }
    assert_eq!(crossed, vec![0.5], "12 of 20 used crosses 50 % only");
    let prometheus = client.metrics_prometheus();
    assert!(
        prometheus.contains("sfscale_limit_used{allocation=\"api_requests\"} 12"),
        "{prometheus}"
    );
    assert!(
        prometheus.contains("sfscale_requests_total{route=\"sobject.create\",status=\"201\"} 11"),
        "{prometheus}"
    );
}

#[tokio::test]
async fn the_hard_limit_is_never_crossed_even_by_critical_work() {
    let emu = Emu::start().await;
    emu.set_limits(json!({"daily_api_requests": 10})).await;
    let client = emu.client().with_priority(sfscale::Priority::Critical);
    let mut outcomes = Vec::new();
    for i in 0..15 {
        outcomes.push(
            client
                .create("Account", &json!({"Name": format!("h{i}")}))
                .await,
        );
    }
    let refused = outcomes
        .iter()
        .filter(|o| {
            o.as_ref()
                .is_err_and(|e| e.code() == "REQUEST_LIMIT_EXCEEDED")
        })
        .count();
    assert_eq!(refused, 6, "1 /limits + 9 creates fit in 10");
    let stats = emu.stats().await;
    assert_eq!(count(&stats, &["api_requests"]), 10);
    assert_eq!(
        count(&stats, &["errors_by_code", "REQUEST_LIMIT_EXCEEDED"]),
        0,
        "refused client-side: {stats}"
    );
}

#[tokio::test]
async fn row_lock_contention_is_retried_until_every_write_lands() {
    let mut config = sfscale_emulator::Config::default();
    // Each write holds its parent Account for 40 ms; competitors give up after 5 ms.
    config.bulk.row_micros = 40_000;
    config.limits.lock_wait_ms = 5;
    let emu = Emu::start_with(config).await;
    let client = emu
        .builder()
        .retry_max_attempts(20)
        .retry_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .build()
        .unwrap();
    let mut events = client.subscribe();
    let parent = client
        .create("Account", &json!({"Name": "parent"}))
        .await
        .unwrap();
    let writes: Vec<_> = (0..6)
        .map(|i| {
            let (client, parent) = (client.clone(), parent.clone());
            tokio::spawn(async move {
                let contact = json!({"LastName": format!("child-{i}"), "AccountId": parent});
                client.create("Contact", &contact).await
            })
        })
        .collect();
    for write in writes {
        write.await.unwrap().expect("every write lands eventually");
    }
    let stats = emu.stats().await;
    assert_eq!(count(&stats, &["records", "Contact"]), 6);
    let locked = count(&stats, &["errors_by_code", "UNABLE_TO_LOCK_ROW"]);
    assert!(locked >= 1, "the writes did contend: {stats}");
    assert_eq!(client.metrics().retries.get("lock").copied(), Some(locked));
    let mut contention = 0;
    while let Ok(event) = events.try_recv() {
        contention += u64::from(matches!(event, Event::LockContention { .. }));
    }
    assert_eq!(contention, locked);
}

#[tokio::test]
async fn a_client_from_the_environment_works_against_the_emulator() {
    let emu = Emu::start().await;
    let key = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../emulator/fixtures/jwt/private.pem"
    );
    let vars = std::collections::HashMap::from([
        ("SFSCALE_INSTANCE_URL", emu.url().to_owned()),
        (
            "SFSCALE_CLIENT_ID",
            sfscale_emulator::config::DEFAULT_CLIENT_ID.to_owned(),
        ),
        (
            "SFSCALE_USERNAME",
            sfscale_emulator::config::DEFAULT_USERNAME.to_owned(),
        ),
        ("SFSCALE_PRIVATE_KEY_FILE", key.to_owned()),
        ("SFSCALE_API_VERSION", "60.0".to_owned()),
        ("SFSCALE_RESERVE", "0.1".to_owned()),
    ]);
    let client = sfscale::ClientBuilder::from_lookup(|name| vars.get(name).cloned())
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.config().api_version, "60.0");
    let id = client
        .create("Account", &json!({"Name": "env"}))
        .await
        .unwrap();
    client.get("Account", &id, &["Name"]).await.unwrap();
    let stats = emu.stats().await;
    assert_eq!(count(&stats, &["token_grants", "jwt_bearer"]), 1, "{stats}");
}

#[tokio::test]
async fn a_full_wait_queue_pushes_back_instead_of_piling_up() {
    let emu = Emu::start().await;
    let client = emu
        .builder()
        .scheduler_concurrency(1, 1, 1)
        .scheduler_queue_capacity(2)
        .scheduler_fail_fast_when_full()
        .build()
        .unwrap();
    client.limits().await.unwrap();
    emu.set_faults(faults("sobjects", 1.0, "delay:50")).await;
    let calls: Vec<_> = (0..10)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .create("Account", &json!({"Name": format!("q{i}")}))
                    .await
            })
        })
        .collect();
    let mut pushed_back = 0;
    for call in calls {
        if let Err(error) = call.await.unwrap() {
            assert_eq!(
                (error.kind(), error.code()),
                (ErrorKind::Backpressure, "BACKPRESSURE"),
                "{error}"
            );
            pushed_back += 1;
        }
    }
    let stats = emu.stats().await;
    assert!(pushed_back >= 1, "some callers were refused");
    assert_eq!(count(&stats, &["records", "Account"]), 10 - pushed_back);
    assert_eq!(count(&stats, &["peak_in_flight"]), 1, "{stats}");
}

/// Collects everything a `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn every_call_has_a_span_with_its_fields_and_never_a_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("sfscale::observe=trace,sfscale::pipeline=trace,sfscale::tokens=trace")
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let emu = Emu::start().await;
        let client = emu.client();
        client
            .create("Account", &json!({"Name": "traced"}))
            .await
            .unwrap();
        emu.expire_sessions().await;
        client
            .create("Account", &json!({"Name": "replayed"}))
            .await
            .unwrap();
    });
    let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for field in [
        "sfscale.call",
        "operation=\"create\"",
        "object=\"Account\"",
        "status=201",
        "wait_ms=",
    ] {
        assert!(out.contains(field), "{field} missing from:\n{out}");
    }
    assert!(
        out.contains("attempt=2"),
        "the replay after the 401 is attempt 2:\n{out}"
    );
    assert!(
        !out.contains("Bearer") && !out.contains("00D"),
        "no token in traces:\n{out}"
    );
}

#[tokio::test]
async fn a_failing_limits_fetch_is_not_repeated_before_every_call() {
    let emu = Emu::start().await;
    let client = emu.builder().retry_max_attempts(1).build().unwrap();
    let rules = json!({"seed": 2, "rules": [
        {"route": "limits", "share": 1.0, "effect": "503"},
        {"route": "sobjects", "share": 1.0, "effect": "503"}
    ]});
    emu.set_faults(rules).await;
    for i in 0..5 {
        let error = client
            .create("Account", &json!({"Name": format!("p{i}")}))
            .await
            .unwrap_err();
        assert_eq!(error.code(), "SERVER_UNAVAILABLE");
    }
    let stats = emu.stats().await;
    assert_eq!(
        count(&stats, &["requests_by_route", "limits"]),
        1,
        "{stats}"
    );
    assert_eq!(
        count(&stats, &["requests_by_route", "sobjects"]),
        5,
        "{stats}"
    );
}
