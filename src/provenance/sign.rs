//! Signing: one media file in, one signed file (or sidecar) out.

use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use c2pa::{Builder, BuilderIntent, Context, DigitalSourceType, Reader};
use serde::Serialize;

use super::{is_no_manifest, ProvenanceError};
use crate::fsx::StagedFile;
use crate::media::MediaFile;

/// Where a signed manifest goes.
#[derive(Debug, Clone)]
pub enum SignOutput {
    /// A signed copy in this folder, keeping file names (and the layout
    /// below a walked folder).
    Dir(PathBuf),
    /// Replace the original (temp file in the same folder, then rename).
    InPlace,
    /// `FILE.c2pa` beside the original, which stays byte-identical.
    Sidecar,
}

/// What to say in each manifest.
#[derive(Debug, Clone)]
pub struct SignOptions {
    pub output: SignOutput,
    pub title: Option<String>,
    pub author: Option<String>,
    /// IPTC digital source type URI: of the content created (`c2pa.created`,
    /// digital capture when `None`), or, for a file that already has
    /// credentials, of what an edit made (`c2pa.edited`). With `None` there,
    /// vouch records only `c2pa.opened`: it did not edit the file, and does
    /// not know what any edit since the last manifest made.
    pub source_type: Option<String>,
    pub force: bool,
    /// Sign an input whose own credentials are invalid (its failure is then
    /// recorded in the new manifest's history, where verification shows it).
    pub allow_invalid_parent: bool,
}

/// The result of signing one file.
#[derive(Debug, Clone, Serialize)]
pub struct Signed {
    pub path: PathBuf,
    pub output: PathBuf,
    /// `c2pa.created` for a file without credentials; for a file that
    /// already had a manifest (kept as the parent ingredient), `c2pa.opened`,
    /// or `c2pa.edited` when the signer said what the edit made.
    pub action: &'static str,
    pub sidecar: bool,
    pub manifest_bytes: usize,
    /// Source types the input's own provenance declares: they stay in the
    /// history of the new manifest, and AI origin among them is announced.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub declared_sources: Vec<super::DeclaredSource>,
    /// SHA-256 of the input as signed and of the output as written (the
    /// signed copy, or the sidecar).
    #[serde(skip)]
    pub digests: SignedDigests,
}

/// The SHA-256 digests of what one signing read and wrote. For a file held
/// in memory they are of the very bytes signed and written; for a larger
/// one, the input's is taken before signing and the output's from the
/// staged file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignedDigests {
    pub input: [u8; 32],
    pub output: [u8; 32],
}

/// Inputs up to this size are read once into memory and signed there: one
/// read of the file and one write of the output instead of c2pa's many
/// small reads, seeks and writes on both (a third of the CPU time of
/// signing a folder of photos). Larger inputs (videos) stream from disk.
pub const IN_MEMORY_LIMIT: u64 = 64 * 1024 * 1024;

/// The input as c2pa reads it: from memory, or streamed from the file.
enum Input {
    Memory(Cursor<Vec<u8>>),
    File(File),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::Memory(c) => c.read(buf),
            Input::File(f) => f.read(buf),
        }
    }
}

impl Seek for Input {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        match self {
            Input::Memory(c) => c.seek(pos),
            Input::File(f) => f.seek(pos),
        }
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).into()
}

/// The extension of a sidecar manifest.
pub const SIDECAR_EXTENSION: &str = "c2pa";

/// The sidecar vouch writes for a media file, named as c2pa-rs and c2patool
/// look for it: `photo.jpg` → `photo.c2pa`.
pub fn sidecar_path(path: &Path) -> PathBuf {
    path.with_extension(SIDECAR_EXTENSION)
}

/// The sidecar name earlier vouch releases wrote (`photo.jpg.c2pa`), still read.
pub fn legacy_sidecar_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(SIDECAR_EXTENSION);
    PathBuf::from(name)
}

