//! A capture station: every file that lands in a folder is signed once it
//! is complete, and signed files are anchored in batches. The state lives in
//! a durable journal (SQLite, synchronous writes), so after a crash or a
//! `kill -9` a restart finishes every file exactly once: none left unsigned,
//! none signed twice, no half-written output.
//!
//! Entry point: [`Station::run`]. Signing and anchoring are callbacks, so
//! this module knows nothing of identities or chains; it owns *when* and
//! *how often*, and remembers what was done.
//!
//! Why it cannot sign twice: an output is staged complete beside its final
//! name, its SHA-256 is journalled as the intent (`signing`), and only then
//! is it renamed into place and the capture recorded as `signed`. A crash
//! between the rename and that record leaves the intent: a restart finds the
//! file carrying the expected bytes and adopts it instead of signing again
//! (with `--in-place` the capture itself is the output, so signing it again
//! would sign the signed file). A crash before the rename leaves the capture
//! untouched, and it is signed afresh. Receipts found beside an output are
//! adopted only when they verify for the output's bytes.
//!
//! Versions: a capture replaced by new content under the same name is
//! signed again; the journal keeps a row per version (`replaced` marks a
//! version whose output was overwritten before it was anchored).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// The journal's file name, inside the watched folder (hidden, so the walk
/// skips it).
pub const JOURNAL: &str = ".vouch-watch.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: journal: {source}", path.display())]
    Journal { path: PathBuf, source: rusqlite::Error },
    #[error("{}: not a folder", .0.display())]
    NotAFolder(PathBuf),
}

/// When a batch of signed files is anchored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorEvery {
    /// As soon as this many signed files wait.
    Files(usize),
    /// When the oldest waiting file has waited this long.
    Interval(Duration),
}

impl std::str::FromStr for AnchorEvery {
    type Err = String;

