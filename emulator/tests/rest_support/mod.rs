//! Shared harness of the REST integration tests (`tests/rest*.rs`): starts an emulator on
//! loopback port 0, gets a token with the password grant, and sends JSON calls under
//! `/services/data/v62.0` over real HTTP.

#![allow(dead_code)]

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use sfscale_emulator::config::{
    Config, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME,
};
use sfscale_emulator::server::Emulator;
use sfscale_emulator::store::WriteMode;

/// API version the tests call.
pub const VERSION: &str = "62.0";

/// A running emulator and an authenticated client.
pub struct Org {
    pub emulator: Emulator,
    pub client: reqwest::Client,
    token: String,
}

/// One answer: status, headers, body (JSON, or `Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The header as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// `errorCode` of the first error of a REST error list.
    pub fn error_code(&self) -> &str {
        self.body[0]["errorCode"].as_str().unwrap_or_default()
    }
}

impl Org {
    pub async fn start() -> Org {
        Org::start_with(Config::default()).await
    }

    pub async fn start_with(config: Config) -> Org {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let client = reqwest::Client::new();
        let form = [
            ("grant_type", "password"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("username", DEFAULT_USERNAME),
            ("password", DEFAULT_PASSWORD),
        ];
        let response = client
            .post(format!("{}/services/oauth2/token", emulator.url()))
            .form(&form)
            .send()
            .await
            .expect("token call");
        let grant: Value = response.json().await.expect("token json");
        let token = grant["access_token"]
            .as_str()
            .expect("access_token")
            .to_string();
        Org {
            emulator,
            client,
            token,
        }
    }

    /// Full URL of `path` below `/services/data/v62.0` (or of an absolute `/services/...` path).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/services/") {
            format!("{}{path}", self.emulator.url())
        } else {
            format!("{}/services/data/v{VERSION}{path}", self.emulator.url())
        }
    }

    /// A request builder with the bearer token.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.token)
    }

    /// Sends a request and reads the answer.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body read");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn call(&self, method: Method, path: &str, body: Value) -> Answer {
        self.send(self.request(method, path).json(&body)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, body).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, body).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(self.request(Method::DELETE, path)).await
    }

    /// Sends a raw (possibly malformed) body.
    pub async fn raw(&self, method: Method, path: &str, body: &str) -> Answer {
        self.send(
            self.request(method, path)
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
    }

    /// Creates a record straight in the store (fast seeding) and returns its id.
    pub fn seed(&self, object: &str, fields: Value) -> String {
        let store = &self.emulator.org().store;
        let def = store.schema().object(object).expect("object").clone();
        let changes = store
            .changes_from_json(
                &def,
                fields.as_object().expect("object body"),
                WriteMode::Insert,
            )
            .expect("valid fields");
        store.insert(&def, changes).expect("inserted")
    }

    /// Creates an Account through REST and returns its id.
    pub async fn account(&self, name: &str) -> String {
        let answer = self.post("/sobjects/Account", json!({"Name": name})).await;
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        answer.body["id"].as_str().expect("id").to_string()
    }

    /// Live records of `object` in the store.
    pub fn count(&self, object: &str) -> usize {
        self.emulator.org().store.counts()[object]
    }

    /// `errors_by_code[code]` from the stats.
    pub fn errors(&self, code: &str) -> u64 {
        self.emulator.stats()["errors_by_code"][code]
            .as_u64()
            .unwrap_or(0)
    }
}
