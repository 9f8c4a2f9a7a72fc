//! INRIA 3D Gaussian Splatting PLY files.
//!
//! Reading follows the PLY spec loosely enough to accept every trainer's
//! output and strictly enough that malformed files are rejected with a clear
//! message instead of a panic or a huge allocation:
//!
//! * the header must be UTF-8, start with `ply` and end with `end_header`;
//! * formats `ascii`, `binary_little_endian` and `binary_big_endian` 1.0;
//! * any number of elements with scalar properties; only `vertex` is decoded,
//!   the others are skipped; `list` properties are rejected as unsupported
//!   (except by [`read_mesh`], which reads a mesh's `face` index lists);
//! * vertex fields are found by name, in any order, extra ones are ignored,
//!   and every scalar type is converted to `f32`;
//! * the body must hold exactly the data the header declares: the size check
//!   runs *before* anything is allocated, so a lying count cannot exhaust
//!   memory.
//!
//! * [`read_ply`] streams binary bodies: after the header (at most 1 MiB) is parsed and the
//!   file size checked, several threads each read their own range of vertex rows in 4 MiB
//!   blocks and decode them straight into the output arrays, so peak memory stays near the
//!   decoded size and loading runs at disk speed; ASCII files are read whole;
//! * a header comment `antialiased[=true|1|yes]` / `antialiasing…` (any case; `=false|0|no`
//!   denies) marks a scene trained with antialiasing (`Header::antialiased`); the scene
//!   writer emits `comment antialiased=true`.
//!
//! Values are returned as stored (log-scales, logits, raw SH). Quaternions are
//! normalised, except that zero-length and non-finite ones are left untouched
//! so that [`Splats::validate`] can report them.
//!
//! SH layout: the file stores `f_rest_*` channel-major (all R coefficients,
//! then G, then B); [`Splats::sh`] is coefficient-major, so
//! `f_rest_{c*(K-1) + (k-1)}` becomes `sh[(i*K + k)*3 + c]` and `f_dc_c`
//! becomes `sh[(i*K)*3 + c]`.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use crate::math::normalised_quat;
use crate::memory::{self, AllocError};
use crate::{IoError, Splats};

/// Reads an INRIA 3DGS PLY file (binary bodies are streamed and decoded in parallel).
pub fn read_ply(path: &Path) -> Result<Splats, IoError> {
    read_with_info(path).map(|(s, _)| s)
}

/// Parses an INRIA 3DGS PLY file held in memory; `path_for_errors` only
/// labels error messages.
pub fn parse_ply(bytes: &[u8], path_for_errors: &Path) -> Result<Splats, IoError> {
    parse_with_info(bytes, path_for_errors).map(|(s, _)| s)
}

/// Writes `splats` as binary little-endian INRIA PLY (atomically).
///
/// Layout: `x y z nx ny nz f_dc_0..2 f_rest_* opacity scale_0..2 rot_0..3`,
/// all `float`, normals zero. `read_ply(write_ply(s)) == s` for any `s` whose
/// quaternions are normalised (as `read_ply` returns them).
pub fn write_ply(path: &Path, splats: &Splats) -> Result<(), IoError> {
    write_ply_with_comments(path, splats, &[])
}

