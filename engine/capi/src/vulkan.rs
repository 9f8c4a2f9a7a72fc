//! Embedding in a host's Vulkan frame: the device requirements, contexts on a host's device,
//! frames copied on the GPU into the host's images or buffers, frames submitted without
//! waiting, and their completion (README, "Embedding in a game engine").
//!
//! The host's handles are wrapped by `vksplat_vk`'s `unsafe` constructors, whose promises are
//! the ones the header states for each entry point; every Vulkan call stays in `vksplat-vk`.

use std::ffi::c_void;

use vksplat_core::{FrameState, GpuTarget, TargetSurface, FRAMES_IN_FLIGHT};
use vksplat_vk::raw::{self, Handle};
use vksplat_vk::{
    BorrowedDevice, ExternalBuffer, ExternalImage, ExternalSemaphore, HostCommandBuffer,
};

use super::host_depth::HostDepthArg;
use super::instances::Instances;
use super::*;

same_signature! {
    vksplat_vulkan_requirements: unsafe extern "C" fn(*mut VksplatVulkanRequirements) -> VksplatResult;
    vksplat_context_create_vulkan: unsafe extern "C" fn(*const VksplatContextDesc, *const VksplatVulkanDevice, *mut *mut VksplatContext) -> VksplatResult;
    vksplat_render_vulkan: unsafe extern "C" fn(*mut VksplatContext, *mut VksplatScene, *const VksplatRenderDesc, *const VksplatVulkanTarget, *mut u64) -> VksplatResult;
    vksplat_render_submit: unsafe extern "C" fn(*mut VksplatContext, *mut VksplatScene, *const VksplatRenderDesc, *const VksplatImage, *mut u64) -> VksplatResult;
    vksplat_render_vulkan_instances: unsafe extern "C" fn(*mut VksplatContext, *const *const VksplatSceneInstance, u32, *const VksplatRenderDesc, *const VksplatVulkanTarget, *mut u64) -> VksplatResult;
    vksplat_render_submit_instances: unsafe extern "C" fn(*mut VksplatContext, *const *const VksplatSceneInstance, u32, *const VksplatRenderDesc, *const VksplatImage, *mut u64) -> VksplatResult;
    vksplat_render_record: unsafe extern "C" fn(*mut VksplatContext, *mut c_void, *const *const VksplatSceneInstance, u32, *const VksplatRenderDesc, *const VksplatVulkanTarget, *mut u64) -> VksplatResult;
    vksplat_frames_in_flight: unsafe extern "C" fn(*const VksplatContext, *mut u32) -> VksplatResult;
    vksplat_record_done: unsafe extern "C" fn(*mut VksplatContext, u64) -> VksplatResult;
    vksplat_frame_poll: unsafe extern "C" fn(*mut VksplatContext, u64) -> VksplatResult;
    vksplat_frame_wait: unsafe extern "C" fn(*mut VksplatContext, u64) -> VksplatResult;
    vksplat_frame_timeline: unsafe extern "C" fn(*mut VksplatContext, u64, *mut u64, *mut u64) -> VksplatResult;
}

/// The static strings of [`vksplat_vulkan_requirements`] (NUL-terminated, never freed).
struct StaticList(Vec<*const c_char>);
// SAFETY: pointers to 'static C strings, never written.
unsafe impl Send for StaticList {}
// SAFETY: as above.
unsafe impl Sync for StaticList {}

