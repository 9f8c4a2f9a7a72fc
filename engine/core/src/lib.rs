//! vksplat core: the frame pipeline on the GPU and the CPU reference renderer.
//!
//! A frame, top to bottom, is [`renderer::Renderer::render`]: upload-free preprocess → depth
//! sort → scan → key emission → tile sort → tile ranges → blend → readback, recorded into one
//! command buffer (see DESIGN.md §3). [`reference`] implements the same rules on the CPU.

pub mod error;
pub mod gpu_layout;
pub mod reference;
pub mod renderer;
pub mod shaders;
pub mod sort;
pub mod types;

pub use error::{CoreError, ErrorKind};
pub use renderer::{
    DeviceLimits, FrameStats, GpuScene, Renderer, SceneOptions, SceneUpdate, StageOutputs,
    VariantStage,
};
pub use types::{
    Frame, ProjectedSplat, RenderMode, RenderSettings, SceneExtent, SplatExtras, TILE_SIZE,
};
pub use vksplat_vk::{
    Buffer, ComputePipeline, Context, ContextDesc, DeviceChoice, DeviceInfo, VkError,
};
