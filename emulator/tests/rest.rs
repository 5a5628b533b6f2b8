//! REST data API over real HTTP: sObject CRUD, upsert by external id, describe and query
//! paging, asserting Salesforce's status codes, bodies and headers (wire doc 2.4–2.6, 2.9).

mod rest_support;

use reqwest::Method;
use rest_support::{Org, VERSION};
use serde_json::json;

#[tokio::test]
async fn create_answers_201_with_lowercase_id_and_a_location_header() {
    let org = Org::start().await;
    let created = org
        .post(
            "/sobjects/Account",
            json!({"Name": "Acme", "NumberOfEmployees": 12}),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!((id.len(), &id[..3]), (18, "001"));
    assert_eq!(
        created.body,
        json!({"id": id, "success": true, "errors": []})
    );
    assert_eq!(
        created.header("location"),
        format!("/services/data/v{VERSION}/sobjects/Account/{id}")
    );
    assert!(created
        .header("content-type")
        .starts_with("application/json"));
    assert_eq!(org.count("Account"), 1);
}

#[tokio::test]
async fn read_returns_attributes_and_every_field_or_only_the_fields_asked() {
    let org = Org::start().await;
    let id = org.account("Acme").await;
    let full = org.get(&format!("/sobjects/Account/{id}")).await;
    assert_eq!(full.status, 200);
    assert_eq!(
        full.body["attributes"],
        json!({"type": "Account", "url": format!("/services/data/v{VERSION}/sobjects/Account/{id}")})
    );
    assert_eq!(full.body["Name"], "Acme");
    assert!(full.body["CreatedDate"]
        .as_str()
        .unwrap()
        .ends_with("+0000"));
    assert!(
        full.body.as_object().unwrap().contains_key("Phone"),
        "null fields are present"
    );
    let some = org
        .get(&format!(
            "/sobjects/Account/{}?fields=Name,Industry",
            &id[..15]
        ))
        .await;
    assert_eq!(some.status, 200, "15-character ids are accepted");
    let keys: Vec<_> = some.body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["attributes", "Name", "Industry", "Id"]);
    let bad = org
        .get(&format!("/sobjects/Account/{id}?fields=Nope__c"))
        .await;
    assert_eq!((bad.status, bad.error_code()), (400, "INVALID_FIELD"));
}

#[tokio::test]
async fn update_and_delete_answer_204_and_a_deleted_record_is_gone() {
    let org = Org::start().await;
    let id = org.account("Acme").await;
    let path = format!("/sobjects/Account/{id}");
    let updated = org
        .patch(&path, json!({"Name": "Acme 2", "Industry": "Energy"}))
        .await;
    assert_eq!((updated.status, &updated.body), (204, &json!(null)));
    assert_eq!(org.get(&path).await.body["Industry"], "Energy");
    let deleted = org.delete(&path).await;
    assert_eq!(deleted.status, 204);
    let read = org.get(&path).await;
    assert_eq!((read.status, read.error_code()), (404, "ENTITY_IS_DELETED"));
    let again = org.delete(&path).await;
    assert_eq!(
        (again.status, again.error_code()),
        (404, "ENTITY_IS_DELETED")
    );
    let patch_deleted = org.patch(&path, json!({"Name": "x"})).await;
    assert_eq!(patch_deleted.status, 404);
}

