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
}
