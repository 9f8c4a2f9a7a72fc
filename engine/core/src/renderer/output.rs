//! GPU-side output, asynchronous frames and frames recorded into a host's command buffer.
//!
//! [`Renderer::submit_frame`] records one frame of a list of instances (a single scene is the
//! one identity instance) like every other render call (`stages::record_frame`), but instead
//! of reading the image back it copies it on the GPU into a host's image or buffer
//! ([`GpuTarget`]; or, for hosts without a Vulkan device, into a host-visible buffer read at
//! completion), submits without waiting (after the host's wait semaphores, signalling its
//! signal semaphores and the context's timeline), and returns a [`FrameTicket`].
//! [`Renderer::poll_frame`] and [`Renderer::wait_frame`] report completion.
//!
//! [`Renderer::record_frame`] records the same frame (`record_output`, the one recording of
//! both) into a host's command buffer, which the host submits; see "Recorded frames" below.
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
//!
//! # Recorded frames
//!
//! Numbered 1, 2, … on their own. The host promises that recorded frame n has finished on
//! the GPU before it records frame n + [`FRAMES_IN_FLIGHT`] (and before it destroys a scene
//! the frame uses or the renderer), and submits recorded frames on the context's queue in
//! the order they were recorded (they share the working buffers with every other frame;
//! the full barrier each recording starts with orders them there). Then:
//! - per-frame data (control values, preprocess parameters) travels in the command buffer
//!   (`vkCmdUpdateBuffer`); frame k's slot (k mod [`FRAMES_IN_FLIGHT`]) holds only a small
//!   host-visible copy of its control values, read when the slot is reused or when the host
//!   reports the frame done ([`Renderer::recorded_frame_done`]);
//! - working buffers replaced while recorded frames may still run (a new size, a grown
//!   capacity) are kept until the frames that used them are known finished, never freed
//!   under them (`release_buffers`);
//! - there is no readback inside a frame, so a frame that needed more intersections than
//!   the capacity is clamped on the GPU and reported when its completion is known; the
//!   capacity grows then, for the frames recorded after that: growth is one frame late at
//!   best, [`FRAMES_IN_FLIGHT`] frames late when the host does not report completion. The
//!   first frame of a new scene or image size still runs the sizing pass (a submission on
//!   the context's queue, waited for) so that it starts with room.

use std::collections::VecDeque;

use vksplat_io::Camera;
use vksplat_vk::{
    Buffer, BufferUsage, ExternalBuffer, ExternalImage, ExternalSemaphore, HostCommandBuffer,
    MemoryLocation, Recorder, Submission,
};

use super::frame::{frame_readback_bytes, parse_frame, FrameBuffers, Grow};
use super::instances::check_instances;
use super::stages::{self, Output};
use super::{FrameStats, Instance, Renderer};
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
    /// The host's depth, occluding splats per pixel (`occluder.rs`, `crate::host_depth`).
    pub occluder: Option<super::Occluder<'a>>,
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
    /// Frames recorded into host command buffers.
    recorded: Recorded,
}

/// One recorded frame whose completion is not known yet.
struct RecordedSlot {
    frame: u64,
    /// Its control values, copied at the end of the frame.
    control: Buffer,
    /// The capacity the frame was recorded with.
    capacity: u32,
}

/// The frames recorded into host command buffers ("Recorded frames" in the module docs).
#[derive(Default)]
struct Recorded {
    last_frame: u64,
    /// Every recorded frame up to this one has finished (by the host's promise or report).
    finished: u64,
    slots: [Option<RecordedSlot>; FRAMES_IN_FLIGHT],
    spare: [Option<Buffer>; FRAMES_IN_FLIGHT],
    /// Working buffers replaced while recorded frames up to `.0` may still use them.
    retired: Vec<(u64, FrameBuffers)>,
    done: VecDeque<(u64, FrameOutcome)>,
}

