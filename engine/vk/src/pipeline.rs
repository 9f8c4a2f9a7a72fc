//! Compute pipelines whose bindings are storage buffers in set 0 (or the same buffers as
//! RGBA32F or RGBA32UI uniform texel buffers, where the interface says), bound with push descriptors, plus
//! one push-constant range.
//!
//! What "safe" means here: [`Context::create_checked_pipeline`] reflects the shader and
//! refuses one whose entry point, bindings or push constants do not fit the layout, or that
//! could read a buffer address from anywhere but the push-constant offsets the layout
//! declares; [`crate::Recorder`] then fills those offsets only from borrowed buffers
//! ([`crate::PushConstants`]). So safe code cannot make the GPU touch a freed buffer. Two
//! things stay the shader's contract, as in any Vulkan compute API without injected bounds
//! checks: the module is valid SPIR-V (the engine's come from shaderc), and its accesses stay
//! inside the buffers it is given.

use std::sync::Arc;

use ash::vk;

use crate::push::MAX_PUSH_CONSTANT_SIZE;
use crate::spirv::{self, Interface};
use crate::{CallExt, Context, Result, VkError};

/// A compute pipeline with `bindings` storage-buffer bindings (0..bindings) in set 0, those in
/// the `texel_bindings` mask bound as RGBA32F uniform texel buffers instead (RGBA32UI for
/// `uint_texel_bindings`), and a
/// push-constant block of `push_constant_size` bytes whose buffer addresses sit at
/// `address_offsets`.
pub struct ComputePipeline {
    ctx: Arc<Context>,
    pub(crate) pipeline: vk::Pipeline,
    pub(crate) layout: vk::PipelineLayout,
    set_layout: vk::DescriptorSetLayout,
    pub(crate) bindings: u32,
    pub(crate) texel_bindings: u32,
    pub(crate) uint_texel_bindings: u32,
    pub(crate) push_constant_size: u32,
    pub(crate) address_offsets: Vec<u32>,
    name: String,
}

impl Context {
    /// Builds a compute pipeline from SPIR-V words after checking, by reflection, that the
    /// shader fits `iface` ([`spirv::check_interface`]). This is how safe code makes
    /// pipelines; see the module docs for what remains the shader's contract.
    pub fn create_checked_pipeline(
        self: &Arc<Self>,
        name: &str,
        spirv: &[u32],
        iface: &Interface,
    ) -> Result<ComputePipeline> {
        let reflection =
            spirv::reflect(spirv).map_err(|e| VkError::Invalid(format!("shader '{name}': {e}")))?;
        spirv::check_interface(&reflection, iface)
            .map_err(|e| VkError::Invalid(format!("shader '{name}': {e}")))?;
        // SAFETY: the reflection above shows that the entry point, every binding and the push
        // block fit `iface`, and that the shader reads buffer addresses only from the push
        // constants at `iface.address_offsets`, which every dispatch must fill from buffers
        // its recorder borrows. Validity of the SPIR-V and in-bounds accesses are the
        // shader's contract (module docs).
        unsafe { self.create_compute_pipeline(name, spirv, iface) }
    }

