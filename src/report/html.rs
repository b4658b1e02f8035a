//! A self-contained HTML report a journalist opens in a browser: one file,
//! no external resources (a Content-Security-Policy forbids any request),
//! thumbnails inline as `data:` URIs, detection as inline SVG.
//!
//! A summary comes first (the counts, then the files that failed or could
//! not be checked, linked to their cards), then one card per file, failures
//! first. Cards are written as they come to spool files, one per group, and
//! joined at the end: a run over many thousands of files holds the list of
//! failures in memory, never the cards or their pictures.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};

use super::check::{DetectionView, Row, Tally};
use crate::check::Verdict;

const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f6f6f8}
main{max-width:1100px;margin:0 auto;padding:1.5em 2em 3em}
h1{font-size:1.5em;margin:0 0 .3em}
h2{font-size:1.15em;margin:1.4em 0 .5em}
.meta{color:#666;margin:0 0 1em}
#summary{background:#fff;border:1px solid #ddd;border-radius:.5em;padding:1em 1.3em}
.counts{display:flex;flex-wrap:wrap;gap:.6em;margin:.2em 0 .6em;padding:0;list-style:none}
.counts li{padding:.3em .8em;border-radius:1em;background:#eee;font-weight:600}
.counts .fail,.counts .error{background:#ffebe9;color:#a40e26}
.counts .warn{background:#fff8c5;color:#7d4e00}
.counts .pass{background:#dafbe1;color:#116329}
.failures{margin:.3em 0 0;padding-left:1.4em}
.failures a{color:#a40e26}
.card{display:flex;gap:1.2em;background:#fff;border:1px solid #ddd;border-left:6px solid #999;
 border-radius:.5em;padding:1em 1.2em;margin:0 0 1em}
.card.verdict-pass{border-left-color:#1f883d}.card.verdict-warn{border-left-color:#bf8700}
.card.verdict-fail,.card.verdict-error{border-left-color:#cf222e}
.thumb{flex:0 0 160px}
.thumb img{display:block;max-width:160px;max-height:160px;border-radius:.3em}
.placeholder{width:160px;height:110px;display:flex;align-items:center;justify-content:center;text-align:center;
 background:#eee;color:#555;border-radius:.3em;font-size:.85em;padding:.4em;box-sizing:border-box}
.caption{color:#666;font-size:.8em;margin-top:.2em}
.body{flex:1;min-width:0}
.body h3{margin:0 0 .4em;font-size:1.05em;overflow-wrap:anywhere}
.verdict{display:inline-block;min-width:3.2em;text-align:center;padding:.1em .5em;border-radius:.3em;
 font-weight:700;color:#fff;text-transform:uppercase;font-size:.8em;margin-right:.5em;background:#666}
.verdict-pass .verdict{background:#1f883d}.verdict-warn .verdict{background:#bf8700}
.verdict-fail .verdict,.verdict-error .verdict{background:#cf222e}
dl{display:grid;grid-template-columns:9em 1fr;gap:.25em .8em;margin:0}
dt{color:#666}dd{margin:0;overflow-wrap:anywhere}
ul{margin:0;padding-left:1.1em}
.badge{display:inline-block;padding:.1em .6em;margin:0 .3em .3em 0;border-radius:1em;font-size:.85em;
 background:#f0f3f6;color:#24292f;border:1px solid #d0d7de}
.badge.declared{background:#fbefff;color:#6e2b8c;border-color:#d8b9ff;font-weight:600}
.reasons{margin-top:.6em}
.reasons li{color:#a40e26}.verdict-warn .reasons li{color:#7d4e00}
svg.timeline,svg.score{display:block;margin:.3em 0}
.legend{color:#666;font-size:.8em;margin:.2em 0 0}
.skipped{color:#555}
code{font-size:.95em}
";

/// The most failing files the summary names one by one; the rest are
/// counted there, and their cards come first below.
pub const SUMMARY_FAILURES: usize = 500;

/// The HTML report, written card by card.
pub struct HtmlReport {
    title: String,
    generated: String,
    /// Cards of files that failed or could not be checked, then warnings,
    /// then passes, then the list of skipped files: each spooled to an
    /// anonymous temporary file, joined by [`HtmlReport::finish`].
    attention: BufWriter<File>,
    warnings: BufWriter<File>,
    passes: BufWriter<File>,
    skipped: BufWriter<File>,
    /// `(card id, path, first failing reason)` of failing files, for the summary.
    failures: Vec<(usize, String, String)>,
    failures_unnamed: usize,
    cards: usize,
    skipped_count: usize,
}

impl HtmlReport {
    pub fn new(title: &str, generated: &str) -> io::Result<Self> {
        let spool = || tempfile::tempfile().map(BufWriter::new);
        Ok(Self {
            title: title.to_string(),
            generated: generated.to_string(),
            attention: spool()?,
            warnings: spool()?,
            passes: spool()?,
            skipped: spool()?,
            failures: Vec::new(),
            failures_unnamed: 0,
            cards: 0,
            skipped_count: 0,
        })
    }

    /// One file's card.
    pub fn card(&mut self, row: &Row) -> io::Result<()> {
        self.cards += 1;
        let id = self.cards;
        let html = card_html(row, id);
        match row.verdict {
            Some(Verdict::Fail) | None => {
                if self.failures.len() < SUMMARY_FAILURES {
                    let why = row
                        .reasons
                        .iter()
                        .find(|(_, v, _)| *v == Verdict::Fail)
                        .map(|(_, _, m)| m.clone())
                        .unwrap_or_default();
                    self.failures.push((id, row.path.clone(), why));
                } else {
                    self.failures_unnamed += 1;
                }
                self.attention.write_all(html.as_bytes())
            }
            Some(Verdict::Warn) => self.warnings.write_all(html.as_bytes()),
            Some(Verdict::Pass) => self.passes.write_all(html.as_bytes()),
        }
    }

    /// A file under the named paths that was not checked, and why.
    pub fn skipped(&mut self, path: &str, why: &str) -> io::Result<()> {
        self.skipped_count += 1;
        writeln!(self.skipped, "<li><code>{}</code>: {}</li>", escape(path), escape(why))
    }

    /// The whole page: head and summary, then the spooled cards in order.
    pub fn finish(self, tally: &Tally, out: &mut dyn Write) -> io::Result<()> {
        let Self { title, generated, attention, warnings, passes, skipped, failures, failures_unnamed, .. } = self;
        out.write_all(head(&title, &generated, tally, &failures, failures_unnamed).as_bytes())?;
        let sections = [
            (attention, "attention", "Failed or not checked"),
            (warnings, "warnings", "Warnings"),
            (passes, "passes", "Passed"),
        ];
        for (spool, id, heading) in sections {
            let mut file = spool.into_inner().map_err(|e| e.into_error())?;
            if file.stream_position()? > 0 {
                writeln!(out, "<section id=\"{id}\">\n<h2>{heading}</h2>")?;
                file.rewind()?;
                io::copy(&mut file, out)?;
                out.write_all(b"</section>\n")?;
            }
        }
        let mut file = skipped.into_inner().map_err(|e| e.into_error())?;
        if file.stream_position()? > 0 {
            writeln!(out, "<section id=\"skipped\">\n<h2>Skipped (not checked)</h2>\n<ul class=\"skipped\">")?;
            file.rewind()?;
            io::copy(&mut file, out)?;
            out.write_all(b"</ul>\n</section>\n")?;
        }
        out.write_all(b"</main>\n</body>\n</html>\n")
    }
}

/// The page up to the first card: title, counts, failures by name.
fn head(title: &str, generated: &str, tally: &Tally, failures: &[(usize, String, String)], unnamed: usize) -> String {
    let mut html = String::with_capacity(8192 + failures.len() * 160);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n\
         <p class=\"meta\">vouch {version} · {generated}</p>\n<section id=\"summary\">\n\
         <p class=\"total\">{total}</p>\n<ul class=\"counts\">",
        title = escape(title),
        version = env!("CARGO_PKG_VERSION"),
        generated = escape(generated),
        total = escape(&super::check::tally_text(tally)),
    );
    for (class, count, words) in [
        ("fail", tally.fail, "failed"),
        ("error", tally.errors, "could not be checked"),
        ("warn", tally.warn, "warnings"),
        ("pass", tally.pass, "passed"),
        ("skipped", tally.skipped, "skipped"),
    ] {
        if count > 0 || matches!(class, "fail" | "warn" | "pass") {
            let _ = write!(html, "<li class=\"{class}\">{count} {words}</li>");
        }
    }
    html.push_str("</ul>\n");
    if failures.is_empty() {
        html.push_str("<p class=\"none-failed\">No file failed.</p>\n");
    } else {
        html.push_str("<h2>Failed or not checked</h2>\n<ol class=\"failures\">\n");
        for (id, path, why) in failures {
            let _ =
                writeln!(html, "<li><a href=\"#file-{id}\"><code>{}</code></a>: {}</li>", escape(path), escape(why));
        }
        html.push_str("</ol>\n");
        if unnamed > 0 {
            let _ = writeln!(html, "<p>… and {unnamed} more, whose cards follow with the others that failed.</p>");
        }
    }
    html.push_str("</section>\n");
    html
}

/// One card: thumbnail, verdict and path, then what vouch learned, in words.
fn card_html(row: &Row, id: usize) -> String {
    let verdict = row.verdict.map(Verdict::as_str).unwrap_or("error");
    let mut html = String::with_capacity(2048);
    let _ = writeln!(html, "<article class=\"card verdict-{verdict}\" id=\"file-{id}\" data-verdict=\"{verdict}\">");
    html.push_str("<div class=\"thumb\">");
    match &row.thumbnail {
        Some(Ok(thumb)) => {
            let _ = write!(
                html,
                "<img alt=\"\" width=\"{}\" height=\"{}\" src=\"{}\">",
                thumb.width,
                thumb.height,
                escape(&thumb.data_uri)
            );
            if let Some(at) = thumb.poster_at_s {
                let _ = write!(html, "<div class=\"caption\">frame at {at:.1} s</div>");
            }
        }
        Some(Err(why)) => {
            let _ = write!(html, "<div class=\"placeholder\">no preview: {}</div>", escape(why));
        }
        None => html.push_str("<div class=\"placeholder\">no preview</div>"),
    }
    html.push_str("</div>\n<div class=\"body\">\n");
    let _ = writeln!(
        html,
        "<h3><span class=\"verdict\">{verdict}</span><code class=\"path\">{}</code></h3>",
        escape(&row.path)
    );
    html.push_str("<dl>\n");
    if let Some(credentials) = &row.credentials {
        let _ = writeln!(html, "<dt>Credentials</dt><dd class=\"credentials\">{}</dd>", escape(credentials));
    }
    if let Some(signer) = &row.signer {
        let _ = writeln!(html, "<dt>Signed by</dt><dd class=\"signer\">{}</dd>", escape(signer));
    }
    if !row.trust.is_empty() {
        html.push_str("<dt>Trust</dt><dd class=\"trust\">");
        list(&mut html, &row.trust);
        html.push_str("</dd>\n");
    }
    if !row.declared.is_empty() || !row.signals.is_empty() {
        // AI origin the file declares, then the rubric's signals, whatever they say.
        html.push_str("<dt>Declared origin</dt><dd>");
        for declared in &row.declared {
            let _ = write!(html, "<span class=\"badge declared\">{}</span>", escape(declared));
        }
        if !row.signals.is_empty() {
            html.push_str("<div class=\"signals\">");
            for signals in &row.signals {
                let _ = write!(html, "<span class=\"badge signal\">{}</span>", escape(signals));
            }
            html.push_str("</div>");
        }
        html.push_str("</dd>\n");
    }
    if !row.anchors.is_empty() {
        html.push_str("<dt>Anchors</dt><dd class=\"anchors\">");
        list(&mut html, &row.anchors);
        html.push_str("</dd>\n");
    }
    if let Some(detection) = &row.detection {
        html.push_str("<dt>Detection</dt><dd class=\"detection\">");
        detection_html(&mut html, detection);
        html.push_str("</dd>\n");
    }
    html.push_str("</dl>\n");
    if !row.reasons.is_empty() {
        html.push_str("<ul class=\"reasons\">");
        for (rule, _, message) in &row.reasons {
            let _ = write!(html, "<li><b>{}</b>: {}</li>", escape(rule), escape(message));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</div>\n</article>\n");
    html
}

/// Lines as a list, escaped.
fn list(html: &mut String, items: &[String]) {
    html.push_str("<ul>");
    for item in items {
        let _ = write!(html, "<li>{}</li>", escape(item));
    }
    html.push_str("</ul>");
}

/// The detector's words, then its score against the line that decides: a
/// bar for a still, the scores over time for a video, each with a legend.
fn detection_html(html: &mut String, d: &DetectionView) {
    let _ = write!(html, "<div class=\"detection-words\">{}</div>", escape(&d.words));
    if d.video && !d.timeline.is_empty() {
        html.push_str(&timeline_svg(&d.timeline, d.flag_at));
        let _ = write!(
            html,
            "<p class=\"legend\">Blue line: the detector's score of each sampled frame over time, 0 at the bottom \
             to 1 at the top; dashed red line: {:.2}, where it flags. A score is a signal for a person to weigh, \
             not a finding.</p>",
            d.flag_at
        );
    } else if let Some(score) = d.score {
        html.push_str(&score_svg(score, d.flag_at));
        let _ = write!(
            html,
            "<p class=\"legend\">Bar: the detector's score, {score:.3}, on a scale from 0 to 1; red mark: {:.2}, \
             where it flags. A score is a signal for a person to weigh, not a finding.</p>",
            d.flag_at
        );
    } else {
        html.push_str("<p class=\"legend\">No frame could be scored. A score is a signal, not a finding.</p>");
    }
}

/// A still's score as a bar on 0..1 with the flag line marked.
fn score_svg(score: f32, flag_at: f32) -> String {
    const W: f32 = 320.0;
    const H: f32 = 16.0;
    let x = score.clamp(0.0, 1.0) * W;
    let line = flag_at.clamp(0.0, 1.0) * W;
    let fill = if score >= flag_at { "#cf222e" } else { "#0969da" };
    format!(
        "<svg class=\"score\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
         aria-label=\"detector score {score:.3}, flags at {flag_at:.2}\"><rect width=\"{W}\" height=\"{H}\" fill=\"#eaeef2\"/>\
         <rect class=\"bar\" width=\"{x:.1}\" height=\"{H}\" fill=\"{fill}\"/>\
         <line x1=\"{line:.1}\" y1=\"0\" x2=\"{line:.1}\" y2=\"{H}\" stroke=\"#1d1d1f\" stroke-width=\"2\"/></svg>"
    )
}

/// Scores over time as a small line chart, the flag line dashed.
fn timeline_svg(points: &[(f32, f32)], threshold: f32) -> String {
    const W: f32 = 320.0;
    const H: f32 = 60.0;
    let end = points.iter().map(|p| p.0).fold(0.0f32, f32::max).max(1e-3);
    let xy = |t: f32, s: f32| (t / end * W, H - s.clamp(0.0, 1.0) * H);
    let line: Vec<String> = points
        .iter()
        .map(|&(t, s)| {
            let (x, y) = xy(t, s);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    let (_, ty) = xy(0.0, threshold);
    format!(
        "<svg class=\"timeline\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
         aria-label=\"detector score over time\"><rect width=\"{W}\" height=\"{H}\" fill=\"#f6f8fa\"/>\
         <line x1=\"0\" y1=\"{ty:.1}\" x2=\"{W}\" y2=\"{ty:.1}\" stroke=\"#cf222e\" stroke-dasharray=\"4 3\"/>\
         <polyline fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.5\" points=\"{}\"/></svg>",
        line.join(" ")
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing(i: usize) -> Row {
        Row::from_error(std::path::Path::new(&format!("f{i}.jpg")), &format!("f{i}.jpg: cannot read"))
    }

    #[test]
    fn cards_come_failures_first_and_the_summary_names_a_bounded_number() {
        let mut report = HtmlReport::new("t", "now").unwrap();
        let pass = Row { verdict: Some(Verdict::Pass), reasons: Vec::new(), ..failing(0) };
        report.card(&pass).unwrap();
        for i in 1..=SUMMARY_FAILURES + 2 {
            report.card(&failing(i)).unwrap();
        }
        report.skipped("gone.jpg", "dangling link").unwrap();
        let tally = Tally { pass: 1, errors: SUMMARY_FAILURES + 2, skipped: 1, ..Tally::default() };
        let mut page = Vec::new();
        report.finish(&tally, &mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        let (summary, cards) = page.split_once("</section>").unwrap();
        assert_eq!(summary.matches("<li><a href=").count(), SUMMARY_FAILURES);
        assert!(summary.contains("… and 2 more, whose cards follow"), "{summary}");
        assert!(summary.contains("<li class=\"error\">502 could not be checked</li>"), "{summary}");
        // Every card, the passing one last, then the skipped file.
        assert_eq!(cards.matches("<article ").count(), SUMMARY_FAILURES + 3);
        let last_failure = cards.rfind("data-verdict=\"error\"").unwrap();
        assert!(cards.find("data-verdict=\"pass\"").unwrap() > last_failure);
        assert!(cards.contains("<li><code>gone.jpg</code>: dangling link</li>"));
        assert!(page.ends_with("</main>\n</body>\n</html>\n"));
    }

    #[test]
    fn manifest_strings_are_text_never_markup() {
        let mut row = failing(1);
        row.signer = Some("<script>alert(1)</script>".into());
        row.declared = vec!["declares \"AI\" & <b>".into()];
        row.thumbnail = Some(Err("<img src=x>".into()));
        let card = card_html(&row, 1);
        assert!(!card.contains("<script>") && !card.contains("<img src=x>"), "{card}");
        assert_eq!(card.matches("<b>").count(), row.reasons.len(), "only the rules are bold: {card}");
        assert!(
            card.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                && card.contains("declares &quot;AI&quot; &amp; &lt;b&gt;")
        );
    }
}
