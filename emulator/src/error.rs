//! REST error responses in Salesforce's shape: a JSON array of
//! `{"message", "errorCode", "fields"}` even for one error (wire doc 2.9).
//!
//! Handlers return `Result<_, ApiError>`; every error the emulator sends on the data APIs
//! goes through here so the body shape and the `errors_by_code` counter never drift apart
//! (the counting happens in the middleware, which reads the code from the
//! `x-emulator-error-code` response header this type sets).

use crate::values::FieldError;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Header carrying the first error code, read (and removed) by the counting middleware.
pub const ERROR_CODE_HEADER: &str = "x-emulator-error-code";

/// One or more errors with the HTTP status to send them with.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub errors: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            errors: vec![FieldError::new(code, message, &[])],
        }
    }

    /// 400 with a field-level error.
    pub fn bad_request(error: FieldError) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            errors: vec![error],
        }
    }

    /// 404 `NOT_FOUND`.
    pub fn not_found() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        )
    }

    /// 400 `JSON_PARSER_ERROR` for a body that is not the JSON expected.
    pub fn json_parse(detail: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "JSON_PARSER_ERROR",
            format!("The request body is not valid JSON: {detail}"),
        )
    }

    /// 401 `INVALID_SESSION_ID`.
    pub fn invalid_session() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        )
    }

    /// 503 `SERVER_UNAVAILABLE`.
    pub fn unavailable() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVER_UNAVAILABLE",
            "Server too busy. Please try again later.",
        )
    }

    /// The code of the first error.
    pub fn code(&self) -> &str {
        self.errors
            .first()
            .map(|e| e.code.as_str())
            .unwrap_or("UNKNOWN")
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        let status = match error.code.as_str() {
            "NOT_FOUND" => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError {
            status,
            errors: vec![error],
        }
    }
}

/// The JSON shape of one error in a REST error list.
pub fn error_json(error: &FieldError) -> serde_json::Value {
    json!({"message": error.message, "errorCode": error.code, "fields": error.fields})
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body: Vec<_> = self.errors.iter().map(error_json).collect();
        let mut response = (self.status, Json(body)).into_response();
        if let Ok(code) = HeaderValue::from_str(self.code()) {
            response.headers_mut().insert(ERROR_CODE_HEADER, code);
        }
        response
    }
}