/// [`write_ply`] with extra `comment` lines in the header (each a single line of text; the
/// scene writer uses `antialiased=true`).
pub(crate) fn write_ply_with_comments(
    path: &Path,
    splats: &Splats,
    comments: &[&str],
) -> Result<(), IoError> {
    if splats.sh_degree > 3 {
        return Err(IoError::output(
            path,
            format!(
                "SH degree {} is not supported (at most 3)",
                splats.sh_degree
            ),
        ));
    }
    let n = splats.len();
    let k = splats.coeffs_per_splat();
    if splats.rotations.len() != n
        || splats.log_scales.len() != n
        || splats.opacity_logits.len() != n
        || splats.sh.len() != n * k * 3
    {
        return Err(IoError::output(
            path,
            format!(
                "inconsistent splat data: {n} means, {} rotations, {} log_scales, \
                 {} opacities, {} SH values (expected {})",
                splats.rotations.len(),
                splats.log_scales.len(),
                splats.opacity_logits.len(),
                splats.sh.len(),
                n * k * 3
            ),
        ));
    }

    let n_rest = 3 * (k - 1);
    let mut header = String::new();
    header.push_str("ply\nformat binary_little_endian 1.0\n");
    for c in comments {
        if c.contains(['\n', '\r']) {
            return Err(IoError::output(
                path,
                "a PLY header comment must be one line",
            ));
        }
        header.push_str(&format!("comment {c}\n"));
    }
    header.push_str(&format!("element vertex {n}\n"));
    let mut names: Vec<String> = ["x", "y", "z", "nx", "ny", "nz"].map(String::from).to_vec();
    names.extend((0..3).map(|c| format!("f_dc_{c}")));
    names.extend((0..n_rest).map(|j| format!("f_rest_{j}")));
    names.push("opacity".into());
    names.extend((0..3).map(|a| format!("scale_{a}")));
    names.extend((0..4).map(|a| format!("rot_{a}")));
    for name in &names {
        header.push_str(&format!("property float {name}\n"));
    }
    header.push_str("end_header\n");

    crate::atomic::write_atomic(path, |w| {
        w.write_all(header.as_bytes())?;
        let mut row: Vec<f32> = Vec::with_capacity(names.len());
        let mut row_bytes: Vec<u8> = Vec::with_capacity(names.len() * 4);
        for i in 0..n {
            let sh = &splats.sh[i * k * 3..(i + 1) * k * 3];
            row.clear();
            row.extend_from_slice(&splats.means[i]);
            row.extend_from_slice(&[0.0; 3]);
            row.extend_from_slice(&sh[..3]);
            // Back to the file's channel-major order.
            for c in 0..3 {
                row.extend((1..k).map(|kk| sh[kk * 3 + c]));
            }
            row.push(splats.opacity_logits[i]);
            row.extend_from_slice(&splats.log_scales[i]);
            row.extend_from_slice(&splats.rotations[i]);
            row_bytes.clear();
            row_bytes.extend(row.iter().flat_map(|v| v.to_le_bytes()));
            w.write_all(&row_bytes)?;
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// Header

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScalarType {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    F32,
    F64,
}

impl ScalarType {
    pub(crate) fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "char" | "int8" => ScalarType::I8,
            "uchar" | "uint8" => ScalarType::U8,
            "short" | "int16" => ScalarType::I16,
            "ushort" | "uint16" => ScalarType::U16,
            "int" | "int32" => ScalarType::I32,
            "uint" | "uint32" => ScalarType::U32,
            "float" | "float32" => ScalarType::F32,
            "double" | "float64" => ScalarType::F64,
            _ => return None,
        })
    }

    pub(crate) fn size(self) -> usize {
        match self {
            ScalarType::I8 | ScalarType::U8 => 1,
            ScalarType::I16 | ScalarType::U16 => 2,
            ScalarType::I32 | ScalarType::U32 | ScalarType::F32 => 4,
            ScalarType::F64 => 8,
        }
    }

    /// Inclusive integer range, `None` for floating-point types.
    fn int_range(self) -> Option<(i64, i64)> {
        Some(match self {
            ScalarType::I8 => (i8::MIN.into(), i8::MAX.into()),
            ScalarType::U8 => (0, u8::MAX.into()),
            ScalarType::I16 => (i16::MIN.into(), i16::MAX.into()),
            ScalarType::U16 => (0, u16::MAX.into()),
            ScalarType::I32 => (i32::MIN.into(), i32::MAX.into()),
            ScalarType::U32 => (0, u32::MAX.into()),
            ScalarType::F32 | ScalarType::F64 => return None,
        })
    }
}

/// The body encoding a PLY header declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `ascii`
    Ascii,
    /// `binary_little_endian`
    BinaryLe,
    /// `binary_big_endian`
    BinaryBe,
}

#[derive(Debug)]
pub(crate) struct Property {
    pub name: String,
    /// The value type; for a list, the type of its length.
    pub ty: ScalarType,
    /// Byte offset within a binary row (rows with a list have no fixed layout).
    pub offset: usize,
    /// A list property's item type (only [`mesh::read_mesh`] accepts lists).
    pub list: Option<ScalarType>,
}

#[derive(Debug)]
pub(crate) struct Element {
    pub name: String,
    pub count: u64,
    pub props: Vec<Property>,
    /// Bytes per row in binary formats.
    pub stride: usize,
}

impl Element {
    /// The property called `name`, if any.
    pub(crate) fn prop(&self, name: &str) -> Option<&Property> {
        self.props.iter().find(|p| p.name == name)
    }
}

#[derive(Debug)]
pub(crate) struct Header {
    pub format: Format,
    pub elements: Vec<Element>,
    /// Text of the `comment` lines, trimmed.
    pub comments: Vec<String>,
    /// Index of the first byte after the `end_header` line.
    pub body_offset: usize,
}

impl Header {
    /// The element called `name`, if any.
    pub(crate) fn element(&self, name: &str) -> Option<&Element> {
        self.elements.iter().find(|e| e.name == name)
    }

    /// Byte offset (from the body start) of element `index` in a binary body, and the body
    /// size all elements need, in u128 because counts come straight from the file.
    pub(crate) fn binary_layout(&self, index: usize) -> (u128, u128) {
        let bytes_of = |e: &Element| u128::from(e.count) * e.stride as u128;
        let before = self.elements[..index].iter().map(bytes_of).sum();
        let total = self.elements.iter().map(bytes_of).sum();
        (before, total)
    }

    /// What the header's comments say about antialiased (Mip-style) training: `Some(true)`
    /// for a comment `antialiased`, `antialiased=true|1|yes` or `antialiasing=…` (any case,
    /// `:` also accepted), `Some(false)` for `=false|0|no`, `None` when no comment says.
    pub(crate) fn antialiased(&self) -> Option<bool> {
        let mut result = None;
        for c in &self.comments {
            let c = c.to_ascii_lowercase();
            let c = c.trim();
            let rest = c
                .strip_prefix("antialiased")
                .or_else(|| c.strip_prefix("antialiasing"));
            let Some(rest) = rest else { continue };
            let value = rest.trim_start_matches([' ', '=', ':']).trim();
            match value {
                "" | "true" | "1" | "yes" | "on" => result = Some(true),
                "false" | "0" | "no" | "off" => result = Some(false),
                _ => {}
            }
        }
        result
    }
}

