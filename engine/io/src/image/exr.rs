//! OpenEXR writing: single-part scanline files with channels `A B G R Z`.
//!
//! File layout (OpenEXR 2.0, version field 2, no flags), all little-endian:
//!
//! ```text
//! magic 20000630 | version 2 | attributes… | 0
//! offset table: one u64 absolute file offset per chunk, in increasing y
//! per chunk: i32 first line y | i32 payload size | payload
//! ```
//!
//! A chunk holds [`ExrCompression::lines_per_chunk`] lines (the last one may hold fewer);
//! uncompressed, its payload is, for each line, for each channel in alphabetical order
//! (`A, B, G, R, Z`), `width` samples (HALF: 2 bytes, FLOAT: 4 bytes). `--exr-half` stores
//! `A B G R` as HALF (rounded to nearest, ties to even); `Z` is always FLOAT.
//!
//! Compression (OpenEXR's rule: a payload that does not come out smaller than the raw chunk
//! is stored raw, and readers recognise it by its size):
//! * ZIP (16 lines) and ZIPS (1 line): the bytes are split into even and odd positions (even
//!   first), each byte is replaced by its difference to the previous one plus 128 (mod 256),
//!   and the result is zlib-compressed (level [`ZIP_LEVEL`]);
//! * PIZ (32 lines, lossless wavelet + Huffman) and DWAA (32 lines, lossy DCT on R, G, B; the
//!   level goes into the `dwaCompressionLevel` attribute) come from the sibling codec modules.
//!
//! Chunks are encoded in parallel, a batch at a time (bounded memory), written in order, and
//! the offset table is filled in at the end.
//!
//! Header attributes, besides the required ones and the caller's strings:
//! * `chromaticities`: Rec. 709 / sRGB primaries, D65 white (both colour encodings use them);
//! * `vksplat_color`: `linear` or `raw (display-encoded sRGB)`, see [`ExrColor`];
//! * `worldToCamera`, `worldToNDC` (m44f) from the camera, see [`camera_matrices`];
//! * `framesPerSecond` (rational), `capDate` (UTC) and `utcOffset` (0), when given;
//! * `vksplat_time` (double): the scene time the frame shows, and `vksplat_shutter` (v2f:
//!   the first and last sub-frame time of a motion-blurred frame, relative to it), when given.

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use super::{checked_pixels, ChunkChannel};
use crate::half::f32_to_half;
use crate::{Camera, IoError};

pub(super) const EXR_MAGIC: u32 = 20000630;
/// Version 2 with no flag bits: single-part scanline, short names.
const EXR_VERSION: u32 = 2;
pub(super) const PIXEL_HALF: i32 = 1;
pub(super) const PIXEL_FLOAT: i32 = 2;
/// With the long-names flag unset, attribute names are limited to 31 bytes.
const MAX_NAME: usize = 31;
/// zlib level for ZIP/ZIPS. With flate2's miniz_oxide backend, level 1 deflates a 1080p frame
/// 2.6x (real scene) to 4.3x (full-frame detail) faster than OpenEXR's default level 4, for
/// files 8.6 % and 7.5 % larger (measured with `examples/exr_write`; see the README).
pub const ZIP_LEVEL: u32 = 1;
/// DWAA quality, OpenEXR's default (`dwaCompressionLevel`).
pub const DWA_LEVEL: f32 = 45.0;
/// Lines each worker thread encodes per batch: bounds the memory held for chunks that are
/// not yet written.
const BATCH_LINES: usize = 128;

/// Attribute names the writer sets itself; caller attributes may not reuse them.
const RESERVED_ATTRIBUTES: [&str; 18] = [
    "channels",
    "compression",
    "dataWindow",
    "displayWindow",
    "lineOrder",
    "pixelAspectRatio",
    "screenWindowCenter",
    "screenWindowWidth",
    "chromaticities",
    "vksplat_color",
    "worldToCamera",
    "worldToNDC",
    "framesPerSecond",
    "capDate",
    "utcOffset",
    "dwaCompressionLevel",
    "vksplat_time",
    "vksplat_shutter",
];

