//! OAuth over real HTTP: every grant, each documented failure, session expiry, revocation.

mod server_support;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use server_support::{jwt_claims, password_form, sign_jwt, Emu};
use sfscale_emulator::config::{
    Config, OrgConfig, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN, DEFAULT_USERNAME,
};
use sha2::Sha256;

const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn assert_oauth_error(answer: &server_support::Answer, error: &str, description: &str) {
    assert_eq!(answer.status, 400, "{:?}", answer.body);
    assert_eq!(
        answer.body,
        json!({"error": error, "error_description": description})
    );
}

fn with_grant<'a>(
    mut form: Vec<(&'a str, &'a str)>,
    key: &'a str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    form.retain(|(k, _)| *k != key);
    form.push((key, value));
    form
}

#[tokio::test]
async fn password_grant_returns_the_documented_fields_and_no_expires_in() {
    let emu = Emu::start().await;
    let grant = emu.grant(&password_form()).await;
    assert_eq!(grant.status, 200);
    let body = grant.body.as_object().unwrap();
    let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "access_token",
            "id",
            "instance_url",
            "issued_at",
            "refresh_token",
            "scope",
            "signature",
            "token_type"
        ]
    );

    let org = emu.emulator.org();
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.split_once('!').unwrap().0, &org.org_id[..15]);
    assert_eq!(body["instance_url"], emu.emulator.url());
    let id = body["id"].as_str().unwrap();
    assert_eq!(
        id,
        format!("{}/id/{}/{}", emu.emulator.url(), org.org_id, org.user_id)
    );
    assert_eq!(body["token_type"], "Bearer");
    let issued_at = body["issued_at"].as_str().unwrap();
    assert_eq!(issued_at.len(), 13, "milliseconds: {issued_at}");
    assert!(issued_at.bytes().all(|b| b.is_ascii_digit()));

    let mut mac = Hmac::<Sha256>::new_from_slice(DEFAULT_CLIENT_SECRET.as_bytes()).unwrap();
    mac.update(format!("{id}{issued_at}").as_bytes());
    assert_eq!(
        body["signature"],
        STANDARD.encode(mac.finalize().into_bytes())
    );

    let stats = emu.stats().await;
    assert_eq!(stats["token_grants"]["password"], 1);
    assert_eq!(stats["token_grants"]["total"], 1);
    assert_eq!(stats["api_requests"], 0, "token calls are not counted");
    assert_eq!(emu.get(token, "limits").await.status, 200);
}

#[tokio::test]
async fn password_grant_accepts_the_security_token_suffix() {
    let emu = Emu::start().await;
    let with_token = format!("{DEFAULT_PASSWORD}{DEFAULT_SECURITY_TOKEN}");
    let grant = emu
        .grant(&with_grant(password_form(), "password", &with_token))
        .await;
    assert_eq!(grant.status, 200, "{:?}", grant.body);
    let upper_user = DEFAULT_USERNAME.to_uppercase();
    assert_eq!(
        emu.grant(&with_grant(password_form(), "username", &upper_user))
            .await
            .status,
        200,
        "usernames ignore case"
    );
}

#[tokio::test]
async fn password_grant_failures_use_salesforce_error_pairs() {
    let emu = Emu::start().await;
    assert_oauth_error(
        &emu.grant(&with_grant(password_form(), "password", "wrong"))
            .await,
        "invalid_grant",
        "authentication failure",
    );
    assert_oauth_error(
        &emu.grant(&with_grant(password_form(), "username", "nobody@x.test"))
            .await,
        "invalid_grant",
        "authentication failure",
    );
    assert_oauth_error(
        &emu.grant(&with_grant(password_form(), "client_secret", "nope"))
            .await,
        "invalid_client",
        "invalid client credentials",
    );
    assert_oauth_error(
        &emu.grant(&with_grant(password_form(), "client_id", "other-app"))
            .await,
        "invalid_client_id",
        "client identifier invalid",
    );
    assert_oauth_error(
        &emu.grant(&[("grant_type", "authorization_code"), ("code", "x")])
            .await,
        "unsupported_grant_type",
        "grant type not supported",
    );
    assert_oauth_error(
        &emu.grant(&[("client_id", DEFAULT_CLIENT_ID)]).await,
        "invalid_request",
        "grant type not supported",
    );
    let stats = emu.stats().await;
    assert_eq!(stats["token_grants"]["total"], 0);
    assert_eq!(stats["errors_by_code"]["invalid_grant"], 2);
}

