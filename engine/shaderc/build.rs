//! Debian's `libshaderc_combined.a` (which shaderc-sys picks) lacks glslang and SPIRV-Tools.
//! Link them statically from the system in dependency order instead of building shaderc from
//! source (minutes per clean build). See ARCHITECTURE.md, "Building".
fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os != "linux" {
        return;
    }
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let dir = format!("/usr/lib/{arch}-linux-gnu");
    if !std::path::Path::new(&dir).join("libglslang.a").exists() {
        // Another distribution: assume its libshaderc_combined is complete.
        return;
    }
    println!("cargo:rustc-link-search=native={dir}");
    for lib in [
        "glslang",
        "MachineIndependent",
        "OSDependent",
        "GenericCodeGen",
        "OGLCompiler",
        "HLSL",
        "SPIRV",
        "glslang-default-resource-limits",
        "SPIRV-Tools-opt",
        "SPIRV-Tools",
    ] {
        println!("cargo:rustc-link-lib=static={lib}");
    }
    println!("cargo:rustc-link-lib=dylib=stdc++");
    println!("cargo:rerun-if-changed=build.rs");
}
