//! Cameras from game engines and graphics APIs: a projection and a view matrix in the OpenGL,
//! Vulkan or Direct3D convention, a Unity camera or an Unreal camera, converted to vksplat's
//! pinhole [`Camera`] (OpenCV axes: x right, y down, z forward; image rows top to bottom), and
//! back ([`clip_matrices`]).
//!
//! Invariants:
//! - Matrices are 16 numbers in the order the engines' math libraries keep them in memory:
//!   element `m[4·c + r]` is row r, column c of the matrix that maps column vectors
//!   (`clip = P · V · x`). glm's `value_ptr`, Unity's `Matrix4x4` indexer and a DirectXMath
//!   `XMFLOAT4X4` (row vectors, stored row by row) all give this order, so no host transposes.
//! - The conventions differ only in where NDC y points and the NDC depth range: OpenGL y up,
//!   z in [−1, 1]; Vulkan y down, z in [0, 1]; Direct3D y up, z in [0, 1]. NDC x = −1 is the
//!   image's left edge, and the image's top row is NDC y = +1 (OpenGL, Direct3D) or −1
//!   (Vulkan). Reversed Z and an infinite far plane are recognised from the matrix.
//! - The world of the matrices is the scene's frame. The view part must be rigid (rotation and
//!   translation): a scale would change depths and the splats' sizes, which belong in the
//!   object's placement, not in the camera. A view whose world is mirrored against the scene
//!   (a left-handed engine world) is refused; compose the view with the scene's placement.
//! - Unity and Unreal: the scene's frame maps to the engine's world by a fixed change of axes
//!   ([`UNITY_FROM_SCENE`], [`UNREAL_FROM_SCENE`]) under which an engine camera with the
//!   identity rotation at the origin is vksplat's identity camera.
//! - Orthographic projections (last row (0, 0, 0, w), w ≠ 0) give an orthographic camera
//!   ([`Projection::Orthographic`]: fx, fy in pixels per world unit). Its pixel axes come
//!   from the projection's x and y rows; its viewing direction is their cross product (the
//!   camera's x right and y down make a right-handed frame with its z forward, as for every
//!   vksplat camera), which the depth row must be parallel to (no oblique projections). Its
//!   position is the view's eye (the view space origin): the principal point is where the eye
//!   projects, and camera depth is measured from it. Unlike a pinhole, an orthographic near
//!   plane may lie at or behind the eye (glOrtho's negative near); the far plane must be in
//!   front, and a far plane cannot be infinite.
//!
//! All arithmetic is f64; the results are rounded to f32 once.

use glam::{DMat3, DMat4, DQuat, DVec3, DVec4};

use super::{Camera, Projection};

/// Which graphics API's clip-space rules a projection matrix follows (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClipConvention {
    /// NDC y up, depth in [−1, 1]; view space x right, y up, looking along −z.
    OpenGl,
    /// NDC y down, depth in [0, 1]; view space as OpenGL.
    Vulkan,
    /// NDC y up, depth in [0, 1]; view space x right, y up, looking along +z.
    Direct3D,
}

impl ClipConvention {
    /// NDC depth at the near and at the far plane (standard depth).
    fn depth_range(self) -> (f64, f64) {
        match self {
            ClipConvention::OpenGl => (-1.0, 1.0),
            ClipConvention::Vulkan | ClipConvention::Direct3D => (0.0, 1.0),
        }
    }

    /// +1 where NDC y points up the image, −1 where it points down.
    fn y_up(self) -> f64 {
        match self {
            ClipConvention::Vulkan => -1.0,
            ClipConvention::OpenGl | ClipConvention::Direct3D => 1.0,
        }
    }

    /// View space from OpenCV camera space: the sign of each axis.
    fn view_from_opencv(self) -> DVec3 {
        match self {
            ClipConvention::OpenGl | ClipConvention::Vulkan => DVec3::new(1.0, -1.0, -1.0),
            ClipConvention::Direct3D => DVec3::new(1.0, -1.0, 1.0),
        }
    }
}

