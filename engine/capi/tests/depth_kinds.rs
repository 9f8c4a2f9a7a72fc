//! `VksplatRenderDesc::depth_kind` through the C ABI: each `VKSPLAT_DEPTH_*` writes the CPU
//! reference's depth of that kind (exact median and first-hit depths on a hand-built stack),
//! the colour does not depend on the kind, a descriptor too small to hold the field renders
//! the expected depth, and an unknown kind or a non-zero `reserved2` is refused. The kinds
//! themselves are tested in every mode against the CPU reference in tests/depth_kinds.rs.

use vksplat::{vksplat_context_destroy, vksplat_render, vksplat_scene_destroy};
use vksplat_abi::*;
use vksplat_core::{reference, DepthKind, RenderSettings};
use vksplat_io::Splats;

mod common;
use common::{camera, context, image, last_error, render_desc, scene_from_row, Row};

const W: u32 = 64;
const H: u32 = 32;
const F: f32 = 50.0;

/// A stack on pixel (16, 16): opacities 0.3, 0.4, 0.9 at depths 2, 3, 5 (T 0.7, 0.42, 0.042:
/// median 3, first 2), and one splat of opacity 0.3 at depth 6 on pixel (48, 16) (T stays
/// above 0.5: median 0, first 6).
fn stack() -> Row {
    let mut r: Row = Default::default();
    for (px, z, o) in [
        (16.0f32, 5.0f32, 0.9f32),
        (16.0, 2.0, 0.3),
        (16.0, 3.0, 0.4),
        (48.0, 6.0, 0.3),
    ] {
        r.0.extend([(px + 0.5 - 32.5) / F * z, 0.0, z]);
        r.1.extend([1.0, 0.0, 0.0, 0.0]);
        r.2.extend([(2.0 * z / F).ln(); 3]);
        r.3.push((o / (1.0 - o)).ln());
        r.4.extend([0.5, 0.2, -0.1]);
    }
    r
}

fn as_splats(r: &Row) -> Splats {
    Splats {
        means: r.0.chunks(3).map(|c| [c[0], c[1], c[2]]).collect(),
        rotations: r.1.chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect(),
        log_scales: r.2.chunks(3).map(|c| [c[0], c[1], c[2]]).collect(),
        opacity_logits: r.3.clone(),
        sh_degree: 0,
        sh: r.4.clone(),
    }
}

#[test]
fn depth_kinds_through_the_c_api() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let ctx = context();
    let row = stack();
    let scene = scene_from_row(ctx, &row);

    let cam = camera(W, H, F, 32.5, 16.5);
    let base = render_desc(&cam, [0.0; 3]);
    let render = |desc: &VksplatRenderDesc| {
        let mut rgba = vec![0.0f32; (W * H * 4) as usize];
        let mut depth = vec![-1.0f32; (W * H) as usize];
        let img = image(W, H, &mut rgba, Some(&mut depth));
        // SAFETY: live context and scene; the buffers are as large as their sizes say.
        let r = unsafe { vksplat_render(ctx, scene, desc, &img) };
        (r, rgba, depth)
    };
    let ok = |desc: &VksplatRenderDesc| {
        let (r, rgba, depth) = render(desc);
        assert_eq!(r, VKSPLAT_OK, "{}", last_error());
        (rgba, depth)
    };

    let (rgba_expected, expected) = ok(&base);
    // The same camera for the CPU reference.
    let camera = vksplat_tests::camera(W, H, F, F, 32.5, 16.5);
    let px = |v: &[f32], x: u32| v[(16 * W + x) as usize];
    for (code, kind) in [
        (VKSPLAT_DEPTH_EXPECTED, DepthKind::Expected),
        (VKSPLAT_DEPTH_MEDIAN, DepthKind::Median),
        (VKSPLAT_DEPTH_FIRST, DepthKind::First),
    ] {
        let mut d = base;
        d.depth_kind = code;
        let (rgba, depth) = ok(&d);
        assert!(rgba == rgba_expected, "{kind:?}: the colour changed");
        let settings = RenderSettings {
            depth: kind,
            ..Default::default()
        };
        let cpu = reference::render(&as_splats(&row), &camera, &settings);
        let (max, bad) = vksplat_tests::compare(&depth, &cpu.depth, 1e-5, 1e-5);
        assert!(bad == 0.0, "{kind:?}: depth vs the reference, max {max}");
        let (stack, alone) = (px(&depth, 16), px(&depth, 48));
        match kind {
            DepthKind::Expected => {
                assert!(depth == expected);
                assert!(stack > 2.0 && stack < 5.0 && (alone - 6.0).abs() < 1e-5);
            }
            DepthKind::Median => assert_eq!((stack, alone), (3.0, 0.0)),
            DepthKind::First => assert_eq!((stack, alone), (2.0, 6.0)),
        }
        assert_eq!(depth[0], 0.0, "{kind:?}: an empty pixel");
    }

    // A descriptor that ends before depth_kind (the previous version) renders the expected
    // depth whatever follows it in memory.
    let mut old = base;
    old.s_size = std::mem::offset_of!(VksplatRenderDesc, depth_kind) as u32;
    old.depth_kind = VKSPLAT_DEPTH_MEDIAN;
    old.reserved2 = 9;
    assert!(ok(&old).1 == expected);

    for (bad, want) in [
        (
            VksplatRenderDesc {
                depth_kind: 3,
                ..base
            },
            "depth_kind 3 is not a VKSPLAT_DEPTH_* value",
        ),
        (
            VksplatRenderDesc {
                reserved2: 1,
                ..base
            },
            "VksplatRenderDesc.reserved2",
        ),
    ] {
        let (r, _, _) = render(&bad);
        assert_eq!(r, VKSPLAT_ERROR_INVALID_ARGUMENT);
        assert!(last_error().contains(want), "{}", last_error());
    }

    // SAFETY: created above; no other call uses them.
    unsafe {
        vksplat_scene_destroy(scene);
        vksplat_context_destroy(ctx);
    }
}
