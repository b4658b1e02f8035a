//! Detection results for people (a table), spreadsheets (CSV, one row per
//! frame) and eyes (a PNG timeline).

use std::fmt::Write;
use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;

use crate::detect::card::{Band, Detects, Limits};
use crate::detect::decode::Kind;
use crate::detect::infer::ModelInfo;
use crate::detect::{Detection, ModelListing};

/// The header above [`detect_text`] rows.
pub const DETECT_HEADER: &str = "verdict             score  frames  path";

/// One row per file, then what it declares, its notes, and one line per
/// flagged segment.
pub fn detect_text(d: &Detection) -> String {
    let score = d.score.map_or_else(|| "    -".to_string(), |s| format!("{s:.3}"));
    let mut text =
        format!("{:<18} {score:>6}  {:>6}  {}", d.verdict.as_str(), d.frames_scored, super::printable(&d.path));
    if d.kind == Kind::Video && d.frames_scored == 0 {
        text.push_str("  (nothing scored: no faces found)");
    }
    for m in &d.models {
        let score = m.score.map_or_else(|| "-".to_string(), |s| format!("{s:.3}"));
        let _ = write!(
            text,
            "\n  {}: {} {score} (flagged at {:.3}){}",
            m.model,
            m.verdict.as_str(),
            m.threshold + m.margin,
            if m.faces { ", on faces" } else { "" }
        );
    }
    for declared in &d.declared {
        let _ = write!(
            text,
            "\n  declares AI origin: {} {} = {}",
            declared.source,
            super::printable_str(&declared.field),
            super::printable_str(&declared.value.replace(['\n', '\r'], " "))
        );
    }
    for note in &d.notes {
        let _ = write!(text, "\n  note: {note}");
    }
    for s in &d.segments {
        let _ = write!(text, "\n  flagged {} – {} (peak {:.3})", clock(s.start_s), clock(s.end_s), s.peak);
    }
    text
}

/// The one plain line under a text run: what the scores mean and what they
/// do not, with the threshold, the margin and the model's known limits.
pub fn detect_caveat(model: &str, limits: &Limits, band: &Band) -> String {
    let mut line = format!(
        "A score is {model}'s guess, not proof: flagged at {:.3} or more (threshold {:.3} + margin {:.3}), \
         not_flagged below {:.3}, which does not mean authentic.",
        band.flag_at(),
        band.threshold,
        band.margin,
        band.not_flagged_below
    );
    if let Some(task) = limits.task {
        let _ = write!(line, " It looks for {}", task.words());
        if task == Detects::AiImage {
            line.push_str(", not face swaps");
        }
        if let Some(trained) = &limits.trained_for {
            let _ = write!(line, " (trained on {trained})");
        }
        line.push(';');
    }
    match (limits.recall, limits.false_positive_rate) {
        (Some(r), Some(f)) => {
            let _ = write!(
                line,
                " it catches about {:.0}% of them and flags about {:.0}% of real ones.",
                r * 100.0,
                f * 100.0
            );
        }
        (Some(r), None) => {
            let _ = write!(line, " it catches about {:.0}% of them.", r * 100.0);
        }
        (None, Some(f)) => {
            let _ = write!(line, " it flags about {:.0}% of real ones.", f * 100.0);
        }
        (None, None) => line.push_str(" How often it is right is not documented."),
    }
    line
}

/// `m:ss.s`, or `h:mm:ss.s` past an hour.
fn clock(seconds: f64) -> String {
    let tenths = (seconds * 10.0).round() as u64;
    let (h, m, s, t) = (tenths / 36000, tenths / 600 % 60, tenths / 10 % 60, tenths % 10);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{t}")
    } else {
        format!("{m}:{s:02}.{t}")
    }
}

/// The CSV header for [`detect_csv`].
pub const CSV_HEADER: &str = "path,index,time_s,score,smoothed,faces";

