//! The CPU path: the plugin fills host arrays for a frame, the engine checks them and
//! uploads them into the scene.
//!
//! Invariant: no array with a non-finite value leaves [`Instance::cpu_frame`]; the error names
//! the plugin, the array, the splat and the time.

use vksplat_abi::*;
use vksplat_core::SceneUpdate;

use crate::error::PluginError;
use crate::instance::Instance;
use crate::loader::{call_error, clear_plugin_error};

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
    pub(crate) fn arrays(&self) -> [(&'static str, Option<&Vec<f32>>); 7] {
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

    pub(crate) fn update(&self) -> SceneUpdate<'_> {
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

pub(crate) const OUTPUT_NAMES: [&str; 7] = [
    "means",
    "rotations",
    "log_scales",
    "opacity_logits",
    "sh",
    "covariances",
    "opacity_scale",
];

/// Finds the first non-finite value: (array, splat, value).
pub(crate) fn first_non_finite(
    name: &'static str,
    data: &[f32],
    per: usize,
) -> Option<(&'static str, usize, f32)> {
    data.iter()
        .position(|v| !v.is_finite())
        .map(|i| (name, i / per.max(1), data[i]))
}

impl Instance {
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
        clear_plugin_error(&name);
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
}
