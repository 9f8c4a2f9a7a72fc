//! The per-frame face pass ([`face_pass`]: one record per face, shared by both paths), the
//! splat pass on the CPU ([`splat`]) in exactly the order `meshbound.comp` evaluates it (f32,
//! written out component by component), the conversion of world splats into triangle-local
//! GaussianAvatars bindings and the nearest-face search of the adapter binding.
//!
//! Per splat the rest record holds [`REST`] floats:
//! `0` face index, `1..4` barycentric weights (SplattingAvatar, SuGaR) or α (GaMeS),
//! `4..7` the local mean (GaussianAvatars, relative to the weighted point; GaussianAvatars
//! files anchor at the centroid, weights ⅓) or (d, 0, 0) with d the normal offset
//! (SplattingAvatar), `7..11` the local rotation (w, x, y, z) (SuGaR: the in-plane rotation as
//! (cos, sin, 0, 0)), `11..14` log-scales (GaussianAvatars: local; SplattingAvatar: raw;
//! SuGaR: ln thickness, s₁, s₂), `14` the rest face area (SplattingAvatar; SuGaR: kept, unused)
//! or ln ρ (GaMeS), `15` unused.
//!
//! The frame data is the face records of [`face_pass`] (their layout is documented there).
//!
//! A face whose deformed triangle is degenerate (an edge of length 0, a normal shorter than
//! f32 epsilon × |e|², or anything not finite) gives its splats log-scales of
//! [`HIDDEN_LOG_SCALE`] (invisible), the unit rotation and the bound point as mean, in both
//! paths: a collapsed face has no frame to carry them.

use glam::{DMat3, DQuat, DVec3};

/// Floats of rest data per splat.
pub const REST: usize = 16;
/// One splat's rest record (layout in the module docs): its face, the weights, the local mean
/// or offset, the local rotation, the log-scales and the per-kind scalar at 14.
pub fn rest_record(
    face: usize,
    weights: [f32; 3],
    local: [f32; 3],
    rotation: [f32; 4],
    log_scales: [f32; 3],
    extra: f32,
) -> [f32; REST] {
    let [w0, w1, w2] = weights;
    let [l0, l1, l2] = local;
    let [r0, r1, r2, r3] = rotation;
    let [s0, s1, s2] = log_scales;
    [
        face as f32,
        w0,
        w1,
        w2,
        l0,
        l1,
        l2,
        r0,
        r1,
        r2,
        r3,
        s0,
        s1,
        s2,
        extra,
        0.0,
    ]
}

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

/// Floats of one face record of [`face_pass`] (the last one is the face's "has a frame" flag).
pub fn face_stride(kind: Kind) -> usize {
    match kind {
        Kind::SplattingAvatar => 32,
        _ => 24,
    }
}

/// What the face pass needs of the rest mesh, per face: GaussianAvatars' rest frame and the
/// rest area (SplattingAvatar), and SuGaR's rest centroid→vertex axes u₀, u₁ in the rest edge
/// frame with their determinant (editable form).
pub struct RestFaces {
    pub frames: Vec<RestFrame>,
    /// (u₀·B₁, u₁·B₁, u₀·B₂, u₁·B₂, det); det 0 for a degenerate rest face.
    pub sugar: Vec<[f32; 5]>,
}

impl RestFaces {
    pub fn new(vertices: &[f32], faces: &[u32]) -> RestFaces {
        RestFaces {
            frames: rest_frames(vertices, faces),
            sugar: faces
                .chunks_exact(3)
                .map(|t| {
                    let (a, b, c) = (
                        vert(vertices, t[0]),
                        vert(vertices, t[1]),
                        vert(vertices, t[2]),
                    );
                    if !face_ok(a, b, c) {
                        return [0.0; 5];
                    }
                    let (_, b1, b2) = sugar_frame(a, b, c);
                    let axes = sugar_axes(a, b, c, b1, b2);
                    [axes[0], axes[1], axes[2], axes[3], det2(axes)]
                })
                .collect(),
        }
    }
}

/// SuGaR's face frame: the normal r₀ = n̂((b−a)×(c−a)), B₁ = n̂(a − b), B₂ = n̂(r₀ × B₁).
fn sugar_frame(a: V3, b: V3, c: V3) -> (V3, V3, V3) {
    let r0 = normalize(cross(sub(b, a), sub(c, a)));
    let b1 = normalize(sub(a, b));
    let b2 = normalize(cross(r0, b1));
    (r0, b1, b2)
}

