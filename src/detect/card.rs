//! Model cards: the TOML file beside a model's weights that says what the
//! model expects and what its output means. This file is the source of truth
//! for the format; `tests/detect/reference.py` reads the same TOML.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a card can get wrong.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("{}: cannot read model card: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{}: invalid model card: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{}: model weights not found (named by card {}); run `make deps`", weights.display(), card.display())]
    MissingWeights { card: PathBuf, weights: PathBuf },
    #[error("{}: cannot read model weights: {source}", path.display())]
    ReadWeights { path: PathBuf, source: io::Error },
    #[error("{}: SHA-256 is {actual}, but card {} says {expected}: wrong or damaged weights", weights.display(), card.display())]
    Sha256Mismatch { card: PathBuf, weights: PathBuf, expected: String, actual: String },
    #[error("{}: model weights changed while being loaded; run again", path.display())]
    WeightsChanged { path: PathBuf },
    #[error("model `{name}` not found: no {} ({searched}; give a card path, or a name from `vouch models list`)", dir.join(format!("{name}.toml")).display())]
    UnknownModel { name: String, dir: PathBuf, searched: String },
    #[error("{}: cannot list model cards: {source} ({searched})", dir.display())]
    List { dir: PathBuf, source: io::Error, searched: String },
}

/// What the model is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Scores a whole frame (or a face crop) for being synthetic.
    Frame,
    /// Finds faces; its boxes are cropped and handed to a frame model.
    Face,
}

/// What a frame model was trained to find: a card that says so lets the
/// record tell which manipulations the model does not look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detects {
    /// Whole images made by generators (diffusion models, GANs).
    AiImage,
    /// Faces swapped or re-enacted in real footage.
    FaceSwap,
}

impl Detects {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AiImage => "ai-image",
            Self::FaceSwap => "face-swap",
        }
    }

    /// In words, for the caveat line.
    pub fn words(self) -> &'static str {
        match self {
            Self::AiImage => "AI-generated images",
            Self::FaceSwap => "face swaps",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    Nchw,
    Nhwc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channels {
    Rgb,
    Bgr,
}

/// How an image of any shape becomes the model's width × height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Resize {
    /// Shortest side to the model's size, then the centre cut out.
    Crop,
    /// Longest side to the model's size, centred on black.
    Letterbox,
    /// Both sides to the model's size, ignoring the aspect ratio.
    Squash,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Filter {
    Bicubic,
    Bilinear,
    Nearest,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    pub name: String,
    pub layout: Layout,
    pub width: u32,
    pub height: u32,
    pub channels: Channels,
    /// u8 0..=255 maps linearly onto this range before mean/std.
    pub range: [f32; 2],
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub resize: Resize,
    pub filter: Filter,
}

/// What the first output tensor holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputKind {
    /// One value per image; the sigmoid of it is the probability.
    Logit,
    /// One value per image, already a probability.
    Probability,
    /// One row of logits per image; softmax, then `class_index`.
    Softmax,
    /// An embedding scored by the card's linear `[head]`.
    Embedding,
    /// YuNet face boxes (cls/obj/bbox/kps per stride 8, 16, 32).
    Yunet,
}

/// Which way a high model output points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    #[default]
    Synthetic,
    /// The model scores "real": the synthetic probability is `1 - p`.
    Real,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// The output read (not needed for YuNet, whose twelve outputs have fixed names).
    #[serde(default)]
    pub name: Option<String>,
    pub kind: OutputKind,
    #[serde(default)]
    pub class_index: Option<usize>,
    #[serde(default)]
    pub polarity: Polarity,
    /// Face models: minimum detection score.
    #[serde(default)]
    pub score_threshold: Option<f32>,
    /// Face models: IoU above which overlapping boxes are merged.
    #[serde(default)]
    pub nms_iou: Option<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Sigmoid,
    None,
}

/// A linear head over an embedding: `activation(w · e + b)`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HeadSpec {
    /// JSON with `weights` (a list of floats) and `bias` (a float).
    pub weights: String,
    pub l2_normalise: bool,
    pub activation: Activation,
    /// Calibration: `z = scale * (w · e + b) + offset`.
    #[serde(default = "one")]
    pub scale: f32,
    #[serde(default)]
    pub offset: f32,
}

fn one() -> f32 {
    1.0
}

