//! Compiles the GLSL compute shaders under `shaders/` to SPIR-V in OUT_DIR; the engine embeds
//! them with `include_bytes!` (see src/shaders.rs). The list is src/kernel_sources.rs.
use std::path::PathBuf;

include!("src/kernel_sources.rs");

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../shaders");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let include = vec![root.join("include")];
    println!("cargo:rerun-if-changed={}", root.display());
    println!("cargo:rerun-if-changed=src/kernel_sources.rs");
    for entry in std::fs::read_dir(root.join("include")).unwrap() {
        println!("cargo:rerun-if-changed={}", entry.unwrap().path().display());
    }
    for (name, file, defines) in KERNEL_SOURCES {
        let path = root.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let words = vksplat_shaderc::compile_compute_file(&path, &include, defines)
            .unwrap_or_else(|e| panic!("shader {name}: {e}"));
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        std::fs::write(out.join(format!("{name}.spv")), bytes).unwrap();
    }
}
