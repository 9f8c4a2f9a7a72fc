//! Time on the command line: which scene time each frame of `render` shows, and motion blur.
//!
//! Times are in the scene's own units (what its plugin declares: e.g. 0..1 over a Spacetime
//! Gaussians segment, seconds for keyframe sequences; `vksplat info FILE` shows the range).
//!
//! - Without `--fps`, every frame shows `--time` (default 0).
//! - With `--fps F`, frame n shows `t = T0 + (n − FIRST_FRAME) / F`, `T0` = `--time-start`
//!   (default `--time`, 0), FIRST_FRAME = `--first-frame`. A camera path of several cameras
//!   gives frame n camera n (as without `--fps`); a single camera (the automatic one, or a
//!   file with one camera) serves every frame, so `--frames 0-99 --fps 24` animates time
//!   under a still camera.
//! - Motion blur, `--shutter S --motion-samples K`: the frame is the mean of K renders at the
//!   sub-frame times `t + S·u·(o + (k + ½)/K)`, k = 0..K−1, where u is the frame interval 1/F
//!   with `--fps` (S is then a fraction of a frame: 0.5 is a 180° shutter) and 1 scene time
//!   unit without it, and the offset o is −½ (`--shutter-mode centre`, the default), 0
//!   (`start`: the shutter opens at t) or −1 (`end`: it closes at t). Cost: K renders per
//!   frame.
//!
//! Averaging is deterministic: sums run in f64 in sample order, then round once to f32.
//! Colour and alpha are the plain mean of the renderer's float output (before PNG
//! quantisation or EXR colour conversion); depth is the alpha-weighted mean of the samples'
//! expected depths (Σ αₖ·zₖ / Σ αₖ, 0 where no sample hit anything), which is the expected
//! depth of the averaged image. K = 1 is the plain render, bit for bit.

use clap::{Args, ValueEnum};
use vksplat_core::Frame;

use crate::error::CliError;

/// Most sub-frame samples per frame.
pub const MAX_MOTION_SAMPLES: u32 = 1024;

/// `render`'s time and motion-blur flags (`--time` itself is a plugin flag, shared with
/// `bench`).
#[derive(Args, Debug, Clone, Default)]
pub struct TimeArgs {
    /// Frame rate of scene time: frame n shows time T0 + (n − FIRST_FRAME)/F in the scene's
    /// own units (T0 = --time-start). Without it every frame shows --time. One camera (the
    /// automatic one or a single-camera file) then serves any frame number.
    #[arg(long, value_name = "F", value_parser = parse_positive)]
    pub fps: Option<f64>,

    /// Scene time of frame FIRST_FRAME when --fps is given (default: --time, 0).
    #[arg(long, value_name = "T0", allow_negative_numbers = true, requires = "fps",
          conflicts_with = "time", value_parser = parse_finite)]
    pub time_start: Option<f64>,

    /// Motion blur: how long the shutter stays open, as a fraction of the frame interval with
    /// --fps (0.5 = a 180° shutter), else in scene time units. Needs --motion-samples.
    #[arg(long, value_name = "S", value_parser = parse_non_negative)]
    pub shutter: Option<f64>,

    /// Motion blur: sub-frame renders averaged per frame (each frame costs K renders).
    #[arg(long, value_name = "K", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=MAX_MOTION_SAMPLES as i64))]
    pub motion_samples: u32,

    /// Where the open shutter lies around the frame's time: centre (t ± S/2), start (the
    /// shutter opens at t) or end (it closes at t).
    #[arg(long, value_enum, value_name = "centre|start|end", default_value_t = ShutterMode::Centre)]
    pub shutter_mode: ShutterMode,
}

/// `--shutter-mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ShutterMode {
    #[default]
    #[value(alias = "center")]
    Centre,
    Start,
    End,
}

impl ShutterMode {
    pub fn name(self) -> &'static str {
        match self {
            ShutterMode::Centre => "centre",
            ShutterMode::Start => "start",
            ShutterMode::End => "end",
        }
    }

    /// Where the shutter interval starts, in shutter lengths from the frame's time.
    fn offset(self) -> f64 {
        match self {
            ShutterMode::Centre => -0.5,
            ShutterMode::Start => 0.0,
            ShutterMode::End => -1.0,
        }
    }
}