/// Rec. 709 / sRGB primaries and D65 white point: red x, y, green x, y, blue x, y, white x, y.
pub const REC709_CHROMATICITIES: [f32; 8] = [0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290];

/// EXR compression methods vksplat writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExrCompression {
    /// Uncompressed, one line per chunk.
    None,
    /// zlib, 16 lines per chunk (lossless; the default).
    #[default]
    Zip,
    /// zlib, one line per chunk (lossless).
    Zips,
    /// Wavelet + Huffman, 32 lines per chunk (lossless).
    Piz,
    /// DCT, 32 lines per chunk: lossy on R, G, B (HALF), lossless on A and Z.
    Dwaa,
}

impl ExrCompression {
    /// Every method vksplat writes.
    pub const ALL: [ExrCompression; 5] = [
        ExrCompression::None,
        ExrCompression::Zip,
        ExrCompression::Zips,
        ExrCompression::Piz,
        ExrCompression::Dwaa,
    ];

    /// The flag value: `none`, `zip`, `zips`, `piz` or `dwaa`.
    pub fn name(self) -> &'static str {
        match self {
            ExrCompression::None => "none",
            ExrCompression::Zip => "zip",
            ExrCompression::Zips => "zips",
            ExrCompression::Piz => "piz",
            ExrCompression::Dwaa => "dwaa",
        }
    }

    /// Parses a [`ExrCompression::name`], ignoring case.
    pub fn parse(s: &str) -> Option<ExrCompression> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
    }

    /// The value of the `compression` header attribute.
    pub(super) fn code(self) -> u8 {
        match self {
            ExrCompression::None => 0,
            ExrCompression::Zips => 2,
            ExrCompression::Zip => 3,
            ExrCompression::Piz => 4,
            ExrCompression::Dwaa => 8,
        }
    }

    pub(super) fn from_code(code: u8) -> Option<ExrCompression> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Scanlines per chunk, fixed by the OpenEXR format for each method.
    pub fn lines_per_chunk(self) -> usize {
        match self {
            ExrCompression::None | ExrCompression::Zips => 1,
            ExrCompression::Zip => 16,
            ExrCompression::Piz | ExrCompression::Dwaa => 32,
        }
    }
}

/// How RGB values are encoded in the file. A and Z are never changed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ExrColor {
    /// The renderer's values as they are: display-encoded like the training photos (sRGB
    /// transfer), the same numbers the PNG clamps and quantises.
    Raw,
    /// Scene-linear, what compositors expect from EXR: the splats' colours and the background
    /// go through the inverse sRGB transfer [`srgb_to_linear`] (`L`) separately and are
    /// composited again in linear light. With the file's RGB `C`, alpha `A` (clamped to
    /// [0, 1]), `T = 1 − A` and `background` `b`, the renderer's `C = F + T·b` with `F` the
    /// premultiplied splat colour, and the file gets
    ///
    /// `A·L((C − T·b) / A) + T·L(b)`  where `A > 0`,   `L(C)` where `A = 0`.
    ///
    /// So a fully covered pixel is `L(C)`, an empty one `L(b)`, and an edge keeps its
    /// premultiplied form (linearising premultiplied values directly would darken every
    /// antialiased edge).
    Linear {
        /// The background the frame was rendered over (display-encoded, like `C`).
        background: [f32; 3],
    },
}

impl ExrColor {
    /// The value of the `vksplat_color` attribute.
    pub fn attribute(&self) -> &'static str {
        match self {
            ExrColor::Raw => "raw (display-encoded sRGB)",
            ExrColor::Linear { .. } => "linear",
        }
    }
}

/// The inverse sRGB transfer function (IEC 61966-2-1), mirrored for negative values:
/// `c/12.92` for `|c| <= 0.04045`, else `((|c| + 0.055)/1.055)^2.4`, with the sign of `c`.
pub fn srgb_to_linear(c: f32) -> f32 {
    let a = c.abs();
    let l = if a <= 0.04045 {
        a / 12.92
    } else {
        ((a + 0.055) / 1.055).powf(2.4)
    };
    l.copysign(c)
}

