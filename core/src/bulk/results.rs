//! A job's results, mapped back to input row numbers, and the Data Loader-style outcome files.
//!
//! Salesforce returns `successfulResults` (`sf__Id`, `sf__Created`, then the uploaded
//! columns), `failedResults` (`sf__Id`, `sf__Error`, then the columns) and
//! `unprocessedrecords` (the columns), in **no guaranteed order**, with echoed values
//! re-serialised by type (`912260031` comes back as `9.12260031E8`). Rows are therefore matched
//! by content, against the chunk file that was uploaded:
//!
//! | operation | key |
//! |---|---|
//! | update, delete, hardDelete | the `Id` column (15-character form) |
//! | upsert | the external id column |
//! | insert (or a missing key column) | every echoed column |
//!
//! Values are normalised before comparing (`#N/A` = empty, numbers by value, booleans
//! lower-cased, datetimes to UTC milliseconds, ids to 15 characters). Equal keys (the same row
//! twice) are matched in upload order: such rows are interchangeable. A result row that matches
//! nothing is written with an empty row number; an input row no result mentions is reported
//! as `RESULT_MISSING`.
//!
//! Output per chunk: `chunk-N.success.csv` (`sfscale__Row`, `sf__Id`, `sf__Created`, columns)
//! and `chunk-N.error.csv` (`sfscale__Row`, `sf__Id`, `sf__Error`, columns), later concatenated
//! into the run's `success.csv` / `error.csv`. Rows that failed with `UNABLE_TO_LOCK_ROW` while
//! another round is allowed go instead, with their original values, to `chunk-N.retry`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::bulk::encode::Shapes;
use crate::bulk::journal::ChunkCounts;
use crate::bulk::options::Operation;
use crate::bulk::plan::{io_error, parent_key, read_chunk, Fnv, RunDir};
use crate::error::{codes, Error};

/// A per-row outcome callback.
pub type RowCallback = std::sync::Arc<dyn Fn(&RowOutcome) + Send + Sync>;

/// Column holding the input row number (0-based) in outcome files.
pub const ROW_COLUMN: &str = "sfscale__Row";

/// Salesforce's error on one row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// Status code, e.g. `REQUIRED_FIELD_MISSING`.
    pub code: String,
    /// Message.
    pub message: String,
    /// Fields blamed.
    pub fields: Vec<String>,
}

impl RowError {
    /// Parses `sf__Error`: `<STATUS_CODE>:<message>:<fields>`, fields `--` when none.
    pub fn parse(text: &str) -> RowError {
        let Some((code, rest)) = text.split_once(':') else {
            return RowError {
                code: "UNKNOWN_EXCEPTION".into(),
                message: text.to_owned(),
                fields: Vec::new(),
            };
        };
        let (message, fields) = match rest.rsplit_once(':') {
            Some((message, fields)) => (message, fields),
            None => (rest, "--"),
        };
        let fields = fields
            .split([',', ' '])
            .map(str::trim)
            .filter(|f| !f.is_empty() && *f != "--")
            .map(str::to_owned)
            .collect();
        RowError {
            code: code.trim().to_owned(),
            message: message.to_owned(),
            fields,
        }
    }

    /// The `sf__Error` text again.
    pub fn to_wire(&self) -> String {
        let fields = if self.fields.is_empty() {
            "--".to_owned()
        } else {
            self.fields.join(",")
        };
        format!("{}:{}:{}", self.code, self.message, fields)
    }
}

/// What happened to one input row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowOutcome {
    /// Input row number (0-based); `None` when a result could not be matched to a row.
    pub row: Option<u64>,
    /// The record id, when known.
    pub id: Option<String>,
    /// Whether the record was created (insert/upsert success).
    pub created: Option<bool>,
    /// The error, if the row failed.
    pub error: Option<RowError>,
}

/// How results are matched to rows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Id(String),
    ExternalId(String),
    AllColumns,
}

