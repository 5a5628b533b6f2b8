//! One chunk's rows, from CSV to store: each row becomes a write (insert, update, upsert by
//! external id, delete) plus the rows it locks, or a row error with Salesforce's code; then
//! each write is applied and becomes an [`Outcome`].
//!
//! Rules modelled here: a row with the wrong number of cells fails (`INVALID_ROW`); update
//! and delete need an `Id` (`MISSING_ARGUMENT`); an empty upsert key inserts; two rows of
//! one chunk upserting the same key both fail and a key several records share fails
//! (`DUPLICATE_EXTERNAL_ID`); a write locks its own record (update, delete) and its locking
//! parents (Contact → Account), read from the stored record when the row does not name them.

use super::plan::Operation;
use super::processor::Context;
use super::results::{record_id, Outcome, RecordId};
use crate::ids;
use crate::schema::ObjectDef;
use crate::store::{Changes, UpsertError, Upserted, WriteMode};
use crate::values::{self, FieldError};
use csv::ByteRecord;
use serde_json::Value;
use std::collections::HashMap;

/// One row ready to write.
pub(super) struct Ready {
    pub(super) row: usize,
    pub(super) action: Action,
    pub(super) parents: Vec<String>,
}

pub(super) enum Action {
    Insert(Changes),
    Update(String, Changes),
    Upsert(Value, Changes),
    Delete(String),
}

impl Action {
    pub(super) fn known_id(&self) -> Option<RecordId> {
        match self {
            Action::Update(id, _) | Action::Delete(id) => {
                ids::normalize(id).as_deref().and_then(record_id)
            }
            _ => None,
        }
    }
}

/// A chunk: rows to write and rows that already failed validation.
pub(super) struct ChunkWork {
    pub(super) ready: Vec<Ready>,
    pub(super) done: Vec<(usize, Outcome)>,
}

/// Reads and validates `size` rows starting at global row `first`.
pub(super) fn read_chunk(
    context: &Context,
    reader: &mut csv::Reader<&[u8]>,
    record: &mut ByteRecord,
    first: usize,
    size: usize,
) -> ChunkWork {
    let mut work = ChunkWork {
        ready: Vec::with_capacity(size),
        done: Vec::new(),
    };
    for row in first..first + size {
        let prepared = match reader.read_byte_record(record) {
            Ok(_) => prepare_row(context, record),
            Err(e) => Err((
                None,
                invalid_row(format!("The row could not be parsed as CSV: {e}")),
            )),
        };
        match prepared {
            Ok((action, parents)) => work.ready.push(Ready {
                row,
                action,
                parents,
            }),
            Err((id, error)) => work.done.push((row, Outcome::failed(id, &error))),
        }
    }
    reject_duplicate_keys(context, &mut work);
    work
}

fn invalid_row(message: String) -> FieldError {
    FieldError::new("INVALID_ROW", message, &[])
}

type Prepared = Result<(Action, Vec<String>), (Option<RecordId>, FieldError)>;

/// Turns one CSV row into a write and the rows it locks.
fn prepare_row(context: &Context, record: &ByteRecord) -> Prepared {
    let columns = &context.columns;
    let cells = record
        .iter()
        .map(std::str::from_utf8)
        .collect::<Result<Vec<&str>, _>>()
        .map_err(|_| (None, invalid_row("The row is not valid UTF-8".into())))?;
    if cells.len() != columns.header.len() {
        let message = format!(
            "The row has {} columns but the header has {}",
            cells.len(),
            columns.header.len()
        );
        return Err((None, invalid_row(message)));
    }
    let store = &context.state.store;
    let object = context.object();
    let id_cell = columns.id_column.map(|i| cells[i]).unwrap_or_default();
    let known = ids::normalize(id_cell).as_deref().and_then(record_id);
    let action = match &columns.operation {
        Operation::Insert => Action::Insert(
            store
                .changes_from_csv(object, &columns.header, &cells, WriteMode::Insert)
                .map_err(|e| (None, e))?,
        ),
        Operation::Update => {
            require_id(id_cell, "an update")?;
            let changes = store
                .changes_from_csv(object, &columns.header, &cells, WriteMode::Update)
                .map_err(|e| (known, e))?;
            Action::Update(id_cell.to_string(), changes)
        }
        Operation::Upsert { column, field } => {
            upsert_action(context, object, &cells, *column, field)?
        }
        Operation::Delete { .. } => {
            require_id(id_cell, "a delete")?;
            Action::Delete(id_cell.to_string())
        }
    };
    let parents = rows_to_lock(context, object, &action);
    Ok((action, parents))
}

fn require_id(cell: &str, call: &str) -> Result<(), (Option<RecordId>, FieldError)> {
    if cell.is_empty() {
        return Err((
            None,
            FieldError::new(
                "MISSING_ARGUMENT",
                format!("Id not specified in {call} call"),
                &[],
            ),
        ));
    }
    Ok(())
}

