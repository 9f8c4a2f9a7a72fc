//! The documented process exit codes (DESIGN.md §8).
//!
//! Render farms branch on these, so their values never change; a new failure class gets a new
//! number. [`HELP`] is the same table as shown by `vksplat --help`.

/// The command did what was asked.
pub const OK: i32 = 0;
/// Rendering failed (a Vulkan error, a frame too large for the device, validation errors).
pub const RENDER: i32 = 1;
/// Bad command line: unknown flag, bad value, camera index out of range, unknown output extension.
pub const USAGE: i32 = 2;
/// An input (scene or camera file) is missing, unreadable or invalid.
pub const INPUT: i32 = 3;
/// A plugin could not be loaded or has an incompatible ABI (reserved; no plugins in this CLI yet).
#[allow(dead_code)]
pub const PLUGIN: i32 = 4;
/// No usable Vulkan device (or no Vulkan loader).
pub const NO_DEVICE: i32 = 5;
/// The output cannot be written (missing or read-only directory, disk full).
pub const OUTPUT: i32 = 6;

/// The exit-code table for `--help`.
pub const HELP: &str = "\
Exit codes:
  0  success
  1  render failure (Vulkan error, frame too large for the device, validation errors)
  2  usage error (bad flag or value, camera index out of range, unknown output extension)
  3  unreadable or invalid input (scene or camera file)
  4  plugin or ABI error (reserved)
  5  no usable Vulkan device (or no Vulkan loader)
  6  output not writable

Errors are printed to stderr as one line starting with 'error: ' that names the file and the
problem; progress and warnings also go to stderr, stdout carries only data (info, devices).";
