//! Plugin instances: the handle, a Rust copy of the plugin's description and the current
//! parameter values.
//!
//! [`Instance`] owns a plugin's instance handle and closes it on drop (the library stays
//! loaded). Its description is checked once, at open ([`Instance::open`]): counts and flags are
//! consistent, every path it claims has its entry points, and parameters given at open are in
//! range. The evaluation paths live beside it: the CPU path in `cpu_path.rs`, the GPU stage in
//! `gpu_stage.rs`, and the scene both write in `variant.rs`.

use std::ffi::{c_char, CStr, CString};
use std::sync::Arc;

use vksplat_abi::*;

use crate::error::PluginError;
use crate::loader::{call_error, clear_plugin_error, host_api, Plugin};
use crate::params::{check_value, parse_floats, ParamInfo, ParamType, ParamValue};

/// Splat data the plugin provides once: the same arrays as a CPU frame's.
pub type InitialData = crate::cpu_path::HostSplats;

/// A Rust copy of a plugin's description.
#[derive(Clone, Debug)]
pub struct Description {
    pub splat_count: usize,
    pub sh_degree: u32,
    pub covariance: bool,
    pub opacity_scale: bool,
    pub outputs: u32,
    pub has_gpu: bool,
    pub has_cpu: bool,
    pub params: Vec<ParamInfo>,
    pub initial: InitialData,
    /// The scene's first and last time (plugin ABI version 2, `VKSPLAT_VARIANT_TIME_RANGE`),
    /// checked finite with start ≤ end; `None` for a plugin that gives none.
    pub time_range: Option<(f64, f64)>,
}

impl Description {
    /// Floats per splat of each output (in `VKSPLAT_OUTPUT_*` bit order).
    pub(crate) fn widths(&self) -> [usize; 7] {
        let k = ((self.sh_degree + 1) * (self.sh_degree + 1)) as usize;
        [3, 4, 3, 1, k * 3, 6, 1]
    }
}

/// An open plugin instance.
pub struct Instance {
    pub(crate) plugin: Arc<Plugin>,
    pub(crate) handle: *mut VksplatInstance,
    pub desc: Description,
    values: Vec<ParamValue>,
}

// SAFETY: the handle is only used through `&mut self` (or `&self` for reads of the Rust copy),
// so calls on one instance never overlap; plugins may be called from any thread.
unsafe impl Send for Instance {}

