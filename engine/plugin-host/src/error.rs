//! The error type of the plugin host.

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
    /// Several plugins declare that they read the same file: the user must name one (a usage
    /// error, CLI exit code 2).
    #[error("{0}")]
    Ambiguous(String),
    /// The engine failed (not the plugin's fault).
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl PluginError {
    /// True when the plugin (or its manifest, ABI or parameters) is at fault rather than the
    /// engine or the user's choice of plugin: the CLI's exit code 4. (Result codes are the C
    /// API's: it maps the variants and, for `Core`, `CoreError::kind()`.)
    pub fn is_plugin_fault(&self) -> bool {
        !matches!(self, PluginError::Core(_) | PluginError::Ambiguous(_))
    }
}
