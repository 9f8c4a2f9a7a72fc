//! CPU reference renderer: the test oracle for the GPU pipeline.
//!
//! Implements ARCHITECTURE.md, "Rendering rules" directly from the formulas, one splat and one
//! pixel at a time, in f32. Every threshold, clamp and comparison direction here is part of
//! the contract the GPU shaders follow.
//!
//! Comparisons are written so that NaN culls (`!(x > 0)`), hence the lint allowance.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::needless_range_loop)]

use crate::types::{
    tile_grid, Frame, ProjectedSplat, RenderMode, RenderSettings, SplatExtras, TILE_SIZE,
};
use vksplat_io::math::sigmoid;
use vksplat_io::{Camera, Projection, Splats};

/// SH band constants (ARCHITECTURE.md, "Rendering rules"), written at full precision and
/// rounded to f32.
const SH_C0: f32 = 0.282_094_791_773_878_14_f64 as f32;
const SH_C1: f32 = 0.488_602_511_902_919_9_f64 as f32;
const SH_C2: [f32; 5] = [
    1.092_548_430_592_079_2_f64 as f32,
    -1.092_548_430_592_079_2_f64 as f32,
    0.315_391_565_252_520_05_f64 as f32,
    -1.092_548_430_592_079_2_f64 as f32,
    0.546_274_215_296_039_6_f64 as f32,
];
const SH_C3: [f32; 7] = [
    -0.590_043_589_926_643_5_f64 as f32,
    2.890_611_442_640_554_f64 as f32,
    -0.457_045_799_464_465_8_f64 as f32,
    0.373_176_332_590_115_4_f64 as f32,
    -0.457_045_799_464_465_8_f64 as f32,
    1.445_305_721_320_277_f64 as f32,
    -0.590_043_589_926_643_5_f64 as f32,
];

/// Low-pass dilation added to the diagonal of the 2D covariance.
pub const BLUR: f32 = 0.3;
/// Smallest α that contributes to a pixel.
pub const ALPHA_MIN: f32 = 1.0 / 255.0;
/// Transmittance threshold for early termination.
pub const T_MIN: f32 = 1e-4;
/// `Khr` mode: the Gaussian's power −½·d² at Mahalanobis distance d = 3, the ellipse kernel's
/// cut-off; pixels with a lower power get nothing.
pub const KHR_MIN_POWER: f32 = -4.5;

/// α clamp for a mode: 0.999 (gsplat classic/antialiased) or 0.99 (INRIA).
pub fn alpha_max(mode: RenderMode) -> f32 {
    match mode {
        RenderMode::Classic | RenderMode::Antialiased | RenderMode::Khr => 0.999,
        RenderMode::Inria => 0.99,
    }
}

/// Principal point a mode uses: the camera's for gsplat classic/antialiased,
/// the image centre (W/2, H/2) for INRIA.
pub fn principal_point(cam: &Camera, mode: RenderMode) -> [f32; 2] {
    match mode {
        RenderMode::Classic | RenderMode::Antialiased | RenderMode::Khr => [cam.cx, cam.cy],
        RenderMode::Inria => [cam.width as f32 / 2.0, cam.height as f32 / 2.0],
    }
}

type M3 = [[f32; 3]; 3];

fn mat3_mul(a: &M3, b: &M3) -> M3 {
    let mut r = [[0.0f32; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            r[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j];
        }
    }
    r
}

fn mat3_transpose(a: &M3) -> M3 {
    let mut r = [[0.0f32; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            r[i][j] = a[j][i];
        }
    }
    r
}

/// Rotation matrix of a normalised quaternion (w, x, y, z).
fn quat_to_rot(q: [f32; 4]) -> M3 {
    let [w, x, y, z] = q;
    [
        [
            1.0 - 2.0 * (y * y + z * z),
            2.0 * (x * y - w * z),
            2.0 * (x * z + w * y),
        ],
        [
            2.0 * (x * y + w * z),
            1.0 - 2.0 * (x * x + z * z),
            2.0 * (y * z - w * x),
        ],
        [
            2.0 * (x * z - w * y),
            2.0 * (y * z + w * x),
            1.0 - 2.0 * (x * x + y * y),
        ],
    ]
}

/// Rotation part W and translation t of the world→camera matrix.
fn view_parts(cam: &Camera) -> (M3, [f32; 3]) {
    let m = &cam.world_to_camera;
    let w = [
        [m[0][0], m[0][1], m[0][2]],
        [m[1][0], m[1][1], m[1][2]],
        [m[2][0], m[2][1], m[2][2]],
    ];
    (w, [m[0][3], m[1][3], m[2][3]])
}

/// World → camera of point `p`, R·p + t, in gsplat 1.5.3's f32 operation order: each row
/// `fma(R[r][2], z, fma(R[r][0], x, R[r][1]·y)) + t[r]` (glm's mat3 × vec3 as nvcc compiles
/// it with fused multiply-adds; preprocess.comp's `view_coord` explains the nesting). The
/// depth (row 2) is the sort key, so near-equal depths order as gsplat orders them.
pub fn camera_point(cam: &Camera, p: [f32; 3]) -> [f32; 3] {
    let (w, t) = view_parts(cam);
    [0, 1, 2].map(|r| w[r][2].mul_add(p[2], w[r][0].mul_add(p[0], w[r][1] * p[1])) + t[r])
}

/// Camera centre in world space: −Wᵀ·t.
pub fn camera_centre(cam: &Camera) -> [f32; 3] {
    let (w, t) = view_parts(cam);
    let mut c = [0.0f32; 3];
    for (j, cj) in c.iter_mut().enumerate() {
        *cj = -(w[0][j] * t[0] + w[1][j] * t[1] + w[2][j] * t[2]);
    }
    c
}

