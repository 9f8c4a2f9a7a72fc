//! Builds and lays out the plugins the plugin and C API tests load (included with `#[path]`).
//!
//! Rust plugins are built with `cargo build --workspace` (same profile as the tests; a no-op
//! when the suite's build already ran), the C plugins with the system C compiler (`$CC` or
//! `cc`) against `include/vksplat.h` only. Everything goes into one plugin directory per test
//! process, with a manifest per plugin, including broken ones.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub use vksplat_tests::cli::{build_workspace, profile_dir};

/// A fresh directory `vksplat-TAG-PID` in the target's temp directory holding the built
/// libraries of the bundled plugins `names` with their repository manifests.
pub fn bundled_plugin_dir(tag: &str, names: &[&str]) -> PathBuf {
    build_workspace();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vksplat-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for name in names {
        let lib = dylib(&format!("vksplat_{name}"));
        std::fs::copy(profile_dir().join(&lib), dir.join(&lib)).unwrap();
        std::fs::copy(
            root().join(format!("plugins/{name}/{name}.vksplat.json")),
            dir.join(format!("{name}.vksplat.json")),
        )
        .unwrap();
    }
    dir
}

/// A shared library's file name on this platform.
pub fn dylib(name: &str) -> String {
    format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// Compiles C sources into a shared library with the system compiler.
pub fn cc_shared(sources: &[PathBuf], defines: &[String], out: &Path) {
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let mut cmd = Command::new(cc);
    cmd.args([
        "-std=c11",
        "-O1",
        "-shared",
        "-fPIC",
        "-fvisibility=hidden",
        "-Wall",
        "-Wextra",
    ])
    .arg("-I")
    .arg(root().join("include"))
    .args(defines)
    .args(sources)
    .arg("-lm")
    .arg("-o")
    .arg(out);
    let output = cmd.output().expect("run the C compiler (cc)");
    assert!(
        output.status.success(),
        "cc failed for {}:\n{}",
        out.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Writes `NAME.vksplat.json` into `dir`.
pub fn manifest(dir: &Path, name: &str, abi: u32, library: &str) {
    let text = format!(
        "{{\"name\": \"{name}\", \"version\": \"0.0.1\", \"abi_version\": {abi}, \"library\": \
         {library:?}, \"description\": \"test plugin {name}\"}}\n"
    );
    std::fs::write(dir.join(format!("{name}.vksplat.json")), text).unwrap();
}

/// The broken C plugins: (name, defines).
pub const BAD_C_PLUGINS: &[(&str, &str)] = &[
    ("bad-no-entry", "BAD_NO_ENTRY"),
    ("bad-abi-old", "BAD_ABI=0"),
    ("bad-abi-new", "BAD_ABI=99"),
    ("bad-small-table", "BAD_SMALL_TABLE"),
    ("bad-open-error", "BAD_OPEN_ERROR"),
    ("bad-shader-syntax", "BAD_SHADER_SYNTAX"),
    ("bad-shader-binding", "BAD_SHADER_BINDING"),
    ("bad-nan", "BAD_NAN"),
    ("bad-fingerprint", "BAD_FINGERPRINT"),
    ("bad-shader-alias", "BAD_SHADER_ALIAS"),
    ("bad-spirv", "BAD_SPIRV"),
    ("bad-param-default", "BAD_PARAM_DEFAULT"),
];

/// The plugin directory: skinwave (Rust), triangle (C), panics (Rust), the broken C plugins,
/// `logger` (valid; logs when opened), `bad-missing-lib` (manifest pointing at no library)
/// and `bad-manifest-abi` (manifest asking for ABI 99).
pub fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        build_workspace();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("vksplat-plugins-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let profile = profile_dir();
        // Rust plugins: the cargo-built libraries are copied beside their manifests (a
        // manifest's library must lie inside its directory).
        for (name, lib) in [
            ("skinwave", "vksplat_skinwave"),
            ("panics", "vksplat_test_panic"),
        ] {
            let path = profile.join(dylib(lib));
            assert!(path.is_file(), "{} was not built", path.display());
            std::fs::copy(&path, dir.join(dylib(lib))).unwrap();
            manifest(&dir, name, 1, lib);
        }
        // The C example plugin, with its own manifest copied beside the library.
        cc_shared(
            &[root().join("plugins/c-triangle/triangle.c")],
            &[],
            &dir.join(dylib("vksplat_triangle")),
        );
        std::fs::copy(
            root().join("plugins/c-triangle/triangle.vksplat.json"),
            dir.join("triangle.vksplat.json"),
        )
        .unwrap();
        for (name, define) in BAD_C_PLUGINS {
            let lib = format!("vksplat_{}", name.replace('-', "_"));
            cc_shared(
                &[root().join("tests/plugins/bad_plugin.c")],
                &[format!("-D{define}"), format!("-DPLUGIN_NAME=\"{name}\"")],
                &dir.join(dylib(&lib)),
            );
            manifest(&dir, name, 1, &lib);
        }
        // A valid plugin that logs an info line and a warning when opened.
        cc_shared(
            &[root().join("tests/plugins/bad_plugin.c")],
            &["-DLOGS".to_string(), "-DPLUGIN_NAME=\"logger\"".to_string()],
            &dir.join(dylib("vksplat_logger")),
        );
        manifest(&dir, "logger", 1, "vksplat_logger");
        manifest(&dir, "bad-missing-lib", 1, "vksplat_not_built_anywhere");
        manifest(&dir, "bad-manifest-abi", 99, "vksplat_bad_nan");
        dir
    })
}

/// The environment variable the marker plugin's constructor reads: the file it appends
/// "loaded" to when its library is loaded.
pub const LOAD_MARKER_VAR: &str = "VKSPLAT_TEST_LOAD_MARKER";

/// A valid plugin named "marker" (`bad_plugin.c` without a defect) whose library constructor
/// writes to the file named by [`LOAD_MARKER_VAR`]: it shows whether the host loaded it. Built
/// once per test process, outside any plugin directory; tests copy it where they need it.
pub fn marker_library() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("vksplat-marker-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let lib = dir.join(dylib("vksplat_marker"));
        cc_shared(
            &[
                root().join("tests/plugins/bad_plugin.c"),
                root().join("tests/plugins/marker.c"),
            ],
            &["-DPLUGIN_NAME=\"marker\"".to_string()],
            &lib,
        );
        lib
    })
}

/// Compiles a C host program (`tests/c/NAME.c`, C11, warnings as errors) against
/// `include/vksplat.h`, linked with the workspace's `libvksplat.so` (found through an rpath).
pub fn cc_host(source: &Path, exe: &Path) {
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let out = Command::new(cc)
        .args(["-std=c11", "-O1", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(root().join("include"))
        .arg(source)
        .arg("-o")
        .arg(exe)
        .arg("-L")
        .arg(profile_dir())
        .arg("-lvksplat")
        .arg(format!("-Wl,-rpath,{}", profile_dir().display()))
        .output()
        .expect("run the C compiler (cc)");
    assert!(
        out.status.success(),
        "building {} failed:\n{}",
        source.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}