    /// Builds a compute pipeline from SPIR-V words without looking inside them.
    ///
    /// # Safety
    ///
    /// `spirv` must be a valid SPIR-V module for Vulkan 1.2 with a GLCompute entry point
    /// `main` whose descriptor bindings are storage buffers in set 0 below `iface.bindings`
    /// (`samplerBuffer`s at the bits of `iface.texel_bindings`, `usamplerBuffer`s at those of
    /// `iface.uint_texel_bindings`) and whose push-constant
    /// block fits in `iface.push_constant_size` bytes. Every buffer device address the shader
    /// dereferences must be read from its push constants at one of `iface.address_offsets`
    /// (dispatches fill those only from borrowed buffers), and every access must stay inside
    /// the buffer it targets.
    pub unsafe fn create_compute_pipeline(
        self: &Arc<Self>,
        name: &str,
        spirv: &[u32],
        iface: &Interface,
    ) -> Result<ComputePipeline> {
        let Interface {
            bindings,
            texel_bindings,
            uint_texel_bindings,
            push_constant_size,
            address_offsets,
        } = *iface;
        if spirv.first() != Some(&0x0723_0203) {
            return Err(VkError::Invalid(format!("shader '{name}' is not SPIR-V")));
        }
        if !push_constant_size.is_multiple_of(4)
            || push_constant_size as usize > MAX_PUSH_CONSTANT_SIZE
        {
            return Err(VkError::Invalid(format!(
                "shader '{name}': push constants of {push_constant_size} bytes (must be a multiple of 4, at most {MAX_PUSH_CONSTANT_SIZE})"
            )));
        }
        if let Some(o) = address_offsets
            .iter()
            .find(|&&o| !o.is_multiple_of(8) || o + 8 > push_constant_size)
        {
            return Err(VkError::Invalid(format!(
                "shader '{name}': an address at push-constant byte {o} must be 8-byte aligned \
                 and inside the {push_constant_size} bytes"
            )));
        }
        let binding_info: Vec<_> = (0..bindings)
            .map(|b| {
                vk::DescriptorSetLayoutBinding::default()
                    .binding(b)
                    .descriptor_type(descriptor_type(texel_bindings | uint_texel_bindings, b))
                    .descriptor_count(1)
                    .stage_flags(vk::ShaderStageFlags::COMPUTE)
            })
            .collect();
        let set_info = vk::DescriptorSetLayoutCreateInfo::default()
            .flags(vk::DescriptorSetLayoutCreateFlags::PUSH_DESCRIPTOR_KHR)
            .bindings(&binding_info);
        let device = &self.device;
        let cb = self.host_callbacks();
        // SAFETY: valid device; create infos point at live locals. Each object created is
        // destroyed on the error paths below or by Drop.
        unsafe {
            let set_layout = device
                .create_descriptor_set_layout(&set_info, cb)
                .call("vkCreateDescriptorSetLayout")?;
            let ranges = [vk::PushConstantRange::default()
                .stage_flags(vk::ShaderStageFlags::COMPUTE)
                .offset(0)
                .size(push_constant_size)];
            let set_layouts = [set_layout];
            let mut layout_info = vk::PipelineLayoutCreateInfo::default().set_layouts(&set_layouts);
            if push_constant_size > 0 {
                layout_info = layout_info.push_constant_ranges(&ranges);
            }
            let layout = match device.create_pipeline_layout(&layout_info, cb) {
                Ok(l) => l,
                Err(e) => {
                    device.destroy_descriptor_set_layout(set_layout, cb);
                    return Err(VkError::Call {
                        call: "vkCreatePipelineLayout",
                        result: e,
                    });
                }
            };
            let module_info = vk::ShaderModuleCreateInfo::default().code(spirv);
            let module = match device.create_shader_module(&module_info, cb) {
                Ok(m) => m,
                Err(e) => {
                    device.destroy_pipeline_layout(layout, cb);
                    device.destroy_descriptor_set_layout(set_layout, cb);
                    return Err(VkError::Call {
                        call: "vkCreateShaderModule",
                        result: e,
                    });
                }
            };
            let stage = vk::PipelineShaderStageCreateInfo::default()
                .stage(vk::ShaderStageFlags::COMPUTE)
                .module(module)
                .name(c"main");
            let info = [vk::ComputePipelineCreateInfo::default()
                .stage(stage)
                .layout(layout)];
            let result = device.create_compute_pipelines(vk::PipelineCache::null(), &info, cb);
            device.destroy_shader_module(module, cb);
            let pipeline = match result {
                Ok(p) => p[0],
                Err((_, e)) => {
                    device.destroy_pipeline_layout(layout, cb);
                    device.destroy_descriptor_set_layout(set_layout, cb);
                    return Err(VkError::Call {
                        call: "vkCreateComputePipelines",
                        result: e,
                    });
                }
            };
            self.set_name(pipeline, name);
            Ok(ComputePipeline {
                ctx: self.clone(),
                pipeline,
                layout,
                set_layout,
                bindings,
                texel_bindings,
                uint_texel_bindings,
                push_constant_size,
                address_offsets: address_offsets.to_vec(),
                name: name.into(),
            })
        }
    }
}

/// The descriptor type of `binding` in a layout whose texel buffers are the bits of `texels`.
pub(crate) fn descriptor_type(texels: u32, binding: u32) -> vk::DescriptorType {
    if binding < 32 && texels & (1 << binding) != 0 {
        vk::DescriptorType::UNIFORM_TEXEL_BUFFER
    } else {
        vk::DescriptorType::STORAGE_BUFFER
    }
}

impl ComputePipeline {
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ComputePipeline {
    fn drop(&mut self) {
        self.ctx.wait_for_pending();
        let cb = self.ctx.host_callbacks();
        // SAFETY: every submission that could use this pipeline has completed (waited above).
        unsafe {
            self.ctx.device.destroy_pipeline(self.pipeline, cb);
            self.ctx.device.destroy_pipeline_layout(self.layout, cb);
            self.ctx
                .device
                .destroy_descriptor_set_layout(self.set_layout, cb);
        }
    }
}
