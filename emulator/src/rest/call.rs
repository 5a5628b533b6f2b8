//! One REST call, whatever carried it: an HTTP request, a Composite subrequest or a
//! Composite Batch item. Every resource handler takes a [`Call`] and answers a [`Reply`],
//! so the route table in `dispatch.rs` serves HTTP and composite alike and a subrequest is
//! answered by exactly the code that answers the same request over the network.
//!
//! Bodies stay raw until a handler asks for them: GET and DELETE never parse, and a
//! malformed body is reported as Salesforce does (`JSON_PARSER_ERROR`), not by a framework
//! rejection.

use crate::error::ApiError;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// The body of a call, parsed only when a handler needs it.
#[derive(Debug, Clone)]
pub enum Body {
    Raw(Bytes),
    Json(Value),
}

/// A REST call below `/services/data/v{version}/`.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    /// API version without the `v` (`62.0`).
    pub version: String,
    /// Percent-decoded path segments after the version (`["sobjects", "Account", "001…"]`).
    pub path: Vec<String>,
    /// Query-string parameters in order (`+` decoded as a space).
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Body,
}

impl Call {
    /// Builds a call from a request path (with or without query string) such as
    /// `/services/data/v62.0/sobjects/Account?fields=Name`.
    pub fn from_target(
        method: Method,
        target: &str,
        headers: HeaderMap,
        body: Body,
    ) -> Result<Call, ApiError> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let rest = path
            .strip_prefix("/services/data/")
            .ok_or_else(ApiError::not_found)?;
        let mut segments = rest.split('/');
        let version = segments
            .next()
            .and_then(crate::state::parse_version)
            .ok_or_else(ApiError::not_found)?;
        let path = segments
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let query = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        Ok(Call {
            method,
            version,
            path,
            query,
            headers,
            body,
        })
    }

    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter read as a boolean (`true`, case-insensitively).
    pub fn flag(&self, name: &str) -> bool {
        self.param(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// A request header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON; an empty or malformed body is `JSON_PARSER_ERROR`.
    pub fn json(&self) -> Result<Value, ApiError> {
        match &self.body {
            Body::Json(value) => Ok(value.clone()),
            Body::Raw(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => {
                Err(ApiError::json_parse("the body is empty"))
            }
            Body::Raw(bytes) => serde_json::from_slice(bytes).map_err(ApiError::json_parse),
        }
    }

    /// The body as a JSON object describing one record or one request.
    pub fn json_object(&self, what: &str) -> Result<Map<String, Value>, ApiError> {
        match self.json()? {
            Value::Object(map) => Ok(map),
            other => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
                format!(
                    "Cannot deserialize instance of {what} from {} value",
                    json_token(&other)
                ),
            )),
        }
    }
}

/// Jackson's name for the token a value starts with (Salesforce's parser messages use them).
pub fn json_token(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "START_OBJECT",
        Value::Array(_) => "START_ARRAY",
        Value::String(_) => "VALUE_STRING",
        Value::Number(_) => "VALUE_NUMBER",
        Value::Bool(_) => "VALUE_BOOLEAN",
        Value::Null => "VALUE_NULL",
    }
}

/// A successful (or 3xx) answer: status, headers and an optional JSON body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    /// Header names in the case Salesforce prints them (composite echoes them in JSON).
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Value>,
}

impl Reply {
    pub fn json(status: StatusCode, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub fn ok(body: Value) -> Reply {
        Reply::json(StatusCode::OK, body)
    }

    /// 204 with no body.
    pub fn no_content() -> Reply {
        Reply::empty(StatusCode::NO_CONTENT)
    }

    /// A status with no body (204, 304).
    pub fn empty(status: StatusCode) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    #[must_use]
    pub fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }

    /// The headers as the JSON object composite puts in `httpHeaders`.
    pub fn headers_json(&self) -> Value {
        Value::Object(
            self.headers
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
                .collect(),
        )
    }
}

/// Content type of every JSON answer, as Salesforce sends it.
const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = match &self.body {
            Some(body) => {
                let mut r = (self.status, body.to_string()).into_response();
                r.headers_mut().insert(
                    axum::http::header::CONTENT_TYPE,
                    HeaderValue::from_static(JSON_CONTENT_TYPE),
                );
                r
            }
            None => self.status.into_response(),
        };
        for (name, value) in self.headers {
            if let (Ok(name), Ok(value)) =
                (HeaderName::try_from(name), HeaderValue::from_str(&value))
            {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(target: &str, body: &str) -> Call {
        Call::from_target(
            Method::GET,
            target,
            HeaderMap::new(),
            Body::Raw(Bytes::from(body.to_string())),
        )
        .unwrap()
    }

    #[test]
    fn targets_split_into_version_decoded_segments_and_parameters() {
        let c = call(
            "/services/data/v62.0/sobjects/Account/Ext__c/a%2Fb?q=SELECT+Id+FROM+Account&x=1",
            "",
        );
        assert_eq!(c.version, "62.0");
        assert_eq!(c.path, ["sobjects", "Account", "Ext__c", "a/b"]);
        assert_eq!(c.param("q"), Some("SELECT Id FROM Account"));
        assert!(Call::from_target(
            Method::GET,
            "/services/data/62/query",
            HeaderMap::new(),
            Body::Json(Value::Null)
        )
        .is_err());
    }

    #[test]
    fn bodies_that_are_not_json_objects_are_parser_errors() {
        assert_eq!(
            call("/services/data/v62.0/x", "{nope")
                .json()
                .unwrap_err()
                .code(),
            "JSON_PARSER_ERROR"
        );
        assert_eq!(
            call("/services/data/v62.0/x", "  ")
                .json()
                .unwrap_err()
                .code(),
            "JSON_PARSER_ERROR"
        );
        let err = call("/services/data/v62.0/x", "[1]")
            .json_object("Account")
            .unwrap_err();
        assert!(err.errors[0].message.contains("START_ARRAY"));
    }
}