/// One pixel's RGB in linear light (see [`ExrColor::Linear`]); `bg_lin` is `L(background)`.
fn linear_rgb(px: &[f32], bg: [f32; 3], bg_lin: [f32; 3]) -> [f32; 3] {
    let a = px[3].clamp(0.0, 1.0);
    if a.is_nan() || a <= 0.0 {
        return [
            srgb_to_linear(px[0]),
            srgb_to_linear(px[1]),
            srgb_to_linear(px[2]),
        ];
    }
    let t = 1.0 - a;
    let mut out = [0.0; 3];
    for c in 0..3 {
        let fg = px[c] - t * bg[c];
        out[c] = a * srgb_to_linear(fg / a) + t * bg_lin[c];
    }
    out
}

/// A typed header attribute value (the types vksplat writes or reads back).
#[derive(Clone, Debug, PartialEq)]
pub enum ExrValue {
    String(String),
    Float(f32),
    Double(f64),
    Int(i32),
    /// Numerator, denominator.
    Rational(i32, u32),
    V2f([f32; 2]),
    /// xMin, yMin, xMax, yMax.
    Box2i([i32; 4]),
    /// Imath's `M44f`: `m[row][column]`, applied to row vectors (`p' = p·m`, translation in
    /// the last row).
    M44f([[f32; 4]; 4]),
    /// Red x, y, green x, y, blue x, y, white x, y.
    Chromaticities([f32; 8]),
    /// Any other type, kept as its name and bytes.
    Other {
        ty: String,
        bytes: Vec<u8>,
    },
}

impl ExrValue {
    /// The attribute type name in the file.
    pub fn type_name(&self) -> &str {
        match self {
            ExrValue::String(_) => "string",
            ExrValue::Float(_) => "float",
            ExrValue::Double(_) => "double",
            ExrValue::Int(_) => "int",
            ExrValue::Rational(..) => "rational",
            ExrValue::V2f(_) => "v2f",
            ExrValue::Box2i(_) => "box2i",
            ExrValue::M44f(_) => "m44f",
            ExrValue::Chromaticities(_) => "chromaticities",
            ExrValue::Other { ty, .. } => ty,
        }
    }

    fn encode(&self) -> Vec<u8> {
        let floats = |v: &[f32]| v.iter().flat_map(|f| f.to_le_bytes()).collect();
        match self {
            ExrValue::String(s) => s.as_bytes().to_vec(),
            ExrValue::Float(f) => f.to_le_bytes().to_vec(),
            ExrValue::Double(f) => f.to_le_bytes().to_vec(),
            ExrValue::Int(i) => i.to_le_bytes().to_vec(),
            ExrValue::Rational(n, d) => [n.to_le_bytes(), d.to_le_bytes()].concat(),
            ExrValue::V2f(v) => floats(v),
            ExrValue::Box2i(b) => b.iter().flat_map(|i| i.to_le_bytes()).collect(),
            ExrValue::M44f(m) => floats(m.as_flattened()),
            ExrValue::Chromaticities(c) => floats(c),
            ExrValue::Other { bytes, .. } => bytes.clone(),
        }
    }

