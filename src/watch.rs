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
//! Why it cannot sign twice: outputs are written atomically (temp + rename)
//! before the journal records them, so a crash in between leaves a complete
//! output and no record. A restart finds that output and adopts it instead
//! of signing again. The same holds for anchor receipts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
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
    /// Signed now.
    Signed { path: PathBuf, output: PathBuf },
    /// Found signed by a run that stopped before recording it; not signed again.
    Recovered { path: PathBuf, output: PathBuf },
    /// A batch went on chain; each file now has its receipt.
    Anchored { files: usize, receipts: Vec<PathBuf> },
    /// Receipts of a batch whose run stopped before recording them.
    RecoveredReceipts { files: usize },
    /// Could not be signed or anchored; retried when the file changes (or, for
    /// anchoring, at the next batch).
    Failed { path: PathBuf, error: String },
}

/// The signing callback's answer.
pub enum SignResult {
    Signed(PathBuf),
    /// The output already exists: a previous run signed it.
    AlreadySigned(PathBuf),
}

/// A watched folder and its journal.
pub struct Station {
    dir: PathBuf,
    journal_path: PathBuf,
    db: Connection,
    /// Files seen but not yet settled: size, mtime, when first seen that way.
    settling: HashMap<PathBuf, (u64, i128, Instant)>,
    pub poll: Duration,
    /// How long a file must keep the same size and time before it counts as complete.
    pub settle: Duration,
    pub anchor_every: AnchorEvery,
    /// Whether signed files are anchored at all (a signing-only station).
    pub anchoring: bool,
    /// Paths never to treat as captures (the output folder, say).
    pub ignore: Vec<PathBuf>,
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
             CREATE TABLE IF NOT EXISTS files (
                 path TEXT PRIMARY KEY,
                 size INTEGER NOT NULL,
                 mtime_ns INTEGER NOT NULL,
                 state TEXT NOT NULL CHECK (state IN ('signed', 'anchored', 'failed')),
                 output TEXT,
                 receipt TEXT,
                 error TEXT,
                 signed_at INTEGER
             );",
        )
        .map_err(jerr)?;
        crate::fsx::set_mode(&journal_path, 0o600)
            .map_err(|source| WatchError::Io { path: journal_path.clone(), source })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            journal_path,
            db,
            settling: HashMap::new(),
            poll: Duration::from_millis(500),
            settle: Duration::from_secs(1),
            anchor_every,
            anchoring: true,
            ignore: Vec::new(),
        })
    }

    fn jerr(&self) -> impl Fn(rusqlite::Error) -> WatchError + '_ {
        move |source| WatchError::Journal { path: self.journal_path.clone(), source }
    }

    /// Runs until `idle_exit` passes with nothing new and nothing waiting
    /// (forever without it). Anchors what is left before returning.
    pub fn run(
        &mut self,
        mut sign: impl FnMut(&Path) -> Result<SignResult, String>,
        mut anchor: impl FnMut(&[PathBuf]) -> Result<Vec<PathBuf>, String>,
        mut receipt_of: impl FnMut(&Path) -> PathBuf,
        mut on_event: impl FnMut(Event),
        idle_exit: Option<Duration>,
    ) -> Result<(), WatchError> {
        let mut last_activity = Instant::now();
        loop {
            let busy = self.step(&mut sign, &mut on_event)?;
            let waiting = if self.anchoring { self.waiting()? } else { Vec::new() };
            if self.batch_due(&waiting)? {
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
                    return Ok(());
                }
            }
            std::thread::sleep(self.poll);
        }
    }

    /// One pass over the folder: sign every file that has settled.
    fn step(
        &mut self,
        sign: &mut impl FnMut(&Path) -> Result<SignResult, String>,
        on_event: &mut impl FnMut(Event),
    ) -> Result<bool, WatchError> {
        let mut busy = false;
        let mut seen = std::collections::HashSet::new();
        for found in crate::walk::walk(vec![self.dir.clone()]) {
            let Ok(crate::walk::Walked::File(found)) = found else { continue };
            let path = found.path;
            if self.ignore.iter().any(|i| path.starts_with(i)) {
                continue;
            }
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            let (size, mtime) = (meta.len(), mtime_ns(&meta));
            seen.insert(path.clone());
            let known: Option<(i64, i64, String)> = self
                .db
                .query_row("SELECT size, mtime_ns, state FROM files WHERE path = ?1", [key(&path)], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()
                .map_err(self.jerr())?;
            match known {
                // Done; or failed and unchanged since.
                Some((s, m, state)) if state != "failed" || (s as u64 == size && m as i128 == mtime) => continue,
                _ => {}
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
            match sign(&path) {
                Ok(SignResult::Signed(output)) => {
                    self.record(&path, size, mtime, "signed", Some(&output), None)?;
                    on_event(Event::Signed { path, output });
                }
                Ok(SignResult::AlreadySigned(output)) => {
                    self.record(&path, size, mtime, "signed", Some(&output), None)?;
                    on_event(Event::Recovered { path, output });
                }
                Err(error) => {
                    self.record(&path, size, mtime, "failed", None, Some(&error))?;
                    on_event(Event::Failed { path, error });
                }
            }
        }
        self.settling.retain(|p, _| seen.contains(p));
        Ok(busy)
    }

    fn record(
        &self,
        path: &Path,
        size: u64,
        mtime: i128,
        state: &str,
        output: Option<&Path>,
        error: Option<&str>,
    ) -> Result<(), WatchError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        self.db
            .execute(
                "INSERT OR REPLACE INTO files (path, size, mtime_ns, state, output, error, signed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![key(path), size as i64, mtime as i64, state, output.map(key), error, now],
            )
            .map_err(self.jerr())?;
        Ok(())
    }

    /// Signed files waiting for an anchor: `(output, signed_at)`.
    fn waiting(&self) -> Result<Vec<(PathBuf, i64)>, WatchError> {
        let mut query = self
            .db
            .prepare("SELECT output, signed_at FROM files WHERE state = 'signed' ORDER BY signed_at, path")
            .map_err(self.jerr())?;
        let rows = query
            .query_map([], |r| Ok((PathBuf::from(r.get::<_, String>(0)?), r.get::<_, i64>(1)?)))
            .map_err(self.jerr())?;
        rows.collect::<Result<_, _>>().map_err(self.jerr())
    }

    fn batch_due(&self, waiting: &[(PathBuf, i64)]) -> Result<bool, WatchError> {
        let Some((_, oldest)) = waiting.first() else { return Ok(false) };
        Ok(match self.anchor_every {
            AnchorEvery::Files(n) => waiting.len() >= n,
            AnchorEvery::Interval(every) => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
                now - oldest >= every.as_secs() as i64
            }
        })
    }

    fn anchor_batch(
        &self,
        waiting: &[(PathBuf, i64)],
        anchor: &mut impl FnMut(&[PathBuf]) -> Result<Vec<PathBuf>, String>,
        receipt_of: &mut impl FnMut(&Path) -> PathBuf,
        on_event: &mut impl FnMut(Event),
    ) -> Result<(), WatchError> {
        // Receipts already there come from a batch whose run stopped before
        // recording it: complete (written atomically), so kept, not redone.
        let (done, todo): (Vec<&PathBuf>, Vec<&PathBuf>) =
            waiting.iter().map(|(p, _)| p).partition(|p| receipt_of(p).is_file());
        if !done.is_empty() {
            for output in &done {
                self.mark_anchored(output, &receipt_of(output))?;
            }
            on_event(Event::RecoveredReceipts { files: done.len() });
        }
        if todo.is_empty() {
            return Ok(());
        }
        let batch: Vec<PathBuf> = todo.into_iter().cloned().collect();
        match anchor(&batch) {
            Ok(receipts) => {
                let tx = self.db.unchecked_transaction().map_err(self.jerr())?;
                for (output, receipt) in batch.iter().zip(&receipts) {
                    self.mark_anchored(output, receipt)?;
                }
                tx.commit().map_err(self.jerr())?;
                on_event(Event::Anchored { files: receipts.len(), receipts });
            }
            Err(error) => on_event(Event::Failed { path: self.dir.clone(), error: format!("anchoring: {error}") }),
        }
        Ok(())
    }

    fn mark_anchored(&self, output: &Path, receipt: &Path) -> Result<(), WatchError> {
        self.db
            .execute(
                "UPDATE files SET state = 'anchored', receipt = ?2 WHERE output = ?1 AND state = 'signed'",
                params![key(output), key(receipt)],
            )
            .map_err(self.jerr())?;
        Ok(())
    }

    /// Counts by state, for status lines and tests.
    pub fn counts(&self) -> Result<HashMap<String, usize>, WatchError> {
        let mut query = self.db.prepare("SELECT state, COUNT(*) FROM files GROUP BY state").map_err(self.jerr())?;
        let rows =
            query.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize))).map_err(self.jerr())?;
        rows.collect::<Result<_, _>>().map_err(self.jerr())
    }
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
            move |path: &Path| -> Result<SignResult, String> {
                let dest = out.join(path.file_name().unwrap());
                if dest.exists() {
                    return Ok(SignResult::AlreadySigned(dest));
                }
                std::fs::copy(path, &dest).map_err(|e| e.to_string())?;
                Ok(SignResult::Signed(dest))
            }
        };
        let receipt_of = |p: &Path| PathBuf::from(format!("{}.r", p.display()));
        let anchor = |files: &[PathBuf]| -> Result<Vec<PathBuf>, String> {
            Ok(files
                .iter()
                .map(|f| {
                    let r = PathBuf::from(format!("{}.r", f.display()));
                    std::fs::write(&r, "receipt").unwrap();
                    r
                })
                .collect())
        };
        // A run that "crashed" after signing f0 but before recording it.
        std::fs::copy(dir.path().join("f0.txt"), out.join("f0.txt")).unwrap();
        let mut events = Vec::new();
        let mut station = Station::open(dir.path(), AnchorEvery::Files(2)).unwrap();
        station.poll = Duration::from_millis(10);
        station.settle = Duration::from_millis(20);
        station.ignore = vec![out.clone()];
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
        again.ignore = vec![out.clone()];
        let mut more = Vec::new();
        again.run(sign_into(out), anchor, receipt_of, |e| more.push(e), Some(Duration::from_millis(100))).unwrap();
        assert!(more.is_empty(), "{more:?}");
    }
}