#[tokio::test]
async fn bad_paths_ids_and_bodies_get_salesforce_errors() {
    let org = Org::start().await;
    let unknown_type = org.post("/sobjects/Nope__c", json!({"Name": "x"})).await;
    assert_eq!(
        (unknown_type.status, unknown_type.error_code()),
        (404, "NOT_FOUND")
    );
    assert_eq!(
        unknown_type.body[0]["message"],
        "The requested resource does not exist"
    );
    let malformed = org.get("/sobjects/Account/001notanid").await;
    assert_eq!(
        (malformed.status, malformed.error_code()),
        (400, "MALFORMED_ID")
    );
    assert_eq!(malformed.body[0]["fields"], json!(["Id"]));
    let contact_id_as_account = org.get("/sobjects/Account/003M000000qfPySIAU").await;
    assert_eq!(contact_id_as_account.error_code(), "MALFORMED_ID");
    let missing = org.get("/sobjects/Account/001M000000qfPySIAU").await;
    assert_eq!((missing.status, missing.error_code()), (404, "NOT_FOUND"));
    let not_json = org
        .raw(Method::POST, "/sobjects/Account", "{\"Name\": ")
        .await;
    assert_eq!(
        (not_json.status, not_json.error_code()),
        (400, "JSON_PARSER_ERROR")
    );
    let array = org
        .raw(Method::POST, "/sobjects/Account", "[{\"Name\": \"x\"}]")
        .await;
    assert_eq!(
        (array.status, array.error_code()),
        (400, "JSON_PARSER_ERROR")
    );
    let unknown_field = org
        .post("/sobjects/Account", json!({"Name": "x", "Nope__c": 1}))
        .await;
    assert_eq!(
        (unknown_field.status, unknown_field.error_code()),
        (400, "INVALID_FIELD")
    );
    let required = org
        .post("/sobjects/Contact", json!({"FirstName": "Ada"}))
        .await;
    assert_eq!(
        (required.error_code(), &required.body[0]["fields"]),
        ("REQUIRED_FIELD_MISSING", &json!(["LastName"]))
    );
    let wrong_method = org
        .send(org.request(Method::PUT, "/sobjects/Account"))
        .await;
    assert_eq!(
        (wrong_method.status, wrong_method.error_code()),
        (405, "METHOD_NOT_ALLOWED")
    );
    assert_eq!(org.count("Account"), 0);
    assert!(
        org.errors("MALFORMED_ID") >= 2,
        "errors are counted by code: {}",
        org.emulator.stats()
    );
}

#[tokio::test]
async fn upsert_creates_201_then_updates_200_and_answers_204_before_v46() {
    let org = Org::start().await;
    let path = "/sobjects/Account/External_Id__c/EXT-1";
    let created = org.patch(path, json!({"Name": "One"})).await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        created.body,
        json!({"id": id, "success": true, "errors": [], "created": true})
    );
    assert!(created.header("location").ends_with(&id));
    let updated = org.patch(path, json!({"Name": "Two"})).await;
    assert_eq!(
        (updated.status, &updated.body),
        (
            200,
            &json!({"id": id, "success": true, "errors": [], "created": false})
        )
    );
    let old = org
        .send(
            org.request(
                Method::PATCH,
                "/services/data/v45.0/sobjects/Account/External_Id__c/EXT-1",
            )
            .json(&json!({"Name": "Three"})),
        )
        .await;
    assert_eq!((old.status, &old.body), (204, &json!(null)));
    let old_create = org
        .send(
            org.request(
                Method::PATCH,
                "/services/data/v45.0/sobjects/Account/External_Id__c/EXT-2",
            )
            .json(&json!({"Name": "Four"})),
        )
        .await;
    assert_eq!(old_create.status, 201);
    assert!(
        old_create.body.get("created").is_none(),
        "created exists only from v46.0"
    );
    let read = org.get(path).await;
    assert_eq!(
        (
            read.status,
            &read.body["Name"],
            &read.body["External_Id__c"]
        ),
        (200, &json!("Three"), &json!("EXT-1"))
    );
    assert_eq!(org.count("Account"), 2);
}

#[tokio::test]
async fn external_id_matching_several_records_answers_300_with_their_urls() {
    // A non-unique external id can match several records.
    let mut config = sfscale_emulator::Config::default();
    config.fields.push(sfscale_emulator::schema::CustomField {
        object: "Account".into(),
        name: "Legacy_Key__c".into(),
        unique: false,
        ..sfscale_emulator::schema::default_custom_fields().remove(0)
    });
    let org = Org::start_with(config).await;
    let a = org.seed("Account", json!({"Name": "A", "Legacy_Key__c": "dup"}));
    let b = org.seed("Account", json!({"Name": "B", "Legacy_Key__c": "dup"}));
    let urls = json!([
        format!("/services/data/v{VERSION}/sobjects/Account/{a}"),
        format!("/services/data/v{VERSION}/sobjects/Account/{b}"),
    ]);
    let upsert = org
        .patch("/sobjects/Account/Legacy_Key__c/dup", json!({"Name": "C"}))
        .await;
    assert_eq!((upsert.status, &upsert.body), (300, &urls));
    let read = org.get("/sobjects/Account/Legacy_Key__c/dup").await;
    assert_eq!((read.status, &read.body), (300, &urls));
    let delete = org.delete("/sobjects/Account/Legacy_Key__c/dup").await;
    assert_eq!(delete.status, 300);
    assert_eq!(org.count("Account"), 2);
}

