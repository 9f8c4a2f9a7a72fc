//! The host C API of `include/vksplat.h`: `libvksplat.so` / `libvksplat.a`.
//!
//! A face, nothing more (ARCHITECTURE.md, "Crates"): every entry point checks its arguments,
//! catches panics (a panic is reported as `VKSPLAT_ERROR_PANIC`, never unwinds into C),
//! translates errors into result codes and keeps the message in a thread-local for
//! `vksplat_last_error`.
//! The work is done by vksplat-core and vksplat-plugin-host.
//!
//! Objects: a `VksplatContext` is an `Arc<ContextInner>` (device, renderer behind a mutex, the
//! deprecated context camera, plugin directories, the device's limits); a `VksplatScene` holds
//! its own `Arc` of the context, so a scene keeps the device alive even if the context handle
//! is destroyed first. Every object is internally locked, so no call corrupts state when made
//! concurrently (see the header); a render takes its camera and time from its descriptor, so
//! concurrent renders on one context never mix their inputs.
//!
//! Invariants: every struct from the caller is read with `vksplat_abi::grow::read` and every
//! out-struct written with `vksplat_abi::grow::write` (the growth rule lives there); result
//! codes are chosen only here ([`Error`]'s `From` impls), from the error kinds of the crates
//! below.

mod log_sink;

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use vksplat_abi::grow::{self, StructError};
use vksplat_abi::*;
use vksplat_core::{
    Context, ContextDesc, CoreError, DepthKind, DeviceChoice, DeviceLimits, ErrorKind, RenderMode,
    RenderSettings, Renderer, SceneUpdate,
};
use vksplat_io::{Camera, Projection};
use vksplat_plugin_host::{EvalPath, Instance, PluginError, Policy, Scene, SearchPath};

// ---------------------------------------------------------------------------------------------
// Errors

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// A failed call: result code and message.
struct Error(VksplatResult, String);

type Result<T> = std::result::Result<T, Error>;

fn err<T>(code: VksplatResult, message: impl Into<String>) -> Result<T> {
    Err(Error(code, message.into()))
}

/// The result code of a core error's kind.
fn core_code(kind: ErrorKind) -> VksplatResult {
    match kind {
        ErrorKind::InvalidInput => VKSPLAT_ERROR_INVALID_INPUT,
        ErrorKind::NoDevice => VKSPLAT_ERROR_NO_DEVICE,
        ErrorKind::DeviceLost | ErrorKind::Vulkan => VKSPLAT_ERROR_VULKAN,
        ErrorKind::Shader => VKSPLAT_ERROR_SHADER,
        ErrorKind::TooLarge => VKSPLAT_ERROR_TOO_LARGE,
        ErrorKind::HostMemory => VKSPLAT_ERROR_OUT_OF_MEMORY,
    }
}

impl From<CoreError> for Error {
    fn from(e: CoreError) -> Self {
        Error(core_code(e.kind()), e.to_string())
    }
}

impl From<vksplat_io::IoError> for Error {
    fn from(e: vksplat_io::IoError) -> Self {
        let code = match e {
            vksplat_io::IoError::OutOfMemory { .. } => VKSPLAT_ERROR_OUT_OF_MEMORY,
            vksplat_io::IoError::Output { .. } => VKSPLAT_ERROR_IO,
            vksplat_io::IoError::Input { .. } => VKSPLAT_ERROR_INVALID_INPUT,
        };
        Error(code, e.to_string())
    }
}

impl From<PluginError> for Error {
    fn from(e: PluginError) -> Self {
        let code = match &e {
            PluginError::NotFound(_) | PluginError::Untrusted(_) | PluginError::Plugin(_) => {
                VKSPLAT_ERROR_PLUGIN
            }
            PluginError::Abi(_) => VKSPLAT_ERROR_ABI,
            PluginError::Panic(_) => VKSPLAT_ERROR_PANIC,
            PluginError::Shader(_) => VKSPLAT_ERROR_SHADER,
            PluginError::InvalidOutput(_) => VKSPLAT_ERROR_INVALID_OUTPUT,
            PluginError::Param(_) | PluginError::Ambiguous(_) => VKSPLAT_ERROR_INVALID_ARGUMENT,
            PluginError::Core(c) => core_code(c.kind()),
        };
        Error(code, e.to_string())
    }
}

impl From<vksplat_vk::VkError> for Error {
    fn from(e: vksplat_vk::VkError) -> Self {
        CoreError::from(e).into()
    }
}

impl From<StructError> for Error {
    fn from(e: StructError) -> Self {
        Error(e.code(), e.to_string())
    }
}