/// A camera recovered from clip matrices, with the depth planes the projection encodes.
#[derive(Clone, Debug, PartialEq)]
pub struct ClipCamera {
    /// The camera (named "projection"): pinhole, or orthographic for an orthographic
    /// projection.
    pub camera: Camera,
    /// Distance along the view axis of the near plane (> 0; an orthographic projection's may
    /// be at or behind the eye, ≤ 0).
    pub near: f64,
    /// Distance of the far plane; infinite for an infinite-far projection.
    pub far: f64,
    /// Whether the projection maps the near plane to the larger NDC depth (reversed Z).
    pub reversed_z: bool,
}

/// Relative tolerance for "rigid", "no skew" and "no mirror" checks: engine matrices are f32.
const TOL: f64 = 1e-4;

const MIRRORED: &str = "the view is mirrored against the scene (a left-handed world): compose \
     the view with the scene's placement, e.g. UNITY_FROM_SCENE or UNREAL_FROM_SCENE";

fn mat(m: &[f32; 16]) -> DMat4 {
    DMat4::from_cols_array(&m.map(f64::from))
}

/// vksplat's camera from a projection and a view matrix (see the module docs for the element
/// order and the conventions), for an image of `width`×`height` pixels.
///
/// An orthographic projection (last row (0, 0, 0, w)) gives an orthographic camera (see the
/// module docs).
///
/// Errors (as text naming the problem): non-finite elements, a singular projection, skewed
/// pixels, an oblique orthographic projection, a non-rigid or mirrored view, a near plane at
/// or behind the eye (perspective) or a far plane there (orthographic).
pub fn camera_from_clip(
    projection: &[f32; 16],
    view: &[f32; 16],
    convention: ClipConvention,
    width: u32,
    height: u32,
) -> Result<ClipCamera, String> {
    if projection.iter().chain(view).any(|v| !v.is_finite()) {
        return Err("a projection or view matrix element is not finite".into());
    }
    if width == 0 || height == 0 {
        return Err(format!("width {width} or height {height} is zero"));
    }
    let (p, v) = (mat(projection), mat(view));
    let rot = DMat3::from_mat4(v);
    let gram = rot.transpose() * rot;
    let off = (gram - DMat3::IDENTITY).to_cols_array();
    if off.iter().any(|e| e.abs() > 10.0 * TOL) || v.row(3) != DVec4::W {
        return Err(
            "the view matrix is not rigid (scale, shear or a projective last row): put the \
             object's scale in its placement, not in the camera"
                .into(),
        );
    }
    if p.row(3) == DVec4::ZERO {
        return Err("the projection is singular (its last row is zero)".into());
    }
    if p.row(3).truncate().length() <= TOL * p.row(3).w.abs() {
        return orthographic_from_clip(p, v, convention, width, height);
    }
    let (w, h) = (f64::from(width), f64::from(height));
    let m = p * v;
    // Pixel rows: u = W/2·(x + w), v = H/2·(w ∓ y) with x, y, w the clip coordinates.
    // Finite f32 inputs give finite f64 products, so the lengths below are never NaN.
    let rx = (m.row(0) + m.row(3)) * (w / 2.0);
    let ry = (m.row(3) - m.row(1) * convention.y_up()) * (h / 2.0);
    let rw = m.row(3);
    let lambda = rw.truncate().length();
    if lambda <= 0.0 {
        return Err("the projection is singular (no viewing direction)".into());
    }
    // Camera decomposition [K·R | K·t]·λ with K upper triangular, rows of R = camera axes.
    let r3 = rw.truncate() / lambda;
    let ay = ry.truncate() / lambda;
    let cy = ay.dot(r3);
    let fy_r2 = ay - r3 * cy;
    let fy = fy_r2.length();
    let ax = rx.truncate() / lambda;
    let cx = ax.dot(r3);
    if fy <= 0.0 {
        return Err("the projection maps every point to one image row".into());
    }
    let r2 = fy_r2 / fy;
    let skew = ax.dot(r2);
    let fx_r1 = ax - r3 * cx - r2 * skew;
    let fx = fx_r1.length();
    if fx <= 0.0 {
        return Err("the projection maps every point to one image column".into());
    }
    if skew.abs() > TOL * fx {
        return Err(format!(
            "the projection has skewed pixels (skew {skew:.6} px with fx {fx:.6}); vksplat's \
             camera has none"
        ));
    }
    let r1 = fx_r1 / fx;
    if r1.cross(r2).dot(r3) < 0.0 {
        return Err(MIRRORED.into());
    }
    // Translation: K·t = (rx.w, ry.w, rw.w)/λ.
    let tz = rw.w / lambda;
    let ty = (ry.w / lambda - cy * tz) / fy;
    let tx = (rx.w / lambda - cx * tz - skew * ty) / fx;
    let camera = Camera {
        name: "projection".into(),
        width,
        height,
        fx: fx as f32,
        fy: fy as f32,
        cx: cx as f32,
        cy: cy as f32,
        world_to_camera: rows(
            DMat3::from_cols(r1, r2, r3).transpose(),
            DVec3::new(tx, ty, tz),
        ),
        projection: Default::default(),
    };
    camera.validate()?;
    // NDC depth along the optical axis at camera depth d: (α + β·d)/(λ·d).
    let centre = -(DMat3::from_cols(r1, r2, r3) * DVec3::new(tx, ty, tz));
    let rz = m.row(2);
    let alpha = rz.truncate().dot(centre) + rz.w;
    let beta = rz.truncate().dot(r3);
    let (z_lo, z_hi) = convention.depth_range();
    let depth_at = |z: f64| {
        let den = lambda * z - beta;
        if den.abs() <= 1e-12 * beta.abs().max(lambda) {
            f64::INFINITY
        } else {
            alpha / den
        }
    };
    let (d_lo, d_hi) = (depth_at(z_lo), depth_at(z_hi));
    let reversed_z = d_lo > d_hi;
    let (near, far) = if reversed_z {
        (d_hi, d_lo)
    } else {
        (d_lo, d_hi)
    };
    if !(near > 0.0 && near.is_finite() && far > near) {
        return Err(format!(
            "the projection's depth planes are not in front of the eye (near {near}, far {far})"
        ));
    }
    Ok(ClipCamera {
        camera,
        near,
        far,
        reversed_z,
    })
}