#[tokio::test]
async fn upsert_edge_cases_update_only_bad_field_and_create_by_id() {
    let org = Org::start().await;
    let update_only = org
        .patch(
            "/sobjects/Account/External_Id__c/NEW?updateOnly=true",
            json!({"Name": "x"}),
        )
        .await;
    assert_eq!(
        (update_only.status, update_only.error_code()),
        (404, "NOT_FOUND")
    );
    let bad_field = org
        .patch("/sobjects/Account/Name__c/x", json!({"Name": "x"}))
        .await;
    assert_eq!(
        (bad_field.status, bad_field.error_code()),
        (404, "NOT_FOUND")
    );
    assert!(bad_field.body[0]["message"]
        .as_str()
        .unwrap()
        .contains("Name__c"));
    let not_external = org.get("/sobjects/Account/Industry/Energy").await;
    assert_eq!(not_external.status, 404);
    let by_id = org
        .post("/sobjects/Account/Id", json!({"Name": "Made by Id"}))
        .await;
    assert_eq!(by_id.status, 201);
    let id = by_id.body["id"].as_str().unwrap();
    let upsert_by_id = org
        .patch(
            &format!("/sobjects/Account/Id/{id}"),
            json!({"Name": "Renamed"}),
        )
        .await;
    assert_eq!(
        (upsert_by_id.status, &upsert_by_id.body["created"]),
        (200, &json!(false))
    );
    let delete = org.delete("/sobjects/Account/Id/001M000000qfPySIAU").await;
    assert_eq!(delete.status, 404);
    assert_eq!(org.count("Account"), 1);
}

#[tokio::test]
async fn a_contact_write_waits_for_its_account_lock_and_fails_after_the_lock_wait() {
    let mut config = sfscale_emulator::Config::default();
    config.limits.lock_wait_ms = 50;
    let org = Org::start_with(config).await;
    let account = org.account("Parent").await;
    let held = org
        .emulator
        .org()
        .locks
        .acquire(vec![account.clone()], std::time::Duration::ZERO)
        .await
        .unwrap();
    let blocked = org
        .post(
            "/sobjects/Contact",
            json!({"LastName": "Doe", "AccountId": account}),
        )
        .await;
    assert_eq!(
        (blocked.status, blocked.error_code()),
        (400, "UNABLE_TO_LOCK_ROW")
    );
    let message = blocked.body[0]["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!("unable to obtain exclusive access to this record or 1 records: {account}")
    );
    let update_parent = org
        .patch(
            &format!("/sobjects/Account/{account}"),
            json!({"Name": "x"}),
        )
        .await;
    assert_eq!(
        update_parent.error_code(),
        "UNABLE_TO_LOCK_ROW",
        "a write locks its own row too"
    );
    drop(held);
    let after = org
        .post(
            "/sobjects/Contact",
            json!({"LastName": "Doe", "AccountId": account}),
        )
        .await;
    assert_eq!(after.status, 201);
    assert_eq!(org.count("Contact"), 1);
    assert_eq!(org.errors("UNABLE_TO_LOCK_ROW"), 2);
}

#[tokio::test]
async fn two_concurrent_writes_to_children_of_one_account_collide() {
    let mut config = sfscale_emulator::Config::default();
    config.limits.lock_wait_ms = 20;
    // Each write holds its locks for 1.5 s of "processing", far longer than the wait.
    config.bulk.row_micros = 1_500_000;
    let org = Org::start_with(config).await;
    let account = org.seed("Account", json!({"Name": "Parent"}));
    let body = json!({"LastName": "Doe", "AccountId": account});
    let (a, b) = tokio::join!(org.post("/sobjects/Contact", body.clone()), org.post("/sobjects/Opportunity", json!({
        "Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-01-01", "AccountId": account
    })));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [201, 400], "{:?} / {:?}", a.body, b.body);
    let loser = if a.status == 400 { &a } else { &b };
    assert_eq!(loser.error_code(), "UNABLE_TO_LOCK_ROW");
    assert_eq!(org.errors("UNABLE_TO_LOCK_ROW"), 1);
    assert_eq!(org.count("Contact") + org.count("Opportunity"), 1);
}

