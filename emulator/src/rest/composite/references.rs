//! `@{refId.path}` references: a later subrequest names a value of an earlier successful
//! answer (`@{newAccount.id}`, `@{contacts.records[0].Id}`) in its url or body.

use serde_json::Value;
use std::collections::HashMap;

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

pub(super) fn as_text(value: &Value) -> String {
    value
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| value.to_string())
}

/// Replaces every `@{...}` in `text`; a text that is exactly one reference becomes the
/// referenced value itself (so numbers and booleans keep their type).
pub(super) fn substitute(text: &str, results: &HashMap<String, Value>) -> Result<Value, String> {
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

pub(super) fn substitute_value(
    value: &Value,
    results: &HashMap<String, Value>,
) -> Result<Value, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
