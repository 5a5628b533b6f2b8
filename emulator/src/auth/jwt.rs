//! JWT bearer assertions (wire doc 1.3): decoding, RS256 signature verification against the
//! connected app's certificate, and the claims the grant checks.
//!
//! Only RS256 is accepted, as in Salesforce; `alg: none` or HMAC algorithms are refused
//! before any claim is read, so an unsigned token can never pass. The key comes from the
//! configured PEM, which may be an X.509 certificate (what a connected app holds), an SPKI
//! public key or a PKCS#1 public key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;
use x509_cert::der::{DecodePem, Encode};

/// Why a PEM could not be used as the JWT verification key.
#[derive(Debug, thiserror::Error)]
#[error("jwt_cert_pem: {0}")]
pub struct KeyError(String);

/// Loads the RSA public key from a certificate or public-key PEM.
pub fn load_key(pem: &str) -> Result<RsaPublicKey, KeyError> {
    let pem = pem.trim();
    if pem.contains("BEGIN CERTIFICATE") {
        let cert = x509_cert::Certificate::from_pem(pem)
            .map_err(|e| KeyError(format!("not a valid X.509 certificate: {e}")))?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| KeyError(e.to_string()))?;
        RsaPublicKey::from_public_key_der(&spki)
            .map_err(|e| KeyError(format!("certificate key is not RSA: {e}")))
    } else if pem.contains("BEGIN RSA PUBLIC KEY") {
        RsaPublicKey::from_pkcs1_pem(pem)
            .map_err(|e| KeyError(format!("not a valid PKCS#1 public key: {e}")))
    } else if pem.contains("BEGIN PUBLIC KEY") {
        RsaPublicKey::from_public_key_pem(pem)
            .map_err(|e| KeyError(format!("not a valid RSA public key: {e}")))
    } else {
        Err(KeyError(
            "expected a PEM CERTIFICATE, PUBLIC KEY or RSA PUBLIC KEY".into(),
        ))
    }
}

/// The claims the JWT grant checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    pub iss: String,
    /// `prn` when present, else `sub`.
    pub subject: String,
    /// `aud` as one string or a list.
    pub audiences: Vec<String>,
    /// `exp` in seconds since the epoch (number or numeric string on the wire).
    pub exp: i64,
}

/// Why an assertion was refused before its claims were judged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("assertion is not a three-part JWT")]
    Shape,
    #[error("only RS256 assertions are accepted")]
    Algorithm,
    #[error("signature does not verify")]
    Signature,
    #[error("claims are missing or malformed: {0}")]
    Claims(&'static str),
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    sub: Option<String>,
    prn: Option<String>,
    aud: Option<Value>,
    exp: Option<Value>,
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Option<T> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

/// Verifies the assertion's RS256 signature with `key` and returns its claims.
pub fn verify(assertion: &str, key: &RsaPublicKey) -> Result<Claims, AssertionError> {
    let mut parts = assertion.trim().split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AssertionError::Shape);
    };
    let header: Header = decode_json(header).ok_or(AssertionError::Shape)?;
    if header.alg != "RS256" {
        return Err(AssertionError::Algorithm);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| AssertionError::Signature)?;
    let signature =
        Signature::try_from(signature.as_slice()).map_err(|_| AssertionError::Signature)?;
    let signed = &assertion.trim()[..header_and_claims_len(assertion.trim())];
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| AssertionError::Signature)?;
    let raw: RawClaims =
        decode_json(claims).ok_or(AssertionError::Claims("claims are not a JSON object"))?;
    claims_from(raw)
}

/// Length of `header.claims` (everything before the last dot).
fn header_and_claims_len(assertion: &str) -> usize {
    assertion.rfind('.').unwrap_or(0)
}

fn claims_from(raw: RawClaims) -> Result<Claims, AssertionError> {
    let iss = raw.iss.ok_or(AssertionError::Claims("iss"))?;
    let subject = raw.prn.or(raw.sub).ok_or(AssertionError::Claims("sub"))?;
    let audiences = match raw.aud {
        Some(Value::String(aud)) => vec![aud],
        Some(Value::Array(list)) => list
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => return Err(AssertionError::Claims("aud")),
    };
    let exp = match raw.exp {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or(AssertionError::Claims("exp"))?;
    Ok(Claims {
        iss,
        subject,
        audiences,
        exp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_JWT_CERT_PEM;

    const PUBLIC_PEM: &str = include_str!("../../fixtures/jwt/public.pem");

    #[test]
    fn the_default_certificate_and_the_public_key_load_to_the_same_key() {
        let from_cert = load_key(DEFAULT_JWT_CERT_PEM).unwrap();
        let from_spki = load_key(PUBLIC_PEM).unwrap();
        assert_eq!(from_cert, from_spki);
    }

    #[test]
    fn garbage_pem_is_a_clear_error() {
        assert!(load_key("hello")
            .unwrap_err()
            .to_string()
            .contains("jwt_cert_pem"));
        assert!(load_key("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").is_err());
    }

    #[test]
    fn unsigned_and_malformed_assertions_are_refused() {
        let key = load_key(PUBLIC_PEM).unwrap();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let claims = URL_SAFE_NO_PAD.encode(br#"{"iss":"a","sub":"b","aud":"c","exp":1}"#);
        assert_eq!(
            verify(&format!("{none_header}.{claims}."), &key),
            Err(AssertionError::Algorithm)
        );
        assert_eq!(verify("a.b", &key), Err(AssertionError::Shape));
        let rs_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
        assert_eq!(
            verify(&format!("{rs_header}.{claims}.AAAA"), &key),
            Err(AssertionError::Signature)
        );
    }

    #[test]
    fn prn_wins_over_sub_and_exp_may_be_a_string() {
        let raw = RawClaims {
            iss: Some("app".into()),
            sub: Some("sub@x".into()),
            prn: Some("prn@x".into()),
            aud: Some(Value::Array(vec!["https://login.salesforce.com".into()])),
            exp: Some(Value::String("1700000000".into())),
        };
        let claims = claims_from(raw).unwrap();
        assert_eq!(claims.subject, "prn@x");
        assert_eq!(claims.exp, 1_700_000_000);
        assert_eq!(claims.audiences, vec!["https://login.salesforce.com"]);
    }
}
