//! The inputs of a command from its PATHs, by the walking rules: what was
//! passed over is counted in the printer, what cannot be used is reported.

use std::path::PathBuf;

use vouch::media::{self, Input, MediaFile};

use super::Printer;

/// Expands PATHs, reporting unusable ones through the printer and counting
/// what the walk passed over.
pub(crate) fn media_inputs(paths: &[PathBuf], printer: &mut Printer) -> Vec<MediaFile> {
    let mut files = Vec::new();
    for input in media::expand(paths, &mut printer.skips) {
        match input {
            Input::Ok(file) => files.push(file),
            Input::Err(e) => printer.error(e.path(), &e),
        }
    }
    files
}

/// Every file under PATHs by the walking rules: what was passed over is
/// counted in the printer, what cannot be read is reported.
pub(crate) fn all_files(paths: &[PathBuf], printer: &mut Printer) -> Vec<vouch::walk::FoundFile> {
    let mut files = Vec::new();
    for walked in vouch::walk::walk(paths.to_vec()) {
        match walked {
            Ok(vouch::walk::Walked::File(found)) => files.push(found),
            Ok(vouch::walk::Walked::Skipped { path, why }) => {
                super::detail(&format!("skipped {}: {}", vouch::report::printable(&path), why.as_str()));
                printer.skips.add(why)
            }
            Err(e) => printer.error(e.path(), &e),
        }
    }
    files
}
