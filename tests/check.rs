//! A CI job checks a delivery against a newsroom policy and gets one verdict
//! per file, as JUnit for the CI system, SARIF for code scanning and HTML for
//! the journalist; an archive is split across machines by shard and an
//! interrupted run resumes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use common::*;

const STRICT: &str = r#"
require_c2pa = "trusted"
require_anchor = "ots"
refused_source_types = ["trainedAlgorithmicMedia"]
"#;

/// A delivery: one good file (signed, anchored, confirmed), one unsigned,
/// one tampered after signing, one honestly labelled AI-generated.
struct Delivery {
    world: World,
    dir: PathBuf,
    headers: PathBuf,
    policy: PathBuf,
    _calendar: Calendar,
}

impl Delivery {
    fn new(python: &Path) -> Self {
        let world = World::with_identity();
        let dir = world.path("delivery");
        std::fs::create_dir_all(&dir).unwrap();
        let sign = |source: &str, name: &str, extra: &[&str]| {
            let out = world.path(&format!("signed-{name}"));
            world.vouch().arg("sign").arg(fixture(source)).arg("-o").arg(&out).args(extra).assert().success();
            std::fs::rename(out.join(source), dir.join(name)).unwrap();
        };
        sign("photo.jpg", "good.jpg", &[]);
        sign("photo.jpg", "tampered.jpg", &[]);
        sign("image.png", "ai.png", &["--source-type", "trained-algorithmic-media"]);
        std::fs::copy(fixture("photo.jpg"), dir.join("unsigned.jpg")).unwrap();

        let calendar = Calendar::start(python);
        world.vouch().arg("anchor").arg(&dir).args(["--to", "ots", "--calendar", &calendar.url]).assert().success();
        calendar.mine();
        let proofs: Vec<PathBuf> = ["good.jpg", "tampered.jpg", "ai.png", "unsigned.jpg"]
            .iter()
            .map(|n| dir.join(format!("{n}.ots")))
            .collect();
        world.vouch().args(["anchor", "upgrade", "--calendar", &calendar.url]).args(&proofs).assert().success();
        let headers = world.path("headers.txt");
        std::fs::write(&headers, calendar.get("/headers")).unwrap();
        // Tampered after anchoring too: both the manifest and the anchor see it.
        flip_byte_near_end(&dir.join("tampered.jpg"));
        let policy = world.path("strict.toml");
        std::fs::write(&policy, STRICT).unwrap();
        Self { world, dir, headers, policy, _calendar: calendar }
    }

    fn check(&self, extra: &[&str]) -> std::process::Output {
        self.world
            .vouch()
            .arg("check")
            .arg(&self.dir)
            .arg("--policy")
            .arg(&self.policy)
            .arg("--headers")
            .arg(&self.headers)
            .args(["--bitcoin-network", "regtest"])
            .args(extra)
            .output()
            .unwrap()
    }
}

