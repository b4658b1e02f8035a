//! The C2PA Conformance Program's provenance signals in every record:
//! `c2pa.signals` equals what the official signals evaluator
//! (`$VOUCH_SHARED/c2pa-rubrics`) reports on the same file's crJSON, for
//! third-party files, vouch's own outputs and files c2pa-python and
//! c2patool signed;
//! policies refuse or require signals by their official names; text and
//! HTML say them in the rubric's words.

mod common;

use std::path::Path;

use common::*;
use serde_json::{json, Value};

const IPTC: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/";

fn verify_json(world: &World, file: &Path) -> Value {
    let out = world.vouch().arg("verify").arg(file).arg("--json").output().unwrap();
    json_lines(&out.stdout).remove(0)
}

/// `(trait, report text)` per signal, per manifest, plus whether it is a
/// pseudo manifest: what both sides must agree on.
type Signals = Vec<(Vec<(String, String)>, Vec<(String, String)>, bool)>;

fn pairs(list: &Value, name: &str, text: &str) -> Vec<(String, String)> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|s| (s[name].as_str().unwrap().to_string(), s[text].as_str().unwrap().to_string()))
        .collect()
}

fn vouchs(record: &Value) -> Signals {
    let signals = record["c2pa"]["signals"].as_array().unwrap_or_else(|| panic!("no c2pa.signals in {record}"));
    signals
        .iter()
        .map(|m| {
            assert!(m["manifest"].is_string(), "{m}");
            (
                pairs(&m["inceptions"], "trait", "report_text"),
                pairs(&m["transformations"], "trait", "report_text"),
                m["pseudo"] == true,
            )
        })
        .collect()
}

fn officials(report: &Value) -> Signals {
    report["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                pairs(&m["localInceptions"], "trait", "reportText"),
                pairs(&m["localTransformations"], "trait", "reportText"),
                m["pseudo"] == true,
            )
        })
        .collect()
}

/// Asserts that vouch's `verify` record carries the signals the official
/// evaluator reports for the file's crJSON; returns them.
fn assert_same_signals(world: &World, rubrics: &Rubrics, file: &Path) -> Signals {
    let ours = vouchs(&verify_json(world, file));
    let theirs = officials(&rubrics.evaluate("signals", &world.crjson(file, &[])));
    assert!(!theirs.is_empty(), "{}: the evaluator saw no manifest", file.display());
    assert_eq!(ours, theirs, "{}: vouch's signals differ from the official evaluator's", file.display());
    ours
}

fn names(signals: &Signals) -> Vec<String> {
    signals.iter().flat_map(|(i, t, _)| i.iter().chain(t)).map(|(name, _)| name.clone()).collect()
}

#[test]
fn third_party_files_carry_the_official_signals() {
    let Some(rubrics) = Rubrics::find() else { return };
    let Some(dir) = shared("interop/c2pa") else { return };
    let world = World::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().path();
        let record = verify_json(&world, &file);
        if record["c2pa"]["state"] == "absent" {
            assert_eq!(record["c2pa"]["signals"], json!([]), "{}", file.display());
            continue;
        }
        assert_same_signals(&world, &rubrics, &file);
        seen += 1;
    }
    assert!(seen >= 5, "only {seen} files with credentials in {}", dir.display());
}