/// Evaluate the SH colour of splat `i` for a unit view direction `dir`, then
/// apply `max(rgb + 0.5, 0)` per channel. Degrees above 3 use only bands 0–3.
pub fn sh_color(splats: &Splats, i: usize, dir: [f32; 3]) -> [f32; 3] {
    let deg = splats.sh_degree;
    let k_count = ((deg + 1) * (deg + 1)) as usize;
    let base = i * k_count * 3;
    let coef = |k: usize, c: usize| splats.sh[base + k * 3 + c];
    let [x, y, z] = dir;
    let mut rgb = [0.0f32; 3];
    for (c, out) in rgb.iter_mut().enumerate() {
        let mut v = SH_C0 * coef(0, c);
        if deg >= 1 {
            v = v
                + (-SH_C1 * y) * coef(1, c)
                + (SH_C1 * z) * coef(2, c)
                + (-SH_C1 * x) * coef(3, c);
        }
        if deg >= 2 {
            let (xx, yy, zz) = (x * x, y * y, z * z);
            v = v
                + SH_C2[0] * x * y * coef(4, c)
                + SH_C2[1] * y * z * coef(5, c)
                + SH_C2[2] * (2.0 * zz - xx - yy) * coef(6, c)
                + SH_C2[3] * x * z * coef(7, c)
                + SH_C2[4] * (xx - yy) * coef(8, c);
            if deg >= 3 {
                v = v
                    + SH_C3[0] * y * (3.0 * xx - yy) * coef(9, c)
                    + SH_C3[1] * x * y * z * coef(10, c)
                    + SH_C3[2] * y * (4.0 * zz - xx - yy) * coef(11, c)
                    + SH_C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy) * coef(12, c)
                    + SH_C3[4] * x * (4.0 * zz - xx - yy) * coef(13, c)
                    + SH_C3[5] * z * (xx - yy) * coef(14, c)
                    + SH_C3[6] * x * (xx - 3.0 * yy) * coef(15, c);
            }
        }
        *out = (v + 0.5).max(0.0);
    }
    rgb
}

/// Preprocess one splat; None if culled.
pub fn project_splat(
    splats: &Splats,
    i: usize,
    cam: &Camera,
    mode: RenderMode,
) -> Option<ProjectedSplat> {
    project_splat_ext(splats, &SplatExtras::default(), i, cam, mode)
}

/// 3D covariance Σ3 = M Mᵀ with M = R diag(s), from a quaternion and log scales; None if the
/// quaternion cannot be normalised.
fn covariance_from_rotation_scale(q: [f32; 4], ls: [f32; 3]) -> Option<[[f32; 3]; 3]> {
    let qn = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]).sqrt();
    if !(qn > 0.0) || !qn.is_finite() {
        return None;
    }
    let q = [q[0] / qn, q[1] / qn, q[2] / qn, q[3] / qn];
    let s = [ls[0].exp(), ls[1].exp(), ls[2].exp()];
    let mut m = quat_to_rot(q);
    for row in m.iter_mut() {
        for (c, v) in row.iter_mut().enumerate() {
            *v *= s[c];
        }
    }
    Some(mat3_mul(&m, &mat3_transpose(&m)))
}

/// Preprocess one splat with plugin-provided extras (covariance, opacity multiplier).
pub fn project_splat_ext(
    splats: &Splats,
    extras: &SplatExtras,
    i: usize,
    cam: &Camera,
    mode: RenderMode,
) -> Option<ProjectedSplat> {
    let inria = mode == RenderMode::Inria;

    // Activation.
    let sigma3 = match &extras.covariances {
        Some(c) => {
            let [xx, xy, xz, yy, yz, zz] = c[i];
            [[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]]
        }
        None => covariance_from_rotation_scale(splats.rotations[i], splats.log_scales[i])?,
    };
    let mut opacity = sigmoid(splats.opacity_logits[i]);
    if let Some(m) = &extras.opacity_scale {
        opacity *= m[i];
    }

    // Camera space.
    let w = view_parts(cam).0;
    let p = splats.means[i];
    let pc = camera_point(cam, p);
    let z = pc[2];
    if inria {
        if !(z > 0.2) {
            return None;
        }
    } else if !(z >= 0.01) || z > 1e10 {
        return None;
    }

    // Projection with the clamped Jacobian.
    let (fx, fy) = (cam.fx, cam.fy);
    let [cx, cy] = principal_point(cam, mode);
    let (width, height) = (cam.width as f32, cam.height as f32);
    let tan_fovx = 0.5 * width / fx;
    let tan_fovy = 0.5 * height / fy;
    let (tx, ty) = if inria {
        let limx = 1.3 * tan_fovx;
        let limy = 1.3 * tan_fovy;
        (
            z * (pc[0] / z).clamp(-limx, limx),
            z * (pc[1] / z).clamp(-limy, limy),
        )
    } else {
        let lim_x_pos = (width - cx) / fx + 0.3 * tan_fovx;
        let lim_x_neg = cx / fx + 0.3 * tan_fovx;
        let lim_y_pos = (height - cy) / fy + 0.3 * tan_fovy;
        let lim_y_neg = cy / fy + 0.3 * tan_fovy;
        (
            z * lim_x_pos.min((-lim_x_neg).max(pc[0] / z)),
            z * lim_y_pos.min((-lim_y_neg).max(pc[1] / z)),
        )
    };
    let z2 = z * z;
    // Orthographic: no divide by z, so the Jacobian is constant.
    let ortho = cam.projection == Projection::Orthographic;
    let j = if ortho {
        [[fx, 0.0, 0.0], [0.0, fy, 0.0]]
    } else {
        [[fx / z, 0.0, -fx * tx / z2], [0.0, fy / z, -fy * ty / z2]]
    };
    // cov_c = W Σ3 Wᵀ
    let cov_c = mat3_mul(&mat3_mul(&w, &sigma3), &mat3_transpose(&w));
    // Σ2 = J cov_c Jᵀ
    let mut jc = [[0.0f32; 3]; 2];
    for r in 0..2 {
        for c in 0..3 {
            jc[r][c] = j[r][0] * cov_c[0][c] + j[r][1] * cov_c[1][c] + j[r][2] * cov_c[2][c];
        }
    }
    let mut s2 = [[0.0f32; 2]; 2];
    for r in 0..2 {
        for c in 0..2 {
            s2[r][c] = jc[r][0] * j[c][0] + jc[r][1] * j[c][1] + jc[r][2] * j[c][2];
        }
    }
    let (a, b, c) = (s2[0][0], s2[0][1], s2[1][1]);

    // Blur and conic.
    let det_orig = a * c - b * b;
    let a_b = a + BLUR;
    let c_b = c + BLUR;
    let det = a_b * c_b - b * b;
    if !(det > 0.0) {
        return None;
    }
    let compensation = (det_orig / det).max(0.0).sqrt();
    let conic = [c_b / det, -b / det, a_b / det];
    let opacity = if mode == RenderMode::Antialiased {
        opacity * compensation
    } else {
        opacity
    };

    let mean2d = if ortho {
        [fx * pc[0] + cx, fy * pc[1] + cy]
    } else {
        [fx * pc[0] / z + cx, fy * pc[1] / z + cy]
    };

    // Extent and tile rectangle.
    let [tiles_x, tiles_y] = tile_grid(cam.width, cam.height);
    let (txf, tyf) = (tiles_x as f32, tiles_y as f32);
    let ts = TILE_SIZE as f32;
    let (tile_min, tile_max) = if inria {
        let mid = 0.5 * (a_b + c_b);
        let disc = (mid * mid - det).max(0.1).sqrt();
        let l1 = mid + disc;
        let l2 = mid - disc;
        let r = (3.0 * l1.max(l2).sqrt()).ceil();
        let px = mean2d[0] - 0.5;
        let py = mean2d[1] - 0.5;
        let tmin = [
            ((px - r) / ts).trunc().clamp(0.0, txf) as u32,
            ((py - r) / ts).trunc().clamp(0.0, tyf) as u32,
        ];
        let tmax = [
            ((px + r + ts - 1.0) / ts).trunc().clamp(0.0, txf) as u32,
            ((py + r + ts - 1.0) / ts).trunc().clamp(0.0, tyf) as u32,
        ];
        (tmin, tmax)
    } else {
        if opacity < ALPHA_MIN {
            return None;
        }
        // The α ≥ 1/255 extent, at most 3.33σ (gsplat) or the Khr kernel's 3σ cut-off.
        let cap = if mode == RenderMode::Khr {
            3.0f32
        } else {
            3.33
        };
        let extend = cap.min((2.0 * (255.0 * opacity).ln()).sqrt());
        let rx = (extend * a_b.sqrt()).ceil();
        let ry = (extend * c_b.sqrt()).ceil();
        if rx <= 0.0 && ry <= 0.0 {
            return None;
        }
        if mean2d[0] + rx <= 0.0
            || mean2d[0] - rx >= width
            || mean2d[1] + ry <= 0.0
            || mean2d[1] - ry >= height
        {
            return None;
        }
        let tmin = [
            (mean2d[0] / ts - rx / ts).floor().clamp(0.0, txf) as u32,
            (mean2d[1] / ts - ry / ts).floor().clamp(0.0, tyf) as u32,
        ];
        let tmax = [
            (mean2d[0] / ts + rx / ts).ceil().clamp(0.0, txf) as u32,
            (mean2d[1] / ts + ry / ts).ceil().clamp(0.0, tyf) as u32,
        ];
        (tmin, tmax)
    };
    if tile_max[0] <= tile_min[0] || tile_max[1] <= tile_min[1] {
        return None;
    }

    // Colour from SH, view direction from the camera centre to the mean (orthographic: the
    // camera's forward axis, the direction of every ray).
    let cc = camera_centre(cam);
    let d = if ortho {
        w[2]
    } else {
        [p[0] - cc[0], p[1] - cc[1], p[2] - cc[2]]
    };
    let dn = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    let dir = [d[0] / dn, d[1] / dn, d[2] / dn];
    let color = sh_color(splats, i, dir);

    let sort_key = if mode == RenderMode::Khr {
        (pc[0] * pc[0] + pc[1] * pc[1] + pc[2] * pc[2]).sqrt()
    } else {
        z
    };
    let out = ProjectedSplat {
        mean2d,
        conic,
        depth: z,
        sort_key,
        opacity,
        color,
        tile_min,
        tile_max,
    };
    let finite = out.mean2d.iter().all(|v| v.is_finite())
        && out.conic.iter().all(|v| v.is_finite())
        && out.depth.is_finite()
        && out.sort_key.is_finite()
        && out.opacity.is_finite()
        && out.color.iter().all(|v| v.is_finite());
    if !finite {
        return None;
    }
    Some(out)
}

