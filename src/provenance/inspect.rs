//! Inspection: the whole manifest store of a file, for a person or a program.

use serde_json::Value;

use super::verify::read_store;
use super::{ProvenanceError, Validator};
use crate::media::MediaFile;

/// The manifest store of a file as c2pa's JSON, or `None` when it has none.
pub fn inspect_file(file: &MediaFile, validator: &Validator) -> Result<Option<Value>, ProvenanceError> {
    let (opened, _) = read_store(file, validator)?;
    match (opened.reader, opened.failure) {
        (Some(reader), _) => Ok(Some(serde_json::from_str(&reader.json()).unwrap_or(Value::Null))),
        (None, Some(e)) => Err(ProvenanceError::Unreadable {
            path: file.path.clone(),
            format: file.format.mime(),
            reason: format!("its manifest cannot be parsed: {e}"),
        }),
        (None, None) => Ok(None),
    }
}
