//! sObject Collections, Composite and Composite Batch over real HTTP: results in input
//! order with `statusCode` errors, all-or-none rollback, references between subrequests,
//! PROCESSING_HALTED, and parent-lock contention inside one multi-record transaction
//! (wire doc 2.7, 2.8, 6.4).

mod rest_support;

use reqwest::Method;
use rest_support::{Org, VERSION};
use serde_json::{json, Value};
use sfscale_emulator::Config;
use std::time::Duration;

fn account(name: &str) -> Value {
    json!({"attributes": {"type": "Account"}, "Name": name})
}

fn contact(last_name: &str, account_id: &str) -> Value {
    json!({"attributes": {"type": "Contact"}, "LastName": last_name, "AccountId": account_id})
}

fn status_codes(results: &Value) -> Vec<String> {
    results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["errors"][0]["statusCode"]
                .as_str()
                .unwrap_or("OK")
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn collection_create_answers_in_input_order_with_per_record_errors() {
    let org = Org::start().await;
    let records = json!([
        account("One"),
        {"attributes": {"type": "Account"}, "Industry": "Energy"},
        {"Name": "no type"},
        {"attributes": {"type": "Account"}, "Id": "001M000000qfPySIAU", "Name": "has id"},
        {"attributes": {"type": "Nope__c"}, "Name": "x"},
        {"attributes": {"type": "Contact"}, "LastName": "Two"},
    ]);
    let answer = org
        .post(
            "/composite/sobjects",
            json!({"allOrNone": false, "records": records}),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        status_codes(&answer.body),
        [
            "OK",
            "REQUIRED_FIELD_MISSING",
            "INVALID_TYPE",
            "INVALID_FIELD",
            "INVALID_TYPE",
            "OK"
        ]
    );
    let results = answer.body.as_array().unwrap();
    assert_eq!(results[0]["success"], true);
    assert!(results[0]["id"].as_str().unwrap().starts_with("001"));
    assert!(results[5]["id"].as_str().unwrap().starts_with("003"));
    assert_eq!(results[1]["errors"][0]["fields"], json!(["Name"]));
    assert!(results[1].get("id").is_none(), "a failed create has no id");
    assert!(
        results[1]["errors"][0].get("errorCode").is_none(),
        "collections key errors by statusCode"
    );
    assert_eq!((org.count("Account"), org.count("Contact")), (1, 1));
    assert_eq!(
        org.errors("INVALID_TYPE"),
        2,
        "per-record errors are counted"
    );
}

#[tokio::test]
async fn all_or_none_failure_persists_nothing_and_rolls_back_the_valid_records() {
    let org = Org::start().await;
    let existing = org.account("Existing").await;
    let records =
        json!([account("A"), account("B"), {"attributes": {"type": "Account"}, "Phone": "1"}]);
    let create = org
        .post(
            "/composite/sobjects",
            json!({"allOrNone": true, "records": records}),
        )
        .await;
    assert_eq!(create.status, 200);
    assert_eq!(
        status_codes(&create.body),
        [
            "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "REQUIRED_FIELD_MISSING"
        ]
    );
    assert_eq!(org.count("Account"), 1);

    // Updates that were applied before a later record failed are undone too.
    let records = json!([
        {"attributes": {"type": "Account"}, "Id": existing, "Name": "Renamed"},
        {"attributes": {"type": "Account"}, "Id": existing, "NumberOfEmployees": "many"},
    ]);
    let update = org
        .patch(
            "/composite/sobjects",
            json!({"allOrNone": true, "records": records}),
        )
        .await;
    assert_eq!(
        status_codes(&update.body),
        [
            "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "INVALID_TYPE_ON_FIELD_IN_RECORD"
        ]
    );
    assert_eq!(update.body[0]["id"], json!(existing));
    assert_eq!(
        org.get(&format!("/sobjects/Account/{existing}")).await.body["Name"],
        "Existing"
    );

    let ids = format!("{existing},bogus");
    let delete = org
        .delete(&format!("/composite/sobjects?ids={ids}&allOrNone=true"))
        .await;
    assert_eq!(
        status_codes(&delete.body),
        ["ALL_OR_NONE_OPERATION_ROLLED_BACK", "MALFORMED_ID"]
    );
    assert_eq!(org.count("Account"), 1, "the delete was rolled back");
}

#[tokio::test]
async fn collections_reject_more_than_200_records_and_malformed_bodies() {
    let org = Org::start().await;
    let records: Vec<Value> = (0..201).map(|i| account(&format!("A{i}"))).collect();
    let too_many = org
        .post("/composite/sobjects", json!({"records": records}))
        .await;
    assert_eq!(
        (too_many.status, too_many.error_code()),
        (400, "EXCEEDED_ID_LIMIT")
    );
    let two_hundred: Vec<Value> = (0..200).map(|i| account(&format!("A{i}"))).collect();
    let ok = org
        .post("/composite/sobjects", json!({"records": two_hundred}))
        .await;
    assert_eq!((ok.status, ok.body.as_array().unwrap().len()), (200, 200));
    let no_records = org
        .post("/composite/sobjects", json!({"allOrNone": false}))
        .await;
    assert_eq!(
        (no_records.status, no_records.error_code()),
        (400, "JSON_PARSER_ERROR")
    );
    let not_json = org.raw(Method::POST, "/composite/sobjects", "{").await;
    assert_eq!(
        (not_json.status, not_json.error_code()),
        (400, "JSON_PARSER_ERROR")
    );
    let many_ids = vec!["001M000000qfPySIAU"; 201].join(",");
    let delete = org
        .delete(&format!("/composite/sobjects?ids={many_ids}"))
        .await;
    assert_eq!(
        (delete.status, delete.error_code()),
        (400, "EXCEEDED_ID_LIMIT")
    );
    assert_eq!(org.count("Account"), 200);
}

#[tokio::test]
async fn collection_update_upsert_retrieve_and_delete() {
    let org = Org::start().await;
    let a = org.account("A").await;
    let b = org.account("B").await;
    let update = org
        .patch(
            "/composite/sobjects",
            json!({"records": [
                {"attributes": {"type": "Account"}, "Id": a, "Industry": "Energy"},
                {"attributes": {"type": "Account"}, "Name": "no id"},
                {"attributes": {"type": "Account"}, "Id": b, "Industry": "Retail"},
            ]}),
        )
        .await;
    assert_eq!(status_codes(&update.body), ["OK", "MISSING_ARGUMENT", "OK"]);
    assert_eq!(update.body[2]["id"], json!(b));

    let upsert = org
        .patch(
            "/composite/sobjects/Account/External_Id__c",
            json!({"records": [
                {"attributes": {"type": "Account"}, "External_Id__c": "X-1", "Name": "X one"},
                {"attributes": {"type": "Account"}, "Name": "no key"},
            ]}),
        )
        .await;
    assert_eq!(status_codes(&upsert.body), ["OK", "MISSING_ARGUMENT"]);
    assert_eq!(upsert.body[0]["created"], true);
    let again = org
        .patch(
            "/composite/sobjects/Account/External_Id__c",
            json!({"records": [{"attributes": {"type": "Account"}, "External_Id__c": "x-1", "Name": "X renamed"}]}),
        )
        .await;
    assert_eq!(
        (&again.body[0]["created"], &again.body[0]["id"]),
        (&json!(false), &upsert.body[0]["id"])
    );
    let bad_field = org
        .patch("/composite/sobjects/Account/Name", json!({"records": []}))
        .await;
    assert_eq!(
        (bad_field.status, bad_field.error_code()),
        (404, "NOT_FOUND")
    );

    let missing = "001M000000qfPySIAU";
    let retrieve = org
        .get(&format!(
            "/composite/sobjects/Account?ids={b},{missing},{a}&fields=Name,Industry"
        ))
        .await;
    assert_eq!(retrieve.status, 200);
    let got = retrieve.body.as_array().unwrap();
    assert_eq!(
        (&got[0]["Industry"], &got[1], &got[2]["Name"]),
        (&json!("Retail"), &json!(null), &json!("A"))
    );
    assert_eq!(
        got[0]["attributes"]["url"],
        format!("/services/data/v{VERSION}/sobjects/Account/{b}")
    );
    let by_post = org
        .post(
            "/composite/sobjects/Account",
            json!({"ids": [a], "fields": ["Name"]}),
        )
        .await;
    assert_eq!(by_post.body[0]["Name"], "A");

    let delete = org
        .delete(&format!("/composite/sobjects?ids={a},{missing},{b}"))
        .await;
    assert_eq!(
        status_codes(&delete.body),
        ["OK", "INVALID_CROSS_REFERENCE_KEY", "OK"]
    );
    assert_eq!(delete.body[1]["id"], json!(missing));
    assert_eq!(org.count("Account"), 1);
}

#[tokio::test]
async fn a_collection_holds_all_its_parent_locks_and_only_blocked_records_fail() {
    let mut config = Config::default();
    config.limits.lock_wait_ms = 30;
    let org = Org::start_with(config).await;
    let busy = org.account("Busy").await;
    let free = org.account("Free").await;
    let held = org
        .emulator
        .org()
        .locks
        .acquire(vec![busy.clone()], Duration::ZERO)
        .await
        .unwrap();
    let records = json!([
        contact("A", &busy),
        contact("B", &free),
        contact("C", &busy)
    ]);
    let partial = org
        .post("/composite/sobjects", json!({"records": records.clone()}))
        .await;
    assert_eq!(
        status_codes(&partial.body),
        ["UNABLE_TO_LOCK_ROW", "OK", "UNABLE_TO_LOCK_ROW"]
    );
    assert!(partial.body[0]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains(&busy));
    let all_or_none = org
        .post(
            "/composite/sobjects",
            json!({"allOrNone": true, "records": records.clone()}),
        )
        .await;
    assert_eq!(
        status_codes(&all_or_none.body),
        [
            "UNABLE_TO_LOCK_ROW",
            "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "UNABLE_TO_LOCK_ROW"
        ]
    );
    assert_eq!(org.count("Contact"), 1);
    drop(held);
    let after = org
        .post(
            "/composite/sobjects",
            json!({"allOrNone": true, "records": records}),
        )
        .await;
    assert_eq!(status_codes(&after.body), ["OK", "OK", "OK"]);
    assert_eq!(org.count("Contact"), 4);
    assert_eq!(org.errors("UNABLE_TO_LOCK_ROW"), 4);
    assert_eq!(
        org.emulator.org().locks.held_count(),
        0,
        "every lock is released"
    );
}

fn sub(method: &str, url: &str, reference_id: &str, body: Option<Value>) -> Value {
    let mut sub = json!({"method": method, "url": format!("/services/data/v{VERSION}{url}"), "referenceId": reference_id});
    if let Some(body) = body {
        sub["body"] = body;
    }
    sub
}

#[tokio::test]
async fn composite_chains_references_and_reports_each_subrequest() {
    let org = Org::start().await;
    let request = json!({"allOrNone": false, "compositeRequest": [
        sub("POST", "/sobjects/Account", "newAccount", Some(json!({"Name": "Composite Co"}))),
        sub("POST", "/sobjects/Contact", "newContact", Some(json!({"LastName": "Ref", "AccountId": "@{newAccount.id}"}))),
        sub("GET", "/query?q=SELECT+Id,Name+FROM+Contact+WHERE+AccountId='@{newAccount.id}'", "contacts", None),
        sub("PATCH", "/sobjects/Contact/@{contacts.records[0].Id}", "rename", Some(json!({"FirstName": "Jo"}))),
        sub("GET", "/sobjects/Account/@{newAccount.id}?fields=Name", "readBack", None),
    ]});
    let answer = org.post("/composite", request).await;
    assert_eq!(answer.status, 200);
    let entries = answer.body["compositeResponse"].as_array().unwrap();
    let statuses: Vec<_> = entries
        .iter()
        .map(|e| e["httpStatusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 201, 200, 204, 200], "{:#}", answer.body);
    let account_id = entries[0]["body"]["id"].as_str().unwrap();
    assert_eq!(entries[0]["referenceId"], "newAccount");
    assert_eq!(
        entries[0]["httpHeaders"]["Location"],
        format!("/services/data/v{VERSION}/sobjects/Account/{account_id}")
    );
    assert_eq!(entries[2]["body"]["totalSize"], 1);
    assert_eq!(
        (&entries[3]["body"], &entries[3]["httpHeaders"]),
        (&json!(null), &json!({}))
    );
    assert_eq!(entries[4]["body"]["Name"], "Composite Co");
    let contact = org
        .get(&format!(
            "/sobjects/Contact/{}",
            entries[1]["body"]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (&contact.body["AccountId"], &contact.body["Name"]),
        (&json!(account_id), &json!("Jo Ref"))
    );
    assert_eq!(
        org.emulator.stats()["api_requests"],
        2,
        "the token call is free and a composite call counts once"
    );
}

#[tokio::test]
async fn composite_all_or_none_failure_rolls_back_and_halts_every_other_subrequest() {
    let org = Org::start().await;
    let request = json!({"allOrNone": true, "compositeRequest": [
        sub("POST", "/sobjects/Account", "first", Some(json!({"Name": "Rolled back"}))),
        sub("POST", "/sobjects/Contact", "bad", Some(json!({"FirstName": "no last name", "AccountId": "@{first.id}"}))),
        sub("POST", "/sobjects/Account", "never", Some(json!({"Name": "Never run"}))),
    ]});
    let answer = org.post("/composite", request).await;
    assert_eq!(answer.status, 200);
    let entries = answer.body["compositeResponse"].as_array().unwrap();
    let codes: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e["httpStatusCode"].as_u64().unwrap(),
                e["body"][0]["errorCode"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            (400, "PROCESSING_HALTED"),
            (400, "REQUIRED_FIELD_MISSING"),
            (400, "PROCESSING_HALTED")
        ]
    );
    assert_eq!(entries[2]["referenceId"], "never");
    assert_eq!((org.count("Account"), org.count("Contact")), (0, 0));
    assert_eq!(org.errors("PROCESSING_HALTED"), 2);
}

#[tokio::test]
async fn composite_without_all_or_none_keeps_successes_and_halts_only_dependents() {
    let org = Org::start().await;
    let request = json!({"compositeRequest": [
        sub("POST", "/sobjects/Account", "bad", Some(json!({"Phone": "no name"}))),
        sub("POST", "/sobjects/Contact", "dependent", Some(json!({"LastName": "x", "AccountId": "@{bad.id}"}))),
        sub("POST", "/sobjects/Account", "independent", Some(json!({"Name": "Kept"}))),
    ]});
    let answer = org.post("/composite", request).await;
    let entries = answer.body["compositeResponse"].as_array().unwrap();
    let codes: Vec<_> = entries
        .iter()
        .map(|e| e["body"][0]["errorCode"].as_str().unwrap_or("OK"))
        .collect();
    assert_eq!(codes, ["REQUIRED_FIELD_MISSING", "PROCESSING_HALTED", "OK"]);
    assert!(entries[1]["body"][0]["message"]
        .as_str()
        .unwrap()
        .contains("bad.id"));
    assert_eq!((org.count("Account"), org.count("Contact")), (1, 0));
}

#[tokio::test]
async fn composite_rejects_oversized_and_malformed_requests() {
    let org = Org::start().await;
    let subs: Vec<Value> = (0..26)
        .map(|i| sub("GET", "/sobjects/Account", &format!("r{i}"), None))
        .collect();
    let too_many = org
        .post("/composite", json!({"compositeRequest": subs}))
        .await;
    assert_eq!(too_many.status, 400);
    let queries: Vec<Value> = (0..6)
        .map(|i| {
            sub(
                "GET",
                "/query?q=SELECT+Id+FROM+Account",
                &format!("q{i}"),
                None,
            )
        })
        .collect();
    assert_eq!(
        org.post("/composite", json!({"compositeRequest": queries}))
            .await
            .status,
        400
    );
    let duplicate = json!({"compositeRequest": [sub("GET", "/sobjects", "same", None), sub("GET", "/sobjects", "same", None)]});
    assert_eq!(org.post("/composite", duplicate).await.status, 400);
    let missing = org.post("/composite", json!({"allOrNone": true})).await;
    assert_eq!(
        (missing.status, missing.error_code()),
        (400, "JSON_PARSER_ERROR")
    );
    let nested = org
        .post(
            "/composite",
            json!({"compositeRequest": [sub("POST", "/composite", "inner", Some(json!({})))]}),
        )
        .await;
    assert_eq!(nested.body["compositeResponse"][0]["httpStatusCode"], 400);
    let unknown = org
        .post(
            "/composite",
            json!({"compositeRequest": [sub("GET", "/sobjects/Nope", "n", None)]}),
        )
        .await;
    assert_eq!(unknown.body["compositeResponse"][0]["httpStatusCode"], 404);
}

#[tokio::test]
async fn composite_batch_runs_independent_items_and_halts_on_error_when_asked() {
    let org = Org::start().await;
    let id = org.account("Batch").await;
    let items = json!([
        {"method": "PATCH", "url": format!("v{VERSION}/sobjects/Account/{id}"), "richInput": {"Industry": "Energy"}},
        {"method": "GET", "url": format!("v{VERSION}/sobjects/Account/001M000000qfPySIAU")},
        {"method": "GET", "url": format!("v{VERSION}/sobjects/Account/{id}?fields=Industry")},
    ]);
    let keep_going = org
        .post("/composite/batch", json!({"batchRequests": items.clone()}))
        .await;
    assert_eq!(keep_going.status, 200);
    assert_eq!(keep_going.body["hasErrors"], true);
    let results = keep_going.body["results"].as_array().unwrap();
    let statuses: Vec<_> = results
        .iter()
        .map(|r| r["statusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [204, 404, 200]);
    assert_eq!(results[2]["result"]["Industry"], "Energy");
    let halting = org
        .post(
            "/composite/batch",
            json!({"haltOnError": true, "batchRequests": items}),
        )
        .await;
    let results = halting.body["results"].as_array().unwrap();
    assert_eq!(results[2]["statusCode"], 412);
    assert_eq!(
        results[2]["result"][0]["errorCode"],
        "BATCH_PROCESSING_HALTED"
    );
}

#[tokio::test]
async fn collections_of_mixed_types_may_form_at_most_ten_chunks() {
    let org = Org::start().await;
    let parent = org.account("Parent").await;
    let alternating = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| {
                if i % 2 == 0 {
                    account(&format!("A{i}"))
                } else {
                    contact(&format!("C{i}"), &parent)
                }
            })
            .collect()
    };
    let ten = org
        .post("/composite/sobjects", json!({"records": alternating(10)}))
        .await;
    assert!(
        status_codes(&ten.body).iter().all(|c| c == "OK"),
        "{:#}",
        ten.body
    );
    let eleven = org
        .post("/composite/sobjects", json!({"records": alternating(11)}))
        .await;
    assert_eq!(eleven.status, 200);
    assert!(
        status_codes(&eleven.body)
            .iter()
            .all(|c| c == "INVALID_BATCH_REQUEST"),
        "{:#}",
        eleven.body
    );
    assert_eq!((org.count("Account"), org.count("Contact")), (6, 5));
}

#[tokio::test]
async fn concurrent_collections_under_one_account_collide_and_every_record_is_accounted_for() {
    let mut config = Config::default();
    config.limits.lock_wait_ms = 10;
    // 100 records × 10 ms: each call holds the shared Account for about a second.
    config.bulk.row_micros = 10_000;
    let org = Org::start_with(config).await;
    let parent = org.seed("Account", json!({"Name": "Skewed parent"}));
    let call = |c: usize| {
        let records: Vec<Value> = (0..100)
            .map(|i| contact(&format!("C{c}-{i}"), &parent))
            .collect();
        org.post("/composite/sobjects", json!({"records": records}))
    };
    let answers = futures::future::join_all((0..4).map(call)).await;
    let codes: Vec<String> = answers.iter().flat_map(|a| status_codes(&a.body)).collect();
    let saved = codes.iter().filter(|c| *c == "OK").count();
    let locked = codes.iter().filter(|c| *c == "UNABLE_TO_LOCK_ROW").count();
    assert_eq!(
        saved + locked,
        400,
        "every record either saved or failed on the lock"
    );
    assert!(
        saved >= 100 && locked >= 100,
        "saved {saved}, locked {locked}"
    );
    assert_eq!(org.count("Contact"), saved);
    assert_eq!(org.errors("UNABLE_TO_LOCK_ROW"), locked as u64);
    assert_eq!(org.emulator.org().locks.held_count(), 0);
}

#[tokio::test]
async fn sobject_tree_creates_parents_then_children_all_or_nothing() {
    let org = Org::start().await;
    let tree = json!({"records": [
        {"attributes": {"type": "Account", "referenceId": "acme"}, "name": "Acme",
         "Contacts": {"records": [
            {"attributes": {"type": "Contact", "referenceId": "ada"}, "lastname": "Lovelace", "Email": "ada@acme.test"},
            {"attributes": {"type": "Contact", "referenceId": "bob"}, "LastName": "Builder"},
         ]},
         "Opportunities": {"records": [
            {"attributes": {"type": "Opportunity", "referenceId": "deal"}, "Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-01-01"},
         ]}},
        {"attributes": {"type": "Account", "referenceId": "solo"}, "Name": "Solo"},
    ]});
    let created = org.post("/composite/tree/Account", tree).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(created.body["hasErrors"], false);
    let results = created.body["results"].as_array().unwrap();
    let refs: Vec<_> = results
        .iter()
        .map(|r| r["referenceId"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["acme", "ada", "bob", "deal", "solo"]);
    let acme = results[0]["id"].as_str().unwrap();
    let ada = org
        .get(&format!(
            "/sobjects/Contact/{}",
            results[1]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(ada.body["AccountId"], json!(acme));
    assert_eq!(
        (
            org.count("Account"),
            org.count("Contact"),
            org.count("Opportunity")
        ),
        (2, 2, 1)
    );

    let failing = json!({"records": [
        {"attributes": {"type": "Account", "referenceId": "ok"}, "Name": "Fine",
         "Contacts": {"records": [{"attributes": {"type": "Contact", "referenceId": "bad"}, "LastName": "X", "Email": "nope"}]}},
    ]});
    let failed = org.post("/composite/tree/Account", failing).await;
    assert_eq!(failed.status, 400);
    assert_eq!(failed.body["hasErrors"], true);
    assert_eq!(
        failed.body["results"],
        json!([{"referenceId": "bad", "errors": [{
        "statusCode": "INVALID_EMAIL_ADDRESS", "message": "Email: invalid email address: nope", "fields": ["Email"]}]}])
    );
    assert_eq!(
        (org.count("Account"), org.count("Contact")),
        (2, 2),
        "the whole tree was rolled back"
    );

    let duplicate = json!({"records": [
        {"attributes": {"type": "Account", "referenceId": "same"}, "Name": "A"},
        {"attributes": {"type": "Account", "referenceId": "same"}, "Name": "B"},
    ]});
    let answer = org.post("/composite/tree/Account", duplicate).await;
    assert_eq!((answer.status, answer.error_code()), (400, "INVALID_INPUT"));
    let wrong_root = json!({"records": [{"attributes": {"type": "Contact", "referenceId": "c"}, "LastName": "x"}]});
    assert_eq!(
        org.post("/composite/tree/Account", wrong_root)
            .await
            .error_code(),
        "INVALID_INPUT"
    );
    let too_many: Vec<Value> =
        (0..201).map(|i| json!({"attributes": {"type": "Account", "referenceId": format!("r{i}")}, "Name": "x"})).collect();
    assert_eq!(
        org.post("/composite/tree/Account", json!({"records": too_many}))
            .await
            .error_code(),
        "INVALID_INPUT"
    );
    assert_eq!(org.count("Account"), 2);
}

#[tokio::test]
async fn composite_subrequests_carry_their_own_headers_and_share_query_cursors() {
    let org = Org::start().await;
    for i in 0..250 {
        org.seed("Account", json!({"Name": format!("A{i:03}")}));
    }
    let mut query = sub("GET", "/query?q=SELECT+Id+FROM+Account", "page", None);
    query["httpHeaders"] = json!({"Sforce-Query-Options": "batchSize=200"});
    let mut describe = sub("GET", "/sobjects/Account/describe", "describe", None);
    describe["httpHeaders"] = json!({"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"});
    let answer = org
        .post("/composite", json!({"compositeRequest": [query, describe]}))
        .await;
    let entries = answer.body["compositeResponse"].as_array().unwrap();
    assert_eq!(entries[0]["body"]["records"].as_array().unwrap().len(), 200);
    assert_eq!(
        (entries[1]["httpStatusCode"].as_u64(), &entries[1]["body"]),
        (Some(304), &json!(null))
    );
    assert!(entries[1]["httpHeaders"]["Last-Modified"].is_string());
    let next = entries[0]["body"]["nextRecordsUrl"].as_str().unwrap();
    let rest = org.get(next).await;
    assert_eq!(
        (
            rest.status,
            rest.body["records"].as_array().unwrap().len(),
            &rest.body["done"]
        ),
        (200, 50, &json!(true))
    );
}