#[test]
fn vouchs_own_outputs_carry_the_official_signals_for_every_source_type() {
    let Some(rubrics) = Rubrics::find() else { return };
    let world = World::with_identity();
    let types: Vec<String> = [
        "digitalCapture",
        "computationalCapture",
        "negativeFilm",
        "minorHumanEdits",
        "compositeCapture",
        "algorithmicallyEnhanced",
        "digitalArt",
        "digitalCreation",
        "composite",
        "compositeSynthetic",
        "compositeWithTrainedAlgorithmicMedia",
        "trainedAlgorithmicMedia",
        "algorithmicMedia",
        "screenCapture",
    ]
    .iter()
    .map(|t| t.to_string())
    .chain(["http://c2pa.org/digitalsourcetype/empty".to_string()])
    .collect();
    for (i, source_type) in types.iter().enumerate() {
        let out = world.path(&format!("created-{i}"));
        world
            .vouch()
            .args(["sign", "-o"])
            .arg(&out)
            .arg(fixture("photo.jpg"))
            .args(["--source-type", source_type])
            .assert()
            .success();
        let signals = assert_same_signals(&world, &rubrics, &out.join("photo.jpg"));
        assert_eq!(signals.len(), 1, "{source_type}");
        // A created manifest of vouch's is never ambiguous.
        assert!(signals[0].1.is_empty(), "{source_type}: {signals:?}");
    }
    // The ones the rubric names, as it names them.
    let expect = [
        ("digital-capture", "inception:signal_capturedMedia", "Contains Captured Media"),
        ("trained-algorithmic-media", "inception:signal_fullyGenAIMedia", "Contains Fully GenAI Media"),
        (
            "composite",
            "inception:signal_compositionMayContainGenAI",
            "Contains Composition which may contain GenAI content",
        ),
        (
            "screen-capture",
            "inception:signal_screenCaptureMayContainGenAI",
            "Contains Screen Capture Which May Contain GenAI Content",
        ),
    ];
    for (source_type, name, text) in expect {
        let out = world.path(&format!("named-{source_type}"));
        world
            .vouch()
            .args(["sign", "-o"])
            .arg(&out)
            .arg(fixture("image.png"))
            .args(["--source-type", source_type])
            .assert()
            .success();
        let signals = assert_same_signals(&world, &rubrics, &out.join("image.png"));
        assert_eq!(signals[0].0, [(name.to_string(), text.to_string())]);
    }

    // Edited by vouch: the edit's own signal, the parent's inception in history.
    let render = world.path("named-trained-algorithmic-media").join("image.png");
    let edited = world.path("edited");
    world
        .vouch()
        .args(["sign", "-o"])
        .arg(&edited)
        .arg(&render)
        .args(["--source-type", "minor-human-edits"])
        .assert()
        .success();
    let signals = assert_same_signals(&world, &rubrics, &edited.join("image.png"));
    assert_eq!(
        names(&signals),
        ["transformation:signal_perceptibleNonGenAI", "inception:signal_fullyGenAIMedia"],
        "{signals:?}"
    );
    // Other formats, the same rules.
    for name in ["clip.mp4", "tone.wav", "document.pdf"] {
        let out = world.path("formats");
        world.vouch().args(["sign", "-o"]).arg(&out).arg(fixture(name)).assert().success();
        assert_same_signals(&world, &rubrics, &out.join(name));
    }
}

#[test]
fn files_signed_by_c2pa_python_carry_the_official_signals() {
    let Some(rubrics) = Rubrics::find() else { return };
    let Some(python) = python() else { return };
    let world = World::with_identity();
    let actions = |label: &str, actions: Value, complete: Option<bool>| {
        let mut data = json!({ "actions": actions });
        if let Some(complete) = complete {
            data["allActionsIncluded"] = json!(complete);
        }
        json!({
            "claim_generator_info": [{"name": "c2pa-python-interop", "version": "1"}],
            "title": "crafted",
            // A created assertion, as a conformant generator writes it (a
            // gathered actions assertion is ambiguous whatever it says).
            "assertions": [{"label": label, "data": data, "created": true}],
        })
    };
    let cases = [
        // Captured, then edited with a generative fill.
        actions(
            "c2pa.actions.v2",
            json!([
                {"action": "c2pa.created", "digitalSourceType": format!("{IPTC}digitalCapture")},
                {"action": "c2pa.edited", "digitalSourceType": format!("{IPTC}trainedAlgorithmicMedia")},
                {"action": "c2pa.transcoded"},
            ]),
            Some(true),
        ),
        // A custom action, and a list not said to be complete.
        actions(
            "c2pa.actions.v2",
            json!([
                {"action": "c2pa.created", "digitalSourceType": format!("{IPTC}digitalArt")},
                {"action": "com.example.retouch"},
                {"action": "c2pa.color_adjustments", "digitalSourceType": format!("{IPTC}composite")},
            ]),
            None,
        ),
        // A capture whose list says it is incomplete.
        actions(
            "c2pa.actions.v2",
            json!([{"action": "c2pa.created", "digitalSourceType": format!("{IPTC}screenCapture")}]),
            Some(false),
        ),
        // Legacy v1 actions: the rubric reads only c2pa.actions.v2.
        actions(
            "c2pa.actions",
            json!([{"action": "c2pa.created", "digitalSourceType": format!("{IPTC}trainedAlgorithmicMedia")}]),
            None,
        ),
    ];
    // A composite whose AI-made part has no credentials of its own, only a
    // source type its ingredient records: the evaluator's pseudo manifest.
    let flat = json!({
        "claim_generator_info": [{"name": "c2pa-python-interop", "version": "1"}],
        "title": "composite",
        "ingredients": [{"title": "sky (AI).png", "format": "image/png", "relationship": "componentOf",
            "instance_id": "xmp.iid:sky-1", "digital_source_type": format!("{IPTC}trainedAlgorithmicMedia")}],
        "assertions": [{"label": "c2pa.actions.v2", "created": true, "data": {"allActionsIncluded": true,
            "actions": [{"action": "c2pa.created", "digitalSourceType": format!("{IPTC}composite")}]}}],
    });
    let mut all = Vec::new();
    for (n, definition) in cases.into_iter().chain([flat]).enumerate() {
        let file = c2pa_python_signed(&world, &python, n, definition);
        all.push(names(&assert_same_signals(&world, &rubrics, &file)));
    }
    assert!(all[0].contains(&"transformation:signal_perceptibleGenAI".to_string()), "{all:?}");
    assert!(!all[0].contains(&"transformation:signal_ambiguousActions".to_string()), "{all:?}");
    assert!(all[1].contains(&"transformation:signal_ambiguousActions".to_string()), "{all:?}");
    assert!(all[2].contains(&"transformation:signal_ambiguousActions".to_string()), "{all:?}");
    assert_eq!(
        all[4],
        [
            "inception:signal_compositionMayContainGenAI",
            "inception:signal_mediaUnknownProvenance",
            "inception:signal_fullyGenAIMedia"
        ],
        "{all:?}"
    );
    let record = verify_json(&world, &world.path("python4.jpg"));
    assert_eq!(record["c2pa"]["signals"][1]["pseudo"], true, "{record}");
    // The AI part counts for a policy as any ingredient does.
    let (code, out) = check(&world, &world.path("python4.jpg"), REFUSE_AI_SIGNALS, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("(inception:signal_fullyGenAIMedia) in its history, which the policy refuses"), "{out}");
}

