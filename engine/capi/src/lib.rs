//! The host C API of `include/vksplat.h`: `libvksplat.so` / `libvksplat.a`.
//!
//! A face, nothing more (DESIGN.md §2): every entry point checks its arguments, catches panics
//! (a panic is reported as `VKSPLAT_ERROR_PANIC`, never unwinds into C), translates errors
//! into result codes and keeps the message in a thread-local for `vksplat_last_error`.
//! The work is done by vksplat-core and vksplat-plugin-host.
//!
//! Objects: a `VksplatContext` is an `Arc<ContextInner>` (device, renderer behind a mutex,
//! camera, plugin directories); a `VksplatScene` holds its own `Arc` of the context, so a
//! scene keeps the device alive even if the context handle is destroyed first. Every object
//! is internally locked, so no call corrupts state when made concurrently (see the header).

#![allow(clippy::missing_safety_doc)] // every extern fn's contract is in include/vksplat.h

use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use vksplat_abi::*;
use vksplat_core::{
    Context, ContextDesc, CoreError, DeviceChoice, GpuScene, RenderMode, RenderSettings, Renderer,
    SceneOptions, SceneUpdate,
};
use vksplat_io::Camera;
use vksplat_plugin_host::{EvalPath, Instance, PluginError, SearchPath, VariantScene};

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

impl From<CoreError> for Error {
    fn from(e: CoreError) -> Self {
        let code = match e {
            CoreError::HostMemory { .. } => VKSPLAT_ERROR_OUT_OF_MEMORY,
            _ => vksplat_plugin_host::error::core_code(&e),
        };
        Error(code, e.to_string())
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
        Error(e.code(), e.to_string())
    }
}

impl From<vksplat_vk::VkError> for Error {
    fn from(e: vksplat_vk::VkError) -> Self {
        CoreError::from(e).into()
    }
}

