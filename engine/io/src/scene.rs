//! Reading and writing scenes in every supported format, chosen by content.
//!
//! [`read_scene`] looks at the bytes, not the name: `ply` starts a PLY (INRIA, or PlayCanvas
//! compressed when it has a `chunk` element and packed vertices), the gzip magic or `NGSP`
//! starts an SPZ; a file with neither is a `.splat` when its name says so, or when it has no
//! known extension and its first records look like splats. [`write_scene`] picks the format
//! from the output's name ([`OutputFormat::from_path`]).
//!
//! **Frames.** vksplat keeps every scene in the INRIA PLY / OpenCV frame, RDF: x right,
//! y down, z forward (cameras use the same axes). INRIA PLY, compressed PLY and `.splat` store
//! RDF and are read as is; SPZ stores RUB (x right, y up, z back) and is converted on read and
//! write (y and z negated, with the matching quaternion and SH sign changes), so a scene saved
//! as SPZ and as PLY renders identically with the same camera. [`SceneFile::frame`] reports
//! the axes the *file* stores.
//!
//! **Antialiasing metadata.** SPZ's flag bit 0, or a PLY header comment `antialiased=true`
//! (also `antialiased`, `antialiasing=1`, …; see [`crate::ply`]) marks a scene trained with
//! antialiased (Mip-style) rendering: [`SceneFile::antialiased`]. The writers keep it.
//!
//! **Validation.** [`read_scene_checked`] reads and judges a scene under a policy (reject,
//! drop the invalid splats, or report): the one place every face decides what an invalid
//! scene means.

use std::path::Path;

use crate::formats::{compressed_ply, splat, spz};
use crate::{IoError, Splats};

mod checked;

pub use crate::formats::spz::SpzContainer;
pub use crate::formats::MAX_SPLATS;
pub use crate::ply::Format as PlyEncoding;
pub use checked::{
    check_scene, invalid_scene, read_scene_checked, Check, CheckedScene, InvalidSplats,
};

/// A scene file format as found on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// INRIA 3D Gaussian Splatting PLY.
    Ply(PlyEncoding),
    /// PlayCanvas / SuperSplat compressed PLY.
    CompressedPly,
    /// Niantic SPZ of the given version.
    Spz {
        version: u32,
        container: SpzContainer,
    },
    /// antimatter15 `.splat`.
    Splat,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Format::Ply(PlyEncoding::Ascii) => f.write_str("INRIA PLY (ascii)"),
            Format::Ply(PlyEncoding::BinaryLe) => f.write_str("INRIA PLY (binary little-endian)"),
            Format::Ply(PlyEncoding::BinaryBe) => f.write_str("INRIA PLY (binary big-endian)"),
            Format::CompressedPly => f.write_str("PlayCanvas compressed PLY"),
            Format::Spz { version, container } => {
                let c = match container {
                    SpzContainer::Gzip => "gzip",
                    SpzContainer::Raw => "uncompressed",
                    SpzContainer::Zstd => "zstd streams",
                };
                write!(f, "SPZ v{version} ({c})")
            }
            Format::Splat => f.write_str("antimatter15 .splat"),
        }
    }
}

impl Format {
    /// A short machine-friendly name: `ply`, `compressed-ply`, `spz`, `splat`.
    pub fn short_name(&self) -> &'static str {
        match self {
            Format::Ply(_) => "ply",
            Format::CompressedPly => "compressed-ply",
            Format::Spz { .. } => "spz",
            Format::Splat => "splat",
        }
    }
}

/// Coordinate axes a file stores its splats in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axes {
    /// x right, y down, z forward: INRIA PLY, OpenCV, vksplat's own frame.
    Rdf,
    /// x right, y up, z back: SPZ, OpenGL, three.js.
    Rub,
}

impl Axes {
    /// `RDF` or `RUB`.
    pub fn name(&self) -> &'static str {
        match self {
            Axes::Rdf => "RDF",
            Axes::Rub => "RUB",
        }
    }

    /// Human description, e.g. `RDF (x right, y down, z forward)`.
    pub fn describe(&self) -> &'static str {
        match self {
            Axes::Rdf => "RDF (x right, y down, z forward)",
            Axes::Rub => "RUB (x right, y up, z back; converted to RDF on load)",
        }
    }
}

/// A scene read from a file, with what the file says about it.
#[derive(Clone, Debug)]
pub struct SceneFile {
    /// The splats, always in vksplat's RDF frame, values unactivated.
    pub splats: Splats,
    /// The format found by content.
    pub format: Format,
    /// The file says the scene was trained with antialiased (Mip-style) rendering.
    pub antialiased: bool,
    /// The axes the file stores (the splats are converted to RDF).
    pub frame: Axes,
    /// Size of the file in bytes.
    pub file_bytes: u64,
    /// Bytes of a PLY header (INRIA or compressed); 0 for SPZ and `.splat`.
    pub header_bytes: u64,
    /// `(file_bytes - header_bytes) / count`: what each splat costs on disk (0 for an empty
    /// scene).
    pub bytes_per_splat: f64,
    /// Adaptations made while reading (skipped extensions, dropped SH band 4, …).
    pub notes: Vec<String>,
}