#[test]
fn files_signed_by_c2patool_carry_the_official_signals_and_keep_their_ai_history() {
    let Some(rubrics) = Rubrics::find() else { return };
    let Some(tool) = c2patool() else { return };
    let world = World::with_identity();
    let definition =
        |title: &str| json!({ "claim_generator_info": [{"name": "c2patool-interop", "version": "1"}], "title": title });
    fn create(source_type: &str) -> [&std::ffi::OsStr; 2] {
        ["--create".as_ref(), source_type.as_ref()]
    }
    // c2patool's own intents: a capture, an AI render (a PNG), and that
    // render opened as the parent of an edit, the laundering an attacker
    // would try with the reference tool instead of vouch.
    let capture = c2patool_signed(
        &world,
        &tool,
        &fixture("photo.jpg"),
        "capture.jpg",
        definition("capture"),
        &create("digitalCapture"),
    );
    let render = c2patool_signed(
        &world,
        &tool,
        &fixture("image.png"),
        "render.png",
        definition("render"),
        &create("trainedAlgorithmicMedia"),
    );
    let mut edit = definition("edit");
    edit["assertions"] = json!([{"label": "c2pa.actions.v2", "data": {"actions": [
        {"action": "c2pa.color_adjustments", "digitalSourceType": format!("{IPTC}minorHumanEdits")}]}}]);
    let edited =
        c2patool_signed(&world, &tool, &render, "edited.png", edit, &["--parent".as_ref(), render.as_os_str()]);
    let signals: Vec<Vec<String>> =
        [&capture, &render, &edited].iter().map(|f| names(&assert_same_signals(&world, &rubrics, f))).collect();
    assert!(signals[0].contains(&"inception:signal_capturedMedia".to_string()), "{signals:?}");
    assert!(signals[1].contains(&"inception:signal_fullyGenAIMedia".to_string()), "{signals:?}");
    assert!(signals[2].contains(&"inception:signal_fullyGenAIMedia".to_string()), "{signals:?}");
    // The AI origin survives the edit: the record declares it from the
    // parent's manifest, and a policy refusing AI signals fails the file.
    let record = verify_json(&world, &edited);
    assert_eq!(record["c2pa"]["state"], "trusted", "{record}");
    let declared = record["c2pa"]["declared_sources"].as_array().unwrap();
    assert!(declared.iter().any(|d| d["type"].as_str().unwrap().ends_with("trainedAlgorithmicMedia")), "{record}");
    let (code, out) = check(&world, &edited, REFUSE_AI_SIGNALS, &[]);
    assert_eq!(code, Some(1), "{out}");
    let (code, out) = check(&world, &capture, REFUSE_AI_SIGNALS, &[]);
    assert_eq!(code, Some(0), "{out}");
}

const REFUSE_AI_SIGNALS: &str =
    r#"refused_signals = ["inception:signal_fullyGenAIMedia", "transformation:signal_perceptibleGenAI"]"#;
const CAPTURES_ONLY: &str = r#"required_signals = ["inception:signal_capturedMedia"]"#;

