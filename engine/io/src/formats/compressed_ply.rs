//! PlayCanvas / SuperSplat "compressed PLY", read and written.
//!
//! A binary little-endian PLY with three elements, from the published layout:
//!
//! * `chunk` (one per 256 splats, in order): `float` `min_x min_y min_z max_x max_y max_z`,
//!   `min_scale_x … max_scale_z` (log-scales) and, in newer files, `min_r min_g min_b max_r
//!   max_g max_b` (colour range; [0, 1] when absent);
//! * `vertex`: four `uint`s — `packed_position` and `packed_scale` 11-10-11 bits (x in the top
//!   11 bits, y the middle 10, z the low 11), each a fraction of its chunk's [min, max];
//!   `packed_rotation` 2 + 10-10-10 bits: the top two bits give which quaternion component
//!   (rot_0 = w … rot_3 = z) is largest (it is made positive and derived), the other three in
//!   order follow, each (v/√2 + 0.5) · 1023; `packed_color` 8-8-8-8 bits R, G, B (fractions of
//!   the chunk's colour range of 0.5 + SH_C0 · f_dc) and opacity sigmoid(x) · 255;
//! * `sh` (optional, one per splat): `uchar f_rest_0 …` (9, 24 or 45, channel-major as in the
//!   INRIA PLY), byte b → ((b + 0.5)/256 − 0.5) · 8, with 0 → −4 and 255 → 4.
//!
//! Axes are the INRIA PLY's (RDF); no frame change. The writer sorts splats along a Morton
//! curve (so that each 256-splat chunk is spatially compact, as SuperSplat does): **splat
//! order changes**. Quantization steps of the writer: position and log-scale 1/2047 (x, z) and
//! 1/1023 (y) of the chunk's range; colour 1/255 of the chunk's colour range; opacity 1/255;
//! quaternion components √2/1023 = 1.38e-3; SH 1/32 (range −4 … 4). Log-scales are clamped to
//! [−20, 20].

use std::path::Path;

use super::{check_count, logit_from_u8, u8_from_logit, SplatsMut, SH_C0};
use crate::memory::{self, AllocError};
use crate::ply::{Element, Format, Header, ScalarType};
use crate::{IoError, Splats};

/// Splats per chunk.
const CHUNK: usize = 256;

const POS_PROPS: [&str; 6] = ["min_x", "min_y", "min_z", "max_x", "max_y", "max_z"];
const SCALE_PROPS: [&str; 6] = [
    "min_scale_x",
    "min_scale_y",
    "min_scale_z",
    "max_scale_x",
    "max_scale_y",
    "max_scale_z",
];
const COLOR_PROPS: [&str; 6] = ["min_r", "min_g", "min_b", "max_r", "max_g", "max_b"];
const PACKED: [&str; 4] = [
    "packed_position",
    "packed_rotation",
    "packed_scale",
    "packed_color",
];

/// True when a PLY header describes a compressed PLY (a `chunk` element and packed vertices).
pub(crate) fn is_compressed(h: &Header) -> bool {
    h.element("chunk").is_some()
        && h.element("vertex")
            .is_some_and(|v| v.prop("packed_position").is_some())
}

/// Byte offsets of the named properties, each of type `ty`.
fn offsets<const N: usize>(
    e: &Element,
    names: [&str; N],
    ty: ScalarType,
) -> Result<[usize; N], String> {
    let mut out = [0; N];
    for (o, name) in out.iter_mut().zip(names) {
        let p = e
            .prop(name)
            .ok_or_else(|| format!("compressed PLY: element '{}' has no '{name}'", e.name))?;
        if p.ty != ty {
            return Err(format!(
                "compressed PLY: '{}.{name}' is {:?}, expected {ty:?}",
                e.name, p.ty
            ));
        }
        *o = p.offset;
    }
    Ok(out)
}

