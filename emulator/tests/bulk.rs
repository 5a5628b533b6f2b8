//! Bulk API 2.0 over real HTTP: ingest and query jobs through their state machines, result
//! files, limits and lock contention, against an emulator started in-process on port 0.
//!
//! Jobs are awaited with `BulkJobs::wait_ended` (woken on each state change), never by
//! sleeping; the only timing knobs are scaled-down processing and lock-wait durations, and
//! assertions are on states and counts.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sfscale_emulator::config::{BulkConfig, FaultConfig, FaultRule};
use sfscale_emulator::{ids, Config, Emulator};
use std::time::Instant;

const VERSION: &str = "62.0";

struct Org {
    emulator: Emulator,
    http: reqwest::Client,
    token: String,
}

async fn start(config: Config) -> Org {
    let emulator = Emulator::start(config).await.expect("emulator starts");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let form = [
        ("grant_type", "password"),
        ("client_id", "sfscale-emulator-client"),
        ("client_secret", "sfscale-emulator-secret"),
        ("username", "integration@sfscale.test"),
        ("password", "sfscale-password"),
    ];
    let grant: Value = http
        .post(format!("{}/services/oauth2/token", emulator.url()))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = grant["access_token"]
        .as_str()
        .expect("password grant")
        .to_string();
    Org {
        emulator,
        http,
        token,
    }
}

fn bulk_config(bulk: BulkConfig) -> Config {
    Config {
        bulk,
        ..Config::default()
    }
}