/// Reads a scene file of any supported format, chosen by content. Only regular files are
/// read (a FIFO, device or directory is an input error before anything blocks); buffers are
/// allocated fallibly ([`IoError::OutOfMemory`] when the scene does not fit this process).
pub fn read_scene(path: &Path) -> Result<SceneFile, IoError> {
    let cannot_read = |e: std::io::Error| IoError::input(path, format!("cannot read: {e}"));
    let (mut file, len) = crate::input::open(path)?;
    let prefix = crate::ply::read_prefix(&mut file, len).map_err(cannot_read)?;
    if prefix.starts_with(b"ply") {
        let header = crate::ply::parse_header(&prefix).map_err(|m| IoError::input(path, m))?;
        if !compressed_ply::is_compressed(&header) {
            // INRIA PLY: streamed, never held whole in memory.
            drop(file);
            let (splats, info) = crate::ply::read_with_info(path)?;
            return Ok(finish(
                splats,
                Format::Ply(info.format),
                info.antialiased.unwrap_or(false),
                Axes::Rdf,
                (len, header.body_offset as u64),
                Vec::new(),
            ));
        }
    }
    let bytes = crate::input::read_rest(path, file, len, prefix)?;
    parse_scene(&bytes, path)
}

/// Parses a scene held in memory; `path` labels errors and, for `.splat` (which has no magic
/// number), its extension helps decide the format.
pub fn parse_scene(bytes: &[u8], path: &Path) -> Result<SceneFile, IoError> {
    let fail = |m: String| IoError::input(path, m);
    let len = bytes.len() as u64;
    if bytes.starts_with(b"ply") {
        let header = crate::ply::parse_header(bytes).map_err(fail)?;
        let antialiased = header.antialiased().unwrap_or(false);
        let sizes = (len, header.body_offset as u64);
        if compressed_ply::is_compressed(&header) {
            let s = compressed_ply::parse(bytes, &header, path)?;
            return Ok(finish(
                s,
                Format::CompressedPly,
                antialiased,
                Axes::Rdf,
                sizes,
                vec![],
            ));
        }
        let s = crate::ply::parse_body(bytes, &header, path)?;
        let format = Format::Ply(header.format);
        return Ok(finish(s, format, antialiased, Axes::Rdf, sizes, vec![]));
    }
    if spz::sniff(bytes) {
        let (s, info) = spz::parse(bytes, path)?;
        let format = Format::Spz {
            version: info.version,
            container: info.container,
        };
        return Ok(finish(
            s,
            format,
            info.antialiased,
            Axes::Rub,
            (len, 0),
            info.notes,
        ));
    }
    let ext = extension(path);
    if ext == "splat" || (OutputFormat::from_extension(&ext).is_none() && splat::plausible(bytes)) {
        let s = splat::parse(bytes, path)?;
        return Ok(finish(s, Format::Splat, false, Axes::Rdf, (len, 0), vec![]));
    }
    Err(fail(unknown_format_message(bytes, &ext)))
}

fn unknown_format_message(bytes: &[u8], ext: &str) -> String {
    if bytes.is_empty() {
        return "the file is empty".into();
    }
    let head: String = bytes
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    let hint = match ext {
        "ksplat" => " (.ksplat is not supported; convert it to PLY or SPZ first)",
        "ply" => " (a PLY file starts with 'ply')",
        "spz" => " (an SPZ file starts with the gzip magic 1f 8b, or 'NGSP' for version 4)",
        _ => "",
    };
    format!(
        "unrecognised scene format{hint}: it starts with bytes {head}; vksplat reads INRIA \
         PLY, PlayCanvas compressed PLY, SPZ (v1-v4) and .splat"
    )
}

fn finish(
    splats: Splats,
    format: Format,
    antialiased: bool,
    frame: Axes,
    (file_bytes, header_bytes): (u64, u64),
    notes: Vec<String>,
) -> SceneFile {
    let bytes_per_splat = if splats.is_empty() {
        0.0
    } else {
        file_bytes.saturating_sub(header_bytes) as f64 / splats.len() as f64
    };
    SceneFile {
        splats,
        format,
        antialiased,
        frame,
        file_bytes,
        header_bytes,
        bytes_per_splat,
        notes,
    }
}

