//! GPU-side output and asynchronous frames.
//!
//! [`Renderer::submit_frame`] records one frame like every other render call
//! (`stages::record_frame`), but instead of reading the image back it copies it on the GPU
//! into a host's image or buffer ([`GpuTarget`]; or, for hosts without a Vulkan device, into a
//! host-visible buffer read at completion), submits without waiting (after the host's wait
//! semaphores, signalling its signal semaphores and the context's timeline), and returns a
//! [`FrameTicket`]. [`Renderer::poll_frame`] and [`Renderer::wait_frame`] report completion.
//!
//! Invariants:
//! - Frames are numbered 1, 2, … per renderer; frame k uses slot k mod [`FRAMES_IN_FLIGHT`]
//!   (its command buffer, its host-visible control values and readback). A slot is reused
//!   only after its previous frame's completion is known: submitting frame k waits for frame
//!   k − [`FRAMES_IN_FLIGHT`] if the GPU has not finished it yet (the only wait of a submit,
//!   besides the first frame of a new scene or image size, whose sizing pass is waited for).
//! - Frames in flight share the working buffers: every command buffer starts with a full
//!   barrier (`vksplat_vk`'s recorder), so frames on the one queue run one after another.
//! - The intersection capacity cannot grow during a frame that is already submitted. A frame
//!   that needed more than the capacity is clamped on the GPU (never out of bounds); its
//!   outcome says so (`clamped`), and the capacity grows for the frames submitted after the
//!   host learns it. Nothing is dropped silently.
//! - The host's images and buffers are written only by copies recorded here, with their
//!   layout transitions and barriers (`vksplat_vk::ExternalImage`).

use std::collections::VecDeque;

use vksplat_io::Camera;
use vksplat_vk::{
    Buffer, BufferUsage, ExternalBuffer, ExternalImage, ExternalSemaphore, MemoryLocation,
    Submission,
};

use super::frame::{frame_readback_bytes, parse_frame, Grow};
use super::stages::{self, Output};
use super::{FrameStats, GpuScene, Instance, Renderer};
use crate::error::CoreError;
use crate::gpu_layout::*;
use crate::types::{Frame, RenderSettings};

/// Frames that may be in flight at once (per renderer).
pub const FRAMES_IN_FLIGHT: usize = 2;

/// Outcomes kept for frames whose slot was reused before the host asked about them.
const HISTORY: usize = 16;

/// A host image or buffer that receives a frame's colour (RGBA, 4 × f32 per pixel) or depth
/// (one f32 per pixel), rows top first, tightly packed.
#[derive(Clone, Copy)]
pub enum TargetSurface<'a> {
    Image(&'a ExternalImage<'a>),
    Buffer {
        buffer: &'a ExternalBuffer,
        offset: u64,
    },
}

/// Where a submitted frame goes, and how it is ordered with the host's work.
#[derive(Clone, Copy, Default)]
pub struct GpuTarget<'a> {
    pub color: Option<TargetSurface<'a>>,
    pub depth: Option<TargetSurface<'a>>,
    /// Also read the frame back into host memory: the outcome carries the [`Frame`]
    /// (asynchronous rendering for hosts without a Vulkan device).
    pub host_readback: bool,
    /// Semaphores (and timeline values) the frame waits for before it starts.
    pub waits: &'a [(&'a ExternalSemaphore, u64)],
    /// Semaphores (and timeline values) the frame signals when it is done.
    pub signals: &'a [(&'a ExternalSemaphore, u64)],
}

/// A submitted frame: its number, and the value of the context's timeline semaphore
/// (`Context::timeline_semaphore`) that its completion signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameTicket {
    pub frame: u64,
    pub timeline_value: u64,
}

/// What a finished frame reports.
#[derive(Debug)]
pub struct FrameOutcome {
    pub stats: FrameStats,
    /// The frame needed more intersections than the capacity and was clamped on the GPU: its
    /// image lacks splats. The capacity has grown; render it again.
    pub clamped: bool,
    /// The image, with [`GpuTarget::host_readback`].
    pub frame: Option<Frame>,
}

