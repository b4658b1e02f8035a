//! The C2PA asset rubrics, evaluated by vouch itself: its json-formula
//! engine gives what `@adobe/json-formula` (npm) gives for every expression
//! of every shipped rubric, its rubric evaluator reports what the official
//! evaluators (`$VOUCH_SHARED/c2pa-rubrics`) report for whole files, and
//! `vouch check --rubric FILE.yml` judges files with any rubric.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};
use vouch::rubric::{Rubric, RubricKind};

const IPTC: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/";

/// Every rubric the Conformance Program publishes (v1.0), and one of a
/// newsroom's own.
fn rubric_files() -> Option<Vec<PathBuf>> {
    let dir = shared("c2pa-rubrics/asset-rubrics")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "rubrics missing in {}", dir.display());
    // And a newsroom's own rubric, in the same format.
    files.push(fixture("rubrics/newsroom.yml"));
    Some(files)
}

/// Real crJSON documents (`vouch inspect --crjson`): the shared interop
/// files with credentials, vouch's own outputs (created, AI-made, edited,
/// video, PDF), two files c2pa-python signed (a custom action in an
/// incomplete list; a composite whose AI part has no manifest of its own)
/// and two c2patool signed (an AI render, and an edit with it as parent).
struct Corpus {
    world: World,
    /// `(what, crJSON file)`.
    documents: Vec<(String, PathBuf)>,
    /// The media files the documents were read from.
    files: Vec<PathBuf>,
}

fn corpus() -> Option<&'static Corpus> {
    static CORPUS: OnceLock<Option<Corpus>> = OnceLock::new();
    CORPUS
        .get_or_init(|| {
            let interop = shared("interop/c2pa")?;
            let python = python()?;
            let world = World::with_identity();
            let mut documents = Vec::new();
            let mut files = Vec::new();
            let mut names: Vec<PathBuf> = std::fs::read_dir(&interop).unwrap().map(|e| e.unwrap().path()).collect();
            names.sort();
            for file in names {
                let probe = world.vouch().arg("verify").arg(&file).arg("--json").output().unwrap();
                if json_lines(&probe.stdout).first().is_some_and(|r| r["c2pa"]["state"] == "absent") {
                    continue;
                }
                documents.push((file.display().to_string(), world.crjson(&file, &[])));
                files.push(file);
            }
            let sign = |input: &Path, out: &str, extra: &[&str]| {
                let dir = world.path(out);
                world.vouch().args(["sign", "-o"]).arg(&dir).arg(input).args(extra).assert().success();
                dir.join(input.file_name().unwrap())
            };
            let capture = sign(&fixture("photo.jpg"), "capture", &["--author", "Staff Photographer"]);
            let render = sign(&fixture("image.png"), "render", &["--source-type", "trained-algorithmic-media"]);
            let edited = sign(&render, "edited", &["--source-type", "minor-human-edits"]);
            let clip = sign(&fixture("clip.mp4"), "clip", &[]);
            let pdf = sign(&fixture("document.pdf"), "pdf", &[]);
            let custom = c2pa_python_signed(
                &world,
                &python,
                0,
                json!({
                    "claim_generator_info": [{"name": "c2pa-python-interop", "version": "1"}],
                    "title": "crafted",
                    "assertions": [{"label": "c2pa.actions.v2", "created": true, "data": {"actions": [
                        {"action": "c2pa.created", "digitalSourceType": format!("{IPTC}digitalArt")},
                        {"action": "com.example.retouch"},
                        {"action": "c2pa.color_adjustments", "digitalSourceType": format!("{IPTC}composite"),
                         "parameters": {"description": "warmer", "com.example.level": 3}},
                    ]}}],
                }),
            );
            let flat = c2pa_python_signed(
                &world,
                &python,
                1,
                json!({
                    "claim_generator_info": [{"name": "c2pa-python-interop", "version": "1"}],
                    "title": "composite",
                    "ingredients": [{"title": "sky (AI).png", "format": "image/png", "relationship": "componentOf",
                        "instance_id": "xmp.iid:sky-1", "digital_source_type": format!("{IPTC}trainedAlgorithmicMedia")}],
                    "assertions": [{"label": "c2pa.actions.v2", "created": true, "data": {"allActionsIncluded": true,
                        "actions": [{"action": "c2pa.created", "digitalSourceType": format!("{IPTC}composite")}]}}],
                }),
            );
            // And what c2patool, c2pa-rs's own tool, writes: an AI render
            // and an edit of it (an ingredient with a manifest of its own).
            if let Some(tool) = c2patool() {
                let create = ["--create".as_ref(), std::ffi::OsStr::new("trainedAlgorithmicMedia")];
                let definition =
                    json!({"claim_generator_info": [{"name": "c2patool-interop", "version": "1"}], "title": "render"});
                let render =
                    c2patool_signed(&world, &tool, &fixture("image.png"), "c2patool-render.png", definition, &create);
                let definition =
                    json!({"claim_generator_info": [{"name": "c2patool-interop", "version": "1"}], "title": "edit"});
                let parent = ["--parent".as_ref(), render.as_os_str()];
                let edit = c2patool_signed(&world, &tool, &fixture("photo.jpg"), "c2patool-edit.jpg", definition, &parent);
                for (what, file) in [("c2patool: AI render", render), ("c2patool: edit of it", edit)] {
                    documents.push((what.to_string(), world.crjson(&file, &[])));
                    files.push(file);
                }
            }
            for (what, file) in [
                ("vouch: capture with author", capture),
                ("vouch: AI render", render),
                ("vouch: edited render", edited),
                ("vouch: video", clip),
                ("vouch: PDF", pdf),
                ("c2pa-python: custom action", custom),
                ("c2pa-python: flat AI ingredient", flat),
            ] {
                documents.push((what.to_string(), world.crjson(&file, &[])));
                files.push(file);
            }
            Some(Corpus { world, documents, files })
        })
        .as_ref()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Numbers compared by value (JavaScript has one number type).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((k, v), (l, w))| k == l && same(v, w))
        }
        _ => a == b,
    }
}

