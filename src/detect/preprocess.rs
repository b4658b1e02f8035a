//! From a decoded RGB image to the tensor a model expects: resize (SIMD
//! convolution from `fast_image_resize`, the same kernels as Pillow), fit
//! (crop, letterbox or squash), then u8 HWC → f32 NCHW/NHWC with the card's
//! range, mean and std.
//!
//! Geometry follows Pillow code as models are usually exported with it:
//! `scale = size / min(w, h)`, new sides rounded half to even (Python's
//! `round`), centre crop offset `(new - size) // 2`, resize *then* crop.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

use super::card::{Channels, Filter, InputSpec, Layout, Resize};

#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    #[error("cannot resize a {width}x{height} image: {message}")]
    Resize { width: u32, height: u32, message: String },
}

/// How a source image was placed into the model's input: source pixel
/// `(x, y)` lands at `(x * scale - offset_x, y * scale - offset_y)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub scale_x: f32,
    pub scale_y: f32,
    pub offset_x: f32,
    pub offset_y: f32,
}

/// A card's input recipe, ready to apply to many images.
#[derive(Debug, Clone)]
pub struct Preprocess {
    spec: InputSpec,
    /// Per channel, in the model's channel order: `value = u8 * mul + add`.
    mul: [f32; 3],
    add: [f32; 3],
}

impl Preprocess {
    pub fn new(spec: &InputSpec) -> Self {
        let [lo, hi] = spec.range;
        let mul = std::array::from_fn(|c| (hi - lo) / 255.0 / spec.std[c]);
        let add = std::array::from_fn(|c| (lo - spec.mean[c]) / spec.std[c]);
        Self { spec: spec.clone(), mul, add }
    }