fn requirement_lists() -> &'static (StaticList, StaticList) {
    static LISTS: std::sync::OnceLock<(StaticList, StaticList)> = std::sync::OnceLock::new();
    LISTS.get_or_init(|| {
        let req = vksplat_vk::requirements();
        let exts = req.device_extensions.iter().map(|e| e.as_ptr()).collect();
        let features = req
            .vulkan12_features
            .iter()
            .map(|f| {
                // Leaked once per process: the header promises static strings.
                let c = CString::new(*f).expect("feature names have no NUL");
                Box::leak(c.into_boxed_c_str()).as_ptr()
            })
            .collect();
        (StaticList(exts), StaticList(features))
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `out` is NULL or a `VksplatVulkanRequirements` whose header the caller set, with `s_size`
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn vksplat_vulkan_requirements(
    out: *mut VksplatVulkanRequirements,
) -> VksplatResult {
    guard("vksplat_vulkan_requirements", || {
        let req = vksplat_vk::requirements();
        let (exts, features) = requirement_lists();
        let r = VksplatVulkanRequirements {
            s_type: VKSPLAT_STRUCT_VULKAN_REQUIREMENTS,
            s_size: std::mem::size_of::<VksplatVulkanRequirements>() as u32,
            next: std::ptr::null_mut(),
            api_version: req.api_version,
            queue_flags: req.queue_flags.as_raw(),
            extension_count: exts.0.len() as u32,
            feature_count: features.0.len() as u32,
            extensions: exts.0.as_ptr(),
            vulkan12_features: features.0.as_ptr(),
        };
        // SAFETY: the caller guarantees `s_size` writable bytes.
        unsafe { grow::write(out, &r, "out")? };
        Ok(())
    })
}

/// Reads `count` C strings at `list` (NULL with a zero count is an empty list).
///
/// # Safety
/// `list` is NULL or points at `count` readable pointers to NUL-terminated strings.
unsafe fn string_list(list: *const *const c_char, count: u32, what: &str) -> Result<Vec<CString>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if list.is_null() {
        return err(
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            format!("device: {what} is NULL but its count is {count}"),
        );
    }
    (0..count as usize)
        .map(|i| {
            // SAFETY: the caller guarantees `count` readable pointers.
            let p = unsafe { *list.add(i) };
            if p.is_null() {
                return err(
                    VKSPLAT_ERROR_INVALID_ARGUMENT,
                    format!("device: {what}[{i}] is NULL"),
                );
            }
            // SAFETY: the caller guarantees a NUL-terminated string.
            Ok(unsafe { CStr::from_ptr(p) }.to_owned())
        })
        .collect()
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `desc` is NULL or a readable `VksplatContextDesc`; `device` is NULL or a readable
/// `VksplatVulkanDevice` whose handles are valid, belong together and outlive the context, and
/// whose lists hold what the header says; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn vksplat_context_create_vulkan(
    desc: *const VksplatContextDesc,
    device: *const VksplatVulkanDevice,
    out: *mut *mut VksplatContext,
) -> VksplatResult {
    guard("vksplat_context_create_vulkan", || {
        // SAFETY: `out` is the caller's out-pointer.
        unsafe { clear_out(out)? };
        let d = if desc.is_null() {
            None
        } else {
            // SAFETY: the caller guarantees `s_size` readable bytes.
            Some(unsafe { grow::read(desc, "desc")? })
        };
        if let Some(d) = &d {
            if !d.device.is_null() || d.validation != 0 {
                return err(
                    VKSPLAT_ERROR_INVALID_ARGUMENT,
                    "desc: device and validation must be NULL and 0 for a host's device (the \
                     host chooses the device and its instance's layers)",
                );
            }
        }
        // SAFETY: the caller guarantees what `desc` points at.
        let (host_allocator, memory_budget) = unsafe { crate::memory_options(d.as_ref())? };
        // SAFETY: the caller guarantees `s_size` readable bytes.
        let v = unsafe { grow::read(device, "device")? };
        let Some(gipa) = v.get_instance_proc_addr else {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                "device: get_instance_proc_addr is NULL",
            );
        };
        if v.instance.is_null() || v.physical_device.is_null() || v.device.is_null() {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                "device: instance, physical_device and device must not be NULL",
            );
        }
        // SAFETY: the caller guarantees the lists.
        let extensions = unsafe { string_list(v.extensions, v.extension_count, "extensions")? };
        // SAFETY: as above.
        let features =
            unsafe { string_list(v.vulkan12_features, v.feature_count, "vulkan12_features")? };
        let borrowed = BorrowedDevice {
            // SAFETY: the host's vkGetInstanceProcAddr, whose C signature is the one Vulkan
            // declares (VKAPI_PTR is the C calling convention on the platforms vksplat
            // builds for).
            get_instance_proc_addr: unsafe {
                std::mem::transmute::<
                    unsafe extern "C" fn(
                        *mut c_void,
                        *const c_char,
                    ) -> Option<unsafe extern "C" fn()>,
                    raw::PFN_vkGetInstanceProcAddr,
                >(gipa)
            },
            instance: raw::Instance::from_raw(v.instance as u64),
            physical_device: raw::PhysicalDevice::from_raw(v.physical_device as u64),
            device: raw::Device::from_raw(v.device as u64),
            queue_family: v.queue_family,
            queue_index: v.queue_index,
            api_version: v.api_version,
            enabled_extensions: extensions,
            enabled_vulkan12_features: features
                .iter()
                .map(|f| f.to_string_lossy().into_owned())
                .collect(),
            host_allocator,
            memory_budget,
        };
        if let Err(e) = Context::check_borrowed(&borrowed) {
            return err(VKSPLAT_ERROR_UNSUPPORTED, e.to_string());
        }
        // SAFETY: the caller guarantees valid handles that belong together and outlive the
        // context, created with the extensions and features it lists.
        let ctx = unsafe { Context::from_borrowed(&borrowed) }.map_err(|e| match e {
            vksplat_vk::VkError::Invalid(m) => Error(VKSPLAT_ERROR_INVALID_ARGUMENT, m),
            e => e.into(),
        })?;
        let handle = context_handle(ctx, d.as_ref())?;
        // SAFETY: checked non-NULL by `clear_out`.
        unsafe { *out = Box::into_raw(handle) as *mut VksplatContext };
        Ok(())
    })
}