/// [`camera_from_clip`] for an orthographic projection `p` (last row (0, 0, 0, w), w ≠ 0)
/// and a rigid view `v`.
fn orthographic_from_clip(
    p: DMat4,
    v: DMat4,
    convention: ClipConvention,
    width: u32,
    height: u32,
) -> Result<ClipCamera, String> {
    let (w, h) = (f64::from(width), f64::from(height));
    // The caller checked that p's last row is (0, 0, 0, w) up to rounding; w is the constant
    // clip w, and the view is rigid, so (P·V)'s last row is (0, 0, 0, w) as well.
    let lambda = p.row(3).w;
    let m = p * v;
    // Pixel = (ax·x + u0, ay·x + v0) for a scene point x, as in the perspective case with
    // clip w = λ for every point.
    let rx = (m.row(0) + m.row(3)) * (w / 2.0 / lambda);
    let ry = (m.row(3) - m.row(1) * convention.y_up()) * (h / 2.0 / lambda);
    let (ax, ay) = (rx.truncate(), ry.truncate());
    let (fx, fy) = (ax.length(), ay.length());
    if fx <= 0.0 {
        return Err("the orthographic projection maps every point to one image column".into());
    }
    if fy <= 0.0 {
        return Err("the orthographic projection maps every point to one image row".into());
    }
    let (r1, r2) = (ax / fx, ay / fy);
    let skew = r1.dot(r2);
    if skew.abs() > TOL {
        return Err(format!(
            "the orthographic projection has skewed pixels (image axes at {:.4}° instead of \
             90°); vksplat's camera has none",
            skew.clamp(-1.0, 1.0).acos().to_degrees()
        ));
    }
    // Orthonormalise the (nearly) perpendicular axes; forward completes a right-handed frame.
    let r2 = (r2 - r1 * skew).normalize();
    let r3 = r1.cross(r2);
    // The convention's view space says which way the host looks (−z or +z); a parallel
    // projection alone cannot tell a mirrored world from a reversed depth range.
    let forward =
        DMat3::from_mat4(v).transpose() * DVec3::new(0.0, 0.0, convention.view_from_opencv().z);
    if r3.dot(forward) <= 0.0 {
        return Err(MIRRORED.into());
    }
    // NDC depth = α + β·d at camera depth d (from the eye, along r3).
    let rz = m.row(2) / lambda;
    let beta = rz.truncate().dot(r3);
    let oblique = (rz.truncate() - r3 * beta).length();
    if rz.truncate().length() == 0.0 {
        return Err("the orthographic projection maps every point to one depth".into());
    }
    if oblique > TOL * beta.abs() {
        return Err(
            "the orthographic projection is oblique (its depth row is not along the viewing \
             direction); vksplat's orthographic camera looks straight along its axis"
                .into(),
        );
    }
    // The eye: the view space origin, in the scene.
    let eye = v.inverse().w_axis.truncate();
    let alpha = rz.truncate().dot(eye) + rz.w;
    let (z_lo, z_hi) = convention.depth_range();
    let (d_lo, d_hi) = ((z_lo - alpha) / beta, (z_hi - alpha) / beta);
    let reversed_z = d_lo > d_hi;
    let (near, far) = if reversed_z {
        (d_hi, d_lo)
    } else {
        (d_lo, d_hi)
    };
    if !(far > 0.0 && near.is_finite() && far.is_finite()) {
        return Err(format!(
            "the orthographic projection's far plane is not in front of the eye (near {near}, \
             far {far})"
        ));
    }
    let r = DMat3::from_cols(r1, r2, r3).transpose();
    let t = -(r * eye);
    let camera = Camera {
        name: "projection".into(),
        width,
        height,
        fx: fx as f32,
        fy: fy as f32,
        // Where the eye lands on the image.
        cx: (rx.truncate().dot(eye) + rx.w) as f32,
        cy: (ry.truncate().dot(eye) + ry.w) as f32,
        world_to_camera: rows(r, t),
        projection: Projection::Orthographic,
    };
    camera.validate()?;
    Ok(ClipCamera {
        camera,
        near,
        far,
        reversed_z,
    })
}

