//! Records → Bulk API 2.0 CSV fields, with Salesforce's value rules.
//!
//! A record is a JSON object (what bindings feed). Each becomes one CSV row of text fields:
//!
//! | JSON value | CSV text |
//! |---|---|
//! | string | as is (the `csv` writer quotes it when needed) |
//! | number | its JSON text (`42`, `3.5`) |
//! | `true` / `false` | `true` / `false` |
//! | `null` | `#N/A` (sets the field to null) for update/upsert; empty for insert/delete |
//! | array of scalars | values joined by `;` (multi-select picklists) |
//! | object | flattened to relationship columns: `{"Account": {"External_Id__c": "A1"}}` → column `Account.External_Id__c` |
//!
//! An absent key is an empty field, which Salesforce reads as "leave unchanged" (update) or
//! "no value" (insert). REST's `attributes` key is skipped.
//!
//! A binding may also feed [`Fields`], the same `(field, value)` pairs without the JSON object
//! around them: a binding that walks its language's mapping builds them straight, and they are
//! flattened by moving their strings, not copying them. The value rules are the same.
//!
//! One job has one header, but a stream's records need not share keys. Records are therefore
//! sorted into [`Shapes`]: a record joins the first shape whose columns include all of its keys
//! (its missing keys stay empty), else it opens a new shape, which becomes jobs of its own. A
//! record that Salesforce will reject (an unknown field) thus fails in its own job, with
//! Salesforce's error, while the others load. Rejected alternative: the first record's header
//! for all, dropping unknown keys: it would silently lose data.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::bulk::Operation;
use crate::error::Error;

/// A record as bindings feed it: field name → JSON value.
pub type Record = Map<String, Value>;

/// A record as an ordered list of `(field, value)`: what a binding builds straight from a
/// mapping of its language (no JSON object in between). Same value rules as a [`Record`].
pub type Fields = Vec<(String, Value)>;

/// Shapes allowed in one run; a stream with more distinct key sets is refused.
pub const MAX_SHAPES: usize = 64;

/// The literal Bulk API 2.0 reads as "set this field to null".
pub const NULL_MARKER: &str = "#N/A";

/// One record's fields, flattened: `(column, text)` in record order. Takes a [`Record`] or
/// [`Fields`] by value, so field names and string values move into the result.
pub fn flatten(
    record: impl IntoIterator<Item = (String, Value)>,
    operation: Operation,
) -> Result<Vec<(String, String)>, Error> {
    let fields = record.into_iter();
    let mut out = Vec::with_capacity(fields.size_hint().0);
    flatten_into(fields, "", operation, &mut out)?;
    Ok(out)
}

fn flatten_into(
    fields: impl Iterator<Item = (String, Value)>,
    prefix: &str,
    operation: Operation,
    out: &mut Vec<(String, String)>,
) -> Result<(), Error> {
    for (key, value) in fields {
        if key == "attributes" {
            continue;
        }
        let column = if prefix.is_empty() {
            key
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(inner) => flatten_into(inner.into_iter(), &column, operation, out)?,
            Value::String(text) => out.push((column, text)),
            other => {
                let text = scalar_text(&other, operation)
                    .map_err(|e| Error::invalid_input(format!("field {column}: {e}")))?;
                out.push((column, text));
            }
        }
    }
    Ok(())
}

/// The CSV text of one JSON scalar (or array of scalars).
pub fn scalar_text(value: &Value, operation: Operation) -> Result<String, String> {
    Ok(match value {
        Value::Null if operation.sets_nulls() => NULL_MARKER.to_owned(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Result<Vec<String>, String> = items
                .iter()
                .map(|item| match item {
                    Value::Array(_) | Value::Object(_) | Value::Null => {
                        Err("arrays may hold only strings, numbers or booleans".to_owned())
                    }
                    scalar => scalar_text(scalar, operation),
                })
                .collect();
            parts?.join(";")
        }
        Value::Object(_) => {
            return Err("nested objects become relationship columns; this one could not".to_owned())
        }
    })
}

