//! The daily allocation and the concurrent long-running cap, over real HTTP.

mod server_support;

use serde_json::json;
use server_support::{Emu, V};
use sfscale_emulator::config::Config;

#[tokio::test]
async fn daily_allocation_answers_403_at_max_and_stops_counting() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    emu.set_limits(json!({"daily_api_requests": 3})).await;
    for used in 1..=3 {
        let answer = emu.get(&token, "limits").await;
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.header("sforce-limit-info"),
            format!("api-usage={used}/3; per-app-api-usage={used}/3(appName=sfscale)")
        );
    }
    for path in ["limits", "query?q=SELECT+Id+FROM+Account", "sobjects"] {
        let refused = emu.get(&token, path).await;
        assert_eq!(refused.status, 403, "{path}");
        assert_eq!(
            refused.body,
            json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED", "fields": []}])
        );
        assert_eq!(
            refused.header("sforce-limit-info"),
            "api-usage=3/3; per-app-api-usage=3/3(appName=sfscale)"
        );
    }
    let stats = emu.stats().await;
    assert_eq!(stats["api_requests"], 3, "refused calls are not used");
    assert_eq!(stats["errors_by_code"]["REQUEST_LIMIT_EXCEEDED"], 3);

    emu.set_limits(json!({"daily_api_requests": 5})).await;
    let answer = emu.get(&token, "limits").await;
    assert_eq!(
        answer.status, 200,
        "raising the limit lets calls through again"
    );
    assert_eq!(answer.body["DailyApiRequests"]["Remaining"], 1);
}

#[tokio::test]
async fn concurrent_calls_never_overshoot_the_allocation() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    emu.set_limits(json!({"daily_api_requests": 25})).await;
    let calls = (0..60).map(|_| emu.get(&token, "limits"));
    let answers = futures::future::join_all(calls).await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let refused = answers.iter().filter(|a| a.status == 403).count();
    assert_eq!((ok, refused), (25, 35));
    assert_eq!(emu.stats().await["api_requests"], 25);
}

#[tokio::test]
async fn developer_edition_reports_its_smaller_allocation() {
    let config = Config::from_toml("[org]\nedition = \"developer\"\n").unwrap();
    let emu = Emu::start_with(config).await;
    let token = emu.token().await;
    let answer = emu.get(&token, "limits").await;
    assert_eq!(answer.body["DailyApiRequests"]["Max"], 15_000);
    assert_eq!(
        answer.header("sforce-limit-info"),
        "api-usage=1/15000; per-app-api-usage=1/15000(appName=sfscale)"
    );
    let limits = emu.control(reqwest::Method::GET, "limits", None).await;
    assert_eq!(limits.body["long_running_cap"], 5);
}

#[tokio::test]
async fn long_running_calls_are_capped_with_concurrent_requests_errors() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    emu.set_limits(json!({"long_running_cap": 2, "long_running_after_ms": 20}))
        .await;
    // Every `limits` call takes 3 s: long-running by the scaled threshold.
    emu.set_faults(
        json!({"seed": 1, "rules": [{"route": "limits", "share": 1.0, "effect": "delay:3000"}]}),
    )
    .await;
    let slow = (0..2).map(|_| emu.get(&token, "limits"));
    let slow = futures::future::join_all(slow);
    let probe = async {
        emu.wait_for_stats(|s| s["long_running"] == 2).await;
        let refused = emu.get(&token, &format!("/services/data/{V}/")).await;
        let stats = emu.stats().await;
        (refused, stats)
    };
    let (slow, (refused, during)) = tokio::join!(slow, probe);
    assert!(
        slow.iter().all(|a| a.status == 200),
        "the slow calls themselves succeed"
    );
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code(), "REQUEST_LIMIT_EXCEEDED");
    assert_eq!(
        refused.message(),
        "ConcurrentRequests (Concurrent API Requests) Limit exceeded."
    );
    assert_eq!(
        during["api_requests"], 2,
        "the refused call was not counted"
    );

    let after = emu.stats().await;
    assert_eq!(after["long_running"], 0);
    assert_eq!(after["peak_long_running"], 2, "never above the cap");
    assert!(after["peak_in_flight"].as_u64().unwrap() >= 3);
    assert_eq!(
        emu.get(&token, &format!("/services/data/{V}/"))
            .await
            .status,
        200,
        "the cap clears when the slow calls end"
    );
}

#[tokio::test]
async fn short_calls_are_not_limited_by_the_long_running_cap() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    emu.set_limits(json!({"long_running_cap": 1, "long_running_after_ms": 60_000}))
        .await;
    let calls = (0..20).map(|_| emu.get(&token, "limits"));
    let answers = futures::future::join_all(calls).await;
    assert!(answers.iter().all(|a| a.status == 200));
    assert_eq!(emu.stats().await["peak_long_running"], 0);
}

#[tokio::test]
async fn capacity_comes_back_as_calls_leave_the_rolling_window() {
    let emu = Emu::start().await;
    let token = emu.token().await;
    emu.set_limits(json!({"daily_api_requests": 2, "daily_window_secs": 1}))
        .await;
    assert_eq!(emu.get(&token, "limits").await.status, 200);
    assert_eq!(emu.get(&token, "limits").await.status, 200);
    assert_eq!(emu.get(&token, "limits").await.status, 403);
    // Refused calls are not counted, so polling costs nothing; the window is 1 s.
    let mut answer = emu.get(&token, "limits").await;
    for _ in 0..200 {
        if answer.status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        answer = emu.get(&token, "limits").await;
    }
    assert_eq!(answer.status, 200, "the first calls left the window");
    assert!(
        answer
            .header("sforce-limit-info")
            .starts_with("api-usage=1/2"),
        "{}",
        answer.header("sforce-limit-info")
    );
    let stats = emu.stats().await;
    assert_eq!(
        stats["api_requests"], 3,
        "the cumulative count keeps every call"
    );
}
