//! `sfscale-emulator`: runs one emulated Salesforce org until SIGTERM or Ctrl-C.
//!
//! Prints exactly one line on stdout once it accepts connections —
//! `sfscale-emulator listening on <url>` — so scripts and test harnesses in any language can
//! wait for it and read the URL (port 0 picks a free port). Logs go to stderr
//! (`RUST_LOG`, default `warn`). A bad config is one line on stderr and exit code 2.

use clap::Parser;
use sfscale_emulator::{Config, Emulator, StartError};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code for an unusable configuration.
const EXIT_CONFIG: u8 = 2;
/// Exit code for any other start-up failure (port in use, unwritable file).
const EXIT_RUNTIME: u8 = 1;

/// A local, wire-faithful Salesforce API server with limits and fault injection.
#[derive(Parser, Debug)]
#[command(name = "sfscale-emulator", version, about)]
struct Cli {
    /// Address to bind (overrides the config file). Default: 127.0.0.1.
    #[arg(long)]
    host: Option<String>,
    /// Port to bind; 0 picks a free one (overrides the config file). Default: 0.
    #[arg(long)]
    port: Option<u16>,
    /// TOML configuration file (see the emulator README). Default: built-in org.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Serve https with a generated certificate.
    #[arg(long)]
    tls: bool,
    /// Write the CA certificate (PEM) clients should trust to this file; implies --tls.
    #[arg(long, value_name = "FILE")]
    tls_cert_out: Option<PathBuf>,
}

fn load_config(cli: &Cli) -> Result<Config, String> {
    let mut config = match &cli.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
            Config::from_toml(&text).map_err(|e| {
                format!(
                    "invalid config {}: {}",
                    path.display(),
                    e.to_string().trim().replace('\n', " ")
                )
            })?
        }
        None => Config::default(),
    };
    if let Some(host) = &cli.host {
        config.host = host.clone();
    }
    if let Some(port) = cli.port {
        config.port = port;
    }
    config.tls |= cli.tls || cli.tls_cert_out.is_some();
    Ok(config)
}

fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("sfscale-emulator: {message}");
    ExitCode::from(code)
}

/// Listens for SIGTERM and Ctrl-C from the moment it is created (before the ready line, so
/// a signal sent right after it is never missed).
struct StopSignal {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignal {
    #[cfg(unix)]
    fn listen() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignal {
            term: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    #[cfg(not(unix))]
    fn listen() -> std::io::Result<Self> {
        Ok(StopSignal {})
    }

    #[cfg(unix)]
    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.interrupt.recv() => {}
        }
    }

    #[cfg(not(unix))]
    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let config = match load_config(&cli) {
        Ok(config) => config,
        Err(message) => return fail(EXIT_CONFIG, message),
    };
    let emulator = match Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(error @ StartError::Config(_)) => return fail(EXIT_CONFIG, error),
        Err(error) => return fail(EXIT_RUNTIME, error),
    };
    if let (Some(path), Some(pem)) = (&cli.tls_cert_out, emulator.ca_pem()) {
        if let Err(error) = std::fs::write(path, pem) {
            return fail(
                EXIT_RUNTIME,
                format!("cannot write {}: {error}", path.display()),
            );
        }
    }
    let stop = match StopSignal::listen() {
        Ok(stop) => stop,
        Err(error) => return fail(EXIT_RUNTIME, format!("cannot listen for signals: {error}")),
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "sfscale-emulator listening on {}", emulator.url());
    let _ = stdout.flush();
    stop.wait().await;
    emulator.shutdown().await;
    ExitCode::SUCCESS
}
