//! `vouch check` reports: a text table, JUnit XML for CI systems and SARIF
//! 2.1.0 for code-scanning views. (JSON Lines is the record itself; HTML
//! lives in `html.rs`.)

use std::fmt::Write as _;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde_json::json;

use crate::check::{CheckRecord, Verdict};

/// Counts of a run, for summaries and report headers.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub errors: usize,
    /// Files under the named paths that were not checked (excluded by the
    /// policy, dangling links, special files): counted, never dropped.
    pub skipped: usize,
}

impl Tally {
    pub fn add(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Pass => self.pass += 1,
            Verdict::Warn => self.warn += 1,
            Verdict::Fail => self.fail += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.pass + self.warn + self.fail + self.errors + self.skipped
    }
}

/// One row per file: verdict, path, then the reasons. Colour only when asked
/// (a terminal without NO_COLOR).
pub fn check_text(record: &CheckRecord, colour: bool) -> String {
    // Who signed, and which anchor and list vouch for them.
    let signer = record.report.c2pa.as_ref().and_then(|c| {
        c.signer.as_deref().map(|s| match (c.trust_words(), c.time_evidence_words()) {
            (Some(words), Some(time)) => format!("{s} ({words}; {time})"),
            (Some(words), None) => format!("{s} ({words})"),
            _ => s.to_string(),
        })
    });
    let reasons = record.reasons.iter().map(|r| (r.rule, r.message.as_str()));
    let mut lines =
        record.report.c2pa.as_ref().map(|c| super::signal_lines(&c.signals, c.manifest.as_deref())).unwrap_or_default();
    if let Some(d) = &record.report.detection {
        lines.push(detection_line(d.verdict.as_str(), d.score.map(f64::from), f64::from(d.threshold), &d.model));
    }
    lines.extend(rubric_lines(&serde_json::to_value(&record.rubrics).unwrap_or_default()));
    verdict_text(record.verdict, &record.report.path.to_string_lossy(), signer.as_deref(), reasons, &lines, colour)
}

/// What the detector said, as a signal against its threshold: the label,
/// the score and the line the label was cut at, and which model.
fn detection_line(label: &str, score: Option<f64>, threshold: f64, model: &str) -> String {
    let score = score.map_or_else(|| "no frame scored".to_string(), |s| format!("score {s:.3}"));
    super::printable_str(&format!("detection: {label}, {score} (threshold {threshold:.2}, model {model})"))
}

/// The detection line of a record read back from JSON, if detection ran.
fn detection_of_value(value: &serde_json::Value) -> Option<String> {
    let d = value.get("detection").filter(|d| d.is_object())?;
    Some(detection_line(
        d.get("verdict")?.as_str()?,
        d.get("score").and_then(|s| s.as_f64()),
        d.get("threshold").and_then(|t| t.as_f64()).unwrap_or(0.5),
        d.get("model").and_then(|m| m.as_str()).unwrap_or("?"),
    ))
}

/// One line per rubric a record was judged with (`check --rubric`): how
/// many traits held, failed and warned (the failed ones are reasons), or,
/// for a signals rubric, each manifest's signals.
fn rubric_lines(rubrics: &serde_json::Value) -> Vec<String> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    rubrics
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let title = format!("rubric {} {}", text(&r["rubric"]), text(&r["version"]));
            let line = if r["not_evaluated"].is_string() {
                // Its reason already says so.
                return None;
            } else if let Some(manifests) = r["manifests"].as_array() {
                let each: Vec<String> = manifests
                    .iter()
                    .map(|m| {
                        let words: Vec<String> =
                            m["signals"].as_array().into_iter().flatten().map(|s| text(&s["report_text"])).collect();
                        if words.is_empty() {
                            "no signal".to_string()
                        } else {
                            words.join(", ")
                        }
                    })
                    .collect();
                format!("{title}: {} manifest(s): {}", manifests.len(), each.join("; "))
            } else {
                let traits = r["traits"].as_object();
                let count = |want: &serde_json::Value| traits.into_iter().flatten().filter(|(_, v)| *v == want).count();
                format!(
                    "{title}: {} traits, {} true, {} false, {} warnings",
                    traits.map_or(0, |t| t.len()),
                    count(&serde_json::Value::Bool(true)),
                    count(&serde_json::Value::Bool(false)),
                    count(&serde_json::json!("warning"))
                )
            };
            Some(super::printable_str(&line))
        })
        .collect()
}

