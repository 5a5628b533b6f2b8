//! Composite (`POST /composite`) and Composite Batch (`POST /composite/batch`), wire doc
//! 2.8: up to 25 subrequests in one API call, each answered by the same resource code that
//! answers it over HTTP (dispatched in-process through [`super::dispatch::resource`]).
//!
//! Composite runs subrequests in order and lets later ones use earlier results through
//! `@{refId.field}` / `@{refId.records[0].Id}` references. With `allOrNone: true` the
//! whole request is one transaction: the first failing subrequest rolls back everything,
//! keeps its own error, and every other entry answers 400 `PROCESSING_HALTED`. Without it,
//! each subrequest commits on its own and only subrequests whose references cannot be
//! resolved (because they point at a failed or unknown subrequest) are halted.
//!
//! Composite Batch runs independent subrequests (relative urls `vNN.N/...`, no
//! references, no shared transaction); `haltOnError` answers 412 `BATCH_PROCESSING_HALTED`
//! for every item after the first failure.

use super::call::{Body, Call, Reply};
use super::dispatch::resource;
use super::txn::Txn;
use crate::error::{error_json, ApiError};
use crate::state::Org;
use crate::values::FieldError;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Most subrequests per request.
const MAX_SUBREQUESTS: usize = 25;
/// Most query or sObject Collections subrequests per Composite request.
const MAX_QUERY_OR_COLLECTION: usize = 5;

/// One subrequest as the client sent it.
struct Subrequest {
    method: Method,
    url: String,
    reference_id: String,
    body: Option<Value>,
    headers: HeaderMap,
}

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

fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

fn halted(message: &str) -> Answer {
    Answer::error(
        StatusCode::BAD_REQUEST,
        &[FieldError::new("PROCESSING_HALTED", message, &[])],
    )
}

const ROLLED_BACK: &str =
    "The transaction was rolled back since another operation in the same transaction failed.";

fn parse_method(text: &str) -> Result<Method, ApiError> {
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
fn sub_headers(value: Option<&Value>) -> HeaderMap {
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

fn text_field<'a>(item: &'a Map<String, Value>, key: &str) -> Result<&'a str, ApiError> {
    item.get(key).and_then(Value::as_str).ok_or_else(|| {
        bad_request(
            "JSON_PARSER_ERROR",
            format!("Every subrequest needs a string \"{key}\""),
        )
    })
}

/// Subrequests of a body's `key` array, at most 25.
fn items<'a>(
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

fn flag(body: &Map<String, Value>, key: &str) -> bool {
    body.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn is_query_or_collection(url: &str) -> bool {
    let path = url.split('?').next().unwrap_or_default();
    let after_version = path.splitn(5, '/').nth(4).unwrap_or_default();
    ["query", "queryAll", "composite/sobjects"]
        .iter()
        .any(|p| after_version == *p || after_version.starts_with(&format!("{p}/")))
}

fn parse_composite(call: &Call) -> Result<(bool, Vec<Subrequest>), ApiError> {
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

/// Why a reference could not be resolved.
fn unresolved(reference: &str) -> String {
    let id = reference.split(['.', '[']).next().unwrap_or(reference);
    format!(
        "Invalid reference specified. No value for {reference} found in {id}. Provided referenceId ('{id}') must be a valid reference ID and must be prior to the subrequest being referenced, which must have succeeded."
    )
}

/// The value `refId.a.b[0].c` names among earlier successful results.
fn lookup<'a>(reference: &str, results: &'a HashMap<String, Value>) -> Option<&'a Value> {
    let (id, mut rest) = reference.split_at(reference.find(['.', '[']).unwrap_or(reference.len()));
    let mut value = results.get(id)?;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let (index, tail) = after.split_once(']')?;
            value = value.get(index.parse::<usize>().ok()?)?;
            rest = tail;
        } else {
            let after = rest.strip_prefix('.')?;
            let end = after.find(['.', '[']).unwrap_or(after.len());
            value = value.get(&after[..end])?;
            rest = &after[end..];
        }
    }
    Some(value)
}

fn as_text(value: &Value) -> String {
    value
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| value.to_string())
}

/// Replaces every `@{...}` in `text`; a text that is exactly one reference becomes the
/// referenced value itself (so numbers and booleans keep their type).
fn substitute(text: &str, results: &HashMap<String, Value>) -> Result<Value, String> {
    if let Some(inner) = text
        .strip_prefix("@{")
        .and_then(|t| t.strip_suffix('}'))
        .filter(|i| !i.contains('}'))
    {
        return lookup(inner, results)
            .cloned()
            .ok_or_else(|| unresolved(inner));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let inner = &rest[start + 2..start + len];
        out.push_str(&rest[..start]);
        out.push_str(&as_text(
            lookup(inner, results).ok_or_else(|| unresolved(inner))?,
        ));
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

fn substitute_value(value: &Value, results: &HashMap<String, Value>) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => substitute(s, results)?,
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute_value(v, results))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), substitute_value(v, results)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn results() -> HashMap<String, Value> {
        HashMap::from([
            ("acct".to_string(), json!({"id": "001A", "success": true})),
            (
                "q".to_string(),
                json!({"totalSize": 1, "records": [{"Id": "003B", "Amount": 5}]}),
            ),
        ])
    }

    #[test]
    fn references_resolve_fields_and_array_paths() {
        let r = results();
        assert_eq!(substitute("@{acct.id}", &r).unwrap(), json!("001A"));
        assert_eq!(substitute("@{q.records[0].Amount}", &r).unwrap(), json!(5));
        assert_eq!(
            substitute("/x/@{q.records[0].Id}/y", &r).unwrap(),
            json!("/x/003B/y")
        );
        assert!(substitute("@{acct.nope}", &r)
            .unwrap_err()
            .contains("acct.nope"));
        assert!(substitute("@{missing.id}", &r)
            .unwrap_err()
            .contains("'missing'"));
        let body = substitute_value(
            &json!({"AccountId": "@{acct.id}", "n": [1, "@{q.totalSize}"]}),
            &r,
        )
        .unwrap();
        assert_eq!(body, json!({"AccountId": "001A", "n": [1, 1]}));
    }

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
