//! Generates `include/vksplat.h` from `engine/abi` with cbindgen (configuration in
//! `cbindgen.toml` beside this crate), then appends a compile-time assertion of every struct's
//! size and field offsets from `vksplat_abi::layout::LAYOUTS`, so that a C or C++ program or
//! plugin compiled with another layout of a struct fails to compile.
//! `cargo run -p vksplat-gen-header` rewrites the header; the test below fails when the
//! checked-in header differs from what would be generated.

#![forbid(unsafe_code)]

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
    let header = String::from_utf8(out).map_err(|e| e.to_string())?;
    // The assertions go inside the include guard, after everything they name.
    let end = header
        .rfind("#endif  /* VKSPLAT_H */")
        .ok_or("cbindgen output has no include guard end")?;
    Ok(format!(
        "{}{}\n{}",
        &header[..end],
        layout_assertions(),
        &header[end..]
    ))
}

/// `_Static_assert` (C11) / `static_assert` (C++) of the size of every ABI struct and the
/// offset of each of its fields. The numbers are those of 64-bit targets, the only ones the ABI
/// is defined for, so the block is skipped elsewhere.
pub fn layout_assertions() -> String {
    let mut s = String::from(
        "/*\n * Layout assertions: a program or plugin compiled with a layout of these structs \
         other than\n * the library's (another header version, packing pragmas) fails to \
         compile here.\n */\n\
         #if UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu\n\
         #if defined(__cplusplus)\n\
         #define VKSPLAT_LAYOUT_ASSERT(cond, what) static_assert(cond, what)\n\
         #else\n\
         #define VKSPLAT_LAYOUT_ASSERT(cond, what) _Static_assert(cond, what)\n\
         #endif\n",
    );
    for l in vksplat_abi::layout::LAYOUTS {
        s += &format!(
            "VKSPLAT_LAYOUT_ASSERT(sizeof({0}) == {1}, \"sizeof({0}) is {1}\");\n",
            l.name, l.size
        );
        for f in l.fields {
            s += &format!(
                "VKSPLAT_LAYOUT_ASSERT(offsetof({0}, {1}) == {2}, \"offsetof({0}, {1}) is {2}\");\n",
                l.name, f.name, f.offset
            );
        }
    }
    s += "#undef VKSPLAT_LAYOUT_ASSERT\n#endif\n";
    s
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
