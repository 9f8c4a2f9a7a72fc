//! GLSL compute shaders to SPIR-V, and the SPIR-V validator.
//!
//! Used at build time (the engine's own shaders under `shaders/`) and at run time (plugin
//! shaders). `#include "x.glsl"` resolves against in-memory headers first (the engine passes
//! the embedded copies of `shaders/include/`, so run-time shaders see the same headers
//! anywhere the binary is installed), then against the given include directories.
//!
//! Invariant: every C object of shaderc and SPIRV-Tools (compiler, options, compilation
//! result — a failed one too —, include results, validator context, diagnostic) is owned by a
//! Rust guard that releases it on drop, so no path leaks one; [`live_objects`] counts them.

mod sys;
mod validate;

use std::path::{Path, PathBuf};

pub use validate::validate_spirv;

/// The C objects of shaderc and SPIRV-Tools alive in this process right now: 0 whenever no
/// compile or validation is in flight (the tests check it after failed compiles).
pub fn live_objects() -> usize {
    sys::live()
}

/// A compile error with shaderc's message (which names the file and line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError(pub String);

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CompileError {}

/// Compile one GLSL compute shader (`#version 450` or later) to SPIR-V words for Vulkan 1.2.
///
/// `name` is used in messages; `include_dirs` are searched for `#include "..."` in order;
/// `defines` are `#define NAME VALUE` pairs.
pub fn compile_compute(
    source: &str,
    name: &str,
    include_dirs: &[PathBuf],
    defines: &[(&str, &str)],
) -> Result<Vec<u32>, CompileError> {
    compile_compute_with_headers(source, name, include_dirs, &[], defines)
}

/// [`compile_compute`] with in-memory headers `(name, text)` that `#include "name"` finds
/// before the include directories (the engine passes its `shaders/include/` this way, so
/// run-time shaders compile the same anywhere the binary is installed).
pub fn compile_compute_with_headers(
    source: &str,
    name: &str,
    include_dirs: &[PathBuf],
    headers: &[(&str, &str)],
    defines: &[(&str, &str)],
) -> Result<Vec<u32>, CompileError> {
    let mut options = sys::Options::vulkan_1_2()?;
    for (k, v) in defines {
        options.define(k, v)?;
    }
    let dirs = include_dirs.to_vec();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    options.set_resolver(Box::new(move |requested, requester| {
        if let Some((n, text)) = headers.iter().find(|(n, _)| n == requested) {
            return Ok((n.clone(), text.clone()));
        }
        for dir in &dirs {
            let candidate = dir.join(requested);
            if let Ok(content) = std::fs::read_to_string(&candidate) {
                return Ok((candidate.to_string_lossy().into_owned(), content));
            }
        }
        Err(format!("{requester}: cannot find include \"{requested}\""))
    }));
    sys::compile_compute(source, name, &options)
}

/// Read and compile a shader file; its own directory is searched for includes first.
pub fn compile_compute_file(
    path: &Path,
    include_dirs: &[PathBuf],
    defines: &[(&str, &str)],
) -> Result<Vec<u32>, CompileError> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| CompileError(format!("{}: {e}", path.display())))?;
    let mut dirs = Vec::with_capacity(include_dirs.len() + 1);
    if let Some(parent) = path.parent() {
        dirs.push(parent.to_path_buf());
    }
    dirs.extend_from_slice(include_dirs);
    compile_compute(&source, &path.display().to_string(), &dirs, defines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_a_trivial_compute_shader() {
        let src = "#version 450\nlayout(local_size_x = 64) in;\nlayout(std430, binding = 0) buffer B { uint v[]; };\nvoid main() { v[gl_GlobalInvocationID.x] = FOO; }\n";
        let words = compile_compute(src, "t.comp", &[], &[("FOO", "7u")]).unwrap();
        assert_eq!(words[0], 0x0723_0203, "SPIR-V magic");
        assert!(words.len() > 20);
    }

    #[test]
    fn reports_errors_with_the_name() {
        let err = compile_compute("#version 450\nvoid main() { nope; }", "bad.comp", &[], &[])
            .unwrap_err();
        assert!(err.0.contains("bad.comp"), "{err}");
        assert!(err.0.starts_with("1 compilation error"), "{err}");
    }

    #[test]
    fn includes_resolve_headers_then_directories_and_name_what_is_missing() {
        let dir = std::env::temp_dir().join(format!("vksplat-shaderc-inc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("from_dir.glsl"), "#define FROM_DIR 3u\n").unwrap();
        let src = "#version 450\n#include \"mem.glsl\"\n#include \"from_dir.glsl\"\n\
                   layout(local_size_x = 1) in;\n\
                   layout(std430, binding = 0) buffer B { uint v[]; };\n\
                   void main() { v[0] = FROM_MEM + FROM_DIR; }\n";
        let headers = [("mem.glsl", "#define FROM_MEM 4u\n")];
        let words = compile_compute_with_headers(
            src,
            "inc.comp",
            std::slice::from_ref(&dir),
            &headers,
            &[],
        )
        .unwrap();
        validate_spirv(&words).unwrap();
        let err = compile_compute_with_headers(src, "inc.comp", &[], &headers, &[]).unwrap_err();
        assert!(
            err.0.contains("cannot find include \"from_dir.glsl\""),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nul_bytes_are_errors_not_panics() {
        let src = "#version 450\nlayout(local_size_x = 1) in;\nvoid main() {}\n";
        let err = compile_compute(src, "a\0b.comp", &[], &[]).unwrap_err();
        assert!(err.0.contains("NUL"), "{err}");
        let err = compile_compute(src, "t.comp", &[], &[("X\0", "1")]).unwrap_err();
        assert!(err.0.contains("NUL"), "{err}");
    }

    #[test]
    fn the_validator_accepts_compiled_code_and_names_what_is_wrong() {
        let src = "#version 450\nlayout(local_size_x = 64) in;\n\
                   layout(std430, binding = 0) buffer B { float v[]; };\n\
                   void main() { v[gl_GlobalInvocationID.x] *= 2.0; }\n";
        let words = compile_compute(src, "t.comp", &[], &[]).unwrap();
        validate_spirv(&words).unwrap();
        // Not SPIR-V at all.
        let err = validate_spirv(&[1, 2, 3, 4, 5]).unwrap_err();
        assert!(err.0.starts_with("invalid SPIR-V"), "{err}");
        // Cut after the header and a few instructions: an instruction runs past the end.
        let err = validate_spirv(&words[..words.len() / 2]).unwrap_err();
        assert!(err.0.contains("SPIRV-Tools validator"), "{err}");
        // A wrong ArrayStride on the buffer's runtime array (std430 float: 4) breaks the
        // block layout rules: find `OpDecorate %id ArrayStride 4` and make it 3.
        let mut bad = words.clone();
        let mut i = 5;
        let mut patched = false;
        while i < bad.len() {
            let (count, op) = ((bad[i] >> 16) as usize, bad[i] & 0xffff);
            if op == 71 && count == 4 && bad[i + 2] == 6 && bad[i + 3] == 4 {
                bad[i + 3] = 3;
                patched = true;
            }
            i += count.max(1);
        }
        assert!(patched, "no ArrayStride 4 decoration found");
        let err = validate_spirv(&bad).unwrap_err();
        assert!(err.0.to_lowercase().contains("stride"), "{err}");
    }
}