#[tokio::test]
async fn client_credentials_work_in_the_body_and_with_basic_auth() {
    let emu = Emu::start().await;
    let body = [
        ("grant_type", "client_credentials"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", DEFAULT_CLIENT_SECRET),
    ];
    let grant = emu.grant(&body).await;
    assert_eq!(grant.status, 200, "{:?}", grant.body);
    assert!(grant.body.get("refresh_token").is_none());

    let basic = emu
        .http
        .post(emu.url("/services/oauth2/token"))
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")]);
    let grant = emu.send(basic).await;
    assert_eq!(grant.status, 200, "{:?}", grant.body);
    assert_eq!(
        emu.get(grant.body["access_token"].as_str().unwrap(), "limits")
            .await
            .status,
        200
    );

    let bad = emu
        .http
        .post(emu.url("/services/oauth2/token"))
        .basic_auth(DEFAULT_CLIENT_ID, Some("wrong"))
        .form(&[("grant_type", "client_credentials")]);
    assert_oauth_error(
        &emu.send(bad).await,
        "invalid_client",
        "invalid client credentials",
    );
    assert_eq!(emu.stats().await["token_grants"]["client_credentials"], 2);
}

#[tokio::test]
async fn refresh_token_grant_mints_a_new_session_and_keeps_the_refresh_token() {
    let emu = Emu::start().await;
    let first = emu.grant(&password_form()).await;
    let refresh = first.body["refresh_token"].as_str().unwrap().to_string();
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", DEFAULT_CLIENT_SECRET),
        ("refresh_token", refresh.as_str()),
    ];
    let second = emu.grant(&form).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert!(second.body.get("refresh_token").is_none(), "no rotation");
    assert_ne!(second.body["access_token"], first.body["access_token"]);
    let without_secret = [
        ("grant_type", "refresh_token"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("refresh_token", refresh.as_str()),
    ];
    assert_eq!(
        emu.grant(&without_secret).await.status,
        200,
        "the secret is optional"
    );
    let unknown = [
        ("grant_type", "refresh_token"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("refresh_token", "5AepNOPE"),
    ];
    assert_oauth_error(
        &emu.grant(&unknown).await,
        "invalid_grant",
        "expired access/refresh token",
    );
    assert_eq!(emu.stats().await["token_grants"]["refresh_token"], 2);
}

#[tokio::test]
async fn password_grant_issues_no_refresh_token_when_disabled() {
    let config = Config {
        org: OrgConfig {
            issue_refresh_tokens: false,
            ..OrgConfig::default()
        },
        ..Config::default()
    };
    let emu = Emu::start_with(config).await;
    let grant = emu.grant(&password_form()).await;
    assert_eq!(grant.status, 200);
    assert!(grant.body.get("refresh_token").is_none());
}

async fn jwt_grant(emu: &Emu, assertion: &str) -> server_support::Answer {
    emu.grant(&[("grant_type", JWT_GRANT), ("assertion", assertion)])
        .await
}

#[tokio::test]
async fn jwt_bearer_grant_verifies_the_fixture_key() {
    let emu = Emu::start().await;
    let header = json!({"alg": "RS256"});
    let grant = jwt_grant(&emu, &sign_jwt(&header, &jwt_claims(180))).await;
    assert_eq!(grant.status, 200, "{:?}", grant.body);
    assert!(grant.body.get("refresh_token").is_none());
    assert_eq!(
        emu.get(grant.body["access_token"].as_str().unwrap(), "limits")
            .await
            .status,
        200
    );

    // simple-salesforce's shape: exp as a string, aud its login host, typ in the header.
    let mut claims = jwt_claims(180);
    claims["exp"] = json!(claims["exp"].to_string());
    claims["aud"] = json!("https://test.salesforce.com");
    assert_eq!(
        jwt_grant(
            &emu,
            &sign_jwt(&json!({"alg": "RS256", "typ": "JWT"}), &claims)
        )
        .await
        .status,
        200
    );

    // prn wins over sub; the emulator's own URL is a valid audience.
    let mut claims = jwt_claims(180);
    claims["sub"] = json!("someone-else@x.test");
    claims["prn"] = json!(DEFAULT_USERNAME);
    claims["aud"] = json!(emu.emulator.url());
    assert_eq!(
        jwt_grant(&emu, &sign_jwt(&header, &claims)).await.status,
        200
    );
    assert_eq!(emu.stats().await["token_grants"]["jwt_bearer"], 3);
}

#[tokio::test]
async fn jwt_bearer_failures_are_invalid_grants() {
    let emu = Emu::start().await;
    let header = json!({"alg": "RS256"});
    let claims_with = |key: &str, value: Value| {
        let mut claims = jwt_claims(180);
        claims[key] = value;
        claims
    };
    let wrong_aud = sign_jwt(
        &header,
        &claims_with("aud", json!("https://evil.example.com")),
    );
    assert_oauth_error(
        &jwt_grant(&emu, &wrong_aud).await,
        "invalid_grant",
        "audience is invalid",
    );
    let expired = sign_jwt(&header, &jwt_claims(-600));
    assert_oauth_error(
        &jwt_grant(&emu, &expired).await,
        "invalid_grant",
        "expired authorization code",
    );
    let wrong_iss = sign_jwt(&header, &claims_with("iss", json!("other-app")));
    assert_oauth_error(
        &jwt_grant(&emu, &wrong_iss).await,
        "invalid_client_id",
        "client identifier invalid",
    );
    let wrong_user = sign_jwt(&header, &claims_with("sub", json!("nobody@x.test")));
    assert_oauth_error(
        &jwt_grant(&emu, &wrong_user).await,
        "invalid_grant",
        "user hasn't approved this consumer",
    );

    // A valid signature over other claims: swap the claims part.
    let good = sign_jwt(&header, &jwt_claims(180));
    let forged_claims = sign_jwt(&header, &claims_with("sub", json!("admin@x.test")));
    let parts: Vec<&str> = good.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        forged_claims.split('.').nth(1).unwrap(),
        parts[2]
    );
    assert_oauth_error(
        &jwt_grant(&emu, &forged).await,
        "invalid_grant",
        "invalid assertion",
    );
    let unsigned = sign_jwt(&json!({"alg": "none"}), &jwt_claims(180));
    assert_oauth_error(
        &jwt_grant(&emu, &unsigned).await,
        "invalid_grant",
        "invalid assertion",
    );
    assert_oauth_error(
        &jwt_grant(&emu, "not-a-jwt").await,
        "invalid_grant",
        "invalid assertion",
    );
    assert_eq!(emu.stats().await["token_grants"]["total"], 0);
}

#[tokio::test]
async fn sessions_expire_after_their_lifetime() {
    let config = Config {
        org: OrgConfig {
            session_lifetime_secs: 0,
            ..OrgConfig::default()
        },
        ..Config::default()
    };
    let emu = Emu::start_with(config).await;
    let token = emu.token().await;
    let answer = emu.get(&token, "limits").await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.body,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID", "fields": []}])
    );
    let stats = emu.stats().await;
    assert_eq!(stats["errors_by_code"]["INVALID_SESSION_ID"], 1);
    assert_eq!(
        stats["api_requests"], 0,
        "rejected sessions are not counted"
    );
}

