//! Command recording and submission.
//!
//! A [`Recorder`] borrows every buffer and pipeline it records for its whole life (`'a`), so
//! none can be dropped before it is submitted. That includes buffers reached by device
//! address: they come in [`PushConstants`] of the same lifetime. Submission does not wait
//! ([`Context::submit`] returns a [`Submission`]; [`Context::submit_and_wait`] waits for it):
//! every submission signals the next value of the context's timeline semaphore, and a buffer
//! or pipeline dropped while submissions are pending first waits for the last one
//! (`Context::wait_for_pending`), so no submitted work can use a freed object.
//!
//! Every command buffer starts with a full memory barrier: submissions on the one queue are
//! ordered, so that barrier orders a frame after the frames still in flight before it (they
//! share the working buffers).
//!
//! A recorder can also record into a host's command buffer ([`Context::record_into`],
//! [`HostCommandBuffer`]): the same commands and first barrier, no timestamps; the host
//! submits it, so the host's `unsafe` promise keeps the recorded objects alive.

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use ash::vk;

use crate::{Buffer, CallExt, ComputePipeline, Context, PushConstants, Result, VkError};

const MAX_TIMESTAMPS: u32 = 64;

/// Records one command buffer.
pub struct Recorder<'a> {
    pub(crate) ctx: Arc<Context>,
    pub(crate) cmd: vk::CommandBuffer,
    query_pool: vk::QueryPool,
    labels: Vec<String>,
    /// vksplat allocated the command buffer (and submits and frees it); false for a host's
    /// command buffer ([`Context::record_into`]), which the host ends, submits and frees.
    owned: bool,
    _borrows: PhantomData<&'a ()>,
}

/// A host's command buffer that vksplat records commands into; the host ends, submits and
/// frees it ([`Context::record_into`]).
#[derive(Clone, Copy, Debug)]
pub struct HostCommandBuffer {
    raw: vk::CommandBuffer,
}

impl HostCommandBuffer {
    /// # Safety
    ///
    /// `raw` is a primary command buffer of the context's device, allocated from a pool of
    /// the context's queue family and in the recording state; no other thread uses it or its
    /// pool while vksplat records into it; and every object vksplat records into it (its
    /// buffers and pipelines, the host's images and buffers) stays valid until the host's
    /// submission of it has completed. vksplat's own objects are kept that long by the
    /// caller's frame contract (`vksplat_core`'s recorded frames: the host finishes frame n
    /// before recording frame n + frames in flight, and before destroying scenes or the
    /// context).
    pub unsafe fn from_raw(raw: vk::CommandBuffer) -> Self {
        HostCommandBuffer { raw }
    }
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
        let query_pool =
            match unsafe { self.device.create_query_pool(&qinfo, self.host_callbacks()) } {
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
        let mut rec = Recorder {
            ctx: self.clone(),
            cmd,
            query_pool,
            labels: Vec::new(),
            owned: true,
            _borrows: PhantomData,
        };
        rec.barrier_all();
        Ok(rec)
    }

    /// Records into a host's command buffer. It starts with the same full barrier as
    /// [`Context::begin`] (so the commands run after everything before them on the queue);
    /// it has no timestamps; [`Context::submit_with`] refuses it; dropping the recorder
    /// leaves the command buffer to the host, still recording.
    pub fn record_into<'a>(self: &Arc<Self>, cmd: &HostCommandBuffer) -> Recorder<'a> {
        let mut rec = Recorder {
            ctx: self.clone(),
            cmd: cmd.raw,
            query_pool: vk::QueryPool::null(),
            labels: Vec::new(),
            owned: false,
            _borrows: PhantomData,
        };
        rec.barrier_all();
        rec
    }

    /// Submits the recorded commands, waits for them, and returns the GPU timestamps recorded
    /// with [`Recorder::timestamp`] as (label, nanoseconds since the first timestamp).
    pub fn submit_and_wait(&self, rec: Recorder<'_>) -> Result<Vec<(String, f64)>> {
        self.submit(rec)?.timestamps()
    }

    /// Submits the recorded commands without waiting.
    pub fn submit(&self, rec: Recorder<'_>) -> Result<Submission> {
        self.submit_with(rec, &[], &[])
    }

