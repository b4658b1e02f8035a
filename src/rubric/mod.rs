//! C2PA asset rubrics: YAML documents of json-formula expressions that the
//! C2PA Conformance Program evaluates on a validator's crJSON.
//!
//! Entry point: [`Rubric::load`] reads a rubric file, [`Rubric::evaluate`]
//! judges one crJSON document with it, and [`RubricReport::official`] gives
//! the report in the official evaluators' shape. Two kinds of rubric exist,
//! told apart by their traits as the official tooling is:
//! - trait rubrics (conformance, integrity, …) are evaluated once on the
//!   whole crJSON; each trait is `true`, `false` or a `warning`
//!   (`c2pa_conformance_rubric_evaluator.py`);
//! - signals rubrics, whose every trait is an `inception:` or
//!   `transformation:` signal, are evaluated on each manifest on its own,
//!   plus a pseudo manifest for every ingredient without a manifest that
//!   declares a source type (`c2pa_signals_rubric_evaluator.py`).
//!
//! Expressions run on vouch's own engine ([`formula`]); the rubric's
//! `expressions` become functions with the official evaluator's
//! conventions (arguments in `$args`, arity inferred from the call sites and
//! from the `$args[N]` a body reads). `tests/rubric.rs` holds the reports
//! equal to the official evaluators' on real files.

pub mod formula;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Map, Value};

use formula::{Engine, Expression};

/// Why a rubric could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RubricError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: not a rubric: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
}

/// A trait's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    True,
    False,
    Warning,
}

/// One statement of a rubric.
#[derive(Debug, Clone)]
struct Statement {
    id: Option<String>,
    expression: Option<String>,
    report_text: Value,
    fail_if_matched: bool,
    warn_if_matched: bool,
}

/// How a rubric is evaluated (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RubricKind {
    Traits,
    Signals,
}

/// A loaded rubric, ready to evaluate documents.
#[derive(Debug, Clone)]
pub struct Rubric {
    pub path: PathBuf,
    /// `rubric_metadata.name` (the official evaluator's "Unknown" if absent).
    pub name: String,
    /// `rubric_metadata.version`.
    pub version: String,
    pub kind: RubricKind,
    name_value: Value,
    version_value: Value,
    engine: Engine,
    global_names: Vec<String>,
    statements: Vec<Statement>,
    /// Each statement's expression parsed once, at load (`None`: it has
    /// none); a document is then only evaluated.
    compiled: Vec<Option<Result<Expression, formula::FormulaError>>>,
    /// The trait categories the report lists, sorted.
    categories: Vec<String>,
}

/// One trait as a rubric judged it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraitResult {
    /// The trait with its category (`validation:well_formed_success`).
    #[serde(rename = "trait")]
    pub name: String,
    pub outcome: Outcome,
    pub report_text: String,
    /// The signer of the manifest a trait found, when it lists manifests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asserted_by: Option<Value>,
    /// The expression could not be evaluated (the outcome is then false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl TraitResult {
    fn category(&self) -> &str {
        self.name.split_once(':').map(|(c, _)| c).unwrap_or("general")
    }

    fn display_name(&self) -> &str {
        self.name.split_once(':').map(|(_, n)| n).unwrap_or(&self.name)
    }
}

/// One signal a manifest shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignalResult {
    #[serde(rename = "trait")]
    pub name: String,
    pub report_text: String,
    /// The expression matched more than one thing.
    pub multiple: bool,
}

/// The signals of one manifest (or pseudo manifest).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManifestResult {
    /// The manifest's label; for an ingredient without a manifest, the
    /// official evaluator's pseudo label (`urn:c2pa:pseudo:<parent>:<title>_<n>`).
    pub manifest: String,
    pub pseudo: bool,
    /// The signer's subject (`CN`, `O`, `OU`), of the parent for a pseudo manifest.
    pub asserted_by: Value,
    /// The media type the manifest store records for it, if any.
    pub format: Value,
    /// Every signal, in the rubric's order.
    pub signals: Vec<SignalResult>,
    /// `(index into the manifests, relationship)` of each ingredient.
    pub ingredients: Vec<(usize, Value)>,
}

impl ManifestResult {
    /// The signals whose trait starts with `prefix` (`inception:`).
    pub fn signals_of<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a SignalResult> {
        self.signals.iter().filter(move |s| s.name.starts_with(prefix))
    }
}

/// What a rubric found in one document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RubricReport {
    pub rubric: String,
    pub version: String,
    pub kind: RubricKind,
    /// Trait rubrics: every trait, in the official report's order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub traits: Vec<TraitResult>,
    /// Signals rubrics: every manifest, then the pseudo manifests.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<ManifestResult>,
    #[serde(skip)]
    categories: Vec<String>,
    #[serde(skip)]
    name_value: Value,
    #[serde(skip)]
    version_value: Value,
}

impl RubricReport {
    /// The traits judged `false` (evaluation errors included).
    pub fn failed(&self) -> impl Iterator<Item = &TraitResult> {
        self.traits.iter().filter(|t| t.outcome == Outcome::False)
    }

    /// The traits judged a warning.
    pub fn warnings(&self) -> impl Iterator<Item = &TraitResult> {
        self.traits.iter().filter(|t| t.outcome == Outcome::Warning)
    }