/// A value normalised for matching (see the module docs): a slice of `value` when it is
/// already in canonical form (most are), otherwise the canonical form written to `scratch`.
pub fn normalised<'a>(column: &str, value: &'a str, scratch: &'a mut String) -> &'a str {
    let v = value.trim();
    if v.is_empty() || v == crate::bulk::encode::NULL_MARKER {
        return "";
    }
    if column.eq_ignore_ascii_case("Id") || column.ends_with("Id") && v.len() == 18 {
        return parent_key(v);
    }
    scratch.clear();
    if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") {
        scratch.extend(v.chars().map(|c| c.to_ascii_lowercase()));
        return scratch;
    }
    let numeric = v
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        && v.bytes().any(|b| b.is_ascii_digit());
    if numeric {
        if let Ok(n) = v.parse::<f64>() {
            let _ = write!(scratch, "{n:e}");
            return scratch;
        }
    }
    if v.len() >= 19 && v.as_bytes().get(10) == Some(&b'T') {
        if let Some(ms) = datetime_millis(v) {
            let _ = write!(scratch, "@{ms}");
            return scratch;
        }
    }
    v
}

fn datetime_millis(v: &str) -> Option<i64> {
    let parsed = chrono::DateTime::parse_from_rfc3339(v)
        .or_else(|_| chrono::DateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f%z"));
    parsed.ok().map(|d| d.timestamp_millis())
}

/// Input rows of one chunk, keyed for matching; entries are consumed as results match them.
struct Index {
    key_columns: Vec<String>,
    rows: HashMap<u64, VecDeque<u64>>,
}

impl Index {
    fn build(dir: &RunDir, chunk: u64, key_columns: &[String]) -> Result<Index, Error> {
        let (header, rows) = read_chunk(dir, chunk)?;
        let positions: Vec<usize> = key_columns
            .iter()
            .filter_map(|k| header.iter().position(|h| h == k))
            .collect();
        let mut index: HashMap<u64, VecDeque<u64>> = HashMap::new();
        let mut scratch = String::new();
        for row in rows {
            let (number, record) = row?;
            let values = positions
                .iter()
                .map(|&p| (header[p].as_str(), record.get(p).unwrap_or("")));
            index
                .entry(fingerprint(values, &mut scratch))
                .or_default()
                .push_back(number);
        }
        Ok(Index {
            key_columns: key_columns.to_vec(),
            rows: index,
        })
    }

    fn take(&mut self, fp: u64) -> Option<u64> {
        let queue = self.rows.get_mut(&fp)?;
        let row = queue.pop_front();
        if queue.is_empty() {
            self.rows.remove(&fp);
        }
        row
    }

    fn remaining(&self) -> HashSet<u64> {
        self.rows.values().flatten().copied().collect()
    }
}

/// The hash of a row's normalised `(column, value)` key, allocating only for values that
/// normalisation rewrites.
fn fingerprint<'v>(values: impl Iterator<Item = (&'v str, &'v str)>, scratch: &mut String) -> u64 {
    let mut hash = Fnv::new(7);
    for (column, value) in values {
        hash.part(normalised(column, value, scratch).as_bytes());
    }
    hash.finish()
}

/// Which of the three result lists a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    /// `successfulResults`.
    Successful,
    /// `failedResults`.
    Failed,
    /// `unprocessedrecords`.
    Unprocessed,
}

/// Maps one chunk's results and writes its outcome files.
pub struct ChunkResults<'a> {
    dir: &'a RunDir,
    chunk: u64,
    shape: usize,
    header: Vec<String>,
    union: Vec<String>,
    key: Key,
    index: Option<Index>,
    success: csv::Writer<BufWriter<File>>,
    error: csv::Writer<BufWriter<File>>,
    retry_rows: HashSet<u64>,
    allow_lock_retry: bool,
    unmatched_results: u64,
    counts: ChunkCounts,
    on_row: Option<&'a (dyn Fn(&RowOutcome) + Send + Sync)>,
}

fn outcome_writer(
    path: &Path,
    third: &str,
    union: &[String],
) -> Result<csv::Writer<BufWriter<File>>, Error> {
    let file = File::create(path).map_err(|e| io_error("cannot create", path, e))?;
    let mut w = csv::Writer::from_writer(BufWriter::new(file));
    let head = [ROW_COLUMN, "sf__Id", third]
        .into_iter()
        .map(str::to_owned)
        .chain(union.iter().cloned());
    w.write_record(head)
        .map_err(|e| io_error("cannot write", path, e))?;
    Ok(w)
}

