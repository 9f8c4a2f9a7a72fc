//! splaTV `.splatv` files (antimatter15/splaTV, MIT): the Spacetime Gaussians lite model
//! packed in half floats behind a JSON header. Decoded into [`StgSplat`]s.

use std::path::Path;

use vksplat_plugin_sdk::Error;

use crate::stg::StgSplat;

/// The u32 (little-endian) every `.splatv` starts with.
pub const MAGIC: u32 = 0x674b;

/// Whether `head` (the first bytes of a file) starts like a `.splatv`.
pub fn is_splatv(head: &[u8]) -> bool {
    head.len() >= 8 && u32::from_le_bytes([head[0], head[1], head[2], head[3]]) == MAGIC
}

/// A `.splatv`'s contents.
pub struct SplatvFile {
    pub splats: Vec<StgSplat>,
}

/// Reads a `.splatv`.
pub fn read(path: &Path) -> Result<SplatvFile, Error> {
    Err(format!(
        "{}: .splatv files are not read yet",
        path.display()
    ))
}