/// The sidecar beside a media file, under either name, if there is one.
pub fn find_sidecar(path: &Path) -> Option<PathBuf> {
    [sidecar_path(path), legacy_sidecar_path(path)].into_iter().find(|p| p.is_file())
}

/// Where the signed result of `file` goes under `options`. In place, a
/// symbolic link is followed: the file it points to is replaced and the
/// link is kept.
pub fn output_path(file: &MediaFile, output: &SignOutput) -> PathBuf {
    match output {
        SignOutput::Dir(dir) => dir.join(&file.relative),
        SignOutput::InPlace if file.link => std::fs::canonicalize(&file.path).unwrap_or_else(|_| file.path.clone()),
        SignOutput::InPlace => file.path.clone(),
        SignOutput::Sidecar => sidecar_path(&file.path),
    }
}

/// Whether two paths name the same file (both exist and share an inode).
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ProvenanceError + '_ {
    move |source| ProvenanceError::Io { path: path.to_path_buf(), source }
}

/// Signs one file with `signer`, writing the result as `options.output` says.
///
/// Nothing is written unless signing succeeds; an existing output is kept
/// unless `options.force` (in-place signing replaces the original by design).
pub fn sign_file(
    file: &MediaFile,
    signer: &dyn c2pa::Signer,
    context: &Arc<Context>,
    options: &SignOptions,
) -> Result<Signed, ProvenanceError> {
    let (signed, staged) = sign_staged(file, signer, context, options)?;
    let overwrite = options.force || matches!(options.output, SignOutput::InPlace);
    staged.commit(overwrite).map_err(|e| exists_or_io(&signed.output, e))?;
    Ok(signed)
}

/// Signs as [`sign_file`] does but leaves the output staged (complete and on
/// disk, not yet in place): the caller commits it, after recording what it is
/// about to put there (the capture station journals the output's hash first).
pub fn sign_staged(
    file: &MediaFile,
    signer: &dyn c2pa::Signer,
    context: &Arc<Context>,
    options: &SignOptions,
) -> Result<(Signed, StagedFile), ProvenanceError> {
    sign_staged_within(file, signer, context, options, IN_MEMORY_LIMIT)
}

