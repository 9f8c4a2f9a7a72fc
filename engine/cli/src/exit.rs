//! The documented process exit codes (README, "Exit codes").
//!
//! Render farms branch on these, so their values never change; a new failure class gets a new
//! number. [`HELP`] is the same table as shown by `vksplat --help`.

/// The command did what was asked.
pub const OK: i32 = 0;
/// Rendering failed (a Vulkan error, a frame too large for the device, validation errors).
pub const RENDER: i32 = 1;
/// Bad command line: unknown flag, bad value, camera index out of range, unknown output extension.
pub const USAGE: i32 = 2;
/// An input (scene, camera or `render --occluder` depth file) is missing, unreadable or invalid.
pub const INPUT: i32 = 3;
/// A plugin could not be found, loaded or negotiated (ABI version or layout), failed or
/// panicked in a call, has a bad shader, produced non-finite splats, or got a bad `--param`.
pub const PLUGIN: i32 = 4;
/// No usable Vulkan device: no loader, no driver, a broken driver manifest, or only
/// CPU/software devices for `--device gpu`.
pub const NO_DEVICE: i32 = 5;
/// The output cannot be written (read-only or uncreatable directory, disk full, file-size
/// limit, a name longer than 255 bytes, a directory or special file at the output path).
pub const OUTPUT: i32 = 6;
/// Not enough host memory for a well-formed input or the requested image (the message says
/// how many bytes): a bigger node can run the same command.
pub const MEMORY: i32 = 7;
/// The Vulkan device was lost (driver reset, GPU fault or removal): the node or its driver
/// is at fault, not the job; retry elsewhere.
pub const DEVICE_LOST: i32 = 8;
/// Stopped by a signal: 128 + the signal number (129 SIGHUP, 130 SIGINT, 143 SIGTERM).
/// `render` finishes the frames in flight first (a `--skip-existing` rerun completes the
/// set); `convert` and `bench` stop at once. No partial or temporary file is left.
pub const INTERRUPTED_BASE: i32 = 128;

/// The exit-code table for `--help`.
pub const HELP: &str = "\
Exit codes:
  0  success
  1  render failure (Vulkan error, frame too large for the device, validation errors)
  2  usage error (bad flag or value, camera index out of range, unknown output extension)
  3  unreadable or invalid input (scene, camera or --occluder depth file)
  4  plugin or ABI error (plugin missing, incompatible, failing, bad shader or output, bad --param)
  5  no usable Vulkan device (no loader or driver, broken driver manifest, or only CPU
     devices for --device gpu)
  6  output not writable (read-only directory, disk full, file size limit, name longer
     than 255 bytes, a directory or FIFO/device at the output path)
  7  not enough host memory for the input or the image (the message says how much)
  8  the Vulkan device was lost (driver reset or GPU fault): retry on another node
  129, 130, 143  stopped by SIGHUP, SIGINT, SIGTERM (128 + signal); render finishes the
            frames in flight first (rerun with --skip-existing to finish), convert and
            bench stop at once; no partial or temporary file is left

Errors, also argument errors, are printed to stderr as one line starting with 'ERROR: ' that
names the file and the problem (with --log-format json/openjd also as an error event or an
openjd_fail line on stdout); warnings and messages also go to stderr. stdout carries only
data: info, devices, and render's progress (PROGRESS/ALF_PROGRESS lines, or --log-format
json/openjd).";