impl Org {
    fn url(&self, path: &str) -> String {
        format!(
            "{}/services/data/v{VERSION}/jobs/{path}",
            self.emulator.url()
        )
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Response {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let response = self.send(method, path, body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn create(&self, body: Value) -> String {
        let (status, job) = self.json(reqwest::Method::POST, "ingest", Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{job}");
        job["id"].as_str().unwrap().to_string()
    }

    async fn upload(&self, id: &str, csv: &str) -> (StatusCode, String) {
        let response = self
            .http
            .put(self.url(&format!("ingest/{id}/batches")))
            .bearer_auth(&self.token)
            .header("Content-Type", "text/csv")
            .body(csv.to_string())
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    async fn set_state(&self, kind: &str, id: &str, state: &str) -> (StatusCode, Value) {
        self.json(
            reqwest::Method::PATCH,
            &format!("{kind}/{id}"),
            Some(json!({ "state": state })),
        )
        .await
    }

    /// Creates, uploads, closes and awaits an ingest job; returns its final JobInfo.
    async fn run(&self, job: Value, csv: &str) -> (String, Value) {
        let id = self.create(job).await;
        assert_eq!(self.upload(&id, csv).await.0, StatusCode::CREATED);
        assert_eq!(
            self.set_state("ingest", &id, "UploadComplete").await.0,
            StatusCode::OK
        );
        (id.clone(), self.finished("ingest", &id).await)
    }

    async fn finished(&self, kind: &str, id: &str) -> Value {
        self.emulator
            .org()
            .bulk
            .wait_ended(id)
            .await
            .expect("job exists");
        self.json(reqwest::Method::GET, &format!("{kind}/{id}"), None)
            .await
            .1
    }

    async fn results(&self, id: &str, file: &str) -> String {
        let response = self
            .send(reqwest::Method::GET, &format!("ingest/{id}/{file}/"), None)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/csv");
        response.text().await.unwrap()
    }

    async fn stats(&self) -> Value {
        let response = self
            .http
            .get(format!("{}/__emulator/stats", self.emulator.url()))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }
}

fn account_id(n: u64) -> String {
    ids::mint("001", "5g", n)
}

fn error_code(body: &Value) -> &str {
    body[0]["errorCode"].as_str().unwrap_or_default()
}

/// Transitions: Open → UploadComplete → InProgress → JobComplete.
#[tokio::test]
async fn insert_job_reports_successes_and_exact_errors_for_bad_rows() {
    let org = start(Config::default()).await;
    let csv = "Name,NumberOfEmployees,External_Id__c\nAcme,10,A-1\n,5,A-2\nGlobex,lots,A-3\n\"Quote, \"\"Inc\"\"\",,A-4\n";
    let (id, info) = org
        .run(json!({"object": "Account", "operation": "insert"}), csv)
        .await;
    assert_eq!(info["state"], "JobComplete");
    assert_eq!(
        (
            info["numberRecordsProcessed"].as_u64(),
            info["numberRecordsFailed"].as_u64()
        ),
        (Some(4), Some(2))
    );
    assert_eq!(info["jobType"], "V2Ingest");
    let expected_ok = format!(
        "\"sf__Id\",\"sf__Created\",Name,NumberOfEmployees,External_Id__c\n\"{}\",\"true\",\"Acme\",\"10\",\"A-1\"\n\"{}\",\"true\",\"Quote, \"\"Inc\"\"\",\"\",\"A-4\"\n",
        account_id(1),
        account_id(2)
    );
    assert_eq!(org.results(&id, "successfulResults").await, expected_ok);
    let expected_failed = "\"sf__Id\",\"sf__Error\",Name,NumberOfEmployees,External_Id__c\n\
        \"\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --\",\"\",\"5\",\"A-2\"\n\
        \"\",\"INVALID_TYPE_ON_FIELD_IN_RECORD:NumberOfEmployees: value not of required type: lots:NumberOfEmployees --\",\"Globex\",\"lots\",\"A-3\"\n";
    assert_eq!(org.results(&id, "failedResults").await, expected_failed);
    assert_eq!(
        org.results(&id, "unprocessedrecords").await,
        "Name,NumberOfEmployees,External_Id__c\n"
    );

    let contacts = "LastName,Account.External_Id__c\nDoe,A-1\nRoe,A-404\n";
    let (id, info) = org
        .run(
            json!({"object": "Contact", "operation": "insert"}),
            contacts,
        )
        .await;
    assert_eq!(info["numberRecordsFailed"], 1);
    let failed = org.results(&id, "failedResults").await;
    assert!(failed.ends_with("\"INVALID_FIELD:Foreign key external ID: A-404 not found for field External_Id__c in entity Account:AccountId --\",\"Roe\",\"A-404\"\n"), "{failed}");
    let stats = org.stats().await;
    assert_eq!(stats["errors_by_code"]["REQUIRED_FIELD_MISSING"], 1);
    assert_eq!(stats["errors_by_code"]["INVALID_FIELD"], 1);
    assert_eq!(stats["records"]["Account"], 2);
    assert_eq!(stats["records"]["Contact"], 1);
    assert_eq!(stats["bulk_jobs"]["JobComplete"], 2);
}

#[tokio::test]
async fn upsert_update_delete_and_hard_delete_run_end_to_end() {
    let org = start(Config::default()).await;
    let upsert = json!({"object": "Account", "operation": "upsert", "externalIdFieldName": "External_Id__c"});
    let (_, info) = org
        .run(upsert.clone(), "Name,External_Id__c\nOne,E-1\nTwo,E-2\n")
        .await;
    assert_eq!(info["externalIdFieldName"], "External_Id__c");
    let (id, info) = org
        .run(
            upsert,
            "External_Id__c,Name\ne-1,One again\nE-3,Three\nE-9,Nine\nE-9,Nine twice\n",
        )
        .await;
    assert_eq!(
        (
            info["numberRecordsProcessed"].as_u64(),
            info["numberRecordsFailed"].as_u64()
        ),
        (Some(4), Some(2))
    );
    let ok = org.results(&id, "successfulResults").await;
    assert_eq!(ok, format!("\"sf__Id\",\"sf__Created\",External_Id__c,Name\n\"{}\",\"false\",\"e-1\",\"One again\"\n\"{}\",\"true\",\"E-3\",\"Three\"\n", account_id(1), account_id(3)));
    let failed = org.results(&id, "failedResults").await;
    assert_eq!(
        failed
            .matches("DUPLICATE_EXTERNAL_ID:Duplicate external id specified: E-9:External_Id__c --")
            .count(),
        2,
        "{failed}"
    );

    let update = format!(
        "Id,Name\n{},Renamed\n{},Gone\n001000000000000XYZ,Bad\n,No id\n",
        account_id(2),
        account_id(99)
    );
    let (id, info) = org
        .run(json!({"object": "Account", "operation": "update"}), &update)
        .await;
    assert_eq!(info["numberRecordsFailed"], 3);
    let failed = org.results(&id, "failedResults").await;
    assert!(
        failed.ends_with(
            "\"\",\"MISSING_ARGUMENT:Id not specified in an update call:--\",\"\",\"No id\"\n"
        ),
        "{failed}"
    );
    assert!(
        failed.contains(&format!(
            "\"{}\",\"NOT_FOUND:The requested resource does not exist:--\",\"{}\",\"Gone\"",
            account_id(99),
            account_id(99)
        )),
        "{failed}"
    );
    assert!(failed.contains("MALFORMED_ID"), "{failed}");
    let account = org
        .emulator
        .org()
        .store
        .schema()
        .object("Account")
        .unwrap()
        .clone();
    let renamed = org
        .emulator
        .org()
        .store
        .get(&account, &account_id(2), false)
        .unwrap();
    assert_eq!(renamed.get(&account, "Name").unwrap(), "Renamed");

    let (id, info) = org
        .run(
            json!({"object": "Account", "operation": "delete"}),
            &format!("Id\n{}\n", account_id(1)),
        )
        .await;
    assert_eq!(
        (info["state"].as_str(), info["numberRecordsFailed"].as_u64()),
        (Some("JobComplete"), Some(0))
    );
    assert_eq!(
        org.results(&id, "successfulResults").await,
        format!(
            "\"sf__Id\",\"sf__Created\",Id\n\"{0}\",\"false\",\"{0}\"\n",
            account_id(1)
        )
    );
    assert!(
        org.emulator
            .org()
            .store
            .get(&account, &account_id(1), true)
            .unwrap()
            .is_deleted(),
        "soft delete keeps it in the recycle bin"
    );
    let (_, info) = org
        .run(
            json!({"object": "Account", "operation": "hardDelete"}),
            &format!("Id\n{}\n", account_id(3)),
        )
        .await;
    assert_eq!(info["numberRecordsFailed"], 0);
    assert!(
        org.emulator
            .org()
            .store
            .get(&account, &account_id(3), true)
            .is_none(),
        "hard delete skips the recycle bin"
    );
}

/// Transitions: InProgress → Failed (bad header), before any row is processed.
#[tokio::test]
async fn unknown_header_columns_and_wrong_line_endings_fail_the_job() {
    let org = start(Config::default()).await;
    let (id, info) = org
        .run(
            json!({"object": "Account", "operation": "insert"}),
            "Name,Foo\nA,1\nB,2\n",
        )
        .await;
    assert_eq!(info["state"], "Failed");
    assert_eq!(
        info["errorMessage"],
        "InvalidBatch : Field name not found : Foo"
    );
    assert_eq!(info["numberRecordsProcessed"], 0);
    assert_eq!(
        org.results(&id, "unprocessedrecords").await,
        "Name,Foo\n\"A\",\"1\"\n\"B\",\"2\"\n"
    );
    assert_eq!(
        org.results(&id, "unprocessedRecords").await,
        org.results(&id, "unprocessedrecords").await,
        "simple-salesforce's spelling"
    );

    let (_, info) = org
        .run(
            json!({"object": "Account", "operation": "insert", "lineEnding": "CRLF"}),
            "Name\nA\n",
        )
        .await;
    assert_eq!(
        info["errorMessage"],
        "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is CRLF"
    );
    let (_, info) = org
        .run(
            json!({"object": "Account", "operation": "update"}),
            "Name\nA\n",
        )
        .await;
    assert_eq!(
        info["errorMessage"],
        "InvalidBatch : Field name not found : Id"
    );
    let (id, info) = org.run(json!({"object": "Account", "operation": "insert", "columnDelimiter": "PIPE", "lineEnding": "CRLF"}), "Name|Description\r\nA|x,y\r\nB\r\n").await;
    assert_eq!(
        (info["state"].as_str(), info["numberRecordsFailed"].as_u64()),
        (Some("JobComplete"), Some(1))
    );
    assert_eq!(org.results(&id, "failedResults").await, "\"sf__Id\"|\"sf__Error\"|Name|Description\r\n\"\"|\"INVALID_ROW:The row has 1 columns but the header has 2:--\"|\"B\"\r\n");
}

#[tokio::test]
async fn job_creation_is_validated_like_salesforce() {
    let org = start(Config::default()).await;
    let cases = [
        (json!({"object": "Nope", "operation": "insert"}), "InvalidJob : Unable to find object: Nope"),
        (json!({"object": "Account", "operation": "merge"}), "InvalidJob : Invalid operation: merge"),
        (json!({"object": "Account", "operation": "upsert"}), "InvalidJob : External ID was blank for Account. An External ID must be specified for upsert."),
        (json!({"object": "Account", "operation": "upsert", "externalIdFieldName": "Name"}), "InvalidJob : Field name provided, Name does not match an External ID, Salesforce Id, or indexed field for Account"),
        (json!({"object": "Account", "operation": "insert", "columnDelimiter": "COLON"}), "InvalidJob : Invalid columnDelimiter"),
        (json!({"object": "Account", "operation": "insert", "lineEnding": "CR"}), "InvalidJob : Invalid lineEnding"),
    ];
    for (body, message) in cases {
        let (status, error) = org.json(reqwest::Method::POST, "ingest", Some(body)).await;
        assert_eq!(
            (status, error_code(&error), error[0]["message"].as_str()),
            (StatusCode::BAD_REQUEST, "INVALIDJOB", Some(message))
        );
    }
    let response = org
        .http
        .post(org.url("ingest"))
        .bearer_auth(&org.token)
        .body("{nope")
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, job) = org
        .json(
            reqwest::Method::POST,
            "ingest",
            Some(json!({"object": "account", "operation": "insert", "columnDelimiter": "TAB"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            job["object"].as_str(),
            job["state"].as_str(),
            job["columnDelimiter"].as_str()
        ),
        (Some("Account"), Some("Open"), Some("TAB"))
    );
    assert_eq!(job["apiVersion"], json!(62.0));
    assert_eq!(
        job["contentUrl"],
        format!(
            "services/data/v62.0/jobs/ingest/{}/batches",
            job["id"].as_str().unwrap()
        )
    );
    assert_eq!(job["createdById"], org.emulator.org().user_id);
}

/// Transitions: Open → Aborted; refused: Open → JobComplete, Aborted → UploadComplete.
#[tokio::test]
async fn illegal_transitions_and_late_uploads_are_refused() {
    let org = start(Config::default()).await;
    let id = org
        .create(json!({"object": "Account", "operation": "insert"}))
        .await;
    let (status, body) = org
        .json(
            reqwest::Method::GET,
            &format!("ingest/{id}/successfulResults/"),
            None,
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "INVALIDJOBSTATE"),
        "results before the job ends"
    );
    let (status, body) = org.set_state("ingest", &id, "JobComplete").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "INVALIDJOBSTATE"),
        "Open -> JobComplete is not the client's"
    );
    let (status, body) = org
        .json(reqwest::Method::DELETE, &format!("ingest/{id}"), None)
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "INVALIDJOBSTATE"),
        "an Open job cannot be deleted"
    );
    assert_eq!(
        org.set_state("ingest", &id, "Aborted").await.1["state"],
        "Aborted"
    );
    let (status, body) = org.set_state("ingest", &id, "UploadComplete").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "INVALIDJOBSTATE"),
        "Aborted is final"
    );
    let (status, body) = org.upload(&id, "Name\nA\n").await;
    assert_eq!(
        (status, error_code(&serde_json::from_str(&body).unwrap())),
        (StatusCode::CONFLICT, "INVALIDJOBSTATE"),
        "uploads need an Open job"
    );
    assert_eq!(
        org.results(&id, "unprocessedrecords").await,
        "",
        "an aborted job with no data has empty results"
    );
    let (status, body) = org
        .json(reqwest::Method::GET, "ingest/750000000000000AAA", None)
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
    let (status, _) = org
        .json(reqwest::Method::DELETE, &format!("ingest/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = org
        .json(reqwest::Method::GET, &format!("ingest/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a deleted job is gone");
}

#[tokio::test]
async fn uploads_accumulate_until_the_size_limit() {
    let org = start(Config::default()).await;
    org.emulator.org().limits.write().max_upload_bytes = 40;
    let id = org
        .create(json!({"object": "Account", "operation": "insert"}))
        .await;
    assert_eq!(
        org.upload(&id, "Name\nFirst\n").await.0,
        StatusCode::CREATED
    );
    let (status, body) = org
        .upload(&id, &format!("Name\n{}\n", "x".repeat(40)))
        .await;
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status, error_code(&error)),
        (StatusCode::BAD_REQUEST, "API_ERROR")
    );
    assert!(error[0]["message"]
        .as_str()
        .unwrap()
        .contains("exceeds the maximum of 40 bytes"));
    assert_eq!(
        org.upload(&id, "Name\nSecond\n").await.0,
        StatusCode::CREATED,
        "a refused upload does not use up the allowance"
    );
    org.set_state("ingest", &id, "UploadComplete").await;
    let info = org.finished("ingest", &id).await;
    assert_eq!(
        (
            info["numberRecordsProcessed"].as_u64(),
            info["numberRecordsFailed"].as_u64()
        ),
        (Some(2), Some(0))
    );
    assert_eq!(org.stats().await["bulk_uploads"], 2);
}

