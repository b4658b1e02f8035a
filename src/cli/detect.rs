//! `vouch detect`: synthetic-media scores per file, as text, JSON Lines or
//! CSV, with timelines.

use std::path::PathBuf;

use anyhow::{Context as _, Result};

use vouch::detect::card::Task;
use vouch::detect::sample::Sampling;
use vouch::detect::{self, Detector, Options};
use vouch::report;

use super::args::DetectArgs;
use super::{Outcome, Printer};

pub fn detect(a: DetectArgs) -> Result<Outcome> {
    let threads = a.threads.map_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()), |n| n as usize);
    // Only the first configuration of the global pool counts; the pool is
    // not built yet in a fresh process.
    let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
    vouch::detect::decode::set_max_pixels(a.max_pixels);
    let sampling = match (a.fps, a.every, a.all_frames) {
        (Some(fps), _, _) => Sampling::Fps(fps),
        (_, Some(n), _) => Sampling::Every(n),
        (_, _, true) => Sampling::All,
        _ => Sampling::default(),
    };
    let options = Options {
        sampling,
        max_frames: a.max_frames.map(|n| n as usize),
        threshold: a.threshold,
        batch: a.batch as usize,
    };
    let mut detector = detector(&a.model, a.faces, &a.face_model, options, threads)?;
    let caveat: Vec<String> =
        detector.described().iter().map(|(name, limits, band)| report::detect_caveat(name, limits, band)).collect();
    let context = vouch::provenance::Validator::without_trust()?;

    let mut printer = Printer::new(a.json).summarising_also(
        &[],
        &["flagged", "declared synthetic", "inconclusive", "not flagged"],
        "could not be read",
    );
    let mut files: Vec<PathBuf> = Vec::new();
    for found in super::inputs::all_files(&a.paths, &mut printer) {
        if found.named || is_media(&found.path) {
            files.push(found.path);
        } else {
            super::detail(&format!(
                "skipped {}: {}",
                report::printable(&found.path),
                vouch::walk::SkipReason::NotMedia.as_str()
            ));
            printer.skips.add(vouch::walk::SkipReason::NotMedia);
        }
    }
    printer.say_skips();
    let machine = a.json || a.csv;
    // The header goes above the first result, so a run whose every input
    // fails prints only its errors.
    let mut header = match (a.json, a.csv) {
        (true, _) => None,
        (_, true) => Some(report::CSV_HEADER),
        _ => Some(report::DETECT_HEADER),
    };
    let bar = vouch::progress::bar(files.len() as u64, "detecting", machine);
    for path in &files {
        let result = detector.detect(path);
        bar.inc(1);
        let mut detection = match result {
            Ok(d) => d,
            Err(e) => {
                bar.suspend(|| printer.error(path, &e));
                continue;
            }
        };
        match c2pa_declarations(path, &context) {
            Ok(declared) => detection.declare(declared),
            Err(why) => detection.note(format!("its Content Credentials could not be read: {why}")),
        }
        if let Some(out) = &a.plot {
            let target = report::plot_path(out, path, files.len() > 1);
            if let Err(e) = report::plot_timeline(&detection, &target) {
                bar.suspend(|| printer.error(path, &e));
            }
        }
        let outcome = if report::is_flagged(&detection) { Outcome::CheckFailed } else { Outcome::Passed };
        printer.count(summary_word(detection.verdict));
        let render = |d: &detect::Detection| if a.csv { report::detect_csv(d) } else { report::detect_text(d) };
        bar.suspend(|| {
            if let Some(line) = header.take() {
                printer.line(line);
            }
            if a.csv && detection.frames.is_empty() {
                printer.outcome = printer.outcome.max(outcome);
            } else {
                printer.record(&detection, render, outcome);
            }
        });
    }
    bar.finish_and_clear();
    if !machine && header.is_none() {
        for line in &caveat {
            printer.line(line);
        }
    }
    Ok(printer.finish())
}

/// A detection label as the summary line counts it.
fn summary_word(verdict: detect::aggregate::Verdict) -> &'static str {
    use detect::aggregate::Verdict;
    match verdict {
        Verdict::DeclaredSynthetic => "declared synthetic",
        Verdict::Flagged => "flagged",
        Verdict::Inconclusive => "inconclusive",
        Verdict::NotFlagged => "not flagged",
    }
}

/// The detector for `--model` (one or more), `--faces` and `--face-model`:
/// the first model decides which face detector counts or finds faces, a
/// further model whose card names a face model brings that one if none is
/// loaded yet.
pub(crate) fn detector(
    specs: &[String],
    faces: bool,
    face_model: &str,
    options: detect::Options,
    threads: usize,
) -> Result<Detector> {
    let (first, rest) = specs.split_first().context("no --model given")?;
    settle_heap(threads);
    let model = detect::load_model(first, Task::Frame, threads)?;
    warn_runtime(&model);
    let (finder, probe) = face_models(faces, face_model, &model, threads)?;
    let mut detector = Detector::new(model, finder, options)?.with_face_probe(probe);
    for spec in rest {
        let model = detect::load_model(spec, Task::Frame, threads)?;
        warn_runtime(&model);
        let wants_faces = faces || model.card.card.face_model.is_some();
        let finder = if wants_faces && !detector.finds_faces() {
            face_models(faces, face_model, &model, threads)?.0
        } else {
            None
        };
        detector = detector.with_model(model, wants_faces, finder)?;
    }
    trim_heap();
    Ok(detector)
}

