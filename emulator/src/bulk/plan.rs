//! Planning an ingest job once its data is closed: read each upload's header, resolve it
//! against the object and operation (a bad header fails the whole job, as Salesforce's
//! `InvalidBatch : Field name not found : Foo`), and cut the rows into batches.
//!
//! Batches are byte ranges of the uploaded CSV, not parsed rows: the data is read once here
//! to find record boundaries (quoted newlines included) and once more by the worker that
//! processes the batch, which keeps memory at the uploaded bytes plus one outcome per row.

use super::csv_io::Dialect;
use super::ingest::IngestJob;
use crate::schema::{ObjectDef, Schema};
use crate::state::AppState;
use csv::ByteRecord;

/// What a job does to each row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Operation {
    Insert,
    Update,
    Upsert { column: usize, field: String },
    Delete { hard: bool },
}

/// The header of a job, resolved against its object once.
#[derive(Debug)]
pub(super) struct Columns {
    pub(super) operation: Operation,
    /// The header in lower case: the schema's field index is keyed that way, so the
    /// per-cell lookups of `Store::changes_from_csv` hit without allocating.
    pub(super) header: Vec<String>,
    /// `header` without the upsert key column (what an upsert row's changes are built from).
    pub(super) change_header: Vec<String>,
    pub(super) id_column: Option<usize>,
}

