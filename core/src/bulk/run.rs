//! A run from input to outcome files: plan, rounds of parallel jobs, lock-retry rounds,
//! deadline, resume.
//!
//! ```text
//! start:  read input ─► shapes + grouping (describe) ─► journal run ─► plan chunks ─► journal plan
//! rounds: round r: chunks not Done run, at most `max_parallel_jobs` at once, never two of a lane
//!         ─► rows deferred on UNABLE_TO_LOCK_ROW ─► round r+1 planned from them (smaller, fewer
//!         at once; the last round is serial) ─► ... until none is deferred or rounds run out
//! finish: per-chunk outcome files merged into success.csv / error.csv; run marked done
//! ```
//!
//! The deadline wraps the rounds: when it passes, in-flight steps are dropped (the journal
//! already holds every completed step) and the result says `complete: false`. `resume`
//! rebuilds the same context from the journal and enters the rounds again.

use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use futures::stream::{FuturesUnordered, StreamExt as _};
use serde::{Deserialize, Serialize};

use crate::bulk::api::{BulkResult, Hooks, IngestBuilder, IngestInput, ResumeBuilder};
use crate::bulk::codes::BULK_IO;
use crate::bulk::encode::{flatten, Fields, Record, Shapes};
use crate::bulk::infer::infer_group_by;
use crate::bulk::ingest::RunContext;
use crate::bulk::journal::{ChunkRecord, ChunkState, Journal, RunState};
use crate::bulk::lease::Lease;
use crate::bulk::options::{GroupBy, IngestSettings, Operation};
use crate::bulk::plan::{io_error, Caps, PlanConfig, Planner, RunDir};
use crate::bulk::progress::ProgressTracker;
use crate::bulk::results::{merge_outcomes, read_retry, RowError, RowOutcome, ROW_COLUMN};
use crate::bulk::wire::Wire;
use crate::client::Client;
use crate::error::{Error, ErrorKind};

/// Failures kept in [`BulkResult::failures`].
const FAILURE_SAMPLE: usize = 100;

/// What the journal keeps about a run besides its chunks.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunSpec {
    object: String,
    operation: Operation,
    external_id: Option<String>,
    group_by: Option<String>,
    grouping_reason: String,
    settings: IngestSettings,
}

fn api_name(setting: &str, value: &str) -> Result<(), Error> {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{setting}: '{value}' is not a Salesforce API name"
        )))
    }
}

fn new_run_id() -> String {
    format!(
        "{}-{:08x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S"),
        rand::random::<u32>()
    )
}

fn journal_path(work_dir: &Path) -> PathBuf {
    work_dir.join("journal.sqlite")
}

/// Rows as they come out of the input.
enum Source {
    Records(
        futures::stream::BoxStream<'static, Result<Record, Error>>,
        Operation,
    ),
    Fields(
        futures::stream::BoxStream<'static, Result<Fields, Error>>,
        Operation,
    ),
    Csv(
        csv::StringRecordsIntoIter<Box<dyn std::io::Read + Send>>,
        usize,
    ),
}

/// One input row: placed in a shape, or refused (the error concerns only that row).
type RowRead = Result<(usize, Vec<String>), Error>;

impl Source {
    fn open(input: IngestInput, operation: Operation) -> Result<(Source, Shapes), Error> {
        let reader: Box<dyn std::io::Read + Send> = match input {
            IngestInput::Records(stream) => {
                return Ok((Source::Records(stream, operation), Shapes::default()))
            }
            IngestInput::Fields(stream) => {
                return Ok((Source::Fields(stream, operation), Shapes::default()))
            }
            IngestInput::CsvFile(path) => Box::new(BufReader::new(
                File::open(&path).map_err(|e| io_error("cannot open", &path, e))?,
            )),
            IngestInput::CsvBytes(bytes) => Box::new(std::io::Cursor::new(bytes)),
        };
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let header: Vec<String> = csv
            .headers()
            .map_err(|e| Error::invalid_input(format!("unreadable CSV header: {e}")))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
            .collect();
        if header.is_empty() || header.iter().any(String::is_empty) {
            return Err(Error::invalid_input(
                "the CSV header must name every column",
            ));
        }
        let width = header.len();
        Ok((
            Source::Csv(csv.into_records(), width),
            Shapes::single(header),
        ))
    }

