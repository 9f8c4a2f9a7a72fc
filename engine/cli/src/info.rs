//! `vksplat info`: what is in a scene file of any supported format, without a GPU.
//!
//! Text output (stdout) is one summary line (`SplatStats`'s Display) followed by `key: value`
//! lines; `--json` prints one JSON object instead. Both name the format (found by content),
//! the axes the file stores (`frame`; vksplat converts to RDF on load), the antialiasing flag
//! and the bytes per splat on disk (PLY headers excluded).
//!
//! `info` judges a scene exactly as `render` and `convert` do (`vksplat_io::scene::read_scene_checked`,
//! which applies [`Splats::validate`], under the policy that reports): a scene
//! they reject (a non-finite value, a zero-length quaternion, a log-scale whose scale
//! overflows f32, …) is still described on stdout, with the first problem as `status:
//! INVALID: …` (`invalid` in JSON), and then the command fails with that problem as its
//! `ERROR:` line and exit status 3. Statistics skip non-finite stored values but not
//! activated values that overflow (a log-scale of 89 shows as a maximum scale of inf; null in
//! JSON, which has no infinity).
//! The scene is decoded once into memory (no second copy); too little host memory is exit 7.
//!
//! A file that a plugin's manifest says it reads (or any file with `--plugin NAME`) is
//! described by that plugin instead, still without a GPU: the plugin's name, version and
//! manifest, the splat count, SH degree, the scene's time range and the evaluation paths.
//! Plugin failures are exit 4, two plugins claiming the file exit 2.
//!
//! [`Splats::validate`]: vksplat_io::Splats::validate

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;
use vksplat_io::scene::{Check, InvalidSplats};
use vksplat_io::Format;

use crate::error::{stdout_error, CliError};

/// Arguments of `vksplat info`.
#[derive(Args, Debug)]
#[command(
    after_help = "A scene that `render` would reject (non-finite values, zero-length \
quaternions, log-scales above 88.72 whose scale overflows) is still described on stdout, then \
reported as an ERROR line with exit status 3. Exit 7: not enough host memory to decode it."
)]
pub struct InfoArgs {
    /// Scene file: INRIA PLY, PlayCanvas compressed PLY, SPZ (v1-v4) or .splat.
    pub scene: PathBuf,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,

    /// Describe the file as this plugin's scene (a manifest name or a path to its manifest);
    /// without it, a plugin whose manifest says it reads the file describes it.
    #[arg(long, value_name = "NAME")]
    pub plugin: Option<String>,

    /// A plugin parameter (repeatable), as for `render`.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,

    #[command(flatten)]
    pub dirs: crate::plugins::PluginDirs,
}

/// `vksplat info` of a plugin scene.
fn run_plugin(
    args: &InfoArgs,
    choice: &crate::plugins::Choice,
    plugin_args: &crate::plugins::PluginArgs,
) -> Result<(), CliError> {
    let path = &args.scene;
    let instance = crate::plugins::open_instance(choice, plugin_args, Some(path))?;
    let plugin = instance.plugin();
    let d = &instance.desc;
    let mut paths = Vec::new();
    if d.has_gpu {
        paths.push("gpu");
    }
    if d.has_cpu {
        paths.push("cpu");
    }
    let detected = matches!(choice, crate::plugins::Choice::Detected(_));
    let mut out = std::io::stdout().lock();
    if args.json {
        let value = json!({
            "scene": path.display().to_string(),
            "format": "plugin",
            "plugin": plugin.name(),
            "plugin_version": plugin.version,
            "manifest": plugin.manifest.path.display().to_string(),
            "detected": detected,
            "count": d.splat_count,
            "sh_degree": d.sh_degree,
            "time_range": d.time_range.map(|(a, b)| [a, b]),
            "paths": paths,
        });
        writeln!(out, "{value:#}").map_err(stdout_error)?;
    } else {
        let range = d.time_range.map_or(
            "none (the plugin declares no range)".to_string(),
            |(a, b)| format!("{a} .. {b}"),
        );
        writeln!(
            out,
            "{}: plugin scene\n\
             plugin: {} {} ({}{})\n\
             count: {}\n\
             sh degree: {}\n\
             time range: {range}\n\
             paths: {}",
            path.display(),
            plugin.name(),
            plugin.version,
            plugin.manifest.path.display(),
            if detected {
                "; found by content, --plugin overrides"
            } else {
                ""
            },
            d.splat_count,
            d.sh_degree,
            paths.join(", "),
        )
        .map_err(stdout_error)?;
    }
    out.flush().map_err(stdout_error)?;
    Ok(())
}