pub(crate) fn parse_header(bytes: &[u8]) -> Result<Header, String> {
    parse_header_with(bytes, false)
}

/// [`parse_header`], with `list` properties accepted when `lists` (the splat readers'
/// fixed-stride layout cannot hold them; the mesh reader walks rows one by one).
pub(crate) fn parse_header_with(bytes: &[u8], lists: bool) -> Result<Header, String> {
    if !bytes.starts_with(b"ply") {
        return Err("not a PLY file (it does not start with 'ply')".into());
    }
    let mut format = None;
    let mut elements: Vec<Element> = Vec::new();
    let mut comments = Vec::new();
    let mut pos = 0usize;
    let mut line_no = 0usize;
    loop {
        let rest = &bytes[pos..];
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            return Err("PLY header is not terminated by an 'end_header' line".into());
        };
        pos += nl + 1;
        line_no += 1;
        let line = std::str::from_utf8(&rest[..nl])
            .map_err(|_| format!("PLY header line {line_no} is not valid UTF-8"))?;
        let tokens: Vec<&str> = line.split_ascii_whitespace().collect();
        let Some(&keyword) = tokens.first() else {
            continue; // tolerate blank lines
        };
        let bad = |what: &str| format!("PLY header line {line_no} ('{}'): {what}", line.trim());
        match keyword {
            "ply" if line_no == 1 && tokens.len() == 1 => {}
            _ if line_no == 1 => return Err("not a PLY file (first line is not 'ply')".into()),
            "comment" => comments.push(line.trim()["comment".len()..].trim().to_string()),
            "obj_info" => {}
            "format" => {
                if tokens.len() != 3 {
                    return Err(bad("expected 'format <type> 1.0'"));
                }
                format = Some(match tokens[1] {
                    "ascii" => Format::Ascii,
                    "binary_little_endian" => Format::BinaryLe,
                    "binary_big_endian" => Format::BinaryBe,
                    other => return Err(bad(&format!("unknown format '{other}'"))),
                });
                if tokens[2] != "1.0" && tokens[2] != "1" {
                    return Err(bad(&format!("unsupported PLY version '{}'", tokens[2])));
                }
            }
            "element" => {
                if tokens.len() != 3 {
                    return Err(bad("expected 'element <name> <count>'"));
                }
                let count: u64 = tokens[2]
                    .parse()
                    .map_err(|_| bad(&format!("element count '{}' is not a number", tokens[2])))?;
                if elements.iter().any(|e| e.name == tokens[1]) {
                    return Err(bad(&format!("element '{}' is declared twice", tokens[1])));
                }
                elements.push(Element {
                    name: tokens[1].to_string(),
                    count,
                    props: Vec::new(),
                    stride: 0,
                });
            }
            "property" => {
                let Some(element) = elements.last_mut() else {
                    return Err(bad("property declared before any element"));
                };
                if lists && tokens.get(1) == Some(&"list") {
                    if tokens.len() != 5 {
                        return Err(bad(
                            "expected 'property list <count type> <item type> <name>'",
                        ));
                    }
                    let ty = ScalarType::parse(tokens[2])
                        .filter(|t| t.int_range().is_some())
                        .ok_or_else(|| {
                            bad(&format!(
                                "list count type '{}' is not an integer type",
                                tokens[2]
                            ))
                        })?;
                    let item = ScalarType::parse(tokens[3])
                        .ok_or_else(|| bad(&format!("unknown property type '{}'", tokens[3])))?;
                    let name = tokens[4];
                    if element.props.iter().any(|p| p.name == name) {
                        return Err(bad(&format!(
                            "property '{name}' of element '{}' is declared twice",
                            element.name
                        )));
                    }
                    element.props.push(Property {
                        name: name.to_string(),
                        ty,
                        offset: element.stride,
                        list: Some(item),
                    });
                    continue;
                }
                if tokens.get(1) == Some(&"list") {
                    return Err(bad(&format!(
                        "element '{}' has a list property; list properties are unsupported",
                        element.name
                    )));
                }
                if tokens.len() != 3 {
                    return Err(bad("expected 'property <type> <name>'"));
                }
                let ty = ScalarType::parse(tokens[1])
                    .ok_or_else(|| bad(&format!("unknown property type '{}'", tokens[1])))?;
                let name = tokens[2];
                if element.props.iter().any(|p| p.name == name) {
                    return Err(bad(&format!(
                        "property '{name}' of element '{}' is declared twice",
                        element.name
                    )));
                }
                // Cannot overflow: each property costs at least one header
                // byte and adds at most 8 to the stride.
                element.props.push(Property {
                    name: name.to_string(),
                    ty,
                    offset: element.stride,
                    list: None,
                });
                element.stride += ty.size();
            }
            "end_header" => {
                let format = format.ok_or("PLY header has no 'format' line")?;
                return Ok(Header {
                    format,
                    elements,
                    comments,
                    body_offset: pos,
                });
            }
            other => return Err(bad(&format!("unknown keyword '{other}'"))),
        }
    }
}

// ---------------------------------------------------------------------------
// Field table

/// Where each decoded value comes from: an index into the vertex properties.
/// Order: x y z, rot_0..3, scale_0..2, opacity, then the SH sources in
/// coefficient-major output order.
struct FieldTable {
    props: Vec<usize>,
    sh_degree: u32,
}

