//! Commands: turn flags into jobs for the library, run them, hand the
//! results to a renderer. The only place that prints.

mod anchor;
pub mod args;
mod check;
mod detect;
mod generate;
mod identity;
mod inputs;
mod inspect;
mod models;
mod setup;
mod sign;
mod trust;
mod verify;
mod watch;
// `report` is taken by `vouch::report`, the renderers.
#[path = "report.rs"]
mod merge;

pub use anchor::anchor;
pub use check::check;
pub use detect::detect;
pub use generate::generate;
pub use identity::identity;
pub use inspect::inspect;
pub use merge::report;
pub use models::models;
pub use sign::sign;
pub use trust::trust;
pub use verify::verify;
pub use watch::watch;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use vouch::report;
use vouch::results::ErrorRecord;

/// How a run went, worst input first: decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Outcome {
    #[default]
    Passed,
    CheckFailed,
    Error,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Self::Passed => ExitCode::SUCCESS,
            Self::CheckFailed => ExitCode::from(1),
            Self::Error => ExitCode::from(2),
        }
    }
}

/// Prints per-input results as text or JSON Lines, errors to stderr, and
/// keeps the worst outcome.
struct Printer {
    json: bool,
    outcome: Outcome,
    out: std::io::StdoutLock<'static>,
    /// What the walk passed over, said once at the end.
    skips: vouch::walk::Skips,
}

impl Printer {
    fn new(json: bool) -> Self {
        Self { json, outcome: Outcome::Passed, out: std::io::stdout().lock(), skips: Default::default() }
    }

    /// Says on stderr what the walk passed over, if anything: nothing under
    /// the named paths is left out without a word.
    fn say_skips(&self) {
        if let Some(what) = self.skips.describe() {
            eprintln!("vouch: skipped {} file(s) under the named paths: {what}", self.skips.total());
        }
    }

    fn line(&mut self, text: &str) {
        // A closed pipe (`vouch verify … | head`) is not an error worth a panic.
        let _ = writeln!(self.out, "{text}");
    }

    fn record<T: serde::Serialize>(&mut self, value: &T, text: impl FnOnce(&T) -> String, outcome: Outcome) {
        let line = if self.json { report::json_line(value) } else { text(value) };
        self.line(&line);
        self.outcome = self.outcome.max(outcome);
    }

    fn error(&mut self, path: &Path, err: &dyn std::fmt::Display) {
        let message = vouch::redact::text(&err.to_string());
        eprintln!("vouch: error: {}", report::printable_str(&message));
        if self.json {
            let record = ErrorRecord::new(path, message);
            self.line(&report::json_line(&record));
        }
        self.outcome = Outcome::Error;
    }
}

/// An error and its causes on one line. Library errors already quote their
/// cause in their own message, so a cause is added only when it says
/// something new.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}
