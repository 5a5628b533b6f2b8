//! The JWT bearer assertion: RS256 over `{"alg":"RS256"}` and the iss/sub/aud/exp claims.
//!
//! Salesforce accepts only RS256 and expects `exp` within about three minutes, so each
//! assertion is minted at grant time with `exp = now + 3 min` and never cached. The key
//! is parsed once, at `build()`, from PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
//! (`BEGIN RSA PRIVATE KEY`) PEM, so a bad key is a configuration error rather than a
//! failure on the first call. We sign with the `rsa` crate instead of pulling a JWT
//! library: the format is three base64url segments and one PKCS#1 v1.5 signature.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::RsaPrivateKey;
use sha2::Sha256;

/// How far ahead of now an assertion's `exp` is set (Salesforce allows about 3 minutes).
const ASSERTION_LIFETIME: Duration = Duration::from_secs(180);

/// An RSA private key for signing JWT assertions; its `Debug` output is redacted.
/// Cheap to clone (the key is shared).
#[derive(Clone)]
pub struct JwtKey(Arc<SigningKey<Sha256>>);

impl JwtKey {
    /// Parses a PKCS#8 or PKCS#1 PEM private key. The error never quotes the key.
    pub fn from_pem(pem: &str) -> Result<JwtKey, String> {
        let key = if pem.contains("BEGIN RSA PRIVATE KEY") {
            RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| format!("invalid PKCS#1 RSA key: {e}"))
        } else if pem.contains("BEGIN PRIVATE KEY") {
            RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| format!("invalid PKCS#8 RSA key: {e}"))
        } else {
            Err("expected a PEM 'PRIVATE KEY' or 'RSA PRIVATE KEY' block".to_owned())
        }?;
        Ok(JwtKey(Arc::new(SigningKey::new(key))))
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.0.sign(message).to_vec()
    }
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtKey([redacted])")
    }
}

/// The claims of one assertion.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Claims<'a> {
    /// The connected app's consumer key.
    pub iss: &'a str,
    /// The username to act as.
    pub sub: &'a str,
    /// The login host (`https://login.salesforce.com`, `https://test.salesforce.com`, ...).
    pub aud: &'a str,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
}

impl<'a> Claims<'a> {
    /// Claims expiring [`ASSERTION_LIFETIME`] after `now`.
    pub fn new(iss: &'a str, sub: &'a str, aud: &'a str, now: SystemTime) -> Self {
        let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        Claims {
            iss,
            sub,
            aud,
            exp: (since_epoch + ASSERTION_LIFETIME).as_secs(),
        }
    }
}

/// Builds the signed assertion `base64url(header).base64url(claims).base64url(signature)`.
pub fn assertion(key: &JwtKey, claims: &Claims<'_>) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
    let body = serde_json::to_vec(claims).expect("claims serialize");
    let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(body));
    let signature = URL_SAFE_NO_PAD.encode(key.sign(signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier as _;

    const PKCS8: &str = include_str!("../../tests/fixtures/test-key-pkcs8.pem");
    const PKCS1: &str = include_str!("../../tests/fixtures/test-key-pkcs1.pem");

    fn verify(key_pem: &str, jwt: &str) -> serde_json::Value {
        let private = RsaPrivateKey::from_pkcs8_pem(key_pem).unwrap();
        let verifier = VerifyingKey::<Sha256>::new(private.to_public_key());
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let sig = Signature::try_from(URL_SAFE_NO_PAD.decode(sig).unwrap().as_slice()).unwrap();
        verifier
            .verify(input.as_bytes(), &sig)
            .expect("signature verifies");
        let (header, claims) = input.split_once('.').unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.decode(header).unwrap(),
            br#"{"alg":"RS256"}"#
        );
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap()
    }

    #[test]
    fn assertion_is_rs256_signed_with_expected_claims() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for pem in [PKCS8, PKCS1] {
            let key = JwtKey::from_pem(pem).unwrap();
            let jwt = assertion(
                &key,
                &Claims::new("cid", "user@x", "https://login.salesforce.com", now),
            );
            let claims = verify(PKCS8, &jwt);
            assert_eq!(claims["iss"], "cid");
            assert_eq!(claims["sub"], "user@x");
            assert_eq!(claims["aud"], "https://login.salesforce.com");
            assert_eq!(claims["exp"], 1_700_000_180);
        }
    }

    #[test]
    fn bad_keys_are_rejected_without_echoing_them() {
        for bad in [
            "",
            "not a key",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            let err = JwtKey::from_pem(bad).unwrap_err();
            assert!(!err.contains("AAAA"), "{err}");
        }
        let key = JwtKey::from_pem(PKCS8).unwrap();
        assert_eq!(format!("{key:?}"), "JwtKey([redacted])");
    }
}