/// Real documents bent where the rubrics' expressions meet odd data:
/// actions without names or with numbers for names, lists where objects
/// belong, numbers where strings belong, members missing or null.
fn bent(crjson: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut doc = crjson.clone();
        if let Some(active) = doc["manifests"].get_mut(0) {
            f(active);
        }
        doc
    };
    out.push(edit(&|m| {
        if let Some(actions) = m["assertions"]["c2pa.actions.v2"]["actions"].as_array_mut() {
            for (i, action) in actions.iter_mut().enumerate() {
                match i % 3 {
                    0 => action["digitalSourceType"] = Value::Null,
                    1 => action["action"] = json!(7),
                    _ => {
                        action.as_object_mut().unwrap().remove("action");
                    }
                }
                action["parameters"] =
                    json!({ "ingredients": "one", "description": null, "com.example.x": 1, "plain": [] });
            }
            actions.push(
                json!({ "action": "c2pa.opened", "digitalSourceType": 3, "parameters": { "ingredients": [{}, {}] } }),
            );
            actions.push(json!("c2pa.created"));
        }
    }));
    out.push(edit(&|m| {
        m["claim.v2"]["claim_generator_info"] = json!({ "specVersion": 2.4 });
        m["claim.v2"]["specVersion"] = json!("1.0");
        m["claim.v2"]["created_assertions"] =
            json!([{ "url": null }, { "url": "self#jumbf=c2pa.assertions/c2pa.actions" }]);
        m["assertions"]["stds.schema-org.CreativeWork"] = json!({});
        m["assertions"]["custom"] = json!(5);
        m["assertions"]["c2pa.hash.data"] = json!({ "url": "x", "exclusions": [] });
        m["assertions"]["c2pa.ingredient.v3"] = json!({ "relationship": "friendOf", "validationResults": {} });
        m["assertions"]["c2pa.actions.v2"]["allActionsIncluded"] = json!("yes");
        m["validationResults"] = json!({ "failure": [{ "code": "claimSignature.mismatch" }, { "code": null }, 5] });
    }));
    out.push(edit(&|m| {
        m["assertions"]["c2pa.actions.v2"] = json!({ "actions": "c2pa.created" });
        m["claim.v2"]["claim_generator_info"] = json!([{ "specVersion": [2, 4] }]);
        m["validationResults"] = Value::Null;
        m.as_object_mut().unwrap().remove("label");
    }));
    out.push(edit(&|m| {
        m["assertions"] = json!([{ "actions": [] }]);
        m["claim.v2"] = json!("not a claim");
    }));
    out
}

