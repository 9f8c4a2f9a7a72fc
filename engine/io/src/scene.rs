//! Reading and writing scenes in every supported format, chosen by content.
//!
//! [`read_scene`] looks at the bytes, not the name: `ply` starts a PLY (INRIA, or PlayCanvas
//! compressed when it has a `chunk` element and packed vertices), the gzip magic or `NGSP`
//! starts an SPZ; a file with neither is a `.ksplat` or `.splat` when its name says so, or when
//! it has no known extension and its header (`.ksplat`: sections that fit the file) or first
//! records (`.splat`) fit the format. The GLB magic `glTF`, or JSON naming
//! `KHR_gaussian_splatting` (or any JSON file called `.gltf`), is glTF (y-up, converted like
//! SPZ's RUB). [`write_scene`] picks the format
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

use crate::formats::{compressed_ply, gltf, ksplat, sog, splat, spz};
use crate::{IoError, Splats};

mod checked;

pub use crate::formats::spz::{SpzContainer, SpzExtra};
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
    /// mkkellogg GaussianSplats3D `.ksplat` at compression level 0, 1 or 2.
    Ksplat { compression: u8 },
    /// glTF 2.0 with `KHR_gaussian_splatting`: `.glb` when `binary`; `spz` when the splats
    /// are an SPZ payload (`KHR_gaussian_splatting_compression_spz_2`).
    Gltf { binary: bool, spz: bool },
    /// PlayCanvas SOG version 2: one zip (`.sog`) when `bundled`, else `meta.json` beside its
    /// WebP images.
    Sog { bundled: bool },
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
            Format::Ksplat { compression } => {
                write!(
                    f,
                    "GaussianSplats3D .ksplat (compression level {compression})"
                )
            }
            Format::Gltf { binary, spz } => write!(
                f,
                "glTF{} KHR_gaussian_splatting{}",
                if *binary { " binary (.glb)" } else { "" },
                if *spz { " (SPZ compressed)" } else { "" }
            ),
            Format::Sog { bundled: true } => f.write_str("PlayCanvas SOG (bundled .sog)"),
            Format::Sog { bundled: false } => f.write_str("PlayCanvas SOG (meta.json + WebP)"),
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
            Format::Ksplat { .. } => "ksplat",
            Format::Gltf { binary: false, .. } => "gltf",
            Format::Gltf { binary: true, .. } => "glb",
            Format::Sog { .. } => "sog",
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
    /// Bytes of a PLY header (INRIA or compressed) or of the `.ksplat` main and section
    /// headers; 0 for SPZ and `.splat`.
    pub header_bytes: u64,
    /// `(file_bytes - header_bytes) / count`: what each splat costs on disk (0 for an empty
    /// scene).
    pub bytes_per_splat: f64,
    /// Adaptations made while reading (skipped extensions, dropped SH band 4, …).
    pub notes: Vec<String>,
    /// What an SPZ file holds beyond the splats (SH band 4, extension records), for
    /// [`write_scene_with`] to carry into SPZ output; empty for other formats.
    pub spz_extra: SpzExtra,
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
    if sog::sniff_meta(&bytes) {
        // SOG metadata: its images are the files it names beside it.
        let (s, info) = sog::parse_meta(&bytes, path)?;
        return Ok(sog_scene(s, info, len));
    }
    if is_gltf(&bytes, path) {
        // The file is ours: a GLB's binary chunk is read in place instead of copied.
        let (s, info) = gltf::parse_owned(bytes, path)?;
        return Ok(gltf_scene(s, info, len));
    }
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
        let mut file = finish(s, format, info.antialiased, Axes::Rub, (len, 0), info.notes);
        file.spz_extra = info.extra;
        return Ok(file);
    }
    if is_gltf(bytes, path) {
        let (s, info) = gltf::parse(bytes, path)?;
        return Ok(gltf_scene(s, info, len));
    }
    let ext = extension(path);
    if ext == "sog" || sog::sniff_bundle(bytes) {
        let (s, info) = sog::parse_bundle(bytes, path)?;
        return Ok(sog_scene(s, info, len));
    }
    // .ksplat has no magic number: its name, or a header whose sections fit the file.
    if ext == "ksplat" || (OutputFormat::from_extension(&ext).is_none() && ksplat::plausible(bytes))
    {
        let (s, info) = ksplat::parse(bytes, path)?;
        let format = Format::Ksplat {
            compression: info.compression,
        };
        let sizes = (len, info.header_bytes);
        return Ok(finish(s, format, false, Axes::Rdf, sizes, vec![]));
    }
    if ext == "splat" || (OutputFormat::from_extension(&ext).is_none() && splat::plausible(bytes)) {
        let s = splat::parse(bytes, path)?;
        return Ok(finish(s, Format::Splat, false, Axes::Rdf, (len, 0), vec![]));
    }
    Err(fail(unknown_format_message(bytes, &ext)))
}