    /// Decodes a value of type `ty`; a known type with the wrong size becomes `Other`.
    pub(super) fn decode(ty: &str, bytes: &[u8]) -> ExrValue {
        let f32s = |n: usize| -> Option<Vec<f32>> {
            (bytes.len() == 4 * n).then(|| {
                bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            })
        };
        let i32s = |n: usize| -> Option<Vec<i32>> {
            (bytes.len() == 4 * n).then(|| {
                bytes
                    .chunks_exact(4)
                    .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            })
        };
        let value = match ty {
            "string" => String::from_utf8(bytes.to_vec()).ok().map(ExrValue::String),
            "float" => f32s(1).map(|v| ExrValue::Float(v[0])),
            "double" => <[u8; 8]>::try_from(bytes)
                .ok()
                .map(|b| ExrValue::Double(f64::from_le_bytes(b))),
            "int" => i32s(1).map(|v| ExrValue::Int(v[0])),
            "rational" => i32s(2).map(|v| ExrValue::Rational(v[0], v[1] as u32)),
            "v2f" => f32s(2).map(|v| ExrValue::V2f([v[0], v[1]])),
            "box2i" => i32s(4).map(|v| ExrValue::Box2i([v[0], v[1], v[2], v[3]])),
            "m44f" => f32s(16).map(|v| {
                let mut m = [[0.0; 4]; 4];
                for (i, x) in v.into_iter().enumerate() {
                    m[i / 4][i % 4] = x;
                }
                ExrValue::M44f(m)
            }),
            "chromaticities" => f32s(8).map(|v| {
                let mut c = [0.0; 8];
                c.copy_from_slice(&v);
                ExrValue::Chromaticities(c)
            }),
            _ => None,
        };
        value.unwrap_or_else(|| ExrValue::Other {
            ty: ty.to_string(),
            bytes: bytes.to_vec(),
        })
    }
}

/// The `worldToCamera` and `worldToNDC` attributes for `camera`, as OpenEXR defines them
/// (the conventions of Pixar's RenderMan), in Imath's row-vector form (`p' = p·M`):
///
/// * `worldToCamera` maps world points to a left-handed camera space, x right, **y up**, z
///   forward (the viewing direction; points in front have z > 0). vksplat's cameras are
///   OpenCV (x right, y down, z forward), so this is `(F·W)ᵀ` with `W` the camera's
///   column-vector `world_to_camera` and `F = diag(1, −1, 1, 1)`.
/// * `worldToNDC` maps world points, after the division by w, to NDC: (0, 0) is the top-left
///   corner of the image, (1, 1) the bottom-right, x right, y down, so `x_ndc = u / width`,
///   `y_ndc = v / height` for the pixel position `(u, v) = (fx·x/z + cx, fy·y/z + cy)` (pixel
///   centres at +0.5). The discarded z coordinate is `1 / z_camera`, which keeps the matrix
///   invertible. It is `(P·W)ᵀ` with
///   `P = [[fx/w, 0, cx/w, 0], [0, fy/h, cy/h, 0], [0, 0, 0, 1], [0, 0, 1, 0]]`. An
///   orthographic camera's pixel position is `(fx·x + cx, fy·y + cy)`: there w stays 1, z is
///   the camera depth, and `P = [[fx/w, 0, 0, cx/w], [0, fy/h, 0, cy/h], [0, 0, 1, 0],
///   [0, 0, 0, 1]]`.
pub fn camera_matrices(camera: &Camera) -> ([[f32; 4]; 4], [[f32; 4]; 4]) {
    let w2c = camera.world_to_camera.map(|r| r.map(f64::from));
    let (w, h) = (f64::from(camera.width), f64::from(camera.height));
    let (fx, fy) = (f64::from(camera.fx) / w, f64::from(camera.fy) / h);
    let (cx, cy) = (f64::from(camera.cx) / w, f64::from(camera.cy) / h);
    let p = match camera.projection {
        crate::Projection::Perspective => [
            [fx, 0.0, cx, 0.0],
            [0.0, fy, cy, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 1.0, 0.0],
        ],
        crate::Projection::Orthographic => [
            [fx, 0.0, 0.0, cx],
            [0.0, fy, 0.0, cy],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ],
    };
    let flip = [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, -1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ];
    // (A·W)ᵀ[i][j] = Σk A[j][k]·W[k][i]
    let transposed_product = |a: &[[f64; 4]; 4]| {
        let mut out = [[0.0f32; 4]; 4];
        for (i, row) in out.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (0..4).map(|k| a[j][k] * w2c[k][i]).sum::<f64>() as f32;
            }
        }
        out
    };
    (transposed_product(&flip), transposed_product(&p))
}