/// The reference engine (`@adobe/json-formula`, run by node through
/// `tests/rubric/json-formula.mjs`): its module, or `None` with the reason
/// printed when node or the package is missing.
fn json_formula_module() -> Option<PathBuf> {
    let module = npm_file("@adobe/json-formula/src/json-formula.js")?;
    if std::process::Command::new("node").arg("--version").output().is_err() {
        skip("node is not installed (`make deps` installs the npm packages; node comes from the system)");
        return None;
    }
    Some(module)
}

/// What the reference gives for `job` (see `json-formula.mjs`): one list
/// of `{"ok": …}` / `{"error": …}` per document, one per statement.
fn json_formula(job: &Value, world: &World) -> Vec<Vec<Value>> {
    let job_path = world.path("job.json");
    std::fs::write(&job_path, job.to_string()).unwrap();
    let out = std::process::Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rubric/json-formula.mjs"))
        .stdin(std::fs::File::open(&job_path).unwrap())
        .output()
        .expect("run node");
    assert!(out.status.success(), "node: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_rubric_expression_evaluates_as_the_reference_json_formula_does() {
    let Some(files) = rubric_files() else { return };
    let Some(module) = json_formula_module() else { return };
    let Some(corpus) = corpus() else { return };
    let mut compared = 0;
    let mut errors_on_both = 0;
    let mut non_trivial = 0;
    for file in &files {
        let rubric = Rubric::load(file).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(file).unwrap();
        let docs: Vec<Value> =
            serde_norway::Deserializer::from_str(&text).map(|d| serde::Deserialize::deserialize(d).unwrap()).collect();
        let mut variables = docs[0]["variables"].clone();
        if let Some(spec) = file.to_string_lossy().split("spec").nth(1).and_then(|s| s.strip_suffix(".yml")) {
            variables["$expected_spec_version"] = json!(spec);
        }
        // Each trait's expression, and each named expression's body on its own.
        let mut expressions: Vec<(String, String)> = rubric.expressions();
        for (name, body) in docs[0]["expressions"].as_object().into_iter().flatten() {
            expressions.push((name.clone(), body.as_str().unwrap().to_string()));
        }
        assert!(expressions.len() >= 6, "{}", file.display());
        // Whole documents for every rubric; each manifest alone as well
        // (the signals rubric is evaluated manifest by manifest).
        let mut documents: Vec<(String, Value)> = Vec::new();
        for (what, path) in &corpus.documents {
            let crjson = read_json(path);
            for (i, manifest) in crjson["manifests"].as_array().unwrap().iter().enumerate() {
                documents.push((format!("{what}, manifest {i}"), manifest.clone()));
            }
            for (n, variant) in bent(&crjson).into_iter().enumerate() {
                documents.push((format!("{what}, bent {n}"), variant));
            }
            documents.push((what.clone(), crjson));
        }
        let job = json!({
            "module": module,
            "variables": variables,
            "expressions": docs[0]["expressions"],
            "statements": expressions.iter().map(|(_, e)| e).collect::<Vec<_>>(),
            "documents": documents.iter().map(|(_, d)| d).collect::<Vec<_>>(),
        });
        let theirs = json_formula(&job, &corpus.world);
        for ((what, document), results) in documents.iter().zip(&theirs) {
            for ((name, expression), reference) in expressions.iter().zip(results) {
                let ours = rubric.search(expression, document);
                let place = format!("{} / {name} on {what}:\n{expression}", file.display());
                match (&ours, reference.get("ok")) {
                    (Ok(value), Some(expected)) => {
                        assert!(same(value, expected), "{place}\nvouch: {value}\njson-formula: {expected}");
                        if !matches!(value, Value::Null | Value::Bool(false)) {
                            non_trivial += 1;
                        }
                    }
                    (Err(_), None) => errors_on_both += 1,
                    _ => panic!("{place}\nvouch: {ours:?}\njson-formula: {reference}"),
                }
                compared += 1;
            }
        }
    }
    eprintln!(
        "{compared} evaluations equal ({non_trivial} neither null nor false, {errors_on_both} errors on both sides)"
    );
    assert!(compared > 1000 && non_trivial > 300, "{compared} / {non_trivial}");
}

/// `tests/rubric/formula-cases.json` holds what the reference engine gives
/// for expressions covering every construct of the language (a unit test of
/// `src/rubric/formula.rs` holds vouch's engine to those results): they
/// must still be the reference's, not results written by hand.
#[test]
fn the_formula_cases_hold_the_reference_json_formulas_results() {
    let Some(module) = json_formula_module() else { return };
    let cases = read_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rubric/formula-cases.json"));
    let world = World::new();
    let mut compared = 0;
    let mut errors = 0;
    for group in cases["groups"].as_array().unwrap() {
        let cases = group["cases"].as_array().unwrap();
        let job = json!({
            "module": module,
            "variables": group.get("variables").cloned().unwrap_or(json!({})),
            "expressions": group.get("expressions").cloned().unwrap_or(json!({})),
            "statements": cases.iter().map(|c| c[0].clone()).collect::<Vec<_>>(),
            "documents": [group["data"]],
        });
        let theirs = json_formula(&job, &world);
        for (case, reference) in cases.iter().zip(&theirs[0]) {
            let written = &case[1];
            let agrees = match (written.get("ok"), reference.get("ok")) {
                (Some(a), Some(b)) => same(a, b),
                (None, None) => written.get("error").is_some() && reference.get("error").is_some(),
                _ => false,
            };
            assert!(
                agrees,
                "{}: written {written}, json-formula gives {reference} (scripts/rubric/formula_cases.py rewrites them)",
                case[0]
            );
            errors += usize::from(reference.get("error").is_some());
            compared += 1;
        }
        assert_eq!(theirs[0].len(), cases.len());
    }
    eprintln!("{compared} cases are the reference's ({errors} of them errors)");
    assert!(compared > 700 && errors > 50 && compared - errors > 500, "{compared} / {errors}");
}

/// The official evaluator's report on `crjson` for the rubric `file`.
fn official(file: &Path, crjson: &Path) -> Value {
    let dir = shared("c2pa-rubrics/asset-rubrics").unwrap();
    let evaluator = if file.to_string_lossy().contains("signals") {
        "c2pa_signals_rubric_evaluator.py"
    } else {
        "c2pa_conformance_rubric_evaluator.py"
    };
    let out = std::process::Command::new(python().unwrap())
        .arg(evaluator)
        .arg(file)
        .arg(crjson)
        .current_dir(&dir)
        .env("PYTHONPATH", format!("{}:{}", dir.parent().unwrap().join("lib").display(), dir.display()))
        .output()
        .unwrap();
    let name = file.display();
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{name}: not JSON ({e})"))
}

/// Error texts are each engine's own words: compared as "an error".
fn without_error_texts(mut report: Value) -> Value {
    for outcome in ["true", "false", "warning"] {
        for list in report[outcome].as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
            for entry in list.as_array_mut().into_iter().flatten() {
                if entry["reportText"].as_str().is_some_and(|t| t.starts_with("Error: ")) {
                    entry["reportText"] = json!("Error");
                }
            }
        }
    }
    report
}

