//! Writes the generated headers of `shaders/include/` (constants.glsl, scene_bindings.glsl)
//! as Rust defines them: `cargo run -p vksplat-core --example generate_glsl`.

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shaders/include");
    for (name, text) in vksplat_core::gpu_layout::generated_glsl() {
        let path = dir.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("{}: {e}", path.display());
            std::process::exit(1);
        }
        println!("wrote {}", path.display());
    }
}