/// Where a frame stands.
#[derive(Debug)]
pub enum FrameState {
    /// Still running on the GPU.
    Pending,
    /// Finished; the outcome is handed out once (to the first poll or wait that sees it), and
    /// `None` after that or when it was forgotten (more than a few frames ago).
    Done(Option<FrameOutcome>),
}

/// One frame in flight.
struct Slot {
    frame: u64,
    submission: Submission,
    /// Control values, or the whole frame with host readback (the layout of
    /// `frame_readback_bytes`).
    readback: Buffer,
    width: u32,
    height: u32,
    host_readback: bool,
    /// The capacity the frame was recorded with.
    capacity: u32,
}

/// The renderer's frames in flight and the outcomes not yet handed out.
#[derive(Default)]
pub(super) struct InFlight {
    slots: [Option<Slot>; FRAMES_IN_FLIGHT],
    /// Host-visible buffers of finished slots, kept for the next frame of that slot.
    spare: [Option<Buffer>; FRAMES_IN_FLIGHT],
    last_frame: u64,
    done: VecDeque<(u64, FrameOutcome)>,
    /// (frame, timeline value) of the last [`HISTORY`] frames.
    values: VecDeque<(u64, u64)>,
}

impl Renderer {
    /// Records one frame of `scene` into the host's targets and submits it without waiting
    /// for the GPU (see the module docs for the waits it may do).
    pub fn submit_frame(
        &mut self,
        scene: &GpuScene,
        camera: &Camera,
        settings: &RenderSettings,
        target: &GpuTarget,
    ) -> Result<FrameTicket, CoreError> {
        self.check_frame_inputs(camera, settings)?;
        let (n, w, h) = (scene.num_splats, camera.width, camera.height);
        let z = self.frame_sizes(n, w, h);
        self.check_frame_sizes(&z, 1)?;
        if target.color.is_none() && target.depth.is_none() && !target.host_readback {
            return Err(CoreError::InvalidRequest(
                "the frame has no target (a colour or depth image or buffer, or host readback)"
                    .into(),
            ));
        }
        for (surface, depth) in [(target.color, false), (target.depth, true)] {
            match surface {
                Some(TargetSurface::Image(img)) => self
                    .ctx
                    .check_output_image(img, depth, w, h)
                    .map_err(|e| CoreError::InvalidRequest(strip_invalid(e)))?,
                Some(TargetSurface::Buffer { buffer, offset }) => {
                    let bytes = w as u64 * h as u64 * if depth { 4 } else { 16 };
                    let what = if depth { "depth" } else { "colour" };
                    if !offset.is_multiple_of(4) || offset.saturating_add(bytes) > buffer.size() {
                        return Err(CoreError::InvalidRequest(format!(
                            "the {what} buffer holds {} bytes; a {w}x{h} frame needs {bytes} \
                             at offset {offset} (a multiple of 4)",
                            buffer.size()
                        )));
                    }
                }
                None => {}
            }
        }
        let frame = self.in_flight.last_frame + 1;
        let slot = (frame % FRAMES_IN_FLIGHT as u64) as usize;
        if self.in_flight.slots[slot].is_some() {
            self.retire(slot)?;
        }
        if !self.has_buffers_for(n, w, h) {
            self.sizing_pass(scene, camera, settings)?;
        }
        self.ensure_buffers(n, w, h)?;
        let bytes = if target.host_readback {
            frame_readback_bytes(w, h)
        } else {
            CTL_LEN as u64 * 4
        };
        let readback = match self.in_flight.spare[slot].take() {
            Some(b) if b.size() >= bytes => b,
            _ => self.ctx.create_buffer(
                &format!("frame.slot{slot}"),
                bytes,
                BufferUsage::Staging,
                MemoryLocation::GpuToCpu,
            )?,
        };
        let buffers = self
            .buffers
            .as_ref()
            .expect("ensure_buffers allocated them");
        let mut rec = self.ctx.begin()?;
        rec.timestamp("start");
        let out = Output {
            buffer: &readback,
            offset: 0,
            image: target.host_readback,
        };
        stages::record_frame(
            &mut rec,
            &self.kernels,
            buffers,
            &[Instance::of(scene)],
            None,
            camera,
            settings,
            false,
            out,
            "",
        )?;
        let pixels = w as u64 * h as u64;
        match target.color {
            Some(TargetSurface::Image(img)) => rec.copy_to_image(&buffers.out_rgba, 0, img)?,
            Some(TargetSurface::Buffer { buffer, offset }) => {
                rec.copy_to_external_buffer(&buffers.out_rgba, 0, buffer, offset, pixels * 16)?
            }
            None => {}
        }
        match target.depth {
            Some(TargetSurface::Image(img)) => rec.copy_to_image(&buffers.out_depth, 0, img)?,
            Some(TargetSurface::Buffer { buffer, offset }) => {
                rec.copy_to_external_buffer(&buffers.out_depth, 0, buffer, offset, pixels * 4)?
            }
            None => {}
        }
        rec.timestamp("output");
        let submission = self.ctx.submit_with(rec, target.waits, target.signals)?;
        let timeline_value = submission.value();
        self.in_flight.last_frame = frame;
        if self.in_flight.values.len() == HISTORY {
            self.in_flight.values.pop_front();
        }
        self.in_flight.values.push_back((frame, timeline_value));
        self.in_flight.slots[slot] = Some(Slot {
            frame,
            submission,
            readback,
            width: w,
            height: h,
            host_readback: target.host_readback,
            capacity: self.capacity,
        });
        Ok(FrameTicket {
            frame,
            timeline_value,
        })
    }

