//! Which column to group rows by when the caller names none: inferred from describe.
//!
//! Salesforce locks every record a written row references through a lookup or master-detail
//! field, so rows sharing a parent contend when written in parallel. This file picks that
//! parent column from the object's describe (`type: reference`, `referenceTo`,
//! `relationshipName`, `cascadeDelete`/`relationshipOrder`) and the upload's columns; the rule
//! is on [`infer_group_by`]. Rejected alternative: a hard-coded table of standard objects
//! (Contact → AccountId, ...): it misses custom master-detail objects, where contention is
//! worst because of roll-up summaries.

use serde_json::Value;

/// Picks the parent column from an object's describe when the caller gave none.
///
/// The rule, from Salesforce's record-locking behaviour (a write locks every record its
/// lookup and master-detail fields reference): among the reference fields present in the
/// upload — as an id column (`AccountId`) or a relationship column (`Account.External_Id__c`) —
/// skip the audit and ownership ones (`OwnerId`, `CreatedById`, `LastModifiedById`,
/// `RecordTypeId`, or fields that reference only users, groups or record types), then prefer:
/// 1. a master-detail field (`cascadeDelete: true`, or a `relationshipOrder`);
/// 2. a lookup to Account, Opportunity, Case or Contact (the parents Salesforce's locking
///    cheat sheet names, e.g. `Contact.AccountId`);
/// 3. any other lookup.
///
/// Ties go to the column that comes first. Returns the column and the reason.
pub fn infer_group_by(describe: &Value, columns: &[String]) -> Option<(String, String)> {
    let fields = describe.get("fields")?.as_array()?;
    let mut best: Option<(u8, usize, String, String)> = None;
    for field in fields {
        let Some((rank, column_index, column, reason)) = candidate(field, columns) else {
            continue;
        };
        if best
            .as_ref()
            .is_none_or(|b| (rank, column_index) < (b.0, b.1))
        {
            best = Some((rank, column_index, column, reason));
        }
    }
    best.map(|(_, _, column, reason)| (column, reason))
}

fn candidate(field: &Value, columns: &[String]) -> Option<(u8, usize, String, String)> {
    if field.get("type")?.as_str()? != "reference" {
        return None;
    }
    let name = field.get("name")?.as_str()?;
    let targets: Vec<&str> = field
        .get("referenceTo")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let audit = ["OwnerId", "CreatedById", "LastModifiedById", "RecordTypeId"].contains(&name);
    if audit
        || targets.is_empty()
        || targets
            .iter()
            .all(|t| ["User", "Group", "RecordType", "Profile"].contains(t))
    {
        return None;
    }
    let relationship = field.get("relationshipName").and_then(Value::as_str);
    let (index, column) = columns.iter().enumerate().find(|(_, c)| {
        c.eq_ignore_ascii_case(name)
            || relationship.is_some_and(|r| {
                c.len() > r.len()
                    && c[..r.len()].eq_ignore_ascii_case(r)
                    && c.as_bytes()[r.len()] == b'.'
            })
    })?;
    let master_detail = field.get("cascadeDelete").and_then(Value::as_bool) == Some(true)
        || field.get("relationshipOrder").is_some_and(|v| !v.is_null());
    let locking_parent = targets
        .iter()
        .any(|t| ["Account", "Opportunity", "Case", "Contact"].contains(t));
    let (rank, why) = match (master_detail, locking_parent) {
        (true, _) => (0, "a master-detail field: writes lock the master"),
        (false, true) => (1, "a lookup whose parent Salesforce locks on child writes"),
        _ => (2, "a lookup: writes lock the referenced record"),
    };
    Some((
        rank,
        index,
        column.clone(),
        format!("{column} ({name} → {}) is {why}", targets.join("/")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn group_by_is_inferred_from_describe() {
        let describe = json!({"fields": [
            {"name": "OwnerId", "type": "reference", "referenceTo": ["User"], "relationshipName": "Owner"},
            {"name": "ReportsToId", "type": "reference", "referenceTo": ["Contact"], "relationshipName": "ReportsTo"},
            {"name": "AccountId", "type": "reference", "referenceTo": ["Account"], "relationshipName": "Account", "cascadeDelete": false},
            {"name": "LastName", "type": "string"}
        ]});
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (column, reason) =
            infer_group_by(&describe, &cols(&["LastName", "OwnerId", "AccountId"])).unwrap();
        assert_eq!(column, "AccountId");
        assert!(reason.contains("Account"), "{reason}");
        let (column, _) =
            infer_group_by(&describe, &cols(&["LastName", "Account.External_Id__c"])).unwrap();
        assert_eq!(column, "Account.External_Id__c");
        assert!(infer_group_by(&describe, &cols(&["LastName", "OwnerId"])).is_none());
        let md = json!({"fields": [
            {"name": "Other__c", "type": "reference", "referenceTo": ["Thing__c"], "relationshipName": "Other__r"},
            {"name": "Master__c", "type": "reference", "referenceTo": ["Box__c"], "relationshipName": "Master__r", "cascadeDelete": true}
        ]});
        assert_eq!(
            infer_group_by(&md, &cols(&["Other__c", "Master__c"]))
                .unwrap()
                .0,
            "Master__c"
        );
    }
}
