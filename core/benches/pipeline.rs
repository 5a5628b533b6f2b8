//! Whole-pipeline overhead: `Client::get` against raw `reqwest` on the same emulator route,
//! one request at a time and 32 in flight per iteration.
//!
//! Both sides use the same transport settings (`sfscale::http::build_client`) against an
//! in-process emulator on loopback with latency off, so the difference is what the
//! pipeline adds per call: limits admission, scheduler permit, token lookup, span,
//! classification, metrics and the `Sforce-Limit-Info` update. Figures are reported,
//! never asserted (benchmarks do not gate CI on time).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::future::join_all;
use serde_json::{json, Value};
use sfscale::http::{build_client, HttpSettings};
use sfscale::Client;
use sfscale_emulator::config::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use sfscale_emulator::{Config, Emulator};

const IN_FLIGHT: usize = 32;

struct Fixture {
    _emulator: Emulator,
    client: Client,
    raw: reqwest::Client,
    url: String,
    bearer: String,
    id: String,
}

fn transport() -> reqwest::Client {
    build_client(&HttpSettings {
        ca_file: None,
        connect_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(60),
        pool_max_idle_per_host: 64,
    })
    .expect("transport builds")
}

async fn fixture() -> Fixture {
    let emulator = Emulator::start(Config {
        port: 0,
        ..Config::default()
    })
    .await
    .expect("emulator");
    let raw = transport();
    let base = emulator.url().to_owned();
    raw.put(format!("{base}/__emulator/limits"))
        .json(&json!({"daily_api_requests": 1_000_000_000u64}))
        .send()
        .await
        .expect("limits set");
    let client = Client::builder()
        .instance_url(&base)
        .auth_client_credentials(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
        .scheduler_concurrency(IN_FLIGHT as u32, 1, 64)
        .build()
        .expect("client");
    let id = client
        .create("Account", &json!({"Name": "bench"}))
        .await
        .expect("record");
    let token: Value = raw
        .post(format!("{base}/services/oauth2/token"))
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token body");
    let bearer = format!(
        "Bearer {}",
        token["access_token"].as_str().expect("access_token")
    );
    let url = format!("{base}/services/data/v62.0/sobjects/Account/{id}");
    Fixture {
        _emulator: emulator,
        client,
        raw,
        url,
        bearer,
        id,
    }
}

async fn raw_get(f: &Fixture) {
    let response = f
        .raw
        .get(&f.url)
        .header("Authorization", &f.bearer)
        .send()
        .await
        .expect("sent");
    assert!(response.status().is_success());
    response.bytes().await.expect("body");
}

async fn pipeline_get(f: &Fixture) {
    f.client.get("Account", &f.id, &[]).await.expect("record");
}

fn whole_pipeline(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let f = rt.block_on(fixture());
    for in_flight in [1, IN_FLIGHT] {
        let mut group = c.benchmark_group(format!("get_sobject_{in_flight}_in_flight"));
        group.throughput(Throughput::Elements(in_flight as u64));
        group.bench_function("raw_reqwest", |b| {
            b.to_async(&rt)
                .iter(|| join_all((0..in_flight).map(|_| raw_get(&f))))
        });
        group.bench_function("sfscale_pipeline", |b| {
            b.to_async(&rt)
                .iter(|| join_all((0..in_flight).map(|_| pipeline_get(&f))))
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(5));
    targets = whole_pipeline
}
criterion_main!(benches);
