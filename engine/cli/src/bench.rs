//! `vksplat bench`: frame timings from GPU timestamps, and the radix sort on its own.
//!
//! A frame is timed stage by stage with timestamp queries written between the stages of its
//! single submission (variant, preprocess, depth sort, scan, key emission, tile sort, ranges,
//! blend, readback). The GPU time of a frame ends with the blend (the image in device memory);
//! with the readback (to host-visible memory) it is reported separately. After `--warmup` frames (the first also sizes the intersection buffers),
//! `--frames` frames are measured and the median and minimum of each stage are reported, with
//! the wall time of each `render` call (submission, wait and host copy of the image), the
//! visible splats, intersections, device memory and the process's peak RSS.
//!
//! A plugin scene (`--plugin`, or a file a plugin's manifest says it reads) is evaluated at
//! `--time` every frame. On the GPU path the plugin's stage runs inside the frame and is timed
//! as the `variant` stage; on the CPU path the plugin's host work and the upload are timed
//! with the wall clock as `variant (cpu)`. The JSON's `variant_fraction` is the variant
//! stage's median over the frame's (GPU time, plus the CPU work on the CPU path).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use vksplat_core::{
    Context, ContextDesc, DeviceChoice, FrameStats, RenderMode, RenderSettings, Renderer,
};
use vksplat_io::Camera;
use vksplat_plugin_host::{EvalPath, Scene};

use crate::error::CliError;
use crate::stderr::say;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Scene file, any format `vksplat info` reads (omit with --sort-keys).
    pub scene: Option<PathBuf>,

    /// Camera JSON (explicit or INRIA cameras.json, e.g. the one the synth_scene example writes).
    #[arg(long, value_name = "CAMS.json")]
    pub camera: Option<PathBuf>,

    /// Which camera of the file.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub camera_index: usize,

    /// Rescale the camera to this width (and --height).
    #[arg(long, value_name = "W")]
    pub width: Option<u32>,

    /// Rescale the camera to this height.
    #[arg(long, value_name = "H")]
    pub height: Option<u32>,

    /// Measured frames.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub frames: usize,

    /// Unmeasured frames first.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub warmup: usize,

    #[arg(long, value_name = "MODE", default_value = "classic")]
    pub mode: String,

    #[arg(long, value_name = "auto|cpu|INDEX|NAME", default_value = "auto")]
    pub device: String,

    /// Store SH coefficients as half floats on the GPU (half the SH memory).
    #[arg(long)]
    pub sh_half: bool,

    /// Benchmark the radix sort alone on this many random (u32 key, u32 value) pairs instead
    /// of rendering a scene. At most what the device sorts at once: one storage binding of
    /// 4-byte keys, i.e. its max storage buffer range / 4 (33554432 on lavapipe; `vksplat
    /// devices` shows the range); more is exit 1 before anything is allocated.
    #[arg(long, value_name = "PAIRS", value_parser = clap::value_parser!(u32).range(1..))]
    pub sort_keys: Option<u32>,

    /// Key bits the sort benchmark sorts (32 = depth keys; 13 = 1080p tile ids).
    #[arg(long, value_name = "BITS", default_value_t = 32)]
    pub sort_bits: u32,

    /// Also write the results as JSON to this file (atomically; its directory is created if
    /// missing and checked before the benchmark runs).
    #[arg(long, value_name = "OUT.json")]
    pub json: Option<PathBuf>,

    #[command(flatten)]
    pub plugin: crate::plugins::PluginArgs,
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Peak resident set size of this process in bytes (Linux; 0 elsewhere).
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<u64>().ok())
            })
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn open_renderer(device: &str) -> Result<Renderer, CliError> {
    let ctx = Context::new(&ContextDesc {
        device: DeviceChoice::parse(device),
        validation: false,
        ..ContextDesc::default()
    })?;
    Renderer::new(ctx).map_err(|e| CliError::from_core(e, Path::new("<bench>"), None))
}