fn set_last_error(message: &str) {
    let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// Runs an entry point: `Ok` clears the last error, `Err` and panics set it.
fn guard(name: &str, f: impl FnOnce() -> Result<()>) -> VksplatResult {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            set_last_error("");
            VKSPLAT_OK
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

unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    CStr::from_ptr(p).to_str().map(Some).map_err(|_| {
        Error(
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            format!("{what} is not UTF-8"),
        )
    })
}

/// Checks a descriptor's header: non-NULL, right type, at least `min` bytes.
unsafe fn header<'a, T>(p: *const T, s_type: u32, what: &str) -> Result<&'a T> {
    let Some(r) = p.as_ref() else {
        return err(VKSPLAT_ERROR_INVALID_ARGUMENT, format!("{what} is NULL"));
    };
    // Every descriptor starts with (s_type, s_size).
    let head = p as *const u32;
    let (t, size) = (*head, *head.add(1));
    if t != s_type {
        return err(
            VKSPLAT_ERROR_STRUCT_SIZE,
            format!("{what}: s_type is {t}, expected {s_type}"),
        );
    }
    if (size as usize) < std::mem::size_of::<T>() {
        return err(
            VKSPLAT_ERROR_STRUCT_SIZE,
            format!(
                "{what}: s_size is {size}, this library needs at least {}",
                std::mem::size_of::<T>()
            ),
        );
    }
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// Objects

struct ContextInner {
    ctx: Arc<Context>,
    renderer: Mutex<Renderer>,
    camera: Mutex<Option<Camera>>,
    plugin_dirs: Mutex<Vec<PathBuf>>,
}

struct ContextHandle(Arc<ContextInner>);

/// Caller arrays kept by a borrowed scene.
#[derive(Clone, Copy)]
struct Borrowed {
    desc: VksplatSceneDesc,
}

enum Kind {
    Plain,
    Borrowed(Borrowed),
    Plugin(Box<VariantScene>),
}

struct SceneInner {
    gpu: Option<GpuScene>,
    kind: Kind,
    time: f64,
}

struct SceneHandle {
    ctx: Arc<ContextInner>,
    inner: Mutex<SceneInner>,
}

// SAFETY: a borrowed scene's pointers are the caller's, who promised (VKSPLAT_SCENE_BORROW)
// they stay valid and unchanged while the engine may read them; all access is under the
// scene's mutex. Plugin instances are Send (vksplat-plugin-host).
unsafe impl Send for SceneInner {}

unsafe fn context_ref<'a>(p: *const VksplatContext) -> Result<&'a ContextHandle> {
    (p as *const ContextHandle)
        .as_ref()
        .ok_or_else(|| Error(VKSPLAT_ERROR_INVALID_ARGUMENT, "context is NULL".into()))
}

unsafe fn scene_ref<'a>(p: *const VksplatScene) -> Result<&'a SceneHandle> {
    (p as *const SceneHandle)
        .as_ref()
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
}

// ---------------------------------------------------------------------------------------------
// Version and errors

#[no_mangle]
pub unsafe extern "C" fn vksplat_version() -> u32 {
    VKSPLAT_VERSION
}

#[no_mangle]
pub unsafe extern "C" fn vksplat_version_string() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

#[no_mangle]
pub unsafe extern "C" fn vksplat_abi_version() -> u32 {
    VKSPLAT_ABI_VERSION
}

#[no_mangle]
pub unsafe extern "C" fn vksplat_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

// ---------------------------------------------------------------------------------------------
// Context

#[no_mangle]
pub unsafe extern "C" fn vksplat_context_create(
    desc: *const VksplatContextDesc,
    out: *mut *mut VksplatContext,
) -> VksplatResult {
    guard("vksplat_context_create", || {
        if out.is_null() {
            return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "out is NULL");
        }
        *out = std::ptr::null_mut();
        let (device, validation) = if desc.is_null() {
            (DeviceChoice::Auto, false)
        } else {
            let d = header(desc, VKSPLAT_STRUCT_CONTEXT_DESC, "desc")?;
            (
                DeviceChoice::parse(str_arg(d.device, "device")?.unwrap_or("auto")),
                d.validation != 0,
            )
        };
        let ctx = Context::new(&ContextDesc { device, validation })?;
        let renderer = Renderer::new(ctx.clone())?;
        let handle = Box::new(ContextHandle(Arc::new(ContextInner {
            ctx,
            renderer: Mutex::new(renderer),
            camera: Mutex::new(None),
            plugin_dirs: Mutex::new(Vec::new()),
        })));
        *out = Box::into_raw(handle) as *mut VksplatContext;
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn vksplat_context_destroy(context: *mut VksplatContext) {
    if context.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        drop(Box::from_raw(context as *mut ContextHandle));
    }));
}

#[no_mangle]
pub unsafe extern "C" fn vksplat_context_limits(
    context: *const VksplatContext,
    out: *mut VksplatLimits,
) -> VksplatResult {
    guard("vksplat_context_limits", || {
        let c = context_ref(context)?;
        if out.is_null() {
            return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "out is NULL");
        }
        header(out as *const VksplatLimits, VKSPLAT_STRUCT_LIMITS, "out")?;
        let info = c.0.ctx.info();
        let mut name = [0 as c_char; 256];
        for (d, s) in name.iter_mut().zip(info.name.bytes().take(255)) {
            *d = s as c_char;
        }
        let l = &mut *out;
        l.max_image_side = 32768;
        l.subgroup_size = info.subgroup_size;
        l.max_buffer_bytes = info.max_storage_buffer_range;
        // The largest per-splat buffer of a frame is 48 bytes per splat.
        l.max_splats = (info.max_storage_buffer_range / 48).min((u32::MAX / 64) as u64);
        l.abi_version = VKSPLAT_ABI_VERSION;
        l.plugin_abi_min = VKSPLAT_PLUGIN_ABI_MIN;
        l.plugin_abi_max = VKSPLAT_PLUGIN_ABI_VERSION;
        l.reserved = 0;
        l.device_name = name;
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn vksplat_context_add_plugin_dir(
    context: *mut VksplatContext,
    dir: *const c_char,
) -> VksplatResult {
    guard("vksplat_context_add_plugin_dir", || {
        let c = context_ref(context)?;
        let dir = str_arg(dir, "dir")?
            .ok_or_else(|| Error(VKSPLAT_ERROR_INVALID_ARGUMENT, "dir is NULL".into()))?;
        lock(&c.0.plugin_dirs).push(PathBuf::from(dir));
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn vksplat_set_camera(
    context: *mut VksplatContext,
    camera: *const VksplatCamera,
) -> VksplatResult {
    guard("vksplat_set_camera", || {
        let c = context_ref(context)?;
        let cam = header(camera, VKSPLAT_STRUCT_CAMERA, "camera")?;
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
        };
        camera
            .validate()
            .map_err(|e| Error(VKSPLAT_ERROR_INVALID_INPUT, format!("invalid camera: {e}")))?;
        *lock(&c.0.camera) = Some(camera);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Scenes

fn new_scene(ctx: &Arc<ContextInner>, gpu: GpuScene, kind: Kind, out: *mut *mut VksplatScene) {
    let handle = Box::new(SceneHandle {
        ctx: ctx.clone(),
        inner: Mutex::new(SceneInner {
            gpu: Some(gpu),
            kind,
            time: 0.0,
        }),
    });
    // SAFETY: checked non-NULL by the caller.
    unsafe { *out = Box::into_raw(handle) as *mut VksplatScene };
}

#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_load(
    context: *mut VksplatContext,
    path: *const c_char,
    out: *mut *mut VksplatScene,
) -> VksplatResult {
    guard("vksplat_scene_load", || {
        let c = context_ref(context)?;
        if out.is_null() {
            return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "out is NULL");
        }
        *out = std::ptr::null_mut();
        let path = str_arg(path, "path")?
            .ok_or_else(|| Error(VKSPLAT_ERROR_INVALID_ARGUMENT, "path is NULL".into()))?;
        if !Path::new(path).is_file() {
            return err(VKSPLAT_ERROR_IO, format!("{path}: no such file"));
        }
        let splats = vksplat_io::read_scene(Path::new(path))?.splats;
        splats.validate().map_err(|e| {
            Error(
                VKSPLAT_ERROR_INVALID_INPUT,
                format!("{path}: invalid scene: {e}"),
            )
        })?;
        let gpu = lock(&c.0.renderer).upload_scene(&splats)?;
        new_scene(&c.0, gpu, Kind::Plain, out);
        Ok(())
    })
}

/// Views of a scene descriptor's arrays, after checking them.
unsafe fn arrays(d: &VksplatSceneDesc) -> Result<SceneUpdate<'_>> {
    let n = usize::try_from(d.count)
        .ok()
        .filter(|&n| n < (u32::MAX / 64) as usize)
        .ok_or_else(|| Error(VKSPLAT_ERROR_TOO_LARGE, format!("{} splats", d.count)))?;
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
        let s = std::slice::from_raw_parts(p, n * per);
        if let Some(i) = s.iter().position(|v| !v.is_finite()) {
            return err(
                VKSPLAT_ERROR_INVALID_INPUT,
                format!("{name}[{i}] (splat {}) is {}", i / per, s[i]),
            );
        }
        Ok(Some(s))
    };
    let cov = !d.covariances.is_null();
    let three =
        |s: Option<&[f32]>| s.map(|s| std::slice::from_raw_parts(s.as_ptr() as *const [f32; 3], n));
    Ok(SceneUpdate {
        means: three(view(d.means, 3, "means", true)?),
        rotations: view(d.rotations, 4, "rotations", !cov)?
            .map(|s| std::slice::from_raw_parts(s.as_ptr() as *const [f32; 4], n)),
        log_scales: three(view(d.log_scales, 3, "log_scales", !cov)?),
        opacity_logits: view(d.opacity_logits, 1, "opacity_logits", true)?,
        sh: view(d.sh, k * 3, "sh", true)?,
        covariances: view(d.covariances, 6, "covariances", false)?
            .map(|s| std::slice::from_raw_parts(s.as_ptr() as *const [f32; 6], n)),
        opacity_scale: view(d.opacity_scale, 1, "opacity_scale", false)?,
    })
}

#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_create(
    context: *mut VksplatContext,
    desc: *const VksplatSceneDesc,
    out: *mut *mut VksplatScene,
) -> VksplatResult {
    guard("vksplat_scene_create", || {
        let c = context_ref(context)?;
        if out.is_null() {
            return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "out is NULL");
        }
        *out = std::ptr::null_mut();
        let d = *header(desc, VKSPLAT_STRUCT_SCENE_DESC, "desc")?;
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
        let update = arrays(&d)?;
        let renderer = lock(&c.0.renderer);
        let mut gpu = renderer.create_scene(
            d.count as usize,
            d.sh_degree,
            SceneOptions {
                covariance: update.covariances.is_some(),
                opacity_scale: update.opacity_scale.is_some(),
                ..Default::default()
            },
        )?;
        renderer.write_scene(&mut gpu, &update)?;
        drop(renderer);
        let kind = if borrow {
            Kind::Borrowed(Borrowed { desc: d })
        } else {
            Kind::Plain
        };
        new_scene(&c.0, gpu, kind, out);
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_open_plugin(
    context: *mut VksplatContext,
    desc: *const VksplatPluginSceneDesc,
    out: *mut *mut VksplatScene,
) -> VksplatResult {
    guard("vksplat_scene_open_plugin", || {
        let c = context_ref(context)?;
        if out.is_null() {
            return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "out is NULL");
        }
        *out = std::ptr::null_mut();
        let d = header(desc, VKSPLAT_STRUCT_PLUGIN_SCENE_DESC, "desc")?;
        let name = str_arg(d.plugin, "plugin")?
            .ok_or_else(|| Error(VKSPLAT_ERROR_INVALID_ARGUMENT, "plugin is NULL".into()))?;
        let source = str_arg(d.source, "source")?;
        let mut params = Vec::new();
        if d.param_count > 0 {
            if d.params.is_null() {
                return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "params is NULL");
            }
            for kv in std::slice::from_raw_parts(d.params, d.param_count as usize) {
                let k = str_arg(kv.key, "param key")?.unwrap_or("");
                let v = str_arg(kv.value, "param value")?.unwrap_or("");
                params.push((k.to_string(), v.to_string()));
            }
        }
        let path = match d.eval {
            VKSPLAT_EVAL_AUTO => EvalPath::Auto,
            VKSPLAT_EVAL_GPU => EvalPath::Gpu,
            VKSPLAT_EVAL_CPU => EvalPath::Cpu,
            e => return err(VKSPLAT_ERROR_INVALID_ARGUMENT, format!("eval {e} unknown")),
        };
        let search = SearchPath::new(&lock(&c.0.plugin_dirs));
        let plugin = vksplat_plugin_host::load(&search, name)?;
        let instance = Instance::open(plugin, source, &params)?;
        let renderer = lock(&c.0.renderer);
        let mut scene = VariantScene::new(&renderer, instance, path)?;
        // Evaluate the first frame now, so that a plugin that fails does so here.
        scene.evaluate(&renderer, 0.0)?;
        drop(renderer);
        // The scene's GpuScene lives inside the VariantScene.
        let handle = Box::new(SceneHandle {
            ctx: c.0.clone(),
            inner: Mutex::new(SceneInner {
                gpu: None,
                kind: Kind::Plugin(Box::new(scene)),
                time: 0.0,
            }),
        });
        *out = Box::into_raw(handle) as *mut VksplatScene;
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_refresh(scene_ptr: *mut VksplatScene) -> VksplatResult {
    guard("vksplat_scene_refresh", || {
        let s = scene_ref(scene_ptr)?;
        let mut inner = lock(&s.inner);
        let SceneInner { gpu, kind, .. } = &mut *inner;
        match kind {
            Kind::Borrowed(b) => {
                let update = arrays(&b.desc)?;
                let gpu = gpu.as_mut().expect("borrowed scenes have a GpuScene");
                lock(&s.ctx.renderer).write_scene(gpu, &update)?;
                Ok(())
            }
            _ => err(
                VKSPLAT_ERROR_UNSUPPORTED,
                "only VKSPLAT_SCENE_BORROW scenes can be refreshed",
            ),
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_set_param(
    scene_ptr: *mut VksplatScene,
    name: *const c_char,
    values: *const f32,
    count: u32,
) -> VksplatResult {
    guard("vksplat_scene_set_param", || {
        let s = scene_ref(scene_ptr)?;
        let name = str_arg(name, "name")?
            .ok_or_else(|| Error(VKSPLAT_ERROR_INVALID_ARGUMENT, "name is NULL".into()))?;
        if count > 0 && values.is_null() {
            return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "values is NULL");
        }
        let v = if count == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(values, count as usize)
        };
        let mut inner = lock(&s.inner);
        match &mut inner.kind {
            Kind::Plugin(p) => Ok(p.instance_mut().set_param(name, v)?),
            _ => err(VKSPLAT_ERROR_UNSUPPORTED, "not a plugin scene"),
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_set_time(
    scene_ptr: *mut VksplatScene,
    time: f64,
) -> VksplatResult {
    guard("vksplat_scene_set_time", || {
        let s = scene_ref(scene_ptr)?;
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

#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_info(
    scene_ptr: *const VksplatScene,
    out: *mut VksplatSceneInfo,
) -> VksplatResult {
    guard("vksplat_scene_info", || {
        let s = scene_ref(scene_ptr)?;
        if out.is_null() {
            return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "out is NULL");
        }
        header(
            out as *const VksplatSceneInfo,
            VKSPLAT_STRUCT_SCENE_INFO,
            "out",
        )?;
        let o = &mut *out;
        let inner = lock(&s.inner);
        match &inner.kind {
            Kind::Plugin(p) => {
                o.count = p.scene().len() as u64;
                o.sh_degree = p.scene().sh_degree();
                o.is_plugin = 1;
                o.eval = if p.path() == EvalPath::Gpu {
                    VKSPLAT_EVAL_GPU
                } else {
                    VKSPLAT_EVAL_CPU
                };
                o.param_count = p.instance().desc.params.len() as u32;
            }
            _ => {
                let g = inner.gpu.as_ref().expect("plain scenes have a GpuScene");
                o.count = g.len() as u64;
                o.sh_degree = g.sh_degree();
                o.is_plugin = 0;
                o.eval = 0;
                o.param_count = 0;
            }
        }
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn vksplat_scene_destroy(scene_ptr: *mut VksplatScene) {
    if scene_ptr.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let handle = Box::from_raw(scene_ptr as *mut SceneHandle);
        let inner = handle.inner.into_inner().unwrap_or_else(|p| p.into_inner());
        drop(inner.gpu);
        if let Kind::Borrowed(b) = inner.kind {
            if let Some(deleter) = b.desc.deleter {
                deleter(b.desc.deleter_user);
            }
        }
    }));
}

// ---------------------------------------------------------------------------------------------
// Rendering

#[no_mangle]
pub unsafe extern "C" fn vksplat_render(
    context: *mut VksplatContext,
    scene_ptr: *mut VksplatScene,
    desc: *const VksplatRenderDesc,
    image: *const VksplatImage,
) -> VksplatResult {
    guard("vksplat_render", || {
        let c = context_ref(context)?;
        let s = scene_ref(scene_ptr)?;
        if !Arc::ptr_eq(&c.0, &s.ctx) {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                "the scene belongs to another context",
            );
        }
        let (mode, background, time) = if desc.is_null() {
            (RenderMode::Classic, [0.0; 3], f64::NAN)
        } else {
            let d = header(desc, VKSPLAT_STRUCT_RENDER_DESC, "desc")?;
            let mode = match d.mode {
                VKSPLAT_MODE_CLASSIC => RenderMode::Classic,
                VKSPLAT_MODE_ANTIALIASED => RenderMode::Antialiased,
                VKSPLAT_MODE_INRIA => RenderMode::Inria,
                m => return err(VKSPLAT_ERROR_INVALID_ARGUMENT, format!("mode {m} unknown")),
            };
            if d.background.iter().any(|v| !v.is_finite()) {
                return err(VKSPLAT_ERROR_INVALID_ARGUMENT, "background is not finite");
            }
            (mode, d.background, d.time)
        };
        let img = header(image, VKSPLAT_STRUCT_IMAGE, "image")?;
        let camera = lock(&c.0.camera).clone().ok_or_else(|| {
            Error(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                "no camera: call vksplat_set_camera first".into(),
            )
        })?;
        if (img.width, img.height) != (camera.width, camera.height) {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                format!(
                    "image is {}x{} but the camera is {}x{}",
                    img.width, img.height, camera.width, camera.height
                ),
            );
        }
        let bpp = match img.format {
            VKSPLAT_FORMAT_RGBA32F => 16u64,
            VKSPLAT_FORMAT_RGBA8 => 4,
            f => {
                return err(
                    VKSPLAT_ERROR_INVALID_ARGUMENT,
                    format!("format {f} unknown"),
                )
            }
        };
        let row_bytes = if img.row_bytes == 0 {
            bpp * img.width as u64
        } else {
            img.row_bytes
        };
        if row_bytes < bpp * img.width as u64 {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                format!(
                    "row_bytes {row_bytes} is less than a row ({} bytes)",
                    bpp * img.width as u64
                ),
            );
        }
        let settings = RenderSettings { mode, background };
        let mut inner = lock(&s.inner);
        if time.is_finite() {
            inner.time = time;
        }
        let t = inner.time;
        let mut renderer = lock(&c.0.renderer);
        let SceneInner { gpu, kind, .. } = &mut *inner;
        let (frame, _) = match kind {
            Kind::Plugin(p) => p.render(&mut renderer, &camera, &settings, t)?,
            _ => renderer.render(gpu.as_ref().expect("GpuScene"), &camera, &settings)?,
        };
        drop(renderer);
        let (w, h) = (img.width as usize, img.height as usize);
        if !img.pixels.is_null() {
            for y in 0..h {
                let src = &frame.rgba[y * w * 4..(y + 1) * w * 4];
                let row = (img.pixels as *mut u8).add(y * row_bytes as usize);
                if img.format == VKSPLAT_FORMAT_RGBA32F {
                    std::ptr::copy_nonoverlapping(src.as_ptr() as *const u8, row, w * 16);
                } else {
                    let dst = std::slice::from_raw_parts_mut(row, w * 4);
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
            std::ptr::copy_nonoverlapping(frame.depth.as_ptr(), img.depth, w * h);
        }
        Ok(())
    })
}

/// Unused: keeps `c_void` imported for the docs of the deleter type.
#[allow(dead_code)]
type Deleter = unsafe extern "C" fn(*mut c_void);
