//! The splat pass on the CPU, in exactly the order `meshbound.comp` evaluates it (f32, written
//! out component by component), the per-frame vertex pass of the SplattingAvatar binding, and
//! the conversion of world splats into triangle-local GaussianAvatars bindings.
//!
//! Per splat the rest record holds [`REST`] floats:
//! `0` face index, `1..4` barycentric weights (SplattingAvatar, SuGaR) or α (GaMeS),
//! `4..7` the local mean (GaussianAvatars, relative to the weighted point; GaussianAvatars
//! files anchor at the centroid, weights ⅓) or (d, 0, 0) with d the normal offset
//! (SplattingAvatar), `7..11` the local rotation (w, x, y, z) (SuGaR: the in-plane rotation as
//! (cos, sin, 0, 0)), `11..14` log-scales (GaussianAvatars: local; SplattingAvatar: raw;
//! SuGaR: ln thickness, s₁, s₂), `14` the rest face area (SplattingAvatar, SuGaR) or ln ρ
//! (GaMeS), `15` unused.
//!
//! The frame data holds the deformed vertices (V × 3); for SplattingAvatar it also holds the
//! area-weighted vertex normals (V × 3) and vertex quaternions (V × 4) of [`vertex_pass`].
//!
//! A face whose deformed triangle is degenerate (an edge of length 0, a normal shorter than
//! f32 epsilon × |e|², or anything not finite) gives its splats log-scales of
//! [`HIDDEN_LOG_SCALE`] (invisible), the unit rotation and the bound point as mean, in both
//! paths: a collapsed face has no frame to carry them.

use glam::{DMat3, DQuat, DVec3};

/// Floats of rest data per splat.
pub const REST: usize = 16;
/// Log-scale given to the splats of a degenerate face.
pub const HIDDEN_LOG_SCALE: f32 = -30.0;
/// GaMeS's thickness ε (the normal-axis scale before ρ).
pub const GAMES_EPS: f32 = 1e-8;
/// SplattingAvatar's area-ratio regulariser: r = (A + 1e-4) / (A_rest + 1e-4).
pub const AREA_EPS: f32 = 1e-4;

/// The binding kinds (the push constant `kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    GaussianAvatars = 0,
    SplattingAvatar = 1,
    Sugar = 2,
    Games = 3,
}

pub type V3 = [f32; 3];

/// A face's rest frame (GaussianAvatars' columns) and rest area.
pub type RestFrame = (V3, V3, V3, f32);

fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn mul(a: V3, s: f32) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}
fn dot(a: V3, b: V3) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
fn length(a: V3) -> f32 {
    dot(a, a).sqrt()
}
fn normalize(a: V3) -> V3 {
    mul(a, 1.0 / length(a))
}

/// Whether triangle (a, b, c) has a frame (see the module doc).
pub fn face_ok(a: V3, b: V3, c: V3) -> bool {
    let e = sub(b, a);
    let le = length(e);
    let ln = length(cross(e, sub(c, a)));
    le > 0.0 && ln > f32::EPSILON * le * le && ln.is_finite()
}

/// The quaternion (w, x, y, z) of the rotation with columns c0, c1, c2 (Shepperd's method).
pub fn quat_of(c0: V3, c1: V3, c2: V3) -> [f32; 4] {
    // Rows u_r = (c0[r], c1[r], c2[r]).
    let (u0x, u0y, u0z) = (c0[0], c1[0], c2[0]);
    let (u1x, u1y, u1z) = (c0[1], c1[1], c2[1]);
    let (u2x, u2y, u2z) = (c0[2], c1[2], c2[2]);
    let tr = u0x + u1y + u2z;
    if tr > 0.0 {
        let s = (tr + 1.0).sqrt() * 2.0;
        [0.25 * s, (u2y - u1z) / s, (u0z - u2x) / s, (u1x - u0y) / s]
    } else if u0x > u1y && u0x > u2z {
        let s = (1.0 + u0x - u1y - u2z).sqrt() * 2.0;
        [(u2y - u1z) / s, 0.25 * s, (u0y + u1x) / s, (u0z + u2x) / s]
    } else if u1y > u2z {
        let s = (1.0 + u1y - u0x - u2z).sqrt() * 2.0;
        [(u0z - u2x) / s, (u0y + u1x) / s, 0.25 * s, (u1z + u2y) / s]
    } else {
        let s = (1.0 + u2z - u0x - u1y).sqrt() * 2.0;
        [(u1x - u0y) / s, (u0z + u2x) / s, (u1z + u2y) / s, 0.25 * s]
    }
}