/// The signals a record read back from JSON carries, in words.
fn signals_of_value(value: &serde_json::Value) -> Vec<String> {
    let signals: Vec<crate::provenance::signals::ManifestSignals> =
        value.pointer("/c2pa/signals").and_then(|s| serde_json::from_value(s.clone()).ok()).unwrap_or_default();
    super::signal_lines(&signals, value.pointer("/c2pa/manifest").and_then(|m| m.as_str()))
}

/// [`check_text`] for a record read back from JSON Lines (`vouch report`):
/// the verdict and reasons as the record states them.
pub fn record_text(
    value: &serde_json::Value,
    path: &str,
    verdict: Verdict,
    reasons: &[(String, Verdict, String)],
    colour: bool,
) -> String {
    let signer = value.pointer("/c2pa/signer").and_then(|s| s.as_str());
    let reasons = reasons.iter().map(|(rule, _, message)| (rule.as_str(), message.as_str()));
    let mut lines = signals_of_value(value);
    lines.extend(detection_of_value(value));
    lines.extend(rubric_lines(value.get("rubrics").unwrap_or(&serde_json::Value::Null)));
    verdict_text(verdict, path, signer, reasons, &lines, colour)
}

fn verdict_text<'a>(
    verdict: Verdict,
    path: &str,
    signer: Option<&str>,
    reasons: impl Iterator<Item = (&'a str, &'a str)>,
    signals: &[String],
    colour: bool,
) -> String {
    let word = verdict.as_str().to_uppercase();
    let word = if colour {
        let code = match verdict {
            Verdict::Pass => "32",
            Verdict::Warn => "33",
            Verdict::Fail => "1;31",
        };
        format!("\x1b[{code}m{word:<4}\x1b[0m")
    } else {
        format!("{word:<4}")
    };
    let mut line = format!("{word}  {}", super::printable_str(path));
    if let Some(signer) = signer {
        let _ = write!(line, "  signed by {}", super::printable_str(signer));
    }
    for (rule, message) in reasons {
        let _ = write!(line, "\n      {rule}: {}", super::printable_str(message));
    }
    for signals in signals {
        let _ = write!(line, "\n      {signals}");
    }
    line
}

pub fn tally_text(tally: &Tally) -> String {
    let mut line = format!(
        "{} file(s): {} pass, {} warn, {} fail, {} skipped",
        tally.total(),
        tally.pass,
        tally.warn,
        tally.fail,
        tally.skipped
    );
    if tally.errors > 0 {
        let _ = write!(line, ", {} could not be checked", tally.errors);
    }
    line
}

/// A row kept for the reports that need the whole run before writing
/// (JUnit counts, SARIF runs) or rendered as one card of the HTML report:
/// path, verdict, reasons, and for HTML what vouch learned, in words.
#[derive(Debug, Clone)]
pub struct Row {
    pub path: String,
    pub verdict: Option<Verdict>,
    /// `(rule, verdict, message)`; for an input that could not be checked,
    /// one `("error", Fail, message)`.
    pub reasons: Vec<(String, Verdict, String)>,
    /// For the HTML report: the credentials' verdict in words ("trusted",
    /// "valid — signer not in your trust lists", "invalid: the image data
    /// changed after it was signed", "no Content Credentials").
    pub credentials: Option<String>,
    /// For the HTML report: who signed ("Alice (issuer Planet) at …").
    pub signer: Option<String>,
    /// For the HTML report: which trust list vouched for the signer, the
    /// timestamp, and anchors standing in for one, one line each.
    pub trust: Vec<String>,
    /// For the HTML report: declarations of AI or synthetic origin, in the
    /// manifest's history and in the file's metadata.
    pub declared: Vec<String>,
    /// For the HTML report: the official provenance signals, in the rubric's words.
    pub signals: Vec<String>,
    /// For the HTML report: one line per anchor, in words.
    pub anchors: Vec<String>,
    /// For the HTML report: the detector's score against its line, when detection ran.
    pub detection: Option<DetectionView>,
    /// For the HTML report: the file's thumbnail, or why there is none
    /// (`None`: not asked for).
    pub thumbnail: Option<Result<crate::thumbnail::Thumbnail, String>>,
    /// For JUnit: why a file under the named paths was not checked.
    pub skipped: Option<String>,
}

