//! Faces: YuNet's per-stride outputs decoded into boxes, non-maximum
//! suppression, and square crops (margin 1.3) of the largest faces.

use image::RgbImage;
use serde::Serialize;

use super::infer::{InferError, Model, RawOutputs};
use super::preprocess::{Preprocess, PreprocessError};

/// A face in source-image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaceBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub score: f32,
}

impl FaceBox {
    fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    fn iou(&self, other: &Self) -> f32 {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = (self.x + self.w).min(other.x + other.w);
        let y1 = (self.y + self.h).min(other.y + other.h);
        let inter = (x1 - x0).max(0.0) * (y1 - y0).max(0.0);
        let union = self.area() + other.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }
}

/// Crops are this much wider than the detected box, as face-forgery models
/// are trained on faces with some context around them.
pub const MARGIN: f32 = 1.3;
/// At most this many faces per frame are scored (the largest ones).
pub const MAX_FACES: usize = 3;
const DEFAULT_SCORE_THRESHOLD: f32 = 0.6;
const DEFAULT_NMS_IOU: f32 = 0.3;

/// YuNet's anchor-free head: for each stride, a grid of cells over the
/// input with cls, obj, bbox (dx, dy, log w, log h) and 5 landmarks. Same
/// arithmetic as OpenCV's `FaceDetectorYN`.
pub fn decode_yunet(outputs: &RawOutputs, width: usize, height: usize, score_threshold: f32) -> Vec<FaceBox> {
    let mut boxes = Vec::new();
    for stride in [8usize, 16, 32] {
        let (Some(cls), Some(obj), Some(bbox)) = (
            outputs.get(&format!("cls_{stride}")),
            outputs.get(&format!("obj_{stride}")),
            outputs.get(&format!("bbox_{stride}")),
        ) else {
            continue;
        };
        let cols = width / stride;
        let rows = height / stride;
        let cells = (rows * cols).min(cls.len()).min(obj.len()).min(bbox.len() / 4);
        for idx in 0..cells {
            let score = (cls[idx].clamp(0.0, 1.0) * obj[idx].clamp(0.0, 1.0)).sqrt();
            // A NaN score (from a broken model) is skipped too.
            if score.is_nan() || score < score_threshold {
                continue;
            }
            let (r, c) = ((idx / cols) as f32, (idx % cols) as f32);
            let s = stride as f32;
            let b = &bbox[idx * 4..idx * 4 + 4];
            let cx = (c + b[0]) * s;
            let cy = (r + b[1]) * s;
            let w = b[2].exp() * s;
            let h = b[3].exp() * s;
            let face = FaceBox { x: cx - w / 2.0, y: cy - h / 2.0, w, h, score };
            if [face.x, face.y, face.w, face.h].iter().all(|v| v.is_finite()) {
                boxes.push(face);
            }
        }
    }
    boxes
}

/// Greedy non-maximum suppression, best score first.
pub fn nms(mut boxes: Vec<FaceBox>, iou: f32) -> Vec<FaceBox> {
    boxes.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<FaceBox> = Vec::new();
    for candidate in boxes {
        if kept.iter().all(|k| k.iou(&candidate) <= iou) {
            kept.push(candidate);
        }
    }
    kept
}

/// The square around a face, `MARGIN` times its longer side, moved (not
/// shrunk) to stay inside the image where it fits; `(x, y, side)`.
pub fn crop_square(face: &FaceBox, width: u32, height: u32) -> Option<(u32, u32, u32)> {
    let side = (face.w.max(face.h) * MARGIN).round().min(width.min(height) as f32);
    if side < 8.0 {
        return None;
    }
    let cx = face.x + face.w / 2.0;
    let cy = face.y + face.h / 2.0;
    let x = (cx - side / 2.0).clamp(0.0, width as f32 - side);
    let y = (cy - side / 2.0).clamp(0.0, height as f32 - side);
    Some((x.round() as u32, y.round() as u32, side as u32))
}

