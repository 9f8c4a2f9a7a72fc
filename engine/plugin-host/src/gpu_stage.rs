//! The GPU path's stage: the plugin's compute shader, compiled (GLSL) or taken as SPIR-V,
//! reflected and checked against the stage's rules, with its static buffers and its per-frame
//! push constants and frame buffer.
//!
//! Invariants: a [`GpuState`] exists only for a shader whose bindings, push-constant size and
//! workgroup count passed the checks here; bindings 0..FIRST_PLUGIN_BINDING are the scene's
//! buffers, then the plugin's static buffers in order, then its frame buffer.

use std::ffi::{c_char, c_void, CStr};

use vksplat_abi::*;
use vksplat_core::{Buffer, ComputePipeline, Renderer, VariantStage};
use vksplat_vk::{BufferUsage, MemoryLocation};

use crate::error::PluginError;
use crate::instance::{c_string, Instance};
use crate::loader::{call_error, clear_plugin_error};
use crate::reflect;

/// A plugin's compiled stage and the buffers it binds besides the scene's.
pub(crate) struct GpuState {
    pipeline: ComputePipeline,
    buffers: Vec<Buffer>,
    frame_buffer: Option<Buffer>,
    push_size: usize,
    frame_size: usize,
    workgroups: [u32; 3],
}

impl GpuState {
    /// Asks the plugin for its stage, compiles (GLSL) or takes (SPIR-V) its shader, reflects
    /// and checks it against the stage's rules, creates the pipeline and uploads the static
    /// buffers.
    pub(crate) fn build(
        renderer: &Renderer,
        instance: &mut Instance,
    ) -> Result<GpuState, PluginError> {
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
        // SAFETY: `s.buffers` holds `buffer_count` descriptors (null only when the count is 0,
        // checked above), valid until the next call on the instance.
        let spec = unsafe { reflect::StageSpec::of(&s, instance.desc.outputs) };
        let reflection = reflect::check_stage(&words, &spec).map_err(&shader_err)?;
        let pipeline = renderer
            .context()
            .create_checked_pipeline(
                &format!("plugin.{name}"),
                &words,
                &vksplat_vk::spirv::Interface {
                    texel_bindings: 0,
                    uint_texel_bindings: 0,
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
                // SAFETY: a NUL-terminated string of the plugin (or NULL).
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

    /// Asks the plugin for this frame's push constants and fills the frame buffer.
    pub(crate) fn prepare(
        &mut self,
        instance: &mut Instance,
        time: f64,
    ) -> Result<Vec<u8>, PluginError> {
        let mut push = vec![0u8; self.push_size];
        let mut frame = vec![0u8; self.frame_size];
        instance.gpu_frame(time, &mut push, &mut frame)?;
        if let Some(fb) = self.frame_buffer.as_mut() {
            fb.write(&frame).map_err(vksplat_core::CoreError::from)?;
        }
        Ok(push)
    }

    /// The stage of one frame, with `push` as its push constants.
    pub(crate) fn stage(&self, push: Vec<u8>) -> VariantStage<'_> {
        let mut extra: Vec<&Buffer> = self.buffers.iter().collect();
        if let Some(fb) = &self.frame_buffer {
            extra.push(fb);
        }
        VariantStage {
            pipeline: &self.pipeline,
            extra_buffers: extra,
            push_constants: push,
            workgroups: self.workgroups,
        }
    }
}

/// The plugin calls of the GPU path.
impl Instance {
    fn gpu_stage(&mut self) -> Result<VksplatGpuStage, PluginError> {
        let name = self.name().to_string();
        let gpu_stage = self.plugin.api.gpu_stage.expect("checked in describe");
        // SAFETY: zero is valid for this repr(C) struct.
        let mut s: VksplatGpuStage = unsafe { std::mem::zeroed() };
        s.s_type = VKSPLAT_STRUCT_GPU_STAGE;
        s.s_size = std::mem::size_of::<VksplatGpuStage>() as u32;
        clear_plugin_error(&name);
        // SAFETY: live instance, valid out pointer.
        let code = unsafe { gpu_stage(self.handle, &mut s) };
        if code < 0 {
            return Err(call_error(&name, "gpu_stage", code));
        }
        // The growth rule, as for the description (see `describe`).
        // SAFETY: `s` is a whole, initialised VksplatGpuStage; `next` is checked by `read`.
        unsafe { vksplat_abi::grow::read(&s, "gpu_stage's stage") }
            .map_err(|e| PluginError::Abi(format!("plugin '{name}': {e}")))
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
        clear_plugin_error(&name);
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
