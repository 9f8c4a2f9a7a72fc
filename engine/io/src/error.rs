//! The crate's single error type.
//!
//! Every failure is classified as either an *input* problem (a scene, camera
//! file or image that cannot be read or is malformed) or an *output* problem
//! (a file that cannot be written). The CLI maps these two variants to its
//! documented exit codes 3 and 6, so the split must stay exactly two-way.
//!
//! Invariant: every message names the offending file (through `path`) and
//! says what is wrong with it, so an error can be shown to a user verbatim.

use std::path::{Path, PathBuf};

/// Error returned by every fallible function in `vksplat-io`.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The input could not be read or is invalid: exit code 3 in the CLI.
    #[error("{path}: {message}")]
    Input {
        /// The file that was being read.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The output could not be written: exit code 6 in the CLI.
    #[error("{path}: cannot write: {message}")]
    Output {
        /// The file that was being written.
        path: PathBuf,
        /// Why it could not be written.
        message: String,
    },
}

impl IoError {
    /// Builds an [`IoError::Input`] for `path`.
    pub fn input(path: &Path, message: impl Into<String>) -> Self {
        IoError::Input {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    /// Builds an [`IoError::Output`] for `path`.
    pub fn output(path: &Path, message: impl Into<String>) -> Self {
        IoError::Output {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            IoError::Input { path, .. } | IoError::Output { path, .. } => path,
        }
    }

    /// The problem, without the path prefix.
    pub fn message(&self) -> &str {
        match self {
            IoError::Input { message, .. } | IoError::Output { message, .. } => message,
        }
    }

    /// The CLI exit code for this error (3 for inputs, 6 for outputs).
    pub fn exit_code(&self) -> i32 {
        match self {
            IoError::Input { .. } => 3,
            IoError::Output { .. } => 6,
        }
    }
}
