//! `vksplat info`: what is in a scene file, without a GPU.
//!
//! Text output (stdout) is one summary line (`SplatStats`'s Display) followed by `key: value`
//! lines; `--json` prints one JSON object instead. An invalid scene (non-finite values, zero
//! quaternions) is still described, with the first problem under `invalid`; exit status 0.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use crate::error::{stdout_error, CliError};

/// Arguments of `vksplat info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// INRIA 3DGS PLY scene.
    pub scene: PathBuf,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Length of the PLY header (through `end_header\n`), if it can be found in the first 1 MiB.
fn header_len(path: &Path) -> Option<u64> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(1 << 20)
        .read_to_end(&mut head)
        .ok()?;
    let marker = b"end_header";
    let at = head.windows(marker.len()).position(|w| w == marker)?;
    let mut end = at + marker.len();
    if head.get(end) == Some(&b'\r') {
        end += 1;
    }
    if head.get(end) == Some(&b'\n') {
        end += 1;
    }
    Some(end as u64)
}

/// Runs `vksplat info`.
pub fn run(args: &InfoArgs) -> Result<(), CliError> {
    let path = &args.scene;
    let splats = vksplat_io::read_ply(path)?;
    let stats = splats.stats();
    let file_bytes = std::fs::metadata(path)
        .map_err(|e| CliError::Input(format!("{}: cannot read: {e}", path.display())))?
        .len();
    let header = header_len(path).unwrap_or(0);
    let bytes_per_splat = if stats.count > 0 {
        Some(file_bytes.saturating_sub(header) as f64 / stats.count as f64)
    } else {
        None
    };
    let invalid = splats.validate().err();

    let mut out = std::io::stdout().lock();
    if args.json {
        let value = json!({
            "scene": path.display().to_string(),
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
            "invalid": invalid,
        });
        writeln!(out, "{value:#}").map_err(stdout_error)?;
    } else {
        let bps = bytes_per_splat.map_or("n/a".to_string(), |b| format!("{b:.1}"));
        let validity = invalid
            .as_deref()
            .map_or("valid".to_string(), |p| format!("INVALID: {p}"));
        writeln!(
            out,
            "{}: {stats}\n\
             count: {}\n\
             sh degree: {}\n\
             bounds: {:?} .. {:?}\n\
             opacity min/mean/max: {:.4} / {:.4} / {:.4}\n\
             scale min/median/max: {:.4e} / {:.4e} / {:.4e}\n\
             file size: {file_bytes} bytes (header {header})\n\
             bytes per splat on disk: {bps}\n\
             status: {validity}",
            path.display(),
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
    out.flush().map_err(stdout_error)
}