const SLOT_SH: usize = 11;

fn build_field_table(vertex: &Element) -> Result<FieldTable, String> {
    let by_name: HashMap<&str, usize> = vertex
        .props
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    let find = |name: &str| {
        by_name
            .get(name)
            .copied()
            .ok_or_else(|| format!("vertex element has no '{name}' property (required)"))
    };

    let n_rest = vertex
        .props
        .iter()
        .filter(|p| {
            p.name
                .strip_prefix("f_rest_")
                .is_some_and(|s| s.parse::<usize>().is_ok())
        })
        .count();
    let sh_degree = match n_rest {
        0 => 0,
        9 => 1,
        24 => 2,
        45 => 3,
        n => {
            return Err(format!(
                "vertex element has {n} f_rest_* properties; expected 0, 9, 24 or 45 \
                 (SH degree 0, 1, 2 or 3)"
            ))
        }
    };
    let k = ((sh_degree + 1) * (sh_degree + 1)) as usize;

    let mut props = Vec::with_capacity(SLOT_SH + 3 * k);
    for name in [
        "x", "y", "z", "rot_0", "rot_1", "rot_2", "rot_3", "scale_0", "scale_1", "scale_2",
        "opacity",
    ] {
        props.push(find(name)?);
    }
    for kk in 0..k {
        for c in 0..3 {
            let name = if kk == 0 {
                format!("f_dc_{c}")
            } else {
                format!("f_rest_{}", c * (k - 1) + (kk - 1))
            };
            props.push(find(&name)?);
        }
    }
    Ok(FieldTable { props, sh_degree })
}

/// Appends one splat; `get(slot)` yields the value for a [`FieldTable`] slot.
#[inline(always)]
fn push_splat(out: &mut Splats, n_slots: usize, get: impl Fn(usize) -> f32) {
    out.means.push([get(0), get(1), get(2)]);
    out.rotations
        .push(normalised_quat([get(3), get(4), get(5), get(6)]));
    out.log_scales.push([get(7), get(8), get(9)]);
    out.opacity_logits.push(get(10));
    for slot in SLOT_SH..n_slots {
        out.sh.push(get(slot));
    }
}

// ---------------------------------------------------------------------------
// Body

/// What a PLY header says besides the splats.
#[derive(Clone, Debug)]
pub(crate) struct PlyInfo {
    pub format: Format,
    /// From a header comment (see [`Header::antialiased`]).
    pub antialiased: Option<bool>,
}

fn info_of(header: &Header) -> PlyInfo {
    PlyInfo {
        format: header.format,
        antialiased: header.antialiased(),
    }
}

/// Parses a whole INRIA PLY held in memory; `path` names it in errors.
pub(crate) fn parse_with_info(bytes: &[u8], path: &Path) -> Result<(Splats, PlyInfo), IoError> {
    let header = parse_header(bytes).map_err(|m| IoError::input(path, m))?;
    let info = info_of(&header);
    parse_body(bytes, &header, path).map(|s| (s, info))
}

/// Parses the body of an INRIA PLY whose header (already parsed from `bytes`) is `header`.
pub(crate) fn parse_body(bytes: &[u8], header: &Header, path: &Path) -> Result<Splats, IoError> {
    let input = |m: String| IoError::input(path, m);
    let (vertex_index, table) = vertex_table(header).map_err(input)?;
    let body = &bytes[header.body_offset..];
    match header.format {
        Format::Ascii => parse_ascii_body(header, vertex_index, &table, body, path),
        Format::BinaryLe | Format::BinaryBe => {
            let rows =
                binary_vertex_rows(header, vertex_index, body.len() as u128).map_err(input)?;
            let vertex = &header.elements[vertex_index];
            let rows = &body[rows.0..rows.0 + rows.1];
            let mut out = crate::formats::zeroed(vertex.count as usize, table.sh_degree)
                .map_err(|e| e.at(path))?;
            let dec = RowDecoder::new(header, vertex, &table);
            crate::formats::par_fill(&mut out, MIN_ROWS_PER_THREAD, |mut part| {
                let start = part.first * vertex.stride;
                let len = part.len() * vertex.stride;
                dec.decode(&rows[start..start + len], &mut part, 0);
                Ok(())
            })
            .map_err(input)?;
            Ok(out)
        }
    }
}

/// Largest header accepted when reading from a file (real headers are a few KiB).
const MAX_HEADER_BYTES: u64 = 1 << 20;
/// Rows per thread below which splitting the decode is not worth a thread.
const MIN_ROWS_PER_THREAD: usize = 32 * 1024;
/// Bytes each thread reads per block while streaming a binary body.
const STREAM_BLOCK_BYTES: usize = 4 << 20;

/// Reads the first `MAX_HEADER_BYTES` (or the whole file, if shorter) of `file`.
pub(crate) fn read_prefix(file: &mut std::fs::File, len: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let want = len.min(MAX_HEADER_BYTES) as usize;
    let mut prefix = Vec::with_capacity(want);
    Read::by_ref(file)
        .take(want as u64)
        .read_to_end(&mut prefix)?;
    Ok(prefix)
}