#[tokio::test]
async fn jobs_are_listed_and_deleted() {
    let org = start(Config::default()).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            org.create(json!({"object": "Contact", "operation": "insert"}))
                .await,
        );
    }
    org.set_state("ingest", &ids[1], "Aborted").await;
    let (status, list) = org.json(reqwest::Method::GET, "ingest", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["done"], true);
    assert_eq!(list["nextRecordsUrl"], Value::Null);
    let listed: Vec<&str> = list["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(list["records"][1]["state"], "Aborted");
    assert_eq!(
        org.stats().await["bulk_jobs"],
        json!({"Open": 2, "Aborted": 1})
    );
    assert_eq!(
        org.json(reqwest::Method::DELETE, &format!("ingest/{}", ids[1]), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        org.json(reqwest::Method::GET, "ingest", None).await.1["records"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        org.json(reqwest::Method::GET, "ingest?jobType=Classic", None)
            .await
            .1["records"],
        json!([])
    );
}

/// Transitions: (created) UploadComplete → InProgress → JobComplete.
#[tokio::test]
async fn multipart_create_runs_the_job_without_a_separate_upload() {
    let org = start(Config::default()).await;
    let body = "--BOUNDARY\r\nContent-Disposition: form-data; name=\"job\"\r\nContent-Type: application/json\r\n\r\n\
        {\"object\":\"Account\",\"operation\":\"insert\"}\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"content\"; filename=\"content\"\r\n\
        Content-Type: text/csv\r\n\r\nName\nMulti\n\r\n--BOUNDARY--\r\n";
    let response = org
        .http
        .post(org.url("ingest"))
        .bearer_auth(&org.token)
        .header("Content-Type", "multipart/form-data; boundary=BOUNDARY")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let job: Value = response.json().await.unwrap();
    assert_eq!(job["state"], "UploadComplete");
    let info = org.finished("ingest", job["id"].as_str().unwrap()).await;
    assert_eq!(
        (
            info["state"].as_str(),
            info["numberRecordsProcessed"].as_u64()
        ),
        (Some("JobComplete"), Some(1))
    );
}

#[tokio::test]
async fn parallel_batches_touching_one_parent_contend_for_its_lock() {
    let bulk = BulkConfig {
        batch_size: 100,
        chunk_size: 50,
        parallel_batches: 4,
        row_micros: 5_000,
        batch_retries: 1,
        ..BulkConfig::default()
    };
    let org = start(bulk_config(bulk)).await;
    org.emulator.org().limits.write().lock_wait_ms = 5;
    org.run(
        json!({"object": "Account", "operation": "insert"}),
        "Name,External_Id__c\nParent,P-1\n",
    )
    .await;
    let mut csv = String::from("LastName,AccountId\n");
    for n in 0..400 {
        csv.push_str(&format!("Child {n},{}\n", account_id(1)));
    }
    let (id, info) = org
        .run(json!({"object": "Contact", "operation": "insert"}), &csv)
        .await;
    assert_eq!(info["state"], "JobComplete");
    assert!(info["retries"].as_u64().unwrap() > 0, "{info}");
    let failed = info["numberRecordsFailed"].as_u64().unwrap();
    assert!(failed > 0, "{info}");
    assert_eq!(info["numberRecordsProcessed"], 400);
    let failed_csv = org.results(&id, "failedResults").await;
    let lock_rows = failed_csv.matches(&format!("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records: {}:--", account_id(1))).count();
    assert_eq!(lock_rows as u64, failed);
    let stats = org.stats().await;
    assert_eq!(
        stats["errors_by_code"]["UNABLE_TO_LOCK_ROW"].as_u64(),
        Some(failed)
    );
    assert_eq!(stats["records"]["Contact"].as_u64(), Some(400 - failed));
    assert_eq!(
        stats["bulk_batches"], 5,
        "1 Account batch + 4 Contact batches; retries are not counted again"
    );
}

/// Transitions: InProgress → Failed after some batches committed.
#[tokio::test]
async fn the_daily_batch_allocation_fails_the_job_and_leaves_rows_unprocessed() {
    let org = start(bulk_config(BulkConfig {
        batch_size: 10,
        parallel_batches: 1,
        ..BulkConfig::default()
    }))
    .await;
    org.emulator.org().limits.write().daily_bulk_batches = 2;
    let mut csv = String::from("Name\n");
    for n in 0..50 {
        csv.push_str(&format!("Account {n}\n"));
    }
    let (id, info) = org
        .run(json!({"object": "Account", "operation": "insert"}), &csv)
        .await;
    assert_eq!(info["state"], "Failed");
    assert!(
        info["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("ExceededQuota"),
        "{info}"
    );
    assert_eq!(info["numberRecordsProcessed"], 20);
    let unprocessed = org.results(&id, "unprocessedrecords").await;
    assert_eq!(unprocessed.lines().count(), 1 + 30);
    assert_eq!(
        org.results(&id, "successfulResults").await.lines().count(),
        1 + 20
    );
    assert_eq!(org.stats().await["bulk_batches"], 2);
}

/// Transitions: InProgress → Failed by an injected `bulk-fail` fault.
#[tokio::test]
async fn an_injected_bulk_fault_fails_the_job() {
    let org = start(Config::default()).await;
    let rule = FaultRule {
        route: "bulk".into(),
        share: 1.0,
        effect: "bulk-fail".into(),
        after_s: 0.0,
        for_s: None,
    };
    org.emulator
        .org()
        .faults
        .set(FaultConfig {
            seed: 7,
            rules: vec![rule],
        })
        .unwrap();
    let (_, info) = org
        .run(
            json!({"object": "Account", "operation": "insert"}),
            "Name\nA\n",
        )
        .await;
    assert_eq!(info["state"], "Failed");
    assert!(
        info["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("InternalServerError"),
        "{info}"
    );
    assert_eq!(org.stats().await["faults_injected"]["bulk-fail"], 1);
}

#[tokio::test]
async fn ingest_throughput_is_measured() {
    let org = start(Config::default()).await;
    let rows = 100_000;
    let mut csv = String::with_capacity(rows * 40);
    csv.push_str("Name,External_Id__c,NumberOfEmployees,Phone\n");
    for n in 0..rows {
        csv.push_str(&format!("Account {n},X-{n},{n},555-{n}\n"));
    }
    let id = org
        .create(json!({"object": "Account", "operation": "insert"}))
        .await;
    let started = Instant::now();
    assert_eq!(org.upload(&id, &csv).await.0, StatusCode::CREATED);
    let uploaded = started.elapsed();
    org.set_state("ingest", &id, "UploadComplete").await;
    let info = org.finished("ingest", &id).await;
    let processed = started.elapsed() - uploaded;
    assert_eq!(
        (
            info["numberRecordsProcessed"].as_u64(),
            info["numberRecordsFailed"].as_u64()
        ),
        (Some(rows as u64), Some(0))
    );
    let started = Instant::now();
    let failed = org.results(&id, "successfulResults").await;
    let results = started.elapsed();
    assert_eq!(failed.lines().count(), rows + 1);
    let per_second = |d: std::time::Duration| rows as f64 / d.as_secs_f64();
    println!(
        "bulk ingest of {rows} rows: upload {uploaded:?} ({:.0} rows/s), processing {processed:?} ({:.0} rows/s), successfulResults {results:?} ({:.0} rows/s)",
        per_second(uploaded),
        per_second(processed),
        per_second(results)
    );
}

impl Org {
    /// Creates a query job and awaits its end; returns its id and final JobInfo.
    async fn query_job(&self, operation: &str, soql: &str) -> (String, Value) {
        let (status, job) = self
            .json(
                reqwest::Method::POST,
                "query",
                Some(json!({"operation": operation, "query": soql})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{job}");
        assert_eq!(
            (job["state"].as_str(), job["operation"].as_str()),
            (Some("UploadComplete"), Some(operation))
        );
        let id = job["id"].as_str().unwrap().to_string();
        (id.clone(), self.finished("query", &id).await)
    }

    /// One results page: (body, Sforce-NumberOfRecords, Sforce-Locator).
    async fn page(&self, id: &str, query: &str) -> (String, usize, String) {
        let response = self
            .http
            .get(self.url(&format!("query/{id}/results{query}")))
            .bearer_auth(&self.token)
            .header("Accept", "text/csv")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let count = response.headers()["sforce-numberofrecords"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let locator = response.headers()["sforce-locator"]
            .to_str()
            .unwrap()
            .to_string();
        (response.text().await.unwrap(), count, locator)
    }

    async fn seed_accounts(&self, n: usize) {
        let mut csv = String::from("Name,External_Id__c\n");
        for i in 0..n {
            csv.push_str(&format!("Account {i:02},Q-{i}\n"));
        }
        let (_, info) = self
            .run(json!({"object": "Account", "operation": "insert"}), &csv)
            .await;
        assert_eq!(info["numberRecordsFailed"], 0);
    }
}

#[tokio::test]
async fn query_results_page_by_locator_until_null() {
    let org = start(Config::default()).await;
    org.seed_accounts(25).await;
    let (id, info) = org
        .query_job(
            "query",
            "SELECT Id, Name, CreatedDate FROM Account ORDER BY Name DESC",
        )
        .await;
    assert_eq!(
        (
            info["state"].as_str(),
            info["jobType"].as_str(),
            info["object"].as_str()
        ),
        (Some("JobComplete"), Some("V2Query"), Some("Account"))
    );
    assert_eq!(info["numberRecordsProcessed"], 25);
    let mut rows = Vec::new();
    let mut locators = Vec::new();
    let mut query = "?maxRecords=10".to_string();
    loop {
        let (body, count, locator) = org.page(&id, &query).await;
        let mut lines = body.lines();
        assert_eq!(lines.next(), Some("\"Id\",\"Name\",\"CreatedDate\""));
        let page: Vec<String> = lines.map(str::to_string).collect();
        assert_eq!(page.len(), count);
        rows.extend(page);
        if locator == "null" {
            break;
        }
        query = format!("?locator={locator}&maxRecords=10");
        locators.push(locator);
    }
    assert_eq!(rows.len(), 25);
    assert_eq!(locators.len(), 2, "pages of 10, 10 and 5");
    assert!(
        rows[0].starts_with(&format!("\"{}\",\"Account 24\",\"", account_id(25))),
        "{}",
        rows[0]
    );
    assert!(
        rows.iter().all(|r| r.ends_with("Z\"")),
        "datetimes in UTC with Z: {}",
        rows[0]
    );
    let (again, count, _) = org
        .page(&id, &format!("?locator={}&maxRecords=10", locators[0]))
        .await;
    assert_eq!(count, 10);
    assert_eq!(
        again.lines().skip(1).collect::<Vec<_>>(),
        rows[10..20].iter().map(String::as_str).collect::<Vec<_>>(),
        "a locator is re-readable"
    );
    let (_, count, locator) = org.page(&id, "").await;
    assert_eq!(
        (count, locator.as_str()),
        (25, "null"),
        "the default page holds everything here"
    );
}

#[tokio::test]
async fn query_all_sees_deleted_rows_and_nulls_are_empty() {
    let org = start(Config::default()).await;
    org.seed_accounts(3).await;
    org.run(
        json!({"object": "Account", "operation": "delete"}),
        &format!("Id\n{}\n", account_id(2)),
    )
    .await;
    let (id, info) = org
        .query_job("query", "SELECT Name, Phone FROM Account")
        .await;
    assert_eq!(info["numberRecordsProcessed"], 2);
    assert_eq!(
        org.page(&id, "").await.0,
        "\"Name\",\"Phone\"\n\"Account 00\",\"\"\n\"Account 02\",\"\"\n"
    );
    let (_, info) = org.query_job("queryAll", "SELECT Name FROM Account").await;
    assert_eq!(info["numberRecordsProcessed"], 3);

    let pipe = json!({"operation": "query", "query": "SELECT Name FROM Account LIMIT 1", "columnDelimiter": "PIPE", "lineEnding": "CRLF"});
    let (_, job) = org.json(reqwest::Method::POST, "query", Some(pipe)).await;
    let id = job["id"].as_str().unwrap();
    assert_eq!(
        (job["columnDelimiter"].as_str(), job["lineEnding"].as_str()),
        (Some("PIPE"), Some("CRLF"))
    );
    org.finished("query", id).await;
    assert_eq!(org.page(id, "").await.0, "\"Name\"\r\n\"Account 00\"\r\n");
}

/// Query transitions: UploadComplete → InProgress → JobComplete; refused: JobComplete → Aborted.
#[tokio::test]
async fn query_jobs_refuse_bad_soql_other_versions_and_the_daily_limit() {
    let org = start(Config::default()).await;
    for (soql, code) in [
        ("SELECT Id FROM", "MALFORMED_QUERY"),
        ("SELECT Nope FROM Account", "INVALID_FIELD"),
        ("SELECT COUNT() FROM Account", "API_ERROR"),
        (
            "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
            "API_ERROR",
        ),
    ] {
        let (status, error) = org
            .json(
                reqwest::Method::POST,
                "query",
                Some(json!({"operation": "query", "query": soql})),
            )
            .await;
        assert_eq!(
            (status, error_code(&error)),
            (StatusCode::BAD_REQUEST, code),
            "{soql}: {error}"
        );
    }
    let (status, error) = org
        .json(
            reqwest::Method::POST,
            "query",
            Some(json!({"operation": "search", "query": "SELECT Id FROM Account"})),
        )
        .await;
    assert_eq!(
        (status, error_code(&error)),
        (StatusCode::BAD_REQUEST, "INVALIDJOB")
    );
    let (id, _) = org.query_job("query", "SELECT Id FROM Contact").await;
    let other_version = format!(
        "{}/services/data/v61.0/jobs/query/{id}/results",
        org.emulator.url()
    );
    let response = org
        .http
        .get(other_version)
        .bearer_auth(&org.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let (status, error) = org
        .json(
            reqwest::Method::GET,
            &format!("query/{id}/results?maxRecords=0"),
            None,
        )
        .await;
    assert_eq!(
        (status, error_code(&error)),
        (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE")
    );
    let (status, error) = org.set_state("query", &id, "Aborted").await;
    assert_eq!(
        (status, error_code(&error)),
        (StatusCode::BAD_REQUEST, "INVALIDJOBSTATE"),
        "a completed job cannot be aborted"
    );
    let (status, _) = org
        .json(reqwest::Method::GET, &format!("ingest/{id}"), None)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a query job is not an ingest job"
    );

    let used = org.stats().await;
    org.emulator.org().limits.write().daily_bulk_query_jobs =
        org.emulator.org().stats.bulk_query_jobs();
    let (status, error) = org
        .json(
            reqwest::Method::POST,
            "query",
            Some(json!({"operation": "query", "query": "SELECT Id FROM Account"})),
        )
        .await;
    assert_eq!(
        (status, error_code(&error)),
        (StatusCode::FORBIDDEN, "REQUEST_LIMIT_EXCEEDED"),
        "{used}"
    );

    let (_, list) = org.json(reqwest::Method::GET, "query", None).await;
    assert_eq!(list["records"].as_array().unwrap().len(), 1);
    assert_eq!(list["records"][0]["jobType"], "V2Query");
    assert_eq!(
        org.json(reqwest::Method::DELETE, &format!("query/{id}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        org.json(reqwest::Method::GET, &format!("query/{id}"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

/// Transitions: Open → UploadComplete → (InProgress →) Aborted by the client mid-processing.
#[tokio::test]
async fn aborting_a_running_job_leaves_the_rest_unprocessed() {
    let bulk = BulkConfig {
        batch_size: 10,
        chunk_size: 10,
        parallel_batches: 1,
        row_micros: 5_000,
        ..BulkConfig::default()
    };
    let org = start(bulk_config(bulk)).await;
    let mut csv = String::from("Name\n");
    for n in 0..100 {
        csv.push_str(&format!("Slow {n}\n"));
    }
    let id = org
        .create(json!({"object": "Account", "operation": "insert"}))
        .await;
    org.upload(&id, &csv).await;
    org.set_state("ingest", &id, "UploadComplete").await;
    let (status, job) = org.set_state("ingest", &id, "Aborted").await;
    assert_eq!(
        (status, job["state"].as_str()),
        (StatusCode::OK, Some("Aborted"))
    );
    let info = org.finished("ingest", &id).await;
    let processed = info["numberRecordsProcessed"].as_u64().unwrap() as usize;
    assert!(processed < 100, "{info}");
    assert_eq!(
        org.results(&id, "unprocessedrecords").await.lines().count(),
        1 + 100 - processed
    );
    assert_eq!(
        org.json(reqwest::Method::DELETE, &format!("ingest/{id}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn several_uploads_form_one_job_and_must_share_a_header() {
    let org = start(Config::default()).await;
    let id = org
        .create(json!({"object": "Account", "operation": "insert"}))
        .await;
    org.upload(&id, "Name,Phone\nA,1\n").await;
    org.upload(&id, "Name,Phone\nB,2\nC,3\n").await;
    org.set_state("ingest", &id, "UploadComplete").await;
    let info = org.finished("ingest", &id[..15]).await;
    assert_eq!(
        info["numberRecordsProcessed"], 3,
        "15-character job ids work too"
    );
    let ok = org.results(&id, "successfulResults").await;
    assert_eq!(
        ok.lines()
            .map(|l| l.rsplit(',').next().unwrap())
            .collect::<Vec<_>>(),
        ["Phone", "\"1\"", "\"2\"", "\"3\""]
    );

    let id = org
        .create(json!({"object": "Account", "operation": "insert"}))
        .await;
    org.upload(&id, "Name\nA\n").await;
    org.upload(&id, "Name,Phone\nB,2\n").await;
    org.set_state("ingest", &id, "UploadComplete").await;
    let info = org.finished("ingest", &id).await;
    assert_eq!(
        info["errorMessage"],
        "InvalidBatch : The header of upload 2 differs from the header of the first upload"
    );
}

#[tokio::test]
async fn reset_forgets_every_job() {
    let org = start(Config::default()).await;
    org.run(
        json!({"object": "Account", "operation": "insert"}),
        "Name\nA\n",
    )
    .await;
    org.query_job("query", "SELECT Id FROM Account").await;
    let response = org
        .http
        .post(format!("{}/__emulator/reset", org.emulator.url()))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(org.stats().await["bulk_jobs"], json!({}));
    assert_eq!(
        org.json(reqwest::Method::GET, "ingest", None).await.1["records"],
        json!([])
    );
    assert_eq!(
        org.json(reqwest::Method::GET, "query", None).await.1["records"],
        json!([])
    );
}

#[tokio::test]
async fn job_lists_page_by_a_thousand() {
    let org = start(Config::default()).await;
    for _ in 0..1_001 {
        org.create(json!({"object": "Lead", "operation": "insert"}))
            .await;
    }
    let (_, first) = org.json(reqwest::Method::GET, "ingest", None).await;
    assert_eq!(
        (
            first["done"].as_bool(),
            first["records"].as_array().unwrap().len()
        ),
        (Some(false), 1_000)
    );
    let next = first["nextRecordsUrl"].as_str().unwrap();
    assert!(
        next.starts_with("/services/data/v62.0/jobs/ingest?queryLocator="),
        "{next}"
    );
    let response = org
        .http
        .get(format!("{}{next}", org.emulator.url()))
        .bearer_auth(&org.token)
        .send()
        .await
        .unwrap();
    let second: Value = response.json().await.unwrap();
    assert_eq!(
        (
            second["done"].as_bool(),
            second["records"].as_array().unwrap().len()
        ),
        (Some(true), 1)
    );
    assert_eq!(second["nextRecordsUrl"], Value::Null);
    let (status, error) = org
        .json(reqwest::Method::GET, "ingest?queryLocator=%21%21", None)
        .await;
    assert_eq!(
        (status, error_code(&error)),
        (StatusCode::BAD_REQUEST, "INVALID_QUERY_LOCATOR")
    );
}

#[tokio::test]
async fn upserting_a_key_several_records_share_fails_the_row() {
    let config = Config::from_toml(
        r#"
        [[fields]]
        object = "Account"
        name = "Legacy_Id__c"
        type = "string"
        external_id = true
        "#,
    )
    .unwrap();
    let org = start(config).await;
    org.run(
        json!({"object": "Account", "operation": "insert"}),
        "Name,Legacy_Id__c\nA,L-1\nB,L-1\nC,L-2\n",
    )
    .await;
    let upsert =
        json!({"object": "Account", "operation": "upsert", "externalIdFieldName": "legacy_id__c"});
    let (id, info) = org
        .run(upsert, "Legacy_Id__c,Name\nL-1,Ambiguous\nL-2,Unique\n")
        .await;
    assert_eq!(
        info["externalIdFieldName"], "Legacy_Id__c",
        "the field's API spelling"
    );
    assert_eq!(info["numberRecordsFailed"], 1);
    let expected = format!(
        "\"sf__Id\",\"sf__Error\",Legacy_Id__c,Name\n\"\",\"DUPLICATE_EXTERNAL_ID:More than one record found for external id field: [{}, {}]:--\",\"L-1\",\"Ambiguous\"\n",
        account_id(1),
        account_id(2)
    );
    assert_eq!(org.results(&id, "failedResults").await, expected);
}
