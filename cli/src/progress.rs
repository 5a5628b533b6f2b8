//! Live progress: indicatif bars when stdout is a terminal, plain timestamped lines when it
//! is not (a CI log, a pipe, a file), so the same command reads well in both.
//!
//! Plain mode prints a bar's position at most every [`PLAIN_EVERY`] and once when it
//! finishes: a log gets a heartbeat, not a line per row. Bars are cheap to clone and safe to
//! update from the core's progress callbacks on any thread.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use parking_lot::Mutex;

use crate::report::thousands;

/// Shortest gap between two plain progress lines of one bar.
pub const PLAIN_EVERY: Duration = Duration::from_secs(2);

/// Where progress goes: live bars on a terminal, plain lines otherwise.
#[derive(Clone)]
pub struct Display {
    multi: Option<MultiProgress>,
    started: Instant,
}

impl Display {
    /// Live bars when stdout is a terminal, plain lines otherwise.
    pub fn detect() -> Display {
        let multi = std::io::stdout()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stdout()));
        Display {
            multi,
            started: Instant::now(),
        }
    }

    /// Prints a line above any live bars.
    pub fn line(&self, text: impl AsRef<str>) {
        let text = text.as_ref();
        match &self.multi {
            Some(multi) if multi.println(text).is_ok() => {}
            _ => println!("{text}"),
        }
    }

    /// A bar counting `unit`s towards `total` (a spinner when the total is unknown).
    pub fn bar(&self, label: &str, total: Option<u64>, unit: &'static str) -> Bar {
        let inner = match &self.multi {
            Some(multi) => Inner::Live(multi.add(live_bar(label, total, unit))),
            None => Inner::Plain(Plain {
                label: label.to_owned(),
                total,
                unit,
                started: self.started,
                last: Mutex::new(None),
            }),
        };
        Bar {
            inner: Arc::new(inner),
        }
    }
}

fn live_bar(label: &str, total: Option<u64>, unit: &str) -> ProgressBar {
    let template = match total {
        Some(_) => format!(
            "{{prefix:>10}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} eta {{eta}} {{msg}}"
        ),
        None => format!("{{prefix:>10}} {{spinner}} {{human_pos}} {unit} {{elapsed}} {{msg}}"),
    };
    let style = ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bar = match total {
        Some(total) => ProgressBar::new(total),
        None => ProgressBar::new_spinner(),
    };
    bar.set_style(style);
    bar.set_prefix(label.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// One progress bar (or its plain-line stand-in).
#[derive(Clone)]
pub struct Bar {
    inner: Arc<Inner>,
}

enum Inner {
    Live(ProgressBar),
    Plain(Plain),
}

struct Plain {
    label: String,
    total: Option<u64>,
    unit: &'static str,
    started: Instant,
    last: Mutex<Option<Instant>>,
}

impl Plain {
    fn line(&self, position: u64, note: &str) -> String {
        let seconds = self.started.elapsed().as_secs_f64();
        let amount = match self.total {
            Some(total) if total > 0 => format!(
                "{}/{} {} ({:.0} %)",
                thousands(position),
                thousands(total),
                self.unit,
                position as f64 * 100.0 / total as f64
            ),
            _ => format!("{} {}", thousands(position), self.unit),
        };
        format!("[{seconds:>6.1}s] {}: {amount}{note}", self.label)
    }
}

impl Bar {
    /// Moves the bar to `position`.
    pub fn set(&self, position: u64) {
        match &*self.inner {
            Inner::Live(bar) => bar.set_position(position),
            Inner::Plain(plain) => {
                let mut last = plain.last.lock();
                if last.is_some_and(|at| at.elapsed() < PLAIN_EVERY) {
                    return;
                }
                *last = Some(Instant::now());
                println!("{}", plain.line(position, ""));
            }
        }
    }

    /// A short note shown beside the bar (live mode only: plain lines stay terse).
    pub fn note(&self, text: impl Into<String>) {
        if let Inner::Live(bar) = &*self.inner {
            bar.set_message(text.into());
        }
    }

    /// Ends the bar at `position` with a summary.
    pub fn finish(&self, position: u64, summary: &str) {
        match &*self.inner {
            Inner::Live(bar) => {
                bar.set_position(position);
                bar.finish_with_message(summary.to_owned());
            }
            Inner::Plain(plain) => println!("{}", plain.line(position, &format!(" — {summary}"))),
        }
    }
}