#[test]
fn every_rubric_reports_on_whole_files_as_the_official_evaluator_does() {
    let Some(files) = rubric_files() else { return };
    let Some(corpus) = corpus() else { return };
    let mut failed_traits = 0;
    for file in &files {
        let rubric = Rubric::load(file).unwrap_or_else(|e| panic!("{e}"));
        let signals = file.to_string_lossy().contains("signals");
        assert_eq!(rubric.kind == RubricKind::Signals, signals, "{}", file.display());
        for (what, crjson) in &corpus.documents {
            let theirs = without_error_texts(official(file, crjson));
            let ours = without_error_texts(rubric.evaluate(&read_json(crjson)).official());
            assert_eq!(
                ours,
                theirs,
                "{} on {what}:\nvouch: {ours:#}\nofficial: {theirs:#}",
                file.file_name().unwrap().to_string_lossy()
            );
            failed_traits += ours["false"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
                .flat_map(|l| l.as_array().unwrap())
                .count();
        }
    }
    // The corpus makes rubrics fail too, not only pass.
    assert!(failed_traits > 10, "{failed_traits}");
}

/// The official report's traits as `check --rubric` records them:
/// `category:trait` → true, false or "warning" (a trait listed once per
/// manifest it found holds if any does).
fn official_traits(report: &Value) -> serde_json::Map<String, Value> {
    let mut traits = serde_json::Map::new();
    for (outcome, value) in [("true", json!(true)), ("false", json!(false)), ("warning", json!("warning"))] {
        for (category, list) in report[outcome].as_object().unwrap() {
            for entry in list.as_array().unwrap() {
                let name = entry["trait"].as_str().unwrap();
                let key = if category == "general" { name.to_string() } else { format!("{category}:{name}") };
                if traits.get(&key) != Some(&json!(true)) {
                    traits.insert(key, value.clone());
                }
            }
        }
    }
    traits
}

#[test]
fn check_with_rubrics_judges_each_file_as_the_official_evaluator_does() {
    let Some(files) = rubric_files() else { return };
    let Some(corpus) = corpus() else { return };
    let world = &corpus.world;
    let trait_rubrics: Vec<&PathBuf> = files.iter().filter(|f| !f.to_string_lossy().contains("signals")).collect();
    let mut command = world.vouch();
    command.arg("check").arg("--json");
    for rubric in &files {
        command.arg("--rubric").arg(rubric);
    }
    let out = command.args(&corpus.files).output().unwrap();
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), corpus.files.len(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut failed_files = 0;
    for (record, (what, crjson)) in records.iter().zip(&corpus.documents) {
        let rubrics = record["rubrics"].as_array().unwrap_or_else(|| panic!("no rubrics in {record}"));
        assert_eq!(rubrics.len(), files.len(), "{what}");
        let mut any_false = false;
        for (entry, file) in rubrics.iter().zip(&files) {
            let official = official(file, crjson);
            assert_eq!(entry["rubric"], official["rubricName"], "{what}");
            assert_eq!(entry["version"], official["rubricVersion"], "{what}");
            if file.to_string_lossy().contains("signals") {
                // Each manifest's signals, as the official evaluator lists them.
                let ours: Vec<Vec<Value>> = entry["manifests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["signals"].as_array().unwrap().iter().map(|s| s["trait"].clone()).collect())
                    .collect();
                let theirs: Vec<Vec<Value>> = official["manifests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| {
                        let all = m["localInceptions"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .chain(m["localTransformations"].as_array().unwrap());
                        all.map(|s| s["trait"].clone()).collect()
                    })
                    .collect();
                assert_eq!(ours, theirs, "{what}: {}", file.display());
                continue;
            }
            let theirs = official_traits(&official);
            assert_eq!(entry["traits"].as_object().unwrap(), &theirs, "{what}: {}", file.display());
            let failed: Vec<&str> =
                entry["failed"].as_array().unwrap().iter().map(|t| t["trait"].as_str().unwrap()).collect();
            let expected: Vec<&str> =
                theirs.iter().filter(|(_, v)| **v == json!(false)).map(|(k, _)| k.as_str()).collect();
            let (mut failed, mut expected) = (failed, expected);
            failed.sort();
            failed.dedup();
            expected.sort();
            assert_eq!(failed, expected, "{what}: {}", file.display());
            any_false |= !failed.is_empty();
        }
        // A false trait fails the file, and says which in its reasons.
        if any_false {
            failed_files += 1;
            assert_eq!(record["verdict"], "fail", "{what}: {record}");
            assert!(
                record["reasons"].as_array().unwrap().iter().any(|r| r["rule"] == "rubric" && r["verdict"] == "fail"),
                "{what}"
            );
        }
    }
    // (Every file fails some rubric here: the spec 2.2 rubrics, the
    // newsroom's creator, the third-party files' conformance.)
    assert!(failed_files >= 3, "{failed_files} of {} files failed", records.len());
    assert_eq!(out.status.code(), Some(1));
    assert!(!trait_rubrics.is_empty());
}

#[test]
fn a_rubric_fails_a_file_the_policy_passes_and_a_bad_rubric_is_a_usage_error() {
    let world = World::with_identity();
    let capture = world.path("capture");
    world.vouch().args(["sign", "-o"]).arg(&capture).arg(fixture("photo.jpg")).assert().success();
    let photo = capture.join("photo.jpg");
    let policy = world.path("policy.toml");
    std::fs::write(&policy, "require_c2pa = \"trusted\"\n").unwrap();
    let house = fixture("rubrics/newsroom.yml");

    // The policy alone passes the photo; the house rubric wants a creator.
    world.vouch().arg("check").arg(&photo).arg("--policy").arg(&policy).assert().code(0);
    let out = world
        .vouch()
        .arg("check")
        .arg(&photo)
        .arg("--policy")
        .arg(&policy)
        .arg("--rubric")
        .arg(&house)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "rubric: Newsroom house rubric 2: house:creator_named is false: No creator is named (sign with --author)"
        ),
        "{text}"
    );
    // Signed with an author, it passes both.
    let credited = world.path("credited");
    world
        .vouch()
        .args(["sign", "-o"])
        .arg(&credited)
        .arg(fixture("photo.jpg"))
        .args(["--author", "Staff Photographer"])
        .assert()
        .success();
    let out = world
        .vouch()
        .arg("check")
        .arg(credited.join("photo.jpg"))
        .arg("--policy")
        .arg(&policy)
        .arg("--rubric")
        .arg(&house)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let record = &json_lines(&out.stdout)[0];
    assert_eq!(
        record["rubrics"][0]["traits"],
        json!({
            "house:creator_named": true, "house:captured": true, "house:no_ai_edits": true, "house:title_given": true,
        })
    );
    // A file without credentials cannot be judged by a rubric: said, as a warning.
    let out = world
        .vouch()
        .arg("check")
        .arg(fixture("image.png"))
        .arg("--rubric")
        .arg(&house)
        .arg("--json")
        .output()
        .unwrap();
    let record = &json_lines(&out.stdout)[0];
    assert_eq!(record["rubrics"][0]["not_evaluated"], "no Content Credentials to evaluate", "{record}");
    assert_eq!(record["verdict"], "warn");

    // An unreadable or invalid rubric: exit 2, one line naming it, no report.
    let broken = world.path("broken.yml");
    std::fs::write(&broken, "rubric_metadata: {name: x}\n---\n- id: a\n  expression: [\n").unwrap();
    let empty = world.path("empty.yml");
    std::fs::write(&empty, "rubric_metadata: {name: x}\n").unwrap();
    for (rubric, cause) in [
        (world.path("missing.yml"), "not found".to_string()),
        (broken.clone(), "not a rubric: YAML".to_string()),
        (empty.clone(), "not a rubric: no statements".to_string()),
    ] {
        let out = world
            .vouch()
            .arg("check")
            .arg(&photo)
            .arg("--rubric")
            .arg(&house)
            .arg("--rubric")
            .arg(&rubric)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", rubric.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&format!("--rubric: {}: {cause}", rubric.display())), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}