    /// The next row; `None` at the end; an outer `Err` is a failure of the input itself.
    async fn next(&mut self, shapes: &mut Shapes) -> Option<Result<RowRead, Error>> {
        match self {
            Source::Records(stream, operation) => {
                let record = stream.next().await?;
                Some(record.map(|r| flatten(r, *operation).and_then(|f| shapes.place(f))))
            }
            Source::Fields(stream, operation) => {
                let record = stream.next().await?;
                Some(record.map(|r| flatten(r, *operation).and_then(|f| shapes.place(f))))
            }
            Source::Csv(records, width) => {
                let record = match records.next()? {
                    Ok(r) => r,
                    Err(e) => {
                        return Some(Err(Error::invalid_input(format!("unreadable CSV: {e}"))))
                    }
                };
                let row = if record.len() == *width {
                    Ok((0, record.iter().map(str::to_owned).collect()))
                } else {
                    Err(Error::invalid_input(format!(
                        "the row has {} fields; the header has {width}",
                        record.len()
                    )))
                };
                Some(Ok(row))
            }
        }
    }
}

/// Rows refused before upload, spooled while planning.
struct Rejects {
    path: PathBuf,
    writer: Option<csv::Writer<File>>,
    count: u64,
}

impl Rejects {
    fn new(dir: &RunDir) -> Rejects {
        Rejects {
            path: dir.0.join("rejected.spool"),
            writer: None,
            count: 0,
        }
    }

    fn add(&mut self, row: u64, error: &Error) -> Result<(), Error> {
        if self.writer.is_none() {
            let file =
                File::create(&self.path).map_err(|e| io_error("cannot create", &self.path, e))?;
            self.writer = Some(csv::Writer::from_writer(file));
        }
        let w = self.writer.as_mut().expect("opened");
        w.write_record([
            row.to_string(),
            error.code().to_owned(),
            error.message().to_owned(),
        ])
        .map_err(|e| io_error("cannot write", &self.path, e))?;
        self.count += 1;
        Ok(())
    }

    /// Writes `rejected.error.csv` in the outcome format, calling `on_row` per row.
    fn finish(
        mut self,
        dir: &RunDir,
        union: &[String],
        on_row: Option<&(dyn Fn(&RowOutcome) + Send + Sync)>,
    ) -> Result<u64, Error> {
        let Some(mut w) = self.writer.take() else {
            return Ok(0);
        };
        w.flush()
            .map_err(|e| io_error("cannot write", &self.path, e))?;
        let out = dir.0.join("rejected.error.csv");
        let mut writer =
            csv::Writer::from_path(&out).map_err(|e| io_error("cannot create", &out, e))?;
        let head = [ROW_COLUMN, "sf__Id", "sf__Error"]
            .into_iter()
            .map(str::to_owned)
            .chain(union.iter().cloned());
        writer
            .write_record(head)
            .map_err(|e| io_error("cannot write", &out, e))?;
        for rec in csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(&self.path)
            .map_err(|e| io_error("cannot read", &self.path, e))?
            .into_records()
        {
            let rec = rec.map_err(|e| io_error("cannot read", &self.path, e))?;
            let error = RowError {
                code: rec[1].to_owned(),
                message: rec[2].to_owned(),
                fields: Vec::new(),
            };
            let line = [rec[0].to_owned(), String::new(), error.to_wire()]
                .into_iter()
                .chain(union.iter().map(|_| String::new()));
            writer
                .write_record(line)
                .map_err(|e| io_error("cannot write", &out, e))?;
            if let Some(cb) = on_row {
                cb(&RowOutcome {
                    row: rec[0].parse().ok(),
                    id: None,
                    created: None,
                    error: Some(error),
                });
            }
        }
        writer
            .flush()
            .map_err(|e| io_error("cannot write", &out, e))?;
        let _ = std::fs::remove_file(&self.path);
        Ok(self.count)
    }
}

fn plan_config(settings: &IngestSettings, group_by: Option<String>) -> PlanConfig {
    PlanConfig {
        caps: Caps {
            rows: settings.max_rows_per_job,
            bytes: settings.max_upload_bytes,
        },
        group_rows: settings.batch_rows.min(settings.max_rows_per_job),
        group_by,
        buckets: settings.buckets,
        sort_rows: settings.sort_rows,
    }
}

