//! `vksplat convert`: read a scene in any supported format, write it in the format named by
//! the output's extension.
//!
//! Reading sniffs the content (see `vksplat_io::scene`); the output format follows the
//! extension: `.ply` (INRIA binary, lossless), `.compressed.ply` (PlayCanvas), `.spz` (SPZ v3
//! by default, `--spz-version 2|3|4`), `.splat`, and glTF `KHR_gaussian_splatting` `.gltf` (with a
//! sibling `NAME.bin`, or `--gltf-embed`) and `.glb` (`--gltf-spz`: an SPZ v2 payload). Scenes stay in vksplat's RDF frame; SPZ is
//! converted to and from its RUB frame. The antialiasing flag is carried over unless
//! `--antialiased` overrides it. A one-line summary and any lossy step go to stderr; stdout
//! stays empty.
//!
//! Exit codes: 2 for an unknown output extension or bad option, 3 for an unreadable or invalid
//! input, 6 when the output cannot be written (checked before the input is read: the name, no
//! directory or special file under it, its directory, created unless `--no-create-dirs`; see
//! [`crate::outputs`]), 128 + the signal for SIGINT/SIGTERM/SIGHUP (the write is abandoned and
//! its temporary file removed; see [`crate::signals`]).

use std::path::PathBuf;

use clap::Args;
use vksplat_io::{OutputFormat, WriteOptions};

use crate::error::CliError;
use crate::stderr::say;

/// Arguments of `vksplat convert`.
#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Input scene: INRIA PLY, PlayCanvas compressed PLY, SPZ (v1-v4), .splat or glTF
    /// KHR_gaussian_splatting .gltf/.glb (found by content).
    pub input: PathBuf,

    /// Output scene; the format follows the extension: .ply, .compressed.ply, .spz, .splat,
    /// .gltf (with NAME.bin), .glb.
    pub output: PathBuf,

    /// SPZ version to write: 2, 3 (gzip) or 4 (zstd streams).
    #[arg(long, value_name = "2|3|4", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(2..=4))]
    pub spz_version: u32,

    /// SPZ fixed-point fractional bits of positions (default 12, fewer automatically when the
    /// scene extends beyond ±2048).
    #[arg(long, value_name = "BITS", value_parser = clap::value_parser!(u8).range(0..=24))]
    pub fractional_bits: Option<u8>,

    /// Deflate level of SPZ v2/v3: 1 (fastest) to 9 (smallest). 1 writes a 6 M-splat SH 3
    /// scene ~6x faster than the default 6, ~5-13% larger.
    #[arg(long, value_name = "0-9", default_value_t = 6,
          value_parser = clap::value_parser!(u8).range(0..=9))]
    pub gzip_level: u8,

    /// zstd level of SPZ v4: 1 (fastest) to 22 (smallest); 3 is libzstd's default and what
    /// Niantic's and PlayCanvas's writers use, 19 is ~5% smaller and much slower.
    #[arg(long, value_name = "1-22", default_value_t = 3,
          value_parser = clap::value_parser!(i32).range(1..=22))]
    pub zstd_level: i32,

    /// glTF output: store the splats as an SPZ v2 payload
    /// (KHR_gaussian_splatting_compression_spz_2 draft) instead of float accessors.
    #[arg(long)]
    pub gltf_spz: bool,

    /// .gltf output: embed the buffer as a base64 data: URI instead of writing NAME.bin
    /// beside it.
    #[arg(long)]
    pub gltf_embed: bool,

    /// Keep SH only up to this degree (0-3), e.g. to make a smaller file.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=3))]
    pub sh_degree: Option<u32>,

    /// Mark the output as trained with antialiasing (true) or not (false); default: as the
    /// input says.
    #[arg(long, value_name = "true|false")]
    pub antialiased: Option<bool>,

    /// Drop splats with non-finite values or zero quaternions (with a warning) instead of
    /// rejecting the scene.
    #[arg(long)]
    pub drop_invalid: bool,

    /// Print only warnings and errors.
    #[arg(short, long)]
    pub quiet: bool,

    /// Fail (exit 6) when the output directory is missing instead of creating it.
    #[arg(long)]
    pub no_create_dirs: bool,
}

/// Runs `vksplat convert`.
pub fn run(args: &ConvertArgs) -> Result<(), CliError> {
    let format = OutputFormat::from_path(&args.output).ok_or_else(|| {
        CliError::Usage(format!(
            "{}: unknown output format; use .ply, .compressed.ply, .spz, .splat, .gltf, .glb \
             or .sog",
            args.output.display()
        ))
    })?;
    crate::signals::install(crate::signals::OnStop::Abort);
    // A .gltf with an external buffer writes NAME.bin too: checked like the output itself.
    let bin = (format == OutputFormat::Gltf && !args.gltf_embed)
        .then(|| args.output.with_extension("bin"));
    let outputs = std::iter::once(args.output.as_path()).chain(bin.as_deref());
    crate::outputs::check_outputs(outputs, !args.no_create_dirs)?;
    let mut scene = crate::render::read_scene(&args.input, args.drop_invalid)?.file;
    let input = args.input.display();
    if !args.quiet {
        say!(
            "read {input}: {}, {} splats, SH degree {}, frame {}, antialiased {}, {:.1} bytes \
             per splat",
            scene.format,
            scene.splats.len(),
            scene.splats.sh_degree,
            scene.frame.name(),
            yes_no(scene.antialiased),
            scene.bytes_per_splat
        );
    }
    if let Some(d) = args.sh_degree {
        scene.splats.truncate_sh_degree(d);
        // --sh-degree keeps at most degree 3: an SPZ input's band 4 goes too.
        scene.spz_extra.sh_band4 = Vec::new();
    }
    let options = WriteOptions {
        antialiased: args.antialiased.unwrap_or(scene.antialiased),
        spz_version: args.spz_version,
        spz_fractional_bits: args.fractional_bits,
        spz_gzip_level: args.gzip_level,
        spz_zstd_level: args.zstd_level,
        gltf_spz: args.gltf_spz,
        gltf_embed: args.gltf_embed,
        ..WriteOptions::default()
    };
    let report = vksplat_io::write_scene_with(
        &args.output,
        &scene.splats,
        &scene.spz_extra,
        format,
        &options,
    )?;
    let output = args.output.display();
    for note in &report.notes {
        say!("note: {output}: {note}");
    }
    if !args.quiet {
        let name = match format {
            OutputFormat::Spz => format!("SPZ v{}", options.spz_version),
            f => f.name().to_string(),
        };
        let per = if scene.splats.is_empty() {
            0.0
        } else {
            report.bytes as f64 / scene.splats.len() as f64
        };
        say!(
            "wrote {output}: {name}, {} splats, SH degree {}, antialiased {}, {} bytes \
             ({per:.1} per splat)",
            scene.splats.len(),
            if format == OutputFormat::Splat {
                0
            } else {
                scene.splats.sh_degree
            },
            yes_no(options.antialiased && format != OutputFormat::Splat),
            report.bytes
        );
    }
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}