/// Reads an INRIA PLY from a file. Binary bodies are streamed straight into the output
/// arrays by several threads (each reads its own range of rows in 4 MiB blocks), so peak
/// memory is the decoded scene plus one block per thread; ASCII files are read whole.
pub(crate) fn read_with_info(path: &Path) -> Result<(Splats, PlyInfo), IoError> {
    let fail = |m: String| IoError::input(path, m);
    let cannot_read = |e: std::io::Error| IoError::input(path, format!("cannot read: {e}"));
    let (mut file, len) = crate::input::open(path)?;
    let prefix = read_prefix(&mut file, len).map_err(cannot_read)?;
    let header = header_of(&prefix, len, path)?;
    let info = info_of(&header);
    if header.format == Format::Ascii || len == prefix.len() as u64 {
        let bytes = crate::input::read_rest(path, file, len, prefix)?;
        return parse_body(&bytes, &header, path).map(|s| (s, info));
    }
    drop(prefix);
    let (vertex_index, table) = vertex_table(&header).map_err(fail)?;
    let body_len = u128::from(len) - header.body_offset as u128;
    let (rows_at, _) = binary_vertex_rows(&header, vertex_index, body_len).map_err(fail)?;
    let vertex = &header.elements[vertex_index];
    let stride = vertex.stride;
    let first_row_at = header.body_offset as u64 + rows_at as u64;
    let mut out =
        crate::formats::zeroed(vertex.count as usize, table.sh_degree).map_err(|e| e.at(path))?;
    let dec = RowDecoder::new(&header, vertex, &table);
    let file = &file;
    crate::formats::par_fill(&mut out, MIN_ROWS_PER_THREAD, |mut part| {
        // Positioned reads on the one open handle: threads share it without seeking, and the
        // path is never opened again (it could have been replaced meanwhile).
        use std::os::unix::fs::FileExt;
        let rows_per_block = (STREAM_BLOCK_BYTES / stride.max(1)).max(1);
        let mut buf = vec![0u8; rows_per_block.min(part.len()) * stride];
        let mut done = 0;
        while done < part.len() {
            let rows = rows_per_block.min(part.len() - done);
            let block = &mut buf[..rows * stride];
            let at = first_row_at + ((part.first + done) * stride) as u64;
            file.read_exact_at(block, at)
                .map_err(|e| format!("cannot read rows {}..: {e}", part.first + done))?;
            dec.decode(block, &mut part, done);
            done += rows;
        }
        Ok(())
    })
    .map_err(fail)?;
    Ok((out, info))
}

/// Finds the vertex element and builds its field table.
fn vertex_table(header: &Header) -> Result<(usize, FieldTable), String> {
    let vertex_index = vertex_index(header)?;
    let table = build_field_table(&header.elements[vertex_index])?;
    Ok((vertex_index, table))
}

/// Checks that a binary body of `have` bytes holds exactly what the header declares and
/// returns (offset, length) of the vertex rows within the body.
fn binary_vertex_rows(
    header: &Header,
    vertex_index: usize,
    have: u128,
) -> Result<(usize, usize), String> {
    let (before, total) = header.binary_layout(vertex_index);
    let vertex = &header.elements[vertex_index];
    if total > have {
        return Err(format!(
            "file is truncated: the header declares {} vertices, which needs {total} bytes of \
             element data after the header, but only {have} bytes are present",
            vertex.count
        ));
    }
    if total < have {
        return Err(format!(
            "header says {} vertices but file has more data: expected {total} bytes of element \
             data after the header, found {have} ({} extra)",
            vertex.count,
            have - total
        ));
    }
    crate::formats::check_count(vertex.count).map_err(|m| format!("the header {m}"))?;
    // Both fit in usize now: they are bounded by the body length.
    Ok((before as usize, vertex.count as usize * vertex.stride))
}

/// Decodes binary vertex rows into splats: the [`FieldTable`] resolved to (byte offset,
/// type), with a branch-free path for the overwhelmingly common all-little-endian-float file.
struct RowDecoder {
    stride: usize,
    head: [(usize, ScalarType); SLOT_SH],
    sh: Vec<(usize, ScalarType)>,
    big_endian: bool,
    all_le_f32: bool,
}

impl RowDecoder {
    fn new(header: &Header, vertex: &Element, table: &FieldTable) -> Self {
        let fields: Vec<(usize, ScalarType)> = table
            .props
            .iter()
            .map(|&p| (vertex.props[p].offset, vertex.props[p].ty))
            .collect();
        let big_endian = header.format == Format::BinaryBe;
        let mut head = [(0, ScalarType::F32); SLOT_SH];
        head.copy_from_slice(&fields[..SLOT_SH]);
        RowDecoder {
            stride: vertex.stride,
            head,
            sh: fields[SLOT_SH..].to_vec(),
            big_endian,
            all_le_f32: !big_endian && fields.iter().all(|&(_, ty)| ty == ScalarType::F32),
        }
    }

    /// Decodes `rows` (whole rows) into `out` starting at splat `at` of `out`.
    fn decode(&self, rows: &[u8], out: &mut crate::formats::SplatsMut<'_>, at: usize) {
        if self.all_le_f32 {
            self.decode_with(rows, out, at, |row, offset, _| {
                let mut a = [0u8; 4];
                a.copy_from_slice(&row[offset..offset + 4]);
                f32::from_le_bytes(a)
            })
        } else {
            let be = self.big_endian;
            self.decode_with(rows, out, at, |row, offset, ty| decode(row, offset, ty, be))
        }
    }