/// The camera, settings and time (when the descriptor names one) of a GPU-output frame.
///
/// # Safety
/// `desc` is NULL or a readable `VksplatRenderDesc`.
unsafe fn frame_setup(
    list: &Instances,
    desc: *const VksplatRenderDesc,
) -> Result<(Camera, RenderSettings, Option<f64>)> {
    // SAFETY: the caller guarantees a readable descriptor or NULL.
    let frame = unsafe { frame_arg(desc)? };
    let Some(camera) = frame.camera.clone() else {
        return err(
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            "no camera: set desc->camera",
        );
    };
    Ok((camera, list.settings(&frame), frame.time))
}

fn image_layout(v: u32) -> raw::ImageLayout {
    raw::ImageLayout::from_raw(v as i32)
}

/// Checks a target image's owning queue family against the context's queue.
fn check_family(family: u32, ours: u32, what: &str) -> Result<()> {
    if family == raw::QUEUE_FAMILY_IGNORED || family == ours {
        Ok(())
    } else {
        err(
            VKSPLAT_ERROR_UNSUPPORTED,
            format!(
                "target: {what}_queue_family is {family}, but vksplat submits on family {ours}: \
                 transfer the image's ownership to it first, or share it concurrently and pass \
                 VK_QUEUE_FAMILY_IGNORED"
            ),
        )
    }
}