fn parse_finite(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("'{s}' is not a finite number"))
}

fn parse_positive(s: &str) -> Result<f64, String> {
    parse_finite(s)?;
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| *v > 0.0)
        .ok_or_else(|| format!("'{s}' is not a positive number"))
}

fn parse_non_negative(s: &str) -> Result<f64, String> {
    let v = parse_finite(s)?;
    if v < 0.0 {
        return Err(format!("'{s}' is negative"));
    }
    Ok(v)
}

/// The time of every frame and its sub-frame samples (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// `--time`: every frame's time without `--fps`, the default `T0` with it.
    pub time: f64,
    pub fps: Option<f64>,
    pub time_start: Option<f64>,
    pub first_frame: i64,
    pub shutter: f64,
    pub samples: u32,
    pub mode: ShutterMode,
}

impl Timing {
    /// Checks the flags together: `--motion-samples` above 1 needs `--shutter`; every
    /// frame's time must be finite.
    pub fn new(time: f64, args: &TimeArgs, first_frame: i64) -> Result<Timing, CliError> {
        if !time.is_finite() {
            return Err(CliError::Usage(format!("--time {time} is not finite")));
        }
        if args.motion_samples > 1 && args.shutter.is_none() {
            return Err(CliError::Usage(format!(
                "--motion-samples {} needs --shutter S (how long the shutter is open)",
                args.motion_samples
            )));
        }
        Ok(Timing {
            time,
            fps: args.fps,
            time_start: args.time_start,
            first_frame,
            shutter: args.shutter.unwrap_or(0.0),
            samples: args.motion_samples,
            mode: args.shutter_mode,
        })
    }

    /// The scene time frame `frame` shows.
    pub fn frame_time(&self, frame: i64) -> f64 {
        match self.fps {
            None => self.time,
            Some(fps) => {
                self.time_start.unwrap_or(self.time) + (frame - self.first_frame) as f64 / fps
            }
        }
    }

    /// Length of the open shutter in scene time.
    fn shutter_length(&self) -> f64 {
        match self.fps {
            Some(fps) => self.shutter / fps,
            None => self.shutter,
        }
    }

    /// Whether frames are averages of several sub-frame renders.
    pub fn blurred(&self) -> bool {
        self.samples > 1
    }

    /// The sub-frame times of `frame`, in sample order (one, the frame's time, without blur).
    pub fn sample_times(&self, frame: i64) -> Vec<f64> {
        let t = self.frame_time(frame);
        if !self.blurred() {
            return vec![t];
        }
        let k = self.samples as f64;
        let length = self.shutter_length();
        (0..self.samples)
            .map(|i| t + length * (self.mode.offset() + (i as f64 + 0.5) / k))
            .collect()
    }

    /// The first and last sub-frame time relative to the frame's time (the EXR's
    /// `vksplat_shutter`), when blurred.
    pub fn shutter_record(&self) -> Option<[f32; 2]> {
        if !self.blurred() {
            return None;
        }
        let t = self.sample_times(self.first_frame);
        let t0 = self.frame_time(self.first_frame);
        Some([(t[0] - t0) as f32, (t[t.len() - 1] - t0) as f32])
    }

    /// Flags that decide every frame's time, for the command line an output records.
    pub fn canonical_args(&self) -> Vec<String> {
        let mut c = Vec::new();
        match self.fps {
            Some(fps) => c.extend([
                "--fps".into(),
                fps.to_string(),
                "--time-start".into(),
                self.time_start.unwrap_or(self.time).to_string(),
            ]),
            None => c.extend(["--time".into(), self.time.to_string()]),
        }
        if self.blurred() {
            c.extend([
                "--shutter".into(),
                self.shutter.to_string(),
                "--motion-samples".into(),
                self.samples.to_string(),
                "--shutter-mode".into(),
                self.mode.name().into(),
            ]);
        }
        c
    }
}

