//! Inference through ONNX Runtime, loaded at run time from the shared
//! library `make deps` installs (or wherever `ORT_DYLIB_PATH` points).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;
use serde::Serialize;

use super::card::{Activation, Card, CardError, Layout, OutputKind, Polarity, Task};

#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error(
        "ONNX Runtime library not found (looked at {looked}): run `make deps`, or set ORT_DYLIB_PATH to libonnxruntime.so"
    )]
    RuntimeMissing { looked: String },
    #[error("{}: cannot load ONNX Runtime: {message}", path.display())]
    RuntimeLoad { path: PathBuf, message: String },
    #[error(transparent)]
    Card(#[from] CardError),
    #[error("{}: cannot load model: {message}", path.display())]
    Load { path: PathBuf, message: String },
    #[error("{}: model does not match its card {}: {message}", weights.display(), card.display())]
    Mismatch { card: PathBuf, weights: PathBuf, message: String },
    #[error("{}: cannot read head: {message}", path.display())]
    Head { path: PathBuf, message: String },
    #[error("{}: inference failed: {message}", path.display())]
    Run { path: PathBuf, message: String },
}

/// The process-wide ONNX Runtime environment (ONNX Runtime allows one).
fn environment() -> Result<&'static Environment, InferError> {
    static ENV: OnceLock<Result<Environment, InferError>> = OnceLock::new();
    let env = ENV.get_or_init(|| {
        let path = find_runtime()?;
        let load_error = |message: String| InferError::RuntimeLoad { path: path.clone(), message };
        ort::init_from(&path)
            .map_err(|e| load_error(e.to_string()))?
            .with_name("vouch")
            .build()
            .map_err(|e| load_error(e.to_string()))
    });
    env.as_ref().map_err(|e| match e {
        InferError::RuntimeMissing { looked } => InferError::RuntimeMissing { looked: looked.clone() },
        InferError::RuntimeLoad { path, message } => {
            InferError::RuntimeLoad { path: path.clone(), message: message.clone() }
        }
        other => InferError::RuntimeLoad { path: PathBuf::new(), message: other.to_string() },
    })
}

const LIBRARY: &str = "libonnxruntime.so";

/// The version of the ONNX Runtime in use, e.g. `1.24.4`, as the library
/// itself reports it. Scores of quantised models move between versions,
/// so records carry it and cards name the one they were validated with.
pub fn runtime_version() -> Result<String, InferError> {
    static VERSION: OnceLock<String> = OnceLock::new();
    if let Some(version) = VERSION.get() {
        return Ok(version.clone());
    }
    environment()?;
    let path = find_runtime()?;
    let load_error = |message: String| InferError::RuntimeLoad { path: path.clone(), message };
    // SAFETY: the library is the one the environment above already loaded
    // (dlopen hands back the same handle); OrtGetApiBase and
    // GetVersionString take nothing and return pointers to static data,
    // copied before the handle is dropped.
    let version = unsafe {
        let library = libloading::Library::new(&path).map_err(|e| load_error(e.to_string()))?;
        let base: libloading::Symbol<unsafe extern "C" fn() -> *const ort::sys::OrtApiBase> =
            library.get(b"OrtGetApiBase").map_err(|e| load_error(e.to_string()))?;
        let base = base();
        if base.is_null() {
            return Err(load_error("OrtGetApiBase returned nothing".into()));
        }
        let text = ((*base).GetVersionString)();
        if text.is_null() {
            return Err(load_error("GetVersionString returned nothing".into()));
        }
        std::ffi::CStr::from_ptr(text).to_string_lossy().into_owned()
    };
    Ok(VERSION.get_or_init(|| version).clone())
}

/// Where the ONNX Runtime library is: `ORT_DYLIB_PATH` when set; else
/// `.deps/onnxruntime/` of the checkout the executable was built in
/// (`target/*/vouch` sits two levels below it); else `lib/vouch/` of the
/// prefix it was installed in; else the usual system library folders.
/// Finding it does not load it: [`runtime_version`] does.
pub fn find_runtime() -> Result<PathBuf, InferError> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        return Err(InferError::RuntimeMissing { looked: format!("{} (ORT_DYLIB_PATH)", path.display()) });
    }
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(4) {
            candidates.push(dir.join(".deps/onnxruntime").join(LIBRARY));
        }
        // Installed by `make install`: PREFIX/bin/vouch, PREFIX/lib/vouch/.
        if let Some(prefix) = exe.parent().and_then(Path::parent) {
            candidates.push(prefix.join("lib/vouch").join(LIBRARY));
        }
    }
    let multiarch = format!("/usr/lib/{}-linux-gnu", std::env::consts::ARCH);
    for dir in ["/usr/local/lib", "/usr/lib", &multiarch, "/usr/lib64"] {
        candidates.push(Path::new(dir).join(LIBRARY));
    }
    match candidates.iter().find(|p| p.is_file()) {
        Some(found) => Ok(found.clone()),
        None => Err(InferError::RuntimeMissing {
            looked: candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        }),
    }
}

