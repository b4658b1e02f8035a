//! `vouch report` merges the JSON Lines records of `check` runs (the shards
//! of one archive) into one report, and refuses what is not vouch records.

mod common;

use std::path::PathBuf;

use common::*;

const PASS: &str = r#"{"path":"a/ok.jpg","c2pa":{"state":"trusted","signer":"Alice","issuer":"Planet"},"anchors":[],"verdict":"pass","reasons":[]}"#;
const WARN: &str = r#"{"path":"a/note.txt","c2pa":null,"anchors":[],"verdict":"warn","reasons":[{"rule":"c2pa","verdict":"warn","message":"no Content Credentials"}]}"#;
const FAIL: &str = r#"{"path":"b/bad <x>.jpg","c2pa":{"state":"invalid"},"anchors":[],"verdict":"fail","reasons":[{"rule":"c2pa","verdict":"fail","message":"Content Credentials are invalid (assertion.dataHash.mismatch)"}]}"#;
const SKIP: &str = r#"{"path":"b/gone.jpg","skipped":"dangling link"}"#;

fn shards(world: &World, shards: &[&[&str]]) -> Vec<PathBuf> {
    shards
        .iter()
        .enumerate()
        .map(|(i, lines)| {
            let path = world.path(&format!("shard-{i}.jsonl"));
            std::fs::write(&path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
            path
        })
        .collect()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn shards_merge_into_one_report_whose_exit_code_follows_the_verdicts() {
    let world = World::new();
    let files = shards(&world, &[&[PASS, WARN], &[FAIL, SKIP]]);
    let out = world.vouch().arg("report").args(&files).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "a failing file fails the report");
    assert!(stderr(&out).contains("4 file(s): 1 pass, 1 warn, 1 fail, 1 skipped"), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("PASS  a/ok.jpg  signed by Alice"), "{text}");
    assert!(text.contains("FAIL  b/bad <x>.jpg\n      c2pa: Content Credentials are invalid"), "{text}");
    assert!(text.contains("SKIP  b/gone.jpg  (dangling link)"), "{text}");

    // JSON Lines: the records as written, one per file.
    let out = world.vouch().arg("report").args(&files).args(["--format", "json"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{PASS}\n{WARN}\n{FAIL}\n{SKIP}\n"));

    // Without the failing shard, warnings pass.
    let out = world.vouch().arg("report").arg(&files[0]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn junit_sarif_and_html_render_merged_records() {
    let world = World::new();
    let files = shards(&world, &[&[PASS, WARN], &[FAIL, SKIP]]);
    let junit = world.path("r.xml");
    let out = world.vouch().arg("report").args(&files).args(["--format", "junit", "-o"]).arg(&junit).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(r#"tests="4" failures="1" errors="0""#), "{xml}");
    assert!(
        xml.contains(r#"name="b/bad &lt;x&gt;.jpg""#) && xml.contains("<skipped message=\"dangling link\""),
        "{xml}"
    );

    let out = world.vouch().arg("report").args(&files).args(["--format", "sarif"]).output().unwrap();
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "one result per reason");
    assert_eq!(results[0]["level"], "warning");
    assert_eq!(results[1]["ruleId"], "c2pa");

    let out = world.vouch().arg("report").args(&files).args(["--format", "html"]).output().unwrap();
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(html.contains("bad &lt;x&gt;.jpg") && !html.contains("bad <x>"), "paths are escaped");
    assert!(html.contains("<dd class=\"signer\">Alice (issuer Planet)</dd>"), "signer shown");
    assert!(html.contains("<dd class=\"credentials\">trusted</dd>"), "verdict in words");
}

/// The merged HTML report reads as the journalist's page: failures first
/// and named in the summary, anchors and detection in words, skipped files
/// said, a file that is not there pictured by a placeholder that says so.
#[test]
fn the_merged_html_report_puts_failures_first_and_says_anchors_in_words() {
    let world = World::new();
    let anchored = r#"{"path":"a/anchored.jpg","c2pa":null,"anchors":[{"kind":"ots","state":"confirmed","chain":"bitcoin","block":358391,"block_hash":null,"time":"2015-05-28T15:41:18Z","reason":null,"receipt":"a/anchored.jpg.ots"},{"kind":"evm","state":"confirmed","chain":"eip155:31337","block":12,"block_hash":null,"time":"2026-12-02T05:00:00Z","reason":null,"receipt":"a/anchored.jpg.anchor.json","confirmations":3},{"kind":"ots","state":"pending","chain":null,"block":null,"block_hash":null,"time":null,"reason":"waiting for a calendar","receipt":"x"}],"verdict":"pass","reasons":[]}"#;
    let flagged = r#"{"path":"v.mp4","verdict":"flagged","score":0.97,"threshold":0.5,"margin":0.1,"model":"m","kind":"video","frames":[{"index":0,"time_s":0.0,"score":0.97,"faces":null},{"index":1,"time_s":0.5,"score":0.2,"faces":null}],"segments":[]}"#;
    let files = shards(&world, &[&[PASS, anchored, WARN], &[FAIL, SKIP, flagged]]);
    let out = world.vouch().arg("report").args(&files).args(["--format", "html"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let html = String::from_utf8_lossy(&out.stdout);
    let (summary, cards) = html.split_once("</section>").unwrap();
    assert!(summary.contains("6 file(s): 2 pass, 1 warn, 2 fail, 1 skipped"), "{summary}");
    let verdicts: Vec<&str> = cards.split("data-verdict=\"").skip(1).map(|v| &v[..v.find('"').unwrap()]).collect();
    assert_eq!(verdicts, ["fail", "fail", "warn", "pass", "pass"], "failures first, then warnings, then passes");
    for (id, name) in [(4, "b/bad &lt;x&gt;.jpg"), (5, "v.mp4")] {
        assert!(summary.contains(&format!("<li><a href=\"#file-{id}\"><code>{name}</code></a>: ")), "{summary}");
    }
    assert!(
        summary
            .contains("b/bad &lt;x&gt;.jpg</code></a>: Content Credentials are invalid (assertion.dataHash.mismatch)"),
        "each failure with its reason: {summary}"
    );
    assert!(html.contains("<li>confirmed: Bitcoin block 358391, 28 May 2015 (OpenTimestamps)</li>"), "{html}");
    assert!(
        html.contains(
            "<li>confirmed: Ethereum chain 31337 block 12, 2 December 2026 (EVM transaction, 3 confirmation(s))</li>"
        ),
        "{html}"
    );
    assert!(html.contains("<li>pending (OpenTimestamps): waiting for a calendar</li>"), "{html}");
    // The detect record's timeline, its flag line at 0.6 (y = 60 - 36), and its legend.
    let video = cards.split("<article").find(|c| c.contains("v.mp4")).unwrap();
    assert!(video.contains("<svg class=\"timeline\"") && video.contains("y1=\"24.0\""), "{video}");
    assert!(video.contains("detection: flagged, score 0.970 (threshold 0.50, model m)"), "{video}");
    assert!(video.contains("not a finding"), "{video}");
    assert!(
        cards.contains("<section id=\"skipped\">") && cards.contains("<code>b/gone.jpg</code>: dangling link"),
        "skipped said"
    );
    // The records name files that are not on this machine: each card says so instead of a picture.
    let placeholder = video.split("<div class=\"placeholder\">").nth(1).unwrap();
    assert!(placeholder.starts_with("no preview: ") && placeholder.contains("No such file"), "{placeholder}");
}

#[test]
fn a_file_that_is_not_vouch_records_is_refused_naming_file_and_line() {
    let world = World::new();
    for (bad, why) in [
        ("this is not JSON", "expected"),
        (r#"{"name":"x","verdict":"pass","reasons":[]}"#, "no \"path\""),
        (r#"{"path":"x"}"#, "no \"verdict\""),
        // A record that says pass over a failing reason was not written by vouch.
        (r#"{"path":"x","verdict":"pass","reasons":[{"rule":"c2pa","verdict":"fail","message":"m"}]}"#, "worst reason"),
        (
            r#"{"path":"x","verdict":"pass","reasons":[{"rule":"anchor","verdict":"warn","message":"m"}]}"#,
            "worst reason",
        ),
    ] {
        let files = shards(&world, &[&[PASS], &[WARN, bad, FAIL]]);
        let out = world.vouch().arg("report").args(&files).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = stderr(&out);
        assert!(err.contains(&format!("{}: line 2: not a vouch JSON record", files[1].display())), "{err}");
        assert!(err.contains(why), "{err}");
        assert!(out.stdout.is_empty(), "nothing rendered from a set with a bad file");
    }
    let out = world.vouch().arg("report").arg(world.path("missing.jsonl")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.jsonl"), "{}", stderr(&out));
}

#[test]
fn a_path_in_two_shards_is_reported_and_counted_once() {
    let world = World::new();
    let files = shards(&world, &[&[PASS, WARN], &[PASS, FAIL]]);
    let out = world.vouch().arg("report").args(&files).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "overlapping shards are an error");
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "a/ok.jpg: recorded twice, in {} line 1 and in {} line 1",
            files[0].display(),
            files[1].display()
        )),
        "{err}"
    );
    assert!(err.contains("3 file(s): 1 pass, 1 warn, 1 fail"), "{err}");
    // The same file named twice is every path twice.
    let out = world.vouch().arg("report").arg(&files[0]).arg(&files[0]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("shard-0.jsonl: named twice"), "{}", stderr(&out));
}

#[test]
fn within_one_shard_a_rechecked_error_is_replaced_and_a_lone_error_stays_an_error() {
    let world = World::new();
    let error = r#"{"path":"a/ok.jpg","error":"a/ok.jpg: Input/output error"}"#;
    let files = shards(&world, &[&[error, WARN, PASS]]);
    let out = world.vouch().arg("report").args(&files).args(["--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{WARN}\n{PASS}\n"));
    let files = shards(&world, &[&[WARN, error]]);
    let out = world.vouch().arg("report").args(&files).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "a file that could not be checked");
    assert!(stderr(&out).contains(", 1 could not be checked"), "{}", stderr(&out));
}

#[test]
fn non_utf8_paths_that_render_alike_stay_two_files() {
    let world = World::new();
    let a = r#"{"path":"caf\ufffd.jpg","path_bytes":"Y2Fm6S5qcGc=","c2pa":null,"anchors":[],"verdict":"pass","reasons":[]}"#;
    let b = r#"{"path":"caf\ufffd.jpg","path_bytes":"Y2Fm6C5qcGc=","c2pa":null,"anchors":[],"verdict":"pass","reasons":[]}"#;
    let files = shards(&world, &[&[a], &[b]]);
    let out = world.vouch().arg("report").args(&files).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 file(s): 2 pass"), "{}", stderr(&out));
}

#[test]
fn detect_records_are_judged_as_detect_exits() {
    let world = World::new();
    let synthetic = r#"{"path":"v.mp4","verdict":"flagged","score":0.97,"frames":[{"index":0,"time_s":0.0,"score":0.97,"faces":null}],"segments":[]}"#;
    let authentic = r#"{"path":"w.mp4","verdict":"not_flagged","score":0.02,"frames":[],"segments":[]}"#;
    let files = shards(&world, &[&[synthetic, authentic]]);
    let out = world.vouch().arg("report").args(&files).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "synthetic fails, as `vouch detect` exits 1");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAIL  v.mp4\n      synthetic: the detector judged it flagged (score 0.970)"), "{text}");
    assert!(text.contains("PASS  w.mp4"), "{text}");
}