/// The centroid→vertex axes u₀ = a − m, u₁ = b − m in the frame (B₁, B₂), as the 2×2 matrix
/// (row-major) with u₀, u₁ as columns.
fn sugar_axes(a: V3, b: V3, c: V3, b1: V3, b2: V3) -> [f32; 4] {
    let m = mul(add(add(a, b), c), 1.0 / 3.0);
    let (u0, u1) = (sub(a, m), sub(b, m));
    [dot(u0, b1), dot(u1, b1), dot(u0, b2), dot(u1, b2)]
}

fn det2(m: [f32; 4]) -> f32 {
    m[0] * m[3] - m[1] * m[2]
}

/// The SplattingAvatar vertex pass: the area-weighted vertex normals (V × 3, normalised; 0
/// where no face has an area) and vertex quaternions (V × 4): q_v = n̂(Σ_{f∋v} A_rest(f)·±q(R_f))
/// with R_f the rotation taking the rest face frame to the deformed one (GaussianAvatars'
/// frame without k), each term's sign chosen to agree with the running sum (q and −q are the
/// same rotation; summing opposite signs would cancel). Degenerate faces (rest or deformed)
/// add nothing; a vertex with no term gets the unit quaternion.
fn vertex_pass(verts: &[f32], faces: &[u32], rest_frames: &[RestFrame]) -> (Vec<f32>, Vec<f32>) {
    let v = verts.len() / 3;
    let mut normals = vec![0f32; 3 * v];
    let mut quats = vec![0f32; 4 * v];
    for (f, t) in faces.chunks_exact(3).enumerate() {
        let (a, b, c) = (vert(verts, t[0]), vert(verts, t[1]), vert(verts, t[2]));
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
    (normals, quats)
}

/// The face pass: one record of [`face_stride`] floats per face from the deformed vertices
/// (V × 3), everything of a splat's arithmetic that depends on its face only. Every record
/// starts with the face's three vertices a, b, c (`0..9`) and ends with 1 when the face has a
/// frame, 0 when it is degenerate ([`face_ok`]; the rest of such a record is 0). Per kind:
/// - GaussianAvatars: `9..18` the frame columns scaled by k (k·a₀, k·a₁, k·a₂), `18..22` q(R),
///   `22` ln k;
/// - SplattingAvatar: `9..18` the vertex normals of a, b, c, `18..30` their vertex
///   quaternions, b's and c's sign-aligned with a's, `30` the area ratio (A+ε)/(A_rest+ε);
/// - SuGaR: `9..13` q([r₀ B₁ B₂]), `13..17` G = (D − R)·R⁻¹ (row-major; D, R: the deformed
///   and rest centroid axes u₀, u₁ in their edge frames, so F = I + G is the face's in-plane
///   deformation gradient and G is exactly 0 when the face did not change), `17` ln(det D /
///   det R) (0 and G = 0 when the rest face is degenerate);
/// - GaMeS: `9..13` q(R), `13` ln(|b−m|/2), `14` ln((c−m)·r₂/2).
///
/// The GPU and CPU splat passes read these records, so both paths share this arithmetic.
pub fn face_pass(kind: Kind, verts: &[f32], faces: &[u32], rest: &RestFaces) -> Vec<f32> {
    let stride = face_stride(kind);
    let mut out = vec![0f32; stride * (faces.len() / 3)];
    let vertex = (kind == Kind::SplattingAvatar).then(|| vertex_pass(verts, faces, &rest.frames));
    for (f, (t, rec)) in faces
        .chunks_exact(3)
        .zip(out.chunks_exact_mut(stride))
        .enumerate()
    {
        let (a, b, c) = (vert(verts, t[0]), vert(verts, t[1]), vert(verts, t[2]));
        rec[0..3].copy_from_slice(&a);
        rec[3..6].copy_from_slice(&b);
        rec[6..9].copy_from_slice(&c);
        if !face_ok(a, b, c) {
            continue;
        }
        rec[stride - 1] = 1.0;
        match kind {
            Kind::GaussianAvatars => {
                let (a0, a1, a2, k) = ga_frame(a, b, c);
                rec[9..12].copy_from_slice(&mul(a0, k));
                rec[12..15].copy_from_slice(&mul(a1, k));
                rec[15..18].copy_from_slice(&mul(a2, k));
                rec[18..22].copy_from_slice(&quat_of(a0, a1, a2));
                rec[22] = k.ln();
            }
            Kind::SplattingAvatar => {
                let (normals, quats) = vertex.as_ref().expect("computed for this kind");
                let q = |i: u32| -> [f32; 4] {
                    let o = 4 * i as usize;
                    [quats[o], quats[o + 1], quats[o + 2], quats[o + 3]]
                };
                let qa = q(t[0]);
                let align = |q: [f32; 4]| {
                    let d = qa[0] * q[0] + qa[1] * q[1] + qa[2] * q[2] + qa[3] * q[3];
                    if d < 0.0 {
                        q.map(|x| -x)
                    } else {
                        q
                    }
                };
                for (k, &i) in t.iter().enumerate() {
                    rec[9 + 3 * k..12 + 3 * k].copy_from_slice(&vert(normals, i));
                }
                rec[18..22].copy_from_slice(&qa);
                rec[22..26].copy_from_slice(&align(q(t[1])));
                rec[26..30].copy_from_slice(&align(q(t[2])));
                let area = 0.5 * length(cross(sub(b, a), sub(c, a)));
                rec[30] = (area + AREA_EPS) / (rest.frames[f].3 + AREA_EPS);
            }
            Kind::Sugar => {
                let (r0, b1, b2) = sugar_frame(a, b, c);
                rec[9..13].copy_from_slice(&quat_of(r0, b1, b2));
                let r = rest.sugar[f];
                if r[4] != 0.0 && r[4].is_finite() {
                    let d = sugar_axes(a, b, c, b1, b2);
                    let dm = [d[0] - r[0], d[1] - r[1], d[2] - r[2], d[3] - r[3]];
                    // R⁻¹ = adj(R) / det R.
                    let inv = [r[3] / r[4], -r[1] / r[4], -r[2] / r[4], r[0] / r[4]];
                    rec[13] = dm[0] * inv[0] + dm[1] * inv[2];
                    rec[14] = dm[0] * inv[1] + dm[1] * inv[3];
                    rec[15] = dm[2] * inv[0] + dm[3] * inv[2];
                    rec[16] = dm[2] * inv[1] + dm[3] * inv[3];
                    rec[17] = (det2(d) / r[4]).abs().ln();
                }
            }
            Kind::Games => {
                let m = mul(add(add(a, b), c), 1.0 / 3.0);
                let r0 = normalize(cross(sub(b, a), sub(c, a)));
                let e1 = sub(b, m);
                let l1 = length(e1);
                let r1 = mul(e1, 1.0 / l1);
                let e2 = sub(c, m);
                let r2 = normalize(sub(sub(e2, mul(r0, dot(e2, r0))), mul(r1, dot(e2, r1))));
                rec[9..13].copy_from_slice(&quat_of(r0, r1, r2));
                rec[13] = (0.5 * l1).ln();
                rec[14] = (0.5 * dot(e2, r2)).ln();
            }
        }
    }
    out
}

/// One splat's world mean, rotation (w, x, y, z) and log-scales from its rest record `r` and
/// the face records of [`face_pass`] (the splat pass; `meshbound.comp` is the same
/// arithmetic in the same order).
pub fn splat(kind: Kind, editable: bool, r: &[f32], records: &[f32]) -> (V3, [f32; 4], V3) {
    let stride = face_stride(kind);
    let o = stride * r[0] as usize;
    let rec = &records[o..o + stride];
    let (a, b, c) = (
        [rec[0], rec[1], rec[2]],
        [rec[3], rec[4], rec[5]],
        [rec[6], rec[7], rec[8]],
    );
    let w = [r[1], r[2], r[3]];
    let bary = add(add(mul(a, w[0]), mul(b, w[1])), mul(c, w[2]));
    if rec[stride - 1] == 0.0 {
        return (bary, [1.0, 0.0, 0.0, 0.0], [HIDDEN_LOG_SCALE; 3]);
    }
    let v3 = |i: usize| [rec[i], rec[i + 1], rec[i + 2]];
    let v4 = |i: usize| [rec[i], rec[i + 1], rec[i + 2], rec[i + 3]];
    let ql = [r[7], r[8], r[9], r[10]];
    let ls = [r[11], r[12], r[13]];
    match kind {
        Kind::GaussianAvatars => {
            let local = add(add(mul(v3(9), r[4]), mul(v3(12), r[5])), mul(v3(15), r[6]));
            let lk = rec[22];
            (
                add(local, bary),
                hamilton(v4(18), ql),
                [ls[0] + lk, ls[1] + lk, ls[2] + lk],
            )
        }
        Kind::SplattingAvatar => {
            let n = add(add(mul(v3(9), w[0]), mul(v3(12), w[1])), mul(v3(15), w[2]));
            let ln = length(n);
            let n = if ln > 0.0 { mul(n, 1.0 / ln) } else { n };
            let mean = add(bary, mul(n, r[4]));
            let (qa, qb, qc) = (v4(18), v4(22), v4(26));
            let s: [f32; 4] = std::array::from_fn(|k| qa[k] * w[0] + qb[k] * w[1] + qc[k] * w[2]);
            let len = (s[0] * s[0] + s[1] * s[1] + s[2] * s[2] + s[3] * s[3]).sqrt();
            let s = s.map(|x| x / len);
            let ratio = rec[30];
            (
                mean,
                hamilton(s, ql),
                [ls[0] * ratio, ls[1] * ratio, ls[2] * ratio],
            )
        }
        Kind::Sugar => {
            let cl = (ql[0] * ql[0] + ql[1] * ql[1]).sqrt();
            let (mut ca, mut sa) = (ql[0] / cl, ql[1] / cl);
            let mut out = ls;
            if editable {
                // g = F·t with t = (cos θ, sin θ) the splat's first in-plane axis: its new
                // direction and stretch; the second axis keeps the area change det F.
                let g0 = ca + (rec[13] * ca + rec[14] * sa);
                let g1 = sa + (rec[15] * ca + rec[16] * sa);
                let lt = (ca * ca + sa * sa).sqrt();
                let lg = (g0 * g0 + g1 * g1).sqrt();
                let f = lg / lt;
                let u = lt / lg;
                ca = g0 * u;
                sa = g1 * u;
                let lf = f.ln();
                out = [ls[0], ls[1] + lf, ls[2] + (rec[17] - lf)];
            }
            (bary, hamilton(v4(9), half_angle_x(ca, sa)), out)
        }
        Kind::Games => (
            bary,
            v4(9),
            [r[14] + GAMES_EPS.ln(), r[14] + rec[13], r[14] + rec[14]],
        ),
    }
}

/// The quaternion of the rotation by θ about the first axis, from (cos θ, sin θ): the
/// in-plane rotation of a SuGaR splat within its face frame, so that
/// q([r₀, B₁cosθ + B₂sinθ, B₂cosθ − B₁sinθ]) = q([r₀ B₁ B₂]) ⊗ this.
fn half_angle_x(c: f32, s: f32) -> [f32; 4] {
    // The larger of cos(θ/2) and sin(θ/2) from a square root, the other from sin θ.
    if c >= 0.0 {
        let w = (0.5 * (1.0 + c)).sqrt();
        [w, s / (2.0 * w), 0.0, 0.0]
    } else {
        let x = (0.5 * (1.0 - c)).sqrt();
        [s / (2.0 * x), x, 0.0, 0.0]
    }
}

/// The rest frame of each face for the SplattingAvatar vertex pass: GaussianAvatars' columns
/// and the area (0 for a degenerate face).
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

/// A non-degenerate face for [`nearest_faces`]: its index and corners (f64).
type Tri = (u32, [DVec3; 3]);

fn nearest_tris(vertices: &[f32], faces: &[u32]) -> Vec<Tri> {
    let d = |v: V3| DVec3::new(v[0] as f64, v[1] as f64, v[2] as f64);
    faces
        .chunks_exact(3)
        .enumerate()
        .filter_map(|(f, t)| {
            let (a, b, c) = (
                vert(vertices, t[0]),
                vert(vertices, t[1]),
                vert(vertices, t[2]),
            );
            face_ok(a, b, c).then(|| (f as u32, [d(a), d(b), d(c)]))
        })
        .collect()
}

/// Most cells of the nearest-face grid.
const GRID_MAX_CELLS: usize = 1 << 23;

/// A uniform grid over the triangles' bounding box; each cell lists the triangles whose
/// bounding box overlaps it (CSR: `start[c]..start[c + 1]` into `items`).
struct Grid {
    lo: DVec3,
    cell: DVec3,
    dims: [usize; 3],
    start: Vec<u32>,
    items: Vec<u32>,
}

impl Grid {
    fn new(tris: &[Tri]) -> Grid {
        let mut lo = DVec3::splat(f64::INFINITY);
        let mut hi = DVec3::splat(f64::NEG_INFINITY);
        for (_, t) in tris {
            for p in t {
                lo = lo.min(*p);
                hi = hi.max(*p);
            }
        }
        let ext = hi - lo;
        // About two cells per triangle: the largest cell edge h with Π⌈ext/h⌉ ≥ 2T (bisection;
        // flat meshes get a 2D grid).
        let cells_for = |h: f64| -> f64 {
            (0..3)
                .map(|k| (ext[k] / h).ceil().max(1.0))
                .product::<f64>()
        };
        let want = (2 * tris.len()).clamp(1, GRID_MAX_CELLS) as f64;
        let (mut a, mut b) = (
            ext.max_element() * 1e-9,
            ext.max_element().max(f64::MIN_POSITIVE),
        );
        for _ in 0..64 {
            let m = 0.5 * (a + b);
            if cells_for(m) > want {
                a = m;
            } else {
                b = m;
            }
        }
        let h = b;
        let dims: [usize; 3] = std::array::from_fn(|k| ((ext[k] / h).ceil().max(1.0)) as usize);
        let cell = DVec3::new(
            (ext.x / dims[0] as f64).max(f64::MIN_POSITIVE),
            (ext.y / dims[1] as f64).max(f64::MIN_POSITIVE),
            (ext.z / dims[2] as f64).max(f64::MIN_POSITIVE),
        );
        let mut g = Grid {
            lo,
            cell,
            dims,
            start: vec![0; dims[0] * dims[1] * dims[2] + 1],
            items: Vec::new(),
        };
        // Two passes over the triangles' cell ranges: count, then fill.
        for pass in 0..2 {
            let mut fill = g.start.clone();
            for (k, (_, t)) in tris.iter().enumerate() {
                let (a, b) = g.range(t);
                for z in a[2]..=b[2] {
                    for y in a[1]..=b[1] {
                        for x in a[0]..=b[0] {
                            let c = g.index([x, y, z]);
                            if pass == 0 {
                                g.start[c + 1] += 1;
                            } else {
                                g.items[fill[c] as usize] = k as u32;
                                fill[c] += 1;
                            }
                        }
                    }
                }
            }
            if pass == 0 {
                for c in 1..g.start.len() {
                    g.start[c] += g.start[c - 1];
                }
                g.items = vec![0; *g.start.last().unwrap_or(&0) as usize];
            }
        }
        g
    }

    fn index(&self, c: [usize; 3]) -> usize {
        (c[2] * self.dims[1] + c[1]) * self.dims[0] + c[0]
    }

    /// The cell holding p, clamped into the grid.
    fn cell_of(&self, p: DVec3) -> [usize; 3] {
        std::array::from_fn(|k| {
            let x = ((p[k] - self.lo[k]) / self.cell[k]).floor();
            x.clamp(0.0, (self.dims[k] - 1) as f64) as usize
        })
    }

    fn range(&self, t: &[DVec3; 3]) -> ([usize; 3], [usize; 3]) {
        let lo = t[0].min(t[1]).min(t[2]);
        let hi = t[0].max(t[1]).max(t[2]);
        (self.cell_of(lo), self.cell_of(hi))
    }

    /// The nearest triangle to p: smallest distance, then smallest face index (what the brute
    /// force over faces in order gives). Searches Chebyshev rings of cells around p's
    /// (clamped) cell; after ring r every unvisited triangle lies outside the visited cube of
    /// cells, so the search stops once the best distance is below p's distance to the cube's
    /// open sides. A triangle whose bounding box is farther than the best is not tested.
    fn nearest(&self, tris: &[Tri], p: DVec3, seen: &mut [u32], stamp: u32) -> u32 {
        let c = self.cell_of(p);
        let rmax = self.dims.iter().max().copied().unwrap_or(1);
        // Slack for the rounding of cell indices near cell borders.
        let slack = 1e-9 * (self.cell.max_element() * rmax as f64);
        let mut best = (f64::INFINITY, u32::MAX);
        let mut visit = |x: usize, y: usize, z: usize, best: &mut (f64, u32)| {
            let cell = self.index([x, y, z]);
            for &k in &self.items[self.start[cell] as usize..self.start[cell + 1] as usize] {
                if seen[k as usize] == stamp {
                    continue;
                }
                seen[k as usize] = stamp;
                let (f, t) = &tris[k as usize];
                // The distance to the triangle's box bounds the distance to it from below
                // (a small margin keeps exact ties for the exact test).
                let (blo, bhi) = (t[0].min(t[1]).min(t[2]), t[0].max(t[1]).max(t[2]));
                let dbox = (blo - p).max(p - bhi).max(DVec3::ZERO).length();
                if dbox > best.0 * (1.0 + 1e-9) {
                    continue;
                }
                let d = point_triangle(p, t);
                if d < best.0 || (d == best.0 && *f < best.1) {
                    *best = (d, *f);
                }
            }
        };
        let span =
            |lo: isize, hi: isize, n: usize| lo.max(0) as usize..=hi.min(n as isize - 1) as usize;
        for r in 0..=rmax {
            let lo: [isize; 3] = std::array::from_fn(|k| c[k] as isize - r as isize);
            let hi: [isize; 3] = std::array::from_fn(|k| c[k] as isize + r as isize);
            for z in span(lo[2], hi[2], self.dims[2]) {
                for y in span(lo[1], hi[1], self.dims[1]) {
                    let (zi, yi) = (z as isize, y as isize);
                    if zi != lo[2] && zi != hi[2] && yi != lo[1] && yi != hi[1] {
                        // Inside the shell's (y, z) range only its two x ends are new.
                        for x in [lo[0], hi[0]] {
                            if x >= 0 && x < self.dims[0] as isize {
                                visit(x as usize, y, z, &mut best);
                            }
                        }
                    } else {
                        for x in span(lo[0], hi[0], self.dims[0]) {
                            visit(x, y, z, &mut best);
                        }
                    }
                }
            }
            // The distance from p to the cells outside the visited cube (none beyond the
            // grid's sides).
            let mut reach = f64::INFINITY;
            for k in 0..3 {
                if lo[k] > 0 {
                    reach = reach.min(p[k] - (self.lo[k] + lo[k] as f64 * self.cell[k]));
                }
                if hi[k] + 1 < self.dims[k] as isize {
                    reach = reach.min(self.lo[k] + (hi[k] + 1) as f64 * self.cell[k] - p[k]);
                }
            }
            if best.0 < reach - slack || reach == f64::INFINITY {
                break;
            }
        }
        // Only a non-finite point finds nothing: give it the first usable face.
        if best.1 == u32::MAX {
            tris[0].0
        } else {
            best.1
        }
    }
}

/// The face nearest to each point, by distance to the triangle (exact: a uniform grid over
/// the triangles, searched ring by ring until no closer triangle can remain; ties go to the
/// lowest face index). Degenerate faces are never chosen; None when every face is
/// degenerate. Points are split over the available cores.
pub fn nearest_faces(vertices: &[f32], faces: &[u32], points: &[V3]) -> Option<Vec<u32>> {
    let tris = nearest_tris(vertices, faces);
    if tris.is_empty() {
        return None;
    }
    let grid = Grid::new(&tris);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(16);
    let chunk = points.len().div_ceil(threads).max(1);
    let mut out = vec![0u32; points.len()];
    std::thread::scope(|s| {
        for (ps, os) in points.chunks(chunk).zip(out.chunks_mut(chunk)) {
            let (grid, tris) = (&grid, &tris);
            s.spawn(move || {
                let mut seen = vec![0u32; tris.len()];
                for (i, (p, o)) in ps.iter().zip(os.iter_mut()).enumerate() {
                    let p = DVec3::new(p[0] as f64, p[1] as f64, p[2] as f64);
                    // Stamps start at 1 (0 = never seen); wrap-around is out of reach (≤ 16 M points).
                    *o = grid.nearest(tris, p, &mut seen, i as u32 + 1);
                }
            });
        }
    });
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

#[cfg(test)]
mod tests {
    use super::*;
    use glam::{DQuat, DVec3};

    /// A small deterministic generator (xorshift64*), uniform in [0, 1).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f32 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            ((self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32) / (1u64 << 24) as f32
        }
    }

    /// The reference: every face in order, strictly closer wins (ties: lowest index).
    fn nearest_brute(vertices: &[f32], faces: &[u32], points: &[V3]) -> Vec<u32> {
        let tris = nearest_tris(vertices, faces);
        points
            .iter()
            .map(|p| {
                let p = DVec3::new(p[0] as f64, p[1] as f64, p[2] as f64);
                let mut best = (f64::INFINITY, 0u32);
                for (f, t) in &tris {
                    let d = point_triangle(p, t);
                    if d < best.0 {
                        best = (d, *f);
                    }
                }
                best.1
            })
            .collect()
    }

    #[test]
    fn nearest_face_grid_equals_brute_force() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        // Random triangles of mixed sizes in a box (one of them huge, some degenerate), and a
        // flat grid mesh (a 2D grid of cells), with points inside, near and far outside.
        let mut v = Vec::new();
        let mut f = Vec::new();
        for t in 0..300u32 {
            let c = [rng.next() * 4.0, rng.next() * 2.0, rng.next()];
            let size = if t == 7 { 3.0 } else { 0.05 + 0.3 * rng.next() };
            for _ in 0..3 {
                for c in c {
                    v.push(c + size * (rng.next() - 0.5));
                }
            }
            f.extend([
                3 * t,
                3 * t + 1,
                if t % 50 == 3 { 3 * t } else { 3 * t + 2 },
            ]);
        }
        let n = 20u32;
        let base = (v.len() / 3) as u32;
        for j in 0..n {
            for i in 0..n {
                v.extend([i as f32 * 0.1, j as f32 * 0.1, 2.0]);
            }
        }
        for j in 0..n - 1 {
            for i in 0..n - 1 {
                let a = base + j * n + i;
                f.extend([a, a + 1, a + n, a + 1, a + n + 1, a + n]);
            }
        }
        let points: Vec<V3> = (0..3000)
            .map(|k| {
                let s = if k % 10 == 0 { 12.0 } else { 5.0 };
                [
                    s * (rng.next() - 0.3),
                    s * (rng.next() - 0.3),
                    s * (rng.next() - 0.3),
                ]
            })
            .chain([[0.1, 0.1, 2.0], [0.05, 0.05, 2.0], [100.0, -50.0, 7.0]])
            .collect();
        let got = nearest_faces(&v, &f, &points).unwrap();
        let want = nearest_brute(&v, &f, &points);
        assert_eq!(got, want);
        // Every face degenerate: no answer.
        assert!(nearest_faces(&[0.0; 9], &[0, 1, 2], &points).is_none());
    }

    /// The benchmark mesh of the README's "Cost" note: a 71 × 71 grid on [−1, 1]², 9 800
    /// triangles, z = 0.1·sin 3x.
    fn bench_grid() -> (Vec<f32>, Vec<u32>) {
        let n = 71u32;
        let mut v = Vec::new();
        for j in 0..n {
            for i in 0..n {
                let (x, y) = (i as f32 / 35.0 - 1.0, j as f32 / 35.0 - 1.0);
                v.extend([x, y, 0.1 * (3.0 * x).sin()]);
            }
        }
        let mut f = Vec::new();
        for j in 0..n - 1 {
            for i in 0..n - 1 {
                let a = j * n + i;
                f.extend([a, a + 1, a + n, a + 1, a + n + 1, a + n]);
            }
        }
        (v, f)
    }

    /// Host cost of the face pass per frame on the benchmark mesh, per kind (median of 9;
    /// `cargo test --workspace --lib -- --ignored face_pass_timing --nocapture`).
    #[test]
    #[ignore]
    fn face_pass_timing() {
        let (v, f) = bench_grid();
        let rest = RestFaces::new(&v, &f);
        let bent: Vec<f32> = v.iter().map(|x| x * 1.1).collect();
        for kind in [
            Kind::GaussianAvatars,
            Kind::SplattingAvatar,
            Kind::Sugar,
            Kind::Games,
        ] {
            let mut t: Vec<f64> = (0..9)
                .map(|_| {
                    let s = std::time::Instant::now();
                    let r = face_pass(kind, &bent, &f, &rest);
                    assert_eq!(r.len(), face_stride(kind) * f.len() / 3);
                    s.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            t.sort_by(f64::total_cmp);
            println!(
                "{kind:?}: face pass {:.2} ms for {} faces",
                t[4],
                f.len() / 3
            );
        }
    }

    /// Open-time cost of the nearest-face binding: 1 M points on a 9 800-triangle grid
    /// (`cargo test --workspace --release --lib -- --ignored nearest_face_timing --nocapture`).
    #[test]
    #[ignore]
    fn nearest_face_timing() {
        let (v, f) = bench_grid();
        let mut rng = Rng(7);
        let points: Vec<V3> = (0..1_000_000)
            .map(|_| {
                [
                    2.0 * rng.next() - 1.0,
                    2.0 * rng.next() - 1.0,
                    0.2 * rng.next() - 0.1,
                ]
            })
            .collect();
        let t = std::time::Instant::now();
        let got = nearest_faces(&v, &f, &points).unwrap();
        println!(
            "grid: {:?} for 1 M points, {} faces",
            t.elapsed(),
            f.len() / 3
        );
        let t = std::time::Instant::now();
        let want = nearest_brute(&v, &f, &points[..10_000]);
        println!("brute force: {:?} for 10 k points", t.elapsed());
        assert_eq!(&got[..10_000], &want[..]);
    }

    fn axes(q: [f32; 4]) -> [DVec3; 3] {
        let q = DQuat::from_xyzw(q[1] as f64, q[2] as f64, q[3] as f64, q[0] as f64).normalize();
        [q * DVec3::X, q * DVec3::Y, q * DVec3::Z]
    }

    /// One SuGaR splat on triangle `rest` deformed to `def` (rest form, editable form).
    fn sugar(rest: &[f32; 9], def: &[f32; 9], theta: f32) -> [(V3, [f32; 4], V3); 2] {
        let faces = [0u32, 1, 2];
        let mut r = [0f32; REST];
        r[1..4].copy_from_slice(&[0.2, 0.3, 0.5]);
        r[7..11].copy_from_slice(&[theta.cos(), theta.sin(), 0.0, 0.0]);
        r[11..14].copy_from_slice(&[-9.0, -2.0, -3.0]);
        let rf = RestFaces::new(rest, &faces);
        let rec = face_pass(Kind::Sugar, def, &faces, &rf);
        [
            splat(Kind::Sugar, false, &r, &rec),
            splat(Kind::Sugar, true, &r, &rec),
        ]
    }

    const TRI: [f32; 9] = [0.1, 0.2, 0.3, 1.3, 0.1, 0.3, 0.4, 0.9, 0.3];

    #[test]
    fn sugar_editable_identity_is_the_rest_form() {
        for theta in [0.0f32, 0.7, 2.0, -2.9] {
            let [rest, edit] = sugar(&TRI, &TRI, theta);
            assert_eq!(rest, edit, "theta {theta}");
            assert_eq!(edit.2, [-9.0, -2.0, -3.0]);
        }
    }

    #[test]
    fn sugar_editable_stretch_scales_the_matching_axis() {
        // Stretch by 2 along x (the plane is z = 0.3). The splat's first in-plane axis is B₁
        // (θ = 0) or B₂ (θ = π/2); B₁ = n̂(a − b) is not along x, so take a triangle whose
        // first edge is: then B₁ = −x, B₂ = ±y.
        let tri = [0.0, 0.0, 0.3, 1.0, 0.0, 0.3, 0.3, 0.8, 0.3];
        let stretched: [f32; 9] =
            std::array::from_fn(|k| if k % 3 == 0 { 2.0 * tri[k] } else { tri[k] });
        let ln2 = 2f32.ln();
        let [_, along] = sugar(&tri, &stretched, 0.0);
        assert!((along.2[1] - (-2.0 + ln2)).abs() < 1e-6, "{:?}", along.2);
        assert!((along.2[2] - (-3.0)).abs() < 1e-6, "{:?}", along.2);
        assert_eq!(along.2[0], -9.0);
        let [_, across] = sugar(&tri, &stretched, std::f32::consts::FRAC_PI_2);
        assert!((across.2[1] - (-2.0)).abs() < 1e-6, "{:?}", across.2);
        assert!((across.2[2] - (-3.0 + ln2)).abs() < 1e-6, "{:?}", across.2);
        // The axes stay where they were (x and y).
        let a = axes(along.1);
        assert!(a[1].dot(DVec3::X).abs() > 1.0 - 1e-6, "{a:?}");
        // The rest form ignores the stretch.
        let [rest, _] = sugar(&tri, &stretched, 0.0);
        assert_eq!(rest.2, [-9.0, -2.0, -3.0]);
    }

    #[test]
    fn sugar_editable_follows_in_plane_rotation_and_shear() {
        // A rigid rotation of the triangle about its normal by φ: the splat's axes rotate by
        // φ, scales unchanged.
        let phi = 0.6f64;
        let rot = DQuat::from_rotation_z(phi);
        let turn = |t: &[f32; 9]| -> [f32; 9] {
            let mut o = [0f32; 9];
            for k in 0..3 {
                let p = rot * DVec3::new(t[3 * k] as f64, t[3 * k + 1] as f64, t[3 * k + 2] as f64);
                o[3 * k..3 * k + 3].copy_from_slice(&p.as_vec3().to_array());
            }
            o
        };
        for theta in [0.3f32, 1.9] {
            let [rest, _] = sugar(&TRI, &TRI, theta);
            let [_, moved] = sugar(&TRI, &turn(&TRI), theta);
            for k in 0..3 {
                assert!((moved.2[k] - rest.2[k]).abs() < 1e-5, "{:?}", moved.2);
                let (a, b) = (axes(rest.1)[k], axes(moved.1)[k]);
                assert!((rot * a).distance(b) < 1e-5, "theta {theta} axis {k}");
            }
        }
        // A shear that keeps the edge a→b and slides c along it: the first in-plane axis turns
        // to F·t (F the face's affine map), its log-scale grows by ln|F·t|, and the two
        // in-plane log-scales together by ln det F = 0.
        let tri = [0.0, 0.0, 0.3, 1.0, 0.0, 0.3, 0.3, 0.8, 0.3];
        let mut sheared = tri;
        sheared[6] += 0.4;
        // F (in xy): x' = x + 0.5·y.
        let f = |v: DVec3| DVec3::new(v.x + 0.5 * v.y, v.y, v.z);
        for theta in [0.0f32, 0.8, 2.5] {
            let [rest, _] = sugar(&tri, &tri, theta);
            let [_, edit] = sugar(&tri, &sheared, theta);
            let t = axes(rest.1)[1];
            let g = f(t);
            let got = axes(edit.1)[1];
            assert!(
                got.distance(g.normalize()) < 1e-5,
                "theta {theta}: {got} vs {g}"
            );
            assert!(((edit.2[1] - rest.2[1]) as f64 - g.length().ln()).abs() < 1e-5);
            assert!(((edit.2[1] + edit.2[2]) - (rest.2[1] + rest.2[2])).abs() < 1e-5);
            // Still flat on the face: the normal axis is z.
            assert!(axes(edit.1)[0].dot(DVec3::Z).abs() > 1.0 - 1e-6);
        }
    }
}
