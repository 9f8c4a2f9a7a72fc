//! The plugin host: finds plugins through their manifests, loads them once (never unloading),
//! negotiates the ABI, and runs their instances on the GPU or CPU path.
//!
//! - [`manifest`]: `NAME.vksplat.json` manifests and the search path (`--plugin-dir`, then
//!   `VKSPLAT_PLUGIN_PATH`); listing never runs plugin code.
//! - [`mod@detect`]: which plugin reads a file, from the manifests' `"reads"` (no plugin code
//!   runs), for faces that are given a file and no plugin.
//! - [`trust`]: the checks before anything is loaded: the library stays inside its
//!   manifest's directory, and nobody but the owner or root can change the files (a library's
//!   constructors run as soon as it is loaded).
//! - [`loader`]: libloading, `vksplat_plugin_negotiate`, version and layout checks, the host
//!   function table and the per-thread plugin error message.
//! - [`reflect`]: SPIR-V reflection that validates a plugin shader's bindings, push constants
//!   and workgroup size.
//! - [`instance`] and [`params`]: plugin instances, their description and parameters.
//! - [`variant`]: [`VariantScene`], which evaluates a plugin per frame (CPU path in
//!   `cpu_path.rs`, GPU stage in `gpu_stage.rs`, readbacks in `readback.rs`) and renders it.
//! - [`scene`]: [`Scene`], the one scene model every face renders: static splats (a file or
//!   host arrays) or a plugin's variant scene, with one `render_many(views, time)`.
//!
//! Every error names the plugin; [`PluginError::is_plugin_fault`] separates plugin failures
//! (CLI exit code 4) from engine failures.

mod cpu_path;
pub mod detect;
pub mod error;
mod gpu_stage;
pub mod instance;
pub mod loader;
pub mod manifest;
pub mod params;
mod readback;
pub mod reflect;
pub mod scene;
pub mod trust;
pub mod variant;

pub use cpu_path::HostSplats;
pub use detect::detect;
pub use error::PluginError;
pub use instance::{Description, InitialData, Instance};
pub use loader::Plugin;
pub use manifest::{Found, Manifest, SearchPath, MANIFEST_SUFFIX, PLUGIN_PATH_VAR, SHADOWING_RULE};
pub use params::{ParamInfo, ParamType, ParamValue};
pub use scene::Scene;
pub use trust::{Policy, ALLOW_INSECURE_VAR};
pub use variant::{EvalPath, VariantScene};

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
