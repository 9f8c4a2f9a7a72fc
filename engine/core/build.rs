//! Compiles the GLSL compute shaders under `shaders/` to SPIR-V in OUT_DIR; the engine embeds
//! them with `include_bytes!` (see src/shaders.rs).
use std::path::PathBuf;

/// (output name, source file, defines). Keep in sync with src/shaders.rs.
type ShaderVariant = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);
const SHADERS: &[ShaderVariant] = &[
    ("preprocess", "preprocess.comp", &[]),
    ("scan_reduce", "scan.comp", &[("SCAN_STEP", "1")]),
    ("scan_blocks", "scan.comp", &[("SCAN_STEP", "2")]),
    ("scan_downsweep", "scan.comp", &[("SCAN_STEP", "3")]),
    ("sort_histogram", "radix_sort.comp", &[("SORT_STEP", "1")]),
    ("sort_scatter", "radix_sort.comp", &[("SORT_STEP", "2")]),
    ("dispatch_args", "dispatch_args.comp", &[]),
    ("emit_keys", "emit_keys.comp", &[]),
    ("tile_ranges", "tile_ranges.comp", &[]),
    ("blend", "blend.comp", &[]),
    ("layout_probe", "layout_probe.comp", &[]),
];

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../shaders");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let include = vec![root.join("include")];
    println!("cargo:rerun-if-changed={}", root.display());
    for entry in std::fs::read_dir(root.join("include")).unwrap() {
        println!("cargo:rerun-if-changed={}", entry.unwrap().path().display());
    }
    for (name, file, defines) in SHADERS {
        let path = root.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let words = vksplat_shaderc::compile_compute_file(&path, &include, defines)
            .unwrap_or_else(|e| panic!("shader {name}: {e}"));
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        std::fs::write(out.join(format!("{name}.spv")), bytes).unwrap();
    }
}
