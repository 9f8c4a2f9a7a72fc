//! The static library inside someone else's process: `tools/static-archive.sh` turns Cargo's
//! `libvksplat.a` into an archive whose only global symbols are the C API's (the same set the
//! shared library exports), and a C host that defines shaderc entry points of its own
//! (`tests/c/own_shaderc.c`) links against it, calls its own copy, and still has vksplat compile
//! a plugin's GLSL with vksplat's copy. Against Cargo's archive the same host does not link.
//! `tools/package-lib.sh` also links the shared library from that archive: SONAME
//! `libvksplat.so.<ABI version>`, the same exports as Cargo's, and the same host runs on it.

#[path = "plugin_support.rs"]
mod plugin_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use plugin_support::{build_workspace, cc_shared, dylib, profile_dir, root};
use vksplat_tests::Gpu;

fn tmp(name: &str) -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("link-hygiene-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// The libraries `tools/package-lib.sh` makes from the profile's build (once per process);
/// its static library is `tools/static-archive.sh`'s.
fn packaged() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        build_workspace();
        let out = tmp("dist");
        let status = Command::new(root().join("tools/package-lib.sh"))
            .arg(profile_dir())
            .arg(&out)
            .status()
            .expect("run tools/package-lib.sh");
        assert!(status.success(), "tools/package-lib.sh failed");
        out
    })
}

fn hygienic_archive() -> PathBuf {
    packaged().join("libvksplat.a")
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
    let ours = defined_globals(&["-sW"], &archive);
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

/// Builds tests/c/own_shaderc.c against a static archive, or with `-L dir -lvksplat` when
/// `library` is a directory.
fn build_own_shaderc(library: &Path, exe: &Path) -> std::process::Output {
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let mut cmd = Command::new(cc);
    cmd.args(["-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(root().join("include"))
        .arg(root().join("tests/c/own_shaderc.c"));
    if library.is_dir() {
        cmd.arg("-L")
            .arg(library)
            .arg("-lvksplat")
            .arg(format!("-Wl,-rpath,{}", library.display()));
    } else {
        cmd.arg(library)
            .args(["-lstdc++", "-lzstd", "-lm", "-ldl", "-lpthread"]);
    }
    cmd.arg("-o").arg(exe).output().expect("run cc")
}

/// Runs a built own_shaderc host with only the C triangle plugin (its shader is GLSL,
/// compiled at run time) and checks it passed.
fn run_own_shaderc(exe: &Path) {
    static PLUGINS: OnceLock<PathBuf> = OnceLock::new();
    let plugins = PLUGINS.get_or_init(|| {
        let dir = tmp("plugins");
        std::fs::create_dir_all(&dir).unwrap();
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
        dir
    });
    let out = Command::new(exe)
        .arg(plugins)
        .env("VKSPLAT_VALIDATION", "1")
        .env_remove("VKSPLAT_PLUGIN_PATH")
        .output()
        .expect("run the host");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{} failed:\n{stderr}", exe.display());
    assert!(!stderr.contains("validation error"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("all checks passed"));
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
    let built = build_own_shaderc(&archive, &exe);
    assert!(
        built.status.success(),
        "linking tests/c/own_shaderc.c against the script's archive failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    run_own_shaderc(&exe);
}

/// The `NAME` of each `(NAME)` line of `readelf -d` whose tag is `tag`.
fn dynamic_entries(file: &Path, tag: &str) -> Vec<String> {
    let out = Command::new("readelf")
        .arg("-dW")
        .arg(file)
        .output()
        .expect("run readelf");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&format!("({tag})")))
        .filter_map(|l| Some(l.split_once('[')?.1.split_once(']')?.0.to_string()))
        .collect()
}

#[test]
fn shared_library_has_a_soname_and_exports_only_the_c_api() {
    let dist = packaged();
    let soname = format!("libvksplat.so.{}", vksplat_abi::VKSPLAT_ABI_VERSION);
    let lib = dist.join(&soname);
    assert_eq!(dynamic_entries(&lib, "SONAME"), vec![soname.clone()]);
    assert_eq!(
        std::fs::read_link(dist.join("libvksplat.so")).unwrap(),
        Path::new(&soname)
    );
    let ours = defined_globals(&["--dyn-syms", "-W"], &lib);
    let cargo: BTreeSet<String> =
        defined_globals(&["--dyn-syms", "-W"], &profile_dir().join(dylib("vksplat")))
            .into_iter()
            .filter(|s| s.starts_with("vksplat_"))
            .collect();
    assert_eq!(ours, cargo);
}

#[test]
fn host_with_its_own_shaderc_runs_on_the_shared_library() {
    let Some(_gpu) = Gpu::new() else { return };
    let dist = packaged();
    let exe = tmp("own_shaderc_dynamic");
    let built = build_own_shaderc(dist, &exe);
    assert!(
        built.status.success(),
        "linking tests/c/own_shaderc.c with -lvksplat failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    // The host records the SONAME, so it loads the library of its ABI version.
    let soname = format!("libvksplat.so.{}", vksplat_abi::VKSPLAT_ABI_VERSION);
    assert!(dynamic_entries(&exe, "NEEDED").contains(&soname));
    run_own_shaderc(&exe);
}
