//! `vksplat render`: one scene, a camera or a camera path, one image or a range of frames.
//!
//! Without `--frames` and with a plain output name this is the single-frame command
//! (`vksplat render` alone renders the bundled sample to render.png). With a frame list, an
//! output pattern (`shot.####.exr`), a camera path or `--orbit`, it is the render-farm command:
//! device setup and scene upload once per process, then frames streamed through a pipeline
//! (the render thread renders frame i+1 while writer threads encode and write frame i; see
//! [`render_frames`]).
//!
//! Order of work, chosen so that cheap checks fail before expensive ones:
//! 1. the output pattern (extension → format): exit 2;
//! 2. the camera source (file, `--orbit`, automatic), the plugin that reads the scene
//!    (`--plugin`, or by content from the manifests, see [`crate::plugins::choose`]: exit 2
//!    when two claim it) and the frame list, each frame in the path's range (any frame for
//!    one camera with `--fps`), and the frames' times ([`crate::time`]): exit 3 / 2;
//! 3. every output path: a name of at most 255 bytes, no directory or special file (FIFO,
//!    device, socket) under it, its directory created if missing (unless `--no-create-dirs`)
//!    and writable: exit 6, before the scene is read (see [`crate::outputs`]);
//! 4. `--skip-existing`: frames whose file is complete, of the job's image size and recorded
//!    command line are reported and dropped; when none is left, the command ends here (no
//!    scene load, no device); then `--occluder` (its flags were checked in step 1, exit 2):
//!    every frame's depth file is a regular file and the first one is read and checked against
//!    its frame's size: exit 3 (see [`crate::occluder`]);
//! 5. the Vulkan device (`--device`): exit 5, before the scene is read, so a node without a
//!    usable driver fails in milliseconds instead of after loading a large scene;
//! 6. the scene (read, validate or `--drop-invalid`): exit 3;
//! 7. pipelines, upload and frames: exit 1 (3 for a camera the pipeline rejects, 8 for a lost
//!    device); validation-layer errors, if enabled, fail the frame (exit 1) and it is not
//!    written;
//! 8. each image, written atomically (temp file, fsync, rename): exit 6 (disk full, size
//!    limit); the frames already written stay, no partial file is left.
//!
//! SIGINT/SIGTERM/SIGHUP: see [`crate::signals`] (exit 130/143/129 after finishing the frames in
//! flight).

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use vksplat_core::{
    Context, ContextDesc, DepthKind, DeviceChoice, Frame, FrameStats, RenderMode, RenderSettings,
    Renderer, SceneExtent,
};
use vksplat_io::camera::{auto_camera, load_camera_path, orbit};
use vksplat_io::scene::{Check, CheckedScene, InvalidSplats};
use vksplat_io::{Camera, ExrColor, ExrCompression, ExrOptions, Splats};
use vksplat_plugin_host::Scene;

use crate::camera_path::{self, OrbitSpec};
use crate::error::CliError;
use crate::output_pattern::OutputPattern;
use crate::outputs::{self, Format};
use crate::progress::{FrameStatus, FrameTimes, LogFormat, Progress};
use crate::signals;
use crate::stderr::say;
use crate::time::Timing;

/// Default image size of the automatic camera.
const DEFAULT_WIDTH: u32 = 1280;
const DEFAULT_HEIGHT: u32 = 720;
/// Largest image side accepted on the command line (the pipeline's own limit).
const MAX_SIDE: u32 = 32768;

