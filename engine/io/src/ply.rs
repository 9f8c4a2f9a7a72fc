//! INRIA 3D Gaussian Splatting PLY files.
//!
//! Reading follows the PLY spec loosely enough to accept every trainer's
//! output and strictly enough that malformed files are rejected with a clear
//! message instead of a panic or a huge allocation:
//!
//! * the header must be UTF-8, start with `ply` and end with `end_header`;
//! * formats `ascii`, `binary_little_endian` and `binary_big_endian` 1.0;
//! * any number of elements with scalar properties; only `vertex` is decoded,
//!   the others are skipped; `list` properties are rejected as unsupported;
//! * vertex fields are found by name, in any order, extra ones are ignored,
//!   and every scalar type is converted to `f32`;
//! * the body must hold exactly the data the header declares: the size check
//!   runs *before* anything is allocated, so a lying count cannot exhaust
//!   memory.
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

use crate::splats::quat_norm_sq;
use crate::{IoError, Splats};

/// Reads an INRIA 3DGS PLY file.
pub fn read_ply(path: &Path) -> Result<Splats, IoError> {
    let bytes =
        std::fs::read(path).map_err(|e| IoError::input(path, format!("cannot read: {e}")))?;
    parse_ply(&bytes, path)
}

/// Parses an INRIA 3DGS PLY file held in memory; `path_for_errors` only
/// labels error messages.
pub fn parse_ply(bytes: &[u8], path_for_errors: &Path) -> Result<Splats, IoError> {
    parse(bytes).map_err(|m| IoError::input(path_for_errors, m))
}

