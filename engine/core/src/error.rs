//! The error type of the core crate, and its classification.
//!
//! Faces never match on variants or messages to decide what a failure means: they call
//! [`CoreError::kind`] and map the [`ErrorKind`] to their own codes (the CLI to exit codes, the
//! C API to result codes). A new variant gets a kind here, once.

/// Errors of the frame pipeline.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Vulkan(#[from] vksplat_vk::VkError),
    #[error("invalid scene: {0}")]
    InvalidScene(String),
    #[error("invalid camera: {0}")]
    InvalidCamera(String),
    /// A request that cannot be honoured: a GPU-side output target or an asynchronous frame
    /// (wrong format or size, a frame index never submitted), or a frame's instances (a
    /// transform that is not affine and invertible, an opacity outside 0..=1).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
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

/// The class of a [`CoreError`]: whose fault it is and what can be done about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The scene or camera is invalid (the caller's input).
    InvalidInput,
    /// No usable Vulkan device or loader.
    NoDevice,
    /// The device was lost (driver reset, GPU fault): the node is at fault.
    DeviceLost,
    /// Any other Vulkan failure while rendering.
    Vulkan,
    /// A run-time shader did not compile.
    Shader,
    /// The scene or frame does not fit the device.
    TooLarge,
    /// Not enough host memory for something sized by the scene or image, or more device
    /// memory than the context's budget allows.
    HostMemory,
}

impl CoreError {
    /// The class of this error (see the module docs).
    pub fn kind(&self) -> ErrorKind {
        match self {
            CoreError::Vulkan(v) if v.is_device_lost() => ErrorKind::DeviceLost,
            // The context's device-memory budget: like host memory, the same call succeeds
            // with more of it.
            CoreError::Vulkan(vksplat_vk::VkError::Budget { .. }) => ErrorKind::HostMemory,
            CoreError::Vulkan(
                vksplat_vk::VkError::Loader(_) | vksplat_vk::VkError::NoDevice(_),
            ) => ErrorKind::NoDevice,
            CoreError::Vulkan(_) => ErrorKind::Vulkan,
            CoreError::InvalidScene(_)
            | CoreError::InvalidCamera(_)
            | CoreError::InvalidRequest(_) => ErrorKind::InvalidInput,
            CoreError::Shader(_) => ErrorKind::Shader,
            CoreError::TooLarge(_) => ErrorKind::TooLarge,
            CoreError::HostMemory { .. } => ErrorKind::HostMemory,
        }
    }

    /// A [`CoreError::HostMemory`] for `what` from a failed allocation.
    pub fn host_memory(what: impl Into<String>, e: vksplat_io::memory::AllocError) -> Self {
        CoreError::HostMemory {
            what: what.into(),
            bytes: e.bytes,
        }
    }
}