/// What detection said about a file, for the HTML report.
#[derive(Debug, Clone)]
pub struct DetectionView {
    /// The line `check` prints: label, score, threshold, model.
    pub words: String,
    /// `flagged`, `inconclusive`, `not_flagged` or `declared_synthetic`.
    pub label: String,
    pub score: Option<f32>,
    /// The score line that decided: the policy's maximum, or the model's
    /// threshold + margin.
    pub flag_at: f32,
    /// A video's scores over time `(seconds, score)`; empty for a still.
    pub timeline: Vec<(f32, f32)>,
    pub video: bool,
}

/// A chain as people name it: `bitcoin` → Bitcoin, `eip155:31337` →
/// Ethereum chain 31337.
fn chain_words(chain: &str) -> String {
    match chain.strip_prefix("eip155:") {
        Some(id) => format!("Ethereum chain {id}"),
        None => match chain.split_once('-') {
            Some(("bitcoin", network)) => format!("Bitcoin {network}"),
            _ if chain == "bitcoin" => "Bitcoin".to_string(),
            _ => chain.to_string(),
        },
    }
}

/// An RFC 3339 time as a date people read ("28 May 2015"), or as given.
fn date_words(time: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(time)
        .map(|t| t.with_timezone(&chrono::Utc).format("%-d %B %Y").to_string())
        .unwrap_or_else(|_| time.to_string())
}

/// One anchor in words: "confirmed: Bitcoin block 358391, 28 May 2015
/// (OpenTimestamps)", "pending: …", "invalid: …".
#[allow(clippy::too_many_arguments)]
fn anchor_words(
    kind: &str,
    state: &str,
    chain: Option<&str>,
    block: Option<u64>,
    time: Option<&str>,
    confirmations: Option<u64>,
    reason: Option<&str>,
) -> String {
    let how = match kind {
        "ots" => "OpenTimestamps",
        "evm" => "EVM transaction",
        other => other,
    };
    let mut line = match state {
        "unverifiable" => "not checked".to_string(),
        other => other.to_string(),
    };
    match (chain, block) {
        (Some(chain), Some(block)) => {
            let _ = write!(line, ": {} block {block}", chain_words(chain));
            if let Some(time) = time {
                let _ = write!(line, ", {}", date_words(time));
            }
        }
        (Some(chain), None) => {
            let _ = write!(line, ": {}", chain_words(chain));
        }
        _ => {}
    }
    let _ = write!(line, " ({how}");
    if let Some(n) = confirmations {
        let _ = write!(line, ", {n} confirmation(s)");
    }
    line.push(')');
    if let Some(reason) = reason {
        let _ = write!(line, ": {reason}");
    }
    super::printable_str(&line)
}

/// The credentials' verdict, signer, trust and declarations of a C2PA
/// report, in the words text output uses.
struct CredentialWords {
    credentials: String,
    signer: Option<String>,
    trust: Vec<String>,
    declared: Vec<String>,
    signals: Vec<String>,
}

