//! Plugin (variant) scenes as instances, through the C ABI: the repository's C example plugin
//! (a triangle of splats spinning about z) evaluated at the frame's time before the frame.
//! One identity instance of it equals `vksplat_render` of the scene bit for bit at two
//! times (which differ); the descriptor's time becomes the scene's time as in
//! `vksplat_render`; with a static scene beside it, the submitted path equals the blocking
//! one; frames recorded into a host's command buffer refuse plugin scenes by name.

use std::ffi::{c_void, CString};

// The GPU-output entry points live in a private module: they are called through
// vksplat-abi's declarations of the same C symbols, which the linked library defines.
use vksplat::{
    vksplat_context_add_plugin_dir, vksplat_context_destroy, vksplat_render,
    vksplat_render_instances, vksplat_scene_destroy, vksplat_scene_open_plugin,
};
use vksplat_abi::*;

mod common;
use common::{
    camera, context, image, instance, last_error, render_desc, scene_from_row, triangle_plugin_dir,
    zeroed, IDENTITY,
};

const W: u32 = 64;
const H: u32 = 48;

/// A descriptor for `cam`, at `time` when given.
fn desc(cam: &VksplatCamera, time: Option<f64>) -> VksplatRenderDesc {
    let mut d = render_desc(cam, [0.1, 0.2, 0.3]);
    if let Some(t) = time {
        d.flags = VKSPLAT_RENDER_TIME;
        d.time = t;
    }
    d
}

/// The bits of a frame, asserting that something covers it.
fn bits(px: &[f32]) -> Vec<u32> {
    assert!(px.chunks_exact(4).filter(|p| p[3] > 0.5).count() > 20);
    px.iter().map(|v| v.to_bits()).collect()
}

fn render(ctx: *mut VksplatContext, scene: *mut VksplatScene, d: &VksplatRenderDesc) -> Vec<u32> {
    let mut px = vec![-1.0f32; (W * H * 4) as usize];
    let img = image(W, H, &mut px, None);
    // SAFETY: valid objects, descriptor and image.
    let r = unsafe { vksplat_render(ctx, scene, d, &img) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    bits(&px)
}

fn render_instances(
    ctx: *mut VksplatContext,
    list: &[VksplatSceneInstance],
    d: &VksplatRenderDesc,
) -> Vec<u32> {
    let ptrs: Vec<*const VksplatSceneInstance> = list.iter().map(|i| i as *const _).collect();
    let mut px = vec![-1.0f32; (W * H * 4) as usize];
    let img = image(W, H, &mut px, None);
    // SAFETY: valid objects, list, descriptor and image.
    let r = unsafe { vksplat_render_instances(ctx, ptrs.as_ptr(), ptrs.len() as u32, d, &img) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    bits(&px)
}

#[test]
fn plugin_scenes_render_as_instances() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let ctx = context();
    let dir = CString::new(triangle_plugin_dir().to_str().unwrap()).unwrap();
    // SAFETY: valid arguments.
    let r = unsafe { vksplat_context_add_plugin_dir(ctx, dir.as_ptr()) };
    assert_eq!(r, VKSPLAT_OK);
    let name = CString::new("triangle").unwrap();
    let mut pd: VksplatPluginSceneDesc = zeroed();
    pd.s_type = VKSPLAT_STRUCT_PLUGIN_SCENE_DESC;
    pd.s_size = std::mem::size_of::<VksplatPluginSceneDesc>() as u32;
    pd.plugin = name.as_ptr();
    let mut plugin = std::ptr::null_mut();
    // SAFETY: valid arguments.
    let r = unsafe { vksplat_scene_open_plugin(ctx, &pd, &mut plugin) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    // The triangle spins about z at z = 3.
    let cam = camera(W, H, 40.0, 32.0, 24.0);

    // One identity instance == vksplat_render, at two times that differ.
    let one = [instance(plugin, IDENTITY, 1.0)];
    let a = render_instances(ctx, &one, &desc(&cam, Some(0.5)));
    assert_eq!(a, render(ctx, plugin, &desc(&cam, Some(0.5))));
    let b = render_instances(ctx, &one, &desc(&cam, Some(1.5)));
    assert_ne!(a, b, "the triangle moves between t = 0.5 and t = 1.5");
    // The descriptor's time became the scene's time.
    assert_eq!(b, render(ctx, plugin, &desc(&cam, None)));
    assert_eq!(b, render_instances(ctx, &one, &desc(&cam, None)));

    // Beside a static scene (small dots at z = 4, behind the triangle), moved right.
    let n = 200;
    let row: common::Row = (
        (0..n)
            .flat_map(|i| {
                let f = i as f32 / n as f32;
                [f * 2.0 - 1.0, (f * 37.0).sin() * 0.8, 4.0]
            })
            .collect(),
        (0..n).flat_map(|_| [1.0, 0.0, 0.0, 0.0]).collect(),
        vec![-3.0; n * 3],
        vec![1.0; n],
        (0..n)
            .flat_map(|i| [0.5, (i % 3) as f32 * 0.3, -0.2])
            .collect(),
    );
    let dots = scene_from_row(ctx, &row);
    let mut moved = IDENTITY;
    moved[3] = 0.4;
    let two = [instance(plugin, IDENTITY, 1.0), instance(dots, moved, 0.9)];
    let d = desc(&cam, Some(0.75));
    let joint = render_instances(ctx, &two, &d);
    assert_ne!(joint, render_instances(ctx, &one, &d));
    let ptrs: Vec<*const VksplatSceneInstance> = two.iter().map(|i| i as *const _).collect();
    let mut px = vec![-1.0f32; (W * H * 4) as usize];
    let img = image(W, H, &mut px, None);
    let mut frame = 0;
    // SAFETY: valid objects, list, descriptor and image; the image outlives the wait.
    let r = unsafe { vksplat_render_submit_instances(ctx, ptrs.as_ptr(), 2, &d, &img, &mut frame) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    // SAFETY: a valid context.
    assert_eq!(unsafe { vksplat_frame_wait(ctx, frame) }, VKSPLAT_OK);
    assert_eq!(
        bits(&px),
        joint,
        "submitted instances == blocking instances"
    );

    // Recording refuses plugin scenes by name (before it looks at the context or the command
    // buffer, which is never used here), and then a context that owns its device.
    let mut recorded = 0;
    let not_a_command_buffer = std::ptr::dangling_mut::<c_void>();
    // SAFETY: refused before the command buffer is used.
    let r = unsafe {
        vksplat_render_record(
            ctx,
            not_a_command_buffer,
            ptrs.as_ptr(),
            2,
            &d,
            std::ptr::null(),
            &mut recorded,
        )
    };
    assert_eq!(r, VKSPLAT_ERROR_UNSUPPORTED);
    let e = last_error();
    assert!(
        e.contains("instances[0]") && e.contains("plugin scenes"),
        "{e}"
    );
    // SAFETY: as above.
    let r = unsafe {
        vksplat_render_record(
            ctx,
            not_a_command_buffer,
            ptrs[1..].as_ptr(),
            1,
            &d,
            std::ptr::null(),
            &mut recorded,
        )
    };
    assert_eq!(r, VKSPLAT_ERROR_UNSUPPORTED);
    assert!(last_error().contains("owns its device"), "{}", last_error());
    assert_eq!(recorded, 0);

    // SAFETY: valid objects, destroyed once.
    unsafe {
        vksplat_scene_destroy(dots);
        vksplat_scene_destroy(plugin);
        vksplat_context_destroy(ctx);
    }
}
