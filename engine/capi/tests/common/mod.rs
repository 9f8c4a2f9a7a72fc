//! Helpers shared by the C API test files (each declares `mod common;`).

#![allow(dead_code)]

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use vksplat::{vksplat_last_error, vksplat_scene_create};
use vksplat_abi::*;

/// The calling thread's last error message.
pub fn last_error() -> String {
    // SAFETY: always a valid string.
    unsafe { CStr::from_ptr(vksplat_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// An all-zero value of one of the ABI's C structs.
pub fn zeroed<T>() -> T {
    // SAFETY: only used for the ABI's C structs, valid as zero bytes.
    unsafe { std::mem::zeroed() }
}

/// A few splats as arrays: means, rotations (w, x, y, z), log scales, opacity logits, SH
/// (degree 0).
pub type Row = (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>);

/// A scene of `r`'s splats through `vksplat_scene_create`.
pub fn scene_from_row(ctx: *mut VksplatContext, r: &Row) -> *mut VksplatScene {
    let mut d: VksplatSceneDesc = zeroed();
    d.s_type = VKSPLAT_STRUCT_SCENE_DESC;
    d.s_size = std::mem::size_of::<VksplatSceneDesc>() as u32;
    d.count = r.3.len() as u64;
    d.sh_degree = 0;
    d.means = r.0.as_ptr();
    d.rotations = r.1.as_ptr();
    d.log_scales = r.2.as_ptr();
    d.opacity_logits = r.3.as_ptr();
    d.sh = r.4.as_ptr();
    let mut scene = std::ptr::null_mut();
    // SAFETY: the arrays hold `count` splats (copied).
    let res = unsafe { vksplat_scene_create(ctx, &d, &mut scene) };
    assert_eq!(res, VKSPLAT_OK, "{}", last_error());
    scene
}

/// A fresh directory for test files.
pub fn work_dir(tag: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("capi-api-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The repository's C example plugin, built into its own plugin directory.
pub fn triangle_plugin_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = work_dir("plugins");
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let out = Command::new(cc)
        .args([
            "-std=c11", "-O1", "-shared", "-fPIC", "-Wall", "-Werror", "-I",
        ])
        .arg(root.join("include"))
        .arg(root.join("plugins/c-triangle/triangle.c"))
        .args(["-lm", "-o"])
        .arg(dir.join("libvksplat_triangle.so"))
        .output()
        .expect("run cc");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::copy(
        root.join("plugins/c-triangle/triangle.vksplat.json"),
        dir.join("triangle.vksplat.json"),
    )
    .unwrap();
    dir
}
