//! `VksplatHostDepth` chained into `VksplatRenderDesc::next` through the C ABI: a constant
//! host depth equals the far clip plane bit for bit in `vksplat_render`,
//! `vksplat_render_instances` and `vksplat_render_submit`; a cleared depth buffer occludes
//! nothing; bad host depths are refused naming the problem. The occlusion rule itself is
//! tested against the CPU reference in tests/occlusion.rs, host depth images by the C++ host
//! (tests/embed.rs, scenario occlusion).

use std::ffi::c_void;

use vksplat::{
    vksplat_context_destroy, vksplat_render, vksplat_render_instances, vksplat_scene_destroy,
};
use vksplat_abi::*;

mod common;
use common::{
    camera, context, image, instance, last_error, render_desc, scene_from_row, zeroed, Row,
    IDENTITY,
};

const W: u32 = 64;
const H: u32 = 48;

/// Splats side by side on screen at depths 1, 3 and 9, each over the next.
fn row() -> Row {
    let mut r: Row = Default::default();
    for (k, z) in [(0, 1.0f32), (1, 3.0), (2, 9.0)] {
        let x_px = -8.0 + 8.0 * k as f32;
        r.0.extend([x_px / 50.0 * z, 0.0, z]);
        r.1.extend([1.0, 0.0, 0.0, 0.0]);
        r.2.extend([(0.1 * z).ln(); 3]);
        r.3.push(2.0);
        r.4.extend([0.8, 0.3 * k as f32, 0.4]);
    }
    r
}

fn host_depth(convention: u32, values: &[f32]) -> VksplatHostDepth {
    let mut hd: VksplatHostDepth = zeroed();
    hd.s_type = VKSPLAT_STRUCT_HOST_DEPTH;
    hd.s_size = std::mem::size_of::<VksplatHostDepth>() as u32;
    hd.convention = convention;
    if convention != VKSPLAT_HOST_DEPTH_LINEAR {
        (hd.depth_near, hd.depth_far) = (0.5, 100.0);
    }
    hd.values = values.as_ptr();
    hd.value_count = values.len() as u64;
    hd
}