/// Whether `s` has the form of a `capDate` value, `YYYY:MM:DD hh:mm:ss` (digits in place, the
/// fields' ranges are the caller's business).
fn is_cap_date(s: &str) -> bool {
    s.len() == 19
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 | 13 | 16 => b == b':',
            10 => b == b' ',
            _ => b.is_ascii_digit(),
        })
}

/// Everything [`write_exr_with`] writes besides the pixels.
#[derive(Clone, Debug)]
pub struct ExrOptions<'a> {
    pub compression: ExrCompression,
    /// Store A, B, G, R as HALF (Z stays FLOAT).
    pub half: bool,
    pub color: ExrColor,
    /// Adds `worldToCamera` and `worldToNDC` (see [`camera_matrices`]).
    pub camera: Option<&'a Camera>,
    /// `framesPerSecond` as numerator, denominator.
    pub frames_per_second: Option<(i32, u32)>,
    /// `capDate`, `YYYY:MM:DD hh:mm:ss` in UTC: written with `utcOffset` 0, so that every node
    /// of a farm writes the same clock and OpenEXR's "UTC = capDate + utcOffset" holds.
    pub cap_date: Option<&'a str>,
    /// `vksplat_time` (double): the scene time of the frame (plugin scenes).
    pub time: Option<f64>,
    /// `vksplat_shutter` (v2f): the first and last sub-frame time of a motion-blurred frame,
    /// as offsets from `time`.
    pub shutter: Option<[f32; 2]>,
    /// Extra `string` attributes; names must be 1..=31 bytes without NUL and must not be one
    /// the writer sets itself.
    pub attributes: &'a [(&'a str, &'a str)],
}

impl Default for ExrOptions<'_> {
    /// ZIP, FLOAT, raw colour, no camera, date or extra attributes.
    fn default() -> Self {
        ExrOptions {
            compression: ExrCompression::Zip,
            half: false,
            color: ExrColor::Raw,
            camera: None,
            frames_per_second: None,
            cap_date: None,
            time: None,
            shutter: None,
            attributes: &[],
        }
    }
}

/// Writes RGBA + depth as an uncompressed float32 OpenEXR file with raw colour and extra
/// `string` attributes (see [`write_exr_with`] for the options).
pub fn write_exr(
    path: &Path,
    width: u32,
    height: u32,
    rgba: &[f32],
    depth: &[f32],
    attributes: &[(&str, &str)],
) -> Result<(), IoError> {
    let options = ExrOptions {
        compression: ExrCompression::None,
        attributes,
        ..ExrOptions::default()
    };
    write_exr_with(path, width, height, rgba, depth, &options)
}

/// Writes RGBA + depth as an OpenEXR file (see the module docs for the layout).
///
/// `rgba` is row-major, 4 floats per pixel; `depth` 1 float per pixel (the `Z` channel).
pub fn write_exr_with(
    path: &Path,
    width: u32,
    height: u32,
    rgba: &[f32],
    depth: &[f32],
    options: &ExrOptions,
) -> Result<(), IoError> {
    checked_pixels(path, width, height, rgba.len(), 4, "rgba")?;
    checked_pixels(path, width, height, depth.len(), 1, "depth")?;
    let w = width as usize;
    let h = height as usize;
    let lines_per_chunk = options.compression.lines_per_chunk();
    // Coordinates are i32 in EXR, and so is a chunk's byte count.
    let chunk_bytes = (w as u64) * 5 * 4 * lines_per_chunk as u64;
    if width > i32::MAX as u32 || height > i32::MAX as u32 || chunk_bytes > i32::MAX as u64 {
        return Err(IoError::output(
            path,
            format!("image size {width}x{height} is too large for EXR"),
        ));
    }
    let header = header(path, width, height, options)?;
    let frame = FrameData {
        rgba,
        depth,
        width: w,
        height: h,
        half: options.half,
        color: options.color,
    };
    let chunks = h.div_ceil(lines_per_chunk);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 16)
        .min(chunks);
    let batch = (threads * BATCH_LINES)
        .div_ceil(lines_per_chunk)
        .max(threads);

    crate::atomic::write_atomic(path, |out| {
        out.write_all(&header)?;
        // The offset table is filled in once the chunk sizes are known.
        let table_pos = header.len() as u64;
        out.write_all(&vec![0u8; chunks * 8])?;
        let mut offsets = Vec::with_capacity(chunks);
        let mut pos = table_pos + chunks as u64 * 8;
        for first in (0..chunks).step_by(batch) {
            let end = (first + batch).min(chunks);
            let encoded = encode_parallel(&frame, options.compression, first..end, threads);
            for (i, payload) in (first..end).zip(encoded) {
                offsets.push(pos);
                let y = (i * lines_per_chunk) as i32;
                out.write_all(&y.to_le_bytes())?;
                out.write_all(&(payload.len() as i32).to_le_bytes())?;
                out.write_all(&payload)?;
                pos += 8 + payload.len() as u64;
            }
        }
        let table: Vec<u8> = offsets.iter().flat_map(|o| o.to_le_bytes()).collect();
        out.seek(SeekFrom::Start(table_pos))?;
        out.write_all(&table)
    })
}

