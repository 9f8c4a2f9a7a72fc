//! A context's memory: the host's allocation callbacks (called, and balanced at destroy), the
//! memory statistics (scenes, frames, staging; against the scene's buffer sizes) and the
//! device-memory budget (refused with `VKSPLAT_ERROR_OUT_OF_MEMORY`, nothing leaked, the
//! context still renders).

use std::alloc::Layout;
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use vksplat::{
    vksplat_context_create, vksplat_context_destroy, vksplat_memory_stats, vksplat_render,
    vksplat_scene_destroy,
};
use vksplat_abi::*;
use vksplat_core::{Context, ContextDesc, DeviceChoice, RenderSettings, Renderer};
use vksplat_vk::raw as vk;

mod common;
use common::{camera, image, last_error, render_desc, scene_desc, scene_from_row, zeroed, Row};
use vksplat_tests::{random_scene, Rng};

// ---------------------------------------------------------------------------------------------
// A counting, malloc-backed host allocator

/// What the callbacks saw: live blocks with their layouts, and how many allocations and frees
/// they served.
#[derive(Default)]
struct Counter {
    live: Mutex<HashMap<usize, Layout>>,
    allocations: AtomicU64,
    frees: AtomicU64,
    /// Requests whose alignment was not a power of two, or blocks not aligned as asked.
    bad_alignment: AtomicU64,
}

impl Counter {
    /// Every block freed, as many frees as allocations.
    fn assert_balanced(&self) {
        assert_eq!(
            self.live(),
            0,
            "blocks left after the context was destroyed"
        );
        assert_eq!(
            self.allocations.load(Ordering::SeqCst),
            self.frees.load(Ordering::SeqCst)
        );
    }

    fn live(&self) -> usize {
        self.live.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The callbacks, with this counter as user data. No callback may panic (they are called
    /// through `extern "system"` frames).
    fn callbacks(&self) -> vk::AllocationCallbacks<'static> {
        vk::AllocationCallbacks::default()
            .user_data(self as *const Counter as *mut c_void)
            .pfn_allocation(Some(allocate))
            .pfn_reallocation(Some(reallocate))
            .pfn_free(Some(free))
    }

    fn alloc(&self, size: usize, align: usize) -> *mut c_void {
        // Drivers ask for 0 bytes too (lavapipe's command buffers) and take NULL for failure:
        // a unique block, as malloc(0) gives.
        let Ok(layout) = Layout::from_size_align(size.max(1), align.max(1)) else {
            self.bad_alignment.fetch_add(1, Ordering::SeqCst);
            return std::ptr::null_mut();
        };
        // SAFETY: a non-zero size.
        let p = unsafe { std::alloc::alloc(layout) };
        if !(p as usize).is_multiple_of(layout.align()) {
            self.bad_alignment.fetch_add(1, Ordering::SeqCst);
        }
        if !p.is_null() {
            self.allocations.fetch_add(1, Ordering::SeqCst);
            self.live
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(p as usize, layout);
        }
        p as *mut c_void
    }

    fn free(&self, p: *mut c_void) {
        if p.is_null() {
            return;
        }
        let layout = self
            .live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(p as usize));
        if let Some(layout) = layout {
            self.frees.fetch_add(1, Ordering::SeqCst);
            // SAFETY: allocated above with this layout, freed once (removed from `live`).
            unsafe { std::alloc::dealloc(p as *mut u8, layout) };
        }
    }
}

/// # Safety
/// `user` is the `Counter` of [`Counter::callbacks`].
unsafe extern "system" fn allocate(
    user: *mut c_void,
    size: usize,
    align: usize,
    _scope: vk::SystemAllocationScope,
) -> *mut c_void {
    // SAFETY: the caller's promise.
    let c = unsafe { &*(user as *const Counter) };
    c.alloc(size, align)
}

/// # Safety
/// As [`allocate`]; `original` is NULL or a live block of this counter.
unsafe extern "system" fn reallocate(
    user: *mut c_void,
    original: *mut c_void,
    size: usize,
    align: usize,
    _scope: vk::SystemAllocationScope,
) -> *mut c_void {
    // SAFETY: the caller's promise.
    let c = unsafe { &*(user as *const Counter) };
    if original.is_null() {
        return c.alloc(size, align);
    }
    if size == 0 {
        c.free(original);
        return std::ptr::null_mut();
    }
    let old = c
        .live
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&(original as usize))
        .copied();
    let Some(old) = old else {
        return std::ptr::null_mut();
    };
    let p = c.alloc(size, align);
    if !p.is_null() {
        // SAFETY: both blocks are live and at least min(old, new) bytes long.
        unsafe {
            std::ptr::copy_nonoverlapping(original as *const u8, p as *mut u8, old.size().min(size))
        };
        c.free(original);
    }
    p
}

