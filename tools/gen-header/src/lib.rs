//! Generates `include/vksplat.h` from `engine/abi` with cbindgen (configuration in
//! `cbindgen.toml` beside this crate). `cargo run -p vksplat-gen-header` rewrites the header;
//! the test below fails when the checked-in header differs from what would be generated.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The checked-in header.
pub fn header_path() -> PathBuf {
    root().join("include/vksplat.h")
}

/// The header as cbindgen generates it now.
pub fn generate() -> Result<String, String> {
    let config_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("cbindgen.toml");
    let config = cbindgen::Config::from_file(&config_path)
        .map_err(|e| format!("{}: {e}", config_path.display()))?;
    let abi = root().join("engine/abi/src/lib.rs");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(&abi)
        .generate()
        .map_err(|e| format!("cbindgen: {e}"))?;
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_header_is_current() {
        let want = super::generate().expect("cbindgen");
        let have = std::fs::read_to_string(super::header_path()).unwrap_or_default();
        if have != want {
            let line = have
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .map_or(have.lines().count().min(want.lines().count()), |l| l);
            panic!(
                "include/vksplat.h is out of date (first difference at line {}); regenerate it \
                 with `cargo run -p vksplat-gen-header`",
                line + 1
            );
        }
    }
}