#[tokio::test]
async fn expire_sessions_ends_every_token_but_refresh_still_works() {
    let emu = Emu::start().await;
    let first = emu.grant(&password_form()).await;
    let token = first.body["access_token"].as_str().unwrap();
    let other = emu.token().await;
    assert_eq!(
        emu.control(Method::POST, "expire-sessions", None)
            .await
            .status,
        200
    );
    assert_eq!(emu.get(token, "limits").await.status, 401);
    assert_eq!(emu.get(&other, "limits").await.status, 401);
    let refresh = first.body["refresh_token"].as_str().unwrap();
    let renewed = emu
        .grant(&[
            ("grant_type", "refresh_token"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("refresh_token", refresh),
        ])
        .await;
    assert_eq!(
        emu.get(renewed.body["access_token"].as_str().unwrap(), "limits")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn revoke_ends_access_tokens_and_refresh_tokens() {
    let emu = Emu::start().await;
    let first = emu.grant(&password_form()).await;
    let refresh = first.body["refresh_token"].as_str().unwrap();
    let token = emu.token().await;
    let revoke = |token: String| {
        emu.send(
            emu.http
                .post(emu.url("/services/oauth2/revoke"))
                .form(&[("token", token)]),
        )
    };
    assert_eq!(revoke(token.clone()).await.status, 200);
    assert_eq!(emu.get(&token, "limits").await.status, 401);
    assert_oauth_error(
        &revoke(token).await,
        "unsupported_token_type",
        "this token type is not supported",
    );

    let child = first.body["access_token"].as_str().unwrap();
    assert_eq!(
        emu.send(
            emu.http
                .get(emu.url("/services/oauth2/revoke"))
                .query(&[("token", refresh)])
        )
        .await
        .status,
        200
    );
    assert_eq!(
        emu.get(child, "limits").await.status,
        401,
        "sessions of a revoked refresh token end with it"
    );
    let renewed = emu
        .grant(&[
            ("grant_type", "refresh_token"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("refresh_token", refresh),
        ])
        .await;
    assert_oauth_error(&renewed, "invalid_grant", "expired access/refresh token");
}

#[tokio::test]
async fn the_identity_url_describes_the_user_and_is_not_counted() {
    let emu = Emu::start().await;
    let grant = emu.grant(&password_form()).await;
    let token = grant.body["access_token"].as_str().unwrap();
    let id_url = grant.body["id"].as_str().unwrap();
    let identity = emu.send(emu.http.get(id_url).bearer_auth(token)).await;
    assert_eq!(identity.status, 200, "{:?}", identity.body);
    assert_eq!(identity.body["id"], id_url);
    assert_eq!(identity.body["username"], DEFAULT_USERNAME);
    assert_eq!(identity.body["organization_id"], emu.emulator.org().org_id);
    assert_eq!(
        identity.body["urls"]["rest"],
        format!("{}/services/data/v{{version}}/", emu.emulator.url())
    );
    let by_query = emu
        .send(emu.http.get(id_url).query(&[("oauth_token", token)]))
        .await;
    assert_eq!(by_query.status, 200);

    let no_token = emu.send(emu.http.get(id_url)).await;
    assert_eq!(
        (no_token.status, no_token.body.clone()),
        (403, json!("Bad_OAuth_Token"))
    );
    let other_user = id_url.replace(&emu.emulator.org().user_id, "005000000000000AAA");
    let wrong = emu.send(emu.http.get(other_user).bearer_auth(token)).await;
    assert_eq!((wrong.status, wrong.body.clone()), (404, json!("Bad_Id")));
    assert_eq!(emu.stats().await["api_requests"], 0);
}