/// Settings of one chunk's mapping.
pub struct ChunkContext<'a> {
    /// The run's files.
    pub dir: &'a RunDir,
    /// The chunk.
    pub chunk: u64,
    /// Its shape.
    pub shape: usize,
    /// The run's shapes.
    pub shapes: &'a Shapes,
    /// The operation.
    pub operation: Operation,
    /// The upsert key.
    pub external_id: Option<&'a str>,
    /// Whether lock failures go to another round.
    pub allow_lock_retry: bool,
    /// Per-row callback.
    pub on_row: Option<&'a (dyn Fn(&RowOutcome) + Send + Sync)>,
}

impl<'a> ChunkResults<'a> {
    /// Starts mapping a chunk's results.
    pub fn new(ctx: ChunkContext<'a>) -> Result<ChunkResults<'a>, Error> {
        let header = ctx.shapes.of(ctx.shape).to_vec();
        let has = |c: &str| header.iter().any(|h| h.eq_ignore_ascii_case(c));
        let key = match (ctx.operation, ctx.external_id) {
            (op, _) if op.by_id() && has("Id") => Key::Id(find(&header, "Id")),
            (Operation::Upsert, Some(ext)) if has(ext) => Key::ExternalId(find(&header, ext)),
            _ => Key::AllColumns,
        };
        let union = ctx.shapes.union();
        Ok(ChunkResults {
            dir: ctx.dir,
            chunk: ctx.chunk,
            shape: ctx.shape,
            success: outcome_writer(
                &ctx.dir.chunk_outcomes(ctx.chunk, "success"),
                "sf__Created",
                &union,
            )?,
            error: outcome_writer(
                &ctx.dir.chunk_outcomes(ctx.chunk, "error"),
                "sf__Error",
                &union,
            )?,
            header,
            union,
            key,
            index: None,
            retry_rows: HashSet::new(),
            allow_lock_retry: ctx.allow_lock_retry,
            unmatched_results: 0,
            counts: ChunkCounts::default(),
            on_row: ctx.on_row,
        })
    }

    /// Maps one result body. `job_error` is the error given to unprocessed rows.
    pub fn add(
        &mut self,
        kind: ResultKind,
        body: &[u8],
        job_error: &RowError,
    ) -> Result<(), Error> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body);
        let result_header: Vec<String> = reader
            .headers()
            .map_err(bad_result)?
            .iter()
            .map(str::to_owned)
            .collect();
        let echoed: Vec<(usize, String)> = result_header
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.starts_with("sf__"))
            .map(|(i, h)| (i, h.clone()))
            .collect();
        self.ensure_index(&echoed)?;
        let key_positions = self.key_positions(&echoed);
        let col = |name: &str| result_header.iter().position(|h| h == name);
        let (id_col, created_col, error_col) =
            (col("sf__Id"), col("sf__Created"), col("sf__Error"));
        let columns = echoed.iter().map(|(p, name)| (*p, name.as_str()));
        let outcome_columns = positions_of(&self.union, columns);
        let mut scratch = String::new();
        let mut record = csv::StringRecord::new();
        while reader.read_record(&mut record).map_err(bad_result)? {
            let key = key_positions
                .iter()
                .map(|(p, name)| (name.as_str(), record.get(*p).unwrap_or("")));
            let fingerprint = fingerprint(key, &mut scratch);
            let row = self.index.as_mut().and_then(|i| i.take(fingerprint));
            let id = id_col
                .and_then(|c| record.get(c))
                .filter(|v| !v.is_empty())
                .map(str::to_owned);
            let outcome = match kind {
                ResultKind::Successful => RowOutcome {
                    row,
                    id,
                    created: created_col
                        .and_then(|c| record.get(c))
                        .map(|v| v.eq_ignore_ascii_case("true")),
                    error: None,
                },
                ResultKind::Failed => RowOutcome {
                    row,
                    id,
                    created: None,
                    error: Some(RowError::parse(
                        error_col.and_then(|c| record.get(c)).unwrap_or(""),
                    )),
                },
                ResultKind::Unprocessed => RowOutcome {
                    row,
                    id: None,
                    created: None,
                    error: Some(job_error.clone()),
                },
            };
            self.record(outcome, values_at(&record, &outcome_columns))?;
        }
        Ok(())
    }

    fn ensure_index(&mut self, echoed: &[(usize, String)]) -> Result<(), Error> {
        let wanted: Vec<String> = match &self.key {
            Key::Id(c) | Key::ExternalId(c) => vec![c.clone()],
            Key::AllColumns => self
                .header
                .iter()
                .filter(|h| echoed.iter().any(|(_, e)| e == *h))
                .cloned()
                .collect(),
        };
        if self.index.as_ref().is_none_or(|i| i.key_columns != wanted) {
            let mut fresh = Index::build(self.dir, self.chunk, &wanted)?;
            if let Some(old) = &self.index {
                let left = old.remaining();
                fresh
                    .rows
                    .values_mut()
                    .for_each(|q| q.retain(|r| left.contains(r)));
                fresh.rows.retain(|_, q| !q.is_empty());
            }
            self.index = Some(fresh);
        }
        Ok(())
    }

    fn key_positions(&self, echoed: &[(usize, String)]) -> Vec<(usize, String)> {
        let keys = self
            .index
            .as_ref()
            .map(|i| i.key_columns.clone())
            .unwrap_or_default();
        keys.iter()
            .filter_map(|k| echoed.iter().find(|(_, e)| e == k).cloned())
            .collect()
    }

    fn record<'v>(
        &mut self,
        outcome: RowOutcome,
        values: impl Iterator<Item = &'v str>,
    ) -> Result<(), Error> {
        if outcome.row.is_none() {
            self.unmatched_results += 1;
        }
        let lock = outcome
            .error
            .as_ref()
            .is_some_and(|e| e.code == codes::UNABLE_TO_LOCK_ROW);
        if let (true, true, Some(row)) = (lock, self.allow_lock_retry, outcome.row) {
            self.retry_rows.insert(row);
            self.counts.lock_deferred += 1;
            return Ok(());
        }
        self.write(&outcome, values)
    }

    /// Writes one outcome line; `values` are the row's values in outcome-column order.
    fn write<'v>(
        &mut self,
        outcome: &RowOutcome,
        values: impl Iterator<Item = &'v str>,
    ) -> Result<(), Error> {
        let row = outcome.row.map(|r| r.to_string()).unwrap_or_default();
        let third = match &outcome.error {
            Some(e) => e.to_wire(),
            None => outcome.created.map(|c| c.to_string()).unwrap_or_default(),
        };
        let head = [row.as_str(), outcome.id.as_deref().unwrap_or(""), &third];
        let (writer, counter) = match outcome.error {
            Some(_) => (&mut self.error, &mut self.counts.failed),
            None => (&mut self.success, &mut self.counts.succeeded),
        };
        *counter += 1;
        for field in head {
            writer.write_field(field).map_err(bad_result)?;
        }
        for field in values {
            writer.write_field(field).map_err(bad_result)?;
        }
        writer.write_record(None::<&[u8]>).map_err(bad_result)?;
        if let Some(cb) = self.on_row {
            cb(outcome);
        }
        Ok(())
    }

    /// Writes the rows no result mentioned (failed with `missing_error`) and the lock-retry
    /// spool; returns the counts.
    pub fn finish(mut self, missing_error: &RowError) -> Result<ChunkCounts, Error> {
        let missing = match (&self.index, self.unmatched_results) {
            (Some(index), 0) => index.remaining(),
            (None, _) => HashSet::from_iter(self.all_rows()?),
            _ => HashSet::new(),
        };
        if !missing.is_empty() || !self.retry_rows.is_empty() {
            self.second_pass(&missing, missing_error)?;
        }
        for w in [&mut self.success, &mut self.error] {
            w.flush().map_err(bad_result)?;
            w.get_ref().get_ref().sync_all().map_err(bad_result)?;
        }
        Ok(self.counts)
    }

    fn all_rows(&self) -> Result<Vec<u64>, Error> {
        let (_, rows) = read_chunk(self.dir, self.chunk)?;
        rows.map(|r| r.map(|(n, _)| n)).collect()
    }

    fn second_pass(&mut self, missing: &HashSet<u64>, gone: &RowError) -> Result<(), Error> {
        let retry_path = self.dir.chunk_retry(self.chunk);
        let mut retry = File::create(&retry_path)
            .map(BufWriter::new)
            .map_err(|e| io_error("cannot create", &retry_path, e))?;
        let mut spool = csv::WriterBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_writer(&mut retry);
        let (header, rows) = read_chunk(self.dir, self.chunk)?;
        let columns = header.iter().map(String::as_str).enumerate();
        let outcome_columns = positions_of(&self.union, columns);
        for row in rows {
            let (number, record) = row?;
            if self.retry_rows.contains(&number) {
                let head = [number.to_string(), self.shape.to_string()];
                spool
                    .write_record(head.iter().map(String::as_str).chain(record.iter()))
                    .map_err(bad_result)?;
            } else if missing.contains(&number) {
                let outcome = RowOutcome {
                    row: Some(number),
                    id: None,
                    created: None,
                    error: Some(gone.clone()),
                };
                self.write(&outcome, values_at(&record, &outcome_columns))?;
            }
        }
        spool.flush().map_err(bad_result)?;
        drop(spool);
        retry
            .flush()
            .and_then(|_| retry.get_ref().sync_all())
            .map_err(|e| io_error("cannot write", &retry_path, e))
    }
}

