//! Write a vksplat scene-variant plugin in safe Rust.
//!
//! Implement [`Plugin`] for your instance type and export it with [`export_plugin!`]; build the
//! crate as a `cdylib` (with `panic = "unwind"`, the default) and put a manifest beside the
//! library (see the README's "C API and plugins"). The SDK speaks the C ABI of
//! `include/vksplat.h` for you:
//! - `vksplat_plugin_negotiate` reports the ABI version and the layout fingerprint of the
//!   vksplat-abi this plugin was built with, so a host with a different layout refuses it with a
//!   message instead of misreading structs;
//! - the host's structs are read, and the structs the plugin fills are written, by the ABI's
//!   growth rule (`vksplat_abi::grow`): a host that knows shorter or longer versions of them
//!   works with this plugin;
//! - every call catches panics and turns them, like `Err` values, into a result code plus a
//!   message the host shows (naming the plugin);
//! - `open` options that are neither open options nor frame parameters are rejected;
//! - the C views of your description and stage point into the instance and stay valid until
//!   the next call on it, as the ABI requires.
//!
//! ```ignore
//! struct Wave { /* … */ }
//! impl vksplat_plugin_sdk::Plugin for Wave { /* open, describe, cpu_frame, … */ }
//! vksplat_plugin_sdk::export_plugin!(Wave);
//! ```

use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicPtr, Ordering};

pub use vksplat_abi as abi;
use vksplat_abi::grow;
use vksplat_abi::*;

/// A plugin error: the message the host shows after the plugin's name.
pub type Error = String;

/// The value of `key` among the open options (`--param key=value`), the first if repeated.
pub fn option<'a>(options: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    options.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// An integer option in `0..=max` (`default` when absent); anything else is an error naming
/// the option and the range.
pub fn int_option(
    options: &[(&str, &str)],
    key: &str,
    default: u64,
    max: u64,
) -> Result<u64, Error> {
    match option(options, key) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<f64>() {
            Ok(x) if x >= 0.0 && x.fract() == 0.0 && x <= max as f64 => Ok(x as u64),
            _ => Err(format!("'{key}={v}': expected an integer in 0..={max}")),
        },
    }
}

/// The type and range of one parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamKind {
    Float,
    Int,
    /// `components` floats per element (3 = vertex, 16 = row-major 4×4 matrix).
    FloatArray {
        components: u32,
        min_count: u32,
        max_count: u32,
    },
    /// Text (a path, a name), always read at open: [`Plugin::open`] receives the user's
    /// string unchanged in `options`; the host never parses it as a number.
    Text,
}

/// One parameter the plugin takes (`--param name=value`).
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static CStr,
    pub description: &'static CStr,
    pub kind: ParamKind,
    /// Read at open (an option) rather than every frame.
    pub open: bool,
    pub min: f64,
    pub max: f64,
    pub default: f64,
}

impl Param {
    /// A per-frame number in `min..=max`.
    pub const fn float(
        name: &'static CStr,
        description: &'static CStr,
        min: f64,
        max: f64,
        default: f64,
    ) -> Param {
        Param {
            name,
            description,
            kind: ParamKind::Float,
            open: false,
            min,
            max,
            default,
        }
    }

    /// A per-frame integer in `min..=max`.
    pub const fn int(
        name: &'static CStr,
        description: &'static CStr,
        min: i64,
        max: i64,
        default: i64,
    ) -> Param {
        Param {
            name,
            description,
            kind: ParamKind::Int,
            open: false,
            min: min as f64,
            max: max as f64,
            default: default as f64,
        }
    }

    /// A per-frame array of `min_count..=max_count` elements of `components` floats, each in
    /// `min..=max`.
    pub const fn array(
        name: &'static CStr,
        description: &'static CStr,
        components: u32,
        min_count: u32,
        max_count: u32,
        min: f64,
        max: f64,
    ) -> Param {
        Param {
            name,
            description,
            kind: ParamKind::FloatArray {
                components,
                min_count,
                max_count,
            },
            open: false,
            min,
            max,
            default: 0.0,
        }
    }

    /// A text option (`--param skeleton=/path/rig.gltf`), always read at open: its value
    /// reaches [`Plugin::open`] in `options` as the raw string. An absent key means the
    /// plugin's default.
    pub const fn text(name: &'static CStr, description: &'static CStr) -> Param {
        Param {
            name,
            description,
            kind: ParamKind::Text,
            open: true,
            min: 0.0,
            max: 0.0,
            default: 0.0,
        }
    }