/// [`sign_staged`], holding inputs of up to `in_memory_limit` bytes in memory.
fn sign_staged_within(
    file: &MediaFile,
    signer: &dyn c2pa::Signer,
    context: &Arc<Context>,
    options: &SignOptions,
    in_memory_limit: u64,
) -> Result<(Signed, StagedFile), ProvenanceError> {
    let dest = output_path(file, &options.output);
    // Only --in-place may replace the input; a signed copy never does, with
    // or without --force (`-o` naming the input's own folder, say).
    if !matches!(options.output, SignOutput::InPlace) && same_file(&dest, &file.path) {
        return Err(ProvenanceError::OutputIsInput(dest));
    }
    let overwrite = options.force || matches!(options.output, SignOutput::InPlace);
    if !overwrite && dest.exists() {
        return Err(ProvenanceError::OutputExists(dest));
    }
    crate::media::check_complete(file)?;
    let mime = file.format.mime();
    let mut opened = File::open(&file.path).map_err(io_err(&file.path))?;
    let size = opened.metadata().map_err(io_err(&file.path))?.len();
    let (mut source, input_sha256) = if size <= in_memory_limit {
        let mut bytes = Vec::with_capacity(size as usize);
        opened.read_to_end(&mut bytes).map_err(io_err(&file.path))?;
        let digest = sha256(&bytes);
        (Input::Memory(Cursor::new(bytes)), digest)
    } else {
        let digest = crate::anchor::digest::sha256_file(&file.path).map_err(io_err(&file.path))?;
        (Input::File(opened), digest)
    };
    // Signed copies keep the original's permissions, as `cp` would.
    let mode = crate::fsx::mode_of(&file.path).map_err(io_err(&file.path))?;
    // The input's own credentials become the parent ingredient: what they
    // declare is kept, and invalid ones are refused unless the user asks,
    // since a new signature over them would bury the failure in history.
    let may_have_credentials = match &source {
        Input::Memory(bytes) => may_carry_credentials(file.format, bytes.get_ref()),
        Input::File(_) => true,
    };
    let probed = if may_have_credentials {
        Reader::from_shared_context(context).with_stream(mime, &mut source)
    } else {
        Err(c2pa::Error::JumbfNotFound)
    };
    let parent = match probed {
        Ok(reader) => Some(super::verify::report_of(&reader, false)),
        Err(e) if is_no_manifest(&e) => None,
        Err(c2pa::Error::IoError(e)) => return Err(io_err(&file.path)(e)),
        Err(e) => Some(super::verify::unparseable(&e)),
    };
    if let Some(parent) = parent.as_ref().filter(|p| p.state == super::C2paState::Invalid) {
        if !options.allow_invalid_parent {
            // Who signed the input is not what is wrong with it.
            let codes: Vec<&str> =
                parent.codes.iter().map(String::as_str).filter(|c| *c != "signingCredential.untrusted").collect();
            return Err(ProvenanceError::InvalidParent { path: file.path.clone(), codes: codes.join(", ") });
        }
    }
    let has_manifest = parent.is_some();
    source.seek(SeekFrom::Start(0)).map_err(io_err(&file.path))?;

    let digital_capture = || format!("{}digitalCapture", super::source_type::IPTC);
    let (action, recorded_type) = match (has_manifest, &options.source_type) {
        (false, source_type) => ("c2pa.created", Some(source_type.clone().unwrap_or_else(digital_capture))),
        (true, Some(source_type)) => ("c2pa.edited", Some(source_type.clone())),
        (true, None) => ("c2pa.opened", None),
    };
    let mut builder = Builder::from_shared_context(context)
        .with_definition(definition(file, options, action, recorded_type.as_deref()))
        .map_err(|e| sign_err(file, e))?;
    // Under the edit intent c2pa puts `c2pa.opened` (with the parent
    // ingredient) first in the actions assertion vouch placed first.
    builder.set_intent(if has_manifest {
        BuilderIntent::Edit
    } else {
        let source_type: DigitalSourceType = serde_json::from_value(recorded_type.clone().unwrap_or_default().into())
            .map_err(|e| sign_err(file, c2pa::Error::BadParam(e.to_string())))?;
        BuilderIntent::Create(source_type)
    });

    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|source| ProvenanceError::OutputDir { path: parent.to_path_buf(), source })?;
    }
    let (manifest, staged, output_sha256) = match options.output {
        SignOutput::Sidecar => {
            builder.set_no_embed(true);
            // c2pa still writes an asset copy; it is discarded (held in
            // memory only when the input is).
            let manifest = match &source {
                Input::Memory(_) => {
                    let mut scratch = Cursor::new(Vec::with_capacity(size as usize + 64 * 1024));
                    builder.sign(signer, mime, &mut source, &mut scratch)
                }
                Input::File(_) => {
                    let mut scratch = tempfile::tempfile().map_err(io_err(&dest))?;
                    builder.sign(signer, mime, &mut source, &mut scratch)
                }
            }
            .map_err(|e| classify(file, e))?;
            check_sidecar_binds(file, context, &manifest, &mut source)?;
            let mut staged = StagedFile::new(&dest).map_err(io_err(&dest))?;
            staged.set_mode(0o644).map_err(io_err(&dest))?;
            staged.file().write_all(&manifest).map_err(io_err(&dest))?;
            let digest = sha256(&manifest);
            (manifest, staged, digest)
        }
        SignOutput::Dir(_) | SignOutput::InPlace => {
            let mut staged = StagedFile::new(&dest).map_err(io_err(&dest))?;
            staged.set_mode(mode).map_err(io_err(&dest))?;
            match &source {
                Input::Memory(_) => {
                    let mut signed = Cursor::new(Vec::with_capacity(size as usize + 64 * 1024));
                    let manifest =
                        builder.sign(signer, mime, &mut source, &mut signed).map_err(|e| classify(file, e))?;
                    drop(source);
                    let signed = signed.into_inner();
                    staged.file().write_all(&signed).map_err(io_err(&dest))?;
                    (manifest, staged, sha256(&signed))
                }
                Input::File(_) => {
                    let manifest =
                        builder.sign(signer, mime, &mut source, staged.file()).map_err(|e| classify(file, e))?;
                    drop(source);
                    let digest = crate::anchor::digest::sha256_file(staged.path()).map_err(io_err(&dest))?;
                    (manifest, staged, digest)
                }
            }
        }
    };
    let signed = Signed {
        path: file.path.clone(),
        output: dest,
        action,
        sidecar: matches!(options.output, SignOutput::Sidecar),
        manifest_bytes: manifest.len(),
        declared_sources: parent.map(|p| p.declared_sources).unwrap_or_default(),
        digests: SignedDigests { input: input_sha256, output: output_sha256 },
    };
    Ok((signed, staged))
}

