//! Running subrequests: in one transaction (all or none) or each on its own, the
//! PROCESSING_HALTED answers, and Composite Batch's independent items.

use super::references::{as_text, substitute, substitute_value};
use super::request::{
    bad_request, flag, items, parse_composite, parse_method, sub_headers, text_field,
};
use crate::error::{error_json, ApiError};
use crate::rest::call::{Body, Call, Reply};
use crate::rest::dispatch::resource;
use crate::rest::txn::Txn;
use crate::state::Org;
use crate::values::FieldError;
use axum::http::{HeaderMap, Method, StatusCode};
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::HashMap;

/// What one subrequest answered.
struct Answer {
    status: StatusCode,
    headers: Value,
    body: Value,
}

impl Answer {
    fn from_result(result: Result<Reply, ApiError>) -> Answer {
        match result {
            Ok(reply) => Answer {
                status: reply.status,
                headers: reply.headers_json(),
                body: reply.body.unwrap_or(Value::Null),
            },
            Err(error) => Answer::error(error.status, &error.errors),
        }
    }

    fn error(status: StatusCode, errors: &[FieldError]) -> Answer {
        Answer {
            status,
            headers: json!({}),
            body: errors.iter().map(error_json).collect(),
        }
    }

    fn failed(&self) -> bool {
        self.status.as_u16() >= 400
    }

    /// Counts the codes in an error body (the enclosing call itself answers 200).
    fn count_errors(&self, org: &Org) {
        if !self.failed() {
            return;
        }
        for code in self
            .body
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["errorCode"].as_str())
        {
            org.stats.count_error(code);
        }
    }
}

fn halted(message: &str) -> Answer {
    Answer::error(
        StatusCode::BAD_REQUEST,
        &[FieldError::new("PROCESSING_HALTED", message, &[])],
    )
}

const ROLLED_BACK: &str =
    "The transaction was rolled back since another operation in the same transaction failed.";

fn body_of(value: Option<Value>) -> Body {
    value.map(Body::Json).unwrap_or(Body::Raw(Bytes::new()))
}

/// Runs one subrequest in `txn`. Composite and batch subrequests cannot nest.
async fn run_sub(
    txn: &mut Txn<'_>,
    method: Method,
    target: &str,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let call = match Call::from_target(method, target, headers, body) {
        Ok(call) => call,
        Err(error) => return Answer::from_result(Err(error)),
    };
    if call.path.first().is_some_and(|p| p == "composite")
        && call.path.get(1).is_none_or(|p| p == "batch")
    {
        return Answer::from_result(Err(bad_request(
            "INVALID_INPUT",
            "Composite requests cannot contain composite or batch subrequests",
        )));
    }
    Answer::from_result(resource(txn, &call).await)
}

/// Runs a subrequest in a transaction of its own that commits when it succeeds.
async fn run_alone(
    org: &Org,
    method: Method,
    target: &str,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let mut txn = Txn::new(org);
    let answer = run_sub(&mut txn, method, target, headers, body).await;
    if !answer.failed() {
        txn.commit();
    }
    answer
}

/// `POST /composite`.
pub async fn composite(txn: &mut Txn<'_>, call: &Call) -> Result<Reply, ApiError> {
    let org = txn.org();
    let (all_or_none, subs) = parse_composite(call)?;
    let savepoint = txn.savepoint();
    let mut results: HashMap<String, Value> = HashMap::new();
    let mut answers: Vec<Answer> = Vec::with_capacity(subs.len());
    let mut culprit = None;
    for sub in &subs {
        if all_or_none && culprit.is_some() {
            break;
        }
        let resolved = substitute(&sub.url, &results)
            .map(|u| as_text(&u))
            .and_then(|url| {
                let body = sub
                    .body
                    .as_ref()
                    .map(|b| substitute_value(b, &results))
                    .transpose()?;
                Ok((url, body))
            });
        let answer = match resolved {
            Err(message) => halted(&message),
            Ok((url, body)) if all_or_none => {
                run_sub(
                    txn,
                    sub.method.clone(),
                    &url,
                    sub.headers.clone(),
                    body_of(body),
                )
                .await
            }
            Ok((url, body)) => {
                run_alone(
                    org,
                    sub.method.clone(),
                    &url,
                    sub.headers.clone(),
                    body_of(body),
                )
                .await
            }
        };
        if answer.failed() {
            culprit.get_or_insert(answers.len());
        } else {
            results.insert(sub.reference_id.clone(), answer.body.clone());
        }
        answers.push(answer);
    }
    if let (true, Some(culprit)) = (all_or_none, culprit) {
        txn.rollback_to(savepoint);
        let failure = answers.remove(culprit);
        answers = subs.iter().map(|_| halted(ROLLED_BACK)).collect();
        answers[culprit] = failure;
    }
    let entries: Vec<Value> = subs
        .iter()
        .zip(&answers)
        .map(|(sub, answer)| {
            answer.count_errors(org);
            json!({
                "body": answer.body,
                "httpHeaders": answer.headers,
                "httpStatusCode": answer.status.as_u16(),
                "referenceId": sub.reference_id,
            })
        })
        .collect();
    Ok(Reply::ok(json!({"compositeResponse": entries})))
}

/// `POST /composite/batch`.
pub async fn batch(org: &Org, call: &Call) -> Result<Reply, ApiError> {
    let body = call.json_object("BatchRequest")?;
    let halt_on_error = flag(&body, "haltOnError");
    let mut halted_after_error = false;
    let mut results = Vec::new();
    let mut has_errors = false;
    for item in items(&body, "batchRequests")? {
        let method = parse_method(text_field(item, "method")?)?;
        let url = text_field(item, "url")?;
        let answer = if halted_after_error {
            let error = FieldError::new(
                "BATCH_PROCESSING_HALTED",
                "Batch processing halted per request",
                &[],
            );
            Answer::error(StatusCode::PRECONDITION_FAILED, &[error])
        } else {
            let target = match url.strip_prefix('/') {
                Some(full) if full.starts_with("services/data/") => url.to_string(),
                _ => format!("/services/data/{}", url.trim_start_matches('/')),
            };
            run_alone(
                org,
                method,
                &target,
                sub_headers(item.get("httpHeaders")),
                body_of(item.get("richInput").cloned()),
            )
            .await
        };
        if answer.failed() {
            has_errors = true;
            halted_after_error |= halt_on_error;
            answer.count_errors(org);
        }
        results.push(json!({"statusCode": answer.status.as_u16(), "result": answer.body}));
    }
    Ok(Reply::ok(
        json!({"hasErrors": has_errors, "results": results}),
    ))
}
