//! YuNet output decoding: any tensor contents (NaN, infinities, huge
//! values) and any sizes give finite boxes or none, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vouch::detect::faces::{decode_yunet, nms};
use vouch::detect::infer::RawOutputs;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let width = 8 * (1 + data[0] as usize % 40);
    let height = 8 * (1 + data[1] as usize % 40);
    let threshold = data[2] as f32 / 255.0;
    let floats: Vec<f32> = data[4..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let mut pairs = Vec::new();
    let mut at = 0;
    for stride in [8usize, 16, 32] {
        let cells = (width / stride) * (height / stride);
        for (name, per_cell) in [("cls", 1), ("obj", 1), ("bbox", 4), ("kps", 10)] {
            // Lengths may be short or long: the decoder must cope with both.
            let want = cells * per_cell + (data[3] as usize % 3);
            let take: Vec<f32> = floats.iter().cycle().skip(at).take(want.min(floats.len() * 4)).copied().collect();
            at += 1;
            pairs.push((format!("{name}_{stride}"), take));
        }
    }
    let boxes = decode_yunet(&RawOutputs::from_pairs(pairs), width, height, threshold);
    for face in nms(boxes, 0.3) {
        assert!(face.score.is_finite());
    }
});
