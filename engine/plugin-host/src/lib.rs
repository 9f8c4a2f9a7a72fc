//! The plugin host: finds plugins through their manifests, loads them once (never unloading),
//! negotiates the ABI, and runs their instances on the GPU or CPU path.
//!
//! - [`manifest`]: `NAME.vksplat.json` manifests and the search path (`--plugin-dir`, then
//!   `VKSPLAT_PLUGIN_PATH`); listing never runs plugin code.
//! - [`trust`]: the checks before anything is loaded: the library stays inside its
//!   manifest's directory, and nobody but the owner or root can change the files (a library's
//!   constructors run as soon as it is loaded).
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
pub mod trust;

pub use error::PluginError;
pub use instance::{
    Description, EvalPath, HostSplats, Instance, ParamInfo, ParamType, ParamValue, VariantScene,
};
pub use loader::Plugin;
pub use manifest::{Found, Manifest, SearchPath, MANIFEST_SUFFIX, PLUGIN_PATH_VAR, SHADOWING_RULE};
pub use trust::{Policy, ALLOW_INSECURE_VAR};

use std::sync::Arc;

/// Finds a plugin by name (or manifest path) on a search path and loads it, strictly unless
/// `VKSPLAT_ALLOW_INSECURE_PLUGINS` is set, with warnings on stderr ([`Policy::from_env`]).
pub fn load(search: &SearchPath, name_or_path: &str) -> Result<Arc<Plugin>, PluginError> {
    load_with(search, name_or_path, &Policy::from_env())
}

/// [`load`] under an explicit policy.
pub fn load_with(
    search: &SearchPath,
    name_or_path: &str,
    policy: &Policy,
) -> Result<Arc<Plugin>, PluginError> {
    Plugin::load(&search.find(name_or_path, policy)?, policy)
}