/// The colour (`color`) or depth image of a target, if it names one.
///
/// # Safety
/// The image handle is what `ExternalImage::from_raw` requires.
unsafe fn target_image(
    t: &VksplatVulkanTarget,
    color: bool,
    family: u32,
    w: u32,
    h: u32,
) -> Result<Option<ExternalImage<'static>>> {
    let (image, format, old, new, owner, what) = if color {
        let c = (t.color_image, t.color_format, t.color_old_layout);
        (
            c.0,
            c.1,
            c.2,
            t.color_new_layout,
            t.color_queue_family,
            "color",
        )
    } else {
        let d = (t.depth_image, t.depth_format, t.depth_old_layout);
        (
            d.0,
            d.1,
            d.2,
            t.depth_new_layout,
            t.depth_queue_family,
            "depth",
        )
    };
    if image == 0 {
        return Ok(None);
    }
    check_family(owner, family, what)?;
    // SAFETY: the caller's promise.
    Ok(Some(unsafe {
        ExternalImage::from_raw(
            raw::Image::from_raw(image),
            raw::Format::from_raw(format as i32),
            w,
            h,
            image_layout(old),
            image_layout(new),
        )
    }))
}

/// Reads `count` semaphores and values.
///
/// # Safety
/// `sems` and `values` are NULL or point at `count` readable values each.
unsafe fn semaphores(
    sems: *const u64,
    values: *const u64,
    count: u32,
    what: &str,
) -> Result<Vec<(ExternalSemaphore, u64)>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if sems.is_null() || values.is_null() {
        return err(
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            format!(
                "target: {what}_semaphores or {what}_values is NULL but {what}_count is {count}"
            ),
        );
    }
    (0..count as usize)
        .map(|i| {
            // SAFETY: the caller guarantees `count` readable values in each array.
            let (sem, value) = unsafe { (*sems.add(i), *values.add(i)) };
            if sem == 0 {
                return err(
                    VKSPLAT_ERROR_INVALID_ARGUMENT,
                    format!("target: {what}_semaphores[{i}] is VK_NULL_HANDLE"),
                );
            }
            // SAFETY: the header requires a semaphore of the context's device, valid until
            // the frame has finished.
            Ok((
                unsafe { ExternalSemaphore::from_raw(raw::Semaphore::from_raw(sem)) },
                value,
            ))
        })
        .collect()
}

/// A host's `VksplatVulkanTarget`, its objects wrapped.
struct HostTarget {
    color_image: Option<ExternalImage<'static>>,
    depth_image: Option<ExternalImage<'static>>,
    color_buffer: Option<ExternalBuffer>,
    depth_buffer: Option<ExternalBuffer>,
    color_offset: u64,
    depth_offset: u64,
    waits: Vec<(ExternalSemaphore, u64)>,
    signals: Vec<(ExternalSemaphore, u64)>,
}

impl HostTarget {
    /// Reads and wraps `target` for a `w`×`h` frame on queue family `family`.
    ///
    /// # Safety
    /// `target` is NULL or a readable `VksplatVulkanTarget` whose objects are valid as the
    /// header says until the frame has finished.
    unsafe fn read(
        target: *const VksplatVulkanTarget,
        family: u32,
        w: u32,
        h: u32,
    ) -> Result<Self> {
        // SAFETY: the caller guarantees `s_size` readable bytes.
        let t = unsafe { grow::read(target, "target")? };
        // SAFETY: (the four calls) the caller guarantees the host's objects valid as stated
        // until the frame has finished; format, size and layouts are checked by the renderer
        // before anything is recorded.
        let (color_image, depth_image, color_buffer, depth_buffer) = unsafe {
            (
                target_image(&t, true, family, w, h)?,
                target_image(&t, false, family, w, h)?,
                (t.color_buffer != 0).then(|| {
                    ExternalBuffer::from_raw(
                        raw::Buffer::from_raw(t.color_buffer),
                        t.color_buffer_size,
                    )
                }),
                (t.depth_buffer != 0).then(|| {
                    ExternalBuffer::from_raw(
                        raw::Buffer::from_raw(t.depth_buffer),
                        t.depth_buffer_size,
                    )
                }),
            )
        };
        if color_image.is_some() && color_buffer.is_some() {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                "target: both color_image and color_buffer are set (one colour target)",
            );
        }
        if depth_image.is_some() && depth_buffer.is_some() {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                "target: both depth_image and depth_buffer are set (one depth target)",
            );
        }
        // SAFETY: the caller guarantees the arrays.
        let waits = unsafe { semaphores(t.wait_semaphores, t.wait_values, t.wait_count, "wait")? };
        // SAFETY: as above.
        let signals = unsafe {
            semaphores(
                t.signal_semaphores,
                t.signal_values,
                t.signal_count,
                "signal",
            )?
        };
        Ok(HostTarget {
            color_image,
            depth_image,
            color_buffer,
            depth_buffer,
            color_offset: t.color_buffer_offset,
            depth_offset: t.depth_buffer_offset,
            waits,
            signals,
        })
    }

    /// Calls `f` with the renderer's view of the target.
    fn with<R>(&self, f: impl FnOnce(&GpuTarget) -> R) -> R {
        let waits: Vec<(&ExternalSemaphore, u64)> =
            self.waits.iter().map(|w| (&w.0, w.1)).collect();
        let signals: Vec<(&ExternalSemaphore, u64)> =
            self.signals.iter().map(|s| (&s.0, s.1)).collect();
        f(&GpuTarget {
            color: surface(&self.color_image, &self.color_buffer, self.color_offset),
            depth: surface(&self.depth_image, &self.depth_buffer, self.depth_offset),
            host_readback: false,
            waits: &waits,
            signals: &signals,
            occluder: None,
        })
    }
}