    #[inline(always)]
    fn decode_with<D>(
        &self,
        rows: &[u8],
        out: &mut crate::formats::SplatsMut<'_>,
        at: usize,
        get: D,
    ) where
        D: Fn(&[u8], usize, ScalarType) -> f32,
    {
        let h = &self.head;
        let v = |row: &[u8], slot: usize| get(row, h[slot].0, h[slot].1);
        let n = rows.len() / self.stride;
        let stride = out.sh_stride;
        let iter = rows
            .chunks_exact(self.stride)
            .zip(&mut out.means[at..at + n])
            .zip(&mut out.rotations[at..at + n])
            .zip(&mut out.log_scales[at..at + n])
            .zip(&mut out.opacity_logits[at..at + n])
            .zip(out.sh[at * stride..(at + n) * stride].chunks_exact_mut(stride));
        for (((((row, m), r), s), o), sh) in iter {
            *m = [v(row, 0), v(row, 1), v(row, 2)];
            *r = normalised_quat([v(row, 3), v(row, 4), v(row, 5), v(row, 6)]);
            *s = [v(row, 7), v(row, 8), v(row, 9)];
            *o = v(row, 10);
            for (dst, &(offset, ty)) in sh.iter_mut().zip(&self.sh) {
                *dst = get(row, offset, ty);
            }
        }
    }
}

/// Decodes one binary scalar; `offset + ty.size() <= row.len()` by construction.
#[inline(always)]
fn decode(row: &[u8], offset: usize, ty: ScalarType, big_endian: bool) -> f32 {
    macro_rules! num {
        ($t:ty, $n:literal) => {{
            let mut a = [0u8; $n];
            a.copy_from_slice(&row[offset..offset + $n]);
            if big_endian {
                <$t>::from_be_bytes(a)
            } else {
                <$t>::from_le_bytes(a)
            }
        }};
    }
    match ty {
        ScalarType::I8 => row[offset] as i8 as f32,
        ScalarType::U8 => row[offset] as f32,
        ScalarType::I16 => num!(i16, 2) as f32,
        ScalarType::U16 => num!(u16, 2) as f32,
        ScalarType::I32 => num!(i32, 4) as f32,
        ScalarType::U32 => num!(u32, 4) as f32,
        ScalarType::F32 => num!(f32, 4),
        ScalarType::F64 => num!(f64, 8) as f32,
    }
}

fn empty_splats(n: usize, sh_degree: u32) -> Result<Splats, AllocError> {
    let k = ((sh_degree + 1) * (sh_degree + 1)) as usize;
    let all = AllocError {
        bytes: crate::formats::splat_bytes(n, sh_degree),
    };
    let room = |_| all;
    Ok(Splats {
        means: memory::with_capacity(n).map_err(room)?,
        rotations: memory::with_capacity(n).map_err(room)?,
        log_scales: memory::with_capacity(n).map_err(room)?,
        opacity_logits: memory::with_capacity(n).map_err(room)?,
        sh_degree,
        sh: memory::with_capacity(n * k * 3).map_err(room)?,
    })
}

fn parse_ascii_body(
    header: &Header,
    vertex_index: usize,
    table: &FieldTable,
    body: &[u8],
    path: &Path,
) -> Result<Splats, IoError> {
    let input = |m: String| IoError::input(path, m);
    let vertex = &header.elements[vertex_index];
    let needed = ascii_values_needed(header);
    if needed > body.len() as u128 {
        return Err(input(format!(
            "file is truncated: the header declares {} vertices ({needed} values in all) but \
             only {} bytes follow the header",
            vertex.count,
            body.len()
        )));
    }
    crate::formats::check_count(vertex.count).map_err(|m| input(format!("the header {m}")))?;
    // Bounded by body.len() / 14 thanks to the check above.
    let mut out = empty_splats(vertex.count as usize, table.sh_degree).map_err(|e| e.at(path))?;
    let n_slots = table.props.len();
    fill_ascii(header, vertex_index, body, |values| {
        push_splat(&mut out, n_slots, |slot| values[table.props[slot]])
    })
    .map_err(input)?;
    Ok(out)
}

/// Values an ASCII body must hold: every value takes at least one byte, so this bounds all
/// loops and the allocation by the file size.
fn ascii_values_needed(header: &Header) -> u128 {
    header
        .elements
        .iter()
        .map(|e| u128::from(e.count) * e.props.len() as u128)
        .sum()
}