    /// The same parameter, read at open instead of every frame.
    pub const fn at_open(mut self) -> Param {
        self.open = true;
        self
    }

    fn to_c(self) -> VksplatParamDesc {
        let (param_type, components, min_count, max_count) = match self.kind {
            ParamKind::Float => (VKSPLAT_PARAM_FLOAT, 1, 0, 0),
            ParamKind::Int => (VKSPLAT_PARAM_INT, 1, 0, 0),
            ParamKind::FloatArray {
                components,
                min_count,
                max_count,
            } => (VKSPLAT_PARAM_FLOAT_ARRAY, components, min_count, max_count),
            ParamKind::Text => (VKSPLAT_PARAM_TEXT, 1, 0, 0),
        };
        VksplatParamDesc {
            name: self.name.as_ptr(),
            description: self.description.as_ptr(),
            param_type,
            // A text parameter is an open option whatever `open` says.
            flags: if self.open || matches!(self.kind, ParamKind::Text) {
                VKSPLAT_PARAM_OPEN
            } else {
                0
            },
            min: self.min,
            max: self.max,
            default_value: self.default,
            components,
            min_count,
            max_count,
            reserved: 0,
        }
    }
}

/// Splat data the plugin provides once (what it does not write every frame). Layouts as in
/// `VksplatSceneDesc`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SplatData<'a> {
    pub means: Option<&'a [f32]>,
    pub rotations: Option<&'a [f32]>,
    pub log_scales: Option<&'a [f32]>,
    pub opacity_logits: Option<&'a [f32]>,
    pub sh: Option<&'a [f32]>,
    pub covariances: Option<&'a [f32]>,
    pub opacity_scale: Option<&'a [f32]>,
}

/// What an instance is.
#[derive(Clone, Debug, Default)]
pub struct Description<'a> {
    pub splat_count: u64,
    pub sh_degree: u32,
    /// The scene takes 3×3 covariances instead of rotation + scale.
    pub covariance: bool,
    /// The scene has per-splat opacity multipliers.
    pub opacity_scale: bool,
    /// `VKSPLAT_OUTPUT_*` bits written every frame.
    pub outputs: u32,
    pub params: Vec<Param>,
    pub initial: SplatData<'a>,
    /// The scene's first and last time, in its own units (finite, start ≤ end), or `None`
    /// when it has no range. Hosts show it (`vksplat info`) and map frame numbers into it.
    pub time_range: Option<(f64, f64)>,
}

/// The shader of a GPU stage.
#[derive(Clone, Copy, Debug)]
pub enum Shader<'a> {
    /// GLSL 4.50 compute source; the engine compiles it (`#include "variant.glsl"` works).
    Glsl(&'a CStr),
    /// SPIR-V words.
    Spirv(&'a [u32]),
}

/// A GPU stage: see `VksplatGpuStage`.
#[derive(Clone, Debug)]
pub struct GpuStage<'a> {
    pub name: &'static CStr,
    pub shader: Shader<'a>,
    pub push_constant_size: u32,
    /// Static buffers, bound from `VKSPLAT_FIRST_PLUGIN_BINDING` on.
    pub buffers: Vec<(&'static CStr, &'a [u8])>,
    /// Bytes of the per-frame buffer bound after the static ones (0: none).
    pub frame_buffer_size: u32,
    /// Invocations along x (usually the splat count).
    pub invocations: u64,
}

/// One frame's inputs.
pub struct FrameInput<'a> {
    pub time: f64,
    params: &'a [Param],
    values: &'a [VksplatParamValue],
}

impl FrameInput<'_> {
    fn index(&self, name: &str) -> Option<usize> {
        self.params
            .iter()
            .position(|p| p.name.to_bytes() == name.as_bytes())
    }

    /// A scalar parameter's value (its default when the host sent fewer values).
    pub fn scalar(&self, name: &str) -> f64 {
        let Some(i) = self.index(name) else {
            return 0.0;
        };
        self.values
            .get(i)
            .map_or(self.params[i].default, |v| v.value)
    }

    /// An array parameter's floats (empty when not set).
    pub fn array(&self, name: &str) -> &[f32] {
        let Some(i) = self.index(name) else {
            return &[];
        };
        let comps = match self.params[i].kind {
            ParamKind::FloatArray { components, .. } => components as usize,
            _ => 1,
        };
        match self.values.get(i) {
            Some(v) if !v.data.is_null() && v.count > 0 => {
                // SAFETY: the host passes `count` elements of `components` floats.
                unsafe { std::slice::from_raw_parts(v.data, v.count as usize * comps) }
            }
            _ => &[],
        }
    }
}

