//! Engine camera conversions: known matrices (glm, DirectXMath), round trips through
//! `clip_matrices` in every convention, Unity and Unreal cameras, refused inputs.

use glam::{DMat4, DVec3, DVec4};

use super::*;

const W: u32 = 640;
const H: u32 = 480;

/// Every clip-space convention, for the round trips.
const CONVENTIONS: [ClipConvention; 3] = [
    ClipConvention::OpenGl,
    ClipConvention::Vulkan,
    ClipConvention::Direct3D,
];

/// Pixel (u, v) and camera depth of a scene point seen by a vksplat camera.
fn project_camera(c: &Camera, p: DVec3) -> (f64, f64, f64) {
    let m = &c.world_to_camera;
    let q: Vec<f64> = (0..3)
        .map(|i| (0..3).map(|j| f64::from(m[i][j]) * p[j]).sum::<f64>() + f64::from(m[i][3]))
        .collect();
    (
        f64::from(c.fx) * q[0] / q[2] + f64::from(c.cx),
        f64::from(c.fy) * q[1] / q[2] + f64::from(c.cy),
        q[2],
    )
}

/// Pixel (u, v) and NDC depth of a scene point through clip matrices, the rasteriser's way.
fn project_clip(p: &[f32; 16], v: &[f32; 16], conv: ClipConvention, x: DVec3) -> (f64, f64, f64) {
    let m = DMat4::from_cols_array(&p.map(f64::from)) * DMat4::from_cols_array(&v.map(f64::from));
    let c = m * x.extend(1.0);
    let n = c.truncate() / c.w;
    let y_down = match conv {
        ClipConvention::Vulkan => n.y,
        _ => -n.y,
    };
    (
        (n.x + 1.0) / 2.0 * f64::from(W),
        (y_down + 1.0) / 2.0 * f64::from(H),
        n.z,
    )
}

/// Deterministic points in front of camera `c` (depths 0.5..20, spread over the image).
fn points_in_front(c: &Camera) -> Vec<DVec3> {
    let m = &c.world_to_camera;
    let r = DMat3::from_cols_array_2d(&[0, 1, 2].map(|i| [0, 1, 2].map(|j| f64::from(m[i][j]))));
    let t = DVec3::new(f64::from(m[0][3]), f64::from(m[1][3]), f64::from(m[2][3]));
    (0..25)
        .map(|k| {
            let k = f64::from(k);
            let d = 0.5 + 19.5 * ((k * 0.37).fract());
            let cam = DVec3::new(
                ((k * 0.61).fract() - 0.5) * d,
                ((k * 0.29).fract() - 0.5) * d,
                d,
            );
            // r is Rᵀ as built (rows of world_to_camera as columns): world = R⁻¹(cam − t).
            r * (cam - t)
        })
        .collect()
}

/// Point `x`'s pixel through the camera, (u0, v0), and through the clip matrices, (u1, v1),
/// agree.
fn assert_same_pixel(conv: ClipConvention, x: DVec3, (u0, v0): (f64, f64), (u1, v1): (f64, f64)) {
    assert!(
        (u0 - u1).abs() < 2e-3 && (v0 - v1).abs() < 2e-3,
        "{conv:?} point {x}: camera ({u0}, {v0}) vs clip ({u1}, {v1})"
    );
}

