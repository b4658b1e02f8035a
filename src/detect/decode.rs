//! Decoding: still images through the `image` crate, everything else
//! through FFmpeg (libavformat + libavcodec, one decoding thread). Only
//! sampled frames are converted, by swscale, to RGB at the working size.

use std::path::{Path, PathBuf};
use std::sync::Once;

use ffmpeg_next as ffmpeg;
use image::RgbImage;

use super::sample::{Decision, Sampler};

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Damaged(#[from] crate::media::InputError),
    #[error("{}: cannot decode image: {message}", path.display())]
    Image { path: PathBuf, message: String },
    #[error("{}: cannot open media: {message}", path.display())]
    Open { path: PathBuf, message: String },
    #[error("{}: no video stream", .0.display())]
    NoVideo(PathBuf),
    #[error("{}: cannot decode video: {message}", path.display())]
    Video { path: PathBuf, message: String },
    #[error("{}: no decodable frames (damaged or truncated video)", .0.display())]
    NoFrames(PathBuf),
    #[error("{}: {width}×{height} pixels is more than the {limit} allowed (raise it with --max-pixels)", path.display())]
    TooLarge { path: PathBuf, width: u64, height: u64, limit: u64 },
}

/// The most pixels vouch decodes in one image or video frame: a header is
/// a claim, and a few bytes can claim 65535×65535 (12 GB of pixels).
/// 100 megapixels covers every camera; `--max-pixels` raises it.
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;
static MAX_PIXELS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(DEFAULT_MAX_PIXELS);

/// Sets the per-image pixel limit for this process.
pub fn set_max_pixels(limit: u64) {
    MAX_PIXELS.store(limit.max(1), std::sync::atomic::Ordering::Relaxed);
}

pub(crate) fn check_size(path: &Path, width: u64, height: u64) -> Result<(), DecodeError> {
    let limit = MAX_PIXELS.load(std::sync::atomic::Ordering::Relaxed);
    if width.saturating_mul(height) > limit {
        return Err(DecodeError::TooLarge { path: path.to_path_buf(), width, height, limit });
    }
    Ok(())
}

/// A still image or a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Image,
    Video,
}

/// Extensions decoded as still images; anything else goes to FFmpeg.
const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "jpe", "jfif", "png", "webp", "gif", "tif", "tiff", "bmp"];

/// Extensions `vouch detect` picks up when walking folders.
pub const MEDIA_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "webp", "gif", "tif", "tiff", "bmp", "mp4", "m4v", "mov", "mkv", "webm",
    "avi", "mpg", "mpeg", "ts", "mts", "m2ts", "wmv", "flv", "3gp", "ogv", "y4m",
];

/// Whether a walk hands `path` to the detector: its extension is one of
/// [`MEDIA_EXTENSIONS`], in any case.
pub fn is_media(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MEDIA_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

impl Kind {
    pub fn of(path: &Path) -> Self {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        if IMAGE_EXTENSIONS.contains(&ext.as_str()) {
            Self::Image
        } else {
            Self::Video
        }
    }
}

/// A decoded, sampled frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Position in decoding (presentation) order, from 0.
    pub index: u64,
    pub time_s: f64,
    pub image: RgbImage,
}

/// Frames larger than this on their long side are scaled down by swscale
/// while converting (area filter); smaller ones are converted at their own
/// size, so resizing for the model happens once, with the card's filter.
pub const MAX_WORKING_SIDE: u32 = 1920;

/// Room past the last pixel for swscale's vector code, which may store
/// a whole vector beyond the end of a row (generous: it costs nothing).
const SWSCALE_SLACK: usize = 1024;