fn f32_at(b: &[u8], at: usize) -> f32 {
    f32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses a compressed PLY whose header (parsed from `bytes`) is `h`; `path` names it in
/// errors.
pub(crate) fn parse(bytes: &[u8], h: &Header, path: &Path) -> Result<Splats, IoError> {
    let input = |m: String| IoError::input(path, m);
    if h.format != Format::BinaryLe {
        return Err(input("compressed PLY must be binary_little_endian".into()));
    }
    let find = |name: &str| h.elements.iter().position(|e| e.name == name);
    let (Some(ci), Some(vi)) = (find("chunk"), find("vertex")) else {
        return Err(input(
            "compressed PLY needs 'chunk' and 'vertex' elements".into(),
        ));
    };
    let si = find("sh");
    let (chunk, vertex) = (&h.elements[ci], &h.elements[vi]);
    let n = check_count(vertex.count).map_err(|m| input(format!("the header {m}")))?;
    let need_chunks = n.div_ceil(CHUNK) as u64;
    if chunk.count < need_chunks {
        return Err(input(format!(
            "{n} vertices need {need_chunks} chunks of 256, the header declares {}",
            chunk.count
        )));
    }
    let pos = offsets(chunk, POS_PROPS, ScalarType::F32).map_err(input)?;
    let scale = offsets(chunk, SCALE_PROPS, ScalarType::F32).map_err(input)?;
    let color = if chunk.prop("min_r").is_some() {
        Some(offsets(chunk, COLOR_PROPS, ScalarType::F32).map_err(input)?)
    } else {
        None
    };
    let packed = offsets(vertex, PACKED, ScalarType::U32).map_err(input)?;
    let (sh_degree, sh_offsets) = match si {
        None => (0, Vec::new()),
        Some(si) => {
            let sh = &h.elements[si];
            if sh.count != vertex.count {
                return Err(input(format!(
                    "the 'sh' element has {} rows for {} vertices",
                    sh.count, vertex.count
                )));
            }
            let m = sh
                .props
                .iter()
                .filter(|p| p.name.starts_with("f_rest_"))
                .count();
            let degree = match m {
                9 => 1,
                24 => 2,
                45 => 3,
                _ => {
                    return Err(input(format!(
                        "the 'sh' element has {m} f_rest_* properties; expected 9, 24 or 45"
                    )))
                }
            };
            let mut offs = Vec::with_capacity(m);
            for j in 0..m {
                let name = format!("f_rest_{j}");
                let p = sh
                    .prop(&name)
                    .ok_or_else(|| input(format!("the 'sh' element has no '{name}'")))?;
                if p.ty != ScalarType::U8 {
                    return Err(input(format!("'sh.{name}' is {:?}, expected uchar", p.ty)));
                }
                offs.push(p.offset);
            }
            (degree, offs)
        }
    };

    let body = &bytes[h.body_offset..];
    let (_, total) = h.binary_layout(0);
    if total != body.len() as u128 {
        return Err(input(format!(
            "file is {}: the header declares {total} bytes of element data after the header, \
             {} are present",
            if total > body.len() as u128 {
                "truncated"
            } else {
                "longer than its header says"
            },
            body.len()
        )));
    }
    // All element ranges fit in the body now.
    let at = |i: usize| h.binary_layout(i).0 as usize;
    let (chunks, verts) = (&body[at(ci)..], &body[at(vi)..]);
    let shs = si.map_or(&body[..0], |i| &body[at(i)..]);
    let (cs, vs) = (chunk.stride, vertex.stride);
    let ss = si.map_or(0, |i| h.elements[i].stride);
    let k = super::coeffs_for_degree(sh_degree);

    let mut s = super::zeroed(n, sh_degree).map_err(|e| e.at(path))?;
    super::par_fill(&mut s, 16 * 1024, |p: SplatsMut<'_>| {
        for j in 0..p.len() {
            let i = p.first + j;
            let c = &chunks[(i / CHUNK) * cs..(i / CHUNK + 1) * cs];
            let v = &verts[i * vs..(i + 1) * vs];
            let lerp3 = |o: [usize; 6], packed: u32| -> [f32; 3] {
                let t = unpack_111011(packed);
                std::array::from_fn(|a| {
                    let (lo, hi) = (f32_at(c, o[a]), f32_at(c, o[a + 3]));
                    lo + (hi - lo) * t[a]
                })
            };
            p.means[j] = lerp3(pos, u32_at(v, packed[0]));
            p.rotations[j] = crate::math::normalised_quat(unpack_rotation(u32_at(v, packed[1])));
            p.log_scales[j] = lerp3(scale, u32_at(v, packed[2]));
            let col = u32_at(v, packed[3]);
            for ch in 0..3 {
                let t = f64::from((col >> (24 - 8 * ch)) & 0xff) / 255.0;
                let rgb = match color {
                    Some(o) => {
                        let (lo, hi) =
                            (f64::from(f32_at(c, o[ch])), f64::from(f32_at(c, o[ch + 3])));
                        lo + (hi - lo) * t
                    }
                    None => t,
                };
                p.sh[j * p.sh_stride + ch] = ((rgb - 0.5) / SH_C0) as f32;
            }
            p.opacity_logits[j] = logit_from_u8((col & 0xff) as u8);
            if k > 1 {
                let row = &shs[i * ss..(i + 1) * ss];
                for ch in 0..3 {
                    for kk in 1..k {
                        let b = row[sh_offsets[ch * (k - 1) + kk - 1]];
                        p.sh[j * p.sh_stride + kk * 3 + ch] = sh_from_u8(b);
                    }
                }
            }
        }
        Ok(())
    })
    .map_err(input)?;
    Ok(s)
}