/// The host arrays a CPU frame fills (only those the plugin declared in `outputs`).
pub struct SplatArrays<'a> {
    pub count: usize,
    pub sh_degree: u32,
    pub means: Option<&'a mut [f32]>,
    pub rotations: Option<&'a mut [f32]>,
    pub log_scales: Option<&'a mut [f32]>,
    pub opacity_logits: Option<&'a mut [f32]>,
    pub sh: Option<&'a mut [f32]>,
    pub covariances: Option<&'a mut [f32]>,
    pub opacity_scale: Option<&'a mut [f32]>,
}

/// A scene-variant plugin. One value of the implementing type is one instance.
pub trait Plugin: Sized + 'static {
    /// The plugin's name, as in its manifest.
    const NAME: &'static CStr;
    /// The plugin's version.
    const VERSION: &'static CStr;
    /// Whether [`Plugin::gpu_stage`] and [`Plugin::gpu_frame`] are implemented.
    const HAS_GPU: bool = false;
    /// Whether [`Plugin::cpu_frame`] is implemented.
    const HAS_CPU: bool = true;

    /// Opens an instance from the source file (if any) and the user's `key=value` options.
    /// Keys that name a frame parameter are passed too; unknown keys are rejected by the SDK.
    fn open(source: Option<&str>, options: &[(&str, &str)]) -> Result<Self, Error>;

    /// Describes the instance.
    fn describe(&self) -> Description<'_>;

    /// The compute stage (GPU path).
    fn gpu_stage(&self) -> Result<GpuStage<'_>, Error> {
        Err("this plugin has no GPU path".into())
    }

    /// Writes one frame's push constants and frame buffer.
    fn gpu_frame(
        &mut self,
        _input: &FrameInput,
        _push_constants: &mut [u8],
        _frame_buffer: &mut [u8],
    ) -> Result<(), Error> {
        Err("this plugin has no GPU path".into())
    }

    /// Fills one frame's output arrays (CPU path).
    fn cpu_frame(&mut self, _input: &FrameInput, _out: &mut SplatArrays) -> Result<(), Error> {
        Err("this plugin has no CPU path".into())
    }
}

/// The static function table of a plugin (made by [`export_plugin!`]).
pub struct StaticApi(pub VksplatPluginApi);

// SAFETY: the table holds pointers to static strings and functions only.
unsafe impl Sync for StaticApi {}

/// Exports `$t: Plugin` as this library's plugin: defines `vksplat_plugin_negotiate` and the
/// function table. Use it once per library.
#[macro_export]
macro_rules! export_plugin {
    ($t:ty) => {
        static VKSPLAT_PLUGIN_API: $crate::StaticApi = $crate::StaticApi($crate::api_table::<$t>());

        /// The plugin entry point (see `include/vksplat.h`).
        ///
        /// # Safety
        /// Called by the host with a valid `VksplatNegotiation`.
        #[no_mangle]
        pub unsafe extern "C" fn vksplat_plugin_negotiate(
            n: *mut $crate::abi::VksplatNegotiation,
        ) -> $crate::abi::VksplatResult {
            // SAFETY: the host passes a valid negotiation struct (or NULL).
            unsafe { $crate::ffi::negotiate(n, &VKSPLAT_PLUGIN_API.0) }
        }
    };
}

/// The function table for `P` (used by [`export_plugin!`]).
pub const fn api_table<P: Plugin>() -> VksplatPluginApi {
    VksplatPluginApi {
        s_type: VKSPLAT_STRUCT_PLUGIN_API,
        s_size: std::mem::size_of::<VksplatPluginApi>() as u32,
        next: std::ptr::null(),
        abi_version: VKSPLAT_PLUGIN_ABI_VERSION,
        reserved: 0,
        name: P::NAME.as_ptr(),
        version: P::VERSION.as_ptr(),
        open: Some(ffi::open::<P>),
        close: Some(ffi::close::<P>),
        describe: Some(ffi::describe::<P>),
        gpu_stage: if P::HAS_GPU {
            Some(ffi::gpu_stage::<P>)
        } else {
            None
        },
        gpu_frame: if P::HAS_GPU {
            Some(ffi::gpu_frame::<P>)
        } else {
            None
        },
        cpu_frame: if P::HAS_CPU {
            Some(ffi::cpu_frame::<P>)
        } else {
            None
        },
    }
}