/// A plugin's string, or "" for NULL.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the duration of the call.
pub(crate) unsafe fn c_string(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: non-NULL and NUL-terminated (the caller's contract).
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// A copy of a plugin's `len` floats, or `None` for NULL.
///
/// # Safety
/// `p` is NULL or points at `len` readable, initialised floats.
unsafe fn copy_floats(p: *const f32, len: usize) -> Option<Vec<f32>> {
    // SAFETY: non-NULL and `len` floats long (the caller's contract).
    (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts(p, len) }.to_vec())
}

impl Instance {
    /// Opens an instance: `source` is the plugin's input file, `params` every `key=value` the
    /// user gave (open options and initial frame-parameter values).
    pub fn open(
        plugin: Arc<Plugin>,
        source: Option<&str>,
        params: &[(String, String)],
    ) -> Result<Instance, PluginError> {
        let name = plugin.name().to_string();
        let bad = |what: String| PluginError::Param(format!("plugin '{name}': {what}"));
        let source_c = source
            .map(|s| CString::new(s).map_err(|_| bad("source path contains NUL".into())))
            .transpose()?;
        let mut strings = Vec::new();
        for (k, v) in params {
            let k = CString::new(k.as_str())
                .map_err(|_| bad(format!("parameter '{k}' contains NUL")))?;
            let v = CString::new(v.as_str())
                .map_err(|_| bad(format!("value of '{k:?}' contains NUL")))?;
            strings.push((k, v));
        }
        let kvs: Vec<VksplatKeyValue> = strings
            .iter()
            .map(|(k, v)| VksplatKeyValue {
                key: k.as_ptr(),
                value: v.as_ptr(),
            })
            .collect();
        let desc = VksplatOpenDesc {
            s_type: VKSPLAT_STRUCT_OPEN_DESC,
            s_size: std::mem::size_of::<VksplatOpenDesc>() as u32,
            next: std::ptr::null(),
            host: host_api(),
            source: source_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            options: kvs.as_ptr(),
            option_count: kvs.len() as u32,
            reserved: 0,
        };
        let mut handle: *mut VksplatInstance = std::ptr::null_mut();
        clear_plugin_error(&name);
        let open = plugin.api.open.expect("checked at load");
        // SAFETY: valid descriptor and out pointer; strings outlive the call.
        let code = unsafe { open(&desc, &mut handle) };
        if code < 0 {
            return Err(call_error(&name, "open", code));
        }
        if handle.is_null() {
            return Err(PluginError::Plugin(format!(
                "plugin '{name}': open succeeded but returned no instance"
            )));
        }
        let mut instance = Instance {
            plugin,
            handle,
            desc: Description {
                splat_count: 0,
                sh_degree: 0,
                covariance: false,
                opacity_scale: false,
                outputs: 0,
                has_gpu: false,
                has_cpu: false,
                params: Vec::new(),
                initial: InitialData::default(),
                time_range: None,
            },
            values: Vec::new(),
        };
        instance.describe()?;
        for (k, v) in params {
            match instance.desc.params.iter().find(|p| &p.name == k) {
                Some(p) if !p.open => instance.set_param_str(k, v)?,
                // Text is the plugin's to read, as given.
                Some(p) if p.ty == ParamType::Text => {}
                Some(p) => {
                    // Open options were the plugin's to read; still enforce the range.
                    let p = p.clone();
                    let floats = parse_floats(&name, k, v)?;
                    check_value(&name, &p, &floats)?;
                }
                None => {
                    let known: Vec<&str> = instance
                        .desc
                        .params
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect();
                    return Err(bad(format!(
                        "unknown parameter '{k}' (parameters: {})",
                        known.join(", ")
                    )));
                }
            }
        }
        Ok(instance)
    }

    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }

    pub fn name(&self) -> &str {
        self.plugin.name()
    }

    fn describe(&mut self) -> Result<(), PluginError> {
        let name = self.name().to_string();
        // SAFETY: zero is a valid value for every field of this repr(C) struct.
        let mut d: VksplatDescription = unsafe { std::mem::zeroed() };
        d.s_type = VKSPLAT_STRUCT_DESCRIPTION;
        d.s_size = std::mem::size_of::<VksplatDescription>() as u32;
        clear_plugin_error(&name);
        let describe = self.plugin.api.describe.expect("checked at load");
        // SAFETY: live instance, valid out pointer.
        let code = unsafe { describe(self.handle, &mut d) };
        if code < 0 {
            return Err(call_error(&name, "describe", code));
        }
        let invalid =
            |what: String| PluginError::Plugin(format!("plugin '{name}': describe: {what}"));
        // The growth rule: a plugin built against an older layout writes a shorter
        // description; the fields its `s_size` does not cover read as zero.
        // SAFETY: `d` is a whole, initialised VksplatDescription; `next` is checked by `read`.
        let d = unsafe { vksplat_abi::grow::read(&d, "describe's description") }
            .map_err(|e| PluginError::Abi(format!("plugin '{name}': {e}")))?;
        if d.sh_degree > 3 {
            return Err(invalid(format!("SH degree {} (at most 3)", d.sh_degree)));
        }
        let n = usize::try_from(d.splat_count)
            .ok()
            .filter(|&n| n < (u32::MAX / 64) as usize)
            .ok_or_else(|| invalid(format!("{} splats is too many", d.splat_count)))?;
        let covariance = d.flags & VKSPLAT_VARIANT_COVARIANCE != 0;
        let opacity_scale = d.flags & VKSPLAT_VARIANT_OPACITY_SCALE != 0;
        if d.outputs & !VKSPLAT_OUTPUT_ALL != 0 {
            return Err(invalid(format!("unknown output bits {:#x}", d.outputs)));
        }
        if d.outputs & VKSPLAT_OUTPUT_COVARIANCES != 0 && !covariance {
            return Err(invalid(
                "writes covariances without VKSPLAT_VARIANT_COVARIANCE".into(),
            ));
        }
        if d.outputs & VKSPLAT_OUTPUT_OPACITY_SCALE != 0 && !opacity_scale {
            return Err(invalid(
                "writes opacity multipliers without VKSPLAT_VARIANT_OPACITY_SCALE".into(),
            ));
        }
        let has_gpu = d.has_gpu != 0;
        let has_cpu = d.has_cpu != 0;
        if has_gpu && (self.plugin.api.gpu_stage.is_none() || self.plugin.api.gpu_frame.is_none()) {
            return Err(invalid(
                "has_gpu is set but gpu_stage or gpu_frame is NULL".into(),
            ));
        }
        if has_cpu && self.plugin.api.cpu_frame.is_none() {
            return Err(invalid("has_cpu is set but cpu_frame is NULL".into()));
        }
        if !has_gpu && !has_cpu {
            return Err(invalid("neither a GPU nor a CPU path".into()));
        }
        let mut params = Vec::new();
        if d.param_count > 0 {
            if d.params.is_null() {
                return Err(invalid("param_count > 0 with NULL params".into()));
            }
            // SAFETY: the plugin describes `param_count` entries, valid until the next call.
            let raw = unsafe { std::slice::from_raw_parts(d.params, d.param_count as usize) };
            for p in raw {
                let ty = match p.param_type {
                    VKSPLAT_PARAM_FLOAT => ParamType::Float,
                    VKSPLAT_PARAM_INT => ParamType::Int,
                    VKSPLAT_PARAM_FLOAT_ARRAY => ParamType::FloatArray,
                    VKSPLAT_PARAM_TEXT => ParamType::Text,
                    t => return Err(invalid(format!("parameter type {t} is unknown"))),
                };
                // SAFETY: NUL-terminated strings of the plugin.
                let pname = unsafe { c_string(p.name) };
                if pname.is_empty() {
                    return Err(invalid("a parameter has no name".into()));
                }
                params.push(ParamInfo {
                    name: pname,
                    // SAFETY: as for the name.
                    description: unsafe { c_string(p.description) },
                    ty,
                    open: p.flags & VKSPLAT_PARAM_OPEN != 0,
                    min: p.min,
                    max: p.max,
                    default: p.default_value,
                    components: p.components.max(1),
                    min_count: p.min_count,
                    max_count: p.max_count,
                });
            }
        }
        crate::params::check_declared(&name, &params)?;
        // The flag is version 2's: a version-1 plugin never wrote the range, whatever its
        // flags hold.
        let time_range =
            if self.plugin.abi_version >= 2 && d.flags & VKSPLAT_VARIANT_TIME_RANGE != 0 {
                let (start, end) = (d.time_start, d.time_end);
                if !(start.is_finite() && end.is_finite() && start <= end) {
                    return Err(invalid(format!(
                        "time range [{start}, {end}] is not a finite range (start <= end)"
                    )));
                }
                Some((start, end))
            } else {
                None
            };
        let k = ((d.sh_degree + 1) * (d.sh_degree + 1)) as usize;
        let i = &d.initial;
        // SAFETY: the plugin provides `n` splats of each array it sets, valid until the next
        // call.
        let initial = unsafe {
            InitialData {
                means: copy_floats(i.means, n * 3),
                rotations: copy_floats(i.rotations, n * 4),
                log_scales: copy_floats(i.log_scales, n * 3),
                opacity_logits: copy_floats(i.opacity_logits, n),
                sh: copy_floats(i.sh, n * k * 3),
                covariances: copy_floats(i.covariances, n * 6).filter(|_| covariance),
                opacity_scale: copy_floats(i.opacity_scale, n).filter(|_| opacity_scale),
            }
        };
        self.values = params
            .iter()
            .map(|p| match p.ty {
                ParamType::FloatArray => ParamValue::Array(Vec::new()),
                _ => ParamValue::Scalar(p.default),
            })
            .collect();
        self.desc = Description {
            splat_count: n,
            sh_degree: d.sh_degree,
            covariance,
            opacity_scale,
            outputs: d.outputs,
            has_gpu,
            has_cpu,
            params,
            initial,
            time_range,
        };
        Ok(())
    }

    /// Sets a frame parameter from its command-line text: a number, or comma-separated floats
    /// for arrays.
    pub fn set_param_str(&mut self, key: &str, value: &str) -> Result<(), PluginError> {
        let floats = parse_floats(self.name(), key, value)?;
        self.set_param(key, &floats)
    }

    /// Sets a frame parameter: one value for scalars; elements × components floats for arrays
    /// (none resets an array to the plugin's default).
    pub fn set_param(&mut self, key: &str, values: &[f32]) -> Result<(), PluginError> {
        let name = self.name().to_string();
        let Some(i) = self.desc.params.iter().position(|p| p.name == key) else {
            let known: Vec<&str> = self.desc.params.iter().map(|p| p.name.as_str()).collect();
            return Err(PluginError::Param(format!(
                "plugin '{name}': unknown parameter '{key}' (parameters: {})",
                known.join(", ")
            )));
        };
        let p = &self.desc.params[i];
        if p.open {
            return Err(PluginError::Param(format!(
                "plugin '{name}': parameter '{key}' is read at open and cannot change per frame"
            )));
        }
        check_value(&name, p, values)?;
        self.values[i] = match p.ty {
            ParamType::FloatArray => ParamValue::Array(values.to_vec()),
            _ => ParamValue::Scalar(values[0] as f64),
        };
        Ok(())
    }

    /// Current value of every parameter, in description order.
    pub fn values(&self) -> &[ParamValue] {
        &self.values
    }

    /// Calls `f` with the frame input of `time`: the time and every parameter's value.
    pub(crate) fn with_input<R>(&self, time: f64, f: impl FnOnce(&VksplatFrameInput) -> R) -> R {
        let values: Vec<VksplatParamValue> = self
            .desc
            .params
            .iter()
            .zip(&self.values)
            .map(|(p, v)| match v {
                ParamValue::Scalar(x) => VksplatParamValue {
                    value: *x,
                    data: std::ptr::null(),
                    count: 0,
                    reserved: 0,
                },
                ParamValue::Array(a) => VksplatParamValue {
                    value: 0.0,
                    data: if a.is_empty() {
                        std::ptr::null()
                    } else {
                        a.as_ptr()
                    },
                    count: (a.len() / p.components as usize) as u32,
                    reserved: 0,
                },
            })
            .collect();
        let input = VksplatFrameInput {
            s_type: VKSPLAT_STRUCT_FRAME_INPUT,
            s_size: std::mem::size_of::<VksplatFrameInput>() as u32,
            next: std::ptr::null(),
            time,
            params: values.as_ptr(),
            param_count: values.len() as u32,
            reserved: 0,
        };
        f(&input)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(close) = self.plugin.api.close {
            clear_plugin_error(self.plugin.name());
            // SAFETY: the handle came from open and is closed once.
            unsafe { close(self.handle) };
        }
    }
}