/// # Safety
/// As [`allocate`]; `p` is NULL or a live block of this counter.
unsafe extern "system" fn free(user: *mut c_void, p: *mut c_void) {
    // SAFETY: the caller's promise.
    let c = unsafe { &*(user as *const Counter) };
    c.free(p);
}

// ---------------------------------------------------------------------------------------------
// C API helpers

const SPLAT_BYTES_SH0: u64 = 12 + 16 + 12 + 4 + 3 * 4;

fn row(n: usize, seed: u64) -> Row {
    let s = random_scene(&mut Rng::new(seed), n, 0);
    (
        s.means.concat(),
        s.rotations.concat(),
        s.log_scales.concat(),
        s.opacity_logits.clone(),
        s.sh.clone(),
    )
}

fn desc() -> VksplatContextDesc {
    let mut d: VksplatContextDesc = zeroed();
    d.s_type = VKSPLAT_STRUCT_CONTEXT_DESC;
    d.s_size = std::mem::size_of::<VksplatContextDesc>() as u32;
    d.validation = 1;
    d
}

fn create(d: &VksplatContextDesc) -> *mut VksplatContext {
    let mut ctx = std::ptr::null_mut();
    // SAFETY: a valid descriptor and out-pointer.
    let r = unsafe { vksplat_context_create(d, &mut ctx) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    ctx
}

fn stats(ctx: *mut VksplatContext) -> VksplatMemoryStats {
    let mut m: VksplatMemoryStats = zeroed();
    m.s_type = VKSPLAT_STRUCT_MEMORY_STATS;
    m.s_size = std::mem::size_of::<VksplatMemoryStats>() as u32;
    // SAFETY: a live context and a full out-struct.
    let r = unsafe { vksplat_memory_stats(ctx, &mut m) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    assert_eq!(
        m.device_bytes,
        m.scene_bytes + m.frame_bytes + m.staging_bytes + m.other_bytes
    );
    assert!(m.peak_device_bytes >= m.device_bytes, "{m:?}");
    assert!(m.reserved_bytes >= m.device_bytes, "{m:?}");
    assert!(m.host_visible_bytes >= m.staging_bytes, "{m:?}");
    m
}

/// Renders a `side`×`side` frame; the result code, its message and the pixels.
fn render(
    ctx: *mut VksplatContext,
    scene: *mut VksplatScene,
    side: u32,
) -> (i32, String, Vec<f32>) {
    let f = side as f32;
    let cam = camera(side, side, f, f / 2.0, f / 2.0);
    let d = render_desc(&cam, [0.0; 3]);
    let mut px = vec![0f32; (side * side * 4) as usize];
    let img = image(side, side, &mut px, None);
    // SAFETY: live objects, a valid descriptor and image.
    let r = unsafe { vksplat_render(ctx, scene, &d, &img) };
    (r, last_error(), px)
}

fn render_ok(ctx: *mut VksplatContext, scene: *mut VksplatScene, side: u32) -> Vec<f32> {
    let (r, msg, px) = render(ctx, scene, side);
    assert_eq!(r, VKSPLAT_OK, "{msg}");
    assert!(px.chunks_exact(4).filter(|p| p[3] > 0.1).count() > 10);
    px
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn allocation_callbacks_are_called_and_balanced() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let counter = Box::new(Counter::default());
    let cb = counter.callbacks();
    let mut d = desc();
    d.allocation_callbacks = &cb as *const vk::AllocationCallbacks as *const c_void;
    let ctx = create(&d);
    let after_create = counter.allocations.load(Ordering::SeqCst);
    assert!(after_create > 0, "no allocation went through the callbacks");
    let scene = scene_from_row(ctx, &row(2000, 1));
    render_ok(ctx, scene, 64);
    // Buffers, pipelines and query pools of the scene and the frame went through them too.
    assert!(counter.allocations.load(Ordering::SeqCst) > after_create);
    // SAFETY: live objects, destroyed once, the scene first.
    unsafe {
        vksplat_scene_destroy(scene);
        vksplat_context_destroy(ctx);
    }
    counter.assert_balanced();
    assert_eq!(counter.bad_alignment.load(Ordering::SeqCst), 0);
}

#[test]
fn allocation_callbacks_without_free_are_refused() {
    let counter = Counter::default();
    let mut cb = counter.callbacks();
    cb.pfn_free = None;
    let mut d = desc();
    d.allocation_callbacks = &cb as *const vk::AllocationCallbacks as *const c_void;
    let mut ctx = std::ptr::null_mut();
    // SAFETY: a valid descriptor (whose callbacks are refused before use) and out-pointer.
    let r = unsafe { vksplat_context_create(&d, &mut ctx) };
    assert_eq!(r, VKSPLAT_ERROR_INVALID_ARGUMENT);
    assert!(ctx.is_null());
    assert!(last_error().contains("pfnFree"), "{}", last_error());
    assert_eq!(counter.allocations.load(Ordering::SeqCst), 0);
}

/// The Rust API under the C API: the same callbacks through `ContextDesc`, a scene and a frame
/// with the validation layers on (which check that every object is destroyed with the
/// callbacks it was created with): no validation error, and every block freed.
#[test]
fn host_allocator_is_validation_clean() {
    let Some(probe) = vksplat_tests::gpu() else {
        return;
    };
    drop(probe);
    let counter = Box::new(Counter::default());
    // SAFETY: the counter's callbacks honour alignment, are thread-safe and outlive the
    // context (dropped at the end of this test, after it).
    let host_allocator =
        Some(unsafe { vksplat_vk::HostAllocator::new(counter.callbacks()) }.unwrap());
    let device = std::env::var("VKSPLAT_TEST_DEVICE")
        .map(|s| DeviceChoice::parse(&s))
        .unwrap_or_default();
    let ctx = Context::new(&ContextDesc {
        device,
        validation: true,
        host_allocator,
        memory_budget: None,
    })
    .unwrap();
    assert!(ctx.validation_enabled());
    {
        let mut r = Renderer::new(ctx.clone()).unwrap();
        let scene = r
            .upload_scene(&random_scene(&mut Rng::new(2), 1500, 1))
            .unwrap();
        let cam = vksplat_tests::camera(64, 48, 50.0, 50.0, 32.0, 24.0);
        let (frame, _) = r.render(&scene, &cam, &RenderSettings::default()).unwrap();
        assert!(frame.rgba.chunks_exact(4).any(|p| p[3] > 0.1));
        let m = ctx.memory_stats();
        assert!(
            m.scene_bytes >= 1500 * (12 + 16 + 12 + 4 + 3 * 4 * 4),
            "{m:?}"
        );
        assert!(m.frame_bytes > 0 && m.allocations > 0, "{m:?}");
    }
    assert_eq!(ctx.validation_errors(), 0);
    assert!(counter.allocations.load(Ordering::SeqCst) > 0);
    assert_eq!(ctx.memory_stats().device_bytes, 0);
    drop(ctx);
    assert_eq!(counter.live(), 0);
}

#[test]
fn stats_follow_scenes_and_frames() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let ctx = create(&desc());
    let m0 = stats(ctx);
    assert_eq!(m0.budget, 0);
    let n = 3000u64;
    let scene = scene_from_row(ctx, &row(n as usize, 3));
    let m1 = stats(ctx);
    // The scene's arrays at least (means, rotations, log-scales, opacities, SH degree 0).
    assert!(
        m1.scene_bytes - m0.scene_bytes >= n * SPLAT_BYTES_SH0,
        "{m0:?} -> {m1:?}"
    );
    assert!(m1.device_bytes > m0.device_bytes);
    assert!(m1.peak_device_bytes >= m1.device_bytes);

    render_ok(ctx, scene, 64);
    let m2 = stats(ctx);
    assert!(m2.frame_bytes > m1.frame_bytes, "{m1:?} -> {m2:?}");
    // The frame's colour and depth on the GPU (16 + 4 bytes per pixel) at least.
    assert!(m2.frame_bytes >= 64 * 64 * 20, "{m2:?}");
    assert_eq!(m2.scene_bytes, m1.scene_bytes);
    render_ok(ctx, scene, 160);
    let m3 = stats(ctx);
    assert!(
        m3.frame_bytes >= m2.frame_bytes + (160 * 160 - 64 * 64) * 20,
        "a larger image: {m2:?} -> {m3:?}"
    );

    // A second scene adds its bytes; destroying it gives them back exactly.
    let other = scene_from_row(ctx, &row(500, 4));
    let m4 = stats(ctx);
    assert!(m4.scene_bytes - m3.scene_bytes >= 500 * SPLAT_BYTES_SH0);
    // SAFETY: a live scene, destroyed once.
    unsafe { vksplat_scene_destroy(other) };
    let m5 = stats(ctx);
    assert_eq!(m5.scene_bytes, m3.scene_bytes, "{m3:?} -> {m5:?}");
    assert_eq!(m5.device_bytes, m3.device_bytes, "{m3:?} -> {m5:?}");
    assert!(m5.peak_device_bytes >= m4.device_bytes);
    // SAFETY: a live scene, destroyed once.
    unsafe { vksplat_scene_destroy(scene) };
    assert_eq!(stats(ctx).scene_bytes, m0.scene_bytes);

    let mut m: VksplatMemoryStats = zeroed();
    m.s_type = VKSPLAT_STRUCT_MEMORY_STATS;
    m.s_size = std::mem::size_of::<VksplatMemoryStats>() as u32;
    // SAFETY: a NULL context is refused.
    let r = unsafe { vksplat_memory_stats(std::ptr::null(), &mut m) };
    assert_eq!(r, VKSPLAT_ERROR_INVALID_ARGUMENT, "{}", last_error());
    // A caller whose struct is smaller than version 1 is refused before anything is written.
    let mut tiny: VksplatMemoryStats = zeroed();
    tiny.s_type = VKSPLAT_STRUCT_MEMORY_STATS;
    tiny.s_size = 8;
    // SAFETY: a live context; the size is checked before anything is written.
    let r = unsafe { vksplat_memory_stats(ctx, &mut tiny) };
    assert_eq!(r, VKSPLAT_ERROR_STRUCT_SIZE);
    // SAFETY: a live context, destroyed once.
    unsafe { vksplat_context_destroy(ctx) };
}

#[test]
fn budget_refuses_without_leaking_and_the_context_still_renders() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let small = row(400, 5);
    let large = row(40_000, 6);
    // Measure what the small scene and a 64x64 frame take, and the large scene's bytes.
    let free_ctx = create(&desc());
    let s = scene_from_row(free_ctx, &small);
    let reference = render_ok(free_ctx, s, 64);
    let measured = stats(free_ctx);
    let l = scene_from_row(free_ctx, &large);
    let large_bytes = stats(free_ctx).scene_bytes - measured.scene_bytes;
    // SAFETY: live objects, destroyed once.
    unsafe {
        vksplat_scene_destroy(l);
        vksplat_scene_destroy(s);
        vksplat_context_destroy(free_ctx);
    }
    assert!(large_bytes >= 40_000 * SPLAT_BYTES_SH0);
    let budget = measured.peak_device_bytes + large_bytes / 2;

    let mut d = desc();
    d.memory_budget = budget;
    let ctx = create(&d);
    assert_eq!(stats(ctx).budget, budget);
    let s = scene_from_row(ctx, &small);
    assert_eq!(render_ok(ctx, s, 64), reference);
    let held = stats(ctx);
    assert!(held.peak_device_bytes <= budget);

    // A scene beyond the budget: refused, naming the budget; nothing kept.
    let sd = scene_desc(&large);
    let mut big = std::ptr::null_mut();
    // SAFETY: the arrays hold `count` splats.
    let r = unsafe { vksplat::vksplat_scene_create(ctx, &sd, &mut big) };
    let msg = last_error();
    assert_eq!(r, VKSPLAT_ERROR_OUT_OF_MEMORY, "{msg}");
    assert!(big.is_null());
    assert!(msg.contains(&format!("budget of {budget} bytes")), "{msg}");
    assert!(msg.contains("scenes ") && msg.contains("needs "), "{msg}");
    assert_eq!(stats(ctx).device_bytes, held.device_bytes, "{msg}");

    // A frame beyond the budget: refused; a small one still renders the same image.
    let (r, msg, _) = render(ctx, s, 1024);
    assert_eq!(r, VKSPLAT_ERROR_OUT_OF_MEMORY, "{msg}");
    assert!(msg.contains("budget"), "{msg}");
    assert!(stats(ctx).device_bytes <= held.device_bytes);
    assert_eq!(render_ok(ctx, s, 64), reference);
    // The smaller scene still fits.
    let s2 = scene_from_row(ctx, &small);
    assert_eq!(render_ok(ctx, s2, 64), reference);
    // SAFETY: live objects, destroyed once.
    unsafe {
        vksplat_scene_destroy(s2);
        vksplat_scene_destroy(s);
        vksplat_context_destroy(ctx);
    }
}

