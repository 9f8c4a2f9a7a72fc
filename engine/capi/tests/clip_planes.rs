//! `VksplatRenderDesc::clip_near`/`clip_far` through the C ABI: a clipped frame equals the
//! frame of only the splats inside the planes, bit for bit; a descriptor of the size before
//! the planes existed never reads them; bad planes are refused naming the problem. The
//! culling itself is tested against the CPU reference in tests/clip_planes.rs.

use vksplat::{vksplat_context_destroy, vksplat_render, vksplat_scene_destroy};
use vksplat_abi::*;

mod common;
use common::{camera, context, image, last_error, render_desc, scene_from_row, Row};

const W: u32 = 64;
const H: u32 = 48;

/// Splats side by side on screen at these depths (`k`: the slot, `z`: the depth).
fn row(depths: &[(usize, f32)]) -> Row {
    let mut r: Row = Default::default();
    for &(k, z) in depths {
        let x_px = -20.0 + 20.0 * k as f32;
        r.0.extend([x_px / 50.0 * z, 0.0, z]);
        r.1.extend([1.0, 0.0, 0.0, 0.0]);
        r.2.extend([(0.04 * z).ln(); 3]);
        r.3.push(2.0);
        r.4.extend([0.8, 0.1 * k as f32, 0.4]);
    }
    r
}

#[test]
fn clip_planes_through_the_c_api() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let ctx = context();
    let all = [(0, 1.0), (1, 3.0), (2, 9.0)];
    let full = scene_from_row(ctx, &row(&all));
    let near_two = scene_from_row(ctx, &row(&all[..2]));
    let far_two = scene_from_row(ctx, &row(&all[1..]));

    let cam = camera(W, H, 50.0, 32.0, 24.0);
    let base = render_desc(&cam, [0.2, 0.1, 0.0]);
    let render = |scene: *mut VksplatScene, desc: &VksplatRenderDesc| {
        let mut rgba = vec![0.0f32; (W * H * 4) as usize];
        let img = image(W, H, &mut rgba, None);
        // SAFETY: live context and scene; the image buffer is as large as its size says.
        let r = unsafe { vksplat_render(ctx, scene, desc, &img) };
        (r, rgba.iter().map(|v| v.to_bits()).collect::<Vec<u32>>())
    };
    let ok = |scene, desc: &VksplatRenderDesc| {
        let (r, bits) = render(scene, desc);
        assert_eq!(r, VKSPLAT_OK, "{}", last_error());
        bits
    };

    let unclipped = ok(full, &base);
    let mut far = base;
    far.flags = VKSPLAT_RENDER_CLIP_FAR;
    far.clip_far = 5.0;
    assert!(ok(full, &far) == ok(near_two, &base), "far plane at 5");
    assert!(ok(full, &far) != unclipped);
    let mut near = base;
    near.flags = VKSPLAT_RENDER_CLIP_NEAR;
    near.clip_near = 2.0;
    assert!(ok(full, &near) == ok(far_two, &base), "near plane at 2");
    let mut both = base;
    both.flags = VKSPLAT_RENDER_CLIP_NEAR | VKSPLAT_RENDER_CLIP_FAR;
    (both.clip_near, both.clip_far) = (2.0, 5.0);
    let middle = scene_from_row(ctx, &row(&all[1..2]));
    assert!(ok(full, &both) == ok(middle, &base), "planes at 2 and 5");

    // A caller compiled before the planes existed: its s_size ends at `camera`, so the bytes
    // beyond (here a far plane without its flag) are never read.
    let mut old = base;
    old.s_size = std::mem::offset_of!(VksplatRenderDesc, clip_near) as u32;
    old.clip_far = 5.0;
    assert!(ok(full, &old) == unclipped, "an old-sized descriptor");

    let mut no_flag = base;
    no_flag.clip_far = 5.0;
    let mut inverted = both;
    (inverted.clip_near, inverted.clip_far) = (5.0, 2.0);
    let mut nan = near;
    nan.clip_near = f32::NAN;
    let mut negative = near;
    negative.clip_near = -1.0;
    for (desc, want) in [
        (
            no_flag,
            "desc: clip_far is 5 but flags lacks VKSPLAT_RENDER_CLIP_FAR",
        ),
        (
            inverted,
            "desc: far clip plane 2 is not beyond the near clip plane 5",
        ),
        (nan, "desc: near clip plane NaN"),
        (negative, "desc: near clip plane -1"),
    ] {
        let (r, _) = render(full, &desc);
        let msg = last_error();
        assert_eq!(r, VKSPLAT_ERROR_INVALID_ARGUMENT, "{msg}");
        assert!(msg.contains(want), "{msg}");
    }

    // SAFETY: created above; no other call uses them.
    unsafe {
        for s in [full, near_two, far_two, middle] {
            vksplat_scene_destroy(s);
        }
        vksplat_context_destroy(ctx);
    }
}