/// glTF by content (GLB magic, or JSON naming the extension within its first MiB), or a JSON
/// file called `.gltf` (its extension list may come after megabytes of data URIs).
fn is_gltf(bytes: &[u8], path: &Path) -> bool {
    gltf::sniff(bytes) || (bytes.first() == Some(&b'{') && extension(path) == "gltf")
}

fn gltf_scene(s: Splats, info: gltf::GltfInfo, len: u64) -> SceneFile {
    let format = Format::Gltf {
        binary: info.binary,
        spz: info.spz,
    };
    finish(s, format, info.antialiased, Axes::Rub, (len, 0), info.notes)
}

fn sog_scene(s: Splats, info: sog::SogInfo, len: u64) -> SceneFile {
    let format = Format::Sog {
        bundled: info.bundled,
    };
    finish(s, format, info.antialiased, Axes::Rdf, (len, 0), vec![])
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
        "ply" => " (a PLY file starts with 'ply')",
        "spz" => " (an SPZ file starts with the gzip magic 1f 8b, or 'NGSP' for version 4)",
        "gltf" => " (a .gltf file is JSON with an \"asset\" object and KHR_gaussian_splatting)",
        "glb" => " (a .glb file starts with 'glTF')",
        _ => "",
    };
    format!(
        "unrecognised scene format{hint}: it starts with bytes {head}; vksplat reads INRIA \
         PLY, PlayCanvas compressed PLY, SPZ (v1-v4), .splat, .ksplat, glTF KHR_gaussian_splatting \
         (.gltf/.glb) and PlayCanvas SOG (.sog, meta.json)"
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
        spz_extra: SpzExtra::default(),
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
    /// glTF `KHR_gaussian_splatting` JSON (`*.gltf`), its buffer in a sibling `.bin` (or a
    /// `data:` URI with [`WriteOptions::gltf_embed`]).
    Gltf,
    /// glTF `KHR_gaussian_splatting` binary (`*.glb`).
    Glb,
    /// PlayCanvas SOG, bundled (`*.sog`).
    Sog,
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
            "gltf" => OutputFormat::Gltf,
            "glb" => OutputFormat::Glb,
            "sog" => OutputFormat::Sog,
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
            OutputFormat::Gltf => "glTF KHR_gaussian_splatting",
            OutputFormat::Glb => "glTF binary KHR_gaussian_splatting",
            OutputFormat::Sog => "PlayCanvas SOG",
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
    /// zstd level of SPZ v4, 1-22 (libzstd's; default 3, as Niantic's and PlayCanvas's
    /// writers; 19 is ~5% smaller and far slower).
    pub spz_zstd_level: i32,
    /// glTF: store the splats as an SPZ payload (`KHR_gaussian_splatting_compression_spz_2`,
    /// SPZ v2 as the draft says) instead of float accessors.
    pub gltf_spz: bool,
    /// `.gltf`: embed the buffer as a base64 `data:` URI instead of a sibling `.bin` file.
    pub gltf_embed: bool,
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
            spz_zstd_level: 3,
            gltf_spz: false,
            gltf_embed: false,
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
    write_scene_with(path, splats, &SpzExtra::default(), format, options)
}