/// A host that creates its own instance and device (without callbacks) and hands them to
/// `vksplat_context_create_vulkan` with its callbacks: vksplat's objects on that device (pool,
/// semaphore, buffers, pipelines, query pools) are made and freed with them, balanced when the
/// context is destroyed, before the host destroys its device.
#[test]
fn borrowed_device_objects_use_the_hosts_callbacks() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    // SAFETY: loading the system's Vulkan loader.
    let entry = unsafe { ash::Entry::load() }.unwrap();
    let app = vk::ApplicationInfo::default().api_version(vk::API_VERSION_1_2);
    let info = vk::InstanceCreateInfo::default().application_info(&app);
    // SAFETY: a valid create info.
    let instance = unsafe { entry.create_instance(&info, None) }.unwrap();
    // SAFETY: a live instance.
    let pds = unsafe { instance.enumerate_physical_devices() }.unwrap();
    let usable = pds.iter().find_map(|&pd| {
        // SAFETY: pd is of this instance.
        let exts = unsafe { instance.enumerate_device_extension_properties(pd) }.ok()?;
        let push = exts
            .iter()
            .any(|e| e.extension_name_as_c_str() == Ok(ash::khr::push_descriptor::NAME));
        // SAFETY: as above.
        let families = unsafe { instance.get_physical_device_queue_family_properties(pd) };
        let family = families
            .iter()
            .position(|f| f.queue_flags.contains(vk::QueueFlags::COMPUTE))?;
        push.then_some((pd, family as u32))
    });
    let (pd, family) = usable.expect("a device with VK_KHR_push_descriptor and compute");
    let priorities = [1.0f32];
    let queues = [vk::DeviceQueueCreateInfo::default()
        .queue_family_index(family)
        .queue_priorities(&priorities)];
    let extensions = [ash::khr::push_descriptor::NAME.as_ptr()];
    let mut features = vk::PhysicalDeviceVulkan12Features::default()
        .buffer_device_address(true)
        .timeline_semaphore(true);
    let device_info = vk::DeviceCreateInfo::default()
        .queue_create_infos(&queues)
        .enabled_extension_names(&extensions)
        .push_next(&mut features);
    // SAFETY: pd is of this instance; the create info points at live locals.
    let device = unsafe { instance.create_device(pd, &device_info, None) }.unwrap();

    let counter = Box::new(Counter::default());
    let cb = counter.callbacks();
    let mut d: VksplatContextDesc = zeroed();
    d.s_type = VKSPLAT_STRUCT_CONTEXT_DESC;
    d.s_size = std::mem::size_of::<VksplatContextDesc>() as u32;
    d.allocation_callbacks = &cb as *const vk::AllocationCallbacks as *const c_void;
    let ext_names = [c"VK_KHR_push_descriptor".as_ptr()];
    let feature_names = [
        c"bufferDeviceAddress".as_ptr(),
        c"timelineSemaphore".as_ptr(),
    ];
    let mut v: VksplatVulkanDevice = zeroed();
    v.s_type = VKSPLAT_STRUCT_VULKAN_DEVICE;
    v.s_size = std::mem::size_of::<VksplatVulkanDevice>() as u32;
    // SAFETY: the loader's vkGetInstanceProcAddr; "system" is the C convention on the
    // platforms the tests run on, and the argument and result types have the same layout.
    v.get_instance_proc_addr = Some(unsafe {
        std::mem::transmute::<
            vk::PFN_vkGetInstanceProcAddr,
            unsafe extern "C" fn(
                *mut c_void,
                *const std::ffi::c_char,
            ) -> Option<unsafe extern "C" fn()>,
        >(entry.static_fn().get_instance_proc_addr)
    });
    use vk::Handle;
    v.instance = instance.handle().as_raw() as *mut c_void;
    v.physical_device = pd.as_raw() as *mut c_void;
    v.device = device.handle().as_raw() as *mut c_void;
    v.queue_family = family;
    v.api_version = vk::API_VERSION_1_2;
    v.extension_count = 1;
    v.extensions = ext_names.as_ptr();
    v.feature_count = 2;
    v.vulkan12_features = feature_names.as_ptr();
    let mut ctx = std::ptr::null_mut();
    // SAFETY: live handles that belong together and outlive the context.
    let r = unsafe { vksplat_context_create_vulkan(&d, &v, &mut ctx) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    let after_create = counter.allocations.load(Ordering::SeqCst);
    assert!(after_create > 0, "no allocation went through the callbacks");
    let scene = scene_from_row(ctx, &row(1000, 7));
    render_ok(ctx, scene, 64);
    assert!(counter.allocations.load(Ordering::SeqCst) > after_create);
    assert!(stats(ctx).scene_bytes >= 1000 * SPLAT_BYTES_SH0);
    // SAFETY: live objects, destroyed once, the scene first, before the host's device.
    unsafe {
        vksplat_scene_destroy(scene);
        vksplat_context_destroy(ctx);
    }
    counter.assert_balanced();
    // SAFETY: vksplat's objects are gone; the host's device and instance are its own.
    unsafe {
        device.destroy_device(None);
        instance.destroy_instance(None);
    }
}
