//! What this install has: ONNX Runtime, FFmpeg, the detector models, the
//! public trust lists and the signing identity, each found, missing or
//! broken, with the command that fixes what is not there. `vouch doctor`
//! shows it; nothing here prints.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::detect::{self, card::Card};
use crate::{home, identity, trust};

/// How one piece of the install stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Not there: what needs it cannot run.
    Missing,
    /// There, but unusable (weights that do not match their card, a list that does not parse, an expired certificate).
    Broken,
}

/// Where to look: the places a run would use.
#[derive(Debug, Clone)]
pub struct Places {
    pub identity: PathBuf,
    pub trust_lists: PathBuf,
    pub models: detect::ModelsLocation,
}

impl Places {
    /// The places a command run now would use (`$VOUCH_HOME`, `$VOUCH_MODELS`…).
    pub fn current() -> Self {
        Self {
            identity: home::default_identity_dir(),
            trust_lists: home::trust_lists_dir(),
            models: detect::models_location(),
        }
    }
}

/// One piece's standing: what was found, what is wrong, and what fixes it.
#[derive(Debug, Clone, Serialize)]
pub struct Standing {
    pub status: Status,
    /// What is wrong, in a sentence (absent when `ok`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The command that fixes it (absent when `ok`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Standing {
    fn ok() -> Self {
        Self { status: Status::Ok, problem: None, fix: None }
    }

