//! `sfscale`: the command an operator runs — the demo, load and extract, limits, the
//! emulator as a server, and load testing.
//!
//! Every command is a thin shell around the core (`sfscale`) and the emulator
//! (`sfscale-emulator`): argument parsing, progress and a report live here, every scaling
//! decision stays in the core. Failures end as one line on stderr and a non-zero exit code
//! (see [`failure`]), never a backtrace: an operator at 2 a.m. needs the cause, not a stack.

mod commands;
mod connect;
mod failure;
mod profile;
mod progress;
mod report;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::failure::Failure;

/// Salesforce integrations that survive high traffic: bulk load and extract, limits, a local
/// emulator, load tests and a demo of all of it.
///
/// Connection settings come from the same SFSCALE_* variables as the library
/// (SFSCALE_INSTANCE_URL, SFSCALE_CLIENT_ID, SFSCALE_CLIENT_SECRET, SFSCALE_USERNAME,
/// SFSCALE_PASSWORD, SFSCALE_PRIVATE_KEY_FILE, ...) or from the flags of each command.
#[derive(Parser, Debug)]
#[command(name = "sfscale", version, propagate_version = true)]
#[command(after_help = "Examples:
  sfscale demo                                   # the main job, against an in-process emulator
  sfscale emulate --port 8443                    # a local Salesforce org in the foreground
  sfscale limits --json
  sfscale load Contact contacts.csv --operation upsert --external-id External_Id__c
  sfscale extract \"SELECT Id, Name FROM Account\" --out accounts.csv
  sfscale bench --rate 200 --concurrency 16 --duration 20s --profile brownout")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: boxing the larger variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    Demo(commands::demo::Args),
    Load(commands::load::Args),
    Extract(commands::extract::Args),
    Limits(commands::limits::Args),
    Emulate(commands::emulate::Args),
    Bench(commands::bench::Args),
}

async fn run(command: Command) -> Result<ExitCode, Failure> {
    match command {
        Command::Demo(args) => commands::demo::run(args).await,
        Command::Load(args) => commands::load::run(args).await,
        Command::Extract(args) => commands::extract::run(args).await,
        Command::Limits(args) => commands::limits::run(args).await,
        Command::Emulate(args) => commands::emulate::run(args).await,
        Command::Bench(args) => commands::bench::run(args).await,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SFSCALE_LOG")
                .unwrap_or_else(|_| "error".into()),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return Failure::io("cannot start the async runtime", error).exit(),
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(failure) => failure.exit(),
    }
}