impl Columns {
    /// Whether another upload's header names the same columns in the same order.
    pub(super) fn same_header(&self, header: &[String]) -> bool {
        header.len() == self.header.len()
            && header
                .iter()
                .zip(&self.header)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

/// A slice of one upload processed as a unit.
#[derive(Debug, Clone)]
pub(super) struct Batch {
    pub(super) upload: usize,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) first_row: usize,
    pub(super) rows: usize,
    /// Position of the batch in its job.
    pub(super) index: usize,
    /// Rows already processed (a retried batch resumes here).
    pub(super) done: usize,
    pub(super) attempt: u32,
    pub(super) counted: bool,
}

/// Reads every upload's header and cuts the rows into batches.
pub(super) fn plan(state: &AppState, job: &IngestJob) -> Result<(Columns, Vec<Batch>), String> {
    let dialect = job.job.spec.dialect;
    let uploads = job.data.uploads();
    if uploads.is_empty() {
        return Err("InvalidBatch : No data was uploaded for this job".into());
    }
    let batch_size = state.config.bulk.batch_size.max(1);
    let mut columns: Option<Columns> = None;
    let mut batches = Vec::new();
    let mut first_row = 0;
    for (index, data) in uploads.iter().enumerate() {
        if let Some(message) = dialect.line_ending.mismatch(data) {
            return Err(message);
        }
        let (header, body_start) = read_header(&dialect, data)?;
        match &columns {
            None => columns = Some(resolve_columns(state.store.schema(), job, header)?),
            Some(first) if !first.same_header(&header) => {
                return Err(format!("InvalidBatch : The header of upload {} differs from the header of the first upload", index + 1));
            }
            Some(_) => {}
        }
        first_row = split(
            &dialect,
            data,
            index,
            body_start,
            first_row,
            batch_size,
            &mut batches,
        );
    }
    let columns = columns.expect("at least one upload");
    Ok((columns, batches))
}

/// The header names of one upload and where its rows start.
fn read_header(dialect: &Dialect, data: &[u8]) -> Result<(Vec<String>, usize), String> {
    let mut reader = dialect.reader(data);
    let mut record = ByteRecord::new();
    match reader.read_byte_record(&mut record) {
        Ok(true) => {}
        _ => return Err("InvalidBatch : The CSV has no header row".into()),
    }
    let names = record
        .iter()
        .enumerate()
        .map(|(i, cell)| {
            let text = std::str::from_utf8(cell)
                .map_err(|_| "InvalidBatch : The header row is not valid UTF-8".to_string())?;
            Ok(if i == 0 {
                text.trim_start_matches('\u{feff}')
            } else {
                text
            }
            .to_string())
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok((names, reader.position().byte() as usize))
}

/// Appends the batches of one upload's rows; returns the next global row index.
fn split(
    dialect: &Dialect,
    data: &[u8],
    upload: usize,
    body_start: usize,
    mut next_row: usize,
    batch_size: usize,
    batches: &mut Vec<Batch>,
) -> usize {
    let mut reader = dialect.reader(&data[body_start..]);
    let mut record = ByteRecord::new();
    let mut open: Option<Batch> = None;
    loop {
        let start = body_start + reader.position().byte() as usize;
        if let Ok(false) = reader.read_byte_record(&mut record) {
            break;
        }
        let batch = open.get_or_insert(Batch {
            upload,
            start,
            end: start,
            first_row: next_row,
            rows: 0,
            index: batches.len(),
            done: 0,
            attempt: 0,
            counted: false,
        });
        batch.rows += 1;
        batch.end = body_start + reader.position().byte() as usize;
        next_row += 1;
        if batch.rows == batch_size {
            batches.extend(open.take());
        }
    }
    batches.extend(open);
    next_row
}

/// Checks the header against the object and operation; a bad header fails the whole job.
fn resolve_columns(
    schema: &Schema,
    job: &IngestJob,
    header: Vec<String>,
) -> Result<Columns, String> {
    let spec = &job.job.spec;
    let object = schema
        .object(&spec.object)
        .expect("validated at job creation");
    for (i, name) in header.iter().enumerate() {
        if !column_exists(schema, object, name) {
            return Err(format!("InvalidBatch : Field name not found : {name}"));
        }
        if header[..i]
            .iter()
            .any(|other| other.eq_ignore_ascii_case(name))
        {
            return Err(format!("InvalidBatch : Duplicate field name : {name}"));
        }
    }
    let find = |field: &str| header.iter().position(|h| h.eq_ignore_ascii_case(field));
    let id_column = find("Id");
    let operation = match spec.operation.as_str() {
        "insert" => Operation::Insert,
        "update" => Operation::Update,
        "upsert" => {
            let field = spec
                .external_id_field
                .clone()
                .expect("validated at job creation");
            let column = find(&field)
                .ok_or_else(|| format!("InvalidBatch : Field name not found : {field}"))?;
            Operation::Upsert { column, field }
        }
        other => Operation::Delete {
            hard: other == "hardDelete",
        },
    };
    if matches!(operation, Operation::Update | Operation::Delete { .. }) && id_column.is_none() {
        return Err("InvalidBatch : Field name not found : Id".into());
    }
    if matches!(operation, Operation::Delete { .. }) && header.len() > 1 {
        return Err(format!(
            "InvalidBatch : The '{}' batch must contain only ids",
            spec.operation
        ));
    }
    let header: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    let change_header = match &operation {
        Operation::Upsert { column, .. } => header
            .iter()
            .enumerate()
            .filter(|(i, _)| i != column)
            .map(|(_, h)| h.clone())
            .collect(),
        _ => header.clone(),
    };
    Ok(Columns {
        operation,
        header,
        change_header,
        id_column,
    })
}

/// Whether a header name is a field of the object, or `Relationship.ExternalIdField`.
fn column_exists(schema: &Schema, object: &ObjectDef, name: &str) -> bool {
    let Some((relationship, field)) = name.split_once('.') else {
        return object.field(name).is_some();
    };
    let Some(lookup) = object.relationship(relationship) else {
        return false;
    };
    lookup
        .reference_to
        .iter()
        .filter_map(|parent| schema.object(parent))
        .any(|parent| {
            parent
                .field(field)
                .is_some_and(|f| f.external_id || f.id_lookup)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::csv_io::{Delimiter, LineEnding};

    /// Re-reads each batch's byte range the way a worker does.
    fn reread(dialect: &Dialect, data: &[u8], batch: &Batch) -> Vec<Vec<String>> {
        let mut reader = dialect.reader(&data[batch.start..batch.end]);
        let mut record = ByteRecord::new();
        let mut rows = Vec::new();
        for _ in 0..batch.rows {
            assert!(reader.read_byte_record(&mut record).unwrap());
            rows.push(
                record
                    .iter()
                    .map(|c| String::from_utf8(c.to_vec()).unwrap())
                    .collect(),
            );
        }
        assert!(
            !reader.read_byte_record(&mut record).unwrap(),
            "a batch range holds exactly its rows"
        );
        rows
    }

    #[test]
    fn batches_cut_at_record_boundaries_even_inside_quoted_newlines() {
        let dialect = Dialect {
            delimiter: Delimiter::Comma,
            line_ending: LineEnding::Crlf,
        };
        let data =
            b"Name,Description\r\nA,\"line one\r\nline two\"\r\nB,plain\r\nC,\"x,y\"\r\n\r\nD,last";
        let (header, body_start) = read_header(&dialect, data).unwrap();
        assert_eq!(header, ["Name", "Description"]);
        let mut batches = Vec::new();
        let next = split(&dialect, data, 0, body_start, 7, 2, &mut batches);
        assert_eq!(next, 11);
        assert_eq!(
            batches
                .iter()
                .map(|b| (b.first_row, b.rows, b.index))
                .collect::<Vec<_>>(),
            [(7, 2, 0), (9, 2, 1)]
        );
        assert_eq!(
            reread(&dialect, data, &batches[0]),
            [vec!["A", "line one\r\nline two"], vec!["B", "plain"]]
        );
        assert_eq!(
            reread(&dialect, data, &batches[1]),
            [vec!["C", "x,y"], vec!["D", "last"]]
        );
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_column_name() {
        let dialect = Dialect {
            delimiter: Delimiter::Tab,
            line_ending: LineEnding::Lf,
        };
        let (header, _) = read_header(&dialect, "\u{feff}Name\tPhone\nA\t1\n".as_bytes()).unwrap();
        assert_eq!(header, ["Name", "Phone"]);
        assert!(read_header(&dialect, b"").is_err());
    }
}