/// Picks the grouping column for the first row's columns.
async fn resolve_grouping(
    client: &Client,
    object: &str,
    group_by: &GroupBy,
    columns: &[String],
) -> (Option<String>, String) {
    match group_by {
        GroupBy::Off => (None, "grouping turned off".to_owned()),
        GroupBy::Field(column) if columns.iter().any(|c| c.eq_ignore_ascii_case(column)) => {
            (Some(column.clone()), format!("{column} given"))
        }
        GroupBy::Field(column) => (
            None,
            format!("{column} given but not among the columns; no grouping"),
        ),
        GroupBy::Infer => match client.describe(object).await {
            Ok(describe) => match infer_group_by(&describe, columns) {
                Some((column, reason)) => {
                    (Some(column), format!("inferred from describe: {reason}"))
                }
                None => (
                    None,
                    "no parent lookup among the columns; no grouping".to_owned(),
                ),
            },
            Err(e) => (None, format!("describe failed ({}); no grouping", e.code())),
        },
    }
}

/// Starts a new run.
pub(crate) async fn start(builder: IngestBuilder, input: IngestInput) -> Result<BulkResult, Error> {
    let IngestBuilder {
        bulk,
        object,
        operation,
        external_id,
        group_by,
        settings,
        run_id,
        hooks,
    } = builder;
    api_name("object", &object)?;
    if let Some(ext) = &external_id {
        api_name("external_id", ext)?;
    }
    if operation == Operation::Upsert && external_id.is_none() {
        return Err(Error::invalid_input(
            "upsert needs an external id field (external_id)",
        ));
    }
    settings.validate()?;
    let run_id = run_id.unwrap_or_else(new_run_id);
    api_name("run_id", &run_id.replace('-', "_"))?;
    let journal = Journal::open(&journal_path(&bulk.work_dir))?;
    if journal.run(&run_id)?.is_some() {
        return Err(Error::invalid_input(format!(
            "run_id: a run named '{run_id}' already exists; resume it instead"
        )));
    }
    let dir = RunDir(bulk.work_dir.join(&run_id));
    let (mut source, mut shapes) = Source::open(input, operation)?;
    let first = source.next(&mut shapes).await.transpose()?;
    let columns = match &first {
        Some(Ok((shape, _))) => shapes.of(*shape).to_vec(),
        _ => shapes.columns().first().cloned().unwrap_or_default(),
    };
    let (group_column, grouping_reason) =
        resolve_grouping(&bulk.client, &object, &group_by, &columns).await;
    let spec = RunSpec {
        object,
        operation,
        external_id,
        group_by: group_column,
        grouping_reason,
        settings,
    };
    journal.create_run(
        &run_id,
        &serde_json::to_string(&spec).map_err(|e| Error::invalid_input(e.to_string()))?,
    )?;
    let lease = Lease::acquire(&journal, &run_id)?;
    let progress = ProgressTracker::new(hooks.progress.clone());
    let config = plan_config(&spec.settings, spec.group_by.clone());
    let planned = async {
        let planner = Planner::new(dir.clone(), config, shapes, 0)?;
        plan_input(
            planner,
            &mut source,
            first,
            &dir,
            &progress,
            &hooks,
            &journal,
            &run_id,
        )
        .await
    };
    let planned = tokio::select! {
        planned = planned => planned,
        lost = lease.keep() => Err(lost),
    };
    let shapes = match planned {
        Ok((shapes, _, _)) => shapes,
        Err(e) => {
            let _ = lease.release();
            return Err(e);
        }
    };
    let ctx = context(
        &bulk.client,
        journal,
        run_id,
        dir,
        &spec,
        shapes,
        progress,
        &hooks,
    );
    execute(ctx, &spec, hooks.deadline, lease).await
}

#[allow(clippy::too_many_arguments)]
async fn plan_input(
    mut planner: Planner,
    source: &mut Source,
    first: Option<RowRead>,
    dir: &RunDir,
    progress: &ProgressTracker,
    hooks: &Hooks,
    journal: &Journal,
    run_id: &str,
) -> Result<(Shapes, u64, u64), Error> {
    let mut rejects = Rejects::new(dir);
    let mut next = first;
    let mut row = 0u64;
    while let Some(read) = next {
        match read.and_then(|(shape, fields)| planner.push(row, shape, fields)) {
            Ok(()) => {}
            Err(error) if error.code() == BULK_IO => return Err(error),
            Err(error) => rejects.add(row, &error)?,
        }
        row += 1;
        if row.is_multiple_of(1024) {
            progress.read(1024);
            tokio::task::yield_now().await;
        }
        next = source.next(planner.shapes_mut()).await.transpose()?;
    }
    progress.read(row % 1024);
    let (chunks, shapes) = planner.finish()?;
    let rejected = rejects.finish(dir, &shapes.union(), hooks.on_row.as_deref())?;
    progress.failed(rejected);
    let shapes_json =
        serde_json::to_string(shapes.columns()).map_err(|e| Error::invalid_input(e.to_string()))?;
    journal.record_plan(run_id, 0, &chunks, &shapes_json, row, rejected)?;
    Ok((shapes, row, rejected))
}