/// Decodes a still image to RGB, turned upright by its EXIF orientation
/// (alpha dropped). Truncated files are refused rather than scored with a
/// grey bottom.
///
/// JPEGs go through libjpeg-turbo's decoder (accurate integer IDCT, fancy
/// upsampling), as Pillow's do: `image`'s own JPEG decoder differs from it
/// by up to 3 levels in 10% of pixels, which moves a quantised model's
/// score by more than 0.05.
pub fn image(path: &Path) -> Result<RgbImage, DecodeError> {
    use image::ImageDecoder;
    if let Some(format) = crate::media::Format::from_path(path) {
        crate::media::check_complete(&crate::media::MediaFile {
            path: path.to_path_buf(),
            format,
            relative: PathBuf::new(),
            link: false,
        })?;
    }
    let err = |message: String| DecodeError::Image { path: path.to_path_buf(), message };
    let reader = image::ImageReader::open(path).map_err(|e| err(e.to_string()))?;
    let reader = reader.with_guessed_format().map_err(|e| err(e.to_string()))?;
    let is_jpeg = reader.format() == Some(image::ImageFormat::Jpeg);
    let mut decoder = reader.into_decoder().map_err(|e| err(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    check_size(path, u64::from(width), u64::from(height))?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut decoded = match is_jpeg.then(|| jpeg(path)) {
        Some(Ok(rgb)) => {
            drop(decoder);
            image::DynamicImage::ImageRgb8(rgb)
        }
        // CMYK and other JPEGs libjpeg will not turn into RGB.
        Some(Err(_)) | None => image::DynamicImage::from_decoder(decoder).map_err(|e| err(e.to_string()))?,
    };
    decoded.apply_orientation(orientation);
    Ok(decoded.into_rgb8())
}

fn jpeg(path: &Path) -> std::io::Result<RgbImage> {
    // libjpeg reports fatal errors by unwinding out of its callbacks.
    std::panic::catch_unwind(|| -> std::io::Result<RgbImage> {
        let mut d = mozjpeg::Decompress::new_path(path)?;
        d.dct_method(mozjpeg::DctMethod::IntegerSlow);
        d.do_fancy_upsampling(true);
        let mut started = d.rgb()?;
        let (w, h) = (started.width() as u32, started.height() as u32);
        let pixels: Vec<u8> = started.read_scanlines::<u8>()?;
        started.finish()?;
        RgbImage::from_raw(w, h, pixels).ok_or_else(|| std::io::Error::other("short scanlines"))
    })
    .unwrap_or_else(|_| Err(std::io::Error::other("libjpeg failed")))
}

/// The FFmpeg libraries vouch decodes video with, as the loaded libraries
/// report their versions (`libavcodec 59.37.100`).
pub fn ffmpeg_libraries() -> Vec<(&'static str, String)> {
    let dotted = |v: u32| format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff);
    vec![
        ("libavutil", dotted(ffmpeg::util::version())),
        ("libavcodec", dotted(ffmpeg::codec::version())),
        ("libavformat", dotted(ffmpeg::format::version())),
        ("libswscale", dotted(ffmpeg::software::scaling::version())),
    ]
}

fn init_ffmpeg() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = ffmpeg::init();
        // Damage is reported once, as vouch's own one-line error, not as
        // FFmpeg's stream of per-packet complaints.
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Quiet);
    });
}

