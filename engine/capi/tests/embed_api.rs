//! The embedding entry points in-process (tests/embed.rs runs a real C++ host on its own
//! device): the requirements query, refused host devices (checked before any handle is used),
//! and submitted frames on a standalone context, which must equal `vksplat_render`.

use std::ffi::{c_char, c_void, CStr};

// The library's own definitions where it exports them to Rust; the embedding entry points
// live in a private module, so they are called through vksplat-abi's declarations of the
// same C symbols, which the linked library defines.
use vksplat::{
    vksplat_context_create, vksplat_context_destroy, vksplat_render, vksplat_scene_create,
    vksplat_scene_destroy,
};
use vksplat_abi::*;

mod common;
use common::{last_error, zeroed};
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
    let mut ctx = std::ptr::null_mut();
    // SAFETY: NULL descriptor, valid out-pointer.
    let status = unsafe { vksplat_context_create(std::ptr::null(), &mut ctx) };
    assert_eq!(status, VKSPLAT_OK);
    let mut s = random_scene(&mut Rng::new(3), 800, 1);
    for m in &mut s.means {
        m[2] = m[2].abs() + 0.5;
    }
    let mut sd: VksplatSceneDesc = zeroed();
    sd.s_type = VKSPLAT_STRUCT_SCENE_DESC;
    sd.s_size = std::mem::size_of::<VksplatSceneDesc>() as u32;
    sd.count = s.len() as u64;
    sd.sh_degree = s.sh_degree;
    sd.means = s.means.as_ptr() as *const f32;
    sd.rotations = s.rotations.as_ptr() as *const f32;
    sd.log_scales = s.log_scales.as_ptr() as *const f32;
    sd.opacity_logits = s.opacity_logits.as_ptr();
    sd.sh = s.sh.as_ptr();
    let mut scene = std::ptr::null_mut();
    // SAFETY: the arrays hold `count` splats.
    let status = unsafe { vksplat_scene_create(ctx, &sd, &mut scene) };
    assert_eq!(status, VKSPLAT_OK);

    let cameras: Vec<VksplatCamera> = (0..5)
        .map(|k| {
            let mut c: VksplatCamera = zeroed();
            c.s_type = VKSPLAT_STRUCT_CAMERA;
            c.s_size = std::mem::size_of::<VksplatCamera>() as u32;
            (c.width, c.height) = (W, H);
            (c.fx, c.fy, c.cx, c.cy) = (50.0, 50.0, 24.0, 20.0);
            let x = 0.05 * k as f32;
            c.world_to_camera = [
                1., 0., 0., -x, 0., 1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1.,
            ];
            c
        })
        .collect();
    let desc = |c: &VksplatCamera| {
        let mut d: VksplatRenderDesc = zeroed();
        d.s_type = VKSPLAT_STRUCT_RENDER_DESC;
        d.s_size = std::mem::size_of::<VksplatRenderDesc>() as u32;
        d.background = [0.2, 0.1, 0.0];
        d.camera = c;
        d
    };
    let image = |rgba: &mut Vec<f32>, depth: &mut Vec<f32>| {
        let mut i: VksplatImage = zeroed();
        i.s_type = VKSPLAT_STRUCT_IMAGE;
        i.s_size = std::mem::size_of::<VksplatImage>() as u32;
        (i.width, i.height, i.format) = (W, H, VKSPLAT_FORMAT_RGBA32F);
        i.pixels = rgba.as_mut_ptr() as *mut c_void;
        i.pixels_size = rgba.len() as u64 * 4;
        i.depth = depth.as_mut_ptr();
        i.depth_size = depth.len() as u64 * 4;
        i
    };
    let px = (W * H) as usize;
    // The blocking path first.
    let mut want = Vec::new();
    for c in &cameras {
        let (mut rgba, mut depth) = (vec![0f32; px * 4], vec![0f32; px]);
        let d = desc(c);
        // SAFETY: valid objects and buffers of the image's sizes.
        let r = unsafe { vksplat_render(ctx, scene, &d, &image(&mut rgba, &mut depth)) };
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
        let r = unsafe { vksplat_render_submit(ctx, scene, &d, &image(rgba, depth), &mut frame) };
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
