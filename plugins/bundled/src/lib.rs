//! The plugins shipped in `plugins/`, put beside the vksplat binary when it is built.
//!
//! This crate has no code: `vksplat` depends on it so that building the CLI (`cargo build`,
//! `cargo run -p vksplat`) also builds the bundled plugins, and its build script writes their
//! manifests and libraries into the directory of the binary (`target/<profile>/`), the first
//! of the plugin host's default directories (`vksplat_plugin_host::manifest::default_dirs`).
//! See build.rs for what goes where.

#![forbid(unsafe_code)]

/// The names of the bundled plugins, as `vksplat plugins list` shows them.
pub const BUNDLED: &[&str] = &["skinwave", "dynamic4d", "skinned", "meshbound", "triangle"];
