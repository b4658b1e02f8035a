//! Reading `check` (and `detect`) JSON Lines records back, so the shards of
//! one archive can be merged into one report (`vouch report`). Each line is
//! classified once here; renderers only show what this says.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::{key_of_bytes, CheckError, Verdict};

/// What one record says about its file.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A `check` record (or a `detect` record, judged as `detect` exits:
    /// flagged fails, inconclusive warns, not flagged passes).
    Judged { verdict: Verdict, reasons: Vec<(String, Verdict, String)> },
    /// `{path, skipped}`: under the named paths but not checked, and why.
    Skipped(String),
    /// `{path, error}`: the file could not be checked.
    Error(String),
}

/// One record: the file's identity (a hash of its exact path bytes), its
/// path as written, the outcome, and the whole record for renderers.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: u64,
    pub path: String,
    pub outcome: Outcome,
    pub value: serde_json::Value,
}

impl Entry {
    pub fn is_error(&self) -> bool {
        matches!(self.outcome, Outcome::Error(_))
    }
}

/// Classifies one line of JSON Lines; `Err` says why it is not a vouch record.
pub fn parse_line(line: &str) -> Result<Entry, String> {
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    if !value.is_object() {
        return Err("not a JSON object".into());
    }
    let path = value.get("path").and_then(|p| p.as_str()).ok_or("no \"path\"")?.to_string();
    let key = key_of(&value, &path).ok_or("\"path_bytes\" is not base64")?;
    let text = |field: &str| value.get(field).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
    let outcome = if let Some(error) = text("error") {
        Outcome::Error(error)
    } else if let Some(why) = text("skipped") {
        Outcome::Skipped(why)
    } else {
        match value.get("verdict").and_then(|v| v.as_str()) {
            Some(word) => match Verdict::parse(word) {
                Some(verdict) => {
                    let reasons = reasons(&value)?;
                    // `check` gives a file the verdict of its worst reason: a
                    // record that says otherwise was not written by vouch.
                    let worst = reasons.iter().map(|r| r.1).max().unwrap_or(Verdict::Pass);
                    if worst != verdict {
                        return Err(format!("verdict \"{word}\" but its worst reason is \"{}\"", worst.as_str()));
                    }
                    Outcome::Judged { verdict, reasons }
                }
                None => detection_outcome(&value, word)?,
            },
            None => return Err("no \"verdict\", \"error\" or \"skipped\"".into()),
        }
    };
    Ok(Entry { key, path, outcome, value })
}

fn key_of(value: &serde_json::Value, path: &str) -> Option<u64> {
    use base64::Engine as _;
    match value.get("path_bytes") {
        Some(bytes) => {
            let raw = base64::engine::general_purpose::STANDARD.decode(bytes.as_str()?).ok()?;
            Some(key_of_bytes(&raw))
        }
        None => Some(key_of_bytes(Path::new(path).as_os_str().as_encoded_bytes())),
    }
}

fn reasons(value: &serde_json::Value) -> Result<Vec<(String, Verdict, String)>, String> {
    let Some(list) = value.get("reasons") else { return Err("a \"verdict\" without \"reasons\"".into()) };
    let list = list.as_array().ok_or("\"reasons\" is not a list")?;
    list.iter()
        .map(|r| {
            let field = |name: &str| r.get(name).and_then(|v| v.as_str());
            let verdict = field("verdict").and_then(Verdict::parse).ok_or("a reason without a verdict")?;
            Ok((field("rule").unwrap_or("").to_string(), verdict, field("message").unwrap_or("").to_string()))
        })
        .collect()
}

/// A `vouch detect` record: judged as `detect` exits (flagged and declared
/// synthetic fail, inconclusive warns). Records of earlier releases used
/// `synthetic`, `uncertain` and `authentic`.
fn detection_outcome(value: &serde_json::Value, word: &str) -> Result<Outcome, String> {
    let verdict = match word {
        "flagged" | "declared_synthetic" | "synthetic" => Verdict::Fail,
        "inconclusive" | "uncertain" => Verdict::Warn,
        "not_flagged" | "authentic" => Verdict::Pass,
        other => return Err(format!("unknown verdict \"{other}\"")),
    };
    let score = value.get("score").and_then(|s| s.as_f64());
    let message = match score {
        Some(score) => format!("the detector judged it {word} (score {score:.3})"),
        None => format!("the detector judged it {word}"),
    };
    let reasons = if verdict == Verdict::Pass { Vec::new() } else { vec![("synthetic".into(), verdict, message)] };
    Ok(Outcome::Judged { verdict, reasons })
}

/// The records of one JSON Lines file, line by line. A line that is not a
/// vouch record is an error naming the file and the line.
pub struct RecordFile {
    path: PathBuf,
    lines: std::io::Lines<std::io::BufReader<std::fs::File>>,
    line: usize,
}

impl RecordFile {
    pub fn open(path: &Path) -> Result<Self, CheckError> {
        let file = std::fs::File::open(path).map_err(|source| CheckError::Io { path: path.into(), source })?;
        Ok(Self { path: path.into(), lines: std::io::BufReader::new(file).lines(), line: 0 })
    }
}