fn set_last_error(message: &str) {
    let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// Runs an entry point: `Ok` clears the last error, `Err` and panics set it.
fn guard(name: &str, f: impl FnOnce() -> Result<()>) -> VksplatResult {
    guard_status(name, || f().map(|()| VKSPLAT_OK))
}

/// [`guard`] for an entry point that returns a status (`VKSPLAT_OK` or a positive one).
fn guard_status(name: &str, f: impl FnOnce() -> Result<VksplatResult>) -> VksplatResult {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(status)) => {
            set_last_error("");
            status
        }
        Ok(Err(Error(code, message))) => {
            set_last_error(&format!("{name}: {message}"));
            code
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("{name}: internal error (panic): {what}"));
            VKSPLAT_ERROR_PANIC
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock was already reported; the data is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A caller's string argument; NULL is `None`.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that stays valid for `'a`.
unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller guarantees a NUL-terminated string.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map(Some)
        .map_err(|_| {
            Error(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                format!("{what} is not UTF-8"),
            )
        })
}

/// Stores NULL in a caller's out-pointer, after checking it is not NULL itself.
///
/// # Safety
/// `out` is NULL or valid for a write.
unsafe fn clear_out<T>(out: *mut *mut T) -> Result<()> {
    if out.is_null() {
        return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "out is NULL");
    }
    // SAFETY: non-NULL, and the caller guarantees it is writable.
    unsafe { *out = std::ptr::null_mut() };
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Objects

struct ContextInner {
    ctx: Arc<Context>,
    renderer: Mutex<Renderer>,
    /// The deprecated `vksplat_set_camera`'s camera.
    camera: Mutex<Option<Camera>>,
    plugin_dirs: Mutex<Vec<PathBuf>>,
    limits: DeviceLimits,
    /// Frames of `vksplat_render_submit` whose pixels go to caller memory when they finish.
    pending: Mutex<Vec<(u64, vulkan::PendingImage)>>,
}

impl ContextInner {
    /// Refuses a scene of `count` splats of SH degree `sh_degree` above the device's limit.
    fn check_splats(&self, count: u64, sh_degree: u32, what: &str) -> Result<()> {
        let Some(&max) = self.limits.max_splats.get(sh_degree as usize) else {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                format!("{what}: SH degree {sh_degree} (at most 3)"),
            );
        };
        if count > max {
            return err(
                VKSPLAT_ERROR_TOO_LARGE,
                format!(
                    "{what} has {count} splats, but {} holds at most {max} splats of SH degree \
                     {sh_degree} (VksplatLimits::max_splats_by_sh_degree)",
                    self.ctx.info().name
                ),
            );
        }
        Ok(())
    }

    /// The largest image, after the device's limits and the camera rule.
    fn max_image_pixels(&self) -> u64 {
        self.limits
            .max_image_pixels
            .min(vksplat_io::camera::MAX_PIXELS)
    }
}

struct ContextHandle {
    inner: Arc<ContextInner>,
    /// The log callback's registration, removed when the handle is destroyed.
    log_id: Option<u64>,
}

/// Caller arrays kept by a borrowed scene (`VKSPLAT_SCENE_BORROW`): the scene is static splats
/// that `vksplat_scene_refresh` writes again from them; the deleter runs when the scene is
/// destroyed.
#[derive(Clone, Copy)]
struct Borrowed {
    desc: VksplatSceneDesc,
}

/// A scene handle's state: the shared scene model (a file's or the host's splats, or a
/// plugin's variant scene, with the file's antialiasing flag), the host arrays of a borrowed
/// scene and the scene's time.
struct SceneInner {
    scene: Scene,
    borrowed: Option<Borrowed>,
    time: f64,
    /// The box of the splat centres (`VksplatSceneInfo::bounds_min/max`); None for plugin
    /// scenes and empty ones.
    bounds: Option<[[f32; 3]; 2]>,
}

/// The axis-aligned box of `means`, None when there are none.
fn centre_bounds(means: &[[f32; 3]]) -> Option<[[f32; 3]; 2]> {
    let first = *means.first()?;
    Some(means.iter().fold([first, first], |[lo, hi], m| {
        [
            std::array::from_fn(|k| lo[k].min(m[k])),
            std::array::from_fn(|k| hi[k].max(m[k])),
        ]
    }))
}

struct SceneHandle {
    ctx: Arc<ContextInner>,
    inner: Mutex<SceneInner>,
}

// SAFETY: a borrowed scene's pointers are the caller's, who promised (VKSPLAT_SCENE_BORROW)
// they stay valid and unchanged while the engine may read them; all access is under the
// scene's mutex. Plugin instances are Send (vksplat-plugin-host).
unsafe impl Send for SceneInner {}

/// # Safety
/// `p` is NULL or a context from `vksplat_context_create` that is not destroyed.
unsafe fn context_ref<'a>(p: *const VksplatContext) -> Result<&'a ContextHandle> {
    // SAFETY: the caller guarantees a live handle (a `Box<ContextHandle>`) or NULL.
    unsafe { (p as *const ContextHandle).as_ref() }
        .ok_or_else(|| Error(VKSPLAT_ERROR_INVALID_ARGUMENT, "context is NULL".into()))
}

/// # Safety
/// `p` is NULL or a scene from a `vksplat_scene_*` constructor that is not destroyed.
unsafe fn scene_ref<'a>(p: *const VksplatScene) -> Result<&'a SceneHandle> {
    // SAFETY: the caller guarantees a live handle (a `Box<SceneHandle>`) or NULL.
    unsafe { (p as *const SceneHandle).as_ref() }
        .ok_or_else(|| Error(VKSPLAT_ERROR_INVALID_ARGUMENT, "scene is NULL".into()))
}

// Compile-time proof that the definitions below match the declarations the header comes
// from (vksplat-abi's host.rs).
macro_rules! same_signature {
    ($($f:ident: $t:ty;)*) => {
        $(const _: [$t; 2] = [vksplat_abi::$f, $f];)*
    };
}
same_signature! {
    vksplat_version: unsafe extern "C" fn() -> u32;
    vksplat_version_string: unsafe extern "C" fn() -> *const c_char;
    vksplat_abi_version: unsafe extern "C" fn() -> u32;
    vksplat_last_error: unsafe extern "C" fn() -> *const c_char;
    vksplat_context_create: unsafe extern "C" fn(*const VksplatContextDesc, *mut *mut VksplatContext) -> VksplatResult;
    vksplat_context_destroy: unsafe extern "C" fn(*mut VksplatContext);
    vksplat_context_limits: unsafe extern "C" fn(*const VksplatContext, *mut VksplatLimits) -> VksplatResult;
    vksplat_memory_stats: unsafe extern "C" fn(*const VksplatContext, *mut VksplatMemoryStats) -> VksplatResult;
    vksplat_context_add_plugin_dir: unsafe extern "C" fn(*mut VksplatContext, *const c_char) -> VksplatResult;
    vksplat_set_camera: unsafe extern "C" fn(*mut VksplatContext, *const VksplatCamera) -> VksplatResult;
    vksplat_scene_load: unsafe extern "C" fn(*mut VksplatContext, *const c_char, *mut *mut VksplatScene) -> VksplatResult;
    vksplat_scene_create: unsafe extern "C" fn(*mut VksplatContext, *const VksplatSceneDesc, *mut *mut VksplatScene) -> VksplatResult;
    vksplat_scene_open_plugin: unsafe extern "C" fn(*mut VksplatContext, *const VksplatPluginSceneDesc, *mut *mut VksplatScene) -> VksplatResult;
    vksplat_scene_refresh: unsafe extern "C" fn(*mut VksplatScene) -> VksplatResult;
    vksplat_scene_set_param: unsafe extern "C" fn(*mut VksplatScene, *const c_char, *const f32, u32) -> VksplatResult;
    vksplat_scene_set_time: unsafe extern "C" fn(*mut VksplatScene, f64) -> VksplatResult;
    vksplat_scene_info: unsafe extern "C" fn(*const VksplatScene, *mut VksplatSceneInfo) -> VksplatResult;
    vksplat_scene_destroy: unsafe extern "C" fn(*mut VksplatScene);
    vksplat_render: unsafe extern "C" fn(*mut VksplatContext, *mut VksplatScene, *const VksplatRenderDesc, *const VksplatImage) -> VksplatResult;
    vksplat_render_instances: unsafe extern "C" fn(*mut VksplatContext, *const *const VksplatSceneInstance, u32, *const VksplatRenderDesc, *const VksplatImage) -> VksplatResult;
}

// ---------------------------------------------------------------------------------------------
// Version and errors

/// See `include/vksplat.h`.
///
/// # Safety
/// None: callable at any time.
#[no_mangle]
pub unsafe extern "C" fn vksplat_version() -> u32 {
    VKSPLAT_VERSION
}

/// See `include/vksplat.h`.
///
/// # Safety
/// None: the string is static.
#[no_mangle]
pub unsafe extern "C" fn vksplat_version_string() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// See `include/vksplat.h`.
///
/// # Safety
/// None: callable at any time.
#[no_mangle]
pub unsafe extern "C" fn vksplat_abi_version() -> u32 {
    VKSPLAT_ABI_VERSION
}

/// See `include/vksplat.h`.
///
/// # Safety
/// The returned string is valid until the next vksplat call on this thread.
#[no_mangle]
pub unsafe extern "C" fn vksplat_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

// ---------------------------------------------------------------------------------------------
// Context

/// See `include/vksplat.h`.
///
/// # Safety
/// `desc` is NULL or a readable `VksplatContextDesc` of `s_size` bytes with valid strings;
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn vksplat_context_create(
    desc: *const VksplatContextDesc,
    out: *mut *mut VksplatContext,
) -> VksplatResult {
    guard("vksplat_context_create", || {
        // SAFETY: `out` is the caller's out-pointer.
        unsafe { clear_out(out)? };
        let d = if desc.is_null() {
            None
        } else {
            // SAFETY: the caller guarantees `s_size` readable bytes.
            Some(unsafe { grow::read(desc, "desc")? })
        };
        let device = match &d {
            // SAFETY: the caller guarantees a NUL-terminated string or NULL.
            Some(d) => unsafe { str_arg(d.device, "device")? }.unwrap_or("auto"),
            None => "auto",
        };
        let validation = d.is_some_and(|d| d.validation != 0);
        // SAFETY: the caller guarantees what `desc` points at.
        let (host_allocator, memory_budget) = unsafe { memory_options(d.as_ref())? };
        let ctx = Context::new(&ContextDesc {
            device: DeviceChoice::parse(device),
            validation,
            host_allocator,
            memory_budget,
        })?;
        let handle = context_handle(ctx, d.as_ref())?;
        // SAFETY: checked non-NULL by `clear_out`.
        unsafe { *out = Box::into_raw(handle) as *mut VksplatContext };
        Ok(())
    })
}

/// The allocation callbacks and the memory budget of a context descriptor (both creation
/// paths).
///
/// # Safety
/// `d.allocation_callbacks` is NULL or points at a readable `VkAllocationCallbacks` whose
/// functions and user data keep the promises of `VksplatContextDesc::allocation_callbacks`.
pub(crate) unsafe fn memory_options(
    d: Option<&VksplatContextDesc>,
) -> Result<(Option<vksplat_vk::HostAllocator>, Option<u64>)> {
    let Some(d) = d else {
        return Ok((None, None));
    };
    let budget = (d.memory_budget != 0).then_some(d.memory_budget);
    if d.allocation_callbacks.is_null() {
        return Ok((None, budget));
    }
    // SAFETY: the caller guarantees a readable VkAllocationCallbacks (a plain C struct of a
    // pointer and function pointers, read unaligned in case the host packed it).
    let callbacks = unsafe {
        std::ptr::read_unaligned(
            d.allocation_callbacks as *const vksplat_vk::raw::AllocationCallbacks<'static>,
        )
    };
    // SAFETY: the caller guarantees thread-safe callbacks valid for the context's life.
    let allocator = unsafe { vksplat_vk::HostAllocator::new(callbacks) }.map_err(|e| {
        Error(
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            format!("desc: allocation_callbacks: {e}"),
        )
    })?;
    Ok((Some(allocator), budget))
}

/// A context handle around a device (the engine's own or a host's): the renderer, the
/// device's limits and the log callback of `desc`.
fn context_handle(ctx: Arc<Context>, d: Option<&VksplatContextDesc>) -> Result<Box<ContextHandle>> {
    let renderer = Renderer::new(ctx.clone())?;
    let limits = renderer.device_limits();
    let mut handle = Box::new(ContextHandle {
        inner: Arc::new(ContextInner {
            ctx,
            renderer: Mutex::new(renderer),
            camera: Mutex::new(None),
            plugin_dirs: Mutex::new(Vec::new()),
            limits,
            pending: Mutex::new(Vec::new()),
        }),
        log_id: None,
    });
    if let Some((callback, d)) = d.and_then(|d| Some((d.log?, d))) {
        let id = &*handle as *const ContextHandle as u64;
        log_sink::register(id, callback, d.log_user, d.log_level);
        handle.log_id = Some(id);
    }
    let info = handle.inner.ctx.info();
    log::info!(
        "context on {} (subgroup size {}, at most {} splats of SH degree 3, images of at \
         most {} pixels)",
        info.name,
        info.subgroup_size,
        limits.max_splats[3],
        handle.inner.max_image_pixels()
    );
    Ok(handle)
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or a live context, not used by any other call during or after this one.
#[no_mangle]
pub unsafe extern "C" fn vksplat_context_destroy(context: *mut VksplatContext) {
    if context.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller hands back a handle from `vksplat_context_create`, used by no
        // other call.
        let handle = unsafe { Box::from_raw(context as *mut ContextHandle) };
        if let Some(id) = handle.log_id {
            log_sink::unregister(id);
        }
        drop(handle);
    }));
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or a live context; `out` is NULL or a `VksplatLimits` whose header the
/// caller set, with `s_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn vksplat_context_limits(
    context: *const VksplatContext,
    out: *mut VksplatLimits,
) -> VksplatResult {
    guard("vksplat_context_limits", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        let inner = &c.inner;
        let info = inner.ctx.info();
        let mut name = [0 as c_char; 256];
        for (d, s) in name.iter_mut().zip(info.name.bytes().take(255)) {
            *d = s as c_char;
        }
        let max_image_pixels = inner.max_image_pixels();
        let l = VksplatLimits {
            s_type: VKSPLAT_STRUCT_LIMITS,
            s_size: std::mem::size_of::<VksplatLimits>() as u32,
            next: std::ptr::null_mut(),
            max_image_side: inner
                .limits
                .max_image_side
                .min(u32::try_from(max_image_pixels).unwrap_or(u32::MAX)),
            subgroup_size: info.subgroup_size,
            max_buffer_bytes: info.max_storage_buffer_range,
            max_splats: inner.limits.max_splats[3],
            abi_version: VKSPLAT_ABI_VERSION,
            plugin_abi_min: VKSPLAT_PLUGIN_ABI_MIN,
            plugin_abi_max: VKSPLAT_PLUGIN_ABI_VERSION,
            reserved: 0,
            device_name: name,
            max_image_pixels,
            max_splats_by_sh_degree: inner.limits.max_splats,
        };
        // SAFETY: the caller guarantees `s_size` writable bytes.
        unsafe { grow::write(out, &l, "out")? };
        Ok(())
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or a live context; `out` is NULL or a `VksplatMemoryStats` whose header
/// the caller set, with `s_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn vksplat_memory_stats(
    context: *const VksplatContext,
    out: *mut VksplatMemoryStats,
) -> VksplatResult {
    guard("vksplat_memory_stats", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        let m = c.inner.ctx.memory_stats();
        let o = VksplatMemoryStats {
            s_type: VKSPLAT_STRUCT_MEMORY_STATS,
            s_size: std::mem::size_of::<VksplatMemoryStats>() as u32,
            next: std::ptr::null_mut(),
            device_bytes: m.device_bytes,
            peak_device_bytes: m.peak_device_bytes,
            scene_bytes: m.scene_bytes,
            frame_bytes: m.frame_bytes,
            staging_bytes: m.staging_bytes,
            other_bytes: m.other_bytes,
            host_visible_bytes: m.host_visible_bytes,
            reserved_bytes: m.reserved_bytes,
            budget: m.budget.unwrap_or(0),
            allocations: m.allocations,
        };
        // SAFETY: the caller guarantees `s_size` writable bytes.
        unsafe { grow::write(out, &o, "out")? };
        Ok(())
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or a live context; `dir` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn vksplat_context_add_plugin_dir(
    context: *mut VksplatContext,
    dir: *const c_char,
) -> VksplatResult {
    guard("vksplat_context_add_plugin_dir", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        // SAFETY: the caller guarantees a NUL-terminated string or NULL.
        let dir = unsafe { str_arg(dir, "dir")? }
            .ok_or_else(|| Error(VKSPLAT_ERROR_INVALID_ARGUMENT, "dir is NULL".into()))?;
        lock(&c.inner.plugin_dirs).push(PathBuf::from(dir));
        Ok(())
    })
}

/// A caller's camera, read by the growth rule and validated.
///
/// # Safety
/// `p` is NULL or a readable `VksplatCamera` of `s_size` bytes.
unsafe fn camera_arg(p: *const VksplatCamera, what: &str) -> Result<Camera> {
    // SAFETY: the caller guarantees `s_size` readable bytes.
    let cam = unsafe { grow::read(p, what)? };
    let m = cam.world_to_camera;
    let camera = Camera {
        name: "api".into(),
        width: cam.width,
        height: cam.height,
        fx: cam.fx,
        fy: cam.fy,
        cx: cam.cx,
        cy: cam.cy,
        world_to_camera: [
            [m[0], m[1], m[2], m[3]],
            [m[4], m[5], m[6], m[7]],
            [m[8], m[9], m[10], m[11]],
            [m[12], m[13], m[14], m[15]],
        ],
        projection: match cam.projection {
            VKSPLAT_PROJECTION_PERSPECTIVE => Projection::Perspective,
            VKSPLAT_PROJECTION_ORTHOGRAPHIC => Projection::Orthographic,
            p => {
                return err(
                    VKSPLAT_ERROR_INVALID_ARGUMENT,
                    format!("{what}: projection {p} unknown"),
                )
            }
        },
    };
    camera
        .validate()
        .map_err(|e| Error(VKSPLAT_ERROR_INVALID_INPUT, format!("invalid {what}: {e}")))?;
    Ok(camera)
}

/// See `include/vksplat.h` (deprecated: cameras go in `VksplatRenderDesc::camera`).
///
/// # Safety
/// `context` is NULL or a live context; `camera` is NULL or a readable `VksplatCamera` of
/// `s_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn vksplat_set_camera(
    context: *mut VksplatContext,
    camera: *const VksplatCamera,
) -> VksplatResult {
    guard("vksplat_set_camera", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        // SAFETY: the caller guarantees `s_size` readable bytes.
        let camera = unsafe { camera_arg(camera, "camera")? };
        *lock(&c.inner.camera) = Some(camera);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Scenes

/// Stores a new scene handle in `out`.
///
/// # Safety
/// `out` was checked by `clear_out`.
unsafe fn new_scene(
    ctx: &Arc<ContextInner>,
    scene: Scene,
    borrowed: Option<Borrowed>,
    bounds: Option<[[f32; 3]; 2]>,
    out: *mut *mut VksplatScene,
) {
    let handle = Box::new(SceneHandle {
        ctx: ctx.clone(),
        inner: Mutex::new(SceneInner {
            scene,
            borrowed,
            time: 0.0,
            bounds,
        }),
    });
    // SAFETY: checked non-NULL and writable by the caller.
    unsafe { *out = Box::into_raw(handle) as *mut VksplatScene };
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or a live context; `path` is NULL or a NUL-terminated string; `out` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_load(
    context: *mut VksplatContext,
    path: *const c_char,
    out: *mut *mut VksplatScene,
) -> VksplatResult {
    guard("vksplat_scene_load", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        // SAFETY: `out` is the caller's out-pointer.
        unsafe { clear_out(out)? };
        // SAFETY: the caller guarantees a NUL-terminated string or NULL.
        let path = unsafe { str_arg(path, "path")? }
            .ok_or_else(|| Error(VKSPLAT_ERROR_INVALID_ARGUMENT, "path is NULL".into()))?;
        // A plugin's file, by content (the one rule of both faces).
        let search = SearchPath::new(&lock(&c.inner.plugin_dirs));
        if let Some(manifest) = vksplat_plugin_host::detect(&search, Path::new(path))? {
            let plugin = vksplat_plugin_host::Plugin::load(&manifest, &Policy::from_env())?;
            let scene = open_plugin_scene(c, plugin, Some(path), &[], EvalPath::Auto)?;
            // SAFETY: `out` was checked by `clear_out`.
            unsafe { new_scene(&c.inner, scene, None, None, out) };
            return Ok(());
        }
        if !Path::new(path).is_file() {
            return err(VKSPLAT_ERROR_IO, format!("{path}: no such file"));
        }
        // Read and validated as the CLI's `render` does (without its --drop-invalid).
        let file = vksplat_io::scene::read_scene_checked(
            Path::new(path),
            vksplat_io::scene::InvalidSplats::Reject { hint: None },
        )?
        .file;
        let splats = &file.splats;
        c.inner
            .check_splats(splats.len() as u64, splats.sh_degree, path)?;
        let scene = Scene::upload(&lock(&c.inner.renderer), splats, file.antialiased)?;
        let bounds = centre_bounds(&splats.means);
        // SAFETY: `out` was checked by `clear_out`.
        unsafe { new_scene(&c.inner, scene, None, bounds, out) };
        Ok(())
    })
}

/// Views of a scene descriptor's arrays, after checking them.
///
/// # Safety
/// Every non-NULL array of `d` holds `d.count` splats' values (see `VksplatSceneDesc`) and
/// stays valid and unchanged for `'a`.
unsafe fn arrays(d: &VksplatSceneDesc) -> Result<SceneUpdate<'_>> {
    let n = usize::try_from(d.count)
        .map_err(|_| Error(VKSPLAT_ERROR_TOO_LARGE, format!("{} splats", d.count)))?;
    if d.sh_degree > 3 {
        return err(
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            format!("SH degree {} (at most 3)", d.sh_degree),
        );
    }
    let k = ((d.sh_degree + 1) * (d.sh_degree + 1)) as usize;
    let view = |p: *const f32, per: usize, name: &str, required: bool| -> Result<Option<&[f32]>> {
        if p.is_null() {
            if required && n > 0 {
                return err(VKSPLAT_ERROR_INVALID_ARGUMENT, format!("{name} is NULL"));
            }
            return Ok(None);
        }
        // SAFETY: the caller guarantees `count` splats of `per` floats each.
        let s = unsafe { std::slice::from_raw_parts(p, n * per) };
        if let Some(i) = s.iter().position(|v| !v.is_finite()) {
            return err(
                VKSPLAT_ERROR_INVALID_INPUT,
                format!("{name}[{i}] (splat {}) is {}", i / per, s[i]),
            );
        }
        Ok(Some(s))
    };
    let cov = !d.covariances.is_null();
    let three = |s: Option<&[f32]>| {
        // SAFETY: `s` holds 3·n floats, laid out as n [f32; 3] (same alignment).
        s.map(|s| unsafe { std::slice::from_raw_parts(s.as_ptr() as *const [f32; 3], n) })
    };
    Ok(SceneUpdate {
        means: three(view(d.means, 3, "means", true)?),
        // SAFETY: 4·n floats as n [f32; 4].
        rotations: view(d.rotations, 4, "rotations", !cov)?
            .map(|s| unsafe { std::slice::from_raw_parts(s.as_ptr() as *const [f32; 4], n) }),
        log_scales: three(view(d.log_scales, 3, "log_scales", !cov)?),
        opacity_logits: view(d.opacity_logits, 1, "opacity_logits", true)?,
        sh: view(d.sh, k * 3, "sh", true)?,
        // SAFETY: 6·n floats as n [f32; 6].
        covariances: view(d.covariances, 6, "covariances", false)?
            .map(|s| unsafe { std::slice::from_raw_parts(s.as_ptr() as *const [f32; 6], n) }),
        opacity_scale: view(d.opacity_scale, 1, "opacity_scale", false)?,
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or a live context; `desc` is NULL or a readable `VksplatSceneDesc` of
/// `s_size` bytes whose arrays hold `count` splats (and, with `VKSPLAT_SCENE_BORROW`, stay
/// valid until the deleter is called); `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_create(
    context: *mut VksplatContext,
    desc: *const VksplatSceneDesc,
    out: *mut *mut VksplatScene,
) -> VksplatResult {
    guard("vksplat_scene_create", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        // SAFETY: `out` is the caller's out-pointer.
        unsafe { clear_out(out)? };
        // SAFETY: the caller guarantees `s_size` readable bytes.
        let d = unsafe { grow::read(desc, "desc")? };
        let borrow = match d.flags {
            VKSPLAT_SCENE_COPY => false,
            VKSPLAT_SCENE_BORROW => true,
            f => {
                return err(
                    VKSPLAT_ERROR_INVALID_ARGUMENT,
                    format!("flags {f:#x} unknown"),
                )
            }
        };
        // Before any array is read: a count beyond the limit may also be beyond the arrays.
        c.inner.check_splats(d.count, d.sh_degree, "desc")?;
        // SAFETY: the caller guarantees the arrays hold `count` splats.
        let update = unsafe { arrays(&d)? };
        let scene = Scene::from_arrays(
            &lock(&c.inner.renderer),
            d.count as usize,
            d.sh_degree,
            &update,
        )?;
        let borrowed = borrow.then_some(Borrowed { desc: d });
        let bounds = update.means.and_then(centre_bounds);
        // SAFETY: `out` was checked by `clear_out`.
        unsafe { new_scene(&c.inner, scene, borrowed, bounds, out) };
        Ok(())
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or a live context; `desc` is NULL or a readable `VksplatPluginSceneDesc`
/// of `s_size` bytes with valid strings and `param_count` key/value pairs; `out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_open_plugin(
    context: *mut VksplatContext,
    desc: *const VksplatPluginSceneDesc,
    out: *mut *mut VksplatScene,
) -> VksplatResult {
    guard("vksplat_scene_open_plugin", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        // SAFETY: `out` is the caller's out-pointer.
        unsafe { clear_out(out)? };
        // SAFETY: the caller guarantees `s_size` readable bytes.
        let d = unsafe { grow::read(desc, "desc")? };
        // SAFETY: the caller guarantees NUL-terminated strings or NULL.
        let name = unsafe { str_arg(d.plugin, "plugin")? }
            .ok_or_else(|| Error(VKSPLAT_ERROR_INVALID_ARGUMENT, "plugin is NULL".into()))?;
        // SAFETY: as above.
        let source = unsafe { str_arg(d.source, "source")? };
        let mut params = Vec::new();
        if d.param_count > 0 {
            if d.params.is_null() {
                return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "params is NULL");
            }
            // SAFETY: the caller guarantees `param_count` pairs.
            let pairs = unsafe { std::slice::from_raw_parts(d.params, d.param_count as usize) };
            for kv in pairs {
                // SAFETY: the caller guarantees NUL-terminated strings or NULL.
                let (k, v) = unsafe {
                    (
                        str_arg(kv.key, "param key")?.unwrap_or(""),
                        str_arg(kv.value, "param value")?.unwrap_or(""),
                    )
                };
                params.push((k.to_string(), v.to_string()));
            }
        }
        let path = match d.eval {
            VKSPLAT_EVAL_AUTO => EvalPath::Auto,
            VKSPLAT_EVAL_GPU => EvalPath::Gpu,
            VKSPLAT_EVAL_CPU => EvalPath::Cpu,
            e => return err(VKSPLAT_ERROR_INVALID_ARGUMENT, format!("eval {e} unknown")),
        };
        let search = SearchPath::new(&lock(&c.inner.plugin_dirs));
        let plugin = vksplat_plugin_host::load(&search, name)?;
        let scene = open_plugin_scene(c, plugin, source, &params, path)?;
        // SAFETY: `out` was checked by `clear_out`.
        unsafe { new_scene(&c.inner, scene, None, None, out) };
        Ok(())
    })
}

/// Opens an instance of a loaded plugin and creates its scene, evaluated once at time 0 so
/// that a plugin that fails does so here (`vksplat_scene_open_plugin`, and
/// `vksplat_scene_load` of a file a plugin reads).
fn open_plugin_scene(
    c: &ContextHandle,
    plugin: Arc<vksplat_plugin_host::Plugin>,
    source: Option<&str>,
    params: &[(String, String)],
    path: EvalPath,
) -> Result<Scene> {
    let name = plugin.name().to_string();
    let instance = Instance::open(plugin, source, params)?;
    c.inner.check_splats(
        instance.desc.splat_count as u64,
        instance.desc.sh_degree,
        &format!("plugin '{name}'"),
    )?;
    let renderer = lock(&c.inner.renderer);
    let mut scene = Scene::open_variant(&renderer, instance, path)?;
    scene.evaluate(&renderer, 0.0)?;
    Ok(scene)
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `scene_ptr` is NULL or a live scene; a borrowed scene's arrays are still valid.
#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_refresh(scene_ptr: *mut VksplatScene) -> VksplatResult {
    guard("vksplat_scene_refresh", || {
        // SAFETY: the caller guarantees a live scene or NULL.
        let s = unsafe { scene_ref(scene_ptr)? };
        let mut inner = lock(&s.inner);
        let SceneInner {
            scene,
            borrowed,
            bounds,
            ..
        } = &mut *inner;
        match borrowed {
            Some(b) => {
                // SAFETY: VKSPLAT_SCENE_BORROW: the caller keeps the arrays valid until the
                // deleter runs.
                let update = unsafe { arrays(&b.desc)? };
                scene.write(&lock(&s.ctx.renderer), &update)?;
                *bounds = update.means.and_then(centre_bounds);
                Ok(())
            }
            None => err(
                VKSPLAT_ERROR_UNSUPPORTED,
                "only VKSPLAT_SCENE_BORROW scenes can be refreshed",
            ),
        }
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `scene_ptr` is NULL or a live scene; `name` is NULL or a NUL-terminated string; `values`
/// holds `count` floats (may be NULL when `count` is 0).
#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_set_param(
    scene_ptr: *mut VksplatScene,
    name: *const c_char,
    values: *const f32,
    count: u32,
) -> VksplatResult {
    guard("vksplat_scene_set_param", || {
        // SAFETY: the caller guarantees a live scene or NULL.
        let s = unsafe { scene_ref(scene_ptr)? };
        // SAFETY: the caller guarantees a NUL-terminated string or NULL.
        let name = unsafe { str_arg(name, "name")? }
            .ok_or_else(|| Error(VKSPLAT_ERROR_INVALID_ARGUMENT, "name is NULL".into()))?;
        if count > 0 && values.is_null() {
            return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "values is NULL");
        }
        let v = if count == 0 {
            &[][..]
        } else {
            // SAFETY: the caller guarantees `count` floats.
            unsafe { std::slice::from_raw_parts(values, count as usize) }
        };
        let mut inner = lock(&s.inner);
        match inner.scene.variant_mut() {
            Some(p) => Ok(p.instance_mut().set_param(name, v)?),
            None => err(VKSPLAT_ERROR_UNSUPPORTED, "not a plugin scene"),
        }
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `scene_ptr` is NULL or a live scene.
#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_set_time(
    scene_ptr: *mut VksplatScene,
    time: f64,
) -> VksplatResult {
    guard("vksplat_scene_set_time", || {
        // SAFETY: the caller guarantees a live scene or NULL.
        let s = unsafe { scene_ref(scene_ptr)? };
        if !time.is_finite() {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                format!("time {time} is not finite"),
            );
        }
        lock(&s.inner).time = time;
        Ok(())
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `scene_ptr` is NULL or a live scene; `out` is NULL or a `VksplatSceneInfo` whose header the
/// caller set, with `s_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_info(
    scene_ptr: *const VksplatScene,
    out: *mut VksplatSceneInfo,
) -> VksplatResult {
    guard("vksplat_scene_info", || {
        // SAFETY: the caller guarantees a live scene or NULL.
        let s = unsafe { scene_ref(scene_ptr)? };
        let inner = lock(&s.inner);
        let mut o = VksplatSceneInfo {
            s_type: VKSPLAT_STRUCT_SCENE_INFO,
            s_size: std::mem::size_of::<VksplatSceneInfo>() as u32,
            next: std::ptr::null_mut(),
            count: inner.scene.len() as u64,
            sh_degree: inner.scene.sh_degree(),
            is_plugin: 0,
            eval: 0,
            param_count: 0,
            antialiased: inner.scene.antialiased() as u32,
            reserved: 0,
            time_start: 0.0,
            time_end: 0.0,
            has_time_range: 0,
            reserved2: 0,
            bounds_min: [0.0; 3],
            bounds_max: [0.0; 3],
            has_bounds: 0,
            reserved3: 0,
        };
        if let Some([lo, hi]) = inner.bounds {
            (o.bounds_min, o.bounds_max, o.has_bounds) = (lo, hi, 1);
        }
        if let Some((start, end)) = inner.scene.time_range() {
            (o.time_start, o.time_end, o.has_time_range) = (start, end, 1);
        }
        if let Some(p) = inner.scene.variant() {
            o.is_plugin = 1;
            o.eval = if p.path() == EvalPath::Gpu {
                VKSPLAT_EVAL_GPU
            } else {
                VKSPLAT_EVAL_CPU
            };
            o.param_count = p.instance().desc.params.len() as u32;
        }
        // SAFETY: the caller guarantees `s_size` writable bytes.
        unsafe { grow::write(out, &o, "out")? };
        Ok(())
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `scene_ptr` is NULL or a live scene, not used by any other call during or after this one.
#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_destroy(scene_ptr: *mut VksplatScene) {
    if scene_ptr.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller hands back a handle from a scene constructor, used by no other
        // call.
        let handle = unsafe { Box::from_raw(scene_ptr as *mut SceneHandle) };
        let inner = handle.inner.into_inner().unwrap_or_else(|p| p.into_inner());
        drop(inner.scene);
        if let Some(b) = inner.borrowed {
            if let Some(deleter) = b.desc.deleter {
                // SAFETY: the caller's deleter, called once with its own pointer.
                unsafe { deleter(b.desc.deleter_user) };
            }
        }
    }));
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// What a render descriptor asks for, with the scene's defaults left open.
struct FrameArgs {
    /// `None`: the scene's default mode.
    mode: Option<RenderMode>,
    background: [f32; 3],
    /// `None`: the scene's time.
    time: Option<f64>,
    /// `None`: the context camera of the deprecated `vksplat_set_camera`.
    camera: Option<Camera>,
    /// Clip planes (`None`: not set); checked by `RenderSettings::clip_range`.
    near: Option<f32>,
    far: Option<f32>,
    /// What the depth output holds.
    depth: DepthKind,
}

fn depth_kind_of(kind: u32) -> Result<DepthKind> {
    match kind {
        VKSPLAT_DEPTH_EXPECTED => Ok(DepthKind::Expected),
        VKSPLAT_DEPTH_MEDIAN => Ok(DepthKind::Median),
        VKSPLAT_DEPTH_FIRST => Ok(DepthKind::First),
        k => err(
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            format!("desc: depth_kind {k} is not a VKSPLAT_DEPTH_* value (0..2)"),
        ),
    }
}

fn mode_of(mode: u32) -> Result<RenderMode> {
    match mode {
        VKSPLAT_MODE_CLASSIC => Ok(RenderMode::Classic),
        VKSPLAT_MODE_ANTIALIASED => Ok(RenderMode::Antialiased),
        VKSPLAT_MODE_INRIA => Ok(RenderMode::Inria),
        VKSPLAT_MODE_KHR => Ok(RenderMode::Khr),
        m => err(
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            format!("desc: mode {m} unknown"),
        ),
    }
}

/// Reads a render descriptor (NULL: every default).
///
/// # Safety
/// `desc` is NULL or a readable `VksplatRenderDesc` of `s_size` bytes whose `camera` is NULL
/// or a readable `VksplatCamera`.
unsafe fn frame_arg(desc: *const VksplatRenderDesc) -> Result<FrameArgs> {
    if desc.is_null() {
        return Ok(FrameArgs {
            mode: None,
            background: [0.0; 3],
            time: None,
            camera: None,
            near: None,
            far: None,
            depth: DepthKind::Expected,
        });
    }
    // SAFETY: the caller guarantees `s_size` readable bytes.
    let d = unsafe { grow::read(desc, "desc")? };
    if d.background.iter().any(|v| !v.is_finite()) {
        return err(
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            "desc: background is not finite",
        );
    }
    if d.s_size <= VKSPLAT_RENDER_DESC_V1_SIZE {
        // ABI version 1 had no flags: its mode is always used, a finite time too.
        return Ok(FrameArgs {
            mode: Some(mode_of(d.mode)?),
            background: d.background,
            time: d.time.is_finite().then_some(d.time),
            camera: None,
            near: None,
            far: None,
            depth: DepthKind::Expected,
        });
    }
    let known = VKSPLAT_RENDER_MODE
        | VKSPLAT_RENDER_TIME
        | VKSPLAT_RENDER_CLIP_NEAR
        | VKSPLAT_RENDER_CLIP_FAR;
    if d.flags & !known != 0 {
        return err(
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            format!("desc: flags {:#x} unknown", d.flags & !known),
        );
    }
    let mode = if d.flags & VKSPLAT_RENDER_MODE != 0 {
        Some(mode_of(d.mode)?)
    } else if d.mode != 0 {
        return err(
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            format!(
                "desc: mode is {} but flags lacks VKSPLAT_RENDER_MODE (without it the scene's \
                 default mode is used)",
                d.mode
            ),
        );
    } else {
        None
    };
    let time = if d.flags & VKSPLAT_RENDER_TIME != 0 {
        if !d.time.is_finite() {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                format!("desc: time {} is not finite", d.time),
            );
        }
        Some(d.time)
    } else if d.time != 0.0 {
        return err(
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            format!(
                "desc: time is {} but flags lacks VKSPLAT_RENDER_TIME (without it the scene's \
                 time is used)",
                d.time
            ),
        );
    } else {
        None
    };
    let mut planes = [None, None];
    for (k, (flag, value, name)) in [
        (VKSPLAT_RENDER_CLIP_NEAR, d.clip_near, "clip_near"),
        (VKSPLAT_RENDER_CLIP_FAR, d.clip_far, "clip_far"),
    ]
    .into_iter()
    .enumerate()
    {
        if d.flags & flag != 0 {
            planes[k] = Some(value);
        } else if value != 0.0 {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                format!(
                    "desc: {name} is {value} but flags lacks VKSPLAT_RENDER_{} (without it \
                     there is no such clip plane)",
                    name.to_uppercase()
                ),
            );
        }
    }
    let [near, far] = planes;
    RenderSettings {
        near,
        far,
        ..Default::default()
    }
    .clip_range()
    .map_err(|e| Error(VKSPLAT_ERROR_INVALID_ARGUMENT, format!("desc: {e}")))?;
    let camera = if d.camera.is_null() {
        None
    } else {
        // SAFETY: the caller guarantees a readable camera.
        Some(unsafe { camera_arg(d.camera, "desc.camera")? })
    };
    Ok(FrameArgs {
        mode,
        background: d.background,
        time,
        camera,
        near,
        far,
        // Zero when the caller's descriptor ends before the field (the growth rule).
        depth: depth_kind_of(d.depth_kind)?,
    })
}

/// Where a frame goes: the caller's image, checked against the camera and its own sizes.
struct Target {
    img: VksplatImage,
    bpp: u64,
    row_bytes: u64,
}

/// Reads and checks the caller's image for a frame of `camera`.
///
/// # Safety
/// `image` is NULL or a readable `VksplatImage` of `s_size` bytes.
unsafe fn target_arg(
    image: *const VksplatImage,
    camera: &Camera,
    max_pixels: u64,
) -> Result<Target> {
    // SAFETY: the caller guarantees `s_size` readable bytes.
    let img = unsafe { grow::read(image, "image")? };
    if (img.width, img.height) != (camera.width, camera.height) {
        return err(
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            format!(
                "image is {}x{} but the camera is {}x{}",
                img.width, img.height, camera.width, camera.height
            ),
        );
    }
    let pixels = img.width as u64 * img.height as u64;
    if pixels > max_pixels {
        return err(
            VKSPLAT_ERROR_TOO_LARGE,
            format!(
                "image {}x{} has {pixels} pixels; this device renders at most {max_pixels} \
                 (VksplatLimits::max_image_pixels)",
                img.width, img.height
            ),
        );
    }
    let bpp = match img.format {
        VKSPLAT_FORMAT_RGBA32F => 16u64,
        VKSPLAT_FORMAT_RGBA8 => 4,
        f => {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                format!("image: format {f} unknown"),
            )
        }
    };
    let packed = bpp * img.width as u64;
    let row_bytes = if img.row_bytes == 0 {
        packed
    } else {
        img.row_bytes
    };
    if row_bytes < packed {
        return err(
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            format!("image: row_bytes {row_bytes} is less than a row ({packed} bytes)"),
        );
    }
    // Version-1 images carry no sizes: their buffers are trusted as they always were.
    let has_sizes = img.s_size as usize > std::mem::offset_of!(VksplatImage, pixels_size);
    if has_sizes {
        // u128: (height - 1) · row_bytes overflows u64 for absurd row_bytes.
        let need = (img.height as u128 - 1) * row_bytes as u128 + packed as u128;
        if !img.pixels.is_null() && (img.pixels_size as u128) < need {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                format!(
                    "image: pixels_size is {} bytes, but a {}x{} frame with row_bytes \
                     {row_bytes} needs {need}",
                    img.pixels_size, img.width, img.height
                ),
            );
        }
        let need = pixels * 4;
        if !img.depth.is_null() && img.depth_size < need {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                format!(
                    "image: depth_size is {} bytes, but a {}x{} depth image needs {need}",
                    img.depth_size, img.width, img.height
                ),
            );
        }
    }
    Ok(Target {
        img,
        bpp,
        row_bytes,
    })
}

impl Target {
    /// Copies a rendered frame into the caller's buffers.
    ///
    /// # Safety
    /// The buffers hold what `target_arg` checked (or, for a version-1 image, what the caller
    /// promised): `height` rows of `row_bytes` at `pixels`, `width · height` floats at `depth`.
    unsafe fn write(&self, frame: &vksplat_core::Frame) {
        let img = &self.img;
        let (w, h) = (img.width as usize, img.height as usize);
        if !img.pixels.is_null() {
            for y in 0..h {
                let src = &frame.rgba[y * w * 4..(y + 1) * w * 4];
                // SAFETY: row y starts y · row_bytes into the caller's buffer and has
                // width · bpp bytes (checked against pixels_size).
                let row = unsafe { (img.pixels as *mut u8).add(y * self.row_bytes as usize) };
                if self.bpp == 16 {
                    // SAFETY: as above; `src` has w · 4 floats = w · 16 bytes.
                    unsafe {
                        std::ptr::copy_nonoverlapping(src.as_ptr() as *const u8, row, w * 16)
                    };
                } else {
                    // SAFETY: as above, w · 4 bytes.
                    let dst = unsafe { std::slice::from_raw_parts_mut(row, w * 4) };
                    for (d, v) in dst.iter_mut().zip(src) {
                        // round(clamp(v, 0, 1) * 255); NaN → 0, as the PNG writer does.
                        *d = if v.is_nan() {
                            0
                        } else {
                            (v.clamp(0.0, 1.0) * 255.0).round() as u8
                        };
                    }
                }
            }
        }
        if !img.depth.is_null() {
            // SAFETY: the caller's depth buffer holds w · h floats (checked against depth_size).
            unsafe { std::ptr::copy_nonoverlapping(frame.depth.as_ptr(), img.depth, w * h) };
        }
    }
}

/// A host-memory frame's camera (the descriptor's, else the context's from the deprecated
/// `vksplat_set_camera`), its checked image and the host depth chained into `desc`, checked
/// in that order; `call` names the entry point in host-depth errors.
///
/// # Safety
/// `desc` and `image` as for `vksplat_render`.
unsafe fn host_frame(
    c: &ContextHandle,
    frame: &FrameArgs,
    desc: *const VksplatRenderDesc,
    image: *const VksplatImage,
    call: &str,
) -> Result<(Camera, Target, Option<host_depth::HostDepthArg>)> {
    let camera = match frame.camera.clone() {
        Some(camera) => camera,
        None => lock(&c.inner.camera).clone().ok_or_else(|| {
            Error(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                "no camera: set desc->camera".into(),
            )
        })?,
    };
    // SAFETY: the caller guarantees a readable image or NULL.
    let target = unsafe { target_arg(image, &camera, c.inner.max_image_pixels())? };
    // SAFETY: the caller guarantees the descriptor's chain (the header's promises).
    let host_depth =
        unsafe { host_depth::HostDepthArg::read(desc, None, camera.width, camera.height, call)? };
    Ok((camera, target, host_depth))
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` and `scene_ptr` are NULL or live; `desc` is NULL or a readable
/// `VksplatRenderDesc` of `s_size` bytes (its camera NULL or readable); `image` is NULL or a
/// readable `VksplatImage` of `s_size` bytes whose buffers hold what its sizes say.
#[no_mangle]
pub unsafe extern "C" fn vksplat_render(
    context: *mut VksplatContext,
    scene_ptr: *mut VksplatScene,
    desc: *const VksplatRenderDesc,
    image: *const VksplatImage,
) -> VksplatResult {
    guard("vksplat_render", || {
        // SAFETY: the caller guarantees live objects or NULL.
        let (c, s) = unsafe { (context_ref(context)?, scene_ref(scene_ptr)?) };
        if !Arc::ptr_eq(&c.inner, &s.ctx) {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                "the scene belongs to another context",
            );
        }
        // SAFETY: the caller guarantees a readable descriptor or NULL.
        let frame = unsafe { frame_arg(desc)? };
        // SAFETY: the caller guarantees `desc` and `image` (the header's promises).
        let (camera, target, host_depth) =
            unsafe { host_frame(c, &frame, desc, image, "vksplat_render")? };
        if let Some(hd) = host_depth {
            // An occluded frame: the scene as the one instance of `render_occluded`.
            let mut list = instances::Instances::single(c, s)?;
            let settings = list.settings(&frame);
            let mut renderer = lock(&c.inner.renderer);
            list.evaluate(&renderer, frame.time)?;
            let (rendered, _) = renderer
                .render_occluded(&list.list(), &camera, &settings, &hd.occluder())
                .map_err(host_depth::request_error)?;
            drop(renderer);
            drop(list);
            // SAFETY: the buffers were checked by `target_arg`.
            unsafe { target.write(&rendered) };
            return Ok(());
        }
        let mut inner = lock(&s.inner);
        if let Some(t) = frame.time {
            inner.time = t;
        }
        let t = inner.time;
        let settings = RenderSettings {
            mode: frame.mode.unwrap_or(inner.scene.default_mode()),
            background: frame.background,
            near: frame.near,
            far: frame.far,
            depth: frame.depth,
        };
        let mut renderer = lock(&c.inner.renderer);
        let (rendered, _) = inner.scene.render(&mut renderer, &camera, &settings, t)?;
        drop(renderer);
        drop(inner);
        // SAFETY: the buffers were checked by `target_arg`.
        unsafe { target.write(&rendered) };
        Ok(())
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `context` is NULL or live; `instances` is NULL or points to `count` pointers, each NULL or
/// a readable `VksplatSceneInstance` of `s_size` bytes whose `scene` is NULL or live; `desc` and
/// `image` as for `vksplat_render`.
#[no_mangle]
pub unsafe extern "C" fn vksplat_render_instances(
    context: *mut VksplatContext,
    instances: *const *const VksplatSceneInstance,
    count: u32,
    desc: *const VksplatRenderDesc,
    image: *const VksplatImage,
) -> VksplatResult {
    guard("vksplat_render_instances", || {
        // SAFETY: the caller guarantees a live context or NULL.
        let c = unsafe { context_ref(context)? };
        // SAFETY: the caller guarantees the list and its scenes.
        let mut list = unsafe { instances::Instances::read(c, instances, count)? };
        // SAFETY: the caller guarantees a readable descriptor or NULL.
        let frame = unsafe { frame_arg(desc)? };
        let settings = list.settings(&frame);
        // SAFETY: the caller guarantees `desc` and `image` (the header's promises).
        let (camera, target, host_depth) =
            unsafe { host_frame(c, &frame, desc, image, "vksplat_render_instances")? };
        let mut renderer = lock(&c.inner.renderer);
        list.evaluate(&renderer, frame.time)?;
        let (rendered, _) = match &host_depth {
            Some(hd) => renderer
                .render_occluded(&list.list(), &camera, &settings, &hd.occluder())
                .map_err(host_depth::request_error)?,
            None => renderer.render_instances(&list.list(), &camera, &settings)?,
        };
        drop(renderer);
        drop(list);
        // SAFETY: the buffers were checked by `target_arg`.
        unsafe { target.write(&rendered) };
        Ok(())
    })
}

mod cameras;
mod host_depth;
mod instances;
pub use cameras::{
    vksplat_camera_from_clip, vksplat_camera_from_unity, vksplat_camera_from_unreal,
};
mod vulkan;