fn credential_words(c2pa: Option<&crate::provenance::C2paReport>, path: &std::path::Path) -> CredentialWords {
    use crate::provenance::{codes, C2paState};
    let Some(c) = c2pa else {
        return CredentialWords {
            credentials: "no C2PA support for this format".into(),
            signer: None,
            trust: Vec::new(),
            declared: Vec::new(),
            signals: Vec::new(),
        };
    };
    let others: Vec<String> = c.codes.iter().filter(|code| *code != codes::UNTRUSTED).cloned().collect();
    let credentials = match c.state {
        C2paState::Absent => "no Content Credentials".to_string(),
        C2paState::Trusted => "trusted".to_string(),
        C2paState::Valid if others.is_empty() => codes::VALID_WORDS.to_string(),
        C2paState::Valid => format!("{}; {}", codes::VALID_WORDS, codes::sentences_for(&others, path)),
        C2paState::Invalid if c.codes.is_empty() => "invalid".to_string(),
        C2paState::Invalid => format!("invalid: {}", codes::sentences_for(&c.codes, path)),
    };
    let signer = c.signer.as_ref().map(|who| {
        let mut who = who.clone();
        if let Some(issuer) = &c.issuer {
            let _ = write!(who, " (issuer {issuer})");
        }
        if let Some(at) = &c.signed_at {
            let _ = write!(who, " at {at}");
        }
        super::printable_str(&who)
    });
    let mut trust: Vec<String> = [c.trust_words(), c.timestamp_words(), c.time_evidence_words()]
        .into_iter()
        .flatten()
        .map(|w| super::printable_str(&w))
        .collect();
    if c.state == C2paState::Valid {
        trust.insert(0, codes::VALID_WORDS.to_string());
    }
    let mut declared = Vec::new();
    for (source, words) in c.synthetic_declarations() {
        let place = if c.manifest.as_deref() == Some(source.manifest.as_str()) { "" } else { " in its history" };
        let short = source.source_type.rsplit('/').next().unwrap_or(&source.source_type);
        let line = super::printable_str(&format!("declares {words} ({short}){place}"));
        if !declared.contains(&line) {
            declared.push(line);
        }
    }
    CredentialWords {
        credentials: super::printable_str(&credentials),
        signer,
        trust,
        declared,
        signals: super::signal_lines(&c.signals, c.manifest.as_deref()),
    }
}

/// A declaration of AI origin found in a file's metadata, in words.
fn metadata_declaration(source: &str, field: &str, value: &str) -> String {
    super::printable_str(&format!("declared in its {source} metadata: {field} = {value}"))
}

impl Row {
    pub fn from_record(record: &CheckRecord) -> Self {
        let report = &record.report;
        let words = credential_words(report.c2pa.as_ref(), &report.path);
        let mut declared = words.declared;
        declared.extend(
            report
                .declared
                .iter()
                .filter(|d| d.source != "c2pa")
                .map(|d| metadata_declaration(&d.source, &d.field, &d.value)),
        );
        let anchors = report
            .anchors
            .iter()
            .map(|a| {
                let state = serde_json::to_value(a.state).unwrap_or_default();
                anchor_words(
                    a.kind,
                    state.as_str().unwrap_or(""),
                    a.chain.as_deref(),
                    a.block,
                    a.time.as_deref(),
                    a.confirmations,
                    a.reason.as_deref(),
                )
            })
            .collect();
        let detection = report.detection.as_ref().map(|d| {
            let video = d.kind == crate::detect::decode::Kind::Video;
            DetectionView {
                words: detection_line(d.verdict.as_str(), d.score.map(f64::from), f64::from(d.threshold), &d.model),
                label: d.verdict.as_str().to_string(),
                score: d.score,
                // The line that decided: the policy's maximum or the model's own.
                flag_at: record.synthetic_line.unwrap_or(d.band().flag_at()),
                timeline: if video {
                    d.frames.iter().filter_map(|f| Some((f.time_s as f32, f.score?))).collect()
                } else {
                    Vec::new()
                },
                video,
            }
        });
        Self {
            path: super::printable(&report.path),
            verdict: Some(record.verdict),
            reasons: record
                .reasons
                .iter()
                .map(|r| (r.rule.to_string(), r.verdict, super::printable_str(&r.message)))
                .collect(),
            credentials: Some(words.credentials),
            signer: words.signer,
            trust: words.trust,
            declared,
            signals: words.signals,
            anchors,
            detection,
            thumbnail: None,
            skipped: None,
        }
    }

