//! `vksplat render`: one scene, one camera, one image.
//!
//! Order of work, chosen so that cheap checks fail before expensive ones:
//! 1. the output path (extension → format, directory exists and is writable): exit 2 / 6;
//! 2. the camera file and index: exit 3 / 2;
//! 3. the scene (read, validate or `--drop-invalid`): exit 3;
//! 4. the device, upload and frame: exit 5 / 1 (3 for a camera the pipeline rejects);
//! 5. validation-layer errors, if enabled, fail the frame (exit 1) and nothing is written;
//! 6. the image, written atomically: exit 6.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use vksplat_core::{
    Context, ContextDesc, DeviceChoice, Frame, FrameStats, RenderMode, RenderSettings, Renderer,
};
use vksplat_io::{Camera, Splats};

use crate::auto_camera::auto_camera;
use crate::error::CliError;

/// Default image size of the automatic camera.
const DEFAULT_WIDTH: u32 = 1280;
const DEFAULT_HEIGHT: u32 = 720;
/// Largest image side accepted on the command line (the pipeline's own limit).
const MAX_SIDE: u32 = 32768;

/// Arguments of `vksplat render`.
#[derive(Args, Debug)]
pub struct RenderArgs {
    /// INRIA 3DGS PLY scene; the bundled sample scene when omitted
    /// (tests/data/sample/guitar.ply with its camera guitar.cameras.json, or $VKSPLAT_SAMPLE).
    pub scene: Option<PathBuf>,

    /// Camera JSON file (explicit world_to_camera form or INRIA cameras.json);
    /// without it an automatic camera frames the scene from the -z side.
    #[arg(long, value_name = "CAMS.json")]
    pub camera: Option<PathBuf>,

    /// Which camera of the file to render.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "camera")]
    pub camera_index: usize,

    /// Output image; the format follows the extension: .png (8-bit RGB) or .exr
    /// (float32 RGBA + Z, with metadata).
    #[arg(
        short,
        long,
        value_name = "OUT.exr|OUT.png",
        default_value = "render.png"
    )]
    pub output: PathBuf,

    /// Forward-pass rules.
    #[arg(long, value_name = "MODE", default_value = "classic", value_parser = parse_mode)]
    pub mode: RenderMode,

    /// Linear RGB background behind the splats, three finite numbers.
    #[arg(long, value_name = "R,G,B", default_value = "0,0,0", value_parser = parse_background)]
    pub background: Background,

    /// Image width in pixels (rescales the camera; keeps the aspect ratio if --height is not
    /// given). Default for the automatic camera: 1280.
    #[arg(long, value_name = "W", value_parser = clap::value_parser!(u32).range(1..=MAX_SIDE as i64))]
    pub width: Option<u32>,

    /// Image height in pixels (rescales the camera; keeps the aspect ratio if --width is not
    /// given). Default for the automatic camera: 720.
    #[arg(long, value_name = "H", value_parser = clap::value_parser!(u32).range(1..=MAX_SIDE as i64))]
    pub height: Option<u32>,

    /// Vulkan device: auto, cpu, an index from `vksplat devices`, or part of a device name.
    #[arg(long, value_name = "auto|cpu|INDEX|NAME", default_value = "auto")]
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

    /// Print only warnings and errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// A parsed `--background`.
#[derive(Clone, Copy, Debug)]
pub struct Background(pub [f32; 3]);

fn parse_mode(s: &str) -> Result<RenderMode, String> {
    RenderMode::parse(&s.to_ascii_lowercase())
        .ok_or_else(|| format!("unknown mode '{s}' (expected classic, antialiased or inria)"))
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

/// Output image formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Png,
    Exr,
}

/// The format named by the output's extension (case-insensitive).
fn output_format(path: &Path) -> Result<Format, CliError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("png") => Ok(Format::Png),
        Some("exr") => Ok(Format::Exr),
        other => Err(CliError::Usage(format!(
            "{}: unsupported output extension {} (use .png or .exr)",
            path.display(),
            other.map_or("(none)".to_string(), |e| format!("'.{e}'"))
        ))),
    }
}

