//! What `sign -o OUT` wrote into OUT, so that a re-run signs only what is
//! new: per signed copy (its path under OUT), the SHA-256 of the input it
//! was signed from and of the copy as written. A copy is `unchanged` when
//! both still hold: it is the very file vouch wrote, carrying the manifest
//! made for these input bytes. Kept in `OUT/.vouch-signed.json` (walks pass
//! over `.vouch-*` files), replaced atomically after each run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ProvenanceError;

/// The index file's name inside the output folder.
pub const INDEX_FILE: &str = ".vouch-signed.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    input_sha256: String,
    output_sha256: String,
}

/// The signed copies of one output folder.
#[derive(Debug, Default, Clone)]
pub struct SignedIndex {
    path: PathBuf,
    /// Keyed by the copy's path relative to the output folder.
    entries: BTreeMap<String, Entry>,
    changed: bool,
}

/// An input whose signed copy is already there, made from the same bytes.
#[derive(Debug, Clone, Serialize)]
pub struct Unchanged {
    #[serde(serialize_with = "crate::results::lossy_path")]
    pub path: PathBuf,
    #[serde(serialize_with = "crate::results::lossy_path")]
    pub output: PathBuf,
    /// Always `true`: tells this record from a `signed` one.
    pub unchanged: bool,
}

/// What an output already there is, for the input about to be signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// No output yet.
    None,
    /// The copy vouch wrote from these very input bytes, untouched since.
    Unchanged,
    /// A copy vouch wrote, but the input or the copy changed since.
    Stale,
    /// An output this folder's index does not record.
    Other,
}

impl SignedIndex {
    /// The index of `out_dir`; empty when there is none yet. An index that
    /// cannot be parsed counts as empty: every output there is then
    /// `Other`, refused unless `--force`, never taken as unchanged.
    pub fn open(out_dir: &Path) -> Result<Self, ProvenanceError> {
        let path = out_dir.join(INDEX_FILE);
        let entries = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            // No folder yet (or a file in its place, which signing reports).
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => {
                BTreeMap::new()
            }
            Err(source) => return Err(ProvenanceError::Io { path, source }),
        };
        Ok(Self { path, entries, changed: false })
    }

    /// What `output` (the copy of `input` at `relative` under the folder)
    /// is: hashes both files when an entry could match.
    pub fn existing(&self, input: &Path, relative: &Path, output: &Path) -> Result<Existing, ProvenanceError> {
        if !output.exists() {
            return Ok(Existing::None);
        }
        let Some(entry) = self.entries.get(&key(relative)) else { return Ok(Existing::Other) };
        let same_input = sha256_hex(input)? == entry.input_sha256;
        Ok(if same_input && sha256_hex(output)? == entry.output_sha256 { Existing::Unchanged } else { Existing::Stale })
    }

    /// Records a copy just written; `input_sha256` was taken before signing.
    pub fn record(&mut self, relative: &Path, input_sha256: String, output_sha256: String) {
        self.entries.insert(key(relative), Entry { input_sha256, output_sha256 });
        self.changed = true;
    }

    /// Writes the index (atomically) if this run added to it.
    pub fn save(&self) -> Result<(), ProvenanceError> {
        if !self.changed {
            return Ok(());
        }
        let json = serde_json::to_vec_pretty(&self.entries).unwrap_or_default();
        crate::fsx::write_atomic(&self.path, &json, Some(0o644), true)
            .map_err(|source| ProvenanceError::Io { path: self.path.clone(), source })
    }
}

fn key(relative: &Path) -> String {
    relative.to_string_lossy().into_owned()
}

/// The SHA-256 of a file, as lowercase hex.
pub fn sha256_hex(path: &Path) -> Result<String, ProvenanceError> {
    crate::anchor::digest::sha256_file(path)
        .map(hex::encode)
        .map_err(|source| ProvenanceError::Io { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_unchanged_only_while_input_and_copy_are_the_bytes_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let (input, out) = (dir.path().join("photo.jpg"), dir.path().join("out"));
        std::fs::create_dir_all(&out).unwrap();
        let copy = out.join("photo.jpg");
        std::fs::write(&input, "original").unwrap();
        let relative = Path::new("photo.jpg");

        let mut index = SignedIndex::open(&out).unwrap();
        assert_eq!(index.existing(&input, relative, &copy).unwrap(), Existing::None);
        std::fs::write(&copy, "signed copy").unwrap();
        assert_eq!(index.existing(&input, relative, &copy).unwrap(), Existing::Other, "not recorded");
        index.record(relative, sha256_hex(&input).unwrap(), sha256_hex(&copy).unwrap());
        index.save().unwrap();

        let index = SignedIndex::open(&out).unwrap();
        assert_eq!(index.existing(&input, relative, &copy).unwrap(), Existing::Unchanged);
        std::fs::write(&input, "edited").unwrap();
        assert_eq!(index.existing(&input, relative, &copy).unwrap(), Existing::Stale);
        std::fs::write(&input, "original").unwrap();
        std::fs::write(&copy, "tampered copy").unwrap();
        assert_eq!(index.existing(&input, relative, &copy).unwrap(), Existing::Stale);
    }

    #[test]
    fn an_index_that_cannot_be_parsed_vouches_for_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(INDEX_FILE), "{ torn").unwrap();
        std::fs::write(dir.path().join("a.jpg"), "x").unwrap();
        let index = SignedIndex::open(dir.path()).unwrap();
        let copy = dir.path().join("a.jpg");
        assert_eq!(index.existing(&copy, Path::new("a.jpg"), &copy).unwrap(), Existing::Other);
    }
}