impl Renderer {
    /// Records one frame of `instances` (at least one; a single scene is
    /// `[Instance::of(scene)]`, one global depth order as in `render_instances`) into the
    /// host's targets and submits it without waiting for the GPU (see the module docs for the
    /// waits it may do).
    pub fn submit_frame(
        &mut self,
        instances: &[Instance],
        camera: &Camera,
        settings: &RenderSettings,
        target: &GpuTarget,
    ) -> Result<FrameTicket, CoreError> {
        let n = self.check_output_frame(instances, camera, settings, target)?;
        let (w, h) = (camera.width, camera.height);
        let frame = self.in_flight.last_frame + 1;
        let slot = (frame % FRAMES_IN_FLIGHT as u64) as usize;
        if self.in_flight.slots[slot].is_some() {
            self.retire(slot)?;
        }
        self.prepare_output_buffers(instances, n, camera, settings)?;
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
        let mut rec = self.ctx.begin()?;
        rec.timestamp("start");
        self.record_output(&mut rec, instances, camera, settings, target, &readback)?;
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

    /// Records one frame of `instances` into the host's command buffer `cmd`, with its copies
    /// into the host's targets, and returns its number among the recorded frames (1, 2, …).
    /// The host submits `cmd` on the context's queue, in recording order, and keeps the
    /// promises of the module docs ("Recorded frames"): recorded frame n has finished before
    /// it records frame n + [`FRAMES_IN_FLIGHT`]. The target has no semaphores (the host's
    /// submission carries them) and no host readback. Everything is checked before the first
    /// command is recorded; a later failure (a device limit) can leave part of a frame in
    /// `cmd`, which the host then discards. The first frame of a new scene or image size first
    /// runs the sizing pass on the context's queue and waits for it.
    pub fn record_frame(
        &mut self,
        cmd: &HostCommandBuffer,
        instances: &[Instance],
        camera: &Camera,
        settings: &RenderSettings,
        target: &GpuTarget,
    ) -> Result<u64, CoreError> {
        if target.host_readback || !target.waits.is_empty() || !target.signals.is_empty() {
            return Err(CoreError::InvalidRequest(
                "a frame recorded into the host's command buffer has no semaphores and no host \
                 readback (the host's submission waits and signals; the host reads its targets)"
                    .into(),
            ));
        }
        let n = self.check_output_frame(instances, camera, settings, target)?;
        let frame = self.in_flight.recorded.last_frame + 1;
        let slot = (frame % FRAMES_IN_FLIGHT as u64) as usize;
        // The host promised that frame − FRAMES_IN_FLIGHT (the slot's last) has finished.
        self.recorded_finished(frame.saturating_sub(FRAMES_IN_FLIGHT as u64))?;
        self.prepare_output_buffers(instances, n, camera, settings)?;
        let bytes = CTL_LEN as u64 * 4;
        let control = match self.in_flight.recorded.spare[slot].take() {
            Some(b) => b,
            None => self.ctx.create_buffer(
                &format!("frame.recorded{slot}"),
                bytes,
                BufferUsage::Staging,
                MemoryLocation::GpuToCpu,
            )?,
        };
        let mut rec = self.ctx.record_into(cmd);
        let recorded = self.record_output(&mut rec, instances, camera, settings, target, &control);
        drop(rec);
        if let Err(e) = recorded {
            self.in_flight.recorded.spare[slot] = Some(control);
            return Err(e);
        }
        let r = &mut self.in_flight.recorded;
        r.last_frame = frame;
        r.slots[slot] = Some(RecordedSlot {
            frame,
            control,
            capacity: self.capacity,
        });
        Ok(frame)
    }

    /// The host reports that recorded frame `frame` (and, the frames being submitted in order
    /// on one queue, every recorded frame before it) has finished on the GPU. Returns its
    /// outcome the first time (its intersection count and whether it was clamped, after
    /// which the capacity has grown), `None` after that or when it is long past. Buffers kept
    /// for the finished frames are freed.
    pub fn recorded_frame_done(&mut self, frame: u64) -> Result<Option<FrameOutcome>, CoreError> {
        let last = self.in_flight.recorded.last_frame;
        if frame == 0 || frame > last {
            return Err(CoreError::InvalidRequest(format!(
                "frame {frame} was not recorded (the last recorded frame is {last})"
            )));
        }
        self.recorded_finished(frame)?;
        let done = &mut self.in_flight.recorded.done;
        Ok(done
            .iter()
            .position(|d| d.0 == frame)
            .and_then(|i| done.remove(i))
            .map(|d| d.1))
    }

    /// The number of the last recorded frame (0 before the first).
    pub fn last_recorded_frame(&self) -> u64 {
        self.in_flight.recorded.last_frame
    }

    /// Every recorded frame up to `frame` has finished: reads the control values of those
    /// still in their slots (growing the capacity for a clamped one) and frees the working
    /// buffers only they used.
    fn recorded_finished(&mut self, frame: u64) -> Result<(), CoreError> {
        let r = &mut self.in_flight.recorded;
        r.finished = r.finished.max(frame);
        let finished = r.finished;
        r.retired.retain(|(last_user, _)| *last_user > finished);
        for slot in 0..FRAMES_IN_FLIGHT {
            let r = &mut self.in_flight.recorded;
            if r.slots[slot].as_ref().is_none_or(|s| s.frame > finished) {
                continue;
            }
            let s = r.slots[slot].take().expect("checked above");
            let ctl: Vec<u32> = bytemuck::pod_collect_to_vec(s.control.read(CTL_LEN as usize * 4)?);
            r.spare[slot] = Some(s.control);
            let needed = ctl[CTL_TOTAL_ISECT as usize] as u64;
            let clamped = needed > s.capacity as u64;
            let outcome = FrameOutcome {
                stats: FrameStats {
                    intersections: needed,
                    visible_splats: ctl[CTL_VISIBLE as usize] as u64,
                    attempts: 1,
                    stage_end_ns: Vec::new(),
                    device_bytes: self.ctx.allocated_bytes(),
                },
                clamped,
                frame: None,
            };
            let r = &mut self.in_flight.recorded;
            if r.done.len() == HISTORY {
                r.done.pop_front();
            }
            r.done.push_back((s.frame, outcome));
            if clamped {
                log::warn!(
                    "recorded frame {} needed {needed} tile intersections but {} were \
                     allocated: it was clamped; the capacity grows for the frames recorded next",
                    s.frame,
                    s.capacity
                );
                self.grow_capacity(needed, Grow::Overflowed)?;
            }
        }
        Ok(())
    }

    /// Takes the working buffers out before they are replaced: freed now (a buffer dropped
    /// while vksplat's own submissions run waits for them), or kept until the recorded frames
    /// that may still use them are known finished.
    pub(super) fn release_buffers(&mut self) {
        let Some(old) = self.buffers.take() else {
            return;
        };
        let r = &mut self.in_flight.recorded;
        if r.last_frame > r.finished {
            r.retired.push((r.last_frame, old));
        }
    }

    /// The checks of a GPU-output frame, before anything is allocated or recorded: the
    /// camera and settings, the instances, the frame's sizes and the targets. Returns the
    /// frame's splat count.
    fn check_output_frame(
        &self,
        instances: &[Instance],
        camera: &Camera,
        settings: &RenderSettings,
        target: &GpuTarget,
    ) -> Result<u32, CoreError> {
        self.check_frame_inputs(camera, settings)?;
        let n = check_instances(instances)?;
        let (w, h) = (camera.width, camera.height);
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
        if let Some(o) = &target.occluder {
            self.check_occluder(o, w, h)?;
        }
        Ok(n)
    }

    /// Working buffers for a frame of `instances` (`n` splats): a sizing pass first when the
    /// splat count or image size is new.
    fn prepare_output_buffers(
        &mut self,
        instances: &[Instance],
        n: u32,
        camera: &Camera,
        settings: &RenderSettings,
    ) -> Result<(), CoreError> {
        let (w, h) = (camera.width, camera.height);
        if !self.has_buffers_for(n, w, h) {
            self.sizing_pass(instances, camera, settings)?;
        }
        self.ensure_buffers(n, w, h)?;
        self.ensure_instance_params(instances.len())
    }

    /// The one recording of a GPU-output frame (submitted and recorded frames): the frame's
    /// stages, its control values (and, with host readback, its image) into `readback`, and
    /// the copies into the host's targets.
    fn record_output<'a>(
        &'a self,
        rec: &mut Recorder<'a>,
        instances: &[Instance<'a>],
        camera: &Camera,
        settings: &RenderSettings,
        target: &GpuTarget,
        readback: &'a Buffer,
    ) -> Result<(), CoreError> {
        let buffers = self
            .buffers
            .as_ref()
            .expect("prepare_output_buffers allocated them");
        let out = Output {
            buffer: readback,
            offset: 0,
            image: target.host_readback,
            occluded: target.occluder.is_some(),
        };
        let pixels = camera.width as u64 * camera.height as u64;
        let occluder = match &target.occluder {
            Some(o) => Some((o, self.check_occluder(o, camera.width, camera.height)?)),
            None => None,
        };
        super::occluder::record_occluder(rec, &buffers.occluder, occluder, pixels)?;
        stages::record_frame(
            rec,
            &self.kernels,
            buffers,
            instances,
            None,
            camera,
            settings,
            false,
            out,
            "",
        )?;
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
        Ok(())
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
        instances: &[Instance],
        camera: &Camera,
        settings: &RenderSettings,
    ) -> Result<(), CoreError> {
        let n = check_instances(instances)?;
        let (w, h) = (camera.width, camera.height);
        self.ensure_buffers(n, w, h)?;
        self.ensure_instance_params(instances.len())?;
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
            occluded: false,
        };
        stages::record_frame(
            &mut rec,
            &self.kernels,
            buffers,
            instances,
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