/// The `extern "C"` side. Not for plugin authors.
/// The host's API table, recorded by the first `open` call (a host passes the same table for
/// the whole process), for [`log`].
static HOST: AtomicPtr<VksplatHostApi> = AtomicPtr::new(std::ptr::null_mut());

/// How important a [`log`] message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warning,
    Error,
}

/// Sends a message to the host's log (the CLI shows warnings and errors on stderr, and info with
/// `-v`, naming the plugin; the C API passes it to the context's log callback). Dropped before the
/// host has opened an instance of this plugin, or when the host has no log function.
pub fn log(level: LogLevel, message: &str) {
    let host = HOST.load(Ordering::Acquire);
    if host.is_null() {
        return;
    }
    // SAFETY: a non-null HOST came from the host's open descriptor and lives for the process.
    let Ok(api) = (unsafe { grow::read(host as *const VksplatHostApi, "host") }) else {
        return;
    };
    let Some(log) = api.log else {
        return;
    };
    let level = match level {
        LogLevel::Debug => VKSPLAT_LOG_DEBUG,
        LogLevel::Info => VKSPLAT_LOG_INFO,
        LogLevel::Warning => VKSPLAT_LOG_WARNING,
        LogLevel::Error => VKSPLAT_LOG_ERROR,
    };
    let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
    // SAFETY: a valid NUL-terminated string for the call; the host copies it.
    unsafe { log(level, c.as_ptr()) };
}

pub mod ffi {
    use super::*;

    /// An instance as the host sees it: the plugin value plus the storage behind the C views
    /// the SDK hands out.
    struct Instance<P> {
        plugin: P,
        host: *const VksplatHostApi,
        params: Vec<Param>,
        c_params: Vec<VksplatParamDesc>,
        c_buffers: Vec<VksplatBufferDesc>,
    }

    fn report(host: *const VksplatHostApi, message: &str) {
        // SAFETY: the host pointer comes from the host and lives for the process.
        let Ok(host) = (unsafe { grow::read(host, "host") }) else {
            return;
        };
        if let Some(set_error) = host.set_error {
            let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
            // SAFETY: a valid NUL-terminated string; the host copies it.
            unsafe { set_error(c.as_ptr()) };
        }
    }

    /// Reports a refused struct to the host and returns its result code.
    fn refused(host: *const VksplatHostApi, e: grow::StructError) -> VksplatResult {
        report(host, &e.to_string());
        e.code()
    }

    fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic payload".into())
    }

    /// Runs `f`, turning `Err` and panics into a result code and a message for the host.
    fn guard(
        host: *const VksplatHostApi,
        what: &str,
        f: impl FnOnce() -> Result<VksplatResult, Error>,
    ) -> VksplatResult {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(code)) => code,
            Ok(Err(message)) => {
                report(host, &message);
                VKSPLAT_ERROR_PLUGIN
            }
            Err(payload) => {
                report(
                    host,
                    &format!("panicked in {what}: {}", panic_message(&*payload)),
                );
                VKSPLAT_ERROR_PANIC
            }
        }
    }

    /// # Safety
    /// `n` is NULL or a valid negotiation struct.
    pub unsafe fn negotiate(n: *mut VksplatNegotiation, api: &'static VksplatPluginApi) -> i32 {
        // SAFETY: the host passes a negotiation struct of `s_size` bytes (or NULL).
        let mut v = match unsafe { grow::read(n, "negotiation") } {
            Ok(v) => v,
            Err(e) => return e.code(),
        };
        v.plugin_abi_version = VKSPLAT_PLUGIN_ABI_VERSION;
        v.layout_fingerprint = vksplat_abi::layout::LAYOUT_FINGERPRINT;
        let speaks = (v.host_abi_min..=v.host_abi_max).contains(&VKSPLAT_PLUGIN_ABI_VERSION);
        if speaks {
            v.api = api;
        }
        // SAFETY: as above; the out fields are written within the host's `s_size`.
        if let Err(e) = unsafe { grow::write(n, &v, "negotiation") } {
            return e.code();
        }
        if speaks {
            VKSPLAT_OK
        } else {
            VKSPLAT_ERROR_ABI
        }
    }

    /// # Safety
    /// `p` is NULL or a NUL-terminated string valid for `'a`.
    unsafe fn c_str<'a>(p: *const c_char) -> Result<Option<&'a str>, Error> {
        if p.is_null() {
            return Ok(None);
        }
        // SAFETY: the caller guarantees a NUL-terminated string.
        unsafe { CStr::from_ptr(p) }
            .to_str()
            .map(Some)
            .map_err(|_| "a string is not UTF-8".to_string())
    }

    /// # Safety
    /// Called by the host per the ABI.
    pub unsafe extern "C" fn open<P: Plugin>(
        desc: *const VksplatOpenDesc,
        out: *mut *mut VksplatInstance,
    ) -> VksplatResult {
        // SAFETY: the host passes an open descriptor of `s_size` bytes (or NULL).
        let desc = unsafe { grow::read(desc, "open descriptor") };
        let host = desc.as_ref().map_or(std::ptr::null(), |d| d.host);
        if !host.is_null() {
            super::HOST.store(host as *mut VksplatHostApi, Ordering::Release);
        }
        guard(host, "open", || {
            let desc = match desc {
                Ok(d) => d,
                Err(e) => return Ok(refused(host, e)),
            };
            if out.is_null() {
                return Err("open: NULL output".into());
            }
            // SAFETY: the host passes NUL-terminated strings (or NULL) valid during the call.
            let source = unsafe { c_str(desc.source)? };
            let mut options = Vec::new();
            if desc.option_count > 0 && !desc.options.is_null() {
                // SAFETY: the host passes `option_count` pairs.
                let pairs =
                    unsafe { std::slice::from_raw_parts(desc.options, desc.option_count as usize) };
                for kv in pairs {
                    // SAFETY: as for `source`.
                    let (key, value) = unsafe { (c_str(kv.key)?, c_str(kv.value)?) };
                    options.push((key.unwrap_or(""), value.unwrap_or("")));
                }
            }
            let plugin = P::open(source, &options)?;
            let params = plugin.describe().params;
            for (key, _) in &options {
                if !params.iter().any(|p| p.name.to_bytes() == key.as_bytes()) {
                    let known: Vec<_> = params
                        .iter()
                        .map(|p| p.name.to_string_lossy().into_owned())
                        .collect();
                    return Err(format!(
                        "unknown parameter '{key}' (parameters: {})",
                        known.join(", ")
                    ));
                }
            }
            let instance = Box::new(Instance {
                plugin,
                host,
                params,
                c_params: Vec::new(),
                c_buffers: Vec::new(),
            });
            // SAFETY: checked non-NULL; the host's out-pointer.
            unsafe { *out = Box::into_raw(instance) as *mut VksplatInstance };
            Ok(VKSPLAT_OK)
        })
    }

    /// # Safety
    /// `instance` came from `open::<P>` and is not used afterwards.
    pub unsafe extern "C" fn close<P: Plugin>(instance: *mut VksplatInstance) {
        if instance.is_null() {
            return;
        }
        let instance = instance as *mut Instance<P>;
        // A panic while dropping must not unwind into the host.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the host hands back an instance from `open::<P>` and never uses it again.
            drop(unsafe { Box::from_raw(instance) })
        }));
    }

    fn data(slice: Option<&[f32]>) -> *const f32 {
        slice.map_or(std::ptr::null(), |s| s.as_ptr())
    }

    /// # Safety
    /// Called by the host per the ABI.
    pub unsafe extern "C" fn describe<P: Plugin>(
        instance: *mut VksplatInstance,
        out: *mut VksplatDescription,
    ) -> VksplatResult {
        // SAFETY: the host passes an instance from `open::<P>` (or NULL), not used by another
        // call at the same time.
        let Some(inst) = (unsafe { (instance as *mut Instance<P>).as_mut() }) else {
            return VKSPLAT_ERROR_INVALID_ARGUMENT;
        };
        let host = inst.host;
        guard(host, "describe", || {
            let d = inst.plugin.describe();
            inst.params = d.params.clone();
            inst.c_params = d.params.iter().map(|p| p.to_c()).collect();
            let mut flags = 0;
            if d.covariance {
                flags |= VKSPLAT_VARIANT_COVARIANCE;
            }
            if d.opacity_scale {
                flags |= VKSPLAT_VARIANT_OPACITY_SCALE;
            }
            let (time_start, time_end) = match d.time_range {
                Some((start, end)) => {
                    if !(start.is_finite() && end.is_finite() && start <= end) {
                        return Err(format!(
                            "describe: time range [{start}, {end}] is not a finite range"
                        ));
                    }
                    flags |= VKSPLAT_VARIANT_TIME_RANGE;
                    (start, end)
                }
                None => (0.0, 0.0),
            };
            let value = VksplatDescription {
                s_type: VKSPLAT_STRUCT_DESCRIPTION,
                s_size: std::mem::size_of::<VksplatDescription>() as u32,
                next: std::ptr::null(),
                splat_count: d.splat_count,
                sh_degree: d.sh_degree,
                flags,
                outputs: d.outputs,
                has_gpu: P::HAS_GPU as u32,
                has_cpu: P::HAS_CPU as u32,
                param_count: inst.c_params.len() as u32,
                params: inst.c_params.as_ptr(),
                initial: VksplatSplatData {
                    means: data(d.initial.means),
                    rotations: data(d.initial.rotations),
                    log_scales: data(d.initial.log_scales),
                    opacity_logits: data(d.initial.opacity_logits),
                    sh: data(d.initial.sh),
                    covariances: data(d.initial.covariances),
                    opacity_scale: data(d.initial.opacity_scale),
                },
                time_start,
                time_end,
            };
            // SAFETY: the host passes a description of `s_size` writable bytes (or NULL).
            Ok(match unsafe { grow::write(out, &value, "description") } {
                Ok(()) => VKSPLAT_OK,
                Err(e) => refused(host, e),
            })
        })
    }

    /// # Safety
    /// Called by the host per the ABI.
    pub unsafe extern "C" fn gpu_stage<P: Plugin>(
        instance: *mut VksplatInstance,
        out: *mut VksplatGpuStage,
    ) -> VksplatResult {
        // SAFETY: the host passes an instance from `open::<P>` (or NULL), not used by another
        // call at the same time.
        let Some(inst) = (unsafe { (instance as *mut Instance<P>).as_mut() }) else {
            return VKSPLAT_ERROR_INVALID_ARGUMENT;
        };
        let host = inst.host;
        guard(host, "gpu_stage", || {
            let stage = inst.plugin.gpu_stage()?;
            inst.c_buffers = stage
                .buffers
                .iter()
                .map(|(name, bytes)| VksplatBufferDesc {
                    name: name.as_ptr(),
                    data: bytes.as_ptr() as *const c_void,
                    size: bytes.len() as u64,
                })
                .collect();
            let (language, code, code_size) = match stage.shader {
                Shader::Glsl(src) => (
                    VKSPLAT_SHADER_GLSL,
                    src.as_ptr() as *const c_void,
                    src.to_bytes().len() as u64,
                ),
                Shader::Spirv(words) => (
                    VKSPLAT_SHADER_SPIRV,
                    words.as_ptr() as *const c_void,
                    (words.len() * 4) as u64,
                ),
            };
            let value = VksplatGpuStage {
                s_type: VKSPLAT_STRUCT_GPU_STAGE,
                s_size: std::mem::size_of::<VksplatGpuStage>() as u32,
                next: std::ptr::null(),
                name: stage.name.as_ptr(),
                language,
                push_constant_size: stage.push_constant_size,
                code,
                code_size,
                buffers: inst.c_buffers.as_ptr(),
                buffer_count: inst.c_buffers.len() as u32,
                frame_buffer_size: stage.frame_buffer_size,
                invocations: stage.invocations,
            };
            // SAFETY: the host passes a stage of `s_size` writable bytes (or NULL).
            Ok(match unsafe { grow::write(out, &value, "stage") } {
                Ok(()) => VKSPLAT_OK,
                Err(e) => refused(host, e),
            })
        })
    }

    /// # Safety
    /// `input` is NULL or a frame input of `s_size` bytes whose `params` hold `param_count`
    /// values valid for `'a`.
    unsafe fn frame_input<'a>(
        params: &'a [Param],
        input: *const VksplatFrameInput,
    ) -> Result<FrameInput<'a>, Error> {
        // SAFETY: the host passes a frame input of `s_size` bytes (or NULL).
        let input = unsafe { grow::read(input, "frame input") }.map_err(|e| e.to_string())?;
        let values = if input.params.is_null() || input.param_count == 0 {
            &[][..]
        } else {
            // SAFETY: the caller guarantees `param_count` values.
            unsafe { std::slice::from_raw_parts(input.params, input.param_count as usize) }
        };
        Ok(FrameInput {
            time: input.time,
            params,
            values,
        })
    }

    /// # Safety
    /// `p` is NULL or `len` writable bytes valid for `'a`.
    unsafe fn bytes<'a>(p: *mut c_void, len: u32) -> &'a mut [u8] {
        if p.is_null() || len == 0 {
            &mut []
        } else {
            // SAFETY: the caller guarantees `len` writable bytes.
            unsafe { std::slice::from_raw_parts_mut(p as *mut u8, len as usize) }
        }
    }

    /// # Safety
    /// Called by the host per the ABI.
    pub unsafe extern "C" fn gpu_frame<P: Plugin>(
        instance: *mut VksplatInstance,
        input: *const VksplatFrameInput,
        push_constants: *mut c_void,
        push_size: u32,
        frame_buffer: *mut c_void,
        frame_size: u32,
    ) -> VksplatResult {
        // SAFETY: the host passes an instance from `open::<P>` (or NULL), not used by another
        // call at the same time.
        let Some(inst) = (unsafe { (instance as *mut Instance<P>).as_mut() }) else {
            return VKSPLAT_ERROR_INVALID_ARGUMENT;
        };
        let host = inst.host;
        guard(host, "gpu_frame", || {
            // SAFETY: the host passes a valid frame input and buffers of the given sizes.
            let (input, push, frame) = unsafe {
                (
                    frame_input(&inst.params, input)?,
                    bytes(push_constants, push_size),
                    bytes(frame_buffer, frame_size),
                )
            };
            inst.plugin.gpu_frame(&input, push, frame)?;
            Ok(VKSPLAT_OK)
        })
    }

    /// # Safety
    /// `p` is NULL or `len` writable floats valid for `'a`.
    unsafe fn array<'a>(p: *mut f32, len: usize) -> Option<&'a mut [f32]> {
        // SAFETY: the caller guarantees `len` writable floats.
        (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts_mut(p, len) })
    }

    /// # Safety
    /// Called by the host per the ABI.
    pub unsafe extern "C" fn cpu_frame<P: Plugin>(
        instance: *mut VksplatInstance,
        input: *const VksplatFrameInput,
        out: *const VksplatSplatArrays,
    ) -> VksplatResult {
        // SAFETY: the host passes an instance from `open::<P>` (or NULL), not used by another
        // call at the same time.
        let Some(inst) = (unsafe { (instance as *mut Instance<P>).as_mut() }) else {
            return VKSPLAT_ERROR_INVALID_ARGUMENT;
        };
        let host = inst.host;
        guard(host, "cpu_frame", || {
            // SAFETY: the host passes a valid frame input.
            let input = unsafe { frame_input(&inst.params, input)? };
            // SAFETY: the host passes a valid array table (or NULL).
            let o = unsafe { out.as_ref() }.ok_or("cpu_frame: NULL output")?;
            let n = o.count as usize;
            let k = ((o.sh_degree + 1) * (o.sh_degree + 1)) as usize;
            // SAFETY: each non-NULL array holds `count` splats' values of its output, as the
            // ABI's VksplatSplatArrays says, for the duration of the call.
            let mut arrays = unsafe {
                SplatArrays {
                    count: n,
                    sh_degree: o.sh_degree,
                    means: array(o.means, n * 3),
                    rotations: array(o.rotations, n * 4),
                    log_scales: array(o.log_scales, n * 3),
                    opacity_logits: array(o.opacity_logits, n),
                    sh: array(o.sh, n * k * 3),
                    covariances: array(o.covariances, n * 6),
                    opacity_scale: array(o.opacity_scale, n),
                }
            };
            inst.plugin.cpu_frame(&input, &mut arrays)?;
            Ok(VKSPLAT_OK)
        })
    }
}