/// Hamilton product a ⊗ b on (w, x, y, z).
pub fn hamilton(a: [f32; 4], b: [f32; 4]) -> [f32; 4] {
    [
        a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
        a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
        a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
        a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
    ]
}

/// GaussianAvatars' face frame: columns a0 = n̂(b − a), a1 = n̂(a0 × (c − a)) (the normal),
/// a2 = −n̂(a1 × a0) (in the plane), det +1; scale k = (|b − a| + |a2·(c − a)|) / 2.
pub fn ga_frame(a: V3, b: V3, c: V3) -> (V3, V3, V3, f32) {
    let e = sub(b, a);
    let f = sub(c, a);
    let a0 = normalize(e);
    let a1 = normalize(cross(a0, f));
    let a2 = mul(normalize(cross(a1, a0)), -1.0);
    let k = (length(e) + dot(a2, f).abs()) * 0.5;
    (a0, a1, a2, k)
}

fn vert(frame: &[f32], i: u32) -> V3 {
    let i = 3 * i as usize;
    [frame[i], frame[i + 1], frame[i + 2]]
}

/// One splat's world mean, rotation (w, x, y, z) and log-scales.
#[allow(clippy::too_many_arguments)]
pub fn splat(
    kind: Kind,
    editable: bool,
    r: &[f32],
    faces: &[u32],
    frame: &[f32],
    vertex_count: u32,
) -> (V3, [f32; 4], V3) {
    let f = r[0] as usize;
    let (ia, ib, ic) = (faces[3 * f], faces[3 * f + 1], faces[3 * f + 2]);
    let (a, b, c) = (vert(frame, ia), vert(frame, ib), vert(frame, ic));
    let w = [r[1], r[2], r[3]];
    let bary = add(add(mul(a, w[0]), mul(b, w[1])), mul(c, w[2]));
    if !face_ok(a, b, c) {
        return (bary, [1.0, 0.0, 0.0, 0.0], [HIDDEN_LOG_SCALE; 3]);
    }
    let ql = [r[7], r[8], r[9], r[10]];
    let ls = [r[11], r[12], r[13]];
    match kind {
        Kind::GaussianAvatars => {
            let (a0, a1, a2, k) = ga_frame(a, b, c);
            let local = add(add(mul(a0, r[4]), mul(a1, r[5])), mul(a2, r[6]));
            let mean = add(mul(local, k), bary);
            let q = hamilton(quat_of(a0, a1, a2), ql);
            let lk = k.ln();
            (mean, q, [ls[0] + lk, ls[1] + lk, ls[2] + lk])
        }
        Kind::SplattingAvatar => {
            let v = vertex_count as usize;
            let nrm = |i: u32| {
                let o = 3 * v + 3 * i as usize;
                [frame[o], frame[o + 1], frame[o + 2]]
            };
            let qv = |i: u32| {
                let o = 6 * v + 4 * i as usize;
                [frame[o], frame[o + 1], frame[o + 2], frame[o + 3]]
            };
            let n = add(
                add(mul(nrm(ia), w[0]), mul(nrm(ib), w[1])),
                mul(nrm(ic), w[2]),
            );
            let ln = length(n);
            let n = if ln > 0.0 { mul(n, 1.0 / ln) } else { n };
            let mean = add(bary, mul(n, r[4]));
            let qa = qv(ia);
            let align = |q: [f32; 4]| {
                let d = qa[0] * q[0] + qa[1] * q[1] + qa[2] * q[2] + qa[3] * q[3];
                if d < 0.0 {
                    [-q[0], -q[1], -q[2], -q[3]]
                } else {
                    q
                }
            };
            let (qb, qc) = (align(qv(ib)), align(qv(ic)));
            let s: [f32; 4] = std::array::from_fn(|k| qa[k] * w[0] + qb[k] * w[1] + qc[k] * w[2]);
            let len = (s[0] * s[0] + s[1] * s[1] + s[2] * s[2] + s[3] * s[3]).sqrt();
            let s = s.map(|x| x / len);
            let area = 0.5 * length(cross(sub(b, a), sub(c, a)));
            let ratio = (area + AREA_EPS) / (r[14] + AREA_EPS);
            (
                mean,
                hamilton(s, ql),
                [ls[0] * ratio, ls[1] * ratio, ls[2] * ratio],
            )
        }
        Kind::Sugar => {
            let r0 = normalize(cross(sub(b, a), sub(c, a)));
            let b1 = normalize(sub(a, b));
            let b2 = normalize(cross(r0, b1));
            let cl = (ql[0] * ql[0] + ql[1] * ql[1]).sqrt();
            let (ca, sa) = (ql[0] / cl, ql[1] / cl);
            let r1 = add(mul(b1, ca), mul(b2, sa));
            let r2 = sub(mul(b2, ca), mul(b1, sa));
            let mut out = ls;
            if editable {
                let area = 0.5 * length(cross(sub(b, a), sub(c, a)));
                let h = 0.5 * (area / r[14]).ln();
                out = [ls[0], ls[1] + h, ls[2] + h];
            }
            (bary, quat_of(r0, r1, r2), out)
        }
        Kind::Games => {
            let m = mul(add(add(a, b), c), 1.0 / 3.0);
            let r0 = normalize(cross(sub(b, a), sub(c, a)));
            let e1 = sub(b, m);
            let l1 = length(e1);
            let r1 = mul(e1, 1.0 / l1);
            let e2 = sub(c, m);
            let r2 = normalize(sub(sub(e2, mul(r0, dot(e2, r0))), mul(r1, dot(e2, r1))));
            let lr = r[14];
            (
                bary,
                quat_of(r0, r1, r2),
                [
                    lr + GAMES_EPS.ln(),
                    lr + (0.5 * l1).ln(),
                    lr + (0.5 * dot(e2, r2)).ln(),
                ],
            )
        }
    }
}

