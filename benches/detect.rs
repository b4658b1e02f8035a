//! Preprocessing cost per frame: resizing (Pillow-exact fixed point against
//! `fast_image_resize`'s SIMD convolutions) and the u8 HWC → f32 NCHW/NHWC
//! normalisation, whose loops LLVM vectorises (compare the scalar
//! reference loop here). Model inference is ONNX Runtime's and not measured.
//!
//!     cargo bench --bench detect

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use image::RgbImage;

use vouch::detect::card::{Channels, Filter, InputSpec, Layout, Resize};
use vouch::detect::preprocess::{self, Preprocess};

/// A video frame's worth of noisy gradient (640×480, like the shared FF++ clips).
fn frame(width: u32, height: u32) -> RgbImage {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = (state % 32) as u32;
        image::Rgb([(x * 200 / width + n) as u8, (y * 200 / height + n) as u8, ((x + y) % 256) as u8])
    })
}

// CLIP's constants as published (and as the card has them).
#[allow(clippy::excessive_precision)]
fn clip_spec(layout: Layout) -> InputSpec {
    InputSpec {
        name: "pixel_values".into(),
        layout,
        width: 224,
        height: 224,
        channels: Channels::Rgb,
        range: [0.0, 1.0],
        mean: [0.48145466, 0.4578275, 0.40821073],
        std: [0.26862954, 0.26130258, 0.27577711],
        resize: Resize::Crop,
        filter: Filter::Bicubic,
    }
}

/// What the normalisation would cost written pixel by pixel with indexing.
fn scalar_nchw(rgb: &[u8], out: &mut [f32], spec: &InputSpec) {
    let plane = rgb.len() / 3;
    for i in 0..plane {
        for c in 0..3 {
            let v = std::hint::black_box(rgb[i * 3 + c]);
            out[c * plane + i] = (f32::from(v) / 255.0 - spec.mean[c]) / spec.std[c];
        }
    }
}

fn bench(c: &mut Criterion) {
    let video = frame(640, 480);
    let mut resize = c.benchmark_group("resize 640x480 to 299x224");
    resize.throughput(Throughput::Elements(1));
    for filter in [Filter::Bicubic, Filter::Bilinear, Filter::Nearest] {
        resize.bench_function(format!("pillow-exact {filter:?}"), |b| {
            b.iter(|| preprocess::resize(&video, 299, 224, filter).unwrap())
        });
        resize.bench_function(format!("fast_image_resize {filter:?}"), |b| {
            b.iter(|| preprocess::resize_fast(&video, 299, 224, filter).unwrap())
        });
    }
    resize.finish();

    let crop = preprocess::resize(&frame(224, 224), 224, 224, Filter::Bicubic).unwrap();
    let mut normalise = c.benchmark_group("normalise 224x224");
    normalise.throughput(Throughput::Bytes(224 * 224 * 3));
    let mut out = vec![0f32; 224 * 224 * 3];
    for layout in [Layout::Nchw, Layout::Nhwc] {
        let pre = Preprocess::new(&clip_spec(layout));
        normalise.bench_function(format!("{layout:?}"), |b| b.iter(|| pre.normalise(crop.as_raw(), &mut out)));
    }
    let spec = clip_spec(Layout::Nchw);
    normalise.bench_function("scalar reference", |b| b.iter(|| scalar_nchw(crop.as_raw(), &mut out, &spec)));
    normalise.finish();

    let pre = Preprocess::new(&clip_spec(Layout::Nchw));
    c.bench_function("frame 640x480 to CLIP tensor (crop, bicubic, normalise)", |b| {
        b.iter(|| pre.run(&video, &mut out).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = bench
}
criterion_main!(benches);