/// Crops of the largest faces (up to [`MAX_FACES`]), largest first.
pub fn crops(image: &RgbImage, faces: &[FaceBox]) -> Vec<RgbImage> {
    let mut by_size: Vec<&FaceBox> = faces.iter().collect();
    by_size.sort_by(|a, b| b.area().total_cmp(&a.area()));
    by_size
        .into_iter()
        .filter_map(|f| crop_square(f, image.width(), image.height()))
        .take(MAX_FACES)
        .map(|(x, y, side)| image::imageops::crop_imm(image, x, y, side, side).to_image())
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error(transparent)]
    Infer(#[from] InferError),
    #[error(transparent)]
    Preprocess(#[from] PreprocessError),
}

/// A face detector: a YuNet model and its input recipe.
#[derive(Debug)]
pub struct FaceFinder {
    model: Model,
    preprocess: Preprocess,
    buffer: Vec<f32>,
}

impl FaceFinder {
    pub fn new(model: Model) -> Self {
        let preprocess = Preprocess::fast(&model.card.card.input);
        let buffer = vec![0.0; preprocess.len()];
        Self { model, preprocess, buffer }
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Faces in `image`, in its own pixel coordinates.
    pub fn find(&mut self, image: &RgbImage) -> Result<Vec<FaceBox>, FaceError> {
        let spec = &self.model.card.card;
        let (width, height) = (spec.input.width as usize, spec.input.height as usize);
        let threshold = spec.output.score_threshold.unwrap_or(DEFAULT_SCORE_THRESHOLD);
        let iou = spec.output.nms_iou.unwrap_or(DEFAULT_NMS_IOU);
        let placement = self.preprocess.run(image, &mut self.buffer)?;
        let outputs = self.model.run_raw(&self.buffer, height, width)?;
        let faces = nms(decode_yunet(&outputs, width, height, threshold), iou);
        Ok(faces
            .into_iter()
            .map(|f| FaceBox {
                x: (f.x + placement.offset_x) / placement.scale_x,
                y: (f.y + placement.offset_y) / placement.scale_y,
                w: f.w / placement.scale_x,
                h: f.h / placement.scale_y,
                score: f.score,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, y: f32, w: f32, score: f32) -> FaceBox {
        FaceBox { x, y, w, h: w, score }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let kept = nms(vec![face(0.0, 0.0, 10.0, 0.7), face(1.0, 1.0, 10.0, 0.9), face(50.0, 50.0, 10.0, 0.8)], 0.3);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].score, 0.9);
        assert_eq!(kept[1].score, 0.8);
    }

    #[test]
    fn crops_are_square_with_margin_and_inside() {
        assert_eq!(crop_square(&face(40.0, 40.0, 20.0, 1.0), 100, 100), Some((37, 37, 26)));
        // Near the edge the square slides in rather than shrinking.
        assert_eq!(crop_square(&face(0.0, 0.0, 20.0, 1.0), 100, 100), Some((0, 0, 26)));
        assert_eq!(crop_square(&face(0.0, 0.0, 2.0, 1.0), 100, 100), None);
    }

    #[test]
    fn broken_model_outputs_give_no_boxes_rather_than_nan_ones() {
        // Found by the yunet_decode fuzz target: NaN scores used to pass the threshold.
        let nan = RawOutputs::from_pairs(vec![
            ("cls_8".into(), vec![f32::NAN; 16]),
            ("obj_8".into(), vec![1.0; 16]),
            ("bbox_8".into(), vec![0.0; 64]),
        ]);
        assert!(decode_yunet(&nan, 32, 32, 0.5).is_empty());
        let huge = RawOutputs::from_pairs(vec![
            ("cls_8".into(), vec![1.0; 16]),
            ("obj_8".into(), vec![1.0; 16]),
            ("bbox_8".into(), vec![1e30; 64]),
        ]);
        assert!(decode_yunet(&huge, 32, 32, 0.5).is_empty());
    }

    #[test]
    fn yunet_cells_decode_to_boxes() {
        // A 32x32 input has 4x4 cells at stride 8; cell (row 1, col 2) holds a face.
        let cells = 16;
        let mut cls = vec![0.0; cells];
        let mut obj = vec![0.0; cells];
        let mut bbox = vec![0.0; cells * 4];
        let idx = 4 + 2;
        cls[idx] = 0.81;
        obj[idx] = 1.0;
        bbox[idx * 4..idx * 4 + 4].copy_from_slice(&[0.5, 0.5, 0.0, (2.0f32).ln()]);
        let outputs =
            RawOutputs::from_pairs(vec![("cls_8".into(), cls), ("obj_8".into(), obj), ("bbox_8".into(), bbox)]);
        let boxes = decode_yunet(&outputs, 32, 32, 0.5);
        assert_eq!(boxes.len(), 1);
        let b = boxes[0];
        assert!((b.score - 0.9).abs() < 1e-6);
        assert!((b.x - 16.0).abs() < 1e-4 && (b.y - 4.0).abs() < 1e-4, "{b:?}");
        assert!((b.w - 8.0).abs() < 1e-4 && (b.h - 16.0).abs() < 1e-4, "{b:?}");
    }
}
