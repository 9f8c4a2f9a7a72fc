//! The error type of the core crate.

/// Errors of the frame pipeline.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Vulkan(#[from] vksplat_vk::VkError),
    #[error("invalid scene: {0}")]
    InvalidScene(String),
    #[error("invalid camera: {0}")]
    InvalidCamera(String),
    /// A run-time shader did not compile (the message names the shader and line).
    #[error("shader compilation failed: {0}")]
    Shader(String),
    /// The frame or scene does not fit the device (buffer range or memory).
    #[error("too large for this device: {0}")]
    TooLarge(String),
    /// Host memory for something sized by the scene or the image (an upload, a readback, the
    /// frame's copy) could not be allocated; a node with more memory can do it.
    #[error("needs {bytes} bytes of host memory for {what}, which this process cannot allocate")]
    HostMemory {
        /// What needed it, e.g. "a 10000x10000 frame".
        what: String,
        /// The size that could not be allocated.
        bytes: u64,
    },
}

impl CoreError {
    /// A [`CoreError::HostMemory`] for `what` from a failed allocation.
    pub fn host_memory(what: impl Into<String>, e: vksplat_io::memory::AllocError) -> Self {
        CoreError::HostMemory {
            what: what.into(),
            bytes: e.bytes,
        }
    }
}
