//! The C API's engine camera helpers: the same cameras as `vksplat_io::camera`'s conversions,
//! the optional outputs, and argument errors.

use vksplat::{
    vksplat_camera_from_clip, vksplat_camera_from_unity, vksplat_camera_from_unreal,
    vksplat_context_destroy, vksplat_render, vksplat_scene_destroy,
};
use vksplat_abi::*;

mod common;
use common::{context, image, last_error, render_desc, scene_from_row, Row};
use vksplat_io::camera::{self, ClipConvention};
use vksplat_io::{Camera, Projection};

fn blank() -> VksplatCamera {
    VksplatCamera {
        s_type: VKSPLAT_STRUCT_CAMERA,
        s_size: std::mem::size_of::<VksplatCamera>() as u32,
        next: std::ptr::null(),
        width: 0,
        height: 0,
        fx: 0.0,
        fy: 0.0,
        cx: 0.0,
        cy: 0.0,
        world_to_camera: [0.0; 16],
        projection: 0,
        reserved: 0,
    }
}

fn assert_same(c: &VksplatCamera, r: &Camera) {
    assert_eq!((c.width, c.height), (r.width, r.height));
    assert_eq!((c.fx, c.fy, c.cx, c.cy), (r.fx, r.fy, r.cx, r.cy));
    let rows: Vec<f32> = r.world_to_camera.iter().flatten().copied().collect();
    assert_eq!(c.world_to_camera.to_vec(), rows);
}

fn reference_camera() -> Camera {
    let s = 0.5f32.sqrt();
    Camera {
        name: "c".into(),
        width: 320,
        height: 200,
        fx: 300.0,
        fy: 290.0,
        cx: 150.0,
        cy: 110.0,
        // A quarter turn about y, then a shift.
        world_to_camera: [
            [s, 0.0, -s, 0.5],
            [0.0, 1.0, 0.0, -0.25],
            [s, 0.0, s, 3.0],
            [0.0, 0.0, 0.0, 1.0],
        ],
        projection: Default::default(),
    }
}