fn rows(r: DMat3, t: DVec3) -> [[f32; 4]; 4] {
    let mut out = [[0.0f32; 4]; 4];
    for (i, row) in out.iter_mut().enumerate().take(3) {
        let rr = r.row(i);
        *row = [rr.x as f32, rr.y as f32, rr.z as f32, t[i] as f32];
    }
    out[3] = [0.0, 0.0, 0.0, 1.0];
    out
}

fn world_to_camera(c: &Camera) -> DMat4 {
    let m = &c.world_to_camera;
    DMat4::from_cols_array_2d(&[0, 1, 2, 3].map(|j| [0, 1, 2, 3].map(|i| f64::from(m[i][j]))))
}

/// The projection and view matrices (element order as in the module docs) that rasterise what
/// `camera` sees: the same pixel for every point, depth planes at `near` and `far` (`far` may
/// be infinite), reversed Z on request. [`camera_from_clip`] inverts it. An orthographic
/// camera gives an orthographic projection (finite planes; `near` may be ≤ 0) and a view whose
/// eye is the camera's position.
pub fn clip_matrices(
    camera: &Camera,
    convention: ClipConvention,
    near: f64,
    far: f64,
    reversed_z: bool,
) -> Result<([f32; 16], [f32; 16]), String> {
    camera.validate()?;
    let ortho = camera.projection == Projection::Orthographic;
    if ortho {
        if !(near.is_finite() && far.is_finite() && far > near.max(0.0)) {
            return Err(format!(
                "near {near} and far {far}: an orthographic projection needs finite planes, \
                 near < far and far > 0"
            ));
        }
    } else if !(near > 0.0 && near.is_finite() && far > near) {
        return Err(format!(
            "near {near} and far {far}: need 0 < near < far (far may be infinite)"
        ));
    }
    let (w, h) = (f64::from(camera.width), f64::from(camera.height));
    let (fx, fy) = (f64::from(camera.fx), f64::from(camera.fy));
    let (cx, cy) = (f64::from(camera.cx), f64::from(camera.cy));
    let (mut z_near, mut z_far) = convention.depth_range();
    if reversed_z {
        std::mem::swap(&mut z_near, &mut z_far);
    }
    if ortho {
        // In OpenCV camera coordinates (x, y, d): clip = (x·2fx/W + 2cx/W − 1,
        // ±(y·2fy/H + 2cy/H − 1), a + b·d, 1) with NDC depth z_near at d = near, z_far at far.
        let b = (z_far - z_near) / (far - near);
        let a = z_near - b * near;
        let y_sign = -convention.y_up();
        let cv = DMat4::from_cols(
            DVec4::new(2.0 * fx / w, 0.0, 0.0, 0.0),
            DVec4::new(0.0, y_sign * 2.0 * fy / h, 0.0, 0.0),
            DVec4::new(0.0, 0.0, b, 0.0),
            DVec4::new(2.0 * cx / w - 1.0, y_sign * (2.0 * cy / h - 1.0), a, 1.0),
        );
        let flip = DMat4::from_diagonal(convention.view_from_opencv().extend(1.0));
        return Ok((
            (cv * flip).to_cols_array().map(|x| x as f32),
            (flip * world_to_camera(camera))
                .to_cols_array()
                .map(|x| x as f32),
        ));
    }
    // NDC depth = a + b/d at camera depth d.
    let (a, b) = if far.is_infinite() {
        (z_far, (z_near - z_far) * near)
    } else {
        let b = (z_near - z_far) * near * far / (far - near);
        (z_far - b / far, b)
    };
    // In OpenCV camera coordinates (x, y, d): clip = (x·2fx/W + d·(2cx/W − 1),
    // ±(y·2fy/H + d·(2cy/H − 1)), a·d + b, d); then expressed in the convention's view space.
    let y_sign = -convention.y_up();
    let cv = DMat4::from_cols(
        DVec4::new(2.0 * fx / w, 0.0, 0.0, 0.0),
        DVec4::new(0.0, y_sign * 2.0 * fy / h, 0.0, 0.0),
        DVec4::new(2.0 * cx / w - 1.0, y_sign * (2.0 * cy / h - 1.0), a, 1.0),
        DVec4::new(0.0, 0.0, b, 0.0),
    );
    let flip = DMat4::from_diagonal(convention.view_from_opencv().extend(1.0));
    // flip is its own inverse: P = CV·flip, V = flip·world_to_camera.
    let p = cv * flip;
    let v = flip * world_to_camera(camera);
    Ok((
        p.to_cols_array().map(|x| x as f32),
        v.to_cols_array().map(|x| x as f32),
    ))
}

