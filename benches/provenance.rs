//! Per-file cost of C2PA signing and verification through the library, on one
//! thread. Folder throughput (rayon) against c2pa-python is measured by
//! `benches/sign_throughput.py`; this isolates what each file costs.
//!
//!     cargo bench --bench provenance

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use image::codecs::jpeg::JpegEncoder;
use image::{ExtendedColorType, ImageEncoder};

use vouch::identity::{self, NewIdentity, SigningIdentity};
use vouch::media::{self, MediaFile};
use vouch::provenance::{self, C2paState, SignOptions, SignOutput};

/// 1.2 MP and 2.1 MP: the range of web and newsroom stills.
const SIZES: [(u32, u32); 2] = [(1280, 960), (1920, 1080)];

const DIGITAL_CAPTURE: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture";

/// Writes a photo-like JPEG. Noise over a gradient keeps the encoder from
/// shrinking it to a few kilobytes: at this amplitude and quality it comes out
/// near 0.4 bytes a pixel, like a camera's, so hashing and writing cost what a
/// real photo's would.
fn write_jpeg(path: &Path, width: u32, height: u32) {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        for x in 0..width {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % 24) as u32;
            pixels.push((x * 192 / width + noise) as u8);
            pixels.push((y * 192 / height + noise) as u8);
            pixels.push(((x + y) * 96 / (width + height) + ((state >> 8) % 24) as u32) as u8);
        }
    }
    let file = std::io::BufWriter::new(std::fs::File::create(path).expect("create JPEG"));
    JpegEncoder::new_with_quality(file, 90)
        .write_image(&pixels, width, height, ExtendedColorType::Rgb8)
        .expect("encode JPEG");
}

struct Fixture {
    dir: tempfile::TempDir,
    identity: SigningIdentity,
    sign_context: Arc<c2pa::Context>,
    verify_context: provenance::Validator,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let id_dir = dir.path().join("identity");
        let request = NewIdentity { name: "Bench Signer".into(), org: None, email: None, days: 30 };
        identity::create(&id_dir, &request, None).expect("create identity");
        let identity = identity::load(&id_dir, None).expect("load identity");
        let anchors = vouch::trust::gather(&[], &dir.path().join("no-store"), Some(&id_dir), None).expect("anchors");
        Self {
            identity,
            sign_context: provenance::context(None, false).expect("sign context"),
            verify_context: provenance::Validator::new(anchors, false).expect("verify context"),
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// One generated photo, its sign options, and a signed copy known to verify.
struct Case {
    label: String,
    input: MediaFile,
    options: SignOptions,
    signed: MediaFile,
}

impl Case {
    fn new(fx: &Fixture, signer: &dyn c2pa::Signer, (width, height): (u32, u32)) -> Self {
        let label = format!("{width}x{height}");
        let path = fx.path(&format!("photo-{label}.jpg"));
        write_jpeg(&path, width, height);
        let input = media::probe(&path).expect("probe photo");
        let kib = std::fs::metadata(&path).expect("stat photo").len() / 1024;
        eprintln!("photo {label}: {kib} KiB JPEG");
        let options = SignOptions {
            output: SignOutput::Dir(fx.path(&format!("signed-{label}"))),
            title: None,
            author: None,
            source_type: Some(DIGITAL_CAPTURE.into()),
            force: true,
            allow_invalid_parent: false,
        };
        let output = provenance::sign_file(&input, signer, &fx.sign_context, &options).expect("sign photo");
        let signed = media::probe(&output.output).expect("probe signed photo");
        // A verification that fails early is cheap: measuring one would
        // flatter the numbers, so the bench refuses to run on a broken build.
        let report = provenance::verify_file(&signed, &fx.verify_context).expect("verify photo");
        assert_eq!(report.state, C2paState::Trusted, "signed photo does not verify: {:?}", report.codes);
        Self { label, input, options, signed }
    }
}

fn provenance_benches(c: &mut Criterion) {
    let fx = Fixture::new();
    let signer = fx.identity.signer(None).expect("signer");
    let cases: Vec<Case> = SIZES.iter().map(|&size| Case::new(&fx, signer.as_ref(), size)).collect();

    let mut group = c.benchmark_group("sign");
    group.throughput(Throughput::Elements(1));
    for case in &cases {
        group.bench_with_input(BenchmarkId::new("jpeg_embed", &case.label), case, |b, case| {
            b.iter(|| {
                provenance::sign_file(&case.input, signer.as_ref(), &fx.sign_context, &case.options).expect("sign")
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    for case in &cases {
        group.bench_with_input(BenchmarkId::new("jpeg_embedded", &case.label), case, |b, case| {
            b.iter(|| provenance::verify_file(&case.signed, &fx.verify_context).expect("verify"))
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default().sample_size(15).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = benches;
    config = config();
    targets = provenance_benches
}
criterion_main!(benches);