#[allow(clippy::too_many_arguments)]
fn context(
    client: &Client,
    journal: Journal,
    run_id: String,
    dir: RunDir,
    spec: &RunSpec,
    shapes: Shapes,
    progress: ProgressTracker,
    hooks: &Hooks,
) -> RunContext {
    RunContext {
        wire: Wire::new(client.clone()),
        journal,
        run_id,
        dir,
        object: spec.object.clone(),
        operation: spec.operation,
        external_id: spec.external_id.clone(),
        group_by: spec.group_by.clone(),
        settings: spec.settings.clone(),
        shapes,
        progress,
        on_row: hooks.on_row.clone(),
    }
}

/// Continues a journaled run.
pub(crate) async fn resume(builder: ResumeBuilder) -> Result<BulkResult, Error> {
    let ResumeBuilder {
        bulk,
        run_id,
        hooks,
    } = builder;
    let journal = Journal::open(&journal_path(&bulk.work_dir))?;
    let run = journal.run(&run_id)?.ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            crate::error::codes::NOT_FOUND,
            format!("no bulk run '{run_id}' in {}", bulk.work_dir.display()),
        )
    })?;
    let spec: RunSpec = serde_json::from_str(&run.spec)
        .map_err(|e| Error::invalid_input(format!("journaled run spec unreadable: {e}")))?;
    let dir = RunDir(bulk.work_dir.join(&run_id));
    if run.state == RunState::Planning {
        return Err(Error::invalid_input(format!(
            "run '{run_id}' stopped while reading its input, before anything was uploaded; start it again"
        )));
    }
    let columns: Vec<Vec<String>> = serde_json::from_str(&run.shapes)
        .map_err(|e| Error::invalid_input(format!("journaled shapes unreadable: {e}")))?;
    let ctx = context(
        &bulk.client,
        journal,
        run_id,
        dir,
        &spec,
        Shapes::from_columns(columns),
        ProgressTracker::new(hooks.progress.clone()),
        &hooks,
    );
    if run.state == RunState::Done {
        return build_result(&ctx, &spec, true);
    }
    let lease = Lease::acquire(&ctx.journal, &ctx.run_id)?;
    execute(ctx, &spec, hooks.deadline, lease).await
}

async fn execute(
    ctx: RunContext,
    spec: &RunSpec,
    deadline: Option<std::time::Duration>,
    lease: Lease,
) -> Result<BulkResult, Error> {
    let work = async {
        match deadline {
            Some(d) => tokio::time::timeout(d, rounds(&ctx)).await.ok(),
            None => Some(rounds(&ctx).await),
        }
    };
    let finished = tokio::select! {
        finished = work => finished,
        lost = lease.keep() => Some(Err(lost)),
    };
    let released = lease.release();
    ctx.save_calls()?;
    released?;
    match finished {
        Some(Ok(())) => {
            finalize(&ctx)?;
            build_result(&ctx, spec, true)
        }
        Some(Err(e)) => Err(e.with_context(
            format!("bulk.ingest (run {}, resumable)", ctx.run_id),
            Some(&spec.object),
        )),
        None => {
            merge(&ctx)?;
            build_result(&ctx, spec, false)
        }
    }
}

async fn rounds(ctx: &RunContext) -> Result<(), Error> {
    loop {
        let run = ctx
            .journal
            .run(&ctx.run_id)?
            .ok_or_else(|| Error::invalid_input("the run vanished from the journal"))?;
        let chunks = ctx.journal.chunks(&ctx.run_id)?;
        let open: Vec<ChunkRecord> = chunks
            .iter()
            .filter(|c| c.round == run.round && c.state != ChunkState::Done)
            .cloned()
            .collect();
        let allow_lock_retry = run.round < ctx.settings.lock_retry_rounds;
        if !open.is_empty() {
            run_round(
                ctx,
                open,
                ctx.settings.for_round(run.round).max_parallel_jobs,
                allow_lock_retry,
            )
            .await?;
            continue;
        }
        let deferred: Vec<u64> = chunks
            .iter()
            .filter(|c| c.round == run.round && c.counts.lock_deferred > 0)
            .map(|c| c.plan.id)
            .collect();
        if deferred.is_empty() || !allow_lock_retry {
            return Ok(());
        }
        let next_id = chunks.iter().map(|c| c.plan.id + 1).max().unwrap_or(0);
        plan_retry_round(ctx, &run, &deferred, next_id)?;
    }
}