/// A model card as written in TOML.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelCard {
    pub name: String,
    pub task: Task,
    pub source: String,
    pub license: String,
    /// Relative to the card's directory (or absolute).
    pub weights: String,
    pub sha256: String,
    /// Default decision threshold on the synthetic probability.
    #[serde(default = "default_threshold")]
    pub threshold: f32,
    /// `flagged` from `threshold + margin` (default 0.1).
    #[serde(default)]
    pub margin: Option<f32>,
    /// `not_flagged` below this (default `threshold - margin`); between it
    /// and the flag line a score is `inconclusive`.
    #[serde(default)]
    pub not_flagged_below: Option<f32>,
    pub input: InputSpec,
    pub output: OutputSpec,
    #[serde(default)]
    pub head: Option<HeadSpec>,
    /// Frame models: what the model was trained to find.
    #[serde(default)]
    pub detects: Option<Detects>,
    /// Frame models: on what, in a few words (the training data).
    #[serde(default)]
    pub trained_for: Option<String>,
    /// Share of synthetic inputs flagged at `threshold`, where measured.
    #[serde(default)]
    pub recall: Option<f32>,
    /// Share of real inputs flagged at `threshold`, where measured.
    #[serde(default)]
    pub false_positive_rate: Option<f32>,
    /// The ONNX Runtime version the card's reference scores were made with.
    #[serde(default)]
    pub validated_with: Option<String>,
    /// Frame models that score face crops: the face detector to find them
    /// with (a card name, or a card path relative to this card), so
    /// `--faces` is implied.
    #[serde(default)]
    pub face_model: Option<String>,
}

/// What a frame model's card says about its limits, as records carry it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// `ai-image` or `face-swap`; `None` when the card does not say.
    pub task: Option<Detects>,
    pub trained_for: Option<String>,
    pub recall: Option<f32>,
    pub false_positive_rate: Option<f32>,
    pub validated_with: Option<String>,
}

/// Where a model's scores are cut into labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub threshold: f32,
    pub margin: f32,
    pub not_flagged_below: f32,
}

impl Band {
    /// `flagged` at or above this.
    pub fn flag_at(&self) -> f32 {
        self.threshold + self.margin
    }
}

impl ModelCard {
    /// The card's band, or one around the user's own threshold (the card's
    /// `not_flagged_below` belongs to the card's threshold only).
    pub fn band(&self, threshold: Option<f32>) -> Band {
        let margin = self.margin.unwrap_or(super::aggregate::MARGIN);
        match threshold {
            Some(t) if t != self.threshold => Band { threshold: t, margin, not_flagged_below: (t - margin).max(0.0) },
            _ => Band {
                threshold: self.threshold,
                margin,
                not_flagged_below: self.not_flagged_below.unwrap_or((self.threshold - margin).max(0.0)),
            },
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            task: self.detects,
            trained_for: self.trained_for.clone(),
            recall: self.recall,
            false_positive_rate: self.false_positive_rate,
            validated_with: self.validated_with.clone(),
        }
    }
}

fn default_threshold() -> f32 {
    0.5
}

/// A card and where it was read from, so relative paths resolve.
#[derive(Debug, Clone)]
pub struct Card {
    pub path: PathBuf,
    pub card: ModelCard,
}

impl Card {
    /// Reads and validates a card (without touching the weights).
    pub fn load(path: &Path) -> Result<Self, CardError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| CardError::Read { path: path.to_path_buf(), source: e })?;
        Self::parse(&text, path)
    }

    /// Parses and validates card text as if read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Self, CardError> {
        let parse_error = |message: String| CardError::Parse { path: path.to_path_buf(), message };
        let card: ModelCard = toml::from_str(text).map_err(|e| parse_error(e.message().to_string()))?;
        card.validate().map_err(parse_error)?;
        Ok(Self { path: path.to_path_buf(), card })
    }

    /// A path the card names, relative to the card's own directory.
    pub fn resolve(&self, name: &str) -> PathBuf {
        let named = Path::new(name);
        if named.is_absolute() {
            return named.to_path_buf();
        }
        self.path.parent().unwrap_or(Path::new(".")).join(named)
    }

    pub fn weights_path(&self) -> PathBuf {
        self.resolve(&self.card.weights)
    }

    /// Opens the weights and streams them through SHA-256, refusing them
    /// unless it is the card's; on the way, looks for `marker` (an operator
    /// name, say) in them. The weights are never held in memory: ONNX
    /// Runtime reads them itself from [`CheckedWeights::load_path`], the
    /// file already checked, and [`CheckedWeights::unchanged`] then tells
    /// whether anything wrote to it meanwhile.
    pub fn open_weights(&self, marker: &[u8]) -> Result<CheckedWeights, CardError> {
        let path = self.weights_path();
        let read_error = |source: io::Error| CardError::ReadWeights { path: path.clone(), source };
        let mut file = File::open(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => CardError::MissingWeights { card: self.path.clone(), weights: path.clone() },
            _ => read_error(e),
        })?;
        let stamp = Stamp::of(&file.metadata().map_err(read_error)?);
        let mut hasher = Sha256::new();
        let mut chunk = vec![0u8; 1 << 20];
        // The end of the previous chunk, so a marker split across two is found.
        let mut window: Vec<u8> = Vec::new();
        let mut marked = marker.is_empty();
        loop {
            let n = match file.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(e)),
            };
            hasher.update(&chunk[..n]);
            if !marked {
                window.extend_from_slice(&chunk[..n]);
                marked = window.windows(marker.len()).any(|w| w == marker);
                window.drain(..window.len().saturating_sub(marker.len() - 1));
            }
        }
        let actual = hex::encode(hasher.finalize());
        if !actual.eq_ignore_ascii_case(&self.card.sha256) {
            return Err(CardError::Sha256Mismatch {
                card: self.path.clone(),
                weights: path,
                expected: self.card.sha256.clone(),
                actual,
            });
        }
        Ok(CheckedWeights { path, file, stamp, marked })
    }
}

