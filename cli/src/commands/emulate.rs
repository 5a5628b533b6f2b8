//! `sfscale emulate`: the emulator as a foreground server, like the `sfscale-emulator`
//! binary — same config file, same single ready line on stdout
//! (`sfscale-emulator listening on <url>`) so harnesses written for one work with the other,
//! stopped by SIGTERM or Ctrl-C after open requests finish.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use sfscale_emulator::{Config, Emulator, StartError};

use crate::failure::{Failure, EXIT_ERROR};

/// Run a local Salesforce org (the emulator) in the foreground until Ctrl-C or SIGTERM.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  sfscale emulate                          # a free port; the URL is on the first line
  sfscale emulate --port 8443
  sfscale emulate --config emulator.toml   # limits, latency, bulk speed, faults (see emulator/README.md)

Credentials: client id sfscale-emulator-client, secret sfscale-emulator-secret,
user integration@sfscale.test, password sfscale-password. Counters: GET <url>/__emulator/stats")]
pub struct Args {
    /// TOML configuration (see emulator/README.md). Default: the built-in org.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Port to bind; 0 picks a free one (overrides the file).
    #[arg(long)]
    port: Option<u16>,
    /// Address to bind (overrides the file). Default: 127.0.0.1.
    #[arg(long)]
    host: Option<String>,
}

/// Reads the config file (if any) and applies the flags.
pub fn load_config(path: Option<&PathBuf>) -> Result<Config, Failure> {
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read config {}: {e}", path.display())))?;
    Config::from_toml(&text)
        .map_err(|e| Failure::usage(format!("invalid config {}: {e}", path.display())))
}

/// Starts an emulator, mapping a bad config to a usage failure.
pub async fn start(config: Config) -> Result<Emulator, Failure> {
    Emulator::start(config).await.map_err(|error| match error {
        StartError::Config(_) => Failure::usage(format!("emulator config: {error}")),
        other => Failure::new(EXIT_ERROR, format!("cannot start the emulator: {other}")),
    })
}

pub async fn run(args: Args) -> Result<ExitCode, Failure> {
    let mut config = load_config(args.config.as_ref())?;
    if let Some(port) = args.port {
        config.port = port;
    }
    if let Some(host) = args.host {
        config.host = host;
    }
    let emulator = start(config).await?;
    let stop = stop_signal()?;
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "sfscale-emulator listening on {}", emulator.url());
    let _ = stdout.flush();
    stop.await;
    emulator.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGTERM or Ctrl-C; listening starts before the ready line is printed, so a
/// signal sent right after it is never missed.
fn stop_signal() -> Result<impl std::future::Future<Output = ()>, Failure> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let listen = |kind| signal(kind).map_err(|e| Failure::io("cannot listen for signals", e));
        let mut term = listen(SignalKind::terminate())?;
        let mut interrupt = listen(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
