//! Small pictures of media files for the HTML report: a still image scaled
//! down, or a poster frame of a video decoded by FFmpeg through the decoder
//! detection uses, encoded as a JPEG `data:` URI so the page stays one file
//! that requests nothing. Each is bounded in pixels and bytes; a file that
//! cannot be pictured gets the reason instead, never a crash.

use std::path::{Path, PathBuf};

use image::{DynamicImage, RgbImage};

use crate::detect::decode::{self, DecodeError};
use crate::detect::sample::{Sampler, Sampling};

/// The long side of a thumbnail, in pixels.
pub const MAX_SIDE: u32 = 160;
/// The most bytes one thumbnail's JPEG may take (its `data:` URI is a third more).
pub const MAX_BYTES: usize = 32 * 1024;
/// A video's poster frame is its first frame at or after this time: a first
/// frame is often black or a fade.
pub const POSTER_AT_S: f64 = 1.0;

/// A thumbnail, ready for an `<img src>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail {
    pub data_uri: String,
    pub width: u32,
    pub height: u32,
    /// For a video: the time of the poster frame, in seconds.
    pub poster_at_s: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    #[error("{}: no picture to show ({what})", path.display())]
    NotVisual { path: PathBuf, what: &'static str },
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("{}: its thumbnail would take more than {MAX_BYTES} bytes", .0.display())]
    TooLarge(PathBuf),
    #[error("{}: cannot encode a thumbnail: {message}", path.display())]
    Encode { path: PathBuf, message: String },
}

/// The thumbnail of `path`: a still for images, a poster frame for videos.
pub fn thumbnail(path: &Path) -> Result<Thumbnail, ThumbnailError> {
    if !decode::is_media(path) {
        let what = match crate::media::Format::from_path(path) {
            Some(crate::media::Format::M4a | crate::media::Format::Wav | crate::media::Format::Mp3) => "audio",
            _ => "not an image or a video",
        };
        return Err(ThumbnailError::NotVisual { path: path.to_path_buf(), what });
    }
    let (picture, poster_at_s) = match decode::Kind::of(path) {
        decode::Kind::Image => (still(path)?, None),
        decode::Kind::Video => {
            let (frame, at) = poster_frame(path)?;
            (DynamicImage::ImageRgb8(frame), Some(at))
        }
    };
    let small = picture.thumbnail(MAX_SIDE, MAX_SIDE).into_rgb8();
    let jpeg = encode(path, &small)?;
    use base64::Engine as _;
    Ok(Thumbnail {
        data_uri: format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(jpeg)),
        width: small.width(),
        height: small.height(),
        poster_at_s,
    })
}

/// A still image, upright. JPEGs are decoded by libjpeg already scaled
/// down (1/8 of the pixels' work for a large photo); anything else, and a
/// JPEG libjpeg will not scale, through detection's own decoder.
fn still(path: &Path) -> Result<DynamicImage, ThumbnailError> {
    if crate::media::Format::from_path(path) == Some(crate::media::Format::Jpeg) {
        if let Some(picture) = scaled_jpeg(path)? {
            return Ok(picture);
        }
    }
    Ok(DynamicImage::ImageRgb8(decode::image(path)?))
}

/// A JPEG decoded at the smallest of libjpeg's scales that keeps twice
/// [`MAX_SIDE`], turned upright by its EXIF orientation; `None` when
/// libjpeg cannot give RGB (CMYK, say). Truncated and oversized files are
/// refused as detection refuses them.
fn scaled_jpeg(path: &Path) -> Result<Option<DynamicImage>, ThumbnailError> {
    use image::ImageDecoder as _;
    crate::media::check_complete(&crate::media::MediaFile {
        path: path.to_path_buf(),
        format: crate::media::Format::Jpeg,
        relative: PathBuf::new(),
        link: false,
    })
    .map_err(DecodeError::from)?;
    let orientation = image::ImageReader::open(path)
        .ok()
        .and_then(|r| r.with_guessed_format().ok())
        .and_then(|r| r.into_decoder().ok())
        .and_then(|mut d| {
            let (w, h) = d.dimensions();
            Some((d.orientation().ok()?, u64::from(w), u64::from(h)))
        });
    let Some((orientation, width, height)) = orientation else { return Ok(None) };
    decode::check_size(path, width, height)?;
    let long = width.max(height).max(1);
    // The smallest n (of n/8) that keeps the long side at twice the thumbnail's.
    let numerator = (1..=8u8).find(|n| long * u64::from(*n) / 8 >= u64::from(MAX_SIDE) * 2).unwrap_or(8);
    // libjpeg reports fatal errors by unwinding out of its callbacks.
    let decoded = std::panic::catch_unwind(|| -> std::io::Result<RgbImage> {
        let mut d = mozjpeg::Decompress::new_path(path)?;
        d.scale(numerator);
        let mut started = d.rgb()?;
        let (w, h) = (started.width() as u32, started.height() as u32);
        let pixels: Vec<u8> = started.read_scanlines::<u8>()?;
        started.finish()?;
        RgbImage::from_raw(w, h, pixels).ok_or_else(|| std::io::Error::other("short scanlines"))
    });
    match decoded {
        Ok(Ok(rgb)) => {
            let mut picture = DynamicImage::ImageRgb8(rgb);
            picture.apply_orientation(orientation);
            Ok(Some(picture))
        }
        _ => Ok(None),
    }
}

