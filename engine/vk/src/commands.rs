//! Command recording and submission.
//!
//! A [`Recorder`] borrows every buffer and pipeline it records for its whole life (`'a`), so
//! none can be dropped before [`Context::submit_and_wait`] has waited for the GPU. That
//! includes buffers reached by device address: they come in [`PushConstants`] of the same
//! lifetime.

use std::marker::PhantomData;
use std::sync::Arc;

use ash::vk;

use crate::{Buffer, CallExt, ComputePipeline, Context, PushConstants, Result, VkError};

const MAX_TIMESTAMPS: u32 = 64;

/// Records one command buffer.
pub struct Recorder<'a> {
    ctx: Arc<Context>,
    cmd: vk::CommandBuffer,
    query_pool: vk::QueryPool,
    labels: Vec<String>,
    _borrows: PhantomData<&'a ()>,
}

impl Context {
    /// Starts recording a one-time command buffer.
    pub fn begin<'a>(self: &Arc<Self>) -> Result<Recorder<'a>> {
        let pool = self.command_pool.lock().unwrap_or_else(|e| e.into_inner());
        let info = vk::CommandBufferAllocateInfo::default()
            .command_pool(*pool)
            .level(vk::CommandBufferLevel::PRIMARY)
            .command_buffer_count(1);
        // SAFETY: pool is locked (externally synchronised) and valid.
        let cmd = unsafe { self.device.allocate_command_buffers(&info) }
            .call("vkAllocateCommandBuffers")?[0];
        let free = |ctx: &Context| {
            // SAFETY: cmd from this pool, not submitted.
            unsafe { ctx.device.free_command_buffers(*pool, &[cmd]) }
        };
        let begin = vk::CommandBufferBeginInfo::default()
            .flags(vk::CommandBufferUsageFlags::ONE_TIME_SUBMIT);
        // SAFETY: freshly allocated command buffer.
        if let Err(e) = unsafe { self.device.begin_command_buffer(cmd, &begin) } {
            free(self);
            return Err(VkError::Call {
                call: "vkBeginCommandBuffer",
                result: e,
            });
        }
        let qinfo = vk::QueryPoolCreateInfo::default()
            .query_type(vk::QueryType::TIMESTAMP)
            .query_count(MAX_TIMESTAMPS);
        // SAFETY: valid device.
        let query_pool = match unsafe { self.device.create_query_pool(&qinfo, None) } {
            Ok(q) => q,
            Err(e) => {
                free(self);
                return Err(VkError::Call {
                    call: "vkCreateQueryPool",
                    result: e,
                });
            }
        };
        // SAFETY: recording state; resets all queries before any write.
        unsafe {
            self.device
                .cmd_reset_query_pool(cmd, query_pool, 0, MAX_TIMESTAMPS)
        };
        drop(pool);
        Ok(Recorder {
            ctx: self.clone(),
            cmd,
            query_pool,
            labels: Vec::new(),
            _borrows: PhantomData,
        })
    }

    /// Submits the recorded commands, waits for them, and returns the GPU timestamps recorded
    /// with [`Recorder::timestamp`] as (label, nanoseconds since the first timestamp).
    pub fn submit_and_wait(&self, rec: Recorder<'_>) -> Result<Vec<(String, f64)>> {
        let dev = &self.device;
        let cmd = rec.cmd;
        // SAFETY: cmd is in the recording state; fence and submission are waited on before
        // the command buffer and query pool are freed.
        unsafe {
            dev.end_command_buffer(cmd).call("vkEndCommandBuffer")?;
            let fence = dev
                .create_fence(&vk::FenceCreateInfo::default(), None)
                .call("vkCreateFence")?;
            let cmds = [cmd];
            let submit = [vk::SubmitInfo::default().command_buffers(&cmds)];
            let result = {
                let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                dev.queue_submit(*queue, &submit, fence)
                    .call("vkQueueSubmit")
            };
            let result = result.and_then(|_| {
                dev.wait_for_fences(&[fence], true, u64::MAX)
                    .call("vkWaitForFences")
            });
            dev.destroy_fence(fence, None);
            result?;
            let mut times = Vec::new();
            if !rec.labels.is_empty() {
                let mut raw = vec![0u64; rec.labels.len()];
                dev.get_query_pool_results(
                    rec.query_pool,
                    0,
                    &mut raw,
                    vk::QueryResultFlags::TYPE_64 | vk::QueryResultFlags::WAIT,
                )
                .call("vkGetQueryPoolResults")?;
                let period = self.info().timestamp_period_ns as f64;
                for (label, t) in rec.labels.iter().zip(&raw) {
                    times.push((label.clone(), (t.wrapping_sub(raw[0])) as f64 * period));
                }
            }
            Ok(times)
        }
    }
}

