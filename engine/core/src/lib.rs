//! vksplat core: the frame pipeline on the GPU and the CPU reference renderer.
//!
//! A frame, top to bottom, is [`renderer::Renderer::render`]: upload-free preprocess → depth
//! sort → scan → key emission → tile sort → tile ranges → blend → readback, recorded into one
//! command buffer (see ARCHITECTURE.md, "The frame"). [`reference`] implements the same rules
//! on the CPU.
//!
//! No `unsafe` here: GPU buffers reach shaders through `vksplat_vk`'s safe API (buffer
//! addresses only inside push-constant blocks that borrow their buffers, see
//! [`gpu_layout`]).
//!
//! Features: `test-hooks` adds readbacks of a frame's intermediate stages
//! ([`Renderer::render_with_stages`](renderer::Renderer)), for tests only.

#![forbid(unsafe_code)]

pub mod error;
pub mod gpu_layout;
pub mod host_depth;
pub mod reference;
pub mod renderer;
pub mod shaders;
pub mod sort;
pub mod types;

pub use error::{CoreError, ErrorKind};
pub use host_depth::{DepthConvention, DepthRange};
#[cfg(feature = "test-hooks")]
pub use renderer::StageOutputs;
pub use renderer::{
    DeviceLimits, FrameOutcome, FrameState, FrameStats, FrameTicket, GpuScene, GpuTarget, Instance,
    Renderer, SceneOptions, SceneUpdate, TargetSurface, VariantStage, FRAMES_IN_FLIGHT, IDENTITY,
};
pub use renderer::{Occluder, OccluderSource};
pub use types::{
    DepthKind, Frame, ProjectedSplat, RenderMode, RenderSettings, SceneExtent, SplatExtras,
    TILE_SIZE,
};
pub use vksplat_vk::{
    Buffer, ComputePipeline, Context, ContextDesc, DeviceChoice, DeviceInfo, HostCommandBuffer,
    VkError,
};