    /// A row from a record read back from JSON Lines (`vouch report`): the
    /// verdict and reasons as the record states them, the rest for show.
    pub fn from_value(
        value: &serde_json::Value,
        path: &str,
        verdict: Verdict,
        reasons: &[(String, Verdict, String)],
    ) -> Self {
        let text =
            |v: &serde_json::Value, pointer: &str| v.pointer(pointer).and_then(|s| s.as_str()).map(str::to_string);
        // The credentials as vouch wrote them; a record cut down by hand
        // keeps what it has: its state, signer and issuer.
        let c2pa = value.get("c2pa").filter(|c| c.is_object());
        let words = match c2pa.map(|c| serde_json::from_value::<crate::provenance::C2paReport>(c.clone())) {
            None => credential_words(None, std::path::Path::new(path)),
            Some(Ok(report)) => credential_words(Some(&report), std::path::Path::new(path)),
            Some(Err(_)) => {
                let state = text(value, "/c2pa/state").unwrap_or_default();
                let signer = text(value, "/c2pa/signer").map(|mut who| {
                    if let Some(issuer) = text(value, "/c2pa/issuer") {
                        let _ = write!(who, " (issuer {issuer})");
                    }
                    super::printable_str(&who)
                });
                CredentialWords {
                    credentials: super::printable_str(if state == "absent" {
                        "no Content Credentials"
                    } else {
                        &state
                    }),
                    signer,
                    trust: Vec::new(),
                    declared: Vec::new(),
                    signals: signals_of_value(value),
                }
            }
        };
        let mut declared = words.declared;
        for d in value.get("declared").and_then(|d| d.as_array()).into_iter().flatten() {
            let field = |name: &str| d.get(name).and_then(|v| v.as_str()).unwrap_or("");
            if field("source") != "c2pa" {
                declared.push(metadata_declaration(field("source"), field("field"), field("value")));
            }
        }
        let anchors = value
            .get("anchors")
            .and_then(|a| a.as_array())
            .map(|list| {
                list.iter()
                    .map(|a| {
                        anchor_words(
                            &text(a, "/kind").unwrap_or_default(),
                            &text(a, "/state").unwrap_or_default(),
                            text(a, "/chain").as_deref(),
                            a.get("block").and_then(|b| b.as_u64()),
                            text(a, "/time").as_deref(),
                            a.get("confirmations").and_then(|c| c.as_u64()),
                            text(a, "/reason").as_deref(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        // A check record carries its detection under `detection`; a detect
        // record is one.
        let detection_value = value.get("detection").filter(|d| d.is_object()).unwrap_or(value);
        let detection = detection_value
            .get("verdict")
            .and_then(|v| v.as_str())
            .filter(|_| detection_value.get("frames").is_some() || detection_value.get("score").is_some());
        let detection = detection.map(|label| {
            let number = |name: &str| detection_value.get(name).and_then(|t| t.as_f64());
            let threshold = number("threshold").unwrap_or(0.5);
            let video = text(detection_value, "/kind").as_deref() == Some("video")
                || (text(detection_value, "/kind").is_none()
                    && crate::detect::decode::Kind::of(std::path::Path::new(path))
                        == crate::detect::decode::Kind::Video);
            let timeline = detection_value
                .get("frames")
                .and_then(|f| f.as_array())
                .filter(|_| video)
                .map(|frames| {
                    frames
                        .iter()
                        .filter_map(|f| Some((f.get("time_s")?.as_f64()? as f32, f.get("score")?.as_f64()? as f32)))
                        .collect()
                })
                .unwrap_or_default();
            DetectionView {
                words: detection_line(
                    label,
                    number("score"),
                    threshold,
                    detection_value.get("model").and_then(|m| m.as_str()).unwrap_or("?"),
                ),
                label: label.to_string(),
                score: number("score").map(|s| s as f32),
                flag_at: (threshold + number("margin").unwrap_or(0.0)) as f32,
                timeline,
                video,
            }
        });
        Self {
            path: super::printable_str(path),
            verdict: Some(verdict),
            reasons: reasons.iter().map(|(rule, v, m)| (rule.clone(), *v, super::printable_str(m))).collect(),
            // A check record always has `c2pa` (null for a format C2PA cannot
            // carry); a detect record has none.
            credentials: value.get("c2pa").map(|_| words.credentials),
            signer: words.signer,
            trust: words.trust,
            declared,
            signals: words.signals,
            anchors,
            detection,
            thumbnail: None,
            skipped: None,
        }
    }

    /// A file that was not checked, and why.
    pub fn from_skip(path: &std::path::Path, why: &str) -> Self {
        Self {
            skipped: Some(why.to_string()),
            verdict: Some(Verdict::Pass),
            reasons: Vec::new(),
            ..Self::from_error(path, why)
        }
    }

    pub fn from_error(path: &std::path::Path, message: &str) -> Self {
        Self {
            path: super::printable(path),
            verdict: None,
            reasons: vec![("error".into(), Verdict::Fail, super::printable_str(message))],
            credentials: None,
            signer: None,
            trust: Vec::new(),
            declared: Vec::new(),
            signals: Vec::new(),
            anchors: Vec::new(),
            detection: None,
            thumbnail: None,
            skipped: None,
        }
    }
}

/// JUnit XML: one test case per file; failing files carry a `<failure>`
/// with every reason, files that could not be checked an `<error>`.
pub fn junit(rows: &[Row], tally: &Tally) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    let failures = tally.fail.to_string();
    let errors = tally.errors.to_string();
    let tests = tally.total().to_string();
    let skipped = tally.skipped.to_string();
    let write = |writer: &mut Writer<Vec<u8>>, event: Event| writer.write_event(event).expect("writing to memory");
    write(&mut writer, Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let suites = BytesStart::new("testsuites").with_attributes([
        ("name", "vouch check"),
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", errors.as_str()),
    ]);
    write(&mut writer, Event::Start(suites));
    let suite = BytesStart::new("testsuite").with_attributes([
        ("name", "vouch check"),
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", errors.as_str()),
        ("skipped", skipped.as_str()),
    ]);
    write(&mut writer, Event::Start(suite));
    for row in rows {
        let case =
            BytesStart::new("testcase").with_attributes([("classname", "vouch.check"), ("name", row.path.as_str())]);
        if let Some(why) = &row.skipped {
            write(&mut writer, Event::Start(case));
            write(&mut writer, Event::Empty(BytesStart::new("skipped").with_attributes([("message", why.as_str())])));
            write(&mut writer, Event::End(BytesEnd::new("testcase")));
            continue;
        }
        let problem = match row.verdict {
            Some(Verdict::Fail) => Some("failure"),
            None => Some("error"),
            _ => None,
        };
        let detail: Vec<String> =
            row.reasons.iter().map(|(rule, v, m)| format!("[{}] {rule}: {m}", v.as_str())).collect();
        match problem {
            Some(tag) => {
                write(&mut writer, Event::Start(case));
                let message: Vec<&str> =
                    row.reasons.iter().filter(|(_, v, _)| *v == Verdict::Fail).map(|(_, _, m)| m.as_str()).collect();
                let message = message.join("; ");
                let element = BytesStart::new(tag).with_attributes([("message", message.as_str()), ("type", "vouch")]);
                write(&mut writer, Event::Start(element));
                write(&mut writer, Event::Text(BytesText::new(&detail.join("\n"))));
                write(&mut writer, Event::End(BytesEnd::new(tag)));
                write(&mut writer, Event::End(BytesEnd::new("testcase")));
            }
            None if !detail.is_empty() => {
                // Warnings pass but stay visible in CI logs.
                write(&mut writer, Event::Start(case));
                write(&mut writer, Event::Start(BytesStart::new("system-out")));
                write(&mut writer, Event::Text(BytesText::new(&detail.join("\n"))));
                write(&mut writer, Event::End(BytesEnd::new("system-out")));
                write(&mut writer, Event::End(BytesEnd::new("testcase")));
            }
            None => write(&mut writer, Event::Empty(case)),
        }
    }
    write(&mut writer, Event::End(BytesEnd::new("testsuite")));
    write(&mut writer, Event::End(BytesEnd::new("testsuites")));
    let mut xml = String::from_utf8(writer.into_inner()).expect("quick-xml writes UTF-8");
    xml.push('\n');
    xml
}

/// The rules `vouch check` applies, as SARIF reporting descriptors.
const RULES: &[(&str, &str)] = &[
    ("c2pa", "Content Credentials must be present, intact and signed as the policy requires"),
    ("signer", "The signing certificate must be one the policy allows"),
    ("source-type", "Every digital source type declared in the file's history must be allowed by the policy"),
    ("ingredient", "No manifest in the file's history may have been invalid when it was used"),
    ("anchor", "Anchors must be true and, where required, confirmed on chain"),
    ("declared", "The file's metadata must not declare AI origin the policy does not allow"),
    (
        "signal",
        "No manifest in the file's history may show a C2PA provenance signal the policy refuses, and some must show \
         each one it requires",
    ),
    (
        "synthetic",
        "The detector must not flag the file (or its score exceed the policy's maximum), and the file must not \
         declare AI origin",
    ),
    (
        "rubric",
        "No trait of a C2PA asset rubric given with --rubric may be false (a warning trait warns), and each rubric \
         must be evaluated",
    ),
    ("error", "The file could be read and checked"),
];

/// SARIF 2.1.0: one run, one result per reason (errors for failures,
/// warnings for warnings), located at the file.
pub fn sarif(rows: &[Row]) -> String {
    let rules: Vec<_> =
        RULES.iter().map(|(id, text)| json!({"id": id, "name": id, "shortDescription": {"text": text}})).collect();
    let results: Vec<_> = rows
        .iter()
        .flat_map(|row| {
            row.reasons.iter().map(move |(rule, verdict, message)| {
                let index = RULES.iter().position(|(id, _)| id == rule).unwrap_or(RULES.len() - 1);
                json!({
                    "ruleId": rule,
                    "ruleIndex": index,
                    "level": if *verdict == Verdict::Fail { "error" } else { "warning" },
                    "message": {"text": message},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(&row.path)}}}],
                })
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "vouch",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://c2pa.org/",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).expect("SARIF serialises");
    text.push('\n');
    text
}

/// A relative URI reference for a path: separators as `/`, the rest
/// percent-encoded where URIs need it.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.replace('\\', "/").bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(byte as char),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> (Vec<Row>, Tally) {
        let rows = vec![
            Row {
                verdict: Some(Verdict::Pass),
                reasons: vec![],
                ..Row::from_error(std::path::Path::new("ok.jpg"), "")
            },
            Row {
                verdict: Some(Verdict::Fail),
                reasons: vec![("c2pa".into(), Verdict::Fail, "no Content Credentials".into())],
                ..Row::from_error(std::path::Path::new("bad & <odd>.jpg"), "")
            },
            Row::from_error(std::path::Path::new("gone.jpg"), "gone.jpg: file not found"),
        ];
        (rows, Tally { pass: 1, warn: 0, fail: 1, errors: 1, skipped: 0 })
    }

    #[test]
    fn junit_names_failing_files_with_their_reasons_escaped() {
        let (rows, tally) = rows();
        let xml = junit(&rows, &tally);
        assert!(xml.contains(r#"tests="3" failures="1" errors="1""#), "{xml}");
        assert!(xml.contains(r#"<testcase classname="vouch.check" name="ok.jpg"/>"#), "{xml}");
        assert!(xml.contains(r#"name="bad &amp; &lt;odd&gt;.jpg""#), "{xml}");
        assert!(xml.contains(r#"<failure message="no Content Credentials" type="vouch">"#), "{xml}");
        assert!(xml.contains("<error message=\"gone.jpg: file not found\""), "{xml}");
    }

    #[test]
    fn sarif_has_one_result_per_reason_at_the_file() {
        let (rows, _) = rows();
        let log: serde_json::Value = serde_json::from_str(&sarif(&rows)).unwrap();
        let results = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["level"], "error");
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "bad%20%26%20%3Codd%3E.jpg"
        );
        assert_eq!(results[1]["ruleId"], "error");
    }
}
