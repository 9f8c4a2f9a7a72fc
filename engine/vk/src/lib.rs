//! The Vulkan backend of vksplat. Every `unsafe` Vulkan call of the engine lives in this crate.
//!
//! The rest of the engine sees small typed wrappers:
//! - [`Context`]: instance + one device + one compute queue, with no surface or window
//!   extensions, optional validation layers and debug names.
//! - [`Buffer`]: a buffer with its gpu-allocator allocation; freed on drop.
//! - [`ComputePipeline`]: one compute shader whose bindings are all storage buffers
//!   (bound with push descriptors) plus a push-constant block.
//! - [`Recorder`]: records dispatches, fills, copies and barriers into one command buffer that
//!   [`Context::submit`] submits once (a [`Submission`], signalling the context's timeline
//!   semaphore) and [`Context::submit_and_wait`] also waits for.
//! - [`ExternalImage`], [`ExternalBuffer`], [`ExternalSemaphore`]: a host's objects (borrowed
//!   device), wrapped by `unsafe` constructors that state what the host promises.
//! - [`MemoryStats`], [`HostAllocator`]: what device memory a context holds (with an optional
//!   budget), and a host's `VkAllocationCallbacks` for the context's own objects (`memory`).
//! - [`PushConstants`]: a dispatch's push constants, borrowing the buffers whose device
//!   addresses they carry.
//! - [`spirv`]: reflection of a compute shader's interface (bindings, push block, workgroup).
//!
//! Invariants:
//! - Objects hold an `Arc<Context>`, so the device outlives every buffer and pipeline.
//! - All GPU work is submitted to a single queue; each submission signals the next value of
//!   the context's timeline semaphore, and the host reads results only after waiting for that
//!   value. A [`Recorder`] keeps the buffers it references alive until it is submitted,
//!   including the buffers it reaches by device address; after that, dropping a buffer or
//!   pipeline waits for the pending submissions first.
//! - The safe API cannot make the GPU use a freed buffer: raw addresses
//!   ([`Buffer::device_address`]) and unchecked pipelines
//!   ([`Context::create_compute_pipeline`]) are `unsafe fn`; pipelines made by
//!   [`Context::create_checked_pipeline`] read addresses only where a dispatch's
//!   [`PushConstants`] put borrowed ones.
//! - Buffer sizes are never zero: [`Context::create_buffer`] rounds a zero request up to 4 bytes,
//!   so an empty scene still gets valid (unused) bindings.

mod buffer;
mod commands;
mod context;
mod external;
mod memory;
mod pipeline;
mod push;
pub mod spirv;

pub use ash::vk as raw;
pub use buffer::{Buffer, BufferUsage, MemoryLocation, TexelFormat};
pub use commands::{ExternalSemaphore, HostCommandBuffer, Recorder, Submission};
pub use context::{
    requirements, BorrowedDevice, Context, ContextDesc, DeviceChoice, DeviceInfo, DeviceKind,
    Requirements,
};
pub use external::{
    ExternalBuffer, ExternalImage, OwnedImage, COLOR_FORMATS, DEPTH_FORMATS, OCCLUDER_FORMATS,
};
pub use memory::{HostAllocator, MemoryClass, MemoryStats};
pub use pipeline::ComputePipeline;
pub use push::{PushConstants, MAX_PUSH_CONSTANT_SIZE};

/// Errors of the Vulkan backend.
#[derive(Debug, thiserror::Error)]
pub enum VkError {
    #[error("cannot load the Vulkan loader (libvulkan.so.1): {0}; install libvulkan1 and a driver (mesa-vulkan-drivers for the CPU)")]
    Loader(String),
    #[error("no usable Vulkan device: {0}")]
    NoDevice(String),
    #[error("Vulkan call {call} failed: {result:?}")]
    Call {
        call: &'static str,
        result: ash::vk::Result,
    },
    #[error("GPU memory allocation of {size} bytes for '{name}' failed: {message}")]
    Allocation {
        name: String,
        size: u64,
        message: String,
    },
    #[error("invalid request: {0}")]
    Invalid(String),
    /// An allocation would take the context beyond its device-memory budget
    /// ([`Context::set_memory_budget`]); nothing was allocated.
    #[error(
        "device memory budget of {budget} bytes exceeded: '{name}' needs {request} bytes while \
         the context holds {held} bytes ({detail}); free scenes or render smaller frames, or \
         raise the budget"
    )]
    Budget {
        name: String,
        request: u64,
        budget: u64,
        held: u64,
        /// What holds the memory, by class.
        detail: String,
    },
}

impl VkError {
    /// Whether a call failed with `VK_ERROR_DEVICE_LOST`: the device is gone (driver reset,
    /// GPU fault) and nothing more can be done with it.
    pub fn is_device_lost(&self) -> bool {
        matches!(
            self,
            VkError::Call {
                result: ash::vk::Result::ERROR_DEVICE_LOST,
                ..
            }
        )
    }
}

pub type Result<T> = std::result::Result<T, VkError>;

/// Attach the failing call's name to a `vk::Result`.
pub(crate) trait CallExt<T> {
    fn call(self, name: &'static str) -> Result<T>;
}

impl<T> CallExt<T> for std::result::Result<T, ash::vk::Result> {
    fn call(self, name: &'static str) -> Result<T> {
        self.map_err(|result| VkError::Call { call: name, result })
    }
}
