//! Compute pipelines whose bindings are all storage buffers in set 0, bound with push
//! descriptors, plus one push-constant range.

use std::sync::Arc;

use ash::vk;

use crate::{CallExt, Context, Result, VkError};

/// A compute pipeline with `bindings` storage-buffer bindings (0..bindings) in set 0 and a
/// push-constant block of `push_constant_size` bytes.
pub struct ComputePipeline {
    ctx: Arc<Context>,
    pub(crate) pipeline: vk::Pipeline,
    pub(crate) layout: vk::PipelineLayout,
    set_layout: vk::DescriptorSetLayout,
    pub(crate) bindings: u32,
    pub(crate) push_constant_size: u32,
    name: String,
}

impl Context {
    /// Builds a compute pipeline from SPIR-V words.
    pub fn create_compute_pipeline(
        self: &Arc<Self>,
        name: &str,
        spirv: &[u32],
        bindings: u32,
        push_constant_size: u32,
    ) -> Result<ComputePipeline> {
        if spirv.first() != Some(&0x0723_0203) {
            return Err(VkError::Invalid(format!("shader '{name}' is not SPIR-V")));
        }
        if !push_constant_size.is_multiple_of(4) || push_constant_size > 128 {
            return Err(VkError::Invalid(format!(
                "shader '{name}': push constants of {push_constant_size} bytes (must be a multiple of 4, at most 128)"
            )));
        }
        let binding_info: Vec<_> = (0..bindings)
            .map(|b| {
                vk::DescriptorSetLayoutBinding::default()
                    .binding(b)
                    .descriptor_type(vk::DescriptorType::STORAGE_BUFFER)
                    .descriptor_count(1)
                    .stage_flags(vk::ShaderStageFlags::COMPUTE)
            })
            .collect();
        let set_info = vk::DescriptorSetLayoutCreateInfo::default()
            .flags(vk::DescriptorSetLayoutCreateFlags::PUSH_DESCRIPTOR_KHR)
            .bindings(&binding_info);
        let device = &self.device;
        // SAFETY: valid device; create infos point at live locals. Each object created is
        // destroyed on the error paths below or by Drop.
        unsafe {
            let set_layout = device
                .create_descriptor_set_layout(&set_info, None)
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
            let layout = match device.create_pipeline_layout(&layout_info, None) {
                Ok(l) => l,
                Err(e) => {
                    device.destroy_descriptor_set_layout(set_layout, None);
                    return Err(VkError::Call {
                        call: "vkCreatePipelineLayout",
                        result: e,
                    });
                }
            };
            let module_info = vk::ShaderModuleCreateInfo::default().code(spirv);
            let module = match device.create_shader_module(&module_info, None) {
                Ok(m) => m,
                Err(e) => {
                    device.destroy_pipeline_layout(layout, None);
                    device.destroy_descriptor_set_layout(set_layout, None);
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
            let result = device.create_compute_pipelines(vk::PipelineCache::null(), &info, None);
            device.destroy_shader_module(module, None);
            let pipeline = match result {
                Ok(p) => p[0],
                Err((_, e)) => {
                    device.destroy_pipeline_layout(layout, None);
                    device.destroy_descriptor_set_layout(set_layout, None);
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
                push_constant_size,
                name: name.into(),
            })
        }
    }
}

impl ComputePipeline {
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ComputePipeline {
    fn drop(&mut self) {
        // SAFETY: pipelines are dropped only when no submitted work uses them (the engine
        // waits on every submission).
        unsafe {
            self.ctx.device.destroy_pipeline(self.pipeline, None);
            self.ctx.device.destroy_pipeline_layout(self.layout, None);
            self.ctx
                .device
                .destroy_descriptor_set_layout(self.set_layout, None);
        }
    }
}
