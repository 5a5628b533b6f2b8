//! `sfscale extract "SELECT ..." --out FILE.csv`: a Bulk API 2.0 query written to a CSV
//! file page by page (`Sforce-Locator`), so memory stays at one page whatever the result
//! size. The core does the paging; this command names the file and reports.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::connect::ConnectArgs;
use crate::failure::Failure;
use crate::progress::Display;
use crate::report::{seconds, thousands, Report};

/// Extract a SOQL query's rows to a CSV file with a Bulk API 2.0 query (constant memory).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  sfscale extract \"SELECT Id, Name, External_Id__c FROM Account\" --out accounts.csv
  sfscale extract \"SELECT Id FROM Contact WHERE IsDeleted = true\" --all --out deleted.csv
  sfscale extract \"SELECT Id, Email FROM Contact\" --out contacts.csv --page-size 10000")]
pub struct Args {
    /// The SOQL query (Bulk API 2.0: no aggregates, no nested subqueries).
    soql: String,
    /// The CSV file to write (one header row, then every result row).
    #[arg(long, short, value_name = "FILE")]
    out: PathBuf,
    /// queryAll: include deleted and archived records.
    #[arg(long)]
    all: bool,
    /// Rows per result page (`maxRecords`); bounds memory.
    #[arg(long, value_name = "ROWS", default_value_t = 50_000)]
    page_size: u64,
    #[command(flatten)]
    connect: ConnectArgs,
}

pub async fn run(args: Args) -> Result<ExitCode, Failure> {
    let client = args.connect.client()?;
    let display = Display::detect();
    let spinner = display.bar("extract", None, "rows");
    spinner.note("query job running");
    let started = Instant::now();
    let mut query = client.bulk().query(&args.soql).page_size(args.page_size);
    if args.all {
        query = query.query_all();
    }
    let result = query.to_csv(&args.out).await?;
    spinner.finish(result.rows, &format!("written to {}", args.out.display()));
    let mut report = Report::default();
    report
        .section("extract")
        .line("file", args.out.display().to_string())
        .line("rows", thousands(result.rows))
        .line("result pages", thousands(result.pages))
        .line("API calls", thousands(result.api_calls))
        .line("query job", result.job_id)
        .line("time", seconds(started.elapsed()));
    print!("{}", report.render());
    Ok(ExitCode::SUCCESS)
}