#[test]
fn from_clip_matches_the_rust_conversion_in_every_convention() {
    let cam = reference_camera();
    for (code, conv) in [
        (VKSPLAT_CLIP_OPENGL, ClipConvention::OpenGl),
        (VKSPLAT_CLIP_VULKAN, ClipConvention::Vulkan),
        (VKSPLAT_CLIP_DIRECT3D, ClipConvention::Direct3D),
    ] {
        let (p, v) =
            camera::clip_matrices(&cam, conv, 0.1, 50.0, code == VKSPLAT_CLIP_VULKAN).unwrap();
        let want = camera::camera_from_clip(&p, &v, conv, 320, 200).unwrap();
        let (out, range, reversed) = from_clip(&p, &v, code, 320, 200);
        assert_same(&out, &want.camera);
        assert_eq!(range, [want.near, want.far]);
        assert_eq!(reversed, u32::from(code == VKSPLAT_CLIP_VULKAN));
        assert!(
            (range[0] - 0.1).abs() < 1e-5 && (range[1] - 50.0).abs() < 1e-2,
            "{range:?}"
        );
        // The optional outputs may be NULL.
        let mut again = blank();
        // SAFETY: as above, without the optional outputs.
        let r = unsafe {
            vksplat_camera_from_clip(
                p.as_ptr(),
                v.as_ptr(),
                code,
                320,
                200,
                &mut again,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(r, VKSPLAT_OK);
        assert_same(&again, &want.camera);
    }
}

/// `vksplat_camera_from_clip` of `(p, v)`: the camera, the depth range and reversed Z.
fn from_clip(
    p: &[f32; 16],
    v: &[f32; 16],
    code: u32,
    w: u32,
    h: u32,
) -> (VksplatCamera, [f64; 2], u32) {
    let mut out = blank();
    let mut range = [0.0f64; 2];
    let mut reversed = 7u32;
    // SAFETY: 16 floats each, a camera with its header, 2 doubles, one u32.
    let r = unsafe {
        vksplat_camera_from_clip(
            p.as_ptr(),
            v.as_ptr(),
            code,
            w,
            h,
            &mut out,
            range.as_mut_ptr(),
            &mut reversed,
        )
    };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    (out, range, reversed)
}

/// A few splats at depths 2..6 spread over the image of `ortho_camera`.
fn ortho_scene() -> Row {
    let mut r: Row = Default::default();
    for k in 0..9 {
        let k = k as f32;
        r.0.extend([
            (k % 3.0 - 1.0) * 0.8,
            (k / 3.0).floor() * 0.5 - 0.5,
            2.0 + 0.5 * k,
        ]);
        r.1.extend([1.0, 0.1 * k, 0.0, 0.2]);
        r.2.extend([0.12f32.ln(), 0.08f32.ln(), 0.1f32.ln()]);
        r.3.push(1.5);
        r.4.extend([0.8, 0.1 * k, 0.4]);
    }
    r
}

fn ortho_camera() -> Camera {
    let (c, s) = (0.2f32.cos(), 0.2f32.sin());
    Camera {
        name: "ortho".into(),
        width: 96,
        height: 64,
        fx: 40.0,
        fy: 38.5,
        cx: 50.5,
        cy: 30.25,
        // A turn about y, then a shift.
        world_to_camera: [
            [c, 0.0, -s, 0.1],
            [0.0, 1.0, 0.0, -0.2],
            [s, 0.0, c, 1.0],
            [0.0, 0.0, 0.0, 1.0],
        ],
        projection: Projection::Orthographic,
    }
}

/// Orthographic matrices built the GL, Vulkan and D3D way (glOrtho's formula, the Vulkan
/// depth range with y down, reversed Z) give the camera set directly: the same fields to f32
/// rounding, the planes, and the same image through `vksplat_render`.
#[test]
fn from_clip_orthographic_renders_like_the_direct_camera() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let cam = ortho_camera();
    let ctx = context();
    let scene = scene_from_row(ctx, &ortho_scene());
    let render = |c: &VksplatCamera| {
        let d = render_desc(c, [0.0; 3]);
        let mut rgba = vec![0.0f32; (c.width * c.height * 4) as usize];
        let img = image(c.width, c.height, &mut rgba, None);
        // SAFETY: live context and scene; the buffer is as large as its size says.
        let r = unsafe { vksplat_render(ctx, scene, &d, &img) };
        assert_eq!(r, VKSPLAT_OK, "{}", last_error());
        rgba
    };
    let mut direct = blank();
    (direct.width, direct.height) = (cam.width, cam.height);
    (direct.fx, direct.fy, direct.cx, direct.cy) = (cam.fx, cam.fy, cam.cx, cam.cy);
    direct.world_to_camera = std::array::from_fn(|k| cam.world_to_camera[k / 4][k % 4]);
    direct.projection = VKSPLAT_PROJECTION_ORTHOGRAPHIC;
    let want = render(&direct);
    assert!(want.iter().skip(3).step_by(4).filter(|a| **a > 0.1).count() > 100);
    for (code, conv) in [
        (VKSPLAT_CLIP_OPENGL, ClipConvention::OpenGl),
        (VKSPLAT_CLIP_VULKAN, ClipConvention::Vulkan),
        (VKSPLAT_CLIP_DIRECT3D, ClipConvention::Direct3D),
    ] {
        for reversed in [false, true] {
            let (p, v) = camera::clip_matrices(&cam, conv, 0.5, 30.0, reversed).unwrap();
            let (got, range, rev) = from_clip(&p, &v, code, cam.width, cam.height);
            let what = format!("{conv:?} reversed {reversed}");
            assert_eq!(got.projection, VKSPLAT_PROJECTION_ORTHOGRAPHIC, "{what}");
            assert_eq!(rev, u32::from(reversed), "{what}");
            assert!(
                (range[0] - 0.5).abs() < 1e-5 && (range[1] - 30.0).abs() < 1e-4,
                "{what}: {range:?}"
            );
            for (a, b) in [
                (got.fx, cam.fx),
                (got.fy, cam.fy),
                (got.cx, cam.cx),
                (got.cy, cam.cy),
            ]
            .into_iter()
            .chain(
                got.world_to_camera
                    .iter()
                    .copied()
                    .zip(direct.world_to_camera),
            ) {
                assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{what}: {got:?}");
            }
            let (max, _) = vksplat_tests::compare(&render(&got), &want, 0.0, 0.0);
            assert!(max < 1e-3, "{what}: the image differs by {max}");
        }
    }
    // SAFETY: created above; no other call uses them.
    unsafe {
        vksplat_scene_destroy(scene);
        vksplat_context_destroy(ctx);
    }
}

#[test]
fn from_clip_refuses_bad_arguments() {
    let cam = reference_camera();
    let (p, v) = camera::clip_matrices(&cam, ClipConvention::OpenGl, 0.1, 50.0, false).unwrap();
    let call = |p: *const f32, conv: u32, out: *mut VksplatCamera| {
        // SAFETY: p is NULL or 16 floats; out is NULL or a camera with its header.
        unsafe {
            vksplat_camera_from_clip(
                p,
                v.as_ptr(),
                conv,
                320,
                200,
                out,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        }
    };
    let mut out = blank();
    assert_eq!(
        call(p.as_ptr(), 3, &mut out),
        VKSPLAT_ERROR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("convention 3"), "{}", last_error());
    assert_eq!(
        call(std::ptr::null(), VKSPLAT_CLIP_OPENGL, &mut out),
        VKSPLAT_ERROR_INVALID_ARGUMENT
    );
    assert!(
        last_error().contains("projection is NULL"),
        "{}",
        last_error()
    );
    // An oblique orthographic projection (depth depends on x).
    let mut ortho = [0.0f32; 16];
    (ortho[0], ortho[5], ortho[10], ortho[15]) = (1.0, 1.0, -0.2, 1.0);
    ortho[2] = 0.1;
    assert_eq!(
        call(ortho.as_ptr(), VKSPLAT_CLIP_OPENGL, &mut out),
        VKSPLAT_ERROR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("oblique"), "{}", last_error());
    // A zero last row.
    let mut singular = ortho;
    (singular[2], singular[15]) = (0.0, 0.0);
    assert_eq!(
        call(singular.as_ptr(), VKSPLAT_CLIP_OPENGL, &mut out),
        VKSPLAT_ERROR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("singular"), "{}", last_error());
    assert_ne!(
        call(p.as_ptr(), VKSPLAT_CLIP_OPENGL, std::ptr::null_mut()),
        VKSPLAT_OK
    );
    assert!(last_error().contains("camera"), "{}", last_error());
    // Nothing was written by the failed calls.
    assert_eq!(out.width, 0);
    let mut small = blank();
    small.s_size = 8;
    assert_eq!(
        call(p.as_ptr(), VKSPLAT_CLIP_OPENGL, &mut small),
        VKSPLAT_ERROR_STRUCT_SIZE
    );
}

#[test]
fn unity_and_unreal_match_the_rust_conversions() {
    let pos = [1.0, 2.0, -3.0];
    let q = [0.1, 0.3, -0.2, 0.93];
    let n = q.iter().map(|x: &f64| x * x).sum::<f64>().sqrt();
    let q = q.map(|x| x / n);
    let mut out = blank();
    // SAFETY: 3 and 4 doubles, a camera with its header.
    let r =
        unsafe { vksplat_camera_from_unity(pos.as_ptr(), q.as_ptr(), 60.0, 640, 480, &mut out) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    assert_same(&out, &camera::unity_camera(pos, q, 60.0, 640, 480).unwrap());
    let loc = [150.0, -20.0, 80.0];
    // SAFETY: as above.
    let r =
        unsafe { vksplat_camera_from_unreal(loc.as_ptr(), q.as_ptr(), 90.0, 640, 480, &mut out) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    assert_same(
        &out,
        &camera::unreal_camera(loc, q, 90.0, 640, 480).unwrap(),
    );
    // SAFETY: a NULL rotation is refused before anything is read.
    let r = unsafe {
        vksplat_camera_from_unreal(loc.as_ptr(), std::ptr::null(), 90.0, 640, 480, &mut out)
    };
    assert_eq!(r, VKSPLAT_ERROR_INVALID_ARGUMENT);
    assert!(
        last_error().contains("rotation is NULL"),
        "{}",
        last_error()
    );
    // SAFETY: as above.
    let r = unsafe { vksplat_camera_from_unity(pos.as_ptr(), q.as_ptr(), 0.0, 640, 480, &mut out) };
    assert_eq!(r, VKSPLAT_ERROR_INVALID_ARGUMENT);
    assert!(last_error().contains("field of view"), "{}", last_error());
}