/// The distinct column sets of one run, in first-seen order.
#[derive(Debug, Default, Clone)]
pub struct Shapes {
    columns: Vec<Vec<String>>,
    positions: Vec<HashMap<String, usize>>,
}

impl Shapes {
    /// Shapes restored from the journal.
    pub fn from_columns(columns: Vec<Vec<String>>) -> Shapes {
        let positions = columns.iter().map(|cols| position_map(cols)).collect();
        Shapes { columns, positions }
    }

    /// A single shape with a given header (CSV input).
    pub fn single(header: Vec<String>) -> Shapes {
        Shapes::from_columns(vec![header])
    }

    /// Every shape's columns.
    pub fn columns(&self) -> &[Vec<String>] {
        &self.columns
    }

    /// The columns of shape `shape`.
    pub fn of(&self, shape: usize) -> &[String] {
        &self.columns[shape]
    }

    /// Every column of every shape, once, in first-seen order (the result files' header).
    pub fn union(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.columns
            .iter()
            .flatten()
            .filter(|c| seen.insert(c.as_str()))
            .cloned()
            .collect()
    }

    /// Places one flattened record: returns its shape and its fields in that shape's order.
    /// A record whose columns are a shape's, in its order (the usual case), is placed without
    /// a lookup per field.
    pub fn place(&mut self, fields: Vec<(String, String)>) -> Result<(usize, Vec<String>), Error> {
        let same_order = |columns: &[String]| {
            columns.len() == fields.len() && columns.iter().zip(&fields).all(|(a, (b, _))| a == b)
        };
        let found = self
            .columns
            .iter()
            .zip(&self.positions)
            .position(|(columns, pos)| {
                same_order(columns) || fields.iter().all(|(c, _)| pos.contains_key(c))
            });
        let shape = match found {
            Some(shape) if same_order(&self.columns[shape]) => {
                return Ok((shape, fields.into_iter().map(|(_, text)| text).collect()))
            }
            Some(shape) => shape,
            None => self.open(fields.iter().map(|(c, _)| c.clone()).collect())?,
        };
        let pos = &self.positions[shape];
        let mut row = vec![String::new(); self.columns[shape].len()];
        for (column, text) in fields {
            row[pos[&column]] = text;
        }
        Ok((shape, row))
    }

    fn open(&mut self, columns: Vec<String>) -> Result<usize, Error> {
        if self.columns.len() >= MAX_SHAPES {
            return Err(Error::invalid_input(format!(
                "the records use more than {MAX_SHAPES} distinct sets of fields; give records a common set of keys"
            )));
        }
        if columns.is_empty() {
            return Err(Error::invalid_input("a record has no fields"));
        }
        self.positions.push(position_map(&columns));
        self.columns.push(columns);
        Ok(self.columns.len() - 1)
    }
}

fn position_map(columns: &[String]) -> HashMap<String, usize> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), i))
        .collect()
}

/// Encodes rows as CSV into a reusable buffer, so callers can measure a row before writing it.
pub struct RowEncoder {
    writer: csv::Writer<SharedBuf>,
}