#[tokio::test]
async fn global_describe_lists_every_object_with_its_flags_and_urls() {
    let org = Org::start().await;
    let global = org.get("/sobjects/").await;
    assert_eq!(global.status, 200);
    assert_eq!(
        (&global.body["encoding"], &global.body["maxBatchSize"]),
        (&json!("UTF-8"), &json!(200))
    );
    let sobjects = global.body["sobjects"].as_array().unwrap();
    let account = sobjects.iter().find(|o| o["name"] == "Account").unwrap();
    for key in [
        "label",
        "labelPlural",
        "keyPrefix",
        "custom",
        "createable",
        "updateable",
        "deletable",
        "queryable",
        "retrieveable",
        "searchable",
        "triggerable",
        "undeletable",
        "layoutable",
        "replicateable",
        "mergeable",
        "feedEnabled",
        "activateable",
        "customSetting",
        "deprecatedAndHidden",
        "mruEnabled",
    ] {
        assert!(account.get(key).is_some(), "{key}");
    }
    assert_eq!(account["keyPrefix"], "001");
    assert_eq!(
        account["urls"]["rowTemplate"],
        format!("/services/data/v{VERSION}/sobjects/Account/{{ID}}")
    );
    assert_eq!(
        org.get("/sobjects").await.body,
        global.body,
        "with or without the trailing slash"
    );
    let basic = org.get("/sobjects/Contact").await;
    assert_eq!(
        (
            basic.status,
            &basic.body["objectDescribe"]["name"],
            &basic.body["recentItems"]
        ),
        (200, &json!("Contact"), &json!([]))
    );
}

