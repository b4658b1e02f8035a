//! From a decoded RGB image to the tensor a model expects: resize (SIMD
//! convolution from `fast_image_resize`, the same kernels as Pillow), fit
//! (crop, letterbox or squash), then u8 HWC → f32 NCHW/NHWC with the card's
//! range, mean and std.
//!
//! Geometry follows Pillow code as models are usually exported with it:
//! `scale = size / min(w, h)`, new sides rounded half to even (Python's
//! `round`), centre crop offset `(new - size) // 2`, resize *then* crop;
//! `tests/detect/reference.py` is the specification.

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
    /// The range mapping and mean/std as f32 steps in the reference's
    /// order, `((u8 / 255 * span + lo) - mean) / std`: quantised models
    /// amplify even one-ulp differences in their input, so the arithmetic
    /// is the reference's, operation for operation, not a fused `a·x + b`.
    span: f32,
    lo: f32,
    mean: [f32; 3],
    std: [f32; 3],
    /// Resize with [`resize_fast`] instead of the exact [`resize`].
    fast: bool,
}

impl Preprocess {
    pub fn new(spec: &InputSpec) -> Self {
        let [lo, hi] = spec.range;
        let span = (f64::from(hi) - f64::from(lo)) as f32;
        Self { spec: spec.clone(), span, lo, mean: spec.mean, std: spec.std, fast: false }
    }

    /// The same recipe with SIMD resizing, for inputs where a level's
    /// difference here and there does not matter (face detection).
    pub fn fast(spec: &InputSpec) -> Self {
        Self { fast: true, ..Self::new(spec) }
    }

    fn resize(&self, image: &RgbImage, width: u32, height: u32) -> Result<RgbImage, PreprocessError> {
        if self.fast {
            resize_fast(image, width, height, self.spec.filter)
        } else {
            resize(image, width, height, self.spec.filter)
        }
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
        match self.spec.resize {
            Resize::Squash => {
                let resized = self.resize(image, tw, th)?;
                let placement = Placement {
                    scale_x: tw as f32 / w as f32,
                    scale_y: th as f32 / h as f32,
                    offset_x: 0.0,
                    offset_y: 0.0,
                };
                Ok((resized, placement))
            }
            Resize::Crop => {
                let scale = (f64::from(tw) / f64::from(w)).max(f64::from(th) / f64::from(h));
                let nw = round_half_even(f64::from(w) * scale).max(tw);
                let nh = round_half_even(f64::from(h) * scale).max(th);
                let resized = self.resize(image, nw, nh)?;
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
                let resized = self.resize(image, nw, nh)?;
                let (pad_x, pad_y) = ((tw - nw) / 2, (th - nh) / 2);
                let mut canvas = RgbImage::new(tw, th);
                image::imageops::replace(&mut canvas, &resized, i64::from(pad_x), i64::from(pad_y));
                // Boxes map back with the scale factor itself, not the
                // rounded size, as the reference does.
                let placement = Placement {
                    scale_x: scale as f32,
                    scale_y: scale as f32,
                    offset_x: -(pad_x as f32),
                    offset_y: -(pad_y as f32),
                };
                Ok((canvas, placement))
            }
        }
    }

    /// u8 HWC RGB → f32 in the card's layout and channel order. Written as
    /// plain loops over whole rows so that LLVM vectorises them (see
    /// `benches/detect.rs`); no allocation.
    pub fn normalise(&self, rgb: &[u8], out: &mut [f32]) {
        let n = Norm { span: self.span, lo: self.lo, mean: self.mean, std: self.std };
        match (self.spec.layout, self.spec.channels) {
            (Layout::Nhwc, Channels::Rgb) => normalise_nhwc::<false>(rgb, out, &n),
            (Layout::Nhwc, Channels::Bgr) => normalise_nhwc::<true>(rgb, out, &n),
            (Layout::Nchw, Channels::Rgb) => normalise_nchw::<false>(rgb, out, &n),
            (Layout::Nchw, Channels::Bgr) => normalise_nchw::<true>(rgb, out, &n),
        }
    }
}