/// A card's weights file, open, whose SHA-256 is the card's.
#[derive(Debug)]
pub struct CheckedWeights {
    pub path: PathBuf,
    file: File,
    stamp: Stamp,
    /// Whether the marker given to [`Card::open_weights`] occurs in them.
    pub marked: bool,
}

impl CheckedWeights {
    /// The path a loader should open: on Linux the file already open and
    /// checked (`/proc/self/fd/N`), so a file renamed over the weights
    /// meanwhile is not what gets loaded; elsewhere the path itself.
    pub fn load_path(&self) -> PathBuf {
        use std::os::fd::AsRawFd;
        let open = PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd()));
        if open.exists() {
            open
        } else {
            self.path.clone()
        }
    }

    /// Refuses the weights if anything wrote to the file, or put another
    /// file at its path, since they were checked: a write moves the
    /// change time, which no one can set back.
    pub fn unchanged(&self) -> Result<(), CardError> {
        let changed = || CardError::WeightsChanged { path: self.path.clone() };
        let open = self.file.metadata().map_err(|_| changed())?;
        let named = std::fs::metadata(&self.path).map_err(|_| changed())?;
        if Stamp::of(&open) == self.stamp && Stamp::of(&named) == self.stamp {
            Ok(())
        } else {
            Err(changed())
        }
    }
}

/// What changes when a file is written or replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    device: u64,
    inode: u64,
    len: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        Self {
            device: meta.dev(),
            inode: meta.ino(),
            len: meta.len(),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

impl ModelCard {
    /// Checks what serde cannot: combinations of fields.
    fn validate(&self) -> Result<(), String> {
        let input = &self.input;
        if input.width == 0 || input.height == 0 {
            return Err("input width and height must be positive".into());
        }
        if input.std.iter().any(|s| *s == 0.0 || !s.is_finite()) {
            return Err("input std must be non-zero".into());
        }
        if input.range[0] == input.range[1] {
            return Err("input range must not be empty".into());
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("sha256 must be 64 hex digits".into());
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err("threshold must be between 0 and 1".into());
        }
        if self.margin.is_some_and(|m| !(0.0..=1.0).contains(&m)) {
            return Err("margin must be between 0 and 1".into());
        }
        if self.not_flagged_below.is_some_and(|b| !(0.0..=self.threshold).contains(&b)) {
            return Err("not_flagged_below must be between 0 and the threshold".into());
        }
        for (field, rate) in [("recall", self.recall), ("false_positive_rate", self.false_positive_rate)] {
            if rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
                return Err(format!("{field} must be between 0 and 1"));
            }
        }
        if self.task == Task::Face
            && (self.detects.is_some() || self.trained_for.is_some() || self.face_model.is_some())
        {
            return Err("detects, trained_for and face_model describe frame models, not face detectors".into());
        }
        match (self.task, self.output.kind) {
            (Task::Face, OutputKind::Yunet) => {}
            (Task::Face, kind) => return Err(format!("a face model's output kind must be yunet, not {kind:?}")),
            (Task::Frame, OutputKind::Yunet) => return Err("output kind yunet needs task = \"face\"".into()),
            (Task::Frame, _) => {}
        }
        if (self.output.kind == OutputKind::Embedding) != self.head.is_some() {
            return Err("a [head] is required with output kind embedding, and only then".into());
        }
        if self.output.kind != OutputKind::Yunet && self.output.name.is_none() {
            return Err("[output] needs the name of the output to read".into());
        }
        if self.output.kind == OutputKind::Softmax && self.output.class_index.is_none() {
            return Err("output kind softmax needs class_index".into());
        }
        Ok(())
    }
}