/// Tunes both allocators for detection, before its threads start: vouch's
/// own buffers come from mimalloc, FFmpeg's and ONNX Runtime's from glibc.
///
/// mimalloc hands freed pages back to the system only a second after the
/// last free by default, and lets the kernel back its memory with transparent
/// huge pages: a decoded frame freed then stays resident while the next one
/// is made. Purging at once, without huge pages, keeps peak RSS where it
/// was before mimalloc (measured on a 30 s 1080p clip with the default
/// model: 226 MiB with mimalloc's defaults, 200 with these, 192 with glibc
/// alone); `sign` and `verify` keep the defaults, which are faster.
///
/// glibc by default raises its mmap threshold to the size of each large
/// block freed, and keeps up to eight arenas a core, one per thread that
/// allocates: freed blocks then stay resident in several arenas at once. A
/// fixed threshold hands every block of 256 KiB or more back to the system
/// when it is freed, and one arena a detection thread (`threads` for the
/// cores, plus the decoder's) keeps the small rest from spreading.
fn settle_heap(threads: usize) {
    /// `mi_option_purge_delay` in the `mimalloc.h` of the mimalloc 3 that
    /// libmimalloc-sys 0.1.49 builds (its Rust bindings name no constant
    /// for it).
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // A purge delay the user set (MIMALLOC_PURGE_DELAY) is left alone.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set only changes a tuning parameter mimalloc
        // reads when it next decides to purge; any value is valid for it.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
    }
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag on this
    // process's memory map, read by the kernel at page-fault time.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters, and any value is
    // valid for these two; called before the detection threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
        libc::mallopt(libc::M_ARENA_MAX, i32::try_from(threads + 1).unwrap_or(i32::MAX));
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = threads;
}

/// Hands back to the system the heap ONNX Runtime freed while building its
/// sessions (the parsed model it no longer needs): glibc returns free heap
/// memory only from the top of the heap unless asked.
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; no pointer is touched.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Says on stderr when the model's reference scores were made with another
/// ONNX Runtime than this one.
pub(crate) fn warn_runtime(model: &detect::infer::Model) {
    if let Some(warning) = model.runtime_mismatch() {
        super::say(&format!("warning: {}", report::printable_str(&warning)));
    }
}

/// The face detector for `--faces`, or else one that only counts faces so
/// the record can say when an AI-image model is shown a face. The default
/// face model may be absent without `--faces`; a named one may not.
pub(crate) fn face_models(
    faces: bool,
    face_model: &str,
    model: &detect::infer::Model,
    threads: usize,
) -> Result<(Option<detect::infer::Model>, Option<detect::infer::Model>)> {
    let found = || detect::load_model(face_model, Task::Face, threads);
    // A card that scores face crops names its face detector: --faces is implied.
    if let Some(named) = model.card.card.face_model.as_deref().filter(|_| !faces) {
        let spec =
            if named.ends_with(".toml") { model.card.resolve(named).display().to_string() } else { named.into() };
        let found = detect::load_model(&spec, Task::Face, threads)
            .with_context(|| format!("{}: its face_model `{named}` could not be loaded", model.card.path.display()))?;
        return Ok((Some(found), None));
    }
    if faces {
        let found =
            found().with_context(|| "--faces needs a face detector: give --face-model CARD.toml (task = \"face\")")?;
        return Ok((Some(found), None));
    }
    if model.card.card.detects != Some(vouch::detect::card::Detects::AiImage) {
        return Ok((None, None));
    }
    match found() {
        Ok(probe) => Ok((None, Some(probe))),
        Err(_) if face_model == detect::DEFAULT_FACE_MODEL => Ok((None, None)),
        Err(e) => Err(e.into()),
    }
}

/// What the file's Content Credentials declare about AI origin, whatever
/// their validity (see [`vouch::detect::declared::from_c2pa`]).
pub(crate) fn c2pa_declarations(
    path: &std::path::Path,
    context: &vouch::provenance::Validator,
) -> Result<Vec<vouch::detect::declared::Declared>, String> {
    if vouch::media::Format::from_path(path).is_none() {
        return Ok(Vec::new());
    }
    let media = vouch::media::probe(path).map_err(|e| e.to_string())?;
    let report = vouch::provenance::verify_file(&media, context).map_err(|e| e.to_string())?;
    Ok(vouch::detect::declared::from_c2pa(&report))
}

pub(crate) fn is_media(path: &std::path::Path) -> bool {
    vouch::detect::decode::is_media(path)
}
