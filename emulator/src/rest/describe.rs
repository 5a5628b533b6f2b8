//! Describe: the global object list (`GET /sobjects/`), an object's basic information
//! (`GET /sobjects/{Type}`) and its full metadata (`GET /sobjects/{Type}/describe`), in
//! the shapes of wire doc 2.6, built from the org's [`Schema`](crate::schema::Schema).
//!
//! The schema is fixed once the emulator starts, so describes carry a `Last-Modified` of
//! the process start and answer `If-Modified-Since` at or after it with 304: clients that
//! cache describe (sfscale's own cache does) can be tested against real revalidation.
//! Flags the schema does not model (searchable, layoutable, ...) take the values a
//! standard object has in a real org.

use super::call::{Call, Reply};
use super::sobjects::object;
use crate::error::ApiError;
use crate::schema::{child_relationship_name, FieldDef, FieldType, ObjectDef, Schema};
use crate::state::Org;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::sync::OnceLock;

/// When the schema was fixed: the first describe of this process, truncated to seconds
/// (HTTP dates have no fractions).
fn schema_time() -> DateTime<Utc> {
    static STARTED: OnceLock<DateTime<Utc>> = OnceLock::new();
    *STARTED.get_or_init(|| DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or_default())
}

fn http_date(time: &DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// 304 when the client's copy is current, else `reply` with `Last-Modified`.
fn conditional(call: &Call, reply: impl FnOnce() -> Reply) -> Reply {
    let modified = schema_time();
    let fresh = call
        .header("if-modified-since")
        .and_then(|since| DateTime::parse_from_rfc2822(since).ok())
        .is_some_and(|since| since.with_timezone(&Utc) >= modified);
    let reply = if fresh {
        Reply::empty(StatusCode::NOT_MODIFIED)
    } else {
        reply()
    };
    reply.with_header("Last-Modified", http_date(&modified))
}

fn urls(object: &ObjectDef, version: &str) -> Value {
    let base = format!("/services/data/v{version}/sobjects/{}", object.name);
    json!({
        "sobject": base,
        "describe": format!("{base}/describe"),
        "rowTemplate": format!("{base}/{{ID}}"),
    })
}

/// The summary every describe shape starts with.
fn summary(object: &ObjectDef, version: &str) -> Value {
    let standard = |names: &[&str]| !object.custom && names.contains(&object.name.as_str());
    let system_user = object.name == "User";
    json!({
        "name": object.name,
        "label": object.label,
        "labelPlural": object.label_plural,
        "keyPrefix": object.key_prefix,
        "custom": object.custom,
        "createable": true,
        "updateable": true,
        "deletable": !system_user,
        "queryable": true,
        "retrieveable": true,
        "searchable": true,
        "triggerable": true,
        "undeletable": !system_user,
        "layoutable": true,
        "replicateable": true,
        "mergeable": standard(&["Account", "Contact", "Lead", "Case"]),
        "feedEnabled": standard(&["Account", "Contact", "Opportunity", "Lead", "Case", "User"]),
        "activateable": false,
        "customSetting": false,
        "deprecatedAndHidden": false,
        "mruEnabled": true,
        "deepCloneable": false,
        "hasSubtypes": false,
        "isInterface": false,
        "isSubtype": false,
        "associateEntityType": null,
        "associateParentEntity": null,
        "urls": urls(object, version),
    })
}

/// `GET /sobjects/`.
pub fn global(org: &Org, call: &Call) -> Reply {
    conditional(call, || {
        let sobjects: Vec<Value> = org
            .store
            .schema()
            .objects
            .iter()
            .map(|o| summary(o, &call.version))
            .collect();
        Reply::ok(json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects}))
    })
}

/// `GET /sobjects/{Type}`.
pub fn basic(org: &Org, call: &Call, type_name: &str) -> Result<Reply, ApiError> {
    let object = object(org, type_name)?;
    Ok(Reply::ok(
        json!({"objectDescribe": summary(object, &call.version), "recentItems": []}),
    ))
}

/// `GET /sobjects/{Type}/describe`.
pub fn full(org: &Org, call: &Call, type_name: &str) -> Result<Reply, ApiError> {
    let object = object(org, type_name)?;
    let schema = org.store.schema();
    Ok(conditional(call, || {
        let mut body = summary(object, &call.version);
        body["fields"] = object.fields.iter().map(|f| field(object, f)).collect();
        body["childRelationships"] = child_relationships(schema, object);
        body["recordTypeInfos"] = json!([master_record_type(object, &call.version)]);
        body["namedLayoutInfos"] = json!([]);
        body["supportedScopes"] = json!([{"label": "All", "name": "everything"}]);
        for flag in [
            "compactLayoutable",
            "listviewable",
            "lookupLayoutable",
            "searchLayoutable",
        ] {
            body[flag] = json!(true);
        }
        body["actionOverrides"] = json!([]);
        body["networkScopeFieldName"] = Value::Null;
        body["sobjectDescribeOption"] = json!("FULL");
        Reply::ok(body)
    }))
}