/// Runs chunks, at most `parallel` at once and one per lane.
async fn run_round(
    ctx: &RunContext,
    chunks: Vec<ChunkRecord>,
    parallel: usize,
    allow_lock_retry: bool,
) -> Result<(), Error> {
    let mut waiting: VecDeque<ChunkRecord> = chunks.into();
    let mut lanes = HashSet::new();
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < parallel {
            let Some(i) = waiting.iter().position(|c| !lanes.contains(&c.plan.lane)) else {
                break;
            };
            let chunk = waiting.remove(i).expect("found");
            lanes.insert(chunk.plan.lane);
            let lane = chunk.plan.lane;
            running.push(async move { (lane, ctx.drive(chunk, allow_lock_retry).await) });
        }
        let Some((lane, done)) = running.next().await else {
            return Ok(());
        };
        lanes.remove(&lane);
        done?;
    }
}

fn plan_retry_round(
    ctx: &RunContext,
    run: &crate::bulk::journal::RunRecord,
    deferred: &[u64],
    next_id: u64,
) -> Result<(), Error> {
    let round = run.round + 1;
    let config = plan_config(&ctx.settings.for_round(round), ctx.group_by.clone());
    let mut planner = Planner::new(ctx.dir.clone(), config, ctx.shapes.clone(), next_id)?;
    for &chunk in deferred {
        for (row, shape, fields) in read_retry(&ctx.dir, chunk)? {
            planner.push(row, shape, fields)?;
        }
    }
    let (chunks, _) = planner.finish()?;
    tracing::info!(round, chunks = chunks.len(), "planned a lock-retry round");
    let shapes_json = serde_json::to_string(ctx.shapes.columns())
        .map_err(|e| Error::invalid_input(e.to_string()))?;
    ctx.journal.record_plan(
        &ctx.run_id,
        round,
        &chunks,
        &shapes_json,
        run.rows_read,
        run.rejected,
    )
}

fn outcome_parts(ctx: &RunContext, chunks: &[ChunkRecord], kind: &str) -> Vec<PathBuf> {
    let mut parts = Vec::new();
    if kind == "error" {
        parts.push(ctx.dir.0.join("rejected.error.csv"));
    }
    parts.extend(
        chunks
            .iter()
            .filter(|c| c.state == ChunkState::Done)
            .map(|c| ctx.dir.chunk_outcomes(c.plan.id, kind)),
    );
    parts
}

fn merge(ctx: &RunContext) -> Result<Vec<ChunkRecord>, Error> {
    let chunks = ctx.journal.chunks(&ctx.run_id)?;
    std::fs::create_dir_all(&ctx.dir.0).map_err(|e| io_error("cannot create", &ctx.dir.0, e))?;
    for kind in ["success", "error"] {
        merge_outcomes(
            &outcome_parts(ctx, &chunks, kind),
            &ctx.dir.0.join(format!("{kind}.csv")),
        )?;
    }
    Ok(chunks)
}

/// Merges the outcome files, removes the chunk files, marks the run done.
fn finalize(ctx: &RunContext) -> Result<(), Error> {
    let chunks = merge(ctx)?;
    for c in &chunks {
        let id = c.plan.id;
        for path in [
            ctx.dir.chunk_csv(id),
            ctx.dir.chunk_rows(id),
            ctx.dir.chunk_retry(id),
            ctx.dir.chunk_outcomes(id, "success"),
            ctx.dir.chunk_outcomes(id, "error"),
        ] {
            let _ = std::fs::remove_file(path);
        }
    }
    let _ = std::fs::remove_file(ctx.dir.0.join("rejected.error.csv"));
    ctx.journal.finish_run(&ctx.run_id)
}