/// Whether a file could carry credentials c2pa would find, when telling
/// costs less than c2pa's parse (a sixth of signing a photo). c2pa 0.91
/// finds a JPEG's manifest store only in an APP11 segment holding the store's
/// UUID, which begins `c2pa`, whole in that one segment; a PNG's in a `caBX`
/// chunk (whatever it holds: one c2pa cannot parse makes the parent
/// invalid); and a reference to a remote store only as XMP's
/// `dcterms:provenance`, read uncompressed. Bytes holding none of these
/// strings hold nothing c2pa would read. Other formats are always parsed.
fn may_carry_credentials(format: crate::media::Format, bytes: &[u8]) -> bool {
    use crate::media::Format;
    let holds = |needle: &[u8]| memchr::memmem::find(bytes, needle).is_some();
    match format {
        Format::Jpeg => holds(b"c2pa") || holds(b"provenance"),
        Format::Png => holds(b"caBX") || holds(b"c2pa") || holds(b"provenance"),
        _ => true,
    }
}

/// Refuses a sidecar that does not bind to the file it was made for. c2pa
/// 0.91.6 writes such sidecars for PDF and MP3, and for any file that
/// already has embedded credentials (its data hash then covers bytes the
/// original does not have, and every validator calls the sidecar
/// `invalid`); c2pa's check after signing does not hash the asset, so the
/// binding is checked here, before anything is written.
fn check_sidecar_binds(
    file: &MediaFile,
    context: &Arc<Context>,
    manifest: &[u8],
    source: &mut Input,
) -> Result<(), ProvenanceError> {
    source.seek(SeekFrom::Start(0)).map_err(io_err(&file.path))?;
    let reader = Reader::from_shared_context(context)
        .with_manifest_data_and_stream(manifest, file.format.mime(), &mut *source)
        .map_err(|e| sign_err(file, e))?;
    let report = super::verify::report_of(&reader, true);
    let unbound: Vec<&str> = report
        .codes
        .iter()
        .map(String::as_str)
        .filter(|c| c.starts_with("assertion.") && c.ends_with("Hash.mismatch"))
        .collect();
    if unbound.is_empty() {
        return Ok(());
    }
    Err(ProvenanceError::Sign {
        path: file.path.clone(),
        reason: format!(
            "c2pa cannot write a sidecar that binds to this {} file ({}); nothing was written (sign a copy with -o instead)",
            file.format.mime(),
            unbound.join(", ")
        ),
    })
}

