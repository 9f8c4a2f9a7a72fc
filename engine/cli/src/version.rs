//! The version string of this build: `0.1.0 (git 1a2b3c4d5e6f, built 2026-11-27)`.
//!
//! The git hash (short, `-dirty` when tracked sources differed from the commit, `unknown`
//! outside a git checkout) and the UTC build date (`SOURCE_DATE_EPOCH` when set) come from
//! `build.rs`. [`LONG`] is what `vksplat --version` prints after the program name and what
//! the EXR header's `vksplat_version` attribute records.

/// `CARGO_PKG_VERSION (git HASH, built YYYY-MM-DD)`.
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("VKSPLAT_GIT_HASH"),
    ", built ",
    env!("VKSPLAT_BUILD_DATE"),
    ")"
);