fn check(world: &World, file: &Path, policy: &str, extra: &[&str]) -> (Option<i32>, String) {
    let path = world.path("policy.toml");
    std::fs::write(&path, policy).unwrap();
    let out = world.vouch().arg("check").arg(file).arg("--policy").arg(&path).args(extra).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_policy_refuses_or_requires_signals_over_the_whole_history() {
    let world = World::with_identity();
    let sign = |input: &Path, out: &str, extra: &[&str]| {
        let dir = world.path(out);
        world.vouch().args(["sign", "-o"]).arg(&dir).arg(input).args(extra).assert().success();
        dir.join(input.file_name().unwrap())
    };
    let capture = sign(&fixture("photo.jpg"), "capture", &[]);
    let render = sign(&fixture("photo.jpg"), "render", &["--source-type", "trained-algorithmic-media"]);
    // The AI render re-signed as a minor edit: its inception is an ingredient's now.
    let laundered = sign(&render, "laundered", &["--source-type", "minor-human-edits"]);

    let (code, out) = check(&world, &capture, REFUSE_AI_SIGNALS, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("signals: Contains Captured Media"), "{out}");
    for file in [&render, &laundered] {
        let (code, out) = check(&world, file, REFUSE_AI_SIGNALS, &[]);
        assert_eq!(code, Some(1), "{out}");
        assert!(
            out.contains("signal: shows \"Contains Fully GenAI Media\" (inception:signal_fullyGenAIMedia)"),
            "{out}"
        );
    }
    let (_, out) = check(&world, &laundered, REFUSE_AI_SIGNALS, &[]);
    assert!(out.contains("(inception:signal_fullyGenAIMedia) in its history, which the policy refuses"), "{out}");

    assert_eq!(check(&world, &capture, CAPTURES_ONLY, &[]).0, Some(0));
    let (code, out) = check(&world, &render, CAPTURES_ONLY, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("requires \"Contains Captured Media\" (inception:signal_capturedMedia), which no manifest"),
        "{out}"
    );
    // A file without credentials shows no signal.
    let (code, _) = check(&world, &fixture("image.png"), CAPTURES_ONLY, &[]);
    assert_eq!(code, Some(1));

    // The JSON record says which rule failed, and carries the signals.
    let (_, out) = check(&world, &laundered, REFUSE_AI_SIGNALS, &["--json"]);
    let record = &json_lines(out.as_bytes())[0];
    assert!(record["reasons"].as_array().unwrap().iter().any(|r| r["rule"] == "signal"), "{record}");
    assert_eq!(record["c2pa"]["signals"].as_array().unwrap().len(), 2, "{record}");
}

#[test]
fn a_policy_naming_a_signal_the_rubric_does_not_have_is_refused_at_load() {
    let world = World::with_identity();
    let file = world.signed("photo.jpg");
    for (field, typo) in [("refused_signals", "inception:signal_fullyGenAI"), ("required_signals", "capturedMedia")] {
        let (code, _) = check(&world, &file, &format!("{field} = [\"{typo}\"]"), &[]);
        assert_eq!(code, Some(2), "{field}");
        let path = world.path("policy.toml");
        let out = world.vouch().arg("check").arg(&file).arg("--policy").arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&format!("{field}: `{typo}` is not a signal of the C2PA signals rubric")), "{stderr}");
        assert!(stderr.contains("inception:signal_fullyGenAIMedia"), "the vocabulary is listed: {stderr}");
    }
}

#[test]
fn text_and_html_show_the_signals_in_the_rubrics_words() {
    let world = World::with_identity();
    let out = world.path("render");
    world
        .vouch()
        .args(["sign", "-o"])
        .arg(&out)
        .arg(fixture("photo.jpg"))
        .args(["--source-type", "trained-algorithmic-media"])
        .assert()
        .success();
    let render = out.join("photo.jpg");
    let text = world.vouch().arg("verify").arg(&render).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("\n         signals: Contains Fully GenAI Media"), "{text}");

    let html = world.path("report.html");
    world.vouch().arg("check").arg(&render).args(["--format", "html", "--out"]).arg(&html).assert().success();
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<div class=\"signals\">"), "no signals in the HTML report");
    assert!(page.contains("signals: Contains Fully GenAI Media"), "no signal words in the HTML report");

    // Merged from JSON Lines by `vouch report`, the signals are still said.
    let records = world.path("shard.jsonl");
    let out = world.vouch().arg("check").arg(&render).args(["--format", "json"]).output().unwrap();
    std::fs::write(&records, &out.stdout).unwrap();
    let merged = world.vouch().arg("report").arg(&records).output().unwrap();
    let merged = String::from_utf8_lossy(&merged.stdout);
    assert!(merged.contains("signals: Contains Fully GenAI Media"), "{merged}");
}