/// Reads every value of an ASCII body (already checked against the file size, as
/// [`parse_ascii_body`] does) and hands each vertex row, all its properties as `f32` in
/// declaration order, to `row`.
fn fill_ascii(
    header: &Header,
    vertex_index: usize,
    body: &[u8],
    mut row_done: impl FnMut(&[f32]),
) -> Result<(), String> {
    let needed = ascii_values_needed(header);
    let vertex = &header.elements[vertex_index];
    let mut tokens = body
        .split(|b| b.is_ascii_whitespace())
        .filter(|t| !t.is_empty());
    let mut seen: u128 = 0;
    let mut next_token = |element: &Element, row: u64, prop: &Property| {
        let t = tokens.next().ok_or_else(|| {
            format!(
                "file is truncated: the header declares {needed} values but the file ends after \
                 {seen} (element '{}' row {row})",
                element.name
            )
        })?;
        seen += 1;
        let s = std::str::from_utf8(t).unwrap_or("<non-UTF-8>");
        parse_ascii_value(s, prop.ty).ok_or_else(|| {
            format!(
                "element '{}' row {row}: property '{}' value '{s}' is not a valid {:?}",
                element.name, prop.name, prop.ty
            )
        })
    };

    let mut values = vec![0f32; vertex.props.len()];
    for (ei, element) in header.elements.iter().enumerate() {
        if element.props.is_empty() {
            continue; // no values, however large its count: nothing to loop over
        }
        for row in 0..element.count {
            for (pi, prop) in element.props.iter().enumerate() {
                let v = next_token(element, row, prop)?;
                if ei == vertex_index {
                    values[pi] = v;
                }
            }
            if ei == vertex_index {
                row_done(&values);
            }
        }
    }
    if tokens.next().is_some() {
        return Err(format!(
            "header says {} vertices but file has more data: more than the {needed} declared \
             values follow the header",
            vertex.count
        ));
    }
    Ok(())
}

fn parse_ascii_value(s: &str, ty: ScalarType) -> Option<f32> {
    match ty.int_range() {
        Some((lo, hi)) => {
            let v: i64 = s.parse().ok()?;
            (lo..=hi).contains(&v).then_some(v as f32)
        }
        None => s.parse::<f64>().ok().map(|v| v as f32),
    }
}

// ---------------------------------------------------------------------------
// Named columns: PLY files that extend the INRIA layout (scene-variant plugins read their own
// fields through these, with the header parser, size checks and scalar decoder above).

/// What the header of a PLY file says about its `vertex` element.
#[derive(Clone, Debug)]
pub struct PlyVertexInfo {
    /// The body encoding.
    pub format: Format,
    /// Rows the header declares (not yet checked against the file size).
    pub count: u64,
    /// Vertex property names, in declaration order.
    pub properties: Vec<String>,
    /// Text of the header's `comment` lines.
    pub comments: Vec<String>,
}

impl PlyVertexInfo {
    /// Whether the vertex element has every property in `names`.
    pub fn has_all(&self, names: &[&str]) -> bool {
        names.iter().all(|n| self.properties.iter().any(|p| p == n))
    }
}

/// Reads the header of a PLY file (at most its first MiB), not its body: enough to tell what
/// kind of scene a file holds before reading it.
pub fn read_vertex_info(path: &Path) -> Result<PlyVertexInfo, IoError> {
    let (mut file, len) = crate::input::open(path)?;
    let prefix = read_prefix(&mut file, len)
        .map_err(|e| IoError::input(path, format!("cannot read: {e}")))?;
    let header = header_of(&prefix, len, path)?;
    let vertex = &header.elements[vertex_index(&header).map_err(|m| IoError::input(path, m))?];
    Ok(PlyVertexInfo {
        format: header.format,
        count: vertex.count,
        properties: vertex.props.iter().map(|p| p.name.clone()).collect(),
        comments: header.comments.clone(),
    })
}

/// Vertex properties of a PLY file as `f32` columns, by name (see [`read_columns`]).
#[derive(Clone, Debug)]
pub struct PlyColumns {
    count: usize,
    names: Vec<String>,
    columns: Vec<Vec<f32>>,
    /// Text of the header's `comment` lines.
    pub comments: Vec<String>,
}

impl PlyColumns {
    /// Rows (vertices).
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the file has no vertices.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The column called `name`, if it was asked for.
    pub fn get(&self, name: &str) -> Option<&[f32]> {
        let i = self.names.iter().position(|n| n == name)?;
        Some(&self.columns[i])
    }

    /// The `index`-th column asked for ([`read_columns`]' `names` order).
    pub fn column(&self, index: usize) -> &[f32] {
        &self.columns[index]
    }