/// Arguments of `vksplat render`.
#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Scene file: INRIA PLY, PlayCanvas compressed PLY, SPZ or .splat (found by content);
    /// the bundled sample scene when omitted
    /// (tests/data/sample/guitar.ply with its camera guitar.cameras.json, or $VKSPLAT_SAMPLE).
    pub scene: Option<PathBuf>,

    /// Camera file: one camera, a camera list (explicit world_to_camera form or INRIA
    /// cameras.json) or a nerfstudio camera_path.json. Frame FIRST_FRAME + i uses camera i.
    /// Without it (and without --orbit) an automatic camera frames the scene from the -z side.
    #[arg(long, value_name = "CAMS.json")]
    pub camera: Option<PathBuf>,

    /// Render only camera N of the path (frame FIRST_FRAME + N).
    #[arg(long, value_name = "N", conflicts_with = "frames")]
    pub camera_index: Option<usize>,

    /// Turntable of N frames around the scene's bounds: camera i at angle 360°·i/N, RADIUS
    /// from the axis (default: the whole scene in view), HEIGHT along --up from the centre
    /// (default 0). Size from --width/--height (default 1280x720).
    #[arg(long, value_name = "N[,RADIUS[,HEIGHT]]", conflicts_with = "camera",
          value_parser = camera_path::parse_orbit)]
    pub orbit: Option<OrbitSpec>,

    /// World up axis of --orbit (the turntable axis).
    #[arg(long, value_name = "X,Y,Z", default_value = "0,-1,0", value_parser = parse_up)]
    pub up: Up,

    /// Frames to render: 1-100, 1,3,7-20:2, 1-100x5 (OpenJD and OpenCue grammars; 10-1
    /// counts down). Default: every camera of the path when --output has a frame number,
    /// else the first camera only.
    #[arg(long, value_name = "LIST", value_parser = parse_frames, allow_hyphen_values = true)]
    pub frames: Option<FrameList>,

    /// Frame number of the path's first camera.
    #[arg(
        long,
        value_name = "F",
        default_value_t = 0,
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(i64).range(-(1i64 << 52)..=(1i64 << 52))
    )]
    pub first_frame: i64,

    /// Output image or pattern; the format follows the extension: .png (8-bit RGB) or .exr
    /// (float32 R,G,B,A,Z with metadata). The frame number is written as #### (zero-padded to
    /// the number of #), %04d or {frame:04}.
    #[arg(
        short,
        long,
        value_name = "OUT.exr|OUT.png|shot.####.exr",
        default_value = "render.png"
    )]
    pub output: String,

    /// EXR compression: zip (the default; lossless, 16 lines per chunk), zips (lossless, one
    /// line per chunk), piz (lossless wavelet, 32 lines), dwaa (lossy DCT on R,G,B at
    /// OpenEXR's default level 45, 32 lines) or none.
    #[arg(long, value_name = "none|zip|zips|piz|dwaa", default_value = "zip",
          value_parser = parse_exr_compression)]
    pub exr_compression: ExrCompression,

    /// Store R,G,B,A as 16-bit HALF in EXR files (Z stays 32-bit FLOAT).
    #[arg(long)]
    pub exr_half: bool,

    /// Colour encoding of EXR files: linear (scene-linear Rec.709: the inverse sRGB transfer
    /// of the renderer's display-encoded values, composited again in linear light) or raw (the
    /// renderer's values, as the PNG has them).
    #[arg(long, value_name = "linear|raw", value_enum, default_value_t = ExrColorMode::Linear)]
    pub exr_color: ExrColorMode,

    /// Replace existing output files (the default; files are replaced atomically).
    #[arg(long, conflicts_with = "skip_existing")]
    pub overwrite: bool,

    /// Keep frames whose output file exists, is complete, has the job's image size and
    /// records this job's command line; render only the others (retries, resuming an
    /// interrupted range).
    #[arg(long)]
    pub skip_existing: bool,

    /// Fail (exit 6) when an output directory is missing instead of creating it (by default
    /// missing directories are created, like mkdir -p, before the scene is read).
    #[arg(long)]
    pub no_create_dirs: bool,

    /// Progress on stdout: text (PROGRESS/ALF_PROGRESS lines on a pipe, a bar on a
    /// terminal), json (one object per line) or openjd (openjd_progress lines).
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Render every camera of the camera file with several views per GPU submission
    /// (`--batch` views, default 4) instead of one submission per frame.
    #[arg(long, conflicts_with = "camera_index")]
    pub all_cameras: bool,

    /// Views per GPU submission (1 = one submission per frame; with --all-cameras default 4).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub batch: Option<u32>,

    /// Threads that encode and write frames while the next one renders; 0 renders and writes
    /// one frame after the other on one thread.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(0..=16))]
    pub write_threads: u32,

    /// Forward-pass rules: classic, antialiased, inria or khr (glTF KHR_gaussian_splatting's
    /// 3σ cut-off and camera-distance sort). Default: antialiased when the scene file says it
    /// was trained with antialiasing (SPZ flag, PLY comment `antialiased=true`), else classic.
    #[arg(long, value_name = "MODE", value_parser = parse_mode)]
    pub mode: Option<RenderMode>,

    /// RGB background behind the splats, three finite numbers in the renderer's
    /// display-encoded values (like the PNG; EXR's linear encoding converts it too).
    #[arg(long, value_name = "R,G,B", default_value = "0,0,0", value_parser = parse_background)]
    pub background: Background,

    /// Near clip plane: splats closer than this camera depth (world units along the view
    /// axis) are not drawn. The mode's fixed near (0.01, inria 0.2) applies as well.
    #[arg(long, value_name = "DEPTH")]
    pub near: Option<f32>,

    /// Far clip plane: splats farther than this camera depth are not drawn. Must be beyond
    /// --near.
    #[arg(long, value_name = "DEPTH")]
    pub far: Option<f32>,

    /// What the depth output (the EXR's Z channel) holds, as camera depth: expected (the
    /// alpha-weighted mean ΣαTz/(1−T)), median (the depth of the splat at which the
    /// accumulated opacity reaches 0.5) or first (the first splat that blends). 0 where the
    /// kind has no value (nothing hit; for median, alpha below 0.5). Not with
    /// --motion-samples above 1 (its depth average is of expected depths).
    #[arg(long, value_name = "expected|median|first", default_value = "expected",
          value_parser = parse_depth_kind)]
    pub depth_kind: DepthKind,

    /// Image width in pixels (rescales the camera; keeps the aspect ratio if --height is not
    /// given). Default for the automatic camera and --orbit: 1280.
    #[arg(long, value_name = "W", value_parser = clap::value_parser!(u32).range(1..=MAX_SIDE as i64))]
    pub width: Option<u32>,

    /// Image height in pixels (rescales the camera; keeps the aspect ratio if --width is not
    /// given). Default for the automatic camera and --orbit: 720.
    #[arg(long, value_name = "H", value_parser = clap::value_parser!(u32).range(1..=MAX_SIDE as i64))]
    pub height: Option<u32>,

    /// Vulkan device: auto (a GPU if there is one, else the CPU), gpu (a hardware GPU only:
    /// CPU/software devices such as lavapipe or SwiftShader are refused with exit 5), cpu, an
    /// index from `vksplat devices`, or part of a device name.
    #[arg(long, value_name = "auto|gpu|cpu|INDEX|NAME", default_value = "auto")]
    pub device: String,

    /// Enable the Vulkan validation layers (also VKSPLAT_VALIDATION=1); any validation error
    /// fails the frame with exit code 1.
    #[arg(long)]
    pub validation: bool,

    /// Drop splats with non-finite values or zero quaternions (with a warning) instead of
    /// rejecting the scene.
    #[arg(long)]
    pub drop_invalid: bool,

    /// Print frame statistics (intersections, attempts, per-stage GPU time, device memory,
    /// wall time) to stderr.
    #[arg(long)]
    pub stats: bool,

    /// Print only warnings and errors on stderr (progress on stdout stays, without the bar).
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub occluder: crate::occluder::OccluderArgs,

    #[command(flatten)]
    pub plugin: crate::plugins::PluginArgs,

    #[command(flatten)]
    pub timing: crate::time::TimeArgs,
}

/// A parsed `--background`.
#[derive(Clone, Copy, Debug)]
pub struct Background(pub [f32; 3]);

/// A parsed `--frames`.
#[derive(Clone, Debug)]
pub struct FrameList(pub Vec<i64>);

/// A parsed `--up`.
#[derive(Clone, Copy, Debug)]
pub struct Up(pub [f64; 3]);

fn parse_frames(s: &str) -> Result<FrameList, String> {
    crate::frames::parse(s).map(FrameList)
}

fn parse_up(s: &str) -> Result<Up, String> {
    camera_path::parse_up(s).map(Up)
}

fn parse_mode(s: &str) -> Result<RenderMode, String> {
    RenderMode::parse(&s.to_ascii_lowercase())
        .ok_or_else(|| format!("unknown mode '{s}' (expected classic, antialiased, inria or khr)"))
}

fn parse_depth_kind(s: &str) -> Result<DepthKind, String> {
    DepthKind::parse(s)
        .ok_or_else(|| format!("unknown depth kind '{s}' (expected expected, median or first)"))
}

/// `--exr-color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExrColorMode {
    Linear,
    Raw,
}

fn parse_exr_compression(s: &str) -> Result<ExrCompression, String> {
    ExrCompression::parse(s).ok_or_else(|| {
        format!("unknown EXR compression '{s}' (expected none, zip, zips, piz or dwaa)")
    })
}

fn parse_background(s: &str) -> Result<Background, String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if parts.len() != 3 {
        return Err(format!(
            "expected three comma-separated numbers R,G,B, got {} value(s)",
            parts.len()
        ));
    }
    let mut rgb = [0.0f32; 3];
    for (v, p) in rgb.iter_mut().zip(&parts) {
        *v = p
            .parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("'{p}' is not a finite number"))?;
    }
    Ok(Background(rgb))
}

/// The scene to render: the argument, else `$VKSPLAT_SAMPLE`, else the bundled sample.
fn scene_path(arg: Option<&Path>) -> Result<PathBuf, CliError> {
    if let Some(p) = arg {
        return Ok(p.to_path_buf());
    }
    let (path, origin) = match std::env::var_os("VKSPLAT_SAMPLE") {
        Some(p) if !p.is_empty() => (PathBuf::from(p), "VKSPLAT_SAMPLE"),
        _ => (
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../tests/data/sample/guitar.ply"
            )),
            "the bundled sample scene",
        ),
    };
    if !path.is_file() {
        return Err(CliError::Input(format!(
            "{}: no SCENE given and {origin} does not exist; pass a PLY file or set \
             VKSPLAT_SAMPLE",
            path.display()
        )));
    }
    Ok(path)
}