/// Unity world point = `UNITY_FROM_SCENE` · scene point: Unity's y is up where the scene's
/// (OpenCV) y is down; a Unity camera with the identity rotation looks along the scene's +z.
pub const UNITY_FROM_SCENE: [[f64; 3]; 3] = [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]];

/// Unreal world point (centimetres) = `UNREAL_FROM_SCENE` · scene point (metres): Unreal's X
/// (forward) is the scene's z, Y (right) its x, Z (up) its −y.
pub const UNREAL_FROM_SCENE: [[f64; 3]; 3] =
    [[0.0, 0.0, 100.0], [100.0, 0.0, 0.0], [0.0, -100.0, 0.0]];

fn mat3(rows: &[[f64; 3]; 3]) -> DMat3 {
    DMat3::from_cols_array_2d(rows).transpose()
}

/// The camera for an engine camera given as its world position and rotation (x, y, z, w) in
/// an engine whose world is `engine_from_scene` · scene and whose camera looks along
/// `local_forward` with `local_down` pointing down the image.
#[allow(clippy::too_many_arguments)]
fn engine_camera(
    name: &str,
    engine_from_scene: &[[f64; 3]; 3],
    local_right: DVec3,
    local_down: DVec3,
    local_forward: DVec3,
    position: [f64; 3],
    rotation: [f64; 4],
    focal: f64,
    width: u32,
    height: u32,
) -> Result<Camera, String> {
    if position.iter().chain(&rotation).any(|v| !v.is_finite()) {
        return Err(format!(
            "the {name} camera's position or rotation is not finite"
        ));
    }
    let q = DQuat::from_array(rotation);
    let n = q.length();
    if !(n > 0.5 && n < 2.0) {
        return Err(format!(
            "the {name} camera's rotation quaternion has length {n}, not 1"
        ));
    }
    let r = DMat3::from_quat(q / n);
    // OpenCV camera from engine camera-local coordinates.
    let cam_from_local = DMat3::from_cols(local_right, local_down, local_forward).transpose();
    let e = mat3(engine_from_scene);
    // camera = C·Rᵀ·(E·s − p): linear part C·Rᵀ·E (a rotation times a scale), offset −C·Rᵀ·p.
    let lin = cam_from_local * r.transpose() * e;
    let scale = lin.determinant().abs().cbrt();
    let rot = lin / scale;
    let t = -(cam_from_local * r.transpose() * DVec3::from(position)) / scale;
    let camera = Camera::centred(name.into(), width, height, focal, rows(rot, t));
    camera.validate()?;
    Ok(camera)
}