    /// Where frame `frame` stands, without blocking.
    pub fn poll_frame(&mut self, frame: u64) -> Result<FrameState, CoreError> {
        self.frame_state(frame, false)
    }

    /// Blocks until frame `frame` has finished.
    pub fn wait_frame(&mut self, frame: u64) -> Result<FrameOutcomeOrForgotten, CoreError> {
        match self.frame_state(frame, true)? {
            FrameState::Done(o) => Ok(o),
            FrameState::Pending => unreachable!("a blocking wait returns a finished frame"),
        }
    }

    /// The value of the context's timeline semaphore that frame `frame` signals, for the
    /// last few frames ([`HISTORY`]); an older frame has finished: its value is at most the
    /// timeline's current value, which is returned.
    pub fn frame_timeline_value(&self, frame: u64) -> Result<u64, CoreError> {
        if frame == 0 || frame > self.in_flight.last_frame {
            return Err(CoreError::InvalidRequest(format!(
                "frame {frame} was not submitted (the last submitted frame is {})",
                self.in_flight.last_frame
            )));
        }
        match self.in_flight.values.iter().find(|v| v.0 == frame) {
            Some(v) => Ok(v.1),
            None => Ok(self.ctx.completed_value()?),
        }
    }

    /// The number of the last submitted frame (0 before the first).
    pub fn last_frame(&self) -> u64 {
        self.in_flight.last_frame
    }

    fn frame_state(&mut self, frame: u64, block: bool) -> Result<FrameState, CoreError> {
        if frame == 0 || frame > self.in_flight.last_frame {
            return Err(CoreError::InvalidRequest(format!(
                "frame {frame} was not submitted (the last submitted frame is {})",
                self.in_flight.last_frame
            )));
        }
        if let Some(i) = self.in_flight.done.iter().position(|d| d.0 == frame) {
            let (_, outcome) = self.in_flight.done.remove(i).expect("found above");
            return Ok(FrameState::Done(Some(outcome)));
        }
        let slot = (frame % FRAMES_IN_FLIGHT as u64) as usize;
        let Some(s) = self.in_flight.slots[slot]
            .as_ref()
            .filter(|s| s.frame == frame)
        else {
            return Ok(FrameState::Done(None));
        };
        if !block && !s.submission.is_complete()? {
            return Ok(FrameState::Pending);
        }
        self.retire(slot)?;
        let i = self.in_flight.done.len() - 1;
        let (_, outcome) = self.in_flight.done.remove(i).expect("just retired");
        Ok(FrameState::Done(Some(outcome)))
    }

