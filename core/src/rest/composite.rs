//! Composite: up to 25 subrequests in one API call, optionally all-or-none.
//!
//! Subrequest URLs may be given in full (`/services/data/v62.0/sobjects/Account`) or
//! relative to the versioned root (`sobjects/Account`), which we expand with the client's
//! API version so callers don't repeat it. Later subrequests may reference earlier
//! results with `@{referenceId.field}`; that is Salesforce's feature and passes through.
//! The top-level call answers 200 even when subrequests fail: each [`SubResponse`]
//! carries its own status and body. A composite call is not idempotent (it may create
//! records), so it is never replayed once it may have reached the server.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::pipeline::Target;

/// Most subrequests Salesforce accepts in one composite call.
pub const MAX_SUBREQUESTS: usize = 25;

/// One subrequest.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subrequest {
    /// HTTP method.
    pub method: String,
    /// Full `/services/data/...` path, or a path relative to the versioned root.
    pub url: String,
    /// Name later subrequests use to reference this one's result.
    pub reference_id: String,
    /// JSON body, for POST/PATCH.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

impl Subrequest {
    /// A subrequest without a body.
    pub fn new(
        method: &str,
        url: impl Into<String>,
        reference_id: impl Into<String>,
    ) -> Subrequest {
        Subrequest {
            method: method.to_ascii_uppercase(),
            url: url.into(),
            reference_id: reference_id.into(),
            body: None,
        }
    }

    /// Adds a JSON body.
    pub fn body(mut self, body: Value) -> Subrequest {
        self.body = Some(body);
        self
    }
}

/// One subrequest's answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubResponse {
    /// The subrequest's body (a record, a save result, or an error list).
    #[serde(default)]
    pub body: Value,
    /// Its headers (e.g. `Location` for creates).
    #[serde(default)]
    pub http_headers: serde_json::Map<String, Value>,
    /// Its status.
    pub http_status_code: u16,
    /// Its reference id.
    pub reference_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompositeResponse {
    composite_response: Vec<SubResponse>,
}

impl Client {
    /// Runs up to 25 subrequests in one call; with `all_or_none` one failure rolls all back.
    pub async fn composite(
        &self,
        all_or_none: bool,
        subrequests: Vec<Subrequest>,
    ) -> Result<Vec<SubResponse>, Error> {
        if subrequests.is_empty() || subrequests.len() > MAX_SUBREQUESTS {
            return Err(Error::invalid_input(format!(
                "composite takes 1 to {MAX_SUBREQUESTS} subrequests, got {}",
                subrequests.len()
            )));
        }
        let version = &self.pipeline.config().api_version;
        let subrequests: Vec<Subrequest> = subrequests
            .into_iter()
            .map(|s| Subrequest {
                url: expand_url(version, &s.url),
                ..s
            })
            .collect();
        let body = serde_json::json!({ "allOrNone": all_or_none, "compositeRequest": subrequests });
        let request = self
            .request(
                Method::POST,
                Target::Versioned("composite".into()),
                "composite",
                "composite",
            )
            .json(&body)?;
        let response: CompositeResponse = self.pipeline.execute(&request).await?.json()?;
        Ok(response.composite_response)
    }
}

/// A subrequest URL as Salesforce wants it: a full `/services/...` path.
fn expand_url(api_version: &str, url: &str) -> String {
    if url.starts_with("/services/") {
        url.to_owned()
    } else {
        format!(
            "/services/data/v{api_version}/{}",
            url.trim_start_matches('/')
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_urls_are_expanded_with_the_api_version() {
        assert_eq!(
            expand_url("62.0", "sobjects/Account"),
            "/services/data/v62.0/sobjects/Account"
        );
        assert_eq!(
            expand_url("62.0", "/sobjects/Account"),
            "/services/data/v62.0/sobjects/Account"
        );
        assert_eq!(
            expand_url("62.0", "/services/data/v59.0/limits"),
            "/services/data/v59.0/limits"
        );
    }

    #[test]
    fn subrequests_serialize_in_salesforce_shape() {
        let s = Subrequest::new("post", "sobjects/Account", "acct")
            .body(serde_json::json!({"Name": "x"}));
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"method": "POST", "url": "sobjects/Account", "referenceId": "acct", "body": {"Name": "x"}})
        );
        let bare = serde_json::to_value(Subrequest::new("GET", "limits", "l")).unwrap();
        assert!(bare.get("body").is_none());
    }
}