    /// The report as the official evaluator prints it.
    pub fn official(&self) -> Value {
        let mut out = Map::new();
        out.insert("rubricName".into(), self.name_value.clone());
        out.insert("rubricVersion".into(), self.version_value.clone());
        match self.kind {
            RubricKind::Signals => {
                let manifests: Vec<Value> = self
                    .manifests
                    .iter()
                    .map(|m| {
                        let signals = |prefix: &str| -> Vec<Value> {
                            m.signals_of(prefix)
                                .map(
                                    |s| json!({ "trait": s.name, "reportText": s.report_text, "multiple": s.multiple }),
                                )
                                .collect()
                        };
                        let mut entry = json!({
                            "assertedBy": { "subject": m.asserted_by },
                            "dc:format": m.format,
                            "localInceptions": signals("inception:"),
                            "localTransformations": signals("transformation:"),
                            "ingredients": m.ingredients.iter()
                                .map(|(index, relationship)| json!({ "index": index, "relationship": relationship }))
                                .collect::<Vec<_>>(),
                        });
                        if m.pseudo {
                            entry["pseudo"] = Value::Bool(true);
                        }
                        entry
                    })
                    .collect();
                out.insert("manifests".into(), Value::Array(manifests));
            }
            RubricKind::Traits => {
                let mut groups: Vec<(&str, Map<String, Value>)> = ["true", "false", "warning"]
                    .into_iter()
                    .map(|o| (o, self.categories.iter().map(|c| (c.clone(), json!([]))).collect()))
                    .collect();
                for t in &self.traits {
                    let group = match t.outcome {
                        Outcome::True => 0,
                        Outcome::False => 1,
                        Outcome::Warning => 2,
                    };
                    let category = match t.category() {
                        "inception" => "inceptions",
                        "transformation" => "transformations",
                        other => other,
                    };
                    let mut entry = json!({ "trait": t.display_name(), "reportText": t.report_text });
                    if let Some(by) = &t.asserted_by {
                        entry["asserted_by"] = by.clone();
                    }
                    let list = groups[group].1.entry(category.to_string()).or_insert_with(|| json!([]));
                    if let Value::Array(items) = list {
                        items.push(entry);
                    }
                }
                for (name, map) in groups {
                    out.insert(name.into(), Value::Object(map));
                }
            }
        }
        Value::Object(out)
    }
}

impl Rubric {
    /// Reads a rubric file. The spec version conformance rubrics check
    /// against (`$expected_spec_version`) comes from the file name
    /// (`…spec2.4.yml`), as the official evaluator takes it.
    pub fn load(path: &Path) -> Result<Self, RubricError> {
        let text = std::fs::read_to_string(path).map_err(|source| RubricError::Io { path: path.into(), source })?;
        let spec = spec_version_in_name(&path.to_string_lossy());
        Self::parse(&text, path, spec.as_deref())
    }