/// Writes `splats` as binary little-endian INRIA PLY (atomically).
///
/// Layout: `x y z nx ny nz f_dc_0..2 f_rest_* opacity scale_0..2 rot_0..3`,
/// all `float`, normals zero. `read_ply(write_ply(s)) == s` for any `s` whose
/// quaternions are normalised (as `read_ply` returns them).
pub fn write_ply(path: &Path, splats: &Splats) -> Result<(), IoError> {
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
enum ScalarType {
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
    fn parse(name: &str) -> Option<Self> {
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

    fn size(self) -> usize {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Ascii,
    BinaryLe,
    BinaryBe,
}

#[derive(Debug)]
struct Property {
    name: String,
    ty: ScalarType,
    /// Byte offset within a binary row.
    offset: usize,
}

#[derive(Debug)]
struct Element {
    name: String,
    count: u64,
    props: Vec<Property>,
    /// Bytes per row in binary formats.
    stride: usize,
}

#[derive(Debug)]
struct Header {
    format: Format,
    elements: Vec<Element>,
    /// Index of the first byte after the `end_header` line.
    body_offset: usize,
}

fn parse_header(bytes: &[u8]) -> Result<Header, String> {
    if !bytes.starts_with(b"ply") {
        return Err("not a PLY file (it does not start with 'ply')".into());
    }
    let mut format = None;
    let mut elements: Vec<Element> = Vec::new();
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
            "comment" | "obj_info" => {}
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
                });
                element.stride += ty.size();
            }
            "end_header" => {
                let format = format.ok_or("PLY header has no 'format' line")?;
                return Ok(Header {
                    format,
                    elements,
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
        .push(normalise([get(3), get(4), get(5), get(6)]));
    out.log_scales.push([get(7), get(8), get(9)]);
    out.opacity_logits.push(get(10));
    for slot in SLOT_SH..n_slots {
        out.sh.push(get(slot));
    }
}

/// Unit-length quaternion; zero-length or non-finite input is returned as is
/// (so `validate` can flag it rather than seeing NaN from 0/0). Quaternions
/// already unit within f32 rounding are returned bit-for-bit unchanged, which
/// keeps read → write → read lossless.
fn normalise(q: [f32; 4]) -> [f32; 4] {
    let n2 = quat_norm_sq(&q);
    if n2 == 0.0 || !n2.is_finite() || (n2 - 1.0).abs() < 1e-6 {
        return q;
    }
    let inv = 1.0 / n2.sqrt();
    q.map(|v| (f64::from(v) * inv) as f32)
}

// ---------------------------------------------------------------------------
// Body

fn parse(bytes: &[u8]) -> Result<Splats, String> {
    let header = parse_header(bytes)?;
    let vertex_index = header
        .elements
        .iter()
        .position(|e| e.name == "vertex")
        .ok_or("PLY header declares no 'vertex' element")?;
    let vertex = &header.elements[vertex_index];
    let table = build_field_table(vertex)?;
    let body = &bytes[header.body_offset..];
    match header.format {
        Format::Ascii => parse_ascii_body(&header, vertex_index, &table, body),
        Format::BinaryLe => parse_binary_body(&header, vertex_index, &table, body, false),
        Format::BinaryBe => parse_binary_body(&header, vertex_index, &table, body, true),
    }
}

fn empty_splats(n: usize, sh_degree: u32) -> Splats {
    let k = ((sh_degree + 1) * (sh_degree + 1)) as usize;
    Splats {
        means: Vec::with_capacity(n),
        rotations: Vec::with_capacity(n),
        log_scales: Vec::with_capacity(n),
        opacity_logits: Vec::with_capacity(n),
        sh_degree,
        sh: Vec::with_capacity(n * k * 3),
    }
}

fn parse_binary_body(
    header: &Header,
    vertex_index: usize,
    table: &FieldTable,
    body: &[u8],
    big_endian: bool,
) -> Result<Splats, String> {
    // Size check in u128 first: counts come straight from the file.
    let bytes_of = |e: &Element| u128::from(e.count) * e.stride as u128;
    let before: u128 = header.elements[..vertex_index].iter().map(bytes_of).sum();
    let total: u128 = header.elements.iter().map(bytes_of).sum();
    let vertex = &header.elements[vertex_index];
    let have = body.len() as u128;
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
    // Both fit in usize now: they are bounded by body.len().
    let start = before as usize;
    let stride = vertex.stride;
    let rows = &body[start..start + vertex.count as usize * stride];

    let fields: Vec<(usize, ScalarType)> = table
        .props
        .iter()
        .map(|&p| (vertex.props[p].offset, vertex.props[p].ty))
        .collect();
    // The overwhelmingly common file is all little-endian floats; give it a
    // branch-free decoder. Everything else goes through the general one.
    let all_le_f32 = !big_endian && fields.iter().all(|&(_, ty)| ty == ScalarType::F32);
    let out = if all_le_f32 {
        decode_rows(rows, stride, &fields, table.sh_degree, |row, offset, _| {
            let mut a = [0u8; 4];
            a.copy_from_slice(&row[offset..offset + 4]);
            f32::from_le_bytes(a)
        })
    } else {
        decode_rows(rows, stride, &fields, table.sh_degree, |row, offset, ty| {
            decode(row, offset, ty, big_endian)
        })
    };
    Ok(out)
}

/// Decodes every row of the vertex element. `fields` is the [`FieldTable`]
/// resolved to (byte offset, type); outputs are sized up front (the caller
/// has checked the row count against the file size) and filled in place.
#[inline(always)]
fn decode_rows<D>(
    rows: &[u8],
    stride: usize,
    fields: &[(usize, ScalarType)],
    sh_degree: u32,
    get: D,
) -> Splats
where
    D: Fn(&[u8], usize, ScalarType) -> f32,
{
    let n = rows.len() / stride;
    let sh_len = fields.len() - SLOT_SH;
    let mut out = Splats {
        means: vec![[0.0; 3]; n],
        rotations: vec![[0.0; 4]; n],
        log_scales: vec![[0.0; 3]; n],
        opacity_logits: vec![0.0; n],
        sh_degree,
        sh: vec![0.0; n * sh_len],
    };
    let (head, sh_fields) = fields.split_at(SLOT_SH);
    let h: [(usize, ScalarType); SLOT_SH] = match head.try_into() {
        Ok(h) => h,
        Err(_) => return out, // unreachable: the table always has SLOT_SH leading slots
    };
    let v = |row: &[u8], slot: usize| get(row, h[slot].0, h[slot].1);
    let iter = rows
        .chunks_exact(stride)
        .zip(out.means.iter_mut())
        .zip(out.rotations.iter_mut())
        .zip(out.log_scales.iter_mut())
        .zip(out.opacity_logits.iter_mut())
        .zip(out.sh.chunks_exact_mut(sh_len.max(1)));
    for (((((row, m), r), s), o), sh) in iter {
        *m = [v(row, 0), v(row, 1), v(row, 2)];
        *r = normalise([v(row, 3), v(row, 4), v(row, 5), v(row, 6)]);
        *s = [v(row, 7), v(row, 8), v(row, 9)];
        *o = v(row, 10);
        for (dst, &(offset, ty)) in sh.iter_mut().zip(sh_fields) {
            *dst = get(row, offset, ty);
        }
    }
    out
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

fn parse_ascii_body(
    header: &Header,
    vertex_index: usize,
    table: &FieldTable,
    body: &[u8],
) -> Result<Splats, String> {
    // Every value takes at least one byte, so this bounds all loops and the
    // allocation below by the file size.
    let needed: u128 = header
        .elements
        .iter()
        .map(|e| u128::from(e.count) * e.props.len() as u128)
        .sum();
    let vertex = &header.elements[vertex_index];
    if needed > body.len() as u128 {
        return Err(format!(
            "file is truncated: the header declares {} vertices ({needed} values in all) but \
             only {} bytes follow the header",
            vertex.count,
            body.len()
        ));
    }

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

    // Bounded by body.len() / 14 thanks to the check above.
    let mut out = empty_splats(vertex.count as usize, table.sh_degree);
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
                push_splat(&mut out, table.props.len(), |slot| {
                    values[table.props[slot]]
                });
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
    Ok(out)
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

#[cfg(test)]
mod tests;
