//! The crate's single error type.
//!
//! Every failure is classified as an *input* problem (a scene, camera file or
//! image that cannot be read or is malformed), an *output* problem (a file
//! that cannot be written) or a *memory* problem (a well-formed file needs more
//! host memory than this process can get). The variants are the classification: the
//! faces map them to their own codes (the CLI to exit codes 3, 6 and 7); a new variant needs a
//! new code in every face.
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
    /// A buffer sized from the file (or the requested image) could not be
    /// allocated: exit code 7 in the CLI. Sizes come from honest-looking
    /// headers only; a header that lies about its size is an `Input` error.
    #[error("{path}: needs {bytes} bytes of host memory, which this process cannot allocate")]
    OutOfMemory {
        /// The file whose contents needed the memory.
        path: PathBuf,
        /// The size of the allocation that failed.
        bytes: u64,
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

    /// Builds an [`IoError::OutOfMemory`] for `path`.
    pub fn out_of_memory(path: &Path, bytes: u64) -> Self {
        IoError::OutOfMemory {
            path: path.to_path_buf(),
            bytes,
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            IoError::Input { path, .. }
            | IoError::Output { path, .. }
            | IoError::OutOfMemory { path, .. } => path,
        }
    }

    /// The problem, without the path prefix.
    pub fn message(&self) -> String {
        match self {
            IoError::Input { message, .. } | IoError::Output { message, .. } => message.clone(),
            IoError::OutOfMemory { bytes, .. } => {
                format!("needs {bytes} bytes of host memory, which this process cannot allocate")
            }
        }
    }
}
