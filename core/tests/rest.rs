//! The REST operations end to end against the emulator, asserting on what the emulator
//! saw (its counters), not only on what the client returned.

mod common;

use std::time::Duration;

use common::{accounts, count, Emu};
use futures::TryStreamExt as _;
use serde_json::{json, Value};
use sfscale::rest::{Record, Subrequest};
use sfscale::{ErrorKind, Order, Soql};

fn record(value: Value) -> Record {
    value.as_object().expect("an object").clone()
}

#[tokio::test]
async fn query_streams_every_page_with_the_requested_batch_size() {
    let emu = Emu::start().await;
    emu.load("Account", accounts("page", 1_050)).await;
    let client = emu.builder().query_batch_size(200).build().unwrap();
    let soql = Soql::select(["Id", "Name"])
        .from("Account")
        .order_by("Name", Order::Asc)
        .build()
        .unwrap();
    let records: Vec<Record> = client.query(soql).try_collect().await.unwrap();
    assert_eq!(records.len(), 1_050);
    assert!(records.iter().all(|r| r["attributes"]["type"] == "Account"));
    let stats = emu.stats().await;
    // 1,050 rows at 200 per page = 6 pages, each its own API call.
    assert_eq!(count(&stats, &["requests_by_route", "query"]), 6, "{stats}");
}

#[tokio::test]
async fn a_consumer_that_stops_early_stops_the_fetching() {
    let emu = Emu::start().await;
    emu.load("Account", accounts("early", 1_000)).await;
    let client = emu.builder().query_batch_size(200).build().unwrap();
    let mut stream = client.query("SELECT Id FROM Account");
    for _ in 0..250 {
        stream.try_next().await.unwrap().expect("a record");
    }
    drop(stream);
    let stats = emu.stats().await;
    // The two pages read, and at most the one fetched ahead of them (of five).
    let pages = count(&stats, &["requests_by_route", "query"]);
    assert!((2..=3).contains(&pages), "{stats}");
}

#[tokio::test]
async fn bound_values_with_quotes_are_data_not_query_structure() {
    let emu = Emu::start().await;
    let client = emu.client();
    let tricky = "O'Brien \\ \"Co\" ' OR Name != '";
    client
        .create("Account", &json!({"Name": tricky}))
        .await
        .unwrap();
    client
        .create("Account", &json!({"Name": "Other"}))
        .await
        .unwrap();
    let soql = Soql::select(["Id", "Name"])
        .from("Account")
        .where_eq("Name", tricky)
        .build()
        .unwrap();
    let found: Vec<Record> = client.query(soql).try_collect().await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["Name"], tricky);
}

#[tokio::test]
async fn crud_round_trip() {
    let emu = Emu::start().await;
    let client = emu.client();
    let id = client
        .create("Account", &json!({"Name": "Acme"}))
        .await
        .unwrap();
    assert_eq!(id.len(), 18);
    client
        .update("Account", &id, &json!({"Name": "Acme 2"}))
        .await
        .unwrap();
    let got = client.get("Account", &id, &["Name"]).await.unwrap();
    assert_eq!(got["Name"], "Acme 2");
    client.delete("Account", &id).await.unwrap();
    let gone = client.get("Account", &id, &[]).await.unwrap_err();
    // Salesforce answers 404 ENTITY_IS_DELETED for a record in the recycle bin.
    assert_eq!(
        (gone.kind(), gone.status()),
        (ErrorKind::NotFound, Some(404)),
        "{gone}"
    );
    let bad = client
        .create("Account", &json!({"Nope__c": 1}))
        .await
        .unwrap_err();
    assert_eq!(bad.status(), Some(400), "{bad}");
    assert!(bad.to_string().contains("create on Account"), "{bad}");
}

#[tokio::test]
async fn upsert_creates_then_updates_by_external_id() {
    let emu = Emu::start().await;
    let client = emu.client();
    let first = client
        .upsert(
            "Account",
            "External_Id__c",
            "ext/1 ?",
            &json!({"Name": "A"}),
        )
        .await
        .unwrap();
    assert!(first.created);
    let second = client
        .upsert(
            "Account",
            "External_Id__c",
            "ext/1 ?",
            &json!({"Name": "B"}),
        )
        .await
        .unwrap();
    assert!(!second.created);
    assert_eq!(first.id, second.id);
    let got = client
        .get(
            "Account",
            first.id.as_deref().unwrap(),
            &["Name", "External_Id__c"],
        )
        .await
        .unwrap();
    assert_eq!(
        (got["Name"].as_str(), got["External_Id__c"].as_str()),
        (Some("B"), Some("ext/1 ?"))
    );
    assert_eq!(count(&emu.stats().await, &["records", "Account"]), 1);
}

#[tokio::test]
async fn collections_chunk_by_200_and_map_results_to_input_rows() {
    let emu = Emu::start().await;
    let client = emu.client();
    let mut records: Vec<Record> = accounts("coll", 450).into_iter().map(record).collect();
    // Row 321 lacks the required Name: only that row fails.
    records[321].remove("Name");
    let results = client
        .upsert_many("Account", "External_Id__c", &records, false)
        .await
        .unwrap();
    assert_eq!(results.len(), 450);
    let failed: Vec<usize> = results
        .iter()
        .filter(|r| !r.success)
        .map(|r| r.index)
        .collect();
    assert_eq!(failed, vec![321]);
    let error = results[321].error().unwrap();
    assert_eq!(error.row(), Some(321));
    assert!(results
        .iter()
        .filter(|r| r.success)
        .all(|r| r.created == Some(true)));
    let stats = emu.stats().await;
    assert_eq!(count(&stats, &["records", "Account"]), 449);
    assert_eq!(
        count(&stats, &["requests_by_route", "collections"])
            + count(&stats, &["requests_by_route", "composite"]),
        3,
        "{stats}"
    );

    // Update through collections, then delete them all.
    let ids: Vec<String> = results.iter().filter_map(|r| r.id.clone()).collect();
    let updates: Vec<Record> = ids
        .iter()
        .map(|id| record(json!({"Id": id, "Name": "renamed"})))
        .collect();
    let updated = client.update_many("Account", &updates, true).await.unwrap();
    assert!(updated.iter().all(|r| r.success));
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let deleted = client.delete_many(&id_refs, false).await.unwrap();
    assert!(deleted.iter().all(|r| r.success));
    assert_eq!(count(&emu.stats().await, &["records", "Account"]), 0);
}