fn upsert_action(
    context: &Context,
    object: &ObjectDef,
    cells: &[&str],
    column: usize,
    field: &str,
) -> Result<Action, (Option<RecordId>, FieldError)> {
    let rest: Vec<&str> = cells
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != column)
        .map(|(_, c)| *c)
        .collect();
    let store = &context.state.store;
    let changes = store
        .changes_from_csv(
            object,
            &context.columns.change_header,
            &rest,
            WriteMode::Insert,
        )
        .map_err(|e| (None, e))?;
    let key = cells[column];
    if key.is_empty() {
        return Ok(Action::Insert(changes));
    }
    let definition = object.field(field).expect("validated at job creation");
    let value = values::from_text(definition, key).map_err(|e| (None, e))?;
    Ok(Action::Upsert(value, changes))
}

/// The rows a write locks: the record itself (update, delete) and its locking parents.
fn rows_to_lock(context: &Context, object: &ObjectDef, action: &Action) -> Vec<String> {
    let store = &context.state.store;
    let locks_parents = object.locking_lookups().next().is_some();
    let existing = |id: &str| {
        if locks_parents {
            store.get(object, id, false)
        } else {
            None
        }
    };
    let mut rows = match action {
        Action::Insert(changes) | Action::Upsert(_, changes) => {
            store.parents_to_lock(object, changes, None)
        }
        Action::Update(id, changes) => {
            store.parents_to_lock(object, changes, existing(id).as_ref())
        }
        Action::Delete(id) => store.parents_to_lock(object, &Changes::new(), existing(id).as_ref()),
    };
    if let Some(id) = action.known_id() {
        rows.push(String::from_utf8_lossy(&id).into_owned());
    }
    rows
}

/// Two rows of one chunk upserting the same key both fail, as in Salesforce.
fn reject_duplicate_keys(context: &Context, work: &mut ChunkWork) {
    let Operation::Upsert { field, .. } = &context.columns.operation else {
        return;
    };
    let key = |ready: &Ready| match &ready.action {
        Action::Upsert(value, _) => Some(values::to_csv(value, None).to_lowercase()),
        _ => None,
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for ready in &work.ready {
        if let Some(k) = key(ready) {
            *seen.entry(k).or_default() += 1;
        }
    }
    if seen.values().all(|&n| n < 2) {
        return;
    }
    let (dups, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut work.ready)
        .into_iter()
        .partition(|r| key(r).is_some_and(|k| seen[&k] > 1));
    work.ready = keep;
    for ready in dups {
        let Action::Upsert(value, _) = &ready.action else {
            continue;
        };
        let message = format!(
            "Duplicate external id specified: {}",
            values::to_csv(value, None)
        );
        work.done.push((
            ready.row,
            Outcome::failed(
                None,
                &FieldError::new("DUPLICATE_EXTERNAL_ID", message, &[field]),
            ),
        ));
    }
}

/// Writes one row.
pub(super) fn apply(context: &Context, action: Action) -> Outcome {
    let store = &context.state.store;
    let object = context.object();
    let known = action.known_id();
    let success = |id: &str, created: bool| match record_id(id) {
        Some(id) => Outcome::Success { id, created },
        None => Outcome::failed(
            None,
            &FieldError::new(
                "UNKNOWN_EXCEPTION",
                format!("unexpected record id {id}"),
                &[],
            ),
        ),
    };
    let result = match action {
        Action::Insert(changes) => store.insert(object, changes).map(|id| success(&id, true)),
        Action::Update(id, changes) => store
            .update(object, &id, changes)
            .map(|()| success(&ids::normalize(&id).unwrap_or(id), false)),
        Action::Delete(id) => {
            let hard = context.columns.operation == Operation::Delete { hard: true };
            store
                .delete(object, &id, hard)
                .map(|()| success(&ids::normalize(&id).unwrap_or(id), false))
        }
        Action::Upsert(value, changes) => {
            let field = context
                .job
                .job
                .spec
                .external_id_field
                .as_deref()
                .unwrap_or_default();
            match store.upsert(object, field, &value, changes, false) {
                Ok(Upserted::Created(id)) => Ok(success(&id, true)),
                Ok(Upserted::Updated(id)) => Ok(success(&id, false)),
                Err(UpsertError::Multiple(ids)) => {
                    let message = format!(
                        "More than one record found for external id field: [{}]",
                        ids.join(", ")
                    );
                    Err(FieldError::new("DUPLICATE_EXTERNAL_ID", message, &[]))
                }
                Err(UpsertError::Invalid(e)) => Err(e),
            }
        }
    };
    result.unwrap_or_else(|e| Outcome::failed(known, &e))
}