impl<'a> Recorder<'a> {
    /// Records a dispatch of `pipeline` with `buffers` bound to bindings 0.. in order.
    pub fn dispatch(
        &mut self,
        pipeline: &'a ComputePipeline,
        buffers: &[&'a Buffer],
        push: &PushConstants<'a>,
        groups: [u32; 3],
    ) -> Result<()> {
        self.bind(pipeline, buffers, push)?;
        let max = self.ctx.info().max_compute_workgroup_count;
        if groups.iter().zip(max).any(|(g, m)| *g > m) {
            return Err(VkError::Invalid(format!(
                "dispatch of {groups:?} workgroups for '{}' exceeds the device limit {max:?}",
                pipeline.name()
            )));
        }
        if groups.contains(&0) {
            return Ok(());
        }
        // SAFETY: pipeline bound with all its bindings and push constants set.
        unsafe {
            self.ctx
                .device
                .cmd_dispatch(self.cmd, groups[0], groups[1], groups[2])
        };
        Ok(())
    }

    /// Records an indirect dispatch reading `VkDispatchIndirectCommand` at `offset` in
    /// `args`. The shader that wrote `args` must keep each count within the device limit.
    pub fn dispatch_indirect(
        &mut self,
        pipeline: &'a ComputePipeline,
        buffers: &[&'a Buffer],
        push: &PushConstants<'a>,
        args: &'a Buffer,
        offset: u64,
    ) -> Result<()> {
        if !offset.is_multiple_of(4) || offset + 12 > args.size() {
            return Err(VkError::Invalid(format!(
                "indirect arguments at {offset} outside buffer '{}'",
                args.name()
            )));
        }
        self.bind(pipeline, buffers, push)?;
        // SAFETY: as dispatch; the argument range was checked above.
        unsafe {
            self.ctx
                .device
                .cmd_dispatch_indirect(self.cmd, args.raw, offset)
        };
        Ok(())
    }

    fn bind(
        &mut self,
        pipeline: &ComputePipeline,
        buffers: &[&Buffer],
        push: &PushConstants<'_>,
    ) -> Result<()> {
        // Every address the shader reads must come from a buffer the block borrows.
        if let Some(o) = pipeline
            .address_offsets
            .iter()
            .find(|&&o| !push.holds_address_at(o))
        {
            return Err(VkError::Invalid(format!(
                "'{}' reads a buffer address at push-constant byte {o}, which the dispatch did \
                 not fill from a buffer",
                pipeline.name()
            )));
        }
        let push = push.bytes();
        if buffers.len() != pipeline.bindings as usize {
            return Err(VkError::Invalid(format!(
                "'{}' takes {} buffers, got {}",
                pipeline.name(),
                pipeline.bindings,
                buffers.len()
            )));
        }
        if push.len() != pipeline.push_constant_size as usize {
            return Err(VkError::Invalid(format!(
                "'{}' takes {} bytes of push constants, got {}",
                pipeline.name(),
                pipeline.push_constant_size,
                push.len()
            )));
        }
        let infos: Vec<[vk::DescriptorBufferInfo; 1]> = buffers
            .iter()
            .map(|b| {
                [vk::DescriptorBufferInfo::default()
                    .buffer(b.raw)
                    .offset(0)
                    .range(b.size())]
            })
            .collect();
        let writes: Vec<vk::WriteDescriptorSet> = infos
            .iter()
            .enumerate()
            .map(|(i, info)| {
                vk::WriteDescriptorSet::default()
                    .dst_binding(i as u32)
                    .descriptor_type(vk::DescriptorType::STORAGE_BUFFER)
                    .buffer_info(info)
            })
            .collect();
        // SAFETY: recording state; layout matches the pipeline (binding count and push size
        // checked above); buffers, and those the push constants address, outlive the recorder.
        unsafe {
            let dev = &self.ctx.device;
            dev.cmd_bind_pipeline(self.cmd, vk::PipelineBindPoint::COMPUTE, pipeline.pipeline);
            if !writes.is_empty() {
                self.ctx.push_descriptor.cmd_push_descriptor_set(
                    self.cmd,
                    vk::PipelineBindPoint::COMPUTE,
                    pipeline.layout,
                    0,
                    &writes,
                );
            }
            if !push.is_empty() {
                dev.cmd_push_constants(
                    self.cmd,
                    pipeline.layout,
                    vk::ShaderStageFlags::COMPUTE,
                    0,
                    push,
                );
            }
        }
        Ok(())
    }

    /// Makes all earlier shader and transfer writes visible to later shaders, transfers and
    /// indirect-argument reads.
    pub fn barrier(&mut self) {
        let barrier = [vk::MemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::SHADER_WRITE | vk::AccessFlags::TRANSFER_WRITE)
            .dst_access_mask(
                vk::AccessFlags::SHADER_READ
                    | vk::AccessFlags::SHADER_WRITE
                    | vk::AccessFlags::INDIRECT_COMMAND_READ
                    | vk::AccessFlags::TRANSFER_READ
                    | vk::AccessFlags::TRANSFER_WRITE,
            )];
        // SAFETY: recording state.
        unsafe {
            self.ctx.device.cmd_pipeline_barrier(
                self.cmd,
                vk::PipelineStageFlags::COMPUTE_SHADER | vk::PipelineStageFlags::TRANSFER,
                vk::PipelineStageFlags::COMPUTE_SHADER
                    | vk::PipelineStageFlags::TRANSFER
                    | vk::PipelineStageFlags::DRAW_INDIRECT,
                vk::DependencyFlags::empty(),
                &barrier,
                &[],
                &[],
            )
        };
    }

    /// Fills the first `size` bytes (whole buffer if None) with a repeated u32.
    pub fn fill(&mut self, buffer: &'a Buffer, size: Option<u64>, value: u32) {
        let size = size.map(|s| s.div_ceil(4) * 4).unwrap_or(vk::WHOLE_SIZE);
        // SAFETY: recording state; offset 0 and size a multiple of 4 or WHOLE_SIZE.
        unsafe {
            self.ctx
                .device
                .cmd_fill_buffer(self.cmd, buffer.raw, 0, size, value)
        };
    }

    /// Writes up to 64 KiB of `data` into `buffer` at `offset` as part of the command stream.
    pub fn update(&mut self, buffer: &'a Buffer, offset: u64, data: &[u8]) -> Result<()> {
        if !data.len().is_multiple_of(4) || data.len() > 65536 || !offset.is_multiple_of(4) {
            return Err(VkError::Invalid(format!(
                "update of {} bytes at {offset} in '{}': must be 4-byte aligned and at most 64 KiB",
                data.len(),
                buffer.name()
            )));
        }
        if offset + data.len() as u64 > buffer.size() {
            return Err(VkError::Invalid(format!(
                "update out of range of '{}'",
                buffer.name()
            )));
        }
        if data.is_empty() {
            return Ok(());
        }
        // SAFETY: recording state; range and alignment checked above.
        unsafe {
            self.ctx
                .device
                .cmd_update_buffer(self.cmd, buffer.raw, offset, data)
        };
        Ok(())
    }

    /// Copies `size` bytes from the start of `src` to the start of `dst`.
    pub fn copy(&mut self, src: &'a Buffer, dst: &'a Buffer, size: u64) -> Result<()> {
        self.copy_region(src, 0, dst, 0, size)
    }

    /// Copies `size` bytes from `src` at `src_offset` to `dst` at `dst_offset`.
    pub fn copy_region(
        &mut self,
        src: &'a Buffer,
        src_offset: u64,
        dst: &'a Buffer,
        dst_offset: u64,
        size: u64,
    ) -> Result<()> {
        if src_offset + size > src.size() || dst_offset + size > dst.size() {
            return Err(VkError::Invalid(format!(
                "copy of {size} bytes from '{}'+{src_offset} to '{}'+{dst_offset} out of range",
                src.name(),
                dst.name()
            )));
        }
        if size == 0 {
            return Ok(());
        }
        let region = [vk::BufferCopy::default()
            .src_offset(src_offset)
            .dst_offset(dst_offset)
            .size(size)];
        // SAFETY: recording state; ranges checked.
        unsafe {
            self.ctx
                .device
                .cmd_copy_buffer(self.cmd, src.raw, dst.raw, &region)
        };
        Ok(())
    }

    /// Writes a GPU timestamp after all earlier work (at most 64 per recorder).
    pub fn timestamp(&mut self, label: &str) {
        if self.labels.len() as u32 >= MAX_TIMESTAMPS {
            return;
        }
        // SAFETY: recording state; query index within the pool and reset at begin.
        unsafe {
            self.ctx.device.cmd_write_timestamp(
                self.cmd,
                vk::PipelineStageFlags::BOTTOM_OF_PIPE,
                self.query_pool,
                self.labels.len() as u32,
            )
        };
        self.labels.push(label.to_string());
    }
}

impl Drop for Recorder<'_> {
    fn drop(&mut self) {
        // SAFETY: dropped after submit_and_wait has waited (or never submitted), so the
        // command buffer and query pool are idle.
        unsafe {
            let pool = self
                .ctx
                .command_pool
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            self.ctx.device.free_command_buffers(*pool, &[self.cmd]);
            self.ctx.device.destroy_query_pool(self.query_pool, None);
        }
    }
}
