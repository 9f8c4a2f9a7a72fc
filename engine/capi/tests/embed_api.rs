//! The embedding entry points in-process (tests/embed.rs runs a real C++ host on its own
//! device): the requirements query, refused host devices (checked before any handle is used),
//! and submitted frames on a standalone context, which must equal `vksplat_render`.

use std::ffi::{c_char, c_void, CStr};

// The library's own definitions where it exports them to Rust; the embedding entry points
// live in a private module, so they are called through vksplat-abi's declarations of the
// same C symbols, which the linked library defines.
use vksplat::{vksplat_context_destroy, vksplat_render, vksplat_scene_destroy};
use vksplat_abi::*;

mod common;
use common::{camera, context, image, last_error, render_desc, scene_from_splats, zeroed};
use vksplat_tests::{random_scene, Rng};

const W: u32 = 48;
const H: u32 = 40;

/// # Safety
/// `list` holds `n` C strings.
unsafe fn strings(list: *const *const c_char, n: u32) -> Vec<String> {
    (0..n as usize)
        .map(|i| {
            // SAFETY: the caller's promise.
            unsafe { CStr::from_ptr(*list.add(i)) }
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
fn requirements_list_what_the_engine_enables() {
    let mut r: VksplatVulkanRequirements = zeroed();
    r.s_type = VKSPLAT_STRUCT_VULKAN_REQUIREMENTS;
    r.s_size = std::mem::size_of::<VksplatVulkanRequirements>() as u32;
    // SAFETY: a valid out-struct.
    assert_eq!(unsafe { vksplat_vulkan_requirements(&mut r) }, VKSPLAT_OK);
    assert_eq!(r.api_version, (1 << 22) | (2 << 12), "Vulkan 1.2");
    assert_eq!(r.queue_flags, 2, "VK_QUEUE_COMPUTE_BIT");
    // SAFETY: the library's static lists of the given lengths.
    let (exts, features) = unsafe {
        (
            strings(r.extensions, r.extension_count),
            strings(r.vulkan12_features, r.feature_count),
        )
    };
    assert_eq!(exts, ["VK_KHR_push_descriptor"]);
    assert_eq!(features, ["bufferDeviceAddress", "timelineSemaphore"]);
    r.s_size = 8;
    // SAFETY: as above; the size is refused before anything is written.
    let status = unsafe { vksplat_vulkan_requirements(&mut r) };
    assert_eq!(status, VKSPLAT_ERROR_STRUCT_SIZE);
}

/// Never called: the checks below fail before any Vulkan function is loaded.
unsafe extern "C" fn no_gipa(_: *mut c_void, _: *const c_char) -> Option<unsafe extern "C" fn()> {
    panic!("vkGetInstanceProcAddr called for a device that should have been refused")
}

#[test]
fn host_devices_missing_requirements_are_refused_by_name() {
    let mut ctx = std::ptr::null_mut();
    // SAFETY: NULL device, valid out-pointer.
    let r = unsafe { vksplat_context_create_vulkan(std::ptr::null(), std::ptr::null(), &mut ctx) };
    assert_eq!(r, VKSPLAT_ERROR_INVALID_ARGUMENT, "{}", last_error());
    assert!(last_error().contains("device is NULL"), "{}", last_error());

    let mut d: VksplatVulkanDevice = zeroed();
    d.s_type = VKSPLAT_STRUCT_VULKAN_DEVICE;
    d.s_size = std::mem::size_of::<VksplatVulkanDevice>() as u32;
    // Dummy handles: nothing may be called through them.
    let dummy = 0x1000 as *mut c_void;
    (d.instance, d.physical_device, d.device) = (dummy, dummy, dummy);
    d.api_version = (1 << 22) | (1 << 12);
    // SAFETY: the descriptor is readable; refused before any handle is used.
    let r = unsafe { vksplat_context_create_vulkan(std::ptr::null(), &d, &mut ctx) };
    assert_eq!(r, VKSPLAT_ERROR_INVALID_ARGUMENT, "{}", last_error());
    assert!(
        last_error().contains("get_instance_proc_addr"),
        "{}",
        last_error()
    );

    d.get_instance_proc_addr = Some(no_gipa);
    let bda = c"bufferDeviceAddress".as_ptr();
    d.feature_count = 1;
    d.vulkan12_features = &bda;
    // SAFETY: as above.
    let r = unsafe { vksplat_context_create_vulkan(std::ptr::null(), &d, &mut ctx) };
    assert_eq!(r, VKSPLAT_ERROR_UNSUPPORTED, "{}", last_error());
    let msg = last_error();
    for missing in [
        "API version 1.2",
        "VK_KHR_push_descriptor",
        "timelineSemaphore",
    ] {
        assert!(msg.contains(missing), "{msg} lacks {missing}");
    }
    assert!(!msg.contains("feature bufferDeviceAddress"), "{msg}");
    assert!(ctx.is_null());

    // The host owns the instance's layers and the device choice.
    let mut desc: VksplatContextDesc = zeroed();
    desc.s_type = VKSPLAT_STRUCT_CONTEXT_DESC;
    desc.s_size = std::mem::size_of::<VksplatContextDesc>() as u32;
    desc.validation = 1;
    // SAFETY: as above.
    let r = unsafe { vksplat_context_create_vulkan(&desc, &d, &mut ctx) };
    assert_eq!(r, VKSPLAT_ERROR_INVALID_ARGUMENT, "{}", last_error());
}

#[test]
fn submitted_frames_on_a_standalone_context_equal_blocking_renders() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let ctx = context();
    let mut s = random_scene(&mut Rng::new(3), 800, 1);
    for m in &mut s.means {
        m[2] = m[2].abs() + 0.5;
    }
    let scene = scene_from_splats(ctx, &s);

    let cameras: Vec<VksplatCamera> = (0..5)
        .map(|k| {
            let mut c = camera(W, H, 50.0, 24.0, 20.0);
            let x = 0.05 * k as f32;
            c.world_to_camera = [
                1., 0., 0., -x, 0., 1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1.,
            ];
            c
        })
        .collect();
    let desc = |c: &VksplatCamera| render_desc(c, [0.2, 0.1, 0.0]);
    let px = (W * H) as usize;
    // The blocking path first.
    let mut want = Vec::new();
    for c in &cameras {
        let (mut rgba, mut depth) = (vec![0f32; px * 4], vec![0f32; px]);
        let d = desc(c);
        // SAFETY: valid objects and buffers of the image's sizes.
        let r =
            unsafe { vksplat_render(ctx, scene, &d, &image(W, H, &mut rgba, Some(&mut depth))) };
        assert_eq!(r, VKSPLAT_OK, "{}", last_error());
        want.push((rgba, depth));
    }
    // SAFETY: a live context; frame 1 was never submitted.
    let status = unsafe { vksplat_frame_poll(ctx, 1) };
    assert_eq!(status, VKSPLAT_ERROR_INVALID_ARGUMENT);
    // Five frames submitted back to back (2 in flight), then asked about in order.
    let mut got: Vec<(Vec<f32>, Vec<f32>)> = (0..5)
        .map(|_| (vec![-1f32; px * 4], vec![-1f32; px]))
        .collect();
    for (k, (c, (rgba, depth))) in cameras.iter().zip(got.iter_mut()).enumerate() {
        let d = desc(c);
        let mut frame = 0;
        // SAFETY: the buffers outlive the waits below.
        let r = unsafe {
            vksplat_render_submit(ctx, scene, &d, &image(W, H, rgba, Some(depth)), &mut frame)
        };
        assert_eq!(r, VKSPLAT_OK, "{}", last_error());
        assert_eq!(frame, k as u64 + 1);
    }
    for f in 1..=5u64 {
        let (mut sem, mut value) = (0, 0);
        // SAFETY: a live context and writable outputs.
        let r = unsafe { vksplat_frame_timeline(ctx, f, &mut sem, &mut value) };
        assert_eq!(r, VKSPLAT_OK, "{}", last_error());
        assert!(
            sem != 0 && value >= f,
            "frame {f}: semaphore {sem} value {value}"
        );
        // SAFETY: a live context.
        let status = unsafe { vksplat_frame_wait(ctx, f) };
        assert_eq!(status, VKSPLAT_OK, "{}", last_error());
    }
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            g.0 == w.0 && g.1 == w.1,
            "submitted frame {} differs",
            k + 1
        );
    }
    assert_ne!(
        want[0].0, want[4].0,
        "the cameras differ, so must the frames"
    );
    // SAFETY: a live context.
    let status = unsafe { vksplat_frame_poll(ctx, 6) };
    assert_eq!(status, VKSPLAT_ERROR_INVALID_ARGUMENT);
    assert!(
        last_error().contains("frame 6 was not submitted"),
        "{}",
        last_error()
    );

    // A context with its own device has no images a host can name.
    let mut t: VksplatVulkanTarget = zeroed();
    t.s_type = VKSPLAT_STRUCT_VULKAN_TARGET;
    t.s_size = std::mem::size_of::<VksplatVulkanTarget>() as u32;
    let d = desc(&cameras[0]);
    let mut frame = 0;
    // SAFETY: valid objects; refused before the target is used.
    let r = unsafe { vksplat_render_vulkan(ctx, scene, &d, &t, &mut frame) };
    assert_eq!(r, VKSPLAT_ERROR_UNSUPPORTED, "{}", last_error());
    // SAFETY: created above, no other call in flight.
    unsafe {
        vksplat_scene_destroy(scene);
        vksplat_context_destroy(ctx);
    }
}