    /// Waits for the frame in `slot`, reads its control values (and image), grows the
    /// capacity if it was clamped, keeps its outcome and frees the slot for reuse.
    fn retire(&mut self, slot: usize) -> Result<(), CoreError> {
        let Some(s) = self.in_flight.slots[slot].take() else {
            return Ok(());
        };
        let times = s.submission.timestamps()?;
        drop(s.submission);
        let (w, h) = (s.width, s.height);
        let ctl_at = if s.host_readback {
            w as usize * h as usize * 20
        } else {
            0
        };
        let bytes = s.readback.read(ctl_at + CTL_LEN as usize * 4)?;
        let ctl: Vec<u32> = bytemuck::pod_collect_to_vec(&bytes[ctl_at..]);
        let needed = ctl[CTL_TOTAL_ISECT as usize] as u64;
        let clamped = needed > s.capacity as u64;
        let frame = if s.host_readback {
            Some(parse_frame(bytes, w, h)?.0)
        } else {
            None
        };
        let stats = FrameStats {
            intersections: needed,
            visible_splats: ctl[CTL_VISIBLE as usize] as u64,
            attempts: 1,
            stage_end_ns: times,
            device_bytes: self.ctx.allocated_bytes(),
        };
        self.in_flight.spare[slot] = Some(s.readback);
        if self.in_flight.done.len() == HISTORY {
            self.in_flight.done.pop_front();
        }
        self.in_flight.done.push_back((
            s.frame,
            FrameOutcome {
                stats,
                clamped,
                frame,
            },
        ));
        if clamped {
            log::warn!(
                "frame {} needed {needed} tile intersections but {} were allocated: it was \
                 clamped; the capacity grows for later frames",
                s.frame,
                s.capacity
            );
            self.grow_capacity(needed, Grow::Overflowed)?;
        }
        Ok(())
    }

    /// The first frame of a new scene or image size: measures its intersection count (stages
    /// up to the scan), waited for, and sizes the capacity from it.
    fn sizing_pass(
        &mut self,
        scene: &GpuScene,
        camera: &Camera,
        settings: &RenderSettings,
    ) -> Result<(), CoreError> {
        let (n, w, h) = (scene.num_splats, camera.width, camera.height);
        self.ensure_buffers(n, w, h)?;
        let control = self.ctx.create_buffer(
            "frame.sizing",
            CTL_LEN as u64 * 4,
            BufferUsage::Staging,
            MemoryLocation::GpuToCpu,
        )?;
        let buffers = self
            .buffers
            .as_ref()
            .expect("ensure_buffers allocated them");
        let mut rec = self.ctx.begin()?;
        let out = Output {
            buffer: &control,
            offset: 0,
            image: false,
        };
        stages::record_frame(
            &mut rec,
            &self.kernels,
            buffers,
            &[Instance::of(scene)],
            None,
            camera,
            settings,
            true,
            out,
            "",
        )?;
        self.ctx.submit_and_wait(rec)?;
        let ctl: Vec<u32> = bytemuck::pod_collect_to_vec(control.read(CTL_LEN as usize * 4)?);
        self.grow_capacity(ctl[CTL_TOTAL_ISECT as usize] as u64, Grow::Sized)
    }
}

/// A finished frame's outcome, or `None` when it was already handed out or forgotten.
pub type FrameOutcomeOrForgotten = Option<FrameOutcome>;

/// The message of a target check, without the "invalid request" prefix of `VkError::Invalid`.
fn strip_invalid(e: vksplat_vk::VkError) -> String {
    match e {
        vksplat_vk::VkError::Invalid(m) => m,
        e => e.to_string(),
    }
}
