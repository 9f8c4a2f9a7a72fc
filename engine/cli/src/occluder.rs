//! `vksplat render --occluder`: a host's depth pass that occludes the splats per pixel, so that a
//! render farm composites them into another renderer's image (README, "Embedding in a game
//! engine", compositing with the host's geometry; the rule and the conversions are
//! `vksplat_core::host_depth`'s, the same as the C API's `VksplatHostDepth`).
//!
//! Invariants:
//! - The flags are checked before anything is read (exit 2): a convention flag without
//!   `--occluder`, near/far/reversed/orthographic on a linear depth (as the C API refuses
//!   them), a missing plane, and every plane `DepthConvention::params` refuses.
//! - A depth file is a float32 or float64 `.npy` of shape (height, width) of the frame's
//!   camera, rows top first, read by `vksplat_io::numpy` (f64 rounded to f32 once). Anything
//!   else is an input error (exit 3; 7 for host memory) naming the file and the problem.
//! - A file name with a frame number (`depth.####.npy`, `depth.%04d.npy`:
//!   `vksplat_io::frame_pattern`) names one file per frame; otherwise every frame reads the
//!   same file, which is read once.

use std::path::{Path, PathBuf};

use clap::Args;
use vksplat_core::{DepthConvention, DepthRange, Occluder, OccluderSource};
use vksplat_io::frame_pattern::FramePattern;
use vksplat_io::numpy::{read_npy, shape_text};

use crate::error::CliError;

/// The occluder flags of `vksplat render`.
#[derive(Args, Debug, Clone)]
pub struct OccluderArgs {
    /// Host depth that occludes the splats per pixel: a float32/float64 .npy of shape
    /// (H, W) = the camera's size, rows top first. A splat does not blend at a pixel where its
    /// camera depth is beyond the host's (a constant depth z renders as --far z). A name with a
    /// frame number (depth.####.npy, depth.%04d.npy) reads one file per frame.
    #[arg(long, value_name = "DEPTH.npy|depth.####.npy")]
    pub occluder: Option<PathBuf>,

    /// What the depth values are: linear (camera depth, as the EXR's Z; the default),
    /// zero-to-one (Vulkan/Direct3D/OpenGL depth buffer, 0..1 between the planes) or gl
    /// (OpenGL NDC z, -1..1). zero-to-one and gl need --occluder-near and --occluder-far.
    #[arg(long, value_name = "linear|zero-to-one|gl", value_enum)]
    pub occluder_convention: Option<Convention>,

    /// Near plane of the projection that wrote the depth (camera depth > 0; >= 0 when
    /// orthographic).
    #[arg(long, value_name = "DEPTH", allow_negative_numbers = true)]
    pub occluder_near: Option<f32>,

    /// Far plane of that projection, beyond the near plane; inf for an infinite far plane.
    #[arg(long, value_name = "DEPTH|inf", allow_negative_numbers = true)]
    pub occluder_far: Option<f32>,

    /// The depth is reversed Z (the near plane has the larger value).
    #[arg(long)]
    pub occluder_reversed: bool,

    /// The depth comes from an orthographic projection.
    #[arg(long)]
    pub occluder_orthographic: bool,
}

/// `--occluder-convention`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Convention {
    Linear,
    ZeroToOne,
    Gl,
}

impl Convention {
    fn name(self) -> &'static str {
        match self {
            Convention::Linear => "linear",
            Convention::ZeroToOne => "zero-to-one",
            Convention::Gl => "gl",
        }
    }
}

/// Where the depth of each frame is.
#[derive(Clone, Debug)]
enum Files {
    One(PathBuf),
    PerFrame(FramePattern),
}

/// Checked occluder flags.
#[derive(Clone, Debug)]
pub struct OccluderSpec {
    /// `--occluder` as given (recorded made absolute).
    path: PathBuf,
    files: Files,
    name: Convention,
    convention: DepthConvention,
}