fn put_attr(out: &mut Vec<u8>, name: &str, value: &ExrValue) {
    let bytes = value.encode();
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    out.extend_from_slice(value.type_name().as_bytes());
    out.push(0);
    // Sizes are bounded: the only unbounded value is a caller's string, whose length
    // `header` checks against i32::MAX.
    out.extend_from_slice(&(bytes.len() as i32).to_le_bytes());
    out.extend_from_slice(&bytes);
}

/// The channel list: `A B G R` (HALF or FLOAT) and `Z` (FLOAT), alphabetical as required.
fn channel_list(half: bool) -> [ChunkChannel<'static>; 5] {
    [
        ChunkChannel { name: "A", half },
        ChunkChannel { name: "B", half },
        ChunkChannel { name: "G", half },
        ChunkChannel { name: "R", half },
        ChunkChannel {
            name: "Z",
            half: false,
        },
    ]
}

/// The header: magic, version, attributes and the terminating NUL.
fn header(path: &Path, width: u32, height: u32, options: &ExrOptions) -> Result<Vec<u8>, IoError> {
    for (i, &(name, value)) in options.attributes.iter().enumerate() {
        let problem = if name.is_empty() || name.len() > MAX_NAME {
            Some(format!("must be 1..={MAX_NAME} bytes long"))
        } else if name.contains('\0') {
            Some("contains a NUL byte".to_string())
        } else if RESERVED_ATTRIBUTES.contains(&name) {
            Some("is an attribute written by vksplat itself".to_string())
        } else if options.attributes[..i].iter().any(|(n, _)| *n == name) {
            Some("is given twice".to_string())
        } else if value.len() > i32::MAX as usize {
            Some("has a value that is too long".to_string())
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(IoError::output(
                path,
                format!("EXR attribute name '{}' {problem}", name.escape_debug()),
            ));
        }
    }

    let mut out = Vec::new();
    out.extend_from_slice(&EXR_MAGIC.to_le_bytes());
    out.extend_from_slice(&EXR_VERSION.to_le_bytes());
    let mut chlist = Vec::new();
    for c in channel_list(options.half) {
        chlist.extend_from_slice(c.name.as_bytes());
        chlist.push(0);
        let ty = if c.half { PIXEL_HALF } else { PIXEL_FLOAT };
        chlist.extend_from_slice(&ty.to_le_bytes());
        chlist.extend_from_slice(&[0, 0, 0, 0]); // pLinear + 3 reserved bytes
        chlist.extend_from_slice(&1i32.to_le_bytes()); // xSampling
        chlist.extend_from_slice(&1i32.to_le_bytes()); // ySampling
    }
    chlist.push(0);
    let window = ExrValue::Box2i([0, 0, width as i32 - 1, height as i32 - 1]);
    let other = |ty: &str, bytes: Vec<u8>| ExrValue::Other {
        ty: ty.into(),
        bytes,
    };
    put_attr(&mut out, "channels", &other("chlist", chlist));
    put_attr(
        &mut out,
        "compression",
        &other("compression", vec![options.compression.code()]),
    );
    put_attr(&mut out, "dataWindow", &window);
    put_attr(&mut out, "displayWindow", &window);
    put_attr(&mut out, "lineOrder", &other("lineOrder", vec![0]));
    put_attr(&mut out, "pixelAspectRatio", &ExrValue::Float(1.0));
    put_attr(&mut out, "screenWindowCenter", &ExrValue::V2f([0.0, 0.0]));
    put_attr(&mut out, "screenWindowWidth", &ExrValue::Float(1.0));
    if options.compression == ExrCompression::Dwaa {
        put_attr(&mut out, "dwaCompressionLevel", &ExrValue::Float(DWA_LEVEL));
    }
    put_attr(
        &mut out,
        "chromaticities",
        &ExrValue::Chromaticities(REC709_CHROMATICITIES),
    );
    put_attr(
        &mut out,
        "vksplat_color",
        &ExrValue::String(options.color.attribute().into()),
    );
    if let Some(camera) = options.camera {
        let (to_camera, to_ndc) = camera_matrices(camera);
        put_attr(&mut out, "worldToCamera", &ExrValue::M44f(to_camera));
        put_attr(&mut out, "worldToNDC", &ExrValue::M44f(to_ndc));
    }
    if let Some((n, d)) = options.frames_per_second {
        put_attr(&mut out, "framesPerSecond", &ExrValue::Rational(n, d));
    }
    if let Some(t) = options.time {
        put_attr(&mut out, "vksplat_time", &ExrValue::Double(t));
    }
    if let Some(s) = options.shutter {
        put_attr(&mut out, "vksplat_shutter", &ExrValue::V2f(s));
    }
    if let Some(date) = options.cap_date {
        if !is_cap_date(date) {
            return Err(IoError::output(
                path,
                format!(
                    "EXR capDate '{}' is not of the form YYYY:MM:DD hh:mm:ss",
                    date.escape_debug()
                ),
            ));
        }
        put_attr(&mut out, "capDate", &ExrValue::String(date.into()));
        put_attr(&mut out, "utcOffset", &ExrValue::Float(0.0));
    }
    for &(name, value) in options.attributes {
        put_attr(&mut out, name, &ExrValue::String(value.into()));
    }
    out.push(0);
    Ok(out)
}

