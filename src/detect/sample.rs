//! Which decoded frames get scored. Decided before a frame is converted, so
//! frames that are not sampled cost only their decoding.

/// How to pick frames from a video.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    /// About `F` frames per second of video: the first frame of each 1/F s slot.
    Fps(f64),
    /// Every Nth decoded frame (indices 0, N, 2N…).
    Every(u64),
    /// Every frame.
    All,
}

impl Default for Sampling {
    fn default() -> Self {
        Self::Fps(DEFAULT_FPS)
    }
}

/// Frames per second scored when no sampling flag is given.
pub const DEFAULT_FPS: f64 = 2.0;

/// What to do with a decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Take,
    Skip,
    /// `--max-frames` reached: decoding can stop.
    Stop,
}

/// Applies a [`Sampling`] and a frame budget to frames in decoding order.
#[derive(Debug, Clone)]
pub struct Sampler {
    sampling: Sampling,
    max_frames: Option<usize>,
    taken: usize,
    last_slot: Option<i64>,
}

impl Sampler {
    pub fn new(sampling: Sampling, max_frames: Option<usize>) -> Self {
        Self { sampling, max_frames, taken: 0, last_slot: None }
    }

    /// Frame `index` (0-based, decoding order) shown at `time_s`.
    pub fn decide(&mut self, index: u64, time_s: f64) -> Decision {
        if self.max_frames.is_some_and(|max| self.taken >= max) {
            return Decision::Stop;
        }
        let take = match self.sampling {
            Sampling::All => true,
            Sampling::Every(n) => index.is_multiple_of(n.max(1)),
            Sampling::Fps(fps) => {
                // A small epsilon keeps timestamps like 0.49999 (rounding of
                // pts * time_base) in the slot they belong to.
                let slot = (time_s * fps + 1e-6).floor() as i64;
                if self.last_slot.is_some_and(|last| slot <= last) {
                    false
                } else {
                    self.last_slot = Some(slot);
                    true
                }
            }
        };
        if take {
            self.taken += 1;
            Decision::Take
        } else {
            Decision::Skip
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_n_and_max_frames() {
        let mut s = Sampler::new(Sampling::Every(10), Some(3));
        let got: Vec<u64> = (0..100).filter(|&i| s.decide(i, 0.0) == Decision::Take).collect();
        assert_eq!(got, [0, 10, 20]);
        assert_eq!(s.decide(30, 0.0), Decision::Stop);
    }

    #[test]
    fn fps_takes_the_first_frame_of_each_slot() {
        let mut s = Sampler::new(Sampling::Fps(2.0), None);
        let got: Vec<u64> = (0..75).filter(|&i| s.decide(i, i as f64 / 25.0) == Decision::Take).collect();
        assert_eq!(got, [0, 13, 25, 38, 50, 63]);
    }

    #[test]
    fn fps_above_the_frame_rate_takes_every_frame() {
        let mut s = Sampler::new(Sampling::Fps(100.0), None);
        assert!((0..50).all(|i| s.decide(i, i as f64 / 25.0) == Decision::Take));
    }
}