/// The lower-case extension of `path`, `compressed.ply` for `*.compressed.ply`.
fn extension(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".compressed.ply") {
        return "compressed.ply".into();
    }
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// A format vksplat can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// INRIA PLY, binary little-endian, lossless.
    Ply,
    /// PlayCanvas compressed PLY (`*.compressed.ply`).
    CompressedPly,
    /// SPZ (`*.spz`), version from [`WriteOptions::spz_version`].
    Spz,
    /// antimatter15 `.splat`.
    Splat,
}

impl OutputFormat {
    /// The format for an output file name: `*.compressed.ply`, `*.ply`, `*.spz`, `*.splat`
    /// (any case); `None` for anything else.
    pub fn from_path(path: &Path) -> Option<Self> {
        Self::from_extension(&extension(path))
    }

    fn from_extension(ext: &str) -> Option<Self> {
        Some(match ext {
            "compressed.ply" => OutputFormat::CompressedPly,
            "ply" => OutputFormat::Ply,
            "spz" => OutputFormat::Spz,
            "splat" => OutputFormat::Splat,
            _ => return None,
        })
    }

    /// Name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            OutputFormat::Ply => "INRIA PLY",
            OutputFormat::CompressedPly => "PlayCanvas compressed PLY",
            OutputFormat::Spz => "SPZ",
            OutputFormat::Splat => "antimatter15 .splat",
        }
    }
}

/// Options of [`write_scene`]; `Default` writes SPZ v3 with 12 fractional bits (fewer when
/// the scene is too large) and the default SH bits.
#[derive(Clone, Copy, Debug)]
pub struct WriteOptions {
    /// Mark the scene as trained with antialiasing (SPZ flag, PLY comment; `.splat` cannot).
    pub antialiased: bool,
    /// SPZ version to write: 2, 3 (default) or 4.
    pub spz_version: u32,
    /// SPZ fixed-point fractional bits; `None` = 12, or fewer when positions need it.
    pub spz_fractional_bits: Option<u8>,
    /// SPZ bits kept per SH coefficient: band 1 (default 5) and bands 2–3 (default 4).
    pub spz_sh1_bits: u8,
    pub spz_sh_rest_bits: u8,
    /// Deflate level of SPZ v2/v3, 0-9 (default 6; 1 is ~6x faster on SH 3 scenes and
    /// ~5-13% larger).
    pub spz_gzip_level: u8,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            antialiased: false,
            spz_version: 3,
            spz_fractional_bits: None,
            spz_sh1_bits: 5,
            spz_sh_rest_bits: 4,
            spz_gzip_level: 6,
        }
    }
}

/// What [`write_scene`] did.
#[derive(Clone, Debug, Default)]
pub struct WriteReport {
    /// Size of the written file.
    pub bytes: u64,
    /// What the format could not keep (dropped SH, clamped values, reordered splats, …).
    pub notes: Vec<String>,
}

/// Writes `splats` (RDF) to `path` in `format`, atomically. Lossy formats need a valid scene
/// (finite values, non-zero quaternions); the INRIA PLY keeps any values bit for bit.
pub fn write_scene(
    path: &Path,
    splats: &Splats,
    format: OutputFormat,
    options: &WriteOptions,
) -> Result<WriteReport, IoError> {
    let fail = |m: String| IoError::output(path, m);
    let aa_comment: &[&str] = if options.antialiased {
        &["antialiased=true"]
    } else {
        &[]
    };
    if format != OutputFormat::Ply {
        splats.validate().map_err(|m| {
            fail(format!(
                "cannot write an invalid scene as {}: {m}",
                format.name()
            ))
        })?;
    }
    let (bytes, mut notes) = match format {
        OutputFormat::Ply => {
            crate::ply::write_ply_with_comments(path, splats, aa_comment)?;
            let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            return Ok(WriteReport {
                bytes,
                notes: Vec::new(),
            });
        }
        OutputFormat::CompressedPly => {
            compressed_ply::encode(splats, aa_comment).map_err(|e| e.at(path))?
        }
        OutputFormat::Spz => spz::encode(
            splats,
            &spz::SpzWrite {
                version: options.spz_version,
                fractional_bits: options.spz_fractional_bits,
                antialiased: options.antialiased,
                sh1_bits: options.spz_sh1_bits,
                sh_rest_bits: options.spz_sh_rest_bits,
                gzip_level: options.spz_gzip_level,
            },
            path,
        )?,
        OutputFormat::Splat => splat::encode(splats).map_err(|e| e.at(path))?,
    };
    if options.antialiased && format == OutputFormat::Splat {
        notes.push(".splat cannot record the antialiasing flag".into());
    }
    crate::atomic::write_atomic(path, |w| std::io::Write::write_all(w, &bytes))?;
    Ok(WriteReport {
        bytes: bytes.len() as u64,
        notes,
    })
}

#[cfg(test)]
mod tests;