fn assert_same_pixels(c: &Camera, p: &[f32; 16], v: &[f32; 16], conv: ClipConvention) {
    for x in points_in_front(c) {
        let (u0, v0, _) = project_camera(c, x);
        let (u1, v1, _) = project_clip(p, v, conv, x);
        assert_same_pixel(conv, x, (u0, v0), (u1, v1));
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

/// glm::perspective (right-handed, depth −1..1) as column-major floats.
fn glm_perspective(fovy_deg: f64, aspect: f64, n: f64, f: f64) -> [f32; 16] {
    let t = 1.0 / (fovy_deg.to_radians() / 2.0).tan();
    let cols = [
        [t / aspect, 0.0, 0.0, 0.0],
        [0.0, t, 0.0, 0.0],
        [0.0, 0.0, -(f + n) / (f - n), -1.0],
        [0.0, 0.0, -2.0 * f * n / (f - n), 0.0],
    ];
    cols.concat()
        .iter()
        .map(|&x| x as f32)
        .collect::<Vec<_>>()
        .try_into()
        .unwrap()
}

/// glm::lookAt (right-handed) as column-major floats.
fn glm_look_at(eye: DVec3, centre: DVec3, up: DVec3) -> [f32; 16] {
    let f = (centre - eye).normalize();
    let s = f.cross(up).normalize();
    let u = s.cross(f);
    let m = DMat4::from_cols(
        DVec4::new(s.x, u.x, -f.x, 0.0),
        DVec4::new(s.y, u.y, -f.y, 0.0),
        DVec4::new(s.z, u.z, -f.z, 0.0),
        DVec4::new(-s.dot(eye), -u.dot(eye), f.dot(eye), 1.0),
    );
    m.to_cols_array().map(|x| x as f32)
}

#[test]
fn glm_perspective_and_look_at() {
    let p = glm_perspective(60.0, 640.0 / 480.0, 0.1, 100.0);
    let v = glm_look_at(DVec3::new(1.0, 2.0, 3.0), DVec3::ZERO, DVec3::Y);
    let got = camera_from_clip(&p, &v, ClipConvention::OpenGl, W, H).unwrap();
    let c = &got.camera;
    let f = 240.0 / 30f64.to_radians().tan();
    assert!(
        close(f64::from(c.fx), f, 1e-5) && close(f64::from(c.fy), f, 1e-5),
        "{c:?}"
    );
    assert!(close(f64::from(c.cx), 320.0, 1e-5) && close(f64::from(c.cy), 240.0, 1e-5));
    assert!(
        close(got.near, 0.1, 1e-4) && close(got.far, 100.0, 1e-3),
        "{got:?}"
    );
    assert!(!got.reversed_z);
    // The camera sits at the eye and looks at the origin: the origin is the image centre.
    let pos = c.position();
    assert!((DVec3::new(1.0, 2.0, 3.0) - DVec3::from(pos.map(f64::from))).length() < 1e-5);
    let (u, vv, d) = project_camera(c, DVec3::ZERO);
    assert!(
        (u - 320.0).abs() < 1e-3 && (vv - 240.0).abs() < 1e-3,
        "({u}, {vv})"
    );
    assert!(close(d, 14f64.sqrt(), 1e-6));
    // World +y (glm's up) is up the image.
    let (_, v_up, _) = project_camera(c, DVec3::new(0.0, 0.3, 0.0));
    assert!(v_up < 240.0);
    assert_same_pixels(c, &p, &v, ClipConvention::OpenGl);
}

#[test]
fn vulkan_matrix_is_the_gl_matrix_with_y_negated() {
    // The usual Vulkan practice: glm's matrix with P[1][1] negated and depth 0..1.
    let (n, f) = (0.5, 50.0);
    let mut p = glm_perspective(45.0, 640.0 / 480.0, n, f);
    p[5] = -p[5];
    p[10] = (f / (n - f)) as f32;
    p[14] = (f * n / (n - f)) as f32;
    let v = glm_look_at(
        DVec3::new(-2.0, 0.5, 4.0),
        DVec3::new(0.0, 1.0, 0.0),
        DVec3::Y,
    );
    let vk = camera_from_clip(&p, &v, ClipConvention::Vulkan, W, H).unwrap();
    let gl = camera_from_clip(
        &glm_perspective(45.0, 640.0 / 480.0, n, f),
        &v,
        ClipConvention::OpenGl,
        W,
        H,
    )
    .unwrap();
    assert!(close(vk.near, n, 1e-4) && close(vk.far, f, 1e-3), "{vk:?}");
    for (a, b) in vk
        .camera
        .world_to_camera
        .iter()
        .flatten()
        .zip(gl.camera.world_to_camera.iter().flatten())
    {
        assert!((a - b).abs() < 1e-5, "{vk:?} vs {gl:?}");
    }
    assert!(close(
        f64::from(vk.camera.fy),
        f64::from(gl.camera.fy),
        1e-6
    ));
    assert_same_pixels(&vk.camera, &p, &v, ClipConvention::Vulkan);
}

#[test]
fn directxmath_perspective_fov_lh_as_stored() {
    // XMMatrixPerspectiveFovLH(fovy 50°, 4:3, 0.2, 30) is a row-vector matrix stored row by
    // row; those 16 floats are passed unchanged.
    let (n, f) = (0.2f64, 30.0f64);
    let ys = 1.0 / (25f64.to_radians()).tan();
    let xs = ys / (640.0 / 480.0);
    let rows = [
        [xs, 0.0, 0.0, 0.0],
        [0.0, ys, 0.0, 0.0],
        [0.0, 0.0, f / (f - n), 1.0],
        [0.0, 0.0, -n * f / (f - n), 0.0],
    ];
    let p: [f32; 16] = rows
        .concat()
        .iter()
        .map(|&x| x as f32)
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    // Direct3D's view space is left-handed (y up, z forward): the scene's frame (y down) is
    // a mirror of it, so the identity view is refused, and the y flip is the identity camera.
    let identity: [f32; 16] = DMat4::IDENTITY.to_cols_array().map(|x| x as f32);
    let err = camera_from_clip(&p, &identity, ClipConvention::Direct3D, W, H).unwrap_err();
    assert!(err.contains("mirrored"), "{err}");
    let flip_y: [f32; 16] = DMat4::from_diagonal(DVec4::new(1.0, -1.0, 1.0, 1.0))
        .to_cols_array()
        .map(|x| x as f32);
    let got = camera_from_clip(&p, &flip_y, ClipConvention::Direct3D, W, H).unwrap();
    let c = &got.camera;
    for (i, row) in c.world_to_camera.iter().enumerate() {
        for (j, &e) in row.iter().enumerate() {
            let want = if i == j { 1.0 } else { 0.0 };
            assert!((e - want).abs() < 1e-6, "{c:?}");
        }
    }
    assert!(close(f64::from(c.fy), 240.0 * ys, 1e-5) && close(f64::from(c.fx), 320.0 * xs, 1e-5));
    assert!(
        close(got.near, n, 1e-4) && close(got.far, f, 1e-3) && !got.reversed_z,
        "{got:?}"
    );
    assert_same_pixels(c, &p, &flip_y, ClipConvention::Direct3D);
}

fn test_camera() -> Camera {
    // Rotated, off-centre principal point, non-square pixels.
    let r = DMat3::from_euler(glam::EulerRot::YXZ, 0.4, -0.3, 0.2);
    let t = DVec3::new(0.3, -0.2, 2.5);
    let mut m = [[0.0f32; 4]; 4];
    for (i, row) in m.iter_mut().enumerate().take(3) {
        let rr = r.row(i);
        *row = [rr.x as f32, rr.y as f32, rr.z as f32, t[i] as f32];
    }
    m[3] = [0.0, 0.0, 0.0, 1.0];
    Camera {
        name: "test".into(),
        width: W,
        height: H,
        fx: 530.0,
        fy: 515.0,
        cx: 301.5,
        cy: 252.25,
        world_to_camera: m,
        projection: Default::default(),
    }
}

#[test]
fn round_trips_in_every_convention() {
    let cam = test_camera();
    for conv in CONVENTIONS {
        for reversed in [false, true] {
            for far in [80.0, f64::INFINITY] {
                let what = format!("{conv:?} reversed {reversed} far {far}");
                let (p, v) = clip_matrices(&cam, conv, 0.05, far, reversed).unwrap();
                assert_same_pixels(&cam, &p, &v, conv);
                let back =
                    camera_from_clip(&p, &v, conv, W, H).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(back.reversed_z, reversed, "{what}");
                assert!(close(back.near, 0.05, 1e-4), "{what}: {back:?}");
                if far.is_infinite() {
                    assert!(back.far > 1e5, "{what}: {back:?}");
                } else {
                    assert!(close(back.far, far, 1e-2), "{what}: {back:?}");
                }
                assert_same_camera(&back.camera, &cam, &what);
                // NDC depth: near plane at the convention's near value.
                let (lo, hi) = conv.depth_range();
                let (z_near, z_far) = if reversed { (hi, lo) } else { (lo, hi) };
                let on_axis = |d: f64| {
                    let m = &cam.world_to_camera;
                    let cam_pt = DVec3::new(0.0, 0.0, d);
                    let r = DMat3::from_cols_array_2d(
                        &[0, 1, 2].map(|i| [0, 1, 2].map(|j| f64::from(m[i][j]))),
                    );
                    let t = DVec3::new(f64::from(m[0][3]), f64::from(m[1][3]), f64::from(m[2][3]));
                    project_clip(&p, &v, conv, r * (cam_pt - t)).2
                };
                assert!(
                    (on_axis(0.05) - z_near).abs() < 1e-3,
                    "{what}: {}",
                    on_axis(0.05)
                );
                if far.is_finite() {
                    assert!(
                        (on_axis(far) - z_far).abs() < 1e-3,
                        "{what}: {}",
                        on_axis(far)
                    );
                }
            }
        }
    }
}

#[test]
fn refused_matrices() {
    let cam = test_camera();
    let (p, v) = clip_matrices(&cam, ClipConvention::OpenGl, 0.1, 10.0, false).unwrap();
    let gl = ClipConvention::OpenGl;
    let mut skewed = p;
    skewed[4] = 0.2; // x depends on view y
    let e = camera_from_clip(&skewed, &v, gl, W, H).unwrap_err();
    assert!(e.contains("skew"), "{e}");
    let mut scaled = v;
    for k in [0, 1, 2, 4, 5, 6, 8, 9, 10] {
        scaled[k] *= 2.0;
    }
    let e = camera_from_clip(&p, &scaled, gl, W, H).unwrap_err();
    assert!(e.contains("not rigid"), "{e}");
    let mut nan = p;
    nan[3] = f32::NAN;
    let e = camera_from_clip(&nan, &v, gl, W, H).unwrap_err();
    assert!(e.contains("not finite"), "{e}");
    let e = clip_matrices(&cam, gl, 0.0, 10.0, false).unwrap_err();
    assert!(e.contains("near"), "{e}");
    let e = camera_from_clip(&p, &v, gl, 0, H).unwrap_err();
    assert!(e.contains("width"), "{e}");
}

/// Pixel (u, v) and camera depth of a scene point seen by an orthographic vksplat camera.
fn project_ortho(c: &Camera, p: DVec3) -> (f64, f64, f64) {
    let m = &c.world_to_camera;
    let q: Vec<f64> = (0..3)
        .map(|i| (0..3).map(|j| f64::from(m[i][j]) * p[j]).sum::<f64>() + f64::from(m[i][3]))
        .collect();
    (
        f64::from(c.fx) * q[0] + f64::from(c.cx),
        f64::from(c.fy) * q[1] + f64::from(c.cy),
        q[2],
    )
}

fn ortho_test_camera() -> Camera {
    Camera {
        name: "ortho".into(),
        fx: 61.5,
        fy: 58.25,
        projection: Projection::Orthographic,
        ..test_camera()
    }
}

/// Camera fields equal to f32 rounding (intrinsics relative 1e-5, the matrix 1e-5).
fn assert_same_camera(got: &Camera, want: &Camera, what: &str) {
    assert_eq!(got.projection, want.projection, "{what}");
    assert_eq!((got.width, got.height), (want.width, want.height), "{what}");
    for (x, y) in [
        (got.fx, want.fx),
        (got.fy, want.fy),
        (got.cx, want.cx),
        (got.cy, want.cy),
    ] {
        assert!(
            close(f64::from(x), f64::from(y), 1e-5),
            "{what}: {got:?} vs {want:?}"
        );
    }
    for (x, y) in got
        .world_to_camera
        .iter()
        .flatten()
        .zip(want.world_to_camera.iter().flatten())
    {
        assert!((x - y).abs() < 1e-5, "{what}: {got:?} vs {want:?}");
    }
}

/// Every point lands on the same pixel through the clip matrices as through the orthographic
/// camera, and NDC depth is linear in camera depth with the planes at `near`/`far`.
fn assert_same_ortho_pixels(
    c: &Camera,
    p: &[f32; 16],
    v: &[f32; 16],
    conv: ClipConvention,
    (near, far, reversed): (f64, f64, bool),
) {
    let (lo, hi) = conv.depth_range();
    let (z_near, z_far) = if reversed { (hi, lo) } else { (lo, hi) };
    for x in points_in_front(c) {
        let (u0, v0, d) = project_ortho(c, x);
        let (u1, v1, z) = project_clip(p, v, conv, x);
        assert_same_pixel(conv, x, (u0, v0), (u1, v1));
        let want_z = z_near + (z_far - z_near) * (d - near) / (far - near);
        assert!(
            (z - want_z).abs() < 1e-4,
            "{conv:?} depth {d}: {z} vs {want_z}"
        );
    }
}

#[test]
fn orthographic_round_trips_in_every_convention() {
    let cam = ortho_test_camera();
    for conv in CONVENTIONS {
        for reversed in [false, true] {
            // glOrtho allows a near plane behind the eye.
            for (near, far) in [(0.05, 80.0), (-3.0, 12.0)] {
                let what = format!("{conv:?} reversed {reversed} near {near} far {far}");
                let (p, v) = clip_matrices(&cam, conv, near, far, reversed).unwrap();
                assert_eq!([p[3], p[7], p[11], p[15]], [0.0, 0.0, 0.0, 1.0], "{what}");
                assert_same_ortho_pixels(&cam, &p, &v, conv, (near, far, reversed));
                let back =
                    camera_from_clip(&p, &v, conv, W, H).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(back.reversed_z, reversed, "{what}");
                assert!(close(back.near, near, 1e-4), "{what}: {back:?}");
                assert!(close(back.far, far, 1e-4), "{what}: {back:?}");
                assert_same_camera(&back.camera, &cam, &what);
            }
        }
    }
}

/// glm::ortho (right-handed, depth −1..1) or glm::orthoRH_ZO (depth 0..1) as column-major
/// floats.
fn glm_ortho(l: f64, r: f64, b: f64, t: f64, n: f64, f: f64, zero_one: bool) -> [f32; 16] {
    let (c22, c32) = if zero_one {
        (-1.0 / (f - n), -n / (f - n))
    } else {
        (-2.0 / (f - n), -(f + n) / (f - n))
    };
    let cols = [
        [2.0 / (r - l), 0.0, 0.0, 0.0],
        [0.0, 2.0 / (t - b), 0.0, 0.0],
        [0.0, 0.0, c22, 0.0],
        [-(r + l) / (r - l), -(t + b) / (t - b), c32, 1.0],
    ];
    cols.concat()
        .iter()
        .map(|&x| x as f32)
        .collect::<Vec<_>>()
        .try_into()
        .unwrap()
}

/// The orthographic camera a glm::lookAt view with an (l, r, b, t) window sees: x right along
/// the window, pixels per unit W/(r−l), H/(t−b), the eye's pixel where x = 0, y = 0 falls.
fn expected_ortho(eye: DVec3, centre: DVec3, up: DVec3, lrbt: [f64; 4]) -> Camera {
    let [l, r, b, t] = lrbt;
    let f = (centre - eye).normalize();
    let s = f.cross(up).normalize();
    let u = s.cross(f);
    // OpenCV axes: x = s, y = −u (down), z = f.
    let rot = DMat3::from_cols(s, -u, f).transpose();
    let tr = -(rot * eye);
    let mut m = [[0.0f32; 4]; 4];
    for (i, row) in m.iter_mut().enumerate().take(3) {
        let rr = rot.row(i);
        *row = [rr.x as f32, rr.y as f32, rr.z as f32, tr[i] as f32];
    }
    m[3] = [0.0, 0.0, 0.0, 1.0];
    window_camera([l, r, b, t], m)
}

/// The orthographic W×H camera at `world_to_camera` whose image spans the view window
/// (l, r, b, t): pixels per unit W/(r−l), H/(t−b), x = 0, y = 0 at the window's (0, 0).
fn window_camera(lrbt: [f64; 4], world_to_camera: [[f32; 4]; 4]) -> Camera {
    let [l, r, b, t] = lrbt;
    let (w, h) = (f64::from(W), f64::from(H));
    Camera {
        name: "projection".into(),
        width: W,
        height: H,
        fx: (w / (r - l)) as f32,
        fy: (h / (t - b)) as f32,
        cx: (-l * w / (r - l)) as f32,
        cy: (t * h / (t - b)) as f32,
        world_to_camera,
        projection: Projection::Orthographic,
    }
}

#[test]
fn glm_ortho_opengl_and_vulkan() {
    let (eye, centre) = (DVec3::new(1.0, 2.0, 3.0), DVec3::new(0.2, -0.1, 0.0));
    let v = glm_look_at(eye, centre, DVec3::Y);
    let lrbt = [-4.0, 5.0, -2.5, 3.5];
    let want = expected_ortho(eye, centre, DVec3::Y, lrbt);
    let [l, r, b, t] = lrbt;
    let gl = camera_from_clip(
        &glm_ortho(l, r, b, t, 0.5, 40.0, false),
        &v,
        ClipConvention::OpenGl,
        W,
        H,
    )
    .unwrap();
    assert_same_camera(&gl.camera, &want, "OpenGL");
    assert!(
        close(gl.near, 0.5, 1e-5) && close(gl.far, 40.0, 1e-5),
        "{gl:?}"
    );
    assert!(!gl.reversed_z);
    // Vulkan: the same matrix with depth 0..1 and y negated (the usual proj[1][1] *= -1).
    let mut p = glm_ortho(l, r, b, t, 0.5, 40.0, true);
    p[5] = -p[5];
    p[13] = -p[13];
    let vk = camera_from_clip(&p, &v, ClipConvention::Vulkan, W, H).unwrap();
    assert_same_camera(&vk.camera, &want, "Vulkan");
    assert!(
        close(vk.near, 0.5, 1e-5) && close(vk.far, 40.0, 1e-5),
        "{vk:?}"
    );
    // Reversed Z (near at 1, far at 0): glm::orthoRH_ZO with near and far swapped.
    let mut p = glm_ortho(l, r, b, t, 40.0, 0.5, true);
    p[5] = -p[5];
    p[13] = -p[13];
    let rev = camera_from_clip(&p, &v, ClipConvention::Vulkan, W, H).unwrap();
    assert_same_camera(&rev.camera, &want, "Vulkan reversed");
    assert!(rev.reversed_z, "{rev:?}");
    assert!(
        close(rev.near, 0.5, 1e-5) && close(rev.far, 40.0, 1e-5),
        "{rev:?}"
    );
    // The 2D idiom glm::ortho(0, W, H, 0, -1, 1): pixels as units, y down, near behind the
    // eye. With the identity view, GL looks along the scene's −z with x right and y down: a
    // mirrored (left-handed) camera, refused; a view that turns the scene's +z into GL's −z
    // gives the scene's own axes.
    let p = glm_ortho(0.0, f64::from(W), f64::from(H), 0.0, -1.0, 1.0, false);
    let id = DMat4::IDENTITY.to_cols_array().map(|x| x as f32);
    let e = camera_from_clip(&p, &id, ClipConvention::OpenGl, W, H).unwrap_err();
    assert!(e.contains("mirrored"), "{e}");
    let flip_z = DMat4::from_diagonal(DVec4::new(1.0, 1.0, -1.0, 1.0))
        .to_cols_array()
        .map(|x| x as f32);
    let px = camera_from_clip(&p, &flip_z, ClipConvention::OpenGl, W, H).unwrap();
    let c = &px.camera;
    assert_eq!(
        (c.fx, c.fy, c.cx, c.cy, c.projection),
        (1.0, 1.0, 0.0, 0.0, Projection::Orthographic),
        "{c:?}"
    );
    assert_eq!(
        c.world_to_camera,
        DMat4::IDENTITY
            .to_cols_array_2d()
            .map(|r| r.map(|x| x as f32))
    );
    assert!(
        close(px.near, -1.0, 1e-6) && close(px.far, 1.0, 1e-6),
        "{px:?}"
    );
}

#[test]
fn directxmath_orthographic_off_centre_lh_as_stored() {
    // XMMatrixOrthographicOffCenterLH(l, r, b, t, n, f): row vectors, stored row by row.
    let (l, r, b, t, n, f) = (-4.0f64, 5.0, -2.5, 3.5, 0.5, 40.0);
    let rows = [
        [2.0 / (r - l), 0.0, 0.0, 0.0],
        [0.0, 2.0 / (t - b), 0.0, 0.0],
        [0.0, 0.0, 1.0 / (f - n), 0.0],
        [(l + r) / (l - r), (t + b) / (b - t), n / (n - f), 1.0],
    ];
    let p: [f32; 16] = std::array::from_fn(|k| rows[k / 4][k % 4] as f32);
    let identity = DMat4::IDENTITY.to_cols_array().map(|x| x as f32);
    // The left-handed view space used as the scene's frame is mirrored: refused.
    let e = camera_from_clip(&p, &identity, ClipConvention::Direct3D, W, H).unwrap_err();
    assert!(e.contains("mirrored"), "{e}");
    // The scene's frame (y down) flipped into D3D's view space (y up, looking along +z).
    let flip_y = DMat4::from_diagonal(DVec4::new(1.0, -1.0, 1.0, 1.0))
        .to_cols_array()
        .map(|x| x as f32);
    let got = camera_from_clip(&p, &flip_y, ClipConvention::Direct3D, W, H).unwrap();
    let c = &got.camera;
    let want = window_camera(
        [l, r, b, t],
        [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ],
    );
    assert_same_camera(c, &want, "D3D");
    assert!(
        close(got.near, n, 1e-5) && close(got.far, f, 1e-5),
        "{got:?}"
    );
    assert!(!got.reversed_z);
}

#[test]
fn refused_orthographic_matrices() {
    let cam = ortho_test_camera();
    let gl = ClipConvention::OpenGl;
    let (p, v) = clip_matrices(&cam, gl, 0.1, 10.0, false).unwrap();
    let refused = |p: &[f32; 16], want: &str| {
        let e = camera_from_clip(p, &v, gl, W, H).unwrap_err();
        assert!(e.contains(want), "want '{want}': {e}");
    };
    let mut zero = p;
    zero[15] = 0.0;
    refused(&zero, "singular");
    let mut no_x = p;
    for k in [0, 4, 8, 12] {
        no_x[k] = 0.0;
    }
    refused(&no_x, "one image column");
    let mut no_y = p;
    for k in [1, 5, 9, 13] {
        no_y[k] = 0.0;
    }
    refused(&no_y, "one image row");
    let mut skewed = p;
    skewed[4] = 0.2 * p[0]; // x depends on view y
    refused(&skewed, "skew");
    let mut flat = p;
    for k in [2, 6, 10] {
        flat[k] = 0.0;
    }
    refused(&flat, "one depth");
    let mut oblique = p;
    oblique[2] = 0.5 * p[10]; // depth depends on view x
    refused(&oblique, "oblique");
    // Both planes behind the eye (far −1): nothing in front to draw.
    let (behind, _) = clip_matrices(&cam, gl, 0.1, 10.0, false).unwrap();
    let mut behind = behind;
    behind[14] += 2.0 * behind[10].abs() * 11.0; // shift NDC depth by 11 units of depth
    refused(&behind, "far plane");
    // Mirrored: x negated.
    let mut mirrored = p;
    for k in [0, 4, 8, 12] {
        mirrored[k] = -mirrored[k];
    }
    refused(&mirrored, "mirrored");
    let e = clip_matrices(&cam, gl, 1.0, f64::INFINITY, false).unwrap_err();
    assert!(e.contains("finite"), "{e}");
}

fn scene_from(engine_from_scene: &[[f64; 3]; 3], x: [f64; 3]) -> DVec3 {
    DMat3::from_cols_array_2d(engine_from_scene)
        .transpose()
        .inverse()
        * DVec3::from(x)
}

#[test]
fn unity_camera_axes() {
    let f = 240.0 / 30f64.to_radians().tan();
    let c = unity_camera([0.0; 3], [0.0, 0.0, 0.0, 1.0], 60.0, W, H).unwrap();
    assert!(close(f64::from(c.fy), f, 1e-6) && c.fx == c.fy && c.cx == 320.0 && c.cy == 240.0);
    let id = Camera::centred(
        c.name.clone(),
        W,
        H,
        f,
        [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ],
    );
    assert_eq!(c.world_to_camera, id.world_to_camera);
    // Unity +y is up the image, +x right.
    let (u, v, d) = project_camera(&c, scene_from(&UNITY_FROM_SCENE, [0.5, 1.0, 5.0]));
    assert!(
        u > 320.0 && v < 240.0 && close(d, 5.0, 1e-9),
        "({u}, {v}, {d})"
    );
    // Yaw 90° about Unity's y: the camera looks along +x and its right is −z.
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let pos = [1.0, 2.0, 3.0];
    let c = unity_camera(pos, [0.0, s, 0.0, s], 60.0, W, H).unwrap();
    let (u, v, d) = project_camera(&c, scene_from(&UNITY_FROM_SCENE, [5.0, 2.0, 3.0]));
    assert!(
        (u - 320.0).abs() < 1e-3 && (v - 240.0).abs() < 1e-3 && close(d, 4.0, 1e-6),
        "({u}, {v}, {d})"
    );
    let (u, _, _) = project_camera(&c, scene_from(&UNITY_FROM_SCENE, [5.0, 2.0, 2.0]));
    assert!((u - (320.0 + f / 4.0)).abs() < 1e-3, "{u}");
    let e = unity_camera(pos, [0.0; 4], 60.0, W, H).unwrap_err();
    assert!(e.contains("quaternion"), "{e}");
    let e = unity_camera(pos, [0.0, 0.0, 0.0, 1.0], 180.0, W, H).unwrap_err();
    assert!(e.contains("field of view"), "{e}");
}

#[test]
fn unreal_camera_axes_and_centimetres() {
    // 90° horizontal: focal = 320 px.
    let c = unreal_camera([0.0; 3], [0.0, 0.0, 0.0, 1.0], 90.0, W, H).unwrap();
    assert!(close(f64::from(c.fx), 320.0, 1e-6));
    for (i, row) in c.world_to_camera.iter().enumerate() {
        for (j, &e) in row.iter().enumerate() {
            assert!((e - if i == j { 1.0 } else { 0.0 }).abs() < 1e-6, "{c:?}");
        }
    }
    // 5 m forward, 1 m right, 0.5 m up.
    let (u, v, d) = project_camera(&c, scene_from(&UNREAL_FROM_SCENE, [500.0, 100.0, 50.0]));
    assert!(
        (u - 384.0).abs() < 1e-3 && (v - 208.0).abs() < 1e-3 && close(d, 5.0, 1e-6),
        "({u}, {v}, {d})"
    );
    // Yaw 90° about Z: looks along +Y, its right is −X; located at (100, 200, 300) cm.
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let c = unreal_camera([100.0, 200.0, 300.0], [0.0, 0.0, s, s], 90.0, W, H).unwrap();
    let (u, v, d) = project_camera(&c, scene_from(&UNREAL_FROM_SCENE, [0.0, 500.0, 300.0]));
    assert!(
        (u - (320.0 + 320.0 / 3.0)).abs() < 1e-3 && (v - 240.0).abs() < 1e-3 && close(d, 3.0, 1e-6),
        "({u}, {v}, {d})"
    );
}
