//! sObject Tree (`POST /composite/tree/{Type}`): create up to 200 records of nested
//! parent/child trees in one all-or-nothing call, children listed under their parent's
//! child relationship name (`"Contacts": {"records": [...]}` under an Account).
//!
//! Records are created parents first, each child getting its parent's new id in the lookup
//! behind the relationship. Success is 201 `{"hasErrors": false, "results": [{referenceId,
//! id}]}` in request order; any record error rolls the whole call back and answers 400
//! `{"hasErrors": true, "results": [{referenceId, errors}]}` naming only the failing
//! records. Structural problems (no `referenceId`, a duplicate one, a root of another type,
//! more than 200 records or 5 levels) are a plain 400 error list.

use super::call::{Call, Reply};
use super::sobjects::object;
use super::txn::{lock_error, Txn};
use crate::error::ApiError;
use crate::schema::{FieldDef, ObjectDef, Schema};
use crate::state::Org;
use crate::store::WriteMode;
use crate::values::FieldError;
use axum::http::StatusCode;
use serde_json::{json, Map, Value};
use std::collections::HashSet;

/// Most records in one call, across all trees.
const MAX_RECORDS: usize = 200;
/// Deepest nesting (a root is level 1).
const MAX_DEPTH: usize = 5;

/// One record of the flattened trees, parents before their children.
struct Node<'o> {
    object: &'o ObjectDef,
    reference_id: String,
    fields: Map<String, Value>,
    /// The parent node and the child's lookup field that points at it.
    parent: Option<(usize, &'o FieldDef)>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "INVALID_INPUT", message)
}

/// Flattens the trees and checks their structure.
struct Flattener<'o> {
    schema: &'o Schema,
    nodes: Vec<Node<'o>>,
    seen: HashSet<String>,
}

impl<'o> Flattener<'o> {
    fn records(value: Option<&Value>) -> Result<&Vec<Value>, ApiError> {
        value
            .and_then(|v| v.get("records"))
            .and_then(Value::as_array)
            .ok_or_else(|| {
                ApiError::json_parse("a tree level must be an object with a \"records\" array")
            })
    }

    fn add(
        &mut self,
        object: &'o ObjectDef,
        record: &Value,
        parent: Option<(usize, &'o FieldDef)>,
        depth: usize,
    ) -> Result<(), ApiError> {
        if depth > MAX_DEPTH {
            return Err(invalid(format!(
                "sObject trees can be at most {MAX_DEPTH} levels deep"
            )));
        }
        if self.nodes.len() == MAX_RECORDS {
            return Err(invalid(format!(
                "an sObject Tree request can create at most {MAX_RECORDS} records"
            )));
        }
        let record = record
            .as_object()
            .ok_or_else(|| ApiError::json_parse("every record must be a JSON object"))?;
        let attributes = record.get("attributes");
        let type_name = attributes
            .and_then(|a| a.get("type"))
            .and_then(Value::as_str);
        if !type_name.is_some_and(|t| t.eq_ignore_ascii_case(&object.name)) {
            return Err(invalid(format!(
                "every record at this level must have attributes.type {}",
                object.name
            )));
        }
        let reference_id = attributes
            .and_then(|a| a.get("referenceId"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        if reference_id.is_empty() || !self.seen.insert(reference_id.to_string()) {
            return Err(invalid(format!("every record needs a unique attributes.referenceId; '{reference_id}' is missing or repeated")));
        }
        let mut fields = Map::new();
        let mut children = Vec::new();
        for (key, value) in record {
            match (
                object.field(key),
                self.schema.child_relationship(&object.name, key),
            ) {
                (None, Some(relationship)) if key != "attributes" => {
                    children.push((relationship, value))
                }
                _ => {
                    fields.insert(key.clone(), value.clone());
                }
            }
        }
        let index = self.nodes.len();
        self.nodes.push(Node {
            object,
            reference_id: reference_id.to_string(),
            fields,
            parent,
        });
        for ((child, lookup), value) in children {
            for record in Self::records(Some(value))? {
                self.add(child, record, Some((index, lookup)), depth + 1)?;
            }
        }
        Ok(())
    }
}

/// Creates one node (its parent already created) and returns its id.
async fn create(
    txn: &mut Txn<'_>,
    node: &Node<'_>,
    parent_id: Option<&str>,
) -> Result<String, FieldError> {
    let org = txn.org();
    let mut changes = org
        .store
        .changes_from_json(node.object, &node.fields, WriteMode::Insert)?;
    if let (Some((_, lookup)), Some(id)) = (node.parent, parent_id) {
        let index = node
            .object
            .field_index(&lookup.name)
            .expect("lookup of this object");
        changes.retain(|(i, _)| *i != index);
        changes.push((index, Value::String(id.to_string())));
    }
    txn.lock(org.store.parents_to_lock(node.object, &changes, None))
        .await
        .map_err(|t| lock_error(&t))?;
    txn.process(1).await;
    txn.insert(node.object, changes)
}

/// `POST /composite/tree/{Type}`.
pub async fn tree(txn: &mut Txn<'_>, call: &Call, type_name: &str) -> Result<Reply, ApiError> {
    let org: &Org = txn.org();
    let root = object(org, type_name)?;
    let body = call.json_object("SObjectTreeRequest")?;
    let mut flat = Flattener {
        schema: org.store.schema(),
        nodes: Vec::new(),
        seen: HashSet::new(),
    };
    for record in Flattener::records(Some(&Value::Object(body)))? {
        flat.add(root, record, None, 1)?;
    }
    let savepoint = txn.savepoint();
    let mut ids: Vec<Option<String>> = Vec::with_capacity(flat.nodes.len());
    let mut errors = Vec::new();
    for node in &flat.nodes {
        let parent_id = node.parent.and_then(|(i, _)| ids[i].clone());
        if node.parent.is_some() && parent_id.is_none() {
            ids.push(None);
            continue;
        }
        match create(txn, node, parent_id.as_deref()).await {
            Ok(id) => ids.push(Some(id)),
            Err(error) => {
                org.stats.count_error(&error.code);
                let detail = json!({"statusCode": error.code, "message": error.message, "fields": error.fields});
                errors.push(json!({"referenceId": node.reference_id, "errors": [detail]}));
                ids.push(None);
            }
        }
    }
    if !errors.is_empty() {
        txn.rollback_to(savepoint);
        return Ok(Reply::json(
            StatusCode::BAD_REQUEST,
            json!({"hasErrors": true, "results": errors}),
        ));
    }
    let results: Vec<Value> = flat
        .nodes
        .iter()
        .zip(&ids)
        .map(|(node, id)| json!({"referenceId": node.reference_id, "id": id}))
        .collect();
    Ok(Reply::json(
        StatusCode::CREATED,
        json!({"hasErrors": false, "results": results}),
    ))
}