impl OccluderArgs {
    /// The checked flags (exit 2 naming the problem); `None` without `--occluder`.
    pub fn spec(&self) -> Result<Option<OccluderSpec>, CliError> {
        let Some(path) = &self.occluder else {
            if self.occluder_convention.is_some()
                || self.occluder_near.is_some()
                || self.occluder_far.is_some()
                || self.occluder_reversed
                || self.occluder_orthographic
            {
                return Err(CliError::Usage(
                    "--occluder-convention, --occluder-near, --occluder-far, --occluder-reversed \
                     and --occluder-orthographic describe an --occluder depth; none is given"
                        .into(),
                ));
            }
            return Ok(None);
        };
        let name = self.occluder_convention.unwrap_or(Convention::Linear);
        let range = match name {
            Convention::Linear => DepthRange::Linear,
            Convention::ZeroToOne => DepthRange::ZeroToOne,
            Convention::Gl => DepthRange::MinusOneToOne,
        };
        let convention = if range == DepthRange::Linear {
            if self.occluder_near.is_some()
                || self.occluder_far.is_some()
                || self.occluder_reversed
                || self.occluder_orthographic
            {
                return Err(CliError::Usage(
                    "--occluder-convention linear: the depth is camera depth itself; \
                     --occluder-near, --occluder-far, --occluder-reversed and \
                     --occluder-orthographic describe zero-to-one or gl depth"
                        .into(),
                ));
            }
            DepthConvention::LINEAR
        } else {
            let (Some(near), Some(far)) = (self.occluder_near, self.occluder_far) else {
                return Err(CliError::Usage(format!(
                    "--occluder-convention {} needs the planes of the projection that wrote \
                     the depth: --occluder-near and --occluder-far (inf for an infinite far \
                     plane)",
                    name.name()
                )));
            };
            DepthConvention {
                range,
                near,
                far,
                reversed: self.occluder_reversed,
                orthographic: self.occluder_orthographic,
            }
        };
        convention
            .params()
            .map_err(|e| CliError::Usage(format!("--occluder-near/--occluder-far: {e}")))?;
        let files = match FramePattern::parse(path) {
            Some(p) => Files::PerFrame(p),
            None => Files::One(path.clone()),
        };
        Ok(Some(OccluderSpec {
            path: path.clone(),
            files,
            name,
            convention,
        }))
    }
}

impl OccluderSpec {
    /// The arguments recorded in the job's command line (`--skip-existing` compares them):
    /// the path made absolute by `absolute`, and the convention in effect.
    pub fn canonical_args(&self, absolute: impl Fn(&Path) -> String) -> Vec<String> {
        let mut c = vec![
            "--occluder".into(),
            absolute(&self.path),
            "--occluder-convention".into(),
            self.name.name().into(),
        ];
        let d = &self.convention;
        if d.range != DepthRange::Linear {
            c.extend([
                "--occluder-near".into(),
                d.near.to_string(),
                "--occluder-far".into(),
                d.far.to_string(),
            ]);
            if d.reversed {
                c.push("--occluder-reversed".into());
            }
            if d.orthographic {
                c.push("--occluder-orthographic".into());
            }
        }
        c
    }

    /// The depth file of `frame`: exit 2 for a negative frame with a pattern (sequence files
    /// are numbered from 0).
    pub fn path_of(&self, frame: i64) -> Result<PathBuf, CliError> {
        match &self.files {
            Files::One(p) => Ok(p.clone()),
            Files::PerFrame(pattern) => {
                u64::try_from(frame)
                    .map(|n| pattern.path_of(n))
                    .map_err(|_| {
                        CliError::Usage(format!(
                        "{}: frame {frame} has no depth file: a frame-numbered --occluder names \
                         frames 0 and up",
                        self.path.display()
                    ))
                    })
            }
        }
    }

    /// Before the scene is read: every frame's depth file is a readable regular file (exit 3
    /// naming it), so that a missing depth pass fails a job in milliseconds.
    pub fn check_files(&self, frames: impl IntoIterator<Item = i64>) -> Result<(), CliError> {
        let mut last = None;
        for f in frames {
            let path = self.path_of(f)?;
            if last.as_ref() != Some(&path) {
                vksplat_io::open_regular(&path)?;
                last = Some(path);
            }
        }
        Ok(())
    }
}