/// The error of committing a staged output to `dest`: `OutputExists` when
/// another file took its place meanwhile (and `--force` was not given).
pub fn exists_or_io(dest: &Path, e: std::io::Error) -> ProvenanceError {
    if e.kind() == std::io::ErrorKind::AlreadyExists {
        ProvenanceError::OutputExists(dest.to_path_buf())
    } else {
        ProvenanceError::Io { path: dest.to_path_buf(), source: e }
    }
}

fn sign_err(file: &MediaFile, e: c2pa::Error) -> ProvenanceError {
    let reason = match e {
        // Only a timestamp request talks to anyone while signing.
        c2pa::Error::TimeStampError(_) | c2pa::Error::HttpResolverError(_) | c2pa::Error::CoseTimeStampGeneration => {
            format!("the time-stamping authority gave no valid timestamp ({e}); nothing was written")
        }
        e => e.to_string(),
    };
    ProvenanceError::Sign { path: file.path.clone(), reason }
}

/// Tells a damaged input (the user's file) from a signing failure.
fn classify(file: &MediaFile, e: c2pa::Error) -> ProvenanceError {
    match e {
        c2pa::Error::IoError(source) => ProvenanceError::Io { path: file.path.clone(), source },
        c2pa::Error::InvalidAsset(reason) => {
            ProvenanceError::Unreadable { path: file.path.clone(), format: file.format.mime(), reason }
        }
        c2pa::Error::UnsupportedType => ProvenanceError::Unreadable {
            path: file.path.clone(),
            format: file.format.mime(),
            reason: "c2pa does not support this format".into(),
        },
        other => sign_err(file, other),
    }
}