/// One CSV row per sampled frame; empty cells where there is no value.
pub fn detect_csv(d: &Detection) -> String {
    let path = csv_field(&d.path.display().to_string());
    let mut rows = String::new();
    for (frame, smoothed) in d.frames.iter().zip(&d.smoothed) {
        let opt = |v: Option<f32>| v.map(|v| format!("{v:.6}")).unwrap_or_default();
        let faces = frame.faces.map(|n| n.to_string()).unwrap_or_default();
        let _ = writeln!(
            rows,
            "{path},{},{:.3},{},{},{faces}",
            frame.index,
            frame.time_s,
            opt(frame.score),
            opt(*smoothed)
        );
    }
    rows.truncate(rows.trim_end().len());
    rows
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// `NAME  TASK  weights present?  CARD`.
pub fn model_list_text(m: &ModelListing) -> String {
    let task = match m.task {
        crate::detect::card::Task::Frame => "frame",
        crate::detect::card::Task::Face => "face",
    };
    let weights = if m.weights_present { "ready" } else { "no weights (run `make deps`)" };
    format!("{:<16} {task:<6} {weights:<10} {}", m.name, m.card.display())
}

pub fn model_check_text(m: &ModelInfo) -> String {
    let tensors = |ts: &[crate::detect::infer::TensorInfo]| {
        ts.iter()
            .map(|t| {
                let dims: Vec<String> =
                    t.shape.iter().map(|d| if *d < 0 { "?".to_string() } else { d.to_string() }).collect();
                format!("{} [{}]", t.name, dims.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "ok       {}  {}\n  weights {} (sha256 {})\n  inputs  {}\n  outputs {}",
        m.name,
        m.card.display(),
        m.weights.display(),
        m.sha256,
        tensors(&m.inputs),
        tensors(&m.outputs)
    )
}

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{}: cannot draw plot: {message}", path.display())]
    Draw { path: std::path::PathBuf, message: String },
    #[error("{}: cannot write plot: {source}", path.display())]
    Write { path: std::path::PathBuf, source: std::io::Error },
}

const FONT: &str = "sans-serif";
const WIDTH: u32 = 1000;
const HEIGHT: u32 = 360;

fn register_font() {
    static FONT_ONCE: Once = Once::new();
    // DejaVu Sans is compiled in, so plots look the same on machines
    // without any fonts installed.
    FONT_ONCE.call_once(|| {
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

/// Draws a score timeline (raw frame scores, the smoothed series, the
/// threshold, flagged segments shaded) and writes it to `out` as PNG,
/// atomically.
pub fn plot_timeline(d: &Detection, out: &Path) -> Result<(), PlotError> {
    register_font();
    let draw_err = |e: &dyn std::fmt::Display| PlotError::Draw { path: out.to_path_buf(), message: e.to_string() };
    let mut pixels = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(&e))?;
        let end = d.frames.last().map_or(0.0, |f| f.time_s).max(d.segments.last().map_or(0.0, |s| s.end_s));
        let x_max = if end > 0.0 { end } else { 1.0 };
        let name = d.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let score = d.score.map_or_else(|| "-".to_string(), |s| format!("{s:.3}"));
        let caption = format!("{name}: {} (score {score}, model {})", d.verdict.as_str(), d.model);
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, (FONT, 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..x_max, 0.0f64..1.0)
            .map_err(|e| draw_err(&e))?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc("P(synthetic)")
            .label_style((FONT, 13))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| draw_err(&e))?;
        let flagged = RGBColor(214, 39, 40);
        for s in &d.segments {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(s.start_s, 0.0), (s.end_s.min(x_max), 1.0)],
                    flagged.mix(0.15).filled(),
                )))
                .map_err(|e| draw_err(&e))?;
        }
        let raw: Vec<(f64, f64)> = d.frames.iter().filter_map(|f| f.score.map(|s| (f.time_s, f64::from(s)))).collect();
        chart
            .draw_series(raw.iter().map(|&p| Circle::new(p, 2, RGBColor(140, 160, 200).filled())))
            .map_err(|e| draw_err(&e))?;
        let smoothed: Vec<(f64, f64)> =
            d.frames.iter().zip(&d.smoothed).filter_map(|(f, s)| s.map(|s| (f.time_s, f64::from(s)))).collect();
        chart
            .draw_series(LineSeries::new(smoothed, RGBColor(31, 119, 180).stroke_width(2)))
            .map_err(|e| draw_err(&e))?;
        let t = f64::from(d.threshold);
        chart
            .draw_series(LineSeries::new([(0.0, t), (x_max, t)], flagged.stroke_width(1)))
            .map_err(|e| draw_err(&e))?;
        root.present().map_err(|e| draw_err(&e))?;
    }
    let image = image::RgbImage::from_raw(WIDTH, HEIGHT, pixels).ok_or_else(|| draw_err(&"buffer size"))?;
    let mut png = Vec::new();
    image.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).map_err(|e| draw_err(&e))?;
    crate::fsx::write_atomic(out, &png, Some(0o644), true)
        .map_err(|e| PlotError::Write { path: out.to_path_buf(), source: e })
}

/// The plot path for the `n`th of several files: `OUT-<file stem>.png`.
pub fn plot_path(out: &Path, input: &Path, several: bool) -> std::path::PathBuf {
    if !several {
        return out.to_path_buf();
    }
    let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "plot".into());
    let ext = out.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_else(|| "png".into());
    let input_stem = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    out.with_file_name(format!("{stem}-{input_stem}.{ext}"))
}

/// Whether a verdict fails `vouch detect` (exit code 1): `flagged` and
/// `declared_synthetic`.
pub fn is_flagged(d: &Detection) -> bool {
    d.verdict.fails()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_formats() {
        assert_eq!(clock(3.25), "0:03.3");
        assert_eq!(clock(3725.0), "1:02:05.0");
    }

    #[test]
    fn csv_quotes_commas() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn plot_paths_for_several_files() {
        assert_eq!(plot_path(Path::new("out/t.png"), Path::new("x/clip.mp4"), true), Path::new("out/t-clip.png"));
        assert_eq!(plot_path(Path::new("t.png"), Path::new("clip.mp4"), false), Path::new("t.png"));
    }
}