/// The first frame at or after [`POSTER_AT_S`], or for a shorter video the
/// last of the frames sampled on the way, with its time.
fn poster_frame(path: &Path) -> Result<(RgbImage, f64), ThumbnailError> {
    // Four frames a second up to the poster's time: five converted at most.
    const PER_SECOND: f64 = 4.0;
    let most = (POSTER_AT_S * PER_SECOND) as usize + 1;
    let mut sampler = Sampler::new(Sampling::Fps(PER_SECOND), Some(most));
    let mut poster = None;
    decode::video(
        path,
        &mut sampler,
        |_| true,
        |frame| {
            let done = frame.time_s >= POSTER_AT_S;
            poster = Some((frame.image, frame.time_s));
            !done
        },
    )?;
    poster.ok_or_else(|| DecodeError::NoFrames(path.to_path_buf()).into())
}

/// JPEG at quality 80, or 50 when that is over [`MAX_BYTES`].
fn encode(path: &Path, picture: &RgbImage) -> Result<Vec<u8>, ThumbnailError> {
    for quality in [80, 50] {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality)
            .encode_image(picture)
            .map_err(|e| ThumbnailError::Encode { path: path.to_path_buf(), message: e.to_string() })?;
        if jpeg.len() <= MAX_BYTES {
            return Ok(jpeg);
        }
    }
    Err(ThumbnailError::TooLarge(path.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
    }

    #[test]
    fn a_photo_and_a_video_get_small_bounded_thumbnails() {
        let photo = thumbnail(&fixture("photo.jpg")).unwrap();
        assert!(photo.data_uri.starts_with("data:image/jpeg;base64,"));
        assert_eq!(photo.width.max(photo.height), MAX_SIDE, "{}×{}", photo.width, photo.height);
        assert!(photo.width <= MAX_SIDE && photo.height <= MAX_SIDE && photo.poster_at_s.is_none());
        assert!(photo.data_uri.len() <= MAX_BYTES * 4 / 3 + 32);
        let clip = thumbnail(&fixture("clip.mp4")).unwrap();
        // A one-second clip: the last frame sampled before its end.
        assert!(clip.poster_at_s.is_some_and(|t| (0.7..POSTER_AT_S).contains(&t)), "{:?}", clip.poster_at_s);
        assert!(clip.width <= MAX_SIDE && clip.height <= MAX_SIDE);
        // A longer video: its first frame at or after one second, not its first.
        let longer = thumbnail(&fixture("models/redblue.mp4")).unwrap();
        assert!(longer.poster_at_s.is_some_and(|t| (POSTER_AT_S..POSTER_AT_S + 0.5).contains(&t)), "{longer:?}");
    }

    #[test]
    fn what_cannot_be_pictured_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let audio = thumbnail(&fixture("tone.wav")).unwrap_err().to_string();
        assert!(audio.ends_with("tone.wav: no picture to show (audio)"), "{audio}");
        let whole = std::fs::read(fixture("photo.jpg")).unwrap();
        let cut = dir.path().join("cut.jpg");
        std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
        let cut = thumbnail(&cut).unwrap_err().to_string();
        assert!(cut.contains("cut.jpg") && cut.contains("truncated"), "{cut}");
        let fake = dir.path().join("fake.mp4");
        std::fs::write(&fake, "not a video").unwrap();
        assert!(thumbnail(&fake).unwrap_err().to_string().contains("fake.mp4"));
    }
}