/// Refuses a context that owns its device, naming `instead`.
fn check_borrowed(c: &ContextHandle, instead: &str) -> Result<()> {
    if c.inner.ctx.is_borrowed() {
        Ok(())
    } else {
        err(
            VKSPLAT_ERROR_UNSUPPORTED,
            format!(
                "the context owns its device, whose images and command buffers a host cannot \
                 name: create it with vksplat_context_create_vulkan{instead}"
            ),
        )
    }
}

/// A GPU-output frame of `list` (the one implementation behind `vksplat_render_vulkan` and
/// `vksplat_render_vulkan_instances`).
///
/// # Safety
/// `desc` and `target` as for `vksplat_render_vulkan`; `frame` NULL or writable.
unsafe fn render_vulkan(
    c: &ContextHandle,
    mut list: Instances,
    desc: *const VksplatRenderDesc,
    target: *const VksplatVulkanTarget,
    frame: *mut u64,
) -> Result<()> {
    if frame.is_null() {
        return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "frame is NULL");
    }
    check_borrowed(c, ", or use vksplat_render_submit")?;
    // SAFETY: the caller guarantees a readable descriptor or NULL.
    let (camera, settings, time) = unsafe { frame_setup(&list, desc)? };
    let family = c.inner.ctx.queue_family();
    // SAFETY: the caller guarantees the target's objects.
    let t = unsafe { HostTarget::read(target, family, camera.width, camera.height)? };
    // SAFETY: the caller guarantees the descriptor's chain and the host depth's objects.
    let hd = unsafe { HostDepthArg::read(desc, Some(family), camera.width, camera.height, "")? };
    let occluder = hd.as_ref().map(|h| h.occluder());
    let mut renderer = lock(&c.inner.renderer);
    list.evaluate(&renderer, time)?;
    let ticket = t
        .with(|gpu| {
            let gpu = GpuTarget { occluder, ..*gpu };
            renderer.submit_frame(&list.list(), &camera, &settings, &gpu)
        })
        .map_err(request_error)?;
    // SAFETY: checked non-NULL above.
    unsafe { *frame = ticket.frame };
    Ok(())
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context`, `scene_ptr` are NULL or live; `desc` NULL or readable; `target` NULL or a
/// readable `VksplatVulkanTarget` whose objects are valid as the header says until the frame
/// has finished; `frame` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn vksplat_render_vulkan(
    context: *mut VksplatContext,
    scene_ptr: *mut VksplatScene,
    desc: *const VksplatRenderDesc,
    target: *const VksplatVulkanTarget,
    frame: *mut u64,
) -> VksplatResult {
    guard("vksplat_render_vulkan", || {
        // SAFETY: the caller guarantees live objects or NULL.
        let (c, s) = unsafe { (context_ref(context)?, scene_ref(scene_ptr)?) };
        let list = Instances::single(c, s)?;
        // SAFETY: the caller's promises, passed on.
        unsafe { render_vulkan(c, list, desc, target, frame) }
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or live; `instances` as for `vksplat_render_instances`; `desc`, `target`
/// and `frame` as for `vksplat_render_vulkan`.
#[no_mangle]
pub unsafe extern "C" fn vksplat_render_vulkan_instances(
    context: *mut VksplatContext,
    instances: *const *const VksplatSceneInstance,
    count: u32,
    desc: *const VksplatRenderDesc,
    target: *const VksplatVulkanTarget,
    frame: *mut u64,
) -> VksplatResult {
    guard("vksplat_render_vulkan_instances", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        // SAFETY: the caller guarantees the list and its scenes.
        let list = unsafe { Instances::read(c, instances, count)? };
        // SAFETY: the caller's promises, passed on.
        unsafe { render_vulkan(c, list, desc, target, frame) }
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or live; `command_buffer` is NULL or a command buffer as the header
/// states (of the context's device and queue family, recording, used by no other thread
/// until this returns); `instances` as for `vksplat_render_instances`; `desc`, `target` and
/// `frame` as for `vksplat_render_vulkan`, the target's objects valid until the host's
/// submission of the command buffer has finished.
#[no_mangle]
pub unsafe extern "C" fn vksplat_render_record(
    context: *mut VksplatContext,
    command_buffer: *mut c_void,
    instances: *const *const VksplatSceneInstance,
    count: u32,
    desc: *const VksplatRenderDesc,
    target: *const VksplatVulkanTarget,
    frame: *mut u64,
) -> VksplatResult {
    guard("vksplat_render_record", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        if frame.is_null() || command_buffer.is_null() {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                "frame or command_buffer is NULL",
            );
        }
        // SAFETY: the caller guarantees the list and its scenes.
        let list = unsafe { Instances::read(c, instances, count)? };
        list.refuse_plugins(
            "plugin scenes cannot be recorded into a host's command buffer: the plugin writes \
             its splats in a submission of its own or from the CPU, which would overtake the \
             frames recorded but not yet submitted (render them with \
             vksplat_render_vulkan_instances)",
        )?;
        check_borrowed(c, "")?;
        // SAFETY: the caller guarantees a readable descriptor or NULL.
        let (camera, settings, _) = unsafe { frame_setup(&list, desc)? };
        let family = c.inner.ctx.queue_family();
        // SAFETY: the caller guarantees the target's objects.
        let t = unsafe { HostTarget::read(target, family, camera.width, camera.height)? };
        // SAFETY: the caller guarantees a command buffer of the context's device and queue
        // family in the recording state, used by no other thread during this call, and (the
        // header's frame contract) submits it on the context's queue in recording order and
        // finishes frame n before recording frame n + frames in flight or destroying what it
        // uses; the renderer keeps its own objects alive by that contract.
        let cmd = unsafe {
            HostCommandBuffer::from_raw(raw::CommandBuffer::from_raw(command_buffer as u64))
        };
        // SAFETY: the caller guarantees the descriptor's chain and the host depth's objects.
        let hd =
            unsafe { HostDepthArg::read(desc, Some(family), camera.width, camera.height, "")? };
        let occluder = hd.as_ref().map(|h| h.occluder());
        let mut renderer = lock(&c.inner.renderer);
        let n = t
            .with(|gpu| {
                let gpu = GpuTarget { occluder, ..*gpu };
                renderer.record_frame(&cmd, &list.list(), &camera, &settings, &gpu)
            })
            .map_err(request_error)?;
        // SAFETY: checked non-NULL above.
        unsafe { *frame = n };
        Ok(())
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or live; `count` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn vksplat_frames_in_flight(
    context: *const VksplatContext,
    count: *mut u32,
) -> VksplatResult {
    guard("vksplat_frames_in_flight", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let _ = unsafe { context_ref(context)? };
        if count.is_null() {
            return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "count is NULL");
        }
        // SAFETY: checked non-NULL above.
        unsafe { *count = FRAMES_IN_FLIGHT as u32 };
        Ok(())
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn vksplat_record_done(
    context: *mut VksplatContext,
    frame: u64,
) -> VksplatResult {
    guard_status("vksplat_record_done", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        let outcome = lock(&c.inner.renderer)
            .recorded_frame_done(frame)
            .map_err(request_error)?;
        Ok(match outcome {
            Some(o) if o.clamped => VKSPLAT_INCOMPLETE,
            _ => VKSPLAT_OK,
        })
    })
}

/// One target surface: the image if there is one, else the buffer at `offset`.
fn surface<'a>(
    img: &'a Option<ExternalImage<'static>>,
    buf: &'a Option<ExternalBuffer>,
    offset: u64,
) -> Option<TargetSurface<'a>> {
    match (img, buf) {
        (Some(i), _) => Some(TargetSurface::Image(i)),
        (None, Some(b)) => Some(TargetSurface::Buffer { buffer: b, offset }),
        (None, None) => None,
    }
}

/// Caller memory that receives a submitted frame when it finishes.
pub(crate) struct PendingImage(Target);
// SAFETY: the caller promised (vksplat_render_submit) that the buffers stay valid until the
// frame is reported finished; they are written only under the context's pending lock.
unsafe impl Send for PendingImage {}

/// A submitted frame of `list` into caller memory (the one implementation behind
/// `vksplat_render_submit` and `vksplat_render_submit_instances`).
///
/// # Safety
/// `desc` and `image` as for `vksplat_render_submit`; `frame` NULL or writable.
unsafe fn render_submit(
    c: &ContextHandle,
    mut list: Instances,
    desc: *const VksplatRenderDesc,
    image: *const VksplatImage,
    frame: *mut u64,
) -> Result<()> {
    if frame.is_null() {
        return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "frame is NULL");
    }
    // SAFETY: the caller guarantees a readable descriptor or NULL.
    let (camera, settings, time) = unsafe { frame_setup(&list, desc)? };
    // SAFETY: the caller guarantees a readable image or NULL.
    let target = unsafe { target_arg(image, &camera, c.inner.max_image_pixels())? };
    // SAFETY: the caller guarantees the descriptor's chain (host memory only here).
    let hd = unsafe {
        HostDepthArg::read(
            desc,
            None,
            camera.width,
            camera.height,
            "vksplat_render_submit",
        )?
    };
    let gpu = GpuTarget {
        host_readback: true,
        occluder: hd.as_ref().map(|h| h.occluder()),
        ..Default::default()
    };
    let mut renderer = lock(&c.inner.renderer);
    list.evaluate(&renderer, time)?;
    let ticket = renderer
        .submit_frame(&list.list(), &camera, &settings, &gpu)
        .map_err(request_error)?;
    let mut pending = lock(&c.inner.pending);
    // Frames whose outcome the renderer no longer keeps can never be written.
    let oldest = ticket.frame.saturating_sub(16);
    pending.retain(|p| p.0 > oldest);
    pending.push((ticket.frame, PendingImage(target)));
    // SAFETY: checked non-NULL above.
    unsafe { *frame = ticket.frame };
    Ok(())
}

/// See `include/vksplat.h`.
///
/// # Safety
/// As `vksplat_render`, and `image`'s buffers stay valid until the frame is reported finished;
/// `frame` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn vksplat_render_submit(
    context: *mut VksplatContext,
    scene_ptr: *mut VksplatScene,
    desc: *const VksplatRenderDesc,
    image: *const VksplatImage,
    frame: *mut u64,
) -> VksplatResult {
    guard("vksplat_render_submit", || {
        // SAFETY: the caller guarantees live objects or NULL.
        let (c, s) = unsafe { (context_ref(context)?, scene_ref(scene_ptr)?) };
        let list = Instances::single(c, s)?;
        // SAFETY: the caller's promises, passed on.
        unsafe { render_submit(c, list, desc, image, frame) }
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or live; `instances` as for `vksplat_render_instances`; `desc`, `image`
/// and `frame` as for `vksplat_render_submit`.
#[no_mangle]
pub unsafe extern "C" fn vksplat_render_submit_instances(
    context: *mut VksplatContext,
    instances: *const *const VksplatSceneInstance,
    count: u32,
    desc: *const VksplatRenderDesc,
    image: *const VksplatImage,
    frame: *mut u64,
) -> VksplatResult {
    guard("vksplat_render_submit_instances", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        // SAFETY: the caller guarantees the list and its scenes.
        let list = unsafe { Instances::read(c, instances, count)? };
        // SAFETY: the caller's promises, passed on.
        unsafe { render_submit(c, list, desc, image, frame) }
    })
}

/// Reports a frame's state; a finished frame of `vksplat_render_submit` is written into the
/// caller's memory first.
fn frame_status(c: &ContextHandle, frame: u64, block: bool) -> Result<VksplatResult> {
    let mut renderer = lock(&c.inner.renderer);
    let state = if block {
        FrameState::Done(renderer.wait_frame(frame).map_err(request_error)?)
    } else {
        renderer.poll_frame(frame).map_err(request_error)?
    };
    drop(renderer);
    let outcome = match state {
        FrameState::Pending => return Ok(VKSPLAT_NOT_READY),
        FrameState::Done(None) => return Ok(VKSPLAT_OK),
        FrameState::Done(Some(o)) => o,
    };
    let mut pending = lock(&c.inner.pending);
    if let Some(i) = pending.iter().position(|p| p.0 == frame) {
        let (_, PendingImage(target)) = pending.swap_remove(i);
        if let Some(f) = &outcome.frame {
            // SAFETY: the caller promised the buffers stay valid until this report; they were
            // checked by `target_arg` at submit.
            unsafe { target.write(f) };
        }
    }
    Ok(if outcome.clamped {
        VKSPLAT_INCOMPLETE
    } else {
        VKSPLAT_OK
    })
}

fn request_error(e: CoreError) -> Error {
    match e {
        CoreError::InvalidRequest(m) => Error(VKSPLAT_ERROR_INVALID_ARGUMENT, m),
        e => e.into(),
    }
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn vksplat_frame_poll(
    context: *mut VksplatContext,
    frame: u64,
) -> VksplatResult {
    guard_status("vksplat_frame_poll", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        frame_status(c, frame, false)
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn vksplat_frame_wait(
    context: *mut VksplatContext,
    frame: u64,
) -> VksplatResult {
    guard_status("vksplat_frame_wait", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        frame_status(c, frame, true)
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or live; `semaphore` and `value` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn vksplat_frame_timeline(
    context: *mut VksplatContext,
    frame: u64,
    semaphore: *mut u64,
    value: *mut u64,
) -> VksplatResult {
    guard("vksplat_frame_timeline", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        if semaphore.is_null() || value.is_null() {
            return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "semaphore or value is NULL");
        }
        let v = lock(&c.inner.renderer)
            .frame_timeline_value(frame)
            .map_err(request_error)?;
        // SAFETY: checked non-NULL above.
        unsafe {
            *semaphore = c.inner.ctx.timeline_semaphore().as_raw();
            *value = v;
        }
        Ok(())
    })
}