/// Size for a camera `w`×`h` given the optional flags (one flag keeps the aspect ratio).
fn target_size(w: u32, h: u32, width: Option<u32>, height: Option<u32>) -> (u32, u32) {
    let aspect = |num: u32, a: u32, b: u32| -> u32 {
        let v = (f64::from(num) * f64::from(a) / f64::from(b.max(1))).round();
        (v as u32).clamp(1, MAX_SIDE)
    };
    match (width, height) {
        (Some(tw), Some(th)) => (tw, th),
        (Some(tw), None) => (tw, aspect(tw, h, w)),
        (None, Some(th)) => (aspect(th, w, h), th),
        (None, None) => (w, h),
    }
}

/// Applies the size flags to camera `index` of `path`.
fn sized_camera(
    camera: Camera,
    path: &Path,
    index: usize,
    args: &RenderArgs,
) -> Result<Camera, CliError> {
    let (w, h) = target_size(camera.width, camera.height, args.width, args.height);
    if (w, h) == (camera.width, camera.height) {
        return Ok(camera);
    }
    let camera = camera.rescaled(w, h);
    camera.validate().map_err(|e| {
        CliError::Input(format!(
            "{}: camera {index} ('{}') rescaled to {w}x{h}: {e}",
            path.display(),
            camera.name
        ))
    })?;
    Ok(camera)
}

/// Where the cameras come from.
enum Source {
    /// A camera file, already loaded and sized, and the frame rate it declares.
    File(PathBuf, Vec<Camera>, Option<(i32, u32)>),
    Orbit(OrbitSpec),
    Auto,
}

impl Source {
    fn len(&self) -> usize {
        match self {
            Source::File(_, cams, _) => cams.len(),
            Source::Orbit(spec) => spec.frames as usize,
            Source::Auto => 1,
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::File(p, _, _) => p.display().to_string(),
            Source::Orbit(_) => "--orbit".into(),
            Source::Auto => "the automatic camera".into(),
        }
    }

    /// Camera i of the path is frame `--first-frame` + i. The orbit and the automatic camera
    /// frame `splats` at the size flags (default 1280x720).
    fn cameras(&self, args: &RenderArgs, splats: &Splats) -> Cow<'_, [Camera]> {
        let (w, h) = target_size(DEFAULT_WIDTH, DEFAULT_HEIGHT, args.width, args.height);
        match self {
            Source::File(_, cams, _) => Cow::Borrowed(cams),
            Source::Orbit(spec) => Cow::Owned(orbit(splats, spec, args.up.0, w, h)),
            Source::Auto => {
                let c = auto_camera(splats, w, h);
                let p = c.position();
                note(
                    args,
                    format_args!(
                        "automatic camera: {w}x{h} at [{:.4}, {:.4}, {:.4}] looking down +z",
                        p[0], p[1], p[2]
                    ),
                );
                Cow::Owned(vec![c])
            }
        }
    }
}

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn print_stats(stats: &FrameStats, times: &[(&str, Duration)], total: Duration) {
    say!("stats: intersections {}", stats.intersections);
    say!("stats: attempts {}", stats.attempts);
    let stages = stats.stage_ms();
    let gpu_total: f64 = stages.iter().map(|(_, t)| t).sum();
    for (name, t) in &stages {
        say!("stats: gpu {name} {t:.3} ms");
    }
    say!("stats: gpu total {gpu_total:.3} ms");
    say!(
        "stats: device memory {:.1} MB",
        megabytes(stats.device_bytes)
    );
    for (name, t) in times {
        say!("stats: wall {name} {:.1} ms", ms(*t));
    }
    say!("stats: wall total {:.1} ms", ms(total));
}

/// Quotes one argument for a POSIX shell, only when needed.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:,=+-#%{}@".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Everything a writer needs besides the frame itself.
struct OutputMeta {
    format: Format,
    device: String,
    mode: &'static str,
    scene: String,
    source: String,
    background: String,
    /// The command that renders one frame of this run, with `{}` for the frame (see
    /// [`canonical_command`]).
    command: Vec<String>,
    exr_compression: ExrCompression,
    exr_half: bool,
    exr_color: ExrColor,
    /// `framesPerSecond` of the camera path, when the file says.
    fps: Option<(i32, u32)>,
    /// `SOURCE_DATE_EPOCH`: every frame's capDate, instead of the time it is written.
    source_date: Option<i64>,
    /// Plugin scenes: each frame's time (and shutter), recorded in EXR headers.
    timing: Option<Timing>,
}