/// The encoder's output buffer; shared so it can be cleared while the writer owns it.
#[derive(Default)]
struct SharedBuf(std::cell::RefCell<Vec<u8>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Default for RowEncoder {
    fn default() -> Self {
        RowEncoder {
            writer: csv::WriterBuilder::new()
                .flexible(true)
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(SharedBuf::default()),
        }
    }
}

impl RowEncoder {
    /// The CSV bytes of one row, line ending included.
    pub fn encode<I, T>(&mut self, fields: I) -> Result<Vec<u8>, Error>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let failed = |e: &dyn std::fmt::Display| {
            Error::invalid_input(format!("cannot encode a CSV row: {e}"))
        };
        self.writer.write_record(fields).map_err(|e| failed(&e))?;
        self.writer.flush().map_err(|e| failed(&e))?;
        Ok(std::mem::take(&mut *self.writer.get_ref().0.borrow_mut()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(value: Value) -> Record {
        value.as_object().expect("object").clone()
    }

    #[test]
    fn values_follow_salesforce_csv_rules() {
        let rec = record(json!({
            "attributes": {"type": "Contact"},
            "LastName": "O'Hara, \"Jr\"",
            "Age__c": 42, "Score__c": 3.5, "Active__c": true,
            "Email": null,
            "Tags__c": ["a", "b"],
            "Account": {"External_Id__c": "A-1"}
        }));
        let upsert = flatten(rec.clone(), Operation::Upsert).unwrap();
        assert_eq!(
            upsert,
            [
                ("LastName", "O'Hara, \"Jr\""),
                ("Age__c", "42"),
                ("Score__c", "3.5"),
                ("Active__c", "true"),
                ("Email", "#N/A"),
                ("Tags__c", "a;b"),
                ("Account.External_Id__c", "A-1"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        let insert = flatten(rec.clone(), Operation::Insert).unwrap();
        assert_eq!(insert[4].1, "", "null on insert is just no value");
    }

    #[test]
    fn fields_flatten_like_the_same_record() {
        let rec = record(json!({
            "Name": "Acme", "NumberOfEmployees": 7, "AnnualRevenue": 2.0, "Active__c": false,
            "Phone": null, "Owner": {"Email": "a@b.c"}, "Tags__c": ["x", 1]
        }));
        let fields: Fields = rec.clone().into_iter().collect();
        for op in [Operation::Insert, Operation::Upsert] {
            assert_eq!(
                flatten(fields.clone(), op).unwrap(),
                flatten(rec.clone(), op).unwrap()
            );
        }
    }

    #[test]
    fn nested_arrays_are_refused_naming_the_field() {
        let err = flatten(record(json!({"Tags__c": [["x"]]})), Operation::Insert).unwrap_err();
        assert!(err.to_string().contains("Tags__c"), "{err}");
    }

    #[test]
    fn records_join_a_shape_that_covers_their_keys() {
        let mut shapes = Shapes::default();
        let f = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            shapes.place(f(&[("A", "1"), ("B", "2")])).unwrap(),
            (0, vec!["1".into(), "2".into()])
        );
        assert_eq!(
            shapes.place(f(&[("B", "3")])).unwrap(),
            (0, vec!["".into(), "3".into()])
        );
        assert_eq!(
            shapes.place(f(&[("B", "5"), ("A", "6")])).unwrap(),
            (0, vec!["6".into(), "5".into()]),
            "another order is put in the shape's order"
        );
        assert_eq!(
            shapes.place(f(&[("A", "4"), ("Bad__c", "x")])).unwrap().0,
            1
        );
        assert_eq!(
            shapes.place(f(&[("A", "7"), ("Bad__c", "y")])).unwrap(),
            (1, vec!["7".into(), "y".into()])
        );
        assert_eq!(shapes.union(), ["A", "B", "Bad__c"]);
    }

    #[test]
    fn too_many_shapes_is_a_clear_error() {
        let mut shapes = Shapes::default();
        for i in 0..MAX_SHAPES {
            shapes.place(vec![(format!("F{i}"), "x".into())]).unwrap();
        }
        assert!(shapes.place(vec![("Other".into(), "x".into())]).is_err());
    }

    #[test]
    fn encoder_quotes_what_needs_quoting() {
        let mut enc = RowEncoder::default();
        assert_eq!(
            enc.encode(["a,b", "c\"d", "e\nf", "g"]).unwrap(),
            b"\"a,b\",\"c\"\"d\",\"e\nf\",g\n"
        );
        assert_eq!(enc.encode(["x"]).unwrap(), b"x\n");
    }
}