/// The cards (`*.toml`) in a models directory, by name; unreadable cards
/// come back as errors in the same list so one bad card hides nothing.
pub fn list(dir: &Path) -> Result<Vec<Result<Card, CardError>>, CardError> {
    let entries = std::fs::read_dir(dir).map_err(|e| CardError::List {
        dir: dir.to_path_buf(),
        source: e,
        searched: searched_for(dir),
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
        .collect();
    paths.sort();
    Ok(paths.iter().map(|p| Card::load(p)).collect())
}

/// A `--model` value: a path to a card (anything with a `.toml` suffix or a
/// path separator), or the name of a card in `models_dir`.
pub fn find(spec: &str, models_dir: &Path) -> Result<Card, CardError> {
    let as_path = Path::new(spec);
    if spec.ends_with(".toml") || spec.contains(std::path::MAIN_SEPARATOR) {
        return Card::load(as_path);
    }
    let path = models_dir.join(format!("{spec}.toml"));
    if !path.is_file() {
        return Err(CardError::UnknownModel {
            name: spec.to_string(),
            dir: models_dir.to_path_buf(),
            searched: searched_for(models_dir),
        });
    }
    Card::load(&path)
}

/// How `dir` came to be the models folder, when it is the one vouch chose.
fn searched_for(dir: &Path) -> String {
    let location = super::models_location();
    if location.dir == dir {
        location.describe()
    } else {
        format!("the models folder given is {}", dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const MESO: &str = r#"
name = "meso4-df"
task = "frame"
source = "test"
license = "test"
weights = "Meso4_DF.onnx"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"

[input]
name = "input"
layout = "nhwc"
width = 256
height = 256
channels = "rgb"
range = [0.0, 1.0]
mean = [0.0, 0.0, 0.0]
std = [1.0, 1.0, 1.0]
resize = "squash"
filter = "bilinear"

[output]
name = "p_real"
kind = "probability"
polarity = "real"
"#;

    #[test]
    fn parses_and_resolves_relative_to_the_card() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meso.toml");
        std::fs::write(&path, MESO).unwrap();
        let card = Card::load(&path).unwrap();
        assert_eq!(card.card.output.polarity, Polarity::Real);
        assert_eq!(card.card.threshold, 0.5);
        assert_eq!(card.weights_path(), dir.path().join("Meso4_DF.onnx"));
        let err = card.open_weights(b"").unwrap_err();
        assert!(matches!(err, CardError::MissingWeights { .. }), "{err}");
        assert!(err.to_string().contains("make deps"), "{err}");
    }

    #[test]
    fn unknown_fields_and_bad_combinations_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, MESO.replace("task = \"frame\"", "task = \"frame\"\ncolour = \"blue\"")).unwrap();
        let err = Card::load(&path).unwrap_err().to_string();
        assert!(err.contains("bad.toml") && err.contains("colour"), "{err}");
        std::fs::write(&path, MESO.replace("kind = \"probability\"", "kind = \"embedding\"")).unwrap();
        let err = Card::load(&path).unwrap_err().to_string();
        assert!(err.contains("[head]"), "{err}");
    }

    #[test]
    fn wrong_sha256_names_the_weights() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Meso4_DF.onnx"), b"not a model").unwrap();
        let path = dir.path().join("meso.toml");
        std::fs::write(&path, MESO).unwrap();
        let err = Card::load(&path).unwrap().open_weights(b"").unwrap_err();
        assert!(matches!(err, CardError::Sha256Mismatch { .. }), "{err}");
        assert!(err.to_string().contains("Meso4_DF.onnx"), "{err}");
    }

    #[test]
    fn checked_weights_find_a_marker_across_chunks_and_notice_a_write() {
        let dir = tempfile::tempdir().unwrap();
        // The marker straddles the first 1 MiB chunk and the second.
        let mut bytes = vec![b'x'; (1 << 20) - 5];
        bytes.extend_from_slice(b"DynamicQuantizeLinear");
        bytes.extend(vec![b'y'; 1000]);
        let weights = dir.path().join("Meso4_DF.onnx");
        std::fs::write(&weights, &bytes).unwrap();
        let path = dir.path().join("meso.toml");
        let sha = hex::encode(Sha256::digest(&bytes));
        std::fs::write(&path, MESO.replace(&"0".repeat(64), &sha)).unwrap();
        let card = Card::load(&path).unwrap();
        let checked = card.open_weights(b"DynamicQuantizeLinear").unwrap();
        assert!(checked.marked);
        assert!(!card.open_weights(b"QLinearConv").unwrap().marked);
        assert_eq!(std::fs::read(checked.load_path()).unwrap(), bytes);
        checked.unchanged().unwrap();
        // A write after the check, even one that leaves the bytes and the
        // modification time as they were, refuses the weights.
        let modified = std::fs::metadata(&weights).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&weights, &bytes).unwrap();
        std::fs::File::options().write(true).open(&weights).unwrap().set_modified(modified).unwrap();
        let err = checked.unchanged().unwrap_err();
        assert!(matches!(err, CardError::WeightsChanged { .. }), "{err}");
        assert!(err.to_string().contains("Meso4_DF.onnx"), "{err}");
    }
}