/// `capDate` text (`YYYY:MM:DD hh:mm:ss`, UTC) for `unix_seconds`; `None` outside the years
/// 0000-9999.
fn cap_date(unix_seconds: i64) -> Option<String> {
    let (y, m, d) = crate::civil_date::civil_from_days(unix_seconds.div_euclid(86_400));
    let s = unix_seconds.rem_euclid(86_400);
    (0..=9999).contains(&y).then(|| {
        format!(
            "{y:04}:{m:02}:{d:02} {:02}:{:02}:{:02}",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    })
}

/// `SOURCE_DATE_EPOCH` (the reproducible-builds convention) as the capDate of every frame, so
/// that reruns give bit-identical files; an unusable value is ignored with a warning.
fn source_date_epoch() -> Option<i64> {
    let v = std::env::var("SOURCE_DATE_EPOCH").ok()?;
    if v.is_empty() {
        return None;
    }
    match v.trim().parse::<i64>() {
        Ok(t) if cap_date(t).is_some() => Some(t),
        _ => {
            say!(
                "warning: SOURCE_DATE_EPOCH='{v}' is not a Unix time in the years 0-9999; EXR \
                 capDate uses the current time"
            );
            None
        }
    }
}

/// The command line recorded in the EXR header: the arguments that decide the pixels and the
/// file name, normalised and with `--frames` set to the frame of the file. Flags that change
/// neither (progress, retries, threads, stats) are left out, so a file is bit-identical
/// whether it was rendered alone, in a chunk, in one long range or by a `--skip-existing`
/// rerun.
fn canonical_command(
    args: &RenderArgs,
    scene: &Path,
    mode: RenderMode,
    timing: Option<&Timing>,
) -> Vec<String> {
    let mut c: Vec<String> = vec!["vksplat".into(), "render".into(), absolute(scene)];
    if let Some(cam) = &args.camera {
        c.extend(["--camera".into(), absolute(cam)]);
    }
    if let Some(o) = &args.orbit {
        let mut spec = o.frames.to_string();
        if let Some(r) = o.radius {
            spec += &format!(",{r}");
        }
        if let Some(h) = o.height {
            spec += &format!(",{h}");
        }
        let up = args.up.0;
        c.extend([
            "--orbit".into(),
            spec,
            "--up".into(),
            format!("{},{},{}", up[0], up[1], up[2]),
        ]);
    }
    if args.first_frame != 0 {
        c.extend(["--first-frame".into(), args.first_frame.to_string()]);
    }
    c.extend(["--frames".into(), "{}".into()]);
    let bg = args.background.0;
    // The mode in effect (flag or scene file), so that the record does not depend on how it
    // was chosen.
    c.extend([
        "--mode".into(),
        mode.name().into(),
        "--background".into(),
        format!("{},{},{}", bg[0], bg[1], bg[2]),
    ]);
    for (flag, v) in [("--near", args.near), ("--far", args.far)] {
        if let Some(v) = v {
            c.extend([flag.into(), v.to_string()]);
        }
    }
    // The host depth changes the pixels: its file (or pattern) and convention are recorded
    // (nothing without --occluder, so that other records read as before). The flags were
    // checked in step 1.
    if let Ok(Some(occ)) = args.occluder.spec() {
        c.extend(occ.canonical_args(absolute));
    }
    if let Some(w) = args.width {
        c.extend(["--width".into(), w.to_string()]);
    }
    if let Some(h) = args.height {
        c.extend(["--height".into(), h.to_string()]);
    }
    if args.drop_invalid {
        c.push("--drop-invalid".into());
    }
    let p = &args.plugin;
    if let Some(plugin) = &p.plugin {
        // A manifest path is made absolute; a bare name stays a name.
        let plugin = if plugin.contains('/') {
            absolute(Path::new(plugin))
        } else {
            plugin.clone()
        };
        c.extend(["--plugin".into(), plugin]);
    }
    // A plugin scene (named or found by content): what decides its splats at each frame.
    if let Some(timing) = timing {
        for param in &p.params {
            c.extend(["--param".into(), param.clone()]);
        }
        c.extend(timing.canonical_args());
        if let Some(eval) = clap::ValueEnum::to_possible_value(&p.plugin_eval) {
            c.extend(["--plugin-eval".into(), eval.get_name().into()]);
        }
    }
    // EXR options change the file (not a PNG's); the values in effect are recorded.
    if outputs::output_format(Path::new(&args.output)).ok() == Some(Format::Exr) {
        c.extend([
            "--exr-compression".into(),
            args.exr_compression.name().into(),
        ]);
        if args.exr_half {
            c.push("--exr-half".into());
        }
        let color = match args.exr_color {
            ExrColorMode::Linear => "linear",
            ExrColorMode::Raw => "raw",
        };
        c.extend(["--exr-color".into(), color.into()]);
        // The depth kind changes Z; recorded only when not the default, so that records of
        // expected depth read as before.
        if args.depth_kind != DepthKind::Expected {
            c.extend(["--depth-kind".into(), args.depth_kind.name().into()]);
        }
    }
    c.extend(["--output".into(), absolute(Path::new(&args.output))]);
    c
}

/// `path` made absolute against the current directory (not resolving links; a path that
/// cannot be made absolute is kept as it is).
fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// The command line recorded in frame `frame`'s file: [`canonical_command`] with `{}` replaced
/// by the frame number, each argument quoted for a POSIX shell. One function for the writer
/// and for the `--skip-existing` check, so that the two never disagree.
fn frame_command_line(command: &[String], frame: i64) -> String {
    let frame = frame.to_string();
    command
        .iter()
        .map(|a| {
            if a == "{}" {
                frame.clone()
            } else {
                shell_quote(a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Renders views, each a frame number and its camera (the device, scene, settings and the
/// frames' times are bound in).
type RenderFn<'a> = dyn FnMut(&[(i64, &Camera)]) -> Result<Vec<(Frame, FrameStats)>, CliError> + 'a;

/// One rendered frame on its way to a writer.
struct Job {
    frame: i64,
    path: PathBuf,
    camera: Camera,
    image: Frame,
    render: Duration,
}

/// What a writer reports.
enum Event {
    Written {
        frame: i64,
        path: PathBuf,
        times: FrameTimes,
    },
    Failed(CliError),
}

/// Encodes and writes one frame atomically.
fn write_frame(job: &Job, meta: &OutputMeta) -> Result<(), CliError> {
    let image = &job.image;
    let command = frame_command_line(&meta.command, job.frame);
    match meta.format {
        Format::Png => {
            let software = format!("vksplat {}", crate::version::LONG);
            vksplat_io::write_png_with_text(
                &job.path,
                image.width,
                image.height,
                &image.rgba,
                &[("Software", &software), ("command_line", &command)],
            )?
        }
        Format::Exr => {
            let c = &job.camera;
            let frame = job.frame.to_string();
            let intrinsics = format!("{} {} {} {}", c.fx, c.fy, c.cx, c.cy);
            let w2c = c
                .world_to_camera
                .iter()
                .flatten()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(" ");
            let size = format!("{}x{}", image.width, image.height);
            let attributes = [
                ("vksplat_version", crate::version::LONG),
                ("device", meta.device.as_str()),
                ("mode", meta.mode),
                ("camera", c.name.as_str()),
                ("camera_source", meta.source.as_str()),
                ("camera_intrinsics", intrinsics.as_str()),
                ("camera_world_to_camera", w2c.as_str()),
                ("camera_size", size.as_str()),
                ("frame", frame.as_str()),
                ("background", meta.background.as_str()),
                ("scene", meta.scene.as_str()),
                ("command_line", command.as_str()),
            ];
            let now = || {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64)
            };
            let date = cap_date(meta.source_date.unwrap_or_else(now));
            let options = ExrOptions {
                compression: meta.exr_compression,
                half: meta.exr_half,
                color: meta.exr_color,
                camera: Some(c),
                frames_per_second: meta.fps,
                cap_date: date.as_deref(),
                time: meta.timing.map(|t| t.frame_time(job.frame)),
                shutter: meta.timing.and_then(|t| t.shutter_record()),
                attributes: &attributes,
            };
            vksplat_io::write_exr_with(
                &job.path,
                image.width,
                image.height,
                &image.rgba,
                &image.depth,
                &options,
            )?
        }
    }
    Ok(())
}

/// Runs `vksplat render`.
pub fn run(args: &RenderArgs) -> Result<(), CliError> {
    signals::install(signals::OnStop::Finish);
    let mut progress = Progress::new(args.log_format, 0, args.quiet);
    let result = run_frames(args, &mut progress);
    match &result {
        Ok(Some(sig)) => {
            let msg = format!(
                "interrupted by {}: {} of {} frame(s) written, {} skipped; rerun with \
                 --skip-existing to finish",
                signals::signal_name(*sig),
                progress.written(),
                progress.total(),
                progress.skipped(),
            );
            let code = signals::exit_code(*sig);
            progress.finish(Some((code, &msg)));
            say!("ERROR: {msg}");
            std::process::exit(code);
        }
        Ok(None) => progress.finish(None),
        Err(e) => progress.finish(Some((e.exit_code(), e.message()))),
    }
    result.map(|_| ())
}

/// The whole command; `Ok(Some(signal))` when a stop signal ended it early. One call per step
/// of the module doc, in that order.
fn run_frames(args: &RenderArgs, progress: &mut Progress) -> Result<Option<i32>, CliError> {
    let start = Instant::now();
    let mut times = Times::default();
    // 1-3: everything that needs neither the scene nor the device.
    let (pattern, format) = output_format(args)?;
    // Clip planes are checked before anything is loaded (exit 2).
    frame_settings(args, RenderMode::Classic)
        .clip_range()
        .map_err(|e| CliError::Usage(format!("--near/--far: {e}")))?;
    if args.depth_kind != DepthKind::Expected && args.timing.motion_samples > 1 {
        return Err(CliError::Usage(format!(
            "--depth-kind {} with --motion-samples {}: motion blur averages expected depths \
             only (a mean of median or first-hit depths is neither)",
            args.depth_kind.name(),
            args.timing.motion_samples
        )));
    }
    let occluder_spec = args.occluder.spec()?;
    let inputs = Inputs::resolve(args)?;
    let frames = frame_list(args, &pattern, &inputs.source)?;
    let timing = frame_timing(args, &inputs)?;
    outputs::check_outputs(
        frames.iter().map(|(_, p)| p.as_path()),
        !args.no_create_dirs,
    )?;
    // 4.
    let todo = skip_existing(args, format, &inputs, frames, timing.as_ref(), progress);
    if todo.is_empty() {
        return Ok(None);
    }
    let mut occluder = occluder_spec.map(crate::occluder::OccluderLoader::new);
    if let Some(loader) = occluder.as_mut() {
        loader.spec().check_files(todo.iter().map(|t| t.0))?;
        let first = todo[0].0;
        let (w, h) = frame_size(args, &inputs.source, first);
        loader.occluder(first, w, h)?;
    }
    if let Some(sig) = signals::stop_requested() {
        return Ok(Some(sig));
    }
    // 5-6.
    let ctx = times.time("device", || open_device(args))?;
    let framing_time = timing.map_or(args.plugin.time, |t| t.frame_time(todo[0].0));
    let input = times.time("load", || load_input(args, &inputs, framing_time))?;
    let mode = render_mode(args, &input);
    note(
        args,
        format_args!(
            "loaded {} splats (SH degree {}) from {}",
            input.splats.len(),
            input.splats.sh_degree,
            inputs.scene.display()
        ),
    );
    let source_label = inputs.source_label(args);
    let cameras = inputs.source.cameras(args, &input.splats);
    // 7.
    let core_err = |e| CliError::from_core(e, &inputs.scene, inputs.camera_file.as_deref());
    let views = todo
        .into_iter()
        .map(|(f, path)| (f, path, &cameras[camera_slot(args, cameras.len(), f)]))
        .collect::<Vec<_>>();
    let mut renderer = times.time("pipelines", || Renderer::new(ctx.clone()).map_err(core_err))?;
    check_frame_sizes(&renderer, &input.splats, &views, core_err)?;
    // Kept to explain a frame in which nothing is visible (see `Frames::render`).
    let extent = SceneExtent::of(&input.splats);
    let mut scene = times.time("upload", || {
        crate::plugins::upload(
            &renderer,
            &input.splats,
            input.antialiased,
            input.plugin,
            core_err,
        )
    })?;
    drop(input.splats);
    let device = ctx.info().name.clone();
    let meta = output_meta(
        args,
        format,
        &inputs,
        mode,
        device.clone(),
        source_label,
        timing,
    );
    note(
        args,
        format_args!("rendering {} frame(s) on {device}", views.len()),
    );
    let mut frames = Frames {
        ctx: &ctx,
        renderer: &mut renderer,
        scene: &mut scene,
        settings: frame_settings(args, mode),
        extent,
        inputs: &inputs,
        timing,
        occluder,
    };
    progress.rendering();
    let outcome = times.time("frames", || {
        let mut render = |c: &[(i64, &Camera)]| frames.render(c);
        render_frames(args, &views, &meta, &mut render, progress)
    });
    // 8. Validation errors are counted by the debug callback, also while objects are destroyed.
    drop(scene);
    drop(renderer);
    let errors = ctx.validation_errors();
    let (stopped, last_stats) = outcome?;
    if errors > 0 {
        say!("warning: the Vulkan validation layers reported {errors} error(s) (see above)");
        return Err(CliError::Render(format!(
            "{}: Vulkan validation failed",
            inputs.scene.display()
        )));
    }
    report_end(args, progress, last_stats.as_ref(), &times, start.elapsed());
    Ok(stopped)
}

/// A note on stderr, unless `--quiet`.
/// The render settings of the flags, in `mode`.
fn frame_settings(args: &RenderArgs, mode: RenderMode) -> RenderSettings {
    RenderSettings {
        mode,
        background: args.background.0,
        near: args.near,
        far: args.far,
        depth: args.depth_kind,
    }
}

fn note(args: &RenderArgs, msg: std::fmt::Arguments<'_>) {
    if !args.quiet {
        say!("{msg}");
    }
}

/// Wall time of the command's steps, for `--stats`.
#[derive(Default)]
struct Times(Vec<(&'static str, Duration)>);

impl Times {
    /// Runs `f` and records how long it took as `name`.
    fn time<T>(&mut self, name: &'static str, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.0.push((name, t.elapsed()));
        out
    }
}

/// Step 1: the output pattern and its format; a bad name must not cost a scene load and a
/// render.
fn output_format(args: &RenderArgs) -> Result<(OutputPattern, Format), CliError> {
    let pattern = OutputPattern::parse(&args.output).map_err(CliError::Usage)?;
    let format = outputs::output_format(&pattern.path(args.first_frame))?;
    let exr_flags = args.exr_half
        || args.exr_compression != ExrCompression::Zip
        || args.exr_color != ExrColorMode::Linear;
    if format == Format::Png && exr_flags {
        say!(
            "warning: {}: --exr-compression, --exr-half and --exr-color apply to EXR outputs \
             only; the PNG is written without them",
            args.output
        );
    }
    Ok((pattern, format))
}

/// Step 2: the scene's name and the camera source (small) before the scene (large).
struct Inputs {
    /// The scene file, or `plugin:NAME` (see [`crate::plugins::scene_path`]).
    scene: PathBuf,
    /// The camera file: `--camera`, or the bundled sample's own.
    camera_file: Option<PathBuf>,
    source: Source,
    /// The plugin of a plugin scene: `--plugin`, or the one whose manifest reads the file.
    plugin: Option<crate::plugins::Choice>,
}

impl Inputs {
    /// The bundled sample comes with a hand-picked camera; other scenes without --camera get
    /// the automatic one.
    fn resolve(args: &RenderArgs) -> Result<Inputs, CliError> {
        let scene = match crate::plugins::scene_path(&args.plugin, args.scene.as_deref()) {
            Some(p) => p,
            None => scene_path(args.scene.as_deref())?,
        };
        let camera_file = args.camera.clone().or_else(|| {
            let sample_cams = scene.with_extension("cameras.json");
            (args.scene.is_none() && args.orbit.is_none() && sample_cams.is_file())
                .then_some(sample_cams)
        });
        let source = match (&camera_file, &args.orbit) {
            (Some(path), _) => {
                let file = load_camera_path(path)?;
                let cams = file
                    .cameras
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| sized_camera(c, path, i, args))
                    .collect::<Result<Vec<_>, _>>()?;
                Source::File(path.clone(), cams, file.frames_per_second)
            }
            (None, Some(spec)) => Source::Orbit(*spec),
            (None, None) => Source::Auto,
        };
        let plugin = crate::plugins::choose(&args.plugin, args.scene.as_deref())?;
        match &plugin {
            Some(crate::plugins::Choice::Detected(m)) => note(
                args,
                format_args!(
                    "{}: read by plugin '{}' ({}; --plugin overrides)",
                    scene.display(),
                    m.name,
                    m.path.display()
                ),
            ),
            Some(_) => {}
            None => static_scene_flags(args)?,
        }
        Ok(Inputs {
            scene,
            camera_file,
            source,
            plugin,
        })
    }

    /// The EXR `camera_source` attribute.
    fn source_label(&self, args: &RenderArgs) -> String {
        match (&self.camera_file, &args.orbit) {
            (Some(p), _) => p.display().to_string(),
            (None, Some(o)) => format!(
                "orbit {} radius {} height {} up {:?}",
                o.frames,
                o.radius.map_or("auto".into(), |r| r.to_string()),
                o.height.unwrap_or(0.0),
                args.up.0
            ),
            (None, None) => "auto".into(),
        }
    }
}

/// Plugin flags on a static scene: `--param` and `--plugin-eval` are errors (exit 2: they
/// would be ignored), time flags a note (a static scene looks the same at every time).
fn static_scene_flags(args: &RenderArgs) -> Result<(), CliError> {
    let p = &args.plugin;
    if !p.params.is_empty() || p.plugin_eval != crate::plugins::Eval::Auto {
        return Err(CliError::Usage(
            "--param and --plugin-eval need a plugin scene: name one with --plugin, or render \
             a file that a plugin reads (no plugin's manifest claims this scene)"
                .into(),
        ));
    }
    let t = &args.timing;
    if p.time != 0.0 || t.fps.is_some() || t.shutter.is_some() || t.motion_samples > 1 {
        note(
            args,
            format_args!(
                "note: the scene is static: --time, --fps, --shutter and --motion-samples do \
                 not change it (each frame is rendered once)"
            ),
        );
    }
    Ok(())
}

/// The time flags, checked, for a plugin scene (`None` for a static one, which has no time).
fn frame_timing(args: &RenderArgs, inputs: &Inputs) -> Result<Option<Timing>, CliError> {
    let timing = Timing::new(args.plugin.time, &args.timing, args.first_frame)?;
    Ok(inputs.plugin.is_some().then_some(timing))
}

/// Which camera of the source frame `frame` uses: camera `frame − --first-frame`, or with
/// `--fps` the only camera of a one-camera source for every frame.
fn camera_slot(args: &RenderArgs, count: usize, frame: i64) -> usize {
    if count == 1 && args.timing.fps.is_some() {
        0
    } else {
        (frame - args.first_frame) as usize
    }
}

/// Step 2: the frames, each a camera of the path, with their output paths.
fn frame_list(
    args: &RenderArgs,
    pattern: &OutputPattern,
    source: &Source,
) -> Result<Vec<(i64, PathBuf)>, CliError> {
    let count = source.len();
    let first = args.first_frame;
    let frames: Vec<i64> = if let Some(index) = args.camera_index {
        if index >= count {
            return Err(CliError::Usage(format!(
                "{}: --camera-index {index} is out of range: the file has {count} camera(s) \
                 (valid indices 0..={})",
                source.describe(),
                count - 1
            )));
        }
        vec![first + index as i64]
    } else if let Some(list) = &args.frames {
        list.0.clone()
    } else if pattern.has_frame() {
        (0..count as i64).map(|i| first + i).collect()
    } else {
        vec![first]
    };
    let last = first + count as i64 - 1;
    // With --fps one camera serves every frame (time moves, the camera stays).
    let any_frame = count == 1 && args.timing.fps.is_some();
    if let Some(bad) = frames
        .iter()
        .find(|&&f| !any_frame && (f < first || f > last))
    {
        return Err(CliError::Usage(format!(
            "{}: frame {bad} is out of range: the path has {count} camera(s), frames \
             {first}..={last} (--first-frame {first})",
            source.describe()
        )));
    }
    if frames.len() > 1 && !pattern.has_frame() {
        return Err(CliError::Usage(format!(
            "{}: {} frames requested but the output name has no frame number; use a pattern \
             such as shot.####.exr, shot.%04d.exr or shot.{{frame:04}}.exr",
            args.output,
            frames.len()
        )));
    }
    Ok(frames.into_iter().map(|f| (f, pattern.path(f))).collect())
}

/// Step 4, `--skip-existing`: complete files of this job stay, reported as skipped; returns
/// the frames left to render (all of them without the flag). The size comes from the cameras
/// (the automatic camera and the orbit use the size flags); the scene is not read here, so
/// without --mode either mode a scene file's flag can pick counts as this job's.
fn skip_existing(
    args: &RenderArgs,
    format: Format,
    inputs: &Inputs,
    frames: Vec<(i64, PathBuf)>,
    timing: Option<&Timing>,
    progress: &mut Progress,
) -> Vec<(i64, PathBuf)> {
    progress.set_total(frames.len());
    let commands: Vec<Vec<String>> = match args.mode {
        Some(mode) => vec![canonical_command(args, &inputs.scene, mode, timing)],
        None => [RenderMode::Classic, RenderMode::Antialiased]
            .map(|mode| canonical_command(args, &inputs.scene, mode, timing))
            .into(),
    };
    let mut todo = Vec::with_capacity(frames.len());
    let mut done = Vec::new();
    for (f, path) in frames {
        if !args.skip_existing {
            todo.push((f, path));
            continue;
        }
        let (width, height) = frame_size(args, &inputs.source, f);
        let expected = outputs::Expected {
            width,
            height,
            command_lines: commands.iter().map(|c| frame_command_line(c, f)).collect(),
        };
        match outputs::existing(&path, format, &expected) {
            outputs::Existing::Keep => done.push((f, path)),
            outputs::Existing::Missing => todo.push((f, path)),
            outputs::Existing::Redo(why) => {
                say!(
                    "warning: {}: exists but {why}; rendering it again",
                    path.display()
                );
                todo.push((f, path));
            }
        }
    }
    progress.start(todo.len());
    for (f, path) in &done {
        let times = FrameTimes {
            scene_time: timing.map(|t| t.frame_time(*f)),
            ..FrameTimes::default()
        };
        progress.frame(*f, FrameStatus::Skipped, path, times);
    }
    if todo.is_empty() {
        note(
            args,
            format_args!(
                "all {} frame(s) already exist (--skip-existing); nothing to render",
                done.len()
            ),
        );
    }
    todo
}

/// The image size of frame `f` before the scene is read: its camera's, or the size flags' (default
/// 1280x720) for the orbit and the automatic camera.
fn frame_size(args: &RenderArgs, source: &Source, f: i64) -> (u32, u32) {
    match source {
        Source::File(_, cams, _) => {
            let c = &cams[camera_slot(args, cams.len(), f)];
            (c.width, c.height)
        }
        Source::Orbit(_) | Source::Auto => {
            target_size(DEFAULT_WIDTH, DEFAULT_HEIGHT, args.width, args.height)
        }
    }
}

/// Step 5: the Vulkan device, before the scene (see the module doc).
fn open_device(args: &RenderArgs) -> Result<Arc<Context>, CliError> {
    Ok(Context::new(&ContextDesc {
        device: DeviceChoice::parse(&args.device),
        validation: args.validation,
        ..ContextDesc::default()
    })?)
}

/// The scene as read, before the device has it.
struct Input {
    /// The file's splats, or splats that stand for a plugin's scene when a camera frames it.
    splats: Splats,
    /// The file says the scene was trained with antialiasing.
    antialiased: bool,
    plugin: Option<crate::plugins::Opened>,
}

/// Step 6: the plugin's scene (opened, with `--param`; an automatic camera frames it at
/// `time`), or the scene file, read and validated (or `--drop-invalid`).
fn load_input(args: &RenderArgs, inputs: &Inputs, time: f64) -> Result<Input, CliError> {
    let scene = &inputs.scene;
    Ok(
        match crate::plugins::open(
            inputs.plugin.as_ref(),
            &args.plugin,
            args.scene.as_deref(),
            time,
        )? {
            Some((opened, splats)) => Input {
                splats,
                antialiased: false,
                plugin: Some(opened),
            },
            None => {
                let file = read_scene(scene, args.drop_invalid)?.file;
                Input {
                    splats: file.splats,
                    antialiased: file.antialiased,
                    plugin: None,
                }
            }
        },
    )
}

/// Reads a scene file (any format, by content) and checks it: notes and dropped splats are
/// reported on stderr; an invalid scene is an input error unless `drop_invalid` removes the
/// invalid splats. `render` and `convert` share it.
pub fn read_scene(path: &Path, drop_invalid: bool) -> Result<CheckedScene, CliError> {
    let policy = if drop_invalid {
        InvalidSplats::Drop
    } else {
        InvalidSplats::Reject {
            hint: Some("--drop-invalid removes such splats"),
        }
    };
    let checked = vksplat_io::scene::read_scene_checked(path, policy)?;
    for n in checked.notes() {
        say!("note: {}: {n}", path.display());
    }
    if let Check::Dropped { count, problem } = &checked.check {
        say!(
            "warning: {}: dropped {count} invalid splat(s) ({problem}); {} remain",
            path.display(),
            checked.splats().len()
        );
    }
    Ok(checked)
}

/// `--mode`, else the one the scene file's antialiasing flag picks (said in a note).
fn render_mode(args: &RenderArgs, input: &Input) -> RenderMode {
    if args.mode.is_none() && input.antialiased {
        note(
            args,
            format_args!(
                "the scene is marked as trained with antialiasing: antialiased mode (--mode \
                 overrides)"
            ),
        );
    }
    args.mode
        .unwrap_or_else(|| vksplat_plugin_host::scene::default_mode(input.antialiased))
}

/// Step 7, before the upload: every image size must fit the device and this process (exit 1
/// "too large for this device", or 7 for host memory, and nothing allocated).
fn check_frame_sizes(
    renderer: &Renderer,
    splats: &Splats,
    views: &[(i64, PathBuf, &Camera)],
    core_err: impl Fn(vksplat_core::CoreError) -> CliError,
) -> Result<(), CliError> {
    let num_splats = u32::try_from(splats.len()).unwrap_or(u32::MAX);
    let mut sizes: Vec<(u32, u32)> = views.iter().map(|v| (v.2.width, v.2.height)).collect();
    sizes.sort_unstable();
    sizes.dedup();
    for (w, h) in sizes {
        renderer
            .check_frame_size(num_splats, w, h)
            .map_err(&core_err)?;
    }
    Ok(())
}

/// Everything the writers record besides the frame itself.
fn output_meta(
    args: &RenderArgs,
    format: Format,
    inputs: &Inputs,
    mode: RenderMode,
    device: String,
    source: String,
    timing: Option<Timing>,
) -> OutputMeta {
    let bg = args.background.0;
    OutputMeta {
        format,
        device,
        mode: mode.name(),
        scene: inputs.scene.display().to_string(),
        source,
        background: format!("{} {} {}", bg[0], bg[1], bg[2]),
        command: canonical_command(args, &inputs.scene, mode, timing.as_ref()),
        exr_compression: args.exr_compression,
        exr_half: args.exr_half,
        exr_color: match args.exr_color {
            ExrColorMode::Linear => ExrColor::Linear { background: bg },
            ExrColorMode::Raw => ExrColor::Raw,
        },
        fps: match &inputs.source {
            Source::File(_, _, fps) => *fps,
            Source::Orbit(_) | Source::Auto => None,
        },
        source_date: if format == Format::Exr {
            source_date_epoch()
        } else {
            None
        },
        timing,
    }
}

/// Step 7: what renders the frames once the scene is on the device.
struct Frames<'a> {
    ctx: &'a Arc<Context>,
    renderer: &'a mut Renderer,
    scene: &'a mut Scene,
    settings: RenderSettings,
    extent: SceneExtent,
    inputs: &'a Inputs,
    /// Plugin scenes: the time of each frame and its motion-blur samples.
    timing: Option<Timing>,
    /// `--occluder`: each frame's host depth.
    occluder: Option<crate::occluder::OccluderLoader>,
}

impl Frames<'_> {
    /// Renders views of the scene, each at its frame's time: in one call
    /// ([`Scene::render_many`]) when they share one time, are not motion-blurred and have no
    /// host depth (static splats without `--occluder` always), else view by view, a blurred one
    /// as the mean of its sub-frame renders ([`crate::time::average`]), each sub-frame occluded
    /// by the frame's host depth (the camera does not move within a frame). A frame with
    /// validation errors fails (it is not written); a frame in which nothing is visible gets a
    /// warning that says why, if the host can tell.
    fn render(&mut self, views: &[(i64, &Camera)]) -> Result<Vec<(Frame, FrameStats)>, CliError> {
        let scene_path = &self.inputs.scene;
        let camera_file = self.inputs.camera_file.as_deref();
        let core_err = |e| CliError::from_core(e, scene_path, camera_file);
        let before = self.ctx.validation_errors();
        let cameras: Vec<&Camera> = views.iter().map(|v| v.1).collect();
        let one_by_one = self.occluder.is_some()
            || self.timing.as_ref().is_some_and(|t| {
                t.blurred()
                    || views
                        .iter()
                        .any(|v| t.frame_time(v.0) != t.frame_time(views[0].0))
            });
        let out = if one_by_one {
            let mut out = Vec::with_capacity(views.len());
            for (frame, camera) in views {
                let occluder = match self.occluder.as_mut() {
                    Some(l) => Some(l.occluder(*frame, camera.width, camera.height)?),
                    None => None,
                };
                let times = self
                    .timing
                    .as_ref()
                    .map_or_else(|| vec![0.0], |t| t.sample_times(*frame));
                let mut samples = Vec::new();
                let mut stats = None;
                for time in times {
                    let (image, s) = self
                        .scene
                        .render_occluded(
                            self.renderer,
                            camera,
                            &self.settings,
                            time,
                            occluder.as_ref(),
                        )
                        .map_err(|e| crate::plugins::render_error(e, core_err))?;
                    samples.push(image);
                    stats = Some(s);
                }
                out.push((
                    crate::time::average(samples),
                    stats.expect("at least one sample"),
                ));
            }
            out
        } else {
            let time = self
                .timing
                .as_ref()
                .map_or(0.0, |t| t.frame_time(views[0].0));
            self.scene
                .render_many(self.renderer, &cameras, &self.settings, time)
                .map_err(|e| crate::plugins::render_error(e, core_err))?
        };
        let errors = self.ctx.validation_errors() - before;
        if errors > 0 {
            say!("warning: the Vulkan validation layers reported {errors} error(s) (see above)");
            let names: Vec<&str> = cameras.iter().map(|c| c.name.as_str()).collect();
            return Err(CliError::Render(format!(
                "{}: frame failed Vulkan validation ({}); not written",
                scene_path.display(),
                names.join(", ")
            )));
        }
        // A finite but degenerate input renders nothing: say so, and why if the host can tell.
        for (camera, (_, stats)) in cameras.iter().zip(&out) {
            if stats.visible_splats == 0 && self.extent.count > 0 {
                let from = camera_file.map_or(String::new(), |p| format!(" of {}", p.display()));
                say!(
                    "warning: {}: no splat is visible from camera '{}'{from}, the image is only \
                     background: {}",
                    scene_path.display(),
                    camera.name,
                    self.extent.explain_empty(camera, self.settings.mode)
                );
            }
        }
        Ok(out)
    }
}

/// Step 8: `--stats` and the closing note.
fn report_end(
    args: &RenderArgs,
    progress: &Progress,
    last_stats: Option<&FrameStats>,
    times: &Times,
    total: Duration,
) {
    if args.stats {
        if let Some(stats) = last_stats {
            print_stats(stats, &times.0, total);
        }
        if let Some(rate) = progress.rate() {
            say!("stats: frames per minute {rate:.2}");
        }
    }
    if progress.written() > 1 {
        note(
            args,
            format_args!(
                "wrote {} frame(s) in {:.1} s{}",
                progress.written(),
                total.as_secs_f64(),
                progress
                    .rate()
                    .map_or(String::new(), |r| format!(" ({r:.2} frames/min)"))
            ),
        );
    }
}

/// The frame loop. The calling thread renders; `--write-threads` writer threads encode and
/// write, fed through a bounded channel (one frame waiting), so frame i+1 renders while frame
/// i is written; a reporter thread turns finished frames into progress. A render or write
/// error stops new renders; frames already rendered are still written. Returns the stop
/// signal, if one ended the loop, and the statistics of the last rendered frame.
fn render_frames(
    args: &RenderArgs,
    jobs: &[(i64, PathBuf, &Camera)],
    meta: &OutputMeta,
    render: &mut RenderFn<'_>,
    progress: &mut Progress,
) -> Result<(Option<i32>, Option<FrameStats>), CliError> {
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<CliError>> = Mutex::new(None);
    let fail = |e: CliError| {
        failed.store(true, Ordering::SeqCst);
        let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(e);
    };
    let mut stopped = None;
    let mut last_stats = None;
    let quiet = args.quiet;
    let single = jobs.len() == 1;
    let batch = match (args.all_cameras, args.batch) {
        (_, Some(n)) => n as usize,
        (true, None) => 4,
        (false, None) => 1,
    };

    std::thread::scope(|s| {
        let (job_tx, job_rx) = crossbeam_channel::bounded::<Job>(1);
        let (event_tx, event_rx) = crossbeam_channel::unbounded::<Event>();
        let reporter = s.spawn(|| {
            for event in event_rx {
                match event {
                    Event::Written { frame, path, times } => {
                        if !quiet && (single || args.stats) {
                            say!("wrote {}", path.display());
                        }
                        progress.frame(frame, FrameStatus::Written, &path, times);
                    }
                    Event::Failed(e) => fail(e),
                }
            }
        });
        let write = |job: Job| -> Event {
            let t = Instant::now();
            match write_frame(&job, meta) {
                Ok(()) => Event::Written {
                    frame: job.frame,
                    path: job.path,
                    times: FrameTimes {
                        render: job.render,
                        write: t.elapsed(),
                        scene_time: meta.timing.map(|t| t.frame_time(job.frame)),
                    },
                },
                Err(e) => {
                    // Stop new renders at once, not when the reporter gets to it.
                    failed.store(true, Ordering::SeqCst);
                    Event::Failed(e)
                }
            }
        };
        for _ in 0..args.write_threads {
            let rx = job_rx.clone();
            let tx = event_tx.clone();
            s.spawn(move || {
                for job in rx {
                    let _ = tx.send(write(job));
                }
            });
        }
        drop(job_rx);

        // Frames go to the GPU `batch` at a time (one submission each, `--all-cameras`).
        'frames: for chunk in jobs.chunks(batch) {
            if failed.load(Ordering::SeqCst) {
                break;
            }
            if let Some(sig) = signals::stop_requested() {
                stopped = Some(sig);
                break;
            }
            let t = Instant::now();
            let cameras: Vec<(i64, &Camera)> = chunk.iter().map(|j| (j.0, j.2)).collect();
            let rendered = match render(&cameras) {
                Ok(out) => out,
                Err(e) => {
                    fail(e);
                    break;
                }
            };
            let elapsed = t.elapsed() / chunk.len() as u32;
            for ((frame, path, camera), (image, stats)) in chunk.iter().zip(rendered) {
                if args.stats && !single {
                    let time = meta
                        .timing
                        .map_or(String::new(), |t| format!(" time {}", t.frame_time(*frame)));
                    say!(
                        "stats: frame {frame}{time} intersections {} attempts {} gpu {:.3} ms wall {:.1} ms",
                        stats.intersections,
                        stats.attempts,
                        stats.stage_ms().iter().map(|(_, t)| t).sum::<f64>(),
                        ms(elapsed)
                    );
                }
                last_stats = Some(stats);
                let job = Job {
                    frame: *frame,
                    path: path.clone(),
                    camera: (*camera).clone(),
                    image,
                    render: elapsed,
                };
                if args.write_threads == 0 {
                    let _ = event_tx.send(write(job));
                } else if job_tx.send(job).is_err() {
                    break 'frames;
                }
            }
        }
        drop(job_tx);
        drop(event_tx);
        let _ = reporter.join();
    });
    // A stop signal that arrived while the last frames were written still ends the run
    // with its code only if frames were left undone.
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    Ok((stopped, last_stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_parsing() {
        assert_eq!(parse_background("0.1, 0.2,0.3").unwrap().0, [0.1, 0.2, 0.3]);
        assert!(parse_background("1,2").is_err());
        assert!(parse_background("1,2,3,4").is_err());
        assert!(parse_background("1,x,3").is_err());
        assert!(parse_background("1,nan,3").is_err());
        assert!(parse_background("1,inf,3").is_err());
    }

    #[test]
    fn mode_parsing() {
        assert_eq!(parse_mode("Inria").unwrap(), RenderMode::Inria);
        assert!(parse_mode("fast").unwrap_err().contains("classic"));
    }

    #[test]
    fn sizes_keep_aspect() {
        assert_eq!(target_size(1280, 720, None, None), (1280, 720));
        assert_eq!(target_size(1280, 720, Some(640), None), (640, 360));
        assert_eq!(target_size(1280, 720, None, Some(180)), (320, 180));
        assert_eq!(target_size(1280, 720, Some(10), Some(10)), (10, 10));
        assert_eq!(target_size(1000, 1, Some(10), None), (10, 1));
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a/b.####.exr"), "a/b.####.exr");
        assert_eq!(shell_quote("it's here"), r"'it'\''s here'");
        assert_eq!(shell_quote(""), "''");
    }
}