/// A linear probe over an embedding.
#[derive(Debug, Clone)]
struct Head {
    weights: Vec<f64>,
    bias: f64,
    l2_normalise: bool,
    activation: Activation,
    scale: f64,
    offset: f64,
}

impl Head {
    fn load(card: &Card) -> Result<Option<Self>, InferError> {
        let Some(spec) = &card.card.head else { return Ok(None) };
        let path = card.resolve(&spec.weights);
        let head_error = |message: String| InferError::Head { path: path.clone(), message };
        #[derive(serde::Deserialize)]
        struct Json {
            weights: Vec<f64>,
            #[serde(default)]
            bias: f64,
        }
        let text = std::fs::read_to_string(&path).map_err(|e| head_error(e.to_string()))?;
        let json: Json = serde_json::from_str(&text).map_err(|e| head_error(e.to_string()))?;
        if json.weights.is_empty() || !json.weights.iter().chain([&json.bias]).all(|w| w.is_finite()) {
            return Err(head_error("weights must be a non-empty list of finite numbers".into()));
        }
        Ok(Some(Self {
            weights: json.weights,
            bias: json.bias,
            l2_normalise: spec.l2_normalise,
            activation: spec.activation,
            scale: f64::from(spec.scale),
            offset: f64::from(spec.offset),
        }))
    }

    fn apply(&self, embedding: &[f32]) -> f32 {
        // Accumulate in f64: the reference (numpy) sums a 512-term dot product
        // pairwise, and f32 left-to-right drifts by ~1e-6 from it.
        let dot: f64 = self.weights.iter().zip(embedding).map(|(w, e)| w * f64::from(*e)).sum();
        let scale = if self.l2_normalise {
            let norm = embedding.iter().map(|e| f64::from(*e).powi(2)).sum::<f64>().sqrt();
            1.0 / norm.max(1e-12)
        } else {
            1.0
        };
        let z = self.scale * (dot * scale + self.bias) + self.offset;
        match self.activation {
            Activation::Sigmoid => (1.0 / (1.0 + (-z).exp())) as f32,
            Activation::None => z as f32,
        }
    }
}

/// What `vouch models check` found out about a model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub name: String,
    pub card: PathBuf,
    pub task: Task,
    pub weights: PathBuf,
    pub sha256: String,
    pub inputs: Vec<TensorInfo>,
    pub outputs: Vec<TensorInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TensorInfo {
    pub name: String,
    /// -1 where a dimension is dynamic.
    pub shape: Vec<i64>,
}

/// One loaded model: its card, an ONNX Runtime session, and its head.
pub struct Model {
    pub card: Card,
    session: Session,
    head: Option<Head>,
    /// The batch dimension when the model fixes it.
    fixed_batch: Option<usize>,
    info: ModelInfo,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("card", &self.card.path).finish_non_exhaustive()
    }
}