/// Python's `round`: halves go to the even neighbour.
fn round_half_even(x: f64) -> u32 {
    x.round_ties_even().max(1.0) as u32
}

/// Resizes an RGB image with the card's filter, exactly as Pillow does
/// (see [`pillow`]): what frame models get, because a quantised model's
/// score moves by up to 0.1 when a few pixels differ by one level.
pub fn resize(image: &RgbImage, width: u32, height: u32, filter: Filter) -> Result<RgbImage, PreprocessError> {
    if image.dimensions() == (width, height) {
        return Ok(image.clone());
    }
    if width == 0 || height == 0 || image.width() == 0 || image.height() == 0 {
        let (w, h) = image.dimensions();
        return Err(PreprocessError::Resize { width: w, height: h, message: "empty image".into() });
    }
    Ok(match filter {
        Filter::Nearest => pillow::nearest(image, width, height),
        Filter::Bilinear => pillow::convolve(image, width, height, pillow::BILINEAR),
        Filter::Bicubic => pillow::convolve(image, width, height, pillow::BICUBIC),
    })
}

/// The same resize through `fast_image_resize`'s SIMD convolutions: the
/// same kernels as Pillow but not the same rounding (pixels differ by a
/// level or two). Used where closeness is enough: face detection.
pub fn resize_fast(image: &RgbImage, width: u32, height: u32, filter: Filter) -> Result<RgbImage, PreprocessError> {
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

/// Pillow's resampling (`libImaging/Resample.c`, `Geometry.c`), ported
/// operation for operation: double-precision kernels normalised to 22-bit
/// fixed point, a horizontal pass over just the rows the vertical pass
/// needs, then the vertical pass; nearest neighbour by accumulated
/// coordinates. Kernels widen by the scale factor when shrinking, which is
/// Pillow's antialiasing.
pub mod pillow {
    use image::RgbImage;

    const PRECISION_BITS: u32 = 32 - 8 - 2;

    /// A resampling kernel and its support at scale 1.
    #[derive(Clone, Copy)]
    pub struct Kernel {
        filter: fn(f64) -> f64,
        support: f64,
    }

    pub const BILINEAR: Kernel = Kernel { filter: bilinear, support: 1.0 };
    pub const BICUBIC: Kernel = Kernel { filter: bicubic, support: 2.0 };

    fn bilinear(x: f64) -> f64 {
        let x = x.abs();
        if x < 1.0 {
            1.0 - x
        } else {
            0.0
        }
    }

    fn bicubic(x: f64) -> f64 {
        const A: f64 = -0.5;
        let x = x.abs();
        if x < 1.0 {
            ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
        } else if x < 2.0 {
            (((x - 5.0) * x + 8.0) * x - 4.0) * A
        } else {
            0.0
        }
    }

    /// Per output position: first input index, tap count, and the taps.
    struct Coeffs {
        ksize: usize,
        bounds: Vec<(usize, usize)>,
        weights: Vec<i32>,
    }

    fn coeffs(in_size: u32, out_size: u32, kernel: Kernel) -> Coeffs {
        let scale = f64::from(in_size) / f64::from(out_size);
        let filterscale = scale.max(1.0);
        let support = kernel.support * filterscale;
        let ksize = support.ceil() as usize * 2 + 1;
        let mut bounds = Vec::with_capacity(out_size as usize);
        let mut weights = vec![0i32; out_size as usize * ksize];
        let mut k = vec![0f64; ksize];
        for xx in 0..out_size as usize {
            let center = (xx as f64 + 0.5) * scale;
            let ss = 1.0 / filterscale;
            // C's (int) cast truncates toward zero, as `as` does.
            let xmin = ((center - support + 0.5) as i64).max(0);
            let xmax = ((center + support + 0.5) as i64).min(i64::from(in_size)) - xmin;
            let taps = xmax.max(0) as usize;
            let mut ww = 0.0;
            for (x, w) in k.iter_mut().enumerate().take(taps) {
                *w = (kernel.filter)(((x as i64 + xmin) as f64 - center + 0.5) * ss);
                ww += *w;
            }
            let row = &mut weights[xx * ksize..(xx + 1) * ksize];
            for (fixed, w) in row.iter_mut().zip(&k[..taps]) {
                let w = if ww != 0.0 { w / ww } else { *w };
                let scaled = w * f64::from(1u32 << PRECISION_BITS);
                *fixed = if w < 0.0 { (-0.5 + scaled) as i32 } else { (0.5 + scaled) as i32 };
            }
            bounds.push((xmin as usize, taps));
        }
        Coeffs { ksize, bounds, weights }
    }

    #[inline(always)]
    fn clip8(ss: i32) -> u8 {
        (ss >> PRECISION_BITS).clamp(0, 255) as u8
    }

    /// Resamples `src` (RGB, `src_w` wide, rows `rows`) horizontally.
    fn horizontal(src: &[u8], src_w: usize, rows: std::ops::Range<usize>, out_w: usize, c: &Coeffs) -> Vec<u8> {
        let mut out = vec![0u8; rows.len() * out_w * 3];
        for (out_row, y) in out.chunks_exact_mut(out_w * 3).zip(rows) {
            let line = &src[y * src_w * 3..(y + 1) * src_w * 3];
            for (xx, px) in out_row.chunks_exact_mut(3).enumerate() {
                let (xmin, taps) = c.bounds[xx];
                let k = &c.weights[xx * c.ksize..xx * c.ksize + taps];
                let mut ss = [1i32 << (PRECISION_BITS - 1); 3];
                for (w, p) in k.iter().zip(line[xmin * 3..(xmin + taps) * 3].chunks_exact(3)) {
                    ss[0] += i32::from(p[0]) * w;
                    ss[1] += i32::from(p[1]) * w;
                    ss[2] += i32::from(p[2]) * w;
                }
                px.copy_from_slice(&[clip8(ss[0]), clip8(ss[1]), clip8(ss[2])]);
            }
        }
        out
    }

    /// Resamples vertically; `first` is the source row that bounds count from.
    fn vertical(src: &[u8], w: usize, out_h: usize, first: usize, c: &Coeffs) -> Vec<u8> {
        let stride = w * 3;
        let mut out = vec![0u8; out_h * stride];
        let mut acc = vec![0i32; stride];
        for (yy, out_row) in out.chunks_exact_mut(stride).enumerate() {
            let (ymin, taps) = c.bounds[yy];
            let k = &c.weights[yy * c.ksize..yy * c.ksize + taps];
            acc.fill(1 << (PRECISION_BITS - 1));
            // Row by row over whole lines, so the inner loop vectorises.
            for (y, w) in k.iter().enumerate() {
                let line = &src[(ymin - first + y) * stride..(ymin - first + y + 1) * stride];
                for (a, p) in acc.iter_mut().zip(line) {
                    *a += i32::from(*p) * w;
                }
            }
            for (o, a) in out_row.iter_mut().zip(&acc) {
                *o = clip8(*a);
            }
        }
        out
    }

    /// `Image.resize((width, height), BILINEAR | BICUBIC)`.
    pub fn convolve(image: &RgbImage, width: u32, height: u32, kernel: Kernel) -> RgbImage {
        let (in_w, in_h) = image.dimensions();
        let horiz = coeffs(in_w, width, kernel);
        let vert = coeffs(in_h, height, kernel);
        let out = convolve_inner(image, width, height, &horiz, &vert);
        RgbImage::from_raw(width, height, out).expect("resampled buffer has the output size")
    }

    fn convolve_inner(image: &RgbImage, width: u32, height: u32, horiz: &Coeffs, vert: &Coeffs) -> Vec<u8> {
        let (in_w, in_h) = image.dimensions();
        let need_horizontal = width != in_w;
        let need_vertical = height != in_h;
        let first = vert.bounds[0].0;
        let last = vert.bounds.last().map_or(0, |(ymin, taps)| ymin + taps);
        let (pixels, base) = if need_horizontal {
            let rows = horizontal(image.as_raw(), in_w as usize, first..last, width as usize, horiz);
            (std::borrow::Cow::Owned(rows), first)
        } else {
            (std::borrow::Cow::Borrowed(image.as_raw().as_slice()), 0)
        };
        if need_vertical {
            vertical(&pixels, width as usize, height as usize, base, vert)
        } else {
            pixels.into_owned()
        }
    }

    /// `Image.resize((width, height), NEAREST)`: Pillow's affine scaling,
    /// coordinates accumulated step by step as it does.
    pub fn nearest(image: &RgbImage, width: u32, height: u32) -> RgbImage {
        let (in_w, in_h) = image.dimensions();
        let ax = f64::from(in_w) / f64::from(width);
        let ay = f64::from(in_h) / f64::from(height);
        let mut xin = Vec::with_capacity(width as usize);
        let mut xo = ax * 0.5;
        for _ in 0..width {
            xin.push((xo as usize).min(in_w as usize - 1));
            xo += ax;
        }
        let src = image.as_raw();
        let stride = in_w as usize * 3;
        let mut out = Vec::with_capacity(width as usize * height as usize * 3);
        let mut yo = ay * 0.5;
        for _ in 0..height {
            let y = (yo as usize).min(in_h as usize - 1);
            let line = &src[y * stride..(y + 1) * stride];
            for &x in &xin {
                out.extend_from_slice(&line[x * 3..x * 3 + 3]);
            }
            yo += ay;
        }
        RgbImage::from_raw(width, height, out).expect("resampled buffer has the output size")
    }
}

struct Norm {
    span: f32,
    lo: f32,
    mean: [f32; 3],
    std: [f32; 3],
}

impl Norm {
    #[inline(always)]
    fn apply(&self, v: u8, c: usize) -> f32 {
        (f32::from(v) / 255.0 * self.span + self.lo - self.mean[c]) / self.std[c]
    }
}

fn normalise_nhwc<const BGR: bool>(rgb: &[u8], out: &mut [f32], n: &Norm) {
    // Model channel k reads source channel `src[k]`; constant per
    // instantiation, so the loop body has no branches.
    let src = if BGR { [2, 1, 0] } else { [0, 1, 2] };
    for (px, o) in rgb.chunks_exact(3).zip(out.chunks_exact_mut(3)) {
        o[0] = n.apply(px[src[0]], 0);
        o[1] = n.apply(px[src[1]], 1);
        o[2] = n.apply(px[src[2]], 2);
    }
}

fn normalise_nchw<const BGR: bool>(rgb: &[u8], out: &mut [f32], n: &Norm) {
    let plane = rgb.len() / 3;
    let (c0, rest) = out.split_at_mut(plane);
    let (c1, c2) = rest.split_at_mut(plane);
    let src = if BGR { [2, 1, 0] } else { [0, 1, 2] };
    for (((px, o0), o1), o2) in rgb.chunks_exact(3).zip(c0.iter_mut()).zip(c1.iter_mut()).zip(c2[..plane].iter_mut()) {
        *o0 = n.apply(px[src[0]], 0);
        *o1 = n.apply(px[src[1]], 1);
        *o2 = n.apply(px[src[2]], 2);
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
    fn letterbox_keeps_aspect_centred() {
        let mut s = spec(Layout::Nchw, Channels::Rgb, Resize::Letterbox);
        s.width = 320;
        s.height = 320;
        let image = RgbImage::from_pixel(640, 480, image::Rgb([255, 255, 255]));
        let (fitted, placement) = Preprocess::new(&s).fit(&image).unwrap();
        assert_eq!(placement.scale_x, 0.5);
        assert_eq!(placement.offset_y, -40.0);
        assert_eq!(fitted.get_pixel(10, 30).0, [0, 0, 0]);
        assert_eq!(fitted.get_pixel(10, 45).0, [255, 255, 255]);
        assert_eq!(fitted.get_pixel(10, 285).0, [0, 0, 0]);
    }
}