fn sh_from_u8(b: u8) -> f32 {
    let t = match b {
        0 => 0.0,
        255 => 1.0,
        b => (f32::from(b) + 0.5) / 256.0,
    };
    (t - 0.5) * 8.0
}

fn sh_to_u8(v: f32) -> u8 {
    ((f64::from(v) / 8.0 + 0.5) * 256.0)
        .floor()
        .clamp(0.0, 255.0) as u8
}

/// 11-10-11 bit fractions (x, y, z).
fn unpack_111011(p: u32) -> [f32; 3] {
    [
        (p >> 21) as f32 / 2047.0,
        ((p >> 11) & 0x3ff) as f32 / 1023.0,
        (p & 0x7ff) as f32 / 2047.0,
    ]
}

fn pack_111011(t: [f64; 3]) -> u32 {
    let q = |v: f64, max: f64| (v * max).round().clamp(0.0, max) as u32;
    (q(t[0], 2047.0) << 21) | (q(t[1], 1023.0) << 11) | q(t[2], 2047.0)
}

/// 2 + 10-10-10 bit rotation to (rot_0..rot_3) = (w, x, y, z).
fn unpack_rotation(p: u32) -> [f32; 4] {
    let c =
        |shift: u32| ((f64::from((p >> shift) & 0x3ff) / 1023.0) - 0.5) * std::f64::consts::SQRT_2;
    let abc = [c(20), c(10), c(0)];
    let m = (1.0 - abc.iter().map(|v| v * v).sum::<f64>())
        .max(0.0)
        .sqrt();
    let largest = (p >> 30) as usize;
    let mut q = [0.0f32; 4];
    let mut rest = abc.iter();
    for (i, v) in q.iter_mut().enumerate() {
        *v = if i == largest {
            m as f32
        } else {
            rest.next().copied().unwrap_or(0.0) as f32
        };
    }
    q
}

fn pack_rotation(q: [f32; 4]) -> u32 {
    let mut q = crate::math::normalised_quat(q).map(f64::from);
    let largest = (0..4)
        .max_by(|&a, &b| q[a].abs().total_cmp(&q[b].abs()))
        .unwrap_or(0);
    if q[largest] < 0.0 {
        q = q.map(|v| -v);
    }
    let mut p = 0u32;
    for (i, &v) in q.iter().enumerate() {
        if i != largest {
            let u = ((v / std::f64::consts::SQRT_2 + 0.5) * 1023.0)
                .round()
                .clamp(0.0, 1023.0) as u32;
            p = (p << 10) | u;
        }
    }
    p | ((largest as u32) << 30)
}

/// Spreads the low 10 bits of `v` to every third bit.
fn spread3(v: u32) -> u32 {
    let mut x = v & 0x3ff;
    x = (x | (x << 16)) & 0x030000ff;
    x = (x | (x << 8)) & 0x0300f00f;
    x = (x | (x << 4)) & 0x030c30c3;
    x = (x | (x << 2)) & 0x09249249;
    x
}