#[tokio::test]
async fn all_or_none_rolls_back_the_chunk() {
    let emu = Emu::start().await;
    let client = emu.client();
    let records = vec![
        record(json!({"Name": "ok"})),
        record(json!({"Phone": "no name"})),
    ];
    let results = client.create_many("Account", &records, true).await.unwrap();
    assert!(results.iter().all(|r| !r.success));
    assert_eq!(
        results[0].errors[0].status_code,
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(results[1].index, 1);
    assert_eq!(count(&emu.stats().await, &["records", "Account"]), 0);
}

#[tokio::test]
async fn composite_runs_dependent_subrequests_in_one_call() {
    let emu = Emu::start().await;
    let client = emu.client();
    let subrequests = vec![
        Subrequest::new("POST", "sobjects/Account", "acct").body(json!({"Name": "Parent"})),
        Subrequest::new("POST", "sobjects/Contact", "ct")
            .body(json!({"LastName": "Child", "AccountId": "@{acct.id}"})),
    ];
    let responses = client.composite(true, subrequests).await.unwrap();
    assert_eq!(
        responses
            .iter()
            .map(|r| r.http_status_code)
            .collect::<Vec<_>>(),
        vec![201, 201]
    );
    let stats = emu.stats().await;
    assert_eq!(count(&stats, &["records", "Contact"]), 1);
    let too_many = (0..26)
        .map(|i| Subrequest::new("GET", "limits", format!("r{i}")))
        .collect();
    assert_eq!(
        client.composite(false, too_many).await.unwrap_err().code(),
        "INVALID_INPUT"
    );
}

#[tokio::test]
async fn describe_is_fetched_once_however_many_tasks_ask() {
    let emu = Emu::start().await;
    let client = emu.client();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.describe("Account").await })
        })
        .collect();
    for task in tasks {
        let describe = task.await.unwrap().unwrap();
        assert_eq!(describe["name"], "Account");
    }
    let global = client.describe_global().await.unwrap();
    assert!(global["sobjects"].as_array().is_some_and(|s| !s.is_empty()));
    client.describe_global().await.unwrap();
    let stats = emu.stats().await;
    // One object describe and one global describe, for 52 calls.
    assert_eq!(
        count(&stats, &["requests_by_route", "sobjects"]),
        2,
        "{stats}"
    );
    let metrics = client.metrics();
    assert!(format!("{metrics:?}").contains("describe"));
}

#[tokio::test]
async fn query_cached_serves_reference_data_from_memory() {
    let emu = Emu::start().await;
    emu.load("Account", accounts("ref", 5)).await;
    let client = emu.client();
    for _ in 0..3 {
        let rows = client
            .query_cached("SELECT Id FROM Account", Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(rows.len(), 5);
    }
    assert_eq!(
        count(&emu.stats().await, &["requests_by_route", "query"]),
        1
    );
}

#[tokio::test]
async fn limits_reports_the_allocation_and_usage() {
    let emu = Emu::start().await;
    emu.set_limits(json!({"daily_api_requests": 5000})).await;
    let client = emu.client();
    client
        .create("Account", &json!({"Name": "x"}))
        .await
        .unwrap();
    let limits = client.limits().await.unwrap();
    let daily = limits.daily_api_requests().unwrap();
    assert_eq!(daily.max, 5000);
    let used = count(&emu.stats().await, &["api_requests"]);
    assert!(
        daily.used() >= 2 && daily.used() <= used,
        "{daily:?} vs {used}"
    );
}

#[tokio::test]
async fn upsert_on_an_old_api_version_answers_204_without_an_id() {
    let emu = Emu::start().await;
    let client = emu.builder().api_version("45.0").build().unwrap();
    let created = client
        .upsert("Account", "External_Id__c", "old-1", &json!({"Name": "A"}))
        .await
        .unwrap();
    assert!(created.created && created.id.is_some());
    let updated = client
        .upsert("Account", "External_Id__c", "old-1", &json!({"Name": "B"}))
        .await
        .unwrap();
    assert_eq!((updated.id, updated.created), (None, false));
}

#[tokio::test]
async fn query_all_includes_deleted_records() {
    let emu = Emu::start().await;
    let client = emu.client();
    let kept = client
        .create("Account", &json!({"Name": "kept"}))
        .await
        .unwrap();
    let gone = client
        .create("Account", &json!({"Name": "gone"}))
        .await
        .unwrap();
    client.delete("Account", &gone).await.unwrap();
    let live: Vec<Record> = client
        .query("SELECT Id FROM Account")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["Id"], kept.as_str());
    let all: Vec<Record> = client
        .query_all("SELECT Id, IsDeleted FROM Account")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert!(all
        .iter()
        .any(|r| r["Id"] == gone.as_str() && r["IsDeleted"] == true));
}