/// For each of `wanted`'s columns, its position among `columns` (`(position, name)`), if any.
fn positions_of<'n>(
    wanted: &[String],
    columns: impl Iterator<Item = (usize, &'n str)> + Clone,
) -> Vec<Option<usize>> {
    wanted
        .iter()
        .map(|w| columns.clone().find(|(_, c)| c == w).map(|(p, _)| p))
        .collect()
}

/// A record's values at `positions`, empty where a column is absent.
fn values_at<'r>(
    record: &'r csv::StringRecord,
    positions: &'r [Option<usize>],
) -> impl Iterator<Item = &'r str> {
    positions
        .iter()
        .map(|p| p.and_then(|p| record.get(p)).unwrap_or(""))
}

fn find(header: &[String], name: &str) -> String {
    header
        .iter()
        .find(|h| h.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_owned())
}

fn bad_result(e: impl std::fmt::Display) -> Error {
    Error::new(
        crate::ErrorKind::Salesforce,
        crate::bulk::codes::INVALID_RESPONSE,
        format!("unreadable bulk result: {e}"),
    )
}

/// Reads a chunk's lock-retry spool: `(row, shape, fields)`.
pub fn read_retry(dir: &RunDir, chunk: u64) -> Result<Vec<(u64, usize, Vec<String>)>, Error> {
    let path = dir.chunk_retry(chunk);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let file = File::open(&path).map_err(|e| io_error("cannot open", &path, e))?;
    let reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(std::io::BufReader::new(file));
    reader
        .into_records()
        .map(|rec| {
            let rec = rec.map_err(|e| io_error("cannot read", &path, e))?;
            let num = |i: usize| {
                rec.get(i)
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| io_error("corrupt retry row in", &path, i))
            };
            Ok((
                num(0)?,
                num(1)? as usize,
                rec.iter().skip(2).map(str::to_owned).collect(),
            ))
        })
        .collect()
}

