//! Raw request throughput of the emulator: N concurrent keep-alive clients hammer one data
//! endpoint for a few seconds, then the rate and the server's own counters are printed.
//!
//! ```text
//! cargo run -p sfscale-emulator --example throughput -- --clients 32 --seconds 5 --path limits
//! cargo run -p sfscale-emulator --example throughput -- --path "query?q=SELECT+Id+FROM+Account+LIMIT+10"
//! ```
//!
//! The emulator runs in-process on loopback with latency off and an allocation too large
//! to hit, so what is measured is the full HTTP path: parsing, the gate (session check,
//! counting, limit header), the handler and the response. A benchmark, not a test: it
//! asserts nothing about time.

use clap::Parser;
use serde_json::json;
use sfscale_emulator::config::{
    Config, Limits, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME,
};
use sfscale_emulator::Emulator;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Per-request timeout, so `timeout` faults do not stall a client for good.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Parser)]
struct Args {
    /// Concurrent clients, each with its own keep-alive connection.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// How long to run.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Path below `/services/data/v62.0/`.
    #[arg(long, default_value = "limits")]
    path: String,
    /// Ask for uncompressed responses (real clients ask for gzip).
    #[arg(long)]
    no_gzip: bool,
    /// Target an emulator already running at this URL (e.g. the binary, to measure its CPU
    /// time separately) instead of starting one in-process; its daily allocation must be
    /// large enough.
    #[arg(long)]
    url: Option<String>,
    /// Accounts to load first (for query paths).
    #[arg(long, default_value_t = 100)]
    accounts: usize,
}

async fn token(http: &reqwest::Client, url: &str) -> String {
    let form = [
        ("grant_type", "password"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", DEFAULT_CLIENT_SECRET),
        ("username", DEFAULT_USERNAME),
        ("password", DEFAULT_PASSWORD),
    ];
    let grant: serde_json::Value = http
        .post(format!("{url}/services/oauth2/token"))
        .form(&form)
        .send()
        .await
        .expect("token call")
        .json()
        .await
        .expect("token body");
    grant["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

async fn load_accounts(http: &reqwest::Client, url: &str, n: usize) {
    let records: Vec<_> = (0..n)
        .map(|i| json!({"Name": format!("Account {i}")}))
        .collect();
    let load = json!({"object": "Account", "records": records});
    http.post(format!("{url}/__emulator/load"))
        .json(&load)
        .send()
        .await
        .expect("load")
        .error_for_status()
        .expect("load accepted");
}

/// One client: requests back to back until `until`, counting successes and failures.
async fn hammer(
    target: String,
    token: String,
    until: Instant,
    ok: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("client");
    while Instant::now() < until {
        match http.get(&target).bearer_auth(&token).send().await {
            Ok(response) if response.status().is_success() => {
                let _ = response.bytes().await;
                ok.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emulator = match &args.url {
        Some(_) => None,
        None => {
            let config = Config {
                limits: Limits {
                    daily_api_requests: u64::MAX,
                    ..Limits::default()
                },
                ..Config::default()
            };
            Some(Emulator::start(config).await.expect("emulator starts"))
        }
    };
    let url = args
        .url
        .clone()
        .or_else(|| emulator.as_ref().map(|e| e.url().to_string()))
        .expect("a URL");
    let http = reqwest::Client::new();
    let token = token(&http, &url).await;
    load_accounts(&http, &url, args.accounts).await;

    let target = format!("{url}/services/data/v62.0/{}", args.path);
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let clients: Vec<_> = (0..args.clients)
        .map(|_| {
            tokio::spawn(hammer(
                target.clone(),
                token.clone(),
                until,
                ok.clone(),
                failed.clone(),
            ))
        })
        .collect();
    for client in clients {
        client.await.expect("client task");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    println!("path: /services/data/v62.0/{}", args.path);
    println!("clients: {}, seconds: {elapsed:.1}", args.clients);
    println!(
        "ok: {ok}, failed: {failed}, rate: {:.0} req/s",
        ok as f64 / elapsed
    );
    let stats: serde_json::Value = http
        .get(format!("{url}/__emulator/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats body");
    println!(
        "server: api_requests={} peak_in_flight={}",
        stats["api_requests"], stats["peak_in_flight"]
    );
    if let Some(emulator) = emulator {
        emulator.shutdown().await;
    }
}