/// Decodes a video, handing each sampled frame to `sink` in order. Before
/// converting a frame to RGB it asks `room` whether its bytes may be made
/// now, so a consumer that bounds memory holds the decoder back before the
/// frame exists rather than after. Stops early when the sampler says so or
/// `room` or `sink` returns false (its consumer has gone). Returns how many
/// frames were decoded.
pub fn video(
    path: &Path,
    sampler: &mut Sampler,
    mut room: impl FnMut(usize) -> bool,
    mut sink: impl FnMut(Frame) -> bool,
) -> Result<u64, DecodeError> {
    init_ffmpeg();
    let open_err = |e: ffmpeg::Error| DecodeError::Open { path: path.to_path_buf(), message: e.to_string() };
    let video_err = |e: ffmpeg::Error| DecodeError::Video { path: path.to_path_buf(), message: e.to_string() };
    let mut input = ffmpeg::format::input(&path).map_err(open_err)?;
    let stream = input.streams().best(ffmpeg::media::Type::Video).ok_or_else(|| DecodeError::NoVideo(path.into()))?;
    let stream_index = stream.index();
    let time_base = f64::from(stream.time_base());
    let start = stream.start_time();
    let start = if start == ffmpeg::ffi::AV_NOPTS_VALUE { 0 } else { start };
    let rate = f64::from(stream.avg_frame_rate());
    let mut context = ffmpeg::codec::context::Context::from_parameters(stream.parameters()).map_err(open_err)?;
    // One decoding thread: frame threading keeps a frame in flight per
    // thread (16 MB more at 1080p on two cores, more with more cores) and,
    // measured on 1080p H.264, decoded every frame no faster, since the RGB
    // conversion and the model take the time.
    context.set_threading(ffmpeg::codec::threading::Config {
        kind: ffmpeg::codec::threading::Type::Frame,
        count: 1,
        ..Default::default()
    });
    let mut decoder = context.decoder().video().map_err(open_err)?;
    check_size(path, u64::from(decoder.width()), u64::from(decoder.height()))?;

    let mut state = State { index: 0, converter: None, stopped: false, errors: 0 };
    let mut decoded = ffmpeg::frame::Video::empty();
    let mut read_errors = 0;
    loop {
        // A fresh packet each time: av_read_frame does not release what a
        // reused packet still holds, so reuse leaks every packet's buffer.
        let mut packet = ffmpeg::Packet::empty();
        match packet.read(&mut input) {
            Ok(()) => read_errors = 0,
            Err(ffmpeg::Error::Eof) => break,
            // A damaged stretch of container: skip it, but do not spin on
            // a file that cannot be read at all.
            Err(_) if read_errors < 100 => {
                read_errors += 1;
                continue;
            }
            Err(e) => return Err(video_err(e)),
        }
        if packet.stream() != stream_index {
            continue;
        }
        if decoder.send_packet(&packet).is_err() {
            state.errors += 1;
            continue;
        }
        state
            .drain(&mut decoder, &mut decoded, sampler, time_base, start, rate, &mut room, &mut sink)
            .map_err(video_err)?;
        if state.stopped {
            break;
        }
    }
    if !state.stopped {
        let _ = decoder.send_eof();
        state
            .drain(&mut decoder, &mut decoded, sampler, time_base, start, rate, &mut room, &mut sink)
            .map_err(video_err)?;
    }
    if state.index == 0 {
        return Err(DecodeError::NoFrames(path.to_path_buf()));
    }
    Ok(state.index)
}

struct State {
    index: u64,
    /// swscale context and the (format, width, height) it was made for;
    /// rebuilt when a stream changes size mid-way.
    converter: Option<(ffmpeg::software::scaling::Context, (ffmpeg::format::Pixel, u32, u32))>,
    stopped: bool,
    errors: u64,
}

impl State {
    #[allow(clippy::too_many_arguments)]
    fn drain(
        &mut self,
        decoder: &mut ffmpeg::decoder::Video,
        decoded: &mut ffmpeg::frame::Video,
        sampler: &mut Sampler,
        time_base: f64,
        start: i64,
        rate: f64,
        room: &mut impl FnMut(usize) -> bool,
        sink: &mut impl FnMut(Frame) -> bool,
    ) -> Result<(), ffmpeg::Error> {
        while !self.stopped && decoder.receive_frame(decoded).is_ok() {
            let index = self.index;
            self.index += 1;
            let time_s = match decoded.timestamp().or(decoded.pts()) {
                Some(ts) => (ts - start) as f64 * time_base,
                None if rate > 0.0 => index as f64 / rate,
                None => 0.0,
            };
            match sampler.decide(index, time_s) {
                Decision::Skip => continue,
                Decision::Stop => {
                    self.stopped = true;
                    break;
                }
                Decision::Take => {}
            }
            let (w, h) = working_size(decoded.width(), decoded.height());
            if !room(w as usize * h as usize * 3) {
                self.stopped = true;
                break;
            }
            let image = self.convert(decoded)?;
            if !sink(Frame { index, time_s, image }) {
                self.stopped = true;
            }
        }
        Ok(())
    }