/// Concatenates per-chunk outcome files (and the rejected rows) into one file with one header.
pub fn merge_outcomes(parts: &[std::path::PathBuf], out: &Path) -> Result<(), Error> {
    let mut w = BufWriter::new(File::create(out).map_err(|e| io_error("cannot create", out, e))?);
    let mut wrote_header = false;
    for part in parts.iter().filter(|p| p.exists()) {
        let text = std::fs::File::open(part).map_err(|e| io_error("cannot open", part, e))?;
        let mut reader = std::io::BufReader::new(text);
        let mut header = String::new();
        std::io::BufRead::read_line(&mut reader, &mut header)
            .map_err(|e| io_error("cannot read", part, e))?;
        if !wrote_header {
            w.write_all(header.as_bytes())
                .map_err(|e| io_error("cannot write", out, e))?;
            wrote_header = true;
        }
        std::io::copy(&mut reader, &mut w).map_err(|e| io_error("cannot write", out, e))?;
    }
    w.flush().map_err(|e| io_error("cannot write", out, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::plan::{Caps, PlanConfig, Planner};

    fn plan_one_chunk(dir: &RunDir, header: &[&str], rows: &[&[&str]]) -> Shapes {
        let shapes = Shapes::single(header.iter().map(|s| s.to_string()).collect());
        let cfg = PlanConfig {
            caps: Caps {
                rows: 1000,
                bytes: 1_000_000,
            },
            group_rows: 1000,
            group_by: None,
            buckets: 1,
            sort_rows: 10,
        };
        let mut planner = Planner::new(dir.clone(), cfg, shapes, 0).unwrap();
        for (i, r) in rows.iter().enumerate() {
            planner
                .push(i as u64, 0, r.iter().map(|s| s.to_string()).collect())
                .unwrap();
        }
        planner.finish().unwrap().1
    }

    fn ctx<'a>(
        dir: &'a RunDir,
        shapes: &'a Shapes,
        op: Operation,
        ext: Option<&'a str>,
    ) -> ChunkContext<'a> {
        ChunkContext {
            dir,
            chunk: 0,
            shape: 0,
            shapes,
            operation: op,
            external_id: ext,
            allow_lock_retry: true,
            on_row: None,
        }
    }

    fn missing() -> RowError {
        RowError {
            code: "RESULT_MISSING".into(),
            message: "no result".into(),
            fields: vec![],
        }
    }

    fn read(path: &Path) -> Vec<Vec<String>> {
        csv::Reader::from_path(path)
            .unwrap()
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn sf_error_text_is_parsed_into_code_message_and_fields() {
        let e = RowError::parse("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records: 001xx:--");
        assert_eq!(e.code, "UNABLE_TO_LOCK_ROW");
        assert_eq!(
            e.message,
            "unable to obtain exclusive access to this record or 1 records: 001xx"
        );
        assert!(e.fields.is_empty());
        let e =
            RowError::parse("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --");
        assert_eq!(
            (e.code.as_str(), e.fields.clone()),
            ("REQUIRED_FIELD_MISSING", vec!["Name".to_owned()])
        );
        assert_eq!(RowError::parse("garbage").code, "UNKNOWN_EXCEPTION");
    }

    #[test]
    fn values_normalise_across_salesforce_reserialisation() {
        let n =
            |column: &str, value: &str| normalised(column, value, &mut String::new()).to_owned();
        assert_eq!(n("Amount", "912260031"), n("Amount", "9.12260031E8"));
        assert_eq!(n("Flag__c", "TRUE"), "true");
        assert_eq!(
            n("When__c", "2024-05-01T10:15:00Z"),
            n("When__c", "2024-05-01T12:15:00.000+0200")
        );
        assert_eq!(n("Id", "001M000000qfPySIAU"), "001M000000qfPyS");
        assert_eq!(n("Email", "#N/A"), "");
        assert_eq!(n("Name", " 12 Main St "), "12 Main St");
    }

    #[test]
    fn insert_results_in_any_order_map_back_to_input_rows() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir(tmp.path().to_owned());
        let shapes = plan_one_chunk(
            &dir,
            &["Name", "Amount__c"],
            &[
                &["a", "1"],
                &["b", "2"],
                &["a", "1"],
                &["c", "3"],
                &["d", "4"],
            ],
        );
        let seen = std::sync::Mutex::new(Vec::new());
        let cb = |o: &RowOutcome| seen.lock().unwrap().push(o.clone());
        let mut c = ctx(&dir, &shapes, Operation::Insert, None);
        c.on_row = Some(&cb);
        let mut results = ChunkResults::new(c).unwrap();
        let none = RowError::parse("X:y:--");
        let ok = "\"sf__Id\",\"sf__Created\",Name,Amount__c\n\"001A\",\"true\",\"c\",\"3.0\"\n\"001B\",\"true\",\"a\",\"1\"\n\"001C\",\"true\",\"a\",\"1E0\"\n";
        results
            .add(ResultKind::Successful, ok.as_bytes(), &none)
            .unwrap();
        let failed = "\"sf__Id\",\"sf__Error\",Name,Amount__c\n\"\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --\",\"b\",\"2\"\n\"\",\"UNABLE_TO_LOCK_ROW:locked:--\",\"d\",\"4\"\n";
        results
            .add(ResultKind::Failed, failed.as_bytes(), &none)
            .unwrap();
        let counts = results.finish(&missing()).unwrap();
        assert_eq!(
            counts,
            ChunkCounts {
                succeeded: 3,
                failed: 1,
                lock_deferred: 1
            }
        );
        let success = read(&dir.chunk_outcomes(0, "success"));
        let rows: Vec<_> = success
            .iter()
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect();
        assert_eq!(
            rows,
            [
                ("3".into(), "001A".into()),
                ("0".into(), "001B".into()),
                ("2".into(), "001C".into())
            ]
        );
        let errors = read(&dir.chunk_outcomes(0, "error"));
        assert_eq!(errors[0][0], "1");
        assert!(errors[0][2].starts_with("REQUIRED_FIELD_MISSING:"));
        assert_eq!(
            read_retry(&dir, 0).unwrap(),
            [(4, 0, vec!["d".to_owned(), "4".to_owned()])]
        );
        assert_eq!(
            seen.lock().unwrap().len(),
            4,
            "deferred rows are not reported yet"
        );
    }

    #[test]
    fn upsert_matches_by_external_id_and_unprocessed_rows_carry_the_job_error() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir(tmp.path().to_owned());
        let shapes = plan_one_chunk(
            &dir,
            &["External_Id__c", "LastName"],
            &[&["E1", "x"], &["E2", "y"], &["E3", "z"]],
        );
        let mut results = ChunkResults::new(ctx(
            &dir,
            &shapes,
            Operation::Upsert,
            Some("External_Id__c"),
        ))
        .unwrap();
        let job_error = RowError {
            code: "BULK_JOB_FAILED".into(),
            message: "boom".into(),
            fields: vec![],
        };
        results
            .add(
                ResultKind::Successful,
                b"\"sf__Id\",\"sf__Created\",External_Id__c,LastName\n\"003A\",\"false\",\"E2\",\"changed\"\n",
                &job_error,
            )
            .unwrap();
        results
            .add(
                ResultKind::Unprocessed,
                b"External_Id__c,LastName\n\"E3\",\"z\"\n",
                &job_error,
            )
            .unwrap();
        let counts = results.finish(&missing()).unwrap();
        assert_eq!(
            counts,
            ChunkCounts {
                succeeded: 1,
                failed: 2,
                lock_deferred: 0
            }
        );
        let errors = read(&dir.chunk_outcomes(0, "error"));
        let by_row: HashMap<_, _> = errors
            .iter()
            .map(|r| (r[0].clone(), r[2].clone()))
            .collect();
        assert_eq!(by_row["2"], "BULK_JOB_FAILED:boom:--");
        assert!(by_row["0"].starts_with("RESULT_MISSING:"), "{by_row:?}");
    }

    #[test]
    fn outcome_files_merge_under_one_header() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a.csv");
        let b = tmp.path().join("b.csv");
        std::fs::write(&a, "h1,h2\n1,2\n").unwrap();
        std::fs::write(&b, "h1,h2\n3,4\n").unwrap();
        let out = tmp.path().join("out.csv");
        merge_outcomes(&[a, tmp.path().join("missing.csv"), b], &out).unwrap();
        assert_eq!(std::fs::read_to_string(out).unwrap(), "h1,h2\n1,2\n3,4\n");
    }
}