fn load_camera(args: &BenchArgs, scene: &Path) -> Result<Camera, CliError> {
    let path = match &args.camera {
        Some(p) => p.clone(),
        None => {
            // The `synth_scene` example (vksplat-io) writes NAME.cameras.json beside NAME.ply.
            let beside = scene.with_extension("cameras.json");
            if !beside.is_file() {
                return Err(CliError::Usage(format!(
                    "{}: no --camera given and no {} beside the scene",
                    scene.display(),
                    beside.display()
                )));
            }
            beside
        }
    };
    let cams = vksplat_io::load_cameras(&path)?;
    let cam = cams.get(args.camera_index).cloned().ok_or_else(|| {
        CliError::Usage(format!(
            "{}: --camera-index {} but the file has {} camera(s)",
            path.display(),
            args.camera_index,
            cams.len()
        ))
    })?;
    Ok(match (args.width, args.height) {
        (None, None) => cam,
        (w, h) => {
            let w = w.unwrap_or_else(|| {
                (cam.width as f64 * h.unwrap() as f64 / cam.height as f64).round() as u32
            });
            let h = h.unwrap_or_else(|| {
                (cam.height as f64 * w as f64 / cam.width as f64).round() as u32
            });
            cam.rescaled(w.max(1), h.max(1))
        }
    })
}

pub fn run(args: &BenchArgs) -> Result<(), CliError> {
    if args.frames == 0 {
        return Err(CliError::Usage("--frames must be at least 1".into()));
    }
    // A stop signal abandons the run (and the JSON write, leaving no temporary file).
    crate::signals::install(crate::signals::OnStop::Abort);
    if let Some(path) = &args.json {
        crate::outputs::check_outputs([path.as_path()], true)?;
    }
    let json = match args.sort_keys {
        Some(n) => bench_sort(args, n)?,
        None => bench_frames(args)?,
    };
    // Serialising a `Value` built here cannot fail.
    let text = serde_json::to_string_pretty(&json).expect("json");
    if let Some(path) = &args.json {
        vksplat_io::write_bytes_atomic(path, text.as_bytes())?;
    }
    // Last, so that a closed stdout (exit 6) still leaves the --json file.
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(crate::error::stdout_error)
}

/// What a frame renders: splats uploaded once, or a plugin's scene evaluated every frame.
enum Bench {
    Static(vksplat_core::GpuScene),
    Plugin(Scene),
}

