//! Tokens end to end: every grant, the single refresh under a 401 storm, proactive
//! refresh ahead of the session lifetime, token sharing, and TLS with a custom CA.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{accounts, count, Emu};
use futures::TryStreamExt as _;
use serde_json::json;
use sfscale::{Client, ErrorKind, Event, MemoryTokenStore, Secret};
use sfscale_emulator::config::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
};
use sfscale_emulator::Config;

const EMULATOR_JWT_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../emulator/fixtures/jwt/private.pem"
);

async fn one_call_then_grants(emu: &Emu, client: &Client, grant: &str) {
    client
        .create("Account", &json!({"Name": grant}))
        .await
        .unwrap();
    let stats = emu.stats().await;
    assert_eq!(count(&stats, &["token_grants", "total"]), 1, "{stats}");
    assert_eq!(count(&stats, &["token_grants", grant]), 1, "{stats}");
    assert_eq!(client.token_grants(), 1);
}

#[tokio::test]
async fn jwt_bearer_grant_signs_an_assertion_the_emulator_accepts() {
    let emu = Emu::start().await;
    let pem = std::fs::read_to_string(EMULATOR_JWT_KEY).unwrap();
    let client = emu
        .builder()
        .auth_jwt(DEFAULT_CLIENT_ID, DEFAULT_USERNAME, pem)
        .build()
        .unwrap();
    one_call_then_grants(&emu, &client, "jwt_bearer").await;
}

#[tokio::test]
async fn client_credentials_grant() {
    let emu = Emu::start().await;
    one_call_then_grants(&emu, &emu.client(), "client_credentials").await;
}

#[tokio::test]
async fn password_grant_with_and_without_security_token() {
    let emu = Emu::start().await;
    one_call_then_grants(&emu, &emu.password_builder().build().unwrap(), "password").await;
    let with_token = format!("{DEFAULT_PASSWORD}{DEFAULT_SECURITY_TOKEN}");
    let client = emu
        .builder()
        .auth_password(
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            DEFAULT_USERNAME,
            with_token,
        )
        .build()
        .unwrap();
    client
        .create("Account", &json!({"Name": "t"}))
        .await
        .unwrap();
}

