//! Shared harness of the server, auth, control, limits and faults tests: starts an emulator
//! on loopback port 0 and talks to it over real HTTP, plus a JWT signer using the test key
//! in `fixtures/jwt/`.

#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::header::HeaderMap;
use reqwest::Method;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sfscale_emulator::config::{
    Config, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME,
};
use sfscale_emulator::Emulator;
use sha2::Sha256;
use std::time::Duration;

/// The API version the tests call.
pub const V: &str = "v62.0";
/// The test private key matching the default trusted certificate.
pub const PRIVATE_PEM: &str = include_str!("../../fixtures/jwt/private.pem");

/// One HTTP answer: status, headers and body (JSON, or the raw text as a JSON string).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// A header as text ("" when absent).
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

    /// `message` of the first error of a REST error list.
    pub fn message(&self) -> &str {
        self.body[0]["message"].as_str().unwrap_or_default()
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        headers,
        body,
    }
}

/// A plain reqwest client (installs the ring provider reqwest is built without).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A running emulator and a client.
pub struct Emu {
    pub emulator: Emulator,
    pub http: reqwest::Client,
}

impl Emu {
    pub async fn start() -> Emu {
        Emu::start_with(Config::default()).await
    }

    pub async fn start_with(config: Config) -> Emu {
        let http = http_client();
        let emulator = Emulator::start(config).await.expect("emulator starts");
        Emu { emulator, http }
    }

    /// Full URL of an absolute path, or of a path below `/services/data/v62.0`.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.emulator.url())
        } else {
            format!("{}/services/data/{V}/{path}", self.emulator.url())
        }
    }

    /// POSTs a form to the token endpoint.
    pub async fn grant(&self, form: &[(&str, &str)]) -> Answer {
        answer(
            self.http
                .post(self.url("/services/oauth2/token"))
                .form(form)
                .send()
                .await
                .expect("token call"),
        )
        .await
    }

    /// An access token from the password grant with the default credentials.
    pub async fn token(&self) -> String {
        let grant = self.grant(&password_form()).await;
        assert_eq!(grant.status, 200, "{:?}", grant.body);
        grant.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// GET with a bearer token.
    pub async fn get(&self, token: &str, path: &str) -> Answer {
        self.send(self.http.get(self.url(path)).bearer_auth(token))
            .await
    }

    /// Sends any request and reads the answer.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        answer(request.send().await.expect("request")).await
    }

    /// A control call (`/__emulator/<path>`) with an optional JSON body.
    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .http
            .request(method, self.url(&format!("/__emulator/{path}")));
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    /// `GET /__emulator/stats`.
    pub async fn stats(&self) -> Value {
        self.control(Method::GET, "stats", None).await.body
    }

    /// `PUT /__emulator/faults`, asserting it was accepted.
    pub async fn set_faults(&self, faults: Value) {
        let answer = self.control(Method::PUT, "faults", Some(faults)).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }

    /// `PUT /__emulator/limits`, asserting it was accepted.
    pub async fn set_limits(&self, limits: Value) {
        let answer = self.control(Method::PUT, "limits", Some(limits)).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }

    /// Polls stats until `ready` holds (each poll is an awaited HTTP call; gives up after 10 s).
    pub async fn wait_for_stats(&self, ready: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..1000 {
            let stats = self.stats().await;
            if ready(&stats) {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "stats never reached the expected state: {}",
            self.stats().await
        );
    }
}

/// The password grant form with the default credentials.
pub fn password_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("grant_type", "password"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", DEFAULT_CLIENT_SECRET),
        ("username", DEFAULT_USERNAME),
        ("password", DEFAULT_PASSWORD),
    ]
}

/// A JWT with `header` and `claims`, signed RS256 with the fixture key.
pub fn sign_jwt(header: &Value, claims: &Value) -> String {
    let key = RsaPrivateKey::from_pkcs8_pem(PRIVATE_PEM).expect("fixture key");
    let signing = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = SigningKey::<Sha256>::new(key).sign(signing.as_bytes());
    format!("{signing}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// Claims the default org accepts, expiring `exp_in` seconds from now.
pub fn jwt_claims(exp_in: i64) -> Value {
    json!({
        "iss": DEFAULT_CLIENT_ID,
        "sub": DEFAULT_USERNAME,
        "aud": "https://login.salesforce.com",
        "exp": chrono::Utc::now().timestamp() + exp_in,
    })
}
