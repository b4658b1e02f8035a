//! Commands: turn flags into jobs for the library, run them, hand the
//! results to a renderer. The only place that prints.

mod anchor;
pub mod args;
mod check;
mod detect;
mod doctor;
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
pub use doctor::doctor;
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

/// How much a run says besides its results, from the global `--quiet`
/// and `-v` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors and the summary line only; nothing on stdout.
    Quiet,
    Normal,
    /// Also each file passed over, by name, and the settings a run uses.
    Verbose,
}

static VERBOSITY: std::sync::OnceLock<Verbosity> = std::sync::OnceLock::new();

/// Set once, from the global flags, before a command runs.
pub fn set_verbosity(quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, _) => Verbosity::Verbose,
    };
    let _ = VERBOSITY.set(level);
}

pub(crate) fn verbosity() -> Verbosity {
    VERBOSITY.get().copied().unwrap_or(Verbosity::Normal)
}

/// A note, warning or state of a long run on stderr, unless `--quiet`.
pub(crate) fn say(line: &str) {
    if verbosity() > Verbosity::Quiet {
        eprintln!("vouch: {line}");
    }
}

/// More detail on stderr, with `-v` only.
pub(crate) fn detail(line: &str) {
    if verbosity() >= Verbosity::Verbose {
        eprintln!("vouch: {line}");
    }
}

/// What a run came to, counted as it goes and said as the last line on
/// stderr: `205 signed, 3 unchanged, 1 failed`.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// Words in the order they are shown, with their counts and whether
    /// the word is shown at 0 too.
    counts: Vec<(&'static str, usize, bool)>,
}

impl Summary {
    /// `always` shown, even at 0; `when_counted` in this order after them,
    /// only when counted.
    pub(crate) fn with(always: &[&'static str], when_counted: &[&'static str]) -> Self {
        let always = always.iter().map(|w| (*w, 0, true));
        Self { counts: always.chain(when_counted.iter().map(|w| (*w, 0, false))).collect() }
    }

    pub(crate) fn add(&mut self, word: &'static str, n: usize) {
        match self.counts.iter_mut().find(|(w, _, _)| *w == word) {
            Some((_, count, _)) => *count += n,
            None => self.counts.push((word, n, false)),
        }
    }

    /// The words with their counts; a word counted 0 times is shown only
    /// when the command always shows it.
    pub(crate) fn line(&self) -> String {
        let parts: Vec<String> = self
            .counts
            .iter()
            .filter(|(_, n, always)| *n > 0 || *always)
            .map(|(word, n, _)| format!("{n} {word}"))
            .collect();
        if parts.is_empty() {
            "nothing to do".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// Whether `word`, counted `n` times, is all there is to say.
    fn is_only(&self, word: &str, n: usize) -> bool {
        self.counts.iter().all(|(w, count, _)| if *w == word { *count == n } else { *count == 0 })
    }

    /// Says the line on stderr, whatever the verbosity.
    pub(crate) fn say(&self) {
        eprintln!("{}", self.line());
    }
}

/// Prints per-input results as text or JSON Lines, errors to stderr, keeps
/// the worst outcome and counts what the run did for its summary line.
struct Printer {
    json: bool,
    outcome: Outcome,
    out: std::io::StdoutLock<'static>,
    /// What the walk passed over, said once at the end.
    skips: vouch::walk::Skips,
    summary: Summary,
    /// The summary's word for an input that could not be processed.
    errors_as: &'static str,
}

impl Printer {
    fn new(json: bool) -> Self {
        Self {
            json,
            outcome: Outcome::Passed,
            out: std::io::stdout().lock(),
            skips: Default::default(),
            summary: Summary::default(),
            errors_as: "could not be read",
        }
    }

    /// The words this command's summary always shows, and its word for an
    /// input that could not be processed (`failed` for `sign`), shown last.
    fn summarising(self, words: &[&'static str], errors_as: &'static str) -> Self {
        self.summarising_also(words, &[], errors_as)
    }

    /// As [`Self::summarising`], with words shown after those only when counted.
    fn summarising_also(
        mut self,
        words: &[&'static str],
        when_counted: &[&'static str],
        errors_as: &'static str,
    ) -> Self {
        let mut later = when_counted.to_vec();
        later.push(errors_as);
        self.summary = Summary::with(words, &later);
        self.errors_as = errors_as;
        self
    }

    fn count(&mut self, word: &'static str) {
        self.summary.add(word, 1);
    }

    /// Says on stderr what the walk passed over, if anything: nothing under
    /// the named paths is left out without a word (with `--quiet`, the
    /// summary line still counts them).
    fn say_skips(&self) {
        if let Some(what) = self.skips.describe() {
            say(&format!("skipped {} file(s) under the named paths: {what}", self.skips.total()));
        }
    }

    fn line(&mut self, text: &str) {
        if verbosity() == Verbosity::Quiet {
            return;
        }
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
        self.count(self.errors_as);
        self.outcome = Outcome::Error;
    }

    /// Ends the run: the summary line on stderr (skipped files counted),
    /// and the outcome that decides the exit code.
    fn finish(mut self) -> Outcome {
        let skipped = self.skips.total();
        if skipped > 0 {
            self.summary.add("skipped", skipped);
        }
        let _ = self.out.flush();
        // A run whose one input could not be processed has said so in its
        // error line; a summary would only repeat it.
        if !self.summary.is_only(self.errors_as, 1) {
            self.summary.say();
        }
        self.outcome
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

/// A scoped thread's result; its panic, if it had one, goes on in this thread.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