    /// Reads a rubric from its text; `spec_version`, when given, is
    /// `$expected_spec_version`.
    pub fn parse(text: &str, path: &Path, spec_version: Option<&str>) -> Result<Self, RubricError> {
        let invalid = |reason: String| RubricError::Invalid { path: path.into(), reason };
        let mut docs = Vec::new();
        for document in serde_norway::Deserializer::from_str(text) {
            let value: Value = serde::Deserialize::deserialize(document).map_err(|e| invalid(format!("YAML: {e}")))?;
            docs.push(value);
        }
        let Some(first) = docs.first() else { return Err(invalid("the file is empty".into())) };
        let empty = Map::new();
        let metadata = first.as_object().unwrap_or(&empty);
        let meta = metadata.get("rubric_metadata").and_then(Value::as_object).unwrap_or(&empty);
        let name_value = meta.get("name").cloned().unwrap_or_else(|| json!("Unknown"));
        let version_value = meta.get("version").cloned().unwrap_or_else(|| json!("Unknown"));

        let mut statements = Vec::new();
        for doc in &docs[1..] {
            match doc {
                Value::Array(items) => statements.extend(items.iter().filter_map(Value::as_object).map(statement)),
                Value::Object(map) if !map.contains_key("block") => statements.push(statement(map)),
                _ => {}
            }
        }
        if statements.is_empty() {
            return Err(invalid("no statements (traits) after the metadata document".into()));
        }

        let mut variables: Map<String, Value> =
            metadata.get("variables").and_then(Value::as_object).cloned().unwrap_or_default();
        if let Some(spec) = spec_version {
            variables.insert("$expected_spec_version".into(), Value::String(spec.into()));
        }
        let expressions: Vec<(String, String)> = metadata
            .get("expressions")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), python_str(v))).collect())
            .unwrap_or_default();

        let mut engine = Engine::new();
        for (name, value) in &variables {
            engine.set_global(name, value.clone());
        }
        // Named expressions see every `$name` their bodies mention.
        let mut body_globals: Vec<String> = variables.keys().cloned().collect();
        for (_, body) in &expressions {
            body_globals.extend(dollar_names(body));
        }
        body_globals.extend(expressions.iter().map(|(n, _)| n.clone()));
        let arities = infer_arities(&expressions);
        for ((name, body), arity) in expressions.iter().zip(arities) {
            engine.define(name, formula::parse(body.trim(), &body_globals), arity);
        }

        let kind = if statements.iter().all(|s| {
            s.id.as_deref().is_some_and(|id| id.starts_with("inception:") || id.starts_with("transformation:"))
        }) {
            RubricKind::Signals
        } else {
            RubricKind::Traits
        };
        let mut categories: Vec<String> = statements
            .iter()
            .filter_map(|s| s.id.as_deref())
            .map(|id| match id.split_once(':') {
                Some(("inception", _)) => "inceptions".to_string(),
                Some(("transformation", _)) => "transformations".to_string(),
                Some((category, _)) => category.to_string(),
                None => "general".to_string(),
            })
            .collect();
        if categories.is_empty() {
            categories.push("general".into());
        }
        categories.sort();
        categories.dedup();

        let global_names: Vec<String> = variables.keys().cloned().collect();
        let compiled = statements
            .iter()
            .map(|s| s.expression.as_deref().filter(|e| !e.is_empty()).map(|e| formula::parse(e.trim(), &global_names)))
            .collect();
        Ok(Self {
            path: path.into(),
            name: plain(&name_value),
            version: plain(&version_value),
            kind,
            name_value,
            version_value,
            global_names,
            engine,
            statements,
            compiled,
            categories,
        })
    }

    /// Every expression of the rubric: `(where, text)`, the named
    /// expressions first, then each trait's.
    pub fn expressions(&self) -> Vec<(String, String)> {
        self.statements
            .iter()
            .filter_map(|s| Some((s.id.clone().unwrap_or_else(|| "unnamed_trait".into()), s.expression.clone()?)))
            .collect()
    }

    /// Every trait the rubric defines, in its order, with the report text
    /// it gives when the trait holds (`reportText.true.en`).
    pub fn traits(&self) -> Vec<(String, String)> {
        self.statements
            .iter()
            .filter_map(|s| {
                let id = s.id.clone()?;
                let text = s.report_text["true"].get("en").map(python_str).unwrap_or_else(|| id.clone());
                Some((id, text))
            })
            .collect()
    }

    /// Evaluates one expression as the rubric's traits are (its variables
    /// and named expressions in scope).
    pub fn search(&self, expression: &str, data: &Value) -> Result<Value, formula::FormulaError> {
        let parsed = formula::parse(expression.trim(), &self.global_names)?;
        self.engine.search(&parsed, data)
    }

    /// Judges a crJSON document.
    pub fn evaluate(&self, crjson: &Value) -> RubricReport {
        let mut report = RubricReport {
            rubric: self.name.clone(),
            version: self.version.clone(),
            kind: self.kind,
            traits: Vec::new(),
            manifests: Vec::new(),
            categories: self.categories.clone(),
            name_value: self.name_value.clone(),
            version_value: self.version_value.clone(),
        };
        match self.kind {
            RubricKind::Traits => report.traits = self.judge_traits(crjson),
            RubricKind::Signals => report.manifests = self.judge_manifests(crjson),
        }
        report
    }

    fn judge_traits(&self, data: &Value) -> Vec<TraitResult> {
        let mut results = Vec::new();
        for (statement, compiled) in self.statements.iter().zip(&self.compiled) {
            let id = statement.id.clone().unwrap_or_else(|| "unnamed_trait".into());
            let name = match (&*id, text_for(&statement.report_text, "true")) {
                // The official evaluator names this trait by its text.
                ("c2pa:signal_compliance", Some(text)) if !text.is_empty() => {
                    text.strip_prefix("Contains ").unwrap_or(&text).to_string()
                }
                _ => id,
            };
            let Some(compiled) = compiled else { continue };
            let value = compiled.as_ref().map_err(Clone::clone).and_then(|e| self.engine.search(e, data));
            let value = match value {
                Ok(value) => value,
                Err(e) => {
                    results.push(TraitResult {
                        name,
                        outcome: Outcome::False,
                        report_text: format!("Error: {e}"),
                        asserted_by: None,
                        error: Some(e.to_string()),
                    });
                    continue;
                }
            };
            judge_trait(statement, name, value, &mut results);
        }
        let rank = |o: Outcome| match o {
            Outcome::True => 0,
            Outcome::Warning => 1,
            Outcome::False => 2,
        };
        results
            .sort_by(|a, b| rank(a.outcome).cmp(&rank(b.outcome)).then_with(|| a.display_name().cmp(b.display_name())));
        results
    }

    fn judge_manifests(&self, crjson: &Value) -> Vec<ManifestResult> {
        let nodes = provenance_graph(crjson);
        let compiled: Vec<(&Statement, Option<&Expression>)> = self
            .statements
            .iter()
            .zip(&self.compiled)
            .filter(|(s, c)| s.id.is_some() && c.is_some())
            .map(|(s, c)| (s, c.as_ref().and_then(|c| c.as_ref().ok())))
            .collect();
        // Positions after ordering: manifests first, then pseudo manifests.
        let mut order: Vec<usize> = (0..nodes.len()).collect();
        order.sort_by_key(|&i| (nodes[i].pseudo, nodes[i].id));
        let position = |id: usize| order.iter().position(|&i| nodes[i].id == id);
        order
            .iter()
            .map(|&i| {
                let node = &nodes[i];
                // Shared by every expression: the signals rubric hands the
                // whole manifest to named expressions again and again.
                let shared = &node.manifest;
                let mut signals = Vec::new();
                for (statement, expression) in &compiled {
                    let Some(expression) = expression else { continue };
                    // An expression that fails to evaluate shows no signal.
                    let Ok(value) = self.engine.search_shared(expression, shared) else { continue };
                    let (matched, multiple) = match &value {
                        Value::Array(items) => (!items.is_empty(), items.len() > 1),
                        Value::Bool(b) => (*b, false),
                        Value::Number(n) => (n.as_f64().is_some_and(|f| f > 0.0), false),
                        Value::Null => (false, false),
                        _ => (true, false),
                    };
                    if matched {
                        let name = statement.id.clone().unwrap_or_default();
                        let report_text =
                            statement.report_text["true"].get("en").map(python_str).unwrap_or_else(|| name.clone());
                        signals.push(SignalResult { name, report_text, multiple });
                    }
                }
                let signer = if node.pseudo { node.parent.map(|p| &*nodes[p].manifest) } else { Some(&*node.manifest) };
                ManifestResult {
                    manifest: node.label.clone(),
                    pseudo: node.pseudo,
                    asserted_by: subject(signer.unwrap_or(&Value::Null)),
                    format: node.format.clone(),
                    signals,
                    ingredients: node
                        .edges
                        .iter()
                        .filter_map(|(parent, relationship)| {
                            let index = match parent {
                                Parent::Node(id) => position(*id).or(Some(*id)),
                                Parent::Urn(urn) => urn.parse::<usize>().ok(),
                            };
                            index.map(|i| (i, relationship.clone()))
                        })
                        .collect(),
                }
            })
            .collect()
    }
}

