//! GLSL compute shaders to SPIR-V.
//!
//! Used at build time (the engine's own shaders under `shaders/`) and at run time (plugin
//! shaders). `#include "x.glsl"` resolves against the given include directories first, then
//! against the embedded copies of `shaders/include/` so run-time shaders see the same headers.

use std::path::{Path, PathBuf};

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
    let compiler = shaderc::Compiler::new()
        .ok_or_else(|| CompileError("shaderc: could not create a compiler".into()))?;
    let mut options = shaderc::CompileOptions::new()
        .ok_or_else(|| CompileError("shaderc: could not create compile options".into()))?;
    options.set_target_env(
        shaderc::TargetEnv::Vulkan,
        shaderc::EnvVersion::Vulkan1_2 as u32,
    );
    options.set_optimization_level(shaderc::OptimizationLevel::Performance);
    options.set_generate_debug_info();
    for (k, v) in defines {
        options.add_macro_definition(k, Some(v));
    }
    let dirs = include_dirs.to_vec();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    options.set_include_callback(move |requested, _kind, requester, _depth| {
        if let Some((n, text)) = headers.iter().find(|(n, _)| n == requested) {
            return Ok(shaderc::ResolvedInclude {
                resolved_name: n.clone(),
                content: text.clone(),
            });
        }
        for dir in &dirs {
            let candidate = dir.join(requested);
            if let Ok(content) = std::fs::read_to_string(&candidate) {
                return Ok(shaderc::ResolvedInclude {
                    resolved_name: candidate.to_string_lossy().into_owned(),
                    content,
                });
            }
        }
        Err(format!("{requester}: cannot find include \"{requested}\""))
    });
    let artifact = compiler
        .compile_into_spirv(
            source,
            shaderc::ShaderKind::Compute,
            name,
            "main",
            Some(&options),
        )
        .map_err(|e| CompileError(e.to_string()))?;
    Ok(artifact.as_binary().to_vec())
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
    }
}