/// Reads the depth of each frame, keeping the last file read (one read for a single file).
pub struct OccluderLoader {
    spec: OccluderSpec,
    last: Option<(PathBuf, Vec<usize>, Vec<f32>)>,
}

impl OccluderLoader {
    pub fn new(spec: OccluderSpec) -> Self {
        OccluderLoader { spec, last: None }
    }

    /// The flags this loader reads with.
    pub fn spec(&self) -> &OccluderSpec {
        &self.spec
    }

    /// The occluder of `frame`, whose camera is `width`×`height`: its file read (or kept) and
    /// checked against that size (exit 3 naming the file and what is wrong).
    pub fn occluder(
        &mut self,
        frame: i64,
        width: u32,
        height: u32,
    ) -> Result<Occluder<'_>, CliError> {
        let path = self.spec.path_of(frame)?;
        if self.last.as_ref().is_none_or(|l| l.0 != path) {
            self.last = None;
            let array = read_npy(&path)?;
            if !matches!(array.dtype.get(1..), Some("f4" | "f8")) {
                return Err(CliError::Input(format!(
                    "{}: the occluder depth has dtype '{}'; float32 or float64 (f4/f8) is read",
                    path.display(),
                    array.dtype
                )));
            }
            self.last = Some((path.clone(), array.shape, array.data));
        }
        let (_, shape, data) = self.last.as_ref().expect("just read");
        let (w, h) = (width as usize, height as usize);
        if shape[..] != [h, w] {
            return Err(CliError::Input(format!(
                "{}: the occluder depth has shape {}, but the camera of frame {frame} is \
                 {w}x{h}: shape ({h}, {w}) (rows, columns) is needed",
                path.display(),
                shape_text(shape.iter().map(|&d| Some(d))),
            )));
        }
        Ok(Occluder {
            source: OccluderSource::Values(data),
            convention: self.spec.convention,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(conv: Option<Convention>, near: Option<f32>, far: Option<f32>) -> OccluderArgs {
        OccluderArgs {
            occluder: Some("d.npy".into()),
            occluder_convention: conv,
            occluder_near: near,
            occluder_far: far,
            occluder_reversed: false,
            occluder_orthographic: false,
        }
    }

    #[test]
    fn flags_are_checked_like_the_c_api() {
        let usage = |a: OccluderArgs| match a.spec() {
            Err(CliError::Usage(m)) => m,
            other => panic!("{other:?}"),
        };
        let m = usage(args(Some(Convention::Linear), Some(1.0), None));
        assert!(m.contains("linear"), "{m}");
        let m = usage(args(Some(Convention::ZeroToOne), Some(1.0), None));
        assert!(m.contains("needs"), "{m}");
        let m = usage(args(Some(Convention::Gl), Some(0.0), Some(10.0)));
        assert!(m.contains("near plane 0"), "{m}");
        let m = usage(OccluderArgs {
            occluder: None,
            ..args(Some(Convention::Gl), None, None)
        });
        assert!(m.contains("none is given"), "{m}");
        let inf = args(Some(Convention::ZeroToOne), Some(0.5), Some(f32::INFINITY))
            .spec()
            .unwrap()
            .unwrap();
        assert_eq!(inf.convention.far, f32::INFINITY);
        let rec = inf.canonical_args(|p| p.display().to_string());
        assert_eq!(
            rec.join(" "),
            "--occluder d.npy --occluder-convention zero-to-one --occluder-near 0.5 \
             --occluder-far inf"
        );
    }

    #[test]
    fn a_frame_number_in_the_name_picks_a_file_per_frame() {
        let spec = OccluderArgs {
            occluder: Some("dir/depth.####.npy".into()),
            ..args(None, None, None)
        }
        .spec()
        .unwrap()
        .unwrap();
        assert_eq!(spec.path_of(7).unwrap(), Path::new("dir/depth.0007.npy"));
        assert!(matches!(spec.path_of(-1), Err(CliError::Usage(_))));
        let one = args(None, None, None).spec().unwrap().unwrap();
        assert_eq!(one.path_of(12).unwrap(), Path::new("d.npy"));
    }
}
