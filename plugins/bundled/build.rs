//! Writes the plugins shipped in `plugins/` into the directory cargo puts the vksplat binary
//! in (`target/<profile>/`, three levels above OUT_DIR), where the plugin host looks by default:
//!
//! * the Rust plugins of [`RUST_PLUGINS`] (`skinwave`, `dynamic4d`, …): this crate depends on
//!   each, so cargo builds its cdylib into `<profile>/deps/`; its manifest
//!   `plugins/NAME/NAME.vksplat.json` (`"library": "LIB"`, a bare name) is written to
//!   `<profile>/NAME.vksplat.json` with `"library": "deps/libLIB.so"` (inside the manifest's
//!   directory, as the host requires). Adding a Rust plugin = a dependency in Cargo.toml and
//!   its name in the list.
//! * `triangle` (C): `plugins/c-triangle/triangle.c` is compiled with the system C compiler
//!   (`$CC`, else `cc`) against `include/vksplat.h` into `<profile>/libvksplat_triangle.so`,
//!   and its manifest is copied beside it.
//!
//! Files are written under a temporary name and renamed, so a vksplat running meanwhile never
//! sees half a file, and only when their contents change. Without a C compiler, or when
//! cross-compiling, the C plugin is skipped with a cargo warning.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Rust plugins installed: each is a dependency of this crate, in `plugins/NAME/` with
/// the manifest `NAME.vksplat.json`.
const RUST_PLUGINS: &[&str] = &["skinwave", "dynamic4d", "skinned", "meshbound"];

fn main() {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let plugins = here.join("..");
    let root = plugins.join("..");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let manifests = RUST_PLUGINS
        .iter()
        .map(|name| format!("{name}/{name}.vksplat.json"));
    for input in manifests.chain(
        [
            "c-triangle/triangle.vksplat.json",
            "c-triangle/triangle.c",
            "../include/vksplat.h",
        ]
        .map(String::from),
    ) {
        println!("cargo:rerun-if-changed={}", plugins.join(input).display());
    }
    println!("cargo:rerun-if-changed=build.rs");

    // OUT_DIR is <profile>/build/<package>-<hash>/out.
    let Some(profile) = out
        .ancestors()
        .nth(3)
        .filter(|_| out.ancestors().nth(2).and_then(Path::file_name) == Some("build".as_ref()))
    else {
        println!(
            "cargo:warning=OUT_DIR {} is not <profile>/build/<package>/out: bundled plugins not \
             installed beside the binary",
            out.display()
        );
        return;
    };
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let (prefix, suffix) = match os.as_str() {
        "macos" | "ios" => ("lib", ".dylib"),
        "windows" => ("", ".dll"),
        _ => ("lib", ".so"),
    };

    // Rust plugins: each manifest, pointing at the cdylib cargo builds into deps/.
    for name in RUST_PLUGINS {
        let file = format!("{name}/{name}.vksplat.json");
        let manifest = read(&plugins.join(&file));
        let (from, library) = library_entry(&manifest).unwrap_or_else(|| {
            panic!(
                "plugins/{file}: expected one \"library\": \"NAME\" entry with a bare name \
                 (build.rs rewrites it)"
            )
        });
        let to = format!("\"library\": \"deps/{prefix}{library}{suffix}\"");
        write_if_changed(
            &profile.join(format!("{name}.vksplat.json")),
            manifest.replace(&from, &to).as_bytes(),
        );
    }

    // triangle: compiled here.
    let host = std::env::var("HOST").unwrap_or_default();
    let target = std::env::var("TARGET").unwrap_or_default();
    if host != target || os == "windows" {
        println!("cargo:warning=the C example plugin (triangle) is not built for {target}");
        return;
    }
    let library = profile.join(format!("{prefix}vksplat_triangle{suffix}"));
    let temp = out.join(format!("{prefix}vksplat_triangle{suffix}"));
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let result = Command::new(&cc)
        .args([
            "-std=c11",
            "-O2",
            "-shared",
            "-fPIC",
            "-fvisibility=hidden",
            "-Wall",
            "-Wextra",
        ])
        .arg("-I")
        .arg(root.join("include"))
        .arg(plugins.join("c-triangle/triangle.c"))
        .arg("-lm")
        .arg("-o")
        .arg(&temp)
        .output();
    match result {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "{} failed on plugins/c-triangle/triangle.c:\n{}",
            cc.to_string_lossy(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            println!(
                "cargo:warning=no C compiler ({}: {e}): the C example plugin (triangle) is not \
                 built",
                cc.to_string_lossy()
            );
            return;
        }
    }
    install(&temp, &library);
    write_if_changed(
        &profile.join("triangle.vksplat.json"),
        read(&plugins.join("c-triangle/triangle.vksplat.json")).as_bytes(),
    );
}

/// The manifest's `"library": "NAME"` text and NAME (a bare library name: letters, digits,
/// `_`, `-`), when it has exactly one such entry.
fn library_entry(manifest: &str) -> Option<(String, String)> {
    let key = "\"library\"";
    let at = manifest.find(key)?;
    if manifest[at + key.len()..].contains(key) {
        return None;
    }
    let rest = manifest[at + key.len()..].trim_start().strip_prefix(':')?;
    let rest = rest.trim_start().strip_prefix('"')?;
    let name = &rest[..rest.find('"')?];
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let end = manifest.len() - rest.len() + name.len() + 1;
    bare.then(|| (manifest[at..end].to_string(), name.to_string()))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Replaces `path` with `bytes` by renaming a temporary file over it, unless it already holds
/// them (its time stamp then stays, and a process that has it open keeps its copy).
fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    let temp = temp_beside(path);
    if let Err(e) = std::fs::write(&temp, bytes).and_then(|()| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        panic!("{}: {e}", path.display());
    }
}

/// Copies `from` (permissions included) over `to` the same way.
fn install(from: &Path, to: &Path) {
    let bytes = std::fs::read(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    if std::fs::read(to).is_ok_and(|old| old == bytes) {
        return;
    }
    let temp = temp_beside(to);
    if let Err(e) = std::fs::copy(from, &temp).and_then(|_| std::fs::rename(&temp, to)) {
        let _ = std::fs::remove_file(&temp);
        panic!("{}: {e}", to.display());
    }
}

fn temp_beside(path: &Path) -> PathBuf {
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".tmp{}", std::process::id()));
    PathBuf::from(temp)
}