#[tokio::test]
async fn full_describe_has_fields_relationships_and_answers_304_when_unchanged() {
    let org = Org::start().await;
    let describe = org.get("/sobjects/Contact/describe").await;
    assert_eq!(describe.status, 200);
    let fields = describe.body["fields"].as_array().unwrap();
    let field = |name: &str| fields.iter().find(|f| f["name"] == name).unwrap().clone();
    let account_id = field("AccountId");
    assert_eq!(
        (
            &account_id["type"],
            &account_id["referenceTo"],
            &account_id["relationshipName"]
        ),
        (&json!("reference"), &json!(["Account"]), &json!("Account"))
    );
    assert_eq!(account_id["soapType"], "tns:ID");
    let ext = field("External_Id__c");
    assert_eq!(
        (
            &ext["externalId"],
            &ext["unique"],
            &ext["idLookup"],
            &ext["custom"]
        ),
        (&json!(true), &json!(true), &json!(true), &json!(true))
    );
    let last_name = field("LastName");
    assert_eq!(
        (
            &last_name["nillable"],
            &last_name["length"],
            &last_name["createable"]
        ),
        (&json!(false), &json!(80), &json!(true))
    );
    assert_eq!(field("Id")["createable"], false);
    assert_eq!(describe.body["keyPrefix"], "003");
    assert_eq!(describe.body["recordTypeInfos"][0]["master"], true);
    let account = org.get("/sobjects/Account/describe").await;
    let children = account.body["childRelationships"].as_array().unwrap();
    assert!(children.iter().any(|c| c["childSObject"] == "Contact"
        && c["field"] == "AccountId"
        && c["relationshipName"] == "Contacts"));
    let lead = org.get("/sobjects/Lead/describe").await;
    let status = lead.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Status")
        .unwrap()
        .clone();
    let open = status["picklistValues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["value"] == "Open - Not Contacted")
        .unwrap()
        .clone();
    assert_eq!(
        (&open["active"], &open["defaultValue"], &open["label"]),
        (&json!(true), &json!(true), &json!("Open - Not Contacted"))
    );

    let last_modified = describe.header("last-modified").to_string();
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");
    let cached = org
        .send(
            org.request(Method::GET, "/sobjects/Contact/describe")
                .header("If-Modified-Since", &last_modified),
        )
        .await;
    assert_eq!((cached.status, &cached.body), (304, &json!(null)));
    let stale = org
        .send(
            org.request(Method::GET, "/sobjects/Contact/describe")
                .header("If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT"),
        )
        .await;
    assert_eq!(stale.status, 200);
    let unknown = org.get("/sobjects/Nope/describe").await;
    assert_eq!((unknown.status, unknown.error_code()), (404, "NOT_FOUND"));
}

/// `GET /query?q=` with an optional `Sforce-Query-Options` header.
async fn query(
    org: &Org,
    resource: &str,
    soql: &str,
    options: Option<&str>,
) -> rest_support::Answer {
    let mut request = org.request(Method::GET, resource).query(&[("q", soql)]);
    if let Some(options) = options {
        request = request.header("Sforce-Query-Options", options);
    }
    org.send(request).await
}

fn seed_accounts(org: &Org, n: usize) {
    for i in 0..n {
        org.seed("Account", json!({"Name": format!("A{i:04}")}));
    }
}

#[tokio::test]
async fn query_pages_through_next_records_url_with_the_batch_size_asked() {
    let org = Org::start().await;
    seed_accounts(&org, 450);
    let first = query(
        &org,
        "/query",
        "SELECT Id, Name FROM Account",
        Some("batchSize=200"),
    )
    .await;
    assert_eq!(first.status, 200);
    assert_eq!(
        (&first.body["totalSize"], &first.body["done"]),
        (&json!(450), &json!(false))
    );
    let keys: Vec<_> = first.body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["totalSize", "done", "nextRecordsUrl", "records"]);
    let next = first.body["nextRecordsUrl"].as_str().unwrap().to_string();
    let prefix = format!("/services/data/v{VERSION}/query/");
    let (locator, offset) = next
        .strip_prefix(&prefix)
        .unwrap()
        .rsplit_once('-')
        .unwrap();
    assert_eq!((locator.len(), &locator[..3], offset), (18, "01g", "200"));
    let mut names: Vec<String> = Vec::new();
    let mut page = first;
    let mut sizes = Vec::new();
    loop {
        let records = page.body["records"].as_array().unwrap();
        sizes.push(records.len());
        names.extend(
            records
                .iter()
                .map(|r| r["Name"].as_str().unwrap().to_string()),
        );
        assert_eq!(records[0]["attributes"]["type"], "Account");
        match page.body["nextRecordsUrl"].as_str() {
            Some(next) => page = org.get(next).await,
            None => break,
        }
        assert_eq!(page.body["totalSize"], 450);
    }
    assert_eq!(sizes, [200, 200, 50]);
    assert_eq!(page.body["done"], true);
    names.dedup();
    assert_eq!(names.len(), 450);
    let closed = org.get(&next).await;
    assert_eq!(
        (closed.status, closed.error_code()),
        (400, "INVALID_QUERY_LOCATOR"),
        "a finished cursor is closed"
    );
}

#[tokio::test]
async fn query_pages_hold_2000_rows_by_default_and_clamp_small_batch_sizes() {
    let org = Org::start().await;
    seed_accounts(&org, 2100);
    let default = query(&org, "/query", "SELECT Id FROM Account", None).await;
    assert_eq!(default.body["records"].as_array().unwrap().len(), 2000);
    assert!(default.body["nextRecordsUrl"]
        .as_str()
        .unwrap()
        .ends_with("-2000"));
    let tiny = query(
        &org,
        "/query",
        "SELECT Id FROM Account",
        Some("batchSize=5"),
    )
    .await;
    assert_eq!(tiny.body["records"].as_array().unwrap().len(), 200);
    let huge = query(
        &org,
        "/query",
        "SELECT Id FROM Account",
        Some("batchSize=100000"),
    )
    .await;
    assert_eq!(huge.body["records"].as_array().unwrap().len(), 2000);
    let all = query(&org, "/query", "SELECT Id FROM Account LIMIT 10", None).await;
    assert_eq!(
        (&all.body["totalSize"], &all.body["done"]),
        (&json!(10), &json!(true))
    );
    assert!(all.body.get("nextRecordsUrl").is_none());
}

