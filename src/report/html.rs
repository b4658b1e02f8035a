//! A self-contained HTML report a journalist opens in a browser: one file,
//! no external resources (a Content-Security-Policy forbids any request),
//! thumbnails inline, detection timelines as inline SVG.

use std::fmt::Write as _;

use super::check::{Row, Tally};
use crate::check::Verdict;

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1d1d1f;background:#fff}
h1{font-size:1.4em;margin:0 0 .2em}
.summary{margin:0 0 1.2em;color:#555}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.5em .6em;border-bottom:1px solid #ddd}
th{background:#f4f4f6;font-weight:600}
td.thumb img{max-width:96px;max-height:96px;display:block}
.badge{display:inline-block;min-width:3.2em;text-align:center;padding:.1em .5em;border-radius:.3em;
 font-weight:700;color:#fff;text-transform:uppercase;font-size:.85em}
tr.verdict-pass .badge{background:#1f883d} tr.verdict-warn .badge{background:#bf8700}
tr.verdict-fail .badge,tr.verdict-error .badge{background:#cf222e}
tr.verdict-fail,tr.verdict-error{background:#fff5f5}
ul{margin:0;padding-left:1.1em} code{font-size:.95em}
svg.timeline{display:block;margin-top:.4em}
";

/// The whole report for a run.
pub fn check_html(rows: &[Row], tally: &Tally, title: &str, generated: &str) -> String {
    let mut html = String::with_capacity(4096 + rows.len() * 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n\
         <p class=\"summary\" id=\"summary\">{total} file(s): {pass} pass, {warn} warn, {fail} fail, {skipped} skipped{errors} · vouch {version} · {generated}</p>\n\
         <table id=\"files\">\n<thead><tr><th>verdict</th><th></th><th>file</th><th>signer</th><th>anchors</th><th>reasons</th></tr></thead>\n<tbody>\n",
        title = escape(title),
        total = tally.total(),
        pass = tally.pass,
        warn = tally.warn,
        fail = tally.fail,
        skipped = tally.skipped,
        errors = if tally.errors > 0 { format!(", {} not checked", tally.errors) } else { String::new() },
        version = env!("CARGO_PKG_VERSION"),
        generated = escape(generated),
    );
    for row in rows {
        let verdict = row.verdict.map(Verdict::as_str).unwrap_or("error");
        let _ = write!(html, "<tr class=\"file verdict-{verdict}\" data-verdict=\"{verdict}\">");
        let _ = write!(html, "<td><span class=\"badge\">{verdict}</span></td>");
        match &row.thumbnail {
            Some(uri) => {
                let _ = write!(html, "<td class=\"thumb\"><img alt=\"\" src=\"{}\"></td>", escape(uri));
            }
            None => html.push_str("<td class=\"thumb\"></td>"),
        }
        let _ = write!(html, "<td class=\"path\"><code>{}</code>", escape(&row.path));
        if let Some((points, threshold)) = &row.timeline {
            html.push_str(&timeline_svg(points, *threshold));
        }
        html.push_str("</td>");
        let _ = write!(html, "<td>{}", row.signer.as_deref().map(escape).unwrap_or_default());
        if !row.signals.is_empty() {
            html.push_str("<div class=\"signals\">");
            list(&mut html, row.signals.iter().map(|s| escape(s)));
            html.push_str("</div>");
        }
        html.push_str("</td>");
        html.push_str("<td>");
        list(&mut html, row.anchors.iter().map(|a| escape(a)));
        html.push_str("</td><td class=\"reasons\">");
        list(
            &mut html,
            row.reasons.iter().map(|(rule, _, message)| format!("<b>{}</b>: {}", escape(rule), escape(message))),
        );
        html.push_str("</td></tr>\n");
    }
    html.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    html
}

/// Items are HTML already (escaped by the caller).
fn list(html: &mut String, items: impl Iterator<Item = String>) {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        return;
    }
    html.push_str("<ul>");
    for item in items {
        let _ = write!(html, "<li>{item}</li>");
    }
    html.push_str("</ul>");
}

/// Scores over time as a small line chart, threshold dashed.
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
         aria-label=\"synthetic score over time\"><rect width=\"{W}\" height=\"{H}\" fill=\"#f6f8fa\"/>\
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