/// [`write_scene`], carrying what an SPZ input held beyond the splats
/// ([`SceneFile::spz_extra`]): SPZ v3/v4 output keeps SH band 4 (while the splats are the ones
/// read, at degree 3) and the extension records; other outputs drop them with a note.
pub fn write_scene_with(
    path: &Path,
    splats: &Splats,
    extra: &SpzExtra,
    format: OutputFormat,
    options: &WriteOptions,
) -> Result<WriteReport, IoError> {
    let mut dropped = Vec::new();
    if format != OutputFormat::Spz {
        if !extra.sh_band4.is_empty() {
            dropped.push(format!(
                "dropped SH band 4 ({} holds SH up to degree 3)",
                format.name()
            ));
        }
        if !extra.extensions.is_empty() {
            dropped.push(format!(
                "dropped {} bytes of SPZ extensions ({} cannot hold them)",
                extra.extensions.len(),
                format.name()
            ));
        }
    }
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
                notes: dropped,
            });
        }
        OutputFormat::CompressedPly => {
            compressed_ply::encode(splats, aa_comment).map_err(|e| e.at(path))?
        }
        OutputFormat::Spz => spz::encode_with(
            splats,
            &spz::SpzWrite {
                version: options.spz_version,
                fractional_bits: options.spz_fractional_bits,
                antialiased: options.antialiased,
                sh1_bits: options.spz_sh1_bits,
                sh_rest_bits: options.spz_sh_rest_bits,
                gzip_level: options.spz_gzip_level,
                zstd_level: options.spz_zstd_level,
            },
            extra,
            path,
        )?,
        OutputFormat::Splat => splat::encode(splats).map_err(|e| e.at(path))?,
        OutputFormat::Sog => sog::encode(splats, options.antialiased).map_err(fail)?,
        OutputFormat::Gltf | OutputFormat::Glb => {
            return write_gltf(path, splats, format, options).map(|mut r| {
                r.notes.extend(dropped);
                r
            });
        }
    };
    notes.extend(dropped);
    if options.antialiased && format == OutputFormat::Splat {
        notes.push(".splat cannot record the antialiasing flag".into());
    }
    crate::atomic::write_atomic(path, |w| std::io::Write::write_all(w, &bytes))?;
    Ok(WriteReport {
        bytes: bytes.len() as u64,
        notes,
    })
}

/// The glTF writers: `.glb` in one file; `.gltf` with its buffer embedded, or in the sibling
/// `<stem>.bin`, written (atomically) before the `.gltf` that names it.
fn write_gltf(
    path: &Path,
    splats: &Splats,
    format: OutputFormat,
    options: &WriteOptions,
) -> Result<WriteReport, IoError> {
    let fail = |m: String| IoError::output(path, m);
    let bin_path = path.with_extension("bin");
    let bin_name = bin_path
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| fail("the file name is not UTF-8, so no buffer URI can name it".into()))?;
    let buffer = match (format, options.gltf_embed) {
        (OutputFormat::Glb, _) => gltf::GltfBuffer::Glb,
        (_, true) => gltf::GltfBuffer::Embedded,
        _ => gltf::GltfBuffer::External,
    };
    let spz = options.gltf_spz.then_some(spz::SpzWrite {
        version: 2,
        fractional_bits: options.spz_fractional_bits,
        antialiased: options.antialiased,
        sh1_bits: options.spz_sh1_bits,
        sh_rest_bits: options.spz_sh_rest_bits,
        gzip_level: options.spz_gzip_level,
        zstd_level: options.spz_zstd_level,
    });
    let out = gltf::encode(
        splats,
        &gltf::GltfWrite {
            buffer,
            bin_name: &bin_name,
            antialiased: options.antialiased,
            spz,
        },
        path,
    )?;
    let mut bytes = out.main.len() as u64;
    let bin = out.bin.as_deref().unwrap_or_default();
    bytes += bin.len() as u64;
    if buffer == gltf::GltfBuffer::Glb {
        // Header and JSON chunk, then the binary chunk straight from the buffer (no copy).
        let pad = crate::gltf_container::glb_padding(bin.len());
        bytes += pad as u64;
        crate::atomic::write_atomic(path, |w| {
            use std::io::Write;
            w.write_all(&out.main)?;
            w.write_all(bin)?;
            w.write_all(&[0u8; 3][..pad])
        })?;
    } else {
        if out.bin.is_some() {
            crate::atomic::write_atomic(&bin_path, |w| std::io::Write::write_all(w, bin))?;
        }
        crate::atomic::write_atomic(path, |w| std::io::Write::write_all(w, &out.main))?;
    }
    Ok(WriteReport {
        bytes,
        notes: out.notes,
    })
}

#[cfg(test)]
mod tests;