/// The manifest vouch writes, shaped as the C2PA Conformance Program
/// requires (spec 2.4): the actions assertion is a *created* assertion and
/// the first one, holding the inception action first and
/// `allActionsIncluded` (set from the context's settings, see
/// [`super::context`]); `claim_generator_info` carries `specVersion`. The
/// action vouch records carries the source type: a perceptible
/// transformation (`c2pa.edited`) must say what kind of content it yields.
/// For `c2pa.opened` vouch records nothing itself: c2pa adds the action,
/// with the parent ingredient, under the edit intent.
fn definition(file: &MediaFile, options: &SignOptions, action: &str, source_type: Option<&str>) -> serde_json::Value {
    let title = options
        .title
        .clone()
        .unwrap_or_else(|| file.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    let mut assertions = vec![serde_json::json!({
        "label": "c2pa.actions.v2",
        "created": true,
        "data": {
            "actions": match source_type {
                Some(source_type) if action != "c2pa.opened" => serde_json::json!([{ "action": action, "digitalSourceType": source_type }]),
                _ => serde_json::json!([]),
            },
            "allActionsIncluded": true,
        },
    })];
    if let Some(author) = &options.author {
        // The CAWG metadata assertion, not schema.org CreativeWork (`stds.*`
        // assertions are deprecated since C2PA 2.2).
        assertions.push(serde_json::json!({
            "label": "cawg.metadata",
            "kind": "Json",
            "data": {
                "@context": { "dc": "http://purl.org/dc/elements/1.1/" },
                "dc:creator": [author],
            },
        }));
    }
    serde_json::json!({
        "title": title,
        "format": file.format.mime(),
        "claim_generator_info": [super::claim_generator_info()],
        "assertions": assertions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_jpeg_and_png_bytes_without_either_marker_skip_the_parse() {
        use crate::media::Format;
        let plain = b"\xff\xd8\xff\xe0 JFIF pixels \xff\xd9";
        assert!(!may_carry_credentials(Format::Jpeg, plain));
        assert!(!may_carry_credentials(Format::Png, plain));
        // A manifest store's label, or a remote manifest's XMP reference.
        assert!(may_carry_credentials(Format::Jpeg, b"\xff\xd8 jumb jumdc2pa \xff\xd9"));
        assert!(may_carry_credentials(Format::Png, b"<dcterms:provenance>https://x/m.c2pa</dcterms:provenance>"));
        assert!(may_carry_credentials(Format::Png, b"\x89PNG ... caBX garbage IEND"));
        // Each marker alone is enough, in either format.
        for format in [Format::Jpeg, Format::Png] {
            assert!(may_carry_credentials(format, b"... jumdc2pa ..."), "{format:?}");
            assert!(may_carry_credentials(format, b"<dcterms:provenance>https://x/m</dcterms:provenance>"));
        }
        assert!(!may_carry_credentials(Format::Jpeg, b"\xff\xd8 caBX \xff\xd9"));
        // Every other format is parsed, whatever its bytes.
        assert!(may_carry_credentials(Format::Webp, plain));
        assert!(may_carry_credentials(Format::Mp4, plain));
    }

    /// A signed photo is seen as carrying credentials: re-signing it keeps
    /// the first manifest as the parent (`c2pa.opened`), never `c2pa.created`.
    #[test]
    fn a_signed_photo_is_re_signed_as_opened_under_its_parent() {
        let dir = tempfile::tempdir().unwrap();
        let signer = crate::identity::test_signer(&dir.path().join("identity"));
        let context = super::super::context(None, false).unwrap();
        let photo = crate::media::probe(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photo.jpg")).unwrap();
        let into = |folder: &str| SignOptions {
            output: SignOutput::Dir(dir.path().join(folder)),
            title: None,
            author: None,
            source_type: None,
            force: false,
            allow_invalid_parent: false,
        };
        let first = sign_file(&photo, signer.as_ref(), &context, &into("once")).unwrap();
        assert_eq!(first.action, "c2pa.created");
        let signed = crate::media::probe(&first.output).unwrap();
        assert!(may_carry_credentials(signed.format, &std::fs::read(&signed.path).unwrap()));
        let second = sign_file(&signed, signer.as_ref(), &context, &into("twice")).unwrap();
        assert_eq!(second.action, "c2pa.opened");
    }

    /// Signing in memory and streaming from disk write files that verify
    /// alike, and the digests either reports are those of the bytes on disk.
    #[test]
    fn in_memory_and_streamed_signing_agree_and_report_the_real_digests() {
        use crate::provenance::{verify_file, C2paState, Validator};
        let dir = tempfile::tempdir().unwrap();
        let signer = crate::identity::test_signer(&dir.path().join("identity"));
        let context = super::super::context(None, false).unwrap();
        let photo = crate::media::probe(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photo.jpg")).unwrap();
        let file_sha256 = |p: &Path| crate::anchor::digest::sha256_file(p).unwrap();
        for (limit, output) in [
            (u64::MAX, SignOutput::Dir(dir.path().join("memory"))),
            (0, SignOutput::Dir(dir.path().join("streamed"))),
            (u64::MAX, SignOutput::Sidecar),
        ] {
            let sidecar = matches!(output, SignOutput::Sidecar);
            let input = if sidecar {
                let copy = dir.path().join("beside.jpg");
                std::fs::copy(&photo.path, &copy).unwrap();
                crate::media::probe(&copy).unwrap()
            } else {
                photo.clone()
            };
            let options = SignOptions {
                output,
                title: None,
                author: None,
                source_type: None,
                force: false,
                allow_invalid_parent: false,
            };
            let (signed, staged) = sign_staged_within(&input, signer.as_ref(), &context, &options, limit).unwrap();
            staged.commit(false).unwrap();
            assert_eq!(signed.digests.input, file_sha256(&input.path), "limit {limit}");
            assert_eq!(signed.digests.output, file_sha256(&signed.output), "limit {limit}");
            assert_eq!(signed.sidecar, sidecar);
            let subject = if sidecar { input.clone() } else { crate::media::probe(&signed.output).unwrap() };
            let report = verify_file(&subject, &Validator::without_trust().unwrap()).unwrap();
            assert_eq!(report.state, C2paState::Valid, "limit {limit}: {:?}", report.codes);
        }
    }
}
