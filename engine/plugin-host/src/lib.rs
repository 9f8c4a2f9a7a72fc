//! The plugin host: finds plugins through their manifests, loads them once (never unloading),
//! negotiates the ABI, and runs their instances on the GPU or CPU path (DESIGN.md §6).
//!
//! - [`manifest`]: `NAME.vksplat.json` manifests and the search path (`--plugin-dir`, then
//!   `VKSPLAT_PLUGIN_PATH`); listing never runs plugin code.
//! - [`loader`]: libloading, `vksplat_plugin_negotiate`, version and layout checks, the host
//!   function table and the per-thread plugin error message.
//! - [`reflect`]: SPIR-V reflection that validates a plugin shader's bindings, push constants
//!   and workgroup size.
//! - [`instance`]: instances, parameters, and [`VariantScene`], which evaluates a plugin per
//!   frame and renders it.
//!
//! Every error names the plugin; [`PluginError::is_plugin_fault`] separates plugin failures
//! (CLI exit code 4) from engine failures.

pub mod error;
pub mod instance;
pub mod loader;
pub mod manifest;
pub mod reflect;

pub use error::PluginError;
pub use instance::{
    Description, EvalPath, HostSplats, Instance, ParamInfo, ParamType, ParamValue, VariantScene,
};
pub use loader::Plugin;
pub use manifest::{Found, Manifest, SearchPath, MANIFEST_SUFFIX, PLUGIN_PATH_VAR};

use std::sync::Arc;

/// Finds a plugin by name (or manifest path) on a search path and loads it.
pub fn load(search: &SearchPath, name_or_path: &str) -> Result<Arc<Plugin>, PluginError> {
    Plugin::load(&search.find(name_or_path)?)
}
