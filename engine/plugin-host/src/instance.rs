//! Plugin instances and the scenes they drive.
//!
//! [`Instance`] owns a plugin's instance handle, a Rust copy of its description and the
//! current parameter values; it closes the handle on drop (the library stays loaded).
//! [`VariantScene`] is an instance plus a [`GpuScene`] it writes every frame, by the GPU path
//! (the plugin's compute shader as the frame's first stage) or the CPU path (the plugin fills
//! host arrays, the engine uploads them). The first GPU frame of a scene, and every CPU frame,
//! is checked for non-finite values before it is rendered.

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::Arc;

use vksplat_abi::*;
use vksplat_core::{
    Buffer, ComputePipeline, Frame, FrameStats, GpuScene, RenderSettings, Renderer, SceneOptions,
    SceneUpdate, VariantStage,
};
use vksplat_io::Camera;
use vksplat_vk::{BufferUsage, MemoryLocation};

use crate::error::PluginError;
use crate::loader::{call_error, clear_plugin_error, host_api, Plugin};
use crate::reflect;

/// The type of a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    Float,
    Int,
    FloatArray,
}

/// One parameter a plugin instance takes.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInfo {
    pub name: String,
    pub description: String,
    pub ty: ParamType,
    /// Read at open, not per frame.
    pub open: bool,
    pub min: f64,
    pub max: f64,
    pub default: f64,
    pub components: u32,
    pub min_count: u32,
    pub max_count: u32,
}

impl ParamInfo {
    /// "float in [0, 1], default 0.5" etc.
    pub fn summary(&self) -> String {
        match self.ty {
            ParamType::Float => format!(
                "float in [{}, {}], default {}",
                self.min, self.max, self.default
            ),
            ParamType::Int => format!(
                "int in [{}, {}], default {}",
                self.min, self.max, self.default
            ),
            ParamType::FloatArray => format!(
                "{}..={} element(s) of {} float(s) in [{}, {}]",
                self.min_count, self.max_count, self.components, self.min, self.max
            ),
        }
    }
}

/// A parameter's current value.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    Scalar(f64),
    /// Floats; empty means "not set" (the plugin's default).
    Array(Vec<f32>),
}

/// Splat data the plugin provides once.
#[derive(Clone, Debug, Default)]
pub struct InitialData {
    pub means: Option<Vec<f32>>,
    pub rotations: Option<Vec<f32>>,
    pub log_scales: Option<Vec<f32>>,
    pub opacity_logits: Option<Vec<f32>>,
    pub sh: Option<Vec<f32>>,
    pub covariances: Option<Vec<f32>>,
    pub opacity_scale: Option<Vec<f32>>,
}

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
}

impl Description {
    /// Floats per splat of each output (in `VKSPLAT_OUTPUT_*` bit order).
    fn widths(&self) -> [usize; 7] {
        let k = ((self.sh_degree + 1) * (self.sh_degree + 1)) as usize;
        [3, 4, 3, 1, k * 3, 6, 1]
    }
}

/// Host arrays of one CPU frame (only the outputs the plugin declared are `Some`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostSplats {
    pub means: Option<Vec<f32>>,
    pub rotations: Option<Vec<f32>>,
    pub log_scales: Option<Vec<f32>>,
    pub opacity_logits: Option<Vec<f32>>,
    pub sh: Option<Vec<f32>>,
    pub covariances: Option<Vec<f32>>,
    pub opacity_scale: Option<Vec<f32>>,
}