    /// Floats in one preprocessed image.
    pub fn len(&self) -> usize {
        self.spec.width as usize * self.spec.height as usize * 3
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fits `image` to the model's size and writes it, normalised, into
    /// `out` (exactly [`Self::len`] floats).
    pub fn run(&self, image: &RgbImage, out: &mut [f32]) -> Result<Placement, PreprocessError> {
        let (fitted, placement) = self.fit(image)?;
        self.normalise(fitted.as_raw(), out);
        Ok(placement)
    }

    /// Resizes and crops, letterboxes or squashes to the model's size.
    pub fn fit(&self, image: &RgbImage) -> Result<(RgbImage, Placement), PreprocessError> {
        let (w, h) = image.dimensions();
        let (tw, th) = (self.spec.width, self.spec.height);
        let filter = self.spec.filter;
        match self.spec.resize {
            Resize::Squash => {
                let resized = resize(image, tw, th, filter)?;
                let placement =
                    Placement { scale_x: tw as f32 / w as f32, scale_y: th as f32 / h as f32, offset_x: 0.0, offset_y: 0.0 };
                Ok((resized, placement))
            }
            Resize::Crop => {
                let scale = (f64::from(tw) / f64::from(w)).max(f64::from(th) / f64::from(h));
                let nw = round_half_even(f64::from(w) * scale).max(tw);
                let nh = round_half_even(f64::from(h) * scale).max(th);
                let resized = resize(image, nw, nh, filter)?;
                let (left, top) = ((nw - tw) / 2, (nh - th) / 2);
                let cropped = image::imageops::crop_imm(&resized, left, top, tw, th).to_image();
                let placement = Placement {
                    scale_x: nw as f32 / w as f32,
                    scale_y: nh as f32 / h as f32,
                    offset_x: left as f32,
                    offset_y: top as f32,
                };
                Ok((cropped, placement))
            }
            Resize::Letterbox => {
                let scale = (f64::from(tw) / f64::from(w)).min(f64::from(th) / f64::from(h));
                let nw = round_half_even(f64::from(w) * scale).clamp(1, tw);
                let nh = round_half_even(f64::from(h) * scale).clamp(1, th);
                let resized = resize(image, nw, nh, filter)?;
                let mut canvas = RgbImage::new(tw, th);
                image::imageops::replace(&mut canvas, &resized, 0, 0);
                let placement = Placement {
                    scale_x: nw as f32 / w as f32,
                    scale_y: nh as f32 / h as f32,
                    offset_x: 0.0,
                    offset_y: 0.0,
                };
                Ok((canvas, placement))
            }
        }
    }

    /// u8 HWC RGB → f32 in the card's layout and channel order. Written as
    /// plain loops over whole rows so that LLVM vectorises them (see
    /// `benches/detect.rs`); no allocation.
    pub fn normalise(&self, rgb: &[u8], out: &mut [f32]) {
        let (mul, add) = (self.mul, self.add);
        match (self.spec.layout, self.spec.channels) {
            (Layout::Nhwc, Channels::Rgb) => normalise_nhwc::<false>(rgb, out, mul, add),
            (Layout::Nhwc, Channels::Bgr) => normalise_nhwc::<true>(rgb, out, mul, add),
            (Layout::Nchw, Channels::Rgb) => normalise_nchw::<false>(rgb, out, mul, add),
            (Layout::Nchw, Channels::Bgr) => normalise_nchw::<true>(rgb, out, mul, add),
        }
    }
}

/// Python's `round`: halves go to the even neighbour.
fn round_half_even(x: f64) -> u32 {
    x.round_ties_even().max(1.0) as u32
}

/// Resizes an RGB image with the card's filter. Convolution filters widen
/// with the scale factor when shrinking (antialiasing), as Pillow's do.
pub fn resize(image: &RgbImage, width: u32, height: u32, filter: Filter) -> Result<RgbImage, PreprocessError> {
    let (w, h) = image.dimensions();
    if (w, h) == (width, height) {
        return Ok(image.clone());
    }
    let err = |e: &dyn std::fmt::Display| PreprocessError::Resize { width: w, height: h, message: e.to_string() };
    let src = ImageRef::new(w, h, image.as_raw(), PixelType::U8x3).map_err(|e| err(&e))?;
    let mut dst = Image::new(width, height, PixelType::U8x3);
    let algorithm = match filter {
        Filter::Bicubic => ResizeAlg::Convolution(FilterType::CatmullRom),
        Filter::Bilinear => ResizeAlg::Convolution(FilterType::Bilinear),
        Filter::Nearest => ResizeAlg::Nearest,
    };
    Resizer::new().resize(&src, &mut dst, &ResizeOptions::new().resize_alg(algorithm)).map_err(|e| err(&e))?;
    RgbImage::from_raw(width, height, dst.into_vec()).ok_or_else(|| err(&"buffer size"))
}

fn normalise_nhwc<const BGR: bool>(rgb: &[u8], out: &mut [f32], mul: [f32; 3], add: [f32; 3]) {
    // Model channel k reads source channel `src[k]`; constant per
    // instantiation, so the loop body has no branches.
    let src = if BGR { [2, 1, 0] } else { [0, 1, 2] };
    for (px, o) in rgb.chunks_exact(3).zip(out.chunks_exact_mut(3)) {
        o[0] = f32::from(px[src[0]]) * mul[0] + add[0];
        o[1] = f32::from(px[src[1]]) * mul[1] + add[1];
        o[2] = f32::from(px[src[2]]) * mul[2] + add[2];
    }
}

fn normalise_nchw<const BGR: bool>(rgb: &[u8], out: &mut [f32], mul: [f32; 3], add: [f32; 3]) {
    let plane = rgb.len() / 3;
    let (c0, rest) = out.split_at_mut(plane);
    let (c1, c2) = rest.split_at_mut(plane);
    let src = if BGR { [2, 1, 0] } else { [0, 1, 2] };
    for (((px, o0), o1), o2) in rgb.chunks_exact(3).zip(c0.iter_mut()).zip(c1.iter_mut()).zip(c2[..plane].iter_mut()) {
        *o0 = f32::from(px[src[0]]) * mul[0] + add[0];
        *o1 = f32::from(px[src[1]]) * mul[1] + add[1];
        *o2 = f32::from(px[src[2]]) * mul[2] + add[2];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(layout: Layout, channels: Channels, resize: Resize) -> InputSpec {
        InputSpec {
            name: "x".into(),
            layout,
            width: 4,
            height: 2,
            channels,
            range: [0.0, 1.0],
            mean: [0.5, 0.25, 0.0],
            std: [0.5, 0.25, 1.0],
            resize,
            filter: Filter::Bicubic,
        }
    }

    #[test]
    fn nchw_and_nhwc_hold_the_same_values() {
        let image = RgbImage::from_fn(4, 2, |x, y| image::Rgb([(x * 60) as u8, (y * 200) as u8, 255]));
        let mut nchw = vec![0.0; 24];
        let mut nhwc = vec![0.0; 24];
        Preprocess::new(&spec(Layout::Nchw, Channels::Rgb, Resize::Squash)).run(&image, &mut nchw).unwrap();
        Preprocess::new(&spec(Layout::Nhwc, Channels::Rgb, Resize::Squash)).run(&image, &mut nhwc).unwrap();
        for y in 0..2 {
            for x in 0..4 {
                for c in 0..3 {
                    assert_eq!(nchw[c * 8 + y * 4 + x], nhwc[(y * 4 + x) * 3 + c]);
                }
            }
        }
        let px = image.get_pixel(1, 1).0;
        let want = (f32::from(px[0]) / 255.0 - 0.5) / 0.5;
        assert!((nchw[4 + 1] - want).abs() < 1e-6);
        assert!((nchw[16 + 5] - 1.0).abs() < 1e-6, "blue 255 with mean 0, std 1");
    }

    #[test]
    fn bgr_swaps_source_channels() {
        let image = RgbImage::from_pixel(4, 2, image::Rgb([10, 20, 30]));
        let mut s = spec(Layout::Nhwc, Channels::Bgr, Resize::Squash);
        s.mean = [0.0; 3];
        s.std = [1.0; 3];
        s.range = [0.0, 255.0];
        let mut out = vec![0.0; 24];
        Preprocess::new(&s).run(&image, &mut out).unwrap();
        assert_eq!(&out[..3], &[30.0, 20.0, 10.0]);
    }

    #[test]
    fn crop_rounds_like_python_and_centres() {
        let mut s = spec(Layout::Nchw, Channels::Rgb, Resize::Crop);
        s.width = 224;
        s.height = 224;
        let image = RgbImage::new(640, 480);
        let (fitted, placement) = Preprocess::new(&s).fit(&image).unwrap();
        assert_eq!(fitted.dimensions(), (224, 224));
        // 640 * 224 / 480 = 298.67 → 299; (299 - 224) // 2 = 37
        assert_eq!(placement.offset_x, 37.0);
        assert_eq!(round_half_even(2.5), 2);
        assert_eq!(round_half_even(3.5), 4);
    }

    #[test]
    fn letterbox_keeps_aspect_top_left() {
        let mut s = spec(Layout::Nchw, Channels::Rgb, Resize::Letterbox);
        s.width = 320;
        s.height = 320;
        let image = RgbImage::from_pixel(640, 480, image::Rgb([255, 255, 255]));
        let (fitted, placement) = Preprocess::new(&s).fit(&image).unwrap();
        assert_eq!(placement.scale_x, 0.5);
        assert_eq!(fitted.get_pixel(10, 230).0, [255, 255, 255]);
        assert_eq!(fitted.get_pixel(10, 250).0, [0, 0, 0]);
    }
}
