//! Inspection: the whole manifest store of a file, for a person or a program.

use serde_json::Value;

use super::verify::read_store;
use super::{ProvenanceError, Validator};
use crate::media::MediaFile;

/// The manifest store of a file as c2pa's JSON, or `None` when it has none.
pub fn inspect_file(file: &MediaFile, validator: &Validator) -> Result<Option<Value>, ProvenanceError> {
    store_as(file, validator, |reader| Ok(serde_json::from_str(&reader.json()).unwrap_or(Value::Null)))
}

/// The manifest store of a file as crJSON (c2pa's serialisation, with its
/// validation results), the document the C2PA Conformance Program's asset
/// rubrics are evaluated on; `None` when the file has no manifest.
pub fn crjson_file(file: &MediaFile, validator: &Validator) -> Result<Option<Value>, ProvenanceError> {
    store_as(file, validator, |reader| {
        reader.to_crjson_value().map_err(|e| ProvenanceError::Unreadable {
            path: file.path.clone(),
            format: file.format.mime(),
            reason: format!("its manifest cannot be written as crJSON: {e}"),
        })
    })
}

fn store_as(
    file: &MediaFile,
    validator: &Validator,
    serialise: impl FnOnce(&c2pa::Reader) -> Result<Value, ProvenanceError>,
) -> Result<Option<Value>, ProvenanceError> {
    let (opened, _) = read_store(file, validator)?;
    match (opened.reader, opened.failure) {
        (Some(reader), _) => serialise(&reader).map(Some),
        (None, Some(e)) => Err(ProvenanceError::Unreadable {
            path: file.path.clone(),
            format: file.format.mime(),
            reason: format!("its manifest cannot be parsed: {e}"),
        }),
        (None, None) => Ok(None),
    }
}
