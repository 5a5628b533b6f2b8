//! `sfscale load OBJECT FILE.csv`: a CSV file into Salesforce through the core's Bulk API 2.0
//! engine (lock-aware, journaled), with Data Loader-style success and error CSVs out.
//!
//! The run id is chosen here and printed before the first upload, so an operator whose
//! load was killed knows what to pass to `--resume` (the journal in the work directory
//! holds the rest). Exit code 3 when any row failed: the error CSV says which and why.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use sfscale::bulk::{BulkResult, IngestInput, Operation, Progress};

use crate::connect::ConnectArgs;
use crate::failure::{Failure, EXIT_DATA};
use crate::progress::{Bar, Display};
use crate::report::{seconds, thousands, Report};

/// Failures listed in the report (all of them are in the error CSV).
const SHOWN_FAILURES: usize = 10;

/// Load a CSV file into an object with Bulk API 2.0 (resumable; success/error CSVs out).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  sfscale load Account accounts.csv --operation upsert --external-id External_Id__c
  sfscale load Contact contacts.csv --operation upsert --external-id External_Id__c \\
      --success ok.csv --errors failed.csv
  sfscale load Contact contacts.csv --operation insert --group-by AccountId --parallel 8
  sfscale load --resume load-1764212345-4242        # after a crash or a kill

The CSV's header row holds field API names; a parent can be named by its external id
with a relationship column such as Account.External_Id__c. Row numbers in the output
files (sfscale__Row) count data rows from 0. Exit code 3 when any row failed.")]
pub struct Args {
    /// The sObject, e.g. Contact.
    #[arg(required_unless_present = "resume")]
    object: Option<String>,
    /// The CSV file to load.
    #[arg(required_unless_present = "resume")]
    file: Option<PathBuf>,
    /// insert, update, upsert, delete or hardDelete.
    #[arg(long, short = 'o', required_unless_present = "resume")]
    operation: Option<String>,
    /// External id field (upsert), e.g. External_Id__c.
    #[arg(long, value_name = "FIELD")]
    external_id: Option<String>,
    /// Group rows by this parent column (default: inferred from describe).
    #[arg(long, value_name = "COLUMN", conflicts_with = "no_grouping")]
    group_by: Option<String>,
    /// Send rows in input order (no lock-aware grouping).
    #[arg(long)]
    no_grouping: bool,
    /// Bulk jobs running at once.
    #[arg(long, value_name = "N")]
    parallel: Option<usize>,
    /// Rows per bulk job.
    #[arg(long, value_name = "N")]
    rows_per_job: Option<u64>,
    /// Name of the run (default: load-<time>-<pid>); must be new in the work directory.
    #[arg(long, value_name = "ID", conflicts_with = "resume")]
    run_id: Option<String>,
    /// Continue a run that was killed or timed out: finished jobs are not uploaded again.
    #[arg(long, value_name = "RUN_ID")]
    resume: Option<String>,
    /// Where runs are journaled [env: SFSCALE_BULK_DIR; default: <tmp>/sfscale-bulk]
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// Success CSV (default: <FILE>.success.csv, or <RUN_ID>.success.csv on --resume).
    #[arg(long, value_name = "FILE")]
    success: Option<PathBuf>,
    /// Error CSV (default: <FILE>.error.csv, or <RUN_ID>.error.csv on --resume).
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,
    #[command(flatten)]
    connect: ConnectArgs,
}

impl Args {
    /// `<base>.<kind>.csv` beside the input file, or in the current directory on resume.
    fn output(&self, chosen: &Option<PathBuf>, run_id: &str, kind: &str) -> PathBuf {
        if let Some(path) = chosen {
            return path.clone();
        }
        match &self.file {
            Some(file) => file.with_extension(format!("{kind}.csv")),
            None => PathBuf::from(format!("{run_id}.{kind}.csv")),
        }
    }
}

pub async fn run(args: Args) -> Result<ExitCode, Failure> {
    let client = args.connect.client()?;
    let mut bulk = client.bulk();
    if let Some(dir) = &args.work_dir {
        bulk = bulk.work_dir(dir);
    }
    let display = Display::detect();
    let started = Instant::now();
    let result = match &args.resume {
        Some(run_id) => {
            display.line(format!("resuming run {run_id} in {}", bulk.dir().display()));
            let bar = display.bar("load", None, "rows");
            let bar_for_progress = bar.clone();
            let result = bulk
                .resume(run_id)
                .on_progress(move |p| show(&bar_for_progress, p))
                .run()
                .await?;
            finish(&bar, &result);
            result
        }
        None => start(&args, &bulk, &display).await?,
    };
    let success = args.output(&args.success, &result.run_id, "success");
    let errors = args.output(&args.errors, &result.run_id, "error");
    copy(&result.success_file, &success)?;
    copy(&result.error_file, &errors)?;
    print!("{}", report(&result, &success, &errors, started).render());
    Ok(if result.rows_failed > 0 || !result.complete {
        ExitCode::from(EXIT_DATA)
    } else {
        ExitCode::SUCCESS
    })
}

