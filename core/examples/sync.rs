//! A realistic nightly sync: push a source system's customers into Salesforce Accounts.
//!
//! 1. Read the source (here: 1,200 generated customers; in real life a database or a CSV).
//! 2. Query what Salesforce already has (`External_Id__c`, `Name`, `Phone`) as a stream,
//!    one page at a time, with a SOQL built by the escaping builder.
//! 3. Upsert only new or changed customers through sObject Collections (200 per call),
//!    by external id, and report per-row failures with their source row.
//! 4. Print what it cost: API calls by route, retries, token grants, limit usage.
//!
//! Run against a real org with the `SFSCALE_*` variables set (see `sfscale::config`), or
//! with none set to start an in-process emulator:
//!
//! ```text
//! cargo run -p sfscale --example sync
//! ```

use std::collections::HashMap;

use futures::TryStreamExt as _;
use serde_json::{json, Value};
use sfscale::rest::Record;
use sfscale::{Client, Error, Event, Soql};
use sfscale_emulator::config::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use sfscale_emulator::{Config, Emulator};

/// A customer as the source system knows it.
struct Customer {
    key: String,
    name: String,
    phone: String,
}

fn source_customers(run: u32) -> Vec<Customer> {
    (0..1_200)
        .map(|i| Customer {
            key: format!("CUST-{i:05}"),
            name: format!("Customer {i}"),
            // Every run changes a tenth of the phone numbers, so the second run has work too.
            phone: format!("+1 555 {:04}", if i % 10 == 0 { i + run } else { i }),
        })
        .collect()
}

/// What Salesforce has now, by external id: (Name, Phone).
async fn salesforce_state(client: &Client) -> Result<HashMap<String, (Value, Value)>, Error> {
    let soql = Soql::select(["Id", "External_Id__c", "Name", "Phone"])
        .from("Account")
        .and(sfscale::Cond::ne("External_Id__c", None::<String>))
        .build()?;
    client
        .query(soql)
        .map_ok(|r| {
            let key = r["External_Id__c"].as_str().unwrap_or_default().to_owned();
            (key, (r["Name"].clone(), r["Phone"].clone()))
        })
        .try_collect()
        .await
}

/// Upserts the customers that are new or changed; returns (sent, failed).
async fn sync(client: &Client, run: u32) -> Result<(usize, usize), Error> {
    let existing = salesforce_state(client).await?;
    let customers = source_customers(run);
    let (rows, changed): (Vec<usize>, Vec<Record>) = customers
        .iter()
        .enumerate()
        .filter(|(_, c)| existing.get(&c.key) != Some(&(json!(c.name), json!(c.phone))))
        .map(|(row, c)| {
            let record = json!({"External_Id__c": c.key, "Name": c.name, "Phone": c.phone});
            (row, record.as_object().cloned().unwrap_or_default())
        })
        .unzip();
    let results = client
        .upsert_many("Account", "External_Id__c", &changed, false)
        .await?;
    let failed: Vec<_> = results.iter().filter(|r| !r.success).collect();
    for failure in &failed {
        let error = failure.error().expect("a failed record has an error");
        eprintln!("source row {}: {error}", rows[failure.index]);
    }
    Ok((changed.len(), failed.len()))
}

fn print_metrics(client: &Client) {
    let m = client.metrics();
    println!("API calls by route and status: {:?}", m.requests);
    println!(
        "retries: {:?}, budget denials: {}",
        m.retries, m.budget_denials
    );
    println!("token grants: {}", m.token_refreshes);
    for (allocation, usage) in &m.limits {
        println!("{allocation}: {} of {} used", usage.used, usage.max);
    }
    let prometheus = client.metrics_prometheus();
    let requests: Vec<&str> = prometheus
        .lines()
        .filter(|l| l.starts_with("sfscale_requests_total"))
        .collect();
    println!("prometheus excerpt:\n  {}", requests.join("\n  "));
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let configured = std::env::var_os("SFSCALE_INSTANCE_URL").is_some();
    let emulator = if configured {
        None
    } else {
        Some(
            Emulator::start(Config {
                port: 0,
                ..Config::default()
            })
            .await?,
        )
    };
    let client = match &emulator {
        Some(emu) => {
            println!(
                "no SFSCALE_INSTANCE_URL: syncing into an in-process emulator at {}",
                emu.url()
            );
            Client::builder()
                .instance_url(emu.url())
                .auth_client_credentials(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
                .build()?
        }
        None => Client::from_env()?,
    };
    client.on_event(|event| match event {
        Event::LimitThreshold {
            fraction,
            used,
            max,
            ..
        } => {
            println!(
                "event: {:.0} % of the daily allocation used ({used}/{max})",
                fraction * 100.0
            )
        }
        Event::TokenRefreshed { grant } => println!("event: token obtained ({grant})"),
        _ => {}
    });
    for run in 1..=2 {
        let started = std::time::Instant::now();
        let (sent, failed) = sync(&client, run).await?;
        println!(
            "run {run}: upserted {sent} changed customers ({failed} failed) in {:?}",
            started.elapsed()
        );
    }
    print_metrics(&client);
    if let Some(emu) = emulator {
        let stats = emu.stats();
        println!(
            "emulator saw {} API calls and stores {} Accounts",
            stats["api_requests"], stats["records"]["Account"]
        );
        emu.shutdown().await;
    }
    Ok(())
}
