//! Helpers shared by the C API test files (each declares `mod common;`).

#![allow(dead_code)]

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use vksplat::{vksplat_context_create, vksplat_last_error, vksplat_scene_create};
use vksplat_abi::*;
use vksplat_io::Splats;

/// The identity transform (row-major 4x4), as world_to_camera or an instance's transform.
pub const IDENTITY: [f32; 16] = [
    1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1.,
];

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

/// A scene descriptor of `r`'s splats (borrowing its arrays).
pub fn scene_desc(r: &Row) -> VksplatSceneDesc {
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
    d
}

/// A scene through `vksplat_scene_create` of `d`, which must succeed.
///
/// # Safety
/// `d`'s arrays hold `count` splats and, with `VKSPLAT_SCENE_BORROW`, outlive the scene.
pub unsafe fn create_scene(ctx: *mut VksplatContext, d: &VksplatSceneDesc) -> *mut VksplatScene {
    let mut scene = std::ptr::null_mut();
    // SAFETY: the caller's promise.
    let r = unsafe { vksplat_scene_create(ctx, d, &mut scene) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    scene
}

/// A scene of `r`'s splats through `vksplat_scene_create` (copied).
pub fn scene_from_row(ctx: *mut VksplatContext, r: &Row) -> *mut VksplatScene {
    // SAFETY: the arrays hold `count` splats and are copied.
    unsafe { create_scene(ctx, &scene_desc(r)) }
}

/// A context on the default device through `vksplat_context_create` (NULL descriptor).
pub fn context() -> *mut VksplatContext {
    let mut ctx = std::ptr::null_mut();
    // SAFETY: NULL descriptor, valid out-pointer.
    let r = unsafe { vksplat_context_create(std::ptr::null(), &mut ctx) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    ctx
}

/// A scene descriptor of `s`'s splats (borrowing its arrays).
pub fn splats_desc(s: &Splats) -> VksplatSceneDesc {
    let mut d: VksplatSceneDesc = zeroed();
    d.s_type = VKSPLAT_STRUCT_SCENE_DESC;
    d.s_size = std::mem::size_of::<VksplatSceneDesc>() as u32;
    d.count = s.len() as u64;
    d.sh_degree = s.sh_degree;
    d.means = s.means.as_ptr() as *const f32;
    d.rotations = s.rotations.as_ptr() as *const f32;
    d.log_scales = s.log_scales.as_ptr() as *const f32;
    d.opacity_logits = s.opacity_logits.as_ptr();
    d.sh = s.sh.as_ptr();
    d
}

/// A scene of `s`'s splats through `vksplat_scene_create` (copied).
pub fn scene_from_splats(ctx: *mut VksplatContext, s: &Splats) -> *mut VksplatScene {
    // SAFETY: the arrays hold `count` splats and are copied.
    unsafe { create_scene(ctx, &splats_desc(s)) }
}

/// A `w`x`h` pinhole camera with focal length `f` (both axes) and principal point (`cx`,
/// `cy`), at the identity pose.
pub fn camera(w: u32, h: u32, f: f32, cx: f32, cy: f32) -> VksplatCamera {
    let mut c: VksplatCamera = zeroed();
    c.s_type = VKSPLAT_STRUCT_CAMERA;
    c.s_size = std::mem::size_of::<VksplatCamera>() as u32;
    (c.width, c.height) = (w, h);
    (c.fx, c.fy, c.cx, c.cy) = (f, f, cx, cy);
    c.world_to_camera = IDENTITY;
    c
}

/// A render descriptor of `cam` over `background`, every option off.
pub fn render_desc(cam: &VksplatCamera, background: [f32; 3]) -> VksplatRenderDesc {
    let mut d: VksplatRenderDesc = zeroed();
    d.s_type = VKSPLAT_STRUCT_RENDER_DESC;
    d.s_size = std::mem::size_of::<VksplatRenderDesc>() as u32;
    d.background = background;
    d.camera = cam;
    d
}

/// A `w`x`h` RGBA32F image writing into `rgba` and, when given, depth into `depth`.
pub fn image(w: u32, h: u32, rgba: &mut [f32], depth: Option<&mut [f32]>) -> VksplatImage {
    let mut i: VksplatImage = zeroed();
    i.s_type = VKSPLAT_STRUCT_IMAGE;
    i.s_size = std::mem::size_of::<VksplatImage>() as u32;
    (i.width, i.height, i.format) = (w, h, VKSPLAT_FORMAT_RGBA32F);
    i.pixels = rgba.as_mut_ptr().cast();
    i.pixels_size = std::mem::size_of_val(rgba) as u64;
    if let Some(depth) = depth {
        i.depth = depth.as_mut_ptr();
        i.depth_size = std::mem::size_of_val(depth) as u64;
    }
    i
}

/// One instance of `scene` under `transform` at `opacity`.
pub fn instance(
    scene: *mut VksplatScene,
    transform: [f32; 16],
    opacity: f32,
) -> VksplatSceneInstance {
    let mut i: VksplatSceneInstance = zeroed();
    i.s_type = VKSPLAT_STRUCT_SCENE_INSTANCE;
    i.s_size = std::mem::size_of::<VksplatSceneInstance>() as u32;
    i.scene = scene;
    i.transform = transform;
    i.opacity = opacity;
    i
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