async fn start(
    args: &Args,
    bulk: &sfscale::bulk::Bulk,
    display: &Display,
) -> Result<BulkResult, Failure> {
    let (Some(object), Some(file), Some(operation)) = (&args.object, &args.file, &args.operation)
    else {
        return Err(Failure::usage(
            "load needs OBJECT, FILE and --operation (or --resume RUN_ID)",
        ));
    };
    let operation = Operation::parse(operation)?;
    let total = count_rows(file)?;
    let run_id = args
        .run_id
        .clone()
        .unwrap_or_else(|| format!("load-{}-{}", unix_seconds(), std::process::id()));
    let mut ingest = bulk.ingest(object, operation).run_id(&run_id);
    if let Some(field) = &args.external_id {
        ingest = ingest.external_id(field);
    }
    if let Some(column) = &args.group_by {
        ingest = ingest.group_by(column);
    }
    if args.no_grouping {
        ingest = ingest.no_grouping();
    }
    if let Some(n) = args.parallel {
        ingest = ingest.max_parallel_jobs(n);
    }
    if let Some(n) = args.rows_per_job {
        ingest = ingest.max_rows_per_job(n);
    }
    display.line(format!(
        "run {run_id}: {} {object} from {} ({} rows); if interrupted: sfscale load --resume {run_id}{}",
        operation.wire(),
        file.display(),
        thousands(total),
        args.work_dir
            .as_ref()
            .map(|d| format!(" --work-dir {}", d.display()))
            .unwrap_or_default()
    ));
    let bar = display.bar("load", Some(total), "rows");
    let bar_for_progress = bar.clone();
    let result = ingest
        .on_progress(move |p| show(&bar_for_progress, p))
        .run(IngestInput::csv_file(file))
        .await?;
    finish(&bar, &result);
    Ok(result)
}

fn show(bar: &Bar, p: Progress) {
    bar.set(p.rows_processed);
    bar.note(format!(
        "read {} uploaded {} failed {}",
        thousands(p.rows_read),
        thousands(p.rows_uploaded),
        thousands(p.rows_failed)
    ));
}

fn finish(bar: &Bar, result: &BulkResult) {
    bar.finish(
        result.rows_succeeded + result.rows_failed,
        &format!(
            "{} succeeded, {} failed",
            thousands(result.rows_succeeded),
            thousands(result.rows_failed)
        ),
    );
}

/// Data rows in a CSV file (quoted newlines handled), read in constant memory.
fn count_rows(file: &Path) -> Result<u64, Failure> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(file)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => rows += 1,
            Ok(false) => return Ok(rows),
            Err(e) => return Err(Failure::usage(format!("{}: {e}", file.display()))),
        }
    }
}

fn copy(from: &Path, to: &Path) -> Result<(), Failure> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| Failure::io(format!("cannot write {}", to.display()), e))
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn report(result: &BulkResult, success: &Path, errors: &Path, started: Instant) -> Report {
    let mut report = Report::default();
    report
        .section("load")
        .line("run id", result.run_id.clone())
        .line(
            "object",
            format!("{} ({})", result.object, result.operation.wire()),
        )
        .line("rows read", thousands(result.rows_read))
        .line("succeeded", thousands(result.rows_succeeded))
        .line("failed", thousands(result.rows_failed))
        .line(
            "complete",
            if result.complete {
                "yes".into()
            } else {
                format!(
                    "no: {} rows pending, resume the run",
                    thousands(result.rows_pending)
                )
            },
        )
        .line("bulk jobs", thousands(result.jobs_used))
        .line("API calls", thousands(result.api_calls))
        .line(
            "lock retries",
            format!(
                "{} rows in {} later rounds",
                thousands(result.lock_retried_rows),
                result.lock_retry_rounds
            ),
        )
        .line(
            "grouping",
            match &result.group_by {
                Some(column) => format!("by {column} ({})", result.grouping_reason),
                None => format!("none ({})", result.grouping_reason),
            },
        )
        .line("success file", success.display().to_string())
        .line("error file", errors.display().to_string())
        .line("time", seconds(started.elapsed()));
    if !result.failures.is_empty() {
        report.section("first failures (row numbers count data rows from 0)");
        for failure in result.failures.iter().take(SHOWN_FAILURES) {
            let row = failure.row.map_or("?".into(), |r| r.to_string());
            let error = failure
                .error
                .as_ref()
                .map(|e| format!("{}: {}", e.code, e.message))
                .unwrap_or_default();
            report.line(&format!("row {row}"), error);
        }
    }
    report
}