/// Runs `vksplat info`.
pub fn run(args: &InfoArgs) -> Result<(), CliError> {
    let path = &args.scene;
    let plugin_args = crate::plugins::PluginArgs {
        plugin: args.plugin.clone(),
        params: args.params.clone(),
        dirs: args.dirs.clone(),
        ..Default::default()
    };
    if let Some(choice) = crate::plugins::choose(&plugin_args, Some(path))? {
        return run_plugin(args, &choice, &plugin_args);
    }
    if !args.params.is_empty() {
        return Err(CliError::Usage(format!(
            "{}: --param needs a plugin scene (no plugin's manifest claims this file; name one \
             with --plugin)",
            path.display()
        )));
    }
    let checked = vksplat_io::scene::read_scene_checked(path, InvalidSplats::Report)?;
    let scene = &checked.file;
    let splats = &scene.splats;
    let stats = splats.stats();
    let file_bytes = scene.file_bytes;
    let header = scene.header_bytes;
    let bytes_per_splat = (stats.count > 0).then_some(scene.bytes_per_splat);
    let invalid = match &checked.check {
        Check::Invalid(problem) => Some(problem.as_str()),
        Check::Valid | Check::Dropped { .. } => None,
    };
    let version = match scene.format {
        Format::Spz { version, .. } => Some(version),
        _ => None,
    };

    let mut out = std::io::stdout().lock();
    if args.json {
        let value = json!({
            "scene": path.display().to_string(),
            "format": scene.format.short_name(),
            "format_name": scene.format.to_string(),
            "version": version,
            "frame": scene.frame.name(),
            "antialiased": scene.antialiased,
            "count": stats.count,
            "sh_degree": stats.sh_degree,
            "bounds_min": stats.bounds_min,
            "bounds_max": stats.bounds_max,
            "opacity_min": stats.opacity_min,
            "opacity_mean": stats.opacity_mean,
            "opacity_max": stats.opacity_max,
            "scale_min": stats.scale_min,
            "scale_median": stats.scale_median,
            "scale_max": stats.scale_max,
            "file_bytes": file_bytes,
            "header_bytes": header,
            "bytes_per_splat": bytes_per_splat,
            "notes": scene.notes,
            "invalid": invalid,
        });
        writeln!(out, "{value:#}").map_err(stdout_error)?;
    } else {
        let bps = bytes_per_splat.map_or("n/a".to_string(), |b| format!("{b:.1}"));
        let validity = invalid.map_or("valid".to_string(), |p| format!("INVALID: {p}"));
        let notes: String = scene.notes.iter().map(|n| format!("\nnote: {n}")).collect();
        writeln!(
            out,
            "{}: {stats}\n\
             format: {}\n\
             frame: {}\n\
             antialiased: {}\n\
             count: {}\n\
             sh degree: {}\n\
             bounds: {:?} .. {:?}\n\
             opacity min/mean/max: {:.4} / {:.4} / {:.4}\n\
             scale min/median/max: {:.4e} / {:.4e} / {:.4e}\n\
             file size: {file_bytes} bytes (header {header})\n\
             bytes per splat on disk: {bps}\n\
             status: {validity}{notes}",
            path.display(),
            scene.format,
            scene.frame.describe(),
            if scene.antialiased { "yes" } else { "no" },
            stats.count,
            stats.sh_degree,
            stats.bounds_min,
            stats.bounds_max,
            stats.opacity_min,
            stats.opacity_mean,
            stats.opacity_max,
            stats.scale_min,
            stats.scale_median,
            stats.scale_max,
        )
        .map_err(stdout_error)?;
    }
    out.flush().map_err(stdout_error)?;
    match invalid {
        // The same words as render's refusal, so the two commands agree.
        Some(problem) => Err(vksplat_io::scene::invalid_scene(path, problem, None).into()),
        None => Ok(()),
    }
}