fn bench_frames(args: &BenchArgs) -> Result<serde_json::Value, CliError> {
    let choice = crate::plugins::choose(&args.plugin, args.scene.as_deref())?;
    let scene_path = match (&args.scene, &choice) {
        (Some(p), _) => p.clone(),
        (None, Some(c)) => PathBuf::from(format!("plugin:{}", c.name())),
        (None, None) => {
            return Err(CliError::Usage(
                "bench needs a SCENE, a --plugin or --sort-keys N".into(),
            ))
        }
    };
    if choice.is_none() && (!args.plugin.params.is_empty() || args.plugin.time != 0.0) {
        return Err(CliError::Usage(format!(
            "{}: --param and --time need a plugin scene",
            scene_path.display()
        )));
    }
    if !args.plugin.time.is_finite() {
        return Err(CliError::Usage(format!(
            "--time {} is not finite",
            args.plugin.time
        )));
    }
    let mode = RenderMode::parse(&args.mode)
        .ok_or_else(|| CliError::Usage(format!("unknown --mode '{}'", args.mode)))?;
    let camera = load_camera(args, &scene_path)?;
    let t = Instant::now();
    let core_err = |e| CliError::from_core(e, &scene_path, args.camera.as_deref());
    let time = args.plugin.time;
    let (mut renderer, bench, num_splats, sh_degree) = match &choice {
        None => {
            // The same loading and validation as render (an invalid scene is exit 3).
            let splats = crate::render::read_scene(&scene_path, false)?.file.splats;
            let renderer = open_renderer(&args.device)?;
            let options = vksplat_core::SceneOptions {
                sh_half: args.sh_half,
                ..Default::default()
            };
            let scene = renderer
                .upload_scene_with(&splats, &Default::default(), options)
                .map_err(core_err)?;
            let n = (splats.len(), splats.sh_degree);
            (renderer, Bench::Static(scene), n.0, n.1)
        }
        Some(choice) => {
            let instance =
                crate::plugins::open_instance(choice, &args.plugin, args.scene.as_deref())?;
            let (n, sh) = (instance.desc.splat_count, instance.desc.sh_degree);
            let renderer = open_renderer(&args.device)?;
            let path = match args.plugin.plugin_eval {
                crate::plugins::Eval::Auto => EvalPath::Auto,
                crate::plugins::Eval::Gpu => EvalPath::Gpu,
                crate::plugins::Eval::Cpu => EvalPath::Cpu,
            };
            let scene = Scene::open_variant(&renderer, instance, path)
                .map_err(|e| crate::plugins::render_error(e, core_err))?;
            (renderer, Bench::Plugin(scene), n, sh)
        }
    };
    let load_s = t.elapsed().as_secs_f64();
    let eval = match &bench {
        Bench::Static(_) => None,
        Bench::Plugin(s) => Some(match s.variant().map(|v| v.path()) {
            Some(EvalPath::Gpu) => "gpu",
            _ => "cpu",
        }),
    };
    let settings = RenderSettings {
        mode,
        background: [0.0; 3],
        ..Default::default()
    };
    let mut bench = bench;
    // One frame: its statistics and, on a plugin's CPU path, the wall time in ms of the
    // plugin's host work and upload (timed apart from the GPU frame).
    let mut frame = |renderer: &mut Renderer| -> Result<(FrameStats, Option<f64>), CliError> {
        match &mut bench {
            Bench::Static(scene) => Ok((
                renderer
                    .render(scene, &camera, &settings)
                    .map_err(core_err)?
                    .1,
                None,
            )),
            Bench::Plugin(scene) => {
                let err = |e| crate::plugins::render_error(e, core_err);
                if eval == Some("cpu") {
                    let t = Instant::now();
                    scene.evaluate(renderer, time).map_err(err)?;
                    let cpu_ms = t.elapsed().as_secs_f64() * 1e3;
                    let (_, stats) = renderer
                        .render(scene.gpu(), &camera, &settings)
                        .map_err(core_err)?;
                    Ok((stats, Some(cpu_ms)))
                } else {
                    Ok((
                        scene
                            .render(renderer, &camera, &settings, time)
                            .map_err(err)?
                            .1,
                        None,
                    ))
                }
            }
        }
    };
    say!(
        "bench: {num_splats} splats (SH {sh_degree}) at {}x{} on {}, {} warm-up + {} frames{}",
        camera.width,
        camera.height,
        renderer.context().info().name,
        args.warmup,
        args.frames,
        match (&choice, eval) {
            (Some(c), Some(e)) => format!(", plugin '{}' ({e} path) at time {time}", c.name()),
            _ => String::new(),
        }
    );
    for _ in 0..args.warmup.max(1) {
        frame(&mut renderer)?;
    }
    let mut stages: Vec<(String, Vec<f64>)> = Vec::new();
    let mut gpu_total = Vec::new();
    let mut gpu_with_readback = Vec::new();
    let mut wall = Vec::new();
    let mut cpu_variant = Vec::new();
    let mut last = None;
    for _ in 0..args.frames {
        let t = Instant::now();
        let (stats, cpu_ms) = frame(&mut renderer)?;
        wall.push(t.elapsed().as_secs_f64() * 1e3);
        if let Some(ms) = cpu_ms {
            cpu_variant.push(ms);
        }
        for (name, ms) in stats.stage_ms() {
            match stages.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => v.push(ms),
                None => stages.push((name, vec![ms])),
            }
        }
        // The frame ends with the image in device memory, as a renderer's timing that hands
        // back a device tensor or image ends; the copy to host-visible memory is its own
        // stage and counted in the total with it.
        let end = |s: Option<&(String, f64)>| s.map(|s| s.1 / 1e6).unwrap_or(0.0);
        gpu_total.push(end(stats
            .stage_end_ns
            .iter()
            .rev()
            .find(|s| s.0 != "readback")));
        gpu_with_readback.push(end(stats.stage_end_ns.last()));
        last = Some(stats);
    }
    if !cpu_variant.is_empty() {
        stages.insert(0, ("variant (cpu)".into(), cpu_variant.clone()));
    }
    // The variant stage's share of the frame: GPU stage over GPU time, or the CPU work over
    // itself plus the GPU time.
    let variant_fraction = stages
        .iter()
        .find(|(n, _)| n == "variant" || n == "variant (cpu)")
        .map(|(n, v)| {
            let variant = median(&mut v.clone());
            let gpu = median(&mut gpu_total.clone());
            let frame = if n == "variant" { gpu } else { gpu + variant };
            if frame > 0.0 {
                variant / frame
            } else {
                0.0
            }
        });
    let stats = last.expect("at least one frame");
    let stage_json: Vec<serde_json::Value> = stages
        .iter_mut()
        .map(|(name, v)| {
            let m = min(v);
            serde_json::json!({ "stage": name, "median_ms": median(v), "min_ms": m })
        })
        .collect();
    // Device bytes per splat (issue 15): the scene's own buffers, and everything the context
    // holds for this frame size (scene, working buffers, staging) spread over the splats.
    let mem = renderer.context().memory_stats();
    let per_splat = |bytes: u64| bytes as f64 / num_splats.max(1) as f64;
    let json = serde_json::json!({
        "scene": scene_path.display().to_string(),
        "splats": num_splats,
        "sh_degree": sh_degree,
        "width": camera.width,
        "height": camera.height,
        "mode": mode.name(),
        "sh_half": args.sh_half,
        "device": renderer.context().info().name,
        "blend_kernel": renderer.blend_kernel().name(),
        "sort_kernel": renderer.sort_kernel().name(),
        "frames": args.frames,
        "gpu_median_ms": median(&mut gpu_total.clone()),
        "gpu_min_ms": min(&gpu_total),
        "gpu_with_readback_median_ms": median(&mut gpu_with_readback.clone()),
        "wall_median_ms": median(&mut wall.clone()),
        "wall_min_ms": min(&wall),
        "stages": stage_json,
        "visible_splats": stats.visible_splats,
        "intersections": stats.intersections,
        "device_memory_bytes": stats.device_bytes,
        "device_memory": {
            "scene_bytes": mem.scene_bytes,
            "frame_bytes": mem.frame_bytes,
            "staging_bytes": mem.staging_bytes,
            "other_bytes": mem.other_bytes,
            "peak_bytes": mem.peak_device_bytes,
            "reserved_bytes": mem.reserved_bytes,
        },
        "scene_device_bytes_per_splat": per_splat(mem.scene_bytes),
        "device_bytes_per_splat": per_splat(mem.device_bytes),
        "host_peak_rss_bytes_per_splat": per_splat(peak_rss_bytes()),
        "host_peak_rss_bytes": peak_rss_bytes(),
        "scene_load_s": load_s,
        "plugin": choice.as_ref().map(|c| c.name().to_string()),
        "eval": eval,
        "time": choice.as_ref().map(|_| time),
        "variant_fraction": variant_fraction,
    });
    Ok(json)
}