/// SOAP type, byte length, precision, scale, digits of a field type.
fn type_facts(field: &FieldDef) -> (&'static str, u32, u32, u32, u32) {
    use FieldType::*;
    match field.field_type {
        Id | Reference => ("tns:ID", field.length, 0, 0, 0),
        Boolean => ("xsd:boolean", 0, 0, 0, 0),
        Int => ("xsd:int", 0, 0, 0, 9),
        Double => ("xsd:double", 0, 18, 0, 0),
        Currency => ("xsd:double", 0, 18, 2, 0),
        Percent => ("xsd:double", 0, 3, 0, 0),
        Date => ("xsd:date", 0, 0, 0, 0),
        Datetime => ("xsd:dateTime", 0, 0, 0, 0),
        String | Textarea | Email | Phone | Url | Picklist => {
            ("xsd:string", field.length.saturating_mul(3), 0, 0, 0)
        }
    }
}

fn field(object: &ObjectDef, f: &FieldDef) -> Value {
    let (soap_type, byte_length, precision, scale, digits) = type_facts(f);
    let default = f.default_value.as_ref().and_then(Value::as_str);
    let picklist: Vec<Value> = f
        .picklist_values
        .iter()
        .map(|v| json!({"active": true, "defaultValue": default == Some(v.as_str()), "label": v, "validFor": null, "value": v}))
        .collect();
    json!({
        "name": f.name,
        "label": f.label,
        "type": f.field_type.describe_name(),
        "soapType": soap_type,
        "length": if f.field_type.is_text() { f.length } else { 0 },
        "byteLength": byte_length,
        "precision": precision,
        "scale": scale,
        "digits": digits,
        "nillable": f.nillable,
        "createable": f.createable,
        "updateable": f.updateable,
        "defaultedOnCreate": f.defaulted_on_create,
        "defaultValue": f.default_value.clone().filter(|_| f.field_type == FieldType::Boolean),
        "defaultValueFormula": null,
        "externalId": f.external_id,
        "idLookup": f.id_lookup,
        "unique": f.unique,
        "caseSensitive": false,
        "custom": f.name.ends_with("__c"),
        "calculated": !f.createable && !f.updateable && !f.defaulted_on_create,
        "autoNumber": object.name == "Case" && f.name == "CaseNumber",
        "nameField": f.name == "Name",
        "filterable": f.field_type != FieldType::Textarea,
        "sortable": f.field_type != FieldType::Textarea,
        "groupable": !matches!(f.field_type, FieldType::Textarea | FieldType::Double | FieldType::Currency | FieldType::Percent | FieldType::Datetime),
        "aggregatable": f.field_type != FieldType::Textarea,
        "referenceTo": f.reference_to,
        "relationshipName": f.relationship_name,
        "relationshipOrder": null,
        "cascadeDelete": false,
        "restrictedDelete": false,
        "writeRequiresMasterRead": false,
        "picklistValues": picklist,
        "restrictedPicklist": false,
        "dependentPicklist": false,
        "controllerName": null,
        "htmlFormatted": false,
        "deprecatedAndHidden": false,
        "permissionable": f.nillable && f.createable,
    })
}

fn child_relationships(schema: &Schema, parent: &ObjectDef) -> Value {
    schema
        .children_of(&parent.name)
        .map(|(child, lookup)| {
            json!({
                "childSObject": child.name,
                "field": lookup.name,
                "relationshipName": child_relationship_name(child, lookup),
                "cascadeDelete": lookup.locks_parent && lookup.name.ends_with("__c"),
                "restrictedDelete": false,
                "deprecatedAndHidden": false,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
            })
        })
        .collect()
}

fn master_record_type(object: &ObjectDef, version: &str) -> Value {
    let id = "012000000000000AAA";
    json!({
        "active": true,
        "available": true,
        "defaultRecordTypeMapping": true,
        "developerName": "Master",
        "master": true,
        "name": "Master",
        "recordTypeId": id,
        "urls": {"layout": format!("/services/data/v{version}/sobjects/{}/describe/layouts/{id}", object.name)},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_relationship_names_read_like_a_real_org() {
        let schema = Schema::build(&[], &crate::schema::default_custom_fields()).unwrap();
        let account = schema.object("Account").unwrap();
        let names: Vec<_> = child_relationships(&schema, account)
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["relationshipName"].as_str().map(str::to_string))
            .collect();
        for expected in ["ChildAccounts", "Contacts", "Opportunities", "Cases"] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
    }

    #[test]
    fn http_dates_round_trip_through_if_modified_since_parsing() {
        let t = schema_time();
        let parsed = DateTime::parse_from_rfc2822(&http_date(&t)).unwrap();
        assert_eq!(parsed.with_timezone(&Utc), t);
    }
}