    /// `100` (files), or `90s`, `10m`, `2h` (time).
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}`: expected a file count (100) or a duration (90s, 10m, 2h)");
        let s = s.trim();
        if let Ok(n) = s.parse::<usize>() {
            return if n == 0 { Err(bad()) } else { Ok(Self::Files(n)) };
        }
        let (number, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
        let n: u64 = number.parse().map_err(|_| bad())?;
        let seconds = match unit {
            "s" => n,
            "m" => n * 60,
            "h" => n * 3600,
            _ => return Err(bad()),
        };
        if seconds == 0 {
            return Err(bad());
        }
        Ok(Self::Interval(Duration::from_secs(seconds)))
    }
}

/// What happened, for the caller to show.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Signed now (`replaced`: a new version of a capture signed before).
    Signed {
        path: PathBuf,
        output: PathBuf,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        replaced: bool,
    },
    /// Found signed by a run that stopped before recording it; not signed again.
    Recovered { path: PathBuf, output: PathBuf },
    /// A batch went on chain; each file now has its receipt.
    Anchored { files: usize, receipts: Vec<PathBuf> },
    /// Receipts (verified for their files) of a batch whose run stopped
    /// before recording them.
    RecoveredReceipts { files: usize },
    /// Could not be signed, or (this one file) anchored; reported once, and
    /// retried when the capture changes.
    Failed { path: PathBuf, error: String },
    /// The chain could not be reached (calendars, node): the batch waits and
    /// is retried after `retry_in_secs`. Reported when the failure changes.
    AnchoringFailed { error: String, retry_in_secs: u64, waiting: usize },
    /// Anchoring works again after failures.
    AnchoringResumed,
    /// The station stops (`reason`: idle, or the signal); `waiting` are the
    /// signed files not yet anchored, left for the next run.
    Stopped { reason: String, waiting: Vec<PathBuf> },
}

/// A signed output, complete on disk but not yet in place.
pub struct Staged {
    /// The file anchoring covers: the signed copy, or the capture beside its sidecar.
    pub subject: PathBuf,
    /// The file the commit puts in place, and the SHA-256 of its bytes.
    pub written: PathBuf,
    pub written_sha256: [u8; 32],
    /// Renames the output into place.
    pub commit: Box<dyn FnOnce() -> Result<(), String>>,
}

/// The signing callback's answer.
pub enum SignResult {
    Staged(Staged),
    /// The output already exists: a previous run (journal-less) signed it.
    AlreadySigned(PathBuf),
}

/// One version of a capture, as the journal holds it.
struct Row {
    id: i64,
    size: i64,
    mtime: i64,
    state: String,
    written: Option<String>,
    written_sha256: Option<String>,
}

/// A watched folder and its journal.
pub struct Station {
    dir: PathBuf,
    journal_path: PathBuf,
    db: Connection,
    /// Files seen but not yet settled: size, mtime, when first seen that way.
    settling: HashMap<PathBuf, (u64, i128, Instant)>,
    /// Outputs written by this run (canonical), never captures themselves.
    produced: HashSet<PathBuf>,
    /// The anchoring failure being backed off from, how many in a row, and
    /// when to try again.
    failing: Option<String>,
    failures: u32,
    retry_at: Option<Instant>,
    pub poll: Duration,
    /// How long a file must keep the same size and time before it counts as complete.
    pub settle: Duration,
    pub anchor_every: AnchorEvery,
    /// Whether signed files are anchored at all (a signing-only station).
    pub anchoring: bool,
    /// Folders never to treat as captures (the output folder); compared
    /// canonicalised, so any spelling of them (relative, `./`, absolute,
    /// through a link) is ignored.
    pub ignore: Vec<PathBuf>,
    /// First and longest wait after an anchoring failure (doubling between).
    pub backoff: (Duration, Duration),
    /// Set (to the signal's number) to stop after the current file.
    pub stop: Option<&'static AtomicI32>,
}

impl Station {
    pub fn open(dir: &Path, anchor_every: AnchorEvery) -> Result<Self, WatchError> {
        if !dir.is_dir() {
            return Err(WatchError::NotAFolder(dir.to_path_buf()));
        }
        let journal_path = dir.join(JOURNAL);
        let jerr = |source| WatchError::Journal { path: journal_path.clone(), source };
        let db = Connection::open(&journal_path).map_err(jerr)?;
        // WAL with synchronous=FULL: a committed record survives power loss.
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS captures (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 path TEXT NOT NULL,
                 size INTEGER NOT NULL,
                 mtime_ns INTEGER NOT NULL,
                 state TEXT NOT NULL CHECK (state IN
                     ('signing', 'signed', 'anchored', 'failed', 'unanchorable', 'replaced')),
                 output TEXT,
                 written TEXT,
                 written_sha256 TEXT,
                 receipt TEXT,
                 error TEXT,
                 signed_at INTEGER
             );
             CREATE INDEX IF NOT EXISTS captures_by_path ON captures (path, id);",
        )
        .map_err(jerr)?;
        // Journals of earlier versions kept one row per path.
        let legacy: bool = db
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'files'", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(jerr)?
            > 0;
        if legacy {
            db.execute_batch(
                "BEGIN;
                 INSERT INTO captures (path, size, mtime_ns, state, output, receipt, error, signed_at)
                     SELECT path, size, mtime_ns, state, output, receipt, error, signed_at FROM files;
                 DROP TABLE files;
                 COMMIT;",
            )
            .map_err(jerr)?;
        }
        crate::fsx::set_mode(&journal_path, 0o600)
            .map_err(|source| WatchError::Io { path: journal_path.clone(), source })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            journal_path,
            db,
            settling: HashMap::new(),
            produced: HashSet::new(),
            failing: None,
            failures: 0,
            retry_at: None,
            poll: Duration::from_millis(500),
            settle: Duration::from_secs(1),
            anchor_every,
            anchoring: true,
            ignore: Vec::new(),
            backoff: (Duration::from_secs(5), Duration::from_secs(600)),
            stop: None,
        })
    }

    fn jerr(&self) -> impl Fn(rusqlite::Error) -> WatchError + '_ {
        move |source| WatchError::Journal { path: self.journal_path.clone(), source }
    }

    /// Runs until `idle_exit` passes with nothing new and nothing waiting
    /// (forever without it), or until [`Station::stop`] is set. Anchors what
    /// is left before an idle exit, and says what still waits.
    pub fn run(
        &mut self,
        mut sign: impl FnMut(&Path, bool) -> Result<SignResult, String>,
        mut anchor: impl FnMut(&[PathBuf]) -> Result<Vec<Result<PathBuf, String>>, String>,
        mut receipt_of: impl FnMut(&Path) -> Option<PathBuf>,
        mut on_event: impl FnMut(Event),
        idle_exit: Option<Duration>,
    ) -> Result<(), WatchError> {
        let mut last_activity = Instant::now();
        loop {
            let busy = self.step(&mut sign, &mut on_event)?;
            if let Some(signal) = self.stopped() {
                return self.say_stopped(signal, &mut on_event);
            }
            let waiting = if self.anchoring { self.waiting()? } else { Vec::new() };
            if self.batch_due(&waiting) && self.retry_at.is_none_or(|at| Instant::now() >= at) {
                self.anchor_batch(&waiting, &mut anchor, &mut receipt_of, &mut on_event)?;
            }
            if busy || !self.settling.is_empty() {
                last_activity = Instant::now();
            } else if let Some(idle) = idle_exit {
                if last_activity.elapsed() >= idle {
                    let waiting = if self.anchoring { self.waiting()? } else { Vec::new() };
                    if !waiting.is_empty() {
                        self.anchor_batch(&waiting, &mut anchor, &mut receipt_of, &mut on_event)?;
                    }
                    return self.say_stopped("idle".into(), &mut on_event);
                }
            }
            // Sleep in short slices so a stop request is seen promptly.
            let until = Instant::now() + self.poll;
            while Instant::now() < until && self.stopped().is_none() {
                std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
            }
        }
    }

    fn stopped(&self) -> Option<String> {
        let signal = self.stop?.load(Ordering::SeqCst);
        match signal {
            0 => None,
            2 => Some("SIGINT".into()),
            15 => Some("SIGTERM".into()),
            n => Some(format!("signal {n}")),
        }
    }

    fn say_stopped(&self, reason: String, on_event: &mut impl FnMut(Event)) -> Result<(), WatchError> {
        let waiting = if self.anchoring { self.waiting()? } else { Vec::new() };
        on_event(Event::Stopped { reason, waiting: waiting.into_iter().map(|w| w.1).collect() });
        Ok(())
    }

    fn ignored(&self, path: &Path, canonical: &Path) -> bool {
        self.produced.contains(canonical) || self.ignore.iter().any(|i| canonical.starts_with(i) || path.starts_with(i))
    }

    /// The latest version of a capture the journal knows.
    fn latest(&self, path: &Path) -> Result<Option<Row>, WatchError> {
        self.db
            .query_row(
                "SELECT id, size, mtime_ns, state, written, written_sha256 FROM captures
                 WHERE path = ?1 ORDER BY id DESC LIMIT 1",
                [key(path)],
                |r| {
                    Ok(Row {
                        id: r.get(0)?,
                        size: r.get(1)?,
                        mtime: r.get(2)?,
                        state: r.get(3)?,
                        written: r.get(4)?,
                        written_sha256: r.get(5)?,
                    })
                },
            )
            .optional()
            .map_err(self.jerr())
    }

    /// One pass over the folder: sign every file that has settled.
    fn step(
        &mut self,
        sign: &mut impl FnMut(&Path, bool) -> Result<SignResult, String>,
        on_event: &mut impl FnMut(Event),
    ) -> Result<bool, WatchError> {
        let mut busy = false;
        let mut seen = HashSet::new();
        for found in crate::walk::walk(vec![self.dir.clone()]) {
            if self.stopped().is_some() {
                break;
            }
            let Ok(crate::walk::Walked::File(found)) = found else { continue };
            let path = found.path;
            let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if self.ignored(&path, &canonical) {
                continue;
            }
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            let (size, mtime) = (meta.len(), mtime_ns(&meta));
            seen.insert(path.clone());
            let latest = self.latest(&path)?;
            if let Some(row) = latest.as_ref().filter(|r| r.state == "signing") {
                // A run stopped between staging an output and recording it.
                if let Some(written) = self.carries_intent(row) {
                    self.finish(row.id, &path, "signed", None)?;
                    busy = true;
                    on_event(Event::Recovered { path, output: written });
                    continue;
                }
            } else if latest.as_ref().is_some_and(|r| (r.size as u64, r.mtime as i128) == (size, mtime)) {
                // Done; or failed and unchanged since.
                continue;
            }
            // Complete once size and time hold still for `settle`.
            let now = Instant::now();
            let entry = self.settling.entry(path.clone()).or_insert((size, mtime, now));
            if (entry.0, entry.1) != (size, mtime) {
                *entry = (size, mtime, now);
                continue;
            }
            if entry.2.elapsed() < self.settle || size == 0 {
                continue;
            }
            self.settling.remove(&path);
            busy = true;
            // A known capture with new content: its output is replaced.
            let replace = latest.as_ref().is_some_and(|r| r.state != "failed" || r.written.is_some());
            let reuse = latest.as_ref().filter(|r| r.state == "failed" || r.state == "signing").map(|r| r.id);
            self.sign_one(&path, size, mtime, replace, reuse, sign, on_event)?;
        }
        self.settling.retain(|p, _| seen.contains(p));
        Ok(busy)
    }

    #[allow(clippy::too_many_arguments)]
    fn sign_one(
        &mut self,
        path: &Path,
        size: u64,
        mtime: i128,
        replace: bool,
        reuse: Option<i64>,
        sign: &mut impl FnMut(&Path, bool) -> Result<SignResult, String>,
        on_event: &mut impl FnMut(Event),
    ) -> Result<(), WatchError> {
        let now = unix_now();
        let row = |state: &str, output: Option<&Path>, written: Option<(&Path, &[u8; 32])>, error: Option<&str>| {
            let values = params![
                key(path),
                size as i64,
                mtime as i64,
                state,
                output.map(key),
                written.map(|w| key(w.0)),
                written.map(|w| hex::encode(w.1)),
                error,
                now
            ];
            match reuse {
                Some(id) => self.db.execute(
                    "UPDATE captures SET path = ?1, size = ?2, mtime_ns = ?3, state = ?4, output = ?5, written = ?6,
                     written_sha256 = ?7, error = ?8, signed_at = ?9 WHERE id = ?10",
                    rusqlite::params_from_iter(values.iter().copied().chain([&id as &dyn rusqlite::ToSql])),
                ),
                None => self.db.execute(
                    "INSERT INTO captures (path, size, mtime_ns, state, output, written, written_sha256, error, signed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    values,
                ),
            }
            .map(|_| reuse.unwrap_or_else(|| self.db.last_insert_rowid()))
        };
        match sign(path, replace) {
            Ok(SignResult::AlreadySigned(output)) => {
                row("signed", Some(&output), None, None).map_err(self.jerr())?;
                on_event(Event::Recovered { path: path.to_path_buf(), output });
            }
            Ok(SignResult::Staged(staged)) => {
                // The intent first: what is about to be put in place.
                let id = row("signing", Some(&staged.subject), Some((&staged.written, &staged.written_sha256)), None)
                    .map_err(self.jerr())?;
                let written = staged.written.clone();
                match (staged.commit)() {
                    Ok(()) => {
                        let canonical = std::fs::canonicalize(&written).unwrap_or_else(|_| written.clone());
                        if canonical != std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()) {
                            self.produced.insert(canonical);
                        }
                        self.finish(id, path, "signed", None)?;
                        on_event(Event::Signed { path: path.to_path_buf(), output: staged.subject, replaced: replace });
                    }
                    Err(error) => {
                        self.finish(id, path, "failed", Some(&error))?;
                        on_event(Event::Failed { path: path.to_path_buf(), error });
                    }
                }
            }
            Err(error) => {
                row("failed", None, None, Some(&error)).map_err(self.jerr())?;
                on_event(Event::Failed { path: path.to_path_buf(), error });
            }
        }
        Ok(())
    }

    /// The written file of an interrupted intent, if it carries the bytes
    /// the intent expected (the rename happened before the stop).
    fn carries_intent(&self, row: &Row) -> Option<PathBuf> {
        let written = PathBuf::from(row.written.as_ref()?);
        let expected = row.written_sha256.as_ref()?;
        let actual = crate::anchor::digest::sha256_file(&written).ok()?;
        (hex::encode(actual) == *expected).then_some(written)
    }

    /// Settles a version: records the capture as it now is (with
    /// `--in-place`, the signed file), and marks older versions still
    /// waiting for an anchor as replaced (their output now holds this one).
    fn finish(&self, id: i64, path: &Path, state: &str, error: Option<&str>) -> Result<(), WatchError> {
        let meta = std::fs::metadata(path).ok();
        let tx = self.db.unchecked_transaction().map_err(self.jerr())?;
        tx.execute(
            "UPDATE captures SET state = ?2, error = ?3, size = COALESCE(?4, size), mtime_ns = COALESCE(?5, mtime_ns),
             signed_at = ?6 WHERE id = ?1",
            params![
                id,
                state,
                error,
                meta.as_ref().map(|m| m.len() as i64),
                meta.as_ref().map(|m| mtime_ns(m) as i64),
                unix_now()
            ],
        )
        .map_err(self.jerr())?;
        if state == "signed" {
            tx.execute(
                "UPDATE captures SET state = 'replaced' WHERE path = ?1 AND id < ?2 AND state = 'signed'",
                params![key(path), id],
            )
            .map_err(self.jerr())?;
        }
        tx.commit().map_err(self.jerr())
    }

    /// Signed files waiting for an anchor: `(id, output, signed_at)`.
    fn waiting(&self) -> Result<Vec<(i64, PathBuf, i64)>, WatchError> {
        let mut query = self
            .db
            .prepare("SELECT id, output, signed_at FROM captures WHERE state = 'signed' ORDER BY signed_at, id")
            .map_err(self.jerr())?;
        let rows = query
            .query_map([], |r| Ok((r.get(0)?, PathBuf::from(r.get::<_, String>(1)?), r.get::<_, i64>(2)?)))
            .map_err(self.jerr())?;
        rows.collect::<Result<_, _>>().map_err(self.jerr())
    }

    fn batch_due(&self, waiting: &[(i64, PathBuf, i64)]) -> bool {
        let Some((_, _, oldest)) = waiting.first() else { return false };
        match self.anchor_every {
            AnchorEvery::Files(n) => waiting.len() >= n,
            AnchorEvery::Interval(every) => unix_now() - oldest >= every.as_secs() as i64,
        }
    }

    fn anchor_batch(
        &mut self,
        waiting: &[(i64, PathBuf, i64)],
        anchor: &mut impl FnMut(&[PathBuf]) -> Result<Vec<Result<PathBuf, String>>, String>,
        receipt_of: &mut impl FnMut(&Path) -> Option<PathBuf>,
        on_event: &mut impl FnMut(Event),
    ) -> Result<(), WatchError> {
        // A receipt already there that verifies for the file comes from a
        // batch whose run stopped before recording it: kept, not redone.
        // Any other (stale, or not for these bytes) is replaced.
        let mut todo = Vec::new();
        let mut recovered = 0;
        for (id, output, _) in waiting {
            match receipt_of(output) {
                Some(receipt) => {
                    self.mark(*id, "anchored", Some(&receipt), None)?;
                    recovered += 1;
                }
                None => todo.push((*id, output.clone())),
            }
        }
        if recovered > 0 {
            on_event(Event::RecoveredReceipts { files: recovered });
        }
        if todo.is_empty() {
            return Ok(());
        }
        let batch: Vec<PathBuf> = todo.iter().map(|(_, p)| p.clone()).collect();
        match anchor(&batch) {
            Ok(results) => {
                if self.failing.take().is_some() {
                    on_event(Event::AnchoringResumed);
                }
                (self.failures, self.retry_at) = (0, None);
                let tx = self.db.unchecked_transaction().map_err(self.jerr())?;
                let mut receipts = Vec::new();
                let mut failed = Vec::new();
                for ((id, output), result) in todo.iter().zip(results) {
                    match result {
                        Ok(receipt) => {
                            self.mark(*id, "anchored", Some(&receipt), None)?;
                            receipts.push(receipt);
                        }
                        Err(error) => {
                            self.mark(*id, "unanchorable", None, Some(&error))?;
                            failed.push(Event::Failed { path: output.clone(), error });
                        }
                    }
                }
                tx.commit().map_err(self.jerr())?;
                if !receipts.is_empty() {
                    on_event(Event::Anchored { files: receipts.len(), receipts });
                }
                failed.into_iter().for_each(&mut *on_event);
            }
            Err(error) => {
                self.failures += 1;
                let (first, longest) = self.backoff;
                let wait = first.saturating_mul(1 << (self.failures - 1).min(20)).min(longest);
                self.retry_at = Some(Instant::now() + wait);
                if self.failing.as_deref() != Some(error.as_str()) {
                    on_event(Event::AnchoringFailed {
                        error: error.clone(),
                        retry_in_secs: wait.as_secs(),
                        waiting: batch.len(),
                    });
                    self.failing = Some(error);
                }
            }
        }
        Ok(())
    }

    fn mark(&self, id: i64, state: &str, receipt: Option<&Path>, error: Option<&str>) -> Result<(), WatchError> {
        self.db
            .execute(
                "UPDATE captures SET state = ?2, receipt = ?3, error = ?4 WHERE id = ?1 AND state = 'signed'",
                params![id, state, receipt.map(key), error],
            )
            .map_err(self.jerr())?;
        Ok(())
    }

    /// Counts by state (every version), for status lines and tests.
    pub fn counts(&self) -> Result<HashMap<String, usize>, WatchError> {
        let mut query = self.db.prepare("SELECT state, COUNT(*) FROM captures GROUP BY state").map_err(self.jerr())?;
        let rows =
            query.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize))).map_err(self.jerr())?;
        rows.collect::<Result<_, _>>().map_err(self.jerr())
    }
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn key(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as i128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_rules_parse() {
        assert_eq!("100".parse(), Ok(AnchorEvery::Files(100)));
        assert_eq!("10m".parse(), Ok(AnchorEvery::Interval(Duration::from_secs(600))));
        assert_eq!("90s".parse(), Ok(AnchorEvery::Interval(Duration::from_secs(90))));
        for bad in ["0", "10x", "m", "", "0s"] {
            assert!(bad.parse::<AnchorEvery>().is_err(), "{bad}");
        }
    }

    #[test]
    fn each_file_is_signed_once_and_anchored_in_batches_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5 {
            std::fs::write(dir.path().join(format!("f{i}.txt")), format!("{i}")).unwrap();
        }
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let sign_into = |out: PathBuf| {
            move |path: &Path, _replace: bool| -> Result<SignResult, String> {
                let dest = out.join(path.file_name().unwrap());
                if dest.exists() {
                    return Ok(SignResult::AlreadySigned(dest));
                }
                let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
                let sha: [u8; 32] =
                    sha2::Digest::finalize(sha2::Digest::chain_update(sha2::Sha256::default(), &bytes)).into();
                let target = dest.clone();
                Ok(SignResult::Staged(Staged {
                    subject: dest.clone(),
                    written: dest,
                    written_sha256: sha,
                    commit: Box::new(move || std::fs::write(&target, &bytes).map_err(|e| e.to_string())),
                }))
            }
        };
        let receipt_of = |p: &Path| Some(PathBuf::from(format!("{}.r", p.display()))).filter(|r| r.is_file());
        let anchor = |files: &[PathBuf]| -> Result<Vec<Result<PathBuf, String>>, String> {
            Ok(files
                .iter()
                .map(|f| {
                    let r = PathBuf::from(format!("{}.r", f.display()));
                    std::fs::write(&r, "receipt").unwrap();
                    Ok(r)
                })
                .collect())
        };
        // A run that "crashed" after signing f0 but before recording it.
        std::fs::copy(dir.path().join("f0.txt"), out.join("f0.txt")).unwrap();
        let mut events = Vec::new();
        let mut station = Station::open(dir.path(), AnchorEvery::Files(2)).unwrap();
        station.poll = Duration::from_millis(10);
        station.settle = Duration::from_millis(20);
        station.ignore = vec![std::fs::canonicalize(&out).unwrap()];
        station
            .run(sign_into(out.clone()), anchor, receipt_of, |e| events.push(e), Some(Duration::from_millis(200)))
            .unwrap();
        let signed = events.iter().filter(|e| matches!(e, Event::Signed { .. })).count();
        let recovered = events.iter().filter(|e| matches!(e, Event::Recovered { .. })).count();
        assert_eq!((signed, recovered), (4, 1));
        assert_eq!(station.counts().unwrap().get("anchored"), Some(&5));
        // A restart over a finished folder does nothing at all.
        drop(station);
        let mut again = Station::open(dir.path(), AnchorEvery::Files(2)).unwrap();
        again.poll = Duration::from_millis(10);
        again.ignore = vec![std::fs::canonicalize(&out).unwrap()];
        let mut more = Vec::new();
        again.run(sign_into(out), anchor, receipt_of, |e| more.push(e), Some(Duration::from_millis(100))).unwrap();
        assert!(matches!(more.as_slice(), [Event::Stopped { .. }]), "{more:?}");
    }

    #[test]
    fn anchoring_failures_back_off_exponentially_up_to_the_cap_and_are_logged_once_per_change() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "a").unwrap();
        let mut station = Station::open(dir.path(), AnchorEvery::Files(1)).unwrap();
        station.poll = Duration::from_millis(1);
        station.settle = Duration::ZERO;
        station.backoff = (Duration::from_millis(40), Duration::from_millis(160));
        let sign =
            |path: &Path, _: bool| -> Result<SignResult, String> { Ok(SignResult::AlreadySigned(path.to_path_buf())) };
        let started = Instant::now();
        let mut attempts: Vec<Duration> = Vec::new();
        let anchor = |_: &[PathBuf]| -> Result<Vec<Result<PathBuf, String>>, String> {
            attempts.push(started.elapsed());
            // The failure changes once (the 4th try), then anchoring works (the 7th).
            match attempts.len() {
                1..=3 => Err("calendar down".into()),
                4..=6 => Err("calendar answers 503".into()),
                _ => Ok(vec![Ok(PathBuf::from("a.txt.r"))]),
            }
        };
        let mut events = Vec::new();
        station.run(sign, anchor, |_: &Path| None, |e| events.push(e), Some(Duration::from_millis(1500))).unwrap();
        let gaps: Vec<u128> = attempts.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect();
        assert!(attempts.len() >= 7, "{attempts:?}");
        // 40, 80, 160, then capped at 160 (not doubled to 320).
        for (gap, least) in gaps.iter().zip([40, 80, 160, 160, 160]) {
            assert!(*gap >= least, "gaps {gaps:?}");
        }
        assert!(gaps[3] < 300 && gaps[4] < 300, "gaps {gaps:?}");
        let logged: Vec<&String> = events
            .iter()
            .filter_map(|e| match e {
                Event::AnchoringFailed { error, .. } => Some(error),
                _ => None,
            })
            .collect();
        assert_eq!(logged, ["calendar down", "calendar answers 503"], "{events:?}");
        assert_eq!(events.iter().filter(|e| matches!(e, Event::AnchoringResumed)).count(), 1, "{events:?}");
        assert_eq!(station.counts().unwrap().get("anchored"), Some(&1));
    }

    #[test]
    fn a_journal_of_the_earlier_layout_is_carried_over() {
        let dir = tempfile::tempdir().unwrap();
        let db = Connection::open(dir.path().join(JOURNAL)).unwrap();
        db.execute_batch(
            "CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                 state TEXT NOT NULL, output TEXT, receipt TEXT, error TEXT, signed_at INTEGER);
             INSERT INTO files VALUES ('a.jpg', 3, 7, 'signed', 'out/a.jpg', NULL, NULL, 1);
             INSERT INTO files VALUES ('b.jpg', 3, 7, 'anchored', 'out/b.jpg', 'out/b.jpg.ots', NULL, 1);",
        )
        .unwrap();
        drop(db);
        let station = Station::open(dir.path(), AnchorEvery::Files(1)).unwrap();
        let counts = station.counts().unwrap();
        assert_eq!((counts.get("signed"), counts.get("anchored")), (Some(&1), Some(&1)));
        assert_eq!(station.waiting().unwrap()[0].1, PathBuf::from("out/a.jpg"));
        drop(station);
        // Opened again: nothing carried over twice.
        let again = Station::open(dir.path(), AnchorEvery::Files(1)).unwrap();
        assert_eq!(again.counts().unwrap().values().sum::<usize>(), 2);
    }
}
