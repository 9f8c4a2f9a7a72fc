//! The static library inside someone else's process: `tools/static-archive.sh` turns Cargo's
//! `libvksplat.a` into an archive whose only global symbols are the C API's (the same set the
//! shared library exports), and a C host that defines shaderc entry points of its own
//! (`tests/c/own_shaderc.c`) links against it, calls its own copy, and still has vksplat compile
//! a plugin's GLSL with vksplat's copy. Against Cargo's archive the same host does not link.

#[path = "plugin_support.rs"]
mod plugin_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use plugin_support::{cargo_build, cc_shared, dylib, profile_dir, root};
use vksplat_tests::Gpu;

fn tmp(name: &str) -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("link-hygiene-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// The archive the script makes from the profile's `libvksplat.a` (built once per process).
fn hygienic_archive() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        cargo_build(&["vksplat-capi"]);
        let out = tmp("libvksplat.a");
        let status = Command::new(root().join("tools/static-archive.sh"))
            .arg(profile_dir().join("libvksplat.a"))
            .arg(&out)
            .status()
            .expect("run tools/static-archive.sh");
        assert!(status.success(), "tools/static-archive.sh failed");
        out
    })
}

/// Names of the symbols `readelf` lists as defined and global or weak (`args` picks the table).
fn defined_globals(args: &[&str], file: &Path) -> BTreeSet<String> {
    let out = Command::new("readelf")
        .args(args)
        .arg(file)
        .output()
        .expect("run readelf");
    assert!(out.status.success(), "readelf {}", file.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // Num: Value Size Type Bind Vis Ndx Name
            (f.len() >= 8 && (f[4] == "GLOBAL" || f[4] == "WEAK") && f[6] != "UND")
                .then(|| f[7].split('@').next().unwrap_or(f[7]).to_string())
        })
        .collect()
}

#[test]
fn static_archive_exports_only_the_c_api() {
    let archive = hygienic_archive();
    let ours = defined_globals(&["-sW"], archive);
    let shared = defined_globals(&["--dyn-syms", "-W"], &profile_dir().join(dylib("vksplat")));
    let shared: BTreeSet<String> = shared
        .into_iter()
        .filter(|s| s.starts_with("vksplat_"))
        .collect();
    assert!(
        ours.contains("vksplat_render") && ours.len() >= 20,
        "{ours:?}"
    );
    assert_eq!(
        ours, shared,
        "the archive's globals differ from the shared library's exports"
    );
    // Cargo's own archive is the problem this fixes: it exports the bundled libraries.
    let cargo_globals = defined_globals(&["-sW"], &profile_dir().join("libvksplat.a"));
    assert!(cargo_globals.contains("shaderc_compile_into_spv"));
    assert!(cargo_globals.iter().any(|s| s.starts_with("spv")));
}

fn build_own_shaderc(archive: &Path, exe: &Path) -> std::process::Output {
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    Command::new(cc)
        .args(["-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(root().join("include"))
        .arg(root().join("tests/c/own_shaderc.c"))
        .arg(archive)
        .args(["-lstdc++", "-lzstd", "-lm", "-ldl", "-lpthread", "-o"])
        .arg(exe)
        .output()
        .expect("run cc")
}

#[test]
fn host_with_its_own_shaderc_links_and_renders() {
    let Some(_gpu) = Gpu::new() else { return };
    let archive = hygienic_archive();
    // The same host against Cargo's archive: two definitions of the host's shaderc symbols.
    let raw = build_own_shaderc(&profile_dir().join("libvksplat.a"), &tmp("own_raw"));
    let raw_err = String::from_utf8_lossy(&raw.stderr);
    assert!(
        !raw.status.success() && raw_err.contains("multiple definition of `shaderc_"),
        "expected a clash with Cargo's archive:\n{raw_err}"
    );
    let exe = tmp("own_shaderc");
    let built = build_own_shaderc(archive, &exe);
    assert!(
        built.status.success(),
        "linking tests/c/own_shaderc.c against the script's archive failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    // Only the C triangle plugin (its shader is GLSL, compiled at run time).
    let plugins = tmp("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    cc_shared(
        &[root().join("plugins/c-triangle/triangle.c")],
        &[],
        &plugins.join(dylib("vksplat_triangle")),
    );
    std::fs::copy(
        root().join("plugins/c-triangle/triangle.vksplat.json"),
        plugins.join("triangle.vksplat.json"),
    )
    .unwrap();
    let out = Command::new(&exe)
        .arg(&plugins)
        .env("VKSPLAT_VALIDATION", "1")
        .env_remove("VKSPLAT_PLUGIN_PATH")
        .output()
        .expect("run the host");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "own_shaderc failed:\n{stderr}");
    assert!(!stderr.contains("validation error"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("all checks passed"));
}
