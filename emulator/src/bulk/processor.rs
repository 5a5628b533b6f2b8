//! Asynchronous processing of ingest jobs, the way Salesforce does it (wire doc 3.7, 6.4):
//! a job's rows are cut into internal batches of `batch_size` rows; batches of every job
//! share one pool of `parallel_batches` workers; a batch runs its rows in transactions of
//! `chunk_size` rows, each holding the row locks of the records it writes and of their
//! parents (Contact → Account) for its processing time (`row_micros` per row).
//!
//! That is what makes `UNABLE_TO_LOCK_ROW` arise on its own: two batches whose rows share
//! a parent run at once and one waits for the other's lock. A chunk that cannot get its
//! locks within the org's lock wait sends the rest of its batch back to the queue (the
//! job's `retries` goes up); after `batch_retries` re-attempts the chunk's rows fail with
//! `UNABLE_TO_LOCK_ROW` and the batch goes on. Each batch counts once against
//! `DailyBulkApiBatches`; beyond it the job fails and its remaining rows stay unprocessed.
//!
//! Batches hold byte ranges of the uploaded CSV, not parsed rows: the data is read once to
//! find batch boundaries and once more to process, which keeps memory at the uploaded
//! bytes plus one small outcome per row.

use super::csv_io::Dialect;
use super::ingest::IngestJob;
use super::job::{Actor, JobState};
use super::results::{record_id, Outcome, RecordId};
use crate::ids;
use crate::schema::{ObjectDef, Schema};
use crate::state::AppState;
use crate::store::{Changes, UpsertError, Upserted, WriteMode};
use crate::values::{self, FieldError};
use csv::ByteRecord;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// errorMessage of a job failed by an injected `bulk-fail` fault.
const INJECTED_FAILURE: &str =
    "InternalServerError : The job could not be completed because of an unexpected error";

/// What a job does to each row.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Operation {
    Insert,
    Update,
    Upsert { column: usize, field: String },
    Delete { hard: bool },
}

/// The header of a job, resolved against its object once.
#[derive(Debug)]
struct Columns {
    operation: Operation,
    /// The header in lower case: the schema's field index is keyed that way, so the
    /// per-cell lookups of `Store::changes_from_csv` hit without allocating.
    header: Vec<String>,
    /// `header` without the upsert key column (what an upsert row's changes are built from).
    change_header: Vec<String>,
    id_column: Option<usize>,
}