impl Iterator for RecordFile {
    /// `(line number, the line as written, its entry)`.
    type Item = Result<(usize, String, Entry), CheckError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = self.lines.next()?;
            self.line += 1;
            let line = match line {
                Ok(line) => line,
                Err(source) => return Some(Err(CheckError::Io { path: self.path.clone(), source })),
            };
            if line.trim().is_empty() {
                continue;
            }
            return Some(
                parse_line(&line).map(|entry| (self.line, line, entry)).map_err(|reason| CheckError::Resume {
                    path: self.path.clone(),
                    line: self.line,
                    reason,
                }),
            );
        }
    }
}

/// Where a path's standing record is, across the files being merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    file: u32,
    line: u32,
    error: bool,
}

/// A path recorded in two shards (or twice in one file, neither an error):
/// the shards overlap, so the merged counts would be wrong.
#[derive(Debug, Clone)]
pub struct Duplicate {
    pub path: String,
    pub first: (usize, usize),
    pub second: (usize, usize),
}

/// The first pass of a merge: which line of which file stands for each
/// path (about 30 bytes a path), and which paths were recorded more than once.
/// Within one file a later record replaces an error (a resumed run checks
/// errors again); anything else recorded twice is a duplicate.
#[derive(Debug, Default)]
pub struct Index {
    standing: std::collections::HashMap<u64, Place>,
    pub duplicates: Vec<Duplicate>,
}

impl Index {
    pub fn build(files: &[PathBuf]) -> Result<Self, CheckError> {
        let mut index = Self::default();
        for (file, path) in files.iter().enumerate() {
            for record in RecordFile::open(path)? {
                let (line, _, entry) = record?;
                index.add(file, line, &entry);
            }
        }
        Ok(index)
    }

    fn add(&mut self, file: usize, line: usize, entry: &Entry) {
        let place = Place { file: file as u32, line: line as u32, error: entry.is_error() };
        if let Some(earlier) = self.standing.insert(entry.key, place) {
            if earlier.file != place.file || (!earlier.error && !place.error) {
                self.duplicates.push(Duplicate {
                    path: entry.path.clone(),
                    first: (earlier.file as usize, earlier.line as usize),
                    second: (file, line),
                });
            }
        }
    }

    /// Whether this line is the one that stands for its path.
    pub fn stands(&self, file: usize, line: usize, entry: &Entry) -> bool {
        self.standing.get(&entry.key).is_some_and(|p| p.file as usize == file && p.line as usize == line)
    }

    pub fn len(&self) -> usize {
        self.standing.len()
    }

    pub fn is_empty(&self) -> bool {
        self.standing.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_classified_or_refused_with_a_reason() {
        let pass = parse_line(r#"{"path":"a.jpg","verdict":"pass","reasons":[]}"#).unwrap();
        assert_eq!(pass.outcome, Outcome::Judged { verdict: Verdict::Pass, reasons: vec![] });
        let fail =
            parse_line(r#"{"path":"b","verdict":"fail","reasons":[{"rule":"c2pa","verdict":"fail","message":"m"}]}"#)
                .unwrap();
        assert!(matches!(fail.outcome, Outcome::Judged { verdict: Verdict::Fail, .. }));
        let warn =
            parse_line(r#"{"path":"w","verdict":"warn","reasons":[{"rule":"anchor","verdict":"warn","message":"m"}]}"#)
                .unwrap();
        assert!(matches!(warn.outcome, Outcome::Judged { verdict: Verdict::Warn, .. }));
        let forged =
            parse_line(r#"{"path":"a","verdict":"pass","reasons":[{"rule":"c2pa","verdict":"fail","message":"m"}]}"#);
        assert_eq!(forged.unwrap_err(), "verdict \"pass\" but its worst reason is \"fail\"");
        assert!(parse_line(r#"{"path":"c","error":"gone"}"#).unwrap().is_error());
        assert_eq!(parse_line(r#"{"path":"d","skipped":"x"}"#).unwrap().outcome, Outcome::Skipped("x".into()));
        let synthetic = parse_line(r#"{"path":"e.mp4","verdict":"synthetic","score":0.9}"#).unwrap();
        assert!(matches!(synthetic.outcome, Outcome::Judged { verdict: Verdict::Fail, .. }));
        for bad in [
            "not json",
            "[1,2]",
            r#"{"verdict":"pass","reasons":[]}"#,
            r#"{"path":"a"}"#,
            r#"{"path":"a","verdict":"great","reasons":[]}"#,
            r#"{"path":"a","verdict":"pass"}"#,
            r#"{"path":"a","path_bytes":"!!","verdict":"pass","reasons":[]}"#,
            r#"{"path":"a","verdict":"pass","reasons":[{"rule":"c2pa","verdict":"fail","message":"m"}]}"#,
            r#"{"path":"a","verdict":"pass","reasons":[{"rule":"c2pa","verdict":"warn","message":"m"}]}"#,
            r#"{"path":"a","verdict":"fail","reasons":[]}"#,
            r#"{"path":"a","verdict":"PASS","reasons":[]}"#,
        ] {
            assert!(parse_line(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn non_utf8_paths_are_keyed_by_their_bytes() {
        let a = parse_line(r#"{"path":"caf\ufffd.jpg","path_bytes":"Y2Fm6S5qcGc=","error":"x"}"#).unwrap();
        let b = parse_line(r#"{"path":"caf\ufffd.jpg","path_bytes":"Y2Fm6C5qcGc=","error":"x"}"#).unwrap();
        assert_ne!(a.key, b.key, "two paths with the same lossy rendering stay two files");
    }
}