    /// The names asked for, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// Reads the `vertex` properties called `names` of a PLY file (any scalar type, ASCII or
/// binary of either byte order) as `f32` columns; other properties and elements are skipped.
/// Missing properties are one error naming the file and every missing name. The body is
/// checked against the header like [`read_ply`] does (exact size, count limit) before
/// anything is allocated, and binary bodies are streamed in blocks. Values are returned as
/// stored: no check for NaN or infinity (the caller knows which values must be finite).
pub fn read_columns(path: &Path, names: &[&str]) -> Result<PlyColumns, IoError> {
    let fail = |m: String| IoError::input(path, m);
    let (mut file, len) = crate::input::open(path)?;
    let prefix = read_prefix(&mut file, len).map_err(|e| fail(format!("cannot read: {e}")))?;
    let header = header_of(&prefix, len, path)?;
    let vi = vertex_index(&header).map_err(fail)?;
    let vertex = &header.elements[vi];
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| vertex.prop(n).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(fail(format!(
            "vertex element has no {} {} (needed: {})",
            if missing.len() == 1 {
                "property"
            } else {
                "properties"
            },
            missing
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", "),
            names.join(", ")
        )));
    }
    let props: Vec<usize> = names
        .iter()
        .map(|n| vertex.props.iter().position(|p| p.name == *n).unwrap_or(0))
        .collect();
    let alloc = |count: usize| -> Result<Vec<Vec<f32>>, IoError> {
        names
            .iter()
            .map(|_| crate::memory::with_capacity(count).map_err(|e| e.at(path)))
            .collect()
    };
    let mut columns;
    if header.format == Format::Ascii {
        let bytes = crate::input::read_rest(path, file, len, prefix)?;
        let body = &bytes[header.body_offset..];
        let needed = ascii_values_needed(&header);
        if needed > body.len() as u128 {
            return Err(fail(format!(
                "file is truncated: the header declares {} vertices ({needed} values in all) but \
                 only {} bytes follow the header",
                vertex.count,
                body.len()
            )));
        }
        let count = crate::formats::check_count(vertex.count)
            .map_err(|m| fail(format!("the header {m}")))?;
        columns = alloc(count)?;
        fill_ascii(&header, vi, body, |values| {
            for (c, &p) in columns.iter_mut().zip(&props) {
                c.push(values[p]);
            }
        })
        .map_err(fail)?;
    } else {
        drop(prefix);
        let body_len = u128::from(len) - header.body_offset as u128;
        let (rows_at, _) = binary_vertex_rows(&header, vi, body_len).map_err(fail)?;
        let count = vertex.count as usize;
        columns = alloc(count)?;
        let fields: Vec<(usize, ScalarType)> = props
            .iter()
            .map(|&p| (vertex.props[p].offset, vertex.props[p].ty))
            .collect();
        let be = header.format == Format::BinaryBe;
        let stride = vertex.stride;
        let rows_per_block = (STREAM_BLOCK_BYTES / stride.max(1)).max(1);
        let mut buf = vec![0u8; rows_per_block.min(count) * stride];
        let first_row_at = header.body_offset as u64 + rows_at as u64;
        let mut done = 0;
        while done < count {
            use std::os::unix::fs::FileExt;
            let rows = rows_per_block.min(count - done);
            let block = &mut buf[..rows * stride];
            file.read_exact_at(block, first_row_at + (done * stride) as u64)
                .map_err(|e| fail(format!("cannot read rows {done}..: {e}")))?;
            // Column by column: each output grows sequentially; little-endian floats (what
            // trainers write) skip the type dispatch.
            for (c, &(offset, ty)) in columns.iter_mut().zip(&fields) {
                let rows = block.chunks_exact(stride);
                if ty == ScalarType::F32 && !be {
                    c.extend(rows.map(|row| {
                        let mut a = [0u8; 4];
                        a.copy_from_slice(&row[offset..offset + 4]);
                        f32::from_le_bytes(a)
                    }));
                } else {
                    c.extend(rows.map(|row| decode(row, offset, ty, be)));
                }
            }
            done += rows;
        }
    }
    Ok(PlyColumns {
        count: columns.first().map_or(vertex.count as usize, Vec::len),
        names: names.iter().map(|n| n.to_string()).collect(),
        columns,
        comments: header.comments.clone(),
    })
}

/// Writes named `f32` columns as a binary little-endian PLY `vertex` element (atomically),
/// with `comments` as header comment lines: the counterpart of [`read_columns`], for tools
/// and tests that make variant scenes.
pub fn write_columns(
    path: &Path,
    columns: &[(&str, &[f32])],
    comments: &[&str],
) -> Result<(), IoError> {
    let bad = |m: String| IoError::output(path, m);
    let n = columns.first().map_or(0, |(_, c)| c.len());
    let mut header = String::from("ply\nformat binary_little_endian 1.0\n");
    for c in comments {
        if c.contains(['\n', '\r']) {
            return Err(bad("a PLY header comment must be one line".into()));
        }
        header.push_str(&format!("comment {c}\n"));
    }
    header.push_str(&format!("element vertex {n}\n"));
    for (i, (name, values)) in columns.iter().enumerate() {
        if name.is_empty() || name.contains(|c: char| c.is_whitespace()) {
            return Err(bad(format!("'{name}' is not a PLY property name")));
        }
        if columns[..i].iter().any(|(other, _)| other == name) {
            return Err(bad(format!("property '{name}' given twice")));
        }
        if values.len() != n {
            return Err(bad(format!(
                "column '{name}' has {} values, the first column {n}",
                values.len()
            )));
        }
        header.push_str(&format!("property float {name}\n"));
    }
    header.push_str("end_header\n");
    crate::atomic::write_atomic(path, |w| {
        w.write_all(header.as_bytes())?;
        let mut row = Vec::with_capacity(columns.len() * 4);
        for i in 0..n {
            row.clear();
            row.extend(columns.iter().flat_map(|(_, c)| c[i].to_le_bytes()));
            w.write_all(&row)?;
        }
        Ok(())
    })
}

/// Parses the header in `prefix` (the first bytes of a file of `len` bytes).
fn header_of(prefix: &[u8], len: u64, path: &Path) -> Result<Header, IoError> {
    parse_header(prefix).map_err(|m| {
        if len > prefix.len() as u64 && m.contains("not terminated") {
            IoError::input(path, format!("{m} within its first {} bytes", prefix.len()))
        } else {
            IoError::input(path, m)
        }
    })
}

fn vertex_index(header: &Header) -> Result<usize, String> {
    header
        .elements
        .iter()
        .position(|e| e.name == "vertex")
        .ok_or_else(|| "PLY header declares no 'vertex' element".into())
}

mod mesh;
pub use mesh::{read_mesh, PlyMesh};

#[cfg(test)]
mod tests;