/// The SplattingAvatar vertex pass: appends to `frame` (V deformed vertices) the
/// area-weighted vertex normals (V × 3, normalised; 0 where no face has an area) and the
/// vertex quaternions (V × 4): q_v = n̂(Σ_{f∋v} A_rest(f)·±q(R_f)) with R_f the rotation
/// taking the rest face frame to the deformed one (GaussianAvatars' frame without k), each
/// term's sign chosen to agree with the running sum (q and −q are the same rotation; summing
/// opposite signs would cancel). Degenerate faces (rest or deformed) add nothing; a vertex
/// with no term gets the unit quaternion.
pub fn vertex_pass(frame: &mut Vec<f32>, faces: &[u32], rest_frames: &[RestFrame]) {
    let v = frame.len() / 3;
    let mut normals = vec![0f32; 3 * v];
    let mut quats = vec![0f32; 4 * v];
    for (f, t) in faces.chunks_exact(3).enumerate() {
        let (a, b, c) = (vert(frame, t[0]), vert(frame, t[1]), vert(frame, t[2]));
        let (r0, r1, r2, area_rest) = rest_frames[f];
        if !face_ok(a, b, c) || area_rest.is_nan() || area_rest <= 0.0 {
            continue;
        }
        let n = cross(sub(b, a), sub(c, a));
        let (a0, a1, a2, _) = ga_frame(a, b, c);
        // R_f = D·Rᵀ (D: deformed frame columns, R: rest frame columns).
        let col = |j: usize| -> V3 {
            let rr = [r0[j], r1[j], r2[j]];
            add(add(mul(a0, rr[0]), mul(a1, rr[1])), mul(a2, rr[2]))
        };
        let q = quat_of(col(0), col(1), col(2));
        for &i in t {
            let i = i as usize;
            for k in 0..3 {
                normals[3 * i + k] += n[k];
            }
            let acc = &mut quats[4 * i..4 * i + 4];
            let d = acc[0] * q[0] + acc[1] * q[1] + acc[2] * q[2] + acc[3] * q[3];
            let s = if d < 0.0 { -area_rest } else { area_rest };
            for k in 0..4 {
                acc[k] += s * q[k];
            }
        }
    }
    for n in normals.chunks_exact_mut(3) {
        let l = length([n[0], n[1], n[2]]);
        if l > 0.0 && l.is_finite() {
            n.iter_mut().for_each(|x| *x /= l);
        } else {
            n.fill(0.0);
        }
    }
    for q in quats.chunks_exact_mut(4) {
        let l = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]).sqrt();
        if l > 0.0 && l.is_finite() {
            q.iter_mut().for_each(|x| *x /= l);
        } else {
            q.copy_from_slice(&[1.0, 0.0, 0.0, 0.0]);
        }
    }
    frame.extend_from_slice(&normals);
    frame.extend_from_slice(&quats);
}

/// The rest frame of each face for [`vertex_pass`]: GaussianAvatars' columns and the area
/// (0 for a degenerate face).
pub fn rest_frames(vertices: &[f32], faces: &[u32]) -> Vec<RestFrame> {
    faces
        .chunks_exact(3)
        .map(|t| {
            let (a, b, c) = (
                vert(vertices, t[0]),
                vert(vertices, t[1]),
                vert(vertices, t[2]),
            );
            if !face_ok(a, b, c) {
                return ([0.0; 3], [0.0; 3], [0.0; 3], 0.0);
            }
            let (a0, a1, a2, _) = ga_frame(a, b, c);
            (a0, a1, a2, 0.5 * length(cross(sub(b, a), sub(c, a))))
        })
        .collect()
}