impl Model {
    /// Loads a card's weights (checking their SHA-256), starts a session
    /// with `threads` intra-op threads, and checks the model against its card.
    pub fn load(card: Card, threads: usize) -> Result<Self, InferError> {
        let env = environment()?;
        // DynamicQuantizeLinear picks its scale from the whole input
        // tensor, batch included: such a model scores an image differently
        // beside others, so it only ever sees one at a time.
        let weights = card.open_weights(b"DynamicQuantizeLinear")?;
        let dynamic_quant = weights.marked;
        let path = weights.path.clone();
        let load_error = |e: ort::Error| InferError::Load { path: path.clone(), message: e.to_string() };
        // ONNX Runtime reads the checked file itself: handed the bytes, it
        // parses a copy of its own beside ours, and loading the default
        // model (90 MB) peaked about 150 MB higher than from the file.
        let mut builder = Session::builder(env)
            .map_err(load_error)?
            .with_intra_threads(threads.max(1))
            .map_err(|e| load_error(e.into()))?
            // Decoding and preprocessing share the cores: spinning threads would starve them.
            .with_intra_op_spinning(false)
            .map_err(|e| load_error(e.into()))?
            // A memory pattern plans one block for all of a run's
            // intermediate tensors and keeps it beside the arena: 4 MiB
            // more at peak, for no measurable speed with batches of one.
            .with_memory_pattern(false)
            .map_err(|e| load_error(e.into()))?;
        let session = builder.commit_from_file(weights.load_path()).map_err(load_error)?;
        weights.unchanged()?;
        let head = Head::load(&card)?;
        let tensors = |outlets: &[ort::value::Outlet]| -> Vec<TensorInfo> {
            outlets
                .iter()
                .map(|o| TensorInfo {
                    name: o.name().to_string(),
                    shape: o.dtype().tensor_shape().map(|s| s.to_vec()).unwrap_or_default(),
                })
                .collect()
        };
        let info = ModelInfo {
            name: card.card.name.clone(),
            card: card.path.clone(),
            task: card.card.task,
            weights: path,
            sha256: card.card.sha256.to_ascii_lowercase(),
            inputs: tensors(session.inputs()),
            outputs: tensors(session.outputs()),
        };
        let mut model = Self { card, session, head, fixed_batch: None, info };
        model.fixed_batch = model.check_against_card()?;
        if dynamic_quant {
            model.fixed_batch = Some(1);
        }
        Ok(model)
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// A warning when the card's reference scores were made with another
    /// ONNX Runtime than the one loaded.
    pub fn runtime_mismatch(&self) -> Option<String> {
        let validated = self.card.card.validated_with.as_deref()?;
        let runtime = runtime_version().ok()?;
        (validated != runtime).then(|| {
            format!(
                "{}: its reference scores were made with ONNX Runtime {validated}, this is {runtime}: scores may \
                 differ (by up to 0.15 for quantised models such as the default)",
                self.card.path.display()
            )
        })
    }

    pub fn name(&self) -> &str {
        &self.card.card.name
    }

    pub fn sha256(&self) -> &str {
        &self.info.sha256
    }

    /// The largest batch the model accepts (`None`: any).
    pub fn max_batch(&self) -> Option<usize> {
        self.fixed_batch
    }

    /// Floats in one preprocessed image.
    pub fn input_len(&self) -> usize {
        let input = &self.card.card.input;
        input.width as usize * input.height as usize * 3
    }

    fn mismatch(&self, message: String) -> InferError {
        InferError::Mismatch { card: self.card.path.clone(), weights: self.info.weights.clone(), message }
    }

    /// Names, rank and fixed dimensions agree with the card; returns the
    /// batch size when the model fixes it.
    fn check_against_card(&self) -> Result<Option<usize>, InferError> {
        let card = &self.card.card;
        let input = self.info.inputs.iter().find(|t| t.name == card.input.name).ok_or_else(|| {
            self.mismatch(format!("no input named `{}` (it has {})", card.input.name, names(&self.info.inputs)))
        })?;
        let (c, h, w) = (3, i64::from(card.input.height), i64::from(card.input.width));
        let want = match card.input.layout {
            Layout::Nchw => [c, h, w],
            Layout::Nhwc => [h, w, c],
        };
        let agrees =
            input.shape.len() == 4 && input.shape[1..].iter().zip(want).all(|(have, want)| *have == want || *have < 0);
        if !agrees {
            return Err(self.mismatch(format!(
                "input `{}` has shape {:?}, card says {:?} ({:?})",
                input.name, input.shape, want, card.input.layout
            )));
        }
        if card.output.kind == OutputKind::Yunet {
            for stride in [8, 16, 32] {
                for head in ["cls", "obj", "bbox", "kps"] {
                    let name = format!("{head}_{stride}");
                    if !self.info.outputs.iter().any(|o| o.name == name) {
                        return Err(self.mismatch(format!("no YuNet output `{name}`")));
                    }
                }
            }
        } else {
            let wanted = card.output.name.as_deref().unwrap_or_default();
            let output = self.info.outputs.iter().find(|t| t.name == wanted).ok_or_else(|| {
                self.mismatch(format!("no output named `{wanted}` (it has {})", names(&self.info.outputs)))
            })?;
            if let (Some(width), Some(head)) = (output.shape.last(), &self.head) {
                if *width > 0 && *width as usize != head.weights.len() {
                    return Err(self.mismatch(format!(
                        "output `{}` is {width} wide but the head has {} weights",
                        output.name,
                        head.weights.len()
                    )));
                }
            }
        }
        Ok(usize::try_from(input.shape[0]).ok().filter(|b| *b > 0))
    }

    /// Scores `n` preprocessed images laid out back to back in `batch`:
    /// the probability, per image, that it is synthetic.
    pub fn score(&mut self, batch: &[f32], n: usize) -> Result<Vec<f32>, InferError> {
        let card = &self.card.card;
        let input = &card.input;
        let (h, w) = (input.height as usize, input.width as usize);
        let shape = match input.layout {
            Layout::Nchw => [n, 3, h, w],
            Layout::Nhwc => [n, h, w, 3],
        };
        let path = self.info.weights.clone();
        let run_error = |e: ort::Error| InferError::Run { path: path.clone(), message: e.to_string() };
        let tensor = TensorRef::from_array_view((shape, &batch[..n * h * w * 3])).map_err(run_error)?;
        let output_name = card.output.name.clone().unwrap_or_default();
        let outputs = self.session.run(ort::inputs![input.name.as_str() => tensor]).map_err(run_error)?;
        let value = outputs
            .get(&output_name)
            .ok_or_else(|| InferError::Run { path: path.clone(), message: format!("no output `{output_name}`") })?;
        let (out_shape, data) = value.try_extract_tensor::<f32>().map_err(run_error)?;
        let per_item = data.len().checked_div(n).unwrap_or(0);
        if per_item == 0 || data.len() != per_item * n {
            return Err(InferError::Run {
                path,
                message: format!("output `{output_name}` has shape {out_shape} for a batch of {n}"),
            });
        }
        let card = &self.card.card;
        let mut scores = Vec::with_capacity(n);
        for row in data.chunks_exact(per_item) {
            let p = match card.output.kind {
                OutputKind::Probability => row[0],
                OutputKind::Logit => sigmoid(row[0]),
                OutputKind::Softmax => softmax_at(row, card.output.class_index.unwrap_or(0)),
                OutputKind::Embedding => self.head.as_ref().map_or(f32::NAN, |h| h.apply(row)),
                OutputKind::Yunet => f32::NAN,
            };
            scores.push(match card.output.polarity {
                Polarity::Synthetic => p,
                Polarity::Real => 1.0 - p,
            });
        }
        Ok(scores)
    }

    /// Runs the model on one NCHW image of any size and returns every output
    /// by name (for face detectors, whose outputs vary with the input size).
    pub fn run_raw(&mut self, input: &[f32], height: usize, width: usize) -> Result<RawOutputs, InferError> {
        let path = self.info.weights.clone();
        let run_error = |e: ort::Error| InferError::Run { path: path.clone(), message: e.to_string() };
        let tensor = TensorRef::from_array_view(([1, 3, height, width], input)).map_err(run_error)?;
        let name = self.card.card.input.name.clone();
        let outputs = self.session.run(ort::inputs![name.as_str() => tensor]).map_err(run_error)?;
        let mut raw = RawOutputs::default();
        for (name, value) in outputs.iter() {
            let (_, data) = value.try_extract_tensor::<f32>().map_err(run_error)?;
            raw.0.push((name.to_string(), data.to_vec()));
        }
        Ok(raw)
    }
}

/// Output tensors by name, flattened.
#[derive(Debug, Default)]
pub struct RawOutputs(Vec<(String, Vec<f32>)>);

impl RawOutputs {
    pub fn from_pairs(pairs: Vec<(String, Vec<f32>)>) -> Self {
        Self(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&[f32]> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }
}

fn names(tensors: &[TensorInfo]) -> String {
    tensors.iter().map(|t| format!("`{}`", t.name)).collect::<Vec<_>>().join(", ")
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn softmax_at(row: &[f32], index: usize) -> f32 {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = row.iter().map(|v| (v - max).exp()).sum();
    row.get(index).map_or(f32::NAN, |v| (v - max).exp() / sum)
}

/// Loads a card's model and reports what it is: `vouch models check`.
pub fn check(card: Card) -> Result<ModelInfo, InferError> {
    Model::load(card, 1).map(|m| m.info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_normalises_then_applies_sigmoid() {
        let head = Head {
            weights: vec![1.0, 0.0],
            bias: 0.0,
            l2_normalise: true,
            activation: Activation::Sigmoid,
            scale: 1.0,
            offset: 0.0,
        };
        let p = head.apply(&[3.0, 4.0]);
        assert!((p - sigmoid(0.6)).abs() < 1e-7, "{p}");
    }

    #[test]
    fn softmax_picks_the_class() {
        let p = softmax_at(&[0.0, 0.0], 1);
        assert!((p - 0.5).abs() < 1e-7);
    }
}