/// The pixels and how to store them.
pub(super) struct FrameData<'a> {
    pub(super) rgba: &'a [f32],
    pub(super) depth: &'a [f32],
    pub(super) width: usize,
    pub(super) height: usize,
    pub(super) half: bool,
    pub(super) color: ExrColor,
}

/// Per-thread buffers, reused from chunk to chunk.
#[derive(Default)]
struct Scratch {
    rgba: Vec<f32>,
    raw: Vec<u8>,
    zip: Vec<u8>,
}

impl FrameData<'_> {
    /// The uncompressed chunk of `lines` lines from `y0` into `scratch.raw`.
    fn raw_chunk(&self, y0: usize, lines: usize, scratch: &mut Scratch) {
        let w = self.width;
        let Scratch { rgba, raw, .. } = scratch;
        raw.clear();
        for y in y0..y0 + lines {
            let row = &self.rgba[y * w * 4..(y + 1) * w * 4];
            let row: &[f32] = match self.color {
                ExrColor::Raw => row,
                ExrColor::Linear { background } => {
                    let bg_lin = background.map(srgb_to_linear);
                    rgba.clear();
                    for px in row.chunks_exact(4) {
                        let [r, g, b] = linear_rgb(px, background, bg_lin);
                        rgba.extend_from_slice(&[r, g, b, px[3]]);
                    }
                    rgba
                }
            };
            // Alphabetical channel order: A, B, G, R, then Z.
            for c in [3usize, 2, 1, 0] {
                let samples = row.chunks_exact(4).map(|p| p[c]);
                if self.half {
                    raw.extend(samples.flat_map(|v| f32_to_half(v).to_le_bytes()));
                } else {
                    raw.extend(samples.flat_map(|v| v.to_le_bytes()));
                }
            }
            raw.extend(
                self.depth[y * w..(y + 1) * w]
                    .iter()
                    .flat_map(|v| v.to_le_bytes()),
            );
        }
    }

    /// The payload of chunk `index`.
    fn encode(&self, compression: ExrCompression, index: usize, scratch: &mut Scratch) -> Vec<u8> {
        let lpc = compression.lines_per_chunk();
        let y0 = index * lpc;
        let lines = lpc.min(self.height - y0);
        self.raw_chunk(y0, lines, scratch);
        let raw = &scratch.raw;
        let channels = channel_list(self.half);
        let packed = match compression {
            ExrCompression::None => None,
            ExrCompression::Zip | ExrCompression::Zips => zip_compress(raw, &mut scratch.zip),
            ExrCompression::Piz => Some(super::exr_piz::compress_piz(
                raw, &channels, self.width, lines,
            )),
            ExrCompression::Dwaa => Some(super::exr_dwa::compress_dwaa(
                raw, &channels, self.width, lines, DWA_LEVEL,
            )),
        };
        match packed {
            Some(p) if p.len() < raw.len() => p,
            _ => raw.clone(),
        }
    }
}