    /// Submits the recorded commands without waiting, after the GPU has reached each of
    /// `waits` (semaphore, value; binary semaphores ignore the value) and signalling each of
    /// `signals` when done, besides the context's own timeline.
    pub fn submit_with(
        &self,
        rec: Recorder<'_>,
        waits: &[(&ExternalSemaphore, u64)],
        signals: &[(&ExternalSemaphore, u64)],
    ) -> Result<Submission> {
        if !rec.owned {
            return Err(VkError::Invalid(
                "a host's command buffer is submitted by the host, not by vksplat".into(),
            ));
        }
        let dev = &self.device;
        let cmd = rec.cmd;
        // SAFETY: cmd is in the recording state.
        unsafe { dev.end_command_buffer(cmd) }.call("vkEndCommandBuffer")?;
        let wait_sems: Vec<vk::Semaphore> = waits.iter().map(|w| w.0.raw).collect();
        let wait_values: Vec<u64> = waits.iter().map(|w| w.1).collect();
        let wait_stages = vec![vk::PipelineStageFlags::ALL_COMMANDS; waits.len()];
        let mut signal_sems: Vec<vk::Semaphore> = signals.iter().map(|s| s.0.raw).collect();
        let mut signal_values: Vec<u64> = signals.iter().map(|s| s.1).collect();
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let value = self.submitted.load(Ordering::SeqCst) + 1;
        signal_sems.push(self.timeline);
        signal_values.push(value);
        let mut timeline_info = vk::TimelineSemaphoreSubmitInfo::default()
            .wait_semaphore_values(&wait_values)
            .signal_semaphore_values(&signal_values);
        let cmds = [cmd];
        let submit = [vk::SubmitInfo::default()
            .command_buffers(&cmds)
            .wait_semaphores(&wait_sems)
            .wait_dst_stage_mask(&wait_stages)
            .signal_semaphores(&signal_sems)
            .push_next(&mut timeline_info)];
        // SAFETY: the queue lock is held (external synchronisation); the semaphores are the
        // context's timeline and host semaphores whose validity `ExternalSemaphore::from_raw`
        // promised; the command buffer and query pool are freed only after the submission's
        // value is reached (Submission's Drop).
        let result = unsafe { dev.queue_submit(*queue, &submit, vk::Fence::null()) };
        if let Err(e) = result {
            // The recorder's Drop frees the never-submitted command buffer.
            return Err(VkError::Call {
                call: "vkQueueSubmit",
                result: e,
            });
        }
        self.submitted.store(value, Ordering::SeqCst);
        drop(queue);
        let rec = ManuallyDrop::new(rec);
        Ok(Submission {
            // SAFETY: `rec` is never used or dropped again; its fields move into the submission.
            ctx: unsafe { std::ptr::read(&rec.ctx) },
            cmd: rec.cmd,
            query_pool: rec.query_pool,
            // SAFETY: as above.
            labels: unsafe { std::ptr::read(&rec.labels) },
            value,
        })
    }

    /// Waits for every pending submission before an object they may use is destroyed.
    pub(crate) fn wait_for_pending(&self) {
        let _ = self.wait_for(self.submitted.load(Ordering::SeqCst));
    }
}

/// A host's semaphore that submissions wait on or signal.
#[derive(Clone, Copy, Debug)]
pub struct ExternalSemaphore {
    raw: vk::Semaphore,
}

impl ExternalSemaphore {
    /// # Safety
    ///
    /// `raw` is a semaphore of the context's device that stays valid until every submission
    /// that names it has completed; the host keeps the semaphore's rules (a binary semaphore
    /// is signalled before a wait on it is submitted; a timeline's values only increase).
    pub unsafe fn from_raw(raw: vk::Semaphore) -> Self {
        ExternalSemaphore { raw }
    }
}

/// Submitted work: its timeline value, and its command buffer and timestamps, which are freed
/// (after waiting for it) on drop.
pub struct Submission {
    ctx: Arc<Context>,
    cmd: vk::CommandBuffer,
    query_pool: vk::QueryPool,
    labels: Vec<String>,
    value: u64,
}

impl Submission {
    /// The value of the context's timeline semaphore that this submission signals.
    pub fn value(&self) -> u64 {
        self.value
    }

    /// Whether the GPU has finished this submission (does not block).
    pub fn is_complete(&self) -> Result<bool> {
        if self.ctx.completed.load(Ordering::SeqCst) >= self.value {
            return Ok(true);
        }
        Ok(self.ctx.completed_value()? >= self.value)
    }