/// Preprocess every splat; index i of the result is splat i.
pub fn project_all(splats: &Splats, cam: &Camera, mode: RenderMode) -> Vec<Option<ProjectedSplat>> {
    project_all_ext(splats, &SplatExtras::default(), cam, mode)
}

/// [`project_all`] with plugin-provided extras.
pub fn project_all_ext(
    splats: &Splats,
    extras: &SplatExtras,
    cam: &Camera,
    mode: RenderMode,
) -> Vec<Option<ProjectedSplat>> {
    (0..splats.means.len())
        .map(|i| project_splat_ext(splats, extras, i, cam, mode))
        .collect()
}

/// Intersections sorted by (tile id, sort key, splat index): returns (tile_id, splat_index)
/// pairs, tile_id = ty * tiles_x + tx.
pub fn sorted_intersections(
    projected: &[Option<ProjectedSplat>],
    width: u32,
    height: u32,
) -> Vec<(u32, u32)> {
    let [tiles_x, _] = tile_grid(width, height);
    let mut keys: Vec<(u32, f32, u32)> = Vec::new();
    for (i, ps) in projected.iter().enumerate() {
        let Some(ps) = ps else { continue };
        for ty in ps.tile_min[1]..ps.tile_max[1] {
            for tx in ps.tile_min[0]..ps.tile_max[0] {
                keys.push((ty * tiles_x + tx, ps.sort_key, i as u32));
            }
        }
    }
    // Stable sort; keys are positive and finite, so total_cmp orders them by value.
    keys.sort_by(|l, r| l.0.cmp(&r.0).then(l.1.total_cmp(&r.1)).then(l.2.cmp(&r.2)));
    keys.into_iter().map(|(t, _, i)| (t, i)).collect()
}

