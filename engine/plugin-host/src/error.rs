//! The error type of the plugin host.

use vksplat_abi::*;
use vksplat_core::CoreError;

/// What went wrong, and whose fault it is. Every message names the plugin.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// No manifest of that name on the search path, or an unreadable/invalid manifest.
    #[error("{0}")]
    NotFound(String),
    /// Loading the plugin would trust a file others can change, or a library outside its
    /// manifest's directory; nothing was loaded.
    #[error("{0}")]
    Untrusted(String),
    /// The plugin speaks another ABI version or layout, or its function table is too small.
    #[error("{0}")]
    Abi(String),
    /// The library could not be loaded, lacks the entry point, or a plugin call failed.
    #[error("{0}")]
    Plugin(String),
    /// A plugin call panicked (caught by the plugin SDK).
    #[error("{0}")]
    Panic(String),
    /// The plugin's shader did not compile or breaks the stage's rules.
    #[error("{0}")]
    Shader(String),
    /// The plugin produced non-finite splat values.
    #[error("{0}")]
    InvalidOutput(String),
    /// A parameter value given by the user is invalid.
    #[error("{0}")]
    Param(String),
    /// The engine failed (not the plugin's fault).
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl PluginError {
    /// The C API result code for this error.
    pub fn code(&self) -> VksplatResult {
        match self {
            PluginError::NotFound(_) | PluginError::Untrusted(_) | PluginError::Plugin(_) => {
                VKSPLAT_ERROR_PLUGIN
            }
            PluginError::Abi(_) => VKSPLAT_ERROR_ABI,
            PluginError::Panic(_) => VKSPLAT_ERROR_PANIC,
            PluginError::Shader(_) => VKSPLAT_ERROR_SHADER,
            PluginError::InvalidOutput(_) => VKSPLAT_ERROR_INVALID_OUTPUT,
            PluginError::Param(_) => VKSPLAT_ERROR_INVALID_ARGUMENT,
            PluginError::Core(e) => core_code(e),
        }
    }

    /// True when the plugin (or its manifest, ABI or parameters) is at fault rather than the
    /// engine: the CLI's exit code 4.
    pub fn is_plugin_fault(&self) -> bool {
        !matches!(self, PluginError::Core(_))
    }
}

/// The C API result code of a core error.
pub fn core_code(e: &CoreError) -> VksplatResult {
    match e {
        CoreError::Vulkan(vksplat_vk::VkError::Loader(_) | vksplat_vk::VkError::NoDevice(_)) => {
            VKSPLAT_ERROR_NO_DEVICE
        }
        CoreError::Vulkan(_) => VKSPLAT_ERROR_VULKAN,
        CoreError::InvalidScene(_) | CoreError::InvalidCamera(_) => VKSPLAT_ERROR_INVALID_INPUT,
        CoreError::Shader(_) => VKSPLAT_ERROR_SHADER,
        CoreError::TooLarge(_) => VKSPLAT_ERROR_TOO_LARGE,
        CoreError::HostMemory { .. } => VKSPLAT_ERROR_OUT_OF_MEMORY,
    }
}
