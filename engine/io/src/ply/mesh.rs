//! Triangle meshes from PLY files: the `vertex` element's `x y z` and the `face` element's
//! index list (`vertex_indices`, or `vertex_index`), in any of the three PLY encodings.
//!
//! Polygons are fanned into triangles from their first vertex: (v0, v1, v2, …, vn−1) becomes
//! (v0, vk, vk+1) for k = 1 … n−2 (exact for convex polygons; the rule OBJ faces follow in
//! the mesh-bound plugin). Other properties and elements (scalar or list) are skipped.
//!
//! Bounded: the whole file is read once (its size is the bound); every row, list length and
//! index is checked against the bytes or tokens that are left before anything is stored, so
//! a lying count fails with a message instead of a large allocation or a read out of bounds.

use std::path::Path;

use super::{parse_header_with, read_prefix, Format, ScalarType};
use crate::IoError;

/// A triangle mesh read from a PLY file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlyMesh {
    /// x, y, z per vertex, as stored.
    pub vertices: Vec<f32>,
    /// Three vertex indices per triangle, each below the vertex count.
    pub triangles: Vec<u32>,
    /// Faces in the file (before fanning polygons into triangles).
    pub faces: usize,
}

/// Reads a PLY mesh (see the module documentation). Errors name the file and, for bad rows,
/// the element and row.
pub fn read_mesh(path: &Path) -> Result<PlyMesh, IoError> {
    let fail = |m: String| IoError::input(path, m);
    let (mut file, len) = crate::input::open(path)?;
    let prefix = read_prefix(&mut file, len).map_err(|e| fail(format!("cannot read: {e}")))?;
    let header = parse_header_with(&prefix, true).map_err(fail)?;
    let bytes = crate::input::read_rest(path, file, len, prefix)?;
    let body = &bytes[header.body_offset..];
    let vertex = header
        .element("vertex")
        .ok_or_else(|| fail("no 'vertex' element".into()))?;
    let face = header
        .element("face")
        .ok_or_else(|| fail("no 'face' element: a point cloud, not a mesh".into()))?;
    for axis in ["x", "y", "z"] {
        match vertex.prop(axis) {
            Some(p) if p.list.is_none() => {}
            Some(_) => return Err(fail(format!("vertex property '{axis}' is a list"))),
            None => return Err(fail(format!("vertex element has no '{axis}' property"))),
        }
    }
    let index_prop = ["vertex_indices", "vertex_index"]
        .into_iter()
        .find_map(|n| face.prop(n))
        .ok_or_else(|| {
            fail("face element has no 'vertex_indices' (or 'vertex_index') list".into())
        })?;
    let Some(item) = index_prop.list else {
        return Err(fail(format!(
            "face property '{}' is not a list",
            index_prop.name
        )));
    };
    if item.int_range().is_none() {
        return Err(fail(format!(
            "face property '{}' holds floating-point values, not vertex indices",
            index_prop.name
        )));
    }
    let index_name = index_prop.name.clone();
    let mut reader = match header.format {
        Format::Ascii => Reader::Ascii(
            std::str::from_utf8(body)
                .map_err(|_| fail("the ASCII body is not valid UTF-8".into()))?
                .split_ascii_whitespace(),
        ),
        f => Reader::Binary {
            body,
            at: 0,
            big_endian: f == Format::BinaryBe,
        },
    };
    let mut mesh = PlyMesh::default();
    for element in &header.elements {
        let is_vertex = element.name == "vertex";
        let is_face = element.name == "face";
        // Every row takes at least its scalars and list lengths (bytes, or one token each in
        // ASCII): a count beyond what is left is a lie, found before anything is reserved.
        let min_row: u64 = element
            .props
            .iter()
            .map(|p| match header.format {
                Format::Ascii => 1,
                _ => p.ty.size() as u64,
            })
            .sum::<u64>()
            .max(1);
        if u128::from(element.count) * u128::from(min_row) > reader.left() as u128 {
            return Err(fail(format!(
                "the header declares {} '{}' rows but only {} bytes follow",
                element.count,
                element.name,
                reader.left()
            )));
        }
        let count = element.count as usize;
        if is_vertex {
            crate::memory::reserve(&mut mesh.vertices, 3 * count).map_err(|e| e.at(path))?;
        }
        let mut polygon: Vec<i64> = Vec::new();
        for row in 0..count {
            let at = |m: String| fail(format!("{} {row}: {m}", element.name));
            let mut xyz = [0f32; 3];
            for p in &element.props {
                match p.list {
                    None => {
                        let v = reader.scalar(p.ty).map_err(at)?;
                        if is_vertex {
                            if let Some(k) = ["x", "y", "z"].iter().position(|a| *a == p.name) {
                                xyz[k] = v as f32;
                            }
                        }
                    }
                    Some(item) => {
                        let n = reader.scalar(p.ty).map_err(at)?;
                        if n < 0.0 || n as u64 > reader.left() as u64 {
                            return Err(at(format!(
                                "list '{}' of {n} items is longer than the file",
                                p.name
                            )));
                        }
                        let take = is_face && p.name == index_name;
                        polygon.clear();
                        for _ in 0..n as usize {
                            let v = reader.scalar(item).map_err(at)?;
                            if take {
                                polygon.push(v as i64);
                            }
                        }
                        if take {
                            fan(&polygon, &mut mesh)
                                .map_err(|m| at(format!("{} ({m})", p.name)))?;
                        }
                    }
                }
            }
            if is_vertex {
                if xyz.iter().any(|v| !v.is_finite()) {
                    return Err(at("a coordinate is not finite".into()));
                }
                mesh.vertices.extend(xyz);
            }
        }
    }
    if reader.left() > 0 && header.format != Format::Ascii {
        return Err(fail(format!(
            "{} bytes after the last element (the header does not describe the body)",
            reader.left()
        )));
    }
    let nv = mesh.vertices.len() / 3;
    if let Some(&bad) = mesh.triangles.iter().find(|&&i| i as usize >= nv) {
        return Err(fail(format!(
            "a face refers to vertex {bad}, the file has {nv} vertices"
        )));
    }
    if mesh.triangles.is_empty() {
        return Err(fail("no faces".into()));
    }
    Ok(mesh)
}