/// The GaussianAvatars binding (local mean, rotation, log-scales) of a world splat on face
/// (a, b, c), anchored at the point with barycentric weights `w` (f64): μ_l = Rᵀ(μ − p_w)/k,
/// q_l = q(R)⁻¹ ⊗ q, s_l = s − ln k, so that the splat pass gives the splat back on the rest
/// mesh. None for a degenerate face.
pub fn ga_local(
    tri: [V3; 3],
    w: [f32; 3],
    mean: V3,
    rot: [f32; 4],
    log_scale: V3,
) -> Option<(V3, [f32; 4], V3)> {
    let [a, b, c] = tri;
    if !face_ok(a, b, c) {
        return None;
    }
    let d = |v: V3| DVec3::new(v[0] as f64, v[1] as f64, v[2] as f64);
    let (a, b, c) = (d(a), d(b), d(c));
    let e = b - a;
    let f = c - a;
    let a0 = e.normalize();
    let a1 = a0.cross(f).normalize();
    let a2 = -a1.cross(a0).normalize();
    let k = (e.length() + a2.dot(f).abs()) * 0.5;
    let r = DMat3::from_cols(a0, a1, a2);
    let anchor = a * w[0] as f64 + b * w[1] as f64 + c * w[2] as f64;
    let local = r.transpose() * (d(mean) - anchor) / k;
    let q =
        DQuat::from_xyzw(rot[1] as f64, rot[2] as f64, rot[3] as f64, rot[0] as f64).normalize();
    let ql = (DQuat::from_mat3(&r).inverse() * q).normalize();
    let lk = k.ln();
    Some((
        local.as_vec3().to_array(),
        [ql.w as f32, ql.x as f32, ql.y as f32, ql.z as f32],
        log_scale.map(|s| (s as f64 - lk) as f32),
    ))
}

/// The face nearest to each point, by distance to the triangle (brute force over faces with
/// a centroid-distance prune; O(N·F) at worst). Degenerate faces are never chosen; None when
/// every face is degenerate.
pub fn nearest_faces(vertices: &[f32], faces: &[u32], points: &[V3]) -> Option<Vec<u32>> {
    let tris: Vec<(usize, [DVec3; 3], DVec3, f64)> = faces
        .chunks_exact(3)
        .enumerate()
        .filter_map(|(f, t)| {
            let (a, b, c) = (
                vert(vertices, t[0]),
                vert(vertices, t[1]),
                vert(vertices, t[2]),
            );
            if !face_ok(a, b, c) {
                return None;
            }
            let d = |v: V3| DVec3::new(v[0] as f64, v[1] as f64, v[2] as f64);
            let p = [d(a), d(b), d(c)];
            let cen = (p[0] + p[1] + p[2]) / 3.0;
            let rad = p.iter().map(|q| q.distance(cen)).fold(0.0, f64::max);
            Some((f, p, cen, rad))
        })
        .collect();
    if tris.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(points.len());
    for p in points {
        let p = DVec3::new(p[0] as f64, p[1] as f64, p[2] as f64);
        let mut best = (f64::INFINITY, 0usize);
        for (f, t, cen, rad) in &tris {
            // Every point of the triangle is within rad of its centroid.
            if p.distance(*cen) - rad >= best.0 {
                continue;
            }
            let dist = point_triangle(p, t);
            if dist < best.0 {
                best = (dist, *f);
            }
        }
        out.push(best.1 as u32);
    }
    Some(out)
}

/// Distance from p to triangle t (the closest point by region tests).
fn point_triangle(p: DVec3, t: &[DVec3; 3]) -> f64 {
    let [a, b, c] = *t;
    let n = (b - a).cross(c - a);
    let inside = [(a, b), (b, c), (c, a)]
        .iter()
        .all(|(u, v)| (*v - *u).cross(p - *u).dot(n) >= 0.0);
    if inside {
        return (p - a).dot(n).abs() / n.length();
    }
    [(a, b), (b, c), (c, a)]
        .iter()
        .map(|(u, v)| {
            let e = *v - *u;
            let s = ((p - *u).dot(e) / e.length_squared()).clamp(0.0, 1.0);
            p.distance(*u + e * s)
        })
        .fold(f64::INFINITY, f64::min)
}
