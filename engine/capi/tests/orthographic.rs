//! `VksplatCamera::projection` through the C ABI: an orthographic camera renders a splat the
//! same at any depth (a perspective one does not), a camera of the version-1 size is
//! perspective whatever follows it, an unknown projection is refused, and the camera
//! converters write the field. The projection itself is tested against the CPU reference in
//! tests/orthographic.rs.

use vksplat::{vksplat_context_destroy, vksplat_render, vksplat_scene_destroy};
use vksplat_abi::*;

mod common;
use common::{camera, context, image, last_error, render_desc, scene_from_row, Row};

const W: u32 = 64;
const H: u32 = 48;

/// Splats side by side at these depths (`k`: the slot, `z`: the depth).
fn row(depths: &[(usize, f32)]) -> Row {
    let mut r: Row = Default::default();
    for &(k, z) in depths {
        let x_px = -20.0 + 20.0 * k as f32;
        // The same place and size in x, y at every depth.
        r.0.extend([x_px / 50.0, 0.0, z]);
        r.1.extend([1.0, 0.0, 0.0, 0.0]);
        r.2.extend([0.1f32.ln(); 3]);
        r.3.push(2.0);
        r.4.extend([0.8, 0.1 * k as f32, 0.4]);
    }
    r
}

#[test]
fn orthographic_cameras_through_the_c_api() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let ctx = context();
    let near = scene_from_row(ctx, &row(&[(1, 2.0)]));
    let far = scene_from_row(ctx, &row(&[(1, 8.0)]));

    let cam = camera(W, H, 50.0, 32.0, 24.0);
    let render = |scene: *mut VksplatScene, cam: &VksplatCamera| {
        let d = render_desc(cam, [0.0; 3]);
        let mut rgba = vec![0.0f32; (W * H * 4) as usize];
        let img = image(W, H, &mut rgba, None);
        // SAFETY: live context and scene; the image buffer is as large as its size says.
        let r = unsafe { vksplat_render(ctx, scene, &d, &img) };
        (r, rgba)
    };
    let ok = |scene, cam: &VksplatCamera| {
        let (r, rgba) = render(scene, cam);
        assert_eq!(r, VKSPLAT_OK, "{}", last_error());
        rgba
    };
    let covered = |rgba: &[f32]| rgba.iter().skip(3).step_by(4).filter(|a| **a > 0.1).count();

    // Perspective: the splat 4 times farther covers far fewer pixels.
    let (pn, pf) = (ok(near, &cam), ok(far, &cam));
    assert!(
        covered(&pf) * 4 < covered(&pn),
        "{} vs {}",
        covered(&pf),
        covered(&pn)
    );
    // Orthographic (50 px per unit): the same image at both depths.
    let mut ortho = cam;
    ortho.projection = VKSPLAT_PROJECTION_ORTHOGRAPHIC;
    let (on, of) = (ok(near, &ortho), ok(far, &ortho));
    assert!(covered(&on) > 20);
    let (max, _) = vksplat_tests::compare(&on, &of, 0.0, 0.0);
    assert!(max < 1e-5, "orthographic images differ by {max}");
    assert!(on != pn);

    // Version-1 size: the bytes after world_to_camera are not read.
    let mut old = ortho;
    old.s_size = VKSPLAT_CAMERA_V1_SIZE;
    assert!(ok(near, &old) == pn, "a version-1 camera is perspective");

    let mut bad = cam;
    bad.projection = 7;
    let (r, _) = render(near, &bad);
    assert_eq!(r, VKSPLAT_ERROR_INVALID_ARGUMENT);
    assert!(
        last_error().contains("desc.camera: projection 7 unknown"),
        "{}",
        last_error()
    );

    // SAFETY: created above; no other call uses them.
    unsafe {
        vksplat_scene_destroy(near);
        vksplat_scene_destroy(far);
        vksplat_context_destroy(ctx);
    }
}