fn statement(map: &Map<String, Value>) -> Statement {
    Statement {
        id: map.get("id").filter(|v| truthy_py(v)).map(python_str),
        expression: map.get("expression").and_then(Value::as_str).map(|e| e.trim().to_string()),
        report_text: map.get("reportText").cloned().unwrap_or(Value::Null),
        fail_if_matched: map.get("failIfMatched").is_some_and(truthy_py),
        warn_if_matched: map.get("warnIfMatched").is_some_and(truthy_py),
    }
}

/// The official evaluator's reading of an expression's value as a trait.
fn judge_trait(statement: &Statement, name: String, value: Value, results: &mut Vec<TraitResult>) {
    let non_empty_list = matches!(&value, Value::Array(items) if !items.is_empty());
    let mut matches: Vec<Value> = Vec::new();
    let outcome = if statement.fail_if_matched || statement.warn_if_matched {
        if non_empty_list {
            matches = value.as_array().cloned().unwrap_or_default();
            if statement.fail_if_matched {
                Outcome::False
            } else {
                Outcome::Warning
            }
        } else {
            Outcome::True
        }
    } else {
        match &value {
            Value::Array(items) => {
                if items
                    .first()
                    .and_then(Value::as_object)
                    .is_some_and(|m| m.contains_key("label") || m.contains_key("signature"))
                {
                    matches = items.clone();
                }
                if items.is_empty() {
                    Outcome::False
                } else {
                    Outcome::True
                }
            }
            Value::Bool(b) => {
                if *b {
                    Outcome::True
                } else {
                    Outcome::False
                }
            }
            Value::Number(n) => {
                if n.as_f64().is_some_and(|f| f > 0.0) {
                    Outcome::True
                } else {
                    Outcome::False
                }
            }
            Value::Null => Outcome::False,
            _ => Outcome::True,
        }
    };
    let key = match outcome {
        Outcome::True => "true",
        Outcome::False => "false",
        Outcome::Warning if statement.report_text.get("warn").is_some() => "warn",
        Outcome::Warning => "false",
    };
    let mut report_text = text_for(&statement.report_text, key)
        .or_else(|| text_for(&statement.report_text, "default"))
        .unwrap_or_default();
    if matches.first().is_some_and(Value::is_string) {
        let listed: Vec<String> = matches.iter().map(python_str).collect();
        report_text = report_text.replace("{{matches}}", &listed.join(", "));
    }
    if !matches.is_empty() && !statement.fail_if_matched && !statement.warn_if_matched {
        for manifest in &matches {
            if !manifest.is_object() {
                results.push(TraitResult {
                    name: name.clone(),
                    outcome: Outcome::False,
                    report_text: "Error: a listed manifest is not an object".into(),
                    asserted_by: None,
                    error: Some("a listed manifest is not an object".into()),
                });
                return;
            }
            results.push(TraitResult {
                name: name.clone(),
                outcome: Outcome::True,
                report_text: report_text.clone(),
                asserted_by: Some(subject(manifest)),
                error: None,
            });
        }
        return;
    }
    results.push(TraitResult { name, outcome, report_text, asserted_by: None, error: None });
}

/// `reportText[key]`: its `en` text, or the value itself if not a map.
fn text_for(report_text: &Value, key: &str) -> Option<String> {
    let value = report_text.as_object()?.get(key)?;
    Some(match value {
        Value::Object(map) => map.get("en").map(python_str).unwrap_or_default(),
        other => python_str(other),
    })
}

/// The signer's subject as the official evaluators report it.
fn subject(manifest: &Value) -> Value {
    let subject = &manifest["signature"]["certificateInfo"]["subject"];
    let mut out = Map::new();
    out.insert("CN".into(), subject.get("CN").cloned().unwrap_or_else(|| json!("Unknown CN")));
    out.insert("O".into(), subject.get("O").cloned().unwrap_or_else(|| json!("Unknown O")));
    if let Some(ou) = subject.get("OU").filter(|v| truthy_py(v)) {
        out.insert("OU".into(), ou.clone());
    }
    Value::Object(out)
}

enum Parent {
    Node(usize),
    Urn(String),
}

struct Node {
    id: usize,
    label: String,
    /// Shared with every expression evaluated on it (see `judge_manifests`).
    manifest: std::rc::Rc<Value>,
    pseudo: bool,
    parent: Option<usize>,
    format: Value,
    edges: Vec<(Parent, Value)>,
}