    fn not_ok(status: Status, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { status, problem: Some(problem.into()), fix: Some(fix.into()) }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Runtime {
    #[serde(flatten)]
    pub standing: Standing,
    pub path: Option<PathBuf>,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FfmpegLibrary {
    pub name: &'static str,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ffmpeg {
    #[serde(flatten)]
    pub standing: Standing,
    pub libraries: Vec<FfmpegLibrary>,
}

/// One model card and whether its weights check out.
#[derive(Debug, Clone, Serialize)]
pub struct ModelCheck {
    pub name: String,
    pub card: PathBuf,
    pub weights: Option<PathBuf>,
    /// The SHA-256 the card names (and the weights have, when `ok`).
    pub sha256: Option<String>,
    #[serde(flatten)]
    pub standing: Standing,
}

#[derive(Debug, Clone, Serialize)]
pub struct Models {
    #[serde(flatten)]
    pub standing: Standing,
    pub dir: PathBuf,
    /// How the folder was chosen (`VOUCH_MODELS`, or the folders searched).
    pub found_by: String,
    /// The model `detect` and `check --detect` use unless told otherwise.
    pub default_model: &'static str,
    pub cards: Vec<ModelCheck>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrustListCheck {
    pub name: &'static str,
    pub title: &'static str,
    pub version: String,
    pub count: usize,
    /// Which copy is in use: `updated`, `installed` or `compiled-in`.
    pub copy: trust::lists::ListCopy,
    /// The file of the copy in use; absent for the one compiled into vouch.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrustLists {
    #[serde(flatten)]
    pub standing: Standing,
    pub lists: Vec<TrustListCheck>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    #[serde(flatten)]
    pub standing: Standing,
    pub dir: PathBuf,
    /// The signing certificate's subject.
    pub signer: Option<String>,
    /// When the signing certificate expires (RFC 3339).
    pub expires: Option<String>,
    pub key_encrypted: Option<bool>,
}

/// Everything `vouch doctor` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Checkup {
    /// Every piece is `ok`: nothing vouch can do is missing.
    pub ready: bool,
    pub onnx_runtime: Runtime,
    pub ffmpeg: Ffmpeg,
    pub models: Models,
    pub trust_lists: TrustLists,
    pub identity: Identity,
}

impl Checkup {
    /// Every piece, by name, with its standing.
    pub fn pieces(&self) -> [(&'static str, &Standing); 5] {
        [
            ("ONNX Runtime", &self.onnx_runtime.standing),
            ("FFmpeg", &self.ffmpeg.standing),
            ("models", &self.models.standing),
            ("trust lists", &self.trust_lists.standing),
            ("identity", &self.identity.standing),
        ]
    }

    /// The pieces that are not `ok`, by name, with their standing.
    pub fn not_ok(&self) -> Vec<(&'static str, &Standing)> {
        self.pieces().into_iter().filter(|(_, s)| s.status != Status::Ok).collect()
    }
}

/// Looks at every piece. Loads ONNX Runtime (to ask its version) and reads
/// every model's weights (to check their SHA-256), so it takes a moment.
pub fn examine(places: &Places) -> Checkup {
    let onnx_runtime = runtime();
    let ffmpeg = Ffmpeg {
        standing: Standing::ok(),
        libraries: detect::decode::ffmpeg_libraries()
            .into_iter()
            .map(|(name, version)| FfmpegLibrary { name, version })
            .collect(),
    };
    let models = models(&places.models);
    let trust_lists = trust_lists(&places.trust_lists);
    let identity = identity(&places.identity);
    let mut checkup = Checkup { ready: false, onnx_runtime, ffmpeg, models, trust_lists, identity };
    checkup.ready = checkup.not_ok().is_empty();
    checkup
}

fn runtime() -> Runtime {
    let fix = if std::env::var_os("ORT_DYLIB_PATH").is_some_and(|v| !v.is_empty()) {
        "point ORT_DYLIB_PATH at libonnxruntime.so (or unset it), or run `make deps` in a vouch checkout"
    } else {
        "`make deps` in a vouch checkout (then `make install`, which puts it in PREFIX/lib/vouch), or set ORT_DYLIB_PATH to libonnxruntime.so"
    };
    let path = match detect::infer::find_runtime() {
        Ok(path) => path,
        Err(e) => {
            return Runtime {
                standing: Standing::not_ok(Status::Missing, e.to_string(), fix),
                path: None,
                version: None,
            }
        }
    };
    match detect::infer::runtime_version() {
        Ok(version) => Runtime { standing: Standing::ok(), path: Some(path), version: Some(version) },
        Err(e) => {
            Runtime { standing: Standing::not_ok(Status::Broken, e.to_string(), fix), path: Some(path), version: None }
        }
    }
}

const MODELS_FIX: &str = "`make deps` in a vouch checkout (fetches the default model into models/; `make install` \
                          puts it in PREFIX/share/vouch/models), or set VOUCH_MODELS to the folder of your model cards";

fn models(location: &detect::ModelsLocation) -> Models {
    let dir = location.dir.clone();
    let found_by = location.describe();
    let default_model = detect::DEFAULT_MODEL;
    let cards = match detect::card::list(&dir) {
        Ok(cards) => cards,
        Err(e) => {
            return Models {
                standing: Standing::not_ok(Status::Missing, e.to_string(), MODELS_FIX),
                dir,
                found_by,
                default_model,
                cards: Vec::new(),
            }
        }
    };
    let cards: Vec<ModelCheck> = cards
        .into_iter()
        .map(|card| match card {
            Ok(card) => model(&card),
            Err(e) => ModelCheck {
                name: String::new(),
                card: card_path(&e).unwrap_or_else(|| dir.clone()),
                weights: None,
                sha256: None,
                standing: Standing::not_ok(Status::Broken, e.to_string(), "correct the card, or remove it"),
            },
        })
        .collect();
    let worst = cards.iter().map(|c| c.standing.status).max().unwrap_or(Status::Ok);
    let standing = match cards.iter().find(|c| c.name == default_model) {
        None => Standing::not_ok(
            Status::Missing,
            format!("the default model {default_model} is not in {}", dir.display()),
            MODELS_FIX,
        ),
        Some(_) if worst != Status::Ok => {
            let names: Vec<&str> = cards
                .iter()
                .filter(|c| c.standing.status != Status::Ok)
                .map(|c| if c.name.is_empty() { "a card" } else { c.name.as_str() })
                .collect();
            Standing::not_ok(worst, format!("not usable: {}", names.join(", ")), MODELS_FIX)
        }
        Some(_) => Standing::ok(),
    };
    Models { standing, dir, found_by, default_model, cards }
}

fn card_path(e: &detect::card::CardError) -> Option<PathBuf> {
    match e {
        detect::card::CardError::Read { path, .. } | detect::card::CardError::Parse { path, .. } => Some(path.clone()),
        _ => None,
    }
}

/// A card whose weights are there with the card's SHA-256.
fn model(card: &Card) -> ModelCheck {
    use detect::card::CardError;
    let standing = match card.open_weights(b"") {
        Ok(_) => Standing::ok(),
        Err(e @ CardError::MissingWeights { .. }) => Standing::not_ok(Status::Missing, e.to_string(), MODELS_FIX),
        Err(e) => Standing::not_ok(Status::Broken, e.to_string(), MODELS_FIX),
    };
    ModelCheck {
        name: card.card.name.clone(),
        card: card.path.clone(),
        weights: Some(card.weights_path()),
        sha256: Some(card.card.sha256.to_ascii_lowercase()),
        standing,
    }
}

fn trust_lists(dir: &Path) -> TrustLists {
    let mut lists = Vec::new();
    let mut standing = Standing::ok();
    for name in trust::lists::ListName::ALL {
        match trust::lists::load(dir, name) {
            Ok(list) => lists.push(TrustListCheck {
                name: name.as_str(),
                title: list.title,
                version: list.version,
                count: list.count,
                copy: list.copy,
                file: list.file,
            }),
            Err(e) => {
                standing = Standing::not_ok(
                    Status::Broken,
                    e.to_string(),
                    format!("`vouch trust update --list {} FILE.pem` with a good copy", name.as_str()),
                )
            }
        }
    }
    TrustLists { standing, lists }
}

fn identity(dir: &Path) -> Identity {
    let new_identity = if dir == home::default_identity_dir() {
        "`vouch identity new --name \"YOUR NAME\" --org \"YOUR NEWSROOM\"`".to_string()
    } else {
        format!("`vouch identity new --name \"YOUR NAME\" --org \"YOUR NEWSROOM\" --identity {}`", dir.display())
    };
    let summary = match identity::show(dir) {
        Ok(summary) => summary,
        Err(e @ identity::IdentityError::NotFound(_)) => {
            return Identity {
                standing: Standing::not_ok(Status::Missing, e.to_string(), new_identity),
                dir: dir.to_path_buf(),
                signer: None,
                expires: None,
                key_encrypted: None,
            }
        }
        Err(e) => {
            return Identity {
                standing: Standing::not_ok(Status::Broken, e.to_string(), new_identity),
                dir: dir.to_path_buf(),
                signer: None,
                expires: None,
                key_encrypted: None,
            }
        }
    };
    let expired = chrono::DateTime::parse_from_rfc3339(&summary.signer.not_after)
        .map(|t| t < chrono::Utc::now())
        .unwrap_or(false);
    let standing = if expired {
        Standing::not_ok(
            Status::Broken,
            format!("the signing certificate expired at {}", summary.signer.not_after),
            "`vouch identity new --name \"YOUR NAME\" --org \"YOUR NEWSROOM\" --identity NEW_DIR` (a new identity beside the expired one)",
        )
    } else {
        Standing::ok()
    };
    Identity {
        standing,
        dir: dir.to_path_buf(),
        signer: Some(summary.signer.subject.clone()),
        expires: Some(summary.signer.not_after.clone()),
        key_encrypted: Some(summary.key_encrypted),
    }
}
