//! One queued write: what callers hand to `enqueue` ([`WriteOp`], a record, a key), checked
//! before it is journaled, and the journaled form the workers send ([`Item`]).
//!
//! Input is validated at `enqueue`, not at send time: a write the queue accepts must be one
//! it can put on the wire (an object name that is an identifier, an `Id` for update and
//! delete, the external id value for upsert). Bad input is refused with `INVALID_INPUT`
//! instead of becoming a dead letter minutes later.

use serde_json::Value;

use crate::error::Error;
use crate::rest::Record;
use crate::soql::validate_identifier;

/// The write to perform.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WriteOp {
    /// Create a record (`POST /composite/sobjects`).
    Insert,
    /// Update the record named by the record's `Id` (`PATCH /composite/sobjects`).
    Update,
    /// Insert or update by the external id field named here
    /// (`PATCH /composite/sobjects/{Type}/{field}`).
    Upsert {
        /// The external id field, e.g. `External_Id__c`.
        external_id: String,
    },
    /// Delete the record named by the record's `Id` (`DELETE /composite/sobjects?ids=`).
    Delete,
}

impl WriteOp {
    /// An upsert by `field`.
    pub fn upsert(field: &str) -> WriteOp {
        WriteOp::Upsert {
            external_id: field.to_owned(),
        }
    }

    /// Parses `insert`, `update`, `upsert` (which needs `external_id`) or `delete`,
    /// case-insensitively (what bindings pass).
    pub fn parse(name: &str, external_id: Option<&str>) -> Result<WriteOp, Error> {
        match (name.to_ascii_lowercase().as_str(), external_id) {
            ("insert", _) => Ok(WriteOp::Insert),
            ("update", _) => Ok(WriteOp::Update),
            ("delete", _) => Ok(WriteOp::Delete),
            ("upsert", Some(field)) => Ok(WriteOp::upsert(field)),
            ("upsert", None) => Err(Error::invalid_input(
                "queue: upsert needs an external id field",
            )),
            _ => Err(Error::invalid_input(format!(
                "queue: unknown operation '{}' (insert, update, upsert, delete)",
                name.escape_debug()
            ))),
        }
    }

    /// The journal's name for the operation.
    pub fn name(&self) -> &'static str {
        match self {
            WriteOp::Insert => "insert",
            WriteOp::Update => "update",
            WriteOp::Upsert { .. } => "upsert",
            WriteOp::Delete => "delete",
        }
    }

    /// The external id field, for upserts.
    pub fn external_id(&self) -> Option<&str> {
        match self {
            WriteOp::Upsert { external_id } => Some(external_id),
            _ => None,
        }
    }

    /// Rebuilds an operation from its journal columns.
    pub(crate) fn from_journal(name: &str, external_id: &str) -> Result<WriteOp, Error> {
        WriteOp::parse(name, (!external_id.is_empty()).then_some(external_id))
    }

    /// The key a write collapses on when the caller gives none: the external id value for
    /// upserts, the `Id` for updates and deletes; inserts have none.
    fn default_key(&self, record: &Record) -> Option<String> {
        let field = match self {
            WriteOp::Insert => return None,
            WriteOp::Upsert { external_id } => external_id.as_str(),
            WriteOp::Update | WriteOp::Delete => "Id",
        };
        record.get(field).and_then(scalar_text)
    }
}

/// A write as journaled and sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Journal sequence number: the ticket.
    pub seq: u64,
    /// The sObject.
    pub object: String,
    /// The operation.
    pub op: WriteOp,
    /// The collapse key, if any.
    pub key: Option<String>,
    /// The fields to write (for delete, at least `Id`).
    pub record: Record,
    /// Sends that did not settle the write so far.
    pub attempts: u32,
    /// Whether the write must be sent alone (its batch was refused as a whole).
    pub solo: bool,
}

/// A validated write about to be journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWrite {
    /// The sObject.
    pub object: String,
    /// The operation.
    pub op: WriteOp,
    /// The collapse key (the caller's, or the operation's default).
    pub key: Option<String>,
    /// The fields.
    pub record: Record,
}