#[tokio::test]
async fn count_query_answers_total_size_without_records() {
    let org = Org::start().await;
    seed_accounts(&org, 7);
    let count = query(&org, "/query", "SELECT COUNT() FROM Account", None).await;
    assert_eq!(
        (count.status, &count.body),
        (200, &json!({"totalSize": 7, "done": true, "records": []}))
    );
}

#[tokio::test]
async fn query_all_also_returns_deleted_records() {
    let org = Org::start().await;
    let kept = org.account("Kept").await;
    let gone = org.account("Gone").await;
    assert_eq!(
        org.delete(&format!("/sobjects/Account/{gone}"))
            .await
            .status,
        204
    );
    let live = query(&org, "/query", "SELECT Id FROM Account", None).await;
    assert_eq!(
        live.body["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Id"].clone())
            .collect::<Vec<_>>(),
        [json!(kept)]
    );
    let all = query(&org, "/queryAll", "SELECT Id, IsDeleted FROM Account", None).await;
    assert_eq!(all.body["totalSize"], 2);
    assert!(all.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["Id"] == json!(gone) && r["IsDeleted"] == true));
}

#[tokio::test]
async fn bad_queries_and_locators_get_salesforce_errors() {
    let org = Org::start().await;
    let missing = org.get("/query").await;
    assert_eq!(
        (missing.status, missing.error_code()),
        (400, "MALFORMED_QUERY")
    );
    let malformed = query(&org, "/query", "SELECT FROM Account", None).await;
    assert_eq!(
        (malformed.status, malformed.error_code()),
        (400, "MALFORMED_QUERY")
    );
    let column = query(&org, "/query", "SELECT Nope__c FROM Account", None).await;
    assert_eq!((column.status, column.error_code()), (400, "INVALID_FIELD"));
    let object = query(&org, "/query", "SELECT Id FROM Nope__c", None).await;
    assert_eq!((object.status, object.error_code()), (400, "INVALID_TYPE"));
    for locator in ["01g5g0000000001AAA-200", "garbage", "01g5g0000000001AAA-x"] {
        let answer = org.get(&format!("/query/{locator}")).await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (400, "INVALID_QUERY_LOCATOR"),
            "{locator}"
        );
    }
}

fn invoice_config() -> sfscale_emulator::Config {
    use sfscale_emulator::schema::{default_custom_fields, CustomField, CustomObject, FieldType};
    let mut config = sfscale_emulator::Config::default();
    config.objects.push(CustomObject {
        name: "Invoice__c".into(),
        key_prefix: "a01".into(),
        fields: vec![
            CustomField {
                name: "Account__c".into(),
                field_type: FieldType::Reference,
                reference_to: Some("Account".into()),
                master_detail: true,
                unique: false,
                external_id: false,
                ..default_custom_fields().remove(0)
            },
            CustomField {
                name: "Total__c".into(),
                field_type: FieldType::Currency,
                unique: false,
                external_id: false,
                ..default_custom_fields().remove(0)
            },
        ],
    });
    config
}