impl Columns {
    /// Whether another upload's header names the same columns in the same order.
    fn same_header(&self, header: &[String]) -> bool {
        header.len() == self.header.len()
            && header
                .iter()
                .zip(&self.header)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

/// A slice of one upload processed as a unit.
#[derive(Debug, Clone)]
struct Batch {
    upload: usize,
    start: usize,
    end: usize,
    first_row: usize,
    rows: usize,
    /// Position of the batch in its job.
    index: usize,
    /// Rows already processed (a retried batch resumes here).
    done: usize,
    attempt: u32,
    counted: bool,
}

/// Everything a batch worker needs.
struct Context {
    state: AppState,
    job: Arc<IngestJob>,
    schema: Arc<Schema>,
    /// Position of the job's object in `schema.objects` (found once, not per row).
    object: usize,
    columns: Columns,
    /// The batch at which an injected `bulk-fail` fault fails the job.
    fail_at: Option<usize>,
}

impl Context {
    fn object(&self) -> &ObjectDef {
        &self.schema.objects[self.object]
    }
}

/// Starts processing a job that just reached `UploadComplete`.
pub fn start(state: AppState, job: Arc<IngestJob>) {
    tokio::spawn(async move {
        if job
            .job
            .transition(JobState::InProgress, Actor::Processor)
            .is_err()
        {
            return;
        }
        let planned = {
            let (state, job) = (state.clone(), job.clone());
            tokio::task::spawn_blocking(move || plan(&state, &job)).await
        };
        match planned {
            Ok(Ok((columns, batches))) => dispatch(state, job, columns, batches),
            Ok(Err(message)) => job.job.fail(message),
            Err(panic) => job.job.fail(format!("InternalServerError : {panic}")),
        }
    });
}

/// Reads every upload's header and cuts the rows into batches.
fn plan(state: &AppState, job: &IngestJob) -> Result<(Columns, Vec<Batch>), String> {
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

/// Sizes the outcome table and queues every batch on the shared pool.
fn dispatch(state: AppState, job: Arc<IngestJob>, columns: Columns, batches: Vec<Batch>) {
    let total: usize = batches.iter().map(|b| b.rows).sum();
    job.data.outcomes.lock().resize(total, Outcome::Unprocessed);
    job.data.pending.store(batches.len(), Ordering::SeqCst);
    if batches.is_empty() {
        let _ = job.job.transition(JobState::JobComplete, Actor::Processor);
        return;
    }
    let schema = state.store.schema().clone();
    let object = schema
        .objects
        .iter()
        .position(|o| o.name == job.job.spec.object)
        .expect("validated at job creation");
    let fail_at = state.faults.bulk_job_fails().then_some(batches.len() / 2);
    if fail_at.is_some() {
        state.stats.count_fault("bulk-fail");
    }
    let context = Arc::new(Context {
        state,
        job,
        schema,
        object,
        columns,
        fail_at,
    });
    for batch in batches {
        tokio::spawn(run_batch(context.clone(), batch));
    }
}

/// Runs one batch to its end, going back to the queue after lock timeouts.
async fn run_batch(context: Arc<Context>, mut batch: Batch) {
    let pool = context
        .state
        .bulk
        .pool(context.state.config.bulk.parallel_batches);
    loop {
        let Ok(_permit) = pool.clone().acquire_owned().await else {
            break;
        };
        if !process(&context, &mut batch).await {
            break;
        }
    }
    let job = &context.job;
    if job.data.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
        let _ = job.job.transition(JobState::JobComplete, Actor::Processor);
    }
}

/// Processes what is left of a batch; true when it must be retried later.
async fn process(context: &Context, batch: &mut Batch) -> bool {
    let job = &context.job.job;
    if !job.is_running() {
        return false;
    }
    if context.fail_at == Some(batch.index) {
        job.fail(INJECTED_FAILURE);
        return false;
    }
    if !batch.counted {
        if !context
            .state
            .bulk
            .count_batch(&context.state, batch.rows as u64)
        {
            job.fail("ExceededQuota : The daily limit of Bulk API batches (DailyBulkApiBatches) is exhausted");
            return false;
        }
        batch.counted = true;
    }
    let started = Instant::now();
    let retry = process_chunks(context, batch).await;
    job.processing_ms
        .fetch_add(started.elapsed().as_millis() as u64, Ordering::Relaxed);
    if retry {
        job.retries.fetch_add(1, Ordering::Relaxed);
        batch.attempt += 1;
    }
    retry
}

/// Runs the batch's remaining chunks; true when a chunk met a lock timeout and must retry.
async fn process_chunks(context: &Context, batch: &mut Batch) -> bool {
    let config = &context.state.config.bulk;
    let data = context
        .job
        .data
        .upload(batch.upload)
        .expect("batches come from uploads");
    let dialect = context.job.job.spec.dialect;
    let mut reader = dialect.reader(&data[batch.start..batch.end]);
    let mut record = ByteRecord::new();
    for _ in 0..batch.done {
        let _ = reader.read_byte_record(&mut record);
    }
    let last_attempt = batch.attempt >= config.batch_retries;
    while batch.done < batch.rows && context.job.job.is_running() {
        let size = config.chunk_size.max(1).min(batch.rows - batch.done);
        let first = batch.first_row + batch.done;
        let work = read_chunk(context, &mut reader, &mut record, first, size);
        if !apply_chunk(context, work, last_attempt).await {
            return true;
        }
        batch.done += size;
        tokio::task::yield_now().await;
    }
    false
}

/// One row ready to write.
struct Ready {
    row: usize,
    action: Action,
    parents: Vec<String>,
}

enum Action {
    Insert(Changes),
    Update(String, Changes),
    Upsert(Value, Changes),
    Delete(String),
}

impl Action {
    fn known_id(&self) -> Option<RecordId> {
        match self {
            Action::Update(id, _) | Action::Delete(id) => {
                ids::normalize(id).as_deref().and_then(record_id)
            }
            _ => None,
        }
    }
}

/// A chunk: rows to write and rows that already failed validation.
struct ChunkWork {
    ready: Vec<Ready>,
    done: Vec<(usize, Outcome)>,
}

/// Reads and validates `size` rows starting at global row `first`.
fn read_chunk(
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
            require_id(id_cell, "update")?;
            let changes = store
                .changes_from_csv(object, &columns.header, &cells, WriteMode::Update)
                .map_err(|e| (known, e))?;
            Action::Update(id_cell.to_string(), changes)
        }
        Operation::Upsert { column, field } => {
            upsert_action(context, object, &cells, *column, field)?
        }
        Operation::Delete { .. } => {
            require_id(id_cell, "delete")?;
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
                format!("Id not specified in an {call} call"),
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

/// Locks, writes and records one chunk; false when the locks timed out and the batch
/// should be retried.
async fn apply_chunk(context: &Context, work: ChunkWork, last_attempt: bool) -> bool {
    let ChunkWork { ready, mut done } = work;
    let mut rows: Vec<String> = ready
        .iter()
        .flat_map(|r| r.parents.iter().cloned())
        .collect();
    rows.sort_unstable();
    rows.dedup();
    let count = ready.len() + done.len();
    let guard = if rows.is_empty() {
        None
    } else {
        match context
            .state
            .locks
            .acquire(rows, context.state.lock_wait())
            .await
        {
            Ok(guard) => Some(guard),
            Err(_) if !last_attempt => return false,
            Err(timeout) => {
                let error = FieldError::new("UNABLE_TO_LOCK_ROW", timeout.message(), &[]);
                done.extend(
                    ready
                        .iter()
                        .map(|r| (r.row, Outcome::failed(r.action.known_id(), &error))),
                );
                record(context, done);
                return true;
            }
        }
    };
    done.extend(ready.into_iter().map(|r| (r.row, apply(context, r.action))));
    let micros = context.state.config.bulk.row_micros;
    if micros > 0 {
        tokio::time::sleep(Duration::from_micros(micros.saturating_mul(count as u64))).await;
    }
    drop(guard);
    record(context, done);
    true
}

/// Writes one row.
fn apply(context: &Context, action: Action) -> Outcome {
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

/// Stores a chunk's outcomes and counts them.
fn record(context: &Context, outcomes: Vec<(usize, Outcome)>) {
    let job = &context.job;
    let mut codes: Vec<(&str, u64)> = Vec::new();
    let mut failed = 0;
    for (_, outcome) in &outcomes {
        if let Outcome::Failed { error, .. } = outcome {
            failed += 1;
            let code = error.split(':').next().unwrap_or_default();
            match codes.iter_mut().find(|(c, _)| *c == code) {
                Some((_, n)) => *n += 1,
                None => codes.push((code, 1)),
            }
        }
    }
    for (code, n) in codes {
        context.state.stats.count_errors(code, n);
    }
    job.job
        .processed
        .fetch_add(outcomes.len() as u64, Ordering::Relaxed);
    job.job.failed.fetch_add(failed, Ordering::Relaxed);
    let mut table = job.data.outcomes.lock();
    for (row, outcome) in outcomes {
        if let Some(slot) = table.get_mut(row) {
            *slot = outcome;
        }
    }
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