impl NewWrite {
    /// Checks a caller's write; the error says what is missing.
    pub fn new(
        object: &str,
        op: WriteOp,
        record: Record,
        key: Option<&str>,
    ) -> Result<NewWrite, Error> {
        identifier(object, "object")?;
        match &op {
            WriteOp::Upsert { external_id } => {
                identifier(external_id, "external id field")?;
                if record
                    .get(external_id.as_str())
                    .and_then(scalar_text)
                    .is_none_or(|v| v.is_empty())
                {
                    return Err(Error::invalid_input(format!(
                        "queue: an upsert record must carry a value for {external_id}"
                    )));
                }
            }
            WriteOp::Update | WriteOp::Delete => {
                let id = record.get("Id").and_then(Value::as_str).unwrap_or_default();
                if !is_record_id(id) {
                    return Err(Error::invalid_input(format!(
                        "queue: a {} record must carry a 15- or 18-character Id",
                        op.name()
                    )));
                }
            }
            WriteOp::Insert => {
                if record.keys().any(|k| k.eq_ignore_ascii_case("Id")) {
                    return Err(Error::invalid_input(
                        "queue: an insert record must not carry an Id",
                    ));
                }
            }
        }
        // A delete sends only the id (the bulk engine's delete CSV has that one column).
        let record = match op {
            WriteOp::Delete => record.into_iter().filter(|(k, _)| k == "Id").collect(),
            _ => record,
        };
        let key = key.map(str::to_owned).or_else(|| op.default_key(&record));
        Ok(NewWrite {
            object: object.to_owned(),
            op,
            key,
            record,
        })
    }
}

fn identifier(name: &str, what: &str) -> Result<(), Error> {
    if name.contains('.') {
        return Err(Error::invalid_input(format!(
            "queue: '{}' is not an {what} name",
            name.escape_debug()
        )));
    }
    validate_identifier(name)
}

fn is_record_id(id: &str) -> bool {
    matches!(id.len(), 15 | 18) && id.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A scalar JSON value as text (external id values may be numbers).
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(value: Value) -> Record {
        value.as_object().expect("an object").clone()
    }

    #[test]
    fn keys_default_to_the_external_id_or_the_record_id() {
        let w = NewWrite::new(
            "Account",
            WriteOp::upsert("External_Id__c"),
            record(json!({"External_Id__c": 42})),
            None,
        )
        .unwrap();
        assert_eq!(w.key.as_deref(), Some("42"));
        let w = NewWrite::new(
            "Account",
            WriteOp::Update,
            record(json!({"Id": "001000000000001AAA"})),
            None,
        )
        .unwrap();
        assert_eq!(w.key.as_deref(), Some("001000000000001AAA"));
        let w = NewWrite::new(
            "Account",
            WriteOp::Insert,
            record(json!({"Name": "x"})),
            None,
        )
        .unwrap();
        assert_eq!(w.key, None);
        let w = NewWrite::new(
            "Account",
            WriteOp::Insert,
            record(json!({"Name": "x"})),
            Some("evt-1"),
        )
        .unwrap();
        assert_eq!(w.key.as_deref(), Some("evt-1"));
    }

    #[test]
    fn writes_the_queue_could_not_send_are_refused_at_enqueue() {
        let bad = [
            ("Account; DROP", WriteOp::Insert, json!({"Name": "x"})),
            (
                "Account",
                WriteOp::upsert("External_Id__c"),
                json!({"Name": "no key"}),
            ),
            (
                "Account",
                WriteOp::upsert("Bad.Field"),
                json!({"Bad.Field": "1"}),
            ),
            ("Account", WriteOp::Update, json!({"Name": "no id"})),
            ("Account", WriteOp::Delete, json!({"Id": "../../x"})),
            (
                "Account",
                WriteOp::Insert,
                json!({"Id": "001000000000001AAA", "Name": "x"}),
            ),
        ];
        for (object, op, value) in bad {
            let err = NewWrite::new(object, op.clone(), record(value.clone()), None)
                .expect_err("refused");
            assert_eq!(err.code(), "INVALID_INPUT", "{object} {op:?} {value}");
        }
    }

    #[test]
    fn operations_round_trip_through_their_journal_names() {
        for op in [
            WriteOp::Insert,
            WriteOp::Update,
            WriteOp::Delete,
            WriteOp::upsert("Ext__c"),
        ] {
            let back = WriteOp::from_journal(op.name(), op.external_id().unwrap_or("")).unwrap();
            assert_eq!(back, op);
        }
        assert_eq!(
            WriteOp::parse("UPSERT", Some("E__c")).unwrap(),
            WriteOp::upsert("E__c")
        );
        assert!(WriteOp::parse("upsert", None).is_err());
        assert!(WriteOp::parse("merge", None).is_err());
    }
}