fn bench_sort(args: &BenchArgs, n: u32) -> Result<serde_json::Value, CliError> {
    if !(1..=32).contains(&args.sort_bits) {
        return Err(CliError::Usage("--sort-bits must be 1..=32".into()));
    }
    let renderer = open_renderer(&args.device)?;
    let err = |e| CliError::from_core(e, Path::new("<sort bench>"), None);
    // The device's bound first: nothing is allocated for a count it cannot sort.
    let max = renderer.max_sort_pairs();
    if n > max {
        return Err(err(vksplat_core::CoreError::TooLarge(format!(
            "--sort-keys {n}: {} sorts at most {max} pairs at once (its max storage buffer \
             range / 4)",
            renderer.context().info().name
        ))));
    }
    // Deterministic pseudo-random keys (xorshift), masked to the bits sorted.
    let mask = if args.sort_bits == 32 {
        u32::MAX
    } else {
        (1u32 << args.sort_bits) - 1
    };
    let oom = |e| {
        err(vksplat_core::CoreError::host_memory(
            format!("{n} sort pairs"),
            e,
        ))
    };
    let mut keys: Vec<u32> = vksplat_io::memory::with_capacity(n as usize).map_err(oom)?;
    let mut values: Vec<u32> = vksplat_io::memory::with_capacity(n as usize).map_err(oom)?;
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    keys.extend((0..n).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 32) as u32 & mask
    }));
    values.extend(0..n);
    let mut times = Vec::new();
    for i in 0..args.warmup + args.frames {
        let (sorted, _, ns) = renderer
            .sort_pairs(&keys, &values, args.sort_bits)
            .map_err(err)?;
        if i == 0 && sorted.windows(2).any(|w| w[0] > w[1]) {
            return Err(CliError::Render(
                "the GPU sort returned unsorted keys".into(),
            ));
        }
        if i >= args.warmup {
            times.push(ns / 1e6);
        }
    }
    let med = median(&mut times.clone());
    Ok(serde_json::json!({
        "sort_pairs": n,
        "bits": args.sort_bits,
        "passes": vksplat_core::sort::radix_passes(args.sort_bits),
        "device": renderer.context().info().name,
        "sort_kernel": renderer.sort_kernel().name(),
        "runs": args.frames,
        "median_ms": med,
        "min_ms": min(&times),
        "keys_per_s_median": n as f64 / (med / 1e3),
    }))
}