#[tokio::test]
async fn refresh_token_grant() {
    let emu = Emu::start().await;
    // Obtain a refresh token the way an app would after its one interactive login.
    let form = [
        ("grant_type", "password"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", DEFAULT_CLIENT_SECRET),
        ("username", DEFAULT_USERNAME),
        ("password", DEFAULT_PASSWORD),
    ];
    let login = emu
        .control_http()
        .post(format!("{}/services/oauth2/token", emu.url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = login.json().await.unwrap();
    let refresh = body["refresh_token"]
        .as_str()
        .expect("the emulator issues refresh tokens")
        .to_owned();
    let client = emu
        .builder()
        .auth_refresh_token(
            DEFAULT_CLIENT_ID,
            Some(Secret::new(DEFAULT_CLIENT_SECRET)),
            refresh,
        )
        .build()
        .unwrap();
    client
        .create("Account", &json!({"Name": "r"}))
        .await
        .unwrap();
    assert_eq!(
        count(&emu.stats().await, &["token_grants", "refresh_token"]),
        1
    );
}

#[tokio::test]
async fn bad_credentials_fail_as_auth_without_echoing_the_secret() {
    let emu = Emu::start().await;
    let client = emu
        .builder()
        .auth_client_credentials(DEFAULT_CLIENT_ID, "wrong-secret-value")
        .build()
        .unwrap();
    let error = client
        .create("Account", &json!({"Name": "x"}))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Auth, "{error}");
    let shown = format!("{error} {error:?} {client:?}");
    assert!(!shown.contains("wrong-secret-value"), "{shown}");
    assert_eq!(count(&emu.stats().await, &["api_requests"]), 0);
}

#[tokio::test]
async fn five_hundred_calls_on_an_expired_session_cost_exactly_one_grant() {
    let emu = Emu::start().await;
    emu.load("Account", accounts("exp", 3)).await;
    let client = emu.client();
    let id = client
        .create("Account", &json!({"Name": "seed"}))
        .await
        .unwrap();
    emu.expire_sessions().await;
    let calls: Vec<_> = (0..500)
        .map(|_| {
            let (client, id) = (client.clone(), id.clone());
            tokio::spawn(async move { client.get("Account", &id, &["Name"]).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().expect("no call fails");
    }
    let stats = emu.stats().await;
    assert_eq!(
        count(&stats, &["token_grants", "total"]),
        2,
        "initial grant + one refresh: {stats}"
    );
    assert!(
        count(&stats, &["errors_by_code", "INVALID_SESSION_ID"]) >= 1,
        "{stats}"
    );
}

#[tokio::test]
async fn tokens_are_refreshed_ahead_of_the_session_lifetime() {
    let mut config = Config::default();
    config.org.session_lifetime_secs = 2;
    let emu = Emu::start_with(config).await;
    let client = emu
        .builder()
        .auth_session_lifetime(Duration::from_secs(2))
        .auth_refresh_ratio(0.4)
        .build()
        .unwrap();
    let mut events = client.subscribe();
    client
        .create("Account", &json!({"Name": "first"}))
        .await
        .unwrap();
    // Two background refreshes (each ~0.8 s after the previous token) without any call.
    let mut refreshed = 0;
    while refreshed < 3 {
        let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("a refresh")
            .unwrap();
        if matches!(event, Event::TokenRefreshed { .. }) {
            refreshed += 1;
        }
    }
    let rows: Vec<_> = client
        .query("SELECT Id FROM Account")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stats = emu.stats().await;
    assert!(count(&stats, &["token_grants", "total"]) >= 3, "{stats}");
    assert_eq!(
        count(&stats, &["errors_by_code", "INVALID_SESSION_ID"]),
        0,
        "no call ever saw an expired session: {stats}"
    );
}

#[tokio::test]
async fn clients_sharing_a_token_store_share_one_token() {
    let emu = Emu::start().await;
    let store = MemoryTokenStore::shared();
    let a = emu
        .builder()
        .auth_token_store(store.clone())
        .build()
        .unwrap();
    let b = emu
        .builder()
        .auth_token_store(store as Arc<dyn sfscale::TokenStore>)
        .build()
        .unwrap();
    a.create("Account", &json!({"Name": "a"})).await.unwrap();
    b.create("Account", &json!({"Name": "b"})).await.unwrap();
    assert_eq!(count(&emu.stats().await, &["token_grants", "total"]), 1);
    // After expiry, one client refreshes and the other adopts the refreshed token.
    emu.expire_sessions().await;
    a.create("Account", &json!({"Name": "a2"})).await.unwrap();
    b.create("Account", &json!({"Name": "b2"})).await.unwrap();
    assert_eq!(count(&emu.stats().await, &["token_grants", "total"]), 2);
}

#[tokio::test]
async fn https_with_a_custom_ca_file() {
    let emu = Emu::start_with(Config {
        tls: true,
        ..Config::default()
    })
    .await;
    assert!(emu.url().starts_with("https://"));
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, emu.emulator.ca_pem().expect("a CA for https")).unwrap();
    let trusted = emu.builder().tls_ca_file(&ca).build().unwrap();
    trusted
        .create("Account", &json!({"Name": "tls"}))
        .await
        .unwrap();
    let untrusted = emu.client();
    let error = untrusted
        .create("Account", &json!({"Name": "no"}))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Network, "{error}");
}

#[tokio::test]
async fn jwt_audience_is_configurable_and_checked_by_the_server() {
    let emu = Emu::start().await;
    let pem = std::fs::read_to_string(EMULATOR_JWT_KEY).unwrap();
    let login = emu
        .builder()
        .auth_jwt(DEFAULT_CLIENT_ID, DEFAULT_USERNAME, pem.clone())
        .auth_jwt_audience("https://login.salesforce.com")
        .build()
        .unwrap();
    login
        .create("Account", &json!({"Name": "aud"}))
        .await
        .unwrap();
    let wrong = emu
        .builder()
        .auth_jwt(DEFAULT_CLIENT_ID, DEFAULT_USERNAME, pem)
        .auth_jwt_audience("https://evil.example.com")
        .build()
        .unwrap();
    let error = wrong
        .create("Account", &json!({"Name": "no"}))
        .await
        .unwrap_err();
    assert_eq!(
        (error.kind(), error.code()),
        (ErrorKind::Auth, "INVALID_GRANT"),
        "{error}"
    );
}