#[test]
fn junit_names_exactly_the_failing_files_with_their_reasons() {
    let Some(python) = python() else { return };
    let delivery = Delivery::new(&python);
    let out = delivery.check(&["--format", "junit"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let xml = String::from_utf8(out.stdout).unwrap();

    let case = |name: &str| {
        let start = xml
            .find(&format!("name=\"{}\"", delivery.dir.join(name).display()))
            .unwrap_or_else(|| panic!("{name} in {xml}"));
        let rest = &xml[start..];
        let end = rest.find("</testcase>").map(|e| e.min(rest.find("/>").filter(|&s| s < 80).unwrap_or(usize::MAX)));
        rest[..end.unwrap_or(rest.len())].to_string()
    };
    assert!(!case("good.jpg").contains("<failure"), "{}", case("good.jpg"));
    let unsigned = case("unsigned.jpg");
    assert!(unsigned.contains("<failure") && unsigned.contains("no Content Credentials"), "{unsigned}");
    let tampered = case("tampered.jpg");
    assert!(
        tampered.contains("Content Credentials are invalid") && tampered.contains("ots anchor is invalid"),
        "{tampered}"
    );
    let ai = case("ai.png");
    assert!(ai.contains("declares AI-generated content (trainedAlgorithmicMedia), which the policy refuses"), "{ai}");
    assert_eq!(xml.matches("<failure").count(), 3);
    assert!(xml.contains(r#"tests="4" failures="3""#));
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let Some(python) = python() else { return };
    let Some(schema) = npm_file("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json") else { return };
    let delivery = Delivery::new(&python);
    let report = delivery.world.path("report.sarif");
    let out = delivery.check(&["--format", "sarif", "--out", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let validate = Std::new(&python)
        .args(["-c", "import json, sys, jsonschema; jsonschema.Draft4Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2]))); print('valid')"])
        .arg(&schema)
        .arg(&report)
        .output()
        .unwrap();
    assert!(validate.status.success(), "{}", String::from_utf8_lossy(&validate.stderr));
    let log: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let flagged: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap())
        .map(|uri| uri.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(flagged.into_iter().collect::<Vec<_>>(), ["ai.png", "tampered.jpg", "unsigned.jpg"]);
}

/// The card of `name` in a rendered page: from its `<article` to the next.
fn card_of<'a>(dom: &'a str, name: &str) -> &'a str {
    dom.split("<article class=\"card ").find(|card| card.contains(name)).unwrap_or_else(|| panic!("no card for {name}"))
}

/// "Bitcoin regtest block 12, 2 December 2026": a block and a date in words.
fn says_block_and_date(line: &str) -> bool {
    let Some(rest) = line.split("Bitcoin regtest block ").nth(1) else { return false };
    let Some((block, rest)) = rest.split_once(", ") else { return false };
    let date: Vec<&str> = rest.split(' ').take(3).collect();
    block.parse::<u64>().is_ok()
        && date.len() == 3
        && date[0].parse::<u8>().is_ok()
        && date[1].chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && date[2].starts_with("20")
}

#[test]
fn the_html_report_a_journalist_reads_renders_offline_with_a_card_per_file() {
    let Some(python) = python() else { return };
    let Some(chromium) =
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].iter().map(PathBuf::from).find(|p| p.is_file())
    else {
        skip("no chromium (run `make deps`)");
        return;
    };
    if std::env::var_os("ORT_DYLIB_PATH").is_none() {
        skip("no ONNX Runtime (run `make deps`): the report's detection cannot be drawn");
        return;
    }
    let delivery = Delivery::new(&python);
    // Beside the delivery's four photos: a video, a sound and a file named to break the page.
    std::fs::copy(fixture("models/redblue.mp4"), delivery.dir.join("clip.mp4")).unwrap();
    std::fs::copy(fixture("tone.wav"), delivery.dir.join("tone.wav")).unwrap();
    let hostile = "<img src=x onerror=alert(1)> & \"quoted\".jpg";
    std::fs::copy(fixture("photo.jpg"), delivery.dir.join(hostile)).unwrap();
    let report = delivery.world.path("report.html");
    let model = fixture("models/tiny-logit.toml");
    let out = delivery.check(&[
        "--detect",
        "--model",
        model.to_str().unwrap(),
        "--format",
        "html",
        "--out",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        !html.contains("<img src=x")
            && html.contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot;.jpg"),
        "the name is escaped"
    );

    let browse = |extra: &[String]| {
        let profile = tempfile::tempdir().unwrap();
        let out = Std::new(&chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
            .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(format!("file://{}", report.display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "chromium: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let net_log = delivery.world.path("net-log.json");
    let dom = browse(&["--dump-dom".into(), format!("--log-net-log={}", net_log.display())]);

    // The summary first: the counts, then every file that failed, linked to its card.
    let (summary, cards) = dom.split_once("</section>").unwrap();
    assert!(summary.contains("7 file(s): 0 pass, 1 warn, 6 fail, 0 skipped"), "{summary}");
    let failed: Vec<&str> = dom.split("data-verdict=\"").skip(1).map(|v| &v[..v.find('"').unwrap()]).collect();
    assert_eq!(failed.len(), 7, "one card per file: {failed:?}");
    let first_pass = failed.iter().position(|v| *v != "fail").unwrap_or(failed.len());
    assert!(failed[first_pass..].iter().all(|v| *v != "fail"), "failures come first: {failed:?}");
    for name in ["unsigned.jpg", "tampered.jpg", "ai.png", "clip.mp4"] {
        let card = card_of(cards, name);
        let id = card.split("id=\"").nth(1).map(|r| &r[..r.find('"').unwrap()]).unwrap();
        assert!(summary.contains(&format!("<a href=\"#{id}\">")), "{name} ({id}) is listed in the summary");
    }

    // One card per file, each with what vouch learned, in words.
    let good = card_of(cards, "good.jpg");
    assert!(good.contains("<dd class=\"credentials\">trusted</dd>"), "{good}");
    assert!(good.contains(", local trust anchor"), "which trust list vouched: {good}");
    let anchor = good.split("<dd class=\"anchors\"><ul><li>").nth(1).unwrap();
    assert!(anchor.starts_with("confirmed: Bitcoin regtest block ") && says_block_and_date(anchor), "{anchor}");
    assert!(anchor.contains("(OpenTimestamps)"), "{anchor}");
    let tampered = card_of(cards, "tampered.jpg");
    assert!(tampered.contains("invalid: the image data changed after it was signed"), "{tampered}");
    assert!(tampered.contains("<dd class=\"anchors\"><ul><li>invalid"), "{tampered}");
    let ai = card_of(cards, "ai.png");
    assert!(
        ai.contains("<span class=\"badge declared\">declares AI-generated content (trainedAlgorithmicMedia)</span>"),
        "{ai}"
    );
    // Detection: a bar for a still, the timeline for a video, a legend for both, never a finding.
    for name in ["good.jpg", "ai.png", "unsigned.jpg"] {
        let card = card_of(cards, name);
        assert!(
            card.contains("<svg class=\"score\"")
                && card.contains("A score is a signal for a person to weigh, not a finding."),
            "{name}: {card}"
        );
        assert!(card.contains("model tiny-logit"), "{name}: {card}");
    }
    let clip = card_of(cards, "clip.mp4");
    assert!(clip.contains("<svg class=\"timeline\"") && clip.contains("dashed red line"), "{clip}");
    // Thumbnails inline: a still, a poster frame for the video, a placeholder that says why.
    assert!(clip.contains("<img alt=\"\"") && clip.contains("class=\"caption\">frame at "), "{clip}");
    assert!(card_of(cards, "tone.wav").contains("no preview: no picture to show (audio)"));
    let pictures: Vec<&str> = dom.split("<img ").skip(1).collect();
    assert_eq!(pictures.len(), 6, "five stills and a poster frame");
    assert!(pictures.iter().all(|p| p.contains("src=\"data:image/jpeg;base64,")), "only inline pictures");
    assert!(card_of(cards, "onerror").contains("&lt;img src=x onerror=alert(1)&gt;"), "the hostile name is text");

    // No request leaves the page. The browser's own background requests
    // (updates, accounts) have no initiating origin; the page's would.
    let log: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&net_log).unwrap()).unwrap();
    let start_job = &log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"];
    assert!(start_job.is_u64(), "the net log names its event types");
    let page_requests: Vec<&str> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| &e["type"] == start_job && e["params"]["initiator"] != "not an origin")
        .filter_map(|e| e["params"]["url"].as_str())
        .filter(|url| !url.starts_with("file:") && !url.starts_with("data:"))
        .collect();
    assert!(page_requests.is_empty(), "the page requested {page_requests:?}");

    // The screenshot is kept for people to look at.
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("check-report.png");
    browse(&[format!("--screenshot={}", shot.display()), "--window-size=1280,2400".into()]);
    let image = image::open(&shot).expect("a screenshot");
    assert_eq!((image.width(), image.height()), (1280, 2400));
    std::fs::copy(&report, artifacts.join("check-report.html")).unwrap();
    eprintln!("screenshot of the HTML report: {}", shot.display());
}

#[test]
fn four_shards_cover_a_thousand_files_exactly_once() {
    let world = World::new();
    let dir = world.path("archive");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..1000 {
        std::fs::write(dir.join(format!("doc-{i:04}.txt")), format!("{i}")).unwrap();
    }
    let mut seen: Vec<String> = Vec::new();
    for shard in 0..4 {
        let out =
            world.vouch().arg("check").arg(&dir).args(["--format", "json", "--shard", &format!("{shard}/4")]).output();
        let records = json_lines(&out.unwrap().stdout);
        assert!(records.len() > 150 && records.len() < 350, "shard {shard} holds {}", records.len());
        seen.extend(records.iter().map(|r| r["path"].as_str().unwrap().to_string()));
    }
    let total = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!((total, seen.len()), (1000, 1000), "every file once, none twice");
    world.vouch().arg("check").arg(&dir).args(["--shard", "4/4"]).assert().code(2);
}

#[test]
fn an_interrupted_run_resumes_without_repeating_or_losing_a_file() {
    let world = World::new();
    let dir = world.path("archive");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..50 {
        std::fs::write(dir.join(format!("doc-{i:02}.txt")), format!("{i}")).unwrap();
    }
    let full = json_lines(&world.vouch().arg("check").arg(&dir).args(["--format", "json"]).output().unwrap().stdout);
    // What a run killed after 20 files leaves: 20 records and a torn line.
    let out = world.path("out.jsonl");
    let mut partial: String = full[..20].iter().map(|r| format!("{r}\n")).collect();
    partial.push_str(&full[20].to_string()[..30]);
    std::fs::write(&out, partial).unwrap();

    world.vouch().arg("check").arg(&dir).arg("--resume").arg(&out).assert().success();
    let records = json_lines(&std::fs::read(&out).unwrap());
    let mut paths: Vec<&str> = records.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), 50);
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 50);
    // Nothing left to do on a second resume.
    world.vouch().arg("check").arg(&dir).arg("--resume").arg(&out).assert().success();
    assert_eq!(json_lines(&std::fs::read(&out).unwrap()).len(), 50);
}

#[test]
fn a_broken_policy_is_a_clear_error() {
    let world = World::new();
    let policy = world.path("typo.toml");
    std::fs::write(&policy, "require_c2pa = \"trustd\"\n").unwrap();
    world
        .vouch()
        .arg("check")
        .arg(fixture("photo.jpg"))
        .arg("--policy")
        .arg(&policy)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("typo.toml: require_c2pa = \"trustd\": unknown variant `trustd`"));
}

#[test]
fn a_root_the_policy_names_makes_that_newsroom_s_photos_trusted() {
    // The newsroom signs; the desk that checks has no identity of its own
    // and knows the newsroom's root only through the policy.
    let newsroom = World::with_identity();
    let photo = newsroom.signed("photo.jpg");
    let desk = World::new();
    let policy = desk.path("newsroom.toml");
    let check = |text: String| {
        std::fs::write(&policy, text).unwrap();
        let out = desk.vouch().arg("check").arg(&photo).arg("--policy").arg(&policy).arg("--json").output().unwrap();
        (out.status.code(), json_lines(&out.stdout).remove(0))
    };
    let root = newsroom.root_pem().display().to_string();
    let (code, record) = check(format!("require_c2pa = \"trusted\"\ntrusted_roots = [\"{root}\"]\n"));
    assert_eq!((code, &record["verdict"], &record["c2pa"]["state"]), (Some(0), &"pass".into(), &"trusted".into()));
    // Without the root the same photo is only valid, which the policy refuses.
    let (code, record) = check("require_c2pa = \"trusted\"\n".into());
    assert_eq!((code, &record["verdict"], &record["c2pa"]["state"]), (Some(1), &"fail".into(), &"valid".into()));
}

#[test]
fn a_policy_with_a_synthetic_ceiling_runs_the_detector_and_fails_what_scores_above_it() {
    if std::env::var_os("ORT_DYLIB_PATH").is_none()
        && !Path::new(env!("CARGO_MANIFEST_DIR")).join(".deps/onnxruntime").is_dir()
    {
        skip("no ONNX Runtime (run `make deps`)");
        return;
    }
    let world = World::new();
    let dir = world.path("frames");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["red.png", "blue.png", "redblue.mp4"] {
        std::fs::copy(fixture(&format!("models/{name}")), dir.join(name)).unwrap();
    }
    let policy = world.path("ceiling.toml");
    std::fs::write(&policy, "max_synthetic_score = 0.5\n").unwrap();
    let model = fixture("models/tiny-logit.toml");
    let out = world
        .vouch()
        .arg("check")
        .arg(&dir)
        .arg("--policy")
        .arg(&policy)
        .arg("--model")
        .arg(&model)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let records = json_lines(&out.stdout);
    let by_name = |name: &str| records.iter().find(|r| r["path"].as_str().unwrap().ends_with(name)).unwrap().clone();
    let red = by_name("red.png");
    assert_eq!(red["verdict"], "fail");
    assert_eq!(red["reasons"][0]["rule"], "synthetic");
    assert!((red["detection"]["score"].as_f64().unwrap() - 0.731059).abs() < 1e-4, "{red}");
    assert_eq!(by_name("blue.png")["verdict"], "pass");
    // Half red, half blue: the file score (top frames) is red's.
    assert_eq!(by_name("redblue.mp4")["verdict"], "fail");

    // The HTML report draws the video's timeline and a bar for each still.
    let report = world.path("report.html");
    world
        .vouch()
        .arg("check")
        .arg(&dir)
        .arg("--detect")
        .arg("--model")
        .arg(&model)
        .args(["--format", "html", "--out"])
        .arg(&report)
        .assert()
        .code(1);
    let html = std::fs::read_to_string(&report).unwrap();
    assert_eq!(html.matches("<svg class=\"timeline\"").count(), 1, "one timeline, the video's");
    assert_eq!(html.matches("<svg class=\"score\"").count(), 2, "one bar per still");
    // The line drawn is the one that decided: tiny-logit flags at 0.5 + 0.1,
    // so the dashed line sits at y = 60 - 0.6 * 60 = 24, and the bar's mark at x = 0.6 * 320 = 192.
    assert!(html.contains("y1=\"24.0\""), "the model's flag line");
    assert_eq!(html.matches("<line x1=\"192.0\"").count(), 2, "the model's flag mark on each bar");
    let out = world
        .vouch()
        .arg("check")
        .arg(&dir)
        .arg("--policy")
        .arg(&policy)
        .arg("--model")
        .arg(&model)
        .args(["--format", "html", "--out"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let html = std::fs::read_to_string(&report).unwrap();
    // The policy's 0.5 decided: y = 30, x = 160.
    assert!(html.contains("y1=\"30.0\"") && !html.contains("y1=\"24.0\""), "the policy's line");
    assert_eq!(html.matches("<line x1=\"160.0\"").count(), 2, "the policy's mark on each bar");
}

fn record_for<'a>(records: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    records.iter().find(|r| r["path"].as_str().unwrap().ends_with(name)).unwrap_or_else(|| panic!("{name}"))
}

fn rules(record: &serde_json::Value) -> Vec<(String, String)> {
    record["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["rule"].as_str().unwrap().to_string(), r["verdict"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn check_reads_declared_ai_origin_without_a_model() {
    let world = World::new();
    if declared_files(&world).is_none() {
        return;
    }
    let dir = world.path("declared");
    let out = world.vouch().arg("check").arg(&dir).args(["--format", "json"]).output().unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let records = json_lines(&out.stdout);
    for name in ["ai-sd-parameters.png", "ai-xmp.jpg", "ai-exif-usercomment.jpg", "ai-comfyui.png"] {
        let record = record_for(&records, name);
        assert!(record["declared"].as_array().is_some_and(|d| !d.is_empty()), "{record}");
        assert!(rules(record).contains(&("declared".into(), "warn".into())), "{record}");
        assert!(record.get("detection").is_none(), "no model ran");
    }
    for name in ["camera-capture.jpg", "camera-edited.jpg", "camera-notes.png"] {
        let record = record_for(&records, name);
        assert!(record.get("declared").is_none(), "{record}");
        assert!(!rules(record).iter().any(|(rule, _)| rule == "declared"), "{record}");
    }

    // A policy that refuses AI source types refuses them in XMP too.
    let policy = world.path("news.toml");
    std::fs::write(&policy, "refused_source_types = [\"trainedAlgorithmicMedia\"]\n").unwrap();
    let out = world
        .vouch()
        .arg("check")
        .arg(dir.join("ai-xmp.jpg"))
        .arg(dir.join("camera-capture.jpg"))
        .arg("--policy")
        .arg(&policy)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let records = json_lines(&out.stdout);
    assert_eq!(record_for(&records, "ai-xmp.jpg")["verdict"], "fail");
    assert!(rules(record_for(&records, "ai-xmp.jpg")).contains(&("declared".into(), "fail".into())));
    assert_eq!(record_for(&records, "camera-capture.jpg")["verdict"], "pass");
}

#[test]
fn check_detect_uses_detect_labels_and_fails_declared_origin() {
    let world = World::new();
    if declared_files(&world).is_none() {
        return;
    }
    let dir = world.path("declared");
    for name in ["red.png", "grey.png"] {
        std::fs::copy(fixture(&format!("models/{name}")), dir.join(name)).unwrap();
    }
    let out = world
        .vouch()
        .arg("check")
        .arg(&dir)
        .args(["--detect", "--format", "json", "--model"])
        .arg(fixture("models/tiny-logit.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let records = json_lines(&out.stdout);
    // Flagged at the model's own line (0.5 + 0.1): red fails, grey warns.
    let red = record_for(&records, "red.png");
    assert_eq!(red["verdict"], "fail");
    assert_eq!(red["detection"]["verdict"], "flagged");
    let message = red["reasons"].to_string();
    assert!(message.contains("flagged by tiny-logit") && message.contains("0.600"), "{message}");
    let grey = record_for(&records, "grey.png");
    assert_eq!(grey["detection"]["verdict"], "inconclusive");
    assert!(rules(grey).contains(&("synthetic".into(), "warn".into())), "{grey}");
    // A declaration fails whatever the model scores (0.269 here).
    let sd = record_for(&records, "ai-sd-parameters.png");
    assert_eq!(sd["detection"]["verdict"], "declared_synthetic");
    assert_eq!(sd["verdict"], "fail");
    assert!(rules(sd).contains(&("synthetic".into(), "fail".into())), "{sd}");
    assert!(!rules(sd).iter().any(|(rule, _)| rule == "declared"), "judged once, under synthetic: {sd}");
    let camera = record_for(&records, "camera-capture.jpg");
    assert_eq!(camera["detection"]["verdict"], "not_flagged");
    assert!(!rules(camera).iter().any(|(rule, _)| rule == "synthetic"), "{camera}");

    // A policy that allows the declared source type lets it through.
    let policy = world.path("art.toml");
    std::fs::write(&policy, "allowed_source_types = [\"compositeSynthetic\", \"digitalCapture\"]\n").unwrap();
    let out = world
        .vouch()
        .arg("check")
        .arg(dir.join("ai-xmp-composite.png"))
        .arg("--policy")
        .arg(&policy)
        .args(["--detect", "--format", "json", "--model"])
        .arg(fixture("models/tiny-logit.toml"))
        .output()
        .unwrap();
    let record = &json_lines(&out.stdout)[0];
    assert!(!rules(record).iter().any(|(_, v)| v == "fail"), "{record}");
}