impl HostSplats {
    fn arrays(&self) -> [(&'static str, Option<&Vec<f32>>); 7] {
        [
            ("means", self.means.as_ref()),
            ("rotations", self.rotations.as_ref()),
            ("log_scales", self.log_scales.as_ref()),
            ("opacity_logits", self.opacity_logits.as_ref()),
            ("sh", self.sh.as_ref()),
            ("covariances", self.covariances.as_ref()),
            ("opacity_scale", self.opacity_scale.as_ref()),
        ]
    }

    fn update(&self) -> SceneUpdate<'_> {
        SceneUpdate {
            means: self.means.as_deref().map(bytemuck::cast_slice),
            rotations: self.rotations.as_deref().map(bytemuck::cast_slice),
            log_scales: self.log_scales.as_deref().map(bytemuck::cast_slice),
            opacity_logits: self.opacity_logits.as_deref(),
            sh: self.sh.as_deref(),
            covariances: self.covariances.as_deref().map(bytemuck::cast_slice),
            opacity_scale: self.opacity_scale.as_deref(),
        }
    }
}

const OUTPUT_NAMES: [&str; 7] = [
    "means",
    "rotations",
    "log_scales",
    "opacity_logits",
    "sh",
    "covariances",
    "opacity_scale",
];

/// Finds the first non-finite value: (array, splat, value).
fn first_non_finite(
    name: &'static str,
    data: &[f32],
    per: usize,
) -> Option<(&'static str, usize, f32)> {
    data.iter()
        .position(|v| !v.is_finite())
        .map(|i| (name, i / per.max(1), data[i]))
}

/// An open plugin instance.
pub struct Instance {
    plugin: Arc<Plugin>,
    handle: *mut VksplatInstance,
    pub desc: Description,
    values: Vec<ParamValue>,
}

// SAFETY: the handle is only used through `&mut self` (or `&self` for reads of the Rust copy),
// so calls on one instance never overlap; plugins may be called from any thread.
unsafe impl Send for Instance {}