    fn convert(&mut self, frame: &ffmpeg::frame::Video) -> Result<RgbImage, ffmpeg::Error> {
        let key = (frame.format(), frame.width(), frame.height());
        let (w, h) = working_size(frame.width(), frame.height());
        if self.converter.as_ref().is_none_or(|(_, k)| *k != key) {
            use ffmpeg::software::scaling::Flags;
            // Bilinear is what PyAV and most tools use for a plain
            // conversion; at the same size it only affects chroma
            // upsampling. Larger frames shrink with an area filter.
            let flags = if (w, h) == (key.1, key.2) { Flags::BILINEAR } else { Flags::AREA };
            let context = ffmpeg::software::scaling::Context::get(
                key.0,
                key.1,
                key.2,
                ffmpeg::format::Pixel::RGB24,
                w,
                h,
                flags,
            )?;
            self.converter = Some((context, key));
        }
        let Some((converter, _)) = self.converter.as_mut() else { unreachable!("converter was just set") };
        // swscale writes straight into the image's own buffer: converting
        // into an FFmpeg frame and copying out held two 6 MB copies of
        // every 1080p frame at once. Its SIMD writers may store a few bytes
        // past the last pixel, so the buffer has room to spare.
        let row = w as usize * 3;
        let len = row * h as usize;
        let mut pixels: Vec<u8> = vec![0; len + SWSCALE_SLACK];
        let line = i32::try_from(row).map_err(|_| ffmpeg::Error::InvalidData)?;
        let source_rows = i32::try_from(key.2).map_err(|_| ffmpeg::Error::InvalidData)?;
        let destination = [pixels.as_mut_ptr(), std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut()];
        let lines = [line, 0, 0, 0];
        // SAFETY: the context was made for this frame's format and size
        // (checked by `key` above) and for `w`×`h` RGB24 output; the
        // destination holds `h` rows of `row` bytes plus slack, and both
        // outlive the call.
        let written = unsafe {
            ffmpeg::ffi::sws_scale(
                converter.as_mut_ptr(),
                (*frame.as_ptr()).data.as_ptr() as *const *const u8,
                (*frame.as_ptr()).linesize.as_ptr(),
                0,
                source_rows,
                destination.as_ptr(),
                lines.as_ptr(),
            )
        };
        if written != h as i32 {
            return Err(ffmpeg::Error::InvalidData);
        }
        pixels.truncate(len);
        RgbImage::from_raw(w, h, pixels).ok_or(ffmpeg::Error::InvalidData)
    }
}

/// The size sampled frames are converted to: their own, or scaled down to
/// fit [`MAX_WORKING_SIDE`] (even sides, as swscale prefers).
pub fn working_size(width: u32, height: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= MAX_WORKING_SIDE {
        return (width, height);
    }
    let scale = f64::from(MAX_WORKING_SIDE) / f64::from(long);
    let even = |v: u32| ((f64::from(v) * scale / 2.0).round() as u32 * 2).max(2);
    (even(width), even(height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_size_caps_the_long_side() {
        assert_eq!(working_size(640, 480), (640, 480));
        assert_eq!(working_size(3840, 2160), (1920, 1080));
    }

    #[test]
    fn kinds_by_extension() {
        assert_eq!(Kind::of(Path::new("a/B.JPG")), Kind::Image);
        assert_eq!(Kind::of(Path::new("clip.mkv")), Kind::Video);
    }
}