/// Blend one tile row (pixel rows `ty*16 .. min(ty*16+16, height)`) into its output slices.
#[allow(clippy::too_many_arguments)]
fn blend_tile_row(
    ty: u32,
    width: u32,
    height: u32,
    tiles_x: u32,
    ranges: &[(usize, usize)],
    isect: &[(u32, u32)],
    projected: &[Option<ProjectedSplat>],
    settings: &RenderSettings,
    host_depth: Option<&[f32]>,
    rgba: &mut [f32],
    depth: &mut [f32],
) {
    let amax = alpha_max(settings.mode);
    let inria = settings.mode == RenderMode::Inria;
    let khr = settings.mode == RenderMode::Khr;
    let bg = settings.background;
    let level = settings.depth.level();
    let y0 = ty * TILE_SIZE;
    let y1 = (y0 + TILE_SIZE).min(height);
    for tx in 0..tiles_x {
        let (start, end) = ranges[(ty * tiles_x + tx) as usize];
        let list = &isect[start..end];
        let x0 = tx * TILE_SIZE;
        let x1 = (x0 + TILE_SIZE).min(width);
        for py_i in y0..y1 {
            for px_i in x0..x1 {
                let px = px_i as f32 + 0.5;
                let py = py_i as f32 + 0.5;
                let mut t = 1.0f32;
                let mut col = [0.0f32; 3];
                let mut d = 0.0f32;
                // The host's linear depth here (+inf without one; NaN occludes nothing).
                let host_z =
                    host_depth.map_or(f32::INFINITY, |h| h[(py_i * width + px_i) as usize]);
                for &(_, si) in list {
                    let ps = projected[si as usize]
                        .as_ref()
                        .expect("intersection of a culled splat");
                    if ps.depth > host_z {
                        continue; // behind the host's geometry (the far clip plane's rule)
                    }
                    let dx = ps.mean2d[0] - px;
                    let dy = ps.mean2d[1] - py;
                    let [ca, cb, cc] = ps.conic;
                    let power = -0.5 * (ca * dx * dx + cc * dy * dy) - cb * dx * dy;
                    if power > 0.0 || (khr && power < KHR_MIN_POWER) {
                        continue;
                    }
                    let alpha = amax.min(ps.opacity * power.exp());
                    if alpha < ALPHA_MIN {
                        continue;
                    }
                    let next_t = t * (1.0 - alpha);
                    let stop = if inria {
                        next_t < T_MIN
                    } else {
                        next_t <= T_MIN
                    };
                    if stop {
                        break;
                    }
                    let w = alpha * t;
                    for ch in 0..3 {
                        col[ch] += w * ps.color[ch];
                    }
                    match level {
                        None => d += w * ps.depth,
                        // The one splat that takes T across the depth kind's level.
                        Some(l) if t > l && next_t <= l => d = ps.depth,
                        Some(_) => {}
                    }
                    t = next_t;
                }
                let local = ((py_i - y0) * width + px_i) as usize;
                let o = &mut rgba[local * 4..local * 4 + 4];
                for ch in 0..3 {
                    o[ch] = col[ch] + t * bg[ch];
                }
                let a = 1.0 - t;
                o[3] = a;
                depth[local] = match level {
                    None if a > 0.0 => d / a,
                    None => 0.0,
                    Some(_) => d,
                };
            }
        }
    }
}

/// Render a full frame on the CPU.
pub fn render(splats: &Splats, cam: &Camera, settings: &RenderSettings) -> Frame {
    render_ext(splats, &SplatExtras::default(), cam, settings)
}

/// [`render`] with plugin-provided extras.
pub fn render_ext(
    splats: &Splats,
    extras: &SplatExtras,
    cam: &Camera,
    settings: &RenderSettings,
) -> Frame {
    render_occluded(splats, extras, cam, settings, None)
}

