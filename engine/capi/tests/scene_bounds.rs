//! `VksplatSceneInfo`'s box of the splat centres: scenes from arrays (copied and borrowed, after
//! a refresh) and from files, and a caller whose struct ends before the box.

use std::ffi::CString;

use vksplat::{
    vksplat_context_destroy, vksplat_scene_destroy, vksplat_scene_info, vksplat_scene_load,
    vksplat_scene_refresh,
};
use vksplat_abi::*;

mod common;
use common::{context, create_scene, last_error, splats_desc, zeroed};
use vksplat_io::Splats;
use vksplat_tests::{random_scene, Rng};

/// The box the test expects, computed independently of the library.
fn expected(s: &Splats) -> ([f32; 3], [f32; 3]) {
    let mut lo = [f32::INFINITY; 3];
    let mut hi = [f32::NEG_INFINITY; 3];
    for m in &s.means {
        for k in 0..3 {
            lo[k] = lo[k].min(m[k]);
            hi[k] = hi[k].max(m[k]);
        }
    }
    (lo, hi)
}

fn info(scene: *mut VksplatScene, s_size: u32) -> VksplatSceneInfo {
    let mut i: VksplatSceneInfo = zeroed();
    i.s_type = VKSPLAT_STRUCT_SCENE_INFO;
    i.s_size = s_size;
    // SAFETY: a live scene and an out-struct of at least `s_size` bytes.
    let r = unsafe { vksplat_scene_info(scene, &mut i) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    i
}

fn full(scene: *mut VksplatScene) -> VksplatSceneInfo {
    info(scene, std::mem::size_of::<VksplatSceneInfo>() as u32)
}

#[test]
fn scene_info_reports_the_box_of_the_centres() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let ctx = context();
    let mut s = random_scene(&mut Rng::new(5), 700, 1);
    for m in &mut s.means {
        m[0] = m[0] * 3.0 - 1.0;
    }
    let mut d = splats_desc(&s);
    d.flags = VKSPLAT_SCENE_BORROW;
    // SAFETY: the arrays hold `count` splats and outlive the scene (destroyed below).
    let scene = unsafe { create_scene(ctx, &d) };
    let i = full(scene);
    let (lo, hi) = expected(&s);
    assert_eq!(i.has_bounds, 1);
    assert_eq!((i.bounds_min, i.bounds_max), (lo, hi));
    assert!(hi[0] - lo[0] > 1.0, "a real box: {lo:?} {hi:?}");
    // A caller built before the box grew gets none of it (and nothing past its struct).
    let old = info(scene, 72);
    assert_eq!((old.has_bounds, old.bounds_max), (0, [0.0; 3]));
    // The borrowed arrays move; the refresh moves the box.
    let means = s.means.as_ptr() as *mut [f32; 3];
    // SAFETY: the caller owns the arrays; no vksplat call runs during the edit.
    unsafe { (*means)[1] = hi[1] + 10.0 };
    // SAFETY: a live borrowed scene.
    assert_eq!(unsafe { vksplat_scene_refresh(scene) }, VKSPLAT_OK);
    assert_eq!(full(scene).bounds_max[1], hi[1] + 10.0);
    // SAFETY: created above; no other call uses it.
    unsafe { vksplat_scene_destroy(scene) };

    // From a file: the same box as the splats written.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scene-bounds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ply = dir.join("s.ply");
    vksplat_io::write_ply(&ply, &s).unwrap();
    let path = CString::new(ply.to_str().unwrap()).unwrap();
    let mut loaded = std::ptr::null_mut();
    // SAFETY: a NUL-terminated path and a valid out-pointer.
    let r = unsafe { vksplat_scene_load(ctx, path.as_ptr(), &mut loaded) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    let i = full(loaded);
    let (lo, hi) = expected(&s);
    assert_eq!((i.has_bounds, i.bounds_min, i.bounds_max), (1, lo, hi));
    // SAFETY: created above.
    unsafe {
        vksplat_scene_destroy(loaded);
        vksplat_context_destroy(ctx);
    }
}