/// Encodes `s` (valid) as a compressed PLY; `comments` go into the header.
pub(crate) fn encode(s: &Splats, comments: &[&str]) -> Result<(Vec<u8>, Vec<String>), AllocError> {
    let n = s.len();
    let k = s.coeffs_per_splat();
    let mut notes = vec!["splats are stored in Morton order (the order changes)".to_string()];
    // Morton order over the scene bounds.
    let (mut lo, mut hi) = ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]);
    for m in &s.means {
        for a in 0..3 {
            lo[a] = lo[a].min(m[a]);
            hi[a] = hi[a].max(m[a]);
        }
    }
    let code = |m: &[f32; 3]| -> u32 {
        (0..3).fold(0, |acc, a| {
            let ext = f64::from(hi[a]) - f64::from(lo[a]);
            let t = if ext > 0.0 {
                (f64::from(m[a]) - f64::from(lo[a])) / ext
            } else {
                0.0
            };
            acc | (spread3((t * 1023.0).round().clamp(0.0, 1023.0) as u32) << (2 - a))
        })
    };
    let mut order: Vec<(u32, u32)> = memory::with_capacity(n)?;
    order.extend(s.means.iter().enumerate().map(|(i, m)| (code(m), i as u32)));
    order.sort_unstable();
    let clamped_scales = s
        .log_scales
        .iter()
        .flatten()
        .filter(|v| v.abs() > 20.0)
        .count();
    if clamped_scales > 0 {
        notes.push(format!(
            "{clamped_scales} log-scale values outside [-20, 20] were clamped"
        ));
    }

    let n_chunks = n.div_ceil(CHUNK);
    let n_rest = 3 * (k - 1);
    let mut header = String::from("ply\nformat binary_little_endian 1.0\n");
    header.push_str("comment Generated by vksplat\n");
    for c in comments {
        header.push_str(&format!("comment {c}\n"));
    }
    header.push_str(&format!("element chunk {n_chunks}\n"));
    for name in POS_PROPS.iter().chain(&SCALE_PROPS).chain(&COLOR_PROPS) {
        header.push_str(&format!("property float {name}\n"));
    }
    header.push_str(&format!("element vertex {n}\n"));
    for name in PACKED {
        header.push_str(&format!("property uint {name}\n"));
    }
    if n_rest > 0 {
        header.push_str(&format!("element sh {n}\n"));
        for j in 0..n_rest {
            header.push_str(&format!("property uchar f_rest_{j}\n"));
        }
    }
    header.push_str("end_header\n");

    let mut out = header.into_bytes();
    memory::reserve(
        &mut out,
        n_chunks
            .saturating_mul(72)
            .saturating_add(n.saturating_mul(16 + n_rest)),
    )?;
    let colour = |i: usize, c: usize| 0.5 + SH_C0 * f64::from(s.sh[i * k * 3 + c]);
    let mut ranges = memory::with_capacity(n_chunks)?;
    for chunk in order.chunks(CHUNK) {
        let mut r = [[f64::INFINITY, f64::NEG_INFINITY]; 9];
        for &(_, i) in chunk {
            let i = i as usize;
            for a in 0..3 {
                let vals = [
                    f64::from(s.means[i][a]),
                    f64::from(s.log_scales[i][a].clamp(-20.0, 20.0)),
                    colour(i, a),
                ];
                for (b, v) in vals.into_iter().enumerate() {
                    r[b * 3 + a][0] = r[b * 3 + a][0].min(v);
                    r[b * 3 + a][1] = r[b * 3 + a][1].max(v);
                }
            }
        }
        // Store the bounds as f32 and quantize against exactly what the reader will see.
        let r = r.map(|[a, b]| [f64::from(a as f32), f64::from(b as f32)]);
        for group in r.chunks_exact(3) {
            for side in 0..2 {
                for axis in group {
                    out.extend_from_slice(&(axis[side] as f32).to_le_bytes());
                }
            }
        }
        ranges.push(r);
    }
    let frac = |v: f64, r: [f64; 2]| {
        if r[1] > r[0] {
            (v - r[0]) / (r[1] - r[0])
        } else {
            0.0
        }
    };
    for (ci, chunk) in order.chunks(CHUNK).enumerate() {
        let r = &ranges[ci];
        for &(_, i) in chunk {
            let i = i as usize;
            let pos = std::array::from_fn(|a| frac(f64::from(s.means[i][a]), r[a]));
            let scl = std::array::from_fn(|a| {
                frac(f64::from(s.log_scales[i][a].clamp(-20.0, 20.0)), r[3 + a])
            });
            let mut col = 0u32;
            for c in 0..3 {
                let t = frac(colour(i, c), r[6 + c]);
                col |= u32::from(super::unorm8(t)) << (24 - 8 * c);
            }
            col |= u32::from(u8_from_logit(s.opacity_logits[i]));
            for word in [
                pack_111011(pos),
                pack_rotation(s.rotations[i]),
                pack_111011(scl),
                col,
            ] {
                out.extend_from_slice(&word.to_le_bytes());
            }
        }
    }
    if n_rest > 0 {
        for &(_, i) in &order {
            let sh = &s.sh[i as usize * k * 3..(i as usize + 1) * k * 3];
            for c in 0..3 {
                for kk in 1..k {
                    out.push(sh_to_u8(sh[kk * 3 + c]));
                }
            }
        }
    }
    Ok((out, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_packing_round_trips() {
        let mut rng = crate::test_util::Rng::new(3);
        for _ in 0..10_000 {
            let q = crate::math::normalised_quat([
                rng.range(-1.0, 1.0),
                rng.range(-1.0, 1.0),
                rng.range(-1.0, 1.0),
                rng.range(-1.0, 1.0),
            ]);
            let back = unpack_rotation(pack_rotation(q));
            let dot: f32 = back.iter().zip(q).map(|(a, b)| a * b).sum();
            assert!(dot.abs() > 0.99999, "{q:?} -> {back:?}");
        }
    }

    #[test]
    fn chunks_without_colour_ranges_use_zero_to_one() {
        let mut b = String::from("ply\nformat binary_little_endian 1.0\nelement chunk 1\n");
        for name in POS_PROPS.iter().chain(&SCALE_PROPS) {
            b.push_str(&format!("property float {name}\n"));
        }
        b.push_str("element vertex 1\n");
        for name in PACKED {
            b.push_str(&format!("property uint {name}\n"));
        }
        b.push_str("end_header\n");
        let mut bytes = b.into_bytes();
        for v in [
            0.0f32, 0.0, 0.0, 2.0, 4.0, 8.0, -5.0, -5.0, -5.0, -1.0, -1.0, -1.0,
        ] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let pos = pack_111011([1.0, 0.5, 0.0]);
        for w in [pos, pack_rotation([1.0, 0.0, 0.0, 0.0]), 0, 0xff00_00ff] {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        let h = crate::ply::parse_header(&bytes).unwrap();
        assert!(is_compressed(&h));
        let s = parse(&bytes, &h, Path::new("c.ply")).unwrap();
        assert_eq!(s.means[0][0], 2.0);
        assert!((s.means[0][1] - 2.0).abs() < 4.0 / 1023.0);
        assert_eq!(s.means[0][2], 0.0);
        assert_eq!(s.log_scales[0], [-5.0; 3]);
        assert!(qdot(s.rotations[0], [1.0, 0.0, 0.0, 0.0]) > 0.99999);
        assert!((s.sh[0] - (0.5 / SH_C0) as f32).abs() < 1e-5);
        assert!((s.sh[1] - (-0.5 / SH_C0) as f32).abs() < 1e-5);
        assert_eq!(s.opacity_logits[0], logit_from_u8(255));
        // One byte short: truncated.
        bytes.pop();
        let e = parse(&bytes, &h, Path::new("c.ply")).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
    }

    fn qdot(a: [f32; 4], b: [f32; 4]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>().abs()
    }

    #[test]
    fn sh_bytes_round_trip() {
        for b in 0..=255u8 {
            assert_eq!(sh_to_u8(sh_from_u8(b)), b);
        }
    }

    #[test]
    fn morton_spreading() {
        assert_eq!(spread3(0b11), 0b1001);
        assert_eq!(spread3(0x3ff), 0x0924_9249);
    }
}