/// [`render_ext`] occluded by a host's depth: `host` is one raw value per pixel (rows top
/// first) and the conversion of its convention (`crate::host_depth`); a splat does not blend
/// at a pixel where its camera depth is beyond the host's linear depth.
pub fn render_occluded(
    splats: &Splats,
    extras: &SplatExtras,
    cam: &Camera,
    settings: &RenderSettings,
    host: Option<(&[f32], &crate::host_depth::OccluderParams)>,
) -> Frame {
    let (width, height) = (cam.width, cam.height);
    let host_linear: Option<Vec<f32>> = host.map(|(raw, p)| {
        assert_eq!(
            raw.len(),
            width as usize * height as usize,
            "host depth size"
        );
        raw.iter().map(|&d| p.linear(d)).collect()
    });
    let mut rgba = vec![0.0f32; width as usize * height as usize * 4];
    let mut depth = vec![0.0f32; width as usize * height as usize];
    if width == 0 || height == 0 {
        return Frame {
            width,
            height,
            rgba,
            depth,
        };
    }
    let mut projected = project_all_ext(splats, extras, cam, settings.mode);
    // The clip planes cull by camera depth, like preprocess. Invalid planes, which the GPU
    // renderer refuses (`RenderSettings::clip_range`), clip nothing here.
    if let Ok([near, far]) = settings.clip_range() {
        for p in projected.iter_mut() {
            if p.is_some_and(|p| !(p.depth >= near && p.depth <= far)) {
                *p = None;
            }
        }
    }
    let isect = sorted_intersections(&projected, width, height);
    let [tiles_x, tiles_y] = tile_grid(width, height);
    let n_tiles = (tiles_x * tiles_y) as usize;
    let mut ranges = vec![(0usize, 0usize); n_tiles];
    {
        let mut k = 0;
        while k < isect.len() {
            let tile = isect[k].0;
            let start = k;
            while k < isect.len() && isect[k].0 == tile {
                k += 1;
            }
            ranges[tile as usize] = (start, k);
        }
    }

    let row_px = (TILE_SIZE * width) as usize;
    let mut rows: Vec<(u32, &mut [f32], &mut [f32])> = rgba
        .chunks_mut(row_px * 4)
        .zip(depth.chunks_mut(row_px))
        .enumerate()
        .map(|(ty, (c, d))| (ty as u32, c, d))
        .collect();
    let n_threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(rows.len())
        .max(1);
    // Interleave tile rows across threads for a rough load balance.
    type TileRow<'a> = (u32, &'a mut [f32], &'a mut [f32]);
    let mut groups: Vec<Vec<TileRow>> = (0..n_threads).map(|_| Vec::new()).collect();
    for (k, row) in rows.drain(..).enumerate() {
        groups[k % n_threads].push(row);
    }
    let (ranges, isect, projected) = (&ranges, &isect, &projected);
    let host_linear = host_linear.as_deref();
    std::thread::scope(|scope| {
        for group in groups {
            scope.spawn(move || {
                for (ty, c, d) in group {
                    blend_tile_row(
                        ty,
                        width,
                        height,
                        tiles_x,
                        ranges,
                        isect,
                        projected,
                        settings,
                        host_linear,
                        c,
                        d,
                    );
                }
            });
        }
    });
    Frame {
        width,
        height,
        rgba,
        depth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> [[f32; 4]; 4] {
        [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    }

    fn camera(width: u32, height: u32, f: f32) -> Camera {
        Camera {
            name: "test".to_string(),
            width,
            height,
            fx: f,
            fy: f,
            cx: width as f32 / 2.0,
            cy: height as f32 / 2.0,
            world_to_camera: identity(),
            projection: Default::default(),
        }
    }

    /// Isotropic degree-0 splats: (mean, scale, opacity logit, dc colour coefficients).
    fn splats(items: &[([f32; 3], f32, f32, [f32; 3])]) -> Splats {
        Splats {
            means: items.iter().map(|it| it.0).collect(),
            rotations: items.iter().map(|_| [1.0, 0.0, 0.0, 0.0]).collect(),
            log_scales: items.iter().map(|it| [it.1.ln(); 3]).collect(),
            opacity_logits: items.iter().map(|it| it.2).collect(),
            sh_degree: 0,
            sh: items.iter().flat_map(|it| it.3).collect(),
        }
    }

    fn close(a: f32, b: f32, tol: f32) -> bool {
        (a - b).abs() <= tol * (1.0 + b.abs())
    }

    #[test]
    fn centred_isotropic_splat_classic() {
        let cam = camera(64, 64, 50.0);
        let s = splats(&[([0.0, 0.0, 5.0], 0.1, 2.0, [0.0; 3])]);
        let p = project_splat(&s, 0, &cam, RenderMode::Classic).unwrap();
        assert_eq!(p.mean2d, [32.0, 32.0]);
        // Σ2 diagonal = (fx·s/z)² = 1, plus the 0.3 blur.
        let inv = 1.0 / 1.3;
        assert!(close(p.conic[0], inv, 1e-5), "{:?}", p.conic);
        assert!(p.conic[1].abs() < 1e-6);
        assert!(close(p.conic[2], inv, 1e-5));
        assert_eq!(p.depth, 5.0);
        assert!(close(p.opacity, 1.0 / (1.0 + (-2.0f32).exp()), 1e-6));
        // dc 0 → colour 0.5
        assert_eq!(p.color, [0.5; 3]);
        // extend = sqrt(2 ln(255·0.8808)) ≈ 3.29; rx = ceil(3.29·sqrt(1.3)) = 4;
        // tiles floor(2 − 0.25) = 1 .. ceil(2.25) = 3.
        assert_eq!(p.tile_min, [1, 1]);
        assert_eq!(p.tile_max, [3, 3]);
        assert_eq!(p.tiles_touched(), 4);
    }

    #[test]
    fn antialiased_scales_opacity_by_compensation() {
        let cam = camera(64, 64, 50.0);
        let s = splats(&[([0.0, 0.0, 5.0], 0.1, 2.0, [0.0; 3])]);
        let c = project_splat(&s, 0, &cam, RenderMode::Classic).unwrap();
        let a = project_splat(&s, 0, &cam, RenderMode::Antialiased).unwrap();
        // compensation = sqrt(1·1 / (1.3·1.3)) = 1/1.3
        assert!(close(a.opacity, c.opacity / 1.3, 1e-5));
        assert_eq!(a.conic, c.conic);
    }

    #[test]
    fn inria_extent_and_principal_point() {
        // cx deliberately off-centre: Inria ignores it.
        let mut cam = camera(64, 64, 50.0);
        cam.cx = 10.0;
        cam.cy = 50.0;
        let s = splats(&[([0.0, 0.0, 5.0], 0.1, 2.0, [0.0; 3])]);
        let p = project_splat(&s, 0, &cam, RenderMode::Inria).unwrap();
        assert_eq!(p.mean2d, [32.0, 32.0]);
        // λ = 1.3 + sqrt(max(0.1, 0)) = 1.616; r = ceil(3·sqrt(1.616)) = 4;
        // p = 31.5: min trunc(27.5/16) = 1, max trunc(50.5/16) = 3.
        assert_eq!(p.tile_min, [1, 1]);
        assert_eq!(p.tile_max, [3, 3]);
        let c = project_splat(&s, 0, &cam, RenderMode::Classic).unwrap();
        assert_eq!(c.mean2d, [10.0, 50.0]);
    }

    #[test]
    fn near_culling() {
        let cam = camera(64, 64, 50.0);
        for z in [-1.0, 0.0, 0.005] {
            let s = splats(&[([0.0, 0.0, z], 0.001, 2.0, [0.0; 3])]);
            assert!(
                project_splat(&s, 0, &cam, RenderMode::Classic).is_none(),
                "z={z}"
            );
            assert!(project_splat(&s, 0, &cam, RenderMode::Antialiased).is_none());
            assert!(project_splat(&s, 0, &cam, RenderMode::Inria).is_none());
        }
        let s = splats(&[([0.0, 0.0, 0.15], 0.001, 2.0, [0.0; 3])]);
        assert!(project_splat(&s, 0, &cam, RenderMode::Classic).is_some());
        assert!(project_splat(&s, 0, &cam, RenderMode::Inria).is_none());
        let s = splats(&[([0.0, 0.0, 0.25], 0.001, 2.0, [0.0; 3])]);
        assert!(project_splat(&s, 0, &cam, RenderMode::Inria).is_some());
        let s = splats(&[([0.0, 0.0, 2e10], 0.001, 2.0, [0.0; 3])]);
        assert!(project_splat(&s, 0, &cam, RenderMode::Classic).is_none());
    }

    #[test]
    fn low_opacity_culled_only_in_gsplat_modes() {
        let cam = camera(64, 64, 50.0);
        // sigmoid(−7) ≈ 9.1e-4 < 1/255
        let s = splats(&[([0.0, 0.0, 5.0], 0.1, -7.0, [0.0; 3])]);
        assert!(project_splat(&s, 0, &cam, RenderMode::Classic).is_none());
        assert!(project_splat(&s, 0, &cam, RenderMode::Antialiased).is_none());
        assert!(project_splat(&s, 0, &cam, RenderMode::Inria).is_some());
    }

    #[test]
    fn degenerate_quaternion_culled() {
        let cam = camera(64, 64, 50.0);
        let mut s = splats(&[([0.0, 0.0, 5.0], 0.1, 2.0, [0.0; 3])]);
        s.rotations[0] = [0.0; 4];
        assert!(project_splat(&s, 0, &cam, RenderMode::Classic).is_none());
        s.rotations[0] = [f32::NAN, 0.0, 0.0, 0.0];
        assert!(project_splat(&s, 0, &cam, RenderMode::Classic).is_none());
        // Unnormalised quaternions are normalised.
        s.rotations[0] = [3.0, 0.0, 0.0, 0.0];
        assert!(project_splat(&s, 0, &cam, RenderMode::Classic).is_some());
    }

    #[test]
    fn off_screen_culled() {
        let cam = camera(64, 64, 50.0);
        // x/z = 2 → mean2d.x = 132, far beyond the 64-pixel image.
        let s = splats(&[([10.0, 0.0, 5.0], 0.01, 2.0, [0.0; 3])]);
        assert!(project_splat(&s, 0, &cam, RenderMode::Classic).is_none());
        assert!(project_splat(&s, 0, &cam, RenderMode::Inria).is_none());
    }

    #[test]
    fn rotation_and_anisotropy() {
        // Scale (0.2, 0.1, 0.1) rotated 90° about z: long axis along y.
        let cam = camera(64, 64, 50.0);
        let mut s = splats(&[([0.0, 0.0, 5.0], 0.1, 2.0, [0.0; 3])]);
        s.log_scales[0] = [0.2f32.ln(), 0.1f32.ln(), 0.1f32.ln()];
        let h = std::f32::consts::FRAC_1_SQRT_2;
        s.rotations[0] = [h, 0.0, 0.0, h];
        let p = project_splat(&s, 0, &cam, RenderMode::Classic).unwrap();
        // Σ2 = diag(1, 4) + 0.3
        assert!(close(p.conic[0], 1.0 / 1.3, 1e-4), "{:?}", p.conic);
        assert!(close(p.conic[2], 1.0 / 4.3, 1e-4));
        assert!(p.conic[1].abs() < 1e-5);
    }

    #[test]
    fn sh_degree_one_colour() {
        // Camera centre at (0,0,−2); mean (3,0,2) → p_c = (3,0,4), dir = (0.6, 0, 0.8).
        let mut cam = camera(64, 64, 10.0);
        cam.world_to_camera[2][3] = 2.0;
        let coeffs: [f32; 12] = [
            0.5, -0.2, 1.0, // c0
            0.3, 0.1, -0.4, // c1 (−C1·y)
            0.7, -0.6, 0.2, // c2 (C1·z)
            -0.9, 0.4, 0.05, // c3 (−C1·x)
        ];
        let s = Splats {
            means: vec![[3.0, 0.0, 2.0]],
            rotations: vec![[1.0, 0.0, 0.0, 0.0]],
            log_scales: vec![[0.01f32.ln(); 3]],
            opacity_logits: vec![2.0],
            sh_degree: 1,
            sh: coeffs.to_vec(),
        };
        let p = project_splat(&s, 0, &cam, RenderMode::Classic).unwrap();
        let (x, y, z) = (0.6f32, 0.0f32, 0.8f32);
        for c in 0..3 {
            let v = SH_C0 * coeffs[c] - SH_C1 * y * coeffs[3 + c] + SH_C1 * z * coeffs[6 + c]
                - SH_C1 * x * coeffs[9 + c]
                + 0.5;
            let want = v.max(0.0);
            assert!(
                close(p.color[c], want, 1e-5),
                "{c}: {} vs {want}",
                p.color[c]
            );
        }
        // Channel 1 by hand: 0.28209·(−0.2) + 0.48860·0.8·(−0.6) − 0.48860·0.6·0.4 + 0.5 = 0.091788
        assert!(close(p.color[1], 0.091_788, 1e-4), "{}", p.color[1]);
        // Channel 0 negative before the clamp? 0.141 + 0.274 + 0.264 + 0.5 → positive.
        assert!(p.color[0] > 0.0);
        assert_eq!(p.depth, 4.0);
    }

    #[test]
    fn sh_clamps_at_zero_only() {
        let cam = camera(64, 64, 50.0);
        let s = splats(&[([0.0, 0.0, 5.0], 0.1, 2.0, [-5.0, 0.0, 5.0])]);
        let p = project_splat(&s, 0, &cam, RenderMode::Classic).unwrap();
        assert_eq!(p.color[0], 0.0);
        assert!(close(p.color[1], 0.5, 1e-6));
        assert!(close(p.color[2], SH_C0 * 5.0 + 0.5, 1e-6));
        assert!(p.color[2] > 1.0);
    }

    #[test]
    fn sh_degree_three_constant_direction() {
        // dir = (0,0,1): only bands with pure z survive: c2 (C1), c6 (2·C2[2]), c12 (2·C3[3]).
        let cam = camera(64, 64, 50.0);
        let mut sh = vec![0.0f32; 16 * 3];
        for k in 0..16 {
            sh[k * 3] = 0.1 * (k as f32 + 1.0);
        }
        let s = Splats {
            means: vec![[0.0, 0.0, 5.0]],
            rotations: vec![[1.0, 0.0, 0.0, 0.0]],
            log_scales: vec![[0.1f32.ln(); 3]],
            opacity_logits: vec![2.0],
            sh_degree: 3,
            sh,
        };
        let p = project_splat(&s, 0, &cam, RenderMode::Classic).unwrap();
        let want = SH_C0 * 0.1 + SH_C1 * 0.3 + SH_C2[2] * 2.0 * 0.7 + SH_C3[3] * 2.0 * 1.3 + 0.5;
        assert!(close(p.color[0], want, 1e-5), "{} vs {want}", p.color[0]);
        assert!(close(p.color[1], 0.5, 1e-6));
    }

    #[test]
    fn sorted_order_depth_then_index() {
        let cam = camera(32, 16, 20.0);
        // Splats 0 and 1 at equal depth, 2 nearer; all cover tile 0 (and 2 also tile 1).
        let s = splats(&[
            ([-0.4, 0.0, 5.0], 0.05, 2.0, [0.0; 3]),
            ([-0.4, 0.0, 5.0], 0.05, 2.0, [0.0; 3]),
            ([0.0, 0.0, 4.0], 0.05, 2.0, [0.0; 3]),
            ([0.4, 0.0, 6.0], 0.05, 2.0, [0.0; 3]),
        ]);
        let proj = project_all(&s, &cam, RenderMode::Classic);
        for p in &proj {
            let p = p.unwrap();
            assert_eq!(p.tile_min[1], 0);
            assert_eq!(p.tile_max[1], 1);
        }
        // mean2d.x = 20·x/z + 16: splat 0/1 at 14.4, 2 at 16, 3 at 17.33.
        let isect = sorted_intersections(&proj, 32, 16);
        let total: u32 = proj.iter().map(|p| p.unwrap().tiles_touched()).sum();
        assert_eq!(isect.len() as u32, total);
        let tile0: Vec<u32> = isect.iter().filter(|e| e.0 == 0).map(|e| e.1).collect();
        let tile1: Vec<u32> = isect.iter().filter(|e| e.0 == 1).map(|e| e.1).collect();
        assert_eq!(tile0, vec![2, 0, 1, 3]);
        assert_eq!(tile1, vec![2, 0, 1, 3]);
        assert!(isect.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn tile_ids_row_major() {
        let cam = camera(40, 40, 50.0); // 3×3 tiles
                                        // Put a small splat at pixel (36, 36) → tile (2, 2) = id 8.
        let x = (36.0 - 20.0) / 50.0 * 5.0;
        let s = splats(&[([x, x, 5.0], 0.01, 2.0, [0.0; 3])]);
        let proj = project_all(&s, &cam, RenderMode::Classic);
        let p = proj[0].unwrap();
        assert_eq!(p.tile_min, [2, 2]);
        assert_eq!(p.tile_max, [3, 3]);
        assert_eq!(sorted_intersections(&proj, 40, 40), vec![(8, 0)]);
    }

    fn pixel(f: &Frame, i: u32, j: u32) -> [f32; 4] {
        let k = ((j * f.width + i) * 4) as usize;
        [f.rgba[k], f.rgba[k + 1], f.rgba[k + 2], f.rgba[k + 3]]
    }

    #[test]
    fn render_one_opaque_splat() {
        let cam = camera(64, 48, 50.0);
        // Σ2 diag = (50·1/5)² = 100 (+0.3); colour dc (1, 0, −1) → 0.782, 0.5, 0.218
        let s = splats(&[([0.0, 0.0, 5.0], 1.0, 10.0, [1.0, 0.0, -1.0])]);
        let bg = [0.2, 0.4, 0.6];
        for mode in [
            RenderMode::Classic,
            RenderMode::Antialiased,
            RenderMode::Inria,
        ] {
            let settings = RenderSettings {
                mode,
                background: bg,
                ..Default::default()
            };
            let f = render(&s, &cam, &settings);
            assert_eq!((f.width, f.height), (64, 48));
            assert_eq!(f.rgba.len(), 64 * 48 * 4);
            assert_eq!(f.depth.len(), 64 * 48);
            let p = project_splat(&s, 0, &cam, mode).unwrap();
            // Pixel (31, 23) has its centre 0.5 px from the mean (32, 24).
            let power = -0.5 * (p.conic[0] * 0.25 + p.conic[2] * 0.25) - p.conic[1] * 0.25;
            let alpha = alpha_max(mode).min(p.opacity * power.exp());
            let px = pixel(&f, 31, 23);
            assert!(close(px[3], alpha, 1e-5), "{mode:?}: {} vs {alpha}", px[3]);
            if mode != RenderMode::Antialiased {
                assert!(px[3] > 0.985 && px[3] <= alpha_max(mode) + 1e-6);
            }
            for c in 0..3 {
                let want = alpha * p.color[c] + (1.0 - alpha) * bg[c];
                assert!(close(px[c], want, 1e-5), "{mode:?} ch{c}");
            }
            let d = f.depth[(23 * 64 + 31) as usize];
            assert!(close(d, 5.0, 1e-5), "{d}");
            // Corner: power ≈ −0.5·(31.5² + 23.5²)/100.3 ≈ −7.7 → α < 1/255 → background.
            let c = pixel(&f, 0, 0);
            assert_eq!(c, [bg[0], bg[1], bg[2], 0.0]);
            assert_eq!(f.depth[0], 0.0);
        }
    }

    #[test]
    fn khr_sorts_by_camera_distance() {
        // B is nearer in camera z (4.95 < 5) but farther from the camera centre (5.05 > 5).
        let cam = camera(64, 64, 50.0);
        let s = splats(&[
            ([0.0, 0.0, 5.0], 0.5, 4.0, [0.0; 3]),
            ([1.0, 0.0, 4.95], 0.5, 4.0, [0.0; 3]),
        ]);
        let order = |mode| {
            let proj = project_all(&s, &cam, mode);
            let b = proj[1].unwrap();
            assert_eq!(b.depth, 4.95, "{mode:?}: depth stays camera z");
            let tile = 2 * 4 + 2; // tile (2, 2) holds both centres' neighbourhoods
            sorted_intersections(&proj, 64, 64)
                .into_iter()
                .filter(|&(t, _)| t == tile)
                .map(|(_, i)| i)
                .collect::<Vec<_>>()
        };
        assert_eq!(order(RenderMode::Classic), [1, 0]);
        assert_eq!(order(RenderMode::Khr), [0, 1]);
        let k = project_splat(&s, 1, &cam, RenderMode::Khr).unwrap();
        assert!(close(k.sort_key, (1.0f32 + 4.95 * 4.95).sqrt(), 1e-6));
    }

    #[test]
    fn khr_cuts_at_mahalanobis_three() {
        // Σ2 = 1 + 0.3 (blur) on both axes; opacity ≈ 0.982.
        let cam = camera(64, 64, 50.0);
        let s = splats(&[([0.0, 0.0, 5.0], 0.1, 4.0, [0.0; 3])]);
        let bg = [0.0; 3];
        let frame = |mode| {
            render(
                &s,
                &cam,
                &RenderSettings {
                    mode,
                    background: bg,
                    ..Default::default()
                },
            )
        };
        let (classic, khr) = (frame(RenderMode::Classic), frame(RenderMode::Khr));
        // Pixel (35, 32): offset (3.5, 0.5), Mahalanobis² = 12.5/1.3 ≈ 9.6 > 9, α ≈ 0.008.
        assert!(pixel(&classic, 35, 32)[3] > 1.0 / 255.0);
        assert_eq!(pixel(&khr, 35, 32)[3], 0.0);
        // Pixel (34, 32): Mahalanobis² = 6.5/1.3 = 5, inside: both modes agree exactly.
        assert!(pixel(&khr, 34, 32)[3] > 0.02);
        assert_eq!(pixel(&khr, 34, 32), pixel(&classic, 34, 32));
        // Nothing outside the 3σ ellipse in khr mode.
        let p = project_splat(&s, 0, &cam, RenderMode::Khr).unwrap();
        for y in 0..64u32 {
            for x in 0..64u32 {
                let (dx, dy) = (
                    p.mean2d[0] - (x as f32 + 0.5),
                    p.mean2d[1] - (y as f32 + 0.5),
                );
                let m2 = p.conic[0] * dx * dx + p.conic[2] * dy * dy + 2.0 * p.conic[1] * dx * dy;
                if m2 > 9.0 {
                    assert_eq!(pixel(&khr, x, y)[3], 0.0, "({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn render_occlusion_front_to_back() {
        // Two opaque splats; the nearer one (index 1) dominates the centre.
        let cam = camera(32, 32, 50.0);
        let s = splats(&[
            ([0.0, 0.0, 8.0], 1.0, 10.0, [-10.0, -10.0, 10.0]), // blue, far
            ([0.0, 0.0, 4.0], 0.5, 10.0, [10.0, -10.0, -10.0]), // red, near
        ]);
        let f = render(&s, &cam, &RenderSettings::default());
        let px = pixel(&f, 16, 16);
        assert!(px[0] > 2.0 && px[2] < 0.1, "{px:?}");
        let d = f.depth[16 * 32 + 16];
        assert!(d > 3.99 && d < 4.1, "{d}");
    }

    #[test]
    fn early_termination_rule() {
        // Two nearly coincident opaque splats (red in front, green behind), α ≈ 0.999 each.
        // After the first, T = 1e-3; the second would give 1e-6 ≤ 1e-4 → stop, not added.
        let cam = camera(16, 16, 20.0);
        let s = splats(&[
            ([0.0, 0.0, 5.0], 20.0, 20.0, [10.0, -10.0, -10.0]),
            ([0.0, 0.0, 6.0], 20.0, 20.0, [-10.0, 10.0, -10.0]),
        ]);
        let f = render(&s, &cam, &RenderSettings::default());
        let px = pixel(&f, 8, 8);
        let p0 = project_splat(&s, 0, &cam, RenderMode::Classic).unwrap();
        let dx = p0.mean2d[0] - 8.5;
        let dy = p0.mean2d[1] - 8.5;
        let power = -0.5 * (p0.conic[0] * dx * dx + p0.conic[2] * dy * dy) - p0.conic[1] * dx * dy;
        let a0 = 0.999f32.min(p0.opacity * power.exp());
        assert!(a0 > 0.999 - 1e-6);
        assert!(close(px[3], a0, 1e-6), "{}", px[3]);
        assert!(close(px[0], a0 * p0.color[0], 1e-6));
        assert_eq!(px[1], 0.0);
        assert!(close(f.depth[8 * 16 + 8], 5.0, 1e-6));
        // Inria: α clamps at 0.99; in f32, T = 1 − 0.99 = 0.00999999, and the second splat
        // would give T = 9.99998e-5 < 1e-4 → stop, not added.
        let settings = RenderSettings {
            mode: RenderMode::Inria,
            background: [0.0; 3],
            ..Default::default()
        };
        let f = render(&s, &cam, &settings);
        let px = pixel(&f, 8, 8);
        assert_eq!(px[3], 1.0 - (1.0 - 0.99f32), "{px:?}");
        assert_eq!(px[1], 0.0, "{px:?}");
        // A third, weaker splat behind the first one (α = 0.5): T 0.01 → 0.005 ≥ 1e-4, added.
        let mut s2 = splats(&[
            ([0.0, 0.0, 5.0], 20.0, 20.0, [10.0, -10.0, -10.0]),
            ([0.0, 0.0, 6.0], 20.0, 0.0, [-10.0, 10.0, -10.0]),
        ]);
        s2.opacity_logits[1] = 0.0;
        for mode in [RenderMode::Classic, RenderMode::Inria] {
            let f = render(
                &s2,
                &cam,
                &RenderSettings {
                    mode,
                    background: [0.0; 3],
                    ..Default::default()
                },
            );
            let px = pixel(&f, 8, 8);
            assert!(px[1] > 0.0, "{mode:?}: {px:?}");
        }
    }

    #[test]
    fn zero_splats_is_background() {
        let cam = camera(37, 19, 30.0);
        let s = splats(&[]);
        let bg = [0.1, 0.2, 0.3];
        let f = render(
            &s,
            &cam,
            &RenderSettings {
                mode: RenderMode::Classic,
                background: bg,
                ..Default::default()
            },
        );
        assert_eq!(f.rgba.len(), 37 * 19 * 4);
        for px in f.rgba.chunks(4) {
            assert_eq!(px, &[bg[0], bg[1], bg[2], 0.0]);
        }
        assert!(f.depth.iter().all(|&d| d == 0.0));
        assert!(sorted_intersections(&[], 37, 19).is_empty());
    }

    #[test]
    fn tiny_and_odd_sized_images() {
        let s = splats(&[([0.0, 0.0, 5.0], 5.0, 5.0, [0.0; 3])]);
        let cam = camera(1, 1, 0.1);
        let f = render(&s, &cam, &RenderSettings::default());
        assert_eq!(f.rgba.len(), 4);
        assert!(f.rgba[3] > 0.0);
        let cam = camera(17, 5, 10.0);
        let p = project_splat(&s, 0, &cam, RenderMode::Classic).unwrap();
        assert!(p.tile_max[0] <= 2 && p.tile_max[1] <= 1);
        let f = render(&s, &cam, &RenderSettings::default());
        assert_eq!(f.rgba.len(), 17 * 5 * 4);
        assert!(pixel(&f, 16, 4)[3] > 0.0);
        for mode in [RenderMode::Inria, RenderMode::Antialiased] {
            let f = render(
                &s,
                &cam,
                &RenderSettings {
                    mode,
                    background: [0.0; 3],
                    ..Default::default()
                },
            );
            assert!(pixel(&f, 8, 2)[3] > 0.0);
        }
    }

    #[test]
    fn non_finite_inputs_are_culled() {
        let cam = camera(64, 64, 50.0);
        let mut s = splats(&[
            ([f32::NAN, 0.0, 5.0], 0.1, 2.0, [0.0; 3]),
            ([0.0, 0.0, 5.0], 0.1, f32::NAN, [0.0; 3]),
            ([0.0, 0.0, 5.0], 0.1, 2.0, [f32::INFINITY, 0.0, 0.0]),
            ([0.0, 0.0, 5.0], 0.1, 2.0, [0.0; 3]),
        ]);
        s.log_scales[3] = [f32::NAN; 3];
        for mode in [RenderMode::Classic, RenderMode::Inria] {
            let proj = project_all(&s, &cam, mode);
            assert!(proj.iter().all(|p| p.is_none()), "{mode:?}: {proj:?}");
        }
    }

    #[test]
    fn many_splats_render_quickly() {
        // Deterministic pseudo-random scene; checks consistency and runs in well under a second.
        let mut state = 0x1234_5678u32;
        let mut rnd = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as f32 / u32::MAX as f32
        };
        let n = 10_000;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            let z = 2.0 + 8.0 * rnd();
            let mean = [(rnd() - 0.5) * z, (rnd() - 0.5) * z, z];
            let scale = 0.005 + 0.05 * rnd();
            let logit = -3.0 + 6.0 * rnd();
            let dc = [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5];
            items.push((mean, scale, logit, dc));
        }
        let s = splats(&items);
        let cam = camera(256, 256, 200.0);
        let start = std::time::Instant::now();
        let f = render(&s, &cam, &RenderSettings::default());
        let elapsed = start.elapsed();
        eprintln!("10k splats 256x256: {elapsed:?}");
        assert!(f.rgba.iter().all(|v| v.is_finite()));
        assert!(f.rgba.chunks(4).all(|p| (0.0..=1.0).contains(&p[3])));
        assert!(f.rgba.chunks(4).any(|p| p[3] > 0.5));
    }
}
