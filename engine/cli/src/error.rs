//! The CLI's error type and its classification into exit codes.
//!
//! Every failure of a command is a [`CliError`]; its variant alone decides the exit code
//! ([`CliError::exit_code`]), and its message is printed verbatim after `ERROR: `. Messages name
//! the file concerned first (`path: problem`), as the `vksplat-io` errors already do.
//!
//! Conversions from the engine's errors live here and only here:
//! - `IoError::Input` → [`CliError::Input`] (3), `IoError::Output` → [`CliError::Output`] (6),
//!   `IoError::OutOfMemory` → [`CliError::Memory`] (7);
//! - `VkError::Loader` / `VkError::NoDevice` → [`CliError::NoDevice`] (5), a call that returned
//!   `VK_ERROR_DEVICE_LOST` → [`CliError::DeviceLost`] (8), other Vulkan errors →
//!   [`CliError::Render`] (1);
//! - `CoreError::InvalidScene` / `InvalidCamera` → [`CliError::Input`] (3),
//!   `CoreError::TooLarge` → [`CliError::Render`] (1), `CoreError::HostMemory` →
//!   [`CliError::Memory`] (7) — see [`CliError::from_core`].

use std::fmt;
use std::path::Path;

use vksplat_core::{CoreError, ErrorKind};
use vksplat_io::IoError;
use vksplat_vk::VkError;

use crate::exit;

/// A failed command, classified by exit code.
#[derive(Debug)]
pub enum CliError {
    /// Rendering failed: exit 1.
    Render(String),
    /// Bad command line: exit 2.
    Usage(String),
    /// Unreadable or invalid scene or camera: exit 3.
    Input(String),
    /// A plugin or ABI failure (the message names the plugin): exit 4.
    Plugin(String),
    /// No usable Vulkan device: exit 5.
    NoDevice(String),
    /// Output not writable: exit 6.
    Output(String),
    /// Not enough host memory: exit 7.
    Memory(String),
    /// The Vulkan device was lost: exit 8.
    DeviceLost(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Render(_) => exit::RENDER,
            CliError::Usage(_) => exit::USAGE,
            CliError::Input(_) => exit::INPUT,
            CliError::Plugin(_) => exit::PLUGIN,
            CliError::NoDevice(_) => exit::NO_DEVICE,
            CliError::Output(_) => exit::OUTPUT,
            CliError::Memory(_) => exit::MEMORY,
            CliError::DeviceLost(_) => exit::DEVICE_LOST,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            CliError::Render(m)
            | CliError::Usage(m)
            | CliError::Input(m)
            | CliError::Plugin(m)
            | CliError::NoDevice(m)
            | CliError::Output(m)
            | CliError::Memory(m)
            | CliError::DeviceLost(m) => m,
        }
    }

    /// Classifies a core error. `scene` and `camera` name the inputs of the frame so that an
    /// invalid-input message says which file is at fault; `camera` is `None` for the automatic
    /// camera.
    pub fn from_core(e: CoreError, scene: &Path, camera: Option<&Path>) -> Self {
        let kind = e.kind();
        let message = match e {
            // VkError carries its own classification (also used where no CoreError exists).
            CoreError::Vulkan(v) => return v.into(),
            CoreError::InvalidScene(m) => format!("{}: invalid scene: {m}", scene.display()),
            CoreError::InvalidCamera(m) => match camera {
                Some(path) => format!("{}: invalid camera: {m}", path.display()),
                None => format!("automatic camera: invalid camera: {m}"),
            },
            CoreError::Shader(m) => format!("shader: {m}"),
            // Submitted frames and GPU-side output are C API requests; the CLI makes none.
            e @ CoreError::InvalidRequest(_) => e.to_string(),
            CoreError::TooLarge(m) => format!(
                "{}: scene or frame too large for this device: {m}",
                scene.display()
            ),
            e @ CoreError::HostMemory { .. } => format!("{}: {e}", scene.display()),
        };
        match kind {
            ErrorKind::InvalidInput => CliError::Input(message),
            ErrorKind::HostMemory => CliError::Memory(message),
            ErrorKind::NoDevice => CliError::NoDevice(message),
            ErrorKind::DeviceLost => CliError::DeviceLost(message),
            ErrorKind::Vulkan | ErrorKind::Shader | ErrorKind::TooLarge => {
                CliError::Render(message)
            }
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for CliError {}

impl From<IoError> for CliError {
    fn from(e: IoError) -> Self {
        match e {
            IoError::Input { .. } => CliError::Input(e.to_string()),
            IoError::Output { .. } => CliError::Output(e.to_string()),
            IoError::OutOfMemory { .. } => CliError::Memory(e.to_string()),
        }
    }
}

impl From<VkError> for CliError {
    fn from(e: VkError) -> Self {
        match e {
            VkError::Loader(_) | VkError::NoDevice(_) => CliError::NoDevice(e.to_string()),
            e if e.is_device_lost() => CliError::DeviceLost(format!("Vulkan: {e}")),
            other => CliError::Render(format!("Vulkan: {other}")),
        }
    }
}

/// Writing to stdout failed (closed pipe, full disk): an output error.
pub fn stdout_error(e: std::io::Error) -> CliError {
    CliError::Output(format!("<stdout>: cannot write: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn call(result: ash::vk::Result) -> VkError {
        VkError::Call {
            call: "vkWaitForFences",
            result,
        }
    }

    #[test]
    fn exit_codes_of_engine_errors() {
        let scene = Path::new("scene.ply");
        // A lost device has its own code wherever it surfaces, also inside a core error from
        // the render path.
        let lost = CliError::from_core(
            CoreError::Vulkan(call(ash::vk::Result::ERROR_DEVICE_LOST)),
            scene,
            None,
        );
        assert_eq!(lost.exit_code(), exit::DEVICE_LOST);
        assert!(lost.message().contains("ERROR_DEVICE_LOST"), "{lost}");
        assert_eq!(
            CliError::from(call(ash::vk::Result::ERROR_DEVICE_LOST)).exit_code(),
            exit::DEVICE_LOST
        );
        // Other failed calls are render failures; no driver is "no device".
        let oom = CliError::from_core(
            CoreError::Vulkan(call(ash::vk::Result::ERROR_OUT_OF_DEVICE_MEMORY)),
            scene,
            None,
        );
        assert_eq!(oom.exit_code(), exit::RENDER);
        assert_eq!(
            CliError::from(VkError::NoDevice("none".into())).exit_code(),
            exit::NO_DEVICE
        );
        assert_eq!(
            CliError::from(VkError::Loader("libvulkan.so.1".into())).exit_code(),
            exit::NO_DEVICE
        );
        assert_eq!(
            CliError::from_core(CoreError::InvalidScene("nan".into()), scene, None).exit_code(),
            exit::INPUT
        );
    }
}