/// The manifests of a crJSON document and the ingredients between them,
/// with a pseudo manifest for each ingredient that has no manifest but
/// declares a source type (its own, or a `c2pa.opened` action's).
fn provenance_graph(crjson: &Value) -> Vec<Node> {
    let manifests: &[Value] = crjson.get("manifests").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let label_of = |m: &Value| m.get("label").filter(|v| truthy_py(v)).map(python_str);
    // A label seen twice maps to its last manifest, as in the evaluator.
    let index_of = |label: &str| manifests.iter().rposition(|m| label_of(m).as_deref() == Some(label));
    let mut nodes: Vec<Node> = Vec::new();
    let mut slot_of: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for manifest in manifests {
        let Some(label) = label_of(manifest) else { continue };
        let Some(id) = index_of(&label) else { continue };
        let claim = [manifest.get("claim.v2"), manifest.get("claim")].into_iter().flatten().find(|c| truthy_py(c));
        let format = claim.and_then(|c| c.get("dc:format")).filter(|f| truthy_py(f)).cloned().unwrap_or(Value::Null);
        let node = Node {
            id,
            label,
            manifest: std::rc::Rc::new(manifest.clone()),
            pseudo: false,
            parent: None,
            format,
            edges: Vec::new(),
        };
        match slot_of.get(&id) {
            Some(&slot) => nodes[slot] = node,
            None => {
                slot_of.insert(id, nodes.len());
                nodes.push(node);
            }
        }
    }
    let mut next_id = manifests.len();
    for manifest in manifests {
        let Some(label) = label_of(manifest) else { continue };
        let Some(&slot) = index_of(&label).and_then(|id| slot_of.get(&id)) else { continue };
        let Some(assertions) = manifest.get("assertions").and_then(Value::as_object) else { continue };
        for (key, value) in assertions {
            if key.starts_with("c2pa.ingredient") {
                let url = value
                    .get("activeManifest")
                    .filter(|a| truthy_py(a))
                    .and_then(|a| a.get("url"))
                    .filter(|u| truthy_py(u));
                let relationship = value.get("relationship").cloned().unwrap_or(Value::Null);
                if let Some(url) = url {
                    let url = python_str(url);
                    let urn = match url.find("urn:c2pa:") {
                        Some(at) => url[at..].split('/').next().unwrap_or_default().to_string(),
                        None => url,
                    };
                    let parent = match index_of(&urn) {
                        Some(id) => Parent::Node(id),
                        None => Parent::Urn(urn),
                    };
                    if let (Parent::Node(id), Some(format)) = (&parent, value.get("dc:format").filter(|f| truthy_py(f)))
                    {
                        if let Some(&p) = slot_of.get(id) {
                            if nodes[p].format.is_null() {
                                nodes[p].format = format.clone();
                            }
                        }
                    }
                    nodes[slot].edges.push((parent, relationship));
                    continue;
                }
                let declared = value
                    .get("digitalSourceType")
                    .filter(|d| truthy_py(d))
                    .cloned()
                    .or_else(|| opened_source_type(assertions));
                let Some(source_type) = declared else { continue };
                let id = next_id;
                next_id += 1;
                let title = match value.get("dc:title") {
                    None => "flat-ingredient".to_string(),
                    Some(t) => python_str(t),
                };
                let safe: String = title
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') { c } else { '_' })
                    .collect();
                let pseudo_label = format!("urn:c2pa:pseudo:{label}:{safe}_{id}");
                let stand_in = json!({
                    "label": pseudo_label,
                    "assertions": { "c2pa.actions.v2": {
                        "allActionsIncluded": true,
                        "actions": [{ "action": "c2pa.created", "digitalSourceType": source_type }],
                    }},
                });
                let format = value.get("dc:format").cloned().unwrap_or(Value::Null);
                nodes.push(Node {
                    id,
                    label: pseudo_label,
                    manifest: std::rc::Rc::new(stand_in),
                    pseudo: true,
                    parent: Some(slot),
                    format,
                    edges: Vec::new(),
                });
                nodes[slot].edges.push((Parent::Node(id), relationship));
            } else if key.starts_with("c2pa.thumbnail") {
                if let Some(format) = value.get("format").filter(|f| truthy_py(f)) {
                    if nodes[slot].format.is_null() {
                        nodes[slot].format = format.clone();
                    }
                }
            }
        }
    }
    nodes
}

/// The source type of the first `c2pa.opened` action that has one.
fn opened_source_type(assertions: &Map<String, Value>) -> Option<Value> {
    assertions
        .iter()
        .filter(|(key, _)| key.starts_with("c2pa.actions"))
        .flat_map(|(_, a)| a.get("actions").and_then(Value::as_array).into_iter().flatten())
        .find(|action| {
            action.get("action") == Some(&json!("c2pa.opened"))
                && action.get("digitalSourceType").is_some_and(truthy_py)
        })
        .and_then(|action| action.get("digitalSourceType").cloned())
}

/// The arity of each named expression: the most arguments any call in an
/// expression body passes (commas counted at the call's depth, as the
/// official evaluator counts them), at least one more than the highest
/// `$args[N]` the body reads (one if it reads `$args` otherwise).
fn infer_arities(expressions: &[(String, String)]) -> Vec<usize> {
    expressions
        .iter()
        .map(|(name, own)| {
            let mut arity = 0;
            for (_, body) in expressions {
                for rest in calls_of(name, body) {
                    let count = if rest.starts_with(')') {
                        0
                    } else {
                        let mut depth = 1;
                        let mut count = 1;
                        for c in rest.chars() {
                            match c {
                                '(' => depth += 1,
                                ')' => {
                                    depth -= 1;
                                    if depth == 0 {
                                        break;
                                    }
                                }
                                ',' if depth == 1 => count += 1,
                                _ => {}
                            }
                        }
                        count
                    };
                    arity = arity.max(count);
                }
            }
            let highest = args_indexes(own).max();
            match highest {
                Some(n) => arity.max(n + 1),
                None if has_word(own, "$args") => arity.max(1),
                None => arity,
            }
        })
        .collect()
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The text after each `name(` (whitespace allowed before the parenthesis)
/// where `name` starts at a word boundary.
fn calls_of<'a>(name: &'a str, body: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    body.match_indices(name).filter_map(move |(at, _)| {
        let boundary_ok = match (body[..at].chars().next_back(), name.chars().next()) {
            (Some(before), Some(first)) => is_word(before) != is_word(first),
            (None, Some(first)) => is_word(first),
            _ => false,
        };
        if !boundary_ok {
            return None;
        }
        let after = body[at + name.len()..].trim_start();
        after.strip_prefix('(')
    })
}