#[test]
fn host_depth_through_the_c_api() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let ctx = context();
    let scene = scene_from_row(ctx, &row());

    let cam = camera(W, H, 50.0, 32.0, 24.0);
    let base = render_desc(&cam, [0.2, 0.1, 0.0]);
    let render = |desc: &VksplatRenderDesc| {
        let mut rgba = vec![0.0f32; (W * H * 4) as usize];
        // SAFETY: live context and scene; the image buffer is as large as its size says; the
        // descriptor's chain holds host depths whose arrays outlive the call.
        let r = unsafe { vksplat_render(ctx, scene, desc, &image(W, H, &mut rgba, None)) };
        (r, rgba.iter().map(|v| v.to_bits()).collect::<Vec<u32>>())
    };
    let ok = |desc: &VksplatRenderDesc| {
        let (r, bits) = render(desc);
        assert_eq!(r, VKSPLAT_OK, "{}", last_error());
        bits
    };
    let with = |hd: &VksplatHostDepth| {
        let mut d = base;
        d.next = hd as *const VksplatHostDepth as *const c_void;
        d
    };
    let pixels = (W * H) as usize;

    // A constant linear host depth of 5 is the far clip plane at 5: the splat at 9 vanishes.
    let plain = ok(&base);
    let mut far = base;
    far.flags = VKSPLAT_RENDER_CLIP_FAR;
    far.clip_far = 5.0;
    let clipped = ok(&far);
    assert_ne!(clipped, plain, "the far splat shows");
    let fives = vec![5.0f32; pixels];
    let hd = host_depth(VKSPLAT_HOST_DEPTH_LINEAR, &fives);
    assert_eq!(ok(&with(&hd)), clipped, "vksplat_render");

    // The same through vksplat_render_instances (one identity instance) ...
    let inst = instance(scene, IDENTITY, 1.0);
    let list = [&inst as *const VksplatSceneInstance];
    let mut rgba = vec![0.0f32; pixels * 4];
    // SAFETY: live context, one readable instance, the image and the chain as above.
    let r = unsafe {
        vksplat_render_instances(
            ctx,
            list.as_ptr(),
            1,
            &with(&hd),
            &image(W, H, &mut rgba, None),
        )
    };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    let bits: Vec<u32> = rgba.iter().map(|v| v.to_bits()).collect();
    assert_eq!(bits, clipped, "vksplat_render_instances");

    // ... and a submitted frame, whose host depth is copied at the call (the array is
    // overwritten before the frame is waited for).
    let mut staged = fives.clone();
    let hd_staged = host_depth(VKSPLAT_HOST_DEPTH_LINEAR, &staged);
    let mut rgba = vec![0.0f32; pixels * 4];
    let mut frame = 0u64;
    // SAFETY: as above; `rgba` outlives the wait.
    let r = unsafe {
        vksplat_render_submit(
            ctx,
            scene,
            &with(&hd_staged),
            &image(W, H, &mut rgba, None),
            &mut frame,
        )
    };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    staged.fill(0.5);
    // SAFETY: live context.
    let waited = unsafe { vksplat_frame_wait(ctx, frame) };
    assert_eq!(waited, VKSPLAT_OK, "{}", last_error());
    let bits: Vec<u32> = rgba.iter().map(|v| v.to_bits()).collect();
    assert_eq!(bits, clipped, "vksplat_render_submit");

    // A cleared Vulkan depth buffer (1), reversed (0) or a NaN occludes nothing.
    for (convention, flags, v) in [
        (VKSPLAT_HOST_DEPTH_ZERO_TO_ONE, 0, 1.0f32),
        (
            VKSPLAT_HOST_DEPTH_ZERO_TO_ONE,
            VKSPLAT_HOST_DEPTH_REVERSED,
            0.0,
        ),
        (
            VKSPLAT_HOST_DEPTH_MINUS_ONE_TO_ONE,
            VKSPLAT_HOST_DEPTH_REVERSED,
            -1.0,
        ),
        (VKSPLAT_HOST_DEPTH_LINEAR, 0, f32::NAN),
    ] {
        let values = vec![v; pixels];
        let mut hd = host_depth(convention, &values);
        hd.flags = flags;
        assert_eq!(
            ok(&with(&hd)),
            plain,
            "convention {convention} flags {flags} value {v}"
        );
    }

    // Bad host depths are refused, naming the problem.
    let short = vec![5.0f32; pixels - 1];
    let good = host_depth(VKSPLAT_HOST_DEPTH_ZERO_TO_ONE, &fives);
    let invalid = VKSPLAT_ERROR_INVALID_ARGUMENT;
    let one_source = "exactly one of values, image and buffer";
    let cases: [(VksplatHostDepth, VksplatResult, &str); 13] = [
        (
            VksplatHostDepth {
                convention: 0,
                ..good
            },
            invalid,
            "convention 0 is unknown",
        ),
        (
            VksplatHostDepth {
                convention: 4,
                ..good
            },
            invalid,
            "convention 4 is unknown",
        ),
        (
            host_depth(VKSPLAT_HOST_DEPTH_LINEAR, &short),
            invalid,
            "has 3071 values, but the 64x48 image has 3072",
        ),
        (
            VksplatHostDepth {
                values: std::ptr::null(),
                ..good
            },
            invalid,
            one_source,
        ),
        (
            VksplatHostDepth {
                buffer: 1234,
                ..good
            },
            invalid,
            one_source,
        ),
        (
            VksplatHostDepth {
                values: std::ptr::null(),
                image: 1234,
                ..good
            },
            VKSPLAT_ERROR_UNSUPPORTED,
            "vksplat_render reads the host depth from host memory",
        ),
        (
            VksplatHostDepth {
                depth_near: f32::NAN,
                ..good
            },
            invalid,
            "near plane NaN",
        ),
        (
            VksplatHostDepth {
                depth_near: -0.5,
                ..good
            },
            invalid,
            "near plane -0.5",
        ),
        (
            VksplatHostDepth {
                depth_far: 0.25,
                ..good
            },
            invalid,
            "far plane 0.25 is not beyond",
        ),
        (
            VksplatHostDepth { flags: 8, ..good },
            invalid,
            "flags 0x8 unknown",
        ),
        (
            VksplatHostDepth {
                flags: VKSPLAT_HOST_DEPTH_REVERSED,
                ..host_depth(VKSPLAT_HOST_DEPTH_LINEAR, &fives)
            },
            invalid,
            "a linear depth has no flags",
        ),
        (
            VksplatHostDepth {
                reserved: 1,
                ..good
            },
            invalid,
            "VksplatHostDepth.reserved",
        ),
        (
            VksplatHostDepth { s_size: 40, ..good },
            VKSPLAT_ERROR_STRUCT_SIZE,
            "s_size is 40",
        ),
    ];
    for (hd, code, want) in cases {
        let (r, _) = render(&with(&hd));
        assert_eq!(r, code, "{want}: {}", last_error());
        assert!(last_error().contains(want), "{want}: {}", last_error());
    }
    // A struct the render descriptor does not take in its chain.
    let stranger = cam;
    let mut d = base;
    d.next = &stranger as *const VksplatCamera as *const c_void;
    let (r, _) = render(&d);
    assert_eq!(r, VKSPLAT_ERROR_UNSUPPORTED, "{}", last_error());
    assert!(last_error().contains("s_type 3"), "{}", last_error());

    // SAFETY: live objects, destroyed once.
    unsafe {
        vksplat_scene_destroy(scene);
        vksplat_context_destroy(ctx);
    }
}
