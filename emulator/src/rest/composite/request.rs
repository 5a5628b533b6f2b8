//! Reading a Composite or Composite Batch body: subrequests, their methods, headers and
//! reference ids, and the limits (25 subrequests, at most 5 queries or Collections).

use crate::error::ApiError;
use crate::rest::call::Call;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde_json::{Map, Value};

/// Most subrequests per request.
pub(super) const MAX_SUBREQUESTS: usize = 25;
/// Most query or sObject Collections subrequests per Composite request.
const MAX_QUERY_OR_COLLECTION: usize = 5;

/// One subrequest as the client sent it.
pub(super) struct Subrequest {
    pub(super) method: Method,
    pub(super) url: String,
    pub(super) reference_id: String,
    pub(super) body: Option<Value>,
    pub(super) headers: HeaderMap,
}

pub(super) fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

pub(super) fn parse_method(text: &str) -> Result<Method, ApiError> {
    match text.to_ascii_uppercase().as_str() {
        "GET" => Ok(Method::GET),
        "POST" => Ok(Method::POST),
        "PATCH" => Ok(Method::PATCH),
        "PUT" => Ok(Method::PUT),
        "DELETE" => Ok(Method::DELETE),
        "HEAD" => Ok(Method::GET),
        other => Err(bad_request(
            "INVALID_INPUT",
            format!("Unsupported HTTP method in subrequest: {other}"),
        )),
    }
}

/// Headers a subrequest sets (`Sforce-Query-Options`, `If-Modified-Since`, ...).
pub(super) fn sub_headers(value: Option<&Value>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in value.and_then(Value::as_object).into_iter().flatten() {
        let text = value
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| value.to_string());
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(&text),
        ) {
            headers.insert(name, value);
        }
    }
    headers
}

pub(super) fn text_field<'a>(item: &'a Map<String, Value>, key: &str) -> Result<&'a str, ApiError> {
    item.get(key).and_then(Value::as_str).ok_or_else(|| {
        bad_request(
            "JSON_PARSER_ERROR",
            format!("Every subrequest needs a string \"{key}\""),
        )
    })
}

/// Subrequests of a body's `key` array, at most 25.
pub(super) fn items<'a>(
    body: &'a Map<String, Value>,
    key: &str,
) -> Result<Vec<&'a Map<String, Value>>, ApiError> {
    let list = body.get(key).and_then(Value::as_array).ok_or_else(|| {
        bad_request(
            "JSON_PARSER_ERROR",
            format!("The body must carry a \"{key}\" array"),
        )
    })?;
    if list.is_empty() {
        return Err(bad_request(
            "INVALID_INPUT",
            format!("\"{key}\" must name at least one subrequest"),
        ));
    }
    if list.len() > MAX_SUBREQUESTS {
        return Err(bad_request("LIMIT_EXCEEDED", format!("A composite request can carry at most {MAX_SUBREQUESTS} subrequests; this one has {}", list.len())));
    }
    list.iter()
        .map(|v| {
            v.as_object().ok_or_else(|| {
                bad_request(
                    "JSON_PARSER_ERROR",
                    "Every subrequest must be a JSON object",
                )
            })
        })
        .collect()
}

pub(super) fn flag(body: &Map<String, Value>, key: &str) -> bool {
    body.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn is_query_or_collection(url: &str) -> bool {
    let path = url.split('?').next().unwrap_or_default();
    let after_version = path.splitn(5, '/').nth(4).unwrap_or_default();
    ["query", "queryAll", "composite/sobjects"]
        .iter()
        .any(|p| after_version == *p || after_version.starts_with(&format!("{p}/")))
}

pub(super) fn parse_composite(call: &Call) -> Result<(bool, Vec<Subrequest>), ApiError> {
    let body = call.json_object("CompositeRequest")?;
    let mut seen = std::collections::HashSet::new();
    let mut subs = Vec::new();
    for item in items(&body, "compositeRequest")? {
        let reference_id = text_field(item, "referenceId")?.to_string();
        if reference_id.is_empty()
            || !reference_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(bad_request(
                "INVALID_INPUT",
                format!(
                    "Invalid referenceId '{reference_id}': use letters, digits and underscores"
                ),
            ));
        }
        if !seen.insert(reference_id.clone()) {
            return Err(bad_request(
                "INVALID_INPUT",
                format!("Duplicate ReferenceId provided in the request: {reference_id}"),
            ));
        }
        subs.push(Subrequest {
            method: parse_method(text_field(item, "method")?)?,
            url: text_field(item, "url")?.to_string(),
            reference_id,
            body: item.get("body").cloned(),
            headers: sub_headers(item.get("httpHeaders")),
        });
    }
    if subs
        .iter()
        .filter(|s| is_query_or_collection(&s.url))
        .count()
        > MAX_QUERY_OR_COLLECTION
    {
        return Err(bad_request(
            "LIMIT_EXCEEDED",
            format!("A composite request can carry at most {MAX_QUERY_OR_COLLECTION} query or sObject Collections subrequests"),
        ));
    }
    Ok((flag(&body, "allOrNone"), subs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_collection_urls_are_recognised_for_the_five_limit() {
        assert!(is_query_or_collection("/services/data/v62.0/query?q=x"));
        assert!(is_query_or_collection(
            "/services/data/v62.0/composite/sobjects"
        ));
        assert!(!is_query_or_collection(
            "/services/data/v62.0/sobjects/Account"
        ));
    }
}