    /// Blocks until the GPU has finished this submission.
    pub fn wait(&self) -> Result<()> {
        self.ctx.wait_for(self.value)
    }

    /// Waits for the submission, then returns its timestamps as (label, nanoseconds since the
    /// first timestamp).
    pub fn timestamps(&self) -> Result<Vec<(String, f64)>> {
        self.wait()?;
        let mut times = Vec::new();
        if self.labels.is_empty() {
            return Ok(times);
        }
        let mut raw = vec![0u64; self.labels.len()];
        // SAFETY: the submission has completed; the queries were reset and written by it.
        unsafe {
            self.ctx.device.get_query_pool_results(
                self.query_pool,
                0,
                &mut raw,
                vk::QueryResultFlags::TYPE_64 | vk::QueryResultFlags::WAIT,
            )
        }
        .call("vkGetQueryPoolResults")?;
        let period = self.ctx.info().timestamp_period_ns as f64;
        for (label, t) in self.labels.iter().zip(&raw) {
            times.push((label.clone(), (t.wrapping_sub(raw[0])) as f64 * period));
        }
        Ok(times)
    }
}

impl Drop for Submission {
    fn drop(&mut self) {
        // A failed wait means a lost device: its objects may be freed then.
        let _ = self.wait();
        // SAFETY: the submission has completed (or the device is lost), so its command
        // buffer and query pool are idle.
        unsafe {
            let pool = self
                .ctx
                .command_pool
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            self.ctx.device.free_command_buffers(*pool, &[self.cmd]);
            self.ctx
                .device
                .destroy_query_pool(self.query_pool, self.ctx.host_callbacks());
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
        let (floats, uints) = (pipeline.texel_bindings, pipeline.uint_texel_bindings);
        let texels = floats | uints;
        let views: Vec<[vk::BufferView; 1]> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let bit = if i < 32 { 1u32 << i } else { 0 };
                Ok([match (floats & bit != 0, uints & bit != 0) {
                    (true, _) => b.texel_view(crate::TexelFormat::Rgba32Float)?,
                    (_, true) => b.texel_view(crate::TexelFormat::Rgba32Uint)?,
                    _ => vk::BufferView::null(),
                }])
            })
            .collect::<Result<_>>()?;
        let writes: Vec<vk::WriteDescriptorSet> = infos
            .iter()
            .zip(&views)
            .enumerate()
            .map(|(i, (info, view))| {
                let write = vk::WriteDescriptorSet::default()
                    .dst_binding(i as u32)
                    .descriptor_type(crate::pipeline::descriptor_type(texels, i as u32));
                if view[0] == vk::BufferView::null() {
                    write.buffer_info(info)
                } else {
                    write.texel_buffer_view(view)
                }
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

    /// Orders everything after it behind everything before it on the queue, earlier
    /// submissions included (the first command of every recorder).
    fn barrier_all(&mut self) {
        let barrier = [vk::MemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::MEMORY_WRITE)
            .dst_access_mask(vk::AccessFlags::MEMORY_READ | vk::AccessFlags::MEMORY_WRITE)];
        // SAFETY: recording state.
        unsafe {
            self.ctx.device.cmd_pipeline_barrier(
                self.cmd,
                vk::PipelineStageFlags::ALL_COMMANDS,
                vk::PipelineStageFlags::ALL_COMMANDS,
                vk::DependencyFlags::empty(),
                &barrier,
                &[],
                &[],
            )
        };
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
    /// A host's command buffer has none ([`Context::record_into`]).
    pub fn timestamp(&mut self, label: &str) {
        if self.labels.len() as u32 >= MAX_TIMESTAMPS || self.query_pool == vk::QueryPool::null() {
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
        if !self.owned {
            return; // the host's command buffer
        }
        // SAFETY: a recorder that was submitted became a Submission without dropping, so
        // this one was never submitted: its command buffer and query pool are idle.
        unsafe {
            let pool = self
                .ctx
                .command_pool
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            self.ctx.device.free_command_buffers(*pool, &[self.cmd]);
            self.ctx
                .device
                .destroy_query_pool(self.query_pool, self.ctx.host_callbacks());
        }
    }
}