/// A Unity camera: `Transform.position`, `Transform.rotation` (x, y, z, w) and the vertical
/// `Camera.fieldOfView` in degrees, rendering `width`×`height` with the principal point at the
/// centre. The scene sits in Unity's world by [`UNITY_FROM_SCENE`].
pub fn unity_camera(
    position: [f64; 3],
    rotation: [f64; 4],
    vertical_fov_deg: f64,
    width: u32,
    height: u32,
) -> Result<Camera, String> {
    if !(vertical_fov_deg > 0.0 && vertical_fov_deg < 180.0) {
        return Err(format!(
            "Unity field of view {vertical_fov_deg}° is outside (0, 180)"
        ));
    }
    let focal = f64::from(height) / 2.0 / (vertical_fov_deg.to_radians() / 2.0).tan();
    engine_camera(
        "unity",
        &UNITY_FROM_SCENE,
        DVec3::X,
        DVec3::NEG_Y,
        DVec3::Z,
        position,
        rotation,
        focal,
        width,
        height,
    )
}

/// An Unreal camera: location in centimetres, rotation as an `FQuat` (x, y, z, w) and the
/// horizontal field of view in degrees (`FMinimalViewInfo::FOV`), rendering `width`×`height`
/// with the principal point at the centre. The scene sits in Unreal's world by
/// [`UNREAL_FROM_SCENE`] (metres to centimetres included).
pub fn unreal_camera(
    location_cm: [f64; 3],
    rotation: [f64; 4],
    horizontal_fov_deg: f64,
    width: u32,
    height: u32,
) -> Result<Camera, String> {
    if !(horizontal_fov_deg > 0.0 && horizontal_fov_deg < 180.0) {
        return Err(format!(
            "Unreal field of view {horizontal_fov_deg}° is outside (0, 180)"
        ));
    }
    let focal = f64::from(width) / 2.0 / (horizontal_fov_deg.to_radians() / 2.0).tan();
    // Unreal's camera looks along its local X with Y right and Z up.
    engine_camera(
        "unreal",
        &UNREAL_FROM_SCENE,
        DVec3::Y,
        DVec3::NEG_Z,
        DVec3::X,
        location_cm,
        rotation,
        focal,
        width,
        height,
    )
}

#[cfg(test)]
#[path = "engines_tests.rs"]
mod tests;