/// Appends a polygon's fan triangles (checking its indices are non-negative u32).
fn fan(polygon: &[i64], mesh: &mut PlyMesh) -> Result<(), String> {
    if polygon.len() < 3 {
        return Err(format!(
            "{} vertices, a face needs 3 or more",
            polygon.len()
        ));
    }
    if let Some(&bad) = polygon.iter().find(|&&i| i < 0 || i > u32::MAX as i64) {
        return Err(format!("vertex index {bad} is not a vertex"));
    }
    for k in 1..polygon.len() - 1 {
        mesh.triangles
            .extend([polygon[0], polygon[k], polygon[k + 1]].map(|i| i as u32));
    }
    mesh.faces += 1;
    Ok(())
}

enum Reader<'a> {
    Ascii(std::str::SplitAsciiWhitespace<'a>),
    Binary {
        body: &'a [u8],
        at: usize,
        big_endian: bool,
    },
}

impl Reader<'_> {
    /// Bytes (binary) or an upper bound on the tokens (ASCII) left.
    fn left(&self) -> usize {
        match self {
            Reader::Ascii(it) => it.clone().size_hint().1.unwrap_or(usize::MAX),
            Reader::Binary { body, at, .. } => body.len() - at,
        }
    }

    /// The next value of type `ty`, as f64 (exact for every PLY integer type).
    fn scalar(&mut self, ty: ScalarType) -> Result<f64, String> {
        match self {
            Reader::Ascii(it) => {
                let t = it.next().ok_or("the file ends early")?;
                // f32 values parse as f32 (the nearest f32, not a double rounded twice).
                let v: f64 = if ty == ScalarType::F32 {
                    t.parse::<f32>().map(f64::from)
                } else {
                    t.parse()
                }
                .map_err(|_| format!("'{t}' is not a number"))?;
                if let Some((lo, hi)) = ty.int_range() {
                    if v.fract() != 0.0 || v < lo as f64 || v > hi as f64 {
                        return Err(format!("'{t}' is not a {ty:?} value"));
                    }
                }
                Ok(v)
            }
            Reader::Binary {
                body,
                at,
                big_endian,
            } => {
                let n = ty.size();
                let b = body
                    .get(*at..*at + n)
                    .ok_or("the file ends early (truncated body)")?;
                *at += n;
                macro_rules! num {
                    ($t:ty, $n:literal) => {{
                        let mut a = [0u8; $n];
                        a.copy_from_slice(b);
                        (if *big_endian {
                            <$t>::from_be_bytes(a)
                        } else {
                            <$t>::from_le_bytes(a)
                        }) as f64
                    }};
                }
                Ok(match ty {
                    ScalarType::I8 => num!(i8, 1),
                    ScalarType::U8 => num!(u8, 1),
                    ScalarType::I16 => num!(i16, 2),
                    ScalarType::U16 => num!(u16, 2),
                    ScalarType::I32 => num!(i32, 4),
                    ScalarType::U32 => num!(u32, 4),
                    ScalarType::F32 => num!(f32, 4),
                    ScalarType::F64 => num!(f64, 8),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("vksplat-ply-mesh-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A square of 5 vertices: a quad (0 1 2 3) and a triangle (1 4 2).
    const SQUARE: [[f32; 3]; 5] = [
        [0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [1.0, 1.0, 0.25],
        [0.0, 1.0, 0.0],
        [2.0, 0.5, -1.5],
    ];

    fn binary(big_endian: bool, index_name: &str) -> Vec<u8> {
        let fmt = if big_endian { "big" } else { "little" };
        let mut b = format!(
            "ply\nformat binary_{fmt}_endian 1.0\ncomment test\nelement vertex 5\n\
             property float x\nproperty float y\nproperty float z\nproperty uchar red\n\
             element face 2\nproperty uchar flags\nproperty list uchar int {index_name}\n\
             property list uchar float texcoord\nelement edge 1\nproperty int vertex1\n\
             property int vertex2\nend_header\n"
        )
        .into_bytes();
        let f = |b: &mut Vec<u8>, x: f32| {
            b.extend(if big_endian {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            })
        };
        let i = |b: &mut Vec<u8>, x: i32| {
            b.extend(if big_endian {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            })
        };
        for v in SQUARE {
            v.iter().for_each(|&x| f(&mut b, x));
            b.push(200);
        }
        for poly in [&[0, 1, 2, 3][..], &[1, 4, 2]] {
            b.push(7);
            b.push(poly.len() as u8);
            poly.iter().for_each(|&x| i(&mut b, x));
            b.push(2);
            f(&mut b, 0.5);
            f(&mut b, 0.5);
        }
        i(&mut b, 0);
        i(&mut b, 1);
        b
    }

    fn expected() -> PlyMesh {
        PlyMesh {
            vertices: SQUARE.iter().flatten().copied().collect(),
            // The quad fanned from its first vertex, then the triangle.
            triangles: vec![0, 1, 2, 0, 2, 3, 1, 4, 2],
            faces: 2,
        }
    }

    #[test]
    fn reads_every_encoding_and_fans_polygons() {
        let d = dir();
        for (name, bytes) in [
            ("le.ply", binary(false, "vertex_indices")),
            ("be.ply", binary(true, "vertex_index")),
            (
                "ascii.ply",
                b"ply\nformat ascii 1.0\nelement vertex 5\nproperty float x\nproperty float y\n\
                  property float z\nelement face 2\nproperty list uchar uint vertex_indices\n\
                  end_header\n0 0 0\n1 0 0\n1 1 0.25\n0 1 0\n2 0.5 -1.5\n4 0 1 2 3\n3 1 4 2\n"
                    .to_vec(),
            ),
        ] {
            let p = d.join(name);
            std::fs::write(&p, bytes).unwrap();
            assert_eq!(read_mesh(&p).unwrap(), expected(), "{name}");
        }
    }

    #[test]
    fn bad_meshes_are_clear_errors() {
        let d = dir();
        let good = binary(false, "vertex_indices");
        let header_end = good.windows(11).position(|w| w == b"end_header\n").unwrap() + 11;
        let swap = |from: &str, to: &str| {
            String::from_utf8_lossy(&good[..header_end])
                .replace(from, to)
                .into_bytes()
        };
        let with_body = |mut head: Vec<u8>| {
            head.extend_from_slice(&good[header_end..]);
            head
        };
        let mut out_of_range = good.clone();
        // The triangle's second index (4) becomes 9.
        let at = header_end + 5 * 13 + (1 + 1 + 16 + 1 + 8) + 2 + 4;
        out_of_range[at..at + 4].copy_from_slice(&9i32.to_le_bytes());
        let mut two = good.clone();
        two[header_end + 5 * 13 + 1] = 2; // the quad claims 2 vertices
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "trunc",
                good[..good.len() - 3].to_vec(),
                "declares 1 'edge' rows but only 5 bytes follow",
            ),
            // Cut inside the first face's index list: enough bytes for the rows' minimum.
            (
                "cut",
                good[..header_end + 5 * 13 + 10].to_vec(),
                "face 0: the file ends early",
            ),
            (
                "extra",
                [good.clone(), vec![0; 5]].concat(),
                "5 bytes after",
            ),
            (
                "range",
                out_of_range,
                "refers to vertex 9, the file has 5 vertices",
            ),
            ("two", two, "face 0: vertex_indices (2 vertices"),
            (
                "liar",
                with_body(swap("element face 2", "element face 4000000000")),
                "declares 4000000000 'face' rows",
            ),
            (
                "nofaces",
                with_body(swap("element face 2", "element facet 2")),
                "no 'face' element",
            ),
            (
                "floats",
                with_body(swap("list uchar int vertex", "list uchar float vertex")),
                "floating-point values",
            ),
            (
                "noz",
                with_body(swap("property float z", "property float w")),
                "no 'z' property",
            ),
        ];
        for (name, bytes, want) in cases {
            let p = d.join(format!("{name}.ply"));
            std::fs::write(&p, bytes).unwrap();
            let e = read_mesh(&p).unwrap_err().to_string();
            assert!(
                e.contains(&format!("{name}.ply")) && e.contains(want),
                "{name}: {e}"
            );
        }
    }
}