#[tokio::test]
async fn custom_objects_from_the_config_are_described_written_and_lock_their_master() {
    let mut config = invoice_config();
    config.limits.lock_wait_ms = 30;
    let org = Org::start_with(config).await;
    let global = org.get("/sobjects").await;
    let invoice = global.body["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Invoice__c")
        .unwrap()
        .clone();
    assert_eq!(
        (&invoice["custom"], &invoice["keyPrefix"]),
        (&json!(true), &json!("a01"))
    );
    let account = org.get("/sobjects/Account/describe").await;
    let child = account.body["childRelationships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["childSObject"] == "Invoice__c")
        .unwrap()
        .clone();
    assert_eq!(
        (&child["relationshipName"], &child["cascadeDelete"]),
        (&json!("Invoices__r"), &json!(true))
    );

    let parent = org.account("Master").await;
    let created = org
        .post(
            "/sobjects/Invoice__c",
            json!({"Name": "INV-1", "Account__c": parent, "Total__c": 12.5}),
        )
        .await;
    assert_eq!(created.status, 201);
    assert!(created.body["id"].as_str().unwrap().starts_with("a01"));
    let held = org
        .emulator
        .org()
        .locks
        .acquire(vec![parent.clone()], std::time::Duration::ZERO)
        .await
        .unwrap();
    let id = created.body["id"].as_str().unwrap();
    let blocked = org
        .patch(
            &format!("/sobjects/Invoice__c/{id}"),
            json!({"Total__c": 13}),
        )
        .await;
    assert_eq!(
        blocked.error_code(),
        "UNABLE_TO_LOCK_ROW",
        "a master-detail child write locks the master"
    );
    drop(held);
    let read = org
        .get(&format!("/sobjects/Invoice__c/{id}?fields=Total__c"))
        .await;
    assert_eq!(
        read.body["Total__c"], 12.5,
        "the blocked update changed nothing"
    );
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_an_error_list() {
    let org = Org::start().await;
    let huge = vec![b' '; sfscale_emulator::rest::MAX_BODY_BYTES + 1];
    let answer = org
        .send(
            org.request(Method::POST, "/sobjects/Account")
                .header("content-type", "application/json")
                .body(huge),
        )
        .await;
    assert_eq!(
        (answer.status, answer.error_code()),
        (413, "REQUEST_ENTITY_TOO_LARGE")
    );
    assert_eq!(org.count("Account"), 0);
}

#[tokio::test]
async fn updated_and_deleted_list_the_changes_in_a_window() {
    let org = Org::start().await;
    let kept = org.account("Kept").await;
    let gone = org.account("Gone").await;
    assert_eq!(
        org.delete(&format!("/sobjects/Account/{gone}"))
            .await
            .status,
        204
    );
    let now = chrono::Utc::now();
    let iso = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
    let window = |resource: &str, start, end| {
        org.send(
            org.request(Method::GET, &format!("/sobjects/Account/{resource}"))
                .query(&[("start", iso(start)), ("end", iso(end))]),
        )
    };
    let hour = chrono::TimeDelta::hours(1);
    let updated = window("updated", now - hour, now + hour).await;
    assert_eq!(
        (updated.status, &updated.body["ids"]),
        (200, &json!([kept]))
    );
    let covered = updated.body["latestDateCovered"].as_str().unwrap();
    assert!(
        covered.ends_with(":00.000+0000"),
        "rounded down to the minute: {covered}"
    );
    let deleted = window("deleted", now - hour, now + hour).await;
    assert_eq!(deleted.body["deletedRecords"][0]["id"], json!(gone));
    assert!(deleted.body["deletedRecords"][0]["deletedDate"]
        .as_str()
        .unwrap()
        .ends_with("+0000"));
    assert!(deleted.body["earliestDateAvailable"].is_string());
    let later = window("updated", now + hour, now + hour * 2).await;
    assert_eq!(later.body["ids"], json!([]));
    let backwards = window("deleted", now, now - hour).await;
    assert_eq!(
        (backwards.status, backwards.error_code()),
        (400, "INVALID_REPLICATION_DATE")
    );
    let missing = org.get("/sobjects/Account/updated").await;
    assert_eq!(
        (missing.status, missing.error_code()),
        (400, "MISSING_ARGUMENT")
    );
}

#[tokio::test]
async fn query_all_pages_through_either_the_query_or_the_query_all_locator_path() {
    let org = Org::start().await;
    seed_accounts(&org, 250);
    let first = org.get("/query?q=SELECT+Id+FROM+Account+LIMIT+1").await;
    let id = first.body["records"][0]["Id"].as_str().unwrap().to_string();
    assert_eq!(
        org.delete(&format!("/sobjects/Account/{id}")).await.status,
        204
    );
    let page = query(
        &org,
        "/queryAll",
        "SELECT Id FROM Account",
        Some("batchSize=200"),
    )
    .await;
    assert_eq!(
        page.body["totalSize"], 250,
        "the deleted record is included"
    );
    let next = page.body["nextRecordsUrl"].as_str().unwrap();
    assert!(
        next.contains("/query/"),
        "queryAll's nextRecordsUrl names query: {next}"
    );
    let via_query_all = org.get(&next.replace("/query/", "/queryAll/")).await;
    assert_eq!(
        (
            via_query_all.status,
            via_query_all.body["records"].as_array().unwrap().len()
        ),
        (200, 50)
    );
}