unsafe fn c_string(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

unsafe fn copy_floats(p: *const f32, len: usize) -> Option<Vec<f32>> {
    (!p.is_null()).then(|| std::slice::from_raw_parts(p, len).to_vec())
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
        clear_plugin_error();
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
            },
            values: Vec::new(),
        };
        instance.describe()?;
        for (k, v) in params {
            match instance.desc.params.iter().find(|p| &p.name == k) {
                Some(p) if !p.open => instance.set_param_str(k, v)?,
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
        clear_plugin_error();
        let describe = self.plugin.api.describe.expect("checked at load");
        // SAFETY: live instance, valid out pointer.
        let code = unsafe { describe(self.handle, &mut d) };
        if code < 0 {
            return Err(call_error(&name, "describe", code));
        }
        let invalid =
            |what: String| PluginError::Plugin(format!("plugin '{name}': describe: {what}"));
        if (d.s_size as usize) < std::mem::size_of::<VksplatDescription>() {
            return Err(PluginError::Abi(format!(
                "plugin '{name}': describe wrote a {}-byte description, ABI version {} requires {}",
                d.s_size,
                self.plugin.abi_version,
                std::mem::size_of::<VksplatDescription>()
            )));
        }
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
                    t => return Err(invalid(format!("parameter type {t} is unknown"))),
                };
                // SAFETY: NUL-terminated strings of the plugin.
                let pname = unsafe { c_string(p.name) };
                if pname.is_empty() {
                    return Err(invalid("a parameter has no name".into()));
                }
                params.push(ParamInfo {
                    name: pname,
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

    fn with_input<R>(&self, time: f64, f: impl FnOnce(&VksplatFrameInput) -> R) -> R {
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

    /// Runs the plugin's CPU path for one frame and checks the result for non-finite values.
    pub fn cpu_frame(&mut self, time: f64) -> Result<HostSplats, PluginError> {
        let name = self.name().to_string();
        let Some(cpu_frame) = self.plugin.api.cpu_frame.filter(|_| self.desc.has_cpu) else {
            return Err(PluginError::Plugin(format!(
                "plugin '{name}' has no CPU path"
            )));
        };
        let n = self.desc.splat_count;
        let widths = self.desc.widths();
        let mut arrays: Vec<Option<Vec<f32>>> = (0..7)
            .map(|b| (self.desc.outputs & (1 << b) != 0).then(|| vec![0f32; n * widths[b]]))
            .collect();
        let mut ptr = |b: usize| {
            arrays[b]
                .as_mut()
                .map_or(std::ptr::null_mut(), |v| v.as_mut_ptr())
        };
        let out = VksplatSplatArrays {
            count: n as u64,
            sh_degree: self.desc.sh_degree,
            reserved: 0,
            means: ptr(0),
            rotations: ptr(1),
            log_scales: ptr(2),
            opacity_logits: ptr(3),
            sh: ptr(4),
            covariances: ptr(5),
            opacity_scale: ptr(6),
        };
        let handle = self.handle;
        clear_plugin_error();
        // SAFETY: live instance; arrays sized per the description.
        let code = self.with_input(time, |input| unsafe { cpu_frame(handle, input, &out) });
        if code < 0 {
            return Err(call_error(&name, "cpu_frame", code));
        }
        let mut it = arrays.into_iter();
        let mut next = || it.next().flatten();
        let host = HostSplats {
            means: next(),
            rotations: next(),
            log_scales: next(),
            opacity_logits: next(),
            sh: next(),
            covariances: next(),
            opacity_scale: next(),
        };
        for (b, (array, data)) in host.arrays().into_iter().enumerate() {
            if let Some((a, splat, v)) = data.and_then(|d| first_non_finite(array, d, widths[b])) {
                return Err(PluginError::InvalidOutput(format!(
                    "plugin '{name}': CPU frame at time {time} wrote {v} into {a} of splat {splat}"
                )));
            }
        }
        Ok(host)
    }

    fn gpu_stage(&mut self) -> Result<VksplatGpuStage, PluginError> {
        let name = self.name().to_string();
        let gpu_stage = self.plugin.api.gpu_stage.expect("checked in describe");
        // SAFETY: zero is valid for this repr(C) struct.
        let mut s: VksplatGpuStage = unsafe { std::mem::zeroed() };
        s.s_type = VKSPLAT_STRUCT_GPU_STAGE;
        s.s_size = std::mem::size_of::<VksplatGpuStage>() as u32;
        clear_plugin_error();
        // SAFETY: live instance, valid out pointer.
        let code = unsafe { gpu_stage(self.handle, &mut s) };
        if code < 0 {
            return Err(call_error(&name, "gpu_stage", code));
        }
        if (s.s_size as usize) < std::mem::size_of::<VksplatGpuStage>() {
            return Err(PluginError::Abi(format!(
                "plugin '{name}': gpu_stage wrote a {}-byte stage, ABI version {} requires {}",
                s.s_size,
                self.plugin.abi_version,
                std::mem::size_of::<VksplatGpuStage>()
            )));
        }
        Ok(s)
    }

    fn gpu_frame(
        &mut self,
        time: f64,
        push: &mut [u8],
        frame: &mut [u8],
    ) -> Result<(), PluginError> {
        let name = self.name().to_string();
        let gpu_frame = self.plugin.api.gpu_frame.expect("checked in describe");
        let handle = self.handle;
        let (pp, pl) = (push.as_mut_ptr() as *mut c_void, push.len() as u32);
        let (fp, fl) = if frame.is_empty() {
            (std::ptr::null_mut(), 0)
        } else {
            (frame.as_mut_ptr() as *mut c_void, frame.len() as u32)
        };
        clear_plugin_error();
        // SAFETY: live instance; buffers of the stated sizes.
        let code = self.with_input(time, |input| unsafe {
            gpu_frame(handle, input, pp, pl, fp, fl)
        });
        if code < 0 {
            return Err(call_error(&name, "gpu_frame", code));
        }
        Ok(())
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(close) = self.plugin.api.close {
            // SAFETY: the handle came from open and is closed once.
            unsafe { close(self.handle) };
        }
    }
}

fn parse_floats(plugin: &str, key: &str, value: &str) -> Result<Vec<f32>, PluginError> {
    if value.trim().is_empty() {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(|s| {
            s.trim().parse::<f32>().map_err(|_| {
                PluginError::Param(format!(
                    "plugin '{plugin}': parameter '{key}': '{}' is not a number",
                    s.trim()
                ))
            })
        })
        .collect()
}

fn check_value(plugin: &str, p: &ParamInfo, values: &[f32]) -> Result<(), PluginError> {
    let bad = |why: String| {
        PluginError::Param(format!("plugin '{plugin}': parameter '{}': {why}", p.name))
    };
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(bad(format!("{v} is not finite")));
    }
    let range = |v: f32| {
        if (v as f64) < p.min || (v as f64) > p.max {
            Err(bad(format!("{v} is outside [{}, {}]", p.min, p.max)))
        } else {
            Ok(())
        }
    };
    match p.ty {
        ParamType::Float | ParamType::Int => {
            if values.len() != 1 {
                return Err(bad(format!("expected one number, got {}", values.len())));
            }
            if p.ty == ParamType::Int && values[0].fract() != 0.0 {
                return Err(bad(format!("{} is not an integer", values[0])));
            }
            range(values[0])
        }
        ParamType::FloatArray => {
            let c = p.components as usize;
            if !values.len().is_multiple_of(c) {
                return Err(bad(format!(
                    "{} floats is not a whole number of {c}-float elements",
                    values.len()
                )));
            }
            let count = (values.len() / c) as u32;
            if count != 0 && !(p.min_count..=p.max_count).contains(&count) {
                return Err(bad(format!(
                    "{count} element(s), expected {}..={}",
                    p.min_count, p.max_count
                )));
            }
            values.iter().try_for_each(|&v| range(v))
        }
    }
}

/// Which path evaluates a plugin scene.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EvalPath {
    /// The GPU path when the plugin has one, else the CPU path.
    #[default]
    Auto,
    Gpu,
    Cpu,
}

struct GpuState {
    pipeline: ComputePipeline,
    buffers: Vec<Buffer>,
    frame_buffer: Option<Buffer>,
    push_size: usize,
    frame_size: usize,
    workgroups: [u32; 3],
}

/// A plugin instance and the scene it writes.
pub struct VariantScene {
    instance: Instance,
    scene: GpuScene,
    gpu: Option<GpuState>,
    /// The first GPU frame was checked for non-finite values.
    checked: bool,
    /// Check every GPU frame (reads the splats back), not only the first.
    pub check_every_frame: bool,
}

impl VariantScene {
    /// Creates the scene: uploads the plugin's initial data and, on the GPU path, compiles,
    /// reflects and validates its shader and uploads its static buffers.
    pub fn new(
        renderer: &Renderer,
        mut instance: Instance,
        path: EvalPath,
    ) -> Result<Self, PluginError> {
        let name = instance.name().to_string();
        let d = instance.desc.clone();
        let use_gpu = match path {
            EvalPath::Auto => d.has_gpu,
            EvalPath::Gpu if !d.has_gpu => {
                return Err(PluginError::Plugin(format!(
                    "plugin '{name}' has no GPU path"
                )))
            }
            EvalPath::Gpu => true,
            EvalPath::Cpu if !d.has_cpu => {
                return Err(PluginError::Plugin(format!(
                    "plugin '{name}' has no CPU path"
                )))
            }
            EvalPath::Cpu => false,
        };
        let mut scene = renderer.create_scene(
            d.splat_count,
            d.sh_degree,
            SceneOptions {
                covariance: d.covariance,
                opacity_scale: d.opacity_scale,
                ..Default::default()
            },
        )?;
        let i = &d.initial;
        let initial = HostSplats {
            means: i.means.clone(),
            rotations: i.rotations.clone(),
            log_scales: i.log_scales.clone(),
            opacity_logits: i.opacity_logits.clone(),
            sh: i.sh.clone(),
            covariances: i.covariances.clone(),
            opacity_scale: i.opacity_scale.clone(),
        };
        let widths = d.widths();
        for (b, (array, data)) in initial.arrays().into_iter().enumerate() {
            if let Some((a, splat, v)) = data.and_then(|x| first_non_finite(array, x, widths[b])) {
                return Err(PluginError::InvalidOutput(format!(
                    "plugin '{name}': initial data has {v} in {a} of splat {splat}"
                )));
            }
        }
        renderer.write_scene(&mut scene, &initial.update())?;
        let gpu = if use_gpu {
            Some(Self::build_stage(renderer, &mut instance)?)
        } else {
            None
        };
        Ok(VariantScene {
            instance,
            scene,
            gpu,
            checked: false,
            check_every_frame: false,
        })
    }

    fn build_stage(renderer: &Renderer, instance: &mut Instance) -> Result<GpuState, PluginError> {
        let name = instance.name().to_string();
        let s = instance.gpu_stage()?;
        // SAFETY: strings and buffers of the plugin, valid until the next call on the instance.
        let shader_name = unsafe { c_string(s.name) };
        let shader_name = if shader_name.is_empty() {
            format!("{name}.comp")
        } else {
            shader_name
        };
        let shader_err = |why: String| {
            PluginError::Shader(format!("plugin '{name}': shader '{shader_name}': {why}"))
        };
        if s.code.is_null() {
            return Err(shader_err("no code".into()));
        }
        let words = match s.language {
            VKSPLAT_SHADER_GLSL => {
                // SAFETY: NUL-terminated GLSL source.
                let src = unsafe { CStr::from_ptr(s.code as *const c_char) }
                    .to_str()
                    .map_err(|_| shader_err("GLSL source is not UTF-8".into()))?;
                vksplat_core::shaders::compile_glsl(src, &shader_name).map_err(|e| {
                    shader_err(match e {
                        vksplat_core::CoreError::Shader(m) => m,
                        other => other.to_string(),
                    })
                })?
            }
            VKSPLAT_SHADER_SPIRV => {
                if s.code_size % 4 != 0 || s.code_size == 0 {
                    return Err(shader_err(format!(
                        "SPIR-V of {} bytes is not a whole number of words",
                        s.code_size
                    )));
                }
                // SAFETY: `code_size` bytes of SPIR-V.
                let bytes = unsafe {
                    std::slice::from_raw_parts(s.code as *const u8, s.code_size as usize)
                };
                bytes
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            }
            l => return Err(shader_err(format!("unknown shader language {l}"))),
        };
        if s.push_constant_size > VKSPLAT_MAX_PUSH_CONSTANT_SIZE || s.push_constant_size % 4 != 0 {
            return Err(shader_err(format!(
                "push constants of {} bytes (a multiple of 4, at most {VKSPLAT_MAX_PUSH_CONSTANT_SIZE})",
                s.push_constant_size
            )));
        }
        if s.buffer_count > 0 && s.buffers.is_null() {
            return Err(shader_err("buffer_count > 0 with NULL buffers".into()));
        }
        let frame_bindings = u32::from(s.frame_buffer_size > 0);
        let binding_count = VKSPLAT_FIRST_PLUGIN_BINDING + s.buffer_count + frame_bindings;
        let reflection = reflect::reflect(&words).map_err(&shader_err)?;
        reflect::validate(&reflection, binding_count, s.push_constant_size).map_err(&shader_err)?;
        let pipeline = renderer
            .context()
            .create_checked_pipeline(
                &format!("plugin.{name}"),
                &words,
                &vksplat_vk::spirv::Interface {
                    bindings: binding_count,
                    push_constant_size: s.push_constant_size,
                    address_offsets: &[],
                },
            )
            .map_err(|e| shader_err(e.to_string()))?;
        let mut buffers = Vec::new();
        if s.buffer_count > 0 {
            // SAFETY: `buffer_count` descriptors.
            let descs = unsafe { std::slice::from_raw_parts(s.buffers, s.buffer_count as usize) };
            for (i, b) in descs.iter().enumerate() {
                let bname = unsafe { c_string(b.name) };
                if b.data.is_null() && b.size > 0 {
                    return Err(shader_err(format!("buffer {i} ('{bname}') has no data")));
                }
                let bytes = if b.size == 0 {
                    &[][..]
                } else {
                    // SAFETY: `size` bytes of plugin data.
                    unsafe { std::slice::from_raw_parts(b.data as *const u8, b.size as usize) }
                };
                buffers.push(renderer.upload(&format!("plugin.{name}.{bname}"), bytes)?);
            }
        }
        let frame_buffer = if s.frame_buffer_size > 0 {
            Some(
                renderer
                    .context()
                    .create_buffer(
                        &format!("plugin.{name}.frame"),
                        s.frame_buffer_size as u64,
                        BufferUsage::Storage,
                        MemoryLocation::CpuToGpu,
                    )
                    .map_err(vksplat_core::CoreError::from)?,
            )
        } else {
            None
        };
        let groups = s.invocations.div_ceil(reflection.local_size[0] as u64);
        let max = renderer.context().info().max_compute_workgroup_count[0] as u64;
        if groups > max {
            return Err(shader_err(format!(
                "{} invocations need {groups} workgroups, more than the device's {max}",
                s.invocations
            )));
        }
        Ok(GpuState {
            pipeline,
            buffers,
            frame_buffer,
            push_size: s.push_constant_size as usize,
            frame_size: s.frame_buffer_size as usize,
            workgroups: [groups as u32, 1, 1],
        })
    }

    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    pub fn instance_mut(&mut self) -> &mut Instance {
        &mut self.instance
    }

    pub fn scene(&self) -> &GpuScene {
        &self.scene
    }

    /// The path this scene evaluates with.
    pub fn path(&self) -> EvalPath {
        if self.gpu.is_some() {
            EvalPath::Gpu
        } else {
            EvalPath::Cpu
        }
    }

    /// Asks the plugin for this frame's push constants and frame buffer.
    fn prepare_gpu(&mut self, time: f64) -> Result<Vec<u8>, PluginError> {
        let gpu = self.gpu.as_mut().expect("GPU path");
        let mut push = vec![0u8; gpu.push_size];
        let mut frame = vec![0u8; gpu.frame_size];
        self.instance.gpu_frame(time, &mut push, &mut frame)?;
        if let Some(fb) = gpu.frame_buffer.as_mut() {
            fb.write(&frame).map_err(vksplat_core::CoreError::from)?;
        }
        Ok(push)
    }

    fn stage<'a>(gpu: &'a GpuState, push: Vec<u8>) -> VariantStage<'a> {
        let mut extra: Vec<&Buffer> = gpu.buffers.iter().collect();
        if let Some(fb) = &gpu.frame_buffer {
            extra.push(fb);
        }
        VariantStage {
            pipeline: &gpu.pipeline,
            extra_buffers: extra,
            push_constants: push,
            workgroups: gpu.workgroups,
        }
    }

    /// Writes this frame's splats into the scene without rendering (GPU: runs the stage;
    /// CPU: the plugin fills host arrays, which are uploaded). Checks for non-finite values.
    pub fn evaluate(&mut self, renderer: &Renderer, time: f64) -> Result<(), PluginError> {
        if self.gpu.is_some() {
            let push = self.prepare_gpu(time)?;
            let gpu = self.gpu.as_ref().expect("GPU path");
            renderer.run_variant(&self.scene, &Self::stage(gpu, push))?;
            self.check_gpu_output(renderer, time)?;
        } else {
            let host = self.instance.cpu_frame(time)?;
            renderer.write_scene(&mut self.scene, &host.update())?;
        }
        Ok(())
    }

    /// Reads the scene's splats back and fails on the first non-finite value.
    fn check_gpu_output(&mut self, renderer: &Renderer, time: f64) -> Result<(), PluginError> {
        let name = self.instance.name().to_string();
        let d = &self.instance.desc;
        let n = d.splat_count;
        let k = ((d.sh_degree + 1) * (d.sh_degree + 1)) as usize;
        // (output bit, scene buffer index, floats per splat), in binding order.
        let layout = [
            (VKSPLAT_OUTPUT_MEANS, 0, 3),
            (VKSPLAT_OUTPUT_ROTATIONS, 1, 4),
            (VKSPLAT_OUTPUT_LOG_SCALES, 2, 3),
            (VKSPLAT_OUTPUT_OPACITY_LOGITS, 3, 1),
            (VKSPLAT_OUTPUT_SH, 4, k),
            (VKSPLAT_OUTPUT_SH, 5, k),
            (VKSPLAT_OUTPUT_SH, 6, k),
            (VKSPLAT_OUTPUT_COVARIANCES, 7, 6),
            (VKSPLAT_OUTPUT_OPACITY_SCALE, 8, 1),
        ];
        let buffers = self.scene.buffers();
        for (bit, index, per) in layout {
            if d.outputs & bit == 0 || n == 0 {
                continue;
            }
            let bytes = renderer.download(buffers[index], (n * per * 4) as u64)?;
            let floats: &[f32] = bytemuck::cast_slice(&bytes);
            if let Some((_, splat, v)) = first_non_finite("", floats, per) {
                let array = OUTPUT_NAMES[bit.trailing_zeros() as usize];
                return Err(PluginError::InvalidOutput(format!(
                    "plugin '{name}': GPU frame at time {time} wrote {v} into {array} of splat {splat}"
                )));
            }
        }
        self.checked = true;
        Ok(())
    }

    /// Reads back the arrays the plugin writes every frame, in the CPU path's layout (for
    /// comparing the two paths).
    pub fn download_outputs(&self, renderer: &Renderer) -> Result<HostSplats, PluginError> {
        let d = &self.instance.desc;
        let n = d.splat_count;
        let k = ((d.sh_degree + 1) * (d.sh_degree + 1)) as usize;
        let buffers = self.scene.buffers();
        let read = |bit: u32, index: usize, per: usize| -> Result<Option<Vec<f32>>, PluginError> {
            if d.outputs & bit == 0 {
                return Ok(None);
            }
            let bytes = renderer.download(buffers[index], (n * per * 4) as u64)?;
            Ok(Some(bytemuck::cast_slice::<u8, f32>(&bytes).to_vec()))
        };
        let sh = if d.outputs & VKSPLAT_OUTPUT_SH != 0 {
            let ch: Vec<Vec<f32>> = (4..7)
                .map(|i| read(VKSPLAT_OUTPUT_SH, i, k).map(Option::unwrap_or_default))
                .collect::<Result<_, _>>()?;
            Some(
                (0..n * k)
                    .flat_map(|j| [ch[0][j], ch[1][j], ch[2][j]])
                    .collect(),
            )
        } else {
            None
        };
        Ok(HostSplats {
            means: read(VKSPLAT_OUTPUT_MEANS, 0, 3)?,
            rotations: read(VKSPLAT_OUTPUT_ROTATIONS, 1, 4)?,
            log_scales: read(VKSPLAT_OUTPUT_LOG_SCALES, 2, 3)?,
            opacity_logits: read(VKSPLAT_OUTPUT_OPACITY_LOGITS, 3, 1)?,
            sh,
            covariances: read(VKSPLAT_OUTPUT_COVARIANCES, 7, 6)?,
            opacity_scale: read(VKSPLAT_OUTPUT_OPACITY_SCALE, 8, 1)?,
        })
    }

    /// Evaluates the plugin at `time` and renders the frame.
    pub fn render(
        &mut self,
        renderer: &mut Renderer,
        camera: &Camera,
        settings: &RenderSettings,
        time: f64,
    ) -> Result<(Frame, FrameStats), PluginError> {
        if self.gpu.is_some() && self.checked && !self.check_every_frame {
            // The stage runs inside the frame's command buffer.
            let push = self.prepare_gpu(time)?;
            let gpu = self.gpu.as_ref().expect("GPU path");
            let stage = Self::stage(gpu, push);
            return Ok(renderer.render_variant(&self.scene, &stage, camera, settings)?);
        }
        self.evaluate(renderer, time)?;
        Ok(renderer.render(&self.scene, camera, settings)?)
    }
}