/// Encodes chunks `range` on up to `threads` threads (contiguous runs each), in order.
pub(super) fn encode_parallel(
    frame: &FrameData,
    compression: ExrCompression,
    range: std::ops::Range<usize>,
    threads: usize,
) -> Vec<Vec<u8>> {
    let run = |r: std::ops::Range<usize>| -> Vec<Vec<u8>> {
        let mut scratch = Scratch::default();
        r.map(|i| frame.encode(compression, i, &mut scratch))
            .collect()
    };
    let n = range.len();
    let threads = threads.min(n).max(1);
    if threads == 1 {
        return run(range);
    }
    let per = n.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let start = range.start + t * per;
                let end = (start + per).min(range.end);
                s.spawn(move || run(start..end.max(start)))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// OpenEXR's ZIP predictor: even bytes then odd bytes, each replaced by the difference to
/// its predecessor plus 128.
pub(super) fn zip_predict(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend(raw.iter().step_by(2));
    out.extend(raw.iter().skip(1).step_by(2));
    let mut prev = out.first().copied().unwrap_or(0);
    for b in out.iter_mut().skip(1) {
        let cur = *b;
        *b = cur.wrapping_sub(prev).wrapping_add(128);
        prev = cur;
    }
}

/// Inverts [`zip_predict`]: `data` (predicted) → `out` (raw bytes).
pub(super) fn zip_unpredict(data: &mut [u8], out: &mut [u8]) {
    for i in 1..data.len() {
        data[i] = data[i - 1].wrapping_add(data[i]).wrapping_sub(128);
    }
    let (even, odd) = data.split_at(data.len().div_ceil(2));
    for (i, o) in out.iter_mut().enumerate() {
        *o = if i % 2 == 0 { even[i / 2] } else { odd[i / 2] };
    }
}

/// ZIP/ZIPS payload of `raw`, or `None` when it would not be smaller.
fn zip_compress(raw: &[u8], scratch: &mut Vec<u8>) -> Option<Vec<u8>> {
    zip_predict(raw, scratch);
    let mut z = flate2::Compress::new(flate2::Compression::new(ZIP_LEVEL), true);
    // No room past the raw size: a payload that does not fit is stored raw anyway.
    let mut out = Vec::with_capacity(raw.len());
    match z.compress_vec(scratch, &mut out, flate2::FlushCompress::Finish) {
        Ok(flate2::Status::StreamEnd) => Some(out),
        _ => None,
    }
}