/// The N of each `$args[N]` in a body.
fn args_indexes(body: &str) -> impl Iterator<Item = usize> + '_ {
    body.match_indices("$args[").filter_map(move |(at, m)| {
        let rest = &body[at + m.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() || !rest[digits.len()..].starts_with(']') {
            return None;
        }
        digits.parse().ok()
    })
}

/// Whether `word` occurs followed by a word boundary.
fn has_word(body: &str, word: &str) -> bool {
    body.match_indices(word).any(|(at, _)| !body[at + word.len()..].chars().next().is_some_and(is_word))
}

/// Every `$name` a body mentions.
fn dollar_names(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in body.match_indices('$') {
        let name: String = body[at + 1..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !name.is_empty() {
            out.push(format!("${name}"));
        }
    }
    out
}

/// `spec2.4` in a rubric's file name.
fn spec_version_in_name(path: &str) -> Option<String> {
    path.match_indices("spec").find_map(|(at, m)| {
        let rest = &path[at + m.len()..];
        let major: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let rest = rest[major.len()..].strip_prefix('.')?;
        let minor: String = rest.chars().take_while(char::is_ascii_digit).collect();
        (!major.is_empty() && !minor.is_empty()).then(|| format!("{major}.{minor}"))
    })
}

/// Python's truthiness (the official evaluators' own checks use it).
fn truthy_py(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python's `str()` of a JSON value, as the evaluators format texts.
fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// A metadata value as plain text.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNALS: &str = include_str!("../../data/c2pa-rubrics/asset-rubric-signals-local.yml");

    #[test]
    fn arities_come_from_call_sites_and_args() {
        let expressions = vec![
            ("_two".to_string(), "$args[0].x == $args[1]".to_string()),
            ("_one".to_string(), "_two($args[0], \"y\")".to_string()),
            ("_none".to_string(), "manifests[0]".to_string()),
            ("_some".to_string(), "$args.x".to_string()),
        ];
        assert_eq!(infer_arities(&expressions), [2, 1, 0, 1]);

        // Arities that only calls tell: commas inside a nested call, or in
        // a call that ends the body, count for that call alone; a name
        // that ends another name (`my_pair`) is no call of it.
        let expressions = vec![
            ("_pair".to_string(), "$args".to_string()),
            ("_user".to_string(), "_pair(max(a, b, c), (d))".to_string()),
            ("_triple".to_string(), "$args".to_string()),
            ("_caller".to_string(), "x && _triple(a,b,c)".to_string()),
            ("_empty".to_string(), "manifests".to_string()),
            ("_calls_empty".to_string(), "_empty() && my_pair(a, b, c, d, e)".to_string()),
            // Neither is an argument: `$args[2x]` is no index, `$argsfoo` another name.
            ("_odd_index".to_string(), "$args[2x]".to_string()),
            ("_longer_name".to_string(), "f($argsfoo)".to_string()),
        ];
        assert_eq!(infer_arities(&expressions), [2, 0, 3, 0, 0, 0, 1, 0]);
    }

    #[test]
    fn the_shipped_signals_rubric_is_a_signals_rubric() {
        let rubric = Rubric::parse(SIGNALS, Path::new("signals.yml"), None).unwrap();
        assert_eq!(rubric.kind, RubricKind::Signals);
        assert_eq!(rubric.name, "C2PA Asset Signals Rubric (Local)");
        assert_eq!(rubric.version, "1.0");
        assert_eq!(rubric.expressions().len(), 14);
    }

    #[test]
    fn a_file_that_is_not_a_rubric_is_refused_with_a_reason() {
        for text in ["", "a: [", "rubric_metadata: {name: x}\n", "- 1\n- 2\n"] {
            let err = Rubric::parse(text, Path::new("r.yml"), None).unwrap_err();
            assert!(err.to_string().starts_with("r.yml: not a rubric: "), "{err}");
        }
    }

    /// A trait rubric in the official layout: metadata, the traits, and a
    /// trailing `block` document the evaluator ignores.
    const TRAITS: &str = r#"
rubric_metadata: {name: Newsroom checks, version: "2.0"}
---
- id: validation:signed
  expression: signed
  reportText: {"true": {en: Signed}, "false": {en: Not signed}}
- id: validation:hashes
  expression: bad_hashes
  failIfMatched: true
  reportText: {"true": {en: Hashes match}, "false": {en: A hash does not match}}
- id: provenance:edits
  expression: edits
  warnIfMatched: true
  reportText: {"true": {en: No edits}, "warning": {en: Edited}}
- id: c2pa:signal_compliance
  expression: signed
  reportText: {"true": {en: Contains signals}}
- id: c2pa:signal_compliance
  expression: signed
  reportText: {"true": {en: ""}}
---
id: validation:single
expression: signed
reportText: {"true": {en: A trait given as a document of its own}}
---
block: {note: not a trait}
"#;

    fn test_rubric(text: &str) -> Rubric {
        Rubric::parse(text, Path::new("test.yml"), None).unwrap()
    }

    fn names<'a>(traits: impl Iterator<Item = &'a TraitResult>) -> Vec<&'a str> {
        traits.map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn a_trait_rubric_reports_what_failed_and_what_warned_as_the_official_evaluator_groups_them() {
        let rubric = Rubric::parse(TRAITS, Path::new("checks.yml"), None).unwrap();
        assert_eq!(rubric.kind, RubricKind::Traits);
        let doc = json!({"signed": true, "bad_hashes": ["c2pa.hash.data"], "edits": [{"action": "c2pa.edited"}]});
        assert_eq!(rubric.search("signed", &doc).unwrap(), json!(true));
        let report = rubric.evaluate(&doc);
        assert_eq!(names(report.failed()), ["validation:hashes"]);
        assert_eq!(names(report.warnings()), ["provenance:edits"]);
        // True first, then warnings, then failures, each by name; the
        // compliance trait is named by its text, unless that is empty.
        assert_eq!(
            names(report.traits.iter()),
            [
                "c2pa:signal_compliance",
                "signals",
                "validation:signed",
                "validation:single",
                "provenance:edits",
                "validation:hashes"
            ]
        );
        // The renamed compliance trait has no category of its own.
        assert_eq!(
            report.official(),
            json!({
                "rubricName": "Newsroom checks",
                "rubricVersion": "2.0",
                "true": {
                    "c2pa": [{"trait": "signal_compliance", "reportText": ""}],
                    "provenance": [],
                    "validation": [
                        {"trait": "signed", "reportText": "Signed"},
                        {"trait": "single", "reportText": "A trait given as a document of its own"},
                    ],
                    "general": [{"trait": "signals", "reportText": "Contains signals"}],
                },
                "false": {"c2pa": [], "provenance": [], "validation": [{"trait": "hashes", "reportText": "A hash does not match"}]},
                "warning": {"c2pa": [], "provenance": [{"trait": "edits", "reportText": ""}], "validation": []},
            })
        );
    }

    #[test]
    fn each_kind_of_value_judges_a_trait_as_the_official_evaluator_does() {
        let rubric = test_rubric(
            r#"
rubric_metadata: {name: Values, version: "1"}
---
- {id: "v:zero", expression: zero, reportText: {"true": {en: zero holds}, "false": {en: zero fails}}}
- {id: "v:one", expression: one, reportText: {"true": {en: one holds}}}
- {id: "v:nothing", expression: nothing, reportText: {"false": {en: nothing fails}}}
- {id: "v:text", expression: text, reportText: {"true": {en: text holds}}}
- {id: "v:no", expression: "no", reportText: {"false": {en: no fails}}}
- {id: "v:empty", expression: empty, reportText: {"false": {en: empty fails}}}
- {id: "v:manifests", expression: manifests, reportText: {"true": {en: signed}}}
- {id: "v:signature_only", expression: signature_only, reportText: {"true": {en: one result}}}
- {id: "v:mixed", expression: mixed, reportText: {"true": {en: listed}}}
- {id: "v:bad_manifests", expression: manifests, failIfMatched: true, reportText: {"false": {en: refused}}}
- {id: "w:named", expression: names, warnIfMatched: true, reportText: {warn: {en: "warned about {{matches}}"}}}
- {id: "w:fallback", expression: names, warnIfMatched: true, reportText: {"false": {en: falls back}}}
"#,
        );
        let desk =
            json!({"label": "urn:a", "signature": {"certificateInfo": {"subject": {"CN": "Desk", "O": "Agency"}}}});
        let doc = json!({
            "zero": 0, "one": 1, "nothing": null, "text": "x", "no": false, "empty": [],
            "manifests": [desk, {"label": "urn:b"}],
            "signature_only": [{"signature": {}}],
            "mixed": [{"label": "urn:x"}, 5],
            "names": ["a", "b"],
        });
        let judged: Vec<(String, Outcome, String, Option<Value>)> = rubric
            .evaluate(&doc)
            .traits
            .into_iter()
            .map(|t| (t.name, t.outcome, t.report_text, t.asserted_by))
            .collect();
        let unknown = json!({"CN": "Unknown CN", "O": "Unknown O"});
        let row = |name: &str, outcome, text: &str, by: Option<&Value>| {
            (name.to_string(), outcome, text.to_string(), by.cloned())
        };
        assert_eq!(
            judged,
            [
                row("v:manifests", Outcome::True, "signed", Some(&json!({"CN": "Desk", "O": "Agency"}))),
                row("v:manifests", Outcome::True, "signed", Some(&unknown)),
                row("v:mixed", Outcome::True, "listed", Some(&unknown)),
                row("v:one", Outcome::True, "one holds", None),
                row("v:signature_only", Outcome::True, "one result", Some(&unknown)),
                row("v:text", Outcome::True, "text holds", None),
                row("w:fallback", Outcome::Warning, "falls back", None),
                row("w:named", Outcome::Warning, "warned about a, b", None),
                row("v:bad_manifests", Outcome::False, "refused", None),
                row("v:empty", Outcome::False, "empty fails", None),
                row("v:mixed", Outcome::False, "Error: a listed manifest is not an object", None),
                row("v:no", Outcome::False, "no fails", None),
                row("v:nothing", Outcome::False, "nothing fails", None),
                row("v:zero", Outcome::False, "zero fails", None),
            ]
        );
    }

    #[test]
    fn a_flag_that_python_reads_as_false_does_not_turn_a_trait_into_a_refusal() {
        let rubric = test_rubric(
            r#"
rubric_metadata: {name: Flags, version: "1"}
---
- {id: "f:false", expression: names, failIfMatched: false, reportText: {"true": {en: listed}}}
- {id: "f:zero", expression: names, failIfMatched: 0, reportText: {"true": {en: listed}}}
- {id: "f:empty_text", expression: names, failIfMatched: "", reportText: {"true": {en: listed}}}
- {id: "f:empty_list", expression: names, failIfMatched: [], reportText: {"true": {en: listed}}}
- {id: "f:one", expression: names, failIfMatched: 1, reportText: {"false": {en: refused}}}
"#,
        );
        let report = rubric.evaluate(&json!({"names": ["a", "b"]}));
        let judged: Vec<(&str, Outcome)> = report.traits.iter().map(|t| (t.name.as_str(), t.outcome)).collect();
        assert_eq!(
            judged,
            [
                ("f:empty_list", Outcome::True),
                ("f:empty_text", Outcome::True),
                ("f:false", Outcome::True),
                ("f:zero", Outcome::True),
                ("f:one", Outcome::False),
            ]
        );
    }

    #[test]
    fn a_signals_rubric_shows_a_signal_only_for_a_value_that_holds() {
        let rubric = test_rubric(
            r#"
rubric_metadata: {name: Signals, version: "1"}
---
- {id: "inception:two", expression: two, reportText: {"true": {en: Two things}}}
- {id: "inception:none", expression: none, reportText: {"true": {en: Nothing}}}
- {id: "inception:one", expression: one, reportText: {"true": {en: One}}}
- {id: "transformation:zero", expression: zero, reportText: {"true": {en: Zero}}}
- {id: "transformation:nothing", expression: nothing, reportText: {"true": {en: Null}}}
- {id: "transformation:no", expression: "no", reportText: {"true": {en: "False"}}}
- {id: "transformation:text", expression: text, reportText: {"true": {en: Text}}}
---
block: {note: not a trait}
"#,
        );
        assert_eq!(rubric.kind, RubricKind::Signals, "a block document is no statement");
        let doc = json!({"manifests": [
            {
                "label": "urn:c2pa:a",
                "two": [1, 2], "none": [], "one": 1, "zero": 0, "nothing": null, "no": false, "text": "x",
                "assertions": {"c2pa.ingredient.v3": {"activeManifest": {"url": "self#jumbf=/c2pa/urn:c2pa:b"}, "relationship": "parentOf"}},
                "signature": {"certificateInfo": {"subject": {"CN": "Desk", "O": "Agency"}}},
            },
            {"label": "urn:c2pa:b", "one": [1], "signature": {"certificateInfo": {"subject": {"CN": "Camera", "O": "Maker"}}}},
        ]});
        let report = rubric.evaluate(&doc);
        let shown: Vec<Vec<(&str, bool)>> = report
            .manifests
            .iter()
            .map(|m| m.signals.iter().map(|s| (s.name.as_str(), s.multiple)).collect())
            .collect();
        assert_eq!(
            shown,
            [
                vec![("inception:two", true), ("inception:one", false), ("transformation:text", false)],
                vec![("inception:one", false)]
            ]
        );
        assert_eq!(report.manifests[0].ingredients, [(1, json!("parentOf"))], "the parent is the second manifest");
        assert_eq!(report.manifests[1].asserted_by, json!({"CN": "Camera", "O": "Maker"}));
    }

    #[test]
    fn an_ingredient_without_credentials_gets_a_pseudo_manifest_only_when_a_source_type_is_declared() {
        let rubric = test_rubric(
            "rubric_metadata: {name: S, version: \"1\"}\n---\n- {id: \"inception:any\", expression: label}\n",
        );
        let doc = json!({"manifests": [
            {
                "label": "urn:c2pa:a",
                "assertions": {
                    "c2pa.actions.v2": {"actions": [
                        {"action": "c2pa.created", "digitalSourceType": "digitalCapture"},
                        {"action": "c2pa.opened", "digitalSourceType": "trainedAlgorithmicMedia"},
                    ]},
                    "c2pa.ingredient.v3": {"dc:title": "x.jpg", "digitalSourceType": "compositeSynthetic", "relationship": "componentOf"},
                    "c2pa.ingredient.v3__1": {"dc:title": "y.jpg", "relationship": "parentOf"},
                },
            },
            {
                "label": "urn:c2pa:b",
                "assertions": {
                    "c2pa.actions.v2": {"actions": [{"action": "c2pa.created", "digitalSourceType": "digitalCapture"}]},
                    "c2pa.ingredient.v3": {"dc:title": "z.jpg", "relationship": "componentOf"},
                },
            },
        ]});
        let report = rubric.evaluate(&doc);
        let labels: Vec<&str> = report.manifests.iter().map(|m| m.manifest.as_str()).collect();
        // x.jpg declares its own type, y.jpg the type its `c2pa.opened`
        // action gives; z.jpg has neither (a `c2pa.created` type is not
        // the ingredient's), so it gets none.
        assert_eq!(
            labels,
            ["urn:c2pa:a", "urn:c2pa:b", "urn:c2pa:pseudo:urn:c2pa:a:x.jpg_2", "urn:c2pa:pseudo:urn:c2pa:a:y.jpg_3"]
        );
        assert_eq!(report.manifests[0].ingredients, [(2, json!("componentOf")), (3, json!("parentOf"))]);
    }

    #[test]
    fn spec_versions_come_from_the_file_name() {
        assert_eq!(spec_version_in_name("a/asset-rubric-conformance0.2-spec2.4.yml").as_deref(), Some("2.4"));
        assert_eq!(spec_version_in_name("integrity.yml"), None);
        assert_eq!(spec_version_in_name("rubric-spec2.yml"), None, "no minor version");
    }
}