/// The mean of sub-frame renders of one view (see the module docs). All frames have the size
/// of the first; one frame is returned as it is.
pub fn average(mut frames: Vec<Frame>) -> Frame {
    if frames.len() == 1 {
        return frames.pop().expect("one frame");
    }
    let n = frames.len() as f64;
    let first = &frames[0];
    let (width, height) = (first.width, first.height);
    let pixels = first.depth.len();
    let mut rgba = vec![0.0f64; first.rgba.len()];
    let mut depth = vec![0.0f64; pixels];
    let mut alpha = vec![0.0f64; pixels];
    for f in &frames {
        for (sum, v) in rgba.iter_mut().zip(&f.rgba) {
            *sum += *v as f64;
        }
        for p in 0..pixels {
            let a = f.rgba[p * 4 + 3] as f64;
            depth[p] += a * f.depth[p] as f64;
            alpha[p] += a;
        }
    }
    Frame {
        width,
        height,
        rgba: rgba.iter().map(|s| (s / n) as f32).collect(),
        depth: depth
            .iter()
            .zip(&alpha)
            .map(|(d, a)| if *a > 0.0 { (d / a) as f32 } else { 0.0 })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(fps: Option<f64>, shutter: f64, samples: u32, mode: ShutterMode) -> Timing {
        Timing {
            time: 0.25,
            fps,
            time_start: None,
            first_frame: 10,
            shutter,
            samples,
            mode,
        }
    }

    #[test]
    fn frames_map_to_times() {
        let t = timing(None, 0.0, 1, ShutterMode::Centre);
        assert_eq!(t.frame_time(10), 0.25);
        assert_eq!(t.frame_time(99), 0.25);
        let t = timing(Some(4.0), 0.0, 1, ShutterMode::Centre);
        assert_eq!(t.frame_time(10), 0.25);
        assert_eq!(t.frame_time(12), 0.75);
        assert_eq!(t.frame_time(8), -0.25);
        let t = Timing {
            time_start: Some(2.0),
            ..t
        };
        assert_eq!(t.frame_time(14), 3.0);
        assert_eq!(t.sample_times(14), vec![3.0]);
    }

    #[test]
    fn sub_frames_cover_the_open_shutter() {
        // Half a frame at 4 fps = 0.125 time units, 4 samples at their midpoints.
        let t = timing(Some(4.0), 0.5, 4, ShutterMode::Centre);
        let s = t.sample_times(10);
        let want = [
            0.25 - 0.046875,
            0.25 - 0.015625,
            0.25 + 0.015625,
            0.25 + 0.046875,
        ];
        for (a, b) in s.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{s:?}");
        }
        let start = timing(Some(4.0), 0.5, 4, ShutterMode::Start).sample_times(10);
        assert!((start[0] - (0.25 + 0.015625)).abs() < 1e-12);
        let end = timing(None, 1.0, 2, ShutterMode::End).sample_times(10);
        assert_eq!(end, vec![0.25 - 0.75, 0.25 - 0.25]);
        assert_eq!(
            timing(None, 1.0, 2, ShutterMode::Centre).shutter_record(),
            Some([-0.25, 0.25])
        );
    }

    #[test]
    fn averages_colour_plainly_and_depth_by_alpha() {
        let frame = |rgba: [f32; 4], z: f32| Frame {
            width: 1,
            height: 1,
            rgba: rgba.to_vec(),
            depth: vec![z],
        };
        let one = frame([0.1, 0.2, 0.3, 0.4], 5.0);
        assert_eq!(average(vec![one.clone()]).rgba, one.rgba);
        let m = average(vec![
            frame([1.0, 0.0, 0.0, 1.0], 2.0),
            frame([0.0, 0.0, 1.0, 0.5], 8.0),
            frame([0.0, 0.0, 0.0, 0.0], 0.0),
        ]);
        assert_eq!(m.rgba, vec![1.0 / 3.0, 0.0, 1.0 / 3.0, 0.5]);
        assert_eq!(m.depth, vec![4.0]);
    }
}