/// Checks that `path` can be created: its directory exists and accepts a new file, and the
/// path itself is not a directory. Leaves nothing behind.
fn check_output_writable(path: &Path) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let fail = |why: String| CliError::Output(format!("{}: cannot write: {why}", path.display()));
    if !dir.is_dir() {
        return Err(fail(format!(
            "output directory {} does not exist",
            dir.display()
        )));
    }
    if path.is_dir() {
        return Err(fail("it is a directory".into()));
    }
    let probe = dir.join(format!(".vksplat-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(file) => {
            drop(file);
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        // A leftover probe of a crashed run with our pid: the directory is writable enough.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(fail(format!(
            "output directory {} is not writable: {e}",
            dir.display()
        ))),
    }
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

/// Reads and checks the scene; with `drop_invalid` bad splats are removed with a warning.
fn load_scene(path: &Path, drop_invalid: bool) -> Result<Splats, CliError> {
    let mut splats = vksplat_io::read_ply(path)?;
    if let Err(problem) = splats.validate() {
        if !drop_invalid {
            return Err(CliError::Input(format!(
                "{}: invalid scene: {problem} (--drop-invalid removes such splats)",
                path.display()
            )));
        }
        let dropped = splats.drop_invalid();
        eprintln!(
            "warning: {}: dropped {dropped} invalid splat(s) ({problem}); {} remain",
            path.display(),
            splats.len()
        );
        // drop_invalid leaves only finite splats with consistent lengths, except for an
        // unsupported SH degree, which no dropping can fix.
        splats
            .validate()
            .map_err(|p| CliError::Input(format!("{}: invalid scene: {p}", path.display())))?;
    }
    Ok(splats)
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

/// Loads camera `index` of `path` and applies the size flags.
fn file_camera(path: &Path, index: usize, args: &RenderArgs) -> Result<Camera, CliError> {
    let cameras = vksplat_io::load_cameras(path)?;
    let count = cameras.len();
    let camera = cameras.into_iter().nth(index).ok_or_else(|| {
        CliError::Usage(format!(
            "{}: --camera-index {index} is out of range: the file has {count} camera(s) \
             (valid indices 0..={})",
            path.display(),
            count - 1
        ))
    })?;
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

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn print_stats(stats: &FrameStats, times: &[(&str, Duration)], total: Duration) {
    eprintln!("stats: intersections {}", stats.intersections);
    eprintln!("stats: attempts {}", stats.attempts);
    let stages = stats.stage_ms();
    let gpu_total: f64 = stages.iter().map(|(_, t)| t).sum();
    for (name, t) in &stages {
        eprintln!("stats: gpu {name} {t:.3} ms");
    }
    eprintln!("stats: gpu total {gpu_total:.3} ms");
    eprintln!(
        "stats: device memory {:.1} MB",
        megabytes(stats.device_bytes)
    );
    for (name, t) in times {
        eprintln!("stats: wall {name} {:.1} ms", ms(*t));
    }
    eprintln!("stats: wall total {:.1} ms", ms(total));
}

/// Runs `vksplat render`.
pub fn run(args: &RenderArgs) -> Result<(), CliError> {
    let start = Instant::now();
    let mut times: Vec<(&str, Duration)> = Vec::new();
    let progress = |msg: std::fmt::Arguments<'_>| {
        if !args.quiet {
            eprintln!("{msg}");
        }
    };

    // 1. Output first: a bad path must not cost a scene load and a render.
    let output = &args.output;
    let format = output_format(output)?;
    check_output_writable(output)?;

    // 2. Camera file (small) before the scene (large). The bundled sample comes with a
    // hand-picked camera; other scenes without --camera get the automatic one.
    let scene_path = scene_path(args.scene.as_deref())?;
    let camera_path = args.camera.clone().or_else(|| {
        let sample_cams = scene_path.with_extension("cameras.json");
        (args.scene.is_none() && sample_cams.is_file()).then_some(sample_cams)
    });
    let file_cam = match &camera_path {
        Some(path) => Some(file_camera(path, args.camera_index, args)?),
        None => None,
    };

    // 3. Scene.
    let t = Instant::now();
    let splats = load_scene(&scene_path, args.drop_invalid)?;
    times.push(("load", t.elapsed()));
    progress(format_args!(
        "loaded {} splats (SH degree {}) from {}",
        splats.len(),
        splats.sh_degree,
        scene_path.display()
    ));

    let camera = match file_cam {
        Some(c) => c,
        None => {
            let (w, h) = target_size(DEFAULT_WIDTH, DEFAULT_HEIGHT, args.width, args.height);
            let c = auto_camera(&splats, w, h);
            let p = c.position();
            progress(format_args!(
                "automatic camera: {w}x{h} at [{:.4}, {:.4}, {:.4}] looking down +z",
                p[0], p[1], p[2]
            ));
            c
        }
    };
    let core_err = |e| CliError::from_core(e, &scene_path, args.camera.as_deref());

    // 4. Device and frame.
    let t = Instant::now();
    let ctx = Context::new(&ContextDesc {
        device: DeviceChoice::parse(&args.device),
        validation: args.validation,
    })?;
    let device_name = ctx.info().name.clone();
    let mut renderer = Renderer::new(ctx.clone()).map_err(core_err)?;
    times.push(("device", t.elapsed()));

    let t = Instant::now();
    let gpu_scene = renderer.upload_scene(&splats).map_err(core_err)?;
    drop(splats);
    times.push(("upload", t.elapsed()));

    progress(format_args!(
        "rendering {}x{} ({} mode, camera '{}') on {device_name}",
        camera.width,
        camera.height,
        args.mode.name(),
        camera.name
    ));
    let t = Instant::now();
    let settings = RenderSettings {
        mode: args.mode,
        background: args.background.0,
    };
    let (frame, stats): (Frame, FrameStats) = renderer
        .render(&gpu_scene, &camera, &settings)
        .map_err(core_err)?;
    times.push(("render", t.elapsed()));

    // 5. Validation errors are counted by the debug callback, also while objects are destroyed.
    drop(gpu_scene);
    drop(renderer);
    let errors = ctx.validation_errors();
    if errors > 0 {
        eprintln!("warning: the Vulkan validation layers reported {errors} error(s) (see above)");
        return Err(CliError::Render(format!(
            "{}: frame failed Vulkan validation; {} not written",
            scene_path.display(),
            output.display()
        )));
    }

    // 6. Image.
    let t = Instant::now();
    match format {
        Format::Png => vksplat_io::write_png(output, frame.width, frame.height, &frame.rgba)?,
        Format::Exr => {
            let scene_name = scene_path.display().to_string();
            let attributes = [
                ("vksplat_version", env!("CARGO_PKG_VERSION")),
                ("device", device_name.as_str()),
                ("mode", args.mode.name()),
                ("camera", camera.name.as_str()),
                ("scene", scene_name.as_str()),
            ];
            vksplat_io::write_exr(
                output,
                frame.width,
                frame.height,
                &frame.rgba,
                &frame.depth,
                &attributes,
            )?
        }
    }
    times.push(("write", t.elapsed()));
    progress(format_args!("wrote {}", output.display()));

    if args.stats {
        print_stats(&stats, &times, start.elapsed());
    }
    Ok(())
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
    fn formats_by_extension() {
        assert_eq!(output_format(Path::new("a/b.PNG")).unwrap(), Format::Png);
        assert_eq!(output_format(Path::new("b.exr")).unwrap(), Format::Exr);
        assert!(matches!(
            output_format(Path::new("b.jpg")),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            output_format(Path::new("b")),
            Err(CliError::Usage(_))
        ));
    }

    #[test]
    fn sizes_keep_aspect() {
        assert_eq!(target_size(1280, 720, None, None), (1280, 720));
        assert_eq!(target_size(1280, 720, Some(640), None), (640, 360));
        assert_eq!(target_size(1280, 720, None, Some(180)), (320, 180));
        assert_eq!(target_size(1280, 720, Some(10), Some(10)), (10, 10));
        assert_eq!(target_size(1000, 1, Some(10), None), (10, 1));
    }
}