fn build_result(ctx: &RunContext, spec: &RunSpec, complete: bool) -> Result<BulkResult, Error> {
    let run = ctx
        .journal
        .run(&ctx.run_id)?
        .ok_or_else(|| Error::invalid_input("the run vanished from the journal"))?;
    let chunks = ctx.journal.chunks(&ctx.run_id)?;
    let sum = |f: fn(&ChunkRecord) -> u64| {
        chunks
            .iter()
            .filter(|c| c.state == ChunkState::Done)
            .map(f)
            .sum::<u64>()
    };
    let succeeded = sum(|c| c.counts.succeeded);
    let failed = sum(|c| c.counts.failed) + run.rejected;
    let error_file = ctx.dir.0.join("error.csv");
    Ok(BulkResult {
        run_id: ctx.run_id.clone(),
        complete,
        object: spec.object.clone(),
        operation: spec.operation,
        rows_read: run.rows_read,
        rows_succeeded: succeeded,
        rows_failed: failed,
        rows_pending: run.rows_read.saturating_sub(succeeded + failed),
        jobs_used: run.jobs_used,
        api_calls: run.api_calls,
        lock_retry_rounds: chunks.iter().map(|c| c.round).max().unwrap_or(0),
        lock_retried_rows: sum(|c| c.counts.lock_deferred),
        group_by: spec.group_by.clone(),
        grouping_reason: spec.grouping_reason.clone(),
        success_file: ctx.dir.0.join("success.csv"),
        failures: read_failures(&error_file)?,
        error_file,
    })
}

/// The first failures of an outcome file.
fn read_failures(path: &Path) -> Result<Vec<RowOutcome>, Error> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(path).map_err(|e| io_error("cannot read", path, e))?;
    let mut out = Vec::new();
    for rec in reader.records().take(FAILURE_SAMPLE) {
        let rec = rec.map_err(|e| io_error("cannot read", path, e))?;
        out.push(RowOutcome {
            row: rec.get(0).and_then(|r| r.parse().ok()),
            id: rec.get(1).filter(|v| !v.is_empty()).map(str::to_owned),
            created: None,
            error: Some(RowError::parse(rec.get(2).unwrap_or_default())),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn csv_rows_with_the_wrong_width_are_refused_one_by_one() {
        let (mut source, mut shapes) = Source::open(
            IngestInput::csv_bytes("Name,Phone\na,1\nb\nc,3\n"),
            Operation::Insert,
        )
        .unwrap();
        let mut rows = Vec::new();
        while let Some(row) = source.next(&mut shapes).await {
            rows.push(row.unwrap().is_ok());
        }
        assert_eq!(rows, [true, false, true]);
        assert_eq!(shapes.of(0), ["Name", "Phone"]);
    }

    #[tokio::test]
    async fn a_byte_order_mark_does_not_become_part_of_the_first_column() {
        let (_, shapes) = Source::open(
            IngestInput::csv_bytes("\u{feff}Name,Phone\na,1\n"),
            Operation::Insert,
        )
        .unwrap();
        assert_eq!(shapes.of(0), ["Name", "Phone"]);
    }

    #[tokio::test]
    async fn planning_spools_rejects_and_counts_every_row() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir(tmp.path().join("run"));
        let journal = Journal::open(&tmp.path().join("j.sqlite")).unwrap();
        journal.create_run("r", "{}").unwrap();
        let records: Vec<Record> = (0..5)
            .map(|i| {
                let value = if i == 2 {
                    serde_json::json!({"Name": [[1]]})
                } else {
                    serde_json::json!({"Name": format!("n{i}")})
                };
                value.as_object().unwrap().clone()
            })
            .collect();
        let (mut source, mut shapes) =
            Source::open(IngestInput::from_records(records), Operation::Insert).unwrap();
        let first = source.next(&mut shapes).await.transpose().unwrap();
        let planner = Planner::new(
            dir.clone(),
            plan_config(&IngestSettings::default(), None),
            shapes,
            0,
        )
        .unwrap();
        let (_, read, rejected) = plan_input(
            planner,
            &mut source,
            first,
            &dir,
            &ProgressTracker::default(),
            &Hooks::default(),
            &journal,
            "r",
        )
        .await
        .unwrap();
        assert_eq!((read, rejected), (5, 1));
        let planned: u64 = journal
            .chunks("r")
            .unwrap()
            .iter()
            .map(|c| c.plan.rows)
            .sum();
        assert_eq!(planned, 4);
        let rejected_file = std::fs::read_to_string(dir.0.join("rejected.error.csv")).unwrap();
        assert!(
            rejected_file.contains("\n2,,\"INVALID_INPUT:field Name"),
            "{rejected_file}"
        );
    }
}
