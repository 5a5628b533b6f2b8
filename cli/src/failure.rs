//! How a command fails: one line on stderr (`sfscale: <what went wrong>`) and an exit code
//! a script can branch on.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | the command could not finish (Salesforce, network, file errors) |
//! | 2 | bad usage or configuration (clap uses 2 for bad arguments too) |
//! | 3 | finished, but data is not as it must be: rows failed, records lost or duplicated |
//!
//! The core's errors already carry the code, message and status in one line and never a
//! token, so they are shown as they are. Panics are not used for errors anywhere.

use std::fmt;
use std::process::ExitCode;

use sfscale::ErrorKind;

/// Exit code: the command could not finish.
pub const EXIT_ERROR: u8 = 1;
/// Exit code: bad usage or configuration.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: finished, but rows failed or the data is not as it must be.
pub const EXIT_DATA: u8 = 3;

/// A command's failure: the line to print and the exit code.
#[derive(Debug)]
pub struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// A failure with an explicit exit code.
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code,
        }
    }

    /// Bad usage or configuration.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(EXIT_USAGE, message)
    }

    /// A file or I/O failure, naming what was being done.
    pub fn io(doing: impl fmt::Display, error: std::io::Error) -> Failure {
        Failure::new(EXIT_ERROR, format!("{doing}: {error}"))
    }

    /// Prints the line and returns the exit code.
    pub fn exit(self) -> ExitCode {
        eprintln!("sfscale: {}", self.message.trim().replace('\n', " "));
        ExitCode::from(self.code)
    }
}

impl From<sfscale::Error> for Failure {
    fn from(error: sfscale::Error) -> Failure {
        let code = match error.kind() {
            ErrorKind::Config => EXIT_USAGE,
            _ => EXIT_ERROR,
        };
        Failure::new(code, error.to_string())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
